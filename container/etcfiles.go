package container

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"

	"sandbox/internal/atomicfile"
	"sandbox/network"
	"sandbox/spec"
)

// etcFiles are the container's /etc/hostname, /etc/hosts and
// /etc/resolv.conf. They live in its run directory, as runtime state: a
// reboot takes them, and every start writes them again (the host's
// resolvers or the container's name may have changed meanwhile).
var etcFiles = []string{"hostname", "hosts", "resolv.conf"}

// etcMounts binds the files of runDir over the container's own.
func etcMounts(runDir string) []spec.Mount {
	var mounts []spec.Mount
	for _, name := range etcFiles {
		mounts = append(mounts, spec.Mount{Type: "bind", Source: filepath.Join(runDir, name), Destination: "/etc/" + name})
	}
	return mounts
}

// writeEtcFiles writes the files for the container of cfg into runDir.
func writeEtcFiles(runDir string, cfg *spec.Config) error {
	hostHosts, err := os.ReadFile("/etc/hosts")
	if err != nil && !errors.Is(err, os.ErrNotExist) {
		return fmt.Errorf("read /etc/hosts: %w", err)
	}
	hostResolv, err := os.ReadFile("/etc/resolv.conf")
	if err != nil && !errors.Is(err, os.ErrNotExist) {
		return fmt.Errorf("read /etc/resolv.conf: %w", err)
	}
	h := &cfg.Host
	names := network.Names{
		Hostname: cfg.Spec.Hostname, Name: cfg.Name, ExtraHosts: h.ExtraHosts,
		DNS: h.DNS, DNSSearch: h.DNSSearch, DNSOptions: h.DNSOptions,
	}
	n := h.Network
	if n.Mode == "" { // a container from before networks were recorded
		n.Mode = cfg.Spec.Network
	}
	data := map[string][]byte{
		"hostname":    []byte(cfg.Spec.Hostname + "\n"),
		"hosts":       network.HostsFile(n, h.Addresses, names, hostHosts),
		"resolv.conf": network.ResolvConf(n, h.Addresses, names, hostResolv),
	}
	for _, name := range etcFiles {
		if err := atomicfile.Write(filepath.Join(runDir, name), data[name], 0o644); err != nil {
			return err
		}
	}
	return nil
}
