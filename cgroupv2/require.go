package cgroupv2

import (
	"errors"
	"fmt"
	"strings"

	"sandbox/spec"
)

// ErrNoLeaf is an operation on a container that has no cgroup of its own.
var ErrNoLeaf = errors.New("no cgroup of its own")

// UnavailableError is a limit (or pause, stats, update) that needs a
// cgroup v2 controller the user does not have: which, why, and the fix.
// Its message is one line.
type UnavailableError struct {
	// What is what asked for it: "--memory", "pause".
	What string
	// Controller is the controller's name; "" when what is missing is a
	// delegated cgroup as such (pause and stats need no controller to
	// exist, but a cgroup of the container's own).
	Controller string
	Reason     string
	Fix        string
}

func (e *UnavailableError) Error() string {
	if e.Controller == "" {
		return fmt.Sprintf("%s needs a delegated cgroup v2 subtree, and you have none: %s; fix: %s", e.What, e.Reason, e.Fix)
	}
	return fmt.Sprintf("cannot apply %s: the cgroup v2 %s controller is not delegated to you: %s; fix: %s", e.What, e.Controller, e.Reason, e.Fix)
}

// Require checks that the controller is delegated. what names the flags
// that need it, for the error.
func (s *Status) Require(controller, what string) error {
	for _, c := range s.Controllers {
		if c.Name == controller {
			if c.Delegated {
				return nil
			}
			return &UnavailableError{What: what, Controller: controller, Reason: c.Reason, Fix: s.Fix()}
		}
	}
	return &UnavailableError{What: what, Controller: controller, Reason: "sandbox does not use this controller", Fix: "leave out " + what}
}

// RequireLimits checks that every controller the limits of r use is
// delegated; the error names the flags that need the missing one. It is
// checked once per start: by the command against its own cgroup, or by
// the monitor against the systemd scope made for it.
func (s *Status) RequireLimits(r *spec.Resources) error {
	flags := flagsOf(r)
	for _, c := range Needed(r) {
		if err := s.Require(c, flags[c]); err != nil {
			return err
		}
	}
	return nil
}

// RequireLeaf checks that containers get a cgroup of their own here: a
// writable cgroup v2 subtree, whatever controllers it has.
func (s *Status) RequireLeaf(what string) error {
	if s.DelegateRoot != "" {
		return nil
	}
	reason := ""
	switch s.Version {
	case V1, VersionNone:
		reason = "no cgroup v2 here"
	case Hybrid:
		var held []string
		for _, c := range Controllers {
			if s.HeldByV1(c) {
				held = append(held, c)
			}
		}
		reason = "hybrid hierarchy: cgroup v1 holds " + strings.Join(held, ", ")
	default:
		reason = fmt.Sprintf("your cgroup %s is not writable by you", s.Dir)
	}
	return &UnavailableError{What: what, Reason: reason, Fix: s.Fix()}
}

// dropIn is the systemd drop-in for user@.service that delegates the
// controllers sandbox uses to every user's systemd instance.
var dropIn = "the systemd drop-in /etc/systemd/system/user@.service.d/delegate.conf with [Service] Delegate=" +
	strings.Join(Controllers, " ") + ", then systemctl daemon-reload and log in again"

// Fix says, on one line, how the user gets delegated controllers here.
func (s *Status) Fix() string {
	switch {
	case s.Version != V2:
		return "boot with cgroup v2 only (systemd.unified_cgroup_hierarchy=1 cgroup_no_v1=all on the kernel command line) and delegate the controllers with " +
			dropIn + " (sandbox check prints the commands)"
	case Systemd():
		return "delegate them with " + dropIn + " (sandbox check prints the commands)"
	}
	return "without systemd, have root make a cgroup for you with +" + strings.Join(Controllers, " +") +
		" enabled in its parent's cgroup.subtree_control, chown it and its cgroup.procs, cgroup.subtree_control and cgroup.threads to you, and move your shell into it (as systemd's Delegate= does; sandbox check prints the commands)"
}
