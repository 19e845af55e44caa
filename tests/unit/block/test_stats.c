/* The block layer's I/O counters (the control API's stats): requests and
 * bytes per image a VM opened, failures counted, parents not listed. */
#define BLOCK_TEST_NAME "stats"
#include "block_test.h"

struct seen {
	const struct block_dev *bd[4];
	unsigned n;
};

static void collect(struct block_dev *bd, void *opaque)
{
	struct seen *s = opaque;
	if (s->n < 4)
		s->bd[s->n] = bd;
	s->n++;
}

static void test_counters(void **state)
{
	struct block_create_opts o = {.size = 4 * MiB};
	struct block_create_opts child = {.parent = "a.qcow2"};
	create_as(tmp("a.qcow2"), "qcow2", &o);
	create_as(tmp("b.qcow2"), "qcow2", &child);
	struct block_dev *a = open_as(tmp("a.qcow2"), 0, "qcow2");
	struct block_stats st;
	block_get_stats(a, &st);
	assert_int_equal(st.rd_ops + st.wr_ops + st.flush_ops + st.errors, 0);

	uint8_t buf[8192];
	fill(buf, sizeof(buf), 0, 1);
	assert_int_equal(block_pwrite(a, buf, sizeof(buf), 0), 0);
	assert_int_equal(block_pwrite(a, buf, 512, 65536), 0);
	assert_int_equal(block_pread(a, buf, 4096, 0), 0);
	assert_int_equal(block_flush(a), 0);
	/* Past the end: refused, and counted as a failed read. */
	assert_int_equal(block_pread(a, buf, 512, 4 * MiB), -EINVAL);
	block_get_stats(a, &st);
	assert_int_equal(st.wr_ops, 2);
	assert_int_equal(st.wr_bytes, 8192 + 512);
	assert_int_equal(st.rd_ops, 2);
	assert_int_equal(st.rd_bytes, 4096);
	assert_int_equal(st.flush_ops, 1);
	assert_int_equal(st.errors, 1);

	/* A second image with a parent: listed after the first, its parent
	 * not at all. */
	struct block_dev *b = open_as(tmp("b.qcow2"), BLOCK_RDONLY | BLOCK_SHARE, "qcow2");
	struct seen s = {.n = 0};
	block_for_each_open(collect, &s);
	assert_int_equal(s.n, 2);
	assert_ptr_equal(s.bd[0], a);
	assert_ptr_equal(s.bd[1], b);
	block_get_stats(b, &st);
	assert_int_equal(st.rd_ops + st.wr_ops, 0);

	block_close(a);
	s.n = 0;
	block_for_each_open(collect, &s);
	assert_int_equal(s.n, 1);
	assert_ptr_equal(s.bd[0], b);
	block_close(b);
	s.n = 0;
	block_for_each_open(collect, &s);
	assert_int_equal(s.n, 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test_setup_teardown(test_counters, setup_dir, teardown_dir),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
