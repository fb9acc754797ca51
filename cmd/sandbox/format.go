package main

import (
	"bufio"
	"encoding/json"
	"fmt"
	"io"
	"regexp"
	"strings"
	"sync"
	"text/tabwriter"
	"text/template"
	"unicode"
)

// column is one column of a table: its header and its template.
type column struct {
	header, tmpl string
}

// jsonRow is a row that has its own JSON shape.
type jsonRow interface{ json() any }

// formatOptions are how printFormattedWith prints.
type formatOptions struct {
	// cols are the default table's columns.
	cols []column
	// noHeading leaves out a table's header row (--noheading).
	noHeading bool
	// missingZero prints "" for a map key that is not there (a label
	// a container does not have) instead of failing.
	missingZero bool
}

// printFormatted prints rows as docker's --format does: "" or "table" for
// the default table, "table TEMPLATE" for a table of chosen columns, "json"
// for a JSON array, else a Go template per row.
func printFormatted(w io.Writer, format string, cols []column, rows []any) error {
	return printFormattedWith(w, format, formatOptions{cols: cols}, rows)
}

// printFormattedWith is printFormatted with options.
func printFormattedWith(out io.Writer, format string, o formatOptions, rows []any) (err error) {
	// Buffered: a table goes out cell by cell, a write each (ps with 200
	// containers made some 2800).
	w := bufio.NewWriter(out)
	defer func() {
		if ferr := w.Flush(); err == nil && ferr != nil {
			err = ferr
		}
	}()
	cols := o.cols
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
		return printTable(w, o, strings.Join(hs, "\t"), strings.Join(ts, "\t"), rows)
	case strings.HasPrefix(format, "table "):
		t := strings.TrimPrefix(format, "table ")
		return printTable(w, o, headerFor(t, cols), t, rows)
	}
	tmpl, err := parseTemplateWith(format, o.missingZero)
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
	return parseTemplateWith(format, false)
}

// parseTemplateWith parses a --format template; missingZero prints a
// missing map key as its zero value, else it is an error.
func parseTemplateWith(format string, missingZero bool) (*template.Template, error) {
	missing := "missingkey=error"
	if missingZero {
		missing = "missingkey=zero"
	}
	format = strings.ReplaceAll(format, `\t`, "\t")
	format = strings.ReplaceAll(format, `\n`, "\n")
	t, err := template.New("format").Funcs(template.FuncMap{
		// As docker's: no HTML escapes (a > stays >).
		"json": func(v any) (string, error) {
			// {{json .}} of a row is the row in its JSON shape, unless
			// it has one of its own for templates.
			_, own := v.(json.Marshaler)
			if j, ok := v.(jsonRow); ok && !own {
				v = j.json()
			}
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
	}).Option(missing).Parse(format)
	if err != nil {
		return nil, fmt.Errorf("invalid --format %q: %w", format, err)
	}
	return t, nil
}

func printTable(w io.Writer, o formatOptions, header, format string, rows []any) error {
	tmpl, err := parseTemplateWith(format, o.missingZero)
	if err != nil {
		return err
	}
	tw := tabwriter.NewWriter(w, 10, 1, 3, ' ', 0)
	if !o.noHeading {
		fmt.Fprintln(tw, header)
	}
	for _, r := range rows {
		if err := tmpl.Execute(tw, r); err != nil {
			return fmt.Errorf("format %q: %w", format, err)
		}
		fmt.Fprintln(tw)
	}
	return tw.Flush()
}

// action is one {{...}} of a template. It and fieldRef are compiled when
// a table format needs them, not at every start of sandbox.
var action = sync.OnceValue(func() *regexp.Regexp { return regexp.MustCompile(`{{-?\s*(.*?)\s*-?}}`) })

// fieldRef is the field an action prints: .Field, .Field.key, json .Field.
var fieldRef = sync.OnceValue(func() *regexp.Regexp { return regexp.MustCompile(`^(?:json\s+)?\.([A-Za-z]\w*)`) })

// headerFor names the columns of a "table TEMPLATE" format: a field of
// the default columns by their header, another by its name in capitals,
// words apart ("ExitCode" is "EXIT CODE"), as podman does.
func headerFor(format string, cols []column) string {
	act, ref := action(), fieldRef()
	known := map[string]string{}
	for _, c := range cols {
		if m := ref.FindStringSubmatch(strings.Trim(c.tmpl, "{}")); m != nil {
			known[m[1]] = c.header
		}
	}
	h := act.ReplaceAllStringFunc(format, func(a string) string {
		inner := act.FindStringSubmatch(a)[1]
		m := ref.FindStringSubmatch(inner)
		if m == nil {
			return strings.ToUpper(inner)
		}
		if hd, ok := known[m[1]]; ok {
			return hd
		}
		return headerWords(m[1])
	})
	return strings.ReplaceAll(h, `\t`, "\t")
}

// headerWords is a field name in capitals, a space before each word:
// "ExitCode" is "EXIT CODE", "ImageID" "IMAGE ID".
func headerWords(field string) string {
	var b strings.Builder
	rs := []rune(field)
	for i, r := range rs {
		if i > 0 && unicode.IsUpper(r) && (unicode.IsLower(rs[i-1]) || (i+1 < len(rs) && unicode.IsLower(rs[i+1]))) {
			b.WriteByte(' ')
		}
		b.WriteRune(unicode.ToUpper(r))
	}
	return b.String()
}
