/* The port core: an adapter's connection to a virtual switch. It picks the
 * switch backend, keeps the frames an adapter has no room for, does the
 * checksum and segmentation work a backend cannot take, counts everything,
 * and tells the adapter when its link goes up or down. */
#include "devices/net/net.h"

#include "devices/net/net_switch.h"
#include "devices/net/offload.h"
#include "hypervisor/log.h"

#include <errno.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Frames kept for an adapter that has no receive buffers, at most. */
#define RXQ_FRAMES 256
#define RXQ_BYTES  (4u << 20)

extern const struct net_switch_ops net_switch_fd; /* net_fd.c */

struct rx_frame {
	struct rx_frame *next;
	struct net_hdr hdr;
	size_t len;
	uint8_t data[];
};

struct net_port {
	char id[32];
	struct machine *m;
	uint8_t mac[NET_MAC_LEN];
	const struct net_adapter_ops *ops;
	void *opaque;

	/* The backend: taken for reading by send and resume, for writing by
	 * connect and destroy. */
	pthread_rwlock_t be_lock;
	const struct net_switch_ops *be;
	void *be_state;
	struct net_switch_cfg cfg;
	atomic_bool link;
	atomic_bool down_logged;

	/* Serializes calls into the adapter's receive and guards the queue. */
	pthread_mutex_t rx_lock;
	struct rx_frame *q_head, **q_tail;
	unsigned q_frames;
	size_t q_bytes;
	atomic_bool blocked; /* the adapter refused a frame: wake must flush */
	bool paused;	     /* net_port_pause: frames queue, receive is not called */

	_Atomic uint64_t rx_frames, rx_bytes, rx_dropped;
	_Atomic uint64_t tx_frames, tx_bytes, tx_dropped, guest_errors;

	struct net_port *next; /* all ports, for net_port_find */
};

static pthread_mutex_t ports_lock = PTHREAD_MUTEX_INITIALIZER;
static struct net_port *ports;

static const struct net_switch_ops *backend_for(enum net_switch_kind kind)
{
	switch (kind) {
	case NET_SWITCH_NAT:
		return &net_switch_nat;
	case NET_SWITCH_PRIVATE:
		return &net_switch_private;
	case NET_SWITCH_INTERNAL:
	case NET_SWITCH_EXTERNAL:
		return &net_switch_tap;
	case NET_SWITCH_FD:
		return &net_switch_fd;
	case NET_SWITCH_NONE:
		break;
	}
	return NULL;
}

static void set_link(struct net_port *p, bool up)
{
	if (atomic_exchange(&p->link, up) != up && p->ops->link_changed)
		p->ops->link_changed(p->opaque, up);
}

/* Joins cfg's switch; the caller holds be_lock for writing with no backend set. */
static int open_backend(struct net_port *p, const struct net_switch_cfg *cfg)
{
	if (cfg->kind == NET_SWITCH_NONE) {
		p->cfg = *cfg;
		return 0;
	}
	const struct net_switch_ops *be = backend_for(cfg->kind);
	if (!be) {
		log_error("%s: this osio was built without the %s switch", p->id,
			  net_switch_kind_name(cfg->kind));
		return -ENOTSUP;
	}
	void *st = NULL;
	int r = be->open(p, cfg, &st);
	if (r < 0)
		return r;
	p->be = be;
	p->be_state = st;
	p->cfg = *cfg;
	atomic_store(&p->down_logged, false);
	return 0;
}

/* Takes the backend out under the write lock (sends in flight finish first,
 * later ones see none) and closes it after unlocking: a backend's close may
 * wait for its thread, which may be in an adapter's receive calling
 * net_port_send. */
static void close_backend(struct net_port *p)
{
	pthread_rwlock_wrlock(&p->be_lock);
	const struct net_switch_ops *be = p->be;
	void *st = p->be_state;
	p->be = NULL;
	p->be_state = NULL;
	p->cfg.kind = NET_SWITCH_NONE;
	pthread_rwlock_unlock(&p->be_lock);
	if (be)
		be->close(st);
}

static void drop_queue(struct net_port *p)
{
	pthread_mutex_lock(&p->rx_lock);
	while (p->q_head) {
		struct rx_frame *f = p->q_head;
		p->q_head = f->next;
		free(f);
	}
	p->q_tail = &p->q_head;
	p->q_frames = 0;
	p->q_bytes = 0;
	atomic_store(&p->blocked, false);
	pthread_mutex_unlock(&p->rx_lock);
}

