package system

import (
	"fmt"
	"os"
	"path"
	"strings"

	"sandbox/cgroupv2"
)

// limitFlags are the flags each controller serves, for the reports.
var limitFlags = map[string]string{
	"cpu":    "--cpus, --cpu-quota, --cpu-period, --cpu-shares, --cpu-weight",
	"cpuset": "--cpuset-cpus, --cpuset-mems",
	"io":     "--blkio-weight, --device-read-bps, --device-write-bps",
	"memory": "--memory, --memory-swap, --memory-reservation",
	"pids":   "--pids-limit",
}

// cgroupItems are the cgroup v2 item and one item per controller. None is
// required: without them containers run, and limits are refused.
func (c *checker) cgroupItems(st *cgroupv2.Status, err error) []Item {
	v2 := Item{Name: "cgroup-v2", State: Warning}
	if err != nil {
		v2.Detail, v2.Fix = err.Error(), "sudo mount -t cgroup2 none "+cgroupv2.Root
		return []Item{v2}
	}
	v2.Fix = c.delegateFix(st)
	switch {
	case st.Version == cgroupv2.VersionNone:
		v2.Detail = "no cgroup file system at " + cgroupv2.Root + ": limits are refused"
		v2.Fix = "sudo mount -t cgroup2 none " + cgroupv2.Root
	case st.Version == cgroupv2.V1:
		v2.Detail = "cgroup v1 only (" + strings.Join(st.V1Controllers, ", ") + "): limits are refused"
		v2.Fix = unifiedFix()
	case st.Version == cgroupv2.Hybrid:
		v2.Detail = fmt.Sprintf("hybrid: cgroup v1 holds %s: limits are refused", strings.Join(heldOf(st), ", "))
		v2.Fix = unifiedFix()
	case st.DelegateRoot == "":
		v2.Detail = fmt.Sprintf("cgroup v2, but your cgroup %s is not writable by you: limits are refused", st.Dir)
	default:
		v2.State = OK
		v2.Detail = "delegated to you: " + st.DelegateRoot
	}
	items := []Item{v2}
	for _, ctl := range st.Controllers {
		it := Item{Name: "cgroup-" + ctl.Name, State: Warning, Fix: v2.Fix}
		switch {
		case ctl.Delegated:
			it.State, it.Detail = OK, "delegated"
			if ctl.Enabled {
				it.Detail += ", enabled for child cgroups"
			}
		default:
			it.Detail = ctl.Reason + ": " + limitFlags[ctl.Name] + " refused"
			if v2.State == OK {
				it.Fix = c.controllerFix(st, ctl)
			}
		}
		items = append(items, it)
	}
	return items
}

// heldOf names the controllers of cgroupv2.Controllers that v1 holds.
func heldOf(st *cgroupv2.Status) []string {
	var out []string
	for _, n := range cgroupv2.Controllers {
		if st.HeldByV1(n) {
			out = append(out, n)
		}
	}
	if len(out) == 0 {
		return []string{"no controller sandbox uses"}
	}
	return out
}

// unifiedFix boots the host with cgroup v2 only.
func unifiedFix() string {
	if _, err := os.Stat("/etc/default/grub"); err == nil {
		return `sudo sed -i 's/^GRUB_CMDLINE_LINUX="/&systemd.unified_cgroup_hierarchy=1 cgroup_no_v1=all /' /etc/default/grub && sudo update-grub && sudo reboot`
	}
	return "boot the kernel with cgroup_no_v1=all (with systemd also systemd.unified_cgroup_hierarchy=1) and cgroup2 mounted at " + cgroupv2.Root
}

// delegateFix hands a cgroup subtree to the user: with systemd, what
// user@.service's Delegate= does; without, a cgroup made by root that
// the user's current shell is moved into.
func (c *checker) delegateFix(st *cgroupv2.Status) string {
	ctls := strings.Join(cgroupv2.Controllers, " ")
	if cgroupv2.Systemd() {
		return fmt.Sprintf(`sudo mkdir -p /etc/systemd/system/user@.service.d && printf '[Service]\nDelegate=%s\n' | sudo tee /etc/systemd/system/user@.service.d/delegate.conf && sudo systemctl daemon-reload && sudo systemctl restart user@%d.service`, ctls, c.uid)
	}
	root := st.Unified
	if root == "" {
		root = cgroupv2.Root
	}
	d := path.Join(root, "user-"+c.name)
	plus := "+" + strings.Join(cgroupv2.Controllers, " +")
	return fmt.Sprintf(`sudo sh -c 'echo "%s" > %s/cgroup.subtree_control && mkdir -p %s && chown %s %s %s/cgroup.procs %s/cgroup.subtree_control %s/cgroup.threads && echo %d > %s/cgroup.procs' (moves your shell, pid %d, into it)`,
		plus, root, d, c.name, d, d, d, d, os.Getppid(), d, os.Getppid())
}

// controllerFix makes one controller available to the delegated cgroup.
func (c *checker) controllerFix(st *cgroupv2.Status, ctl cgroupv2.Controller) string {
	top := st.DelegateRoot
	switch {
	case !ctl.Available && cgroupv2.Systemd():
		return c.delegateFix(st)
	case !ctl.Available:
		return fmt.Sprintf("echo +%s | sudo tee %s", ctl.Name, path.Join(path.Dir(top), "cgroup.subtree_control"))
	default:
		return fmt.Sprintf("sudo chown %s %s", c.name, path.Join(top, "cgroup.subtree_control"))
	}
}
