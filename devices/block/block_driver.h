/* What a block format driver (raw, VHDX, VHD, qcow2) implements under
 * block.h, the worker-thread pool drivers run blocking I/O on, and helpers
 * for drivers: host files (block_file_*), parents, check reports. */
#ifndef OSIO_BLOCK_DRIVER_H
#define OSIO_BLOCK_DRIVER_H

#include "devices/block/block.h"
#include "hypervisor/fileio.h"

#include <errno.h>
#include <pthread.h>
#include <stdarg.h>
#include <sys/stat.h>

/* How many bytes of an image's start and end block_open hands to probe. */
#define BLOCK_PROBE_HEAD 4096u
#define BLOCK_PROBE_TAIL 512u
/* Longest parent chain (a deeper one is refused as a likely loop). */
#define BLOCK_MAX_CHAIN 64

struct block_driver {
	const char *name;
	/* How sure the driver is that a file is in its format, from its first
	 * headlen (<= BLOCK_PROBE_HEAD) and last taillen (<= BLOCK_PROBE_TAIL)
	 * bytes (fewer for a short file): 0 not at all, 100 by a magic number.
	 * NULL: never recognized (raw is what no driver claims). */
	int (*probe)(const uint8_t *head, size_t headlen, const uint8_t *tail, size_t taillen);
	/* Opens path; sets bd->size (bytes, any value: the block layer rounds
	 * it down to whole sectors), bd->priv, and bd->logical_sector if not
	 * 512. A format with a parent opens it with block_open_backing. On
	 * error returns -errno and writes one line into err (errlen bytes)
	 * naming the file and the problem. A hostile file (bad magic, tables
	 * overlapping or past the end, absurd sizes) is refused, never trusted. */
	int (*open)(struct block_dev *bd, const char *path, unsigned flags, char *err,
		    size_t errlen);
	/* No request is in flight any more. Writes what must be written for a
	 * clean close (a cleared dirty flag, a log emptied). */
	void (*close)(struct block_dev *bd);
	/* A checked request (in range, aligned, allowed by the open mode) is
	 * run by exactly one of these. submit: the driver ends it with
	 * block_complete, now or later, on any thread. io: runs it
	 * synchronously on one of the device's pool threads and returns its
	 * status; several run at once, so the driver locks its own metadata.
	 * FLUSH returns when data and the metadata that reaches it are on
	 * stable storage (fdatasync of the image, and of the parent never: it
	 * is read-only). */
	void (*submit)(struct block_dev *bd, struct block_req *req);
	int (*io)(struct block_dev *bd, struct block_req *req);

	/* Image-level operations; NULL where the format has none. */
	/* Writes a new, empty image of opts->size bytes into fd (an empty
	 * file just created at path; the block layer removes it on failure).
	 * parent: the opened parent when opts->parent is set (its size is
	 * opts->size), else NULL. */
	int (*create)(int fd, const char *path, const struct block_create_opts *opts,
		      struct block_dev *parent, char *err, size_t errlen);
	/* Fills what the block layer could not (it sets format, virtual_size,
	 * file_size, allocated, logical_sector = physical_sector = 512 first). */
	int (*info)(struct block_dev *bd, struct block_info *info);
	/* Grows the image to size bytes (> bd->size, a multiple of
	 * BLOCK_SECTOR); nothing is in flight. The block layer updates bd->size. */
	int (*resize)(struct block_dev *bd, uint64_t size, char *err, size_t errlen);
	/* Checks (and with repair, fixes) the metadata; counts into res and
	 * reports each problem with block_check_report. Nothing is in flight. */
	int (*check)(struct block_dev *bd, bool repair, struct block_check *res);
	/* Rewrites the parent's name in the differencing image at path (not
	 * open; the driver opens it read-write itself, without its parent) as
	 * name, crash-safe, after checking that parent (open read-only) is the
	 * image the child was made on where the format records that (unless
	 * force). */
	int (*set_parent)(const char *path, const char *name, struct block_dev *parent, bool force,
			  char *err, size_t errlen);
};

struct block_dev {
	const struct block_driver *drv;
	void *priv;
	char *path;
	uint64_t size;
	bool readonly;
	bool probed_raw;	 /* raw because no driver recognized it: see block_submit */
	int probe_fd;		 /* probed_raw: the image, read-only, for the check */
	bool share;		 /* opened with BLOCK_SHARE, and so are its parents */
	/* block_open_fd: the image's descriptor, which the driver's
	 * block_file_open takes instead of opening path (src_given false then). */
	bool src_given;
	int src_fd;
	unsigned logical_sector; /* 512 unless the driver says otherwise */
	dev_t dev;		 /* the image file, for loops in parent chains */
	ino_t ino;

	struct block_dev *backing; /* the parent, closed after drv->close */
	struct block_dev *child;   /* while opening: the image whose parent this is */
	unsigned depth;		   /* 0 for the image the VM opened */
	struct block_pool *pool;   /* runs drv->io */

	pthread_mutex_t lock;
	pthread_cond_t idle;
	unsigned inflight;

	/* I/O counters (block_get_stats), added to atomically as requests
	 * complete. */
	uint64_t st_rd_ops, st_rd_bytes, st_wr_ops, st_wr_bytes, st_flush_ops, st_errors;
	/* Images opened with block_open, for block_for_each_open. */
	struct block_dev *next_open;
	bool listed;
};

/* Opens the parent of bd (recorded in bd's image as `name`; a relative name
 * is relative to the folder bd's file is in) read-only, format NULL to
 * recognize it, and sets bd->backing. Refuses a chain that comes back to an
 * image already in it, or deeper than BLOCK_MAX_CHAIN. For drivers' open. */
