/* Split virtqueues (VIRTIO 1.2, 2.7) against a hostile driver, through
 * virtio-rng (the simplest device: it fills whatever it is given): chains,
 * indirect tables, buffers across RAM regions, loops, bad addresses and
 * indexes (each must set DEVICE_NEEDS_RESET and send the configuration
 * interrupt, 2.1.2), and interrupt suppression (NO_INTERRUPT, EVENT_IDX). */
#include "tests/devices/virtio_driver.h"

#define DEVFN PCI_DEVFN(3, 0)
#define QBASE 0x400000ull
#define BUF   0x200000ull
#define TABLE 0x300000ull

struct ring {
	struct harness h;
	struct vdrv d;
	struct vdrv_queue q;
};

static struct ring *setup_ring(uint64_t features, uint16_t size)
{
	struct ring *r = calloc(1, sizeof(*r));
	assert_non_null(r);
	harness_init(&r->h, 64 << 20);
	harness_add(&r->h, "i440fx", "i440fx", NULL);
	harness_add(&r->h, "virtio-rng", "rng", "slot=3,rate=0");
	vdrv_init(&r->d, &r->h, DEVFN);
	assert_true(vdrv_negotiate(&r->d, features));
	vdrv_msix_enable(&r->d, 2);
	vdrv_cc_write(&r->d, VDRV_CC_MSIX, 0, 2); /* configuration changes: entry 0 */
	assert_true(vdrv_queue_setup(&r->d, &r->q, 0, size, QBASE, 1));
	vdrv_driver_ok(&r->d);
	return r;
}

static void free_ring(struct ring *r)
{
	harness_fini(&r->h);
	free(r);
}

/* The device is broken: DEVICE_NEEDS_RESET, one configuration interrupt,
 * nothing used. Then a reset and a fresh set-up make it work again. */
static void expect_broken(struct ring *r)
{
	harness_run(&r->h, 20);
	assert_true(vdrv_status(&r->d) & VIRTIO_STATUS_DEVICE_NEEDS_RESET);
	assert_int_equal(vdrv_msi_count(&r->d, 0), 1);
	assert_int_equal(vdrv_msi_count(&r->d, 1), 0);
	assert_int_equal(vdrv_used_idx(&r->d, &r->q), 0);
	/* The ISR's configuration bit says why (4.1.4.5). */
	assert_int_equal(hmmio_read(&r->h, r->d.isr, 1) & 2, 2);
	/* Further kicks do nothing. */
	vdrv_kick(&r->d, &r->q);
	harness_run(&r->h, 5);
	assert_int_equal(vdrv_used_idx(&r->d, &r->q), 0);

	assert_true(vdrv_negotiate(&r->d, 0));
	assert_false(vdrv_status(&r->d) & VIRTIO_STATUS_DEVICE_NEEDS_RESET);
	assert_true(vdrv_queue_setup(&r->d, &r->q, 0, 16, QBASE, 1));
	vdrv_driver_ok(&r->d);
	struct vdrv_buf b = {BUF, 8, true};
	assert_true(vdrv_add(&r->d, &r->q, &b, 1, 0) >= 0);
	vdrv_kick(&r->d, &r->q);
	assert_true(vdrv_wait_used(&r->d, &r->q, 1, 2000));
}

static void test_chain_and_regions(void **state)
{
	(void)state;
	struct ring *r = setup_ring(0, 0);
	/* The BIOS segment as read-write RAM (PAM0), as SeaBIOS leaves it
	 * while it runs: 0xF0000-0xFFFFF is then a RAM region of its own. */
	struct vdrv host = {.h = &r->h, .devfn = PCI_DEVFN(0, 0)};
	vdrv_cfg_write(&host, 0x59, 0x30, 1);
	/* Three buffers: one across 1 MiB (two regions: two host pieces),
	 * one in conventional memory, one above 1 MiB. */
	uint8_t *a = hram(&r->h, 0xff800, 0x800), *b = hram(&r->h, 0x106800, 0x800);
	memset(hram(&r->h, 0xf9000, 0x7000), 0, 0x7000);
	memset(hram(&r->h, 0x100000, 0x7000), 0, 0x7000);
	struct vdrv_buf bufs[3] = {{0x8000, 100, true}, {0xf9000, 0xe000, true}, {BUF, 28, true}};
	int head = vdrv_add(&r->d, &r->q, bufs, 3, 0);
	assert_true(head >= 0);
	vdrv_kick(&r->d, &r->q);
	assert_true(vdrv_wait_used(&r->d, &r->q, 1, 2000));
	uint16_t h16;
	uint32_t len;
	assert_true(vdrv_get_used(&r->d, &r->q, &h16, &len));
	assert_int_equal(h16, head);
	assert_int_equal(len, 100 + 0xe000 + 28);
	bool na = false, nb = false;
	for (int i = 0; i < 0x800; i++)
		na |= a[i] != 0, nb |= b[i] != 0;
	assert_true(na && nb);
	free_ring(r);
}

