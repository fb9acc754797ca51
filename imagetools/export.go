package imagetools

import (
	"context"
	"fmt"
	"io"

	"sandbox/container"

	"go.podman.io/storage/pkg/archive"
	"go.podman.io/storage/pkg/chrootarchive"
)

// Export writes the container's root filesystem to w as a tar stream
// (what import takes back), its files with the container's ids.
func Export(ctx context.Context, rt *container.Runtime, ref string, w io.Writer) error {
	c, err := rt.Lookup(ref)
	if err != nil {
		return err
	}
	return withRootfs(rt, c, func(rootfs string) error {
		rc, err := chrootarchive.Tar(rootfs, &archive.TarOptions{Compression: archive.Uncompressed}, rootfs)
		if err != nil {
			return fmt.Errorf("export %s: %w", ref, err)
		}
		_, err = io.Copy(w, rc)
		if cerr := rc.Close(); err == nil {
			err = cerr
		}
		if err != nil {
			return fmt.Errorf("export %s: %w", ref, err)
		}
		return nil
	})
}
