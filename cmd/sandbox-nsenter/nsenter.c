// sandbox-nsenter is the process that `sandbox exec` puts into a running
// container. It is a small static C program, started by the sandbox command
// from a sealed memfd copy (so that nothing in the container can reach a
// host file through /proc/PID/exe), with an empty environment, and with
// four descriptors: 0-2 (pipes of the relaying command, or /dev/null) and
// 3, a stream socket to the relaying command. No Go runtime ever runs
// inside a container's namespaces: every step from the join to the
// execve is here, in order, each with what it protects against.
//
// Protocol on fd 3 (all integers in the host's byte order):
//
//	command -> nsenter   u32 length, then that many bytes of records:
//	                     u16 type, u16 zero, u32 length, data (see enum req)
//	nsenter -> command   messages of u8 kind, u32 length, data:
//	                     'C' u32: the pid of the process that will exec,
//	                          as the command sees it (from the intermediate)
//	                     'P' with the terminal's master end (SCM_RIGHTS)
//	                     'X': about to exec; wait for one byte back (the
//	                          command moves the process into the cgroup)
//	                     'E' u8 status, text: why it could not start
//	                     end of file: the command was exec'd (CLOEXEC)
//
// Steps of the intermediate (this process):
//
//  1. non-dumpable, from the first instruction: its /proc files belong to
//     root and nothing in the container may ptrace it or open its
//     /proc/PID/{exe,fd,environ,root} (ptrace_may_access);
//  2. every descriptor above 3 closed: nothing of the caller's reaches the
//     container (the CVE-2024-21626 class);
//  3. the request read; the target checked by its start time after its
//     namespaces are opened (a reused pid is never entered);
//  4. every namespace joined at once (user first), the pid namespace for
//     the children: the mount namespace is joined before the fork, so the
//     child is never visible in the container with the host's root;
//  5. fork; the intermediate, outside the container's pid namespace,
//     forwards signals and exits with the child's status.
//
// Steps of the child, now inside every namespace of the container:
//
//  6. a session of its own; the terminal from the container's /dev/pts
//     (its master end to the command), or /dev/null where no stream is
//     wanted;
//  7. working directory (resolved inside the container's root: the mount
//     namespace's root is the container's);
//  8. bounding set cut, groups, gid, uid (keep-caps until the end);
//  9. the command found in the container's PATH, as the user;
// 10. the cgroup: the command moves this process into the container's
//     cgroup while it waits;
// 11. no_new_privs if asked; the seccomp filter (with no_new_privs off it
//     needs CAP_SYS_ADMIN, so it is loaded before the last capability
//     change, which the profile allows); capabilities as asked;
// 12. resource limits (--ulimit; last, so that a low nproc or nofile
//     cannot fail a step above); ignored signals reset, the signal mask
//     cleared, every descriptor above 2 close-on-exec; execve with the
//     container's environment.
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <linux/capability.h>
#include <linux/filter.h>
#include <linux/seccomp.h>
#include <sched.h>
#include <signal.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/uio.h>
#include <sys/wait.h>
#include <termios.h>
#include <unistd.h>

#include "procfs.h"

#ifndef TIOCGPTPEER
#define TIOCGPTPEER _IO('T', 0x41)
#endif
#ifndef PR_CAP_AMBIENT
#define PR_CAP_AMBIENT 47
#define PR_CAP_AMBIENT_CLEAR_ALL 4
#endif

enum { SYNC_FD = 3 };

// Request record types; keep in step with nsenter/request.go.
enum req {
	REQ_TARGET = 1,   // u64 pid, u64 start time
	REQ_DETACH = 2,   // none
	REQ_ARG = 3,      // string, repeated
	REQ_ENV = 4,      // string, repeated
	REQ_CWD = 5,      // string
	REQ_UID = 6,      // u32
	REQ_GID = 7,      // u32
	REQ_GROUP = 8,    // u32, repeated
	REQ_CAPS = 9,     // u64 mask
	REQ_TERMINAL = 10, // u16 rows, u16 cols
	REQ_STDIN = 11,   // none
	REQ_HOLD = 12,    // none
	REQ_NO_NEW_PRIVS = 13, // none
	REQ_SECCOMP = 14, // struct sock_filter[]
	REQ_RLIMIT = 15,  // u32 resource, u64 soft, u64 hard; repeated
};

