/* Creating VHDX images (fixed, dynamic, differencing; 512 or 4096-byte
 * logical sectors) and growing them, moving the BAT to the end of the file
 * when it must grow. */
#include "devices/block/vhdx_int.h"

#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define LOG_OFF	 VHDX_MiB
#define META_OFF (2u * VHDX_MiB)
#define META_LEN VHDX_MiB
#define BAT_OFF	 (3u * VHDX_MiB)

#define FLAG_VIRTUAL_DISK 2u
#define FLAG_REQUIRED	  4u

static uint64_t round_mib(uint64_t x)
{
	return (x + VHDX_MiB - 1) & ~(uint64_t)(VHDX_MiB - 1);
}

/* UTF-8 to UTF-16LE into out (room for cap bytes), '/' as '\\' when
 * windows; the byte length, or 0 if it does not fit or is not UTF-8. */
static size_t to_utf16(const char *s, bool windows, uint8_t *out, size_t cap)
{
	int n = block_utf8_to_utf16(s, out, cap, false, windows);
	return n < 0 ? 0 : (size_t)n;
}

/* Appends one key/value pair to the parent locator at loc (used bytes
 * *used, entries *n, room cap); false if it does not fit. */
static bool locator_add(uint8_t *loc, size_t cap, size_t *used, unsigned *n, const char *key,
			const char *val, bool windows)
{
	uint8_t *e = loc + 20 + 12 * *n;
	size_t kl = to_utf16(key, false, loc + *used, cap - *used);
	if (!kl)
		return false;
	size_t ko = *used;
	*used += kl;
	size_t vl = to_utf16(val, windows, loc + *used, cap - *used);
	if (!vl || kl > 0xffff || vl > 0xffff)
		return false;
	vhdx_put32(e, (uint32_t)ko);
	vhdx_put32(e + 4, (uint32_t)*used);
	vhdx_put16(e + 8, (uint16_t)kl);
	vhdx_put16(e + 10, (uint16_t)vl);
	*used += vl;
	(*n)++;
	return true;
}

size_t vhdx_locator_build(uint8_t *loc, size_t cap, const char *name, const char *abs,
			  const struct vhdx_guid *link, const struct vhdx_guid *link2)
{
	char g[39], g2[39];
	vhdx_guid_format(link, g);
	if (link2)
		vhdx_guid_format(link2, g2);
	for (char *c = g; *c; c++)
		if (*c >= 'A' && *c <= 'F')
			*c = (char)(*c - 'A' + 'a'); /* the spec's lowercase form */
	for (char *c = g2; link2 && *c; c++)
		if (*c >= 'A' && *c <= 'F')
			*c = (char)(*c - 'A' + 'a');
	if (cap < 20 + 12 * 4)
		return 0;
	memset(loc, 0, 20 + 12 * 4);
	memcpy(loc, vhdx_locator_type_guid.b, 16);
	size_t used = 20 + 12 * (link2 ? 4 : 3);
	unsigned n = 0;
	if (!locator_add(loc, cap, &used, &n, "parent_linkage", g, false))
		return 0;
	if (link2 && !locator_add(loc, cap, &used, &n, "parent_linkage2", g2, false))
		return 0;
	if (name[0] != '/' && !locator_add(loc, cap, &used, &n, "relative_path", name, true))
		return 0;
	if (!locator_add(loc, cap, &used, &n, "absolute_win32_path", abs, false))
		return 0;
	vhdx_put16(loc + 18, (uint16_t)n);
	/* Entries were laid out for all; fewer leave a gap, which is allowed. */
	return used;
}

/* Builds the parent locator for parent (named name in the new image). */
static size_t build_locator(uint8_t *loc, size_t cap, const char *name, struct block_dev *parent)
{
	struct vhdx_guid link;
	if (parent->drv == &block_vhdx_driver)
		link = ((const struct vhdx *)parent->priv)->hdr.data_write;
	else
		vhdx_guid_random(&link);
	char abs[PATH_MAX];
	if (!realpath(block_path(parent), abs))
		snprintf(abs, sizeof(abs), "%s", block_path(parent));
	return vhdx_locator_build(loc, cap, name, abs, &link, NULL);
}

