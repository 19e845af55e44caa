/* Test-only network frames: builders for Ethernet, ARP, IPv4, UDP, TCP and
 * DHCP that compute every checksum, and a parser that checks them. IPv4
 * addresses are host-order uint32_t (NF_IP(10, 0, 2, 15)). */
#ifndef OSIO_TEST_NET_FRAMES_H
#define OSIO_TEST_NET_FRAMES_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#define NF_IP(a, b, c, d) ((uint32_t)(a) << 24 | (uint32_t)(b) << 16 | (uint32_t)(c) << 8 | (d))
#define NF_ETH_ARP	  0x0806
#define NF_ETH_IP4	  0x0800
#define NF_PROTO_TCP	  6
#define NF_PROTO_UDP	  17
#define NF_TCP_FIN	  0x01
#define NF_TCP_SYN	  0x02
#define NF_TCP_RST	  0x04
#define NF_TCP_PSH	  0x08
#define NF_TCP_ACK	  0x10
#define NF_ARP_REQUEST	  1
#define NF_ARP_REPLY	  2
#define NF_FRAME_MAX	  1600

/* DHCP message types (RFC 2132, option 53). */
#define NF_DHCP_DISCOVER 1
#define NF_DHCP_OFFER	 2
#define NF_DHCP_REQUEST	 3
#define NF_DHCP_ACK	 5
#define NF_DHCP_NAK	 6

static const uint8_t nf_broadcast[6] = {0xff, 0xff, 0xff, 0xff, 0xff, 0xff};

static inline void nf_put16(uint8_t *p, uint16_t v)
{
	p[0] = (uint8_t)(v >> 8);
	p[1] = (uint8_t)v;
}

static inline void nf_put32(uint8_t *p, uint32_t v)
{
	nf_put16(p, (uint16_t)(v >> 16));
	nf_put16(p + 2, (uint16_t)v);
}

static inline uint16_t nf_get16(const uint8_t *p)
{
	return (uint16_t)(p[0] << 8 | p[1]);
}

static inline uint32_t nf_get32(const uint8_t *p)
{
	return (uint32_t)nf_get16(p) << 16 | nf_get16(p + 2);
}

/* RFC 1071: the running sum, then folded and complemented. */
static inline uint32_t nf_sum(uint32_t sum, const uint8_t *p, size_t len)
{
	for (size_t i = 0; i + 1 < len; i += 2)
		sum += nf_get16(p + i);
	if (len & 1)
		sum += (uint32_t)p[len - 1] << 8;
	return sum;
}

static inline uint16_t nf_fold(uint32_t sum)
{
	while (sum >> 16)
		sum = (sum & 0xffff) + (sum >> 16);
	return (uint16_t)~sum;
}

/* The TCP/UDP checksum over the IPv4 pseudo-header and the segment. */
static inline uint16_t nf_l4_csum(uint32_t sip, uint32_t dip, uint8_t proto, const uint8_t *seg,
				  size_t len)
{
	uint32_t sum = (sip >> 16) + (sip & 0xffff) + (dip >> 16) + (dip & 0xffff);
	sum += proto;
	sum += (uint32_t)len;
	return nf_fold(nf_sum(sum, seg, len));
}

static inline size_t nf_eth(uint8_t *f, const uint8_t dst[6], const uint8_t src[6], uint16_t type)
{
	memcpy(f, dst, 6);
	memcpy(f + 6, src, 6);
	nf_put16(f + 12, type);
	return 14;
}

/* An ARP frame (request: to broadcast, tha zero; reply: to tha). */
static inline size_t nf_arp(uint8_t *f, uint16_t op, const uint8_t sha[6], uint32_t sip,
			    const uint8_t tha[6], uint32_t tip)
{
	static const uint8_t zero[6];
	nf_eth(f, op == NF_ARP_REQUEST ? nf_broadcast : tha, sha, NF_ETH_ARP);
	uint8_t *a = f + 14;
	nf_put16(a, 1);		 /* Ethernet */
	nf_put16(a + 2, 0x0800); /* IPv4 */
	a[4] = 6;
	a[5] = 4;
	nf_put16(a + 6, op);
	memcpy(a + 8, sha, 6);
	nf_put32(a + 14, sip);
	memcpy(a + 18, op == NF_ARP_REQUEST ? zero : tha, 6);
	nf_put32(a + 24, tip);
	return 14 + 28;
}

/* Ethernet + a 20-byte IPv4 header (checksummed) in front of l4len bytes
 * the caller already put at f + 34. Returns the frame's length. */
