package integration

// cp, export, diff, history and image prune (privilege tier: rootless
// integration): round trips, tar streams, ownership, the symlink escapes
// that cp must never allow, and podman's output where it defines one.

import (
	"archive/tar"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"sort"
	"strings"
	"syscall"
	"testing"
	"time"
)

// tarOf builds a tar stream of the entries (name → content; a name ending
// in / is a directory, a content starting with -> a symlink), owned by
// uid:gid.
func tarOf(t *testing.T, uid int, entries ...[2]string) []byte {
	t.Helper()
	var buf bytes.Buffer
	tw := tar.NewWriter(&buf)
	for _, e := range entries {
		h := &tar.Header{Name: e[0], Mode: 0o644, Uid: uid, Gid: uid, Typeflag: tar.TypeReg, Size: int64(len(e[1]))}
		switch {
		case strings.HasSuffix(e[0], "/"):
			h.Typeflag, h.Mode, h.Size = tar.TypeDir, 0o755, 0
		case strings.HasPrefix(e[1], "->"):
			h.Typeflag, h.Linkname, h.Size = tar.TypeSymlink, strings.TrimPrefix(e[1], "->"), 0
		}
		if err := tw.WriteHeader(h); err != nil {
			t.Fatal(err)
		}
		if h.Typeflag == tar.TypeReg {
			if _, err := tw.Write([]byte(e[1])); err != nil {
				t.Fatal(err)
			}
		}
	}
	if err := tw.Close(); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

// tarEntries reads a tar stream: name → content (a link's "->target").
func tarEntries(t *testing.T, data string) map[string]string {
	t.Helper()
	m := map[string]string{}
	tr := tar.NewReader(strings.NewReader(data))
	for {
		h, err := tr.Next()
		if errors.Is(err, io.EOF) {
			return m
		}
		if err != nil {
			t.Fatalf("tar stream: %v", err)
		}
		b, err := io.ReadAll(tr)
		if err != nil {
			t.Fatal(err)
		}
		if h.Typeflag == tar.TypeSymlink {
			b = []byte("->" + h.Linkname)
		}
		m[strings.TrimPrefix(h.Name, "./")] = string(b)
	}
}

// hostTree writes files (relative name → content) under a new directory.
func hostTree(t *testing.T, files map[string]string) string {
	t.Helper()
	dir := t.TempDir()
	for name, content := range files {
		p := filepath.Join(dir, name)
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return dir
}

func readFile(t *testing.T, p string) string {
	t.Helper()
	b, err := os.ReadFile(p)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// TestCpRoundTrip copies files and directories in and out of a running
// and a stopped container, and tar streams both ways, with docker's
// naming rules and ownership.
func TestCpRoundTrip(t *testing.T) {
	t.Parallel()
	host := hostTree(t, map[string]string{"f.txt": "file\n", "d/sub/deep.txt": "deep\n", "d/top.txt": "top\n"})
	id := detached(t, "--name", "cp-run", "busybox", "sleep", "60")
	ok(t, "exec", id, "mkdir", "-p", "/opt", "/srv")

	// Into a running container: a file into a directory, a file under a
	// new name, a directory to a new name, a directory's contents.
	ok(t, "cp", filepath.Join(host, "f.txt"), id+":/tmp")
	ok(t, "cp", filepath.Join(host, "f.txt"), "cp-run:/tmp/renamed.txt")
	ok(t, "cp", filepath.Join(host, "d"), "cp-run:/opt/newdir")
	ok(t, "container", "cp", filepath.Join(host, "d")+"/.", "cp-run:/srv")
	out := ok(t, "exec", id, "sh", "-c", "cat /tmp/f.txt /tmp/renamed.txt /opt/newdir/sub/deep.txt /srv/top.txt /srv/sub/deep.txt; ls -ln /tmp/f.txt /opt/newdir/sub/deep.txt")
	if !strings.HasPrefix(out, "file\nfile\ndeep\ntop\ndeep\n") {
		t.Errorf("in the container: %q", out)
	}
	// Copied in without -a: the container's root owns it, as docker's.
	for _, line := range strings.Split(strings.TrimSpace(out), "\n")[5:] {
		if f := strings.Fields(line); len(f) < 4 || f[2] != "0" || f[3] != "0" {
			t.Errorf("owner of a file copied in: %q, want 0 0", line)
		}
	}

	// Out again: a directory to a new host path, a file into a directory.
	back := t.TempDir()
	ok(t, "cp", "cp-run:/opt/newdir", filepath.Join(back, "again"))
	ok(t, "cp", id+":/etc/passwd", back)
	if got := readFile(t, filepath.Join(back, "again", "sub", "deep.txt")); got != "deep\n" {
		t.Errorf("copied back: %q", got)
	}
	if got := readFile(t, filepath.Join(back, "passwd")); !strings.HasPrefix(got, "root:") {
		t.Errorf("passwd copied out: %q", got)
	}
	// What is copied out belongs to the user who copies.
	if fi, err := os.Stat(filepath.Join(back, "again", "sub", "deep.txt")); err != nil {
		t.Fatal(err)
	} else if st, isStat := fi.Sys().(*syscall.Stat_t); !isStat || int(st.Uid) != os.Getuid() {
		t.Errorf("a file copied out is owned by %+v, want uid %d", fi.Sys(), os.Getuid())
	}

	// Tar streams: - as the source keeps ids with -a, gives them to the
	// container's root without; - as the destination is a tar of the path.
	sbWithOK(t, cmdOpts{stdin: string(tarOf(t, 123, [2]string{"stream/", ""}, [2]string{"stream/a.txt", "A\n"}))}, "cp", "-", "cp-run:/tmp")
	sbWithOK(t, cmdOpts{stdin: string(tarOf(t, 123, [2]string{"kept.txt", "K\n"}))}, "cp", "-a", "-", "cp-run:/tmp")
	if out := ok(t, "exec", id, "sh", "-c", "cat /tmp/stream/a.txt; stat -c '%u %g' /tmp/stream/a.txt /tmp/kept.txt"); out != "A\n0 0\n123 123\n" {
		t.Errorf("after cp of tar streams: %q", out)
	}
	entries := tarEntries(t, ok(t, "cp", "cp-run:/opt/newdir", "-"))
	if entries["newdir/sub/deep.txt"] != "deep\n" || entries["newdir/top.txt"] != "top\n" {
		t.Errorf("cp to - gave %v", entries)
	}

	// A stopped container: its root is mounted for the copy and unmounted
	// after, nothing left mounted.
	ok(t, "stop", "-t", "0", id)
	merged := strings.TrimSpace(ok(t, "inspect", "--format", "{{.GraphDriver.Data.MergedDir}}", id))
	mounted := func() bool {
		for _, m := range storeMounts(t) {
			if m == merged {
				return true
			}
		}
		return false
	}
	// The monitor unmounts the root of a container that stopped.
	eventually(t, 10e9, func() error {
		if mounted() {
			return errors.New("the stopped container's root is still mounted")
		}
		return nil
	})
	ok(t, "cp", filepath.Join(host, "f.txt"), id+":/stopped.txt")
	ok(t, "cp", id+":/tmp/renamed.txt", filepath.Join(back, "from-stopped.txt"))
	if got := readFile(t, filepath.Join(back, "from-stopped.txt")); got != "file\n" {
		t.Errorf("from a stopped container: %q", got)
	}
	if merged == "" || mounted() {
		t.Errorf("cp of a stopped container left its root (%q) mounted", merged)
	}
	ok(t, "start", id)
	if out := ok(t, "exec", id, "cat", "/stopped.txt"); out != "file\n" {
		t.Errorf("after start: %q", out)
	}
}

func sbWithOK(t *testing.T, o cmdOpts, args ...string) string {
	t.Helper()
	r := sbWith(t, o, args...)
	if r.code != 0 {
		t.Fatalf("%s", r)
	}
	return r.stdout
}

// TestCpBadInput: exit codes and words as podman's.
func TestCpBadInput(t *testing.T) {
	t.Parallel()
	p := newReference(t)
	p.withBusybox(t)
	ok(t, "create", "--name", "cp-bad", "busybox", "true")
	p.ok(t, "create", "--name", "cp-bad", "busybox", "true")
	host := hostTree(t, map[string]string{"f": "x"})
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"cp", "cp-bad:/no/such", host}, `"/no/such" could not be found on container cp-bad`},
		{[]string{"cp", filepath.Join(host, "nothere"), "cp-bad:/tmp"}, "could not be found on the host"},
		{[]string{"cp", filepath.Join(host, "f"), "cp-none:/tmp"}, `container "cp-none" does not exist`},
	} {
		r := fails(t, 125, []string{tc.want}, tc.args...)
		if pr := p.run(tc.args...); pr.code != r.code || !strings.Contains(pr.stderr, tc.want) {
			t.Errorf("podman: %s\nsandbox: %s", pr, r)
		}
	}
	fails(t, 125, []string{"one of them must be CONTAINER:PATH"}, "cp", host, host+"2")
}