static void test_indirect(void **state)
{
	(void)state;
	struct ring *r = setup_ring(1ull << VIRTIO_F_INDIRECT_DESC, 0);
	assert_true(r->d.accepted >> VIRTIO_F_INDIRECT_DESC & 1);
	struct vdrv_buf bufs[4] = {{BUF, 16, true},
				   {BUF + 0x100, 16, true},
				   {BUF + 0x200, 16, true},
				   {BUF + 0x300, 16, true}};
	memset(hram(&r->h, BUF, 0x400), 0, 0x400);
	assert_true(vdrv_add(&r->d, &r->q, bufs, 4, TABLE) >= 0);
	assert_int_equal(r->q.num_free, r->q.size - 1);
	vdrv_kick(&r->d, &r->q);
	assert_true(vdrv_wait_used(&r->d, &r->q, 1, 2000));
	uint16_t head;
	uint32_t len;
	assert_true(vdrv_get_used(&r->d, &r->q, &head, &len));
	assert_int_equal(len, 64);
	const uint8_t *p = hram(&r->h, BUF + 0x300, 16);
	bool nonzero = false;
	for (int i = 0; i < 16; i++)
		nonzero |= p[i] != 0;
	assert_true(nonzero);
	free_ring(r);
}

static void test_indirect_not_negotiated(void **state)
{
	(void)state;
	struct ring *r = setup_ring(0, 0);
	struct vdrv_buf b = {BUF, 16, true};
	assert_true(vdrv_add(&r->d, &r->q, &b, 1, TABLE) >= 0);
	vdrv_kick(&r->d, &r->q);
	expect_broken(r);
	free_ring(r);
}

static void test_nested_indirect(void **state)
{
	(void)state;
	struct ring *r = setup_ring(1ull << VIRTIO_F_INDIRECT_DESC, 0);
	vdrv_write_desc(&r->d, TABLE, 0, TABLE + 0x100, 16, VDRV_DESC_F_INDIRECT, 0);
	vdrv_write_desc(&r->d, r->q.desc, 0, TABLE, 16, VDRV_DESC_F_INDIRECT, 0);
	vdrv_publish(&r->d, &r->q, 0);
	vdrv_kick(&r->d, &r->q);
	expect_broken(r);
	free_ring(r);
}

static void test_loop(void **state)
{
	(void)state;
	struct ring *r = setup_ring(0, 8);
	vdrv_write_desc(&r->d, r->q.desc, 0, BUF, 8, VDRV_DESC_F_WRITE | VDRV_DESC_F_NEXT, 1);
	vdrv_write_desc(&r->d, r->q.desc, 1, BUF, 8, VDRV_DESC_F_WRITE | VDRV_DESC_F_NEXT, 0);
	vdrv_publish(&r->d, &r->q, 0);
	vdrv_kick(&r->d, &r->q);
	expect_broken(r);
	free_ring(r);
}

static void test_indirect_loop(void **state)
{
	(void)state;
	struct ring *r = setup_ring(1ull << VIRTIO_F_INDIRECT_DESC, 0);
	vdrv_write_desc(&r->d, TABLE, 0, BUF, 8, VDRV_DESC_F_WRITE | VDRV_DESC_F_NEXT, 1);
	vdrv_write_desc(&r->d, TABLE, 1, BUF, 8, VDRV_DESC_F_WRITE | VDRV_DESC_F_NEXT, 0);
	vdrv_write_desc(&r->d, r->q.desc, 0, TABLE, 32, VDRV_DESC_F_INDIRECT, 0);
	vdrv_publish(&r->d, &r->q, 0);
	vdrv_kick(&r->d, &r->q);
	expect_broken(r);
	free_ring(r);
}

