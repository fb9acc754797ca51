package build

import (
	"bytes"
	"fmt"
	"io"
	"os"
	"strings"
	"sync"
	"time"
	"unicode"
	"unicode/utf8"

	"golang.org/x/sys/unix"
	"golang.org/x/term"
)

// tailLines is how many lines of a failed step's output the compact view
// shows.
const tailLines = 10

// compactView is build's output on a terminal: the current step's line,
// rewritten in place with the last line of its output, and each finished
// step left as one line with its duration (or "cached"). A failed step's
// last lines of output are shown in full.
type compactView struct {
	mu  sync.Mutex
	w   io.Writer
	fd  int // the terminal's, for its width; -1: none
	now func() time.Time
	// line is the current step's text ("": none); start when it began.
	line   string
	start  time.Time
	cached bool
	// last is the last complete line of the step's output, partial the
	// line being written; tail the last complete lines.
	last, partial string
	tail          []string
}

// useCompact says whether o.Progress and the output ask for the compact
// view: tty, or auto on a terminal.
func useCompact(progress string, out io.Writer) (fd int, ok bool) {
	fd = -1
	f, isFile := out.(*os.File)
	if isFile && term.IsTerminal(int(f.Fd())) {
		fd = int(f.Fd())
	}
	switch progress {
	case "tty":
		return fd, true
	case "", "auto":
		return fd, fd >= 0
	}
	return fd, false
}

func newCompactView(w io.Writer, fd int) *compactView {
	return &compactView{w: w, fd: fd, now: time.Now}
}

// width is the terminal's width in columns (80 when unknown).
func (v *compactView) width() int {
	if v.fd >= 0 {
		if ws, err := unix.IoctlGetWinsize(v.fd, unix.TIOCGWINSZ); err == nil && ws.Col > 0 {
			return int(ws.Col)
		}
	}
	return 80
}

// step ends the current step and shows text as the new one.
func (v *compactView) step(text string) {
	v.mu.Lock()
	defer v.mu.Unlock()
	v.endLocked("")
	v.line, v.start, v.cached = clean([]byte(strings.ReplaceAll(text, "\n", " "))), v.now(), false
	v.last, v.partial, v.tail = "", "", nil
	v.drawLocked()
}

// cachedStep marks the current step as taken from the cache.
func (v *compactView) cachedStep() {
	v.mu.Lock()
	v.cached = true
	v.mu.Unlock()
}

// end ends the current step, if any.
func (v *compactView) end() {
	v.mu.Lock()
	defer v.mu.Unlock()
	v.endLocked("")
}

// fail ends the current step as failed and shows its last lines of
// output.
func (v *compactView) fail() {
	v.mu.Lock()
	defer v.mu.Unlock()
	if v.line == "" {
		return
	}
	tail := v.tail
	if v.partial != "" {
		tail = append(tail, v.partial)
	}
	v.endLocked("ERROR")
	for _, l := range tail {
		fmt.Fprintf(v.w, "  | %s\n", l)
	}
}

// endLocked replaces the current step's line with its final form.
func (v *compactView) endLocked(status string) {
	if v.line == "" {
		return
	}
	if status == "" {
		status = fmt.Sprintf("%.1fs", v.now().Sub(v.start).Seconds())
		if v.cached {
			status = "cached"
		}
	}
	fmt.Fprintf(v.w, "\r\x1b[K%s\n", fit(v.line, v.width()-len(status)-4)+" ("+status+")")
	v.line = ""
}

// drawLocked rewrites the current step's line: its text and, after it,
// the last line of its output, cut to the terminal's width.
func (v *compactView) drawLocked() {
	w := v.width() - 1
	s := fit(v.line, w)
	last := v.partial
	if last == "" {
		last = v.last
	}
	if room := w - utf8.RuneCountInString(s) - 3; last != "" && room > 8 {
		s += " | " + fit(last, room)
	}
	fmt.Fprintf(v.w, "\r\x1b[K%s", s)
}

// output is a writer of the current step's output (a RUN's, a pull's
// progress); with no step shown, what it gets goes to w as it is.
func (v *compactView) output(w io.Writer) io.Writer { return &viewWriter{v: v, w: w} }

type viewWriter struct {
	v *compactView
	w io.Writer
}

func (vw *viewWriter) Write(p []byte) (int, error) {
	n, v := len(p), vw.v
	v.mu.Lock()
	defer v.mu.Unlock()
	if v.line == "" {
		return vw.w.Write(p)
	}
	for len(p) > 0 {
		i := bytes.IndexAny(p, "\r\n")
		if i < 0 {
			v.partial += clean(p)
			break
		}
		v.partial += clean(p[:i])
		// A carriage return (a progress bar) rewrites the line: only a
		// line feed ends one.
		if p[i] == '\n' {
			v.last = v.partial
			v.tail = append(v.tail, v.partial)
			if len(v.tail) > tailLines {
				v.tail = v.tail[1:]
			}
		}
		v.partial = ""
		p = p[i+1:]
	}
	v.drawLocked()
	return n, nil
}

// clean is output made safe to show inside a line: tabs as spaces, other
// control characters and escape sequences dropped, invalid bytes
// replaced; at most a line's worth kept.
func clean(p []byte) string {
	var b strings.Builder
	esc := false
	for _, r := range string(p) {
		switch {
		case esc:
			// CSI and the like end with a letter.
			if unicode.IsLetter(r) || r == '~' {
				esc = false
			}
		case r == 0x1b:
			esc = true
		case r == '\t':
			b.WriteByte(' ')
		case unicode.IsControl(r):
		default:
			b.WriteRune(r)
		}
		if b.Len() > 512 {
			break
		}
	}
	return b.String()
}

// fit cuts s to n characters, ending with "..." when cut.
func fit(s string, n int) string {
	if n < 4 {
		n = 4
	}
	if utf8.RuneCountInString(s) <= n {
		return s
	}
	r := []rune(s)
	return string(r[:n-3]) + "..."
}
