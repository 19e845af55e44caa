/* qcow2 reference counts: the in-memory count of every host cluster a
 * read-write open keeps, cluster allocation from it, freeing after a flush,
 * and the refcount table and blocks written back from it (and read for
 * check), in any refcount_order 0..6. */
#include "devices/block/qcow2_int.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

uint64_t qcow2_refcount_get(const uint8_t *b, unsigned order, uint64_t i)
{
	switch (order) {
	case 0:
	case 1:
	case 2: {
		unsigned bits = 1u << order, per = 8 / bits;
		return (b[i / per] >> (bits * (i % per))) & ((1u << bits) - 1);
	}
	case 3:
		return b[i];
	case 4:
		return q_be16(b + i * 2);
	case 5:
		return q_be32(b + i * 4);
	default:
		return q_be64(b + i * 8);
	}
}

void qcow2_refcount_put(uint8_t *b, unsigned order, uint64_t i, uint64_t v)
{
	switch (order) {
	case 0:
	case 1:
	case 2: {
		unsigned bits = 1u << order, per = 8 / bits, sh = bits * (unsigned)(i % per);
		unsigned mask = ((1u << bits) - 1) << sh;
		b[i / per] = (uint8_t)((b[i / per] & ~mask) | (((unsigned)v << sh) & mask));
		break;
	}
	case 3:
		b[i] = (uint8_t)v;
		break;
	case 4:
		b[i * 2] = (uint8_t)(v >> 8);
		b[i * 2 + 1] = (uint8_t)v;
		break;
	case 5:
		q_put32(b + i * 4, (uint32_t)v);
		break;
	default:
		q_put64(b + i * 8, v);
	}
}

/* --- the in-memory counts ---------------------------------------------------- */

static int rb_mark(struct qcow2 *q, uint64_t b)
{
	if (b >= q->rb_dirty_cap) {
		uint64_t cap = b * 2 + 64;
		uint8_t *n = realloc(q->rb_dirty, cap);
		if (!n)
			return -ENOMEM;
		memset(n + q->rb_dirty_cap, 0, cap - q->rb_dirty_cap);
		q->rb_dirty = n;
		q->rb_dirty_cap = cap;
	}
	q->rb_dirty[b] = 1;
	return 0;
}

int qcow2_refs_reserve(struct qcow2 *q, uint64_t n)
{
	if (n <= q->refs_cap)
		return 0;
	uint64_t cap = q->refs_cap * 2 > n ? q->refs_cap * 2 : n + 1024;
	uint32_t *r = realloc(q->refs, cap * sizeof(*r));
	if (!r)
		return -ENOMEM;
	memset(r + q->refs_cap, 0, (cap - q->refs_cap) * sizeof(*r));
	q->refs = r;
	q->refs_cap = cap;
	return 0;
}

uint64_t qcow2_ref(const struct qcow2 *q, uint64_t c)
{
	return c < q->refs_cap ? q->refs[c] : 0;
}

void qcow2_ref_set(struct qcow2 *q, uint64_t c, uint32_t v)
{
	if (qcow2_refs_reserve(q, c + 1) < 0)
		return;
	q->refs[c] = v;
	rb_mark(q, c >> q->rb_bits);
	if (c >= q->nrefs && v)
		q->nrefs = c + 1;
	if (!v && c < q->free_hint)
		q->free_hint = c;
}

/* n contiguous unused clusters, counted once from now on. */
int qcow2_alloc(struct qcow2 *q, uint64_t n, uint64_t *host)
{
	uint64_t start = q->free_hint, len = 0;
	if (start == 0)
		start = 1; /* the header */
	for (uint64_t c = start; c < q->nrefs && len < n; c++) {
		if (q->refs[c]) {
			start = c + 1;
			len = 0;
		} else {
			len++;
		}
	}
	if ((start + n) << q->cb > QE_OFFSET_MASK)
		return -ENOSPC;
	int r = qcow2_refs_reserve(q, start + n);
	if (r < 0)
		return r;
	for (uint64_t c = start; c < start + n; c++) {
		q->refs[c] = 1;
		if ((r = rb_mark(q, c >> q->rb_bits)) < 0)
			return r;
	}
	if (start + n > q->nrefs)
		q->nrefs = start + n;
	if ((start + n) << q->cb > q->file_size)
		q->file_size = (start + n) << q->cb;
	q->free_hint = start + n;
	*host = start << q->cb;
	return 0;
}

