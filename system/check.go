package system

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	osexec "os/exec"
	"os/user"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"sandbox/cgroupv2"
	"sandbox/userns"

	"golang.org/x/sys/unix"
)

// State is how a requirement stands.
type State string

const (
	// OK: the requirement is met.
	OK State = "ok"
	// Warning: not met, but containers run; a feature is lost (limits,
	// networking, speed, containers outliving a logout).
	Warning State = "warning"
	// Missing: required, and not met: rootless containers cannot run
	// until it is fixed.
	Missing State = "missing"
)

// Item is one requirement.
type Item struct {
	// Name identifies the requirement ("subuid", "newuidmap", "cgroup-memory").
	Name  string `json:"name"`
	State State  `json:"state"`
	// Detail says in one line what was found.
	Detail string `json:"detail"`
	// Fix is the command that sets the requirement up, given for every
	// item: for one that is met it is what keeps it so on another host.
	Fix string `json:"fix"`
}

// CheckReport is what Check found.
type CheckReport struct {
	User string `json:"user"`
	UID  int    `json:"uid"`
	// InsideKeeper: check ran inside the keeper's user namespace (started
	// by a sandbox process there), where the owners and capabilities of
	// root's files are hidden; the items that depend on them say so.
	InsideKeeper bool   `json:"insideKeeper"`
	Items        []Item `json:"items"`
}

// Count is the number of items in state s.
func (r *CheckReport) Count(s State) int {
	n := 0
	for _, it := range r.Items {
		if it.State == s {
			n++
		}
	}
	return n
}

// CheckOptions say what to check.
type CheckOptions struct {
	// GraphRoot is the store whose driver is reported and beside which
	// native overlay is tried. It must be set.
	GraphRoot string
}

// Check tests every requirement of a rootless container for the calling
// user. Every probe's failure is the state of its item; nothing is fatal.
func Check(ctx context.Context, o CheckOptions) *CheckReport {
	uid, gid := hostIDs()
	c := &checker{ctx: ctx, uid: uid, gid: gid, name: strconv.Itoa(uid), inside: userns.Inside()}
	if u, err := user.LookupId(c.name); err == nil {
		c.name = u.Username
	}
	r := &CheckReport{User: c.name, UID: uid, InsideKeeper: c.inside}
	subUIDs, subGIDs, subErr := userns.SubIDs(uid)
	fix := c.subIDFix()
	r.Items = append(r.Items,
		subIDItem("subuid", "/etc/subuid", c.name, subUIDs, subErr, fix),
		subIDItem("subgid", "/etc/subgid", c.name, subGIDs, subErr, fix))
	ranges := len(subUIDs) > 0 && len(subGIDs) > 0
	r.Items = append(r.Items,
		c.idToolItem("newuidmap", capSetuid, "cap_setuid", ranges),
		c.idToolItem("newgidmap", capSetgid, "cap_setgid", ranges),
		c.usernsItem(),
		c.runtimeDirItem(),
		c.overlayItem(o.GraphRoot),
		deviceItem("/dev/fuse", "fuse-overlayfs needs it (native overlay does not)", "fuse"),
		deviceItem("/dev/net/tun", "slirp4netns and pasta need it for container networks", "tun"),
		c.netToolItem("slirp4netns", "slirp4netns"),
		c.netToolItem("pasta", "passt"))
	st, err := cgroupv2.Detect()
	r.Items = append(r.Items, c.cgroupItems(st, err)...)
	r.Items = append(r.Items, c.lingerItem(), c.pingItem(), portsItem())
	return r
}

// hostIDs are the user's ids outside every namespace. A process started
// inside the keeper without being told them (`sandbox unshare sandbox
// check`) knows only its namespace's ids: the keeper's map translates them.
func hostIDs() (uid, gid int) {
	uid, gid = userns.HostIDs()
	if !userns.Inside() {
		return uid, gid
	}
	uids, gids, err := userns.CurrentMapping()
	if err != nil {
		return uid, gid
	}
	if h, ok := userns.ToHost(uids, uint32(os.Getuid())); ok {
		uid = int(h)
	}
	if h, ok := userns.ToHost(gids, uint32(os.Getgid())); ok {
		gid = int(h)
	}
	return uid, gid
}

// checker holds who is checked and how.
type checker struct {
	ctx      context.Context
	uid, gid int    // the user's host ids
	name     string // the user's name, or uid as a string
	inside   bool   // running inside the keeper's user namespace
}