static void test_bad_address(void **state)
{
	(void)state;
	struct ring *r = setup_ring(0, 0);
	/* Past the end of RAM (64 MiB), and wrapping the address space. */
	struct vdrv_buf b = {(64 << 20) - 8, 16, true};
	assert_true(vdrv_add(&r->d, &r->q, &b, 1, 0) >= 0);
	vdrv_kick(&r->d, &r->q);
	expect_broken(r);
	free_ring(r);

	r = setup_ring(0, 0);
	vdrv_write_desc(&r->d, r->q.desc, 0, ~0ull - 4, 16, VDRV_DESC_F_WRITE, 0);
	vdrv_publish(&r->d, &r->q, 0);
	vdrv_kick(&r->d, &r->q);
	expect_broken(r);
	free_ring(r);

	/* The VGA hole is not RAM either. */
	r = setup_ring(0, 0);
	b = (struct vdrv_buf){0xa0000, 16, true};
	assert_true(vdrv_add(&r->d, &r->q, &b, 1, 0) >= 0);
	vdrv_kick(&r->d, &r->q);
	expect_broken(r);
	free_ring(r);
}

static void test_bad_indexes(void **state)
{
	(void)state;
	/* A head past the table. */
	struct ring *r = setup_ring(0, 16);
	vdrv_publish(&r->d, &r->q, 16);
	vdrv_kick(&r->d, &r->q);
	expect_broken(r);
	free_ring(r);

	/* A next past the table. */
	r = setup_ring(0, 16);
	vdrv_write_desc(&r->d, r->q.desc, 0, BUF, 8, VDRV_DESC_F_WRITE | VDRV_DESC_F_NEXT, 300);
	vdrv_publish(&r->d, &r->q, 0);
	vdrv_kick(&r->d, &r->q);
	expect_broken(r);
	free_ring(r);

	/* The available index jumping by more than the queue size. */
	r = setup_ring(0, 16);
	vdrv_put16(&r->d, r->q.avail + 2, 17);
	vdrv_kick(&r->d, &r->q);
	expect_broken(r);
	free_ring(r);
}

static void test_readable_after_writable(void **state)
{
	(void)state;
	struct ring *r = setup_ring(0, 0);
	vdrv_write_desc(&r->d, r->q.desc, 0, BUF, 8, VDRV_DESC_F_WRITE | VDRV_DESC_F_NEXT, 1);
	vdrv_write_desc(&r->d, r->q.desc, 1, BUF + 8, 8, 0, 0);
	vdrv_publish(&r->d, &r->q, 0);
	vdrv_kick(&r->d, &r->q);
	expect_broken(r);
	free_ring(r);
}

static void test_rings_outside_ram(void **state)
{
	(void)state;
	struct ring *r = calloc(1, sizeof(*r));
	harness_init(&r->h, 16 << 20);
	harness_add(&r->h, "i440fx", "i440fx", NULL);
	harness_add(&r->h, "virtio-rng", "rng", "slot=3");
	vdrv_init(&r->d, &r->h, DEVFN);
	assert_true(vdrv_negotiate(&r->d, 0));
	vdrv_cc_write(&r->d, VDRV_CC_Q_SELECT, 0, 2);
	vdrv_cc_write(&r->d, VDRV_CC_Q_DESC, 0xf0000000u, 4);
	vdrv_cc_write(&r->d, VDRV_CC_Q_ENABLE, 1, 2);
	assert_int_equal(vdrv_cc_read(&r->d, VDRV_CC_Q_ENABLE, 2), 0);
	assert_true(vdrv_status(&r->d) & VIRTIO_STATUS_DEVICE_NEEDS_RESET);
	/* Misaligned is refused the same way. */
	assert_true(vdrv_negotiate(&r->d, 0));
	vdrv_cc_write(&r->d, VDRV_CC_Q_DESC, 0x10008, 4);
	vdrv_cc_write(&r->d, VDRV_CC_Q_DRIVER, 0x11000, 4);
	vdrv_cc_write(&r->d, VDRV_CC_Q_DEVICE, 0x12000, 4);
	vdrv_cc_write(&r->d, VDRV_CC_Q_ENABLE, 1, 2);
	assert_int_equal(vdrv_cc_read(&r->d, VDRV_CC_Q_ENABLE, 2), 0);
	free_ring(r);
}

static void one_request(struct ring *r)
{
	struct vdrv_buf b = {BUF, 8, true};
	assert_true(vdrv_add(&r->d, &r->q, &b, 1, 0) >= 0);
	vdrv_kick(&r->d, &r->q);
	assert_true(vdrv_wait_used(&r->d, &r->q, 1, 2000));
	harness_run(&r->h, 2);
}

static void test_no_interrupt(void **state)
{
	(void)state;
	struct ring *r = setup_ring(0, 0);
	vdrv_put16(&r->d, r->q.avail, 1); /* VIRTQ_AVAIL_F_NO_INTERRUPT */
	one_request(r);
	assert_int_equal(vdrv_msi_count(&r->d, 1), 0);
	vdrv_put16(&r->d, r->q.avail, 0);
	one_request(r);
	assert_int_equal(vdrv_msi_count(&r->d, 1), 1);
	free_ring(r);
}

