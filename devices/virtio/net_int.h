/* Between the virtio-net files (net.c: the model, configuration, link and
 * transmit; net_rx.c: receive, filtering and queue steering; net_ctrl.c: the
 * control queue). Not for other code: the model is reached by its name. */
#ifndef OSIO_VIRTIO_NET_INT_H
#define OSIO_VIRTIO_NET_INT_H

#include "devices/net/net.h"
#include "devices/virtio/virtio.h"
#include "hypervisor/evloop.h"

#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>

/* Feature bits (VIRTIO 1.2, 5.1.3). */
#define VIRTIO_NET_F_CSUM	   0
#define VIRTIO_NET_F_GUEST_CSUM	   1
#define VIRTIO_NET_F_MTU	   3
#define VIRTIO_NET_F_MAC	   5
#define VIRTIO_NET_F_GUEST_TSO4	   7
#define VIRTIO_NET_F_GUEST_TSO6	   8
#define VIRTIO_NET_F_GUEST_ECN	   9
#define VIRTIO_NET_F_GUEST_UFO	   10
#define VIRTIO_NET_F_HOST_TSO4	   11
#define VIRTIO_NET_F_HOST_TSO6	   12
#define VIRTIO_NET_F_HOST_ECN	   13
#define VIRTIO_NET_F_HOST_UFO	   14
#define VIRTIO_NET_F_MRG_RXBUF	   15
#define VIRTIO_NET_F_STATUS	   16
#define VIRTIO_NET_F_CTRL_VQ	   17
#define VIRTIO_NET_F_CTRL_RX	   18
#define VIRTIO_NET_F_CTRL_VLAN	   19
#define VIRTIO_NET_F_CTRL_RX_EXTRA 20
#define VIRTIO_NET_F_MQ		   22
#define VIRTIO_NET_F_CTRL_MAC_ADDR 23
#define VIRTIO_NET_F_SPEED_DUPLEX  63

#define VIRTIO_NET_S_LINK_UP 1

/* struct virtio_net_config (5.1.4), little-endian. */
#define VNET_CFG_MAC	   0
#define VNET_CFG_STATUS	   6
#define VNET_CFG_MAX_PAIRS 8
#define VNET_CFG_MTU	   10
#define VNET_CFG_SPEED	   12
#define VNET_CFG_DUPLEX	   16
#define VNET_CFG_SIZE	   24 /* up to supported_hash_types (zero: no RSS) */

/* struct virtio_net_hdr: 10 bytes for a legacy driver without MRG_RXBUF,
 * 12 (with num_buffers) otherwise (5.1.6). */
#define VNET_HDR_LEGACY	 10
#define VNET_HDR_MRG	 12
#define VNET_HDR_NUMBUFS 10

#define VNET_PAIRS_MAX	 16
#define VNET_QUEUE_SIZE	 256
#define VNET_MAC_TABLE	 64  /* unicast + multicast filter entries, as QEMU */
#define VNET_TX_BUDGET	 128 /* chains one pass over a transmit queue handles */
#define VNET_SPEED_MBPS	 10000
#define VNET_DUPLEX_FULL 1

/* A receive queue's chains taken from the ring but not yet filled: the
 * frame needs more room than the ring had (MRG_RXBUF), or the frame was too
 * big for the chain (kept for the next frame). Receive thread only. */
struct vnet_rxq {
	struct virtq_elem **held;
	unsigned nheld;
	unsigned resets; /* vnet.resets when they were taken */
};

struct vnet {
	char id[32];
	struct machine *m;
	struct virtio_device *vdev;
	struct net_port *port;
	unsigned pairs; /* max_virtqueue_pairs */
	uint8_t port_mac[NET_MAC_LEN];
	atomic_bool ready;	/* vdev is set: callbacks may use it */
	atomic_uint resets;	/* device resets so far */
	atomic_bool rx_waiting; /* receive returned -EAGAIN: wake the port on a kick */
	struct vnet_rxq rxq[VNET_PAIRS_MAX];
	/* Transmit passes that ran out of budget continue from this timer. */
	struct evtimer *tx_timer;
	atomic_uint tx_more;	  /* bit i: transmit queue of pair i has work left */
#define VNET_MORE_CTRL (1u << 31) /* the control queue has */
	atomic_bool paused;	  /* vnet_pause: no transmit, no receive, no interrupt */
	atomic_bool link_notify;  /* a link change the driver is still to hear of */

	pthread_mutex_t lock; /* everything below */
	bool link_known, link;
	uint8_t mac[NET_MAC_LEN]; /* the address the driver set (config, ADDR_SET) */
	unsigned curr_pairs;
	bool promisc, allmulti;
	unsigned n_uni, n_multi; /* entries in macs: unicast first */
	bool uni_overflow, multi_overflow;
	uint8_t macs[VNET_MAC_TABLE][NET_MAC_LEN];
	uint32_t vlans[4096 / 32];
};

/* The header length the driver's features give. */
unsigned vnet_hdr_len(uint64_t features);
/* The index of the control queue for the driver's features. */
unsigned vnet_ctrl_index(const struct vnet *n, uint64_t features);

/* net.c: the link status in the configuration, with a configuration
 * interrupt when notify. Lock held. */
void vnet_publish_link(struct vnet *n, bool notify);

/* net_state.c: the device model's saved-state hooks. */
void vnet_save(void *state, struct vmstate_out *out);
int vnet_load(void *state, struct vmstate_section *in);
void vnet_pause(void *state, bool paused);

/* net_rx.c */
int vnet_receive(void *opaque, const struct net_hdr *hdr, const struct iovec *iov, unsigned iovcnt,
		 size_t len);
/* The driver kicked a receive queue. */
void vnet_rx_notify(struct vnet *n);
/* Gives back the chains receive still holds (destroy; receive no longer
 * runs). */
void vnet_rx_release(struct vnet *n);

/* net_ctrl.c */
void vnet_ctrl_notify(struct vnet *n, struct virtq *vq);
/* The filter state at reset: promiscuous (as QEMU: until the driver says
 * otherwise), empty tables, one pair. Lock held. */
void vnet_filter_reset(struct vnet *n);

#endif
