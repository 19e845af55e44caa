/* qcow2 requests on the block layer's pool threads: guest offsets mapped
 * through L1/L2, data I/O outside the metadata lock where clusters exist,
 * allocation with copy-on-write, compressed reads, zero clusters, flush. */
#include "devices/block/qcow2_int.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <zlib.h>

#define BOUNCE_MAX     (1u << 20)
#define ZERO_RANGE_MIN (16u << 10)

/* --- request buffers ------------------------------------------------------- */

/* Whole-length preadv/pwritev of cnt entries. A read reaching the end of
 * the file gives zeroes for the rest. */
static int full_rw(int fd, bool write, struct iovec *iov, unsigned cnt, uint64_t off)
{
	uint64_t done;
	int r = file_prw_iov(fd, iov, (int)cnt, off, write, &done);

	if (r == -ENODATA) {
		struct block_iov rest = {.iov = iov, .niov = cnt};
		block_iov_advance(&rest, done);
		block_iov_fill(&rest, NULL, UINT64_MAX);
		return 0;
	}
	return r;
}

/* --- tables ------------------------------------------------------------------ */

struct qcow2_map qcow2_decode(const struct qcow2 *q, uint64_t e)
{
	struct qcow2_map m = {.kind = QK_BAD};
	if (e & QE_COMPRESSED) {
		unsigned x = 62 - (q->cb - 8);
		uint64_t off = e & ((1ull << x) - 1);
		uint64_t nsec = ((e >> x) & ((1ull << (62 - x)) - 1)) + 1;
		if (off >> 56 || off < q->cs || off >= q->file_size)
			return m;
		m.kind = QK_COMPRESSED;
		m.host = off;
		m.clen = nsec * 512 - (off & 511);
		if (m.clen > q->file_size - off)
			m.clen = q->file_size - off; /* the last stream may end the file */
		return m;
	}
	uint64_t host = e & QE_OFFSET_MASK;
	if (host & (q->cs - 1))
		return m;
	if (!host) {
		if (!(e & QE_COPIED))
			m.kind = e & QE_ZERO ? QK_ZERO : QK_UNALLOC;
		return m;
	}
	if (host >= q->file_size)
		return m;
	m.kind = e & QE_ZERO ? QK_ZERO_ALLOC : QK_NORMAL;
	m.host = host;
	return m;
}

/* The L2 table of L1 entry l1i, read on first use; *table NULL: none. */
int qcow2_l2_load(struct qcow2 *q, uint64_t l1i, uint64_t **table)
{
	*table = q->l2[l1i];
	if (*table)
		return 0;
	uint64_t off = q->l1[l1i] & QE_OFFSET_MASK;
	if (!off)
		return 0;
	if (off & (q->cs - 1) || off >= q->file_size || q->cs > q->file_size - off)
		return -EIO;
	uint64_t *t = malloc(q->cs);
	if (!t)
		return -ENOMEM;
	int r = block_file_pread(q->fd, t, q->cs, off);
	if (r < 0) {
		free(t);
		return r;
	}
	for (uint64_t i = 0; i < q->cs / 8; i++)
		t[i] = q_be64((uint8_t *)&t[i]);
	q->l2[l1i] = t;
	*table = t;
	return 0;
}

/* Writes entries [from, from + n) of the loaded L2 table of l1i. */
int qcow2_l2_write(struct qcow2 *q, uint64_t l1i, uint64_t from, uint64_t n)
{
	uint8_t *b = malloc(n * 8);
	if (!b)
		return -ENOMEM;
	for (uint64_t i = 0; i < n; i++)
		q_put64(b + i * 8, q->l2[l1i][from + i]);
	int r = block_file_pwrite(q->fd, b, n * 8, (q->l1[l1i] & QE_OFFSET_MASK) + from * 8);
	free(b);
	return r;
}

static int l1_write(struct qcow2 *q, uint64_t l1i)
{
	uint8_t b[8];
	q_put64(b, q->l1[l1i]);
	return block_file_pwrite(q->fd, b, 8, q->l1_off + l1i * 8);
}

/* The L2 table of l1i, ready to be changed: allocated if there was none,
 * copied if another L1 entry shares it. New tables reach the disk before
 * the L1 entry that points at them. */
