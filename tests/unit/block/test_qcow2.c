/* The qcow2 driver: round trips through allocation, copy-on-write from
 * backing files, zero and compressed clusters, resize, dirty-bit recovery,
 * check and repair, hostile headers, and interoperability with qemu-img
 * (images each side makes read byte for byte on the other). */
#include "devices/block/block.h"

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#define MIB (1ull << 20)

struct fixture {
	char dir[64];
};

static char *tmp(const struct fixture *f, const char *name)
{
	static char bufs[8][160];
	static unsigned next;
	char *b = bufs[next++ % 8];
	snprintf(b, sizeof(bufs[0]), "%s/%s", f->dir, name);
	return b;
}

static int setup(void **state)
{
	struct fixture *f = calloc(1, sizeof(*f));
	snprintf(f->dir, sizeof(f->dir), "/tmp/osio-qcow2-XXXXXX");
	assert_non_null(mkdtemp(f->dir));
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fixture *f = *state;
	char cmd[128];
	snprintf(cmd, sizeof(cmd), "rm -rf %s", f->dir);
	assert_int_equal(system(cmd), 0);
	free(f);
	return 0;
}

static uint8_t pattern(uint64_t i, unsigned seed)
{
	return (uint8_t)(i * 7 + (i >> 9) * 13 + seed * 29 + 1);
}

static void fill(uint8_t *b, size_t len, uint64_t off, unsigned seed)
{
	for (size_t i = 0; i < len; i++)
		b[i] = pattern(off + i, seed);
}

static bool have_qemu_img(void)
{
	return system("qemu-img --version >/dev/null 2>&1") == 0;
}

static int sh(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

static int sh(const char *fmt, ...)
{
	char cmd[1024];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(cmd, sizeof(cmd), fmt, ap);
	va_end(ap);
	int st = system(cmd);
	return WIFEXITED(st) ? WEXITSTATUS(st) : -1;
}

static void create(const char *path, uint64_t size, uint32_t cluster, const char *parent)
{
	struct block_create_opts o = {.size = size, .block_size = cluster, .parent = parent};
	char err[512] = "";
	int r = block_create(path, "qcow2", &o, err, sizeof(err));
	if (r)
		fail_msg("create %s: %d %s", path, r, err);
}

static struct block_dev *open_img(const char *path, unsigned flags)
{
	struct block_dev *bd = NULL;
	char err[512] = "";
	int r = block_open(path, NULL, flags, &bd, err, sizeof(err));
	if (r)
		fail_msg("open %s: %d %s", path, r, err);
	assert_string_equal(block_format(bd), "qcow2");
	return bd;
}

/* Opening fails with a message naming the file and containing `what`. */
static void open_fails(const char *path, unsigned flags, const char *what)
{
	struct block_dev *bd = NULL;
	char err[512] = "";
	int r = block_open(path, "qcow2", flags, &bd, err, sizeof(err));
	if (r == 0) {
		block_close(bd);
		fail_msg("%s opened; expected a refusal mentioning '%s'", path, what);
	}
	if (!strstr(err, path) || !strstr(err, what))
		fail_msg("message '%s' does not name %s and '%s'", err, path, what);
}

/* --- asynchronous requests ------------------------------------------------- */

struct waiter {
	pthread_mutex_t lock;
	pthread_cond_t cond;
	int done, status;
};

static void on_done(struct block_req *req, int status)
{
	struct waiter *w = req->opaque;
	pthread_mutex_lock(&w->lock);
	w->done++;
	if (status)
		w->status = status;
	pthread_cond_broadcast(&w->cond);
	pthread_mutex_unlock(&w->lock);
}

static int run(struct block_dev *bd, enum block_op op, uint64_t off, const struct iovec *iov,
	       unsigned niov, uint64_t len)
{
	struct waiter w = {.done = 0};
	pthread_mutex_init(&w.lock, NULL);
	pthread_cond_init(&w.cond, NULL);
	struct block_req req = {.op = op,
				.offset = off,
				.iov = iov,
				.niov = niov,
				.len = len,
				.done = on_done,
				.opaque = &w};
	block_submit(bd, &req);
	pthread_mutex_lock(&w.lock);
	while (!w.done)
		pthread_cond_wait(&w.cond, &w.lock);
	pthread_mutex_unlock(&w.lock);
	block_drain(bd);
	return w.status;
}

/* Writes buf in pieces of odd sizes (many iovecs). */
static int write_split(struct block_dev *bd, const uint8_t *buf, size_t len, uint64_t off)
{
	struct iovec iov[64];
	unsigned n = 0;
	size_t done = 0;
	while (done < len && n < 63) {
		size_t piece = 1 + (n * 977 + 13) % 6000;
		if (piece > len - done)
			piece = len - done;
		iov[n++] = (struct iovec){(void *)(buf + done), piece};
		done += piece;
	}
	if (done < len)
		iov[n++] = (struct iovec){(void *)(buf + done), len - done};
	return run(bd, BLOCK_OP_WRITE, off, iov, n, 0);
}

static int read_split(struct block_dev *bd, uint8_t *buf, size_t len, uint64_t off)
{
	struct iovec iov[64];
	unsigned n = 0;
	size_t done = 0;
	while (done < len && n < 63) {
		size_t piece = 1 + (n * 1231 + 7) % 5000;
		if (piece > len - done)
			piece = len - done;
		iov[n++] = (struct iovec){buf + done, piece};
		done += piece;
	}
	if (done < len)
		iov[n++] = (struct iovec){buf + done, len - done};
	return run(bd, BLOCK_OP_READ, off, iov, n, 0);
}

/* The whole disk equals shadow. */
static void verify(struct block_dev *bd, const uint8_t *shadow, uint64_t size)
{
	uint8_t *b = malloc(size);
	assert_int_equal(read_split(bd, b, size, 0), 0);
	for (uint64_t i = 0; i < size; i++)
		if (b[i] != shadow[i])
			fail_msg("byte 0x%llx: 0x%02x, expected 0x%02x", (unsigned long long)i,
				 b[i], shadow[i]);
	free(b);
}

static void write_file(const char *path, const void *buf, size_t len)
{
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0644);
	assert_true(fd >= 0);
	assert_int_equal(write(fd, buf, len), (ssize_t)len);
	close(fd);
}

