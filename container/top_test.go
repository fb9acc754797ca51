// Unit tests (privilege tier: none) of what top reads of /proc.

package container

import (
	"fmt"
	"reflect"
	"strings"
	"testing"
	"time"

	"sandbox/spec"
)

const statusSample = `Name:	sleep
Umask:	0022
State:	S (sleeping)
Tgid:	4242
Ngid:	0
Pid:	4242
PPid:	4200
TracerPid:	0
Uid:	1000	1001	1002	1003
Gid:	0	0	0	0
NSpid:	4242	7
NSpgid:	4242	7
`

func TestParseProcStatus(t *testing.T) {
	tests := []struct {
		name    string
		data    string
		want    procStatus
		wantErr string
	}{
		{name: "nested pid namespace", data: statusSample, want: procStatus{PPid: 4200, NSpid: []int{4242, 7}, EUID: 1001}},
		{name: "host process", data: "PPid:\t1\nUid:\t0\t0\t0\t0\nNSpid:\t12\n", want: procStatus{PPid: 1, NSpid: []int{12}}},
		{name: "three levels", data: "PPid:\t0\nUid:\t5\t5\t5\t5\nNSpid:\t100\t20\t1\n", want: procStatus{NSpid: []int{100, 20, 1}, EUID: 5}},
		{name: "no NSpid", data: "PPid:\t1\nUid:\t0\t0\t0\t0\n", wantErr: "NSpid"},
		{name: "empty", data: "", wantErr: "want PPid"},
		{name: "bad PPid", data: "PPid:\tx\nUid:\t0\t0\t0\t0\nNSpid:\t1\n", wantErr: "PPid"},
		{name: "negative PPid", data: "PPid:\t-1\nUid:\t0\t0\t0\t0\nNSpid:\t1\n", wantErr: "PPid"},
		{name: "short Uid", data: "PPid:\t1\nUid:\t0\t0\nNSpid:\t1\n", wantErr: "Uid"},
		{name: "bad NSpid", data: "PPid:\t1\nUid:\t0\t0\t0\t0\nNSpid:\t1\tx\n", wantErr: "NSpid"},
		{name: "empty NSpid", data: "PPid:\t1\nUid:\t0\t0\t0\t0\nNSpid:\n", wantErr: "NSpid"},
		{name: "zero NSpid", data: "PPid:\t1\nUid:\t0\t0\t0\t0\nNSpid:\t0\n", wantErr: "NSpid"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := parseProcStatus([]byte(tt.data))
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("error %v, want one containing %q", err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(got, tt.want) {
				t.Errorf("got %+v, want %+v", got, tt.want)
			}
		})
	}
}

func FuzzParseProcStatus(f *testing.F) {
	f.Add([]byte(statusSample))
	f.Add([]byte("PPid:\t0\nUid:\t5\t5\t5\t5\nNSpid:\t100\t20\t1\n"))
	f.Fuzz(func(t *testing.T, data []byte) {
		s, err := parseProcStatus(data)
		if err == nil && len(s.NSpid) == 0 {
			t.Fatalf("parseProcStatus(%q) gave no NSpid and no error", data)
		}
	})
}

// topStatLine builds a /proc/PID/stat line with the fields top reads.
func topStatLine(comm string, tty uint32, utime, stime, start uint64) string {
	return fmt.Sprintf("4242 (%s) S 4200 4242 4242 %d -1 4194560 1108 0 0 0 %d %d 0 0 20 0 1 0 %d 2445312 512 18446744073709551615 1 1 0 0 0 0 0 0 0 0 0 0 17 1 0 0 0 0 0\n",
		comm, tty, utime, stime, start)
}

func TestParseTopStat(t *testing.T) {
	tests := []struct {
		name    string
		data    string
		want    topStat
		wantErr string
	}{
		{name: "plain", data: topStatLine("sleep", 0, 3, 4, 5000), want: topStat{Comm: "sleep", UTime: 3, STime: 4, StartTime: 5000}},
		{name: "tty", data: topStatLine("sh", 34816, 0, 0, 1), want: topStat{Comm: "sh", TTY: 34816, StartTime: 1}},
		{name: "name with parentheses and spaces", data: topStatLine("a) (b c", 0, 1, 2, 3), want: topStat{Comm: "a) (b c", UTime: 1, STime: 2, StartTime: 3}},
		{name: "empty", data: "", wantErr: "no command name"},
		{name: "truncated", data: "1 (x) S 0 1", wantErr: "fields after the name"},
		{name: "bad utime", data: strings.Replace(topStatLine("x", 0, 1, 2, 3), " 1 2 0 0 20", " u 2 0 0 20", 1), wantErr: "field 14"},
		{name: "bad tty", data: strings.Replace(topStatLine("x", 0, 1, 2, 3), "4242 4242 0 -1", "4242 4242 t -1", 1), wantErr: "tty"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := parseTopStat([]byte(tt.data))
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("error %v, want one containing %q", err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if got != tt.want {
				t.Errorf("got %+v, want %+v", got, tt.want)
			}
		})
	}
}

func FuzzParseTopStat(f *testing.F) {
	f.Add("sleep", uint32(0), uint64(1), uint64(2), uint64(3))
	f.Add("x) S 1 2 3", uint32(34817), uint64(0), uint64(0), uint64(18446744073709551615))
	f.Fuzz(func(t *testing.T, comm string, tty uint32, utime, stime, start uint64) {
		if strings.ContainsAny(comm, "\n") {
			return
		}
		line := topStatLine(comm, tty, utime, stime, start)
		got, err := parseTopStat([]byte(line))
		if err != nil {
			t.Fatalf("parseTopStat(%q): %v", line, err)
		}
		if got.Comm != comm || got.UTime != utime || got.STime != stime || got.StartTime != start {
			t.Fatalf("parseTopStat(%q) = %+v", line, got)
		}
		parseTopStat([]byte(line[:len(line)/2])) // must not panic
	})
}

