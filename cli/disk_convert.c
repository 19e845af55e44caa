/* `osio disk convert SRC DST`: copies what a guest sees of SRC (read through
 * its parent chain) into a new image DST, writing only the blocks that are
 * not all zeroes so dynamic images stay sparse, with several 1 MiB requests
 * in flight. Ctrl-C removes the half-written DST; SRC is only ever read. */
#include "cli/disk_common.h"

#include "devices/block/block.h"
#include "hypervisor/log.h"

#include <errno.h>
#include <getopt.h>
#include <limits.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define CONV_CHUNK (1024u * 1024)
#define CONV_DEPTH 8
#define CONV_GRAIN 4096u /* the smallest piece looked at for zeroes */

enum slot_state { SLOT_FREE, SLOT_READING, SLOT_READ_DONE, SLOT_WRITING };

struct conv;

struct slot {
	struct conv *cv;
	enum slot_state state;
	uint64_t offset;
	uint32_t len;
	int read_status;
	unsigned writes_left;
	uint8_t *buf;
	struct block_req rreq;
	struct iovec riov;
	struct block_req *wreq; /* one per run of nonzero grains, at most */
	struct iovec *wiov;
};

struct conv {
	struct block_dev *src, *dst;
	uint64_t size;
	uint32_t grain; /* zero detection unit: the destination's block, clamped */
	pthread_mutex_t lock;
	pthread_cond_t cond;
	uint64_t done_bytes;
	int error;	    /* the first failure, -errno */
	uint64_t error_at;  /* where */
	bool error_writing; /* in the destination (else the source) */
	struct slot slots[CONV_DEPTH];
};

static void convert_usage(FILE *f)
{
	fprintf(f,
		"usage: osio disk convert SRC DST [OPTIONS]\n"
		"\n"
		"Copies the disk SRC, as a guest sees it (its parents merged in), into a new\n"
		"image DST, which has no parent. Blocks that hold only zeroes are not written,\n"
		"so a dynamic DST takes only the space the data needs. SRC is only read. On\n"
		"Ctrl-C or an error, DST is removed.\n"
		"\n"
		"  -f, --format FORMAT     DST's format: vhdx, vhd, qcow2 or raw (default: from\n"
		"                          DST's extension, else vhdx)\n"
		"  -t, --type TYPE         dynamic (default) or fixed\n"
		"  -b, --block-size SIZE   DST's allocation unit (default: the format's own)\n"
		"      --progress          show progress also when stderr is not a terminal\n"
		"  -h, --help              this text\n"
		"\n"
		"Examples:\n"
		"  osio disk convert old.vhd new.vhdx\n"
		"  osio disk convert disk.qcow2 disk.img\n"
		"  osio disk convert child.vhdx flat.vhdx --type fixed\n");
}

static bool all_zero(const uint8_t *p, size_t len)
{
	const uint64_t *w = (const uint64_t *)p; /* buffers are page aligned */
	for (size_t i = 0; i < len / 8; i++)
		if (w[i])
			return false;
	return true;
}

static void fail_locked(struct conv *cv, int status, uint64_t at, bool writing)
{
	if (!cv->error) {
		cv->error = status;
		cv->error_at = at;
		cv->error_writing = writing;
	}
}

static void read_done(struct block_req *req, int status)
{
	struct slot *s = req->opaque;
	struct conv *cv = s->cv;
	pthread_mutex_lock(&cv->lock);
	s->read_status = status;
	s->state = SLOT_READ_DONE;
	pthread_cond_signal(&cv->cond);
	pthread_mutex_unlock(&cv->lock);
}

static void write_done(struct block_req *req, int status)
{
	struct slot *s = req->opaque;
	struct conv *cv = s->cv;
	pthread_mutex_lock(&cv->lock);
	if (status < 0)
		fail_locked(cv, status, req->offset, true);
	if (--s->writes_left == 0) {
		s->state = SLOT_FREE;
		cv->done_bytes += s->len;
		pthread_cond_signal(&cv->cond);
	}
	pthread_mutex_unlock(&cv->lock);
}

static void start_read(struct conv *cv, struct slot *s, uint64_t offset)
{
	uint64_t left = cv->size - offset;
	s->offset = offset;
	s->len = left < CONV_CHUNK ? (uint32_t)left : CONV_CHUNK;
	s->riov = (struct iovec){.iov_base = s->buf, .iov_len = s->len};
	s->rreq = (struct block_req){.op = BLOCK_OP_READ,
				     .offset = offset,
				     .iov = &s->riov,
				     .niov = 1,
				     .done = read_done,
				     .opaque = s};
	block_submit(cv->src, &s->rreq);
}

/* The slot's data has been read: writes its runs of nonzero grains. Called
 * without the lock; the slot is the caller's until its writes are
 * submitted. */
