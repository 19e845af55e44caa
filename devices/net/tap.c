/* The internal and external switches: a TAP device per port (with the
 * virtio-net header, so offload work passes to the host kernel as it is) on
 * a Linux bridge, which for an external switch also holds a host NIC. */
#include "devices/net/bridge.h"
#include "devices/net/net_switch.h"
#include "devices/net/offload.h"

#include "hypervisor/evloop.h"
#include "hypervisor/log.h"

#include <errno.h>
#include <fcntl.h>
#include <linux/if_tun.h>
#include <net/if.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/uio.h>
#include <unistd.h>

#define TAP_HDR_LEN 12		/* struct virtio_net_hdr_v1: the legacy header and num_buffers */
#define TAP_IOV	    64		/* iovec entries on the stack; more go through the heap */
#define TAP_BUDGET  256		/* frames per wake-up of the loop */
#define TAP_RX_MAX  NET_GSO_MAX /* what a read may return; longer than a frame is dropped */

struct tap {
	struct net_port *port;
	struct evloop *loop;
	int fd;
	char ifname[IFNAMSIZ];
	bool registered, paused, closed;
	atomic_bool down;
	atomic_uint refs; /* the port, and a resume posted to the loop */
	atomic_bool resume_pending;
	uint8_t *rxbuf; /* TAP_HDR_LEN + TAP_RX_MAX */
};

static void tap_unref(struct tap *t)
{
	if (atomic_fetch_sub(&t->refs, 1) != 1)
		return;
	free(t->rxbuf);
	free(t);
}

/* The device is gone (deleted from outside): the adapter's link goes down,
 * once. */
static void tap_gone(struct tap *t, int err)
{
	if (atomic_exchange(&t->down, true))
		return;
	char why[128];
	snprintf(why, sizeof(why), "its TAP device %s was removed: %s", t->ifname, strerror(err));
	net_port_switch_down(t->port, why);
}

static bool tap_gone_errno(int err)
{
	return err == EBADFD || err == EIO || err == ENODEV || err == ENXIO;
}

/* ---- from the guest ---- */

static int tap_send(void *state, const struct net_hdr *hdr, const struct iovec *iov,
		    unsigned iovcnt, size_t len)
{
	struct tap *t = state;
	uint8_t vh[TAP_HDR_LEN] = {0};
	struct iovec stack[TAP_IOV], *v = stack;
	(void)len;
	if (atomic_load_explicit(&t->down, memory_order_relaxed))
		return -ENETDOWN;
	if (hdr) {
		/* Host byte order: the device's is the host's (no TUNSETVNETBE). */
		struct {
			uint8_t flags, gso_type;
			uint16_t hdr_len, gso_size, csum_start, csum_offset;
		} h = {hdr->flags & NET_HDR_F_NEEDS_CSUM,
		       hdr->gso_type,
		       hdr->hdr_len,
		       hdr->gso_size,
		       hdr->csum_start,
		       hdr->csum_offset};
		memcpy(vh, &h, 10);
	}
	if (iovcnt >= TAP_IOV) {
		if (iovcnt >= IOV_MAX)
			return -EMSGSIZE;
		v = malloc((iovcnt + 1) * sizeof(*v));
		if (!v)
			return -ENOMEM;
	}
	v[0] = (struct iovec){.iov_base = vh, .iov_len = sizeof(vh)};
	memcpy(v + 1, iov, iovcnt * sizeof(*iov));
	ssize_t n;
	do
		n = writev(t->fd, v, (int)iovcnt + 1);
	while (n < 0 && errno == EINTR);
	int r = n < 0 ? -errno : 0;
	if (v != stack)
		free(v);
	if (r < 0 && tap_gone_errno(-r))
		tap_gone(t, -r);
	return r == -EAGAIN ? -ENOBUFS : r;
}

/* ---- toward the guest (the machine's loop) ---- */

/* One frame as read: its header turned into a net_hdr. -EAGAIN when the
 * adapter is full (the port queued the frame). */
static int tap_deliver(struct tap *t, size_t n)
{
	uint8_t *frame = t->rxbuf + TAP_HDR_LEN;
	size_t len = n - TAP_HDR_LEN;
	struct {
		uint8_t flags, gso_type;
		uint16_t hdr_len, gso_size, csum_start, csum_offset;
	} vh;
	memcpy(&vh, t->rxbuf, 10);
	/* Guest offloads are off (TUNSETOFFLOAD 0): the kernel segments and
	 * checksums before it hands us a frame, so GSO is not expected. */
	if ((vh.gso_type & ~NET_HDR_GSO_ECN) != NET_HDR_GSO_NONE || len > NET_FRAME_MAX ||
	    len < NET_ETH_MIN)
		return 0;
	struct net_hdr h = {0};
	if (vh.flags & NET_HDR_F_NEEDS_CSUM) {
		struct net_hdr partial = {.flags = NET_HDR_F_NEEDS_CSUM,
					  .csum_start = vh.csum_start,
					  .csum_offset = vh.csum_offset};
		if (net_csum_finish(frame, len, &partial) < 0)
			return 0;
		h.flags = NET_HDR_F_DATA_VALID;
	} else if (vh.flags & NET_HDR_F_DATA_VALID) {
		h.flags = NET_HDR_F_DATA_VALID;
	}
	struct iovec iov = {.iov_base = frame, .iov_len = len};
	return net_port_deliver(t->port, h.flags ? &h : NULL, &iov, 1, len);
}

