/* The raw format: the image is the disk, byte for byte, in a regular file or
 * a block device. Requests run as preadv/pwritev/fdatasync/fallocate on the
 * block layer's worker threads; an advisory lock keeps two VMs from opening
 * one image read-write. */
#include "devices/block/block_driver.h"
#include "devices/block/raw_ops.h"
#include "hypervisor/fileio.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdatomic.h>
#include <linux/fs.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <unistd.h>

#define RAW_THREADS 4
#define INLINE_MAX  (256u * 1024) /* largest read copied by the submitter */
#define SPLIT_MIN   (512u * 1024)

struct raw {
	atomic_bool no_nowait; /* preadv2 RWF_NOWAIT is not supported here */
	int fd;
	bool blkdev;
	struct block_pool *pool;
};

/* --- open and close -------------------------------------------------------- */

static int raw_open(struct block_dev *bd, const char *path, unsigned flags, char *err,
		    size_t errlen)
{
	int fd;
	struct stat st;
	int r = block_file_open(bd, path, flags, &fd, &st, err, errlen);
	if (r < 0)
		return r;
	struct raw *raw = calloc(1, sizeof(*raw));
	if (!raw) {
		r = -ENOMEM;
		goto fail;
	}
	raw->pool = block_pool_new(RAW_THREADS);
	if (!raw->pool) {
		free(raw);
		r = -ENOMEM;
		goto fail;
	}
	raw->fd = fd;
	raw->blkdev = S_ISBLK(st.st_mode);
	bd->priv = raw;
	bd->size = (uint64_t)st.st_size;
	return 0;
fail:
	close(fd);
	return r;
}

static void raw_close(struct block_dev *bd)
{
	struct raw *raw = bd->priv;
	block_pool_free(raw->pool);
	close(raw->fd); /* drops the lock */
	free(raw);
}

/* --- the operations, on worker threads ----------------------------------- */

/* A request runs as one piece, or a large read or write as up to
 * RAW_THREADS pieces side by side (copies to and from the page cache, and
 * first touches of guest memory, then use several cores). */
struct raw_req {
	struct raw *raw;
	struct block_req *req;
	atomic_uint running; /* pieces not finished */
	atomic_int status;   /* the first error */
};

/* Bytes [off, off + len) of the image and of the request's buffers, the
 * first of them at skip bytes into buffer i. */
struct raw_piece {
	struct block_work w;
	struct raw_req *rr;
	unsigned i;
	size_t skip;
	uint64_t off, len;
};

/* Reads or writes a piece, IOV_MAX buffers at a time. Reads past the end of
 * the file give zeroes. */
static int rw(struct raw *raw, const struct block_req *req, const struct raw_piece *p, bool write)
{
	struct block_iov c = {.iov = req->iov, .niov = req->niov, .i = p->i, .skip = p->skip};
	uint64_t off = p->off, left = p->len;
	struct iovec batch[IOV_MAX];
	while (left) {
		struct block_iov at = c;
		unsigned n = block_iov_take(&c, left, batch, IOV_MAX);
		if (!n)
			return -EINVAL;
		uint64_t done;
		int r = file_prw_iov(raw->fd, batch, (int)n, off, write, &done);
		if (r == -ENODATA) {
			/* End of file: the rest reads as zeroes. */
			block_iov_advance(&at, done);
			block_iov_fill(&at, NULL, left - done);
			return 0;
		}
		if (r < 0)
			return r;
		off += done; /* all of the batch */
		left -= done;
	}
	return 0;
}

static bool unsupported(int e)
{
	return e == EOPNOTSUPP || e == ENOTTY || e == EINVAL || e == ENOSYS;
}

static int discard(struct raw *raw, uint64_t off, uint64_t len)
{
	int r;
	if (raw->blkdev) {
		uint64_t range[2] = {off, len};
		r = ioctl(raw->fd, BLKDISCARD, range);
	} else {
		r = fallocate(raw->fd, FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE, (off_t)off,
			      (off_t)len);
	}
	/* A discard is a hint: where the storage cannot, nothing happens. */
	if (r < 0 && !unsupported(errno))
		return -errno;
	return 0;
}

static int write_zeroes(struct raw *raw, uint64_t off, uint64_t len)
{
	if (raw->blkdev) {
		uint64_t range[2] = {off, len};
		if (ioctl(raw->fd, BLKZEROOUT, range) == 0)
			return 0;
	} else {
		if (fallocate(raw->fd, FALLOC_FL_ZERO_RANGE | FALLOC_FL_KEEP_SIZE, (off_t)off,
			      (off_t)len) == 0)
			return 0;
		if (unsupported(errno) &&
		    fallocate(raw->fd, FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE, (off_t)off,
			      (off_t)len) == 0)
			return 0;
	}
	if (!unsupported(errno))
		return -errno;
	return file_pwrite_zeroes(raw->fd, off, len);
}

