/* The raw format: the image is the disk, byte for byte, in a regular file or
 * a block device. Requests run as preadv/pwritev/fdatasync/fallocate on the
 * block layer's worker threads; an advisory lock keeps two VMs from opening
 * one image read-write. */
#include "devices/block/block_driver.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdatomic.h>
#include <linux/fs.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <unistd.h>

#define RAW_THREADS 4
#define ZERO_CHUNK  (64u * 1024)
#define SPLIT_MIN   (512u * 1024)

struct raw {
	int fd;
	bool blkdev;
	struct block_pool *pool;
};

/* --- who holds the lock ---------------------------------------------------- */

/* The number a /proc entry is named after, or -1. */
static long entry_number(const char *s)
{
	if (!*s || strlen(s) > 9)
		return -1;
	for (const char *p = s; *p; p++)
		if (*p < '0' || *p > '9')
			return -1;
	return atol(s);
}

/* Whether /proc/<pid>/fdinfo/<fd> lists a lock (kernels since 4.x do). */
static bool fd_has_lock(long pid, long fd)
{
	char path[64], line[256];
	snprintf(path, sizeof(path), "/proc/%ld/fdinfo/%ld", pid, fd);
	FILE *f = fopen(path, "re");
	if (!f)
		return false;
	bool found = false;
	while (fgets(line, sizeof(line), f))
		if (strncmp(line, "lock:", 5) == 0)
			found = true;
	fclose(f);
	return found;
}

/* Whether process pid has the file open other than through our own `ourfd`;
 * *locked says whether that open file holds a lock. */
static bool process_has_open(long pid, const struct stat *st, int ourfd, bool *locked)
{
	char fddir[32];
	snprintf(fddir, sizeof(fddir), "/proc/%ld/fd", pid);
	DIR *fds = opendir(fddir);
	if (!fds)
		return false; /* another user's process, or gone */
	bool found = false;
	*locked = false;
	struct dirent *fe;
	while ((fe = readdir(fds))) {
		long fd = entry_number(fe->d_name);
		if (fd < 0 || (pid == (long)getpid() && fd == ourfd))
			continue;
		char link[64];
		struct stat fst;
		snprintf(link, sizeof(link), "%s/%ld", fddir, fd);
		if (stat(link, &fst) < 0 || fst.st_dev != st->st_dev || fst.st_ino != st->st_ino)
			continue;
		found = true;
		if (fd_has_lock(pid, fd)) {
			*locked = true;
			break;
		}
	}
	closedir(fds);
	return found;
}

/* "process 1234 (osio)" for a process that has the file open, preferring one
 * that holds a lock on it; "" if none can be seen. *self: it is this one. */
static void find_holder(const struct stat *st, int ourfd, char *out, size_t outlen, bool *self)
{
	long best = -1;
	bool best_locked = false;
	out[0] = 0;
	*self = false;
	DIR *proc = opendir("/proc");
	if (!proc)
		return;
	struct dirent *pe;
	while (!best_locked && (pe = readdir(proc))) {
		long pid = entry_number(pe->d_name);
		bool locked;
		if (pid <= 0 || !process_has_open(pid, st, ourfd, &locked))
			continue;
		if (best < 0 || locked) {
			best = pid;
			best_locked = locked;
		}
	}
	closedir(proc);
	if (best < 0)
		return;
	*self = best == (long)getpid();
	char comm_path[32], comm[32] = "?";
	snprintf(comm_path, sizeof(comm_path), "/proc/%ld/comm", best);
	FILE *f = fopen(comm_path, "re");
	if (f) {
		if (fgets(comm, sizeof(comm), f))
			comm[strcspn(comm, "\n")] = 0;
		fclose(f);
	}
	snprintf(out, outlen, "process %ld (%s)", best, comm);
}

/* An open file description lock over the whole file: exclusive for writers,
 * shared for readers. Filesystems without locks are used unlocked. */
