/* The virtio PCI transport (VIRTIO 1.2, 4.1) as Linux's virtio_pci_modern
 * and virtio_pci_legacy and SeaBIOS's virtio-pci see it: capabilities and
 * BARs, feature negotiation and FEATURES_OK, queue set-up rules, MSI-X
 * vector assignment, reset, the PCI configuration access window, and the
 * queue notify ioeventfds following the BARs. Uses virtio-console (two
 * queues, device configuration). */
#include "tests/devices/virtio_driver.h"

#include <errno.h>
#include <stdio.h>
#include <sys/eventfd.h>
#include <unistd.h>

#define DEVFN PCI_DEVFN(4, 0)
#define QBASE 0x100000ull

static struct harness *new_dev(const char *args)
{
	struct harness *h = calloc(1, sizeof(*h));
	assert_non_null(h);
	harness_init(h, 32 << 20);
	harness_add(h, "i440fx", "i440fx", NULL);
	harness_add(h, "piix3", "piix3", NULL);
	harness_add(h, "virtio-console", "con", args);
	return h;
}

static void free_dev(struct harness *h)
{
	harness_fini(h);
	free(h);
}

static void test_header_and_caps(void **state)
{
	(void)state;
	struct harness *h = new_dev("slot=4,cols=80,rows=25");
	struct vdrv d;
	vdrv_init(&d, h, DEVFN);
	assert_int_equal(d.device, 0x1003); /* transitional console */
	assert_int_equal(d.subsys, VIRTIO_ID_CONSOLE);
	assert_int_equal(vdrv_cfg_read(&d, PCI_SUBSYSTEM_VENDOR_ID, 2), 0x1af4);
	assert_int_equal(vdrv_cfg_read(&d, PCI_CLASS_DEVICE, 2), 0x0780);
	assert_int_equal(vdrv_cfg_read(&d, PCI_INTERRUPT_PIN, 1), 1);
	/* BAR 0: legacy I/O; BAR 1: MSI-X; BAR 4: 64-bit prefetchable. */
	assert_int_equal(vdrv_bar_addr(&d, 0), VDRV_IO_BASE);
	assert_int_equal(vdrv_bar_addr(&d, 1), VDRV_MSIX_BASE);
	assert_int_equal(vdrv_bar_addr(&d, 4), VDRV_MODERN_BASE);
	assert_int_equal(vdrv_cfg_read(&d, PCI_BASE_ADDRESS_0 + 16, 4) & 0xf, 0xc);
	assert_int_equal(d.common, VDRV_MODERN_BASE);
	assert_int_equal(d.isr, VDRV_MODERN_BASE + 0x1000);
	assert_int_equal(d.devcfg, VDRV_MODERN_BASE + 0x2000);
	assert_int_equal(d.notify, VDRV_MODERN_BASE + 0x3000);
	assert_int_equal(d.notify_mult, 4);
	assert_true(d.cfg_cap != 0);
	assert_int_equal(d.msix_size, 3); /* queues + 1 */
	/* Feature offer: VERSION_1, INDIRECT_DESC, EVENT_IDX, and the
	 * console's SIZE and EMERG_WRITE. */
	uint64_t f = vdrv_device_features(&d);
	assert_int_equal(f, 1ull << 32 | 1ull << 29 | 1ull << 28 | 1ull << 2 | 1ull << 0);
	/* Selectors past the second word read 0. */
	vdrv_cc_write(&d, VDRV_CC_DFSELECT, 2, 4);
	assert_int_equal(vdrv_cc_read(&d, VDRV_CC_DF, 4), 0);
	assert_int_equal(vdrv_cc_read(&d, VDRV_CC_NUMQ, 2), 2);
	/* Device configuration: cols, rows, max_nr_ports. */
	assert_int_equal(hmmio_read(h, d.devcfg, 2), 80);
	assert_int_equal(hmmio_read(h, d.devcfg + 2, 2), 25);
	assert_int_equal(hmmio_read(h, d.devcfg + 4, 4), 1);
	assert_int_equal(hmmio_read(h, d.devcfg + 12, 4), 0); /* past the end */
	/* ... also at the legacy BAR's offset 0x14 (MSI-X off). */
	assert_int_equal(vdrv_leg_read(&d, 0x14, 2), 80);
	vdrv_msix_enable(&d, 1);
	assert_int_equal(vdrv_leg_read(&d, 0x18, 2), 80); /* 0x18 with MSI-X on */
	free_dev(h);

	h = new_dev("slot=4,legacy=off,vectors=0");
	vdrv_init(&d, h, DEVFN);
	assert_int_equal(d.device, 0x1043);
	assert_int_equal(d.revision, 1);
	assert_false(d.has_io);
	assert_int_equal(d.msix_cap, 0);
	free_dev(h);
}

