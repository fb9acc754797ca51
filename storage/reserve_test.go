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
