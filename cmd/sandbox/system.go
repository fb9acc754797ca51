package main

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"sort"
	"strconv"
	"strings"

	"sandbox/spec"
	"sandbox/system"

	"github.com/spf13/cobra"
	"golang.org/x/term"
)

func newInfoCommand(g *globals) *cobra.Command {
	var format string
	cmd := &cobra.Command{
		Use:   "info [flags]",
		Short: "Display system-wide information",
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
			info, err := system.Info(cmd.Context(), system.InfoOptions{Runtime: rt, Version: version})
			if err != nil {
				return err
			}
			return printReport(os.Stdout, format, info)
		},
	}
	cmd.Flags().StringVarP(&format, "format", "f", "", "format: json, or a Go template such as '{{.Store.GraphDriverName}}'")
	return cmd
}

func newCheckCommand(g *globals) *cobra.Command {
	var format string
	cmd := &cobra.Command{
		Use:   "check [flags]",
		Short: "Check what rootless containers need from this host, and say how to fix what is missing",
		Long: `Check every requirement of a rootless container and print its state:
ok, warning (containers run, but a feature is lost), or missing (containers
cannot run), with the command that fixes it. Exits 1 when a required item is
missing. Check works without the keeper and without opening storage.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			if format != "" && format != "json" && format != "table" {
				if _, err := parseTemplate(format); err != nil {
					return err
				}
			}
			o, err := g.storageOptions()
			if err != nil {
				return err
			}
			rep := system.Check(cmd.Context(), system.CheckOptions{GraphRoot: o.GraphRoot})
			switch format {
			case "", "table":
				width := 80
				if w, _, err := term.GetSize(int(os.Stdout.Fd())); err == nil && w >= 60 {
					width = w
				}
				printCheck(os.Stdout, rep, width)
			case "json":
				if err := printJSON(os.Stdout, rep); err != nil {
					return err
				}
			default:
				rows := make([]any, len(rep.Items))
				for i, it := range rep.Items {
					rows[i] = it
				}
				if err := printFormatted(os.Stdout, format, nil, rows); err != nil {
					return err
				}
			}
			if rep.Count(system.Missing) > 0 {
				return spec.NewExitError(1, nil)
			}
			return nil
		},
	}
	cmd.Flags().StringVarP(&format, "format", "f", "", "format: table, json, or a Go template per item such as '{{.Name}} {{.State}}'")
	return cmd
}

// printReport prints info as podman does: YAML-like by default, "json",
// or a Go template over the whole report.
func printReport(w io.Writer, format string, v any) error {
	switch format {
	case "":
		data, err := json.Marshal(v)
		if err != nil {
			return err
		}
		var tree any
		dec := json.NewDecoder(bytes.NewReader(data))
		dec.UseNumber()
		if err := dec.Decode(&tree); err != nil {
			return err
		}
		var b strings.Builder
		writeYAML(&b, tree, 0)
		_, err = io.WriteString(w, b.String())
		return err
	case "json":
		return printJSON(w, v)
	}
	tmpl, err := parseTemplate(format)
	if err != nil {
		return err
	}
	if err := tmpl.Execute(w, v); err != nil {
		return fmt.Errorf("--format %q: %w", format, err)
	}
	_, err = fmt.Fprintln(w)
	return err
}

// writeYAML writes a decoded JSON object as YAML, keys sorted, lists
// at their key's indentation (podman's layout).
func writeYAML(b *strings.Builder, v any, indent int) {
	m, ok := v.(map[string]any)
	if !ok {
		return
	}
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	pad := strings.Repeat(" ", indent)
	for _, k := range keys {
		b.WriteString(pad + k + ":")
		writeYAMLValue(b, m[k], indent)
	}
}

func writeYAMLValue(b *strings.Builder, v any, indent int) {
	pad := strings.Repeat(" ", indent)
	switch x := v.(type) {
	case map[string]any:
		if len(x) == 0 {
			b.WriteString(" {}\n")
			return
		}
		b.WriteString("\n")
		writeYAML(b, x, indent+2)
	case []any:
		if len(x) == 0 {
			b.WriteString(" []\n")
			return
		}
		b.WriteString("\n")
		for _, e := range x {
			if em, ok := e.(map[string]any); ok && len(em) > 0 {
				// The first key goes on the dash's line.
				var sub strings.Builder
				writeYAML(&sub, em, indent+2)
				b.WriteString(pad + "- " + strings.TrimPrefix(sub.String(), pad+"  "))
				continue
			}
			b.WriteString(pad + "-")
			writeYAMLValue(b, e, indent+2)
		}
	case nil:
		b.WriteString(" null\n")
	case string:
		if strings.Contains(x, "\n") {
			b.WriteString(" |-\n")
			for _, line := range strings.Split(x, "\n") {
				b.WriteString(pad + "  " + line + "\n")
			}
			return
		}
		b.WriteString(" " + yamlScalar(x) + "\n")
	default:
		b.WriteString(fmt.Sprintf(" %v\n", x))
	}
}

// yamlScalar quotes a string that YAML would read as something else.
func yamlScalar(s string) string {
	plain := s != "" && !strings.ContainsAny(s[:1], "-?:,[]{}#&*!|>'\"%@` ") &&
		!strings.Contains(s, ": ") && !strings.Contains(s, " #") && !strings.HasSuffix(s, ":") &&
		!strings.HasSuffix(s, " ")
	switch strings.ToLower(s) {
	case "true", "false", "yes", "no", "on", "off", "null", "~":
		plain = false
	}
	if _, err := strconv.ParseFloat(s, 64); err == nil {
		plain = false
	}
	if plain {
		return s
	}
	return "'" + strings.ReplaceAll(s, "'", "''") + "'"
}

// printCheck prints one line per item (STATE, CHECK, DETAIL, the detail
// wrapped to width) and, under each item that is not ok, the command
// that fixes it, unwrapped so that it can be copied. A fix already shown
// for an earlier item is referred to by that item's name.
func printCheck(w io.Writer, rep *system.CheckReport, width int) {
	const stateW, nameW = 9, 20
	if rep.InsideKeeper {
		fmt.Fprintln(w, "note: running inside the keeper's user namespace: owners and capabilities of root's files are hidden")
	}
	fmt.Fprintf(w, "%-*s%-*s%s\n", stateW, "STATE", nameW, "CHECK", "DETAIL")
	shown := map[string]string{}
	for _, it := range rep.Items {
		lines := wrap(it.Detail, width-stateW-nameW)
		name := it.Name
		if len(name) >= nameW {
			name = name[:nameW-2] + "…"
		}
		fmt.Fprintf(w, "%-*s%-*s%s\n", stateW, it.State, nameW, name, lines[0])
		for _, l := range lines[1:] {
			fmt.Fprintf(w, "%*s%s\n", stateW+nameW, "", l)
		}
		if it.State == system.OK {
			continue
		}
		if first, ok := shown[it.Fix]; ok {
			fmt.Fprintf(w, "%*sfix: as for %s\n", stateW, "", first)
			continue
		}
		shown[it.Fix] = it.Name
		fmt.Fprintf(w, "%*sfix: %s\n", stateW, "", it.Fix)
	}
	missing, warnings := rep.Count(system.Missing), rep.Count(system.Warning)
	fmt.Fprintln(w)
	switch {
	case missing > 0:
		fmt.Fprintf(w, "%s missing: rootless containers cannot run until fixed (%s)\n", plural(missing, "required item"), plural(warnings, "warning"))
	case warnings > 0:
		fmt.Fprintf(w, "ready for rootless containers, with %s\n", plural(warnings, "warning"))
	default:
		fmt.Fprintln(w, "ready for rootless containers")
	}
}

func plural(n int, what string) string {
	if n == 1 {
		return "1 " + what
	}
	return strconv.Itoa(n) + " " + what + "s"
}

// wrap breaks s into lines of at most width bytes at spaces (a longer
// word stays whole).
func wrap(s string, width int) []string {
	var lines []string
	line := ""
	for _, word := range strings.Fields(s) {
		switch {
		case line == "":
			line = word
		case len(line)+1+len(word) <= width:
			line += " " + word
		default:
			lines = append(lines, line)
			line = word
		}
	}
	return append(lines, line)
}
