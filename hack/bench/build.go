package main

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
)

// The build figures: the multi-stage Dockerfile of the integration tests
// (test/integration/testdata/build-multistage, every instruction), built
// by each tool from a copy of its context.

const (
	buildTag = "bench-build:1"
	// contextPlaceholder in a build's argv stands for the context's copy,
	// made by the figure's setup.
	contextPlaceholder = "@CONTEXT@"
	noCacheTool        = "sandbox --no-cache"
)

// buildContextCopy copies the build context into the work directory and
// adds files.tgz (the ADD of an archive); remove deletes the copy.
func (e *environment) buildContextCopy() (dir string, remove func() error, err error) {
	parent, err := os.MkdirTemp(e.cfg.workDir, "bench-build-")
	if err != nil {
		return "", nil, err
	}
	remove = func() error { return os.RemoveAll(parent) }
	dir = filepath.Join(parent, "ctx")
	if out, err := exec.Command("cp", "-r", e.cfg.buildContext, dir).CombinedOutput(); err != nil {
		return "", nil, errors.Join(fmt.Errorf("copy the build context: %v: %s", err, out), remove())
	}
	if out, err := exec.Command("tar", "-C", filepath.Join(dir, "tarsrc"), "-czf", filepath.Join(dir, "files.tgz"), "d").CombinedOutput(); err != nil {
		return "", nil, errors.Join(fmt.Errorf("make files.tgz: %v: %s", err, out), remove())
	}
	return dir, remove, nil
}

// buildSetup makes the context's copy, puts it in the commands' argv,
// and runs warm (untimed, one build per tool) when the samples need a
// cache. The undo removes the images and the copy.
func (e *environment) buildSetup(commands []*command, warm []*tool) func(ctx context.Context) (func() error, error) {
	return func(ctx context.Context) (func() error, error) {
		dir, remove, err := e.buildContextCopy()
		if err != nil {
			return nil, err
		}
		undo := func() error {
			ctx, cancel := cleanupContext()
			defer cancel()
			return errors.Join(e.sandbox.rmiIfPresent(ctx, buildTag), e.podman.rmiIfPresent(ctx, "localhost/"+buildTag), remove())
		}
		for _, c := range commands {
			replaceArg(c.argv, contextPlaceholder, dir)
		}
		for _, t := range warm {
			if _, err := t.output(ctx, "build", "-q", "-t", buildTag, dir); err != nil {
				return nil, errors.Join(err, undo())
			}
		}
		return undo, nil
	}
}

// buildFigure: the multi-stage build without the cache, both tools.
func buildFigure(env *environment) *figure {
	args := []string{"build", "--no-cache", "-q", "-t", buildTag, contextPlaceholder}
	f := &figure{
		name:     "build of a multi-stage Dockerfile, no cache",
		about:    "test/integration/testdata/build-multistage: 2 stages, 26 instructions, 4 RUN, 6 COPY/ADD (one of another stage, one of an image); -q, the image tagged",
		commands: []*command{env.sandbox.cmd(args...), env.podman.cmd(args...)},
		budgets:  []budget{{ref: "podman", max: 1, text: "≤ podman's"}},
		rounds:   5, // podman takes seconds a build
		warmup:   1,
	}
	f.setup = env.buildSetup(f.commands, nil)
	return f
}

// rebuildFigure: the same build again, unchanged, from the cache, against
// sandbox's build without the cache (and podman's cached rebuild).
func rebuildFigure(env *environment) *figure {
	cached := []string{"build", "-q", "-t", buildTag, contextPlaceholder}
	uncached := env.sandbox.cmd("build", "--no-cache", "-q", "-t", buildTag, contextPlaceholder)
	uncached.tool = noCacheTool
	f := &figure{
		name:     "build of a multi-stage Dockerfile, cached rebuild",
		about:    "the build figure's Dockerfile and context, unchanged, after one untimed build per tool",
		commands: []*command{env.sandbox.cmd(cached...), uncached, env.podman.cmd(cached...)},
		budgets: []budget{
			{ref: noCacheTool, max: 1.0 / 3, text: "≤ 1/3 of sandbox's uncached build"},
			{ref: "podman", text: "none in DESIGN.md"},
		},
		rounds: 5,
		warmup: 1,
	}
	f.setup = env.buildSetup(f.commands, []*tool{env.sandbox, env.podman})
	return f
}
