package build

import (
	"bytes"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strconv"
	"strings"

	"github.com/moby/buildkit/frontend/dockerfile/instructions"
	"github.com/moby/buildkit/frontend/dockerfile/parser"
	"github.com/moby/buildkit/frontend/dockerfile/shell"
)

// defaultFiles are the build files looked for in the context, in order.
var defaultFiles = []string{"Containerfile", "Dockerfile"}

// findDockerfile is the build file: -f as given (relative to the working
// directory, as docker), else Containerfile or Dockerfile in the context.
func findDockerfile(contextDir, file string) (string, error) {
	if file != "" {
		if _, err := os.Stat(file); err != nil {
			return "", fmt.Errorf("the Dockerfile %s: %w", file, err)
		}
		return file, nil
	}
	for _, name := range defaultFiles {
		p := filepath.Join(contextDir, name)
		if _, err := os.Stat(p); err == nil {
			return p, nil
		} else if !errors.Is(err, fs.ErrNotExist) {
			return "", fmt.Errorf("the Dockerfile: %w", err)
		}
	}
	return "", fmt.Errorf("no Containerfile or Dockerfile in the context %s: give one with -f", contextDir)
}

// dockerfile is a parsed build file.
type dockerfile struct {
	path     string
	stages   []instructions.Stage
	metaArgs []instructions.ArgCommand
	escape   rune
}

// parseDockerfile parses data, the build file at path, with buildkit's
// parser: errors say file:line and the parser's message.
func parseDockerfile(path string, data []byte) (*dockerfile, error) {
	res, err := parser.Parse(bytes.NewReader(data))
	if err != nil {
		return nil, locate(path, err)
	}
	stages, metaArgs, err := instructions.Parse(res.AST, nil)
	if err != nil {
		return nil, locate(path, err)
	}
	if len(stages) == 0 {
		return nil, fmt.Errorf("%s: no FROM instruction: a build file starts with FROM (after ARGs)", path)
	}
	return &dockerfile{path: path, stages: stages, metaArgs: metaArgs, escape: res.EscapeToken}, nil
}

// locate prefixes a parse error with file:line when the parser knows it.
func locate(path string, err error) error {
	line := 0
	var le *parser.LocationError
	if errors.As(err, &le) && len(le.Locations) > 0 && len(le.Locations[0]) > 0 {
		line = le.Locations[0][0].Start.Line
	}
	msg := err.Error()
	if line > 0 {
		return fmt.Errorf("%s:%d: %s", path, line, msg)
	}
	return fmt.Errorf("%s: %s", path, msg)
}

// stageIndex finds a stage by name (case-insensitive) or index, among
// the stages before limit.
func (d *dockerfile) stageIndex(ref string, limit int) (int, bool) {
	for i := 0; i < limit && i < len(d.stages); i++ {
		if d.stages[i].Name != "" && strings.EqualFold(d.stages[i].Name, ref) {
			return i, true
		}
	}
	if n, err := strconv.Atoi(ref); err == nil && n >= 0 && n < limit && n < len(d.stages) {
		return n, true
	}
	return 0, false
}

// target is the index of the stage to build: --target's, else the last.
func (d *dockerfile) target(name string) (int, error) {
	if name == "" {
		return len(d.stages) - 1, nil
	}
	for i, s := range d.stages {
		if strings.EqualFold(s.Name, name) {
			return i, nil
		}
	}
	var names []string
	for _, s := range d.stages {
		if s.Name != "" {
			names = append(names, s.Name)
		}
	}
	return 0, fmt.Errorf("target stage %q not found in %s: the stages are %s", name, d.path, strings.Join(names, ", "))
}

// envList is an EnvGetter over NAME=VALUE pairs, for the shell lexer;
// the last of a name wins.
type envList []string

func (e envList) Get(key string) (string, bool) {
	for i := len(e) - 1; i >= 0; i-- {
		if k, v, _ := strings.Cut(e[i], "="); k == key {
			return v, true
		}
	}
	return "", false
}

func (e envList) Keys() []string {
	var keys []string
	seen := map[string]bool{}
	for _, kv := range e {
		k, _, _ := strings.Cut(kv, "=")
		if !seen[k] {
			seen[k] = true
			keys = append(keys, k)
		}
	}
	return keys
}

// expander expands words with docker's rules against env.
func expander(lex *shell.Lex, env envList) instructions.SingleWordExpander {
	return func(word string) (string, error) {
		out, _, err := lex.ProcessWord(word, env)
		return out, err
	}
}

// setEnv sets key to value in a NAME=VALUE list.
func setEnv(env []string, key, value string) []string {
	out := make([]string, 0, len(env)+1)
	for _, kv := range env {
		if k, _, _ := strings.Cut(kv, "="); k != key {
			out = append(out, kv)
		}
	}
	return append(out, key+"="+value)
}
