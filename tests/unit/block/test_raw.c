/* The block layer with the raw driver: scatter-gather reads and writes
 * against the file's bytes, asynchronous completion on worker threads,
 * request checks, EOF zeroes, flush/discard/write-zeroes, errors in the
 * completion, and the image lock between processes. */
#define BLOCK_TEST_NAME "raw"
#include "block_test.h"

#include <sys/resource.h>

#define IMG_SIZE (1u << 20)

struct fixture {
	char path[64];
	struct block_dev *bd;
};

/* A file of IMG_SIZE bytes whose byte i is pattern(i, 0). */
static void make_image(char *path, size_t pathlen, size_t size)
{
	snprintf(path, pathlen, "/tmp/osio-blk-XXXXXX");
	int fd = mkstemp(path);
	assert_true(fd >= 0);
	uint8_t *buf = malloc(size);
	for (size_t i = 0; i < size; i++)
		buf[i] = pattern(i, 0);
	assert_int_equal(write(fd, buf, size), (ssize_t)size);
	free(buf);
	close(fd);
}

static int setup(void **state)
{
	struct fixture *f = calloc(1, sizeof(*f));
	make_image(f->path, sizeof(f->path), IMG_SIZE);
	char err[256];
	assert_int_equal(block_open(f->path, NULL, 0, &f->bd, err, sizeof(err)), 0);
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fixture *f = *state;
	block_close(f->bd);
	unlink(f->path);
	free(f);
	return 0;
}

/* --- asynchronous requests ------------------------------------------------- */

/* Submits one request and waits for it; returns its status. */
static int run(struct block_dev *bd, enum block_op op, uint64_t off, const struct iovec *iov,
	       unsigned niov, uint64_t len)
{
	return submit_wait(bd, op, off, iov, niov, len);
}

static void test_open_facts(void **state)
{
	struct fixture *f = *state;
	assert_int_equal(block_size(f->bd), IMG_SIZE);
	assert_false(block_readonly(f->bd));
	assert_string_equal(block_path(f->bd), f->path);
	assert_string_equal(block_format(f->bd), "raw");
}

static void test_scatter_read(void **state)
{
	struct fixture *f = *state;
	/* Odd-sized buffers whose sum is three sectors. */
	static const size_t sizes[] = {1, 510, 3, 1000, 22};
	uint8_t *bufs[5];
	struct iovec iov[5];
	for (int i = 0; i < 5; i++) {
		bufs[i] = malloc(sizes[i]);
		memset(bufs[i], 0xee, sizes[i]);
		iov[i] = (struct iovec){bufs[i], sizes[i]};
	}
	struct waiter w;
	waiter_init(&w);
	struct block_req req = {.op = BLOCK_OP_READ,
				.offset = 4096 + 512,
				.iov = iov,
				.niov = 5,
				.done = on_done,
				.opaque = &w};
	block_submit(f->bd, &req);
	wait_for(&w, 1);
	assert_int_equal(w.status, 0);
	assert_int_equal(req.len, 1536);
	/* (Data in the page cache is copied in the submitting thread, the
	 * rest on a worker: either is right here.) */
	uint64_t pos = 4096 + 512;
	for (int i = 0; i < 5; i++) {
		for (size_t j = 0; j < sizes[i]; j++, pos++)
			assert_int_equal(bufs[i][j], pattern(pos, 0));
		free(bufs[i]);
	}
}

static void test_scatter_write(void **state)
{
	struct fixture *f = *state;
	uint8_t a[700], b[324], c[1024];
	memset(a, 0xa1, sizeof(a));
	memset(b, 0xb2, sizeof(b));
	memset(c, 0xc3, sizeof(c));
	struct iovec iov[3] = {{a, sizeof(a)}, {b, sizeof(b)}, {c, sizeof(c)}};
	assert_int_equal(run(f->bd, BLOCK_OP_WRITE, 65536, iov, 3, 0), 0);
	uint8_t back[2048 + 2];
	peek(f->path, 65536 - 1, back, sizeof(back));
	assert_int_equal(back[0], pattern(65535, 0));
	for (int i = 0; i < 700; i++)
		assert_int_equal(back[1 + i], 0xa1);
	for (int i = 0; i < 324; i++)
		assert_int_equal(back[701 + i], 0xb2);
	for (int i = 0; i < 1024; i++)
		assert_int_equal(back[1025 + i], 0xc3);
	assert_int_equal(back[2049], pattern(65536 + 2048, 0));
}

