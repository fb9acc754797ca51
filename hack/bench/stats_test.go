package main

import (
	"testing"
	"time"
)

func TestSummarize(t *testing.T) {
	ms := func(v ...int) []time.Duration {
		out := make([]time.Duration, len(v))
		for i, x := range v {
			out[i] = time.Duration(x) * time.Millisecond
		}
		return out
	}
	tests := []struct {
		name        string
		samples     []time.Duration
		median, p90 time.Duration
	}{
		{"one", ms(5), 5 * time.Millisecond, 5 * time.Millisecond},
		{"odd, unsorted", ms(3, 1, 2), 2 * time.Millisecond, 3 * time.Millisecond},
		{"even", ms(4, 1, 3, 2), 2500 * time.Microsecond, 4 * time.Millisecond},
		{"ten", ms(10, 9, 8, 7, 6, 5, 4, 3, 2, 1), 5500 * time.Microsecond, 9 * time.Millisecond},
		{"eleven", ms(1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11), 6 * time.Millisecond, 10 * time.Millisecond},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			st := summarize(tt.samples)
			if st.median != tt.median || st.p90 != tt.p90 {
				t.Errorf("summarize = median %v p90 %v, want %v %v", st.median, st.p90, tt.median, tt.p90)
			}
		})
	}
}

func TestVerdict(t *testing.T) {
	b := budget{ref: "podman", max: 1.0 / 8}
	if ok, _ := verdict(0.1, b, 25*time.Millisecond, 250*time.Millisecond); !ok {
		t.Error("0.1 against 1/8: want within budget")
	}
	ok, text := verdict(0.25, b, 50*time.Millisecond, 200*time.Millisecond)
	if ok || text != "over budget by 100% (50.0 ms, allowed 25.0 ms)" {
		t.Errorf("0.25 against 1/8 = %v %q", ok, text)
	}
}

func TestHasImage(t *testing.T) {
	names := []string{"busybox:latest", "localhost/alpine:3", "docker.io/library/debian:12"}
	for image, want := range map[string]bool{
		"busybox": true, "busybox:latest": true, "busybox:1": false,
		"alpine:3": true, "alpine": false, "debian:12": true, "nosuch": false,
	} {
		if got := hasImage(names, image); got != want {
			t.Errorf("hasImage(%q) = %v, want %v", image, got, want)
		}
	}
}
