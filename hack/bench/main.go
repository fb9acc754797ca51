// Command bench measures the figures of DESIGN.md §4 side by side with the
// tools they are compared with, in one run, as the unprivileged user who
// runs containers. hack/bench.sh (`make bench`) builds it, prepares the
// images and runs it; it can also be run by hand:
//
//	go build -o /tmp/bench ./hack/bench
//	hack/mkimage-busybox.sh /tmp/busybox.tar
//	/tmp/bench -sandbox bin/sandbox -rootfs-tar /tmp/busybox.tar
//
// Each figure is a set of commands measured in alternation (A B C A B C
// ...), after a few warm-up rounds, so that a slow phase of the machine
// falls on every tool alike. For each command it prints the median and the
// 90th percentile of the wall time, and the spread (p90/median) as a
// measure of the machine's noise; for each budget, the ratio of the
// subject's median to the reference's and whether it is within budget.
// The start figures also print the CPU time of every process a sample
// started (helpers and clean-up included, reap.go), the steadier figure on
// a shared machine; the busy figures run two CPU-bound loops beside them
// (busy.go); the yardsticks (/bin/true, a static Go program, bwrap) give
// the machine's own scale; the cold figure starts each tool without its
// per-user namespace holder (cold.go).
// The memory figure probes instead of timing, once per tool, and bounds
// bytes per container. The throughput figures sample iperf3's rate (as the
// receiver counts it) instead of wall time: the median and the 10th
// percentile, the spread as median/p10, and budgets bounding the ratio
// from below. A command that needs what the installed podman lacks (pasta
// before podman 4.4) is left out of its figure, which says why.
//
// What a figure needs besides the images it makes itself and removes
// when it ends, however it ends: containers named bench-* (removed too
// when an interrupted run left them), a docker-registry on a loopback
// port with its storage under -workdir, images pulled from it, a bigger
// image made for the pull figure; containers named bench-iperf-in-N and
// an iperf3 server on the host (a free port of its address or loopback)
// for the throughput figures, which bind-mount the host's iperf3 and its
// libraries read-only into containers. Besides, it changes nothing but a
// temporary copy of the root filesystem for bwrap, removed on exit. A
// figure that fails is reported as failed, and the others still run.
// Standard library only.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"os"
	"os/signal"
	"path/filepath"
	"regexp"
	"strings"
	"syscall"
)

// config is what the flags say.
type config struct {
	sandbox       string // the sandbox binary under test
	podman        string // podman binary
	podmanRuntime string // OCI runtime podman is told to use ("" = its default)
	podmanStore   string // podman's global storage flags ("" = its defaults)
	bwrap         string // bwrap binary
	hello         string // a static Go hello world, a yardstick ("" = that yardstick not measured)
	registry      string // docker-registry binary, for the pull figures
	iperf3        string // iperf3 binary, for the throughput figures
	image         string // image name, the same for sandbox and podman
	rootfsTar     string // the image's root filesystem tarball, for bwrap
	buildContext  string // the build figures' context, copied before use
	workDir       string // where the rootfs is extracted, the registry stores ("" = $TMPDIR)
	n             int    // measured rounds
	warmup        int    // rounds run first and not counted
	run           *regexp.Regexp
	strict        bool // exit 1 when a figure is over budget
	verbose       bool // print every sample
}

