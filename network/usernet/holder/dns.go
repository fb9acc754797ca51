package holder

import (
	"log"
	"net"
	"net/netip"
	"slices"
	"strings"
	"time"

	"sandbox/spec"

	"golang.org/x/net/dns/dnsmessage"
)

// dnsServer answers names on one network's gateway address: its members'
// names, aliases and short ids, to clients in its subnet only; every
// other question is relayed to slirp4netns's resolver (not on an
// internal network, which has no way out).
type dnsServer struct {
	h      *holder
	id     string // the network's
	subnet netip.Prefix
	inner  bool // internal
	conn   *net.UDPConn
}

// upstream is slirp4netns's resolver, which asks the host's.
const upstream = "10.0.2.3:53"

func (h *holder) startDNS(a spec.Attachment) (*dnsServer, error) {
	p, err := netip.ParsePrefix(a.Subnet)
	if err != nil {
		return nil, err
	}
	conn, err := net.ListenUDP("udp4", &net.UDPAddr{IP: net.ParseIP(a.Gateway), Port: 53})
	if err != nil {
		return nil, err
	}
	d := &dnsServer{h: h, id: a.ID, subnet: p, inner: a.Internal, conn: conn}
	go d.serve()
	return d, nil
}

func (d *dnsServer) serve() {
	buf := make([]byte, 4096)
	for {
		n, from, err := d.conn.ReadFromUDPAddrPort(buf)
		if err != nil {
			log.Printf("dns: %v", err)
			return
		}
		if !d.subnet.Contains(from.Addr().Unmap()) {
			continue // another network's member: not its names
		}
		q := append([]byte(nil), buf[:n]...)
		go d.answer(q, from)
	}
}

func (d *dnsServer) answer(q []byte, from netip.AddrPort) {
	var p dnsmessage.Parser
	hdr, err := p.Start(q)
	if err != nil {
		return
	}
	question, err := p.Question()
	if err != nil {
		return
	}
	name := strings.ToLower(strings.TrimSuffix(question.Name.String(), "."))
	ips, known := d.lookup(name, from.Addr().Unmap().String())
	if !known {
		if d.inner {
			d.reply(hdr, question, nil, dnsmessage.RCodeNameError, from)
			return
		}
		d.relay(q, from)
		return
	}
	if question.Type != dnsmessage.TypeA && question.Type != dnsmessage.TypeALL {
		ips = nil // a member has no IPv6 address: no answer, no error
	}
	d.reply(hdr, question, ips, dnsmessage.RCodeSuccess, from)
}

// lookup finds the addresses of name on this network and on the other
// networks of the member that asks (from; its resolv.conf names one
// network's server): a member's name, alias or short id, with or without
// the dns.podman domain.
func (d *dnsServer) lookup(name, from string) ([][4]byte, bool) {
	name = strings.TrimSuffix(name, ".dns.podman")
	d.h.mu.Lock()
	defer d.h.mu.Unlock()
	nets := map[string]bool{d.id: true}
	for _, m := range d.h.members {
		if slices.ContainsFunc(m.atts, func(a spec.Attachment) bool { return a.ID == d.id && a.IP == from }) {
			for _, a := range m.atts {
				nets[a.ID] = true
			}
		}
	}
	var ips [][4]byte
	for id, m := range d.h.members {
		for _, a := range m.atts {
			if !nets[a.ID] {
				continue
			}
			match := strings.EqualFold(m.name, name) || (len(id) >= 12 && id[:12] == name)
			for _, al := range a.Aliases {
				match = match || strings.EqualFold(al, name)
			}
			for _, n := range m.extra {
				match = match || strings.EqualFold(n, name)
			}
			if ip, err := netip.ParseAddr(a.IP); match && err == nil {
				ips = append(ips, ip.As4())
			}
		}
	}
	return ips, len(ips) > 0
}

func (d *dnsServer) reply(hdr dnsmessage.Header, q dnsmessage.Question, ips [][4]byte, rcode dnsmessage.RCode, to netip.AddrPort) {
	b := dnsmessage.NewBuilder(nil, dnsmessage.Header{ID: hdr.ID, Response: true, Authoritative: true,
		RecursionDesired: hdr.RecursionDesired, RecursionAvailable: true, RCode: rcode})
	b.EnableCompression()
	if err := b.StartQuestions(); err != nil {
		return
	}
	if err := b.Question(q); err != nil {
		return
	}
	if err := b.StartAnswers(); err != nil {
		return
	}
	for _, ip := range ips {
		rh := dnsmessage.ResourceHeader{Name: q.Name, Class: dnsmessage.ClassINET, TTL: 60}
		if err := b.AResource(rh, dnsmessage.AResource{A: ip}); err != nil {
			return
		}
	}
	out, err := b.Finish()
	if err != nil {
		return
	}
	if _, err := d.conn.WriteToUDPAddrPort(out, to); err != nil {
		log.Printf("dns reply: %v", err)
	}
}

// relay asks slirp4netns's resolver and passes its answer back.
func (d *dnsServer) relay(q []byte, to netip.AddrPort) {
	var c net.Conn
	err := d.h.ns.do(func() (err error) {
		c, err = net.Dial("udp4", upstream)
		return err
	})
	if err != nil {
		return
	}
	defer c.Close()
	if err := c.SetDeadline(time.Now().Add(5 * time.Second)); err != nil {
		return
	}
	if _, err := c.Write(q); err != nil {
		return
	}
	buf := make([]byte, 4096)
	n, err := c.Read(buf)
	if err != nil {
		return
	}
	if _, err := d.conn.WriteToUDPAddrPort(buf[:n], to); err != nil {
		log.Printf("dns relay: %v", err)
	}
}