#define MAX_REQUEST (16u << 20)
#define MAX_LIST 65536
#define MAX_RLIMITS 32

struct rlim {
	uint32_t resource;
	uint64_t soft, hard;
};

struct request {
	long pid;
	unsigned long long start;
	int detach, terminal, stdin_open, hold, no_new_privs;
	uint16_t rows, cols;
	char **argv, **envp;
	size_t argc, envc;
	const char *cwd;
	uint32_t uid, gid;
	uint32_t *groups;
	size_t ngroups;
	uint64_t caps;
	const struct sock_filter *filter;
	size_t filter_len;
	struct rlim rlimits[MAX_RLIMITS];
	size_t nrlimits;
};

// send_msg writes one message to the command, with fd attached when >= 0.
static int send_msg(char kind, const void *data, uint32_t len, int fd) {
	char hdr[5];
	hdr[0] = kind;
	memcpy(hdr + 1, &len, 4);
	struct iovec iov[2] = {{hdr, 5}, {(void *)data, len}};
	union {
		char buf[CMSG_SPACE(sizeof(int))];
		struct cmsghdr align;
	} u;
	struct msghdr msg = {.msg_iov = iov, .msg_iovlen = len ? 2 : 1};
	if (fd >= 0) {
		memset(&u, 0, sizeof u);
		msg.msg_control = u.buf;
		msg.msg_controllen = sizeof u.buf;
		struct cmsghdr *c = CMSG_FIRSTHDR(&msg);
		c->cmsg_level = SOL_SOCKET;
		c->cmsg_type = SCM_RIGHTS;
		c->cmsg_len = CMSG_LEN(sizeof(int));
		memcpy(CMSG_DATA(c), &fd, sizeof(int));
	}
	ssize_t n;
	do
		n = sendmsg(SYNC_FD, &msg, MSG_NOSIGNAL);
	while (n < 0 && errno == EINTR);
	return n < 0 ? -1 : 0;
}

// fail reports why the process cannot start and ends it with status code.
static void fail(int code, const char *fmt, ...) {
	char text[1024];
	text[0] = (char)code;
	va_list ap;
	va_start(ap, fmt);
	int n = vsnprintf(text + 1, sizeof text - 1, fmt, ap);
	va_end(ap);
	if (n < 0)
		n = 0;
	if (n > (int)sizeof text - 2)
		n = sizeof text - 2;
	if (send_msg('E', text, (uint32_t)n + 1, -1) < 0) {
		// The command is gone: its stderr pipe is all that is left.
		dprintf(2, "sandbox-nsenter: %s\n", text + 1);
	}
	_exit(code);
}

#define FAIL_ERRNO(what, ...) fail(125, what ": %s", ##__VA_ARGS__, strerror(errno))

static void read_full(int fd, void *buf, size_t len) {
	char *p = buf;
	while (len > 0) {
		ssize_t n = read(fd, p, len);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			FAIL_ERRNO("read the request");
		if (n == 0)
			fail(125, "read the request: the command went away");
		p += n;
		len -= (size_t)n;
	}
}

static uint32_t get32(const char *p) {
	uint32_t v;
	memcpy(&v, p, 4);
	return v;
}

static uint64_t get64(const char *p) {
	uint64_t v;
	memcpy(&v, p, 8);
	return v;
}

// dup_str is a NUL-terminated copy of a string record.
static char *dup_str(const char *data, uint32_t len) {
	if (memchr(data, 0, len))
		fail(125, "request: a string holds a NUL byte");
	char *s = malloc((size_t)len + 1);
	if (!s)
		fail(125, "request: out of memory");
	memcpy(s, data, len);
	s[len] = 0;
	return s;
}

