package network

import (
	"errors"
	"fmt"
	"io"
	"net/netip"
	"os"
	"runtime"
	"sync"
	"time"

	"sandbox/spec"

	"golang.org/x/sys/unix"
)

// Forwarder publishes a container's ports from the host: it listens on the
// host ports and, for each TCP connection or UDP peer, opens a socket in
// the container's network namespace to 127.0.0.1:CONTAINERPORT, copying
// between the two (the kernel splices TCP). The client's address is not
// kept (the container sees connections from its loopback); the backends'
// own forwarding keeps it, at the cost noted in spec.Network.NativePorts.
//
// The sockets are nonblocking descriptors that the Go runtime's poller
// waits on through os.File, not the net package: the forwarder lives in
// every container's monitor, and the net package alone would add about
// 400 KiB to the monitor's resident size.
type Forwarder struct {
	dialer *nsDialer

	mu      sync.Mutex
	closers []io.Closer // listeners and live connections, guarded by mu
	closed  bool        // guarded by mu
}

// udpIdle ends a UDP peer's session after this long without traffic.
const udpIdle = 60 * time.Second

// Forward starts forwarding ports into the network namespace netns, to
// its loopback.
func Forward(netns *os.File, ports []Port) (*Forwarder, error) {
	return ForwardTo(netns, ports, Target{})
}

// Target is where a forwarder dials in its namespace.
type Target struct {
	// IP is the server's IPv4 address; zero is 127.0.0.1.
	IP [4]byte
	// Transparent dials from the client's own address (IP_TRANSPARENT),
	// for a client that is not on the host's loopback: the server sees
	// the client's address, and the namespace must route the server's
	// answers back to the dialing socket (the user networks' holder
	// does: README, user-defined networks).
	Transparent bool
	// Gateway, when set, is the address a transparent dial binds for a
	// client that has no address of its own to show: one on the host's
	// loopback, or on IP itself (pasta copies the host's address into the
	// container). Zero: those are dialed as by any program.
	Gateway [4]byte
	// AnswerRules: the forwarder sets the routes that bring the server's
	// answers back to its transparent sockets (answer_linux.go) in the
	// namespace, as it enters it.
	AnswerRules bool
	// Follow, when set, is asked before each dial for the namespace to
	// dial in now: a new one (the user networks' holder restarted) is
	// entered; nil keeps the one the dialer is in.
	Follow func() (*os.File, error)
}

// ForwardTo starts forwarding ports into the network namespace netns, to
// t.
func ForwardTo(netns *os.File, ports []Port, t Target) (*Forwarder, error) {
	if t.IP == [4]byte{} {
		t.IP = [4]byte{127, 0, 0, 1}
	}
	d, err := newNSDialer(netns, t, ports)
	if err != nil {
		return nil, err
	}
	f := &Forwarder{dialer: d}
	for _, p := range ports {
		typ := unix.SOCK_STREAM
		if p.Protocol == "udp" {
			typ = unix.SOCK_DGRAM
		}
		s, err := listen(typ, p.HostIP, p.HostPort)
		if err != nil {
			f.Close()
			return nil, fmt.Errorf("publish port %d/%s: %w", p.HostPort, p.Protocol, err)
		}
		f.track(s)
		if typ == unix.SOCK_DGRAM {
			go f.serveUDP(s, p.ContainerPort)
		} else {
			go f.serveTCP(s, p.ContainerPort)
		}
	}
	return f, nil
}

// track keeps c to close with the forwarder; false when it is closed.
func (f *Forwarder) track(c io.Closer) bool {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.closed {
		c.Close()
		return false
	}
	f.closers = append(f.closers, c)
	return true
}

// Close stops listening and ends every forwarded connection.
func (f *Forwarder) Close() error {
	f.mu.Lock()
	closers := f.closers
	f.closers, f.closed = nil, true
	f.mu.Unlock()
	for _, c := range closers {
		c.Close()
	}
	f.dialer.close()
	return nil
}

func (f *Forwarder) serveTCP(l *sock, port uint16) {
	for {
		fd, err := l.accept()
		if err != nil {
			if errors.Is(err, unix.ECONNABORTED) || errors.Is(err, unix.EMFILE) || errors.Is(err, unix.ENFILE) {
				time.Sleep(10 * time.Millisecond) // a client gave up, or no descriptor is free yet
				continue
			}
			return // closed
		}
		client, err := newSock(fd, "forward client")
		if err != nil {
			continue
		}
		var peer unix.Sockaddr
		if f.dialer.target.Transparent {
			peer, _ = unix.Getpeername(fd)
		}
		go f.proxyTCP(client, port, peer)
	}
}

