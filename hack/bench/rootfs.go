package main

import (
	"archive/tar"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
)

// extractTar unpacks the root filesystem tarball at path into dir, as the
// current (unprivileged) user: directories, regular files, symbolic and
// hard links, with their permission bits; owners and device nodes are
// left out (bwrap gets /dev from --dev). Every operation goes through an
// os.Root, so no entry, and no symbolic link in the tarball, can reach
// outside dir.
func extractTar(path, dir string) error {
	f, err := os.Open(path)
	if err != nil {
		return err
	}
	defer f.Close()
	root, err := os.OpenRoot(dir)
	if err != nil {
		return err
	}
	defer root.Close()
	tr := tar.NewReader(f)
	// Directories get their modes at the end: a read-only one would stop
	// the files under it from being written.
	type dirMode struct {
		name string
		mode fs.FileMode
	}
	var dirs []dirMode
	for {
		hdr, err := tr.Next()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return err
		}
		name := filepath.Clean(hdr.Name)
		mode := hdr.FileInfo().Mode()
		if name == "." {
			dirs = append(dirs, dirMode{".", mode})
			continue
		}
		if err := root.MkdirAll(filepath.Dir(name), 0o755); err != nil {
			return err
		}
		switch hdr.Typeflag {
		case tar.TypeDir:
			if err := root.MkdirAll(name, 0o700); err != nil {
				return err
			}
			dirs = append(dirs, dirMode{name, mode})
		case tar.TypeReg:
			if err := writeFile(root, name, tr, mode.Perm()); err != nil {
				return err
			}
		case tar.TypeSymlink:
			if err := root.Symlink(hdr.Linkname, name); err != nil {
				return err
			}
		case tar.TypeLink:
			if err := root.Link(filepath.Clean(hdr.Linkname), name); err != nil {
				return err
			}
		default:
			// Devices and fifos: not needed to run true, and not ours to make.
		}
	}
	for i := len(dirs) - 1; i >= 0; i-- {
		// Keep the owner's rwx: the tree must stay removable.
		if err := root.Chmod(dirs[i].name, dirs[i].mode&(fs.ModePerm|fs.ModeSticky)|0o700); err != nil {
			return err
		}
	}
	return nil
}

func writeFile(root *os.Root, name string, r io.Reader, perm fs.FileMode) error {
	f, err := root.OpenFile(name, os.O_WRONLY|os.O_CREATE|os.O_EXCL, perm|0o200)
	if err != nil {
		return err
	}
	if _, err := io.Copy(f, r); err != nil {
		f.Close()
		return fmt.Errorf("write %s: %w", name, err)
	}
	if err := f.Close(); err != nil {
		return err
	}
	return root.Chmod(name, perm)
}
