package main

import (
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"time"

	"sandbox/container"
	"sandbox/spec"
	"sandbox/storage"

	"github.com/spf13/cobra"
	"golang.org/x/term"
)

func newImagesCommand(g *globals) *cobra.Command {
	var quiet, noTrunc, noHeading, all bool
	var format string
	cmd := &cobra.Command{
		Use:     "images [flags] [REPOSITORY[:TAG]]",
		Aliases: []string{"ls"},
		Short:   "List images",
		Args:    cobra.MaximumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			s, err := g.store()
			if err != nil {
				return err
			}
			list, err := s.ListImages(all)
			if err != nil {
				return err
			}
			if len(args) == 1 {
				if list, err = storage.FilterImages(list, args[0]); err != nil {
					return err
				}
			}
			if quiet {
				seen := map[string]bool{}
				for _, i := range list {
					if !seen[i.ID] {
						seen[i.ID] = true
						fmt.Println(imageRow{s: i, noTrunc: noTrunc}.ID())
					}
				}
				return nil
			}
			rows := make([]any, len(list))
			for i, img := range list {
				rows[i] = imageRow{s: img, noTrunc: noTrunc}
			}
			return printFormattedWith(os.Stdout, format, formatOptions{cols: imageColumns, noHeading: noHeading}, rows)
		},
	}
	f := cmd.Flags()
	f.BoolVarP(&all, "all", "a", false, "show all images, the intermediate images of build steps included")
	f.StringVar(&format, "format", "", "format: table, json, or a Go template ({{.ID}}, {{.Repository}}, {{.Tag}}, {{.Digest}}...)")
	f.BoolVarP(&noHeading, "noheading", "n", false, "do not print the column headings")
	f.BoolVar(&noTrunc, "no-trunc", false, "do not truncate output (full IDs with their sha256: prefix)")
	f.BoolVarP(&quiet, "quiet", "q", false, "only show image IDs")
	return cmd
}

type imageRow struct {
	s       storage.ImageSummary
	noTrunc bool
}

// ID is the short ID, or with --no-trunc the full one with its
// algorithm, as podman and docker print it.
func (r imageRow) ID() string {
	if r.noTrunc {
		return "sha256:" + r.s.ID
	}
	return shortID(r.s.ID, false)
}

// Id is podman's name of the full ID.
func (r imageRow) Id() string         { return r.s.ID }
func (r imageRow) Digest() string     { return r.s.Digest }
func (r imageRow) Repository() string { return r.s.Repository }
func (r imageRow) Tag() string        { return r.s.Tag }
func (r imageRow) CreatedSince() string {
	return container.HumanDuration(time.Since(r.s.Created)) + " ago"
}
func (r imageRow) CreatedAt() string {
	return r.s.Created.Local().Format("2006-01-02 15:04:05 -0700 MST")
}
func (r imageRow) Size() string    { return humanSize(r.s.Size) }
func (r imageRow) Names() []string { return r.s.Names }

// json is the image in podman's JSON shape, with docker's Repository and
// Tag beside.
func (r imageRow) json() any {
	var digests []string
	if r.s.Digest != "" {
		for _, n := range r.s.Names {
			repo, _ := splitRepoTag(n)
			digests = append(digests, repo+"@"+r.s.Digest)
		}
	}
	return map[string]any{
		"Id": r.s.ID, "ParentId": "", "RepoTags": r.s.Names, "RepoDigests": digests,
		"Repository": r.s.Repository, "Tag": r.s.Tag, "Names": r.s.Names, "Digest": r.s.Digest,
		"Created": r.s.Created.Unix(), "CreatedAt": r.s.Created.UTC().Format(time.RFC3339),
		"Size": r.s.Size, "VirtualSize": r.s.Size, "SharedSize": 0, "Labels": nil,
	}
}

// splitRepoTag splits a name at its tag's colon (none in the registry's
// host:port part).
func splitRepoTag(name string) (repo, tag string) {
	i := strings.LastIndexByte(name, ':')
	if i < 0 || strings.ContainsRune(name[i:], '/') {
		return name, ""
	}
	return name[:i], name[i+1:]
}

