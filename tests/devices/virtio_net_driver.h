/* A test-side virtio-net driver over virtio_driver.h, doing what Linux's
 * virtio_net does: receive buffers posted per queue, frames sent with their
 * virtio header, control commands with an ack byte, and the network on the
 * test's end of a socketpair given to the device as switch=fd. Also frame
 * builders and an RFC 1071 checksum of its own to check the device's. */
#ifndef OSIO_TEST_VIRTIO_NET_DRIVER_H
#define OSIO_TEST_VIRTIO_NET_DRIVER_H

#include "devices/net/net.h"
#include "tests/devices/virtio_driver.h"

#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <sys/socket.h>
#include <unistd.h>

#define VN_DEVFN   PCI_DEVFN(3, 0)
#define VN_QBASE   0x100000ull	/* queue i at VN_QBASE + i * 64 KiB */
#define VN_RXBUF   0x800000ull	/* receive buffers: 1 MiB per queue pair */
#define VN_TXBUF   0x2800000ull /* transmit: 128 KiB per frame slot, 8 slots */
#define VN_CTRLBUF 0x3800000ull
#define VN_SCRATCH 0x3900000ull /* for tests' own descriptors */
#define VN_RAM	   (64u << 20)
#define VN_MAC	   "52:4f:53:00:00:01"
#define VN_QUEUES  (2 * 16 + 1)

/* Feature bits (VIRTIO 1.2, 5.1.3). */
#define VN_F_CSUM	   0
#define VN_F_GUEST_CSUM	   1
#define VN_F_MTU	   3
#define VN_F_MAC	   5
#define VN_F_GUEST_TSO4	   7
#define VN_F_GUEST_UFO	   10
#define VN_F_HOST_TSO4	   11
#define VN_F_HOST_TSO6	   12
#define VN_F_HOST_ECN	   13
#define VN_F_HOST_UFO	   14
#define VN_F_MRG_RXBUF	   15
#define VN_F_STATUS	   16
#define VN_F_CTRL_VQ	   17
#define VN_F_CTRL_RX	   18
#define VN_F_CTRL_VLAN	   19
#define VN_F_MQ		   22
#define VN_F_CTRL_MAC_ADDR 23
#define VN_F_SPEED_DUPLEX  63
#define VN_BIT(b)	   (1ull << (b))

/* What Linux's virtio_net asks for (of what osio offers). */
#define VN_LINUX_FEATURES                                                                          \
	(VN_BIT(VN_F_CSUM) | VN_BIT(VN_F_GUEST_CSUM) | VN_BIT(VN_F_MTU) | VN_BIT(VN_F_MAC) |       \
	 VN_BIT(VN_F_HOST_TSO4) | VN_BIT(VN_F_HOST_TSO6) | VN_BIT(VN_F_HOST_ECN) |                 \
	 VN_BIT(VN_F_MRG_RXBUF) | VN_BIT(VN_F_STATUS) | VN_BIT(VN_F_CTRL_VQ) |                     \
	 VN_BIT(VN_F_CTRL_RX) | VN_BIT(VN_F_CTRL_VLAN) | VN_BIT(VN_F_MQ) |                         \
	 VN_BIT(VN_F_CTRL_MAC_ADDR) | VN_BIT(VN_F_SPEED_DUPLEX) | VN_BIT(VIRTIO_F_EVENT_IDX) |     \
	 VN_BIT(VIRTIO_F_INDIRECT_DESC))

/* Control commands (5.1.6.5). */
#define VN_CTRL_RX	      0
#define VN_CTRL_RX_PROMISC    0
#define VN_CTRL_RX_ALLMULTI   1
#define VN_CTRL_RX_NOUNI      4
#define VN_CTRL_MAC	      1
#define VN_CTRL_MAC_TABLE_SET 0
#define VN_CTRL_MAC_ADDR_SET  1
#define VN_CTRL_VLAN	      2
#define VN_CTRL_VLAN_ADD      0
#define VN_CTRL_VLAN_DEL      1
#define VN_CTRL_MQ	      4
#define VN_CTRL_MQ_PAIRS_SET  0
#define VN_OK		      0
#define VN_ERR		      1

