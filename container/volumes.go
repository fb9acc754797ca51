package container

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"sort"
	"syscall"

	"sandbox/spec"
	"sandbox/userns"
	"sandbox/volume"

	securejoin "github.com/cyphar/filepath-securejoin"
	"go.podman.io/storage/pkg/archive"
	"golang.org/x/sys/unix"
)

// withImageVolumes adds an anonymous volume for each of the image's
// VOLUME paths that no mount of the user's covers.
func withImageVolumes(ms []spec.Mount, imgVolumes map[string]struct{}) []spec.Mount {
	taken := map[string]bool{}
	for _, m := range ms {
		taken[m.Destination] = true
	}
	var add []string
	for p := range imgVolumes {
		if p = path.Clean(p); path.IsAbs(p) && p != "/" && !taken[p] {
			taken[p] = true
			add = append(add, p)
		}
	}
	sort.Strings(add)
	out := append([]spec.Mount{}, ms...)
	for _, p := range add {
		out = append(out, spec.Mount{Type: spec.MountVolume, Destination: p})
	}
	return out
}

// prepareVolumes turns the volume mounts among ms into binds of their
// volumes' mount points, making a volume on its first use (a name not
// known yet, or an anonymous volume), and gives the source of every bind
// marked U to the container's user (uid:gid), recursively. A volume's
// first use copies the image's content at the mount point into it, owner
// and modes kept; an empty first use is given to the container's user,
// so that it can write. Ids are the container's, translated through the
// container's own maps when it has them (--userns keep-id). It returns
// the mounts as the init makes them and the volumes it made, which it
// removes itself when it fails.
func (r *Runtime) prepareVolumes(ms []spec.Mount, rootfs string, uid, gid uint32, uidMap, gidMap []userns.IDMap) (out []spec.Mount, created []string, retErr error) {
	var vs *volume.Store
	defer func() {
		if retErr != nil && len(created) > 0 {
			retErr = errors.Join(retErr, r.removeVolumes(created))
			created = nil
		}
	}()
	out = make([]spec.Mount, len(ms))
	for i, m := range ms {
		switch {
		case m.Type == spec.MountVolume:
			if vs == nil {
				var err error
				if vs, err = r.Volumes(); err != nil {
					return nil, created, err
				}
			}
			var v *volume.Volume
			var err error
			made := true
			if m.Volume == "" {
				v, err = vs.Create(volume.CreateOptions{Anonymous: true})
			} else {
				v, made, err = vs.GetOrCreate(m.Volume)
			}
			if err != nil {
				return nil, created, err
			}
			if made {
				created = append(created, v.Name)
			}
			if v.NeedsCopyUp {
				if err := fillVolume(v, rootfs, m.Destination, uid, gid, uidMap, gidMap); err != nil {
					return nil, created, err
				}
				if err := vs.Used(v.Name); err != nil {
					return nil, created, err
				}
			}
			m.Type, m.Source, m.Volume = "bind", v.Mountpoint, v.Name
		case m.Chown:
			u, g, err := keeperIDs(uid, gid, uidMap, gidMap)
			if err != nil {
				return nil, created, err
			}
			if err := chownTree(m.Source, u, g); err != nil {
				return nil, created, fmt.Errorf("volume %s:%s:U: %w", m.Source, m.Destination, err)
			}
		}
		out[i] = m
	}
	return out, created, nil
}

// fillVolume is a volume's first use at dst in the container whose root
// filesystem is rootfs: the image's directory there, if any, is copied
// in (the path resolved inside rootfs, so that a link in the image cannot
// point the copy at the host), and the volume takes that directory's
// owner and mode; else the volume is given to the container's user.
func fillVolume(v *volume.Volume, rootfs, dst string, uid, gid uint32, uidMap, gidMap []userns.IDMap) error {
	src, err := securejoin.SecureJoin(rootfs, dst)
	if err != nil {
		return fmt.Errorf("volume %s at %s: %w", v.Name, dst, err)
	}
	fi, err := os.Lstat(src)
	if err != nil && !errors.Is(err, fs.ErrNotExist) {
		return fmt.Errorf("volume %s at %s: %w", v.Name, dst, err)
	}
	if err == nil && fi.IsDir() {
		entries, err := os.ReadDir(v.Mountpoint)
		if err != nil {
			return fmt.Errorf("volume %s: %w", v.Name, err)
		}
		if len(entries) == 0 {
			if err := archive.NewDefaultArchiver().CopyWithTar(src, v.Mountpoint); err != nil {
				return fmt.Errorf("copy %s of the image into volume %s: %w", dst, v.Name, err)
			}
		}
		st, ok := fi.Sys().(*syscall.Stat_t)
		if !ok {
			return fmt.Errorf("volume %s: no owner for %s", v.Name, dst)
		}
		if err := os.Lchown(v.Mountpoint, int(st.Uid), int(st.Gid)); err != nil {
			return fmt.Errorf("volume %s: %w", v.Name, err)
		}
		if err := os.Chmod(v.Mountpoint, fi.Mode().Perm()|fi.Mode()&(fs.ModeSticky|fs.ModeSetgid)); err != nil {
			return fmt.Errorf("volume %s: %w", v.Name, err)
		}
		return nil
	}
	u, g, err := keeperIDs(uid, gid, uidMap, gidMap)
	if err != nil {
		return err
	}
	if err := os.Lchown(v.Mountpoint, int(u), int(g)); err != nil {
		return fmt.Errorf("volume %s: %w", v.Name, err)
	}
	return nil
}

// keeperIDs are the ids uid and gid of the container as the keeper's user
// namespace (where this process runs) knows them.
func keeperIDs(uid, gid uint32, uidMap, gidMap []userns.IDMap) (uint32, uint32, error) {
	if uidMap == nil {
		return uid, gid, nil
	}
	u, okU := userns.ToHost(uidMap, uid)
	g, okG := userns.ToHost(gidMap, gid)
	if !okU || !okG {
		return 0, 0, fmt.Errorf("the container's user %d:%d is not mapped in its user namespace", uid, gid)
	}
	return u, g, nil
}

// chownTree gives root and everything under it to uid:gid, links
// themselves rather than what they point to.
func chownTree(root string, uid, gid uint32) error {
	return filepath.WalkDir(root, func(p string, _ fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if err := os.Lchown(p, int(uid), int(gid)); err != nil {
			if errors.Is(err, unix.EINVAL) {
				return fmt.Errorf("%s: %d:%d is not mapped here: %w", p, uid, gid, err)
			}
			return err
		}
		return nil
	})
}
