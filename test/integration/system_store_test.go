// Rootless integration tests (privilege tier: unprivileged user) of
// system check, df, prune and reset, each on a store of its own so that
// reset takes nothing from the other tests.

package integration

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// storeCmd runs sandbox commands against one store of a test's own
// (ownStore), so that reset takes nothing from the other tests.
type storeCmd struct {
	args []string // the global flags that select the store
	root string
}

func newStoreCmd(t *testing.T) storeCmd {
	t.Helper()
	args := ownStore(t)
	return storeCmd{args: args, root: args[1]}
}

func (s storeCmd) runroot() string { return s.args[3] }

func (s storeCmd) sb(t *testing.T, args ...string) result {
	t.Helper()
	return sb(t, append(append([]string{}, s.args...), args...)...)
}

func (s storeCmd) ok(t *testing.T, args ...string) string {
	t.Helper()
	r := s.sb(t, args...)
	if r.code != 0 {
		t.Fatalf("%s", r)
	}
	return r.stdout
}

// mounts lists the mounts under the store in the keeper's namespace.
func (s storeCmd) mounts(t *testing.T) []string {
	t.Helper()
	var ms []string
	for _, line := range strings.Split(s.ok(t, "unshare", "cat", "/proc/self/mountinfo"), "\n") {
		f := strings.Fields(line)
		if len(f) > 4 && strings.HasPrefix(f[4], s.root+"/") && f[4] != filepath.Join(s.root, "overlay") {
			ms = append(ms, f[4])
		}
	}
	return ms
}

func TestSystemCheckRepair(t *testing.T) {
	t.Parallel()
	s := newStoreCmd(t)
	s.ok(t, "create", "--name", "made", "busybox", "true")
	s.ok(t, "run", "-d", "--name", "up", "busybox", "sleep", "1000")
	broken := strings.TrimSpace(s.ok(t, "create", "--name", "broken", "busybox", "true"))
	if r := s.sb(t, "system", "check"); r.code != 0 || strings.TrimSpace(r.stdout) != "no problems found" {
		t.Fatalf("a sound store:\n%s", r)
	}
	// Three faults: a container's configuration garbage, a mount under
	// the store that no container owns (what a killed probe leaves), a
	// run directory of no container.
	cfg := filepath.Join(s.root, "overlay-containers", broken, "userdata", "config.json")
	s.ok(t, "unshare", "sh", "-c", "echo '{garbage' >"+cfg)
	// The probe containers/storage mounts to learn whether overlay takes
	// "volatile", as a command killed between its mount and unmount
	// leaves it, once the probe's answer is recorded (by this run --rm):
	// before that, the next command removes such a probe itself.
	s.ok(t, "run", "--rm", "busybox", "true")
	td := filepath.Join(s.root, "overlay", "volatile-check1234")
	probe := filepath.Join(td, "merged")
	s.ok(t, "unshare", "sh", "-c", "mkdir -p "+td+"/lower "+td+"/upper "+td+"/work "+probe+
		" && mount -t overlay -o volatile,userxattr,lowerdir="+td+"/lower,upperdir="+td+"/upper,workdir="+td+"/work overlay "+probe)
	// Ordinary commands are not bothered by it.
	s.ok(t, "run", "--rm", "busybox", "true")
	orphan := filepath.Join(s.runroot(), "sandbox-containers", strings.Repeat("e", 64))
	if err := os.MkdirAll(orphan, 0o700); err != nil {
		t.Fatal(err)
	}

	r := s.sb(t, "system", "check")
	if r.code != 1 {
		t.Fatalf("want exit 1 with problems\n%s", r)
	}
	for _, want := range []string{"container " + broken[:12] + ": its configuration", "mount " + probe + ": mounted, and no container owns it", "run-directory " + orphan} {
		if !strings.Contains(r.stdout, want) {
			t.Errorf("check does not report %q:\n%s", want, r.stdout)
		}
	}
	// ps still lists every container, the broken one too.
	if ps := s.ok(t, "ps", "-a", "--format", "{{.Names}}"); !strings.Contains(ps, "broken") || !strings.Contains(ps, "made") || !strings.Contains(ps, "up") {
		t.Errorf("ps -a with a broken container:\n%s", ps)
	}
	// --repair fixes the leftovers, and leaves the damaged container
	// (its data) to -f.
	r = s.sb(t, "system", "check", "--repair")
	if r.code != 1 || !strings.Contains(r.stdout, "mount "+probe+": mounted, and no container owns it (repaired)") ||
		!strings.Contains(r.stdout, "(--repair -f removes it)") {
		t.Fatalf("check --repair:\n%s", r)
	}
	for _, m := range s.mounts(t) {
		if m == probe {
			t.Errorf("the probe mount stayed after --repair")
		}
	}
	if r := s.sb(t, "unshare", "test", "-e", td); r.code == 0 {
		t.Errorf("the probe's directory %s stayed after --repair", td)
	}
	if _, err := os.Stat(orphan); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("orphan run directory after --repair: %v", err)
	}
	r = s.sb(t, "system", "check", "--repair", "-f")
	if r.code != 0 || !strings.Contains(r.stdout, "container "+broken[:12]+": its configuration (config.json) is missing or unreadable (repaired)") {
		t.Fatalf("check --repair -f:\n%s", r)
	}
	if r := s.sb(t, "system", "check"); r.code != 0 {
		t.Fatalf("after the repair:\n%s", r)
	}
	// The others are untouched.
	s.ok(t, "exec", "up", "true")
	if ps := s.ok(t, "ps", "-a", "--format", "{{.Names}} {{.State}}"); strings.Contains(ps, "broken") || !strings.Contains(ps, "up running") || !strings.Contains(ps, "made created") {
		t.Errorf("ps -a after the repair:\n%s", ps)
	}
	s.ok(t, "rm", "-f", "up", "made")
	if ms := s.mounts(t); len(ms) > 0 {
		t.Errorf("mounts left: %v", ms)
	}
}

