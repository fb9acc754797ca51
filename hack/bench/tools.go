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

// A tool is one container engine the figures drive, sandbox or podman:
// its binary and global flags, and the few things in which the two differ.
// The figures otherwise give both the same arguments.
type tool struct {
	name   string   // short name in the report: "sandbox", "podman"
	bin    string   // the binary, a path or a name in PATH
	global []string // flags before every subcommand (podman's --runtime)
	// rmForce removes containers, running or not, at once; podman's rm -f
	// waits 10 s for the stop signal unless told not to.
	rmForce []string
	// plainHTTP are pull's flags for a plain-HTTP registry on loopback:
	// sandbox needs none, podman --tls-verify=false.
	plainHTTP []string
	helper    string // command name of the process it keeps per container
	// ready checks the binary and the image, once per run.
	ready func(ctx context.Context) error
	// containers lists the running containers whose name matches the
	// regular expression: each one's pid 1 and helper process.
	containers func(ctx context.Context, nameRE string) ([]containerPids, error)
}

// containerPids are the host pids of a container's pid 1 and of the
// engine's helper process for it (sandbox-monitor, conmon).
type containerPids struct {
	name        string
	pid, helper int
}

func (t *tool) argv(args ...string) []string {
	return append(append([]string{t.bin}, t.global...), args...)
}

// cmd is a timed command running the tool with args.
func (t *tool) cmd(args ...string) *command {
	return &command{tool: t.name, argv: t.argv(args...), ready: t.ready}
}

// output runs the tool with args and returns its standard output.
func (t *tool) output(ctx context.Context, args ...string) (string, error) {
	a := t.argv(args...)
	return output(ctx, a[0], a[1:]...)
}

// environment is what the figures share: the configuration, the tools,
// the checks already done, and what is set up once for several figures
// (bwrap's root filesystem, the registry).
type environment struct {
	cfg             *config
	sandbox, podman *tool
	checked         map[string]error // ready checks and one-time set-ups, by key, each run once
	rootfs          string           // extracted root filesystem; "" until needed
	registry        *registry        // started by the first pull figure; nil until then
	mounts          []string         // -v flags bringing the host's iperf3 into a container; nil until needed
}

func newEnvironment(cfg *config) *environment {
	e := &environment{cfg: cfg}
	e.sandbox = &tool{
		name:    "sandbox",
		bin:     cfg.sandbox,
		rmForce: []string{"rm", "-f"},
		helper:  "sandbox-monitor",
	}
	e.sandbox.ready = func(ctx context.Context) error {
		bin := cfg.sandbox
		if err := e.once("bin "+bin, func() error { return lookBinary(bin, "make build, or -sandbox PATH") }); err != nil {
			return err
		}
		return e.once("sandbox image", func() error {
			names, err := e.sandbox.images(ctx)
			if err != nil {
				return err
			}
			if !hasImage(names, cfg.image) {
				return fmt.Errorf("image %s missing from sandbox's storage: hack/mkimage-busybox.sh busybox.tar && %s import --change 'CMD [\"sh\"]' busybox.tar %s (hack/bench.sh does this)",
					cfg.image, bin, cfg.image)
			}
			return nil
		})
	}
	e.sandbox.containers = e.sandboxContainers

	e.podman = &tool{
		name:      "podman",
		bin:       cfg.podman,
		rmForce:   []string{"rm", "-f", "-t", "0"},
		plainHTTP: []string{"--tls-verify=false"},
		helper:    "conmon",
	}
	e.podman.global = strings.Fields(cfg.podmanStore)
	if cfg.podmanRuntime != "" {
		e.podman.global = append(e.podman.global, "--runtime", cfg.podmanRuntime)
	}
	e.podman.ready = func(ctx context.Context) error {
		bin := cfg.podman
		if err := e.once("bin "+bin, func() error { return lookBinary(bin, "apt-get install podman, or -podman PATH") }); err != nil {
			return err
		}
		if rt := cfg.podmanRuntime; rt != "" {
			if err := e.once("bin "+rt, func() error { return lookBinary(rt, "apt-get install "+rt+", or -podman-runtime NAME") }); err != nil {
				return err
			}
		}
		return e.once("podman image", func() error {
			cmd := exec.CommandContext(ctx, bin, append(strings.Fields(cfg.podmanStore), "image", "exists", cfg.image)...)
			var stderr bytes.Buffer
			cmd.Stderr = &stderr
			err := cmd.Run()
			var ee *exec.ExitError
			switch {
			case err == nil:
				return nil
			case errors.As(err, &ee) && ee.ExitCode() == 1:
				return fmt.Errorf("image %s missing from podman's storage: hack/mkimage-busybox.sh busybox.tar && podman import --change 'CMD [\"sh\"]' busybox.tar %s (hack/bench.sh does this)",
					cfg.image, cfg.image)
			default:
				return fmt.Errorf("podman image exists %s: %w: %s", cfg.image, err, strings.TrimSpace(stderr.String()))
			}
		})
	}
	e.podman.containers = e.podmanContainers
	return e
}

// podmanDriver is the storage driver podman uses, "?" when it cannot tell.
func (e *environment) podmanDriver(ctx context.Context) string {
	out, err := e.podman.output(ctx, "info", "--format", "{{.Store.GraphDriverName}}")
	if err != nil {
		return "?"
	}
	return strings.TrimSpace(out)
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

// close undoes what the figures set up once for several of them.
func (e *environment) close() error {
	var errs []error
	if e.registry != nil {
		errs = append(errs, e.registry.close())
		e.registry = nil
	}
	if e.rootfs != "" {
		if err := os.RemoveAll(e.rootfs); err != nil {
			errs = append(errs, fmt.Errorf("remove bwrap's root filesystem: %w", err))
		}
		e.rootfs = ""
	}
	return errors.Join(errs...)
}

// rootfsPlaceholder in a bwrap argv stands for the extracted root
// filesystem, which exists only once the ready checks have run.
const rootfsPlaceholder = "@ROOTFS@"

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
		replaceArg(c.argv, rootfsPlaceholder, e.rootfs)
		return nil
	}
	return c
}

// bwrapTrue is bwrap running true in the namespaces sandbox makes for a
// container with --network none, on the image's root filesystem.
func (e *environment) bwrapTrue() *command {
	return e.bwrapCmd("--unshare-user", "--unshare-pid", "--unshare-net",
		"--unshare-ipc", "--unshare-uts", "--unshare-cgroup",
		"--ro-bind", rootfsPlaceholder, "/", "--proc", "/proc", "--dev", "/dev",
		"true")
}

// replaceArg replaces, in place, every argument equal to old or holding it.
func replaceArg(argv []string, old, new string) {
	for i, a := range argv {
		argv[i] = strings.ReplaceAll(a, old, new)
	}
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
