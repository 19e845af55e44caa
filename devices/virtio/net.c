/* virtio-net (VIRTIO 1.2, 5.1): a network adapter over the virtio PCI
 * transport, joined to a virtual switch by a net port. This file: the model,
 * features, configuration (MAC, link status, queue pairs, MTU, speed), link
 * changes, and transmit; receive is net_rx.c, the control queue net_ctrl.c.
 *
 * devargs ("virtio-net"):
 *   mac=, switch=, ...   the port's (NET_PORT_KEYS, devices/net/net.h)
 *   queues=N             queue pairs, 1..16 (default 1); more than one offers MQ
 *   rom=PATH             option ROM for network boot (iPXE's pxe-virtio.rom)
 *   slot=, legacy=, vectors=  the virtio PCI transport's
 *
 * The data path is userspace: vhost-net is not used (a trace line says so
 * when /dev/vhost-net exists). */
#include "devices/virtio/net_int.h"

#include "devices/device.h"
#include "hypervisor/bytes.h"
#include "hypervisor/log.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define BIT(b) (1ull << (b))

unsigned vnet_hdr_len(uint64_t features)
{
	if (features & (BIT(VIRTIO_F_VERSION_1) | BIT(VIRTIO_NET_F_MRG_RXBUF)))
		return VNET_HDR_MRG;
	return VNET_HDR_LEGACY;
}

unsigned vnet_ctrl_index(const struct vnet *n, uint64_t features)
{
	return features & BIT(VIRTIO_NET_F_MQ) ? 2 * n->pairs : 2;
}

/* --- transmit ------------------------------------------------------------- */

/* Whether the header the driver put before a frame of len bytes is one this
 * device accepts with the features negotiated. */
static bool tx_hdr_ok(uint64_t f, const struct net_hdr *h, size_t len)
{
	unsigned gso = h->gso_type & ~NET_HDR_GSO_ECN;

	if (len < NET_ETH_MIN)
		return false;
	if (h->flags & NET_HDR_F_NEEDS_CSUM) {
		if (!(f & BIT(VIRTIO_NET_F_CSUM)))
			return false;
		if ((size_t)h->csum_start + h->csum_offset + 2 > len)
			return false;
	}
	if (gso == NET_HDR_GSO_NONE)
		return !(h->gso_type & NET_HDR_GSO_ECN) && len <= NET_FRAME_MAX;
	if (gso == NET_HDR_GSO_TCPV4 && !(f & BIT(VIRTIO_NET_F_HOST_TSO4)))
		return false;
	if (gso == NET_HDR_GSO_TCPV6 && !(f & BIT(VIRTIO_NET_F_HOST_TSO6)))
		return false;
	if (gso != NET_HDR_GSO_TCPV4 && gso != NET_HDR_GSO_TCPV6)
		return false; /* UDP (HOST_UFO) is not offered */
	if ((h->gso_type & NET_HDR_GSO_ECN) && !(f & BIT(VIRTIO_NET_F_HOST_ECN)))
		return false;
	return h->gso_size && h->hdr_len <= len && len <= NET_GSO_MAX;
}

/* Points the chain's readable iovecs past the header: returns the first
 * iovec of the frame (adjusted in place: the element is ours until it is
 * pushed) and sets *cnt. */
static struct iovec *skip_header(struct virtq_elem *e, size_t hl, unsigned *cnt)
{
	unsigned i = 0;

	while (i < e->out_num && hl >= e->out[i].iov_len)
		hl -= e->out[i++].iov_len;
	if (i < e->out_num) {
		e->out[i].iov_base = (uint8_t *)e->out[i].iov_base + hl;
		e->out[i].iov_len -= hl;
	}
	*cnt = e->out_num - i;
	return e->out + i;
}

static void tx_one(struct vnet *n, uint64_t f, struct virtq_elem *e)
{
	unsigned hl = vnet_hdr_len(f), cnt;
	uint8_t raw[VNET_HDR_MRG];
	struct net_hdr h;
	struct iovec *iov;
	size_t len;

	if (e->out_len < hl) {
		net_port_guest_error(n->port);
		return;
	}
	iov_to_buf(e->out, e->out_num, 0, raw, hl);
	h.flags = raw[0] & NET_HDR_F_NEEDS_CSUM;
	h.gso_type = raw[1];
	h.hdr_len = get_le16(raw + 2);
	h.gso_size = get_le16(raw + 4);
	h.csum_start = get_le16(raw + 6);
	h.csum_offset = get_le16(raw + 8);
	len = (size_t)(e->out_len - hl);
	if (!tx_hdr_ok(f, &h, len)) {
		if (tracing(TRACE_DEV))
			log_trace("%s: transmit: bad frame (%zu bytes, flags %#x, gso %#x)", n->id,
				  len, raw[0], raw[1]);
		net_port_guest_error(n->port);
		return;
	}
	iov = skip_header(e, hl, &cnt);
	bool plain = !h.flags && h.gso_type == NET_HDR_GSO_NONE;
	net_port_send(n->port, plain ? NULL : &h, iov, cnt); /* -EINVAL: counted by the port */
}

