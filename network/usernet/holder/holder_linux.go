// Package holder is the process that holds a user's network namespace of
// user-defined networks: a bridge per network, a veth per member, the
// way out through slirp4netns, the firewall that keeps networks apart,
// the routes that bring published ports' answers back, and the names
// (dns.go). It is started by usernet.EnsureHolder in a new network
// namespace and serves usernet's protocol (join_linux.go there) until
// it is killed. It imports the engine never; only cmd/sandbox links it.
package holder

import (
	"encoding/json"
	"errors"
	"fmt"
	"log"
	"net/netip"
	"os"
	"runtime"
	"slices"
	"sync"
	"time"

	"sandbox/network"
	"sandbox/network/usernet"
	"sandbox/spec"

	"golang.org/x/sys/unix"
)

// Main runs the holder in dir; its ready pipe is fd 3 ("ok", or why
// not). It returns only on failure, with the exit status.
func Main(dir string) int {
	log.SetFlags(log.LstdFlags)
	log.SetPrefix(fmt.Sprintf("holder[%d]: ", os.Getpid()))
	ready := os.NewFile(3, "ready")
	h, err := start(dir)
	if err != nil {
		fmt.Fprint(ready, err.Error())
		log.Print(err)
		return 125
	}
	fmt.Fprint(ready, "ok")
	ready.Close()
	go h.watchDir()
	h.serve()
	return 125
}

// dirCheck is how often the holder looks for its directory.
const dirCheck = 10 * time.Second

// watchDir ends the holder once its directory is gone (its store's run
// root removed, as a test's is): nothing can reach it any more.
func (h *holder) watchDir() {
	for range time.Tick(dirCheck) {
		if _, err := os.Stat(usernet.SockPath(h.dir)); errors.Is(err, os.ErrNotExist) {
			log.Printf("%s is gone: exiting", h.dir)
			if h.stopWay != nil {
				if err := h.stopWay(); err != nil {
					log.Print(err)
				}
			}
			os.Exit(0)
		}
	}
}

// holder is the state of the namespace.
type holder struct {
	dir    string
	listen int // the socket
	fw     *firewall
	ns     *nsThread

	// stopWay stops slirp4netns (set once, at start).
	stopWay func() error

	mu       sync.Mutex
	networks map[string]*bridge    // by network id, guarded by mu
	members  map[string]*member    // by container id, guarded by mu
	dns      map[string]*dnsServer // by network id, guarded by mu
	// names are containers' names told before they joined (SetName), by
	// container id, guarded by mu; extra their further names (SetNames).
	names map[string]string
	extra map[string][]string
}

// member is an attached container.
type member struct {
	id, name string
	extra    []string // further names: a pod infra's pod and members
	atts     []spec.Attachment
	veths    []string
	rules    []portRule
}

// start configures the namespace: loopback, the way out, forwarding and
// the firewall, the table of answers to published ports; then listens.
func start(dir string) (*holder, error) {
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, err
	}
	h := &holder{dir: dir, networks: map[string]*bridge{}, members: map[string]*member{}, dns: map[string]*dnsServer{}, names: map[string]string{}, extra: map[string][]string{}}
	var err error
	if h.ns, err = newNSThread(); err != nil {
		return nil, err
	}
	if err := h.ns.do(setupLoopback); err != nil {
		return nil, err
	}
	if err := h.startWayOut(); err != nil {
		return nil, fmt.Errorf("the way out: %w", err)
	}
	err = h.ns.do(func() error {
		if err := os.WriteFile("/proc/sys/net/ipv4/ip_forward", []byte("1"), 0o644); err != nil {
			return fmt.Errorf("enable forwarding: %w", err)
		}
		var err error
		if h.fw, err = newFirewall(); err != nil {
			return err
		}
		return setupAnswerTable()
	})
	if err != nil {
		return nil, err
	}
	sock := usernet.SockPath(dir)
	if err := os.Remove(sock); err != nil && !errors.Is(err, os.ErrNotExist) {
		return nil, err
	}
	h.listen, err = unix.Socket(unix.AF_UNIX, unix.SOCK_SEQPACKET|unix.SOCK_CLOEXEC, 0)
	if err != nil {
		return nil, err
	}
	if err := unix.Bind(h.listen, &unix.SockaddrUnix{Name: sock}); err != nil {
		return nil, fmt.Errorf("bind %s: %w", sock, err)
	}
	if err := unix.Listen(h.listen, 64); err != nil {
		return nil, err
	}
	if err := usernet.WritePid(dir, h.ns.tid); err != nil {
		return nil, err
	}
	return h, nil
}

// startWayOut starts slirp4netns attached to the networks' namespace,
// from a thread in the host's (slirp4netns's own sockets must be the
// host's). The thread stays, locked and parked, for the holder's life:
// slirp4netns's parent-death signal is the death of the thread that
// started it.
func (h *holder) startWayOut() error {
	ns, err := os.Open(h.ns.path())
	if err != nil {
		return fmt.Errorf("own network namespace: %w", err)
	}
	defer ns.Close()
	way, err := network.BackendFor(spec.Network{Mode: spec.NetworkSlirp4netns})
	if err != nil {
		return err
	}
	done := make(chan error, 1)
	go func() {
		runtime.LockOSThread() // never unlocked: see above
		var err error
		h.stopWay, err = way.Attach(ns, network.AttachOptions{Dir: h.dir})
		done <- err
		select {}
	}()
	return <-done
}

