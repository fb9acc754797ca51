package events

// Unit tests: no privileges needed.

import (
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"sync"
	"testing"
	"time"
)

func TestParseFilter(t *testing.T) {
	for _, tc := range []struct {
		in   []string
		want Filter
		err  string
	}{
		{nil, Filter{}, ""},
		{[]string{"container=web", "container=abc"}, Filter{Containers: []string{"web", "abc"}}, ""},
		{[]string{"event=start", "status=die"}, Filter{Statuses: []Status{"start", "die"}}, ""},
		{[]string{"type=image"}, Filter{Types: []Type{Image}}, ""},
		{[]string{"label=a=b", "image=busybox"}, Filter{Labels: []string{"a=b"}, Images: []string{"busybox"}}, ""},
		{[]string{"type=volume"}, Filter{}, "type is container, image or network"},
		{[]string{"container"}, Filter{}, "KEY=VALUE"},
		{[]string{"container="}, Filter{}, "KEY=VALUE"},
		{[]string{"until=1h"}, Filter{}, "keys are"},
	} {
		got, err := ParseFilter(tc.in)
		if tc.err != "" {
			if err == nil || !strings.Contains(err.Error(), tc.err) {
				t.Errorf("ParseFilter(%q) = %v, want error with %q", tc.in, err, tc.err)
			}
			continue
		}
		if err != nil || !reflect.DeepEqual(got, tc.want) {
			t.Errorf("ParseFilter(%q) = %+v, %v; want %+v", tc.in, got, err, tc.want)
		}
	}
}

func TestMatch(t *testing.T) {
	ctr := Event{ID: "abcdef0123", Name: "web", Image: "localhost/busybox:latest", Status: Start, Type: Container,
		Attributes: map[string]string{"tier": "front"}}
	img := Event{ID: "fedcba", Name: "docker.io/library/alpine:3", Status: Tag, Type: Image}
	for _, tc := range []struct {
		filter []string
		e      Event
		want   bool
	}{
		{nil, ctr, true},
		{[]string{"container=web"}, ctr, true},
		{[]string{"container=abc"}, ctr, true},
		{[]string{"container=bcd"}, ctr, false},
		{[]string{"container=other", "container=web"}, ctr, true},
		{[]string{"container=web"}, img, false},
		{[]string{"image=busybox"}, ctr, true},
		{[]string{"image=localhost/busybox:latest"}, ctr, true},
		{[]string{"image=alpine:3"}, img, true},
		{[]string{"image=fed"}, img, true},
		{[]string{"image=alpine"}, img, false},
		{[]string{"event=start"}, ctr, true},
		{[]string{"status=died"}, ctr, false},
		{[]string{"type=container", "event=start"}, ctr, true},
		{[]string{"type=image"}, ctr, false},
		{[]string{"label=tier"}, ctr, true},
		{[]string{"label=tier=front"}, ctr, true},
		{[]string{"label=tier=back"}, ctr, false},
		{[]string{"label=tier"}, img, false},
	} {
		f, err := ParseFilter(tc.filter)
		if err != nil {
			t.Fatal(err)
		}
		if got := f.Match(tc.e); got != tc.want {
			t.Errorf("%q matches %s %s: %v, want %v", tc.filter, tc.e.Type, tc.e.Name, got, tc.want)
		}
	}
}

func FuzzParseFilter(f *testing.F) {
	for _, s := range []string{"container=web", "label=a=b", "type=image", "event=", "=x", "image=sha256:ab"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		flt, err := ParseFilter(strings.Split(s, ","))
		if err != nil {
			return
		}
		// Whatever parses can be matched against any event without a panic.
		flt.Match(Event{Type: Container, ID: s, Name: s, Image: s, Attributes: map[string]string{s: s}})
		flt.Match(Event{Type: Image, ID: s, Name: s})
	})
}

func TestEventJSONShape(t *testing.T) {
	at := time.Date(2026, 1, 2, 3, 4, 5, 6, time.UTC)
	e := Event{ID: "c1", Image: "busybox", Name: "n", Status: Died, Time: at, Type: Container, ContainerExitCode: 3, Attributes: map[string]string{}}
	b, err := json.Marshal(e)
	if err != nil {
		t.Fatal(err)
	}
	want := `{"ContainerExitCode":3,"ID":"c1","Image":"busybox","Name":"n","Status":"died","Time":"2026-01-02T03:04:05.000000006Z","Type":"container","Attributes":{}}`
	if string(b) != want {
		t.Errorf("got  %s\nwant %s", b, want)
	}
	if got, want := e.String(), "2026-01-02 03:04:05.000000006 +0000 UTC container died c1 (image=busybox, name=n)"; got != want {
		t.Errorf("String() = %q, want %q", got, want)
	}
}

