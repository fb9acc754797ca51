package container

// The runtime spec of a new container: what runs, as whom, with which
// mounts, namespaces, capabilities and filter, from the image's
// configuration and the flags of create and run.

import (
	"fmt"
	"os"
	"path"
	"sort"
	"strings"

	"sandbox/imageuser"
	"sandbox/network"
	"sandbox/spec"
	"sandbox/userns"

	v1 "github.com/opencontainers/image-spec/specs-go/v1"
	"golang.org/x/sys/unix"
)

const defaultPath = "PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"

// buildSpec fills cfg.Spec from the image's configuration and the flags.
func (r *Runtime) buildSpec(cfg *spec.Config, o *CreateOptions, f *flags, img *v1.ImageConfig, rootfs, runDir string, uidMap, gidMap []userns.IDMap) error {
	s := &cfg.Spec
	s.Rootfs = rootfs
	s.Network = f.netw.net.Mode
	if f.netw.join != nil {
		s.Share = o.Pod.Share
	}
	s.ReadOnly = o.ReadOnly
	s.Privileged = o.Privileged
	if !o.Privileged {
		s.MaskedPaths, s.ReadonlyPaths = f.security.Paths(spec.DefaultMaskedPaths, spec.DefaultReadonlyPaths)
	}
	s.Seccomp = f.seccomp
	if uidMap != nil {
		s.UserNS = &spec.UserNS{UIDMap: toSpecMap(uidMap), GIDMap: toSpecMap(gidMap)}
	}

	// Command: docker drops the image's Cmd when --entrypoint is given.
	entrypoint, cmd, err := entrypointOf(o, img.Entrypoint, img.Cmd)
	if err != nil {
		return err
	}
	if len(o.Command) > 0 {
		cmd = o.Command
	}
	args := append(append([]string{}, entrypoint...), cmd...)
	if len(args) == 0 {
		return fmt.Errorf("no command: the image %s has no Cmd or Entrypoint; give a command after the image", o.Image)
	}
	cfg.Command = args
	stopSignal := o.StopSignal
	if stopSignal == "" {
		stopSignal = img.StopSignal
	}
	stop := unix.SIGTERM
	if stopSignal != "" {
		sig, err := ParseSignal(stopSignal)
		if err != nil {
			return fmt.Errorf("the image's StopSignal: %w", err)
		}
		stop = sig
	}
	stopTimeout := 10
	if o.StopTimeout != nil {
		stopTimeout = *o.StopTimeout
	}
	cfg.Host = spec.HostConfig{
		Entrypoint: entrypoint, Cmd: cmd,
		Binds: o.Volumes, Mounts: o.Mounts, Tmpfs: o.Tmpfs,
		CapAdd: o.CapAdd, CapDrop: o.CapDrop, Privileged: o.Privileged, ReadOnly: o.ReadOnly,
		SecurityOpt: o.SecurityOpts,
		NetworkMode: f.netw.net.Mode, Network: f.netw.net, Ports: f.netw.ports, PublishAll: o.PublishAll,
		DNS: f.netw.names.DNS, DNSSearch: f.netw.names.DNSSearch, DNSOptions: f.netw.names.DNSOptions, ExtraHosts: f.netw.names.ExtraHosts,
		UsernsMode: o.UserNS, Interactive: o.Interactive, TTY: o.TTY,
		StopSignal: SignalName(stop), StopTimeout: stopTimeout, Restart: f.restart, Log: f.log,
		Resources: f.resources,
		Timezone:  o.Timezone, Timeout: o.Timeout, Init: o.Init,
	}

	hostname := o.Hostname
	if hostname == "" {
		hostname = cfg.ID[:12]
		if f.netw.net.Mode == spec.NetworkHost {
			if h, err := os.Hostname(); err == nil {
				hostname = h
			}
		}
	}
	s.Hostname = hostname

	// User: -u, else the image's USER, else keep-id's own ids, else root.
	userSpec := o.User
	if userSpec == "" {
		userSpec = img.User
	}
	if userSpec == "" && o.UserNS == "keep-id" {
		uid, gid := userns.HostIDs()
		userSpec = fmt.Sprintf("%d:%d", uid, gid)
	}
	// The new container's files are its image's (imageusers.go).
	passwd, group, err := r.imageUserFilesCached(cfg.ImageID, rootfs)
	if err != nil {
		return err
	}
	user, err := imageuser.ResolveUser(userSpec, imageuser.ParsePasswd(passwd), imageuser.ParseGroup(group))
	if err != nil {
		return err
	}
	cfg.Host.User = userSpec

	env := []string{"HOSTNAME=" + hostname}
	if o.TTY {
		env = append(env, "TERM=xterm")
	}
	env = spec.MergeEnv(env, img.Env, f.env)
	if !spec.HasEnv(env, "PATH") {
		env = append([]string{defaultPath}, env...)
	}
	if !spec.HasEnv(env, "HOME") {
		env = append(env, "HOME="+user.Home)
	}

	cwd := o.Workdir
	if cwd == "" {
		cwd = img.WorkingDir
	}
	if cwd == "" {
		cwd = "/"
	}
	s.Process = spec.Process{
		Args:            withInit(o.Init, args),
		Env:             env,
		Cwd:             path.Clean(cwd),
		UID:             user.UID,
		GID:             user.GID,
		AdditionalGIDs:  user.AdditionalGIDs,
		Capabilities:    f.caps,
		Terminal:        o.TTY,
		Stdin:           o.Interactive,
		Rows:            o.Rows,
		Cols:            o.Cols,
		Rlimits:         f.rlimits,
		PreserveFDs:     int(o.PreserveFDs),
		NoNewPrivileges: f.security.NoNewPrivileges,
	}

	// A container that joins another's network sees that one's addresses.
	if j := f.netw.join; j != nil && j.cfg != nil {
		cfg.Host.Addresses = j.cfg.Host.Addresses
	} else if cfg.Host.Addresses, err = network.AddressesFor(f.netw.net); err != nil {
		return err
	}
	mounts, made, err := r.prepareVolumes(withImageVolumes(f.mounts, img.Volumes), rootfs, user.UID, user.GID, uidMap, gidMap)
	if err != nil {
		return err
	}
	f.madeVolumes = made
	s.Mounts = containerMounts(mounts, etcMounts(runDir, o.UserNS == "keep-id"), gid5Mapped(uidMap != nil))
	return nil
}

// gid5Mapped reports whether the tty group (gid 5) exists in the
// container's user namespace, for the gid= option of /dev/pts.
func gid5Mapped(ownUserNS bool) bool {
	if ownUserNS {
		return true // keep-id maps every id of the keeper's namespace
	}
	_, gids, err := userns.CurrentMapping()
	if err != nil {
		return false
	}
	_, ok := userns.ToHost(gids, 5)
	return ok
}

// containerMounts is the full mount list: the standard file systems, the
// user's mounts, then the /etc files unless the user mounted over them;
// parents before children, otherwise in order.
func containerMounts(user, etc []spec.Mount, gid5 bool) []spec.Mount {
	ms := spec.StandardMounts(gid5)
	taken := map[string]bool{}
	for _, m := range user {
		taken[m.Destination] = true
	}
	ms = append(ms, user...)
	for _, m := range etc {
		if !taken[m.Destination] {
			ms = append(ms, m)
		}
	}
	sort.SliceStable(ms, func(i, j int) bool { return depth(ms[i].Destination) < depth(ms[j].Destination) })
	return ms
}

func depth(p string) int {
	if p == "/" {
		return 0
	}
	return strings.Count(path.Clean(p), "/")
}
