// Package batchsysmon keeps the Go runtime's monitor thread (sysmon) from
// preempting the thread that does the process's work: a blank import puts
// it under SCHED_BATCH as one of the process's first package inits.
//
// sysmon wakes every 20 µs after each system call that wakes it from its
// long sleep, and doubles the nap only after a millisecond of such naps.
// A thread that has slept is favoured by the kernel's scheduler when it
// wakes, so on a machine whose CPUs are all taken (a container's start
// keeps two busy), each of those wake-ups preempted the process's main
// thread on its own CPU: two context switches every 100 µs or so on the
// path from a container's exit to its status. A SCHED_BATCH thread does
// not preempt the thread running when it wakes; it still gets its fair
// share of the CPU, so what sysmon does (taking back a processor from a
// goroutine blocked in a system call, preempting one that runs long,
// polling the network) happens, later by at most a scheduler slice.
//
// sysmon is the runtime's first thread after the main one (runtime.main
// starts it before any package init): of the threads that exist at this
// package's init, the one with the smallest thread id after the process's
// own (ids wrap around at pid_max). Should a runtime start another first,
// that thread gets the policy instead, which changes when it runs and
// nothing of what it does. A thread that sysmon starts (to take over a
// processor from a blocked system call) inherits the policy, and the
// goroutines it runs then wait for the running thread's slice to end
// rather than preempt it, as sysmon does; the kernel resets only
// real-time policies for new threads. Errors are ignored: the policy is
// a preference.
package batchsysmon

import (
	"strconv"
	"syscall"
	"unsafe"
)

const schedBatch = 3 // SCHED_BATCH

func init() { batch(sysmonThread()) }

// sysmonThread returns the id of the thread that runtime.main started
// first, 0 when there is none or the task list cannot be read. It reads
// the list with plain system calls into a buffer on the stack: this runs
// in every start, before os is initialised.
func sysmonThread() int {
	fd, err := syscall.Open("/proc/self/task", syscall.O_RDONLY|syscall.O_DIRECTORY|syscall.O_CLOEXEC, 0)
	if err != nil {
		return 0
	}
	defer syscall.Close(fd)
	var names []string
	var buf [2048]byte
	for {
		n, err := syscall.Getdents(fd, buf[:])
		if err != nil || n <= 0 {
			break
		}
		_, _, names = syscall.ParseDirent(buf[:n], -1, names)
	}
	return firstAfter(syscall.Getpid(), names)
}

// firstAfter picks, of the thread ids names (decimal), the first one
// allocated after self: the smallest one above self, or if none is above
// it (the ids wrapped around), the smallest one; 0 for none but self.
func firstAfter(self int, names []string) int {
	above, below := 0, 0
	for _, n := range names {
		tid, err := strconv.Atoi(n)
		if err != nil || tid == self {
			continue
		}
		if tid > self && (above == 0 || tid < above) {
			above = tid
		}
		if tid < self && (below == 0 || tid < below) {
			below = tid
		}
	}
	if above != 0 {
		return above
	}
	return below
}

// batch puts thread tid under SCHED_BATCH.
func batch(tid int) {
	if tid == 0 {
		return
	}
	var param struct{ priority int32 }
	syscall.RawSyscall(syscall.SYS_SCHED_SETSCHEDULER, uintptr(tid), schedBatch, uintptr(unsafe.Pointer(&param)))
}