static void patch(const char *path, uint64_t off, const void *b, size_t len)
{
	int fd = open(path, O_WRONLY);
	assert_true(fd >= 0);
	assert_int_equal(pwrite(fd, b, len, (off_t)off), (ssize_t)len);
	close(fd);
}

static uint64_t peek64(const char *path, uint64_t off)
{
	uint8_t b[8];
	int fd = open(path, O_RDONLY);
	assert_true(fd >= 0);
	assert_int_equal(pread(fd, b, 8, (off_t)off), 8);
	close(fd);
	uint64_t v = 0;
	for (int i = 0; i < 8; i++)
		v = v << 8 | b[i];
	return v;
}

static void poke64(const char *path, uint64_t off, uint64_t v)
{
	uint8_t b[8];
	for (int i = 0; i < 8; i++)
		b[i] = (uint8_t)(v >> (56 - 8 * i));
	patch(path, off, b, 8);
}

static void poke32(const char *path, uint64_t off, uint32_t v)
{
	uint8_t b[4] = {(uint8_t)(v >> 24), (uint8_t)(v >> 16), (uint8_t)(v >> 8), (uint8_t)v};
	patch(path, off, b, 4);
}

/* qemu-img check finds nothing, and the image's contents equal raw. */
static void qemu_agrees(const struct fixture *f, const char *img, const uint8_t *shadow,
			uint64_t size)
{
	if (!have_qemu_img())
		return;
	if (sh("qemu-img check -q %s", img) != 0) {
		sh("qemu-img check %s >&2", img);
		fail_msg("qemu-img check %s failed", img);
	}
	if (shadow) {
		char raw[160];
		snprintf(raw, sizeof(raw), "%s/expect.raw", f->dir);
		write_file(raw, shadow, size);
		if (sh("qemu-img compare -q -f qcow2 -F raw %s %s", img, raw) != 0)
			fail_msg("qemu-img compare: %s differs from what was written", img);
		unlink(raw);
	}
}

/* --- round trips ------------------------------------------------------------- */

static void test_create_info(void **state)
{
	struct fixture *f = *state;
	const char *p = tmp(f, "a.qcow2");
	create(p, 100 * MIB + 512, 0, NULL);
	struct block_dev *bd = open_img(p, 0);
	assert_int_equal(block_size(bd), 100 * MIB + 512);
	struct block_info info;
	assert_int_equal(block_get_info(bd, &info), 0);
	assert_string_equal(info.format, "qcow2");
	assert_int_equal(info.block_size, 65536);
	assert_int_equal(info.virtual_size, 100 * MIB + 512);
	assert_string_equal(info.parent, "");
	assert_false(info.dirty);
	/* A new image reads as zeroes. */
	uint8_t buf[4096];
	memset(buf, 0xaa, sizeof(buf));
	assert_int_equal(block_pread(bd, buf, sizeof(buf), 50 * MIB), 0);
	for (size_t i = 0; i < sizeof(buf); i++)
		assert_int_equal(buf[i], 0);
	block_close(bd);
	/* Never replaces a file. */
	struct block_create_opts o = {.size = MIB};
	char err[256];
	assert_int_equal(block_create(p, "qcow2", &o, err, sizeof(err)), -EEXIST);
	qemu_agrees(f, p, NULL, 0);
	/* Bad cluster sizes. */
	o.block_size = 3000;
	assert_int_equal(block_create(tmp(f, "b.qcow2"), "qcow2", &o, err, sizeof(err)), -EINVAL);
	assert_non_null(strstr(err, "cluster size"));
	o.block_size = 4u << 20;
	assert_int_equal(block_create(tmp(f, "b.qcow2"), "qcow2", &o, err, sizeof(err)), -EINVAL);
}

