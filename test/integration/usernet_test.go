package integration

// Rootless integration tests of user-defined networks: names, aliases
// and addresses on one network, isolation between networks, --internal,
// the way out, published ports that keep the client's address (TCP and
// UDP), the holder killed and re-made, and every bad input.

import (
	"encoding/json"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"
)

// hostAddr is a non-loopback IPv4 address of the host: a client there is
// not on the host's loopback, so a published port keeps its address.
func hostAddr(t *testing.T) net.IP {
	t.Helper()
	addrs, err := net.InterfaceAddrs()
	if err != nil {
		t.Fatal(err)
	}
	for _, a := range addrs {
		if n, ok := a.(*net.IPNet); ok && n.IP.To4() != nil && !n.IP.IsLoopback() {
			return n.IP.To4()
		}
	}
	t.Fatal("the host has no IPv4 address but loopback's: a client address cannot be told from the gateway")
	return nil
}

// hostNet is the host's network of ip, which no user network may overlap.
func hostNet(t *testing.T, ip net.IP) string {
	t.Helper()
	addrs, err := net.InterfaceAddrs()
	if err != nil {
		t.Fatal(err)
	}
	for _, a := range addrs {
		if n, ok := a.(*net.IPNet); ok && n.IP.Equal(ip) {
			return (&net.IPNet{IP: n.IP.Mask(n.Mask), Mask: n.Mask}).String()
		}
	}
	t.Fatalf("no network of %s", ip)
	return ""
}

// userNetwork creates a network named after the test and removes it (and
// its containers) at the end.
func userNetwork(t *testing.T, suffix string, args ...string) string {
	t.Helper()
	name := fmt.Sprintf("un%d%s", time.Now().UnixNano()%1e9, suffix)
	if out := ok(t, append(append([]string{"network", "create"}, args...), name)...); strings.TrimSpace(out) != name {
		t.Fatalf("network create printed %q", out)
	}
	t.Cleanup(func() { sbRaw(nil, "network", "rm", "-f", name) })
	return name
}

type netInspect struct {
	Name       string
	ID         string
	Internal   bool
	Subnets    []struct{ Subnet, Gateway string }
	Containers map[string]struct {
		Name string
		IP   string
	}
}

func inspectNetwork(t *testing.T, name string) netInspect {
	t.Helper()
	var out []netInspect
	if err := json.Unmarshal([]byte(ok(t, "network", "inspect", name)), &out); err != nil || len(out) != 1 {
		t.Fatalf("network inspect %s: %v %v", name, out, err)
	}
	return out[0]
}

// memberIP is the address of container id on network name.
func memberIP(t *testing.T, name, id string) string {
	t.Helper()
	m, found := inspectNetwork(t, name).Containers[id]
	if !found {
		t.Fatalf("container %.12s is not on network %s", id, name)
	}
	return m.IP
}

// holderVeths lists the veths in the holder's namespace of this run's
// store: one per running member.
func holderVeths(t *testing.T) []string {
	t.Helper()
	data, err := os.ReadFile(filepath.Join(env.runroot, "usernet", "holder.pid"))
	if err != nil {
		t.Fatal(err)
	}
	f := strings.Fields(string(data))
	out := ok(t, "unshare", "nsenter", "--net=/proc/"+f[0]+"/task/"+f[2]+"/ns/net", "ip", "-o", "link")
	var veths []string
	for _, line := range strings.Split(out, "\n") {
		if fs := strings.Fields(line); len(fs) > 1 && strings.HasPrefix(fs[1], "sv") {
			veths = append(veths, strings.Split(strings.TrimSuffix(fs[1], ":"), "@")[0])
		}
	}
	return veths
}