static void tap_stop(struct tap *t)
{
	if (t->registered)
		evloop_del_fd(t->loop, t->fd);
	t->registered = false;
}

static void tap_readable(void *opaque, uint32_t events)
{
	struct tap *t = opaque;
	if (t->paused) {
		/* Frames arriving wake us once each; an error means the
		 * device went. */
		if (events & (EPOLLERR | EPOLLHUP)) {
			tap_stop(t);
			tap_gone(t, EBADFD);
		}
		return;
	}
	for (unsigned budget = TAP_BUDGET; budget; budget--) {
		ssize_t n = read(t->fd, t->rxbuf, TAP_HDR_LEN + TAP_RX_MAX);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			if (errno == EAGAIN)
				return;
			int err = errno;
			tap_stop(t);
			tap_gone(t, err);
			return;
		}
		if (n < TAP_HDR_LEN)
			continue;
		if (tap_deliver(t, (size_t)n) == -EAGAIN) {
			/* Edge-triggered while paused: the device's removal
			 * wakes us with EPOLLIN only, and that still shows. */
			t->paused = true;
			evloop_mod_fd(t->loop, t->fd, EPOLLIN | EPOLLET);
			return;
		}
	}
}

static void tap_do_resume(void *opaque)
{
	struct tap *t = opaque;
	atomic_store(&t->resume_pending, false);
	if (!t->closed && t->paused && t->registered) {
		t->paused = false;
		evloop_mod_fd(t->loop, t->fd, EPOLLIN);
	}
	tap_unref(t);
}

static void tap_resume(void *state)
{
	struct tap *t = state;
	if (atomic_exchange(&t->resume_pending, true))
		return;
	atomic_fetch_add(&t->refs, 1);
	if (evloop_call(t->loop, tap_do_resume, t) < 0) {
		atomic_store(&t->resume_pending, false);
		tap_unref(t);
	}
}

/* ---- open and close ---- */

static const char *kind_name(const struct net_switch_cfg *cfg)
{
	return cfg->kind == NET_SWITCH_EXTERNAL ? "external" : "internal";
}

/* The TAP device: osio-N, the first free N. */
static int tap_create(struct tap *t, const char *id, const struct net_switch_cfg *cfg)
{
	t->fd = open("/dev/net/tun", O_RDWR | O_NONBLOCK | O_CLOEXEC);
	if (t->fd < 0) {
		int r = -errno;
		if (r == -ENOENT || r == -ENODEV || r == -ENXIO)
			log_error("%s: the %s switch '%s' needs /dev/net/tun, which this host does "
				  "not have: load the tun module (sudo modprobe tun)",
				  id, kind_name(cfg), cfg->name);
		else
			log_error("%s: the %s switch '%s': /dev/net/tun: %s", id, kind_name(cfg),
				  cfg->name, strerror(-r));
		return r;
	}
	struct ifreq ifr = {0};
	snprintf(ifr.ifr_name, sizeof(ifr.ifr_name), "osio-%%d");
	ifr.ifr_flags = IFF_TAP | IFF_NO_PI | IFF_VNET_HDR;
	if (ioctl(t->fd, TUNSETIFF, &ifr) < 0) {
		int r = -errno;
		if (r == -EPERM || r == -EACCES)
			log_error(
			    "%s: the %s switch '%s' needs CAP_NET_ADMIN to create its TAP "
			    "device: run osio as root, or give it the capability: sudo setcap "
			    "cap_net_admin+ep $(which osio)",
			    id, kind_name(cfg), cfg->name);
		else
			log_error("%s: the %s switch '%s': cannot create a TAP device: %s", id,
				  kind_name(cfg), cfg->name, strerror(-r));
		return r;
	}
	memcpy(t->ifname, ifr.ifr_name, IFNAMSIZ);
	t->ifname[IFNAMSIZ - 1] = 0;
	int hdrsz = TAP_HDR_LEN;
	if (ioctl(t->fd, TUNSETVNETHDRSZ, &hdrsz) < 0 || ioctl(t->fd, TUNSETOFFLOAD, 0ul) < 0) {
		int r = -errno;
		log_error("%s: the %s switch '%s': %s: cannot set the virtio-net header: %s", id,
			  kind_name(cfg), cfg->name, t->ifname, strerror(-r));
		return r;
	}
	return 0;
}