func (f *Forwarder) proxyTCP(client *sock, port uint16, peer unix.Sockaddr) {
	server, err := f.dialer.dial(unix.SOCK_STREAM, port, peer)
	if err != nil {
		client.Close()
		return
	}
	if !f.track(client) || !f.track(server) {
		client.Close()
		server.Close()
		return
	}
	var wg sync.WaitGroup
	pipe := func(dst, src *sock) {
		defer wg.Done()
		spliceCopy(dst, src)
		dst.shutdownWrite()
	}
	wg.Add(2)
	go pipe(server, client)
	go pipe(client, server)
	wg.Wait()
	client.Close()
	server.Close()
}

// serveUDP keeps a session per peer: a connected socket in the container,
// whose replies go back to that peer.
func (f *Forwarder) serveUDP(l *sock, port uint16) {
	var mu sync.Mutex
	sessions := map[string]*sock{}
	buf := make([]byte, 65536)
	for {
		n, peer, err := l.recvfrom(buf)
		if err != nil {
			return
		}
		key := sockaddrKey(peer)
		if key == "" {
			continue
		}
		mu.Lock()
		inner := sessions[key]
		mu.Unlock()
		if inner == nil {
			if inner, err = f.dialer.dial(unix.SOCK_DGRAM, port, peer); err != nil {
				continue
			}
			if !f.track(inner) {
				return
			}
			mu.Lock()
			sessions[key] = inner
			mu.Unlock()
			go func() {
				reply := make([]byte, 65536)
				for {
					inner.f.SetReadDeadline(time.Now().Add(udpIdle))
					m, _, err := inner.recvfrom(reply)
					if err != nil {
						break
					}
					l.sendto(reply[:m], peer)
				}
				mu.Lock()
				delete(sessions, key)
				mu.Unlock()
				inner.Close()
			}()
		}
		inner.send(buf[:n])
	}
}

// pipeSize is the capacity asked of each splice pipe: at 1 MiB a gigabyte
// costs about 40% less CPU than at the default 64 KiB. A user over the
// kernel's pipe quota gets the default.
const pipeSize = 1 << 20

// spliceCopy copies src to dst until src ends, through a pipe, so that the
// bytes stay in the kernel (as io.Copy between the net package's TCP
// connections does).
func spliceCopy(dst, src *sock) error {
	var p [2]int
	if err := unix.Pipe2(p[:], unix.O_CLOEXEC|unix.O_NONBLOCK); err != nil {
		return fmt.Errorf("pipe: %w", err)
	}
	defer unix.Close(p[0])
	defer unix.Close(p[1])
	size, err := unix.FcntlInt(uintptr(p[1]), unix.F_SETPIPE_SZ, pipeSize)
	if err != nil {
		if size, err = unix.FcntlInt(uintptr(p[1]), unix.F_GETPIPE_SZ, 0); err != nil {
			return fmt.Errorf("pipe size: %w", err)
		}
	}
	const flags = unix.SPLICE_F_MOVE | unix.SPLICE_F_NONBLOCK
	for {
		var n int64
		var serr error
		if err := src.rc.Read(func(fd uintptr) bool {
			n, serr = unix.Splice(int(fd), nil, p[1], nil, size, flags)
			return serr != unix.EAGAIN
		}); err != nil {
			return err
		}
		if serr != nil {
			return serr
		}
		if n == 0 {
			return nil // the end of src
		}
		for n > 0 {
			var m int64
			if err := dst.rc.Write(func(fd uintptr) bool {
				m, serr = unix.Splice(p[0], nil, int(fd), nil, int(n), flags)
				return serr != unix.EAGAIN
			}); err != nil {
				return err
			}
			if serr != nil {
				return serr
			}
			n -= m
		}
	}
}

// sockaddrKey names a UDP peer; "" for an address family it cannot be.
func sockaddrKey(sa unix.Sockaddr) string {
	switch a := sa.(type) {
	case *unix.SockaddrInet4:
		return netip.AddrPortFrom(netip.AddrFrom4(a.Addr), uint16(a.Port)).String()
	case *unix.SockaddrInet6:
		return netip.AddrPortFrom(netip.AddrFrom16(a.Addr), uint16(a.Port)).String()
	}
	return ""
}

