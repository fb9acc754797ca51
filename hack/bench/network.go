package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"time"
)

// The network figures: start latency with each tool's default network and
// with pasta; TCP throughput from a container to the host and from the
// host into a container through a published port, per backend, measured
// by iperf3 (Debian package iperf3) as the receiver counts it.
//
// The image has no iperf3: the host's binary and the directories of the
// libraries it links (as ldd lists them) are bind-mounted read-only into
// the container at the paths the host has them, for both tools alike, and
// checked to run before anything is measured.
//
// Container → host: an iperf3 server on the host for the figure's length;
// each sample is `run --rm ... iperf3 -c HOST`. The host's loopback is not
// reachable from a container by default, so for slirp4netns the server
// listens on the host's address on its default route's interface; pasta
// gives the container that same address, so there the server listens on
// the host's loopback and the container reaches it through pasta's
// --map-gw, at the default route's gateway address.
//
// Host → container: each command has its own detached container running
// `iperf3 -s` with -p HOSTPORT:5201, started before the figure; each
// sample is `iperf3 -c 127.0.0.1 -p HOSTPORT` on the host.

// The user-mode backends, as --network names them.
const (
	slirp4netns = "slirp4netns"
	pasta       = "pasta"
)

const (
	// A throughput figure takes (iperfRounds + iperfWarmup) × commands ×
	// iperfSeconds and a little: about 50 s for two commands.
	iperfSeconds = 4    // length of one throughput sample (iperf3 -t)
	iperfRounds  = 5    // measured rounds of a throughput figure
	iperfWarmup  = 1    // and warm-up rounds
	iperfPort    = 5201 // the server's port in the container
	// inPrefix names the host → container figures' servers: bench-iperf-in-N.
	inPrefix = "bench-iperf-in-"
	// Placeholders in argv for what is known only once the ready checks
	// (mounts) or the figure's setup (the server's address) have run.
	iperfMountsPlaceholder = "@IPERF3-MOUNTS@"
	iperfHostPlaceholder   = "@IPERF3-HOST@"
	iperfPortPlaceholder   = "@IPERF3-PORT@"
)

// startDefaultNetworkFigure: `run --rm IMAGE true` with each tool's
// default network.
func startDefaultNetworkFigure(env *environment) *figure {
	cfg := env.cfg
	sb, pm := env.sandbox, env.podman
	f := &figure{
		name:  "run --rm IMAGE true (default network)",
		about: "no --network: each tool's default user-mode network (slirp4netns for both when installed)",
		commands: withCPU(
			sb.cmd("run", "--rm", cfg.image, "true"),
			pm.cmd("run", "--rm", cfg.image, "true"),
		),
		budgets: []budget{{ref: "podman", max: 1.0 / 6, text: "≤ 1/6 of podman's"}},
	}
	for _, c := range f.commands {
		env.needBackend(c, slirp4netns)
	}
	return f
}

// startPastaFigure: `run --rm --network pasta IMAGE true`, beside
// sandbox's slirp4netns in the same run, to tell which backend starts
// faster (the default is the faster one installed).
func startPastaFigure(env *environment) *figure {
	cfg := env.cfg
	sb, pm := env.sandbox, env.podman
	sbSlirp := sb.cmd("run", "--rm", "--network", slirp4netns, cfg.image, "true")
	sbSlirp.tool = "sandbox slirp4netns"
	f := &figure{
		name:  "run --rm --network pasta IMAGE true",
		about: "pasta against slirp4netns, the choice of sandbox's default network",
		commands: []*command{
			sb.cmd("run", "--rm", "--network", pasta, cfg.image, "true"),
			env.podmanPastaCmd(pm.cmd("run", "--rm", "--network", pasta, cfg.image, "true")),
			sbSlirp,
		},
		budgets: []budget{
			{ref: "podman", text: "none in DESIGN.md"},
			{ref: sbSlirp.tool, text: "none: below 1, pasta starts faster"},
		},
	}
	env.needBackend(f.commands[0], pasta)
	env.needBackend(sbSlirp, slirp4netns)
	return f
}

