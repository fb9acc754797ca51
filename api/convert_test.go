package api

import (
	"bytes"
	"encoding/json"
	"net/http"
	"reflect"
	"strings"
	"testing"

	"sandbox/events"

	"github.com/moby/moby/api/pkg/stdcopy"
	ctrtypes "github.com/moby/moby/api/types/container"
)

func decodeCreate(t *testing.T, body string) *ctrtypes.CreateRequest {
	t.Helper()
	var req ctrtypes.CreateRequest
	if err := json.Unmarshal([]byte(body), &req); err != nil {
		t.Fatalf("%s: %v", body, err)
	}
	return &req
}

func TestCreateOptions(t *testing.T) {
	req := decodeCreate(t, `{
		"Image": "busybox", "Cmd": ["sh", "-c", "true"], "Entrypoint": ["/bin/env"], "Env": ["A=1"],
		"WorkingDir": "/tmp", "User": "1000:1000", "Tty": true, "OpenStdin": true, "Labels": {"b": "2", "a": "1"},
		"ExposedPorts": {"9090/tcp": {}}, "Volumes": {"/anon": {}},
		"HostConfig": {
			"Binds": ["/src:/dst:ro"], "AutoRemove": true, "NetworkMode": "none",
			"PortBindings": {"80/tcp": [{"HostIp": "127.0.0.1", "HostPort": "8080"}], "53/udp": [{"HostPort": ""}]},
			"PublishAllPorts": true, "RestartPolicy": {"Name": "on-failure", "MaximumRetryCount": 3},
			"Tmpfs": {"/run": "size=1m"}, "CapAdd": ["NET_ADMIN"], "Dns": ["192.0.2.1"], "ExtraHosts": ["h:192.0.2.2"],
			"Memory": 67108864, "NanoCpus": 1500000000, "PidsLimit": 64, "Init": true,
			"Mounts": [{"Type": "bind", "Source": "/a", "Target": "/b", "ReadOnly": true}],
			"LogConfig": {"Type": "json-file", "Config": {"max-size": "1m"}}
		}}`)
	o, err := createOptions("web", req)
	if err != nil {
		t.Fatal(err)
	}
	checks := []struct {
		name      string
		got, want any
	}{
		{"name", o.Name, "web"},
		{"command", o.Command, []string{"sh", "-c", "true"}},
		{"entrypoint", *o.Entrypoint, `["/bin/env"]`},
		{"labels", o.Labels, []string{"a=1", "b=2"}},
		{"volumes", o.Volumes, []string{"/src:/dst:ro", "/anon"}},
		{"mounts", o.Mounts, []string{"type=bind,source=/a,target=/b,readonly"}},
		{"tmpfs", o.Tmpfs, []string{"/run:size=1m"}},
		{"network", o.Network, "none"},
		{"publish", o.Publish, []string{"127.0.0.1:8080:80/tcp", "53/udp", "9090/tcp"}},
		{"restart", o.Restart, "on-failure:3"},
		{"dns", o.DNS, []string{"192.0.2.1"}},
		{"memory", o.Resources.Memory, "67108864"},
		{"cpus", o.Resources.CPUs, "1.5"},
		{"pids", o.Resources.PidsLimit, "64"},
		{"log", []any{o.LogDriver, o.LogOpts}, []any{"json-file", []string{"max-size=1m"}}},
		{"flags", []bool{o.Remove, o.TTY, o.Interactive, o.Init, o.PublishAll}, []bool{true, true, true, true, true}},
		{"pull", o.Pull, "never"},
	}
	for _, c := range checks {
		if !reflect.DeepEqual(c.got, c.want) {
			t.Errorf("%s: got %#v, want %#v", c.name, c.got, c.want)
		}
	}
}