int net_port_create(struct machine *m, const char *id, const struct devargs *args,
		    const struct net_adapter_ops *ops, void *opaque, struct net_port **out)
{
	struct net_switch_cfg cfg;
	char err[512];
	const char *mac = devargs_get(args, "mac");
	int r;

	struct net_port *p = calloc(1, sizeof(*p));
	if (!p)
		return -ENOMEM;
	snprintf(p->id, sizeof(p->id), "%s", id);
	p->m = m;
	p->ops = ops;
	p->opaque = opaque;
	p->q_tail = &p->q_head;
	pthread_rwlock_init(&p->be_lock, NULL);
	pthread_mutex_init(&p->rx_lock, NULL);

	if (!mac) {
		log_error("%s: no mac= given (the adapter's MAC address)", id);
		r = -EINVAL;
		goto fail;
	}
	if (net_mac_parse(mac, p->mac) < 0) {
		log_error("%s: mac=%s: write six hex pairs of a unicast address, e.g. "
			  "52:4f:53:12:34:56",
			  id, mac);
		r = -EINVAL;
		goto fail;
	}
	if ((r = net_switch_cfg_from_args(args, &cfg, err, sizeof(err))) < 0) {
		log_error("%s: %s", id, err);
		goto fail;
	}
	if ((r = open_backend(p, &cfg)) < 0)
		goto fail;
	atomic_store(&p->link, cfg.kind != NET_SWITCH_NONE);

	pthread_mutex_lock(&ports_lock);
	p->next = ports;
	ports = p;
	pthread_mutex_unlock(&ports_lock);
	*out = p;
	return 0;
fail:
	pthread_rwlock_destroy(&p->be_lock);
	pthread_mutex_destroy(&p->rx_lock);
	free(p);
	return r;
}

void net_port_destroy(struct net_port *p)
{
	if (!p)
		return;
	pthread_mutex_lock(&ports_lock);
	for (struct net_port **pp = &ports; *pp; pp = &(*pp)->next) {
		if (*pp == p) {
			*pp = p->next;
			break;
		}
	}
	pthread_mutex_unlock(&ports_lock);
	close_backend(p);
	drop_queue(p);
	pthread_rwlock_destroy(&p->be_lock);
	pthread_mutex_destroy(&p->rx_lock);
	free(p);
}

struct net_port *net_port_find(struct machine *m, const char *id)
{
	struct net_port *found = NULL;
	pthread_mutex_lock(&ports_lock);
	for (struct net_port *p = ports; p; p = p->next) {
		if (p->m == m && strcmp(p->id, id) == 0) {
			found = p;
			break;
		}
	}
	pthread_mutex_unlock(&ports_lock);
	return found;
}

void net_port_mac(const struct net_port *p, uint8_t mac[NET_MAC_LEN])
{
	memcpy(mac, p->mac, NET_MAC_LEN);
}

void net_port_switch(const struct net_port *p, struct net_switch_cfg *out)
{
	struct net_port *w = (struct net_port *)p;
	pthread_rwlock_rdlock(&w->be_lock);
	*out = p->cfg;
	pthread_rwlock_unlock(&w->be_lock);
}

bool net_port_link_up(const struct net_port *p)
{
	return atomic_load(&((struct net_port *)p)->link);
}

bool net_port_offloads(const struct net_port *p)
{
	struct net_port *w = (struct net_port *)p;
	pthread_rwlock_rdlock(&w->be_lock);
	bool r = p->be && p->be->offloads;
	pthread_rwlock_unlock(&w->be_lock);
	return r;
}

struct machine *net_port_machine(const struct net_port *p)
{
	return p->m;
}

const char *net_port_id(const struct net_port *p)
{
	return p->id;
}

void net_port_rx_dropped(struct net_port *p)
{
	atomic_fetch_add_explicit(&p->rx_dropped, 1, memory_order_relaxed);
}

void net_port_guest_error(struct net_port *p)
{
	atomic_fetch_add_explicit(&p->guest_errors, 1, memory_order_relaxed);
}

void net_port_stats(const struct net_port *p, struct net_port_stats *out)
{
	struct net_port *w = (struct net_port *)p;
	out->rx_frames = atomic_load(&w->rx_frames);
	out->rx_bytes = atomic_load(&w->rx_bytes);
	out->rx_dropped = atomic_load(&w->rx_dropped);
	out->tx_frames = atomic_load(&w->tx_frames);
	out->tx_bytes = atomic_load(&w->tx_bytes);
	out->tx_dropped = atomic_load(&w->tx_dropped);
	out->guest_errors = atomic_load(&w->guest_errors);
}

int net_port_connect(struct net_port *p, const struct net_switch_cfg *cfg)
{
	close_backend(p);
	set_link(p, false);
	drop_queue(p);

	pthread_rwlock_wrlock(&p->be_lock);
	int r = open_backend(p, cfg);
	pthread_rwlock_unlock(&p->be_lock);
	if (r < 0)
		return r;
	if (cfg->kind != NET_SWITCH_NONE)
		log_info("%s: connected to the %s switch '%s'", p->id,
			 net_switch_kind_name(cfg->kind), cfg->name);
	set_link(p, cfg->kind != NET_SWITCH_NONE);
	return 0;
}

