// Package usernet holds the user-defined networks: their records in the
// user's storage (store.go), the checks of what a user asks for
// (check.go), and the one call by which a container joins them, Join,
// with the start of the process that holds them (join_linux.go). The
// holder itself is package network/usernet/holder.
//
// The monitor links this package for Join: it imports the standard
// library, x/sys, sandbox/spec and sandbox/internal only (not the net
// package), and never the engine.
package usernet

import (
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"net/netip"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strings"
	"time"

	"sandbox/internal/atomicfile"
	"sandbox/internal/lockfile"
	"sandbox/spec"

	"golang.org/x/sys/unix"
)

// Errors of the store, for exit codes and messages in podman's words.
var (
	ErrNotFound = errors.New("network not found")
	ErrExists   = errors.New("network already exists")
	ErrInUse    = errors.New("network is being used")
)

// Record is a user-defined network as the store keeps it.
type Record struct {
	Name     string            `json:"name"`
	ID       string            `json:"id"`
	Driver   string            `json:"driver"`
	Subnet   string            `json:"subnet"`
	Gateway  string            `json:"gateway"`
	Internal bool              `json:"internal"`
	Labels   map[string]string `json:"labels,omitempty"`
	Created  time.Time         `json:"created"`
	// Members are the containers on the network, by id, running or not;
	// an address is theirs from create to removal.
	Members map[string]Member `json:"members,omitempty"`
}

// Member is a container's place on a network.
type Member struct {
	Name    string   `json:"name"`
	IP      string   `json:"ip"`
	Aliases []string `json:"aliases,omitempty"`
}

// Attachment is what a member needs to join rec.
func (rec *Record) Attachment(id string) spec.Attachment {
	m := rec.Members[id]
	return spec.Attachment{Network: rec.Name, ID: rec.ID, Subnet: rec.Subnet, Gateway: rec.Gateway,
		Internal: rec.Internal, IP: m.IP, Aliases: m.Aliases}
}

// Store is the records of one user's networks: a JSON file per network
// in Dir, changed under Dir/.lock.
type Store struct{ Dir string }

// DirIn is the networks' directory of the storage at graphRoot, as
// podman keeps its networks beside its storage.
func DirIn(graphRoot string) string { return filepath.Join(graphRoot, "networks") }

func (s Store) lock() (*lockfile.Lock, error) {
	if err := os.MkdirAll(s.Dir, 0o700); err != nil {
		return nil, fmt.Errorf("networks directory: %w", err)
	}
	return lockfile.Acquire(filepath.Join(s.Dir, ".lock"))
}

func (s Store) path(name string) string { return filepath.Join(s.Dir, name+".json") }

func (s Store) write(rec *Record) error {
	data, err := json.MarshalIndent(rec, "", "  ")
	if err != nil {
		return err
	}
	return atomicfile.Write(s.path(rec.Name), data, 0o600)
}

// list reads every record, by name.
func (s Store) list() ([]*Record, error) {
	ents, err := os.ReadDir(s.Dir)
	if errors.Is(err, os.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("read networks: %w", err)
	}
	var recs []*Record
	for _, e := range ents {
		name, ok := strings.CutSuffix(e.Name(), ".json")
		if !ok || strings.HasPrefix(name, ".") {
			continue
		}
		data, err := os.ReadFile(filepath.Join(s.Dir, e.Name()))
		if err != nil {
			return nil, fmt.Errorf("read network %s: %w", name, err)
		}
		rec := &Record{}
		if err := json.Unmarshal(data, rec); err != nil {
			return nil, fmt.Errorf("network %s: %w", name, err)
		}
		recs = append(recs, rec)
	}
	sort.Slice(recs, func(i, j int) bool { return recs[i].Name < recs[j].Name })
	return recs, nil
}

// find is the record named nameOrID, or whose id starts with it.
func find(recs []*Record, nameOrID string) (*Record, error) {
	var byID []*Record
	for _, r := range recs {
		if r.Name == nameOrID || r.ID == nameOrID {
			return r, nil
		}
		if len(nameOrID) >= 3 && strings.HasPrefix(r.ID, nameOrID) {
			byID = append(byID, r)
		}
	}
	if len(byID) == 1 {
		return byID[0], nil
	}
	return nil, fmt.Errorf("unable to find network with name or ID %s: %w", nameOrID, ErrNotFound)
}

