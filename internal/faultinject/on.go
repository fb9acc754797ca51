//go:build faultinject

package faultinject

import (
	"bytes"
	"io"
	"os"
	"syscall"
)

// Enabled: this build kills at steps (tag faultinject).
const Enabled = true

var want = os.Getenv(Env)

// Step kills this process with SIGKILL if SANDBOX_FAULT names step.
func Step(step string) {
	if step == "" || step != want {
		return
	}
	syscall.Kill(os.Getpid(), syscall.SIGKILL)
	select {} // SIGKILL is not to be caught: this is never passed
}

// Progress passes containers/image's progress on to w (nil: nowhere) and
// takes each line that starts a step (prefix "pull." or "import.") to
// that step.
func Progress(w io.Writer, prefix string) io.Writer {
	if w == nil {
		w = io.Discard
	}
	return &watcher{w: w, prefix: prefix}
}

type watcher struct {
	w      io.Writer
	prefix string
	line   []byte
}

func (p *watcher) Write(b []byte) (int, error) {
	for _, c := range b {
		if c == '\n' || c == '\r' {
			Step(progressStep(p.prefix, string(bytes.TrimSpace(p.line))))
			p.line = p.line[:0]
			continue
		}
		p.line = append(p.line, c)
		if len(p.line) == 40 { // long enough to name the step
			Step(progressStep(p.prefix, string(bytes.TrimSpace(p.line))))
		}
	}
	return p.w.Write(b)
}