// sock is a nonblocking socket that the runtime's poller waits on.
type sock struct {
	// to is where send sends, for a socket that is not connected.
	to unix.Sockaddr
	f  *os.File
	rc interface {
		Control(func(fd uintptr)) error
		Read(func(fd uintptr) bool) error
		Write(func(fd uintptr) bool) error
	}
}

// newSock takes over the nonblocking socket fd.
func newSock(fd int, name string) (*sock, error) {
	f := os.NewFile(uintptr(fd), name)
	rc, err := f.SyscallConn()
	if err != nil {
		f.Close()
		return nil, err
	}
	return &sock{f: f, rc: rc}, nil
}

func (s *sock) Close() error { return s.f.Close() }

// send sends a datagram to s.to, or on the connection.
func (s *sock) send(p []byte) error {
	if s.to == nil {
		_, err := s.f.Write(p)
		return err
	}
	return s.sendto(p, s.to)
}

// listen opens a socket of type typ bound to ip:port; an empty ip is every
// address, of both families where the host has IPv6.
func listen(typ int, ip string, port uint16) (*sock, error) {
	family, dual := unix.AF_INET, false
	var sa unix.Sockaddr = &unix.SockaddrInet4{Port: int(port)}
	if ip == "" {
		family, dual = unix.AF_INET6, true
		sa = &unix.SockaddrInet6{Port: int(port)}
	} else {
		addr, err := netip.ParseAddr(ip)
		if err != nil {
			return nil, fmt.Errorf("host address %q: %w", ip, err)
		}
		if addr.Is4() || addr.Is4In6() {
			sa = &unix.SockaddrInet4{Port: int(port), Addr: addr.Unmap().As4()}
		} else {
			family = unix.AF_INET6
			sa = &unix.SockaddrInet6{Port: int(port), Addr: addr.As16()}
		}
	}
	fd, err := unix.Socket(family, typ|unix.SOCK_NONBLOCK|unix.SOCK_CLOEXEC, 0)
	if err != nil && dual {
		// No IPv6 here: every IPv4 address is every address.
		family, dual = unix.AF_INET, false
		sa = &unix.SockaddrInet4{Port: int(port)}
		fd, err = unix.Socket(family, typ|unix.SOCK_NONBLOCK|unix.SOCK_CLOEXEC, 0)
	}
	if err != nil {
		return nil, fmt.Errorf("socket: %w", err)
	}
	err = func() error {
		if family == unix.AF_INET6 {
			v6only := 1
			if dual {
				v6only = 0
			}
			if err := unix.SetsockoptInt(fd, unix.IPPROTO_IPV6, unix.IPV6_V6ONLY, v6only); err != nil {
				return fmt.Errorf("IPV6_V6ONLY: %w", err)
			}
		}
		if typ == unix.SOCK_STREAM {
			// As every server does: a port whose last connections are in
			// TIME_WAIT can be published again at once.
			if err := unix.SetsockoptInt(fd, unix.SOL_SOCKET, unix.SO_REUSEADDR, 1); err != nil {
				return fmt.Errorf("SO_REUSEADDR: %w", err)
			}
		}
		if err := unix.Bind(fd, sa); err != nil {
			return fmt.Errorf("bind %s: %w", spec.HostPort(ipOrAny(ip), port), err)
		}
		if typ == unix.SOCK_STREAM {
			if err := unix.Listen(fd, unix.SOMAXCONN); err != nil {
				return fmt.Errorf("listen: %w", err)
			}
		}
		return nil
	}()
	if err != nil {
		unix.Close(fd)
		return nil, err
	}
	return newSock(fd, "forward listener")
}

func ipOrAny(ip string) string {
	if ip == "" {
		return "0.0.0.0"
	}
	return ip
}

// accept waits for a connection and returns its nonblocking descriptor.
func (s *sock) accept() (int, error) {
	nfd, serr := -1, error(nil)
	err := s.rc.Read(func(fd uintptr) bool {
		nfd, _, serr = unix.Accept4(int(fd), unix.SOCK_NONBLOCK|unix.SOCK_CLOEXEC)
		return serr != unix.EAGAIN
	})
	if err != nil {
		return -1, err
	}
	return nfd, serr
}

