// Unit tests (privilege tier: none) of the /proc/PID/stat parser.

package proc

import (
	"fmt"
	"strings"
	"testing"
)

// statLine builds a /proc/PID/stat line as the kernel writes it, with the
// given command name, state and start time (field 22).
func statLine(comm string, state byte, start uint64) string {
	return fmt.Sprintf("4242 (%s) %c 1 4242 4242 0 -1 4194560 1108 0 0 0 2 1 0 0 20 0 1 0 %d 2445312 512 18446744073709551615 1 1 0 0 0 0 0 0 0 0 0 0 17 1 0 0 0 0 0\n",
		comm, state, start)
}

func TestParseStat(t *testing.T) {
	tests := []struct {
		name    string
		data    string
		want    Stat
		wantErr string
	}{
		{name: "plain", data: statLine("sleep", 'S', 123456), want: Stat{State: 'S', StartTime: 123456}},
		{name: "zombie", data: statLine("sh", 'Z', 7), want: Stat{State: 'Z', StartTime: 7}},
		{name: "name with spaces", data: statLine("my prog name", 'R', 99), want: Stat{State: 'R', StartTime: 99}},
		{name: "name with parentheses", data: statLine("a) (b", 'S', 5), want: Stat{State: 'S', StartTime: 5}},
		// A name made to look like the rest of the line must not fool the
		// parser: the last ')' ends the name.
		{name: "name mimicking fields", data: statLine("x) Z 1 1 1 0 -1 0 0 0 0 0 0 0 0 0 20 0 1 0 1", 'S', 777),
			want: Stat{State: 'S', StartTime: 777}},
		{name: "name ending in ')'", data: statLine("evil)", 'D', 8), want: Stat{State: 'D', StartTime: 8}},
		{name: "empty name", data: statLine("", 'I', 1), want: Stat{State: 'I', StartTime: 1}},
		{name: "largest start time", data: statLine("p", 'S', 18446744073709551615), want: Stat{State: 'S', StartTime: 18446744073709551615}},
		{name: "exactly 20 fields after the name", data: "1 (init) S 0 1 1 0 -1 4194560 0 0 0 0 0 0 0 0 20 0 1 0 42",
			want: Stat{State: 'S', StartTime: 42}},
		{name: "empty", data: "", wantErr: "proc stat: no command name"},
		{name: "no closing parenthesis", data: "1 (init S 0 1", wantErr: "no command name"},
		{name: "truncated", data: "1 (init) S 0 1 1 0", wantErr: "proc stat: 5 fields after the name, want at least 20"},
		{name: "19 fields", data: "1 (init) S 0 1 1 0 -1 4194560 0 0 0 0 0 0 0 0 20 0 1 0", wantErr: "19 fields after the name"},
		{name: "state longer than one byte", data: "1 (init) SS 0 1 1 0 -1 4194560 0 0 0 0 0 0 0 0 20 0 1 0 42", wantErr: "proc stat"},
		{name: "start time not a number", data: "1 (init) S 0 1 1 0 -1 4194560 0 0 0 0 0 0 0 0 20 0 1 0 x", wantErr: `proc stat: start time: strconv.ParseUint: parsing "x"`},
		{name: "negative start time", data: "1 (init) S 0 1 1 0 -1 4194560 0 0 0 0 0 0 0 0 20 0 1 0 -42", wantErr: "start time"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := ParseStat([]byte(tt.data))
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("ParseStat(%q) error = %v, want one containing %q", tt.data, err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatalf("ParseStat(%q): %v", tt.data, err)
			}
			if got != tt.want {
				t.Errorf("ParseStat(%q) = %+v, want %+v", tt.data, got, tt.want)
			}
		})
	}
}

func FuzzParseStat(f *testing.F) {
	f.Add("sleep", byte('S'), uint64(123456))
	f.Add("a) (b", byte('R'), uint64(0))
	f.Add("x) Z 1 2 3 4 5 6 7 8 9 10 11 12 13 14 15 16 17 18 19 20", byte('D'), uint64(18446744073709551615))
	f.Fuzz(func(t *testing.T, comm string, state byte, start uint64) {
		// The kernel's command name is any bytes but NUL, at most 15 of
		// them; the parser must cope with any.
		if state <= ' ' || state == ')' || state >= 0x7f {
			state = 'S'
		}
		line := statLine(comm, state, start)
		got, err := ParseStat([]byte(line))
		if err != nil {
			t.Fatalf("ParseStat(%q): %v", line, err)
		}
		if got.State != state || got.StartTime != start {
			t.Fatalf("ParseStat(%q) = %+v, want state %c start %d", line, got, state, start)
		}
		// Any prefix of a valid line either parses or fails cleanly.
		for _, n := range []int{0, len(line) / 3, len(line) / 2, len(line) - 40} {
			if n >= 0 && n < len(line) {
				ParseStat([]byte(line[:n]))
			}
		}
	})
}
