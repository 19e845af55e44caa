/* The VHDX format driver (Hyper-V's virtual hard disks, [MS-VHDX] v1.0):
 * open (headers, log replay, regions, metadata, BAT, parent), requests on the
 * block layer's pool threads, info, and the driver table.
 *
 * Metadata changes (BAT entries, sector bitmaps, the header) are written in
 * place, not through the log, in an order that keeps every state a crash can
 * leave valid: a new block's data (and its sector bitmap) first, fdatasync,
 * then the BAT entry that points at it; headers one slot at a time. The log
 * stays empty, so any reader (Hyper-V, QEMU) opens the image without a
 * replay. Logs other writers left are replayed on open. */
#include "devices/block/vhdx_int.h"

#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define BOUNCE_MAX VHDX_MiB

static const uint8_t zeroes[VHDX_MiB];

/* --- probe ------------------------------------------------------------------- */

static int vhdx_probe(const uint8_t *head, size_t headlen, const uint8_t *tail, size_t taillen)
{
	(void)tail;
	(void)taillen;
	return headlen >= 8 && memcmp(head, "vhdxfile", 8) == 0 ? 100 : 0;
}

/* --- metadata updates -------------------------------------------------------- */

int vhdx_bat_set(struct vhdx *v, uint64_t i, uint64_t e)
{
	uint8_t b[8];
	vhdx_put64(b, e);
	int r = block_file_pwrite(v->fd, b, 8, v->bat_off + 8 * i);
	if (r == 0)
		__atomic_store_n(&v->bat[i], e, __ATOMIC_RELEASE);
	return r;
}

int vhdx_touch_guids(struct vhdx *v, bool new_data_write)
{
	if (atomic_load(&v->touched))
		return 0;
	pthread_mutex_lock(&v->lock);
	int r = 0;
	if (!atomic_load(&v->touched)) {
		struct vhdx_header h = v->hdr;
		vhdx_guid_random(&h.file_write);
		if (new_data_write)
			vhdx_guid_random(&h.data_write);
		memset(&h.log, 0, sizeof(h.log));
		r = vhdx_write_header(v, &h);
		if (r == 0)
			atomic_store(&v->touched, true);
	}
	pthread_mutex_unlock(&v->lock);
	return r;
}

int vhdx_touch(struct vhdx *v)
{
	/* [MS-VHDX] 2.2.2: new FileWriteGuid and DataWriteGuid before the
	 * first change; children made from the old data no longer match. */
	return vhdx_touch_guids(v, true);
}

/* --- buffers of a request ---------------------------------------------------- */

/* Reads [off, off + len) of the parent (zeroes past its end). */
static int parent_read(struct block_dev *parent, uint8_t *buf, uint64_t len, uint64_t off)
{
	uint64_t psize = block_size(parent);
	uint64_t have = off >= psize ? 0 : psize - off < len ? psize - off : len;
	if (have) {
		int r = block_pread(parent, buf, (size_t)have, off);
		if (r < 0)
			return r;
	}
	memset(buf + have, 0, (size_t)(len - have));
	return 0;
}

static int cur_parent(struct vhdx *v, struct block_iov *c, uint64_t len, uint64_t off)
{
	struct block_dev *parent = v->bd->backing;
	if (!parent) {
		block_iov_fill(c, NULL, len);
		return 0;
	}
	size_t bl = len < BOUNCE_MAX ? (size_t)len : BOUNCE_MAX;
	uint8_t *b = malloc(bl);
	if (!b)
		return -ENOMEM;
	int r = 0;
	while (len) {
		size_t n = len < bl ? (size_t)len : bl;
		r = parent_read(parent, b, n, off);
		if (r < 0)
			break;
		block_iov_fill(c, b, n);
		len -= n;
		off += n;
	}
	free(b);
	return r;
}

/* --- sector bitmaps (differencing disks) ------------------------------------- */

/* Bit of the first sector of block b in its chunk's sector bitmap. */
static uint64_t block_first_bit(const struct vhdx *v, uint64_t b)
{
	return (b % v->chunk_ratio) * (v->block_size / v->logical_sector);
}

/* Reads bitmap bits [first, first + n) (first % 8 == 0 not required) of
 * the bitmap block at sb_off into bits (bytes from first / 8). */
