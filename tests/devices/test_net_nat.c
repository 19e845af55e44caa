/* The NAT switch (libslirp) through a port: the test plays a guest's IP
 * stack with raw frames: DHCP, ARP, UDP and TCP to servers on the host's
 * loopback, host port forwards, TFTP, restricted mode. */
#include "tests/devices/test_net_nat.h"

static void test_dhcp(void **state)
{
	struct nat_test *t = *state;
	struct nf_dhcp_msg ack;
	assert_int_equal(make_port(t, NULL), 0);
	assert_true(net_port_link_up(t->port));
	dhcp_exchange(t, &ack);
	assert_string_equal(ack.file, "");

	struct net_port_stats s;
	net_port_stats(t->port, &s);
	assert_int_equal(s.tx_frames, 2);
	assert_true(s.rx_frames >= 2);
	assert_int_equal(s.guest_errors, 0);
}

static void test_arp(void **state)
{
	struct nat_test *t = *state;
	assert_int_equal(make_port(t, NULL), 0);
	arp_gateway(t);

	/* Nobody answers for an address outside the switch's own. */
	uint8_t f[64];
	struct kept k;
	struct nf_frame nf;
	const struct want w = {.type = NF_ETH_ARP, .arp_op = NF_ARP_REPLY};
	send_frame(t, f, nf_arp(f, NF_ARP_REQUEST, guest_mac, GUEST_IP, NULL, NF_IP(10, 0, 2, 77)));
	assert_false(wait_frame(t, &w, QUIET_MS, &k, &nf));
}

static void test_udp_to_host(void **state)
{
	struct nat_test *t = *state;
	uint16_t port;
	int srv = host_socket(SOCK_DGRAM, &port);
	assert_int_equal(make_port(t, NULL), 0);

	uint8_t f[NF_FRAME_MAX], buf[64];
	send_frame(t, f, nf_udp(f, gw_mac, guest_mac, GUEST_IP, 4000, HOST_IP, port, "ping", 4));
	struct sockaddr_in from;
	ssize_t n = recv_wait(srv, buf, sizeof(buf), WAIT_MS, &from);
	assert_int_equal(n, 4);
	assert_memory_equal(buf, "ping", 4);
	assert_int_equal(sendto(srv, "pong!", 5, 0, (struct sockaddr *)&from, sizeof(from)), 5);

	struct kept k;
	struct nf_frame nf;
	const struct want w = {.proto = NF_PROTO_UDP, .dport = 4000};
	assert_true(wait_frame(t, &w, WAIT_MS, &k, &nf));
	assert_memory_equal(nf.dst, guest_mac, 6);
	assert_int_equal(nf.sip, HOST_IP);
	assert_int_equal(nf.dip, GUEST_IP);
	assert_int_equal(nf.sport, port);
	assert_int_equal(nf.data_len, 5);
	assert_memory_equal(nf.data, "pong!", 5);
	/* The switch asked for the guest's address and receive answered it
	 * from the switch's thread: no deadlock. */
	assert_true(atomic_load(&t->arp_answered) >= 1);
	close(srv);
}

static void test_tcp_to_host(void **state)
{
	struct nat_test *t = *state;
	uint16_t port;
	int lsn = host_socket(SOCK_STREAM, &port);
	assert_int_equal(make_port(t, NULL), 0);

	uint8_t f[NF_FRAME_MAX], buf[64];
	struct kept k;
	struct nf_frame nf;
	const uint32_t iss = 1000;
	send_frame(t, f,
		   nf_tcp(f, gw_mac, guest_mac, GUEST_IP, 5000, HOST_IP, port, iss, 0, NF_TCP_SYN,
			  65535, NULL, 0));
	const struct want synack = {
	    .proto = NF_PROTO_TCP, .dport = 5000, .tcp_flags = NF_TCP_SYN | NF_TCP_ACK};
	assert_true(wait_frame(t, &synack, WAIT_MS, &k, &nf));
	assert_int_equal(nf.sport, port);
	assert_int_equal(nf.sip, HOST_IP);
	assert_int_equal(nf.ack, iss + 1);
	uint32_t irs = nf.seq;

	assert_true(readable(lsn, WAIT_MS));
	int c = accept(lsn, NULL, NULL);
	assert_true(c >= 0);

	send_frame(t, f,
		   nf_tcp(f, gw_mac, guest_mac, GUEST_IP, 5000, HOST_IP, port, iss + 1, irs + 1,
			  NF_TCP_ACK | NF_TCP_PSH, 65535, "hello", 5));
	assert_int_equal(recv_wait(c, buf, sizeof(buf), WAIT_MS, NULL), 5);
	assert_memory_equal(buf, "hello", 5);

	assert_int_equal(write(c, "world!", 6), 6);
	const struct want data = {.proto = NF_PROTO_TCP, .dport = 5000, .with_data = true};
	assert_true(wait_frame(t, &data, WAIT_MS, &k, &nf));
	assert_int_equal(nf.seq, irs + 1);
	assert_int_equal(nf.data_len, 6);
	assert_memory_equal(nf.data, "world!", 6);
	assert_true(nf.tcp_flags & NF_TCP_ACK);
	assert_int_equal(nf.ack, iss + 6);

	send_frame(t, f,
		   nf_tcp(f, gw_mac, guest_mac, GUEST_IP, 5000, HOST_IP, port, iss + 6, irs + 7,
			  NF_TCP_ACK, 65535, NULL, 0));
	close(c);
	close(lsn);
}

