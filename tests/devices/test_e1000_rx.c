/* e1000 receive: frames written to the switch's socket land in the
 * receive ring as the driver set it up: address filters (exact, multicast
 * hash, promiscuous, broadcast), the FCS, buffers across descriptors,
 * checksum status, VLAN stripping and filtering, a full ring (the port
 * holds frames until RDT moves), RDTR/RADV delays, and hostile rings. */
#include "tests/devices/e1000_driver.h"

static const uint8_t me[6] = {0x52, 0x4f, 0x53, 0, 0, 1};
static const uint8_t other[6] = {0x52, 0x4f, 0x53, 0, 0, 2};
static const uint8_t bcast[6] = {0xff, 0xff, 0xff, 0xff, 0xff, 0xff};

static uint64_t guest_errors(struct edrv *d)
{
	struct net_port_stats st;
	net_port_stats(net_port_find(&d->h->m, "nic"), &st);
	return st.guest_errors;
}

static uint32_t crc32_le(const uint8_t *p, size_t len)
{
	uint32_t crc = 0xffffffffu;
	for (size_t i = 0; i < len; i++) {
		crc ^= p[i];
		for (int k = 0; k < 8; k++)
			crc = (crc & 1) ? (crc >> 1) ^ 0xedb88320u : crc >> 1;
	}
	return ~crc;
}

/* A frame to dst with a marker byte after the header. */
static size_t frame(uint8_t *f, const uint8_t dst[6], size_t len, uint8_t mark)
{
	memset(f, 0, len);
	memcpy(f, dst, 6);
	memcpy(f + 6, other, 6);
	wbe16(f + 12, 0x88b5); /* local experimental ethertype */
	for (size_t i = 14; i < len; i++)
		f[i] = (uint8_t)(mark + i);
	return len;
}

static void open_rx(struct edrv *d, unsigned n, unsigned give, uint32_t rctl)
{
	edrv_open(d, NULL);
	edrv_reset(d);
	edrv_rx_setup(d, n, give, rctl);
}

/* Sends f and checks that nothing is received within a while. */
static void expect_dropped(struct edrv *d, const uint8_t *f, size_t len)
{
	edrv_sock_send(d, f, len);
	harness_run(d->h, 20);
	assert_false(edrv_rxd(d, d->rx_next)[12] & RXD_DD);
}

static void expect_received(struct edrv *d, const uint8_t *f, size_t len)
{
	edrv_sock_send(d, f, len);
	unsigned i = edrv_rx_wait(d);
	const uint8_t *desc = edrv_rxd(d, i);
	assert_int_equal(desc[12] & (RXD_DD | RXD_EOP), RXD_DD | RXD_EOP);
	assert_int_equal(get16(desc + 8), len + 4);
	assert_memory_equal(edrv_rx_data(d, i, len), f, len);
	edrv_rx_give(d, 1);
}

static void test_rx_basic(void **state)
{
	(void)state;
	struct edrv d;
	open_rx(&d, 8, 7, RCTL_BAM);
	ew32(&d, R_IMS, ICR_RXT0);
	uint8_t f[1514];
	size_t len = frame(f, me, 1514, 1);
	edrv_sock_send(&d, f, len);
	unsigned i = edrv_rx_wait(&d);
	const uint8_t *desc = edrv_rxd(&d, i);
	/* The FCS is there (RCTL.SECRC clear); Linux strips it. */
	assert_int_equal(get16(desc + 8), len + 4);
	assert_int_equal(desc[12], RXD_DD | RXD_EOP); /* not IP: no checksum status */
	assert_int_equal(desc[13], 0);
	const uint8_t *data = edrv_rx_data(&d, i, len + 4);
	assert_memory_equal(data, f, len);
	uint32_t fcs = crc32_le(f, len);
	assert_int_equal(data[len] | data[len + 1] << 8 | data[len + 2] << 16 |
			     (uint32_t)data[len + 3] << 24,
			 fcs);
	assert_int_equal(er32(&d, R_RDH), 1);
	assert_true(d.h->irq_level[EDRV_IRQ]);
	assert_true(er32(&d, R_ICR) & ICR_RXT0);
	assert_false(d.h->irq_level[EDRV_IRQ]);
	/* A short frame is padded to 60 bytes. */
	len = frame(f, me, 42, 2);
	edrv_sock_send(&d, f, len);
	i = edrv_rx_wait(&d);
	assert_int_equal(get16(edrv_rxd(&d, i) + 8), 64);
	assert_memory_equal(edrv_rx_data(&d, i, 42), f, 42);
	assert_int_equal(edrv_rx_data(&d, i, 60)[59], 0);
	/* SECRC: no FCS. */
	ew32(&d, R_RCTL, er32(&d, R_RCTL) | RCTL_SECRC);
	len = frame(f, me, 100, 3);
	edrv_sock_send(&d, f, len);
	i = edrv_rx_wait(&d);
	assert_int_equal(get16(edrv_rxd(&d, i) + 8), 100);
	/* Around the ring several times. */
	ew32(&d, R_RCTL, er32(&d, R_RCTL) & ~RCTL_SECRC);
	edrv_rx_give(&d, 3);
	for (unsigned k = 0; k < 20; k++)
		expect_received(&d, f, frame(f, me, 60 + k, (uint8_t)k));
	assert_int_equal(er32(&d, R_GPRC), 23);
	assert_int_equal(guest_errors(&d), 0);
	edrv_close(&d);
}