// TestCpSymlinkEscapeCVE201815664 is the security regression test of the
// cp escapes of the CVE-2018-15664 / CVE-2019-14271 class: links in a
// container (absolute, relative, planted by a tar stream) must never make
// cp read or write a host path outside the container's root.
func TestCpSymlinkEscapeCVE201815664(t *testing.T) {
	t.Parallel()
	hostDir := hostTree(t, map[string]string{"secret": "HOST SECRET\n"})
	src := hostTree(t, map[string]string{"payload": "pwned\n"})
	rel := strings.Repeat("../", 12) + strings.TrimPrefix(hostDir, "/")
	id := detached(t, "busybox", "sh", "-c",
		"ln -s "+hostDir+" /abs && ln -s "+rel+" /rel && mkdir -p /d /kept && ln -s "+hostDir+"/secret /d/secretlink && ln -s "+hostDir+"/secret /kept/link && sleep 60")
	eventually(t, 10e9, func() error {
		if r := sb(t, "exec", id, "test", "-L", "/d/secretlink"); r.code != 0 {
			return errors.New("links not made yet")
		}
		return nil
	})
	payload := filepath.Join(src, "payload")
	for _, dst := range []string{"/abs/", "/abs/x", "/rel/", "/rel/x", "/abs/secret", "/d/secretlink"} {
		sb(t, "cp", payload, id+":"+dst) // may succeed inside the container, or fail
	}
	// A tar stream that plants a link and then writes through it.
	sbWith(t, cmdOpts{stdin: string(tarOf(t, 0, [2]string{"via", "->" + hostDir}, [2]string{"via/payload", "pwned\n"}))}, "cp", "-", id+":/tmp")
	entries, err := os.ReadDir(hostDir)
	if err != nil {
		t.Fatal(err)
	}
	if len(entries) != 1 || readFile(t, filepath.Join(hostDir, "secret")) != "HOST SECRET\n" {
		t.Fatalf("cp wrote into the host directory a container link points to: %v", entries)
	}
	// Reading through the links gives the container's view, never the
	// host's file.
	for _, srcPath := range []string{"/abs/secret", "/rel/secret", "/d/secretlink/", "/abs/"} {
		r := sb(t, "cp", id+":"+srcPath, "-")
		if strings.Contains(r.stdout, "HOST SECRET") {
			t.Errorf("cp %s read the host's file", srcPath)
		}
	}
	// A link copied out stays a link; unpacking it on the host does not
	// write through it.
	out := t.TempDir()
	ok(t, "cp", id+":/kept", out)
	if target, err := os.Readlink(filepath.Join(out, "kept", "link")); err != nil || target != hostDir+"/secret" {
		t.Errorf("the link copied out: %q, %v", target, err)
	}
	// The copy helper runs chrooted into the container's root after
	// loading its own name service libraries: a library planted in the
	// container is never loaded (CVE-2019-14271).
	{
		lib := nssBomb(t)
		for _, dir := range []string{"/lib", "/lib64", "/usr/lib", "/lib/x86_64-linux-gnu", "/usr/lib/x86_64-linux-gnu", "/lib/aarch64-linux-gnu"} {
			ok(t, "exec", id, "mkdir", "-p", dir)
			for _, name := range []string{"libnss_files.so.2", "libnss_compat.so.2", "libnss_dns.so.2"} {
				ok(t, "cp", lib, id+":"+dir+"/"+name)
			}
		}
		ok(t, "cp", payload, id+":/tmp/after-nss")
		ok(t, "cp", id+":/etc/passwd", t.TempDir())
		if r := sb(t, "exec", id, "ls", "/nss-pwned"); r.code == 0 {
			t.Error("cp loaded a library planted in the container")
		}
	}
}

