/* The NAT switch (Hyper-V's "Default Switch"): one libslirp instance per port
 * gives the guest DHCP, DNS, TFTP, NAT to the host's sockets and port forwards,
 * with no privileges. Each instance is driven by a poll thread of its own. */
#include "devices/net/net_switch.h"
#include "hypervisor/log.h"

#include <arpa/inet.h>
#include <errno.h>
#include <poll.h>
#include <pthread.h>
#include <slirp/libslirp.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#define NAT_HOST       2   /* the host (gateway) inside the subnet: 10.0.2.2 */
#define NAT_DNS	       3   /* the DNS forwarder: 10.0.2.3 */
#define NAT_DHCP_FIRST 15  /* the first address DHCP hands out: 10.0.2.15 */
#define NAT_DHCP_COUNT 16  /* libslirp's NB_BOOTP_CLIENTS */
#define NAT_QUEUE_MAX  512 /* frames for the guest waiting for the poll thread */
#define NAT_ETH_ZLEN   60  /* the shortest frame on the wire: shorter ones are padded */
#define ETHERTYPE_IP4  0x0800
#define ETHERTYPE_IP6  0x86dd

/*
 * Locking. libslirp keeps process-wide state besides each Slirp (the clock in
 * `curtime`, the host resolver's cached address), so every slirp_* call of
 * every instance runs under the one nat_lock, as QEMU runs them all under its
 * big lock. Frames libslirp emits (from slirp_input on a guest's sending
 * thread, or from the poll thread) are copied to the instance's queue under
 * the lock; only the poll thread hands them to net_port_deliver, and never
 * with the lock held. So an adapter whose receive sends a frame back
 * (net_port_send -> nat_send on the same thread) or whose sending thread
 * holds a lock its receive takes cannot deadlock against this switch.
 *
 * Back-pressure. When net_port_deliver says -EAGAIN the adapter has no
 * receive buffers: the poll thread stops delivering and stops reading the
 * host's sockets (libslirp's TCP then advertises a closing window and the
 * host's peers wait), keeping what libslirp emits meanwhile (timers,
 * replies to the guest's frames) in the queue, until nat_resume.
 */
static pthread_mutex_t nat_lock = PTHREAD_MUTEX_INITIALIZER;

struct nat_frame {
	struct nat_frame *next;
	size_t len;
	uint8_t data[];
};

/* A libslirp timer (timer_new_opaque): serviced by the poll thread. */
struct nat_timer {
	struct nat_timer *next;
	SlirpTimerId id;
	void *cb_opaque;
	int64_t expire_ms; /* on clock_ms(); -1: not armed */
};

struct nat {
	struct net_port *port;
	Slirp *slirp;
	int wakefd; /* eventfd: wakes the poll thread */
	pthread_t thread;
	bool thread_started;

	atomic_bool kicked;  /* a wake-up is pending on wakefd */
	atomic_bool stop;    /* close: the poll thread ends */
	atomic_uint resumes; /* nat_resume calls so far */
	atomic_bool failed;  /* the instance is dead: frames are dropped */

	/* Under nat_lock. */
	struct nat_frame *head, *tail;
	unsigned queued;
	struct nat_timer *timers;

	/* restrict=on: IPv4 frames to anything but the host, DNS and
	 * broadcasts are dropped. */
	bool restricted;
	uint32_t net, mask; /* the subnet, host order */

	/* The poll thread's own. */
	struct pollfd *pfd;
	unsigned npfd, pfd_cap;
	bool paused;	    /* deliver said -EAGAIN ... */
	unsigned paused_at; /* ... with `resumes` at this value */

	struct net_forward fwd[NET_FORWARDS_MAX];
	unsigned nfwd; /* forwards added to slirp */
	char name[NET_NAME_MAX];
};

static int64_t clock_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static void nat_kick(struct nat *n)
{
	if (atomic_exchange(&n->kicked, true))
		return;
	uint64_t one = 1;
	ssize_t r;
	do
		r = write(n->wakefd, &one, sizeof(one));
	while (r < 0 && errno == EINTR);
}