static void test_features(void **state)
{
	(void)state;
	struct harness *h = new_dev("slot=4");
	struct vdrv d;
	vdrv_init(&d, h, DEVFN);
	/* Without VERSION_1 the modern interface refuses FEATURES_OK. */
	vdrv_reset(&d);
	vdrv_set_status(&d, 3);
	vdrv_write_features(&d, 1ull << 28);
	vdrv_set_status(&d, 0xb);
	assert_int_equal(vdrv_status(&d), 3);
	/* A feature the device does not offer: refused too. */
	vdrv_write_features(&d, 1ull << 32 | 1ull << 5);
	vdrv_set_status(&d, 0xb);
	assert_int_equal(vdrv_status(&d), 3);
	/* DRIVER_OK without FEATURES_OK does not start the device. */
	vdrv_set_status(&d, 7);
	assert_false(vdrv_status(&d) & VIRTIO_STATUS_DRIVER_OK);
	/* Accepted, then frozen. */
	assert_true(vdrv_negotiate(&d, 1ull << 0 | 1ull << 2));
	assert_int_equal(d.accepted, 1ull << 32 | 1ull << 2); /* no size: not offered */
	vdrv_cc_write(&d, VDRV_CC_GFSELECT, 0, 4);
	assert_int_equal(vdrv_cc_read(&d, VDRV_CC_GF, 4), 4);
	vdrv_cc_write(&d, VDRV_CC_GF, 0xffffffff, 4);
	assert_int_equal(vdrv_cc_read(&d, VDRV_CC_GF, 4), 4);
	/* Reset clears status and features. */
	vdrv_reset(&d);
	vdrv_cc_write(&d, VDRV_CC_GFSELECT, 1, 4);
	assert_int_equal(vdrv_cc_read(&d, VDRV_CC_GF, 4), 0);
	free_dev(h);
}

static void test_queue_rules(void **state)
{
	(void)state;
	struct harness *h = new_dev("slot=4");
	struct vdrv d;
	vdrv_init(&d, h, DEVFN);
	assert_true(vdrv_negotiate(&d, 0));
	vdrv_cc_write(&d, VDRV_CC_Q_SELECT, 0, 2);
	assert_int_equal(vdrv_cc_read(&d, VDRV_CC_Q_SIZE, 2), 128);
	/* Not a power of two, or too big: ignored. */
	vdrv_cc_write(&d, VDRV_CC_Q_SIZE, 100, 2);
	assert_int_equal(vdrv_cc_read(&d, VDRV_CC_Q_SIZE, 2), 128);
	vdrv_cc_write(&d, VDRV_CC_Q_SIZE, 256, 2);
	assert_int_equal(vdrv_cc_read(&d, VDRV_CC_Q_SIZE, 2), 128);
	vdrv_cc_write(&d, VDRV_CC_Q_SIZE, 32, 2);
	assert_int_equal(vdrv_cc_read(&d, VDRV_CC_Q_SIZE, 2), 32);
	assert_int_equal(vdrv_cc_read(&d, VDRV_CC_Q_NOFF, 2), 0);
	/* A queue past the last reads as absent and ignores writes. */
	vdrv_cc_write(&d, VDRV_CC_Q_SELECT, 2, 2);
	assert_int_equal(vdrv_cc_read(&d, VDRV_CC_Q_SIZE, 2), 0);
	vdrv_cc_write(&d, VDRV_CC_Q_ENABLE, 1, 2);
	assert_int_equal(vdrv_cc_read(&d, VDRV_CC_Q_ENABLE, 2), 0);
	vdrv_cc_write(&d, VDRV_CC_Q_SELECT, 0xffff, 2);
	assert_int_equal(vdrv_cc_read(&d, VDRV_CC_Q_SIZE, 2), 0);
	/* Vectors the table does not have read back as NO_VECTOR. */
	vdrv_cc_write(&d, VDRV_CC_Q_SELECT, 1, 2);
	vdrv_cc_write(&d, VDRV_CC_Q_MSIX, 3, 2);
	assert_int_equal(vdrv_cc_read(&d, VDRV_CC_Q_MSIX, 2), VDRV_NO_VECTOR);
	vdrv_cc_write(&d, VDRV_CC_Q_MSIX, 2, 2);
	assert_int_equal(vdrv_cc_read(&d, VDRV_CC_Q_MSIX, 2), 2);
	vdrv_cc_write(&d, VDRV_CC_MSIX, 7, 2);
	assert_int_equal(vdrv_cc_read(&d, VDRV_CC_MSIX, 2), VDRV_NO_VECTOR);
	/* Enabled: the addresses are fixed until reset. */
	struct vdrv_queue q;
	assert_true(vdrv_queue_setup(&d, &q, 1, 16, QBASE, 2));
	vdrv_cc_write(&d, VDRV_CC_Q_DESC, 0x5000, 4);
	assert_int_equal(vdrv_cc_read(&d, VDRV_CC_Q_DESC, 4), (uint32_t)QBASE);
	assert_int_equal(q.notify, d.notify + 4);
	/* A 64-bit access to a 64-bit field. */
	assert_int_equal(hmmio_read(h, d.common + VDRV_CC_Q_DEVICE, 8), q.used);
	vdrv_reset(&d);
	vdrv_cc_write(&d, VDRV_CC_Q_SELECT, 1, 2);
	assert_int_equal(vdrv_cc_read(&d, VDRV_CC_Q_ENABLE, 2), 0);
	assert_int_equal(vdrv_cc_read(&d, VDRV_CC_Q_DESC, 4), 0);
	assert_int_equal(vdrv_cc_read(&d, VDRV_CC_Q_SIZE, 2), 128);
	assert_int_equal(vdrv_cc_read(&d, VDRV_CC_Q_MSIX, 2), VDRV_NO_VECTOR);
	free_dev(h);
}

