/* The e1000's pause and saved state: paused, it takes no frames from the switch (they wait in
 * the port) and its delay timers stop; saved and loaded into a new machine, the driver finds its
 * registers, EEPROM, PHY and rings as it left them: a packet half gathered across descriptors
 * goes out whole, a receive delay timer that was running fires, frames land where RDH points.
 * Damaged sections are refused. */
#include "tests/devices/e1000_driver.h"
#include "tests/devices/state_move.h"

#include <errno.h>

#define RAM (64u << 20)

static const uint8_t me[6] = {0x52, 0x4f, 0x53, 0, 0, 1};
static const uint8_t peer[6] = {0x52, 0x4f, 0x53, 0, 0, 2};

static size_t frame(uint8_t *f, const uint8_t dst[6], size_t len, uint8_t mark)
{
	memset(f, 0, len);
	memcpy(f, dst, 6);
	memcpy(f + 6, peer, 6);
	wbe16(f + 12, 0x88b5);
	for (size_t i = 14; i < len; i++)
		f[i] = (uint8_t)(mark + i);
	return len;
}

/* A new machine with d's RAM and settings on a new socket; nothing written to it. d's
 * machine is gone. */
static void move(struct edrv *d, struct vmstate_out *out)
{
	int sv[2];
	char args[256];

	st_save(d->h, out);
	uint8_t *ram = st_ram(d->h, RAM);
	harness_fini(d->h);
	close(d->sock);
	harness_init(d->h, RAM);
	st_put_ram(d->h, ram, RAM);
	free(ram);
	harness_add(d->h, "i440fx", "i440fx", NULL);
	harness_add(d->h, "piix3", "piix3", NULL);
	assert_int_equal(socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sv), 0);
	d->sock = sv[0];
	snprintf(args, sizeof(args), "slot=4,mac=" EDRV_MAC ",switch=fd,fd=%d", sv[1]);
	harness_add(d->h, "e1000", "nic", args);
}

static void load_and_go(struct edrv *d, const struct vmstate_out *out)
{
	char err[256] = "";

	if (st_load(d->h, out->buf, out->len, err, sizeof(err)) < 0)
		fail_msg("load refused: %s", err);
	machine_pause_devices(&d->h->m, false);
}

/* The driver's setup before the move: rings, filters, interrupts, a receive delay. */
static void bring_up(struct edrv *d)
{
	edrv_open(d, NULL);
	edrv_reset(d);
	edrv_tx_setup(d, 16);
	edrv_rx_setup(d, 16, 8, RCTL_BAM | RCTL_SECRC);
	ew32(d, R_MTA + 4 * 3, 0x00010000);
	ew32(d, R_VFTA + 4 * 2, 0x80000001);
	ew32(d, R_IMS, ICR_RXT0 | ICR_TXDW | ICR_LSC);
	(void)er32(d, R_ICR);
}

static bool irq_up(void *ctx)
{
	struct edrv *d = ctx;
	return d->h->irq_level[EDRV_IRQ];
}

/* Paused, a frame from the switch waits in the port and the receive delay timer does not
 * fire; going on, both happen. (The delay's check needs the machine to pause within the 67 ms
 * the longest delay runs; a host too slow for that skips it.) */
static void test_pause(void **state)
{
	struct edrv d;
	uint8_t f[200];

	bring_up(&d);
	ew32(&d, R_RDTR, 0xffff);
	frame(f, me, 100, 1);
	edrv_sock_send(&d, f, 100);
	unsigned i = edrv_rx_wait(&d);
	assert_int_equal(get16(edrv_rxd(&d, i) + 8), 100);
	machine_pause_devices(&d.h->m, true);
	bool delayed = !d.h->irq_level[EDRV_IRQ];
	frame(f, me, 120, 2);
	edrv_sock_send(&d, f, 120);
	harness_run(d.h, 150);
	assert_int_equal(d.h->irq_level[EDRV_IRQ], !delayed);
	assert_false(edrv_rxd(&d, d.rx_next)[12] & RXD_DD);
	machine_pause_devices(&d.h->m, false);
	i = edrv_rx_wait(&d);
	assert_int_equal(get16(edrv_rxd(&d, i) + 8), 120);
	assert_true(harness_run_until(d.h, 1000, irq_up, &d));
	assert_true(er32(&d, R_ICR) & ICR_RXT0);
	if (!delayed)
		print_message("the host was too slow to see the delay held across the pause\n");
	edrv_close(&d);
}

