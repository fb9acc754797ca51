#!/bin/sh
# The VM tier of the tests (make test-vm), as root on the host:
#   1. builds the integration test binary here, as hack/test-integration.sh
#      does, and copies it with bin/sandbox and its helpers to a directory
#      of their own under bin/, so that a rebuild of bin/ while the VM runs
#      does not change the binaries under test (the guest sees this host's
#      root, but not its /tmp, hidden by the guest's own);
#   2. boots the cgroup v2 VM (run.sh) and runs guest-tests.sh in it as the
#      test user: the smoke check, then the cgroup tests (TEST_RUN, default
#      ^TestCgroup), which fail rather than skip when the VM lacks cgroup v2,
#      twice: with the cgroupfs path, then with a user systemd and
#      --cgroup-manager=systemd.
# Exits with the guest's status: 0 only if every check and test passed.
set -eu
cd "$(dirname "$0")/../.."
GO=${GO:-$(command -v go || echo /usr/local/go/bin/go)}
TAGS="exclude_graphdriver_btrfs exclude_graphdriver_devicemapper containers_image_openpgp"
[ "$(id -u)" -eq 0 ] || { echo "vm-test: run as root (qemu, and the VM's build)" >&2; exit 125; }
BINARIES="sandbox sandbox-monitor sandbox-image sandbox-nsenter"
for b in $BINARIES; do
	[ -x "bin/$b" ] || { echo "vm-test: no bin/$b: make build first" >&2; exit 125; }
done
snap=$(mktemp -d "$PWD/bin/vm-test.XXXXXX")
trap 'rm -rf "$snap"' EXIT INT TERM
"$GO" test -c -tags "$TAGS" -o "$snap/integration.test" ./test/integration
for b in $BINARIES; do cp "bin/$b" "$snap/"; done
chmod 0755 "$snap" "$snap"/*
TEST_RUN=${TEST_RUN:-^TestCgroup}
SANDBOX_BIN=$snap/sandbox
export TEST_RUN SANDBOX_BIN
status=0
VM_ENV="${VM_ENV:-} TEST_RUN SANDBOX_BIN" hack/vm/run.sh "$PWD/hack/vm/guest-tests.sh" || status=$?
exit "$status"
