package pod

import (
	"strings"
	"testing"
)

func TestParseShare(t *testing.T) {
	for _, tc := range []struct {
		in, want, err string
	}{
		{"", "ipc,net,uts", ""},
		{"net", "net", ""},
		{"uts,net", "net,uts", ""},
		{"net,ipc,cgroup,net", "ipc,net", ""},
		{"ipc", "", "include net"},
		{"net,pid", "", `"pid" cannot be shared`},
	} {
		got, err := ParseShare(tc.in)
		if tc.err != "" {
			if err == nil || !strings.Contains(err.Error(), tc.err) {
				t.Errorf("%q: error %v, want %q", tc.in, err, tc.err)
			}
			continue
		}
		if err != nil || strings.Join(got, ",") != tc.want {
			t.Errorf("%q: got %v, %v; want %s", tc.in, got, err, tc.want)
		}
	}
}

func TestStatus(t *testing.T) {
	for _, tc := range []struct {
		states []string
		want   string
	}{
		{nil, StateCreated},
		{[]string{"running", "running"}, StateRunning},
		{[]string{"running", "exited"}, StateDegraded},
		{[]string{"paused", "paused"}, StatePaused},
		{[]string{"created", "created"}, StateCreated},
		{[]string{"created", "exited"}, StateExited},
		{[]string{"exited"}, StateExited},
	} {
		if got := Status(tc.states); got != tc.want {
			t.Errorf("%v: %s, want %s", tc.states, got, tc.want)
		}
	}
}

func TestRecordsFind(t *testing.T) {
	recs := &records{Pods: map[string]*Pod{
		"abc123": {ID: "abc123", Name: "web"},
		"abd456": {ID: "abd456", Name: "db"},
	}}
	for ref, want := range map[string]string{"web": "abc123", "abd": "abd456", "abc123": "abc123"} {
		if p, err := recs.find(ref); err != nil || p.ID != want {
			t.Errorf("find %q: %v, %v", ref, p, err)
		}
	}
	if _, err := recs.find("ab"); err == nil || !strings.Contains(err.Error(), "ambiguous") {
		t.Errorf("ab: %v", err)
	}
	if _, err := recs.find("x"); err == nil || !strings.Contains(err.Error(), "no pod with name or ID x found") {
		t.Errorf("x: %v", err)
	}
}
