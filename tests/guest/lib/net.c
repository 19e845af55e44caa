/* The guest network stack's core: the adapter, Ethernet framing, ARP (RFC 826) with a small
 * cache, IPv4 (RFC 791) in and out, ICMP echo replies (RFC 792) and UDP sockets (RFC 768). */
#include "net.h"
#include "format.h"
#include "io.h"
#include "str.h"
#include "../common/number.h"
#include "timer.h"
#include "uart.h"

#define ARP_CACHE	  8
#define ARP_RETRY_MS	  500
#define ARP_WAIT_MS	  2000
#define ARP_HLEN	  28
#define ARP_OP_REQ	  1
#define ARP_OP_REPLY	  2
#define ETH_MIN_FRAME	  60 /* without FCS */
#define IP_BROADCAST	  0xffffffffu
#define IP_FLAG_MF	  0x2000
#define IP_FRAG_MASK	  0x1fff
#define IP_TTL		  64
#define ICMP_ECHO_REPLY	  0
#define ICMP_ECHO_REQUEST 8

struct net_config net_cfg;
struct net_counters net_counters;

static struct nic *nic;
static u16 ip_id;
static struct udp_sock *udp_socks;

static struct arp_entry {
	u32 ip;
	u8 mac[6];
	bool valid;
} arp_cache[ARP_CACHE];
static unsigned arp_victim;

static const u8 broadcast_mac[6] = {0xff, 0xff, 0xff, 0xff, 0xff, 0xff};

/* One frame in, one frame out: programs are single-threaded and nothing nests a send inside a
 * send, but a send may happen while an input frame is being handled (ARP and ICMP replies). */
static u8 rx_frame[NIC_FRAME_MAX + 4] __attribute__((aligned(4)));
static u8 tx_frame[NIC_FRAME_MAX + 4] __attribute__((aligned(4)));
static u8 ip_packet[NET_MTU] __attribute__((aligned(4)));

void net_init(struct nic *n)
{
	nic = n;
	memset(&net_cfg, 0, sizeof(net_cfg));
	memset(&net_counters, 0, sizeof(net_counters));
	memset(arp_cache, 0, sizeof(arp_cache));
	udp_socks = NULL;
	ip_id = 1;
}

static u32 clock_ticks;
static bool clock_out;

u32 net_clock(void)
{
	bool out = inb(PORT_61) & PORT_61_OUT2;

	if (out && !clock_out)
		clock_ticks++;
	clock_out = out;
	return clock_ticks;
}

void net_deadline_start(struct net_deadline *d, u32 ms)
{
	/* One more period than asked: the first edge may come at once. */
	d->end = net_clock() + (ms + TIMER_PERIOD_MS - 1) / TIMER_PERIOD_MS + 1;
}

bool net_deadline_passed(struct net_deadline *d)
{
	return (s32)(net_clock() - d->end) >= 0;
}

bool net_wait_link(u32 ms)
{
	struct net_deadline t;

	net_deadline_start(&t, ms);
	while (!nic->link_up(nic)) {
		if (net_deadline_passed(&t))
			return false;
	}
	return true;
}

const u8 *net_mac(void)
{
	return nic->mac;
}

const char *net_ip_str(u32 ip, char *buf)
{
	snprintf(buf, 16, "%u.%u.%u.%u", ip >> 24, (ip >> 16) & 255, (ip >> 8) & 255, ip & 255);
	return buf;
}

u32 net_csum_add(u32 sum, const void *data, unsigned len)
{
	const u8 *p = data;

	for (; len > 1; len -= 2, p += 2)
		sum += net_get16(p);
	if (len)
		sum += (u32)p[0] << 8;
	return sum;
}

u16 net_csum_fold(u32 sum)
{
	while (sum >> 16)
		sum = (sum & 0xffff) + (sum >> 16);
	return (u16)~sum;
}

u32 net_pseudo_sum(u32 src, u32 dst, u8 proto, unsigned len)
{
	return (src >> 16) + (src & 0xffff) + (dst >> 16) + (dst & 0xffff) + proto + len;
}

