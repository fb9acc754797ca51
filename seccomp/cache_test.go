package seccomp

import (
	"crypto/sha256"
	"encoding/binary"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestCompileCached(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "cache")
	o := Options{Capabilities: defaultCaps}
	want, err := Compile(o)
	if err != nil {
		t.Fatal(err)
	}
	first, err := CompileCached(o, dir)
	if err != nil {
		t.Fatal(err)
	}
	entries, err := os.ReadDir(dir)
	if err != nil || len(entries) != 1 {
		t.Fatalf("cache holds %v, %v; want one program", entries, err)
	}
	path := filepath.Join(dir, entries[0].Name())
	if !strings.HasPrefix(entries[0].Name(), strings.TrimPrefix(want.Digest, "sha256:")) {
		t.Errorf("cached as %s, digest %s", entries[0].Name(), want.Digest)
	}
	if info, err := os.Stat(dir); err != nil || info.Mode().Perm() != 0o700 {
		t.Errorf("cache directory: %v, %v", info.Mode(), err)
	}
	// A marker in the cached file shows that the second call reads it.
	marked := append([]byte(nil), first.Filter...)
	marked[len(marked)-instructionSize+4] ^= 1
	if err := os.WriteFile(path, seal(marked), 0o600); err != nil {
		t.Fatal(err)
	}
	second, err := CompileCached(o, dir)
	if err != nil {
		t.Fatal(err)
	}
	if string(second.Filter) != string(marked) || second.Digest != want.Digest || second.Name != want.Name {
		t.Error("second compile did not read the cache")
	}

	// A cached file that is not a program is compiled again.
	sealed := seal(first.Filter)
	flipped := append([]byte(nil), sealed...)
	flipped[10] ^= 1
	for name, bad := range map[string][]byte{
		"empty":        {},
		"short":        sealed[:sha256.Size-1],
		"torn":         sealed[:len(sealed)-3],
		"truncated":    sealed[:len(sealed)-instructionSize],
		"flipped":      flipped,
		"not sealed":   first.Filter,
		"not a filter": seal([]byte("12345678")),
	} {
		if err := os.WriteFile(path, bad, 0o600); err != nil {
			t.Fatal(err)
		}
		got, err := CompileCached(o, dir)
		if err != nil {
			t.Fatal(err)
		}
		if string(got.Filter) != string(want.Filter) {
			t.Errorf("%s: cached file used", name)
		}
		if data, err := os.ReadFile(path); err != nil || string(data) != string(seal(want.Filter)) {
			t.Errorf("%s: cache not rewritten (%v)", name, err)
		}
	}

	if p, err := CompileCached(Options{Profile: Unconfined}, dir); p != nil || err != nil {
		t.Errorf("unconfined: %v, %v", p, err)
	}
}

func TestCheckProgram(t *testing.T) {
	ret := binary.NativeEndian.AppendUint16(nil, opRet)
	ret = append(ret, 0, 0, 0, 0, 0, 0)
	load := binary.NativeEndian.AppendUint16(nil, opLoadAbs)
	load = append(load, 0, 0, 4, 0, 0, 0)
	tests := []struct {
		name   string
		filter []byte
		ok     bool
	}{
		{"ret", ret, true},
		{"load, ret", append(append([]byte{}, load...), ret...), true},
		{"empty", nil, false},
		{"partial", ret[:7], false},
		{"no return", load, false},
		{"too long", make([]byte, (maxInstructions+1)*instructionSize), false},
	}
	for _, tt := range tests {
		if err := checkProgram(tt.filter); (err == nil) != tt.ok {
			t.Errorf("%s: %v", tt.name, err)
		}
	}
}