func TestUserNetworks(t *testing.T) {
	t.Parallel()
	front, back := userNetwork(t, "a"), userNetwork(t, "b")
	web := fmt.Sprintf("web%d", time.Now().UnixNano()%1e9)
	id := httpd(t, front, "hello-user-net", "--name", web, "--network-alias", web+"-alias")
	ip := memberIP(t, front, id)
	if out := ok(t, "inspect", "-f", `{{(index .NetworkSettings.Networks "`+front+`").IPAddress}}`, id); strings.TrimSpace(out) != ip {
		t.Errorf("inspect NetworkSettings.Networks.%s.IPAddress: %q, want %s", front, out, ip)
	}

	t.Run("NameAliasAndIP", func(t *testing.T) {
		for _, host := range []string{web, web + "-alias", ip} {
			out := run(t, "--network", front, "busybox", "sh", "-c", httpGet(host, 80))
			if !strings.Contains(out, "hello-user-net") {
				t.Errorf("GET http://%s/ from the same network: %q", host, out)
			}
		}
	})
	t.Run("GeneratedNameAndRename", func(t *testing.T) {
		anon := httpd(t, front, "hello-anon")
		name := strings.TrimPrefix(strings.TrimSpace(ok(t, "inspect", "-f", "{{.Name}}", anon)), "/")
		if out := run(t, "--network", front, "busybox", "sh", "-c", httpGet(name, 80)); !strings.Contains(out, "hello-anon") {
			t.Errorf("GET http://%s/ (a generated name): %q", name, out)
		}
		renamed := name + "-renamed"
		ok(t, "rename", anon, renamed)
		if out := run(t, "--network", front, "busybox", "sh", "-c", httpGet(renamed, 80)); !strings.Contains(out, "hello-anon") {
			t.Errorf("GET http://%s/ after rename: %q", renamed, out)
		}
	})
	t.Run("OtherNetworkCannot", func(t *testing.T) {
		out := run(t, "--network", back, "busybox", "sh", "-c", httpGet(ip, 80)+" || echo unreachable")
		if strings.Contains(out, "hello-user-net") || !strings.Contains(out, "unreachable") {
			t.Errorf("a container on another network reached %s: %q", ip, out)
		}
	})
	t.Run("WayOutAndInternal", func(t *testing.T) {
		host := hostAddr(t)
		l, err := net.Listen("tcp4", host.String()+":0")
		if err != nil {
			t.Fatal(err)
		}
		defer l.Close()
		go func() {
			for {
				c, err := l.Accept()
				if err != nil {
					return
				}
				fmt.Fprintln(c, "outbound-ok")
				c.Close()
			}
		}()
		port := l.Addr().(*net.TCPAddr).Port
		dial := fmt.Sprintf("timeout 5 nc -w 3 %s %d </dev/null || echo no-way-out", host, port)
		if out := run(t, "--network", front, "busybox", "sh", "-c", dial); !strings.Contains(out, "outbound-ok") {
			t.Errorf("outbound from a user network: %q", out)
		}
		internal := userNetwork(t, "i", "--internal")
		if !inspectNetwork(t, internal).Internal {
			t.Errorf("network inspect: not internal")
		}
		out := run(t, "--network", internal, "busybox", "sh", "-c", "ip route; "+dial)
		if strings.Contains(out, "outbound-ok") || strings.Contains(out, "default") {
			t.Errorf("an --internal network has a way out: %q", out)
		}
	})
	t.Run("PublishedPortKeepsClientAddress", func(t *testing.T) {
		host := hostAddr(t)
		port := freeHostPort(t, "tcp")
		srv := detached(t, "--network", front, "-p", fmt.Sprintf("%d:80", port), "busybox", "sh", "-c",
			"echo published > /tmp/index.html; exec httpd -f -vv -p 80 -h /tmp")
		eventually(t, 10*time.Second, func() error {
			body, err := get(fmt.Sprintf("http://%s:%d/index.html", host, port))
			if err != nil || body != "published\n" {
				return fmt.Errorf("GET through -p %d on a user network: %q %v", port, body, err)
			}
			return nil
		})
		eventually(t, 5*time.Second, func() error {
			if r := sb(t, "logs", srv); !strings.Contains(r.stdout+r.stderr, "["+"::ffff:"+host.String()+"]") {
				return fmt.Errorf("the server did not see the client's address %s: %s", host, r)
			}
			return nil
		})
		// UDP: the echo server logs whom it answered.
		uport := freeHostPort(t, "udp")
		echo := detached(t, "--network", front, "-p", fmt.Sprintf("%d:9000/udp", uport), "-v", helperBin(t)+":/helper:ro",
			"busybox", "/helper", "udp-echo", "9000")
		conn, err := net.Dial("udp4", net.JoinHostPort(host.String(), strconv.Itoa(uport)))
		if err != nil {
			t.Fatal(err)
		}
		defer conn.Close()
		eventually(t, 10*time.Second, func() error {
			conn.SetDeadline(time.Now().Add(500 * time.Millisecond))
			if _, err := conn.Write([]byte("ping")); err != nil {
				return err
			}
			b := make([]byte, 16)
			n, err := conn.Read(b)
			if err != nil || string(b[:n]) != "ping" {
				return fmt.Errorf("UDP echo through -p on a user network: %q %v", b[:n], err)
			}
			return nil
		})
		if logs := ok(t, "logs", echo); !strings.Contains(logs, "from "+host.String()+":") {
			t.Errorf("the UDP server did not see the client's address %s: %q", host, logs)
		}
	})
}

