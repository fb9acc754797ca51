package storage

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"

	"golang.org/x/sys/unix"
)

// A full file system would stop the very commands that free space (rm,
// rmi, prune): containers/storage rewrites its records (layers.json and
// the like) through a new file, which needs room. The store therefore
// keeps a reserve: a file of reserveSize in the graph root, made when
// there is room, given up by a removal that finds the disk full (which
// then tries again), and made anew once there is room again.

const (
	reserveName = "sandbox-reserve"
	reserveSize = 1 << 20
)

// ErrDiskFull wraps the error of an operation that found the store's file
// system full.
var ErrDiskFull = errors.New("no space left on device")

// IsDiskFull reports whether err is a full file system: ENOSPC or EDQUOT,
// or their text, when it came from the image helper.
func IsDiskFull(err error) bool {
	if err == nil {
		return false
	}
	return errors.Is(err, unix.ENOSPC) || errors.Is(err, unix.EDQUOT) || errors.Is(err, ErrDiskFull) ||
		strings.Contains(err.Error(), "no space left on device") || strings.Contains(err.Error(), "disk quota exceeded")
}

// DiskFullError says that the store's file system is full, where, and how
// to free it, in one line.
func DiskFullError(graphRoot string, err error) error {
	return fmt.Errorf("%w: the file system of the store %s is full (free space with sandbox rm, rmi or system prune): %s",
		ErrDiskFull, graphRoot, strings.ReplaceAll(err.Error(), "\n", " "))
}

// EnsureReserve makes the reserve if it is not there and there is room.
func (s *Store) EnsureReserve() {
	path := filepath.Join(s.Options.GraphRoot, reserveName)
	if st, err := os.Stat(path); err == nil && st.Size() == reserveSize {
		return
	}
	f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE, 0o600)
	if err != nil {
		return
	}
	defer f.Close()
	// Blocks of its own, not a sparse file: it must give room back.
	if err := unix.Fallocate(int(f.Fd()), 0, 0, reserveSize); err != nil {
		f.Close()
		os.Remove(path) // a reserve that is not whole is none
	}
}

// FreeingSpace runs remove, an operation that frees space; when it finds
// the disk full, the reserve is given up and remove runs once more. The
// reserve is made again afterwards, if there is room.
func (s *Store) FreeingSpace(remove func() error) error {
	err := remove()
	if !IsDiskFull(err) {
		if err == nil {
			s.EnsureReserve()
		}
		return err
	}
	rerr := os.Remove(filepath.Join(s.Options.GraphRoot, reserveName))
	if errors.Is(rerr, fs.ErrNotExist) {
		return DiskFullError(s.Options.GraphRoot, err)
	}
	if rerr != nil {
		return fmt.Errorf("%w (and giving up the reserve: %v)", err, rerr)
	}
	if err := remove(); err != nil {
		if IsDiskFull(err) {
			return DiskFullError(s.Options.GraphRoot, err)
		}
		return err
	}
	s.EnsureReserve()
	return nil
}

// fullSlack is the free space under which a file system counts as full:
// a write that needs a block of data and one of metadata fails with less.
const fullSlack = 64 << 10

// Room is the free space of the store's file system as its user sees it.
type Room struct {
	// Free is the bytes an unprivileged writer may still use.
	Free uint64
	// Full is true when a write there fails for want of room: fewer than
	// fullSlack bytes free, or no inode free (on file systems that count
	// them).
	Full bool
}

// roomOf reads a statfs answer.
func roomOf(st *unix.Statfs_t) Room {
	free := st.Bavail * uint64(st.Bsize)
	return Room{Free: free, Full: free < fullSlack || (st.Files > 0 && st.Ffree == 0)}
}

// Room says how much room the store's file system has left: the graph
// root's, where the containers' writable layers are.
func (s *Store) Room() (Room, error) {
	var st unix.Statfs_t
	if err := unix.Statfs(s.Options.GraphRoot, &st); err != nil {
		return Room{}, fmt.Errorf("statfs %s: %w", s.Options.GraphRoot, err)
	}
	return roomOf(&st), nil
}
