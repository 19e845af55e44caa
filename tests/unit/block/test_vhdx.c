/* The VHDX driver: dynamic, fixed, 4 KiB-sector and differencing images made
 * and read back, concurrency, discard and write-zeroes, resize (with the BAT
 * moving), check and repair, SIGKILL crash safety, and interoperability
 * with qemu-img's "vhdx". */
#include "vhdx_fixture.h"

#include <signal.h>
#include <sys/wait.h>
#include <time.h>

/* --- round trips -------------------------------------------------------- */

static void test_dynamic_roundtrip(void **state)
{
	(void)state;
	const char *p = tmp("dyn.vhdx");
	const uint64_t size = 40 * MiB;
	create(p, size, (struct copts){.block = 1 * MiB});
	uint8_t *shadow = calloc(1, size);
	struct block_dev *bd = open_img(p, 0);
	assert_int_equal(block_size(bd), size);
	struct block_info info;
	assert_int_equal(block_get_info(bd, &info), 0);
	assert_string_equal(info.subformat, "dynamic");
	assert_int_equal(info.block_size, MiB);
	/* Unallocated space reads as zeroes. */
	check_read(bd, shadow, 0, 2 * MiB);
	/* Writes at random sector offsets, across block boundaries, from
	 * several odd-sized buffers at once. */
	srand(7);
	for (int k = 0; k < 60; k++) {
		uint64_t off = (uint64_t)(rand() % (int)(size / 512 - 600)) * 512;
		size_t sizes[3] = {(size_t)(rand() % 5000) + 1, (size_t)(rand() % 70000) + 1, 0};
		size_t total = sizes[0] + sizes[1];
		size_t pad = 512 - total % 512;
		sizes[2] = pad ? pad : 512;
		total += sizes[2];
		uint8_t *buf = malloc(total);
		fill(buf, total, off, (unsigned)k);
		struct iovec iov[3] = {{buf, sizes[0]},
				       {buf + sizes[0], sizes[1]},
				       {buf + sizes[0] + sizes[1], sizes[2]}};
		assert_int_equal(writev_sync(bd, iov, 3, off), 0);
		memcpy(shadow + off, buf, total);
		free(buf);
	}
	check_read(bd, shadow, 0, size);
	block_close(bd);
	bd = open_img(p, BLOCK_RDONLY);
	check_read(bd, shadow, 0, size);
	block_close(bd);
	free(shadow);
}

/* 32 requests in flight on p, whose contents are shadow, each of 64 buffers
 * of 300 and 724 bytes; pairs race to allocate the same block. */
static void run_concurrent(const char *p, uint8_t *shadow, uint64_t size)
{
	struct block_dev *bd = open_img(p, 0);
	enum { N = 32, PIECES = 64 };
	static struct block_req reqs[N];
	static struct iovec iovs[N][PIECES];
	uint8_t *bufs[N];
	struct waiter w = {.done = 0};
	pthread_mutex_init(&w.lock, NULL);
	pthread_cond_init(&w.cond, NULL);
	for (int k = 0; k < N; k++) {
		/* Even: inside the block at base; odd: from the end of the block
		 * before into it. Both allocate it at once; none overlap. */
		uint64_t base = (uint64_t)(k / 2 + 1) * 2 * MiB;
		uint64_t off = k % 2 ? base - 8192 : base + 65536;
		size_t len = PIECES * 512;
		assert_true(off + len <= size);
		bufs[k] = malloc(len);
		fill(bufs[k], len, off, 100 + (unsigned)k);
		memcpy(shadow + off, bufs[k], len);
		size_t at = 0;
		for (int i = 0; i < PIECES; i++) {
			size_t l = i % 2 ? 300 : 724;
			iovs[k][i] = (struct iovec){bufs[k] + at, l};
			at += l;
		}
		reqs[k] = (struct block_req){.op = BLOCK_OP_WRITE,
					     .offset = off,
					     .iov = iovs[k],
					     .niov = PIECES,
					     .done = on_done,
					     .opaque = &w};
	}
	for (int k = 0; k < N; k++)
		block_submit(bd, &reqs[k]);
	pthread_mutex_lock(&w.lock);
	while (w.done < N)
		pthread_cond_wait(&w.cond, &w.lock);
	pthread_mutex_unlock(&w.lock);
	block_drain(bd);
	assert_int_equal(w.status, 0);
	/* Reads in flight together too, scattered the same way. */
	w.done = 0;
	for (int k = 0; k < N; k++) {
		memset(bufs[k], 0xee, PIECES * 512);
		reqs[k].op = BLOCK_OP_READ;
		block_submit(bd, &reqs[k]);
	}
	pthread_mutex_lock(&w.lock);
	while (w.done < N)
		pthread_cond_wait(&w.cond, &w.lock);
	pthread_mutex_unlock(&w.lock);
	block_drain(bd);
	assert_int_equal(w.status, 0);
	for (int k = 0; k < N; k++) {
		assert_memory_equal(bufs[k], shadow + reqs[k].offset, PIECES * 512);
		free(bufs[k]);
	}
	check_read(bd, shadow, 0, size);
	block_close(bd);
	bd = open_img(p, BLOCK_RDONLY);
	check_read(bd, shadow, 0, size);
	block_close(bd);
}

