package main

import (
	"fmt"

	"sandbox/prerun"
)

// checkCallerFds checks that sandbox's caller gave it descriptors 3..2+n,
// as the pre-runtime hook found them before the Go runtime opened its own
// (which take the lowest free numbers, and must never reach a container).
func checkCallerFds(n uint) error {
	have := prerun.InheritedFds()
	if int(n) > have {
		return fmt.Errorf("invalid --preserve-fds %d: descriptor %d is not open", n, 3+have)
	}
	return nil
}