/* The move: registers, EEPROM and PHY as the driver left them, a packet half gathered, a running
 * receive delay, and the rings going on where they were. */
static void test_move(void **state)
{
	struct edrv d;
	struct vmstate_out out;
	uint8_t f[1500], got[1600];

	bring_up(&d);
	edrv_phy_write(&d, 4, 0x01e1); /* advertise 10/100 only */
	uint16_t ee3 = edrv_mw_read(&d, 3);
	/* A frame in two descriptors: the first one taken before the save. */
	frame(f, peer, 1000, 7);
	uint64_t a = edrv_tx_buf(&d, 0, f, 1000);
	edrv_tx_put(&d, a, edrv_legacy_lower(600, 0, TXD_IFCS), 0);
	edrv_tx_kick(&d);
	assert_int_equal(er32(&d, R_TDH), 1);
	assert_int_equal(edrv_sock_recv(&d, got, sizeof(got), 20), -1);
	/* A frame received, its RXT0 delayed (RDTR) when the VM is saved (unless the host was
	 * too slow to save within the delay). */
	ew32(&d, R_RDTR, 0xffff);
	frame(f, me, 300, 3);
	edrv_sock_send(&d, f, 300);
	unsigned i = edrv_rx_wait(&d);
	uint32_t rdh = er32(&d, R_RDH);
	bool delayed = !d.h->irq_level[EDRV_IRQ];

	move(&d, &out);
	load_and_go(&d, &out);
	vmstate_out_free(&out);
	/* The registers and the rest as they were. */
	assert_int_equal(er32(&d, R_RCTL), RCTL_BAM | RCTL_SECRC | RCTL_EN);
	assert_int_equal(er32(&d, R_RDH), rdh);
	assert_int_equal(er32(&d, R_RDT), 8);
	assert_int_equal(er32(&d, R_TDH), 1);
	assert_int_equal(er32(&d, R_MTA + 4 * 3), 0x00010000);
	assert_int_equal(er32(&d, R_VFTA + 4 * 2), 0x80000001);
	assert_int_equal(er32(&d, R_IMS), ICR_RXT0 | ICR_TXDW | ICR_LSC);
	assert_int_equal(er32(&d, R_RAL0), 0x00534f52u);
	assert_int_equal(edrv_phy_read(&d, 4), 0x01e1);
	assert_int_equal(edrv_mw_read(&d, 3), ee3);
	assert_int_equal(edrv_eerd(&d, 0), 0x4f52);
	assert_true(er32(&d, R_STATUS) & STATUS_LU);
	/* The receive delay set before the save fires in the new machine. */
	if (delayed) {
		assert_true(harness_run_until(d.h, 1000, irq_up, &d));
		assert_true(er32(&d, R_ICR) & ICR_RXT0);
		assert_false(d.h->irq_level[EDRV_IRQ]);
	}
	(void)i;
	/* The second half of the packet: it goes out whole. */
	frame(f, peer, 1000, 7);
	edrv_tx_put(&d, a + 600, edrv_legacy_lower(400, 0, TXD_EOP | TXD_IFCS | TXD_RS), 0);
	edrv_tx_kick(&d);
	assert_int_equal(edrv_sock_recv(&d, got, sizeof(got), 1000), 1000);
	assert_memory_equal(got, f, 1000);
	assert_true(edrv_tx_done(&d, 1));
	/* Receive goes on at RDH. */
	frame(f, me, 200, 9);
	edrv_sock_send(&d, f, 200);
	i = edrv_rx_wait(&d);
	assert_int_equal(i, rdh);
	assert_int_equal(get16(edrv_rxd(&d, i) + 8), 200);
	assert_memory_equal(edrv_rx_data(&d, i, 200), f, 200);
	edrv_close(&d);
}

