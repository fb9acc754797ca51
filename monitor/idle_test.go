// Unit tests (privilege tier: none) of reading smaps for the pages the
// monitor sheds after its start.

package monitor

import (
	"fmt"
	"os"
	"strings"
	"testing"
)

const smapsSample = `00400000-00553000 r-xp 00000000 fe:00 9978873                            /usr/libexec/sandbox/sandbox-monitor
Size:               1356 kB
Rss:                1344 kB
Anonymous:             0 kB
VmFlags: rd ex mr mw me 
00553000-006e5000 r--p 00153000 fe:00 9978873                            /usr/libexec/sandbox/sandbox-monitor
Size:               1608 kB
Anonymous:             0 kB
006e5000-006f5000 rw-p 002e5000 fe:00 9978873                            /usr/libexec/sandbox/sandbox-monitor
Anonymous:            20 kB
006f5000-0072b000 rw-p 00000000 00:00 0 
Anonymous:            72 kB
7f0000000000-7f0000001000 r--p 00001000 fe:00 1234                       /usr/lib/x86_64-linux-gnu/libc.so.6 (relocated)
Anonymous:             4 kB
7f0000002000-7f0000003000 r--s 00000000 00:05 99                         /memfd:shared (deleted)
Anonymous:             0 kB
7f18172ac000-7f18172ae000 r-xp 00000000 00:00 0                          [vdso]
Anonymous:             0 kB
7ffc14a10000-7ffc14a31000 rw-p 00000000 00:00 0                          [stack]
Anonymous:            16 kB
`

func TestParseSmaps(t *testing.T) {
	var got []string
	if err := parseSmaps(strings.NewReader(smapsSample), func(m mapping) {
		got = append(got, fmt.Sprintf("%x-%x %s %d %d %v", m.start, m.end, m.perms[:], m.inode, m.anonymous, m.sheddable()))
	}); err != nil {
		t.Fatal(err)
	}
	want := []string{
		"400000-553000 r-xp 9978873 0 true",
		"553000-6e5000 r--p 9978873 0 true",
		// Writable: the binary's data, which the process changes.
		"6e5000-6f5000 rw-p 9978873 20 false",
		"6f5000-72b000 rw-p 0 72 false",
		// Read-only now, but with pages of its own (relocated, then
		// made read-only): dropping them would lose what was written.
		"7f0000000000-7f0000001000 r--p 1234 4 false",
		// Shared: not the process's own view of the file.
		"7f0000002000-7f0000003000 r--s 99 0 false",
		"7f18172ac000-7f18172ae000 r-xp 0 0 false",
		"7ffc14a10000-7ffc14a31000 rw-p 0 16 false",
	}
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Fatalf("got\n%s\nwant\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
}

func TestParseSmapsBad(t *testing.T) {
	for _, text := range []string{
		"Anonymous: 0 kB\n",
		"00400000 r-xp 00000000 fe:00 1 /bin\n",
		"0040000g-00553000 r-xp 00000000 fe:00 1 /bin\n",
		"00400000-00553000 r-xp 00000000 fe:00 x /bin\n",
		"00400000-00553000 r-x 00000000 fe:00 1 /bin\n",
		"00400000-00553000 r-xp 00000000 fe:00 1 /bin\nAnonymous: many\n",
	} {
		if err := parseSmaps(strings.NewReader(text), func(mapping) {}); err == nil {
			t.Errorf("%q: no error", text)
		}
	}
}

// TestShedStartupSelf sheds this test process's own binary: its mapped
// file pages fall, and it goes on running on pages mapped again.
func TestShedStartupSelf(t *testing.T) {
	before := rssFile(t)
	if err := shedStartup(); err != nil {
		t.Fatal(err)
	}
	after := rssFile(t)
	if after >= before/2 {
		t.Fatalf("file pages mapped: %d kB before shedding, %d kB after", before, after)
	}
	t.Logf("file pages mapped: %d kB before shedding, %d kB after", before, after)
}

// rssFile is RssFile of /proc/self/status, in kB.
func rssFile(t *testing.T) uint64 {
	data, err := os.ReadFile("/proc/self/status")
	if err != nil {
		t.Fatal(err)
	}
	for _, line := range strings.Split(string(data), "\n") {
		if v, ok := strings.CutPrefix(line, "RssFile:"); ok {
			kb, err := parseKB([]byte(v))
			if err != nil {
				t.Fatal(err)
			}
			return kb
		}
	}
	t.Fatal("no RssFile in /proc/self/status")
	return 0
}

func FuzzParseSmaps(f *testing.F) {
	f.Add(smapsSample)
	f.Add("00400000-00553000 r-xp 00000000 fe:00 1\n")
	f.Fuzz(func(t *testing.T, text string) {
		// Whatever it parses, a sheddable mapping is a private read-only
		// file mapping with no page of its own.
		err := parseSmaps(strings.NewReader(text), func(m mapping) {
			if m.sheddable() && (m.inode == 0 || m.anonymous != 0 || m.perms[1] != '-' || m.perms[3] != 'p' || m.end <= m.start) {
				t.Fatalf("%+v is sheddable", m)
			}
		})
		if err != nil {
			return // not smaps: nothing to shed
		}
	})
}
