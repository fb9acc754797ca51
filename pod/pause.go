package pod

import (
	"archive/tar"
	"bytes"
	"context"
	"fmt"
	"io"
	"os"
	"time"

	"sandbox/container"
	"sandbox/storage"
)

// PauseImage is the infra containers' image: the host's catatonit alone,
// run in pause mode (-P: it sleeps until signalled and reaps nothing).
// catatonit is a static binary of 0.7 MB, so the image is built here from
// the host's copy on first use, as podman builds its podman-pause image,
// with no registry; the container then executes a copy in its own layer,
// never the host's file.
const PauseImage = "localhost/sandbox-pause:latest"

// pausePrograms are where Debian's catatonit package puts the program.
var pausePrograms = []string{"/usr/bin/catatonit", "/usr/libexec/podman/catatonit"}

// ensurePauseImage builds PauseImage when the store does not have it.
func ensurePauseImage(ctx context.Context, rt *container.Runtime) error {
	if _, err := rt.Store.ResolveImage(PauseImage); err == nil {
		return nil
	}
	layer, err := pauseLayer()
	if err != nil {
		return err
	}
	_, err = rt.Store.Transfer(ctx, storage.TransferRequest{
		Op: storage.OpImport, Ref: PauseImage, File: "-", Quiet: true,
		Changes: []string{`ENTRYPOINT ["/catatonit", "-P"]`, `STOPSIGNAL SIGKILL`},
		Message: "sandbox pod infra",
	}, storage.TransferIO{In: layer, Out: io.Discard, Progress: io.Discard})
	if err != nil {
		return fmt.Errorf("build the pause image %s: %w", PauseImage, err)
	}
	return nil
}

// pauseLayer is the pause image's one layer: /catatonit, and the
// directories the init mounts on.
func pauseLayer() (io.Reader, error) {
	var data []byte
	var err error
	for _, p := range pausePrograms {
		if data, err = os.ReadFile(p); err == nil {
			break
		}
	}
	if err != nil {
		return nil, fmt.Errorf("pods need catatonit for their infra container (looked for %s): install Debian's catatonit package: %w", pausePrograms[0], err)
	}
	var buf bytes.Buffer
	tw := tar.NewWriter(&buf)
	mtime := time.Unix(0, 0)
	for _, d := range []string{"dev", "etc", "proc", "run", "sys", "tmp"} {
		if err := tw.WriteHeader(&tar.Header{Typeflag: tar.TypeDir, Name: d + "/", Mode: 0o755, ModTime: mtime}); err != nil {
			return nil, err
		}
	}
	if err := tw.WriteHeader(&tar.Header{Typeflag: tar.TypeReg, Name: "catatonit", Mode: 0o755, Size: int64(len(data)), ModTime: mtime}); err != nil {
		return nil, err
	}
	if _, err := tw.Write(data); err != nil {
		return nil, err
	}
	if err := tw.Close(); err != nil {
		return nil, fmt.Errorf("pause image layer: %w", err)
	}
	return &buf, nil
}
