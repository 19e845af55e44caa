/* Checking a VHDX image's BAT against the file: blocks past the end of the
 * file, blocks that overlap each other, states that do not fit the disk's
 * type, and space nothing uses; with repair, the fixes that lose no data. */
#include "devices/block/vhdx_int.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

struct walk {
	struct vhdx *v;
	struct block_check *res;
	bool repair;
	uint8_t *used; /* one bit per MiB of the file */
	uint64_t units;
	uint64_t size; /* the file's */
	int err;
};

static bool unit_test_set(struct walk *w, uint64_t off, uint64_t len)
{
	bool clash = false;
	for (uint64_t u = off / VHDX_MiB; u < (off + len) / VHDX_MiB && u < w->units; u++) {
		if (w->used[u / 8] >> (u % 8) & 1)
			clash = true;
		w->used[u / 8] = (uint8_t)(w->used[u / 8] | 1u << (u % 8));
	}
	return clash;
}

static void fix(struct walk *w, uint64_t i, uint64_t e)
{
	if (!w->repair || w->err)
		return;
	int r = vhdx_bat_set(w->v, i, e);
	if (r < 0)
		w->err = r;
	else
		w->res->repaired++;
}

static void corrupt(struct walk *w)
{
	w->res->corruptions++;
}

static void check_entry(struct walk *w, uint64_t i, bool sb)
{
	struct vhdx *v = w->v;
	uint64_t e = vhdx_bat_get(v, i);
	unsigned st = VHDX_BAT_STATE(e);
	uint64_t off = VHDX_BAT_OFFSET(e);
	if (sb) {
		if (st != VHDX_SB_PRESENT)
			return;
		if (!v->has_parent) {
			block_check_report(w->res,
					   "BAT entry %llu: a sector bitmap in a disk without a "
					   "parent",
					   (unsigned long long)i);
			corrupt(w);
			fix(w, i, VHDX_SB_NOT_PRESENT);
			return;
		}
	} else if (st == VHDX_PAYLOAD_PARTIALLY_PRESENT && !v->has_parent) {
		block_check_report(w->res,
				   "BAT entry %llu: a partially present block in a disk without a "
				   "parent",
				   (unsigned long long)i);
		corrupt(w);
		fix(w, i, off | VHDX_PAYLOAD_FULLY_PRESENT);
		e = off | VHDX_PAYLOAD_FULLY_PRESENT;
	} else if (st != VHDX_PAYLOAD_FULLY_PRESENT && st != VHDX_PAYLOAD_PARTIALLY_PRESENT) {
		return;
	}
	uint64_t len = sb ? VHDX_SB_SIZE : v->block_size;
	if (off >= w->size) {
		block_check_report(w->res,
				   "BAT entry %llu: the block at 0x%llx lies past the end of the "
				   "file (0x%llx)",
				   (unsigned long long)i, (unsigned long long)off,
				   (unsigned long long)w->size);
		corrupt(w);
		fix(w, i, 0); /* its data is gone: not present */
		return;
	}
	if (off + len > w->size) {
		block_check_report(w->res,
				   "BAT entry %llu: the block at 0x%llx ends past the end of the "
				   "file",
				   (unsigned long long)i, (unsigned long long)off);
		corrupt(w);
		/* What is there stays: the file grows to hold the whole block. */
		if (w->repair && !w->err) {
			if (ftruncate(v->fd, (off_t)(off + len)) < 0) {
				w->err = -errno;
			} else {
				w->res->repaired++;
				w->size = off + len;
			}
		}
	}
	if (unit_test_set(w, off, len)) {
		block_check_report(w->res,
				   "BAT entry %llu: the block at 0x%llx overlaps another block or "
				   "the image's metadata",
				   (unsigned long long)i, (unsigned long long)off);
		corrupt(w);
		fix(w, i, 0);
	}
}

int vhdx_check(struct block_dev *bd, bool repair, struct block_check *res)
{
	struct vhdx *v = bd->priv;
	struct stat st;
	if (fstat(v->fd, &st) < 0)
		return -errno;
	struct walk w = {.v = v, .res = res, .repair = repair, .size = (uint64_t)st.st_size};
	uint64_t top = w.size > v->file_end ? w.size : v->file_end;
	w.units = (top + VHDX_MiB - 1) / VHDX_MiB;
	w.used = calloc(1, (size_t)(w.units / 8 + 1));
	if (!w.used)
		return -ENOMEM;
	if (repair) {
		int r = vhdx_touch(v);
		if (r < 0) {
			free(w.used);
			return r;
		}
	}
	unit_test_set(&w, 0, VHDX_SECTION_END);
	if (v->hdr.log_length)
		unit_test_set(&w, v->hdr.log_offset, v->hdr.log_length);
	unit_test_set(&w, v->bat_off, v->bat_len);
	unit_test_set(&w, v->meta_off, v->meta_len);
	uint64_t need =
	    vhdx_bat_entries_for(v->size, v->block_size, v->logical_sector, v->has_parent);
	for (uint64_t i = 0; i < need && !w.err; i++)
		check_entry(&w, i, i % (v->chunk_ratio + 1) == v->chunk_ratio);
	/* Partially present blocks need their chunk's sector bitmap. */
	for (uint64_t b = 0; v->has_parent && b < v->blocks; b++) {
		uint64_t e = vhdx_bat_get(v, vhdx_payload_index(v, b));
		uint64_t s = vhdx_bat_get(v, vhdx_sb_index(v, b));
		if (VHDX_BAT_STATE(e) == VHDX_PAYLOAD_PARTIALLY_PRESENT &&
		    VHDX_BAT_STATE(s) != VHDX_SB_PRESENT) {
			block_check_report(res,
					   "block %llu is partially present but its sector bitmap "
					   "is not",
					   (unsigned long long)b);
			corrupt(&w);
		}
	}
	/* Space nothing uses: whole MiBs inside the file. */
	uint64_t unused = 0, last_used = 0;
	for (uint64_t u = 0; u < w.size / VHDX_MiB; u++) {
		if (w.used[u / 8] >> (u % 8) & 1)
			last_used = u + 1;
		else
			unused++;
	}
	/* Unused space at the end of the file is not a leak: writers (QEMU,
	 * Hyper-V) extend files ahead of need, as qemu-img check accepts. It
	 * is reported, and --repair gives it back to the file system. */
	uint64_t end = last_used * VHDX_MiB;
	uint64_t tail = w.size > end ? (w.size - end + VHDX_MiB - 1) / VHDX_MiB : 0;
	uint64_t inside = unused > tail ? unused - tail : 0;
	if (inside) {
		block_check_report(res, "%llu MiB inside the file are not used by any block",
				   (unsigned long long)inside);
		res->leaks += inside;
	}
	if (tail) {
		block_check_report(res,
				   "note: the last %llu MiB of the file are not used yet (not an "
				   "error; --repair trims them)",
				   (unsigned long long)tail);
		if (repair && !w.err && end >= VHDX_SECTION_END) {
			if (ftruncate(v->fd, (off_t)end) < 0) {
				w.err = -errno;
			} else {
				res->repaired += tail;
				v->file_end = end;
			}
		}
	}
	if (!w.err && repair && fdatasync(v->fd) < 0)
		w.err = -errno;
	free(w.used);
	return w.err;
}
