/* virtio-net (VIRTIO 1.2, 5.1) driven as Linux's virtio_net drives it, with
 * the network on a socketpair (switch=fd): identity, features and
 * configuration, transmit with checksum and segmentation offloads, receive
 * with and without mergeable buffers, a full ring and its wake-up, and
 * link changes. */
#include "devices/net/net_switch.h"
#include "tests/devices/virtio_net_driver.h"

static void test_identity_and_config(void **state)
{
	(void)state;
	struct vn *v = vn_create(NULL);
	/* Transitional, as QEMU's pc machine makes it: the legacy id. */
	assert_int_equal(v->d.device, 0x1000);
	assert_int_equal(v->d.subsys, 1);
	assert_int_equal(vdrv_cfg_read(&v->d, 0x09, 4) >> 8, 0x020000);
	assert_true(v->d.has_io);
	assert_true(vn_start(v, VN_LINUX_FEATURES, 1));
	uint64_t want = VN_LINUX_FEATURES & ~VN_BIT(VN_F_MQ);
	assert_int_equal(v->d.features & ~(VN_BIT(VIRTIO_F_VERSION_1)), want);
	/* Not offered: receive segmentation, RSS (60), hash reports (57). */
	assert_false(v->d.features & VN_BIT(VN_F_GUEST_TSO4));
	assert_false(v->d.features & VN_BIT(VN_F_GUEST_UFO));
	assert_false(v->d.features & VN_BIT(VN_F_HOST_UFO));
	assert_false(v->d.features & (VN_BIT(57) | VN_BIT(60)));

	uint8_t mac[6];
	for (unsigned i = 0; i < 6; i++)
		mac[i] = (uint8_t)hmmio_read(&v->h, v->d.devcfg + i, 1);
	assert_memory_equal(mac, vn_mac, 6);
	assert_int_equal(hmmio_read(&v->h, v->d.devcfg + 6, 2), 1); /* LINK_UP */
	assert_int_equal(hmmio_read(&v->h, v->d.devcfg + 8, 2), 1); /* pairs */
	assert_int_equal(hmmio_read(&v->h, v->d.devcfg + 10, 2), 1500);
	assert_int_equal(hmmio_read(&v->h, v->d.devcfg + 12, 4), 10000);
	assert_int_equal(hmmio_read(&v->h, v->d.devcfg + 16, 1), 1);
	/* A modern driver cannot change the MAC through the configuration. */
	hmmio_write(&v->h, v->d.devcfg, 0x77, 1);
	assert_int_equal(hmmio_read(&v->h, v->d.devcfg, 1), 0x52);
	/* 2 queues + the control queue. */
	assert_int_equal(vdrv_cc_read(&v->d, VDRV_CC_NUMQ, 2), 3);
	vn_free(v);
}

static void test_feature_dependencies(void **state)
{
	(void)state;
	struct vn *v = vn_create("queues=2");
	uint64_t all = VN_LINUX_FEATURES;
	assert_true(vdrv_negotiate(&v->d, all));
	assert_true(v->d.accepted & VN_BIT(VN_F_MQ));
	/* TSO needs CSUM; the control features need the control queue. */
	assert_false(vdrv_negotiate(&v->d, VN_BIT(VN_F_HOST_TSO4)));
	assert_false(vdrv_negotiate(&v->d, VN_BIT(VN_F_CTRL_RX)));
	assert_false(vdrv_negotiate(&v->d, VN_BIT(VN_F_MQ)));
	assert_false(vdrv_negotiate(&v->d, VN_BIT(VN_F_CSUM) | VN_BIT(VN_F_HOST_ECN)));
	assert_true(vdrv_negotiate(&v->d, VN_BIT(VN_F_CSUM) | VN_BIT(VN_F_HOST_TSO4)));
	assert_true(vdrv_negotiate(&v->d, 0));
	vn_free(v);
}

