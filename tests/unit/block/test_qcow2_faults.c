/* The qcow2 driver against damage: a VM killed mid-write (dirty-bit
 * recovery), check and repair of broken refcounts and tables, and hostile
 * headers and compressed clusters refused on open or read. */
#define BLOCK_TEST_NAME "qcow2f"
#include "qcow2_fixture.h"

#include <signal.h>

/* --- crash safety ------------------------------------------------------------ */

/* A process killed with the image open: the next read-write open rebuilds
 * the refcounts, and every write before the last flush is there. */
static void test_killed(void **state)
{
	(void)state;
	const char *p = tmp("k.qcow2");
	const uint64_t size = 8 * MiB;
	create(p, size, 4096, NULL);
	uint8_t *shadow = malloc(size);
	fill(shadow, size, 0, 21);
	pid_t child = fork();
	assert_true(child >= 0);
	if (child == 0) {
		struct block_dev *bd;
		char err[256];
		if (block_open(p, NULL, 0, &bd, err, sizeof(err)))
			_exit(2);
		for (uint64_t off = 0; off + 4096 <= size; off += 12800)
			if (block_pwrite(bd, shadow + off, 4096, off))
				_exit(3);
		if (block_flush(bd))
			_exit(4);
		/* Unflushed, then discarded, then killed. */
		block_pwrite(bd, shadow, 65536, size - 65536);
		run(bd, BLOCK_OP_DISCARD, 0, NULL, 0, 65536);
		raise(SIGKILL);
		_exit(5);
	}
	int status;
	assert_int_equal(waitpid(child, &status, 0), child);
	assert_true(WIFSIGNALED(status));
	struct block_dev *bd = open_img(p, BLOCK_RDONLY);
	struct block_info info;
	assert_int_equal(block_get_info(bd, &info), 0);
	assert_true(info.dirty);
	uint8_t buf[4096];
	/* The writes not touched by the unflushed ones at both ends. */
	for (uint64_t off = 6 * 12800; off + 4096 <= size - 65536; off += 12800) {
		assert_int_equal(block_pread(bd, buf, 4096, off), 0);
		if (memcmp(buf, shadow + off, 4096))
			fail_msg("flushed data at 0x%llx lost", (unsigned long long)off);
	}
	block_close(bd);
	/* The read-write open rebuilds and writes the refcounts at once: a
	 * second crash right after it leaves a clean image. */
	bd = open_img(p, 0);
	struct block_check res = {0};
	assert_int_equal(block_check(bd, false, &res), 0);
	assert_int_equal(res.corruptions + res.leaks, 0);
	assert_int_equal(block_get_info(bd, &info), 0);
	assert_false(info.dirty);
	block_close(bd);
	if (have_qemu_img())
		assert_int_equal(sh("qemu-img check -q %s", p), 0);
	bd = open_img(p, BLOCK_RDONLY);
	assert_int_equal(block_get_info(bd, &info), 0);
	assert_false(info.dirty);
	block_close(bd);
	free(shadow);
}

/* --- check and repair ----------------------------------------------------------- */

struct lines {
	int n;
	char last[256];
};

static void on_line(void *opaque, const char *line)
{
	struct lines *l = opaque;
	l->n++;
	snprintf(l->last, sizeof(l->last), "%s", line);
}

static const char *image_with_data(const char *name)
{
	const char *p = tmp(name);
	create(p, 4 * MiB, 0, NULL);
	struct block_dev *bd = open_img(p, 0);
	uint8_t *b = malloc(MiB);
	fill(b, MiB, 0, 31);
	assert_int_equal(block_pwrite(bd, b, MiB, 0), 0);
	free(b);
	block_close(bd);
	return p;
}

static void test_check_refcounts(void **state)
{
	(void)state;
	const char *p = image_with_data("chk.qcow2");
	/* Clean. */
	struct block_dev *bd = open_img(p, BLOCK_RDONLY);
	struct lines l = {0};
	struct block_check res = {.report = on_line, .opaque = &l};
	assert_int_equal(block_check(bd, false, &res), 0);
	assert_int_equal(res.corruptions, 0);
	assert_int_equal(res.leaks, 0);
	block_close(bd);
	/* The first data cluster's refcount 0 (a corruption), a cluster
	 * past the last one with refcount 1 (a leak). */
	uint64_t rt = peek64(p, 48), rb = peek64(p, rt);
	uint64_t l1 = peek64(p, 40), l2 = peek64(p, l1) & 0x00fffffffffffe00ull;
	uint64_t data = peek64(p, l2) & 0x00fffffffffffe00ull;
	struct stat st;
	assert_int_equal(stat(p, &st), 0);
	uint64_t end = (uint64_t)st.st_size;
	assert_int_equal(truncate(p, (off_t)(end + 65536)), 0);
	uint8_t zero[2] = {0, 0}, one[2] = {0, 1};
	patch(p, rb + 2 * (data >> 16), zero, 2);
	patch(p, rb + 2 * (end >> 16), one, 2);
	bd = open_img(p, BLOCK_RDONLY);
	res = (struct block_check){.report = on_line, .opaque = &l};
	assert_int_equal(block_check(bd, false, &res), 0);
	assert_int_equal(res.corruptions, 1);
	assert_int_equal(res.leaks, 1);
	assert_true(l.n >= 2);
	assert_int_equal(block_check(bd, true, &res), -EROFS);
	block_close(bd);
	if (have_qemu_img())
		assert_int_not_equal(sh("qemu-img check -q %s 2>/dev/null", p), 0);
	/* Repair. */
	bd = open_img(p, 0);
	res = (struct block_check){.report = on_line, .opaque = &l};
	assert_int_equal(block_check(bd, true, &res), 0);
	assert_int_equal(res.corruptions, 1);
	assert_int_equal(res.leaks, 1);
	assert_int_equal(res.repaired, 2);
	res = (struct block_check){0};
	assert_int_equal(block_check(bd, false, &res), 0);
	assert_int_equal(res.corruptions + res.leaks, 0);
	block_close(bd);
	if (have_qemu_img())
		assert_int_equal(sh("qemu-img check -q %s", p), 0);
}

