#!/bin/sh
# Stage what the rootless tests need into DIR, a directory every user can
# read, so that the tests run from any checkout: one in /root (mode 0700,
# which the test user cannot enter) or under /tmp (which the test VM hides
# behind a fresh tmpfs). Usage: hack/stage-tests.sh DIR
#
# DIR gets the layout of a checkout, reduced to what the test binaries
# read (SANDBOX_REPO points there):
#   bin/        sandbox and its helpers (copied from bin/: make build first),
#               the test binaries integration.test, conformance.test and
#               testcontainers.test (the Docker API's client test), the
#               static testhelper that tests bind into containers, and in
#               bin/faultinject/ the fault-injection build of sandbox and
#               its helpers
#   hack/       mkimage-busybox.sh, and vm/guest-tests.sh and vm/smoke.sh for
#               the VM tier
#   test/integration/, network/conformance/
#               each test binary's working directory, with its testdata
# Everything is 0755/0644. The caller makes DIR (hack/test-integration.sh
# and hack/vm/test.sh use a fresh /var/tmp/sandbox-test.XXXXXX, or under
# SANDBOX_TEST_STAGE) and removes it when the tests are done.
set -eu
cd "$(dirname "$0")/.."
dir=${1:?usage: $0 DIR}
GO=${GO:-$(command -v go || echo /usr/local/go/bin/go)}
TAGS="exclude_graphdriver_btrfs exclude_graphdriver_devicemapper exclude_graphdriver_zfs containers_image_openpgp"
BINARIES="sandbox sandbox-monitor sandbox-cleanup sandbox-image sandbox-kube sandbox-build sandbox-service sandbox-nsenter sandbox-exec"
for b in $BINARIES; do
	[ -x "bin/$b" ] || { echo "stage-tests: no bin/$b: make build first" >&2; exit 125; }
done
mkdir -p "$dir/bin" "$dir/hack/vm" "$dir/test/integration" "$dir/network/conformance"
"$GO" test -c -tags "$TAGS" -o "$dir/bin/integration.test" ./test/integration
"$GO" test -c -tags "$TAGS" -o "$dir/bin/conformance.test" ./network/conformance
# testcontainers-go's test of the Docker API service: a module of its own
# (test/testcontainers), run by TestAPITestcontainers.
(cd test/testcontainers && "$GO" test -c -o "$dir/bin/testcontainers.test" .)
# The fault-injection build (tag faultinject, package internal/faultinject):
# the binaries that do the work of a named step (sandbox; sandbox-image for
# pull and import; sandbox-build for build) kill themselves at the step
# SANDBOX_FAULT names, for the tests of a kill at every step. The release
# binaries above have no such code.
mkdir -p "$dir/bin/faultinject"
for b in sandbox sandbox-image sandbox-build; do
	CGO_ENABLED=1 "$GO" build -trimpath -tags "$TAGS faultinject" -o "$dir/bin/faultinject/$b" "./cmd/$b"
done
cp bin/sandbox-monitor bin/sandbox-cleanup bin/sandbox-nsenter bin/sandbox-kube bin/sandbox-service "$dir/bin/faultinject/"
# A static helper that tests bind into busybox containers.
CGO_ENABLED=0 "$GO" build -o "$dir/bin/testhelper" ./test/helper
for b in $BINARIES; do cp "bin/$b" "$dir/bin/"; done
cp hack/mkimage-busybox.sh "$dir/hack/"
cp hack/vm/guest-tests.sh hack/vm/smoke.sh "$dir/hack/vm/"
for t in test/integration network/conformance; do
	[ ! -d "$t/testdata" ] || cp -R "$t/testdata" "$dir/$t/"
done
chmod -R u=rwX,go=rX "$dir"
