/* e1000 transmit: legacy and extended descriptors, packets across
 * descriptors, status write-back and TXDW, checksum offload (legacy IC,
 * IXSM/TXSM), TCP segmentation (IPv4, IPv6), VLAN insertion, and what a
 * hostile driver can do to the ring. Frames are checked as they arrive on
 * the socket the adapter's switch writes to. */
#include "tests/devices/e1000_driver.h"

static const uint8_t peer[6] = {0x52, 0x54, 0x00, 0x12, 0x34, 0x56};

static uint64_t guest_errors(struct edrv *d)
{
	struct net_port_stats st;
	net_port_stats(net_port_find(&d->h->m, "nic"), &st);
	return st.guest_errors;
}

static void open_tx(struct edrv *d)
{
	edrv_open(d, NULL);
	edrv_reset(d);
	edrv_tx_setup(d, 16);
}

static void test_tx_legacy(void **state)
{
	(void)state;
	struct edrv d;
	open_tx(&d);
	ew32(&d, R_IMS, ICR_TXDW);
	uint8_t f[200], got[2048];
	size_t len = edrv_build(f, peer, false, false, 100, false);
	unsigned i = edrv_send_legacy(&d, f, len);
	assert_true(edrv_tx_done(&d, i));
	assert_int_equal(er32(&d, R_TDH), 1);
	assert_true(d.h->irq_level[EDRV_IRQ]);
	assert_int_equal(er32(&d, R_ICR), ICR_TXDW | ICR_TXQE);
	assert_int_equal(edrv_sock_recv(&d, got, sizeof(got), 1000), (ssize_t)len);
	assert_memory_equal(got, f, len);
	/* One packet in three descriptors; only the last asks for status. */
	uint64_t a = edrv_tx_buf(&d, 5, f, len);
	edrv_tx_put(&d, a, edrv_legacy_lower(10, 0, TXD_IFCS), 0);
	edrv_tx_put(&d, a + 10, edrv_legacy_lower(50, 0, TXD_IFCS), 0);
	unsigned last =
	    edrv_tx_put(&d, a + 60, edrv_legacy_lower(len - 60, 0, TXD_EOP | TXD_RS), 0);
	edrv_tx_kick(&d);
	assert_false(edrv_tx_done(&d, last - 1));
	assert_true(edrv_tx_done(&d, last));
	assert_int_equal(edrv_sock_recv(&d, got, sizeof(got), 1000), (ssize_t)len);
	assert_memory_equal(got, f, len);
	/* A short frame is padded to 60 bytes (TCTL.PSP). */
	edrv_send_legacy(&d, f, 42);
	assert_int_equal(edrv_sock_recv(&d, got, sizeof(got), 1000), 60);
	assert_memory_equal(got, f, 42);
	assert_int_equal(got[59], 0);
	/* The ring wraps. */
	for (unsigned k = 0; k < 20; k++)
		edrv_send_legacy(&d, f, len);
	for (unsigned k = 0; k < 20; k++)
		assert_int_equal(edrv_sock_recv(&d, got, sizeof(got), 1000), (ssize_t)len);
	assert_int_equal(er32(&d, R_TDH), er32(&d, R_TDT));
	assert_int_equal(guest_errors(&d), 0);
	edrv_close(&d);
}

/* Legacy descriptors' checksum insertion: CSS to the end, stored at CSO. */
static void test_tx_legacy_ic(void **state)
{
	(void)state;
	struct edrv d;
	open_tx(&d);
	uint8_t f[300], got[2048];
	size_t len = edrv_build(f, peer, false, false, 200, true);
	f[24] = f[25] = 0;
	wbe16(f + 24, (uint16_t)~edrv_fold(edrv_sum(0, f + 14, 20)));
	uint64_t a = edrv_tx_buf(&d, 0, f, len);
	edrv_tx_put(&d, a, edrv_legacy_lower(len, 34 + 6, TXD_EOP | TXD_IC | TXD_RS), 34u << 8);
	edrv_tx_kick(&d);
	assert_int_equal(edrv_sock_recv(&d, got, sizeof(got), 1000), (ssize_t)len);
	assert_false(edrv_frame_ok(f, len));
	assert_true(edrv_frame_ok(got, len));
	edrv_close(&d);
}

/* A context descriptor for a packet's IP and TCP/UDP headers, as Linux's
 * e1000_tx_csum / e1000_tso set it up. */
