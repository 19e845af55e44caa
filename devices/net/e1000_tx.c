/* The e1000's transmit side: walks the descriptor ring from TDH to TDT,
 * gathers each packet across its data descriptors (legacy, or extended
 * with a context descriptor's checksum and TCP segmentation settings),
 * inserts the checksums the hardware would, and hands the frame with its
 * remaining offload work (struct net_hdr) to the port. */
#include "devices/net/e1000_int.h"
#include "devices/net/offload.h"
#include "hypervisor/bytes.h"

#include <string.h>

void e1000_tx_reset(struct e1000 *e)
{
	memset(&e->ctx, 0, sizeof(e->ctx));
	e->tx_len = 0;
	e->tx_first = true;
	e->tx_drop = false;
}

/* The Internet checksum over [start, end) of buf, stored big-endian at
 * off; false if the offsets lie outside len. As the hardware does, the
 * field's own content (0, or the pseudo-header's sum the driver put
 * there) is part of the sum. */
static bool csum_insert(uint8_t *buf, size_t len, size_t start, size_t end, size_t off)
{
	if (start >= end || end > len || off + 2 > len)
		return false;
	uint16_t c = net_csum_fold(net_csum_add(0, buf + start, end - start));
	put_be16(buf + off, c);
	return true;
}

/* The frame's offload work for the port: the IP header's length made that
 * of the whole packet, and the pseudo-header's sum over the whole TCP/UDP
 * length in the checksum field, as Linux's segmentation expects. false
 * when the context does not describe the packet. */
static bool tso_prepare(struct e1000 *e, uint8_t *p, size_t len, struct net_hdr *h)
{
	const struct e1000_tx_ctx *c = &e->ctx;
	bool v4 = c->tucmd & TUCMD_IP, tcp = c->tucmd & TUCMD_TCP;
	size_t ip = c->ipcss, l4 = c->tucss;
	if (!c->mss || c->hdr_len >= len || l4 >= c->hdr_len || c->tucso < l4 ||
	    (size_t)c->tucso + 2 > c->hdr_len || ip + (v4 ? 20 : 40) > l4)
		return false;
	if (!tcp && !v4)
		return false; /* UDP fragmentation is IPv4's */
	uint32_t sum;
	if (v4) {
		put_be16(p + ip + 2, (uint16_t)(len - ip));
		if (e->tx_popts & POPTS_IXSM && (size_t)c->ipcso + 2 <= l4) {
			put_be16(p + c->ipcso, 0);
			csum_insert(p, len, ip, c->ipcse ? (size_t)c->ipcse + 1 : l4, c->ipcso);
		}
		sum = net_csum_add(0, p + ip + 12, 8);
	} else {
		put_be16(p + ip + 4, (uint16_t)(len - ip - 40));
		sum = net_csum_add(0, p + ip + 8, 32);
	}
	sum += tcp ? IPPROTO_TCP : IPPROTO_UDP;
	sum += (uint32_t)(len - l4);
	put_be16(p + c->tucso, (uint16_t)~net_csum_fold(sum));
	*h = (struct net_hdr){
	    .flags = NET_HDR_F_NEEDS_CSUM,
	    .gso_type = tcp ? (v4 ? NET_HDR_GSO_TCPV4 : NET_HDR_GSO_TCPV6) : NET_HDR_GSO_UDP,
	    .hdr_len = c->hdr_len,
	    .gso_size = c->mss,
	    .csum_start = (uint16_t)l4,
	    .csum_offset = (uint16_t)(c->tucso - l4),
	};
	return true;
}

/* Checksums of a packet without segmentation. Returns whether h holds a
 * checksum for the port to finish. */
static bool csum_prepare(struct e1000 *e, uint8_t *p, size_t len, struct net_hdr *h)
{
	if (e->tx_legacy) {
		if (e->tx_cmd & TXCMD_IC)
			csum_insert(p, len, e->tx_css, len, e->tx_cso);
		return false;
	}
	const struct e1000_tx_ctx *c = &e->ctx;
	if (e->tx_popts & POPTS_IXSM)
		csum_insert(p, len, c->ipcss, c->ipcse ? (size_t)c->ipcse + 1 : len, c->ipcso);
	if (!(e->tx_popts & POPTS_TXSM))
		return false;
	size_t end = c->tucse ? (size_t)c->tucse + 1 : len;
	if (end < len || c->tucso < c->tucss || (size_t)c->tucso + 2 > len || c->tucss >= len) {
		/* Not a sum to the frame's end: do it here. */
		csum_insert(p, len, c->tucss, end, c->tucso);
		return false;
	}
	*h = (struct net_hdr){
	    .flags = NET_HDR_F_NEEDS_CSUM,
	    .csum_start = c->tucss,
	    .csum_offset = (uint16_t)(c->tucso - c->tucss),
	};
	return true;
}