// nssBomb builds a shared library whose constructor, if it is ever
// loaded, writes /nss-pwned (the container's, when loaded by a process
// chrooted there).
func nssBomb(t *testing.T) string {
	t.Helper()
	cc, err := exec.LookPath("cc")
	if err != nil {
		t.Fatalf("cc, to build the planted library, is not installed: %v", err)
	}
	dir := t.TempDir()
	src := filepath.Join(dir, "bomb.c")
	code := "#include <fcntl.h>\n#include <unistd.h>\n__attribute__((constructor)) static void bomb(void) { int fd = open(\"/nss-pwned\", O_CREAT|O_WRONLY, 0644); if (fd >= 0) close(fd); }\n"
	if err := os.WriteFile(src, []byte(code), 0o644); err != nil {
		t.Fatal(err)
	}
	lib := filepath.Join(dir, "libnss_files.so.2")
	if out, err := exec.Command(cc, "-shared", "-fPIC", "-o", lib, src).CombinedOutput(); err != nil {
		t.Fatalf("build the planted library: %v: %s", err, out)
	}
	return lib
}

// TestExportImportRoundTrip: export | import gives an image with the
// container's files; export to a file; nothing left mounted.
func TestExportImportRoundTrip(t *testing.T) {
	t.Parallel()
	id := strings.TrimSpace(ok(t, "create", "busybox", "sh", "-c", "true"))
	t.Cleanup(func() { sbRaw(nil, "rm", "-f", id) })
	host := hostTree(t, map[string]string{"marker": "exported\n"})
	ok(t, "cp", filepath.Join(host, "marker"), id+":/marker")
	data := ok(t, "export", id)
	entries := tarEntries(t, data)
	if entries["marker"] != "exported\n" || entries["bin/busybox"] == "" {
		t.Fatalf("export holds %d entries; marker %q", len(entries), entries["marker"])
	}
	out := filepath.Join(t.TempDir(), "fs.tar")
	ok(t, "container", "export", "-o", out, id)
	if got := readFile(t, out); got != data {
		t.Errorf("export -o wrote %d bytes, standard output %d", len(got), len(data))
	}
	sbWithOK(t, cmdOpts{stdin: data}, "import", "--change", `CMD ["sh"]`, "-", "exported/img:1")
	t.Cleanup(func() { sbRaw(nil, "rmi", "-f", "exported/img:1") })
	if got := run(t, "exported/img:1", "cat", "/marker"); got != "exported\n" {
		t.Errorf("the imported export: %q", got)
	}
}