static int take_lock(int fd, const char *path, const struct stat *st, bool readonly, char *err,
		     size_t errlen)
{
	struct flock fl = {
	    .l_type = readonly ? F_RDLCK : F_WRLCK, .l_whence = SEEK_SET, .l_start = 0, .l_len = 0};
	if (fcntl(fd, F_OFD_SETLK, &fl) == 0)
		return 0;
	int e = errno;
	if (e == EINVAL || e == ENOLCK || e == EOPNOTSUPP)
		return 0;
	if (e != EAGAIN && e != EACCES) {
		snprintf(err, errlen, "%s: cannot lock the image: %s", path, strerror(e));
		return -e;
	}
	char holder[96];
	bool self;
	find_holder(st, fd, holder, sizeof(holder), &self);
	if (self)
		snprintf(err, errlen,
			 "%s: the image is already open%s in this VM; give each drive its own "
			 "image, or attach it read-only everywhere",
			 path, readonly ? " read-write" : "");
	else if (readonly)
		snprintf(err, errlen,
			 "%s: the image is open read-write by %s; stop that VM before "
			 "using the image elsewhere",
			 path, holder[0] ? holder : "another process");
	else
		snprintf(err, errlen,
			 "%s: the image is in use by %s; an image can be open read-write in one "
			 "VM at a time: stop that VM, or attach the image read-only",
			 path, holder[0] ? holder : "another process");
	return -EBUSY;
}

/* --- open and close -------------------------------------------------------- */

static int raw_open(struct block_dev *bd, const char *path, unsigned flags, char *err,
		    size_t errlen)
{
	bool ro = flags & BLOCK_RDONLY;
	int fd = open(path, (ro ? O_RDONLY : O_RDWR) | O_CLOEXEC | O_NOCTTY);
	if (fd < 0) {
		int e = errno;
		if (e == ENOENT)
			snprintf(err, errlen, "%s: no such file; check the path", path);
		else if ((e == EACCES || e == EROFS || e == EPERM) && !ro)
			snprintf(err, errlen,
				 "%s: cannot open for writing (%s); fix its permissions or "
				 "attach it read-only",
				 path, strerror(e));
		else if (e == EISDIR)
			snprintf(err, errlen, "%s: is a directory, not a disk image", path);
		else
			snprintf(err, errlen, "%s: cannot open: %s", path, strerror(e));
		return -e;
	}
	struct stat st;
	int r;
	if (fstat(fd, &st) < 0) {
		r = -errno;
		snprintf(err, errlen, "%s: cannot stat: %s", path, strerror(-r));
		goto fail;
	}
	if (!S_ISREG(st.st_mode) && !S_ISBLK(st.st_mode)) {
		r = -EINVAL;
		snprintf(err, errlen, "%s: %s, not a disk image (a regular file or block device)",
			 path, S_ISDIR(st.st_mode) ? "is a directory" : "is a special file");
		goto fail;
	}
	uint64_t size = (uint64_t)st.st_size;
	if (S_ISBLK(st.st_mode) && ioctl(fd, BLKGETSIZE64, &size) < 0) {
		r = -errno;
		snprintf(err, errlen, "%s: cannot read the block device's size: %s", path,
			 strerror(-r));
		goto fail;
	}
	r = take_lock(fd, path, &st, ro, err, errlen);
	if (r < 0)
		goto fail;
	struct raw *raw = calloc(1, sizeof(*raw));
	if (!raw) {
		r = -ENOMEM;
		goto fail;
	}
	raw->pool = block_pool_new(RAW_THREADS);
	if (!raw->pool) {
		free(raw);
		r = -ENOMEM;
		goto fail;
	}
	raw->fd = fd;
	raw->blkdev = S_ISBLK(st.st_mode);
	bd->priv = raw;
	bd->size = size;
	return 0;
fail:
	close(fd);
	return r;
}

static void raw_close(struct block_dev *bd)
{
	struct raw *raw = bd->priv;
	block_pool_free(raw->pool);
	close(raw->fd); /* drops the lock */
	free(raw);
}

/* --- the operations, on worker threads ----------------------------------- */

/* A request runs as one piece, or a large read or write as up to
 * RAW_THREADS pieces side by side (copies to and from the page cache, and
 * first touches of guest memory, then use several cores). */
