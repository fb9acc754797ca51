package build

import (
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strings"

	"github.com/moby/patternmatcher"
	"github.com/moby/patternmatcher/ignorefile"
)

// ignoreFiles are the files that exclude paths of the context, in the
// order they are looked for: the first one found is used, as buildah does.
var ignoreFiles = []string{".containerignore", ".dockerignore"}

// Ignore says which paths of the build context COPY and ADD do not see.
type Ignore struct {
	pm *patternmatcher.PatternMatcher
}

// readIgnore reads the context's ignore file; none means nothing ignored.
func readIgnore(contextDir string) (*Ignore, error) {
	for _, name := range ignoreFiles {
		f, err := os.Open(filepath.Join(contextDir, name))
		if errors.Is(err, fs.ErrNotExist) {
			continue
		}
		if err != nil {
			return nil, fmt.Errorf("read %s: %w", name, err)
		}
		ig, err := ParseIgnore(f)
		f.Close()
		if err != nil {
			return nil, fmt.Errorf("%s: %w", name, err)
		}
		return ig, nil
	}
	return &Ignore{}, nil
}

// ParseIgnore reads ignore patterns in docker's syntax: one a line, #
// comments, ! re-including, ** for any number of directories.
func ParseIgnore(r io.Reader) (*Ignore, error) {
	patterns, err := ignorefile.ReadAll(r)
	if err != nil {
		return nil, err
	}
	if len(patterns) == 0 {
		return &Ignore{}, nil
	}
	pm, err := patternmatcher.New(patterns)
	if err != nil {
		return nil, err
	}
	return &Ignore{pm: pm}, nil
}

// Excluded says whether rel, a slash-separated path relative to the
// context's root, is left out: by a pattern naming it or one of its
// parent directories, unless a later ! pattern takes it back.
func (ig *Ignore) Excluded(rel string) (bool, error) {
	if ig == nil || ig.pm == nil {
		return false, nil
	}
	rel = strings.TrimPrefix(filepath.ToSlash(filepath.Clean("/"+rel)), "/")
	if rel == "" {
		return false, nil
	}
	return ig.pm.MatchesOrParentMatches(filepath.FromSlash(rel))
}

// mayReinclude says whether a directory that is excluded may still have
// a path under it taken back by a ! pattern: then the walk goes in.
func (ig *Ignore) mayReinclude() bool {
	return ig != nil && ig.pm != nil && ig.pm.Exclusions()
}
