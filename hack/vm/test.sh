#!/bin/sh
# The VM tier of the tests (make test-vm), as root on the host:
#   1. stages the test binaries, bin/sandbox and its helpers and the guest's
#      scripts (hack/stage-tests.sh) into /var/tmp/sandbox-test.XXXXXX
#      (SANDBOX_TEST_STAGE names another parent), removed at the end: the
#      guest sees this host's root, but not its /tmp (hidden by the guest's
#      own) nor what the test user may not read (a checkout in /root), and
#      a rebuild of bin/ while the VM runs does not change what is tested;
#   2. boots the cgroup v2 VM (run.sh) and runs guest-tests.sh in it as the
#      test user: the smoke check, then the cgroup tests (TEST_RUN, default
#      ^TestCgroup), which fail rather than skip when the VM lacks cgroup v2,
#      and TestStagedFileSystems (the init's staged mounts on Debian 12's
#      kernel), twice: with the cgroupfs path, then with a user systemd and
#      --cgroup-manager=systemd.
# Exits with the guest's status: 0 only if every check and test passed.
set -eu
cd "$(dirname "$0")/../.."
[ "$(id -u)" -eq 0 ] || { echo "vm-test: run as root (qemu, and the VM's build)" >&2; exit 125; }
repo=$PWD
stage=$(mktemp -d "${SANDBOX_TEST_STAGE:-/var/tmp}/sandbox-test.XXXXXX")
trap 'rm -rf "$stage"' EXIT
trap 'exit 130' INT TERM
chmod 0755 "$stage"
hack/stage-tests.sh "$stage"
TEST_RUN=${TEST_RUN:-^TestCgroup|^TestStagedFileSystems\$}
# Two passes under TCG: on a loaded host more than run.sh's 600 s default.
VM_TIMEOUT=${VM_TIMEOUT:-1200}
export VM_TIMEOUT
SANDBOX_BIN=$stage/bin/sandbox
export TEST_RUN SANDBOX_BIN
status=0
# The job runs in the stage, the guest's scripts from there too.
cd "$stage"
VM_ENV="${VM_ENV:-} TEST_RUN SANDBOX_BIN" "$repo/hack/vm/run.sh" "$stage/hack/vm/guest-tests.sh" || status=$?
exit "$status"
