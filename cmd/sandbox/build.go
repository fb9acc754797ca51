package main

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"

	"sandbox/build/buildopt"

	"github.com/spf13/cobra"
	"golang.org/x/term"
)

func newBuildCommand(g *globals) *cobra.Command {
	var o buildopt.Options
	cmd := &cobra.Command{
		Use:   "build [flags] CONTEXT",
		Short: "Build an image from a Dockerfile or Containerfile",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			o.ContextDir = args[0]
			if args[0] == "-" {
				if term.IsTerminal(int(os.Stdin.Fd())) {
					return errors.New("build -: standard input is a terminal; pipe a context tar (or a Dockerfile) into it")
				}
			} else if _, err := os.Stat(args[0]); err != nil {
				return fmt.Errorf("the build context: %w", err)
			}
			// The helper runs elsewhere: paths are made absolute here.
			for _, p := range []*string{&o.ContextDir, &o.Dockerfile, &o.IIDFile} {
				if *p != "" && *p != "-" {
					abs, err := filepath.Abs(*p)
					if err != nil {
						return err
					}
					*p = abs
				}
			}
			s, err := g.store()
			if err != nil {
				return err
			}
			// The helper opens the same store, with the driver resolved.
			so := s.Options
			so.Driver = s.DriverName
			return buildopt.Launch(cmdContext(cmd), buildopt.Request{Options: o, Storage: so, CgroupManager: string(g.manager), Version: version})
		},
	}
	f := cmd.Flags()
	f.StringArrayVarP(&o.Tags, "tag", "t", nil, "name the image NAME[:TAG] (repeatable)")
	f.StringVarP(&o.Dockerfile, "file", "f", "", "the Dockerfile (default: Containerfile or Dockerfile in the context)")
	f.StringArrayVar(&o.BuildArgs, "build-arg", nil, "a build argument NAME=VALUE (or NAME: from the environment)")
	f.StringVar(&o.Target, "target", "", "build up to this stage")
	f.BoolVar(&o.NoCache, "no-cache", false, "build every step, using no cached layer")
	f.StringVar(&o.Pull, "pull", "missing", "pull FROM images: missing, always or never")
	f.Lookup("pull").NoOptDefVal = "always"
	f.StringArrayVar(&o.Labels, "label", nil, "set a label NAME=VALUE on the image")
	f.BoolVarP(&o.Quiet, "quiet", "q", false, "print only the image id")
	f.StringVar(&o.Progress, "progress", "auto", "output: auto (a compact view on a terminal, plain lines otherwise), plain or tty")
	f.StringVar(&o.IIDFile, "iidfile", "", "write the image id to this file")
	f.StringVar(&o.Network, "network", "", "network of RUN steps: as run's --network (none: no network)")
	return cmd
}

// cmdContext is the command's context, or a background one.
func cmdContext(cmd *cobra.Command) context.Context {
	if ctx := cmd.Context(); ctx != nil {
		return ctx
	}
	return context.Background()
}
