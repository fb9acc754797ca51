package api

import (
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"net/http"
	"net/netip"
	"sort"

	"sandbox/container"
	"sandbox/events"
	"sandbox/network/usernet"

	nettypes "github.com/moby/moby/api/types/network"
)

// defaultNetwork is the network a container gets when it names none:
// docker's and compose's "bridge" (sandbox's default network mode).
const defaultNetwork = "bridge"

// defaultNetworkID is a stable id for it.
var defaultNetworkID = func() string {
	sum := sha256.Sum256([]byte("sandbox network " + defaultNetwork))
	return hex.EncodeToString(sum[:])
}()

func bridgeNetwork() nettypes.Inspect {
	return nettypes.Inspect{Network: nettypes.Network{
		Name: defaultNetwork, ID: defaultNetworkID, Scope: "local", Driver: "bridge", EnableIPv4: true,
		IPAM: nettypes.IPAM{Driver: "default"}, Options: map[string]string{}, Labels: map[string]string{},
	}, Containers: map[string]nettypes.EndpointResource{}}
}

// isDefaultNetwork: a name, or an id (prefix), of the default network.
func isDefaultNetwork(ref string) bool {
	return ref == defaultNetwork || ref == "default" || len(ref) >= 3 && len(ref) <= len(defaultNetworkID) && defaultNetworkID[:len(ref)] == ref
}

// netErr gives the network store's errors docker's statuses and words.
func netErr(ref string, err error) error {
	switch {
	case errors.Is(err, usernet.ErrNotFound):
		return notFound("network %s not found", ref)
	case errors.Is(err, usernet.ErrExists):
		return conflict("network with name %s already exists", ref)
	case errors.Is(err, usernet.ErrInUse):
		return &apiError{http.StatusForbidden, "error while removing network: " + err.Error()}
	}
	return err
}

// userNetwork is a user-defined network in docker's shape, its members
// listed.
func userNetwork(rec *usernet.Record) nettypes.Inspect {
	n := nettypes.Inspect{Network: nettypes.Network{
		Name: rec.Name, ID: rec.ID, Created: rec.Created, Scope: "local", Driver: rec.Driver, EnableIPv4: true,
		Internal: rec.Internal, Attachable: true, IPAM: nettypes.IPAM{Driver: "default", Options: map[string]string{}},
		Options: map[string]string{}, Labels: rec.Labels,
	}, Containers: map[string]nettypes.EndpointResource{}}
	if n.Labels == nil {
		n.Labels = map[string]string{}
	}
	// The store checked both when the network was made.
	var cfg nettypes.IPAMConfig
	if p, err := netip.ParsePrefix(rec.Subnet); err == nil {
		cfg.Subnet = p
	}
	if a, err := netip.ParseAddr(rec.Gateway); err == nil {
		cfg.Gateway = a
	}
	n.IPAM.Config = []nettypes.IPAMConfig{cfg}
	for id, m := range rec.Members {
		ep := nettypes.EndpointResource{Name: m.Name, EndpointID: endpointID(rec.ID, id)}
		if a, err := netip.ParseAddr(m.IP); err == nil {
			ep.IPv4Address = netip.PrefixFrom(a, cfg.Subnet.Bits())
		}
		n.Containers[id] = ep
	}
	return n
}

// endpointID is a stable id for a container's place on a network.
func endpointID(networkID, containerID string) string {
	sum := sha256.Sum256([]byte(networkID + "/" + containerID))
	return hex.EncodeToString(sum[:])
}