static void test_iovecs_and_concurrency(void **state)
{
	(void)state;
	const uint64_t size = 40 * MiB;
	uint8_t *shadow = calloc(1, size);
	const char *p = tmp("conc.vhdx");
	create(p, size, (struct copts){.block = 1 * MiB});
	run_concurrent(p, shadow, size);
	if (have_qemu_img())
		assert_int_equal(sh("qemu-img check -q -f vhdx %s", p), 0);
	/* The same on differencing disks over a patterned parent. */
	for (unsigned ls = 512; ls <= 4096; ls += 3584) {
		const char *par = tmp("cpar.vhdx"), *child = tmp("cchild.vhdx");
		create(par, size, (struct copts){.block = 1 * MiB, .ls = ls});
		fill(shadow, size, 0, 3);
		struct block_dev *bd = open_img(par, 0);
		assert_int_equal(block_pwrite(bd, shadow, size, 0), 0);
		block_close(bd);
		unlink(child);
		create(child, 0, (struct copts){.parent = "cpar.vhdx", .block = 1 * MiB});
		run_concurrent(child, shadow, size);
	}
	free(shadow);
}

static void test_fixed_and_4k(void **state)
{
	(void)state;
	const char *p = tmp("fixed.vhdx");
	create(p, 8 * MiB, (struct copts){.fixed = true, .block = 2 * MiB});
	struct stat st;
	assert_int_equal(stat(p, &st), 0);
	assert_true((uint64_t)st.st_size >= 8 * MiB + 3 * MiB);
	struct block_dev *bd = open_img(p, 0);
	struct block_info info;
	assert_int_equal(block_get_info(bd, &info), 0);
	assert_string_equal(info.subformat, "fixed");
	uint8_t *buf = malloc(MiB);
	fill(buf, MiB, 3 * MiB, 5);
	assert_int_equal(block_pwrite(bd, buf, MiB, 3 * MiB + 512), 0);
	block_close(bd);
	struct stat st2;
	assert_int_equal(stat(p, &st2), 0);
	assert_int_equal(st.st_size, st2.st_size); /* nothing allocated */
	bd = open_img(p, BLOCK_RDONLY);
	check_read(bd, buf, 3 * MiB + 512, MiB);
	block_close(bd);

	const char *q = tmp("4k.vhdx");
	create(q, 16 * MiB, (struct copts){.ls = 4096});
	bd = open_img(q, 0);
	assert_int_equal(block_logical_sector(bd), 4096);
	assert_int_equal(block_get_info(bd, &info), 0);
	assert_int_equal(info.logical_sector, 4096);
	assert_int_equal(info.block_size, 32 * MiB);
	assert_int_equal(block_pwrite(bd, buf, MiB, 5 * MiB), 0);
	check_read(bd, buf, 5 * MiB, MiB);
	block_close(bd);
	free(buf);
}

/* --- differencing disks --------------------------------------------------- */