var imageColumns = []column{
	{"REPOSITORY", "{{.Repository}}"}, {"TAG", "{{.Tag}}"}, {"IMAGE ID", "{{.ID}}"},
	{"CREATED", "{{.CreatedSince}}"}, {"SIZE", "{{.Size}}"},
}

// humanSize is docker's size of images: decimal units, three significant
// digits.
func humanSize(n int64) string { return humanSizePrecision(n, 3) }

// humanSizePrecision is docker's size with prec significant digits
// (go-units' HumanSizeWithPrecision).
func humanSizePrecision(n int64, prec int) string {
	if n < 0 {
		return "unknown"
	}
	units := []string{"B", "kB", "MB", "GB", "TB", "PB"}
	f := float64(n)
	i := 0
	for f >= 1000 && i < len(units)-1 {
		f /= 1000
		i++
	}
	return fmt.Sprintf("%.*g%s", prec, f, units[i])
}

// progressWriter is where pulls report: the terminal's standard error, or
// nothing with --quiet.
func progressWriter(quiet bool) *os.File {
	if quiet {
		return nil
	}
	return os.Stderr
}

func tlsVerify(cmd *cobra.Command, v bool) *bool {
	if !cmd.Flags().Changed("tls-verify") {
		return nil
	}
	return &v
}

func newPullCommand(g *globals) *cobra.Command {
	var quiet, tls bool
	var authfile string
	cmd := &cobra.Command{
		Use:   "pull [flags] IMAGE",
		Short: "Pull an image from a registry",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			s, err := g.store()
			if err != nil {
				return err
			}
			named, err := storage.NormalizeName(args[0])
			if err != nil {
				return err
			}
			res, err := s.Transfer(cmd.Context(), storage.TransferRequest{
				Op: storage.OpPull, Ref: named.String(), TLSVerify: tlsVerify(cmd, tls), AuthFile: authfile, Quiet: quiet,
			}, storage.TransferIO{Progress: progressWriter(quiet)})
			if err != nil {
				return fmt.Errorf("pull %s: %w", args[0], err)
			}
			fmt.Println(res.IDs[0])
			return nil
		},
	}
	f := cmd.Flags()
	f.BoolVarP(&quiet, "quiet", "q", false, "no progress output")
	f.BoolVar(&tls, "tls-verify", true, "require HTTPS and verify certificates (registries on loopback may use HTTP)")
	f.StringVar(&authfile, "authfile", "", "credentials file (default: auth.json of containers-auth.json(5))")
	return cmd
}

func newPushCommand(g *globals) *cobra.Command {
	var quiet, tls bool
	var authfile string
	cmd := &cobra.Command{
		Use:   "push [flags] IMAGE [DESTINATION]",
		Short: "Push an image to a registry",
		Args:  cobra.RangeArgs(1, 2),
		RunE: func(cmd *cobra.Command, args []string) error {
			s, err := g.store()
			if err != nil {
				return err
			}
			req := storage.TransferRequest{Op: storage.OpPush, Ref: args[0], TLSVerify: tlsVerify(cmd, tls), AuthFile: authfile, Quiet: quiet}
			if len(args) == 2 {
				req.Dest = args[1]
			}
			if _, err := s.Transfer(cmd.Context(), req, storage.TransferIO{Progress: progressWriter(quiet)}); err != nil {
				return fmt.Errorf("push %s: %w", args[0], err)
			}
			return nil
		},
	}
	f := cmd.Flags()
	f.BoolVarP(&quiet, "quiet", "q", false, "no progress output")
	f.BoolVar(&tls, "tls-verify", true, "require HTTPS and verify certificates (registries on loopback may use HTTP)")
	f.StringVar(&authfile, "authfile", "", "credentials file")
	return cmd
}

