/* The VHD driver against damaged images: check and repair, a footer lost
 * in a crash, a VM killed while blocks are allocated, hostile headers. */
#define BLOCK_TEST_NAME "vhdf"
#include "vhd_fixture.h"

#include "hypervisor/bytes.h"

#include <signal.h>

/* --- check and repair ------------------------------------------------------ */

static void count_line(void *opaque, const char *line)
{
	(void)line;
	(*(int *)opaque)++;
}

static void test_check_repair(void **state)
{
	(void)state;
	const char *p = tmp("check.vhd");
	create(p, 4 * MiB, false, 65536, NULL);
	struct block_dev *bd = open_img(p, 0);
	uint8_t buf[512];
	fill(buf, sizeof(buf), 0, 1);
	for (uint64_t i = 0; i < 4; i++)
		assert_int_equal(block_pwrite(bd, buf, sizeof(buf), i * 65536), 0);
	block_close(bd);
	uint64_t good = file_size(p);
	uint64_t bat = 1536;
	int lines = 0;
	struct block_check res = {.report = count_line, .opaque = &lines};

	/* Block 5 pointing past the end of the file; block 6 overlapping block
	 * 0; a footer copy that differs; 64 KiB of unused space at the end. */
	uint8_t e[4], f[512];
	put_be32(e, (uint32_t)((good + 10 * MiB) / 512));
	patch(p, (off_t)bat + 20, e, 4);
	peek(p, (off_t)bat, e, 4);
	patch(p, (off_t)bat + 24, e, 4);
	peek(p, (off_t)good - 512, f, 512);
	int fd = open(p, O_RDWR);
	assert_int_equal(ftruncate(fd, (off_t)(good + 65536)), 0);
	close(fd);
	patch(p, (off_t)good + 65536 - 512, f, 512);
	f[VF_SAVED_STATE] ^= 1; /* not sealed: just different */
	vhd_footer_seal(f);
	patch(p, 0, f, 512);

	bd = open_img(p, BLOCK_RDONLY);
	uint8_t back[512];
	assert_int_equal(block_pread(bd, back, 512, 5 * 65536), -EIO);
	assert_int_equal(block_check(bd, false, &res), 0);
	assert_int_equal(res.corruptions, 3);
	assert_int_equal(res.leaks, 1);
	assert_int_equal(lines, 4);
	assert_int_equal(block_check(bd, true, &res), -EROFS);
	block_close(bd);

	bd = open_img(p, 0);
	assert_int_equal(block_check(bd, true, &res), 0);
	assert_int_equal(res.repaired, 4);
	block_close(bd);
	assert_int_equal(file_size(p), good);
	bd = open_img(p, 0);
	assert_int_equal(block_check(bd, false, &res), 0);
	assert_int_equal(res.corruptions + res.leaks, 0);
	expect(bd, buf, sizeof(buf), 3 * 65536);
	block_close(bd);
}

/* A VM killed while the file grew: the footer at the end is gone; the copy at
 * offset 0 opens the image, and a read-write open puts the footer back. */
