// The hand-off of a process's address space at its exit.
//
// A process's parent hears of its exit only after the kernel has torn
// down its memory, and the sandbox command maps most of its 13 MB binary
// and a few MB of Go heap: that teardown is most of its exit. The kernel
// tears an address space down when its last user lets go of it, so a
// small process that shares it (CLONE_VM, not a thread of the command)
// and outlives the command by a moment takes the teardown with it, after
// the command's parent has its status.
//
// The holder runs no Go and touches no memory of the command but its own
// stack: every signal is blocked before the clone, so that it inherits
// that mask and no Go signal handler ever runs in it; it closes its copies
// of the command's descriptors, asks for SIGKILL when the thread that made
// it exits (PR_SET_PDEATHSIG), which the command's exit_group brings
// about, and waits. Whatever fails here ends the holder early, which
// leaves the teardown to the command, as without it.
#define _GNU_SOURCE
#include <sched.h>
#include <signal.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <unistd.h>

enum { HOLDER_STACK = 16 * 1024 };

static long holder_parent;

// holder_main runs in the holder, on its own stack, with the thread
// storage of the command's thread that made it: syscall(2) writes errno
// there only when a call fails (close_range before Linux 5.9), and that
// thread is on its way to exit_group.
static int holder_main(void *arg) {
	(void)arg;
	// Its copies of the command's descriptors first: a reader of the
	// command's output waits for their end-of-file.
	syscall(SYS_close_range, 0, ~0U, 0);
	syscall(SYS_prctl, PR_SET_NAME, (unsigned long)"sandbox-exit", 0, 0, 0);
	syscall(SYS_prctl, PR_SET_PDEATHSIG, SIGKILL, 0, 0, 0);
	// The command ended before the request: nothing will kill the holder.
	if (syscall(SYS_getppid) != holder_parent)
		return 0;
	for (;;)
		syscall(SYS_pause);
	return 0;
}

// sandbox_hand_off_teardown starts the holder; the caller exits next.
// It returns the holder's pid, or -1.
int sandbox_hand_off_teardown(void) {
	char *stack = mmap(NULL, HOLDER_STACK, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_STACK, -1, 0);
	if (stack == MAP_FAILED)
		return -1;
	sigset_t all, old;
	sigfillset(&all);
	if (pthread_sigmask(SIG_SETMASK, &all, &old) != 0)
		return -1;
	holder_parent = getpid();
	// SIGCHLD: the holder is an ordinary child to whoever reaps it once
	// the command is gone.
	int pid = clone(holder_main, stack + HOLDER_STACK, CLONE_VM | SIGCHLD, NULL);
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	return pid;
}