func apt(pkg string) string { return "sudo apt-get install " + pkg }

// sysctl reads /proc/sys/NAME (dots for slashes); exists is false when
// the kernel has no such setting.
func sysctl(name string) (data []byte, exists bool, err error) {
	data, err = os.ReadFile("/proc/sys/" + strings.ReplaceAll(name, ".", "/"))
	if errors.Is(err, fs.ErrNotExist) {
		return nil, false, nil
	}
	if err != nil {
		return nil, true, fmt.Errorf("read %s: %w", name, err)
	}
	return data, true, nil
}

// persistSysctl is the command that sets a sysctl now and at every boot.
func persistSysctl(name, value, file string) string {
	v := value
	if strings.Contains(value, " ") {
		v = strconv.Quote(value)
	}
	return fmt.Sprintf("sudo sysctl -w %s=%s && echo '%s=%s' | sudo tee /etc/sysctl.d/%s", name, v, name, value, file)
}

// subIDFix is the usermod command that grants the user 65536 ids in the
// first block free in both files.
func (c *checker) subIDFix() string {
	next := uint64(firstSubID)
	for _, f := range []string{"/etc/subuid", "/etc/subgid"} {
		data, err := os.ReadFile(f)
		if err != nil {
			continue // a missing file is an empty one; usermod creates it
		}
		if n := NextFreeSubIDs(data); n > next {
			next = n
		}
	}
	r := fmt.Sprintf("%d-%d", next, next+65535)
	return fmt.Sprintf("sudo usermod --add-subuids %s --add-subgids %s %s", r, r, c.name)
}

func subIDItem(name, file, user string, ranges []userns.Range, err error, fix string) Item {
	it := Item{Name: name, Fix: fix}
	kind := strings.TrimPrefix(name, "sub") + "s" // uids, gids
	var total uint64
	for _, r := range ranges {
		total += uint64(r.Count)
	}
	switch {
	case err != nil:
		it.State, it.Detail, it.Fix = Missing, err.Error(), "sudoedit "+file
	case len(ranges) == 0:
		it.State = Warning
		it.Detail = fmt.Sprintf("no subordinate %s for %s in %s: containers get a single-id mapping (only %s 0 inside)", kind, user, file, kind[:3])
	case total < 65536:
		it.State = Warning
		it.Detail = fmt.Sprintf("only %d subordinate %s from %d: images with files of ids up to 65535 need 65536", total, kind, ranges[0].Start)
	default:
		it.State = OK
		it.Detail = fmt.Sprintf("%d subordinate %s from %d", total, kind, ranges[0].Start)
		if len(ranges) > 1 {
			it.Detail = fmt.Sprintf("%d subordinate %s in %d ranges", total, kind, len(ranges))
		}
	}
	return it
}

// idToolItem checks newuidmap or newgidmap: found in PATH, and able to
// write other users' ids (setuid root, or the file capability).
func (c *checker) idToolItem(tool string, capNum int, capName string, needed bool) Item {
	it := Item{Name: tool, State: Missing, Fix: apt("uidmap")}
	unneeded := ""
	if !needed {
		it.State = Warning
		unneeded = " (needed once you have subordinate ids)"
	}
	path, err := osexec.LookPath(tool)
	if err != nil {
		it.Detail = "not found in PATH" + unneeded
		return it
	}
	var st unix.Stat_t
	if err := unix.Stat(path, &st); err != nil {
		it.Detail = fmt.Sprintf("stat %s: %v", path, err)
		return it
	}
	caps, capErr := fileCaps(path)
	setuid := st.Mode&unix.S_ISUID != 0
	var sfs unix.Statfs_t
	nosuid := unix.Statfs(path, &sfs) == nil && sfs.Flags&unix.ST_NOSUID != 0
	switch {
	case nosuid && (setuid || capErr == nil && caps.Has(capNum)):
		mnt := mountPoint(path)
		it.Detail = fmt.Sprintf("%s is on a file system mounted nosuid (%s): its privileges are ignored", path, mnt)
		it.Fix = "sudo mount -o remount,suid " + mnt
	case setuid && st.Uid == 0:
		it.State, it.Detail = OK, path+", setuid root"
	case capErr == nil && caps.Has(capNum) && caps.Effective:
		it.State, it.Detail = OK, fmt.Sprintf("%s, file capability %s", path, capName)
	case capErr == nil && caps.Has(capNum):
		it.Detail = fmt.Sprintf("%s has %s permitted but not effective", path, capName)
		it.Fix = fmt.Sprintf("sudo setcap %s+ep %s", capName, path)
	case c.inside && setuid:
		it.State = OK
		it.Detail = path + ", setuid (its owner is hidden inside the keeper's user namespace)"
	case c.inside:
		it.State = Warning
		it.Detail = path + ": owner and capabilities are hidden inside the keeper's user namespace; run sandbox check from a shell"
	default:
		it.Detail = fmt.Sprintf("%s is neither setuid root nor has the file capability %s: it cannot map other ids%s", path, capName, unneeded)
		it.Fix = fmt.Sprintf("sudo chown root:root %s && sudo chmod u+s %s", path, path)
	}
	return it
}

