package api

import (
	"context"
	"encoding/json"
	"net/http"
	"os"
	"runtime"
	"strconv"
	"strings"
	"time"

	"sandbox/container"
	"sandbox/events"
	"sandbox/system"

	ctrtypes "github.com/moby/moby/api/types/container"
	eventtypes "github.com/moby/moby/api/types/events"
	imagetypes "github.com/moby/moby/api/types/image"
	systypes "github.com/moby/moby/api/types/system"
	voltypes "github.com/moby/moby/api/types/volume"
)

func (s *Server) ping(w http.ResponseWriter, r *http.Request) error {
	w.Header().Set("Cache-Control", "no-cache, no-store, must-revalidate")
	w.Header().Set("Pragma", "no-cache")
	w.Header().Set("Builder-Version", "1")
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	w.WriteHeader(http.StatusOK)
	if r.Method != http.MethodHead {
		w.Write([]byte("OK"))
	}
	return nil
}

func kernelRelease() string {
	data, err := os.ReadFile("/proc/sys/kernel/osrelease")
	if err != nil {
		return ""
	}
	return strings.TrimSpace(string(data))
}

func (s *Server) versionInfo(w http.ResponseWriter, r *http.Request) error {
	v := systypes.VersionResponse{
		Platform:      systypes.PlatformInfo{Name: "sandbox"},
		Version:       s.version,
		APIVersion:    MaxVersion,
		MinAPIVersion: MinVersion,
		Os:            runtime.GOOS,
		Arch:          runtime.GOARCH,
		GoVersion:     runtime.Version(),
		KernelVersion: kernelRelease(),
		Components: []systypes.ComponentVersion{{
			Name: "Engine", Version: s.version,
			Details: map[string]string{"ApiVersion": MaxVersion, "MinAPIVersion": MinVersion, "Os": runtime.GOOS, "Arch": runtime.GOARCH, "KernelVersion": kernelRelease(), "GoVersion": runtime.Version()},
		}},
	}
	writeJSON(w, http.StatusOK, v)
	return nil
}

func (s *Server) info(w http.ResponseWriter, r *http.Request) error {
	rep, err := system.Info(r.Context(), system.InfoOptions{Runtime: s.rt, Version: s.version})
	if err != nil {
		return err
	}
	h, st := rep.Host, rep.Store
	info := systypes.Info{
		ID:                "sandbox",
		Containers:        st.ContainerStore.Number,
		ContainersRunning: st.ContainerStore.Running,
		ContainersPaused:  st.ContainerStore.Paused,
		ContainersStopped: st.ContainerStore.Stopped,
		Images:            st.ImageStore.Number,
		Driver:            st.GraphDriverName,
		LoggingDriver:     h.LogDriver,
		CgroupDriver:      h.CgroupManager,
		CgroupVersion:     strings.TrimPrefix(h.CgroupsVersion, "v"),
		KernelVersion:     h.Kernel,
		OperatingSystem:   h.Distribution.Distribution + " " + h.Distribution.Version,
		OSType:            runtime.GOOS,
		Architecture:      h.Arch,
		NCPU:              h.CPUs,
		MemTotal:          h.MemTotal,
		DockerRootDir:     st.GraphRoot,
		Name:              h.Hostname,
		ServerVersion:     s.version,
		SecurityOptions:   []string{"name=rootless", "name=seccomp,profile=default"},
	}
	for k, v := range st.GraphStatus {
		info.DriverStatus = append(info.DriverStatus, [2]string{k, v})
	}
	writeJSON(w, http.StatusOK, info)
	return nil
}

// filterArgs are docker's filters: key → set of values.
type filterArgs map[string]map[string]bool

// eventFilter turns docker's filters into the journal's.
func eventFilter(args filterArgs) (events.Filter, error) {
	var f events.Filter
	for key, vals := range args {
		for v := range vals {
			switch key {
			case "container":
				f.Containers = append(f.Containers, v)
			case "image":
				f.Images = append(f.Images, v)
			case "event", "status":
				if v == "die" { // docker's word for the journal's died
					v = string(events.Died)
				}
				f.Statuses = append(f.Statuses, events.Status(v))
			case "type":
				f.Types = append(f.Types, events.Type(v))
			case "label":
				f.Labels = append(f.Labels, v)
			default:
				return f, badRequest("invalid filter '%s'", key)
			}
		}
	}
	return f, nil
}

// parseFilters reads the filters query parameter, docker's JSON map.
func parseFilters(r *http.Request) (filterArgs, error) {
	args := filterArgs{}
	raw := r.URL.Query().Get("filters")
	if raw == "" {
		return args, nil
	}
	if err := json.Unmarshal([]byte(raw), &args); err != nil {
		// The older form: {"key": ["value"]}.
		var old map[string][]string
		if err2 := json.Unmarshal([]byte(raw), &old); err2 != nil {
			return nil, badRequest("invalid filters %q: %v", raw, err)
		}
		args = filterArgs{}
		for k, vs := range old {
			args[k] = map[string]bool{}
			for _, v := range vs {
				args[k][v] = true
			}
		}
	}
	return args, nil
}

