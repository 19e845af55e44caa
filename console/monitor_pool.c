/* Where the monitor's figures of a VM come from. vmstore_info on helper
 * threads taking VM names from a queue and handing results back through an
 * eventfd, so that a worker that hangs (however long its queries take)
 * holds one helper and never the updates of other VMs; the pool is freed
 * by whoever leaves it last: stopping never waits for a helper stuck in a
 * query. And what a running worker's query-status and stats replies on
 * the event connection say (the periodic refresh). */
#include "console/monitor_int.h"

#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <unistd.h>

#define POOL_THREADS 8
/* CPU % is measured over at least this much of the worker's uptime. */
#define CPU_MIN_NS (200ull * 1000 * 1000)

struct mon_pool {
	pthread_mutex_t lock;
	pthread_cond_t cond;
	unsigned refs; /* the monitor and each helper */
	bool stop;
	struct mon_result *jobs, **jobs_tail; /* to look at (name only) */
	struct mon_result *results, **results_tail;
	int fd; /* eventfd: results are waiting */
};

static void pool_free(struct mon_pool *p)
{
	mon_pool_free_results(p->jobs);
	mon_pool_free_results(p->results);
	if (p->fd >= 0)
		close(p->fd);
	pthread_mutex_destroy(&p->lock);
	pthread_cond_destroy(&p->cond);
	free(p);
}

/* Drops a reference; the last one frees the pool. Called locked. */
static void pool_leave(struct mon_pool *p)
{
	bool last = --p->refs == 0;

	pthread_mutex_unlock(&p->lock);
	if (last)
		pool_free(p);
}

static void *helper(void *arg)
{
	struct mon_pool *p = arg;

	pthread_mutex_lock(&p->lock);
	for (;;) {
		while (!p->stop && !p->jobs)
			pthread_cond_wait(&p->cond, &p->lock);
		if (p->stop)
			break;
		struct mon_result *r = p->jobs;
		p->jobs = r->next;
		if (!p->jobs)
			p->jobs_tail = &p->jobs;
		pthread_mutex_unlock(&p->lock);

		r->next = NULL;
		r->rc = vmstore_info(r->name, &r->info);

		pthread_mutex_lock(&p->lock);
		if (p->stop) {
			free(r);
			break;
		}
		bool was_empty = p->results == NULL;
		*p->results_tail = r;
		p->results_tail = &r->next;
		if (was_empty) {
			uint64_t one = 1;
			while (write(p->fd, &one, sizeof(one)) < 0 && errno == EINTR)
				;
		}
	}
	pool_leave(p);
	return NULL;
}

int mon_pool_start(struct mon_pool **out, char *err, size_t errlen)
{
	struct mon_pool *p = calloc(1, sizeof(*p));
	pthread_attr_t attr;
	unsigned started = 0;

	*out = NULL;
	if (!p) {
		snprintf(err, errlen, "out of memory");
		return -ENOMEM;
	}
	pthread_mutex_init(&p->lock, NULL);
	pthread_cond_init(&p->cond, NULL);
	p->jobs_tail = &p->jobs;
	p->results_tail = &p->results;
	p->refs = 1;
	p->fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	if (p->fd < 0) {
		int r = -errno;
		snprintf(err, errlen, "eventfd: %s", strerror(errno));
		pool_free(p);
		return r;
	}
	pthread_attr_init(&attr);
	pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
	pthread_mutex_lock(&p->lock);
	for (; started < POOL_THREADS; started++) {
		pthread_t t;
		if (pthread_create(&t, &attr, helper, p) != 0)
			break;
		p->refs++;
	}
	pthread_mutex_unlock(&p->lock);
	pthread_attr_destroy(&attr);
	if (!started) {
		snprintf(err, errlen, "cannot start the monitor's threads");
		pool_free(p);
		return -EAGAIN;
	}
	*out = p;
	return 0;
}

int mon_pool_fd(const struct mon_pool *p)
{
	return p->fd;
}

bool mon_pool_submit(struct mon_pool *p, const char *name)
{
	struct mon_result *r = calloc(1, sizeof(*r));

	if (!r)
		return false;
	snprintf(r->name, sizeof(r->name), "%s", name);
	pthread_mutex_lock(&p->lock);
	*p->jobs_tail = r;
	p->jobs_tail = &r->next;
	pthread_cond_signal(&p->cond);
	pthread_mutex_unlock(&p->lock);
	return true;
}

struct mon_result *mon_pool_take(struct mon_pool *p)
{
	struct mon_result *list;
	uint64_t v;

	while (read(p->fd, &v, sizeof(v)) < 0 && errno == EINTR)
		;
	pthread_mutex_lock(&p->lock);
	list = p->results;
	p->results = NULL;
	p->results_tail = &p->results;
	pthread_mutex_unlock(&p->lock);
	return list;
}

void mon_pool_free_results(struct mon_result *r)
{
	while (r) {
		struct mon_result *next = r->next;
		free(r);
		r = next;
	}
}

void mon_pool_stop(struct mon_pool *p)
{
	if (!p)
		return;
	pthread_mutex_lock(&p->lock);
	p->stop = true;
	pthread_cond_broadcast(&p->cond);
	pool_leave(p);
}

/* --- a worker's replies on the event connection ------------------------------- */

static uint64_t json_u64(json_t *o, const char *key)
{
	json_t *v = json_object_get(o, key);

	if (json_is_integer(v) && json_integer_value(v) > 0)
		return (uint64_t)json_integer_value(v);
	if (json_is_real(v) && json_real_value(v) > 0 && json_real_value(v) < 1.8e19)
		return (uint64_t)json_real_value(v);
	return 0;
}

/* As vmstore_info reads query-status: "running", "resetting" and "off"
 * (ending) are a worker that is up. */
void mon_read_status(struct mon_vm *v, json_t *ret)
{
	const char *vnc = json_string_value(json_object_get(ret, "vnc"));

	v->status.ok = true;
	v->status.state = vmstore_worker_state(json_string_value(json_object_get(ret, "state")));
	v->status.memory = json_u64(ret, "memory");
	v->status.cpus = (unsigned)json_u64(ret, "cpus");
	snprintf(v->status.vnc, sizeof(v->status.vnc), "%s", vnc ? vnc : "");
}

void mon_apply_sample(struct mon_vm *v, struct vm_info *info, uint64_t cpu_ns, uint64_t up_ns)
{
	info->state = v->status.state;
	if (v->status.memory)
		info->memory = v->status.memory;
	if (v->status.cpus)
		info->cpus = v->status.cpus;
	snprintf(info->vnc, sizeof(info->vnc), "%s", v->status.vnc);
	if (!up_ns)
		return;
	info->uptime_ns = up_ns;
	if (!v->up_ns || up_ns < v->up_ns || cpu_ns < v->cpu_ns) {
		v->up_ns = up_ns; /* the first, or its counters went back */
		v->cpu_ns = cpu_ns;
	} else if (up_ns - v->up_ns >= CPU_MIN_NS) {
		info->cpu_percent =
		    100.0 * (double)(cpu_ns - v->cpu_ns) / (double)(up_ns - v->up_ns);
		v->up_ns = up_ns;
		v->cpu_ns = cpu_ns;
		v->cpu_valid = true;
	}
	/* else too soon after the sample: measured at a later one */
}
