/* New qcow2 version 3 images (16-bit refcounts, optional backing file and
 * preallocation) and growing an open one. */
#include "devices/block/qcow2_int.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static const struct {
	uint8_t type, bit;
	const char *name;
} feature_names[] = {
    {0, 0, "dirty bit"},	{0, 1, "corrupt bit"},	       {0, 2, "external data file"},
    {0, 3, "compression type"}, {0, 4, "extended L2 entries"}, {1, 0, "lazy refcounts"},
    {2, 0, "bitmaps"},		{2, 1, "raw external data"},
};

/* Header, extensions and backing file name into cluster 0 (h, cs bytes). */
static int build_header(const struct qcow2 *q, uint8_t *h, const char *parent,
			const char *parent_fmt)
{
	size_t plen = parent ? strlen(parent) : 0, flen = parent_fmt ? strlen(parent_fmt) : 0;
	size_t ftab = sizeof(feature_names) / sizeof(feature_names[0]) * 48;
	size_t need = QCOW2_HDR_OUR_LEN + (flen ? 8 + q_align_up(flen, 8) : 0) + 8 + plen;
	bool with_names = need + 8 + ftab <= q->cs;
	if (need > q->cs)
		return -ENAMETOOLONG;
	q_put32(h, QCOW2_MAGIC);
	q_put32(h + QH_VERSION, 3);
	q_put32(h + QH_CLUSTER_BITS, q->cb);
	q_put64(h + QH_SIZE, q->size);
	q_put32(h + QH_L1_SIZE, q->l1_size);
	q_put64(h + QH_L1_OFF, q->l1_off);
	q_put64(h + QH_RT_OFF, q->rt_off);
	q_put32(h + QH_RT_CLUSTERS, q->rt_clusters);
	q_put32(h + QH_REFCOUNT_ORDER, q->refcount_order);
	q_put32(h + QH_HEADER_LEN, QCOW2_HDR_OUR_LEN);
	size_t p = QCOW2_HDR_OUR_LEN;
	if (flen) {
		q_put32(h + p, QEXT_BACKING_FMT);
		q_put32(h + p + 4, (uint32_t)flen);
		memcpy(h + p + 8, parent_fmt, flen);
		p += 8 + q_align_up(flen, 8);
	}
	if (with_names) {
		q_put32(h + p, QEXT_FEATURE_NAMES);
		q_put32(h + p + 4, (uint32_t)ftab);
		p += 8;
		for (size_t i = 0; i < sizeof(feature_names) / sizeof(feature_names[0]); i++) {
			h[p] = feature_names[i].type;
			h[p + 1] = feature_names[i].bit;
			memcpy(h + p + 2, feature_names[i].name, strlen(feature_names[i].name));
			p += 48;
		}
	}
	p += 8; /* the end of the extensions */
	if (plen) {
		q_put64(h + QH_BACKING_OFF, p);
		q_put32(h + QH_BACKING_LEN, (uint32_t)plen);
		memcpy(h + p, parent, plen);
	}
	return 0;
}

static int write_l1(struct qcow2 *q, uint64_t off, uint64_t entries, uint64_t clusters)
{
	uint8_t *b = calloc(1, clusters * q->cs);
	if (!b)
		return -ENOMEM;
	for (uint64_t i = 0; i < entries; i++)
		q_put64(b + i * 8, q->l1[i]);
	int r = block_file_pwrite(q->fd, b, clusters * q->cs, off);
	free(b);
	return r;
}

/* Every L2 table and data cluster allocated now, the data space reserved
 * with fallocate. */