static void start_writes(struct conv *cv, struct slot *s)
{
	unsigned n = 0;
	uint32_t g = cv->grain;
	for (uint32_t off = 0; off < s->len;) {
		uint32_t len = s->len - off < g ? s->len - off : g;
		if (all_zero(s->buf + off, len)) {
			off += len;
			continue;
		}
		uint32_t start = off;
		while (off < s->len) {
			len = s->len - off < g ? s->len - off : g;
			if (all_zero(s->buf + off, len))
				break;
			off += len;
		}
		s->wiov[n] = (struct iovec){.iov_base = s->buf + start, .iov_len = off - start};
		s->wreq[n] = (struct block_req){.op = BLOCK_OP_WRITE,
						.offset = s->offset + start,
						.iov = &s->wiov[n],
						.niov = 1,
						.done = write_done,
						.opaque = s};
		n++;
	}
	pthread_mutex_lock(&cv->lock);
	if (n == 0) {
		s->state = SLOT_FREE;
		cv->done_bytes += s->len;
		pthread_mutex_unlock(&cv->lock);
		return;
	}
	s->state = SLOT_WRITING;
	s->writes_left = n;
	pthread_mutex_unlock(&cv->lock);
	/* The last completion frees the slot: n, not s->writes_left, counts. */
	for (unsigned i = 0; i < n; i++)
		block_submit(cv->dst, &s->wreq[i]);
}

/* Runs the copy: 0, -EINTR when interrupted, or cv->error. */
static int copy_all(struct conv *cv, struct disk_progress *prog)
{
	uint64_t next = 0;
	bool stopping = false;
	for (;;) {
		struct slot *s = NULL;
		bool finished = false;
		pthread_mutex_lock(&cv->lock);
		for (;;) {
			if (!stopping && (cv->error || disk_interrupted()))
				stopping = true;
			bool busy = false;
			for (unsigned i = 0; i < CONV_DEPTH && !s; i++) {
				struct slot *t = &cv->slots[i];
				if (t->state == SLOT_READ_DONE) {
					if (t->read_status < 0)
						fail_locked(cv, t->read_status, t->offset, false);
					if (t->read_status < 0 || stopping || cv->error) {
						t->state = SLOT_FREE;
						continue;
					}
					s = t;
				} else if (t->state != SLOT_FREE) {
					busy = true;
				}
			}
			if (!s && !stopping && !cv->error && next < cv->size)
				for (unsigned i = 0; i < CONV_DEPTH && !s; i++)
					if (cv->slots[i].state == SLOT_FREE)
						s = &cv->slots[i];
			if (s)
				break;
			if (!busy && (stopping || cv->error || next >= cv->size)) {
				finished = true;
				break;
			}
			struct timespec until;
			clock_gettime(CLOCK_REALTIME, &until);
			until.tv_nsec += 100 * 1000 * 1000;
			if (until.tv_nsec >= 1000000000) {
				until.tv_sec++;
				until.tv_nsec -= 1000000000;
			}
			pthread_cond_timedwait(&cv->cond, &cv->lock, &until);
		}
		uint64_t done = cv->done_bytes;
		if (s && s->state == SLOT_FREE)
			s->state = SLOT_READING;
		pthread_mutex_unlock(&cv->lock);
		if (finished)
			break;
		disk_progress_update(prog, done, cv->size);
		if (s->state == SLOT_READING) {
			start_read(cv, s, next);
			next += s->len;
		} else {
			start_writes(cv, s);
		}
	}
	if (cv->error)
		return cv->error;
	if (stopping)
		return -EINTR;
	disk_progress_update(prog, cv->size, cv->size);
	return 0;
}

static int conv_init(struct conv *cv, struct block_dev *src, struct block_dev *dst)
{
	memset(cv, 0, sizeof(*cv));
	cv->src = src;
	cv->dst = dst;
	cv->size = block_size(src);
	cv->grain = CONV_GRAIN;
	struct block_info *in = malloc(sizeof(*in));
	if (in && block_get_info(dst, in) == 0 && in->block_size >= CONV_GRAIN) {
		uint32_t b = in->block_size;
		cv->grain = b >= CONV_CHUNK ? CONV_CHUNK : (CONV_CHUNK % b ? CONV_GRAIN : b);
	}
	free(in);
	pthread_mutex_init(&cv->lock, NULL);
	pthread_cond_init(&cv->cond, NULL);
	unsigned runs = CONV_CHUNK / CONV_GRAIN / 2 + 1;
	for (unsigned i = 0; i < CONV_DEPTH; i++) {
		struct slot *s = &cv->slots[i];
		s->cv = cv;
		if (posix_memalign((void **)&s->buf, 4096, CONV_CHUNK))
			return -ENOMEM;
		s->wreq = calloc(runs, sizeof(*s->wreq));
		s->wiov = calloc(runs, sizeof(*s->wiov));
		if (!s->wreq || !s->wiov)
			return -ENOMEM;
	}
	return 0;
}

static void conv_free(struct conv *cv)
{
	for (unsigned i = 0; i < CONV_DEPTH; i++) {
		free(cv->slots[i].buf);
		free(cv->slots[i].wreq);
		free(cv->slots[i].wiov);
	}
	pthread_cond_destroy(&cv->cond);
	pthread_mutex_destroy(&cv->lock);
}

