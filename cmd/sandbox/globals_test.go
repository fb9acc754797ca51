package main

// Unit tests: no privileges needed.

import (
	"strings"
	"testing"
	"time"
)

func TestCheckGlobals(t *testing.T) {
	base := podmanGlobals{logLevel: "warn", eventsBackend: "file"}
	for _, tc := range []struct {
		name    string
		edit    func(*podmanGlobals)
		err     string
		notices int
	}{
		{"defaults", func(*podmanGlobals) {}, "", 0},
		{"every level", func(p *podmanGlobals) { p.logLevel = "panic" }, "", 0},
		{"bad level", func(p *podmanGlobals) { p.logLevel = "loud" }, `log level "loud" is not supported`, 0},
		{"journald", func(p *podmanGlobals) { p.eventsBackend = "journald" }, "", 0},
		{"none", func(p *podmanGlobals) { p.eventsBackend = "none" }, "", 0},
		{"bad backend", func(p *podmanGlobals) { p.eventsBackend = "syslog" }, "not a valid events backend", 0},
		{"runtime, quiet", func(p *podmanGlobals) { p.runtime = "crun" }, "", 0},
		{"runtime, debug", func(p *podmanGlobals) { p.runtime, p.logLevel = "crun", "debug" }, "", 1},
		{"runtime flag, debug", func(p *podmanGlobals) { p.runtimeFlags, p.logLevel = []string{"debug"}, "debug" }, "", 1},
	} {
		p := base
		tc.edit(&p)
		notices, err := checkGlobals(p)
		if tc.err != "" {
			if err == nil || !strings.Contains(err.Error(), tc.err) || strings.Contains(err.Error(), "\n") {
				t.Errorf("%s: error %v, want one line with %q", tc.name, err, tc.err)
			}
			continue
		}
		if err != nil || len(notices) != tc.notices {
			t.Errorf("%s: %q, %v; want %d notices", tc.name, notices, err, tc.notices)
		}
	}
	if p := (podmanGlobals{eventsBackend: "none"}); p.journal("/run").Path != "" {
		t.Error("--events-backend=none still records events")
	}
}

// The debug notice of a run that waited for its turn to start a
// container: none without a wait, the wait's length, and whether the run
// went on without a turn. Unit tier.
func TestTurnNotice(t *testing.T) {
	for _, tc := range []struct {
		waited time.Duration
		got    bool
		want   string
	}{
		{-1, true, ""},
		{-1, false, ""},
		{1500 * time.Millisecond, true, "waited 1.5s for a turn to start a container (one start under way per CPU)"},
		{5 * time.Second, false, "waited 5s for a turn to start a container (one start under way per CPU), then went on without one"},
		{0, true, "waited 0s for a turn to start a container (one start under way per CPU)"},
	} {
		if got := turnNotice(tc.waited, tc.got); got != tc.want {
			t.Errorf("turnNotice(%v, %v) = %q, want %q", tc.waited, tc.got, got, tc.want)
		}
	}
}
