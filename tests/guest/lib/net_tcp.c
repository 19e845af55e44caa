/* The guest network stack's minimal TCP (RFC 793, RFC 1122 4.2): active and passive open, data
 * accepted only in order, one segment in flight at a time with retransmission every second, FIN
 * both ways, RST for segments that reach no connection. */
#include "net.h"
#include "str.h"
#include "uart.h"

#define TCP_HLEN      20
#define TCP_FIN	      0x01
#define TCP_SYN	      0x02
#define TCP_RST	      0x04
#define TCP_PSH	      0x08
#define TCP_ACK	      0x10
#define OPT_MSS	      2
#define DEFAULT_MSS   536 /* RFC 1122 4.2.2.6, when the peer names none */
#define OUR_MSS	      (NET_MTU - NET_IP_HLEN - TCP_HLEN)
#define RETRANSMIT_MS 1000

static struct tcp_conn *conns;
static u32 next_iss = 0x6f730000u;
static u8 seg[NET_MTU - NET_IP_HLEN];

/* Sequence number comparisons modulo 2^32. */
static bool seq_lt(u32 a, u32 b)
{
	return (s32)(a - b) < 0;
}

static bool seq_le(u32 a, u32 b)
{
	return (s32)(a - b) <= 0;
}

static void link_conn(struct tcp_conn *c)
{
	for (struct tcp_conn *o = conns; o; o = o->next) {
		if (o == c)
			return;
	}
	c->next = conns;
	conns = c;
}

static void unlink_conn(struct tcp_conn *c)
{
	for (struct tcp_conn **pp = &conns; *pp; pp = &(*pp)->next) {
		if (*pp == c) {
			*pp = c->next;
			return;
		}
	}
}

static void reset_conn(struct tcp_conn *c, u16 lport)
{
	unlink_conn(c);
	memset(c, 0, sizeof(*c));
	c->lport = lport;
	c->mss = DEFAULT_MSS;
	c->iss = next_iss;
	next_iss += 0x10000;
	c->snd_una = c->snd_nxt = c->iss;
}

static int output(u32 src, u32 dst, u16 sport, u16 dport, u32 seqno, u32 ackno, u8 flags,
		  u16 window, const void *data, unsigned len)
{
	unsigned hlen = TCP_HLEN + ((flags & TCP_SYN) ? 4 : 0);

	if (hlen + len > sizeof(seg))
		return -1;
	memset(seg, 0, hlen);
	net_put16(seg, sport);
	net_put16(seg + 2, dport);
	net_put32(seg + 4, seqno);
	net_put32(seg + 8, ackno);
	seg[12] = (u8)(hlen / 4 << 4);
	seg[13] = flags;
	net_put16(seg + 14, window);
	if (flags & TCP_SYN) {
		seg[20] = OPT_MSS;
		seg[21] = 4;
		net_put16(seg + 22, OUR_MSS);
	}
	memcpy(seg + hlen, data, len);
	u32 sum = net_pseudo_sum(src, dst, IPPROTO_TCP, hlen + len);
	net_put16(seg + 16, net_csum_fold(net_csum_add(sum, seg, hlen + len)));
	return net_ip_send(dst, IPPROTO_TCP, seg, hlen + len);
}

static int send_seg(struct tcp_conn *c, u8 flags, u32 seqno, const void *data, unsigned len)
{
	u16 window = (u16)(TCP_RX_BUF - c->rx_len);

	if (c->state != TCP_SYN_SENT)
		flags |= TCP_ACK;
	return output(net_cfg.ip, c->raddr, c->lport, c->rport, seqno,
		      (flags & TCP_ACK) ? c->rcv_nxt : 0, flags, window, data, len);
}

