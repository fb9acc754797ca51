package container

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strconv"
	"strings"
	"syscall"
	"time"

	"sandbox/spec"
)

// LogFile is the name of a container's log in its directory; rotated
// files are LogFile.1 (the newest) to LogFile.N (the oldest).
const LogFile = "ctr.log"

// LogsOptions are the flags of logs.
type LogsOptions struct {
	// Follow keeps reading what is written later, until the container has
	// exited (or is removed) and everything is printed.
	Follow bool
	// Tail is how many lines to show from the end; -1 shows all.
	Tail int
	// Since and Until bound the records shown by their time; zero times
	// bound nothing. Both are inclusive.
	Since, Until time.Time
	// Timestamps puts each line's time before it.
	Timestamps bool
	// Stdout and Stderr receive the lines of each stream.
	Stdout, Stderr io.Writer
	// Poll is how often Follow looks for new lines and checks whether the
	// container still runs; zero means 50ms.
	Poll time.Duration
}

// Logs prints a container's log: the rotated files, oldest first, then
// the current one, and with Follow what is written after.
//
// Tail is applied before Since and Until, as docker does: the last lines
// of the log, of which those in the time range are shown.
func (r *Runtime) Logs(ctx context.Context, ref string, o LogsOptions) error {
	c, err := r.Lookup(ref)
	if err != nil {
		return err
	}
	path := logPath(c)
	if path == "" {
		// podman's words
		return fmt.Errorf("this container is using the '%s' log driver, cannot read logs: this container is not logging output", c.Config.Host.Log.Driver)
	}
	return readLog(ctx, path, o, func() bool { return r.logActive(c) })
}

// logPath is where a container's log is written: --log-opt path=, else
// LogFile in its directory; "" with --log-driver none.
func logPath(c *Container) string {
	if c.Config == nil {
		return filepath.Join(c.Dir, LogFile)
	}
	switch l := c.Config.Host.Log; {
	case l.Driver == spec.LogNone, l.Driver == spec.LogPassthrough:
		return ""
	case l.Path != "":
		return l.Path
	}
	return filepath.Join(c.Dir, LogFile)
}

// readLog is Logs on the log file at path; active reports whether the
// container may still write to it.
func readLog(ctx context.Context, path string, o LogsOptions, active func() bool) error {
	p := &logPrinter{o: o, atStart: map[string]bool{StreamStdout: true, StreamStderr: true}}
	var tail *tailBuffer
	emit := p.print
	if o.Tail >= 0 {
		tail = &tailBuffer{n: o.Tail, pending: map[string][]LogRecord{}}
		emit = func(rec LogRecord) error { tail.add(rec); return nil }
	}
	cur := &logReader{path: path}  // nothing read yet: catchUp starts at the oldest file
	defer func() { cur.close() }() // the file open at the end, after rotations
	cur, err := catchUp(cur, path, emit, p)
	if err != nil {
		return err
	}
	if tail != nil {
		for _, rec := range tail.records() {
			if err := p.print(rec); err != nil {
				return err
			}
		}
		emit = p.print
	}
	if !o.Follow || p.done {
		return p.err()
	}
	poll := o.Poll
	if poll <= 0 {
		poll = 50 * time.Millisecond
	}
	for !p.done {
		// Whether the container runs is read before the log: the monitor
		// writes all output before it records the exit, so a read after
		// seeing the exit finds everything.
		running := active()
		if cur, err = catchUp(cur, path, emit, p); err != nil {
			return err
		}
		if !running {
			break
		}
		if err := sleepCtx(ctx, poll); err != nil {
			return err
		}
	}
	return p.err()
}

// logActive reports whether a container may still write to its log: it
// runs, or its monitor is about to run it again. A container whose state
// is gone has been removed.
func (r *Runtime) logActive(c *Container) bool {
	st, err := spec.ReadState(c.RunDir)
	if err != nil {
		return false
	}
	switch st.Status {
	case spec.StatusRunning, spec.StatusPaused:
		return alive(st.Pid, st.PidStart) || alive(st.MonitorPid, st.MonitorStart)
	case spec.StatusRestarting:
		return alive(st.MonitorPid, st.MonitorStart)
	}
	return false
}

