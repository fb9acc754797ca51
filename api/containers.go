package api

import (
	"context"
	"errors"
	"io"
	"net/http"
	"sort"
	"strconv"
	"strings"
	"time"

	"sandbox/attach"
	"sandbox/container"
	"sandbox/internal/proc"
	"sandbox/network/usernet"
	"sandbox/spec"

	ctrtypes "github.com/moby/moby/api/types/container"
)

// ctrErr gives a missing container docker's message.
func ctrErr(ref string, err error) error {
	if errors.Is(err, container.ErrNoSuchContainer) {
		return notFound("No such container: %s", ref)
	}
	return err
}

func (s *Server) listContainers(w http.ResponseWriter, r *http.Request) error {
	args, err := parseFilters(r)
	if err != nil {
		return err
	}
	flags := filterFlags(args)
	o := container.ListOptions{All: boolParam(r, "all"), Size: boolParam(r, "size")}
	if len(flags) > 0 {
		if o.Filters, err = container.ParseFilters(flags); err != nil {
			return badRequest("%v", err)
		}
	}
	if o.Last, err = intParam(r, "limit", 0); err != nil {
		return err
	}
	list, err := s.rt.ListWith(o)
	if err != nil {
		return err
	}
	out := make([]ctrtypes.Summary, 0, len(list))
	for _, c := range list {
		out = append(out, containerSummary(c))
	}
	writeJSON(w, http.StatusOK, out)
	return nil
}

func (s *Server) createContainer(w http.ResponseWriter, r *http.Request) error {
	var req ctrtypes.CreateRequest
	if err := decode(r, w, &req); err != nil {
		return err
	}
	if p := r.URL.Query().Get("platform"); p != "" && p != "linux" && !strings.HasPrefix(p, "linux/") {
		return badRequest("platform %q is not supported: want linux", p)
	}
	o, err := createOptions(r.URL.Query().Get("name"), &req)
	if err != nil {
		return err
	}
	c, err := s.rt.Create(r.Context(), o)
	if errors.Is(err, container.ErrNameInUse) {
		return conflict("Conflict. %v", err)
	}
	if err != nil {
		if isNoSuchImage(err) {
			return notFound("No such image: %s", o.Image)
		}
		if errors.Is(err, usernet.ErrNotFound) {
			// Not 404: the docker client takes a 404 of create for a
			// missing image, and pulls.
			return badRequest("network %s not found", o.Network)
		}
		return err
	}
	for _, name := range sortedKeys(extraEndpoints(&req, o)) {
		aliases, ip, err := endpointOptions(req.NetworkingConfig.EndpointsConfig[name])
		if err == nil {
			err = s.rt.Connect(container.ConnectOptions{Network: name, Container: c.ID, Aliases: aliases, IP: ip})
		}
		if err != nil {
			// Nothing half made: the container goes.
			if rerr := s.rt.Remove(context.Background(), c.ID, container.RemoveOptions{Force: true, Volumes: true}); rerr != nil {
				s.log.Printf("create: remove %s after a failed connect: %v", c.ID, rerr)
			}
			if errors.Is(err, usernet.ErrNotFound) {
				return badRequest("network %s not found", name)
			}
			return err
		}
	}
	if err := s.rt.MarkCreated(c); err != nil {
		return err
	}
	writeJSON(w, http.StatusCreated, ctrtypes.CreateResponse{ID: c.ID, Warnings: []string{}})
	return nil
}

func (s *Server) inspectContainer(w http.ResponseWriter, r *http.Request) error {
	ref := r.PathValue("id")
	in, err := s.rt.InspectContainer(r.Context(), ref)
	if err != nil {
		return ctrErr(ref, err)
	}
	out, err := inspectResponse(in)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, out)
	return nil
}

