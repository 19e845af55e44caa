/* The VHD driver: images made, written and read back every way, resize, and
 * interoperability with qemu-img's "vpc" (damaged images: test_vhd_faults.c). */
#define BLOCK_TEST_NAME "vhd"
#include "vhd_fixture.h"

#include "hypervisor/bytes.h"

#include <signal.h>

/* --- layout and round trips ------------------------------------------------ */

static void test_geometry(void **state)
{
	(void)state;
	uint16_t c;
	uint8_t h, s;
	/* Worked through the specification's algorithm by hand. */
	vhd_geometry(17408, &c, &h, &s); /* 8.5 MiB */
	assert_int_equal(c * h * s, 17408);
	assert_int_equal(h, 4);
	assert_int_equal(s, 17);
	vhd_geometry(20480, &c, &h, &s); /* 10 MiB: 17 sectors no longer fit */
	assert_int_equal(s, 17);
	assert_int_equal(h, 4);
	assert_int_equal(c, 301);
	vhd_geometry(2ull << 30 >> 9, &c, &h, &s); /* 2 GiB */
	assert_int_equal(s, 63);
	assert_int_equal(h, 16);
	assert_int_equal(c, 4161);
	vhd_geometry(200ull << 30 >> 9, &c, &h, &s); /* past the CHS limit */
	assert_int_equal(c, 65535);
	assert_int_equal(h, 16);
	assert_int_equal(s, 255);
}

static void test_dynamic_layout(void **state)
{
	(void)state;
	const char *p = tmp("layout.vhd");
	create(p, 10 * MiB + 512, false, 0, NULL);
	/* footer copy, header, a BAT of 6 entries in one sector, footer */
	assert_int_equal(file_size(p), 512 + 1024 + 512 + 512);
	uint8_t f[512], tail[512], h[1024];
	peek(p, 0, f, 512);
	peek(p, 2048, tail, 512);
	peek(p, 512, h, 1024);
	assert_memory_equal(f, tail, 512);
	assert_memory_equal(f, "conectix", 8);
	assert_memory_equal(f + VF_CREATOR_APP, "osio", 4);
	assert_int_equal(get_be64(f + VF_CUR_SIZE), 10 * MiB + 512);
	assert_int_equal(get_be64(f + VF_DATA_OFFSET), 512);
	assert_int_equal(get_be32(f + VF_DISK_TYPE), VHD_DYNAMIC);
	assert_int_equal(get_be32(f + VF_CHECKSUM), vhd_checksum(f, 512, VF_CHECKSUM));
	assert_memory_equal(h, "cxsparse", 8);
	assert_int_equal(get_be32(h + VH_MAX_ENTRIES), 6);
	assert_int_equal(get_be32(h + VH_BLOCK_SIZE), 2 * MiB);
	assert_int_equal(get_be64(h + VH_TABLE_OFFSET), 1536);
	assert_int_equal(get_be32(h + VH_CHECKSUM), vhd_checksum(h, 1024, VH_CHECKSUM));
	uint8_t bat[24];
	peek(p, 1536, bat, 24);
	for (int i = 0; i < 24; i++)
		assert_int_equal(bat[i], 0xff);

	struct block_dev *bd = open_img(p, 0);
	assert_int_equal(block_size(bd), 10 * MiB + 512);
	struct block_info info;
	assert_int_equal(block_get_info(bd, &info), 0);
	assert_string_equal(info.subformat, "dynamic");
	assert_int_equal(info.block_size, 2 * MiB);
	assert_false(info.dirty);
	/* Writing into block 2 puts bitmap + block where the footer was. */
	uint8_t buf[4096];
	fill(buf, sizeof(buf), 4 * MiB + 1024, 1);
	assert_int_equal(block_pwrite(bd, buf, sizeof(buf), 4 * MiB + 1024), 0);
	assert_int_equal(block_flush(bd), 0);
	block_close(bd);
	assert_int_equal(file_size(p), 2048 + 512 + 2 * MiB + 512);
	peek(p, 1536, bat, 24);
	assert_int_equal(get_be32(bat + 8), 2048 / 512);
	uint8_t bm[512];
	peek(p, 2048, bm, 512);
	for (int i = 0; i < 512; i++)
		assert_int_equal(bm[i], 0xff);
	uint8_t data[4096];
	peek(p, 2048 + 512 + 1024, data, sizeof(data));
	assert_memory_equal(data, buf, sizeof(buf));
	peek(p, (off_t)file_size(p) - 512, tail, 512);
	assert_memory_equal(f, tail, 512);
}