// catchUp reads what was written to the log since the last call: the rest
// of the file being read, then each file rotated after it, up to the
// current one, which it returns. A log emptied in place (max-file 1) is
// read again from its start.
//
// The monitor rotates while this reads, so files are followed by inode,
// never by name alone (see newerLogs). An open file can be read to its
// end whatever happens to its name; lines of a file deleted (aged out)
// before it was opened are lost, as max-file says.
func catchUp(cur *logReader, path string, emit func(LogRecord) error, p *logPrinter) (*logReader, error) {
	for !p.done {
		if err := cur.rewindIfEmptied(); err != nil {
			return cur, err
		}
		if err := cur.drain(emit, p); err != nil {
			return cur, err
		}
		next, err := newerLogs(path, cur)
		if err != nil || len(next) == 0 {
			return cur, err
		}
		// Every file but the newest listed has a newer one after it, so
		// it was rotated: the monitor wrote its last lines before that.
		// The newest may be the current file, and is read on.
		done := append([]*logReader{cur}, next[:len(next)-1]...)
		cur = next[len(next)-1]
		for i, l := range done {
			err := l.drain(emit, p)
			if err == nil {
				err = l.flushPartial(emit, p)
			}
			l.close()
			if err != nil {
				for _, rest := range done[i+1:] {
					rest.close()
				}
				return cur, err
			}
		}
	}
	return cur, nil
}

// logEntry is one file of a log: path, or a rotated path.N.
type logEntry struct {
	path string
	n    int // 0 for the current file
	ino  uint64
}

// logFiles lists a log's files oldest first: path.N (the highest N) down
// to path.1, then path.
func logFiles(path string) ([]logEntry, error) {
	entries, err := os.ReadDir(filepath.Dir(path))
	if errors.Is(err, fs.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("list log files: %w", err)
	}
	base := filepath.Base(path)
	var out []logEntry
	for _, e := range entries {
		n := 0
		if e.Name() != base {
			var err error
			suffix, ok := strings.CutPrefix(e.Name(), base+".")
			if n, err = strconv.Atoi(suffix); !ok || err != nil || n < 1 {
				continue
			}
		}
		p := filepath.Join(filepath.Dir(path), e.Name())
		ino, err := statIno(p)
		if errors.Is(err, fs.ErrNotExist) {
			continue // rotated away since the listing
		}
		if err != nil {
			return nil, err
		}
		out = append(out, logEntry{path: p, n: n, ino: ino})
	}
	// Highest number first, the current file (0) last.
	sort.Slice(out, func(i, j int) bool {
		if out[i].n == 0 || out[j].n == 0 {
			return out[j].n == 0 && out[i].n != 0
		}
		return out[i].n > out[j].n
	})
	return out, nil
}

// maxOpenLogs bounds the files newerLogs opens at once.
const maxOpenLogs = 64

// newerLogs opens, oldest first, the files that come after cur (after
// nothing when cur has no file: from the oldest), at most maxOpenLogs of
// them; none when there are none yet.
//
// Every rotation renames each file, so a listing taken meanwhile can miss
// a file or show one twice. The files are listed, opened (each must still
// hold the inode listed) and listed again: only when both listings agree
// did no rename happen in between, and the order is the files' true order.
// Otherwise it all starts again.
func newerLogs(path string, cur *logReader) ([]*logReader, error) {
	if cur.f != nil {
		ino, err := statIno(path)
		if err == nil && ino == cur.ino {
			return nil, nil // still the current file: nothing newer
		}
		if err != nil && !errors.Is(err, fs.ErrNotExist) {
			return nil, err
		}
	}
	for attempt := 0; attempt < 100; attempt++ {
		before, err := logFiles(path)
		if err != nil {
			return nil, err
		}
		at := -1
		if cur.f != nil {
			for i, e := range before {
				if e.ino == cur.ino {
					at = i
				}
			}
			if at < 0 {
				gone, err := cur.unlinked()
				if err != nil {
					return nil, err
				}
				if !gone {
					continue // renamed while listed: list again
				}
				// Deleted: every file listed is newer.
			}
		}
		var opened []*logReader
		for _, e := range before[at+1:] {
			if len(opened) == maxOpenLogs {
				break
			}
			l, err := openLog(e.path)
			if err != nil {
				closeLogs(opened)
				return nil, err
			}
			if l.f == nil || l.ino != e.ino {
				l.close() // renamed since listed: the second listing differs
				break
			}
			opened = append(opened, l)
		}
		after, err := logFiles(path)
		if err != nil {
			closeLogs(opened)
			return nil, err
		}
		if slices.Equal(before, after) {
			return opened, nil
		}
		closeLogs(opened)
	}
	return nil, nil // rotating without pause: go on at the next call
}

