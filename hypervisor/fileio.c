/* Whole-length reads and writes (fileio.h): EINTR and short transfers are
 * carried on from where they stopped; zero-filling and whole small files. */
#include "hypervisor/fileio.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

#define ZERO_CHUNK (64u * 1024) /* the buffer of zeroes file_pwrite_zeroes writes */

int file_pread_all(int fd, void *buf, size_t len, uint64_t off)
{
	uint8_t *p = buf;

	while (len) {
		ssize_t n = pread(fd, p, len, (off_t)off);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			return -errno;
		}
		if (n == 0)
			return -ENODATA;
		p += n;
		len -= (size_t)n;
		off += (uint64_t)n;
	}
	return 0;
}

int file_pwrite_all(int fd, const void *buf, size_t len, uint64_t off)
{
	const uint8_t *p = buf;

	while (len) {
		ssize_t n = pwrite(fd, p, len, (off_t)off);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			return -errno;
		}
		if (n == 0)
			return -EIO;
		p += n;
		len -= (size_t)n;
		off += (uint64_t)n;
	}
	return 0;
}

int file_write_all(int fd, const void *buf, size_t len)
{
	const uint8_t *p = buf;

	while (len) {
		ssize_t n = write(fd, p, len);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			return -errno;
		}
		if (n == 0)
			return -EIO;
		p += n;
		len -= (size_t)n;
	}
	return 0;
}

int file_prw_iov(int fd, struct iovec *iov, int n, uint64_t off, bool write, uint64_t *done)
{
	struct iovec *cut = NULL, saved; /* the entry advanced in part, as it was */
	uint64_t total = 0;
	int r = 0;

	for (;;) {
		/* Empty buffers, skipped: a transfer of nothing then says the end. */
		while (n > 0 && !iov->iov_len) {
			iov++;
			n--;
		}
		if (n <= 0)
			break;
		int batch = n > IOV_MAX ? IOV_MAX : n;
		ssize_t k = write ? pwritev(fd, iov, batch, (off_t)off)
				  : preadv(fd, iov, batch, (off_t)off);
		if (k < 0) {
			if (errno == EINTR)
				continue;
			r = -errno;
			break;
		}
		if (k == 0) {
			r = write ? -EIO : -ENODATA;
			break;
		}
		total += (uint64_t)k;
		off += (uint64_t)k;
		/* Past the buffers done, into the one done in part. */
		while (n > 0 && (size_t)k >= iov->iov_len) {
			k -= (ssize_t)iov->iov_len;
			if (iov == cut) {
				*iov = saved;
				cut = NULL;
			}
			iov++;
			n--;
		}
		if (n > 0 && k > 0) {
			if (cut != iov) {
				saved = *iov;
				cut = iov;
			}
			iov->iov_base = (uint8_t *)iov->iov_base + k;
			iov->iov_len -= (size_t)k;
		}
	}
	if (cut)
		*cut = saved;
	if (done)
		*done = total;
	return r;
}

int file_prw_iov_all(int fd, struct iovec *iov, int n, uint64_t off, bool write)
{
	return file_prw_iov(fd, iov, n, off, write, NULL);
}

int file_pwrite_zeroes(int fd, uint64_t off, uint64_t len)
{
	static const uint8_t zeroes[ZERO_CHUNK];

	while (len) {
		size_t n = len < ZERO_CHUNK ? (size_t)len : ZERO_CHUNK;
		int r = file_pwrite_all(fd, zeroes, n, off);
		if (r < 0)
			return r;
		off += n;
		len -= n;
	}
	return 0;
}

int file_read_whole_fd(int fd, size_t max, char **out, size_t *len)
{
	struct stat st;
	size_t size = 4096, got = 0; /* size: of buf, with room for the NUL */
	char *buf = NULL;
	int r = 0;

	*out = NULL;
	*len = 0;
	if (max > SSIZE_MAX - 2)
		max = SSIZE_MAX - 2;
	if (fstat(fd, &st) < 0)
		return -errno;
	if (S_ISREG(st.st_mode)) {
		if ((uint64_t)st.st_size > max)
			return -EFBIG;
		if (st.st_size > 0)		       /* /proc's are 0 */
			size = (size_t)st.st_size + 2; /* a read of one more shows the end */
	}
	if (size > max + 2)
		size = max + 2;
	buf = malloc(size);
	if (!buf)
		return -ENOMEM;
	/* Up to max + 1 bytes: one past max says the file is too large. */
	for (;;) {
		if (got == size - 1) {
			if (got > max) {
				r = -EFBIG;
				goto fail;
			}
			size_t bigger = size > (max + 2) / 2 ? max + 2 : size * 2;
			char *p = realloc(buf, bigger);
			if (!p) {
				r = -ENOMEM;
				goto fail;
			}
			buf = p;
			size = bigger;
		}
		ssize_t k = read(fd, buf + got, size - 1 - got);
		if (k < 0) {
			if (errno == EINTR)
				continue;
			r = -errno;
			goto fail;
		}
		if (k == 0)
			break;
		got += (size_t)k;
	}
	buf[got] = '\0';
	*out = buf;
	*len = got;
	return 0;
fail:
	free(buf);
	return r;
}

int file_read_whole(const char *path, size_t max, char **out, size_t *len)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC);

	if (fd < 0) {
		*out = NULL;
		*len = 0;
		return -errno;
	}
	int r = file_read_whole_fd(fd, max, out, len);
	close(fd);
	return r;
}