static int l2_for_write(struct qcow2 *q, uint64_t l1i, uint64_t **table)
{
	uint64_t *t;
	int r = qcow2_l2_load(q, l1i, &t);
	if (r < 0)
		return r;
	uint64_t old = q->l1[l1i] & QE_OFFSET_MASK;
	if (t && qcow2_ref(q, old >> q->cb) == 1) {
		*table = t;
		return 0;
	}
	uint64_t host;
	r = qcow2_alloc(q, 1, &host);
	if (r < 0)
		return r;
	uint64_t *nt = t ? t : calloc(1, q->cs);
	uint8_t *b = malloc(q->cs);
	if (!nt || !b) {
		r = -ENOMEM;
		goto fail;
	}
	for (uint64_t i = 0; i < q->cs / 8; i++)
		q_put64(b + i * 8, nt[i]);
	r = block_file_pwrite(q->fd, b, q->cs, host);
	if (r == 0 && fdatasync(q->fd) < 0)
		r = -errno;
	if (r < 0)
		goto fail;
	uint64_t old_entry = q->l1[l1i];
	q->l1[l1i] = host | QE_COPIED;
	r = l1_write(q, l1i);
	if (r < 0) {
		q->l1[l1i] = old_entry;
		goto fail;
	}
	if (old)
		qcow2_free_later(q, old, q->cs);
	q->l2[l1i] = nt;
	free(b);
	*table = nt;
	return 0;
fail:
	if (nt != t)
		free(nt);
	free(b);
	qcow2_unalloc(q, host, 1);
	return r;
}

/* How guest byte pos maps, and how many bytes from it (at most max) map
 * the same way, contiguous on the host. Lock held. */
static int lookup(struct qcow2 *q, uint64_t pos, uint64_t max, struct qcow2_map *m, uint64_t *run)
{
	uint64_t gc = pos >> q->cb, per = 1ull << q->l2_bits;
	uint64_t l1i = gc >> q->l2_bits, l2i = gc & (per - 1), within = pos & (q->cs - 1);
	uint64_t want = (within + max + q->cs - 1) >> q->cb;
	uint64_t nmax = per - l2i < want ? per - l2i : want;
	uint64_t *t;
	int r = l1i < q->l1_size ? qcow2_l2_load(q, l1i, &t) : -EIO;
	if (r < 0)
		return r;
	uint64_t n = 1;
	if (!t) {
		*m = (struct qcow2_map){.kind = QK_UNALLOC};
		n = nmax;
	} else {
		*m = qcow2_decode(q, t[l2i]);
		bool contiguous = m->kind == QK_NORMAL || m->kind == QK_ZERO_ALLOC;
		if (m->kind != QK_COMPRESSED && m->kind != QK_BAD) {
			while (n < nmax) {
				struct qcow2_map m2 = qcow2_decode(q, t[l2i + n]);
				if (m2.kind != m->kind ||
				    (contiguous && m2.host != m->host + n * q->cs))
					break;
				n++;
			}
		}
	}
	uint64_t bytes = n * q->cs - within;
	*run = bytes < max ? bytes : max;
	if (m->kind == QK_NORMAL || m->kind == QK_ZERO_ALLOC)
		m->host += within;
	return 0;
}

/* --- reading ------------------------------------------------------------------ */

/* len bytes of the backing file at guest offset pos (zeroes past its end,
 * or without one) into buf or the request's buffers. */
static int read_backing(struct qcow2 *q, struct block_iov *c, uint8_t *buf, uint64_t pos,
			uint64_t len)
{
	struct block_dev *b = q->bd->backing;
	uint64_t bsize = b ? block_size(b) : 0;
	uint64_t have = pos >= bsize ? 0 : (bsize - pos < len ? bsize - pos : len);
	uint8_t *bounce = NULL;
	if (have && !buf) {
		bounce = malloc(have < BOUNCE_MAX ? have : BOUNCE_MAX);
		if (!bounce)
			return -ENOMEM;
	}
	uint64_t done = 0;
	while (done < have) {
		uint64_t n = have - done;
		if (!buf && n > BOUNCE_MAX)
			n = BOUNCE_MAX;
		uint8_t *dst = buf ? buf + done : bounce;
		int r = block_pread(b, dst, n, pos + done);
		if (r < 0) {
			free(bounce);
			return r;
		}
		if (!buf)
			block_iov_fill(c, dst, n);
		done += n;
	}
	free(bounce);
	if (buf)
		memset(buf + have, 0, len - have);
	else
		block_iov_fill(c, NULL, len - have);
	return 0;
}

