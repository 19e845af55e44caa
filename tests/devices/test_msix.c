/* PCI MSI-X (devices/msix.c) on a device of the test's own, and the
 * machine's MSI hub (hypervisor/msi.c) behind it: table and PBA access,
 * per-vector and function masks, pending bits, enable, routes (irqfds)
 * following the table, and ioeventfds replayed to a new backend. */
#include "devices/msix.h"
#include "tests/devices/harness.h"
#include "tests/devices/pci_testdev.h"

#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <unistd.h>

#define DEVFN PCI_DEVFN(5, 0)
#define BAR   0xfebf0000ull
#define NVEC  5

struct t {
	struct harness h;
	struct pci_testdev dev;
	struct msi_rec rec;
};

static uint32_t cfg_read(struct harness *h, unsigned reg, unsigned size)
{
	return pcitest_cfg_read(h, DEVFN, reg, size);
}

static void cfg_write(struct harness *h, unsigned reg, uint32_t v, unsigned size)
{
	pcitest_cfg_write(h, DEVFN, reg, v, size);
}

static int setup(void **state)
{
	struct t *t = calloc(1, sizeof(*t));
	harness_init(&t->h, 16 << 20);
	harness_add(&t->h, "i440fx", "i440fx", NULL);
	msi_rec_init(&t->rec, true, false);
	msi_set_backend(&t->h.m, &msi_rec_ops, &t->rec);
	pci_testdev_init(&t->dev, "msixdev", 0x1234, 0x1111, 0xff0000, 0, 0, 0, 1);
	pci_testdev_msix(&t->dev, &t->h.m, NVEC, 2);
	assert_int_equal(pci_register(t->h.m.pci, &t->dev.pci, 5, 0), 0);
	cfg_write(&t->h, PCI_BASE_ADDRESS_0 + 8, (uint32_t)BAR, 4);
	cfg_write(&t->h, PCI_COMMAND, PCI_COMMAND_MEMORY | PCI_COMMAND_MASTER, 2);
	*state = t;
	return 0;
}

static int teardown(void **state)
{
	struct t *t = *state;
	pci_testdev_destroy(&t->dev);
	msi_set_backend(&t->h.m, NULL, NULL);
	harness_fini(&t->h);
	free(t);
	return 0;
}

static void program(struct t *t, unsigned v, uint64_t addr, uint32_t data, bool masked)
{
	hmmio_write(&t->h, BAR + 16 * v, (uint32_t)addr, 4);
	hmmio_write(&t->h, BAR + 16 * v + 4, (uint32_t)(addr >> 32), 4);
	hmmio_write(&t->h, BAR + 16 * v + 8, data, 4);
	hmmio_write(&t->h, BAR + 16 * v + 12, masked, 4);
}

static void set_ctrl(struct t *t, bool enable, bool maskall)
{
	cfg_write(&t->h, t->dev.x.cap + 2, (enable ? 0x8000 : 0) | (maskall ? 0x4000 : 0), 2);
}

static void test_capability(void **state)
{
	struct t *t = *state;
	unsigned cap = cfg_read(&t->h, PCI_CAPABILITY_LIST, 2) & 0xff;
	assert_int_equal(cap, t->dev.x.cap);
	assert_int_equal(cfg_read(&t->h, cap, 2) & 0xff, 0x11);
	assert_int_equal(cfg_read(&t->h, cap + 2, 2), NVEC - 1);  /* size N-1, off */
	assert_int_equal(cfg_read(&t->h, cap + 4, 4), 2);	  /* table at 0 in BAR 2 */
	assert_int_equal(cfg_read(&t->h, cap + 8, 4), 0x800 | 2); /* PBA */
	/* The table size is read-only; enable and mask-all are writable. */
	cfg_write(&t->h, cap + 2, 0xffff, 2);
	assert_int_equal(cfg_read(&t->h, cap + 2, 2), 0xc000 | (NVEC - 1));
	/* BAR sizing: 4 KiB. */
	cfg_write(&t->h, PCI_BASE_ADDRESS_0 + 8, 0xffffffffu, 4);
	assert_int_equal(cfg_read(&t->h, PCI_BASE_ADDRESS_0 + 8, 4), 0xfffff000u);
}

