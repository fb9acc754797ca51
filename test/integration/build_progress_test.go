package integration

// Rootless integration tests of build's output on a terminal (the
// compact view) and of the build steps' images: listed by images -a,
// kept by image prune while an image is built on them, removed once
// nothing is.

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"sort"
	"strings"
	"testing"
	"time"

	"golang.org/x/sys/unix"
)

// shownLines is what a terminal shows of out: each line as its last
// carriage return left it.
func shownLines(out string) []string {
	var shown []string
	for _, l := range strings.Split(out, "\n") {
		l = strings.TrimRight(l, "\r")
		parts := strings.Split(l, "\r")
		shown = append(shown, strings.TrimPrefix(parts[len(parts)-1], "\x1b[K"))
	}
	return shown
}

// buildOnTerminal runs build with its standard streams on a new
// pseudo-terminal, 160 columns wide.
func buildOnTerminal(t *testing.T, args ...string) (string, int) {
	t.Helper()
	master, slave := openPty(t)
	if err := unix.IoctlSetWinsize(int(slave.Fd()), unix.TIOCSWINSZ, &unix.Winsize{Row: 40, Col: 160}); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	out, err := onTerminal(t, command(ctx, nil, append([]string{"build"}, args...)...), master, slave, 0, "")
	var ee *exec.ExitError
	switch {
	case err == nil:
		return out, 0
	case errors.As(err, &ee):
		return out, ee.ExitCode()
	}
	t.Fatalf("build on a terminal: %v", err)
	return "", 0
}

func TestBuildCompactView(t *testing.T) {
	t.Parallel()
	word := fmt.Sprintf("compact-%d", time.Now().UnixNano())
	dir := writeContext(t, map[string]string{
		"Dockerfile": "FROM busybox\nRUN echo first-" + word + " && echo last-" + word + " > /dev/stderr\nCMD [\"sh\"]\n",
	})
	step := regexp.QuoteMeta("STEP 2/3: RUN echo first-" + word)
	for i, want := range []string{`\(\d+\.\ds\)`, `\(cached\)`} {
		out, code := buildOnTerminal(t, dir)
		shown := shownLines(out)
		if code != 0 {
			t.Fatalf("build %d on a terminal: exit %d\n%s", i+1, code, strings.Join(shown, "\n"))
		}
		all := strings.Join(shown, "\n")
		// Each finished step is one line, with its duration or cached.
		if !regexp.MustCompile(`(?m)^` + step + `.* ` + want + `$`).MatchString(all) {
			t.Errorf("build %d: no finished RUN line ending in %s:\n%s", i+1, want, all)
		}
		if !regexp.MustCompile(`(?m)^STEP 1/3: FROM busybox \(`).MatchString(all) {
			t.Errorf("build %d: no finished FROM line:\n%s", i+1, all)
		}
		// None of the plain view's lines.
		for _, l := range shown {
			if strings.HasPrefix(l, "--> Using cache") || strings.HasSuffix(l, "-"+word) || regexp.MustCompile(`^STEP \d/3: [^(]*$`).MatchString(l) {
				t.Errorf("build %d on a terminal printed the plain line %q", i+1, l)
			}
		}
		if i == 0 {
			// While the RUN ran, its line carried its last line of output.
			if !regexp.MustCompile(step + `.* \| last-` + word).MatchString(out) {
				t.Errorf("the RUN's line never showed its last output line:\n%q", out)
			}
		}
	}
	// --progress=plain: the plain lines, on a terminal too.
	out, code := buildOnTerminal(t, "--progress=plain", dir)
	shown := strings.Join(shownLines(out), "\n")
	if code != 0 || !strings.Contains(shown, "\n--> Using cache ") || !regexp.MustCompile(`(?m)^`+step+`.*$`).MatchString(shown) {
		t.Errorf("--progress=plain on a terminal: exit %d\n%s", code, shown)
	}
	// A failed RUN: the step marked, its last lines of output shown.
	bad := writeContext(t, map[string]string{
		"Dockerfile": "FROM busybox\nRUN echo one-" + word + "; echo two-" + word + "; exit 4\n",
	})
	out, code = buildOnTerminal(t, bad)
	shown = strings.Join(shownLines(out), "\n")
	if code != 4 || !strings.Contains(shown, "(ERROR)\n  | one-"+word+"\n  | two-"+word+"\n") {
		t.Errorf("failed RUN on a terminal: exit %d (want 4)\n%s", code, shown)
	}
}

