/* VHDX metadata ([MS-VHDX] v1.0 sections 2.5-2.6): the metadata region's
 * items (file parameters, sizes, sector sizes, the parent locator) and the
 * BAT, read from a possibly hostile file and checked before use. */
#include "devices/block/vhdx_int.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Whether [a, a + alen) and [b, b + blen) overlap. */
static bool overlaps(uint64_t a, uint64_t alen, uint64_t b, uint64_t blen)
{
	return a < b + blen && b < a + alen;
}

/* --- metadata ---------------------------------------------------------------- */

/* UTF-16LE (len bytes) to UTF-8 with '\' turned into '/'; NULL on bad input. */
static char *utf16_path(const uint8_t *p, size_t len)
{
	if (len % 2)
		return NULL;
	char *out = malloc(len / 2 * 3 + 1);
	if (!out)
		return NULL;
	size_t o = 0;
	for (size_t i = 0; i < len; i += 2) {
		uint32_t c = vhdx_le16(p + i);
		if (c >= 0xd800 && c < 0xdc00 && i + 2 < len) {
			uint32_t lo = vhdx_le16(p + i + 2);
			if (lo >= 0xdc00 && lo < 0xe000) {
				c = 0x10000 + ((c - 0xd800) << 10) + (lo - 0xdc00);
				i += 2;
			}
		}
		if (c == 0 || (c >= 0xd800 && c < 0xe000)) {
			free(out);
			return NULL;
		}
		if (c == '\\')
			c = '/';
		if (c < 0x80) {
			out[o++] = (char)c;
		} else if (c < 0x800) {
			out[o++] = (char)(0xc0 | c >> 6);
			out[o++] = (char)(0x80 | (c & 0x3f));
		} else if (c < 0x10000) {
			out[o++] = (char)(0xe0 | c >> 12);
			out[o++] = (char)(0x80 | (c >> 6 & 0x3f));
			out[o++] = (char)(0x80 | (c & 0x3f));
		} else {
			/* Four bytes in UTF-8 from two UTF-16 units: room enough. */
			out[o++] = (char)(0xf0 | c >> 18);
			out[o++] = (char)(0x80 | (c >> 12 & 0x3f));
			out[o++] = (char)(0x80 | (c >> 6 & 0x3f));
			out[o++] = (char)(0x80 | (c & 0x3f));
		}
	}
	out[o] = 0;
	return out;
}

static int parse_locator(struct vhdx *v, const uint8_t *p, uint32_t len, char *err, size_t errlen)
{
	if (len < 20) {
		snprintf(err, errlen, "%s: the VHDX parent locator is too short", v->path);
		return -EINVAL;
	}
	struct vhdx_guid type;
	memcpy(type.b, p, 16);
	if (!vhdx_guid_eq(&type, &vhdx_locator_type_guid)) {
		snprintf(err, errlen,
			 "%s: the VHDX parent locator is of a type osio does not know (not a VHDX "
			 "parent)",
			 v->path);
		return -ENOTSUP;
	}
	uint32_t n = vhdx_le16(p + 18);
	if (20 + 12ull * n > len) {
		snprintf(err, errlen, "%s: the VHDX parent locator's %u entries do not fit in it",
			 v->path, n);
		return -EINVAL;
	}
	for (uint32_t i = 0; i < n; i++) {
		const uint8_t *e = p + 20 + 12 * i;
		uint32_t ko = vhdx_le32(e), vo = vhdx_le32(e + 4);
		uint32_t kl = vhdx_le16(e + 8), vl = vhdx_le16(e + 10);
		if (!kl || !vl || ko > len || kl > len - ko || vo > len || vl > len - vo) {
			snprintf(err, errlen,
				 "%s: VHDX parent locator entry %u lies outside the locator",
				 v->path, i);
			return -EINVAL;
		}
		char *key = utf16_path(p + ko, kl), *val = utf16_path(p + vo, vl);
		if (!key || !val) {
			free(key);
			free(val);
			snprintf(err, errlen,
				 "%s: VHDX parent locator entry %u is not valid UTF-16 text",
				 v->path, i);
			return -EINVAL;
		}
		char **slot = NULL;
		if (strcmp(key, "relative_path") == 0)
			slot = &v->parent_rel;
		else if (strcmp(key, "absolute_win32_path") == 0)
			slot = &v->parent_abs;
		else if (strcmp(key, "volume_path") == 0)
			slot = &v->parent_vol;
		else if (strcmp(key, "parent_linkage") == 0)
			v->has_linkage = vhdx_guid_parse(val, &v->parent_linkage);
		else if (strcmp(key, "parent_linkage2") == 0)
			v->has_linkage2 = vhdx_guid_parse(val, &v->parent_linkage2);
		if (slot && !*slot) {
			*slot = val;
			val = NULL;
		}
		free(key);
		free(val);
	}
	if (!v->parent_rel && !v->parent_abs && !v->parent_vol) {
		snprintf(err, errlen,
			 "%s: the VHDX differencing disk's parent locator names no parent path",
			 v->path);
		return -EINVAL;
	}
	return 0;
}

