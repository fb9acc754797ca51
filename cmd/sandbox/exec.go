package main

import (
	"errors"
	"os"

	"sandbox/attach"
	"sandbox/cmd/sandbox/execflags"
	"sandbox/container"
	"sandbox/spec"

	"github.com/spf13/cobra"
	"golang.org/x/term"
)

func newExecCommand(g *globals) *cobra.Command {
	var v execflags.Values
	cmd := &cobra.Command{
		Use:   "exec [flags] CONTAINER COMMAND [ARG...]",
		Short: "Run a command in a running container",
		Args:  cobra.MinimumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			o := container.ExecOptions{
				Command: args[1:], Env: v.Env, EnvFiles: v.EnvFiles, Workdir: v.Workdir, User: v.User,
				Interactive: v.Interactive, TTY: v.TTY, Detach: v.Detach, Privileged: v.Privileged,
				SecurityOpts: v.SecurityOpts,
			}
			if len(o.Command) == 0 {
				return errors.New("exec needs a command: sandbox exec CONTAINER COMMAND [ARG...]")
			}
			if o.TTY && o.Interactive && !term.IsTerminal(int(os.Stdin.Fd())) {
				return errors.New("the input device is not a TTY: drop -t, or run from a terminal")
			}
			keys, err := attach.ParseDetachKeys(v.DetachKeys)
			if err != nil {
				return err
			}
			o.DetachKeys = keys
			if o.TTY {
				o.Rows, o.Cols = attach.TerminalSize()
			}
			o.Helper = container.PrepareExec()
			defer o.Helper.Close()
			rt, err := g.openingRuntime(false)
			if err != nil {
				return err
			}
			code, err := rt.Exec(ctx(cmd), args[0], o)
			if err != nil {
				return err
			}
			if code != 0 {
				return spec.NewExitError(code, nil)
			}
			return nil
		},
	}
	execflags.Define(cmd.Flags(), &v, attach.DefaultDetachKeys)
	return cmd
}
