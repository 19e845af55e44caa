/* The VHDX metadata log ([MS-VHDX] 2.3): finding the active sequence of log
 * entries in the circular log and replaying its data and zero descriptors
 * into the file before the image is used. */
#include "devices/block/vhdx_int.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define ENTRY_HDR   64u
#define DESC_SIZE   32u
#define LOG_MEM_MAX (256u * VHDX_MiB) /* larger logs are refused */
#define GROW_MAX    (4ull << 30)      /* how far past its end a log may grow the file */
#define HEADERS_END VHDX_REGION1_OFF  /* the log never writes the file id or headers */

struct entry {
	bool checked, valid;
	uint32_t len;
	uint32_t tail;
	uint64_t seq;
	uint64_t flushed, last;
};

struct log {
	struct vhdx *v;
	uint8_t *buf; /* the whole log */
	uint32_t len;
	struct entry *e; /* per 4 KiB sector: the entry starting there */
	uint8_t *tmp;	 /* one entry, contiguous */
	uint64_t crc_budget;
};

/* Copies n bytes at log position p (wrapping) into dst. */
static void log_copy(const struct log *l, uint32_t p, uint8_t *dst, uint32_t n)
{
	uint32_t first = l->len - p < n ? l->len - p : n;
	memcpy(dst, l->buf + p, first);
	memcpy(dst + first, l->buf, n - first);
}

static uint32_t desc_sectors(uint32_t count)
{
	return (uint32_t)(((uint64_t)count * DESC_SIZE + ENTRY_HDR + VHDX_LOG_SECTOR - 1) /
			  VHDX_LOG_SECTOR);
}

/* Validates the entry that starts at log position p (a multiple of 4 KiB),
 * leaving it in l->tmp. */
static bool entry_valid(struct log *l, uint32_t p)
{
	struct entry *e = &l->e[p / VHDX_LOG_SECTOR];
	if (e->checked)
		return e->valid;
	e->checked = true;
	const uint8_t *h = l->buf + p;
	uint32_t len = vhdx_le32(h + 8);
	uint32_t count = vhdx_le32(h + 24);
	struct vhdx_guid g;
	memcpy(g.b, h + 32, 16);
	if (memcmp(h, "loge", 4) != 0 || !len || len % VHDX_LOG_SECTOR || len > l->len ||
	    !vhdx_le64(h + 16) || !vhdx_guid_eq(&g, &l->v->hdr.log))
		return false;
	uint32_t ds = desc_sectors(count);
	if ((uint64_t)ds * VHDX_LOG_SECTOR > len)
		return false;
	if (l->crc_budget < len)
		return false;
	l->crc_budget -= len;
	log_copy(l, p, l->tmp, len);
	if (vhdx_le32(l->tmp + 4) != vhdx_crc_with_hole(l->tmp, len, 4))
		return false;
	uint64_t seq = vhdx_le64(h + 16);
	uint32_t data = 0;
	for (uint32_t i = 0; i < count; i++) {
		const uint8_t *d = l->tmp + ENTRY_HDR + DESC_SIZE * i;
		if (vhdx_le64(d + 24) != seq || vhdx_le64(d + 16) % VHDX_LOG_SECTOR)
			return false;
		if (memcmp(d, "zero", 4) == 0) {
			if (vhdx_le64(d + 8) % VHDX_LOG_SECTOR)
				return false;
		} else if (memcmp(d, "desc", 4) == 0) {
			uint64_t at = (uint64_t)(ds + data) * VHDX_LOG_SECTOR;
			if (at + VHDX_LOG_SECTOR > len)
				return false;
			const uint8_t *s = l->tmp + at;
			uint64_t sseq = (uint64_t)vhdx_le32(s + 4) << 32 | vhdx_le32(s + 4092);
			if (memcmp(s, "data", 4) != 0 || sseq != seq)
				return false;
			data++;
		} else {
			return false;
		}
	}
	e->valid = true;
	e->len = len;
	e->seq = seq;
	e->tail = vhdx_le32(h + 12);
	e->flushed = vhdx_le64(h + 48);
	e->last = vhdx_le64(h + 56);
	return true;
}

