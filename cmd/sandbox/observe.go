package main

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"
	"text/tabwriter"
	"time"

	"sandbox/container"
	"sandbox/storage"

	"github.com/spf13/cobra"
	"golang.org/x/term"
)

// logsWindow sets o's Tail, Since and Until from --tail, --since and
// --until (of logs and pod logs).
func logsWindow(o *container.LogsOfOptions, tail, since, until string) error {
	var err error
	if o.Tail, err = container.ParseTail(tail); err != nil {
		return err
	}
	o.Since, o.Until, err = timeRange(since, until)
	return err
}

func newLogsCommand(g *globals) *cobra.Command {
	var o container.LogsOfOptions
	var tail, since, until string
	cmd := &cobra.Command{
		Use:   "logs [flags] CONTAINER [CONTAINER...]",
		Short: "Show containers' output",
		Args:  atLeastOne("specify at least one container name or ID to log"),
		RunE: func(cmd *cobra.Command, args []string) error {
			if err := logsWindow(&o, tail, since, until); err != nil {
				return err
			}
			rt, err := g.runtime()
			if err != nil {
				return err
			}
			o.Stdout, o.Stderr = os.Stdout, os.Stderr
			return rt.LogsOf(ctx(cmd), args, o)
		},
	}
	f := cmd.Flags()
	f.BoolVarP(&o.Follow, "follow", "f", false, "keep printing new output until the container exits")
	f.StringVarP(&tail, "tail", "n", "all", "number of lines to show from the end of the log")
	f.StringVar(&since, "since", "", "show lines since a time (2006-01-02T15:04:05Z, a Unix timestamp) or for a duration back (10m)")
	f.StringVar(&until, "until", "", "show lines before a time (2006-01-02T15:04:05Z, a Unix timestamp) or a duration back (10m)")
	f.BoolVarP(&o.Timestamps, "timestamps", "t", false, "show each line's time")
	f.BoolVar(&o.Names, "names", false, "put the container's name, not its ID, before each line of several containers")
	return cmd
}

// inspectTypes are the values of inspect --type.
const (
	inspectContainer = "container"
	inspectImage     = "image"
)

func newInspectCommand(g *globals) *cobra.Command {
	var format, typ string
	cmd := &cobra.Command{
		Use:   "inspect [flags] NAME [NAME...]",
		Short: "Show containers or images in detail, as JSON",
		Args:  cobra.MinimumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			switch typ {
			case "", inspectContainer, inspectImage:
			default:
				return fmt.Errorf("invalid --type %q: want container or image", typ)
			}
			return runInspect(ctx(cmd), g, typ, format, args)
		},
	}
	cmd.Flags().StringVarP(&format, "format", "f", "", "format: json, or a Go template such as '{{.State.Status}}'")
	cmd.Flags().StringVar(&typ, "type", "", "only look for a container or an image")
	return cmd
}

// newTypedInspectCommand is inspect of one kind only: image inspect and
// container inspect.
func newTypedInspectCommand(g *globals, typ string) *cobra.Command {
	var format string
	upper := strings.ToUpper(typ)
	cmd := &cobra.Command{
		Use:   fmt.Sprintf("inspect [flags] %s [%s...]", upper, upper),
		Short: fmt.Sprintf("Show %ss in detail, as JSON", typ),
		Args:  cobra.MinimumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			return runInspect(ctx(cmd), g, typ, format, args)
		},
	}
	cmd.Flags().StringVarP(&format, "format", "f", "", "format: json, or a Go template such as '{{.Id}}'")
	return cmd
}

// runInspect prints the documents of the names found, then reports those
// not found, as docker does.
func runInspect(c context.Context, g *globals, typ, format string, names []string) error {
	var print func(docs []any) error
	switch format {
	case "", "json":
		print = func(docs []any) error { return printJSON(os.Stdout, docs) }
	default:
		tmpl, err := parseTemplate(format)
		if err != nil {
			return err
		}
		print = func(docs []any) error {
			for _, d := range docs {
				if err := tmpl.Execute(os.Stdout, d); err != nil {
					return fmt.Errorf("format %q: %w", format, err)
				}
				fmt.Println()
			}
			return nil
		}
	}
	rt, err := g.runtime()
	if err != nil {
		return err
	}
	docs := []any{}
	var errs []error
	for _, name := range names {
		doc, err := inspectOne(c, rt, typ, name)
		if err != nil {
			errs = append(errs, err)
			continue
		}
		docs = append(docs, doc)
	}
	if err := print(docs); err != nil {
		return err
	}
	return errors.Join(errs...)
}

