// startslot.c: container starts by `sandbox run` take turns when more of
// them are under way at once than the process has CPUs to run on.
//
// Why: a start is three processes' work (the command, the monitor, the
// init), almost all of it CPU. Fifty runs at once on two CPUs do not get
// fifty times the work done in parallel: each start then costs more CPU
// than alone (three Go runtimes apiece starting side by side, the store's
// files read again after every other command's write, their caches and
// page tables pushed out by one another), so that the fifty took 2.9-3.5 s
// where the same fifty one after the other took 2.4 s, and two at a time
// 2.1-2.7 s.
//
// How, in order:
//
//  1. Only a `sandbox [GLOBAL FLAGS] run` or `container run` takes a turn,
//     and it takes it before anything else it does that costs: before it
//     joins the keeper, starts its monitor (early.c) or its Go runtime. A
//     run that waits is one small process asleep in flock(2).
//  2. The runtime directory holds a lock file per CPU in this process's
//     affinity mask (start-slot.0, start-slot.1, ...), made on first use;
//     one that is not a regular file of the user's is not used. A run
//     takes the first it can lock without waiting; when every one is
//     taken it waits on one of them (its pid modulo their count).
//  3. The wait is bounded (sandbox_start_slot_wait_ms): a run never waits
//     longer than that behind a turn that is not given back (a command
//     stopped with ^Z before its container started); it then goes on
//     without a turn.
//  4. The turn is the lock on an open descriptor (close-on-exec, so no
//     child holds it): it ends when Go closes it (prerun.ReleaseStartSlot,
//     once the container has started, and before a pull, which waits on
//     the network rather than on the CPUs) or when the process ends,
//     however it ends. Nothing is left to clean up.
//
// A directory that cannot be opened (the very first run, before the
// runtime directory exists) or a lock that fails otherwise is no reason to
// fail a run: it goes on without a turn.
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "hook.h"

// The descriptor holding this process's turn, -1 when it holds none.
int sandbox_start_slot = -1;
// How long the last sandbox_take_start_slot waited for a turn, in
// milliseconds: -1 when it found one free (or none to take).
long sandbox_start_slot_waited_ms = -1;
// How long a run waits for a turn at most.
const int sandbox_start_slot_wait_ms = 5000;

// slot_count is how many CPUs this process may run on: the number of
// turns.
static int slot_count(void) {
	cpu_set_t set;
	if (sched_getaffinity(0, sizeof set, &set) < 0)
		return 1;
	int n = CPU_COUNT(&set);
	return n > 0 ? n : 1;
}

// open_slot opens lock file i in dir, made if missing: -1 when it cannot,
// or when it is not a regular file of the user's.
static int open_slot(const char *dir, int i) {
	char path[SANDBOX_PATH_MAX + 32];
	if (snprintf(path, sizeof path, "%s/start-slot.%d", dir, i) >= (int)sizeof path)
		return -1;
	int fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW | O_NOCTTY, 0600);
	if (fd < 0)
		return -1;
	struct stat st;
	if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode) || st.st_uid != geteuid()) {
		close(fd);
		return -1;
	}
	return fd;
}

static void on_alarm(int sig) { (void)sig; }

