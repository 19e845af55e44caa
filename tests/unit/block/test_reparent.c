/* block_set_parent (osio disk reconnect) for VHDX, VHD and qcow2: a child
 * whose parent moved reads the parent's data again after the reconnect; a
 * parent that is not the one the child was made on is refused (and taken
 * with force); crash states of the update leave one name or the other;
 * qemu-img agrees with the result for qcow2 (and rebase -u writes the same). */
#include "vhdx_fixture.h"

#define SIZE (8u << 20)

static const char *const formats[] = {"vhdx", "vhd", "qcow2"};

static void write_pattern(const char *path, uint64_t off, size_t len, unsigned seed)
{
	struct block_dev *bd = open_as(path, 0, strrchr(path, '.') + 1);
	uint8_t *buf = malloc(len);
	fill(buf, len, off, seed);
	assert_int_equal(block_pwrite(bd, buf, len, off), 0);
	free(buf);
	block_close(bd);
}

static void expect_pattern(struct block_dev *bd, uint64_t off, size_t len, unsigned seed)
{
	uint8_t *buf = malloc(len), *want = malloc(len);
	fill(want, len, off, seed);
	assert_int_equal(block_pread(bd, buf, len, off), 0);
	assert_memory_equal(buf, want, len);
	free(buf);
	free(want);
}

/* dir/a/base.F with data, dir/b/child.F on it (named ../a/base.F) with
 * data of its own; then the base moves to dir/c/base.F. */
static void make_moved_chain(const char *fmt)
{
	char base[160], child[160], moved[160], name[64];
	assert_int_equal(sh("mkdir -p %s/a %s/b %s/c", dir, dir, dir), 0);
	snprintf(base, sizeof(base), "%s/a/base.%s", dir, fmt);
	snprintf(child, sizeof(child), "%s/b/child.%s", dir, fmt);
	snprintf(moved, sizeof(moved), "%s/c/base.%s", dir, fmt);
	snprintf(name, sizeof(name), "../a/base.%s", fmt);
	unlink(moved);
	struct block_create_opts o = {.size = SIZE};
	create_as(base, fmt, &o);
	write_pattern(base, 0, 2 * MiB, 1);
	struct block_create_opts oc = {.parent = name};
	create_as(child, fmt, &oc);
	write_pattern(child, 4 * MiB, MiB, 2);
	assert_int_equal(rename(base, moved), 0);
}

static void expect_chain(const char *child, const char *want_parent)
{
	struct block_dev *bd = open_as(child, BLOCK_RDONLY, strrchr(child, '.') + 1);
	expect_pattern(bd, 0, 2 * MiB, 1);
	expect_pattern(bd, 4 * MiB, MiB, 2);
	struct block_info info;
	assert_int_equal(block_get_info(bd, &info), 0);
	assert_string_equal(info.parent, want_parent);
	block_close(bd);
}

static void test_reconnect(void **state)
{
	(void)state;
	for (size_t i = 0; i < 3; i++) {
		const char *fmt = formats[i];
		char child[160], name[64], err[1024] = "";
		make_moved_chain(fmt);
		snprintf(child, sizeof(child), "%s/b/child.%s", dir, fmt);
		open_refused(child, BLOCK_RDONLY, NULL, "base");
		snprintf(name, sizeof(name), "../c/base.%s", fmt);
		int r = block_set_parent(child, name, false, err, sizeof(err));
		if (r < 0)
			fail_msg("%s: %s", fmt, err);
		expect_chain(child, name);
		/* Again, to an absolute name, and back to a long relative one:
		 * the new name never overwrites the one in use. */
		char abs[160], longname[200];
		snprintf(abs, sizeof(abs), "%s/c/base.%s", dir, fmt);
		assert_int_equal(block_set_parent(child, abs, false, err, sizeof(err)), 0);
		struct block_dev *bd = open_as(child, BLOCK_RDONLY, fmt);
		struct block_info info;
		assert_int_equal(block_get_info(bd, &info), 0);
		if (strcmp(fmt, "vhd") != 0) /* VHD shows the name it found it by */
			assert_string_equal(info.parent, abs);
		block_close(bd);
		snprintf(longname, sizeof(longname), "../b/../c/./../c/base.%s", fmt);
		assert_int_equal(block_set_parent(child, longname, false, err, sizeof(err)), 0);
		expect_chain(child, longname);
		/* The child still takes writes and the chain checks clean. */
		write_pattern(child, 6 * MiB, MiB, 3);
		bd = open_as(child, 0, fmt);
		struct block_check res = {0};
		assert_int_equal(block_check(bd, false, &res), 0);
		assert_int_equal(res.corruptions, 0);
		block_close(bd);
		assert_int_equal(sh("rm -rf %s/a %s/b %s/c", dir, dir, dir), 0);
	}
}

/* err names both files and contains what. */
static void expect_refused(const char *child, const char *name, const char *what)
{
	char err[1024] = "";
	int r = block_set_parent(child, name, false, err, sizeof(err));
	if (r == 0)
		fail_msg("%s: reconnecting to %s was not refused", child, name);
	if (!strstr(err, child) || !strstr(err, what))
		fail_msg("message '%s' does not name %s and '%s'", err, child, what);
}