void net_port_switch_down(struct net_port *p, const char *why)
{
	if (!atomic_exchange(&p->down_logged, true))
		log_warn("%s: the switch '%s' went away (%s); the adapter's link is down until it "
			 "is connected again",
			 p->id, p->cfg.name, why);
	set_link(p, false);
}

/* ---- toward the guest ---- */

static int queue_frame(struct net_port *p, const struct net_hdr *hdr, const struct iovec *iov,
		       unsigned iovcnt, size_t len)
{
	if (p->q_frames >= RXQ_FRAMES || p->q_bytes + len > RXQ_BYTES) {
		atomic_fetch_add_explicit(&p->rx_dropped, 1, memory_order_relaxed);
		return -ENOBUFS;
	}
	struct rx_frame *f = malloc(sizeof(*f) + len);
	if (!f) {
		atomic_fetch_add_explicit(&p->rx_dropped, 1, memory_order_relaxed);
		return -ENOMEM;
	}
	f->next = NULL;
	f->len = len;
	if (hdr)
		f->hdr = *hdr;
	else
		memset(&f->hdr, 0, sizeof(f->hdr));
	size_t off = 0;
	for (unsigned i = 0; i < iovcnt && off < len; i++) {
		size_t n = iov[i].iov_len < len - off ? iov[i].iov_len : len - off;
		memcpy(f->data + off, iov[i].iov_base, n);
		off += n;
	}
	*p->q_tail = f;
	p->q_tail = &f->next;
	p->q_frames++;
	p->q_bytes += len;
	return 0;
}

static void count_rx(struct net_port *p, size_t len, int r)
{
	if (r == NET_RX_DROPPED) {
		atomic_fetch_add_explicit(&p->rx_dropped, 1, memory_order_relaxed);
		return;
	}
	atomic_fetch_add_explicit(&p->rx_frames, 1, memory_order_relaxed);
	atomic_fetch_add_explicit(&p->rx_bytes, len, memory_order_relaxed);
}

int net_port_deliver(struct net_port *p, const struct net_hdr *hdr, const struct iovec *iov,
		     unsigned iovcnt, size_t len)
{
	if (len < NET_ETH_MIN || len > NET_FRAME_MAX) {
		atomic_fetch_add_explicit(&p->rx_dropped, 1, memory_order_relaxed);
		return 0;
	}
	pthread_mutex_lock(&p->rx_lock);
	if (p->paused) {
		/* Kept for the resume (or dropped and counted when the queue is
		 * full); the switch goes on delivering. */
		queue_frame(p, hdr, iov, iovcnt, len);
		pthread_mutex_unlock(&p->rx_lock);
		return 0;
	}
	if (p->q_head) {
		/* Older frames wait: keep the order. */
		queue_frame(p, hdr, iov, iovcnt, len);
		pthread_mutex_unlock(&p->rx_lock);
		return -EAGAIN;
	}
	/* Blocked while the adapter decides: a wake racing with a refusal
	 * (the driver adds buffers just after the adapter found none) then
	 * waits for the lock and finds the frame queued. */
	atomic_store(&p->blocked, true);
	int r = p->ops->receive(p->opaque, hdr, iov, iovcnt, len);
	if (r == -EAGAIN) {
		queue_frame(p, hdr, iov, iovcnt, len);
		pthread_mutex_unlock(&p->rx_lock);
		return -EAGAIN;
	}
	atomic_store(&p->blocked, false);
	pthread_mutex_unlock(&p->rx_lock);
	count_rx(p, len, r);
	return 0;
}

/* Offers the queued frames to the adapter; false when it is full again
 * (blocked: it wakes us) or the port is paused. rx_lock held. */
static bool flush_queue(struct net_port *p)
{
	if (p->paused)
		return false;
	while (p->q_head) {
		struct rx_frame *f = p->q_head;
		struct iovec v = {f->data, f->len};
		int r = p->ops->receive(p->opaque, &f->hdr, &v, 1, f->len);
		if (r == -EAGAIN) {
			atomic_store(&p->blocked, true);
			return false; /* still full: the adapter wakes us again */
		}
		count_rx(p, f->len, r);
		p->q_head = f->next;
		if (!p->q_head)
			p->q_tail = &p->q_head;
		p->q_frames--;
		p->q_bytes -= f->len;
		free(f);
	}
	atomic_store(&p->blocked, false);
	return true;
}