static unsigned mc_hash(const uint8_t *a, unsigned mo)
{
	static const unsigned shift[4] = {4, 3, 2, 0};
	return ((unsigned)a[4] >> shift[mo] | (unsigned)a[5] << (8 - shift[mo])) & 0xfff;
}

static void test_rx_filter(void **state)
{
	(void)state;
	struct edrv d;
	open_rx(&d, 16, 15, 0);
	uint8_t f[128];
	size_t len = 64;
	/* Another station's unicast and broadcast (BAM clear): dropped. */
	expect_dropped(&d, f, frame(f, other, len, 0));
	expect_dropped(&d, f, frame(f, bcast, len, 0));
	expect_received(&d, f, frame(f, me, len, 1));
	ew32(&d, R_RCTL, er32(&d, R_RCTL) | RCTL_BAM);
	expect_received(&d, f, frame(f, bcast, len, 2));
	/* A second exact address in RAL1/RAH1. */
	ew32(&d, R_RAL0 + 8, 0x00534f52u);
	ew32(&d, R_RAH0 + 8, 0x0200u);
	expect_dropped(&d, f, frame(f, other, len, 0)); /* not valid yet */
	ew32(&d, R_RAH0 + 8, 0x80000200u);
	expect_received(&d, f, frame(f, other, len, 3));
	/* Multicast: the hash table, with each RCTL.MO offset. */
	uint8_t mc[6] = {0x01, 0x00, 0x5e, 0x00, 0x12, 0x34};
	expect_dropped(&d, f, frame(f, mc, len, 0));
	for (unsigned mo = 0; mo < 4; mo++) {
		unsigned h = mc_hash(mc, mo);
		ew32(&d, R_RCTL, (er32(&d, R_RCTL) & ~(3u << 12)) | mo << 12);
		ew32(&d, R_MTA + 4 * (h >> 5), 1u << (h & 31));
		expect_received(&d, f, frame(f, mc, len, (uint8_t)(4 + mo)));
		ew32(&d, R_MTA + 4 * (h >> 5), 0);
		expect_dropped(&d, f, frame(f, mc, len, 0));
	}
	/* Multicast promiscuous. */
	ew32(&d, R_RCTL, er32(&d, R_RCTL) | RCTL_MPE);
	expect_received(&d, f, frame(f, mc, len, 9));
	expect_dropped(&d, f, frame(f, (const uint8_t[]){0x52, 0, 0, 0, 0, 9}, len, 0));
	/* Unicast promiscuous. */
	ew32(&d, R_RCTL, er32(&d, R_RCTL) | RCTL_UPE);
	expect_received(&d, f, frame(f, (const uint8_t[]){0x52, 0, 0, 0, 0, 9}, len, 10));
	edrv_close(&d);
}

