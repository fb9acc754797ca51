#!/bin/sh
# The VM's default check, run by run.sh as the test user inside the guest:
# does the guest give an unprivileged user what sandbox's cgroup v2 code
# needs? Exits 0 only if every check passes.
set -eu

cg=${SANDBOX_TEST_CGROUP:?not set: run me through hack/vm/run.sh}
fail() { echo "smoke: FAIL: $*"; exit 1; }
ok() { echo "smoke: ok: $*"; }

[ "$(stat -f -c %T /sys/fs/cgroup)" = cgroup2fs ] || fail "/sys/fs/cgroup is not cgroup2"
have=$(cat "$cg/cgroup.controllers")
for c in cpuset cpu io memory pids; do
	case " $have " in *" $c "*) ;; *) fail "controller $c not delegated to $cg (have: $have)" ;; esac
done
ok "delegated to $(id -un): $have"

case $(cat /proc/self/cgroup) in "0::${cg#/sys/fs/cgroup}/"*) ;; *) fail "not running inside $cg" ;; esac

# What sandbox does for a container: enable the controllers below the
# delegated cgroup, make a child, set limits, move a process into it.
echo "+cpuset +cpu +io +memory +pids" >"$cg/cgroup.subtree_control" ||
	fail "enable controllers in $cg/cgroup.subtree_control"
child=$cg/smoke-$$
mkdir "$child" || fail "mkdir $child"
echo 64M >"$child/memory.max" || fail "write memory.max"
echo 32 >"$child/pids.max" || fail "write pids.max"
[ "$(cat "$child/memory.max") $(cat "$child/pids.max")" = "67108864 32" ] ||
	fail "limits read back wrong"
in=$(sh -c 'echo $$ >"$1/cgroup.procs" && cat /proc/self/cgroup' sh "$child") ||
	fail "move a process into $child"
[ "$in" = "0::${child#/sys/fs/cgroup}" ] || fail "process landed in $in"
rmdir "$child"
ok "child cgroup with memory.max and pids.max, process moved in and out"

unshare -Urm true || fail "unshare -Urm true"
ok "unshare -Urm: user and mount namespaces"
echo "smoke: PASS"
