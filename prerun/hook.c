// The pre-runtime hook of every sandbox process: a constructor that runs before the
// Go runtime starts, while the process still has one thread. A multithreaded
// process cannot join a user or mount namespace, so every namespace change
// that a sandbox process needs for itself happens here.
//
// Protocol, read from the environment by the constructor (in this order):
//
//	_SANDBOX_ROLE=keeper
//	    The process is the per-user keeper, started by userns.StartKeeper in
//	    fresh user and mount namespaces. It never reaches Go: it holds the
//	    namespaces by sleeping until it is killed.
//	_SANDBOX_RUNTIME_DIR=DIR, _SANDBOX_HOST_UID=N, _SANDBOX_IN_KEEPER=1
//	    Set by a sandbox process for the sandbox processes it starts from
//	    inside the keeper's namespaces (monitor, image helper, cleanup): they
//	    are already inside, so nothing is joined.
//	(none of the above)
//	    The runtime directory is $XDG_RUNTIME_DIR/sandbox when that directory
//	    belongs to the user, else /tmp/sandbox-run-UID. If DIR/keeper.pid names
//	    a live keeper ("PID STARTTIME", STARTTIME from /proc/PID/stat), the
//	    process joins its user and mount namespaces (through a pidfd, so a
//	    reused pid is never joined) and returns to its working directory.
//	    Otherwise it starts unjoined and Go decides (userns.Enter).
//	    Except for `sandbox [GLOBAL FLAGS] check`: when the first argument
//	    that is not a global flag (those that take a value, as --root DIR or
//	    --root=DIR, are in sandbox_global_value_flags) is "check", nothing
//	    is joined (a process already
//	    inside is still reported Inherited). check inspects the host as the
//	    user sees it outside every namespace (the setuid owner and file
//	    capabilities of newuidmap are hidden inside the keeper's user
//	    namespace), and it is what a user runs when the keeper is stuck.
//	    The command line says so, not the environment, so that no child
//	    inherits it. Read from /proc/self/cmdline (its first 4 KiB).
//	    Before it joins, a `sandbox [GLOBAL FLAGS] run ...` waits for its
//	    turn to start a container while as many starts as the process has
//	    CPUs are under way already (startslot.c).
//	    Once joined, for `sandbox [GLOBAL FLAGS] run ...` the hook also
//	    starts the monitor of the container to be made (early.c), whose
//	    start then overlaps this process's; Go adopts it or ends it. For
//	    `sandbox [GLOBAL FLAGS] exec ...` it executes the short exec
//	    command, sandbox-exec, in this process's place (shortexec.c),
//	    which executes sandbox again, inside already, when it cannot take
//	    that exec.
//	    Last, in a process of the sandbox binary (the commands), the
//	    binary's code and constant data are mapped in one call
//	    (prefault.c), not one page fault per 64 KiB as Go runs through them.
//
// Except in the keeper, every descriptor above 2 that the process inherited
// is marked close-on-exec: a directory or file the caller holds open
// (`exec 9<dir` in a shell) never reaches a process that sandbox starts,
// least of all one that enters a container (the CVE-2024-21626 class).
//
// The outcome is left in the sandbox_hook_* variables, read by Go
// (prerun_linux.go).
// Entering a container for `sandbox exec` is not done here but by the
// small static helper sandbox-nsenter (cmd/sandbox-nsenter), so that no
// copy of this binary ever runs inside a container.
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <malloc.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "hook.h"
#include "procfs.h"

enum { HOOK_UNJOINED = 0, HOOK_JOINED = 1, HOOK_INHERITED = 2 };

int sandbox_hook_state;
int sandbox_hook_fallback;
int sandbox_hook_skipped;
// How many descriptors from 3 on, without a gap, the process was started
// with: the caller's, before the Go runtime opens any of its own (it
// keeps cgroup files open from its start), for run --preserve-fds.
int sandbox_hook_inherited_fds;
unsigned int sandbox_hook_host_uid;
unsigned int sandbox_hook_host_gid;
char sandbox_hook_runtime_dir[SANDBOX_PATH_MAX];
// prerun_linux.go declares the two arrays with these sizes.
_Static_assert(SANDBOX_PATH_MAX == 4096, "sandbox_hook_runtime_dir is declared with 4096 bytes");
char sandbox_hook_error[512];

static void hook_error(const char *what, int err) {
	snprintf(sandbox_hook_error, sizeof sandbox_hook_error, "%s: %s", what, strerror(err));
}

// keeper_main never returns: the keeper only holds its namespaces.
static void keeper_main(void) {
	sigset_t all;
	prctl(PR_SET_NAME, "sandbox-keeper", 0, 0, 0);
	sigfillset(&all);
	sigdelset(&all, SIGTERM);
	sigdelset(&all, SIGKILL);
	sigdelset(&all, SIGINT);
	sigprocmask(SIG_SETMASK, &all, NULL);
	for (;;)
		pause();
}

