// Unit tests (privilege tier: none) of the exit status of errors.
package spec

import (
	"errors"
	"fmt"
	"io/fs"
	"testing"
)

func TestExitStatus(t *testing.T) {
	notFound := NewExitError(ExitNotFound, fmt.Errorf("exec x: %w", fs.ErrNotExist))
	for _, tt := range []struct {
		err  error
		want int
	}{
		{nil, 0},
		{errors.New("boom"), ExitSandbox},
		{notFound, ExitNotFound},
		{fmt.Errorf("start: %w", notFound), ExitNotFound},
		{NewExitError(3, nil), 3},
	} {
		if got := ExitStatus(tt.err); got != tt.want {
			t.Errorf("ExitStatus(%v) = %d, want %d", tt.err, got, tt.want)
		}
	}
	if !errors.Is(notFound, fs.ErrNotExist) || notFound.Error() != "exec x: file does not exist" {
		t.Errorf("the error within: %v", notFound)
	}
	if msg := NewExitError(1, nil).Error(); msg != "" {
		t.Errorf("a bare status says %q", msg)
	}
}

// A --rm container's removal goes to its foreground command for a failure
// of the command (1 to 125), never for success or a signal's 128+N.
func TestRemovalHandedOff(t *testing.T) {
	for code, want := range map[int]bool{0: false, 1: true, 7: true, 125: true, 126: false, 127: false, 137: false, -1: false} {
		if got := RemovalHandedOff(code); got != want {
			t.Errorf("RemovalHandedOff(%d) = %t, want %t", code, got, want)
		}
	}
}