static int bitmap_read(struct vhdx *v, uint64_t sb_off, uint64_t first, uint64_t n, uint8_t *bits)
{
	uint64_t b0 = first / 8, b1 = (first + n + 7) / 8;
	return block_file_pread(v->fd, bits, (size_t)(b1 - b0), sb_off + b0);
}

static bool bit(const uint8_t *bits, uint64_t base, uint64_t k)
{
	uint64_t x = k - base / 8 * 8;
	return bits[x / 8] >> (x % 8) & 1;
}

/* --- reads ------------------------------------------------------------------- */

/* Bytes [o, o + n) of block b, which is PARTIALLY_PRESENT at base. */
static int read_partial(struct vhdx *v, struct block_iov *c, uint64_t b, uint64_t base, uint64_t o,
			uint64_t n)
{
	uint64_t sbe = vhdx_bat_get(v, vhdx_sb_index(v, b));
	uint64_t voff = b * v->block_size;
	if (VHDX_BAT_STATE(sbe) != VHDX_SB_PRESENT)
		return cur_parent(v, c, n, voff + o); /* no bitmap: nothing is here */
	uint64_t ls = v->logical_sector;
	uint64_t s0 = o / ls, s1 = (o + n + ls - 1) / ls;
	uint64_t first = block_first_bit(v, b) + s0;
	uint8_t *bits = malloc((size_t)((s1 - s0) / 8 + 2));
	if (!bits)
		return -ENOMEM;
	int r = bitmap_read(v, VHDX_BAT_OFFSET(sbe), first, s1 - s0, bits);
	uint64_t x = o, end = o + n;
	while (r == 0 && x < end) {
		bool here = bit(bits, first, first + x / ls - s0);
		uint64_t y = (x / ls + 1) * ls;
		while (y < end && bit(bits, first, first + y / ls - s0) == here)
			y += ls;
		if (y > end)
			y = end;
		r = here ? block_iov_file(v->fd, c, y - x, base + x, false)
			 : cur_parent(v, c, y - x, voff + x);
		x = y;
	}
	free(bits);
	return r;
}

static int read_piece(struct vhdx *v, struct block_iov *c, uint64_t b, uint64_t o, uint64_t n)
{
	uint64_t e = vhdx_bat_get(v, vhdx_payload_index(v, b));
	uint64_t base = VHDX_BAT_OFFSET(e);
	switch (VHDX_BAT_STATE(e)) {
	case VHDX_PAYLOAD_FULLY_PRESENT:
		return block_iov_file(v->fd, c, n, base + o, false);
	case VHDX_PAYLOAD_PARTIALLY_PRESENT:
		if (!v->has_parent)
			return block_iov_file(v->fd, c, n, base + o, false);
		return read_partial(v, c, b, base, o, n);
	case VHDX_PAYLOAD_NOT_PRESENT:
		if (v->has_parent)
			return cur_parent(v, c, n, b * v->block_size + o);
		break;
	default:
		break;
	}
	block_iov_fill(c, NULL, n); /* ZERO, UNDEFINED, UNMAPPED */
	return 0;
}

/* --- writes ------------------------------------------------------------------ */

/* In a block at base whose sectors [s0, s1) will be written from byte o to
 * o + n: copies the parent's data of a first or last sector the write covers
 * only in part and that is not this image's yet (bits: bitmap bits of the
 * block's sectors from s0, NULL for none set). Under v->lock. */
static int fill_edges(struct vhdx *v, uint64_t b, uint64_t base, uint64_t o, uint64_t n,
		      const uint8_t *bits, uint64_t first)
{
	uint64_t ls = v->logical_sector;
	uint64_t edges[2] = {o / ls, (o + n - 1) / ls};
	bool partial[2] = {o % ls != 0, (o + n) % ls != 0};
	uint8_t *buf = NULL;
	int r = 0;
	for (int k = 0; k < 2 && r == 0; k++) {
		if (!partial[k] || (k == 1 && edges[1] == edges[0] && partial[0]))
			continue;
		if (bits && bit(bits, first, first + edges[k] - o / ls))
			continue;
		if (!buf && !(buf = malloc(ls)))
			return -ENOMEM;
		r = parent_read(v->bd->backing, buf, ls, b * v->block_size + edges[k] * ls);
		if (r == 0)
			r = block_file_pwrite(v->fd, buf, ls, base + edges[k] * ls);
	}
	free(buf);
	return r;
}

