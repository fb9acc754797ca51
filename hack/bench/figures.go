package main

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"
)

// A figure is one line of DESIGN.md §4: a subject command measured beside
// the commands it is compared with, and the budgets it must keep.
//
// To add a figure, append it to figures(): its commands (commands[0] is
// the subject) and a budget per comparison; a setup when the commands
// need something made first (running containers, a registry).
type figure struct {
	name     string     // as DESIGN.md §4 names it; -run matches it
	about    string     // what a sample is, when the commands do not say it all; "" for nothing
	commands []*command // measured in alternation; commands[0] is the subject
	budgets  []budget
	// rounds and warmup cap -n and -warmup for the figures whose samples
	// take seconds; 0 is no cap.
	rounds, warmup int
	// setup makes, untimed, what the samples need, and returns how to
	// undo it. The undoing runs when the figure ends, however it ends;
	// a setup that fails undoes itself. nil: nothing to make.
	setup func(ctx context.Context) (undo func() error, err error)
	// memory: each command is probed once (command.probe) instead of
	// timed; the budgets bound bytes per container.
	memory bool
	// throughput: each sample is a rate in bits per second (command.rate),
	// higher being better; the budgets bound ratios from below (budget.min).
	throughput bool
	// skipped are the optional commands whose ready check failed, with
	// why: the report names them, and the budgets against them have no
	// reference. Filled by run before measuring.
	skipped []skippedCommand
}

// skippedCommand is an optional command left out of its figure.
type skippedCommand struct {
	tool string
	why  error
}

// A command is one tool's way of doing what a figure measures.
type command struct {
	tool string   // short name in the report: "sandbox", "podman", "bwrap"
	argv []string // run and timed once per sample, unless sample is set; must exit 0
	// ready checks, before any timing, what argv needs (the binary, the
	// image) and says how to get what is missing. nil: nothing to check.
	ready func(ctx context.Context) error
	// before and after run untimed around every sample, warm-up included:
	// before to reset what the sample changes (remove the image a pull is
	// about to fetch), after to check what it did and undo it. nil: nothing.
	before, after func(ctx context.Context) error
	// sample, when set, is the sample in place of running argv, which is
	// then only what the report shows.
	sample func(ctx context.Context) (time.Duration, error)
	// probe measures the memory of a memory figure.
	probe func(ctx context.Context) (memory, error)
	// rate is the sample of a throughput figure, in bits per second.
	rate func(ctx context.Context) (float64, error)
	// setup makes, untimed, what this command's samples need (a container
	// serving them), after the figure's setup; its undo runs when the
	// figure ends, however it ends. nil: nothing to make.
	setup func(ctx context.Context) (undo func() error, err error)
	// optional: when ready fails, the figure is measured without this
	// command, and says why, instead of the run stopping (a feature the
	// installed podman does not have).
	optional bool
}

// A budget bounds the subject against one reference command:
// median(subject) / median(ref) <= max (times), >= min (throughputs); or,
// with no ref, the subject's own value (bytes per container for a memory
// figure) <= max.
type budget struct {
	sub  string  // tool of the subject; "" for commands[0]
	ref  string  // tool of the reference command; "" to bound the subject's value
	max  float64 // largest allowed ratio or value; 0: no upper bound
	min  float64 // smallest allowed ratio (throughput figures); 0: no lower bound
	text string  // the budget as DESIGN.md writes it; with neither bound, the ratio is only reported
}

// The sizes of the figures.
const (
	manyContainers  = 50  // "50 run -d at once", "ps with 50 containers"
	scaleContainers = 200 // "ps with 200 containers", started 4 at a time
	idleContainers  = 10  // containers whose helpers the memory figure averages
	idleSettle      = time.Second
	memoryBudget    = 4 << 20 // bytes of helpers per container
)

// Container name prefixes, one per figure; a figure removes the containers
// whose names match its own, leftovers of an interrupted run included.
const (
	execName    = "bench-exec"
	idlePrefix  = "bench-idle-"
	manyPrefix  = "bench-many-"
	psPrefix    = "bench-ps-"
	scalePrefix = "bench-scale-"
)

// The pull figures' images: as sandbox's local storage names them, and in
// the bench's registry.
const (
	bigLocal      = "bench-pull-big:1"
	busyboxRemote = "bench/busybox:1"
	bigRemote     = "bench/big:1"
	// registryPlaceholder in a pull's argv stands for the registry's
	// address, known once the figure's setup has started it.
	registryPlaceholder = "@REGISTRY@"
)

