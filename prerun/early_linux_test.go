package prerun

import (
	"strings"
	"testing"
)

// The hook's reading of a command line for the early monitor (early.c):
// started for run (and container run), for the run root --runroot names,
// unless the monitor's run directory or descriptors may differ; an early
// init asked for unless the init may have another shape. Unit tier: no
// privileges.
func TestEarlyPlan(t *testing.T) {
	for _, tc := range []struct {
		args             string
		early, earlyInit bool
		runRoot          string
	}{
		{"run busybox true", true, true, ""},
		{"run --rm --network none busybox true", true, true, ""},
		{"run --network=slirp4netns -p 8080:80 busybox", true, true, ""},
		{"--root /x --log-level debug run -d busybox", true, true, ""},
		{"container run busybox", true, true, ""},
		{"run -e X=1 -w /tmp busybox", true, true, ""},
		{"run -it busybox sh", true, false, ""},
		{"run --rm -t busybox", true, false, ""},
		{"run -d -i busybox", true, false, ""},
		{"run --tty=false busybox", true, false, ""},
		{"run --interactive busybox", true, false, ""},
		{"run --network host busybox", true, false, ""},
		{"run --net=host busybox", true, false, ""},
		{"run --network container:abc busybox", true, false, ""},
		{"run --userns=keep-id busybox", true, false, ""},
		{"run --uidmap 0:1:1 busybox", true, false, ""},
		{"run --pod p busybox", true, false, ""},
		// The run root given, clean and absolute, is the monitor's.
		{"--runroot /run/x run busybox", true, true, "/run/x"},
		{"--root /r --runroot=/x run -d busybox", true, true, "/x"},
		{"--runroot / run busybox", true, true, "/"},
		// The monitor's run directory or descriptors may differ.
		{"--runroot x run busybox", false, false, ""},
		{"--runroot /x/ run busybox", false, false, ""},
		{"--runroot /x//y run busybox", false, false, ""},
		{"--runroot /x/./y run busybox", false, false, ""},
		{"--runroot=/x/.. run busybox", false, false, ""},
		{"run --runroot /x busybox", false, false, ""},
		{"run --preserve-fds 2 busybox", false, false, ""},
		{"run --log-driver=passthrough busybox", false, false, ""},
		{"run --help", false, false, ""},
		{"run -h", false, false, ""},
		// Not run.
		{"ps -a", false, false, ""},
		{"create busybox", false, false, ""},
		{"container ls", false, false, ""},
		{"container", false, false, ""},
		{"--root run ps", false, false, ""},
		{"-- run busybox", false, false, ""},
		{"", false, false, ""},
	} {
		var args []string
		if tc.args != "" {
			args = strings.Fields(tc.args)
		}
		early, runRoot, earlyInit := earlyPlan(args)
		if !early {
			runRoot = ""
		}
		if early != tc.early || earlyInit != tc.earlyInit || runRoot != tc.runRoot {
			t.Errorf("sandbox %s: early monitor %t (run root %q), early init %t; want %t (%q), %t", tc.args, early, runRoot, earlyInit, tc.early, tc.runRoot, tc.earlyInit)
		}
	}
}
