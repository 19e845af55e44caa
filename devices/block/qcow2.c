/* The qcow2 format driver (QEMU's docs/interop/qcow2.txt, versions 2 and 3):
 * recognizing and opening an image with every header field checked, the
 * dirty bit, a clean close, and what `osio disk info` shows. */
#include "devices/block/qcow2_int.h"

#include "hypervisor/log.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static int qcow2_probe(const uint8_t *head, size_t headlen, const uint8_t *tail, size_t taillen)
{
	(void)tail;
	(void)taillen;
	return headlen >= 4 && q_be32(head) == QCOW2_MAGIC ? 100 : 0;
}

int qcow2_write_header_field(struct qcow2 *q, unsigned off, const void *data, size_t len)
{
	return block_file_pwrite(q->fd, data, len, off);
}

/* Writes the incompatible feature bits and makes them durable. */
int qcow2_set_incompat(struct qcow2 *q, uint64_t bits)
{
	uint8_t b[8];
	q_put64(b, bits);
	int r = qcow2_write_header_field(q, QH_INCOMPAT, b, 8);
	if (r == 0 && fdatasync(q->fd) < 0)
		r = -errno;
	if (r == 0)
		q->incompat = bits;
	return r;
}

/* Before the first metadata change of a read-write open: the image says
 * it is open, so that a crash makes the next open rebuild the refcounts. */
int qcow2_mark_dirty(struct qcow2 *q)
{
	if (q->dirty_set)
		return 0;
	int r = qcow2_set_incompat(q, q->incompat | QINCOMPAT_DIRTY);
	if (r == 0)
		q->dirty_set = true;
	return r;
}

/* --- open ------------------------------------------------------------------ */

/* The name of incompatible feature `bit` from the feature name table, or
 * a generic one. */
static void feature_name(const uint8_t *ftab, uint32_t flen, unsigned bit, char *out, size_t n)
{
	snprintf(out, n, "incompatible feature bit %u", bit);
	for (uint32_t i = 0; ftab && i + 48 <= flen; i += 48) {
		if (ftab[i] != 0 || ftab[i + 1] != bit)
			continue;
		char name[47];
		memcpy(name, ftab + i + 2, 46);
		name[46] = 0;
		for (char *c = name; *c; c++)
			if (*c < 0x20 || *c > 0x7e)
				*c = '?';
		snprintf(out, n, "incompatible feature '%s' (bit %u)", name, bit);
	}
}

/* The header extensions between `start` and `end` of cluster 0. */
static int parse_extensions(struct qcow2 *q, const uint8_t *h, uint64_t start, uint64_t end,
			    const uint8_t **ftab, uint32_t *flen, char *err, size_t errlen)
{
	uint64_t p = start;
	while (p + 8 <= end) {
		uint32_t type = q_be32(h + p), len = q_be32(h + p + 4);
		p += 8;
		if (type == QEXT_END)
			return 0;
		if (len > end - p) {
			block_set_err(err, errlen,
				      "%s: header extension 0x%08x (%u bytes) runs past the "
				      "header cluster (corrupt image)",
				      q->path, type, len);
			return -EINVAL;
		}
		if (type == QEXT_BACKING_FMT) {
			if (len == 0 || len >= sizeof(q->backing_fmt) || memchr(h + p, 0, len)) {
				block_set_err(err, errlen,
					      "%s: the backing format header extension is "
					      "malformed (%u bytes)",
					      q->path, len);
				return -EINVAL;
			}
			memcpy(q->backing_fmt, h + p, len);
			q->backing_fmt[len] = 0;
		} else if (type == QEXT_FEATURE_NAMES) {
			*ftab = h + p;
			*flen = len;
		}
		p += q_align_up(len, 8);
	}
	return 0;
}

