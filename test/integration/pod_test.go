package integration

import (
	"encoding/json"
	"fmt"
	"net"
	"regexp"
	"sort"
	"strings"
	"testing"
	"time"
)

// newPod creates a pod removed at the end of the test.
func newPod(t *testing.T, name string, args ...string) string {
	t.Helper()
	id := strings.TrimSpace(ok(t, append([]string{"pod", "create", "--name", name}, args...)...))
	t.Cleanup(func() { sbRaw(nil, "pod", "rm", "-f", "-i", name) })
	return id
}

// TestPodSharedLocalhost: members of a pod reach each other on
// 127.0.0.1, share IPC and UTS, and the pod's published port reaches a
// member from the host. Stop stops every member then the infra; rm
// removes them all.
func TestPodSharedLocalhost(t *testing.T) {
	t.Parallel()
	port := freePorts(t, 1)[0]
	podID := newPod(t, "pk-web", "-p", fmt.Sprintf("127.0.0.1:%d:80", port))
	web := detached(t, "--pod", "pk-web", "--name", "pk-web-srv", "busybox", "sh", "-c",
		"echo hello-pod > /tmp/index.html; exec httpd -f -p 80 -h /tmp")
	out := run(t, "--pod", "pk-web", "busybox", "sh", "-c", httpGet("127.0.0.1", 80)+"; hostname; readlink /proc/self/ns/ipc; readlink /proc/self/ns/uts")
	if !strings.Contains(out, "hello-pod") {
		t.Fatalf("a member did not reach the other on localhost:\n%s", out)
	}
	if !strings.Contains(out, "\npk-web\n") {
		t.Errorf("the member's host name is not the pod's:\n%s", out)
	}
	ns := strings.TrimSpace(ok(t, "exec", web, "sh", "-c", "readlink /proc/self/ns/ipc; readlink /proc/self/ns/uts"))
	if !strings.HasSuffix(strings.TrimSpace(out), ns) {
		t.Errorf("IPC and UTS namespaces differ: member %q, other %q", ns, out)
	}
	eventually(t, 5*time.Second, func() error {
		body, err := get(fmt.Sprintf("http://127.0.0.1:%d/index.html", port))
		if err == nil && !strings.Contains(body, "hello-pod") {
			err = fmt.Errorf("body %q", body)
		}
		return err
	})

	ps := ok(t, "ps", "-a", "--pod", "--filter", "pod=pk-web", "--format", "{{.Names}} {{.PodName}} {{.Pod}} {{.State}} {{.Ports}}")
	if !strings.Contains(ps, fmt.Sprintf("pk-web-srv pk-web %s running 127.0.0.1:%d->80/tcp", podID[:12], port)) || !strings.Contains(ps, "-infra pk-web") {
		t.Errorf("ps --pod --filter pod=:\n%s", ps)
	}
	detached(t, "--pod", "pk-web", "busybox", "sh", "-c", "echo from-a-member; exec sleep 60")
	eventually(t, 5*time.Second, func() error {
		if out := ok(t, "pod", "logs", "pk-web"); !strings.Contains(out, "from-a-member") {
			return fmt.Errorf("pod logs: %q", out)
		}
		return nil
	})
	var pods []struct{ Id, Name, Status string }
	if err := json.Unmarshal([]byte(ok(t, "pod", "ps", "--format", "json", "--filter", "name=^pk-web$")), &pods); err != nil || len(pods) != 1 || pods[0].Status != "Running" {
		t.Fatalf("pod ps: %+v %v", pods, err)
	}
	fails(t, 125, []string{"infra container", "pod rm"}, "rm", "-f", podID[:12]+"-infra")
	fails(t, 125, []string{"running containers", "pod rm -f"}, "pod", "rm", "pk-web")

	ok(t, "pod", "stop", "-t", "1", "pk-web")
	if st := strings.TrimSpace(ok(t, "pod", "inspect", "--format", "{{.State}}", "pk-web")); st != "Exited" {
		t.Errorf("after pod stop the pod is %q", st)
	}
	// A member's own start starts the infra first.
	ok(t, "start", "pk-web-srv")
	if st := strings.TrimSpace(ok(t, "pod", "inspect", "--format", "{{.State}}", "pk-web")); st != "Degraded" {
		t.Errorf("after the start of one member the pod is %q", st)
	}
	ok(t, "pod", "start", "pk-web")
	if st := strings.TrimSpace(ok(t, "pod", "inspect", "--format", "{{.State}}", "pk-web")); st != "Running" {
		t.Errorf("after pod start the pod is %q", st)
	}
	eventually(t, 5*time.Second, func() error {
		_, err := get(fmt.Sprintf("http://127.0.0.1:%d/index.html", port))
		return err
	})
	if got := strings.TrimSpace(ok(t, "pod", "rm", "-f", "pk-web")); got != podID {
		t.Errorf("pod rm printed %q, want %s", got, podID)
	}
	if r := sb(t, "pod", "exists", "pk-web"); r.code != 1 {
		t.Errorf("pod exists after rm: %s", r)
	}
	if left := ok(t, "ps", "-a", "--filter", "pod="+podID, "-q"); left != "" {
		t.Errorf("containers left after pod rm: %s", left)
	}
}

