/* virtio-net's pause and saved state: paused, the port keeps the switch's frames (dropping and
 * counting what does not fit) and the device sends nothing; saved and loaded into a new machine
 * on a new switch socket, transmit chains published before the save go out once, receive chains
 * held for a frame that did not fit are used first, and the filter (modes, MAC table, VLANs,
 * queue pairs) is the driver's, with no reset. */
#include "tests/devices/state_move.h"
#include "tests/devices/virtio_net_driver.h"

static const uint8_t extra_mac[6] = {0x52, 0x4f, 0x53, 0, 0, 0x99};
static const uint8_t other_mac[6] = {0x52, 0x4f, 0x53, 0, 0, 0x77};
static const uint8_t mcast_mac[6] = {0x01, 0x00, 0x5e, 0, 0, 0x42};

/* A frame of len bytes from the peer to dst with a type no flow hash looks into (pair 0);
 * byte i of the payload is seed + i; with vid, VLAN-tagged. */
static size_t raw_frame(uint8_t *f, const uint8_t *dst, size_t len, uint8_t seed, int vid)
{
	size_t at = 12;

	memcpy(f, dst, 6);
	memcpy(f + 6, vn_peer, 6);
	if (vid >= 0) {
		vn_put16(f + 12, 0x8100);
		vn_put16(f + 14, (uint16_t)vid);
		at = 16;
	}
	vn_put16(f + at, 0x88b5);
	for (size_t i = at + 2; i < len; i++)
		f[i] = (uint8_t)(seed + i);
	return len;
}

/* Sends a frame toward the guest, letting the loop read the socket when it is full. */
static void net_send_wait(struct vn *v, const void *frame, size_t len)
{
	for (unsigned t = 0; t < 1000; t++) {
		if (send(v->sock, frame, len, MSG_DONTWAIT) == (ssize_t)len)
			return;
		assert_true(errno == EAGAIN || errno == ENOBUFS);
		harness_run(&v->h, 1);
	}
	fail_msg("the device's socket takes no frames");
}

/* Publishes a frame on transmit queue of pair p (no kick); returns its head. */
static int tx_publish(struct vn *v, unsigned p, const void *frame, size_t len)
{
	struct vdrv_queue *q = &v->q[2 * p + 1];
	uint64_t gpa = VN_TXBUF + (v->tx_slot++ % 8) * 0x20000ull;
	uint8_t hdr[12] = {0};

	memcpy(hram(&v->h, gpa, v->hl), hdr, v->hl);
	memcpy(hram(&v->h, gpa + 64, len), frame, len);
	struct vdrv_buf b[2] = {{gpa, v->hl, false}, {gpa + 64, (uint32_t)len, false}};
	int head = vdrv_add(&v->d, q, b, 2, 0);
	assert_true(head >= 0);
	return head;
}

/* The new machine for a load: RAM from the old one, the adapter on a new socket. The driver's
 * view moves over from old (which is freed). */
static struct vn *vn_move(struct vn *old, const char *args, struct vmstate_out *out)
{
	struct vn *v = calloc(1, sizeof(*v));
	char a[512];
	int sv[2];

	assert_non_null(v);
	st_save(&old->h, out);
	uint8_t *ram = st_ram(&old->h, VN_RAM);
	harness_fini(&old->h);
	close(old->sock);
	memcpy(v, old, sizeof(*v));
	free(old);
	harness_init(&v->h, VN_RAM);
	st_put_ram(&v->h, ram, VN_RAM);
	free(ram);
	v->d.h = &v->h;
	harness_add(&v->h, "i440fx", "i440fx", NULL);
	harness_add(&v->h, "piix3", "piix3", NULL);
	assert_int_equal(socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sv), 0);
	v->sock = sv[0];
	int big = 1 << 20;
	setsockopt(sv[1], SOL_SOCKET, SO_SNDBUF, &big, sizeof(big));
	setsockopt(sv[0], SOL_SOCKET, SO_RCVBUF, &big, sizeof(big));
	snprintf(a, sizeof(a), "slot=3,mac=" VN_MAC ",switch=fd,fd=%d%s%s", sv[1],
		 args && *args ? "," : "", args ? args : "");
	harness_add(&v->h, "virtio-net", "net0", a);
	return v;
}

static void vn_load_and_go(struct vn *v, struct vmstate_out *out)
{
	char err[256] = "";

	if (st_load(&v->h, out->buf, out->len, err, sizeof(err)) < 0)
		fail_msg("load refused: %s", err);
	msi_set_backend(&v->h.m, &vdrv_msi_ops, &v->d);
	machine_pause_devices(&v->h.m, false);
}

/* Frames the switch sends while the adapter is paused wait in the port and arrive in order
 * once it goes on; what does not fit in the port's queue is dropped and counted. The paused
 * device takes no transmit chain. */