/* The peer's MSS option, if the segment has one. */
static void parse_mss(struct tcp_conn *c, const u8 *s, unsigned hlen)
{
	for (unsigned i = TCP_HLEN; i < hlen;) {
		u8 kind = s[i];
		if (kind == 0)
			break;
		if (kind == 1) {
			i++;
			continue;
		}
		if (i + 2 > hlen || s[i + 1] < 2 || i + s[i + 1] > hlen)
			break;
		if (kind == OPT_MSS && s[i + 1] == 4) {
			u16 mss = net_get16(s + i + 2);
			if (mss >= 64)
				c->mss = mss < OUR_MSS ? mss : OUR_MSS;
		}
		i += s[i + 1];
	}
}

/* What an established (or closing) connection does with a segment. */
static void input_synchronized(struct tcp_conn *c, u32 seqno, u32 ackno, u8 flags, u16 window,
			       const u8 *data, unsigned len)
{
	bool need_ack = false;

	if (flags & TCP_ACK) {
		if (seq_lt(c->snd_una, ackno) && seq_le(ackno, c->snd_nxt))
			c->snd_una = ackno;
		c->snd_wnd = window;
		if (c->snd_una == c->snd_nxt) {
			if (c->state == TCP_FIN_WAIT_1)
				c->state = TCP_FIN_WAIT_2;
			else if (c->state == TCP_CLOSING)
				c->state = TCP_TIME_WAIT;
			else if (c->state == TCP_LAST_ACK)
				c->state = TCP_CLOSED;
		}
	}
	if (len || (flags & (TCP_SYN | TCP_FIN)))
		need_ack = true;
	if (seqno == c->rcv_nxt && !c->fin_received) {
		unsigned room = TCP_RX_BUF - c->rx_len;
		unsigned take = len < room ? len : room;
		memcpy(c->rx + c->rx_len, data, take);
		c->rx_len += take;
		c->rcv_nxt += take;
		if ((flags & TCP_FIN) && take == len) {
			c->rcv_nxt++;
			c->fin_received = true;
			if (c->state == TCP_ESTABLISHED)
				c->state = TCP_CLOSE_WAIT;
			else if (c->state == TCP_FIN_WAIT_1)
				c->state = TCP_CLOSING;
			else if (c->state == TCP_FIN_WAIT_2)
				c->state = TCP_TIME_WAIT;
		}
	}
	/* Anything out of order or repeated is answered with what we expect. */
	if (need_ack)
		send_seg(c, 0, c->snd_nxt, NULL, 0);
}

static void input(struct tcp_conn *c, u32 src, u16 sport, const u8 *s, unsigned hlen, unsigned len)
{
	u32 seqno = net_get32(s + 4), ackno = net_get32(s + 8);
	u8 flags = s[13];
	u16 window = net_get16(s + 14);
	const u8 *data = s + hlen;
	unsigned dlen = len - hlen;

	if (flags & TCP_RST) {
		if (c->state != TCP_LISTEN) {
			c->reset = true;
			c->state = TCP_CLOSED;
		}
		return;
	}
	switch (c->state) {
	case TCP_LISTEN:
		if ((flags & (TCP_SYN | TCP_ACK)) != TCP_SYN)
			return;
		c->raddr = src;
		c->rport = sport;
		c->rcv_nxt = seqno + 1;
		c->snd_wnd = window;
		parse_mss(c, s, hlen);
		c->snd_nxt = c->iss + 1;
		c->state = TCP_SYN_RCVD;
		send_seg(c, TCP_SYN, c->iss, NULL, 0);
		return;
	case TCP_SYN_SENT:
		if ((flags & (TCP_SYN | TCP_ACK)) != (TCP_SYN | TCP_ACK) || ackno != c->iss + 1)
			return;
		c->rcv_nxt = seqno + 1;
		c->snd_una = ackno;
		c->snd_wnd = window;
		parse_mss(c, s, hlen);
		c->state = TCP_ESTABLISHED;
		send_seg(c, 0, c->snd_nxt, NULL, 0);
		return;
	case TCP_SYN_RCVD:
		if (flags & TCP_SYN) {
			/* Our SYN-ACK was lost: again. */
			send_seg(c, TCP_SYN, c->iss, NULL, 0);
			return;
		}
		if (!(flags & TCP_ACK) || ackno != c->snd_nxt)
			return;
		c->snd_una = ackno;
		c->state = TCP_ESTABLISHED;
		input_synchronized(c, seqno, ackno, flags, window, data, dlen);
		return;
	case TCP_CLOSED:
	case TCP_TIME_WAIT:
		if (flags & TCP_FIN)
			send_seg(c, 0, c->snd_nxt, NULL, 0);
		return;
	default:
		input_synchronized(c, seqno, ackno, flags, window, data, dlen);
		return;
	}
}

