/* The block layer's worker threads: blocking system calls of format drivers
 * run here so that a vCPU never waits for the disk. */
#include "devices/block/block_driver.h"

#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdlib.h>

struct block_pool {
	pthread_mutex_t lock;
	pthread_cond_t work; /* queue not empty, or stopping */
	struct block_work *head, *tail;
	unsigned max_threads;
	unsigned nthreads, idle;
	unsigned queued; /* work items not yet taken by a thread */
	pthread_t *threads;
	bool stopping;
};

static void *worker(void *opaque)
{
	struct block_pool *p = opaque;
	pthread_mutex_lock(&p->lock);
	for (;;) {
		while (!p->head && !p->stopping) {
			p->idle++;
			pthread_cond_wait(&p->work, &p->lock);
			p->idle--;
		}
		struct block_work *w = p->head;
		if (!w)
			break; /* stopping, and nothing left to do */
		p->head = w->next;
		p->queued--;
		if (!p->head)
			p->tail = NULL;
		pthread_mutex_unlock(&p->lock);
		w->fn(w);
		pthread_mutex_lock(&p->lock);
	}
	pthread_mutex_unlock(&p->lock);
	return NULL;
}

struct block_pool *block_pool_new(unsigned max_threads)
{
	struct block_pool *p = calloc(1, sizeof(*p));
	if (!p)
		return NULL;
	p->max_threads = max_threads ? max_threads : 1;
	p->threads = calloc(p->max_threads, sizeof(*p->threads));
	if (!p->threads) {
		free(p);
		return NULL;
	}
	pthread_mutex_init(&p->lock, NULL);
	pthread_cond_init(&p->work, NULL);
	return p;
}

/* Starts one more thread; caller holds the lock. */
static int start_thread(struct block_pool *p)
{
	sigset_t all, old;
	sigfillset(&all);
	pthread_sigmask(SIG_SETMASK, &all, &old);
	int r = pthread_create(&p->threads[p->nthreads], NULL, worker, p);
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	if (r)
		return -r;
	p->nthreads++;
	return 0;
}

void block_pool_run(struct block_pool *p, struct block_work *w)
{
	w->next = NULL;
	pthread_mutex_lock(&p->lock);
	if (p->queued >= p->idle && p->nthreads < p->max_threads && start_thread(p) < 0 &&
	    p->nthreads == 0) {
		pthread_mutex_unlock(&p->lock);
		w->fn(w); /* no thread at all: do it here */
		return;
	}
	if (p->tail)
		p->tail->next = w;
	else
		p->head = w;
	p->tail = w;
	p->queued++;
	pthread_cond_signal(&p->work);
	pthread_mutex_unlock(&p->lock);
}

void block_pool_free(struct block_pool *p)
{
	if (!p)
		return;
	pthread_mutex_lock(&p->lock);
	p->stopping = true;
	pthread_cond_broadcast(&p->work);
	pthread_mutex_unlock(&p->lock);
	for (unsigned i = 0; i < p->nthreads; i++)
		pthread_join(p->threads[i], NULL);
	pthread_cond_destroy(&p->work);
	pthread_mutex_destroy(&p->lock);
	free(p->threads);
	free(p);
}