static void test_rx_multi_desc(void **state)
{
	(void)state;
	struct edrv d;
	open_rx(&d, 8, 7, RCTL_SZ_256);
	uint8_t f[1000];
	size_t len = frame(f, me, sizeof(f), 5);
	edrv_sock_send(&d, f, len);
	/* 1004 bytes with the FCS: three full 256-byte buffers and 236. */
	for (unsigned k = 0; k < 4; k++) {
		unsigned i = edrv_rx_wait(&d);
		const uint8_t *desc = edrv_rxd(&d, i);
		size_t chunk = k < 3 ? 256 : 236;
		assert_int_equal(get16(desc + 8), chunk);
		assert_int_equal(desc[12] & RXD_EOP, k < 3 ? 0 : RXD_EOP);
		size_t n = k < 3 ? 256 : len - 768;
		assert_memory_equal(edrv_rx_data(&d, i, n), f + 256 * k, n);
	}
	/* Not enough descriptors for the next one (3 left, 4 needed): it waits. */
	edrv_sock_send(&d, f, len);
	harness_run(d.h, 20);
	assert_false(edrv_rxd(&d, d.rx_next)[12] & RXD_DD);
	assert_true(er32(&d, R_ICR) & ICR_RXO);
	edrv_rx_give(&d, 4);
	harness_run(d.h, 20);
	for (unsigned k = 0; k < 4; k++)
		edrv_rx_wait(&d);
	edrv_close(&d);
}

static void expect_csum(struct edrv *d, const uint8_t *f, size_t len, uint8_t status,
			uint8_t errors)
{
	edrv_sock_send(d, f, len);
	unsigned i = edrv_rx_wait(d);
	const uint8_t *desc = edrv_rxd(d, i);
	assert_int_equal(desc[12], RXD_DD | RXD_EOP | status);
	assert_int_equal(desc[13], errors);
	edrv_rx_give(d, 1);
}

static void test_rx_csum(void **state)
{
	(void)state;
	struct edrv d;
	open_rx(&d, 8, 7, 0);
	ew32(&d, R_RXCSUM, RXCSUM_IPOFL | RXCSUM_TUOFL);
	uint8_t f[1600];
	size_t len = edrv_build(f, me, false, true, 500, false);
	expect_csum(&d, f, len, RXD_IPCS | RXD_TCPCS, 0);
	f[100] ^= 0x40; /* payload corrupted: TCP checksum wrong */
	expect_csum(&d, f, len, RXD_IPCS | RXD_TCPCS, RXE_TCPE);
	f[100] ^= 0x40;
	f[14 + 8] = 63; /* TTL changed, IP checksum not updated */
	expect_csum(&d, f, len, RXD_IPCS | RXD_TCPCS, RXE_IPE);
	len = edrv_build(f, me, false, false, 300, false);
	expect_csum(&d, f, len, RXD_IPCS | RXD_TCPCS, 0);
	len = edrv_build(f, me, true, true, 700, false);
	expect_csum(&d, f, len, RXD_TCPCS, 0);
	f[200] ^= 1;
	expect_csum(&d, f, len, RXD_TCPCS, RXE_TCPE);
	len = edrv_build(f, me, true, false, 70, false);
	expect_csum(&d, f, len, RXD_TCPCS, 0);
	/* The packet checksum from RXCSUM.PCSS (here the IP header's start). */
	ew32(&d, R_RXCSUM, RXCSUM_IPOFL | RXCSUM_TUOFL | 14);
	len = edrv_build(f, me, false, false, 333, false);
	edrv_sock_send(&d, f, len);
	unsigned i = edrv_rx_wait(&d);
	assert_int_equal(get16(edrv_rxd(&d, i) + 10), edrv_fold(edrv_sum(0, f + 14, len - 14)));
	edrv_rx_give(&d, 1);
	/* Only the IP header checked (TUOFL clear). */
	ew32(&d, R_RXCSUM, RXCSUM_IPOFL);
	len = edrv_build(f, me, false, true, 100, false);
	f[100] ^= 1;
	expect_csum(&d, f, len, RXD_IPCS, 0);
	/* Not IP: nothing to say. */
	expect_csum(&d, f, frame(f, me, 100, 0), 0, 0);
	/* Offload off: "ignore checksum". */
	ew32(&d, R_RXCSUM, 0);
	len = edrv_build(f, me, false, true, 100, false);
	expect_csum(&d, f, len, RXD_IXSM, 0);
	edrv_close(&d);
}

