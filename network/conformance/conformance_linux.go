// Package conformance is the one suite that every network backend and
// every port handler of package network passes (privilege tier: rootless
// integration; it needs user and network namespaces, nothing else).
//
// The test binary plays both sides of a container's network namespace:
//
//   - Main re-executes it in a new user namespace, where it is root and
//     may enter the network namespaces it creates: the monitor's position;
//   - each case starts a "container", the binary again in a new network
//     namespace (StartContainer), serving TCP and UDP on ContainerTCPPort
//     and ContainerUDPPort and answering each client with the address it
//     sees;
//   - the case attaches a Backend and publishes through a PortHandler as
//     the monitor does, and checks from the host's side: a TCP round trip,
//     a UDP round trip, the client's address as the server sees it (what
//     PortHandler.KeepsSource promises), and that after cleanup the host
//     ports are free and the backend's process is gone.
//
// It is a test helper: no program of sandbox links it.
package conformance

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"net"
	"net/netip"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"sandbox/network"
	"sandbox/network/usernet"
	"sandbox/network/usernet/holder"

	"golang.org/x/sys/unix"
)

// roleEnv selects what the re-executed test binary is.
const roleEnv = "SANDBOX_CONFORMANCE_ROLE"

// The ports the container serves on, every address.
const (
	ContainerTCPPort = 80
	ContainerUDPPort = 53
)

// Main is the test binary's TestMain. Run as an unprivileged user, it runs
// the tests in a new user namespace; in the container role it serves. It
// fails, rather than skips, when it cannot make the namespaces and
// SANDBOX_TEST_STRICT=1 (as make test-integration runs it).
func Main(m *testing.M) {
	// The user networks' holder, started by a case (EnsureHolder) from
	// this binary, as sandbox starts it from its own.
	if len(os.Args) == 3 && os.Args[1] == usernet.HolderRole {
		os.Exit(holder.Main(os.Args[2]))
	}
	switch os.Getenv(roleEnv) {
	case "container":
		if err := serve(); err != nil {
			fmt.Fprintf(os.Stderr, "conformance container: %v\n", err)
			os.Exit(1)
		}
		os.Exit(0)
	case "host":
		os.Exit(m.Run())
	}
	code, err := inUserNamespace()
	if err != nil {
		fmt.Fprintf(os.Stderr, "conformance: %v\n", err)
		if os.Getenv("SANDBOX_TEST_STRICT") == "1" {
			os.Exit(1)
		}
		fmt.Fprintln(os.Stderr, "conformance: SKIPPED every test (set SANDBOX_TEST_STRICT=1 to make this a failure)")
		os.Exit(0)
	}
	os.Exit(code)
}

// inUserNamespace runs this binary again, with the same arguments, as root
// of a new user namespace that maps only the caller's ids; the network
// namespace stays the host's.
func inUserNamespace() (int, error) {
	if os.Geteuid() == 0 {
		return 0, errors.New("the conformance suite is rootless: run it as an unprivileged user (make test-integration runs it as the test user)")
	}
	cmd := exec.Command("/proc/self/exe", os.Args[1:]...)
	cmd.Stdin, cmd.Stdout, cmd.Stderr = os.Stdin, os.Stdout, os.Stderr
	cmd.Env = append(os.Environ(), roleEnv+"=host")
	cmd.SysProcAttr = &syscall.SysProcAttr{
		Cloneflags:  syscall.CLONE_NEWUSER,
		UidMappings: []syscall.SysProcIDMap{{ContainerID: 0, HostID: os.Geteuid(), Size: 1}},
		GidMappings: []syscall.SysProcIDMap{{ContainerID: 0, HostID: os.Getegid(), Size: 1}},
		Pdeathsig:   syscall.SIGKILL,
	}
	err := cmd.Run()
	var exit *exec.ExitError
	if errors.As(err, &exit) {
		return exit.ExitCode(), nil
	}
	if err != nil {
		return 0, fmt.Errorf("enter a new user namespace: %w (are unprivileged user namespaces allowed? sandbox check says)", err)
	}
	return 0, nil
}