static void count_sent(struct e1000 *e, const uint8_t *p, size_t len, unsigned segs, size_t hdr_len)
{
	uint64_t bytes = len + (uint64_t)(segs - 1) * hdr_len + (uint64_t)segs * E1000_FCS_LEN;
	e1000_stat_add(e, ST_GPTC, segs);
	e1000_stat_add(e, ST_TPT, segs);
	e1000_stat_add64(e, ST_GOTCL, bytes);
	e1000_stat_add64(e, ST_TOTL, bytes);
	static const uint8_t bcast[NET_MAC_LEN] = {0xff, 0xff, 0xff, 0xff, 0xff, 0xff};
	if (!memcmp(p, bcast, NET_MAC_LEN))
		e1000_stat_add(e, ST_BPTC, segs);
	else if (p[0] & 1)
		e1000_stat_add(e, ST_MPTC, segs);
	if (segs == 1) {
		size_t size = len + E1000_FCS_LEN;
		unsigned bin = size <= 64     ? 0
			       : size <= 127  ? 1
			       : size <= 255  ? 2
			       : size <= 511  ? 3
			       : size <= 1023 ? 4
					      : 5;
		e1000_stat_add(e, ST_PTC64 + bin, 1);
	}
}

/* The packet in tx_buf is complete: offloads, VLAN tag, padding, send.
 * Drops the lock while the port has it. */
static void tx_send(struct e1000 *e, uint8_t eop_cmd, uint16_t special)
{
	uint8_t *p = e->tx_buf;
	size_t len = e->tx_len;
	struct net_hdr h = {0};
	bool offload;
	unsigned segs = 1;
	if (len < NET_ETH_HLEN)
		goto bad;
	if (e->tx_tse) {
		if (!tso_prepare(e, p, len, &h)) {
			e1000_stat_add(e, ST_TSCTFC, 1);
			goto bad;
		}
		e1000_stat_add(e, ST_TSCTC, 1);
		segs = (unsigned)((len - h.hdr_len + h.gso_size - 1) / h.gso_size);
		offload = true;
	} else {
		if (len > NET_FRAME_MAX)
			goto bad;
		offload = csum_prepare(e, p, len, &h);
		if (len < E1000_MIN_FRAME && REG(e, E1000_TCTL) & (1u << 3)) {
			/* TCTL.PSP: short packets are padded */
			memset(p + len, 0, E1000_MIN_FRAME - len);
			len = E1000_MIN_FRAME;
		}
	}
	size_t hdr_len = h.hdr_len;
	if (eop_cmd & TXCMD_VLE && REG(e, E1000_CTRL) & CTRL_VME) {
		memmove(p + 2 * NET_MAC_LEN + E1000_VLAN_HLEN, p + 2 * NET_MAC_LEN,
			len - 2 * NET_MAC_LEN);
		put_be16(p + 2 * NET_MAC_LEN, (uint16_t)REG(e, E1000_VET));
		put_be16(p + 2 * NET_MAC_LEN + 2, special);
		len += E1000_VLAN_HLEN;
		if (offload) {
			h.csum_start += E1000_VLAN_HLEN;
			if (h.hdr_len)
				h.hdr_len += E1000_VLAN_HLEN;
		}
	}
	struct iovec iov = {.iov_base = p, .iov_len = len};
	struct net_port *port = e->port;
	pthread_mutex_unlock(&e->lock);
	int r = net_port_send(port, offload ? &h : NULL, &iov, 1);
	pthread_mutex_lock(&e->lock);
	if (r == 0)
		count_sent(e, p, len, segs, hdr_len);
	return;
bad:
	net_port_guest_error(e->port);
}

static void tx_context(struct e1000 *e, const uint8_t *d)
{
	struct e1000_tx_ctx *c = &e->ctx;
	c->ipcss = d[0];
	c->ipcso = d[1];
	c->ipcse = get_le16(d + 2);
	c->tucss = d[4];
	c->tucso = d[5];
	c->tucse = get_le16(d + 6);
	c->paylen = get_le32(d + 8) & 0xfffff;
	c->tucmd = d[11];
	c->hdr_len = d[13];
	c->mss = get_le16(d + 14);
}