/* --- asynchronous requests in many buffers --------------------------------- */

/* Writes random pieces (in several buffers each) and reads everything back
 * against a copy kept in memory, before and after reopening. */
static void random_round_trip(const char *p, uint64_t size, unsigned seed)
{
	uint8_t *shadow = calloc(1, size);
	struct block_dev *bd = open_img(p, 0);
	srand(seed);
	for (int k = 0; k < 150; k++) {
		uint64_t sectors = 1 + (uint64_t)rand() % 300;
		uint64_t off = (uint64_t)rand() % (size / 512 - sectors) * 512;
		uint64_t len = sectors * 512;
		uint8_t *buf = malloc(len);
		fill(buf, len, off, seed + (unsigned)k);
		/* Three buffers of odd sizes. */
		size_t a = (size_t)(len / 3) + 1, b = (size_t)(len / 5) + 3;
		struct iovec iov[3] = {{buf, a}, {buf + a, b}, {buf + a + b, len - a - b}};
		assert_int_equal(submit_wait(bd, BLOCK_OP_WRITE, off, iov, 3, 0), 0);
		memcpy(shadow + off, buf, len);
		free(buf);
	}
	expect(bd, shadow, size, 0);
	block_close(bd);
	bd = open_img(p, BLOCK_RDONLY);
	expect(bd, shadow, size, 0);
	block_close(bd);
	free(shadow);
}

static void test_dynamic_random(void **state)
{
	(void)state;
	const char *p = tmp("random.vhd");
	create(p, 12 * MiB, false, 64 * 1024, NULL); /* 192 blocks */
	random_round_trip(p, 12 * MiB, 3);
}

/* 512-byte blocks: a BAT of 40960 entries, read in several pieces. */
static void test_small_blocks(void **state)
{
	(void)state;
	const char *p = tmp("small.vhd");
	create(p, 20 * MiB, false, 512, NULL);
	struct block_dev *bd = open_img(p, 0);
	uint8_t buf[2048];
	static const uint64_t offs[] = {0, 8 * MiB + 512, 20 * MiB - 2048, 12345 * 512};
	for (int i = 0; i < 4; i++) {
		fill(buf, sizeof(buf), offs[i], 20 + (unsigned)i);
		assert_int_equal(block_pwrite(bd, buf, sizeof(buf), offs[i]), 0);
	}
	block_close(bd);
	bd = open_img(p, BLOCK_RDONLY);
	for (int i = 0; i < 4; i++) {
		fill(buf, sizeof(buf), offs[i], 20 + (unsigned)i);
		expect(bd, buf, sizeof(buf), offs[i]);
	}
	uint8_t zero[4096] = {0};
	expect(bd, zero, sizeof(zero), 16 * MiB);
	block_close(bd);
}

static void test_fixed(void **state)
{
	(void)state;
	const char *p = tmp("fixed.vhd");
	create(p, 5 * MiB, true, 0, NULL);
	assert_int_equal(file_size(p), 5 * MiB + 512);
	struct stat st;
	assert_int_equal(stat(p, &st), 0);
	assert_true((uint64_t)st.st_blocks * 512 >= 5 * MiB);
	uint8_t f[512];
	peek(p, 5 * MiB, f, 512);
	assert_int_equal(get_be32(f + VF_DISK_TYPE), VHD_FIXED);
	assert_int_equal(get_be64(f + VF_DATA_OFFSET), UINT64_MAX);
	struct block_dev *bd = open_img(p, 0);
	struct block_info info;
	assert_int_equal(block_get_info(bd, &info), 0);
	assert_string_equal(info.subformat, "fixed");
	block_close(bd);
	random_round_trip(p, 5 * MiB, 9);
	/* The data is the file's first bytes. */
	bd = open_img(p, 0);
	uint8_t buf[1024], raw[1024];
	fill(buf, sizeof(buf), 0, 77);
	assert_int_equal(block_pwrite(bd, buf, sizeof(buf), 3 * MiB), 0);
	block_close(bd);
	peek(p, 3 * MiB, raw, sizeof(raw));
	assert_memory_equal(raw, buf, sizeof(buf));
}

