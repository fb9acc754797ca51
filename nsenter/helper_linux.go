package nsenter

import (
	"errors"
	"os"

	"sandbox/internal/helperpath"
)

// Helper is sandbox-nsenter's sealed copy, made ahead of the request
// (PrepareHelper): an exec's command finds the helper, copies it (about
// 0.7 MB into a memfd) and has its first process start checked for pidfd
// support (os's own check: a fork and exit of its own) while it opens the
// store and looks up the container, which the request needs; none of that
// needs the container.
type Helper struct {
	done chan struct{}
	bin  *os.File
	err  error
}

// PrepareHelper starts making the helper's sealed copy on a goroutine of
// its own. Run takes it through Request.Helper and closes it; a caller
// that never gets to Run closes it itself (Close).
func PrepareHelper() *Helper {
	h := &Helper{done: make(chan struct{})}
	go func() {
		defer close(h.done)
		h.bin, h.err = newHelperCopy()
		// The first process this program starts makes os check that
		// pidfds work (os.checkPidfd, which forks a child that exits at
		// once); finding this process's own does the same check now.
		if p, err := os.FindProcess(os.Getpid()); err == nil {
			p.Release()
		}
	}()
	return h
}

// errHelperTaken: the copy went to a Run already.
var errHelperTaken = errors.New("exec: the helper's copy is taken")

// wait returns the sealed copy once it is made; the caller owns it.
func (h *Helper) wait() (*os.File, error) {
	<-h.done
	bin, err := h.bin, h.err
	h.bin, h.err = nil, errHelperTaken
	return bin, err
}

// Close closes the copy if no Run took it.
func (h *Helper) Close() {
	if bin, err := h.wait(); err == nil {
		bin.Close()
	}
}

// newHelperCopy finds sandbox-nsenter and makes its sealed copy.
func newHelperCopy() (*os.File, error) {
	path, err := helperpath.Find(nsenterName)
	if err != nil {
		return nil, err
	}
	return sealedCopy(path)
}