static void test_differencing(void **state)
{
	(void)state;
	const uint64_t size = 12 * MiB;
	for (unsigned ls = 512; ls <= 4096; ls += 3584) {
		const char *par = tmp("par.vhdx"), *child = tmp("child.avhdx");
		create(par, size, (struct copts){.block = 1 * MiB, .ls = ls});
		uint8_t *shadow = malloc(size);
		fill(shadow, size, 0, 9);
		struct block_dev *bd = open_img(par, 0);
		assert_int_equal(block_pwrite(bd, shadow, size, 0), 0);
		block_close(bd);
		unlink(child);
		create(child, 0, (struct copts){.parent = "par.vhdx", .block = 1 * MiB});
		bd = open_img(child, 0);
		assert_int_equal(block_size(bd), size);
		assert_int_equal(block_logical_sector(bd), ls);
		assert_non_null(block_backing(bd));
		struct block_info info;
		assert_int_equal(block_get_info(bd, &info), 0);
		assert_string_equal(info.subformat, "differencing");
		assert_string_equal(info.parent, "par.vhdx");
		check_read(bd, shadow, 0, size);
		/* Small writes inside blocks (new and partially present), a
		 * whole-block write, and 512-byte writes inside 4 KiB sectors. */
		static const uint64_t offs[] = {512,	 3 * MiB + 4096, 3 * MiB + 8192 + 512,
						5 * MiB, 7 * MiB - 512,	 11 * MiB + 1536};
		static const size_t lens[] = {512, 8192, 1024, MiB, 1024, 512};
		for (unsigned k = 0; k < 6; k++) {
			uint8_t *b = malloc(lens[k]);
			fill(b, lens[k], offs[k], 40 + k);
			assert_int_equal(block_pwrite(bd, b, lens[k], offs[k]), 0);
			memcpy(shadow + offs[k], b, lens[k]);
			free(b);
		}
		check_read(bd, shadow, 0, size);
		/* Write-zeroes over a whole not-present block and a part of one. */
		struct block_req z = {.op = BLOCK_OP_WRITE_ZEROES, .offset = 9 * MiB, .len = MiB};
		struct waiter w = {.done = 0};
		pthread_mutex_init(&w.lock, NULL);
		pthread_cond_init(&w.cond, NULL);
		z.done = on_done;
		z.opaque = &w;
		block_submit(bd, &z);
		block_drain(bd);
		memset(shadow + 9 * MiB, 0, MiB);
		struct block_req z2 = z;
		z2.offset = 10 * MiB + 4096;
		z2.len = 8192;
		block_submit(bd, &z2);
		block_drain(bd);
		assert_int_equal(w.status, 0);
		memset(shadow + 10 * MiB + 4096, 0, 8192);
		check_read(bd, shadow, 0, size);
		block_close(bd);
		/* The parent did not change; the child reads the same reopened. */
		bd = open_img(par, BLOCK_RDONLY);
		uint8_t *orig = malloc(size);
		fill(orig, size, 0, 9);
		check_read(bd, orig, 0, size);
		block_close(bd);
		bd = open_img(child, BLOCK_RDONLY);
		check_read(bd, shadow, 0, size);
		block_close(bd);
		/* A write to the parent breaks the chain: the child is refused. */
		bd = open_img(par, 0);
		assert_int_equal(block_pwrite(bd, orig, 512, 0), 0);
		block_close(bd);
		open_fails(child, BLOCK_RDONLY, "has changed");
		free(orig);
		free(shadow);
	}
}

