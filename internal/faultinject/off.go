//go:build !faultinject

package faultinject

import "io"

// Enabled: this build kills at steps (tag faultinject).
const Enabled = false

// Step does nothing in a release build.
func Step(string) {}

// Progress returns w: a release build watches no progress.
func Progress(w io.Writer, prefix string) io.Writer { return w }
