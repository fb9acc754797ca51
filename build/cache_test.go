package build

import (
	"testing"

	"github.com/opencontainers/go-digest"
)

func TestStepKey(t *testing.T) {
	base := fromKey("abc")
	k := stepKey(base, "RUN echo hi", []string{"A=1", "B=2"}, "")
	for _, c := range []struct {
		name string
		key  digest.Digest
		same bool
	}{
		{"same inputs", stepKey(base, "RUN echo hi", []string{"A=1", "B=2"}, ""), true},
		{"args in another order", stepKey(base, "RUN echo hi", []string{"B=2", "A=1"}, ""), true},
		{"another parent", stepKey(fromKey("abd"), "RUN echo hi", []string{"A=1", "B=2"}, ""), false},
		{"scratch parent", stepKey(fromKey(""), "RUN echo hi", []string{"A=1", "B=2"}, ""), false},
		{"another instruction", stepKey(base, "RUN echo ho", []string{"A=1", "B=2"}, ""), false},
		{"another arg value", stepKey(base, "RUN echo hi", []string{"A=1", "B=3"}, ""), false},
		{"one arg less", stepKey(base, "RUN echo hi", []string{"A=1"}, ""), false},
		{"sources", stepKey(base, "RUN echo hi", []string{"A=1", "B=2"}, digest.FromString("x")), false},
		// Length prefixes: moving text between parts changes the key.
		{"text moved into an arg", stepKey(base, "RUN echo", []string{"hiA=1", "B=2"}, ""), false},
		{"two args as one", stepKey(base, "RUN echo hi", []string{"A=1B=2"}, ""), false},
	} {
		if (c.key == k) != c.same {
			t.Errorf("%s: key %s, base key %s, want same=%v", c.name, c.key, k, c.same)
		}
	}
	if fromKey("") != fromKey("scratch") {
		t.Error("scratch has one key")
	}
	if finalKey(k, nil) == k || finalKey(k, []string{"a=b"}) == finalKey(k, nil) {
		t.Error("the final key differs from the step's and depends on the labels")
	}
}

// FuzzStepKey: the key is a valid digest, does not depend on the order
// of the arguments, and changes when the instruction does.
func FuzzStepKey(f *testing.F) {
	f.Add("RUN echo hi", "A=1", "B=2", "x")
	f.Add("", "", "", "")
	f.Fuzz(func(t *testing.T, instr, a, b, src string) {
		parent := fromKey(src)
		sources := digest.FromString(src)
		k := stepKey(parent, instr, []string{a, b}, sources)
		if err := k.Validate(); err != nil {
			t.Fatalf("invalid key %q: %v", k, err)
		}
		if k != stepKey(parent, instr, []string{b, a}, sources) {
			t.Fatal("the order of the arguments changed the key")
		}
		if k == stepKey(parent, instr+"x", []string{a, b}, sources) {
			t.Fatal("another instruction kept the key")
		}
		if k == stepKey(parent, instr, []string{a + b}, sources) {
			t.Fatal("two arguments and their concatenation share a key")
		}
	})
}
