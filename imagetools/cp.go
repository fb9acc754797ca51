package imagetools

import (
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"strings"
	"syscall"

	"sandbox/container"
	"sandbox/spec"

	securejoin "github.com/cyphar/filepath-securejoin"
	"go.podman.io/storage/pkg/archive"
	"go.podman.io/storage/pkg/chrootarchive"
	"go.podman.io/storage/pkg/idtools"
)

// CopyOptions say what cp copies. One of Src and Dst is CONTAINER:PATH;
// the other a host path, or "-" for a tar stream (Stdin as source,
// Stdout as destination).
type CopyOptions struct {
	Src, Dst string
	// Archive (-a) keeps the ids of what is copied in as they are; else
	// it belongs to the container's root, as docker's cp does. What is
	// copied out belongs to the user who copies.
	Archive bool
	Stdin   io.Reader
	Stdout  io.Writer
}

// ErrNotFound is a source or destination that is not there.
var ErrNotFound = errors.New("no such file or directory")

// ParseLocation splits a cp argument into a container and a path in it,
// as docker does: an argument that starts with / or . is a host path, as
// is one without a colon; else the container is what comes before the
// first colon. ctr is "" for a host path.
func ParseLocation(arg string) (ctr, p string) {
	if strings.HasPrefix(arg, "/") || strings.HasPrefix(arg, ".") {
		return "", arg
	}
	if c, p, ok := strings.Cut(arg, ":"); ok {
		return c, p
	}
	return "", arg
}

// Copy copies between a container (running or not) and the host, or a
// tar stream.
func Copy(ctx context.Context, rt *container.Runtime, o CopyOptions) error {
	srcCtr, srcPath := ParseLocation(o.Src)
	dstCtr, dstPath := ParseLocation(o.Dst)
	switch {
	case srcCtr != "" && dstCtr != "":
		return errors.New("copying between containers is not supported: copy out to the host, then in")
	case srcCtr == "" && dstCtr == "":
		return fmt.Errorf("cp %s %s: one of them must be CONTAINER:PATH", o.Src, o.Dst)
	}
	ref := srcCtr + dstCtr
	c, err := rt.Lookup(ref)
	if errors.Is(err, container.ErrNoSuchContainer) {
		return fmt.Errorf("container %q does not exist: %w", ref, container.ErrNoSuchContainer) // podman's words
	}
	if err != nil {
		return err
	}
	return withRootfs(rt, c, func(rootfs string) error {
		if srcCtr != "" {
			if !path.IsAbs(srcPath) {
				srcPath = "/" + srcPath
			}
			return copyOut(c, rootfs, srcPath, o)
		}
		if !path.IsAbs(dstPath) {
			dstPath = "/" + dstPath
		}
		return copyIn(c, rootfs, dstPath, o)
	})
}

// within finds where the container path p lives: the directory that is
// its root (the container's root filesystem, or the source of the
// volume or bind mount p is under) and p relative to that root.
func within(c *container.Container, rootfs, p string) (root, rel string) {
	root, rel = rootfs, path.Clean(p)
	if c.Config == nil {
		return root, rel
	}
	best := ""
	for _, m := range c.Config.Spec.Mounts {
		if m.Type != "bind" || m.Source == "" || len(m.Destination) <= len(best) {
			continue
		}
		if rel != m.Destination && !strings.HasPrefix(rel, m.Destination+"/") {
			continue
		}
		if fi, err := os.Stat(m.Source); err != nil || !fi.IsDir() {
			continue
		}
		best, root = m.Destination, m.Source
	}
	if best != "" {
		rel = "/" + strings.TrimPrefix(strings.TrimPrefix(rel, best), "/")
	}
	return root, rel
}

// resolve is the host path of p inside root, every link resolved inside
// root; with followLast false, a link that is p's last element is left
// as it is (cp copies the link itself).
func resolve(root, p string, followLast bool) (string, error) {
	p = path.Clean(p)
	if followLast || p == "/" {
		return securejoin.SecureJoin(root, p)
	}
	dir, err := securejoin.SecureJoin(root, path.Dir(p))
	if err != nil {
		return "", err
	}
	return filepath.Join(dir, path.Base(p)), nil
}

// contentsOnly: SRC ends with /. — copy what the directory holds, not
// the directory.
func contentsOnly(p string) bool { return strings.HasSuffix(p, "/.") || path.Clean(p) == "/" }

