package main

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"syscall"
	"time"
)

// dockerCLI is Debian's docker client, the API figures' client.
const dockerCLI = "/usr/bin/docker"

// apiRequests is how many requests the API memory figure sends, after
// apiWarmup requests that touch every endpoint of the mix first (the
// runtime's heap and the store's caches reach their working size).
const (
	apiRequests = 1000
	apiWarmup   = 1000
)

// apiService is a tool's Docker API service started for the API figures.
type apiService struct {
	sock string
	cmd  *exec.Cmd
	done chan error
	logs bytes.Buffer // what the service printed: shown when it fails
}

// startService starts argv (a service command ending in its URI) and
// waits for its socket.
func startService(ctx context.Context, sock string, argv []string) (*apiService, error) {
	s := &apiService{sock: sock, done: make(chan error, 1)}
	s.cmd = exec.Command(argv[0], argv[1:]...)
	s.cmd.Stdout, s.cmd.Stderr = &s.logs, &s.logs
	if err := s.cmd.Start(); err != nil {
		return nil, err
	}
	go func() { s.done <- s.cmd.Wait() }()
	for deadline := time.Now().Add(30 * time.Second); ; {
		if c, err := net.Dial("unix", sock); err == nil {
			c.Close()
			return s, nil
		}
		select {
		case err := <-s.done:
			return nil, fmt.Errorf("%s exited: %v: %s", argv[0], err, s.logs.String())
		case <-time.After(20 * time.Millisecond):
		}
		if time.Now().After(deadline) || ctx.Err() != nil {
			return nil, errors.Join(fmt.Errorf("%s: no socket at %s", argv[0], sock), s.stop())
		}
	}
}

func (s *apiService) stop() error {
	s.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-s.done:
	case <-time.After(20 * time.Second):
		s.cmd.Process.Kill()
		<-s.done
	}
	return removeFile(s.sock)
}

// apiServices starts sandbox's and podman's services for a figure, each
// on a socket in a directory of its own, and returns how to stop them.
func (e *environment) apiServices(ctx context.Context) (sb, pm *apiService, undo func() error, err error) {
	dir, err := os.MkdirTemp(os.Getenv("XDG_RUNTIME_DIR"), "sandbox-bench-api-")
	if err != nil {
		return nil, nil, nil, err
	}
	sbSock, pmSock := filepath.Join(dir, "sandbox.sock"), filepath.Join(dir, "podman.sock")
	undo = func() error {
		var errs []error
		for _, s := range []*apiService{sb, pm} {
			if s != nil {
				errs = append(errs, s.stop())
			}
		}
		return errors.Join(append(errs, os.RemoveAll(dir))...)
	}
	if sb, err = startService(ctx, sbSock, e.sandbox.argv("system", "service", "--time", "0", "unix://"+sbSock)); err != nil {
		return nil, nil, nil, errors.Join(err, undo())
	}
	if pm, err = startService(ctx, pmSock, e.podman.argv("system", "service", "--time", "0", "unix://"+pmSock)); err != nil {
		return nil, nil, nil, errors.Join(err, undo())
	}
	return sb, pm, undo, nil
}

// apiRunFigure: docker run --rm IMAGE true through each tool's socket.
func apiRunFigure(env *environment) *figure {
	tools := []*tool{env.sandbox, env.podman}
	f := &figure{
		name:    "docker run --rm IMAGE true through the API socket",
		about:   "Debian's docker client against `sandbox system service` and `podman system service`, each started before the figure on a unix socket",
		budgets: []budget{{ref: "podman", max: 1.0 / 4, text: "≤ 1/4 of podman's"}},
	}
	socks := map[string]*string{}
	for _, t := range tools {
		sock := new(string)
		socks[t.name] = sock
		c := &command{tool: t.name, argv: []string{dockerCLI, "-H", "unix://SOCKET", "run", "--rm", env.cfg.image, "true"}}
		c.ready = func(ctx context.Context) error {
			if err := t.ready(ctx); err != nil {
				return err
			}
			return env.once("bin "+dockerCLI, func() error {
				return lookBinary(dockerCLI, "apt-get install docker.io (hack/setup.sh keeps its dockerd from starting)")
			})
		}
		c.sample = func(ctx context.Context) (time.Duration, error) {
			return timeOnce([]string{dockerCLI, "-H", "unix://" + *sock, "run", "--rm", env.cfg.image, "true"})
		}
		f.commands = append(f.commands, c)
	}
	f.setup = func(ctx context.Context) (func() error, error) {
		sb, pm, undo, err := env.apiServices(ctx)
		if err != nil {
			return nil, err
		}
		*socks["sandbox"], *socks["podman"] = sb.sock, pm.sock
		return undo, nil
	}
	return f
}