static int check_incompat(struct qcow2 *q, const uint8_t *h, const uint8_t *ftab, uint32_t flen,
			  char *err, size_t errlen)
{
	uint64_t inc = q->incompat;
	if (inc & QINCOMPAT_DATA_FILE) {
		block_set_err(
		    err, errlen,
		    "%s: the image keeps its data in an external data file, which osio "
		    "does not support; convert it: qemu-img convert -O qcow2 %s NEW.qcow2",
		    q->path, q->path);
		return -ENOTSUP;
	}
	if (inc & QINCOMPAT_EXTL2) {
		block_set_err(
		    err, errlen,
		    "%s: the image uses subclusters (extended L2 entries), which osio "
		    "does not support; convert it: qemu-img convert -O qcow2 %s NEW.qcow2",
		    q->path, q->path);
		return -ENOTSUP;
	}
	if (inc & QINCOMPAT_COMPRESSION) {
		unsigned type = q->header_len > QH_COMPRESSION_TYPE ? h[QH_COMPRESSION_TYPE] : 0;
		if (type != 0) {
			block_set_err(err, errlen,
				      "%s: compressed clusters use compression type %u (zstd); "
				      "osio reads zlib only: qemu-img convert -O qcow2 -o "
				      "compression_type=zlib %s NEW.qcow2",
				      q->path, type, q->path);
			return -ENOTSUP;
		}
	}
	uint64_t unknown = inc & ~(QINCOMPAT_KNOWN | QINCOMPAT_COMPRESSION);
	if (unknown) {
		char name[96];
		feature_name(ftab, flen, (unsigned)__builtin_ctzll(unknown), name, sizeof(name));
		block_set_err(err, errlen, "%s: the image uses %s, which osio does not know",
			      q->path, name);
		return -ENOTSUP;
	}
	return 0;
}

/* Whether [a, a + alen) and [b, b + blen) share a byte. */
static bool overlap(uint64_t a, uint64_t alen, uint64_t b, uint64_t blen)
{
	return alen && blen && a < b + blen && b < a + alen;
}