// startContainer starts a container with its monitor stream held
// (liveContainer), handing it to the attach sessions that wait. A wait
// that finds no container while its start is in progress waits for the
// start (starting) and then finds the stream.
func (s *Server) startContainer(w http.ResponseWriter, r *http.Request) error {
	ref := r.PathValue("id")
	if r.URL.Query().Get("checkpoint") != "" {
		return notSupported("checkpoints")(w, r)
	}
	c, err := s.rt.Lookup(ref)
	if err != nil {
		return ctrErr(ref, err)
	}
	s.mu.Lock()
	if s.starting[c.ID] != nil {
		s.mu.Unlock()
		w.WriteHeader(http.StatusNotModified)
		return nil
	}
	starting := make(chan struct{})
	s.starting[c.ID] = starting
	s.mu.Unlock()
	defer func() {
		s.mu.Lock()
		delete(s.starting, c.ID)
		s.mu.Unlock()
		close(starting)
	}()
	// The container outlives the request.
	c, started, err := s.rt.StartContainer(context.Background(), c.ID, true)
	if err != nil {
		if strings.Contains(err.Error(), "already running") {
			w.WriteHeader(http.StatusNotModified)
			return nil
		}
		return ctrErr(ref, err)
	}
	l := newLive(c.ID, started.Conn)
	s.mu.Lock()
	s.forgetExited()
	s.live[c.ID] = l
	pending := s.pending[c.ID]
	delete(s.pending, c.ID)
	s.mu.Unlock()
	for _, sess := range pending {
		l.add(sess)
	}
	go l.relay()
	w.WriteHeader(http.StatusNoContent)
	return nil
}

// forgetExited drops the monitor streams of containers that exited over a
// minute ago (a wait for their next exit no longer counts them), and the
// exec instances that ended as long ago. s.mu is held.
func (s *Server) forgetExited() {
	for id, l := range s.live {
		if l.exited() && time.Since(l.started) > time.Minute {
			delete(s.live, id)
		}
	}
	for id, e := range s.execs {
		e.mu.Lock()
		old := !e.ended.IsZero() && time.Since(e.ended) > 5*time.Minute
		e.mu.Unlock()
		if old {
			delete(s.execs, id)
		}
	}
}

// liveFor is the held monitor stream of a running container, connecting
// one when the container was started elsewhere; nil when it does not run.
func (s *Server) liveFor(id string) (*liveContainer, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if l := s.live[id]; l != nil && !l.exited() {
		return l, nil
	}
	_, _, conn, err := s.rt.AttachTo(id)
	if errors.Is(err, container.ErrNotRunning) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	l := newLive(id, conn)
	l.started = time.Time{} // not started here
	s.live[id] = l
	go l.relay()
	return l, nil
}

func (s *Server) attachContainer(w http.ResponseWriter, r *http.Request) error {
	ref := r.PathValue("id")
	c, err := s.rt.Lookup(ref)
	if err != nil {
		return ctrErr(ref, err)
	}
	tty := c.Config != nil && c.Config.Spec.Process.Terminal
	h, err := hijack(w, r, tty)
	if err != nil {
		return err
	}
	defer h.close()
	stdout, stderr := outputs(h.out, tty)
	if !boolParam(r, "stdout") {
		stdout = nil
	}
	if !boolParam(r, "stderr") {
		stderr = nil
	}
	if boolParam(r, "logs") {
		lo := container.LogsOptions{Tail: -1, Stdout: orDiscard(stdout), Stderr: orDiscard(stderr)}
		if err := s.rt.Logs(r.Context(), c.ID, lo); err != nil {
			s.log.Printf("attach %s: logs: %v", ref, err)
		}
	}
	if !boolParam(r, "stream") {
		return nil
	}
	sess := newSession(stdout, stderr, h.in, boolParam(r, "stdin"))
	go sess.input()
	l, err := s.liveFor(c.ID)
	if err != nil {
		s.log.Printf("attach %s: %v", ref, err)
		return nil // the stream is the client's now: nothing else to tell
	}
	if l != nil {
		l.add(sess)
	} else {
		s.mu.Lock()
		s.pending[c.ID] = append(s.pending[c.ID], sess)
		s.mu.Unlock()
	}
	<-sess.done
	s.mu.Lock()
	list := s.pending[c.ID]
	for i, x := range list {
		if x == sess {
			s.pending[c.ID] = append(list[:i], list[i+1:]...)
			break
		}
	}
	if len(s.pending[c.ID]) == 0 {
		delete(s.pending, c.ID)
	}
	s.mu.Unlock()
	if sess.live != nil {
		sess.live.drop(sess)
	}
	return nil
}

func orDiscard(w io.Writer) io.Writer {
	if w == nil {
		return io.Discard
	}
	return w
}