// inspectOne finds name as a container, else (unless typ says otherwise)
// as an image.
func inspectOne(c context.Context, rt *container.Runtime, typ, name string) (any, error) {
	if typ != inspectImage {
		doc, err := rt.InspectContainer(c, name)
		if err == nil {
			return doc, nil
		}
		if !errors.Is(err, container.ErrNoSuchContainer) {
			return nil, err
		}
		if typ == inspectContainer {
			return nil, fmt.Errorf("no such container: %s", name)
		}
	}
	doc, err := rt.Store.InspectImage(c, name)
	if errors.Is(err, storage.ErrNoSuchImage) {
		if typ == inspectImage {
			return nil, fmt.Errorf("no such image: %s", name)
		}
		return nil, fmt.Errorf("no such object: %s", name)
	}
	return doc, err
}

// printJSON prints v indented as docker's inspect does.
func printJSON(w io.Writer, v any) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "    ")
	enc.SetEscapeHTML(false)
	return enc.Encode(v)
}

func newTopCommand(g *globals) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "top CONTAINER [DESCRIPTOR...]",
		Short: "Show the processes of a running container",
		Long: `Show the processes of a running container. Descriptors choose the columns, as podman's:
user, ruser, pid, ppid, pcpu, etime, tty, time, args, comm (as "pid comm" or "pid,comm").
Options of docker's ps (-ef) are accepted and ignored.`,
		Args: cobra.MinimumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			headers, cols, err := topColumns(args[1:])
			if err != nil {
				return err
			}
			rt, err := g.runtime()
			if err != nil {
				return err
			}
			procs, err := rt.Top(args[0])
			if err != nil {
				return err
			}
			tw := tabwriter.NewWriter(os.Stdout, 12, 2, 2, ' ', 0)
			fmt.Fprintln(tw, strings.Join(headers, "\t"))
			for _, p := range procs {
				fmt.Fprintln(tw, strings.Join(topRow(p, cols), "\t"))
			}
			return tw.Flush()
		},
	}
	// Everything after the container is ps's options, not ours.
	cmd.Flags().SetInterspersed(false)
	return cmd
}

// pruneWarning is docker's question before prune.
const pruneWarning = "WARNING! This will remove all stopped containers.\nAre you sure you want to continue? [y/N] "

func newContainerPruneCommand(g *globals) *cobra.Command {
	var force bool
	cmd := &cobra.Command{
		Use:   "prune [flags]",
		Short: "Remove every container that is not running",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			if !force {
				ok, err := confirm(os.Stdin, os.Stdout, pruneWarning)
				if err != nil {
					return err
				}
				if !ok {
					fmt.Println("Total reclaimed space: 0B")
					return nil
				}
			}
			rt, err := g.runtime()
			if err != nil {
				return err
			}
			rep, err := rt.Prune(ctx(cmd))
			if len(rep.Deleted) > 0 {
				fmt.Println("Deleted Containers:")
				for _, id := range rep.Deleted {
					fmt.Println(id)
				}
				fmt.Println()
			}
			fmt.Println("Total reclaimed space:", humanSizePrecision(rep.SpaceReclaimed, 4))
			return err
		},
	}
	cmd.Flags().BoolVarP(&force, "force", "f", false, "do not ask for confirmation")
	return cmd
}

// confirm asks question on a terminal and reads y or yes. Without a
// terminal there is nobody to answer: that is an error naming -f.
func confirm(in *os.File, out io.Writer, question string) (bool, error) {
	if !term.IsTerminal(int(in.Fd())) {
		return false, errors.New("prune asks for confirmation and standard input is not a terminal: use -f (--force) to remove without asking")
	}
	fmt.Fprint(out, question)
	line, err := bufio.NewReader(in).ReadString('\n')
	if err != nil && !errors.Is(err, io.EOF) {
		return false, fmt.Errorf("read answer: %w", err)
	}
	switch strings.ToLower(strings.TrimSpace(line)) {
	case "y", "yes":
		return true, nil
	}
	return false, nil
}

// timeRange reads --since and --until as logs and events take them (RFC
// 3339, a Unix time or a duration back); an empty one is the zero time.
func timeRange(since, until string) (from, to time.Time, err error) {
	now := time.Now()
	if since != "" {
		if from, err = container.ParseLogTime(since, now); err != nil {
			return from, to, fmt.Errorf("--since: %w", err)
		}
	}
	if until != "" {
		if to, err = container.ParseLogTime(until, now); err != nil {
			return from, to, fmt.Errorf("--until: %w", err)
		}
	}
	return from, to, nil
}
