/* virtio-net's saved state and pause: the transport's fields, the receive
 * filter the driver set up (modes, MAC table, VLANs), the queue pairs in
 * use, and the receive chains held for a frame that did not fit yet. */
#include "devices/virtio/net_int.h"

#include "hypervisor/bytes.h"
#include "hypervisor/vmstate.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>

/* "net.rx.P.held": the heads of the chains receive queue pair P holds, as
 * little-endian u16s, oldest first. */
static const char *held_field(char *buf, size_t size, unsigned pair)
{
	snprintf(buf, size, "net.rx.%u.held", pair);
	return buf;
}

void vnet_save(void *state, struct vmstate_out *out)
{
	struct vnet *n = state;
	uint8_t heads[2 * VNET_QUEUE_SIZE];
	unsigned resets = atomic_load(&n->resets);
	char f[32];

	virtio_save(n->vdev, out);
	pthread_mutex_lock(&n->lock);
	vmstate_put_u64(out, "net.curr_pairs", n->curr_pairs);
	vmstate_put_bool(out, "net.promisc", n->promisc);
	vmstate_put_bool(out, "net.allmulti", n->allmulti);
	vmstate_put_u64(out, "net.n_uni", n->n_uni);
	vmstate_put_u64(out, "net.n_multi", n->n_multi);
	vmstate_put_bool(out, "net.uni_overflow", n->uni_overflow);
	vmstate_put_bool(out, "net.multi_overflow", n->multi_overflow);
	vmstate_put_bytes(out, "net.macs", n->macs, (size_t)(n->n_uni + n->n_multi) * NET_MAC_LEN);
	uint8_t vlans[sizeof(n->vlans)];
	for (unsigned i = 0; i < sizeof(n->vlans) / sizeof(n->vlans[0]); i++)
		put_le32(vlans + 4 * i, n->vlans[i]);
	vmstate_put_bytes(out, "net.vlans", vlans, sizeof(vlans));
	pthread_mutex_unlock(&n->lock);
	vmstate_put_u64(out, "net.tx_more", atomic_load(&n->tx_more));
	/* The receive side is paused: its chains stay as they are. Chains
	 * taken before a reset belong to no ring any more. */
	for (unsigned p = 0; p < n->pairs; p++) {
		const struct vnet_rxq *q = &n->rxq[p];
		unsigned k = q->resets == resets ? q->nheld : 0;
		for (unsigned i = 0; i < k; i++)
			put_le16(heads + 2 * i, q->held[i]->head);
		vmstate_put_bytes(out, held_field(f, sizeof(f), p), heads, 2 * k);
	}
}

static int load_filter(struct vnet *n, struct vmstate_section *in)
{
	uint8_t vlans[sizeof(n->vlans)];
	uint32_t pairs, uni, multi;
	bool promisc, allmulti, uo, mo;

	if (vmstate_get_u32(in, "net.curr_pairs", n->pairs, &pairs) < 0 ||
	    vmstate_get_bool(in, "net.promisc", &promisc) < 0 ||
	    vmstate_get_bool(in, "net.allmulti", &allmulti) < 0 ||
	    vmstate_get_u32(in, "net.n_uni", VNET_MAC_TABLE, &uni) < 0 ||
	    vmstate_get_u32(in, "net.n_multi", VNET_MAC_TABLE, &multi) < 0 ||
	    vmstate_get_bool(in, "net.uni_overflow", &uo) < 0 ||
	    vmstate_get_bool(in, "net.multi_overflow", &mo) < 0 ||
	    vmstate_get_bytes(in, "net.vlans", vlans, sizeof(vlans)) < 0)
		return -EINVAL;
	if (pairs < 1)
		return vmstate_fail(in, "net.curr_pairs: 0 queue pairs in use");
	if (uni + multi > VNET_MAC_TABLE)
		return vmstate_fail(in, "net.n_uni, net.n_multi: %u + %u entries in a table of %u",
				    uni, multi, VNET_MAC_TABLE);
	/* As the driver's commands leave them: overflow empties its list. */
	if ((uo && uni) || (mo && multi))
		return vmstate_fail(in, "net.macs: entries in a list that overflowed");
	pthread_mutex_lock(&n->lock);
	int r = vmstate_get_bytes(in, "net.macs", n->macs, (size_t)(uni + multi) * NET_MAC_LEN);
	if (r == 0) {
		n->curr_pairs = pairs;
		n->promisc = promisc;
		n->allmulti = allmulti;
		n->n_uni = uni;
		n->n_multi = multi;
		n->uni_overflow = uo;
		n->multi_overflow = mo;
		for (unsigned i = 0; i < sizeof(n->vlans) / sizeof(n->vlans[0]); i++)
			n->vlans[i] = get_le32(vlans + 4 * i);
	}
	pthread_mutex_unlock(&n->lock);
	return r;
}

