/* Shared by the VHD driver's tests (test_vhd.c, test_vhd_faults.c): images
 * made, opened (or refused) and read back. Define BLOCK_TEST_NAME first. */
#ifndef OSIO_TEST_VHD_FIXTURE_H
#define OSIO_TEST_VHD_FIXTURE_H

#include "block_test.h"

#include "devices/block/block_driver.h"
#include "devices/block/vhd.h"

static inline void create(const char *path, uint64_t size, bool fixed, uint32_t block,
			  const char *parent)
{
	struct block_create_opts o = {
	    .size = size, .fixed = fixed, .block_size = block, .parent = parent};
	create_as(path, "vhd", &o);
}

static inline struct block_dev *open_img(const char *path, unsigned flags)
{
	return open_as(path, flags, "vhd");
}

/* The open error for path, "" if it opens. */
static inline int open_error(const char *path, char *err, size_t errlen)
{
	struct block_dev *bd;
	err[0] = 0;
	int r = block_open(path, "vhd", BLOCK_RDONLY, &bd, err, errlen);
	if (r == 0)
		block_close(bd);
	return r;
}

static inline void expect(struct block_dev *bd, const uint8_t *want, uint64_t len, uint64_t off)
{
	uint8_t *got = malloc(len);
	assert_int_equal(block_pread(bd, got, len, off), 0);
	assert_memory_equal(got, want, len);
	free(got);
}

#endif