static void test_wrong_parent(void **state)
{
	(void)state;
	for (size_t i = 0; i < 3; i++) {
		const char *fmt = formats[i];
		char child[160], other[160], big[160], name[64], err[1024];
		make_moved_chain(fmt);
		snprintf(child, sizeof(child), "%s/b/child.%s", dir, fmt);
		snprintf(other, sizeof(other), "%s/c/other.%s", dir, fmt);
		snprintf(big, sizeof(big), "%s/c/big.%s", dir, fmt);
		struct block_create_opts o = {.size = SIZE}, ob = {.size = 2 * SIZE};
		create_as(other, fmt, &o);
		create_as(big, fmt, &ob);
		write_pattern(other, 0, 2 * MiB, 1);
		snprintf(name, sizeof(name), "../c/big.%s", fmt);
		expect_refused(child, name, "big");
		if (strcmp(fmt, "qcow2") != 0) {
			/* Same size, another disk: the IDs tell. */
			snprintf(name, sizeof(name), "../c/other.%s", fmt);
			expect_refused(child, name, "other");
			/* --force takes it; the child then opens on it. */
			assert_int_equal(block_set_parent(child, name, true, err, sizeof(err)), 0);
			expect_chain(child, name);
		}
		expect_refused(child, "../c/missing.img", "missing");
		expect_refused(child, "child.", "");
		/* The child itself, and an image that is not differencing. */
		snprintf(name, sizeof(name), "child.%s", fmt);
		expect_refused(child, name, "own parent");
		snprintf(name, sizeof(name), "other.%s", fmt);
		expect_refused(big, name, "not a differencing");
		/* A parent whose chain holds the child: a loop. */
		snprintf(name, sizeof(name), "../b/child.%s", fmt);
		if (strcmp(fmt, "qcow2") != 0)
			expect_refused(other, name, "own parents");
		assert_int_equal(sh("rm -rf %s/a %s/b %s/c", dir, dir, dir), 0);
	}
}

/* The VHDX update goes through the log: a crash after the log entry and
 * the header naming it, before the metadata is written in place, replays
 * to the new name; a crash before the header names it keeps the old. */
static void test_vhdx_crash(void **state)
{
	(void)state;
	char child[160], pre[160], err[1024];
	make_moved_chain("vhdx");
	snprintf(child, sizeof(child), "%s/b/child.vhdx", dir);
	snprintf(pre, sizeof(pre), "%s/b/pre.vhdx", dir);
	assert_int_equal(sh("cp %s %s", child, pre), 0);
	assert_int_equal(block_set_parent(child, "../c/base.vhdx", false, err, sizeof(err)), 0);
	struct vhdx_header h, hp;
	read_header(child, &h);
	read_header(pre, &hp);
	assert_true(vhdx_guid_is_zero(&h.log)); /* cleared when done */
	uint8_t *log = malloc(h.log_length);
	peek(child, h.log_offset, log, h.log_length);
	assert_memory_equal(log, "loge", 4);
	struct vhdx_guid lg;
	memcpy(lg.b, log + 32, 16);
	/* The log written, the header not yet: the old name. */
	patch(pre, hp.log_offset, log, hp.log_length);
	struct block_dev *bd;
	char oerr[512] = "";
	assert_int_not_equal(block_open(pre, NULL, BLOCK_RDONLY, &bd, oerr, sizeof(oerr)), 0);
	assert_non_null(strstr(oerr, "a/base.vhdx"));
	/* The header names it: the open replays it, to the new name. */
	hp.log = lg;
	write_headers(pre, hp);
	bd = open_as(pre, 0, "vhdx");
	struct block_info info;
	assert_int_equal(block_get_info(bd, &info), 0);
	assert_string_equal(info.parent, "../c/base.vhdx");
	expect_pattern(bd, 0, 2 * MiB, 1);
	expect_pattern(bd, 4 * MiB, MiB, 2);
	block_close(bd);
	free(log);
}

/* qcow2: the new name is written first, then the header fields: a crash
 * between leaves the old name. qemu-img rebase -u gives the same image. */
static void test_qcow2_states(void **state)
{
	(void)state;
	char child[160], pre[160], mid[160], err[1024];
	make_moved_chain("qcow2");
	snprintf(child, sizeof(child), "%s/b/child.qcow2", dir);
	snprintf(pre, sizeof(pre), "%s/b/pre.qcow2", dir);
	snprintf(mid, sizeof(mid), "%s/b/mid.qcow2", dir);
	assert_int_equal(sh("cp %s %s", child, pre), 0);
	assert_int_equal(block_set_parent(child, "../c/base.qcow2", false, err, sizeof(err)), 0);
	assert_int_equal(sh("cp %s %s", child, mid), 0);
	uint8_t f[12];
	peek(pre, 8, f, sizeof(f));
	patch(mid, 8, f, sizeof(f));
	struct block_dev *bd;
	char oerr[512] = "";
	assert_int_not_equal(block_open(mid, NULL, BLOCK_RDONLY, &bd, oerr, sizeof(oerr)), 0);
	assert_non_null(strstr(oerr, "a/base.qcow2"));
	if (!have_qemu_img())
		return;
	assert_int_equal(sh("qemu-img check -q %s", child), 0);
	assert_int_equal(sh("qemu-img rebase -u -F qcow2 -b ../c/base.qcow2 %s", pre), 0);
	assert_int_equal(
	    sh("test \"$(qemu-img info --output=json %s | jq -r '.\"backing-filename\"')\" "
	       "= ../c/base.qcow2",
	       child),
	    0);
	assert_int_equal(sh("qemu-img compare -q %s %s", child, pre), 0);
	assert_int_equal(sh("qemu-img info --backing-chain %s | grep -q 'c/base.qcow2'", child), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test_setup_teardown(test_reconnect, setup_dir, teardown_dir),
	    cmocka_unit_test_setup_teardown(test_wrong_parent, setup_dir, teardown_dir),
	    cmocka_unit_test_setup_teardown(test_vhdx_crash, setup_dir, teardown_dir),
	    cmocka_unit_test_setup_teardown(test_qcow2_states, setup_dir, teardown_dir),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
