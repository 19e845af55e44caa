/* Reconnecting a VHDX differencing disk to its moved parent
 * (block_set_parent): a new parent locator, written through the log with
 * the metadata table entry that points at it, parent_linkage kept. */
#include "devices/block/vhdx_int.h"

#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define SEC VHDX_LOG_SECTOR

/* Whether parent is the image v was made on. */
static bool same_parent(const struct vhdx *v, const struct block_dev *parent)
{
	if (parent->drv != &block_vhdx_driver || (!v->has_linkage && !v->has_linkage2))
		return true; /* nothing recorded to compare */
	const struct vhdx *pv = parent->priv;
	return (v->has_linkage && vhdx_guid_eq(&v->parent_linkage, &pv->hdr.data_write)) ||
	       (v->has_linkage2 && vhdx_guid_eq(&v->parent_linkage2, &pv->hdr.data_write));
}

/* Opens the image at path read-write into v (headers, log replayed,
 * regions, metadata) without its parent. */
static int open_child(struct vhdx *v, const char *path, char *err, size_t errlen)
{
	struct stat st;
	int r = block_file_open(NULL, path, 0, &v->fd, &st, err, errlen);
	if (r < 0)
		return r;
	uint8_t sig[8];
	r = st.st_size >= 8 ? block_file_pread(v->fd, sig, 8, 0) : -EIO;
	if (r < 0 || memcmp(sig, "vhdxfile", 8) != 0) {
		snprintf(err, errlen, "%s: not a VHDX image (no \"vhdxfile\" signature)", path);
		return -EINVAL;
	}
	r = vhdx_read_headers(v, (uint64_t)st.st_size, err, errlen);
	bool pending = false;
	if (r == 0)
		r = vhdx_log_replay(v, (uint64_t)st.st_size, true, &pending, err, errlen);
	if (r == 0 && pending && fstat(v->fd, &st) < 0)
		r = -errno;
	if (r == 0)
		r = vhdx_read_regions(v, (uint64_t)st.st_size, err, errlen);
	if (r == 0)
		r = vhdx_read_metadata(v, err, errlen);
	return r;
}

/* The new locator and where it goes: the changed 4 KiB sectors of the
 * metadata region into *secs / *offs (*n of them). */
static int place_locator(struct vhdx *v, const uint8_t *loc, uint32_t ll, uint8_t **secs,
			 uint64_t **offs, unsigned *n, char *err, size_t errlen)
{
	uint8_t *meta = malloc(v->meta_len);
	if (!meta)
		return -ENOMEM;
	int r = block_file_pread(v->fd, meta, v->meta_len, v->meta_off);
	if (r < 0) {
		snprintf(err, errlen, "%s: cannot read the VHDX metadata: %s", v->path,
			 strerror(-r));
		goto out;
	}
	uint8_t *old = malloc(v->meta_len);
	if (!old) {
		r = -ENOMEM;
		goto out;
	}
	memcpy(old, meta, v->meta_len);
	uint32_t cnt = vhdx_le16(meta + 10), idx = UINT32_MAX, lo = 0, lold = 0;
	uint64_t used_end = VHDX_META_ITEM_MIN;
	for (uint32_t i = 0; i < cnt && i < VHDX_META_MAX; i++) {
		const uint8_t *e = meta + 32 + 32 * i;
		struct vhdx_guid g;
		memcpy(g.b, e, 16);
		uint32_t o = vhdx_le32(e + 16), l = vhdx_le32(e + 20);
		if (vhdx_guid_eq(&g, &vhdx_parent_locator_guid) && !(vhdx_le32(e + 24) & 1)) {
			idx = i;
			lo = o;
			lold = l;
		}
		if (l && (uint64_t)o + l > used_end)
			used_end = (uint64_t)o + l;
	}
	if (idx == UINT32_MAX) {
		snprintf(err, errlen, "%s: the VHDX metadata has no parent locator", v->path);
		r = -EINVAL;
		goto out2;
	}
	/* (vhdx_read_metadata checked every item lies inside the region.) */
	uint64_t at = lo;
	if (ll > lold) {
		at = (used_end + 7) & ~7ull;
		if (at + ll > v->meta_len) {
			snprintf(err, errlen,
				 "%s: no room in the VHDX metadata region for the new parent "
				 "locator (%u bytes)",
				 v->path, ll);
			r = -ENOSPC;
			goto out2;
		}
	}
	uint8_t *e = meta + 32 + 32 * idx;
	if (at == lo)
		memset(meta + lo, 0, lold);
	memcpy(meta + at, loc, ll);
	vhdx_put32(e + 16, (uint32_t)at);
	vhdx_put32(e + 20, at == lo && ll < lold ? lold : ll);
	/* The changed sectors. */
	unsigned k = 0, max = (unsigned)(v->meta_len / SEC);
	*secs = malloc((size_t)max * SEC);
	*offs = malloc(max * sizeof(uint64_t));
	if (!*secs || !*offs) {
		r = -ENOMEM;
		goto out2;
	}
	for (unsigned s = 0; s < max; s++) {
		if (memcmp(meta + (size_t)s * SEC, old + (size_t)s * SEC, SEC) == 0)
			continue;
		memcpy(*secs + (size_t)k * SEC, meta + (size_t)s * SEC, SEC);
		(*offs)[k++] = v->meta_off + (uint64_t)s * SEC;
	}
	*n = k;
	r = 0;
out2:
	free(old);
out:
	free(meta);
	return r;
}

