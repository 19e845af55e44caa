/* virtio-rng (VIRTIO 1.2, 5.4) driven as Linux's virtio_rng does: one
 * queue of device-writable buffers, through the modern interface with
 * MSI-X, the legacy interface with INTx, and the rate limit. */
#include "tests/devices/virtio_driver.h"

#include <errno.h>
#include <stdio.h>

#define RNG_DEVFN PCI_DEVFN(3, 0)
#define QBASE	  0x100000ull
#define BUF	  0x200000ull

static struct harness *new_rng(const char *args)
{
	struct harness *h = calloc(1, sizeof(*h));
	assert_non_null(h);
	harness_init(h, 64 << 20);
	harness_add(h, "i440fx", "i440fx", NULL);
	harness_add(h, "piix3", "piix3", NULL);
	harness_add(h, "virtio-rng", "rng", args);
	return h;
}

static void free_rng(struct harness *h)
{
	harness_fini(h);
	free(h);
}

static bool all_zero(const uint8_t *p, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (p[i])
			return false;
	return true;
}

/* Offers n buffers as one chain, kicks through the modern notify area and
 * waits until the device used it. */
static void fill(struct vdrv *d, struct vdrv_queue *q, const struct vdrv_buf *b, unsigned n)
{
	assert_true(vdrv_add(d, q, b, n, 0) >= 0);
	vdrv_kick(d, q);
	assert_true(vdrv_wait_used(d, q, 1, 2000));
}

static void test_modern_msix(void **state)
{
	(void)state;
	struct harness *h = new_rng("slot=3");
	struct vdrv d;
	vdrv_init(&d, h, RNG_DEVFN);
	/* Transitional by default, as QEMU's pc machine makes it. */
	assert_int_equal(d.device, 0x1005);
	assert_int_equal(d.subsys, VIRTIO_ID_RNG);
	assert_int_equal(d.revision, 0);
	assert_true(d.has_io);
	assert_true(d.common && d.isr && d.notify && d.msix_cap);
	assert_true(vdrv_negotiate(&d, 1ull << VIRTIO_F_EVENT_IDX));
	assert_true(d.features >> VIRTIO_F_VERSION_1 & 1);
	vdrv_msix_enable(&d, 2);
	vdrv_cc_write(&d, VDRV_CC_MSIX, 0, 2);
	assert_int_equal(vdrv_cc_read(&d, VDRV_CC_MSIX, 2), 0);
	struct vdrv_queue q;
	assert_true(vdrv_queue_setup(&d, &q, 0, 0, QBASE, 1));
	assert_int_equal(q.size, 64);
	vdrv_driver_ok(&d);
	assert_int_equal(vdrv_status(&d), 0x0f);

	uint8_t *buf = hram(h, BUF, 4096);
	memset(buf, 0, 4096);
	struct vdrv_buf b = {BUF, 4096, true};
	fill(&d, &q, &b, 1);
	uint16_t head;
	uint32_t len;
	assert_true(vdrv_get_used(&d, &q, &head, &len));
	assert_int_equal(len, 4096);
	assert_false(all_zero(buf, 4096));
	assert_false(all_zero(buf + 2048, 2048));
	assert_int_equal(vdrv_msi_count(&d, 1), 1);
	assert_int_equal(vdrv_msi_count(&d, 0), 0);

	/* Two buffers in one chain, kicked together: both filled. */
	uint8_t *b2 = hram(h, BUF + 0x10000, 512);
	memset(b2, 0, 512);
	struct vdrv_buf two[2] = {{BUF + 0x10000, 256, true}, {BUF + 0x10100, 256, true}};
	fill(&d, &q, two, 2);
	assert_true(vdrv_get_used(&d, &q, &head, &len));
	assert_int_equal(len, 512);
	assert_false(all_zero(b2, 256));
	assert_false(all_zero(b2 + 256, 256));
	assert_int_equal(vdrv_msi_count(&d, 1), 2);

	/* A masked vector holds the interrupt as pending until unmasked. */
	vdrv_msix_mask(&d, 1, true);
	b.len = 16;
	fill(&d, &q, &b, 1);
	assert_int_equal(vdrv_msi_count(&d, 1), 2);
	uint64_t pba = hmmio_read(h, VDRV_MSIX_BASE + 0x800, 8);
	assert_int_equal(pba, 2);
	vdrv_msix_mask(&d, 1, false);
	assert_int_equal(vdrv_msi_count(&d, 1), 3);
	assert_int_equal(hmmio_read(h, VDRV_MSIX_BASE + 0x800, 8), 0);
	free_rng(h);
}

