package spec

import (
	"reflect"
	"strings"
	"testing"
)

func TestParseEnv(t *testing.T) {
	lookup := func(k string) (string, bool) {
		v, ok := map[string]string{"HOME": "/home/alice", "EMPTY": ""}[k]
		return v, ok
	}
	tests := []struct {
		in      string
		want    string
		wantOK  bool
		wantErr string
	}{
		{in: "A=1", want: "A=1", wantOK: true},
		{in: "A=", want: "A=", wantOK: true},
		{in: "A=b=c", want: "A=b=c", wantOK: true},
		{in: "A= spaced value ", want: "A= spaced value ", wantOK: true},
		{in: `A="quoted"`, want: `A="quoted"`, wantOK: true},
		{in: "HOME", want: "HOME=/home/alice", wantOK: true},
		{in: "EMPTY", want: "EMPTY=", wantOK: true},
		{in: "UNSET"},
		{in: "", wantErr: `invalid environment variable "": want KEY=VALUE or KEY`},
		{in: "=1", wantErr: `invalid environment variable "=1"`},
		{in: "A B=1", wantErr: `invalid environment variable "A B=1"`},
		{in: "A\tB", wantErr: `invalid environment variable "A\tB"`},
		{in: "A\nB=1", wantErr: `invalid environment variable "A\nB=1"`},
		{in: "A\x00=1", wantErr: `invalid environment variable "A\x00=1"`},
		{in: "A=x\x00y", wantErr: `invalid environment variable "A": value holds a NUL byte`},
	}
	for _, tt := range tests {
		got, ok, err := ParseEnv(tt.in, lookup)
		if tt.wantErr != "" {
			if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
				t.Errorf("ParseEnv(%q) error = %v, want one containing %q", tt.in, err, tt.wantErr)
			}
			continue
		}
		if err != nil || got != tt.want || ok != tt.wantOK {
			t.Errorf("ParseEnv(%q) = %q, %v, %v; want %q, %v", tt.in, got, ok, err, tt.want, tt.wantOK)
		}
	}
}

func FuzzParseEnv(f *testing.F) {
	for _, s := range []string{"A=1", "HOME", "UNSET", "A B=1", "=x", "A=x\x00"} {
		f.Add(s, "value")
	}
	f.Fuzz(func(t *testing.T, v, outside string) {
		lookup := func(string) (string, bool) { return outside, outside != "unset" }
		kv, ok, err := ParseEnv(v, lookup)
		if err != nil {
			if ok || kv != "" {
				t.Fatalf("ParseEnv(%q) = %q, %v with error %v", v, kv, ok, err)
			}
			return
		}
		key, _, hasVal := strings.Cut(v, "=")
		if !ok {
			if hasVal || outside != "unset" || kv != "" {
				t.Fatalf("ParseEnv(%q) dropped the variable", v)
			}
			return
		}
		k, val, _ := strings.Cut(kv, "=")
		if k != key || k == "" || strings.ContainsAny(k, "\x00 \t\n") {
			t.Fatalf("ParseEnv(%q) = %q: key %q", v, kv, k)
		}
		if hasVal && kv != v {
			t.Fatalf("ParseEnv(%q) = %q, want it unchanged", v, kv)
		}
		if !hasVal && val != outside {
			t.Fatalf("ParseEnv(%q) = %q, want the value %q from outside", v, kv, outside)
		}
	})
}

func TestMergeEnv(t *testing.T) {
	tests := []struct {
		name      string
		base      []string
		overrides [][]string
		want      []string
	}{
		{name: "nothing", want: []string{}},
		{name: "base only", base: []string{"A=1", "B=2"}, want: []string{"A=1", "B=2"}},
		{name: "replace in place, append new", base: []string{"PATH=/bin", "A=1", "B=2"},
			overrides: [][]string{{"A=x", "C=3"}},
			want:      []string{"PATH=/bin", "A=x", "B=2", "C=3"}},
		{name: "later override wins", base: []string{"A=1"},
			overrides: [][]string{{"A=2", "B=1"}, {"B=2", "A=3"}},
			want:      []string{"A=3", "B=2"}},
		{name: "keys without '='", base: []string{"A"}, overrides: [][]string{{"A=1", "B"}},
			want: []string{"A=1", "B"}},
		{name: "empty value replaces", base: []string{"A=1"}, overrides: [][]string{{"A="}},
			want: []string{"A="}},
		{name: "key prefix is a different key", base: []string{"AB=1"}, overrides: [][]string{{"A=2"}},
			want: []string{"AB=1", "A=2"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			before := append([]string(nil), tt.base...)
			got := MergeEnv(tt.base, tt.overrides...)
			if !reflect.DeepEqual(got, tt.want) && !(len(got) == 0 && len(tt.want) == 0) {
				t.Errorf("MergeEnv(%q, %q) = %q, want %q", tt.base, tt.overrides, got, tt.want)
			}
			if !reflect.DeepEqual(before, tt.base) {
				t.Errorf("MergeEnv changed its base to %q", tt.base)
			}
		})
	}
}

