package main

import (
	"bufio"
	"encoding/json"
	"fmt"
	"os"

	"sandbox/container"
	"sandbox/events"

	"github.com/spf13/cobra"
)

func newEventsCommand(g *globals) *cobra.Command {
	var filters []string
	var since, until, format string
	var stream bool
	cmd := &cobra.Command{
		Use:   "events [flags]",
		Short: "Show container and image events",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			var o events.ReadOptions
			var err error
			if o.Filter, err = events.ParseFilter(filters); err != nil {
				return err
			}
			if o.Since, o.Until, err = timeRange(since, until); err != nil {
				return err
			}
			// A stream follows the journal unless it has an end.
			o.Follow = stream && until == ""
			print, flush, err := eventPrinter(format, o.Follow)
			if err != nil {
				return err
			}
			so, err := g.storageOptions()
			if err != nil {
				return err
			}
			// The events of a run --rm's removal, under way after it
			// returned, are past events by now.
			if _, err := container.AwaitRemovalsIn(ctx(cmd), so.RunRoot); err != nil {
				return err
			}
			if err := g.podman.journal(so.RunRoot).Read(ctx(cmd), o, print); err != nil {
				return err
			}
			return flush()
		},
	}
	f := cmd.Flags()
	f.StringArrayVarP(&filters, "filter", "f", nil, "only events that match: container=, image=, event= (or status=), type=, label=KEY[=VALUE]")
	f.StringVar(&since, "since", "", "events since a time (2006-01-02T15:04:05Z, a Unix timestamp) or for a duration back (10m)")
	f.StringVar(&until, "until", "", "events until a time (2006-01-02T15:04:05Z, a Unix timestamp) or a duration back (10m); the past only")
	f.StringVar(&format, "format", "", "format: json, or a Go template such as '{{.Status}} {{.Name}}'")
	f.BoolVar(&stream, "stream", true, "keep printing new events (false: the past only)")
	return cmd
}

// eventPrinter prints events in a format: podman's line, one JSON object
// per line, or a template. A followed journal is flushed at each event.
func eventPrinter(format string, follow bool) (print func(events.Event) error, flush func() error, err error) {
	w := bufio.NewWriter(os.Stdout)
	var one func(events.Event) error
	switch format {
	case "":
		one = func(e events.Event) error { _, err := fmt.Fprintln(w, e.String()); return err }
	case "json", "{{json .}}":
		enc := json.NewEncoder(w)
		enc.SetEscapeHTML(false)
		one = func(e events.Event) error { return enc.Encode(e) }
	default:
		tmpl, err := parseTemplate(format)
		if err != nil {
			return nil, nil, err
		}
		one = func(e events.Event) error {
			if err := tmpl.Execute(w, e); err != nil {
				return fmt.Errorf("format %q: %w", format, err)
			}
			return w.WriteByte('\n')
		}
	}
	print = func(e events.Event) error {
		if err := one(e); err != nil {
			return err
		}
		if follow {
			return w.Flush()
		}
		return nil
	}
	return print, w.Flush, nil
}