// append_str adds a copy of a string record to a NULL-terminated list.
static void append_str(char ***list, size_t *n, const char *data, uint32_t len) {
	if (*n >= MAX_LIST)
		fail(125, "request: too many arguments or variables");
	char **l = realloc(*list, (*n + 2) * sizeof *l);
	if (!l)
		fail(125, "request: out of memory");
	l[(*n)++] = dup_str(data, len);
	l[*n] = NULL;
	*list = l;
}

// want_len checks that a record has the size its type takes.
static void want_len(uint16_t type, uint32_t len, uint32_t want) {
	if (len != want)
		fail(125, "request: record %u has %u bytes, want %u", type, len, want);
}

static void parse_request(struct request *r, const char *buf, uint32_t size) {
	memset(r, 0, sizeof *r);
	r->pid = -1;
	uint32_t off = 0;
	while (off < size) {
		if (size - off < 8)
			fail(125, "request: truncated record header");
		uint16_t type;
		memcpy(&type, buf + off, 2);
		uint32_t len = get32(buf + off + 4);
		off += 8;
		if (len > size - off)
			fail(125, "request: truncated record %u", type);
		const char *d = buf + off;
		off += len;
		switch (type) {
		case REQ_TARGET:
			want_len(type, len, 16);
			r->pid = (long)get64(d);
			r->start = get64(d + 8);
			break;
		case REQ_DETACH:
			r->detach = 1;
			break;
		case REQ_ARG:
			append_str(&r->argv, &r->argc, d, len);
			break;
		case REQ_ENV:
			append_str(&r->envp, &r->envc, d, len);
			break;
		case REQ_CWD:
			r->cwd = dup_str(d, len);
			break;
		case REQ_UID:
			want_len(type, len, 4);
			r->uid = get32(d);
			break;
		case REQ_GID:
			want_len(type, len, 4);
			r->gid = get32(d);
			break;
		case REQ_GROUP: {
			want_len(type, len, 4);
			if (r->ngroups >= MAX_LIST)
				fail(125, "request: too many groups");
			uint32_t *g = realloc(r->groups, (r->ngroups + 1) * sizeof *g);
			if (!g)
				fail(125, "request: out of memory");
			g[r->ngroups++] = get32(d);
			r->groups = g;
			break;
		}
		case REQ_CAPS:
			want_len(type, len, 8);
			r->caps = get64(d);
			break;
		case REQ_TERMINAL:
			want_len(type, len, 4);
			r->terminal = 1;
			memcpy(&r->rows, d, 2);
			memcpy(&r->cols, d + 2, 2);
			break;
		case REQ_STDIN:
			r->stdin_open = 1;
			break;
		case REQ_HOLD:
			r->hold = 1;
			break;
		case REQ_NO_NEW_PRIVS:
			r->no_new_privs = 1;
			break;
		case REQ_SECCOMP:
			if (len == 0 || len % sizeof(struct sock_filter) != 0 || len / sizeof(struct sock_filter) > BPF_MAXINSNS)
				fail(125, "request: a seccomp program of %u bytes", len);
			r->filter = (const struct sock_filter *)d; // buf lives until execve
			r->filter_len = len / sizeof(struct sock_filter);
			break;
		case REQ_RLIMIT:
			want_len(type, len, 20);
			if (r->nrlimits >= MAX_RLIMITS)
				fail(125, "request: too many limits");
			r->rlimits[r->nrlimits].resource = get32(d);
			r->rlimits[r->nrlimits].soft = get64(d + 4);
			r->rlimits[r->nrlimits].hard = get64(d + 12);
			r->nrlimits++;
			break;
		default:
			fail(125, "request: unknown record type %u", type);
		}
	}
	if (r->pid <= 0)
		fail(125, "request: no target process");
	if (r->argc == 0)
		fail(125, "request: no command");
	if (!r->cwd)
		r->cwd = "/";
	if (!r->envp) {
		static char *none[] = {NULL};
		r->envp = none;
	}
}

