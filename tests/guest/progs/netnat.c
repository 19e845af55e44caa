/* netnat: a guest on the NAT switch (libslirp under osio and under QEMU's -netdev user): a DHCP
 * lease, a UDP exchange and an HTTP GET with servers on the host's loopback (10.0.2.2), then a
 * UDP datagram and a TCP connection that come in through host port forwards.
 *
 * Arguments (each optional): nic=e1000 (default) | virtio; udp=PORT (a host UDP echo server
 * that answers "echo: " + the datagram); http=PORT (a host HTTP server with /hello.txt);
 * listen_udp=PORT (waits for one datagram there and answers "echo: " + it); listen_tcp=PORT
 * (accepts one connection there, reads a line and answers "echo: " + the line); wait=SECONDS
 * for each of the two listens (default 60); bulk=BYTES (with http=: also GET /pattern/BYTES, a
 * stream of bytes checked one by one). The host ports go on peer: lines: they change
 * from run to run. */
#include "../lib/cmdline.h"
#include "../lib/format.h"
#include "../lib/net.h"
#include "../lib/nic.h"
#include "../lib/str.h"
#include "../lib/test.h"
#include "../lib/uart.h"

/* lib/virtio_net.c may not be there: the nic=virtio path then says so. */
#pragma weak virtio_net_probe

#define HOST	   NET_IP(10, 0, 2, 2)
#define LOCAL_UDP  40000
#define LOCAL_TCP  40001
#define LINK_MS	   5000
#define DHCP_MS	   20000
#define REPLY_MS   10000
#define TEXT_MAX   512
#define GUEST_TEXT "hello from the guest"

static struct nic nic;
static char text[TEXT_MAX + 1];

static bool has_newline(const u8 *p, unsigned len)
{
	for (unsigned i = 0; i < len; i++) {
		if (p[i] == '\n')
			return true;
	}
	return false;
}

static u16 arg_port(const char *key)
{
	u64 v;

	if (!arg_str(key))
		return 0;
	if (!arg_u64(key, &v) || v == 0 || v > 65535) {
		check(false, "argument %s=%s is a port number (1-65535)", key, arg_str(key));
		return 0;
	}
	return (u16)v;
}

/* Copies len bytes of data as a printable C string into text (others as '?', a final newline
 * dropped). */
static const char *printable(const u8 *data, unsigned len)
{
	unsigned n = 0;

	if (len && data[len - 1] == '\n')
		len--;
	if (len && data[len - 1] == '\r')
		len--;
	for (unsigned i = 0; i < len && n < TEXT_MAX; i++)
		text[n++] = data[i] >= 32 && data[i] < 127 ? (char)data[i] : '?';
	text[n] = 0;
	return text;
}

static void udp_exchange(u16 port)
{
	static u8 buf[NET_UDP_MAX];
	static const char want[] = "echo: " GUEST_TEXT;
	struct udp_sock s;

	printf("peer: udp: the echo server is 10.0.2.2:%u\n", port);
	if (!check(udp_bind(&s, LOCAL_UDP) == 0, "udp: bound port %u", LOCAL_UDP))
		return;
	int sent = udp_send(LOCAL_UDP, HOST, port, GUEST_TEXT, sizeof(GUEST_TEXT) - 1);
	if (check(sent == 0, "udp: sent \"%s\" to the host", GUEST_TEXT)) {
		int len = udp_recv(&s, buf, sizeof(buf), REPLY_MS);
		if (check(len >= 0, "udp: a reply came")) {
			printf("udp: reply \"%s\" from %s\n", printable(buf, (unsigned)len),
			       s.from == HOST ? "10.0.2.2" : "another address");
			check((unsigned)len == sizeof(want) - 1 &&
				  !memcmp(buf, want, (unsigned)len),
			      "udp: the reply is \"%s\"", want);
		}
	}
	udp_unbind(&s);
}

/* The response's lines, one "http:" line each (headers but the status line left out: Date and
 * Server differ from run to run). */