// Container is a process in a network namespace of its own, serving.
type Container struct {
	cmd *exec.Cmd
	// Netns is the namespace, /proc/PID/ns/net, open.
	Netns *os.File
}

// Pid is the container's process.
func (c *Container) Pid() int { return c.cmd.Process.Pid }

// StartContainer starts a container; the test's cleanup ends it.
func StartContainer(t *testing.T) *Container {
	t.Helper()
	cmd := exec.Command("/proc/self/exe")
	cmd.Env = append(os.Environ(), roleEnv+"=container")
	cmd.Stderr = os.Stderr
	cmd.SysProcAttr = &syscall.SysProcAttr{Cloneflags: syscall.CLONE_NEWNET, Pdeathsig: syscall.SIGKILL}
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatalf("start a container in a new network namespace: %v", err)
	}
	c := &Container{cmd: cmd}
	t.Cleanup(func() {
		if c.Netns != nil {
			c.Netns.Close()
		}
		if err := cmd.Process.Kill(); err != nil {
			t.Errorf("kill the container: %v", err)
		}
		cmd.Wait() // killed: its status says so
	})
	line, err := bufio.NewReader(out).ReadString('\n')
	if err != nil || line != "ready\n" {
		t.Fatalf("container did not start: %q %v", line, err)
	}
	if c.Netns, err = os.Open(fmt.Sprintf("/proc/%d/ns/net", c.Pid())); err != nil {
		t.Fatal(err)
	}
	return c
}

// serve is the container: loopback up, then a TCP server that writes each
// client's address as it sees it on a line and echoes what follows, and
// a UDP server that answers each datagram with the sender's address, a
// space, and the datagram.
func serve() error {
	if err := loopbackUp(); err != nil {
		return err
	}
	l, err := net.Listen("tcp4", ":"+strconv.Itoa(ContainerTCPPort))
	if err != nil {
		return err
	}
	u, err := net.ListenPacket("udp4", ":"+strconv.Itoa(ContainerUDPPort))
	if err != nil {
		return err
	}
	go func() {
		buf := make([]byte, 65536)
		for {
			n, from, err := u.ReadFrom(buf)
			if err != nil {
				return
			}
			ip := from.(*net.UDPAddr).AddrPort().Addr().Unmap()
			if _, err := u.WriteTo(append([]byte(ip.String()+" "), buf[:n]...), from); err != nil {
				fmt.Fprintf(os.Stderr, "conformance container: udp reply: %v\n", err)
			}
		}
	}()
	if _, err := os.Stdout.WriteString("ready\n"); err != nil {
		return err
	}
	for {
		c, err := l.Accept()
		if err != nil {
			return err
		}
		go func() {
			defer c.Close()
			ip := c.RemoteAddr().(*net.TCPAddr).AddrPort().Addr().Unmap()
			if _, err := io.WriteString(c, ip.String()+"\n"); err != nil {
				return
			}
			if _, err := io.Copy(c, c); err != nil {
				fmt.Fprintf(os.Stderr, "conformance container: echo: %v\n", err)
			}
		}()
	}
}

// loopbackUp brings lo up, as a container's init does.
func loopbackUp() error {
	fd, err := unix.Socket(unix.AF_INET, unix.SOCK_DGRAM|unix.SOCK_CLOEXEC, 0)
	if err != nil {
		return fmt.Errorf("loopback up: %w", err)
	}
	defer unix.Close(fd)
	ifr, err := unix.NewIfreq("lo")
	if err != nil {
		return fmt.Errorf("loopback up: %w", err)
	}
	if err := unix.IoctlIfreq(fd, unix.SIOCGIFFLAGS, ifr); err != nil {
		return fmt.Errorf("loopback up: %w", err)
	}
	ifr.SetUint16(ifr.Uint16() | unix.IFF_UP)
	if err := unix.IoctlIfreq(fd, unix.SIOCSIFFLAGS, ifr); err != nil {
		return fmt.Errorf("loopback up: %w", err)
	}
	return nil
}

// Pair is a backend with a port handler that works with it, as
// network.BackendFor and network.PortHandlerFor choose them for Network.
type Pair struct {
	Name    string
	Backend network.Backend
	Ports   network.PortHandler
	// Addresses are what the container sees of its network
	// (network.AddressesFor).
	Addresses network.Addresses
}