// List is every network, by name.
func (s Store) List() ([]*Record, error) {
	l, err := s.lock()
	if err != nil {
		return nil, err
	}
	defer l.Unlock()
	return s.list()
}

// Get is the network named nameOrID (or whose id starts with it).
func (s Store) Get(nameOrID string) (*Record, error) {
	recs, err := s.List()
	if err != nil {
		return nil, err
	}
	return find(recs, nameOrID)
}

// CreateOptions are network create's flags.
type CreateOptions struct {
	Name string
	// Subnet and Gateway: "" chooses (the first free 10.89.N.0/24, its
	// first address).
	Subnet, Gateway string
	Internal        bool
	Labels          map[string]string
	// Driver: "" or bridge.
	Driver string
	// HostRoutes are the host's routed prefixes, which a subnet must not
	// overlap (HostRoutes reads them).
	HostRoutes []netip.Prefix
}

// Create makes the record of a new network; no bridge is made before a
// member joins.
func (s Store) Create(o CreateOptions) (*Record, error) {
	if err := CheckName(o.Name); err != nil {
		return nil, err
	}
	if o.Driver != "" && o.Driver != "bridge" {
		return nil, fmt.Errorf("unsupported network driver %q: want bridge", o.Driver)
	}
	l, err := s.lock()
	if err != nil {
		return nil, err
	}
	defer l.Unlock()
	recs, err := s.list()
	if err != nil {
		return nil, err
	}
	for _, r := range recs {
		if r.Name == o.Name {
			return nil, fmt.Errorf("network name %s already used: %w", o.Name, ErrExists)
		}
	}
	var taken []namedPrefix
	for _, r := range recs {
		if p, err := netip.ParsePrefix(r.Subnet); err == nil {
			taken = append(taken, namedPrefix{p, "network " + r.Name})
		}
	}
	for _, p := range o.HostRoutes {
		taken = append(taken, namedPrefix{p, "a route of the host"})
	}
	taken = append(taken, namedPrefix{wayOut, "the networks' way out (slirp4netns)"})
	subnet, gw, err := chooseSubnet(o.Subnet, o.Gateway, taken)
	if err != nil {
		return nil, err
	}
	// getrandom(2) itself: crypto/rand would bring the crypto packages
	// into the monitor, which links this package for Join.
	id := make([]byte, 32)
	if n, err := unix.Getrandom(id, 0); err != nil || n != len(id) {
		return nil, fmt.Errorf("network id: getrandom: %d bytes, %v", n, err)
	}
	rec := &Record{Name: o.Name, ID: hex.EncodeToString(id), Driver: "bridge", Subnet: subnet.String(),
		Gateway: gw.String(), Internal: o.Internal, Labels: o.Labels, Created: time.Now().UTC()}
	if err := s.write(rec); err != nil {
		return nil, err
	}
	return rec, nil
}

// Remove removes the networks named; one with members is refused
// (ErrInUse) unless removeMember, when given, removes each member first
// (network rm -f removes its containers, as podman does).
func (s Store) Remove(nameOrID string, removeMember func(id string) error) (*Record, error) {
	rec, err := s.Get(nameOrID)
	if err != nil {
		return nil, err
	}
	if len(rec.Members) > 0 {
		if removeMember == nil {
			names := make([]string, 0, len(rec.Members))
			for _, m := range rec.Members {
				names = append(names, m.Name)
			}
			sort.Strings(names)
			return nil, fmt.Errorf("%w: network %s has containers %s: remove them first, or use -f", ErrInUse, rec.Name, strings.Join(names, ", "))
		}
		for id := range rec.Members {
			if err := removeMember(id); err != nil {
				return nil, fmt.Errorf("remove network %s: %w", rec.Name, err)
			}
		}
	}
	l, err := s.lock()
	if err != nil {
		return nil, err
	}
	defer l.Unlock()
	recs, err := s.list()
	if err != nil {
		return nil, err
	}
	if rec, err = find(recs, rec.ID); err != nil {
		return nil, err
	}
	if len(rec.Members) > 0 {
		return nil, fmt.Errorf("%w: network %s gained a container while it was removed", ErrInUse, rec.Name)
	}
	if err := os.Remove(s.path(rec.Name)); err != nil {
		return nil, fmt.Errorf("remove network %s: %w", rec.Name, err)
	}
	return rec, nil
}

