// Unit tests (privilege tier: none) of how the init resolves the image's
// paths: an image's links are followed as if its root were "/", and
// nothing is created or opened outside it.

package nsinit

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"sort"
	"strings"
	"testing"

	"golang.org/x/sys/unix"
)

// hostileRoot makes a root filesystem whose links point out of it, beside
// a directory "outside" that they would reach if followed on the host.
func hostileRoot(t *testing.T) (r *rootfs, outside string) {
	t.Helper()
	base := t.TempDir()
	root := filepath.Join(base, "root")
	outside = filepath.Join(base, "outside")
	for _, d := range []string{root, outside, filepath.Join(root, "etc"), filepath.Join(root, "tmp"), filepath.Join(root, "srv")} {
		if err := os.MkdirAll(d, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	links := map[string]string{
		"data":                   "/srv/data",                                  // absolute, dangling
		"etc/resolv.conf":        "../run/systemd/resolve/stub-resolv.conf",    // relative, dangling
		"etc/hosts":              "/../../../../" + outside[1:] + "/hosts",     // absolute escape
		"etc/hostname":           "../../../../../../../../" + outside + "/hn", // relative escape
		"wd":                     "../../../../tmp",
		"up":                     "../../../..",
		"escape":                 outside,
		"loop":                   "loop",
		"etc/file":               "/etc/passwd",
		"srv/absdir":             "/",
		"etc/dirlink-to-outside": outside,
	}
	for name, target := range links {
		if err := os.Symlink(target, filepath.Join(root, name)); err != nil {
			t.Fatal(err)
		}
	}
	if err := os.WriteFile(filepath.Join(root, "etc/passwd"), []byte("root:x:0:0::/root:/bin/sh\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	r, err := openRootfs(root)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { r.close() })
	return r, outside
}

func emptyDir(t *testing.T, dir string) {
	t.Helper()
	entries, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	if len(entries) != 0 {
		t.Errorf("%s was written: %v", dir, entries)
	}
}

func TestResolveInRoot(t *testing.T) {
	r, outside := hostileRoot(t)
	cases := map[string]string{
		"/data":            "/srv/data",
		"/data/sub":        "/srv/data/sub",
		"/etc/resolv.conf": "/run/systemd/resolve/stub-resolv.conf",
		"/etc/hosts":       outside + "/hosts",
		"/etc/hostname":    outside + "/hn",
		"/wd":              "/tmp",
		"/up/etc":          "/etc",
		"/escape/x":        outside + "/x",
		"/../../etc":       "/etc",
		"/srv/absdir/etc":  "/etc",
		"/":                "/",
	}
	for in, want := range cases {
		got, err := r.resolve(in)
		if err != nil || got != want {
			t.Errorf("resolve(%q) = %q, %v; want %q", in, got, err, want)
		}
	}
	if _, err := r.resolve("/loop/x"); err == nil {
		t.Error("resolve of a link loop succeeded")
	}
}

func TestOpenTargetStaysInRoot(t *testing.T) {
	r, outside := hostileRoot(t)
	cases := []struct {
		dest     string
		kind     targetKind
		resolved string
	}{
		{"/data", directory, "/srv/data"},
		{"/etc/resolv.conf", file, "/run/systemd/resolve/stub-resolv.conf"},
		{"/etc/hosts", file, outside + "/hosts"},
		{"/etc/hostname", file, outside + "/hn"},
		{"/escape/deep/dir", directory, outside + "/deep/dir"},
		{"/etc/dirlink-to-outside", directory, outside},
		{"/etc/file", existing, "/etc/passwd"},
		{"/etc/passwd", file, "/etc/passwd"},
	}
	for _, c := range cases {
		tg, err := r.openTarget(c.dest, c.kind)
		if err != nil {
			t.Errorf("openTarget(%q): %v", c.dest, err)
			continue
		}
		if tg.resolved != c.resolved {
			t.Errorf("openTarget(%q) resolved %q, want %q", c.dest, tg.resolved, c.resolved)
		}
		// The handle is of the file inside the root.
		got, err := os.Readlink(tg.path())
		if want := filepath.Join(r.path, c.resolved); err != nil || got != want {
			t.Errorf("openTarget(%q) holds %q (%v), want %q", c.dest, got, err, want)
		}
		if tg.isDir != (c.kind == directory) {
			t.Errorf("openTarget(%q): isDir %v", c.dest, tg.isDir)
		}
		tg.close()
	}
	emptyDir(t, outside)
	if err := r.mkdirAll("/wd/new"); err != nil {
		t.Fatal(err)
	}
	if st, err := os.Stat(filepath.Join(r.path, "tmp/new")); err != nil || !st.IsDir() {
		t.Errorf("working directory not made through the link inside the root: %v", err)
	}
	emptyDir(t, outside)
}

func TestOpenTargetRefuses(t *testing.T) {
	r, _ := hostileRoot(t)
	if _, err := r.openTarget("/nothing/here", existing); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("missing path: %v, want not exist", err)
	}
	if _, err := r.openTarget("/etc/passwd", directory); err == nil {
		t.Error("a file taken as a directory mount point")
	}
	if _, err := r.openTarget("/etc", file); err == nil {
		t.Error("a directory taken as a file mount point")
	}
	if _, err := r.openTarget("/up", directory); err == nil {
		t.Error("a mount point that resolves to the root was accepted")
	}
	if _, err := r.openTarget("/loop", directory); err == nil {
		t.Error("a link loop was accepted")
	}
}

// The fast path (openat2 refusing links) must give, for every path, the
// answer of the slow one (securejoin and pathrs-lite): the same resolved
// path, the same inode held, the same files created, the same errors.

// mixedRoot makes a root filesystem of plain directories and files and of
// links of every sort: absolute and relative, inside and outside the root,
// dangling, chained, in the middle of a path and at its end.
func mixedRoot(t *testing.T) (r *rootfs, outside string) {
	t.Helper()
	base := t.TempDir()
	root := filepath.Join(base, "root")
	outside = filepath.Join(base, "outside")
	for _, d := range []string{root, outside, "etc", "srv/data", "tmp", "a/b/c", "proc", "sys"} {
		if !filepath.IsAbs(d) {
			d = filepath.Join(root, d)
		}
		if err := os.MkdirAll(d, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	for _, f := range []string{"etc/passwd", "a/b/file", "srv/data/f"} {
		if err := os.WriteFile(filepath.Join(root, f), []byte("x\n"), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	if err := unix.Mkfifo(filepath.Join(root, "a/fifo"), 0o644); err != nil {
		t.Fatal(err)
	}
	links := [][2]string{
		{"abs", "/srv"},
		{"rel", "srv"},
		{"a/b/up", "../../srv/data"},
		{"a/mid", "b"},
		{"out", outside},
		{"outrel", "../../../../../../../.." + outside},
		{"dangling", "/nowhere/x"},
		{"chain1", "chain2"},
		{"chain2", "/a/b"},
		{"etc/hosts", "/etc/passwd"},
		{"etc/dl", "/srv/newfile"},
		{"etc/dldir", "../srv/newdir"},
		{"loop", "loop"},
		{"srv/root", "/"},
	}
	for _, l := range links {
		if err := os.Symlink(l[1], filepath.Join(root, l[0])); err != nil {
			t.Fatal(err)
		}
	}
	r, err := openRootfs(root)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { r.close() })
	return r, outside
}

// fastCases are paths of mixedRoot; fast says the fast path answers for
// them (for every kind) rather than leave them to the slow one.
var fastCases = []struct {
	dest string
	fast bool
}{
	{"/etc", true},
	{"/etc/passwd", true},
	{"/a/b/c", true},
	{"/a/b/c/", true},
	{"//a/./b//c", true},
	{"a/b/file", true},
	{"/a/fifo", true},
	{"/srv/data", true},
	{"/new", true},
	{"/a/b/c/new", true},
	{"/proc", true},
	{"/a/b/new/deeper", false}, // a parent to create
	{"/abs/data", false},
	{"/abs", false},
	{"/rel/data/f", false},
	{"/a/b/up", false},
	{"/a/b/up/f", false},
	{"/a/b/up/../x", false},
	{"/a/mid", false},
	{"/a/mid/c", false},
	{"/a/mid/file", false},
	{"/chain1/c", false},
	{"/chain1/newdir", false},
	{"/out/x", false},
	{"/outrel/x", false},
	{"/dangling", false},
	{"/etc/hosts", false},
	{"/etc/dl", false},
	{"/etc/dldir/sub", false},
	{"/srv/root/etc", false},
	{"/a/../etc/passwd", false},
	{"/../../etc", false},
	{"/loop", false},
	{"/loop/x", false},
	{"/", false},
	{"", false},
}

var kinds = map[targetKind]string{existing: "existing", directory: "directory", file: "file"}

// tree lists what is under the root: each path with its type and, for a
// link, its target; normalised.
func tree(t *testing.T, r *rootfs) []string {
	t.Helper()
	dir := r.path
	var out []string
	err := filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, err := filepath.Rel(dir, p)
		if err != nil {
			return err
		}
		e := fmt.Sprintf("%s %v", rel, d.Type())
		if d.Type() == fs.ModeSymlink {
			target, err := os.Readlink(p)
			if err != nil {
				return err
			}
			e += " -> " + target
		}
		out = append(out, norm(e, r))
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	sort.Strings(out)
	return out
}

func sameTree(t *testing.T, what string, a, b []string) {
	t.Helper()
	if fmt.Sprint(a) != fmt.Sprint(b) {
		t.Errorf("%s: trees differ:\n fast: %v\n slow: %v", what, a, b)
	}
}

// norm names BASE the directory holding the root (and its outside), in
// s: two roots built alike give the same strings.
func norm(s string, r *rootfs) string {
	base := filepath.Dir(r.path)
	return strings.ReplaceAll(strings.ReplaceAll(s, base, "BASE"), base[1:], "BASE")
}

// errString is err's message, normalised.
func errString(err error, r *rootfs) string {
	if err == nil {
		return "<nil>"
	}
	return norm(err.Error(), r)
}

func fdStat(t *testing.T, fd int) unix.Stat_t {
	t.Helper()
	var st unix.Stat_t
	if err := unix.Fstat(fd, &st); err != nil {
		t.Fatal(err)
	}
	return st
}

func TestOpenTargetFastIsSlow(t *testing.T) {
	for _, c := range fastCases {
		for kind, kname := range kinds {
			what := fmt.Sprintf("openTarget(%q, %s)", c.dest, kname)

			// The fast path answers exactly where it should.
			rc, _ := mixedRoot(t)
			tc, err := rc.openTargetFast(c.dest, kind)
			if got := !errors.Is(err, errSlowPath); got != c.fast {
				t.Errorf("%s: fast path taken %v, want %v (%v)", what, got, c.fast, err)
			}
			if tc != nil {
				tc.close()
			}

			// openTarget, fast where it can, on one root; the slow path
			// alone on another, built the same.
			ra, outsideA := mixedRoot(t)
			rb, outsideB := mixedRoot(t)
			ta, errA := ra.openTarget(c.dest, kind)
			tb, errB := rb.openTargetSlow(c.dest, kind)
			if errString(errA, ra) != errString(errB, rb) {
				t.Errorf("%s: error %v, slow path's %v", what, errA, errB)
			}
			if errors.Is(errA, fs.ErrNotExist) != errors.Is(errB, fs.ErrNotExist) {
				t.Errorf("%s: not-exist %v, slow path's %v", what, errA, errB)
			}
			sameTree(t, what, tree(t, ra), tree(t, rb))
			emptyDir(t, outsideA)
			emptyDir(t, outsideB)
			if ta == nil || tb == nil {
				if ta != nil || tb != nil {
					t.Errorf("%s: one path succeeded, the other not", what)
				}
				continue
			}
			if norm(ta.resolved, ra) != norm(tb.resolved, rb) || ta.isDir != tb.isDir {
				t.Errorf("%s: resolved %q (dir %v), slow path %q (dir %v)", what, ta.resolved, ta.isDir, tb.resolved, tb.isDir)
			}
			if c.fast && ta.resolved != path.Clean("/"+c.dest) {
				t.Errorf("%s: fast path resolved %q", what, ta.resolved)
			}

			// On the same root, both hold the same inode, the one at the
			// resolved path.
			ta2, err := ra.openTargetSlow(c.dest, kind)
			if err != nil {
				t.Errorf("%s: slow path after the fast one: %v", what, err)
			} else {
				sa, sa2 := fdStat(t, ta.fd), fdStat(t, ta2.fd)
				if sa.Dev != sa2.Dev || sa.Ino != sa2.Ino {
					t.Errorf("%s: holds %d:%d, slow path %d:%d", what, sa.Dev, sa.Ino, sa2.Dev, sa2.Ino)
				}
				var st unix.Stat_t
				if err := unix.Lstat(filepath.Join(ra.path, ta.resolved), &st); err != nil || st.Dev != sa.Dev || st.Ino != sa.Ino {
					t.Errorf("%s: holds %d:%d, %s is %d:%d (%v)", what, sa.Dev, sa.Ino, ta.resolved, st.Dev, st.Ino, err)
				}
				ta2.close()
			}
			ta.close()
			tb.close()
		}
	}
}

func TestResolveFastIsSlow(t *testing.T) {
	r, _ := mixedRoot(t)
	for _, c := range fastCases {
		fast, errF := r.resolve(c.dest)
		slow, errS := r.secureResolve(c.dest)
		if fast != slow || (errF == nil) != (errS == nil) {
			t.Errorf("resolve(%q) = %q, %v; slow path %q, %v", c.dest, fast, errF, slow, errS)
		}
	}
	for dest, want := range map[string]bool{
		"/etc/passwd": true, "/proc": true, "/a/b/c/": true,
		"/new": false, "/abs": false, "/a/mid/c": false, "/etc/hosts": false, "/a/../etc": false,
	} {
		if got := r.plain(dest, 0); got != want {
			t.Errorf("plain(%q) = %v, want %v", dest, got, want)
		}
	}
}

func TestMkdirAllFastIsSlow(t *testing.T) {
	for _, c := range fastCases {
		ra, outsideA := mixedRoot(t)
		rb, outsideB := mixedRoot(t)
		errA := ra.mkdirAll(c.dest)
		errB := rb.secureMkdirAll(c.dest)
		if errString(errA, ra) != errString(errB, rb) {
			t.Errorf("mkdirAll(%q): %v, slow path %v", c.dest, errA, errB)
		}
		sameTree(t, "mkdirAll("+c.dest+")", tree(t, ra), tree(t, rb))
		emptyDir(t, outsideA)
		emptyDir(t, outsideB)
	}
}