/* Writes at random offsets and lengths over many clusters and L2 tables
 * (4 KiB clusters: an L2 table covers 2 MiB), checked against a copy in
 * memory, after reopening, and by qemu-img. */
static void random_round_trip(const struct fixture *f, uint32_t cluster, uint64_t size,
			      unsigned seed)
{
	const char *p = tmp(f, "r.qcow2");
	unlink(p);
	create(p, size, cluster, NULL);
	uint8_t *shadow = calloc(1, size), *buf = malloc(MIB);
	struct block_dev *bd = open_img(p, 0);
	srand(seed);
	for (int i = 0; i < 300; i++) {
		uint64_t len = (uint64_t)(1 + rand() % 300) * 512;
		uint64_t off = (uint64_t)(rand() % (int)((size - len) / 512)) * 512;
		fill(buf, len, off, seed + (unsigned)i);
		assert_int_equal(write_split(bd, buf, len, off), 0);
		memcpy(shadow + off, buf, len);
	}
	verify(bd, shadow, size);
	assert_int_equal(block_flush(bd), 0);
	block_close(bd);
	bd = open_img(p, BLOCK_RDONLY);
	verify(bd, shadow, size);
	block_close(bd);
	qemu_agrees(f, p, shadow, size);
	free(shadow);
	free(buf);
}

static void test_random_4k(void **state)
{
	random_round_trip(*state, 4096, 24 * MIB, 1);
}

static void test_random_64k(void **state)
{
	random_round_trip(*state, 0, 40 * MIB, 2);
}

static void test_random_512(void **state)
{
	/* 512-byte clusters: many refcount blocks, and the refcount table
	 * (64 entries of 256 clusters) grows as the file does. */
	random_round_trip(*state, 512, 12 * MIB, 3);
}

struct worker {
	struct block_dev *bd;
	unsigned id;
	int status;
};

#define WORKERS	  6
#define WORK_SIZE (16 * MIB)

static void *writer_thread(void *arg)
{
	struct worker *w = arg;
	uint8_t *b = malloc(70000);
	/* Interleaved 48 KiB stripes, so that threads share L2 tables and
	 * allocate side by side. */
	for (uint64_t off = w->id * 49152; off + 49152 <= WORK_SIZE && !w->status;
	     off += WORKERS * 49152) {
		fill(b, 49152, off, 7);
		w->status = write_split(w->bd, b, 49152, off);
		if (!w->status)
			w->status = read_split(w->bd, b + 1000, 49152, off);
		for (uint64_t i = 0; i < 49152 && !w->status; i++)
			if (b[1000 + i] != pattern(off + i, 7))
				w->status = -EILSEQ;
	}
	free(b);
	return NULL;
}

static void test_concurrent(void **state)
{
	struct fixture *f = *state;
	const char *p = tmp(f, "c.qcow2");
	create(p, WORK_SIZE, 16384, NULL);
	struct block_dev *bd = open_img(p, 0);
	pthread_t t[WORKERS];
	struct worker w[WORKERS];
	for (unsigned i = 0; i < WORKERS; i++) {
		w[i] = (struct worker){bd, i, 0};
		pthread_create(&t[i], NULL, writer_thread, &w[i]);
	}
	for (unsigned i = 0; i < WORKERS; i++) {
		pthread_join(t[i], NULL);
		assert_int_equal(w[i].status, 0);
	}
	/* Many requests in flight at once, overwriting in place. */
	enum { N = 48 };
	static uint8_t bufs[N][8192];
	static struct iovec iov[N];
	static struct block_req req[N];
	struct waiter wt = {.done = 0};
	pthread_mutex_init(&wt.lock, NULL);
	pthread_cond_init(&wt.cond, NULL);
	for (int i = 0; i < N; i++) {
		fill(bufs[i], 8192, (uint64_t)i * 300000 & ~511ull, 9);
		iov[i] = (struct iovec){bufs[i], 8192};
		req[i] = (struct block_req){.op = BLOCK_OP_WRITE,
					    .offset = (uint64_t)i * 300000 & ~511ull,
					    .iov = &iov[i],
					    .niov = 1,
					    .done = on_done,
					    .opaque = &wt};
	}
	for (int i = 0; i < N; i++)
		block_submit(bd, &req[i]);
	block_drain(bd);
	assert_int_equal(wt.done, N);
	assert_int_equal(wt.status, 0);
	uint8_t *shadow = malloc(WORK_SIZE);
	fill(shadow, WORK_SIZE, 0, 7);
	for (int i = 0; i < N; i++)
		fill(shadow + ((uint64_t)i * 300000 & ~511ull), 8192,
		     (uint64_t)i * 300000 & ~511ull, 9);
	/* The tail past the last whole stripe group was never written. */
	uint64_t stripes = WORK_SIZE / 49152;
	memset(shadow + stripes * 49152, 0, WORK_SIZE - stripes * 49152);
	for (int i = 0; i < N; i++) {
		uint64_t o = (uint64_t)i * 300000 & ~511ull;
		if (o + 8192 > stripes * 49152)
			fill(shadow + o, 8192, o, 9);
	}
	verify(bd, shadow, WORK_SIZE);
	block_close(bd);
	qemu_agrees(f, p, shadow, WORK_SIZE);
	free(shadow);
}