/* Marks sectors of bytes [o, o + n) of a PARTIALLY_PRESENT block b as this
 * image's once their data is written (under v->lock): data first. */
static int mark_present(struct vhdx *v, uint64_t b, uint64_t sb_off, uint64_t o, uint64_t n)
{
	uint64_t ls = v->logical_sector;
	uint64_t first = block_first_bit(v, b) + o / ls,
		 last = block_first_bit(v, b) + (o + n - 1) / ls;
	uint64_t b0 = first / 8, b1 = last / 8 + 1;
	uint8_t *bits = malloc((size_t)(b1 - b0));
	if (!bits)
		return -ENOMEM;
	int r = block_file_pread(v->fd, bits, (size_t)(b1 - b0), sb_off + b0);
	bool changed = false;
	for (uint64_t k = first; r == 0 && k <= last; k++) {
		uint8_t *p = &bits[k / 8 - b0];
		if (!(*p >> (k % 8) & 1)) {
			*p = (uint8_t)(*p | 1u << (k % 8));
			changed = true;
		}
	}
	if (r == 0 && changed) {
		if (fdatasync(v->fd) < 0)
			r = -errno;
		if (r == 0)
			r = block_file_pwrite(v->fd, bits, (size_t)(b1 - b0), sb_off + b0);
	}
	free(bits);
	return r;
}

static int write_partial(struct vhdx *v, struct block_iov *c, uint64_t b, uint64_t base, uint64_t o,
			 uint64_t n)
{
	uint64_t sbe = vhdx_bat_get(v, vhdx_sb_index(v, b));
	if (VHDX_BAT_STATE(sbe) != VHDX_SB_PRESENT)
		return -EIO; /* a damaged image: check --repair makes it whole */
	uint64_t sb_off = VHDX_BAT_OFFSET(sbe), ls = v->logical_sector;
	bool aligned = o % ls == 0 && n % ls == 0;
	int r = 0;
	if (aligned) {
		r = block_iov_file(v->fd, c, n, base + o, true);
		if (r < 0)
			return r;
	}
	pthread_mutex_lock(&v->lock);
	if (!aligned) {
		uint64_t s0 = o / ls, s1 = (o + n + ls - 1) / ls,
			 first = block_first_bit(v, b) + s0;
		uint8_t *bits = malloc((size_t)((s1 - s0) / 8 + 2));
		r = bits ? bitmap_read(v, sb_off, first, s1 - s0, bits) : -ENOMEM;
		if (r == 0)
			r = fill_edges(v, b, base, o, n, bits, first);
		free(bits);
		if (r == 0)
			r = block_iov_file(v->fd, c, n, base + o, true);
	}
	if (r == 0)
		r = mark_present(v, b, sb_off, o, n);
	pthread_mutex_unlock(&v->lock);
	return r;
}

