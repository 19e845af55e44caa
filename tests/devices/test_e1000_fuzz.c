/* e1000 against a driver that writes nonsense: random register writes and
 * narrow accesses, random descriptors (addresses in and out of RAM, any
 * length and command bits), random frames from the network, with a fixed
 * seed. The device must stay inside guest RAM and its own buffers (ASan
 * watches) and work normally after a reset. */
#include "tests/devices/e1000_driver.h"

static uint64_t rnd_state = 0x9e3779b97f4a7c15ull;

static uint64_t rnd(void)
{
	/* xorshift64* */
	rnd_state ^= rnd_state >> 12;
	rnd_state ^= rnd_state << 25;
	rnd_state ^= rnd_state >> 27;
	return rnd_state * 0x2545f4914f6cdd1dull;
}

/* Mostly inside the 64 MiB of RAM, sometimes across its end or far away. */
static uint64_t rnd_addr(void)
{
	switch (rnd() % 8) {
	case 0:
		return rnd();
	case 1:
		return (64ull << 20) - rnd() % 4096;
	default:
		return rnd() % (64ull << 20);
	}
}

static const uint32_t regs[] = {
    R_CTRL, R_EECD,  R_EERD,  R_MDIC,  R_VET,	R_ICR,	 R_ITR,	 R_ICS,	 R_IMS,
    R_IMC,  R_RCTL,  R_TCTL,  R_RDBAL, R_RDBAH, R_RDLEN, R_RDH,	 R_RDT,	 R_RDTR,
    R_RADV, R_TDBAL, R_TDBAH, R_TDLEN, R_TDH,	R_TDT,	 R_TIDV, R_TADV, R_RXCSUM,
    R_MTA,  R_RAL0,  R_RAH0,  R_VFTA,  0x0018,	0x2828,	 0x3828, 0x4000, 0x40fc,
};

static uint32_t rnd_value(uint32_t reg)
{
	switch (reg) {
	case R_TDLEN:
	case R_RDLEN:
		return rnd() % 4 ? (uint32_t)(rnd() % 64) * 128 : (uint32_t)rnd();
	case R_TDH:
	case R_TDT:
	case R_RDH:
	case R_RDT:
		return rnd() % 4 ? (uint32_t)(rnd() % 64) : (uint32_t)rnd();
	case R_TDBAL:
		return rnd() % 4 ? (uint32_t)EDRV_TX_RING : (uint32_t)rnd_addr();
	case R_RDBAL:
		return rnd() % 4 ? (uint32_t)EDRV_RX_RING : (uint32_t)rnd_addr();
	case R_TCTL:
	case R_RCTL:
		return rnd() % 4 ? (uint32_t)rnd() | 2 : (uint32_t)rnd(); /* mostly enabled */
	case R_TDBAH:
	case R_RDBAH:
		return rnd() % 4 ? 0 : (uint32_t)rnd();
	case R_CTRL:
		return (uint32_t)rnd() & ~(1u << 26); /* resets are tried apart */
	case R_ITR:
	case R_RDTR:
	case R_RADV:
	case R_TIDV:
	case R_TADV:
		return (uint32_t)(rnd() % 64);
	}
	return (uint32_t)rnd();
}

static void rnd_descriptors(struct edrv *d, uint64_t ring)
{
	for (unsigned i = 0; i < 64; i++) {
		uint8_t *desc = hram(d->h, ring + 16ull * i, 16);
		put64(desc, rnd_addr());
		uint32_t lower = (uint32_t)rnd();
		if (rnd() % 2) /* a plausible length, often the packet's end */
			lower = (lower & 0xfff00000u) | (uint32_t)(rnd() % 2000) |
				(rnd() % 2 ? 1u << 24 : 0);
		put32(desc + 8, lower);
		put32(desc + 12, (uint32_t)rnd());
		if (rnd() % 3 == 0) /* a context descriptor with small offsets */
			put32(desc, (uint32_t)(rnd() % 64) * 0x01010101u);
	}
}

static void test_fuzz(void **state)
{
	(void)state;
	struct edrv d;
	edrv_open(&d, NULL);
	edrv_tx_setup(&d, 64);
	edrv_rx_setup(&d, 64, 63, RCTL_BAM | RCTL_UPE);
	static uint8_t f[1522];
	for (unsigned iter = 0; iter < 20000; iter++) {
		switch (rnd() % 6) {
		case 0:
			rnd_descriptors(&d, rnd() % 2 ? EDRV_TX_RING : EDRV_RX_RING);
			break;
		case 1:
		case 2: {
			uint32_t reg = regs[rnd() % (sizeof(regs) / sizeof(regs[0]))];
			ew32(&d, reg, rnd_value(reg));
			break;
		}
		case 3: {
			unsigned size = 1u << (rnd() % 4);
			uint64_t off = rnd() % 0x20000 & ~(uint64_t)(size - 1);
			if (rnd() % 2)
				hmmio_read(d.h, EDRV_MMIO + off, size);
			else
				hmmio_write(d.h, EDRV_MMIO + off, rnd(), size);
			break;
		}
		case 4: {
			size_t len = 14 + rnd() % (sizeof(f) - 14);
			for (size_t i = 0; i < len; i++)
				f[i] = (uint8_t)rnd();
			if (rnd() % 2)
				memcpy(f, (const uint8_t[]){0x52, 0x4f, 0x53, 0, 0, 1}, 6);
			if (rnd() % 2)
				edrv_sock_send(&d, f, len);
			harness_run(d.h, rnd() % 2);
			break;
		}
		case 5:
			houtl(d.h, EDRV_IO, (uint32_t)rnd() % 0x20000);
			houtl(d.h, EDRV_IO + 4, (uint32_t)rnd());
			break;
		}
		/* Drain what the adapter sent. */
		uint8_t buf[2048];
		while (edrv_sock_recv(&d, buf, sizeof(buf), 0) >= 0)
			;
	}
	harness_run(d.h, 20);
	/* After a reset it works as new. */
	edrv_reset(&d);
	harness_run(d.h, 50); /* frames still queued meet a stopped receiver */
	edrv_tx_setup(&d, 8);
	edrv_rx_setup(&d, 8, 7, RCTL_BAM);
	uint8_t good[100], got[2048];
	size_t len =
	    edrv_build(good, (const uint8_t[]){0x52, 0x4f, 0x53, 0, 0, 1}, false, true, 40, false);
	while (edrv_sock_recv(&d, got, sizeof(got), 50) >= 0)
		;
	edrv_send_legacy(&d, good, len);
	assert_int_equal(edrv_sock_recv(&d, got, sizeof(got), 1000), (ssize_t)len);
	assert_memory_equal(got, good, len);
	edrv_sock_send(&d, good, len);
	unsigned i = edrv_rx_wait(&d);
	assert_memory_equal(edrv_rx_data(&d, i, len), good, len);
	edrv_close(&d);
}

int main(void)
{
	const struct CMUnitTest tests[] = {cmocka_unit_test(test_fuzz)};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
