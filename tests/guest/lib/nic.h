/* What the guest programs' network code needs from a network adapter
 * driver (lib/e1000.c, lib/virtio_net.c): polled send and receive of whole
 * Ethernet frames (no FCS), the MAC address and the link state. */
#ifndef GUEST_NIC_H
#define GUEST_NIC_H

#include "types.h"

#define NIC_FRAME_MAX 1514

struct nic {
	const char *name; /* "e1000", "virtio-net" */
	uint8_t mac[6];
	/* Queues one frame (len <= NIC_FRAME_MAX); 0, or -1 when the adapter
	 * is broken or the ring stays full. */
	int (*send)(struct nic *n, const void *frame, unsigned len);
	/* The next received frame into buf (at most size bytes): its length,
	 * or 0 when none is waiting. Never blocks. */
	int (*recv)(struct nic *n, void *buf, unsigned size);
	bool (*link_up)(struct nic *n);
	void *priv;
};

/* Find the first adapter of that kind on PCI bus 0, reset it, set up its
 * rings: 0, or -1 with the reason printed. */
int e1000_probe(struct nic *n);
int virtio_net_probe(struct nic *n);

#endif