/* Allocates block b (under v->lock) and writes [o, o + n) into it. */
static int write_new(struct vhdx *v, struct block_iov *c, uint64_t b, unsigned st, uint64_t o,
		     uint64_t n)
{
	uint64_t pi = vhdx_payload_index(v, b), si = vhdx_sb_index(v, b);
	bool partial = v->has_parent && st == VHDX_PAYLOAD_NOT_PRESENT && v->bd->backing &&
		       !(o == 0 && n == v->block_size);
	uint64_t old_end = v->file_end, base = v->file_end, sb_off = 0;
	uint64_t sbe = vhdx_bat_get(v, si);
	bool new_sb = partial && VHDX_BAT_STATE(sbe) != VHDX_SB_PRESENT;
	uint64_t end = base + v->block_size + (new_sb ? VHDX_SB_SIZE : 0);
	uint8_t *bits = NULL;
	int r;
	if (end > VHDX_OFFSET_MAX)
		return -ENOSPC;
	if (ftruncate(v->fd, (off_t)end) < 0)
		return -errno;
	v->file_end = end;
	if (partial)
		sb_off = new_sb ? base + v->block_size : VHDX_BAT_OFFSET(sbe);
	if (partial) {
		r = fill_edges(v, b, base, o, n, NULL, 0);
		if (r < 0)
			goto fail;
	}
	r = block_iov_file(v->fd, c, n, base + o, true);
	if (r < 0)
		goto fail;
	if (partial) {
		/* The block's whole slice of the bitmap: stale bits of an
		 * earlier allocation that never reached the BAT go too. */
		uint64_t ls = v->logical_sector, per = v->block_size / ls;
		size_t bytes = (size_t)(per / 8);
		bits = calloc(1, bytes);
		if (!bits) {
			r = -ENOMEM;
			goto fail;
		}
		for (uint64_t k = o / ls; k <= (o + n - 1) / ls; k++)
			bits[k / 8] = (uint8_t)(bits[k / 8] | 1u << (k % 8));
		r = block_file_pwrite(v->fd, bits, bytes, sb_off + block_first_bit(v, b) / 8);
		if (r < 0)
			goto fail;
	}
	if (fdatasync(v->fd) < 0) {
		r = -errno;
		goto fail;
	}
	if (new_sb) {
		r = vhdx_bat_set(v, si, sb_off | VHDX_SB_PRESENT);
		if (r < 0)
			goto fail;
	}
	r = vhdx_bat_set(
	    v, pi, base | (partial ? VHDX_PAYLOAD_PARTIALLY_PRESENT : VHDX_PAYLOAD_FULLY_PRESENT));
	if (r < 0)
		goto fail;
	free(bits);
	return 0;
fail:
	free(bits);
	if (v->file_end == end && !new_sb) {
		/* Nothing points at the new space: give it back. */
		if (ftruncate(v->fd, (off_t)old_end) == 0)
			v->file_end = old_end;
	}
	return r;
}

static int write_piece(struct vhdx *v, struct block_iov *c, uint64_t b, uint64_t o, uint64_t n)
{
	uint64_t pi = vhdx_payload_index(v, b);
	for (;;) {
		uint64_t e = vhdx_bat_get(v, pi);
		unsigned st = VHDX_BAT_STATE(e);
		if (st == VHDX_PAYLOAD_FULLY_PRESENT ||
		    (st == VHDX_PAYLOAD_PARTIALLY_PRESENT && !v->has_parent))
			return block_iov_file(v->fd, c, n, VHDX_BAT_OFFSET(e) + o, true);
		if (st == VHDX_PAYLOAD_PARTIALLY_PRESENT)
			return write_partial(v, c, b, VHDX_BAT_OFFSET(e), o, n);
		pthread_mutex_lock(&v->lock);
		int r = 1;
		if (vhdx_bat_get(v, pi) == e)
			r = write_new(v, c, b, st, o, n);
		pthread_mutex_unlock(&v->lock);
		if (r <= 0)
			return r;
		/* Another request allocated it meanwhile: go again. */
	}
}

/* --- discard and write-zeroes ------------------------------------------------ */

static int punch(int fd, uint64_t off, uint64_t len)
{
	if (fallocate(fd, FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE, (off_t)off, (off_t)len) == 0)
		return 0;
	if (errno == EOPNOTSUPP || errno == ENOSYS || errno == EINVAL)
		return 0; /* a hint only */
	return -errno;
}

static int discard_piece(struct vhdx *v, uint64_t b, uint64_t o, uint64_t n)
{
	uint64_t e = vhdx_bat_get(v, vhdx_payload_index(v, b));
	unsigned st = VHDX_BAT_STATE(e);
	if (v->leave_allocated)
		return 0;
	if (st == VHDX_PAYLOAD_FULLY_PRESENT ||
	    (st == VHDX_PAYLOAD_PARTIALLY_PRESENT && !v->has_parent))
		return punch(v->fd, VHDX_BAT_OFFSET(e) + o, n);
	return 0;
}