void net_tcp_input(u32 src, u32 dst, const u8 *s, unsigned len)
{
	if (len < TCP_HLEN ||
	    net_csum_fold(net_csum_add(net_pseudo_sum(src, dst, IPPROTO_TCP, len), s, len))) {
		net_counters.dropped++;
		return;
	}
	unsigned hlen = (s[12] >> 4) * 4u;
	if (hlen < TCP_HLEN || hlen > len) {
		net_counters.dropped++;
		return;
	}
	u16 sport = net_get16(s), dport = net_get16(s + 2);
	struct tcp_conn *listener = NULL;
	for (struct tcp_conn *c = conns; c; c = c->next) {
		if (c->lport != dport)
			continue;
		if (c->state == TCP_LISTEN) {
			listener = c;
			continue;
		}
		if (c->raddr == src && c->rport == sport) {
			input(c, src, sport, s, hlen, len);
			return;
		}
	}
	if (listener) {
		input(listener, src, sport, s, hlen, len);
		return;
	}
	/* Nobody here (RFC 793, 3.4 "Reset Generation"). */
	u8 flags = s[13];
	if (flags & TCP_RST)
		return;
	u32 seqno = net_get32(s + 4), ackno = net_get32(s + 8);
	u32 seglen = len - hlen + ((flags & TCP_SYN) ? 1 : 0) + ((flags & TCP_FIN) ? 1 : 0);
	if (flags & TCP_ACK)
		output(dst, src, dport, sport, ackno, 0, TCP_RST, 0, NULL, 0);
	else
		output(dst, src, dport, sport, 0, seqno + seglen, TCP_RST | TCP_ACK, 0, NULL, 0);
}

/* Polls until done(c) or ms pass, sending the retransmission every second. */
static bool wait_for(struct tcp_conn *c, bool (*done)(struct tcp_conn *c), u32 ms,
		     void (*retransmit)(struct tcp_conn *c))
{
	struct net_deadline total, rexmit;

	net_deadline_start(&total, ms);
	net_deadline_start(&rexmit, RETRANSMIT_MS);
	for (;;) {
		net_poll();
		if (done(c))
			return true;
		if (c->reset || net_deadline_passed(&total))
			return false;
		if (retransmit && net_deadline_passed(&rexmit)) {
			retransmit(c);
			net_deadline_start(&rexmit, RETRANSMIT_MS);
		}
	}
}

static bool left_syn_sent(struct tcp_conn *c)
{
	return c->state != TCP_SYN_SENT;
}

static void resend_syn(struct tcp_conn *c)
{
	send_seg(c, TCP_SYN, c->iss, NULL, 0);
}

int tcp_connect(struct tcp_conn *c, u16 lport, u32 dst, u16 dport, u32 ms)
{
	reset_conn(c, lport);
	c->raddr = dst;
	c->rport = dport;
	c->state = TCP_SYN_SENT;
	c->snd_nxt = c->iss + 1;
	link_conn(c);
	if (send_seg(c, TCP_SYN, c->iss, NULL, 0) < 0 ||
	    !wait_for(c, left_syn_sent, ms, resend_syn) || c->state != TCP_ESTABLISHED) {
		unlink_conn(c);
		c->state = TCP_CLOSED;
		return -1;
	}
	return 0;
}

static bool established(struct tcp_conn *c)
{
	return c->state != TCP_LISTEN && c->state != TCP_SYN_RCVD;
}

static void resend_syn_ack(struct tcp_conn *c)
{
	if (c->state == TCP_SYN_RCVD)
		send_seg(c, TCP_SYN, c->iss, NULL, 0);
}