/* Sends what the transmit queue of pair p holds, at most VNET_TX_BUDGET
 * chains; the rest waits for the timer so one busy queue cannot hold the
 * loop. Loop thread. */
static void tx_run(struct vnet *n, unsigned p)
{
	struct virtq *vq = virtio_queue(n->vdev, 2 * p + 1);
	uint64_t f = virtio_features(n->vdev);
	struct virtq_elem *e;
	unsigned done = 0;

	if (!vq)
		return;
	while (done < VNET_TX_BUDGET && virtq_pop(vq, &e) == 1) {
		tx_one(n, f, e);
		virtq_push_batch(vq, e, 0);
		done++;
	}
	virtq_flush(vq);
	if (done == VNET_TX_BUDGET && virtq_has_avail(vq)) {
		atomic_fetch_or(&n->tx_more, 1u << p);
		evtimer_arm(n->tx_timer, 1, 0);
	}
}

static void tx_continue(void *opaque)
{
	struct vnet *n = opaque;
	unsigned more = atomic_exchange(&n->tx_more, 0);

	if (atomic_exchange(&n->link_notify, false)) {
		pthread_mutex_lock(&n->lock);
		vnet_publish_link(n, true);
		pthread_mutex_unlock(&n->lock);
	}
	for (unsigned p = 0; p < n->pairs; p++)
		if (more & (1u << p))
			tx_run(n, p);
	if (more & VNET_MORE_CTRL) {
		uint64_t f = virtio_features(n->vdev);
		struct virtq *vq = virtio_queue(n->vdev, vnet_ctrl_index(n, f));
		if ((f & BIT(VIRTIO_NET_F_CTRL_VQ)) && vq)
			vnet_ctrl_notify(n, vq);
	}
}

/* --- the virtio device ------------------------------------------------------ */

static void vnet_queue_notify(struct virtio_device *vdev, unsigned qi)
{
	struct vnet *n = virtio_opaque(vdev);
	uint64_t f = virtio_features(vdev);
	unsigned ctrl = vnet_ctrl_index(n, f);
	struct virtq *vq = virtio_queue(vdev, qi);

	if (!vq)
		return;
	if ((f & BIT(VIRTIO_NET_F_CTRL_VQ)) && qi == ctrl) {
		vnet_ctrl_notify(n, vq);
		return;
	}
	/* Without MQ only the first pair exists (queue 2 is the control
	 * queue, or nothing). */
	if (!(f & BIT(VIRTIO_NET_F_MQ)) && qi >= 2)
		return;
	if (qi % 2 == 0)
		vnet_rx_notify(n);
	else
		tx_run(n, qi / 2);
}

/* Feature dependencies (5.1.3.1): a driver asking for a feature without
 * the one it needs is refused. */
static int vnet_set_features(struct virtio_device *vdev, uint64_t f)
{
	static const struct {
		unsigned feature, needs;
	} deps[] = {
	    {VIRTIO_NET_F_HOST_TSO4, VIRTIO_NET_F_CSUM},
	    {VIRTIO_NET_F_HOST_TSO6, VIRTIO_NET_F_CSUM},
	    {VIRTIO_NET_F_CTRL_RX, VIRTIO_NET_F_CTRL_VQ},
	    {VIRTIO_NET_F_CTRL_VLAN, VIRTIO_NET_F_CTRL_VQ},
	    {VIRTIO_NET_F_MQ, VIRTIO_NET_F_CTRL_VQ},
	    {VIRTIO_NET_F_CTRL_MAC_ADDR, VIRTIO_NET_F_CTRL_VQ},
	};
	struct vnet *n = virtio_opaque(vdev);

	for (size_t i = 0; i < sizeof(deps) / sizeof(deps[0]); i++)
		if ((f & BIT(deps[i].feature)) && !(f & BIT(deps[i].needs)))
			goto refuse;
	if ((f & BIT(VIRTIO_NET_F_HOST_ECN)) &&
	    !(f & (BIT(VIRTIO_NET_F_HOST_TSO4) | BIT(VIRTIO_NET_F_HOST_TSO6))))
		goto refuse;
	return 0;
refuse:
	if (tracing(TRACE_DEV))
		log_trace("%s: refused features %#llx (a dependency is missing)", n->id,
			  (unsigned long long)f);
	return -EINVAL;
}

