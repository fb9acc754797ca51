package seccomp

import (
	"crypto/sha256"
	"encoding/binary"
	"errors"
	"io/fs"
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
	if first.Digest != want.Digest || string(first.Filter) != string(want.Filter) || first.Name != Default {
		t.Errorf("first compile: %s %d bytes, want %s %d bytes", first.Digest, len(first.Filter), want.Digest, len(want.Filter))
	}
	entries, err := os.ReadDir(dir)
	if err != nil || len(entries) != 1 {
		t.Fatalf("cache holds %v, %v; want one program", entries, err)
	}
	path := filepath.Join(dir, entries[0].Name())
	key, ok := inputKey(Default, nil, defaultCaps, kernelRelease())
	if !ok || entries[0].Name() != cacheName(key) {
		t.Errorf("cached as %s, want %s (%t)", entries[0].Name(), cacheName(key), ok)
	}
	if info, err := os.Stat(dir); err != nil || info.Mode().Perm() != 0o700 {
		t.Errorf("cache directory: %v, %v", info.Mode(), err)
	}
	// A marker in the cached file shows that the second call reads it,
	// digest included.
	marked := append([]byte(nil), first.Filter...)
	marked[len(marked)-instructionSize+4] ^= 1
	otherDigest := "sha256:" + strings.Repeat("ab", sha256.Size)
	if err := os.WriteFile(path, seal(otherDigest, marked), 0o600); err != nil {
		t.Fatal(err)
	}
	second, err := CompileCached(o, dir)
	if err != nil {
		t.Fatal(err)
	}
	if string(second.Filter) != string(marked) || second.Digest != otherDigest || second.Name != want.Name {
		t.Error("second compile did not read the cache")
	}

	// A cached file that is not a program is compiled again.
	sealed := seal(want.Digest, first.Filter)
	flipped := append([]byte(nil), sealed...)
	flipped[digestSize+10] ^= 1
	for name, bad := range map[string][]byte{
		"empty":         {},
		"short":         sealed[:sha256.Size-1],
		"torn":          sealed[:len(sealed)-3],
		"truncated":     sealed[:len(sealed)-instructionSize],
		"flipped":       flipped,
		"not sealed":    append([]byte(want.Digest), first.Filter...),
		"not a filter":  seal(want.Digest, []byte("12345678")),
		"no digest":     seal("", first.Filter),
		"not a digest":  seal("sha256:"+strings.Repeat("AB", sha256.Size), first.Filter),
		"other scheme":  seal("sha512:"+strings.Repeat("ab", sha256.Size), first.Filter),
		"format 2 file": append(append([]byte(nil), first.Filter...), sha256Of(first.Filter)...),
	} {
		if err := os.WriteFile(path, bad, 0o600); err != nil {
			t.Fatal(err)
		}
		got, err := CompileCached(o, dir)
		if err != nil {
			t.Fatal(err)
		}
		if string(got.Filter) != string(want.Filter) || got.Digest != want.Digest {
			t.Errorf("%s: cached file used", name)
		}
		if data, err := os.ReadFile(path); err != nil || string(data) != string(seal(want.Digest, want.Filter)) {
			t.Errorf("%s: cache not rewritten (%v)", name, err)
		}
	}

	if p, err := CompileCached(Options{Profile: Unconfined}, dir); p != nil || err != nil {
		t.Errorf("unconfined: %v, %v", p, err)
	}
}

func sha256Of(b []byte) []byte {
	sum := sha256.Sum256(b)
	return sum[:]
}

// TestCompileCachedKeys: every input of a program finds its own; a
// profile file is found by its contents, not its path.
func TestCompileCachedKeys(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "cache")
	profile := filepath.Join(t.TempDir(), "profile.json")
	custom, err := os.ReadFile("testdata/custom.json")
	if err != nil {
		t.Fatal(err)
	}
	allowAll := []byte(`{"defaultAction": "SCMP_ACT_ALLOW", "syscalls": [{"names": ["mkdir"], "action": "SCMP_ACT_ERRNO"}]}`)
	for i, step := range []struct {
		o       Options
		profile []byte
	}{
		{o: Options{Capabilities: defaultCaps}},
		{o: Options{Capabilities: append([]string{"CAP_SYS_ADMIN"}, defaultCaps...)}},
		{o: Options{}},
		{o: Options{Profile: profile, Capabilities: defaultCaps}, profile: custom},
		// The same path, other contents: not the program compiled before.
		{o: Options{Profile: profile, Capabilities: defaultCaps}, profile: allowAll},
		{o: Options{Profile: profile, Capabilities: defaultCaps}, profile: custom},
		{o: Options{Capabilities: defaultCaps}},
	} {
		if step.profile != nil {
			if err := os.WriteFile(profile, step.profile, 0o600); err != nil {
				t.Fatal(err)
			}
		}
		want, err := Compile(step.o)
		if err != nil {
			t.Fatal(err)
		}
		for round := range 2 { // compiled, then read back
			got, err := CompileCached(step.o, dir)
			if err != nil {
				t.Fatal(err)
			}
			if got.Digest != want.Digest || string(got.Filter) != string(want.Filter) || got.Name != want.Name {
				t.Errorf("step %d, round %d: %s %s, want %s %s", i, round, got.Name, got.Digest, want.Name, want.Digest)
			}
		}
	}
	entries, err := os.ReadDir(dir)
	if err != nil || len(entries) != 5 {
		t.Errorf("cache holds %d files (%v), want 5: three default, two files", len(entries), err)
	}

	base, _ := inputKey(Default, nil, defaultCaps, "6.1.0")
	for name, other := range map[string]func() (string, bool){
		"kernel":     func() (string, bool) { return inputKey(Default, nil, defaultCaps, "6.1.1") },
		"caps":       func() (string, bool) { return inputKey(Default, nil, defaultCaps[1:], "6.1.0") },
		"caps order": func() (string, bool) { return inputKey(Default, nil, append(defaultCaps[1:], defaultCaps[0]), "6.1.0") },
		"file":       func() (string, bool) { return inputKey(profile, custom, defaultCaps, "6.1.0") },
	} {
		if key, ok := other(); !ok || key == base {
			t.Errorf("%s: key %s (%t), same as the default's", name, key, ok)
		}
	}
	if again, ok := inputKey(Default, nil, defaultCaps, "6.1.0"); !ok || again != base {
		t.Errorf("same inputs, key %s then %s", base, again)
	}
	if _, ok := inputKey(Default, nil, defaultCaps, ""); ok {
		t.Error("a key without the kernel's release")
	}
}

// TestCompileCachedPrunes: a compile removes the programs of another
// libseccomp or program format, and nothing else.
func TestCompileCachedPrunes(t *testing.T) {
	dir := t.TempDir()
	stale := []string{"0123-libseccomp2.5.4-2.bpf", "4567-libseccomp9.9.9-3.bpf"}
	kept := []string{"notes.txt", "89ab" + cacheSuffix()}
	for _, n := range append(append([]string{}, stale...), kept...) {
		if err := os.WriteFile(filepath.Join(dir, n), []byte("x"), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := CompileCached(Options{Capabilities: defaultCaps}, dir); err != nil {
		t.Fatal(err)
	}
	for _, n := range stale {
		if _, err := os.Stat(filepath.Join(dir, n)); !errors.Is(err, fs.ErrNotExist) {
			t.Errorf("%s left: %v", n, err)
		}
	}
	for _, n := range kept {
		if _, err := os.Stat(filepath.Join(dir, n)); err != nil {
			t.Errorf("%s removed: %v", n, err)
		}
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