static int preallocate(struct qcow2 *q, const struct block_create_opts *opts)
{
	uint64_t per = 1ull << q->l2_bits, total = (q->size + q->cs - 1) >> q->cb;
	uint8_t *b = malloc(q->cs);
	if (!b)
		return -ENOMEM;
	int r = 0;
	for (uint64_t i = 0; i < q->l1_size && r == 0; i++) {
		uint64_t first = i * per, n = total - first < per ? total - first : per;
		uint64_t l2, data;
		if ((r = qcow2_alloc(q, 1, &l2)) < 0 || (r = qcow2_alloc(q, n, &data)) < 0)
			break;
		memset(b, 0, q->cs);
		for (uint64_t j = 0; j < n; j++)
			q_put64(b + j * 8, (data + j * q->cs) | QE_COPIED);
		r = block_file_pwrite(q->fd, b, q->cs, l2);
		if (r == 0 && fallocate(q->fd, 0, (off_t)data, (off_t)(n * q->cs)) < 0) {
			r = errno == EOPNOTSUPP ? block_file_zero(q->fd, data, n * q->cs) : -errno;
		}
		q->l1[i] = l2 | QE_COPIED;
		if (r == 0 && opts->progress &&
		    opts->progress(opts->opaque, (first + n) << q->cb, total << q->cb))
			r = -EINTR;
	}
	free(b);
	return r;
}

int qcow2_create(int fd, const char *path, const struct block_create_opts *opts,
		 struct block_dev *parent, char *err, size_t errlen)
{
	uint64_t cs = opts->block_size ? opts->block_size : 1u << QCOW2_DEFAULT_CB;
	if (cs & (cs - 1) || cs < (1u << QCOW2_MIN_CB) || cs > (1u << QCOW2_MAX_CB)) {
		block_set_err(err, errlen,
			      "%s: a qcow2 cluster size is a power of two from 512 bytes to 2 MiB, "
			      "not %llu",
			      path, (unsigned long long)cs);
		return -EINVAL;
	}
	uint64_t size = opts->size;
	if (!size && parent)
		size = block_size(parent);
	if (size > QCOW2_MAX_SIZE) {
		block_set_err(err, errlen, "%s: %llu bytes is larger than qcow2 allows (64 PiB)",
			      path, (unsigned long long)size);
		return -EINVAL;
	}
	const char *pfmt = parent ? block_format(parent) : NULL;
	if (opts->parent && strlen(opts->parent) > QCOW2_MAX_BACKING) {
		block_set_err(err, errlen, "%s: the backing file name is longer than %u bytes",
			      path, QCOW2_MAX_BACKING);
		return -ENAMETOOLONG;
	}
	struct qcow2 *q = calloc(1, sizeof(*q));
	uint8_t *h = NULL;
	if (!q)
		return -ENOMEM;
	q->fd = fd;
	q->path = path;
	q->version = 3;
	q->cb = (unsigned)__builtin_ctzll(cs);
	q->cs = cs;
	q->l2_bits = q->cb - 3;
	q->size = size;
	q->refcount_order = 4;
	q->refcount_max = 0xffff;
	q->rb_bits = q->cb + 3 - 4;
	q->dirty_set = true; /* a new file: nothing to protect yet */
	int r = -ENOMEM;
	uint64_t l1_need = qcow2_l1_needed(q->cb, size);
	if (l1_need * 8 > QCOW2_MAX_L1_BYTES) {
		block_set_err(err, errlen,
			      "%s: %llu bytes need an L1 table over 32 MiB; use a larger cluster "
			      "size",
			      path, (unsigned long long)size);
		r = -EINVAL;
		goto out;
	}
	q->l1_size = (uint32_t)l1_need;
	q->rt_off = cs;
	q->rt_clusters = 1;
	q->rt_entries = cs / 8;
	q->rt = calloc(q->rt_entries, sizeof(uint64_t));
	q->l1 = calloc(l1_need ? l1_need : 1, sizeof(uint64_t));
	h = calloc(1, cs);
	if (!q->rt || !q->l1 || !h || qcow2_refs_reserve(q, 64) < 0)
		goto out;
	qcow2_ref_set(q, 0, 1);
	qcow2_ref_set(q, 1, 1);
	q->free_hint = 2;
	uint64_t l1_clusters = (l1_need * 8 + cs - 1) / cs;
	if (!l1_clusters)
		l1_clusters = 1;
	if ((r = qcow2_alloc(q, l1_clusters, &q->l1_off)) < 0)
		goto out;
	if (opts->fixed && (r = preallocate(q, opts)) < 0) {
		if (r != -EINTR)
			block_set_err(err, errlen, "%s: cannot preallocate: %s", path,
				      strerror(-r));
		goto out;
	}
	r = build_header(q, h, opts->parent, pfmt ? pfmt : opts->parent_format);
	if (r < 0) {
		block_set_err(
		    err, errlen,
		    "%s: the backing file name does not fit in a %llu-byte cluster; use a "
		    "larger cluster size",
		    path, (unsigned long long)cs);
		goto out;
	}
	r = write_l1(q, q->l1_off, l1_need, l1_clusters);
	if (r == 0)
		r = block_file_pwrite(fd, h, cs, 0);
	if (r == 0)
		r = qcow2_refs_writeout(q);
	if (r == 0 && ftruncate(fd, (off_t)(q->nrefs << q->cb)) < 0)
		r = -errno;
	if (r == 0 && fdatasync(fd) < 0)
		r = -errno;
	if (r < 0)
		block_set_err(err, errlen, "%s: cannot write the image: %s", path, strerror(-r));
out:
	free(h);
	free(q->rt);
	free(q->l1);
	free(q->refs);
	free(q->rb_dirty);
	free(q);
	return r;
}

