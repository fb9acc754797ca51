package main

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"strings"
)

// A figure is one line of DESIGN.md §4: a subject command measured beside
// the commands it is compared with, and the budgets it must keep.
//
// To add a figure, append it to figures(): its commands (commands[0] is
// the subject) and a budget per comparison.
type figure struct {
	name     string     // as DESIGN.md §4 names it; -run matches it
	commands []*command // measured in alternation; commands[0] is the subject
	budgets  []budget
}

// A command is one tool's way of doing what a figure measures.
type command struct {
	tool string   // short name in the report: "sandbox", "podman", "bwrap"
	argv []string // run once per sample; must exit 0
	// ready checks, before any timing, what argv needs (the binary, the
	// image) and says how to get what is missing. nil: nothing to check.
	ready func(ctx context.Context) error
}

// A budget bounds the subject's median against one reference command's:
// median(subject) / median(ref) <= max.
type budget struct {
	ref  string  // tool of the reference command
	max  float64 // largest allowed ratio
	text string  // the budget as DESIGN.md writes it
}

// figures lists every figure bench knows, in the order it measures them.
func figures(env *environment) []*figure {
	cfg := env.cfg
	return []*figure{
		{
			name: "run --rm --network none IMAGE true",
			commands: []*command{
				env.sandboxCmd("run", "--rm", "--network", "none", cfg.image, "true"),
				env.podmanCmd("run", "--rm", "--network", "none", cfg.image, "true"),
				env.bwrapCmd("--unshare-user", "--unshare-pid", "--unshare-net",
					"--unshare-ipc", "--unshare-uts", "--unshare-cgroup",
					"--ro-bind", rootfsPlaceholder, "/", "--proc", "/proc", "--dev", "/dev",
					"true"),
			},
			budgets: []budget{
				{ref: "podman", max: 1.0 / 8, text: "≤ 1/8 of podman's"},
				{ref: "bwrap", max: 3, text: "≤ 3× bwrap's"},
			},
		},
	}
}

// rootfsPlaceholder in a bwrap argv stands for the extracted root
// filesystem, which exists only once the ready checks have run.
const rootfsPlaceholder = "@ROOTFS@"

// environment is what the figures share: the configuration, the checks
// already done, and the root filesystem extracted for bwrap.
type environment struct {
	cfg     *config
	checked map[string]error // ready checks by key, each run once
	rootfs  string           // extracted root filesystem; "" until needed
}

// once runs check the first time key is asked for, and returns its result
// every time.
func (e *environment) once(key string, check func() error) error {
	if e.checked == nil {
		e.checked = map[string]error{}
	}
	if err, ok := e.checked[key]; ok {
		return err
	}
	err := check()
	e.checked[key] = err
	return err
}

func (e *environment) close() error {
	if e.rootfs == "" {
		return nil
	}
	if err := os.RemoveAll(e.rootfs); err != nil {
		return fmt.Errorf("remove bwrap's root filesystem: %w", err)
	}
	return nil
}

func (e *environment) sandboxCmd(args ...string) *command {
	bin := e.cfg.sandbox
	return &command{
		tool: "sandbox",
		argv: append([]string{bin}, args...),
		ready: func(ctx context.Context) error {
			if err := e.once("bin "+bin, func() error { return lookBinary(bin, "make build, or -sandbox PATH") }); err != nil {
				return err
			}
			return e.once("sandbox image", func() error {
				out, err := output(ctx, bin, "images", "--format", "{{.Repository}}:{{.Tag}}")
				if err != nil {
					return fmt.Errorf("list images: %w", err)
				}
				if !hasImage(strings.Fields(out), e.cfg.image) {
					return fmt.Errorf("image %s missing from sandbox's storage: hack/mkimage-busybox.sh busybox.tar && %s import --change 'CMD [\"sh\"]' busybox.tar %s (hack/bench.sh does this)",
						e.cfg.image, bin, e.cfg.image)
				}
				return nil
			})
		},
	}
}