/* Checks that one entry's descriptors write only where a log may write,
 * then (apply) writes them. */
static int entry_apply(struct log *l, uint32_t p, uint64_t file_size, bool apply, char *err,
		       size_t errlen)
{
	struct vhdx *v = l->v;
	struct entry *e = &l->e[p / VHDX_LOG_SECTOR];
	e->checked = false;
	if (!entry_valid(l, p)) {
		snprintf(err, errlen, "%s: the VHDX log changed while it was replayed", v->path);
		return -EIO;
	}
	uint32_t count = vhdx_le32(l->tmp + 24);
	uint32_t ds = desc_sectors(count), data = 0;
	uint64_t limit = e->last > file_size ? e->last : file_size;
	if (e->last > file_size + GROW_MAX) {
		snprintf(err, errlen, "%s: the VHDX log grows the file to an absurd %llu bytes",
			 v->path, (unsigned long long)e->last);
		return -EINVAL;
	}
	uint8_t sector[VHDX_LOG_SECTOR];
	for (uint32_t i = 0; i < count; i++) {
		const uint8_t *d = l->tmp + ENTRY_HDR + DESC_SIZE * i;
		bool zero = memcmp(d, "zero", 4) == 0;
		uint64_t off = vhdx_le64(d + 16);
		uint64_t n = zero ? vhdx_le64(d + 8) : VHDX_LOG_SECTOR;
		if (off < HEADERS_END || off > limit || n > limit - off ||
		    (v->hdr.log_length && off < v->hdr.log_offset + v->hdr.log_length &&
		     v->hdr.log_offset < off + n)) {
			snprintf(err, errlen,
				 "%s: the VHDX log writes 0x%llx bytes at 0x%llx, outside where "
				 "the image's metadata can be",
				 v->path, (unsigned long long)n, (unsigned long long)off);
			return -EINVAL;
		}
		int r = 0;
		if (zero) {
			if (apply)
				r = block_file_zero(v->fd, off, n);
		} else {
			const uint8_t *s = l->tmp + (uint64_t)(ds + data++) * VHDX_LOG_SECTOR;
			memcpy(sector, d + 8, 8);	 /* LeadingBytes */
			memcpy(sector + 8, s + 8, 4084); /* the sector's data */
			memcpy(sector + 4092, d + 4, 4); /* TrailingBytes */
			if (apply)
				r = block_file_pwrite(v->fd, sector, VHDX_LOG_SECTOR, off);
		}
		if (r < 0) {
			snprintf(err, errlen, "%s: cannot replay the VHDX log: %s", v->path,
				 strerror(-r));
			return r;
		}
	}
	return 0;
}

/* The active sequence: the chain of valid entries with consecutive
 * sequence numbers whose last entry has the highest sequence number and
 * whose tail names an entry of the chain. *start: where replay begins,
 * *count: entries from there. false if there is none. */
static bool find_active(struct log *l, uint32_t *start, uint32_t *count)
{
	uint64_t best = 0;
	bool found = false;
	uint32_t sectors = l->len / VHDX_LOG_SECTOR;
	for (uint32_t s = 0; s < sectors; s++) {
		uint32_t p = s * VHDX_LOG_SECTOR;
		if (!entry_valid(l, p))
			continue;
		/* Walk the chain, never further than once around the log. */
		uint32_t q = p, n = 0, used = 0, last = p;
		uint64_t seq = l->e[s].seq;
		while (used < l->len && entry_valid(l, q) && l->e[q / VHDX_LOG_SECTOR].seq == seq &&
		       l->e[q / VHDX_LOG_SECTOR].len <= l->len - used) {
			last = q;
			used += l->e[q / VHDX_LOG_SECTOR].len;
			n++;
			seq++;
			q = (q + l->e[last / VHDX_LOG_SECTOR].len) % l->len;
		}
		const struct entry *le = &l->e[last / VHDX_LOG_SECTOR];
		if (found && le->seq <= best)
			continue;
		/* The tail must be one of the chain's entries. */
		uint32_t r = p;
		for (uint32_t k = 0; k < n; k++) {
			if (r == le->tail) {
				best = le->seq;
				found = true;
				*start = r;
				*count = n - k;
				break;
			}
			r = (r + l->e[r / VHDX_LOG_SECTOR].len) % l->len;
		}
	}
	return found;
}

