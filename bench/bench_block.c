/* bench_block: osio's block layer under the load `qemu-img bench` makes, with
 * the same options, so scripts/bench-disk can run both on one file side by side. */
#include "devices/block/block.h"

#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

/* Like qemu-img bench: COUNT requests of SIZE bytes, DEPTH of them in flight,
 * the first at OFFSET and each next one STEP bytes further, wrapping at the
 * end of the disk (offset % disk size, as QEMU 7.2 does). All requests share
 * one buffer, as qemu-img's do. A completion submits the next request from
 * its callback, so DEPTH stay in flight until the last ones. With a flush
 * interval F, a flush follows every F completed writes (qemu-img drains
 * first; so does this). Only the requests are timed, not open or close. */
struct bench {
	struct block_dev *bd;
	uint64_t size, step, offset, disk;
	unsigned long count, depth, flush_every;
	bool write;
	struct iovec iov;

	pthread_mutex_t lock;
	pthread_cond_t cond;
	unsigned long submitted; /* requests started */
	unsigned long completed; /* requests ended */
	unsigned long inflight;
	bool flushing;
	int status; /* the first error */
	struct block_req *reqs;
	struct block_req flush;
};

static void req_done(struct block_req *req, int status);

/* Starts requests while there is room; called with b->lock held. */
static void fill(struct bench *b)
{
	while (!b->flushing && !b->status && b->submitted < b->count && b->inflight < b->depth) {
		struct block_req *req = NULL;
		for (unsigned long i = 0; i < b->depth; i++)
			if (!b->reqs[i].opaque) {
				req = &b->reqs[i];
				break;
			}
		if (!req)
			break;
		memset(req, 0, sizeof(*req));
		req->op = b->write ? BLOCK_OP_WRITE : BLOCK_OP_READ;
		req->offset = b->offset;
		req->iov = &b->iov;
		req->niov = 1;
		req->done = req_done;
		req->opaque = b;
		b->offset = (b->offset + b->step) % b->disk;
		b->submitted++;
		b->inflight++;
		/* The callback may run at once, on this thread: unlock. */
		pthread_mutex_unlock(&b->lock);
		block_submit(b->bd, req);
		pthread_mutex_lock(&b->lock);
	}
}

static void flush_done(struct block_req *req, int status)
{
	struct bench *b = req->opaque;
	pthread_mutex_lock(&b->lock);
	if (status && !b->status)
		b->status = status;
	b->flushing = false;
	fill(b);
	pthread_cond_broadcast(&b->cond);
	pthread_mutex_unlock(&b->lock);
}

static void req_done(struct block_req *req, int status)
{
	struct bench *b = req->opaque;
	pthread_mutex_lock(&b->lock);
	req->opaque = NULL;
	if (status && !b->status)
		b->status = status;
	b->completed++;
	b->inflight--;
	if (b->flush_every && b->write && b->completed % b->flush_every == 0)
		b->flushing = true;
	if (b->flushing && !b->inflight) {
		memset(&b->flush, 0, sizeof(b->flush));
		b->flush.op = BLOCK_OP_FLUSH;
		b->flush.done = flush_done;
		b->flush.opaque = b;
		pthread_mutex_unlock(&b->lock);
		block_submit(b->bd, &b->flush);
		return;
	}
	fill(b);
	pthread_cond_broadcast(&b->cond);
	pthread_mutex_unlock(&b->lock);
}

