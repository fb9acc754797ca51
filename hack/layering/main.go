// Command layering checks that sandbox's packages keep to the lines the
// design draws between them (DESIGN.md §2): the rules table in rules.go,
// no loop among top-level packages, no top-level package over 30% of the
// production lines. It reads the import graph from `go list -deps -json`
// and prints each violation on a line of its own, naming the importing
// package, the imported package and the rule; it exits 1 when there is
// one, 2 when it could not check. With -v it also prints the production
// lines of each top-level package. `make lint` runs it.
package main

import (
	"bytes"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/exec"
	"strings"
)

func main() {
	var o options
	flag.StringVar(&o.dir, "C", ".", "the module's root")
	flag.StringVar(&o.tags, "tags", "", "build tags, as go build's -tags")
	flag.StringVar(&o.overlay, "overlay", "", "an overlay file for go list, as go build's -overlay")
	flag.BoolVar(&o.verbose, "v", false, "print the production lines of each top-level package")
	flag.Parse()
	if flag.NArg() != 0 {
		fmt.Fprintln(os.Stderr, "usage: layering [-C DIR] [-tags TAGS] [-overlay FILE] [-v]")
		os.Exit(2)
	}
	problems, err := run(o, os.Stdout)
	if err != nil {
		fmt.Fprintln(os.Stderr, "layering:", err)
		os.Exit(2)
	}
	if problems > 0 {
		fmt.Fprintf(os.Stderr, "layering: %d violations of the layering (DESIGN.md §2; the rules are in hack/layering/rules.go)\n", problems)
		os.Exit(1)
	}
}

type options struct {
	dir, tags, overlay string
	verbose            bool
}

// run checks the module at o.dir and prints what it finds to w; it returns
// how many violations it printed.
func run(o options, w io.Writer) (int, error) {
	g, err := listPackages(o)
	if err != nil {
		return 0, err
	}
	shares, err := countLines(o.dir)
	if err != nil {
		return 0, err
	}
	if o.verbose {
		printShares(w, shares)
	}
	n := 0
	for _, v := range Check(g) {
		fmt.Fprintln(w, v)
		n++
	}
	for _, s := range checkSizes(shares) {
		fmt.Fprintln(w, s)
		n++
	}
	return n, nil
}

// listPackages runs go list on every package of the module and all they
// link. cgo is on, as for the command binaries, so that packages show
// their cgo files.
func listPackages(o options) (Graph, error) {
	args := []string{"list", "-deps", "-json=ImportPath,Standard,Imports,CgoFiles,Error"}
	if o.tags != "" {
		args = append(args, "-tags", o.tags)
	}
	if o.overlay != "" {
		args = append(args, "-overlay", o.overlay)
	}
	args = append(args, "./...")
	goBin := os.Getenv("GO")
	if goBin == "" {
		goBin = "go"
	}
	cmd := exec.Command(goBin, args...)
	cmd.Dir = o.dir
	cmd.Env = append(os.Environ(), "CGO_ENABLED=1")
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		return nil, fmt.Errorf("go %s: %w\n%s", strings.Join(args, " "), err, stderr.Bytes())
	}
	return decodePackages(bytes.NewReader(out))
}

// decodePackages reads go list's stream of JSON objects.
func decodePackages(r io.Reader) (Graph, error) {
	g := Graph{}
	dec := json.NewDecoder(r)
	for {
		var p Package
		err := dec.Decode(&p)
		if errors.Is(err, io.EOF) {
			return g, nil
		}
		if err != nil {
			return nil, fmt.Errorf("read go list output: %w", err)
		}
		if p.Error != nil {
			return nil, fmt.Errorf("package %s: %s", p.ImportPath, p.Error.Err)
		}
		g[p.ImportPath] = &p
	}
}