// The namespaces exec joins, user first; pid last (for the children).
static const struct {
	const char *name;
	int flag;
} namespaces[] = {
	{"user", CLONE_NEWUSER}, {"mnt", CLONE_NEWNS}, {"uts", CLONE_NEWUTS}, {"ipc", CLONE_NEWIPC},
	{"net", CLONE_NEWNET}, {"cgroup", CLONE_NEWCGROUP}, {"pid", CLONE_NEWPID},
};
#define NAMESPACES (sizeof namespaces / sizeof namespaces[0])

// same_ns reports whether this process is in PID's namespace of kind name.
static int same_ns(const char *name, long pid) {
	char path[64];
	struct stat ours, theirs;
	snprintf(path, sizeof path, "/proc/%ld/ns/%s", pid, name);
	if (stat(path, &theirs) < 0)
		return 0;
	snprintf(path, sizeof path, "/proc/self/ns/%s", name);
	if (stat(path, &ours) < 0)
		return 0;
	return ours.st_dev == theirs.st_dev && ours.st_ino == theirs.st_ino;
}

// join enters every namespace of the target that this process is not in
// already: through a pidfd all at once where the kernel has them, else one
// by one, user first.
static void join(const struct request *r) {
	int fds[NAMESPACES], flags = 0;
	int pidfd = (int)syscall(SYS_pidfd_open, r->pid, 0);
	for (size_t i = 0; i < NAMESPACES; i++) {
		fds[i] = -1;
		if (same_ns(namespaces[i].name, r->pid))
			continue;
		flags |= namespaces[i].flag;
		if (pidfd < 0) {
			char path[64];
			snprintf(path, sizeof path, "/proc/%ld/ns/%s", r->pid, namespaces[i].name);
			if ((fds[i] = open(path, O_RDONLY | O_CLOEXEC)) < 0)
				FAIL_ERRNO("open the container's namespaces");
		}
	}
	// Checked after opening: what was opened is the container's.
	if (proc_start_time(r->pid) != r->start)
		fail(125, "the container's process is gone: %s", strerror(ESRCH));
	if (pidfd >= 0) {
		if (flags && setns(pidfd, flags) < 0)
			FAIL_ERRNO("join the container's namespaces");
		close(pidfd);
		return;
	}
	for (size_t i = 0; i < NAMESPACES; i++) {
		if (fds[i] < 0)
			continue;
		if (setns(fds[i], namespaces[i].flag) < 0)
			FAIL_ERRNO("join the container's %s namespace", namespaces[i].name);
		close(fds[i]);
	}
}

static volatile pid_t child_pid;

static void forward_signal(int sig) {
	if (child_pid > 0)
		kill(child_pid, sig);
}

// intermediate waits for the child and ends with its status.
static void intermediate(const struct request *r, pid_t child) {
	uint32_t pid = (uint32_t)child;
	if (send_msg('C', &pid, 4, -1) < 0)
		FAIL_ERRNO("report the process");
	// The child holds the socket until it execs: the command sees end of
	// file then.
	close(SYNC_FD);
	if (r->detach)
		_exit(0);
	child_pid = child;
	int sigs[] = {SIGINT, SIGTERM, SIGHUP, SIGQUIT, SIGUSR1, SIGUSR2};
	struct sigaction sa;
	memset(&sa, 0, sizeof sa);
	sa.sa_handler = forward_signal;
	for (size_t i = 0; i < sizeof sigs / sizeof sigs[0]; i++)
		sigaction(sigs[i], &sa, NULL);
	int status;
	while (waitpid(child, &status, 0) < 0)
		if (errno != EINTR)
			_exit(125);
	_exit(WIFSIGNALED(status) ? 128 + WTERMSIG(status) : WEXITSTATUS(status));
}

// null_streams points the given standard streams at the container's
// /dev/null.
static void null_streams(int from, int to) {
	int null = open("/dev/null", O_RDWR | O_CLOEXEC);
	if (null < 0)
		FAIL_ERRNO("open /dev/null");
	for (int fd = from; fd <= to; fd++)
		if (dup2(null, fd) < 0)
			FAIL_ERRNO("standard streams");
	close(null);
}

