// Package lockfile takes advisory locks (flock) on files. A lock held by a
// process dies with it, so a killed command never leaves a stale lock.
package lockfile

import (
	"fmt"
	"os"

	"golang.org/x/sys/unix"
)

// Lock is a held lock; Unlock releases it.
type Lock struct{ f *os.File }

// Acquire takes an exclusive lock on path, creating the file, and waits
// while another process holds it.
func Acquire(path string) (*Lock, error) { return acquire(path, unix.LOCK_EX) }

// AcquireShared takes a shared lock on path, creating the file.
func AcquireShared(path string) (*Lock, error) { return acquire(path, unix.LOCK_SH) }

func acquire(path string, how int) (*Lock, error) {
	f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE, 0o600)
	if err != nil {
		return nil, fmt.Errorf("lock %s: %w", path, err)
	}
	for {
		err = unix.Flock(int(f.Fd()), how)
		if err != unix.EINTR {
			break
		}
	}
	if err != nil {
		f.Close()
		return nil, fmt.Errorf("lock %s: %w", path, err)
	}
	return &Lock{f: f}, nil
}

// Unlock releases the lock.
func (l *Lock) Unlock() error {
	if l == nil || l.f == nil {
		return nil
	}
	err := l.f.Close() // closing the last descriptor releases the flock
	l.f = nil
	return err
}
