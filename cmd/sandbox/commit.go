package main

import (
	"fmt"

	"sandbox/build/commit"

	"github.com/spf13/cobra"
)

func newCommitCommand(g *globals) *cobra.Command {
	var o commit.Options
	cmd := &cobra.Command{
		Use:   "commit [flags] CONTAINER [IMAGE]",
		Short: "Create an image from a container's changes",
		Args:  cobra.RangeArgs(1, 2),
		RunE: func(cmd *cobra.Command, args []string) error {
			o.Container = args[0]
			if len(args) == 2 {
				o.Image = args[1]
			}
			rt, err := g.runtime()
			if err != nil {
				return err
			}
			id, err := commit.Commit(cmdContext(cmd), rt, o)
			if err != nil {
				return err
			}
			fmt.Println(id)
			return nil
		},
	}
	f := cmd.Flags()
	f.StringArrayVarP(&o.Changes, "change", "c", nil, "apply a Dockerfile instruction: CMD, ENTRYPOINT, ENV, WORKDIR, USER, LABEL, EXPOSE, VOLUME, STOPSIGNAL")
	f.StringVarP(&o.Message, "message", "m", "", "commit message, kept in the image's history")
	f.StringVarP(&o.Author, "author", "a", "", "the image's author")
	f.BoolVarP(&o.Pause, "pause", "p", false, "pause the container while committing")
	return cmd
}