/* The bridge (made if needed), the host NIC on it for an external switch,
 * and our TAP device on it, up. */
static int tap_attach(struct tap *t, const char *id, const struct net_switch_cfg *cfg)
{
	const char *sw = cfg->name, *kind = kind_name(cfg), *step = cfg->bridge;
	struct bridge_link tl, ul;
	int br, r = bridge_ensure(cfg->bridge, &br);
	if (r == -ENOTTY) {
		log_error("%s: the %s switch '%s': the host link %s is not a bridge: name another "
			  "bridge in the switch's definition or remove that link",
			  id, kind, sw, cfg->bridge);
		return r;
	}
	if (r < 0)
		goto fail;
	if (cfg->kind == NET_SWITCH_EXTERNAL) {
		step = cfg->uplink;
		r = bridge_link_get(cfg->uplink, &ul);
		if (r == -ENODEV) {
			log_error("%s: the external switch '%s': the host has no network adapter "
				  "called %s: name one that `ip link` lists",
				  id, sw, cfg->uplink);
			return r;
		}
		if (r < 0)
			goto fail;
		if (ul.master && ul.master != br) {
			log_error("%s: the external switch '%s': %s is on another bridge already: "
				  "use that bridge, or take %s off it",
				  id, sw, cfg->uplink, cfg->uplink);
			return -EBUSY;
		}
		if (!ul.master && (r = bridge_set_master(ul.ifindex, br)) < 0)
			goto fail;
		if (!ul.up && (r = bridge_link_up(ul.ifindex)) < 0)
			goto fail;
	}
	step = t->ifname;
	if ((r = bridge_link_get(t->ifname, &tl)) < 0 ||
	    (r = bridge_set_master(tl.ifindex, br)) < 0 || (r = bridge_link_up(tl.ifindex)) < 0)
		goto fail;
	return 0;
fail:
	if (r == -EPERM)
		log_error(
		    "%s: the %s switch '%s' needs CAP_NET_ADMIN to set up %s: run osio as "
		    "root, or give it the capability: sudo setcap cap_net_admin+ep $(which osio)",
		    id, kind, sw, step);
	else
		log_error("%s: the %s switch '%s': cannot set up %s on bridge %s: %s", id, kind, sw,
			  step, cfg->bridge, strerror(-r));
	return r;
}

static int tap_open(struct net_port *p, const struct net_switch_cfg *cfg, void **state)
{
	const char *id = net_port_id(p);
	if (!cfg->bridge[0] || strlen(cfg->bridge) >= IFNAMSIZ ||
	    (cfg->kind == NET_SWITCH_EXTERNAL && !cfg->uplink[0])) {
		log_error("%s: the %s switch '%s' needs a bridge%s (at most %d characters each)",
			  id, kind_name(cfg), cfg->name,
			  cfg->kind == NET_SWITCH_EXTERNAL ? " and a host network adapter" : "",
			  IFNAMSIZ - 1);
		return -EINVAL;
	}
	struct tap *t = calloc(1, sizeof(*t));
	if (!t)
		return -ENOMEM;
	t->rxbuf = malloc(TAP_HDR_LEN + TAP_RX_MAX);
	if (!t->rxbuf) {
		free(t);
		return -ENOMEM;
	}
	t->port = p;
	t->loop = net_port_machine(p)->loop;
	t->fd = -1;
	atomic_init(&t->refs, 1);
	int r = tap_create(t, id, cfg);
	if (r < 0)
		goto fail;
	r = tap_attach(t, id, cfg);
	if (r < 0)
		goto fail;
	r = evloop_add_fd(t->loop, t->fd, EPOLLIN, tap_readable, t);
	if (r < 0) {
		log_error("%s: the %s switch '%s': %s", id, kind_name(cfg), cfg->name,
			  strerror(-r));
		goto fail;
	}
	t->registered = true;
	if (tracing(TRACE_DEV))
		log_trace("%s: TAP device %s on bridge %s", id, t->ifname, cfg->bridge);
	*state = t;
	return 0;
fail:
	if (t->fd >= 0)
		close(t->fd); /* not persistent: closing removes the device */
	tap_unref(t);
	return r;
}

static void tap_close(void *state)
{
	struct tap *t = state;
	if (!t)
		return;
	tap_stop(t);
	close(t->fd); /* the last reference to a non-persistent TAP deletes it */
	t->closed = true;
	tap_unref(t);
}

const struct net_switch_ops net_switch_tap = {
    .kind = NET_SWITCH_INTERNAL,
    .offloads = true,
    .open = tap_open,
    .send = tap_send,
    .resume = tap_resume,
    .close = tap_close,
};