static void test_rx_vlan(void **state)
{
	(void)state;
	struct edrv d;
	open_rx(&d, 8, 7, 0);
	uint8_t f[200], t[204];
	size_t len = frame(f, me, 100, 7);
	memcpy(t, f, 12);
	wbe16(t + 12, 0x8100);
	wbe16(t + 14, 0x6005); /* priority 3, VLAN 5 */
	memcpy(t + 16, f + 12, len - 12);
	/* Without CTRL.VME the tag stays in the frame. */
	edrv_sock_send(&d, t, len + 4);
	unsigned i = edrv_rx_wait(&d);
	assert_int_equal(get16(edrv_rxd(&d, i) + 8), len + 8);
	assert_false(edrv_rxd(&d, i)[12] & RXD_VP);
	/* With it the tag goes to the descriptor. */
	ew32(&d, R_CTRL, er32(&d, R_CTRL) | CTRL_VME);
	edrv_sock_send(&d, t, len + 4);
	i = edrv_rx_wait(&d);
	const uint8_t *desc = edrv_rxd(&d, i);
	assert_int_equal(get16(desc + 8), len + 4);
	assert_true(desc[12] & RXD_VP);
	assert_int_equal(get16(desc + 14), 0x6005);
	assert_memory_equal(edrv_rx_data(&d, i, len), f, len);
	/* The VLAN filter: VLAN 5 not in VFTA, dropped; then admitted. */
	ew32(&d, R_RCTL, er32(&d, R_RCTL) | RCTL_VFE);
	expect_dropped(&d, t, len + 4);
	ew32(&d, R_VFTA, 1u << 5);
	edrv_sock_send(&d, t, len + 4);
	edrv_rx_wait(&d);
	/* Untagged frames pass the VLAN filter. */
	edrv_sock_send(&d, f, len);
	edrv_rx_wait(&d);
	edrv_close(&d);
}

/* No free descriptors: the port keeps the frames (RXO) and hands them
 * over in order once RDT moves. */
static void test_rx_ring_full(void **state)
{
	(void)state;
	struct edrv d;
	open_rx(&d, 8, 2, 0);
	ew32(&d, R_IMS, ICR_RXO | ICR_RXT0);
	uint8_t f[6][100];
	for (unsigned k = 0; k < 6; k++)
		edrv_sock_send(&d, f[k], frame(f[k], me, 100, (uint8_t)(k * 16)));
	harness_run(d.h, 50);
	assert_int_equal(er32(&d, R_RDH), 2);
	/* Out of descriptors: overrun, and below the minimum threshold. */
	assert_int_equal(er32(&d, R_ICR) & (ICR_RXO | ICR_RXDMT0), ICR_RXO | ICR_RXDMT0);
	for (unsigned k = 0; k < 2; k++)
		assert_memory_equal(edrv_rx_data(&d, edrv_rx_wait(&d), 100), f[k], 100);
	edrv_rx_give(&d, 3);
	for (unsigned k = 2; k < 5; k++)
		assert_memory_equal(edrv_rx_data(&d, edrv_rx_wait(&d), 100), f[k], 100);
	harness_run(d.h, 20);
	assert_false(edrv_rxd(&d, d.rx_next)[12] & RXD_DD);
	edrv_rx_give(&d, 3);
	assert_memory_equal(edrv_rx_data(&d, edrv_rx_wait(&d), 100), f[5], 100);
	/* Nothing was lost on the way. */
	struct net_port_stats st;
	net_port_stats(net_port_find(&d.h->m, "nic"), &st);
	assert_int_equal(st.rx_dropped, 0);
	edrv_close(&d);
}

static bool rxt0_pending(void *ctx)
{
	struct edrv *d = ctx;
	return d->h->irq_level[EDRV_IRQ];
}

static void test_rx_delay(void **state)
{
	(void)state;
	struct edrv d;
	open_rx(&d, 8, 7, 0);
	ew32(&d, R_IMS, ICR_RXT0);
	uint8_t f[100];
	frame(f, me, 100, 0);
	/* RDTR 20 ms: the frame is there, the interrupt comes later. */
	ew32(&d, R_RDTR, 19531);
	uint64_t t0 = clock_ns();
	edrv_sock_send(&d, f, 100);
	edrv_rx_wait(&d);
	assert_false(d.h->irq_level[EDRV_IRQ]);
	assert_true(harness_run_until(d.h, 1000, rxt0_pending, &d));
	assert_true(clock_ns() - t0 >= 19000000ull);
	assert_int_equal(er32(&d, R_ICR) & ~ICR_RXDMT0, ICR_RXT0);
	/* RADV caps the delay a stream of frames would keep pushing back. */
	ew32(&d, R_RDTR, 65535); /* 67 ms */
	ew32(&d, R_RADV, 4883);	 /* 5 ms */
	t0 = clock_ns();
	edrv_sock_send(&d, f, 100);
	edrv_rx_wait(&d);
	assert_true(harness_run_until(d.h, 1000, rxt0_pending, &d));
	uint64_t waited = clock_ns() - t0;
	assert_true(waited >= 4500000ull && waited < 60000000ull);
	assert_int_equal(er32(&d, R_ICR) & ~ICR_RXDMT0, ICR_RXT0);
	/* RDTR.FPD flushes: the interrupt now. */
	ew32(&d, R_RADV, 0);
	edrv_sock_send(&d, f, 100);
	edrv_rx_wait(&d);
	assert_false(d.h->irq_level[EDRV_IRQ]);
	ew32(&d, R_RDTR, 60000u | 1u << 31);
	assert_true(d.h->irq_level[EDRV_IRQ]);
	assert_int_equal(er32(&d, R_ICR) & ~ICR_RXDMT0, ICR_RXT0);
	assert_int_equal(er32(&d, R_RDTR), 60000);
	edrv_close(&d);
}

