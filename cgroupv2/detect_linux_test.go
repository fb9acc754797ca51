// Unit tests (privilege tier: none) of delegation detection, over fake
// cgroup trees: which cgroup is the delegated one and which controllers
// it gives.

package cgroupv2

import (
	"errors"
	"io/fs"
	"path"
	"reflect"
	"strings"
	"testing"
)

// fakeTree is a cgroup file system: file contents and the paths (files or
// directories) the user may write.
type fakeTree struct {
	files    map[string]string
	writable map[string]bool
}

// clone copies the tree so that a test may change it.
func (t fakeTree) clone() fakeTree {
	c := fakeTree{files: map[string]string{}, writable: map[string]bool{}}
	for k, v := range t.files {
		c.files[k] = v
	}
	for k, v := range t.writable {
		c.writable[k] = v
	}
	return c
}

func (t fakeTree) files_() files {
	return files{
		read: func(name string) ([]byte, error) {
			s, ok := t.files[name]
			if !ok {
				return nil, fs.ErrNotExist
			}
			return []byte(s), nil
		},
		access: func(name string, mode uint32) bool { return t.writable[name] },
	}
}

// delegated returns the writable paths of a cgroup handed to the user the
// way systemd's Delegate=yes does: the directory, cgroup.procs and
// cgroup.subtree_control.
func delegated(dirs ...string) map[string]bool {
	w := map[string]bool{}
	for _, d := range dirs {
		w[d] = true
		w[path.Join(d, "cgroup.procs")] = true
		w[path.Join(d, "cgroup.subtree_control")] = true
	}
	return w
}

