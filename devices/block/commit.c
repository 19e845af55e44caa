/* Merging a differencing image into its parent (block_commit): what a checkpoint's deletion
 * does to the image it froze, as Hyper-V merges an AVHDX into its parent; and its opposite for
 * a checkpoint that failed half-way, taking a fresh snapshot back off (block_unsnapshot). */
#include "devices/block/block_driver.h"
#include "devices/block/qcow2_int.h"
#include "devices/block/vhdx_int.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

/* Bytes copied (and compared) at a time. */
#define COMMIT_CHUNK (1u << 20)

struct commit {
	struct block_dev *child, *parent;
	uint8_t *buf, *pbuf;
	uint64_t size, done;
	block_progress_fn progress;
	void *opaque;
};

/* Copies [off, off + len) as the child reads it into the parent. With compare, only the chunks
 * that differ from what the parent holds are written (for formats whose allocation osio does
 * not read: the parent stays as sparse as it was). */
static int copy_range(struct commit *c, uint64_t off, uint64_t len, bool compare)
{
	if (off >= c->size)
		return 0;
	if (len > c->size - off)
		len = c->size - off;
	while (len) {
		size_t n = len > COMMIT_CHUNK ? COMMIT_CHUNK : (size_t)len;
		int r = block_pread(c->child, c->buf, n, off);
		if (r < 0)
			return r;
		if (compare) {
			r = block_pread(c->parent, c->pbuf, n, off);
			if (r < 0)
				return r;
		}
		if (!compare || memcmp(c->buf, c->pbuf, n) != 0) {
			r = block_pwrite(c->parent, c->buf, n, off);
			if (r < 0)
				return r;
		}
		off += n;
		len -= n;
		c->done += n;
		if (c->progress && c->progress(c->opaque, c->done, c->size))
			return -EINTR;
	}
	return 0;
}

/* VHDX: every payload block whose BAT entry holds anything of the child's own (data, zeroes,
 * an unmapped range) is copied whole as the child reads it; blocks the child leaves to its
 * parent are skipped. */
static int commit_vhdx(struct commit *c)
{
	struct vhdx *v = c->child->priv;

	for (uint64_t b = 0; b < v->blocks; b++) {
		uint64_t i = vhdx_payload_index(v, b);
		if (i >= v->bat_entries)
			return -EIO;
		if (VHDX_BAT_STATE(vhdx_bat_get(v, i)) == VHDX_PAYLOAD_NOT_PRESENT) {
			c->done += v->block_size;
			continue;
		}
		int r = copy_range(c, b * (uint64_t)v->block_size, v->block_size, false);
		if (r < 0)
			return r;
	}
	return 0;
}

/* qcow2: every cluster with an L2 entry of its own (data, compressed, zero) is copied. */
static int commit_qcow2(struct commit *c)
{
	struct qcow2 *q = c->child->priv;
	uint64_t per_l2 = 1ull << q->l2_bits;

	for (uint64_t i = 0; i < q->l1_size; i++) {
		uint64_t *t = NULL;
		pthread_mutex_lock(&q->lock);
		int r = qcow2_l2_load(q, i, &t);
		pthread_mutex_unlock(&q->lock);
		if (r < 0)
			return r;
		for (uint64_t j = 0; t && j < per_l2; j++) {
			uint64_t off = ((i << q->l2_bits) + j) << q->cb;
			if (off >= c->size)
				break;
			struct qcow2_map m = qcow2_decode(q, t[j]);
			if (m.kind == QK_UNALLOC)
				continue;
			if ((r = copy_range(c, off, q->cs, false)) < 0)
				return r;
		}
	}
	return 0;
}

/* A VHDX parent about to take its child's blocks: a new FileWriteGuid, but the DataWriteGuid
 * its child is linked to stays ([MS-VHDX] 2.2.2 changes it so that children made from the old
 * data stop matching; what changes here is only what the child already covers, so the child
 * still reads the same, and an interrupted merge can be run again from it). */
static int merge_touch(struct block_dev *parent)
{
	return vhdx_touch_guids(parent->priv, false);
}