func TestParseUptime(t *testing.T) {
	tests := []struct {
		data    string
		want    time.Duration
		wantErr bool
	}{
		{"12345.67 54321.00\n", 12345*time.Second + 670*time.Millisecond, false},
		{"5 1", 5 * time.Second, false},
		{"", 0, true}, {"x.5 1", 0, true}, {"1.x 1", 0, true}, {"1.1234567891 1", 0, true},
	}
	for _, tt := range tests {
		got, err := parseUptime([]byte(tt.data))
		if (err != nil) != tt.wantErr || got != tt.want {
			t.Errorf("parseUptime(%q) = %v, %v; want %v, error %v", tt.data, got, err, tt.want, tt.wantErr)
		}
	}
}

func TestTTYName(t *testing.T) {
	mk := func(major, minor uint32) uint32 { return (minor & 0xff) | (major&0xfff)<<8 | (minor&^0xff)<<12 }
	tests := []struct {
		dev  uint32
		want string
	}{
		{0, "?"}, {mk(136, 0), "pts/0"}, {mk(136, 3), "pts/3"}, {mk(136, 300), "pts/300"}, {mk(137, 1), "pts/257"},
		{mk(4, 1), "tty1"}, {mk(4, 64), "ttyS0"}, {mk(5, 0), "tty"}, {mk(5, 1), "console"}, {mk(8, 1), "?"},
	}
	for _, tt := range tests {
		if got := ttyName(tt.dev); got != tt.want {
			t.Errorf("ttyName(%#x) = %q, want %q", tt.dev, got, tt.want)
		}
	}
}

func TestTopRow(t *testing.T) {
	keepID := &spec.UserNS{UIDMap: []spec.IDMap{{ContainerID: 0, HostID: 1, Size: 1000}, {ContainerID: 1000, HostID: 0, Size: 1}, {ContainerID: 1001, HostID: 1001, Size: 64535}}}
	users := map[uint32]string{0: "root", 1000: "me"}
	base := topInput{
		status:  procStatus{PPid: 4200, NSpid: []int{4242, 1}, EUID: 0},
		stat:    topStat{Comm: "sleep", UTime: 150, STime: 50, StartTime: 1000},
		cmdline: []byte("sleep\x0030\x00"),
		uptime:  20 * time.Second,
		pids:    map[int]int{4242: 1, 4300: 7},
		users:   users,
	}
	tests := []struct {
		name   string
		change func(*topInput)
		want   TopProcess
	}{
		{name: "first process", want: TopProcess{User: "root", PID: 1, PPID: 0, CPU: 20, Elapsed: 10 * time.Second, TTY: "?", Time: 2 * time.Second, Command: "sleep 30"}},
		{name: "child, named user", change: func(in *topInput) {
			in.status = procStatus{PPid: 4242, NSpid: []int{4300, 7}, EUID: 1000}
		}, want: TopProcess{User: "me", PID: 7, PPID: 1, CPU: 20, Elapsed: 10 * time.Second, TTY: "?", Time: 2 * time.Second, Command: "sleep 30"}},
		{name: "user without a name", change: func(in *topInput) { in.status.EUID = 5 },
			want: TopProcess{User: "5", PID: 1, CPU: 20, Elapsed: 10 * time.Second, TTY: "?", Time: 2 * time.Second, Command: "sleep 30"}},
		{name: "keep-id: the keeper's 0 is the user", change: func(in *topInput) { in.userNS = keepID },
			want: TopProcess{User: "me", PID: 1, CPU: 20, Elapsed: 10 * time.Second, TTY: "?", Time: 2 * time.Second, Command: "sleep 30"}},
		{name: "keep-id: the keeper's 1 is root", change: func(in *topInput) { in.userNS, in.status.EUID = keepID, 1 },
			want: TopProcess{User: "root", PID: 1, CPU: 20, Elapsed: 10 * time.Second, TTY: "?", Time: 2 * time.Second, Command: "sleep 30"}},
		{name: "keep-id: unmapped", change: func(in *topInput) { in.userNS, in.status.EUID = keepID, 70000 },
			want: TopProcess{User: "nobody", PID: 1, CPU: 20, Elapsed: 10 * time.Second, TTY: "?", Time: 2 * time.Second, Command: "sleep 30"}},
		{name: "no command line", change: func(in *topInput) { in.cmdline = nil },
			want: TopProcess{User: "root", PID: 1, CPU: 20, Elapsed: 10 * time.Second, TTY: "?", Time: 2 * time.Second, Command: "[sleep]"}},
		{name: "started after uptime was read", change: func(in *topInput) { in.uptime = time.Second },
			want: TopProcess{User: "root", PID: 1, TTY: "?", Time: 2 * time.Second, Command: "sleep 30"}},
		{name: "terminal", change: func(in *topInput) { in.stat.TTY = 136<<8 | 2 },
			want: TopProcess{User: "root", PID: 1, CPU: 20, Elapsed: 10 * time.Second, TTY: "pts/2", Time: 2 * time.Second, Command: "sleep 30"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			in := base
			if tt.change != nil {
				tt.change(&in)
			}
			if got := topRow(in); got != tt.want {
				t.Errorf("got  %+v\nwant %+v", got, tt.want)
			}
		})
	}
	row := topRow(base).Row()
	if want := []string{"root", "1", "0", "20.000", "10s", "?", "2s", "sleep 30"}; !reflect.DeepEqual(row, want) || len(row) != len(TopHeader) {
		t.Errorf("Row() = %q, want %q", row, want)
	}
}