static void context(struct edrv *d, bool v6, bool tcp, bool tso, size_t len, uint8_t hdr_len,
		    uint16_t mss)
{
	uint8_t ihl = v6 ? 40 : 20;
	uint8_t l4 = (uint8_t)(14 + ihl);
	uint8_t tucmd =
	    (uint8_t)((v6 ? 0 : TUCMD_IP) | (tcp ? TUCMD_TCP : 0) | (tso ? TUCMD_TSE : 0));
	edrv_tx_context(d, 14, 14 + 10, (uint16_t)(l4 - 1), l4, (uint8_t)(l4 + (tcp ? 16 : 6)), 0,
			tucmd, (uint32_t)(len - hdr_len), hdr_len, mss);
}

static void csum_case(struct edrv *d, bool v6, bool tcp)
{
	uint8_t f[1600], got[2048];
	size_t len = edrv_build(f, peer, v6, tcp, 1000, true);
	assert_false(edrv_frame_ok(f, len));
	context(d, v6, tcp, false, len, 0, 0);
	uint64_t a = edrv_tx_buf(d, 1, f, len);
	/* Headers and payload in separate descriptors, as the stack's skbs. */
	edrv_tx_data(d, a, 54, 0, (v6 ? 0 : POPTS_IXSM) | POPTS_TXSM);
	unsigned i = edrv_tx_data(d, a + 54, len - 54, TXD_EOP | TXD_RS | TXD_IFCS,
				  (v6 ? 0 : POPTS_IXSM) | POPTS_TXSM);
	edrv_tx_kick(d);
	assert_true(edrv_tx_done(d, i));
	assert_int_equal(edrv_sock_recv(d, got, sizeof(got), 1000), (ssize_t)len);
	assert_true(edrv_frame_ok(got, len));
	/* Everything but the checksums as the driver wrote it. */
	size_t ihl = v6 ? 40 : 20, at = 14 + ihl + (tcp ? 16 : 6);
	assert_memory_equal(got, f, v6 ? at : 24);
	assert_memory_equal(got + at + 2, f + at + 2, len - at - 2);
}

static void test_tx_csum_offload(void **state)
{
	(void)state;
	struct edrv d;
	open_tx(&d);
	csum_case(&d, false, true);
	csum_case(&d, false, false);
	csum_case(&d, true, true);
	csum_case(&d, true, false);
	/* TUCSE short of the end: the sum stops there (done in the device). */
	uint8_t f[400], got[2048];
	size_t len = edrv_build(f, peer, false, false, 100, true);
	uint8_t *udp = f + 34;
	wbe16(udp + 4, 108 - 20);
	wbe16(udp + 6, edrv_fold(edrv_pseudo(f + 14, false, 17, 88)));
	edrv_tx_context(&d, 0, 0, 0, 34, 40, (uint16_t)(34 + 88 - 1), TUCMD_IP, 0, 0, 0);
	unsigned i =
	    edrv_tx_data(&d, edrv_tx_buf(&d, 2, f, len), len, TXD_EOP | TXD_RS, POPTS_TXSM);
	edrv_tx_kick(&d);
	assert_true(edrv_tx_done(&d, i));
	assert_int_equal(edrv_sock_recv(&d, got, sizeof(got), 1000), (ssize_t)len);
	uint32_t s = edrv_pseudo(got + 14, false, 17, 88);
	assert_int_equal(edrv_fold(edrv_sum(s, got + 34, 88)), 0xffff);
	assert_int_equal(guest_errors(&d), 0);
	edrv_close(&d);
}

/* Linux's e1000_tso: IP length and checksum 0, the TCP checksum the
 * pseudo-header's sum without a length. */
static size_t tso_frame(uint8_t *f, bool v6, size_t payload)
{
	size_t len = edrv_build(f, peer, v6, true, payload, true);
	uint8_t *ip = f + 14;
	size_t l4 = v6 ? 54 : 34;
	if (v6) {
		wbe16(ip + 4, 0);
	} else {
		wbe16(ip + 2, 0);
		wbe16(ip + 10, 0);
	}
	wbe16(f + l4 + 16, edrv_fold(edrv_pseudo(ip, v6, 6, 0)));
	return len;
}

