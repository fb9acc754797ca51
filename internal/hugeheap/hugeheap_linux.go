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
	// chunk is the runtime's unit of heap growth: it maps its heap in
	// chunks of 4 MiB, aligned to 4 MiB, each a mapping of its own. A
	// mapping made after the hint lacks it, so the hint covers the chunk
	// the heap is in at the call and, when too little of it is left, the
	// next (see Back's need).
	chunk = 4 << 20
	// window is how much of the heap from the huge page at the frontier
	// is asked for: what is not mapped is skipped by the kernel.
	window = 8 << 20
)

// sink holds what Back allocates while it looks at it, so that the
// compiler puts it on the heap; dropped at once, it goes at the first
// collection, and nothing reuses its pages before. It is never written, so
// its pages stay untouched.
var sink []byte

// probeSize is the size of the object that finds the frontier: the least
// the runtime takes from its page allocator directly (16 pages of 8 KiB),
// at the lowest free address, which before the first collection is the
// end of what the heap has used. A smaller object may land in a hole below
// it, in the pages a processor keeps.
const probeSize = 128 << 10

// Back asks for huge pages for the heap the process allocates from now
// and collapses the huge page the heap's frontier lies in.
//
// need is how much heap the process goes on to allocate. The runtime (Go
// 1.26) starts its heap at a random page of its first chunk, so in some
// starts less than that is left in the chunk. Then the rest of the chunk
// is filled with an object that is never touched: the runtime maps the
// next chunk at once, and the hint covers it too. Filling costs a growth
// of the heap the process may not have needed (0.2-0.3 ms here), so a
// process that allocates little asks for none. The filler is less than
// need, which stays well under the heap at which the runtime first
// collects (4 MiB).
func Back(need uintptr) {
	at := frontier()
	advise(at)
	if room := (at+chunk)&^(chunk-1) - at; room < need {
		sink = make([]byte, room)
		sink = nil
		// Past the filler: the next chunk, which the runtime has just
		// mapped.
		advise(frontier())
	}
}

// frontier is the address the heap allocates its next pages from.
func frontier() uintptr {
	sink = make([]byte, probeSize)
	at := uintptr(unsafe.Pointer(unsafe.SliceData(sink)))
	sink = nil
	return at
}

// advise asks for huge pages from the huge page holding at, and collapses
// that one: a huge page whose range already has a page touched is not
// taken at a fault (the faults there stay 4 KiB each). Nothing past it is
// touched yet: the processors' caches of free pages were taken below the
// frontier. A range with nothing touched is not collapsed (EINVAL, about
// 12 µs here).
func advise(at uintptr) {
	base := at &^ (hugePage - 1)
	syscall.RawSyscall(syscall.SYS_MADVISE, base, window, madvHugepage)
	// A collapse copies the touched pages and may compact memory first: a
	// system call the runtime is told of, as one that may take long.
	syscall.Syscall(syscall.SYS_MADVISE, base, hugePage, madvCollapse)
}
