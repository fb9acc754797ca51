package container

import (
	"errors"
	"fmt"
	"os"
	"os/user"
	"path/filepath"
	"slices"
	"strconv"

	"sandbox/imageuser"
	"sandbox/internal/atomicfile"
	"sandbox/network"
	"sandbox/spec"
	"sandbox/userns"
)

// etcFiles are the container's /etc/hostname, /etc/hosts and
// /etc/resolv.conf, its /run/.containerenv, and with --userns=keep-id its
// /etc/passwd and /etc/group. They live in its run directory, as runtime
// state: a reboot takes them, and every start writes them again (the
// host's resolvers or the container's name may have changed meanwhile).
var etcFiles = []string{"hostname", "hosts", "resolv.conf"}

// keepIDFiles are the etc files of a container with --userns=keep-id
// only: the image's, with the user's own entry added.
var keepIDFiles = []string{"passwd", "group"}

// containerEnv is the file, in the run directory, bound on
// /run/.containerenv: its presence tells programs inside that they run in
// a container (podman's convention, which toolbox and others read).
const containerEnv = "containerenv"

// etcMounts binds the files of runDir over the container's own.
func etcMounts(runDir string, keepID bool) []spec.Mount {
	var mounts []spec.Mount
	names := etcFiles
	if keepID {
		names = append(slices.Clone(etcFiles), keepIDFiles...)
	}
	for _, name := range names {
		mounts = append(mounts, spec.Mount{Type: "bind", Source: filepath.Join(runDir, name), Destination: "/etc/" + name})
	}
	return append(mounts, spec.Mount{Type: "bind", Source: filepath.Join(runDir, containerEnv), Destination: "/run/.containerenv"})
}

// writeEtcFiles writes the files for the container of cfg into runDir.
func (r *Runtime) writeEtcFiles(runDir string, cfg *spec.Config) error {
	hostHosts, err := os.ReadFile("/etc/hosts")
	if err != nil && !errors.Is(err, os.ErrNotExist) {
		return fmt.Errorf("read /etc/hosts: %w", err)
	}
	hostResolv, err := os.ReadFile("/etc/resolv.conf")
	if err != nil && !errors.Is(err, os.ErrNotExist) {
		return fmt.Errorf("read /etc/resolv.conf: %w", err)
	}
	h := &cfg.Host
	names := network.Names{
		Hostname: cfg.Spec.Hostname, Name: cfg.Name, ExtraHosts: h.ExtraHosts,
		DNS: h.DNS, DNSSearch: h.DNSSearch, DNSOptions: h.DNSOptions,
	}
	n := h.Network
	if n.Mode == "" { // a container from before networks were recorded
		n.Mode = cfg.Spec.Network
	}
	data := map[string][]byte{
		"hostname":    []byte(cfg.Spec.Hostname + "\n"),
		"hosts":       network.HostsFile(n, h.Addresses, names, hostHosts),
		"resolv.conf": network.ResolvConf(n, h.Addresses, names, hostResolv),
		containerEnv:  r.containerEnv(cfg),
	}
	files := append(slices.Clone(etcFiles), containerEnv)
	if h.UsernsMode == "keep-id" {
		if data["passwd"], data["group"], err = keepIDUserFiles(cfg); err != nil {
			return err
		}
		files = append(files, keepIDFiles...)
	}
	for _, name := range files {
		if err := atomicfile.Write(filepath.Join(runDir, name), data[name], 0o644); err != nil {
			return err
		}
	}
	return nil
}

// containerEnv is the content of /run/.containerenv: empty, as podman
// leaves it, unless the container is privileged; then podman's keys, as
// a privileged container sees its engine anyway.
func (r *Runtime) containerEnv(cfg *spec.Config) []byte {
	if !cfg.Host.Privileged {
		return nil
	}
	return fmt.Appendf(nil, "engine=%q\nname=%q\nid=%q\nimage=%q\nimageid=%q\nrootless=1\n",
		"sandbox-"+r.Version, cfg.Name, cfg.ID, cfg.Image, cfg.ImageID)
}

// keepIDUserFiles are the image's /etc/passwd and /etc/group (read
// inside the container's root filesystem, imageuser.ReadFile) with entries for
// the user and their group added unless their ids are there already, as
// podman adds them for --userns=keep-id: inside, the ids are the user's
// own, and `id -un` and the like want a name for them. The home is the
// working directory and the shell /bin/sh, as podman writes them.
func keepIDUserFiles(cfg *spec.Config) (passwd, group []byte, err error) {
	passwd, group, err = imageuser.Files(cfg.Spec.Rootfs)
	if err != nil {
		return nil, nil, err
	}
	uid, gid := userns.HostIDs()
	u, err := user.LookupId(strconv.Itoa(uid))
	if err != nil {
		return passwd, group, nil // no name to give: as the image has it
	}
	groupName := u.Username
	if g, err := user.LookupGroupId(strconv.Itoa(gid)); err == nil {
		groupName = g.Name
	}
	if !slices.ContainsFunc(imageuser.ParsePasswd(passwd), func(e imageuser.PasswdEntry) bool { return e.UID == uint32(uid) }) {
		passwd = fmt.Appendf(lineEnd(passwd), "%s:*:%d:%d::%s:/bin/sh\n", u.Username, uid, gid, cfg.Spec.Process.Cwd)
	}
	if !slices.ContainsFunc(imageuser.ParseGroup(group), func(e imageuser.GroupEntry) bool { return e.GID == uint32(gid) }) {
		group = fmt.Appendf(lineEnd(group), "%s:x:%d:%s\n", groupName, gid, u.Username)
	}
	return passwd, group, nil
}

// lineEnd is data ending with a newline, unless it is empty.
func lineEnd(data []byte) []byte {
	if len(data) > 0 && data[len(data)-1] != '\n' {
		return append(data, '\n')
	}
	return data
}