static void test_scatter_gather(void **state)
{
	(void)state;
	const char *p = tmp("sg.vhd");
	create(p, 4 * MiB, false, 4096, NULL);
	struct block_dev *bd = open_img(p, 0);
	enum { N = 300 };
	size_t total = N * 37;
	total -= total % 512;
	uint8_t *src = malloc(total), *back = calloc(1, total);
	fill(src, total, 12345, 5);
	struct iovec wiov[N], riov[N];
	size_t pos = 0;
	unsigned n = 0;
	while (pos < total) {
		size_t l = total - pos < 37 ? total - pos : 37;
		wiov[n] = (struct iovec){src + pos, l};
		riov[n] = (struct iovec){back + pos, l};
		pos += l;
		n++;
	}
	struct waiter w = {.done = 0};
	pthread_mutex_init(&w.lock, NULL);
	pthread_cond_init(&w.cond, NULL);
	struct block_req wr = {.op = BLOCK_OP_WRITE,
			       .offset = 8192 + 512,
			       .iov = wiov,
			       .niov = n,
			       .done = on_done,
			       .opaque = &w};
	block_submit(bd, &wr);
	wait_for(&w, 1);
	struct block_req rd = {.op = BLOCK_OP_READ,
			       .offset = 8192 + 512,
			       .iov = riov,
			       .niov = n,
			       .done = on_done,
			       .opaque = &w};
	block_submit(bd, &rd);
	wait_for(&w, 2);
	assert_int_equal(w.status, 0);
	assert_memory_equal(back, src, total);
	block_drain(bd);
	block_close(bd);
	free(src);
	free(back);
}

/* --- concurrency ----------------------------------------------------------- */

struct worker {
	struct block_dev *bd;
	unsigned id;
	int status;
};

/* Each thread writes its own sectors of every block (so blocks get
 * allocated by whichever comes first), then reads them back. */
static void *worker(void *arg)
{
	struct worker *w = arg;
	uint8_t buf[2048];
	for (uint64_t blk = 0; blk < 32 && !w->status; blk++) {
		uint64_t off = blk * 65536 + w->id * 2048;
		fill(buf, sizeof(buf), off, w->id);
		w->status = block_pwrite(w->bd, buf, sizeof(buf), off);
	}
	for (uint64_t blk = 0; blk < 32 && !w->status; blk++) {
		uint64_t off = blk * 65536 + w->id * 2048;
		uint8_t want[2048];
		fill(want, sizeof(want), off, w->id);
		w->status = block_pread(w->bd, buf, sizeof(buf), off);
		if (!w->status && memcmp(buf, want, sizeof(buf)))
			w->status = -EIO;
	}
	return NULL;
}

static void test_concurrent(void **state)
{
	(void)state;
	const char *p = tmp("conc.vhd");
	create(p, 2 * MiB, false, 65536, NULL);
	struct block_dev *bd = open_img(p, 0);
	enum { T = 8 };
	pthread_t th[T];
	struct worker w[T];
	for (unsigned i = 0; i < T; i++) {
		w[i] = (struct worker){.bd = bd, .id = i};
		pthread_create(&th[i], NULL, worker, &w[i]);
	}
	for (unsigned i = 0; i < T; i++) {
		pthread_join(th[i], NULL);
		assert_int_equal(w[i].status, 0);
	}
	block_close(bd);
	/* 32 blocks, each allocated once. */
	assert_int_equal(file_size(p), 2048 + 32 * (512 + 65536ull) + 512);
	bd = open_img(p, BLOCK_RDONLY);
	for (unsigned i = 0; i < T; i++) {
		uint8_t want[2048];
		fill(want, sizeof(want), 5 * 65536 + i * 2048, i);
		expect(bd, want, sizeof(want), 5 * 65536 + i * 2048);
	}
	struct block_check res = {0};
	assert_int_equal(block_check(bd, false, &res), 0);
	assert_int_equal(res.corruptions + res.leaks, 0);
	block_close(bd);
}

/* --- zeroes, discard ------------------------------------------------------- */

static int run_op(struct block_dev *bd, enum block_op op, uint64_t off, uint64_t len)
{
	return submit_wait(bd, op, off, NULL, 0, len);
}

