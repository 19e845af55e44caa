/* epoll-based event loop with timerfd timers and an eventfd call queue. */
#include "hypervisor/evloop.h"

#include "hypervisor/log.h"

#include <errno.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/timerfd.h>
#include <time.h>
#include <unistd.h>

struct handler {
	int fd;
	evloop_fd_fn fn;
	void *opaque;
	bool dead;
	struct handler *next;
};

struct evtimer {
	struct evloop *loop;
	int fd;
	evloop_fn fn;
	void *opaque;
};

struct call {
	evloop_fn fn;
	void *opaque;
	struct call *next;
};

struct evloop {
	int epfd;
	int wakefd;
	pthread_mutex_t lock; /* calls and handlers lists */
	struct handler *handlers;
	struct call *calls, **calls_tail;
	volatile bool stop;
	bool dispatching;
};

uint64_t clock_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

static void run_calls(void *opaque, uint32_t events);

struct evloop *evloop_new(void)
{
	struct evloop *l = calloc(1, sizeof(*l));
	if (!l)
		return NULL;
	l->epfd = epoll_create1(EPOLL_CLOEXEC);
	l->wakefd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	pthread_mutex_init(&l->lock, NULL);
	l->calls_tail = &l->calls;
	if (l->epfd < 0 || l->wakefd < 0 || evloop_add_fd(l, l->wakefd, EPOLLIN, run_calls, l) < 0) {
		evloop_free(l);
		return NULL;
	}
	return l;
}

void evloop_free(struct evloop *l)
{
	if (!l)
		return;
	for (struct handler *h = l->handlers, *n; h; h = n) {
		n = h->next;
		free(h);
	}
	for (struct call *c = l->calls, *n; c; c = n) {
		n = c->next;
		free(c);
	}
	if (l->epfd >= 0)
		close(l->epfd);
	if (l->wakefd >= 0)
		close(l->wakefd);
	pthread_mutex_destroy(&l->lock);
	free(l);
}

int evloop_add_fd(struct evloop *l, int fd, uint32_t events, evloop_fd_fn fn, void *opaque)
{
	struct handler *h = calloc(1, sizeof(*h));
	if (!h)
		return -ENOMEM;
	*h = (struct handler){ .fd = fd, .fn = fn, .opaque = opaque };
	struct epoll_event ev = { .events = events, .data.ptr = h };
	if (epoll_ctl(l->epfd, EPOLL_CTL_ADD, fd, &ev) < 0) {
		int e = errno;
		free(h);
		return -e;
	}
	pthread_mutex_lock(&l->lock);
	h->next = l->handlers;
	l->handlers = h;
	pthread_mutex_unlock(&l->lock);
	return 0;
}

static struct handler *find_handler(struct evloop *l, int fd)
{
	for (struct handler *h = l->handlers; h; h = h->next)
		if (h->fd == fd && !h->dead)
			return h;
	return NULL;
}

int evloop_mod_fd(struct evloop *l, int fd, uint32_t events)
{
	pthread_mutex_lock(&l->lock);
	struct handler *h = find_handler(l, fd);
	pthread_mutex_unlock(&l->lock);
	if (!h)
		return -ENOENT;
	struct epoll_event ev = { .events = events, .data.ptr = h };
	return epoll_ctl(l->epfd, EPOLL_CTL_MOD, fd, &ev) < 0 ? -errno : 0;
}

static void reap(struct evloop *l)
{
	pthread_mutex_lock(&l->lock);
	for (struct handler **p = &l->handlers; *p;) {
		struct handler *h = *p;
		if (h->dead) {
			*p = h->next;
			free(h);
		} else {
			p = &h->next;
		}
	}
	pthread_mutex_unlock(&l->lock);
}

int evloop_del_fd(struct evloop *l, int fd)
{
	pthread_mutex_lock(&l->lock);
	struct handler *h = find_handler(l, fd);
	if (h)
		h->dead = true;
	pthread_mutex_unlock(&l->lock);
	if (!h)
		return -ENOENT;
	epoll_ctl(l->epfd, EPOLL_CTL_DEL, fd, NULL);
	/* Events already fetched for this handler in the current batch are
	 * skipped; the handler is freed after the batch. */
	if (!l->dispatching)
		reap(l);
	return 0;
}

