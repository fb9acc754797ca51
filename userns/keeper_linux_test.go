// Unit tests (privilege tier: none) of the keeper's pid file parser.

package userns

import (
	"fmt"
	"strings"
	"testing"
)

func TestParsePidFile(t *testing.T) {
	tests := []struct {
		name      string
		data      string
		wantPid   int
		wantStart uint64
		wantErr   string
	}{
		{name: "as written", data: "4242 123456789\n", wantPid: 4242, wantStart: 123456789},
		{name: "no newline", data: "1 0", wantPid: 1, wantStart: 0},
		{name: "extra blanks", data: "  17\t\t99  \n\n", wantPid: 17, wantStart: 99},
		{name: "largest start time", data: "2 18446744073709551615\n", wantPid: 2, wantStart: 18446744073709551615},
		{name: "empty", data: "", wantErr: `keeper pid file "": want PID STARTTIME`},
		{name: "pid only", data: "4242\n", wantErr: `keeper pid file "4242\n": want PID STARTTIME`},
		{name: "three fields", data: "1 2 3\n", wantErr: "want PID STARTTIME"},
		{name: "pid 0", data: "0 5\n", wantErr: `keeper pid file "0 5\n": bad pid`},
		{name: "negative pid", data: "-3 5\n", wantErr: `keeper pid file "-3 5\n": bad pid`},
		{name: "pid not a number", data: "abc 5\n", wantErr: "bad pid"},
		{name: "pid overflows", data: "99999999999999999999 5\n", wantErr: "bad pid"},
		{name: "negative start", data: "5 -1\n", wantErr: `keeper pid file "5 -1\n": bad start time`},
		{name: "start overflows", data: "5 18446744073709551616\n", wantErr: "bad start time"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			pid, start, err := ParsePidFile([]byte(tt.data))
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("ParsePidFile(%q) error = %v, want one containing %q", tt.data, err, tt.wantErr)
				}
				if pid != 0 || start != 0 {
					t.Errorf("ParsePidFile(%q) = %d, %d with an error, want 0, 0", tt.data, pid, start)
				}
				return
			}
			if err != nil {
				t.Fatalf("ParsePidFile(%q): %v", tt.data, err)
			}
			if pid != tt.wantPid || start != tt.wantStart {
				t.Errorf("ParsePidFile(%q) = %d, %d; want %d, %d", tt.data, pid, start, tt.wantPid, tt.wantStart)
			}
		})
	}
}

func FuzzParsePidFile(f *testing.F) {
	f.Add([]byte("4242 123456789\n"))
	f.Add([]byte("0 5"))
	f.Add([]byte("1 2 3"))
	f.Fuzz(func(t *testing.T, data []byte) {
		pid, start, err := ParsePidFile(data)
		if err != nil {
			return
		}
		if pid <= 0 {
			t.Fatalf("ParsePidFile(%q) accepted pid %d", data, pid)
		}
		// What the keeper writes reads back as itself.
		line := fmt.Sprintf("%d %d\n", pid, start)
		p2, s2, err := ParsePidFile([]byte(line))
		if err != nil || p2 != pid || s2 != start {
			t.Fatalf("ParsePidFile(%q) = %d, %d, %v; want %d, %d", line, p2, s2, err, pid, start)
		}
	})
}
