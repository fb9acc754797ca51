// Unit tests (privilege tier: none) of --ulimit: the parser, the check
// against the caller's own hard limits, and inspect's view.

package container

import (
	"errors"
	"reflect"
	"strconv"
	"strings"
	"testing"

	"sandbox/spec"
)

const inf = spec.RlimInfinity

func TestParseUlimit(t *testing.T) {
	tests := []struct {
		in      string
		want    spec.Rlimit
		wantErr string
	}{
		{in: "nofile=1024", want: spec.Rlimit{Type: "RLIMIT_NOFILE", Soft: 1024, Hard: 1024}},
		{in: "nofile=1024:2048", want: spec.Rlimit{Type: "RLIMIT_NOFILE", Soft: 1024, Hard: 2048}},
		{in: "nproc=0:0", want: spec.Rlimit{Type: "RLIMIT_NPROC"}},
		{in: "core=-1", want: spec.Rlimit{Type: "RLIMIT_CORE", Soft: inf, Hard: inf}},
		{in: "core=0:-1", want: spec.Rlimit{Type: "RLIMIT_CORE", Soft: 0, Hard: inf}},
		{in: "as=-1:-1", want: spec.Rlimit{Type: "RLIMIT_AS", Soft: inf, Hard: inf}},
		{in: "rttime=9223372036854775807", want: spec.Rlimit{Type: "RLIMIT_RTTIME", Soft: 1<<63 - 1, Hard: 1<<63 - 1}},
		{in: "sigpending=5:6", want: spec.Rlimit{Type: "RLIMIT_SIGPENDING", Soft: 5, Hard: 6}},
		{in: "nofile", wantErr: `invalid --ulimit "nofile": no '='; want TYPE=SOFT[:HARD]`},
		{in: "", wantErr: `invalid --ulimit "": no '='`},
		{in: "files=10", wantErr: `invalid --ulimit "files=10": unknown type "files" (known: as, core,`},
		{in: "NOFILE=10", wantErr: `unknown type "NOFILE"`},
		{in: "RLIMIT_NOFILE=10", wantErr: `unknown type "RLIMIT_NOFILE"`},
		{in: "nofile=2048:1024", wantErr: `invalid --ulimit "nofile=2048:1024": the soft limit 2048 is above the hard limit 1024`},
		{in: "nofile=-1:1024", wantErr: `the soft limit -1 is above the hard limit 1024`},
		{in: "nofile=abc", wantErr: `invalid --ulimit "nofile=abc": soft limit "abc": not a whole number`},
		{in: "nofile=1:abc", wantErr: `hard limit "abc": not a whole number`},
		{in: "nofile=", wantErr: `soft limit "": not a whole number`},
		{in: "nofile=1:", wantErr: `hard limit "": not a whole number`},
		{in: "nofile=-2", wantErr: `soft limit "-2": not a whole number`},
		{in: "nofile=+5", wantErr: `soft limit "+5"`},
		{in: "nofile=1.5", wantErr: `soft limit "1.5"`},
		{in: "nofile=1:2:3", wantErr: `hard limit "2:3"`},
		{in: "nofile=9223372036854775808", wantErr: `soft limit "9223372036854775808": not a whole number from 0 to 9223372036854775807, or -1`},
		{in: "nofile= 5", wantErr: `soft limit " 5"`},
	}
	for _, tt := range tests {
		got, err := ParseUlimit(tt.in)
		if checkErr(t, "ParseUlimit("+strconv.Quote(tt.in)+")", err, tt.wantErr) && got != tt.want {
			t.Errorf("ParseUlimit(%q) = %+v, want %+v", tt.in, got, tt.want)
		}
	}
}