static void test_lost_footer(void **state)
{
	(void)state;
	const char *p = tmp("lost.vhd");
	create(p, 4 * MiB, false, 65536, NULL);
	struct block_dev *bd = open_img(p, 0);
	uint8_t buf[4096];
	fill(buf, sizeof(buf), 0, 6);
	assert_int_equal(block_pwrite(bd, buf, sizeof(buf), 65536), 0);
	block_close(bd);
	uint64_t good = file_size(p);
	/* The footer half written: zeroes where it was. */
	uint8_t zero[512] = {0};
	patch(p, (off_t)good - 512, zero, 512);
	bd = open_img(p, BLOCK_RDONLY);
	struct block_info info;
	assert_int_equal(block_get_info(bd, &info), 0);
	assert_true(info.dirty);
	expect(bd, buf, sizeof(buf), 65536);
	block_close(bd);
	bd = open_img(p, 0);
	expect(bd, buf, sizeof(buf), 65536);
	block_close(bd);
	assert_int_equal(file_size(p), good);
	uint8_t a[512], b[512];
	peek(p, 0, a, 512);
	peek(p, (off_t)good - 512, b, 512);
	assert_memory_equal(a, b, 512);
	/* The footer cut off altogether. */
	int fd = open(p, O_RDWR);
	assert_int_equal(ftruncate(fd, (off_t)(good - 512)), 0);
	close(fd);
	bd = open_img(p, BLOCK_RDONLY);
	expect(bd, buf, sizeof(buf), 65536);
	block_close(bd);
	bd = open_img(p, 0);
	block_close(bd);
	assert_int_equal(file_size(p), good);
	/* A block whose data the file no longer holds: -EIO for its requests. */
	fd = open(p, O_RDWR);
	assert_int_equal(ftruncate(fd, (off_t)(good - 4096 - 512)), 0);
	close(fd);
	bd = open_img(p, BLOCK_RDONLY);
	assert_int_equal(block_pread(bd, a, 512, 65536), -EIO);
	assert_int_equal(block_pread(bd, a, 512, 0), 0);
	block_close(bd);
	/* Read-write: the footer is put back after it, the block stays
	 * unreadable until check --repair drops it (its data is lost). */
	bd = open_img(p, 0);
	assert_int_equal(block_pread(bd, a, 512, 65536), -EIO);
	int lines = 0;
	struct block_check res = {.report = count_line, .opaque = &lines};
	assert_int_equal(block_check(bd, true, &res), 0);
	assert_int_equal(res.corruptions, 1);
	assert_true(res.repaired >= 1);
	memset(b, 0, sizeof(b));
	assert_int_equal(block_pread(bd, a, 512, 65536), 0);
	assert_memory_equal(a, b, 512);
	uint8_t more[512];
	fill(more, sizeof(more), 3, 3);
	assert_int_equal(block_pwrite(bd, more, sizeof(more), 3 * 65536), 0);
	block_close(bd);
	bd = open_img(p, BLOCK_RDONLY);
	assert_int_equal(block_check(bd, false, &res), 0);
	assert_int_equal(res.corruptions + res.leaks, 0);
	expect(bd, more, sizeof(more), 3 * 65536);
	block_close(bd);
}

/* A VM killed at random moments while it allocates blocks: the image opens,
 * checks without corruption, every record written before the last
 * acknowledged flush is intact, and what was never written still reads as
 * before (zeroes, or a differencing disk's parent through its bitmaps).
 * Records fill the first half of each 4 KiB slot. */
#define KILL_SLOTS  2048u
#define KILL_RECORD 2048u

static uint64_t kill_slot(uint32_t k)
{
	return (uint64_t)(k * 37u % KILL_SLOTS) * 4096;
}

static void kill_child(const char *p, int out, unsigned round)
{
	char err[512];
	struct block_dev *bd;
	if (block_open(p, "vhd", 0, &bd, err, sizeof(err)) < 0)
		_exit(2);
	uint8_t buf[KILL_RECORD];
	for (uint32_t k = 0; k < KILL_SLOTS; k++) {
		fill(buf, sizeof(buf), kill_slot(k), round * 10000 + k);
		if (block_pwrite(bd, buf, sizeof(buf), kill_slot(k)) < 0)
			_exit(3);
		if (k % 4 == 3) {
			if (block_flush(bd) < 0)
				_exit(4);
			if (write(out, &k, sizeof(k)) != sizeof(k))
				_exit(5);
		}
	}
	_exit(0);
}

