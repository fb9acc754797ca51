// Unit tests (privilege tier: none) of ps --sort.

package container

import (
	"strings"
	"testing"
	"time"
)

func TestSortSummaries(t *testing.T) {
	t0 := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	// Newest first, as ListWith leaves them.
	base := []Summary{
		{ID: "c3", Name: "b", Image: "img", Command: "true", Status: "Created", Created: t0.Add(2 * time.Second), SizeRw: 0},
		{ID: "a1", Name: "c", Image: "busybox", Command: "sleep 1", Status: "Up 1 second", Created: t0.Add(time.Second), SizeRw: 12},
		{ID: "b2", Name: "a", Image: "img", Command: "sh -c x", Status: "Exited (3) 1 second ago", Created: t0, SizeRw: 3},
	}
	tests := []struct{ key, want string }{
		{"", "b c a"},
		{"names", "a b c"},
		{"id", "c a b"},
		{"created", "a c b"},
		{"runningfor", "b c a"},
		{"image", "c b a"}, // ties keep their order
		{"command", "a c b"},
		{"status", "b a c"},
		{"size", "b a c"},
	}
	for _, tt := range tests {
		list := append([]Summary(nil), base...)
		if err := SortSummaries(list, tt.key); err != nil {
			t.Fatal(err)
		}
		var got []string
		for _, s := range list {
			got = append(got, s.Name)
		}
		if g := strings.Join(got, " "); g != tt.want {
			t.Errorf("sort %q: %q, want %q", tt.key, g, tt.want)
		}
	}
	if err := SortSummaries(base, "bogus"); err == nil || !strings.Contains(err.Error(), `"bogus"`) {
		t.Errorf("sort bogus: %v", err)
	}
}

func FuzzSortSummaries(f *testing.F) {
	for _, k := range append(SortKeys, "", "x") {
		f.Add(k, "b", "a")
	}
	f.Fuzz(func(t *testing.T, key, n1, n2 string) {
		list := []Summary{{Name: n1, ID: n2, Command: n2}, {Name: n2, ID: n1, Command: n1}}
		err := SortSummaries(list, key)
		if (err == nil) != (key == "" || summaryLess[key] != nil) {
			t.Fatalf("SortSummaries(%q): %v", key, err)
		}
		if len(list) != 2 {
			t.Fatalf("SortSummaries(%q) changed the length", key)
		}
	})
}
