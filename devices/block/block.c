/* The block layer's common part: opening an image with its format driver,
 * checking requests before a driver sees them, counting requests in flight
 * for drain and close, and synchronous helpers. */
#include "devices/block/block.h"

#include "devices/block/block_driver.h"

#include <assert.h>
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

/* Drivers, most specific first; raw takes what no other recognizes. The
 * format drivers are weak references until all of them are in the tree. */
extern const struct block_driver block_vhdx_driver __attribute__((weak));
extern const struct block_driver block_vhd_driver __attribute__((weak));
extern const struct block_driver block_qcow2_driver __attribute__((weak));

const char *const block_formats[] = {"raw", "vhdx", "vhd", "qcow2", NULL};

#define IO_THREADS 16 /* pool threads per image for drivers with `io` */

static const struct block_driver *driver_at(size_t i)
{
	switch (i) {
	case 0:
		return &block_raw_driver;
	case 1:
		return &block_vhdx_driver;
	case 2:
		return &block_vhd_driver;
	case 3:
		return &block_qcow2_driver;
	default:
		return NULL;
	}
}

const struct block_driver *block_driver_find(const char *name)
{
	for (size_t i = 0; i < 4; i++) {
		const struct block_driver *d = driver_at(i);
		if (d && strcmp(d->name, name) == 0)
			return d;
	}
	return NULL;
}

void block_set_err(char *err, size_t errlen, const char *fmt, ...)
{
	if (!err || !errlen)
		return;
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(err, errlen, fmt, ap);
	va_end(ap);
}

/* The driver whose probe is most confident about these bytes, or raw. */
static const struct block_driver *best_driver(const uint8_t *head, size_t headlen,
					      const uint8_t *tail, size_t taillen)
{
	const struct block_driver *best = &block_raw_driver;
	int best_score = 0;
	for (size_t i = 0; i < 4; i++) {
		const struct block_driver *d = driver_at(i);
		if (!d || !d->probe)
			continue;
		int score = d->probe(head, headlen, tail, taillen);
		if (score > best_score) {
			best = d;
			best_score = score;
		}
	}
	return best;
}

/* The driver for an image by its contents: the most confident probe, or
 * raw. */
static int probe_format(const char *path, int given_fd, const struct block_driver **out, char *err,
			size_t errlen)
{
	int fd = given_fd >= 0 ? given_fd : open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY);
	if (fd < 0) {
		int e = errno;
		if (e == ENOENT)
			block_set_err(err, errlen, "%s: no such file; check the path", path);
		else
			block_set_err(err, errlen, "%s: cannot open: %s", path, strerror(e));
		return -e;
	}
	static_assert(BLOCK_PROBE_HEAD >= BLOCK_PROBE_TAIL, "probe buffers");
	uint8_t head[BLOCK_PROBE_HEAD], tail[BLOCK_PROBE_TAIL];
	size_t headlen = 0, taillen = 0;
	struct stat st;
	if (fstat(fd, &st) == 0 && S_ISREG(st.st_mode)) {
		ssize_t n = pread(fd, head, sizeof(head), 0);
		headlen = n > 0 ? (size_t)n : 0;
		if (st.st_size >= (off_t)sizeof(tail)) {
			n = pread(fd, tail, sizeof(tail), st.st_size - (off_t)sizeof(tail));
			taillen = n > 0 ? (size_t)n : 0;
		}
	} else if (fstat(fd, &st) == 0 && S_ISBLK(st.st_mode)) {
		ssize_t n = pread(fd, head, sizeof(head), 0);
		headlen = n > 0 ? (size_t)n : 0;
	}
	if (fd != given_fd)
		close(fd);
	*out = best_driver(head, headlen, tail, taillen);
	return 0;
}

