// Unit tests (privilege tier: none) of the ages that ps shows.

package container

import (
	"strings"
	"testing"
	"time"
)

func TestHumanDuration(t *testing.T) {
	day := 24 * time.Hour
	tests := []struct {
		d    time.Duration
		want string
	}{
		{-time.Hour, "Less than a second"},
		{0, "Less than a second"},
		{999 * time.Millisecond, "Less than a second"},
		{time.Second, "1 second"},
		{1999 * time.Millisecond, "1 second"},
		{2 * time.Second, "2 seconds"},
		{59 * time.Second, "59 seconds"},
		{60 * time.Second, "About a minute"},
		{119 * time.Second, "About a minute"},
		{2 * time.Minute, "2 minutes"},
		{59*time.Minute + 59*time.Second, "59 minutes"},
		{time.Hour, "About an hour"},
		{89 * time.Minute, "About an hour"},
		{90 * time.Minute, "2 hours"},
		{47 * time.Hour, "47 hours"},
		{47*time.Hour + 29*time.Minute, "47 hours"},
		{47*time.Hour + 30*time.Minute, "2 days"},
		{48 * time.Hour, "2 days"},
		{13 * day, "13 days"},
		{14 * day, "2 weeks"},
		{59 * day, "8 weeks"},
		{60 * day, "2 months"},
		{729 * day, "24 months"},
		{730 * day, "2 years"},
		{3650 * day, "10 years"},
	}
	for _, tt := range tests {
		if got := HumanDuration(tt.d); got != tt.want {
			t.Errorf("HumanDuration(%v) = %q, want %q", tt.d, got, tt.want)
		}
	}
}

// humanRank orders HumanDuration's unit words, to check that ages only grow.
func humanRank(s string) int {
	for i, unit := range []string{"Less than", "second", "minute", "hour", "day", "week", "month", "year"} {
		if strings.Contains(s, unit) {
			return i
		}
	}
	return -1
}

func FuzzHumanDuration(f *testing.F) {
	f.Add(int64(0), int64(time.Second))
	f.Add(int64(90*time.Minute), int64(time.Minute))
	f.Add(int64(47*time.Hour+30*time.Minute), int64(time.Hour))
	f.Fuzz(func(t *testing.T, a, delta int64) {
		if delta < 0 {
			delta = -delta
		}
		b := a + delta
		if b < a { // overflow
			return
		}
		sa, sb := HumanDuration(time.Duration(a)), HumanDuration(time.Duration(b))
		ra, rb := humanRank(sa), humanRank(sb)
		if ra < 0 || rb < 0 {
			t.Fatalf("HumanDuration(%v) = %q, HumanDuration(%v) = %q: unknown unit", time.Duration(a), sa, time.Duration(b), sb)
		}
		// A longer duration never shows in a smaller unit.
		if rb < ra {
			t.Fatalf("HumanDuration(%v) = %q but HumanDuration(%v) = %q", time.Duration(a), sa, time.Duration(b), sb)
		}
		if strings.HasPrefix(sa, "-") || strings.Contains(sa, " -") {
			t.Fatalf("HumanDuration(%v) = %q is negative", time.Duration(a), sa)
		}
	})
}
