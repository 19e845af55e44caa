/* qcow2 consistency: counting every host cluster's references from the
 * header, tables and snapshots (finding entries that are unaligned, past
 * the end of the file, or overlapping), comparing with the refcounts, and
 * rebuilding them: for check --repair and for a dirty image's open. */
#include "devices/block/qcow2_int.h"

#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

enum use { U_NONE, U_HEADER, U_L1, U_RT, U_RB, U_L2, U_DATA, U_COMPRESSED, U_SNAPTAB };

static const char *const use_names[] = {
    "nothing",	   "the header", "an L1 table",	    "the refcount table", "a refcount block",
    "an L2 table", "guest data", "compressed data", "the snapshot table",
};

#define MAX_REPORTS 1000

static void problem(struct qcow2_walk *w, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

static void problem(struct qcow2_walk *w, const char *fmt, ...)
{
	w->problems++;
	if (!w->res || w->problems > MAX_REPORTS)
		return;
	va_list ap;
	va_start(ap, fmt);
	block_check_vreport(w->res, fmt, ap);
	va_end(ap);
}

/* One more reference to the clusters [off, off + len) for `use`. */
static bool add(struct qcow2_walk *w, const struct qcow2 *q, uint64_t off, uint64_t len,
		enum use use)
{
	if (!len)
		return true;
	uint64_t c0 = off >> q->cb, c1 = (off + len - 1) >> q->cb;
	if (c1 >= w->nrefs)
		return false; /* past the end of the file: the caller reports it */
	for (uint64_t c = c0; c <= c1; c++) {
		if (w->kind[c] != U_NONE && w->kind[c] != use)
			problem(w, "cluster 0x%" PRIx64 " is used as %s and as %s (overlap)",
				c << q->cb, use_names[w->kind[c]], use_names[use]);
		if (w->kind[c] == U_NONE)
			w->kind[c] = (uint8_t)use;
		if (w->refs[c] == UINT32_MAX || w->refs[c] >= q->refcount_max)
			w->overflow++;
		if (w->refs[c] != UINT32_MAX)
			w->refs[c]++;
	}
	return true;
}

/* The clusters an L2 table references. entries: host order; fix: the
 * active table of L1 entry l1i, where repair clears bad entries. */
static int walk_l2(struct qcow2 *q, struct qcow2_walk *w, uint64_t *t, uint64_t l1i, bool active)
{
	uint64_t per = 1ull << q->l2_bits;
	for (uint64_t j = 0; j < per; j++) {
		uint64_t e = t[j];
		if (!e)
			continue;
		uint64_t guest = ((l1i << q->l2_bits) + j) << q->cb;
		struct qcow2_map m = qcow2_decode(q, e);
		bool bad = m.kind == QK_BAD || (!(e & QE_COMPRESSED) && (e & QE_L2_RESERVED));
		if (m.kind == QK_NORMAL || m.kind == QK_ZERO_ALLOC)
			bad |= !add(w, q, m.host, q->cs, U_DATA);
		else if (m.kind == QK_COMPRESSED)
			bad |= !add(w, q, m.host, m.clen, U_COMPRESSED);
		if (!bad)
			continue;
		problem(w,
			"the L2 entry for guest offset 0x%" PRIx64 " (0x%016" PRIx64
			") is invalid (unaligned, reserved bits, or past the end of the file)",
			guest, e);
		if (w->fix && active) {
			/* The data is lost either way; zeroes are honest. */
			if ((m.kind == QK_NORMAL || m.kind == QK_ZERO_ALLOC) &&
			    m.host < q->file_size)
				w->refs[m.host >> q->cb]--;
			t[j] = q->version >= 3 ? QE_ZERO : 0;
			int r = qcow2_l2_write(q, l1i, j, 1);
			if (r < 0)
				return r;
			w->fixed++;
		}
	}
	return 0;
}

static int walk_l1(struct qcow2 *q, struct qcow2_walk *w, uint64_t *l1, uint32_t l1_size,
		   bool active)
{
	uint64_t *tmp = active ? NULL : malloc(q->cs);
	if (!active && !tmp)
		return -ENOMEM;
	int r = 0;
	for (uint32_t i = 0; i < l1_size && r == 0; i++) {
		uint64_t e = l1[i], off = e & QE_OFFSET_MASK;
		if (!e)
			continue;
		bool bad = off == 0 || (e & QE_L1_RESERVED) || (off & (q->cs - 1)) ||
			   !add(w, q, off, q->cs, U_L2);
		if (bad) {
			problem(
			    w,
			    "L1 entry %u (0x%016" PRIx64
			    ") is invalid (unaligned, reserved bits, or past the end of the file)",
			    i, e);
			if (w->fix && active) {
				l1[i] = 0;
				free(q->l2[i]);
				q->l2[i] = NULL;
				uint8_t z[8] = {0};
				r = block_file_pwrite(q->fd, z, 8, q->l1_off + (uint64_t)i * 8);
				w->fixed++;
			}
			continue;
		}
		uint64_t *t;
		if (active) {
			r = qcow2_l2_load(q, i, &t);
		} else {
			t = tmp;
			r = block_file_pread(q->fd, t, q->cs, off);
			for (uint64_t j = 0; r == 0 && j < q->cs / 8; j++)
				t[j] = q_be64((uint8_t *)&t[j]);
		}
		if (r == 0)
			r = walk_l2(q, w, t, i, active);
	}
	free(tmp);
	return r;
}

/* The internal snapshots' table, L1 tables and what they reference. */
static int walk_snapshots(struct qcow2 *q, struct qcow2_walk *w)
{
	uint64_t off = q->snapshots_off;
	int r = 0;
	for (unsigned i = 0; i < q->nb_snapshots && r == 0; i++) {
		uint8_t h[40];
		if (off > q->file_size || sizeof(h) > q->file_size - off) {
			problem(w, "snapshot %u lies past the end of the file", i);
			break;
		}
		r = block_file_pread(q->fd, h, sizeof(h), off);
		if (r < 0)
			break;
		uint64_t l1_off = q_be64(h),
			 len = 40 + (uint64_t)q_be32(h + 36) + q_be16(h + 12) + q_be16(h + 14);
		uint32_t l1_size = q_be32(h + 8);
		off += q_align_up(len, 8);
		if (l1_size == 0)
			continue;
		if (l1_off & (q->cs - 1) || (uint64_t)l1_size * 8 > QCOW2_MAX_L1_BYTES ||
		    !add(w, q, l1_off, (uint64_t)l1_size * 8, U_L1)) {
			problem(w, "snapshot %u's L1 table (0x%" PRIx64 ") is invalid", i, l1_off);
			continue;
		}
		uint64_t *l1 = malloc((uint64_t)l1_size * 8);
		if (!l1)
			return -ENOMEM;
		r = block_file_pread(q->fd, l1, (uint64_t)l1_size * 8, l1_off);
		for (uint32_t j = 0; r == 0 && j < l1_size; j++)
			l1[j] = q_be64((uint8_t *)&l1[j]);
		if (r == 0)
			r = walk_l1(q, w, l1, l1_size, false);
		free(l1);
	}
	if (r == 0 && q->nb_snapshots &&
	    !add(w, q, q->snapshots_off, off - q->snapshots_off, U_SNAPTAB))
		problem(w, "the snapshot table lies past the end of the file");
	return r;
}

int qcow2_walk(struct qcow2 *q, struct qcow2_walk *w)
{
	w->nrefs = (q->file_size + q->cs - 1) >> q->cb;
	w->refs = calloc(w->nrefs + 1, sizeof(*w->refs));
	w->kind = calloc(w->nrefs + 1, 1);
	if (!w->refs || !w->kind) {
		qcow2_walk_free(w);
		return -ENOMEM;
	}
	add(w, q, 0, q->cs, U_HEADER);
	add(w, q, q->l1_off, (uint64_t)q->l1_size * 8, U_L1);
	add(w, q, q->rt_off, (uint64_t)q->rt_clusters * q->cs, U_RT);
	for (uint64_t b = 0; b < q->rt_entries; b++) {
		uint64_t off = q->rt[b] & QE_RT_MASK;
		if (!q->rt[b])
			continue;
		if ((q->rt[b] & ~QE_RT_MASK) || (off & (q->cs - 1)) ||
		    !add(w, q, off, q->cs, U_RB)) {
			problem(w, "refcount table entry %" PRIu64 " (0x%016" PRIx64 ") is invalid",
				b, q->rt[b]);
			if (!q->ro) {
				/* A new block is written in its place. */
				q->rt[b] = 0;
				q->rt_dirty = true;
				if (w->fix)
					w->fixed++;
			}
		}
	}
	int r = walk_l1(q, w, q->l1, q->l1_size, true);
	if (r == 0)
		r = walk_snapshots(q, w);
	if (r < 0)
		qcow2_walk_free(w);
	return r;
}

void qcow2_walk_free(struct qcow2_walk *w)
{
	free(w->refs);
	free(w->kind);
	w->refs = NULL;
	w->kind = NULL;
}

/* The walk's counts become the image's in-memory refcounts; frees the walk. */
static void adopt_refs(struct qcow2 *q, struct qcow2_walk *w)
{
	free(q->refs);
	q->refs = w->refs;
	q->refs_cap = w->nrefs + 1;
	q->nrefs = w->nrefs;
	q->free_hint = 1;
	w->refs = NULL;
	qcow2_walk_free(w);
}

/* The counts of a read-write open, from the tables. Written to disk at
 * once (and the dirty bit cleared) when the image was not closed cleanly,
 * or when its refcounts on disk disagree. */
int qcow2_rebuild(struct qcow2 *q, bool write_now)
{
	struct qcow2_walk w = {0};
	int r = qcow2_walk(q, &w);
	if (r < 0)
		return r;
	if (w.problems || w.overflow)
		q->broken = true;
	adopt_refs(q, &w);
	if (q->was_dirty)
		q->dirty_set = true;
	if (!write_now) {
		uint32_t *d;
		uint64_t nd;
		r = qcow2_refs_load_disk(q, &d, &nd, NULL);
		if (r < 0)
			return r;
		/* Written at close (or by check --repair, which reports them). */
		for (uint64_t c = 0; c < nd || c < q->nrefs; c++)
			if ((c < nd ? d[c] : 0) != qcow2_ref(q, c)) {
				q->refs_stale = true;
				break;
			}
		free(d);
		if (q->refs_stale)
			qcow2_mark_all_dirty(q);
		return 0;
	}
	if (q->broken)
		return 0;
	qcow2_mark_all_dirty(q);
	r = qcow2_refs_writeout(q);
	if (r == 0 && fdatasync(q->fd) < 0)
		r = -errno;
	if (r == 0)
		r = qcow2_set_incompat(q, q->incompat & ~QINCOMPAT_DIRTY);
	if (r == 0) {
		q->dirty_set = false;
		q->was_dirty = false;
	}
	return r;
}

int qcow2_check(struct block_dev *bd, bool repair, struct block_check *res)
{
	struct qcow2 *q = bd->priv;
	if (repair && q->ro)
		return -EROFS;
	pthread_mutex_lock(&q->lock);
	int r = 0;
	if (repair) {
		/* Nothing is in flight: what is pending can go now. */
		if (fdatasync(q->fd) < 0) {
			r = -errno;
			goto out;
		}
		q->inplace = 0;
		qcow2_free_pending(q, q->npending);
	}
	struct qcow2_walk w = {.res = res, .fix = repair};
	r = qcow2_walk(q, &w);
	if (r < 0)
		goto out;
	uint64_t unfixable = w.problems - w.fixed;
	res->corruptions += w.problems;
	uint32_t *d;
	uint64_t nd, mismatches = 0, lines = 0;
	r = qcow2_refs_load_disk(q, &d, &nd, NULL);
	if (r < 0) {
		qcow2_walk_free(&w);
		goto out;
	}
	for (uint64_t c = 0; c < nd || c < w.nrefs; c++) {
		uint64_t have = c < nd ? d[c] : 0, want = c < w.nrefs ? w.refs[c] : 0;
		if (have == want)
			continue;
		mismatches++;
		if (have < want)
			res->corruptions++;
		else
			res->leaks++;
		if (++lines <= MAX_REPORTS)
			block_check_report(res,
					   "%s: cluster 0x%" PRIx64 " has refcount %" PRIu64
					   " but %" PRIu64 " references",
					   have < want ? "error" : "leak", c << q->cb, have, want);
	}
	if (lines > MAX_REPORTS)
		block_check_report(res, "... and %" PRIu64 " more refcount problems",
				   lines - MAX_REPORTS);
	free(d);
	if (w.overflow) {
		block_check_report(res,
				   "%" PRIu64 " clusters have more references than %u-bit "
				   "refcounts can count",
				   w.overflow, 1u << q->refcount_order);
		res->corruptions += w.overflow;
		unfixable += w.overflow;
	}
	if (!repair) {
		qcow2_walk_free(&w);
		goto out;
	}
	adopt_refs(q, &w);
	if (unfixable) {
		q->broken = true;
		goto out;
	}
	qcow2_mark_all_dirty(q);
	r = qcow2_refs_writeout(q);
	if (r == 0 && fdatasync(q->fd) < 0)
		r = -errno;
	if (r == 0 && (q->incompat & QINCOMPAT_CORRUPT))
		r = qcow2_set_incompat(q, q->incompat & ~QINCOMPAT_CORRUPT);
	if (r == 0) {
		res->repaired += mismatches + w.fixed;
		q->broken = false;
		q->refs_stale = false;
	}
out:
	pthread_mutex_unlock(&q->lock);
	return r;
}
