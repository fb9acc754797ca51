package network

import (
	"encoding/binary"
	"fmt"
	"os"

	"golang.org/x/sys/unix"
)

// The answers to a transparent forwarder's connections (Target.
// Transparent) go to a client address that is not the namespace's: a
// policy rule per published port (from the server's address and port) sends
// them to answerTable, where every address is local, so that they reach
// the forwarder's socket instead of the way out. The user networks' holder
// sets its own in its namespace; for a container's own namespace the
// forwarder's dialing thread sets them, by raw netlink (the monitor does
// without the net package and netlink libraries). They go with the
// namespace.

// answerTable is the routing table of answers: the same number in every
// namespace that has one.
const answerTable = 1000

// answerPriority is the rules' place, before the main table's.
const answerPriority = 100

// addAnswerRules sets answerTable and a rule per port in the calling
// thread's network namespace.
func addAnswerRules(ip [4]byte, ports []Port) error {
	s, err := unix.Socket(unix.AF_NETLINK, unix.SOCK_RAW|unix.SOCK_CLOEXEC, unix.NETLINK_ROUTE)
	if err != nil {
		return fmt.Errorf("netlink: %w", err)
	}
	defer unix.Close(s)
	if err := unix.Bind(s, &unix.SockaddrNetlink{Family: unix.AF_NETLINK}); err != nil {
		return fmt.Errorf("netlink: %w", err)
	}
	// local 0.0.0.0/0 dev lo table answerTable (lo is interface 1 in
	// every namespace).
	route := unix.RtMsg{Family: unix.AF_INET, Table: unix.RT_TABLE_UNSPEC, Protocol: unix.RTPROT_BOOT,
		Scope: unix.RT_SCOPE_HOST, Type: unix.RTN_LOCAL}
	attrs := append(attrU32(unix.RTA_TABLE, answerTable), attrU32(unix.RTA_OIF, 1)...)
	if err := netlinkDo(s, unix.RTM_NEWROUTE, unix.NLM_F_CREATE|unix.NLM_F_REPLACE, rtmsgBytes(route), attrs); err != nil {
		return fmt.Errorf("table of answers to published ports: %w", err)
	}
	for _, p := range ports {
		proto := uint8(unix.IPPROTO_TCP)
		if p.Protocol == "udp" {
			proto = unix.IPPROTO_UDP
		}
		// struct fib_rule_hdr has the layout of struct rtmsg; its
		// action is where rtmsg has its type.
		rule := unix.RtMsg{Family: unix.AF_INET, Table: unix.RT_TABLE_UNSPEC, Type: unix.FR_ACT_TO_TBL}
		var ports [4]byte
		binary.NativeEndian.PutUint16(ports[0:], p.ContainerPort)
		binary.NativeEndian.PutUint16(ports[2:], p.ContainerPort)
		var attrs []byte
		if proto == unix.IPPROTO_TCP {
			// A UDP server's answer, from a socket bound to every
			// address, is routed before it has a source address: only
			// the port tells it.
			rule.Src_len = 32
			attrs = attr(unix.FRA_SRC, ip[:])
		}
		attrs = append(attrs, attrU32(unix.FRA_TABLE, answerTable)...)
		attrs = append(attrs, attrU32(unix.FRA_PRIORITY, answerPriority)...)
		attrs = append(attrs, attr(unix.FRA_IP_PROTO, []byte{proto})...)
		attrs = append(attrs, attr(unix.FRA_SPORT_RANGE, ports[:])...)
		err := netlinkDo(s, unix.RTM_NEWRULE, unix.NLM_F_CREATE, rtmsgBytes(rule), attrs)
		if err != nil && err != unix.EEXIST {
			return fmt.Errorf("route answers from port %d/%s: %w", p.ContainerPort, p.Protocol, err)
		}
	}
	return nil
}

// netlinkDo sends one request and waits for its acknowledgement.
func netlinkDo(s int, typ, flags uint16, hdr, attrs []byte) error {
	body := append(hdr, attrs...)
	msg := make([]byte, unix.NLMSG_HDRLEN, unix.NLMSG_HDRLEN+len(body))
	binary.NativeEndian.PutUint32(msg[0:], uint32(unix.NLMSG_HDRLEN+len(body)))
	binary.NativeEndian.PutUint16(msg[4:], typ)
	binary.NativeEndian.PutUint16(msg[6:], flags|unix.NLM_F_REQUEST|unix.NLM_F_ACK)
	binary.NativeEndian.PutUint32(msg[8:], 1) // sequence
	msg = append(msg, body...)
	if err := unix.Sendto(s, msg, 0, &unix.SockaddrNetlink{Family: unix.AF_NETLINK}); err != nil {
		return err
	}
	buf := make([]byte, os.Getpagesize())
	n, _, err := unix.Recvfrom(s, buf, 0)
	if err != nil {
		return err
	}
	// One answer: struct nlmsghdr, then for NLMSG_ERROR the error (0:
	// the acknowledgement).
	b := buf[:n]
	if len(b) < unix.NLMSG_HDRLEN+4 || binary.NativeEndian.Uint16(b[4:]) != unix.NLMSG_ERROR {
		return fmt.Errorf("netlink: no acknowledgement")
	}
	if code := int32(binary.NativeEndian.Uint32(b[unix.NLMSG_HDRLEN:])); code != 0 {
		return unix.Errno(-code)
	}
	return nil
}

func rtmsgBytes(m unix.RtMsg) []byte {
	b := make([]byte, unix.SizeofRtMsg)
	b[0], b[1], b[2], b[3] = m.Family, m.Dst_len, m.Src_len, m.Tos
	b[4], b[5], b[6], b[7] = m.Table, m.Protocol, m.Scope, m.Type
	binary.NativeEndian.PutUint32(b[8:], m.Flags)
	return b
}

// attr is a netlink attribute, padded to 4 bytes.
func attr(typ uint16, data []byte) []byte {
	l := unix.SizeofRtAttr + len(data)
	b := make([]byte, (l+3)&^3)
	binary.NativeEndian.PutUint16(b[0:], uint16(l))
	binary.NativeEndian.PutUint16(b[2:], typ)
	copy(b[unix.SizeofRtAttr:], data)
	return b
}

func attrU32(typ uint16, v uint32) []byte {
	var b [4]byte
	binary.NativeEndian.PutUint32(b[:], v)
	return attr(typ, b[:])
}
