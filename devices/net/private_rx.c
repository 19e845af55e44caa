/* The private switch's receive side, in the machine's loop: connections
 * other ports make to us (accept, then their hello naming them), frames in
 * recvmmsg batches to the adapter, and the pause while the adapter is full
 * until the port resumes. */
#include "devices/net/private_int.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static void priv_readable(void *opaque, uint32_t events);

/* Watches a connection (loop thread). */
static void conn_register(struct priv *st, struct pconn *c)
{
	if (evloop_add_fd(st->loop, c->fd, st->paused ? 0 : PRIV_EVENTS, priv_readable, c) == 0)
		c->registered = true;
}

void priv_do_register(void *opaque)
{
	struct priv *st = opaque;
	atomic_store(&st->register_pending, false);
	if (!st->closed) {
		pthread_rwlock_rdlock(&st->lock);
		for (struct pconn *c = st->conns; c; c = c->next)
			if (!c->registered)
				conn_register(st, c);
		pthread_rwlock_unlock(&st->lock);
	}
	priv_unref(st);
}

static void priv_pause(struct priv *st)
{
	st->paused = true;
	pthread_rwlock_rdlock(&st->lock);
	for (struct pconn *c = st->conns; c; c = c->next)
		if (c->registered)
			evloop_mod_fd(st->loop, c->fd, 0);
	pthread_rwlock_unlock(&st->lock);
}

/* Delivers what is left of the batch; false when the adapter filled up
 * (the port queued the frame it refused; the rest wait here). */
static bool priv_drain_batch(struct priv *st)
{
	while (st->batch_pos < st->batch_n) {
		unsigned i = st->batch_pos++;
		struct iovec iov = {.iov_base = st->bufs[i], .iov_len = st->msgs[i].msg_len};
		if (net_port_deliver(st->port, NULL, &iov, 1, iov.iov_len) == -EAGAIN) {
			if (!st->paused)
				priv_pause(st);
			return false;
		}
	}
	return true;
}

/* The first message on a connection we accepted names the port that made
 * it. */
static bool conn_hello(struct priv *st, struct pconn *c, const uint8_t *msg, size_t len)
{
	size_t hl = sizeof(PRIV_HELLO) - 1;
	if (len <= hl || len - hl >= PRIV_NAME_MAX || memcmp(msg, PRIV_HELLO, hl))
		return false;
	char name[PRIV_NAME_MAX];
	memcpy(name, msg + hl, len - hl);
	name[len - hl] = 0;
	if (!priv_name_ok(name))
		return false;
	pthread_rwlock_wrlock(&st->lock);
	memcpy(c->name, name, sizeof(name));
	c->named = true;
	pthread_rwlock_unlock(&st->lock);
	return true;
}

/* Reads a batch from c: frames kept from batch_pos on, their senders
 * learned. false when the connection is finished (closed, broken). */
static bool conn_recv(struct priv *st, struct pconn *c)
{
	for (unsigned i = 0; i < PRIV_BATCH; i++) {
		st->iovs[i] = (struct iovec){.iov_base = st->bufs[i], .iov_len = PRIV_RX_MAX};
		st->msgs[i].msg_hdr = (struct msghdr){.msg_iov = &st->iovs[i], .msg_iovlen = 1};
		st->msgs[i].msg_len = 0;
	}
	int n;
	do
		n = recvmmsg(c->fd, st->msgs, PRIV_BATCH, MSG_DONTWAIT, NULL);
	while (n < 0 && errno == EINTR);
	st->batch_pos = st->batch_n = 0;
	if (n < 0)
		return errno == EAGAIN;
	bool alive = true;
	unsigned keep = 0;
	for (unsigned i = 0; i < (unsigned)n; i++) {
		struct mmsghdr *m = &st->msgs[i];
		size_t len = m->msg_len;
		if (len == 0) { /* the end of the connection */
			alive = false;
			break;
		}
		if (!c->named) {
			if (!conn_hello(st, c, st->bufs[i], len)) {
				alive = false;
				break;
			}
			continue;
		}
		if ((m->msg_hdr.msg_flags & MSG_TRUNC) || len > NET_FRAME_MAX || len < NET_ETH_MIN)
			continue; /* not a frame a port sends */
		if (!(st->bufs[i][6] & 1))
			priv_fdb_learn(st, st->bufs[i] + 6, c);
		if (keep != i) {
			memcpy(st->bufs[keep], st->bufs[i], len);
			st->msgs[keep].msg_len = (unsigned)len;
		}
		keep++;
	}
	st->batch_n = keep;
	return alive;
}

static void priv_readable(void *opaque, uint32_t events)
{
	struct pconn *c = opaque;
	struct priv *st = c->st;
	unsigned budget = PRIV_BUDGET / PRIV_BATCH;
	if (st->paused) {
		/* Only a hang-up comes through while paused. */
		if (events & (EPOLLHUP | EPOLLERR))
			priv_conn_destroy(st, c);
		return;
	}
	while (budget--) {
		bool alive = conn_recv(st, c);
		unsigned got = st->batch_n;
		bool room = priv_drain_batch(st);
		if (!alive) {
			priv_conn_destroy(st, c);
			return;
		}
		if (!room || got == 0)
			return;
	}
}

static void priv_do_resume(void *opaque)
{
	struct priv *st = opaque;
	atomic_store(&st->resume_pending, false);
	if (!st->closed && st->paused) {
		st->paused = false;
		if (priv_drain_batch(st)) {
			pthread_rwlock_rdlock(&st->lock);
			for (struct pconn *c = st->conns; c; c = c->next)
				if (c->registered)
					evloop_mod_fd(st->loop, c->fd, PRIV_EVENTS);
			pthread_rwlock_unlock(&st->lock);
		}
	}
	priv_unref(st);
}

void priv_resume(void *state)
{
	struct priv *st = state;
	priv_post(st, &st->resume_pending, priv_do_resume);
}

/* A port connects to us. */
void priv_accept(void *opaque, uint32_t events)
{
	struct priv *st = opaque;
	(void)events;
	for (;;) {
		int fd = accept4(st->lfd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
		if (fd < 0)
			return; /* EAGAIN; or out of fds: it waits in the backlog */
		struct pconn *c = calloc(1, sizeof(*c));
		if (!c) {
			close(fd);
			return;
		}
		c->st = st;
		c->fd = fd;
		priv_set_bufs(fd);
		pthread_rwlock_wrlock(&st->lock);
		c->next = st->conns;
		st->conns = c;
		pthread_rwlock_unlock(&st->lock);
		conn_register(st, c);
	}
}
