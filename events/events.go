// Package events keeps sandbox's record of what happened to containers and
// images: an append-only journal per run root, one JSON line per event, in
// the shape of podman's `events --format json`. The commands and the
// monitor write it; `sandbox events` reads, filters and follows it.
//
// It imports the standard library only: the monitor links it, and the
// monitor is on the hot path of every start. It must not import any other
// package of sandbox.
package events

import (
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"syscall"
	"time"
)

// Type is what an event is about.
type Type string

// The types of events recorded.
const (
	Container Type = "container"
	Image     Type = "image"
	Network   Type = "network"
)

// Status is what happened, in podman's words.
type Status string

// The statuses recorded.
const (
	Create  Status = "create"
	Init    Status = "init"
	Start   Status = "start"
	Attach  Status = "attach"
	Died    Status = "died"
	Cleanup Status = "cleanup"
	Restart Status = "restart"
	// Exec is a command run in a container; ExecDied its end, with its
	// exit code.
	Exec     Status = "exec"
	ExecDied Status = "exec_died"
	Stop     Status = "stop"
	Kill     Status = "kill"
	Pause    Status = "pause"
	Unpause  Status = "unpause"
	Remove   Status = "remove"
	Rename   Status = "rename"
	Pull     Status = "pull"
	Push     Status = "push"
	Tag      Status = "tag"
	Untag    Status = "untag"
	Import   Status = "import"
	Load     Status = "load"
	Save     Status = "save"
	// Connect and Disconnect are a container put on or taken off a
	// network (Type Network).
	Connect    Status = "connect"
	Disconnect Status = "disconnect"
)

// Event is one line of the journal. The field names and their order are
// podman's: scripts that read `podman events --format json` read these.
type Event struct {
	// ContainerExitCode is set on died (0 is left out, as podman does).
	ContainerExitCode int `json:"ContainerExitCode,omitempty"`
	// ID is the container's or image's full ID.
	ID string `json:"ID,omitempty"`
	// Image is a container's image as the user named it.
	Image string `json:"Image,omitempty"`
	// Name is the container's name, or the image's name the event is about.
	Name   string    `json:"Name,omitempty"`
	Status Status    `json:"Status"`
	Time   time.Time `json:"Time"`
	Type   Type      `json:"Type"`
	// Attributes are a container's labels (an empty map, not null, for a
	// container: podman's shape); nil for an image.
	Attributes map[string]string `json:"Attributes"`
	// Network is the network a container was connected to or
	// disconnected from (ID and Name are then the container's).
	Network string `json:"Network,omitempty"`
}

// String is the event in podman's default line:
// TIME TYPE STATUS ID (image=IMAGE, name=NAME, LABEL=VALUE...) for a
// container, TIME image STATUS ID NAME for an image.
func (e Event) String() string {
	t := e.Time.Format("2006-01-02 15:04:05.999999999 -0700 MST")
	if e.Type == Network && e.Network != "" {
		return fmt.Sprintf("%s %s %s %s (container=%s, name=%s)", t, e.Type, e.Status, e.ID, e.ID, e.Network)
	}
	if e.Type != Container {
		return fmt.Sprintf("%s %s %s %s %s", t, e.Type, e.Status, e.ID, e.Name)
	}
	attrs := []string{"image=" + e.Image, "name=" + e.Name}
	keys := make([]string, 0, len(e.Attributes))
	for k := range e.Attributes {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		attrs = append(attrs, k+"="+e.Attributes[k])
	}
	return fmt.Sprintf("%s %s %s %s (%s)", t, e.Type, e.Status, e.ID, strings.Join(attrs, ", "))
}

// MaxSize is the size past which a journal is rotated: the current file
// becomes PATH.1 (replacing the one before) and a new one begins.
const MaxSize = 1 << 20

// Journal is an events journal. The zero Journal (no path) records
// nothing: --events-backend=none.
type Journal struct {
	Path string
}

// DefaultPath is the journal of the run root runRoot.
func DefaultPath(runRoot string) string {
	return filepath.Join(runRoot, "sandbox-events", "events.log")
}

// Write appends e to the journal. Its time is now when unset. The line is
// written by one write(2) on a file opened O_APPEND, so lines of
// concurrent writers never interleave.
func (j Journal) Write(e Event) error {
	if j.Path == "" {
		return nil
	}
	if e.Time.IsZero() {
		e.Time = time.Now()
	}
	e.Time = e.Time.UTC()
	if e.Type == Container && e.Attributes == nil {
		e.Attributes = map[string]string{}
	}
	line, err := json.Marshal(e)
	if err != nil {
		return fmt.Errorf("event %s %s: %w", e.Type, e.Status, err)
	}
	line = append(line, '\n')
	f, err := j.open()
	if err != nil {
		return err
	}
	defer f.Close()
	if _, err := f.Write(line); err != nil {
		return fmt.Errorf("write event to %s: %w", j.Path, err)
	}
	return j.rotate(f)
}

func (j Journal) open() (*os.File, error) {
	const flags = os.O_WRONLY | os.O_APPEND | os.O_CREATE | syscall.O_CLOEXEC
	f, err := os.OpenFile(j.Path, flags, 0o600)
	if errors.Is(err, os.ErrNotExist) {
		if err := os.MkdirAll(filepath.Dir(j.Path), 0o700); err != nil {
			return nil, fmt.Errorf("events journal: %w", err)
		}
		f, err = os.OpenFile(j.Path, flags, 0o600)
	}
	if err != nil {
		return nil, fmt.Errorf("events journal: %w", err)
	}
	return f, nil
}

// rotate moves the journal aside once it is past MaxSize. Of writers that
// see it so at once, the one holding the file's lock does it, and only
// while the path still names the file it wrote to.
func (j Journal) rotate(f *os.File) error {
	fi, err := f.Stat()
	if err != nil || fi.Size() < MaxSize {
		return nil
	}
	if err := syscall.Flock(int(f.Fd()), syscall.LOCK_EX|syscall.LOCK_NB); err != nil {
		return nil // another writer is rotating it
	}
	// The lock goes with the descriptor, which Write closes.
	cur, err := os.Stat(j.Path)
	if err != nil || !os.SameFile(fi, cur) {
		return nil
	}
	if err := os.Rename(j.Path, j.Path+".1"); err != nil {
		return fmt.Errorf("rotate events journal: %w", err)
	}
	return nil
}
