package nproc

// The check is C in nproc_linux.c, run by the C library as a constructor
// before main, hence before the Go runtime makes its first thread. Its
// priority (102) puts it after the pre-runtime hook of package prerun
// (101), which joins the keeper's namespaces: the check runs in the
// namespaces the runtime will run in (see TestForkBombMessage).

/*
#cgo CFLAGS: -Wall -O2
*/
import "C"
