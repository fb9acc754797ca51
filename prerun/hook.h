// hook.h: what the pre-runtime hook (hook.c) shares with the early start
// of a container's monitor (early.c).
#ifndef SANDBOX_HOOK_H
#define SANDBOX_HOOK_H

#include <limits.h>

#define SANDBOX_PATH_MAX 4096
_Static_assert(PATH_MAX == SANDBOX_PATH_MAX, "PATH_MAX is not 4096");

extern int sandbox_hook_inherited_fds;
extern unsigned int sandbox_hook_host_uid;
extern unsigned int sandbox_hook_host_gid;
extern char sandbox_hook_runtime_dir[SANDBOX_PATH_MAX];

// sandbox_hook_command returns the command among the arguments from p to
// end (NUL-terminated, as in /proc/self/cmdline, argv[0] left out): the
// first that is neither a global flag nor a global flag's value; and in
// *rest the arguments after it. NULL when there is none, or when "--"
// comes first. *runroot is the value of --runroot given before it, or
// NULL.
const char *sandbox_hook_command(const char *p, const char *end, const char **rest, const char **runroot);

// sandbox_early_monitor starts the monitor of the container that
// `sandbox run` is about to make, when the arguments from args to end
// (as for sandbox_hook_command) allow it (early.c).
void sandbox_early_monitor(const char *args, const char *end);

// sandbox_early_plan tells from those arguments whether the monitor is
// started early (1, else 0), in *run_root the run root it is started for
// (--runroot's value, or NULL for the default), and in *shape whether it
// is asked for an early init (early.c).
int sandbox_early_plan(const char *args, const char *end, const char **run_root, int *shape);

// sandbox_find_helper writes into out the path of the helper binary name
// (sandbox-monitor, sandbox-exec) beside this executable or in
// ../libexec/sandbox from it: 0, or -1 when there is none (early.c).
int sandbox_find_helper(const char *name, char *out, size_t size);

// sandbox_self_exe is this process's executable (/proc/self/exe), read
// once and kept; NULL when it cannot be read (hook.c).
const char *sandbox_self_exe(void);

// sandbox_prefault_self maps the sandbox binary's code and constant data
// in one call, when this process is of that binary (prefault.c).
void sandbox_prefault_self(void);

// sandbox_short_exec executes sandbox-exec in this process's place when
// the command line from cmdline to end (as /proc/self/cmdline holds it,
// argv[0] first; whole: not cut at 4 KiB) is `sandbox [GLOBAL FLAGS] exec
// ...`; it returns when it is not, or when sandbox-exec cannot be
// executed (shortexec.c).
void sandbox_short_exec(const char *cmdline, const char *end, int whole);

// sandbox_start_turn waits for a turn to start a container when the
// arguments from args to end (as for sandbox_hook_command) are `run`: at
// most one start under way per CPU (startslot.c). The turn is held by
// sandbox_start_slot, -1 when the process holds none.
void sandbox_start_turn(const char *args, const char *end);
extern int sandbox_start_slot;
extern long sandbox_start_slot_waited_ms;

// sandbox_take_start_slot takes one of slots turns in dir, waiting up to
// wait_ms when all are taken: the descriptor that holds it, or -1 when it
// has none (startslot.c).
int sandbox_take_start_slot(const char *dir, int slots, int wait_ms);

#endif