int tcp_accept(struct tcp_conn *c, u16 port, u32 ms)
{
	for (struct tcp_conn *o = conns; o; o = o->next) {
		if (o != c && o->lport == port && o->state == TCP_LISTEN)
			return -1;
	}
	reset_conn(c, port);
	c->state = TCP_LISTEN;
	link_conn(c);
	if (!wait_for(c, established, ms, resend_syn_ack) || c->state == TCP_CLOSED) {
		unlink_conn(c);
		c->state = TCP_CLOSED;
		return -1;
	}
	return 0;
}

/* The segment in flight: its first byte and length. */
static const u8 *inflight_data;
static unsigned inflight_len;
static u32 inflight_seq;

static bool all_acked(struct tcp_conn *c)
{
	return c->snd_una == c->snd_nxt;
}

static void resend_data(struct tcp_conn *c)
{
	send_seg(c, TCP_PSH, inflight_seq, inflight_data, inflight_len);
}

int tcp_send(struct tcp_conn *c, const void *data, unsigned len, u32 ms)
{
	const u8 *p = data;

	while (len) {
		if (c->state != TCP_ESTABLISHED && c->state != TCP_CLOSE_WAIT)
			return -1;
		unsigned n = len < c->mss ? len : c->mss;
		/* A closed window is probed with the same segment every second. */
		if (c->snd_wnd && n > c->snd_wnd)
			n = c->snd_wnd;
		inflight_data = p;
		inflight_len = n;
		inflight_seq = c->snd_nxt;
		c->snd_nxt += n;
		if (send_seg(c, TCP_PSH, inflight_seq, p, n) < 0 ||
		    !wait_for(c, all_acked, ms, resend_data))
			return -1;
		p += n;
		len -= n;
	}
	return 0;
}

static bool readable(struct tcp_conn *c)
{
	return c->rx_len || c->fin_received;
}

int tcp_recv(struct tcp_conn *c, void *buf, unsigned size, u32 ms)
{
	if (c->state == TCP_CLOSED && !c->rx_len)
		return c->fin_received ? 0 : -1;
	if (!wait_for(c, readable, ms, NULL) && !c->rx_len)
		return -1;
	if (!c->rx_len)
		return 0; /* the peer's FIN, all data read */
	bool was_full = TCP_RX_BUF - c->rx_len < c->mss;
	unsigned n = c->rx_len < size ? c->rx_len : size;
	memcpy(buf, c->rx, n);
	memmove(c->rx, c->rx + n, c->rx_len - n);
	c->rx_len -= n;
	/* The window opened again: say so. */
	if (was_full && c->state != TCP_CLOSED)
		send_seg(c, 0, c->snd_nxt, NULL, 0);
	return (int)n;
}

static bool closed(struct tcp_conn *c)
{
	return c->state == TCP_CLOSED || c->state == TCP_TIME_WAIT;
}

static void resend_fin(struct tcp_conn *c)
{
	if (c->state == TCP_FIN_WAIT_1 || c->state == TCP_CLOSING || c->state == TCP_LAST_ACK)
		send_seg(c, TCP_FIN, c->snd_nxt - 1, NULL, 0);
}

int tcp_close(struct tcp_conn *c, u32 ms)
{
	int r = 0;

	switch (c->state) {
	case TCP_ESTABLISHED:
		c->state = TCP_FIN_WAIT_1;
		break;
	case TCP_CLOSE_WAIT:
		c->state = TCP_LAST_ACK;
		break;
	default:
		/* Not open (never was, reset, or closing already). */
		r = c->state == TCP_CLOSED && !c->reset ? 0 : -1;
		goto out;
	}
	c->snd_nxt++;
	if (send_seg(c, TCP_FIN, c->snd_nxt - 1, NULL, 0) < 0 ||
	    !wait_for(c, closed, ms, resend_fin))
		r = -1;
out:
	unlink_conn(c);
	c->state = TCP_CLOSED;
	return r;
}
