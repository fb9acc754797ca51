package holder

import (
	"fmt"
	"runtime"

	"golang.org/x/sys/unix"
)

// nsThread is the holder's one OS thread in the networks' namespace,
// which it made (unshare) and never leaves. Everything that must happen
// in the namespace runs on it: netlink calls, the sockets of the name
// servers, the firewall program. The rest of the holder stays in the
// host's network namespace, where slirp4netns must be started (its own
// sockets are the host's) and from where no process inside the keeper's
// user namespace could enter it again.
type nsThread struct {
	jobs chan func()
	tid  int
}

func newNSThread() (*nsThread, error) {
	t := &nsThread{jobs: make(chan func())}
	ready := make(chan error, 1)
	go func() {
		// Never unlocked: the thread ends with the holder. Returning
		// while locked ends the thread, and the namespace with it.
		runtime.LockOSThread()
		if err := unix.Unshare(unix.CLONE_NEWNET); err != nil {
			ready <- fmt.Errorf("new network namespace: %w", err)
			return
		}
		t.tid = unix.Gettid()
		ready <- nil
		for f := range t.jobs {
			f()
		}
	}()
	if err := <-ready; err != nil {
		return nil, err
	}
	return t, nil
}

// do runs f on the thread.
func (t *nsThread) do(f func() error) error {
	done := make(chan error, 1)
	t.jobs <- func() { done <- f() }
	return <-done
}

// path is the namespace's file.
func (t *nsThread) path() string { return fmt.Sprintf("/proc/self/task/%d/ns/net", t.tid) }
