package api

import (
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"sort"
	"strings"

	"sandbox/build/commit"
	"sandbox/container"
	"sandbox/imagetools"

	"github.com/moby/moby/api/types/common"
	ctrtypes "github.com/moby/moby/api/types/container"
)

// pathErr gives cp's errors docker's statuses.
func pathErr(ref string, err error) error {
	switch {
	case errors.Is(err, imagetools.ErrNotFound):
		return notFound("%v", err)
	case errors.Is(err, container.ErrNoSuchContainer):
		return notFound("No such container: %s", ref)
	}
	return err
}

// archivePath is the path parameter of the archive endpoints.
func archivePath(r *http.Request) (string, error) {
	p := r.URL.Query().Get("path")
	if p == "" {
		return "", badRequest("path is empty: give the path in the container")
	}
	return p, nil
}

// setPathStat sets docker's X-Docker-Container-Path-Stat header: the
// path's stat as base64 JSON.
func (s *Server) setPathStat(w http.ResponseWriter, r *http.Request) error {
	ref := r.PathValue("id")
	p, err := archivePath(r)
	if err != nil {
		return err
	}
	st, err := imagetools.Stat(r.Context(), s.rt, ref, p)
	if err != nil {
		return pathErr(ref, err)
	}
	data, err := json.Marshal(ctrtypes.PathStat{Name: st.Name, Size: st.Size, Mode: st.Mode, Mtime: st.Mtime, LinkTarget: st.LinkTarget})
	if err != nil {
		return err
	}
	w.Header().Set("X-Docker-Container-Path-Stat", base64.StdEncoding.EncodeToString(data))
	return nil
}

func (s *Server) statArchive(w http.ResponseWriter, r *http.Request) error {
	if err := s.setPathStat(w, r); err != nil {
		return err
	}
	w.WriteHeader(http.StatusOK)
	return nil
}

// getArchive is docker cp out: a tar of the path, the same stream as
// `sandbox cp CTR:PATH -`.
func (s *Server) getArchive(w http.ResponseWriter, r *http.Request) error {
	ref := r.PathValue("id")
	p, err := archivePath(r)
	if err != nil {
		return err
	}
	if err := s.setPathStat(w, r); err != nil {
		return err
	}
	w.Header().Set("Content-Type", "application/x-tar")
	out := &lazyWriter{w: w}
	err = imagetools.Copy(r.Context(), s.rt, imagetools.CopyOptions{Src: ref + ":" + p, Dst: "-", Stdout: out})
	if err != nil && !out.started {
		return pathErr(ref, err)
	}
	if err != nil {
		s.log.Printf("archive %s %s: %v", ref, p, err)
	}
	return nil
}

// putArchive is docker cp in: the request's tar is unpacked into the
// directory path, as `sandbox cp - CTR:PATH` does.
func (s *Server) putArchive(w http.ResponseWriter, r *http.Request) error {
	ref := r.PathValue("id")
	p, err := archivePath(r)
	if err != nil {
		return err
	}
	if q := r.URL.Query().Get("noOverwriteDirNonDir"); q != "" && !boolParam(r, "noOverwriteDirNonDir") {
		return badRequest("noOverwriteDirNonDir=false is not supported: a directory is never replaced by a file")
	}
	o := imagetools.CopyOptions{Src: "-", Dst: ref + ":" + p, Stdin: r.Body, Archive: boolParam(r, "copyUIDGID")}
	if err := imagetools.Copy(r.Context(), s.rt, o); err != nil {
		return pathErr(ref, err)
	}
	w.WriteHeader(http.StatusOK)
	return nil
}

// lazyWriter sends the answer's headers with its first bytes, so that a
// failure before any can still be answered with an error.
type lazyWriter struct {
	w       http.ResponseWriter
	started bool
}

func (l *lazyWriter) Write(b []byte) (int, error) {
	if !l.started {
		l.started = true
		l.w.WriteHeader(http.StatusOK)
	}
	return l.w.Write(b)
}

func (s *Server) exportContainer(w http.ResponseWriter, r *http.Request) error {
	ref := r.PathValue("id")
	if _, err := s.rt.Lookup(ref); err != nil {
		return ctrErr(ref, err)
	}
	w.Header().Set("Content-Type", "application/x-tar")
	out := &lazyWriter{w: w}
	err := imagetools.Export(r.Context(), s.rt, ref, out)
	if err != nil && !out.started {
		return ctrErr(ref, err)
	}
	if err != nil {
		s.log.Printf("export %s: %v", ref, err)
	}
	return nil
}