static void test_forwards(void **state)
{
	struct nat_test *t = *state;
	uint16_t up = free_port(SOCK_DGRAM), tp = free_port(SOCK_STREAM);
	char extra[256];
	snprintf(extra, sizeof(extra),
		 "forward=\"udp:127.0.0.1:%u -> 5555;tcp:127.0.0.1:%u -> 6666\"", up, tp);
	assert_int_equal(make_port(t, extra), 0);

	/* UDP: a datagram to the host port reaches the guest's 5555 ... */
	uint8_t f[NF_FRAME_MAX], buf[64];
	struct kept k;
	struct nf_frame nf;
	uint16_t dummy;
	int u = host_socket(SOCK_DGRAM, &dummy);
	sendto_loopback(u, up, "to-guest");
	const struct want wu = {.proto = NF_PROTO_UDP, .dip = GUEST_IP, .dport = 5555};
	assert_true(wait_frame(t, &wu, WAIT_MS, &k, &nf));
	assert_memory_equal(nf.dst, guest_mac, 6);
	assert_int_equal(nf.data_len, 8);
	assert_memory_equal(nf.data, "to-guest", 8);
	/* ... and the guest's answer gets back to the sender. */
	send_frame(t, f,
		   nf_udp(f, gw_mac, guest_mac, GUEST_IP, 5555, nf.sip, nf.sport, "to-host", 7));
	assert_int_equal(recv_wait(u, buf, sizeof(buf), WAIT_MS, NULL), 7);
	assert_memory_equal(buf, "to-host", 7);
	close(u);

	/* TCP: a connection to the host port becomes a SYN to the guest's 6666. */
	int c = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	assert_true(c >= 0);
	struct sockaddr_in a = {
	    .sin_family = AF_INET, .sin_port = htons(tp), .sin_addr.s_addr = htonl(LOOPBACK)};
	assert_int_equal(connect(c, (struct sockaddr *)&a, sizeof(a)), 0);
	const struct want ws = {
	    .proto = NF_PROTO_TCP, .dip = GUEST_IP, .dport = 6666, .tcp_flags = NF_TCP_SYN};
	assert_true(wait_frame(t, &ws, WAIT_MS, &k, &nf));
	uint32_t irs = nf.seq, iss = 7000;
	uint32_t peer = nf.sip;
	uint16_t pport = nf.sport;
	send_frame(t, f,
		   nf_tcp(f, gw_mac, guest_mac, GUEST_IP, 6666, peer, pport, iss, irs + 1,
			  NF_TCP_SYN | NF_TCP_ACK, 65535, NULL, 0));
	assert_int_equal(write(c, "abc", 3), 3);
	const struct want wd = {
	    .proto = NF_PROTO_TCP, .dip = GUEST_IP, .dport = 6666, .with_data = true};
	assert_true(wait_frame(t, &wd, WAIT_MS, &k, &nf));
	assert_int_equal(nf.data_len, 3);
	assert_memory_equal(nf.data, "abc", 3);
	assert_int_equal(nf.seq, irs + 1);
	send_frame(t, f,
		   nf_tcp(f, gw_mac, guest_mac, GUEST_IP, 6666, peer, pport, iss + 1, irs + 4,
			  NF_TCP_ACK | NF_TCP_PSH, 65535, "xyz", 3));
	assert_int_equal(recv_wait(c, buf, sizeof(buf), WAIT_MS, NULL), 3);
	assert_memory_equal(buf, "xyz", 3);
	close(c);
}