static void test_parent_in_folder(void **state)
{
	(void)state;
	char sub[200];
	snprintf(sub, sizeof(sub), "%s/base", dir);
	mkdir(sub, 0755);
	const char *par = tmp("base/p.vhdx"), *child = tmp("c.avhdx");
	create(par, 4 * MiB, (struct copts){.block = 1 * MiB});
	uint8_t *b = malloc(4 * MiB);
	fill(b, 4 * MiB, 0, 61);
	struct block_dev *bd = open_img(par, 0);
	assert_int_equal(block_pwrite(bd, b, 4 * MiB, 0), 0);
	block_close(bd);
	create(child, 0, (struct copts){.parent = "base/p.vhdx"});
	bd = open_img(child, BLOCK_RDONLY);
	struct block_info info;
	assert_int_equal(block_get_info(bd, &info), 0);
	assert_string_equal(info.parent, "base/p.vhdx");
	assert_int_equal(info.block_size, 2 * MiB);
	check_read(bd, b, 0, 4 * MiB);
	block_close(bd);
	/* The locator holds u"base\\p.vhdx". */
	static const uint8_t want[] = {'b', 0, 'a', 0, 's', 0, 'e', 0, '\\', 0, 'p', 0};
	uint8_t *meta = malloc(MiB);
	peek(child, 2 * MiB, meta, MiB);
	assert_non_null(memmem(meta, MiB, want, sizeof(want)));
	free(meta);
	/* A raw parent works too (no linkage GUID to check). */
	const char *rp = tmp("r.raw"), *rc = tmp("rc.vhdx");
	int fd = open(rp, O_WRONLY | O_CREAT | O_TRUNC, 0644);
	assert_true(fd >= 0);
	assert_int_equal(write(fd, b, 4 * MiB), (ssize_t)(4 * MiB));
	close(fd);
	unlink(rc);
	create(rc, 0, (struct copts){.parent = "r.raw"});
	bd = open_img(rc, 0);
	assert_string_equal(block_format(block_backing(bd)), "raw");
	uint8_t x[1024];
	fill(x, sizeof(x), 77, 2);
	assert_int_equal(block_pwrite(bd, x, sizeof(x), MiB + 512), 0);
	memcpy(b + MiB + 512, x, sizeof(x));
	check_read(bd, b, 0, 4 * MiB);
	block_close(bd);
	fill(b, 4 * MiB, 0, 61);
	/* Gone parent: a clear refusal naming it. */
	assert_int_equal(rename(par, tmp("base/q.vhdx")), 0);
	open_fails(child, BLOCK_RDONLY, "p.vhdx");
	free(b);
}

/* --- discard, write-zeroes, resize ---------------------------------------- */

static int submit_one(struct block_dev *bd, enum block_op op, uint64_t off, uint64_t len)
{
	return submit_wait(bd, op, off, NULL, 0, len);
}

static void test_zeroes_discard(void **state)
{
	(void)state;
	const char *p = tmp("zero.vhdx");
	create(p, 8 * MiB, (struct copts){.block = 1 * MiB});
	struct block_dev *bd = open_img(p, 0);
	uint8_t *buf = malloc(8 * MiB);
	fill(buf, 8 * MiB, 0, 3);
	assert_int_equal(block_pwrite(bd, buf, 8 * MiB, 0), 0);
	assert_int_equal(submit_one(bd, BLOCK_OP_WRITE_ZEROES, MiB + 512, 3 * MiB), 0);
	memset(buf + MiB + 512, 0, 3 * MiB);
	check_read(bd, buf, 0, 8 * MiB);
	/* A discard may read back as anything, but the rest stays. */
	assert_int_equal(submit_one(bd, BLOCK_OP_DISCARD, 6 * MiB, MiB), 0);
	check_read(bd, buf, 0, 6 * MiB);
	check_read(bd, buf + 7 * MiB, 7 * MiB, MiB);
	block_close(bd);
	free(buf);
}

static void test_resize(void **state)
{
	(void)state;
	const char *p = tmp("grow.vhdx");
	create(p, 9 * MiB + 512, (struct copts){.block = 1 * MiB});
	struct block_dev *bd = open_img(p, 0);
	uint8_t buf[4096];
	fill(buf, sizeof(buf), 0, 11);
	assert_int_equal(block_pwrite(bd, buf, 512, 9 * MiB), 0);
	char err[512];
	assert_int_not_equal(block_resize(bd, 4 * MiB, err, sizeof(err)), 0);
	/* 200 GiB of 1 MiB blocks: more entries than the 1 MiB BAT holds. */
	const uint64_t big = 200ull << 30;
	if (block_resize(bd, big, err, sizeof(err)) != 0)
		fail_msg("resize: %s", err);
	assert_int_equal(block_size(bd), big);
	assert_int_equal(block_pwrite(bd, buf, sizeof(buf), big - 4096), 0);
	check_read(bd, buf, big - 4096, sizeof(buf));
	block_close(bd);
	bd = open_img(p, BLOCK_RDONLY);
	assert_int_equal(block_size(bd), big);
	check_read(bd, buf, big - 4096, sizeof(buf));
	check_read(bd, buf, 9 * MiB, 512);
	uint8_t z[1024] = {0};
	check_read(bd, z, 9 * MiB + 512, sizeof(z)); /* the old end's block past it */
	block_close(bd);
	if (have_qemu_img())
		assert_int_equal(sh("qemu-img check -q -f vhdx %s", p), 0);

	/* A fixed disk grows fixed: every new block is there at once. */
	const char *f = tmp("growfixed.vhdx");
	create(f, 4 * MiB, (struct copts){.fixed = true, .block = 1 * MiB});
	bd = open_img(f, 0);
	if (block_resize(bd, 7 * MiB, err, sizeof(err)) != 0)
		fail_msg("resize: %s", err);
	struct stat st;
	assert_int_equal(stat(f, &st), 0);
	assert_true((uint64_t)st.st_size >= 3 * MiB + MiB + 7 * MiB);
	assert_int_equal(block_pwrite(bd, buf, sizeof(buf), 6 * MiB), 0);
	block_close(bd);
	assert_int_equal(stat(f, &st), 0);
	assert_true((uint64_t)st.st_size == 3 * MiB + MiB + 7 * MiB); /* nothing new */
	bd = open_img(f, BLOCK_RDONLY);
	struct block_info info;
	assert_int_equal(block_get_info(bd, &info), 0);
	assert_string_equal(info.subformat, "fixed");
	check_read(bd, buf, 6 * MiB, sizeof(buf));
	check_read(bd, z, 5 * MiB, sizeof(z));
	block_close(bd);
	if (have_qemu_img())
		assert_int_equal(sh("qemu-img check -q -f vhdx %s", f), 0);
}