int net_eth_send(const u8 dst[6], u16 type, const void *payload, unsigned len)
{
	unsigned total = NET_ETH_HLEN + len;

	if (total > NIC_FRAME_MAX)
		return -1;
	memcpy(tx_frame, dst, 6);
	memcpy(tx_frame + 6, nic->mac, 6);
	net_put16(tx_frame + 12, type);
	memcpy(tx_frame + NET_ETH_HLEN, payload, len);
	/* Short frames padded to the Ethernet minimum, as every driver does. */
	if (total < ETH_MIN_FRAME) {
		memset(tx_frame + total, 0, ETH_MIN_FRAME - total);
		total = ETH_MIN_FRAME;
	}
	if (nic->send(nic, tx_frame, total) < 0)
		return -1;
	net_counters.tx_frames++;
	return 0;
}

/* ARP */

static struct arp_entry *arp_lookup(u32 ip)
{
	for (unsigned i = 0; i < ARP_CACHE; i++) {
		if (arp_cache[i].valid && arp_cache[i].ip == ip)
			return &arp_cache[i];
	}
	return NULL;
}

static void arp_learn(u32 ip, const u8 mac[6])
{
	struct arp_entry *e = arp_lookup(ip);

	if (!e) {
		e = &arp_cache[arp_victim];
		arp_victim = (arp_victim + 1) % ARP_CACHE;
	}
	e->ip = ip;
	memcpy(e->mac, mac, 6);
	e->valid = true;
}

static int arp_send(u16 op, const u8 tha[6], u32 tpa, const u8 dst[6])
{
	u8 p[ARP_HLEN];

	net_put16(p, 1); /* Ethernet */
	net_put16(p + 2, ETHERTYPE_IPV4);
	p[4] = 6;
	p[5] = 4;
	net_put16(p + 6, op);
	memcpy(p + 8, nic->mac, 6);
	net_put32(p + 14, net_cfg.ip);
	memcpy(p + 18, tha, 6);
	net_put32(p + 24, tpa);
	return net_eth_send(dst, ETHERTYPE_ARP, p, sizeof(p));
}

static void arp_input(const u8 *p, unsigned len)
{
	if (len < ARP_HLEN || net_get16(p) != 1 || net_get16(p + 2) != ETHERTYPE_IPV4 ||
	    p[4] != 6 || p[5] != 4) {
		net_counters.dropped++;
		return;
	}
	u16 op = net_get16(p + 6);
	u32 spa = net_get32(p + 14), tpa = net_get32(p + 24);
	bool for_us = net_cfg.ip && tpa == net_cfg.ip;

	/* RFC 826's merge: update a known sender, add one that asks us. */
	if (spa && (for_us || arp_lookup(spa)))
		arp_learn(spa, p + 8);
	if (op == ARP_OP_REQ && for_us) {
		if (arp_send(ARP_OP_REPLY, p + 8, spa, p + 8) == 0)
			net_counters.arp_replies_sent++;
	} else if (op == ARP_OP_REPLY && spa) {
		arp_learn(spa, p + 8);
	}
}

bool net_arp_resolve(u32 ip, u8 mac[6], u32 ms)
{
	static const u8 zero_mac[6];
	struct net_deadline total, retry;
	u32 hop = ip;

	if (ip == IP_BROADCAST || (net_cfg.netmask && (ip | net_cfg.netmask) == IP_BROADCAST &&
				   (ip & net_cfg.netmask) == (net_cfg.ip & net_cfg.netmask))) {
		memcpy(mac, broadcast_mac, 6);
		return true;
	}
	if (net_cfg.netmask && (ip & net_cfg.netmask) != (net_cfg.ip & net_cfg.netmask))
		hop = net_cfg.router;
	if (!hop)
		return false;
	net_deadline_start(&total, ms);
	for (;;) {
		struct arp_entry *e = arp_lookup(hop);
		if (e) {
			memcpy(mac, e->mac, 6);
			return true;
		}
		if (net_deadline_passed(&total))
			return false;
		arp_send(ARP_OP_REQ, zero_mac, hop, broadcast_mac);
		net_deadline_start(&retry, ARP_RETRY_MS);
		while (!arp_lookup(hop) && !net_deadline_passed(&retry) &&
		       !net_deadline_passed(&total))
			net_poll();
	}
}

/* IPv4 */