static void tso_case(struct edrv *d, bool v6, size_t payload, uint16_t mss)
{
	static uint8_t f[70000], got[4096];
	size_t len = tso_frame(f, v6, payload);
	uint8_t hdr = v6 ? 74 : 54;
	context(d, v6, true, true, len, hdr, mss);
	uint64_t a = edrv_tx_buf(d, 0, f, len);
	uint8_t popts = (v6 ? 0 : POPTS_IXSM) | POPTS_TXSM;
	edrv_tx_data(d, a, hdr, TXD_TSE, popts);
	size_t half = (len - hdr) / 2;
	edrv_tx_data(d, a + hdr, half, TXD_TSE, popts);
	unsigned i =
	    edrv_tx_data(d, a + hdr + half, len - hdr - half, TXD_TSE | TXD_EOP | TXD_RS, popts);
	edrv_tx_kick(d);
	assert_true(edrv_tx_done(d, i));
	size_t off = 0;
	unsigned segs = 0;
	while (off < payload) {
		size_t n = payload - off < mss ? payload - off : mss;
		ssize_t got_len = edrv_sock_recv(d, got, sizeof(got), 1000);
		assert_int_equal(got_len, (ssize_t)(hdr + n));
		assert_true(edrv_frame_ok(got, (size_t)got_len));
		const uint8_t *th = got + hdr - 20;
		uint32_t seq = (uint32_t)(th[4] << 24 | th[5] << 16 | th[6] << 8 | th[7]);
		assert_int_equal(seq, 0x10000000u + off);
		assert_memory_equal(got + hdr, f + hdr + off, n);
		off += n;
		segs++;
	}
	assert_int_equal(edrv_sock_recv(d, got, sizeof(got), 50), -1);
	assert_int_equal(er32(d, R_TSCTC), 1);
	assert_int_equal(er32(d, R_GPTC), segs);
}

static void test_tx_tso(void **state)
{
	(void)state;
	struct edrv d;
	open_tx(&d);
	tso_case(&d, false, 3000, 1000);
	tso_case(&d, false, 4500, 1460);
	tso_case(&d, true, 5000, 1440);
	tso_case(&d, false, 60000, 1460);
	assert_int_equal(guest_errors(&d), 0);
	edrv_close(&d);
}

static void test_tx_vlan(void **state)
{
	(void)state;
	struct edrv d;
	open_tx(&d);
	ew32(&d, R_CTRL, er32(&d, R_CTRL) | CTRL_VME);
	uint8_t f[600], got[2048];
	size_t len = edrv_build(f, peer, false, true, 100, false);
	uint64_t a = edrv_tx_buf(&d, 0, f, len);
	edrv_tx_put(&d, a, edrv_legacy_lower(len, 0, TXD_EOP | TXD_RS | TXD_VLE), 0x2123u << 16);
	edrv_tx_kick(&d);
	assert_int_equal(edrv_sock_recv(&d, got, sizeof(got), 1000), (ssize_t)len + 4);
	assert_memory_equal(got, f, 12);
	assert_int_equal(be16(got + 12), 0x8100);
	assert_int_equal(be16(got + 14), 0x2123);
	assert_memory_equal(got + 16, f + 12, len - 12);
	/* Checksum offload of a tagged frame: offsets as the driver gave them. */
	len = edrv_build(f, peer, false, true, 300, true);
	context(&d, false, true, false, len, 0, 0);
	unsigned i = edrv_tx_data(&d, edrv_tx_buf(&d, 1, f, len), len, TXD_EOP | TXD_RS | TXD_VLE,
				  POPTS_IXSM | POPTS_TXSM);
	put16(edrv_txd(&d, i) + 14, 5);
	edrv_tx_kick(&d);
	assert_int_equal(edrv_sock_recv(&d, got, sizeof(got), 1000), (ssize_t)len + 4);
	assert_int_equal(be16(got + 14), 5);
	assert_true(edrv_frame_ok(got, len + 4));
	/* TSO of a tagged packet: every segment tagged and correct. */
	static uint8_t big[4000];
	size_t big_len = tso_frame(big, false, 3000);
	context(&d, false, true, true, big_len, 54, 1000);
	i = edrv_tx_data(&d, edrv_tx_buf(&d, 2, big, big_len), big_len,
			 TXD_TSE | TXD_EOP | TXD_RS | TXD_VLE, POPTS_IXSM | POPTS_TXSM);
	put16(edrv_txd(&d, i) + 14, 9);
	edrv_tx_kick(&d);
	for (unsigned k = 0; k < 3; k++) {
		assert_int_equal(edrv_sock_recv(&d, got, sizeof(got), 1000), 54 + 4 + 1000);
		assert_int_equal(be16(got + 12), 0x8100);
		assert_int_equal(be16(got + 14), 9);
		assert_true(edrv_frame_ok(got, 54 + 4 + 1000));
		assert_memory_equal(got + 58, big + 54 + 1000 * k, 1000);
	}
	/* Without CTRL.VME no tag goes in. */
	ew32(&d, R_CTRL, er32(&d, R_CTRL) & ~CTRL_VME);
	edrv_tx_put(&d, a, edrv_legacy_lower(len, 0, TXD_EOP | TXD_VLE), 7u << 16);
	edrv_tx_kick(&d);
	assert_int_equal(edrv_sock_recv(&d, got, sizeof(got), 1000), (ssize_t)len);
	edrv_close(&d);
}

