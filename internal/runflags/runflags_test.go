package runflags

import (
	"reflect"
	"strings"
	"testing"
)

func TestParseTimezone(t *testing.T) {
	for _, tc := range []struct {
		in, want string
		bad      bool
	}{
		{in: "local", want: "local"},
		{in: "Europe/Paris", want: "Europe/Paris"},
		{in: "America/Argentina/Buenos_Aires", want: "America/Argentina/Buenos_Aires"},
		{in: "Etc/GMT+5", want: "Etc/GMT+5"},
		{in: "UTC", want: "UTC"},
		{in: "", bad: true},
		{in: "/etc/localtime", bad: true},
		{in: "../../etc/passwd", bad: true},
		{in: "Europe//Paris", bad: true},
		{in: "Europe/./Paris", bad: true},
		{in: "Europe/", bad: true},
		{in: "Europe Paris", bad: true},
	} {
		got, err := ParseTimezone(tc.in)
		if tc.bad {
			if err == nil || !strings.Contains(err.Error(), "want local or an IANA") {
				t.Errorf("ParseTimezone(%q) = %q, %v; want an error", tc.in, got, err)
			}
			continue
		}
		if err != nil || got != tc.want {
			t.Errorf("ParseTimezone(%q) = %q, %v; want %q", tc.in, got, err, tc.want)
		}
	}
}

func TestParseEntrypoint(t *testing.T) {
	for _, tc := range []struct {
		in   string
		want []string
		bad  bool
	}{
		{in: "", want: nil},
		{in: "sh", want: []string{"sh"}},
		{in: "/bin/echo hi", want: []string{"/bin/echo hi"}},
		{in: `["sh","-c","echo hi"]`, want: []string{"sh", "-c", "echo hi"}},
		{in: `[ "env" ]`, want: []string{"env"}},
		{in: `[]`, want: []string{}},
		{in: `["sh",`, bad: true},
		{in: `[1,2]`, bad: true},
		{in: `[""]`, bad: true},
	} {
		got, err := ParseEntrypoint(tc.in)
		if tc.bad {
			if err == nil {
				t.Errorf("ParseEntrypoint(%q) = %q; want an error", tc.in, got)
			}
			continue
		}
		if err != nil || !reflect.DeepEqual(got, tc.want) {
			t.Errorf("ParseEntrypoint(%q) = %#v, %v; want %#v", tc.in, got, err, tc.want)
		}
	}
}

func TestParsePull(t *testing.T) {
	for in, want := range map[string]string{
		"": PullMissing, "missing": PullMissing, "newer": PullMissing, "Always": PullAlways,
		"always": PullAlways, "never": PullNever, "NEVER": PullNever,
		"true": "", "false": "", "sometimes": "",
	} {
		got, err := ParsePull(in)
		if want == "" {
			if err == nil {
				t.Errorf("ParsePull(%q) = %q; want an error", in, got)
			}
			continue
		}
		if err != nil || got != want {
			t.Errorf("ParsePull(%q) = %q, %v; want %q", in, got, err, want)
		}
	}
}

func TestParseAttach(t *testing.T) {
	for _, tc := range []struct {
		in   []string
		want Streams
		bad  bool
	}{
		{in: nil, want: Streams{true, true, true}},
		{in: []string{"stdout"}, want: Streams{Stdout: true}},
		{in: []string{"STDERR", "stdin"}, want: Streams{Stdin: true, Stderr: true}},
		{in: []string{"stdout", "stdout"}, want: Streams{Stdout: true}},
		{in: []string{"tty"}, bad: true},
		{in: []string{""}, bad: true},
	} {
		got, err := ParseAttach(tc.in)
		if tc.bad != (err != nil) || got != tc.want {
			t.Errorf("ParseAttach(%q) = %+v, %v; want %+v (error: %v)", tc.in, got, err, tc.want, tc.bad)
		}
	}
}

func FuzzParseTimezone(f *testing.F) {
	for _, s := range []string{"local", "Europe/Paris", "../x", "a//b", "Etc/GMT-3"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		got, err := ParseTimezone(s)
		if err != nil {
			return
		}
		if got != s || strings.HasPrefix(got, "/") || strings.Contains("/"+got+"/", "/../") {
			t.Fatalf("ParseTimezone(%q) = %q: not a safe relative name", s, got)
		}
	})
}

func FuzzParseEntrypoint(f *testing.F) {
	for _, s := range []string{"", "sh", `["a","b"]`, `[`, `[""]`} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		got, err := ParseEntrypoint(s)
		if err == nil && s != "" && len(got) > 0 && got[0] == "" {
			t.Fatalf("ParseEntrypoint(%q) = %q: empty program", s, got)
		}
	})
}

func FuzzParseAttach(f *testing.F) {
	f.Add("stdout", "stderr")
	f.Fuzz(func(t *testing.T, a, b string) {
		s, err := ParseAttach([]string{a, b})
		if err == nil && !s.Stdin && !s.Stdout && !s.Stderr {
			t.Fatalf("ParseAttach(%q, %q) attaches nothing", a, b)
		}
	})
}

func TestParseLogDriver(t *testing.T) {
	for in, want := range map[string]string{
		"": "k8s-file", "k8s-file": "k8s-file", "json-file": "json-file", "none": "none",
		"passthrough": "passthrough", "journald": "", "K8S-FILE": "",
	} {
		got, err := ParseLogDriver(in)
		if want == "" {
			if err == nil || !strings.Contains(err.Error(), "want k8s-file, json-file, none or passthrough") {
				t.Errorf("ParseLogDriver(%q) = %q, %v; want an error naming the drivers", in, got, err)
			}
			continue
		}
		if err != nil || got != want {
			t.Errorf("ParseLogDriver(%q) = %q, %v; want %q", in, got, err, want)
		}
	}
}
