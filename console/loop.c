/* The console's event loop (loop.h): poll() over the watched descriptors,
 * one-shot timers kept in an array (a console has a handful). */
#include "console/loop.h"

#include <errno.h>
#include <poll.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

struct watch {
	int fd;
	short events;
	loop_fd_fn fn;
	void *opaque;
	bool gone; /* unwatched during a dispatch */
};

struct timer {
	int id;
	uint64_t due;
	loop_timer_fn fn;
	void *opaque;
};

struct loop {
	struct watch *w;
	unsigned nw, capw;
	struct timer *t;
	unsigned nt, capt;
	int next_id;
};

uint64_t loop_now_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

struct loop *loop_new(void)
{
	return calloc(1, sizeof(struct loop));
}

void loop_free(struct loop *l)
{
	if (!l)
		return;
	free(l->w);
	free(l->t);
	free(l);
}

static struct watch *find_watch(struct loop *l, int fd)
{
	for (unsigned i = 0; i < l->nw; i++)
		if (l->w[i].fd == fd && !l->w[i].gone)
			return &l->w[i];
	return NULL;
}

int loop_watch(struct loop *l, int fd, short events, loop_fd_fn fn, void *opaque)
{
	struct watch *w = find_watch(l, fd);
	if (!w) {
		if (l->nw == l->capw) {
			unsigned cap = l->capw ? l->capw * 2 : 16;
			struct watch *nw = realloc(l->w, cap * sizeof(*nw));
			if (!nw)
				return -ENOMEM;
			l->w = nw;
			l->capw = cap;
		}
		w = &l->w[l->nw++];
	}
	*w = (struct watch){ .fd = fd, .events = events, .fn = fn, .opaque = opaque };
	return 0;
}

void loop_unwatch(struct loop *l, int fd)
{
	struct watch *w = find_watch(l, fd);
	if (w)
		w->gone = true; /* removed after the dispatch that may be iterating */
}

int loop_timer(struct loop *l, unsigned ms, loop_timer_fn fn, void *opaque)
{
	if (l->nt == l->capt) {
		unsigned cap = l->capt ? l->capt * 2 : 16;
		struct timer *nt = realloc(l->t, cap * sizeof(*nt));
		if (!nt)
			return -ENOMEM;
		l->t = nt;
		l->capt = cap;
	}
	if (++l->next_id <= 0)
		l->next_id = 1;
	l->t[l->nt++] = (struct timer){ .id = l->next_id, .due = loop_now_ms() + ms, .fn = fn,
					.opaque = opaque };
	return l->next_id;
}

void loop_cancel(struct loop *l, int id)
{
	for (unsigned i = 0; i < l->nt; i++)
		if (l->t[i].id == id) {
			l->t[i] = l->t[--l->nt];
			return;
		}
}

static void compact_watches(struct loop *l)
{
	unsigned j = 0;
	for (unsigned i = 0; i < l->nw; i++)
		if (!l->w[i].gone)
			l->w[j++] = l->w[i];
	l->nw = j;
}

/* Runs the timers that are due; true when one ran. A timer callback may
 * add or cancel timers, so each is taken out before it runs. */
static bool run_timers(struct loop *l)
{
	bool ran = false;
	uint64_t now = loop_now_ms();
	for (unsigned i = 0; i < l->nt;) {
		if (l->t[i].due > now) {
			i++;
			continue;
		}
		struct timer t = l->t[i];
		l->t[i] = l->t[--l->nt];
		t.fn(t.opaque);
		ran = true;
		i = 0; /* the array may have changed */
	}
	return ran;
}

int loop_once(struct loop *l, int timeout_ms)
{
	compact_watches(l);
	if (l->nt) {
		uint64_t now = loop_now_ms(), first = UINT64_MAX;
		for (unsigned i = 0; i < l->nt; i++)
			if (l->t[i].due < first)
				first = l->t[i].due;
		int until = first <= now ? 0 : (first - now > 1u << 30 ? 1 << 30 : (int)(first - now));
		if (timeout_ms < 0 || until < timeout_ms)
			timeout_ms = until;
	}
	/* The descriptors polled are this call's own: a callback may run the
	 * loop again (a dialog waiting for a key) and change the watches. */
	unsigned n = l->nw;
	struct pollfd *pfd = calloc(n ? n : 1, sizeof(*pfd));
	if (!pfd)
		return -ENOMEM;
	for (unsigned i = 0; i < n; i++)
		pfd[i] = (struct pollfd){ .fd = l->w[i].fd, .events = l->w[i].events };
	int r = poll(pfd, n, timeout_ms);
	if (r < 0) {
		int e = errno;
		free(pfd);
		return e == EINTR ? 0 : -e;
	}
	bool ran = false;
	for (unsigned i = 0; i < n && r > 0; i++) {
		if (!pfd[i].revents)
			continue;
		r--;
		/* A callback may have unwatched (or re-watched) this fd. */
		struct watch *w = find_watch(l, pfd[i].fd);
		if (!w)
			continue;
		struct watch copy = *w;
		copy.fn(copy.opaque, copy.fd, pfd[i].revents);
		ran = true;
	}
	free(pfd);
	if (run_timers(l))
		ran = true;
	return ran ? 1 : 0;
}