// recvfrom waits for a datagram.
func (s *sock) recvfrom(p []byte) (int, unix.Sockaddr, error) {
	var (
		n    int
		from unix.Sockaddr
		serr error
	)
	err := s.rc.Read(func(fd uintptr) bool {
		n, from, serr = unix.Recvfrom(int(fd), p, 0)
		return serr != unix.EAGAIN
	})
	if err != nil {
		return 0, nil, err
	}
	return n, from, serr
}

// sendto sends a datagram to, waiting for room to.
func (s *sock) sendto(p []byte, to unix.Sockaddr) error {
	var serr error
	err := s.rc.Write(func(fd uintptr) bool {
		serr = unix.Sendto(int(fd), p, 0, to)
		return serr != unix.EAGAIN
	})
	if err != nil {
		return err
	}
	return serr
}

// shutdownWrite passes the end of one direction of a TCP connection on.
func (s *sock) shutdownWrite() {
	s.rc.Control(func(fd uintptr) { unix.Shutdown(int(fd), unix.SHUT_WR) })
}

// nsDialer opens sockets in a network namespace: a goroutine on an OS
// thread of its own that has joined the namespace (setns affects only the
// calling thread). The thread is never released: it ends with the
// goroutine, and no other goroutine runs on it.
type nsDialer struct {
	target Target
	reqs   chan dialReq
	done   chan struct{}
	once   sync.Once
}

type dialReq struct {
	typ   int
	port  uint16
	from  *unix.SockaddrInet4 // the client, with Target.Transparent
	reply chan dialResult
}

type dialResult struct {
	fd  int
	err error
}

func newNSDialer(netns *os.File, t Target, ports []Port) (*nsDialer, error) {
	d := &nsDialer{target: t, reqs: make(chan dialReq), done: make(chan struct{})}
	ready := make(chan error, 1)
	go func() {
		runtime.LockOSThread()
		if err := unix.Setns(int(netns.Fd()), unix.CLONE_NEWNET); err != nil {
			ready <- fmt.Errorf("enter the container's network namespace: %w", err)
			return
		}
		if t.AnswerRules && t.Transparent {
			if err := addAnswerRules(t.IP, ports); err != nil {
				ready <- err
				return
			}
		}
		ready <- nil
		for {
			select {
			case r := <-d.reqs:
				if d.target.Follow != nil {
					if err := follow(d.target.Follow); err != nil {
						r.reply <- dialResult{-1, err}
						continue
					}
				}
				fd, err := dialIn(r.typ, d.target.IP, r.port, r.from)
				r.reply <- dialResult{fd, err}
			case <-d.done:
				return
			}
		}
	}()
	if err := <-ready; err != nil {
		return nil, err
	}
	return d, nil
}

// follow enters the namespace that next gives, if any, on the calling
// (locked) thread.
func follow(next func() (*os.File, error)) error {
	ns, err := next()
	if err != nil || ns == nil {
		return err
	}
	defer ns.Close()
	if err := unix.Setns(int(ns.Fd()), unix.CLONE_NEWNET); err != nil {
		return fmt.Errorf("enter the new network namespace: %w", err)
	}
	return nil
}

// dialIn connects to ip:port on the calling thread's network, from the
// address from when given (IP_TRANSPARENT: its port too, unless taken),
// and returns the socket, nonblocking. The connect itself blocks: to a
// loopback address or a bridge's neighbour it completes or fails at
// once (TCP's handshake on a bridge takes microseconds).
func dialIn(typ int, ip [4]byte, port uint16, from *unix.SockaddrInet4) (int, error) {
	fd, err := unix.Socket(unix.AF_INET, typ|unix.SOCK_CLOEXEC, 0)
	if err != nil {
		return -1, err
	}
	if from != nil {
		if err := bindTransparent(fd, from); err != nil {
			unix.Close(fd)
			return -1, err
		}
	}
	if typ == unix.SOCK_DGRAM && from != nil {
		// Not connected: the server's answers, routed locally back to
		// the client's address, come from whatever source address the
		// namespace gave them (see addAnswerRules).
		if err := unix.SetNonblock(fd, true); err != nil {
			unix.Close(fd)
			return -1, err
		}
		return fd, nil
	}
	if err := unix.Connect(fd, &unix.SockaddrInet4{Port: int(port), Addr: ip}); err != nil {
		unix.Close(fd)
		return -1, err
	}
	if err := unix.SetNonblock(fd, true); err != nil {
		unix.Close(fd)
		return -1, err
	}
	return fd, nil
}

