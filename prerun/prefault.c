// Mapping the command's own code ahead of its use (sandbox_prefault_self).
//
// A process of the sandbox binary runs through much of its 14 MiB before
// it has done anything: the Go runtime's start, 120 package inits, the
// command tree. The kernel maps a static binary's pages in windows of
// 64 KiB around each page touched, one page fault each; on a
// paravirtualized machine a fault costs 11-17 us, and `sandbox --version`
// took 110-130 of them in the binary's code and constant data.
// MADV_POPULATE_READ maps every page of those segments from the page
// cache in one call, at about 0.1 us a page (0.4-0.5 ms for the whole
// binary there). The pages are the file's own, clean and shared with
// every other process of the binary: what it costs is resident size
// (RssFile), not memory.
//
// Only the sandbox binary does it: its processes are the commands, short
// lived. The service and the helpers are left as they are: the service
// lives long, and its resident size would show the whole binary.
#define _GNU_SOURCE
#include <link.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "hook.h"

#ifndef MADV_POPULATE_READ
#define MADV_POPULATE_READ 22 // Linux 5.14; older kernels say EINVAL
#endif

// populate_read_only advises MADV_POPULATE_READ for every loaded segment
// of the executable that is not writable: code and constant data. A
// writable segment is left alone (populating it would map the file's pages
// only to copy them at the first write). Advice only: a failure costs
// nothing but the faults it would have saved.
static int populate_read_only(struct dl_phdr_info *info, size_t size, void *data) {
	(void)size;
	(void)data;
	long page = sysconf(_SC_PAGESIZE);
	for (int i = 0; i < info->dlpi_phnum; i++) {
		const ElfW(Phdr) *ph = &info->dlpi_phdr[i];
		if (ph->p_type != PT_LOAD || (ph->p_flags & PF_W))
			continue;
		uintptr_t start = (info->dlpi_addr + ph->p_vaddr) & ~(uintptr_t)(page - 1);
		uintptr_t end = info->dlpi_addr + ph->p_vaddr + ph->p_memsz;
		if (end > start)
			madvise((void *)start, end - start, MADV_POPULATE_READ);
	}
	return 1; // the first object is the executable: stop there
}

void sandbox_prefault_self(void) {
	const char *exe = sandbox_self_exe();
	if (!exe)
		return;
	const char *base = strrchr(exe, '/');
	if (strcmp(base ? base + 1 : exe, "sandbox") != 0)
		return;
	dl_iterate_phdr(populate_read_only, NULL);
}
