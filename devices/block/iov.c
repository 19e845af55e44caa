/* Cursors over a block request's buffers (iovecs) for the format drivers:
 * advance, split off, fill from a host buffer, read or write a host file. */
#include "devices/block/block_driver.h"

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
		struct block_iov peek = *c;
		unsigned n = block_iov_take(&peek, len, batch, IOV_BATCH);
		if (!n)
			return -EINVAL;
		ssize_t done = write ? pwritev(fd, batch, (int)n, (off_t)off)
				     : preadv(fd, batch, (int)n, (off_t)off);
		if (done < 0) {
			if (errno == EINTR)
				continue;
			return -errno;
		}
		if (done == 0)
			return -EIO; /* a block past the end of the file */
		block_iov_advance(c, (uint64_t)done);
		off += (uint64_t)done;
		len -= (uint64_t)done;
	}
	return 0;
}
