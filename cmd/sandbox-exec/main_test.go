package main

import (
	"os"
	"path/filepath"
	"reflect"
	"testing"
)

func TestPlanExec(t *testing.T) {
	lookup := func(k string) (string, bool) {
		v, ok := map[string]string{"HOME": "/home/u"}[k]
		return v, ok
	}
	dir := t.TempDir()
	envFile, badEnvFile := filepath.Join(dir, "good.env"), filepath.Join(dir, "bad.env")
	if err := os.WriteFile(envFile, []byte("# c\nF=1\nA=0\nHOME\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(badEnvFile, []byte("BAD KEY=1\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	taken := []struct {
		args    []string
		ref     string
		command []string
		env     []string
	}{
		{[]string{"exec", "web", "true"}, "web", []string{"true"}, nil},
		{[]string{"exec", "-i", "-d", "web", "sh", "-c", "x"}, "web", []string{"sh", "-c", "x"}, nil},
		{[]string{"exec", "-e", "A=1", "-e", "HOME", "-e", "UNSET", "-w", "/tmp", "web", "env"}, "web", []string{"env"}, []string{"A=1", "HOME=/home/u"}},
		{[]string{"exec", "--env=B=2", "--workdir=/", "web", "ls", "-u", "--privileged"}, "web", []string{"ls", "-u", "--privileged"}, []string{"B=2"}},
		{[]string{"exec", "-id", "web", "--", "x"}, "web", []string{"--", "x"}, nil},
		{[]string{"exec", "-u", "nobody", "--user=0:0", "web", "id"}, "web", []string{"id"}, nil},
		{[]string{"exec", "-it", "--detach-keys", "ctrl-a,x", "web", "sh"}, "web", []string{"sh"}, nil},
		// The files' variables before -e's, as the engine's exec.
		{[]string{"exec", "-e", "A=1", "--env-file", envFile, "web", "env"}, "web", []string{"env"}, []string{"F=1", "A=0", "HOME=/home/u", "A=1"}},
		{[]string{"exec", "--privileged", "web", "true"}, "web", []string{"true"}, nil},
		{[]string{"exec", "--security-opt", "no-new-privileges", "web", "true"}, "web", []string{"true"}, nil},
		{[]string{"exec", "--security-opt=no-new-privileges:true", "web", "true"}, "web", []string{"true"}, nil},
	}
	for _, tt := range taken {
		p, ok := planExec(tt.args, "/run/user/1/sandbox", lookup)
		if !ok {
			t.Errorf("planExec(%q) falls back, want the short way", tt.args)
			continue
		}
		if p.ref != tt.ref || !reflect.DeepEqual(p.args, tt.command) || !reflect.DeepEqual(p.env, tt.env) || p.runRoot != "/run/user/1/sandbox/storage" {
			t.Errorf("planExec(%q) = ref %q, command %q, env %q, run root %q; want %q, %q, %q", tt.args, p.ref, p.args, p.env, p.runRoot, tt.ref, tt.command, tt.env)
		}
	}
	for _, tt := range []struct {
		args            []string
		privileged, nnp bool
	}{
		{[]string{"exec", "web", "true"}, false, false},
		{[]string{"exec", "--privileged", "--security-opt", "no-new-privileges", "web", "true"}, true, true},
		{[]string{"exec", "--security-opt=no-new-privileges=true", "web", "true"}, false, true},
	} {
		if p, ok := planExec(tt.args, "/run/user/1/sandbox", lookup); !ok || p.v.Privileged != tt.privileged || p.noNewPrivileges != tt.nnp {
			t.Errorf("planExec(%q): taken %v, privileged %v, no new privileges %v; want taken, %v, %v", tt.args, ok, p != nil && p.v.Privileged, p != nil && p.noNewPrivileges, tt.privileged, tt.nnp)
		}
	}
	// What the whole command does (and says).
	whole := [][]string{
		nil,
		{"run", "web", "true"},
		{"exec"},
		{"exec", "web"},
		{"exec", "--help"},
		{"exec", "-h", "web", "true"},
		{"exec", "--bogus", "web", "true"},
		{"exec", "--env-file", filepath.Join(dir, "missing.env"), "web", "env"},
		{"exec", "--env-file", badEnvFile, "web", "env"},
		{"exec", "--security-opt", "seccomp=unconfined", "web", "true"},
		{"exec", "--security-opt", "no-new-privileges=false", "web", "true"},
		{"exec", "--security-opt", "no-new-privileges", "--security-opt", "mask=/x", "web", "true"},
		{"exec", "--detach-keys", "ctrl-", "web", "true"},
		{"exec", "--detach-keys", "ctrl-1", "web", "true"},
		{"exec", "-w", "relative", "web", "true"},
		{"exec", "-e", "A B=1", "web", "true"},
		{"exec", "-e", "", "web", "true"},
	}
	for _, args := range whole {
		if p, ok := planExec(args, "/run/user/1/sandbox", lookup); ok {
			t.Errorf("planExec(%q) = %+v, want the whole command", args, p)
		}
	}
	globals := []struct {
		args     []string
		runRoot  string
		noEvents bool
	}{
		{[]string{"--root", "/r", "--runroot", "/rr", "exec", "web", "true"}, "/rr", false},
		{[]string{"--root=/r", "--runroot=/rr/", "--cgroup-manager", "systemd", "exec", "web", "true"}, "/rr", false},
		{[]string{"--cgroup-manager=cgroupfs", "--events-backend", "none", "exec", "web", "true"}, "/run/user/1/sandbox/storage", true},
		{[]string{"--events-backend=journald", "exec", "web", "true"}, "/run/user/1/sandbox/storage", false},
	}
	for _, tt := range globals {
		p, ok := planExec(tt.args, "/run/user/1/sandbox", lookup)
		if !ok {
			t.Errorf("planExec(%q) falls back, want the short way", tt.args)
			continue
		}
		if p.runRoot != tt.runRoot || p.noEvents != tt.noEvents || p.ref != "web" {
			t.Errorf("planExec(%q): run root %q, no events %v, ref %q; want %q, %v, web", tt.args, p.runRoot, p.noEvents, p.ref, tt.runRoot, tt.noEvents)
		}
	}
	for _, args := range [][]string{
		{"--log-level", "debug", "exec", "web", "true"},
		{"--storage-driver", "vfs", "exec", "web", "true"},
		{"--cgroup-manager", "bogus", "exec", "web", "true"},
		{"--events-backend", "syslog", "exec", "web", "true"},
		{"--runroot", "", "exec", "web", "true"},
		{"--runroot"},
		{"--noout", "exec", "web", "true"},
		{"--", "exec", "web", "true"},
		{"--root", "/r", "run", "web"},
	} {
		if p, ok := planExec(args, "/run/user/1/sandbox", lookup); ok {
			t.Errorf("planExec(%q) = %+v, want the whole command", args, p)
		}
	}
	if _, ok := planExec([]string{"exec", "web", "true"}, "relative/dir", lookup); ok {
		t.Error("planExec with a relative runtime directory takes the short way, want the whole command")
	}
}

func TestInScope(t *testing.T) {
	for cg, want := range map[string]bool{
		"": false,
		"/sys/fs/cgroup/user.slice/user-1000.slice/user@1000.service/sandbox/abc":                        false,
		"/sys/fs/cgroup/user.slice/user@1000.service/app.slice/sandbox-0123456789ab-x.scope/sandbox/abc": true,
		"/sys/fs/cgroup/user.slice/user@1000.service/app.slice/sandbox-0123456789ab-x.scope":             true,
		"/sys/fs/cgroup/user.slice/user@1000.service/app.slice/session.scopes/sandbox/abc":               false,
	} {
		if got := inScope(cg); got != want {
			t.Errorf("inScope(%q) = %v, want %v", cg, got, want)
		}
	}
}
