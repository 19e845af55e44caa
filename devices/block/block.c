/* The block layer's common part: opening an image with its format driver,
 * checking requests before a driver sees them, counting requests in flight
 * for drain and close, and synchronous helpers. */
#include "devices/block/block.h"

#include "devices/block/block_driver.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const struct block_driver *const drivers[] = {&block_raw_driver};

static void set_err(char *err, size_t errlen, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static void set_err(char *err, size_t errlen, const char *fmt, ...)
{
	if (!err || !errlen)
		return;
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(err, errlen, fmt, ap);
	va_end(ap);
}

int block_open(const char *path, const char *format, unsigned flags, struct block_dev **out,
	       char *err, size_t errlen)
{
	*out = NULL;
	set_err(err, errlen, "%s: cannot open", path ? path : "(null)");
	if (!path || !*path) {
		set_err(err, errlen, "no image file given");
		return -EINVAL;
	}
	const struct block_driver *drv = NULL;
	if (!format) {
		drv = &block_raw_driver; /* the only format there is yet */
	} else {
		for (size_t i = 0; i < sizeof(drivers) / sizeof(drivers[0]); i++)
			if (strcmp(drivers[i]->name, format) == 0)
				drv = drivers[i];
	}
	if (!drv) {
		set_err(err, errlen, "%s: unknown image format '%s' (known: raw)", path, format);
		return -EINVAL;
	}

	struct block_dev *bd = calloc(1, sizeof(*bd));
	if (!bd)
		return -ENOMEM;
	bd->path = strdup(path);
	if (!bd->path) {
		free(bd);
		return -ENOMEM;
	}
	bd->drv = drv;
	bd->readonly = flags & BLOCK_RDONLY;
	pthread_mutex_init(&bd->lock, NULL);
	pthread_cond_init(&bd->idle, NULL);
	int r = drv->open(bd, path, flags, err, errlen);
	if (r < 0) {
		pthread_cond_destroy(&bd->idle);
		pthread_mutex_destroy(&bd->lock);
		free(bd->path);
		free(bd);
		return r;
	}
	bd->size -= bd->size % BLOCK_SECTOR;
	*out = bd;
	return 0;
}

void block_drain(struct block_dev *bd)
{
	pthread_mutex_lock(&bd->lock);
	while (bd->inflight)
		pthread_cond_wait(&bd->idle, &bd->lock);
	pthread_mutex_unlock(&bd->lock);
}

void block_close(struct block_dev *bd)
{
	if (!bd)
		return;
	block_drain(bd);
	bd->drv->close(bd);
	pthread_cond_destroy(&bd->idle);
	pthread_mutex_destroy(&bd->lock);
	free(bd->path);
	free(bd);
}

uint64_t block_size(const struct block_dev *bd)
{
	return bd->size;
}

bool block_readonly(const struct block_dev *bd)
{
	return bd->readonly;
}

const char *block_path(const struct block_dev *bd)
{
	return bd->path;
}

const char *block_format(const struct block_dev *bd)
{
	return bd->drv->name;
}

void block_complete(struct block_req *req, int status)
{
	struct block_dev *bd = req->bd;
	req->done(req, status);
	pthread_mutex_lock(&bd->lock);
	if (--bd->inflight == 0)
		pthread_cond_broadcast(&bd->idle);
	pthread_mutex_unlock(&bd->lock);
}

/* 0 if the driver may run req, else the status it ends with. */
static int check(struct block_dev *bd, struct block_req *req)
{
	switch (req->op) {
	case BLOCK_OP_READ:
	case BLOCK_OP_WRITE: {
		uint64_t len = 0;
		if (req->niov && !req->iov)
			return -EINVAL;
		for (unsigned i = 0; i < req->niov; i++) {
			if (req->iov[i].iov_len && !req->iov[i].iov_base)
				return -EINVAL;
			len += req->iov[i].iov_len;
			if (len < req->iov[i].iov_len)
				return -EINVAL;
		}
		req->len = len;
		break;
	}
	case BLOCK_OP_FLUSH:
		req->len = 0;
		req->offset = 0;
		break;
	case BLOCK_OP_DISCARD:
	case BLOCK_OP_WRITE_ZEROES:
		break;
	default:
		return -EINVAL;
	}
	if (req->op != BLOCK_OP_READ && req->op != BLOCK_OP_FLUSH && bd->readonly)
		return -EROFS;
	if (req->offset % BLOCK_SECTOR || req->len % BLOCK_SECTOR)
		return -EINVAL;
	if (req->offset > bd->size || req->len > bd->size - req->offset)
		return -EINVAL;
	return 0;
}

void block_submit(struct block_dev *bd, struct block_req *req)
{
	req->bd = bd;
	req->next = NULL;
	pthread_mutex_lock(&bd->lock);
	bd->inflight++;
	pthread_mutex_unlock(&bd->lock);
	int r = check(bd, req);
	if (r < 0 || (req->len == 0 && req->op != BLOCK_OP_FLUSH)) {
		block_complete(req, r);
		return;
	}
	bd->drv->submit(bd, req);
}

/* --- synchronous helpers --------------------------------------------------- */

struct sync_wait {
	pthread_mutex_t lock;
	pthread_cond_t cond;
	bool done;
	int status;
};

static void sync_done(struct block_req *req, int status)
{
	struct sync_wait *w = req->opaque;
	pthread_mutex_lock(&w->lock);
	w->status = status;
	w->done = true;
	pthread_cond_signal(&w->cond);
	pthread_mutex_unlock(&w->lock);
}

static int run_sync(struct block_dev *bd, enum block_op op, void *buf, size_t len, uint64_t offset)
{
	struct sync_wait w = {.done = false};
	pthread_mutex_init(&w.lock, NULL);
	pthread_cond_init(&w.cond, NULL);
	struct iovec iov = {.iov_base = buf, .iov_len = len};
	struct block_req req = {.op = op,
				.offset = offset,
				.iov = &iov,
				.niov = buf ? 1 : 0,
				.done = sync_done,
				.opaque = &w};
	block_submit(bd, &req);
	pthread_mutex_lock(&w.lock);
	while (!w.done)
		pthread_cond_wait(&w.cond, &w.lock);
	pthread_mutex_unlock(&w.lock);
	/* The request is still counted until block_complete returns. */
	block_drain(bd);
	pthread_cond_destroy(&w.cond);
	pthread_mutex_destroy(&w.lock);
	return w.status;
}

int block_pread(struct block_dev *bd, void *buf, size_t len, uint64_t offset)
{
	return run_sync(bd, BLOCK_OP_READ, buf, len, offset);
}

int block_pwrite(struct block_dev *bd, const void *buf, size_t len, uint64_t offset)
{
	return run_sync(bd, BLOCK_OP_WRITE, (void *)buf, len, offset);
}

int block_flush(struct block_dev *bd)
{
	return run_sync(bd, BLOCK_OP_FLUSH, NULL, 0, 0);
}