func TestBuildIntermediateImages(t *testing.T) {
	t.Parallel()
	// A store of its own: prune must not touch the other tests' images.
	root, err := os.MkdirTemp(filepath.Dir(env.root), "inter-root-")
	if err != nil {
		t.Fatal(err)
	}
	runroot, err := os.MkdirTemp(os.Getenv("XDG_RUNTIME_DIR"), "inter-run-")
	if err != nil {
		t.Fatal(err)
	}
	own := func(args ...string) []string { return append([]string{"--root", root, "--runroot", runroot}, args...) }
	t.Cleanup(func() {
		sbRaw(nil, own("rm", "-a", "-f")...)
		rm := `umount "$1/overlay" 2>/dev/null; rm -rf "$1"`
		if r := sbRaw(nil, own("unshare", "sh", "-c", rm, "sh", root)...); r.code != 0 {
			t.Errorf("cleanup: %s", r)
		}
		os.RemoveAll(runroot)
	})
	ok(t, own("import", "--change", `CMD ["sh"]`, env.tarball, "busybox")...)
	ids := func(args ...string) []string {
		t.Helper()
		l := strings.Fields(ok(t, own(append([]string{"images", "-q", "--no-trunc"}, args...)...)...))
		sort.Strings(l)
		return l
	}
	minus := func(a, b []string) []string {
		var out []string
		for _, x := range a {
			if !strings.Contains(strings.Join(b, " "), x) {
				out = append(out, x)
			}
		}
		return out
	}
	build := func(code int, dir string, args ...string) string {
		t.Helper()
		r := sbWith(t, cmdOpts{timeout: 2 * time.Minute}, own(append(append([]string{"build"}, args...), dir)...)...)
		if r.code != code {
			t.Fatalf("want exit %d\n%s", code, r)
		}
		return r.stdout
	}
	keep := writeContext(t, map[string]string{"Dockerfile": "FROM busybox\nRUN echo a > /a\nRUN echo b > /b\nCMD [\"cat\", \"/a\", \"/b\"]\n"})
	build(0, keep, "-t", "it/keep")
	base := ids()
	steps := minus(ids("-a"), base)
	// images -a lists the two RUN steps' images as <none> rows, as docker
	// and podman do; images does not.
	if len(base) != 2 || len(steps) != 2 {
		t.Fatalf("images: %v, images -a adds %v: want 2 and 2", base, steps)
	}
	if rows := ok(t, own("images", "-a", "--format", "{{.Repository}}:{{.Tag}}")...); strings.Count(rows, "<none>:<none>\n") != 2 {
		t.Errorf("images -a: want 2 <none> rows:\n%s", rows)
	}
	// A failed build leaves its finished step's image: cache that
	// nothing is built on.
	build(3, writeContext(t, map[string]string{"Dockerfile": "FROM busybox\nRUN echo c > /c\nRUN exit 3\n"}))
	orphan := minus(ids("-a"), append(base, steps...))
	if len(orphan) != 1 {
		t.Fatalf("the failed build left %v, want one step image", orphan)
	}
	// prune removes it, and only it: it/keep's steps are what it/keep is
	// built on.
	if out := ok(t, own("image", "prune", "-f")...); out != strings.TrimPrefix(orphan[0], "sha256:")+"\n" {
		t.Errorf("image prune -f printed %q, want %s", out, orphan[0])
	}
	if got := ids("-a"); len(got) != 4 || len(minus(got, append(base, steps...))) != 0 {
		t.Errorf("after prune, images -a: %v, want %v and %v", got, base, steps)
	}
	if got := ok(t, own("run", "--rm", "it/keep")...); got != "a\nb\n" {
		t.Errorf("it/keep after prune: %q", got)
	}
	// The steps kept are the cache of a rebuild.
	if out := build(0, keep, "-t", "it/keep"); strings.Count(out, "--> Using cache ") != 2 {
		t.Errorf("rebuild after prune used the cache %d times, want 2:\n%s", strings.Count(out, "--> Using cache "), out)
	}
	// Once it/keep is gone nothing is built on them: prune removes them.
	ok(t, own("rmi", "it/keep")...)
	out := ok(t, own("image", "prune", "-f")...)
	if got := ids("-a"); len(got) != 1 || strings.Count(out, "\n") != 2 {
		t.Errorf("after rmi it/keep, prune printed %q and left %v: want only busybox", out, got)
	}
}