static void test_tx_plain_and_checksum(void **state)
{
	(void)state;
	struct vn *v = vn_create(NULL);
	assert_true(vn_start(v, VN_LINUX_FEATURES, 1));
	uint8_t f[2048], got[2048], h[12];

	/* A complete frame goes out as it is. */
	size_t len = vn_frame(f, vn_peer, vn_mac, 17, 1000, 53, 100, 1, false);
	vn_hdr(h, 0, 0, 0, 0, 0, 0);
	vn_tx(v, 0, h, f, len);
	assert_int_equal(vn_net_recv(v, got, sizeof(got), 1000), (ssize_t)len);
	assert_memory_equal(got, f, len);

	/* NEEDS_CSUM: the switch needs complete frames, so the port finishes
	 * the checksum the driver left (UDP, then TCP). */
	len = vn_frame(f, vn_peer, vn_mac, 17, 1000, 53, 333, 7, true);
	assert_false(vn_l4_csum_ok(f, len));
	vn_hdr(h, NET_HDR_F_NEEDS_CSUM, 0, 0, 0, 34, 6);
	vn_tx(v, 0, h, f, len);
	assert_int_equal(vn_net_recv(v, got, sizeof(got), 1000), (ssize_t)len);
	assert_true(vn_l4_csum_ok(got, len));
	assert_memory_equal(got + 42, f + 42, len - 42);

	len = vn_frame(f, vn_peer, vn_mac, 6, 4000, 80, 1000, 3, true);
	vn_hdr(h, NET_HDR_F_NEEDS_CSUM, 0, 0, 0, 34, 16);
	vn_tx(v, 0, h, f, len);
	assert_int_equal(vn_net_recv(v, got, sizeof(got), 1000), (ssize_t)len);
	assert_true(vn_l4_csum_ok(got, len));

	/* Linux puts header and frame in an indirect table. */
	len = vn_frame(f, vn_peer, vn_mac, 17, 1001, 53, 64, 2, false);
	memset(hram(&v->h, VN_SCRATCH, 12), 0, 12);
	memcpy(hram(&v->h, VN_SCRATCH + 64, len), f, len);
	struct vdrv_buf ib[2] = {{VN_SCRATCH, 12, false}, {VN_SCRATCH + 64, (uint32_t)len, false}};
	assert_true(vdrv_add(&v->d, &v->q[1], ib, 2, VN_SCRATCH + 0x1000) >= 0);
	vdrv_kick(&v->d, &v->q[1]);
	assert_int_equal(vn_net_recv(v, got, sizeof(got), 1000), (ssize_t)len);
	assert_memory_equal(got, f, len);
	uint16_t head;
	uint32_t used;
	assert_true(vdrv_wait_used(&v->d, &v->q[1], 1, 1000));
	assert_true(vdrv_get_used(&v->d, &v->q[1], &head, &used));

	struct net_port_stats s = vn_stats(v);
	assert_int_equal(s.tx_frames, 4);
	assert_int_equal(s.guest_errors, 0);
	/* The chains came back with one interrupt each (queue 1: vector 2). */
	assert_int_equal(vdrv_msi_count(&v->d, 2), 4);
	vn_free(v);
}

/* TSO: one 3000-byte TCP segment becomes three frames of 1000 bytes with
 * their own lengths, sequence numbers and checksums. */
static void test_tx_tso(void **state)
{
	(void)state;
	struct vn *v = vn_create(NULL);
	assert_true(vn_start(v, VN_LINUX_FEATURES, 1));
	static uint8_t f[4096], got[2048];
	uint8_t h[12];
	size_t len = vn_frame(f, vn_peer, vn_mac, 6, 4000, 80, 3000, 9, true);
	vn_hdr(h, NET_HDR_F_NEEDS_CSUM, NET_HDR_GSO_TCPV4, 54, 1000, 34, 16);
	vn_tx(v, 0, h, f, len);
	for (unsigned i = 0; i < 3; i++) {
		ssize_t n = vn_net_recv(v, got, sizeof(got), 1000);
		assert_int_equal(n, 54 + 1000);
		assert_int_equal(vn_get16(got + 16), 20 + 20 + 1000);
		assert_true(vn_ip_csum_ok(got));
		assert_true(vn_l4_csum_ok(got, (size_t)n));
		assert_int_equal(vn_get32(got + 38), 0x10000000u + 1000 * i);
		assert_memory_equal(got + 54, f + 54 + 1000 * i, 1000);
		/* PSH only on the last segment. */
		assert_int_equal(!!(got[47] & 0x08), i == 2);
	}
	assert_int_equal(vn_net_recv(v, got, sizeof(got), 20), -1);
	assert_int_equal(vn_stats(v).guest_errors, 0);
	vn_free(v);
}

/* TSO over IPv6: two segments, each with a valid TCP checksum over the
 * IPv6 pseudo-header and its own payload length. */