/* An L2 entry past the end of the file: reads of it fail, writes are
 * refused until a repair makes it a zero cluster. */
static void test_check_bad_l2(void **state)
{
	(void)state;
	const char *p = image_with_data("badl2.qcow2");
	uint64_t l1 = peek64(p, 40), l2 = peek64(p, l1) & 0x00fffffffffffe00ull;
	poke64(p, l2 + 8 * 3, (1ull << 63) | (1ull << 40));
	poke64(p, l2 + 8 * 5, (1ull << 63) | 0x12345600ull); /* unaligned */
	struct block_dev *bd = open_img(p, BLOCK_RDONLY);
	uint8_t buf[512];
	assert_int_equal(block_pread(bd, buf, 512, 3 * 65536), -EIO);
	assert_int_equal(block_pread(bd, buf, 512, 5 * 65536), -EIO);
	assert_int_equal(block_pread(bd, buf, 512, 4 * 65536), 0);
	assert_int_equal(buf[7], pattern(4 * 65536 + 7, 31));
	struct block_check res = {0};
	assert_int_equal(block_check(bd, false, &res), 0);
	assert_true(res.corruptions >= 2);
	block_close(bd);
	bd = open_img(p, 0);
	assert_int_equal(block_pwrite(bd, buf, 512, 2 * MiB), -EIO);
	res = (struct block_check){0};
	assert_int_equal(block_check(bd, true, &res), 0);
	assert_true(res.repaired >= 2);
	assert_int_equal(block_pread(bd, buf, 512, 3 * 65536), 0);
	assert_int_equal(buf[0], 0);
	assert_int_equal(block_pwrite(bd, buf, 512, 2 * MiB), 0);
	block_close(bd);
	if (have_qemu_img())
		assert_int_equal(sh("qemu-img check -q %s", p), 0);
}

/* Two L2 entries share a data cluster: check reports it; writes are
 * refused. */
static void test_check_overlap(void **state)
{
	(void)state;
	const char *p = image_with_data("ovl.qcow2");
	uint64_t l1 = peek64(p, 40), l2 = peek64(p, l1) & 0x00fffffffffffe00ull;
	/* Entry 2 points at the L2 table itself. */
	poke64(p, l2 + 8 * 2, (1ull << 63) | l2);
	struct block_dev *bd = open_img(p, BLOCK_RDONLY);
	struct lines l = {0};
	struct block_check res = {.report = on_line, .opaque = &l};
	assert_int_equal(block_check(bd, false, &res), 0);
	assert_true(res.corruptions >= 1);
	block_close(bd);
	bd = open_img(p, 0);
	uint8_t buf[512] = {0};
	assert_int_equal(block_pwrite(bd, buf, 512, 0), -EIO);
	block_close(bd);
}

/* --- hostile headers ------------------------------------------------------------- */

static void fresh(const char *p)
{
	create(p, 4 * MiB, 0, NULL);
}