static void test_port_pause(void **state)
{
	struct vn *v = vn_create("");
	uint8_t f[1600], got[1600];
	uint32_t len;

	assert_true(vn_start(v, VN_LINUX_FEATURES, 1));
	vn_rx_post(v, 0, 200, 2048);
	machine_pause_devices(&v->h.m, true);
	for (unsigned i = 0; i < 300; i++) {
		raw_frame(f, vn_mac, 100, (uint8_t)i, -1);
		f[20] = (uint8_t)i;
		f[21] = (uint8_t)(i >> 8);
		net_send_wait(v, f, 100);
	}
	tx_publish(v, 0, f, 100);
	vn_kick(v, &v->q[1]);
	harness_run(&v->h, 100);
	assert_int_equal(vdrv_used_idx(&v->d, &v->q[0]), 0);
	assert_int_equal(vdrv_used_idx(&v->d, &v->q[1]), 0);
	assert_int_equal(recv(v->sock, got, sizeof(got), MSG_DONTWAIT), -1);
	struct net_port_stats st = vn_stats(v);
	assert_int_equal(st.rx_frames, 0);
	assert_int_equal(st.rx_dropped, 300 - 256); /* the port keeps 256 */
	machine_pause_devices(&v->h.m, false);
	assert_true(vdrv_wait_used(&v->d, &v->q[0], 200, 2000));
	for (unsigned i = 0; i < 200; i++) {
		uint8_t *p = vn_rx_used(v, 0, &len);
		assert_non_null(p);
		assert_int_equal(len, v->hl + 100);
		assert_int_equal(p[v->hl + 20] | p[v->hl + 21] << 8, i);
	}
	/* The rest come as the driver gives buffers; the transmit went out. */
	vn_rx_post(v, 0, 100, 2048);
	assert_true(vdrv_wait_used(&v->d, &v->q[0], 56, 2000));
	assert_int_equal(vn_net_recv(v, got, sizeof(got), 1000), 100);
	st = vn_stats(v);
	assert_int_equal(st.rx_frames, 256);
	vn_free(v);
}

/* The whole move: filter, held receive chains, published transmit chains, queue pairs. */
static void test_move(void **state)
{
	struct vn *v = vn_create("queues=2");
	struct vmstate_out out;
	uint8_t f[1600], got[2048];
	uint8_t zero = 0, one = 1;
	uint8_t table[4 + 6 + 4 + 6];
	uint16_t vid = 5, pairs = 2;
	uint32_t len;

	assert_true(vn_start(v, VN_LINUX_FEATURES, 2));
	/* The filter: not promiscuous; one more unicast address and one multicast; VLAN 5. */
	assert_int_equal(vn_ctrl(v, VN_CTRL_RX, VN_CTRL_RX_PROMISC, &zero, 1), VN_OK);
	memset(table, 0, sizeof(table));
	table[0] = 1;
	memcpy(table + 4, extra_mac, 6);
	table[10] = 1;
	memcpy(table + 14, mcast_mac, 6);
	assert_int_equal(vn_ctrl(v, VN_CTRL_MAC, VN_CTRL_MAC_TABLE_SET, table, sizeof(table)),
			 VN_OK);
	assert_int_equal(vn_ctrl(v, VN_CTRL_VLAN, VN_CTRL_VLAN_ADD, &vid, 2), VN_OK);
	assert_int_equal(vn_ctrl(v, VN_CTRL_MQ, VN_CTRL_MQ_PAIRS_SET, &pairs, 2), VN_OK);
	/* A 1000-byte frame needs four 256-byte buffers: the device holds the two it has. */
	vn_rx_post(v, 0, 2, 256);
	raw_frame(f, vn_mac, 1000, 1, -1);
	vn_net_send(v, f, 1000);
	harness_run(&v->h, 50);
	assert_int_equal(vdrv_used_idx(&v->d, &v->q[0]), 0);
	/* Two frames published on the first transmit queue, not kicked. */
	uint8_t t1[200], t2[300];
	raw_frame(t1, vn_peer, sizeof(t1), 7, -1);
	raw_frame(t2, vn_peer, sizeof(t2), 9, -1);
	tx_publish(v, 0, t1, sizeof(t1));
	tx_publish(v, 0, t2, sizeof(t2));

	struct vn *w = vn_move(v, "queues=2", &out);
	size_t dlen;
	assert_non_null(st_field(out.buf, out.len, "net0", "net.rx.0.held", &dlen));
	assert_int_equal(dlen, 4);
	vn_load_and_go(w, &out);
	vmstate_out_free(&out);
	/* The transmit chains go out once, in order. */
	assert_int_equal(vn_net_recv(w, got, sizeof(got), 2000), sizeof(t1));
	assert_memory_equal(got, t1, sizeof(t1));
	assert_int_equal(vn_net_recv(w, got, sizeof(got), 2000), sizeof(t2));
	assert_memory_equal(got, t2, sizeof(t2));
	assert_true(vdrv_wait_used(&w->d, &w->q[1], 2, 2000));
	assert_int_equal(vn_net_recv(w, got, sizeof(got), 50), -1);
	/* The held chains come first: a new 1000-byte frame fills them and two new ones. */
	vn_rx_post(w, 0, 2, 256);
	raw_frame(f, vn_mac, 1000, 3, -1);
	vn_net_send(w, f, 1000);
	assert_true(vdrv_wait_used(&w->d, &w->q[0], 4, 2000));
	uint8_t frame[1000];
	size_t at = 0;
	for (unsigned i = 0; i < 4; i++) {
		uint8_t *p = vn_rx_used(w, 0, &len);
		assert_non_null(p);
		if (i == 0) {
			assert_int_equal(p[10] | p[11] << 8, 4); /* num_buffers */
			memcpy(frame, p + w->hl, len - w->hl);
			at = len - w->hl;
		} else {
			memcpy(frame + at, p, len);
			at += len;
		}
	}
	assert_int_equal(at, 1000);
	assert_memory_equal(frame, f, 1000);
	/* The filter is the driver's: the other address is dropped, the extra one, the
	 * multicast one and VLAN 5 pass, VLAN 6 does not. */
	vn_rx_post(w, 0, 8, 2048);
	struct net_port_stats st0 = vn_stats(w);
	raw_frame(f, other_mac, 100, 0, -1);
	vn_net_send(w, f, 100);
	raw_frame(f, extra_mac, 100, 0, -1);
	vn_net_send(w, f, 100);
	raw_frame(f, mcast_mac, 100, 0, -1);
	vn_net_send(w, f, 100);
	raw_frame(f, vn_mac, 100, 0, 5);
	vn_net_send(w, f, 100);
	raw_frame(f, vn_mac, 100, 0, 6);
	vn_net_send(w, f, 100);
	assert_true(vdrv_wait_used(&w->d, &w->q[0], 3, 2000));
	harness_run(&w->h, 50);
	assert_int_equal(vdrv_used_idx(&w->d, &w->q[0]), 4 + 3);
	struct net_port_stats st1 = vn_stats(w);
	assert_int_equal(st1.rx_dropped - st0.rx_dropped, 2);
	/* Two pairs in use: a flow lands on the second pair's queue. */
	vn_rx_post(w, 1, 8, 2048);
	unsigned second = 0;
	for (uint16_t port = 1000; port < 1016; port++) {
		size_t n = vn_frame(f, vn_mac, vn_peer, 17, port, 53, 20, 0, false);
		vn_net_send(w, f, n);
	}
	harness_run(&w->h, 100);
	second = vdrv_used_idx(&w->d, &w->q[2]);
	assert_true(second > 0);
	/* The control queue goes on, and no reset happened. */
	assert_int_equal(vn_ctrl(w, VN_CTRL_RX, VN_CTRL_RX_PROMISC, &one, 1), VN_OK);
	assert_int_equal(vdrv_status(&w->d) & 0x4f, 0x0f);
	vn_free(w);
}