/* Pair p's held receive chains, taken back from its ring; each as
 * receive took it (room for the header in the first). */
static int load_held(struct vnet *n, unsigned p, struct vmstate_section *in)
{
	struct vnet_rxq *q = &n->rxq[p];
	struct virtq *vq = virtio_queue(n->vdev, 2 * p);
	unsigned hl = vnet_hdr_len(virtio_features(n->vdev));
	char f[32];
	size_t len;
	const uint8_t *heads =
	    vmstate_get_blob(in, held_field(f, sizeof(f), p), 2 * VNET_QUEUE_SIZE, &len);

	if (!heads)
		return -EINVAL;
	if (len % 2)
		return vmstate_fail(in, "%s: %zu bytes are not a list of heads", f, len);
	q->resets = atomic_load(&n->resets);
	for (size_t i = 0; i < len; i += 2) {
		struct virtq_elem *e;
		int r = virtq_restore(vq, get_le16(heads + i), in, &e);
		if (r < 0)
			return r;
		q->held[q->nheld++] = e;
		if (e->in_len < (i ? 1 : hl))
			return vmstate_fail(in, "%s: chain %u has %llu writable bytes", f,
					    get_le16(heads + i), (unsigned long long)e->in_len);
	}
	return 0;
}

int vnet_load(void *state, struct vmstate_section *in)
{
	struct vnet *n = state;
	uint8_t cfg[VNET_CFG_SIZE];
	uint32_t more;
	int r;

	if ((r = virtio_load(n->vdev, in)) < 0 || (r = load_filter(n, in)) < 0)
		return r;
	if (vmstate_get_u32(in, "net.tx_more", UINT32_MAX, &more) < 0)
		return -EINVAL;
	if (more & ~(VNET_MORE_CTRL | ((1u << n->pairs) - 1)))
		return vmstate_fail(in, "net.tx_more: %#x names queues the device does not have",
				    more);
	for (unsigned p = 0; p < n->pairs; p++)
		if ((r = load_held(n, p, in)) < 0)
			return r;
	if ((r = virtio_load_done(n->vdev, in)) < 0)
		return r;
	/* The address is the one in the configuration (the driver's, or the
	 * port's); the link is the port's now: a change since the save is
	 * told to the driver once the machine runs. */
	virtio_config_read(n->vdev, 0, cfg, sizeof(cfg));
	pthread_mutex_lock(&n->lock);
	memcpy(n->mac, cfg + VNET_CFG_MAC, NET_MAC_LEN);
	bool saved_link = get_le16(cfg + VNET_CFG_STATUS) & VIRTIO_NET_S_LINK_UP;
	if (saved_link != n->link) {
		vnet_publish_link(n, false);
		atomic_store(&n->link_notify, true);
	}
	pthread_mutex_unlock(&n->lock);
	atomic_store(&n->tx_more, more);
	if (more || atomic_load(&n->link_notify))
		evtimer_arm(n->tx_timer, 1, 0);
	return 0;
}

/* Paused: the port keeps frames for us (or drops and counts them), kicks
 * wait, the transmit timer stops. Going on kicks every queue, hands over
 * the frames the port kept, and finishes what the timer had left. */
void vnet_pause(void *state, bool paused)
{
	struct vnet *n = state;

	if (paused) {
		atomic_store(&n->paused, true);
		net_port_pause(n->port, true); /* a frame being received lands first */
		virtio_pause(n->vdev, true);
		evtimer_cancel(n->tx_timer);
		return;
	}
	atomic_store(&n->paused, false);
	virtio_pause(n->vdev, false);
	net_port_pause(n->port, false);
	if (atomic_load(&n->tx_more) || atomic_load(&n->link_notify))
		evtimer_arm(n->tx_timer, 1, 0);
}