static int zero_piece(struct vhdx *v, uint64_t b, uint64_t o, uint64_t n)
{
	uint64_t pi = vhdx_payload_index(v, b);
	uint64_t e = vhdx_bat_get(v, pi);
	unsigned st = VHDX_BAT_STATE(e);
	if (st == VHDX_PAYLOAD_FULLY_PRESENT ||
	    (st == VHDX_PAYLOAD_PARTIALLY_PRESENT && !v->has_parent))
		return block_file_zero(v->fd, VHDX_BAT_OFFSET(e) + o, n);
	bool parent = v->has_parent && v->bd->backing;
	if (st != VHDX_PAYLOAD_PARTIALLY_PRESENT && (st != VHDX_PAYLOAD_NOT_PRESENT || !parent))
		return 0; /* reads as zeroes already */
	if (st == VHDX_PAYLOAD_NOT_PRESENT && o == 0 && n == v->block_size) {
		pthread_mutex_lock(&v->lock);
		int r = 0;
		if (vhdx_bat_get(v, pi) == e)
			r = vhdx_bat_set(v, pi, VHDX_PAYLOAD_ZERO);
		pthread_mutex_unlock(&v->lock);
		if (r < 0 || vhdx_bat_get(v, pi) == VHDX_PAYLOAD_ZERO)
			return r;
	}
	/* Zeroes written over the parent's data. */
	while (n) {
		uint64_t k = n < sizeof(zeroes) ? n : sizeof(zeroes);
		struct iovec iov = {.iov_base = (void *)zeroes, .iov_len = (size_t)k};
		struct block_iov c = {.iov = &iov, .niov = 1};
		int r = write_piece(v, &c, b, o, k);
		if (r < 0)
			return r;
		o += k;
		n -= k;
	}
	return 0;
}

/* --- requests ---------------------------------------------------------------- */

static int vhdx_io(struct block_dev *bd, struct block_req *req)
{
	struct vhdx *v = bd->priv;
	if (req->op == BLOCK_OP_FLUSH)
		return fdatasync(v->fd) < 0 ? -errno : 0;
	if (req->op != BLOCK_OP_READ) {
		int r = vhdx_touch(v);
		if (r < 0)
			return r;
	}
	struct block_iov c = {.iov = req->iov, .niov = req->niov};
	uint64_t off = req->offset, left = req->len;
	while (left) {
		uint64_t b = off / v->block_size, o = off % v->block_size;
		uint64_t n = v->block_size - o < left ? v->block_size - o : left;
		if (b >= v->blocks)
			return -EINVAL;
		int r;
		switch (req->op) {
		case BLOCK_OP_READ:
			r = read_piece(v, &c, b, o, n);
			break;
		case BLOCK_OP_WRITE:
			r = write_piece(v, &c, b, o, n);
			break;
		case BLOCK_OP_DISCARD:
			r = discard_piece(v, b, o, n);
			break;
		case BLOCK_OP_WRITE_ZEROES:
			r = zero_piece(v, b, o, n);
			break;
		default:
			r = -EINVAL;
		}
		if (r < 0)
			return r;
		off += n;
		left -= n;
	}
	return 0;
}

/* --- open and close ---------------------------------------------------------- */

static void vhdx_free(struct vhdx *v)
{
	if (v->fd >= 0)
		close(v->fd);
	pthread_mutex_destroy(&v->lock);
	free(v->bat);
	free(v->parent_rel);
	free(v->parent_abs);
	free(v->parent_vol);
	free(v);
}

/* Whether name (relative to the folder of child) exists. */
static bool parent_exists(const char *child, const char *name)
{
	if (name[0] == '/')
		return access(name, F_OK) == 0;
	char *dup = strdup(child);
	if (!dup)
		return false;
	char full[PATH_MAX];
	int n = snprintf(full, sizeof(full), "%s/%s", dirname(dup), name);
	free(dup);
	return n > 0 && (size_t)n < sizeof(full) && access(full, F_OK) == 0;
}

static int open_parent(struct block_dev *bd, struct vhdx *v, char *err, size_t errlen)
{
	/* [MS-VHDX] 2.6.2.6.3: relative_path, volume_path, then the absolute one. */
	const char *cand[3] = {v->parent_rel, v->parent_vol, v->parent_abs};
	const char *name = NULL;
	for (int i = 0; i < 3 && !name; i++)
		if (cand[i] && parent_exists(v->path, cand[i]))
			name = cand[i];
	if (!name)
		name = v->parent_rel   ? v->parent_rel
		       : v->parent_abs ? v->parent_abs
				       : v->parent_vol;
	int r = block_open_backing(bd, name, NULL, err, errlen);
	if (r < 0)
		return r;
	struct block_dev *p = bd->backing;
	if (p->drv == &block_vhdx_driver && (v->has_linkage || v->has_linkage2)) {
		const struct vhdx *pv = p->priv;
		if (!(v->has_linkage && vhdx_guid_eq(&v->parent_linkage, &pv->hdr.data_write)) &&
		    !(v->has_linkage2 && vhdx_guid_eq(&v->parent_linkage2, &pv->hdr.data_write))) {
			snprintf(err, errlen,
				 "%s: its parent %s has changed since this differencing disk was "
				 "made (the parent's DataWriteGuid does not match); the chain is "
				 "broken",
				 v->path, block_path(p));
			block_close(p);
			bd->backing = NULL;
			return -EINVAL;
		}
	}
	return 0;
}