static inline size_t nf_ip4_wrap(uint8_t *f, const uint8_t dmac[6], const uint8_t smac[6],
				 uint8_t proto, uint32_t sip, uint32_t dip, size_t l4len)
{
	static uint16_t ip_id = 0x1000;
	nf_eth(f, dmac, smac, NF_ETH_IP4);
	uint8_t *ip = f + 14;
	ip[0] = 0x45;
	ip[1] = 0;
	nf_put16(ip + 2, (uint16_t)(20 + l4len));
	nf_put16(ip + 4, ip_id++);
	nf_put16(ip + 6, 0x4000); /* DF */
	ip[8] = 64;
	ip[9] = proto;
	nf_put16(ip + 10, 0);
	nf_put32(ip + 12, sip);
	nf_put32(ip + 16, dip);
	nf_put16(ip + 10, nf_fold(nf_sum(0, ip, 20)));
	return 14 + 20 + l4len;
}

static inline size_t nf_udp(uint8_t *f, const uint8_t dmac[6], const uint8_t smac[6], uint32_t sip,
			    uint16_t sport, uint32_t dip, uint16_t dport, const void *data,
			    size_t len)
{
	uint8_t *u = f + 34;
	nf_put16(u, sport);
	nf_put16(u + 2, dport);
	nf_put16(u + 4, (uint16_t)(8 + len));
	nf_put16(u + 6, 0);
	memcpy(u + 8, data, len);
	uint16_t c = nf_l4_csum(sip, dip, NF_PROTO_UDP, u, 8 + len);
	nf_put16(u + 6, c ? c : 0xffff);
	return nf_ip4_wrap(f, dmac, smac, NF_PROTO_UDP, sip, dip, 8 + len);
}

/* A TCP segment with a 20-byte header (SYN: plus an MSS option of 1460). */
static inline size_t nf_tcp(uint8_t *f, const uint8_t dmac[6], const uint8_t smac[6], uint32_t sip,
			    uint16_t sport, uint32_t dip, uint16_t dport, uint32_t seq,
			    uint32_t ack, uint8_t flags, uint16_t win, const void *data, size_t len)
{
	uint8_t *t = f + 34;
	size_t hlen = flags & NF_TCP_SYN ? 24 : 20;
	nf_put16(t, sport);
	nf_put16(t + 2, dport);
	nf_put32(t + 4, seq);
	nf_put32(t + 8, ack);
	t[12] = (uint8_t)(hlen / 4 << 4);
	t[13] = flags;
	nf_put16(t + 14, win);
	nf_put16(t + 16, 0);
	nf_put16(t + 18, 0);
	if (hlen == 24) {
		t[20] = 2; /* MSS */
		t[21] = 4;
		nf_put16(t + 22, 1460);
	}
	if (len)
		memcpy(t + hlen, data, len);
	nf_put16(t + 16, nf_l4_csum(sip, dip, NF_PROTO_TCP, t, hlen + len));
	return nf_ip4_wrap(f, dmac, smac, NF_PROTO_TCP, sip, dip, hlen + len);
}

/* A DHCP client message (RFC 2131) from 0.0.0.0:68 to 255.255.255.255:67:
 * requested and server (0: left out) go in options 50 and 54. */
static inline size_t nf_dhcp(uint8_t *f, const uint8_t mac[6], uint32_t xid, uint8_t type,
			     uint32_t requested, uint32_t server)
{
	uint8_t b[300];
	memset(b, 0, sizeof(b));
	b[0] = 1; /* BOOTREQUEST */
	b[1] = 1; /* Ethernet */
	b[2] = 6;
	nf_put32(b + 4, xid);
	nf_put16(b + 10, 0x8000); /* broadcast */
	memcpy(b + 28, mac, 6);
	nf_put32(b + 236, 0x63825363); /* magic cookie */
	uint8_t *o = b + 240;
	*o++ = 53;
	*o++ = 1;
	*o++ = type;
	if (requested) {
		*o++ = 50;
		*o++ = 4;
		nf_put32(o, requested);
		o += 4;
	}
	if (server) {
		*o++ = 54;
		*o++ = 4;
		nf_put32(o, server);
		o += 4;
	}
	*o++ = 55; /* parameter request list: mask, router, DNS */
	*o++ = 3;
	*o++ = 1;
	*o++ = 3;
	*o++ = 6;
	*o++ = 255;
	return nf_udp(f, nf_broadcast, mac, 0, 68, 0xffffffffu, 67, b, sizeof(b));
}

struct nf_frame {
	uint8_t dst[6], src[6];
	uint16_t type;
	/* ARP */
	uint16_t arp_op;
	uint8_t arp_sha[6], arp_tha[6];
	uint32_t arp_sip, arp_tip;
	/* IPv4 */
	bool ip, ip_csum_ok;
	uint8_t proto, ttl;
	uint32_t sip, dip;
	/* UDP and TCP */
	bool l4, l4_csum_ok;
	uint16_t sport, dport;
	uint32_t seq, ack;
	uint8_t tcp_flags;
	uint16_t win;
	const uint8_t *data; /* the payload */
	size_t data_len;
};