int block_attach(struct block_dev *bd, const struct block_driver *drv, const char *path,
		 unsigned flags, struct block_dev *child, char *err, size_t errlen)
{
	struct stat st;
	int r;
	if (bd->src_given ? fstat(bd->src_fd, &st) < 0 : stat(path, &st) < 0) {
		r = -errno;
		block_set_err(err, errlen, "%s: cannot open: %s", path, strerror(-r));
		return r;
	}
	bd->path = strdup(path);
	if (!bd->path)
		return -ENOMEM;
	bd->drv = drv;
	bd->priv = NULL;
	bd->size = 0;
	bd->readonly = flags & BLOCK_RDONLY;
	bd->probed_raw = false;
	bd->probe_fd = -1;
	bd->share = (flags & BLOCK_SHARE) && (flags & BLOCK_RDONLY);
	bd->logical_sector = BLOCK_SECTOR;
	bd->dev = st.st_dev;
	bd->ino = st.st_ino;
	bd->backing = NULL;
	bd->child = child;
	bd->depth = child ? child->depth + 1 : 0;
	bd->pool = NULL;
	if (drv->io) {
		bd->pool = block_pool_new(IO_THREADS);
		if (!bd->pool) {
			r = -ENOMEM;
			goto fail;
		}
	}
	r = drv->open(bd, path, flags, err, errlen);
	if (r < 0)
		goto fail;
	bd->child = NULL;
	bd->size -= bd->size % BLOCK_SECTOR;
	if (bd->logical_sector != BLOCK_SECTOR && bd->logical_sector != 4096)
		bd->logical_sector = BLOCK_SECTOR;
	return 0;
fail:
	block_pool_free(bd->pool);
	bd->pool = NULL;
	block_close(bd->backing);
	bd->backing = NULL;
	free(bd->path);
	bd->path = NULL;
	return r;
}

void block_detach(struct block_dev *bd)
{
	if (bd->probe_fd >= 0)
		close(bd->probe_fd);
	bd->probe_fd = -1;
	block_pool_free(bd->pool);
	bd->pool = NULL;
	bd->drv->close(bd);
	block_close(bd->backing);
	bd->backing = NULL;
	free(bd->path);
	bd->path = NULL;
}

/* The driver for path: format's, or the one its contents (read through fd
 * when that is not -1) say. */
static int pick_driver(const char *path, int fd, const char *format,
		       const struct block_driver **drv, char *err, size_t errlen)
{
	block_set_err(err, errlen, "%s: cannot open", path ? path : "(null)");
	if (!path || !*path) {
		block_set_err(err, errlen, "no image file given");
		return -EINVAL;
	}
	if (!format || !*format || strcmp(format, "auto") == 0)
		return probe_format(path, fd, drv, err, errlen);
	*drv = block_driver_find(format);
	if (!*drv) {
		block_set_err(err, errlen,
			      "%s: unknown image format '%s' (known: raw, vhdx, vhd, qcow2)", path,
			      format);
		return -EINVAL;
	}
	return 0;
}

/* fd: the image's descriptor (taken over, closed on failure), or -1 to open
 * path. */
static int open_chain(const char *path, int fd, const char *format, unsigned flags,
		      struct block_dev *child, struct block_dev **out, char *err, size_t errlen)
{
	*out = NULL;
	const struct block_driver *drv = NULL;
	struct block_dev *bd = NULL;
	int r = pick_driver(path, fd, format, &drv, err, errlen);
	if (r == 0 && !(bd = calloc(1, sizeof(*bd))))
		r = -ENOMEM;
	if (r < 0) {
		if (fd >= 0)
			close(fd);
		return r;
	}
	pthread_mutex_init(&bd->lock, NULL);
	pthread_cond_init(&bd->idle, NULL);
	/* A probed raw image keeps a read-only descriptor for block_submit's
	 * check; with a given one, a duplicate made before the driver takes it. */
	int probe_dup = -1;
	if (fd >= 0) {
		bd->src_given = true;
		bd->src_fd = fd;
		probe_dup = fcntl(fd, F_DUPFD_CLOEXEC, 0);
	}
	r = block_attach(bd, drv, path, flags, child, err, errlen);
	if (bd->src_given) /* block_attach failed before the driver took it */
		close(bd->src_fd);
	bd->src_given = false;
	if (r < 0) {
		if (probe_dup >= 0)
			close(probe_dup);
		pthread_cond_destroy(&bd->idle);
		pthread_mutex_destroy(&bd->lock);
		free(bd);
		return r;
	}
	bool probed = !format || !*format || strcmp(format, "auto") == 0;
	bd->probed_raw = probed && drv == &block_raw_driver && !bd->readonly;
	if (bd->probed_raw) /* -1: refuse */
		bd->probe_fd = fd >= 0 ? probe_dup : open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY);
	else if (probe_dup >= 0)
		close(probe_dup);
	*out = bd;
	return 0;
}

/* The images opened with block_open, oldest first. */
static pthread_mutex_t open_lock = PTHREAD_MUTEX_INITIALIZER;
static struct block_dev *open_list;

static int open_listed(const char *path, int fd, const char *format, unsigned flags,
		       struct block_dev **out, char *err, size_t errlen)
{
	int r = open_chain(path, fd, format, flags, NULL, out, err, errlen);
	if (r < 0)
		return r;
	pthread_mutex_lock(&open_lock);
	struct block_dev **p = &open_list;
	while (*p)
		p = &(*p)->next_open;
	*p = *out;
	(*out)->listed = true;
	pthread_mutex_unlock(&open_lock);
	return 0;
}