static void test_zeroes_discard(void **state)
{
	(void)state;
	const char *p = tmp("zero.vhd");
	create(p, 4 * MiB, false, 65536, NULL);
	struct block_dev *bd = open_img(p, 0);
	uint8_t *buf = malloc(MiB), *zero = calloc(1, MiB);
	fill(buf, MiB, 0, 2);
	assert_int_equal(block_pwrite(bd, buf, MiB, 0), 0);
	uint64_t before = file_size(p);
	assert_int_equal(run_op(bd, BLOCK_OP_WRITE_ZEROES, 4096, 70000 - 70000 % 512), 0);
	memset(buf + 4096, 0, 70000 - 70000 % 512);
	expect(bd, buf, MiB, 0);
	/* Zeroes over unallocated blocks allocate nothing. */
	assert_int_equal(run_op(bd, BLOCK_OP_WRITE_ZEROES, 2 * MiB, MiB), 0);
	assert_int_equal(file_size(p), before);
	expect(bd, zero, MiB, 2 * MiB);
	assert_int_equal(run_op(bd, BLOCK_OP_DISCARD, 0, 65536), 0);
	assert_int_equal(run_op(bd, BLOCK_OP_FLUSH, 0, 0), 0);
	expect(bd, buf + 65536, MiB - 65536, 65536);
	block_close(bd);
	free(buf);
	free(zero);
}

/* --- differencing disks ---------------------------------------------------- */

static void test_differencing(void **state)
{
	(void)state;
	const char *parent = tmp("base.vhd"), *child = tmp("child.vhd");
	uint64_t size = 3 * MiB;
	create(parent, size, false, 65536, NULL);
	uint8_t *img = malloc(size);
	fill(img, size, 0, 11);
	struct block_dev *bd = open_img(parent, 0);
	assert_int_equal(block_pwrite(bd, img, size, 0), 0);
	block_close(bd);

	create(child, 0, false, 65536, "base.vhd");
	bd = open_img(child, 0);
	struct block_info info;
	assert_int_equal(block_get_info(bd, &info), 0);
	assert_string_equal(info.subformat, "differencing");
	assert_string_equal(info.parent, "base.vhd");
	assert_non_null(block_backing(bd));
	assert_int_equal(block_size(bd), size);
	expect(bd, img, size, 0);
	/* Sectors written in the child hide the parent's; the rest of the block
	 * still reads from the parent (sector bitmap). */
	uint8_t buf[1536];
	fill(buf, sizeof(buf), 70000, 99);
	assert_int_equal(block_pwrite(bd, buf, sizeof(buf), 65536 + 1024), 0);
	memcpy(img + 65536 + 1024, buf, sizeof(buf));
	assert_int_equal(run_op(bd, BLOCK_OP_WRITE_ZEROES, 2 * MiB, 512), 0);
	memset(img + 2 * MiB, 0, 512);
	expect(bd, img, size, 0);
	block_close(bd);
	/* Block 1 was the first allocated, after the BAT (footer copy, header,
	 * one locator, one BAT sector); sectors 2-4 are present, the top bit
	 * being sector 0. */
	uint8_t bat[8], bm[2];
	peek(child, 1536 + 4096, bat, 8);
	assert_int_equal(get_be32(bat + 4), (1536 + 4096 + 512) / 512);
	peek(child, 1536 + 4096 + 512, bm, 2);
	assert_int_equal(bm[0], 0x38);
	assert_int_equal(bm[1], 0);
	bd = open_img(child, BLOCK_RDONLY);
	expect(bd, img, size, 0);
	block_close(bd);
	/* The parent is untouched. */
	bd = open_img(parent, BLOCK_RDONLY);
	uint8_t orig[1536];
	fill(orig, sizeof(orig), 65536 + 1024, 11);
	expect(bd, orig, sizeof(orig), 65536 + 1024);
	block_close(bd);

	/* A parent replaced by another disk is refused; a missing one named. */
	char err[512];
	rename(parent, tmp("base.old"));
	assert_true(open_error(child, err, sizeof(err)) < 0);
	assert_non_null(strstr(err, "base.vhd"));
	create(parent, size, false, 65536, NULL);
	assert_true(open_error(child, err, sizeof(err)) < 0);
	assert_non_null(strstr(err, "unique ID"));
	unlink(parent);
	rename(tmp("base.old"), parent);
	assert_int_equal(open_error(child, err, sizeof(err)), 0);

	/* A parent named by its absolute path (a file URL locator). */
	const char *abs_child = tmp("child-abs.vhd");
	create(abs_child, 0, false, 0, parent);
	bd = open_img(abs_child, BLOCK_RDONLY);
	assert_int_equal(block_get_info(bd, &info), 0);
	assert_string_equal(info.parent, parent);
	fill(img + 65536 + 1024, sizeof(buf), 65536 + 1024, 11);
	memset(img + 2 * MiB, 0, 512);
	fill(img + 2 * MiB, 512, 2 * MiB, 11);
	expect(bd, img, size, 0);
	block_close(bd);
	free(img);
}