func FuzzMergeEnv(f *testing.F) {
	f.Add("PATH=/bin\nA=1", "A=2\nB=3", "B=4")
	f.Fuzz(func(t *testing.T, base, o1, o2 string) {
		split := func(s string) []string {
			if s == "" {
				return nil
			}
			return strings.Split(s, "\n")
		}
		b := split(base)
		// Only the environment of one process is meaningful: unique keys.
		seen := map[string]bool{}
		var uniq []string
		for _, kv := range b {
			k, _, _ := strings.Cut(kv, "=")
			if !seen[k] {
				seen[k] = true
				uniq = append(uniq, kv)
			}
		}
		got := MergeEnv(uniq, split(o1), split(o2))
		want := map[string]string{}
		var order []string
		for _, list := range [][]string{uniq, split(o1), split(o2)} {
			for _, kv := range list {
				k, _, _ := strings.Cut(kv, "=")
				if _, ok := want[k]; !ok {
					order = append(order, k)
				}
				want[k] = kv
			}
		}
		if len(got) != len(order) {
			t.Fatalf("MergeEnv gave %d variables, want %d: %q", len(got), len(order), got)
		}
		for i, kv := range got {
			// Keys keep the place they first took; the last value wins.
			if kv != want[order[i]] {
				t.Fatalf("MergeEnv()[%d] = %q, want %q", i, kv, want[order[i]])
			}
		}
	})
}

func TestHasEnv(t *testing.T) {
	env := []string{"PATH=/bin", "TERM", "AB=1"}
	for key, want := range map[string]bool{"PATH": true, "TERM": false, "A": false, "AB": true, "HOME": false} {
		if got := HasEnv(env, key); got != want {
			t.Errorf("HasEnv(%q, %q) = %v, want %v", env, key, got, want)
		}
	}
}

func lookupFrom(env map[string]string) func(string) (string, bool) {
	return func(k string) (string, bool) {
		v, ok := env[k]
		return v, ok
	}
}

func TestParseEnvFile(t *testing.T) {
	lookup := lookupFrom(map[string]string{"HOME": "/home/alice"})
	tests := []struct {
		name    string
		data    string
		want    []string
		wantErr string
	}{
		{name: "empty", data: ""},
		{name: "pairs, comments, blanks",
			data: "# settings\nA=1\n\n   \n  # indented comment\nB=two words\n",
			want: []string{"A=1", "B=two words"}},
		{name: "quotes kept as docker does", data: `Q="quoted"` + "\n" + `S='single'`,
			want: []string{`Q="quoted"`, `S='single'`}},
		{name: "bare keys from outside, unset dropped", data: "HOME\nUNSET\n",
			want: []string{"HOME=/home/alice"}},
		{name: "CRLF line ends", data: "A=1\r\nB=2\r\n\r\n",
			want: []string{"A=1", "B=2"}},
		{name: "leading blanks trimmed, trailing kept", data: "  \tA=1  \n",
			want: []string{"A=1  "}},
		{name: "bad key names file and line", data: "A=1\n# c\nBAD KEY=2\n",
			wantErr: `env file ./my.env line 3: invalid environment variable "BAD KEY=2"`},
		{name: "bare key with trailing blank", data: "HOME \n",
			wantErr: `env file ./my.env line 1: invalid environment variable "HOME "`},
		{name: "empty key", data: "=x\n",
			wantErr: "env file ./my.env line 1"},
		{name: "line too long", data: "A=" + strings.Repeat("x", 1<<20) + "\n",
			wantErr: "env file ./my.env: "},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := ParseEnvFile([]byte(tt.data), "./my.env", lookup)
			switch {
			case tt.wantErr != "" && (err == nil || !strings.Contains(err.Error(), tt.wantErr)):
				t.Errorf("ParseEnvFile(%q): error %v, want one containing %q", tt.data, err, tt.wantErr)
			case tt.wantErr == "" && err != nil:
				t.Errorf("ParseEnvFile(%q): %v", tt.data, err)
			case tt.wantErr == "" && !reflect.DeepEqual(got, tt.want):
				t.Errorf("ParseEnvFile(%q) = %q, want %q", tt.data, got, tt.want)
			}
		})
	}
}

func FuzzParseEnvFile(f *testing.F) {
	f.Add([]byte("# c\nA=1\n\nHOME\r\nB=\"x y\"\n"))
	f.Add([]byte("BAD KEY=1\n"))
	f.Fuzz(func(t *testing.T, data []byte) {
		env, err := ParseEnvFile(data, "f", lookupFrom(map[string]string{"HOME": "/root"}))
		if err != nil {
			if !strings.HasPrefix(err.Error(), "env file f") {
				t.Fatalf("error %q does not name the file", err)
			}
			return
		}
		if len(env) > strings.Count(string(data), "\n")+1 {
			t.Fatalf("%d variables from %d lines", len(env), strings.Count(string(data), "\n")+1)
		}
		for _, kv := range env {
			k, _, ok := strings.Cut(kv, "=")
			if !ok || k == "" || strings.ContainsAny(k, "\x00 \t\n") || strings.HasPrefix(k, "#") {
				t.Fatalf("ParseEnvFile(%q) gave %q", data, kv)
			}
		}
	})
}