/* Every sector of unallocated clusters written by its own request, all in
 * flight at once: writes allocating one cluster side by side lose nothing. */
static void test_concurrent_same_cluster(void **state)
{
	struct fixture *f = *state;
	const char *p = tmp(f, "s.qcow2"), *base = tmp(f, "sbase.qcow2");
	enum { SECTORS = 1024 };
	create(base, 2 * MIB, 0, NULL);
	struct block_dev *bd = open_img(base, 0);
	uint8_t *shadow = malloc(2 * MIB);
	fill(shadow, 2 * MIB, 0, 13);
	assert_int_equal(block_pwrite(bd, shadow, 2 * MIB, 0), 0);
	block_close(bd);
	/* Over a parent too: each allocation copies the rest of its cluster. */
	for (int pass = 0; pass < 2; pass++) {
		unlink(p);
		create(p, 2 * MIB, 0, pass ? "sbase.qcow2" : NULL);
		bd = open_img(p, 0);
		uint8_t *bufs = malloc(SECTORS * 512);
		struct iovec *iov = calloc(SECTORS, sizeof(*iov));
		struct block_req *req = calloc(SECTORS, sizeof(*req));
		struct waiter w = {.done = 0};
		pthread_mutex_init(&w.lock, NULL);
		pthread_cond_init(&w.cond, NULL);
		/* Sectors 0, 2, 4, ... of the first MiB, in a scattered order. */
		for (int i = 0; i < SECTORS; i++) {
			uint64_t s = (uint64_t)((i * 389) % SECTORS) * 2;
			fill(bufs + i * 512, 512, s * 512, 17);
			iov[i] = (struct iovec){bufs + i * 512, 512};
			req[i] = (struct block_req){.op = BLOCK_OP_WRITE,
						    .offset = s * 512,
						    .iov = &iov[i],
						    .niov = 1,
						    .done = on_done,
						    .opaque = &w};
		}
		for (int i = 0; i < SECTORS; i++)
			block_submit(bd, &req[i]);
		block_drain(bd);
		assert_int_equal(w.done, SECTORS);
		assert_int_equal(w.status, 0);
		uint8_t *want = malloc(2 * MIB);
		if (pass)
			memcpy(want, shadow, 2 * MIB);
		else
			memset(want, 0, 2 * MIB);
		for (uint64_t s = 0; s < 2 * SECTORS; s += 2)
			fill(want + s * 512, 512, s * 512, 17);
		verify(bd, want, 2 * MIB);
		block_close(bd);
		qemu_agrees(f, p, want, 2 * MIB);
		free(want);
		free(bufs);
		free(iov);
		free(req);
	}
	free(shadow);
}

/* --- backing files ------------------------------------------------------------ */

static void test_backing(void **state)
{
	struct fixture *f = *state;
	const uint64_t size = 8 * MIB;
	const char *base = tmp(f, "base.qcow2"), *over = tmp(f, "over.qcow2");
	create(base, size, 0, NULL);
	uint8_t *shadow = malloc(size);
	fill(shadow, size, 0, 3);
	struct block_dev *bd = open_img(base, 0);
	assert_int_equal(block_pwrite(bd, shadow, size, 0), 0);
	block_close(bd);
	/* Relative to the overlay's folder. */
	create(over, 0, 0, "base.qcow2");
	bd = open_img(over, 0);
	assert_int_equal(block_size(bd), size);
	assert_non_null(block_backing(bd));
	struct block_info info;
	assert_int_equal(block_get_info(bd, &info), 0);
	assert_string_equal(info.parent, "base.qcow2");
	verify(bd, shadow, size);
	/* Partial writes: the rest of the cluster comes from the parent. */
	uint8_t buf[3000 * 2];
	fill(buf, 1536, 0, 11);
	assert_int_equal(block_pwrite(bd, buf, 1536, 65536 + 4096), 0);
	memcpy(shadow + 65536 + 4096, buf, 1536);
	fill(buf, 4096, 0, 12);
	assert_int_equal(block_pwrite(bd, buf, 4096, 3 * 65536 - 2048), 0);
	memcpy(shadow + 3 * 65536 - 2048, buf, 4096);
	/* Zeroes over the parent's data: a zero cluster and a partial one. */
	assert_int_equal(run(bd, BLOCK_OP_WRITE_ZEROES, 5 * 65536, NULL, 0, 65536 + 1024), 0);
	memset(shadow + 5 * 65536, 0, 65536 + 1024);
	verify(bd, shadow, size);
	block_close(bd);
	/* The parent did not change. */
	bd = open_img(base, BLOCK_RDONLY);
	uint8_t *orig = malloc(size);
	fill(orig, size, 0, 3);
	verify(bd, orig, size);
	block_close(bd);
	bd = open_img(over, BLOCK_RDONLY);
	verify(bd, shadow, size);
	block_close(bd);
	qemu_agrees(f, over, shadow, size);
	free(shadow);
	free(orig);
}