/* More buffers than one preadv call takes. */
static void test_many_buffers(void **state)
{
	struct fixture *f = *state;
	enum { N = 3000 };
	struct iovec *iov = calloc(N, sizeof(*iov));
	uint8_t *buf = malloc(N * 256);
	for (int i = 0; i < N; i++)
		iov[i] = (struct iovec){buf + (size_t)(N - 1 - i) * 256, 256}; /* reversed */
	assert_int_equal(run(f->bd, BLOCK_OP_READ, 0, iov, N, 0), 0);
	for (int i = 0; i < N; i++)
		for (int j = 0; j < 256; j += 17)
			assert_int_equal(((uint8_t *)iov[i].iov_base)[j],
					 pattern((uint64_t)i * 256 + j, 0));
	free(iov);
	free(buf);
}

/* Odd-sized buffers covering `len` bytes of one allocation, in order. */
static struct iovec *odd_buffers(uint8_t *mem, size_t len, unsigned *n)
{
	struct iovec *iov = calloc(len / 100 + 1, sizeof(*iov));
	size_t pos = 0;
	unsigned k = 0;
	while (pos < len) {
		size_t l = 100 + (k * 7919) % 9000;
		if (l > len - pos)
			l = len - pos;
		iov[k++] = (struct iovec){mem + pos, l};
		pos += l;
	}
	*n = k;
	return iov;
}

/* Large requests run in pieces on several threads: piece boundaries fall
 * inside buffers; the bytes must be the same as in one piece. */
static void test_large_pieces(void **state)
{
	(void)state;
	enum { BIG = 8 << 20 };
	char path[64];
	make_image(path, sizeof(path), BIG);
	struct block_dev *bd;
	char err[256];
	assert_int_equal(block_open(path, NULL, 0, &bd, err, sizeof(err)), 0);
	/* 2, 3, 4 and (at most) 4 pieces. */
	static const size_t lens[] = {(1 << 20) + 4096, 3 << 19, (2 << 20) + 512, 7 << 20};
	for (size_t t = 0; t < 4; t++) {
		size_t len = lens[t];
		uint8_t *mem = malloc(len);
		memset(mem, 0xee, len);
		unsigned n;
		struct iovec *iov = odd_buffers(mem, len, &n);
		assert_int_equal(run(bd, BLOCK_OP_READ, 4096, iov, n, 0), 0);
		for (size_t i = 0; i < len; i++)
			if (mem[i] != pattern(4096 + i, 0))
				fail_msg("len %zu: byte %zu wrong", len, i);
		free(iov);
		free(mem);
	}
	/* A write in pieces lands where it should. */
	size_t len = 6 << 20;
	uint8_t *mem = malloc(len), *back = malloc(len + 2);
	for (size_t i = 0; i < len; i++)
		mem[i] = (uint8_t)(i * 131 + 7);
	unsigned n;
	struct iovec *iov = odd_buffers(mem, len, &n);
	assert_int_equal(run(bd, BLOCK_OP_WRITE, 4096, iov, n, 0), 0);
	peek(path, 4095, back, len + 2);
	assert_int_equal(back[0], pattern(4095, 0));
	assert_memory_equal(back + 1, mem, len);
	assert_int_equal(back[len + 1], pattern(4096 + len, 0));
	/* End of file inside the third piece: the pieces before it read
	 * data, the rest zeroes. */
	const size_t eof = 3500000;
	assert_int_equal(truncate(path, 4096 + eof), 0);
	memset(mem, 0xee, len);
	assert_int_equal(run(bd, BLOCK_OP_READ, 4096, iov, n, 0), 0);
	for (size_t i = 0; i < len; i++) {
		uint8_t want = i < eof ? (uint8_t)(i * 131 + 7) : 0;
		if (mem[i] != want)
			fail_msg("byte %zu: 0x%02x, expected 0x%02x", i, mem[i], want);
	}
	/* One piece failing fails the request. */
	struct rlimit old, lim;
	assert_int_equal(getrlimit(RLIMIT_FSIZE, &old), 0);
	signal(SIGXFSZ, SIG_IGN);
	lim = old;
	lim.rlim_cur = 5 << 20;
	assert_int_equal(setrlimit(RLIMIT_FSIZE, &lim), 0);
	int r = run(bd, BLOCK_OP_WRITE, 4096, iov, n, 0);
	assert_int_equal(setrlimit(RLIMIT_FSIZE, &old), 0);
	assert_int_equal(r, -EFBIG);
	free(iov);
	free(mem);
	free(back);
	block_close(bd);
	unlink(path);
}

