/* The port core (devices/net/net.c) with the socket switch: frames both
 * ways, the queue an adapter with no room gets and its wake-up, link changes
 * on connect/disconnect and when the switch goes away, malformed frames
 * counted, and ports found by id. The adapter here is the test's own. */
#include "devices/net/net.h"
#include "tests/devices/harness.h"

#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cmocka.h>

struct fake_nic {
	bool full;    /* refuse frames with -EAGAIN */
	unsigned got; /* frames taken */
	uint8_t last[NET_FRAME_MAX];
	size_t last_len;
	unsigned link_events;
	bool link;
};

static int fake_receive(void *opaque, const struct net_hdr *hdr, const struct iovec *iov,
			unsigned iovcnt, size_t len)
{
	struct fake_nic *n = opaque;
	if (n->full)
		return -EAGAIN;
	size_t off = 0;
	for (unsigned i = 0; i < iovcnt; i++) {
		memcpy(n->last + off, iov[i].iov_base, iov[i].iov_len);
		off += iov[i].iov_len;
	}
	assert_int_equal(off, len);
	n->last_len = len;
	n->got++;
	return 0;
}

static void fake_link(void *opaque, bool up)
{
	struct fake_nic *n = opaque;
	n->link = up;
	n->link_events++;
}

static const struct net_adapter_ops fake_ops = {.receive = fake_receive, .link_changed = fake_link};

struct setup {
	struct harness h;
	struct fake_nic nic;
	struct net_port *port;
	int peer; /* the test's end of the socket */
};

static struct net_port *open_port(struct setup *s, const char *id, int *peer)
{
	int sv[2];
	char args[128];
	struct devargs da = {0};
	struct net_port *p = NULL;
	assert_int_equal(socketpair(AF_UNIX, SOCK_SEQPACKET, 0, sv), 0);
	snprintf(args, sizeof(args), "mac=52:4f:53:00:00:01,switch=fd,fd=%d", sv[0]);
	assert_int_equal(devargs_parse(&da, args), 0);
	assert_int_equal(net_port_create(&s->h.m, id, &da, &fake_ops, &s->nic, &p), 0);
	*peer = sv[1];
	return p;
}

static int setup(void **state)
{
	struct setup *s = calloc(1, sizeof(*s));
	harness_init(&s->h, 4 << 20);
	s->port = open_port(s, "nic0", &s->peer);
	*state = s;
	return 0;
}

static int teardown(void **state)
{
	struct setup *s = *state;
	net_port_destroy(s->port);
	close(s->peer);
	harness_fini(&s->h);
	free(s);
	return 0;
}

static void frame(uint8_t *f, size_t len, uint8_t tag)
{
	memset(f, tag, len);
	memcpy(f, "\x52\x4f\x53\x00\x00\x01\x02\x00\x00\x00\x00\x02\x88\xb5", 14);
}

static bool got_n(void *ctx)
{
	struct setup *s = ctx;
	return s->nic.got >= 3;
}

static void test_both_ways(void **state)
{
	struct setup *s = *state;
	uint8_t f[100], r[200];
	uint8_t mac[NET_MAC_LEN];

	net_port_mac(s->port, mac);
	assert_memory_equal(mac, "\x52\x4f\x53\x00\x00\x01", 6);
	assert_true(net_port_link_up(s->port));
	assert_false(net_port_offloads(s->port));

	frame(f, sizeof(f), 0xaa);
	struct iovec v[2] = {{f, 40}, {f + 40, 60}};
	assert_int_equal(net_port_send(s->port, NULL, v, 2), 0);
	assert_int_equal(recv(s->peer, r, sizeof(r), MSG_DONTWAIT), 100);
	assert_memory_equal(r, f, 100);

	for (int i = 0; i < 3; i++) {
		frame(f, 60 + i, (uint8_t)i);
		assert_int_equal(send(s->peer, f, 60 + i, 0), 60 + i);
	}
	assert_true(harness_run_until(&s->h, 2000, got_n, s));
	assert_int_equal(s->nic.last_len, 62);
	assert_memory_equal(s->nic.last, f, 62);

	struct net_port_stats st;
	net_port_stats(s->port, &st);
	assert_int_equal(st.tx_frames, 1);
	assert_int_equal(st.tx_bytes, 100);
	assert_int_equal(st.rx_frames, 3);
	assert_int_equal(st.rx_bytes, 60 + 61 + 62);
	assert_ptr_equal(net_port_find(&s->h.m, "nic0"), s->port);
	assert_null(net_port_find(&s->h.m, "nic1"));
}

static void test_queue_and_wake(void **state)
{
	struct setup *s = *state;
	uint8_t f[64];

	s->nic.full = true;
	for (int i = 0; i < 5; i++) {
		frame(f, sizeof(f), (uint8_t)(0x10 + i));
		assert_int_equal(send(s->peer, f, sizeof(f), 0), (ssize_t)sizeof(f));
	}
	harness_run(&s->h, 50);
	assert_int_equal(s->nic.got, 0);
	s->nic.full = false;
	net_port_wake(s->port);
	/* The queued frame first, then the socket is read again. */
	harness_run(&s->h, 50);
	assert_int_equal(s->nic.got, 5);
	assert_int_equal(s->nic.last[20], 0x14);
	/* A wake with nothing queued does nothing. */
	net_port_wake(s->port);
	assert_int_equal(s->nic.got, 5);
}

