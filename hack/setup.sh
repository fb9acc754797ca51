#!/bin/sh
# Host set-up for sandbox and its tests, idempotent.
#
# As root: installs the Debian packages, creates the unprivileged test user
# (TEST_USER, default sbx) with subordinate id ranges and its runtime
# directory, and opens /dev/net/tun and /dev/fuse to users. Runs with no
# standard input (CI).
# As any other user: changes nothing; checks, and prints each missing piece
# with the command that fixes it. Exits 1 when something is missing.
set -eu

TEST_USER=${TEST_USER:-sbx}
# A second test user without subordinate ids, for the single-id mapping.
NOSUB_USER=${NOSUB_USER:-sbxnosub}
PACKAGES="uidmap catatonit libseccomp-dev pkg-config musl-tools slirp4netns passt iptables netavark aardvark-dns fuse-overlayfs busybox-static docker-registry podman runc bubblewrap iperf3 qemu-system-x86 cpio kmod ca-certificates systemd dbus-user-session"
missing=0

say() { printf 'setup: %s\n' "$*"; }
need() { # need WHAT FIX
	missing=1
	printf 'setup: missing: %s\n       fix: %s\n' "$1" "$2"
}

missing_packages() {
	out=""
	for p in $PACKAGES; do
		dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || out="$out $p"
	done
	echo "$out"
}

if [ "$(id -u)" -eq 0 ]; then
	pkgs=$(missing_packages)
	if [ -n "$pkgs" ]; then
		say "installing:$pkgs"
		export DEBIAN_FRONTEND=noninteractive
		apt-get update -qq
		# shellcheck disable=SC2086
		apt-get install -y -qq --no-install-recommends $pkgs </dev/null >/dev/null
	fi
	# The real clients of the Docker API tests: Debian's docker client and
	# docker-compose. docker.io also ships dockerd, which must never start
	# here: a policy-rc.d that refuses every service start is in place while
	# they install (and stays only if it was there before).
	if ! dpkg-query -W -f='${Status}' docker.io 2>/dev/null | grep -q 'install ok installed' ||
		! dpkg-query -W -f='${Status}' docker-compose 2>/dev/null | grep -q 'install ok installed'; then
		say "installing: docker.io docker-compose (clients only; dockerd kept from starting)"
		policy=/usr/sbin/policy-rc.d
		made_policy=
		if [ ! -e "$policy" ]; then
			printf '#!/bin/sh\nexit 101\n' >"$policy"
			chmod 0755 "$policy"
			made_policy=1
		fi
		export DEBIAN_FRONTEND=noninteractive
		apt-get update -qq
		apt-get install -y -qq --no-install-recommends docker.io docker-compose </dev/null >/dev/null
		[ -z "$made_policy" ] || rm -f "$policy"
	fi
	# Whatever started dockerd before, it has no business here.
	if command -v systemctl >/dev/null && [ -d /run/systemd/system ]; then
		systemctl disable --now docker.socket docker.service containerd.service >/dev/null 2>&1 || true
	fi
	# Packages may start services; sandbox's tests start their own registry.
	if [ -f /etc/debian_version ] && command -v docker-registry >/dev/null; then
		# Only the service's (it runs as the package's user): the tests'
		# own registries, of other test runs too, are left alone.
		pkill -x -u docker-registry docker-registry 2>/dev/null || true
	fi

	if ! id "$TEST_USER" >/dev/null 2>&1; then
		say "creating user $TEST_USER"
		useradd --create-home --shell /bin/bash "$TEST_USER"
	fi
	uid=$(id -u "$TEST_USER")
	gid=$(id -g "$TEST_USER")
	home=$(getent passwd "$TEST_USER" | cut -d: -f6)
	for f in /etc/subuid /etc/subgid; do
		touch "$f"
		if ! grep -q "^$TEST_USER:" "$f"; then
			# The next free block of 65536 ids at or above 100000.
			start=$(awk -F: 'BEGIN{m=100000} {e=$2+$3; if (e>m) m=e} END{print m}' "$f")
			say "granting $TEST_USER ids $start-$((start + 65535)) in $f"
			echo "$TEST_USER:$start:65536" >>"$f"
		fi
	done
	if ! id "$NOSUB_USER" >/dev/null 2>&1; then
		say "creating user $NOSUB_USER (no subordinate ids)"
		useradd --create-home --shell /bin/bash "$NOSUB_USER"
	fi
	# useradd may have granted ranges; this user must have none.
	sed -i "/^$NOSUB_USER:/d" /etc/subuid /etc/subgid
	# Each user's runtime directory is a tmpfs of its own, as
	# systemd-logind makes it for a login session: runtime state must not
	# outlive a reboot, and on disk it would be slower.
	for u in "$TEST_USER" "$NOSUB_USER"; do
		u_id=$(id -u "$u")
		u_gid=$(id -g "$u")
		install -d -m 0700 -o "$u_id" -g "$u_gid" "/run/user/$u_id"
		if ! mountpoint -q "/run/user/$u_id"; then
			mount -t tmpfs -o "mode=0700,uid=$u_id,gid=$u_gid,size=25%,nosuid,nodev" tmpfs "/run/user/$u_id"
		fi
		chown "$u_id:$u_gid" "/run/user/$u_id"
		chmod 0700 "/run/user/$u_id"
	done

	[ -e /dev/net/tun ] || { mkdir -p /dev/net && mknod -m 0666 /dev/net/tun c 10 200; }
	[ -e /dev/fuse ] || mknod -m 0666 /dev/fuse c 10 229
	chmod 0666 /dev/net/tun /dev/fuse

	if [ -r /proc/sys/kernel/unprivileged_userns_clone ] && [ "$(cat /proc/sys/kernel/unprivileged_userns_clone)" = 0 ]; then
		say "allowing unprivileged user namespaces"
		sysctl -q -w kernel.unprivileged_userns_clone=1
	fi
	if [ "$(cat /proc/sys/user/max_user_namespaces)" = 0 ]; then
		sysctl -q -w user.max_user_namespaces=28633
	fi
	# runc gives every container a session keyring, which counts against
	# the user's kernel.keys.maxkeys (200 by default): make bench's "ps
	# with 200 containers" starts 200 podman containers at once.
	if [ "$(cat /proc/sys/kernel/keys/maxkeys)" -lt 1000 ]; then
		sysctl -q -w kernel.keys.maxkeys=1000
	fi
	if [ "$(cat /proc/sys/kernel/keys/maxbytes)" -lt 100000 ]; then
		sysctl -q -w kernel.keys.maxbytes=100000
	fi
	say "ok: user $TEST_USER (uid $uid, home $home), packages, devices"
	exit 0