static void test_concurrent(void **state)
{
	struct fixture *f = *state;
	enum { N = 64 };
	static uint8_t bufs[N][4096];
	static struct iovec iov[N];
	static struct block_req req[N];
	struct waiter w;
	waiter_init(&w);
	for (int i = 0; i < N; i++) {
		iov[i] = (struct iovec){bufs[i], 4096};
		req[i] = (struct block_req){.op = BLOCK_OP_READ,
					    .offset = (uint64_t)(N - 1 - i) * 4096,
					    .iov = &iov[i],
					    .niov = 1,
					    .done = on_done,
					    .opaque = &w};
	}
	for (int i = 0; i < N; i++)
		block_submit(f->bd, &req[i]);
	block_drain(f->bd);
	assert_int_equal(w.done, N);
	assert_int_equal(w.status, 0);
	for (int i = 0; i < N; i++)
		for (int j = 0; j < 4096; j += 511)
			assert_int_equal(bufs[i][j], pattern((uint64_t)(N - 1 - i) * 4096 + j, 0));
}

static void test_refused(void **state)
{
	struct fixture *f = *state;
	uint8_t buf[1024];
	struct iovec one = {buf, 512}, odd = {buf, 100}, two = {buf, 1024};
	/* Past the end, straddling it, unaligned offset or length. */
	assert_int_equal(run(f->bd, BLOCK_OP_READ, IMG_SIZE, &one, 1, 0), -EINVAL);
	assert_int_equal(run(f->bd, BLOCK_OP_READ, IMG_SIZE - 512, &two, 1, 0), -EINVAL);
	assert_int_equal(run(f->bd, BLOCK_OP_READ, 100, &one, 1, 0), -EINVAL);
	assert_int_equal(run(f->bd, BLOCK_OP_WRITE, 0, &odd, 1, 0), -EINVAL);
	assert_int_equal(run(f->bd, BLOCK_OP_DISCARD, IMG_SIZE - 512, NULL, 0, 1024), -EINVAL);
	assert_int_equal(run(f->bd, (enum block_op)99, 0, NULL, 0, 0), -EINVAL);
	/* The last sector is fine; an empty read completes too. */
	assert_int_equal(run(f->bd, BLOCK_OP_READ, IMG_SIZE - 512, &one, 1, 0), 0);
	assert_int_equal(run(f->bd, BLOCK_OP_READ, 0, NULL, 0, 0), 0);
}

static void test_readonly(void **state)
{
	struct fixture *f = *state;
	block_close(f->bd);
	char err[256];
	assert_int_equal(block_open(f->path, "raw", BLOCK_RDONLY, &f->bd, err, sizeof(err)), 0);
	assert_true(block_readonly(f->bd));
	uint8_t buf[512];
	struct iovec iov = {buf, 512};
	assert_int_equal(run(f->bd, BLOCK_OP_WRITE, 0, &iov, 1, 0), -EROFS);
	assert_int_equal(run(f->bd, BLOCK_OP_WRITE_ZEROES, 0, NULL, 0, 512), -EROFS);
	assert_int_equal(run(f->bd, BLOCK_OP_DISCARD, 0, NULL, 0, 512), -EROFS);
	assert_int_equal(run(f->bd, BLOCK_OP_READ, 0, &iov, 1, 0), 0);
	assert_int_equal(buf[5], pattern(5, 0));
	assert_int_equal(run(f->bd, BLOCK_OP_FLUSH, 0, NULL, 0, 0), 0);
	/* Nothing changed in the file. */
	uint8_t back[512];
	peek(f->path, 0, back, 512);
	assert_memory_equal(back, buf, 512);
}

/* The file shrinks under the open device: reads past its end give zeroes. */
static void test_eof_zeroes(void **state)
{
	struct fixture *f = *state;
	assert_int_equal(truncate(f->path, IMG_SIZE / 2 + 100), 0);
	uint8_t buf[2048];
	memset(buf, 0xee, sizeof(buf));
	struct iovec iov = {buf, sizeof(buf)};
	assert_int_equal(run(f->bd, BLOCK_OP_READ, IMG_SIZE / 2 - 1024, &iov, 1, 0), 0);
	for (int i = 0; i < 1124; i++)
		assert_int_equal(buf[i], pattern(IMG_SIZE / 2 - 1024 + i, 0));
	for (int i = 1124; i < 2048; i++)
		assert_int_equal(buf[i], 0);
	assert_int_equal(block_size(f->bd), IMG_SIZE);
}

