package spec

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strconv"
	"time"
)

// A running container can be found from the run root alone, without the
// store: what exec's short way needs (cmd/sandbox-exec). The engine keeps
// three symbolic links, each a hint that the reader checks:
//
//	RUNDIRS/.names/NAME -> ID        the container named NAME
//	RUNDIRS/ID/name     -> NAME      the name ID was last linked under
//	RUNDIRS/ID/config   -> PATH      its config.json in the store
//
// A link may be stale (a command killed between its change and the
// link's, a container renamed or removed meanwhile): FindRunning trusts
// none of them, and a reader that gets ErrNotFound asks the store.

// NamesDir is the directory of the name links under the run directories'
// directory (RUNDIRS).
const NamesDir = ".names"

// Link names in a container's run directory.
const (
	NameLink   = "name"
	ConfigLink = "config"
)

// ErrNotFound is FindRunning's answer when the links do not lead to a
// running container of that name or id: the store knows better.
var ErrNotFound = errors.New("not found from the run root")

// LinkContainer links container id under name and to its configuration
// (configPath, absolute) in the run directories' directory runDirs; id's
// run directory must exist. A link replaced is replaced in one rename.
func LinkContainer(runDirs, id, name, configPath string) error {
	dir := filepath.Join(runDirs, id)
	if err := replaceLink(configPath, filepath.Join(dir, ConfigLink)); err != nil {
		return err
	}
	return LinkName(runDirs, id, name)
}

// LinkName links container id under name, and records name in its run
// directory; an earlier name of id is unlinked.
func LinkName(runDirs, id, name string) error {
	if !validLinkName(name) {
		return nil // not a file name: the store finds it
	}
	dir := filepath.Join(runDirs, id)
	old, _ := os.Readlink(filepath.Join(dir, NameLink))
	names := filepath.Join(runDirs, NamesDir)
	if err := os.MkdirAll(names, 0o700); err != nil {
		return fmt.Errorf("container name links: %w", err)
	}
	if err := replaceLink(id, filepath.Join(names, name)); err != nil {
		return err
	}
	if err := replaceLink(name, filepath.Join(dir, NameLink)); err != nil {
		return err
	}
	if old != "" && old != name {
		return UnlinkName(runDirs, id, old)
	}
	return nil
}

// UnlinkName removes the link of name if it still leads to id; the
// container's run directory goes with the container.
func UnlinkName(runDirs, id, name string) error {
	if name == "" || !validLinkName(name) {
		return nil
	}
	link := filepath.Join(runDirs, NamesDir, name)
	if target, err := os.Readlink(link); err != nil || target != id {
		return nil
	}
	if err := os.Remove(link); err != nil && !errors.Is(err, fs.ErrNotExist) {
		return fmt.Errorf("container name link: %w", err)
	}
	return nil
}

// UnlinkContainer removes the name link of the container whose run
// directory is runDir, before that directory goes.
func UnlinkContainer(runDir string) error {
	name, err := os.Readlink(filepath.Join(runDir, NameLink))
	if err != nil {
		return nil
	}
	return UnlinkName(filepath.Dir(runDir), filepath.Base(runDir), name)
}

// Running is a running container as FindRunning found it.
type Running struct {
	State *State
	// Name is its name now: a rename changes the store's names and the
	// links, not Config.Name.
	Name string
	// RunDir is its run directory; ConfigPath its config.json.
	RunDir, ConfigPath string
}

// FindRunning finds the running container that ref names, by its name or
// its whole id, from the links under runDirs; alive says whether a pid
// with its start time is still that process. Every link is checked: the
// run directory's name link must give the name back (a rename changes the
// store's names, not the configuration's), the configuration must carry
// the id found, the state be a running one of a live process. Any other case is ErrNotFound (a prefix of an
// id, a paused or stopped container, a container being removed, a
// container made before the links were): the caller asks the store, which
// also says why.
//
// The configuration is decoded into cfg: a *Config, or an *ExecConfig for
// a caller that needs only what an exec does (decoding the rest costs
// more than finding the container).
func FindRunning(runDirs, ref string, alive func(pid int, start uint64) bool, cfg Identified) (*Running, error) {
	if !validLinkName(ref) {
		return nil, ErrNotFound
	}
	id := ref
	if !isFullID(ref) {
		target, err := os.Readlink(filepath.Join(runDirs, NamesDir, ref))
		if err != nil || !isFullID(target) {
			return nil, ErrNotFound
		}
		id = target
	}
	dir := filepath.Join(runDirs, id)
	// The name the container was last linked under: a link left by a
	// rename leads to a container of another name now.
	name, err := os.Readlink(filepath.Join(dir, NameLink))
	if err != nil || ref != id && name != ref {
		return nil, ErrNotFound
	}
	configPath, err := os.Readlink(filepath.Join(dir, ConfigLink))
	if err != nil || !filepath.IsAbs(configPath) {
		return nil, ErrNotFound
	}
	st, err := ReadState(dir)
	if err != nil || st.Status != StatusRunning || !alive(st.Pid, st.PidStart) {
		return nil, ErrNotFound
	}
	if err := ReadConfigInto(configPath, cfg); err != nil || cfg.Identity() != id {
		return nil, ErrNotFound
	}
	return &Running{State: st, Name: name, RunDir: dir, ConfigPath: configPath}, nil
}

// Identified is a configuration as FindRunning reads it: Config, or the
// part of it that its caller needs, with Config's JSON names.
type Identified interface {
	// Identity is the configuration's container id.
	Identity() string
}

// Identity is c's container id.
func (c *Config) Identity() string { return c.ID }

// ExecConfig is what an exec needs of a Config (the same JSON names):
// the process to start from, the root filesystem (for -u), the filter, and
// what the exec's events name. Decoded alone it costs about half of the
// whole Config in a process that decodes it first (0.8 against 1.4 ms
// here), which is most of finding a container for sandbox-exec.
type ExecConfig struct {
	ID     string            `json:"id"`
	Image  string            `json:"image"`
	Labels map[string]string `json:"labels,omitempty"`
	Spec   struct {
		Rootfs  string   `json:"rootfs"`
		Process Process  `json:"process"`
		Seccomp *Seccomp `json:"seccomp,omitempty"`
	} `json:"spec"`
}

// Identity is c's container id.
func (c *ExecConfig) Identity() string { return c.ID }

// replaceLink makes link point to target, replacing what was there in
// one rename. The new link is made under a name that starts with a dot,
// which no container name does.
func replaceLink(target, link string) error {
	tmp := filepath.Join(filepath.Dir(link), "."+filepath.Base(link)+".tmp"+strconv.FormatInt(time.Now().UnixNano(), 36)+"-"+strconv.Itoa(os.Getpid()))
	if err := os.Symlink(target, tmp); err != nil {
		return fmt.Errorf("container link: %w", err)
	}
	if err := os.Rename(tmp, link); err != nil {
		os.Remove(tmp)
		return fmt.Errorf("container link: %w", err)
	}
	return nil
}

// validLinkName: a name or id that can be a file name of its own (a
// container name is [a-zA-Z0-9][a-zA-Z0-9_.-]*).
func validLinkName(s string) bool {
	if s == "" || s[0] == '.' || len(s) > 255 {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '_' || c == '.' || c == '-') {
			return false
		}
	}
	return true
}

// isFullID: 64 lowercase hexadecimal digits.
func isFullID(s string) bool {
	if len(s) != 64 {
		return false
	}
	for i := 0; i < len(s); i++ {
		if c := s[i]; !(c >= '0' && c <= '9' || c >= 'a' && c <= 'f') {
			return false
		}
	}
	return true
}
