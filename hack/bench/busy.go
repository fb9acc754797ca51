package main

import (
	"errors"
	"fmt"
	"os"
	"os/exec"
	"syscall"
)

// The busy machine: a figure measured with two CPU-bound loops running
// beside it for its whole duration (warm-up included), as on a CI machine
// that runs other jobs. Each loop is this binary in its hog role
// (argv[1] == hogRole), a process of its own at the bench's priority.

// hogRole is argv[1] of the bench in the hog role.
const hogRole = "-hog-role"

// hogs is how many CPU-bound loops a busy figure runs beside it.
const hogs = 2

// hogMain spins until it is killed.
func hogMain() {
	for {
	}
}

// startHogs starts the CPU-bound loops and returns how to stop them.
func startHogs() (stop func() error, err error) {
	self, err := os.Executable()
	if err != nil {
		return nil, err
	}
	var cmds []*exec.Cmd
	stop = func() error {
		var errs []error
		for _, c := range cmds {
			if err := c.Process.Kill(); err != nil && !errors.Is(err, os.ErrProcessDone) {
				errs = append(errs, err)
			}
			// Killed: its exit status says so, and is no error here.
			var ee *exec.ExitError
			if err := c.Wait(); err != nil && !errors.As(err, &ee) {
				errs = append(errs, err)
			}
		}
		return errors.Join(errs...)
	}
	for range hogs {
		c := exec.Command(self, hogRole)
		c.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
		if err := c.Start(); err != nil {
			return nil, errors.Join(fmt.Errorf("start a CPU hog: %w", err), stop())
		}
		cmds = append(cmds, c)
	}
	return stop, nil
}
