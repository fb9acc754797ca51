package main

import (
	"encoding/json"
	"fmt"
	"io"
	"strings"
	"text/tabwriter"
	"text/template"
)

// column is one column of a table: its header and its template.
type column struct {
	header, tmpl string
}

// jsonRow is a row that has its own JSON shape.
type jsonRow interface{ json() any }

// printFormatted prints rows as docker's --format does: "" or "table" for
// the default table, "table TEMPLATE" for a table of chosen columns, "json"
// for a JSON array, else a Go template per row.
func printFormatted(w io.Writer, format string, cols []column, rows []any) error {
	switch {
	case format == "json":
		out := make([]any, len(rows))
		for i, r := range rows {
			if j, ok := r.(jsonRow); ok {
				out[i] = j.json()
			} else {
				out[i] = r
			}
		}
		enc := json.NewEncoder(w)
		enc.SetIndent("", "    ")
		return enc.Encode(out)
	case format == "" || format == "table":
		var hs, ts []string
		for _, c := range cols {
			hs = append(hs, c.header)
			ts = append(ts, c.tmpl)
		}
		return printTable(w, strings.Join(hs, "\t"), strings.Join(ts, "\t"), rows)
	case strings.HasPrefix(format, "table "):
		t := strings.TrimPrefix(format, "table ")
		return printTable(w, headerFor(t, cols), t, rows)
	}
	tmpl, err := parseTemplate(format)
	if err != nil {
		return err
	}
	for _, r := range rows {
		if err := tmpl.Execute(w, r); err != nil {
			return fmt.Errorf("format %q: %w", format, err)
		}
		fmt.Fprintln(w)
	}
	return nil
}

func parseTemplate(format string) (*template.Template, error) {
	format = strings.ReplaceAll(format, `\t`, "\t")
	format = strings.ReplaceAll(format, `\n`, "\n")
	t, err := template.New("format").Funcs(template.FuncMap{
		// As docker's: no HTML escapes (a > stays >).
		"json": func(v any) (string, error) {
			var b strings.Builder
			enc := json.NewEncoder(&b)
			enc.SetEscapeHTML(false)
			if err := enc.Encode(v); err != nil {
				return "", err
			}
			return strings.TrimSuffix(b.String(), "\n"), nil
		},
		"upper": strings.ToUpper,
		"lower": strings.ToLower,
		"join":  strings.Join,
	}).Option("missingkey=error").Parse(format)
	if err != nil {
		return nil, fmt.Errorf("invalid --format %q: %w", format, err)
	}
	return t, nil
}

func printTable(w io.Writer, header, format string, rows []any) error {
	tmpl, err := parseTemplate(format)
	if err != nil {
		return err
	}
	tw := tabwriter.NewWriter(w, 10, 1, 3, ' ', 0)
	fmt.Fprintln(tw, header)
	for _, r := range rows {
		if err := tmpl.Execute(tw, r); err != nil {
			return fmt.Errorf("format %q: %w", format, err)
		}
		fmt.Fprintln(tw)
	}
	return tw.Flush()
}

// headerFor names the columns of a "table TEMPLATE" format from the
// default columns whose template each field uses.
func headerFor(format string, cols []column) string {
	h := format
	for _, c := range cols {
		h = strings.ReplaceAll(h, c.tmpl, c.header)
	}
	for _, r := range []string{"{{.", "}}"} {
		h = strings.ReplaceAll(h, r, "")
	}
	return strings.ReplaceAll(strings.ToUpper(h), `\T`, "\t")
}
