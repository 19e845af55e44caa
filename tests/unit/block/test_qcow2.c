/* The qcow2 driver: round trips through allocation, copy-on-write from
 * backing files, zero and compressed clusters, resize, and interoperability
 * with qemu-img (images each side makes read byte for byte on the other;
 * crashes, check and hostile images: test_qcow2_faults.c). */
#define BLOCK_TEST_NAME "qcow2"
#include "qcow2_fixture.h"

/* --- round trips ------------------------------------------------------------- */

static void test_create_info(void **state)
{
	(void)state;
	const char *p = tmp("a.qcow2");
	create(p, 100 * MiB + 512, 0, NULL);
	struct block_dev *bd = open_img(p, 0);
	assert_int_equal(block_size(bd), 100 * MiB + 512);
	struct block_info info;
	assert_int_equal(block_get_info(bd, &info), 0);
	assert_string_equal(info.format, "qcow2");
	assert_int_equal(info.block_size, 65536);
	assert_int_equal(info.virtual_size, 100 * MiB + 512);
	assert_string_equal(info.parent, "");
	assert_false(info.dirty);
	/* A new image reads as zeroes. */
	uint8_t buf[4096];
	memset(buf, 0xaa, sizeof(buf));
	assert_int_equal(block_pread(bd, buf, sizeof(buf), 50 * MiB), 0);
	for (size_t i = 0; i < sizeof(buf); i++)
		assert_int_equal(buf[i], 0);
	block_close(bd);
	/* Never replaces a file. */
	struct block_create_opts o = {.size = MiB};
	char err[256];
	assert_int_equal(block_create(p, "qcow2", &o, err, sizeof(err)), -EEXIST);
	qemu_agrees(p, NULL, 0);
	/* Bad cluster sizes. */
	o.block_size = 3000;
	assert_int_equal(block_create(tmp("b.qcow2"), "qcow2", &o, err, sizeof(err)), -EINVAL);
	assert_non_null(strstr(err, "cluster size"));
	o.block_size = 4u << 20;
	assert_int_equal(block_create(tmp("b.qcow2"), "qcow2", &o, err, sizeof(err)), -EINVAL);
}

/* Writes at random offsets and lengths over many clusters and L2 tables
 * (4 KiB clusters: an L2 table covers 2 MiB), checked against a copy in
 * memory, after reopening, and by qemu-img. */
static void random_round_trip(uint32_t cluster, uint64_t size, unsigned seed)
{
	const char *p = tmp("r.qcow2");
	unlink(p);
	create(p, size, cluster, NULL);
	uint8_t *shadow = calloc(1, size), *buf = malloc(MiB);
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
	qemu_agrees(p, shadow, size);
	free(shadow);
	free(buf);
}

static void test_random_4k(void **state)
{
	(void)state;
	random_round_trip(4096, 24 * MiB, 1);
}

static void test_random_64k(void **state)
{
	(void)state;
	random_round_trip(0, 40 * MiB, 2);
}

static void test_random_512(void **state)
{
	(void)state;
	/* 512-byte clusters: many refcount blocks, and the refcount table
	 * (64 entries of 256 clusters) grows as the file does. */
	random_round_trip(512, 12 * MiB, 3);
}

struct worker {
	struct block_dev *bd;
	unsigned id;
	int status;
};

#define WORKERS	  6
#define WORK_SIZE (16 * MiB)

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
	(void)state;
	const char *p = tmp("c.qcow2");
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
	qemu_agrees(p, shadow, WORK_SIZE);
	free(shadow);
}

/* Every sector of unallocated clusters written by its own request, all in
 * flight at once: writes allocating one cluster side by side lose nothing. */