func TestSystemDFPruneReset(t *testing.T) {
	t.Parallel()
	s := newStoreCmd(t)
	s.ok(t, "run", "--name", "wrote", "busybox", "dd", "if=/dev/zero", "of=/big", "bs=1024", "count=1024")
	s.ok(t, "run", "-d", "--name", "up", "-v", "kept:/k", "busybox", "sleep", "1000")
	// A volume no container uses, with 100 KiB in it, and a network.
	s.ok(t, "run", "--rm", "-v", "spare:/s", "busybox", "dd", "if=/dev/zero", "of=/s/f", "bs=1024", "count=100")
	s.ok(t, "network", "create", "spare-net")
	df := s.ok(t, "system", "df", "--format", "{{.Type}} {{.TotalCount}} {{.Active}} {{.RawSize}} {{.RawReclaimable}}")
	lines := strings.Split(strings.TrimSpace(df), "\n")
	if len(lines) != 4 {
		t.Fatalf("system df: %q", df)
	}
	var typ string
	var total, active int
	var size, reclaim int64
	for _, l := range lines {
		l = strings.Replace(l, "Local Volumes", "Local-Volumes", 1)
		l = strings.Replace(l, "Build Cache", "Build-Cache", 1)
		if _, err := fmt.Sscan(l, &typ, &total, &active, &size, &reclaim); err != nil {
			t.Fatalf("system df line %q: %v", l, err)
		}
		switch typ {
		case "Images":
			if total != 1 || active != 1 || size < 1<<20 || reclaim != 0 {
				t.Errorf("images: %q", l)
			}
		case "Containers":
			// The exited container wrote 1 MiB: that is what prune frees.
			if total != 2 || active != 1 || reclaim < 1<<20 || size < reclaim {
				t.Errorf("containers: %q", l)
			}
		case "Local-Volumes":
			if total != 2 || active != 1 || reclaim < 100<<10 || size < reclaim {
				t.Errorf("volumes: %q", l)
			}
		case "Build-Cache":
			if total != 0 || size != 0 {
				t.Errorf("build cache: %q", l)
			}
		default:
			t.Errorf("system df row %q", l)
		}
	}
	if v := s.ok(t, "system", "df", "-v"); !strings.Contains(v, "wrote") || !strings.Contains(v, "docker.io/library/busybox:latest") {
		t.Errorf("system df -v:\n%s", v)
	}
	if r := s.sb(t, "system", "prune"); r.code != 125 || !strings.Contains(r.stderr, "-f") {
		t.Errorf("prune without a terminal or -f:\n%s", r)
	}
	out := s.ok(t, "system", "prune", "-f")
	if !strings.Contains(out, "Deleted Containers") || strings.Contains(out, "Deleted Images") || !strings.Contains(out, "Total reclaimed space:") {
		t.Errorf("system prune -f:\n%s", out)
	}
	// Networks without containers go; volumes only with --volumes.
	if nets := s.ok(t, "network", "ls", "-q", "--filter", "name=spare-net"); strings.TrimSpace(nets) != "" || !strings.Contains(out, "spare-net") {
		t.Errorf("system prune -f left the network: %q\n%s", nets, out)
	}
	if vols := s.ok(t, "volume", "ls", "-q"); strings.Join(strings.Fields(vols), " ") != "kept spare" {
		t.Errorf("volumes after prune without --volumes: %q", vols)
	}
	if ps := s.ok(t, "ps", "-a", "--format", "{{.Names}}"); strings.TrimSpace(ps) != "up" {
		t.Errorf("after prune: %q", ps)
	}
	s.ok(t, "stop", "-t", "0", "up")
	out = s.ok(t, "system", "prune", "-a", "-f", "--volumes")
	if !strings.Contains(out, "Deleted Images") || !strings.Contains(out, "spare") {
		t.Errorf("system prune -a -f --volumes:\n%s", out)
	}
	if vols := s.ok(t, "volume", "ls", "-q"); strings.TrimSpace(vols) != "" {
		t.Errorf("volumes after prune --volumes: %q", vols)
	}
	if imgs := s.ok(t, "images", "-q"); strings.TrimSpace(imgs) != "" {
		t.Errorf("images after prune -a: %q", imgs)
	}
	if r := s.sb(t, "system", "check"); r.code != 0 {
		t.Errorf("check after prune:\n%s", r)
	}

	s.ok(t, "import", env.tarball, "busybox")
	s.ok(t, "run", "-d", "--name", "again", "-v", "again:/a", "busybox", "sleep", "1000")
	s.ok(t, "network", "create", "again-net")
	s.ok(t, "system", "reset", "-f")
	for _, dir := range []string{s.root, s.runroot()} {
		if _, err := os.Stat(dir); !errors.Is(err, os.ErrNotExist) {
			t.Errorf("%s after reset: %v", dir, err)
		}
	}
	if ms := s.mounts(t); len(ms) > 0 {
		t.Errorf("mounts left after reset: %v", ms)
	}
	if ps := s.ok(t, "ps", "-aq"); strings.TrimSpace(ps) != "" {
		t.Errorf("containers after reset: %q", ps)
	}
	if imgs := s.ok(t, "images", "-q"); strings.TrimSpace(imgs) != "" {
		t.Errorf("images after reset: %q", imgs)
	}
	if vols := s.ok(t, "volume", "ls", "-q"); strings.TrimSpace(vols) != "" {
		t.Errorf("volumes after reset: %q", vols)
	}
	if nets := s.ok(t, "network", "ls", "-q"); strings.TrimSpace(nets) != "" {
		t.Errorf("networks after reset: %q", nets)
	}
}
