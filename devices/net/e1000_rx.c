/* The e1000's receive side: address filtering (RCTL, RAL/RAH, the
 * multicast table, VLAN filter), VLAN stripping, checksum verification
 * (RXCSUM), DMA of a frame into one or more receive descriptors, the
 * RDTR/RADV delay timers and the "no buffers" handshake with the port. */
#include "devices/net/e1000_int.h"
#include "devices/net/offload.h"
#include "hypervisor/bytes.h"

#include <errno.h>
#include <string.h>
#include <zlib.h>

#define ETH_P_IPV4 0x0800
#define ETH_P_IPV6 0x86dd

static uint16_t get_be16(const uint8_t *p)
{
	return (uint16_t)(p[0] << 8 | p[1]);
}

/* Receive buffer size (RCTL.BSIZE, scaled by 16 with BSEX). */
static uint32_t rx_buf_size(uint32_t rctl)
{
	unsigned bs = (rctl >> RCTL_BSIZE_SHIFT) & 3;
	if (rctl & RCTL_BSEX && bs)
		return 16384u >> (bs - 1);
	return 2048u >> bs;
}

static bool mac_equal(const uint8_t *a, uint32_t lo, uint32_t hi)
{
	uint8_t b[NET_MAC_LEN];
	put_le32(b, lo);
	put_le16(b + 4, (uint16_t)hi);
	return !memcmp(a, b, NET_MAC_LEN);
}

/* Whether the destination address passes the receive filters. */
static bool rx_accept(struct e1000 *e, const uint8_t *f)
{
	uint32_t rctl = REG(e, E1000_RCTL);
	static const uint8_t bcast[NET_MAC_LEN] = {0xff, 0xff, 0xff, 0xff, 0xff, 0xff};
	bool multi = f[0] & 1;
	if (rctl & RCTL_UPE && !multi)
		return true;
	if (multi && rctl & RCTL_MPE)
		return true;
	if (!memcmp(f, bcast, NET_MAC_LEN))
		return (rctl & RCTL_BAM) != 0;
	for (unsigned i = 0; i < 16; i++) {
		uint32_t hi = REG(e, E1000_RA + 8 * i + 4);
		if (hi & RAH_AV && mac_equal(f, REG(e, E1000_RA + 8 * i), hi))
			return true;
	}
	if (!multi)
		return false;
	/* The multicast table: 12 bits of the address, where RCTL.MO says. */
	static const unsigned shift[4] = {4, 3, 2, 0};
	unsigned s = shift[(rctl >> RCTL_MO_SHIFT) & 3];
	unsigned hash = ((unsigned)f[4] >> s | (unsigned)f[5] << (8 - s)) & 0xfff;
	return REG(e, E1000_MTA + 4 * (hash >> 5)) >> (hash & 31) & 1;
}

static bool vlan_tagged(struct e1000 *e, const uint8_t *f, size_t len)
{
	return len >= NET_ETH_HLEN + E1000_VLAN_HLEN &&
	       get_be16(f + 2 * NET_MAC_LEN) == (uint16_t)REG(e, E1000_VET);
}

static uint32_t pseudo4(const uint8_t *ip, uint8_t proto, size_t len)
{
	return net_csum_add(0, ip + 12, 8) + proto + (uint32_t)len;
}

/* Verifies the IPv4 header and TCP/UDP checksums RXCSUM asks for, setting
 * the descriptor's status and error bits. */
static void rx_csum(struct e1000 *e, const uint8_t *f, size_t len, bool valid, uint8_t *status,
		    uint8_t *errors)
{
	uint32_t rxcsum = REG(e, E1000_RXCSUM);
	if (!(rxcsum & (RXCSUM_IPOFL | RXCSUM_TUOFL))) {
		*status |= RXSTA_IXSM;
		return;
	}
	size_t l3 = NET_ETH_HLEN;
	uint16_t type = get_be16(f + 12);
	if (vlan_tagged(e, f, len)) {
		l3 += E1000_VLAN_HLEN;
		type = get_be16(f + 16);
	}
	const uint8_t *ip = f + l3;
	uint8_t proto;
	size_t l4, l4len;
	uint32_t sum;
	if (type == ETH_P_IPV4 && len >= l3 + 20 && ip[0] >> 4 == 4) {
		size_t ihl = (size_t)(ip[0] & 0xf) * 4;
		size_t tot = get_be16(ip + 2);
		if (ihl < 20 || tot < ihl || l3 + tot > len)
			return;
		if (rxcsum & RXCSUM_IPOFL) {
			*status |= RXSTA_IPCS;
			if (!valid && net_csum_fold(net_csum_add(0, ip, ihl)))
				*errors |= RXERR_IPE;
		}
		if (get_be16(ip + 6) & 0x3fff)
			return; /* a fragment: no TCP/UDP checksum to check */
		proto = ip[9];
		l4 = l3 + ihl;
		l4len = tot - ihl;
		sum = pseudo4(ip, proto, l4len);
	} else if (type == ETH_P_IPV6 && len >= l3 + 40 && ip[0] >> 4 == 6) {
		proto = ip[6];
		l4 = l3 + 40;
		l4len = get_be16(ip + 4);
		if (l4 + l4len > len)
			return;
		sum = net_csum_add(0, ip + 8, 32) + proto + (uint32_t)l4len;
	} else {
		return;
	}
	if (!(rxcsum & RXCSUM_TUOFL))
		return;
	if (proto == IPPROTO_TCP ? l4len < 20 : proto == IPPROTO_UDP ? l4len < 8 : true)
		return;
	if (proto == IPPROTO_UDP && type == ETH_P_IPV4 && !get_be16(f + l4 + 6))
		return; /* UDP over IPv4 without a checksum */
	*status |= RXSTA_TCPCS;
	if (!valid && net_csum_fold(net_csum_add(sum, f + l4, l4len)))
		*errors |= RXERR_TCPE;
}