func TestDetect(t *testing.T) {
	const svc = "/sys/fs/cgroup/user.slice/user-1001.slice/user@1001.service"
	vmTree := fakeTree{
		files: map[string]string{
			"/proc/self/mountinfo":              mountsV2,
			"/proc/self/cgroup":                 "0::/user.slice/user-1001.slice/user@1001.service/test.scope\n",
			svc + "/cgroup.controllers":         "cpuset cpu io memory pids\n",
			svc + "/cgroup.subtree_control":     "memory pids\n",
			"/sys/fs/cgroup/cgroup.controllers": "cpuset cpu io memory hugetlb pids rdma misc\n",
		},
		writable: delegated(svc, svc+"/test.scope"),
	}
	t.Run("v2 with a delegated subtree (the test VM)", func(t *testing.T) {
		st, err := detect(vmTree.files_(), "")
		if err != nil {
			t.Fatal(err)
		}
		if st.Version != V2 || st.Dir != svc+"/test.scope" || !st.Writable || st.DelegateRoot != svc {
			t.Fatalf("status %+v", st)
		}
		if got := st.Delegated(); !reflect.DeepEqual(got, Controllers) {
			t.Errorf("delegated %v, want %v", got, Controllers)
		}
		for _, c := range st.Controllers {
			if c.Enabled != (c.Name == "memory" || c.Name == "pids") || !c.Available || c.Reason != "" {
				t.Errorf("controller %+v", c)
			}
		}
	})
	t.Run("a systemd scope with Delegate=yes under the user manager", func(t *testing.T) {
		const scope = "sandbox-0123456789ab-42.scope"
		app := svc + "/app.slice"
		tree := vmTree.clone()
		tree.files["/proc/self/cgroup"] = "0::" + strings.TrimPrefix(app, "/sys/fs/cgroup") + "/" + scope + "\n"
		tree.files[app+"/"+scope+"/cgroup.controllers"] = "cpu memory pids\n"
		tree.files[app+"/"+scope+"/cgroup.subtree_control"] = ""
		for k, v := range delegated(app, app+"/"+scope) {
			tree.writable[k] = v
		}
		// Detect walks up to the user manager's own cgroup; DetectScope
		// keeps to the scope.
		if st, err := detect(tree.files_(), ""); err != nil || st.DelegateRoot != svc {
			t.Fatalf("detect: %+v, %v", st, err)
		}
		st, err := detect(tree.files_(), scope)
		if err != nil {
			t.Fatal(err)
		}
		if st.DelegateRoot != app+"/"+scope || !st.Writable {
			t.Fatalf("status %+v", st)
		}
		if got := st.Delegated(); !reflect.DeepEqual(got, []string{"cpu", "memory", "pids"}) {
			t.Errorf("delegated %v", got)
		}
		if _, err := detect(tree.files_(), "sandbox-0123456789ab-43.scope"); err == nil || !strings.Contains(err.Error(), "not in the systemd scope") {
			t.Errorf("another scope's name: %v", err)
		}
		tree.writable = delegated(app)
		if st, err := detect(tree.files_(), scope); err != nil || st.DelegateRoot != "" {
			t.Errorf("a scope not delegated: %+v, %v", st, err)
		}
	})
	t.Run("a controller not enabled by the parent", func(t *testing.T) {
		tree := vmTree.clone()
		tree.files[svc+"/cgroup.controllers"] = "cpu memory pids\n"
		st, err := detect(tree.files_(), "")
		if err != nil {
			t.Fatal(err)
		}
		if got := st.Delegated(); !reflect.DeepEqual(got, []string{"cpu", "memory", "pids"}) {
			t.Errorf("delegated %v", got)
		}
		for _, c := range st.Controllers {
			if c.Name == "io" && !strings.Contains(c.Reason, "/sys/fs/cgroup/user.slice/user-1001.slice/cgroup.subtree_control") {
				t.Errorf("io: reason %q does not name the parent's cgroup.subtree_control", c.Reason)
			}
		}
	})
	t.Run("only the leaf is writable", func(t *testing.T) {
		tree := vmTree.clone()
		tree.writable = delegated(svc + "/test.scope")
		tree.files[svc+"/test.scope/cgroup.controllers"] = "memory\n"
		tree.files[svc+"/test.scope/cgroup.subtree_control"] = ""
		st, err := detect(tree.files_(), "")
		if err != nil {
			t.Fatal(err)
		}
		if st.DelegateRoot != svc+"/test.scope" || !reflect.DeepEqual(st.Delegated(), []string{"memory"}) {
			t.Errorf("status %+v", st)
		}
	})
	t.Run("subtree_control not writable", func(t *testing.T) {
		tree := vmTree.clone()
		tree.writable = delegated(svc, svc+"/test.scope")
		delete(tree.writable, svc+"/cgroup.subtree_control")
		st, err := detect(tree.files_(), "")
		if err != nil {
			t.Fatal(err)
		}
		if len(st.Delegated()) != 0 || !strings.Contains(st.Controllers[0].Reason, "not writable") {
			t.Errorf("status %+v", st)
		}
	})
	t.Run("nothing writable", func(t *testing.T) {
		tree := vmTree.clone()
		tree.writable = nil
		st, err := detect(tree.files_(), "")
		if err != nil {
			t.Fatal(err)
		}
		if st.Writable || st.DelegateRoot != "" || len(st.Delegated()) != 0 ||
			!strings.Contains(st.Controllers[0].Reason, "no cgroup is delegated") {
			t.Errorf("status %+v", st)
		}
	})
	t.Run("hybrid (this project's host)", func(t *testing.T) {
		tree := fakeTree{files: map[string]string{
			"/proc/self/mountinfo": mountsHybrid,
			"/proc/self/cgroup":    "9:name=systemd:/\n4:memory:/x\n0::/\n",
		}}
		st, err := detect(tree.files_(), "")
		if err != nil {
			t.Fatal(err)
		}
		if st.Version != Hybrid || st.Dir != "/sys/fs/cgroup/unified" || st.Writable || len(st.Delegated()) != 0 {
			t.Fatalf("status %+v", st)
		}
		for _, c := range st.Controllers {
			if !strings.Contains(c.Reason, "held by cgroup v1") {
				t.Errorf("controller %s: reason %q", c.Name, c.Reason)
			}
		}
	})
	t.Run("v1 reads no cgroup v2 files", func(t *testing.T) {
		tree := fakeTree{files: map[string]string{"/proc/self/mountinfo": mountsV1}}
		st, err := detect(tree.files_(), "")
		if err != nil {
			t.Fatal(err)
		}
		if st.Version != V1 || st.Path != "" || st.Controllers[3].Reason != "no cgroup v2 here; held by cgroup v1" ||
			st.Controllers[4].Reason != "no cgroup v2 here" {
			t.Errorf("status %+v", st)
		}
	})
	t.Run("unreadable mountinfo", func(t *testing.T) {
		_, err := detect(fakeTree{}.files_(), "")
		if !errors.Is(err, fs.ErrNotExist) {
			t.Errorf("error %v, want one wrapping fs.ErrNotExist", err)
		}
	})
}