int vhdx_set_parent(const char *path, const char *name, struct block_dev *parent, bool force,
		    char *err, size_t errlen)
{
	struct vhdx *v = calloc(1, sizeof(*v));
	if (!v)
		return -ENOMEM;
	v->fd = -1;
	v->path = path;
	pthread_mutex_init(&v->lock, NULL);
	uint8_t *loc = NULL, *secs = NULL;
	uint64_t *offs = NULL;
	int r = open_child(v, path, err, errlen);
	if (r < 0)
		goto out;
	r = -EINVAL;
	if (!v->has_parent) {
		snprintf(err, errlen, "%s: not a differencing disk; it has no parent to reconnect",
			 path);
		goto out;
	}
	if (!force && !same_parent(v, parent)) {
		snprintf(err, errlen,
			 "%s: %s is not the disk it was made on (its DataWriteGuid is not the "
			 "parent_linkage this disk records: another disk, or one changed since); "
			 "--force reconnects anyway, at the risk of reading wrong data",
			 path, block_path(parent));
		goto out;
	}
	if (!force && block_size(parent) > v->size) {
		snprintf(err, errlen,
			 "%s: %s is larger than this disk, so it is not the disk it was made on; "
			 "--force reconnects anyway",
			 path, block_path(parent));
		goto out;
	}
	if (block_logical_sector(parent) != v->logical_sector) {
		snprintf(err, errlen, "%s: %s has %u-byte sectors, this disk %u-byte ones", path,
			 block_path(parent), block_logical_sector(parent), v->logical_sector);
		goto out;
	}
	struct vhdx_guid link = v->has_linkage ? v->parent_linkage : v->parent_linkage2;
	if (parent->drv == &block_vhdx_driver && (force || !v->has_linkage))
		link = ((const struct vhdx *)parent->priv)->hdr.data_write;
	else if (!v->has_linkage && !v->has_linkage2)
		vhdx_guid_random(&link);
	char abs[PATH_MAX];
	if (!realpath(block_path(parent), abs))
		snprintf(abs, sizeof(abs), "%s", block_path(parent));
	loc = malloc(VHDX_META_ITEM_MAX);
	if (!loc) {
		r = -ENOMEM;
		goto out;
	}
	bool keep2 = v->has_linkage2 && !force;
	size_t ll = vhdx_locator_build(loc, VHDX_META_ITEM_MAX, name, abs, &link,
				       keep2 ? &v->parent_linkage2 : NULL);
	if (!ll) {
		snprintf(err, errlen, "%s: the parent's name %s is too long or not UTF-8", path,
			 name);
		goto out;
	}
	unsigned n = 0;
	r = place_locator(v, loc, (uint32_t)ll, &secs, &offs, &n, err, errlen);
	if (r < 0)
		goto out;
	r = vhdx_log_write(v, offs, secs, n);
	if (r < 0)
		snprintf(err, errlen, "%s: cannot write the new parent locator: %s", path,
			 strerror(-r));
out:
	free(loc);
	free(secs);
	free(offs);
	if (v->fd >= 0)
		close(v->fd);
	pthread_mutex_destroy(&v->lock);
	free(v->parent_rel);
	free(v->parent_abs);
	free(v->parent_vol);
	free(v);
	return r;
}
