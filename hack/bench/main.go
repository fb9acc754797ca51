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
//
// It only reads and measures: it changes nothing but a temporary copy of
// the root filesystem for bwrap, removed on exit. Standard library only.
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
	bwrap         string // bwrap binary
	image         string // image name, the same for sandbox and podman
	rootfsTar     string // the image's root filesystem tarball, for bwrap
	workDir       string // where the rootfs is extracted ("" = $TMPDIR)
	n             int    // measured rounds
	warmup        int    // rounds run first and not counted
	run           *regexp.Regexp
	strict        bool // exit 1 when a figure is over budget
	verbose       bool // print every sample
}

func main() {
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
	fs.StringVar(&cfg.bwrap, "bwrap", "bwrap", "the bwrap binary")
	fs.StringVar(&cfg.image, "image", "busybox", "image to run, present in both sandbox's and podman's storage")
	fs.StringVar(&cfg.rootfsTar, "rootfs-tar", "", "root filesystem tarball of the image, for bwrap (hack/mkimage-busybox.sh makes it)")
	fs.StringVar(&cfg.workDir, "workdir", "", "directory for the extracted root filesystem (default $TMPDIR)")
	fs.IntVar(&cfg.n, "n", 30, "measured rounds per figure")
	fs.IntVar(&cfg.warmup, "warmup", 3, "warm-up rounds per figure, not counted")
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
// any figure is over one of its budgets.
func run(ctx context.Context, cfg *config) (over bool, err error) {
	env := &environment{cfg: cfg}
	defer func() {
		if cerr := env.close(); cerr != nil && err == nil {
			err = cerr
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
	// not show up after minutes of measuring.
	var missing []string
	for _, f := range selected {
		for _, c := range f.commands {
			if err := c.ready(ctx); err != nil {
				missing = append(missing, fmt.Sprintf("\n  %s: %s: %v", f.name, c.tool, err))
			}
		}
	}
	if len(missing) > 0 {
		return false, errors.New("not ready:" + strings.Join(missing, ""))
	}
	printMachine(os.Stdout, cfg)
	for _, f := range selected {
		res, err := measure(ctx, f, cfg)
		if err != nil {
			return over, fmt.Errorf("%s: %w", f.name, err)
		}
		if report(os.Stdout, f, res) {
			over = true
		}
	}
	return over, nil
}