fi

# Not root: check only.
pkgs=$(missing_packages)
[ -z "$pkgs" ] || need "Debian packages:$pkgs" "sudo apt-get install$pkgs"
me=$(id -un)
grep -q "^\($me\|$(id -u)\):" /etc/subuid 2>/dev/null ||
	need "subordinate uids for $me in /etc/subuid" "sudo usermod --add-subuids 100000-165535 $me"
grep -q "^\($me\|$(id -u)\):" /etc/subgid 2>/dev/null ||
	need "subordinate gids for $me in /etc/subgid" "sudo usermod --add-subgids 100000-165535 $me"
for d in /dev/net/tun /dev/fuse; do
	[ -r "$d" ] && [ -w "$d" ] || need "read/write access to $d" "sudo chmod 0666 $d"
done
if [ -z "${XDG_RUNTIME_DIR:-}" ] || [ ! -O "${XDG_RUNTIME_DIR:-/nonexistent}" ]; then
	need "XDG_RUNTIME_DIR owned by you" "log in through a session (systemd-logind), or: sudo install -d -m 0700 -o $me /run/user/$(id -u) && export XDG_RUNTIME_DIR=/run/user/$(id -u)"
fi
if [ "$missing" -ne 0 ]; then
	echo "setup: run 'sudo make setup' to fix all of the above"
	exit 1
fi
say "ok"
