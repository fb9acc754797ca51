package main

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"
)

// The cold start: the first run when the per-user process that holds the
// user namespace is gone (sandbox's keeper, podman's pause process), as
// after a login or a reboot, so that the run starts it again. Before each
// sample, untimed, that process is killed; only when the tool has no
// container running, since their containers depend on it: the figure
// fails rather than harm them.

// coldFigure: run --rm --network none IMAGE true, each time without the
// tool's namespace holder.
func coldFigure(env *environment) *figure {
	cfg := env.cfg
	sb, pm := env.sandbox, env.podman
	rundir := os.Getenv("XDG_RUNTIME_DIR")
	sbc := sb.cmd("run", "--rm", "--network", "none", cfg.image, "true")
	sbc.before = func(ctx context.Context) error {
		return stopHolder(ctx, sb, filepath.Join(rundir, "sandbox", "keeper.pid"), "sandbox-keeper")
	}
	pmc := pm.cmd("run", "--rm", "--network", "none", cfg.image, "true")
	pmc.before = func(ctx context.Context) error {
		return stopHolder(ctx, pm, filepath.Join(rundir, "libpod", "tmp", "pause.pid"), "catatonit")
	}
	return &figure{
		name: "first run --rm --network none IMAGE true (cold)",
		about: "before each sample, untimed, the tool's per-user namespace holder (sandbox's keeper, podman's pause process) is killed, " +
			"so that the run starts it again; the holder outlives the sample, so no CPU time is measured",
		commands: []*command{sbc, pmc},
		budgets:  []budget{{ref: "podman", max: 1.0 / 4, text: "≤ 1/4 of podman's"}},
		rounds:   10,
		warmup:   1,
	}
}

// stopHolder kills the namespace holder named in pidFile (its first field
// the pid), once the tool has no running container, and waits until it is
// gone. A holder already gone is not an error.
func stopHolder(ctx context.Context, t *tool, pidFile, name string) error {
	ids, err := t.ids(ctx, ".", false)
	if err != nil {
		return err
	}
	if len(ids) > 0 {
		return fmt.Errorf("%s has %d running containers, which need its %s: stop them, or leave out this figure (-run)", t.name, len(ids), name)
	}
	data, err := os.ReadFile(pidFile)
	if errors.Is(err, os.ErrNotExist) {
		return nil
	}
	if err != nil {
		return err
	}
	fields := strings.Fields(string(data))
	if len(fields) == 0 {
		return fmt.Errorf("%s: empty", pidFile)
	}
	pid, err := strconv.Atoi(fields[0])
	if err != nil || pid <= 1 {
		return fmt.Errorf("%s: %q is not a pid", pidFile, fields[0])
	}
	// Only the process the file means: a stale file may name a pid that
	// another process took since.
	if got, err := procName(pid); err != nil || got != name {
		return nil
	}
	if err := syscall.Kill(pid, syscall.SIGKILL); err != nil && !errors.Is(err, syscall.ESRCH) {
		return fmt.Errorf("kill %s %d: %w", name, pid, err)
	}
	for deadline := time.Now().Add(10 * time.Second); time.Now().Before(deadline); time.Sleep(5 * time.Millisecond) {
		if got, err := procName(pid); err != nil || got != name {
			return nil
		}
	}
	return fmt.Errorf("%s %d still there 10 s after SIGKILL", name, pid)
}