/* --- resize ---------------------------------------------------------------- */

static void test_resize(void **state)
{
	(void)state;
	char err[512];
	const char *p = tmp("grow.vhd");
	create(p, 3 * MiB, false, MiB, NULL);
	struct block_dev *bd = open_img(p, 0);
	uint8_t *buf = malloc(3 * MiB);
	fill(buf, 3 * MiB, 0, 4);
	assert_int_equal(block_pwrite(bd, buf, 3 * MiB, 0), 0);
	/* Within the BAT's sector (128 entries): in place. */
	assert_int_equal(block_resize(bd, 100 * MiB, err, sizeof(err)), 0);
	assert_int_equal(block_size(bd), 100 * MiB);
	/* Past it: the BAT moves to the end. */
	assert_int_equal(block_resize(bd, 300 * MiB, err, sizeof(err)), 0);
	uint8_t tail[4096];
	fill(tail, sizeof(tail), 1, 8);
	assert_int_equal(block_pwrite(bd, tail, sizeof(tail), 300 * MiB - 4096), 0);
	assert_true(block_resize(bd, 200 * MiB, err, sizeof(err)) < 0);
	expect(bd, buf, 3 * MiB, 0);
	block_close(bd);
	bd = open_img(p, BLOCK_RDONLY);
	assert_int_equal(block_size(bd), 300 * MiB);
	expect(bd, buf, 3 * MiB, 0);
	expect(bd, tail, sizeof(tail), 300 * MiB - 4096);
	uint8_t *zero = calloc(1, MiB);
	expect(bd, zero, MiB, 150 * MiB);
	struct block_check res = {0};
	assert_int_equal(block_check(bd, false, &res), 0);
	assert_int_equal(res.corruptions + res.leaks, 0);
	block_close(bd);
	uint8_t f[512];
	peek(p, 0, f, 512);
	assert_int_equal(get_be64(f + VF_CUR_SIZE), 300 * MiB);

	/* Fixed: the footer moves; the old one's place reads as zeroes. */
	const char *q = tmp("growfixed.vhd");
	create(q, 2 * MiB, true, 0, NULL);
	bd = open_img(q, 0);
	assert_int_equal(block_pwrite(bd, buf, 2 * MiB, 0), 0);
	assert_int_equal(block_resize(bd, 3 * MiB, err, sizeof(err)), 0);
	block_close(bd);
	assert_int_equal(file_size(q), 3 * MiB + 512);
	bd = open_img(q, BLOCK_RDONLY);
	assert_int_equal(block_size(bd), 3 * MiB);
	expect(bd, buf, 2 * MiB, 0);
	expect(bd, zero, MiB, 2 * MiB);
	block_close(bd);
	free(buf);
	free(zero);
}

/* --- qemu-img ----------------------------------------------------------------- */

/* QEMU 7.2 sizes fixed images (its own too) as the whole file, footer
 * included, unless told to use the footer's size. */
#define QEMU_FIXED "--image-opts driver=vpc,force_size_calc=current_size,file.filename="

/* qemu-img compare of a VHD with a raw file: 0 same, 1 different. */
static int compare(const char *vhd, bool fixed, const char *raw)
{
	if (fixed)
		return sh("qemu-img compare -q " QEMU_FIXED "%s driver=raw,file.filename=%s", vhd,
			  raw);
	return sh("qemu-img compare -q -f vpc -F raw %s %s", vhd, raw);
}

/* osio's images read by plain qemu-img the same as a raw file with what
 * was written, at their exact size: one the CHS geometry expresses, and one
 * it cannot (then the footer holds the largest geometry, which tells QEMU to
 * use the footer's size). */