int qcow2_resize(struct block_dev *bd, uint64_t size, char *err, size_t errlen)
{
	struct qcow2 *q = bd->priv;
	if (size > QCOW2_MAX_SIZE) {
		block_set_err(err, errlen, "%s: %llu bytes is larger than qcow2 allows (64 PiB)",
			      q->path, (unsigned long long)size);
		return -EINVAL;
	}
	uint64_t need = qcow2_l1_needed(q->cb, size);
	if (need * 8 > QCOW2_MAX_L1_BYTES) {
		block_set_err(err, errlen,
			      "%s: %llu bytes need an L1 table over 32 MiB with %llu-byte clusters",
			      q->path, (unsigned long long)size, (unsigned long long)q->cs);
		return -EINVAL;
	}
	pthread_mutex_lock(&q->lock);
	int r = q->broken ? -EIO : qcow2_mark_dirty(q);
	if (r == 0 && need > q->l1_size) {
		uint64_t clusters = (need * 8 + q->cs - 1) >> q->cb, host = q->l1_off;
		uint64_t oldn = ((uint64_t)q->l1_size * 8 + q->cs - 1) >> q->cb;
		/* The table grows where it is while its clusters have room. */
		bool moves = clusters > oldn;
		uint64_t *l1 = realloc(q->l1, need * sizeof(*l1));
		uint64_t **l2 = l1 ? realloc(q->l2, need * sizeof(*l2)) : NULL;
		if (l1)
			q->l1 = l1;
		if (l2)
			q->l2 = l2;
		r = l1 && l2 ? 0 : -ENOMEM;
		if (r == 0 && moves)
			r = qcow2_alloc(q, clusters, &host);
		if (r < 0)
			goto out;
		if (!moves)
			clusters = oldn;
		memset(q->l1 + q->l1_size, 0, (need - q->l1_size) * sizeof(*l1));
		memset(q->l2 + q->l1_size, 0, (need - q->l1_size) * sizeof(*l2));
		r = write_l1(q, host, need, clusters);
		if (r == 0 && fdatasync(q->fd) < 0)
			r = -errno;
		uint8_t b[12];
		q_put32(b, (uint32_t)need);
		q_put64(b + 4, host);
		if (r == 0)
			r = qcow2_write_header_field(q, QH_L1_SIZE, b, sizeof(b));
		if (r == 0 && fdatasync(q->fd) < 0)
			r = -errno;
		if (r < 0) {
			if (moves)
				qcow2_unalloc(q, host, clusters);
			goto out;
		}
		uint64_t old = q->l1_off >> q->cb;
		for (uint64_t c = old; moves && c < old + oldn; c++)
			qcow2_ref_set(q, c, (uint32_t)(qcow2_ref(q, c) - 1));
		q->l1_off = host;
		q->l1_size = (uint32_t)need;
	}
	if (r == 0) {
		uint8_t b[8];
		q_put64(b, size);
		r = qcow2_write_header_field(q, QH_SIZE, b, 8);
		if (r == 0 && fdatasync(q->fd) < 0)
			r = -errno;
		if (r == 0)
			q->size = size;
	}
out:
	pthread_mutex_unlock(&q->lock);
	if (r < 0)
		block_set_err(err, errlen, "%s: cannot grow the image: %s", q->path, strerror(-r));
	return r;
}