// open_terminal opens a terminal from the container's /dev/pts, hands its
// master end to the command, and makes the other end the controlling
// terminal and the standard streams.
static void open_terminal(const struct request *r) {
	int master = open("/dev/ptmx", O_RDWR | O_NOCTTY | O_CLOEXEC);
	if (master < 0)
		FAIL_ERRNO("open /dev/ptmx");
	int unlock = 0;
	if (ioctl(master, TIOCSPTLCK, &unlock) < 0)
		FAIL_ERRNO("unlock terminal");
	// TIOCGPTPEER opens the peer through the master, never by path.
	int peer = ioctl(master, TIOCGPTPEER, O_RDWR | O_NOCTTY);
	if (peer < 0)
		FAIL_ERRNO("open terminal peer");
	if (r->rows && r->cols) {
		struct winsize ws = {.ws_row = r->rows, .ws_col = r->cols};
		if (ioctl(peer, TIOCSWINSZ, &ws) < 0)
			FAIL_ERRNO("set terminal size");
	}
	if (send_msg('P', NULL, 0, master) < 0)
		FAIL_ERRNO("hand over the terminal");
	close(master);
	if (ioctl(peer, TIOCSCTTY, 0) < 0)
		FAIL_ERRNO("set controlling terminal");
	for (int fd = 0; fd <= 2; fd++)
		if (dup2(peer, fd) < 0)
			FAIL_ERRNO("terminal as fd %d", fd);
	if (peer > 2)
		close(peer);
}

static void set_rlimits(const struct request *r) {
	for (size_t i = 0; i < r->nrlimits; i++) {
		struct rlimit l = {.rlim_cur = r->rlimits[i].soft, .rlim_max = r->rlimits[i].hard};
		if (setrlimit((int)r->rlimits[i].resource, &l) < 0)
			FAIL_ERRNO("set limit %u", r->rlimits[i].resource);
	}
}

// The command, found as execvp would but with the container's PATH and
// exit statuses as docker's: 127 when it is nowhere, 126 when it is there
// but cannot be run.
static int executable(const char *path, int *denied) {
	struct stat st;
	if (stat(path, &st) < 0) {
		if (errno != ENOENT && errno != ENOTDIR)
			*denied = errno;
		return 0;
	}
	if (S_ISDIR(st.st_mode)) {
		*denied = EISDIR;
		return 0;
	}
	if (access(path, X_OK) < 0) {
		*denied = EACCES;
		return 0;
	}
	return 1;
}

static const char *env_value(const struct request *r, const char *key) {
	size_t k = strlen(key);
	const char *v = NULL;
	for (size_t i = 0; i < r->envc; i++)
		if (strncmp(r->envp[i], key, k) == 0 && r->envp[i][k] == '=')
			v = r->envp[i] + k + 1;
	return v;
}

static char *find_command(const struct request *r) {
	const char *name = r->argv[0];
	int denied = 0;
	if (strchr(name, '/')) {
		if (executable(name, &denied))
			return (char *)name;
		if (denied == EISDIR)
			fail(126, "exec %s: is a directory", name);
		if (denied)
			fail(126, "exec %s: permission denied", name);
		fail(127, "exec %s: no such file or directory", name);
	}
	const char *path = env_value(r, "PATH");
	if (!path || !*path)
		path = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin";
	static char candidate[4096];
	int first_denied = 0;
	for (const char *p = path;; p++) {
		const char *end = strchrnul(p, ':');
		size_t dl = (size_t)(end - p);
		if (dl == 0)
			snprintf(candidate, sizeof candidate, "./%s", name);
		else
			snprintf(candidate, sizeof candidate, "%.*s/%s", (int)dl, p, name);
		denied = 0;
		if (executable(candidate, &denied))
			return candidate;
		if (denied && !first_denied)
			first_denied = denied;
		if (!*end)
			break;
		p = end;
	}
	if (first_denied == EISDIR)
		fail(126, "exec %s: is a directory", name);
	if (first_denied)
		fail(126, "exec %s: permission denied", name);
	fail(127, "exec %s: executable file not found in $PATH", name);
	return NULL;
}

