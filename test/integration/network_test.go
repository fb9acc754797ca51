package integration

// Rootless integration tests of user-mode networking: one conformance
// suite that every backend (slirp4netns, pasta) passes, and the checks of
// the network flags.

import (
	"bufio"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"
)

// backends are the user-mode network backends under test, each with the
// option that lets a container reach the host's loopback.
var backends = []struct {
	name, loopback string
}{
	{"slirp4netns", "slirp4netns:allow_host_loopback=true"},
	{"pasta", "pasta:--map-gw"},
}

// freeHostPort is a TCP or UDP port free on the host right now.
func freeHostPort(t *testing.T, proto string) int {
	t.Helper()
	if proto == "udp" {
		c, err := net.ListenPacket("udp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		defer c.Close()
		return c.LocalAddr().(*net.UDPAddr).Port
	}
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port
}

func helperBin(t *testing.T) string {
	t.Helper()
	p := filepath.Join(env.repo, "bin", "testhelper")
	if _, err := os.Stat(p); err != nil {
		t.Fatalf("test helper: %v (hack/test-integration.sh builds it)", err)
	}
	return p
}

func TestNetworkBackends(t *testing.T) {
	t.Parallel()
	for _, b := range backends {
		t.Run(b.name, func(t *testing.T) {
			t.Parallel()
			t.Run("HTTPThroughPublishedPort", func(t *testing.T) { t.Parallel(); testHTTP(t, b.name) })
			t.Run("UDPEcho", func(t *testing.T) { t.Parallel(); testUDP(t, b.name) })
			t.Run("HostLoopback", func(t *testing.T) { t.Parallel(); testHostLoopback(t, b.name, b.loopback) })
			t.Run("ContainerToContainer", func(t *testing.T) { t.Parallel(); testContainerToContainer(t, b.name, b.loopback) })
			t.Run("NamesAndDNS", func(t *testing.T) { t.Parallel(); testNames(t, b.name) })
			t.Run("NoLeakedHelper", func(t *testing.T) { t.Parallel(); testNoLeak(t, b.name) })
			t.Run("PortFreeAfterExit", func(t *testing.T) { t.Parallel(); testPortFree(t, b.name) })
		})
	}
}

// httpGet is a shell command that fetches /index.html from host:port with
// nc (busybox's wget crashes in static builds without NSS) and prints the
// whole response.
func httpGet(host string, port int) string {
	return fmt.Sprintf(`printf 'GET /index.html HTTP/1.0\r\n\r\n' | timeout 5 nc -w 3 %s %d`, host, port)
}

// httpd starts a busybox httpd serving body on port 80 of a container.
func httpd(t *testing.T, network, body string, args ...string) string {
	t.Helper()
	return detached(t, append(append([]string{"--network", network}, args...),
		"busybox", "sh", "-c", "echo "+body+" > /tmp/index.html; exec httpd -f -p 80 -h /tmp")...)
}

func get(url string) (string, error) {
	c := http.Client{Timeout: 3 * time.Second}
	resp, err := c.Get(url)
	if err != nil {
		return "", err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	return string(b), err
}

func testHTTP(t *testing.T, backend string) {
	port := freeHostPort(t, "tcp")
	id := httpd(t, backend, "hello-"+backend, "-p", fmt.Sprintf("%d:80", port))
	eventually(t, 10*time.Second, func() error {
		body, err := get(fmt.Sprintf("http://127.0.0.1:%d/index.html", port))
		if err != nil || body != "hello-"+backend+"\n" {
			return fmt.Errorf("GET through -p %d: %q %v", port, body, err)
		}
		return nil
	})
	if out := ok(t, "port", id); !strings.Contains(out, fmt.Sprintf("80/tcp -> 0.0.0.0:%d", port)) {
		t.Errorf("port: %q", out)
	}
	if out := ok(t, "inspect", "-f", "{{json .NetworkSettings.Ports}}", id); !strings.Contains(out, fmt.Sprintf(`"80/tcp":[{"HostIp":"0.0.0.0","HostPort":"%d"}]`, port)) {
		t.Errorf("inspect NetworkSettings.Ports: %s", out)
	}
	if out := ok(t, "ps", "--filter", "id="+id, "--format", "{{.Ports}}"); strings.TrimSpace(out) != fmt.Sprintf("0.0.0.0:%d->80/tcp", port) {
		t.Errorf("ps PORTS: %q", out)
	}
	// The port is in use now: another container cannot publish it.
	fails(t, 125, []string{fmt.Sprint(port), "in use"}, "run", "--rm", "--network", backend, "-p", fmt.Sprintf("%d:80", port), "busybox", "true")
	// And it is free again once the container is gone.
	ok(t, "rm", "-f", id)
	eventually(t, 5*time.Second, func() error {
		l, err := net.Listen("tcp", fmt.Sprintf("127.0.0.1:%d", port))
		if err != nil {
			return fmt.Errorf("port %d not released: %v", port, err)
		}
		return l.Close()
	})
}

func testUDP(t *testing.T, backend string) {
	port := freeHostPort(t, "udp")
	detached(t, "--network", backend, "-p", fmt.Sprintf("%d:9000/udp", port), "-v", helperBin(t)+":/helper:ro", "busybox", "/helper", "udp-echo", "9000")
	conn, err := net.Dial("udp", fmt.Sprintf("127.0.0.1:%d", port))
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	eventually(t, 10*time.Second, func() error {
		conn.SetDeadline(time.Now().Add(300 * time.Millisecond))
		if _, err := conn.Write([]byte("ping-" + backend)); err != nil {
			return err
		}
		buf := make([]byte, 64)
		n, err := conn.Read(buf)
		if err != nil || string(buf[:n]) != "ping-"+backend {
			return fmt.Errorf("UDP echo through -p %d/udp: %q %v", port, buf[:n], err)
		}
		return nil
	})
}

// hostServer listens on the host's loopback and greets each client.
func hostServer(t *testing.T) int {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { l.Close() })
	go func() {
		for {
			c, err := l.Accept()
			if err != nil {
				return
			}
			io.WriteString(c, "greetings-from-host\n")
			c.Close()
		}
	}()
	return l.Addr().(*net.TCPAddr).Port
}

func testHostLoopback(t *testing.T, backend, allow string) {
	port := hostServer(t)
	// timeout: pasta of 2023 does not pass the server's end of stream on.
	script := fmt.Sprintf("timeout 5 nc -w 3 host.containers.internal %d </dev/null || echo refused", port)
	if out := run(t, "--network", allow, "busybox", "sh", "-c", script); !strings.Contains(out, "greetings-from-host") {
		t.Errorf("with %s the container does not reach the host's loopback: %q", allow, out)
	}
	if out := run(t, "--network", backend, "busybox", "sh", "-c", script); strings.Contains(out, "greetings-from-host") {
		t.Errorf("by default the container reaches the host's loopback: %q", out)
	}
}

func testContainerToContainer(t *testing.T, backend, allow string) {
	port := freeHostPort(t, "tcp")
	httpd(t, backend, "from-a-"+backend, "-p", fmt.Sprintf("%d:80", port))
	eventually(t, 10*time.Second, func() error {
		out := sb(t, "run", "--rm", "--network", allow, "busybox", "sh", "-c", httpGet("host.containers.internal", port))
		if !strings.HasSuffix(out.stdout, "\r\n\r\nfrom-a-"+backend+"\n") {
			return fmt.Errorf("container b through a's published port: %s", out)
		}
		return nil
	})
}

func testNames(t *testing.T, backend string) {
	out := run(t, "--network", backend, "--hostname", "named", "--name", "names-"+backend,
		"--add-host", "db.example:10.9.8.7", "--add-host", "gw:host-gateway",
		"--dns", "192.0.2.53", "--dns-search", "example.org", "--dns-option", "ndots:3",
		"busybox", "sh", "-c", "cat /etc/hosts; echo ---; cat /etc/resolv.conf")
	hosts, resolv, _ := strings.Cut(out, "---\n")
	for _, want := range []string{"127.0.0.1\tlocalhost", "named names-" + backend, "host.containers.internal", "10.9.8.7\tdb.example"} {
		if !strings.Contains(hosts, want) {
			t.Errorf("/etc/hosts lacks %q:\n%s", want, hosts)
		}
	}
	if !strings.Contains(hosts, "\tgw\n") || strings.Contains(hosts, "host-gateway") {
		t.Errorf("--add-host gw:host-gateway not resolved:\n%s", hosts)
	}
	for _, want := range []string{"nameserver 192.0.2.53", "search example.org", "options ndots:3"} {
		if !strings.Contains(resolv, want) {
			t.Errorf("/etc/resolv.conf lacks %q:\n%s", want, resolv)
		}
	}
	if strings.Contains(resolv, "nameserver 127.") {
		t.Errorf("a loopback nameserver the container cannot reach:\n%s", resolv)
	}
}

// backendOf finds the user-mode backend process serving a container: a
// child of its monitor.
func backendOf(t *testing.T, id, backend string) int {
	t.Helper()
	monitor := parentPid(t, waitState(t, id, "running").Pid)
	out, _ := exec.Command("pgrep", "-P", fmt.Sprint(monitor)).Output()
	for _, f := range strings.Fields(string(out)) {
		var pid int
		fmt.Sscan(f, &pid)
		// Debian's pasta is passt under another name, run as passt.avx2
		// where the CPU has AVX2.
		prefix := backend
		if backend == "pasta" {
			prefix = "pas"
		}
		if comm, err := os.ReadFile(fmt.Sprintf("/proc/%d/comm", pid)); err == nil && strings.HasPrefix(string(comm), prefix) {
			return pid
		}
	}
	t.Fatalf("no %s process under monitor %d", backend, monitor)
	return 0
}

// testPortFree: when run --rm returns, its published port is free again,
// whichever forwards it: the next run may publish it at once.
func testPortFree(t *testing.T, backend string) {
	for _, network := range []string{backend, backend + ":port_handler=" + backend} {
		port := freeHostPort(t, "tcp")
		for i := 0; i < 3; i++ {
			ok(t, "run", "--rm", "--network", network, "-p", fmt.Sprintf("127.0.0.1:%d:80", port), "busybox", "true")
			l, err := net.Listen("tcp", fmt.Sprintf("127.0.0.1:%d", port))
			if err != nil {
				t.Fatalf("--network %s: port %d still taken after run --rm returned: %v", network, port, err)
			}
			l.Close()
		}
	}
}

func testNoLeak(t *testing.T, backend string) {
	id := detached(t, "--network", backend, "busybox", "sleep", "300")
	helper := backendOf(t, id, backend)
	ok(t, "rm", "-f", id)
	eventually(t, 5*time.Second, func() error {
		if processAlive(helper) {
			return fmt.Errorf("%s (pid %d) survived rm -f", backend, helper)
		}
		return nil
	})
	id2 := detached(t, "--network", backend, "busybox", "sleep", "300")
	helper2 := backendOf(t, id2, backend)
	monitor := parentPid(t, helper2)
	syscall.Kill(monitor, syscall.SIGKILL)
	eventually(t, 5*time.Second, func() error {
		if processAlive(helper2) {
			return fmt.Errorf("%s (pid %d) survived its monitor's SIGKILL", backend, helper2)
		}
		return nil
	})
}

func TestNetworkContainerMode(t *testing.T) {
	t.Parallel()
	a := httpd(t, "slirp4netns", "shared-netns")
	eventually(t, 10*time.Second, func() error {
		r := sb(t, "run", "--rm", "--network", "container:"+a, "busybox", "sh", "-c", httpGet("127.0.0.1", 80))
		if !strings.HasSuffix(r.stdout, "\r\n\r\nshared-netns\n") {
			return fmt.Errorf("--network container: does not share a's loopback: %s", r)
		}
		return nil
	})
	stopped := strings.TrimSpace(ok(t, "create", "busybox", "true"))
	t.Cleanup(func() { sbRaw(nil, "rm", "-f", stopped) })
	fails(t, 125, []string{"not running"}, "run", "--rm", "--network", "container:"+stopped, "busybox", "true")
	fails(t, 125, []string{"nosuchctr"}, "run", "--rm", "--network", "container:nosuchctr", "busybox", "true")
}

func TestNetworkDefault(t *testing.T) {
	t.Parallel()
	// The default is a user-mode network: an interface besides lo.
	out := run(t, "busybox", "cat", "/proc/net/dev")
	if strings.Count(out, ":") < 2 {
		t.Errorf("default network has only loopback:\n%s", out)
	}
	// The container reaches the outside through it: the host's own
	// address answers on a host port.
	l, err := net.Listen("tcp", "0.0.0.0:0")
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
			io.WriteString(c, "outbound-ok\n")
			c.Close()
		}
	}()
	ip := hostAddress(t)
	if out := run(t, "--network", "slirp4netns", "busybox", "sh", "-c", fmt.Sprintf("nc -w 3 %s %d </dev/null", ip, l.Addr().(*net.TCPAddr).Port)); !strings.Contains(out, "outbound-ok") {
		t.Errorf("container does not reach the host's address %s: %q", ip, out)
	}
}

