/* The private switch: VMs on the same switch reach each other and nothing
 * else, with no daemon and no privileges. Every port listens on a Unix
 * socket in RUNTIME/switches/NAME/; ports connect to each other when they
 * first send (a mesh of SOCK_SEQPACKET connections, one frame per message),
 * and a frame goes over the connection that leads to its destination MAC
 * (learned from the frames received) or over every one. */
#include "devices/net/net_switch.h"

#include "hypervisor/evloop.h"
#include "hypervisor/log.h"
#include "hypervisor/runtime_dir.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/inotify.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

/* Connected sockets, unlike unconnected datagram ones, have no queue
 * length limit (net.unix.max_dgram_qlen, 10 by default): only the sender's
 * buffer bounds a burst. */
#define PRIV_SOCKBUF  (4 << 20)
#define PRIV_BACKLOG  128
#define PRIV_EVENTS   (EPOLLIN | EPOLLRDHUP)
#define PRIV_HELLO    "osio-private-1 " /* + the port's name: the first message of a connection */
#define PRIV_NAME_MAX 40		/* a port's socket name: MAC.PID.N */
#define PRIV_BATCH    32		/* frames per recvmmsg */
#define PRIV_BUDGET   256		/* frames per wake-up, so that the loop serves others too */
#define PRIV_FDB_MAX  256
#define PRIV_AGE_NS   (300ull * 1000000000ull) /* a Linux bridge's ageing time */
#define PRIV_RX_MAX   (NET_FRAME_MAX + 1)      /* one more: a longer frame shows as too long */

struct priv;

/* A connection to another port of the switch. */
struct pconn {
	struct pconn *next;
	struct priv *st;
	int fd;
	bool registered;    /* on the loop (loop thread only) */
	bool named;	    /* name known: we connected, or its hello came */
	atomic_bool broken; /* the peer left (EPIPE): the loop removes it */
	char name[PRIV_NAME_MAX];
};

struct priv_fdb {
	uint8_t mac[NET_MAC_LEN];
	bool used;
	uint64_t seen;
	struct pconn *conn;
};

struct priv_peer {
	char name[PRIV_NAME_MAX];
};

struct priv {
	struct net_port *port;
	struct evloop *loop;
	int lfd; /* our listening socket, in the directory */
	int dirfd;
	int inofd; /* inotify on the directory: the name list is stale */
	char self[PRIV_NAME_MAX];
	char dir[PATH_MAX];
	/* How to address a port: the directory's path, or /proc/self/fd/N/
	 * when that would not fit in sun_path. */
	char prefix[sizeof(((struct sockaddr_un *)0)->sun_path)];
	size_t prefix_len;

	/* The connections and the name list: read-locked by senders, write-
	 * locked to change them. Lock order: lock, then fdb_lock. */
	pthread_rwlock_t lock;
	struct pconn *conns;
	DIR *dirp;
	struct priv_peer *peers;
	unsigned npeers, peers_cap;
	bool peers_stale;

	/* The learning table: MAC -> connection, from the frames received. */
	pthread_mutex_t fdb_lock;
	struct priv_fdb fdb[PRIV_FDB_MAX];

	/* Receive, loop thread only: a batch of frames, of which those from
	 * batch_pos on are not delivered yet (the adapter was full). */
	bool paused, closed;
	unsigned batch_pos, batch_n;
	struct mmsghdr msgs[PRIV_BATCH];
	struct iovec iovs[PRIV_BATCH];
	uint8_t (*bufs)[PRIV_RX_MAX];

	atomic_uint refs; /* the port, and calls posted to the loop */
	atomic_bool resume_pending, register_pending;
	atomic_uint_fast64_t full_drops; /* frames a full receiver refused */
};

static atomic_uint priv_serial;

static bool priv_name_ok(const char *name)
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

static void priv_unref(struct priv *st)
{
	if (atomic_fetch_sub(&st->refs, 1) != 1)
		return;
	pthread_rwlock_destroy(&st->lock);
	pthread_mutex_destroy(&st->fdb_lock);
	free(st->peers);
	free(st->bufs);
	free(st);
}

/* Runs fn in the loop thread; fn drops the reference taken here. */
static void priv_post(struct priv *st, atomic_bool *pending, evloop_fn fn)
{
	if (atomic_exchange(pending, true))
		return;
	atomic_fetch_add(&st->refs, 1);
	if (evloop_call(st->loop, fn, st) < 0) {
		atomic_store(pending, false);
		priv_unref(st);
	}
}

/* sun_path of the port called name; the address length. */
static socklen_t priv_addr(const struct priv *st, const char *name, struct sockaddr_un *sa)
{
	size_t n = strlen(name);
	memset(sa, 0, sizeof(*sa));
	sa->sun_family = AF_UNIX;
	memcpy(sa->sun_path, st->prefix, st->prefix_len);
	memcpy(sa->sun_path + st->prefix_len, name, n + 1);
	return (socklen_t)(offsetof(struct sockaddr_un, sun_path) + st->prefix_len + n + 1);
}

/* ---- the learning table ---- */

static void priv_fdb_learn(struct priv *st, const uint8_t mac[NET_MAC_LEN], struct pconn *c)
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