// set_ids cuts the bounding set and changes to the user and groups,
// keeping the permitted capabilities for the last step.
static void set_ids(const struct request *r) {
	for (int cap = 0;; cap++) {
		int in = prctl(PR_CAPBSET_READ, cap, 0, 0, 0);
		if (in < 0)
			break; // past the kernel's last capability
		if (cap < 64 && (r->caps >> cap) & 1)
			continue;
		if (in && prctl(PR_CAPBSET_DROP, cap, 0, 0, 0) < 0)
			FAIL_ERRNO("limit bounding set");
	}
	if (prctl(PR_SET_KEEPCAPS, 1, 0, 0, 0) < 0)
		FAIL_ERRNO("keep capabilities");
	// With a single-id mapping setgroups(2) is denied for the whole user
	// namespace: the process keeps the groups it has.
	if (syscall(SYS_setgroups, r->ngroups, r->groups) < 0 && errno != EPERM)
		FAIL_ERRNO("set groups");
	if (syscall(SYS_setresgid, r->gid, r->gid, r->gid) < 0)
		fail(125, "set gid %u: %s (is it mapped? see /etc/subgid)", r->gid, strerror(errno));
	if (syscall(SYS_setresuid, r->uid, r->uid, r->uid) < 0)
		fail(125, "set uid %u: %s (is it mapped? see /etc/subuid)", r->uid, strerror(errno));
	if (prctl(PR_SET_KEEPCAPS, 0, 0, 0, 0) < 0)
		FAIL_ERRNO("clear keep-capabilities");
}

static void capset_all(uint64_t effective, uint64_t permitted) {
	struct __user_cap_header_struct hdr = {.version = _LINUX_CAPABILITY_VERSION_3};
	struct __user_cap_data_struct data[2];
	memset(data, 0, sizeof data);
	data[0].effective = (uint32_t)effective;
	data[1].effective = (uint32_t)(effective >> 32);
	data[0].permitted = (uint32_t)permitted;
	data[1].permitted = (uint32_t)(permitted >> 32);
	if (syscall(SYS_capset, &hdr, data) < 0)
		FAIL_ERRNO("set capabilities");
}

static uint64_t permitted_now(void) {
	struct __user_cap_header_struct hdr = {.version = _LINUX_CAPABILITY_VERSION_3};
	struct __user_cap_data_struct data[2];
	if (syscall(SYS_capget, &hdr, data) < 0)
		FAIL_ERRNO("read capabilities");
	return (uint64_t)data[0].permitted | (uint64_t)data[1].permitted << 32;
}

static void load_seccomp(const struct request *r) {
	struct sock_fprog prog = {.len = (unsigned short)r->filter_len, .filter = (struct sock_filter *)r->filter};
	if (syscall(SYS_seccomp, SECCOMP_SET_MODE_FILTER, 0, &prog) < 0)
		FAIL_ERRNO("load the seccomp filter");
}

// finish_privileges: no_new_privs, the filter and the final capabilities,
// in the order that lets each step be taken.
static void finish_privileges(const struct request *r) {
	uint64_t final = r->uid == 0 ? r->caps : 0;
	if (r->no_new_privs) {
		if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0)
			FAIL_ERRNO("set no_new_privs");
		capset_all(final, final);
		if (r->filter)
			load_seccomp(r);
	} else {
		if (r->filter) {
			// A uid change with keep-caps cleared the effective set:
			// raise what is permitted to load the filter.
			uint64_t p = permitted_now();
			capset_all(p, p);
			load_seccomp(r);
		}
		capset_all(final, final);
	}
	if (prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_CLEAR_ALL, 0, 0, 0) < 0 && errno != EINVAL)
		FAIL_ERRNO("clear ambient capabilities");
}