/* A missing parent: the message names both files. */
static void test_backing_missing(void **state)
{
	struct fixture *f = *state;
	const char *base = tmp(f, "gone.qcow2"), *over = tmp(f, "child.qcow2");
	create(base, MIB, 0, NULL);
	create(over, 0, 0, "gone.qcow2");
	unlink(base);
	open_fails(over, BLOCK_RDONLY, "gone.qcow2");
}

/* --- zeroes, discard, resize ---------------------------------------------------- */

static void test_zero_discard(void **state)
{
	struct fixture *f = *state;
	const char *p = tmp(f, "z.qcow2");
	const uint64_t size = 4 * MIB;
	create(p, size, 0, NULL);
	uint8_t *shadow = malloc(size);
	fill(shadow, size, 0, 5);
	struct block_dev *bd = open_img(p, 0);
	assert_int_equal(block_pwrite(bd, shadow, size, 0), 0);
	assert_int_equal(run(bd, BLOCK_OP_WRITE_ZEROES, 65536 + 512, NULL, 0, 3 * 65536), 0);
	memset(shadow + 65536 + 512, 0, 3 * 65536);
	assert_int_equal(run(bd, BLOCK_OP_DISCARD, 10 * 65536, NULL, 0, 4 * 65536), 0);
	memset(shadow + 10 * 65536, 0, 4 * 65536);
	verify(bd, shadow, size);
	assert_int_equal(block_flush(bd), 0);
	/* Freed clusters are used again after the flush: the rest of a
	 * partly written one reads as zeroes, not as what it held. */
	uint8_t buf[65536];
	fill(buf, sizeof(buf), 0, 6);
	assert_int_equal(run(bd, BLOCK_OP_DISCARD, 30 * 65536, NULL, 0, 65536), 0);
	assert_int_equal(block_flush(bd), 0);
	assert_int_equal(block_pwrite(bd, buf, 4096, 30 * 65536 + 8192), 0);
	memset(shadow + 30 * 65536, 0, 65536);
	memcpy(shadow + 30 * 65536 + 8192, buf, 4096);
	block_close(bd);
	struct stat st;
	assert_int_equal(stat(p, &st), 0);
	assert_true((uint64_t)st.st_size < size + 8 * 65536);
	bd = open_img(p, BLOCK_RDONLY);
	verify(bd, shadow, size);
	block_close(bd);
	qemu_agrees(f, p, shadow, size);
	free(shadow);
}

static void test_resize(void **state)
{
	struct fixture *f = *state;
	const char *p = tmp(f, "g.qcow2");
	/* 512-byte clusters: an L2 table covers 32 KiB and the L1 table of
	 * 1 MiB fits one cluster; 8 MiB needs four. */
	create(p, MIB, 512, NULL);
	struct block_dev *bd = open_img(p, 0);
	uint8_t *shadow = calloc(1, 8 * MIB);
	fill(shadow, MIB, 0, 8);
	assert_int_equal(block_pwrite(bd, shadow, MIB, 0), 0);
	char err[256];
	assert_int_equal(block_resize(bd, 8 * MIB, err, sizeof(err)), 0);
	assert_int_equal(block_size(bd), 8 * MIB);
	assert_true(block_resize(bd, MIB, err, sizeof(err)) < 0);
	fill(shadow + 7 * MIB, MIB, 7 * MIB, 9);
	assert_int_equal(block_pwrite(bd, shadow + 7 * MIB, MIB, 7 * MIB), 0);
	verify(bd, shadow, 8 * MIB);
	block_close(bd);
	bd = open_img(p, BLOCK_RDONLY);
	assert_int_equal(block_size(bd), 8 * MIB);
	verify(bd, shadow, 8 * MIB);
	block_close(bd);
	qemu_agrees(f, p, shadow, 8 * MIB);
	free(shadow);
	/* 1 GiB to 3 GiB with 64 KiB clusters: the L1 table grows inside its
	 * cluster, the file does not. */
	const char *p2 = tmp(f, "g2.qcow2");
	create(p2, 1024 * MIB, 0, NULL);
	struct stat st, st2;
	assert_int_equal(stat(p2, &st), 0);
	bd = open_img(p2, 0);
	assert_int_equal(block_resize(bd, 3072 * MIB, err, sizeof(err)), 0);
	block_close(bd);
	assert_int_equal(stat(p2, &st2), 0);
	assert_int_equal(st2.st_size, st.st_size);
	bd = open_img(p2, 0);
	assert_int_equal(block_size(bd), 3072 * MIB);
	uint8_t buf[4096], back[4096];
	fill(buf, sizeof(buf), 2500 * MIB, 10);
	assert_int_equal(block_pwrite(bd, buf, sizeof(buf), 2500 * MIB), 0);
	block_close(bd);
	bd = open_img(p2, BLOCK_RDONLY);
	assert_int_equal(block_pread(bd, back, sizeof(back), 2500 * MIB), 0);
	assert_memory_equal(buf, back, sizeof(buf));
	block_close(bd);
	if (have_qemu_img())
		assert_int_equal(sh("qemu-img check -q %s", p2), 0);
}