struct vn {
	struct harness h;
	struct vdrv d;
	struct vdrv_queue q[VN_QUEUES];
	unsigned pairs; /* set up */
	unsigned ctrl;	/* control queue index, 0: none */
	unsigned hl;	/* header bytes */
	bool legacy;
	int sock;			  /* the network's end */
	uint64_t rx_gpa[VN_QUEUES][1024]; /* the buffer of each receive head */
	unsigned rx_slot[16];
	unsigned tx_slot;
};

static inline struct net_port *vn_port(struct vn *v)
{
	struct net_port *p = net_port_find(&v->h.m, "net0");
	assert_non_null(p);
	return p;
}

static inline struct net_port_stats vn_stats(struct vn *v)
{
	struct net_port_stats s;
	net_port_stats(vn_port(v), &s);
	return s;
}

/* The machine with the adapter (args appended to the mac and switch) and
 * the device found; nothing negotiated yet. */
static inline struct vn *vn_create(const char *args)
{
	struct vn *v = calloc(1, sizeof(*v));
	int sv[2];
	char a[512];

	assert_non_null(v);
	harness_init(&v->h, VN_RAM);
	harness_add(&v->h, "i440fx", "i440fx", NULL);
	harness_add(&v->h, "piix3", "piix3", NULL);
	assert_int_equal(socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sv), 0);
	v->sock = sv[0];
	/* Room for a whole ring of frames on the device's side. */
	int big = 1 << 20;
	setsockopt(sv[1], SOL_SOCKET, SO_SNDBUF, &big, sizeof(big));
	setsockopt(sv[0], SOL_SOCKET, SO_RCVBUF, &big, sizeof(big));
	snprintf(a, sizeof(a), "slot=3,mac=" VN_MAC ",switch=fd,fd=%d%s%s", sv[1],
		 args && *args ? "," : "", args ? args : "");
	harness_add(&v->h, "virtio-net", "net0", a);
	vdrv_init(&v->d, &v->h, VN_DEVFN);
	return v;
}

static inline void vn_free(struct vn *v)
{
	harness_fini(&v->h);
	close(v->sock);
	free(v);
}

/* Linux's probe over the modern interface: features, MSI-X (config on 0,
 * queue i on i + 1), `pairs` queue pairs and the control queue when
 * negotiated, DRIVER_OK. Returns whether FEATURES_OK held. */
static inline bool vn_start(struct vn *v, uint64_t wanted, unsigned pairs)
{
	if (!vdrv_negotiate(&v->d, wanted))
		return false;
	uint64_t f = v->d.accepted;
	unsigned n = 2 * pairs;
	v->pairs = pairs;
	v->hl = 12;
	v->ctrl = 0;
	if (f & VN_BIT(VN_F_CTRL_VQ)) {
		v->ctrl = f & VN_BIT(VN_F_MQ) ? n : 2;
		n = v->ctrl + 1;
	}
	vdrv_msix_enable(&v->d, v->d.msix_size);
	vdrv_cc_write(&v->d, VDRV_CC_MSIX, 0, 2);
	for (unsigned i = 0; i < n; i++) {
		if (i >= 2 * pairs && i != v->ctrl)
			continue;
		assert_true(vdrv_queue_setup(&v->d, &v->q[i], (uint16_t)i, 0,
					     VN_QBASE + i * 0x10000ull, (uint16_t)(i + 1)));
	}
	vdrv_driver_ok(&v->d);
	return true;
}

/* Posts n receive buffers of len bytes (one writable descriptor each, as
 * Linux's mergeable and small buffers) on the receive queue of pair p. */
static inline void vn_rx_post(struct vn *v, unsigned p, unsigned n, uint32_t len)
{
	struct vdrv_queue *q = &v->q[2 * p];
	assert_true(len <= 4096);
	for (unsigned i = 0; i < n; i++) {
		uint64_t gpa = VN_RXBUF + p * 0x100000ull + (v->rx_slot[p]++ % 256) * 4096ull;
		struct vdrv_buf b = {gpa, len, true};
		memset(hram(&v->h, gpa, len), 0xee, len);
		int head = vdrv_add(&v->d, q, &b, 1, 0);
		assert_true(head >= 0);
		v->rx_gpa[2 * p][head] = gpa;
	}
	if (v->legacy)
		vdrv_leg_kick(&v->d, q);
	else
		vdrv_kick(&v->d, q);
}