// hold tells the command the process is about to exec and waits for its
// go-ahead: it moves the process into the container's cgroup meanwhile.
static void hold(void) {
	if (send_msg('X', NULL, 0, -1) < 0)
		FAIL_ERRNO("report before exec");
	char b;
	ssize_t n;
	do
		n = read(SYNC_FD, &b, 1);
	while (n < 0 && errno == EINTR);
	if (n <= 0)
		fail(125, "the command of sandbox went away before the command started");
}

// Kernel layout of struct sigaction, for the raw rt_sigaction: signals 32
// and 33, which libc keeps for itself, are reset too.
struct kernel_sigaction {
	void *handler;
	unsigned long flags;
	void *restorer;
	uint64_t mask;
};

static void reset_signals(void) {
	for (int sig = 1; sig <= 64; sig++) {
		if (sig == SIGKILL || sig == SIGSTOP)
			continue;
		struct kernel_sigaction old, dfl;
		memset(&dfl, 0, sizeof dfl);
		if (syscall(SYS_rt_sigaction, sig, NULL, &old, 8) == 0 && old.handler == (void *)SIG_IGN)
			syscall(SYS_rt_sigaction, sig, &dfl, NULL, 8);
	}
	sigset_t none;
	sigemptyset(&none);
	sigprocmask(SIG_SETMASK, &none, NULL);
}

static void cloexec_from(unsigned int fd) {
	if (syscall(SYS_close_range, fd, ~0U, CLOSE_RANGE_CLOEXEC) == 0)
		return;
	struct rlimit l;
	unsigned int max = getrlimit(RLIMIT_NOFILE, &l) == 0 && l.rlim_cur < 1u << 20 ? (unsigned int)l.rlim_cur : 1u << 20;
	for (; fd < max; fd++)
		fcntl((int)fd, F_SETFD, FD_CLOEXEC);
}

static void child(const struct request *r) {
	if (setsid() < 0)
		FAIL_ERRNO("setsid");
	if (r->detach)
		null_streams(0, 2);
	else if (r->terminal)
		open_terminal(r);
	else if (!r->stdin_open)
		null_streams(0, 0);
	if (chdir(r->cwd) < 0)
		fail(125, "change to working directory %s: %s", r->cwd, strerror(errno));
	set_ids(r);
	char *path = find_command(r);
	if (r->hold)
		hold();
	finish_privileges(r);
	set_rlimits(r);
	reset_signals();
	cloexec_from(3);
	execve(path, r->argv, r->envp);
	fail(errno == ENOENT ? 127 : 126, "exec %s: %s", r->argv[0], strerror(errno));
}

int main(void) {
	// 1. Nothing in the container may ptrace this process or open its
	// /proc files, from the first instruction to the execve.
	if (prctl(PR_SET_DUMPABLE, 0, 0, 0, 0) < 0)
		FAIL_ERRNO("set non-dumpable");
	// 2. Nothing of the caller's but the streams and the socket.
	if (syscall(SYS_close_range, SYNC_FD + 1, ~0U, 0) < 0) {
		for (int fd = SYNC_FD + 1; fd < 1024; fd++)
			close(fd);
	}
	// 3. The request.
	char lenbuf[4];
	read_full(SYNC_FD, lenbuf, 4);
	uint32_t size = get32(lenbuf);
	if (size > MAX_REQUEST)
		fail(125, "request of %u bytes", size);
	char *buf = malloc(size ? size : 1);
	if (!buf)
		fail(125, "request: out of memory");
	read_full(SYNC_FD, buf, size);
	struct request r;
	parse_request(&r, buf, size);
	// 4. Every namespace, the pid namespace for the child.
	join(&r);
	// 5. The child is the first process of this exec in the container.
	pid_t pid = fork();
	if (pid < 0)
		FAIL_ERRNO("fork");
	if (pid > 0)
		intermediate(&r, pid);
	child(&r);
	return 125;
}