/* --- check ---------------------------------------------------------------- */

static unsigned lines;
static void count_line(void *opaque, const char *line)
{
	(void)opaque;
	(void)line;
	lines++;
}

static void test_check_repair(void **state)
{
	(void)state;
	const char *p = tmp("chk.vhdx");
	create(p, 8 * MiB, (struct copts){.block = 1 * MiB});
	struct block_dev *bd = open_img(p, 0);
	uint8_t *buf = malloc(3 * MiB);
	fill(buf, 3 * MiB, 0, 1);
	assert_int_equal(block_pwrite(bd, buf, 3 * MiB, 0), 0);
	struct block_check res = {.report = count_line};
	assert_int_equal(block_check(bd, false, &res), 0);
	assert_int_equal(res.corruptions, 0);
	assert_int_equal(res.leaks, 0);
	block_close(bd);
	/* Block 1 points at block 0's space, block 2 past the end, and 3 MiB
	 * of junk hang off the end. */
	uint8_t e[8];
	peek(p, 3 * MiB, e, 8); /* entry 0 */
	patch(p, 3 * MiB + 8, e, 8);
	uint64_t past = (64 * MiB) | VHDX_PAYLOAD_FULLY_PRESENT;
	vhdx_put64(e, past);
	patch(p, 3 * MiB + 16, e, 8);
	struct stat st;
	assert_int_equal(stat(p, &st), 0);
	assert_int_equal(truncate(p, st.st_size + 3 * (off_t)MiB), 0);
	bd = open_img(p, 0);
	assert_int_equal(block_pread(bd, buf, 512, 2 * MiB), -EIO);
	res = (struct block_check){.report = count_line};
	lines = 0;
	assert_int_equal(block_check(bd, false, &res), 0);
	assert_int_equal(res.corruptions, 2);
	assert_int_equal(res.leaks, 0); /* unused space at the end is only noted */
	assert_true(lines >= 3);
	res = (struct block_check){.report = count_line};
	assert_int_equal(block_check(bd, true, &res), 0);
	assert_true(res.repaired >= 3);
	res = (struct block_check){.report = count_line};
	lines = 0;
	assert_int_equal(block_check(bd, false, &res), 0);
	assert_int_equal(res.corruptions, 0);
	assert_int_equal(res.leaks, 0);
	assert_int_equal(lines, 0); /* the unused end went back */
	struct stat st2;
	assert_int_equal(stat(p, &st2), 0);
	assert_int_equal(st2.st_size, 5 * MiB); /* up to block 0 */
	uint8_t z[512] = {0};
	check_read(bd, z, 2 * MiB, 512); /* not present now */
	check_read(bd, buf, 0, 512);
	block_close(bd);
	if (have_qemu_img())
		assert_int_equal(sh("qemu-img check -q -f vhdx %s", p), 0);
	free(buf);
}