// outboundFigure: TCP throughput from a container to an iperf3 server on
// the host, over backend.
func outboundFigure(env *environment, backend string) *figure {
	cfg := env.cfg
	network, where := backend, "the host's address on its default route's interface"
	if backend == pasta {
		network, where = "pasta:--map-gw", "the host's loopback, reached at the default route's gateway address, which --map-gw maps to it"
	}
	f := &figure{
		name: fmt.Sprintf("container → host TCP throughput (%s)", backend),
		about: fmt.Sprintf("iperf3 -c in a container for %d s a sample, to an iperf3 server on %s; Gbit/s as the server received",
			iperfSeconds, where),
		budgets:    []budget{{ref: "podman", min: 1, text: "≥ podman's"}},
		throughput: true,
		rounds:     iperfRounds,
		warmup:     iperfWarmup,
	}
	client := []string{iperfHostPlaceholder, "-p", iperfPortPlaceholder, "-t", strconv.Itoa(iperfSeconds), "-J"}
	for _, t := range []*tool{env.sandbox, env.podman} {
		argv := append([]string{"run", "--rm", "--network", network, iperfMountsPlaceholder, cfg.image, env.iperfPath(), "-c"}, client...)
		c := env.iperfCmd(t, argv...)
		env.needBackend(c, backend)
		if backend == pasta && t == env.podman {
			env.podmanPastaCmd(c)
		}
		c.rate = func(ctx context.Context) (float64, error) { return runIperf(ctx, c.argv) }
		f.commands = append(f.commands, c)
	}
	if backend == pasta {
		// pasta itself, running the host's iperf3 in a namespace of its
		// own with no container tool: what the backend alone does.
		c := &command{
			tool: "pasta alone",
			argv: append([]string{pasta, "--config-net", "--quiet", "-t", "none", "-u", "none", "-T", "none", "-U", "none",
				"--", env.iperfPath(), "-c"}, client...),
		}
		c.ready = func(ctx context.Context) error {
			if err := env.iperfReady(); err != nil {
				return err
			}
			return env.backendReady(pasta)
		}
		c.rate = func(ctx context.Context) (float64, error) { return runIperf(ctx, c.argv) }
		f.commands = append(f.commands, c)
		f.budgets = append(f.budgets, budget{ref: c.tool, text: "none: the backend without a container tool"})
	}
	f.setup = func(ctx context.Context) (func() error, error) {
		route, err := defaultRoute()
		if err != nil {
			return nil, err
		}
		bind, target := route.hostIP, route.hostIP
		if backend == pasta {
			bind, target = net.IPv4(127, 0, 0, 1), route.gateway
		}
		srv, err := startIperfServer(env.cfg.iperf3, bind)
		if err != nil {
			return nil, err
		}
		for _, c := range f.commands {
			replaceArg(c.argv, iperfHostPlaceholder, target.String())
			replaceArg(c.argv, iperfPortPlaceholder, strconv.Itoa(srv.port))
		}
		return srv.stop, nil
	}
	return f
}

