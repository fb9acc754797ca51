package monitor

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"strconv"
	"sync"
	"time"

	"sandbox/spec"
)

// LogWriter writes a container's output in the k8s-file format that
// podman and CRI use, one line per line of output:
//
//	2026-11-23T05:18:39.123456789Z stdout F hello
//
// F marks a full line; P a part of a line that did not end in a newline by
// the time it was read (the rest follows on later lines). With a maximum
// size the file is rotated as docker's json-file does: PATH becomes
// PATH.1, PATH.1 becomes PATH.2, ..., keeping MaxFile files in all (with
// one file, it is emptied instead).
type LogWriter struct {
	mu   sync.Mutex
	w    io.Writer
	buf  []byte
	now  func() time.Time
	file *os.File // nil when writing to w only
	path string
	size int64
	cfg  spec.LogConfig
}

// NewLogWriter writes to w, without rotation.
func NewLogWriter(w io.Writer) *LogWriter { return &LogWriter{w: w, now: time.Now} }

// OpenLog appends to the log file at path, rotating as cfg says.
func OpenLog(path string, cfg spec.LogConfig) (*LogWriter, error) {
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_APPEND|os.O_CREATE, 0o600)
	if err != nil {
		return nil, fmt.Errorf("open log: %w", err)
	}
	st, err := f.Stat()
	if err != nil {
		f.Close()
		return nil, fmt.Errorf("open log: %w", err)
	}
	return &LogWriter{w: f, file: f, path: path, size: st.Size(), cfg: cfg, now: time.Now}, nil
}

// Close closes the log file; a nil LogWriter (no log) has none.
func (l *LogWriter) Close() error {
	if l == nil {
		return nil
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.file == nil {
		return nil
	}
	return l.file.Close()
}

// Write logs p as read from stream ("stdout" or "stderr"); a nil
// LogWriter (no log) drops it.
func (l *LogWriter) Write(stream string, p []byte) error {
	if l == nil {
		return nil
	}
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
	if l.file != nil && l.cfg.MaxSize > 0 && l.size > 0 && l.size+int64(len(l.buf)) > l.cfg.MaxSize {
		if err := l.rotate(); err != nil {
			return err
		}
	}
	n, err := l.w.Write(l.buf)
	l.size += int64(n)
	return err
}

// rotate shifts the files and starts an empty one.
func (l *LogWriter) rotate() error {
	if l.cfg.MaxFile <= 1 {
		if err := l.file.Truncate(0); err != nil {
			return fmt.Errorf("rotate log: %w", err)
		}
		l.size = 0
		return nil
	}
	if err := l.file.Close(); err != nil {
		return fmt.Errorf("rotate log: %w", err)
	}
	for i := l.cfg.MaxFile - 1; i >= 1; i-- {
		from := l.path
		if i > 1 {
			from = l.path + "." + strconv.Itoa(i-1)
		}
		if err := os.Rename(from, l.path+"."+strconv.Itoa(i)); err != nil && !errors.Is(err, fs.ErrNotExist) {
			return fmt.Errorf("rotate log: %w", err)
		}
	}
	f, err := os.OpenFile(l.path, os.O_WRONLY|os.O_APPEND|os.O_CREATE|os.O_TRUNC, 0o600)
	if err != nil {
		return fmt.Errorf("rotate log: %w", err)
	}
	l.file, l.w, l.size = f, f, 0
	return nil
}