// fileCaps reads a program's security.capability attribute. A program
// without one has no capabilities (and no error).
func fileCaps(path string) (FileCaps, error) {
	buf := make([]byte, 64)
	n, err := unix.Getxattr(path, "security.capability", buf)
	if errors.Is(err, unix.ENODATA) || errors.Is(err, unix.ENOTSUP) {
		return FileCaps{}, nil
	}
	if err != nil {
		return FileCaps{}, fmt.Errorf("read file capabilities of %s: %w", path, err)
	}
	return ParseFileCaps(buf[:n])
}

// mountPoint is the directory at which the file system holding path is
// mounted: the last directory, walking up, on the same device.
func mountPoint(path string) string {
	var st unix.Stat_t
	if unix.Stat(path, &st) != nil {
		return path
	}
	dev, mp := st.Dev, path
	for d := filepath.Dir(path); ; d = filepath.Dir(d) {
		if unix.Stat(d, &st) != nil || st.Dev != dev {
			return mp
		}
		mp = d
		if d == "/" {
			return d
		}
	}
}

// runtimeDirItem checks XDG_RUNTIME_DIR: set, a directory, the user's,
// closed to others. Ownership is compared with the process's own uid:
// it sees files in the same namespace as stat does (outside, the host
// uid; inside the keeper, 0).
func (c *checker) runtimeDirItem() Item {
	dir := os.Getenv("XDG_RUNTIME_DIR")
	want := fmt.Sprintf("/run/user/%d", c.uid)
	it := Item{Name: "xdg-runtime-dir", State: Warning,
		Fix: fmt.Sprintf("sudo install -d -m 0700 -o %d -g %d %s && export XDG_RUNTIME_DIR=%s", c.uid, c.gid, want, want)}
	fallback := fmt.Sprintf(": runtime state goes to /tmp/sandbox-run-%d", c.uid)
	if dir == "" {
		it.Detail = "XDG_RUNTIME_DIR is not set" + fallback
		return it
	}
	var st unix.Stat_t
	if err := unix.Stat(dir, &st); err != nil {
		it.Detail = fmt.Sprintf("%s: %v%s", dir, err, fallback)
		return it
	}
	switch {
	case !filepath.IsAbs(dir) || st.Mode&unix.S_IFMT != unix.S_IFDIR:
		it.Detail = dir + " is not an absolute path to a directory" + fallback
	case int(st.Uid) != os.Getuid():
		it.Detail = fmt.Sprintf("%s belongs to uid %d, not to you%s", dir, st.Uid, fallback)
	case st.Mode&0o077 != 0:
		it.Detail = fmt.Sprintf("%s has mode %04o: others can reach runtime state", dir, st.Mode&0o7777)
		it.Fix = "chmod 0700 " + dir
	default:
		it.State, it.Detail = OK, dir+", yours, mode 0700"
		if st.Mode&0o7777 != 0o700 {
			it.Detail = fmt.Sprintf("%s, yours, mode %04o", dir, st.Mode&0o7777)
		}
	}
	return it
}

// deviceItem checks that a device node is readable and writable.
func deviceItem(path, why, module string) Item {
	it := Item{Name: path, State: Warning, Fix: "sudo chmod 0666 " + path}
	if _, err := os.Stat(path); errors.Is(err, fs.ErrNotExist) {
		it.Detail = path + " does not exist: " + why
		it.Fix = "sudo modprobe " + module + " && sudo chmod 0666 " + path
		return it
	}
	if err := unix.Access(path, unix.R_OK|unix.W_OK); err != nil {
		it.Detail = fmt.Sprintf("%s is not readable and writable by you (%v): %s", path, err, why)
		return it
	}
	it.State, it.Detail = OK, "readable and writable"
	return it
}