static void test_rx_hostile(void **state)
{
	(void)state;
	struct edrv d;
	open_rx(&d, 8, 7, 0);
	uint8_t f[200];
	size_t len = frame(f, me, 200, 1);
	uint64_t errs = guest_errors(&d);
	/* A buffer outside RAM: the descriptor comes back empty, in error. */
	put64(edrv_rxd(&d, 0), 0xfff000000ull);
	put64(edrv_rxd(&d, 1), (64ull << 20) - 100); /* straddles the end of RAM */
	for (unsigned k = 0; k < 2; k++) {
		edrv_sock_send(&d, f, len);
		unsigned i = edrv_rx_wait(&d);
		const uint8_t *desc = edrv_rxd(&d, i);
		assert_int_equal(get16(desc + 8), 0);
		assert_int_equal(desc[12] & (RXD_DD | RXD_EOP), RXD_DD | RXD_EOP);
		assert_true(desc[13] & RXE_RXE);
		assert_int_equal(guest_errors(&d), ++errs);
	}
	edrv_sock_send(&d, f, len);
	assert_memory_equal(edrv_rx_data(&d, edrv_rx_wait(&d), len), f, len);
	/* A ring outside RAM. */
	ew32(&d, R_RDBAL, 0xfff00000u);
	ew32(&d, R_RDBAH, 0x10);
	edrv_sock_send(&d, f, len);
	harness_run(d.h, 20);
	assert_int_equal(guest_errors(&d), ++errs);
	/* RDLEN 0, and RDH or RDT beyond the ring: dropped, counted. */
	ew32(&d, R_RDBAH, 0);
	ew32(&d, R_RDBAL, (uint32_t)EDRV_RX_RING);
	ew32(&d, R_RDLEN, 0);
	edrv_sock_send(&d, f, len);
	harness_run(d.h, 20);
	assert_int_equal(guest_errors(&d), ++errs);
	ew32(&d, R_RDLEN, 8 * 16);
	ew32(&d, R_RDH, 9);
	edrv_sock_send(&d, f, len);
	harness_run(d.h, 20);
	assert_int_equal(guest_errors(&d), ++errs);
	ew32(&d, R_RDH, 0);
	ew32(&d, R_RDT, 0xffff);
	edrv_sock_send(&d, f, len);
	harness_run(d.h, 20);
	assert_int_equal(guest_errors(&d), ++errs);
	/* Receiver off, or bus mastering off: the frame is lost, not queued. */
	edrv_rx_setup(&d, 8, 7, 0);
	ew32(&d, R_RCTL, 0);
	expect_dropped(&d, f, len);
	ew32(&d, R_RCTL, RCTL_EN);
	edrv_cfg_write(&d, PCI_COMMAND, PCI_COMMAND_MEMORY, 2);
	expect_dropped(&d, f, len);
	edrv_cfg_write(&d, PCI_COMMAND, PCI_COMMAND_MEMORY | PCI_COMMAND_MASTER, 2);
	harness_run(d.h, 20);
	assert_false(edrv_rxd(&d, 0)[12] & RXD_DD);
	expect_received(&d, f, len);
	/* A frame longer than RCTL.LPE allows never reaches the adapter. */
	static uint8_t big[2000];
	frame(big, me, sizeof(big), 0);
	expect_dropped(&d, big, sizeof(big));
	edrv_close(&d);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_rx_basic),	  cmocka_unit_test(test_rx_filter),
	    cmocka_unit_test(test_rx_multi_desc), cmocka_unit_test(test_rx_csum),
	    cmocka_unit_test(test_rx_vlan),	  cmocka_unit_test(test_rx_ring_full),
	    cmocka_unit_test(test_rx_delay),	  cmocka_unit_test(test_rx_hostile),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