static void test_flush_discard_zeroes(void **state)
{
	struct fixture *f = *state;
	assert_int_equal(block_flush(f->bd), 0);
	assert_int_equal(run(f->bd, BLOCK_OP_WRITE_ZEROES, 8192, NULL, 0, 8192), 0);
	uint8_t back[8192 + 2];
	peek(f->path, 8191, back, sizeof(back));
	assert_int_equal(back[0], pattern(8191, 0));
	for (int i = 1; i <= 8192; i++)
		assert_int_equal(back[i], 0);
	assert_int_equal(back[8193], pattern(16384, 0));
	assert_int_equal(run(f->bd, BLOCK_OP_DISCARD, 65536, NULL, 0, 65536), 0);
	/* The size stays. */
	struct stat st;
	assert_int_equal(stat(f->path, &st), 0);
	assert_int_equal(st.st_size, IMG_SIZE);
}

static void test_sync_helpers(void **state)
{
	struct fixture *f = *state;
	uint8_t buf[1024], back[1024];
	for (int i = 0; i < 1024; i++)
		buf[i] = (uint8_t)(255 - i);
	assert_int_equal(block_pwrite(f->bd, buf, sizeof(buf), 3 * 512), 0);
	assert_int_equal(block_pread(f->bd, back, sizeof(back), 3 * 512), 0);
	assert_memory_equal(buf, back, sizeof(buf));
	assert_int_equal(block_pread(f->bd, back, 100, 0), -EINVAL);
}

/* A write the file system refuses (here: past RLIMIT_FSIZE) ends with the
 * error in the completion. */
static void test_write_error(void **state)
{
	struct fixture *f = *state;
	struct rlimit old, lim;
	assert_int_equal(getrlimit(RLIMIT_FSIZE, &old), 0);
	signal(SIGXFSZ, SIG_IGN);
	assert_int_equal(truncate(f->path, 4096), 0);
	lim = old;
	lim.rlim_cur = 8192;
	assert_int_equal(setrlimit(RLIMIT_FSIZE, &lim), 0);
	uint8_t buf[4096] = {0};
	struct iovec iov = {buf, sizeof(buf)};
	int r = run(f->bd, BLOCK_OP_WRITE, 65536, &iov, 1, 0);
	assert_int_equal(setrlimit(RLIMIT_FSIZE, &old), 0);
	assert_int_equal(r, -EFBIG);
	/* Within the limit it works. */
	assert_int_equal(run(f->bd, BLOCK_OP_WRITE, 4096, &iov, 1, 0), 0);
}

/* Requests still in flight when the device is closed complete first. */
static void test_close_waits(void **state)
{
	struct fixture *f = *state;
	enum { N = 32 };
	static uint8_t bufs[N][8192];
	static struct iovec iov[N];
	static struct block_req req[N];
	struct waiter w;
	waiter_init(&w);
	for (int i = 0; i < N; i++) {
		iov[i] = (struct iovec){bufs[i], 8192};
		req[i] = (struct block_req){.op = i & 1 ? BLOCK_OP_WRITE : BLOCK_OP_READ,
					    .offset = (uint64_t)i * 8192,
					    .iov = &iov[i],
					    .niov = 1,
					    .done = on_done,
					    .opaque = &w};
		block_submit(f->bd, &req[i]);
	}
	block_close(f->bd);
	f->bd = NULL;
	assert_int_equal(w.done, N);
	assert_int_equal(w.status, 0);
}

/* --- opening ---------------------------------------------------------------- */

static void test_open_errors(void **state)
{
	(void)state;
	struct block_dev *bd = (void *)1;
	char err[256];
	assert_int_equal(block_open("/nonexistent/osio.img", NULL, 0, &bd, err, sizeof(err)),
			 -ENOENT);
	assert_null(bd);
	assert_non_null(strstr(err, "/nonexistent/osio.img"));
	assert_true(block_open("/tmp", NULL, BLOCK_RDONLY, &bd, err, sizeof(err)) < 0);
	assert_non_null(strstr(err, "/tmp"));
	assert_non_null(strstr(err, "directory"));
	assert_int_equal(block_open("/dev/null", NULL, BLOCK_RDONLY, &bd, err, sizeof(err)),
			 -EINVAL);
	assert_non_null(strstr(err, "/dev/null"));
	assert_int_equal(block_open("/dev/null", "qcow7", BLOCK_RDONLY, &bd, err, sizeof(err)),
			 -EINVAL);
	assert_non_null(strstr(err, "qcow7"));
	assert_int_equal(block_open("", NULL, 0, &bd, err, sizeof(err)), -EINVAL);
}

