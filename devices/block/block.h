/* The block layer: one asynchronous interface to disk images for every disk
 * model (IDE, virtio-blk), with format drivers (raw, VHDX, VHD, qcow2) below
 * it, and the image-level operations `osio disk` offers (create, info,
 * resize, check). */
#ifndef OSIO_BLOCK_H
#define OSIO_BLOCK_H

#include <stdbool.h>
#include <limits.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/uio.h>

/* Offsets and lengths of requests are multiples of this. */
#define BLOCK_SECTOR 512u

enum block_open_flags {
	BLOCK_RDONLY = 1u << 0, /* no writes, discards or write-zeroes; a shared lock */
	/* With BLOCK_RDONLY: no lock at all, to look at an image (and its
	 * parents) that a running VM has open read-write, as qemu-img info -U
	 * does; what it reads may be changing. */
	BLOCK_SHARE = 1u << 1,
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

/* Opens an image. format: "raw", "vhdx", "vhd", "qcow2", or NULL to
 * recognize it by its contents (a file no driver claims is raw; writes to
 * such an image that would make it look like another format fail with
 * -EPERM, so that a guest cannot give its disk a parent on the host). An image
 * with a parent (differencing VHDX, qcow2 backing file) opens its parent
 * chain read-only too. A read-write open takes an exclusive advisory lock on the
 * image and a read-only open a shared one, so two VMs cannot write one image,
 * nor one read it while another writes it. Returns 0 or -errno; on error
 * `err` (errlen bytes, may be NULL) says what is wrong in words that name the
 * file and, for a lock, the process holding it when that can be found out,
 * without a trailing newline. */
int block_open(const char *path, const char *format, unsigned flags, struct block_dev **out,
	       char *err, size_t errlen);
/* The same for an image the caller opened: fd (taken over, closed on
 * failure) must be open for reading, and for writing too unless flags has
 * BLOCK_RDONLY. path is the name it goes by (messages, block_path) and what
 * a parent's relative name is resolved against; it is not opened. For a
 * worker that cannot open the file itself: its client passes the
 * descriptor. */
int block_open_fd(int fd, const char *path, const char *format, unsigned flags,
		  struct block_dev **out, char *err, size_t errlen);
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

/* What an image's users asked of it so far: requests completed (a failed
 * one counts in errors too) and their bytes. */
struct block_stats {
	uint64_t rd_ops, rd_bytes;
	uint64_t wr_ops, wr_bytes;
	uint64_t flush_ops;
	uint64_t errors;
};
void block_get_stats(const struct block_dev *bd, struct block_stats *out);
/* Calls fn for every image this process has open through block_open (not
 * the parents under them), in the order they were opened. fn must not open
 * or close images. For the control API's stats. */
void block_for_each_open(void (*fn)(struct block_dev *bd, void *opaque), void *opaque);

/* Synchronous helpers on top of block_submit (for tools and tests):
 * 0 or -errno. */
int block_pread(struct block_dev *bd, void *buf, size_t len, uint64_t offset);
int block_pwrite(struct block_dev *bd, const void *buf, size_t len, uint64_t offset);
int block_flush(struct block_dev *bd);

/* --- image-level operations (osio disk) ------------------------------------ */

/* Formats block_open and block_create know, NULL-terminated. */
extern const char *const block_formats[];

/* Progress of a long operation: done of total units (bytes). Returning
 * nonzero stops the operation, which then fails with -EINTR. */
typedef int (*block_progress_fn)(void *opaque, uint64_t done, uint64_t total);

struct block_create_opts {
	uint64_t size; /* bytes, a multiple of BLOCK_SECTOR; 0 with a parent: the parent's */
	bool fixed;    /* all space allocated now: VHDX/VHD fixed, raw and qcow2 preallocated */
	/* Differencing disk (VHDX) / backing file (qcow2): the parent as
	 * written into the image (relative names are relative to the new
	 * image's folder), or NULL. */
	const char *parent;
	const char *parent_format; /* NULL: recognized */
	unsigned logical_sector;   /* VHDX: 512 (0 = default) or 4096 */
	uint32_t block_size;	   /* qcow2 cluster, VHDX/VHD block; 0 = the format's default */
	block_progress_fn progress;
	void *opaque;
};

/* Creates a new image file (never replaces an existing one: -EEXIST). On
 * failure nothing is left behind. 0 or -errno with `err` naming the file. */
int block_create(const char *path, const char *format, const struct block_create_opts *opts,
		 char *err, size_t errlen);

struct block_info {
	char format[16];	  /* "vhdx" */
	char subformat[32];	  /* "dynamic", "fixed", "differencing", "sparse", ... */
	uint64_t virtual_size;	  /* bytes the guest sees */
	uint64_t file_size;	  /* the image file's length */
	uint64_t allocated;	  /* host bytes the file occupies (st_blocks) */
	uint32_t block_size;	  /* allocation unit (cluster, block), 0 for raw */
	unsigned logical_sector;  /* 512 or 4096 */
	unsigned physical_sector; /* 512 or 4096 */
	char parent[PATH_MAX];	  /* as recorded in the image; "" for none */
	bool dirty;		  /* not closed cleanly: a log to replay, refcounts to rebuild */
};

/* What the image says about itself. 0 or -errno. */
int block_get_info(struct block_dev *bd, struct block_info *info);
/* The image this one reads unallocated blocks from (its parent), or NULL. */
struct block_dev *block_backing(const struct block_dev *bd);
/* The guest's logical sector size: 512, or 4096 for a VHDX made so. */
unsigned block_logical_sector(const struct block_dev *bd);

/* Puts a new differencing image (format NULL: the top's own if it is VHDX
 * or qcow2, else qcow2) at new_path on top of bd's chain while the VM runs:
 * bd then writes into the new image, and its old top is the new image's
 * read-only parent. The caller submits nothing meanwhile (the VM is
 * paused). On failure bd is as before and new_path does not exist. */
int block_snapshot(struct block_dev *bd, const char *new_path, const char *format, char *err,
		   size_t errlen);

/* Merges the differencing image at path into its parent (commit.c): every
 * block the image holds of its own (VHDX: its BAT; qcow2: its L2 tables;
 * other formats: what reads differently from the parent) is written into
 * the parent as the image reads it, the parent grown first if the image is
 * larger, then flushed. The parent then reads as the image did; the image
 * itself is left as it was, for the caller to re-point its users to the
 * parent and remove it. Running it again after a crash redoes the same
 * writes (a VHDX parent keeps the DataWriteGuid the image is linked to, so
 * the image stays usable until it is removed: merge only into a parent that
 * has no other child). The parent is opened read-write: -EBUSY when a VM
 * (or anyone) holds it. 0 or -errno with err naming the files. */
int block_commit(const char *path, block_progress_fn progress, void *opaque, char *err,
		 size_t errlen);

/* Undoes block_snapshot (commit.c): bd's top image is closed and removed,
 * and bd writes into its parent again, opened read-write. Whatever was
 * written into the top since is lost: for a checkpoint of a running VM that
 * failed before the VM ran on (the VM is paused). -errno with err; if the
 * parent cannot be opened again, bd fails every request (-EIO). */
int block_unsnapshot(struct block_dev *bd, char *err, size_t errlen);

/* Reconnects the differencing image at path (VHDX, VHD, qcow2) to its
 * parent after the parent moved (reparent.c; Hyper-V's Edit Disk
 * "Reconnect", qemu-img rebase -u): only the name of the parent recorded in
 * the image changes, to `parent` (relative names are relative to the
 * image's folder, as block_create's), crash-safe (a crash leaves the old
 * name or the new one). The new parent is opened first and must be the
 * image the child was made on where the format records that (VHDX: its
 * DataWriteGuid is the child's parent_linkage; VHD: its footer's unique id
 * is the child's parent id), and must not be larger than the child; force
 * skips those checks (and a VHDX child then links to the new parent's
 * DataWriteGuid). The image must not be open elsewhere (-EBUSY). 0 or
 * -errno with err naming both files. */
int block_set_parent(const char *path, const char *parent, bool force, char *err, size_t errlen);

/* Grows the image to size bytes (read-write opens only; shrinking is
 * refused with -EINVAL and a message). */
int block_resize(struct block_dev *bd, uint64_t size, char *err, size_t errlen);

struct block_check {
	uint64_t corruptions; /* metadata that is wrong: data may be lost */
	uint64_t leaks;	      /* space allocated that nothing uses */
	uint64_t repaired;    /* problems fixed (repair only) */
	/* One line per problem found (may be NULL). */
	void (*report)(void *opaque, const char *line);
	void *opaque;
};

/* Checks the image's metadata; with repair (read-write opens only) fixes
 * what can be fixed. 0 when the check ran (see res), -errno when it could
 * not. */
int block_check(struct block_dev *bd, bool repair, struct block_check *res);

#endif