/* The whole guest cluster a compressed entry holds, into out (cs bytes). */
static int read_compressed(struct qcow2 *q, const struct qcow2_map *m, uint8_t *out)
{
	uint64_t clen = m->clen;
	uint8_t *in = malloc(clen ? clen : 1);
	if (!in)
		return -ENOMEM;
	int r = block_file_pread(q->fd, in, clen, m->host);
	if (r < 0)
		goto out;
	z_stream z = {0};
	if (inflateInit2(&z, -15) != Z_OK) {
		r = -ENOMEM;
		goto out;
	}
	z.next_in = in;
	z.avail_in = (uInt)clen;
	z.next_out = out;
	z.avail_out = (uInt)q->cs;
	int zr = inflate(&z, Z_FINISH);
	inflateEnd(&z);
	/* A stream that does not fill the cluster exactly is corrupt. */
	r = (zr == Z_STREAM_END || zr == Z_BUF_ERROR || zr == Z_OK) && z.avail_out == 0 ? 0 : -EIO;
out:
	free(in);
	return r;
}

/* The current contents of [pos, pos + len) (inside one guest cluster, mapped
 * by m for pos) into buf. Lock held. */
static int read_old(struct qcow2 *q, const struct qcow2_map *m, uint64_t pos, uint64_t len,
		    uint8_t *buf)
{
	switch (m->kind) {
	case QK_UNALLOC:
		return read_backing(q, NULL, buf, pos, len);
	case QK_ZERO:
	case QK_ZERO_ALLOC:
		memset(buf, 0, len);
		return 0;
	case QK_NORMAL: {
		struct iovec one = {buf, len};
		return full_rw(q->fd, false, &one, 1, m->host);
	}
	case QK_COMPRESSED: {
		uint8_t *c = malloc(q->cs);
		if (!c)
			return -ENOMEM;
		int r = read_compressed(q, m, c);
		if (r == 0)
			memcpy(buf, c + (pos & (q->cs - 1)), len);
		free(c);
		return r;
	}
	default:
		return -EIO;
	}
}

/* read_compressed through the one-cluster cache; gen: zcache_gen when m
 * was looked up. */
static int read_compressed_cached(struct qcow2 *q, const struct qcow2_map *m, uint64_t gen,
				  uint8_t *out)
{
	bool hit = false;
	pthread_mutex_lock(&q->lock);
	if (q->zcache && q->zcache_host == m->host && q->zcache_gen == gen) {
		memcpy(out, q->zcache, q->cs);
		hit = true;
	}
	pthread_mutex_unlock(&q->lock);
	if (hit)
		return 0;
	int r = read_compressed(q, m, out);
	if (r < 0)
		return r;
	pthread_mutex_lock(&q->lock);
	if (!q->zcache)
		q->zcache = malloc(q->cs);
	if (q->zcache && q->zcache_gen == gen) {
		memcpy(q->zcache, out, q->cs);
		q->zcache_host = m->host;
	}
	pthread_mutex_unlock(&q->lock);
	return 0;
}

static int do_read(struct qcow2 *q, struct block_req *req, struct iovec *sub, unsigned nsub)
{
	struct block_iov c = {.iov = req->iov, .niov = req->niov};
	uint64_t pos = req->offset, left = req->len;
	uint8_t *cbuf = NULL;
	int r = 0;
	while (left && r == 0) {
		struct qcow2_map m;
		uint64_t run;
		pthread_mutex_lock(&q->lock);
		r = lookup(q, pos, left, &m, &run);
		uint64_t gen = q->zcache_gen;
		pthread_mutex_unlock(&q->lock);
		if (r < 0)
			break;
		switch (m.kind) {
		case QK_UNALLOC:
			r = read_backing(q, &c, NULL, pos, run);
			break;
		case QK_ZERO:
		case QK_ZERO_ALLOC:
			block_iov_fill(&c, NULL, run);
			break;
		case QK_NORMAL: {
			unsigned k = block_iov_take(&c, run, sub, nsub);
			r = full_rw(q->fd, false, sub, k, m.host);
			break;
		}
		case QK_COMPRESSED:
			if (!cbuf)
				cbuf = malloc(q->cs);
			r = cbuf ? read_compressed_cached(q, &m, gen, cbuf) : -ENOMEM;
			if (r == 0)
				block_iov_fill(&c, cbuf + (pos & (q->cs - 1)), run);
			break;
		default:
			r = -EIO;
		}
		pos += run;
		left -= run;
	}
	free(cbuf);
	return r;
}