static void runtime_dir(void) {
	const char *dir = getenv("_SANDBOX_RUNTIME_DIR");
	if (dir && *dir) {
		snprintf(sandbox_hook_runtime_dir, sizeof sandbox_hook_runtime_dir, "%s", dir);
		return;
	}
	const char *xdg = getenv("XDG_RUNTIME_DIR");
	struct stat st;
	if (xdg && *xdg && stat(xdg, &st) == 0 && S_ISDIR(st.st_mode) && st.st_uid == sandbox_hook_host_uid) {
		snprintf(sandbox_hook_runtime_dir, sizeof sandbox_hook_runtime_dir, "%s/sandbox", xdg);
		return;
	}
	sandbox_hook_fallback = 1;
	snprintf(sandbox_hook_runtime_dir, sizeof sandbox_hook_runtime_dir, "/tmp/sandbox-run-%u", sandbox_hook_host_uid);
}

// sandbox_global_value_flags are the global flags of sandbox (the
// persistent flags of its root command) that take a value, NULL-terminated.
// The hook skips their values to find the command; cmd/sandbox builds its
// flags apart and its tests hold the two the same (prerun.GlobalValueFlags).
// Long forms only: a flag with a shorthand could also be written -xVALUE.
static const char *const sandbox_global_value_flags[] = {
	"--root",
	"--runroot",
	"--storage-driver",
	"--cgroup-manager",
	"--log-level",
	"--events-backend",
	"--runtime",
	"--runtime-flag",
	NULL,
};

// sandbox_global_value_flag is the i-th of sandbox_global_value_flags, for Go.
const char *sandbox_global_value_flag(int i) {
	if (i < 0 || i >= (int)(sizeof sandbox_global_value_flags / sizeof sandbox_global_value_flags[0]))
		return NULL;
	return sandbox_global_value_flags[i];
}

// value_follows reports whether arg is a global flag whose value is the
// next argument (--root DIR). --root=DIR holds its own value and, as any
// other flag, is skipped alone.
static int value_follows(const char *arg) {
	for (const char *const *f = sandbox_global_value_flags; *f; f++)
		if (strcmp(arg, *f) == 0)
			return 1;
	return 0;
}

// cmdline is the process's command line (its first 4 KiB, from
// /proc/self/cmdline), read once: NUL-terminated arguments from cmdline to
// cmdline_end, argv[0] first; cmdline_end ends the last one even when the
// command line was longer.
static char cmdline[4096];
static const char *cmdline_end = cmdline;
// cmdline_whole: the command line was shorter than cmdline.
static int cmdline_whole;

static void read_cmdline(void) {
	ssize_t n = read_small("/proc/self/cmdline", cmdline, sizeof cmdline);
	cmdline_end = cmdline + (n > 0 ? n : 0);
	cmdline_whole = n > 0 && (size_t)n < sizeof cmdline;
}

// args_after_argv0 is where the arguments after argv[0] start in cmdline.
static const char *args_after_argv0(void) {
	return cmdline < cmdline_end ? cmdline + strlen(cmdline) + 1 : cmdline_end;
}

const char *sandbox_hook_command(const char *p, const char *end, const char **rest, const char **runroot) {
	int value = 0; // p is the value of a global flag
	*runroot = NULL;
	for (; p < end; p += strlen(p) + 1) {
		if (value) {
			if (value == 2)
				*runroot = p;
			value = 0;
		} else if (value_follows(p)) {
			value = strcmp(p, "--runroot") == 0 ? 2 : 1;
		} else if (strcmp(p, "--") == 0) {
			return NULL;
		} else if (p[0] != '-') {
			*rest = p + strlen(p) + 1;
			return p;
		} else if (strncmp(p, "--runroot=", 10) == 0) {
			*runroot = p + 10;
		}
	}
	return NULL;
}

// command_is_check reports whether this is `sandbox [GLOBAL FLAGS] check`.
static int command_is_check(void) {
	const char *rest, *runroot;
	const char *cmd = sandbox_hook_command(args_after_argv0(), cmdline_end, &rest, &runroot);
	return cmd && strcmp(cmd, "check") == 0;
}