static void test_concurrent_same_cluster(void **state)
{
	(void)state;
	const char *p = tmp("s.qcow2"), *base = tmp("sbase.qcow2");
	enum { SECTORS = 1024 };
	create(base, 2 * MiB, 0, NULL);
	struct block_dev *bd = open_img(base, 0);
	uint8_t *shadow = malloc(2 * MiB);
	fill(shadow, 2 * MiB, 0, 13);
	assert_int_equal(block_pwrite(bd, shadow, 2 * MiB, 0), 0);
	block_close(bd);
	/* Over a parent too: each allocation copies the rest of its cluster. */
	for (int pass = 0; pass < 2; pass++) {
		unlink(p);
		create(p, 2 * MiB, 0, pass ? "sbase.qcow2" : NULL);
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
		uint8_t *want = malloc(2 * MiB);
		if (pass)
			memcpy(want, shadow, 2 * MiB);
		else
			memset(want, 0, 2 * MiB);
		for (uint64_t s = 0; s < 2 * SECTORS; s += 2)
			fill(want + s * 512, 512, s * 512, 17);
		verify(bd, want, 2 * MiB);
		block_close(bd);
		qemu_agrees(p, want, 2 * MiB);
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
	(void)state;
	const uint64_t size = 8 * MiB;
	const char *base = tmp("base.qcow2"), *over = tmp("over.qcow2");
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
	qemu_agrees(over, shadow, size);
	free(shadow);
	free(orig);
}

/* A missing parent: the message names both files. */
static void test_backing_missing(void **state)
{
	(void)state;
	const char *base = tmp("gone.qcow2"), *over = tmp("child.qcow2");
	create(base, MiB, 0, NULL);
	create(over, 0, 0, "gone.qcow2");
	unlink(base);
	open_fails(over, BLOCK_RDONLY, "gone.qcow2");
}

/* --- zeroes, discard, resize ---------------------------------------------------- */

static void test_zero_discard(void **state)
{
	(void)state;
	const char *p = tmp("z.qcow2");
	const uint64_t size = 4 * MiB;
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
	qemu_agrees(p, shadow, size);
	free(shadow);
}

static void test_resize(void **state)
{
	(void)state;
	const char *p = tmp("g.qcow2");
	/* 512-byte clusters: an L2 table covers 32 KiB and the L1 table of
	 * 1 MiB fits one cluster; 8 MiB needs four. */
	create(p, MiB, 512, NULL);
	struct block_dev *bd = open_img(p, 0);
	uint8_t *shadow = calloc(1, 8 * MiB);
	fill(shadow, MiB, 0, 8);
	assert_int_equal(block_pwrite(bd, shadow, MiB, 0), 0);
	char err[256];
	assert_int_equal(block_resize(bd, 8 * MiB, err, sizeof(err)), 0);
	assert_int_equal(block_size(bd), 8 * MiB);
	assert_true(block_resize(bd, MiB, err, sizeof(err)) < 0);
	fill(shadow + 7 * MiB, MiB, 7 * MiB, 9);
	assert_int_equal(block_pwrite(bd, shadow + 7 * MiB, MiB, 7 * MiB), 0);
	verify(bd, shadow, 8 * MiB);
	block_close(bd);
	bd = open_img(p, BLOCK_RDONLY);
	assert_int_equal(block_size(bd), 8 * MiB);
	verify(bd, shadow, 8 * MiB);
	block_close(bd);
	qemu_agrees(p, shadow, 8 * MiB);
	free(shadow);
	/* 1 GiB to 3 GiB with 64 KiB clusters: the L1 table grows inside its
	 * cluster, the file does not. */
	const char *p2 = tmp("g2.qcow2");
	create(p2, 1024 * MiB, 0, NULL);
	struct stat st, st2;
	assert_int_equal(stat(p2, &st), 0);
	bd = open_img(p2, 0);
	assert_int_equal(block_resize(bd, 3072 * MiB, err, sizeof(err)), 0);
	block_close(bd);
	assert_int_equal(stat(p2, &st2), 0);
	assert_int_equal(st2.st_size, st.st_size);
	bd = open_img(p2, 0);
	assert_int_equal(block_size(bd), 3072 * MiB);
	uint8_t buf[4096], back[4096];
	fill(buf, sizeof(buf), 2500 * MiB, 10);
	assert_int_equal(block_pwrite(bd, buf, sizeof(buf), 2500 * MiB), 0);
	block_close(bd);
	bd = open_img(p2, BLOCK_RDONLY);
	assert_int_equal(block_pread(bd, back, sizeof(back), 2500 * MiB), 0);
	assert_memory_equal(buf, back, sizeof(buf));
	block_close(bd);
	if (have_qemu_img())
		assert_int_equal(sh("qemu-img check -q %s", p2), 0);
}

static void test_fixed(void **state)
{
	(void)state;
	const char *p = tmp("fixed.qcow2");
	struct block_create_opts o = {.size = 6 * MiB + 4096, .fixed = true};
	char err[256];
	assert_int_equal(block_create(p, "qcow2", &o, err, sizeof(err)), 0);
	struct stat st;
	assert_int_equal(stat(p, &st), 0);
	assert_true((uint64_t)st.st_size >= 6 * MiB + 4096);
	uint8_t *shadow = calloc(1, o.size);
	struct block_dev *bd = open_img(p, 0);
	verify(bd, shadow, o.size);
	fill(shadow + MiB, 100000, MiB, 4);
	assert_int_equal(block_pwrite(bd, shadow + MiB, 100352, MiB), 0);
	memset(shadow + MiB + 100000, 0, 352);
	fill(shadow + MiB, 100000, MiB, 4);
	block_close(bd);
	struct stat st2;
	assert_int_equal(stat(p, &st2), 0);
	assert_int_equal(st2.st_size, st.st_size); /* written in place */
	free(shadow);
	if (have_qemu_img())
		assert_int_equal(sh("qemu-img check -q %s", p), 0);
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
	(void)state;
	if (!have_qemu_img())
		skip();
	const uint64_t size = 6 * MiB;
	const char *raw = tmp("src.raw"), *img = tmp("q.qcow2");
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
		assert_int_equal(run(bd, BLOCK_OP_WRITE_ZEROES, 2 * MiB - 4096, NULL, 0, MiB), 0);
		memset(shadow + 2 * MiB - 4096, 0, MiB);
		verify(bd, shadow, size);
		block_close(bd);
		qemu_agrees(img, shadow, size);
		free(shadow);
	}
}

