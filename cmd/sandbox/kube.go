package main

import (
	"errors"
	"fmt"
	"os"

	"sandbox/kube/engine"

	"github.com/spf13/cobra"
)

func newGenerateCommand(g *globals, args []string) *cobra.Command {
	cmd := newGroup("generate", "Generate structured data from containers and pods")
	addSubcommands(cmd, []subcommand{leaf(g, newGenerateKubeCommand, "kube")}, args, nil)
	return cmd
}

func newPlayCommand(g *globals, args []string) *cobra.Command {
	cmd := newGroup("play", "Play containers and pods from structured data")
	addSubcommands(cmd, []subcommand{leaf(g, newPlayKubeCommand, "kube")}, args, nil)
	return cmd
}

func newGenerateKubeCommand(g *globals) *cobra.Command {
	o := engine.GenerateOptions{}
	var file string
	cmd := &cobra.Command{
		Use:   "kube [flags] CONTAINER|POD...",
		Short: "Print Kubernetes YAML (a Pod or Deployment, and Services) of containers and pods",
		Args:  cobra.MinimumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			o.Refs = args
			rt, err := g.runtime()
			if err != nil {
				return err
			}
			y, err := engine.Generate(cmd.Context(), rt, o)
			if err != nil {
				return err
			}
			if file != "" {
				if _, err := os.Stat(file); err == nil {
					return fmt.Errorf("cannot write to %q: the file exists", file)
				}
				return os.WriteFile(file, y, 0o644)
			}
			_, err = os.Stdout.Write(y)
			return err
		},
	}
	f := cmd.Flags()
	f.BoolVarP(&o.Service, "service", "s", false, "also generate a Service of the published ports")
	f.StringVarP(&o.Type, "type", "t", "pod", "the kind to generate: pod or deployment")
	f.Int32VarP(&o.Replicas, "replicas", "r", 1, "a Deployment's replicas")
	f.StringVarP(&file, "filename", "f", "", "write to this file, which must not exist")
	return cmd
}

func newPlayKubeCommand(g *globals) *cobra.Command {
	o := engine.PlayOptions{}
	cmd := &cobra.Command{
		Use:   "kube [flags] FILE|-",
		Short: "Create and start the pods of Kubernetes YAML (Pods, Deployments), or remove them with --down",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			if o.Down && o.Replace {
				return errors.New("--down and --replace do not go together")
			}
			data, err := engine.ReadYAML(args[0], os.Stdin)
			if err != nil {
				return err
			}
			o.YAML = data
			rt, err := g.runtime()
			if err != nil {
				return err
			}
			rep, err := engine.Play(cmd.Context(), rt, o)
			if err != nil {
				return err
			}
			if o.Down {
				if len(rep.Pods) > 0 {
					fmt.Println("Pods stopped:")
					for _, p := range rep.Pods {
						fmt.Println(p.ID)
					}
					fmt.Println("Pods removed:")
					for _, p := range rep.Pods {
						fmt.Println(p.ID)
					}
				}
				return nil
			}
			for _, p := range rep.Pods {
				fmt.Println("Pod:")
				fmt.Println(p.ID)
				fmt.Println("Container:")
				for _, c := range p.Containers {
					fmt.Println(c)
				}
				fmt.Println()
			}
			return nil
		},
	}
	f := cmd.Flags()
	f.BoolVar(&o.Down, "down", false, "stop and remove the pods the YAML describes")
	f.BoolVar(&o.Replace, "replace", false, "remove pods of the same names first")
	f.StringVar(&o.Network, "network", "", "the pods' network: a network of network create, slirp4netns[:OPTIONS], pasta[:OPTIONS], none or host")
	return cmd
}