int disk_convert_main(int argc, char **argv)
{
	enum { OPT_PROGRESS = 256 };
	static const struct option opts[] = {
	    {"format", required_argument, NULL, 'f'},
	    {"type", required_argument, NULL, 't'},
	    {"block-size", required_argument, NULL, 'b'},
	    {"progress", no_argument, NULL, OPT_PROGRESS},
	    {"help", no_argument, NULL, 'h'},
	    {0},
	};
	const char *format = NULL, *type = "dynamic", *block_arg = NULL;
	bool progress = false;
	int c;

	log_set_prog("osio disk convert");
	opterr = 0;
	optind = 0;
	while ((c = getopt_long(argc, argv, ":f:t:b:h", opts, NULL)) != -1) {
		switch (c) {
		case 'f':
			format = optarg;
			break;
		case 't':
			type = optarg;
			break;
		case 'b':
			block_arg = optarg;
			break;
		case OPT_PROGRESS:
			progress = true;
			break;
		case 'h':
			convert_usage(stdout);
			return 0;
		default:
			return disk_bad_option(c, argv, "convert");
		}
	}
	if (argc - optind != 2) {
		convert_usage(stderr);
		return 2;
	}
	const char *src_path = argv[optind], *dst_path = argv[optind + 1];
	struct block_create_opts o = {0};
	if (!dst_path[0]) {
		log_error("the new image's file name is empty");
		return 2;
	}
	if (disk_resolve_format(dst_path, &format) || disk_parse_type(type, &o) ||
	    disk_parse_block_size(block_arg, &o))
		return 2;
	struct stat st;
	if (lstat(dst_path, &st) == 0) {
		log_error("%s: exists already; choose another name or delete it first", dst_path);
		return 1;
	}

	char err[PATH_MAX + 256] = "";
	struct block_dev *src = NULL, *dst = NULL;
	int r = block_open(src_path, NULL, BLOCK_RDONLY, &src, err, sizeof(err));
	if (r < 0) {
		disk_log_failure(src_path, err, r);
		return 1;
	}
	o.size = block_size(src);
	if (o.size == 0) {
		log_error("%s: the disk is empty (0 bytes); there is nothing to convert", src_path);
		block_close(src);
		return 1;
	}
	if (block_logical_sector(src) == 4096 && strcmp(format, "vhdx") == 0)
		o.logical_sector = 4096;

	struct disk_progress prog;
	char what[PATH_MAX + 32];
	snprintf(what, sizeof(what), "%s", dst_path);
	disk_progress_init(&prog, what, progress);
	o.progress = disk_progress_cb;
	o.opaque = &prog;

	int status = 1;
	bool created = false;
	struct conv *cv = NULL;
	disk_signals_catch();
	r = block_create(dst_path, format, &o, err, sizeof(err));
	if (r < 0) {
		disk_progress_end(&prog);
		if (r == -EINTR && disk_interrupted()) {
			log_error("%s: interrupted; nothing was created", dst_path);
			status = DISK_EXIT_INTERRUPTED;
		} else if (r == -EEXIST) {
			log_error("%s: exists already; choose another name or delete it first",
				  dst_path);
		} else {
			disk_log_failure(dst_path, err, r);
		}
		goto out;
	}
	created = true;
	r = block_open(dst_path, format, 0, &dst, err, sizeof(err));
	if (r < 0) {
		disk_log_failure(dst_path, err, r);
		goto out;
	}

	cv = malloc(sizeof(*cv));
	if (!cv || conv_init(cv, src, dst) < 0) {
		log_error("%s: out of memory", dst_path);
		goto out;
	}
	r = copy_all(cv, &prog);
	if (r == 0)
		r = block_flush(dst);
	disk_progress_end(&prog);
	if (r == -EINTR && disk_interrupted()) {
		log_error("%s: interrupted; the unfinished image was removed (%s is unchanged)",
			  dst_path, src_path);
		status = DISK_EXIT_INTERRUPTED;
	} else if (r < 0 && cv->error && !cv->error_writing) {
		log_error("%s: reading at byte %llu failed: %s; %s was removed", src_path,
			  (unsigned long long)cv->error_at, strerror(-r), dst_path);
	} else if (r < 0 && cv->error) {
		log_error("%s: writing at byte %llu failed: %s%s; the unfinished image was removed",
			  dst_path, (unsigned long long)cv->error_at, strerror(-r),
			  r == -ENOSPC ? " (free some space)" : "");
	} else if (r < 0) {
		log_error("%s: %s; the unfinished image was removed", dst_path, strerror(-r));
	} else {
		status = 0;
	}
out:
	block_close(dst);
	if (cv) {
		conv_free(cv);
		free(cv);
	}
	if (status != 0 && created)
		unlink(dst_path);
	block_close(src);
	disk_signals_restore();
	return status;
}
