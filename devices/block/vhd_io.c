/* VHD requests: through the BAT and sector bitmaps, new blocks allocated at
 * the end of the file in a crash-safe order. */
#include "devices/block/vhd.h"

#include "hypervisor/bytes.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/uio.h>
#include <unistd.h>

#define BOUNCE_MAX (1u << 20)

/* --- request buffers ------------------------------------------------------- */

/* Reads len bytes of the parent at off (zeroes past its end, or without
 * one) into the cursor. */
static int read_parent(struct block_dev *bd, struct block_iov *c, uint64_t len, uint64_t off)
{
	struct block_dev *p = bd->backing;
	uint64_t psize = p ? block_size(p) : 0;
	while (len) {
		uint64_t n = len < BOUNCE_MAX ? len : BOUNCE_MAX;
		if (off >= psize) {
			block_iov_fill(c, NULL, len);
			return 0;
		}
		if (n > psize - off)
			n = psize - off;
		uint8_t *buf = malloc(n);
		if (!buf)
			return -ENOMEM;
		int r = block_pread(p, buf, n, off);
		if (r == 0)
			block_iov_fill(c, buf, n);
		free(buf);
		if (r < 0)
			return r;
		off += n;
		len -= n;
	}
	return 0;
}

/* --- sector bitmaps -------------------------------------------------------- */

static bool bit_test(const uint8_t *bm, uint32_t i)
{
	return bm[i / 8] & (0x80u >> (i % 8)); /* sector 0 is the top bit */
}

static void bit_set(uint8_t *bm, uint32_t i)
{
	bm[i / 8] |= (uint8_t)(0x80u >> (i % 8));
}

static bool bitmap_full(const struct vhd *s, const uint8_t *bm)
{
	uint32_t n = s->block_size / BLOCK_SECTOR;
	for (uint32_t i = 0; i < n / 8; i++)
		if (bm[i] != 0xff)
			return false;
	for (uint32_t i = n / 8 * 8; i < n; i++)
		if (!bit_test(bm, i))
			return false;
	return true;
}

static int read_bitmap(struct vhd *s, uint32_t blk, uint64_t boff, uint8_t **out)
{
	uint8_t *bm = malloc(s->bitmap_size);
	if (!bm)
		return -ENOMEM;
	int r = block_file_pread(s->fd, bm, s->bitmap_size, boff);
	if (r < 0) {
		free(bm);
		return r;
	}
	if (bitmap_full(s, bm))
		atomic_store(&s->bmstate[blk], VHD_BM_FULL);
	*out = bm;
	return 0;
}

/* Marks sectors [first, first + n) of block blk present, after their data
 * was written. */
static int mark_present(struct vhd *s, uint32_t blk, uint64_t boff, uint32_t first, uint32_t n)
{
	if (atomic_load(&s->bmstate[blk]) == VHD_BM_FULL)
		return 0;
	pthread_mutex_lock(&s->lock);
	uint8_t *bm;
	int r = read_bitmap(s, blk, boff, &bm);
	if (r == 0) {
		bool changed = false;
		for (uint32_t i = first; i < first + n; i++) {
			if (!bit_test(bm, i)) {
				bit_set(bm, i);
				changed = true;
			}
		}
		if (changed) {
			/* Only the bitmap's sectors that changed. */
			uint32_t lo = first / 8 / 512 * 512,
				 hi = ((first + n + 7) / 8 + 511) / 512 * 512;
			r = block_file_pwrite(s->fd, bm + lo, hi - lo, boff + lo);
			if (r == 0 && bitmap_full(s, bm))
				atomic_store(&s->bmstate[blk], VHD_BM_FULL);
		}
		free(bm);
	}
	pthread_mutex_unlock(&s->lock);
	return r;
}

/* --- dynamic and differencing requests ------------------------------------- */

/* Reads [o, o + len) of allocated block blk at boff through its bitmap:
 * sectors not present come from the parent. */
static int read_partial(struct block_dev *bd, struct vhd *s, struct block_iov *c, uint32_t blk,
			uint64_t boff, uint32_t o, uint32_t len)
{
	uint8_t *bm;
	int r = read_bitmap(s, blk, boff, &bm);
	if (r < 0)
		return r;
	uint64_t vbase = (uint64_t)blk * s->block_size;
	uint32_t sec = o / BLOCK_SECTOR, end = (o + len) / BLOCK_SECTOR;
	while (r == 0 && sec < end) {
		bool here = bit_test(bm, sec);
		uint32_t run = sec + 1;
		while (run < end && bit_test(bm, run) == here)
			run++;
		uint64_t n = (uint64_t)(run - sec) * BLOCK_SECTOR;
		uint64_t in = (uint64_t)sec * BLOCK_SECTOR;
		if (here)
			r = block_iov_file(s->fd, c, n, boff + s->bitmap_size + in, false);
		else
			r = read_parent(bd, c, n, vbase + in);
		sec = run;
	}
	free(bm);
	return r;
}

/* Allocates block blk at the end of the file for a write of [o, o + len)
 * (c NULL: zeroes). Order for a crash at any moment: the footer at the new
 * end first (so the file always ends in one), then bitmap and data, then the
 * BAT entry. Called with s->lock held. */