static double now(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static int run(struct bench *b, double *secs)
{
	double t0 = now();
	pthread_mutex_lock(&b->lock);
	fill(b);
	while (!(b->completed == b->count || (b->status && !b->inflight)) || b->flushing)
		pthread_cond_wait(&b->cond, &b->lock);
	pthread_mutex_unlock(&b->lock);
	block_drain(b->bd);
	*secs = now() - t0;
	return b->status;
}

/* A size with an optional K/M/G suffix (binary), as qemu-img takes it. */
static int parse_size(const char *s, uint64_t *out)
{
	char *end;
	errno = 0;
	unsigned long long v = strtoull(s, &end, 0);
	if (errno || end == s || *s == '-')
		return -EINVAL;
	unsigned shift = 0;
	switch (*end) {
	case 'k':
	case 'K':
		shift = 10;
		end++;
		break;
	case 'm':
	case 'M':
		shift = 20;
		end++;
		break;
	case 'g':
	case 'G':
		shift = 30;
		end++;
		break;
	case '\0':
		break;
	default:
		return -EINVAL;
	}
	if (*end || (shift && v > (UINT64_MAX >> shift)))
		return -EINVAL;
	*out = (uint64_t)v << shift;
	return 0;
}

static int parse_count(const char *s, unsigned long *out)
{
	uint64_t v;
	if (parse_size(s, &v) < 0 || v == 0 || v > 1u << 30)
		return -EINVAL;
	*out = (unsigned long)v;
	return 0;
}

static void usage(FILE *f)
{
	fprintf(
	    f, "usage: bench_block [-c COUNT] [-d DEPTH] [-f FMT] [-o OFFSET] [-s SIZE] [-S STEP]\n"
	       "                   [-w] [--pattern=BYTE] [--flush-interval=N] FILE\n"
	       "The options mean what they mean to `qemu-img bench` (defaults: -c 75000 -d 64\n"
	       "-s 4K, STEP = SIZE, a read test). Prints \"Run completed in S seconds.\"\n");
}

int main(int argc, char **argv)
{
	static const struct option longopts[] = {
	    {"pattern", required_argument, NULL, 'p'},
	    {"flush-interval", required_argument, NULL, 'F'},
	    {"help", no_argument, NULL, 'h'},
	    {NULL, 0, NULL, 0},
	};
	struct bench b = {.count = 75000, .depth = 64, .size = 4096};
	const char *format = NULL;
	bool step_set = false;
	int pattern = 0;
	int c;
	while ((c = getopt_long(argc, argv, "c:d:f:o:s:S:wh", longopts, NULL)) != -1) {
		int r = 0;
		switch (c) {
		case 'c':
			r = parse_count(optarg, &b.count);
			break;
		case 'd':
			r = parse_count(optarg, &b.depth);
			break;
		case 'f':
			format = optarg;
			break;
		case 'o':
			r = parse_size(optarg, &b.offset);
			break;
		case 's':
			r = parse_size(optarg, &b.size);
			break;
		case 'S':
			r = parse_size(optarg, &b.step);
			step_set = true;
			break;
		case 'w':
			b.write = true;
			break;
		case 'p': {
			uint64_t v;
			r = parse_size(optarg, &v);
			if (!r && v > 255)
				r = -EINVAL;
			pattern = (int)v;
			break;
		}
		case 'F':
			r = parse_count(optarg, &b.flush_every);
			break;
		case 'h':
			usage(stdout);
			return 0;
		default:
			usage(stderr);
			return 2;
		}
		if (r < 0) {
			fprintf(stderr, "bench_block: bad value '%s' for -%c\n", optarg, c);
			return 2;
		}
	}
	if (optind + 1 != argc) {
		usage(stderr);
		return 2;
	}
	if (!b.size || b.size % BLOCK_SECTOR || b.size > (1u << 30)) {
		fprintf(stderr, "bench_block: -s must be a multiple of %u bytes up to 1G\n",
			BLOCK_SECTOR);
		return 2;
	}
	if (!step_set)
		b.step = b.size;
	if (b.step % BLOCK_SECTOR || b.offset % BLOCK_SECTOR) {
		fprintf(stderr, "bench_block: -S and -o must be multiples of %u bytes\n",
			BLOCK_SECTOR);
		return 2;
	}

	const char *path = argv[optind];
	char err[512];
	int r = block_open(path, format, b.write ? 0 : BLOCK_RDONLY, &b.bd, err, sizeof(err));
	if (r < 0) {
		fprintf(stderr, "bench_block: %s\n", err);
		return 1;
	}
	b.disk = block_size(b.bd);
	if (b.disk < b.size || b.offset > b.disk - b.size) {
		fprintf(stderr,
			"bench_block: %s: the disk (%" PRIu64 " bytes) holds no request of -s"
			" bytes at -o\n",
			path, b.disk);
		block_close(b.bd);
		return 2;
	}
	void *buf = aligned_alloc(4096, (b.size + 4095) & ~(uint64_t)4095);
	b.reqs = calloc(b.depth, sizeof(*b.reqs));
	if (!buf || !b.reqs) {
		fprintf(stderr, "bench_block: out of memory\n");
		block_close(b.bd);
		return 1;
	}
	memset(buf, pattern, b.size);
	b.iov.iov_base = buf;
	b.iov.iov_len = b.size;
	pthread_mutex_init(&b.lock, NULL);
	pthread_cond_init(&b.cond, NULL);

	printf("Sending %lu %s requests, %" PRIu64 " bytes each, %lu in parallel"
	       " (starting at offset %" PRIu64 ", step size %" PRIu64 ")\n",
	       b.count, b.write ? "write" : "read", b.size, b.depth, b.offset, b.step);
	double secs;
	r = run(&b, &secs);
	block_close(b.bd);
	pthread_cond_destroy(&b.cond);
	pthread_mutex_destroy(&b.lock);
	free(b.reqs);
	free(buf);
	if (r < 0) {
		fprintf(stderr, "bench_block: %s: failed request: %s\n", path, strerror(-r));
		return 1;
	}
	printf("Run completed in %.6f seconds.\n", secs);
	return 0;
}
