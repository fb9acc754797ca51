package container

import (
	"reflect"
	"strings"
	"testing"
)

func TestParseSecurityOpts(t *testing.T) {
	for _, c := range []struct {
		opts []string
		want SecurityOptions
		err  string
	}{
		{nil, SecurityOptions{}, ""},
		{[]string{"seccomp=unconfined"}, SecurityOptions{Seccomp: "unconfined"}, ""},
		{[]string{"seccomp:unconfined"}, SecurityOptions{Seccomp: "unconfined"}, ""},
		{[]string{"seccomp=/p/profile.json"}, SecurityOptions{Seccomp: "/p/profile.json"}, ""},
		{[]string{"no-new-privileges"}, SecurityOptions{NoNewPrivileges: true}, ""},
		{[]string{"no-new-privileges=true"}, SecurityOptions{NoNewPrivileges: true}, ""},
		{[]string{"no-new-privileges:true"}, SecurityOptions{NoNewPrivileges: true}, ""},
		{[]string{"no-new-privileges", "no-new-privileges=false"}, SecurityOptions{}, ""},
		{[]string{"mask=/proc/version:/sys/x"}, SecurityOptions{Mask: []string{"/proc/version", "/sys/x"}}, ""},
		{[]string{"unmask=ALL"}, SecurityOptions{Unmask: []string{"ALL"}}, ""},
		{[]string{"unmask=/proc/kcore", "unmask=/proc/sys/"}, SecurityOptions{Unmask: []string{"/proc/kcore", "/proc/sys"}}, ""},
		{[]string{"label=disable", "apparmor=unconfined"}, SecurityOptions{}, ""},
		{[]string{"seccomp="}, SecurityOptions{}, `"seccomp=": seccomp needs`},
		{[]string{"no-new-privileges=maybe"}, SecurityOptions{}, "true or false"},
		{[]string{"mask=relative"}, SecurityOptions{}, `"relative" is not an absolute path`},
		{[]string{"mask=ALL"}, SecurityOptions{}, "not an absolute path"},
		{[]string{"unmask="}, SecurityOptions{}, "PATH"},
		{[]string{"label=type:svirt_t"}, SecurityOptions{}, "no SELinux label"},
		{[]string{"apparmor=docker-default"}, SecurityOptions{}, "no AppArmor profile"},
		{[]string{"nonsense"}, SecurityOptions{}, `"nonsense": want seccomp=`},
		{[]string{"systempaths=unconfined"}, SecurityOptions{}, "want seccomp="},
	} {
		got, err := ParseSecurityOpts(c.opts)
		if c.err != "" {
			if err == nil || !strings.Contains(err.Error(), c.err) || strings.Contains(err.Error(), "\n") {
				t.Errorf("%q: error %v, want one line with %q", c.opts, err, c.err)
			}
			continue
		}
		if err != nil || !reflect.DeepEqual(got, c.want) {
			t.Errorf("%q: %+v, %v; want %+v", c.opts, got, err, c.want)
		}
	}
}

func TestSecurityPaths(t *testing.T) {
	masked := []string{"/proc/kcore", "/proc/keys"}
	readonly := []string{"/proc/sys"}
	for _, c := range []struct {
		opts         []string
		wantMasked   []string
		wantReadonly []string
	}{
		{nil, masked, readonly},
		{[]string{"mask=/proc/version"}, []string{"/proc/kcore", "/proc/keys", "/proc/version"}, readonly},
		{[]string{"mask=/proc/kcore"}, masked, readonly},
		{[]string{"unmask=/proc/kcore:/proc/sys"}, []string{"/proc/keys"}, nil},
		{[]string{"unmask=ALL", "mask=/proc/version"}, []string{"/proc/version"}, nil},
	} {
		s, err := ParseSecurityOpts(c.opts)
		if err != nil {
			t.Fatal(err)
		}
		m, r := s.Paths(masked, readonly)
		if !reflect.DeepEqual(m, c.wantMasked) || !reflect.DeepEqual(r, c.wantReadonly) {
			t.Errorf("%q: masked %q read-only %q, want %q %q", c.opts, m, r, c.wantMasked, c.wantReadonly)
		}
	}
}

func TestExecSecurity(t *testing.T) {
	if s, err := execSecurity([]string{"no-new-privileges"}); err != nil || !s.NoNewPrivileges {
		t.Errorf("exec no-new-privileges: %+v, %v", s, err)
	}
	for _, opt := range []string{"seccomp=unconfined", "mask=/x", "unmask=ALL"} {
		if _, err := execSecurity([]string{opt}); err == nil || !strings.Contains(err.Error(), "no-new-privileges only") {
			t.Errorf("exec %s: %v, want a refusal", opt, err)
		}
	}
}

func FuzzParseSecurityOpts(f *testing.F) {
	for _, s := range []string{"seccomp=unconfined", "no-new-privileges:false", "mask=/a:/b", "unmask=ALL", "label=disable", "x", "=", ":"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, opt string) {
		s, err := ParseSecurityOpts([]string{opt})
		if err != nil {
			if strings.Contains(err.Error(), "\n") {
				t.Errorf("%q: a multi-line error %q", opt, err)
			}
			return
		}
		for _, p := range append(append([]string{}, s.Mask...), s.Unmask...) {
			if p != "ALL" && !strings.HasPrefix(p, "/") {
				t.Errorf("%q: a relative path %q accepted", opt, p)
			}
		}
		m, _ := s.Paths([]string{"/proc/kcore"}, []string{"/proc/sys"})
		for _, p := range m {
			if p == "ALL" {
				t.Errorf("%q: ALL masked as a path", opt)
			}
		}
	})
}