/* Frees (once no request reads them) the clusters n replaced L2 entries
 * pointed to; a compressed one also drops the inflated-cluster cache. */
static void release_old(struct qcow2 *q, const uint64_t *old, uint64_t n)
{
	for (uint64_t i = 0; i < n; i++) {
		struct qcow2_map o = qcow2_decode(q, old[i]);
		if (o.kind == QK_NORMAL || o.kind == QK_ZERO_ALLOC) {
			qcow2_free_later(q, o.host, q->cs);
		} else if (o.kind == QK_COMPRESSED) {
			q->zcache_gen++; /* its inflated copy is stale */
			qcow2_free_later(q, o.host, o.clen);
		}
	}
}

/* --- writing ----------------------------------------------------------------- */

/* Writes [pos, pos + len) (inside one L2 table; clusters mapped like m)
 * into newly allocated clusters, with the rest of the first and last
 * cluster copied from what they held, then points the L2 entries at them.
 * data: the request's buffers, or NULL for zeroes. Lock held. */
static int write_alloc(struct qcow2 *q, uint64_t pos, uint64_t len, const struct qcow2_map *m,
		       struct block_iov *data, struct iovec *sub, unsigned nsub)
{
	uint64_t gc0 = pos >> q->cb, gcn = (pos + len - 1) >> q->cb, n = gcn - gc0 + 1;
	uint64_t head = pos & (q->cs - 1), end = (pos + len) & (q->cs - 1);
	uint64_t tail = end ? q->cs - end : 0;
	uint64_t l1i = gc0 >> q->l2_bits, l2i = gc0 & ((1ull << q->l2_bits) - 1);
	uint8_t *hb = NULL, *tb = NULL, *zb = NULL;
	uint64_t *t, host;
	int r = qcow2_mark_dirty(q);
	if (r == 0)
		r = l2_for_write(q, l1i, &t);
	if (r < 0)
		return r;
	/* The entries' old meaning, for the copies. */
	struct qcow2_map first = *m;
	if (first.kind == QK_NORMAL || first.kind == QK_ZERO_ALLOC)
		first.host -= head;
	bool reuse = m->kind == QK_ZERO_ALLOC && n == 1 && qcow2_ref(q, first.host >> q->cb) == 1;
	if (reuse)
		host = first.host;
	else if ((r = qcow2_alloc(q, n, &host)) < 0)
		return r;
	/* The data goes to the new clusters without the lock; writes to the
	 * same guest clusters wait meanwhile, reads see the old mapping. */
	struct qcow2_inflight me = {gc0, n, q->allocating};
	q->allocating = &me;
	pthread_mutex_unlock(&q->lock);
	/* Large stretches of zeroes around a small write become a zeroed
	 * range (fallocate) instead of written buffers. */
	uint64_t at = host; /* where the write begins */
	bool zeroes = first.kind == QK_ZERO || first.kind == QK_ZERO_ALLOC ||
		      (first.kind == QK_UNALLOC && !q->bd->backing);
	if (zeroes && head + tail >= ZERO_RANGE_MIN) {
		r = block_file_zero(q->fd, host, head);
		if (r == 0)
			r = block_file_zero(q->fd, host + head + len, tail);
		at += head;
		head = tail = 0;
	}
	hb = head ? malloc(head) : NULL;
	tb = tail ? malloc(tail) : NULL;
	if ((head && !hb) || (tail && !tb))
		r = -ENOMEM;
	if (r == 0 && head)
		r = read_old(q, &first, gc0 << q->cb, head, hb);
	/* Runs of more than one cluster are unallocated or zero clusters, so
	 * `first` says what the last cluster holds too. */
	if (r == 0 && tail)
		r = read_old(q, &first, pos + len, tail, tb);
	unsigned k = 0;
	if (head)
		sub[k++] = (struct iovec){hb, head};
	if (data) {
		k += block_iov_take(data, len, sub + k, nsub - 2);
	} else {
		zb = calloc(1, len);
		sub[k++] = (struct iovec){zb, len};
		if (!zb)
			r = -ENOMEM;
	}
	if (tail)
		sub[k++] = (struct iovec){tb, tail};
	if (r == 0)
		r = full_rw(q->fd, true, sub, k, at);
	pthread_mutex_lock(&q->lock);
	for (struct qcow2_inflight **pp = &q->allocating; *pp; pp = &(*pp)->next)
		if (*pp == &me) {
			*pp = me.next;
			break;
		}
	pthread_cond_broadcast(&q->alloc_done);
	if (r < 0)
		goto fail;
	t = q->l2[l1i]; /* the same table: it is this image's own now */
	uint64_t *old = malloc(n * sizeof(*old));
	if (!old) {
		r = -ENOMEM;
		goto fail;
	}
	memcpy(old, t + l2i, n * sizeof(*old));
	for (uint64_t i = 0; i < n; i++)
		t[l2i + i] = (host + i * q->cs) | QE_COPIED;
	r = qcow2_l2_write(q, l1i, l2i, n);
	if (r < 0) {
		memcpy(t + l2i, old, n * sizeof(*old));
		free(old);
		goto fail;
	}
	if (!reuse)
		release_old(q, old, n);
	free(old);
	free(hb);
	free(tb);
	free(zb);
	return 0;
fail:
	if (!reuse)
		qcow2_unalloc(q, host, n);
	free(hb);
	free(tb);
	free(zb);
	return r;
}