int block_commit(const char *path, block_progress_fn progress, void *opaque, char *err,
		 size_t errlen)
{
	struct commit c = {.progress = progress, .opaque = opaque};
	char perr[512], parent_path[PATH_MAX], parent_fmt[16];
	int r;

	/* First without locks, to learn the parent; then the parent read-write (its exclusive
	 * lock keeps a VM away while it changes) and the child again, lock-free, above it. */
	r = block_open(path, NULL, BLOCK_RDONLY | BLOCK_SHARE, &c.child, perr, sizeof(perr));
	if (r < 0) {
		block_set_err(err, errlen, "%s", perr);
		return r;
	}
	struct block_dev *p = block_backing(c.child);
	if (!p) {
		block_set_err(err, errlen, "%s: not a differencing image: nothing to merge", path);
		block_close(c.child);
		return -EINVAL;
	}
	snprintf(parent_path, sizeof(parent_path), "%s", block_path(p));
	snprintf(parent_fmt, sizeof(parent_fmt), "%s", block_format(p));
	block_close(c.child);
	c.child = NULL;

	r = block_open(parent_path, parent_fmt, 0, &c.parent, perr, sizeof(perr));
	if (r < 0) {
		block_set_err(err, errlen, "cannot merge %s into its parent: %s", path, perr);
		return r;
	}
	r = block_open(path, NULL, BLOCK_RDONLY | BLOCK_SHARE, &c.child, perr, sizeof(perr));
	if (r < 0) {
		block_set_err(err, errlen, "%s", perr);
		goto out;
	}
	struct stat a, b;
	if (stat(block_path(block_backing(c.child)), &a) < 0 || stat(parent_path, &b) < 0 ||
	    a.st_dev != b.st_dev || a.st_ino != b.st_ino) {
		block_set_err(err, errlen, "%s: its parent changed while it was being merged",
			      path);
		r = -EAGAIN;
		goto out;
	}
	c.size = block_size(c.child);
	if (block_size(c.parent) < c.size) {
		/* The child was grown after it was made: the parent grows with it. */
		r = block_resize(c.parent, c.size, perr, sizeof(perr));
		if (r < 0) {
			block_set_err(err, errlen, "cannot merge %s into %s: %s", path, parent_path,
				      perr);
			goto out;
		}
	}
	if (strcmp(block_format(c.parent), "vhdx") == 0 && (r = merge_touch(c.parent)) < 0) {
		block_set_err(err, errlen, "cannot merge %s into %s: %s", path, parent_path,
			      strerror(-r));
		goto out;
	}
	c.buf = malloc(COMMIT_CHUNK);
	c.pbuf = malloc(COMMIT_CHUNK);
	if (!c.buf || !c.pbuf) {
		r = -ENOMEM;
		block_set_err(err, errlen, "cannot merge %s: out of memory", path);
		goto out;
	}
	if (strcmp(block_format(c.child), "vhdx") == 0)
		r = commit_vhdx(&c);
	else if (strcmp(block_format(c.child), "qcow2") == 0)
		r = commit_qcow2(&c);
	else
		r = copy_range(&c, 0, c.size, true);
	if (r == 0)
		r = block_flush(c.parent);
	if (r < 0)
		block_set_err(err, errlen, "cannot merge %s into %s: %s", path, parent_path,
			      strerror(-r));
out:
	free(c.buf);
	free(c.pbuf);
	block_close(c.child);
	block_close(c.parent);
	return r;
}

/* --- undoing block_snapshot ---------------------------------------------------------- */

int block_unsnapshot(struct block_dev *bd, char *err, size_t errlen)
{
	struct block_dev *p = bd->backing;
	char top[PATH_MAX], parent[PATH_MAX];

	if (!p || bd->readonly) {
		block_set_err(err, errlen, "%s: no differencing image on top to take away",
			      bd->path);
		return -EINVAL;
	}
	const struct block_driver *pdrv = p->drv;
	uint64_t size = bd->size;
	snprintf(top, sizeof(top), "%s", bd->path);
	snprintf(parent, sizeof(parent), "%s", p->path);
	block_drain(bd);

	/* Close the top and its chain (the parent's shared lock goes with it)... */
	block_detach(bd);

	/* ...and open the parent read-write in its place, keeping the guard against a guest
	 * writing an image header into its raw disk. */
	int r = block_attach(bd, pdrv, parent, 0, NULL, err, errlen);
	if (r == 0 && pdrv == &block_raw_driver) {
		bd->probed_raw = true;
		bd->probe_fd = open(parent, O_RDONLY | O_CLOEXEC | O_NOCTTY);
	}
	if (r == 0 && bd->size != size)
		r = -EIO; /* cannot happen: a snapshot has its parent's size */
	if (r < 0) {
		if (bd->path)
			block_detach(bd);
		block_attach_gone(bd, parent, size);
		return r;
	}
	unlink(top);
	return 0;
}