int block_open(const char *path, const char *format, unsigned flags, struct block_dev **out,
	       char *err, size_t errlen)
{
	return open_listed(path, -1, format, flags, out, err, errlen);
}

int block_open_fd(int fd, const char *path, const char *format, unsigned flags,
		  struct block_dev **out, char *err, size_t errlen)
{
	*out = NULL;
	if (fd < 0) {
		block_set_err(err, errlen, "%s: no descriptor given", path ? path : "(null)");
		return -EBADF;
	}
	return open_listed(path, fd, format, flags, out, err, errlen);
}

void block_for_each_open(void (*fn)(struct block_dev *bd, void *opaque), void *opaque)
{
	pthread_mutex_lock(&open_lock);
	for (struct block_dev *bd = open_list; bd; bd = bd->next_open)
		fn(bd, opaque);
	pthread_mutex_unlock(&open_lock);
}

void block_get_stats(const struct block_dev *bd, struct block_stats *out)
{
	out->rd_ops = __atomic_load_n(&bd->st_rd_ops, __ATOMIC_RELAXED);
	out->rd_bytes = __atomic_load_n(&bd->st_rd_bytes, __ATOMIC_RELAXED);
	out->wr_ops = __atomic_load_n(&bd->st_wr_ops, __ATOMIC_RELAXED);
	out->wr_bytes = __atomic_load_n(&bd->st_wr_bytes, __ATOMIC_RELAXED);
	out->flush_ops = __atomic_load_n(&bd->st_flush_ops, __ATOMIC_RELAXED);
	out->errors = __atomic_load_n(&bd->st_errors, __ATOMIC_RELAXED);
}

int block_probe(const char *path, const struct block_driver **out, char *err, size_t errlen)
{
	return probe_format(path, -1, out, err, errlen);
}

/* name resolved against the folder of `base`'s file, into out. */
static int resolve_relative(const char *base, const char *name, char *out, size_t outlen)
{
	if (name[0] == '/') {
		if (strlen(name) >= outlen)
			return -ENAMETOOLONG;
		strcpy(out, name);
		return 0;
	}
	const char *slash = strrchr(base, '/');
	int dirlen = slash ? (int)(slash - base) : 0;
	int n = slash ? snprintf(out, outlen, "%.*s/%s", dirlen, base, name)
		      : snprintf(out, outlen, "%s", name);
	return n < 0 || (size_t)n >= outlen ? -ENAMETOOLONG : 0;
}

