/* The guest network stack's DHCP client (RFC 2131, options RFC 2132): DISCOVER, OFFER, REQUEST,
 * ACK, broadcast both ways, then the lease, mask, router and DNS server into net_cfg. */
#include "net.h"
#include "str.h"
#include "uart.h"

#define BOOTP_SERVER	    67
#define BOOTP_CLIENT	    68
#define BOOTP_REQUEST	    1
#define BOOTP_REPLY	    2
#define BOOTP_HLEN	    236 /* the fixed part, before the magic cookie */
#define DHCP_MAGIC	    0x63825363u
#define DHCP_FLAG_BROADCAST 0x8000

#define OPT_PAD	       0
#define OPT_NETMASK    1
#define OPT_ROUTER     3
#define OPT_DNS	       6
#define OPT_REQ_IP     50
#define OPT_LEASE      51
#define OPT_MSG_TYPE   53
#define OPT_SERVER_ID  54
#define OPT_PARAM_LIST 55
#define OPT_END	       255

#define DHCPDISCOVER 1
#define DHCPOFFER    2
#define DHCPREQUEST  3
#define DHCPACK	     5
#define DHCPNAK	     6

#define RETRY_MS 1000

static const u8 broadcast_mac[6] = {0xff, 0xff, 0xff, 0xff, 0xff, 0xff};

/* What one reply said. */
struct dhcp_reply {
	u8 type;
	u32 yiaddr, server, netmask, router, dns, lease_s;
};

static u8 msg[548];

static unsigned build(u32 xid, u8 type, u32 requested, u32 server)
{
	const u8 *mac = net_mac();
	unsigned n = BOOTP_HLEN;

	memset(msg, 0, sizeof(msg));
	msg[0] = BOOTP_REQUEST;
	msg[1] = 1; /* Ethernet */
	msg[2] = 6;
	net_put32(msg + 4, xid);
	net_put16(msg + 10, DHCP_FLAG_BROADCAST);
	memcpy(msg + 28, mac, 6);
	net_put32(msg + n, DHCP_MAGIC);
	n += 4;
	msg[n++] = OPT_MSG_TYPE;
	msg[n++] = 1;
	msg[n++] = type;
	if (requested) {
		msg[n++] = OPT_REQ_IP;
		msg[n++] = 4;
		net_put32(msg + n, requested);
		n += 4;
	}
	if (server) {
		msg[n++] = OPT_SERVER_ID;
		msg[n++] = 4;
		net_put32(msg + n, server);
		n += 4;
	}
	msg[n++] = OPT_PARAM_LIST;
	msg[n++] = 4;
	msg[n++] = OPT_NETMASK;
	msg[n++] = OPT_ROUTER;
	msg[n++] = OPT_DNS;
	msg[n++] = OPT_LEASE;
	msg[n++] = OPT_END;
	/* BOOTP's minimum message (RFC 1542: 300 bytes of BOOTP). */
	return n < 300 ? 300 : n;
}

/* Reads a reply to xid: false if it is not one (or is malformed). */
static bool parse(const u8 *p, unsigned len, u32 xid, struct dhcp_reply *r)
{
	const u8 *mac = net_mac();

	memset(r, 0, sizeof(*r));
	if (len < BOOTP_HLEN + 4 || p[0] != BOOTP_REPLY || net_get32(p + 4) != xid ||
	    memcmp(p + 28, mac, 6) != 0 || net_get32(p + BOOTP_HLEN) != DHCP_MAGIC)
		return false;
	r->yiaddr = net_get32(p + 16);
	for (unsigned i = BOOTP_HLEN + 4; i < len;) {
		u8 code = p[i];
		if (code == OPT_END)
			break;
		if (code == OPT_PAD) {
			i++;
			continue;
		}
		if (i + 2 > len || i + 2 + p[i + 1] > len)
			return false;
		u8 olen = p[i + 1];
		const u8 *v = p + i + 2;
		switch (code) {
		case OPT_MSG_TYPE:
			if (olen == 1)
				r->type = v[0];
			break;
		case OPT_NETMASK:
			if (olen == 4)
				r->netmask = net_get32(v);
			break;
		case OPT_ROUTER:
			if (olen >= 4)
				r->router = net_get32(v);
			break;
		case OPT_DNS:
			if (olen >= 4)
				r->dns = net_get32(v);
			break;
		case OPT_LEASE:
			if (olen == 4)
				r->lease_s = net_get32(v);
			break;
		case OPT_SERVER_ID:
			if (olen == 4)
				r->server = net_get32(v);
			break;
		default:
			break;
		}
		i += 2u + olen;
	}
	return r->type != 0;
}

/* Sends one message and waits (up to RETRY_MS) for a reply of the wanted types. */
static bool exchange(struct udp_sock *s, u32 xid, u8 type, u32 requested, u32 server,
		     struct dhcp_reply *r)
{
	static u8 buf[NET_UDP_MAX];
	struct net_deadline t;
	unsigned n = build(xid, type, requested, server);

	if (udp_send_raw(0, BOOTP_CLIENT, 0xffffffffu, broadcast_mac, BOOTP_SERVER, msg, n) < 0)
		return false;
	net_deadline_start(&t, RETRY_MS);
	while (!net_deadline_passed(&t)) {
		int len = udp_recv(s, buf, sizeof(buf), 10);
		if (len < 0 || !parse(buf, (unsigned)len, xid, r))
			continue;
		if (type == DHCPDISCOVER && r->type == DHCPOFFER)
			return true;
		if (type == DHCPREQUEST && (r->type == DHCPACK || r->type == DHCPNAK))
			return true;
	}
	return false;
}

int net_dhcp(u32 ms)
{
	const u8 *mac = net_mac();
	struct udp_sock s;
	struct dhcp_reply offer, ack;
	struct net_deadline t;
	u32 xid = net_get32(mac + 2) ^ 0x6f73696fu;
	int r = -1;

	if (udp_bind(&s, BOOTP_CLIENT) < 0) {
		printf("dhcp: port 68 is in use\n");
		return -1;
	}
	net_cfg.ip = 0;
	net_deadline_start(&t, ms);
	for (;;) {
		if (net_deadline_passed(&t)) {
			printf("dhcp: no offer\n");
			goto out;
		}
		if (exchange(&s, xid, DHCPDISCOVER, 0, 0, &offer) && offer.yiaddr)
			break;
	}
	for (;;) {
		if (net_deadline_passed(&t)) {
			printf("dhcp: no answer to the request for the offer\n");
			goto out;
		}
		if (exchange(&s, xid, DHCPREQUEST, offer.yiaddr, offer.server, &ack))
			break;
	}
	if (ack.type == DHCPNAK) {
		printf("dhcp: the server refused the offered address (NAK)\n");
		goto out;
	}
	net_cfg.ip = ack.yiaddr ? ack.yiaddr : offer.yiaddr;
	net_cfg.netmask = ack.netmask ? ack.netmask : offer.netmask;
	net_cfg.router = ack.router ? ack.router : offer.router;
	net_cfg.dns = ack.dns ? ack.dns : offer.dns;
	net_cfg.server = ack.server ? ack.server : offer.server;
	net_cfg.lease_s = ack.lease_s ? ack.lease_s : offer.lease_s;
	r = 0;
out:
	udp_unbind(&s);
	return r;
}