static void meta_entry(uint8_t *t, unsigned i, const struct vhdx_guid *id, uint32_t off,
		       uint32_t len, uint32_t flags)
{
	uint8_t *e = t + 32 + 32 * i;
	memcpy(e, id->b, 16);
	vhdx_put32(e + 16, off);
	vhdx_put32(e + 20, len);
	vhdx_put32(e + 24, flags);
}

int vhdx_create(int fd, const char *path, const struct block_create_opts *opts,
		struct block_dev *parent, char *err, size_t errlen)
{
	uint64_t size = opts->size ? opts->size : parent ? block_size(parent) : 0;
	unsigned ls = opts->logical_sector;
	if (!ls)
		ls = parent ? block_logical_sector(parent) : 512;
	uint32_t bs = opts->block_size;
	if (!bs)
		bs = parent ? VHDX_BLOCK_DIFF : VHDX_BLOCK_DEFAULT;
	if (ls != 512 && ls != 4096) {
		snprintf(err, errlen, "%s: a VHDX logical sector is 512 or 4096 bytes, not %u",
			 path, ls);
		return -EINVAL;
	}
	if (parent && block_logical_sector(parent) != ls) {
		snprintf(err, errlen,
			 "%s: the parent %s has %u-byte sectors; a differencing disk must have the "
			 "same",
			 path, block_path(parent), block_logical_sector(parent));
		return -EINVAL;
	}
	if (bs < VHDX_BLOCK_MIN || bs > VHDX_BLOCK_MAX || (bs & (bs - 1))) {
		snprintf(err, errlen,
			 "%s: a VHDX block size is a power of two from 1 MiB to 256 MiB, not %u",
			 path, bs);
		return -EINVAL;
	}
	if (!size || size % ls || size > VHDX_MAX_SIZE) {
		snprintf(err, errlen,
			 "%s: a VHDX disk is 1 sector to 64 TiB in whole %u-byte sectors; %llu "
			 "bytes is not",
			 path, ls, (unsigned long long)size);
		return -EINVAL;
	}
	if (parent && opts->fixed) {
		snprintf(err, errlen, "%s: a differencing disk cannot be fixed", path);
		return -EINVAL;
	}
	uint64_t entries = vhdx_bat_entries_for(size, bs, ls, parent != NULL);
	uint64_t bat_len = round_mib(entries * 8);
	uint64_t data_off = BAT_OFF + bat_len;
	uint64_t ratio = ((uint64_t)VHDX_SECTORS_PER_SB * ls) / bs;
	uint64_t blocks = vhdx_blocks_for(size, bs);

	uint8_t *buf = calloc(1, VHDX_SECTION_END);
	uint8_t *meta = calloc(1, META_LEN);
	uint8_t *bat = calloc(1, bat_len);
	int r = -ENOMEM;
	if (!buf || !meta || !bat)
		goto out;

	/* The header section. */
	memcpy(buf, "vhdxfile", 8);
	to_utf16("osio", false, buf + 8, 512);
	struct vhdx_header h = {
	    .log_version = 0, .version = 1, .log_length = VHDX_LOG_DEFAULT, .log_offset = LOG_OFF};
	vhdx_guid_random(&h.file_write);
	vhdx_guid_random(&h.data_write);
	for (unsigned i = 0; i < 2; i++) {
		h.seq = i + 1;
		vhdx_header_encode(&h, buf + (i ? VHDX_HEADER2_OFF : VHDX_HEADER1_OFF));
	}
	vhdx_region_encode(buf + VHDX_REGION1_OFF, BAT_OFF, (uint32_t)bat_len, META_OFF, META_LEN);
	memcpy(buf + VHDX_REGION2_OFF, buf + VHDX_REGION1_OFF, VHDX_REGION_SIZE);