func (h *holder) serve() {
	for {
		c, _, err := unix.Accept4(h.listen, unix.SOCK_CLOEXEC)
		if err != nil {
			if errors.Is(err, unix.EINTR) || errors.Is(err, unix.ECONNABORTED) {
				continue
			}
			log.Printf("accept: %v", err)
			return
		}
		go h.handle(c)
	}
}

func (h *holder) handle(c int) {
	defer unix.Close(c)
	buf := make([]byte, 64<<10)
	oob := make([]byte, unix.CmsgSpace(4))
	n, oobn, _, _, err := unix.Recvmsg(c, buf, oob, unix.MSG_CMSG_CLOEXEC)
	if err != nil {
		return
	}
	var fd *os.File
	if oobn > 0 {
		if msgs, err := unix.ParseSocketControlMessage(oob[:oobn]); err == nil && len(msgs) == 1 {
			if fds, err := unix.ParseUnixRights(&msgs[0]); err == nil && len(fds) == 1 {
				fd = os.NewFile(uintptr(fds[0]), "container netns")
				defer fd.Close()
			}
		}
	}
	var req usernet.Request
	var rep usernet.Reply
	if err := json.Unmarshal(buf[:n], &req); err != nil {
		rep.Error = fmt.Sprintf("bad request: %v", err)
	} else if err := h.do(req, fd); err != nil {
		rep.Error = err.Error()
		log.Printf("%s %.12s: %v", req.Op, req.ContainerID, err)
	}
	data, err := json.Marshal(rep)
	if err == nil {
		unix.Sendmsg(c, data, nil, nil, 0)
	}
}

// do serves a request on the namespace's thread.
func (h *holder) do(req usernet.Request, netns *os.File) error {
	return h.ns.do(func() error { return h.doInNS(req, netns) })
}

func (h *holder) doInNS(req usernet.Request, netns *os.File) error {
	h.mu.Lock()
	defer h.mu.Unlock()
	switch req.Op {
	case "ping":
		return nil
	case "leave":
		delete(h.names, req.ContainerID)
		delete(h.extra, req.ContainerID)
		return h.leave(req.ContainerID)
	case "names":
		h.extra[req.ContainerID] = req.Names
		if m := h.members[req.ContainerID]; m != nil {
			m.extra = req.Names
		}
		return nil
	case "name":
		h.names[req.ContainerID] = req.Name
		if m := h.members[req.ContainerID]; m != nil {
			m.name = req.Name
		}
		return nil
	case "join":
		if netns == nil {
			return errors.New("join: no network namespace given")
		}
		h.pruneGone()
		return h.join(req, netns)
	case "connect":
		if netns == nil || len(req.Attachments) != 1 {
			return errors.New("connect: want a network namespace and one network")
		}
		return h.connect(req.ContainerID, req.Attachments[0], netns)
	case "disconnect":
		if len(req.Attachments) != 1 {
			return errors.New("disconnect: want one network")
		}
		return h.disconnect(req.ContainerID, req.Attachments[0].ID)
	}
	return fmt.Errorf("unknown request %q", req.Op)
}

// join attaches the container; a failure part-way undoes what it made.
func (h *holder) join(req usernet.Request, netns *os.File) (err error) {
	if old := h.members[req.ContainerID]; old != nil {
		if err := h.leave(req.ContainerID); err != nil {
			return err
		}
	}
	m := &member{id: req.ContainerID, name: req.Name, atts: req.Attachments}
	if m.name == "" {
		m.name = h.names[m.id]
	}
	if req.Names != nil {
		h.extra[m.id] = req.Names
	}
	m.extra = h.extra[m.id]
	defer func() {
		if err != nil {
			if lerr := h.undo(m); lerr != nil {
				log.Printf("undo join of %.12s: %v", m.id, lerr)
			}
		}
	}()
	for i, a := range req.Attachments {
		br, err := h.bridgeFor(a)
		if err != nil {
			return err
		}
		veth := vethName(req.ContainerID, i)
		if err := attachVeth(br, veth, netns, i, a); err != nil {
			return fmt.Errorf("network %s: %w", a.Network, err)
		}
		m.veths = append(m.veths, veth)
	}
	if len(req.Ports) > 0 && len(req.Attachments) > 0 {
		a := req.Attachments[0]
		for _, p := range req.Ports {
			r := portRule{ip: a.IP, port: p.ContainerPort, proto: p.Protocol}
			if err := r.add(); err != nil {
				return err
			}
			m.rules = append(m.rules, r)
		}
	}
	h.members[m.id] = m
	return nil
}

