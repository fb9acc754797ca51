// Package helperpath finds the helper binaries that sandbox starts
// (sandbox-monitor, sandbox-image): beside the running executable (a build
// in bin/), or in ../libexec/sandbox/ relative to it (an installation).
package helperpath

import (
	"fmt"
	"os"
	"path/filepath"
)

// Find returns the path of the helper called name.
func Find(name string) (string, error) {
	self, err := os.Executable()
	if err != nil {
		return "", fmt.Errorf("find own executable: %w", err)
	}
	dir := filepath.Dir(self)
	candidates := []string{
		filepath.Join(dir, name),
		filepath.Join(dir, "..", "libexec", "sandbox", name),
	}
	for _, c := range candidates {
		if st, err := os.Stat(c); err == nil && st.Mode().IsRegular() && st.Mode()&0o111 != 0 {
			return filepath.Clean(c), nil
		}
	}
	return "", fmt.Errorf("helper %s not found in %s or %s: reinstall sandbox (make install)", name, candidates[0], filepath.Dir(candidates[1]))
}