static bool irq_up(void *ctx)
{
	return *(bool *)ctx;
}

/* IDE: TXDW waits for TIDV (restarted by each descriptor) or TADV. */
static void test_tx_delay(void **state)
{
	(void)state;
	struct edrv d;
	open_tx(&d);
	bool *level = &d.h->irq_level[EDRV_IRQ];
	ew32(&d, R_IMS, ICR_TXDW);
	ew32(&d, R_TIDV, 19531); /* 20 ms */
	uint8_t f[100];
	size_t len = edrv_build(f, peer, false, false, 40, false);
	uint64_t a = edrv_tx_buf(&d, 0, f, len);
	uint64_t t0 = clock_ns();
	unsigned i = edrv_tx_put(&d, a, edrv_legacy_lower(len, 0, TXD_EOP | TXD_RS | TXD_IDE), 0);
	edrv_tx_kick(&d);
	assert_true(edrv_tx_done(&d, i));
	assert_false(*level);
	assert_true(harness_run_until(d.h, 1000, irq_up, level));
	assert_true(clock_ns() - t0 >= 19000000ull);
	assert_int_equal(er32(&d, R_ICR), ICR_TXDW | ICR_TXQE);
	/* TADV caps it. */
	ew32(&d, R_TIDV, 65535); /* 67 ms */
	ew32(&d, R_TADV, 4883);	 /* TADV 5 ms */
	t0 = clock_ns();
	edrv_tx_put(&d, a, edrv_legacy_lower(len, 0, TXD_EOP | TXD_RS | TXD_IDE), 0);
	edrv_tx_kick(&d);
	assert_true(harness_run_until(d.h, 1000, irq_up, level));
	uint64_t waited = clock_ns() - t0;
	assert_true(waited >= 4500000ull && waited < 60000000ull);
	(void)er32(&d, R_ICR);
	/* TIDV.FPD flushes; a descriptor without IDE reports at once. */
	edrv_tx_put(&d, a, edrv_legacy_lower(len, 0, TXD_EOP | TXD_RS | TXD_IDE), 0);
	edrv_tx_kick(&d);
	assert_false(*level);
	ew32(&d, R_TIDV, 60000u | 1u << 31);
	assert_true(*level);
	(void)er32(&d, R_ICR);
	edrv_send_legacy(&d, f, len);
	assert_true(*level);
	edrv_close(&d);
}