	/* The metadata region. */
	memcpy(meta, "metadata", 8);
	uint8_t *it = meta + VHDX_META_ITEM_MIN;
	vhdx_put32(it, bs);
	vhdx_put32(it + 4, (opts->fixed ? 1u : 0u) | (parent ? 2u : 0u));
	vhdx_put64(it + 8, size);
	struct vhdx_guid page83;
	vhdx_guid_random(&page83);
	memcpy(it + 16, page83.b, 16);
	vhdx_put32(it + 32, ls);
	vhdx_put32(it + 36, 4096); /* physical sector: what Hyper-V sets */
	unsigned n = 0;
	uint32_t mo = VHDX_META_ITEM_MIN;
	meta_entry(meta, n++, &vhdx_file_params_guid, mo, 8, FLAG_REQUIRED);
	meta_entry(meta, n++, &vhdx_disk_size_guid, mo + 8, 8, FLAG_VIRTUAL_DISK | FLAG_REQUIRED);
	meta_entry(meta, n++, &vhdx_page83_guid, mo + 16, 16, FLAG_VIRTUAL_DISK | FLAG_REQUIRED);
	meta_entry(meta, n++, &vhdx_logical_guid, mo + 32, 4, FLAG_VIRTUAL_DISK | FLAG_REQUIRED);
	meta_entry(meta, n++, &vhdx_physical_guid, mo + 36, 4, FLAG_VIRTUAL_DISK | FLAG_REQUIRED);
	if (parent) {
		uint32_t lo = mo + 64 * VHDX_KiB;
		size_t ll = build_locator(meta + lo, META_LEN - lo, opts->parent, parent);
		if (!ll) {
			snprintf(err, errlen, "%s: the parent's name %s is too long or not UTF-8",
				 path, opts->parent);
			r = -EINVAL;
			goto out;
		}
		meta_entry(meta, n++, &vhdx_parent_locator_guid, lo, (uint32_t)ll, FLAG_REQUIRED);
	}
	vhdx_put16(meta + 10, (uint16_t)n);

	/* The BAT: a fixed disk has every block, one after the other. */
	if (opts->fixed)
		for (uint64_t b = 0; b < blocks; b++)
			vhdx_put64(bat + 8 * (b + b / ratio),
				   (data_off + b * bs) | VHDX_PAYLOAD_FULLY_PRESENT);

	r = block_file_pwrite(fd, buf, VHDX_SECTION_END, 0);
	if (r == 0)
		r = block_file_zero(fd, LOG_OFF, VHDX_LOG_DEFAULT);
	if (r == 0)
		r = block_file_pwrite(fd, meta, META_LEN, META_OFF);
	if (r == 0)
		r = block_file_pwrite(fd, bat, bat_len, BAT_OFF);
	uint64_t end = data_off;
	if (r == 0 && opts->fixed) {
		uint64_t total = blocks * bs, done = 0;
		while (r == 0 && done < total) {
			uint64_t k = total - done < 64 * VHDX_MiB ? total - done : 64 * VHDX_MiB;
			r = block_file_zero(fd, data_off + done, k);
			done += k;
			if (r == 0 && opts->progress && opts->progress(opts->opaque, done, total))
				r = -EINTR;
		}
		end = data_off + total;
	}
	if (r == 0 && ftruncate(fd, (off_t)end) < 0)
		r = -errno;
	if (r == 0 && fdatasync(fd) < 0)
		r = -errno;
	if (r < 0 && r != -EINTR)
		snprintf(err, errlen, "%s: cannot write the new VHDX image: %s", path,
			 strerror(-r));
	else if (r == -EINTR)
		snprintf(err, errlen, "%s: creation stopped", path);
out:
	free(buf);
	free(meta);
	free(bat);
	return r;
}

/* --- resize ------------------------------------------------------------------ */

/* Moves the BAT to a new region of len bytes at the end of the file. */
static int move_bat(struct vhdx *v, uint64_t len)
{
	uint64_t off = v->file_end;
	uint8_t *raw = calloc(1, len);
	uint64_t *bat = calloc(len / 8, sizeof(uint64_t));
	uint8_t *rt = malloc(VHDX_REGION_SIZE);
	int r = -ENOMEM;
	if (!raw || !bat || !rt)
		goto out;
	for (uint64_t i = 0; i < v->bat_entries; i++) {
		bat[i] = v->bat[i];
		vhdx_put64(raw + 8 * i, v->bat[i]);
	}
	/* The new copy is on disk before the region tables name it. */
	r = block_file_pwrite(v->fd, raw, len, off);
	if (r == 0 && fdatasync(v->fd) < 0)
		r = -errno;
	if (r < 0)
		goto out;
	vhdx_region_encode(rt, off, (uint32_t)len, v->meta_off, v->meta_len);
	for (unsigned i = 0; i < 2 && r == 0; i++) {
		r = block_file_pwrite(v->fd, rt, VHDX_REGION_SIZE,
				      i ? VHDX_REGION2_OFF : VHDX_REGION1_OFF);
		if (r == 0 && fdatasync(v->fd) < 0)
			r = -errno;
	}
	if (r < 0)
		goto out;
	free(v->bat);
	v->bat = bat;
	bat = NULL;
	v->bat_entries = len / 8;
	v->bat_off = off;
	v->bat_len = (uint32_t)len;
	v->file_end = off + len;
out:
	free(raw);
	free(bat);
	free(rt);
	return r;
}