// plan is where a tar of src lands: the directory it is unpacked in and
// the name src's entry takes there ("" for a tar of src's contents).
type plan struct {
	dir, name string
	// mkdir: dir is to be made first (the contents of a directory copied
	// to a path that is not there).
	mkdir bool
}

// place decides where src (a directory or not, given as srcArg) goes at
// dst, a path of the destination's side whose own state is dstInfo
// (nil when there is none) and whose parent is parentDir; dstArg is the
// destination as the user wrote it, for messages and the trailing /.
func place(srcArg string, srcIsDir bool, dst, dstArg, parentDir string, dstInfo fs.FileInfo) (plan, error) {
	base := path.Base(path.Clean(srcArg))
	switch {
	case dstInfo != nil && dstInfo.IsDir():
		if srcIsDir && contentsOnly(srcArg) {
			return plan{dir: dst}, nil
		}
		return plan{dir: dst, name: base}, nil
	case dstInfo != nil:
		if srcIsDir {
			return plan{}, fmt.Errorf("cannot copy the directory %q onto the file %q", srcArg, dstArg)
		}
		return plan{dir: parentDir, name: filepath.Base(dst)}, nil
	}
	if strings.HasSuffix(dstArg, "/") && !srcIsDir {
		return plan{}, fmt.Errorf("%q: the directory does not exist: %w", dstArg, ErrNotFound)
	}
	if srcIsDir && contentsOnly(srcArg) {
		return plan{dir: dst, mkdir: true}, nil
	}
	return plan{dir: parentDir, name: filepath.Base(dst)}, nil
}

// tarOf tars src (a host path) for the plan: src itself under the plan's
// name, or its contents. chroot, when set, is the root the tar is made
// in (a container's).
func tarOf(src string, pl plan, srcIsDir bool, chroot string) (io.ReadCloser, error) {
	dir, opts := src, &archive.TarOptions{Compression: archive.Uncompressed}
	if pl.name != "" || !srcIsDir {
		base := filepath.Base(src)
		dir = filepath.Dir(src)
		opts.IncludeFiles = []string{base}
		if pl.name != "" && pl.name != base {
			opts.RebaseNames = map[string]string{base: pl.name}
		}
	}
	if chroot != "" {
		return chrootarchive.Tar(dir, opts, chroot)
	}
	return archive.TarWithOptions(dir, opts)
}

// untar unpacks r into dir, chrooted into root, so that no entry and no
// link already there can put a file outside root; chown, when set, owns
// everything unpacked.
func untar(r io.Reader, dir, root string, chown *idtools.IDPair) error {
	opts := &archive.TarOptions{NoOverwriteDirNonDir: true, InUserNS: true, ChownOpts: chown}
	return chrootarchive.UntarWithRoot(r, dir, opts, root)
}

func copyOut(c *container.Container, rootfs, srcPath string, o CopyOptions) error {
	root, rel := within(c, rootfs, srcPath)
	follow := strings.HasSuffix(srcPath, "/") || strings.HasSuffix(srcPath, "/.")
	src, err := resolve(root, rel, follow)
	if err != nil {
		return fmt.Errorf("%q on container %s: %w", srcPath, c.Names[0], err)
	}
	fi, err := os.Lstat(src)
	if errors.Is(err, fs.ErrNotExist) || errors.Is(err, syscall.ENOTDIR) {
		return fmt.Errorf("%q could not be found on container %s: %w", srcPath, c.Names[0], ErrNotFound) // podman's words
	}
	if err != nil {
		return err
	}
	if o.Dst == "-" {
		name := filepath.Base(src)
		if src == root {
			name = ""
		}
		rc, err := tarOf(src, plan{name: name}, fi.IsDir(), root)
		if err != nil {
			return err
		}
		_, err = io.Copy(o.Stdout, rc)
		if cerr := rc.Close(); err == nil {
			err = cerr
		}
		return err
	}
	dst, err := filepath.Abs(o.Dst)
	if err != nil {
		return err
	}
	var dstInfo fs.FileInfo
	if dfi, err := os.Stat(dst); err == nil {
		dstInfo = dfi
	} else if !errors.Is(err, fs.ErrNotExist) {
		return err
	}
	parent := filepath.Dir(dst)
	if dstInfo == nil {
		if pfi, err := os.Stat(parent); err != nil || !pfi.IsDir() {
			return fmt.Errorf("%q could not be found on the host: %w", parent, ErrNotFound)
		}
	}
	pl, err := place(srcPath, fi.IsDir(), dst, o.Dst, parent, dstInfo)
	if err != nil {
		return err
	}
	if pl.mkdir {
		if err := os.Mkdir(dst, 0o755); err != nil {
			return err
		}
	}
	rc, err := tarOf(src, pl, fi.IsDir(), root)
	if err != nil {
		return err
	}
	defer rc.Close()
	// The files become the user's: root of the keeper's namespace, where
	// this process runs, is the user.
	if err := untar(rc, pl.dir, pl.dir, &idtools.IDPair{UID: 0, GID: 0}); err != nil {
		return fmt.Errorf("copy %s to %s: %w", o.Src, o.Dst, err)
	}
	return nil
}