int net_ip_send_raw(u32 src, u32 dst, const u8 dst_mac[6], u8 proto, const void *payload,
		    unsigned len)
{
	unsigned total = NET_IP_HLEN + len;

	if (total > NET_MTU)
		return -1;
	memset(ip_packet, 0, NET_IP_HLEN);
	ip_packet[0] = 0x45;
	net_put16(ip_packet + 2, (u16)total);
	net_put16(ip_packet + 4, ip_id++);
	net_put16(ip_packet + 6, 0x4000); /* don't fragment */
	ip_packet[8] = IP_TTL;
	ip_packet[9] = proto;
	net_put32(ip_packet + 12, src);
	net_put32(ip_packet + 16, dst);
	net_put16(ip_packet + 10, net_csum_fold(net_csum_add(0, ip_packet, NET_IP_HLEN)));
	memcpy(ip_packet + NET_IP_HLEN, payload, len);
	return net_eth_send(dst_mac, ETHERTYPE_IPV4, ip_packet, total);
}

int net_ip_send(u32 dst, u8 proto, const void *payload, unsigned len)
{
	u8 mac[6];

	if (!net_arp_resolve(dst, mac, ARP_WAIT_MS))
		return -1;
	return net_ip_send_raw(net_cfg.ip, dst, mac, proto, payload, len);
}

static void icmp_input(u32 src, const u8 *p, unsigned len)
{
	static u8 reply[NET_MTU - NET_IP_HLEN];

	if (len < 8 || len > sizeof(reply) || net_csum_fold(net_csum_add(0, p, len)) != 0) {
		net_counters.dropped++;
		return;
	}
	if (p[0] != ICMP_ECHO_REQUEST)
		return;
	memcpy(reply, p, len);
	reply[0] = ICMP_ECHO_REPLY;
	reply[2] = reply[3] = 0;
	net_put16(reply + 2, net_csum_fold(net_csum_add(0, reply, len)));
	if (net_ip_send(src, IPPROTO_ICMP, reply, len) == 0)
		net_counters.icmp_echo_replies++;
}

static void ip_input(const u8 *p, unsigned len)
{
	if (len < NET_IP_HLEN || (p[0] >> 4) != 4) {
		net_counters.dropped++;
		return;
	}
	unsigned hlen = (p[0] & 15) * 4u, total = net_get16(p + 2);
	if (hlen < NET_IP_HLEN || total < hlen || total > len ||
	    net_csum_fold(net_csum_add(0, p, hlen)) != 0) {
		net_counters.dropped++;
		return;
	}
	/* No reassembly: fragments are dropped. */
	if (net_get16(p + 6) & (IP_FLAG_MF | IP_FRAG_MASK)) {
		net_counters.dropped++;
		return;
	}
	u32 src = net_get32(p + 12), dst = net_get32(p + 16);
	bool bcast =
	    dst == IP_BROADCAST || (net_cfg.netmask && (dst | net_cfg.netmask) == IP_BROADCAST);
	/* Before DHCP finished, everything is ours (the offer goes to the address offered). */
	if (net_cfg.ip && dst != net_cfg.ip && !bcast)
		return;
	switch (p[9]) {
	case IPPROTO_ICMP:
		if (!bcast && net_cfg.ip)
			icmp_input(src, p + hlen, total - hlen);
		break;
	case IPPROTO_UDP:
		net_udp_input(src, dst, p + hlen, total - hlen);
		break;
	case IPPROTO_TCP:
		if (!bcast && net_cfg.ip)
			net_tcp_input(src, dst, p + hlen, total - hlen);
		break;
	default:
		break;
	}
}

void net_poll(void)
{
	int len;

	net_clock();
	while ((len = nic->recv(nic, rx_frame, sizeof(rx_frame))) > 0) {
		net_counters.rx_frames++;
		if (len < NET_ETH_HLEN) {
			net_counters.dropped++;
			continue;
		}
		/* Only frames for us or broadcast (the adapter filters too; a promiscuous one would
		 * not). */
		if (memcmp(rx_frame, nic->mac, 6) != 0 && memcmp(rx_frame, broadcast_mac, 6) != 0)
			continue;
		u16 type = net_get16(rx_frame + 12);
		const u8 *payload = rx_frame + NET_ETH_HLEN;
		unsigned plen = (unsigned)len - NET_ETH_HLEN;
		if (type == ETHERTYPE_ARP)
			arp_input(payload, plen);
		else if (type == ETHERTYPE_IPV4)
			ip_input(payload, plen);
	}
}

/* UDP */

int udp_bind(struct udp_sock *s, u16 port)
{
	for (struct udp_sock *o = udp_socks; o; o = o->next) {
		if (o == s || o->port == port)
			return -1;
	}
	memset(s, 0, sizeof(*s));
	s->port = port;
	s->next = udp_socks;
	udp_socks = s;
	return 0;
}

