package attach

import (
	"fmt"
	"strings"

	"golang.org/x/sys/unix"
)

// DefaultDetachKeys are docker's: ctrl-p ctrl-q.
const DefaultDetachKeys = "ctrl-p,ctrl-q"

// ParseDetachKeys reads docker's --detach-keys form: a comma list of
// single characters and ctrl-X (X a letter or one of @ [ \ ] ^ _).
func ParseDetachKeys(s string) ([]byte, error) {
	if s == "" {
		return nil, nil
	}
	var keys []byte
	for _, k := range strings.Split(s, ",") {
		switch {
		case len(k) == 1:
			keys = append(keys, k[0])
		case len(k) == 6 && strings.HasPrefix(strings.ToLower(k), "ctrl-"):
			c := k[5]
			switch {
			case c >= 'a' && c <= 'z':
				keys = append(keys, c-'a'+1)
			case c >= 'A' && c <= 'Z':
				keys = append(keys, c-'A'+1)
			case strings.IndexByte("@[\\]^_", c) >= 0:
				keys = append(keys, c-'@')
			default:
				return nil, fmt.Errorf("invalid detach keys %q: %q is not ctrl-LETTER or ctrl-@ [ \\ ] ^ _", s, k)
			}
		default:
			return nil, fmt.Errorf("invalid detach keys %q: %q is not one character or ctrl-X", s, k)
		}
	}
	return keys, nil
}

// TerminalSize is the size of the terminal on standard input or output,
// 0, 0 when neither is one.
func TerminalSize() (rows, cols uint16) {
	for _, fd := range []int{0, 1} {
		if ws, err := unix.IoctlGetWinsize(fd, unix.TIOCGWINSZ); err == nil {
			return ws.Row, ws.Col
		}
	}
	return 0, 0
}

// DetachScanner finds the detach keys in an input stream: Scan returns
// what to pass on of each read and whether the sequence completed. Bytes
// that begin the sequence are held back until it completes (detach) or
// breaks (then they are passed on).
type DetachScanner struct {
	Keys    []byte
	matched int
}

// Scan passes p through the scanner.
func (d *DetachScanner) Scan(p []byte) ([]byte, bool) {
	if len(d.Keys) == 0 {
		return p, false
	}
	var out []byte
	for _, b := range p {
		if b == d.Keys[d.matched] {
			if d.matched++; d.matched == len(d.Keys) {
				return out, true
			}
			continue
		}
		out = append(out, d.Keys[:d.matched]...)
		d.matched = 0
		if b == d.Keys[0] {
			d.matched = 1
			continue
		}
		out = append(out, b)
	}
	return out, false
}