static void piece_run(struct block_work *w)
{
	struct raw_piece *p = (struct raw_piece *)w;
	struct raw_req *rr = p->rr;
	struct raw *raw = rr->raw;
	struct block_req *req = rr->req;
	int r;
	switch (req->op) {
	case BLOCK_OP_READ:
	case BLOCK_OP_WRITE:
		r = rw(raw, req, p, req->op == BLOCK_OP_WRITE);
		break;
	case BLOCK_OP_FLUSH:
		r = fdatasync(raw->fd) < 0 ? -errno : 0;
		break;
	case BLOCK_OP_DISCARD:
		r = discard(raw, req->offset, req->len);
		break;
	case BLOCK_OP_WRITE_ZEROES:
		r = write_zeroes(raw, req->offset, req->len);
		break;
	default:
		r = -EINVAL;
	}
	int none = 0;
	if (r < 0)
		atomic_compare_exchange_strong(&rr->status, &none, r);
	if (atomic_fetch_sub(&rr->running, 1) == 1) {
		block_complete(req, atomic_load(&rr->status));
		free(rr);
	}
}

/* How many pieces a request runs as: large reads and writes in pieces of
 * at least SPLIT_MIN bytes. */
static unsigned piece_count(const struct block_req *req)
{
	if (req->op != BLOCK_OP_READ && req->op != BLOCK_OP_WRITE)
		return 1;
	/* Buffered writes of one file serialize in the file system (the inode
	 * lock): pieces side by side only add hand-offs. */
	uint64_t n = req->op == BLOCK_OP_WRITE ? 1 : req->len / SPLIT_MIN;
	return n < 1 ? 1 : n > RAW_THREADS ? RAW_THREADS : (unsigned)n;
}

/* Cuts the request's buffers into n pieces of about equal size, each a
 * whole number of pages except the last (pieces are at least SPLIT_MIN,
 * so the rounding never leaves the last one empty). */
static void cut(const struct block_req *req, struct raw_piece *p, unsigned n)
{
	uint64_t per = (req->len / n + 4095) & ~(uint64_t)4095;
	unsigned i = 0;
	size_t skip = 0;
	uint64_t pos = 0;
	for (unsigned k = 0; k < n; k++) {
		uint64_t len = k + 1 == n ? req->len - pos : per;
		p[k].i = i;
		p[k].skip = skip;
		p[k].off = req->offset + pos;
		p[k].len = len;
		pos += len;
		/* Walk to where the next piece starts. */
		uint64_t left = len;
		while (left && i < req->niov) {
			size_t room = req->iov[i].iov_len - skip;
			if (room > left) {
				skip += (size_t)left;
				left = 0;
			} else {
				left -= room;
				i++;
				skip = 0;
			}
		}
	}
}

/* A read whose data is all in the page cache is copied at once, in the
 * submitting thread, as io_uring does: no hand-off to a worker and back.
 * Anything else (data to fetch from the disk, a file system without
 * RWF_NOWAIT, a short read at the end of the file) goes to the workers, and
 * so do writes: buffered RWF_NOWAIT writes fail with EAGAIN whenever ext4
 * allocates, which measured slower than the workers (scripts/bench-disk).
 * Large reads go to several workers at once instead. */
static bool read_cached(struct raw *raw, struct block_req *req)
{
	if (req->op != BLOCK_OP_READ || req->len > INLINE_MAX || req->niov > IOV_MAX ||
	    atomic_load_explicit(&raw->no_nowait, memory_order_relaxed))
		return false;
	ssize_t n = preadv2(raw->fd, req->iov, (int)req->niov, (off_t)req->offset, RWF_NOWAIT);
	if (n < 0 && (errno == EOPNOTSUPP || errno == EINVAL))
		atomic_store_explicit(&raw->no_nowait, true, memory_order_relaxed);
	if (n < 0 || (uint64_t)n != req->len)
		return false;
	block_complete(req, 0);
	return true;
}

static void raw_submit(struct block_dev *bd, struct block_req *req)
{
	struct raw *raw = bd->priv;
	if (read_cached(raw, req))
		return;
	unsigned n = piece_count(req);
	struct raw_req *rr = malloc(sizeof(*rr) + n * sizeof(struct raw_piece));
	if (!rr) {
		block_complete(req, -ENOMEM);
		return;
	}
	struct raw_piece *p = (struct raw_piece *)(rr + 1);
	rr->raw = raw;
	rr->req = req;
	atomic_init(&rr->running, n);
	atomic_init(&rr->status, 0);
	if (req->op == BLOCK_OP_READ || req->op == BLOCK_OP_WRITE) {
		cut(req, p, n);
	} else {
		p[0].i = 0;
		p[0].skip = 0;
		p[0].off = req->offset;
		p[0].len = req->len;
	}
	for (unsigned k = 0; k < n; k++) {
		p[k].w.fn = piece_run;
		p[k].rr = rr;
		block_pool_run(raw->pool, &p[k].w);
	}
}

const struct block_driver block_raw_driver = {
    .name = "raw",
    .open = raw_open,
    .close = raw_close,
    .submit = raw_submit,
    .create = raw_create,
    .info = raw_info,
    .resize = raw_resize,
};
