/* virtio-net's control queue (VIRTIO 1.2, 5.1.6.5): receive modes
 * (promiscuous, all-multicast), the MAC filter table and address, VLAN
 * filtering and the number of queue pairs in use. Each command is a class
 * and command byte, its data, then one writable ack byte. */
#include "devices/virtio/net_int.h"

#include "hypervisor/bytes.h"
#include "hypervisor/log.h"

#include <string.h>

#define BIT(b) (1ull << (b))

#define CLASS_RX	    0
#define CMD_RX_PROMISC	    0
#define CMD_RX_ALLMULTI	    1
#define CLASS_MAC	    1
#define CMD_MAC_TABLE_SET   0
#define CMD_MAC_ADDR_SET    1
#define CLASS_VLAN	    2
#define CMD_VLAN_ADD	    0
#define CMD_VLAN_DEL	    1
#define CLASS_MQ	    4
#define CMD_MQ_VQ_PAIRS_SET 0

#define ACK_OK	0
#define ACK_ERR 1

/* Bytes of command data the device reads at most (a MAC table of two
 * full lists with room to spare; bigger tables just overflow). */
#define DATA_MAX (8 + 2 * 6 * 4096)

void vnet_filter_reset(struct vnet *n)
{
	n->promisc = true;
	n->allmulti = false;
	n->n_uni = n->n_multi = 0;
	n->uni_overflow = n->multi_overflow = false;
	memset(n->vlans, 0, sizeof(n->vlans));
	n->curr_pairs = 1;
}

/* Where the command's data lies in the chain: after the 2-byte header. */
struct cmd {
	const struct virtq_elem *e;
	uint64_t len;
};

static void cmd_read(const struct cmd *c, uint64_t off, void *buf, size_t len)
{
	iov_to_buf(c->e->out, c->e->out_num, 2 + off, buf, len);
}

/* One of the two lists of VIRTIO_NET_CTRL_MAC_TABLE_SET at *off: its
 * entries go into the table from slot *used on, or it overflows. Returns
 * false when the list runs past the data. Lock held. */
static bool read_mac_list(struct vnet *n, const struct cmd *c, uint64_t *off, unsigned *used,
			  unsigned *count, bool *overflow)
{
	uint8_t le[4];

	if (*off + 4 > c->len)
		return false;
	cmd_read(c, *off, le, 4);
	uint64_t entries = get_le32(le);
	*off += 4;
	if (entries * NET_MAC_LEN > c->len - *off)
		return false;
	*count = 0;
	*overflow = entries > VNET_MAC_TABLE - *used;
	if (!*overflow) {
		for (uint64_t i = 0; i < entries; i++)
			cmd_read(c, *off + i * NET_MAC_LEN, n->macs[*used + i], NET_MAC_LEN);
		*count = (unsigned)entries;
		*used += (unsigned)entries;
	}
	*off += entries * NET_MAC_LEN;
	return true;
}

/* Returns the ack, or -1 for data of the wrong length (a guest error). */
static int cmd_mac(struct vnet *n, uint64_t f, uint8_t cmd, const struct cmd *c)
{
	if (cmd == CMD_MAC_ADDR_SET) {
		uint8_t mac[NET_MAC_LEN];

		if (!(f & BIT(VIRTIO_NET_F_CTRL_MAC_ADDR)))
			return ACK_ERR;
		if (c->len != NET_MAC_LEN)
			return -1;
		cmd_read(c, 0, mac, NET_MAC_LEN);
		pthread_mutex_lock(&n->lock);
		memcpy(n->mac, mac, NET_MAC_LEN);
		pthread_mutex_unlock(&n->lock);
		virtio_config_update(n->vdev, VNET_CFG_MAC, mac, NET_MAC_LEN, false);
		return ACK_OK;
	}
	if (cmd != CMD_MAC_TABLE_SET || !(f & BIT(VIRTIO_NET_F_CTRL_RX)))
		return ACK_ERR;
	uint64_t off = 0;
	unsigned used = 0, nu, nm;
	bool uo, mo;
	pthread_mutex_lock(&n->lock);
	bool ok = read_mac_list(n, c, &off, &used, &nu, &uo) &&
		  read_mac_list(n, c, &off, &used, &nm, &mo) && off == c->len;
	if (ok) {
		n->n_uni = nu;
		n->n_multi = nm;
		n->uni_overflow = uo;
		n->multi_overflow = mo;
	} else {
		/* Entries may be half written: an empty table until the next
		 * command, as the driver asked for something else. */
		n->n_uni = n->n_multi = 0;
		n->uni_overflow = n->multi_overflow = false;
	}
	pthread_mutex_unlock(&n->lock);
	return ok ? ACK_OK : -1;
}

