// Package commit makes an image of a container (sandbox commit): the
// container's changes as one new layer over its image's, through package
// storage. It is apart from package build so that the sandbox command
// links no Dockerfile parser; it must not import cobra or containers/image.
package commit

import (
	"context"
	"fmt"
	"strings"

	"sandbox/container"
	"sandbox/internal/faultinject"
	"sandbox/storage"

	v1 "github.com/opencontainers/image-spec/specs-go/v1"
)

// Options are the flags of commit.
type Options struct {
	// Container is the container's name or id; Image the new image's name
	// ("": none).
	Container, Image string
	// Changes are -c/--change Dockerfile instructions (storage.ApplyChanges).
	Changes []string
	// Message and Author are -m and -a, kept in the history and config.
	Message, Author string
	// Pause freezes a running container while its changes are read.
	Pause bool
}

// Commit makes an image of a container's root filesystem: its image's
// layers and the container's changes as a new layer, with the
// container's configuration (command, environment, working directory,
// user) and the changes applied.
func Commit(ctx context.Context, rt *container.Runtime, o Options) (string, error) {
	if err := storage.CheckChanges(o.Changes); err != nil {
		return "", err
	}
	var names []string
	if o.Image != "" {
		if _, err := storage.NormalizeName(o.Image); err != nil {
			return "", err
		}
		names = []string{o.Image}
	}
	c, err := rt.Lookup(o.Container)
	if err != nil {
		return "", err
	}
	if c.Config == nil {
		return "", fmt.Errorf("container %.12s is not fully created", c.ID)
	}
	cfg, err := rt.Store.DockerImageConfig(c.ImageID)
	if err != nil {
		return "", err
	}
	ic := &cfg.Config.ImageConfig
	h := c.Config.Host
	ic.Entrypoint, ic.Cmd, ic.User = h.Entrypoint, h.Cmd, h.User
	ic.Env = withoutHostname(c.Config.Spec.Process.Env)
	if cwd := c.Config.Spec.Process.Cwd; cwd != "" {
		ic.WorkingDir = cwd
	}
	if err := storage.ApplyChanges(ic, o.Changes); err != nil {
		return "", err
	}
	if o.Author != "" {
		cfg.Author = o.Author
	}
	if o.Pause {
		if err := rt.PauseFor(c.ID); err == nil {
			faultinject.Step(faultinject.CommitPaused)
			defer func() {
				if uerr := rt.Unpause(c.ID); uerr != nil {
					fmt.Printf("WARN: unpause %.12s: %v\n", c.ID, uerr)
				}
			}()
		}
	}
	hist := v1.History{CreatedBy: "sandbox commit " + strings.Join(h.Cmd, " "), Comment: o.Message, Author: o.Author}
	img, err := rt.Store.Commit(ctx, c.ID, storage.CommitOptions{Config: *cfg, History: hist, Names: names})
	if err != nil {
		return "", fmt.Errorf("commit %s: %w", o.Container, err)
	}
	return img.ID, nil
}

// withoutHostname drops HOSTNAME, which every container gets its own of.
func withoutHostname(env []string) []string {
	var out []string
	for _, kv := range env {
		if !strings.HasPrefix(kv, "HOSTNAME=") {
			out = append(out, kv)
		}
	}
	return out
}
