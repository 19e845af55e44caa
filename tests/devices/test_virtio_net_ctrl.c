/* virtio-net's control queue and what it steers (VIRTIO 1.2, 5.1.6.5):
 * receive filtering (promiscuous, all-multicast, the MAC table, the MAC
 * address, VLANs), multi-queue steering by flow, and the legacy interface
 * with its 10-byte header. */
#include "tests/devices/virtio_net_driver.h"

/* Sends frame f from the network and reports whether it reached the guest
 * (on pair 0); a frame that passes every filter follows so that a dropped
 * one is known to be dropped, not late. */
static bool vn_passes(struct vn *v, const uint8_t *f, size_t len)
{
	static const uint8_t bcast[6] = {0xff, 0xff, 0xff, 0xff, 0xff, 0xff};
	uint8_t probe[128];
	size_t plen = vn_frame(probe, bcast, vn_peer, 17, 67, 68, 20, 0xb0, false);
	uint16_t before = vdrv_used_idx(&v->d, &v->q[0]);
	uint32_t n;
	bool seen = false;

	vn_net_send(v, f, len);
	vn_net_send(v, probe, plen);
	for (unsigned t = 0; t < 1000; t++) {
		uint16_t now = vdrv_used_idx(&v->d, &v->q[0]);
		if ((uint16_t)(now - before) >= 1) {
			uint8_t *b = vn_rx_used(v, 0, &n);
			if (n == 12 + plen && !memcmp(b + 12, probe, plen))
				return seen;
			assert_int_equal(n, 12 + len);
			assert_memory_equal(b + 12, f, len);
			seen = true;
			before++;
			continue;
		}
		harness_run(&v->h, 1);
	}
	fail_msg("the probe frame did not arrive");
	return false;
}

static size_t to(uint8_t *f, const uint8_t *dst)
{
	return vn_frame(f, dst, vn_peer, 17, 53, 1000, 30, 0x40, false);
}