static void test_fixed(void **state)
{
	struct fixture *f = *state;
	const char *p = tmp(f, "fixed.qcow2");
	struct block_create_opts o = {.size = 6 * MIB + 4096, .fixed = true};
	char err[256];
	assert_int_equal(block_create(p, "qcow2", &o, err, sizeof(err)), 0);
	struct stat st;
	assert_int_equal(stat(p, &st), 0);
	assert_true((uint64_t)st.st_size >= 6 * MIB + 4096);
	uint8_t *shadow = calloc(1, o.size);
	struct block_dev *bd = open_img(p, 0);
	verify(bd, shadow, o.size);
	fill(shadow + MIB, 100000, MIB, 4);
	assert_int_equal(block_pwrite(bd, shadow + MIB, 100352, MIB), 0);
	memset(shadow + MIB + 100000, 0, 352);
	fill(shadow + MIB, 100000, MIB, 4);
	block_close(bd);
	struct stat st2;
	assert_int_equal(stat(p, &st2), 0);
	assert_int_equal(st2.st_size, st.st_size); /* written in place */
	free(shadow);
	if (have_qemu_img())
		assert_int_equal(sh("qemu-img check -q %s", p), 0);
}

/* --- crash safety ------------------------------------------------------------ */

/* A process killed with the image open: the next read-write open rebuilds
 * the refcounts, and every write before the last flush is there. */