func closeLogs(ls []*logReader) {
	for _, l := range ls {
		l.close()
	}
}

// statIno is the inode of the file at path.
func statIno(path string) (uint64, error) {
	var st syscall.Stat_t
	if err := syscall.Stat(path, &st); err != nil {
		return 0, &fs.PathError{Op: "stat", Path: path, Err: err}
	}
	return st.Ino, nil
}

// logReader reads one log file line by line, keeping a line that is not
// yet whole until the rest is written.
type logReader struct {
	f    *os.File // nil: no file yet
	path string
	ino  uint64
	off  int64  // bytes consumed from the file
	buf  []byte // read but not yet returned
}

func openLog(path string) (*logReader, error) {
	f, err := os.Open(path)
	if errors.Is(err, fs.ErrNotExist) {
		return &logReader{path: path}, nil
	}
	if err != nil {
		return nil, fmt.Errorf("open log: %w", err)
	}
	l := &logReader{f: f, path: path}
	var st syscall.Stat_t
	if err := syscall.Fstat(int(f.Fd()), &st); err != nil {
		f.Close()
		return nil, fmt.Errorf("open log %s: %w", path, err)
	}
	l.ino = st.Ino
	return l, nil
}

func (l *logReader) close() {
	if l.f != nil {
		l.f.Close() // read-only: nothing to lose
		l.f = nil
	}
}

// unlinked reports whether the open file has no name left.
func (l *logReader) unlinked() (bool, error) {
	var st syscall.Stat_t
	if err := syscall.Fstat(int(l.f.Fd()), &st); err != nil {
		return false, fmt.Errorf("log %s: %w", l.path, err)
	}
	return st.Nlink == 0, nil
}

// rewindIfEmptied starts again at the file's beginning when it is shorter
// than what was read: the monitor emptied it (max-file 1).
func (l *logReader) rewindIfEmptied() error {
	if l.f == nil {
		return nil
	}
	var st syscall.Stat_t
	if err := syscall.Fstat(int(l.f.Fd()), &st); err != nil {
		return fmt.Errorf("log %s: %w", l.path, err)
	}
	if st.Size >= l.off {
		return nil
	}
	if _, err := l.f.Seek(0, io.SeekStart); err != nil {
		return fmt.Errorf("read log %s: %w", l.path, err)
	}
	l.off, l.buf = 0, l.buf[:0]
	return nil
}

// drain passes every whole line written so far to emit, stopping early
// when the printer is done (past --until).
func (l *logReader) drain(emit func(LogRecord) error, p *logPrinter) error {
	if l.f == nil {
		return nil
	}
	for !p.done {
		if i := bytes.IndexByte(l.buf, '\n'); i >= 0 {
			line := l.buf[:i]
			l.buf = l.buf[i+1:]
			if err := l.emitLine(line, emit, p); err != nil {
				return err
			}
			continue
		}
		// Lines are consumed from the front; when the room behind them is
		// short, the unfinished rest moves into a new buffer.
		if cap(l.buf)-len(l.buf) < 16*1024 {
			nb := make([]byte, len(l.buf), len(l.buf)+64*1024)
			copy(nb, l.buf)
			l.buf = nb
		}
		n, err := l.f.Read(l.buf[len(l.buf):cap(l.buf)])
		l.off += int64(n)
		l.buf = l.buf[:len(l.buf)+n]
		if errors.Is(err, io.EOF) || (n == 0 && err == nil) {
			return nil
		}
		if err != nil {
			return fmt.Errorf("read log %s: %w", l.path, err)
		}
	}
	return nil
}