/* The next used receive buffer of pair p: its guest memory and length. */
static inline uint8_t *vn_rx_used(struct vn *v, unsigned p, uint32_t *len)
{
	uint16_t head;
	if (!vdrv_get_used(&v->d, &v->q[2 * p], &head, len))
		return NULL;
	return hram(&v->h, v->rx_gpa[2 * p][head], 4096);
}

/* The network sends a frame toward the guest. */
static inline void vn_net_send(struct vn *v, const void *frame, size_t len)
{
	assert_int_equal(send(v->sock, frame, len, MSG_DONTWAIT), (ssize_t)len);
}

/* A frame the guest sent, within ms (the loop runs meanwhile); -1 if none. */
static inline ssize_t vn_net_recv(struct vn *v, void *buf, size_t size, unsigned ms)
{
	for (unsigned t = 0; t <= ms; t++) {
		ssize_t n = recv(v->sock, buf, size, MSG_DONTWAIT);
		if (n >= 0)
			return n;
		harness_run(&v->h, 1);
	}
	return -1;
}

static inline void vn_kick(struct vn *v, struct vdrv_queue *q)
{
	if (v->legacy)
		vdrv_leg_kick(&v->d, q);
	else
		vdrv_kick(&v->d, q);
}

/* Sends hdr (v->hl bytes) and the frame as two descriptors (as a legacy
 * Linux without ANY_LAYOUT) from transmit queue of pair p and waits until
 * the device used the chain. */
static inline void vn_tx(struct vn *v, unsigned p, const uint8_t *hdr, const void *frame,
			 size_t len)
{
	struct vdrv_queue *q = &v->q[2 * p + 1];
	uint64_t gpa = VN_TXBUF + (v->tx_slot++ % 8) * 0x20000ull;
	assert_true(64 + len <= 0x20000);
	memcpy(hram(&v->h, gpa, v->hl), hdr, v->hl);
	memcpy(hram(&v->h, gpa + 64, len), frame, len);
	struct vdrv_buf b[2] = {{gpa, v->hl, false}, {gpa + 64, (uint32_t)len, false}};
	assert_true(vdrv_add(&v->d, q, b, 2, 0) >= 0);
	vn_kick(v, q);
	assert_true(vdrv_wait_used(&v->d, q, 1, 2000));
	uint16_t head;
	uint32_t used;
	assert_true(vdrv_get_used(&v->d, q, &head, &used));
	assert_int_equal(used, 0);
}

/* A header: flags, gso type, hdr_len, gso_size, csum_start, csum_offset. */
static inline void vn_hdr(uint8_t h[12], uint8_t flags, uint8_t gso, uint16_t hdr_len,
			  uint16_t gso_size, uint16_t csum_start, uint16_t csum_offset)
{
	memset(h, 0, 12);
	h[0] = flags;
	h[1] = gso;
	memcpy(h + 2, &hdr_len, 2);
	memcpy(h + 4, &gso_size, 2);
	memcpy(h + 6, &csum_start, 2);
	memcpy(h + 8, &csum_offset, 2);
}

/* Runs a control command; returns the ack. */
static inline uint8_t vn_ctrl(struct vn *v, uint8_t cls, uint8_t cmd, const void *data, size_t len)
{
	struct vdrv_queue *q = &v->q[v->ctrl];
	uint8_t *p = hram(&v->h, VN_CTRLBUF, 0x10000);
	assert_true(len < 0x8000);
	p[0] = cls;
	p[1] = cmd;
	if (len)
		memcpy(p + 16, data, len);
	p[0x8000] = 0xaa;
	struct vdrv_buf b[3] = {{VN_CTRLBUF, 2, false},
				{VN_CTRLBUF + 16, (uint32_t)len, false},
				{VN_CTRLBUF + 0x8000, 1, true}};
	struct vdrv_buf nodata[2] = {b[0], b[2]};
	assert_true(vdrv_add(&v->d, q, len ? b : nodata, len ? 3 : 2, 0) >= 0);
	vn_kick(v, q);
	assert_true(vdrv_wait_used(&v->d, q, 1, 2000));
	uint16_t head;
	uint32_t used;
	assert_true(vdrv_get_used(&v->d, q, &head, &used));
	assert_int_equal(used, 1);
	return p[0x8000];
}

