// Unit tests (privilege tier: none) of reading smaps for the pages the
// monitor sheds after its start.

package monitor

import (
	"bytes"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"unsafe"

	"golang.org/x/sys/unix"
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

// TestShedStartupSelf sheds this test process's mappings: the pages of a
// private read-only file mapping go (they come back from the page cache
// when touched), those of a private file mapping with a page of its own
// stay, and the process goes on running on its binary's pages mapped
// again. The file mappings are the test's own, which no code runs from:
// the binary's own pages are mapped again as soon as the test runs on, in
// pieces of the kernel's choosing (on this machine's 6.18 kernel, 1.4 MB
// of the test binary's 2.8 MB came back by the time smaps was read), so
// their count after shedding says little.
func TestShedStartupSelf(t *testing.T) {
	const size = 1 << 20
	path := filepath.Join(t.TempDir(), "file")
	if err := os.WriteFile(path, bytes.Repeat([]byte{7}, size), 0o600); err != nil {
		t.Fatal(err)
	}
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	ro, err := unix.Mmap(int(f.Fd()), 0, size, unix.PROT_READ, unix.MAP_PRIVATE)
	if err != nil {
		t.Fatal(err)
	}
	defer unix.Munmap(ro)
	rw, err := unix.Mmap(int(f.Fd()), 0, size, unix.PROT_READ|unix.PROT_WRITE, unix.MAP_PRIVATE)
	if err != nil {
		t.Fatal(err)
	}
	defer unix.Munmap(rw)
	var sum byte
	for i := 0; i < size; i += os.Getpagesize() {
		sum += ro[i] + rw[i]
	}
	rw[0] = 9 // a page of its own: the mapping must not be shed
	if rss, _ := mappingRss(t, ro); rss == 0 {
		t.Fatalf("read-only mapping holds no page after touching all (sum %d)", sum)
	}
	before := rssFile(t)
	if err := shedStartup(); err != nil {
		t.Fatal(err)
	}
	after := rssFile(t)
	if rss, _ := mappingRss(t, ro); rss != 0 {
		t.Errorf("read-only file mapping holds %d kB after shedding, want 0", rss)
	}
	if rss, anon := mappingRss(t, rw); anon == 0 || rss < size/1024 {
		t.Errorf("file mapping with a page of its own holds %d kB (%d kB its own) after shedding, want all %d kB", rss, anon, size/1024)
	}
	if rw[0] != 9 {
		t.Errorf("the mapping's own page was lost: %d, want 9", rw[0])
	}
	t.Logf("file pages mapped: %d kB before shedding, %d kB after", before, after)
}

// mappingRss is the Rss and Anonymous (kB) of the mapping that starts at
// m's first byte, from /proc/self/smaps.
func mappingRss(t *testing.T, m []byte) (rss, anon uint64) {
	t.Helper()
	data, err := os.ReadFile("/proc/self/smaps")
	if err != nil {
		t.Fatal(err)
	}
	head := fmt.Sprintf("%x-", uintptr(unsafe.Pointer(&m[0])))
	in := false
	for _, line := range strings.Split(string(data), "\n") {
		// A mapping's header: "START-END PERMS OFFSET DEV INODE [PATH]";
		// its fields' lines end with a colon in their first word.
		if f := strings.Fields(line); len(f) >= 5 && !strings.HasSuffix(f[0], ":") {
			in = strings.HasPrefix(line, head)
			continue
		}
		if !in {
			continue
		}
		for field, v := range map[string]*uint64{"Rss:": &rss, "Anonymous:": &anon} {
			if rest, ok := strings.CutPrefix(line, field); ok {
				kb, err := parseKB([]byte(rest))
				if err != nil {
					t.Fatal(err)
				}
				*v = kb
			}
		}
	}
	return rss, anon
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
