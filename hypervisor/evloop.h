/* The worker's event loop (epoll): file descriptors, timers, and calls
 * posted from other threads. Everything registered runs in the loop's
 * thread. fd registration is for the loop's own thread (or before it runs);
 * other threads post with evloop_call. Timers may be armed and cancelled
 * from any thread (device models do so from vCPU threads). */
#ifndef OSIO_EVLOOP_H
#define OSIO_EVLOOP_H

#include <stdint.h>
#include <sys/epoll.h>

struct evloop;
struct evtimer;

typedef void (*evloop_fd_fn)(void *opaque, uint32_t events);
typedef void (*evloop_fn)(void *opaque);

struct evloop *evloop_new(void);
void evloop_free(struct evloop *l);

/* events: EPOLLIN, EPOLLOUT, ... Returns 0 or -errno. */
int evloop_add_fd(struct evloop *l, int fd, uint32_t events, evloop_fd_fn fn, void *opaque);
int evloop_mod_fd(struct evloop *l, int fd, uint32_t events);
int evloop_del_fd(struct evloop *l, int fd);

struct evtimer *evtimer_new(struct evloop *l, evloop_fn fn, void *opaque);
/* First expiry after delay_ns (at least 1 ns), then every period_ns if not 0.
 * Expiries of a periodic timer that the loop could not serve in time merge
 * into one call. A timer may be re-armed, cancelled or freed from its own
 * callback. */
void evtimer_arm(struct evtimer *t, uint64_t delay_ns, uint64_t period_ns);
void evtimer_cancel(struct evtimer *t);
void evtimer_free(struct evtimer *t);

/* Runs fn(opaque) in the loop thread soon; safe from any thread and from
 * signal-free contexts. Returns 0 or -errno. */
int evloop_call(struct evloop *l, evloop_fn fn, void *opaque);

/* Runs until evloop_stop (from any thread; the stop is itself a posted call,
 * so events already fetched with it may still be served). Returns 0, or
 * -errno if epoll itself failed. */
int evloop_run(struct evloop *l);
void evloop_stop(struct evloop *l);
/* Runs the calls posted so far, now, in the calling thread: for the loop's
 * owner when the loop is not running (the last calls posted before it
 * ended would otherwise never run). */
void evloop_run_calls(struct evloop *l);

/* Monotonic clock in nanoseconds. */
uint64_t clock_ns(void);

#endif