void udp_unbind(struct udp_sock *s)
{
	for (struct udp_sock **pp = &udp_socks; *pp; pp = &(*pp)->next) {
		if (*pp == s) {
			*pp = s->next;
			return;
		}
	}
}

void net_udp_input(u32 src, u32 dst, const u8 *seg, unsigned len)
{
	if (len < 8) {
		net_counters.dropped++;
		return;
	}
	unsigned ulen = net_get16(seg + 4);
	if (ulen < 8 || ulen > len || ulen - 8 > NET_UDP_MAX) {
		net_counters.dropped++;
		return;
	}
	/* A zero checksum means the sender computed none. */
	if (net_get16(seg + 6) &&
	    net_csum_fold(net_csum_add(net_pseudo_sum(src, dst, IPPROTO_UDP, ulen), seg, ulen))) {
		net_counters.dropped++;
		return;
	}
	u16 dport = net_get16(seg + 2);
	for (struct udp_sock *s = udp_socks; s; s = s->next) {
		if (s->port != dport)
			continue;
		s->from = src;
		s->from_port = net_get16(seg);
		s->len = (u16)(ulen - 8);
		memcpy(s->data, seg + 8, s->len);
		s->ready = true;
		return;
	}
}

static u8 udp_seg[NET_MTU - NET_IP_HLEN];

static unsigned udp_build(u32 src, u16 sport, u32 dst, u16 dport, const void *data, unsigned len)
{
	unsigned ulen = 8 + len;

	net_put16(udp_seg, sport);
	net_put16(udp_seg + 2, dport);
	net_put16(udp_seg + 4, (u16)ulen);
	net_put16(udp_seg + 6, 0);
	memcpy(udp_seg + 8, data, len);
	u16 sum =
	    net_csum_fold(net_csum_add(net_pseudo_sum(src, dst, IPPROTO_UDP, ulen), udp_seg, ulen));
	net_put16(udp_seg + 6, sum ? sum : 0xffff);
	return ulen;
}

int udp_send(u16 sport, u32 dst, u16 dport, const void *data, unsigned len)
{
	if (len > NET_UDP_MAX)
		return -1;
	unsigned ulen = udp_build(net_cfg.ip, sport, dst, dport, data, len);
	return net_ip_send(dst, IPPROTO_UDP, udp_seg, ulen);
}

int udp_send_raw(u32 src, u16 sport, u32 dst, const u8 dst_mac[6], u16 dport, const void *data,
		 unsigned len)
{
	if (len > NET_UDP_MAX)
		return -1;
	unsigned ulen = udp_build(src, sport, dst, dport, data, len);
	return net_ip_send_raw(src, dst, dst_mac, IPPROTO_UDP, udp_seg, ulen);
}

int udp_recv(struct udp_sock *s, void *buf, unsigned size, u32 ms)
{
	struct net_deadline t;

	net_deadline_start(&t, ms);
	for (;;) {
		net_poll();
		if (s->ready) {
			unsigned n = s->len < size ? s->len : size;
			memcpy(buf, s->data, n);
			s->ready = false;
			return (int)n;
		}
		if (net_deadline_passed(&t))
			return -1;
	}
}

bool net_parse_mac(const char *s, u8 mac[6])
{
	for (unsigned i = 0; i < 6; i++) {
		unsigned v = 0;

		for (unsigned k = 0; k < 2; k++) {
			char c = *s++;

			v <<= 4;
			if (c >= '0' && c <= '9')
				v |= (unsigned)(c - '0');
			else if (c >= 'a' && c <= 'f')
				v |= (unsigned)(c - 'a' + 10);
			else if (c >= 'A' && c <= 'F')
				v |= (unsigned)(c - 'A' + 10);
			else
				return false;
		}
		mac[i] = (u8)v;
		if (i < 5 && *s++ != ':')
			return false;
	}
	return !*s;
}

bool net_parse_ip(const char *s, u32 *ip)
{
	u32 v = 0;

	for (unsigned i = 0; i < 4; i++) {
		u64 b;

		s = s ? parse_number(s, &b) : NULL;
		if (!s || b > 255)
			return false;
		v = v << 8 | (u32)b;
		if (i < 3 && *s++ != '.')
			return false;
	}
	*ip = v;
	return !*s;
}