static void test_tx_tso6(void **state)
{
	(void)state;
	struct vn *v = vn_create(NULL);
	assert_true(vn_start(v, VN_LINUX_FEATURES, 1));
	static uint8_t f[4096], got[2048];
	uint8_t h[12], *ip = f + 14, *tcp = f + 54;
	size_t payload = 2400, l4len = 20 + payload, len = 54 + l4len;
	memcpy(f, vn_peer, 6);
	memcpy(f + 6, vn_mac, 6);
	vn_put16(f + 12, 0x86dd);
	memset(ip, 0, 40);
	ip[0] = 0x60;
	vn_put16(ip + 4, (uint16_t)l4len);
	ip[6] = 6;
	ip[7] = 64;
	ip[8] = 0xfd;
	ip[23] = 0x0f;
	ip[24] = 0xfd;
	ip[39] = 0x02;
	memset(tcp, 0, 20);
	vn_put16(tcp, 4000);
	vn_put16(tcp + 2, 80);
	tcp[12] = 5 << 4;
	tcp[13] = 0x10;
	for (size_t i = 0; i < payload; i++)
		tcp[20 + i] = (uint8_t)(i * 7);
	uint32_t ps = vn_sum(0, ip + 8, 32) + 6 + (uint32_t)l4len;
	vn_put16(tcp + 16, vn_fold(ps));
	vn_hdr(h, NET_HDR_F_NEEDS_CSUM, NET_HDR_GSO_TCPV6, 74, 1200, 54, 16);
	vn_tx(v, 0, h, f, len);
	for (unsigned i = 0; i < 2; i++) {
		ssize_t n = vn_net_recv(v, got, sizeof(got), 1000);
		assert_int_equal(n, 74 + 1200);
		assert_int_equal(vn_get16(got + 18), 20 + 1200);
		uint32_t s = vn_sum(0, got + 22, 32) + 6 + 20 + 1200;
		assert_int_equal(vn_fold(vn_sum(s, got + 54, 20 + 1200)), 0xffff);
		assert_int_equal(vn_get32(got + 58), 1200 * i);
		assert_memory_equal(got + 74, tcp + 20 + 1200 * i, 1200);
	}
	assert_int_equal(vn_stats(v).guest_errors, 0);
	vn_free(v);
}

/* Linux's mergeable receive buffers: a frame longer than one buffer takes
 * several, and the first one's header says how many. */
static void test_rx_mergeable(void **state)
{
	(void)state;
	struct vn *v = vn_create(NULL);
	assert_true(vn_start(v, VN_LINUX_FEATURES, 1));
	vn_rx_post(v, 0, 8, 512);
	uint8_t f[2048];
	size_t len = vn_frame(f, vn_mac, vn_peer, 17, 53, 1000, 1400 - 42, 5, false);
	vn_net_send(v, f, len);
	assert_true(vdrv_wait_used(&v->d, &v->q[0], 3, 1000));
	uint8_t got[2048];
	size_t off = 0;
	uint32_t n;
	uint8_t *b = vn_rx_used(v, 0, &n);
	assert_non_null(b);
	assert_int_equal(n, 512);
	assert_int_equal(b[0], 0);		 /* flags: no DATA_VALID from this switch */
	assert_int_equal(b[1], 0);		 /* GSO_NONE */
	assert_int_equal(b[10] | b[11] << 8, 3); /* num_buffers */
	memcpy(got, b + 12, 500);
	off = 500;
	b = vn_rx_used(v, 0, &n);
	assert_int_equal(n, 512);
	memcpy(got + off, b, 512);
	off += 512;
	b = vn_rx_used(v, 0, &n);
	assert_int_equal(n, 12 + 1400 - 1024);
	memcpy(got + off, b, n);
	assert_memory_equal(got, f, len);
	/* A small frame takes one buffer. */
	len = vn_frame(f, vn_mac, vn_peer, 17, 53, 1000, 10, 5, false);
	vn_net_send(v, f, len);
	assert_true(vdrv_wait_used(&v->d, &v->q[0], 1, 1000));
	b = vn_rx_used(v, 0, &n);
	assert_int_equal(n, 12 + len);
	assert_int_equal(b[10], 1);
	assert_memory_equal(b + 12, f, len);
	/* One interrupt per frame on queue 0's vector. */
	assert_int_equal(vdrv_msi_count(&v->d, 1), 2);
	struct net_port_stats s = vn_stats(v);
	assert_int_equal(s.rx_frames, 2);
	assert_int_equal(s.rx_dropped, 0);
	vn_free(v);
}

/* VERSION_1 without MRG_RXBUF: one buffer per frame, 12-byte header with
 * num_buffers 1; a frame too long for the buffer is dropped and the buffer
 * kept for the next. DATA_VALID passes only with GUEST_CSUM. */
