// The short way of `sandbox exec`: the hook, once it has joined the
// keeper's namespaces, executes sandbox-exec (cmd/sandbox-exec) in this
// process's place, a small static binary that runs an exec without the
// whole command's start (its store, its package inits), for `sandbox
// [GLOBAL FLAGS] exec ...`: sandbox-exec gets the arguments as they are
// (it takes the global flags it knows, and leaves the rest to sandbox),
// and an environment that says what the
// hook found: the keeper's namespaces joined (userns.ChildEnv's
// variables, so that sandbox executed again from there joins nothing and
// comes back to no short way), and in _SANDBOX_COMMAND this executable,
// which sandbox-exec executes for every exec it does not take.
#define _GNU_SOURCE
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "hook.h"

extern char **environ;

void sandbox_short_exec(const char *cmdline, const char *end, int whole) {
	if (!whole || cmdline >= end)
		return;
	const char *rest, *run_root;
	const char *cmd = sandbox_hook_command(cmdline + strlen(cmdline) + 1, end, &rest, &run_root);
	if (!cmd || strcmp(cmd, "exec") != 0)
		return;
	char binary[SANDBOX_PATH_MAX];
	const char *self = sandbox_self_exe();
	if (!self || sandbox_find_helper("sandbox-exec", binary, sizeof binary) < 0)
		return;

	size_t argc = 0, envc = 0;
	for (const char *p = cmdline; p < end; p += strlen(p) + 1)
		argc++;
	for (char **e = environ; *e; e++)
		envc++;
	enum { OURS = 7 };
	char **argv = calloc(argc + 1, sizeof *argv);
	char **envp = calloc(envc + OURS + 1, sizeof *envp);
	static char env_rt[SANDBOX_PATH_MAX + 32], env_uid[48], env_gid[48], env_rootless[48], env_cmd[SANDBOX_PATH_MAX + 32];
	if (!argv || !envp)
		goto out;
	size_t i = 0;
	for (const char *p = cmdline; p < end; p += strlen(p) + 1)
		argv[i++] = (char *)p;
	snprintf(env_rt, sizeof env_rt, "_SANDBOX_RUNTIME_DIR=%s", sandbox_hook_runtime_dir);
	snprintf(env_uid, sizeof env_uid, "_SANDBOX_HOST_UID=%u", sandbox_hook_host_uid);
	snprintf(env_gid, sizeof env_gid, "_SANDBOX_HOST_GID=%u", sandbox_hook_host_gid);
	snprintf(env_rootless, sizeof env_rootless, "_CONTAINERS_ROOTLESS_UID=%u", sandbox_hook_host_uid);
	snprintf(env_cmd, sizeof env_cmd, "_SANDBOX_COMMAND=%s", self);
	// Ours first: a variable set twice is read as its first (Go and glibc).
	char *ours[OURS] = {"_SANDBOX_IN_KEEPER=1", env_rt, env_uid, env_gid, "_CONTAINERS_USERNS_CONFIGURED=1", env_rootless, env_cmd};
	size_t j = 0;
	for (; j < OURS; j++)
		envp[j] = ours[j];
	for (char **e = environ; *e; e++)
		envp[j++] = *e;
	execve(binary, argv, envp);
	// Not executed: this process goes on as the whole command.
out:
	free(argv);
	free(envp);
}