// connect puts a running member on one more network: a veth with the
// first index its others do not use.
func (h *holder) connect(id string, a spec.Attachment, netns *os.File) error {
	m := h.members[id]
	if m == nil {
		return fmt.Errorf("container %.12s is not on a network of this holder", id)
	}
	for _, have := range m.atts {
		if have.ID == a.ID {
			return fmt.Errorf("container %.12s is already on network %s", id, a.Network)
		}
	}
	i := 0
	for slices.Contains(m.veths, vethName(id, i)) {
		i++
	}
	if i > 9 {
		return fmt.Errorf("container %.12s is on too many networks", id)
	}
	br, err := h.bridgeFor(a)
	if err != nil {
		return err
	}
	veth := vethName(id, i)
	if err := attachVeth(br, veth, netns, i, a); err != nil {
		return fmt.Errorf("network %s: %w", a.Network, err)
	}
	m.atts = append(m.atts, a)
	m.veths = append(m.veths, veth)
	return nil
}

// disconnect takes a running member off one network: its veth (and the
// container's end with it) is removed; the answers of its published
// ports, which are on its first network, go with that one.
func (h *holder) disconnect(id, network string) error {
	m := h.members[id]
	if m == nil {
		return nil
	}
	i := slices.IndexFunc(m.atts, func(a spec.Attachment) bool { return a.ID == network })
	if i < 0 {
		return nil
	}
	if err := deleteLink(m.veths[i]); err != nil {
		return err
	}
	if i == 0 {
		if err := h.forget(m); err != nil {
			return err
		}
		m.rules = nil
	}
	m.atts = slices.Delete(slices.Clone(m.atts), i, i+1)
	m.veths = slices.Delete(m.veths, i, i+1)
	return nil
}

// leave detaches the container, if attached.
func (h *holder) leave(id string) error {
	m := h.members[id]
	if m == nil {
		return nil
	}
	delete(h.members, id)
	return h.forget(m)
}

// forget removes the member's port rules. Its veths go with its
// namespace, which the kernel frees once the container's last process
// is gone: deleting them here would only wait longer for the same.
func (h *holder) forget(m *member) error {
	var errs []error
	for _, r := range m.rules {
		errs = append(errs, r.del())
	}
	return errors.Join(errs...)
}

// undo removes what a failed join made.
func (h *holder) undo(m *member) error {
	var errs []error
	for _, v := range m.veths {
		errs = append(errs, deleteLink(v))
	}
	return errors.Join(append(errs, h.forget(m))...)
}

// pruneGone forgets members whose namespace is gone (their veths went
// with it): a container that stopped without leaving.
func (h *holder) pruneGone() {
	for id, m := range h.members {
		if len(m.veths) > 0 && !linkExists(m.veths[0]) {
			delete(h.members, id)
			for _, r := range m.rules {
				if err := r.del(); err != nil {
					log.Printf("forget %.12s: %v", id, err)
				}
			}
		}
	}
}

// dropEmpty removes the bridges (with their rules and name servers) of
// networks without a member whose subnet overlaps subnet: a network
// removed and made again may reuse the subnet of one whose bridge is
// still here. Other bridges stay, so that the next member of their
// network starts without making one.
func (h *holder) dropEmpty(subnet string) error {
	want, err := netip.ParsePrefix(subnet)
	if err != nil {
		return err
	}
	used := map[string]bool{}
	for _, m := range h.members {
		for _, a := range m.atts {
			used[a.ID] = true
		}
	}
	var errs []error
	for id, br := range h.networks {
		if used[id] || !br.subnet.Overlaps(want) {
			continue
		}
		if d := h.dns[id]; d != nil {
			errs = append(errs, d.conn.Close())
			delete(h.dns, id)
		}
		errs = append(errs, h.fw.removeNetwork(br.name, br.internal), deleteLink(br.name))
		delete(h.networks, id)
	}
	return errors.Join(errs...)
}

// bridgeFor is the bridge of a's network, made (with its firewall rules
// and name server) when it is the network's first member since the
// holder started.
func (h *holder) bridgeFor(a spec.Attachment) (*bridge, error) {
	if br := h.networks[a.ID]; br != nil {
		return br, nil
	}
	if err := h.dropEmpty(a.Subnet); err != nil {
		return nil, err
	}
	br, err := makeBridge(a)
	if err != nil {
		return nil, fmt.Errorf("network %s: %w", a.Network, err)
	}
	if err := h.fw.addNetwork(br.name, a.Internal); err != nil {
		return nil, errors.Join(fmt.Errorf("network %s: %w", a.Network, err), deleteLink(br.name))
	}
	d, err := h.startDNS(a)
	if err != nil {
		return nil, errors.Join(fmt.Errorf("network %s: names: %w", a.Network, err), deleteLink(br.name))
	}
	br.internal = a.Internal
	br.subnet, _ = netip.ParsePrefix(a.Subnet)
	h.networks[a.ID] = br
	h.dns[a.ID] = d
	return br, nil
}

// vethName is the host side of the container's i-th veth: "sv", twelve
// characters of its id, the index (15 characters at most, the kernel's
// limit).
func vethName(id string, i int) string {
	if len(id) > 12 {
		id = id[:12]
	}
	return fmt.Sprintf("sv%s%d", id, i%10)
}