static void count_received(struct e1000 *e, const uint8_t *f, size_t size)
{
	static const uint8_t bcast[NET_MAC_LEN] = {0xff, 0xff, 0xff, 0xff, 0xff, 0xff};
	e1000_stat_add(e, ST_GPRC, 1);
	e1000_stat_add(e, ST_TPR, 1);
	e1000_stat_add64(e, ST_GORCL, size);
	e1000_stat_add64(e, ST_TORL, size);
	if (!memcmp(f, bcast, NET_MAC_LEN))
		e1000_stat_add(e, ST_BPRC, 1);
	else if (f[0] & 1)
		e1000_stat_add(e, ST_MPRC, 1);
	unsigned bin = size <= 64     ? 0
		       : size <= 127  ? 1
		       : size <= 255  ? 2
		       : size <= 511  ? 3
		       : size <= 1023 ? 4
				      : 5;
	e1000_stat_add(e, ST_PRC64 + bin, 1);
}

/* RXT0 now, or when the delay timers say. */
static void rx_interrupt(struct e1000 *e)
{
	uint32_t rdtr = REG(e, E1000_RDTR) & 0xffff, radv = REG(e, E1000_RADV) & 0xffff;
	if (!rdtr) {
		e1000_rx_timer_fire(e);
		return;
	}
	/* The packet timer restarts with every frame; the absolute one runs
	 * from the first frame it has not reported. */
	e1000_timer_arm(e, E1000_T_RDTR, (uint64_t)rdtr * E1000_DELAY_NS, true);
	if (radv)
		e1000_timer_arm(e, E1000_T_RADV, (uint64_t)radv * E1000_DELAY_NS, false);
}

void e1000_rx_timer_fire(struct e1000 *e)
{
	e1000_timer_cancel(e, E1000_T_RDTR);
	e1000_timer_cancel(e, E1000_T_RADV);
	e1000_set_ics(e, ICR_RXT0);
}

/* Free descriptors between RDH and RDT, or -1 for a ring the guest set up
 * wrong. */
static long rx_free(struct e1000 *e, uint32_t *n)
{
	*n = REG(e, E1000_RDLEN) / E1000_DESC_SIZE;
	uint32_t head = REG(e, E1000_RDH), tail = REG(e, E1000_RDT);
	if (!*n || head >= *n || tail >= *n)
		return -1;
	return (long)((tail + *n - head) % *n);
}

bool e1000_rx_should_wake(struct e1000 *e)
{
	if (!e->rx_blocked)
		return false;
	uint32_t n;
	if ((REG(e, E1000_RCTL) & RCTL_EN) && rx_free(e, &n) == 0)
		return false;
	e->rx_blocked = false;
	return true;
}

/* Writes the frame f (len bytes, FCS included) into descriptors from RDH.
 * The caller checked that enough are free. */
struct rx_meta {
	uint8_t status, errors;
	uint16_t special, csum;
};

static void rx_dma(struct e1000 *e, const uint8_t *f, size_t len, uint32_t n, uint32_t bufsize,
		   const struct rx_meta *meta)
{
	uint64_t base = (uint64_t)REG(e, E1000_RDBAH) << 32 | REG(e, E1000_RDBAL);
	size_t done = 0;
	do {
		uint32_t head = REG(e, E1000_RDH);
		uint64_t addr = base + (uint64_t)head * E1000_DESC_SIZE;
		uint8_t d[E1000_DESC_SIZE];
		if (guest_read(&e->m->mem, addr, d, 8) < 0) {
			net_port_guest_error(e->port);
			return; /* the ring is outside RAM: nothing to write back to */
		}
		size_t chunk = len - done < bufsize ? len - done : bufsize;
		bool last = done + chunk == len;
		uint8_t st = RXSTA_DD, err = 0;
		if (guest_write(&e->m->mem, get_le64(d), f + done, chunk) < 0) {
			/* A buffer outside RAM: the frame ends here, in error. */
			net_port_guest_error(e->port);
			chunk = 0;
			last = true;
			err = RXERR_RXE;
		}
		if (last) {
			st |= RXSTA_EOP | meta->status;
			err |= meta->errors;
		}
		put_le16(d + 8, (uint16_t)chunk);
		put_le16(d + 10, last ? meta->csum : 0);
		d[12] = st;
		d[13] = err;
		put_le16(d + 14, last ? meta->special : 0);
		if (guest_write(&e->m->mem, addr + 8, d + 8, 8) < 0)
			net_port_guest_error(e->port);
		REG(e, E1000_RDH) = (head + 1) % n;
		done += chunk;
		if (last)
			return;
	} while (done < len);
}

