package container

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"

	"sandbox/internal/runflags"
	"sandbox/spec"

	"golang.org/x/sys/unix"
)

// InitPath is where --init's program appears inside the container, the
// path podman and docker use for it.
const InitPath = "/dev/init"

// initPrograms are the small inits --init can bind in, first found first:
// static binaries, since the image may have no C library.
var initPrograms = []string{"/usr/bin/catatonit", "/usr/libexec/podman/catatonit", "/usr/bin/tini-static"}

// zoneinfo is where the host keeps the IANA time zone files.
const zoneinfo = "/usr/share/zoneinfo"

// checkRunFlags checks --pull, --entrypoint, --log-driver and --log-opt
// (into f.log), --tz and --init, and adds the mounts --tz and --init need
// to f.
func (o *CreateOptions) checkRunFlags(f *flags) error {
	if _, err := runflags.ParsePull(o.Pull); err != nil {
		return err
	}
	if o.Entrypoint != nil {
		if _, err := runflags.ParseEntrypoint(*o.Entrypoint); err != nil {
			return err
		}
	}
	var err error
	if f.log, err = ParseLogOpts(o.LogOpts); err != nil {
		return err
	}
	if f.log.Driver, err = runflags.ParseLogDriver(o.LogDriver); err != nil {
		return err
	}
	// As podman: a terminal passed through could be driven by the
	// container (TIOCSTI).
	if f.log.Driver == spec.LogPassthrough && o.TTY {
		return errors.New("--log-driver passthrough cannot be used with -t/--tty: the container would hold your terminal; use the default log driver")
	}
	if f.log.Path != "" {
		if st, err := os.Stat(filepath.Dir(f.log.Path)); err != nil || !st.IsDir() {
			return fmt.Errorf("invalid --log-opt path=%s: %s is not a directory", f.log.Path, filepath.Dir(f.log.Path))
		}
	}
	if err := checkPreserveFds(o.PreserveFDs); err != nil {
		return err
	}
	if o.Replace && o.Name == "" {
		return errors.New("--replace needs --name: it replaces the container of that name")
	}
	if o.Timezone != "" {
		src, err := timezoneFile(o.Timezone)
		if err != nil {
			return err
		}
		f.mounts = append(f.mounts, spec.Mount{Type: "bind", Source: src, Destination: "/etc/localtime", ReadOnly: true})
	}
	if o.Init {
		prog, err := initProgram()
		if err != nil {
			return err
		}
		f.mounts = append(f.mounts, spec.Mount{Type: "bind", Source: prog, Destination: InitPath, ReadOnly: true})
	}
	return nil
}

// timezoneFile is the host file that becomes the container's
// /etc/localtime for --tz: the host's own for local, else the zone's file.
func timezoneFile(tz string) (string, error) {
	name, err := runflags.ParseTimezone(tz)
	if err != nil {
		return "", err
	}
	file := filepath.Join(zoneinfo, name)
	if name == runflags.TimezoneLocal {
		if file, err = filepath.EvalSymlinks("/etc/localtime"); err != nil {
			return "", fmt.Errorf("--tz local: the host's time zone: %w", err)
		}
	}
	st, err := os.Stat(file)
	if errors.Is(err, os.ErrNotExist) {
		return "", fmt.Errorf("invalid --tz %q: no such time zone in %s; want local or an IANA time zone name like Europe/Paris", tz, zoneinfo)
	}
	if err != nil {
		return "", fmt.Errorf("--tz %s: %w", tz, err)
	}
	if !st.Mode().IsRegular() {
		return "", fmt.Errorf("invalid --tz %q: %s is not a time zone file; want local or an IANA time zone name like Europe/Paris", tz, file)
	}
	return file, nil
}

// checkPreserveFds checks that the n descriptors --preserve-fds passes
// (3..2+n) are open here. Whether they are the caller's to give, and not
// this process's own, is for the caller to know (the CLI asks the
// pre-runtime hook).
func checkPreserveFds(n uint) error {
	if n > 1000 {
		return fmt.Errorf("invalid --preserve-fds %d: want at most 1000 descriptors", n)
	}
	for fd := 3; fd < 3+int(n); fd++ {
		if _, err := unix.FcntlInt(uintptr(fd), unix.F_GETFD, 0); err != nil {
			return fmt.Errorf("invalid --preserve-fds %d: descriptor %d is not open: %w", n, fd, err)
		}
	}
	return nil
}

// logDriver is the name inspect shows for a container's log driver.
func logDriver(l spec.LogConfig) string {
	if l.Driver == "" {
		return spec.LogK8sFile
	}
	return l.Driver
}

// initProgram finds the program --init binds in.
func initProgram() (string, error) {
	for _, p := range initPrograms {
		if st, err := os.Stat(p); err == nil && st.Mode().IsRegular() {
			return p, nil
		}
	}
	return "", fmt.Errorf("--init: no init program on this host (looked for %s): install Debian's catatonit package", initPrograms[0])
}

// entrypointOf is the entrypoint and command that --entrypoint leaves of the
// image's: docker drops the image's Cmd when --entrypoint is given.
func entrypointOf(o *CreateOptions, imgEntrypoint, imgCmd []string) ([]string, []string, error) {
	if o.Entrypoint == nil {
		return imgEntrypoint, imgCmd, nil
	}
	ep, err := runflags.ParseEntrypoint(*o.Entrypoint)
	if err != nil {
		return nil, nil, err
	}
	if len(ep) == 0 {
		ep = nil
	}
	return ep, nil, nil
}

// withInit puts --init's program in front of args.
func withInit(init bool, args []string) []string {
	if !init {
		return args
	}
	return append([]string{InitPath, "--"}, args...)
}

// replace removes the container named name, running or not, for
// --replace; a name that no container has is no error.
func (r *Runtime) replace(ctx context.Context, name string) error {
	if err := r.openStore(); err != nil {
		return err
	}
	all, err := r.Store.Containers()
	if err != nil {
		return fmt.Errorf("list containers: %w", err)
	}
	for _, c := range all {
		for _, n := range c.Names {
			if n != name {
				continue
			}
			err := r.Remove(ctx, c.ID, RemoveOptions{Force: true})
			if err != nil && !errors.Is(err, ErrNoSuchContainer) {
				return fmt.Errorf("--replace: %w", err)
			}
			return nil
		}
	}
	return nil
}