enum { M_PARAMS, M_SIZE, M_PAGE83, M_LOGICAL, M_PHYSICAL, M_LOCATOR, M_COUNT };

int vhdx_read_metadata(struct vhdx *v, char *err, size_t errlen)
{
	static const struct vhdx_guid *const ids[M_COUNT] = {
	    &vhdx_file_params_guid, &vhdx_disk_size_guid, &vhdx_page83_guid,
	    &vhdx_logical_guid,	    &vhdx_physical_guid,  &vhdx_parent_locator_guid};
	static const char *const names[M_COUNT] = {"file parameters",	   "virtual disk size",
						   "page 83 data",	   "logical sector size",
						   "physical sector size", "parent locator"};
	uint32_t off[M_COUNT] = {0}, len[M_COUNT] = {0};
	bool have[M_COUNT] = {false};
	uint8_t *t = malloc(VHDX_META_ITEM_MIN);
	uint8_t *item = NULL;
	if (!t)
		return -ENOMEM;
	int r = block_file_pread(v->fd, t, VHDX_META_ITEM_MIN, v->meta_off);
	if (r < 0) {
		snprintf(err, errlen, "%s: cannot read the VHDX metadata table: %s", v->path,
			 strerror(-r));
		goto out;
	}
	r = -EINVAL;
	if (memcmp(t, "metadata", 8) != 0) {
		snprintf(err, errlen, "%s: the VHDX metadata table has a bad signature", v->path);
		goto out;
	}
	uint32_t n = vhdx_le16(t + 10);
	if (n > VHDX_META_MAX) {
		snprintf(err, errlen, "%s: the VHDX metadata table has %u entries (at most %u)",
			 v->path, n, VHDX_META_MAX);
		goto out;
	}
	for (uint32_t i = 0; i < n; i++) {
		const uint8_t *e = t + 32 + 32 * i;
		struct vhdx_guid g;
		memcpy(g.b, e, 16);
		uint32_t o = vhdx_le32(e + 16), l = vhdx_le32(e + 20), flags = vhdx_le32(e + 24);
		int k = -1;
		for (int j = 0; j < M_COUNT; j++)
			if (vhdx_guid_eq(&g, ids[j]) && !(flags & 1))
				k = j;
		if (l && (o < VHDX_META_ITEM_MIN || l > VHDX_META_ITEM_MAX || o > v->meta_len ||
			  l > v->meta_len - o)) {
			snprintf(
			    err, errlen,
			    "%s: VHDX metadata item %u (offset 0x%x, length 0x%x) lies outside "
			    "the metadata region",
			    v->path, i, o, l);
			goto out;
		}
		if (k < 0) {
			if (flags & 4) {
				char s[39];
				vhdx_guid_format(&g, s);
				snprintf(err, errlen,
					 "%s: the VHDX image needs metadata %s that osio does not "
					 "know (made by a newer Hyper-V?)",
					 v->path, s);
				r = -ENOTSUP;
				goto out;
			}
			continue;
		}
		if (have[k]) {
			snprintf(err, errlen, "%s: the VHDX metadata lists the %s twice", v->path,
				 names[k]);
			goto out;
		}
		have[k] = true;
		off[k] = o;
		len[k] = l;
	}
	static const uint32_t need_len[M_COUNT] = {8, 8, 16, 4, 4, 20};
	for (int k = 0; k < M_COUNT; k++) {
		if (k == M_LOCATOR || k == M_PAGE83)
			continue;
		if (!have[k]) {
			snprintf(err, errlen, "%s: the VHDX metadata has no %s", v->path, names[k]);
			goto out;
		}
	}
	for (int k = 0; k < M_COUNT; k++) {
		if (have[k] && len[k] < need_len[k]) {
			snprintf(err, errlen, "%s: the VHDX %s item is too short (%u bytes)",
				 v->path, names[k], len[k]);
			goto out;
		}
	}
	uint8_t b[16];
	r = block_file_pread(v->fd, b, 8, v->meta_off + off[M_PARAMS]);
	if (r < 0)
		goto rerr;
	v->block_size = vhdx_le32(b);
	v->leave_allocated = vhdx_le32(b + 4) & 1;
	v->has_parent = vhdx_le32(b + 4) & 2;
	v->size_item_off = v->meta_off + off[M_SIZE];
	r = block_file_pread(v->fd, b, 8, v->size_item_off);
	if (r < 0)
		goto rerr;
	v->size = vhdx_le64(b);
	r = block_file_pread(v->fd, b, 4, v->meta_off + off[M_LOGICAL]);
	if (r < 0)
		goto rerr;
	v->logical_sector = vhdx_le32(b);
	r = block_file_pread(v->fd, b, 4, v->meta_off + off[M_PHYSICAL]);
	if (r < 0)
		goto rerr;
	v->physical_sector = vhdx_le32(b);
	if (have[M_PAGE83]) {
		r = block_file_pread(v->fd, v->page83.b, 16, v->meta_off + off[M_PAGE83]);
		if (r < 0)
			goto rerr;
	}
	r = -EINVAL;
	if (v->block_size < VHDX_BLOCK_MIN || v->block_size > VHDX_BLOCK_MAX ||
	    (v->block_size & (v->block_size - 1))) {
		snprintf(err, errlen,
			 "%s: the VHDX block size %u is not a power of two from 1 MiB to 256 MiB",
			 v->path, v->block_size);
		goto out;
	}
	if (v->logical_sector != 512 && v->logical_sector != 4096) {
		snprintf(err, errlen, "%s: the VHDX logical sector size %u is not 512 or 4096",
			 v->path, v->logical_sector);
		goto out;
	}
	if (v->physical_sector != 512 && v->physical_sector != 4096) {
		snprintf(err, errlen, "%s: the VHDX physical sector size %u is not 512 or 4096",
			 v->path, v->physical_sector);
		goto out;
	}
	if (!v->size || v->size % v->logical_sector || v->size > VHDX_MAX_SIZE) {
		snprintf(err, errlen,
			 "%s: the VHDX virtual disk size %llu is zero, not a whole number of "
			 "sectors, or over 64 TiB",
			 v->path, (unsigned long long)v->size);
		goto out;
	}
	v->chunk_ratio = ((uint64_t)VHDX_SECTORS_PER_SB * v->logical_sector) / v->block_size;
	v->blocks = vhdx_blocks_for(v->size, v->block_size);
	if (v->has_parent) {
		if (!have[M_LOCATOR]) {
			snprintf(err, errlen,
				 "%s: the VHDX image is a differencing disk without a parent "
				 "locator",
				 v->path);
			goto out;
		}
		item = malloc(len[M_LOCATOR]);
		if (!item) {
			r = -ENOMEM;
			goto out;
		}
		r = block_file_pread(v->fd, item, len[M_LOCATOR], v->meta_off + off[M_LOCATOR]);
		if (r < 0)
			goto rerr;
		r = parse_locator(v, item, len[M_LOCATOR], err, errlen);
		if (r < 0)
			goto out;
	}
	r = 0;
	goto out;
rerr:
	snprintf(err, errlen, "%s: cannot read the VHDX metadata: %s", v->path, strerror(-r));
out:
	free(item);
	free(t);
	return r;
}