// TestDiffAfterChanges compares diff with podman's after the same changes.
func TestDiffAfterChanges(t *testing.T) {
	t.Parallel()
	p := newReference(t)
	p.withBusybox(t)
	script := "echo x > /etc/newf; rm /bin/ls; mkdir -p /tmp/a; echo y >> /etc/passwd"
	ok(t, "run", "--name", "diff-it", "busybox", "sh", "-c", script)
	t.Cleanup(func() { sbRaw(nil, "rm", "-f", "diff-it") })
	p.ok(t, "run", "--name", "diff-it", "busybox", "sh", "-c", script)
	sorted := func(s string) string {
		lines := strings.Split(strings.TrimSpace(s), "\n")
		sort.Strings(lines)
		return strings.Join(lines, "\n")
	}
	got, want := sorted(ok(t, "diff", "diff-it")), sorted(p.ok(t, "diff", "diff-it"))
	if got != want {
		t.Errorf("diff:\n%s\npodman's:\n%s", got, want)
	}
	if !strings.Contains(got, "A /etc/newf") || !strings.Contains(got, "D /bin/ls") || !strings.Contains(got, "C /etc/passwd") {
		t.Errorf("diff misses a change:\n%s", got)
	}
	var gj, wj map[string][]string
	if err := json.Unmarshal([]byte(ok(t, "container", "diff", "--format", "json", "diff-it")), &gj); err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal([]byte(p.ok(t, "diff", "--format", "json", "diff-it")), &wj); err != nil {
		t.Fatal(err)
	}
	for _, m := range []map[string][]string{gj, wj} {
		for _, v := range m {
			sort.Strings(v)
		}
	}
	g, _ := json.Marshal(gj)
	w, _ := json.Marshal(wj)
	if string(g) != string(w) {
		t.Errorf("diff --format json: %s\npodman's: %s", g, w)
	}
	// An image's diff is its top layer: busybox's adds /bin/busybox.
	if !strings.Contains(ok(t, "diff", "busybox"), "A /bin/busybox\n") {
		t.Error("diff of an image does not list its files")
	}
	fails(t, 125, []string{"diff-none"}, "diff", "diff-none")
}

