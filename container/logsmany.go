package container

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"sync"
)

// LogsOfOptions are the flags of logs for several containers.
type LogsOfOptions struct {
	LogsOptions
	// Names: the lines of several containers are prefixed with their
	// container's name, not its short ID. As with podman, the lines of
	// one container have no prefix.
	Names bool
}

// LogsOf prints the logs of the containers refs, each line prefixed with
// its container when there is more than one. Without
// Follow the logs come one after another in the order given; with Follow
// they are read side by side, each line whole.
func (r *Runtime) LogsOf(ctx context.Context, refs []string, o LogsOfOptions) error {
	if len(refs) == 1 {
		return r.Logs(ctx, refs[0], o.LogsOptions)
	}
	cs := make([]*Container, len(refs))
	for i, ref := range refs {
		c, err := r.Lookup(ref)
		if err != nil {
			return err
		}
		cs[i] = c
	}
	var mu sync.Mutex
	one := func(c *Container) error {
		prefix := fmt.Sprintf("%.12s ", c.ID)
		if o.Names {
			prefix = c.Name() + " "
		}
		lo := o.LogsOptions
		lo.Stdout = &prefixWriter{mu: &mu, w: o.Stdout, prefix: []byte(prefix)}
		lo.Stderr = &prefixWriter{mu: &mu, w: o.Stderr, prefix: []byte(prefix)}
		return r.Logs(ctx, c.ID, lo)
	}
	if !o.Follow {
		for _, c := range cs {
			if err := one(c); err != nil {
				return err
			}
		}
		return nil
	}
	errs := make(chan error, len(cs))
	for _, c := range cs {
		go func() { errs <- one(c) }()
	}
	var first error
	for range cs {
		if err := <-errs; err != nil && first == nil {
			first = err
		}
	}
	return first
}

// prefixWriter puts prefix before every line written through it; writers
// sharing mu write their lines whole, never within another's.
type prefixWriter struct {
	mu     *sync.Mutex
	w      io.Writer
	prefix []byte
	// midLine: the last write ended without a newline.
	midLine bool
}

func (p *prefixWriter) Write(b []byte) (int, error) {
	n := len(b)
	var out []byte
	for len(b) > 0 {
		if !p.midLine {
			out = append(out, p.prefix...)
		}
		i := bytes.IndexByte(b, '\n')
		if i < 0 {
			out, p.midLine = append(out, b...), true
			break
		}
		out, b, p.midLine = append(out, b[:i+1]...), b[i+1:], false
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	if _, err := p.w.Write(out); err != nil {
		return 0, err
	}
	return n, nil
}
