/* The raw format's image-level operations through the block layer: create
 * (sparse, preallocated with progress), info, grow, nothing to check. */
#define BLOCK_TEST_NAME "rawops"
#include "block_test.h"

static void stat_file(const char *path, struct stat *st)
{
	assert_int_equal(stat(path, st), 0);
}

static void test_sparse(void **state)
{
	(void)state;
	const char *p = tmp("sparse.img");
	char err[256];
	struct block_create_opts o = {.size = 64 * MiB};
	assert_int_equal(block_create(p, "raw", &o, err, sizeof(err)), 0);
	struct stat st;
	stat_file(p, &st);
	assert_int_equal(st.st_size, 64 * MiB);
	assert_true((uint64_t)st.st_blocks * 512 < MiB);
	/* Never over an existing file. */
	assert_int_equal(block_create(p, "raw", &o, err, sizeof(err)), -EEXIST);
	assert_non_null(strstr(err, p));

	struct block_dev *bd;
	assert_int_equal(block_open(p, "raw", 0, &bd, err, sizeof(err)), 0);
	struct block_info info;
	assert_int_equal(block_get_info(bd, &info), 0);
	assert_string_equal(info.format, "raw");
	assert_string_equal(info.subformat, "sparse");
	assert_int_equal(info.virtual_size, 64 * MiB);
	assert_int_equal(info.file_size, 64 * MiB);
	assert_true(info.allocated < MiB);
	assert_int_equal(info.block_size, 0);
	assert_string_equal(info.parent, "");
	assert_false(info.dirty);
	/* No metadata: check finds nothing. */
	struct block_check res = {0};
	assert_int_equal(block_check(bd, false, &res), 0);
	assert_int_equal(res.corruptions + res.leaks + res.repaired, 0);
	block_close(bd);
}

struct progress {
	unsigned calls;
	uint64_t last, total;
	unsigned stop_after; /* 0: never */
};

static int on_progress(void *opaque, uint64_t done, uint64_t total)
{
	struct progress *pr = opaque;
	assert_true(done > pr->last);
	assert_true(done <= total);
	pr->calls++;
	pr->last = done;
	pr->total = total;
	return pr->stop_after && pr->calls >= pr->stop_after;
}

static void test_fixed(void **state)
{
	(void)state;
	const char *p = tmp("fixed.img");
	char err[256];
	struct progress pr = {0};
	struct block_create_opts o = {
	    .size = 600 * MiB, .fixed = true, .progress = on_progress, .opaque = &pr};
	assert_int_equal(block_create(p, "raw", &o, err, sizeof(err)), 0);
	assert_true(pr.calls >= 3); /* in steps */
	assert_int_equal(pr.last, 600 * MiB);
	assert_int_equal(pr.total, 600 * MiB);
	struct stat st;
	stat_file(p, &st);
	assert_int_equal(st.st_size, 600 * MiB);
	assert_true((uint64_t)st.st_blocks * 512 >= 600 * MiB);
	struct block_dev *bd;
	assert_int_equal(block_open(p, NULL, BLOCK_RDONLY, &bd, err, sizeof(err)), 0);
	struct block_info info;
	assert_int_equal(block_get_info(bd, &info), 0);
	assert_string_equal(info.subformat, "fully allocated");
	uint8_t buf[4096], zero[4096] = {0};
	assert_int_equal(block_pread(bd, buf, sizeof(buf), 300 * MiB), 0);
	assert_memory_equal(buf, zero, sizeof(buf));
	block_close(bd);
	unlink(p);

	/* Stopped part way: -EINTR, and nothing left behind. */
	struct progress stop = {.stop_after = 1};
	o.opaque = &stop;
	assert_int_equal(block_create(p, "raw", &o, err, sizeof(err)), -EINTR);
	assert_int_equal(access(p, F_OK), -1);
}

static void test_no_parent(void **state)
{
	(void)state;
	const char *base = tmp("base.img");
	char err[256];
	struct block_create_opts o = {.size = MiB};
	assert_int_equal(block_create(base, "raw", &o, err, sizeof(err)), 0);
	const char *p = tmp("child.img");
	struct block_create_opts c = {.parent = "base.img"};
	assert_true(block_create(p, "raw", &c, err, sizeof(err)) < 0);
	assert_non_null(strstr(err, "no parent"));
	assert_int_equal(access(p, F_OK), -1);
}

static void test_resize(void **state)
{
	(void)state;
	const char *p = tmp("grow.img");
	char err[256];
	struct block_create_opts o = {.size = 4 * MiB};
	assert_int_equal(block_create(p, "raw", &o, err, sizeof(err)), 0);
	struct block_dev *bd;
	assert_int_equal(block_open(p, "raw", 0, &bd, err, sizeof(err)), 0);
	uint8_t buf[4096];
	memset(buf, 0x5a, sizeof(buf));
	assert_int_equal(block_pwrite(bd, buf, sizeof(buf), 4 * MiB - 4096), 0);
	assert_int_equal(block_resize(bd, 10 * MiB, err, sizeof(err)), 0);
	assert_int_equal(block_size(bd), 10 * MiB);
	/* The new space reads as zeroes and takes writes. */
	uint8_t back[4096], zero[4096] = {0};
	assert_int_equal(block_pread(bd, back, sizeof(back), 8 * MiB), 0);
	assert_memory_equal(back, zero, sizeof(back));
	assert_int_equal(block_pwrite(bd, buf, sizeof(buf), 10 * MiB - 4096), 0);
	assert_int_equal(block_pread(bd, back, sizeof(back), 4 * MiB - 4096), 0);
	assert_memory_equal(back, buf, sizeof(back));
	/* Shrinking is refused. */
	assert_int_equal(block_resize(bd, 2 * MiB, err, sizeof(err)), -EINVAL);
	assert_int_equal(block_size(bd), 10 * MiB);
	block_close(bd);
	struct stat st;
	stat_file(p, &st);
	assert_int_equal(st.st_size, 10 * MiB);
	/* Read-only opens cannot grow. */
	assert_int_equal(block_open(p, "raw", BLOCK_RDONLY, &bd, err, sizeof(err)), 0);
	assert_int_equal(block_resize(bd, 20 * MiB, err, sizeof(err)), -EROFS);
	block_close(bd);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_sparse),
	    cmocka_unit_test(test_fixed),
	    cmocka_unit_test(test_no_parent),
	    cmocka_unit_test(test_resize),
	};
	return cmocka_run_group_tests(tests, setup_dir, teardown_dir);
}
