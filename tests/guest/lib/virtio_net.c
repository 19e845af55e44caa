/* A polled virtio-net driver for the guest programs (VIRTIO 1.2, 5.1) behind lib/nic.h: the modern
 * virtio-pci interface (lib/virtio.c), VERSION_1, the MAC from the configuration, the link from
 * its status, one receive and one transmit queue, no offloads and no interrupts. */
#include "io.h"
#include "nic.h"
#include "str.h"
#include "timer.h"
#include "uart.h"
#include "virtio.h"

#define VIRTIO_ID_NET 1

/* Feature bits (5.1.3) and the configuration layout (5.1.4). */
#define VNET_F_MAC	 5
#define VNET_F_STATUS	 16
#define VNET_CFG_MAC	 0
#define VNET_CFG_STATUS	 6
#define VNET_S_LINK_UP	 1
#define VNET_HDR_LEN	 12 /* struct virtio_net_hdr with num_buffers (VERSION_1) */
#define VNET_RXQ	 0
#define VNET_TXQ	 1
#define USED_F_NO_NOTIFY 1
#define QSIZE		 128
#define RX_BUF		 2048 /* at least 1526 bytes without MRG_RXBUF (5.1.6.3.1) */
#define TX_BUF		 1536 /* the header and a 1514-byte frame */
#define TX_WAIT_MS	 1000 /* a transmit ring that stays full this long: the device is stuck */
#define RX_KICK_BATCH	 16   /* receive buffers given back before the device hears of them */

struct vnet {
	struct virtio_dev dev;
	struct virtq rxq, txq;
	bool has_status;
	bool broken;
	u16 rx_buf_of[QSIZE]; /* descriptor head -> buffer */
	u16 tx_buf_of[QSIZE];
	bool tx_busy[QSIZE];
	u32 rx_bad;	 /* used elements this driver could not take */
	u16 rx_unkicked; /* buffers offered again since the last notification */
};

static u8 rx_ring[VIRTQ_MEM_SIZE(QSIZE)] __attribute__((section(".noinit"), aligned(4096)));
static u8 tx_ring[VIRTQ_MEM_SIZE(QSIZE)] __attribute__((section(".noinit"), aligned(4096)));
static u8 rx_bufs[QSIZE][RX_BUF] __attribute__((section(".noinit"), aligned(64)));
static u8 tx_bufs[QSIZE][TX_BUF] __attribute__((section(".noinit"), aligned(64)));
static struct vnet vnet;

/* Whether the device asked not to be notified (2.7.10): read after the available index is
 * published, hence the full barrier. */
static void kick(struct vnet *v, struct virtq *q)
{
	__asm__ volatile("lock; addl $0, (%%esp)" ::: "memory");
	if (*(volatile u16 *)q->used & USED_F_NO_NOTIFY)
		return;
	virtq_kick(&v->dev, q);
}

static bool dead(struct vnet *v)
{
	if (v->broken)
		return true;
	if (virtio_get_status(&v->dev) &
	    (VIRTIO_STATUS_DEVICE_NEEDS_RESET | VIRTIO_STATUS_FAILED)) {
		printf("virtio-net: the device needs a reset (status 0x%x)\n",
		       virtio_get_status(&v->dev));
		v->broken = true;
	}
	return v->broken;
}

/* Offers receive buffer b to the device (no notification). */
static bool rx_post(struct vnet *v, u16 b)
{
	struct virtq_buf vb = {rx_bufs[b], RX_BUF, true};
	int head = virtq_add(&v->rxq, &vb, 1, 0);

	if (head < 0)
		return false;
	v->rx_buf_of[head] = b;
	return true;
}

/* Takes back the transmit buffers the device is done with. */
static void tx_reap(struct vnet *v)
{
	u16 head;
	u32 len;

	while (virtq_get_used(&v->txq, &head, &len))
		v->tx_busy[v->tx_buf_of[head]] = false;
}

static int tx_free_buffer(struct vnet *v)
{
	for (unsigned i = 0; i < v->txq.size; i++)
		if (!v->tx_busy[i])
			return (int)i;
	return -1;
}

static int vnet_send(struct nic *n, const void *frame, unsigned len)
{
	struct vnet *v = n->priv;
	struct timeout t;
	int b;

	if (!len || len > NIC_FRAME_MAX || dead(v))
		return -1;
	tx_reap(v);
	b = tx_free_buffer(v);
	if (b < 0) {
		timeout_start(&t, TX_WAIT_MS);
		while ((b = tx_free_buffer(v)) < 0 && !timeout_expired(&t)) {
			pause();
			tx_reap(v);
		}
		if (b < 0) {
			printf("virtio-net: the transmit ring stays full\n");
			return -1;
		}
	}
	/* No offloads: an all-zero header (flags 0, GSO_NONE, num_buffers 0 on transmit). */
	memset(tx_bufs[b], 0, VNET_HDR_LEN);
	memcpy(tx_bufs[b] + VNET_HDR_LEN, frame, len);
	struct virtq_buf vb = {tx_bufs[b], VNET_HDR_LEN + len, false};
	int head = virtq_add(&v->txq, &vb, 1, 0);

	if (head < 0)
		return -1; /* cannot happen: a buffer was free, so was a descriptor */
	v->tx_buf_of[head] = (u16)b;
	v->tx_busy[b] = true;
	kick(v, &v->txq);
	return 0;
}

