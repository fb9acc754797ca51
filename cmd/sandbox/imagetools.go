package main

import (
	"bufio"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"time"

	"sandbox/container"
	"sandbox/imagetools"
	"sandbox/spec"
	"sandbox/storage"

	"github.com/spf13/cobra"
	"golang.org/x/term"
)

func newHistoryCommand(g *globals) *cobra.Command {
	var noTrunc, quiet, human bool
	var format string
	cmd := &cobra.Command{
		Use:   "history [flags] IMAGE",
		Short: "Show the steps that made an image",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			rt, err := g.runtime()
			if err != nil {
				return err
			}
			steps, err := imagetools.History(ctx(cmd), rt, args[0])
			if errors.Is(err, storage.ErrNoSuchImage) {
				return fmt.Errorf("%s: image not known: %w", args[0], err)
			}
			if err != nil {
				return err
			}
			rows := make([]any, len(steps))
			for i, s := range steps {
				if quiet {
					fmt.Println(shortID(s.ID, noTrunc))
					continue
				}
				rows[i] = historyRow{s: s, noTrunc: noTrunc, human: human}
			}
			if quiet {
				return nil
			}
			return printFormatted(os.Stdout, format, historyColumns, rows)
		},
	}
	f := cmd.Flags()
	f.BoolVar(&noTrunc, "no-trunc", false, "do not truncate ids and commands")
	f.BoolVarP(&quiet, "quiet", "q", false, "only show ids")
	f.BoolVarP(&human, "human", "H", true, "sizes and dates for people (false: bytes and RFC 3339)")
	f.StringVar(&format, "format", "", "format: table, json, or a Go template")
	return cmd
}

var historyColumns = []column{
	{"ID", "{{.ID}}"}, {"CREATED", "{{.Created}}"}, {"CREATED BY", "{{.CreatedBy}}"},
	{"SIZE", "{{.Size}}"}, {"COMMENT", "{{.Comment}}"},
}

// historyRow is one step as history prints it, with podman's fields.
type historyRow struct {
	s              imagetools.HistoryEntry
	noTrunc, human bool
}

func (r historyRow) ID() string {
	if r.s.ID == "<missing>" {
		return r.s.ID
	}
	return shortID(r.s.ID, r.noTrunc)
}
func (r historyRow) Created() string {
	if r.human {
		return container.HumanDuration(time.Since(r.s.Created)) + " ago"
	}
	return r.s.Created.UTC().Format(time.RFC3339)
}
func (r historyRow) CreatedAt() string { return r.s.Created.String() }
func (r historyRow) CreatedBy() string {
	if !r.noTrunc && len(r.s.CreatedBy) > 45 {
		return r.s.CreatedBy[:42] + "..."
	}
	return r.s.CreatedBy
}
func (r historyRow) Size() string {
	if r.human {
		return humanSize(r.s.Size)
	}
	return fmt.Sprint(r.s.Size)
}
func (r historyRow) Comment() string { return r.s.Comment }
func (r historyRow) Tags() []string  { return r.s.Tags }

// json is podman's history --format json entry.
func (r historyRow) json() any {
	return struct {
		ID        string    `json:"id"`
		Created   time.Time `json:"created"`
		CreatedBy string    `json:"CreatedBy"`
		Size      int64     `json:"size"`
		Comment   string    `json:"comment"`
		CreatedAt string    `json:"Created"`
	}{r.s.ID, r.s.Created, r.s.CreatedBy, r.s.Size, r.s.Comment, r.s.Created.UTC().Format(time.RFC3339)}
}

func newDiffCommand(g *globals) *cobra.Command {
	var format string
	cmd := &cobra.Command{
		Use:   "diff [flags] CONTAINER|IMAGE",
		Short: "Show the files a container (or an image's top layer) added, changed and deleted",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			if format != "" && format != "json" {
				return fmt.Errorf("invalid --format %q: want json", format)
			}
			rt, err := g.runtime()
			if err != nil {
				return err
			}
			changes, err := imagetools.Diff(ctx(cmd), rt, args[0])
			if err != nil {
				return err
			}
			if format == "json" {
				// podman's shape: the paths of each kind, sorted.
				out := map[string][]string{}
				keys := map[string]string{"C": "changed", "A": "added", "D": "deleted"}
				for _, c := range changes {
					out[keys[c.Kind]] = append(out[keys[c.Kind]], c.Path)
				}
				for _, v := range out {
					sort.Strings(v)
				}
				enc := json.NewEncoder(os.Stdout)
				enc.SetIndent("", "     ")
				return enc.Encode(out)
			}
			w := bufio.NewWriter(os.Stdout)
			for _, c := range changes {
				fmt.Fprintln(w, c.Kind, c.Path)
			}
			return w.Flush()
		},
	}
	cmd.Flags().StringVar(&format, "format", "", "json for podman's JSON shape")
	return cmd
}

