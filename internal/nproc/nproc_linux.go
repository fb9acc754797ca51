package nproc

// The check is C in nproc_linux.c, run by the C library as a constructor
// before main, hence before the Go runtime makes its first thread. Since
// constructors of the same priority run in link order, and the linker
// takes package sandbox/exec (the pre-runtime hook, which joins the
// keeper's namespaces) before this one, the check runs in the namespaces
// the runtime will run in (see TestForkBombMessage).

/*
#cgo CFLAGS: -Wall -O2
*/
import "C"
