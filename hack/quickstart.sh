#!/bin/sh
# The README's first command: set up the host, build and install sandbox,
# create the default image `busybox` offline from the host's busybox-static,
# and run a container from it.
#
# sandbox is for unprivileged users. Run as root (as on a fresh machine or
# in CI), this script sets up the host and then runs the demo as the
# unprivileged user: $SUDO_USER when it came through sudo, else the test
# user (TEST_USER, default sbx) that the set-up creates. Run as a user, it
# checks the host, builds, installs with sudo, and runs the demo as you.
set -eu
cd "$(dirname "$0")/.."
TEST_USER=${TEST_USER:-sbx}
PREFIX=${PREFIX:-/usr/local}

if [ "$(id -u)" -eq 0 ]; then
	hack/setup.sh
	make -s build
	make -s install PREFIX="$PREFIX"
	user=${SUDO_USER:-$TEST_USER}
	[ "$user" != root ] || user=$TEST_USER
	uid=$(id -u "$user")
	# A clean environment, as a login of that user would have.
	as_user() {
		runuser -u "$user" -- env -i HOME="$(getent passwd "$user" | cut -d: -f6)" USER="$user" \
			XDG_RUNTIME_DIR="/run/user/$uid" PATH="$PREFIX/bin:/usr/local/bin:/usr/bin:/bin" "$@"
	}
else
	hack/setup.sh
	make -s build
	sudo make -s install PREFIX="$PREFIX"
	as_user() { "$@"; }
fi

tar=$(mktemp /tmp/sandbox-busybox.XXXXXX)
trap 'rm -f "$tar"' EXIT
hack/mkimage-busybox.sh "$tar"
chmod 0644 "$tar"
as_user sandbox import --change 'CMD ["sh"]' --message "busybox from the host's busybox-static" "$tar" busybox >/dev/null
as_user sandbox images busybox 2>/dev/null || as_user sandbox images
as_user sandbox run --rm busybox echo "hello from a rootless container"
