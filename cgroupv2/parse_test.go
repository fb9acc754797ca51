// Unit tests (privilege tier: none) of the parsers of mountinfo,
// /proc/PID/cgroup and controller lists, and of the cgroup version
// detection built on them.

package cgroupv2

import (
	"reflect"
	"strings"
	"testing"
)

// Mount tables as the kernel writes them, from real hosts.
const (
	mountsV2 = `22 1 0:21 / /sys rw,nosuid,nodev,noexec,relatime shared:7 - sysfs sysfs rw
26 22 0:23 / /sys/fs/cgroup rw,nosuid,nodev,noexec,relatime shared:4 - cgroup2 cgroup2 rw,nsdelegate,memory_recursiveprot
`
	mountsHybrid = `31 23 0:28 / /sys/fs/cgroup rw,relatime - tmpfs tmpfs rw,mode=755
32 31 0:29 / /sys/fs/cgroup/cpu rw,relatime - cgroup cgroup rw,cpu
33 31 0:30 / /sys/fs/cgroup/cpuacct rw,relatime - cgroup cgroup rw,cpuacct
34 31 0:31 / /sys/fs/cgroup/cpuset rw,relatime - cgroup cgroup rw,cpuset
35 31 0:32 / /sys/fs/cgroup/memory rw,relatime - cgroup cgroup rw,memory
38 31 0:35 / /sys/fs/cgroup/blkio rw,relatime - cgroup cgroup rw,blkio
39 31 0:36 / /sys/fs/cgroup/pids rw,relatime - cgroup cgroup rw,pids
40 31 0:37 / /sys/fs/cgroup/systemd rw,relatime - cgroup cgroup rw,name=systemd
41 31 0:38 / /sys/fs/cgroup/unified rw,relatime - cgroup2 cgroup2 rw
`
	mountsV1 = `25 22 0:22 / /sys/fs/cgroup ro,nosuid,nodev,noexec shared:8 - tmpfs tmpfs ro,mode=755
27 25 0:24 / /sys/fs/cgroup/systemd rw,nosuid,nodev,noexec,relatime shared:9 - cgroup cgroup rw,xattr,release_agent=/lib/systemd/systemd-cgroups-agent,name=systemd
30 25 0:27 / /sys/fs/cgroup/cpu,cpuacct rw,nosuid,nodev,noexec,relatime shared:12 - cgroup cgroup rw,cpu,cpuacct
31 25 0:28 / /sys/fs/cgroup/memory rw,nosuid,nodev,noexec,relatime shared:13 - cgroup cgroup rw,memory
`
)

func TestParseMountInfo(t *testing.T) {
	tests := []struct {
		name    string
		in      string
		want    []Mount
		wantErr string
	}{
		{name: "empty", in: "", want: nil},
		{name: "optional fields", in: "36 35 98:0 /mnt1 /mnt2 rw,noatime master:1 shared:2 - ext3 /dev/root rw,errors=continue\n",
			want: []Mount{{Point: "/mnt2", FSType: "ext3", SuperOptions: "rw,errors=continue"}}},
		{name: "no optional fields", in: "41 31 0:38 / /sys/fs/cgroup/unified rw,relatime - cgroup2 cgroup2 rw",
			want: []Mount{{Point: "/sys/fs/cgroup/unified", FSType: "cgroup2", SuperOptions: "rw"}}},
		{name: "escaped space in the mount point", in: `50 1 0:5 / /mnt/a\040b rw - tmpfs none rw`,
			want: []Mount{{Point: "/mnt/a b", FSType: "tmpfs", SuperOptions: "rw"}}},
		{name: "escaped backslash, and a bad escape kept", in: `50 1 0:5 / /x\134y\9 rw - tmpfs none rw`,
			want: []Mount{{Point: `/x\y\9`, FSType: "tmpfs", SuperOptions: "rw"}}},
		{name: "no super options", in: "50 1 0:5 / /x rw - tmpfs none",
			want: []Mount{{Point: "/x", FSType: "tmpfs"}}},
		{name: "blank lines skipped", in: "\n50 1 0:5 / /x rw - tmpfs none rw\n\n",
			want: []Mount{{Point: "/x", FSType: "tmpfs", SuperOptions: "rw"}}},
		{name: "no separator", in: "50 1 0:5 / /x rw tmpfs none rw", wantErr: "line 1"},
		{name: "separator too early", in: "50 1 - tmpfs none rw", wantErr: "line 1"},
		{name: "nothing after the separator", in: "50 1 0:5 / /x rw -", wantErr: "line 1"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := ParseMountInfo([]byte(tt.in))
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("ParseMountInfo(%q) error = %v, want one naming %q", tt.in, err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatalf("ParseMountInfo(%q): %v", tt.in, err)
			}
			if !reflect.DeepEqual(got, tt.want) {
				t.Errorf("ParseMountInfo(%q) = %+v, want %+v", tt.in, got, tt.want)
			}
		})
	}
}