// PairFor looks the pair of n up.
func PairFor(t *testing.T, name string, n network.Network) Pair {
	t.Helper()
	b, err := network.BackendFor(n)
	if err != nil {
		t.Fatal(err)
	}
	h, err := network.PortHandlerFor(n)
	if err != nil {
		t.Fatal(err)
	}
	a, err := network.AddressesFor(n)
	if err != nil {
		t.Fatal(err)
	}
	return Pair{Name: name, Backend: b, Ports: h, Addresses: a}
}

// SourceSeen is the address a server in the container should see for a
// client at client, by what the port handler promises: the container's
// loopback for a handler that does not keep the source; otherwise the
// client's own address, except the container's own address (pasta copies
// the host's), which cannot be a peer's and shows as the gateway.
func SourceSeen(keepsSource bool, client string, a network.Addresses) string {
	switch {
	case !keepsSource:
		return "127.0.0.1"
	case client == a.IP:
		return a.Gateway
	}
	return client
}

// setup is one container with a pair attached and publishing a TCP and a
// UDP port on every host address.
type setup struct {
	ctr      *Container
	tcp, udp network.Port
	helpers  []int // the backend's processes
	cleanup  func() error
}

// attach does what the monitor does: the backend first, then the ports;
// cleanup undoes both in the reverse order.
func attach(t *testing.T, p Pair) *setup {
	t.Helper()
	s := &setup{ctr: StartContainer(t)}
	s.tcp = network.Port{HostPort: freePort(t, "tcp"), ContainerPort: ContainerTCPPort, Protocol: "tcp"}
	s.udp = network.Port{HostPort: freePort(t, "udp"), ContainerPort: ContainerUDPPort, Protocol: "udp"}
	ports := []network.Port{s.tcp, s.udp}
	before := children(t)
	opts := network.AttachOptions{Dir: t.TempDir()}
	if p.Ports.InBackend() {
		opts.Ports = ports
	}
	detach, err := p.Backend.Attach(s.ctr.Netns, opts)
	if err != nil {
		t.Fatalf("attach: %v", err)
	}
	for pid := range children(t) {
		if !before[pid] && pid != s.ctr.Pid() {
			s.helpers = append(s.helpers, pid)
		}
	}
	unpublish, err := p.Ports.Publish(s.ctr.Netns, ports, opts.Dir)
	if err != nil {
		if derr := detach(); derr != nil {
			t.Errorf("detach: %v", derr)
		}
		t.Fatalf("publish: %v", err)
	}
	done := false
	s.cleanup = func() error {
		if done {
			return nil
		}
		done = true
		return errors.Join(unpublish(), detach())
	}
	t.Cleanup(func() {
		if err := s.cleanup(); err != nil {
			t.Errorf("cleanup: %v", err)
		}
	})
	return s
}

// Run checks one pair: TCP and UDP round trips, the client's address, and
// teardown.
func Run(t *testing.T, p Pair) {
	t.Run("TCP", func(t *testing.T) {
		s := attach(t, p)
		payload := "tcp through " + p.Name
		_, echo := tcpRoundTrip(t, "", hostAddr("127.0.0.1", s.tcp.HostPort), payload)
		if echo != payload {
			t.Errorf("TCP echo %q, want %q", echo, payload)
		}
	})
	t.Run("UDP", func(t *testing.T) {
		s := attach(t, p)
		payload := "udp through " + p.Name
		// From the host's address: pasta's own forwarding (of Debian 12)
		// answers no UDP client on the host's loopback.
		client := hostIPv4(t)
		if _, echo := udpRoundTrip(t, client, hostAddr(client, s.udp.HostPort), payload); echo != payload {
			t.Errorf("UDP echo %q, want %q", echo, payload)
		}
	})
	t.Run("SourceAddress", func(t *testing.T) {
		s := attach(t, p)
		// A client on the host's own address, not its loopback: the
		// backends show a loopback client as their gateway.
		client := hostIPv4(t)
		want := SourceSeen(p.Ports.KeepsSource(), client, p.Addresses)
		if seen, _ := tcpRoundTrip(t, client, hostAddr(client, s.tcp.HostPort), "source"); seen != want {
			t.Errorf("TCP: the server sees client %s as %s, want %s (KeepsSource %v)", client, seen, want, p.Ports.KeepsSource())
		}
		if seen, _ := udpRoundTrip(t, client, hostAddr(client, s.udp.HostPort), "source"); seen != want {
			t.Errorf("UDP: the server sees client %s as %s, want %s (KeepsSource %v)", client, seen, want, p.Ports.KeepsSource())
		}
	})
	t.Run("Teardown", func(t *testing.T) {
		s := attach(t, p)
		tcpRoundTrip(t, "", hostAddr("127.0.0.1", s.tcp.HostPort), "in use")
		if err := s.cleanup(); err != nil {
			t.Fatalf("cleanup: %v", err)
		}
		// Free at once: the next container may publish them as soon as
		// the monitor has stopped the network.
		for _, port := range []network.Port{s.tcp, s.udp} {
			if err := bindable(port); err != nil {
				t.Errorf("after cleanup: %v", err)
			}
		}
		helpersGone(t, s.helpers)
	})
}