func collect(t *testing.T, j Journal, o ReadOptions) []Event {
	t.Helper()
	var got []Event
	if err := j.Read(context.Background(), o, func(e Event) error { got = append(got, e); return nil }); err != nil {
		t.Fatal(err)
	}
	return got
}

func TestJournalConcurrentWritesAndRotation(t *testing.T) {
	j := Journal{Path: filepath.Join(t.TempDir(), "ev", "events.log")}
	long := strings.Repeat("x", 4000)
	var wg sync.WaitGroup
	for w := 0; w < 4; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := 0; i < 200; i++ {
				if err := j.Write(Event{Type: Container, Status: Start, Name: long}); err != nil {
					t.Error(err)
					return
				}
			}
		}()
	}
	wg.Wait()
	if _, err := os.Stat(j.Path + ".1"); err != nil {
		t.Errorf("no rotated journal after %d bytes: %v", 800*4000, err)
	}
	for _, p := range []string{j.Path, j.Path + ".1"} {
		data, err := os.ReadFile(p)
		if err != nil {
			t.Fatal(err)
		}
		for i, l := range strings.Split(strings.TrimSuffix(string(data), "\n"), "\n") {
			var e Event
			if err := json.Unmarshal([]byte(l), &e); err != nil {
				t.Fatalf("%s line %d is not one event: %v", p, i+1, err)
			}
		}
	}
}

func TestJournalReadSinceUntilFollow(t *testing.T) {
	j := Journal{Path: filepath.Join(t.TempDir(), "events.log")}
	base := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	for i, s := range []Status{Create, Start, Died} {
		if err := j.Write(Event{Type: Container, Status: s, Name: "a", Time: base.Add(time.Duration(i) * time.Minute)}); err != nil {
			t.Fatal(err)
		}
	}
	got := collect(t, j, ReadOptions{Since: base.Add(30 * time.Second), Until: base.Add(90 * time.Second)})
	if len(got) != 1 || got[0].Status != Start {
		t.Errorf("since/until: %+v", got)
	}
	ctx, cancel := context.WithCancel(context.Background())
	seen := make(chan Event, 10)
	done := make(chan error, 1)
	go func() {
		done <- j.Read(ctx, ReadOptions{Follow: true, Poll: 5 * time.Millisecond,
			Filter: Filter{Statuses: []Status{Remove}}}, func(e Event) error { seen <- e; return nil })
	}()
	if err := j.Write(Event{Type: Container, Status: Remove, Name: "a"}); err != nil {
		t.Fatal(err)
	}
	select {
	case e := <-seen:
		if e.Status != Remove {
			t.Errorf("followed %+v", e)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("a new event was not followed")
	}
	cancel()
	if err := <-done; err != nil {
		t.Fatal(err)
	}
}

func TestNoJournal(t *testing.T) {
	if err := (Journal{}).Write(Event{Type: Image, Status: Tag}); err != nil {
		t.Fatal(err)
	}
	if got := collect(t, Journal{}, ReadOptions{}); len(got) != 0 {
		t.Fatal(got)
	}
}

// BenchmarkWrite is the cost of one event on the monitor's path.
func BenchmarkWrite(b *testing.B) {
	j := Journal{Path: filepath.Join(b.TempDir(), "events.log")}
	e := Event{Type: Container, Status: Died, ID: strings.Repeat("a", 64), Name: "name", Image: "busybox"}
	for i := 0; i < b.N; i++ {
		if err := j.Write(e); err != nil {
			b.Fatal(err)
		}
	}
}

func TestNetworkEventLine(t *testing.T) {
	at := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	e := Event{Type: Network, Status: Connect, ID: "c1", Name: "web", Network: "front", Time: at}
	if got, want := e.String(), "2026-01-02 03:04:05 +0000 UTC network connect c1 (container=c1, name=front)"; got != want {
		t.Errorf("connect line %q, want %q", got, want)
	}
	f, err := ParseFilter([]string{"type=network"})
	if err != nil || !f.Match(e) || f.Match(Event{Type: Container, Status: Start}) {
		t.Errorf("type=network: %v", err)
	}
}