static void kill_rounds(const char *p, bool diff)
{
	for (unsigned round = 1; round <= 5; round++) {
		int pfd[2];
		assert_int_equal(pipe(pfd), 0);
		pid_t pid = fork();
		assert_true(pid >= 0);
		if (pid == 0) {
			close(pfd[0]);
			kill_child(p, pfd[1], round);
		}
		close(pfd[1]);
		usleep(5000 + (useconds_t)(rand() % 60000));
		kill(pid, SIGKILL);
		int st;
		assert_int_equal(waitpid(pid, &st, 0), pid);
		assert_true(WIFSIGNALED(st) || (WIFEXITED(st) && WEXITSTATUS(st) == 0));
		int64_t acked = -1;
		uint32_t k;
		while (read(pfd[0], &k, sizeof(k)) == sizeof(k))
			acked = k;
		close(pfd[0]);
		struct block_dev *bd = open_img(p, 0);
		struct block_check res = {0};
		assert_int_equal(block_check(bd, false, &res), 0);
		assert_int_equal(res.corruptions, 0);
		uint8_t want[KILL_RECORD];
		for (int64_t j = 0; j <= acked; j++) {
			fill(want, sizeof(want), kill_slot((uint32_t)j),
			     round * 10000 + (unsigned)j);
			expect(bd, want, sizeof(want), kill_slot((uint32_t)j));
		}
		for (uint32_t j = 0; j < KILL_SLOTS; j += 7) {
			uint64_t off = (uint64_t)j * 4096 + KILL_RECORD;
			if (diff)
				fill(want, sizeof(want), off, 1);
			else
				memset(want, 0, sizeof(want));
			expect(bd, want, sizeof(want), off);
		}
		block_close(bd);
	}
}

static void test_sigkill(void **state)
{
	(void)state;
	srand(7);
	const char *p = tmp("kill.vhd");
	create(p, KILL_SLOTS * 4096ull, false, 65536, NULL);
	kill_rounds(p, false);

	const char *base = tmp("kill-base.vhd"), *child = tmp("kill-child.vhd");
	create(base, KILL_SLOTS * 4096ull, false, 65536, NULL);
	uint8_t *img = malloc(KILL_SLOTS * 4096ull);
	fill(img, KILL_SLOTS * 4096ull, 0, 1);
	struct block_dev *bd = open_img(base, 0);
	assert_int_equal(block_pwrite(bd, img, KILL_SLOTS * 4096ull, 0), 0);
	block_close(bd);
	free(img);
	create(child, 0, false, 65536, "kill-base.vhd");
	kill_rounds(child, true);
}

/* --- hostile images -------------------------------------------------------- */

struct corruption {
	const char *what;
	off_t at; /* -1: the footer at the end (both copies for footer fields) */
	unsigned len;
	uint64_t value;
	bool footer; /* a footer field: both copies changed and resealed */
	bool header; /* a header field: resealed */
	const char *msg;
};

static void put_field(uint8_t *p, unsigned len, uint64_t v)
{
	for (unsigned i = 0; i < len; i++)
		p[i] = (uint8_t)(v >> (8 * (len - 1 - i)));
}