/* The fields of the fixed header, checked one by one. */
static int parse_header(struct qcow2 *q, const uint8_t *h, uint64_t hlen, char *err, size_t errlen)
{
	const char *p = q->path;
	if (hlen < 4 || q_be32(h) != QCOW2_MAGIC) {
		block_set_err(err, errlen,
			      "%s: not a qcow2 image (no QFI\\xfb header); open it as its own "
			      "format",
			      p);
		return -EINVAL;
	}
	if (hlen < QCOW2_HDR_V2_LEN) {
		block_set_err(err, errlen, "%s: the qcow2 header is truncated (%llu bytes)", p,
			      (unsigned long long)hlen);
		return -EINVAL;
	}
	q->version = q_be32(h + QH_VERSION);
	if (q->version != 2 && q->version != 3) {
		block_set_err(err, errlen, "%s: qcow2 version %u; osio reads versions 2 and 3", p,
			      q->version);
		return -ENOTSUP;
	}
	q->cb = q_be32(h + QH_CLUSTER_BITS);
	if (q->cb < QCOW2_MIN_CB || q->cb > QCOW2_MAX_CB) {
		block_set_err(err, errlen, "%s: cluster_bits %u is outside %u..%u (corrupt image?)",
			      p, q->cb, QCOW2_MIN_CB, QCOW2_MAX_CB);
		return -EINVAL;
	}
	q->cs = 1ull << q->cb;
	q->l2_bits = q->cb - 3;
	q->size = q_be64(h + QH_SIZE);
	if (q->size > QCOW2_MAX_SIZE) {
		block_set_err(err, errlen, "%s: virtual size %llu bytes is absurd (corrupt image?)",
			      p, (unsigned long long)q->size);
		return -EINVAL;
	}
	if (q_be32(h + QH_CRYPT) != 0) {
		block_set_err(err, errlen,
			      "%s: the image is encrypted, which osio does not support; decrypt it "
			      "with qemu-img convert",
			      p);
		return -ENOTSUP;
	}
	if (q->version == 3) {
		if (hlen < QCOW2_HDR_V3_LEN) {
			block_set_err(err, errlen, "%s: the version 3 header is truncated", p);
			return -EINVAL;
		}
		q->incompat = q_be64(h + QH_INCOMPAT);
		q->compat = q_be64(h + QH_COMPAT);
		q->autoclear = q_be64(h + QH_AUTOCLEAR);
		q->refcount_order = q_be32(h + QH_REFCOUNT_ORDER);
		q->header_len = q_be32(h + QH_HEADER_LEN);
		if (q->header_len < QCOW2_HDR_V3_LEN || q->header_len > q->cs ||
		    q->header_len > hlen) {
			block_set_err(err, errlen,
				      "%s: header_length %u is outside %u..%llu (corrupt image)", p,
				      q->header_len, QCOW2_HDR_V3_LEN,
				      (unsigned long long)(hlen < q->cs ? hlen : q->cs));
			return -EINVAL;
		}
		if (q->refcount_order > 6) {
			block_set_err(err, errlen,
				      "%s: refcount_order %u is above 6 (corrupt image)", p,
				      q->refcount_order);
			return -EINVAL;
		}
	} else {
		q->refcount_order = 4;
		q->header_len = QCOW2_HDR_V2_LEN;
	}
	q->refcount_max =
	    q->refcount_order == 6 ? UINT64_MAX : (1ull << (1u << q->refcount_order)) - 1;
	q->rb_bits = q->cb + 3 - q->refcount_order;

	q->l1_size = q_be32(h + QH_L1_SIZE);
	q->l1_off = q_be64(h + QH_L1_OFF);
	q->rt_off = q_be64(h + QH_RT_OFF);
	q->rt_clusters = q_be32(h + QH_RT_CLUSTERS);
	q->nb_snapshots = q_be32(h + QH_NB_SNAPSHOTS);
	q->snapshots_off = q_be64(h + QH_SNAPSHOTS_OFF);

	uint64_t need = qcow2_l1_needed(q->cb, q->size);
	if ((uint64_t)q->l1_size * 8 > QCOW2_MAX_L1_BYTES || q->l1_size < need) {
		block_set_err(err, errlen,
			      "%s: the L1 table has %u entries; a %llu-byte disk needs %llu and at "
			      "most %u are allowed (corrupt image)",
			      p, q->l1_size, (unsigned long long)q->size, (unsigned long long)need,
			      QCOW2_MAX_L1_BYTES / 8);
		return -EINVAL;
	}
	uint64_t l1_bytes = (uint64_t)q->l1_size * 8;
	if (q->l1_size && (q->l1_off % q->cs || q->l1_off == 0)) {
		block_set_err(err, errlen,
			      "%s: the L1 table offset 0x%llx is not a cluster boundary after the "
			      "header (corrupt image)",
			      p, (unsigned long long)q->l1_off);
		return -EINVAL;
	}
	if (q->l1_size && (q->l1_off > q->file_size || l1_bytes > q->file_size - q->l1_off)) {
		block_set_err(err, errlen,
			      "%s: the L1 table (offset 0x%llx) lies past the end of the file "
			      "(truncated image?)",
			      p, (unsigned long long)q->l1_off);
		return -EINVAL;
	}
	if (q->rt_clusters == 0 || (uint64_t)q->rt_clusters * q->cs > QCOW2_MAX_RT_BYTES) {
		block_set_err(err, errlen,
			      "%s: the refcount table has %u clusters (1..%llu allowed; corrupt "
			      "image)",
			      p, q->rt_clusters, (unsigned long long)(QCOW2_MAX_RT_BYTES / q->cs));
		return -EINVAL;
	}
	uint64_t rt_bytes = (uint64_t)q->rt_clusters * q->cs;
	if (q->rt_off % q->cs || q->rt_off == 0) {
		block_set_err(err, errlen,
			      "%s: the refcount table offset 0x%llx is not a cluster boundary "
			      "after the header (corrupt image)",
			      p, (unsigned long long)q->rt_off);
		return -EINVAL;
	}
	if (q->rt_off > q->file_size || rt_bytes > q->file_size - q->rt_off) {
		block_set_err(
		    err, errlen,
		    "%s: the refcount table (offset 0x%llx) lies past the end of the file "
		    "(truncated image?)",
		    p, (unsigned long long)q->rt_off);
		return -EINVAL;
	}
	if (overlap(q->l1_off, l1_bytes, q->rt_off, rt_bytes)) {
		block_set_err(err, errlen,
			      "%s: the L1 table (0x%llx) and the refcount table (0x%llx) overlap "
			      "(corrupt image)",
			      p, (unsigned long long)q->l1_off, (unsigned long long)q->rt_off);
		return -EINVAL;
	}
	q->rt_entries = rt_bytes / 8;
	if (q->nb_snapshots > 65536 || (q->nb_snapshots && q->snapshots_off % q->cs)) {
		block_set_err(err, errlen, "%s: the snapshot table is malformed (corrupt image)",
			      p);
		return -EINVAL;
	}
	if (q->nb_snapshots && !q->ro) {
		block_set_err(err, errlen,
			      "%s: the image has %u internal snapshots, which osio does not write; "
			      "attach it read-only, or remove them (qemu-img snapshot -d)",
			      p, q->nb_snapshots);
		return -ENOTSUP;
	}
	if (q->version == 2 && !q->ro) {
		block_set_err(err, errlen,
			      "%s: qcow2 version 2 images open read-only in osio; upgrade it: "
			      "qemu-img amend -o compat=1.1 %s",
			      p, p);
		return -ENOTSUP;
	}
	return 0;
}