static void http_get(u16 port)
{
	static struct tcp_conn c;
	static u8 resp[TCP_RX_BUF];
	static const char req[] = "GET /hello.txt HTTP/1.0\r\nHost: 10.0.2.2\r\n\r\n";
	unsigned len = 0;
	int n;

	printf("peer: http: the server is 10.0.2.2:%u\n", port);
	if (!check(tcp_connect(&c, LOCAL_TCP, HOST, port, REPLY_MS) == 0,
		   "http: connected to the host"))
		return;
	if (!check(tcp_send(&c, req, sizeof(req) - 1, REPLY_MS) == 0, "http: sent GET /hello.txt"))
		goto close;
	while (len < sizeof(resp) &&
	       (n = tcp_recv(&c, resp + len, sizeof(resp) - len, REPLY_MS)) > 0)
		len += (unsigned)n;
	if (!check(n == 0, "http: the response ended with the server's FIN"))
		goto close;
	/* The status line, then the body after the blank line. */
	unsigned eol = 0, body = 0;
	while (eol < len && resp[eol] != '\r' && resp[eol] != '\n')
		eol++;
	for (unsigned i = 0; i + 3 < len; i++) {
		if (!memcmp(resp + i, "\r\n\r\n", 4)) {
			body = i + 4;
			break;
		}
	}
	printf("http: status \"%s\"\n", printable(resp, eol));
	check(eol >= 12 && !memcmp(resp, "HTTP/1.", 7) && !memcmp(resp + 8, " 200", 4),
	      "http: status 200");
	if (check(body > 0, "http: the headers ended")) {
		for (unsigned i = body; i < len;) {
			unsigned e = i;
			while (e < len && resp[e] != '\n')
				e++;
			printf("http: body \"%s\"\n", printable(resp + i, e - i));
			i = e + 1;
		}
	}
close:
	check(tcp_close(&c, REPLY_MS) == 0, "http: connection closed");
}

/* The bytes of netserve.py's /pattern/N. */
static u8 pattern(u32 i)
{
	return (u8)(i * 31 + (i >> 8) + 7);
}

/* GET /pattern/BYTES: many segments, more than the receive buffer and the adapter's ring hold,
 * every byte checked as it comes. */
static void http_bulk(u16 port, u32 bytes)
{
	static struct tcp_conn c;
	static u8 chunk[2048];
	static char hdr[1024];
	char req[96];
	unsigned hlen = 0;
	bool in_body = false;
	u32 got = 0, bad = 0, first_bad = 0;
	int n;

	snprintf(req, sizeof(req), "GET /pattern/%u HTTP/1.0\r\nHost: 10.0.2.2\r\n\r\n", bytes);
	if (!check(tcp_connect(&c, LOCAL_TCP + 1, HOST, port, REPLY_MS) == 0,
		   "http: connected to the host again"))
		return;
	if (!check(tcp_send(&c, req, strlen(req), REPLY_MS) == 0, "http: sent GET /pattern/%u",
		   bytes))
		goto close;
	while ((n = tcp_recv(&c, chunk, sizeof(chunk), REPLY_MS)) > 0) {
		unsigned i = 0;
		while (!in_body && i < (unsigned)n && hlen < sizeof(hdr)) {
			hdr[hlen++] = (char)chunk[i++];
			in_body = hlen >= 4 && !memcmp(hdr + hlen - 4, "\r\n\r\n", 4);
		}
		if (!in_body)
			continue;
		for (; i < (unsigned)n; i++, got++) {
			if (chunk[i] != pattern(got) && !bad++)
				first_bad = got;
		}
	}
	check(n == 0, "http: the response ended with the server's FIN");
	check(in_body && hlen >= 12 && !memcmp(hdr, "HTTP/1.", 7) && !memcmp(hdr + 8, " 200", 4),
	      "http: /pattern/%u: status 200", bytes);
	check(got == bytes, "http: /pattern/%u: %u bytes came", bytes, got);
	if (bad)
		check(false, "http: /pattern/%u: %u bytes differ, the first at %u", bytes, bad,
		      first_bad);
	else
		printf("http: /pattern/%u: every byte as expected\n", bytes);
close:
	check(tcp_close(&c, REPLY_MS) == 0, "http: connection closed");
}

static void udp_listen(u16 port, u32 wait_ms)
{
	static u8 buf[NET_UDP_MAX], reply[NET_UDP_MAX];
	struct udp_sock s;

	if (!check(udp_bind(&s, port) == 0, "udp: bound port %u", port))
		return;
	printf("udp: listening on %u\n", port);
	int len = udp_recv(&s, buf, sizeof(buf), wait_ms);
	if (check(len >= 0, "udp: a datagram came to port %u", port)) {
		printf("udp: datagram \"%s\" from %s\n", printable(buf, (unsigned)len),
		       s.from == HOST ? "10.0.2.2" : "another address");
		printf("peer: udp: from port %u\n", s.from_port);
		unsigned n = (unsigned)len > NET_UDP_MAX - 6 ? NET_UDP_MAX - 6 : (unsigned)len;
		memcpy(reply, "echo: ", 6);
		memcpy(reply + 6, buf, n);
		check(udp_send(port, s.from, s.from_port, reply, n + 6) == 0,
		      "udp: answered the datagram");
	}
	udp_unbind(&s);
}

