/* The block layer's own part, over the format drivers: recognizing formats,
 * parent chains (reads fall through, writes stay on top, loops and deep
 * chains refused), block_create's rules, and a differencing image put on top
 * of a chain that is open read-write (block_snapshot). */
#define BLOCK_TEST_NAME "chain"
#include "block_test.h"

#define SIZE (4u << 20)

static void create(const char *name, const char *format, uint64_t size, const char *parent)
{
	char err[512];
	struct block_create_opts o = {.size = size, .parent = parent};
	int r = block_create(tmp(name), format, &o, err, sizeof(err));
	if (r < 0)
		fail_msg("%s", err);
}

static struct block_dev *open_rw(const char *name, const char *format)
{
	struct block_dev *bd;
	char err[512];
	int r = block_open(tmp(name), format, 0, &bd, err, sizeof(err));
	if (r < 0)
		fail_msg("%s", err);
	return bd;
}

/* Fills [off, off+len) with bytes derived from tag and the offset. */
static void fill_tagged(uint8_t *buf, size_t len, uint64_t off, uint8_t tag)
{
	for (size_t i = 0; i < len; i++)
		buf[i] = (uint8_t)((off + i) / 512 * 31 + tag);
}

static void write_tagged(struct block_dev *bd, uint64_t off, size_t len, uint8_t tag)
{
	uint8_t *buf = malloc(len);
	fill_tagged(buf, len, off, tag);
	assert_int_equal(block_pwrite(bd, buf, len, off), 0);
	free(buf);
}

static void expect_tagged(struct block_dev *bd, uint64_t off, size_t len, uint8_t tag)
{
	uint8_t *buf = malloc(len), *want = malloc(len);
	fill_tagged(want, len, off, tag);
	assert_int_equal(block_pread(bd, buf, len, off), 0);
	assert_memory_equal(buf, want, len);
	free(buf);
	free(want);
}

static void expect_zero(struct block_dev *bd, uint64_t off, size_t len)
{
	uint8_t *buf = malloc(len), *want = calloc(1, len);
	assert_int_equal(block_pread(bd, buf, len, off), 0);
	assert_memory_equal(buf, want, len);
	free(buf);
	free(want);
}

static void test_probe(void **state)
{
	static const char *const formats[] = {"raw", "qcow2", "vhdx", "vhd"};
	for (size_t i = 0; i < 4; i++) {
		char name[32];
		snprintf(name, sizeof(name), "p.%s", formats[i]);
		create(name, formats[i], SIZE, NULL);
		struct block_dev *bd = open_rw(name, NULL);
		assert_string_equal(block_format(bd), formats[i]);
		assert_int_equal(block_size(bd), SIZE);
		block_close(bd);
	}
}

/* A guest cannot turn a raw disk whose format was recognized into a qcow2
 * or VHD image (which could name a host file as its parent). */
static void test_probed_raw_guard(void **state)
{
	uint8_t hdr[4096], tail[512];
	create("h.qcow2", "qcow2", SIZE, NULL);
	create("t.vhd", "vhd", SIZE, NULL);
	struct block_dev *q = open_rw("h.qcow2", NULL), *v;
	int fd = open(tmp("h.qcow2"), O_RDONLY);
	assert_int_equal(pread(fd, hdr, sizeof(hdr), 0), (ssize_t)sizeof(hdr));
	close(fd);
	block_close(q);
	fd = open(tmp("t.vhd"), O_RDONLY);
	struct stat st;
	assert_int_equal(fstat(fd, &st), 0);
	assert_int_equal(pread(fd, tail, sizeof(tail), st.st_size - 512), 512);
	close(fd);

	create("r.img", "raw", SIZE, NULL);
	struct block_dev *bd = open_rw("r.img", NULL);
	assert_string_equal(block_format(bd), "raw");
	assert_int_equal(block_pwrite(bd, hdr, sizeof(hdr), 0), -EPERM);
	assert_int_equal(block_pwrite(bd, tail, sizeof(tail), SIZE - 512), -EPERM);
	/* Ordinary data there, and anything elsewhere, is written. */
	write_tagged(bd, 0, 8192, 9);
	write_tagged(bd, SIZE - 8192, 8192, 9);
	assert_int_equal(block_pwrite(bd, hdr, sizeof(hdr), 65536), 0);
	block_close(bd);

	/* Named as raw, the image is the user's to write as they like. */
	bd = open_rw("r.img", "raw");
	assert_int_equal(block_pwrite(bd, hdr, sizeof(hdr), 0), 0);
	block_close(bd);
	v = open_rw("r.img", NULL);
	assert_string_equal(block_format(v), "qcow2");
	block_close(v);
}

/* An image a VM writes can be looked at without its lock (osio disk info),
 * and only read-only. */