/* --- crash safety --------------------------------------------------------- */

#define REC_LEN (64u * 1024)
#define RECS	48

static uint64_t rec_off(unsigned i)
{
	return (uint64_t)i * (MiB + REC_LEN); /* each record in a new block */
}

/* The child: writes records, acknowledging each group after a flush. */
static void writer(const char *p, int ack)
{
	char err[512];
	struct block_dev *bd;
	if (block_open(p, "vhdx", 0, &bd, err, sizeof(err)) < 0)
		_exit(2);
	uint8_t *b = malloc(REC_LEN);
	for (unsigned i = 0; i < RECS; i++) {
		fill(b, REC_LEN, rec_off(i), 200 + i);
		if (block_pwrite(bd, b, REC_LEN, rec_off(i)) < 0)
			_exit(3);
		if (i % 3 == 2) {
			if (block_flush(bd) < 0)
				_exit(4);
			if (write(ack, &i, sizeof(i)) != sizeof(i))
				_exit(5);
		}
	}
	_exit(0);
}

static void test_sigkill(void **state)
{
	(void)state;
	srand((unsigned)time(NULL));
	for (int round = 0; round < 6; round++) {
		const char *p = tmp("crash.vhdx");
		create(p, rec_off(RECS) + MiB, (struct copts){.block = 1 * MiB});
		int fds[2];
		assert_int_equal(pipe(fds), 0);
		pid_t pid = fork();
		assert_true(pid >= 0);
		if (pid == 0) {
			close(fds[0]);
			writer(p, fds[1]);
		}
		close(fds[1]);
		/* Kill it at a random moment after it got going. */
		int acked = -1;
		unsigned i;
		if (read(fds[0], &i, sizeof(i)) == sizeof(i))
			acked = (int)i;
		struct timespec ts = {0, (long)(rand() % 60) * 1000000L};
		nanosleep(&ts, NULL);
		kill(pid, SIGKILL);
		int status;
		assert_int_equal(waitpid(pid, &status, 0), pid);
		while (read(fds[0], &i, sizeof(i)) == sizeof(i))
			acked = (int)i;
		close(fds[0]);
		print_message("round %d: killed after record %d was acknowledged\n", round, acked);
		struct block_dev *bd = open_img(p, 0);
		uint8_t *want = malloc(REC_LEN);
		for (int k = 0; k <= acked; k++) {
			fill(want, REC_LEN, rec_off((unsigned)k), 200 + (unsigned)k);
			check_read(bd, want, rec_off((unsigned)k), REC_LEN);
		}
		struct block_check res = {.report = NULL};
		assert_int_equal(block_check(bd, false, &res), 0);
		assert_int_equal(res.corruptions, 0);
		block_close(bd);
		free(want);
		if (have_qemu_img())
			assert_int_equal(sh("qemu-img check -q -f vhdx %s", p), 0);
	}
}

/* --- qemu-img --------------------------------------------------------------- */

/* osio's images pass qemu-img check and compare equal to a raw file with
 * what was written. */
static void test_qemu_reads_ours(void **state)
{
	(void)state;
	if (!have_qemu_img())
		skip();
	static const struct copts kinds[] = {
	    {.block = 0}, {.block = 1 * MiB}, {.fixed = true, .block = 1 * MiB}, {.ls = 4096}};
	const uint64_t size = 24 * MiB;
	uint8_t *shadow = malloc(size);
	for (size_t k = 0; k < sizeof(kinds) / sizeof(kinds[0]); k++) {
		const char *p = tmp("ours.vhdx"), *raw = tmp("ours.raw");
		create(p, size, kinds[k]);
		memset(shadow, 0, size);
		struct block_dev *bd = open_img(p, 0);
		for (int i = 0; i < 12; i++) {
			uint64_t off = (uint64_t)(i * 1999 + 7) * 4096 % (size - MiB);
			size_t len = 73 * 4096;
			off -= off % 4096;
			fill(shadow + off, len, off, (unsigned)(k * 16 + i));
			assert_int_equal(block_pwrite(bd, shadow + off, len, off), 0);
		}
		block_close(bd);
		bd = open_img(p, BLOCK_RDONLY);
		check_read(bd, shadow, 0, size);
		block_close(bd);
		/* The raw twin: what was written. */
		int fd = open(raw, O_WRONLY | O_CREAT | O_TRUNC, 0644);
		assert_true(fd >= 0);
		assert_int_equal(write(fd, shadow, size), (ssize_t)size);
		close(fd);
		/* QEMU 7.2 opens no VHDX with 4 KiB logical sectors (ENOTSUP). */
		if (kinds[k].ls == 4096)
			continue;
		assert_int_equal(sh("qemu-img check -q -f vhdx %s", p), 0);
		assert_int_equal(sh("qemu-img compare -q -f vhdx -F raw %s %s", p, raw), 0);
	}
	free(shadow);
}