/* Receive buffers go back to the device at once, but it is told in batches (each notification
 * is an exit) and whenever the ring has nothing for us, so it never waits on buffers it was not
 * told of while the program polls. */
static int vnet_recv(struct nic *n, void *buf, unsigned size)
{
	struct vnet *v = n->priv;
	u16 head;
	u32 len;

	if (v->broken)
		return 0;
	while (virtq_get_used(&v->rxq, &head, &len)) {
		u16 b = v->rx_buf_of[head];
		int got = 0;

		/* A written length the buffer cannot hold or without a whole Ethernet header is the
		 * device's fault: the buffer goes back, the frame is dropped. */
		if (len < VNET_HDR_LEN + 14 || len > RX_BUF) {
			v->rx_bad++;
		} else {
			u32 flen = len - VNET_HDR_LEN;

			if (flen > size)
				flen = size;
			memcpy(buf, rx_bufs[b] + VNET_HDR_LEN, flen);
			got = (int)flen;
		}
		if (rx_post(v, b))
			v->rx_unkicked++;
		if (v->rx_unkicked >= RX_KICK_BATCH) {
			kick(v, &v->rxq);
			v->rx_unkicked = 0;
		}
		if (got)
			return got;
	}
	if (v->rx_unkicked) {
		kick(v, &v->rxq);
		v->rx_unkicked = 0;
	}
	return 0;
}

static bool vnet_link_up(struct nic *n)
{
	struct vnet *v = n->priv;

	if (dead(v))
		return false;
	/* Without VIRTIO_NET_F_STATUS the link is assumed up (5.1.4.2). */
	if (!v->has_status)
		return true;
	return virtio_cfg16(&v->dev, VNET_CFG_STATUS) & VNET_S_LINK_UP;
}

/* The MAC, read until two reads agree (a change in the middle cannot tear it). */
static void read_mac(struct vnet *v, u8 *mac)
{
	u8 again[6];

	for (unsigned tries = 0; tries < 16; tries++) {
		for (unsigned i = 0; i < 6; i++)
			mac[i] = virtio_cfg8(&v->dev, VNET_CFG_MAC + i);
		for (unsigned i = 0; i < 6; i++)
			again[i] = virtio_cfg8(&v->dev, VNET_CFG_MAC + i);
		if (!memcmp(mac, again, 6))
			return;
	}
}

int virtio_net_probe(struct nic *n)
{
	struct vnet *v = &vnet;

	memset(v, 0, sizeof(*v));
	if (!virtio_find(VIRTIO_ID_NET, 0, &v->dev)) {
		printf(
		    "virtio-net: no virtio-net function with the modern interface on PCI bus 0\n");
		return -1;
	}
	if (!v->dev.device) {
		printf("virtio-net: the device has no device-specific configuration capability\n");
		return -1;
	}
	if (!virtio_negotiate(&v->dev, 1ull << VNET_F_MAC | 1ull << VNET_F_STATUS)) {
		printf("virtio-net: the device refused the features (VERSION_1, MAC, STATUS)\n");
		return -1;
	}
	if (!virtio_accepted(&v->dev, VNET_F_MAC)) {
		printf("virtio-net: the device offers no MAC address (VIRTIO_NET_F_MAC)\n");
		goto failed;
	}
	v->has_status = virtio_accepted(&v->dev, VNET_F_STATUS);
	if (virtio_num_queues(&v->dev) < 2) {
		printf("virtio-net: the device has %u queues, not a receive and a transmit queue\n",
		       virtio_num_queues(&v->dev));
		goto failed;
	}
	if (!virtio_queue_setup(&v->dev, &v->rxq, VNET_RXQ, QSIZE, rx_ring, VIRTIO_NO_VECTOR) ||
	    !virtio_queue_setup(&v->dev, &v->txq, VNET_TXQ, QSIZE, tx_ring, VIRTIO_NO_VECTOR)) {
		printf("virtio-net: the device refused the receive or transmit queue\n");
		goto failed;
	}
	/* Polled: no used-buffer interrupts (the INTx line stays low, MSI-X stays off). */
	virtq_no_interrupt(&v->rxq, true);
	virtq_no_interrupt(&v->txq, true);
	read_mac(v, n->mac);
	for (u16 b = 0; b < v->rxq.size; b++)
		rx_post(v, b);
	virtio_driver_ok(&v->dev);
	/* Buffer notifications only after DRIVER_OK (3.1.1). */
	virtq_kick(&v->dev, &v->rxq);
	n->name = "virtio-net";
	n->send = vnet_send;
	n->recv = vnet_recv;
	n->link_up = vnet_link_up;
	n->priv = v;
	return 0;
failed:
	virtio_reset(&v->dev);
	return -1;
}