static long long now_ms(void) {
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

// Not every glibc defines the name of this field of struct sigevent.
#ifndef sigev_notify_thread_id
#define sigev_notify_thread_id _sigev_un._tid
#endif

// wait_lock waits up to wait_ms for an exclusive lock on fd: 0 when it
// has it. A timer of this thread's own interrupts flock(2) with SIGALRM
// (a caller's alarm(2), which runs on across exec, is another timer and is
// left alone); it repeats every 50 ms after its first expiry, in case that
// one came before flock began to sleep.
static int wait_lock(int fd, int wait_ms) {
	if (wait_ms <= 0)
		return -1;
	struct sigaction sa, old_sa;
	memset(&sa, 0, sizeof sa);
	sa.sa_handler = on_alarm; // no SA_RESTART: flock returns EINTR
	sigemptyset(&sa.sa_mask);
	if (sigaction(SIGALRM, &sa, &old_sa) < 0)
		return -1;
	sigset_t alrm, old_mask;
	sigemptyset(&alrm);
	sigaddset(&alrm, SIGALRM);
	pthread_sigmask(SIG_UNBLOCK, &alrm, &old_mask);
	struct sigevent ev;
	memset(&ev, 0, sizeof ev);
	ev.sigev_notify = SIGEV_THREAD_ID;
	ev.sigev_signo = SIGALRM;
	ev.sigev_notify_thread_id = gettid();
	timer_t timer;
	int rc = -1;
	if (timer_create(CLOCK_MONOTONIC, &ev, &timer) == 0) {
		struct itimerspec it = {
		    .it_interval = {.tv_sec = 0, .tv_nsec = 50 * 1000000L},
		    .it_value = {.tv_sec = wait_ms / 1000, .tv_nsec = (wait_ms % 1000) * 1000000L},
		};
		long long deadline = now_ms() + wait_ms;
		if (timer_settime(timer, 0, &it, NULL) == 0) {
			while ((rc = flock(fd, LOCK_EX)) < 0 && errno == EINTR && now_ms() < deadline)
				;
		}
		// Deleted first: a SIGALRM it raised until then reaches
		// on_alarm, as the thread does not block it until the mask is
		// restored.
		timer_delete(timer);
	}
	pthread_sigmask(SIG_SETMASK, &old_mask, NULL);
	sigaction(SIGALRM, &old_sa, NULL);
	return rc;
}

int sandbox_take_start_slot(const char *dir, int slots, int wait_ms) {
	int fds[CPU_SETSIZE];
	int n = 0;
	sandbox_start_slot_waited_ms = -1;
	if (slots > CPU_SETSIZE)
		slots = CPU_SETSIZE;
	for (int i = 0; i < slots; i++) {
		int fd = open_slot(dir, i);
		if (fd < 0)
			break;
		if (flock(fd, LOCK_EX | LOCK_NB) == 0) {
			for (int j = 0; j < n; j++)
				close(fds[j]);
			return fd;
		}
		fds[n++] = fd;
	}
	int got = -1;
	if (n > 0) {
		int mine = getpid() % n;
		long long began = now_ms();
		int rc = wait_lock(fds[mine], wait_ms);
		if (wait_ms > 0)
			sandbox_start_slot_waited_ms = now_ms() - began;
		if (rc == 0) {
			got = fds[mine];
			fds[mine] = -1;
		}
	}
	for (int j = 0; j < n; j++)
		if (fds[j] >= 0)
			close(fds[j]);
	return got;
}

// command_is_run reports whether the arguments from args to end (as for
// sandbox_hook_command) are `[GLOBAL FLAGS] run ...` or `[GLOBAL FLAGS]
// container run ...`.
static int command_is_run(const char *args, const char *end) {
	const char *rest, *runroot;
	const char *cmd = sandbox_hook_command(args, end, &rest, &runroot);
	if (!cmd)
		return 0;
	if (strcmp(cmd, "container") == 0)
		return rest < end && strcmp(rest, "run") == 0;
	return strcmp(cmd, "run") == 0;
}

void sandbox_start_turn(const char *args, const char *end) {
	if (!command_is_run(args, end))
		return;
	int fd = sandbox_take_start_slot(sandbox_hook_runtime_dir, slot_count(), sandbox_start_slot_wait_ms);
	if (fd < 0)
		return;
	// Above the low numbers, as early.c's descriptors: 3 and on are the
	// caller's to give (--preserve-fds) or the Go runtime's to take.
	sandbox_start_slot = fcntl(fd, F_DUPFD_CLOEXEC, 16);
	close(fd);
}