/* --- the BAT ----------------------------------------------------------------- */

uint64_t vhdx_blocks_for(uint64_t size, uint32_t block_size)
{
	return (size + block_size - 1) / block_size;
}

uint64_t vhdx_bat_entries_for(uint64_t size, uint32_t block_size, uint32_t logical, bool has_parent)
{
	uint64_t ratio = ((uint64_t)VHDX_SECTORS_PER_SB * logical) / block_size;
	uint64_t blocks = vhdx_blocks_for(size, block_size);
	if (!blocks)
		return 0;
	if (has_parent)
		return (blocks + ratio - 1) / ratio * (ratio + 1);
	return blocks + (blocks - 1) / ratio;
}

/* Which fixed structure [off, off + len) overlaps, or NULL. */
static const char *overlaps_structure(const struct vhdx *v, uint64_t off, uint64_t len)
{
	if (off < VHDX_SECTION_END)
		return "the header section";
	if (v->hdr.log_length && overlaps(off, len, v->hdr.log_offset, v->hdr.log_length))
		return "the log";
	if (overlaps(off, len, v->bat_off, v->bat_len))
		return "the BAT";
	if (overlaps(off, len, v->meta_off, v->meta_len))
		return "the metadata region";
	return NULL;
}

int vhdx_read_bat(struct vhdx *v, uint64_t file_size, char *err, size_t errlen)
{
	uint64_t need =
	    vhdx_bat_entries_for(v->size, v->block_size, v->logical_sector, v->has_parent);
	if (need > v->bat_len / 8) {
		snprintf(err, errlen,
			 "%s: the VHDX BAT region (0x%x bytes) is too small for a %llu-byte disk "
			 "(%llu entries)",
			 v->path, v->bat_len, (unsigned long long)v->size,
			 (unsigned long long)need);
		return -EINVAL;
	}
	v->bat_entries = v->bat_len / 8;
	uint8_t *raw = malloc(v->bat_len);
	v->bat = malloc(v->bat_entries * sizeof(uint64_t));
	if (!raw || !v->bat) {
		free(raw);
		return -ENOMEM;
	}
	int r = block_file_pread(v->fd, raw, v->bat_len, v->bat_off);
	if (r < 0) {
		snprintf(err, errlen, "%s: cannot read the VHDX BAT: %s", v->path, strerror(-r));
		goto out;
	}
	uint64_t end = file_size;
	for (uint64_t i = 0; i < v->bat_entries; i++)
		v->bat[i] = vhdx_le64(raw + 8 * i);
	r = -EINVAL;
	for (uint64_t i = 0; i < need; i++) {
		uint64_t e = v->bat[i];
		bool sb = i % (v->chunk_ratio + 1) == v->chunk_ratio;
		unsigned st = VHDX_BAT_STATE(e);
		bool present;
		if (sb) {
			if (st != VHDX_SB_NOT_PRESENT && st != VHDX_SB_PRESENT) {
				snprintf(
				    err, errlen,
				    "%s: VHDX BAT entry %llu (a sector bitmap) has the invalid "
				    "state %u",
				    v->path, (unsigned long long)i, st);
				goto out;
			}
			present = st == VHDX_SB_PRESENT;
		} else {
			if (st == 4) {
				snprintf(err, errlen,
					 "%s: VHDX BAT entry %llu has the invalid state %u",
					 v->path, (unsigned long long)i, st);
				goto out;
			}
			present = st == VHDX_PAYLOAD_FULLY_PRESENT ||
				  st == VHDX_PAYLOAD_PARTIALLY_PRESENT;
		}
		if (!present)
			continue;
		uint64_t off = VHDX_BAT_OFFSET(e), len = sb ? VHDX_SB_SIZE : v->block_size;
		if (off > VHDX_OFFSET_MAX) {
			snprintf(err, errlen,
				 "%s: VHDX BAT entry %llu (offset 0x%llx) points far past the end "
				 "of the file",
				 v->path, (unsigned long long)i, (unsigned long long)off);
			goto out;
		}
		const char *what = overlaps_structure(v, off, len);
		if (what) {
			snprintf(err, errlen,
				 "%s: VHDX BAT entry %llu (offset 0x%llx) points into %s", v->path,
				 (unsigned long long)i, (unsigned long long)off, what);
			goto out;
		}
		if (off + len > end)
			end = off + len;
	}
	v->file_end = (end + VHDX_MiB - 1) & ~(uint64_t)(VHDX_MiB - 1);
	r = 0;
out:
	free(raw);
	if (r < 0) {
		free(v->bat);
		v->bat = NULL;
	}
	return r;
}
