/* Whole-length I/O on a file descriptor: reads and writes (positional, plain
 * and vectored, or at the file's position) that go on after EINTR and short
 * transfers until every byte is done, for the disk image drivers, saved-state
 * files and whatever else must not stop halfway; zero-filling a range and
 * reading a small file whole. */
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

/* The n buffers of iov (any number: IOV_MAX at a time go to the kernel) to
 * (write) or from consecutive file bytes at off, all of them, with
 * file_pwrite_all's and file_pread_all's results; the bytes done, those
 * results or not, in *done (NULL: not wanted). iov is as it was on return
 * (its entries change while it runs). */
int file_prw_iov(int fd, struct iovec *iov, int n, uint64_t off, bool write, uint64_t *done);

/* file_prw_iov without the count of bytes done. */
int file_prw_iov_all(int fd, struct iovec *iov, int n, uint64_t off, bool write);

/* Writes len zero bytes at off as buffers of zeroes (no fallocate): 0 or
 * file_pwrite_all's error. */
int file_pwrite_zeroes(int fd, uint64_t off, uint64_t len);

/* The whole file at path, read to its end whatever its size claims (pipes,
 * /proc), into a malloc'd buffer with a NUL after its *len bytes: 0,
 * -EFBIG for a file of more than max bytes, or -errno (of opening it, or of
 * reading it: -EISDIR for a folder). *out is NULL after an error. */
int file_read_whole(const char *path, size_t max, char **out, size_t *len);

/* file_read_whole of an open descriptor, from its position. */
int file_read_whole_fd(int fd, size_t max, char **out, size_t *len);

#endif