static int cmd_rx(struct vnet *n, uint64_t f, uint8_t cmd, const struct cmd *c)
{
	uint8_t on;

	if (!(f & BIT(VIRTIO_NET_F_CTRL_RX)) || (cmd != CMD_RX_PROMISC && cmd != CMD_RX_ALLMULTI))
		return ACK_ERR; /* NOUNI and the others need CTRL_RX_EXTRA */
	if (c->len != 1)
		return -1;
	cmd_read(c, 0, &on, 1);
	pthread_mutex_lock(&n->lock);
	if (cmd == CMD_RX_PROMISC)
		n->promisc = on;
	else
		n->allmulti = on;
	pthread_mutex_unlock(&n->lock);
	return ACK_OK;
}

static int cmd_vlan(struct vnet *n, uint64_t f, uint8_t cmd, const struct cmd *c)
{
	uint8_t le[2];

	if (!(f & BIT(VIRTIO_NET_F_CTRL_VLAN)) || (cmd != CMD_VLAN_ADD && cmd != CMD_VLAN_DEL))
		return ACK_ERR;
	if (c->len != 2)
		return -1;
	cmd_read(c, 0, le, 2);
	unsigned vid = get_le16(le);
	if (vid >= 4096)
		return ACK_ERR;
	pthread_mutex_lock(&n->lock);
	if (cmd == CMD_VLAN_ADD)
		n->vlans[vid / 32] |= 1u << (vid % 32);
	else
		n->vlans[vid / 32] &= ~(1u << (vid % 32));
	pthread_mutex_unlock(&n->lock);
	return ACK_OK;
}

static int cmd_mq(struct vnet *n, uint64_t f, uint8_t cmd, const struct cmd *c)
{
	uint8_t le[2];

	if (!(f & BIT(VIRTIO_NET_F_MQ)) || cmd != CMD_MQ_VQ_PAIRS_SET)
		return ACK_ERR; /* RSS and hash reports are not offered */
	if (c->len != 2)
		return -1;
	cmd_read(c, 0, le, 2);
	unsigned pairs = get_le16(le);
	if (pairs < 1 || pairs > n->pairs)
		return ACK_ERR;
	pthread_mutex_lock(&n->lock);
	n->curr_pairs = pairs;
	pthread_mutex_unlock(&n->lock);
	return ACK_OK;
}

static int run_cmd(struct vnet *n, uint64_t f, const struct virtq_elem *e)
{
	uint8_t hdr[2];
	struct cmd c = {e, e->out_len - 2};

	iov_to_buf(e->out, e->out_num, 0, hdr, 2);
	if (c.len > DATA_MAX)
		return -1;
	switch (hdr[0]) {
	case CLASS_RX:
		return cmd_rx(n, f, hdr[1], &c);
	case CLASS_MAC:
		return cmd_mac(n, f, hdr[1], &c);
	case CLASS_VLAN:
		return cmd_vlan(n, f, hdr[1], &c);
	case CLASS_MQ:
		return cmd_mq(n, f, hdr[1], &c);
	}
	return ACK_ERR; /* announce, guest offloads and others are not offered */
}

void vnet_ctrl_notify(struct vnet *n, struct virtq *vq)
{
	uint64_t f = virtio_features(n->vdev);
	struct virtq_elem *e;

	unsigned done = 0;

	while (done++ < VNET_TX_BUDGET && virtq_pop(vq, &e) == 1) {
		if (e->out_len < 2 || e->in_len < 1) {
			/* Nowhere to read the command or put the ack. */
			net_port_guest_error(n->port);
			virtq_push_batch(vq, e, 0);
			continue;
		}
		int r = run_cmd(n, f, e);
		if (r < 0) {
			if (tracing(TRACE_DEV))
				log_trace("%s: control command with %llu data bytes: bad length",
					  n->id, (unsigned long long)(e->out_len - 2));
			net_port_guest_error(n->port);
			r = ACK_ERR;
		}
		uint8_t ack = (uint8_t)r;
		iov_from_buf(e->in, e->in_num, 0, &ack, 1);
		virtq_push_batch(vq, e, 1);
	}
	virtq_flush(vq);
	if (done > VNET_TX_BUDGET && virtq_has_avail(vq)) {
		atomic_fetch_or(&n->tx_more, VNET_MORE_CTRL);
		evtimer_arm(n->tx_timer, 1, 0);
	}
}