static void timer_fired(void *opaque, uint32_t events)
{
	struct evtimer *t = opaque;
	uint64_t n;
	if (read(t->fd, &n, sizeof(n)) != sizeof(n))
		return; /* cancelled or re-armed meanwhile */
	t->fn(t->opaque);
}

struct evtimer *evtimer_new(struct evloop *l, evloop_fn fn, void *opaque)
{
	struct evtimer *t = calloc(1, sizeof(*t));
	if (!t)
		return NULL;
	*t = (struct evtimer){ .loop = l, .fn = fn, .opaque = opaque };
	t->fd = timerfd_create(CLOCK_MONOTONIC, TFD_CLOEXEC | TFD_NONBLOCK);
	if (t->fd < 0 || evloop_add_fd(l, t->fd, EPOLLIN, timer_fired, t) < 0) {
		if (t->fd >= 0)
			close(t->fd);
		free(t);
		return NULL;
	}
	return t;
}

static struct timespec ns_to_ts(uint64_t ns)
{
	return (struct timespec){ .tv_sec = (time_t)(ns / 1000000000ull),
				  .tv_nsec = (long)(ns % 1000000000ull) };
}

void evtimer_arm(struct evtimer *t, uint64_t delay_ns, uint64_t period_ns)
{
	struct itimerspec its = { .it_value = ns_to_ts(delay_ns ? delay_ns : 1),
				  .it_interval = ns_to_ts(period_ns) };
	timerfd_settime(t->fd, 0, &its, NULL);
}

void evtimer_cancel(struct evtimer *t)
{
	struct itimerspec its = { 0 };
	timerfd_settime(t->fd, 0, &its, NULL);
}

void evtimer_free(struct evtimer *t)
{
	if (!t)
		return;
	evloop_del_fd(t->loop, t->fd);
	close(t->fd);
	free(t);
}

int evloop_call(struct evloop *l, evloop_fn fn, void *opaque)
{
	struct call *c = malloc(sizeof(*c));
	if (!c)
		return -ENOMEM;
	*c = (struct call){ .fn = fn, .opaque = opaque };
	pthread_mutex_lock(&l->lock);
	*l->calls_tail = c;
	l->calls_tail = &c->next;
	pthread_mutex_unlock(&l->lock);
	uint64_t one = 1;
	if (write(l->wakefd, &one, sizeof(one)) < 0 && errno != EAGAIN)
		return -errno;
	return 0;
}

static void run_calls(void *opaque, uint32_t events)
{
	struct evloop *l = opaque;
	uint64_t n;
	if (read(l->wakefd, &n, sizeof(n)) < 0 && errno != EAGAIN)
		log_warn("event loop: wake-up read failed: %s", strerror(errno));
	pthread_mutex_lock(&l->lock);
	struct call *c = l->calls;
	l->calls = NULL;
	l->calls_tail = &l->calls;
	pthread_mutex_unlock(&l->lock);
	while (c) {
		struct call *next = c->next;
		c->fn(c->opaque);
		free(c);
		c = next;
	}
}

void evloop_run_calls(struct evloop *l)
{
	run_calls(l, 0);
}

static void wake_stop(void *opaque)
{
	((struct evloop *)opaque)->stop = true;
}

void evloop_stop(struct evloop *l)
{
	evloop_call(l, wake_stop, l);
}

int evloop_run(struct evloop *l)
{
	struct epoll_event evs[32];
	l->stop = false;
	while (!l->stop) {
		int n = epoll_wait(l->epfd, evs, 32, -1);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			return -errno;
		}
		l->dispatching = true;
		for (int i = 0; i < n && !l->stop; i++) {
			struct handler *h = evs[i].data.ptr;
			if (!h->dead)
				h->fn(h->opaque, evs[i].events);
		}
		l->dispatching = false;
		reap(l);
	}
	return 0;
}
