/* The private switch: VMs on the same switch reach each other and nothing
 * else, with no daemon and no privileges. Every port listens on a Unix
 * socket in RUNTIME/switches/NAME/ (private_dir.c); ports connect to each
 * other when they first send (a mesh of SOCK_SEQPACKET connections, one
 * frame per message), and a frame goes over the connection that leads to
 * its destination MAC (learned from the frames received, private_rx.c) or
 * over every one. */
#include "devices/net/private_int.h"

#include "hypervisor/log.h"
#include "hypervisor/runtime_dir.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/inotify.h>
#include <unistd.h>

static atomic_uint priv_serial;

bool priv_name_ok(const char *name)
{
	if (!name[0] || name[0] == '.' || strlen(name) >= NET_NAME_MAX)
		return false;
	for (const char *c = name; *c; c++)
		if (*c == '/')
			return false;
	return true;
}

/* A port's name (checked shorter than PRIV_NAME_MAX). */
static void copy_name(char dst[PRIV_NAME_MAX], const char *src)
{
	size_t n = strnlen(src, PRIV_NAME_MAX - 1);
	memcpy(dst, src, n);
	dst[n] = 0;
}

void priv_unref(struct priv *st)
{
	if (atomic_fetch_sub(&st->refs, 1) != 1)
		return;
	pthread_rwlock_destroy(&st->lock);
	pthread_mutex_destroy(&st->fdb_lock);
	free(st->peers);
	free(st->bufs);
	free(st);
}

void priv_post(struct priv *st, atomic_bool *pending, evloop_fn fn)
{
	if (atomic_exchange(pending, true))
		return;
	atomic_fetch_add(&st->refs, 1);
	if (evloop_call(st->loop, fn, st) < 0) {
		atomic_store(pending, false);
		priv_unref(st);
	}
}

/* ---- the learning table ---- */

void priv_fdb_learn(struct priv *st, const uint8_t mac[NET_MAC_LEN], struct pconn *c)
{
	uint64_t now = clock_ns();
	struct priv_fdb *slot = NULL, *oldest = &st->fdb[0];
	pthread_mutex_lock(&st->fdb_lock);
	for (unsigned i = 0; i < PRIV_FDB_MAX; i++) {
		struct priv_fdb *e = &st->fdb[i];
		if (e->used && !memcmp(e->mac, mac, NET_MAC_LEN)) {
			slot = e;
			break;
		}
		if (!e->used) {
			if (!slot)
				slot = e;
		} else if (oldest->used && e->seen < oldest->seen) {
			oldest = e;
		}
	}
	if (!slot)
		slot = oldest; /* full: the least recently seen address goes */
	memcpy(slot->mac, mac, NET_MAC_LEN);
	slot->used = true;
	slot->seen = now;
	slot->conn = c;
	pthread_mutex_unlock(&st->fdb_lock);
}

/* The connection that leads to mac, if learned recently; lock held. */
static struct pconn *priv_fdb_lookup(struct priv *st, const uint8_t mac[NET_MAC_LEN])
{
	uint64_t now = clock_ns();
	struct pconn *c = NULL;
	pthread_mutex_lock(&st->fdb_lock);
	for (unsigned i = 0; i < PRIV_FDB_MAX; i++) {
		struct priv_fdb *e = &st->fdb[i];
		if (!e->used || memcmp(e->mac, mac, NET_MAC_LEN))
			continue;
		if (now - e->seen > PRIV_AGE_NS)
			e->used = false;
		else if (!atomic_load(&e->conn->broken))
			c = e->conn;
		break;
	}
	pthread_mutex_unlock(&st->fdb_lock);
	return c;
}

/* The connection is going: forget the addresses behind it; lock held for
 * writing. */
static void priv_fdb_forget(struct priv *st, const struct pconn *c)
{
	pthread_mutex_lock(&st->fdb_lock);
	for (unsigned i = 0; i < PRIV_FDB_MAX; i++)
		if (st->fdb[i].used && st->fdb[i].conn == c)
			st->fdb[i].used = false;
	pthread_mutex_unlock(&st->fdb_lock);
}

/* ---- connections ---- */

