// Unit tests (privilege tier: none) of the output of info and check: the
// YAML-like form and the wrapped check table.

package main

import (
	"bytes"
	"strings"
	"testing"

	"sandbox/system"
)

func TestPrintReportYAML(t *testing.T) {
	v := map[string]any{
		"b": map[string]any{"version": "12", "empty": "", "list": []any{}, "obj": map[string]any{}},
		"a": []any{map[string]any{"size": 1, "host_id": 1001}, "x"},
		"c": "line one\nline two",
		"d": "commit: unknown",
		"e": true,
	}
	var out bytes.Buffer
	if err := printReport(&out, "", v); err != nil {
		t.Fatal(err)
	}
	want := `a:
- host_id: 1001
  size: 1
- x
b:
  empty: ''
  list: []
  obj: {}
  version: '12'
c: |-
  line one
  line two
d: 'commit: unknown'
e: true
`
	if out.String() != want {
		t.Errorf("got:\n%s\nwant:\n%s", out.String(), want)
	}
}

func TestYAMLScalar(t *testing.T) {
	for in, want := range map[string]string{
		"plain": "plain", "two words": "two words", "12": "'12'", "1.5": "'1.5'", "true": "'true'", "No": "'No'",
		"": "''", "-x": "'-x'", "a: b": "'a: b'", "it's": "it's", "'q'": "'''q'''", "x #y": "'x #y'", "end:": "'end:'",
		"/usr/bin/pasta": "/usr/bin/pasta", "CAP_CHOWN,CAP_KILL": "CAP_CHOWN,CAP_KILL",
	} {
		if got := yamlScalar(in); got != want {
			t.Errorf("yamlScalar(%q) = %s, want %s", in, got, want)
		}
	}
}

func TestPrintCheck(t *testing.T) {
	rep := &system.CheckReport{Items: []system.Item{
		{Name: "subuid", State: system.OK, Detail: "65536 subordinate uids from 100000", Fix: "usermod"},
		{Name: "newuidmap", State: system.Missing, Detail: "not found in PATH", Fix: "sudo apt-get install uidmap"},
		{Name: "newgidmap", State: system.Missing, Detail: "not found in PATH", Fix: "sudo apt-get install uidmap"},
		{Name: "cgroup-v2", State: system.Warning, Detail: strings.Repeat("word ", 30), Fix: "boot with cgroup v2"},
	}}
	var out bytes.Buffer
	printCheck(&out, rep, 80)
	s := out.String()
	for _, want := range []string{
		"STATE    CHECK               DETAIL\n",
		"ok       subuid              65536 subordinate uids from 100000\n",
		"missing  newuidmap           not found in PATH\n         fix: sudo apt-get install uidmap\n",
		"missing  newgidmap           not found in PATH\n         fix: as for newuidmap\n",
		"         fix: boot with cgroup v2\n",
		"2 required items missing: rootless containers cannot run until fixed (1 warning)\n",
	} {
		if !strings.Contains(s, want) {
			t.Errorf("output lacks %q:\n%s", want, s)
		}
	}
	if strings.Contains(s, "fix: usermod") {
		t.Errorf("a fix is shown for an item that is ok:\n%s", s)
	}
	for _, line := range strings.Split(s, "\n") {
		if len(line) > 80 && !strings.Contains(line, "fix:") {
			t.Errorf("line longer than 80 columns: %q", line)
		}
	}
}
