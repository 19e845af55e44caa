/* virtio-net receive (VIRTIO 1.2, 5.1.6.3-4): frames from the switch pass
 * the MAC/VLAN filter the driver set up, are steered to a queue pair by a
 * hash of their addresses and ports, and are written with their header into
 * one receive chain, or across several with MRG_RXBUF. */
#include "devices/virtio/net_int.h"

#include "hypervisor/bytes.h"
#include "hypervisor/log.h"

#include <errno.h>
#include <string.h>

#define BIT(b) (1ull << (b))

/* Bytes of a frame's start that filtering and steering look at: Ethernet,
 * one VLAN tag, IPv6 (or IPv4 with options), and the ports. */
#define PEEK_BYTES 128

static uint16_t be16(const uint8_t *p)
{
	return (uint16_t)(p[0] << 8 | p[1]);
}

/* Whether the filter the driver set up takes a frame starting with p
 * (5.1.6.5.1, 5.1.6.5.2). Lock held. */
static bool filter_accepts(const struct vnet *n, uint64_t f, const uint8_t *p, size_t plen)
{
	static const uint8_t bcast[NET_MAC_LEN] = {0xff, 0xff, 0xff, 0xff, 0xff, 0xff};

	if (n->promisc)
		return true;
	if ((f & BIT(VIRTIO_NET_F_CTRL_VLAN)) && plen >= 18 && be16(p + 12) == 0x8100) {
		unsigned vid = be16(p + 14) & 0xfff;
		if (!(n->vlans[vid / 32] & (1u << (vid % 32))))
			return false;
	}
	if (p[0] & 1) {
		if (!memcmp(p, bcast, NET_MAC_LEN))
			return true;
		if (n->allmulti || n->multi_overflow)
			return true;
		for (unsigned i = n->n_uni; i < n->n_uni + n->n_multi; i++)
			if (!memcmp(p, n->macs[i], NET_MAC_LEN))
				return true;
		return false;
	}
	if (n->uni_overflow || !memcmp(p, n->mac, NET_MAC_LEN))
		return true;
	for (unsigned i = 0; i < n->n_uni; i++)
		if (!memcmp(p, n->macs[i], NET_MAC_LEN))
			return true;
	return false;
}

static uint32_t fnv(uint32_t h, const uint8_t *p, size_t len)
{
	for (size_t i = 0; i < len; i++)
		h = (h ^ p[i]) * 16777619u;
	return h;
}

/* A hash of the frame's flow: IP addresses, and TCP/UDP ports of an
 * unfragmented datagram; 0 for anything else (the first pair). */
static uint32_t flow_hash(const uint8_t *p, size_t plen)
{
	uint32_t h = 2166136261u;
	size_t off = NET_ETH_HLEN;
	uint16_t type;

	if (plen < NET_ETH_HLEN)
		return 0;
	type = be16(p + 12);
	if (type == 0x8100 && plen >= 18) {
		type = be16(p + 16);
		off = 18;
	}
	if (type == 0x0800 && plen >= off + 20) {
		size_t ihl = (size_t)(p[off] & 15) * 4;
		uint8_t proto = p[off + 9];
		bool frag = be16(p + off + 6) & 0x3fff;

		h = fnv(h, p + off + 12, 8);
		if (!frag && (proto == 6 || proto == 17) && ihl >= 20 && plen >= off + ihl + 4)
			h = fnv(fnv(h, &proto, 1), p + off + ihl, 4);
	} else if (type == 0x86dd && plen >= off + 40) {
		uint8_t proto = p[off + 6];

		h = fnv(h, p + off + 8, 32);
		if ((proto == 6 || proto == 17) && plen >= off + 44)
			h = fnv(fnv(h, &proto, 1), p + off + 40, 4);
	} else {
		return 0;
	}
	/* Fold the high bits in: the pair is the hash modulo a small count. */
	return h ^ h >> 16;
}

/* Copies the frame's bytes [off, off + len) into the chain's writable
 * part at dst_off. */
static void copy_frame(struct virtq_elem *e, size_t dst_off, const struct iovec *iov,
		       unsigned iovcnt, size_t off, size_t len)
{
	for (unsigned i = 0; i < iovcnt && len; i++) {
		size_t l = iov[i].iov_len;

		if (off >= l) {
			off -= l;
			continue;
		}
		l -= off;
		if (l > len)
			l = len;
		iov_from_buf(e->in, e->in_num, dst_off, (const uint8_t *)iov[i].iov_base + off, l);
		dst_off += l;
		len -= l;
		off = 0;
	}
}

/* Drops chains taken before a reset (their ring is gone). */
static void drop_stale(struct vnet *n, struct vnet_rxq *q, struct virtq *vq)
{
	unsigned resets = atomic_load(&n->resets);

	if (q->resets == resets)
		return;
	for (unsigned i = 0; i < q->nheld; i++)
		virtq_discard(vq, q->held[i]);
	q->nheld = 0;
	q->resets = resets;
}

/* Takes chains until they hold need bytes (only one without MRG_RXBUF).
 * Chains with no room for the header are malformed: returned empty and
 * counted. Returns 1 when the chains suffice, 0 when the ring ran out,
 * -EIO when it is broken. */