/* Damaged sections are refused, naming the device and what is wrong. */
static void test_damaged(void **state)
{
	static const struct {
		const char *field;
		uint64_t value;
		const char *why;
	} cases[] = {
	    {"e1000.ee_bits_in", 10, "e1000.ee_bits_in"},
	    {"e1000.ee_reading", 1, "Microwire"},
	    {"e1000.ioaddr", 0x20000, "e1000.ioaddr"},
	    {"e1000.timer.rdtr", 1ull << 40, "e1000.timer.rdtr"},
	    {"e1000.itr_wait_ns", 1ull << 30, "e1000.itr_wait_ns"},
	    {"e1000.tx.first", 1, "has not begun"},
	};
	struct edrv d;
	struct vmstate_out out;
	char err[256];
	uint8_t f[200];
	size_t len;

	bring_up(&d);
	frame(f, peer, 100, 1);
	edrv_tx_put(&d, edrv_tx_buf(&d, 0, f, 100), edrv_legacy_lower(60, 0, TXD_IFCS), 0);
	edrv_tx_kick(&d);
	move(&d, &out);
	uint8_t *ram = st_ram(d.h, RAM);
	uint8_t *copy = malloc(out.len);
	for (size_t c = 0; c < sizeof(cases) / sizeof(cases[0]) + 3; c++) {
		const char *why;
		memcpy(copy, out.buf, out.len);
		if (c < sizeof(cases) / sizeof(cases[0])) {
			st_set(copy, out.len, "nic", cases[c].field, cases[c].value);
			why = cases[c].why;
		} else if (c == sizeof(cases) / sizeof(cases[0])) {
			uint8_t *regs = st_field(copy, out.len, "nic", "e1000.regs", &len);
			regs[0xc0 + 3] = 0x80; /* ICR: a cause the 82540 does not have */
			why = "register 0xc0";
		} else if (c == sizeof(cases) / sizeof(cases[0]) + 1) {
			uint8_t *regs = st_field(copy, out.len, "nic", "e1000.regs", &len);
			regs[0x2818 + 2] = 1; /* RDT: above its 16 bits */
			why = "register 0x2818";
		} else {
			uint8_t *phy = st_field(copy, out.len, "nic", "e1000.phy", &len);
			phy[2 * 2] ^= 1; /* the PHY's identifier */
			why = "e1000.phy";
		}
		err[0] = 0;
		assert_int_equal(st_load(d.h, copy, out.len, err, sizeof(err)), -EINVAL);
		if (!strstr(err, "nic") || !strstr(err, why))
			fail_msg("case %zu: refused with \"%s\", not about \"%s\"", c, err, why);
		harness_fini(d.h);
		close(d.sock);
		int sv[2];
		char args[256];
		harness_init(d.h, RAM);
		st_put_ram(d.h, ram, RAM);
		harness_add(d.h, "i440fx", "i440fx", NULL);
		harness_add(d.h, "piix3", "piix3", NULL);
		assert_int_equal(socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sv), 0);
		d.sock = sv[0];
		snprintf(args, sizeof(args), "slot=4,mac=" EDRV_MAC ",switch=fd,fd=%d", sv[1]);
		harness_add(d.h, "e1000", "nic", args);
	}
	load_and_go(&d, &out);
	assert_int_equal(er32(&d, R_TDH), 1);
	free(copy);
	free(ram);
	vmstate_out_free(&out);
	edrv_close(&d);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_pause),
	    cmocka_unit_test(test_move),
	    cmocka_unit_test(test_damaged),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