func FuzzParseUlimit(f *testing.F) {
	for _, s := range []string{"nofile=1024", "nofile=1024:2048", "core=-1", "nproc=5:-1", "x=1", "nofile=2:1", "stack"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, v string) {
		r, err := ParseUlimit(v)
		if err != nil {
			if !strings.Contains(err.Error(), strconv.Quote(v)) || strings.Contains(err.Error(), "\n") && !strings.Contains(v, "\n") {
				t.Fatalf("ParseUlimit(%q) error %q: want one line naming the value", v, err)
			}
			return
		}
		if r.Soft > r.Hard || !strings.HasPrefix(r.Type, "RLIMIT_") {
			t.Fatalf("ParseUlimit(%q) = %+v: want an RLIMIT_ type and soft <= hard", v, r)
		}
		// The canonical spelling parses to the same limit.
		again, err := ParseUlimit(r.String())
		if err != nil || again != r {
			t.Fatalf("ParseUlimit(%q) = %+v, %v; want %+v", r.String(), again, err, r)
		}
	})
}

func TestParseUlimitsLastWins(t *testing.T) {
	got, err := parseUlimits([]string{"nofile=10", "nproc=5:6", "nofile=20:30"})
	if err != nil {
		t.Fatal(err)
	}
	want := []spec.Rlimit{{Type: "RLIMIT_NOFILE", Soft: 20, Hard: 30}, {Type: "RLIMIT_NPROC", Soft: 5, Hard: 6}}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("parseUlimits = %+v, want %+v", got, want)
	}
	if _, err := parseUlimits([]string{"nofile=10", "bad"}); err == nil {
		t.Error("parseUlimits with a bad value: no error")
	}
}

func TestCheckHardLimits(t *testing.T) {
	own := func(typ string) (uint64, error) {
		switch typ {
		case "RLIMIT_NOFILE":
			return 2048, nil
		case "RLIMIT_CORE":
			return inf, nil
		}
		return 0, errors.New("no such limit")
	}
	tests := []struct {
		in      []spec.Rlimit
		wantErr string
	}{
		{in: nil},
		{in: []spec.Rlimit{{Type: "RLIMIT_NOFILE", Soft: 1024, Hard: 2048}}},
		{in: []spec.Rlimit{{Type: "RLIMIT_CORE", Soft: inf, Hard: inf}}},
		{in: []spec.Rlimit{{Type: "RLIMIT_NOFILE", Soft: 1024, Hard: 4096}},
			wantErr: "--ulimit nofile=1024:4096: the hard limit cannot be raised above 2048, your own hard limit (only root can raise it): ask for at most nofile=1024:2048"},
		{in: []spec.Rlimit{{Type: "RLIMIT_NOFILE", Soft: inf, Hard: inf}},
			wantErr: "--ulimit nofile=-1:-1: the hard limit cannot be raised above 2048, your own hard limit (only root can raise it): ask for at most nofile=2048:2048"},
		{in: []spec.Rlimit{{Type: "RLIMIT_NPROC", Soft: 1, Hard: 1}}, wantErr: "--ulimit nproc=1:1: no such limit"},
	}
	for _, tt := range tests {
		err := checkHardLimits(tt.in, own)
		checkErr(t, "checkHardLimits", err, tt.wantErr)
	}
}

func TestOwnHardLimit(t *testing.T) {
	for _, name := range ulimitTypes {
		if _, err := ownHardLimit("RLIMIT_" + strings.ToUpper(name)); err != nil {
			t.Errorf("ownHardLimit of %s: %v", name, err)
		}
	}
}

func TestInspectUlimits(t *testing.T) {
	got := inspectUlimits([]spec.Rlimit{{Type: "RLIMIT_NOFILE", Soft: 1024, Hard: 2048}, {Type: "RLIMIT_CORE", Soft: 0, Hard: inf}})
	want := []Ulimit{{Name: "nofile", Hard: 2048, Soft: 1024}, {Name: "core", Hard: -1, Soft: 0}}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("inspectUlimits = %+v, want %+v", got, want)
	}
	if got := inspectUlimits(nil); got == nil || len(got) != 0 {
		t.Errorf("inspectUlimits(nil) = %#v, want an empty list", got)
	}
}