void priv_set_bufs(int fd)
{
	/* Past net.core.wmem_max where we may (CAP_NET_ADMIN). */
	int size = PRIV_SOCKBUF;
	if (setsockopt(fd, SOL_SOCKET, SO_SNDBUFFORCE, &size, sizeof(size)) < 0)
		setsockopt(fd, SOL_SOCKET, SO_SNDBUF, &size, sizeof(size));
	if (setsockopt(fd, SOL_SOCKET, SO_RCVBUFFORCE, &size, sizeof(size)) < 0)
		setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &size, sizeof(size));
}

/* 0, -EAGAIN (the receiver has the sender's whole buffer queued), or
 * -errno (EPIPE, ECONNRESET: the peer left; the loop removes it). */
static int conn_send(struct pconn *c, const struct iovec *iov, unsigned iovcnt)
{
	struct msghdr msg = {.msg_iov = (struct iovec *)iov, .msg_iovlen = iovcnt};
	for (;;) {
		if (sendmsg(c->fd, &msg, MSG_DONTWAIT | MSG_NOSIGNAL) >= 0)
			return 0;
		if (errno != EINTR)
			break;
	}
	int r = errno == EWOULDBLOCK || errno == ENOBUFS ? -EAGAIN : -errno;
	if (r == -EPIPE || r == -ECONNRESET || r == -ENOTCONN)
		atomic_store(&c->broken, true); /* the loop removes it */
	return r;
}

/* Connects to the port called name and says who we are; lock held for
 * writing. -ECONNREFUSED or -ENOENT when it is gone, -EPERM when it is not
 * a port's socket, -EAGAIN when it has too many connections waiting. */
