// Package hugeheap backs a short-lived process's Go heap with transparent
// huge pages from early in its start.
//
// A Go program faults in its heap a page of 4 KiB at a time as it first
// touches it: a few hundred faults for a command of sandbox, which on a
// machine whose page faults are dear (a guest whose hypervisor handles
// them, 10-17 µs each) cost more CPU than the command's own work. Asked
// for huge pages, the kernel backs each 2 MiB of the heap with one page
// instead: the part already touched is copied into one (MADV_COLLAPSE,
// Linux 6.1 and later) and the rest takes one fault where it took 512.
// Both are hints: a kernel without them, with huge pages off (or a
// process that disabled them) or without a free huge page leaves the heap
// as it was, so errors are ignored.
//
// The price is memory: a process holds whole huge pages where it would
// hold the 4 KiB pages it touched, up to a few MiB more. That is why only
// short-lived processes ask (the commands, sandbox-exec, the cleanup, a
// container's init before its execve), never the monitor, whose idle
// memory is a budget, nor the long-lived helpers (package atstart leaves
// them out).
package hugeheap

import (
	"syscall"
	"unsafe"
)

const (
	madvHugepage = 14 // MADV_HUGEPAGE
	madvCollapse = 25 // MADV_COLLAPSE
	hugePage     = 2 << 20
	// window is how much of the heap from the page the runtime allocates
	// from at the call is asked for: the runtime maps its heap in chunks
	// of 4 MiB from a random offset, and a command of sandbox uses 2-3
	// MiB; what is not mapped is skipped by the kernel.
	window = 8 << 20
)

// probe is an object large enough to get pages of its own: the runtime
// takes them at the lowest free address, which before the first
// collection is the end of what the heap has used. It is not written, so
// its pages stay untouched.
var probe []byte

// Back asks for huge pages for the heap the process allocates from now
// and collapses the huge page its allocations so far lie in.
func Back() {
	probe = make([]byte, 64<<10)
	base := uintptr(unsafe.Pointer(unsafe.SliceData(probe))) &^ (hugePage - 1)
	probe = nil
	syscall.RawSyscall(syscall.SYS_MADVISE, base, window, madvHugepage)
	// A collapse copies the touched pages and may compact memory first:
	// a system call the runtime is told of, as one that may take long.
	syscall.Syscall(syscall.SYS_MADVISE, base, hugePage, madvCollapse)
}