/* 0, or -1 for a frame too short for what its headers say. */
static inline int nf_parse(const uint8_t *f, size_t len, struct nf_frame *o)
{
	memset(o, 0, sizeof(*o));
	if (len < 14)
		return -1;
	memcpy(o->dst, f, 6);
	memcpy(o->src, f + 6, 6);
	o->type = nf_get16(f + 12);
	const uint8_t *p = f + 14;
	size_t avail = len - 14;
	if (o->type == NF_ETH_ARP) {
		if (avail < 28)
			return -1;
		o->arp_op = nf_get16(p + 6);
		memcpy(o->arp_sha, p + 8, 6);
		o->arp_sip = nf_get32(p + 14);
		memcpy(o->arp_tha, p + 18, 6);
		o->arp_tip = nf_get32(p + 24);
		return 0;
	}
	if (o->type != NF_ETH_IP4)
		return 0;
	if (avail < 20 || p[0] >> 4 != 4)
		return -1;
	size_t hlen = (size_t)(p[0] & 0xf) * 4, total = nf_get16(p + 2);
	if (hlen < 20 || total < hlen || total > avail)
		return -1;
	o->ip = true;
	o->ip_csum_ok = nf_fold(nf_sum(0, p, hlen)) == 0;
	o->ttl = p[8];
	o->proto = p[9];
	o->sip = nf_get32(p + 12);
	o->dip = nf_get32(p + 16);
	const uint8_t *l4 = p + hlen;
	size_t l4len = total - hlen;
	if ((nf_get16(p + 6) & 0x3fff) != 0)
		return 0; /* a fragment: no transport header to read */
	if (o->proto == NF_PROTO_UDP) {
		if (l4len < 8 || nf_get16(l4 + 4) < 8 || nf_get16(l4 + 4) > l4len)
			return -1;
		l4len = nf_get16(l4 + 4);
		o->l4 = true;
		o->sport = nf_get16(l4);
		o->dport = nf_get16(l4 + 2);
		o->l4_csum_ok = nf_get16(l4 + 6) == 0 ||
				nf_l4_csum(o->sip, o->dip, NF_PROTO_UDP, l4, l4len) == 0;
		o->data = l4 + 8;
		o->data_len = l4len - 8;
	} else if (o->proto == NF_PROTO_TCP) {
		if (l4len < 20 || (size_t)(l4[12] >> 4) * 4 < 20 ||
		    (size_t)(l4[12] >> 4) * 4 > l4len)
			return -1;
		size_t thlen = (size_t)(l4[12] >> 4) * 4;
		o->l4 = true;
		o->sport = nf_get16(l4);
		o->dport = nf_get16(l4 + 2);
		o->seq = nf_get32(l4 + 4);
		o->ack = nf_get32(l4 + 8);
		o->tcp_flags = l4[13];
		o->win = nf_get16(l4 + 14);
		o->l4_csum_ok = nf_l4_csum(o->sip, o->dip, NF_PROTO_TCP, l4, l4len) == 0;
		o->data = l4 + thlen;
		o->data_len = l4len - thlen;
	}
	return 0;
}

struct nf_dhcp_msg {
	uint8_t op;
	uint32_t xid, yiaddr, siaddr;
	uint8_t chaddr[6];
	char file[129];
	uint8_t type;			    /* option 53 */
	uint32_t mask, router, dns, server; /* options 1, 3, 6 (the first), 54 */
	uint32_t lease;			    /* option 51 */
	char tftp_server[256];		    /* option 66 */
};

/* A DHCP message from a UDP payload: 0, or -1 when it is not one. */
static inline int nf_dhcp_parse(const uint8_t *b, size_t len, struct nf_dhcp_msg *o)
{
	memset(o, 0, sizeof(*o));
	if (len < 240 || nf_get32(b + 236) != 0x63825363)
		return -1;
	o->op = b[0];
	o->xid = nf_get32(b + 4);
	o->yiaddr = nf_get32(b + 16);
	o->siaddr = nf_get32(b + 20);
	memcpy(o->chaddr, b + 28, 6);
	memcpy(o->file, b + 108, 128);
	for (size_t i = 240; i < len;) {
		uint8_t code = b[i];
		if (code == 255)
			break;
		if (code == 0) {
			i++;
			continue;
		}
		if (i + 2 > len || i + 2 + b[i + 1] > len)
			return -1;
		const uint8_t *v = b + i + 2;
		uint8_t l = b[i + 1];
		if (code == 53 && l >= 1)
			o->type = v[0];
		else if (code == 1 && l >= 4)
			o->mask = nf_get32(v);
		else if (code == 3 && l >= 4)
			o->router = nf_get32(v);
		else if (code == 6 && l >= 4)
			o->dns = nf_get32(v);
		else if (code == 54 && l >= 4)
			o->server = nf_get32(v);
		else if (code == 51 && l >= 4)
			o->lease = nf_get32(v);
		else if (code == 66)
			memcpy(o->tftp_server, v, l);
		i += 2 + (size_t)l;
	}
	return 0;
}

#endif
