package main

import (
	"os"
	"testing"
	"time"
)

// TestMain lets the test binary take the bench's roles, since reap and
// startHogs start the running binary in them.
func TestMain(m *testing.M) {
	if len(os.Args) > 1 {
		switch os.Args[1] {
		case reaperRole:
			reaperMain(os.Args[2:])
		case hogRole:
			hogMain()
		}
	}
	os.Exit(m.Run())
}

func TestParseReaped(t *testing.T) {
	for _, tc := range []struct {
		in   string
		want reaped
		ok   bool
	}{
		{"1000000 2000000 3\n", reaped{wall: time.Millisecond, cpu: 2 * time.Millisecond, procs: 3}, true},
		{"5 0 1", reaped{wall: 5, procs: 1}, true},
		{"", reaped{}, false},
		{"1 2", reaped{}, false},
		{"1 2 3 4", reaped{}, false},
		{"1 -2 3", reaped{}, false},
		{"1 x 3", reaped{}, false},
	} {
		got, err := parseReaped(tc.in)
		if (err == nil) != tc.ok || got != tc.want {
			t.Errorf("parseReaped(%q) = %+v, %v; want %+v, ok %v", tc.in, got, err, tc.want, tc.ok)
		}
	}
}

// TestReap runs a shell that leaves a child behind in a session of its
// own, as a monitor is left: the reaper waits for it and counts its CPU.
func TestReap(t *testing.T) {
	r, err := reap([]string{"/bin/sh", "-c", "setsid sh -c 'i=0; while [ $i -lt 20000 ]; do i=$((i+1)); done' & exit 0"}, true)
	if err != nil {
		t.Fatal(err)
	}
	if r.procs < 2 {
		t.Errorf("reaped %d processes, want the shell and the orphan", r.procs)
	}
	if r.cpu <= 0 {
		t.Errorf("CPU time %v: the orphan's loop is not counted", r.cpu)
	}
}

// TestHogs starts the CPU hogs and stops them again.
func TestHogs(t *testing.T) {
	stop, err := startHogs()
	if err != nil {
		t.Fatal(err)
	}
	if err := stop(); err != nil {
		t.Fatal(err)
	}
}