static int conn_open(struct priv *st, const char *name, struct pconn **out)
{
	struct pconn *c = calloc(1, sizeof(*c));
	if (!c)
		return -ENOMEM;
	c->st = st;
	c->named = true;
	copy_name(c->name, name);
	c->fd = socket(AF_UNIX, SOCK_SEQPACKET | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (c->fd < 0) {
		free(c);
		return -errno;
	}
	priv_set_bufs(c->fd);
	struct sockaddr_un sa;
	socklen_t salen;
	int pathfd;
	int r = priv_peer_addr(st, name, &sa, &salen, &pathfd);
	while (r == 0 && connect(c->fd, (struct sockaddr *)&sa, salen) < 0) {
		if (errno == EINTR)
			continue;
		r = errno == EWOULDBLOCK ? -EAGAIN : -errno;
	}
	if (pathfd >= 0)
		close(pathfd);
	if (r == 0) {
		char hello[sizeof(PRIV_HELLO) + PRIV_NAME_MAX];
		int n = snprintf(hello, sizeof(hello), "%s%s", PRIV_HELLO, st->self);
		if (send(c->fd, hello, (size_t)n, MSG_DONTWAIT | MSG_NOSIGNAL) != n)
			r = -EPIPE;
	}
	if (r < 0) {
		close(c->fd);
		free(c);
		return r;
	}
	c->next = st->conns;
	st->conns = c;
	*out = c;
	return 0;
}

static struct pconn *conn_by_name(struct priv *st, const char *name)
{
	for (struct pconn *c = st->conns; c; c = c->next)
		if (c->named && !atomic_load(&c->broken) && !strcmp(c->name, name))
			return c;
	return NULL;
}

void priv_conn_destroy(struct priv *st, struct pconn *c)
{
	pthread_rwlock_wrlock(&st->lock);
	for (struct pconn **pp = &st->conns; *pp; pp = &(*pp)->next) {
		if (*pp == c) {
			*pp = c->next;
			break;
		}
	}
	priv_fdb_forget(st, c);
	pthread_rwlock_unlock(&st->lock);
	if (c->registered)
		evloop_del_fd(st->loop, c->fd);
	close(c->fd);
	free(c);
}

/* ---- the other ports' names (lock held for writing) ---- */

static int peers_add(struct priv *st, const char *name)
{
	if (st->npeers == st->peers_cap) {
		unsigned cap = st->peers_cap ? st->peers_cap * 2 : 16;
		struct priv_peer *p = realloc(st->peers, cap * sizeof(*p));
		if (!p)
			return -ENOMEM;
		st->peers = p;
		st->peers_cap = cap;
	}
	copy_name(st->peers[st->npeers++].name, name);
	return 0;
}

static void peers_rescan(struct priv *st)
{
	st->npeers = 0;
	rewinddir(st->dirp);
	struct dirent *d;
	while ((d = readdir(st->dirp))) {
		if (d->d_name[0] == '.' || strlen(d->d_name) >= PRIV_NAME_MAX ||
		    !strcmp(d->d_name, st->self))
			continue;
		if (!priv_entry_ok(st, d))
			continue;
		if (peers_add(st, d->d_name) < 0)
			break; /* out of memory: flood to those we have */
	}
	st->peers_stale = false;
}

/* What inotify says happened in the directory: anything makes the cached
 * list stale. */
static void peers_check(struct priv *st)
{
	char buf[4096] __attribute__((aligned(__alignof__(struct inotify_event))));
	while (read(st->inofd, buf, sizeof(buf)) > 0)
		st->peers_stale = true;
	if (st->peers_stale)
		peers_rescan(st);
}

/* ---- send (any thread) ---- */

static bool conn_lost(int r)
{
	return r == -EPIPE || r == -ECONNRESET || r == -ENOTCONN;
}

static int priv_flood(struct priv *st, const struct iovec *iov, unsigned iovcnt)
{
	unsigned sent = 0, full = 0;
	bool opened = false;
	pthread_rwlock_wrlock(&st->lock);
	peers_check(st);
	for (unsigned i = 0; i < st->npeers;) {
		const char *name = st->peers[i].name;
		struct pconn *c = conn_by_name(st, name);
		int r = c ? conn_send(c, iov, iovcnt) : -ENOTCONN;
		if (conn_lost(r)) {
			/* No connection, or its peer left: a new one. */
			r = conn_open(st, name, &c);
			if (r == -ECONNREFUSED || r == -ENOENT || r == -EPERM) {
				/* Nobody listens: its process died. Removed for
				 * every port of the switch. (-EPERM: not a
				 * port's socket, left alone.) */
				if (r == -ECONNREFUSED)
					unlinkat(st->dirfd, name, 0);
				st->peers[i] = st->peers[--st->npeers];
				continue;
			}
			if (r == 0) {
				opened = true;
				r = conn_send(c, iov, iovcnt);
			}
		}
		i++;
		if (r == 0)
			sent++;
		else if (r == -EAGAIN)
			full++;
	}
	pthread_rwlock_unlock(&st->lock);
	if (opened)
		priv_post(st, &st->register_pending, priv_do_register);
	if (full) {
		atomic_fetch_add(&st->full_drops, full);
		if (!sent)
			return -ENOBUFS;
	}
	return 0;
}

/* The first bytes of a frame spread over iov. */
static void iov_head(const struct iovec *iov, unsigned iovcnt, uint8_t *out, size_t n)
{
	for (unsigned i = 0; i < iovcnt && n; i++) {
		size_t k = iov[i].iov_len < n ? iov[i].iov_len : n;
		memcpy(out, iov[i].iov_base, k);
		out += k;
		n -= k;
	}
	memset(out, 0, n);
}

static int priv_send(void *state, const struct net_hdr *hdr, const struct iovec *iov,
		     unsigned iovcnt, size_t len)
{
	struct priv *st = state;
	uint8_t dst[NET_MAC_LEN];
	(void)hdr; /* complete frames: the core finished the offload work */
	if (len < NET_ETH_MIN)
		return -EINVAL;
	iov_head(iov, iovcnt, dst, sizeof(dst));
	if (!(dst[0] & 1)) {
		pthread_rwlock_rdlock(&st->lock);
		struct pconn *c = priv_fdb_lookup(st, dst);
		int r = c ? conn_send(c, iov, iovcnt) : 0;
		pthread_rwlock_unlock(&st->lock);
		if (c && r == -EAGAIN) {
			atomic_fetch_add(&st->full_drops, 1);
			return -ENOBUFS;
		}
		/* A peer that left (EPIPE) is removed by the loop; its address
		 * is unknown again meanwhile. */
		if (c && !conn_lost(r))
			return r;
	}
	return priv_flood(st, iov, iovcnt);
}

/* ---- open and close ---- */

static void priv_free_fds(struct priv *st)
{
	if (st->dirp)
		closedir(st->dirp);
	if (st->inofd >= 0)
		close(st->inofd);
	if (st->lfd >= 0)
		close(st->lfd);
	if (st->dirfd >= 0)
		close(st->dirfd);
	if (st->swfd >= 0)
		close(st->swfd);
}

static int priv_open(struct net_port *p, const struct net_switch_cfg *cfg, void **state)
{
	const char *id = net_port_id(p);
	if (!priv_name_ok(cfg->name)) {
		log_error("%s: '%s' is not a valid private switch name: use letters, digits, '.', "
			  "'_' and '-'",
			  id, cfg->name);
		return -EINVAL;
	}
	char base[PATH_MAX - NET_NAME_MAX - 16];
	int r = runtime_dir_create(base, sizeof(base)); /* it says what is wrong */
	if (r < 0)
		return r;
	struct priv *st = calloc(1, sizeof(*st));
	if (!st)
		return -ENOMEM;
	st->bufs = malloc(PRIV_BATCH * sizeof(*st->bufs));
	if (!st->bufs) {
		free(st);
		return -ENOMEM;
	}
	st->port = p;
	st->loop = net_port_machine(p)->loop;
	st->lfd = st->dirfd = st->swfd = st->inofd = -1;
	atomic_init(&st->refs, 1);
	pthread_rwlock_init(&st->lock, NULL);
	pthread_mutex_init(&st->fdb_lock, NULL);
	st->peers_stale = true;
	snprintf(st->name, sizeof(st->name), "%s", cfg->name);

	uint8_t mac[NET_MAC_LEN];
	net_port_mac(p, mac);
	snprintf(st->self, sizeof(st->self), "%02x%02x%02x%02x%02x%02x.%d.%u", mac[0], mac[1],
		 mac[2], mac[3], mac[4], mac[5], (int)getpid(), atomic_fetch_add(&priv_serial, 1));

	const char *what = "socket";
	st->lfd = socket(AF_UNIX, SOCK_SEQPACKET | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (st->lfd < 0) {
		r = -errno;
		goto fail;
	}
	r = priv_dir_join(st, base); /* it says what is wrong */
	if (r < 0)
		goto fail_quiet;
	what = st->dir;
	/* Shared: the folder we checked, not whatever its path leads to now. */
	char watch[sizeof(st->dir)];
	if (st->shared)
		snprintf(watch, sizeof(watch), "/proc/self/fd/%d", st->dirfd);
	else
		snprintf(watch, sizeof(watch), "%s", st->dir);
	st->dirp = fdopendir(dup(st->dirfd));
	st->inofd = inotify_init1(IN_NONBLOCK | IN_CLOEXEC);
	if (!st->dirp || st->inofd < 0 ||
	    inotify_add_watch(st->inofd, watch,
			      IN_CREATE | IN_DELETE | IN_MOVED_FROM | IN_MOVED_TO) < 0) {
		r = -errno;
		goto fail_unlink;
	}
	r = evloop_add_fd(st->loop, st->lfd, EPOLLIN, priv_accept, st);
	if (r < 0)
		goto fail_unlink;
	*state = st;
	return 0;

fail_unlink:
	unlinkat(st->dirfd, st->self, 0);
fail:
	log_error("%s: cannot join the private switch '%s': %s: %s", id, cfg->name, what,
		  strerror(-r));
fail_quiet:
	priv_free_fds(st);
	priv_unref(st);
	return r;
}

static void priv_close(void *state)
{
	struct priv *st = state;
	if (!st)
		return;
	st->closed = true;
	evloop_del_fd(st->loop, st->lfd);
	unlinkat(st->dirfd, st->self, 0);
	while (st->conns)
		priv_conn_destroy(st, st->conns);
	/* The last port of the switch takes its directory with it. */
	unlinkat(st->swfd, st->name, AT_REMOVEDIR);
	priv_free_fds(st);
	uint64_t full = atomic_load(&st->full_drops);
	if (full && tracing(TRACE_DEV))
		log_trace("%s: %llu frames to full ports of the private switch dropped",
			  net_port_id(st->port), (unsigned long long)full);
	priv_unref(st);
}

const struct net_switch_ops net_switch_private = {
    .kind = NET_SWITCH_PRIVATE,
    .offloads = false,
    .open = priv_open,
    .send = priv_send,
    .resume = priv_resume,
    .close = priv_close,
};
