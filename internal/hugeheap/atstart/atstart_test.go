package atstart

import (
	"slices"
	"testing"

	"sandbox/network/usernet"
)

// TestLongLivedHolder: the user-mode network's holder, which lives as long
// as its networks, keeps a heap of 4 KiB pages.
func TestLongLivedHolder(t *testing.T) {
	if !slices.Contains(LongLived, usernet.HolderRole) {
		t.Errorf("LongLived %q does not name the holder's role %q", LongLived, usernet.HolderRole)
	}
}
