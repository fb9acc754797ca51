// Command sandbox-service serves the Docker Engine API (package api). It
// is started by `sandbox system service`, inside the keeper's namespaces,
// and is a binary of its own so that the HTTP server never weighs on the
// start of the sandbox command.
//
//	sandbox-service --storage JSON --self SANDBOX [--time SECONDS]
//	    [--cgroup-manager M] [--version V] [--events PATH] [URI]
//
// URI is unix://PATH or tcp://127.0.0.1:PORT; without one, the sockets
// that systemd passed (LISTEN_FDS) are served.
package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"log"
	"net"
	"os"
	"os/signal"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"

	"sandbox/api"
	"sandbox/cgroupv2/systemd"
	"sandbox/container"
	"sandbox/events"
	_ "sandbox/internal/nproc" // before the Go runtime: one line, not a dump, when the process limit is reached
	"sandbox/network/usernet"
	_ "sandbox/prerun" // the pre-runtime hook: reports the keeper's namespaces, which this process inherits
	"sandbox/storage"
	"sandbox/userns"

	"go.podman.io/storage/pkg/reexec"
)

func main() {
	// containers/storage runs some work (untar in a chroot) in a copy of
	// this binary: that copy stops here.
	if reexec.Init() {
		return
	}
	logger := log.New(os.Stderr, "sandbox-service: ", log.LstdFlags)
	if err := run(logger); err != nil {
		logger.Print(err)
		os.Exit(125)
	}
}

func run(logger *log.Logger) error {
	fs := flag.NewFlagSet("sandbox-service", flag.ContinueOnError)
	storeJSON := fs.String("storage", "", "the store's options, as JSON")
	self := fs.String("self", "", "the sandbox binary")
	idle := fs.Uint("time", 5, "idle seconds before exiting (0: never)")
	manager := fs.String("cgroup-manager", "", "--cgroup-manager")
	version := fs.String("version", "dev", "sandbox's version")
	journal := fs.String("events", "", "the events journal (none when empty)")
	if err := fs.Parse(os.Args[1:]); err != nil {
		return err
	}
	if *storeJSON == "" || *self == "" || fs.NArg() > 1 {
		return errors.New("started by `sandbox system service`, not by hand")
	}
	var so storage.Options
	if err := json.Unmarshal([]byte(*storeJSON), &so); err != nil {
		return fmt.Errorf("--storage: %w", err)
	}
	if err := userns.Enter(userns.Options{}); err != nil {
		return err
	}
	l, cleanup, err := listen(fs.Arg(0), logger)
	if err != nil {
		return err
	}
	defer cleanup()
	store, err := storage.Open(so)
	if err != nil {
		return err
	}
	store.Events = events.Journal{Path: *journal}
	rt, err := container.New(store)
	if err != nil {
		return err
	}
	m, err := systemd.ParseManager(*manager)
	if err != nil {
		return err
	}
	rt.Self, rt.CgroupManager, rt.Version, rt.Events = *self, m, *version, store.Events
	rt.Networks = usernet.Store{Dir: usernet.DirIn(so.GraphRoot)}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	srv := api.New(api.Options{Runtime: rt, Version: *version, Log: logger, Idle: time.Duration(*idle) * time.Second})
	logger.Printf("serving the Docker API on %s", l.Addr())
	return srv.Serve(ctx, l)
}

// listen opens the socket of uri, or takes systemd's; cleanup removes a
// socket file made here.
func listen(uri string, logger *log.Logger) (net.Listener, func(), error) {
	nothing := func() {}
	if uri == "" {
		n, _ := strconv.Atoi(os.Getenv("LISTEN_FDS"))
		if pid, _ := strconv.Atoi(os.Getenv("LISTEN_PID")); pid != os.Getpid() || n < 1 {
			return nil, nothing, errors.New("no URI, and no socket from systemd (LISTEN_FDS)")
		}
		os.Unsetenv("LISTEN_FDS")
		os.Unsetenv("LISTEN_PID")
		os.Unsetenv("LISTEN_FDNAMES")
		f := os.NewFile(3, "systemd-socket")
		l, err := net.FileListener(f)
		f.Close()
		if err != nil {
			return nil, nothing, fmt.Errorf("the socket from systemd: %w", err)
		}
		return l, nothing, nil
	}
	scheme, addr, ok := strings.Cut(uri, "://")
	if !ok {
		return nil, nothing, fmt.Errorf("invalid URI %q: want unix:///PATH or tcp://127.0.0.1:PORT", uri)
	}
	switch scheme {
	case "unix":
		if !filepath.IsAbs(addr) {
			return nil, nothing, fmt.Errorf("invalid URI %q: the socket path must be absolute", uri)
		}
		if err := os.MkdirAll(filepath.Dir(addr), 0o700); err != nil {
			return nil, nothing, fmt.Errorf("socket directory: %w", err)
		}
		// A socket left by a service that died is replaced; a live one is
		// not taken over.
		if c, err := net.Dial("unix", addr); err == nil {
			c.Close()
			return nil, nothing, fmt.Errorf("%s is served already", addr)
		}
		if err := os.Remove(addr); err != nil && !errors.Is(err, os.ErrNotExist) {
			return nil, nothing, fmt.Errorf("remove stale socket: %w", err)
		}
		old := syscall.Umask(0o177)
		l, err := net.Listen("unix", addr)
		syscall.Umask(old)
		if err != nil {
			return nil, nothing, err
		}
		l.(*net.UnixListener).SetUnlinkOnClose(true)
		if err := os.Chmod(addr, 0o600); err != nil {
			l.Close()
			return nil, nothing, err
		}
		return l, func() { l.Close() }, nil
	case "tcp":
		host, _, err := net.SplitHostPort(addr)
		if err != nil {
			return nil, nothing, fmt.Errorf("invalid URI %q: %w", uri, err)
		}
		if ip := net.ParseIP(host); ip == nil || !ip.IsLoopback() {
			return nil, nothing, fmt.Errorf("invalid URI %q: only a loopback address (tcp://127.0.0.1:PORT) is served", uri)
		}
		logger.Printf("WARNING: serving the API on %s: every local user can reach it, and through it run containers as you", addr)
		l, err := net.Listen("tcp", addr)
		if err != nil {
			return nil, nothing, err
		}
		return l, func() { l.Close() }, nil
	}
	return nil, nothing, fmt.Errorf("invalid URI %q: want unix:///PATH or tcp://127.0.0.1:PORT", uri)
}