// publishedFigure: TCP throughput from the host into a container, through
// a port it publishes, over backend: each tool with its default port
// handler, and with the backend's own (native) handler.
func publishedFigure(env *environment, backend string) *figure {
	cfg := env.cfg
	sb, pm := env.sandbox, env.podman
	native := backend + ":port_handler=" + backend
	podmanDefault := "rootlesskit's port forwarder"
	if backend == pasta {
		podmanDefault = "pasta's own"
	}
	f := &figure{
		name: fmt.Sprintf("host → container TCP throughput through -p (%s)", backend),
		about: fmt.Sprintf("iperf3 -c 127.0.0.1:HOSTPORT on the host for %d s a sample, to iperf3 -s in a container each command started before the figure with -p HOSTPORT:%d; default port handlers: sandbox's monitor, podman's %s; native: --network %s; Gbit/s as the server received",
			iperfSeconds, iperfPort, podmanDefault, native),
		budgets:    []budget{{ref: "podman", min: 1, text: "≥ podman's"}},
		throughput: true,
		rounds:     iperfRounds,
		warmup:     iperfWarmup,
		setup: func(ctx context.Context) (func() error, error) {
			// Leftovers of an interrupted run, before and after.
			return startEach(ctx, cfg.image, []*tool{sb, pm}, "^"+inPrefix, nil)
		},
	}
	type server struct {
		t       *tool
		label   string
		network string
	}
	servers := []server{{sb, "sandbox", backend}, {pm, "podman", backend}, {sb, "sandbox native", native}}
	if backend == slirp4netns {
		// podman's pasta forwards with pasta's own handler already.
		servers = append(servers, server{pm, "podman native", native})
		f.budgets = append(f.budgets, budget{sub: "sandbox native", ref: "podman native", text: "none in DESIGN.md"})
	}
	f.budgets = append(f.budgets, budget{sub: "sandbox native", ref: "sandbox", text: "none: the backend's handler against sandbox's"})
	for i, s := range servers {
		name := fmt.Sprintf("%s%d", inPrefix, i)
		// argv is the server's command, ";", the client's: the report
		// shows both; the setup and the samples split it.
		argv := s.t.argv("run", "-d", "--name", name, "--network", s.network, "-p", iperfPortPlaceholder+":"+strconv.Itoa(iperfPort),
			iperfMountsPlaceholder, cfg.image, env.iperfPath(), "-s")
		argv = append(argv, ";", env.cfg.iperf3, "-c", "127.0.0.1", "-p", iperfPortPlaceholder, "-t", strconv.Itoa(iperfSeconds), "-J")
		c := &command{tool: s.label, argv: argv}
		c.ready = env.iperfToolReady(s.t, c)
		env.needBackend(c, backend)
		if backend == pasta && s.t == pm {
			env.podmanPastaCmd(c)
		}
		var client []string
		c.setup = func(ctx context.Context) (func() error, error) {
			port, err := freePort()
			if err != nil {
				return nil, err
			}
			replaceArg(c.argv, iperfPortPlaceholder, strconv.Itoa(port))
			i := slices.Index(c.argv, ";")
			serve := c.argv[:i]
			client = c.argv[i+1:]
			undo := func() error { return s.t.removeMatching("^" + name + "$") }
			if _, err := output(ctx, serve[0], serve[1:]...); err != nil {
				return nil, errors.Join(err, undo())
			}
			if err := waitIperf(ctx, env.cfg.iperf3, "127.0.0.1", port); err != nil {
				return nil, errors.Join(fmt.Errorf("iperf3 in %s: %w", name, err), undo())
			}
			return undo, nil
		}
		c.rate = func(ctx context.Context) (float64, error) { return runIperf(ctx, client) }
		f.commands = append(f.commands, c)
	}
	return f
}

// iperfCmd is a command running the tool with args, whose ready check
// also makes sure iperf3 runs in the tool's containers, and expands the
// mounts placeholder.
func (e *environment) iperfCmd(t *tool, args ...string) *command {
	c := &command{tool: t.name, argv: t.argv(args...)}
	c.ready = e.iperfToolReady(t, c)
	return c
}

// iperfToolReady checks the tool, the host's iperf3, that the host's
// iperf3 runs in the tool's containers with the mounts, then puts the
// mounts in c's argv.
func (e *environment) iperfToolReady(t *tool, c *command) func(ctx context.Context) error {
	return func(ctx context.Context) error {
		if err := t.ready(ctx); err != nil {
			return err
		}
		if err := e.iperfReady(); err != nil {
			return err
		}
		mounts, err := e.iperfMounts(ctx)
		if err != nil {
			return err
		}
		err = e.once("iperf3 in "+t.name, func() error {
			args := append(append([]string{"run", "--rm", "--network", "none"}, mounts...), e.cfg.image, e.iperfPath(), "--version")
			if _, err := t.output(ctx, args...); err != nil {
				return fmt.Errorf("the host's iperf3 does not run in a container with its libraries bind-mounted: %w", err)
			}
			return nil
		})
		if err != nil {
			return err
		}
		c.argv = expandArg(c.argv, iperfMountsPlaceholder, mounts)
		return nil
	}
}