// figures lists every figure bench knows, in the order it measures them.
func figures(env *environment) []*figure {
	cfg := env.cfg
	sb, pm := env.sandbox, env.podman
	return []*figure{
		{
			name: "run --rm --network none IMAGE true",
			commands: []*command{
				sb.cmd("run", "--rm", "--network", "none", cfg.image, "true"),
				pm.cmd("run", "--rm", "--network", "none", cfg.image, "true"),
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
		startDefaultNetworkFigure(env),
		startPastaFigure(env),
		{
			name:     "exec CTR true",
			about:    fmt.Sprintf("into a container each tool started before the figure: run -d --network none --name %s %s sleep 3600", execName, cfg.image),
			commands: []*command{sb.cmd("exec", execName, "true"), pm.cmd("exec", execName, "true")},
			budgets:  []budget{{ref: "podman", max: 1.0 / 5, text: "≤ 1/5 of podman's"}},
			setup: func(ctx context.Context) (func() error, error) {
				return startEach(ctx, cfg.image, []*tool{sb, pm}, "^"+execName+"$", func(ctx context.Context, t *tool) error {
					_, err := t.output(ctx, detachedArgs(cfg.image, execName)...)
					return err
				})
			},
		},
		idleMemoryFigure(env),
		{
			name: fmt.Sprintf("%d run -d at once", manyContainers),
			about: fmt.Sprintf("wall time from launching %d concurrent run -d until all have returned; after each round, untimed, ps must list all %d as running, then rm -f",
				manyContainers, manyContainers),
			commands: []*command{runManyCmd(sb, cfg.image), runManyCmd(pm, cfg.image)},
			budgets:  []budget{{ref: "podman", max: 1.0 / 4, text: "≤ 1/4 of podman's"}},
			rounds:   5, // podman takes about 4 s a round, and its rm -f as long
			warmup:   1,
			setup: func(ctx context.Context) (func() error, error) {
				// Nothing to make: only leftovers of an interrupted run to
				// remove, before and after.
				return startEach(ctx, cfg.image, []*tool{sb, pm}, "^"+manyPrefix, nil)
			},
		},
		{
			name:     fmt.Sprintf("ps with %d containers", manyContainers),
			about:    fmt.Sprintf("%d idle containers per tool, started before the figure; the table, as a user sees it", manyContainers),
			commands: []*command{sb.cmd("ps"), pm.cmd("ps")},
			budgets:  []budget{{ref: "podman", text: "none in DESIGN.md"}},
			setup: func(ctx context.Context) (func() error, error) {
				return startEach(ctx, cfg.image, []*tool{sb, pm}, "^"+psPrefix, func(ctx context.Context, t *tool) error {
					_, err := t.startMany(ctx, cfg.image, psPrefix, manyContainers)
					return err
				})
			},
		},
		{
			name:     fmt.Sprintf("ps with %d containers", scaleContainers),
			about:    fmt.Sprintf("%d idle containers per tool, started 4 at a time before the figure; the table, as a user sees it", scaleContainers),
			commands: []*command{sb.cmd("ps"), pm.cmd("ps")},
			budgets:  []budget{{ref: "podman", max: 0.2, text: "≤ 1/5 of podman's"}},
			setup: func(ctx context.Context) (func() error, error) {
				return startEach(ctx, cfg.image, []*tool{sb, pm}, "^"+scalePrefix, func(ctx context.Context, t *tool) error {
					return t.startBatches(ctx, cfg.image, scalePrefix, scaleContainers, 4)
				})
			},
		},
		pullFigure(env, "pull of a local-registry image (busybox)",
			"the 2 MB busybox image, pushed by sandbox; both tools fetch its blob, whose layer is also that of the local busybox image, which stays",
			cfg.image, busyboxRemote, 0),
		pullFigure(env, fmt.Sprintf("pull of a local-registry image (%d MB, one layer)", bigLayerSize>>20),
			fmt.Sprintf("an image of one %d MiB layer of seeded pseudo-random files (half text, half incompressible), imported and pushed by sandbox, then removed from its storage", bigLayerSize>>20),
			bigLocal, bigRemote, 10), // about 0.4 s a pull, and the untimed rmi
		outboundFigure(env, slirp4netns),
		outboundFigure(env, pasta),
		publishedFigure(env, slirp4netns),
		publishedFigure(env, pasta),
	}
}

// startEach removes each tool's leftover containers matching nameRE, then
// runs start for each tool (nil: nothing to start). The undo it returns,
// which a failed start runs too, removes those containers again.
func startEach(ctx context.Context, image string, tools []*tool, nameRE string, start func(context.Context, *tool) error) (func() error, error) {
	undo := func() error {
		var errs []error
		for _, t := range tools {
			errs = append(errs, t.removeMatching(nameRE))
		}
		return errors.Join(errs...)
	}
	if err := undo(); err != nil {
		return nil, fmt.Errorf("remove leftovers: %w", err)
	}
	if start != nil {
		for _, t := range tools {
			if err := start(ctx, t); err != nil {
				return nil, errors.Join(fmt.Errorf("%s: %w", t.name, err), undo())
			}
		}
	}
	return undo, nil
}

// runManyCmd starts manyContainers containers at once as one sample;
// after it, ps must list them all as running, and they are removed.
func runManyCmd(t *tool, image string) *command {
	nameRE := "^" + manyPrefix
	return &command{
		tool:  t.name,
		argv:  append([]string{fmt.Sprintf("%d ×", manyContainers)}, t.argv(detachedArgs(image, manyPrefix+"NN")...)...),
		ready: t.ready,
		sample: func(ctx context.Context) (time.Duration, error) {
			return t.startMany(ctx, image, manyPrefix, manyContainers)
		},
		after: func(ctx context.Context) error {
			var err error
			if ctx.Err() == nil { // not interrupted: the check is part of the figure
				err = t.checkRunning(ctx, nameRE, manyContainers)
			}
			return errors.Join(err, t.removeMatching(nameRE))
		},
	}
}

// idleMemoryFigure: the memory each tool keeps per idle container, besides
// the container's own processes.
func idleMemoryFigure(env *environment) *figure {
	cfg := env.cfg
	tools := []*tool{env.sandbox, env.podman}
	f := &figure{
		name: "idle memory per running container",
		about: fmt.Sprintf("%d idle containers per tool, probed %s after they started: the helper each tool keeps per container (%s, %s) and its children, not the container's processes; RSS from /proc/PID/status, PSS (shared pages divided among their users) from /proc/PID/smaps_rollup",
			idleContainers, idleSettle, env.sandbox.helper, env.podman.helper),
		budgets: []budget{
			{max: memoryBudget, text: "≤ 4 MiB (RSS)"},
			{ref: "podman", text: "none in DESIGN.md"},
		},
		memory: true,
		setup: func(ctx context.Context) (func() error, error) {
			undo, err := startEach(ctx, cfg.image, tools, "^"+idlePrefix, func(ctx context.Context, t *tool) error {
				_, err := t.startMany(ctx, cfg.image, idlePrefix, idleContainers)
				return err
			})
			if err == nil {
				time.Sleep(idleSettle)
			}
			return undo, err
		},
	}
	for _, t := range tools {
		f.commands = append(f.commands, &command{
			tool:  t.name,
			argv:  append([]string{fmt.Sprintf("%d ×", idleContainers)}, t.argv(detachedArgs(cfg.image, idlePrefix+"NN")...)...),
			ready: t.ready,
			probe: func(ctx context.Context) (memory, error) {
				return t.helperMemory(ctx, "^"+idlePrefix, idleContainers)
			},
		})
	}
	return f
}

// pullFigure: each tool pulls remote from the bench's registry, after
// removing it (untimed) from its storage. The setup starts the registry
// (once for every pull figure) and pushes sandbox's local image to it,
// making the image first when it is the big one. rounds caps -n (0: no cap).
func pullFigure(env *environment, name, about, local, remote string, rounds int) *figure {
	tools := []*tool{env.sandbox, env.podman}
	ref := registryPlaceholder + "/" + remote
	f := &figure{
		name:    name,
		about:   about,
		budgets: []budget{{ref: "podman", max: 1, text: "≤ podman's"}},
		rounds:  rounds,
		warmup:  1,
	}
	for _, t := range tools {
		c := t.cmd(append(append([]string{"pull"}, t.plainHTTP...), ref)...)
		ready := c.ready
		c.ready = func(ctx context.Context) error {
			if err := ready(ctx); err != nil {
				return err
			}
			bin := env.cfg.registry
			return env.once("bin "+bin, func() error {
				return lookBinary(bin, "apt-get install docker-registry, or -registry PATH")
			})
		}
		c.before = func(ctx context.Context) error { return t.rmiIfPresent(ctx, c.argv[len(c.argv)-1]) }
		f.commands = append(f.commands, c)
	}
	f.setup = func(ctx context.Context) (func() error, error) {
		undo := func() error {
			ctx, cancel := cleanupContext()
			defer cancel()
			var errs []error
			for i, c := range f.commands { // f.commands[i] is tools[i]'s
				if r := c.argv[len(c.argv)-1]; !strings.Contains(r, registryPlaceholder) {
					errs = append(errs, tools[i].rmiIfPresent(ctx, r))
				}
			}
			if local == bigLocal {
				errs = append(errs, env.sandbox.rmiIfPresent(ctx, bigLocal))
			}
			return errors.Join(errs...)
		}
		if local == bigLocal {
			if err := env.importBigImage(ctx, bigLocal); err != nil {
				return nil, errors.Join(err, undo())
			}
		}
		full, err := env.pushed(ctx, local, remote)
		if err != nil {
			return nil, errors.Join(err, undo())
		}
		for _, c := range f.commands {
			replaceArg(c.argv, registryPlaceholder+"/"+remote, full)
		}
		// The big image must not be in sandbox's storage when it pulls it.
		if local == bigLocal {
			if err := env.sandbox.rmiIfPresent(ctx, bigLocal); err != nil {
				return nil, errors.Join(err, undo())
			}
		}
		return undo, nil
	}
	return f
}
