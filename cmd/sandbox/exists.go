package main

import (
	"errors"

	"sandbox/container"
	"sandbox/spec"
	"sandbox/storage"

	"github.com/spf13/cobra"
)

// notFound is exists' answer for a name that is not there: status 1,
// nothing printed (podman's container exists and image exists).
var notFound = spec.NewExitError(1, nil)

func newContainerExistsCommand(g *globals) *cobra.Command {
	return &cobra.Command{
		Use:   "exists CONTAINER",
		Short: "Exit 0 if a container exists, 1 if not",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			rt, err := g.runtime()
			if err != nil {
				return err
			}
			if _, err := rt.Lookup(args[0]); errors.Is(err, container.ErrNoSuchContainer) {
				return notFound
			} else if err != nil {
				return err
			}
			return nil
		},
	}
}

func newImageExistsCommand(g *globals) *cobra.Command {
	return &cobra.Command{
		Use:   "exists IMAGE",
		Short: "Exit 0 if an image exists, 1 if not",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			s, err := g.store()
			if err != nil {
				return err
			}
			if _, err := s.ResolveImage(args[0]); errors.Is(err, storage.ErrNoSuchImage) {
				return notFound
			} else if err != nil {
				return err
			}
			return nil
		},
	}
}