/* --- frames -------------------------------------------------------------- */

static inline uint32_t vn_sum(uint32_t s, const uint8_t *p, size_t n)
{
	for (size_t i = 0; i + 1 < n; i += 2)
		s += (uint32_t)(p[i] << 8 | p[i + 1]);
	if (n & 1)
		s += (uint32_t)p[n - 1] << 8;
	return s;
}

static inline uint16_t vn_fold(uint32_t s)
{
	while (s >> 16)
		s = (s & 0xffff) + (s >> 16);
	return (uint16_t)s;
}

static inline void vn_put16(uint8_t *p, uint16_t v)
{
	p[0] = (uint8_t)(v >> 8);
	p[1] = (uint8_t)v;
}

static inline uint16_t vn_get16(const uint8_t *p)
{
	return (uint16_t)(p[0] << 8 | p[1]);
}

static inline uint32_t vn_get32(const uint8_t *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

/* Whether the IPv4 frame's TCP or UDP checksum (at l4) verifies. */
static inline bool vn_l4_csum_ok(const uint8_t *f, size_t len)
{
	const uint8_t *ip = f + 14;
	size_t ihl = (size_t)(ip[0] & 15) * 4;
	size_t l4len = vn_get16(ip + 2) - ihl;
	uint32_t s = vn_sum(0, ip + 12, 8) + ip[9] + (uint32_t)l4len;
	(void)len;
	return vn_fold(vn_sum(s, ip + ihl, l4len)) == 0xffff;
}

static inline bool vn_ip_csum_ok(const uint8_t *f)
{
	return vn_fold(vn_sum(0, f + 14, (size_t)(f[14] & 15) * 4)) == 0xffff;
}

/* An IPv4 frame with a UDP (proto 17) or TCP (6) segment of payload bytes
 * (byte i of the payload is seed + i) from src to dst MAC. With `partial`
 * the transport checksum holds only the pseudo-header's sum (what a driver
 * leaves with NEEDS_CSUM); otherwise it is complete. Returns the length. */
static inline size_t vn_frame(uint8_t *f, const uint8_t *dst, const uint8_t *src, uint8_t proto,
			      uint16_t sport, uint16_t dport, size_t payload, uint8_t seed,
			      bool partial)
{
	size_t l4h = proto == 6 ? 20 : 8, l4len = l4h + payload;
	uint8_t *ip = f + 14, *l4 = ip + 20;

	memcpy(f, dst, 6);
	memcpy(f + 6, src, 6);
	vn_put16(f + 12, 0x0800);
	memset(ip, 0, 20);
	ip[0] = 0x45;
	vn_put16(ip + 2, (uint16_t)(20 + l4len));
	vn_put16(ip + 4, 0x1234);
	ip[8] = 64;
	ip[9] = proto;
	static const uint8_t a[8] = {10, 0, 2, 15, 10, 0, 2, 2};
	memcpy(ip + 12, a, 8);
	vn_put16(ip + 10, (uint16_t)~vn_fold(vn_sum(0, ip, 20)));
	memset(l4, 0, l4h);
	vn_put16(l4, sport);
	vn_put16(l4 + 2, dport);
	if (proto == 6) {
		vn_put16(l4 + 4, 0x1000); /* seq 0x10000000 */
		l4[12] = 5 << 4;
		l4[13] = 0x18; /* PSH ACK */
		vn_put16(l4 + 14, 0xffff);
	} else {
		vn_put16(l4 + 4, (uint16_t)l4len);
	}
	for (size_t i = 0; i < payload; i++)
		l4[l4h + i] = (uint8_t)(seed + i);
	uint32_t ps = vn_sum(0, ip + 12, 8) + proto + (uint32_t)l4len;
	size_t co = proto == 6 ? 16 : 6;
	if (partial)
		vn_put16(l4 + co, vn_fold(ps));
	else
		vn_put16(l4 + co, (uint16_t)~vn_fold(vn_sum(ps, l4, l4len)));
	return 14 + 20 + l4len;
}

static const uint8_t vn_mac[6] = {0x52, 0x4f, 0x53, 0, 0, 1};
static const uint8_t vn_peer[6] = {0x52, 0x55, 0x0a, 0, 2, 2};

#endif
