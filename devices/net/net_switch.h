/* The interface between the port core (devices/net/net.c) and the switch
 * backends that implement it: nat.c (libslirp), private.c, tap.c, and the
 * socket backend in net.c. Adapter models use net.h, not this. */
#ifndef OSIO_NET_SWITCH_H
#define OSIO_NET_SWITCH_H

#include "devices/net/net.h"

struct net_switch_ops {
	enum net_switch_kind kind;
	/* Whether send takes frames with offload work left (NEEDS_CSUM, GSO),
	 * like a TAP device with IFF_VNET_HDR; otherwise the core finishes
	 * checksums and segments before send. */
	bool offloads;
	/* Joins the switch for port p. Returns 0 with *state set, or -errno
	 * having logged one line that names net_port_id(p), the switch and the
	 * fix (e.g. "needs CAP_NET_ADMIN: run ... as root"). From the machine
	 * loop's thread, or before the loop runs. */
	int (*open)(struct net_port *p, const struct net_switch_cfg *cfg, void **state);
	/* One frame from the guest, len bytes in iov (complete, at most
	 * NET_FRAME_MAX, unless offloads). Returns 0 (sent, or dropped because
	 * the switch is full) or -errno (the core counts tx_dropped). Any
	 * thread, and several at once (an adapter's queues). */
	int (*send)(void *state, const struct net_hdr *hdr, const struct iovec *iov,
		    unsigned iovcnt, size_t len);
	/* The port takes frames again after net_port_deliver returned -EAGAIN.
	 * Any thread (post to your own thread if you need to). May be NULL. */
	void (*resume)(void *state);
	/* Stops delivering and frees: once it returns, the backend calls no
	 * net_port_* function for this port. From the loop's thread or before
	 * it runs (or after it stopped). */
	void (*close)(void *state);
};

/* The backends the core knows (weak: a missing one is "not built"). */
extern const struct net_switch_ops net_switch_nat __attribute__((weak));
extern const struct net_switch_ops net_switch_private __attribute__((weak));
extern const struct net_switch_ops net_switch_tap __attribute__((weak)); /* internal, external */

/* A frame from the switch for the guest (complete; hdr NULL or DATA_VALID
 * only). Returns 0 when the adapter took it (or it was dropped and
 * counted), or -EAGAIN when the adapter has no room: the frame was copied
 * into the port's queue (or dropped when that is full) and the backend
 * should stop delivering until its resume is called. One thread at a time
 * per port (the backend's). */
int net_port_deliver(struct net_port *p, const struct net_hdr *hdr, const struct iovec *iov,
		     unsigned iovcnt, size_t len);
/* The switch went away (the TAP device was deleted, libslirp failed): the
 * adapter's link goes down and frames are dropped until net_port_connect.
 * Logged once with why. Any thread. */
void net_port_switch_down(struct net_port *p, const char *why);
struct machine *net_port_machine(const struct net_port *p);
const char *net_port_id(const struct net_port *p);

#endif