/* Gives back clusters qcow2_alloc handed out that nothing refers to. */
void qcow2_unalloc(struct qcow2 *q, uint64_t host, uint64_t n)
{
	for (uint64_t c = host >> q->cb; c < (host >> q->cb) + n; c++)
		qcow2_ref_set(q, c, 0);
}

int qcow2_free_later(struct qcow2 *q, uint64_t host, uint64_t bytes)
{
	uint64_t c0 = host >> q->cb, c1 = (host + bytes - 1) >> q->cb;
	for (uint64_t c = c0; c <= c1; c++) {
		if (q->npending == q->pending_cap) {
			uint64_t cap = q->pending_cap * 2 + 64;
			uint64_t *p = realloc(q->pending, cap * sizeof(*p));
			if (!p)
				return -ENOMEM; /* the cluster leaks: check finds it */
			q->pending = p;
			q->pending_cap = cap;
		}
		q->pending[q->npending++] = c;
	}
	return 0;
}

/* Drops the references of the first n pending clusters. */
void qcow2_free_pending(struct qcow2 *q, uint64_t n)
{
	if (n > q->npending)
		n = q->npending;
	if (!n)
		return;
	for (uint64_t i = 0; i < n; i++) {
		uint64_t c = q->pending[i];
		uint64_t v = qcow2_ref(q, c);
		if (v)
			qcow2_ref_set(q, c, (uint32_t)(v - 1));
	}
	memmove(q->pending, q->pending + n, (q->npending - n) * sizeof(*q->pending));
	q->npending -= n;
}

void qcow2_mark_all_dirty(struct qcow2 *q)
{
	uint64_t nb = (q->nrefs + (1ull << q->rb_bits) - 1) >> q->rb_bits;
	for (uint64_t b = 0; b < nb || b < q->rt_entries; b++)
		if (b < nb || q->rt[b])
			rb_mark(q, b);
	q->rt_dirty = true;
}

/* --- on disk --------------------------------------------------------------------- */

int qcow2_refs_load_disk(struct qcow2 *q, uint32_t **out, uint64_t *nout, struct block_check *res)
{
	uint64_t n = (q->file_size + q->cs - 1) >> q->cb, epb = 1ull << q->rb_bits;
	uint32_t *d = calloc(n ? n : 1, sizeof(*d));
	uint8_t *rt = malloc((uint64_t)q->rt_clusters * q->cs), *blk = malloc(q->cs);
	int r = d && rt && blk ? 0 : -ENOMEM;
	if (r == 0)
		r = block_file_pread(q->fd, rt, (uint64_t)q->rt_clusters * q->cs, q->rt_off);
	for (uint64_t b = 0; r == 0 && b < q->rt_entries && b * epb < n; b++) {
		uint64_t off = q_be64(rt + b * 8) & QE_RT_MASK;
		if (!off)
			continue;
		if (off & (q->cs - 1) || off >= q->file_size || q->cs > q->file_size - off) {
			if (res)
				block_check_report(res, "refcount block %llu at 0x%llx is invalid",
						   (unsigned long long)b, (unsigned long long)off);
			continue;
		}
		r = block_file_pread(q->fd, blk, q->cs, off);
		for (uint64_t i = 0; r == 0 && i < epb && b * epb + i < n; i++) {
			uint64_t v = qcow2_refcount_get(blk, q->refcount_order, i);
			d[b * epb + i] = v > UINT32_MAX ? UINT32_MAX : (uint32_t)v;
		}
	}
	free(rt);
	free(blk);
	if (r < 0) {
		free(d);
		return r;
	}
	*out = d;
	*nout = n;
	return 0;
}

static bool block_used(const struct qcow2 *q, uint64_t b)
{
	uint64_t epb = 1ull << q->rb_bits;
	for (uint64_t c = b * epb; c < (b + 1) * epb && c < q->refs_cap; c++)
		if (q->refs[c])
			return true;
	return false;
}

/* A larger refcount table for at least nblocks blocks, durable before the
 * header points at it; the old one is given back. */