static void test_tx_hostile(void **state)
{
	(void)state;
	struct edrv d;
	open_tx(&d);
	uint8_t f[200], got[4096];
	size_t len = edrv_build(f, peer, false, true, 100, false);
	uint64_t errs = guest_errors(&d);
	/* A buffer outside RAM: the packet is lost, the descriptor done. */
	unsigned i =
	    edrv_tx_put(&d, 0xfff0000000ull, edrv_legacy_lower(100, 0, TXD_EOP | TXD_RS), 0);
	edrv_tx_kick(&d);
	assert_true(edrv_tx_done(&d, i));
	assert_int_equal(guest_errors(&d), ++errs);
	assert_int_equal(edrv_sock_recv(&d, got, sizeof(got), 20), -1);
	/* A buffer straddling the end of RAM. */
	i = edrv_tx_put(&d, (64ull << 20) - 50, edrv_legacy_lower(100, 0, TXD_EOP | TXD_RS), 0);
	edrv_tx_kick(&d);
	assert_true(edrv_tx_done(&d, i));
	assert_int_equal(guest_errors(&d), ++errs);
	/* A packet that never ends: dropped once it is too long, then the
	 * next one goes out. */
	uint64_t a = edrv_tx_buf(&d, 0, f, len);
	for (unsigned k = 0; k < 12; k++)
		edrv_tx_put(&d, EDRV_TX_BUF + EDRV_TX_SLOT * 8, edrv_legacy_lower(1000, 0, 0), 0);
	edrv_tx_put(&d, a, edrv_legacy_lower(len, 0, TXD_EOP | TXD_RS), 0);
	edrv_tx_kick(&d);
	assert_int_equal(guest_errors(&d), ++errs);
	assert_int_equal(edrv_sock_recv(&d, got, sizeof(got), 20), -1);
	edrv_send_legacy(&d, f, len);
	assert_int_equal(edrv_sock_recv(&d, got, sizeof(got), 1000), (ssize_t)len);
	/* A single descriptor longer than a frame, and a huge extended one. */
	edrv_tx_put(&d, a, edrv_legacy_lower(2000, 0, TXD_EOP | TXD_RS), 0);
	edrv_tx_data(&d, a, 0xfffff, TXD_EOP | TXD_RS, 0);
	edrv_tx_kick(&d);
	assert_int_equal(guest_errors(&d), errs += 2);
	/* A frame shorter than its Ethernet header. */
	edrv_tx_put(&d, a, edrv_legacy_lower(10, 0, TXD_EOP | TXD_RS), 0);
	edrv_tx_kick(&d);
	assert_int_equal(guest_errors(&d), ++errs);
	/* TSO with an MSS of 0, and with headers longer than the packet. */
	edrv_tx_context(&d, 14, 24, 33, 34, 50, 0, TUCMD_IP | TUCMD_TCP | TUCMD_TSE, 0, 54, 0);
	edrv_tx_data(&d, a, len, TXD_TSE | TXD_EOP | TXD_RS, POPTS_TXSM);
	edrv_tx_context(&d, 14, 24, 33, 34, 50, 0, TUCMD_IP | TUCMD_TCP | TUCMD_TSE, 0, 250, 100);
	edrv_tx_data(&d, a, len, TXD_TSE | TXD_EOP | TXD_RS, POPTS_TXSM);
	/* Offsets past the frame. */
	edrv_tx_context(&d, 200, 250, 255, 240, 250, 0, TUCMD_IP | TUCMD_TCP, 0, 0, 0);
	edrv_tx_data(&d, a, len, TXD_EOP | TXD_RS, POPTS_TXSM | POPTS_IXSM);
	/* A descriptor type that does not exist. */
	i = edrv_tx_put(&d, a, (uint32_t)len | 7u << 20 | (uint32_t)(TXD_DEXT | TXD_RS) << 24, 0);
	edrv_tx_kick(&d);
	assert_true(edrv_tx_done(&d, i));
	assert_int_equal(guest_errors(&d), errs += 3);
	assert_int_equal(edrv_sock_recv(&d, got, sizeof(got), 20), (ssize_t)len);
	assert_int_equal(edrv_sock_recv(&d, got, sizeof(got), 20), -1);
	/* TDT beyond the ring: the hardware does nothing. */
	uint32_t head = er32(&d, R_TDH);
	ew32(&d, R_TDT, 100);
	assert_int_equal(er32(&d, R_TDH), head);
	assert_int_equal(guest_errors(&d), ++errs);
	/* TDH beyond the ring. */
	ew32(&d, R_TDT, head);
	ew32(&d, R_TDH, 500);
	ew32(&d, R_TDT, 3);
	assert_int_equal(er32(&d, R_TDH), 500);
	/* A ring outside RAM. */
	ew32(&d, R_TDH, 0);
	ew32(&d, R_TDT, 0);
	ew32(&d, R_TDBAL, 0xfff00000u);
	ew32(&d, R_TDBAH, 0xff);
	ew32(&d, R_TDT, 4);
	assert_int_equal(er32(&d, R_TDH), 0);
	/* A ring whose length is 0, or not a multiple of 128. */
	ew32(&d, R_TDLEN, 0);
	ew32(&d, R_TDT, 0);
	ew32(&d, R_TDT, 1);
	ew32(&d, R_TDLEN, 100);
	assert_int_equal(er32(&d, R_TDLEN), 0);
	/* Bus mastering off: nothing is read. */
	edrv_tx_setup(&d, 16);
	edrv_cfg_write(&d, PCI_COMMAND, PCI_COMMAND_MEMORY, 2);
	i = edrv_send_legacy(&d, f, len);
	assert_false(edrv_tx_done(&d, i));
	edrv_cfg_write(&d, PCI_COMMAND, PCI_COMMAND_MEMORY | PCI_COMMAND_MASTER, 2);
	edrv_tx_kick(&d);
	assert_true(edrv_tx_done(&d, i));
	assert_int_equal(edrv_sock_recv(&d, got, sizeof(got), 1000), (ssize_t)len);
	edrv_close(&d);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_tx_legacy),	    cmocka_unit_test(test_tx_legacy_ic),
	    cmocka_unit_test(test_tx_csum_offload), cmocka_unit_test(test_tx_tso),
	    cmocka_unit_test(test_tx_vlan),	    cmocka_unit_test(test_tx_delay),
	    cmocka_unit_test(test_tx_hostile),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