int vhdx_resize(struct block_dev *bd, uint64_t size, char *err, size_t errlen)
{
	struct vhdx *v = bd->priv;
	if (size < v->size) {
		snprintf(err, errlen, "%s: a VHDX image cannot shrink", v->path);
		return -EINVAL;
	}
	if (size % v->logical_sector || size > VHDX_MAX_SIZE) {
		snprintf(err, errlen,
			 "%s: the new size must be whole %u-byte sectors and at most 64 TiB",
			 v->path, v->logical_sector);
		return -EINVAL;
	}
	int r = vhdx_touch(v);
	if (r < 0)
		goto ioerr;
	uint64_t old_need =
	    vhdx_bat_entries_for(v->size, v->block_size, v->logical_sector, v->has_parent);
	uint64_t need = vhdx_bat_entries_for(size, v->block_size, v->logical_sector, v->has_parent);
	if (need * 8 > v->bat_len) {
		uint64_t len = round_mib(need * 8);
		if (len > UINT32_MAX) {
			snprintf(err, errlen, "%s: the BAT for %llu bytes does not fit a region",
				 v->path, (unsigned long long)size);
			return -EINVAL;
		}
		r = move_bat(v, len);
		if (r < 0)
			goto ioerr;
	}
	/* Entries the disk starts using must say "not present". */
	for (uint64_t i = old_need; i < need; i++) {
		if (v->bat[i]) {
			r = vhdx_bat_set(v, i, 0);
			if (r < 0)
				goto ioerr;
		}
	}
	/* A fixed disk stays fixed: its new blocks are allocated now, their
	 * space zeroed before the BAT points at it. */
	uint64_t old_blocks = v->blocks, new_blocks = vhdx_blocks_for(size, v->block_size);
	if (v->leave_allocated && new_blocks > old_blocks) {
		uint64_t start = v->file_end, len = (new_blocks - old_blocks) * v->block_size;
		r = block_file_zero(v->fd, start, len);
		if (r == 0 && fdatasync(v->fd) < 0)
			r = -errno;
		for (uint64_t b = old_blocks; r == 0 && b < new_blocks; b++)
			r = vhdx_bat_set(v, vhdx_payload_index(v, b),
					 (start + (b - old_blocks) * v->block_size) |
					     VHDX_PAYLOAD_FULLY_PRESENT);
		if (r < 0)
			goto ioerr;
		v->file_end = start + len;
	}
	/* The old last block's bytes past the old end become visible. */
	uint64_t tail = v->size % v->block_size;
	if (tail) {
		uint64_t e = v->bat[vhdx_payload_index(v, v->size / v->block_size)];
		if (VHDX_BAT_STATE(e) == VHDX_PAYLOAD_FULLY_PRESENT) {
			r = block_file_zero(v->fd, VHDX_BAT_OFFSET(e) + tail, v->block_size - tail);
			if (r < 0)
				goto ioerr;
		}
	}
	if (fdatasync(v->fd) < 0) {
		r = -errno;
		goto ioerr;
	}
	uint8_t b[8];
	vhdx_put64(b, size);
	r = block_file_pwrite(v->fd, b, 8, v->size_item_off);
	if (r == 0 && fdatasync(v->fd) < 0)
		r = -errno;
	if (r < 0)
		goto ioerr;
	v->size = size;
	v->blocks = vhdx_blocks_for(size, v->block_size);
	return 0;
ioerr:
	snprintf(err, errlen, "%s: cannot resize the VHDX image: %s", v->path, strerror(-r));
	return r;
}
