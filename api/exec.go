package api

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"io"
	"net/http"
	"sync"
	"time"

	"sandbox/container"
	"sandbox/nsenter"

	ctrtypes "github.com/moby/moby/api/types/container"
)

// execInstance is an exec created by POST /containers/ID/exec: run by
// its start, inspected until it is gone with its container.
type execInstance struct {
	id, container string
	cfg           ctrtypes.ExecCreateRequest

	mu      sync.Mutex
	started bool
	running bool
	code    *int
	ended   time.Time // when it ended; zero while it has not
	resize  chan [2]uint16
}

func (s *Server) createExec(w http.ResponseWriter, r *http.Request) error {
	ref := r.PathValue("id")
	var req ctrtypes.ExecCreateRequest
	if err := decode(r, w, &req); err != nil {
		return err
	}
	if len(req.Cmd) == 0 {
		return badRequest("No exec command specified")
	}
	_, st, err := s.state(ref)
	if err != nil {
		return err
	}
	if !st.Running {
		return conflict("Container %s is not running", ref)
	}
	if st.Paused {
		return conflict("Container %s is paused, unpause the container before exec", ref)
	}
	c, err := s.rt.Lookup(ref)
	if err != nil {
		return ctrErr(ref, err)
	}
	var b [32]byte
	if _, err := rand.Read(b[:]); err != nil {
		return err
	}
	e := &execInstance{id: hex.EncodeToString(b[:]), container: c.ID, cfg: req, resize: make(chan [2]uint16, 4)}
	s.mu.Lock()
	s.forgetExited()
	s.execs[e.id] = e
	s.mu.Unlock()
	writeJSON(w, http.StatusCreated, ctrtypes.ExecCreateResponse{ID: e.id})
	return nil
}

func (s *Server) execFor(id string) (*execInstance, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	e := s.execs[id]
	if e == nil {
		return nil, notFound("No such exec instance: %s", id)
	}
	return e, nil
}

// startExec runs the exec through the engine's exec (the CLI's), with
// the hijacked connection for its streams.
func (s *Server) startExec(w http.ResponseWriter, r *http.Request) error {
	e, err := s.execFor(r.PathValue("id"))
	if err != nil {
		return err
	}
	var req ctrtypes.ExecStartRequest
	if err := decode(r, w, &req); err != nil {
		return err
	}
	e.mu.Lock()
	if e.started {
		e.mu.Unlock()
		return conflict("Error: Exec command %s is already running", e.id)
	}
	e.started, e.running = true, true
	e.mu.Unlock()
	cfg := e.cfg
	tty := cfg.Tty || req.Tty
	o := container.ExecOptions{
		Command: cfg.Cmd, Env: cfg.Env, Workdir: cfg.WorkingDir, User: cfg.User,
		Interactive: cfg.AttachStdin && !req.Detach, TTY: tty, Privileged: cfg.Privileged, Detach: req.Detach,
	}
	size := cfg.ConsoleSize
	if req.ConsoleSize != nil {
		size = req.ConsoleSize
	}
	if size != nil {
		o.Rows, o.Cols = uint16(size[0]), uint16(size[1])
	}
	if req.Detach {
		code, err := s.rt.Exec(context.Background(), e.container, o)
		e.finish(code, err == nil)
		if err != nil {
			return err
		}
		w.WriteHeader(http.StatusOK)
		return nil
	}
	h, err := hijack(w, r, tty)
	if err != nil {
		e.finish(126, false)
		return err
	}
	defer h.close()
	stdout, stderr := outputs(h.out, tty)
	if !cfg.AttachStdout {
		stdout = io.Discard
	}
	if !cfg.AttachStderr {
		stderr = io.Discard
	}
	o.Streams = &nsenter.Streams{Out: stdout, Err: stderr, Resize: e.resize}
	if o.Interactive {
		o.Streams.In = h.in
	}
	code, err := s.rt.Exec(context.Background(), e.container, o)
	if err != nil {
		// The stream is the client's: the error goes on it, as docker's.
		stderr.Write([]byte(err.Error() + "\n"))
		if code == 0 {
			code = 126
		}
	}
	e.finish(code, true)
	return nil
}

func (e *execInstance) finish(code int, ran bool) {
	e.mu.Lock()
	defer e.mu.Unlock()
	e.running = false
	e.ended = time.Now()
	if ran || code != 0 {
		e.code = &code
	}
}

func (s *Server) resizeExec(w http.ResponseWriter, r *http.Request) error {
	e, err := s.execFor(r.PathValue("id"))
	if err != nil {
		return err
	}
	rows, err := intParam(r, "h", 0)
	if err != nil {
		return err
	}
	cols, err := intParam(r, "w", 0)
	if err != nil {
		return err
	}
	select {
	case e.resize <- [2]uint16{uint16(rows), uint16(cols)}:
	default: // sizes pile up only when nobody applies them
	}
	w.WriteHeader(http.StatusCreated)
	return nil
}

func (s *Server) inspectExec(w http.ResponseWriter, r *http.Request) error {
	e, err := s.execFor(r.PathValue("id"))
	if err != nil {
		return err
	}
	e.mu.Lock()
	defer e.mu.Unlock()
	resp := ctrtypes.ExecInspectResponse{
		ID: e.id, Running: e.running, ExitCode: e.code, ContainerID: e.container,
		OpenStdin: e.cfg.AttachStdin, OpenStdout: e.cfg.AttachStdout, OpenStderr: e.cfg.AttachStderr,
		ProcessConfig: &ctrtypes.ExecProcessConfig{Tty: e.cfg.Tty, Entrypoint: e.cfg.Cmd[0], Arguments: e.cfg.Cmd[1:], User: e.cfg.User},
	}
	writeJSON(w, http.StatusOK, resp)
	return nil
}