// apiMemoryFigure: the service's memory when idle, and after a thousand
// requests (it must not grow), beside podman's service after as many.
func apiMemoryFigure(env *environment) *figure {
	f := &figure{
		name: "idle memory of the API service",
		about: fmt.Sprintf("RSS and PSS of the service process: sandbox's idle after %d warm-up requests, then each tool's after %d (more) requests (ping, version, containers/json, images/json in turn)",
			apiWarmup, apiRequests),
		memory: true,
		budgets: []budget{
			{sub: "sandbox", ref: "sandbox-idle", max: 1.25, text: "no growth over the requests (≤ 1.25× the idle RSS)"},
			{ref: "podman", text: "none in DESIGN.md"},
		},
	}
	var sb, pm *apiService
	var idle memory
	probeAfter := func(s **apiService) func(ctx context.Context) (memory, error) {
		return func(ctx context.Context) (memory, error) {
			if err := hammer(ctx, (*s).sock, apiRequests); err != nil {
				return memory{}, err
			}
			return processMemory((*s).cmd.Process.Pid)
		}
	}
	f.commands = []*command{
		{tool: "sandbox", argv: []string{fmt.Sprintf("%d requests", apiRequests)}, ready: env.sandbox.ready, probe: probeAfter(&sb)},
		{tool: "sandbox-idle", argv: []string{fmt.Sprintf("idle, after %d requests", apiWarmup)}, ready: env.sandbox.ready, probe: func(context.Context) (memory, error) { return idle, nil }},
		{tool: "podman", argv: []string{fmt.Sprintf("%d requests", apiRequests)}, ready: env.podman.ready, probe: probeAfter(&pm)},
	}
	f.setup = func(ctx context.Context) (func() error, error) {
		var undo func() error
		var err error
		sb, pm, undo, err = env.apiServices(ctx)
		if err != nil {
			return nil, err
		}
		if err := hammer(ctx, sb.sock, apiWarmup); err != nil {
			return nil, errors.Join(err, undo())
		}
		time.Sleep(idleSettle)
		if idle, err = processMemory(sb.cmd.Process.Pid); err != nil {
			return nil, errors.Join(err, undo())
		}
		return undo, nil
	}
	return f
}

// processMemory is one process's RSS and PSS.
func processMemory(pid int) (memory, error) {
	st, err := readStatus(pid)
	if err != nil {
		return memory{}, err
	}
	pss, err := readPss(pid)
	if err != nil {
		return memory{}, err
	}
	return memory{containers: 1, processes: 1, rss: st.rss, pss: pss}, nil
}

// hammer sends n API requests, one after the other, to the socket.
func hammer(ctx context.Context, sock string, n int) error {
	// A connection per request, as short-lived clients make them (podman
	// 4.3's service can leave a kept-alive one unanswered), and a bound
	// on each request.
	client := &http.Client{Timeout: 30 * time.Second, Transport: &http.Transport{DisableKeepAlives: true, DialContext: func(ctx context.Context, _, _ string) (net.Conn, error) {
		var d net.Dialer
		return d.DialContext(ctx, "unix", sock)
	}}}
	defer client.CloseIdleConnections()
	paths := []string{"/_ping", "/v1.41/version", "/v1.41/containers/json?all=1", "/v1.41/images/json"}
	for i := 0; i < n; i++ {
		req, err := http.NewRequestWithContext(ctx, "GET", "http://api"+paths[i%len(paths)], nil)
		if err != nil {
			return err
		}
		resp, err := client.Do(req)
		if err != nil {
			return err
		}
		_, err = io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		if err != nil {
			return err
		}
		if resp.StatusCode != http.StatusOK {
			return fmt.Errorf("GET %s: %s", paths[i%len(paths)], resp.Status)
		}
	}
	return nil
}
