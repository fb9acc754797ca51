package build

import (
	"strings"
	"testing"
)

func TestIgnore(t *testing.T) {
	ig, err := ParseIgnore(strings.NewReader("# comment\nlogs\n*/*.key\n!src/keep.key\n**/*.tmp\n/abs\nnode_modules/\n"))
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		path string
		want bool
	}{
		{"logs", true},
		{"logs/x.log", true},
		{"src/secret.key", true},
		{"src/keep.key", false},
		{"src/sub/deep.key", false}, // */*.key is one level only
		{"a/b/c.tmp", true},
		{"c.tmp", true},
		{"abs", true},
		{"node_modules/x/y.js", true},
		{"src/a.txt", false},
		{"Dockerfile", false},
		{"", false},
		{"./logs", true},
		{"../logs", true}, // cleaned against the root
	} {
		got, err := ig.Excluded(c.path)
		if err != nil {
			t.Fatalf("%s: %v", c.path, err)
		}
		if got != c.want {
			t.Errorf("Excluded(%q) = %v, want %v", c.path, got, c.want)
		}
	}
	none, err := ParseIgnore(strings.NewReader("\n# only a comment\n"))
	if err != nil {
		t.Fatal(err)
	}
	if ex, _ := none.Excluded("anything"); ex {
		t.Error("an empty ignore file excludes")
	}
	if _, err := ParseIgnore(strings.NewReader("[\n")); err == nil {
		t.Error("a bad pattern is accepted")
	}
}

// FuzzIgnore: any ignore file either is refused or matches without
// panicking; a path excluded by a pattern is taken back by "!" + it.
func FuzzIgnore(f *testing.F) {
	f.Add("logs\n*/*.key\n!src/keep.key\n", "src/keep.key")
	f.Add("**/*.tmp", "a/b.tmp")
	f.Add("!", "")
	f.Fuzz(func(t *testing.T, patterns, path string) {
		ig, err := ParseIgnore(strings.NewReader(patterns))
		if err != nil {
			return
		}
		if _, err := ig.Excluded(path); err != nil {
			return
		}
		clean := strings.Trim(path, "/")
		if clean == "" || strings.ContainsAny(clean, "*?[]\\!#\n\r ") || strings.Contains(clean, "..") || strings.Contains(clean, "//") || strings.Contains(clean, "./") {
			return
		}
		// Each line's surrounding white space goes, as in docker: a
		// name that starts or ends with some cannot be written there.
		if strings.TrimSpace(clean) != clean {
			return
		}
		back, err := ParseIgnore(strings.NewReader(patterns + "\n" + clean + "\n!" + clean + "\n"))
		if err != nil {
			return
		}
		if ex, err := back.Excluded(clean); err == nil && ex {
			// Only a parent directory's exclusion can keep it out.
			parentEx := false
			for i := range clean {
				if clean[i] == '/' {
					if e, _ := back.Excluded(clean[:i]); e {
						parentEx = true
					}
				}
			}
			if !parentEx {
				t.Fatalf("%q stays excluded after !%s in %q", clean, clean, patterns)
			}
		}
	})
}
