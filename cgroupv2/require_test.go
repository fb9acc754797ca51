// Unit tests (privilege tier: none) of the errors for limits that cannot
// be applied: one line naming the flag, the controller, why and the fix.
package cgroupv2

import (
	"errors"
	"strings"
	"testing"
)

func TestRequire(t *testing.T) {
	hybrid := &Status{Layout: Layout{Version: Hybrid, Unified: Root + "/unified", V1Controllers: []string{"blkio", "cpu", "cpuacct", "memory", "pids"}}}
	for _, n := range Controllers {
		hybrid.Controllers = append(hybrid.Controllers, Controller{Name: n, Reason: "held by cgroup v1 (hybrid hierarchy)"})
	}
	err := hybrid.Require("memory", "--memory")
	var ue *UnavailableError
	if !errors.As(err, &ue) || ue.Controller != "memory" {
		t.Fatalf("Require = %v, want an UnavailableError for memory", err)
	}
	msg := err.Error()
	for _, want := range []string{"--memory", "memory controller", "held by cgroup v1", "cgroup_no_v1=all", "Delegate=cpu cpuset io memory pids", "user@.service"} {
		if !strings.Contains(msg, want) {
			t.Errorf("message %q lacks %q", msg, want)
		}
	}
	if strings.Contains(msg, "\n") {
		t.Errorf("message %q is not one line", msg)
	}
	err = hybrid.RequireLeaf("pause")
	if err == nil || !strings.Contains(err.Error(), "pause needs a delegated cgroup v2") || !strings.Contains(err.Error(), "cgroup v1 holds cpu, io, memory, pids") {
		t.Errorf("RequireLeaf = %v", err)
	}

	v2 := &Status{Layout: Layout{Version: V2, Unified: Root}, Dir: Root + "/u", DelegateRoot: Root + "/u",
		Controllers: []Controller{{Name: "cpu", Delegated: true}, {Name: "io", Reason: "not enabled for /sys/fs/cgroup/u"}}}
	if err := v2.Require("cpu", "--cpus"); err != nil {
		t.Errorf("Require(cpu) = %v", err)
	}
	if err := v2.RequireLeaf("stats"); err != nil {
		t.Errorf("RequireLeaf = %v", err)
	}
	if err := v2.Require("io", "--blkio-weight"); err == nil || !strings.Contains(err.Error(), "not enabled for /sys/fs/cgroup/u") ||
		!strings.Contains(err.Error(), "Delegate=") {
		t.Errorf("Require(io) = %v", err)
	}
	if err := v2.Require("hugetlb", "--x"); err == nil {
		t.Error("Require of an unknown controller passed")
	}
}
