package main

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"

	"sandbox/container"
	"sandbox/spec"
	"sandbox/volume"

	"github.com/spf13/cobra"
)

// newVolumeCommand is the volume group; args are the arguments after its
// name (addSubcommands).
func newVolumeCommand(g *globals, args []string) *cobra.Command {
	cmd := newGroup("volume", "Manage volumes")
	addSubcommands(cmd, []subcommand{
		leaf(g, newVolumeCreateCommand, "create"), leaf(g, newVolumeLsCommand, "ls", "list"),
		leaf(g, newVolumeInspectCommand, "inspect"), leaf(g, newVolumeRmCommand, "rm", "remove"),
		leaf(g, newVolumePruneCommand, "prune"), leaf(g, newVolumeExistsCommand, "exists"),
	}, args, nil)
	return cmd
}

// keyValues parses KEY=VALUE flags (a KEY alone has the value "").
func keyValues(flag string, vals []string) (map[string]string, error) {
	m := map[string]string{}
	for _, kv := range vals {
		k, v, _ := strings.Cut(kv, "=")
		if k == "" {
			return nil, fmt.Errorf("invalid --%s %q: want KEY=VALUE", flag, kv)
		}
		m[k] = v
	}
	return m, nil
}

func newVolumeCreateCommand(g *globals) *cobra.Command {
	var labels, opts []string
	var driver string
	var ignore bool
	cmd := &cobra.Command{
		Use:   "create [flags] [NAME]",
		Short: "Create a volume (a random name when none is given)",
		Args:  cobra.MaximumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			o := volume.CreateOptions{Driver: driver}
			if len(args) == 1 {
				o.Name = args[0]
			}
			var err error
			if o.Labels, err = keyValues("label", labels); err != nil {
				return err
			}
			if o.Options, err = keyValues("opt", opts); err != nil {
				return err
			}
			rt, err := g.runtime()
			if err != nil {
				return err
			}
			vs, err := rt.Volumes()
			if err != nil {
				return err
			}
			v, err := vs.Create(o)
			if ignore && errors.Is(err, volume.ErrExists) {
				fmt.Println(o.Name)
				return nil
			}
			if err != nil {
				return err
			}
			fmt.Println(v.Name)
			return nil
		},
	}
	f := cmd.Flags()
	f.StringArrayVarP(&labels, "label", "l", nil, "set a label KEY=VALUE")
	f.StringArrayVarP(&opts, "opt", "o", nil, "set a driver option KEY=VALUE")
	f.StringVarP(&driver, "driver", "d", volume.DriverLocal, "volume driver (only local)")
	f.BoolVar(&ignore, "ignore", false, "a volume of that name is not an error")
	return cmd
}

// volumeRow is a volume as volume ls prints it.
type volumeRow struct{ *volume.Volume }

func (r volumeRow) json() any { return r.Volume }

var volumeColumns = []column{{"DRIVER", "{{.Driver}}"}, {"VOLUME NAME", "{{.Name}}"}}

func newVolumeLsCommand(g *globals) *cobra.Command {
	var quiet bool
	var format string
	var filters []string
	cmd := &cobra.Command{
		Use:     "ls [flags]",
		Aliases: []string{"list"},
		Short:   "List volumes",
		Args:    cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			f, err := volume.ParseFilters(filters)
			if err != nil {
				return err
			}
			rt, err := g.runtime()
			if err != nil {
				return err
			}
			list, users, err := volumesAndUsers(cmd, rt)
			if err != nil {
				return err
			}
			var rows []any
			for _, v := range list {
				if !f.Match(v, len(users[v.Name]) > 0) {
					continue
				}
				if quiet {
					fmt.Println(v.Name)
					continue
				}
				rows = append(rows, volumeRow{v})
			}
			if quiet {
				return nil
			}
			return printFormatted(os.Stdout, format, volumeColumns, rows)
		},
	}
	fl := cmd.Flags()
	fl.BoolVarP(&quiet, "quiet", "q", false, "only show volume names")
	fl.StringVar(&format, "format", "", "format: table, json, or a Go template")
	fl.StringArrayVarP(&filters, "filter", "f", nil, "only volumes matching KEY=VALUE: name, label, label!, driver, dangling")
	return cmd
}

func volumesAndUsers(cmd *cobra.Command, rt *container.Runtime) ([]*volume.Volume, map[string][]string, error) {
	vs, err := rt.Volumes()
	if err != nil {
		return nil, nil, err
	}
	// Users first: that waits for --rm containers being removed, and
	// their anonymous volumes with them.
	users, err := rt.VolumeUsers(ctx(cmd))
	if err != nil {
		return nil, nil, err
	}
	list, err := vs.List()
	return list, users, err
}