// TestHistoryImported: the history of an imported image, in podman's
// columns and JSON keys.
func TestHistoryImported(t *testing.T) {
	t.Parallel()
	p := newReference(t)
	ok(t, "import", "-m", "made for history", env.tarball, "hist/img:1")
	p.ok(t, "import", "-m", "made for history", env.tarball, "hist/img:1")
	id := strings.TrimPrefix(strings.TrimSpace(ok(t, "image", "inspect", "--format", "{{.Id}}", "hist/img:1")), "sha256:")
	table := strings.Split(strings.TrimSpace(ok(t, "history", "hist/img:1")), "\n")
	ptable := strings.Split(strings.TrimSpace(p.ok(t, "history", "hist/img:1")), "\n")
	if len(table) != len(ptable) || len(table) != 2 {
		t.Fatalf("history:\n%s\npodman's:\n%s", strings.Join(table, "\n"), strings.Join(ptable, "\n"))
	}
	header := regexp.MustCompile(`\s{2,}`).Split(table[0], -1)
	if strings.Join(header, "|") != strings.Join(regexp.MustCompile(`\s{2,}`).Split(ptable[0], -1), "|") {
		t.Errorf("header %q, podman's %q", table[0], ptable[0])
	}
	if !strings.HasPrefix(table[1], id[:12]+" ") || !strings.Contains(table[1], "made for history") {
		t.Errorf("history row: %q", table[1])
	}
	if out := ok(t, "image", "history", "-q", "--no-trunc", "hist/img:1"); out != id+"\n" {
		t.Errorf("history -q --no-trunc: %q", out)
	}
	var got, want []map[string]any
	if err := json.Unmarshal([]byte(ok(t, "history", "--format", "json", "hist/img:1")), &got); err != nil || len(got) != 1 {
		t.Fatalf("history json: %v %v", got, err)
	}
	if err := json.Unmarshal([]byte(p.ok(t, "history", "--format", "json", "hist/img:1")), &want); err != nil || len(want) != 1 {
		t.Fatalf("podman history json: %v %v", want, err)
	}
	for k := range want[0] {
		if _, has := got[0][k]; !has {
			t.Errorf("history json has no key %q (podman's: %v)", k, want[0])
		}
	}
	if got[0]["comment"] != "made for history" || got[0]["size"].(float64) <= 0 || got[0]["id"] != id {
		t.Errorf("history json: %v", got[0])
	}
	if out := ok(t, "history", "-H=false", "--format", "{{.Size}} {{.Comment}}", "hist/img:1"); !regexp.MustCompile(`^\d+ made for history\n$`).MatchString(out) {
		t.Errorf("history -H=false --format: %q", out)
	}
	fails(t, 125, []string{"hist/none:1"}, "history", "hist/none:1")
}