/* An image the caller opened (block_open_fd): the path is only its name,
 * the descriptor's access mode is checked, a failure closes it. */
static bool fd_open(int fd)
{
	return fcntl(fd, F_GETFD) >= 0;
}

static void test_open_fd(void **state)
{
	(void)state;
	char path[64];
	make_image(path, sizeof(path), 8192);
	const char *label = "/nonexistent/given.img"; /* never opened */
	struct block_dev *bd = NULL;
	char err[256];
	uint8_t buf[512];

	/* Read-only, by a descriptor of a file nobody else may open. */
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	assert_true(fd >= 0);
	assert_int_equal(chmod(path, 0), 0);
	assert_int_equal(block_open_fd(fd, label, NULL, BLOCK_RDONLY, &bd, err, sizeof(err)), 0);
	assert_string_equal(block_path(bd), label);
	assert_int_equal(block_size(bd), 8192);
	assert_int_equal(block_pread(bd, buf, 512, 4096), 0);
	for (unsigned i = 0; i < 512; i++)
		assert_int_equal(buf[i], pattern(4096 + i, 0));
	block_close(bd);
	assert_false(fd_open(fd));

	/* A read-only descriptor for a read-write open is refused, and closed. */
	assert_int_equal(chmod(path, 0600), 0);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	assert_int_equal(block_open_fd(fd, label, NULL, 0, &bd, err, sizeof(err)), -EACCES);
	assert_null(bd);
	assert_non_null(strstr(err, label));
	assert_non_null(strstr(err, "reading and writing"));
	assert_false(fd_open(fd));
	fd = open(path, O_WRONLY | O_CLOEXEC);
	assert_int_equal(block_open_fd(fd, label, "raw", BLOCK_RDONLY, &bd, err, sizeof(err)),
			 -EACCES);
	assert_non_null(strstr(err, "writing only"));
	assert_false(fd_open(fd));

	/* Read-write: writes reach the file; a probed raw image still may not
	 * be made to look like another format. */
	fd = open(path, O_RDWR | O_CLOEXEC);
	assert_int_equal(block_open_fd(fd, label, NULL, 0, &bd, err, sizeof(err)), 0);
	memset(buf, 0xa5, sizeof(buf));
	assert_int_equal(block_pwrite(bd, buf, 512, 512), 0);
	uint8_t qcow2[512] = {'Q', 'F', 'I', 0xfb, 0, 0, 0, 3};
	assert_int_equal(block_pwrite(bd, qcow2, 512, 0), -EPERM);
	block_close(bd);
	uint8_t back[512];
	int rfd = open(path, O_RDONLY);
	assert_int_equal(pread(rfd, back, 512, 512), 512);
	close(rfd);
	assert_memory_equal(back, buf, 512);

	/* A descriptor of something that is no image, and none at all. */
	fd = open("/tmp", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	assert_true(block_open_fd(fd, "/tmp", NULL, BLOCK_RDONLY, &bd, err, sizeof(err)) < 0);
	assert_non_null(strstr(err, "directory"));
	assert_false(fd_open(fd));
	assert_int_equal(block_open_fd(-1, label, NULL, BLOCK_RDONLY, &bd, err, sizeof(err)),
			 -EBADF);
	unlink(path);
}

/* A VHDX given by descriptor is recognised from its contents and used. */
static void test_open_fd_vhdx(void **state)
{
	(void)state;
	char path[64];
	snprintf(path, sizeof(path), "/tmp/osio-blkfd-%d.vhdx", (int)getpid());
	unlink(path);
	struct block_create_opts o = {.size = 4 << 20};
	char err[256];
	assert_int_equal(block_create(path, "vhdx", &o, err, sizeof(err)), 0);
	int fd = open(path, O_RDWR | O_CLOEXEC);
	struct block_dev *bd = NULL;
	assert_int_equal(block_open_fd(fd, path, NULL, 0, &bd, err, sizeof(err)), 0);
	assert_string_equal(block_format(bd), "vhdx");
	assert_int_equal(block_size(bd), 4 << 20);
	uint8_t buf[512], back[512];
	fill(buf, sizeof(buf), 1 << 20, 3);
	assert_int_equal(block_pwrite(bd, buf, 512, 1 << 20), 0);
	block_close(bd);
	assert_int_equal(block_open(path, NULL, BLOCK_RDONLY, &bd, err, sizeof(err)), 0);
	assert_int_equal(block_pread(bd, back, 512, 1 << 20), 0);
	assert_memory_equal(back, buf, 512);
	block_close(bd);
	unlink(path);
}

/* A partial trailing sector is not part of the device. */
static void test_odd_size(void **state)
{
	(void)state;
	char path[64];
	make_image(path, sizeof(path), 4096 + 300);
	struct block_dev *bd;
	char err[256];
	assert_int_equal(block_open(path, NULL, BLOCK_RDONLY, &bd, err, sizeof(err)), 0);
	assert_int_equal(block_size(bd), 4096);
	block_close(bd);
	unlink(path);
}

static void test_lock_same_process(void **state)
{
	struct fixture *f = *state;
	struct block_dev *bd2 = NULL;
	char err[256] = "";
	/* Read-write is exclusive, also within one process (two drives). */
	assert_int_equal(block_open(f->path, NULL, 0, &bd2, err, sizeof(err)), -EBUSY);
	assert_non_null(strstr(err, f->path));
	assert_non_null(strstr(err, "already open in this VM"));
	assert_int_equal(block_open(f->path, NULL, BLOCK_RDONLY, &bd2, err, sizeof(err)), -EBUSY);
	assert_non_null(strstr(err, "already open read-write in this VM"));
	/* Readers share. */
	block_close(f->bd);
	assert_int_equal(block_open(f->path, NULL, BLOCK_RDONLY, &f->bd, err, sizeof(err)), 0);
	assert_int_equal(block_open(f->path, NULL, BLOCK_RDONLY, &bd2, err, sizeof(err)), 0);
	struct block_dev *bd3 = NULL;
	assert_int_equal(block_open(f->path, NULL, 0, &bd3, err, sizeof(err)), -EBUSY);
	block_close(bd2);
	/* Closing drops the lock. */
	block_close(f->bd);
	assert_int_equal(block_open(f->path, NULL, 0, &f->bd, err, sizeof(err)), 0);
}

/* Another process (another VM) holds the image: the message names it. */
static void test_lock_other_process(void **state)
{
	struct fixture *f = *state;
	block_close(f->bd);
	f->bd = NULL;
	int ready[2], quit[2];
	assert_int_equal(pipe(ready), 0);
	assert_int_equal(pipe(quit), 0);
	pid_t child = fork();
	assert_true(child >= 0);
	if (child == 0) {
		struct block_dev *bd;
		char e[256];
		char c = block_open(f->path, NULL, 0, &bd, e, sizeof(e)) == 0 ? 'y' : 'n';
		if (write(ready[1], &c, 1) != 1)
			_exit(2);
		if (read(quit[0], &c, 1) < 0)
			_exit(2);
		_exit(0);
	}
	char c = 0;
	assert_int_equal(read(ready[0], &c, 1), 1);
	assert_int_equal(c, 'y');
	char err[256] = "", want[32];
	struct block_dev *bd = NULL;
	int r = block_open(f->path, NULL, 0, &bd, err, sizeof(err));
	snprintf(want, sizeof(want), "process %d", (int)child);
	bool named = strstr(err, want) != NULL && strstr(err, "stop that VM") != NULL;
	int r2 = block_open(f->path, NULL, BLOCK_RDONLY, &bd, err, sizeof(err));
	assert_int_equal(write(quit[1], "q", 1), 1);
	int status;
	assert_int_equal(waitpid(child, &status, 0), child);
	assert_int_equal(r, -EBUSY);
	assert_int_equal(r2, -EBUSY);
	assert_true(named);
	/* The holder is gone: the image opens. */
	assert_int_equal(block_open(f->path, NULL, 0, &f->bd, err, sizeof(err)), 0);
	close(ready[0]);
	close(ready[1]);
	close(quit[0]);
	close(quit[1]);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test_setup_teardown(test_open_facts, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_scatter_read, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_scatter_write, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_many_buffers, setup, teardown),
	    cmocka_unit_test(test_large_pieces),
	    cmocka_unit_test_setup_teardown(test_concurrent, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_refused, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_readonly, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_eof_zeroes, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_flush_discard_zeroes, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_sync_helpers, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_write_error, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_close_waits, setup, teardown),
	    cmocka_unit_test(test_open_errors),
	    cmocka_unit_test(test_open_fd),
	    cmocka_unit_test(test_open_fd_vhdx),
	    cmocka_unit_test(test_odd_size),
	    cmocka_unit_test_setup_teardown(test_lock_same_process, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_lock_other_process, setup, teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