static int parse_backing(struct qcow2 *q, const uint8_t *h, uint64_t hlen, char *err, size_t errlen)
{
	uint64_t off = q_be64(h + QH_BACKING_OFF);
	uint32_t len = q_be32(h + QH_BACKING_LEN);
	if (!off || !len)
		return 0;
	if (len > QCOW2_MAX_BACKING || off > hlen || len > hlen - off || off < q->header_len ||
	    memchr(h + off, 0, len)) {
		block_set_err(
		    err, errlen,
		    "%s: the backing file name (offset 0x%llx, %u bytes) is not inside the "
		    "header cluster (corrupt image)",
		    q->path, (unsigned long long)off, len);
		return -EINVAL;
	}
	memcpy(q->backing, h + off, len);
	q->backing[len] = 0;
	return 0;
}

static int read_tables(struct qcow2 *q, char *err, size_t errlen)
{
	q->l1 = calloc(q->l1_size ? q->l1_size : 1, sizeof(uint64_t));
	q->l2 = calloc(q->l1_size ? q->l1_size : 1, sizeof(uint64_t *));
	q->rt = calloc(q->rt_entries, sizeof(uint64_t));
	if (!q->l1 || !q->l2 || !q->rt)
		return -ENOMEM;
	int r = block_file_pread(q->fd, q->l1, (size_t)q->l1_size * 8, q->l1_off);
	if (r == 0)
		r = block_file_pread(q->fd, q->rt, q->rt_entries * 8, q->rt_off);
	if (r < 0) {
		block_set_err(err, errlen, "%s: cannot read the L1 and refcount tables: %s",
			      q->path, strerror(-r));
		return r;
	}
	for (uint32_t i = 0; i < q->l1_size; i++)
		q->l1[i] = q_be64((uint8_t *)&q->l1[i]);
	for (uint64_t i = 0; i < q->rt_entries; i++)
		q->rt[i] = q_be64((uint8_t *)&q->rt[i]);
	return 0;
}

static void qcow2_free(struct qcow2 *q)
{
	if (q->l2)
		for (uint32_t i = 0; i < q->l1_size; i++)
			free(q->l2[i]);
	free(q->l2);
	free(q->l1);
	free(q->rt);
	free(q->refs);
	free(q->rb_dirty);
	free(q->pending);
	free(q->zcache);
	pthread_cond_destroy(&q->alloc_done);
	pthread_mutex_destroy(&q->lock);
	free(q);
}

