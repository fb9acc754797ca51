package container

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strconv"

	"sandbox/spec"
	"sandbox/userns"

	"golang.org/x/sys/unix"
)

// prepareVolumes turns the anonymous volumes among ms into binds of
// directories of their own under dir (the container's storage directory,
// so that they go with the container), owned by the container's root, and
// gives the source of every bind marked U to the container's user
// (uid:gid), recursively. Ids are the container's, translated through the
// container's own maps when it has them (--userns keep-id). It returns the
// mounts as the init makes them.
func prepareVolumes(ms []spec.Mount, dir string, uid, gid uint32, uidMap, gidMap []userns.IDMap) ([]spec.Mount, error) {
	out := make([]spec.Mount, len(ms))
	for i, m := range ms {
		switch {
		case m.Type == spec.MountVolume:
			root, rootGroup, err := keeperIDs(0, 0, uidMap, gidMap)
			if err != nil {
				return nil, err
			}
			src := filepath.Join(dir, "volumes", strconv.Itoa(i))
			if err := os.MkdirAll(src, 0o755); err != nil {
				return nil, fmt.Errorf("anonymous volume %s: %w", m.Destination, err)
			}
			if err := os.Lchown(src, int(root), int(rootGroup)); err != nil {
				return nil, fmt.Errorf("anonymous volume %s: %w", m.Destination, err)
			}
			m.Type, m.Source = "bind", src
		case m.Chown:
			u, g, err := keeperIDs(uid, gid, uidMap, gidMap)
			if err != nil {
				return nil, err
			}
			if err := chownTree(m.Source, u, g); err != nil {
				return nil, fmt.Errorf("volume %s:%s:U: %w", m.Source, m.Destination, err)
			}
		}
		out[i] = m
	}
	return out, nil
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