/* Writing into compressed clusters: copy-on-write to a new cluster. */
static void test_qemu_compressed_write(void **state)
{
	(void)state;
	if (!have_qemu_img())
		skip();
	const uint64_t size = 4 * MiB;
	const char *raw = tmp("src.raw"), *img = tmp("cw.qcow2");
	make_raw_source(raw, size);
	assert_int_equal(sh("qemu-img convert -q -c -f raw -O qcow2 %s %s", raw, img), 0);
	uint8_t *shadow = malloc(size);
	int fd = open(raw, O_RDONLY);
	assert_int_equal(pread(fd, shadow, size, 0), (ssize_t)size);
	close(fd);
	struct block_dev *bd = open_img(img, 0);
	uint8_t buf[8192];
	/* Small reads, several from each compressed cluster. */
	for (uint64_t off = 0; off < MiB; off += 4096) {
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
	for (uint64_t off = 0; off < MiB; off += 4096) {
		assert_int_equal(block_pread(bd, buf, 4096, off), 0);
		assert_memory_equal(buf, shadow + off, 4096);
	}
	block_close(bd);
	qemu_agrees(img, shadow, size);
	free(shadow);
}

/* Overlays qemu-img makes over qcow2 and raw parents. */
static void test_qemu_backing(void **state)
{
	(void)state;
	if (!have_qemu_img())
		skip();
	const uint64_t size = 4 * MiB;
	const char *raw = tmp("src.raw"), *base = tmp("qbase.qcow2");
	const char *full = tmp("full.raw"), *over = tmp("qover.qcow2");
	const char *rawbase = tmp("rbase.raw"), *over2 = tmp("qover2.qcow2");
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
	const char *mine = tmp("mine.qcow2");
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
	    cmocka_unit_test_setup_teardown(test_create_info, setup_dir, teardown_dir),
	    cmocka_unit_test_setup_teardown(test_random_4k, setup_dir, teardown_dir),
	    cmocka_unit_test_setup_teardown(test_random_64k, setup_dir, teardown_dir),
	    cmocka_unit_test_setup_teardown(test_random_512, setup_dir, teardown_dir),
	    cmocka_unit_test_setup_teardown(test_concurrent, setup_dir, teardown_dir),
	    cmocka_unit_test_setup_teardown(test_concurrent_same_cluster, setup_dir, teardown_dir),
	    cmocka_unit_test_setup_teardown(test_backing, setup_dir, teardown_dir),
	    cmocka_unit_test_setup_teardown(test_backing_missing, setup_dir, teardown_dir),
	    cmocka_unit_test_setup_teardown(test_zero_discard, setup_dir, teardown_dir),
	    cmocka_unit_test_setup_teardown(test_resize, setup_dir, teardown_dir),
	    cmocka_unit_test_setup_teardown(test_fixed, setup_dir, teardown_dir),
	    cmocka_unit_test_setup_teardown(test_qemu_images, setup_dir, teardown_dir),
	    cmocka_unit_test_setup_teardown(test_qemu_compressed_write, setup_dir, teardown_dir),
	    cmocka_unit_test_setup_teardown(test_qemu_backing, setup_dir, teardown_dir),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
