package build

import (
	"archive/tar"
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"
	"path"
	"path/filepath"

	"sandbox/storage"

	securejoin "github.com/cyphar/filepath-securejoin"
	"go.podman.io/storage/pkg/archive"
)

// ContextFromStream makes a context directory of `build -`'s standard
// input: a tar archive (plain or compressed) of the context, or else a
// Dockerfile alone (an empty context), in a scratch directory of the
// store (storage.ScratchDir: the caller holds the build's transfer
// record). remove deletes the directory.
func ContextFromStream(s *storage.Store, r io.Reader) (dir string, remove func() error, err error) {
	dir, err = s.ScratchDir("context-")
	if err != nil {
		return "", nil, err
	}
	remove = func() error { return os.RemoveAll(dir) }
	defer func() {
		if err != nil {
			if rerr := remove(); rerr != nil {
				err = fmt.Errorf("%w (and removing %s: %v)", err, dir, rerr)
			}
		}
	}()
	br := bufio.NewReader(r)
	rd, err := archive.DecompressStream(br)
	if err != nil {
		return "", nil, fmt.Errorf("read the context: %w", err)
	}
	defer rd.Close()
	data, err := io.ReadAll(rd)
	if err != nil {
		return "", nil, fmt.Errorf("read the context: %w", err)
	}
	tr := tar.NewReader(bytes.NewReader(data))
	if _, terr := tr.Next(); terr != nil {
		// Not a tar: a Dockerfile.
		if err := os.WriteFile(filepath.Join(dir, "Dockerfile"), data, 0o600); err != nil {
			return "", nil, err
		}
		return dir, remove, nil
	}
	tr = tar.NewReader(bytes.NewReader(data))
	for {
		h, err := tr.Next()
		if errors.Is(err, io.EOF) {
			return dir, remove, nil
		}
		if err != nil {
			return "", nil, fmt.Errorf("read the context: %w", err)
		}
		p, err := securejoin.SecureJoin(dir, path.Clean("/"+h.Name))
		if err != nil {
			return "", nil, err
		}
		switch h.Typeflag {
		case tar.TypeDir:
			err = os.MkdirAll(p, 0o755)
		case tar.TypeReg:
			if err = os.MkdirAll(filepath.Dir(p), 0o755); err == nil {
				err = writeFrom(p, tr, os.FileMode(h.Mode).Perm())
			}
		case tar.TypeSymlink:
			if err = os.MkdirAll(filepath.Dir(p), 0o755); err == nil {
				err = os.Symlink(h.Linkname, p)
			}
		}
		if err != nil {
			return "", nil, fmt.Errorf("unpack the context: %s: %w", h.Name, err)
		}
	}
}

func writeFrom(p string, r io.Reader, mode os.FileMode) error {
	f, err := os.OpenFile(p, os.O_WRONLY|os.O_CREATE|os.O_TRUNC, mode)
	if err != nil {
		return err
	}
	_, err = io.Copy(f, r)
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	return err
}