static int qcow2_open(struct block_dev *bd, const char *path, unsigned flags, char *err,
		      size_t errlen)
{
	struct qcow2 *q = calloc(1, sizeof(*q));
	if (!q)
		return -ENOMEM;
	pthread_mutex_init(&q->lock, NULL);
	pthread_cond_init(&q->alloc_done, NULL);
	q->bd = bd;
	q->path = bd->path; /* lives as long as bd; `path` may not */
	q->ro = flags & BLOCK_RDONLY;
	q->fd = -1;
	struct stat st;
	uint8_t *h = NULL;
	int r = block_file_open(bd, path, flags, &q->fd, &st, err, errlen);
	if (r < 0)
		goto fail;
	q->file_size = (uint64_t)st.st_size;
	uint8_t first[QCOW2_HDR_V3_LEN] = {0};
	size_t n = q->file_size < sizeof(first) ? (size_t)q->file_size : sizeof(first);
	r = block_file_pread(q->fd, first, n, 0);
	if (r == 0 && n >= QH_CLUSTER_BITS + 4) {
		unsigned cb = q_be32(first + QH_CLUSTER_BITS);
		if (cb >= QCOW2_MIN_CB && cb <= QCOW2_MAX_CB) {
			uint64_t hl = 1ull << cb;
			n = q->file_size < hl ? (size_t)q->file_size : (size_t)hl;
		}
	}
	h = calloc(1, n < sizeof(first) ? sizeof(first) : n);
	if (!h) {
		r = -ENOMEM;
		goto fail;
	}
	if (r == 0)
		r = block_file_pread(q->fd, h, n, 0);
	if (r < 0) {
		block_set_err(err, errlen, "%s: cannot read the header: %s", path, strerror(-r));
		goto fail;
	}
	r = parse_header(q, h, n, err, errlen);
	if (r < 0)
		goto fail;
	const uint8_t *ftab = NULL;
	uint32_t flen = 0;
	/* The extensions end where the backing file name begins, if first. */
	uint64_t ext_end = n < q->cs ? n : q->cs, boff = q_be64(h + QH_BACKING_OFF);
	if (boff && q_be32(h + QH_BACKING_LEN) && boff > q->header_len && boff < ext_end)
		ext_end = boff;
	r = parse_extensions(q, h, q->header_len, ext_end, &ftab, &flen, err, errlen);
	if (r == 0)
		r = check_incompat(q, h, ftab, flen, err, errlen);
	if (r == 0)
		r = parse_backing(q, h, n, err, errlen);
	if (r == 0)
		r = read_tables(q, err, errlen);
	if (r < 0)
		goto fail;
	q->was_dirty = q->incompat & QINCOMPAT_DIRTY;
	if (q->incompat & QINCOMPAT_CORRUPT)
		q->broken = true;
	bd->priv = q;
	bd->size = q->size;
	if (q->backing[0]) {
		r = block_open_backing(bd, q->backing, q->backing_fmt[0] ? q->backing_fmt : NULL,
				       err, errlen);
		if (r < 0)
			goto fail;
	}
	if (!q->ro) {
		if (q->autoclear) {
			/* Extensions osio does not keep up to date are marked stale,
			 * as the specification asks of writers. */
			uint8_t zero[8] = {0};
			r = qcow2_write_header_field(q, QH_AUTOCLEAR, zero, 8);
			q->autoclear = 0;
		}
		if (r == 0)
			r = qcow2_rebuild(q, q->was_dirty);
		if (r < 0) {
			block_set_err(err, errlen, "%s: cannot count the image's clusters: %s",
				      path, strerror(-r));
			goto fail;
		}
		if (q->broken)
			log_warn("%s: the image's metadata is damaged: it is read, but writes fail "
				 "until 'osio disk check --repair %s' fixes it",
				 path, path);
	}
	free(h);
	return 0;
fail:
	if (bd->backing) {
		block_close(bd->backing);
		bd->backing = NULL;
	}
	bd->priv = NULL;
	free(h);
	if (q->fd >= 0)
		close(q->fd);
	qcow2_free(q);
	return r;
}

/* --- close and info -------------------------------------------------------- */

static void qcow2_close(struct block_dev *bd)
{
	struct qcow2 *q = bd->priv;
	if (!q)
		return;
	if (!q->ro && (q->dirty_set || q->refs_stale) && !q->broken) {
		/* Everything written is durable, then nothing refers to the
		 * pending clusters any more: the refcounts can say so. */
		int r = fdatasync(q->fd) < 0 ? -errno : 0;
		if (r == 0) {
			q->inplace = 0;
			qcow2_free_pending(q, q->npending);
			r = qcow2_refs_writeout(q);
		}
		if (r == 0 && fdatasync(q->fd) < 0)
			r = -errno;
		/* On failure the dirty bit stays: the next open rebuilds. */
		if (r == 0)
			qcow2_set_incompat(q, q->incompat & ~QINCOMPAT_DIRTY);
	}
	close(q->fd);
	qcow2_free(q);
	bd->priv = NULL;
}

static int qcow2_info(struct block_dev *bd, struct block_info *info)
{
	struct qcow2 *q = bd->priv;
	snprintf(info->subformat, sizeof(info->subformat), "%s",
		 q->backing[0] ? "differencing" : "dynamic");
	info->block_size = (uint32_t)q->cs;
	snprintf(info->parent, sizeof(info->parent), "%s", q->backing);
	info->dirty = q->was_dirty;
	return 0;
}

const struct block_driver block_qcow2_driver = {
    .name = "qcow2",
    .probe = qcow2_probe,
    .open = qcow2_open,
    .close = qcow2_close,
    .io = qcow2_io,
    .create = qcow2_create,
    .info = qcow2_info,
    .resize = qcow2_resize,
    .check = qcow2_check,
    .set_parent = qcow2_set_parent,
};