// TestUserNetworkHolderKilled is not parallel: it kills the holder that
// the other tests' networks are in. Two members run while it is killed;
// the next start on the network starts a holder that puts them back,
// and their published ports follow.
func TestUserNetworkHolderKilled(t *testing.T) {
	n := userNetwork(t, "k")
	tag := time.Now().UnixNano() % 1e9
	a, b, c := fmt.Sprintf("ka%d", tag), fmt.Sprintf("kb%d", tag), fmt.Sprintf("kc%d", tag)
	port := freePorts(t, 1)[0]
	httpd(t, n, "from-a", "--name", a, "-p", fmt.Sprintf("127.0.0.1:%d:80", port))
	httpd(t, n, "from-b", "--name", b)
	reach := func(from, to, body string) {
		t.Helper()
		eventually(t, 10*time.Second, func() error {
			if out := sb(t, "exec", from, "sh", "-c", httpGet(to, 80)).stdout; !strings.Contains(out, body) {
				return fmt.Errorf("GET http://%s/ from %s: %q", to, from, out)
			}
			return nil
		})
	}
	reach(a, b, "from-b")
	data, err := os.ReadFile(filepath.Join(env.runroot, "usernet", "holder.pid"))
	if err != nil {
		t.Fatal(err)
	}
	pid, err := strconv.Atoi(strings.Fields(string(data))[0])
	if err != nil {
		t.Fatal(err)
	}
	if err := syscall.Kill(pid, syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	httpd(t, n, "from-c", "--name", c)
	data2, err := os.ReadFile(filepath.Join(env.runroot, "usernet", "holder.pid"))
	if err != nil || string(data2) == string(data) {
		t.Errorf("no new holder: %q %v", data2, err)
	}
	reach(a, b, "from-b")
	reach(b, a, "from-a")
	reach(a, c, "from-c")
	reach(c, b, "from-b")
	// a's published port reaches it in the new holder's namespace.
	eventually(t, 10*time.Second, func() error {
		if body, err := get(fmt.Sprintf("http://127.0.0.1:%d/index.html", port)); err != nil || body != "from-a\n" {
			return fmt.Errorf("GET through -p %d after the holder restarted: %q %v", port, body, err)
		}
		return nil
	})
}

func TestUserNetworkBadInput(t *testing.T) {
	t.Parallel()
	n := userNetwork(t, "x")
	subnet := inspectNetwork(t, n).Subnets[0].Subnet
	member := fmt.Sprintf("m%d", time.Now().UnixNano()%1e9)
	detached(t, "--network", n, "--name", member, "--network-alias", member+"-a", "busybox", "sleep", "60")

	fails(t, 125, []string{n, "already"}, "network", "create", n)
	fails(t, 125, []string{subnet, "overlaps"}, "network", "create", "--subnet", subnet, n+"-2")
	host := hostNet(t, hostAddr(t))
	fails(t, 125, []string{host, "overlaps", "route"}, "network", "create", "--subnet", host, n+"-3")
	fails(t, 125, []string{"--gateway"}, "network", "create", "--subnet", "10.123.0.0/24", "--gateway", "10.124.0.1", n+"-4")
	fails(t, 125, []string{"invalid network name"}, "network", "create", "bad/name")
	fails(t, 125, []string{"no-such-net", "not found"}, "run", "--rm", "--network", "no-such-net", "busybox", "true")
	fails(t, 125, []string{member + "-a", "already used"}, "run", "--rm", "--network", n, "--network-alias", member+"-a", "busybox", "true")
	fails(t, 125, []string{"--ip"}, "run", "--rm", "--network", n, "--ip", "10.250.0.9", "busybox", "true")
	fails(t, 2, []string{n, member}, "network", "rm", n)
	fails(t, 1, []string{"no-such-net"}, "network", "rm", "no-such-net")
	if r := sb(t, "network", "exists", "no-such-net"); r.code != 1 || r.stdout+r.stderr != "" {
		t.Errorf("network exists of nothing: %s", r)
	}
	ok(t, "network", "exists", n)

	// Nothing was left half-made: no container, no veth, no record.
	if ids := strings.Fields(ok(t, "ps", "-aq", "--filter", "network="+n)); len(ids) != 1 {
		t.Errorf("containers on %s after the refusals: %q", n, ids)
	}
	// Every veth in the holder's namespace is a running container's
	// (a stopped one's goes with its namespace, which the kernel frees
	// a moment later).
	eventually(t, 10*time.Second, func() error {
		running := ok(t, "ps", "-q")
		for _, v := range holderVeths(t) {
			if id := strings.TrimPrefix(v, "sv")[:12]; !strings.Contains(running, id) {
				return fmt.Errorf("veth %s is no running container's (running: %q)", v, running)
			}
		}
		return nil
	})
	if m := inspectNetwork(t, n).Containers; len(m) != 1 {
		t.Errorf("network members after the refusals: %v", m)
	}
	for _, s := range []string{"-2", "-3", "-4"} {
		if r := sb(t, "network", "exists", n+s); r.code != 1 {
			t.Errorf("a refused network was recorded: %s", r)
		}
	}
	if out := ok(t, "network", "ls", "-q", "--filter", "name="+n); strings.TrimSpace(out) != n {
		t.Errorf("network ls -q --filter name=%s: %q", n, out)
	}
	// rm -f removes the network with its containers.
	ok(t, "network", "rm", "-f", n)
	if r := sb(t, "container", "exists", member); r.code != 1 {
		t.Errorf("network rm -f left its container: %s", r)
	}
}

// TestDefaultNetworkClientAddress: on the default network too, a server
// behind a published port sees the client's own address.
func TestDefaultNetworkClientAddress(t *testing.T) {
	t.Parallel()
	host := hostAddr(t)
	port := freeHostPort(t, "tcp")
	srv := detached(t, "-p", fmt.Sprintf("%d:80", port), "busybox", "sh", "-c",
		"echo default > /tmp/index.html; exec httpd -f -vv -p 80 -h /tmp")
	eventually(t, 10*time.Second, func() error {
		body, err := get(fmt.Sprintf("http://%s:%d/index.html", host, port))
		if err != nil || body != "default\n" {
			return fmt.Errorf("GET through -p %d: %q %v", port, body, err)
		}
		return nil
	})
	eventually(t, 5*time.Second, func() error {
		if r := sb(t, "logs", srv); !strings.Contains(r.stdout+r.stderr, "[::ffff:"+host.String()+"]") {
			return fmt.Errorf("the server did not see the client's address %s: %s", host, r)
		}
		return nil
	})
}

// TestUserNetworkCommands: connect and disconnect a container that is not
// running and one that runs, ls's forms, prune.
func TestUserNetworkCommands(t *testing.T) {
	t.Parallel()
	n := userNetwork(t, "c", "--label", "team=blue")
	name := fmt.Sprintf("late%d", time.Now().UnixNano()%1e9)
	id := strings.TrimSpace(ok(t, "create", "--name", name, "busybox", "sh", "-c", "echo joined > /tmp/index.html; exec httpd -f -p 80 -h /tmp"))
	t.Cleanup(func() { sbRaw(nil, "rm", "-f", id) })
	ok(t, "network", "connect", "--alias", name+"-a", n, name)
	fails(t, 125, []string{"already connected"}, "network", "connect", n, name)
	ok(t, "start", name)
	if out := run(t, "--network", n, "busybox", "sh", "-c", httpGet(name+"-a", 80)); !strings.Contains(out, "joined") {
		t.Errorf("a connected container by its alias: %q", out)
	}
	// A running container on another user network is connected and
	// disconnected at once; one on the default network is refused.
	client := detached(t, "--network", userNetwork(t, "e"), "busybox", "sleep", "60")
	ok(t, "network", "connect", n, client)
	if out := sb(t, "exec", client, "sh", "-c", httpGet(name+"-a", 80)).stdout; !strings.Contains(out, "joined") {
		t.Errorf("a running container connected: GET http://%s-a/: %q", name, out)
	}
	if out := ok(t, "ps", "-q", "--no-trunc", "--filter", "network="+n); !strings.Contains(out, client) {
		t.Errorf("ps --filter network=%s (the container's second network): %q", n, out)
	}
	ok(t, "network", "disconnect", n, client)
	if out := sb(t, "exec", client, "sh", "-c", "ip -o link; "+httpGet(name+"-a", 80)).stdout; strings.Contains(out, "joined") || strings.Contains(out, "eth1") {
		t.Errorf("a running container disconnected still reaches the network: %q", out)
	}
	if m, found := inspectNetwork(t, n).Containers[client]; found {
		t.Errorf("still a member after a running disconnect: %v", m)
	}
	evs := ok(t, "events", "--stream=false", "--filter", "type=network")
	nid := inspectNetwork(t, n).ID
	for _, want := range []string{"network create " + nid + " " + n, "network connect " + client + " (container=" + client + ", name=" + n + ")",
		"network disconnect " + client + " (container=" + client + ", name=" + n + ")"} {
		if !strings.Contains(evs, want) {
			t.Errorf("events --filter type=network: no %q in\n%s", want, evs)
		}
	}
	plain := detached(t, "busybox", "sleep", "60")
	fails(t, 125, []string{"stop it first"}, "network", "connect", n, plain)
	ok(t, "stop", "-t", "0", name)
	ok(t, "network", "disconnect", n, name)
	if m, found := inspectNetwork(t, n).Containers[id]; found {
		t.Errorf("still a member after disconnect: %v", m)
	}
	if out := ok(t, "network", "ls", "--filter", "label=team=blue", "--format", "{{.Name}} {{.Driver}}"); strings.TrimSpace(out) != n+" bridge" {
		t.Errorf("network ls --filter label= --format: %q", out)
	}
	if out := ok(t, "network", "ls", "--format", "json"); !strings.Contains(out, `"name": "`+n+`"`) {
		t.Errorf("network ls --format json: %q", out)
	}
	other := userNetwork(t, "p", "--label", "team=blue")
	detached(t, "--network", other, "busybox", "sleep", "60")
	// Only the networks labelled so: other tests' networks are pruned
	// by nobody but themselves.
	// (The --rm client above leaves the network a moment after run
	// returns: prune again until it has.)
	var pruned string
	eventually(t, 10*time.Second, func() error {
		pruned += ok(t, "network", "prune", "-f", "--filter", "label=team=blue")
		if !strings.Contains(pruned, n) {
			return fmt.Errorf("network prune -f did not remove %s, which has no members: %q", n, pruned)
		}
		return nil
	})
	if strings.Contains(pruned, other) {
		t.Errorf("network prune -f removed %s, which has a member: %q", other, pruned)
	}
}

// TestPodOnUserNetwork: a pod on a user-defined network is reached there
// by its name, its alias and its members' names (play kube's too), its
// published port reaches its member, and another network reaches none.
func TestPodOnUserNetwork(t *testing.T) {
	t.Parallel()
	n, other := userNetwork(t, "p"), userNetwork(t, "q")
	tag := time.Now().UnixNano() % 1e9
	podName, member := fmt.Sprintf("pn%d", tag), fmt.Sprintf("pm%d", tag)
	port := freePorts(t, 1)[0]
	newPod(t, podName, "--network", n, "--network-alias", podName+"-alias", "-p", fmt.Sprintf("127.0.0.1:%d:80", port))
	detached(t, "--pod", podName, "--name", member, "busybox", "sh", "-c", "echo in-pod > /tmp/index.html; exec httpd -f -p 80 -h /tmp")
	infra := strings.TrimSpace(ok(t, "pod", "inspect", "-f", "{{.InfraContainerID}}", podName))
	ip := memberIP(t, n, infra)
	for _, host := range []string{podName, podName + "-alias", member, ip} {
		eventually(t, 10*time.Second, func() error {
			if out := sb(t, "run", "--rm", "--network", n, "busybox", "sh", "-c", httpGet(host, 80)).stdout; !strings.Contains(out, "in-pod") {
				return fmt.Errorf("GET http://%s/ from the pod's network: %q", host, out)
			}
			return nil
		})
	}
	if body, err := get(fmt.Sprintf("http://127.0.0.1:%d/index.html", port)); err != nil || body != "in-pod\n" {
		t.Errorf("GET through the pod's -p %d: %q %v", port, body, err)
	}
	out := run(t, "--network", other, "busybox", "sh", "-c", httpGet(member, 80)+"; "+httpGet(ip, 80)+" || echo unreachable")
	if strings.Contains(out, "in-pod") || !strings.Contains(out, "unreachable") {
		t.Errorf("a container on another network reached the pod: %q", out)
	}

	kp := fmt.Sprintf("kp%d", tag)
	y := "apiVersion: v1\nkind: Pod\nmetadata:\n  name: " + kp + "\nspec:\n  containers:\n  - name: web\n    image: busybox\n" +
		"    command: [sh, -c, 'echo played > /tmp/index.html; exec httpd -f -p 80 -h /tmp']\n"
	if r := sbWith(t, cmdOpts{stdin: y}, "play", "kube", "--network", n, "-"); r.code != 0 {
		t.Fatalf("play kube --network %s: %s", n, r)
	}
	t.Cleanup(func() { sbWith(t, cmdOpts{stdin: y}, "play", "kube", "--down", "-") })
	for _, host := range []string{kp, kp + "-web"} {
		eventually(t, 10*time.Second, func() error {
			if out := sb(t, "run", "--rm", "--network", n, "busybox", "sh", "-c", httpGet(host, 80)).stdout; !strings.Contains(out, "played") {
				return fmt.Errorf("GET http://%s/ (play kube --network): %q", host, out)
			}
			return nil
		})
	}
}