static void test_tftp(void **state)
{
	struct nat_test *t = *state;
	snprintf(t->dir, sizeof(t->dir), "/tmp/osio-nat-tftp-XXXXXX");
	assert_non_null(mkdtemp(t->dir));
	char path[128], extra[256];
	uint8_t content[700];
	for (size_t i = 0; i < sizeof(content); i++)
		content[i] = (uint8_t)(i * 7 + 3);
	snprintf(path, sizeof(path), "%s/boot.ipxe", t->dir);
	FILE *fp = fopen(path, "wb");
	assert_non_null(fp);
	assert_int_equal(fwrite(content, 1, sizeof(content), fp), sizeof(content));
	fclose(fp);
	snprintf(extra, sizeof(extra), "tftp=%s,bootfile=boot.ipxe", t->dir);
	assert_int_equal(make_port(t, extra), 0);

	struct nf_dhcp_msg ack;
	dhcp_exchange(t, &ack);
	assert_string_equal(ack.file, "boot.ipxe");
	assert_int_equal(ack.siaddr, HOST_IP);

	uint8_t f[NF_FRAME_MAX], rrq[64];
	size_t n = 0;
	nf_put16(rrq, 1); /* RRQ */
	n = 2;
	memcpy(rrq + n, "boot.ipxe", 10);
	n += 10;
	memcpy(rrq + n, "octet", 6);
	n += 6;
	send_frame(t, f, nf_udp(f, gw_mac, guest_mac, GUEST_IP, 2001, HOST_IP, 69, rrq, n));
	struct kept k;
	struct nf_frame nf;
	const struct want w = {.proto = NF_PROTO_UDP, .dport = 2001};
	assert_true(wait_frame(t, &w, WAIT_MS, &k, &nf));
	assert_int_equal(nf.sip, HOST_IP);
	assert_int_equal(nf.data_len, 4 + 512);
	assert_int_equal(nf_get16(nf.data), 3); /* DATA */
	assert_int_equal(nf_get16(nf.data + 2), 1);
	assert_memory_equal(nf.data + 4, content, 512);
	/* ACK 1 brings the last, short block; ACK 2 ends the transfer. */
	uint16_t tid = nf.sport;
	uint8_t tack[4];
	nf_put16(tack, 4);
	nf_put16(tack + 2, 1);
	send_frame(t, f, nf_udp(f, gw_mac, guest_mac, GUEST_IP, 2001, HOST_IP, tid, tack, 4));
	assert_true(wait_frame(t, &w, WAIT_MS, &k, &nf));
	assert_int_equal(nf.data_len, 4 + sizeof(content) - 512);
	assert_int_equal(nf_get16(nf.data), 3);
	assert_int_equal(nf_get16(nf.data + 2), 2);
	assert_memory_equal(nf.data + 4, content + 512, sizeof(content) - 512);
	nf_put16(tack + 2, 2);
	send_frame(t, f, nf_udp(f, gw_mac, guest_mac, GUEST_IP, 2001, HOST_IP, tid, tack, 4));

	/* A file that is not there: an ERROR packet. */
	memcpy(rrq + 2, "nothere.x", 10);
	send_frame(t, f, nf_udp(f, gw_mac, guest_mac, GUEST_IP, 2002, HOST_IP, 69, rrq, n));
	const struct want we = {.proto = NF_PROTO_UDP, .dport = 2002};
	assert_true(wait_frame(t, &we, WAIT_MS, &k, &nf));
	assert_int_equal(nf_get16(nf.data), 5);
}

/* Sends a UDP datagram from the guest to dip:port; whether srv got it. */
static bool udp_reaches(struct nat_test *t, int srv, uint32_t dip, uint16_t port)
{
	uint8_t f[NF_FRAME_MAX], buf[64];
	send_frame(t, f, nf_udp(f, gw_mac, guest_mac, GUEST_IP, 4100, dip, port, "knock", 5));
	return recv_wait(srv, buf, sizeof(buf), QUIET_MS * 3, NULL) == 5;
}

static void test_unrestricted_reaches_beyond(void **state)
{
	struct nat_test *t = *state;
	uint16_t port;
	int srv = host_socket(SOCK_DGRAM, &port);
	assert_int_equal(make_port(t, NULL), 0);
	/* 127.0.0.1 itself lies outside the guest's network: NAT takes it there. */
	assert_true(udp_reaches(t, srv, LOOPBACK, port));
	close(srv);
}

static void test_restricted(void **state)
{
	struct nat_test *t = *state;
	uint16_t port, tport;
	int srv = host_socket(SOCK_DGRAM, &port), lsn = host_socket(SOCK_STREAM, &tport);
	assert_int_equal(make_port(t, "restrict=on"), 0);

	struct nf_dhcp_msg ack;
	dhcp_exchange(t, &ack); /* DHCP still works, and gives the host as router */
	assert_false(udp_reaches(t, srv, LOOPBACK, port));
	assert_true(udp_reaches(t, srv, HOST_IP, port));

	uint8_t f[NF_FRAME_MAX];
	send_frame(t, f,
		   nf_tcp(f, gw_mac, guest_mac, GUEST_IP, 5001, LOOPBACK, tport, 1, 0, NF_TCP_SYN,
			  65535, NULL, 0));
	assert_false(readable(lsn, QUIET_MS));
	close(srv);
	close(lsn);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test_setup_teardown(test_dhcp, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_arp, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_udp_to_host, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_tcp_to_host, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_forwards, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_tftp, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_unrestricted_reaches_beyond, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_restricted, setup, teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