/* VIRTIO_PCI_CAP_PCI_CFG: SeaBIOS reaches a BAR it cannot map this way. */
static void test_cfg_window(void **state)
{
	(void)state;
	struct harness *h = new_dev("slot=4");
	struct vdrv d;
	vdrv_init(&d, h, DEVFN);
	unsigned c = d.cfg_cap;
	assert_int_equal(vdrv_cfg_read(&d, c + 2, 1), 20);
	vdrv_cfg_write(&d, c + 4, 4, 1);    /* BAR 4 */
	vdrv_cfg_write(&d, c + 8, 0x12, 4); /* num_queues */
	vdrv_cfg_write(&d, c + 12, 2, 4);   /* 2 bytes */
	assert_int_equal(vdrv_cfg_read(&d, c + 16, 4) & 0xffff, 2);
	/* A write: the status register. */
	vdrv_cfg_write(&d, c + 8, 0x14, 4);
	vdrv_cfg_write(&d, c + 12, 1, 4);
	vdrv_cfg_write(&d, c + 16, 1, 4);
	assert_int_equal(vdrv_status(&d), 1);
	assert_int_equal(vdrv_cfg_read(&d, c + 16, 1), 1);
	/* Bad lengths and offsets do nothing. */
	vdrv_cfg_write(&d, c + 12, 3, 4);
	vdrv_cfg_write(&d, c + 16, 0, 4);
	assert_int_equal(vdrv_status(&d), 1);
	vdrv_cfg_write(&d, c + 12, 4, 4);
	vdrv_cfg_write(&d, c + 8, 0x100000, 4);
	vdrv_cfg_read(&d, c + 16, 4);
	vdrv_cfg_write(&d, c + 4, 9, 1);
	vdrv_cfg_read(&d, c + 16, 4);
	free_dev(h);
}

/* A backend that takes ioeventfds, as KVM does. */
struct iorec {
	unsigned n;
	struct ioeventfd ev[8];
};

static int io_send(void *opaque, struct msi_msg msg)
{
	(void)opaque;
	(void)msg;
	return 0;
}

static int io_ioeventfd(void *opaque, const struct ioeventfd *ev, bool assign)
{
	struct iorec *r = opaque;
	if (assign) {
		assert_true(r->n < 8);
		r->ev[r->n++] = *ev;
	} else {
		for (unsigned i = 0; i < r->n; i++)
			if (r->ev[i].addr == ev->addr && r->ev[i].fd == ev->fd &&
			    r->ev[i].pio == ev->pio)
				r->ev[i--] = r->ev[--r->n];
	}
	return 0;
}

static const struct msi_backend_ops io_ops = {.send = io_send, .ioeventfd = io_ioeventfd};

