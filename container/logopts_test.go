package container

import (
	"path/filepath"
	"strings"
	"testing"

	"sandbox/spec"
)

func TestParseLogOpts(t *testing.T) {
	for _, tc := range []struct {
		in      []string
		want    spec.LogConfig
		wantErr string
	}{
		{in: nil, want: spec.LogConfig{}},
		{in: []string{"max-size=1k"}, want: spec.LogConfig{MaxSize: 1024, MaxFile: 1}},
		{in: []string{"max-size=1m", "max-file=3"}, want: spec.LogConfig{MaxSize: 1 << 20, MaxFile: 3}},
		{in: []string{"path=/var/log/c.log"}, want: spec.LogConfig{Path: "/var/log/c.log"}},
		{in: []string{"path=c.log"}, wantErr: `invalid --log-opt "path=c.log": path must be an absolute, clean file name`},
		{in: []string{"path=/a/../c.log"}, wantErr: "absolute, clean"},
		{in: []string{"path=/"}, wantErr: "absolute, clean"},
		{in: []string{"path="}, wantErr: "absolute, clean"},
		{in: []string{"max-file=0"}, wantErr: "at least 1"},
		{in: []string{"tag=x"}, wantErr: `invalid --log-opt "tag=x": want max-size=SIZE, max-file=N or path=FILE`},
	} {
		got, err := ParseLogOpts(tc.in)
		if tc.wantErr != "" {
			if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
				t.Errorf("ParseLogOpts(%q) = %+v, %v; want error %q", tc.in, got, err, tc.wantErr)
			}
			continue
		}
		if err != nil || got != tc.want {
			t.Errorf("ParseLogOpts(%q) = %+v, %v; want %+v", tc.in, got, err, tc.want)
		}
	}
}

func FuzzParseLogOpts(f *testing.F) {
	for _, s := range []string{"path=/x/y.log", "max-size=10m", "max-file=2", "path=rel", "x"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, v string) {
		c, err := ParseLogOpts([]string{v})
		if err != nil {
			if !strings.Contains(err.Error(), "--log-opt") {
				t.Fatalf("ParseLogOpts(%q): error %q does not name the flag", v, err)
			}
			return
		}
		if c.Path != "" && (!filepath.IsAbs(c.Path) || filepath.Clean(c.Path) != c.Path || c.Path == "/") {
			t.Fatalf("ParseLogOpts(%q): path %q is not an absolute, clean file name", v, c.Path)
		}
	})
}
