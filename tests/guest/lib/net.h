/* A small polled IPv4 stack for the guest programs, on one adapter (nic.h): Ethernet, ARP with a
 * cache, IPv4, ICMP echo replies, UDP, a DHCP client (net_dhcp.c) and a minimal TCP (net_tcp.c).
 * Nothing runs in the background: every wait polls the adapter and handles what arrives. IPv4
 * addresses are u32 in host byte order (10.0.2.15 is 0x0a00020f). */
#ifndef GUEST_NET_H
#define GUEST_NET_H

#include "nic.h"
#include "types.h"

#define NET_IP(a, b, c, d) ((u32)(a) << 24 | (u32)(b) << 16 | (u32)(c) << 8 | (u32)(d))
#define NET_ETH_HLEN	   14
#define NET_IP_HLEN	   20
#define NET_MTU		   1500

#define ETHERTYPE_IPV4 0x0800
#define ETHERTYPE_ARP  0x0806
#define IPPROTO_ICMP   1
#define IPPROTO_TCP    6
#define IPPROTO_UDP    17

/* The interface's configuration (DHCP fills it, or a program sets it). */
struct net_config {
	u32 ip, netmask, router, dns;
	u32 server;  /* the DHCP server */
	u32 lease_s; /* lease time in seconds */
};

/* Counters of the stack, for programs that report them. */
struct net_counters {
	u32 rx_frames, tx_frames;
	u32 arp_replies_sent, icmp_echo_replies, dropped;
};

extern struct net_config net_cfg;
extern struct net_counters net_counters;

/* Takes over the adapter (probed already). */
void net_init(struct nic *nic);
/* Waits up to ms for the link to come up. */
bool net_wait_link(u32 ms);
const u8 *net_mac(void);

/* Deadlines of the stack's waits, which nest (a TCP wait resolves an address, which polls): one
 * clock of 10 ms PIT periods (lib/timer.c's channel 2) that every poll of every wait advances,
 * so that an outer deadline counts the time spent in an inner wait. */
struct net_deadline {
	u32 end;
};

/* The clock now (10 ms periods since the first call). */
u32 net_clock(void);
void net_deadline_start(struct net_deadline *d, u32 ms);
bool net_deadline_passed(struct net_deadline *d);

/* Handles every frame waiting at the adapter (ARP, ICMP, UDP and TCP to their sockets). */
void net_poll(void);

/* Big-endian fields of packets. */
static inline u16 net_get16(const u8 *p)
{
	return (u16)(p[0] << 8 | p[1]);
}

static inline u32 net_get32(const u8 *p)
{
	return (u32)p[0] << 24 | (u32)p[1] << 16 | (u32)p[2] << 8 | p[3];
}

static inline void net_put16(u8 *p, u16 v)
{
	p[0] = (u8)(v >> 8);
	p[1] = (u8)v;
}

static inline void net_put32(u8 *p, u32 v)
{
	p[0] = (u8)(v >> 24);
	p[1] = (u8)(v >> 16);
	p[2] = (u8)(v >> 8);
	p[3] = (u8)v;
}

/* "10.0.2.15" into buf (at least 16 bytes); returns buf. */
const char *net_ip_str(u32 ip, char *buf);
/* "52:54:00:12:34:56" and "10.0.2.15" (host byte order) from the command line. */
bool net_parse_mac(const char *s, u8 mac[6]);
bool net_parse_ip(const char *s, u32 *ip);
/* The Internet checksum (RFC 1071) of len bytes, continuing from sum (0 to start); fold with
 * net_csum_fold. */
u32 net_csum_add(u32 sum, const void *data, unsigned len);
u16 net_csum_fold(u32 sum);
/* The sum of the pseudo header of a TCP or UDP segment (RFC 793, RFC 768). */
u32 net_pseudo_sum(u32 src, u32 dst, u8 proto, unsigned len);

/* The MAC address of ip (or of the router for addresses off the subnet), from the cache or by
 * asking and waiting up to ms: false when nobody answered. Broadcast: ff:ff:ff:ff:ff:ff. */