// netToolItem checks a user-mode network program.
func (c *checker) netToolItem(prog, pkg string) Item {
	it := Item{Name: prog, State: Warning, Fix: apt(pkg)}
	t := networkTool(c.ctx, prog, pkg)
	if t.Executable == "" {
		it.Detail = fmt.Sprintf("not found in PATH: containers cannot use --network %s", prog)
		return it
	}
	it.State, it.Detail = OK, t.Executable
	switch v := shortVersion(prog, t.Version); {
	case v != "":
		it.Detail += ", version " + v
	case t.Package != "":
		it.Detail += ", package " + t.Package
	}
	return it
}

// shortVersion is the version a program's --version output names on its
// first line ("slirp4netns version 1.2.0" gives "1.2.0"), or "".
func shortVersion(prog, out string) string {
	v := strings.TrimSpace(strings.TrimPrefix(firstLine([]byte(out)), prog))
	v = strings.TrimSpace(strings.TrimPrefix(v, "version"))
	if v == "" || strings.Contains(v, "unknown") {
		return ""
	}
	return v
}

// toolVersion runs `PATH --version` and returns its output, or "".
func toolVersion(ctx context.Context, path string) string {
	ctx, cancel := context.WithTimeout(ctx, 3*time.Second)
	defer cancel()
	out, err := osexec.CommandContext(ctx, path, "--version").Output()
	if err != nil {
		return ""
	}
	return strings.TrimSpace(string(out))
}

// lingerItem: with systemd-logind, a user's processes (containers too)
// may be stopped when the last session ends unless lingering is on.
func (c *checker) lingerItem() Item {
	it := Item{Name: "linger", Fix: "sudo loginctl enable-linger " + c.name}
	if !cgroupv2.Systemd() {
		it.State, it.Detail = OK, "no systemd: nothing stops your containers at logout"
		return it
	}
	if _, err := os.Stat("/var/lib/systemd/linger/" + c.name); err == nil {
		it.State, it.Detail = OK, "enabled: your containers outlive your sessions"
		return it
	}
	it.State = Warning
	it.Detail = "not enabled: systemd may stop your containers when your last session ends"
	return it
}

// pingItem: ping without privileges opens ICMP echo sockets, allowed to
// the groups in net.ipv4.ping_group_range.
func (c *checker) pingItem() Item {
	it := Item{Name: "ping-group-range", State: Warning,
		Fix: persistSysctl("net.ipv4.ping_group_range", "0 2147483647", "50-sandbox-ping.conf")}
	data, exists, err := sysctl("net.ipv4.ping_group_range")
	if err != nil || !exists {
		it.Detail = fmt.Sprintf("cannot read net.ipv4.ping_group_range (%v)", err)
		return it
	}
	lo, hi, err := ParseRange(data)
	if err != nil {
		it.Detail = err.Error()
		return it
	}
	gids := []int{os.Getgid()}
	if more, err := os.Getgroups(); err == nil {
		gids = append(gids, more...)
	}
	for _, g := range gids {
		if uint32(g) >= lo && uint32(g) <= hi {
			it.State = OK
			it.Detail = fmt.Sprintf("%d-%d covers your group %d: ping works", lo, hi, g)
			return it
		}
	}
	it.Detail = fmt.Sprintf("%d-%d covers none of your groups: ping fails in containers on the host's network", lo, hi)
	if lo > hi {
		it.Detail = fmt.Sprintf("empty (%d %d): ping fails in containers on the host's network", lo, hi)
	}
	return it
}

// portsItem reports the lowest port an unprivileged user may bind, so
// publish.
func portsItem() Item {
	it := Item{Name: "unprivileged-ports", State: OK,
		Fix: persistSysctl("net.ipv4.ip_unprivileged_port_start", "80", "50-sandbox-ports.conf")}
	data, exists, err := sysctl("net.ipv4.ip_unprivileged_port_start")
	if err != nil || !exists {
		it.Detail = fmt.Sprintf("cannot read net.ipv4.ip_unprivileged_port_start (%v): ports below 1024 may not be publishable", err)
		return it
	}
	n, err := ParseInt(data)
	switch {
	case err != nil:
		it.Detail = err.Error()
	case n <= 0:
		it.Detail = "every port can be published"
	default:
		it.Detail = fmt.Sprintf("ports below %d cannot be published", n)
	}
	return it
}
