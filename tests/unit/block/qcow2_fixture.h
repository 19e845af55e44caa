/* Shared by the qcow2 driver's tests (test_qcow2.c, test_qcow2_faults.c):
 * images made and opened, split requests, big-endian fields poked, qemu-img. */
#ifndef OSIO_TEST_QCOW2_FIXTURE_H
#define OSIO_TEST_QCOW2_FIXTURE_H

#include "block_test.h"

static inline void create(const char *path, uint64_t size, uint32_t cluster, const char *parent)
{
	struct block_create_opts o = {.size = size, .block_size = cluster, .parent = parent};
	create_as(path, "qcow2", &o);
}

static inline struct block_dev *open_img(const char *path, unsigned flags)
{
	return open_as(path, flags, "qcow2");
}

static inline void open_fails(const char *path, unsigned flags, const char *what)
{
	open_refused(path, flags, "qcow2", what);
}

/* --- requests in many buffers ---------------------------------------------- */

static inline int run(struct block_dev *bd, enum block_op op, uint64_t off, const struct iovec *iov,
		      unsigned niov, uint64_t len)
{
	return submit_wait(bd, op, off, iov, niov, len);
}

/* buf as up to 64 pieces of odd sizes (1 + (i * mul + add) % mod bytes);
 * how many. */
static inline unsigned split(uint8_t *buf, size_t len, unsigned mul, unsigned add, unsigned mod,
			     struct iovec iov[64])
{
	unsigned n = 0;
	size_t done = 0;
	while (done < len && n < 63) {
		size_t piece = 1 + (n * mul + add) % mod;
		if (piece > len - done)
			piece = len - done;
		iov[n++] = (struct iovec){buf + done, piece};
		done += piece;
	}
	if (done < len)
		iov[n++] = (struct iovec){buf + done, len - done};
	return n;
}

/* Writes buf in pieces of odd sizes (many iovecs). */
static inline int write_split(struct block_dev *bd, const uint8_t *buf, size_t len, uint64_t off)
{
	struct iovec iov[64];
	unsigned n = split((uint8_t *)buf, len, 977, 13, 6000, iov);
	return run(bd, BLOCK_OP_WRITE, off, iov, n, 0);
}

static inline int read_split(struct block_dev *bd, uint8_t *buf, size_t len, uint64_t off)
{
	struct iovec iov[64];
	unsigned n = split(buf, len, 1231, 7, 5000, iov);
	return run(bd, BLOCK_OP_READ, off, iov, n, 0);
}

/* The whole disk equals shadow. */
static inline void verify(struct block_dev *bd, const uint8_t *shadow, uint64_t size)
{
	uint8_t *b = malloc(size);
	assert_int_equal(read_split(bd, b, size, 0), 0);
	for (uint64_t i = 0; i < size; i++)
		if (b[i] != shadow[i])
			fail_msg("byte 0x%llx: 0x%02x, expected 0x%02x", (unsigned long long)i,
				 b[i], shadow[i]);
	free(b);
}

static inline void write_file(const char *path, const void *buf, size_t len)
{
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0644);
	assert_true(fd >= 0);
	assert_int_equal(write(fd, buf, len), (ssize_t)len);
	close(fd);
}

static inline uint64_t peek64(const char *path, uint64_t off)
{
	uint8_t b[8];
	peek(path, off, b, 8);
	uint64_t v = 0;
	for (int i = 0; i < 8; i++)
		v = v << 8 | b[i];
	return v;
}

static inline void poke64(const char *path, uint64_t off, uint64_t v)
{
	uint8_t b[8];
	for (int i = 0; i < 8; i++)
		b[i] = (uint8_t)(v >> (56 - 8 * i));
	patch(path, off, b, 8);
}

static inline void poke32(const char *path, uint64_t off, uint32_t v)
{
	uint8_t b[4] = {(uint8_t)(v >> 24), (uint8_t)(v >> 16), (uint8_t)(v >> 8), (uint8_t)v};
	patch(path, off, b, 4);
}

/* qemu-img check finds nothing, and the image's contents equal raw. */
static inline void qemu_agrees(const char *img, const uint8_t *shadow, uint64_t size)
{
	if (!have_qemu_img())
		return;
	if (sh("qemu-img check -q %s", img) != 0) {
		sh("qemu-img check %s >&2", img);
		fail_msg("qemu-img check %s failed", img);
	}
	if (shadow) {
		char raw[160];
		snprintf(raw, sizeof(raw), "%s/expect.raw", dir);
		write_file(raw, shadow, size);
		if (sh("qemu-img compare -q -f qcow2 -F raw %s %s", img, raw) != 0)
			fail_msg("qemu-img compare: %s differs from what was written", img);
		unlink(raw);
	}
}

#endif
