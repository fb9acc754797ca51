#!/bin/sh
# Stage 2 of the cgroup v2 test VM: PID 1 in the writable copy of the host's
# root (see init). Sets the machine up the way a systemd host with a logged-in
# user looks to sandbox, runs the job the host left on the "vmio" 9p share as
# TEST_USER, writes its exit status back there and ends the VM.
#
# The delegated subtree is what user@UID.service with Delegate=yes gives:
#   /sys/fs/cgroup/user.slice/user-UID.slice/user@UID.service   owned by UID
#     test.scope                                                the job's leaf
# Controllers are enabled down to user@UID.service (it sees them in
# cgroup.controllers); enabling them in its own cgroup.subtree_control is left
# to the user, as on a real host.

say() { echo "vm-guest: $*"; }
# The host finds no status file and reports that the guest failed.
die() { say "$*"; halt; }
halt() {
	sync
	# Reboot at once; -no-reboot makes that qemu's exit.
	echo b >/proc/sysrq-trigger
	exit 1 # PID 1 exiting panics; panic=-1 ends qemu then too
}

mount -t proc -o nosuid,nodev,noexec proc /proc
mount -t sysfs -o nosuid,nodev,noexec sysfs /sys
mount -t devtmpfs -o nosuid devtmpfs /dev
mkdir -p /dev/pts /dev/shm
# What udev would add: bash's <(...) and tests use /dev/fd and /dev/std*.
ln -s /proc/self/fd /dev/fd
ln -s fd/0 /dev/stdin
ln -s fd/1 /dev/stdout
ln -s fd/2 /dev/stderr
mount -t devpts -o nosuid,noexec,gid=5,mode=0620,ptmxmode=0666 devpts /dev/pts
mount -t tmpfs -o nosuid,nodev,mode=1777 shm /dev/shm
mount -t tmpfs -o nosuid,nodev,mode=1777 tmp /tmp
# Pure cgroup v2, mounted with the options systemd uses.
mount -t cgroup2 -o nosuid,nodev,noexec,nsdelegate,memory_recursiveprot cgroup2 /sys/fs/cgroup ||
	die "mount cgroup2"
io=/run/vm/io
mkdir -p "$io"
mount -t 9p -o trans=virtio,version=9p2000.L,msize=512000 vmio "$io" || die "mount the vmio share"
# shellcheck source=/dev/null
. "$io/conf" || die "no $io/conf" # TEST_USER
# Under a loaded TCG host the kernel may give up reading the RTC and start in
# 1970, which breaks make, go's cache and TLS. The host wrote conf just
# before boot: the clock is at least that.
booted=$(stat -c %Y "$io/conf")
[ "$(date +%s)" -ge "$booted" ] || date -s "@$booted" >/dev/null

# Plain \n on the console: the host's terminal or CI log adds any \r itself.
stty -onlcr </dev/console
hostname sandbox-vm
ip link set lo up
# Opened to users as hack/setup.sh does on the host (slirp4netns, fuse-overlayfs).
chmod 0666 /dev/net/tun /dev/fuse

uid=$(id -u "$TEST_USER") || die "no user $TEST_USER"
gid=$(id -g "$TEST_USER")
home=$(getent passwd "$TEST_USER" | cut -d: -f6)

# delegate DIR: hand DIR to the user the way systemd does for Delegate=yes:
# the directory, and the files in it that the kernel lists as safe to hand
# over (cgroup.procs, cgroup.subtree_control, cgroup.threads, ...).
delegate() {
	chown "$uid:$gid" "$1" || return
	while read -r f; do
		[ ! -e "$1/$f" ] || chown "$uid:$gid" "$1/$f" || return
	done </sys/kernel/cgroup/delegate
}

cg=/sys/fs/cgroup
svc=$cg/user.slice/user-$uid.slice/user@$uid.service
mkdir -p "$svc/test.scope" || die "mkdir $svc"
want="+cpuset +cpu +io +memory +pids"
# The root's own processes are exempt from the no-internal-processes rule.
sed 's/[^ ]\+/+&/g' "$cg/cgroup.controllers" >"$cg/cgroup.subtree_control" ||
	die "enable controllers at the root"
echo "$want" >"$cg/user.slice/cgroup.subtree_control" || die "enable controllers in user.slice"
echo "$want" >"$cg/user.slice/user-$uid.slice/cgroup.subtree_control" || die "enable controllers in user-$uid.slice"
for d in "$svc" "$svc/test.scope"; do
	delegate "$d" || die "chown $d to $TEST_USER"
done

install -d -m 0700 -o "$uid" -g "$gid" "/run/user/$uid"
# What sd_booted(3) looks for: systemd --user, which guest-tests.sh starts
# for the tests of --cgroup-manager=systemd, refuses to run without it.
# Nothing else here is systemd's: this script stays PID 1.
mkdir -p /run/systemd/system
# Storage ($XDG_DATA_HOME, default ~/.local/share) on a tmpfs of its own: the
# kernel refuses overlayfs as the upper layer of the user's overlay mounts,
# and so does containers/storage. It also starts every run empty.
[ -d "$home/.local/share" ] || install -d -o "$uid" -g "$gid" "$home/.local" "$home/.local/share"
mount -t tmpfs -o "nosuid,nodev,mode=0700,uid=$uid,gid=$gid" data "$home/.local/share" ||
	die "mount a tmpfs on $home/.local/share"

# The job writes to the serial console through a node it may open again
# (/dev/stderr, /proc/self/fd/1), owned by it as login would do.
chown "$uid" /dev/ttyS0

say "running the job as $TEST_USER in $svc/test.scope"
# The inner shell moves itself into the leaf while still root, then drops to
# the user with a clean environment; the job (written by run.sh) cds and execs.
sh -c 'echo $$ >"$1/cgroup.procs" && shift && exec "$@"' sh "$svc/test.scope" \
	setpriv --reuid="$uid" --regid="$gid" --init-groups \
	env -i HOME="$home" USER="$TEST_USER" LOGNAME="$TEST_USER" SHELL=/bin/sh \
	PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin:/usr/local/go/bin \
	XDG_RUNTIME_DIR="/run/user/$uid" SANDBOX_TEST_CGROUP="$svc" \
	bash "$io/job" </dev/null >/dev/ttyS0 2>&1
status=$?
say "job exited with status $status"
echo "$status" >"$io/status"
halt
