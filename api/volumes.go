package api

import (
	"errors"
	"net/http"
	"os"
	"path/filepath"
	"time"

	"sandbox/volume"

	voltypes "github.com/moby/moby/api/types/volume"
)

// filterFlags are the filters of a request as the CLI's KEY=VALUE flags,
// in a stable order, for the engine's own filter parsers.
func filterFlags(args filterArgs) []string {
	var flags []string
	for _, k := range sortedKeys(args) {
		for _, v := range sortedKeys(args[k]) {
			flags = append(flags, k+"="+v)
		}
	}
	return flags
}

// volErr gives the volume store's errors docker's statuses and words.
func volErr(name string, err error) error {
	switch {
	case errors.Is(err, volume.ErrNoSuchVolume):
		return notFound("get %s: no such volume", name)
	case errors.Is(err, volume.ErrInUse):
		return conflict("remove %s: %v", name, err)
	case errors.Is(err, volume.ErrExists):
		return conflict("%v", err)
	case errors.Is(err, volume.ErrInvalidName):
		return badRequest("%v", err)
	}
	return err
}

// volumeDoc is a volume in the API's type; users is how many containers
// use it (-1: not counted).
func volumeDoc(v *volume.Volume, users int) voltypes.Volume {
	out := voltypes.Volume{
		Name: v.Name, Driver: v.Driver, Mountpoint: v.Mountpoint, CreatedAt: v.CreatedAt.Format(time.RFC3339),
		Labels: v.Labels, Scope: "local", Options: v.Options,
	}
	if out.Labels == nil {
		out.Labels = map[string]string{}
	}
	if out.Options == nil {
		out.Options = map[string]string{}
	}
	if users >= 0 {
		out.UsageData = &voltypes.UsageData{Size: dirSize(v.Mountpoint), RefCount: int64(users)}
	}
	return out
}

// dirSize is the bytes of the regular files under dir; -1 when it
// cannot be read (docker's "not available").
func dirSize(dir string) int64 {
	var n int64
	err := filepath.WalkDir(dir, func(_ string, d os.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.Type().IsRegular() {
			fi, err := d.Info()
			if err != nil {
				return err
			}
			n += fi.Size()
		}
		return nil
	})
	if err != nil {
		return -1
	}
	return n
}

// volumeList is every volume that passes the filters (volume ls's), with
// the ids of the containers that use each.
func (s *Server) volumeList(r *http.Request, filters []string) ([]*volume.Volume, map[string][]string, error) {
	f, err := volume.ParseFilters(filters)
	if err != nil {
		return nil, nil, badRequest("%v", err)
	}
	vs, err := s.rt.Volumes()
	if err != nil {
		return nil, nil, err
	}
	// Users first: that waits for --rm containers being removed, and
	// their anonymous volumes with them.
	users, err := s.rt.VolumeUsers(r.Context())
	if err != nil {
		return nil, nil, err
	}
	all, err := vs.List()
	if err != nil {
		return nil, nil, err
	}
	var list []*volume.Volume
	for _, v := range all {
		if f.Match(v, len(users[v.Name]) > 0) {
			list = append(list, v)
		}
	}
	return list, users, nil
}

func (s *Server) listVolumes(w http.ResponseWriter, r *http.Request) error {
	args, err := parseFilters(r)
	if err != nil {
		return err
	}
	list, _, err := s.volumeList(r, filterFlags(args))
	if err != nil {
		return err
	}
	out := voltypes.ListResponse{Volumes: []voltypes.Volume{}, Warnings: []string{}}
	for _, v := range list {
		out.Volumes = append(out.Volumes, volumeDoc(v, -1))
	}
	writeJSON(w, http.StatusOK, out)
	return nil
}

func (s *Server) createVolume(w http.ResponseWriter, r *http.Request) error {
	var req voltypes.CreateRequest
	if err := decode(r, w, &req); err != nil {
		return err
	}
	if req.ClusterVolumeSpec != nil {
		return badRequest("ClusterVolumeSpec: cluster volumes are not supported")
	}
	if req.Driver != "" && req.Driver != volume.DriverLocal {
		return badRequest("volume driver %q is not supported: want local", req.Driver)
	}
	vs, err := s.rt.Volumes()
	if err != nil {
		return err
	}
	v, err := vs.Create(volume.CreateOptions{Name: req.Name, Driver: req.Driver, Labels: req.Labels, Options: req.DriverOpts})
	if errors.Is(err, volume.ErrExists) {
		// docker answers a create of an existing volume with that volume.
		v, err = vs.Get(req.Name)
	}
	if err != nil {
		return volErr(req.Name, err)
	}
	writeJSON(w, http.StatusCreated, volumeDoc(v, -1))
	return nil
}

func (s *Server) inspectVolume(w http.ResponseWriter, r *http.Request) error {
	name := r.PathValue("name")
	vs, err := s.rt.Volumes()
	if err != nil {
		return err
	}
	v, err := vs.Get(name)
	if err != nil {
		return volErr(name, err)
	}
	writeJSON(w, http.StatusOK, volumeDoc(v, -1))
	return nil
}

func (s *Server) removeVolume(w http.ResponseWriter, r *http.Request) error {
	name := r.PathValue("name")
	// docker's force is not podman's: it forgives a volume that is not
	// there, and still refuses one in use.
	err := s.rt.RemoveVolume(r.Context(), name, false)
	if err != nil && !(boolParam(r, "force") && errors.Is(err, volume.ErrNoSuchVolume)) {
		return volErr(name, err)
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}

func (s *Server) pruneVolumes(w http.ResponseWriter, r *http.Request) error {
	args, err := parseFilters(r)
	if err != nil {
		return err
	}
	// From API 1.42 docker prunes only anonymous volumes unless all=true
	// is given; before, every volume no container uses.
	all := args["all"]["true"] || args["all"]["1"] || versionLess(requestVersion(r), "1.42")
	delete(args, "all")
	f, err := volume.ParseFilters(filterFlags(args))
	if err != nil {
		return badRequest("%v", err)
	}
	vs, err := s.rt.Volumes()
	if err != nil {
		return err
	}
	sizes := map[string]int64{}
	list, err := vs.List()
	if err != nil {
		return err
	}
	for _, v := range list {
		sizes[v.Name] = dirSize(v.Mountpoint)
	}
	gone, err := s.rt.PruneVolumes(r.Context(), func(v *volume.Volume) bool {
		return !f.Match(v, false) || (!all && !v.Anonymous)
	})
	if err != nil {
		return err
	}
	out := voltypes.PruneReport{VolumesDeleted: []string{}}
	for _, n := range gone {
		out.VolumesDeleted = append(out.VolumesDeleted, n)
		out.SpaceReclaimed += uint64(max(sizes[n], 0))
	}
	writeJSON(w, http.StatusOK, out)
	return nil
}
