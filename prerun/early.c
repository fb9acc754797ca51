// early.c: the monitor of the container that `sandbox run` makes, started
// by the pre-runtime hook instead of by Go.
//
// Why: a container starts once two ways have reached its go-ahead: the
// command's (its Go runtime, its package inits, the store's work) and the
// monitor's, then the init's (two more Go runtime starts, one after the
// other). Spawned from Go, the monitor waits for the command's runtime and
// package inits, about 3.5 ms here, while the machine's other CPU is
// mostly idle; spawned here, its start overlaps them, and the init is
// ready before the command's go-ahead instead of after it about half the
// time.
//
// Known here, before any Go: that the command is run (its command line),
// that the keeper is joined, the run root (--runroot before the command,
// or the runtime directory's default), and the container's run directory
// for an id made here. Not when the command line names --runroot after
// the command, --preserve-fds or --log-driver (other descriptors for the
// monitor), or asks for help, or
// when the process was given descriptors above 2 (--preserve-fds) or
// lacks one of 0-2 (a pipe made here would take its place); nor does
// anything here parse run's own flags. The command adopts this monitor
// only when its own choices agree (container.Runtime.Run, monitor.Adopt):
// same binary, same run directory, no preserved descriptors, no
// passthrough; it decides whether the attach socket is used. Otherwise,
// and when the command ends before it gets that far (a bad flag, --help),
// the monitor finds the end of its options pipe and exits, as one the
// command spawned and abandoned does.
//
// The monitor is started as monitor.Spawn starts one: a session of its
// own, / as its working directory, descriptors 0-2 /dev/null, 3 the sync
// pipe, 4 an attach socket, 5 the go pipe, 6 the options pipe and nothing
// else; the environment that userns.ChildEnv makes, with PATH and
// GOMAXPROCS=1; the command line `sandbox-monitor monitor RUNDIR`. The
// command's ends stay in the sandbox_early_* variables, close-on-exec.
// Whatever fails leaves none, and the command spawns its monitor itself.
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include "hook.h"

// The monitor's pid, 0 when the hook started none; then this process's
// ends of its sync pipe (read), go pipe (write), options pipe (write) and
// attach socket, in this order.
int sandbox_early_pid;
int sandbox_early_fds[4] = {-1, -1, -1, -1};
// The container's id (64 hex digits), its run directory and the monitor's
// binary, as the monitor was started with them.
char sandbox_early_id[65];
char sandbox_early_run_dir[SANDBOX_PATH_MAX];
char sandbox_early_binary[SANDBOX_PATH_MAX];

// default_shape reports whether nothing on the command line after run asks
// for an init of another shape than the monitor's early one
// (monitor.EarlyInit): -i, -t (alone or among other one-letter flags),
// a network other than the container's own (host, container:ID), a user
// namespace or id maps of its own, or a pod. The container's own
// arguments are looked at too: a false alarm only costs the early init.
static int default_shape(const char *rest, const char *end) {
	int network_value = 0; // p is the value of --network or --net
	for (const char *p = rest; p < end; p += strlen(p) + 1) {
		const char *v = NULL;
		if (network_value) {
			network_value = 0;
			v = p;
		} else if (strcmp(p, "--network") == 0 || strcmp(p, "--net") == 0) {
			network_value = 1;
			continue;
		} else if (strncmp(p, "--network=", 10) == 0) {
			v = p + 10;
		} else if (strncmp(p, "--net=", 6) == 0) {
			v = p + 6;
		}
		if (v) {
			if (strcmp(v, "host") == 0 || strncmp(v, "container:", 10) == 0)
				return 0;
			continue;
		}
		if (strncmp(p, "--tty", 5) == 0 || strncmp(p, "--interactive", 13) == 0 || strncmp(p, "--userns", 8) == 0 ||
		    strncmp(p, "--uidmap", 8) == 0 || strncmp(p, "--gidmap", 8) == 0 || strncmp(p, "--subuidname", 12) == 0 ||
		    strncmp(p, "--subgidname", 12) == 0 || strncmp(p, "--pod", 5) == 0)
			return 0;
		if (p[0] == '-' && p[1] != '-' && p[1] != 0 && (strchr(p, 'i') || strchr(p, 't')))
			return 0;
	}
	return 1;
}

// clean_absolute reports whether path is absolute and as Go's
// filepath.Clean leaves it, which is how the command names its run root:
// one that is not is left to Go, and its run directory to compare.
static int clean_absolute(const char *path) {
	size_t n = strlen(path);
	if (path[0] != '/' || (n > 1 && path[n - 1] == '/'))
		return 0;
	for (const char *p = path; *p; p++) {
		if (p[0] != '/')
			continue;
		if (p[1] == '/' || (p[1] == '.' && (p[2] == '/' || p[2] == 0)) ||
		    (p[1] == '.' && p[2] == '.' && (p[3] == '/' || p[3] == 0)))
			return 0;
	}
	return 1;
}