func newImportCommand(g *globals) *cobra.Command {
	var changes []string
	var message string
	cmd := &cobra.Command{
		Use:   "import [flags] FILE|- [REPOSITORY[:TAG]]",
		Short: "Create an image from a root filesystem tarball",
		Args:  cobra.RangeArgs(1, 2),
		RunE: func(cmd *cobra.Command, args []string) error {
			req := storage.TransferRequest{Op: storage.OpImport, File: args[0], Changes: changes, Message: message}
			if len(args) == 2 {
				if _, err := storage.NormalizeName(args[1]); err != nil {
					return err
				}
				req.Ref = args[1]
			}
			// Check the changes here, before anything is read.
			if err := storage.CheckChanges(changes); err != nil {
				return err
			}
			if args[0] != "-" {
				if _, err := os.Stat(args[0]); err != nil {
					return fmt.Errorf("import: %w", err)
				}
			} else if term.IsTerminal(int(os.Stdin.Fd())) {
				return errors.New("import -: standard input is a terminal; pipe a tarball into it")
			}
			s, err := g.store()
			if err != nil {
				return err
			}
			res, err := s.Transfer(cmd.Context(), req, storage.TransferIO{In: os.Stdin, Progress: nil})
			if err != nil {
				return err
			}
			fmt.Println("sha256:" + res.IDs[0])
			return nil
		},
	}
	f := cmd.Flags()
	f.StringArrayVarP(&changes, "change", "c", nil, "apply a Dockerfile instruction: CMD, ENTRYPOINT, ENV, WORKDIR, USER, LABEL, EXPOSE, VOLUME, STOPSIGNAL")
	f.StringVarP(&message, "message", "m", "", "commit message of the image's history")
	return cmd
}

func newLoadCommand(g *globals) *cobra.Command {
	var input string
	var quiet bool
	cmd := &cobra.Command{
		Use:   "load [flags]",
		Short: "Load images from a docker-archive or oci-archive",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			s, err := g.store()
			if err != nil {
				return err
			}
			file := input
			if file == "" || file == "-" {
				tmp, err := spoolStdin()
				if err != nil {
					return err
				}
				defer os.Remove(tmp)
				file = tmp
			}
			res, err := s.Transfer(cmd.Context(), storage.TransferRequest{Op: storage.OpLoad, File: file, Quiet: quiet}, storage.TransferIO{Progress: progressWriter(quiet)})
			if err != nil {
				return fmt.Errorf("load %s: %w", input, err)
			}
			for _, n := range res.Names {
				fmt.Println("Loaded image: " + storage.FamiliarName(n))
			}
			if len(res.Names) == 0 {
				for _, id := range res.IDs {
					fmt.Println("Loaded image ID: sha256:" + id)
				}
			}
			return nil
		},
	}
	cmd.Flags().StringVarP(&input, "input", "i", "", "read from this archive instead of standard input")
	cmd.Flags().BoolVarP(&quiet, "quiet", "q", false, "no progress output")
	return cmd
}

func spoolStdin() (string, error) {
	if term.IsTerminal(int(os.Stdin.Fd())) {
		return "", errors.New("load: standard input is a terminal; give -i FILE or pipe an archive into it")
	}
	f, err := os.CreateTemp("", "sandbox-load-*.tar")
	if err != nil {
		return "", err
	}
	_, err = f.ReadFrom(os.Stdin)
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		os.Remove(f.Name())
		return "", fmt.Errorf("read standard input: %w", err)
	}
	return f.Name(), nil
}

func newSaveCommand(g *globals) *cobra.Command {
	var output, format string
	var quiet bool
	cmd := &cobra.Command{
		Use:   "save [flags] IMAGE",
		Short: "Write an image to a docker-archive or oci-archive",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			toStdout := output == "" || output == "-"
			if toStdout && term.IsTerminal(int(os.Stdout.Fd())) {
				return errors.New("save: standard output is a terminal; give -o FILE or redirect it (writing an archive to a terminal is refused)")
			}
			if format != "docker-archive" && format != "oci-archive" {
				return fmt.Errorf("invalid --format %q: want docker-archive or oci-archive", format)
			}
			s, err := g.store()
			if err != nil {
				return err
			}
			file := output
			if toStdout {
				// The archive is written whole to a file of our own, then
				// copied out: the helper names a file to write.
				dir, err := os.MkdirTemp("", "sandbox-save-")
				if err != nil {
					return fmt.Errorf("save: %w", err)
				}
				defer os.RemoveAll(dir)
				file = filepath.Join(dir, "archive.tar")
			} else if err := os.Remove(output); err != nil && !errors.Is(err, os.ErrNotExist) {
				return fmt.Errorf("save: replace %s: %w", output, err)
			}
			_, err = s.Transfer(cmd.Context(), storage.TransferRequest{Op: storage.OpSave, Ref: args[0], File: file, Format: format, Quiet: quiet},
				storage.TransferIO{Progress: progressWriter(quiet)})
			if err != nil || !toStdout {
				return err
			}
			return copyFileTo(os.Stdout, file)
		},
	}
	f := cmd.Flags()
	f.StringVarP(&output, "output", "o", "", "write to this file (default: standard output, unless it is a terminal)")
	f.StringVar(&format, "format", "docker-archive", "docker-archive or oci-archive")
	f.BoolVarP(&quiet, "quiet", "q", false, "no progress output")
	return cmd
}

