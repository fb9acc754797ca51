package integration

import (
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"golang.org/x/sys/unix"
)

// holdLayers takes containers/storage's lock of the layers (a POSIX
// record lock, as the store takes it) until the returned function is
// called: a run started meanwhile is held before it makes its container,
// after its monitor and init have started.
func holdLayers(t *testing.T) (release func()) {
	t.Helper()
	locks, _ := filepath.Glob(filepath.Join(env.root, "*-layers", "layers.lock"))
	if len(locks) != 1 {
		t.Fatalf("the store's layer lock: found %q", locks)
	}
	f, err := os.OpenFile(locks[0], os.O_RDWR, 0)
	if err != nil {
		t.Fatal(err)
	}
	lk := unix.Flock_t{Type: unix.F_WRLCK, Whence: 0}
	if err := unix.FcntlFlock(f.Fd(), unix.F_SETLKW, &lk); err != nil {
		f.Close()
		t.Fatal(err)
	}
	var once bool
	release = func() {
		if !once {
			once = true
			f.Close() // closing drops the process's record locks
		}
	}
	t.Cleanup(release)
	return release
}

// mountOrder is what /proc/self/mountinfo lists, mount points only.
const mountOrder = `awk '{print "at " $5}' /proc/self/mountinfo`

// fileSystemChecks look at the standard file systems from inside a
// container; fileSystemsSeen is what they print there, masks aside.
const fileSystemChecks = `
	for d in null zero full random urandom tty; do [ -c /dev/$d ] && echo dev-$d; done
	ls -l /dev/ptmx /dev/fd
	echo shm-ok > /dev/shm/x && cat /dev/shm/x
	touch /sys/x 2>&1 || echo sys-ro
	echo 1 > /proc/sys/kernel/domainname 2>&1 || echo procsys-ro
	echo keys=$(wc -c < /proc/keys)
	echo firmware=$(ls /sys/firmware | wc -l)
`

var fileSystemsSeen = []string{"dev-null", "dev-zero", "dev-full", "dev-random", "dev-urandom", "dev-tty",
	"/dev/ptmx -> pts/ptmx", "/dev/fd -> /proc/self/fd", "shm-ok", "sys-ro", "procsys-ro"}

// While the init waits for the go-ahead it makes /proc, /dev and /sys
// with their masked and read-only paths on a thread of its own, and
// attaches them whole after it (nsinit/stage_linux.go). Holding the
// store's lock keeps the go-ahead back, so that the init surely waits.
// Attached trees list their mounts together in mountinfo: /proc's masks
// right after /proc, /dev/pts before /sys. Made one by one from the
// spec, /proc is followed by /dev, and the masks come last. The
// container must see the same file systems either way.
func TestStagedFileSystems(t *testing.T) {
	script := mountOrder + fileSystemChecks + `
		echo acpi=$(ls /proc/acpi | wc -l)
		grep -E ' /proc | /dev/shm | /sys | /dev/t ' /proc/mounts
	`
	hostACPI := 0
	if entries, err := os.ReadDir("/proc/acpi"); err == nil {
		hostACPI = len(entries)
	}
	for _, tt := range []struct {
		name string
		args []string
		// staged: the trees the order must show attached.
		staged []string
		want   []string
	}{
		{"default", nil, []string{"/proc", "/dev", "/sys"},
			[]string{"keys=0", "firmware=0", "acpi=0", "procsys-ro"}},
		// /proc/acpi not masked: /proc is made from the spec, the rest is
		// staged; /proc/keys stays masked.
		{"unmask", []string{"--security-opt", "unmask=/proc/acpi"}, []string{"/dev", "/sys"},
			[]string{"keys=0", "firmware=0", "procsys-ro"}},
		// A tmpfs of the user's under /dev lands on the staged /dev.
		{"tmpfs under /dev", []string{"--tmpfs", "/dev/t:size=1m"}, []string{"/proc", "/dev", "/sys"},
			[]string{"keys=0", "acpi=0", "tmpfs /dev/t tmpfs rw,nosuid,nodev,noexec,relatime,size=1024k"}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			release := holdLayers(t)
			done := make(chan result, 1)
			go func() {
				args := append([]string{"run", "--rm", "--network", "none"}, tt.args...)
				done <- sbRaw(nil, append(args, "busybox", "sh", "-c", script)...)
			}()
			time.Sleep(400 * time.Millisecond)
			release()
			r := <-done
			if r.code != 0 {
				t.Fatalf("%s", r)
			}
			out := r.stdout
			common := append([]string{"proc /proc proc rw,nosuid,nodev,noexec", "tmpfs /dev/shm tmpfs rw,nosuid,nodev,noexec,relatime,size=65536k",
				"sysfs /sys sysfs ro,nosuid,nodev,noexec"}, fileSystemsSeen...)
			for _, want := range append(common, tt.want...) {
				if !strings.Contains(out, want) {
					t.Errorf("missing %q in:\n%s", want, out)
				}
			}
			if tt.name == "unmask" && hostACPI > 0 && strings.Contains(out, "acpi=0\n") {
				t.Errorf("/proc/acpi masked although unmasked:\n%s", out)
			}
			var order []string
			for _, l := range strings.Split(out, "\n") {
				if at, ok := strings.CutPrefix(l, "at "); ok {
					order = append(order, at)
				}
			}
			after := func(p string) string {
				i := slices.Index(order, p)
				if i < 0 || i+1 >= len(order) {
					return ""
				}
				return order[i+1]
			}
			staged := map[string]bool{
				"/proc": strings.HasPrefix(after("/proc"), "/proc/"),
				"/dev":  slices.Index(order, "/dev/pts") < slices.Index(order, "/sys"),
				"/sys":  after("/sys") == "/sys/firmware",
			}
			// With --cgroup-manager systemd the monitor clones the init
			// only after the go-ahead, into the scope the command has
			// systemd make: there is no wait to stage in.
			wantStaged := tt.staged
			if os.Getenv("SANDBOX_TEST_CGROUP_MANAGER") == "systemd" {
				wantStaged = nil
			}
			for _, root := range []string{"/proc", "/dev", "/sys"} {
				if want := slices.Contains(wantStaged, root); staged[root] != want {
					t.Errorf("%s staged: %v, want %v; mounts in order: %q", root, staged[root], want, order)
				}
			}
		})
	}
}