static void vnet_reset(struct virtio_device *vdev)
{
	struct vnet *n = virtio_opaque(vdev);
	uint8_t mac[NET_MAC_LEN];

	atomic_fetch_add(&n->resets, 1);
	atomic_store(&n->tx_more, 0);
	pthread_mutex_lock(&n->lock);
	vnet_filter_reset(n);
	memcpy(n->mac, n->port_mac, NET_MAC_LEN);
	memcpy(mac, n->mac, NET_MAC_LEN);
	pthread_mutex_unlock(&n->lock);
	virtio_config_update(vdev, VNET_CFG_MAC, mac, NET_MAC_LEN, false);
}

/* Only a legacy driver without CTRL_MAC_ADDR may write the MAC (5.1.4.2);
 * every other write is undone. */
static void vnet_config_write(struct virtio_device *vdev, unsigned off, unsigned size)
{
	struct vnet *n = virtio_opaque(vdev);
	uint64_t f = virtio_features(vdev);
	uint8_t cfg[VNET_CFG_SIZE];
	bool mac_ok = !(f & (BIT(VIRTIO_F_VERSION_1) | BIT(VIRTIO_NET_F_CTRL_MAC_ADDR)));

	virtio_config_read(vdev, 0, cfg, sizeof(cfg));
	pthread_mutex_lock(&n->lock);
	if (mac_ok && off + size <= VNET_CFG_MAC + NET_MAC_LEN)
		memcpy(n->mac, cfg + VNET_CFG_MAC, NET_MAC_LEN);
	memcpy(cfg + VNET_CFG_MAC, n->mac, NET_MAC_LEN);
	put_le16(cfg + VNET_CFG_STATUS, n->link ? VIRTIO_NET_S_LINK_UP : 0);
	pthread_mutex_unlock(&n->lock);
	put_le16(cfg + VNET_CFG_MAX_PAIRS, (uint16_t)n->pairs);
	put_le16(cfg + VNET_CFG_MTU, NET_MTU);
	put_le32(cfg + VNET_CFG_SPEED, VNET_SPEED_MBPS);
	cfg[VNET_CFG_DUPLEX] = VNET_DUPLEX_FULL;
	memset(cfg + VNET_CFG_DUPLEX + 1, 0, VNET_CFG_SIZE - VNET_CFG_DUPLEX - 1);
	virtio_config_update(vdev, 0, cfg, sizeof(cfg), false);
}

static const struct virtio_device_ops vnet_ops = {
    .queue_notify = vnet_queue_notify,
    .set_features = vnet_set_features,
    .reset = vnet_reset,
    .config_write = vnet_config_write,
};

/* The status field follows the port's link; a change interrupts the
 * driver (5.1.4). Lock held. */
void vnet_publish_link(struct vnet *n, bool notify)
{
	uint8_t st[2];

	put_le16(st, n->link ? VIRTIO_NET_S_LINK_UP : 0);
	virtio_config_update(n->vdev, VNET_CFG_STATUS, st, 2, notify);
}

static void vnet_link_changed(void *opaque, bool up)
{
	struct vnet *n = opaque;

	pthread_mutex_lock(&n->lock);
	bool changed = !n->link_known || n->link != up;
	n->link_known = true;
	n->link = up;
	if (changed && atomic_load(&n->ready)) {
		/* Paused: the interrupt waits for the resume (vnet_pause). */
		bool paused = atomic_load(&n->paused);
		vnet_publish_link(n, !paused);
		if (paused)
			atomic_store(&n->link_notify, true);
	}
	pthread_mutex_unlock(&n->lock);
}

static const struct net_adapter_ops vnet_port_ops = {
    .receive = vnet_receive,
    .link_changed = vnet_link_changed,
};

/* vhost-net would move the data path into the kernel; osio does not use
 * it yet, so say which path runs. */
static void note_vhost(const char *id)
{
	int fd = open("/dev/vhost-net", O_RDWR | O_CLOEXEC);

	if (fd >= 0)
		close(fd);
	if (tracing(TRACE_DEV))
		log_trace("%s: %s: virtio-net runs in userspace", id,
			  fd >= 0 ? "/dev/vhost-net is usable but not used"
				  : "no usable /dev/vhost-net");
}

static const char *const vnet_keys[] = {NET_PORT_KEYS, VIRTIO_PCI_KEYS, "queues", "rom", NULL};

static void vnet_free(struct vnet *n)
{
	for (unsigned i = 0; i < VNET_PAIRS_MAX; i++)
		free(n->rxq[i].held);
	if (n->tx_timer)
		evtimer_free(n->tx_timer);
	pthread_mutex_destroy(&n->lock);
	free(n);
}