static void test_event_idx(void **state)
{
	(void)state;
	struct ring *r = setup_ring(1ull << VIRTIO_F_EVENT_IDX, 0);
	assert_true(r->d.accepted >> VIRTIO_F_EVENT_IDX & 1);
	uint64_t used_event = r->q.avail + 4 + 2ull * r->q.size;
	uint64_t avail_event = r->q.used + 4 + 8ull * r->q.size;
	/* used_event 2: interrupts when the used index passes 2 (2.7.10). */
	vdrv_put16(&r->d, used_event, 2);
	one_request(r); /* the first is always signalled */
	assert_int_equal(vdrv_msi_count(&r->d, 1), 1);
	one_request(r); /* used idx 2: not past 2 yet */
	assert_int_equal(vdrv_msi_count(&r->d, 1), 1);
	one_request(r); /* 3: past 2 */
	assert_int_equal(vdrv_msi_count(&r->d, 1), 2);
	one_request(r);
	assert_int_equal(vdrv_msi_count(&r->d, 1), 2);
	/* The device tells the driver where it is (avail_event). */
	assert_int_equal(vdrv_get16(&r->d, avail_event), 4);
	free_ring(r);
}

static bool settled(void *ctx)
{
	struct ring *r = ctx;
	return vdrv_used_idx(&r->d, &r->q) == 4 ||
	       (vdrv_status(&r->d) & VIRTIO_STATUS_DEVICE_NEEDS_RESET);
}

/* Random rings and tables: whatever the driver writes, the device either
 * serves it or marks itself broken, and never touches memory outside guest
 * RAM (ASan watches the host side). */
static void test_random_rings(void **state)
{
	(void)state;
	uint64_t seed = 0x9e3779b97f4a7c15ull;
	unsigned served = 0;
	for (unsigned round = 0; round < 150; round++) {
		struct ring *r = setup_ring(round & 1 ? 1ull << VIRTIO_F_INDIRECT_DESC : 0, 8);
		for (unsigned i = 0; i < 8 + 16; i++) {
			seed = seed * 6364136223846793005ull + 1442695040888963407ull;
			uint64_t v = seed;
			/* Mostly plausible (in RAM, writable, short chains), with
			 * a few bad addresses, lengths, flags and links. */
			uint64_t addr = v % 16 == 0 ? v >> 4 : 0x500000 + (v >> 16) % 0x100000;
			uint32_t len = (uint32_t)(v % 29 == 0 ? v >> 32 : (v >> 20) % 0x800);
			unsigned f = (unsigned)(v >> 44) % 20;
			uint16_t flags = (uint16_t)((f != 0 ? VDRV_DESC_F_WRITE : 0) |
						    (f > 13 ? VDRV_DESC_F_NEXT : 0) |
						    (f == 1 ? VDRV_DESC_F_INDIRECT : 0));
			uint16_t next = (uint16_t)((v >> 53) % 9);
			if (i < 8)
				vdrv_write_desc(&r->d, r->q.desc, i, addr, len, flags, next);
			else
				vdrv_write_desc(&r->d, TABLE, i - 8, addr, len, flags, next);
		}
		seed = seed * 6364136223846793005ull + 1442695040888963407ull;
		for (unsigned k = 0; k < 4; k++)
			vdrv_publish(&r->d, &r->q, (uint16_t)((seed >> (8 * k)) % 9));
		vdrv_kick(&r->d, &r->q);
		assert_true(harness_run_until(&r->h, 2000, settled, r));
		uint16_t used = vdrv_used_idx(&r->d, &r->q);
		bool broken = vdrv_status(&r->d) & VIRTIO_STATUS_DEVICE_NEEDS_RESET;
		assert_true(used <= 4);
		assert_true(broken || used == 4);
		served += !broken;
		free_ring(r);
	}
	print_message("random rings: %u of 150 served, the rest refused\n", served);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_chain_and_regions),
	    cmocka_unit_test(test_indirect),
	    cmocka_unit_test(test_indirect_not_negotiated),
	    cmocka_unit_test(test_nested_indirect),
	    cmocka_unit_test(test_loop),
	    cmocka_unit_test(test_indirect_loop),
	    cmocka_unit_test(test_bad_address),
	    cmocka_unit_test(test_bad_indexes),
	    cmocka_unit_test(test_readable_after_writable),
	    cmocka_unit_test(test_rings_outside_ram),
	    cmocka_unit_test(test_no_interrupt),
	    cmocka_unit_test(test_event_idx),
	    cmocka_unit_test(test_random_rings),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