func (s *Server) listNetworks(w http.ResponseWriter, r *http.Request) error {
	args, err := parseFilters(r)
	if err != nil {
		return err
	}
	// type, scope and dangling are the API's; the rest are network ls's.
	var flags []string
	builtin, custom := true, true
	if t := args["type"]; len(t) > 0 {
		builtin, custom = t["builtin"], t["custom"]
	}
	if sc := args["scope"]; len(sc) > 0 && !sc["local"] {
		builtin, custom = false, false
	}
	dangling := args["dangling"]
	for _, k := range sortedKeys(args) {
		switch k {
		case "type", "scope", "dangling":
		case "name", "id", "driver", "label":
			for _, v := range sortedKeys(args[k]) {
				flags = append(flags, k+"="+v)
			}
		default:
			return badRequest("invalid filter '%s'", k)
		}
	}
	out := []nettypes.Summary{}
	if builtin && (len(dangling) == 0 || dangling["false"] || dangling["0"]) {
		n := bridgeNetwork()
		rec := &usernet.Record{Name: n.Name, ID: n.ID, Driver: n.Driver}
		if ok, err := usernet.Match(rec, flags); err != nil {
			return badRequest("%v", err)
		} else if ok {
			out = append(out, nettypes.Summary{Network: n.Network})
		}
	}
	if !custom {
		writeJSON(w, http.StatusOK, out)
		return nil
	}
	recs, err := s.rt.Networks.List()
	if err != nil {
		return err
	}
	for _, rec := range recs {
		ok, err := usernet.Match(rec, flags)
		if err != nil {
			return badRequest("%v", err)
		}
		if len(dangling) > 0 {
			unused := len(rec.Members) == 0
			ok = ok && (dangling["true"] || dangling["1"]) == unused
		}
		if ok {
			out = append(out, nettypes.Summary{Network: userNetwork(rec).Network})
		}
	}
	writeJSON(w, http.StatusOK, out)
	return nil
}

func (s *Server) inspectNetwork(w http.ResponseWriter, r *http.Request) error {
	ref := r.PathValue("id")
	if isDefaultNetwork(ref) {
		writeJSON(w, http.StatusOK, bridgeNetwork())
		return nil
	}
	rec, err := s.rt.Networks.Get(ref)
	if err != nil {
		return netErr(ref, err)
	}
	writeJSON(w, http.StatusOK, userNetwork(rec))
	return nil
}

func (s *Server) createNetwork(w http.ResponseWriter, r *http.Request) error {
	var req nettypes.CreateRequest
	if err := decode(r, w, &req); err != nil {
		return err
	}
	o := usernet.CreateOptions{Name: req.Name, Driver: req.Driver, Internal: req.Internal, Labels: req.Labels}
	switch {
	case req.Name == "":
		return badRequest("network name is empty")
	case isDefaultNetwork(req.Name) || req.Name == "host" || req.Name == "none":
		return &apiError{http.StatusForbidden, req.Name + " is a pre-defined network and cannot be created"}
	case req.Driver != "" && req.Driver != "bridge":
		return badRequest("network driver %q is not supported: want bridge", req.Driver)
	case req.EnableIPv6 != nil && *req.EnableIPv6:
		return badRequest("EnableIPv6: IPv6 on user-defined networks is not supported")
	case req.EnableIPv4 != nil && !*req.EnableIPv4:
		return badRequest("EnableIPv4: a network without IPv4 is not supported")
	case req.Ingress || req.ConfigOnly || req.ConfigFrom != nil || req.Scope == "swarm":
		return badRequest("Ingress, ConfigOnly, ConfigFrom and the swarm scope are not supported")
	case len(req.Options) > 0:
		return badRequest("Options: driver options of networks are not supported")
	}
	if ipam := req.IPAM; ipam != nil {
		if ipam.Driver != "" && ipam.Driver != "default" {
			return badRequest("IPAM.Driver %q is not supported: want default", ipam.Driver)
		}
		if len(ipam.Options) > 0 {
			return badRequest("IPAM.Options are not supported")
		}
		switch len(ipam.Config) {
		case 0:
		case 1:
			c := ipam.Config[0]
			if c.IPRange.IsValid() || len(c.AuxAddress) > 0 {
				return badRequest("IPAM.Config: IPRange and AuxiliaryAddresses are not supported")
			}
			if c.Subnet.IsValid() {
				o.Subnet = c.Subnet.String()
			}
			if c.Gateway.IsValid() {
				o.Gateway = c.Gateway.String()
			}
		default:
			return badRequest("IPAM.Config: a network has one IPv4 subnet")
		}
	}
	var err error
	if o.HostRoutes, err = usernet.HostRoutes(); err != nil {
		return err
	}
	rec, err := s.rt.Networks.Create(o)
	if err != nil {
		if errors.Is(err, usernet.ErrExists) {
			return netErr(req.Name, err)
		}
		return badRequest("%v", err)
	}
	s.networkEvent(events.Create, rec)
	writeJSON(w, http.StatusCreated, nettypes.CreateResponse{ID: rec.ID})
	return nil
}