static int allocate(struct vhd *s, struct block_iov *c, uint32_t blk, uint32_t o, uint32_t len)
{
	uint64_t off = s->end;
	uint64_t next = off + s->bitmap_size + s->block_size;
	if (off / BLOCK_SECTOR >= VHD_BAT_FREE)
		return -ENOSPC; /* past what a BAT entry can point at */
	int r = block_file_pwrite(s->fd, s->footer, VHD_FOOTER_SIZE, next);
	if (r < 0)
		goto undo;
	uint8_t *bm = calloc(1, s->bitmap_size);
	if (!bm) {
		r = -ENOMEM;
		goto undo;
	}
	bool full = s->type == VHD_DYNAMIC;
	if (full)
		memset(bm, 0xff, s->bitmap_size);
	else
		for (uint32_t i = o / BLOCK_SECTOR; i < (o + len) / BLOCK_SECTOR; i++)
			bit_set(bm, i);
	if (!full)
		full = bitmap_full(s, bm);
	r = block_file_pwrite(s->fd, bm, s->bitmap_size, off);
	free(bm);
	/* The rest of the block lies past the old end: it reads as zeroes. */
	if (r == 0 && c)
		r = block_iov_file(s->fd, c, len, off + s->bitmap_size + o, true);
	uint8_t e[4];
	put_be32(e, (uint32_t)(off / BLOCK_SECTOR));
	if (r == 0)
		r = block_file_pwrite(s->fd, e, 4, s->bat_off + 4 * (uint64_t)blk);
	if (r < 0)
		goto undo;
	s->end = next;
	if (full)
		atomic_store(&s->bmstate[blk], VHD_BM_FULL);
	atomic_store_explicit(&s->bat[blk], (uint32_t)(off / BLOCK_SECTOR), memory_order_release);
	return 0;
undo:
	/* Best effort: the old end again (the BAT does not point there). */
	if (block_file_pwrite(s->fd, s->footer, VHD_FOOTER_SIZE, off) == 0 &&
	    ftruncate(s->fd, (off_t)(off + VHD_FOOTER_SIZE)) < 0)
		r = r ? r : -errno;
	return r;
}

/* One piece of a request inside block blk: [o, o + len) of it. */
static int dyn_piece(struct block_dev *bd, struct vhd *s, const struct block_req *req,
		     struct block_iov *c, uint32_t blk, uint32_t o, uint32_t len)
{
	uint64_t boff = vhd_block_offset(s, blk);
	bool diff = s->type == VHD_DIFF;
	if (boff && !vhd_block_present(s, boff))
		return -EIO; /* the block is missing from a truncated file */
	uint64_t data = boff + s->bitmap_size + o;
	uint32_t first = o / BLOCK_SECTOR, n = len / BLOCK_SECTOR;
	int r;
	switch (req->op) {
	case BLOCK_OP_READ:
		if (!boff) {
			if (diff)
				return read_parent(bd, c, len, (uint64_t)blk * s->block_size + o);
			block_iov_fill(c, NULL, len);
			return 0;
		}
		if (diff && atomic_load(&s->bmstate[blk]) != VHD_BM_FULL)
			return read_partial(bd, s, c, blk, boff, o, len);
		return block_iov_file(s->fd, c, len, data, false);
	case BLOCK_OP_WRITE:
	case BLOCK_OP_WRITE_ZEROES: {
		struct block_iov *src = req->op == BLOCK_OP_WRITE ? c : NULL;
		if (!boff) {
			if (!src && !diff)
				return 0; /* unallocated blocks of a dynamic disk read as zeroes */
			pthread_mutex_lock(&s->lock);
			boff = vhd_block_offset(s, blk);
			r = boff ? 1 : allocate(s, src, blk, o, len);
			pthread_mutex_unlock(&s->lock);
			if (r <= 0)
				return r;
			/* Allocated by another request meanwhile. */
			data = boff + s->bitmap_size + o;
		}
		if (src)
			r = block_iov_file(s->fd, src, len, data, true);
		else
			r = block_file_zero(s->fd, data, len);
		if (r == 0)
			r = mark_present(s, blk, boff, first, n);
		return r;
	}
	case BLOCK_OP_DISCARD:
		if (boff &&
		    fallocate(s->fd, FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE, (off_t)data,
			      (off_t)len) < 0 &&
		    errno != EOPNOTSUPP && errno != ENOSYS)
			return -errno;
		return 0;
	default:
		return -EINVAL;
	}
}

static int dyn_io(struct block_dev *bd, struct vhd *s, struct block_req *req)
{
	struct block_iov c = {.iov = req->iov, .niov = req->niov};
	uint64_t off = req->offset, left = req->len;
	while (left) {
		uint32_t blk = (uint32_t)(off / s->block_size);
		uint32_t o = (uint32_t)(off % s->block_size);
		uint32_t len = s->block_size - o;
		if (len > left)
			len = (uint32_t)left;
		if (blk >= s->max_entries)
			return -EIO; /* cannot happen: the size was checked against the BAT */
		int r = dyn_piece(bd, s, req, &c, blk, o, len);
		if (r < 0)
			return r;
		off += len;
		left -= len;
	}
	return 0;
}

static int fixed_io(struct vhd *s, struct block_req *req)
{
	struct block_iov c = {.iov = req->iov, .niov = req->niov};
	switch (req->op) {
	case BLOCK_OP_READ:
	case BLOCK_OP_WRITE:
		return block_iov_file(s->fd, &c, req->len, req->offset, req->op == BLOCK_OP_WRITE);
	case BLOCK_OP_WRITE_ZEROES:
		return block_file_zero(s->fd, req->offset, req->len);
	case BLOCK_OP_DISCARD:
		if (fallocate(s->fd, FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE, (off_t)req->offset,
			      (off_t)req->len) < 0 &&
		    errno != EOPNOTSUPP && errno != ENOSYS)
			return -errno;
		return 0;
	default:
		return -EINVAL;
	}
}

int vhd_io(struct block_dev *bd, struct block_req *req)
{
	struct vhd *s = bd->priv;
	if (req->op == BLOCK_OP_FLUSH)
		return fdatasync(s->fd) < 0 ? -errno : 0;
	if (s->type == VHD_FIXED)
		return fixed_io(s, req);
	return dyn_io(bd, s, req);
}
