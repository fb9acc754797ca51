package container

import (
	"fmt"

	"sandbox/spec"
	"sandbox/userns"

	"go.podman.io/storage/pkg/idtools"
)

// userNSMaps returns the maps of a container user namespace, or nil to
// share the keeper's.
func userNSMaps(mode string) (uidMap, gidMap []userns.IDMap, err error) {
	if mode != "keep-id" {
		return nil, nil, nil
	}
	uids, gids, err := userns.CurrentMapping()
	if err != nil {
		return nil, nil, fmt.Errorf("--userns=keep-id: %w", err)
	}
	uid, gid := userns.HostIDs()
	if uidMap, err = userns.KeepID(uint32(uid), userns.Size(uids)); err != nil {
		return nil, nil, fmt.Errorf("--userns=keep-id: %w", err)
	}
	if gidMap, err = userns.KeepID(uint32(gid), userns.Size(gids)); err != nil {
		return nil, nil, fmt.Errorf("--userns=keep-id: %w", err)
	}
	return uidMap, gidMap, nil
}

func toIDTools(m []userns.IDMap) []idtools.IDMap {
	out := make([]idtools.IDMap, len(m))
	for i, e := range m {
		out[i] = idtools.IDMap{ContainerID: int(e.ContainerID), HostID: int(e.HostID), Size: int(e.Size)}
	}
	return out
}

func toSpecMap(m []userns.IDMap) []spec.IDMap {
	out := make([]spec.IDMap, len(m))
	for i, e := range m {
		out[i] = spec.IDMap{ContainerID: e.ContainerID, HostID: e.HostID, Size: e.Size}
	}
	return out
}