static void test_hostile(void **state)
{
	(void)state;
	static const struct corruption cases[] = {
	    {"cookie", VF_COOKIE, 4, 0x41414141, true, false, "not a VHD"},
	    {"version", VF_VERSION, 4, 0x00020000, true, false, "version"},
	    {"type", VF_DISK_TYPE, 4, 7, true, false, "disk type 7"},
	    {"size", VF_CUR_SIZE, 8, 3000ull << 30, true, false, "2040 GiB"},
	    {"header offset", VF_DATA_OFFSET, 8, 1ull << 40, true, false, "header's offset"},
	    {"header offset odd", VF_DATA_OFFSET, 8, 700, true, false, "header's offset"},
	    {"header cookie", 512 + VH_COOKIE, 4, 0x41414141, false, true, "cxsparse"},
	    {"header version", 512 + VH_VERSION, 4, 0x00050000, false, true, "version"},
	    {"block size", 512 + VH_BLOCK_SIZE, 4, 3000, false, true, "block size"},
	    {"block size big", 512 + VH_BLOCK_SIZE, 4, 1u << 30, false, true, "block size"},
	    {"entries", 512 + VH_MAX_ENTRIES, 4, 1, false, true, "too few"},
	    {"entries huge", 512 + VH_MAX_ENTRIES, 4, 0x40000000, false, true, "BAT"},
	    {"bat offset", 512 + VH_TABLE_OFFSET, 8, 1ull << 40, false, true, "BAT"},
	    {"bat unaligned", 512 + VH_TABLE_OFFSET, 8, 1537, false, true, "BAT"},
	    {"bat on header", 512 + VH_TABLE_OFFSET, 8, 1024, false, true, "overlaps"},
	    {"bat entry", 1536, 4, 2, false, false, "BAT entry 0"},
	    {"header checksum", 512 + VH_CHECKSUM, 4, 1, false, false, "checksum"},
	};
	const char *good = tmp("good.vhd"), *bad = tmp("bad.vhd");
	create(good, 4 * MiB, false, 65536, NULL);
	uint64_t size = file_size(good);
	uint8_t *img = malloc(size);
	peek(good, 0, img, size);
	for (size_t k = 0; k < sizeof(cases) / sizeof(cases[0]); k++) {
		const struct corruption *c = &cases[k];
		uint8_t *m = malloc(size);
		memcpy(m, img, size);
		if (c->footer) {
			put_field(m + c->at, c->len, c->value);
			vhd_footer_seal(m);
			memcpy(m + size - 512, m, 512);
		} else {
			put_field(m + c->at, c->len, c->value);
			if (c->header)
				vhd_header_seal(m + 512);
		}
		unlink(bad);
		int fd = open(bad, O_CREAT | O_WRONLY, 0644);
		assert_int_equal(write(fd, m, size), (ssize_t)size);
		close(fd);
		char err[512];
		int r = open_error(bad, err, sizeof(err));
		if (r == 0 || !strstr(err, c->msg) || !strstr(err, bad))
			fail_msg("%s: r=%d err='%s', want '%s'", c->what, r, err, c->msg);
		free(m);
	}
	/* Footer checksums: a broken footer at the end of a dynamic disk falls
	 * back to the copy; both broken is refused. */
	uint8_t *m = malloc(size);
	memcpy(m, img, size);
	m[size - 512 + VF_TIMESTAMP] ^= 1;
	unlink(bad);
	int fd = open(bad, O_CREAT | O_WRONLY, 0644);
	assert_int_equal(write(fd, m, size), (ssize_t)size);
	close(fd);
	char err[512];
	assert_int_equal(open_error(bad, err, sizeof(err)), 0);
	m[VF_TIMESTAMP] ^= 1;
	patch(bad, 0, m, 512);
	assert_true(open_error(bad, err, sizeof(err)) < 0);
	assert_non_null(strstr(err, "checksum"));
	/* A fixed disk shorter than its footer says. */
	const char *fx = tmp("shortfixed.vhd");
	create(fx, MiB, true, 0, NULL);
	uint8_t f[512];
	peek(fx, MiB, f, 512);
	fd = open(fx, O_RDWR);
	assert_int_equal(ftruncate(fd, MiB / 2), 0);
	close(fd);
	patch(fx, MiB / 2, f, 512);
	assert_true(open_error(fx, err, sizeof(err)) < 0);
	assert_non_null(strstr(err, "truncated"));
	/* Too small, and empty. */
	fd = open(bad, O_WRONLY | O_TRUNC);
	assert_int_equal(write(fd, "conectix", 8), 8);
	close(fd);
	assert_true(open_error(bad, err, sizeof(err)) < 0);
	assert_non_null(strstr(err, "too small"));
	free(m);
	free(img);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_check_repair),
	    cmocka_unit_test(test_lost_footer),
	    cmocka_unit_test(test_sigkill),
	    cmocka_unit_test(test_hostile),
	};
	return cmocka_run_group_tests(tests, setup_dir, teardown_dir);
}