// needBackend adds to c's ready check that the backend's program is
// installed.
func (e *environment) needBackend(c *command, backend string) {
	ready := c.ready
	c.ready = func(ctx context.Context) error {
		if ready != nil {
			if err := ready(ctx); err != nil {
				return err
			}
		}
		return e.backendReady(backend)
	}
}

func (e *environment) backendReady(backend string) error {
	pkg := map[string]string{slirp4netns: "slirp4netns", pasta: "passt"}[backend]
	return e.once("bin "+backend, func() error { return lookBinary(backend, "apt-get install "+pkg) })
}

// podmanPastaCmd makes c, a podman command with --network pasta, optional:
// podman has pasta from 4.4 on. Its ready check runs one container with it.
func (e *environment) podmanPastaCmd(c *command) *command {
	c.optional = true
	ready := c.ready
	c.ready = func(ctx context.Context) error {
		if err := ready(ctx); err != nil {
			return err
		}
		return e.once("podman pasta", func() error {
			_, err := e.podman.output(ctx, "run", "--rm", "--network", pasta, e.cfg.image, "true")
			if err == nil {
				return nil
			}
			v, verr := e.podman.output(ctx, "version", "--format", "{{.Client.Version}}")
			if verr != nil {
				v = "?"
			}
			var stderr string
			if i := strings.LastIndex(err.Error(), "Error: "); i >= 0 {
				stderr = err.Error()[i:]
			} else {
				stderr = err.Error()
			}
			return fmt.Errorf("podman %s has no --network pasta (it came in podman 4.4): %s", strings.TrimSpace(v), stderr)
		})
	}
	return c
}

// iperfPath is the host's iperf3 as a path, which the containers see at
// the same place; the name as given when it is not found (iperfReady says so).
func (e *environment) iperfPath() string {
	p, err := exec.LookPath(e.cfg.iperf3)
	if err != nil {
		return e.cfg.iperf3
	}
	if abs, err := filepath.Abs(p); err == nil {
		return abs
	}
	return p
}

func (e *environment) iperfReady() error {
	bin := e.cfg.iperf3
	return e.once("bin "+bin, func() error { return lookBinary(bin, "apt-get install iperf3, or -iperf3 PATH") })
}

// iperfMounts are the -v flags that bring the host's iperf3 into a
// container: the binary, and each directory that holds a library it links
// or its program interpreter, read-only at the paths ldd names, parents
// first.
func (e *environment) iperfMounts(ctx context.Context) ([]string, error) {
	err := e.once("iperf3 mounts", func() error {
		bin := e.iperfPath()
		out, err := output(ctx, "ldd", bin)
		if err != nil {
			return fmt.Errorf("libraries of %s: %w", bin, err)
		}
		libs, err := parseLdd(out)
		if err != nil {
			return fmt.Errorf("ldd %s: %w", bin, err)
		}
		dirs := map[string]bool{}
		for _, l := range libs {
			dirs[filepath.Dir(l)] = true
		}
		sorted := make([]string, 0, len(dirs))
		for d := range dirs {
			sorted = append(sorted, d)
		}
		slices.Sort(sorted) // a parent sorts before its children
		var mounts []string
		for _, d := range append(sorted, bin) {
			src, err := filepath.EvalSymlinks(d)
			if err != nil {
				return err
			}
			mounts = append(mounts, "-v", src+":"+d+":ro")
		}
		e.mounts = mounts
		return nil
	})
	return e.mounts, err
}