static void test_rx_filter(void **state)
{
	(void)state;
	static const uint8_t other[6] = {0x52, 0x4f, 0x53, 9, 9, 9};
	static const uint8_t extra[6] = {0x02, 0, 0, 0, 0, 7};
	static const uint8_t mcast[6] = {0x01, 0x00, 0x5e, 0, 0, 1};
	static const uint8_t mcast2[6] = {0x01, 0x00, 0x5e, 0, 0, 2};
	struct vn *v = vn_create(NULL);
	assert_true(vn_start(v, VN_LINUX_FEATURES, 1));
	vn_rx_post(v, 0, 64, 1536);
	uint8_t f[256];

	/* Promiscuous until the driver says otherwise (as QEMU). */
	assert_true(vn_passes(v, f, to(f, other)));
	uint8_t off = 0, on = 1;
	assert_int_equal(vn_ctrl(v, VN_CTRL_RX, VN_CTRL_RX_PROMISC, &off, 1), VN_OK);
	assert_false(vn_passes(v, f, to(f, other)));
	assert_true(vn_passes(v, f, to(f, vn_mac)));
	assert_false(vn_passes(v, f, to(f, mcast)));
	assert_false(vn_passes(v, f, to(f, extra)));

	/* The MAC table: one unicast and one multicast address. */
	uint8_t table[4 + 6 + 4 + 6];
	uint32_t one = 1;
	memcpy(table, &one, 4);
	memcpy(table + 4, extra, 6);
	memcpy(table + 10, &one, 4);
	memcpy(table + 14, mcast, 6);
	assert_int_equal(vn_ctrl(v, VN_CTRL_MAC, VN_CTRL_MAC_TABLE_SET, table, sizeof(table)),
			 VN_OK);
	assert_true(vn_passes(v, f, to(f, extra)));
	assert_true(vn_passes(v, f, to(f, mcast)));
	assert_false(vn_passes(v, f, to(f, mcast2)));
	assert_int_equal(vn_ctrl(v, VN_CTRL_RX, VN_CTRL_RX_ALLMULTI, &on, 1), VN_OK);
	assert_true(vn_passes(v, f, to(f, mcast2)));
	assert_int_equal(vn_ctrl(v, VN_CTRL_RX, VN_CTRL_RX_ALLMULTI, &off, 1), VN_OK);
	assert_false(vn_passes(v, f, to(f, mcast2)));

	/* A table larger than the device keeps: every address of that kind
	 * passes (overflow). */
	static uint8_t big[4 + 6 * 100 + 4];
	uint32_t hundred = 100, zero = 0;
	memcpy(big, &hundred, 4);
	for (unsigned i = 0; i < 100; i++)
		memcpy(big + 4 + 6 * i, extra, 6);
	memcpy(big + 604, &zero, 4);
	assert_int_equal(vn_ctrl(v, VN_CTRL_MAC, VN_CTRL_MAC_TABLE_SET, big, sizeof(big)), VN_OK);
	assert_true(vn_passes(v, f, to(f, other)));
	assert_false(vn_passes(v, f, to(f, mcast)));

	/* A new address: the configuration shows it, frames follow it. */
	uint8_t empty[8] = {0};
	assert_int_equal(vn_ctrl(v, VN_CTRL_MAC, VN_CTRL_MAC_TABLE_SET, empty, 8), VN_OK);
	assert_int_equal(vn_ctrl(v, VN_CTRL_MAC, VN_CTRL_MAC_ADDR_SET, other, 6), VN_OK);
	for (unsigned i = 0; i < 6; i++)
		assert_int_equal(hmmio_read(&v->h, v->d.devcfg + i, 1), other[i]);
	assert_true(vn_passes(v, f, to(f, other)));
	assert_false(vn_passes(v, f, to(f, vn_mac)));

	/* VLAN filtering: only the VLANs the driver added. */
	uint8_t tagged[256];
	size_t len = to(f, other);
	memcpy(tagged, f, 12);
	vn_put16(tagged + 12, 0x8100);
	vn_put16(tagged + 14, 5);
	memcpy(tagged + 16, f + 12, len - 12);
	assert_false(vn_passes(v, tagged, len + 4));
	uint16_t vid = 5;
	assert_int_equal(vn_ctrl(v, VN_CTRL_VLAN, VN_CTRL_VLAN_ADD, &vid, 2), VN_OK);
	assert_true(vn_passes(v, tagged, len + 4));
	vn_put16(tagged + 14, 6);
	assert_false(vn_passes(v, tagged, len + 4));
	assert_int_equal(vn_ctrl(v, VN_CTRL_VLAN, VN_CTRL_VLAN_DEL, &vid, 2), VN_OK);
	vn_put16(tagged + 14, 5);
	assert_false(vn_passes(v, tagged, len + 4));
	vid = 4096;
	assert_int_equal(vn_ctrl(v, VN_CTRL_VLAN, VN_CTRL_VLAN_ADD, &vid, 2), VN_ERR);

	/* NOUNI needs CTRL_RX_EXTRA, which is not offered. */
	assert_int_equal(vn_ctrl(v, VN_CTRL_RX, VN_CTRL_RX_NOUNI, &on, 1), VN_ERR);
	assert_int_equal(vn_stats(v).guest_errors, 0);

	/* A reset brings back the adapter's own address and promiscuity. */
	assert_true(vn_start(v, VN_LINUX_FEATURES, 1));
	for (unsigned i = 0; i < 6; i++)
		assert_int_equal(hmmio_read(&v->h, v->d.devcfg + i, 1), vn_mac[i]);
	v->rx_slot[0] = 0;
	vn_rx_post(v, 0, 64, 1536);
	assert_true(vn_passes(v, f, to(f, other)));
	vn_free(v);
}

/* Which pair's receive queue frame f lands on (buffers posted on all). */
static unsigned landing(struct vn *v, const uint8_t *f, size_t len)
{
	uint16_t before[16];
	for (unsigned p = 0; p < v->pairs; p++)
		before[p] = vdrv_used_idx(&v->d, &v->q[2 * p]);
	vn_net_send(v, f, len);
	for (unsigned t = 0; t < 1000; t++) {
		for (unsigned p = 0; p < v->pairs; p++) {
			if (vdrv_used_idx(&v->d, &v->q[2 * p]) != before[p]) {
				uint32_t n;
				uint8_t *b = vn_rx_used(v, p, &n);
				assert_int_equal(n, 12 + len);
				assert_memory_equal(b + 12, f, len);
				return p;
			}
		}
		harness_run(&v->h, 1);
	}
	fail_msg("frame not received");
	return 0;
}