// join_keeper joins the live keeper, or notes that the process is in its
// namespaces already. With may_join 0 it only notes that.
static void join_keeper(int may_join) {
	char path[PATH_MAX + 32], buf[128], cwd[PATH_MAX];
	snprintf(path, sizeof path, "%s/keeper.pid", sandbox_hook_runtime_dir);
	int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
	if (fd < 0) {
		if (errno != ENOENT)
			hook_error("open keeper.pid", errno);
		return;
	}
	struct stat st;
	ssize_t n = -1;
	if (fstat(fd, &st) == 0 && st.st_uid == sandbox_hook_host_uid)
		n = read(fd, buf, sizeof buf - 1);
	close(fd);
	if (n <= 0) {
		hook_error("read keeper.pid", n < 0 ? EPERM : EINVAL);
		return;
	}
	buf[n] = 0;
	long pid;
	unsigned long long start;
	if (sscanf(buf, "%ld %llu", &pid, &start) != 2 || pid <= 0) {
		hook_error("parse keeper.pid", EINVAL);
		return;
	}
	// Open first, then check the start time: the descriptors are then known
	// to belong to the keeper even if the pid has been reused since.
	int pidfd = syscall(SYS_pidfd_open, pid, 0);
	int userfd = -1, mntfd = -1;
	snprintf(path, sizeof path, "/proc/%ld/ns/user", pid);
	userfd = open(path, O_RDONLY | O_CLOEXEC);
	if (pidfd < 0) {
		snprintf(path, sizeof path, "/proc/%ld/ns/mnt", pid);
		mntfd = open(path, O_RDONLY | O_CLOEXEC);
	}
	if (proc_start_time(pid) != start || userfd < 0 || (pidfd < 0 && mntfd < 0)) {
		hook_error("keeper is gone", ESRCH);
		goto out;
	}
	// A process started from inside (by a library re-executing itself) is
	// there already.
	struct stat ours, theirs;
	if (stat("/proc/self/ns/user", &ours) == 0 && fstat(userfd, &theirs) == 0 &&
	    ours.st_dev == theirs.st_dev && ours.st_ino == theirs.st_ino) {
		sandbox_hook_state = HOOK_INHERITED;
		goto out;
	}
	if (!may_join) {
		sandbox_hook_skipped = 1;
		goto out;
	}
	if (!getcwd(cwd, sizeof cwd))
		cwd[0] = 0;
	int rc;
	if (pidfd >= 0) {
		rc = setns(pidfd, CLONE_NEWUSER | CLONE_NEWNS);
	} else {
		rc = setns(userfd, CLONE_NEWUSER);
		if (rc == 0)
			rc = setns(mntfd, CLONE_NEWNS);
	}
	if (rc < 0) {
		hook_error("join keeper namespaces", errno);
		goto out;
	}
	// Joining a mount namespace moves the working directory to its root.
	if (cwd[0] && chdir(cwd) < 0 && chdir("/") < 0)
		hook_error("return to working directory", errno);
	sandbox_hook_state = HOOK_JOINED;
out:
	if (pidfd >= 0)
		close(pidfd);
	if (userfd >= 0)
		close(userfd);
	if (mntfd >= 0)
		close(mntfd);
}

const char *sandbox_self_exe(void) {
	static char exe[SANDBOX_PATH_MAX];
	static int state; // 0 not read yet, 1 read, -1 unreadable
	if (state == 0) {
		ssize_t n = readlink("/proc/self/exe", exe, sizeof exe - 1);
		state = n > 0 ? 1 : -1;
		if (n > 0)
			exe[n] = 0;
	}
	return state > 0 ? exe : NULL;
}

// cloexec_inherited marks every descriptor above 2 close-on-exec.
static void cloexec_inherited(void) {
	if (syscall(SYS_close_range, 3, ~0U, CLOSE_RANGE_CLOEXEC) == 0)
		return;
	for (int fd = 3; fd < 1024; fd++)
		fcntl(fd, F_SETFD, FD_CLOEXEC);
}

// Priority 101: before every other constructor of sandbox (internal/nproc
// runs at 102, in the namespaces joined here).
__attribute__((constructor(101))) static void sandbox_hook(void) {
	const char *role = getenv("_SANDBOX_ROLE");
	if (role && strcmp(role, "keeper") == 0)
		keeper_main();
	// One malloc arena for every thread. The Go runtime starts each of its
	// threads through the C library when cgo is linked, and the first
	// free() of a new thread (of the runtime's start-up record) gives it
	// an arena of its own: a 64 MiB mapping made, trimmed and protected,
	// and its first pages faulted in. For the six arenas of a run's
	// command that was 17 system calls and 15 page faults, about 0.2 ms
	// here. The C code here and the runtime's thread starts allocate
	// little, and rarely at once.
	mallopt(M_ARENA_MAX, 1);
	while (sandbox_hook_inherited_fds < 1024 && fcntl(3 + sandbox_hook_inherited_fds, F_GETFD) >= 0)
		sandbox_hook_inherited_fds++;
	cloexec_inherited();

	sandbox_hook_host_uid = getuid();
	sandbox_hook_host_gid = getgid();
	const char *uid = getenv("_SANDBOX_HOST_UID");
	const char *gid = getenv("_SANDBOX_HOST_GID");
	if (getenv("_SANDBOX_IN_KEEPER") && uid && gid) {
		sandbox_hook_host_uid = strtoul(uid, NULL, 10);
		sandbox_hook_host_gid = strtoul(gid, NULL, 10);
		runtime_dir();
		sandbox_hook_state = HOOK_INHERITED;
	} else {
		runtime_dir();
		read_cmdline();
		// First: a run that waits for its turn has done nothing yet.
		sandbox_start_turn(args_after_argv0(), cmdline_end);
		join_keeper(!command_is_check());
		if (sandbox_hook_state == HOOK_JOINED) {
			sandbox_short_exec(cmdline, cmdline_end, cmdline_whole);
			sandbox_early_monitor(args_after_argv0(), cmdline_end);
		}
	}
	// Last: neither the short exec way (another binary) nor the early
	// monitor (another process) waits for it.
	sandbox_prefault_self();
}
