package pod

import (
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"time"

	"sandbox/internal/atomicfile"
	"sandbox/internal/lockfile"
)

// Errors callers test for.
var (
	ErrNoSuchPod = errors.New("no such pod")
	ErrNameInUse = errors.New("pod name in use")
)

// Pod is a pod's record.
type Pod struct {
	ID      string            `json:"id"`
	Name    string            `json:"name"`
	Created time.Time         `json:"created"`
	Labels  map[string]string `json:"labels,omitempty"`
	// Hostname is the members' host name when they share the UTS
	// namespace (the pod's name unless --hostname).
	Hostname string `json:"hostname"`
	// Share are the namespaces the members share: "net" and any of
	// "ipc", "uts".
	Share []string `json:"share"`
	// Infra is the infra container's id; InfraName its name.
	Infra     string `json:"infra"`
	InfraName string `json:"infraName"`
	// Network and Publish are the infra's --network and -p as given.
	Network string   `json:"network,omitempty"`
	Publish []string `json:"publish,omitempty"`
}

// records is the pods' file: every pod by id.
type records struct {
	Pods map[string]*Pod `json:"pods"`
}

// db is the pods' file and its lock, in a directory of the graph root.
type db struct{ dir string }

func (d db) path() string { return filepath.Join(d.dir, "pods.json") }

// locked runs f on the records under the lock; when f returns write, the
// records are written back atomically.
func (d db) locked(f func(*records) (write bool, err error)) error {
	if err := os.MkdirAll(d.dir, 0o700); err != nil {
		return fmt.Errorf("pods directory: %w", err)
	}
	l, err := lockfile.Acquire(filepath.Join(d.dir, "pods.lock"))
	if err != nil {
		return fmt.Errorf("lock pods: %w", err)
	}
	defer func() {
		if uerr := l.Unlock(); uerr != nil && err == nil {
			err = uerr
		}
	}()
	recs, err := d.read()
	if err != nil {
		return err
	}
	write, err := f(recs)
	if err != nil || !write {
		return err
	}
	data, err := json.MarshalIndent(recs, "", "  ")
	if err != nil {
		return err
	}
	return atomicfile.Write(d.path(), data, 0o600)
}

func (d db) read() (*records, error) {
	recs := &records{Pods: map[string]*Pod{}}
	data, err := os.ReadFile(d.path())
	if errors.Is(err, fs.ErrNotExist) {
		return recs, nil
	}
	if err != nil {
		return nil, fmt.Errorf("read pods: %w", err)
	}
	if err := json.Unmarshal(data, recs); err != nil {
		return nil, fmt.Errorf("pods file %s: %w", d.path(), err)
	}
	if recs.Pods == nil {
		recs.Pods = map[string]*Pod{}
	}
	return recs, nil
}

// all returns the pods, newest first.
func (d db) all() ([]*Pod, error) {
	recs, err := d.read()
	if err != nil {
		return nil, err
	}
	out := make([]*Pod, 0, len(recs.Pods))
	for _, p := range recs.Pods {
		out = append(out, p)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Created.After(out[j].Created) })
	return out, nil
}

// find is the pod that ref names: its full id, its name, or a unique id
// prefix.
func (recs *records) find(ref string) (*Pod, error) {
	if p, ok := recs.Pods[ref]; ok {
		return p, nil
	}
	for _, p := range recs.Pods {
		if p.Name == ref {
			return p, nil
		}
	}
	var match *Pod
	if ref != "" {
		for _, p := range recs.Pods {
			if strings.HasPrefix(p.ID, ref) {
				if match != nil {
					return nil, fmt.Errorf("pod id %q is ambiguous: it matches %.12s and %.12s; give more of the id", ref, match.ID, p.ID)
				}
				match = p
			}
		}
	}
	if match == nil {
		return nil, noSuchPod(ref)
	}
	return match, nil
}

// noSuchPod is podman's message for a pod that is not there.
func noSuchPod(ref string) error {
	return fmt.Errorf("no pod with name or ID %s found: %w", ref, ErrNoSuchPod)
}

// byName is the pod named name, or nil.
func (recs *records) byName(name string) *Pod {
	for _, p := range recs.Pods {
		if p.Name == name {
			return p
		}
	}
	return nil
}