static void test_multiqueue(void **state)
{
	(void)state;
	struct vn *v = vn_create("queues=4");
	assert_true(vn_start(v, VN_LINUX_FEATURES, 4));
	assert_true(v->d.accepted & VN_BIT(VN_F_MQ));
	assert_int_equal(v->ctrl, 8);
	assert_int_equal(vdrv_cc_read(&v->d, VDRV_CC_NUMQ, 2), 9);
	assert_int_equal(hmmio_read(&v->h, v->d.devcfg + 8, 2), 4);
	for (unsigned p = 0; p < 4; p++)
		vn_rx_post(v, p, 128, 1536);
	uint8_t f[256];

	/* One pair in use until the driver sets more. */
	for (unsigned i = 0; i < 8; i++) {
		size_t len =
		    vn_frame(f, vn_mac, vn_peer, 6, (uint16_t)(5000 + i), 80, 10, 0, false);
		assert_int_equal(landing(v, f, len), 0);
	}
	uint16_t pairs = 4;
	assert_int_equal(vn_ctrl(v, VN_CTRL_MQ, VN_CTRL_MQ_PAIRS_SET, &pairs, 2), VN_OK);
	unsigned seen = 0;
	for (unsigned i = 0; i < 32; i++) {
		size_t len = vn_frame(f, vn_mac, vn_peer, 6, (uint16_t)(5000 + i), 80, 10,
				      (uint8_t)i, false);
		unsigned p = landing(v, f, len);
		/* Every frame of a flow takes the same pair. */
		assert_int_equal(landing(v, f, len), p);
		seen |= 1u << p;
	}
	/* 32 flows over 4 pairs: more than one pair is used. */
	assert_true(__builtin_popcount(seen) >= 2);

	pairs = 0;
	assert_int_equal(vn_ctrl(v, VN_CTRL_MQ, VN_CTRL_MQ_PAIRS_SET, &pairs, 2), VN_ERR);
	pairs = 5;
	assert_int_equal(vn_ctrl(v, VN_CTRL_MQ, VN_CTRL_MQ_PAIRS_SET, &pairs, 2), VN_ERR);

	/* Transmit from any pair. */
	uint8_t h[12], got[256];
	size_t len = vn_frame(f, vn_peer, vn_mac, 17, 1, 2, 30, 0, false);
	vn_hdr(h, 0, 0, 0, 0, 0, 0);
	for (unsigned p = 0; p < 4; p++) {
		vn_tx(v, p, h, f, len);
		assert_int_equal(vn_net_recv(v, got, sizeof(got), 1000), (ssize_t)len);
	}
	vn_free(v);

	/* Without MQ negotiated the control queue is queue 2. */
	v = vn_create("queues=4");
	assert_true(vn_start(v, VN_LINUX_FEATURES & ~VN_BIT(VN_F_MQ), 1));
	assert_int_equal(v->ctrl, 2);
	uint8_t off = 0;
	assert_int_equal(vn_ctrl(v, VN_CTRL_RX, VN_CTRL_RX_PROMISC, &off, 1), VN_OK);
	pairs = 2;
	assert_int_equal(vn_ctrl(v, VN_CTRL_MQ, VN_CTRL_MQ_PAIRS_SET, &pairs, 2), VN_ERR);
	vn_free(v);
}

/* Linux's virtio_pci_legacy with INTx: 32-bit features, queue pages, the
 * configuration after the legacy header, and the 10-byte header without
 * MRG_RXBUF. The MAC is writable through the configuration. */