/* --- libslirp's callbacks: all called with nat_lock held --- */

static ssize_t cb_send_packet(const void *buf, size_t len, void *opaque)
{
	struct nat *n = opaque;
	struct nat_frame *f = NULL;
	if (n->queued >= NAT_QUEUE_MAX || len > NET_FRAME_MAX || !(f = malloc(sizeof(*f) + len))) {
		net_port_rx_dropped(n->port); /* the port's counter is atomic */
		return (ssize_t)len;
	}
	f->next = NULL;
	f->len = len;
	memcpy(f->data, buf, len);
	if (n->tail)
		n->tail->next = f;
	else
		n->head = f;
	n->tail = f;
	n->queued++;
	return (ssize_t)len;
}

static void cb_guest_error(const char *msg, void *opaque)
{
	struct nat *n = opaque;
	net_port_guest_error(n->port); /* an atomic count: no lock taken */
	if (tracing(TRACE_DEV))
		log_trace("%s: NAT: %s", net_port_id(n->port), msg);
}

static int64_t cb_clock_get_ns(void *opaque)
{
	(void)opaque;
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

static void *cb_timer_new_opaque(SlirpTimerId id, void *cb_opaque, void *opaque)
{
	struct nat *n = opaque;
	struct nat_timer *t = calloc(1, sizeof(*t));
	if (!t)
		return NULL;
	t->id = id;
	t->cb_opaque = cb_opaque;
	t->expire_ms = -1;
	t->next = n->timers;
	n->timers = t;
	return t;
}

static void cb_timer_free(void *timer, void *opaque)
{
	struct nat *n = opaque;
	for (struct nat_timer **pp = &n->timers; *pp; pp = &(*pp)->next) {
		if (*pp == timer) {
			*pp = ((struct nat_timer *)timer)->next;
			free(timer);
			return;
		}
	}
}

static void cb_timer_mod(void *timer, int64_t expire_time, void *opaque)
{
	struct nat *n = opaque;
	if (!timer)
		return;
	((struct nat_timer *)timer)->expire_ms = expire_time < 0 ? 0 : expire_time;
	/* The poll thread recomputes its timeout when it wakes (libslirp arms
	 * its one timer rarely: the IPv6 router advertisement). */
	nat_kick(n);
}

static void cb_register_poll_fd(int fd, void *opaque)
{
	(void)fd;
	(void)opaque;
}

static void cb_unregister_poll_fd(int fd, void *opaque)
{
	(void)fd;
	(void)opaque;
}

static void cb_notify(void *opaque)
{
	nat_kick(opaque);
}

static const SlirpCb nat_callbacks = {
    .send_packet = cb_send_packet,
    .guest_error = cb_guest_error,
    .clock_get_ns = cb_clock_get_ns,
    .timer_free = cb_timer_free,
    .timer_mod = cb_timer_mod,
    .register_poll_fd = cb_register_poll_fd,
    .unregister_poll_fd = cb_unregister_poll_fd,
    .notify = cb_notify,
    .timer_new_opaque = cb_timer_new_opaque,
};

/* --- the poll thread --- */

static int cb_add_poll(int fd, int events, void *opaque)
{
	struct nat *n = opaque;
	if (n->npfd == n->pfd_cap) {
		unsigned cap = n->pfd_cap * 2;
		struct pollfd *p = realloc(n->pfd, cap * sizeof(*p));
		if (!p)
			return -1; /* libslirp then just does not look at this socket */
		n->pfd = p;
		n->pfd_cap = cap;
	}
	short ev = 0;
	if (events & SLIRP_POLL_IN)
		ev |= POLLIN;
	if (events & SLIRP_POLL_OUT)
		ev |= POLLOUT;
	if (events & SLIRP_POLL_PRI)
		ev |= POLLPRI;
	n->pfd[n->npfd] = (struct pollfd){.fd = fd, .events = ev};
	return (int)n->npfd++;
}

static int cb_get_revents(int idx, void *opaque)
{
	struct nat *n = opaque;
	if (idx <= 0 || (unsigned)idx >= n->npfd)
		return 0;
	short rev = n->pfd[idx].revents;
	int r = 0;
	if (rev & POLLIN)
		r |= SLIRP_POLL_IN;
	if (rev & POLLOUT)
		r |= SLIRP_POLL_OUT;
	if (rev & POLLPRI)
		r |= SLIRP_POLL_PRI;
	if (rev & POLLERR)
		r |= SLIRP_POLL_ERR;
	if (rev & POLLHUP)
		r |= SLIRP_POLL_HUP;
	return r;
}

/* Whether the adapter still has no room: no nat_resume since the -EAGAIN. */
static bool nat_paused(struct nat *n)
{
	return n->paused && atomic_load(&n->resumes) == n->paused_at;
}

/* The earliest armed timer, as a poll timeout from now (in ms), at most max. */
static int timers_timeout(struct nat *n, int64_t now, uint32_t max)
{
	int64_t t = max;
	for (struct nat_timer *tm = n->timers; tm; tm = tm->next) {
		if (tm->expire_ms < 0)
			continue;
		int64_t d = tm->expire_ms - now;
		if (d < t)
			t = d < 0 ? 0 : d;
	}
	return t > INT32_MAX ? -1 : (int)t;
}

static void timers_run(struct nat *n)
{
	int64_t now = clock_ms();
	for (;;) {
		struct nat_timer *tm = n->timers;
		while (tm && (tm->expire_ms < 0 || tm->expire_ms > now))
			tm = tm->next;
		if (!tm)
			return;
		tm->expire_ms = -1;
		/* It may re-arm or free timers: search again afterwards. */
		slirp_handle_timer(n->slirp, tm->id, tm->cb_opaque);
	}
}

/* Hands the queued frames to the port, outside nat_lock. */
static void nat_deliver(struct nat *n)
{
	if (nat_paused(n))
		return;
	n->paused = false;
	pthread_mutex_lock(&nat_lock);
	struct nat_frame *f = n->head;
	n->head = n->tail = NULL;
	n->queued = 0;
	pthread_mutex_unlock(&nat_lock);

	while (f) {
		struct nat_frame *next = f->next;
		unsigned gen = atomic_load(&n->resumes);
		struct iovec iov = {.iov_base = f->data, .iov_len = f->len};
		int r = net_port_deliver(n->port, NULL, &iov, 1, f->len);
		free(f);
		f = next;
		if (r == -EAGAIN) {
			n->paused = true;
			n->paused_at = gen;
			break;
		}
	}
	if (!f)
		return;
	/* Paused: what is left goes back in front of what came meanwhile. */
	struct nat_frame *last = f;
	unsigned count = 1;
	while (last->next) {
		last = last->next;
		count++;
	}
	pthread_mutex_lock(&nat_lock);
	last->next = n->head;
	if (!n->head)
		n->tail = last;
	n->head = f;
	n->queued += count;
	pthread_mutex_unlock(&nat_lock);
}

static void *nat_thread(void *opaque)
{
	struct nat *n = opaque;
	while (!atomic_load(&n->stop)) {
		/* A kick from now on writes wakefd again, so none is lost. */
		atomic_store(&n->kicked, false);
		bool paused = nat_paused(n);

		pthread_mutex_lock(&nat_lock);
		uint32_t timeout = UINT32_MAX;
		n->pfd[0] = (struct pollfd){.fd = n->wakefd, .events = POLLIN};
		n->npfd = 1;
		slirp_pollfds_fill(n->slirp, &timeout, cb_add_poll, n);
		int wait = timers_timeout(n, clock_ms(), timeout);
		if (n->head && !paused)
			wait = 0; /* frames left from slirp_input on another thread */
		pthread_mutex_unlock(&nat_lock);

		/* Paused: only the wake-up and the timers, none of the host's
		 * sockets (whose data would be for the guest). */
		int ready = poll(n->pfd, paused ? 1 : n->npfd, wait);
		int err = ready < 0 ? errno : 0;
		if (ready < 0 && err != EINTR && err != EAGAIN) {
			char why[128];
			snprintf(why, sizeof(why), "NAT switch: poll failed: %s", strerror(err));
			atomic_store(&n->failed, true);
			net_port_switch_down(n->port, why);
			break;
		}
		if (ready < 0 || paused) {
			for (unsigned i = 0; i < n->npfd; i++)
				n->pfd[i].revents = ready < 0 || i > 0 ? 0 : n->pfd[i].revents;
		}
		if (n->pfd[0].revents & POLLIN) {
			uint64_t v;
			if (read(n->wakefd, &v, sizeof(v)) < 0 && errno != EAGAIN)
				log_trace("%s: NAT: wake-up read: %s", net_port_id(n->port),
					  strerror(errno));
		}

		pthread_mutex_lock(&nat_lock);
		slirp_pollfds_poll(n->slirp, 0, cb_get_revents, n);
		timers_run(n);
		pthread_mutex_unlock(&nat_lock);

		nat_deliver(n);
	}
	return NULL;
}

/* --- the guest's frames --- */

/* Whether an IPv4 or IPv6 frame's header is consistent with its length (a
 * guest's driver built it; libslirp drops bad ones silently, the port counts
 * them). Other protocols are libslirp's business. */
static bool frame_sane(const uint8_t *f, size_t len)
{
	unsigned type = (unsigned)f[12] << 8 | f[13];
	const uint8_t *ip = f + NET_ETH_HLEN;
	size_t avail = len - NET_ETH_HLEN;
	if (type == ETHERTYPE_IP4) {
		if (avail < 20 || ip[0] >> 4 != 4)
			return false;
		size_t hlen = (size_t)(ip[0] & 0xf) * 4;
		size_t total = (size_t)ip[2] << 8 | ip[3];
		return hlen >= 20 && hlen <= total && total <= avail;
	}
	if (type == ETHERTYPE_IP6) {
		if (avail < 40 || ip[0] >> 4 != 6)
			return false;
		size_t payload = (size_t)ip[4] << 8 | ip[5];
		return 40 + payload <= avail;
	}
	return true;
}

/* restrict=on lets the guest reach only the host: the host at .2 (the
 * host's loopback), the DNS forwarder at .3 and broadcasts (DHCP), nothing
 * routed beyond. libslirp's own restricted mode would also cut the
 * guest off from the host, so it is not used. */
static bool restricted_ok(const struct nat *n, const uint8_t *f)
{
	unsigned type = (unsigned)f[12] << 8 | f[13];
	if (type != ETHERTYPE_IP4)
		return type != ETHERTYPE_IP6; /* IPv6 is off when restricted anyway */
	const uint8_t *ip = f + NET_ETH_HLEN;
	uint32_t dst =
	    (uint32_t)ip[16] << 24 | (uint32_t)ip[17] << 16 | (uint32_t)ip[18] << 8 | ip[19];
	return dst == n->net + NAT_HOST || dst == n->net + NAT_DNS || dst == (n->net | ~n->mask) ||
	       dst == 0xffffffffu;
}

static int nat_send(void *state, const struct net_hdr *hdr, const struct iovec *iov,
		    unsigned iovcnt, size_t len)
{
	struct nat *n = state;
	uint8_t buf[NET_FRAME_MAX];
	(void)hdr; /* complete frames only: this switch takes no offloads */
	if (len < NET_ETH_MIN || len > NET_FRAME_MAX)
		return -EINVAL; /* the core lets none of these through */
	if (atomic_load(&n->failed))
		return -ENETDOWN;
	size_t off = 0;
	for (unsigned i = 0; i < iovcnt && off < len; i++) {
		size_t c = iov[i].iov_len < len - off ? iov[i].iov_len : len - off;
		memcpy(buf + off, iov[i].iov_base, c);
		off += c;
	}
	if (off < len)
		return -EINVAL; /* the core's iov is shorter than its len: not the guest's fault */
	if (!frame_sane(buf, len)) {
		net_port_guest_error(n->port);
		return 0;
	}
	if (n->restricted && !restricted_ok(n, buf))
		return 0;
	if (len < NAT_ETH_ZLEN) {
		memset(buf + len, 0, NAT_ETH_ZLEN - len);
		len = NAT_ETH_ZLEN;
	}
	pthread_mutex_lock(&nat_lock);
	slirp_input(n->slirp, buf, (int)len);
	pthread_mutex_unlock(&nat_lock);
	/* The poll thread delivers what slirp answered and polls any socket
	 * the frame opened. */
	nat_kick(n);
	return 0;
}

static void nat_resume(void *state)
{
	struct nat *n = state;
	atomic_fetch_add(&n->resumes, 1);
	nat_kick(n);
}

/* --- open and close --- */

static void nat_free(struct nat *n)
{
	if (n->thread_started) {
		atomic_store(&n->stop, true);
		atomic_store(&n->kicked, false);
		nat_kick(n);
		pthread_join(n->thread, NULL);
		n->thread_started = false;
	}
	pthread_mutex_lock(&nat_lock);
	if (n->slirp) {
		for (unsigned i = 0; i < n->nfwd; i++)
			slirp_remove_hostfwd(n->slirp, n->fwd[i].proto == IPPROTO_UDP,
					     n->fwd[i].host_addr, n->fwd[i].host_port);
		slirp_cleanup(n->slirp);
		n->slirp = NULL;
	}
	struct nat_frame *f = n->head;
	n->head = n->tail = NULL;
	pthread_mutex_unlock(&nat_lock);
	while (f) {
		struct nat_frame *next = f->next;
		free(f);
		f = next;
	}
	while (n->timers) {
		struct nat_timer *t = n->timers;
		n->timers = t->next;
		free(t);
	}
	if (n->wakefd >= 0)
		close(n->wakefd);
	free(n->pfd);
	free(n);
}

static void nat_close(void *state)
{
	if (state)
		nat_free(state);
}

static int mask_prefix(struct in_addr mask)
{
	uint32_t m = ntohl(mask.s_addr);
	int bits = __builtin_popcount(m);
	/* contiguous: the ones, then only zeroes */
	if (bits && m != ~((1u << (32 - bits)) - 1) && bits != 32)
		return -1;
	return bits;
}

static void ip_format(struct in_addr a, char buf[INET_ADDRSTRLEN])
{
	inet_ntop(AF_INET, &a, buf, INET_ADDRSTRLEN);
}

/* The guest network and the TFTP folder, checked; addresses filled in. */
static int nat_check_cfg(const char *id, const struct net_switch_cfg *cfg, SlirpConfig *sc)
{
	struct in_addr net = cfg->subnet, mask = cfg->netmask;
	char a[INET_ADDRSTRLEN], b[INET_ADDRSTRLEN];
	if (!net.s_addr && !mask.s_addr) {
		net.s_addr = htonl(0x0a000200); /* 10.0.2.0/24 */
		mask.s_addr = htonl(0xffffff00);
	}
	int prefix = mask_prefix(mask);
	if (prefix < 1 || prefix > 27) {
		ip_format(mask, a);
		log_error("%s: NAT switch %s: netmask %s is not a prefix of 1 to 27 bits "
			  "(DHCP needs room for .%d-.%d): use a subnet like 10.0.2.0/24",
			  id, cfg->name, a, NAT_DHCP_FIRST, NAT_DHCP_FIRST + NAT_DHCP_COUNT - 1);
		return -EINVAL;
	}
	if (net.s_addr & ~mask.s_addr) {
		struct in_addr fix = {.s_addr = net.s_addr & mask.s_addr};
		ip_format(net, a);
		ip_format(fix, b);
		log_error("%s: NAT switch %s: subnet %s/%d has host bits set: use %s/%d", id,
			  cfg->name, a, prefix, b, prefix);
		return -EINVAL;
	}
	uint32_t base = ntohl(net.s_addr);
	sc->vnetwork = net;
	sc->vnetmask = mask;
	sc->vhost.s_addr = htonl(base + NAT_HOST);
	sc->vnameserver.s_addr = htonl(base + NAT_DNS);
	sc->vdhcp_start.s_addr = htonl(base + NAT_DHCP_FIRST);

	if (cfg->tftp[0]) {
		struct stat st;
		int r = stat(cfg->tftp, &st) < 0 ? -errno : S_ISDIR(st.st_mode) ? 0 : -ENOTDIR;
		if (r < 0) {
			log_error("%s: NAT switch %s: TFTP folder %s: %s: give an existing folder "
				  "in tftp=",
				  id, cfg->name, cfg->tftp, strerror(-r));
			return r;
		}
	}
	return 0;
}

/* The forward as slirp wants it; the guest's address checked against the
 * subnet (0: the first DHCP address). */
static int nat_check_fwd(const char *id, const struct net_switch_cfg *cfg, const SlirpConfig *sc,
			 const struct net_forward *in, struct net_forward *out)
{
	char text[128];
	net_forward_format(in, text, sizeof(text));
	*out = *in;
	if (!out->guest_addr.s_addr)
		out->guest_addr = sc->vdhcp_start;
	uint32_t g = ntohl(out->guest_addr.s_addr), base = ntohl(sc->vnetwork.s_addr);
	uint32_t mask = ntohl(sc->vnetmask.s_addr);
	if (in->proto != IPPROTO_TCP && in->proto != IPPROTO_UDP) {
		log_error("%s: NAT switch %s: forward %s: protocol must be tcp or udp", id,
			  cfg->name, text);
		return -EINVAL;
	}
	if (!in->host_port || !in->guest_port) {
		log_error("%s: NAT switch %s: forward %s: ports must be 1-65535", id, cfg->name,
			  text);
		return -EINVAL;
	}
	if ((g & mask) != base || g == base || (g | mask) == 0xffffffffu || g == base + NAT_HOST ||
	    g == base + NAT_DNS) {
		char a[INET_ADDRSTRLEN], b[INET_ADDRSTRLEN];
		ip_format(sc->vnetwork, a);
		ip_format(sc->vdhcp_start, b);
		log_error("%s: NAT switch %s: forward %s: the guest's address must be a guest's in "
			  "%s/%d (DHCP gives %s)",
			  id, cfg->name, text, a, mask_prefix(sc->vnetmask), b);
		return -EINVAL;
	}
	return 0;
}

static int nat_add_forwards(struct nat *n, const struct net_switch_cfg *cfg, const SlirpConfig *sc)
{
	const char *id = net_port_id(n->port);
	for (unsigned i = 0; i < cfg->nfwd && i < NET_FORWARDS_MAX; i++) {
		struct net_forward f;
		int r = nat_check_fwd(id, cfg, sc, &cfg->fwd[i], &f);
		if (r < 0)
			return r;
		pthread_mutex_lock(&nat_lock);
		errno = 0;
		r = slirp_add_hostfwd(n->slirp, f.proto == IPPROTO_UDP, f.host_addr, f.host_port,
				      f.guest_addr, f.guest_port);
		int err = errno ? errno : EADDRINUSE;
		pthread_mutex_unlock(&nat_lock);
		if (r < 0) {
			char text[128], host[INET_ADDRSTRLEN];
			net_forward_format(&cfg->fwd[i], text, sizeof(text));
			ip_format(f.host_addr, host);
			const char *fix = err == EADDRINUSE	 ? "choose a free host port"
					  : err == EACCES	 ? "ports below 1024 need root: "
								   "choose a host port above 1023"
					  : err == EADDRNOTAVAIL ? "use 127.0.0.1 or an address "
								   "of this host"
								 : "check the forward";
			log_error(
			    "%s: NAT switch %s: forward %s: cannot listen on %s %s:%u: %s: %s", id,
			    cfg->name, text, f.proto == IPPROTO_UDP ? "udp" : "tcp", host,
			    f.host_port, strerror(err), fix);
			return -err;
		}
		n->fwd[n->nfwd++] = f;
	}
	return 0;
}

static int nat_open(struct net_port *p, const struct net_switch_cfg *cfg, void **state)
{
	const char *id = net_port_id(p);
	SlirpConfig sc = {.version = 4, .in_enabled = true};
	int r = nat_check_cfg(id, cfg, &sc);
	if (r < 0)
		return r;
	if (cfg->nfwd > NET_FORWARDS_MAX) {
		log_error("%s: NAT switch %s: %u forwards: at most %d", id, cfg->name, cfg->nfwd,
			  NET_FORWARDS_MAX);
		return -EINVAL;
	}

	struct nat *n = calloc(1, sizeof(*n));
	if (!n)
		return -ENOMEM;
	n->port = p;
	snprintf(n->name, sizeof(n->name), "%s", cfg->name);
	n->pfd_cap = 16;
	n->pfd = calloc(n->pfd_cap, sizeof(*n->pfd));
	n->wakefd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	if (!n->pfd || n->wakefd < 0) {
		r = n->pfd ? -errno : -ENOMEM;
		log_error("%s: NAT switch %s: %s", id, cfg->name, strerror(-r));
		goto fail;
	}

	n->restricted = cfg->restricted;
	n->net = ntohl(sc.vnetwork.s_addr);
	n->mask = ntohl(sc.vnetmask.s_addr);
	/* IPv6 as QEMU's user networking (fec0::/64, the host at ::2, DNS at
	 * ::3), except when restricted: IPv6 has no subnet to keep it in. */
	sc.in6_enabled = !cfg->restricted;
	inet_pton(AF_INET6, "fec0::", &sc.vprefix_addr6);
	sc.vprefix_len = 64;
	inet_pton(AF_INET6, "fec0::2", &sc.vhost6);
	inet_pton(AF_INET6, "fec0::3", &sc.vnameserver6);
	/* DHCP's siaddr names the TFTP server (the host, .2), which is what PXE
	 * ROMs use; tftp_server_name (option 66) is left out: libslirp 4.7
	 * never frees its copy. */
	if (cfg->tftp[0])
		sc.tftp_path = cfg->tftp;
	if (cfg->bootfile[0])
		sc.bootfile = cfg->bootfile;

	pthread_mutex_lock(&nat_lock);
	n->slirp = slirp_new(&sc, &nat_callbacks, n);
	pthread_mutex_unlock(&nat_lock);
	if (!n->slirp) {
		log_error("%s: NAT switch %s: libslirp could not start (see the message above)", id,
			  cfg->name);
		r = -ENOMEM;
		goto fail;
	}
	r = nat_add_forwards(n, cfg, &sc);
	if (r < 0)
		goto fail;

	r = -pthread_create(&n->thread, NULL, nat_thread, n);
	if (r < 0) {
		log_error("%s: NAT switch %s: cannot start its thread: %s", id, cfg->name,
			  strerror(-r));
		goto fail;
	}
	n->thread_started = true;
	pthread_setname_np(n->thread, "osio-nat");
	*state = n;
	return 0;
fail:
	nat_free(n);
	return r;
}

const struct net_switch_ops net_switch_nat = {
    .kind = NET_SWITCH_NAT,
    .offloads = false,
    .open = nat_open,
    .send = nat_send,
    .resume = nat_resume,
    .close = nat_close,
};
