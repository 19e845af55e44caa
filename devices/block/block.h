/* The block layer: one asynchronous interface to disk images for every disk
 * model (IDE, later virtio-blk), with format drivers (raw now; VHDX, VHD,
 * qcow2 later) below it. */
#ifndef OSIO_BLOCK_H
#define OSIO_BLOCK_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/uio.h>

/* Offsets and lengths of requests are multiples of this. */
#define BLOCK_SECTOR 512u

enum block_open_flags {
	BLOCK_RDONLY = 1u << 0, /* no writes, discards or write-zeroes; a shared lock */
};

enum block_op {
	BLOCK_OP_READ,	       /* iov <- [offset, offset + iov bytes) */
	BLOCK_OP_WRITE,	       /* iov -> [offset, offset + iov bytes) */
	BLOCK_OP_FLUSH,	       /* everything written before is on stable storage */
	BLOCK_OP_DISCARD,      /* [offset, offset + len) may read back as anything */
	BLOCK_OP_WRITE_ZEROES, /* [offset, offset + len) reads back as zeroes */
};

struct block_dev;
struct block_req;

/* status is 0 or -errno (-EIO, -ENOSPC, -EINVAL for a bad request, -EROFS
 * for a write to a read-only open, ...). May be called before block_submit
 * returns, or later on another thread; the request belongs to the caller
 * again as soon as it is called. It may submit another request but must not
 * close the device. */
typedef void (*block_done_fn)(struct block_req *req, int status);

struct block_req {
	enum block_op op;
	uint64_t offset; /* bytes */
	/* Read and write: host buffers, in order; they must stay valid until
	 * done is called. Sizes of single entries need not be multiples of
	 * BLOCK_SECTOR, their sum must. */
	const struct iovec *iov;
	unsigned niov;
	uint64_t len; /* discard, write-zeroes: bytes; read, write: set by block_submit */
	block_done_fn done;
	void *opaque; /* the caller's */

	/* The block layer's own. */
	struct block_dev *bd;
	struct block_req *next;
};

/* Opens an image. format: "raw", or NULL to recognize it (only raw images
 * exist for now). A read-write open takes an exclusive advisory lock on the
 * image and a read-only open a shared one, so two VMs cannot write one image,
 * nor one read it while another writes it. Returns 0 or -errno; on error
 * `err` (errlen bytes, may be NULL) says what is wrong in words that name the
 * file and, for a lock, the process holding it when that can be found out,
 * without a trailing newline. */
int block_open(const char *path, const char *format, unsigned flags, struct block_dev **out,
	       char *err, size_t errlen);
/* Waits for requests in flight, then closes. NULL is ignored. */
void block_close(struct block_dev *bd);

/* Size in bytes (a multiple of BLOCK_SECTOR: a trailing partial sector of
 * a raw file is not part of the device). */
uint64_t block_size(const struct block_dev *bd);
bool block_readonly(const struct block_dev *bd);
const char *block_path(const struct block_dev *bd);
const char *block_format(const struct block_dev *bd);

/* Starts a request; req->done is always called exactly once with its
 * status, also for a request refused at once (out of range, unaligned,
 * writing a read-only device). */
void block_submit(struct block_dev *bd, struct block_req *req);
/* Waits until every request submitted so far has completed. Not from a
 * done callback. */
void block_drain(struct block_dev *bd);

/* Synchronous helpers on top of block_submit (for tools and tests):
 * 0 or -errno. */
int block_pread(struct block_dev *bd, void *buf, size_t len, uint64_t offset);
int block_pwrite(struct block_dev *bd, const void *buf, size_t len, uint64_t offset);
int block_flush(struct block_dev *bd);

#endif