// copyFileTo copies the file name to w.
func copyFileTo(w io.Writer, name string) error {
	f, err := os.Open(name)
	if err != nil {
		return fmt.Errorf("save: %w", err)
	}
	defer f.Close()
	if _, err := io.Copy(w, f); err != nil {
		return fmt.Errorf("save: write the archive: %w", err)
	}
	return nil
}

func newTagCommand(g *globals) *cobra.Command {
	return &cobra.Command{
		Use:   "tag IMAGE TARGET [TARGET...]",
		Short: "Give an image more names",
		Args:  cobra.MinimumNArgs(2),
		RunE: func(cmd *cobra.Command, args []string) error {
			s, err := g.store()
			if err != nil {
				return err
			}
			return s.Tag(args[0], args[1:])
		},
	}
}

func newRmiCommand(g *globals) *cobra.Command {
	var force, ignore bool
	cmd := &cobra.Command{
		Use:   "rmi [flags] IMAGE [IMAGE...]",
		Short: "Remove images",
		Args:  atLeastOne("image name or ID must be specified"),
		RunE: func(cmd *cobra.Command, args []string) error {
			rt, err := g.runtime()
			if err != nil {
				return err
			}
			var errs []error
			for _, ref := range args {
				rep, err := rt.RemoveImage(cmd.Context(), ref, force)
				for _, u := range rep.Untagged {
					fmt.Println("Untagged: " + storage.FamiliarName(u))
				}
				for _, d := range rep.Deleted {
					fmt.Println("Deleted: sha256:" + d)
				}
				switch {
				case err == nil, (force || ignore) && errors.Is(err, storage.ErrNoSuchImage):
				case errors.Is(err, storage.ErrNoSuchImage):
					fmt.Fprintf(os.Stderr, "Error: %s: image not known\n", ref) // podman's words
					errs = append(errs, err)
				default:
					fmt.Fprintln(os.Stderr, "Error:", err)
					errs = append(errs, err)
				}
			}
			if len(errs) > 0 {
				return spec.NewExitError(exitStatus(errs), nil)
			}
			return nil
		},
	}
	cmd.Flags().BoolVarP(&force, "force", "f", false, "also remove the containers that use the image")
	cmd.Flags().BoolVarP(&ignore, "ignore", "i", false, "a name that names no image is not an error")
	return cmd
}

// newImageCommand is the image group; args are the arguments after its
// name (addSubcommands).
func newImageCommand(g *globals, args []string) *cobra.Command {
	cmd := newGroup("image", "Manage images")
	addSubcommands(cmd, imageSubcommands(g), args, nil)
	return cmd
}

func imageSubcommands(g *globals) []subcommand {
	return []subcommand{
		{names: []string{"ls", "list"}, build: func([]string) *cobra.Command {
			ls := newImagesCommand(g)
			ls.Use, ls.Aliases = "ls [flags]", []string{"list"}
			return ls
		}},
		{names: []string{"rm"}, build: func([]string) *cobra.Command {
			rm := newRmiCommand(g)
			rm.Use = "rm [flags] IMAGE [IMAGE...]"
			return rm
		}},
		leaf(g, newPullCommand, "pull"), leaf(g, newPushCommand, "push"), leaf(g, newTagCommand, "tag"),
		leaf(g, newImportCommand, "import"), leaf(g, newLoadCommand, "load"), leaf(g, newSaveCommand, "save"),
		{names: []string{"inspect"}, build: func([]string) *cobra.Command { return newTypedInspectCommand(g, inspectImage) }},
		leaf(g, newImageExistsCommand, "exists"), leaf(g, newHistoryCommand, "history"), leaf(g, newImagePruneCommand, "prune"),
	}
}