func main() {
	if len(os.Args) > 1 {
		switch os.Args[1] {
		case reaperRole:
			reaperMain(os.Args[2:])
		case hogRole:
			hogMain()
		}
	}
	cfg, err := parseFlags(os.Args[1:])
	if err != nil {
		fmt.Fprintln(os.Stderr, "bench:", err)
		os.Exit(2)
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	over, err := run(ctx, cfg)
	stop()
	if err != nil {
		fmt.Fprintln(os.Stderr, "bench:", err)
		os.Exit(1)
	}
	if over && cfg.strict {
		os.Exit(1)
	}
}

func parseFlags(args []string) (*config, error) {
	fs := flag.NewFlagSet("bench", flag.ContinueOnError)
	cfg := &config{}
	var run string
	fs.StringVar(&cfg.sandbox, "sandbox", "bin/sandbox", "the sandbox binary to measure")
	fs.StringVar(&cfg.podman, "podman", "podman", "the podman binary")
	fs.StringVar(&cfg.podmanRuntime, "podman-runtime", "runc", "OCI runtime for podman (--runtime); empty for podman's default")
	fs.StringVar(&cfg.podmanStore, "podman-store", "", "podman's storage flags, space-separated (--storage-driver, --root, --runroot); empty for its defaults")
	fs.StringVar(&cfg.bwrap, "bwrap", "bwrap", "the bwrap binary")
	fs.StringVar(&cfg.hello, "hello", "", "a static Go hello world, for the yardsticks (hack/bench.sh builds hack/bench/hello)")
	fs.StringVar(&cfg.registry, "registry", "docker-registry", "the docker-registry binary (distribution 2.x), for the pull figures")
	fs.StringVar(&cfg.iperf3, "iperf3", "iperf3", "the iperf3 binary, for the throughput figures; bind-mounted into the containers with its libraries")
	fs.StringVar(&cfg.image, "image", "busybox", "image to run, present in both sandbox's and podman's storage")
	fs.StringVar(&cfg.rootfsTar, "rootfs-tar", "", "root filesystem tarball of the image, for bwrap (hack/mkimage-busybox.sh makes it)")
	fs.StringVar(&cfg.buildContext, "build-context", "test/integration/testdata/build-multistage", "the multi-stage build's context, for the build figures (files.tgz is added to a copy)")
	fs.StringVar(&cfg.workDir, "workdir", "", "directory for the extracted root filesystem, the registry's storage, the big image's tarball (default $TMPDIR)")
	fs.IntVar(&cfg.n, "n", 30, "measured rounds per figure (the slow figures cap it)")
	fs.IntVar(&cfg.warmup, "warmup", 3, "warm-up rounds per figure, not counted (the slow figures cap it)")
	fs.StringVar(&run, "run", "", "only the figures whose name matches this regular expression")
	fs.BoolVar(&cfg.strict, "strict", false, "exit 1 when a figure is over budget")
	fs.BoolVar(&cfg.verbose, "v", false, "print every sample")
	if err := fs.Parse(args); err != nil {
		return nil, err
	}
	if fs.NArg() > 0 {
		return nil, fmt.Errorf("unexpected arguments %q", fs.Args())
	}
	if cfg.n < 1 || cfg.warmup < 0 {
		return nil, fmt.Errorf("-n must be at least 1 and -warmup at least 0")
	}
	re, err := regexp.Compile(run)
	if err != nil {
		return nil, fmt.Errorf("-run: %w", err)
	}
	cfg.run = re
	// A relative path would be looked up in PATH by exec: make it the file meant.
	if filepath.Base(cfg.sandbox) != cfg.sandbox {
		if cfg.sandbox, err = filepath.Abs(cfg.sandbox); err != nil {
			return nil, fmt.Errorf("-sandbox: %w", err)
		}
	}
	return cfg, nil
}

// run measures every selected figure and prints it. over tells whether
// any figure is over one of its budgets; a figure that fails is printed
// as failed, and makes run return an error once the others have run.
func run(ctx context.Context, cfg *config) (over bool, err error) {
	env := newEnvironment(cfg)
	defer func() {
		if cerr := env.close(); cerr != nil {
			err = errors.Join(err, cerr)
		}
	}()
	var selected []*figure
	for _, f := range figures(env) {
		if cfg.run.MatchString(f.name) {
			selected = append(selected, f)
		}
	}
	if len(selected) == 0 {
		return false, fmt.Errorf("no figure matches -run %q", cfg.run)
	}
	// Check everything before measuring anything: a missing tool should
	// not show up after minutes of measuring. An optional command that is
	// not ready is left out of its figure, which says why.
	var missing []string
	for _, f := range selected {
		var kept []*command
		for _, c := range f.commands {
			if c.ready != nil {
				if err := c.ready(ctx); err != nil {
					if c.optional {
						f.skipped = append(f.skipped, skippedCommand{tool: c.tool, why: err})
						continue
					}
					missing = append(missing, fmt.Sprintf("\n  %s: %s: %v", f.name, c.tool, err))
				}
			}
			kept = append(kept, c)
		}
		f.commands = kept
	}
	if len(missing) > 0 {
		return false, errors.New("not ready:" + strings.Join(missing, ""))
	}
	printMachine(ctx, os.Stdout, env)
	var failed []string
	for _, f := range selected {
		res, err := measure(ctx, f, cfg)
		if res != nil && report(os.Stdout, f, res) {
			over = true
		}
		if err != nil {
			if res == nil {
				fmt.Printf("\n%s\n", f.name)
			}
			fmt.Printf("  FAILED: %v\n", err)
			failed = append(failed, f.name)
		}
		if ctx.Err() != nil {
			break
		}
	}
	if len(failed) > 0 {
		return over, fmt.Errorf("%d figure(s) failed: %s", len(failed), strings.Join(failed, "; "))
	}
	return over, ctx.Err()
}