func copyIn(c *container.Container, rootfs, dstPath string, o CopyOptions) error {
	root, rel := within(c, rootfs, dstPath)
	dst, err := resolve(root, rel, true)
	if err != nil {
		return fmt.Errorf("%q on container %s: %w", dstPath, c.Names[0], err)
	}
	var chown *idtools.IDPair
	if !o.Archive {
		uid, gid, err := containerRoot(c.Config)
		if err != nil {
			return err
		}
		chown = &idtools.IDPair{UID: uid, GID: gid}
	}
	var dstInfo fs.FileInfo
	if dfi, err := os.Lstat(dst); err == nil {
		dstInfo = dfi
	} else if !errors.Is(err, fs.ErrNotExist) {
		return err
	}
	if o.Src == "-" {
		if dstInfo == nil || !dstInfo.IsDir() {
			return fmt.Errorf("%q on container %s: a tar stream is unpacked into a directory, and there is none: %w", dstPath, c.Names[0], ErrNotFound)
		}
		return untar(o.Stdin, dst, root, chown)
	}
	src, err := filepath.Abs(o.Src)
	if err != nil {
		return err
	}
	fi, err := os.Lstat(src)
	if strings.HasSuffix(o.Src, "/") && err == nil && fi.Mode()&fs.ModeSymlink != 0 {
		fi, err = os.Stat(src)
	}
	if errors.Is(err, fs.ErrNotExist) {
		return fmt.Errorf("%q could not be found on the host: %w", o.Src, ErrNotFound) // podman's words
	}
	if err != nil {
		return err
	}
	parentRel := path.Dir(path.Clean(rel))
	parent, err := resolve(root, parentRel, true)
	if err != nil {
		return err
	}
	if dstInfo == nil {
		if pfi, err := os.Lstat(parent); err != nil || !pfi.IsDir() {
			return fmt.Errorf("%q could not be found on container %s: %w", path.Dir(path.Clean(dstPath)), c.Names[0], ErrNotFound)
		}
	}
	pl, err := place(o.Src, fi.IsDir(), dst, o.Dst, parent, dstInfo)
	if err != nil {
		return err
	}
	if dstInfo == nil {
		// The directory itself, under the new name.
		pl = plan{dir: parent, name: path.Base(path.Clean(rel))}
	}
	rc, err := tarOf(src, pl, fi.IsDir(), "")
	if err != nil {
		return err
	}
	defer rc.Close()
	if err := untar(rc, pl.dir, root, chown); err != nil {
		return fmt.Errorf("copy %s to %s: %w", o.Src, o.Dst, err)
	}
	return nil
}

// containerRoot is the container's root user as the keeper's namespace
// knows it: 0:0, or what the container's own maps make of it.
func containerRoot(cfg *spec.Config) (int, int, error) {
	if cfg == nil || cfg.Spec.UserNS == nil {
		return 0, 0, nil
	}
	find := func(ms []spec.IDMap) (int, bool) {
		for _, m := range ms {
			if m.ContainerID == 0 && m.Size > 0 {
				return int(m.HostID), true
			}
		}
		return 0, false
	}
	u, okU := find(cfg.Spec.UserNS.UIDMap)
	g, okG := find(cfg.Spec.UserNS.GIDMap)
	if !okU || !okG {
		return 0, 0, errors.New("the container's root is not mapped in its user namespace")
	}
	return u, g, nil
}
