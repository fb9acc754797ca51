// Unit tests (privilege tier: none) of the per-image cache of /etc/passwd
// and /etc/group.

package container

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestSealUserFiles(t *testing.T) {
	cases := []struct {
		name          string
		passwd, group []byte
	}{
		{"both", []byte("root:x:0:0::/root:/bin/sh\n"), []byte("root:x:0:\n")},
		{"no group", []byte("root:x:0:0::/root:/bin/sh\n"), nil},
		{"neither", nil, nil},
		{"empty files", []byte{}, []byte{}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			p, g, ok := unsealUserFiles(sealUserFiles(c.passwd, c.group))
			if !ok {
				t.Fatal("a sealed file does not unseal")
			}
			if !bytes.Equal(p, c.passwd) || (p == nil) != (c.passwd == nil) {
				t.Errorf("passwd %q, want %q", p, c.passwd)
			}
			if !bytes.Equal(g, c.group) || (g == nil) != (c.group == nil) {
				t.Errorf("group %q, want %q", g, c.group)
			}
		})
	}
	whole := sealUserFiles([]byte("a:x:1:1::/:/bin/sh\n"), []byte("g:x:1:\n"))
	for i := range whole {
		if _, _, ok := unsealUserFiles(whole[:i]); ok {
			t.Fatalf("cut at %d of %d: unsealed", i, len(whole))
		}
		broken := append([]byte{}, whole...)
		broken[i] ^= 0x40
		if _, _, ok := unsealUserFiles(broken); ok {
			t.Fatalf("byte %d changed: unsealed", i)
		}
	}
}

func FuzzUnsealUserFiles(f *testing.F) {
	f.Add(sealUserFiles([]byte("root:x:0:0::/root:/bin/sh\n"), nil))
	f.Add([]byte{})
	f.Fuzz(func(t *testing.T, data []byte) {
		p, g, ok := unsealUserFiles(data)
		if !ok {
			return
		}
		if !bytes.Equal(sealUserFiles(p, g), data) {
			t.Fatalf("%q unseals to files that seal to something else", data)
		}
	})
}

// A new container of an image reads its image's files once: later ones
// find them in the cache, and a cache file that is not whole is read again.
func TestImageUserFilesCached(t *testing.T) {
	base := t.TempDir()
	root := filepath.Join(base, "root")
	if err := os.MkdirAll(filepath.Join(root, "etc"), 0o755); err != nil {
		t.Fatal(err)
	}
	write := func(name, data string) {
		t.Helper()
		if err := os.WriteFile(filepath.Join(root, "etc", name), []byte(data), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	write("passwd", "first:x:1:1::/:/bin/sh\n")
	r := &Runtime{runRoot: filepath.Join(base, "run")}
	id := strings.Repeat("ab", 32)
	get := func() (string, string) {
		t.Helper()
		p, g, err := r.imageUserFilesCached(id, root)
		if err != nil {
			t.Fatal(err)
		}
		if g != nil {
			t.Fatalf("group %q, want none (missing)", g)
		}
		return string(p), string(g)
	}
	if p, _ := get(); p != "first:x:1:1::/:/bin/sh\n" {
		t.Fatalf("first read: passwd %q", p)
	}
	// The image's files do not change: a change here shows which was read.
	write("passwd", "second:x:2:2::/:/bin/sh\n")
	if p, _ := get(); p != "first:x:1:1::/:/bin/sh\n" {
		t.Fatalf("second read: passwd %q, want the cached one", p)
	}
	path := filepath.Join(r.imageUsersCache(), id)
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, data[:len(data)-1], 0o600); err != nil {
		t.Fatal(err)
	}
	if p, _ := get(); p != "second:x:2:2::/:/bin/sh\n" {
		t.Fatalf("after a torn cache file: passwd %q, want the root filesystem's", p)
	}
	// An id that is not an image id is never a file name: read every time.
	write("passwd", "third:x:3:3::/:/bin/sh\n")
	p, _, err := r.imageUserFilesCached("../x", root)
	if err != nil || string(p) != "third:x:3:3::/:/bin/sh\n" {
		t.Fatalf("id ../x: passwd %q, %v", p, err)
	}
	if _, err := os.Stat(filepath.Join(r.runRoot, "x")); err == nil {
		t.Fatal("id ../x wrote outside the cache")
	}
}