func TestCreateOptionsRefused(t *testing.T) {
	for body, want := range map[string]string{
		`{"Image":"busybox","HostConfig":{"Sysctls":{"a":"b"}}}`:                                  "Sysctls",
		`{"Image":"busybox","HostConfig":{"PidMode":"host"}}`:                                     "PidMode",
		`{"Image":"busybox","HostConfig":{"Links":["a:b"]}}`:                                      "Links",
		`{"Image":"busybox","HostConfig":{"VolumesFrom":["x"]}}`:                                  "VolumesFrom",
		`{"Image":"busybox","HostConfig":{"Devices":[{"PathOnHost":"/dev/x"}]}}`:                  "Devices",
		`{"Image":"busybox","HostConfig":{"LogConfig":{"Type":"syslog"}}}`:                        "LogConfig.Type",
		`{"Image":"busybox","HostConfig":{"Mounts":[{"Type":"npipe","Target":"/v"}]}}`:            "npipe",
		`{"Image":"busybox","Healthcheck":{"Test":["CMD","true"]}}`:                               "Healthcheck",
		`{"Image":"busybox","NetworkingConfig":{"EndpointsConfig":{"other":{"Links":["a:b"]}}}}`:  "EndpointSettings.Links",
		`{"Image":"busybox","NetworkingConfig":{"EndpointsConfig":{"bridge":{"Aliases":["a"]}}}}`: "aliases and addresses are for user-defined networks",
		`{"Cmd":["true"]}`: "Config.Image",
		`{"Image":"busybox","HostConfig":{"ShmSize":1048576}}`:     "ShmSize",
		`{"Image":"busybox","HostConfig":{"MemorySwappiness":10}}`: "MemorySwappiness",
		`{"Image":"busybox","Domainname":"example.org"}`:           "Domainname",
	} {
		_, err := createOptions("", decodeCreate(t, body))
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("%s: got %v, want an error naming %q", body, err, want)
		}
		if code := statusOf(err); err != nil && code != http.StatusBadRequest && code != http.StatusNotFound {
			t.Errorf("%s: status %d", body, code)
		}
	}
	// A healthcheck that is off is no change.
	if _, err := createOptions("", decodeCreate(t, `{"Image":"busybox","Healthcheck":{"Test":["NONE"]},"HostConfig":{"NetworkMode":"bridge","IpcMode":"private","MemorySwappiness":-1}}`)); err != nil {
		t.Errorf("defaults refused: %v", err)
	}
}

func TestCheckVersion(t *testing.T) {
	for v, ok := range map[string]bool{"1.24": true, "1.41": true, "1.57": true, "1.9": false, "1.58": false, "2.0": false, "1.100": false} {
		if err := checkVersion(v); (err == nil) != ok {
			t.Errorf("checkVersion(%s) = %v, want ok=%v", v, err, ok)
		}
	}
}

// The framing is the one docker's own reader (pkg/stdcopy) takes apart.
func TestFramedOutputs(t *testing.T) {
	var buf bytes.Buffer
	out, errw := outputs(&buf, false)
	out.Write([]byte("one\n"))
	errw.Write([]byte("two\n"))
	out.Write([]byte("three\n"))
	var o, e bytes.Buffer
	if _, err := stdcopy.StdCopy(&o, &e, &buf); err != nil {
		t.Fatal(err)
	}
	if o.String() != "one\nthree\n" || e.String() != "two\n" {
		t.Errorf("stdout %q, stderr %q", o.String(), e.String())
	}
	buf.Reset()
	out, errw = outputs(&buf, true)
	out.Write([]byte("a"))
	errw.Write([]byte("b"))
	if buf.String() != "ab" {
		t.Errorf("raw stream: %q", buf.String())
	}
}

func TestEventFilterAndShape(t *testing.T) {
	f, err := eventFilter(filterArgs{"type": {"container": true}, "event": {"die": true}, "container": {"web": true}})
	if err != nil {
		t.Fatal(err)
	}
	if len(f.Types) != 1 || len(f.Statuses) != 1 || f.Statuses[0] != events.Died || len(f.Containers) != 1 {
		t.Errorf("filter: %+v", f)
	}
	if _, err := eventFilter(filterArgs{"nosuch": {"x": true}}); err == nil {
		t.Error("an unknown filter is accepted")
	}
	m := dockerEvent(events.Event{Type: events.Container, Status: events.Died, ID: "abc", Name: "web", Image: "busybox", ContainerExitCode: 3})
	if m.Action != "die" || m.Actor.Attributes["exitCode"] != "3" || m.Actor.Attributes["name"] != "web" {
		t.Errorf("event: %+v", m)
	}
}
