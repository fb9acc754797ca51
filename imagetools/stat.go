package imagetools

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path"
	"strings"
	"syscall"
	"time"

	"sandbox/container"
)

// PathStat is what a path in a container is, as docker's archive
// endpoints describe it (the X-Docker-Container-Path-Stat header).
type PathStat struct {
	Name  string
	Size  int64
	Mode  fs.FileMode
	Mtime time.Time
	// LinkTarget is where a link that is the path's last element points.
	LinkTarget string
}

// Stat describes the path p of a container (running or not), resolved
// as cp resolves it: inside the container's root, under its volumes and
// bind mounts; a link that is p's last element is described itself
// unless p ends with / or /. .
func Stat(ctx context.Context, rt *container.Runtime, ref, p string) (*PathStat, error) {
	c, err := rt.Lookup(ref)
	if err != nil {
		return nil, err
	}
	if !path.IsAbs(p) {
		p = "/" + p
	}
	var st *PathStat
	err = withRootfs(rt, c, func(rootfs string) error {
		root, rel := within(c, rootfs, p)
		follow := strings.HasSuffix(p, "/") || strings.HasSuffix(p, "/.")
		host, err := resolve(root, rel, follow)
		if err != nil {
			return fmt.Errorf("%q on container %s: %w", p, c.Names[0], err)
		}
		fi, err := os.Lstat(host)
		if errors.Is(err, fs.ErrNotExist) || errors.Is(err, syscall.ENOTDIR) {
			return fmt.Errorf("%q could not be found on container %s: %w", p, c.Names[0], ErrNotFound)
		}
		if err != nil {
			return err
		}
		st = &PathStat{Name: path.Base(path.Clean(p)), Size: fi.Size(), Mode: fi.Mode(), Mtime: fi.ModTime()}
		if fi.Mode()&fs.ModeSymlink != 0 {
			if st.LinkTarget, err = os.Readlink(host); err != nil {
				return fmt.Errorf("%q on container %s: %w", p, c.Names[0], err)
			}
		}
		return nil
	})
	return st, err
}