// RunBackend checks a backend without ports: it attaches, its cleanup
// ends every process it started and may be called again.
func RunBackend(t *testing.T, name string, b network.Backend) {
	ctr := StartContainer(t)
	before := children(t)
	cleanup, err := b.Attach(ctr.Netns, network.AttachOptions{Dir: t.TempDir()})
	if err != nil {
		t.Fatalf("attach %s: %v", name, err)
	}
	var helpers []int
	for pid := range children(t) {
		if !before[pid] {
			helpers = append(helpers, pid)
		}
	}
	if err := cleanup(); err != nil {
		t.Fatalf("cleanup: %v", err)
	}
	if err := cleanup(); err != nil {
		t.Errorf("cleanup a second time: %v", err)
	}
	helpersGone(t, helpers)
}

func hostAddr(ip string, port uint16) string {
	return net.JoinHostPort(ip, strconv.Itoa(int(port)))
}

// tcpRoundTrip connects from local (any when "") to addr, sends payload,
// ends its side, and returns the client's address as the server saw it
// and the echo. A published port may take a moment to answer: the first
// connections are retried for a few seconds.
func tcpRoundTrip(t *testing.T, local, addr, payload string) (seen, echo string) {
	t.Helper()
	d := net.Dialer{Timeout: time.Second}
	if local != "" {
		d.LocalAddr = &net.TCPAddr{IP: net.ParseIP(local)}
	}
	var last error
	for deadline := time.Now().Add(5 * time.Second); time.Now().Before(deadline); time.Sleep(50 * time.Millisecond) {
		seen, echo, last = tcpOnce(d, addr, payload)
		if last == nil {
			return seen, echo
		}
	}
	t.Fatalf("TCP to %s: %v", addr, last)
	return "", ""
}

func tcpOnce(d net.Dialer, addr, payload string) (string, string, error) {
	c, err := d.Dial("tcp", addr)
	if err != nil {
		return "", "", err
	}
	defer c.Close()
	if err := c.SetDeadline(time.Now().Add(3 * time.Second)); err != nil {
		return "", "", err
	}
	if _, err := io.WriteString(c, payload); err != nil {
		return "", "", err
	}
	if err := c.(*net.TCPConn).CloseWrite(); err != nil {
		return "", "", err
	}
	b, err := io.ReadAll(c)
	if err != nil {
		return "", "", err
	}
	seen, echo, ok := strings.Cut(string(b), "\n")
	if !ok {
		return "", "", fmt.Errorf("answer %q: the connection ended before the server's first line", b)
	}
	return seen, echo, nil
}