/* A damaged filter is refused; so are held chains the rings do not account for. */
static void test_damaged(void **state)
{
	struct vn *v = vn_create("");
	struct vmstate_out out;
	char err[256];
	uint8_t zero = 0;

	assert_true(vn_start(v, VN_LINUX_FEATURES & ~VN_BIT(VN_F_MQ), 1));
	assert_int_equal(vn_ctrl(v, VN_CTRL_RX, VN_CTRL_RX_PROMISC, &zero, 1), VN_OK);
	struct vn *w = vn_move(v, "", &out);
	uint8_t *ram = st_ram(&w->h, VN_RAM);
	static const struct {
		const char *field;
		uint64_t value;
		const char *why;
	} cases[] = {
	    {"net.curr_pairs", 0, "0 queue pairs"}, {"net.curr_pairs", 2, "net.curr_pairs"},
	    {"net.n_uni", 65, "net.n_uni"},	    {"net.n_multi", 1, "net.macs"},
	    {"net.tx_more", 4, "net.tx_more"},	    {"vq.0.last_avail", 1, "in flight"},
	};
	uint8_t *copy = malloc(out.len);
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		memcpy(copy, out.buf, out.len);
		st_set(copy, out.len, "net0", cases[i].field, cases[i].value);
		err[0] = 0;
		assert_int_equal(st_load(&w->h, copy, out.len, err, sizeof(err)), -EINVAL);
		if (!strstr(err, "net0") || !strstr(err, cases[i].why))
			fail_msg("%s = %llu: refused with \"%s\"", cases[i].field,
				 (unsigned long long)cases[i].value, err);
		/* A fresh machine for the next case. */
		harness_fini(&w->h);
		close(w->sock);
		harness_init(&w->h, VN_RAM);
		st_put_ram(&w->h, ram, VN_RAM);
		harness_add(&w->h, "i440fx", "i440fx", NULL);
		harness_add(&w->h, "piix3", "piix3", NULL);
		int sv[2];
		char a[128];
		assert_int_equal(socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sv), 0);
		w->sock = sv[0];
		snprintf(a, sizeof(a), "slot=3,mac=" VN_MAC ",switch=fd,fd=%d", sv[1]);
		harness_add(&w->h, "virtio-net", "net0", a);
	}
	vn_load_and_go(w, &out);
	assert_int_equal(vdrv_status(&w->d) & 0x4f, 0x0f);
	free(copy);
	free(ram);
	vmstate_out_free(&out);
	vn_free(w);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_port_pause),
	    cmocka_unit_test(test_move),
	    cmocka_unit_test(test_damaged),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