/* The first guest cluster in [gc, end) a write is allocating, or
 * UINT64_MAX. Lock held. */
static uint64_t first_busy(const struct qcow2 *q, uint64_t gc, uint64_t end)
{
	uint64_t first = UINT64_MAX;
	for (const struct qcow2_inflight *a = q->allocating; a; a = a->next)
		if (a->gc < end && gc < a->gc + a->n) {
			uint64_t c = a->gc > gc ? a->gc : gc;
			if (c < first)
				first = c;
		}
	return first;
}

/* Writes [pos, pos + len) from data (NULL: zeroes): in place where the
 * clusters are the image's own, else through write_alloc. */
static int write_range(struct qcow2 *q, uint64_t pos, uint64_t len, struct block_iov *data,
		       struct iovec *sub, unsigned nsub)
{
	int r = 0;
	while (len && r == 0) {
		struct qcow2_map m;
		uint64_t run;
		pthread_mutex_lock(&q->lock);
		uint64_t busy = first_busy(q, pos >> q->cb, ((pos + len - 1) >> q->cb) + 1);
		if (busy == pos >> q->cb) {
			pthread_cond_wait(&q->alloc_done, &q->lock);
			pthread_mutex_unlock(&q->lock);
			continue;
		}
		r = q->broken ? -EIO : lookup(q, pos, len, &m, &run);
		if (r < 0) {
			pthread_mutex_unlock(&q->lock);
			break;
		}
		/* Up to the first cluster another write is allocating. */
		if (busy != UINT64_MAX && (busy << q->cb) - pos < run)
			run = (busy << q->cb) - pos;
		uint64_t owned = 0;
		if (m.kind == QK_NORMAL) {
			uint64_t c0 = m.host >> q->cb, c1 = (m.host + run - 1) >> q->cb;
			for (uint64_t c = c0; c <= c1 && qcow2_ref(q, c) == 1; c++)
				owned = ((c + 1) << q->cb) - m.host;
			if (owned > run)
				owned = run;
		}
		if (owned) {
			run = owned;
			q->inplace++;
			pthread_mutex_unlock(&q->lock);
			if (data) {
				unsigned k = block_iov_take(data, run, sub, nsub);
				r = full_rw(q->fd, true, sub, k, m.host);
			} else {
				r = block_file_zero(q->fd, m.host, run);
			}
			pthread_mutex_lock(&q->lock);
			q->inplace--;
			pthread_mutex_unlock(&q->lock);
		} else {
			if (m.kind != QK_UNALLOC && m.kind != QK_ZERO) {
				/* One cluster at a time. */
				uint64_t rest = q->cs - (pos & (q->cs - 1));
				run = run < rest ? run : rest;
			}
			r = m.kind == QK_BAD ? -EIO : write_alloc(q, pos, run, &m, data, sub, nsub);
			pthread_mutex_unlock(&q->lock);
		}
		pos += run;
		len -= run;
	}
	return r;
}

/* --- discard and write-zeroes -------------------------------------------------- */