static void test_ioeventfds(void **state)
{
	(void)state;
	struct harness *h = new_dev("slot=4");
	struct iorec rec = {0};
	msi_set_backend(&h->m, &io_ops, &rec);
	struct vdrv d;
	vdrv_init(&d, h, DEVFN); /* maps the BARs: registered with `rec` */
	assert_int_equal(rec.n, 4);
	/* vdrv_init installed its own recorder; a new backend (the next
	 * power-on's partition) gets every registration again. */
	rec.n = 0;
	msi_set_backend(&h->m, &io_ops, &rec);
	assert_int_equal(rec.n, 4);
	unsigned seen = 0;
	int txfd = -1;
	for (unsigned i = 0; i < rec.n; i++) {
		struct ioeventfd *e = &rec.ev[i];
		assert_int_equal(e->len, 2);
		if (e->pio) {
			assert_true(e->datamatch);
			assert_int_equal(e->addr, VDRV_IO_BASE + 0x10);
			seen |= 1u << e->data;
		} else {
			assert_false(e->datamatch);
			assert_true(e->addr == VDRV_MODERN_BASE + 0x3000 ||
				    e->addr == VDRV_MODERN_BASE + 0x3004);
			seen |= 4u << (e->addr == VDRV_MODERN_BASE + 0x3004);
			if (e->addr == VDRV_MODERN_BASE + 0x3004)
				txfd = e->fd;
		}
	}
	assert_int_equal(seen, 0xf);
	/* The kernel signalling the fd (a guest write it caught) serves the
	 * queue: guest output reaches the console's backend... which is
	 * "none" here, so look at the used ring. */
	assert_true(vdrv_negotiate(&d, 0));
	struct vdrv_queue tx;
	assert_true(vdrv_queue_setup(&d, &tx, 1, 16, QBASE, VDRV_NO_VECTOR));
	vdrv_driver_ok(&d);
	memcpy(hram(h, 0x200000, 5), "hello", 5);
	struct vdrv_buf b = {0x200000, 5, false};
	assert_true(vdrv_add(&d, &tx, &b, 1, 0) >= 0);
	uint64_t one = 1;
	assert_int_equal(write(txfd, &one, 8), 8);
	assert_true(vdrv_wait_used(&d, &tx, 1, 2000));
	/* Moving the BAR moves the registrations. */
	vdrv_cfg_write(&d, PCI_BASE_ADDRESS_0 + 16, 0xfd000000u, 4);
	unsigned moved = 0;
	for (unsigned i = 0; i < rec.n; i++)
		moved += !rec.ev[i].pio && (rec.ev[i].addr >> 24) == 0xfd;
	assert_int_equal(moved, 2);
	assert_int_equal(rec.n, 4);
	/* Decoding off: none left. */
	vdrv_cfg_write(&d, PCI_COMMAND, 0, 2);
	assert_int_equal(rec.n, 0);
	msi_set_backend(&h->m, NULL, NULL);
	free_dev(h);
}

/* Reset while the driver has buffers queued: the device forgets them and
 * the queue comes back at index 0. */
static void test_reset_mid_flight(void **state)
{
	(void)state;
	struct harness *h = new_dev("slot=4");
	struct vdrv d;
	vdrv_init(&d, h, DEVFN);
	assert_true(vdrv_negotiate(&d, 0));
	vdrv_msix_enable(&d, 3);
	struct vdrv_queue rx;
	assert_true(vdrv_queue_setup(&d, &rx, 0, 8, QBASE, 1));
	vdrv_driver_ok(&d);
	struct vdrv_buf b = {0x200000, 64, true};
	for (int i = 0; i < 4; i++)
		assert_true(vdrv_add(&d, &rx, &b, 1, 0) >= 0);
	vdrv_kick(&d, &rx);
	harness_run(h, 5);
	assert_int_equal(vdrv_used_idx(&d, &rx), 0); /* no input: held */
	vdrv_reset(&d);
	assert_true(vdrv_negotiate(&d, 0));
	assert_true(vdrv_queue_setup(&d, &rx, 0, 8, QBASE + 0x10000, 1));
	vdrv_driver_ok(&d);
	assert_int_equal(vdrv_status(&d), 0xf);
	free_dev(h);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_header_and_caps), cmocka_unit_test(test_features),
	    cmocka_unit_test(test_queue_rules),	    cmocka_unit_test(test_cfg_window),
	    cmocka_unit_test(test_ioeventfds),	    cmocka_unit_test(test_reset_mid_flight),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