// parseLdd reads ldd's output: the paths of the libraries and of the
// program interpreter. A static binary has none; a library not found is
// an error.
func parseLdd(out string) ([]string, error) {
	var paths []string
	sc := bufio.NewScanner(strings.NewReader(out))
	for sc.Scan() {
		line := strings.TrimSpace(sc.Text())
		if line == "" || strings.Contains(line, "statically linked") || strings.Contains(line, "not a dynamic executable") {
			continue
		}
		if name, where, ok := strings.Cut(line, "=>"); ok {
			where = strings.TrimSpace(where)
			if strings.HasPrefix(where, "not found") {
				return nil, fmt.Errorf("%s not found", strings.TrimSpace(name))
			}
			if strings.HasPrefix(where, "/") {
				paths = append(paths, strings.Fields(where)[0])
			}
			continue // "linux-vdso.so.1 => (0x...)" on older systems
		}
		if strings.HasPrefix(line, "/") { // the interpreter
			paths = append(paths, strings.Fields(line)[0])
		}
		// linux-vdso.so.1 (0x...): in the kernel, nothing to mount.
	}
	return paths, sc.Err()
}

// expandArg replaces each argument equal to old with the arguments news.
func expandArg(argv []string, old string, news []string) []string {
	var out []string
	for _, a := range argv {
		if a == old {
			out = append(out, news...)
		} else {
			out = append(out, a)
		}
	}
	return out
}

// route is the host's IPv4 default route.
type route struct {
	iface   string
	gateway net.IP
	hostIP  net.IP // the interface's first IPv4 address
}

// defaultRoute reads the IPv4 default route from /proc/net/route and the
// address of its interface.
func defaultRoute() (route, error) {
	b, err := os.ReadFile("/proc/net/route")
	if err != nil {
		return route{}, err
	}
	r, err := parseDefaultRoute(string(b))
	if err != nil {
		return route{}, err
	}
	ifc, err := net.InterfaceByName(r.iface)
	if err != nil {
		return route{}, fmt.Errorf("default route's interface: %w", err)
	}
	addrs, err := ifc.Addrs()
	if err != nil {
		return route{}, fmt.Errorf("addresses of %s: %w", r.iface, err)
	}
	for _, a := range addrs {
		if n, ok := a.(*net.IPNet); ok && n.IP.To4() != nil {
			r.hostIP = n.IP.To4()
			return r, nil
		}
	}
	return route{}, fmt.Errorf("%s, the default route's interface, has no IPv4 address", r.iface)
}

// parseDefaultRoute finds the default route (destination and mask 0) in
// the text of /proc/net/route, whose addresses are hexadecimal in the
// host's byte order (little-endian on the machines sandbox runs on).
func parseDefaultRoute(text string) (route, error) {
	sc := bufio.NewScanner(strings.NewReader(text))
	sc.Scan() // the header
	for sc.Scan() {
		f := strings.Fields(sc.Text())
		if len(f) < 8 || f[1] != "00000000" || f[7] != "00000000" {
			continue
		}
		gw, err := strconv.ParseUint(f[2], 16, 32)
		if err != nil {
			return route{}, fmt.Errorf("/proc/net/route: gateway %q: %w", f[2], err)
		}
		return route{iface: f[0], gateway: net.IPv4(byte(gw), byte(gw>>8), byte(gw>>16), byte(gw>>24)).To4()}, nil
	}
	if err := sc.Err(); err != nil {
		return route{}, err
	}
	return route{}, errors.New("no IPv4 default route: the container → host figures need one (/proc/net/route)")
}