/* One data descriptor (legacy or extended) of a packet. */
static void tx_data(struct e1000 *e, const uint8_t *d, bool legacy)
{
	uint32_t lower = get_le32(d + 8);
	uint8_t cmd = (uint8_t)(lower >> 24);
	uint32_t len = legacy ? lower & 0xffff : lower & 0xfffff;
	if (e->tx_first) {
		e->tx_first = false;
		e->tx_len = 0;
		e->tx_drop = false;
		e->tx_legacy = legacy;
		e->tx_cmd = cmd;
		e->tx_popts = legacy ? 0 : d[13];
		e->tx_tse = !legacy && (cmd & TXCMD_TSE);
		e->tx_cso = d[10];
		e->tx_css = d[13];
	}
	if (!e->tx_drop && len) {
		size_t room = E1000_TX_BUF - E1000_VLAN_HLEN - e->tx_len;
		if (len > room || (!e->tx_tse && e->tx_len + len > NET_FRAME_MAX) ||
		    guest_read(&e->m->mem, get_le64(d), e->tx_buf + e->tx_len, len) < 0) {
			/* Too long, or a buffer outside RAM: the packet is lost. */
			e->tx_drop = true;
			net_port_guest_error(e->port);
		} else {
			e->tx_len += len;
		}
	}
	if (cmd & TXCMD_EOP) {
		if (!e->tx_drop)
			tx_send(e, cmd, get_le16(d + 14));
		e->tx_first = true;
	}
}

/* Walks the ring once (until TDH meets TDT). */
static void tx_ring(struct e1000 *e)
{
	bool reported = false, delayed = false, processed = false;
	for (;;) {
		if (!(REG(e, E1000_TCTL) & TCTL_EN) || !e1000_dma_ok(e))
			break;
		uint32_t n = REG(e, E1000_TDLEN) / E1000_DESC_SIZE;
		uint32_t head = REG(e, E1000_TDH), tail = REG(e, E1000_TDT);
		if (head == tail)
			break;
		if (!n || head >= n || tail >= n) {
			net_port_guest_error(e->port); /* the hardware stops */
			break;
		}
		uint64_t addr = ((uint64_t)REG(e, E1000_TDBAH) << 32 | REG(e, E1000_TDBAL)) +
				(uint64_t)head * E1000_DESC_SIZE;
		uint8_t d[E1000_DESC_SIZE];
		if (guest_read(&e->m->mem, addr, d, sizeof(d)) < 0) {
			net_port_guest_error(e->port);
			break;
		}
		processed = true;
		uint8_t cmd = d[11];
		if (!(cmd & TXCMD_DEXT)) {
			tx_data(e, d, true);
		} else {
			unsigned dtyp = (get_le32(d + 8) >> 20) & 0xf;
			if (dtyp == TXD_DTYP_CTX)
				tx_context(e, d);
			else if (dtyp == TXD_DTYP_DATA)
				tx_data(e, d, false);
			else
				net_port_guest_error(e->port);
		}
		if (cmd & (TXCMD_RS | TXCMD_RPS)) {
			uint8_t sta = (uint8_t)((d[12] & 0xf0) | TXSTA_DD);
			if (guest_write(&e->m->mem, addr + 12, &sta, 1) < 0)
				net_port_guest_error(e->port);
			if (cmd & TXCMD_IDE)
				delayed = true;
			else
				reported = true;
		}
		/* The lock may have been dropped: only move on if nobody reset the ring. */
		if (REG(e, E1000_TDH) == head)
			REG(e, E1000_TDH) = (head + 1) % n;
	}
	if (processed && REG(e, E1000_TDH) == REG(e, E1000_TDT))
		e1000_set_ics(e, ICR_TXQE);
	uint32_t tidv = REG(e, E1000_TIDV) & 0xffff, tadv = REG(e, E1000_TADV) & 0xffff;
	if (reported || (delayed && !tidv)) {
		e1000_tx_timer_fire(e);
	} else if (delayed) {
		/* IDE: TXDW once TIDV passes without another descriptor, or
		 * TADV after the first. */
		e1000_timer_arm(e, E1000_T_TIDV, (uint64_t)tidv * E1000_DELAY_NS, true);
		if (tadv)
			e1000_timer_arm(e, E1000_T_TADV, (uint64_t)tadv * E1000_DELAY_NS, false);
	}
}

void e1000_tx_timer_fire(struct e1000 *e)
{
	e1000_timer_cancel(e, E1000_T_TIDV);
	e1000_timer_cancel(e, E1000_T_TADV);
	e1000_set_ics(e, ICR_TXDW);
}

void e1000_tx_run(struct e1000 *e)
{
	if (e->tx_busy) {
		/* Another thread is sending (without the lock): it goes round again. */
		e->tx_again = true;
		return;
	}
	e->tx_busy = true;
	do {
		e->tx_again = false;
		tx_ring(e);
	} while (e->tx_again);
	e->tx_busy = false;
}
