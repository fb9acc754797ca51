package monitor

import (
	"bytes"
	"io"
	"sync"
	"time"
)

// LogWriter writes a container's output in the k8s-file format that
// podman and CRI use, one line per line of output:
//
//	2026-11-23T05:18:39.123456789Z stdout F hello
//
// F marks a full line; P a part of a line that did not end in a newline by
// the time it was read (the rest follows on later lines).
type LogWriter struct {
	mu  sync.Mutex
	w   io.Writer
	buf []byte
	now func() time.Time
}

// NewLogWriter writes to w.
func NewLogWriter(w io.Writer) *LogWriter { return &LogWriter{w: w, now: time.Now} }

// Write logs p as read from stream ("stdout" or "stderr").
func (l *LogWriter) Write(stream string, p []byte) error {
	l.mu.Lock()
	defer l.mu.Unlock()
	ts := l.now().UTC().Format(time.RFC3339Nano)
	l.buf = l.buf[:0]
	for len(p) > 0 {
		line, rest, full := bytes.Cut(p, []byte{'\n'})
		tag := " P "
		if full {
			tag = " F "
		}
		l.buf = append(l.buf, ts...)
		l.buf = append(l.buf, ' ')
		l.buf = append(l.buf, stream...)
		l.buf = append(l.buf, tag...)
		l.buf = append(l.buf, line...)
		l.buf = append(l.buf, '\n')
		p = rest
	}
	_, err := l.w.Write(l.buf)
	return err
}
