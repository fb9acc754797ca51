package holder

import (
	"bytes"
	"errors"
	"fmt"
	"os/exec"
	"strings"
)

// firewall is the holder's netfilter rules, set with Debian's iptables
// (its nf_tables flavour works in a namespace of the keeper's user
// namespace). Forwarding is refused but within one bridge, from a
// bridge that is not internal to the way out, and for answers; what
// leaves through the way out is masqueraded onto slirp4netns's address.
type firewall struct{ iptables string }

// wayOutDev is slirp4netns's device in the holder's namespace.
const wayOutDev = "tap0"

func newFirewall() (*firewall, error) {
	path, err := exec.LookPath("iptables")
	if err != nil {
		path = "/usr/sbin/iptables"
	}
	f := &firewall{iptables: path}
	for _, args := range [][]string{
		{"-P", "FORWARD", "DROP"},
		{"-A", "FORWARD", "-m", "conntrack", "--ctstate", "RELATED,ESTABLISHED", "-j", "ACCEPT"},
		{"-t", "nat", "-A", "POSTROUTING", "-o", wayOutDev, "-j", "MASQUERADE"},
	} {
		if err := f.run(args...); err != nil {
			return nil, err
		}
	}
	return f, nil
}

// addNetwork lets the bridge's members reach each other and, unless
// internal, the way out.
func (f *firewall) addNetwork(br string, internal bool) error {
	if err := f.run("-A", "FORWARD", "-i", br, "-o", br, "-j", "ACCEPT"); err != nil {
		return err
	}
	if internal {
		return nil
	}
	return f.run("-A", "FORWARD", "-i", br, "-o", wayOutDev, "-j", "ACCEPT")
}

// removeNetwork removes what addNetwork added.
func (f *firewall) removeNetwork(br string, internal bool) error {
	err := f.run("-D", "FORWARD", "-i", br, "-o", br, "-j", "ACCEPT")
	if internal {
		return err
	}
	return errors.Join(err, f.run("-D", "FORWARD", "-i", br, "-o", wayOutDev, "-j", "ACCEPT"))
}

func (f *firewall) run(args ...string) error {
	cmd := exec.Command(f.iptables, append([]string{"-w"}, args...)...)
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	if err := cmd.Run(); err != nil {
		return fmt.Errorf("iptables %s: %v: %s (is the iptables package installed?)", strings.Join(args, " "), err, strings.TrimSpace(out.String()))
	}
	return nil
}