static int vhdx_open(struct block_dev *bd, const char *path, unsigned flags, char *err,
		     size_t errlen)
{
	bool ro = flags & BLOCK_RDONLY;
	struct stat st;
	int fd;
	int r = block_file_open(bd, path, flags, &fd, &st, err, errlen);
	if (r < 0)
		return r;
	struct vhdx *v = calloc(1, sizeof(*v));
	if (!v) {
		close(fd);
		return -ENOMEM;
	}
	v->fd = fd;
	v->path = bd->path ? bd->path : path;
	v->bd = bd;
	pthread_mutex_init(&v->lock, NULL);
	uint64_t size = (uint64_t)st.st_size;
	uint8_t sig[8];
	r = size >= 8 ? block_file_pread(fd, sig, 8, 0) : -EIO;
	if (r < 0 || memcmp(sig, "vhdxfile", 8) != 0) {
		snprintf(err, errlen, "%s: not a VHDX image (no \"vhdxfile\" signature)", v->path);
		r = -EINVAL;
		goto fail;
	}
	r = vhdx_read_headers(v, size, err, errlen);
	if (r < 0)
		goto fail;
	bool pending;
	r = vhdx_log_replay(v, size, !ro, &pending, err, errlen);
	if (r < 0)
		goto fail;
	if (pending && ro) {
		snprintf(err, errlen,
			 "%s: the VHDX image has a log to replay (it was not closed cleanly); "
			 "open it read-write once (e.g. `osio disk check --repair %s`) and then "
			 "read-only",
			 v->path, v->path);
		r = -EBUSY;
		goto fail;
	}
	if (pending) {
		if (fstat(fd, &st) < 0) {
			r = -errno;
			goto fail;
		}
		size = (uint64_t)st.st_size;
	}
	r = vhdx_read_regions(v, size, err, errlen);
	if (r < 0)
		goto fail;
	r = vhdx_read_metadata(v, err, errlen);
	if (r < 0)
		goto fail;
	r = vhdx_read_bat(v, size, err, errlen);
	if (r < 0)
		goto fail;
	bd->priv = v;
	bd->size = v->size;
	bd->logical_sector = v->logical_sector;
	if (v->has_parent) {
		r = open_parent(bd, v, err, errlen);
		if (r < 0)
			goto fail;
	}
	return 0;
fail:
	bd->priv = NULL;
	vhdx_free(v);
	return r;
}

static void vhdx_close(struct block_dev *bd)
{
	struct vhdx *v = bd->priv;
	if (!bd->readonly)
		(void)fdatasync(v->fd);
	vhdx_free(v);
}

/* --- info -------------------------------------------------------------------- */

static int vhdx_info(struct block_dev *bd, struct block_info *info)
{
	struct vhdx *v = bd->priv;
	snprintf(info->subformat, sizeof(info->subformat), "%s",
		 v->has_parent	      ? "differencing"
		 : v->leave_allocated ? "fixed"
				      : "dynamic");
	info->block_size = v->block_size;
	info->logical_sector = v->logical_sector;
	info->physical_sector = v->physical_sector;
	const char *p = v->parent_rel	? v->parent_rel
			: v->parent_abs ? v->parent_abs
					: v->parent_vol;
	snprintf(info->parent, sizeof(info->parent), "%s", p ? p : "");
	info->dirty = false; /* a log is replayed when the image opens */
	return 0;
}

const struct block_driver block_vhdx_driver = {
    .name = "vhdx",
    .probe = vhdx_probe,
    .open = vhdx_open,
    .close = vhdx_close,
    .io = vhdx_io,
    .create = vhdx_create,
    .info = vhdx_info,
    .resize = vhdx_resize,
    .check = vhdx_check,
    .set_parent = vhdx_set_parent,
};
