// Unit tests (privilege tier: none) of how a full disk is told.

package storage

import (
	"errors"
	"fmt"
	"strings"
	"testing"

	"golang.org/x/sys/unix"
)

func TestIsDiskFull(t *testing.T) {
	tests := []struct {
		err  error
		want bool
	}{
		{nil, false},
		{unix.ENOSPC, true},
		{fmt.Errorf("write x: %w", unix.ENOSPC), true},
		{unix.EDQUOT, true},
		{errors.New("image helper: write /s/.tmp-layers.json: no space left on device"), true},
		{unix.EACCES, false},
		{errors.New("no such image"), false},
	}
	for _, tt := range tests {
		if got := IsDiskFull(tt.err); got != tt.want {
			t.Errorf("IsDiskFull(%v) = %v, want %v", tt.err, got, tt.want)
		}
	}
}

func TestDiskFullError(t *testing.T) {
	err := DiskFullError("/home/u/.local/share/sandbox/storage", errors.New("create container: write a:\nno space left on device"))
	msg := err.Error()
	if !errors.Is(err, ErrDiskFull) || strings.Contains(msg, "\n") || !strings.Contains(msg, "/home/u/.local/share/sandbox/storage is full") {
		t.Errorf("DiskFullError: %q", msg)
	}
}

func TestRoomOf(t *testing.T) {
	tests := []struct {
		name string
		st   unix.Statfs_t
		want Room
	}{
		{"room", unix.Statfs_t{Bsize: 4096, Bavail: 1000, Files: 100, Ffree: 50}, Room{Free: 4096000}},
		{"no block", unix.Statfs_t{Bsize: 4096, Bavail: 0, Bfree: 20, Files: 100, Ffree: 50}, Room{Full: true}},
		{"under the slack", unix.Statfs_t{Bsize: 4096, Bavail: 15, Files: 100, Ffree: 50}, Room{Free: 61440, Full: true}},
		{"at the slack", unix.Statfs_t{Bsize: 4096, Bavail: 16, Files: 100, Ffree: 50}, Room{Free: 65536}},
		{"no inode", unix.Statfs_t{Bsize: 4096, Bavail: 1000, Files: 100, Ffree: 0}, Room{Free: 4096000, Full: true}},
		{"inodes not counted", unix.Statfs_t{Bsize: 4096, Bavail: 1000, Files: 0, Ffree: 0}, Room{Free: 4096000}},
	}
	for _, tt := range tests {
		if got := roomOf(&tt.st); got != tt.want {
			t.Errorf("%s: roomOf = %+v, want %+v", tt.name, got, tt.want)
		}
	}
}
