/* Whole-length I/O on a file descriptor: reads and writes (positional, plain
 * and vectored, or at the file's position) that go on after EINTR and short
 * transfers until every byte is done, for the disk image drivers, saved-state
 * files and whatever else must not stop halfway. */
#ifndef OSIO_FILEIO_H
#define OSIO_FILEIO_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/uio.h>

/* Reads len bytes at off: 0, -ENODATA when the file ends first (some bytes
 * may have been read), or -errno. */
int file_pread_all(int fd, void *buf, size_t len, uint64_t off);

/* Writes len bytes at off: 0, -EIO when the file takes no more (a write of
 * nothing), or -errno. */
int file_pwrite_all(int fd, const void *buf, size_t len, uint64_t off);

/* Writes len bytes at the file's position (a pipe, a socket, a file opened
 * for appending): 0, -EIO for a write of nothing, or -errno. */
int file_write_all(int fd, const void *buf, size_t len);

/* The n buffers of iov to (write) or from consecutive file bytes at off,
 * all of them, with file_pwrite_all's and file_pread_all's results. The
 * entries of iov may change: one that a short transfer ends in is advanced
 * past what was done. */
int file_prw_iov_all(int fd, struct iovec *iov, int n, uint64_t off, bool write);

#endif
