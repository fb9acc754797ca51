package build

import (
	"archive/tar"
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"strconv"
	"syscall"

	securejoin "github.com/cyphar/filepath-securejoin"
	"go.podman.io/storage/pkg/archive"
	"golang.org/x/sys/unix"
)

// writer places COPY and ADD sources in a mounted layer; every path is
// resolved inside the layer's root, so a symlink in the image cannot send
// a write outside it.
type writer struct {
	root string
	r    copyRequest
	// uid, gid own what is copied when chown; else context files belong
	// to root and --from files keep their owners.
	uid, gid    int
	chown, keep bool
	mode        fs.FileMode
	chmod       bool
	b           *builder
}

func newWriter(root string, r copyRequest, fromContext bool) (*writer, error) {
	w := &writer{root: root, r: r, keep: !fromContext}
	if r.chown != "" {
		uid, gid, err := owner(root, r.chown)
		if err != nil {
			return nil, err
		}
		w.uid, w.gid, w.chown = uid, gid, true
	}
	if r.chmod != "" {
		m, err := strconv.ParseUint(r.chmod, 8, 32)
		if err != nil || m > 0o7777 {
			return nil, fmt.Errorf("--chmod=%s: want an octal mode like 0755", r.chmod)
		}
		w.mode, w.chmod = fs.FileMode(m), true
	}
	return w, nil
}

// place copies s to dest: a directory's contents into dest, a file into
// dest when dest is a directory (or ends in /), else as dest. ADD
// unpacks a local archive into dest instead.
func (w *writer) place(s source, dest string, destDir bool) error {
	target, err := securejoin.SecureJoin(w.root, dest)
	if err != nil {
		return fmt.Errorf("destination %s: %w", dest, err)
	}
	if fi, err := os.Stat(target); err == nil && fi.IsDir() {
		destDir = true
	}
	if w.r.add && s.info.Mode().IsRegular() {
		if ok, err := isArchive(s.abs); err != nil {
			return err
		} else if ok {
			if err := w.mkdirAll(dest); err != nil {
				return err
			}
			return w.unpack(s.abs, dest)
		}
	}
	if s.info.IsDir() {
		if err := w.mkdirAll(dest); err != nil {
			return err
		}
		return filepath.Walk(s.abs, func(p string, info fs.FileInfo, err error) error {
			if err != nil {
				return err
			}
			sub, err := filepath.Rel(s.abs, p)
			if err != nil || sub == "." {
				return err
			}
			rel := path.Join(s.rel, filepath.ToSlash(sub))
			if !w.keep {
				if ex, err := w.b.ignore.Excluded(rel); err != nil {
					return err
				} else if ex {
					if info.IsDir() && !w.b.ignore.mayReinclude() {
						return filepath.SkipDir
					}
					return nil
				}
			}
			return w.one(p, info, path.Join(dest, filepath.ToSlash(sub)))
		})
	}
	to := dest
	if destDir {
		to = path.Join(dest, path.Base(s.rel))
	}
	if err := w.mkdirAll(path.Dir(to)); err != nil {
		return err
	}
	return w.one(s.abs, s.info, to)
}

// mkdirAll makes dest and its missing parents (0755, owned by root, or
// the --chown owner for the destination itself).
func (w *writer) mkdirAll(dest string) error {
	if dest == "/" || dest == "." {
		return nil
	}
	if err := w.mkdirAll(path.Dir(dest)); err != nil {
		return err
	}
	p, err := securejoin.SecureJoin(w.root, dest)
	if err != nil {
		return err
	}
	if fi, err := os.Stat(p); err == nil {
		if !fi.IsDir() {
			return fmt.Errorf("destination %s is not a directory", dest)
		}
		return nil
	}
	if err := os.Mkdir(p, 0o755); err != nil {
		return fmt.Errorf("create %s: %w", dest, err)
	}
	if w.chown {
		return w.lchown(p, w.uid, w.gid)
	}
	return nil
}

// one copies one file, directory or symlink to dest inside the layer.
func (w *writer) one(src string, info fs.FileInfo, dest string) error {
	p, err := securejoin.SecureJoin(w.root, path.Dir(dest))
	if err != nil {
		return err
	}
	p = filepath.Join(p, path.Base(dest))
	mode := info.Mode().Perm() | info.Mode()&(fs.ModeSetuid|fs.ModeSetgid|fs.ModeSticky)
	if w.chmod {
		mode = w.mode
	}
	switch {
	case info.IsDir():
		if fi, err := os.Lstat(p); err != nil || !fi.IsDir() {
			if err := os.RemoveAll(p); err != nil {
				return err
			}
			if err := os.Mkdir(p, 0o755); err != nil {
				return fmt.Errorf("create %s: %w", dest, err)
			}
		}
	case info.Mode()&fs.ModeSymlink != 0:
		link, err := os.Readlink(src)
		if err != nil {
			return err
		}
		if err := os.RemoveAll(p); err != nil {
			return err
		}
		if err := os.Symlink(link, p); err != nil {
			return fmt.Errorf("create %s: %w", dest, err)
		}
		return w.own(p, info)
	case info.Mode().IsRegular():
		if err := copyFile(src, p); err != nil {
			return fmt.Errorf("copy to %s: %w", dest, err)
		}
	default:
		return nil // devices, sockets, fifos: not copied
	}
	if err := w.own(p, info); err != nil {
		return err
	}
	if err := os.Chmod(p, mode); err != nil {
		return fmt.Errorf("chmod %s: %w", dest, err)
	}
	return os.Chtimes(p, info.ModTime(), info.ModTime())
}

