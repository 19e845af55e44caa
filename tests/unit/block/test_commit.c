/* block_commit: a differencing image merged into its parent reads, through the parent, exactly
 * as it did, for VHDX (whole, partial and zeroed blocks, a smaller block size than the
 * parent's), qcow2 and a raw parent; a grown child grows its parent; running it twice changes
 * nothing; a parent in use is refused; the images stay clean. And block_unsnapshot, which
 * takes a fresh snapshot back off a device. */
#define BLOCK_TEST_NAME "commit"
#include "block_test.h"

#define SIZE (64u << 20)

static void make(const char *name, const char *format, uint64_t size, const char *parent,
		 uint32_t block_size)
{
	char err[512];
	struct block_create_opts o = {.size = size, .parent = parent, .block_size = block_size};
	if (block_create(tmp(name), format, &o, err, sizeof(err)) < 0)
		fail_msg("%s", err);
}

/* Opened with its format recognized, as the checkpoints open them. */
static struct block_dev *open_any(const char *name, unsigned flags)
{
	struct block_dev *bd;
	char err[512];
	if (block_open(tmp(name), NULL, flags, &bd, err, sizeof(err)) < 0)
		fail_msg("%s", err);
	return bd;
}

static void put(const char *name, uint64_t off, size_t len, unsigned seed)
{
	struct block_dev *bd = open_any(name, 0);
	uint8_t *buf = malloc(len);
	fill(buf, len, off, seed);
	assert_int_equal(block_pwrite(bd, buf, len, off), 0);
	free(buf);
	block_close(bd);
}

static void zero(const char *name, uint64_t off, uint64_t len)
{
	struct block_dev *bd = open_any(name, 0);
	assert_int_equal(submit_wait(bd, BLOCK_OP_WRITE_ZEROES, off, NULL, 0, len), 0);
	block_close(bd);
}

/* The whole disk as name reads it. */
static uint8_t *image(const char *name, uint64_t *size)
{
	struct block_dev *bd = open_any(name, BLOCK_RDONLY);
	*size = block_size(bd);
	uint8_t *buf = malloc(*size);
	assert_non_null(buf);
	assert_int_equal(block_pread(bd, buf, *size, 0), 0);
	block_close(bd);
	return buf;
}

static void clean(const char *name)
{
	struct block_dev *bd = open_any(name, BLOCK_RDONLY);
	struct block_check res = {0};
	assert_int_equal(block_check(bd, false, &res), 0);
	assert_int_equal(res.corruptions, 0);
	assert_int_equal(res.leaks, 0);
	block_close(bd);
}

static void commit_ok(const char *child)
{
	char err[512];
	int r = block_commit(tmp(child), NULL, NULL, err, sizeof(err));
	if (r < 0)
		fail_msg("%s", err);
}

/* Writes data into parent, makes child on it (format, block size), writes a mix into child
 * over the parent's data, commits, compares. */
static void check_merge(const char *parent, const char *child, const char *format, uint32_t bs)
{
	uint64_t before_size, after_size, again_size;

	put(parent, 0, 4 * MiB, 1);
	put(parent, 40 * MiB, 3 * MiB, 2);
	make(child, format, 0, parent, bs);
	put(child, 512, 512, 3);		 /* one sector: a partial block */
	put(child, 3 * MiB + 4096, 8192, 4);	 /* inside the parent's data */
	put(child, 10 * MiB, 2 * MiB, 5);	 /* a whole block of the child */
	put(child, SIZE - 4096, 4096, 6);	 /* the last sector */
	zero(child, 40 * MiB + 512 * 1024, MiB); /* zeroes over the parent's data */
	uint8_t *before = image(child, &before_size);

	commit_ok(child);
	uint8_t *after = image(parent, &after_size);
	assert_int_equal(after_size, before_size);
	assert_memory_equal(after, before, before_size);
	uint8_t *still = image(child, &again_size);
	assert_memory_equal(still, before, before_size); /* the child reads the same too */

	commit_ok(child); /* redone after a crash: the same */
	free(after);
	after = image(parent, &after_size);
	assert_memory_equal(after, before, before_size);
	clean(parent);
	clean(child);
	free(before);
	free(after);
	free(still);
}

static void test_vhdx(void **state)
{
	make("p.vhdx", "vhdx", SIZE, NULL, 0);
	check_merge("p.vhdx", "c.avhdx", "vhdx", 0);
}

static void test_vhdx_small_blocks(void **state)
{
	/* The child's 1 MiB blocks over a parent with 8 MiB blocks, itself a child. */
	make("g.vhdx", "vhdx", SIZE, NULL, 0);
	put("g.vhdx", 20 * MiB, MiB, 9);
	make("p.vhdx", "vhdx", 0, "g.vhdx", 8u << 20);
	check_merge("p.vhdx", "c.vhdx", "vhdx", 1u << 20);
}

static void test_qcow2(void **state)
{
	make("p.qcow2", "qcow2", SIZE, NULL, 0);
	check_merge("p.qcow2", "c.qcow2", "qcow2", 0);
}

static void test_raw_parent(void **state)
{
	make("p.raw", "raw", SIZE, NULL, 0);
	check_merge("p.raw", "c.qcow2", "qcow2", 0);
}

