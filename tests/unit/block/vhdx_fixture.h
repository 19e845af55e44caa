/* Shared by the VHDX driver's tests (test_vhdx.c, test_vhdx_faults.c):
 * images made and opened, and their headers read and rewritten. */
#ifndef OSIO_TEST_VHDX_FIXTURE_H
#define OSIO_TEST_VHDX_FIXTURE_H

#define BLOCK_TEST_NAME "vhdx"
#include "block_test.h"

#include "devices/block/block_driver.h"
#include "devices/block/vhdx_int.h"

struct copts {
	bool fixed;
	uint32_t block;
	unsigned ls;
	const char *parent;
};

static inline void create(const char *path, uint64_t size, struct copts c)
{
	struct block_create_opts o = {.size = size,
				      .fixed = c.fixed,
				      .block_size = c.block,
				      .logical_sector = c.ls,
				      .parent = c.parent};
	create_as(path, "vhdx", &o);
}

static inline struct block_dev *open_img(const char *path, unsigned flags)
{
	return open_as(path, flags, "vhdx");
}

static inline void open_fails(const char *path, unsigned flags, const char *want)
{
	open_refused(path, flags, "vhdx", want);
}

static inline void check_read(struct block_dev *bd, const uint8_t *want, uint64_t off, size_t len)
{
	uint8_t *got = malloc(len);
	assert_int_equal(block_pread(bd, got, len, off), 0);
	for (size_t i = 0; i < len; i++)
		if (got[i] != want[i])
			fail_msg("byte 0x%llx: got %02x, want %02x", (unsigned long long)(off + i),
				 got[i], want[i]);
	free(got);
}

/* Reads the current header of an image (and which slot it is in). */
static inline unsigned read_header(const char *path, struct vhdx_header *h)
{
	uint8_t b[2][VHDX_HEADER_SIZE];
	struct vhdx_header hh[2];
	peek(path, VHDX_HEADER1_OFF, b[0], VHDX_HEADER_SIZE);
	peek(path, VHDX_HEADER2_OFF, b[1], VHDX_HEADER_SIZE);
	bool ok0 = vhdx_header_decode(b[0], &hh[0]) == 0,
	     ok1 = vhdx_header_decode(b[1], &hh[1]) == 0;
	assert_true(ok0 || ok1);
	unsigned cur = ok0 && ok1 ? (hh[1].seq > hh[0].seq) : ok1;
	*h = hh[cur];
	return cur;
}

/* Writes h into both header slots with valid checksums. */
static inline void write_headers(const char *path, struct vhdx_header h)
{
	uint8_t b[VHDX_HEADER_SIZE];
	h.seq += 10;
	vhdx_header_encode(&h, b);
	patch(path, VHDX_HEADER1_OFF, b, sizeof(b));
	h.seq++;
	vhdx_header_encode(&h, b);
	patch(path, VHDX_HEADER2_OFF, b, sizeof(b));
}

static inline int writev_sync(struct block_dev *bd, const struct iovec *iov, unsigned n,
			      uint64_t off)
{
	return submit_wait(bd, BLOCK_OP_WRITE, off, iov, n, 0);
}

#endif
