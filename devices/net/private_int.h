/* The private switch's internals, shared by its parts: private.c (open,
 * close, send, the learning table), private_rx.c (receive) and private_dir.c
 * (the switch's folder and the sockets in it). */
#ifndef OSIO_NET_PRIVATE_INT_H
#define OSIO_NET_PRIVATE_INT_H

#include "devices/net/net_switch.h"

#include "hypervisor/evloop.h"

#include <dirent.h>
#include <limits.h>
#include <pthread.h>
#include <stdatomic.h>
#include <sys/socket.h>
#include <sys/types.h>
#include <sys/un.h>

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
#define PRIV_ODD_MAX  8			       /* odd entries of the folder logged, each once */

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
	int swfd;  /* RUNTIME/switches: the switch's folder goes through it */
	int inofd; /* inotify on the directory: the name list is stale */
	char self[PRIV_NAME_MAX];
	char name[NET_NAME_MAX]; /* the switch's */
	char dir[PATH_MAX];
	/* System mode with a runtime folder of the group (/run/osio): the
	 * switch is the group's, its folder and sockets of group gid, and the
	 * ports reach each other through the descriptors of what they checked
	 * (/proc/self/fd/N), never through a name a member could swap. */
	bool shared;
	gid_t gid;
	/* How to address a port: the directory's path, or /proc/self/fd/N/
	 * when that would not fit in sun_path (or when shared). */
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
	/* Entries of the folder refused and logged (lock held for writing). */
	struct priv_peer refused[PRIV_ODD_MAX];
	unsigned nrefused;

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

/* private.c */
bool priv_name_ok(const char *name);
void priv_unref(struct priv *st);
/* Runs fn in the loop thread; fn drops the reference taken here. */
void priv_post(struct priv *st, atomic_bool *pending, evloop_fn fn);
void priv_set_bufs(int fd);
void priv_fdb_learn(struct priv *st, const uint8_t mac[NET_MAC_LEN], struct pconn *c);
/* Loop thread (or close): the peer left. */
void priv_conn_destroy(struct priv *st, struct pconn *c);

/* private_rx.c: the machine loop's side. */
void priv_accept(void *opaque, uint32_t events);
/* Loop thread: watches the connections made since the last call. */
void priv_do_register(void *opaque);
void priv_resume(void *state);

/* private_dir.c */
/* Makes RUNTIME/switches/NAME as needed (base: the runtime folder), checks
 * that it is this user's private folder (shared: one of the group's), and
 * binds st->lfd there as st->self; sets dirfd, swfd, dir, prefix, shared
 * and gid. -errno having logged one line naming the folder and the fix. */
int priv_dir_join(struct priv *st, const char *base);
/* The address to connect to the port called name, after checking that it
 * is a socket of this user (shared: of the group). *pathfd is a descriptor
 * the caller closes after connecting (-1 when none). -EPERM, with a line in
 * the log the first time, when the entry is not a port's socket; -ENOENT
 * when it is gone. Lock held for writing. */
int priv_peer_addr(struct priv *st, const char *name, struct sockaddr_un *sa, socklen_t *salen,
		   int *pathfd);
/* Whether an entry of the folder may be a port (a socket, or a type
 * readdir did not say); other kinds are logged once. Lock held for
 * writing. */
bool priv_entry_ok(struct priv *st, const struct dirent *d);

#endif