int vhdx_log_replay(struct vhdx *v, uint64_t file_size, bool replay, bool *pending, char *err,
		    size_t errlen)
{
	*pending = false;
	if (vhdx_guid_is_zero(&v->hdr.log) || !v->hdr.log_length)
		return 0;
	if (v->hdr.log_length > LOG_MEM_MAX) {
		snprintf(err, errlen, "%s: the VHDX log is %u MiB, more than osio replays (%u MiB)",
			 v->path, v->hdr.log_length / VHDX_MiB, LOG_MEM_MAX / VHDX_MiB);
		return -ENOTSUP;
	}
	struct log l = {.v = v, .len = v->hdr.log_length};
	l.crc_budget = 64ull * l.len + 64 * VHDX_MiB;
	l.buf = malloc(l.len);
	l.tmp = malloc(l.len);
	l.e = calloc(l.len / VHDX_LOG_SECTOR, sizeof(*l.e));
	int r = -ENOMEM;
	if (!l.buf || !l.tmp || !l.e)
		goto out;
	r = block_file_pread(v->fd, l.buf, l.len, v->hdr.log_offset);
	if (r < 0) {
		snprintf(err, errlen, "%s: cannot read the VHDX log: %s", v->path, strerror(-r));
		goto out;
	}
	uint32_t start = 0, count = 0;
	if (!find_active(&l, &start, &count)) {
		/* [MS-VHDX] 2.3.3: a log GUID without a valid sequence. */
		snprintf(err, errlen,
			 "%s: the VHDX header names a log, but the log holds no valid sequence of "
			 "entries (a damaged image)",
			 v->path);
		r = -EINVAL;
		goto out;
	}
	*pending = true;
	uint32_t head = start;
	for (uint32_t k = 1; k < count; k++)
		head = (head + l.e[head / VHDX_LOG_SECTOR].len) % l.len;
	const struct entry *he = &l.e[head / VHDX_LOG_SECTOR];
	uint64_t last = he->last;
	if (he->flushed > file_size) {
		snprintf(err, errlen,
			 "%s: the VHDX log says the file was at least %llu bytes, but it is %llu "
			 "(truncated image?)",
			 v->path, (unsigned long long)he->flushed, (unsigned long long)file_size);
		r = -EINVAL;
		goto out;
	}
	/* Check every entry before writing any. */
	for (int apply = 0; apply < 2; apply++) {
		if (apply && !replay)
			break;
		if (apply) {
			/* [MS-VHDX] 2.2.2: a new FileWriteGuid before the first
			 * change to the file, log playback included. */
			struct vhdx_header fh = v->hdr;
			vhdx_guid_random(&fh.file_write);
			r = vhdx_write_header(v, &fh);
			if (r < 0) {
				snprintf(err, errlen, "%s: cannot write the VHDX header: %s",
					 v->path, strerror(-r));
				goto out;
			}
		}
		uint32_t p = start;
		for (uint32_t k = 0; k < count; k++) {
			l.crc_budget = UINT64_MAX; /* the chain is at most the log's length */
			r = entry_apply(&l, p, file_size, apply, err, errlen);
			if (r < 0)
				goto out;
			p = (p + l.e[p / VHDX_LOG_SECTOR].len) % l.len;
		}
	}
	r = 0;
	if (!replay)
		goto out;
	/* The file holds at least what the head entry says it allocated. */
	if (last > file_size) {
		uint64_t to = (last + VHDX_MiB - 1) & ~(uint64_t)(VHDX_MiB - 1);
		if (ftruncate(v->fd, (off_t)to) < 0) {
			r = -errno;
			snprintf(err, errlen, "%s: cannot replay the VHDX log: %s", v->path,
				 strerror(-r));
			goto out;
		}
	}
	if (fdatasync(v->fd) < 0) {
		r = -errno;
		snprintf(err, errlen, "%s: cannot replay the VHDX log: %s", v->path, strerror(-r));
		goto out;
	}
	/* The log is in the file: the headers no longer name it. */
	struct vhdx_header h = v->hdr;
	memset(&h.log, 0, sizeof(h.log));
	r = vhdx_write_header(v, &h);
	if (r < 0)
		snprintf(err, errlen, "%s: cannot write the VHDX header after the log replay: %s",
			 v->path, strerror(-r));
out:
	free(l.buf);
	free(l.tmp);
	free(l.e);
	return r;
}

