// Unit tests (privilege tier: none) of how the init resolves the image's
// paths: an image's links are followed as if its root were "/", and
// nothing is created or opened outside it.

package nsinit

import (
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"testing"
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