static void tcp_listen(u16 port, u32 wait_ms)
{
	static struct tcp_conn c;
	static u8 line[TCP_RX_BUF], reply[TCP_RX_BUF + 6];
	unsigned len = 0;
	int n = 0;

	printf("tcp: listening on %u\n", port);
	if (!check(tcp_accept(&c, port, wait_ms) == 0, "tcp: a connection came to port %u", port))
		return;
	printf("tcp: connection from %s\n", c.raddr == HOST ? "10.0.2.2" : "another address");
	while (len < sizeof(line) && !has_newline(line, len) &&
	       (n = tcp_recv(&c, line + len, sizeof(line) - len, REPLY_MS)) > 0)
		len += (unsigned)n;
	if (check(has_newline(line, len), "tcp: a line came")) {
		printf("tcp: line \"%s\"\n", printable(line, len));
		memcpy(reply, "echo: ", 6);
		memcpy(reply + 6, line, len);
		check(tcp_send(&c, reply, len + 6, REPLY_MS) == 0, "tcp: answered the line");
	}
	check(tcp_close(&c, REPLY_MS) == 0, "tcp: connection closed");
}

void test_main(void)
{
	const char *model = arg_str("nic");
	u16 udp = arg_port("udp"), http = arg_port("http");
	u16 listen_udp = arg_port("listen_udp"), listen_tcp = arg_port("listen_tcp");
	u64 wait_s = 60, bulk = 0;
	char a[16], b[16], c[16];

	arg_u64("wait", &wait_s);
	if (arg_str("bulk") && (!arg_u64("bulk", &bulk) || bulk > 64 * MiB))
		check(false, "argument bulk=%s is a size of at most 64 MiB", arg_str("bulk"));
	if (!model)
		model = "e1000";
	if (!strcmp(model, "e1000")) {
		if (e1000_probe(&nic) < 0)
			test_abort();
	} else if (!strcmp(model, "virtio")) {
		if (!virtio_net_probe) {
			printf("FAIL: virtio-net driver not built (lib/virtio_net.c)\n");
			test_abort();
		}
		if (virtio_net_probe(&nic) < 0)
			test_abort();
	} else {
		printf("FAIL: nic=%s: e1000 or virtio\n", model);
		test_abort();
	}
	const u8 *m = nic.mac;
	printf("nic: %s mac %02x:%02x:%02x:%02x:%02x:%02x\n", nic.name, m[0], m[1], m[2], m[3],
	       m[4], m[5]);
	net_init(&nic);
	if (!check(net_wait_link(LINK_MS), "nic: link up"))
		test_finish();

	if (!check(net_dhcp(DHCP_MS) == 0, "dhcp: got a lease"))
		test_finish();
	printf("dhcp: lease %s router %s dns %s\n", net_ip_str(net_cfg.ip, a),
	       net_ip_str(net_cfg.router, b), net_ip_str(net_cfg.dns, c));
	printf("dhcp: netmask %s server %s lease time %u s\n", net_ip_str(net_cfg.netmask, a),
	       net_ip_str(net_cfg.server, b), net_cfg.lease_s);
	check((net_cfg.ip & net_cfg.netmask) == (net_cfg.router & net_cfg.netmask) &&
		  net_cfg.ip != net_cfg.router,
	      "dhcp: the router is on the leased subnet");

	if (udp)
		udp_exchange(udp);
	if (http)
		http_get(http);
	if (http && bulk)
		http_bulk(http, (u32)bulk);
	if (listen_udp)
		udp_listen(listen_udp, (u32)wait_s * 1000);
	if (listen_tcp)
		tcp_listen(listen_tcp, (u32)wait_s * 1000);
	/* Counts differ (QEMU's slirp also sends IPv6 router advertisements, for one). */
	printf("peer: net: %u frames in, %u out, %u ARP replies, %u echo replies, %u dropped\n",
	       net_counters.rx_frames, net_counters.tx_frames, net_counters.arp_replies_sent,
	       net_counters.icmp_echo_replies, net_counters.dropped);
}