int block_open_backing(struct block_dev *bd, const char *name, const char *format, char *err,
		       size_t errlen)
{
	char path[PATH_MAX];
	if (!name || !*name) {
		block_set_err(err, errlen, "%s: the image names an empty parent file", bd->path);
		return -EINVAL;
	}
	if (resolve_relative(bd->path, name, path, sizeof(path)) < 0) {
		block_set_err(err, errlen, "%s: the parent's name is too long", bd->path);
		return -ENAMETOOLONG;
	}
	if (bd->depth + 1 >= BLOCK_MAX_CHAIN) {
		block_set_err(err, errlen,
			      "%s: the chain of parent images is deeper than %d (a loop?); merge "
			      "some of them (osio disk convert)",
			      bd->path, BLOCK_MAX_CHAIN);
		return -ELOOP;
	}
	struct stat st;
	if (stat(path, &st) < 0) {
		int e = errno;
		if (e == ENOENT)
			block_set_err(
			    err, errlen,
			    "%s: its parent image %s: %s; put the parent back where the "
			    "image says, or if it moved: osio disk reconnect %s NEW-PARENT",
			    bd->path, path, strerror(e), bd->path);
		else
			block_set_err(err, errlen, "%s: its parent image %s: %s", bd->path, path,
				      strerror(e));
		return -e;
	}
	for (const struct block_dev *c = bd; c; c = c->child)
		if (c->dev == st.st_dev && c->ino == st.st_ino) {
			block_set_err(
			    err, errlen,
			    "%s: its chain of parent images comes back to %s (a loop); the "
			    "image's parent field is wrong",
			    bd->path, c->path);
			return -ELOOP;
		}
	struct block_dev *parent;
	char perr[512];
	int r = open_chain(path, -1, format, BLOCK_RDONLY | (bd->share ? BLOCK_SHARE : 0), bd,
			   &parent, perr, sizeof(perr));
	if (r == -ELOOP) {
		block_set_err(err, errlen, "%s", perr); /* names the image where it went wrong */
		return r;
	}
	if (r < 0) {
		block_set_err(err, errlen, "%s: its parent: %s", bd->path, perr);
		return r;
	}
	bd->backing = parent;
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
	if (bd->listed) {
		pthread_mutex_lock(&open_lock);
		for (struct block_dev **p = &open_list; *p; p = &(*p)->next_open) {
			if (*p == bd) {
				*p = bd->next_open;
				break;
			}
		}
		pthread_mutex_unlock(&open_lock);
	}
	block_detach(bd);
	pthread_cond_destroy(&bd->idle);
	pthread_mutex_destroy(&bd->lock);
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

static void count(struct block_dev *bd, const struct block_req *req, int status)
{
	uint64_t *ops = NULL, *bytes = NULL;
	switch (req->op) {
	case BLOCK_OP_READ:
		ops = &bd->st_rd_ops, bytes = &bd->st_rd_bytes;
		break;
	case BLOCK_OP_WRITE:
		ops = &bd->st_wr_ops, bytes = &bd->st_wr_bytes;
		break;
	case BLOCK_OP_FLUSH:
		ops = &bd->st_flush_ops;
		break;
	default:
		break;
	}
	if (ops)
		__atomic_fetch_add(ops, 1, __ATOMIC_RELAXED);
	if (bytes && status == 0)
		__atomic_fetch_add(bytes, req->len, __ATOMIC_RELAXED);
	if (status < 0)
		__atomic_fetch_add(&bd->st_errors, 1, __ATOMIC_RELAXED);
}

void block_complete(struct block_req *req, int status)
{
	struct block_dev *bd = req->bd;
	/* Before done: the request is the caller's again after it. */
	count(bd, req, status);
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

/* A request of a driver with `io`, on a pool thread. */
struct io_work {
	struct block_work w;
	struct block_req *req;
};

static void io_run(struct block_work *w)
{
	struct io_work *iw = (struct io_work *)w;
	struct block_req *req = iw->req;
	free(iw);
	block_complete(req, req->bd->drv->io(req->bd, req));
}

/* Whether a write to a raw image whose format was recognized rather than
 * named would make it look like another format. A guest that could write a
 * qcow2 or VHD header into its raw disk would name a host file as its
 * parent on the next recognizing open; such writes fail with -EPERM, as in
 * QEMU. Only writes that touch the bytes the probes look at are checked. */
static bool changes_format(struct block_dev *bd, const struct block_req *req)
{
	/* The file is at least bd->size long, so its probed tail starts at or
	 * after bd->size - BLOCK_PROBE_TAIL: most writes are decided here,
	 * without a system call. */
	if (req->offset >= BLOCK_PROBE_HEAD && bd->size >= BLOCK_PROBE_TAIL &&
	    req->offset + req->len <= bd->size - BLOCK_PROBE_TAIL)
		return false;
	int fd = bd->probe_fd;
	struct stat st;
	if (fd < 0 || fstat(fd, &st) < 0)
		return true; /* cannot tell: refuse */
	uint64_t fsize = S_ISREG(st.st_mode) ? (uint64_t)st.st_size : bd->size;
	uint64_t tail_off = fsize > BLOCK_PROBE_TAIL ? fsize - BLOCK_PROBE_TAIL : 0;
	if (req->offset >= BLOCK_PROBE_HEAD && req->offset + req->len <= tail_off)
		return false;
	uint8_t head[BLOCK_PROBE_HEAD] = {0}, tail[BLOCK_PROBE_TAIL] = {0};
	size_t headlen = fsize < sizeof(head) ? (size_t)fsize : sizeof(head);
	size_t taillen = S_ISREG(st.st_mode) && fsize >= sizeof(tail) ? sizeof(tail) : 0;
	if (pread(fd, head, headlen, 0) < 0 ||
	    (taillen && pread(fd, tail, taillen, (off_t)tail_off) < 0))
		return true;
	/* The write's bytes over what is there. */
	uint64_t pos = req->offset;
	for (unsigned i = 0; i < req->niov; i++) {
		const uint8_t *b = req->iov[i].iov_base;
		uint64_t len = req->iov[i].iov_len;
		if (pos < headlen) {
			uint64_t n = headlen - pos < len ? headlen - pos : len;
			memcpy(head + pos, b, (size_t)n);
		}
		if (taillen && pos + len > tail_off && pos < tail_off + taillen) {
			uint64_t from = pos > tail_off ? pos : tail_off;
			uint64_t to =
			    pos + len < tail_off + taillen ? pos + len : tail_off + taillen;
			memcpy(tail + (from - tail_off), b + (from - pos), (size_t)(to - from));
		}
		pos += len;
	}
	return best_driver(head, headlen, tail, taillen) != &block_raw_driver;
}

void block_submit(struct block_dev *bd, struct block_req *req)
{
	req->bd = bd;
	req->next = NULL;
	pthread_mutex_lock(&bd->lock);
	bd->inflight++;
	pthread_mutex_unlock(&bd->lock);
	int r = check(bd, req);
	if (r == 0 && bd->probed_raw && req->op == BLOCK_OP_WRITE && changes_format(bd, req))
		r = -EPERM;
	if (r < 0 || (req->len == 0 && req->op != BLOCK_OP_FLUSH)) {
		block_complete(req, r);
		return;
	}
	if (bd->drv->io) {
		struct io_work *w = malloc(sizeof(*w));
		if (!w) {
			block_complete(req, -ENOMEM);
			return;
		}
		w->w.fn = io_run;
		w->req = req;
		block_pool_run(bd->pool, &w->w);
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

/* --- a differencing image on top of a running chain ---------------------- */

/* What an image that could not be opened again does: fail every request. */
static int gone_io(struct block_dev *bd, struct block_req *req)
{
	return -EIO;
}

static void gone_close(struct block_dev *bd)
{
}

static int gone_open(struct block_dev *bd, const char *path, unsigned flags, char *err,
		     size_t errlen)
{
	return -EIO;
}

static const struct block_driver gone_driver = {
    .name = "gone", .open = gone_open, .close = gone_close, .io = gone_io};

void block_attach_gone(struct block_dev *bd, const char *path, uint64_t size)
{
	bd->drv = &gone_driver;
	bd->priv = NULL;
	bd->path = strdup(path);
	bd->size = size;
}

/* The name a new image in new_path's folder records for the parent at
 * parent_path: its base name when both are in one folder, else its full
 * path. */
static int parent_name(const char *new_path, const char *parent_path, char *out, size_t outlen)
{
	const char *ns = strrchr(new_path, '/'), *ps = strrchr(parent_path, '/');
	size_t nd = ns ? (size_t)(ns - new_path) : 0, pd = ps ? (size_t)(ps - parent_path) : 0;
	if (nd == pd && strncmp(new_path, parent_path, nd) == 0) {
		int n = snprintf(out, outlen, "%s", ps ? ps + 1 : parent_path);
		return n < 0 || (size_t)n >= outlen ? -ENAMETOOLONG : 0;
	}
	char *abs = realpath(parent_path, NULL);
	if (!abs)
		return -errno;
	int n = snprintf(out, outlen, "%s", abs);
	free(abs);
	return n < 0 || (size_t)n >= outlen ? -ENAMETOOLONG : 0;
}

int block_snapshot(struct block_dev *bd, const char *new_path, const char *format, char *err,
		   size_t errlen)
{
	if (bd->readonly) {
		block_set_err(err, errlen, "%s: opened read-only: nothing to keep apart", bd->path);
		return -EROFS;
	}
	const struct block_driver *drv;
	if (format)
		drv = block_driver_find(format);
	else if (strcmp(bd->drv->name, "vhdx") == 0 || strcmp(bd->drv->name, "qcow2") == 0)
		drv = bd->drv;
	else
		drv = block_driver_find("qcow2");
	if (!drv || !drv->create) {
		block_set_err(err, errlen, "%s: cannot create a differencing image of format '%s'",
			      new_path, format ? format : "qcow2");
		return -EINVAL;
	}
	char name[PATH_MAX];
	int r = parent_name(new_path, bd->path, name, sizeof(name));
	if (r < 0) {
		block_set_err(err, errlen, "%s: cannot name its parent %s: %s", new_path, bd->path,
			      strerror(-r));
		return r;
	}
	block_drain(bd);
	struct block_create_opts o = {
	    .size = bd->size, .parent = name, .parent_format = bd->drv->name};
	r = block_create_with(new_path, drv, &o, bd, err, errlen);
	if (r < 0)
		return r;

	/* Swap: the old top goes read-only under the new one. */
	const struct block_driver *old_drv = bd->drv;
	char old_path[PATH_MAX];
	snprintf(old_path, sizeof(old_path), "%s", bd->path);
	uint64_t old_size = bd->size;
	block_detach(bd);
	r = block_attach(bd, drv, new_path, 0, NULL, err, errlen);
	if (r == 0 && bd->size != old_size)
		r = -EIO; /* cannot happen: the new image has the old one's size */
	if (r == 0)
		return 0;
	if (bd->path)
		block_detach(bd);
	unlink(new_path);
	char err2[256];
	if (block_attach(bd, old_drv, old_path, 0, NULL, err2, sizeof(err2)) < 0)
		block_attach_gone(bd, old_path, old_size);
	return r;
}