static void route_pirq(struct harness *h, uint8_t devfn, unsigned irq)
{
	struct vdrv bridge = {.h = h, .devfn = PCI_DEVFN(1, 0)};
	vdrv_cfg_write(&bridge, 0x60 + pci_slot_pirq(devfn, 0), irq, 1);
}

/* The modern interface without MSI-X: PIRQ routed to irq, queue 0 set up,
 * one 32-byte buffer filled, and INTx asserted for it. */
static void start_intx(struct harness *h, struct vdrv *d, struct vdrv_queue *q, unsigned irq)
{
	route_pirq(h, RNG_DEVFN, irq);
	assert_true(vdrv_negotiate(d, 0));
	assert_true(vdrv_queue_setup(d, q, 0, 16, QBASE, VDRV_NO_VECTOR));
	vdrv_driver_ok(d);
	struct vdrv_buf b = {BUF, 32, true};
	fill(d, q, &b, 1);
	assert_true(h->irq_level[irq]);
}

static void test_legacy_intx(void **state)
{
	(void)state;
	struct harness *h = new_rng("slot=3,vectors=0");
	struct vdrv d;
	vdrv_init(&d, h, RNG_DEVFN);
	assert_int_equal(d.msix_cap, 0);
	route_pirq(h, RNG_DEVFN, 11);
	/* Linux's virtio_pci_legacy: reset, ACK, DRIVER, features, queue
	 * page, DRIVER_OK. */
	vdrv_leg_write(&d, VDRV_LEG_STATUS, 0, 1);
	assert_int_equal(vdrv_leg_read(&d, VDRV_LEG_STATUS, 1), 0);
	vdrv_leg_write(&d, VDRV_LEG_STATUS, 1, 1);
	vdrv_leg_write(&d, VDRV_LEG_STATUS, 3, 1);
	uint32_t hf = vdrv_leg_read(&d, VDRV_LEG_HOST_FEATURES, 4);
	assert_true(hf >> VIRTIO_F_INDIRECT_DESC & 1);
	vdrv_leg_write(&d, VDRV_LEG_GUEST_FEATURES, 0, 4);
	struct vdrv_queue q;
	assert_true(vdrv_leg_queue_setup(&d, &q, 0, QBASE));
	assert_int_equal(q.size, 64);
	/* A queue that does not exist has size 0. */
	vdrv_leg_write(&d, VDRV_LEG_QUEUE_SEL, 5, 2);
	assert_int_equal(vdrv_leg_read(&d, VDRV_LEG_QUEUE_SIZE, 2), 0);
	vdrv_leg_write(&d, VDRV_LEG_STATUS, 7, 1);
	assert_int_equal(vdrv_leg_read(&d, VDRV_LEG_STATUS, 1), 7);

	uint8_t *buf = hram(h, BUF, 64);
	memset(buf, 0, 64);
	struct vdrv_buf b = {BUF, 64, true};
	assert_true(vdrv_add(&d, &q, &b, 1, 0) >= 0);
	vdrv_leg_kick(&d, &q);
	assert_true(vdrv_wait_used(&d, &q, 1, 2000));
	assert_true(h->irq_level[11]);
	assert_int_equal(h->irq_raised[11], 1);
	/* Reading the ISR acknowledges: bit 0 (a queue), then 0. */
	assert_int_equal(vdrv_leg_read(&d, VDRV_LEG_ISR, 1), 1);
	assert_false(h->irq_level[11]);
	assert_int_equal(vdrv_leg_read(&d, VDRV_LEG_ISR, 1), 0);
	uint16_t head;
	uint32_t len;
	assert_true(vdrv_get_used(&d, &q, &head, &len));
	assert_int_equal(len, 64);
	assert_false(all_zero(buf, 64));
	/* Reset: the queue is gone (PFN 0) and the status 0. */
	vdrv_leg_write(&d, VDRV_LEG_STATUS, 0, 1);
	vdrv_leg_write(&d, VDRV_LEG_QUEUE_SEL, 0, 2);
	assert_int_equal(vdrv_leg_read(&d, VDRV_LEG_QUEUE_PFN, 4), 0);
	free_rng(h);
}

