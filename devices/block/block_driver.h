/* What a block format driver (raw, later VHDX, VHD, qcow2) implements under
 * block.h, and the worker-thread pool drivers run blocking I/O on. */
#ifndef OSIO_BLOCK_DRIVER_H
#define OSIO_BLOCK_DRIVER_H

#include "devices/block/block.h"

#include <pthread.h>

struct block_driver {
	const char *name;
	/* Opens path; sets bd->size (bytes, any value: the block layer rounds
	 * it down to whole sectors) and bd->priv. On error returns -errno and
	 * writes one line into err (errlen bytes) naming the file. */
	int (*open)(struct block_dev *bd, const char *path, unsigned flags, char *err,
		    size_t errlen);
	/* No request is in flight any more. */
	void (*close)(struct block_dev *bd);
	/* A checked request: in range, aligned, allowed by the open mode.
	 * The driver ends it with block_complete, now or later. */
	void (*submit)(struct block_dev *bd, struct block_req *req);
};

struct block_dev {
	const struct block_driver *drv;
	void *priv;
	char *path;
	uint64_t size;
	bool readonly;

	pthread_mutex_t lock;
	pthread_cond_t idle;
	unsigned inflight;
};

/* Ends a request: calls its done callback, then lets block_drain and
 * block_close go on. For drivers. */
void block_complete(struct block_req *req, int status);

/* Drivers known to block_open. */
extern const struct block_driver block_raw_driver;

/* A small pool of worker threads for blocking calls (pread, fdatasync).
 * Threads start when work arrives (up to max_threads) and have every signal
 * blocked. */
struct block_pool;

struct block_work {
	void (*fn)(struct block_work *w);
	struct block_work *next; /* the pool's */
};

struct block_pool *block_pool_new(unsigned max_threads);
/* Runs w->fn(w) on a pool thread; if no thread can be started at all, runs
 * it before returning. */
void block_pool_run(struct block_pool *p, struct block_work *w);
/* Waits for queued work to finish, then stops the threads. */
void block_pool_free(struct block_pool *p);

#endif
