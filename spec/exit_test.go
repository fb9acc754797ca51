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