// bindTransparent binds fd to the client's address from, which is not
// the namespace's own: the client's port if it is free, else another.
func bindTransparent(fd int, from *unix.SockaddrInet4) error {
	if err := unix.SetsockoptInt(fd, unix.SOL_IP, unix.IP_TRANSPARENT, 1); err != nil {
		return fmt.Errorf("IP_TRANSPARENT: %w", err)
	}
	if err := unix.SetsockoptInt(fd, unix.SOL_SOCKET, unix.SO_REUSEADDR, 1); err != nil {
		return fmt.Errorf("SO_REUSEADDR: %w", err)
	}
	if err := unix.Bind(fd, from); err == nil {
		return nil
	}
	any := *from
	any.Port = 0
	if err := unix.Bind(fd, &any); err != nil {
		return fmt.Errorf("bind to the client's address: %w", err)
	}
	return nil
}

// transparentFrom is the address a transparent dial to t binds for the
// client peer: its own; t.Gateway for a client on the host's loopback
// (which no bridge or tap carries) or on t.IP; nil (an ordinary dial)
// for those when t has no Gateway, and for IPv6 clients.
func transparentFrom(t Target, peer unix.Sockaddr) *unix.SockaddrInet4 {
	var a netip.Addr
	var port int
	switch p := peer.(type) {
	case *unix.SockaddrInet4:
		a, port = netip.AddrFrom4(p.Addr), p.Port
	case *unix.SockaddrInet6:
		a, port = netip.AddrFrom16(p.Addr).Unmap(), p.Port
	default:
		return nil
	}
	if !a.Is4() {
		return nil
	}
	if a.IsLoopback() || a.IsUnspecified() || a.As4() == t.IP {
		if t.Gateway == [4]byte{} {
			return nil
		}
		return &unix.SockaddrInet4{Addr: t.Gateway}
	}
	return &unix.SockaddrInet4{Addr: a.As4(), Port: port}
}

func (d *nsDialer) dial(typ int, port uint16, peer unix.Sockaddr) (*sock, error) {
	reply := make(chan dialResult, 1)
	var from *unix.SockaddrInet4
	if d.target.Transparent {
		from = transparentFrom(d.target, peer)
	}
	select {
	case d.reqs <- dialReq{typ: typ, port: port, from: from, reply: reply}:
	case <-d.done:
		return nil, errors.New("forwarder closed")
	}
	res := <-reply
	if res.err != nil {
		return nil, res.err
	}
	s, err := newSock(res.fd, "forward server")
	if err == nil && typ == unix.SOCK_DGRAM && from != nil {
		s.to = &unix.SockaddrInet4{Addr: d.target.IP, Port: int(port)}
	}
	return s, err
}

func (d *nsDialer) close() {
	d.once.Do(func() { close(d.done) })
}

// forwarderPorts publishes ports with sandbox's own Forwarder, in the
// process that calls Publish (the monitor), dialing the container's
// address from the client's own (Target.Transparent): the server sees the
// client's address, a client on the host's loopback or own address as the
// gateway.
type forwarderPorts struct{ n Network }

func (forwarderPorts) InBackend() bool   { return false }
func (forwarderPorts) KeepsSource() bool { return true }

func (h forwarderPorts) Publish(netns *os.File, ports []Port, _ string) (func() error, error) {
	if len(ports) == 0 {
		return nothing, nil
	}
	a, err := AddressesFor(h.n)
	if err != nil {
		return nil, err
	}
	ip, err1 := netip.ParseAddr(a.IP)
	gw, err2 := netip.ParseAddr(a.Gateway)
	if err1 != nil || err2 != nil || !ip.Is4() || !gw.Is4() {
		return nil, fmt.Errorf("publish ports: the container's address %q or gateway %q is not IPv4", a.IP, a.Gateway)
	}
	f, err := ForwardTo(netns, ports, Target{IP: ip.As4(), Gateway: gw.As4(), Transparent: true, AnswerRules: true})
	if err != nil {
		return nil, err
	}
	return f.Close, nil
}