// sandbox_early_plan: the monitor is started early for `sandbox [GLOBAL
// FLAGS] run ...` and `sandbox [GLOBAL FLAGS] container run ...`, with
// none of the flags the monitor's start depends on, and a run root given
// (if one is) as an absolute, clean path.
int sandbox_early_plan(const char *args, const char *end, const char **run_root, int *shape) {
	const char *rest;
	const char *cmd = sandbox_hook_command(args, end, &rest, run_root);
	*shape = 0;
	if (!cmd || (*run_root && !clean_absolute(*run_root)))
		return 0;
	if (strcmp(cmd, "container") == 0) {
		if (rest >= end || strcmp(rest, "run") != 0)
			return 0;
		rest += strlen(rest) + 1;
	} else if (strcmp(cmd, "run") != 0) {
		return 0;
	}
	// Every argument, the container's own too: a false alarm only
	// leaves the spawn to Go.
	for (const char *p = rest; p < end; p += strlen(p) + 1) {
		if (strncmp(p, "--runroot", 9) == 0 || strncmp(p, "--preserve-fds", 14) == 0 ||
		    strncmp(p, "--log-driver", 12) == 0 || strcmp(p, "--help") == 0 || strcmp(p, "-h") == 0)
			return 0;
	}
	*shape = default_shape(rest, end);
	return 1;
}

// sandbox_find_helper finds the helper binary name as internal/helperpath
// does: beside this executable, or in ../libexec/sandbox from it.
int sandbox_find_helper(const char *name, char *out, size_t size) {
	const char *self = sandbox_self_exe();
	char dir[SANDBOX_PATH_MAX];
	if (!self)
		return -1;
	strcpy(dir, self);
	char *slash = strrchr(dir, '/');
	if (!slash || slash == dir)
		return -1;
	*slash = 0;
	const char *forms[] = {"%s/%s", "%s/../libexec/sandbox/%s"};
	for (size_t i = 0; i < sizeof forms / sizeof forms[0]; i++) {
		struct stat st;
		if (snprintf(out, size, forms[i], dir, name) >= (int)size)
			return -1;
		if (stat(out, &st) == 0 && S_ISREG(st.st_mode) && (st.st_mode & 0111))
			return 0;
	}
	return -1;
}

// new_id makes a container id: 32 random bytes in hex, as Go's newID.
static int new_id(char out[65]) {
	unsigned char raw[32];
	if (getrandom(raw, sizeof raw, 0) != (ssize_t)sizeof raw)
		return -1;
	for (size_t i = 0; i < sizeof raw; i++)
		snprintf(out + 2 * i, 3, "%02x", raw[i]);
	return 0;
}

// close_all closes the descriptors of fds that are open.
static void close_all(int *fds, int n) {
	for (int i = 0; i < n; i++)
		if (fds[i] >= 0)
			close(fds[i]);
}

// spawn starts the monitor with posix_spawn, which suspends this process
// until the monitor has executed its binary (a vfork): a child of fork
// was often queued on this process's CPU, behind its Go start, while the
// other CPU idled (1.5-5 ms before its exec, traced with sched_switch);
// at its execve the kernel gives the monitor the idlest CPU. It returns
// the monitor's pid, -1 when it could not start (the binary included).
static pid_t spawn(const int src[7], const char *path, char *const argv[], char *const envp[]) {
	// Every source out of 0-6 first (the copies close on exec), then each
	// into its place: a dup2 into 0-6 is inherited, closefrom the rest.
	int tmp[7];
	for (int i = 0; i < 7; i++)
		tmp[i] = -1;
	pid_t pid = -1;
	posix_spawn_file_actions_t fa;
	posix_spawnattr_t attr;
	if (posix_spawn_file_actions_init(&fa) != 0)
		return -1;
	if (posix_spawnattr_init(&attr) != 0) {
		posix_spawn_file_actions_destroy(&fa);
		return -1;
	}
	int ok = 1;
	for (int i = 0; i < 7 && ok; i++) {
		tmp[i] = fcntl(src[i], F_DUPFD_CLOEXEC, 16);
		ok = tmp[i] >= 0 && posix_spawn_file_actions_adddup2(&fa, tmp[i], i) == 0;
	}
	// Its own session: the monitor outlives the command and its terminal.
	ok = ok && posix_spawn_file_actions_addclosefrom_np(&fa, 7) == 0 &&
	     posix_spawn_file_actions_addchdir_np(&fa, "/") == 0 &&
	     posix_spawnattr_setflags(&attr, POSIX_SPAWN_SETSID) == 0;
	if (ok && posix_spawn(&pid, path, &fa, &attr, argv, envp) != 0)
		pid = -1;
	close_all(tmp, 7);
	posix_spawnattr_destroy(&attr);
	posix_spawn_file_actions_destroy(&fa);
	return pid;
}

