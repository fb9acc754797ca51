#!/bin/bash
# Builds what the cgroup v2 test VM boots, into hack/vm/cache/:
#   kernel.img       Debian's newest linux-image-6.1.0-*-amd64 (the host's own
#                    kernel mounts cgroups hybrid, so v2 needs a kernel of ours)
#   initramfs.cpio   busybox-static, init (stage 1), guest.sh (stage 2) and the
#                    modules init loads, in dependency order from modules.dep
# Idempotent, as root. A second run with the same kernel package, module list
# and scripts downloads and builds nothing. VM_MODULES overrides the modules
# asked for; their dependencies are added.
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
cache=$here/cache
# The virtio PCI transport and 9p carry the shared host root; overlay makes it
# writable; fuse and tun are what rootless containers use (fuse-overlayfs,
# slirp4netns/pasta); loop gives block devices (/dev/loop0..7) for the tests
# of io.max (--device-read-bps), the VM having no disk.
modules=${VM_MODULES:-virtio_pci 9pnet_virtio 9p overlay fuse tun loop}
busybox=/bin/busybox

say() { printf 'vm-build: %s\n' "$*" >&2; }
die() { say "$*"; exit 1; }

[ "$(id -u)" -eq 0 ] || die "run as root (apt-get download, mknod /dev/console)"
# The initramfs has no libc: only the static build will do.
case $(dpkg-query -W -f='${Status}' busybox-static 2>/dev/null) in
*" installed") ;;
*) die "apt-get install busybox-static" ;;
esac
for t in apt-get apt-cache dpkg depmod cpio sha256sum xz flock; do
	command -v "$t" >/dev/null || die "$t not found"
done
mkdir -p "$cache"
# Two runs at once (make -j) would race on the cache.
exec 9>"$cache/.lock"
flock 9
tmp=$(mktemp -d "$cache/tmp.XXXXXX")
trap 'rm -rf "$tmp"' EXIT

# newest prints "PACKAGE VERSION" of the newest 6.1 kernel apt knows, or
# nothing when the package lists are empty.
newest() {
	# One apt-cache call (each parses all package lists: ~0.6 s here).
	apt-cache search --names-only --full '^linux-image-6\.1\.0-[0-9]+-amd64$' |
		awk '/^Package: / { p = $2 } /^Version: / { print p, $2 }' | sort -V | tail -n1
}

want=$(newest)
if [ -z "$want" ] && [ ! -s "$cache/kernel.id" ]; then
	say "apt knows no linux-image-6.1.0-*-amd64: apt-get update"
	apt-get update -qq
	want=$(newest)
fi
# Offline with a cached kernel: keep using it.
[ -n "$want" ] || want=$(cat "$cache/kernel.id")
[ -n "$want" ] || die "no linux-image-6.1.0-*-amd64 package found"

if [ "$(cat "$cache/kernel.id" 2>/dev/null)" != "$want" ] || [ ! -s "$cache/kernel.deb" ]; then
	say "downloading ${want% *} (${want#* })"
	mkdir "$tmp/dl"
	# apt drops to the _apt user for downloads, which cannot write here.
	(cd "$tmp/dl" && apt-get download -q -o APT::Sandbox::User=root "${want% *}=${want#* }")
	mv "$tmp"/dl/*.deb "$cache/kernel.deb"
	echo "$want" >"$cache/kernel.id"
fi

# Everything the initramfs is made of; a change to any of it rebuilds.
key=$({
	cat "$cache/kernel.id"
	echo "$modules"
	sha256sum "$busybox" "$here/build.sh" "$here/init" "$here/guest.sh" | cut -d' ' -f1
} | sha256sum | cut -d' ' -f1)
if [ "$(cat "$cache/initramfs.key" 2>/dev/null)" = "$key" ] &&
	[ -s "$cache/kernel.img" ] && [ -s "$cache/initramfs.cpio" ]; then
	say "up to date: ${want% *} ${want#* }"
	exit 0
fi

say "building initramfs for ${want% *}"
dpkg -x "$cache/kernel.deb" "$tmp/kernel"
kver=$(ls "$tmp/kernel/lib/modules")
mods=$tmp/kernel/lib/modules/$kver
depmod -b "$tmp/kernel" "$kver"

# load_order prints the .ko paths to insmod, each after its dependencies: a
# depth-first walk of modules.dep ("path: dep dep ..."). Modules built into
# the kernel (modules.builtin) need no loading and are left out.
load_order() {
	awk -v want="$modules" '
	function name(p) { sub(/.*\//, "", p); sub(/\.ko.*/, "", p); gsub(/-/, "_", p); return p }
	function visit(m,   d, n, i) {
		if (m in done || m in builtin) return
		if (!(m in path)) { print "vm-build: no module " m > "/dev/stderr"; exit 1 }
		done[m] = 1
		n = split(deps[m], d, " ")
		for (i = 1; i <= n; i++) visit(d[i])
		print path[m]
	}
	FILENAME ~ /builtin$/ { builtin[name($1)] = 1; next }
	{ sub(/:$/, "", $1); m = name($1); path[m] = $1
	  for (i = 2; i <= NF; i++) deps[m] = deps[m] " " name($i) }
	END { n = split(want, w, " "); for (i = 1; i <= n; i++) visit(name(w[i])) }
	' "$mods/modules.builtin" "$mods/modules.dep"
}
order=$(load_order)

root=$tmp/root
mkdir -p "$root"/{bin,sbin,usr/bin,usr/sbin,dev,proc,sys,mnt/host,mnt/rw,newroot,lib/modules}
cp "$busybox" "$root/bin/busybox"
install -m 0755 "$here/init" "$root/init"
install -m 0755 "$here/guest.sh" "$root/guest.sh"
# The kernel opens /dev/console for /init before anything is mounted.
mknod -m 0600 "$root/dev/console" c 5 1
for p in $order; do
	cp "$mods/$p" "$root/lib/modules/"
	basename "$p" .ko >>"$root/modules"
done
say "modules: $(paste -sd' ' "$root/modules")"

(cd "$root" && find . | LC_ALL=C sort | cpio -o -H newc --quiet) >"$tmp/initramfs.cpio"
# qemu can boot the uncompressed ELF kernel through its PVH entry point
# (CONFIG_PVH): that skips decompressing ~66 MB under TCG, ~2.5 s a boot.
# The bzImage holds it as an xz stream after the setup code.
vmlinuz=$tmp/kernel/boot/vmlinuz-$kver
off=$(LC_ALL=C grep -m1 -obUaP '\xfd7zXZ\x00' "$vmlinuz" | head -n1 | cut -d: -f1) || true
if grep -qx CONFIG_PVH=y "$tmp/kernel/boot/config-$kver" && [ -n "$off" ] &&
	tail -c +$((off + 1)) "$vmlinuz" >"$tmp/kernel.xz" &&
	xz -dc --single-stream "$tmp/kernel.xz" >"$tmp/kernel.img" 2>/dev/null; then
	say "kernel: uncompressed ELF, booted through PVH"
else
	say "kernel: bzImage (no PVH entry or no xz stream found)"
	cp "$vmlinuz" "$tmp/kernel.img"
fi
mv "$tmp/initramfs.cpio" "$tmp/kernel.img" "$cache/"
echo "$key" >"$cache/initramfs.key"
say "built $cache/initramfs.cpio ($(du -h "$cache/initramfs.cpio" | cut -f1)) for kernel $kver"
