package container

import (
	"bufio"
	"bytes"
	"fmt"
	"net/netip"
	"strings"

	"sandbox/container/spec"
)

// HostsFile is the container's /etc/hosts. With the host's network it is the
// host's file; otherwise loopback names and the container's own name.
func HostsFile(network, hostname, name string, hostHosts []byte) []byte {
	if network == spec.NetworkHost {
		return hostHosts
	}
	var b bytes.Buffer
	b.WriteString("127.0.0.1\tlocalhost\n")
	b.WriteString("::1\tlocalhost ip6-localhost ip6-loopback\n")
	names := hostname
	if name != "" && name != hostname {
		names += " " + name
	}
	fmt.Fprintf(&b, "127.0.0.1\t%s\n", names)
	return b.Bytes()
}

// ResolvConf is the container's /etc/resolv.conf: the host's, without the
// loopback nameservers that cannot be reached from a network namespace of
// its own.
func ResolvConf(network string, host []byte) []byte {
	if network == spec.NetworkHost {
		return host
	}
	var b bytes.Buffer
	sc := bufio.NewScanner(bytes.NewReader(host))
	for sc.Scan() {
		line := sc.Text()
		fields := strings.Fields(line)
		if len(fields) >= 2 && fields[0] == "nameserver" {
			if addr, err := netip.ParseAddr(fields[1]); err == nil && addr.IsLoopback() {
				continue
			}
		}
		b.WriteString(line)
		b.WriteByte('\n')
	}
	return b.Bytes()
}