// TestPodBadInput: each refusal is one line, exit 125, and leaves no pod,
// container or infra behind.
func TestPodBadInput(t *testing.T) {
	t.Parallel()
	newPod(t, "pk-bad")
	before := ok(t, "ps", "-aq", "--filter", "pod=pk-bad")
	fails(t, 125, []string{"pk-bad", "in use"}, "pod", "create", "--name", "pk-bad")
	fails(t, 125, []string{"--pod and --network"}, "run", "--rm", "--pod", "pk-bad", "--network", "none", "busybox", "true")
	fails(t, 125, []string{"ports must be defined when the pod is created"}, "run", "--rm", "--pod", "pk-bad", "-p", "8080:80", "busybox", "true")
	fails(t, 125, []string{"no pod with name or ID pk-nosuch found"}, "run", "--rm", "--pod", "pk-nosuch", "busybox", "true")
	fails(t, 125, []string{`"pid" cannot be shared`}, "pod", "create", "--name", "pk-bad2", "--share", "net,pid")
	busy, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer busy.Close()
	busyPort := busy.Addr().(*net.TCPAddr).Port
	fails(t, 125, []string{fmt.Sprint(busyPort), "in use"}, "pod", "create", "--name", "pk-bad2", "-p", fmt.Sprintf("127.0.0.1:%d:80", busyPort))
	if out := ok(t, "ps", "-a", "--filter", "pod=pk-bad2", "-q"); out != "" {
		t.Errorf("a refused pod left its infra container: %s", out)
	}
	if after := ok(t, "ps", "-aq", "--filter", "pod=pk-bad"); after != before {
		t.Errorf("containers of the pod changed: %q, then %q", before, after)
	}
	if out := ok(t, "pod", "ps", "-q", "--filter", "name=^pk-bad2$"); out != "" {
		t.Errorf("a refused pod was made: %s", out)
	}
	if out := ok(t, "pod", "ps", "--format", "{{.Name}}", "--filter", "name=^pk-bad$"); strings.TrimSpace(out) != "pk-bad" {
		t.Errorf("pod ps: %q", out)
	}
}

// TestPodAgainstPodman: pod ps's columns, the keys of pod ps --format json
// and pod inspect, a new pod's state and the exit codes of a pod that is
// not there are podman's.
func TestPodAgainstPodman(t *testing.T) {
	t.Parallel()
	p := newReference(t)
	p.ok(t, "pod", "create", "--name", "pk-ref", "--label", "tier=web")
	t.Cleanup(func() { p.run("pod", "rm", "-f", "pk-ref") })
	newPod(t, "pk-ref", "--label", "tier=web")

	header := func(out string) string {
		line, _, _ := strings.Cut(out, "\n")
		return strings.Join(regexp.MustCompile(`\s{2,}`).Split(strings.TrimSpace(line), -1), "|")
	}
	if got, want := header(ok(t, "pod", "ps")), header(p.ok(t, "pod", "ps")); got != want {
		t.Errorf("pod ps columns %q, podman's %q", got, want)
	}
	keys := func(t *testing.T, data string, array bool) map[string]any {
		t.Helper()
		var v map[string]any
		if array {
			var list []map[string]any
			if err := json.Unmarshal([]byte(data), &list); err != nil || len(list) != 1 {
				t.Fatalf("%v: %s", err, data)
			}
			v = list[0]
		} else if err := json.Unmarshal([]byte(data), &v); err != nil {
			t.Fatalf("%v: %s", err, data)
		}
		return v
	}
	for _, tc := range []struct {
		args  []string
		array bool
		same  []string // keys whose values must match
	}{
		{[]string{"pod", "ps", "--format", "json", "--filter", "name=pk-ref"}, true, []string{"Name", "Status", "Labels"}},
		{[]string{"pod", "inspect", "pk-ref"}, false, []string{"Name", "State", "Labels", "CreateInfra", "SharedNamespaces", "NumContainers"}},
	} {
		ours, theirs := keys(t, ok(t, tc.args...), tc.array), keys(t, p.ok(t, tc.args...), tc.array)
		for k := range ours {
			if _, found := theirs[k]; !found {
				t.Errorf("%s: key %q is not podman's", strings.Join(tc.args, " "), k)
			}
		}
		for _, k := range tc.same {
			if a, b := sameOrder(ours[k]), sameOrder(theirs[k]); a != b {
				t.Errorf("%s: %s is %s, podman's %s", strings.Join(tc.args, " "), k, a, b)
			}
		}
	}
	for _, args := range [][]string{{"pod", "rm", "pk-nosuch"}, {"pod", "stop", "pk-nosuch"}, {"pod", "inspect", "pk-nosuch"}, {"pod", "exists", "pk-nosuch"}} {
		if ours, theirs := sb(t, args...), p.run(args...); ours.code != theirs.code {
			t.Errorf("%s: exit %d, podman's %d", strings.Join(args, " "), ours.code, theirs.code)
		}
	}
}

// sameOrder prints a JSON value, a list sorted first: podman lists a pod's
// shared namespaces in no fixed order.
func sameOrder(v any) string {
	if list, ok := v.([]any); ok {
		words := make([]string, len(list))
		for i, w := range list {
			words[i] = fmt.Sprint(w)
		}
		sort.Strings(words)
		return fmt.Sprint(words)
	}
	return fmt.Sprint(v)
}
