/* Shared by the VHDX driver's tests (test_vhdx.c, test_vhdx_faults.c): a
 * scratch folder, patterns, image creation and byte-level patching. */
#ifndef OSIO_TEST_VHDX_FIXTURE_H
#define OSIO_TEST_VHDX_FIXTURE_H

#include "devices/block/block_driver.h"
#include "devices/block/vhdx_int.h"

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define MiB (1ull << 20)

static char dir[64];

static inline const char *tmp(const char *name)
{
	static char paths[8][160];
	static unsigned next;
	char *p = paths[next++ % 8];
	snprintf(p, 160, "%s/%s", dir, name);
	return p;
}

static inline int setup_dir(void **state)
{
	(void)state;
	snprintf(dir, sizeof(dir), "/tmp/osio-vhdx-XXXXXX");
	assert_non_null(mkdtemp(dir));
	return 0;
}

static inline int teardown_dir(void **state)
{
	(void)state;
	char cmd[128];
	snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
	assert_int_equal(system(cmd), 0);
	return 0;
}

static inline uint8_t pattern(uint64_t i, unsigned seed)
{
	return (uint8_t)(i * 7 + (i >> 9) * 13 + seed * 31 + 1);
}

static inline void fill(uint8_t *buf, size_t len, uint64_t off, unsigned seed)
{
	for (size_t i = 0; i < len; i++)
		buf[i] = pattern(off + i, seed);
}

static inline int sh(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static inline int sh(const char *fmt, ...)
{
	char cmd[2048];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(cmd, sizeof(cmd), fmt, ap);
	va_end(ap);
	return system(cmd);
}

static inline bool have_qemu_img(void)
{
	return system("qemu-img --version >/dev/null 2>&1") == 0;
}

struct copts {
	bool fixed;
	uint32_t block;
	unsigned ls;
	const char *parent;
};

static inline void create(const char *path, uint64_t size, struct copts c)
{
	char err[512] = "";
	struct block_create_opts o = {.size = size,
				      .fixed = c.fixed,
				      .block_size = c.block,
				      .logical_sector = c.ls,
				      .parent = c.parent};
	unlink(path);
	int r = block_create(path, "vhdx", &o, err, sizeof(err));
	if (r < 0)
		fail_msg("create %s: %s", path, err);
}

static inline struct block_dev *open_img(const char *path, unsigned flags)
{
	char err[512] = "";
	struct block_dev *bd;
	int r = block_open(path, NULL, flags, &bd, err, sizeof(err));
	if (r < 0)
		fail_msg("open %s: %s", path, err);
	assert_string_equal(block_format(bd), "vhdx");
	return bd;
}

/* Opening fails; err must contain want. */
static inline void open_fails(const char *path, unsigned flags, const char *want)
{
	char err[512] = "";
	struct block_dev *bd = NULL;
	int r = block_open(path, "vhdx", flags, &bd, err, sizeof(err));
	if (r == 0) {
		block_close(bd);
		fail_msg("%s opened, expected a refusal with '%s'", path, want);
	}
	if (!strstr(err, want) || !strstr(err, path))
		fail_msg("error '%s' lacks '%s' or the path", err, want);
}

static inline void check_read(struct block_dev *bd, const uint8_t *want, uint64_t off, size_t len)
{
	uint8_t *got = malloc(len);
	assert_int_equal(block_pread(bd, got, len, off), 0);
	for (size_t i = 0; i < len; i++)
		if (got[i] != want[i])
			fail_msg("byte 0x%llx: got %02x, want %02x", (unsigned long long)(off + i),
				 got[i], want[i]);
	free(got);
}

static inline void patch(const char *path, uint64_t off, const void *data, size_t len)
{
	int fd = open(path, O_RDWR);
	assert_true(fd >= 0);
	assert_int_equal(pwrite(fd, data, len, (off_t)off), (ssize_t)len);
	close(fd);
}

static inline void peek(const char *path, uint64_t off, void *data, size_t len)
{
	int fd = open(path, O_RDONLY);
	assert_true(fd >= 0);
	assert_int_equal(pread(fd, data, len, (off_t)off), (ssize_t)len);
	close(fd);
}

/* Reads the current header of an image (and which slot it is in). */
static inline unsigned read_header(const char *path, struct vhdx_header *h)
{
	uint8_t b[2][VHDX_HEADER_SIZE];
	struct vhdx_header hh[2];
	peek(path, VHDX_HEADER1_OFF, b[0], VHDX_HEADER_SIZE);
	peek(path, VHDX_HEADER2_OFF, b[1], VHDX_HEADER_SIZE);
	bool ok0 = vhdx_header_decode(b[0], &hh[0]) == 0,
	     ok1 = vhdx_header_decode(b[1], &hh[1]) == 0;
	assert_true(ok0 || ok1);
	unsigned cur = ok0 && ok1 ? (hh[1].seq > hh[0].seq) : ok1;
	*h = hh[cur];
	return cur;
}

/* Writes h into both header slots with valid checksums. */
static inline void write_headers(const char *path, struct vhdx_header h)
{
	uint8_t b[VHDX_HEADER_SIZE];
	h.seq += 10;
	vhdx_header_encode(&h, b);
	patch(path, VHDX_HEADER1_OFF, b, sizeof(b));
	h.seq++;
	vhdx_header_encode(&h, b);
	patch(path, VHDX_HEADER2_OFF, b, sizeof(b));
}

/* Requests with many buffers, submitted directly. */
struct waiter {
	pthread_mutex_t lock;
	pthread_cond_t cond;
	unsigned done;
	int status;
};

static inline void on_done(struct block_req *req, int status)
{
	struct waiter *w = req->opaque;
	pthread_mutex_lock(&w->lock);
	w->done++;
	if (status < 0)
		w->status = status;
	pthread_cond_broadcast(&w->cond);
	pthread_mutex_unlock(&w->lock);
}

static inline int writev_sync(struct block_dev *bd, const struct iovec *iov, unsigned n,
			      uint64_t off)
{
	struct waiter w = {.done = 0};
	pthread_mutex_init(&w.lock, NULL);
	pthread_cond_init(&w.cond, NULL);
	struct block_req r = {.op = BLOCK_OP_WRITE,
			      .offset = off,
			      .iov = iov,
			      .niov = n,
			      .done = on_done,
			      .opaque = &w};
	block_submit(bd, &r);
	block_drain(bd);
	return w.status;
}

#endif