func TestDetectLayout(t *testing.T) {
	tests := []struct {
		name   string
		mounts string
		want   Layout
	}{
		{name: "pure v2", mounts: mountsV2, want: Layout{Version: V2, Unified: Root}},
		{name: "hybrid (this project's host)", mounts: mountsHybrid, want: Layout{Version: Hybrid, Unified: Root + "/unified",
			V1Controllers: []string{"blkio", "cpu", "cpuacct", "cpuset", "memory", "pids"}}},
		{name: "legacy v1", mounts: mountsV1, want: Layout{Version: V1, V1Controllers: []string{"cpu", "cpuacct", "memory"}}},
		{name: "nothing mounted", mounts: "22 1 0:21 / /sys rw - sysfs sysfs rw\n", want: Layout{Version: VersionNone}},
		{name: "cgroup2 mounted over a v1 tree hides it", mounts: mountsHybrid + "60 23 0:40 / /sys/fs/cgroup rw - cgroup2 cgroup2 rw\n",
			want: Layout{Version: V2, Unified: Root}},
		{name: "a tmpfs over v2 hides it", mounts: mountsV2 + "61 22 0:41 / /sys/fs/cgroup rw - tmpfs tmpfs rw\n",
			want: Layout{Version: VersionNone}},
		{name: "only a cgroup2 below the root", mounts: "31 23 0:28 / /sys/fs/cgroup rw - tmpfs tmpfs rw\n41 31 0:38 / /sys/fs/cgroup/unified rw - cgroup2 cgroup2 rw\n",
			want: Layout{Version: V2, Unified: Root + "/unified"}},
		{name: "a similarly named sibling does not count", mounts: "31 23 0:28 / /sys/fs/cgroup rw - tmpfs tmpfs rw\n41 31 0:38 / /sys/fs/cgroupx rw - cgroup2 cgroup2 rw\n",
			want: Layout{Version: VersionNone}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			mounts, err := ParseMountInfo([]byte(tt.mounts))
			if err != nil {
				t.Fatal(err)
			}
			got := DetectLayout(mounts, Root)
			if !reflect.DeepEqual(got, tt.want) {
				t.Errorf("DetectLayout = %+v, want %+v", got, tt.want)
			}
		})
	}
}

func TestHeldByV1(t *testing.T) {
	l := Layout{Version: Hybrid, V1Controllers: []string{"blkio", "cpu", "memory"}}
	for name, want := range map[string]bool{"io": true, "cpu": true, "memory": true, "pids": false, "cpuset": false, "blkio": true} {
		if got := l.HeldByV1(name); got != want {
			t.Errorf("HeldByV1(%q) = %v, want %v", name, got, want)
		}
	}
}

