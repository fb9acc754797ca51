#!/bin/sh
# What `make bench` runs (after `make build`): the figures of DESIGN.md §4
# side by side with rootless podman and bwrap, measured by hack/bench.
#
# As root: makes sure the host is set up (hack/setup.sh), then prepares
# and measures as the unprivileged test user (TEST_USER, default sbx).
# As any other user: prepares and measures as that user; no set-up.
# Preparing: the busybox image, built offline by hack/mkimage-busybox.sh,
# imported into sandbox's and podman's storage when it is missing there;
# the same tarball, extracted, is bwrap's root filesystem.
#
# The figures with containers, a registry and images of their own
# (hack/bench/figures.go) make them and remove them, as that user; they
# need podman with runc, docker-registry for the pull figures, iperf3,
# slirp4netns and pasta for the network figures (hack/setup.sh installs
# them all).
#
# Always this repository's bin/sandbox, never an installed one. Arguments
# (and BENCH_ARGS) go to hack/bench: e.g. hack/bench.sh -n 50 -v, or
# hack/bench.sh -run 'exec|pull' for some of the figures.
set -eu
cd "$(dirname "$0")/.."
repo=$(pwd)
TEST_USER=${TEST_USER:-sbx}
IMAGE=${IMAGE:-busybox}
GO=${GO:-$(command -v go 2>/dev/null || echo /usr/local/go/bin/go)}
export GOFLAGS="${GOFLAGS:--mod=mod}"

say() { printf 'bench.sh: %s\n' "$*"; }
die() { printf 'bench.sh: %s\n' "$*" >&2; exit 1; }

for b in sandbox sandbox-monitor sandbox-cleanup sandbox-nsenter sandbox-exec; do
	[ -x "bin/$b" ] || die "bin/$b missing: run make build (make bench does)"
done
command -v "$GO" >/dev/null || die "no go toolchain ($GO): install Go, or set GO"
# hack/bench checks every tool the selected figures need before measuring,
# and says how to install what is missing.

if [ "$(id -u)" -eq 0 ]; then
	sh hack/setup.sh >/dev/null || die "hack/setup.sh failed"
	user=$TEST_USER
	uid=$(id -u "$user") || die "no user $user"
	home=$(getent passwd "$user" | cut -d: -f6)
	rundir=/run/user/$uid
	# A clean environment, as a login of that user would have.
	as_user() {
		runuser -u "$user" -- env -i HOME="$home" USER="$user" LOGNAME="$user" \
			XDG_RUNTIME_DIR="/run/user/$uid" PATH="/usr/local/bin:/usr/bin:/bin:/usr/sbin:/sbin" "$@"
	}
else
	user=$(id -un)
	[ -n "${XDG_RUNTIME_DIR:-}" ] || die "XDG_RUNTIME_DIR is not set: sh hack/setup.sh says how to fix it"
	home=$HOME
	rundir=$XDG_RUNTIME_DIR
	as_user() { "$@"; }
fi

tmp=$(mktemp -d /tmp/sandbox-bench.XXXXXX)
trap 'rm -rf "$tmp"' EXIT
# An interrupt reaches hack/bench too, which removes what its figures made
# before it exits; the shell waits for it, then removes $tmp.
trap 'exit 130' INT TERM
chmod 0755 "$tmp"
# The user's scratch space (bwrap's root filesystem): removed with $tmp
# even when the bench is killed.
install -d -m 0700 -o "$user" "$tmp/work"

# The image, as hack/mkimage-busybox.sh makes it: always needed for bwrap,
# imported only where it is missing.
hack/mkimage-busybox.sh "$tmp/rootfs.tar"
chmod 0644 "$tmp/rootfs.tar"
if ! as_user "$repo/bin/sandbox" images --format '{{.Repository}}:{{.Tag}}' | grep -qx "$IMAGE:latest"; then
	say "importing $IMAGE into sandbox's storage for $user"
	as_user "$repo/bin/sandbox" import --change 'CMD ["sh"]' "$tmp/rootfs.tar" "$IMAGE" >/dev/null
fi
# podman measures on a store of its own, on overlay (native, in its user
# namespace, as sandbox's): the driver of the user's own store is fixed at
# its first use, and where podman found no storage.conf then it is vfs,
# which makes its run --rm about twice as slow here.
podman_store="--storage-driver overlay --root $home/.local/share/sandbox-bench/podman --runroot $rundir/sandbox-bench-podman"
# shellcheck disable=SC2086 # podman_store is a list of flags
if command -v podman >/dev/null && ! as_user podman $podman_store image exists "$IMAGE"; then
	say "importing $IMAGE into podman's storage for $user"
	# shellcheck disable=SC2086
	as_user podman $podman_store import --change 'CMD ["sh"]' "$tmp/rootfs.tar" "$IMAGE" >/dev/null
fi

"$GO" build -buildvcs=false -o "$tmp/bench" ./hack/bench
# A yardstick: the least a static Go process costs to start here.
CGO_ENABLED=0 "$GO" build -buildvcs=false -o "$tmp/hello" ./hack/bench/hello
# shellcheck disable=SC2086 # BENCH_ARGS is a list of flags
as_user "$tmp/bench" -sandbox "$repo/bin/sandbox" -hello "$tmp/hello" -podman-store "$podman_store" -image "$IMAGE" -rootfs-tar "$tmp/rootfs.tar" -workdir "$tmp/work" ${BENCH_ARGS:-} "$@"