static void test_modern_intx(void **state)
{
	(void)state;
	struct harness *h = new_rng("slot=3,legacy=off,vectors=0");
	struct vdrv d;
	vdrv_init(&d, h, RNG_DEVFN);
	assert_int_equal(d.device, 0x1044);
	assert_int_equal(d.revision, 1);
	assert_false(d.has_io);
	struct vdrv_queue q;
	start_intx(h, &d, &q, 10);
	assert_int_equal(hmmio_read(h, d.isr, 1), 1);
	assert_false(h->irq_level[10]);
	free_rng(h);
}

/* Turning MSI-X on lets go of an asserted INTx (as QEMU does), and the
 * next interrupt is a message. */
static void test_intx_then_msix(void **state)
{
	(void)state;
	struct harness *h = new_rng("slot=3");
	struct vdrv d;
	vdrv_init(&d, h, RNG_DEVFN);
	struct vdrv_queue q;
	start_intx(h, &d, &q, 11);
	vdrv_msix_enable(&d, 2);
	assert_false(h->irq_level[11]);
	vdrv_cc_write(&d, VDRV_CC_Q_SELECT, 0, 2);
	vdrv_cc_write(&d, VDRV_CC_Q_MSIX, 1, 2);
	uint16_t head;
	uint32_t len;
	assert_true(vdrv_get_used(&d, &q, &head, &len));
	struct vdrv_buf b = {BUF, 32, true};
	fill(&d, &q, &b, 1);
	assert_int_equal(vdrv_msi_count(&d, 1), 1);
	assert_false(h->irq_level[11]);
	free_rng(h);
}

/* rate=: a guest asking for everything gets about the rate's worth. */
static void test_rate_limit(void **state)
{
	(void)state;
	struct harness *h = new_rng("slot=3,rate=100000");
	struct vdrv d;
	vdrv_init(&d, h, RNG_DEVFN);
	assert_true(vdrv_negotiate(&d, 0));
	vdrv_msix_enable(&d, 2);
	struct vdrv_queue q;
	assert_true(vdrv_queue_setup(&d, &q, 0, 0, QBASE, 1));
	vdrv_driver_ok(&d);
	for (unsigned i = 0; i < 16; i++) {
		struct vdrv_buf b = {BUF + i * 0x10000ull, 0x10000, true};
		assert_true(vdrv_add(&d, &q, &b, 1, 0) >= 0);
	}
	uint64_t t0 = clock_ns();
	vdrv_kick(&d, &q);
	harness_run(h, 500);
	uint64_t ms = (clock_ns() - t0) / 1000000;
	uint64_t total = 0;
	uint16_t head;
	uint32_t len;
	while (vdrv_get_used(&d, &q, &head, &len))
		total += len;
	/* The first 64 KiB at once, then 100000 bytes/s. */
	uint64_t limit = 65536 + 100000 * (ms + 20) / 1000;
	assert_true(total > 65536);
	assert_true(total <= limit);
	free_rng(h);
}

static void test_bad_args(void **state)
{
	(void)state;
	struct harness h;
	harness_init(&h, 16 << 20);
	struct devargs a = {0};
	/* No PCI bus yet. */
	assert_int_equal(machine_add_device(&h.m, "virtio-rng", "r0", &a), -ENODEV);
	harness_add(&h, "i440fx", "i440fx", NULL);
	assert_int_equal(devargs_parse(&a, "legacy=maybe"), 0);
	assert_true(machine_add_device(&h.m, "virtio-rng", "r1", &a) < 0);
	memset(&a, 0, sizeof(a));
	assert_int_equal(devargs_parse(&a, "vectors=1000"), 0);
	assert_true(machine_add_device(&h.m, "virtio-rng", "r2", &a) < 0);
	memset(&a, 0, sizeof(a));
	assert_int_equal(devargs_parse(&a, "colour=blue"), 0);
	assert_true(machine_add_device(&h.m, "virtio-rng", "r3", &a) < 0);
	harness_fini(&h);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_modern_msix), cmocka_unit_test(test_legacy_intx),
	    cmocka_unit_test(test_modern_intx), cmocka_unit_test(test_intx_then_msix),
	    cmocka_unit_test(test_rate_limit),	cmocka_unit_test(test_bad_args),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