static void test_rx_single_buffers(void **state)
{
	(void)state;
	struct vn *v = vn_create(NULL);
	assert_true(vn_start(v, VN_LINUX_FEATURES & ~VN_BIT(VN_F_MRG_RXBUF), 1));
	vn_rx_post(v, 0, 1, 200);
	uint8_t f[2048];
	size_t big = vn_frame(f, vn_mac, vn_peer, 17, 53, 1000, 300, 1, false);
	vn_net_send(v, f, big);
	harness_run(&v->h, 20);
	assert_int_equal(vdrv_used_idx(&v->d, &v->q[0]), 0);
	assert_int_equal(vn_stats(v).guest_errors, 1);
	size_t len = vn_frame(f, vn_mac, vn_peer, 17, 53, 1000, 100, 2, false);
	vn_net_send(v, f, len);
	assert_true(vdrv_wait_used(&v->d, &v->q[0], 1, 1000));
	uint32_t n;
	uint8_t *b = vn_rx_used(v, 0, &n);
	assert_int_equal(n, 12 + len);
	assert_int_equal(b[10] | b[11] << 8, 1);
	assert_memory_equal(b + 12, f, len);

	/* A switch that checked the checksums says so (DATA_VALID). */
	struct net_hdr valid = {.flags = NET_HDR_F_DATA_VALID};
	struct iovec iov = {f, len};
	vn_rx_post(v, 0, 1, 2048);
	harness_run(&v->h, 5);
	assert_int_equal(net_port_deliver(vn_port(v), &valid, &iov, 1, len), 0);
	b = vn_rx_used(v, 0, &n);
	assert_non_null(b);
	assert_int_equal(b[0], NET_HDR_F_DATA_VALID);
	vn_free(v);

	/* Without GUEST_CSUM the flag is not passed on. */
	v = vn_create(NULL);
	assert_true(vn_start(v, VN_BIT(VN_F_MAC), 1));
	vn_rx_post(v, 0, 1, 2048);
	harness_run(&v->h, 5);
	assert_int_equal(net_port_deliver(vn_port(v), &valid, &iov, 1, len), 0);
	b = vn_rx_used(v, 0, &n);
	assert_non_null(b);
	assert_int_equal(b[0], 0);
	assert_memory_equal(b + 12, f, len);
	vn_free(v);
}

/* No receive buffers: the frames wait in the port (not dropped) and arrive,
 * in order, once the driver posts buffers and kicks. */
static void test_rx_ring_empty(void **state)
{
	(void)state;
	struct vn *v = vn_create(NULL);
	assert_true(vn_start(v, VN_LINUX_FEATURES, 1));
	uint8_t f[3][256];
	size_t len[3];
	for (unsigned i = 0; i < 3; i++) {
		len[i] = vn_frame(f[i], vn_mac, vn_peer, 17, 53, 1000, 50 + i, (uint8_t)i, false);
		vn_net_send(v, f[i], len[i]);
	}
	harness_run(&v->h, 30);
	assert_int_equal(vdrv_used_idx(&v->d, &v->q[0]), 0);
	struct iovec iov = {f[0], len[0]};
	/* The port holds the first (the socket the rest): a frame offered now
	 * waits behind it. */
	assert_int_equal(net_port_deliver(vn_port(v), NULL, &iov, 1, len[0]), -EAGAIN);
	vn_rx_post(v, 0, 8, 1536);
	assert_true(vdrv_wait_used(&v->d, &v->q[0], 4, 1000));
	static const unsigned order[4] = {0, 0, 1, 2};
	for (unsigned i = 0; i < 4; i++) {
		uint32_t n;
		uint8_t *b = vn_rx_used(v, 0, &n);
		unsigned k = order[i];
		assert_int_equal(n, 12 + len[k]);
		assert_memory_equal(b + 12, f[k], len[k]);
	}
	struct net_port_stats s = vn_stats(v);
	assert_int_equal(s.rx_frames, 4);
	assert_int_equal(s.rx_dropped, 0);
	vn_free(v);
}

/* The link follows the port: disconnected, status reads 0 and the driver
 * gets a configuration interrupt; a new switch brings it back. */
