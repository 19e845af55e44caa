/* The console's event loop: poll() over the terminal, the monitor, running
 * osio commands and VM connections, plus one-shot timers. Single-threaded:
 * every callback runs in the thread that calls loop_once. */
#ifndef OSIO_CONSOLE_LOOP_H
#define OSIO_CONSOLE_LOOP_H

#include <stdint.h>

struct loop;

/* Called when fd has one of the events asked for (POLLIN, POLLOUT) or
 * POLLHUP/POLLERR. The callback may unwatch fd (and others). */
typedef void (*loop_fd_fn)(void *opaque, int fd, short revents);
typedef void (*loop_timer_fn)(void *opaque);

struct loop *loop_new(void);
void loop_free(struct loop *l);

/* Watches fd (at most one watch per fd: a second call replaces the first).
 * 0, -ENOMEM. */
int loop_watch(struct loop *l, int fd, short events, loop_fd_fn fn, void *opaque);
void loop_unwatch(struct loop *l, int fd);

/* Calls fn once, ms milliseconds from now. Returns the timer's id (> 0),
 * or -ENOMEM. */
int loop_timer(struct loop *l, unsigned ms, loop_timer_fn fn, void *opaque);
/* Cancels a timer that has not fired (an unknown or fired id is ignored). */
void loop_cancel(struct loop *l, int id);

/* Waits up to timeout_ms (-1: until something happens; a due timer cuts it
 * short) and runs the callbacks of what happened. 1 when something ran, 0
 * on timeout, -errno when poll failed (EINTR is 0). */
int loop_once(struct loop *l, int timeout_ms);

/* Milliseconds on CLOCK_MONOTONIC. */
uint64_t loop_now_ms(void);

#endif
