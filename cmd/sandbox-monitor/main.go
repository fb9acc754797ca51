// Command sandbox-monitor is the lean binary on the hot path of every
// container start. It has two roles, chosen by its first argument:
//
//	sandbox-monitor monitor RUN-DIR   the monitor (package monitor), its
//	                                  options on its fd 6
//	sandbox-init init                 the init (package nsinit)
//
// Both are started by sandbox itself, never by hand. Keeping them out of
// the sandbox binary keeps containers/storage's start-up cost and memory
// out of every container.
package main

import (
	"errors"
	"fmt"
	"os"
	"runtime"

	_ "sandbox/internal/batchsysmon" // the runtime's sysmon does not preempt the work
	"sandbox/internal/hugeheap"
	"sandbox/monitor"
	"sandbox/nsinit"
)

// No heap profiling: nobody reads the profile, and its sampling keeps
// tables in every monitor.
func init() { runtime.MemProfileRate = 0 }

func main() {
	if len(os.Args) == 2 && os.Args[1] == "init" {
		// The init's memory goes with its execve: huge pages cost it
		// nothing. The monitor lives on, and keeps its heap small. The
		// init allocates little after this (a few pages): no filler.
		hugeheap.Back(0)
		nsinit.Run()
	}
	if len(os.Args) != 3 {
		fmt.Fprintln(os.Stderr, "sandbox-monitor is started by sandbox, not by hand")
		os.Exit(125)
	}
	switch os.Args[1] {
	case "monitor":
		// Before the options, when asked: see monitor.EarlyInit.
		pre := monitor.CloneEarlyInit()
		opts, err := monitor.ReceiveOptions(os.Args[2])
		if err != nil {
			pre.Kill()
		}
		if errors.Is(err, monitor.ErrAbandoned) {
			os.Exit(125)
		}
		if err != nil {
			fmt.Fprintf(os.Stderr, "sandbox-monitor: %v\n", err)
			os.Exit(125)
		}
		os.Exit(monitor.Run(opts, pre))
	}
	fmt.Fprintf(os.Stderr, "sandbox-monitor: unknown role %q\n", os.Args[1])
	os.Exit(125)
}