func newVolumeInspectCommand(g *globals) *cobra.Command {
	var format string
	var all bool
	cmd := &cobra.Command{
		Use:   "inspect [flags] VOLUME [VOLUME...]",
		Short: "Show volumes in detail, as JSON",
		RunE: func(cmd *cobra.Command, args []string) error {
			if len(args) == 0 && !all {
				return errors.New("give a volume name, or --all")
			}
			rt, err := g.runtime()
			if err != nil {
				return err
			}
			vs, err := rt.Volumes()
			if err != nil {
				return err
			}
			var docs []*volume.Volume
			var errs []error
			if all {
				if docs, err = vs.List(); err != nil {
					return err
				}
			}
			for _, name := range args {
				v, err := vs.Get(name)
				if errors.Is(err, volume.ErrNoSuchVolume) {
					err = fmt.Errorf("inspecting object: no such volume %s", name) // podman's words
				}
				if err != nil {
					errs = append(errs, err)
					continue
				}
				docs = append(docs, v)
			}
			rows := make([]any, len(docs))
			for i, d := range docs {
				rows[i] = d
			}
			if format == "" || format == "json" {
				if err := printJSON(os.Stdout, rows); err != nil {
					return err
				}
			} else if err := printFormatted(os.Stdout, format, nil, rows); err != nil {
				return err
			}
			return errors.Join(errs...)
		},
	}
	cmd.Flags().StringVarP(&format, "format", "f", "", "format: json or a Go template")
	cmd.Flags().BoolVarP(&all, "all", "a", false, "inspect every volume")
	return cmd
}

func newVolumeRmCommand(g *globals) *cobra.Command {
	var force, all bool
	cmd := &cobra.Command{
		Use:     "rm [flags] VOLUME [VOLUME...]",
		Aliases: []string{"remove"},
		Short:   "Remove volumes (-f: and the containers that use them)",
		RunE: func(cmd *cobra.Command, args []string) error {
			if len(args) == 0 && !all {
				return errors.New("give a volume name, or --all")
			}
			rt, err := g.runtime()
			if err != nil {
				return err
			}
			if all {
				vs, err := rt.Volumes()
				if err != nil {
					return err
				}
				list, err := vs.List()
				if err != nil {
					return err
				}
				for _, v := range list {
					args = append(args, v.Name)
				}
			}
			code := 0
			for _, name := range args {
				err := rt.RemoveVolume(ctx(cmd), name, force)
				if err == nil {
					fmt.Println(name)
					continue
				}
				fmt.Fprintln(os.Stderr, "Error:", err)
				// podman volume rm: 1 no such volume, 2 in use, 125 else.
				c := 125
				switch {
				case errors.Is(err, volume.ErrNoSuchVolume):
					c = 1
				case errors.Is(err, volume.ErrInUse):
					c = 2
				}
				if code != 125 && c > code {
					code = c
				}
			}
			if code != 0 {
				return spec.NewExitError(code, nil)
			}
			return nil
		},
	}
	cmd.Flags().BoolVarP(&force, "force", "f", false, "remove the containers that use the volume first")
	cmd.Flags().BoolVarP(&all, "all", "a", false, "remove every volume")
	return cmd
}

func newVolumePruneCommand(g *globals) *cobra.Command {
	var force bool
	var filters []string
	cmd := &cobra.Command{
		Use:   "prune [flags]",
		Short: "Remove every volume that no container uses",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			f, err := volume.ParseFilters(filters)
			if err != nil {
				return err
			}
			rt, err := g.runtime()
			if err != nil {
				return err
			}
			if !force {
				fmt.Print("WARNING! This will remove all volumes not used by at least one container.\nAre you sure you want to continue? [y/N] ")
				answer, err := bufio.NewReader(os.Stdin).ReadString('\n')
				if err != nil && !errors.Is(err, io.EOF) {
					return err
				}
				if a := strings.ToLower(strings.TrimSpace(answer)); a != "y" && a != "yes" {
					return nil
				}
			}
			removed, err := rt.PruneVolumes(ctx(cmd), func(v *volume.Volume) bool { return !f.Match(v, false) })
			for _, n := range removed {
				fmt.Println(n)
			}
			return err
		},
	}
	cmd.Flags().BoolVarP(&force, "force", "f", false, "do not ask for confirmation")
	cmd.Flags().StringArrayVar(&filters, "filter", nil, "only volumes matching KEY=VALUE (label, label!, name, driver)")
	return cmd
}

func newVolumeExistsCommand(g *globals) *cobra.Command {
	return &cobra.Command{
		Use:   "exists VOLUME",
		Short: "Exit 0 if a volume exists, 1 if not",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			rt, err := g.runtime()
			if err != nil {
				return err
			}
			vs, err := rt.Volumes()
			if err != nil {
				return err
			}
			if _, err := vs.Get(args[0]); errors.Is(err, volume.ErrNoSuchVolume) {
				return notFound
			} else if err != nil {
				return err
			}
			return nil
		},
	}
}