static void test_grown_child(void **state)
{
	uint64_t a, b;
	make("p.vhdx", "vhdx", SIZE, NULL, 0);
	make("c.avhdx", "vhdx", 0, "p.vhdx", 0);
	struct block_dev *bd = open_any("c.avhdx", 0);
	char err[256];
	assert_int_equal(block_resize(bd, SIZE + 8 * MiB, err, sizeof(err)), 0);
	block_close(bd);
	put("c.avhdx", SIZE + 4 * MiB, MiB, 7);
	uint8_t *before = image("c.avhdx", &a);
	commit_ok("c.avhdx");
	uint8_t *after = image("p.vhdx", &b);
	assert_int_equal(b, SIZE + 8 * MiB);
	assert_memory_equal(after, before, a);
	free(before);
	free(after);
}

static void test_refused(void **state)
{
	char err[512];
	make("p.vhdx", "vhdx", SIZE, NULL, 0);
	make("c.avhdx", "vhdx", 0, "p.vhdx", 0);

	/* Not a differencing image. */
	assert_int_equal(block_commit(tmp("p.vhdx"), NULL, NULL, err, sizeof(err)), -EINVAL);
	assert_non_null(strstr(err, "not a differencing image"));
	/* The parent in use by a VM (the child open read-write holds it read-only). */
	struct block_dev *bd = open_any("c.avhdx", 0);
	assert_true(block_commit(tmp("c.avhdx"), NULL, NULL, err, sizeof(err)) < 0);
	assert_non_null(strstr(err, "p.vhdx"));
	block_close(bd);
	/* A missing image. */
	assert_int_equal(block_commit(tmp("none.vhdx"), NULL, NULL, err, sizeof(err)), -ENOENT);
	assert_non_null(strstr(err, "none.vhdx"));
}

static int stop_at_once(void *opaque, uint64_t done, uint64_t total)
{
	return done > 0;
}

static void test_interrupted(void **state)
{
	char err[512];
	make("p.qcow2", "qcow2", SIZE, NULL, 0);
	make("c.qcow2", "qcow2", 0, "p.qcow2", 0);
	put("c.qcow2", 0, 4 * MiB, 8);
	assert_int_equal(block_commit(tmp("c.qcow2"), stop_at_once, NULL, err, sizeof(err)),
			 -EINTR);
	clean("p.qcow2");
	uint64_t a, b;
	uint8_t *before = image("c.qcow2", &a);
	commit_ok("c.qcow2"); /* the rest, after the interruption */
	uint8_t *after = image("p.qcow2", &b);
	assert_memory_equal(after, before, a);
	free(before);
	free(after);
}

/* A snapshot taken and taken back: the new image is gone, the device writes into the old one
 * again (read-write, no lock left behind), the old one is clean. */
static void unsnapshot(const char *base, const char *format, const char *snap)
{
	char err[512];
	make(base, format, SIZE, NULL, 0);
	put(base, 0, MiB, 1);
	struct block_dev *bd = open_any(base, 0);
	assert_int_equal(block_snapshot(bd, tmp(snap), NULL, err, sizeof(err)), 0);
	assert_int_equal(access(tmp(snap), F_OK), 0);
	if (block_unsnapshot(bd, err, sizeof(err)) < 0)
		fail_msg("%s", err);
	assert_int_equal(access(tmp(snap), F_OK), -1);
	assert_string_equal(block_path(bd), tmp(base));
	assert_null(block_backing(bd));
	assert_false(block_readonly(bd));
	uint8_t *buf = malloc(MiB), *want = malloc(MiB);
	fill(want, MiB, 2 * MiB, 5);
	assert_int_equal(block_pwrite(bd, want, MiB, 2 * MiB), 0);
	assert_int_equal(block_flush(bd), 0);
	/* Not a second writer meanwhile: the exclusive lock is held again. */
	struct block_dev *other;
	assert_true(block_open(tmp(base), NULL, 0, &other, err, sizeof(err)) < 0);
	block_close(bd);
	bd = open_any(base, BLOCK_RDONLY);
	assert_int_equal(block_pread(bd, buf, MiB, 2 * MiB), 0);
	assert_memory_equal(buf, want, MiB);
	fill(want, MiB, 0, 1);
	assert_int_equal(block_pread(bd, buf, MiB, 0), 0);
	assert_memory_equal(buf, want, MiB);
	block_close(bd);
	if (strcmp(format, "raw") != 0)
		clean(base);
	/* Nothing to take away from an image without a parent. */
	bd = open_any(base, 0);
	assert_int_equal(block_unsnapshot(bd, err, sizeof(err)), -EINVAL);
	block_close(bd);
	free(buf);
	free(want);
}

static void test_unsnapshot(void **state)
{
	unsnapshot("a.vhdx", "vhdx", "a-1.avhdx");
	unsnapshot("b.qcow2", "qcow2", "b-1.qcow2");
	unsnapshot("c.img", "raw", "c-1.qcow2");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test_setup_teardown(test_vhdx, setup_dir, teardown_dir),
	    cmocka_unit_test_setup_teardown(test_vhdx_small_blocks, setup_dir, teardown_dir),
	    cmocka_unit_test_setup_teardown(test_qcow2, setup_dir, teardown_dir),
	    cmocka_unit_test_setup_teardown(test_raw_parent, setup_dir, teardown_dir),
	    cmocka_unit_test_setup_teardown(test_grown_child, setup_dir, teardown_dir),
	    cmocka_unit_test_setup_teardown(test_refused, setup_dir, teardown_dir),
	    cmocka_unit_test_setup_teardown(test_interrupted, setup_dir, teardown_dir),
	    cmocka_unit_test_setup_teardown(test_unsnapshot, setup_dir, teardown_dir),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
