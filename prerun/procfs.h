// procfs.h: reading /proc before any runtime exists, and the system calls
// an older C library may lack, shared by the pre-runtime hook (hook.c) and
// sandbox-nsenter (cmd/sandbox-nsenter).
#ifndef SANDBOX_PROCFS_H
#define SANDBOX_PROCFS_H

#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>

#ifndef SYS_pidfd_open
#define SYS_pidfd_open 434
#endif
#ifndef SYS_close_range
#define SYS_close_range 436
#endif
#ifndef CLOSE_RANGE_CLOEXEC
#define CLOSE_RANGE_CLOEXEC (1U << 2)
#endif

// read_small reads at most size-1 bytes of the file at path into buf and
// ends them with a NUL; it returns how many it read, or -1.
static ssize_t read_small(const char *path, char *buf, size_t size) {
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -1;
	ssize_t n = read(fd, buf, size - 1);
	close(fd);
	if (n < 0)
		return -1;
	buf[n] = 0;
	return n;
}

// proc_start_time reads field 22 of /proc/PID/stat (the start time, which
// tells a process from a later one with its pid), or 0.
static unsigned long long proc_start_time(long pid) {
	char path[64], buf[1024];
	snprintf(path, sizeof path, "/proc/%ld/stat", pid);
	if (read_small(path, buf, sizeof buf) <= 0)
		return 0;
	// The command name may hold spaces and parentheses: count from the last ')'.
	char *p = strrchr(buf, ')');
	if (!p)
		return 0;
	p++;
	for (int field = 3; field < 22 && p; field++)
		p = strchr(p + 1, ' ');
	return p ? strtoull(p + 1, NULL, 10) : 0;
}

#endif