static void test_share(void **state)
{
	create("sb.qcow2", "qcow2", SIZE, NULL);
	create("sc.qcow2", "qcow2", 0, "sb.qcow2");
	struct block_dev *vm = open_rw("sc.qcow2", NULL), *look;
	write_tagged(vm, 0, 4096, 4);
	char err[512];
	assert_int_equal(block_open(tmp("sc.qcow2"), NULL, BLOCK_RDONLY, &look, err, sizeof(err)),
			 -EBUSY);
	assert_int_equal(
	    block_open(tmp("sc.qcow2"), NULL, BLOCK_RDONLY | BLOCK_SHARE, &look, err, sizeof(err)),
	    0);
	assert_non_null(block_backing(look));
	assert_int_equal(block_size(look), SIZE);
	block_close(look);
	/* BLOCK_SHARE does not make a read-write open lock-free. */
	assert_int_equal(block_open(tmp("sc.qcow2"), NULL, BLOCK_SHARE, &look, err, sizeof(err)),
			 -EBUSY);
	block_close(vm);
}

static void test_create_rules(void **state)
{
	char err[512];
	struct block_create_opts o = {.size = SIZE};
	create("exists.qcow2", "qcow2", SIZE, NULL);
	assert_int_equal(block_create(tmp("exists.qcow2"), "qcow2", &o, err, sizeof(err)), -EEXIST);
	assert_non_null(strstr(err, "exists already"));
	o.size = 1000; /* not whole sectors */
	assert_int_equal(block_create(tmp("odd.qcow2"), "qcow2", &o, err, sizeof(err)), -EINVAL);
	assert_int_equal(access(tmp("odd.qcow2"), F_OK), -1);
	o.size = SIZE;
	o.parent = "missing.vhdx";
	assert_true(block_create(tmp("orphan.vhdx"), "vhdx", &o, err, sizeof(err)) < 0);
	assert_non_null(strstr(err, "missing.vhdx"));
	assert_int_equal(access(tmp("orphan.vhdx"), F_OK), -1);

	struct block_dev *bd = open_rw("exists.qcow2", NULL);
	assert_int_equal(block_resize(bd, SIZE / 2, err, sizeof(err)), -EINVAL);
	assert_non_null(strstr(err, "shrink"));
	assert_int_equal(block_resize(bd, 2 * SIZE, err, sizeof(err)), 0);
	assert_int_equal(block_size(bd), 2 * SIZE);
	block_close(bd);
}

/* base <- mid <- top, each format with a parent: reads fall through to the
 * image that has the block, writes land on top only. */
static void check_chain(const char *fmt)
{
	char base[32], mid[32], top[32];
	snprintf(base, sizeof(base), "base.%s", fmt);
	snprintf(mid, sizeof(mid), "mid.%s", fmt);
	snprintf(top, sizeof(top), "top.%s", fmt);
	create("base.raw", "raw", SIZE, NULL);
	struct block_dev *bd = open_rw("base.raw", "raw");
	write_tagged(bd, 0, SIZE, 1);
	block_close(bd);

	create(mid, fmt, 0, "base.raw"); /* size from the parent */
	bd = open_rw(mid, NULL);
	assert_int_equal(block_size(bd), SIZE);
	write_tagged(bd, 65536, 65536, 2);
	block_close(bd);

	create(top, fmt, 0, mid);
	bd = open_rw(top, NULL);
	assert_non_null(block_backing(bd));
	assert_non_null(block_backing(block_backing(bd)));
	assert_null(block_backing(block_backing(block_backing(bd))));
	struct block_info info;
	assert_int_equal(block_get_info(bd, &info), 0);
	assert_string_equal(info.parent, mid);
	write_tagged(bd, 512, 1024, 3); /* part of a block: the rest from below */
	expect_tagged(bd, 0, 512, 1);
	expect_tagged(bd, 512, 1024, 3);
	expect_tagged(bd, 1536, 65536 - 1536, 1);
	expect_tagged(bd, 65536, 65536, 2);
	expect_tagged(bd, 131072, SIZE - 131072, 1);
	block_close(bd);

	/* The parents did not change. */
	bd = open_rw(mid, NULL);
	expect_tagged(bd, 0, 65536, 1);
	block_close(bd);
	unlink(tmp(top));
	unlink(tmp(mid));
	unlink(tmp("base.raw"));
}

static void test_chain_qcow2(void **state)
{
	check_chain("qcow2");
}

static void test_chain_vhdx(void **state)
{
	check_chain("vhdx");
}

/* a's parent is b, whose parent is c; then c is put where b was, so the
 * chain a -> b(=c) -> a loops. */
static void test_loop(void **state)
{
	create("b.qcow2", "qcow2", SIZE, NULL);
	create("a.qcow2", "qcow2", 0, "b.qcow2");
	create("c.qcow2", "qcow2", 0, "a.qcow2");
	assert_int_equal(rename(tmp("c.qcow2"), tmp("b.qcow2")), 0);
	struct block_dev *bd;
	char err[512];
	assert_int_equal(block_open(tmp("a.qcow2"), NULL, 0, &bd, err, sizeof(err)), -ELOOP);
	assert_non_null(strstr(err, "loop"));
}

