/* Cursors over a block request's buffers (iovecs) for the format drivers:
 * advance, split off, fill from a host buffer, read or write a host file. */
#include "devices/block/block_driver.h"
#include "hypervisor/fileio.h"

#include <errno.h>
#include <string.h>
#include <sys/uio.h>

/* At most this many iovecs go to one preadv/pwritev. */
#define IOV_BATCH 64

void block_iov_advance(struct block_iov *c, uint64_t len)
{
	while (len && c->i < c->niov) {
		size_t room = c->iov[c->i].iov_len - c->skip;
		if (room > len) {
			c->skip += (size_t)len;
			return;
		}
		len -= room;
		c->i++;
		c->skip = 0;
	}
}

unsigned block_iov_take(struct block_iov *c, uint64_t len, struct iovec *out, unsigned max)
{
	unsigned k = 0;
	while (len && c->i < c->niov && k < max) {
		size_t room = c->iov[c->i].iov_len - c->skip;
		size_t t = room < len ? room : (size_t)len;
		if (t) {
			out[k].iov_base = (char *)c->iov[c->i].iov_base + c->skip;
			out[k].iov_len = t;
			k++;
		}
		c->skip += t;
		len -= t;
		if (c->skip == c->iov[c->i].iov_len) {
			c->i++;
			c->skip = 0;
		}
	}
	return k;
}

void block_iov_fill(struct block_iov *c, const void *buf, uint64_t len)
{
	const uint8_t *src = buf;
	struct iovec one;
	while (len && block_iov_take(c, len, &one, 1)) {
		if (src) {
			memcpy(one.iov_base, src, one.iov_len);
			src += one.iov_len;
		} else {
			memset(one.iov_base, 0, one.iov_len);
		}
		len -= one.iov_len;
	}
}

int block_iov_file(int fd, struct block_iov *c, uint64_t len, uint64_t off, bool write)
{
	struct iovec batch[IOV_BATCH];
	while (len) {
		unsigned n = block_iov_take(c, len, batch, IOV_BATCH);
		if (!n)
			return -EINVAL;
		uint64_t done = 0;
		for (unsigned i = 0; i < n; i++)
			done += batch[i].iov_len;
		int r = file_prw_iov_all(fd, batch, (int)n, off, write);
		if (r < 0)
			return r == -ENODATA ? -EIO : r; /* a block past the end of the file */
		off += done;
		len -= done;
	}
	return 0;
}