static int grow_rt(struct qcow2 *q, uint64_t nblocks)
{
	uint64_t want = nblocks + nblocks / 2 + 1;
	uint64_t clusters = (want * 8 + q->cs - 1) >> q->cb;
	if (clusters * q->cs > QCOW2_MAX_RT_BYTES)
		return -ENOSPC;
	uint64_t host;
	int r = qcow2_alloc(q, clusters, &host);
	if (r < 0)
		return r;
	uint64_t entries = clusters * q->cs / 8;
	uint64_t *nrt = calloc(entries, sizeof(*nrt));
	uint8_t *b = malloc(clusters * q->cs);
	if (!nrt || !b) {
		r = -ENOMEM;
		goto fail;
	}
	memcpy(nrt, q->rt, q->rt_entries * sizeof(*nrt));
	for (uint64_t i = 0; i < entries; i++)
		q_put64(b + i * 8, nrt[i]);
	r = block_file_pwrite(q->fd, b, clusters * q->cs, host);
	if (r == 0 && fdatasync(q->fd) < 0)
		r = -errno;
	uint8_t h[12];
	q_put64(h, host);
	q_put32(h + 8, (uint32_t)clusters);
	if (r == 0)
		r = qcow2_write_header_field(q, QH_RT_OFF, h, sizeof(h));
	if (r == 0 && fdatasync(q->fd) < 0)
		r = -errno;
	if (r < 0)
		goto fail;
	for (uint64_t c = q->rt_off >> q->cb; c < (q->rt_off >> q->cb) + q->rt_clusters; c++)
		qcow2_ref_set(q, c, 0);
	free(q->rt);
	free(b);
	q->rt = nrt;
	q->rt_off = host;
	q->rt_clusters = (uint32_t)clusters;
	q->rt_entries = entries;
	return 0;
fail:
	free(nrt);
	free(b);
	qcow2_unalloc(q, host, clusters);
	return r;
}

/* Makes the refcount table and blocks on disk say what the in-memory
 * counts say: blocks allocated where missing, the table grown, the changed
 * blocks written. The image must be marked dirty meanwhile. */
int qcow2_refs_writeout(struct qcow2 *q)
{
	uint64_t epb = 1ull << q->rb_bits;
	int r = qcow2_mark_dirty(q);
	if (r < 0)
		return r;
	for (;;) {
		uint64_t nb = (q->nrefs + epb - 1) >> q->rb_bits;
		if (nb > q->rt_entries) {
			if ((r = grow_rt(q, nb)) < 0)
				return r;
			continue;
		}
		bool again = false;
		for (uint64_t b = 0; b < nb; b++) {
			if (q->rt[b] || !block_used(q, b))
				continue;
			uint64_t host;
			if ((r = qcow2_alloc(q, 1, &host)) < 0)
				return r;
			q->rt[b] = host;
			q->rt_dirty = true;
			if ((r = rb_mark(q, b)) < 0)
				return r;
			again = true;
		}
		if (!again)
			break;
	}
	uint8_t *blk = malloc(q->cs);
	if (!blk)
		return -ENOMEM;
	for (uint64_t b = 0; b < q->rb_dirty_cap && b < q->rt_entries && r == 0; b++) {
		if (!q->rb_dirty[b] || !q->rt[b])
			continue;
		memset(blk, 0, q->cs);
		for (uint64_t i = 0; i < epb; i++) {
			uint64_t v = qcow2_ref(q, b * epb + i);
			if (v > q->refcount_max) {
				r = -EOVERFLOW;
				break;
			}
			qcow2_refcount_put(blk, q->refcount_order, i, v);
		}
		if (r == 0)
			r = block_file_pwrite(q->fd, blk, q->cs, q->rt[b]);
		if (r == 0)
			q->rb_dirty[b] = 0;
	}
	free(blk);
	if (r == 0 && q->rt_dirty) {
		uint8_t *t = malloc(q->rt_entries * 8);
		if (!t)
			return -ENOMEM;
		for (uint64_t i = 0; i < q->rt_entries; i++)
			q_put64(t + i * 8, q->rt[i]);
		r = block_file_pwrite(q->fd, t, q->rt_entries * 8, q->rt_off);
		free(t);
		if (r == 0)
			q->rt_dirty = false;
	}
	return r;
}
