package main

import (
	"archive/tar"
	"bytes"
	"crypto/sha256"
	"errors"
	"io"
	"slices"
	"strings"
	"testing"
)

const statusSample = `Name:	sandbox-monitor
Umask:	0022
State:	S (sleeping)
Tgid:	3935
Ngid:	0
Pid:	3935
PPid:	1
TracerPid:	0
Uid:	1001	1001	1001	1001
VmPeak:	 1237568 kB
VmRSS:	    3752 kB
RssAnon:	    1136 kB
Threads:	5
`

func TestParseStatus(t *testing.T) {
	tests := []struct {
		name    string
		text    string
		want    procStatus
		wantErr bool
	}{
		{"monitor", statusSample, procStatus{name: "sandbox-monitor", ppid: 1, rss: 3752 * 1024}, false},
		{"kernel thread, no VmRSS", "Name:\tkthreadd\nPPid:\t0\n", procStatus{name: "kthreadd", ppid: 0}, false},
		{"name with spaces and colon", "Name:\ta b: c\nPPid:\t7\nVmRSS:\t0 kB\n", procStatus{name: "a b: c", ppid: 7}, false},
		{"no PPid", "Name:\tx\nVmRSS:\t4 kB\n", procStatus{}, true},
		{"no Name", "PPid:\t1\n", procStatus{}, true},
		{"bad PPid", "Name:\tx\nPPid:\t-1\n", procStatus{}, true},
		{"bad VmRSS unit", "Name:\tx\nPPid:\t1\nVmRSS:\t4 MB\n", procStatus{}, true},
		{"empty", "", procStatus{}, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := parseStatus(tt.text)
			if (err != nil) != tt.wantErr || got != tt.want {
				t.Errorf("parseStatus = %+v, %v; want %+v, error %v", got, err, tt.want, tt.wantErr)
			}
		})
	}
}

func TestParseSmapsRollupPss(t *testing.T) {
	rollup := "00400000-7ffdb0ea1000 ---p 00000000 00:00 0                              [rollup]\nRss:                3752 kB\nPss:                3746 kB\nPss_Dirty:          1136 kB\n"
	tests := []struct {
		name    string
		text    string
		want    int64
		wantErr bool
	}{
		{"rollup", rollup, 3746 * 1024, false},
		{"Pss_Dirty is not Pss", "Pss_Dirty:   12 kB\n", 0, true},
		{"no unit", "Pss: 12\n", 0, true},
		{"not a number", "Pss: x kB\n", 0, true},
		{"huge", "Pss: 99999999999999999999 kB\n", 0, true},
		{"empty", "", 0, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := parseSmapsRollupPss(tt.text)
			if (err != nil) != tt.wantErr || got != tt.want {
				t.Errorf("parseSmapsRollupPss = %d, %v; want %d, error %v", got, err, tt.want, tt.wantErr)
			}
		})
	}
}

func FuzzParseStatus(f *testing.F) {
	f.Add(statusSample)
	f.Add("Name:\tx\nPPid:\t1\nVmRSS:\t4 kB\n")
	f.Fuzz(func(t *testing.T, text string) {
		st, err := parseStatus(text)
		if err == nil && (st.ppid < 0 || st.rss < 0) {
			t.Errorf("parseStatus(%q) = %+v: negative", text, st)
		}
	})
}

func FuzzParseSmapsRollupPss(f *testing.F) {
	f.Add("Rss: 8 kB\nPss: 4 kB\n")
	f.Fuzz(func(t *testing.T, text string) {
		if n, err := parseSmapsRollupPss(text); err == nil && (n < 0 || n%1024 != 0) {
			t.Errorf("parseSmapsRollupPss(%q) = %d", text, n)
		}
	})
}

func TestHelperProcesses(t *testing.T) {
	// 10 is a monitor with the container's pid 1 (11, with a child 12)
	// and a helper of its own (13, with a child 14).
	children := map[int][]int{1: {10, 20}, 10: {11, 13}, 11: {12}, 13: {14}}
	got := helperProcesses(children, 10, 11)
	slices.Sort(got)
	if want := []int{10, 13, 14}; !slices.Equal(got, want) {
		t.Errorf("helperProcesses = %v, want %v", got, want)
	}
}

// The big image's layer must be the same on every run, of about the size
// asked, and made of regular files under data/.
func TestWriteBigLayer(t *testing.T) {
	const size = 3 << 20
	layer := func(seed uint64) []byte {
		var b bytes.Buffer
		if err := writeBigLayer(&b, size, seed); err != nil {
			t.Fatal(err)
		}
		return b.Bytes()
	}
	a, b := layer(1), layer(1)
	if sha256.Sum256(a) != sha256.Sum256(b) {
		t.Fatal("two layers of the same seed differ")
	}
	if sha256.Sum256(a) == sha256.Sum256(layer(2)) {
		t.Fatal("layers of two seeds are the same")
	}
	tr := tar.NewReader(bytes.NewReader(a))
	var total int64
	for {
		hdr, err := tr.Next()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		if !strings.HasPrefix(hdr.Name, "data/") {
			t.Errorf("entry %s outside data/", hdr.Name)
		}
		if hdr.Typeflag == tar.TypeReg {
			n, err := io.Copy(io.Discard, tr)
			if err != nil || n != hdr.Size {
				t.Fatalf("%s: read %d of %d bytes: %v", hdr.Name, n, hdr.Size, err)
			}
			total += n
		}
	}
	if total != size {
		t.Errorf("file content = %d bytes, want %d", total, size)
	}
}