// eventTime reads since and until: Unix seconds (with a fraction), or a
// time the logs flags take.
func eventTime(v string) (time.Time, error) {
	if v == "" {
		return time.Time{}, nil
	}
	if f, err := strconv.ParseFloat(v, 64); err == nil {
		sec := int64(f)
		return time.Unix(sec, int64((f-float64(sec))*1e9)), nil
	}
	t, err := container.ParseLogTime(v, time.Now())
	if err != nil {
		return time.Time{}, badRequest("invalid time %q: %v", v, err)
	}
	return t, nil
}

func (s *Server) events(w http.ResponseWriter, r *http.Request) error {
	args, err := parseFilters(r)
	if err != nil {
		return err
	}
	f, err := eventFilter(args)
	if err != nil {
		return err
	}
	o := events.ReadOptions{Filter: f, Follow: true}
	if o.Since, err = eventTime(r.URL.Query().Get("since")); err != nil {
		return err
	}
	if o.Since.IsZero() {
		// docker's events without since are those from now on.
		o.Since = time.Now()
	}
	if o.Until, err = eventTime(r.URL.Query().Get("until")); err != nil {
		return err
	}
	ctx := r.Context()
	if !o.Until.IsZero() && !o.Until.After(time.Now()) {
		o.Follow = false
	} else if !o.Until.IsZero() {
		var cancel func()
		ctx, cancel = context.WithDeadline(ctx, o.Until)
		defer cancel()
	}
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(http.StatusOK)
	flush(w)
	enc := json.NewEncoder(w)
	err = s.rt.Events.Read(ctx, o, func(e events.Event) error {
		if err := enc.Encode(dockerEvent(e)); err != nil {
			return err
		}
		flush(w)
		return nil
	})
	if ctx.Err() != nil {
		return nil // the client left, or until came
	}
	if err != nil {
		s.log.Printf("events: %v", err)
	}
	return nil
}

// dockerEvent is a journal event in docker's shape.
func dockerEvent(e events.Event) eventtypes.Message {
	attrs := map[string]string{}
	for k, v := range e.Attributes {
		attrs[k] = v
	}
	if e.Type == events.Container {
		attrs["name"] = e.Name
		attrs["image"] = e.Image
		if e.Status == events.Died {
			attrs["exitCode"] = strconv.Itoa(e.ContainerExitCode)
		}
	} else if e.Name != "" {
		attrs["name"] = e.Name
	}
	action := string(e.Status)
	if e.Status == events.Died {
		action = "die"
	}
	return eventtypes.Message{
		Type:     eventtypes.Type(e.Type),
		Action:   eventtypes.Action(action),
		Actor:    eventtypes.Actor{ID: e.ID, Attributes: attrs},
		Scope:    "local",
		Time:     e.Time.Unix(),
		TimeNano: e.Time.UnixNano(),
	}
}

// flush sends what is buffered of a streamed answer.
func flush(w http.ResponseWriter) {
	if f, ok := w.(http.Flusher); ok {
		f.Flush()
	}
}

// diskUsageResponse is docker's answer in both shapes: the newer usage
// objects and, for clients before API 1.52, the lists.
type diskUsageResponse struct {
	systypes.DiskUsage
	LayersSize int64
	Images     []imagetypes.Summary
	Containers []ctrtypes.Summary
	Volumes    []voltypes.Volume
	BuildCache []any
}

func (s *Server) diskUsage(w http.ResponseWriter, r *http.Request) error {
	imgs, err := s.imageSummaries()
	if err != nil {
		return err
	}
	list, err := s.rt.ListWith(container.ListOptions{All: true, Size: true})
	if err != nil {
		return err
	}
	vols, users, err := s.volumeList(r, nil)
	if err != nil {
		return err
	}
	resp := diskUsageResponse{Images: imgs, Volumes: []voltypes.Volume{}, BuildCache: []any{}}
	var volSize, active, reclaimable int64
	for _, v := range vols {
		doc := volumeDoc(v, len(users[v.Name]))
		resp.Volumes = append(resp.Volumes, doc)
		size := max(doc.UsageData.Size, 0)
		volSize += size
		if len(users[v.Name]) > 0 {
			active++
		} else {
			reclaimable += size
		}
	}
	resp.VolumeUsage = &voltypes.DiskUsage{TotalCount: int64(len(vols)), ActiveCount: active, TotalSize: volSize, Reclaimable: reclaimable, Items: resp.Volumes}
	var imgSize, ctrSize int64
	for _, i := range imgs {
		imgSize += i.Size
	}
	for _, c := range list {
		sum := containerSummary(c)
		resp.Containers = append(resp.Containers, sum)
		if c.SizeRw > 0 {
			ctrSize += c.SizeRw
		}
	}
	resp.LayersSize = imgSize
	resp.ImageUsage = &imagetypes.DiskUsage{TotalCount: int64(len(imgs)), TotalSize: imgSize, Items: imgs}
	resp.ContainerUsage = &ctrtypes.DiskUsage{TotalCount: int64(len(list)), TotalSize: ctrSize, Items: resp.Containers}
	writeJSON(w, http.StatusOK, resp)
	return nil
}
