/* The PCI tests' own pieces (test_pci, test_msix, test_pci_state): configuration
 * access through 0xCF8/0xCFC, an MSI backend that records what KVM would be
 * told, and a test device with register BARs and optional MSI-X. */
#ifndef OSIO_TEST_PCI_TESTDEV_H
#define OSIO_TEST_PCI_TESTDEV_H

#include "devices/msix.h"
#include "devices/pci.h"
#include "hypervisor/msi.h"
#include "tests/devices/harness.h"

#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>
#include <stdbool.h>
#include <stdint.h>
#include <string.h>

/* --- configuration space, as SeaBIOS and Linux reach it (mechanism #1) --- */

static inline uint32_t pcitest_cfg_read(struct harness *h, unsigned devfn, unsigned reg,
					unsigned size)
{
	houtl(h, 0xcf8, 0x80000000u | devfn << 8 | (reg & 0xfc));
	switch (size) {
	case 1:
		return hinb(h, (uint16_t)(0xcfc + (reg & 3)));
	case 2:
		return hinw(h, (uint16_t)(0xcfc + (reg & 2)));
	default:
		return hinl(h, 0xcfc);
	}
}

static inline void pcitest_cfg_write(struct harness *h, unsigned devfn, unsigned reg, uint32_t v,
				     unsigned size)
{
	houtl(h, 0xcf8, 0x80000000u | devfn << 8 | (reg & 0xfc));
	switch (size) {
	case 1:
		houtb(h, (uint16_t)(0xcfc + (reg & 3)), (uint8_t)v);
		break;
	case 2:
		houtw(h, (uint16_t)(0xcfc + (reg & 2)), (uint16_t)v);
		break;
	default:
		houtl(h, 0xcfc, v);
	}
}

/* --- an MSI backend that records what KVM would be told and do ------------ */

struct msi_rec {
	unsigned sends;
	struct msi_msg last;
	bool with_irqfd, with_ioeventfd; /* otherwise those calls give -ENOTSUP */
	unsigned nroutes;
	unsigned gsis[16];
	struct msi_msg msgs[16];
	int irqfd_fd[64]; /* by gsi - MSI_GSI_BASE: bound fd, or -1 */
	unsigned nio;
	struct ioeventfd io[16];
};

static inline void msi_rec_init(struct msi_rec *r, bool with_irqfd, bool with_ioeventfd)
{
	memset(r, 0, sizeof(*r));
	memset(r->irqfd_fd, -1, sizeof(r->irqfd_fd));
	r->with_irqfd = with_irqfd;
	r->with_ioeventfd = with_ioeventfd;
}

static inline int msi_rec_send(void *opaque, struct msi_msg msg)
{
	struct msi_rec *r = opaque;
	r->sends++;
	r->last = msg;
	return 0;
}

static inline int msi_rec_routes(void *opaque, const unsigned *gsis, const struct msi_msg *msgs,
				 unsigned n)
{
	struct msi_rec *r = opaque;
	assert_true(n <= 16);
	r->nroutes = n;
	memcpy(r->gsis, gsis, n * sizeof(*gsis));
	memcpy(r->msgs, msgs, n * sizeof(*msgs));
	return 0;
}

static inline int msi_rec_irqfd(void *opaque, unsigned gsi, int fd, bool assign)
{
	struct msi_rec *r = opaque;
	if (!r->with_irqfd)
		return -ENOTSUP;
	assert_true(gsi >= MSI_GSI_BASE && gsi < MSI_GSI_BASE + 64);
	r->irqfd_fd[gsi - MSI_GSI_BASE] = assign ? fd : -1;
	return 0;
}

static inline int msi_rec_ioeventfd(void *opaque, const struct ioeventfd *ev, bool assign)
{
	struct msi_rec *r = opaque;
	if (!r->with_ioeventfd)
		return -ENOTSUP;
	if (assign) {
		assert_true(r->nio < 16);
		r->io[r->nio++] = *ev;
	} else {
		for (unsigned i = 0; i < r->nio; i++)
			if (r->io[i].addr == ev->addr && r->io[i].fd == ev->fd)
				r->io[i] = r->io[--r->nio];
	}
	return 0;
}