static void test_table(void **state)
{
	struct t *t = *state;
	/* Power-on: every vector masked, the rest zero. */
	for (unsigned v = 0; v < NVEC; v++) {
		assert_int_equal(hmmio_read(&t->h, BAR + 16 * v, 4), 0);
		assert_int_equal(hmmio_read(&t->h, BAR + 16 * v + 12, 4), 1);
	}
	program(t, 3, 0xfee01003ull, 0x4041, false);
	/* The address's low two bits and vector control's reserved bits
	 * read as zero. */
	assert_int_equal(hmmio_read(&t->h, BAR + 48, 4), 0xfee01000u);
	hmmio_write(&t->h, BAR + 48 + 12, 0xfffffffe, 4);
	assert_int_equal(hmmio_read(&t->h, BAR + 48 + 12, 4), 0);
	/* 64-bit access. */
	assert_int_equal(hmmio_read(&t->h, BAR + 48, 8), 0xfee01000ull);
	hmmio_write(&t->h, BAR + 48 + 8, 0x0000000100004042ull, 8);
	assert_int_equal(hmmio_read(&t->h, BAR + 48 + 8, 4), 0x4042);
	assert_int_equal(hmmio_read(&t->h, BAR + 48 + 12, 4), 1);
	/* Past the table: nothing there; the PBA ignores writes. */
	assert_int_equal(hmmio_read(&t->h, BAR + 16 * NVEC, 4), 0);
	hmmio_write(&t->h, BAR + 16 * NVEC, 0x12345678, 4);
	assert_int_equal(hmmio_read(&t->h, BAR + 16 * NVEC, 4), 0);
	hmmio_write(&t->h, BAR + 0x800, 0xff, 8);
	assert_int_equal(hmmio_read(&t->h, BAR + 0x800, 8), 0);
	assert_int_equal(hmmio_read(&t->h, BAR + 0xff8, 8), 0);
}

static void test_delivery_and_masks(void **state)
{
	struct t *t = *state;
	program(t, 0, 0xfee00000ull, 0x31, false);
	program(t, 1, 0xfee00000ull, 0x32, true);
	/* Disabled: the device must use INTx. */
	assert_int_equal(msix_notify(&t->dev.x, 0), -ENOTSUP);
	assert_int_equal(t->rec.sends, 0);
	set_ctrl(t, true, false);
	assert_true(msix_enabled(&t->dev.x));
	assert_int_equal(msix_notify(&t->dev.x, NVEC), -EINVAL);
	assert_int_equal(msix_notify(&t->dev.x, 100000), -EINVAL);

	/* Vector 0 goes out through its irqfd (the route is bound). */
	assert_int_equal(msix_notify(&t->dev.x, 0), 0);
	int fd = t->rec.irqfd_fd[0];
	assert_true(fd >= 0);
	uint64_t n = 0;
	assert_int_equal(read(fd, &n, 8), 8);
	assert_int_equal(n, 1);
	assert_int_equal(t->rec.sends, 0);
	assert_int_equal(t->rec.nroutes, 1);
	assert_int_equal(t->rec.msgs[0].data, 0x31);

	/* Masked vector 1: pending, shown in the PBA, sent on unmask. */
	assert_int_equal(msix_notify(&t->dev.x, 1), 0);
	assert_true(msix_pending(&t->dev.x, 1));
	assert_int_equal(hmmio_read(&t->h, BAR + 0x800, 8), 2);
	assert_int_equal(t->rec.irqfd_fd[1], -1); /* never routed while masked */
	hmmio_write(&t->h, BAR + 16 + 12, 0, 4);
	assert_false(msix_pending(&t->dev.x, 1));
	assert_int_equal(hmmio_read(&t->h, BAR + 0x800, 8), 0);
	fd = t->rec.irqfd_fd[1];
	assert_true(fd >= 0);
	assert_int_equal(read(fd, &n, 8), 8);

	/* Function mask: everything pends, then goes out. */
	set_ctrl(t, true, true);
	msix_notify(&t->dev.x, 0);
	msix_notify(&t->dev.x, 1);
	assert_int_equal(hmmio_read(&t->h, BAR + 0x800, 8), 3);
	assert_int_equal(read(t->rec.irqfd_fd[0], &n, 8), -1); /* nothing yet */
	set_ctrl(t, true, false);
	assert_int_equal(hmmio_read(&t->h, BAR + 0x800, 8), 0);
	assert_int_equal(read(t->rec.irqfd_fd[0], &n, 8), 8);
	assert_int_equal(read(t->rec.irqfd_fd[1], &n, 8), 8);

	/* Re-programming an unmasked vector re-routes it. */
	hmmio_write(&t->h, BAR + 8, 0x77, 4);
	bool found = false;
	for (unsigned i = 0; i < t->rec.nroutes; i++)
		found |= t->rec.msgs[i].data == 0x77;
	assert_true(found);

	/* Reset: disabled, masked, nothing pending. */
	msix_reset(&t->dev.x);
	assert_false(msix_enabled(&t->dev.x));
	assert_int_equal(cfg_read(&t->h, t->dev.x.cap + 2, 2), NVEC - 1);
	assert_int_equal(hmmio_read(&t->h, BAR + 12, 4), 1);
}