// udpRoundTrip sends payload from local (any when "") to addr until an
// answer comes, and returns the client's address as the server saw it and
// the echo.
func udpRoundTrip(t *testing.T, local, addr, payload string) (seen, echo string) {
	t.Helper()
	var laddr *net.UDPAddr
	if local != "" {
		laddr = &net.UDPAddr{IP: net.ParseIP(local)}
	}
	raddr, err := net.ResolveUDPAddr("udp", addr)
	if err != nil {
		t.Fatal(err)
	}
	c, err := net.DialUDP("udp", laddr, raddr)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	buf := make([]byte, 65536)
	var last error
	for deadline := time.Now().Add(5 * time.Second); time.Now().Before(deadline); {
		if _, last = c.Write([]byte(payload)); last != nil {
			time.Sleep(50 * time.Millisecond)
			continue
		}
		if err := c.SetReadDeadline(time.Now().Add(300 * time.Millisecond)); err != nil {
			t.Fatal(err)
		}
		var n int
		if n, last = c.Read(buf); last != nil {
			continue
		}
		seen, echo, ok := strings.Cut(string(buf[:n]), " ")
		if !ok {
			t.Fatalf("UDP answer %q: no address", buf[:n])
		}
		return seen, echo
	}
	t.Fatalf("UDP to %s: no answer: %v", addr, last)
	return "", ""
}

// hostIPv4 is an IPv4 address of the host other than its loopback: the
// address a client elsewhere on the host's network would show.
func hostIPv4(t *testing.T) string {
	t.Helper()
	addrs, err := net.InterfaceAddrs()
	if err != nil {
		t.Fatal(err)
	}
	for _, a := range addrs {
		if n, ok := a.(*net.IPNet); ok {
			if ip, ok := netip.AddrFromSlice(n.IP); ok && ip.Unmap().Is4() && !ip.IsLoopback() && !ip.IsLinkLocalUnicast() {
				return ip.Unmap().String()
			}
		}
	}
	t.Fatal("the host has no IPv4 address but its loopback: the source address cannot be told from a loopback client's")
	return ""
}

// freePort is a port free on every host address for proto right now.
func freePort(t *testing.T, proto string) uint16 {
	t.Helper()
	if proto == "udp" {
		c, err := net.ListenPacket("udp", ":0")
		if err != nil {
			t.Fatal(err)
		}
		defer c.Close()
		return uint16(c.LocalAddr().(*net.UDPAddr).Port)
	}
	l, err := net.Listen("tcp", ":0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return uint16(l.Addr().(*net.TCPAddr).Port)
}

// bindable says whether the host port of p is free on every address.
func bindable(p network.Port) error {
	addr := hostAddr(p.HostIP, p.HostPort)
	if p.Protocol == "udp" {
		c, err := net.ListenPacket("udp", addr)
		if err != nil {
			return fmt.Errorf("udp port %d still taken: %w", p.HostPort, err)
		}
		return c.Close()
	}
	l, err := net.Listen("tcp", addr)
	if err != nil {
		return fmt.Errorf("tcp port %d still taken: %w", p.HostPort, err)
	}
	return l.Close()
}

// children are the processes whose parent is this one.
func children(t *testing.T) map[int]bool {
	t.Helper()
	stats, err := filepath.Glob("/proc/[0-9]*/stat")
	if err != nil {
		t.Fatal(err)
	}
	self := os.Getpid()
	out := map[int]bool{}
	for _, p := range stats {
		data, err := os.ReadFile(p)
		if err != nil {
			continue // gone since the listing
		}
		// pid (comm) state ppid ...: comm may hold spaces and parentheses.
		i := strings.LastIndexByte(string(data), ')')
		if i < 0 {
			continue
		}
		f := strings.Fields(string(data[i+1:]))
		if len(f) < 2 {
			continue
		}
		if ppid, err := strconv.Atoi(f[1]); err == nil && ppid == self {
			pid, err := strconv.Atoi(filepath.Base(filepath.Dir(p)))
			if err == nil {
				out[pid] = true
			}
		}
	}
	return out
}

// helpersGone waits a few seconds for every process of pids to be gone
// (a backend without ports of its own is reaped in the background).
func helpersGone(t *testing.T, pids []int) {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for _, pid := range pids {
		for {
			err := unix.Kill(pid, 0)
			if errors.Is(err, unix.ESRCH) {
				break
			}
			if time.Now().After(deadline) {
				t.Errorf("backend process %d still there after cleanup (kill 0: %v)", pid, err)
				break
			}
			time.Sleep(20 * time.Millisecond)
		}
	}
}