static void set_bufs(int fd)
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
 * writing. -ECONNREFUSED or -ENOENT when it is gone, -EAGAIN when it has
 * too many connections waiting. */
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
	set_bufs(c->fd);
	struct sockaddr_un sa;
	socklen_t salen = priv_addr(st, name, &sa);
	int r = 0;
	while (connect(c->fd, (struct sockaddr *)&sa, salen) < 0) {
		if (errno == EINTR)
			continue;
		r = errno == EWOULDBLOCK ? -EAGAIN : -errno;
		break;
	}
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

static void priv_readable(void *opaque, uint32_t events);

/* Loop thread: watches the connections made since the last call. */
static void conn_register(struct priv *st, struct pconn *c)
{
	if (evloop_add_fd(st->loop, c->fd, st->paused ? 0 : PRIV_EVENTS, priv_readable, c) == 0)
		c->registered = true;
}

static void priv_do_register(void *opaque)
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

/* Loop thread (or close): the peer left. */
static void conn_destroy(struct priv *st, struct pconn *c)
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
		if (d->d_type != DT_SOCK && d->d_type != DT_UNKNOWN)
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
			if (r == -ECONNREFUSED || r == -ENOENT) {
				/* Nobody listens: its process died. Removed for
				 * every port of the switch. */
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

/* ---- receive (the machine's loop) ---- */

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
			conn_destroy(st, c);
		return;
	}
	while (budget--) {
		bool alive = conn_recv(st, c);
		unsigned got = st->batch_n;
		bool room = priv_drain_batch(st);
		if (!alive) {
			conn_destroy(st, c);
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

static void priv_resume(void *state)
{
	struct priv *st = state;
	priv_post(st, &st->resume_pending, priv_do_resume);
}

/* A port connects to us. */
static void priv_accept(void *opaque, uint32_t events)
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
		set_bufs(fd);
		pthread_rwlock_wrlock(&st->lock);
		c->next = st->conns;
		st->conns = c;
		pthread_rwlock_unlock(&st->lock);
		conn_register(st, c);
	}
}

/* ---- open and close ---- */

static int priv_mkdirs(struct priv *st, const char *base, const char *name)
{
	snprintf(st->dir, sizeof(st->dir), "%s/switches", base);
	if (mkdir(st->dir, 0700) < 0 && errno != EEXIST)
		return -errno;
	snprintf(st->dir, sizeof(st->dir), "%s/switches/%s", base, name);
	if (mkdir(st->dir, 0700) < 0 && errno != EEXIST)
		return -errno;
	return 0;
}

/* Binds our socket in the directory (made again if the last port of the
 * switch removed it meanwhile). */
static int priv_bind(struct priv *st, const char *base, const char *swname)
{
	for (int attempt = 0;; attempt++) {
		int r = priv_mkdirs(st, base, swname);
		if (r < 0)
			return r;
		if (st->dirfd >= 0)
			close(st->dirfd);
		st->dirfd = open(st->dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
		if (st->dirfd < 0)
			return -errno;
		struct stat sb;
		if (fstat(st->dirfd, &sb) < 0 || sb.st_uid != geteuid() || (sb.st_mode & 0077))
			return -EPERM;
		/* Too long for a socket address: through the directory's fd. */
		size_t dlen = strlen(st->dir);
		if (dlen + 1 + PRIV_NAME_MAX < sizeof(st->prefix)) {
			memcpy(st->prefix, st->dir, dlen);
			st->prefix[dlen] = '/';
			st->prefix_len = dlen + 1;
		} else {
			snprintf(st->prefix, sizeof(st->prefix), "/proc/self/fd/%d/", st->dirfd);
			st->prefix_len = strlen(st->prefix);
		}
		struct sockaddr_un sa;
		socklen_t salen = priv_addr(st, st->self, &sa);
		if (bind(st->lfd, (struct sockaddr *)&sa, salen) == 0)
			break;
		r = -errno;
		if (r == -EADDRINUSE && attempt < 3) {
			/* Left by a process of our pid that died: ours now. */
			unlinkat(st->dirfd, st->self, 0);
			continue;
		}
		if (r == -ENOENT && attempt < 3)
			continue;
		return r;
	}
	if (fchmodat(st->dirfd, st->self, 0600, 0) < 0)
		return -errno;
	return listen(st->lfd, PRIV_BACKLOG) < 0 ? -errno : 0;
}

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
	st->lfd = st->dirfd = st->inofd = -1;
	atomic_init(&st->refs, 1);
	pthread_rwlock_init(&st->lock, NULL);
	pthread_mutex_init(&st->fdb_lock, NULL);
	st->peers_stale = true;

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
	what = st->dir;
	r = priv_bind(st, base, cfg->name);
	if (r < 0)
		goto fail;
	st->dirp = fdopendir(dup(st->dirfd));
	st->inofd = inotify_init1(IN_NONBLOCK | IN_CLOEXEC);
	if (!st->dirp || st->inofd < 0 ||
	    inotify_add_watch(st->inofd, st->dir,
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
		conn_destroy(st, st->conns);
	/* The last port of the switch takes its directory with it. */
	rmdir(st->dir);
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
