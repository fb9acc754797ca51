package main

import (
	"errors"
	"os"

	"sandbox/container"
	"sandbox/spec"

	"github.com/spf13/cobra"
	"golang.org/x/term"
)

func newExecCommand(g *globals) *cobra.Command {
	var o container.ExecOptions
	var detachKeys string
	cmd := &cobra.Command{
		Use:   "exec [flags] CONTAINER COMMAND [ARG...]",
		Short: "Run a command in a running container",
		Args:  cobra.MinimumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			o.Command = args[1:]
			if len(o.Command) == 0 {
				return errors.New("exec needs a command: sandbox exec CONTAINER COMMAND [ARG...]")
			}
			if o.TTY && o.Interactive && !term.IsTerminal(int(os.Stdin.Fd())) {
				return errors.New("the input device is not a TTY: drop -t, or run from a terminal")
			}
			keys, err := container.ParseDetachKeys(detachKeys)
			if err != nil {
				return err
			}
			o.DetachKeys = keys
			if o.TTY {
				o.Rows, o.Cols = terminalSize()
			}
			o.Helper = container.PrepareExec()
			defer o.Helper.Close()
			rt, err := g.runtime()
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
	f := cmd.Flags()
	f.SetInterspersed(false)
	f.BoolVarP(&o.Interactive, "interactive", "i", false, "keep standard input open")
	f.BoolVarP(&o.TTY, "tty", "t", false, "allocate a terminal")
	f.BoolVarP(&o.Detach, "detach", "d", false, "run the command in the background")
	f.StringArrayVarP(&o.Env, "env", "e", nil, "set an environment variable (KEY=VALUE, or KEY to copy it)")
	f.StringArrayVar(&o.EnvFiles, "env-file", nil, "read environment variables from a file")
	f.StringVarP(&o.Workdir, "workdir", "w", "", "working directory inside the container")
	f.StringVarP(&o.User, "user", "u", "", "user to run as: USER[:GROUP] or UID[:GID]")
	f.BoolVar(&o.Privileged, "privileged", false, "all capabilities")
	f.StringArrayVar(&o.SecurityOpts, "security-opt", nil, "no-new-privileges: the command gains no privilege through execve")
	f.StringVar(&detachKeys, "detach-keys", container.DefaultDetachKeys, "keys that detach from a terminal session")
	return cmd
}
