// Unit tests (privilege tier: none) of how findings become items: states,
// details and fixes, and of the container counts of info.

package system

import (
	"context"
	"errors"
	"strings"
	"testing"

	"sandbox/cgroupv2"
	"sandbox/container"
	"sandbox/userns"
)

func TestSubIDItem(t *testing.T) {
	const fix = "sudo usermod --add-subuids 100000-165535 --add-subgids 100000-165535 sbx"
	tests := []struct {
		name       string
		ranges     []userns.Range
		err        error
		want       State
		wantDetail string
	}{
		{name: "one full range", ranges: []userns.Range{{Start: 100000, Count: 65536}}, want: OK,
			wantDetail: "65536 subordinate uids from 100000"},
		{name: "two ranges", ranges: []userns.Range{{Start: 100000, Count: 65536}, {Start: 300000, Count: 10}}, want: OK,
			wantDetail: "65546 subordinate uids in 2 ranges"},
		{name: "too few", ranges: []userns.Range{{Start: 100000, Count: 1000}}, want: Warning, wantDetail: "only 1000"},
		{name: "none", want: Warning, wantDetail: "single-id mapping"},
		{name: "malformed file", err: errors.New("/etc/subuid: line 2 \"x\": want NAME:START:COUNT"), want: Missing,
			wantDetail: "line 2"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			it := subIDItem("subuid", "/etc/subuid", "sbx", tt.ranges, tt.err, fix)
			if it.State != tt.want || !strings.Contains(it.Detail, tt.wantDetail) || it.Fix == "" {
				t.Errorf("item %+v, want state %s and a detail naming %q", it, tt.want, tt.wantDetail)
			}
			if tt.err != nil && it.Fix != "sudoedit /etc/subuid" {
				t.Errorf("fix %q for a malformed file", it.Fix)
			}
		})
	}
}

func TestPersistSysctl(t *testing.T) {
	got := persistSysctl("net.ipv4.ping_group_range", "0 2147483647", "50-x.conf")
	want := `sudo sysctl -w net.ipv4.ping_group_range="0 2147483647" && echo 'net.ipv4.ping_group_range=0 2147483647' | sudo tee /etc/sysctl.d/50-x.conf`
	if got != want {
		t.Errorf("persistSysctl = %s\nwant %s", got, want)
	}
}

func TestCgroupItems(t *testing.T) {
	c := &checker{ctx: context.Background(), uid: 1001, gid: 1001, name: "sbx"}
	all := func(delegated bool, reason string) []cgroupv2.Controller {
		var out []cgroupv2.Controller
		for _, n := range cgroupv2.Controllers {
			out = append(out, cgroupv2.Controller{Name: n, Available: delegated, Delegated: delegated, Reason: reason})
		}
		return out
	}
	t.Run("delegated v2", func(t *testing.T) {
		st := &cgroupv2.Status{Layout: cgroupv2.Layout{Version: cgroupv2.V2, Unified: cgroupv2.Root},
			Path: "/u/test.scope", Dir: "/sys/fs/cgroup/u/test.scope", Writable: true, DelegateRoot: "/sys/fs/cgroup/u",
			Controllers: all(true, "")}
		st.Controllers[2] = cgroupv2.Controller{Name: "io", Reason: "not enabled for /sys/fs/cgroup/u (in /sys/fs/cgroup/cgroup.subtree_control)"}
		items := c.cgroupItems(st, nil)
		if len(items) != 1+len(cgroupv2.Controllers) {
			t.Fatalf("%d items", len(items))
		}
		for _, it := range items {
			want := OK
			if it.Name == "cgroup-io" {
				want = Warning
			}
			if it.State != want || it.Fix == "" {
				t.Errorf("item %+v, want state %s", it, want)
			}
		}
		if io := items[3]; !strings.Contains(io.Detail, "--blkio-weight") || (!cgroupv2.Systemd() && !strings.Contains(io.Fix, "echo +io | sudo tee /sys/fs/cgroup/cgroup.subtree_control")) {
			t.Errorf("io item %+v", io)
		}
	})
	t.Run("hybrid", func(t *testing.T) {
		st := &cgroupv2.Status{Layout: cgroupv2.Layout{Version: cgroupv2.Hybrid, Unified: cgroupv2.Root + "/unified",
			V1Controllers: []string{"blkio", "cpu", "memory"}}, Controllers: all(false, "held by cgroup v1 (hybrid hierarchy)")}
		items := c.cgroupItems(st, nil)
		if items[0].State != Warning || !strings.Contains(items[0].Detail, "cgroup v1 holds cpu, io, memory") {
			t.Errorf("cgroup-v2 item %+v", items[0])
		}
		for _, it := range items[1:] {
			if it.State != Warning || it.Fix != items[0].Fix {
				t.Errorf("item %+v: want a warning with the cgroup-v2 fix", it)
			}
		}
	})
	t.Run("not delegated", func(t *testing.T) {
		st := &cgroupv2.Status{Layout: cgroupv2.Layout{Version: cgroupv2.V2, Unified: cgroupv2.Root},
			Path: "/", Dir: cgroupv2.Root, Controllers: all(false, "not writable")}
		items := c.cgroupItems(st, nil)
		if items[0].State != Warning || !strings.Contains(items[0].Detail, "not writable by you") {
			t.Errorf("cgroup-v2 item %+v", items[0])
		}
		if !cgroupv2.Systemd() && !strings.Contains(items[0].Fix, "/sys/fs/cgroup/user-sbx") {
			t.Errorf("fix %q does not make a cgroup for the user", items[0].Fix)
		}
	})
	t.Run("detection failed", func(t *testing.T) {
		items := c.cgroupItems(nil, errors.New("read mounts: permission denied"))
		if len(items) != 1 || items[0].State != Warning || !strings.Contains(items[0].Detail, "permission denied") {
			t.Errorf("items %+v", items)
		}
	})
}

func TestCountStates(t *testing.T) {
	list := []container.Summary{{State: "running"}, {State: "running"}, {State: "paused"}, {State: "exited"},
		{State: "created"}, {State: "restarting"}, {State: "removing"}}
	want := ContainerStore{Number: 7, Running: 2, Paused: 1, Stopped: 4}
	if got := countStates(list); got != want {
		t.Errorf("countStates = %+v, want %+v", got, want)
	}
	if got := countStates(nil); got != (ContainerStore{}) {
		t.Errorf("countStates(nil) = %+v", got)
	}
}
