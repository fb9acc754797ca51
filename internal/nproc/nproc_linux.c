// A check run before the Go runtime starts: is there room under the
// user's process limit (RLIMIT_NPROC, which counts the tasks, threads
// included, of the user: a container's processes are the user's on the
// host) for the threads the runtime makes at once? When there is not, the
// runtime would die with "failed to create new OS thread" or "pthread_create
// failed" and a dump of every goroutine; this says why in one line instead
// and exits 125.
//
// In order:
//  1. the keeper role (the hook's _SANDBOX_ROLE=keeper) never reaches Go:
//     nothing to check;
//  2. no finite soft RLIMIT_NPROC: nothing to check (the usual case costs
//     one getrlimit);
//  3. fewer tasks on the whole machine (/proc/loadavg) than the limit
//     minus what the runtime needs: the user's share cannot be short, so
//     nothing to probe (a limit in the tens of thousands costs one read);
//  4. otherwise probe: PROBE_TASKS tasks at once, as many as the Go runtime
//     makes before main (measured: 4 for sandbox --version), each a
//     clone(CLONE_VM|CLONE_VFORK) of the one before, reaped before the
//     next step. A refusal with EAGAIN is the limit; any other failure is
//     left to the runtime to meet, for the message must never be wrong.
//
// The probe's tasks are processes, not threads, and are reaped (waitpid)
// before the constructor returns: the process is single-threaded again, as
// a later setns(2) of a user or mount namespace needs.

#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <pwd.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

enum { PROBE_TASKS = 4, PROBE_STACK = 16384 };

static char probe_stacks[PROBE_TASKS][PROBE_STACK] __attribute__((aligned(64)));
// probe_errno: the errno of the first refused clone, 0 when all were made.
// The tasks share this process's memory (CLONE_VM): they write it here.
static volatile int probe_errno;

// probe_task is task DEPTH of the chain: it makes the next one and waits
// for it; the last one only exits. CLONE_VFORK suspends each maker until
// its task has exited, so the whole chain is alive at its deepest point.
static int probe_task(void *arg) {
	long depth = (long)arg;
	if (depth + 1 < PROBE_TASKS) {
		pid_t pid = clone(probe_task, probe_stacks[depth + 1] + PROBE_STACK, CLONE_VM | CLONE_VFORK, (void *)(depth + 1));
		if (pid < 0)
			probe_errno = errno;
		else
			while (waitpid(pid, NULL, __WALL) < 0 && errno == EINTR)
				;
	}
	_exit(0);
}

// room reports whether PROBE_TASKS more tasks can exist at once.
static int room(void) {
	probe_errno = 0;
	pid_t pid = clone(probe_task, probe_stacks[0] + PROBE_STACK, CLONE_VM | CLONE_VFORK, (void *)0);
	if (pid < 0)
		return errno != EAGAIN;
	while (waitpid(pid, NULL, __WALL) < 0 && errno == EINTR)
		;
	return probe_errno != EAGAIN;
}

// machine_tasks is the number of tasks on the machine (the fourth field of
// /proc/loadavg, "RUNNING/TOTAL"), or -1.
static long machine_tasks(void) {
	char buf[128];
	int fd = open("/proc/loadavg", O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -1;
	ssize_t n = read(fd, buf, sizeof buf - 1);
	close(fd);
	if (n <= 0)
		return -1;
	buf[n] = 0;
	char *p = strchr(buf, '/');
	return p ? strtol(p + 1, NULL, 10) : -1;
}

// host_uid is the user as the host knows it: inside the keeper's user
// namespace this process is root, and uid_map says whose root it is.
static unsigned long host_uid(void) {
	unsigned long uid = getuid(), in, out, count;
	FILE *f = fopen("/proc/self/uid_map", "re");
	if (!f)
		return uid;
	while (fscanf(f, "%lu %lu %lu", &in, &out, &count) == 3) {
		if (uid >= in && uid - in < count) {
			uid = out + (uid - in);
			break;
		}
	}
	fclose(f);
	return uid;
}

// Priority 102: after the pre-runtime hook (prerun, 101), in the namespaces
// the runtime will run in.
__attribute__((constructor(102))) static void sandbox_nproc_check(void) {
	const char *role = getenv("_SANDBOX_ROLE");
	if (role && strcmp(role, "keeper") == 0)
		return;
	struct rlimit lim;
	if (getrlimit(RLIMIT_NPROC, &lim) != 0 || lim.rlim_cur == RLIM_INFINITY)
		return;
	long tasks = machine_tasks();
	if (tasks >= 0 && (unsigned long long)tasks + PROBE_TASKS < lim.rlim_cur)
		return;
	if (room())
		return;
	unsigned long uid = host_uid();
	char name[64];
	snprintf(name, sizeof name, "%lu", uid);
	// The name from /etc/passwd itself, not through NSS (getpwuid), which
	// a statically linked binary could only reach by loading glibc's
	// shared modules; a user found only elsewhere is named by the number.
	FILE *f = fopen("/etc/passwd", "re");
	if (f) {
		struct passwd *pw;
		while ((pw = fgetpwent(f)) != NULL) {
			if (pw->pw_uid == uid && pw->pw_name && strlen(pw->pw_name) < sizeof name) {
				snprintf(name, sizeof name, "%s", pw->pw_name);
				break;
			}
		}
		fclose(f);
	}
	fprintf(stderr,
		"Error: cannot start: the process limit of user %s (ulimit -u %llu) is reached; "
		"a container may be running a fork bomb: limit containers with --pids-limit or --ulimit nproc=N\n",
		name, (unsigned long long)lim.rlim_cur);
	_exit(125);
}
