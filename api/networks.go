package api

import (
	"crypto/sha256"
	"encoding/hex"
	"net/http"

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

func (s *Server) listNetworks(w http.ResponseWriter, r *http.Request) error {
	args, err := parseFilters(r)
	if err != nil {
		return err
	}
	out := []nettypes.Summary{}
	n := bridgeNetwork()
	keep := true
	for key, vals := range args {
		switch key {
		case "name":
			keep = keep && vals[n.Name]
		case "id":
			keep = keep && vals[n.ID]
		case "driver":
			keep = keep && vals[n.Driver]
		case "type":
			keep = keep && vals["builtin"]
		case "label", "scope", "dangling":
			keep = keep && key == "scope" && vals["local"]
		default:
			return badRequest("invalid filter '%s'", key)
		}
	}
	if keep {
		out = append(out, nettypes.Summary{Network: n.Network})
	}
	writeJSON(w, http.StatusOK, out)
	return nil
}

func (s *Server) inspectNetwork(w http.ResponseWriter, r *http.Request) error {
	ref := r.PathValue("id")
	if !isDefaultNetwork(ref) {
		return notFound("network %s not found", ref)
	}
	writeJSON(w, http.StatusOK, bridgeNetwork())
	return nil
}