// Prune removes every network without members, whose labels match keep
// (nil keeps none back); it returns their records.
func (s Store) Prune(keep func(*Record) bool) ([]*Record, error) {
	l, err := s.lock()
	if err != nil {
		return nil, err
	}
	defer l.Unlock()
	recs, err := s.list()
	if err != nil {
		return nil, err
	}
	var gone []*Record
	for _, r := range recs {
		if len(r.Members) > 0 || (keep != nil && keep(r)) {
			continue
		}
		if err := os.Remove(s.path(r.Name)); err != nil {
			return gone, fmt.Errorf("remove network %s: %w", r.Name, err)
		}
		gone = append(gone, r)
	}
	return gone, nil
}

// JoinOptions are a container's --network NAME, --network-alias and --ip.
type JoinOptions struct {
	Network     string
	ContainerID string
	Name        string
	Aliases     []string
	// IP is --ip; "" chooses the first free address.
	IP string
}

// Attach gives the container an address on the network (a member, from
// now until Release), refusing a network that does not exist, an alias
// or name that another member has, and an address that is taken or
// outside the subnet.
func (s Store) Attach(o JoinOptions) (spec.Attachment, error) {
	for _, a := range o.Aliases {
		if err := CheckAlias(a); err != nil {
			return spec.Attachment{}, err
		}
	}
	l, err := s.lock()
	if err != nil {
		return spec.Attachment{}, err
	}
	defer l.Unlock()
	recs, err := s.list()
	if err != nil {
		return spec.Attachment{}, err
	}
	rec, err := find(recs, o.Network)
	if err != nil {
		return spec.Attachment{}, err
	}
	if _, ok := rec.Members[o.ContainerID]; ok {
		return spec.Attachment{}, fmt.Errorf("container %s is already connected to network %s", o.Name, rec.Name)
	}
	mine := append([]string{o.Name}, o.Aliases...)
	for id, m := range rec.Members {
		theirs := append([]string{m.Name, id[:12]}, m.Aliases...)
		for _, n := range mine {
			if n != "" && slices.Contains(theirs, n) {
				return spec.Attachment{}, fmt.Errorf("network alias %q is already used on network %s by container %s: choose another", n, rec.Name, m.Name)
			}
		}
	}
	ip, err := chooseIP(rec, o.IP)
	if err != nil {
		return spec.Attachment{}, err
	}
	if rec.Members == nil {
		rec.Members = map[string]Member{}
	}
	rec.Members[o.ContainerID] = Member{Name: o.Name, IP: ip.String(), Aliases: o.Aliases}
	if err := s.write(rec); err != nil {
		return spec.Attachment{}, err
	}
	return rec.Attachment(o.ContainerID), nil
}

// Rename records a member's new name on every network it is on.
func (s Store) Rename(containerID, name string) error {
	if _, err := os.Stat(s.Dir); errors.Is(err, os.ErrNotExist) {
		return nil
	}
	l, err := s.lock()
	if err != nil {
		return err
	}
	defer l.Unlock()
	recs, err := s.list()
	if err != nil {
		return err
	}
	for _, r := range recs {
		if m, ok := r.Members[containerID]; ok {
			m.Name = name
			r.Members[containerID] = m
			if err := s.write(r); err != nil {
				return err
			}
		}
	}
	return nil
}

// Detach removes the container from the network named.
func (s Store) Detach(network, containerID string) error {
	return s.release(containerID, network)
}

// Release removes the container from every network it is on (its
// removal): the address is free again.
func (s Store) Release(containerID string) error { return s.release(containerID, "") }

func (s Store) release(containerID, only string) error {
	if _, err := os.Stat(s.Dir); errors.Is(err, os.ErrNotExist) {
		return nil
	}
	l, err := s.lock()
	if err != nil {
		return err
	}
	defer l.Unlock()
	recs, err := s.list()
	if err != nil {
		return err
	}
	found := only == ""
	for _, r := range recs {
		if only != "" && r.Name != only && r.ID != only {
			continue
		}
		if _, ok := r.Members[containerID]; !ok {
			continue
		}
		found = true
		delete(r.Members, containerID)
		if err := s.write(r); err != nil {
			return err
		}
	}
	if !found {
		return fmt.Errorf("container is not connected to network %s", only)
	}
	return nil
}