/* Whole clusters [gc, gc + n) inside one L2 table read as zeroes from now
 * on, their host clusters freed. Lock held. */
static int zero_clusters(struct qcow2 *q, uint64_t gc, uint64_t n)
{
	uint64_t l1i = gc >> q->l2_bits, l2i = gc & ((1ull << q->l2_bits) - 1);
	bool backing = q->bd->backing != NULL;
	if (!(q->l1[l1i] & QE_OFFSET_MASK) && !backing)
		return 0; /* no table, no backing file: zeroes already */
	uint64_t *t;
	int r = qcow2_mark_dirty(q);
	if (r == 0)
		r = l2_for_write(q, l1i, &t);
	if (r < 0)
		return r;
	uint64_t want = backing ? QE_ZERO : 0;
	uint64_t *old = malloc(n * sizeof(*old));
	if (!old)
		return -ENOMEM;
	memcpy(old, t + l2i, n * sizeof(*old));
	for (uint64_t i = 0; i < n; i++)
		t[l2i + i] = want;
	r = qcow2_l2_write(q, l1i, l2i, n);
	if (r < 0) {
		memcpy(t + l2i, old, n * sizeof(*old));
	} else {
		release_old(q, old, n);
	}
	free(old);
	return r;
}

static int do_zero(struct qcow2 *q, struct block_req *req, bool discard, struct iovec *sub,
		   unsigned nsub)
{
	uint64_t pos = req->offset, left = req->len;
	int r = 0;
	while (left && r == 0) {
		uint64_t within = pos & (q->cs - 1), chunk;
		if (within || left < q->cs) {
			chunk = q->cs - within < left ? q->cs - within : left;
			if (discard)
				goto next; /* a partial cluster may keep its data */
			struct qcow2_map m;
			uint64_t run;
			pthread_mutex_lock(&q->lock);
			r = lookup(q, pos, chunk, &m, &run);
			pthread_mutex_unlock(&q->lock);
			if (r < 0)
				break;
			if (m.kind == QK_ZERO || m.kind == QK_ZERO_ALLOC ||
			    (m.kind == QK_UNALLOC && !q->bd->backing))
				goto next;
			r = write_range(q, pos, chunk, NULL, sub, nsub);
		} else {
			uint64_t per = 1ull << q->l2_bits, gc = pos >> q->cb;
			uint64_t n = left >> q->cb;
			if (n > per - (gc & (per - 1)))
				n = per - (gc & (per - 1));
			chunk = n << q->cb;
			pthread_mutex_lock(&q->lock);
			while (first_busy(q, gc, gc + n) != UINT64_MAX)
				pthread_cond_wait(&q->alloc_done, &q->lock);
			r = q->broken ? -EIO : zero_clusters(q, gc, n);
			pthread_mutex_unlock(&q->lock);
		}
	next:
		pos += chunk;
		left -= chunk;
	}
	return r;
}

/* --- flush and dispatch --------------------------------------------------------- */

static int do_flush(struct qcow2 *q)
{
	pthread_mutex_lock(&q->lock);
	uint64_t k = q->npending;
	pthread_mutex_unlock(&q->lock);
	if (q->ro)
		return 0;
	if (fdatasync(q->fd) < 0)
		return -errno;
	pthread_mutex_lock(&q->lock);
	if (!q->inplace)
		qcow2_free_pending(q, k);
	pthread_mutex_unlock(&q->lock);
	return 0;
}

int qcow2_io(struct block_dev *bd, struct block_req *req)
{
	struct qcow2 *q = bd->priv;
	if (req->op == BLOCK_OP_FLUSH)
		return do_flush(q);
	unsigned nsub = req->niov + 3;
	struct iovec *sub = malloc(nsub * sizeof(*sub));
	if (!sub)
		return -ENOMEM;
	int r;
	switch (req->op) {
	case BLOCK_OP_READ:
		r = do_read(q, req, sub, nsub);
		break;
	case BLOCK_OP_WRITE: {
		struct block_iov c = {.iov = req->iov, .niov = req->niov};
		r = write_range(q, req->offset, req->len, &c, sub, nsub);
		break;
	}
	case BLOCK_OP_DISCARD:
	case BLOCK_OP_WRITE_ZEROES:
		r = do_zero(q, req, req->op == BLOCK_OP_DISCARD, sub, nsub);
		break;
	default:
		r = -EINVAL;
	}
	free(sub);
	return r;
}
