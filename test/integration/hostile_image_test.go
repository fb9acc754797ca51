package integration

// Images made as an attacker would make them: links that point out of
// the root filesystem, a fifo or a huge file where sandbox reads the
// image's /etc/passwd. Paths of the image mean what they would mean with
// its root as "/" (docker's rule), nothing outside the root is ever
// reached, and no command hangs.

import (
	"archive/tar"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"
)

// hostileEntry is a member that hostileImage adds to the busybox tree.
type hostileEntry struct {
	name     string // without a leading "/"
	typeflag byte   // tar.TypeSymlink, tar.TypeFifo, tar.TypeDir or tar.TypeReg
	target   string // a link's target
	data     string // a regular file's content
}

// hostileImage imports, as name, the busybox tree with entries added (an
// entry replaces busybox's member of the same name), with --change values.
func hostileImage(t *testing.T, name string, entries []hostileEntry, changes ...string) {
	t.Helper()
	in, err := os.Open(env.tarball)
	if err != nil {
		t.Fatal(err)
	}
	defer in.Close()
	file := filepath.Join(t.TempDir(), "image.tar")
	out, err := os.Create(file)
	if err != nil {
		t.Fatal(err)
	}
	defer out.Close()
	replaced := map[string]bool{}
	for _, e := range entries {
		replaced[e.name] = true
	}
	tr, tw := tar.NewReader(in), tar.NewWriter(out)
	for {
		h, err := tr.Next()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		if replaced[strings.TrimSuffix(strings.TrimPrefix(h.Name, "./"), "/")] {
			continue
		}
		if err := tw.WriteHeader(h); err != nil {
			t.Fatal(err)
		}
		if _, err := io.Copy(tw, tr); err != nil {
			t.Fatal(err)
		}
	}
	for _, e := range entries {
		h := &tar.Header{Name: "./" + e.name, Typeflag: e.typeflag, Linkname: e.target, Mode: 0o644, ModTime: time.Unix(0, 0)}
		switch e.typeflag {
		case tar.TypeDir:
			h.Mode = 0o755
		case tar.TypeReg:
			h.Size = int64(len(e.data))
		case tar.TypeSymlink:
			h.Mode = 0o777
		}
		if err := tw.WriteHeader(h); err != nil {
			t.Fatal(err)
		}
		if _, err := io.WriteString(tw, e.data); err != nil {
			t.Fatal(err)
		}
	}
	if err := tw.Close(); err != nil {
		t.Fatal(err)
	}
	args := []string{"import"}
	for _, c := range changes {
		args = append(args, "--change", c)
	}
	ok(t, append(args, file, name)...)
	t.Cleanup(func() { sbRaw(nil, "rmi", "-f", name) })
}

// mustStayEmpty fails the test if dir, a host directory that the image's
// links point at, was written.
func mustStayEmpty(t *testing.T, dir string) {
	t.Helper()
	entries, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	if len(entries) != 0 {
		var names []string
		for _, e := range entries {
			names = append(names, e.Name())
		}
		t.Errorf("a link of the image reached the host's %s: %v", dir, names)
	}
}

