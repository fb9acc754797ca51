package build

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"path"
	"runtime"
	"strings"

	"github.com/moby/buildkit/frontend/dockerfile/instructions"
	"github.com/opencontainers/go-digest"
)

func goarch() string { return runtime.GOARCH }

// nop is how a config-only step shows in the history, as buildah writes it.
func nop(text string) string { return "/bin/sh -c #(nop) " + text }

// step runs one instruction of a stage.
func (b *builder) step(ctx context.Context, st *stage, c instructions.Command) error {
	if e, ok := c.(instructions.SupportsSingleWordExpansion); ok {
		if err := e.Expand(expander(b.lex, st.expandEnv())); err != nil {
			return err
		}
	}
	text := sourceOf(c)
	cfg := &st.config.Config
	switch c := c.(type) {
	case *instructions.RunCommand:
		return b.run(ctx, st, c)
	case *instructions.CopyCommand:
		if err := unsupported(flagUse{len(c.ExcludePatterns) > 0, "--exclude"}, flagUse{c.Parents, "--parents"}); err != nil {
			return err
		}
		return b.copy(ctx, st, copyRequest{sources: c.SourcePaths, dest: c.DestPath, from: c.From, chown: c.Chown, chmod: c.Chmod, text: text})
	case *instructions.AddCommand:
		if err := unsupported(flagUse{len(c.ExcludePatterns) > 0, "--exclude"}, flagUse{c.Checksum != "", "--checksum"},
			flagUse{c.KeepGitDir != nil, "--keep-git-dir"}, flagUse{c.Unpack != nil, "--unpack"}); err != nil {
			return err
		}
		return b.copy(ctx, st, copyRequest{sources: c.SourcePaths, dest: c.DestPath, chown: c.Chown, chmod: c.Chmod, add: true, text: text})
	case *instructions.ArgCommand:
		for _, kv := range c.Args {
			v, given := b.args[kv.Key]
			switch {
			case given:
				b.used[kv.Key] = true
			case kv.Value != nil:
				v = *kv.Value
			default:
				mv, ok := b.meta.Get(kv.Key)
				if !ok {
					continue
				}
				v = mv
			}
			st.args[kv.Key] = v
		}
		// An ARG changes what later steps see, not the image.
		st.key = stepKey(st.key, text, st.scopeArgs(), "")
		return nil
	case *instructions.EnvCommand:
		for _, kv := range c.Env {
			cfg.Env = setEnv(cfg.Env, kv.Key, kv.Value)
		}
	case *instructions.LabelCommand:
		if cfg.Labels == nil {
			cfg.Labels = map[string]string{}
		}
		for _, kv := range c.Labels {
			cfg.Labels[kv.Key] = kv.Value
		}
	case *instructions.MaintainerCommand:
		st.config.Author = c.Maintainer
	case *instructions.WorkdirCommand:
		cfg.WorkingDir = st.resolvePath(c.Path)
	case *instructions.UserCommand:
		cfg.User = c.User
	case *instructions.ExposeCommand:
		if cfg.ExposedPorts == nil {
			cfg.ExposedPorts = map[string]struct{}{}
		}
		for _, p := range c.Ports {
			for _, w := range strings.Fields(p) {
				if !strings.Contains(w, "/") {
					w += "/tcp"
				}
				cfg.ExposedPorts[w] = struct{}{}
			}
		}
	case *instructions.VolumeCommand:
		if cfg.Volumes == nil {
			cfg.Volumes = map[string]struct{}{}
		}
		for _, v := range c.Volumes {
			if v == "" {
				return errors.New("VOLUME needs a path")
			}
			cfg.Volumes[v] = struct{}{}
		}
	case *instructions.StopSignalCommand:
		cfg.StopSignal = c.Signal
	case *instructions.CmdCommand:
		cfg.Cmd = st.commandLine(c.ShellDependantCmdLine)
		st.cmdSet = true
	case *instructions.EntrypointCommand:
		cfg.Entrypoint = st.commandLine(c.ShellDependantCmdLine)
		if !st.cmdSet {
			// As docker: an ENTRYPOINT drops the CMD of the base image.
			cfg.Cmd = nil
		}
	case *instructions.ShellCommand:
		st.shell = append([]string(nil), c.Shell...)
		st.config.Config.Shell = st.shell
	case *instructions.HealthCheckCommand:
		h := *c.Health
		st.config.Config.Healthcheck = &h
	case *instructions.OnbuildCommand:
		st.config.Config.OnBuild = append(st.config.Config.OnBuild, c.Expression)
	default:
		return fmt.Errorf("the instruction %s is not supported", strings.ToUpper(c.Name()))
	}
	st.key = stepKey(st.key, text, st.scopeArgs(), "")
	st.history(nop(text), true)
	return nil
}

// flagUse is whether an instruction's flag was given.
type flagUse struct {
	used bool
	name string
}

// unsupported refuses the first of flags that was given.
func unsupported(flags ...flagUse) error {
	for _, f := range flags {
		if f.used {
			return fmt.Errorf("the flag %s is not supported", f.name)
		}
	}
	return nil
}

// commandLine is a CMD or ENTRYPOINT: the exec form as written, the shell
// form run by the stage's SHELL.
func (st *stage) commandLine(c instructions.ShellDependantCmdLine) []string {
	if !c.PrependShell {
		return append([]string(nil), c.CmdLine...)
	}
	return append(append([]string(nil), st.shell...), strings.Join(c.CmdLine, " "))
}

// runArgv is a RUN's command: the exec form as written; the shell form,
// with its here-documents, given to the stage's SHELL.
func (st *stage) runArgv(c *instructions.RunCommand) []string {
	if !c.PrependShell {
		return append([]string(nil), c.CmdLine...)
	}
	script := strings.Join(c.CmdLine, " ")
	if len(c.Files) > 0 {
		f := c.Files[0]
		if strings.TrimSpace(strings.TrimLeft(strings.TrimSpace(script), "<-")) == strings.Trim(f.Name, `"'`) {
			// RUN <<EOF alone: the document is the script.
			return append(append([]string(nil), st.shell...), f.Data)
		}
		// The shell reads here-documents itself: give it the lines back.
		for _, f := range c.Files {
			data := f.Data
			if !strings.HasSuffix(data, "\n") {
				data += "\n"
			}
			script += "\n" + data + f.Name
		}
	}
	return append(append([]string(nil), st.shell...), script)
}

// createdBy is how a RUN shows in the history.
func runCreatedBy(argv []string, exec bool) string {
	if exec {
		data, err := json.Marshal(argv)
		if err == nil {
			return nop("RUN " + string(data))
		}
	}
	return strings.Join(argv, " ")
}

// keyWith is the step key of a filesystem step.
func (st *stage) keyWith(text string, sources digest.Digest) digest.Digest {
	return stepKey(st.key, text, st.scopeArgs(), sources)
}

// cleanDest is a destination made absolute, keeping a trailing slash.
func (st *stage) cleanDest(dest string) (string, bool) {
	dir := strings.HasSuffix(dest, "/") || strings.HasSuffix(dest, "/.") || dest == "."
	return path.Clean(st.resolvePath(dest)), dir
}
