package nsenter

import (
	"reflect"
	"testing"

	"sandbox/spec"
)

func TestExecProcess(t *testing.T) {
	cp := spec.Process{
		Args: []string{"init"}, Env: []string{"PATH=/bin", "HOME=/root", "A=1"}, Cwd: "/srv",
		UID: 1000, GID: 100, AdditionalGIDs: []uint32{10}, Capabilities: []string{"CAP_CHOWN"},
		NoNewPrivileges: true, Rlimits: []spec.Rlimit{{Type: "RLIMIT_NOFILE", Soft: 8, Hard: 8}},
		Terminal: true, PreserveFDs: 2,
	}
	tests := []struct {
		name string
		o    ProcessOptions
		want spec.Process
	}{
		{"the container's own", ProcessOptions{Args: []string{"true"}}, spec.Process{
			Args: []string{"true"}, Env: []string{"PATH=/bin", "HOME=/root", "A=1"}, Cwd: "/srv",
			UID: 1000, GID: 100, AdditionalGIDs: []uint32{10}, Capabilities: []string{"CAP_CHOWN"},
			NoNewPrivileges: true, Rlimits: cp.Rlimits,
		}},
		{"options over it", ProcessOptions{
			Args: []string{"sh"}, Env: []string{"A=2", "B=3"}, Workdir: "/tmp/../var/", TTY: true, Interactive: true,
			Rows: 24, Cols: 80, User: &ProcessUser{UID: 0, GID: 0, Home: "/home/root"},
			Capabilities: []string{"CAP_SYS_ADMIN"},
		}, spec.Process{
			Args: []string{"sh"}, Env: []string{"PATH=/bin", "HOME=/home/root", "A=2", "B=3", "TERM=xterm"}, Cwd: "/var",
			Capabilities: []string{"CAP_SYS_ADMIN"}, Terminal: true, Stdin: true, Rows: 24, Cols: 80,
			NoNewPrivileges: true, Rlimits: cp.Rlimits,
		}},
		{"TERM given, no_new_privs asked", ProcessOptions{Args: []string{"x"}, Env: []string{"TERM=dumb"}, TTY: true, NoNewPrivileges: true}, spec.Process{
			Args: []string{"x"}, Env: []string{"PATH=/bin", "HOME=/root", "A=1", "TERM=dumb"}, Cwd: "/srv",
			UID: 1000, GID: 100, AdditionalGIDs: []uint32{10}, Capabilities: []string{"CAP_CHOWN"},
			Terminal: true, NoNewPrivileges: true, Rlimits: cp.Rlimits,
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			before := cp.Env[1]
			if got := ExecProcess(&cp, tt.o); !reflect.DeepEqual(got, tt.want) {
				t.Errorf("ExecProcess =\n%+v\nwant\n%+v", got, tt.want)
			}
			if cp.Env[1] != before {
				t.Errorf("ExecProcess changed the container's environment: %q", cp.Env)
			}
		})
	}
	// An exec never loosens no_new_privs.
	loose := cp
	loose.NoNewPrivileges = false
	if p := ExecProcess(&loose, ProcessOptions{}); p.NoNewPrivileges {
		t.Error("no_new_privs set for a container without it and an exec that did not ask")
	}
}