// TestImagePrune: prune removes images without a name that no container
// uses; -a every image no container uses, keeping those in use. In a
// store of its own: prune -a would take other tests' images.
func TestImagePrune(t *testing.T) {
	t.Parallel()
	root, err := os.MkdirTemp(filepath.Dir(env.root), "prune-root-")
	if err != nil {
		t.Fatal(err)
	}
	runroot, err := os.MkdirTemp(os.Getenv("XDG_RUNTIME_DIR"), "prune-run-")
	if err != nil {
		t.Fatal(err)
	}
	own := func(args ...string) []string { return append([]string{"--root", root, "--runroot", runroot}, args...) }
	t.Cleanup(func() {
		sbRaw(nil, own("rm", "-a", "-f")...)
		// containers/storage binds root/overlay onto itself in the keeper.
		rm := `umount "$1/overlay" 2>/dev/null; rm -rf "$1"`
		if r := sbRaw(nil, own("unshare", "sh", "-c", rm, "sh", root)...); r.code != 0 {
			t.Errorf("cleanup: %s", r)
		}
		os.RemoveAll(runroot)
	})
	dangling := strings.TrimPrefix(strings.TrimSpace(ok(t, own("import", env.tarball)...)), "sha256:")
	if !regexp.MustCompile(`^[0-9a-f]{64}$`).MatchString(dangling) {
		t.Fatalf("import without a name printed %q", dangling)
	}
	ok(t, own("import", "-m", "unused", env.tarball, "prune/unused:1")...)
	ok(t, own("import", "-m", "used", "--change", `CMD ["sh"]`, env.tarball, "prune/used:1")...)
	used := strings.TrimPrefix(strings.TrimSpace(ok(t, own("image", "inspect", "--format", "{{.Id}}", "prune/used:1")...)), "sha256:")
	ok(t, own("create", "prune/used:1", "true")...)
	// Without -f it asks; no keeps everything.
	if r := sbWith(t, cmdOpts{stdin: "n\n"}, own("image", "prune")...); r.code != 0 || sb(t, own("image", "exists", dangling)...).code != 0 {
		t.Fatalf("prune answered no: %s", r)
	}
	out := ok(t, own("image", "prune", "-f")...)
	if out != dangling+"\n" || sb(t, own("image", "exists", dangling)...).code == 0 {
		t.Errorf("prune -f printed %q and left the dangling image: want %s", out, dangling)
	}
	ok(t, own("image", "exists", "prune/unused:1")...)
	out = ok(t, own("image", "prune", "-a", "-f")...)
	if sb(t, own("image", "exists", "prune/unused:1")...).code == 0 || strings.Count(out, "\n") != 1 {
		t.Errorf("prune -a printed %q and left an image no container uses", out)
	}
	ok(t, own("image", "exists", "prune/used:1")...)
	if strings.Contains(out, used) {
		t.Errorf("prune -a printed the image in use: %q", out)
	}
	// rmi of the image in use is refused with podman's words and exit 2.
	r := fails(t, 2, []string{"image used by", "image is in use by a container"}, own("rmi", "prune/used:1")...)
	p := newReference(t)
	p.ok(t, "import", "--change", `CMD ["sh"]`, env.tarball, "prune/used:1")
	p.ok(t, "create", "prune/used:1", "true")
	pr := p.run("rmi", "prune/used:1")
	hex := regexp.MustCompile(`[0-9a-f]{64}`)
	if pr.code != r.code || hex.ReplaceAllString(pr.stderr, "ID") != hex.ReplaceAllString(r.stderr, "ID") {
		t.Errorf("podman: %s\nsandbox: %s", pr, r)
	}
}

// TestExportToTerminalRefused: export (and cp to -) never write a tar
// stream to a terminal, with podman's words; a pipe is fine (the round
// trip test).
func TestExportToTerminalRefused(t *testing.T) {
	t.Parallel()
	id := strings.TrimSpace(ok(t, "create", "busybox", "true"))
	t.Cleanup(func() { sbRaw(nil, "rm", "-f", id) })
	for _, args := range [][]string{{"export", id}, {"cp", id + ":/etc/passwd", "-"}} {
		_, slave := openPty(t)
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		cmd := command(ctx, nil, args...)
		var stderr bytes.Buffer
		cmd.Stdout, cmd.Stderr = slave, &stderr
		err := cmd.Run()
		cancel()
		var ee *exec.ExitError
		if !errors.As(err, &ee) || ee.ExitCode() != 125 || !strings.Contains(stderr.String(), "terminal") {
			t.Errorf("%v to a terminal: %v, %q", args, err, stderr.String())
		}
	}
}
