/* The NAT switch against bad input and hard times: forwards that cannot be
 * bound, a missing TFTP folder, malformed frames, an adapter with no room
 * (back-pressure), switches closed while the host sends. */
#include "tests/devices/test_net_nat.h"

static void test_forward_in_use(void **state)
{
	struct nat_test *t = *state;
	uint16_t tp, up;
	int busy_t = host_socket(SOCK_STREAM, &tp), busy_u = host_socket(SOCK_DGRAM, &up);
	char extra[256], msg[1024], want[64];

	snprintf(extra, sizeof(extra), "forward=\"tcp:127.0.0.1:%u -> 22\"", tp);
	assert_int_equal(make_port_capture(t, extra, msg, sizeof(msg)), -EADDRINUSE);
	assert_null(t->port);
	snprintf(want, sizeof(want), "tcp:127.0.0.1:%u -> 22", tp);
	assert_non_null(strstr(msg, want));
	assert_non_null(strstr(msg, "nic0"));
	assert_non_null(strstr(msg, "choose a free host port"));
	assert_ptr_equal(strchr(msg, '\n'), msg + strlen(msg) - 1); /* one line */

	/* The second forward fails: the first is released again. */
	uint16_t ok = free_port(SOCK_STREAM);
	snprintf(extra, sizeof(extra), "forward=\"tcp:127.0.0.1:%u -> 22;udp:127.0.0.1:%u -> 53\"",
		 ok, up);
	assert_int_equal(make_port_capture(t, extra, msg, sizeof(msg)), -EADDRINUSE);
	snprintf(want, sizeof(want), "udp:127.0.0.1:%u -> 53", up);
	assert_non_null(strstr(msg, want));
	int s = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	struct sockaddr_in a = {
	    .sin_family = AF_INET, .sin_port = htons(ok), .sin_addr.s_addr = htonl(LOOPBACK)};
	assert_int_equal(bind(s, (struct sockaddr *)&a, sizeof(a)), 0);
	close(s);

	/* A guest address outside the subnet is refused too. */
	snprintf(extra, sizeof(extra), "forward=\"tcp:127.0.0.1:%u -> 192.168.1.5:22\"", ok);
	assert_int_equal(make_port_capture(t, extra, msg, sizeof(msg)), -EINVAL);
	assert_non_null(strstr(msg, "10.0.2.0/24"));
	close(busy_t);
	close(busy_u);
}

static void test_tftp_missing_folder(void **state)
{
	struct nat_test *t = *state;
	char msg[1024];
	assert_int_equal(make_port_capture(t, "tftp=/nonexistent/osio-tftp", msg, sizeof(msg)),
			 -ENOENT);
	assert_non_null(strstr(msg, "/nonexistent/osio-tftp"));
	assert_non_null(strstr(msg, "tftp="));
}

static void test_malformed(void **state)
{
	struct nat_test *t = *state;
	assert_int_equal(make_port(t, NULL), 0);
	uint8_t f[NF_FRAME_MAX];
	struct net_port_stats s;

	/* A runt: shorter than an Ethernet header. */
	memset(f, 0xab, sizeof(f));
	struct iovec v = {f, 10};
	assert_int_equal(net_port_send(t->port, NULL, &v, 1), -EINVAL);
	net_port_stats(t->port, &s);
	assert_int_equal(s.guest_errors, 1);

	/* IPv4 header length 12 bytes, then one longer than the packet, then a
	 * total length beyond the frame, then a version that is not 4. */
	size_t n = nf_udp(f, gw_mac, guest_mac, GUEST_IP, 4000, HOST_IP, 9, "x", 1);
	uint8_t bad[NF_FRAME_MAX];
	memcpy(bad, f, n);
	bad[14] = 0x43;
	send_frame(t, bad, n);
	memcpy(bad, f, n);
	bad[14] = 0x4f;
	send_frame(t, bad, n);
	memcpy(bad, f, n);
	nf_put16(bad + 16, 1400);
	send_frame(t, bad, n);
	memcpy(bad, f, n);
	bad[14] = 0x65;
	send_frame(t, bad, n);
	/* Only an Ethernet header and an IPv4 type. */
	send_frame(t, bad, 14 + 10);
	net_port_stats(t->port, &s);
	assert_int_equal(s.guest_errors, 6);

	/* Not counted (a NIC pads short frames), not crashing: a truncated
	 * ARP, an unknown EtherType, garbage of the largest size. */
	n = nf_arp(bad, NF_ARP_REQUEST, guest_mac, GUEST_IP, NULL, HOST_IP);
	send_frame(t, bad, 20);
	nf_put16(bad + 12, 0x88b5);
	send_frame(t, bad, 60);
	for (size_t i = 0; i < NET_FRAME_MAX; i++)
		bad[i] = (uint8_t)(i * 31);
	nf_put16(bad + 12, NF_ETH_IP4);
	bad[14] = 0x45;
	nf_put16(bad + 16, NET_FRAME_MAX - 14);
	send_frame(t, bad, NET_FRAME_MAX);
	v.iov_len = NET_FRAME_MAX + 1;
	assert_int_equal(net_port_send(t->port, NULL, &v, 1), -EINVAL);

	/* The switch still works. */
	arp_gateway(t);
	net_port_stats(t->port, &s);
	assert_int_equal(s.guest_errors, 7);
}