struct raw_req {
	struct raw *raw;
	struct block_req *req;
	atomic_uint running; /* pieces not finished */
	atomic_int status;   /* the first error */
};

/* Bytes [off, off + len) of the image and of the request's buffers, the
 * first of them at skip bytes into buffer i. */
struct raw_piece {
	struct block_work w;
	struct raw_req *rr;
	unsigned i;
	size_t skip;
	uint64_t off, len;
};

/* Reads or writes a piece, IOV_MAX buffers at a time, going on after
 * short transfers. Reads past the end of the file give zeroes. */
static int rw(struct raw *raw, const struct block_req *req, const struct raw_piece *p, bool write)
{
	unsigned i = p->i;
	size_t skip = p->skip;
	uint64_t off = p->off, left = p->len;
	struct iovec batch[IOV_MAX];
	while (left) {
		if (skip == req->iov[i].iov_len) {
			i++;
			skip = 0;
			continue;
		}
		unsigned n = 0;
		uint64_t want = 0;
		for (unsigned j = i; j < req->niov && n < IOV_MAX && want < left; j++) {
			size_t s = j == i ? skip : 0;
			size_t l = req->iov[j].iov_len - s;
			if (l > left - want)
				l = (size_t)(left - want);
			if (!l)
				continue;
			batch[n].iov_base = (char *)req->iov[j].iov_base + s;
			batch[n].iov_len = l;
			want += l;
			n++;
		}
		ssize_t done = write ? pwritev(raw->fd, batch, (int)n, (off_t)off)
				     : preadv(raw->fd, batch, (int)n, (off_t)off);
		if (done < 0) {
			if (errno == EINTR)
				continue;
			return -errno;
		}
		if (done == 0) {
			if (write)
				return -EIO;
			/* End of file: the rest reads as zeroes. */
			while (left) {
				size_t l = req->iov[i].iov_len - skip;
				if (l > left)
					l = (size_t)left;
				memset((char *)req->iov[i].iov_base + skip, 0, l);
				left -= l;
				i++;
				skip = 0;
			}
			return 0;
		}
		off += (uint64_t)done;
		left -= (uint64_t)done;
		size_t moved = (size_t)done;
		while (moved) {
			size_t room = req->iov[i].iov_len - skip;
			size_t take = moved < room ? moved : room;
			skip += take;
			moved -= take;
			if (skip == req->iov[i].iov_len && moved) {
				i++;
				skip = 0;
			}
		}
	}
	return 0;
}

static int write_zero_buffers(struct raw *raw, uint64_t off, uint64_t len)
{
	static const uint8_t zeroes[ZERO_CHUNK];
	while (len) {
		size_t n = len < ZERO_CHUNK ? (size_t)len : ZERO_CHUNK;
		ssize_t w = pwrite(raw->fd, zeroes, n, (off_t)off);
		if (w < 0) {
			if (errno == EINTR)
				continue;
			return -errno;
		}
		if (w == 0)
			return -EIO;
		off += (uint64_t)w;
		len -= (uint64_t)w;
	}
	return 0;
}

static bool unsupported(int e)
{
	return e == EOPNOTSUPP || e == ENOTTY || e == EINVAL || e == ENOSYS;
}

static int discard(struct raw *raw, uint64_t off, uint64_t len)
{
	int r;
	if (raw->blkdev) {
		uint64_t range[2] = {off, len};
		r = ioctl(raw->fd, BLKDISCARD, range);
	} else {
		r = fallocate(raw->fd, FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE, (off_t)off,
			      (off_t)len);
	}
	/* A discard is a hint: where the storage cannot, nothing happens. */
	if (r < 0 && !unsupported(errno))
		return -errno;
	return 0;
}

static int write_zeroes(struct raw *raw, uint64_t off, uint64_t len)
{
	if (raw->blkdev) {
		uint64_t range[2] = {off, len};
		if (ioctl(raw->fd, BLKZEROOUT, range) == 0)
			return 0;
	} else {
		if (fallocate(raw->fd, FALLOC_FL_ZERO_RANGE | FALLOC_FL_KEEP_SIZE, (off_t)off,
			      (off_t)len) == 0)
			return 0;
		if (unsupported(errno) &&
		    fallocate(raw->fd, FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE, (off_t)off,
			      (off_t)len) == 0)
			return 0;
	}
	if (!unsupported(errno))
		return -errno;
	return write_zero_buffers(raw, off, len);
}