bool net_arp_resolve(u32 ip, u8 mac[6], u32 ms);
/* Sends an IPv4 packet of payload len bytes (at most NET_MTU - NET_IP_HLEN) from net_cfg.ip to
 * dst, whose MAC ARP finds (up to 2 s): 0, or -1. */
int net_ip_send(u32 dst, u8 proto, const void *payload, unsigned len);
/* The same with an explicit source address and destination MAC (DHCP before it has an address). */
int net_ip_send_raw(u32 src, u32 dst, const u8 dst_mac[6], u8 proto, const void *payload,
		    unsigned len);

/* UDP (RFC 768): a socket bound to a local port keeps the latest datagram that arrived. */
#define NET_UDP_MAX 1472
struct udp_sock {
	u16 port;
	bool ready;
	u32 from;
	u16 from_port;
	u16 len;
	u8 data[NET_UDP_MAX];
	struct udp_sock *next;
};

/* Binds s to port (not in use): 0, or -1. */
int udp_bind(struct udp_sock *s, u16 port);
void udp_unbind(struct udp_sock *s);
int udp_send(u16 sport, u32 dst, u16 dport, const void *data, unsigned len);
/* The same from an explicit address to an explicit MAC (DHCP). */
int udp_send_raw(u32 src, u16 sport, u32 dst, const u8 dst_mac[6], u16 dport, const void *data,
		 unsigned len);
/* Waits up to ms for a datagram on s: its length (copied to buf, at most size bytes, the sender
 * in s->from/from_port), or -1 on timeout. */
int udp_recv(struct udp_sock *s, void *buf, unsigned size, u32 ms);

/* DHCP (RFC 2131): DISCOVER, OFFER, REQUEST, ACK; fills net_cfg. 0, or -1 with the step that
 * failed printed. */
int net_dhcp(u32 ms);

/* TCP (RFC 793), one connection at a time per struct, in-order data, no window scaling. */
enum tcp_state {
	TCP_CLOSED,
	TCP_LISTEN,
	TCP_SYN_SENT,
	TCP_SYN_RCVD,
	TCP_ESTABLISHED,
	TCP_FIN_WAIT_1,
	TCP_FIN_WAIT_2,
	TCP_CLOSE_WAIT,
	TCP_CLOSING,
	TCP_LAST_ACK,
	TCP_TIME_WAIT,
};

#define TCP_RX_BUF 8192
struct tcp_conn {
	enum tcp_state state;
	u16 lport, rport;
	u32 raddr;
	u32 snd_una, snd_nxt, iss;
	u32 rcv_nxt;
	u16 snd_wnd, mss;
	bool fin_received, reset;
	u8 rx[TCP_RX_BUF];
	unsigned rx_len;
	struct tcp_conn *next;
};

/* Active open to dst:dport from lport: 0 once established, -1 (refused, timed out). */
int tcp_connect(struct tcp_conn *c, u16 lport, u32 dst, u16 dport, u32 ms);
/* Passive open: waits up to ms for one connection to port. */
int tcp_accept(struct tcp_conn *c, u16 port, u32 ms);
/* Sends len bytes and waits until the peer acknowledged them: 0, or -1. */
int tcp_send(struct tcp_conn *c, const void *data, unsigned len, u32 ms);
/* Waits up to ms for data: the bytes copied (at most size), 0 at the end of the peer's data
 * (FIN), -1 on timeout or reset. */
int tcp_recv(struct tcp_conn *c, void *buf, unsigned size, u32 ms);
/* Sends FIN, waits for its acknowledgement and the peer's FIN: 0, or -1. The struct can be
 * used again afterwards. */
int tcp_close(struct tcp_conn *c, u32 ms);

/* Called by net_poll for each protocol (the stack's own seams). */
void net_udp_input(u32 src, u32 dst, const u8 *seg, unsigned len);
void net_tcp_input(u32 src, u32 dst, const u8 *seg, unsigned len);
/* The adapter, for the parts that send frames. */
int net_eth_send(const u8 dst[6], u16 type, const void *payload, unsigned len);

#endif