void sandbox_early_monitor(const char *args, const char *end) {
	int shape;
	const char *run_root;
	if (sandbox_hook_inherited_fds != 0 || !sandbox_early_plan(args, end, &run_root, &shape))
		return;
	for (int fd = 0; fd < 3; fd++)
		if (fcntl(fd, F_GETFD) < 0)
			return;
	char id[65], binary[SANDBOX_PATH_MAX], run_dir[SANDBOX_PATH_MAX];
	if (sandbox_find_helper("sandbox-monitor", binary, sizeof binary) < 0 || new_id(id) < 0)
		return;
	// The run root is --runroot, or the runtime directory's storage/
	// (cmd/sandbox's storageOptions); the run directories are in its
	// sandbox-containers/ (container.Runtime.RunDirs).
	int n = run_root ? snprintf(run_dir, sizeof run_dir, "%s/sandbox-containers/%s", run_root, id)
			 : snprintf(run_dir, sizeof run_dir, "%s/storage/sandbox-containers/%s", sandbox_hook_runtime_dir, id);
	if (n >= (int)sizeof run_dir)
		return;
	// The environment of userns.ChildEnv, PATH as this process has it, and
	// GOMAXPROCS=1 (monitor.Spawn).
	static char env_rt[SANDBOX_PATH_MAX + 32], env_uid[48], env_gid[48], env_rootless[48], env_path[8192];
	const char *path = getenv("PATH");
	snprintf(env_rt, sizeof env_rt, "_SANDBOX_RUNTIME_DIR=%s", sandbox_hook_runtime_dir);
	snprintf(env_uid, sizeof env_uid, "_SANDBOX_HOST_UID=%u", sandbox_hook_host_uid);
	snprintf(env_gid, sizeof env_gid, "_SANDBOX_HOST_GID=%u", sandbox_hook_host_gid);
	snprintf(env_rootless, sizeof env_rootless, "_CONTAINERS_ROOTLESS_UID=%u", sandbox_hook_host_uid);
	if (snprintf(env_path, sizeof env_path, "PATH=%s", path ? path : "") >= (int)sizeof env_path)
		return;
	// And monitor.EarlyInitEnv: 1 when the init most likely has the early
	// init's shape.
	char *envp[] = {"_SANDBOX_IN_KEEPER=1", env_rt, env_uid, env_gid, "_CONTAINERS_USERNS_CONFIGURED=1", env_rootless, env_path, "GOMAXPROCS=1",
			shape ? "_SANDBOX_EARLY_INIT=1" : "_SANDBOX_EARLY_INIT=0", NULL};
	// argv[0] as monitor.Spawn gives it.
	char *argv[] = {"sandbox-monitor", "monitor", run_dir, NULL};

	// null, sync (r, w), go (r, w), options (r, w), attach (ours, theirs).
	int fds[9] = {-1, -1, -1, -1, -1, -1, -1, -1, -1};
	fds[0] = open("/dev/null", O_RDWR | O_CLOEXEC);
	if (fds[0] < 0 || pipe2(fds + 1, O_CLOEXEC) < 0 || pipe2(fds + 3, O_CLOEXEC) < 0 ||
	    pipe2(fds + 5, O_CLOEXEC) < 0 || socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, fds + 7) < 0) {
		close_all(fds, 9);
		return;
	}
	int src[7] = {fds[0], fds[0], fds[0], fds[2], fds[8], fds[3], fds[5]};
	pid_t pid = spawn(src, binary, argv, envp);
	// The monitor's ends, and /dev/null, are its own now.
	int theirs[] = {fds[0], fds[2], fds[3], fds[5], fds[8]};
	close_all(theirs, 5);
	if (pid < 0) {
		int ours[] = {fds[1], fds[4], fds[6], fds[7]};
		close_all(ours, 4);
		return;
	}
	sandbox_early_fds[0] = fds[1];
	sandbox_early_fds[1] = fds[4];
	sandbox_early_fds[2] = fds[6];
	sandbox_early_fds[3] = fds[7];
	memcpy(sandbox_early_id, id, sizeof id);
	memcpy(sandbox_early_run_dir, run_dir, sizeof run_dir);
	memcpy(sandbox_early_binary, binary, sizeof binary);
	sandbox_early_pid = pid;
}