func (s *Server) containerChanges(w http.ResponseWriter, r *http.Request) error {
	ref := r.PathValue("id")
	if _, err := s.rt.Lookup(ref); err != nil {
		return ctrErr(ref, err)
	}
	changes, err := imagetools.Diff(r.Context(), s.rt, ref)
	if err != nil {
		return ctrErr(ref, err)
	}
	kinds := map[string]ctrtypes.ChangeType{"C": ctrtypes.ChangeModify, "A": ctrtypes.ChangeAdd, "D": ctrtypes.ChangeDelete}
	out := []ctrtypes.FilesystemChange{}
	for _, c := range changes {
		out = append(out, ctrtypes.FilesystemChange{Kind: kinds[c.Kind], Path: c.Path})
	}
	writeJSON(w, http.StatusOK, out)
	return nil
}

// commitContainer is docker commit: the same engine call as `sandbox
// commit`. The configuration in the body becomes --change instructions.
func (s *Server) commitContainer(w http.ResponseWriter, r *http.Request) error {
	q := r.URL.Query()
	ref := q.Get("container")
	if ref == "" {
		return badRequest("container is empty: give the container to commit")
	}
	var cfg *ctrtypes.Config
	if err := decode(r, w, &cfg); err != nil {
		return err
	}
	o := commit.Options{Container: ref, Message: q.Get("comment"), Author: q.Get("author"), Changes: q["changes"]}
	// docker pauses unless told not to.
	o.Pause = q.Get("pause") == "" || boolParam(r, "pause")
	if repo := q.Get("repo"); repo != "" {
		o.Image = repo
		if tag := q.Get("tag"); tag != "" {
			o.Image += ":" + tag
		}
	} else if q.Get("tag") != "" {
		return badRequest("tag %q without repo", q.Get("tag"))
	}
	more, err := configChanges(cfg)
	if err != nil {
		return err
	}
	o.Changes = append(o.Changes, more...)
	id, err := commit.Commit(r.Context(), s.rt, o)
	if err != nil {
		return ctrErr(ref, err)
	}
	writeJSON(w, http.StatusCreated, common.IDResponse{ID: "sha256:" + strings.TrimPrefix(id, "sha256:")})
	return nil
}

// configChanges turns the configuration of a commit request into
// Dockerfile instructions; a field that has none is refused, named.
func configChanges(cfg *ctrtypes.Config) ([]string, error) {
	if cfg == nil {
		return nil, nil
	}
	var out []string
	jsonForm := func(instr string, v []string) error {
		data, err := json.Marshal(v)
		if err != nil {
			return err
		}
		out = append(out, instr+" "+string(data))
		return nil
	}
	if len(cfg.Cmd) > 0 {
		if err := jsonForm("CMD", cfg.Cmd); err != nil {
			return nil, err
		}
	}
	if len(cfg.Entrypoint) > 0 {
		if err := jsonForm("ENTRYPOINT", cfg.Entrypoint); err != nil {
			return nil, err
		}
	}
	for _, e := range cfg.Env {
		k, v, _ := strings.Cut(e, "=")
		out = append(out, fmt.Sprintf("ENV %s=%q", k, v))
	}
	if cfg.WorkingDir != "" {
		out = append(out, "WORKDIR "+cfg.WorkingDir)
	}
	if cfg.User != "" {
		out = append(out, "USER "+cfg.User)
	}
	for _, k := range sortedKeys(cfg.Labels) {
		out = append(out, fmt.Sprintf("LABEL %q=%q", k, cfg.Labels[k]))
	}
	var ports []string
	for p := range cfg.ExposedPorts {
		ports = append(ports, p.String())
	}
	sort.Strings(ports)
	for _, p := range ports {
		out = append(out, "EXPOSE "+p)
	}
	for _, v := range sortedKeys(cfg.Volumes) {
		out = append(out, "VOLUME "+v)
	}
	if cfg.StopSignal != "" {
		out = append(out, "STOPSIGNAL "+cfg.StopSignal)
	}
	switch {
	case cfg.Healthcheck != nil && len(cfg.Healthcheck.Test) > 0:
		return nil, badRequest("commit: Config.Healthcheck is not supported")
	case len(cfg.OnBuild) > 0:
		return nil, badRequest("commit: Config.OnBuild is not supported")
	case len(cfg.Shell) > 0:
		return nil, badRequest("commit: Config.Shell is not supported")
	}
	return out, nil
}