func (s *Server) resizeContainer(w http.ResponseWriter, r *http.Request) error {
	ref := r.PathValue("id")
	rows, err := intParam(r, "h", 0)
	if err != nil {
		return err
	}
	cols, err := intParam(r, "w", 0)
	if err != nil {
		return err
	}
	c, err := s.rt.Lookup(ref)
	if err != nil {
		return ctrErr(ref, err)
	}
	l, err := s.liveFor(c.ID)
	if err != nil {
		return err
	}
	if l == nil {
		return conflict("Container %s is not running", ref)
	}
	if err := l.send(attach.Resize, attach.ResizePayload(uint16(rows), uint16(cols))); err != nil {
		return err
	}
	w.WriteHeader(http.StatusOK)
	return nil
}

// timeoutParam is stop's and restart's t (or timeout): nil when absent.
func timeoutParam(r *http.Request) (*int, error) {
	for _, name := range []string{"t", "timeout"} {
		if r.URL.Query().Get(name) != "" {
			n, err := intParam(r, name, 0)
			return &n, err
		}
	}
	return nil, nil
}

func (s *Server) stopContainer(w http.ResponseWriter, r *http.Request) error {
	ref := r.PathValue("id")
	t, err := timeoutParam(r)
	if err != nil {
		return err
	}
	if sig := r.URL.Query().Get("signal"); sig != "" {
		return badRequest("signal %q: stop with another signal than the container's is not supported", sig)
	}
	_, st, err := s.state(ref)
	if err != nil {
		return err
	}
	if st.Status != spec.StatusRunning && st.Status != spec.StatusPaused && st.Status != spec.StatusRestarting {
		w.WriteHeader(http.StatusNotModified)
		return nil
	}
	if err := s.rt.Stop(r.Context(), ref, container.StopOptions{Timeout: t}); err != nil {
		return ctrErr(ref, err)
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}

// state is a container and its state as inspect reports it.
func (s *Server) state(ref string) (*container.Inspect, *container.InspectState, error) {
	in, err := s.rt.InspectContainer(context.Background(), ref)
	if err != nil {
		return nil, nil, ctrErr(ref, err)
	}
	return in, &in.State, nil
}

func (s *Server) restartContainer(w http.ResponseWriter, r *http.Request) error {
	ref := r.PathValue("id")
	t, err := timeoutParam(r)
	if err != nil {
		return err
	}
	if err := s.rt.Stop(r.Context(), ref, container.StopOptions{Timeout: t}); err != nil {
		return ctrErr(ref, err)
	}
	return s.startContainer(w, r)
}

func (s *Server) killContainer(w http.ResponseWriter, r *http.Request) error {
	ref := r.PathValue("id")
	name := r.URL.Query().Get("signal")
	if name == "" {
		name = "SIGKILL"
	}
	sig, err := container.ParseSignal(name)
	if err != nil {
		return badRequest("%v", err)
	}
	if err := s.rt.Kill(r.Context(), ref, sig); err != nil {
		if errors.Is(err, container.ErrNotRunning) {
			return conflict("Container %s is not running", ref)
		}
		return ctrErr(ref, err)
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}

func (s *Server) pauseContainer(w http.ResponseWriter, r *http.Request) error {
	ref := r.PathValue("id")
	if err := s.rt.Pause(ref); err != nil {
		return ctrErr(ref, err)
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}

func (s *Server) unpauseContainer(w http.ResponseWriter, r *http.Request) error {
	ref := r.PathValue("id")
	if err := s.rt.Unpause(ref); err != nil {
		return ctrErr(ref, err)
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}

func (s *Server) renameContainer(w http.ResponseWriter, r *http.Request) error {
	ref := r.PathValue("id")
	if err := s.rt.Rename(ref, strings.TrimPrefix(r.URL.Query().Get("name"), "/")); err != nil {
		if errors.Is(err, container.ErrNameInUse) {
			return conflict("%v", err)
		}
		return ctrErr(ref, err)
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}

func (s *Server) updateContainer(w http.ResponseWriter, r *http.Request) error {
	ref := r.PathValue("id")
	var req ctrtypes.UpdateConfig
	if err := decode(r, w, &req); err != nil {
		return err
	}
	if req.RestartPolicy.Name != "" {
		return badRequest("RestartPolicy: changing the restart policy of a container is not supported")
	}
	var o container.ResourceOptions
	if err := resourceOptions(&req.Resources, &o); err != nil {
		return err
	}
	if err := s.rt.Update(ref, &o); err != nil {
		return ctrErr(ref, err)
	}
	writeJSON(w, http.StatusOK, ctrtypes.UpdateResponse{Warnings: []string{}})
	return nil
}

// waitContainer waits as docker's conditions say: not-running (the
// default) returns at once for a container that does not run; next-exit
// waits for the next exit, counting a start made here just before (a
// client sends its wait and its start together); removed waits, after
// that, for the container to be gone.
func (s *Server) waitContainer(w http.ResponseWriter, r *http.Request) error {
	ref := r.PathValue("id")
	cond := r.URL.Query().Get("condition")
	switch cond {
	case "", "not-running", "next-exit", "removed":
	default:
		return badRequest("invalid condition: %q", cond)
	}
	c, err := s.rt.Lookup(ref)
	if err != nil {
		return ctrErr(ref, err)
	}
	arrived := time.Now()
	// The answer's headers go at once, as docker's: the client knows its
	// wait is in place.
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(http.StatusOK)
	flush(w)
	code, err := s.waitExit(r.Context(), c.ID, cond, arrived)
	if err == nil && cond == "removed" {
		err = s.waitRemoved(r.Context(), c.ID)
	}
	resp := ctrtypes.WaitResponse{StatusCode: int64(code)}
	if err != nil {
		if r.Context().Err() != nil {
			return nil
		}
		resp.Error = &ctrtypes.WaitExitError{Message: err.Error()}
	}
	writeBody(w, resp)
	return nil
}

// streamOf is the monitor stream this server holds for container id, and
// its start in progress here; either may be nil.
func (s *Server) streamOf(id string) (*liveContainer, chan struct{}) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.live[id], s.starting[id]
}

func (s *Server) waitExit(ctx context.Context, id, cond string, arrived time.Time) (int, error) {
	for {
		l, starting := s.streamOf(id)
		if l == nil && starting != nil {
			select {
			case <-starting:
				continue
			case <-ctx.Done():
				return 0, ctx.Err()
			}
		}
		// A start made here: its exit, unless it came long before.
		if l != nil && !l.started.IsZero() && (!l.exited() || l.started.After(arrived.Add(-2*time.Second))) {
			select {
			case <-l.done:
				return l.code, nil
			case <-ctx.Done():
				return 0, ctx.Err()
			}
		}
		in, err := s.rt.InspectContainer(ctx, id)
		if errors.Is(err, container.ErrNoSuchContainer) {
			if l != nil && l.exited() {
				return l.code, nil
			}
			// A start made here since the look above: its stream.
			if now, starting := s.streamOf(id); now == l && starting == nil {
				return 0, notFound("No such container: %s", id)
			}
			continue
		}
		if err != nil {
			return 0, err
		}
		if in.State.Running || in.State.Paused || in.State.Restarting {
			if l, err := s.liveFor(id); err == nil && l != nil {
				select {
				case <-l.done:
					return l.code, nil
				case <-ctx.Done():
					return 0, ctx.Err()
				}
			}
		} else if cond == "" || cond == "not-running" {
			return in.State.ExitCode, nil
		}
		select {
		case <-ctx.Done():
			return 0, ctx.Err()
		case <-time.After(20 * time.Millisecond):
		}
	}
}

// waitRemoved waits for the container to be gone. A --rm container's
// removal is the last work of its monitor, which has become its cleanup:
// while that process lives, the wait sleeps on its pidfd (20 ms at a
// time, so that a wait given up is seen) and looks again as soon as it
// ends, not up to 20 ms later (docker run --rm waits so for every
// container). A removal by another process, the monitor gone, is looked
// for every 20 ms.
func (s *Server) waitRemoved(ctx context.Context, id string) error {
	for {
		c, err := s.rt.Lookup(id)
		if errors.Is(err, container.ErrNoSuchContainer) {
			return nil
		}
		if err == nil {
			if st, err := spec.ReadState(c.RunDir); err == nil && proc.Alive(st.MonitorPid, st.MonitorStart) {
				proc.AwaitEnd(st.MonitorPid, st.MonitorStart, removalLook)
				if err := ctx.Err(); err != nil {
					return err
				}
				continue
			}
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(removalLook):
		}
	}
}

// removalLook is how often waitRemoved looks for a removal it cannot
// hear of.
const removalLook = 20 * time.Millisecond

// writeBody writes v as JSON after the headers were sent.
func writeBody(w http.ResponseWriter, v any) {
	writeJSONBody(w, v)
	flush(w)
}

func (s *Server) removeContainer(w http.ResponseWriter, r *http.Request) error {
	ref := r.PathValue("id")
	c, err := s.rt.Lookup(ref)
	if err != nil {
		return ctrErr(ref, err)
	}
	if boolParam(r, "link") {
		return badRequest("link: links are not supported")
	}
	err = s.rt.Remove(r.Context(), c.ID, container.RemoveOptions{Force: boolParam(r, "force"), Volumes: boolParam(r, "v")})
	if errors.Is(err, container.ErrRunning) {
		return conflict("You cannot remove a running container %s. Stop the container before attempting removal or force remove", c.ID)
	}
	if err != nil {
		return ctrErr(ref, err)
	}
	s.mu.Lock()
	delete(s.live, c.ID)
	s.mu.Unlock()
	w.WriteHeader(http.StatusNoContent)
	return nil
}

func (s *Server) pruneContainers(w http.ResponseWriter, r *http.Request) error {
	args, err := parseFilters(r)
	if err != nil {
		return err
	}
	if len(args) > 0 {
		return badRequest("filters: container prune with filters is not supported")
	}
	rep, err := s.rt.Prune(r.Context())
	if err != nil {
		return err
	}
	out := ctrtypes.PruneReport{ContainersDeleted: rep.Deleted, SpaceReclaimed: uint64(max(rep.SpaceReclaimed, 0))}
	if out.ContainersDeleted == nil {
		out.ContainersDeleted = []string{}
	}
	writeJSON(w, http.StatusOK, out)
	return nil
}

func (s *Server) logsContainer(w http.ResponseWriter, r *http.Request) error {
	ref := r.PathValue("id")
	c, err := s.rt.Lookup(ref)
	if err != nil {
		return ctrErr(ref, err)
	}
	q := r.URL.Query()
	if !boolParam(r, "stdout") && !boolParam(r, "stderr") {
		return badRequest("Bad parameters: you must choose at least one stream")
	}
	o := container.LogsOptions{Follow: boolParam(r, "follow"), Timestamps: boolParam(r, "timestamps"), Tail: -1}
	if t := q.Get("tail"); t != "" && t != "all" {
		if o.Tail, err = container.ParseTail(t); err != nil {
			return badRequest("%v", err)
		}
	}
	if o.Since, err = logTime(q.Get("since")); err != nil {
		return err
	}
	if o.Until, err = logTime(q.Get("until")); err != nil {
		return err
	}
	tty := c.Config != nil && c.Config.Spec.Process.Terminal
	if tty {
		w.Header().Set("Content-Type", "application/vnd.docker.raw-stream")
	} else {
		w.Header().Set("Content-Type", "application/vnd.docker.multiplexed-stream")
	}
	w.WriteHeader(http.StatusOK)
	flush(w)
	o.Stdout, o.Stderr = outputs(w, tty)
	if !boolParam(r, "stdout") {
		o.Stdout = io.Discard
	}
	if !boolParam(r, "stderr") {
		o.Stderr = io.Discard
	}
	if err := s.rt.Logs(r.Context(), c.ID, o); err != nil && r.Context().Err() == nil {
		s.log.Printf("logs %s: %v", ref, err)
	}
	return nil
}

// logTime reads since and until: Unix seconds (with a fraction); 0 is
// unbounded.
func logTime(v string) (time.Time, error) {
	if v == "" || v == "0" {
		return time.Time{}, nil
	}
	return eventTime(v)
}

func (s *Server) topContainer(w http.ResponseWriter, r *http.Request) error {
	ref := r.PathValue("id")
	if a := r.URL.Query().Get("ps_args"); a != "" && a != "-ef" {
		return badRequest("ps_args %q is not supported", a)
	}
	procs, err := s.rt.Top(ref)
	if err != nil {
		if errors.Is(err, container.ErrNotRunning) {
			return conflict("Container %s is not running", ref)
		}
		return ctrErr(ref, err)
	}
	resp := ctrtypes.TopResponse{Titles: []string{"USER", "PID", "PPID", "%CPU", "ELAPSED", "TTY", "TIME", "COMMAND"}, Processes: [][]string{}}
	for _, p := range procs {
		resp.Processes = append(resp.Processes, p.Row())
	}
	sort.SliceStable(resp.Processes, func(i, j int) bool {
		a, _ := strconv.Atoi(resp.Processes[i][1])
		b, _ := strconv.Atoi(resp.Processes[j][1])
		return a < b
	})
	writeJSON(w, http.StatusOK, resp)
	return nil
}