int block_open_backing(struct block_dev *bd, const char *name, const char *format, char *err,
		       size_t errlen);

/* Opens path with drv into bd, whose lock, condition and counters are set
 * up (flags as block_open's; child: the image whose parent bd is, or NULL);
 * on failure undoes what it did. block_detach closes what it opened;
 * nothing is in flight. For swapping the images under an open device
 * (block_snapshot, block_unsnapshot). */
int block_attach(struct block_dev *bd, const struct block_driver *drv, const char *path,
		 unsigned flags, struct block_dev *child, char *err, size_t errlen);
void block_detach(struct block_dev *bd);
/* Makes bd, detached, an image that could not be opened again: every
 * request fails with -EIO; path and size stay for messages. */
void block_attach_gone(struct block_dev *bd, const char *path, uint64_t size);

/* Writes one printf-formatted line into err (errlen bytes); nothing when
 * err is NULL or errlen is 0. For drivers' open/create/resize messages. */
void block_set_err(char *err, size_t errlen, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* UTF-8 in to UTF-16 in out (cap bytes), big-endian if be, '/' written
 * as '\\' if backslash (utf16.c); the bytes written, or -EINVAL for bad
 * UTF-8 or a name that does not fit. */
int block_utf8_to_utf16(const char *in, uint8_t *out, size_t cap, bool be, bool backslash);

/* A position in a request's buffers (iov.c). Start one at a request with
 * {.iov = req->iov, .niov = req->niov}. */
struct block_iov {
	const struct iovec *iov;
	unsigned niov, i;
	size_t skip;
};

/* Moves the cursor len bytes on (stops at the end of the buffers). */
void block_iov_advance(struct block_iov *c, uint64_t len);
/* The next len bytes as at most max entries of out (empty entries left
 * out); advances the cursor past them and returns how many it wrote. */
unsigned block_iov_take(struct block_iov *c, uint64_t len, struct iovec *out, unsigned max);
/* Copies len bytes of buf into the buffers (buf NULL: zeroes them). */
void block_iov_fill(struct block_iov *c, const void *buf, uint64_t len);
/* Reads (write false) or writes len bytes of file fd at off into / from
 * the buffers, retrying short transfers; the end of the file is -EIO, too
 * few buffers -EINVAL. */
int block_iov_file(int fd, struct block_iov *c, uint64_t len, uint64_t off, bool write);

/* For drivers' check: counts nothing, reports one line (without newline). */
void block_check_report(struct block_check *res, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
void block_check_vreport(struct block_check *res, const char *fmt, va_list ap)
    __attribute__((format(printf, 2, 0)));

/* Host files of images. block_file_open opens path read-only or read-write
 * with O_CLOEXEC (or takes over bd's descriptor from block_open_fd when
 * there is one, checking that it is open for what flags ask; bd may be
 * NULL), refuses anything but a regular file or block device, and
 * takes the image lock (exclusive for read-write, shared for read-only, none
 * with BLOCK_SHARE),
 * writing a message that names the file (and who holds the lock) on error.
 * The lock goes with the last close of fd. *st: the file's stat, with
 * st_size set to a block device's size. */
int block_file_open(struct block_dev *bd, const char *path, unsigned flags, int *fd, struct stat *st,
		    char *err, size_t errlen);
/* Whole-length pread/pwrite (hypervisor/fileio.h): 0, or -errno; a read
 * that reaches the end of the file is -EIO (for metadata: the image is
 * truncated). */
static inline int block_file_pread(int fd, void *buf, size_t len, uint64_t off)
{
	int r = file_pread_all(fd, buf, len, off);
	return r == -ENODATA ? -EIO : r;
}

static inline int block_file_pwrite(int fd, const void *buf, size_t len, uint64_t off)
{
	return file_pwrite_all(fd, buf, len, off);
}
/* Writes len zero bytes at off (fallocate when the file system can). */
int block_file_zero(int fd, uint64_t off, uint64_t len);

/* Ends a request: calls its done callback, then lets block_drain and
 * block_close go on. For drivers. */
void block_complete(struct block_req *req, int status);

/* block_create with a driver and an open parent (which may be an image
 * open read-write: block_snapshot's). */
int block_create_with(const char *path, const struct block_driver *drv,
		      const struct block_create_opts *opts, struct block_dev *parent, char *err,
		      size_t errlen);

/* The driver whose probe recognizes the file at path (raw if none does):
 * 0, or -errno with err naming the file. */
int block_probe(const char *path, const struct block_driver **out, char *err, size_t errlen);

/* The driver named name ("vhdx"), or NULL. */
const struct block_driver *block_driver_find(const char *name);

/* Drivers known to block_open. */
extern const struct block_driver block_raw_driver;
extern const struct block_driver block_vhdx_driver;
extern const struct block_driver block_vhd_driver;
extern const struct block_driver block_qcow2_driver;

/* A small pool of worker threads for blocking calls (pread, fdatasync).
 * Threads start when work arrives (up to max_threads) and have every signal
 * blocked. */
struct block_pool;

struct block_work {
	void (*fn)(struct block_work *w);
	struct block_work *next; /* the pool's */
};

struct block_pool *block_pool_new(unsigned max_threads);
/* Runs w->fn(w) on a pool thread; if no thread can be started at all, runs
 * it before returning. */
void block_pool_run(struct block_pool *p, struct block_work *w);
/* Waits for queued work to finish, then stops the threads. */
void block_pool_free(struct block_pool *p);

#endif