static int gather(struct vnet *n, struct vnet_rxq *q, struct virtq *vq, unsigned hl, bool mrg,
		  size_t need)
{
	for (;;) {
		uint64_t have = 0;
		for (unsigned i = 0; i < q->nheld; i++)
			have += q->held[i]->in_len;
		if (q->nheld && (have >= need || !mrg))
			return 1;
		if (q->nheld == VNET_QUEUE_SIZE)
			return 1; /* as much as the ring can give: the caller drops */
		struct virtq_elem *e;
		int r = virtq_pop(vq, &e);
		if (r <= 0)
			return r < 0 ? -EIO : 0;
		if (e->in_len < (q->nheld ? 1 : hl)) {
			if (tracing(TRACE_DEV))
				log_trace("%s: receive chain with %llu writable bytes", n->id,
					  (unsigned long long)e->in_len);
			net_port_guest_error(n->port);
			virtq_push(vq, e, 0);
			continue;
		}
		q->held[q->nheld++] = e;
	}
}

/* Writes the header and frame into the held chains and hands them to the
 * driver. */
static void deliver(struct vnet *n, struct vnet_rxq *q, struct virtq *vq, uint64_t f,
		    const struct net_hdr *hdr, const struct iovec *iov, unsigned iovcnt, size_t len)
{
	unsigned hl = vnet_hdr_len(f), used = 0;
	uint8_t h[VNET_HDR_MRG] = {0};
	uint32_t written[VNET_QUEUE_SIZE];
	size_t done = 0;

	if ((f & BIT(VIRTIO_NET_F_GUEST_CSUM)) && hdr && (hdr->flags & NET_HDR_F_DATA_VALID))
		h[0] = NET_HDR_F_DATA_VALID;
	while (done < len || used == 0) {
		struct virtq_elem *e = q->held[used];
		size_t start = used ? 0 : hl;
		size_t room = (size_t)e->in_len - start;
		size_t k = len - done < room ? len - done : room;

		copy_frame(e, start, iov, iovcnt, done, k);
		done += k;
		written[used++] = (uint32_t)(start + k);
	}
	put_le16(h + VNET_HDR_NUMBUFS, (uint16_t)used);
	iov_from_buf(q->held[0]->in, q->held[0]->in_num, 0, h, hl);
	for (unsigned i = 0; i < used; i++)
		virtq_push_batch(vq, q->held[i], written[i]);
	virtq_flush(vq);
	q->nheld -= used;
	memmove(q->held, q->held + used, q->nheld * sizeof(*q->held));
}

int vnet_receive(void *opaque, const struct net_hdr *hdr, const struct iovec *iov, unsigned iovcnt,
		 size_t len)
{
	struct vnet *n = opaque;
	uint8_t peek[PEEK_BYTES];
	unsigned pair = 0, pairs;
	bool accept;

	if (!atomic_load(&n->ready) || !virtio_running(n->vdev))
		return NET_RX_DROPPED; /* no driver, as a NIC nobody set up */
	uint64_t f = virtio_features(n->vdev);
	size_t plen = iov_to_buf(iov, iovcnt, 0, peek, sizeof(peek));
	if (plen < NET_ETH_HLEN || len > NET_GSO_MAX)
		return NET_RX_DROPPED;
	pthread_mutex_lock(&n->lock);
	accept = filter_accepts(n, f, peek, plen);
	pairs = n->curr_pairs;
	pthread_mutex_unlock(&n->lock);
	if (!accept)
		return NET_RX_DROPPED;
	if (pairs > 1)
		pair = flow_hash(peek, plen) % pairs;

	struct virtq *vq = virtio_queue(n->vdev, 2 * pair);
	struct vnet_rxq *q = &n->rxq[pair];
	unsigned hl = vnet_hdr_len(f);
	bool mrg = f & BIT(VIRTIO_NET_F_MRG_RXBUF);
	if (!vq || !virtq_ready(vq))
		return NET_RX_DROPPED;
	drop_stale(n, q, vq);
	for (;;) {
		int r = gather(n, q, vq, hl, mrg, hl + len);
		if (r < 0)
			return NET_RX_DROPPED; /* the transport marked the device broken */
		if (r == 1)
			break;
		/* Out of buffers: ask for a kick, then look once more so that
		 * buffers added meanwhile are not missed. */
		atomic_store(&n->rx_waiting, true);
		if (!virtq_has_avail(vq))
			return -EAGAIN;
	}
	uint64_t have = 0;
	for (unsigned i = 0; i < q->nheld; i++)
		have += q->held[i]->in_len;
	if (have < hl + len) {
		/* One chain too small for this frame (or every chain the ring
		 * holds): the frame is dropped, the chains wait for the next. */
		if (tracing(TRACE_DEV))
			log_trace("%s: receive buffers too small for a %zu-byte frame", n->id, len);
		net_port_guest_error(n->port);
		return NET_RX_DROPPED;
	}
	deliver(n, q, vq, f, hdr, iov, iovcnt, len);
	return 0;
}

void vnet_rx_notify(struct vnet *n)
{
	if (atomic_exchange(&n->rx_waiting, false))
		net_port_wake(n->port);
}

void vnet_rx_release(struct vnet *n)
{
	for (unsigned p = 0; p < n->pairs; p++) {
		struct virtq *vq = virtio_queue(n->vdev, 2 * p);
		for (unsigned i = 0; i < n->rxq[p].nheld; i++)
			virtq_discard(vq, n->rxq[p].held[i]);
		n->rxq[p].nheld = 0;
	}
}