static void test_killed(void **state)
{
	struct fixture *f = *state;
	const char *p = tmp(f, "k.qcow2");
	const uint64_t size = 8 * MIB;
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

static const char *image_with_data(const struct fixture *f, const char *name)
{
	const char *p = tmp(f, name);
	create(p, 4 * MIB, 0, NULL);
	struct block_dev *bd = open_img(p, 0);
	uint8_t *b = malloc(MIB);
	fill(b, MIB, 0, 31);
	assert_int_equal(block_pwrite(bd, b, MIB, 0), 0);
	free(b);
	block_close(bd);
	return p;
}

static void test_check_refcounts(void **state)
{
	struct fixture *f = *state;
	const char *p = image_with_data(f, "chk.qcow2");
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
	struct fixture *f = *state;
	const char *p = image_with_data(f, "badl2.qcow2");
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
	assert_int_equal(block_pwrite(bd, buf, 512, 2 * MIB), -EIO);
	res = (struct block_check){0};
	assert_int_equal(block_check(bd, true, &res), 0);
	assert_true(res.repaired >= 2);
	assert_int_equal(block_pread(bd, buf, 512, 3 * 65536), 0);
	assert_int_equal(buf[0], 0);
	assert_int_equal(block_pwrite(bd, buf, 512, 2 * MIB), 0);
	block_close(bd);
	if (have_qemu_img())
		assert_int_equal(sh("qemu-img check -q %s", p), 0);
}

/* Two L2 entries share a data cluster: check reports it; writes are
 * refused. */
static void test_check_overlap(void **state)
{
	struct fixture *f = *state;
	const char *p = image_with_data(f, "ovl.qcow2");
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

static void fresh(const struct fixture *f, const char *p)
{
	unlink(p);
	create(p, 4 * MIB, 0, NULL);
	(void)f;
}

static void test_hostile_headers(void **state)
{
	struct fixture *f = *state;
	const char *p = tmp(f, "h.qcow2");
	fresh(f, p);
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
		fresh(f, p);
		if (cases[i].off == 8)
			poke32(p, 16, 100);
		if (cases[i].width == 8)
			poke64(p, cases[i].off, cases[i].value);
		else
			poke32(p, cases[i].off, (uint32_t)cases[i].value);
		open_fails(p, BLOCK_RDONLY, cases[i].what);
	}
	/* zstd compression. */
	fresh(f, p);
	poke64(p, 72, 1ull << 3);
	uint8_t one = 1;
	patch(p, 104, &one, 1);
	open_fails(p, BLOCK_RDONLY, "zstd");
	/* The names of unknown features come from the feature name table. */
	fresh(f, p);
	poke64(p, 72, 1ull << 0 | 1ull << 1 | 1ull << 9);
	open_fails(p, BLOCK_RDONLY, "bit 9");
	/* The names of features come from the image's feature name table:
	 * rename the one for bit 4 to bit 7, "frobnicate". */
	fresh(f, p);
	uint8_t entry[48] = {0, 7, 'f', 'r', 'o', 'b', 'n', 'i', 'c', 'a', 't', 'e'};
	patch(p, 112 + 8 + 4 * 48, entry, sizeof(entry));
	poke64(p, 72, 1ull << 7);
	open_fails(p, BLOCK_RDONLY, "'frobnicate' (bit 7)");
	/* Version 2 and snapshots open read-only only. */
	fresh(f, p);
	poke32(p, 4, 2);
	open_fails(p, 0, "compat=1.1");
	block_close(open_img(p, BLOCK_RDONLY));
	fresh(f, p);
	poke32(p, 60, 1);
	poke64(p, 64, 65536 * 9);
	open_fails(p, 0, "snapshots");
	/* A truncated image. */
	fresh(f, p);
	assert_int_equal(truncate(p, 100), 0);
	open_fails(p, BLOCK_RDONLY, "truncated");
	assert_int_equal(truncate(p, 40), 0);
	open_fails(p, BLOCK_RDONLY, "header is truncated");
	/* An L1 entry past the end: only that part of the disk fails. */
	fresh(f, p);
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
	struct fixture *f = *state;
	const char *p = image_with_data(f, "cz.qcow2");
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

/* --- images qemu-img makes -------------------------------------------------------- */

static void make_raw_source(const char *path, uint64_t size)
{
	uint8_t *b = calloc(1, size);
	/* Data, zero stretches and holes, compressible and not. */
	for (uint64_t off = 0; off < size; off += 3 * 65536 + 4096) {
		uint64_t len = off % 7 == 0 ? 70000 : 20000;
		if (off + len > size)
			len = size - off;
		fill(b + off, len, off, 41);
		if (off % 3 == 0)
			memset(b + off, 'A', len / 2);
	}
	write_file(path, b, size);
	free(b);
}

static void compare_with_raw(const char *img, const char *raw, uint64_t size)
{
	uint8_t *want = malloc(size);
	int fd = open(raw, O_RDONLY);
	assert_true(fd >= 0);
	assert_int_equal(pread(fd, want, size, 0), (ssize_t)size);
	close(fd);
	struct block_dev *bd = open_img(img, BLOCK_RDONLY);
	assert_int_equal(block_size(bd), size);
	verify(bd, want, size);
	block_close(bd);
	free(want);
}

static void test_qemu_images(void **state)
{
	struct fixture *f = *state;
	if (!have_qemu_img())
		skip();
	const uint64_t size = 6 * MIB;
	const char *raw = tmp(f, "src.raw"), *img = tmp(f, "q.qcow2");
	make_raw_source(raw, size);
	int fd;
	static const char *const variants[] = {
	    "",
	    "-c",
	    "-o cluster_size=512",
	    "-o cluster_size=2M",
	    "-c -o cluster_size=4096",
	    "-o refcount_bits=1",
	    "-o refcount_bits=64",
	    "-o compat=0.10",
	    "-c -o compat=0.10",
	    "-o preallocation=metadata",
	    "-o lazy_refcounts=on",
	};
	for (size_t i = 0; i < sizeof(variants) / sizeof(variants[0]); i++) {
		unlink(img);
		if (sh("qemu-img convert -q -f raw -O qcow2 %s %s %s", variants[i], raw, img))
			fail_msg("qemu-img convert %s failed", variants[i]);
		compare_with_raw(img, raw, size);
		struct block_dev *bd = open_img(img, BLOCK_RDONLY);
		struct block_check res = {0};
		assert_int_equal(block_check(bd, false, &res), 0);
		if (res.corruptions || res.leaks)
			fail_msg("check of qemu-img convert %s: %llu corruptions, %llu leaks",
				 variants[i], (unsigned long long)res.corruptions,
				 (unsigned long long)res.leaks);
		block_close(bd);
		if (strstr(variants[i], "compat=0.10"))
			continue;
		/* Written by osio, then checked by qemu-img. */
		uint8_t *shadow = malloc(size);
		fd = open(raw, O_RDONLY);
		assert_int_equal(pread(fd, shadow, size, 0), (ssize_t)size);
		close(fd);
		bd = open_img(img, 0);
		for (uint64_t off = 512 * i; off + 10000 < size; off += 782 * 512) {
			fill(shadow + off, 9728, off, 80 + (unsigned)i);
			assert_int_equal(block_pwrite(bd, shadow + off, 9728, off), 0);
		}
		assert_int_equal(run(bd, BLOCK_OP_WRITE_ZEROES, 2 * MIB - 4096, NULL, 0, MIB), 0);
		memset(shadow + 2 * MIB - 4096, 0, MIB);
		verify(bd, shadow, size);
		block_close(bd);
		qemu_agrees(f, img, shadow, size);
		free(shadow);
	}
}

/* Writing into compressed clusters: copy-on-write to a new cluster. */
static void test_qemu_compressed_write(void **state)
{
	struct fixture *f = *state;
	if (!have_qemu_img())
		skip();
	const uint64_t size = 4 * MIB;
	const char *raw = tmp(f, "src.raw"), *img = tmp(f, "cw.qcow2");
	make_raw_source(raw, size);
	assert_int_equal(sh("qemu-img convert -q -c -f raw -O qcow2 %s %s", raw, img), 0);
	uint8_t *shadow = malloc(size);
	int fd = open(raw, O_RDONLY);
	assert_int_equal(pread(fd, shadow, size, 0), (ssize_t)size);
	close(fd);
	struct block_dev *bd = open_img(img, 0);
	uint8_t buf[8192];
	/* Small reads, several from each compressed cluster. */
	for (uint64_t off = 0; off < MIB; off += 4096) {
		assert_int_equal(block_pread(bd, buf, 4096, off), 0);
		assert_memory_equal(buf, shadow + off, 4096);
	}
	fill(buf, sizeof(buf), 0, 51);
	for (uint64_t off = 1024; off < size; off += 5 * 65536 + 512) {
		assert_int_equal(block_pwrite(bd, buf, sizeof(buf), off), 0);
		memcpy(shadow + off, buf, sizeof(buf));
	}
	assert_int_equal(run(bd, BLOCK_OP_WRITE_ZEROES, 3 * 65536, NULL, 0, 65536), 0);
	memset(shadow + 3 * 65536, 0, 65536);
	verify(bd, shadow, size);
	for (uint64_t off = 0; off < MIB; off += 4096) {
		assert_int_equal(block_pread(bd, buf, 4096, off), 0);
		assert_memory_equal(buf, shadow + off, 4096);
	}
	block_close(bd);
	qemu_agrees(f, img, shadow, size);
	free(shadow);
}

/* Overlays qemu-img makes over qcow2 and raw parents. */
static void test_qemu_backing(void **state)
{
	struct fixture *f = *state;
	if (!have_qemu_img())
		skip();
	const uint64_t size = 4 * MIB;
	const char *raw = tmp(f, "src.raw"), *base = tmp(f, "qbase.qcow2");
	const char *full = tmp(f, "full.raw"), *over = tmp(f, "qover.qcow2");
	const char *rawbase = tmp(f, "rbase.raw"), *over2 = tmp(f, "qover2.qcow2");
	make_raw_source(raw, size);
	assert_int_equal(sh("qemu-img convert -q -f raw -O qcow2 %s %s", raw, base), 0);
	/* The overlay's view: the source with other data in places. */
	uint8_t *b = malloc(size);
	int fd = open(raw, O_RDONLY);
	assert_int_equal(pread(fd, b, size, 0), (ssize_t)size);
	close(fd);
	for (uint64_t off = 65536 * 2; off < size; off += 65536 * 7)
		fill(b + off, 30000, off, 61);
	memset(b + size - 65536, 0, 65536);
	write_file(full, b, size);
	assert_int_equal(
	    sh("qemu-img convert -q -f raw -O qcow2 -B qbase.qcow2 -F qcow2 %s %s", full, over), 0);
	compare_with_raw(over, full, size);
	/* A raw parent, and an empty overlay. */
	write_file(rawbase, b, size);
	assert_int_equal(sh("qemu-img create -q -f qcow2 -b rbase.raw -F raw %s >/dev/null", over2),
			 0);
	compare_with_raw(over2, full, size);
	/* osio's overlay on qemu's image passes qemu-img. */
	const char *mine = tmp(f, "mine.qcow2");
	create(mine, 0, 0, "qover.qcow2");
	struct block_dev *bd = open_img(mine, 0);
	uint8_t w[4096];
	fill(w, sizeof(w), 0, 71);
	assert_int_equal(block_pwrite(bd, w, sizeof(w), 65536 * 3 + 512), 0);
	memcpy(b + 65536 * 3 + 512, w, sizeof(w));
	block_close(bd);
	if (sh("qemu-img check -q %s", mine) != 0)
		fail_msg("qemu-img check of an osio overlay failed");
	write_file(full, b, size);
	assert_int_equal(sh("qemu-img compare -q -F raw %s %s", mine, full), 0);
	free(b);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test_setup_teardown(test_create_info, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_random_4k, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_random_64k, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_random_512, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_concurrent, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_concurrent_same_cluster, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_backing, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_backing_missing, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_zero_discard, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_resize, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_fixed, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_killed, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_check_refcounts, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_check_bad_l2, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_check_overlap, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_hostile_headers, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_bad_compressed, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_qemu_images, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_qemu_compressed_write, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_qemu_backing, setup, teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