func newExportCommand(g *globals) *cobra.Command {
	var output string
	cmd := &cobra.Command{
		Use:   "export [flags] CONTAINER",
		Short: "Write a container's root filesystem as a tar stream",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			w := os.Stdout
			if output == "" || output == "-" {
				if term.IsTerminal(int(os.Stdout.Fd())) {
					return errors.New("refusing to export to terminal. Use -o flag or redirect") // podman's words
				}
			}
			rt, err := g.runtime()
			if err != nil {
				return err
			}
			if output != "" && output != "-" {
				// Written beside the file, renamed over it when whole.
				tmp, err := os.CreateTemp(filepath.Dir(output), "."+filepath.Base(output)+".tmp*")
				if err != nil {
					return fmt.Errorf("export: %w", err)
				}
				defer os.Remove(tmp.Name())
				err = tmp.Chmod(0o644)
				if err == nil {
					err = imagetools.Export(ctx(cmd), rt, args[0], tmp)
				}
				if cerr := tmp.Close(); err == nil {
					err = cerr
				}
				if err == nil {
					err = os.Rename(tmp.Name(), output)
				}
				return err
			}
			return imagetools.Export(ctx(cmd), rt, args[0], w)
		},
	}
	cmd.Flags().StringVarP(&output, "output", "o", "", "write to this file (default: standard output, unless it is a terminal)")
	return cmd
}

func newCpCommand(g *globals) *cobra.Command {
	var o imagetools.CopyOptions
	cmd := &cobra.Command{
		Use:   "cp [flags] SRC DST",
		Short: "Copy files between a container and the host (CONTAINER:PATH, - for a tar stream)",
		Long: "Copy files between a container, running or not, and the host. One of SRC and DST is CONTAINER:PATH;\n" +
			"the other a host path, or - for a tar stream on standard input (SRC) or output (DST).",
		Args: cobra.ExactArgs(2),
		RunE: func(cmd *cobra.Command, args []string) error {
			o.Src, o.Dst, o.Stdin, o.Stdout = args[0], args[1], os.Stdin, os.Stdout
			if o.Dst == "-" && term.IsTerminal(int(os.Stdout.Fd())) {
				return errors.New("cp: standard output is a terminal; redirect it (writing a tar stream to a terminal is refused)")
			}
			rt, err := g.runtime()
			if err != nil {
				return err
			}
			return imagetools.Copy(ctx(cmd), rt, o)
		},
	}
	cmd.Flags().BoolVarP(&o.Archive, "archive", "a", false, "keep the ids of what is copied in (default: the container's root owns it)")
	cmd.Flags().Bool("overwrite", false, "accepted for compatibility: a directory is never replaced by a file")
	return cmd
}

func newImagePruneCommand(g *globals) *cobra.Command {
	var all, force bool
	cmd := &cobra.Command{
		Use:   "prune [flags]",
		Short: "Remove images without a name (-a: every image) that no container uses",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if !force {
				what := "all dangling images"
				if all {
					what = "all images without at least one container associated with them"
				}
				fmt.Printf("WARNING! This command removes %s.\nAre you sure you want to continue? [y/N] ", what)
				answer, err := bufio.NewReader(os.Stdin).ReadString('\n')
				if err != nil && !errors.Is(err, io.EOF) {
					return err
				}
				if a := strings.ToLower(strings.TrimSpace(answer)); a != "y" && a != "yes" {
					return nil
				}
			}
			rt, err := g.runtime()
			if err != nil {
				return err
			}
			removed, err := imagetools.PruneImages(ctx(cmd), rt, all)
			for _, id := range removed {
				fmt.Println(id)
			}
			if err != nil {
				return spec.NewExitError(spec.ExitSandbox, err)
			}
			return nil
		},
	}
	cmd.Flags().BoolVarP(&all, "all", "a", false, "every image that no container uses, not only those without a name")
	cmd.Flags().BoolVarP(&force, "force", "f", false, "do not ask for confirmation")
	return cmd
}