static void test_qemu_reads_osio(void **state)
{
	(void)state;
	if (!have_qemu_img())
		skip();
	static const uint64_t sizes[] = {10 * MiB + 4096, 17408 * 512};
	for (int k = 0; k < 4; k++) {
		bool fixed = k & 1;
		uint64_t size = sizes[k / 2];
		const char *p = tmp(fixed ? "q-fixed.vhd" : "q-dyn.vhd"), *raw = tmp("q.raw");
		create(p, size, fixed, 0, NULL);
		uint8_t f[512];
		peek(p, (off_t)file_size(p) - 512, f, 512);
		uint32_t chs = vhd_be16(f + VF_GEOMETRY) * f[VF_GEOMETRY + 2] * f[VF_GEOMETRY + 3];
		assert_int_equal(chs, k < 2 ? 65535u * 16 * 255 : 17408);
		uint8_t *shadow = calloc(1, size);
		struct block_dev *bd = open_img(p, 0);
		srand((unsigned)k + 40);
		for (int i = 0; i < 40; i++) {
			uint64_t len = (1 + (uint64_t)rand() % 64) * 512;
			uint64_t off = (uint64_t)rand() % ((size - len) / 512) * 512;
			fill(shadow + off, len, off, (unsigned)i);
			assert_int_equal(block_pwrite(bd, shadow + off, len, off), 0);
		}
		fill(shadow + size - 512, 512, 0, 3);
		assert_int_equal(block_pwrite(bd, shadow + size - 512, 512, size - 512), 0);
		block_close(bd);
		unlink(raw);
		int fd = open(raw, O_CREAT | O_WRONLY, 0644);
		assert_int_equal(write(fd, shadow, size), (ssize_t)size);
		close(fd);
		assert_int_equal(compare(p, fixed, raw), 0);
		assert_int_equal(sh("qemu-img info --output=json %s%s | "
				    "grep -q '\"virtual-size\": %llu,'",
				    fixed ? QEMU_FIXED : "", p, (unsigned long long)size),
				 0);
		/* And a difference is seen. */
		shadow[size / 2] ^= 1;
		fd = open(raw, O_WRONLY);
		assert_int_equal(pwrite(fd, shadow + size / 2, 1, (off_t)(size / 2)), 1);
		close(fd);
		assert_int_equal(compare(p, fixed, raw), 1);
		unlink(p);
		free(shadow);
	}
}

/* qemu-img's images read through osio byte for byte. */
static void test_osio_reads_qemu(void **state)
{
	(void)state;
	if (!have_qemu_img())
		skip();
	const char *raw = tmp("src.raw");
	uint64_t size = 9 * MiB + 512;
	uint8_t *img = calloc(1, size);
	static const char *const sub[] = {"dynamic", "fixed"};
	for (int i = 0; i < 2; i++) {
		memset(img, 0, size);
		for (uint64_t off = 0; off < size; off += 3 * 65536 + 512)
			fill(img + off, 20000 < size - off ? 20000 : size - off, off, 1);
		int fd = open(raw, O_CREAT | O_WRONLY | O_TRUNC, 0644);
		assert_int_equal(write(fd, img, size), (ssize_t)size);
		close(fd);
		const char *p = tmp("fromqemu.vhd");
		unlink(p);
		assert_int_equal(sh("qemu-img convert -f raw -O vpc -o subformat=%s,force_size=on "
				    "%s %s",
				    sub[i], raw, p),
				 0);
		struct block_dev *bd = open_img(p, 0);
		assert_int_equal(block_size(bd), size);
		expect(bd, img, size, 0);
		/* And qemu-img reads what osio writes into its image. */
		uint8_t buf[8192];
		fill(buf, sizeof(buf), 5, 50);
		assert_int_equal(block_pwrite(bd, buf, sizeof(buf), 7 * MiB), 0);
		memcpy(img + 7 * MiB, buf, sizeof(buf));
		block_close(bd);
		const char *raw2 = tmp("expect.raw");
		fd = open(raw2, O_CREAT | O_WRONLY | O_TRUNC, 0644);
		assert_int_equal(write(fd, img, size), (ssize_t)size);
		close(fd);
		assert_int_equal(compare(p, i == 1, raw2), 0);
	}
	/* An empty qemu-img image (CHS-sized, creator "qemu"). */
	const char *e = tmp("empty.vhd");
	unlink(e);
	assert_int_equal(sh("qemu-img create -q -f vpc %s 20M", e), 0);
	struct block_dev *bd = open_img(e, BLOCK_RDONLY);
	uint8_t zero[4096] = {0};
	expect(bd, zero, sizeof(zero), 0);
	block_close(bd);
	free(img);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_geometry),	    cmocka_unit_test(test_dynamic_layout),
	    cmocka_unit_test(test_dynamic_random),  cmocka_unit_test(test_small_blocks),
	    cmocka_unit_test(test_fixed),	    cmocka_unit_test(test_scatter_gather),
	    cmocka_unit_test(test_concurrent),	    cmocka_unit_test(test_zeroes_discard),
	    cmocka_unit_test(test_differencing),    cmocka_unit_test(test_resize),
	    cmocka_unit_test(test_qemu_reads_osio), cmocka_unit_test(test_osio_reads_qemu),
	};
	return cmocka_run_group_tests(tests, setup_dir, teardown_dir);
}
