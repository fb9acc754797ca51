package build

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"sandbox/container"
	"sandbox/internal/faultinject"
	"sandbox/storage"

	"github.com/moby/buildkit/frontend/dockerfile/instructions"
	"golang.org/x/sys/unix"
)

// runError is a RUN whose command failed: the step and its exit status,
// which the build exits with.
type runError struct {
	step string
	code int
}

func (e *runError) Error() string {
	return fmt.Sprintf("building at STEP \"%s\": while running runtime: exit status %d", e.step, e.code)
}

// ExitCode is the status the command exits with.
func (e *runError) ExitCode() int { return e.code }

// run runs a RUN step in a container of the stage's image and keeps the
// container's changes as a layer.
func (b *builder) run(ctx context.Context, st *stage, c *instructions.RunCommand) error {
	if len(c.FlagsUsed) > 0 {
		return fmt.Errorf("RUN --%s is not supported", c.FlagsUsed[0])
	}
	argv := st.runArgv(c)
	createdBy := runCreatedBy(argv, !c.PrependShell)
	if args := st.scopeArgs(); len(args) > 0 && c.PrependShell {
		// buildah's shape: the build arguments the command saw.
		createdBy = fmt.Sprintf("|%d %s %s", len(args), strings.Join(args, " "), createdBy)
	}
	st.key = st.keyWith(sourceOf(c), "")
	if b.cached(st, createdBy) {
		return nil
	}
	if st.image == "" {
		return errors.New("RUN needs an image with a shell: the stage has no layers (FROM scratch)")
	}
	layer, err := b.runContainer(ctx, st, argv, sourceOf(c))
	if err != nil {
		return err
	}
	return b.commitLayer(st, layer, createdBy)
}

// runEnv is a RUN's environment: the image's, then the ARGs in scope and
// the proxy arguments given, unless an ENV of the same name wins.
func (b *builder) runEnv(st *stage) []string {
	env := append([]string(nil), st.config.Config.Env...)
	has := func(k string) bool { _, ok := envList(env).Get(k); return ok }
	for _, kv := range st.scopeArgs() {
		k, _, _ := strings.Cut(kv, "=")
		if !has(k) {
			env = append(env, kv)
		}
	}
	for k, v := range b.args {
		if proxyArgs[k] && !has(k) {
			env = append(env, k+"="+v)
		}
	}
	return env
}

// runMountTargets are the files every container has bind-mounted from
// its run directory: a RUN leaves the empty files made to mount them on,
// which are no part of the image.
var runMountTargets = []string{"etc/hosts", "etc/hostname", "etc/resolv.conf", "run/.containerenv"}

// runContainer runs argv in a new container of the stage's image, with
// run's defaults, its output streamed; the container's changes become a
// new layer, whose id it returns. The container is removed whatever
// happens, interruption included.
func (b *builder) runContainer(ctx context.Context, st *stage, argv []string, text string) (layer string, retErr error) {
	empty := ""
	o := &container.CreateOptions{
		Image:       st.image,
		Pull:        container.PullNever,
		Command:     argv,
		Entrypoint:  &empty,
		Env:         b.runEnv(st),
		Workdir:     st.config.Config.WorkingDir,
		User:        st.config.Config.User,
		Labels:      []string{"sandbox.build=true"},
		Build:       true,
		Progress:    b.errw,
		Interactive: false,
	}
	o.Network = b.o.Network
	c, started, err := b.rt.Run(ctx, o, true)
	if c != nil {
		defer func() {
			// A context of its own: an interrupted build removes it too.
			if rerr := b.rt.Remove(context.Background(), c.ID, container.RemoveOptions{Force: true}); rerr != nil && retErr == nil {
				retErr = fmt.Errorf("remove the build container: %w", rerr)
			}
		}()
	}
	if err != nil {
		return "", err
	}
	faultinject.Step(faultinject.BuildContainer)
	stop := context.AfterFunc(ctx, func() {
		// Interrupted: end the container, so that the attach ends.
		if kerr := b.rt.Kill(context.Background(), c.ID, unix.SIGKILL); kerr != nil {
			fmt.Fprintf(b.errw, "WARN: stop the build container: %v\n", kerr)
		}
	})
	defer stop()
	code, err := container.Attach(started.Conn, container.Stdio{Out: b.out, Err: b.errw}, container.AttachOptions{})
	if cerr := ctx.Err(); cerr != nil {
		return "", cerr
	}
	if err != nil {
		return "", err
	}
	if code != 0 {
		// A RUN that failed on a full store is told as the full store,
		// as run tells it; a store that cannot be measured leaves the
		// RUN's own status.
		if err := b.rt.ExitStatus(code); errors.Is(err, storage.ErrDiskFull) {
			return "", fmt.Errorf("building at STEP \"%s\": %w", text, err)
		}
		return "", &runError{step: text, code: code}
	}
	faultinject.Step(faultinject.BuildRan)
	l, err := b.store.FreezeLayer(ctx, c.LayerID, storage.FreezeOptions{
		Drop: runMountTargets, BufferedStep: faultinject.BuildDiff, StoredStep: faultinject.BuildLayer,
	})
	if err != nil {
		return "", err
	}
	return l.ID, nil
}