static void test_malformed(void **state)
{
	struct setup *s = *state;
	static uint8_t big[NET_GSO_MAX + 10];
	struct iovec v = {big, 10};
	struct net_port_stats st;

	assert_int_equal(net_port_send(s->port, NULL, &v, 1), -EINVAL);
	v.iov_len = NET_FRAME_MAX + 1;
	assert_int_equal(net_port_send(s->port, NULL, &v, 1), -EINVAL);
	struct net_hdr h = {.flags = NET_HDR_F_NEEDS_CSUM, .csum_start = 50, .csum_offset = 16};
	v.iov_len = 60;
	assert_int_equal(net_port_send(s->port, &h, &v, 1), -EINVAL);
	struct net_hdr g = {.gso_type = NET_HDR_GSO_TCPV4, .gso_size = 0, .hdr_len = 54};
	v.iov_len = 3000;
	assert_int_equal(net_port_send(s->port, &g, &v, 1), -EINVAL);
	v.iov_len = NET_GSO_MAX + 1;
	g.gso_size = 1448;
	assert_int_equal(net_port_send(s->port, &g, &v, 1), -EINVAL);
	net_port_stats(s->port, &st);
	assert_int_equal(st.guest_errors, 5);
	assert_int_equal(st.tx_frames, 0);
}

static void test_link(void **state)
{
	struct setup *s = *state;
	uint8_t f[64];
	struct iovec v = {f, sizeof(f)};
	struct net_switch_cfg none, cfg;

	frame(f, sizeof(f), 1);
	net_switch_cfg_defaults(&none, NET_SWITCH_NONE, NULL);
	assert_int_equal(net_port_connect(s->port, &none), 0);
	assert_false(net_port_link_up(s->port));
	assert_int_equal(s->nic.link_events, 1);
	assert_false(s->nic.link);
	assert_int_equal(net_port_send(s->port, NULL, &v, 1), 0);
	struct net_port_stats st;
	net_port_stats(s->port, &st);
	assert_int_equal(st.tx_dropped, 1);
	net_port_switch(s->port, &cfg);
	assert_int_equal(cfg.kind, NET_SWITCH_NONE);

	int sv[2];
	assert_int_equal(socketpair(AF_UNIX, SOCK_SEQPACKET, 0, sv), 0);
	net_switch_cfg_defaults(&cfg, NET_SWITCH_FD, "again");
	cfg.fd = sv[0];
	assert_int_equal(net_port_connect(s->port, &cfg), 0);
	assert_true(net_port_link_up(s->port));
	assert_true(s->nic.link);
	assert_int_equal(s->nic.link_events, 2);
	close(s->peer);
	s->peer = sv[1];
	assert_int_equal(net_port_send(s->port, NULL, &v, 1), 0);
	assert_int_equal(recv(s->peer, f, sizeof(f), MSG_DONTWAIT), 64);

	/* The switch goes away: the link goes down, nothing crashes. */
	close(s->peer);
	s->peer = -1;
	harness_run(&s->h, 50);
	assert_false(net_port_link_up(s->port));
	assert_false(s->nic.link);
	assert_int_equal(net_port_send(s->port, NULL, &v, 1), 0);
	s->peer = socket(AF_UNIX, SOCK_DGRAM, 0);
}

static void test_bad_args(void **state)
{
	struct setup *s = *state;
	static const char *const bad[] = {
	    "switch=fd,fd=3",
	    "mac=01:00:00:00:00:01,switch=none",
	    "mac=52:4f:53:00:00:0,switch=none",
	    "mac=52:4f:53:00:00:01,switch=lan",
	    "mac=52:4f:53:00:00:01,switch=fd",
	    "mac=52:4f:53:00:00:01,switch=nat,subnet=10.0.2.1/24",
	    "mac=52:4f:53:00:00:01,switch=nat,forward=tcp:2222",
	    "mac=52:4f:53:00:00:01,switch=internal",
	    "mac=52:4f:53:00:00:01,switch=external,bridge=br0",
	    "mac=52:4f:53:00:00:01,switch=fd,fd=0",
	};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		struct devargs da = {0};
		struct net_port *p = NULL;
		assert_int_equal(devargs_parse(&da, bad[i]), 0);
		if (net_port_create(&s->h.m, "bad", &da, &fake_ops, &s->nic, &p) == 0) {
			fail_msg("accepted: %s", bad[i]);
		}
	}
	struct devargs da = {0};
	struct net_port *p = NULL;
	assert_int_equal(devargs_parse(&da, "mac=52:4f:53:00:00:09,switch=none"), 0);
	assert_int_equal(net_port_create(&s->h.m, "off", &da, &fake_ops, &s->nic, &p), 0);
	assert_false(net_port_link_up(p));
	net_port_destroy(p);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test_setup_teardown(test_both_ways, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_queue_and_wake, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_malformed, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_link, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_bad_args, setup, teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
