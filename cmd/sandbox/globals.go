package main

import (
	"fmt"
	"os"
	"strings"
	"time"

	"sandbox/events"
	"sandbox/storage"

	"github.com/spf13/pflag"
)

// podmanGlobals are the global flags podman scripts pass that sandbox
// takes as podman does or accepts where they change nothing.
type podmanGlobals struct {
	// logLevel is --log-level: debug prints sandbox's notices.
	logLevel string
	// noout is --noout: nothing goes to standard output.
	noout bool
	// eventsBackend is --events-backend: file and journald keep sandbox's
	// own journal (package events); none records nothing.
	eventsBackend string
	// runtime and runtimeFlags are --runtime and --runtime-flag: sandbox
	// starts containers with its own init, so they change nothing.
	runtime      string
	runtimeFlags []string
}

// logLevels are the values of --log-level, podman's.
var logLevels = []string{"trace", "debug", "info", "warn", "warning", "error", "fatal", "panic"}

// eventsBackends are the values of --events-backend.
var eventsBackends = []string{"file", "journald", "none"}

func (p *podmanGlobals) addFlags(pf *pflag.FlagSet) {
	pf.StringVar(&p.logLevel, "log-level", "warn", "log messages at this level and above ("+strings.Join(logLevels, ", ")+")")
	pf.BoolVar(&p.noout, "noout", false, "do not print to standard output")
	pf.StringVar(&p.eventsBackend, "events-backend", "file", `where events are recorded: "file" or "journald" (sandbox's own journal either way) or "none"`)
	pf.StringVar(&p.runtime, "runtime", "", "accepted for podman's scripts: sandbox runs containers with its own init")
	pf.StringArrayVar(&p.runtimeFlags, "runtime-flag", nil, "accepted for podman's scripts: sandbox runs containers with its own init")
}

// checkGlobals checks the values of the podman global flags and returns
// the notices that --log-level=debug prints.
func checkGlobals(p podmanGlobals) (notices []string, err error) {
	if !contains(logLevels, p.logLevel) {
		return nil, fmt.Errorf("log level %q is not supported, choose from: %s", p.logLevel, strings.Join(logLevels, ", "))
	}
	if !contains(eventsBackends, p.eventsBackend) {
		return nil, fmt.Errorf("%q is not a valid events backend: choose from %s", p.eventsBackend, strings.Join(eventsBackends, ", "))
	}
	if p.debug() {
		if p.runtime != "" || len(p.runtimeFlags) > 0 {
			notices = append(notices, "--runtime and --runtime-flag change nothing: sandbox runs containers with its own init")
		}
	}
	return notices, nil
}

// debug reports whether --log-level asks for sandbox's notices.
func (p podmanGlobals) debug() bool { return p.logLevel == "debug" || p.logLevel == "trace" }

// turnNotice is the notice of a run that waited for its turn to start a
// container (prerun.StartSlotWait), "" when it did not wait.
func turnNotice(waited time.Duration, got bool) string {
	if waited < 0 {
		return ""
	}
	if !got {
		return fmt.Sprintf("waited %v for a turn to start a container (one start under way per CPU), then went on without one", waited)
	}
	return fmt.Sprintf("waited %v for a turn to start a container (one start under way per CPU)", waited)
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

// apply carries out the flags once checked: --log-level, when given, lets
// the storage and image libraries' log lines through at that level
// (storage.SetLibraryLog; without it sandbox's own lines say their errors);
// --noout sends standard output to /dev/null.
func (p *podmanGlobals) apply(logLevelSet bool) error {
	level := ""
	if logLevelSet {
		level = p.logLevel
	}
	if err := storage.SetLibraryLog(level); err != nil {
		return fmt.Errorf("--log-level: %w", err)
	}
	if !p.noout {
		return nil
	}
	null, err := os.OpenFile(os.DevNull, os.O_WRONLY, 0)
	if err != nil {
		return fmt.Errorf("--noout: %w", err)
	}
	os.Stdout = null
	return nil
}

// journal is the events journal of a run root, or none.
func (p *podmanGlobals) journal(runRoot string) events.Journal {
	if p.eventsBackend == "none" {
		return events.Journal{}
	}
	return events.Journal{Path: events.DefaultPath(runRoot)}
}