static const struct msi_backend_ops msi_rec_ops = {.send = msi_rec_send,
						   .set_routes = msi_rec_routes,
						   .irqfd = msi_rec_irqfd,
						   .ioeventfd = msi_rec_ioeventfd};

/* --- the test device ----------------------------------------------------------
 * Its BARs of kind "registers" are 256 bytes of plain storage (regs,
 * repeated over a bigger BAR); RAM BARs point at memory the test owns (ram).
 * With pci_testdev_msix, configuration writes reach its MSI-X capability. */

struct pci_testdev {
	struct pci_device pci;
	struct msix x;
	bool has_msix;
	uint8_t regs[256];
	uint8_t *ram;	       /* a RAM BAR's memory, the test's own */
	unsigned mapped_calls; /* bar_mapped notifications seen */
};

static inline uint64_t pcitest_reg_read(void *opaque, uint64_t off, unsigned size)
{
	struct pci_testdev *t = opaque;
	uint64_t v = 0;
	for (unsigned i = 0; i < size; i++)
		v |= (uint64_t)t->regs[(off + i) & 0xff] << (8 * i);
	return v;
}

static inline void pcitest_reg_write(void *opaque, uint64_t off, uint64_t val, unsigned size)
{
	struct pci_testdev *t = opaque;
	for (unsigned i = 0; i < size; i++)
		t->regs[(off + i) & 0xff] = (uint8_t)(val >> (8 * i));
}

/* The registers, for a BAR: {.ops = &pcitest_reg_ops, .opaque = t}. */
static const struct bus_ops pcitest_reg_ops = {pcitest_reg_read, pcitest_reg_write};

static inline void pcitest_config_write(struct pci_device *d, unsigned off, uint32_t val,
					unsigned size)
{
	struct pci_testdev *t = d->opaque;
	if (t->has_msix)
		msix_config_write(&t->x, off, size);
}

static inline void pcitest_bar_mapped(struct pci_device *d, int bar, uint64_t addr, bool on)
{
	((struct pci_testdev *)d->opaque)->mapped_calls++;
}

static const struct pci_device_ops pci_testdev_ops = {.config_write = pcitest_config_write,
						      .bar_mapped = pcitest_bar_mapped};

/* pci_device_init's arguments; no BARs yet, not on a bus. */
static inline void pci_testdev_init(struct pci_testdev *t, const char *name, uint16_t vendor,
				    uint16_t device, uint32_t class_code, uint8_t revision,
				    uint16_t subvendor, uint16_t subsystem, uint8_t int_pin)
{
	pci_device_init(&t->pci, name, vendor, device, class_code, revision, subvendor, subsystem,
			int_pin);
	t->pci.ops = &pci_testdev_ops;
	t->pci.opaque = t;
}

/* BAR `bar` of `size` bytes (PCI_BAR_IO or PCI_BAR_MEM32) decoding regs. */
static inline void pci_testdev_regs_bar(struct pci_testdev *t, int bar, unsigned type,
					uint64_t size)
{
	struct pci_bar_desc desc = {
	    .size = size, .type = type, .ops = &pcitest_reg_ops, .opaque = t};
	assert_int_equal(pci_bar_init(&t->pci, bar, &desc), 0);
}

/* MSI-X with nvec vectors, its table and PBA in BAR `bar`. */
static inline void pci_testdev_msix(struct pci_testdev *t, struct machine *m, unsigned nvec,
				    int bar)
{
	assert_int_equal(msix_init(&t->x, &t->pci, m, nvec, bar), 0);
	t->has_msix = true;
}

/* Off the bus (pci_unregister), then MSI-X let go. */
static inline void pci_testdev_destroy(struct pci_testdev *t)
{
	pci_unregister(&t->pci);
	if (t->has_msix)
		msix_destroy(&t->x);
	t->has_msix = false;
}

#endif