static void test_link_change(void **state)
{
	(void)state;
	struct vn *v = vn_create(NULL);
	assert_true(vn_start(v, VN_LINUX_FEATURES, 1));
	struct net_switch_cfg cfg;
	unsigned cfg_irqs = vdrv_msi_count(&v->d, 0);
	uint8_t gen = (uint8_t)vdrv_cc_read(&v->d, VDRV_CC_GEN, 1);
	net_switch_cfg_defaults(&cfg, NET_SWITCH_NONE, "none");
	assert_int_equal(net_port_connect(vn_port(v), &cfg), 0);
	assert_int_equal(hmmio_read(&v->h, v->d.devcfg + 6, 2), 0);
	assert_int_equal(vdrv_msi_count(&v->d, 0), cfg_irqs + 1);
	assert_int_not_equal((uint8_t)vdrv_cc_read(&v->d, VDRV_CC_GEN, 1), gen);
	assert_true(hmmio_read(&v->h, v->d.isr, 1) & 2);

	/* Frames sent with the link down are dropped and counted. */
	uint8_t f[256], got[256], h[12];
	size_t len = vn_frame(f, vn_peer, vn_mac, 17, 1, 2, 20, 0, false);
	vn_hdr(h, 0, 0, 0, 0, 0, 0);
	vn_tx(v, 0, h, f, len);
	assert_int_equal(vn_stats(v).tx_dropped, 1);

	int sv[2];
	assert_int_equal(socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sv), 0);
	net_switch_cfg_defaults(&cfg, NET_SWITCH_FD, "test");
	cfg.fd = sv[1];
	assert_int_equal(net_port_connect(vn_port(v), &cfg), 0);
	assert_int_equal(hmmio_read(&v->h, v->d.devcfg + 6, 2), 1);
	assert_int_equal(vdrv_msi_count(&v->d, 0), cfg_irqs + 2);
	close(v->sock);
	v->sock = sv[0];
	vn_tx(v, 0, h, f, len);
	assert_int_equal(vn_net_recv(v, got, sizeof(got), 1000), (ssize_t)len);
	assert_memory_equal(got, f, len);
	vn_free(v);
}

/* An adapter created on no switch starts with its link down. */
static void test_link_down_at_start(void **state)
{
	(void)state;
	struct harness h;
	struct vdrv d;
	harness_init(&h, VN_RAM);
	harness_add(&h, "i440fx", "i440fx", NULL);
	harness_add(&h, "virtio-net", "net0", "slot=3,mac=" VN_MAC ",switch=none");
	vdrv_init(&d, &h, VN_DEVFN);
	assert_true(vdrv_negotiate(&d, VN_LINUX_FEATURES));
	assert_int_equal(hmmio_read(&h, d.devcfg + 6, 2), 0);
	int sv[2];
	assert_int_equal(socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sv), 0);
	struct net_switch_cfg cfg;
	net_switch_cfg_defaults(&cfg, NET_SWITCH_FD, "test");
	cfg.fd = sv[1];
	assert_int_equal(net_port_connect(net_port_find(&h.m, "net0"), &cfg), 0);
	assert_int_equal(hmmio_read(&h, d.devcfg + 6, 2), 1);
	harness_fini(&h);
	close(sv[0]);
}

/* A busy transmit queue is served in passes of bounded size: a full ring
 * is sent completely, in order. */
static void test_tx_full_ring(void **state)
{
	(void)state;
	struct vn *v = vn_create(NULL);
	assert_true(vn_start(v, VN_LINUX_FEATURES, 1));
	struct vdrv_queue *q = &v->q[1];
	uint8_t f[128], got[128];
	size_t len = 0;
	for (unsigned i = 0; i < 256; i++) {
		uint64_t gpa = VN_TXBUF + i * 256ull;
		memset(hram(&v->h, gpa, 12), 0, 12);
		len = vn_frame(f, vn_peer, vn_mac, 17, (uint16_t)i, 9, 40, (uint8_t)i, false);
		memcpy(hram(&v->h, gpa + 12, len), f, len);
		struct vdrv_buf b = {gpa, (uint32_t)(12 + len), false};
		assert_true(vdrv_add(&v->d, q, &b, 1, 0) >= 0);
	}
	vdrv_kick(&v->d, q);
	assert_true(vdrv_wait_used(&v->d, q, 256, 2000));
	for (unsigned i = 0; i < 256; i++) {
		assert_int_equal(vn_net_recv(v, got, sizeof(got), 1000), (ssize_t)len);
		assert_int_equal(vn_get16(got + 34), i);
	}
	vn_free(v);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_identity_and_config),
	    cmocka_unit_test(test_feature_dependencies),
	    cmocka_unit_test(test_tx_plain_and_checksum),
	    cmocka_unit_test(test_tx_tso),
	    cmocka_unit_test(test_tx_tso6),
	    cmocka_unit_test(test_rx_mergeable),
	    cmocka_unit_test(test_rx_single_buffers),
	    cmocka_unit_test(test_rx_ring_empty),
	    cmocka_unit_test(test_link_change),
	    cmocka_unit_test(test_link_down_at_start),
	    cmocka_unit_test(test_tx_full_ring),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
