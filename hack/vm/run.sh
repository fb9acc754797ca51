#!/bin/bash
# Runs a command in the cgroup v2 test VM and exits with its status.
#
#   sudo hack/vm/run.sh [COMMAND...]    (no COMMAND: hack/vm/smoke.sh)
#
# The guest is a qemu VM (TCG: -enable-kvm hangs on these nested hosts)
# booting Debian's kernel with a pure cgroup v2 hierarchy over a writable copy
# of this host's root (see init and guest.sh), so /work/... paths and programs
# work unchanged. COMMAND runs as TEST_USER (default sbx) in the directory
# run.sh was called from, with HOME, XDG_RUNTIME_DIR, PATH and
# SANDBOX_TEST_CGROUP (its delegated cgroup) set; VM_ENV names more variables
# to pass through. The console streams to stdout.
#
# Exit status: COMMAND's; 124 when VM_TIMEOUT (default 600 s) ran out; 125
# when the VM failed before COMMAND could report.
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
TEST_USER=${TEST_USER:-sbx}
VM_TIMEOUT=${VM_TIMEOUT:-600}

say() { printf 'vm-run: %s\n' "$*" >&2; }
[ "$(id -u)" -eq 0 ] || { say "run as root"; exit 125; }
id "$TEST_USER" >/dev/null 2>&1 || TEST_USER=$TEST_USER "$here/../setup.sh"
"$here/build.sh"

[ $# -gt 0 ] || set -- "$here/smoke.sh"

# The second 9p share ("vmio"): the host writes the job, the guest writes the
# status. The guest's test user reads it, hence 0755.
io=$(mktemp -d /tmp/sandbox-vm.XXXXXX)
trap 'rm -rf "$io"' EXIT
chmod 0755 "$io"
printf 'TEST_USER=%q\n' "$TEST_USER" >"$io/conf"
{
	for v in ${VM_ENV:-}; do
		if [ -n "${!v+set}" ]; then printf 'export %s=%q\n' "$v" "${!v}"; fi
	done
	printf 'cd %q || exit 125\nexec' "$PWD"
	printf ' %q' "$@"
	echo
} >"$io/job"

status=0
# stdin is /dev/null so the terminal stays cooked: ^C stops qemu, not the guest.
# qboot, not SeaBIOS: it boots at once and prints nothing. No NIC: slirp4netns
# and pasta need none, and its option ROM costs boot time.
timeout --foreground -k 10 "$VM_TIMEOUT" qemu-system-x86_64 \
	-accel tcg -cpu max -m 2048 -smp 2 -nographic -no-reboot \
	-bios qboot.rom -net none \
	-kernel "$here/cache/kernel.img" -initrd "$here/cache/initramfs.cpio" \
	-append "console=ttyS0 quiet panic=-1 cgroup_no_v1=all" \
	-virtfs local,path=/,mount_tag=host,security_model=none,readonly=on,multidevs=remap \
	-virtfs "local,path=$io,mount_tag=vmio,security_model=none" \
	</dev/null || status=$?

if [ -f "$io/status" ]; then
	exit "$(cat "$io/status")"
elif [ "$status" -eq 124 ]; then
	say "timed out after ${VM_TIMEOUT}s (VM_TIMEOUT)"
	exit 124
fi
say "the VM ended without the command's status (qemu exited $status)"
exit 125