/* The backend delivers again (it stopped at an -EAGAIN). */
static void resume_backend(struct net_port *p)
{
	pthread_rwlock_rdlock(&p->be_lock);
	if (p->be && p->be->resume)
		p->be->resume(p->be_state);
	pthread_rwlock_unlock(&p->be_lock);
}

void net_port_wake(struct net_port *p)
{
	if (!atomic_load_explicit(&p->blocked, memory_order_acquire))
		return;
	pthread_mutex_lock(&p->rx_lock);
	bool empty = flush_queue(p);
	pthread_mutex_unlock(&p->rx_lock);
	if (empty)
		resume_backend(p);
}

void net_port_pause(struct net_port *p, bool paused)
{
	pthread_mutex_lock(&p->rx_lock);
	bool was = p->paused;
	p->paused = paused;
	bool empty = !paused && was && flush_queue(p);
	pthread_mutex_unlock(&p->rx_lock);
	if (empty)
		resume_backend(p);
}

/* ---- from the guest ---- */

static pthread_key_t tx_buf_key;
static pthread_once_t tx_buf_once = PTHREAD_ONCE_INIT;

static void tx_buf_init(void)
{
	pthread_key_create(&tx_buf_key, free);
}

/* A per-thread buffer for frames that need software offloads. */
static uint8_t *tx_buf(void)
{
	pthread_once(&tx_buf_once, tx_buf_init);
	uint8_t *b = pthread_getspecific(tx_buf_key);
	if (!b) {
		b = malloc(NET_GSO_MAX);
		if (b && pthread_setspecific(tx_buf_key, b) != 0) {
			free(b);
			b = NULL;
		}
	}
	return b;
}

struct emit_ctx {
	struct net_port *p;
	unsigned sent, failed;
};

static int emit_segment(void *opaque, const uint8_t *seg, size_t len)
{
	struct emit_ctx *c = opaque;
	struct iovec v = {(void *)seg, len};
	if (c->p->be->send(c->p->be_state, NULL, &v, 1, len) < 0)
		c->failed++;
	else
		c->sent++;
	return 0;
}

int net_port_send(struct net_port *p, const struct net_hdr *hdr, const struct iovec *iov,
		  unsigned iovcnt)
{
	size_t len = 0;
	for (unsigned i = 0; i < iovcnt; i++)
		len += iov[i].iov_len;

	bool gso = hdr && (hdr->gso_type & ~NET_HDR_GSO_ECN) != NET_HDR_GSO_NONE;
	bool csum = hdr && (hdr->flags & NET_HDR_F_NEEDS_CSUM);
	if (len < NET_ETH_MIN || len > (gso ? NET_GSO_MAX : NET_FRAME_MAX) ||
	    (csum && (size_t)hdr->csum_start + hdr->csum_offset + 2 > len) ||
	    (gso && (hdr->gso_size == 0 || hdr->hdr_len > len))) {
		net_port_guest_error(p);
		return -EINVAL;
	}

	int r = 0;
	pthread_rwlock_rdlock(&p->be_lock);
	if (!p->be || !atomic_load_explicit(&p->link, memory_order_relaxed)) {
		atomic_fetch_add_explicit(&p->tx_dropped, 1, memory_order_relaxed);
		goto out;
	}
	if ((!gso && !csum) || p->be->offloads) {
		if (p->be->send(p->be_state, (gso || csum) ? hdr : NULL, iov, iovcnt, len) < 0) {
			atomic_fetch_add_explicit(&p->tx_dropped, 1, memory_order_relaxed);
			goto out;
		}
		atomic_fetch_add_explicit(&p->tx_frames, 1, memory_order_relaxed);
		atomic_fetch_add_explicit(&p->tx_bytes, len, memory_order_relaxed);
		goto out;
	}

	uint8_t *buf = tx_buf();
	if (!buf) {
		atomic_fetch_add_explicit(&p->tx_dropped, 1, memory_order_relaxed);
		goto out;
	}
	size_t off = 0;
	for (unsigned i = 0; i < iovcnt; i++) {
		memcpy(buf + off, iov[i].iov_base, iov[i].iov_len);
		off += iov[i].iov_len;
	}
	struct emit_ctx c = {.p = p};
	r = net_offload_frame(buf, len, hdr, emit_segment, &c);
	if (r == -EINVAL) {
		net_port_guest_error(p);
		goto out;
	}
	r = 0;
	atomic_fetch_add_explicit(&p->tx_frames, c.sent, memory_order_relaxed);
	atomic_fetch_add_explicit(&p->tx_bytes, len, memory_order_relaxed);
	atomic_fetch_add_explicit(&p->tx_dropped, c.failed, memory_order_relaxed);
out:
	pthread_rwlock_unlock(&p->be_lock);
	return r;
}