static void test_legacy(void **state)
{
	(void)state;
	struct vn *v = vn_create("vectors=0");
	v->legacy = true;
	v->hl = 10;
	struct vdrv bridge = {.h = &v->h, .devfn = PCI_DEVFN(1, 0)};
	vdrv_cfg_write(&bridge, 0x60 + pci_slot_pirq(VN_DEVFN, 0), 11, 1);
	vdrv_leg_write(&v->d, VDRV_LEG_STATUS, 0, 1);
	vdrv_leg_write(&v->d, VDRV_LEG_STATUS, 3, 1);
	uint32_t hf = vdrv_leg_read(&v->d, VDRV_LEG_HOST_FEATURES, 4);
	assert_true(hf & VN_BIT(VN_F_MRG_RXBUF));
	uint32_t gf = (uint32_t)(VN_BIT(VN_F_MAC) | VN_BIT(VN_F_CSUM) | VN_BIT(VN_F_STATUS));
	vdrv_leg_write(&v->d, VDRV_LEG_GUEST_FEATURES, gf, 4);
	assert_true(vdrv_leg_queue_setup(&v->d, &v->q[0], 0, VN_QBASE));
	assert_true(vdrv_leg_queue_setup(&v->d, &v->q[1], 1, VN_QBASE + 0x10000));
	vdrv_leg_write(&v->d, VDRV_LEG_STATUS, 7, 1);
	assert_int_equal(vdrv_leg_read(&v->d, VDRV_LEG_STATUS, 1), 7);
	for (unsigned i = 0; i < 6; i++)
		assert_int_equal(vdrv_leg_read(&v->d, 0x14 + i, 1), vn_mac[i]);
	assert_int_equal(vdrv_leg_read(&v->d, 0x14 + 6, 2), 1);

	uint8_t f[256], got[256], h[12];
	size_t len = vn_frame(f, vn_peer, vn_mac, 17, 1, 2, 40, 3, true);
	vn_hdr(h, NET_HDR_F_NEEDS_CSUM, 0, 0, 0, 34, 6);
	vn_tx(v, 0, h, f, len);
	assert_int_equal(vn_net_recv(v, got, sizeof(got), 1000), (ssize_t)len);
	assert_true(vn_l4_csum_ok(got, len));

	vn_rx_post(v, 0, 4, 1526);
	len = vn_frame(f, vn_mac, vn_peer, 17, 2, 1, 60, 4, false);
	vn_net_send(v, f, len);
	assert_true(vdrv_wait_used(&v->d, &v->q[0], 1, 1000));
	uint32_t n;
	uint8_t *b = vn_rx_used(v, 0, &n);
	assert_int_equal(n, 10 + len);
	assert_memory_equal(b + 10, f, len);
	assert_true(v->h.irq_level[11]);
	assert_int_equal(vdrv_leg_read(&v->d, VDRV_LEG_ISR, 1), 1);

	/* Without CTRL_MAC_ADDR a legacy driver sets the MAC in the
	 * configuration; frames to the new address then reach it (the filter
	 * is promiscuous anyway, so the configuration is what is checked). */
	static const uint8_t newmac[6] = {0x52, 0x4f, 0x53, 7, 7, 7};
	for (unsigned i = 0; i < 6; i++)
		vdrv_leg_write(&v->d, 0x14 + i, newmac[i], 1);
	for (unsigned i = 0; i < 6; i++)
		assert_int_equal(vdrv_leg_read(&v->d, 0x14 + i, 1), newmac[i]);
	/* The status field is the device's. */
	vdrv_leg_write(&v->d, 0x14 + 6, 0, 2);
	assert_int_equal(vdrv_leg_read(&v->d, 0x14 + 6, 2), 1);
	vn_free(v);

	/* Legacy with MRG_RXBUF: the 12-byte header. */
	v = vn_create("vectors=0");
	v->legacy = true;
	v->hl = 12;
	vdrv_leg_write(&v->d, VDRV_LEG_STATUS, 3, 1);
	gf = (uint32_t)(VN_BIT(VN_F_MAC) | VN_BIT(VN_F_MRG_RXBUF));
	vdrv_leg_write(&v->d, VDRV_LEG_GUEST_FEATURES, gf, 4);
	assert_true(vdrv_leg_queue_setup(&v->d, &v->q[0], 0, VN_QBASE));
	assert_true(vdrv_leg_queue_setup(&v->d, &v->q[1], 1, VN_QBASE + 0x10000));
	vdrv_leg_write(&v->d, VDRV_LEG_STATUS, 7, 1);
	vn_rx_post(v, 0, 4, 1526);
	vn_net_send(v, f, len);
	assert_true(vdrv_wait_used(&v->d, &v->q[0], 1, 1000));
	b = vn_rx_used(v, 0, &n);
	assert_int_equal(n, 12 + len);
	assert_int_equal(b[10], 1);
	assert_memory_equal(b + 12, f, len);
	vn_free(v);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_rx_filter),
	    cmocka_unit_test(test_multiqueue),
	    cmocka_unit_test(test_legacy),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