// own gives p its owner: --chown's, the source's (--from), or root.
func (w *writer) own(p string, info fs.FileInfo) error {
	uid, gid := 0, 0
	switch {
	case w.chown:
		uid, gid = w.uid, w.gid
	case w.keep:
		if st, ok := info.Sys().(*syscall.Stat_t); ok {
			uid, gid = int(st.Uid), int(st.Gid)
		}
	}
	return w.lchown(p, uid, gid)
}

func (w *writer) lchown(p string, uid, gid int) error {
	if err := os.Lchown(p, uid, gid); err != nil && !(w.b.store.Options.SingleID && errors.Is(err, unix.EINVAL)) {
		return fmt.Errorf("chown %s: %w", p, err)
	}
	return nil
}

func copyFile(src, dst string) error {
	in, err := os.Open(src)
	if err != nil {
		return err
	}
	defer in.Close()
	if err := os.RemoveAll(dst); err != nil {
		return err
	}
	out, err := os.OpenFile(dst, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	if err != nil {
		return err
	}
	_, err = io.Copy(out, in)
	if cerr := out.Close(); err == nil {
		err = cerr
	}
	return err
}

// isArchive says whether ADD unpacks the file: a tar, plain or
// compressed (gzip, bzip2, xz, zstd).
func isArchive(p string) (bool, error) {
	f, err := os.Open(p)
	if err != nil {
		return false, err
	}
	defer f.Close()
	rd, err := archive.DecompressStream(bufio.NewReader(f))
	if err != nil {
		return false, nil
	}
	defer rd.Close()
	var hdr [512]byte
	if _, err := io.ReadFull(rd, hdr[:]); err != nil {
		return false, nil
	}
	_, err = tar.NewReader(bytes.NewReader(hdr[:])).Next()
	return err == nil, nil
}

// unpack extracts a tar archive into dest, each entry resolved inside the
// layer's root, owners as in the archive (or --chown's).
func (w *writer) unpack(file, dest string) error {
	f, err := os.Open(file)
	if err != nil {
		return err
	}
	defer f.Close()
	rd, err := archive.DecompressStream(bufio.NewReader(f))
	if err != nil {
		return fmt.Errorf("%s: %w", file, err)
	}
	defer rd.Close()
	tr := tar.NewReader(rd)
	for {
		h, err := tr.Next()
		if errors.Is(err, io.EOF) {
			return nil
		}
		if err != nil {
			return fmt.Errorf("read %s: %w", filepath.Base(file), err)
		}
		name := path.Join(dest, path.Clean("/"+h.Name))
		dir, err := securejoin.SecureJoin(w.root, path.Dir(name))
		if err != nil {
			return err
		}
		if err := os.MkdirAll(dir, 0o755); err != nil {
			return err
		}
		p := filepath.Join(dir, path.Base(name))
		switch h.Typeflag {
		case tar.TypeDir:
			if err := os.MkdirAll(p, 0o755); err != nil {
				return err
			}
		case tar.TypeReg:
			if err := os.RemoveAll(p); err != nil {
				return err
			}
			out, err := os.OpenFile(p, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
			if err != nil {
				return err
			}
			_, err = io.Copy(out, tr)
			if cerr := out.Close(); err == nil {
				err = cerr
			}
			if err != nil {
				return fmt.Errorf("unpack %s: %w", h.Name, err)
			}
		case tar.TypeSymlink:
			if err := os.RemoveAll(p); err != nil {
				return err
			}
			if err := os.Symlink(h.Linkname, p); err != nil {
				return err
			}
		case tar.TypeLink:
			old, err := securejoin.SecureJoin(w.root, path.Join(dest, path.Clean("/"+h.Linkname)))
			if err != nil {
				return err
			}
			if err := os.RemoveAll(p); err != nil {
				return err
			}
			if err := os.Link(old, p); err != nil {
				return err
			}
		default:
			continue
		}
		uid, gid := h.Uid, h.Gid
		if w.chown {
			uid, gid = w.uid, w.gid
		}
		if err := w.lchown(p, uid, gid); err != nil {
			return err
		}
		if h.Typeflag != tar.TypeSymlink {
			if err := os.Chmod(p, fs.FileMode(h.Mode)&(fs.ModePerm)); err != nil {
				return err
			}
			if err := os.Chtimes(p, h.ModTime, h.ModTime); err != nil {
				return err
			}
		}
	}
}