static void piece_run(struct block_work *w)
{
	struct raw_piece *p = (struct raw_piece *)w;
	struct raw_req *rr = p->rr;
	struct raw *raw = rr->raw;
	struct block_req *req = rr->req;
	int r;
	switch (req->op) {
	case BLOCK_OP_READ:
	case BLOCK_OP_WRITE:
		r = rw(raw, req, p, req->op == BLOCK_OP_WRITE);
		break;
	case BLOCK_OP_FLUSH:
		r = fdatasync(raw->fd) < 0 ? -errno : 0;
		break;
	case BLOCK_OP_DISCARD:
		r = discard(raw, req->offset, req->len);
		break;
	case BLOCK_OP_WRITE_ZEROES:
		r = write_zeroes(raw, req->offset, req->len);
		break;
	default:
		r = -EINVAL;
	}
	int none = 0;
	if (r < 0)
		atomic_compare_exchange_strong(&rr->status, &none, r);
	if (atomic_fetch_sub(&rr->running, 1) == 1) {
		block_complete(req, atomic_load(&rr->status));
		free(rr);
	}
}

/* How many pieces a request runs as: large reads and writes in pieces of
 * at least SPLIT_MIN bytes. */
static unsigned piece_count(const struct block_req *req)
{
	if (req->op != BLOCK_OP_READ && req->op != BLOCK_OP_WRITE)
		return 1;
	uint64_t n = req->len / SPLIT_MIN;
	return n < 1 ? 1 : n > RAW_THREADS ? RAW_THREADS : (unsigned)n;
}

/* Cuts the request's buffers into n pieces of about equal size, each a
 * whole number of pages except the last (pieces are at least SPLIT_MIN,
 * so the rounding never leaves the last one empty). */
static void cut(const struct block_req *req, struct raw_piece *p, unsigned n)
{
	uint64_t per = (req->len / n + 4095) & ~(uint64_t)4095;
	unsigned i = 0;
	size_t skip = 0;
	uint64_t pos = 0;
	for (unsigned k = 0; k < n; k++) {
		uint64_t len = k + 1 == n ? req->len - pos : per;
		p[k].i = i;
		p[k].skip = skip;
		p[k].off = req->offset + pos;
		p[k].len = len;
		pos += len;
		/* Walk to where the next piece starts. */
		uint64_t left = len;
		while (left && i < req->niov) {
			size_t room = req->iov[i].iov_len - skip;
			if (room > left) {
				skip += (size_t)left;
				left = 0;
			} else {
				left -= room;
				i++;
				skip = 0;
			}
		}
	}
}

static void raw_submit(struct block_dev *bd, struct block_req *req)
{
	struct raw *raw = bd->priv;
	unsigned n = piece_count(req);
	struct raw_req *rr = malloc(sizeof(*rr) + n * sizeof(struct raw_piece));
	if (!rr) {
		block_complete(req, -ENOMEM);
		return;
	}
	struct raw_piece *p = (struct raw_piece *)(rr + 1);
	rr->raw = raw;
	rr->req = req;
	atomic_init(&rr->running, n);
	atomic_init(&rr->status, 0);
	if (req->op == BLOCK_OP_READ || req->op == BLOCK_OP_WRITE) {
		cut(req, p, n);
	} else {
		p[0].i = 0;
		p[0].skip = 0;
		p[0].off = req->offset;
		p[0].len = req->len;
	}
	for (unsigned k = 0; k < n; k++) {
		p[k].w.fn = piece_run;
		p[k].rr = rr;
		block_pool_run(raw->pool, &p[k].w);
	}
}

const struct block_driver block_raw_driver = {
    .name = "raw",
    .open = raw_open,
    .close = raw_close,
    .submit = raw_submit,
};
