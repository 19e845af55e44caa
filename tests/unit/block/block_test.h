/* Shared by the block layer's unit tests: a scratch folder, data patterns,
 * qemu-img, byte-level peeks and patches of image files, direct requests. */
#ifndef OSIO_TEST_BLOCK_TEST_H
#define OSIO_TEST_BLOCK_TEST_H

#include "devices/block/block.h"

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <cmocka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

/* The scratch folder is /tmp/osio-BLOCK_TEST_NAME-XXXXXX. */
#ifndef BLOCK_TEST_NAME
#error "define BLOCK_TEST_NAME (the scratch folder's name) before block_test.h"
#endif

#define MiB (1ull << 20)

static char dir[64];

/* dir/name; the last 8 results stay valid. */
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
	snprintf(dir, sizeof(dir), "/tmp/osio-" BLOCK_TEST_NAME "-XXXXXX");
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

/* Byte i of test data number seed (never all zeroes). */
static inline uint8_t pattern(uint64_t i, unsigned seed)
{
	return (uint8_t)(i * 7 + (i >> 9) * 13 + seed * 31 + 1);
}

static inline void fill(uint8_t *buf, size_t len, uint64_t off, unsigned seed)
{
	for (size_t i = 0; i < len; i++)
		buf[i] = pattern(off + i, seed);
}

/* Runs a shell command; its exit status (-1 if killed). */
static inline int sh(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static inline int sh(const char *fmt, ...)
{
	char cmd[2048];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(cmd, sizeof(cmd), fmt, ap);
	va_end(ap);
	int r = system(cmd);
	return WIFEXITED(r) ? WEXITSTATUS(r) : -1;
}

static inline bool have_qemu_img(void)
{
	return system("qemu-img --version >/dev/null 2>&1") == 0;
}

/* Creates path (replacing a file there) in format; fails the test if not. */
static inline void create_as(const char *path, const char *format,
			     const struct block_create_opts *o)
{
	char err[512] = "";
	unlink(path);
	int r = block_create(path, format, o, err, sizeof(err));
	if (r < 0)
		fail_msg("create %s: %d %s", path, r, err);
}

/* Opens path, letting the block layer recognize it as format. */
static inline struct block_dev *open_as(const char *path, unsigned flags, const char *format)
{
	char err[512] = "";
	struct block_dev *bd = NULL;
	int r = block_open(path, NULL, flags, &bd, err, sizeof(err));
	if (r < 0)
		fail_msg("open %s: %d %s", path, r, err);
	assert_string_equal(block_format(bd), format);
	return bd;
}

/* Opening path as format fails with a message naming the file and
 * containing what. */
static inline void open_refused(const char *path, unsigned flags, const char *format,
				const char *what)
{
	char err[512] = "";
	struct block_dev *bd = NULL;
	int r = block_open(path, format, flags, &bd, err, sizeof(err));
	if (r == 0) {
		block_close(bd);
		fail_msg("%s opened; expected a refusal mentioning '%s'", path, what);
	}
	if (!strstr(err, path) || !strstr(err, what))
		fail_msg("message '%s' does not name %s and '%s'", err, path, what);
}

/* Bytes of an image file, read or written behind the block layer's back. */
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

static inline uint64_t file_size(const char *path)
{
	struct stat st;
	assert_int_equal(stat(path, &st), 0);
	return (uint64_t)st.st_size;
}

/* Requests submitted directly (many buffers, any operation). */
struct waiter {
	pthread_mutex_t lock;
	pthread_cond_t cond;
	unsigned done;
	int status;
	pthread_t thread; /* where the last completion ran */
};

static inline void waiter_init(struct waiter *w)
{
	memset(w, 0, sizeof(*w));
	pthread_mutex_init(&w->lock, NULL);
	pthread_cond_init(&w->cond, NULL);
}

static inline void on_done(struct block_req *req, int status)
{
	struct waiter *w = req->opaque;
	pthread_mutex_lock(&w->lock);
	w->done++;
	if (status < 0)
		w->status = status;
	w->thread = pthread_self();
	pthread_cond_broadcast(&w->cond);
	pthread_mutex_unlock(&w->lock);
}

static inline void wait_for(struct waiter *w, unsigned n)
{
	pthread_mutex_lock(&w->lock);
	while (w->done < n)
		pthread_cond_wait(&w->cond, &w->lock);
	pthread_mutex_unlock(&w->lock);
}

/* Submits one request, waits for it and drains the device; its status. */
static inline int submit_wait(struct block_dev *bd, enum block_op op, uint64_t off,
			      const struct iovec *iov, unsigned niov, uint64_t len)
{
	struct waiter w;
	waiter_init(&w);
	struct block_req req = {.op = op,
				.offset = off,
				.iov = iov,
				.niov = niov,
				.len = len,
				.done = on_done,
				.opaque = &w};
	block_submit(bd, &req);
	wait_for(&w, 1);
	block_drain(bd);
	assert_int_equal(w.done, 1);
	pthread_cond_destroy(&w.cond);
	pthread_mutex_destroy(&w.lock);
	return w.status;
}

#endif