/* qemu-img's images read through osio byte for byte; qemu-io's writes into
 * osio's images read back. */
static void test_ours_reads_qemu(void **state)
{
	(void)state;
	if (!have_qemu_img())
		skip();
	const uint64_t size = 20 * MiB;
	const char *raw = tmp("src.raw");
	uint8_t *src = malloc(size);
	fill(src, size, 0, 21);
	memset(src + 4 * MiB, 0, 3 * MiB); /* a hole qemu-img leaves out */
	int fd = open(raw, O_WRONLY | O_CREAT | O_TRUNC, 0644);
	assert_true(fd >= 0);
	assert_int_equal(write(fd, src, size), (ssize_t)size);
	close(fd);
	static const char *const opts[] = {"subformat=dynamic", "subformat=fixed",
					   "subformat=dynamic,block_size=1048576",
					   "subformat=dynamic,block_size=8388608,log_size=2097152"};
	for (size_t k = 0; k < sizeof(opts) / sizeof(opts[0]); k++) {
		const char *p = tmp("theirs.vhdx");
		unlink(p);
		assert_int_equal(
		    sh("qemu-img convert -q -f raw -O vhdx -o %s %s %s", opts[k], raw, p), 0);
		struct block_dev *bd = open_img(p, BLOCK_RDONLY);
		assert_int_equal(block_size(bd), size);
		check_read(bd, src, 0, size);
		block_close(bd);
		/* Writes by osio on top keep qemu-img check happy. */
		bd = open_img(p, 0);
		uint8_t b[8192];
		fill(b, sizeof(b), 5 * MiB, 99);
		assert_int_equal(block_pwrite(bd, b, sizeof(b), 5 * MiB), 0);
		block_close(bd);
		memcpy(src + 5 * MiB, b, sizeof(b));
		assert_int_equal(sh("qemu-img check -q -f vhdx %s", p), 0);
		bd = open_img(p, BLOCK_RDONLY);
		check_read(bd, src, 0, size);
		block_close(bd);
		memset(src + 5 * MiB, 0, sizeof(b));
	}
	/* qemu-img create, then qemu-io writes (through QEMU's own log). */
	if (system("qemu-io --version >/dev/null 2>&1") == 0) {
		const char *p = tmp("qio.vhdx");
		unlink(p);
		assert_int_equal(sh("qemu-img create -q -f vhdx %s 16M", p), 0);
		assert_int_equal(sh("qemu-io -f vhdx -c 'write -P 0xab 1M 64k' "
				    "-c 'write -P 0xcd 9M 4k' %s >/dev/null",
				    p),
				 0);
		struct block_dev *bd = open_img(p, BLOCK_RDONLY);
		uint8_t *want = calloc(1, 16 * MiB);
		memset(want + MiB, 0xab, 65536);
		memset(want + 9 * MiB, 0xcd, 4096);
		check_read(bd, want, 0, 16 * MiB);
		block_close(bd);
		free(want);
	}
	free(src);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_dynamic_roundtrip),
	    cmocka_unit_test(test_iovecs_and_concurrency),
	    cmocka_unit_test(test_fixed_and_4k),
	    cmocka_unit_test(test_differencing),
	    cmocka_unit_test(test_parent_in_folder),
	    cmocka_unit_test(test_zeroes_discard),
	    cmocka_unit_test(test_resize),
	    cmocka_unit_test(test_check_repair),
	    cmocka_unit_test(test_sigkill),
	    cmocka_unit_test(test_qemu_reads_ours),
	    cmocka_unit_test(test_ours_reads_qemu),
	};
	return cmocka_run_group_tests(tests, setup_dir, teardown_dir);
}