static void test_deep_chain(void **state)
{
	create("d0.qcow2", "qcow2", SIZE, NULL);
	char name[32], parent[32], err[512];
	int i, r = 0;
	for (i = 1; i <= 70 && r == 0; i++) {
		snprintf(name, sizeof(name), "d%d.qcow2", i);
		snprintf(parent, sizeof(parent), "d%d.qcow2", i - 1);
		struct block_create_opts o = {.parent = parent};
		r = block_create(tmp(name), "qcow2", &o, err, sizeof(err));
	}
	/* The chain limit stops creation, with a message that says why. */
	assert_int_equal(r, -ELOOP);
	assert_true(i > 60);
	assert_non_null(strstr(err, "deeper"));
	struct block_dev *bd;
	assert_int_equal(block_open(tmp("d20.qcow2"), NULL, 0, &bd, err, sizeof(err)), 0);
	block_close(bd);
}

/* A running VM's disk gets a differencing image on top: later writes go to
 * it, the old top keeps what was written before and is read-only. */
static void check_snapshot(const char *fmt)
{
	char base[32], snap[32], snap2[32];
	snprintf(base, sizeof(base), "s.%s", fmt);
	snprintf(snap, sizeof(snap), "s-1.%s", strcmp(fmt, "vhdx") ? "qcow2" : "vhdx");
	snprintf(snap2, sizeof(snap2), "s-2.%s", strcmp(fmt, "vhdx") ? "qcow2" : "vhdx");
	create(base, fmt, SIZE, NULL);
	struct block_dev *bd = open_rw(base, NULL);
	write_tagged(bd, 0, SIZE / 2, 5);
	char err[512];
	int r = block_snapshot(bd, tmp(snap), NULL, err, sizeof(err));
	if (r < 0)
		fail_msg("%s", err);
	assert_string_equal(block_path(bd), tmp(snap));
	assert_non_null(block_backing(bd));
	assert_string_equal(block_path(block_backing(bd)), tmp(base));
	expect_tagged(bd, 0, SIZE / 2, 5);
	write_tagged(bd, 4096, 8192, 6);
	expect_tagged(bd, 4096, 8192, 6);
	/* A second one on top of that. */
	r = block_snapshot(bd, tmp(snap2), NULL, err, sizeof(err));
	if (r < 0)
		fail_msg("%s", err);
	write_tagged(bd, SIZE - 8192, 8192, 7);
	/* A snapshot that cannot be made leaves everything as it was. */
	assert_true(block_snapshot(bd, tmp(snap), NULL, err, sizeof(err)) < 0);
	assert_string_equal(block_path(bd), tmp(snap2));
	expect_tagged(bd, 4096, 8192, 6);
	block_close(bd);

	/* From scratch: every layer holds what was written while it was the top. */
	bd = open_rw(base, NULL);
	expect_tagged(bd, 4096, 8192, 5);
	expect_zero(bd, SIZE - 8192, 8192);
	block_close(bd);
	bd = open_rw(snap, NULL);
	expect_tagged(bd, 4096, 8192, 6);
	expect_zero(bd, SIZE - 8192, 8192);
	block_close(bd);
	bd = open_rw(snap2, NULL);
	expect_tagged(bd, 0, 4096, 5);
	expect_tagged(bd, 4096, 8192, 6);
	expect_tagged(bd, SIZE - 8192, 8192, 7);
	block_close(bd);
}

static void test_snapshot_qcow2(void **state)
{
	check_snapshot("qcow2");
}

static void test_snapshot_vhdx(void **state)
{
	check_snapshot("vhdx");
}

static void test_snapshot_raw(void **state)
{
	check_snapshot("raw");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test_setup_teardown(test_probe, setup_dir, teardown_dir),
	    cmocka_unit_test_setup_teardown(test_create_rules, setup_dir, teardown_dir),
	    cmocka_unit_test_setup_teardown(test_probed_raw_guard, setup_dir, teardown_dir),
	    cmocka_unit_test_setup_teardown(test_share, setup_dir, teardown_dir),
	    cmocka_unit_test_setup_teardown(test_chain_qcow2, setup_dir, teardown_dir),
	    cmocka_unit_test_setup_teardown(test_chain_vhdx, setup_dir, teardown_dir),
	    cmocka_unit_test_setup_teardown(test_loop, setup_dir, teardown_dir),
	    cmocka_unit_test_setup_teardown(test_deep_chain, setup_dir, teardown_dir),
	    cmocka_unit_test_setup_teardown(test_snapshot_qcow2, setup_dir, teardown_dir),
	    cmocka_unit_test_setup_teardown(test_snapshot_vhdx, setup_dir, teardown_dir),
	    cmocka_unit_test_setup_teardown(test_snapshot_raw, setup_dir, teardown_dir),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
