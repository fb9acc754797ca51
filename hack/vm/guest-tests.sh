#!/bin/sh
# Run inside the cgroup v2 VM as the test user by hack/vm/test.sh: the
# smoke check of the delegated subtree, then the integration tests named by
# TEST_RUN, strict (a missing requirement fails), from the test binary
# beside SANDBOX_BIN (both built on the host). Exits non-zero when either
# fails.
set -u
repo=$(cd "$(dirname "$0")/../.." && pwd)
bin=${SANDBOX_BIN:?not set: run me through hack/vm/test.sh}
"$repo/hack/vm/smoke.sh" || exit 1
cd "$repo/test/integration" || exit 125
SANDBOX_TEST_STRICT=1 SANDBOX_REPO=$repo exec "$(dirname "$bin")/integration.test" \
	-test.v -test.timeout=10m -test.run "${TEST_RUN:-^TestCgroup}"