static void test_hostile_headers(void **state)
{
	(void)state;
	const char *p = tmp("h.qcow2");
	fresh(p);
	uint64_t l1 = peek64(p, 40), rt = peek64(p, 48);
	struct {
		unsigned off, width;
		uint64_t value;
		const char *what;
	} cases[] = {
	    {0, 4, 0x514649fc, "not a qcow2 image"},
	    {4, 4, 4, "version 4"},
	    {20, 4, 8, "cluster_bits 8"},
	    {20, 4, 22, "cluster_bits 22"},
	    {24, 8, 1ull << 60, "absurd"},
	    {32, 4, 1, "encrypted"},
	    {36, 4, 0, "L1 table has 0 entries"},
	    {36, 4, 5u << 20, "L1 table"},
	    {40, 8, 65536 + 512, "not a cluster boundary"},
	    {40, 8, 0, "not a cluster boundary"},
	    {40, 8, 1ull << 40, "past the end"},
	    {56, 4, 0, "refcount table has 0"},
	    {56, 4, 1000, "refcount table has 1000"},
	    {48, 8, 4096, "not a cluster boundary"},
	    {48, 8, 1ull << 40, "past the end"},
	    {48, 8, 0, "refcount table offset"},
	    {48, 8, l1, "overlap"},
	    {60, 4, 70000, "snapshot table"},
	    {72, 8, 1ull << 9, "bit 9"},
	    {72, 8, 1ull << 4, "subclusters"},
	    {72, 8, 1ull << 2, "external data file"},
	    {96, 4, 7, "refcount_order 7"},
	    {100, 4, 64, "header_length 64"},
	    {100, 4, 1u << 17, "header_length"},
	    {8, 8, 65530, "backing file name"},
	    {112 + 4, 4, 1u << 20, "header extension"},
	};
	(void)rt;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		fresh(p);
		if (cases[i].off == 8)
			poke32(p, 16, 100);
		if (cases[i].width == 8)
			poke64(p, cases[i].off, cases[i].value);
		else
			poke32(p, cases[i].off, (uint32_t)cases[i].value);
		open_fails(p, BLOCK_RDONLY, cases[i].what);
	}
	/* zstd compression. */
	fresh(p);
	poke64(p, 72, 1ull << 3);
	uint8_t one = 1;
	patch(p, 104, &one, 1);
	open_fails(p, BLOCK_RDONLY, "zstd");
	/* The names of unknown features come from the feature name table. */
	fresh(p);
	poke64(p, 72, 1ull << 0 | 1ull << 1 | 1ull << 9);
	open_fails(p, BLOCK_RDONLY, "bit 9");
	/* The names of features come from the image's feature name table:
	 * rename the one for bit 4 to bit 7, "frobnicate". */
	fresh(p);
	uint8_t entry[48] = {0, 7, 'f', 'r', 'o', 'b', 'n', 'i', 'c', 'a', 't', 'e'};
	patch(p, 112 + 8 + 4 * 48, entry, sizeof(entry));
	poke64(p, 72, 1ull << 7);
	open_fails(p, BLOCK_RDONLY, "'frobnicate' (bit 7)");
	/* Version 2 and snapshots open read-only only. */
	fresh(p);
	poke32(p, 4, 2);
	open_fails(p, 0, "compat=1.1");
	block_close(open_img(p, BLOCK_RDONLY));
	fresh(p);
	poke32(p, 60, 1);
	poke64(p, 64, 65536 * 9);
	open_fails(p, 0, "snapshots");
	/* A truncated image. */
	fresh(p);
	assert_int_equal(truncate(p, 100), 0);
	open_fails(p, BLOCK_RDONLY, "truncated");
	assert_int_equal(truncate(p, 40), 0);
	open_fails(p, BLOCK_RDONLY, "header is truncated");
	/* An L1 entry past the end: only that part of the disk fails. */
	fresh(p);
	poke64(p, l1, (1ull << 63) | (1ull << 30));
	struct block_dev *bd = open_img(p, BLOCK_RDONLY);
	uint8_t buf[512];
	assert_int_equal(block_pread(bd, buf, 512, 0), -EIO);
	block_close(bd);
	/* Repair drops it: that part of the disk reads as zeroes again. */
	bd = open_img(p, 0);
	assert_int_equal(block_pwrite(bd, buf, 512, 0), -EIO);
	struct block_check res = {0};
	assert_int_equal(block_check(bd, true, &res), 0);
	assert_int_equal(res.corruptions, 1);
	assert_int_equal(res.repaired, 1);
	assert_int_equal(block_pread(bd, buf, 512, 0), 0);
	assert_int_equal(buf[0], 0);
	memset(buf, 0x5a, sizeof(buf));
	assert_int_equal(block_pwrite(bd, buf, 512, 0), 0);
	block_close(bd);
	if (have_qemu_img())
		assert_int_equal(sh("qemu-img check -q %s", p), 0);
}

/* Compressed data that does not inflate to a whole cluster: -EIO. */
static void test_bad_compressed(void **state)
{
	(void)state;
	const char *p = image_with_data("cz.qcow2");
	uint64_t l1 = peek64(p, 40), l2 = peek64(p, l1) & 0x00fffffffffffe00ull;
	uint64_t data = peek64(p, l2 + 8) & 0x00fffffffffffe00ull;
	/* Cluster 1 as a 2-sector stream of the first data cluster's bytes. */
	unsigned x = 62 - (16 - 8);
	poke64(p, l2 + 8, (1ull << 62) | (1ull << x) | data);
	struct block_dev *bd = open_img(p, BLOCK_RDONLY);
	uint8_t buf[512];
	assert_int_equal(block_pread(bd, buf, 512, 65536), -EIO);
	block_close(bd);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test_setup_teardown(test_killed, setup_dir, teardown_dir),
	    cmocka_unit_test_setup_teardown(test_check_refcounts, setup_dir, teardown_dir),
	    cmocka_unit_test_setup_teardown(test_check_bad_l2, setup_dir, teardown_dir),
	    cmocka_unit_test_setup_teardown(test_check_overlap, setup_dir, teardown_dir),
	    cmocka_unit_test_setup_teardown(test_hostile_headers, setup_dir, teardown_dir),
	    cmocka_unit_test_setup_teardown(test_bad_compressed, setup_dir, teardown_dir),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