static void test_without_irqfd(void **state)
{
	struct t *t = *state;
	/* A backend without irqfds (KVM lacking KVM_CAP_IRQFD): sent from
	 * userspace instead. */
	msi_set_backend(&t->h.m, NULL, NULL);
	t->rec.with_irqfd = false;
	msi_set_backend(&t->h.m, &msi_rec_ops, &t->rec);
	program(t, 2, 0xfee02000ull, 0x55, false);
	set_ctrl(t, true, false);
	assert_int_equal(msix_notify(&t->dev.x, 2), 0);
	assert_int_equal(t->rec.sends, 1);
	assert_int_equal(t->rec.last.addr, 0xfee02000ull);
	assert_int_equal(t->rec.last.data, 0x55);
	/* No backend at all (between partitions): dropped, no crash. */
	msi_set_backend(&t->h.m, NULL, NULL);
	assert_int_equal(msix_notify(&t->dev.x, 2), 0);
	assert_int_equal(t->rec.sends, 1);
}

static void test_ioeventfd_replay(void **state)
{
	struct t *t = *state;
	int fd = eventfd(0, EFD_CLOEXEC);
	struct ioeventfd ev = {.addr = 0xfe003000, .len = 2, .fd = fd};
	/* Registered while the backend cannot take it. */
	assert_int_equal(machine_ioeventfd_add(&t->h.m, &ev), 0);
	assert_int_equal(machine_ioeventfd_add(&t->h.m, &ev), -EEXIST);
	assert_int_equal(t->rec.nio, 0);
	/* A new backend (the partition of the next power-on) gets it. */
	msi_set_backend(&t->h.m, NULL, NULL);
	t->rec.with_ioeventfd = true;
	msi_set_backend(&t->h.m, &msi_rec_ops, &t->rec);
	assert_int_equal(t->rec.nio, 1);
	assert_int_equal(t->rec.io[0].addr, 0xfe003000);
	struct ioeventfd pio = {
	    .addr = 0xc010, .len = 2, .pio = true, .datamatch = true, .data = 1, .fd = fd};
	assert_int_equal(machine_ioeventfd_add(&t->h.m, &pio), 0);
	assert_int_equal(t->rec.nio, 2);
	assert_int_equal(machine_ioeventfd_del(&t->h.m, &ev), 0);
	assert_int_equal(machine_ioeventfd_del(&t->h.m, &ev), -ENOENT);
	assert_int_equal(t->rec.nio, 1);
	assert_true(t->rec.io[0].pio && t->rec.io[0].datamatch);
	assert_int_equal(machine_ioeventfd_del(&t->h.m, &pio), 0);
	ev.len = 3;
	assert_int_equal(machine_ioeventfd_add(&t->h.m, &ev), -EINVAL);
	close(fd);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test_setup_teardown(test_capability, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_table, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_delivery_and_masks, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_without_irqfd, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_ioeventfd_replay, setup, teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
