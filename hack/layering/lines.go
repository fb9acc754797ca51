package main

import (
	"bytes"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"strings"
)

// How production lines are counted: every line (code, comment or blank)
// of every .go file that is not a _test.go, and of every .c and .h file,
// under the module's root; hack/ and test/ are left out, and so are
// testdata, hidden folders and bin/. A file belongs to its top-level
// folder, except under cmd/, where each command (cmd/sandbox,
// cmd/sandbox-nsenter, ...) is a package of its own.

// A Share is one top-level package's production lines.
type Share struct {
	Package string
	Lines   int
}

// countLines returns the production lines of each top-level package under
// root, largest first.
func countLines(root string) ([]Share, error) {
	counts := map[string]int{}
	err := filepath.WalkDir(root, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, err := filepath.Rel(root, p)
		if err != nil {
			return err
		}
		rel = filepath.ToSlash(rel)
		if d.IsDir() {
			name := d.Name()
			if rel != "." && (strings.HasPrefix(name, ".") || strings.HasPrefix(name, "_") || name == "testdata" ||
				rel == "hack" || rel == "test" || rel == "bin") {
				return filepath.SkipDir
			}
			return nil
		}
		if !production(rel) {
			return nil
		}
		n, err := fileLines(p)
		if err != nil {
			return err
		}
		counts[lineOwner(rel)] += n
		return nil
	})
	if err != nil {
		return nil, err
	}
	var out []Share
	for pkg, n := range counts {
		out = append(out, Share{pkg, n})
	}
	sort.Slice(out, func(i, j int) bool {
		if out[i].Lines != out[j].Lines {
			return out[i].Lines > out[j].Lines
		}
		return out[i].Package < out[j].Package
	})
	return out, nil
}

// production reports whether the file at rel counts.
func production(rel string) bool {
	switch filepath.Ext(rel) {
	case ".go":
		return !strings.HasSuffix(rel, "_test.go")
	case ".c", ".h":
		return true
	}
	return false
}

// lineOwner is the top-level package a file at rel (slash-separated,
// relative to the module's root) counts for.
func lineOwner(rel string) string {
	parts := strings.Split(rel, "/")
	switch {
	case len(parts) == 1:
		return "."
	case parts[0] == "cmd" && len(parts) > 2:
		return parts[0] + "/" + parts[1]
	}
	return parts[0]
}

// fileLines counts the lines of a file; a last line without its newline
// counts too.
func fileLines(name string) (int, error) {
	data, err := os.ReadFile(name)
	if err != nil {
		return 0, err
	}
	n := bytes.Count(data, []byte("\n"))
	if len(data) > 0 && data[len(data)-1] != '\n' {
		n++
	}
	return n, nil
}

// checkSizes returns a line for each package over maxShare percent.
func checkSizes(shares []Share) []string {
	total := totalLines(shares)
	var out []string
	for _, s := range shares {
		if total > 0 && s.Lines*100 > maxShare*total {
			out = append(out, fmt.Sprintf("%s holds %d of %d production lines (%.1f%%): no top-level package over %d%% of the production lines",
				s.Package, s.Lines, total, percent(s.Lines, total), maxShare))
		}
	}
	return out
}

func totalLines(shares []Share) int {
	total := 0
	for _, s := range shares {
		total += s.Lines
	}
	return total
}

func percent(n, total int) float64 { return 100 * float64(n) / float64(total) }

// printShares prints the table of packages, lines and shares.
func printShares(w io.Writer, shares []Share) {
	total := totalLines(shares)
	fmt.Fprintf(w, "%-22s %7s %6s\n", "PACKAGE", "LINES", "SHARE")
	for _, s := range shares {
		fmt.Fprintf(w, "%-22s %7d %5.1f%%\n", s.Package, s.Lines, percent(s.Lines, total))
	}
	fmt.Fprintf(w, "%-22s %7d (limit %d%% a package)\n", "total", total, maxShare)
}