func TestParseProcCgroup(t *testing.T) {
	hybrid := "9:name=systemd:/\n4:memory:/process_api/e7db\n1:cpu,cpuacct:/\n0::/\n"
	tests := []struct {
		name     string
		in       string
		want     []ProcCgroup
		wantPath string
		wantOK   bool
		wantErr  string
	}{
		{name: "v2", in: "0::/user.slice/user-1001.slice/user@1001.service/app.slice/x.scope\n",
			want:     []ProcCgroup{{ID: 0, Path: "/user.slice/user-1001.slice/user@1001.service/app.slice/x.scope"}},
			wantPath: "/user.slice/user-1001.slice/user@1001.service/app.slice/x.scope", wantOK: true},
		{name: "hybrid", in: hybrid, want: []ProcCgroup{
			{ID: 9, Controllers: []string{"name=systemd"}, Path: "/"},
			{ID: 4, Controllers: []string{"memory"}, Path: "/process_api/e7db"},
			{ID: 1, Controllers: []string{"cpu", "cpuacct"}, Path: "/"},
			{ID: 0, Path: "/"}}, wantPath: "/", wantOK: true},
		{name: "v1 only", in: "4:memory:/a\n", want: []ProcCgroup{{ID: 4, Controllers: []string{"memory"}, Path: "/a"}}},
		{name: "colon in the path", in: "0::/a:b:c\n", want: []ProcCgroup{{ID: 0, Path: "/a:b:c"}}, wantPath: "/a:b:c", wantOK: true},
		{name: "deleted cgroup", in: "0::/gone (deleted)\n", want: []ProcCgroup{{ID: 0, Path: "/gone (deleted)"}}, wantPath: "/gone", wantOK: true},
		{name: "outside the cgroup namespace root", in: "0::/../..\n", want: []ProcCgroup{{ID: 0, Path: "/../.."}}, wantPath: "/", wantOK: true},
		{name: "empty", in: ""},
		{name: "too few fields", in: "0:/\n", wantErr: "line 1"},
		{name: "bad id", in: "x::/\n", wantErr: "bad hierarchy id"},
		{name: "negative id", in: "-1::/\n", wantErr: "bad hierarchy id"},
		{name: "relative path", in: "0::a\n", wantErr: "not absolute"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := ParseProcCgroup([]byte(tt.in))
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("error = %v, want one naming %q", err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(got, tt.want) {
				t.Errorf("ParseProcCgroup(%q) = %+v, want %+v", tt.in, got, tt.want)
			}
			p, ok := UnifiedPath(got)
			if p != tt.wantPath || ok != tt.wantOK {
				t.Errorf("UnifiedPath = %q, %v; want %q, %v", p, ok, tt.wantPath, tt.wantOK)
			}
		})
	}
}

func TestParseControllers(t *testing.T) {
	if got := ParseControllers([]byte("cpuset cpu io memory hugetlb pids rdma misc\n")); !reflect.DeepEqual(got,
		[]string{"cpuset", "cpu", "io", "memory", "hugetlb", "pids", "rdma", "misc"}) {
		t.Errorf("ParseControllers = %q", got)
	}
	if got := ParseControllers([]byte("\n")); len(got) != 0 {
		t.Errorf("ParseControllers of an empty file = %q", got)
	}
}

func FuzzParseMountInfo(f *testing.F) {
	for _, s := range []string{mountsV2, mountsHybrid, mountsV1, `50 1 0:5 / /x\040y rw - tmpfs none rw`, "1 2 - x", ""} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, in string) {
		mounts, err := ParseMountInfo([]byte(in))
		if err != nil {
			return
		}
		for _, m := range mounts {
			if m.FSType == "" {
				t.Fatalf("mount without a type from %q: %+v", in, m)
			}
		}
		l := DetectLayout(mounts, Root)
		switch l.Version {
		case V2:
			if l.Unified == "" || len(l.V1Controllers) != 0 {
				t.Fatalf("v2 layout %+v from %q", l, in)
			}
		case Hybrid:
			if l.Unified == "" || len(l.V1Controllers) == 0 {
				t.Fatalf("hybrid layout %+v from %q", l, in)
			}
		case V1:
			if l.Unified != "" || len(l.V1Controllers) == 0 {
				t.Fatalf("v1 layout %+v from %q", l, in)
			}
		case VersionNone:
			if l.Unified != "" || len(l.V1Controllers) != 0 {
				t.Fatalf("empty layout %+v from %q", l, in)
			}
		default:
			t.Fatalf("unknown version %q from %q", l.Version, in)
		}
		if l.Unified != "" && l.Unified != Root && !strings.HasPrefix(l.Unified, Root+"/") {
			t.Fatalf("unified hierarchy %q outside %s, from %q", l.Unified, Root, in)
		}
	})
}

func FuzzParseProcCgroup(f *testing.F) {
	for _, s := range []string{"0::/\n", "9:name=systemd:/\n4:memory:/a\n0::/b\n", "0::/a:b (deleted)\n", "x", ""} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, in string) {
		entries, err := ParseProcCgroup([]byte(in))
		if err != nil {
			return
		}
		for _, e := range entries {
			if e.ID < 0 || !strings.HasPrefix(e.Path, "/") {
				t.Fatalf("bad entry %+v from %q", e, in)
			}
		}
		if p, ok := UnifiedPath(entries); ok && !strings.HasPrefix(p, "/") {
			t.Fatalf("unified path %q is not absolute, from %q", p, in)
		}
	})
}