/* The adapter refuses a frame: the switch stops reading the host's sockets
 * (so the port's queue does not overflow) until the adapter wakes the port. */
static void test_backpressure(void **state)
{
	struct nat_test *t = *state;
	assert_int_equal(make_port(t, NULL), 0);
	uint16_t port;
	int srv = host_socket(SOCK_DGRAM, &port);
	atomic_store(&t->answer_arp, false);
	uint8_t f[NF_FRAME_MAX], buf[64];

	/* Tell the switch the guest's MAC (a gratuitous ARP), then fill the
	 * "adapter". */
	send_frame(t, f, nf_arp(f, NF_ARP_REQUEST, guest_mac, GUEST_IP, NULL, GUEST_IP));
	atomic_store(&t->refuse, true);
	send_frame(t, f, nf_udp(f, gw_mac, guest_mac, GUEST_IP, 4000, HOST_IP, port, "ping", 4));
	struct sockaddr_in from;
	assert_int_equal(recv_wait(srv, buf, sizeof(buf), WAIT_MS, &from), 4);
	assert_int_equal(sendto(srv, "pong", 4, 0, (struct sockaddr *)&from, sizeof(from)), 4);
	for (int i = 0; i < 400 && atomic_load(&t->refused) == 0; i++)
		harness_run(&t->h, 5);
	assert_int_equal(atomic_load(&t->refused), 1);

	/* More than the port could keep (256 frames) while the adapter is full
	 * (the host's socket keeps 256 small datagrams, drops the rest). */
	const unsigned more = 400;
	for (unsigned i = 0; i < more; i++) {
		int len = snprintf((char *)buf, sizeof(buf), "pong %u", i);
		assert_int_equal(
		    sendto(srv, buf, (size_t)len, 0, (struct sockaddr *)&from, sizeof(from)), len);
	}
	harness_run(&t->h, QUIET_MS);
	assert_int_equal(atomic_load(&t->refused), 1);
	struct net_port_stats s;
	net_port_stats(t->port, &s);
	assert_int_equal(s.rx_dropped, 0);

	atomic_store(&t->refuse, false);
	net_port_wake(t->port);
	struct kept k;
	struct nf_frame nf;
	const struct want w = {.proto = NF_PROTO_UDP, .dport = 4000};
	assert_true(wait_frame(t, &w, WAIT_MS, &k, &nf));
	assert_int_equal(nf.data_len, 4);
	assert_memory_equal(nf.data, "pong", 4);
	/* Then the rest in order, as many as the host's socket buffer kept. */
	unsigned got = 0;
	while (wait_frame(t, &w, QUIET_MS, &k, &nf)) {
		int len = snprintf((char *)buf, sizeof(buf), "pong %u", got);
		assert_int_equal(nf.data_len, len);
		assert_memory_equal(nf.data, buf, (size_t)len);
		got++;
	}
	assert_true(got >= 100);
	net_port_stats(t->port, &s);
	assert_int_equal(s.rx_dropped, 0);
	/* And it delivers again as usual. */
	arp_gateway(t);
	close(srv);
}

/* Opens and closes switches while the host sends to a forward. */
static void test_close_under_traffic(void **state)
{
	struct nat_test *t = *state;
	uint16_t dummy;
	int u = host_socket(SOCK_DGRAM, &dummy);
	for (int round = 0; round < 5; round++) {
		uint16_t up = free_port(SOCK_DGRAM);
		char extra[128];
		snprintf(extra, sizeof(extra), "forward=\"udp:127.0.0.1:%u -> 5555\"", up);
		assert_int_equal(make_port(t, extra), 0);
		for (int i = 0; i < 20; i++)
			sendto_loopback(u, up, "flood");
		harness_run(&t->h, 20);
		/* The adapter sends nothing once destroy begins. */
		atomic_store(&t->answer_arp, false);
		net_port_destroy(t->port);
		t->port = NULL;
		atomic_store(&t->answer_arp, true);
	}
	close(u);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test_setup_teardown(test_forward_in_use, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_tftp_missing_folder, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_malformed, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_backpressure, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_close_under_traffic, setup, teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
