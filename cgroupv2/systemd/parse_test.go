package systemd

import (
	"reflect"
	"strings"
	"testing"
)

func TestParseManager(t *testing.T) {
	for in, want := range map[string]Manager{"": Auto, "auto": Auto, "systemd": Systemd, "cgroupfs": Cgroupfs} {
		got, err := ParseManager(in)
		if err != nil || got != want {
			t.Errorf("ParseManager(%q) = %q, %v; want %q", in, got, err, want)
		}
	}
	for _, in := range []string{"Systemd", "cgroupv2", " auto", "none"} {
		_, err := ParseManager(in)
		if err == nil {
			t.Errorf("ParseManager(%q): no error", in)
			continue
		}
		msg := err.Error()
		if !strings.Contains(msg, `"`+in+`"`) || !strings.Contains(msg, "auto, systemd or cgroupfs") || strings.Contains(msg, "\n") {
			t.Errorf("ParseManager(%q) error %q: want one line naming the value and the valid ones", in, msg)
		}
	}
}

func TestScopeName(t *testing.T) {
	id := "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"
	got, err := ScopeName(id, 4242)
	if err != nil || got != "sandbox-0123456789ab-4242.scope" {
		t.Fatalf("ScopeName = %q, %v", got, err)
	}
	if !IsScopeName(got) {
		t.Errorf("IsScopeName(%q) = false", got)
	}
	for _, bad := range []struct {
		id  string
		pid int
	}{{"0123456789a", 1}, {"0123456789aB", 1}, {"../456789abcd", 1}, {id, 0}, {id, -3}} {
		if n, err := ScopeName(bad.id, bad.pid); err == nil {
			t.Errorf("ScopeName(%q, %d) = %q, want an error", bad.id, bad.pid, n)
		}
	}
	for _, n := range []string{"sandbox-0123456789ab.scope", "sandbox-0123456789ab-.scope", "sandbox-0123456789ab-01.scope",
		"sandbox-0123456789AB-1.scope", "sandbox-0123456789ab-1.service", "app-0123456789ab-1.scope", "sandbox-0123456789ab-1x.scope"} {
		if IsScopeName(n) {
			t.Errorf("IsScopeName(%q) = true", n)
		}
	}
}

func TestBusAddress(t *testing.T) {
	for _, c := range []struct {
		env  map[string]string
		want string
	}{
		{map[string]string{"DBUS_SESSION_BUS_ADDRESS": "unix:path=/x/bus", "XDG_RUNTIME_DIR": "/run/user/1"}, "unix:path=/x/bus"},
		{map[string]string{"XDG_RUNTIME_DIR": "/run/user/1000"}, "unix:path=/run/user/1000/bus"},
		{map[string]string{"XDG_RUNTIME_DIR": "/run/user/a b,c"}, "unix:path=/run/user/a%20b%2cc/bus"},
		{map[string]string{"XDG_RUNTIME_DIR": "relative"}, ""},
		{map[string]string{}, ""},
	} {
		if got := BusAddress(func(k string) string { return c.env[k] }); got != c.want {
			t.Errorf("BusAddress(%v) = %q, want %q", c.env, got, c.want)
		}
	}
}

func TestParseBusAddress(t *testing.T) {
	for _, c := range []struct {
		in   string
		want []Endpoint
	}{
		{"unix:path=/run/user/1000/bus", []Endpoint{{"unix", "/run/user/1000/bus"}}},
		{"unix:path=/a%20b/bus,guid=1234", []Endpoint{{"unix", "/a b/bus"}}},
		{"unix:abstract=/tmp/dbus-x,guid=9;unix:path=/p", []Endpoint{{"unix", ""}, {"unix", "/p"}}},
		{"tcp:host=localhost,port=1;", []Endpoint{{"tcp", ""}}},
	} {
		got, err := ParseBusAddress(c.in)
		if err != nil || !reflect.DeepEqual(got, c.want) {
			t.Errorf("ParseBusAddress(%q) = %+v, %v; want %+v", c.in, got, err, c.want)
		}
	}
	for _, in := range []string{"", ";", "/run/user/1000/bus", ":path=/x", "unix:path", "unix:path=/a%2", "unix:path=/a%zz"} {
		if got, err := ParseBusAddress(in); err == nil {
			t.Errorf("ParseBusAddress(%q) = %+v, want an error", in, got)
		}
	}
}

func FuzzParseBusAddress(f *testing.F) {
	for _, s := range []string{"unix:path=/run/user/1000/bus", "unix:abstract=x,guid=1;tcp:host=h", "unix:path=%41%", "", ";;"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, in string) {
		eps, err := ParseBusAddress(in)
		if err != nil {
			return
		}
		if len(eps) == 0 {
			t.Fatalf("no endpoints and no error from %q", in)
		}
		for _, e := range eps {
			if e.Transport == "" || e.Path != "" && e.Transport != "unix" {
				t.Fatalf("bad endpoint %+v from %q", e, in)
			}
			// What BusAddress writes, ParseBusAddress reads back.
			if e.Path != "" && !strings.ContainsRune(e.Path, 0) {
				back, err := ParseBusAddress("unix:path=" + escape(e.Path))
				if err != nil || len(back) != 1 || back[0].Path != e.Path {
					t.Fatalf("round trip of %q: %+v, %v", e.Path, back, err)
				}
			}
		}
	})
}