static int vnet_create(struct machine *m, const char *id, const struct devargs *args, void **state)
{
	uint8_t cfg[VNET_CFG_SIZE] = {0};
	struct vnet *n;
	uint64_t pairs;
	int e = devargs_check_keys(args, "virtio-net", vnet_keys);

	if (e < 0)
		return e;
	if (devargs_u64(args, "queues", 1, VNET_PAIRS_MAX, &pairs) < 0 || !pairs) {
		log_error("%s: queues must be a number of queue pairs from 1 to %d", id,
			  VNET_PAIRS_MAX);
		return -EINVAL;
	}
	n = calloc(1, sizeof(*n));
	if (!n)
		return -ENOMEM;
	snprintf(n->id, sizeof(n->id), "%s", id);
	n->m = m;
	n->pairs = (unsigned)pairs;
	pthread_mutex_init(&n->lock, NULL);
	vnet_filter_reset(n);
	for (unsigned i = 0; i < n->pairs; i++) {
		n->rxq[i].held = calloc(VNET_QUEUE_SIZE, sizeof(*n->rxq[i].held));
		if (!n->rxq[i].held) {
			vnet_free(n);
			return -ENOMEM;
		}
	}
	n->tx_timer = evtimer_new(m->loop, tx_continue, n);
	if (!n->tx_timer) {
		vnet_free(n);
		return -ENOMEM;
	}
	if ((e = net_port_create(m, id, args, &vnet_port_ops, n, &n->port)) < 0) {
		vnet_free(n);
		return e;
	}
	net_port_mac(n->port, n->port_mac);
	memcpy(n->mac, n->port_mac, NET_MAC_LEN);
	memcpy(cfg + VNET_CFG_MAC, n->mac, NET_MAC_LEN);
	put_le16(cfg + VNET_CFG_MAX_PAIRS, (uint16_t)n->pairs);
	put_le16(cfg + VNET_CFG_MTU, NET_MTU);
	put_le32(cfg + VNET_CFG_SPEED, VNET_SPEED_MBPS);
	cfg[VNET_CFG_DUPLEX] = VNET_DUPLEX_FULL;
	struct virtio_device_info info = {
	    .name = "virtio-net",
	    .device_id = VIRTIO_ID_NET,
	    .class_code = 0x020000, /* Ethernet controller */
	    .features =
		BIT(VIRTIO_NET_F_CSUM) | BIT(VIRTIO_NET_F_GUEST_CSUM) | BIT(VIRTIO_NET_F_MTU) |
		BIT(VIRTIO_NET_F_MAC) | BIT(VIRTIO_NET_F_HOST_TSO4) | BIT(VIRTIO_NET_F_HOST_TSO6) |
		BIT(VIRTIO_NET_F_HOST_ECN) | BIT(VIRTIO_NET_F_MRG_RXBUF) |
		BIT(VIRTIO_NET_F_STATUS) | BIT(VIRTIO_NET_F_CTRL_VQ) | BIT(VIRTIO_NET_F_CTRL_RX) |
		BIT(VIRTIO_NET_F_CTRL_VLAN) | BIT(VIRTIO_NET_F_CTRL_MAC_ADDR) |
		BIT(VIRTIO_NET_F_SPEED_DUPLEX) | (n->pairs > 1 ? BIT(VIRTIO_NET_F_MQ) : 0),
	    .num_queues = 2 * n->pairs + 1,
	    .queue_size = VNET_QUEUE_SIZE,
	    .config_size = VNET_CFG_SIZE,
	    .config = cfg,
	};
	if ((e = virtio_pci_create(m, id, args, &info, &vnet_ops, n, &n->vdev)) < 0) {
		net_port_destroy(n->port);
		vnet_free(n);
		return e;
	}
	pthread_mutex_lock(&n->lock);
	atomic_store(&n->ready, true);
	if (!n->link_known)
		n->link = net_port_link_up(n->port);
	n->link_known = true;
	vnet_publish_link(n, false);
	pthread_mutex_unlock(&n->lock);
	note_vhost(id);
	*state = n;
	return 0;
}

static void vnet_dev_reset(void *state)
{
	struct vnet *n = state;

	virtio_pci_reset(n->vdev);
}

static void vnet_destroy(void *state)
{
	struct vnet *n = state;

	net_port_destroy(n->port); /* no receive after this */
	evtimer_cancel(n->tx_timer);
	vnet_rx_release(n);
	virtio_pci_destroy(n->vdev);
	vnet_free(n);
}

static const struct device_model vnet_model = {
    .name = "virtio-net",
    .description = "virtio network adapter (PCI; mac=, switch=, queues=, rom=, slot=, legacy=, "
		   "vectors=)",
    .create = vnet_create,
    .reset = vnet_dev_reset,
    .destroy = vnet_destroy,
    .state_version = 1,
    .save = vnet_save,
    .load = vnet_load,
    .pause = vnet_pause,
};
DEVICE_MODEL(vnet_model);