func TestHostileImageSymlinks(t *testing.T) {
	t.Parallel()
	// escape is where the links would lead on the host: it stays empty.
	// hostPasswd holds a user that only an escaping read would find.
	escape := t.TempDir()
	hostPasswd := filepath.Join(t.TempDir(), "passwd")
	if err := os.WriteFile(hostPasswd, []byte("hostonly:x:4242:4242:host only:/:/bin/sh\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	_, srvErr := os.Lstat("/srv/data")
	up := "../../../../../../../../.."
	hostileImage(t, "hostile/links:1", []hostileEntry{
		{name: "data", typeflag: tar.TypeSymlink, target: "/srv/data"},
		{name: "etc/resolv.conf", typeflag: tar.TypeSymlink, target: "../run/systemd/resolve/stub-resolv.conf"},
		{name: "etc/hosts", typeflag: tar.TypeSymlink, target: "/../../../.." + escape + "/hosts-target"},
		{name: "etc/hostname", typeflag: tar.TypeSymlink, target: up + escape + "/hostname-target"},
		{name: "etc/passwd", typeflag: tar.TypeSymlink, target: up + hostPasswd},
		{name: "wd", typeflag: tar.TypeSymlink, target: "../../../../tmp"},
		{name: "wdroot", typeflag: tar.TypeSymlink, target: "../../.."},
		{name: "out", typeflag: tar.TypeSymlink, target: up + escape},
	}, "WORKDIR /wdroot")

	t.Run("volume", func(t *testing.T) {
		t.Parallel()
		// docker follows /data -> /srv/data inside the root, and makes
		// /srv/data; so do -v, --mount and --tmpfs.
		host := t.TempDir()
		out := run(t, "-v", host+":/data", "hostile/links:1", "sh", "-c",
			`echo through-link > /data/f; readlink /data; awk '$5 == "/srv/data" {print "mounted", $5}' /proc/self/mountinfo`)
		if out != "/srv/data\nmounted /srv/data\n" {
			t.Errorf("-v on a link: got %q", out)
		}
		if data, err := os.ReadFile(filepath.Join(host, "f")); err != nil || string(data) != "through-link\n" {
			t.Errorf("write through the volume: %q %v", data, err)
		}
		host2 := t.TempDir()
		out = run(t, "--mount", "type=bind,source="+host2+",target=/data", "hostile/links:1", "sh", "-c", "echo m > /data/g; ls /srv/data")
		if out != "g\n" {
			t.Errorf("--mount on a link: %q", out)
		}
		if _, err := os.Stat(filepath.Join(host2, "g")); err != nil {
			t.Errorf("--mount: %v", err)
		}
		out = run(t, "--tmpfs", "/data", "hostile/links:1", "sh", "-c", `awk '$5 == "/srv/data" {print $5, $9}' /proc/self/mountinfo`)
		if out != "/srv/data tmpfs\n" {
			t.Errorf("--tmpfs on a link: %q", out)
		}
		// A volume through a link out of the root lands inside it.
		host3 := t.TempDir()
		out = run(t, "-v", host3+":/out/vol", "hostile/links:1", "sh", "-c", "echo v > /out/vol/h; cat "+escape+"/vol/h")
		if out != "v\n" {
			t.Errorf("-v through an escaping link: %q", out)
		}
	})

	t.Run("etc files", func(t *testing.T) {
		t.Parallel()
		// docker mounts on the link's target, inside the root, making the
		// missing directories and file.
		out := run(t, "--hostname", "hostilebox", "hostile/links:1", "sh", "-c", `
			cat /run/systemd/resolve/stub-resolv.conf; echo ---
			cat /etc/resolv.conf; echo ---
			cat `+escape+`/hosts-target; echo ---
			cat `+escape+`/hostname-target`)
		parts := strings.Split(out, "---\n")
		if len(parts) != 4 || !strings.Contains(parts[0], "nameserver") || parts[0] != parts[1] {
			t.Errorf("resolv.conf not mounted on the link's target inside the root:\n%s", out)
		}
		if len(parts) == 4 && (!strings.Contains(parts[2], "localhost") || parts[3] != "hostilebox\n") {
			t.Errorf("hosts or hostname not mounted on the link's target inside the root:\n%s", out)
		}
	})

	t.Run("workdir", func(t *testing.T) {
		t.Parallel()
		mark := fmt.Sprintf("hostile-wd-%d", time.Now().UnixNano())
		out := run(t, "-w", "/wd", "hostile/links:1", "sh", "-c", "pwd -P; touch "+mark+"; ls /tmp/"+mark)
		if out != "/tmp\n/tmp/"+mark+"\n" {
			t.Errorf("-w /wd (-> ../../../../tmp): %q", out)
		}
		if _, err := os.Lstat(filepath.Join("/tmp", mark)); err == nil {
			t.Errorf("the working directory was the host's /tmp")
		}
		// The image's WorkingDir, a link to ../../.., is the root.
		if out := run(t, "hostile/links:1", "sh", "-c", "pwd -P; ls -d bin"); out != "/\nbin\n" {
			t.Errorf("WORKDIR /wdroot (-> ../../..): %q", out)
		}
	})

	t.Run("passwd", func(t *testing.T) {
		t.Parallel()
		// The link names, inside the root, a file that is not there: no
		// such user, as docker says.
		fails(t, 125, []string{"unable to find user hostonly"}, "run", "--rm", "-u", "hostonly", "hostile/links:1", "true")
		id := bgContainer(t, "hostile/links:1", "sleep", "60")
		fails(t, 125, []string{"unable to find user hostonly"}, "exec", "-u", "hostonly", id, "true")
		if rows := topRows(t, id); len(rows) != 2 || rows[1][0] != "0" {
			t.Errorf("top with an escaping passwd link: %q", rows)
		}
		// The literal escape "../../../../../etc/passwd" is, inside the
		// root, the link itself: a loop, an error, never the host's file
		// (which names sbxnosub).
		hostileImage(t, "hostile/passwdloop:1", []hostileEntry{
			{name: "etc/passwd", typeflag: tar.TypeSymlink, target: "../../../../../etc/passwd"},
		})
		r := fails(t, 125, []string{"/etc/passwd"}, "run", "--rm", "-u", "sbxnosub", "hostile/passwdloop:1", "id")
		if strings.Contains(r.stdout, "sbxnosub") {
			t.Errorf("the host's /etc/passwd was read: %s", r)
		}
	})

	t.Cleanup(func() {
		mustStayEmpty(t, escape)
		if _, err := os.Lstat("/srv/data"); srvErr != nil && err == nil {
			t.Error("the host's /srv/data was made")
		}
	})
}

// timedTop runs top on the container and returns its rows and the most
// memory the command used.
func timedTop(t *testing.T, id string) (rows [][]string, maxRSS int64) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	cmd := command(ctx, nil, "top", id)
	var stderr strings.Builder
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if ctx.Err() != nil {
		t.Fatalf("top did not return within 20s")
	}
	if err != nil {
		t.Fatalf("top: %v: %s", err, stderr.String())
	}
	for _, line := range strings.Split(strings.TrimSuffix(string(out), "\n"), "\n") {
		rows = append(rows, strings.Fields(line))
	}
	ru, isRusage := cmd.ProcessState.SysUsage().(*syscall.Rusage)
	if !isRusage {
		t.Fatal("top: no resource usage")
	}
	return rows, ru.Maxrss << 10
}

func TestPasswdFifoNoHang(t *testing.T) {
	t.Parallel()
	quick := cmdOpts{timeout: 20 * time.Second}
	hostileImage(t, "hostile/fifo:1", []hostileEntry{{name: "etc/passwd", typeflag: tar.TypeFifo}})
	r := sbWith(t, quick, "run", "--rm", "-u", "nobody", "hostile/fifo:1", "true")
	if r.code != 125 || !strings.Contains(r.stderr, "/etc/passwd") || !strings.Contains(r.stderr, "not a regular file") {
		t.Errorf("run -u with a fifo passwd: want exit 125 naming /etc/passwd, not a regular file\n%s", r)
	}

	// A running container replaces its passwd with a fifo: exec -u and top
	// must not block on it.
	id := bgContainer(t, "busybox", "sleep", "300")
	ok(t, "exec", id, "sh", "-c", "rm /etc/passwd && mkfifo /etc/passwd")
	r = sbWith(t, quick, "exec", "-u", "nobody", id, "true")
	if r.code != 125 || !strings.Contains(r.stderr, "/etc/passwd") || !strings.Contains(r.stderr, "not a regular file") {
		t.Errorf("exec -u with a fifo passwd: want exit 125 naming /etc/passwd, not a regular file\n%s", r)
	}
	if rows, _ := timedTop(t, id); len(rows) != 2 || rows[1][0] != "0" {
		t.Errorf("top with a fifo passwd: want one process shown as uid 0: %q", rows)
	}

	// Then a 1 GiB sparse passwd: top shows ids without reading it, exec -u
	// refuses it, naming the cap.
	ok(t, "exec", id, "sh", "-c", "rm /etc/passwd && truncate -s 1G /etc/passwd")
	rows, rss := timedTop(t, id)
	if len(rows) != 2 || rows[1][0] != "0" {
		t.Errorf("top with a huge passwd: want one process shown as uid 0: %q", rows)
	}
	if rss > 256<<20 {
		t.Errorf("top with a 1 GiB passwd used %d MiB", rss>>20)
	}
	r = sbWith(t, quick, "exec", "-u", "nobody", id, "true")
	if r.code != 125 || !strings.Contains(r.stderr, "/etc/passwd") || !strings.Contains(r.stderr, "4 MiB") {
		t.Errorf("exec -u with a huge passwd: want exit 125 naming /etc/passwd and the 4 MiB cap\n%s", r)
	}
	// Just under the cap is read whole: 40,000 lines of 100 bytes, then
	// the user.
	ok(t, "exec", id, "sh", "-c", `awk 'BEGIN { for (i = 0; i < 40000; i++) printf "#%098d\n", i; print "nobody:x:65534:65534:nobody:/home:/bin/false" }' > /etc/passwd`)
	if out := ok(t, "exec", "-u", "nobody", id, "id", "-u"); out != "65534\n" {
		t.Errorf("exec -u with a passwd under the cap: %q", out)
	}
}
