/* Reconnecting a qcow2 image to its moved backing file (block_set_parent,
 * as qemu-img rebase -u): the new name goes into free room of the header
 * cluster first, then one write of the header's backing_file_offset and
 * backing_file_size switches to it, so a crash leaves either name. */
#include "devices/block/qcow2_int.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* Where the header extensions end (past their end marker), reading from
 * start up to limit; 0 if they have no end marker there. */
static uint64_t extensions_end(const uint8_t *h, uint64_t start, uint64_t limit)
{
	uint64_t p = start;
	while (p + 8 <= limit) {
		uint32_t type = q_be32(h + p), len = q_be32(h + p + 4);
		p += 8;
		if (type == QEXT_END)
			return p;
		if (len > limit - p)
			return 0;
		p += q_align_up(len, 8);
	}
	return 0;
}

/* The backing format extension's value into fmt (cap bytes), "" if none. */
static void backing_format(const uint8_t *h, uint64_t start, uint64_t end, char *fmt, size_t cap)
{
	fmt[0] = 0;
	for (uint64_t p = start; p + 8 <= end;) {
		uint32_t type = q_be32(h + p), len = q_be32(h + p + 4);
		p += 8;
		if (type == QEXT_END || len > end - p)
			return;
		if (type == QEXT_BACKING_FMT && len < cap) {
			memcpy(fmt, h + p, len);
			fmt[len] = 0;
		}
		p += q_align_up(len, 8);
	}
}

int qcow2_set_parent(const char *path, const char *name, struct block_dev *parent, bool force,
		     char *err, size_t errlen)
{
	size_t nlen = strlen(name);
	if (nlen > QCOW2_MAX_BACKING) {
		block_set_err(err, errlen, "%s: the backing file name is longer than %u bytes",
			      path, QCOW2_MAX_BACKING);
		return -ENAMETOOLONG;
	}
	int fd;
	struct stat st;
	int r = block_file_open(NULL, path, 0, &fd, &st, err, errlen);
	if (r < 0)
		return r;
	uint8_t first[QCOW2_HDR_V3_LEN];
	uint8_t *h = NULL;
	r = (uint64_t)st.st_size >= QCOW2_HDR_V2_LEN
		? block_file_pread(fd, first, QCOW2_HDR_V2_LEN, 0)
		: -EIO;
	if (r < 0 || q_be32(first) != QCOW2_MAGIC) {
		block_set_err(err, errlen, "%s: not a qcow2 image", path);
		r = -EINVAL;
		goto out;
	}
	unsigned version = q_be32(first + QH_VERSION), cb = q_be32(first + QH_CLUSTER_BITS);
	uint64_t cs = 1ull << (cb < QCOW2_MIN_CB || cb > QCOW2_MAX_CB ? QCOW2_MIN_CB : cb);
	if ((version != 2 && version != 3) || cb < QCOW2_MIN_CB || cb > QCOW2_MAX_CB ||
	    (uint64_t)st.st_size < cs) {
		block_set_err(err, errlen,
			      "%s: the qcow2 header is damaged (version %u, cluster bits %u); run "
			      "osio disk check %s",
			      path, version, cb, path);
		r = -EINVAL;
		goto out;
	}
	h = calloc(1, cs);
	if (!h) {
		r = -ENOMEM;
		goto out;
	}
	r = block_file_pread(fd, h, cs, 0);
	if (r < 0) {
		block_set_err(err, errlen, "%s: cannot read the header: %s", path, strerror(-r));
		goto out;
	}
	uint64_t hlen = version == 3 ? q_be32(h + QH_HEADER_LEN) : QCOW2_HDR_V2_LEN;
	uint64_t boff = q_be64(h + QH_BACKING_OFF), blen = q_be32(h + QH_BACKING_LEN);
	if (hlen < QCOW2_HDR_V2_LEN || hlen > cs || boff > cs || blen > cs - boff ||
	    (blen && boff < hlen)) {
		block_set_err(err, errlen,
			      "%s: the qcow2 header is damaged; run osio disk check %s", path,
			      path);
		r = -EINVAL;
		goto out;
	}
	if (!blen) {
		block_set_err(err, errlen,
			      "%s: the image has no backing file to reconnect (it is not a "
			      "differencing image)",
			      path);
		r = -EINVAL;
		goto out;
	}
	uint64_t eend = extensions_end(h, hlen, boff);
	if (!eend) {
		block_set_err(err, errlen,
			      "%s: the qcow2 header extensions have no end marker; osio cannot "
			      "place a new backing file name (use qemu-img rebase -u)",
			      path);
		r = -ENOTSUP;
		goto out;
	}
	char fmt[32];
	backing_format(h, hlen, eend, fmt, sizeof(fmt));
	if (fmt[0] && strcmp(fmt, block_format(parent)) != 0) {
		block_set_err(err, errlen,
			      "%s: its backing file must be a %s image, but %s is %s; convert it "
			      "with osio disk convert --format %s",
			      path, fmt, block_path(parent), block_format(parent), fmt);
		r = -EINVAL;
		goto out;
	}
	uint64_t size = q_be64(h + QH_SIZE);
	if (!force && block_size(parent) > size) {
		block_set_err(err, errlen,
			      "%s: %s (%llu bytes) is larger than this image (%llu bytes), so "
			      "it is not the image this one was made on; --force reconnects anyway",
			      path, block_path(parent), (unsigned long long)block_size(parent),
			      (unsigned long long)size);
		r = -EINVAL;
		goto out;
	}
	/* Free room for the new name that does not touch the old one. */
	uint64_t at = boff + blen > eend ? boff + blen : eend;
	if (at + nlen > cs)
		at = eend + nlen <= boff ? eend : cs;
	if (at + nlen > cs) {
		block_set_err(err, errlen,
			      "%s: the name %s does not fit in the %llu-byte header cluster beside "
			      "the old one",
			      path, name, (unsigned long long)cs);
		r = -ENOSPC;
		goto out;
	}
	r = block_file_pwrite(fd, name, nlen, at);
	if (r == 0 && fdatasync(fd) < 0)
		r = -errno;
	if (r == 0) {
		/* Offset and length together: 12 bytes of one sector. */
		uint8_t f[12];
		q_put64(f, at);
		q_put32(f + 8, (uint32_t)nlen);
		r = block_file_pwrite(fd, f, sizeof(f), QH_BACKING_OFF);
	}
	if (r == 0 && fdatasync(fd) < 0)
		r = -errno;
	if (r < 0)
		block_set_err(err, errlen, "%s: cannot write the new backing file name: %s", path,
			      strerror(-r));
out:
	free(h);
	close(fd);
	return r;
}
