package main

import (
	"errors"
	"fmt"
	"os"
	"strings"
	"text/tabwriter"
	"time"

	"sandbox/container"
	"sandbox/spec"
	"sandbox/system"

	"github.com/spf13/cobra"
	"golang.org/x/term"
)

// systemResources are the resources of other packages (named volumes,
// networks) that system df, prune and reset cover: each package that owns
// one adds it here.
func systemResources(rt *container.Runtime) []system.Resource { return system.Resources(rt) }

func newSystemCommand(g *globals, args []string) *cobra.Command {
	cmd := newGroup("system", "Manage sandbox: the store's health, size and clean-up")
	addSubcommands(cmd, []subcommand{
		leaf(g, newSystemCheckCommand, "check"), leaf(g, newSystemDFCommand, "df"),
		leaf(g, newSystemPruneCommand, "prune"), leaf(g, newSystemResetCommand, "reset"),
		leaf(g, newInfoCommand, "info"), leaf(g, newServiceCommand, "service"),
	}, args, nil)
	return cmd
}

func newSystemCheckCommand(g *globals) *cobra.Command {
	var o system.StoreCheckOptions
	var maxAge string
	var format string
	cmd := &cobra.Command{
		Use:   "check [flags]",
		Short: "Check the store for damage and leftovers, and repair them with --repair",
		Long: `Check the store: every container's and image's layers and their parents
there, no layer that nothing refers to (older than --max), every container's
configuration readable, no mount under the store that no container owns, no
run directory of a container that is gone. Each problem is one line.
--repair fixes what it can without losing a container's data; with -f it also
removes damaged images and containers. Exits 1 when problems remain.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			if format != "" && format != "json" {
				return fmt.Errorf("--format %q: want json", format)
			}
			if maxAge != "" {
				d, err := time.ParseDuration(maxAge)
				if err != nil || d < 0 {
					return fmt.Errorf("--max %q: want a duration such as 24h or 0s", maxAge)
				}
				o.MaxUnreferencedAge = &d
			}
			if o.Force && !o.Repair {
				return errors.New("--force removes damaged images and containers while repairing: use it with --repair")
			}
			rt, err := g.runtime()
			if err != nil {
				return err
			}
			o.Runtime = rt
			rep, err := system.CheckStore(ctx(cmd), o)
			if err != nil {
				return err
			}
			if format == "json" {
				if err := printJSON(os.Stdout, rep); err != nil {
					return err
				}
			} else {
				for _, p := range rep.Problems {
					fmt.Println(p)
				}
				if len(rep.Problems) == 0 {
					fmt.Println("no problems found")
				}
			}
			if rep.Remaining() > 0 {
				return spec.NewExitError(1, nil)
			}
			return nil
		},
	}
	f := cmd.Flags()
	f.BoolVarP(&o.Repair, "repair", "r", false, "fix what can be fixed without losing data")
	f.BoolVarP(&o.Force, "force", "f", false, "with --repair, also remove damaged images and containers")
	f.BoolVarP(&o.Quick, "quick", "q", false, "leave out the checks that read every layer's contents")
	f.StringVarP(&maxAge, "max", "m", "", "how old a layer that nothing refers to may be (default 24h)")
	f.StringVar(&format, "format", "", "format: json")
	return cmd
}

// dfRow is a row of system df, sizes as people read them.
type dfRow struct {
	Type, TotalCount, Active, Size, Reclaimable string
	RawSize, RawReclaimable                     int64
}

func newSystemDFCommand(g *globals) *cobra.Command {
	var verbose bool
	var format string
	cmd := &cobra.Command{
		Use:   "df [flags]",
		Short: "Show the space images, containers and volumes take",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			if format != "" && format != "json" {
				if _, err := parseTemplate(format); err != nil {
					return err
				}
			}
			rt, err := g.runtime()
			if err != nil {
				return err
			}
			usage, err := system.DF(ctx(cmd), system.DFOptions{Runtime: rt, Extra: systemResources(rt)})
			if err != nil {
				return err
			}
			if verbose && format == "" {
				printDFVerbose(usage)
				return nil
			}
			rows := make([]any, len(usage))
			for i, u := range usage {
				pct := 0
				if u.Size > 0 {
					pct = int(u.Reclaimable * 100 / u.Size)
				}
				rows[i] = dfRow{Type: u.Type, TotalCount: fmt.Sprint(u.Total), Active: fmt.Sprint(u.Active),
					Size: humanSize(u.Size), Reclaimable: fmt.Sprintf("%s (%d%%)", humanSize(u.Reclaimable), pct),
					RawSize: u.Size, RawReclaimable: u.Reclaimable}
			}
			if format == "json" {
				return printJSON(os.Stdout, rows)
			}
			if format != "" {
				return printFormatted(os.Stdout, format, nil, rows)
			}
			w := tabwriter.NewWriter(os.Stdout, 0, 8, 3, ' ', 0)
			fmt.Fprintln(w, "TYPE\tTOTAL\tACTIVE\tSIZE\tRECLAIMABLE")
			for _, r := range rows {
				r := r.(dfRow)
				fmt.Fprintf(w, "%s\t%s\t%s\t%s\t%s\n", r.Type, r.TotalCount, r.Active, r.Size, r.Reclaimable)
			}
			return w.Flush()
		},
	}
	cmd.Flags().BoolVarP(&verbose, "verbose", "v", false, "show every image, container and volume")
	cmd.Flags().StringVar(&format, "format", "", "format: json, or a Go template such as '{{.Type}} {{.Size}}'")
	return cmd
}

// printDFVerbose prints system df -v: a table per type.
func printDFVerbose(usage []system.Usage) {
	for i, u := range usage {
		if i > 0 {
			fmt.Println()
		}
		w := tabwriter.NewWriter(os.Stdout, 0, 8, 3, ' ', 0)
		switch u.Type {
		case "Images":
			fmt.Println("Images space usage:")
			fmt.Println()
			fmt.Fprintln(w, "REPOSITORY\tIMAGE ID\tCREATED\tSIZE\tCONTAINERS")
			for _, it := range u.Items {
				fmt.Fprintf(w, "%s\t%.12s\t%s ago\t%s\t%d\n", it.Name, it.ID, humanAgo(it.Created), humanSize(it.Size), it.Containers)
			}
		case "Containers":
			fmt.Println("Containers space usage:")
			fmt.Println()
			fmt.Fprintln(w, "CONTAINER ID\tNAMES\tSIZE\tCREATED\tSTATUS")
			for _, it := range u.Items {
				fmt.Fprintf(w, "%.12s\t%s\t%s\t%s ago\t%s\n", it.ID, it.Name, humanSize(it.Size), humanAgo(it.Created), it.Status)
			}
		default:
			fmt.Printf("%s space usage:\n\n", u.Type)
			fmt.Fprintln(w, "NAME\tCONTAINERS\tSIZE")
			for _, it := range u.Items {
				fmt.Fprintf(w, "%s\t%d\t%s\n", it.Name, it.Containers, humanSize(it.Size))
			}
		}
		w.Flush()
	}
}

func humanAgo(t time.Time) string {
	d := time.Since(t).Round(time.Second)
	switch {
	case d < time.Minute:
		return fmt.Sprintf("%d seconds", int(d.Seconds()))
	case d < time.Hour:
		return fmt.Sprintf("%d minutes", int(d.Minutes()))
	case d < 48*time.Hour:
		return fmt.Sprintf("%d hours", int(d.Hours()))
	}
	return fmt.Sprintf("%d days", int(d.Hours()/24))
}

func newSystemPruneCommand(g *globals) *cobra.Command {
	var o system.PruneOptions
	var force bool
	cmd := &cobra.Command{
		Use:   "prune [flags]",
		Short: "Remove stopped containers, dangling images (-a: every unused image) and, with --volumes, unused volumes",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			if !force {
				what := "  - all stopped containers\n"
				if o.Volumes {
					what += "  - all volumes not used by at least one container\n"
				}
				if o.All {
					what += "  - all images without at least one container associated to them\n"
				} else {
					what += "  - all dangling images\n"
				}
				ok, err := confirm(os.Stdin, os.Stdout, "WARNING! This command removes:\n"+what+"\nAre you sure you want to continue? [y/N] ")
				if err != nil {
					return err
				}
				if !ok {
					return nil
				}
			}
			rt, err := g.runtime()
			if err != nil {
				return err
			}
			o.Runtime, o.Extra = rt, systemResources(rt)
			rep, err := system.Prune(ctx(cmd), o)
			printDeleted("Containers", rep.Containers)
			for _, r := range o.Extra {
				printDeleted(r.Type, rep.Extra[r.Type])
			}
			printDeleted("Images", rep.Images)
			fmt.Println("Total reclaimed space:", humanSizePrecision(rep.Reclaimed, 4))
			return err
		},
	}
	f := cmd.Flags()
	f.BoolVarP(&o.All, "all", "a", false, "remove every image no container uses, not only dangling ones")
	f.BoolVar(&o.Volumes, "volumes", false, "remove unused volumes too")
	f.BoolVarP(&force, "force", "f", false, "do not ask for confirmation")
	return cmd
}

func printDeleted(what string, ids []string) {
	if len(ids) == 0 {
		return
	}
	fmt.Printf("Deleted %s\n", what)
	for _, id := range ids {
		fmt.Println(id)
	}
}

func newSystemResetCommand(g *globals) *cobra.Command {
	var force bool
	cmd := &cobra.Command{
		Use:   "reset [flags]",
		Short: "Remove every container, image, volume and network of yours, the store and the keeper",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			if !force {
				if !term.IsTerminal(int(os.Stdin.Fd())) {
					return errors.New("reset asks for confirmation and standard input is not a terminal: use -f (--force) to reset without asking")
				}
				o, err := g.storageOptions()
				if err != nil {
					return err
				}
				ok, err := confirm(os.Stdin, os.Stdout, "WARNING! This will remove:\n"+
					"  - all containers\n  - all images\n  - all volumes\n  - all networks\n"+
					"  - the store: "+strings.Join([]string{o.GraphRoot, o.RunRoot}, " and ")+"\n"+
					"  - the keeper (the user namespace your containers share)\n"+
					"Are you sure you want to continue? [y/N] ")
				if err != nil || !ok {
					return err
				}
			}
			rt, err := g.runtime()
			if err != nil {
				return err
			}
			rep, err := system.Reset(ctx(cmd), system.ResetOptions{Runtime: rt, Extra: systemResources(rt)})
			if rep.KeeperKept > 0 {
				fmt.Fprintf(os.Stderr, "the keeper stays: %d processes or mounts of another store (--root) still use it\n", rep.KeeperKept)
			}
			return err
		},
	}
	cmd.Flags().BoolVarP(&force, "force", "f", false, "do not ask for confirmation")
	return cmd
}