// hostAddress is the host's address on its default route.
func hostAddress(t *testing.T) string {
	t.Helper()
	c, err := net.Dial("udp", "192.0.2.255:9")
	if err != nil {
		f, _ := os.Open("/proc/net/route")
		defer f.Close()
		sc := bufio.NewScanner(f)
		for sc.Scan() {
			t.Log(sc.Text())
		}
		t.Fatal(err)
	}
	defer c.Close()
	return c.LocalAddr().(*net.UDPAddr).IP.String()
}

func TestNetworkBadInput(t *testing.T) {
	// Not parallel: it checks that nothing is left behind.
	before := containerIDs(t)
	busy, err := net.Listen("tcp", "0.0.0.0:0")
	if err != nil {
		t.Fatal(err)
	}
	defer busy.Close()
	busyPort := busy.Addr().(*net.TCPAddr).Port
	bin := t.TempDir()
	for _, tool := range []string{"newuidmap", "newgidmap", "pasta", "fuse-overlayfs"} {
		if p, err := exec.LookPath(tool); err == nil {
			os.Symlink(p, filepath.Join(bin, tool))
		}
	}
	cases := []struct {
		name string
		env  []string
		args []string
		want []string
	}{
		{"port in use", nil, []string{"-p", fmt.Sprintf("%d:80", busyPort)}, []string{fmt.Sprint(busyPort), "in use"}},
		{"privileged port", nil, []string{"-p", "80:80"}, []string{"80", "net.ipv4.ip_unprivileged_port_start", "sysctl"}},
		{"malformed -p", nil, []string{"-p", "8080:80:tcp"}, []string{"8080:80:tcp"}},
		{"bad protocol", nil, []string{"-p", "8080:80/sctp"}, []string{"sctp"}},
		{"bad range", nil, []string{"-p", "8000-8002:80-81"}, []string{"8000-8002:80-81", "length"}},
		{"-p without user-mode network", nil, []string{"--network", "none", "-p", "8080:80"}, []string{"slirp4netns or pasta"}},
		{"bad --dns", nil, []string{"--dns", "not-an-ip"}, []string{"not-an-ip"}},
		{"bad --add-host", nil, []string{"--add-host", "noip"}, []string{"noip", "HOST:IP"}},
		{"bad --add-host ip", nil, []string{"--add-host", "h:999.1.1.1"}, []string{"999.1.1.1"}},
		{"bad --network", nil, []string{"--network", "bridged"}, []string{"bridged"}},
		{"bad slirp4netns option", nil, []string{"--network", "slirp4netns:color=blue"}, []string{"color"}},
		{"missing slirp4netns", []string{"PATH=" + bin}, []string{"--network", "slirp4netns"}, []string{"slirp4netns", "install"}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			r := sbWith(t, cmdOpts{env: c.env}, append(append([]string{"run", "--rm"}, c.args...), "busybox", "true")...)
			if r.code != 125 {
				t.Fatalf("want exit 125: %s", r)
			}
			for _, w := range c.want {
				if !strings.Contains(r.stderr, w) {
					t.Errorf("error %q does not name %q", r.stderr, w)
				}
			}
		})
	}
	noLeftovers(t, before)
}