// freePort is a TCP port free on every address at the moment it returns.
func freePort() (int, error) {
	l, err := net.Listen("tcp4", "0.0.0.0:0")
	if err != nil {
		return 0, fmt.Errorf("find a free port: %w", err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port, nil
}

// iperfServer is an iperf3 server on the host.
type iperfServer struct {
	port int
	cmd  *exec.Cmd
	logs *bytes.Buffer
}

// startIperfServer starts bin -s on a free port of bind, and waits until
// it serves a test.
func startIperfServer(bin string, bind net.IP) (*iperfServer, error) {
	port, err := freePort()
	if err != nil {
		return nil, err
	}
	s := &iperfServer{port: port, logs: &bytes.Buffer{}}
	s.cmd = exec.Command(bin, "-s", "-B", bind.String(), "-p", strconv.Itoa(port))
	s.cmd.Stdout, s.cmd.Stderr = s.logs, s.logs
	// Should the bench be killed, the server goes with it (see startRegistry).
	s.cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
	if err := s.cmd.Start(); err != nil {
		return nil, fmt.Errorf("start %s: %w", bin, err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	if err := waitIperf(ctx, bin, bind.String(), port); err != nil {
		return nil, errors.Join(fmt.Errorf("iperf3 server on %s: %w: %s", net.JoinHostPort(bind.String(), strconv.Itoa(port)), err, s.logs.String()), s.stop())
	}
	return s, nil
}

// stop kills the server: a test in progress has failed already.
func (s *iperfServer) stop() error {
	if err := s.cmd.Process.Kill(); err != nil && !errors.Is(err, os.ErrProcessDone) {
		return fmt.Errorf("kill iperf3 server: %w", err)
	}
	var ee *exec.ExitError
	if err := s.cmd.Wait(); err != nil && !errors.As(err, &ee) {
		return fmt.Errorf("wait for iperf3 server: %w", err)
	}
	return nil
}

// waitIperf waits until an iperf3 server at host:port completes a tiny
// test, for at most 15 s.
func waitIperf(ctx context.Context, bin, host string, port int) error {
	ctx, cancel := context.WithTimeout(ctx, 15*time.Second)
	defer cancel()
	for {
		_, err := runIperf(ctx, []string{bin, "-c", host, "-p", strconv.Itoa(port), "-n", "64K", "-J"})
		if err == nil {
			return nil
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("no test completed within 15 s: %w", err)
		case <-time.After(100 * time.Millisecond):
		}
	}
}

// runIperf runs an iperf3 client with -J (on the host, or in a container
// that prints its output) and returns the rate its server received, in
// bits per second. A server still finishing its previous test answers
// "busy": it is asked again. Like timeOnce, it is not tied to the run's
// context: an interrupt reaches the tools from the terminal, and the
// figure stops after the sample rather than killing a tool half-way; a
// minute past the test's length bounds it.
func runIperf(_ context.Context, argv []string) (float64, error) {
	ctx, cancel := context.WithTimeout(context.Background(), iperfSeconds*time.Second+time.Minute)
	defer cancel()
	for try := 0; ; try++ {
		rate, err := runIperfOnce(ctx, argv)
		if err == nil || try == 3 || !strings.Contains(err.Error(), "busy") {
			return rate, err
		}
		time.Sleep(300 * time.Millisecond)
	}
}

func runIperfOnce(ctx context.Context, argv []string) (float64, error) {
	cmd := exec.CommandContext(ctx, argv[0], argv[1:]...)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	runErr := cmd.Run()
	rate, perr := parseIperf(stdout.Bytes())
	switch {
	case runErr == nil && perr == nil:
		return rate, nil
	case runErr == nil:
		return 0, fmt.Errorf("%s: %w", strings.Join(argv, " "), perr)
	case perr != nil && strings.HasPrefix(perr.Error(), "iperf3: "):
		return 0, fmt.Errorf("%s: %w: %w", strings.Join(argv, " "), runErr, perr)
	default:
		return 0, fmt.Errorf("%s: %w: %s", strings.Join(argv, " "), runErr, strings.TrimSpace(stderr.String()))
	}
}

// parseIperf reads the receiver's rate from iperf3 -J's report of a TCP
// test, or the error it reports.
func parseIperf(out []byte) (float64, error) {
	var rep struct {
		Error string `json:"error"`
		End   struct {
			SumReceived *struct {
				BitsPerSecond float64 `json:"bits_per_second"`
			} `json:"sum_received"`
		} `json:"end"`
	}
	if err := json.Unmarshal(out, &rep); err != nil {
		return 0, fmt.Errorf("no iperf3 report: %w: %.200q", err, out)
	}
	if rep.Error != "" {
		return 0, errors.New("iperf3: " + rep.Error)
	}
	if rep.End.SumReceived == nil || rep.End.SumReceived.BitsPerSecond <= 0 {
		return 0, errors.New("iperf3's report has no received rate")
	}
	return rep.End.SumReceived.BitsPerSecond, nil
}
