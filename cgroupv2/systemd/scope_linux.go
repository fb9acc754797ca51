package systemd

import (
	"context"
	"errors"
	"fmt"
	"os"
	"strconv"
	"time"

	"sandbox/cgroupv2"

	sd "github.com/coreos/go-systemd/v22/dbus"
	"github.com/godbus/dbus/v5"
)

// ErrNoBus is a user bus that is not there: neither
// $DBUS_SESSION_BUS_ADDRESS nor $XDG_RUNTIME_DIR/bus.
var ErrNoBus = errors.New("no user D-Bus")

// Reachable checks that the bus at addr (BusAddress) may answer: an
// address is given and, for a unix socket file, the file exists. It does
// not connect: auto's choice costs a stat, not a round trip.
func Reachable(addr string) error {
	if addr == "" {
		return fmt.Errorf("%w: $DBUS_SESSION_BUS_ADDRESS and $XDG_RUNTIME_DIR are unset", ErrNoBus)
	}
	eps, err := ParseBusAddress(addr)
	if err != nil {
		return err
	}
	var missing error
	for _, e := range eps {
		if e.Path == "" {
			return nil // abstract socket, tcp: only a connect would tell
		}
		if _, err := os.Stat(e.Path); err == nil {
			return nil
		} else if missing == nil {
			missing = err
		}
	}
	return fmt.Errorf("%w at %s (is systemd --user running, with dbus-user-session?): %w", ErrNoBus, addr, missing)
}

// UseScope decides, by m, whether a container's cgroup comes from a
// systemd scope made for its monitor (true) or from the caller's own
// cgroup (false, cgroupfs). Auto asks for a scope only when the own cgroup
// gives no writable subtree, the host runs systemd on cgroup v2 and a
// user bus is there; without a bus that costs a stat, so the cgroupfs
// path starts as fast as before. An error is a scope asked for (Systemd)
// that cannot be had. getenv is os.Getenv.
func UseScope(m Manager, getenv func(string) string) (bool, error) {
	switch m {
	case Cgroupfs:
		return false, nil
	case Systemd:
		if err := Reachable(BusAddress(getenv)); err != nil {
			return false, fmt.Errorf("--cgroup-manager=systemd: %w", err)
		}
		return true, nil
	}
	if !cgroupv2.Systemd() || Reachable(BusAddress(getenv)) != nil {
		return false, nil
	}
	st, err := cgroupv2.Detect()
	if err != nil {
		return false, fmt.Errorf("find the cgroup for containers: %w", err)
	}
	return st.DelegateRoot == "" && st.Version == cgroupv2.V2, nil
}

// ScopeOptions are what StartScope needs.
type ScopeOptions struct {
	// Bus is the user bus's address (BusAddress).
	Bus string
	// UID is the user's uid outside every user namespace, for the bus's
	// EXTERNAL authentication.
	UID int
	// Name is the scope's unit name (ScopeName).
	Name string
	// PID is the process put in the scope: the container's monitor.
	PID int
	// Description is the unit's description, for systemctl status.
	Description string
}

// startTimeout bounds the whole exchange: a user manager that does not
// answer in that time fails the start rather than hang it.
const startTimeout = 10 * time.Second

// StartScope asks the user's systemd for a transient scope with
// Delegate=yes holding o.PID, and waits until its start job is done: the
// process is then in the scope's cgroup, which the user may write. The
// scope goes away by itself (CollectMode=inactive-or-failed) when its
// last process has exited; nothing is left to undo on a later failure.
func StartScope(ctx context.Context, o ScopeOptions) error {
	ctx, cancel := context.WithTimeout(ctx, startTimeout)
	defer cancel()
	conn, err := connect(ctx, o.Bus, o.UID)
	if err != nil {
		return err
	}
	defer conn.Close()
	props := []sd.Property{
		sd.PropDescription(o.Description),
		sd.PropPids(uint32(o.PID)),
		{Name: "Delegate", Value: dbus.MakeVariant(true)},
		{Name: "CollectMode", Value: dbus.MakeVariant("inactive-or-failed")},
	}
	done := make(chan string, 1)
	if _, err := conn.StartTransientUnitContext(ctx, o.Name, "fail", props, done); err != nil {
		return fmt.Errorf("systemd --user: start transient unit %s: %w", o.Name, err)
	}
	select {
	case res := <-done:
		if res != "done" {
			return fmt.Errorf("systemd --user: start job of %s ended %q (journalctl --user -u %s says why)", o.Name, res, o.Name)
		}
		return nil
	case <-ctx.Done():
		return fmt.Errorf("systemd --user: start job of %s: %w", o.Name, ctx.Err())
	}
}

// AttachOptions are what Attach needs.
type AttachOptions struct {
	// Bus and UID are as in ScopeOptions.
	Bus string
	UID int
	// Unit is the scope (ScopeName) and Subcgroup the cgroup below it
	// ("/sandbox/ID") that the process goes to.
	Unit, Subcgroup string
	// PID is the process to move.
	PID int
}

// Attach asks the user's systemd to move a process into a cgroup below
// one of its units. It is how a process from outside the user manager's
// subtree (an ssh login's session scope) gets into a container's cgroup:
// the kernel lets a user move a process only with write access to the
// cgroup that the source and destination have in common, which there is
// root's user-UID.slice; the user manager hands such a move on to the
// system's systemd (AttachProcessesToUnit, systemd 238 and newer).
func Attach(ctx context.Context, o AttachOptions) error {
	ctx, cancel := context.WithTimeout(ctx, startTimeout)
	defer cancel()
	conn, err := connect(ctx, o.Bus, o.UID)
	if err != nil {
		return err
	}
	defer conn.Close()
	if err := conn.AttachProcessesToUnit(ctx, o.Unit, o.Subcgroup, []uint32{uint32(o.PID)}); err != nil {
		return fmt.Errorf("systemd --user: attach process %d to %s%s: %w", o.PID, o.Unit, o.Subcgroup, err)
	}
	return nil
}

// connect opens go-systemd's connection to the user's systemd over the
// bus at addr, authenticated as uid.
func connect(ctx context.Context, addr string, uid int) (*sd.Conn, error) {
	if err := Reachable(addr); err != nil {
		return nil, err
	}
	conn, err := sd.NewConnection(func() (*dbus.Conn, error) { return dial(ctx, addr, uid) })
	if err != nil {
		return nil, fmt.Errorf("connect to the user's D-Bus at %s as uid %d: %w", addr, uid, err)
	}
	return conn, nil
}

// dial opens one authenticated connection to the bus. go-systemd's own
// constructors authenticate as os.Getuid, which inside the keeper's user
// namespace is 0 and not the uid the bus sees.
func dial(ctx context.Context, addr string, uid int) (*dbus.Conn, error) {
	conn, err := dbus.Dial(addr, dbus.WithContext(ctx))
	if err != nil {
		return nil, err
	}
	if err := conn.Auth([]dbus.Auth{dbus.AuthExternal(strconv.Itoa(uid))}); err != nil {
		conn.Close()
		return nil, fmt.Errorf("authenticate as uid %d: %w", uid, err)
	}
	if err := conn.Hello(); err != nil {
		conn.Close()
		return nil, fmt.Errorf("hello: %w", err)
	}
	return conn, nil
}