func (e *environment) podmanCmd(args ...string) *command {
	bin := e.cfg.podman
	var global []string
	if e.cfg.podmanRuntime != "" {
		global = []string{"--runtime", e.cfg.podmanRuntime}
	}
	return &command{
		tool: "podman",
		argv: append(append([]string{bin}, global...), args...),
		ready: func(ctx context.Context) error {
			if err := e.once("bin "+bin, func() error { return lookBinary(bin, "apt-get install podman, or -podman PATH") }); err != nil {
				return err
			}
			if rt := e.cfg.podmanRuntime; rt != "" {
				if err := e.once("bin "+rt, func() error { return lookBinary(rt, "apt-get install "+rt+", or -podman-runtime NAME") }); err != nil {
					return err
				}
			}
			return e.once("podman image", func() error {
				cmd := exec.CommandContext(ctx, bin, "image", "exists", e.cfg.image)
				var stderr bytes.Buffer
				cmd.Stderr = &stderr
				err := cmd.Run()
				var ee *exec.ExitError
				switch {
				case err == nil:
					return nil
				case errors.As(err, &ee) && ee.ExitCode() == 1:
					return fmt.Errorf("image %s missing from podman's storage: hack/mkimage-busybox.sh busybox.tar && podman import --change 'CMD [\"sh\"]' busybox.tar %s (hack/bench.sh does this)",
						e.cfg.image, e.cfg.image)
				default:
					return fmt.Errorf("podman image exists %s: %w: %s", e.cfg.image, err, strings.TrimSpace(stderr.String()))
				}
			})
		},
	}
}

func (e *environment) bwrapCmd(args ...string) *command {
	bin := e.cfg.bwrap
	c := &command{tool: "bwrap", argv: append([]string{bin}, args...)}
	c.ready = func(ctx context.Context) error {
		if err := e.once("bin "+bin, func() error { return lookBinary(bin, "apt-get install bubblewrap, or -bwrap PATH") }); err != nil {
			return err
		}
		err := e.once("bwrap rootfs", func() error {
			if e.cfg.rootfsTar == "" {
				return fmt.Errorf("needs the image's root filesystem: -rootfs-tar FILE (hack/mkimage-busybox.sh FILE makes it)")
			}
			dir, err := os.MkdirTemp(e.cfg.workDir, "bench-rootfs-")
			if err != nil {
				return fmt.Errorf("root filesystem for bwrap: %w", err)
			}
			e.rootfs = dir
			if err := extractTar(e.cfg.rootfsTar, dir); err != nil {
				return fmt.Errorf("extract %s: %w", e.cfg.rootfsTar, err)
			}
			return nil
		})
		if err != nil {
			return err
		}
		for i, a := range c.argv {
			if a == rootfsPlaceholder {
				c.argv[i] = e.rootfs
			}
		}
		return nil
	}
	return c
}

// lookBinary checks that bin (a name in PATH, or a path) is an executable.
func lookBinary(bin, fix string) error {
	if _, err := exec.LookPath(bin); err != nil {
		return fmt.Errorf("%s not found or not executable (%s)", bin, fix)
	}
	return nil
}

// hasImage tells whether a list of REPOSITORY:TAG names holds image,
// whose tag defaults to latest.
func hasImage(names []string, image string) bool {
	want := image
	if i := strings.LastIndex(image, ":"); i < 0 || strings.Contains(image[i:], "/") {
		want += ":latest"
	}
	for _, n := range names {
		if n == want || n == "localhost/"+want || n == "docker.io/library/"+want {
			return true
		}
	}
	return false
}

// output runs bin args and returns its standard output; a failure carries
// the standard error.
func output(ctx context.Context, bin string, args ...string) (string, error) {
	cmd := exec.CommandContext(ctx, bin, args...)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Run(); err != nil {
		return "", fmt.Errorf("%s %s: %w: %s", bin, strings.Join(args, " "), err, strings.TrimSpace(stderr.String()))
	}
	return stdout.String(), nil
}