static int rx_frame(struct e1000 *e, const struct net_hdr *hdr, uint8_t *f, size_t len)
{
	uint32_t rctl = REG(e, E1000_RCTL);
	if (!(rctl & RCTL_EN) || !e1000_dma_ok(e) || !e->link_up)
		return 0; /* the receiver is off: the frame is lost */
	if (!rx_accept(e, f))
		return 0;
	struct rx_meta meta = {0};
	if (vlan_tagged(e, f, len)) {
		uint16_t tci = get_be16(f + 14);
		unsigned vid = tci & 0xfff;
		if (rctl & RCTL_VFE && !(REG(e, E1000_VFTA + 4 * (vid >> 5)) >> (vid & 31) & 1))
			return 0;
		if (REG(e, E1000_CTRL) & CTRL_VME) {
			memmove(f + 2 * NET_MAC_LEN, f + 2 * NET_MAC_LEN + E1000_VLAN_HLEN,
				len - 2 * NET_MAC_LEN - E1000_VLAN_HLEN);
			len -= E1000_VLAN_HLEN;
			meta.special = tci;
			meta.status |= RXSTA_VP;
		}
	}
	if (len < E1000_MIN_FRAME) {
		memset(f + len, 0, E1000_MIN_FRAME - len);
		len = E1000_MIN_FRAME;
	}
	if (!(rctl & RCTL_LPE) && len > NET_FRAME_MAX) {
		e1000_stat_add(e, ST_ROC, 1);
		return 0;
	}
	rx_csum(e, f, len, hdr && hdr->flags & NET_HDR_F_DATA_VALID, &meta.status, &meta.errors);
	/* The packet checksum: the one's-complement sum from RXCSUM.PCSS. */
	size_t pcss = REG(e, E1000_RXCSUM) & RXCSUM_PCSS_MASK;
	if (pcss < len)
		meta.csum = (uint16_t)~net_csum_fold(net_csum_add(0, f + pcss, len - pcss));
	size_t size = len + E1000_FCS_LEN;
	if (!(rctl & RCTL_SECRC))
		put_le32(f + len, (uint32_t)crc32(0, f, (uInt)len)); /* the FCS: drivers strip it */
	else
		size = len;
	uint32_t n, bufsize = rx_buf_size(rctl);
	long avail = rx_free(e, &n);
	if (avail < 0) {
		net_port_guest_error(e->port);
		return 0;
	}
	uint32_t need = (uint32_t)((size + bufsize - 1) / bufsize);
	if (need > n - 1) {
		e1000_stat_add(e, ST_MPC, 1); /* it can never fit this ring */
		return 0;
	}
	if ((uint32_t)avail < need) {
		e1000_stat_add(e, ST_RNBC, 1);
		e->rx_blocked = true;
		e1000_set_ics(e, ICR_RXO | ICR_RXDMT0);
		return -EAGAIN;
	}
	rx_dma(e, f, size, n, bufsize, &meta);
	count_received(e, f, len + E1000_FCS_LEN);
	uint32_t causes = 0;
	long left = rx_free(e, &n);
	unsigned rdmts = (rctl >> RCTL_RDMTS_SHIFT) & 3;
	if (left >= 0 && rdmts < 3 && (uint32_t)left <= n >> (rdmts + 1))
		causes |= ICR_RXDMT0;
	if (causes)
		e1000_set_ics(e, causes);
	rx_interrupt(e);
	return 0;
}

int e1000_receive(void *opaque, const struct net_hdr *hdr, const struct iovec *iov, unsigned iovcnt,
		  size_t len)
{
	struct e1000 *e = opaque;
	if (len < NET_ETH_HLEN || len > E1000_RX_MAX)
		return 0;
	/* Flattened outside the lock; rx_buf is only used by the port's one
	 * delivering thread. */
	size_t off = 0;
	for (unsigned i = 0; i < iovcnt && off < len; i++) {
		size_t n = iov[i].iov_len < len - off ? iov[i].iov_len : len - off;
		memcpy(e->rx_buf + off, iov[i].iov_base, n);
		off += n;
	}
	if (off < len)
		return 0;
	pthread_mutex_lock(&e->lock);
	int r = rx_frame(e, hdr, e->rx_buf, len);
	pthread_mutex_unlock(&e->lock);
	return r;
}