/* --- writing ----------------------------------------------------------------- */

int vhdx_log_write(struct vhdx *v, const uint64_t *offs, const uint8_t *data, unsigned n)
{
	uint32_t ds = desc_sectors(n);
	uint64_t len = ((uint64_t)ds + n) * VHDX_LOG_SECTOR;
	if (!n || !v->hdr.log_length || len > v->hdr.log_length)
		return -ENOSPC;
	struct stat st;
	if (fstat(v->fd, &st) < 0)
		return -errno;
	uint8_t *e = calloc(1, len);
	if (!e)
		return -ENOMEM;
	const uint64_t seq = 1;
	struct vhdx_guid lg;
	vhdx_guid_random(&lg);
	memcpy(e, "loge", 4);
	vhdx_put32(e + 8, (uint32_t)len);
	vhdx_put32(e + 12, 0); /* the tail: this entry, at the log's start */
	vhdx_put64(e + 16, seq);
	vhdx_put32(e + 24, n);
	memcpy(e + 32, lg.b, 16);
	vhdx_put64(e + 48, (uint64_t)st.st_size);
	vhdx_put64(e + 56, (uint64_t)st.st_size);
	for (unsigned i = 0; i < n; i++) {
		const uint8_t *s = data + (size_t)i * VHDX_LOG_SECTOR;
		uint8_t *d = e + ENTRY_HDR + DESC_SIZE * i;
		uint8_t *sec = e + ((size_t)ds + i) * VHDX_LOG_SECTOR;
		memcpy(d, "desc", 4);
		memcpy(d + 4, s + 4092, 4); /* TrailingBytes */
		memcpy(d + 8, s, 8);	    /* LeadingBytes */
		vhdx_put64(d + 16, offs[i]);
		vhdx_put64(d + 24, seq);
		memcpy(sec, "data", 4);
		vhdx_put32(sec + 4, (uint32_t)(seq >> 32));
		memcpy(sec + 8, s + 8, 4084);
		vhdx_put32(sec + 4092, (uint32_t)seq);
	}
	vhdx_put32(e + 4, vhdx_crc_with_hole(e, len, 4));

	/* A new FileWriteGuid before the first change ([MS-VHDX] 2.2.2). */
	struct vhdx_header h = v->hdr;
	vhdx_guid_random(&h.file_write);
	memset(&h.log, 0, sizeof(h.log));
	int r = vhdx_write_header(v, &h);
	if (r == 0)
		r = block_file_pwrite(v->fd, e, len, v->hdr.log_offset);
	if (r == 0 && fdatasync(v->fd) < 0)
		r = -errno;
	/* From here a crash replays the entry. */
	h.log = lg;
	if (r == 0)
		r = vhdx_write_header(v, &h);
	for (unsigned i = 0; r == 0 && i < n; i++)
		r = block_file_pwrite(v->fd, data + (size_t)i * VHDX_LOG_SECTOR, VHDX_LOG_SECTOR,
				      offs[i]);
	if (r == 0 && fdatasync(v->fd) < 0)
		r = -errno;
	memset(&h.log, 0, sizeof(h.log));
	if (r == 0)
		r = vhdx_write_header(v, &h);
	free(e);
	return r;
}
