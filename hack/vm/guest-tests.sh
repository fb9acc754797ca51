#!/bin/sh
# Run inside the cgroup v2 VM as the test user by hack/vm/test.sh: the
# smoke check of the delegated subtree, then the integration tests named by
# TEST_RUN, strict (a missing requirement fails), from the test binary
# beside SANDBOX_BIN (both built on the host), twice:
#   1. as the VM comes up: the cgroupfs path (a subtree of the user's own
#      cgroup), with no user systemd;
#   2. with the user's systemd started (systemd --user, and the bus its
#      dbus.socket makes) and SANDBOX_TEST_CGROUP_MANAGER=systemd: each
#      container's cgroup in a transient scope made over D-Bus.
# Exits non-zero when any of it fails.
set -u
repo=$(cd "$(dirname "$0")/../.." && pwd)
bin=${SANDBOX_BIN:?not set: run me through hack/vm/test.sh}
svc=${SANDBOX_TEST_CGROUP:?not set: run me through hack/vm/test.sh}
"$repo/hack/vm/smoke.sh" || exit 1
cd "$repo/test/integration" || exit 125

# tests [-test.skip PATTERN]: the tests of TEST_RUN (default ^TestCgroup,
# the tests of limits that hold, and TestStagedFileSystems, the init's
# staged mounts on this kernel), strict: a test that would skip fails.
tests() {
	SANDBOX_TEST_STRICT=1 SANDBOX_REPO=$repo "$(dirname "$bin")/integration.test" \
		-test.v -test.timeout=10m -test.run "${TEST_RUN:-^TestCgroup|^TestStagedFileSystems\$}" "$@"
}

# user_systemd starts the user's systemd the way user@UID.service does: in
# the delegated cgroup (its init.scope, for the delegated cgroup itself may
# hold no processes once it hands controllers down), with XDG_RUNTIME_DIR
# where its dbus.socket makes the bus. It waits for the bus.
user_systemd() {
	bus=$XDG_RUNTIME_DIR/bus
	log=$XDG_RUNTIME_DIR/systemd-user.log
	mkdir -p "$svc/init.scope" || return
	sh -c 'echo $$ >"$1/cgroup.procs" && exec /lib/systemd/systemd --user' sh "$svc/init.scope" >"$log" 2>&1 &
	start=$(date +%s)
	while [ ! -S "$bus" ]; do
		if [ $(($(date +%s) - start)) -ge 60 ]; then
			echo "vm-tests: systemd --user made no bus at $bus in 60 s:"
			cat "$log"
			return 1
		fi
		sleep 0.1
	done
	echo "vm-tests: systemd --user up, bus at $bus after $(($(date +%s) - start)) s"
}

status=0
echo "vm-tests: pass 1: --cgroup-manager=auto (cgroupfs: a subtree of $svc)"
echo "vm-tests: not run in pass 1: TestCgroupSystemdScope (pass 2)"
tests -test.skip '^TestCgroupSystemdScope$' || status=1
echo "vm-tests: pass 2: --cgroup-manager=systemd (a scope from systemd --user)"
if user_systemd; then
	SANDBOX_TEST_CGROUP_MANAGER=systemd tests || status=1
else
	status=1
fi
exit "$status"
