// Package atstart backs the heap of the process that imports it with huge
// pages (hugeheap.Back) as the first of its package initialisations that
// can: a blank import for short-lived binaries. A role of the binary
// that lives long (LongLived) is left out.
package atstart

import (
	"os"

	"sandbox/internal/hugeheap"
)

// LongLived are the first arguments of the roles that live as long as
// what they serve: the user-mode network's holder of the sandbox binary
// (usernet.HolderRole; a test holds the two the same).
var LongLived = []string{"__usernet-holder"}

// need bounds the heap a short-lived process allocates after its package
// initialisations: a run's command allocates about 1.1 MiB in all, the
// cleanup and sandbox-exec less (hugeheap.Back).
const need = 2 << 20

func init() {
	if len(os.Args) > 1 {
		for _, r := range LongLived {
			if os.Args[1] == r {
				return
			}
		}
	}
	hugeheap.Back(need)
}