// flushPartial passes on a last line that never got its newline (a file
// that will not grow any more).
func (l *logReader) flushPartial(emit func(LogRecord) error, p *logPrinter) error {
	if len(l.buf) == 0 || p.done {
		return nil
	}
	line := l.buf
	l.buf = nil
	return l.emitLine(line, emit, p)
}

func (l *logReader) emitLine(line []byte, emit func(LogRecord) error, p *logPrinter) error {
	rec, err := ParseLogLine(line)
	if err != nil {
		p.bad(l.path, err)
		return nil
	}
	return emit(rec)
}

// logPrinter writes records to the streams as logs shows them.
type logPrinter struct {
	o LogsOptions
	// atStart is whether each stream is at the start of a line, where
	// -t puts a timestamp.
	atStart map[string]bool
	// done: a record past Until was seen; nothing more is shown.
	done bool
	// badLines counts lines that did not parse; firstBad is the first.
	badLines int
	firstBad error
}

func (p *logPrinter) print(rec LogRecord) error {
	if !p.o.Until.IsZero() && rec.Time.After(p.o.Until) {
		p.done = true
		return nil
	}
	if !p.o.Since.IsZero() && rec.Time.Before(p.o.Since) {
		return nil
	}
	w := p.o.Stdout
	if rec.Stream == StreamStderr {
		w = p.o.Stderr
	}
	buf := make([]byte, 0, len(rec.Text)+40)
	if p.o.Timestamps && p.atStart[rec.Stream] {
		buf = append(rec.Time.UTC().AppendFormat(buf, LogTimestampFormat), ' ')
	}
	buf = append(buf, rec.Text...)
	if !rec.Partial {
		buf = append(buf, '\n')
	}
	p.atStart[rec.Stream] = !rec.Partial
	if _, err := w.Write(buf); err != nil {
		return fmt.Errorf("write %s: %w", rec.Stream, err)
	}
	return nil
}

func (p *logPrinter) bad(path string, err error) {
	p.badLines++
	if p.firstBad == nil {
		p.firstBad = fmt.Errorf("%s: %w", path, err)
	}
}

// err reports lines that could not be read, after everything else was
// printed.
func (p *logPrinter) err() error {
	if p.badLines == 0 {
		return nil
	}
	return fmt.Errorf("%d log lines could not be read; the first: %w", p.badLines, p.firstBad)
}

// tailBuffer keeps the last n lines of a log: a line is the records of one
// stream up to and including a full (F) record.
type tailBuffer struct {
	n     int
	lines [][]LogRecord
	// pending are each stream's partial records not yet ended by a full one.
	pending map[string][]LogRecord
}

func (t *tailBuffer) add(rec LogRecord) {
	rec.Text = append([]byte(nil), rec.Text...)
	t.pending[rec.Stream] = append(t.pending[rec.Stream], rec)
	if rec.Partial {
		return
	}
	t.lines = append(t.lines, t.pending[rec.Stream])
	delete(t.pending, rec.Stream)
	if len(t.lines) > 2*t.n+64 {
		t.lines = append([][]LogRecord(nil), t.lines[len(t.lines)-t.n:]...)
	}
}

// records returns the records of the last n lines, in order; a line that
// never ended counts as one.
func (t *tailBuffer) records() []LogRecord {
	lines := t.lines
	for _, s := range []string{StreamStdout, StreamStderr} {
		if len(t.pending[s]) > 0 {
			lines = append(lines, t.pending[s])
		}
	}
	if len(lines) > t.n {
		lines = lines[len(lines)-t.n:]
	}
	var out []LogRecord
	for _, l := range lines {
		out = append(out, l...)
	}
	return out
}
