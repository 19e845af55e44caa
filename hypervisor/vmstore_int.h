/* Shared by the VM store's two halves: vmstore.c (names, locks, the
 * worker's claim) and vmstore_info.c (what osio list shows). */
#ifndef OSIO_VMSTORE_INT_H
#define OSIO_VMSTORE_INT_H

#include <stdint.h>
#include <time.h>

#define PATH_BUF 4096

/* This boot of the host (/proc/sys/kernel/random/boot_id), "unknown" when
 * it cannot be read. */
void vmstore_boot_id(char out[40]);
uint64_t vmstore_now_ns(clockid_t clk);
/* 1 when fd is still the file at path, 0 when that was removed or
 * replaced, -errno. */
int vmstore_same_file(int fd, const char *path);

#endif