func (s *Server) removeNetwork(w http.ResponseWriter, r *http.Request) error {
	ref := r.PathValue("id")
	if isDefaultNetwork(ref) {
		return &apiError{http.StatusForbidden, defaultNetwork + " is a pre-defined network and cannot be removed"}
	}
	rec, err := s.rt.Networks.Remove(ref, nil)
	if err != nil {
		return netErr(ref, err)
	}
	s.networkEvent(events.Remove, rec)
	w.WriteHeader(http.StatusNoContent)
	return nil
}

func (s *Server) pruneNetworks(w http.ResponseWriter, r *http.Request) error {
	args, err := parseFilters(r)
	if err != nil {
		return err
	}
	flags := filterFlags(args)
	var ferr error
	gone, err := s.rt.Networks.Prune(func(rec *usernet.Record) bool {
		ok, err := usernet.Match(rec, flags)
		if err != nil {
			ferr = err
		}
		return !ok
	})
	if ferr != nil {
		return badRequest("%v", ferr)
	}
	if err != nil {
		return err
	}
	out := nettypes.PruneReport{NetworksDeleted: []string{}}
	for _, rec := range gone {
		s.networkEvent(events.Remove, rec)
		out.NetworksDeleted = append(out.NetworksDeleted, rec.Name)
	}
	sort.Strings(out.NetworksDeleted)
	writeJSON(w, http.StatusOK, out)
	return nil
}

// networkEvent records a network's create or remove in the events
// journal, as the network commands do; a journal that cannot be written
// is a line in the log.
func (s *Server) networkEvent(st events.Status, rec *usernet.Record) {
	if err := s.rt.Events.Write(events.Event{Type: events.Network, Status: st, ID: rec.ID, Name: rec.Name}); err != nil {
		s.log.Printf("network %s: %v", rec.Name, err)
	}
}

// endpointOptions are a request's endpoint settings as the engine's
// --network-alias and --ip; a field sandbox cannot honour is refused.
func endpointOptions(ep *nettypes.EndpointSettings) (aliases []string, ip string, err error) {
	if ep == nil {
		return nil, "", nil
	}
	switch {
	case len(ep.Links) > 0:
		return nil, "", badRequest("EndpointSettings.Links are not supported")
	case len(ep.DriverOpts) > 0:
		return nil, "", badRequest("EndpointSettings.DriverOpts are not supported")
	case len(ep.MacAddress) > 0:
		return nil, "", badRequest("EndpointSettings.MacAddress is not supported")
	}
	if c := ep.IPAMConfig; c != nil {
		if c.IPv6Address.IsValid() || len(c.LinkLocalIPs) > 0 {
			return nil, "", badRequest("EndpointSettings.IPAMConfig: IPv6 and link-local addresses are not supported")
		}
		if c.IPv4Address.IsValid() {
			ip = c.IPv4Address.String()
		}
	}
	return ep.Aliases, ip, nil
}

func (s *Server) connectNetwork(w http.ResponseWriter, r *http.Request) error {
	ref := r.PathValue("id")
	var req nettypes.ConnectRequest
	if err := decode(r, w, &req); err != nil {
		return err
	}
	if isDefaultNetwork(ref) {
		return badRequest("connecting a container to the default network %s is not supported", defaultNetwork)
	}
	aliases, ip, err := endpointOptions(req.EndpointConfig)
	if err != nil {
		return err
	}
	rec, err := s.rt.Networks.Get(ref)
	if err != nil {
		return netErr(ref, err)
	}
	if err := s.rt.Connect(container.ConnectOptions{Network: rec.Name, Container: req.Container, Aliases: aliases, IP: ip}); err != nil {
		return ctrErr(req.Container, err)
	}
	w.WriteHeader(http.StatusOK)
	return nil
}

func (s *Server) disconnectNetwork(w http.ResponseWriter, r *http.Request) error {
	ref := r.PathValue("id")
	var req nettypes.DisconnectRequest
	if err := decode(r, w, &req); err != nil {
		return err
	}
	if isDefaultNetwork(ref) {
		return badRequest("disconnecting a container from the default network %s is not supported", defaultNetwork)
	}
	if _, err := s.rt.Networks.Get(ref); err != nil {
		return netErr(ref, err)
	}
	if err := s.rt.Disconnect(ref, req.Container); err != nil {
		return ctrErr(req.Container, err)
	}
	w.WriteHeader(http.StatusOK)
	return nil
}
