/* A test-side virtio-pci driver for device tests (virtio-rng, -console,
 * -blk): finds the capabilities and programs the device the way Linux's
 * virtio_pci_modern does (reset, ACKNOWLEDGE, DRIVER, features,
 * FEATURES_OK and its re-read, queues, MSI-X vectors, DRIVER_OK), with
 * split rings in harness guest RAM, and records the MSIs the device sends.
 * Also the legacy interface's registers for transitional devices. */
#ifndef OSIO_TEST_VIRTIO_DRIVER_H
#define OSIO_TEST_VIRTIO_DRIVER_H

#include "devices/pci.h"
#include "devices/virtio/virtio.h"
#include "hypervisor/msi.h"
#include "tests/devices/harness.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>
#include <stdlib.h>
#include <string.h>

/* Where the driver puts the BARs (as SeaBIOS would, below 4 GiB). */
#define VDRV_IO_BASE	 0xc000u
#define VDRV_MSIX_BASE	 0xfebd0000ull
#define VDRV_MODERN_BASE 0xfe000000ull
/* The vector number the driver puts in MSI-X entry i's data. */
#define VDRV_MSI_DATA(i) (0x40u + (i))
#define VDRV_MSI_ADDR	 0xfee00000ull
#define VDRV_NO_VECTOR	 0xffff
#define VDRV_MSI_LOG	 4096

#define VDRV_DESC_F_NEXT     1
#define VDRV_DESC_F_WRITE    2
#define VDRV_DESC_F_INDIRECT 4

/* Common configuration offsets (VIRTIO 1.2, 4.1.4.3). */
#define VDRV_CC_DFSELECT 0x00
#define VDRV_CC_DF	 0x04
#define VDRV_CC_GFSELECT 0x08
#define VDRV_CC_GF	 0x0c
#define VDRV_CC_MSIX	 0x10
#define VDRV_CC_NUMQ	 0x12
#define VDRV_CC_STATUS	 0x14
#define VDRV_CC_GEN	 0x15
#define VDRV_CC_Q_SELECT 0x16
#define VDRV_CC_Q_SIZE	 0x18
#define VDRV_CC_Q_MSIX	 0x1a
#define VDRV_CC_Q_ENABLE 0x1c
#define VDRV_CC_Q_NOFF	 0x1e
#define VDRV_CC_Q_DESC	 0x20
#define VDRV_CC_Q_DRIVER 0x28
#define VDRV_CC_Q_DEVICE 0x30

/* Legacy I/O BAR registers (4.1.4.8). */
#define VDRV_LEG_HOST_FEATURES	0x00
#define VDRV_LEG_GUEST_FEATURES 0x04
#define VDRV_LEG_QUEUE_PFN	0x08
#define VDRV_LEG_QUEUE_SIZE	0x0c
#define VDRV_LEG_QUEUE_SEL	0x0e
#define VDRV_LEG_QUEUE_NOTIFY	0x10
#define VDRV_LEG_STATUS		0x12
#define VDRV_LEG_ISR		0x13

struct vdrv {
	struct harness *h;
	uint8_t devfn;
	uint16_t vendor, device, subsys;
	uint8_t revision;
	bool has_io;
	uint64_t common, isr, devcfg, notify; /* guest addresses of the regions */
	uint32_t notify_mult;
	unsigned msix_cap;  /* 0: none */
	unsigned msix_size; /* table entries */
	uint64_t msix_table;
	unsigned cfg_cap; /* VIRTIO_PCI_CAP_PCI_CFG, 0: none */
	uint64_t features, accepted;
	/* MSIs the device sent (through the machine's MSI backend). */
	unsigned nmsi;
	struct msi_msg msi[VDRV_MSI_LOG];
};

struct vdrv_queue {
	uint16_t index, size, vector;
	uint64_t desc, avail, used; /* guest addresses */
	uint64_t notify;	    /* address the kick is written to */
	uint16_t avail_idx, last_used, free_head, num_free;
	uint16_t chain_len[1024];
};

struct vdrv_buf {
	uint64_t gpa;
	uint32_t len;
	bool write;
};

/* --- configuration space -------------------------------------------------- */

static inline uint32_t vdrv_cfg_read(struct vdrv *d, unsigned reg, unsigned size)
{
	houtl(d->h, 0xcf8, 0x80000000u | (unsigned)d->devfn << 8 | (reg & 0xfc));
	if (size == 1)
		return hinb(d->h, (uint16_t)(0xcfc + (reg & 3)));
	if (size == 2)
		return hinw(d->h, (uint16_t)(0xcfc + (reg & 2)));
	return hinl(d->h, 0xcfc);
}

static inline void vdrv_cfg_write(struct vdrv *d, unsigned reg, uint32_t v, unsigned size)
{
	houtl(d->h, 0xcf8, 0x80000000u | (unsigned)d->devfn << 8 | (reg & 0xfc));
	if (size == 1)
		houtb(d->h, (uint16_t)(0xcfc + (reg & 3)), (uint8_t)v);
	else if (size == 2)
		houtw(d->h, (uint16_t)(0xcfc + (reg & 2)), (uint16_t)v);
	else
		houtl(d->h, 0xcfc, v);
}

/* --- the MSI recorder ------------------------------------------------------- */

static inline int vdrv_msi_send(void *opaque, struct msi_msg msg)
{
	struct vdrv *d = opaque;
	if (d->nmsi < VDRV_MSI_LOG)
		d->msi[d->nmsi] = msg;
	d->nmsi++;
	return 0;
}

static const struct msi_backend_ops vdrv_msi_ops = {.send = vdrv_msi_send};

/* MSIs seen with data VDRV_MSI_DATA(entry). */
static inline unsigned vdrv_msi_count(const struct vdrv *d, unsigned entry)
{
	unsigned n = 0;
	for (unsigned i = 0; i < d->nmsi && i < VDRV_MSI_LOG; i++)
		if (d->msi[i].data == VDRV_MSI_DATA(entry) && d->msi[i].addr == VDRV_MSI_ADDR)
			n++;
	return n;
}

/* --- finding the device ----------------------------------------------------- */

static inline uint64_t vdrv_bar_addr(struct vdrv *d, unsigned bar)
{
	uint32_t lo = vdrv_cfg_read(d, PCI_BASE_ADDRESS_0 + 4 * bar, 4);
	if (lo & 1)
		return lo & ~3u;
	uint64_t a = lo & ~15u;
	if ((lo & 6) == 4)
		a |= (uint64_t)vdrv_cfg_read(d, PCI_BASE_ADDRESS_0 + 4 * (bar + 1), 4) << 32;
	return a;
}

/* Places the BARs, enables decoding and bus mastering, reads the
 * capabilities, and installs the MSI recorder. The harness must have the
 * i440fx and the device at devfn. */
static inline void vdrv_init(struct vdrv *d, struct harness *h, uint8_t devfn)
{
	memset(d, 0, sizeof(*d));
	d->h = h;
	d->devfn = devfn;
	d->vendor = (uint16_t)vdrv_cfg_read(d, PCI_VENDOR_ID, 2);
	d->device = (uint16_t)vdrv_cfg_read(d, PCI_DEVICE_ID, 2);
	d->subsys = (uint16_t)vdrv_cfg_read(d, PCI_SUBSYSTEM_ID, 2);
	d->revision = (uint8_t)vdrv_cfg_read(d, PCI_REVISION_ID, 1);
	assert_int_equal(d->vendor, 0x1af4);
	for (unsigned bar = 0; bar < 6; bar++) {
		unsigned reg = PCI_BASE_ADDRESS_0 + 4 * bar;
		uint32_t orig = vdrv_cfg_read(d, reg, 4);
		vdrv_cfg_write(d, reg, 0xffffffffu, 4);
		uint32_t mask = vdrv_cfg_read(d, reg, 4);
		if (!mask)
			continue;
		if (orig & 1) {
			d->has_io = true;
			vdrv_cfg_write(d, reg, VDRV_IO_BASE, 4);
		} else if ((orig & 6) == 4) {
			vdrv_cfg_write(d, reg, (uint32_t)VDRV_MODERN_BASE, 4);
			vdrv_cfg_write(d, reg + 4, 0, 4);
			bar++;
		} else {
			vdrv_cfg_write(d, reg, (uint32_t)VDRV_MSIX_BASE, 4);
		}
	}
	vdrv_cfg_write(d, PCI_COMMAND, PCI_COMMAND_IO | PCI_COMMAND_MEMORY | PCI_COMMAND_MASTER, 2);
	assert_true(vdrv_cfg_read(d, PCI_STATUS, 2) & PCI_STATUS_CAP_LIST);
	unsigned pos = vdrv_cfg_read(d, PCI_CAPABILITY_LIST, 1) & 0xfc;
	for (unsigned guard = 0; pos && guard < 48; guard++) {
		unsigned id = vdrv_cfg_read(d, pos, 1);
		if (id == 0x09) {
			unsigned type = vdrv_cfg_read(d, pos + 3, 1);
			unsigned bar = vdrv_cfg_read(d, pos + 4, 1);
			uint32_t off = vdrv_cfg_read(d, pos + 8, 4);
			uint64_t base = bar < 6 ? vdrv_bar_addr(d, bar) : 0;
			if (type == 1 && !d->common)
				d->common = base + off;
			else if (type == 2 && !d->notify) {
				d->notify = base + off;
				d->notify_mult = vdrv_cfg_read(d, pos + 16, 4);
			} else if (type == 3 && !d->isr)
				d->isr = base + off;
			else if (type == 4 && !d->devcfg)
				d->devcfg = base + off;
			else if (type == 5 && !d->cfg_cap)
				d->cfg_cap = pos;
		} else if (id == 0x11) {
			uint32_t t = vdrv_cfg_read(d, pos + 4, 4);
			d->msix_cap = pos;
			d->msix_size = (vdrv_cfg_read(d, pos + 2, 2) & 0x7ff) + 1;
			d->msix_table = vdrv_bar_addr(d, t & 7) + (t & ~7u);
		}
		pos = vdrv_cfg_read(d, pos + 1, 1) & 0xfc;
	}
	msi_set_backend(&h->m, &vdrv_msi_ops, d);
}

/* --- common configuration --------------------------------------------------- */

static inline uint32_t vdrv_cc_read(struct vdrv *d, unsigned off, unsigned size)
{
	return (uint32_t)hmmio_read(d->h, d->common + off, size);
}

static inline void vdrv_cc_write(struct vdrv *d, unsigned off, uint32_t v, unsigned size)
{
	hmmio_write(d->h, d->common + off, v, size);
}

static inline uint8_t vdrv_status(struct vdrv *d)
{
	return (uint8_t)vdrv_cc_read(d, VDRV_CC_STATUS, 1);
}

static inline void vdrv_set_status(struct vdrv *d, uint8_t s)
{
	vdrv_cc_write(d, VDRV_CC_STATUS, s, 1);
}

static inline void vdrv_reset(struct vdrv *d)
{
	vdrv_set_status(d, 0);
	assert_int_equal(vdrv_status(d), 0);
}

static inline uint64_t vdrv_device_features(struct vdrv *d)
{
	vdrv_cc_write(d, VDRV_CC_DFSELECT, 0, 4);
	uint64_t f = vdrv_cc_read(d, VDRV_CC_DF, 4);
	vdrv_cc_write(d, VDRV_CC_DFSELECT, 1, 4);
	return f | (uint64_t)vdrv_cc_read(d, VDRV_CC_DF, 4) << 32;
}

static inline void vdrv_write_features(struct vdrv *d, uint64_t f)
{
	vdrv_cc_write(d, VDRV_CC_GFSELECT, 0, 4);
	vdrv_cc_write(d, VDRV_CC_GF, (uint32_t)f, 4);
	vdrv_cc_write(d, VDRV_CC_GFSELECT, 1, 4);
	vdrv_cc_write(d, VDRV_CC_GF, (uint32_t)(f >> 32), 4);
}

/* Reset, ACKNOWLEDGE, DRIVER, features (offer & wanted, with VERSION_1),
 * FEATURES_OK and its re-read. Returns whether the device kept
 * FEATURES_OK. */
static inline bool vdrv_negotiate(struct vdrv *d, uint64_t wanted)
{
	vdrv_reset(d);
	vdrv_set_status(d, VIRTIO_STATUS_ACKNOWLEDGE);
	vdrv_set_status(d, VIRTIO_STATUS_ACKNOWLEDGE | VIRTIO_STATUS_DRIVER);
	d->features = vdrv_device_features(d);
	d->accepted = d->features & (wanted | 1ull << VIRTIO_F_VERSION_1);
	vdrv_write_features(d, d->accepted);
	vdrv_set_status(d, VIRTIO_STATUS_ACKNOWLEDGE | VIRTIO_STATUS_DRIVER |
			       VIRTIO_STATUS_FEATURES_OK);
	return vdrv_status(d) & VIRTIO_STATUS_FEATURES_OK;
}

static inline void vdrv_driver_ok(struct vdrv *d)
{
	vdrv_set_status(d, vdrv_status(d) | VIRTIO_STATUS_DRIVER_OK);
}

/* --- MSI-X ---------------------------------------------------------------------- */

/* Programs entries 0..n-1 (address VDRV_MSI_ADDR, data VDRV_MSI_DATA(i),
 * unmasked) and enables MSI-X. */
static inline void vdrv_msix_enable(struct vdrv *d, unsigned n)
{
	assert_true(d->msix_cap && n <= d->msix_size);
	for (unsigned i = 0; i < n; i++) {
		uint64_t e = d->msix_table + 16 * i;
		hmmio_write(d->h, e, (uint32_t)VDRV_MSI_ADDR, 4);
		hmmio_write(d->h, e + 4, 0, 4);
		hmmio_write(d->h, e + 8, VDRV_MSI_DATA(i), 4);
		hmmio_write(d->h, e + 12, 0, 4);
	}
	uint16_t ctrl = (uint16_t)vdrv_cfg_read(d, d->msix_cap + 2, 2);
	vdrv_cfg_write(d, d->msix_cap + 2, (ctrl | 0x8000) & ~0x4000, 2);
}

static inline void vdrv_msix_mask(struct vdrv *d, unsigned entry, bool masked)
{
	hmmio_write(d->h, d->msix_table + 16 * entry + 12, masked, 4);
}

/* --- queues ------------------------------------------------------------------- */

/* Bytes a queue of `size` needs at `base` (desc, avail, then used at a
 * 4 KiB boundary: the legacy layout, valid for modern too). */
static inline uint64_t vdrv_queue_bytes(uint16_t size)
{
	uint64_t a = 16ull * size + 6 + 2ull * size;
	return ((a + 4095) & ~4095ull) + ((6 + 8ull * size + 4095) & ~4095ull);
}

/* The split ring of `size` entries at guest address base, as both
 * interfaces lay it out (used ring page aligned): zeroed, the descriptors
 * chained into the free list. */
static inline void vdrv_queue_layout(struct vdrv *d, struct vdrv_queue *q, uint16_t index,
				     uint16_t size, uint64_t base)
{
	memset(q, 0, sizeof(*q));
	q->index = index;
	q->size = size;
	q->desc = base;
	q->avail = base + 16ull * size;
	q->used = (q->avail + 6 + 2ull * size + 4095) & ~4095ull;
	q->num_free = size;
	q->vector = VDRV_NO_VECTOR;
	memset(hram(d->h, base, vdrv_queue_bytes(size)), 0, vdrv_queue_bytes(size));
	for (uint16_t i = 0; i < size; i++) {
		uint16_t next = (uint16_t)(i + 1);
		memcpy(hram(d->h, q->desc + 16ull * i + 14, 2), &next, 2);
	}
}

/* Sets up queue `index` with `size` entries (0: the device's maximum) at
 * guest address base (zeroed here), MSI-X entry `vector`, and enables it.
 * Returns false if the device refused the size or the vector. */
static inline bool vdrv_queue_setup(struct vdrv *d, struct vdrv_queue *q, uint16_t index,
				    uint16_t size, uint64_t base, uint16_t vector)
{
	vdrv_cc_write(d, VDRV_CC_Q_SELECT, index, 2);
	uint16_t max = (uint16_t)vdrv_cc_read(d, VDRV_CC_Q_SIZE, 2);
	if (!max)
		return false;
	if (!size)
		size = max;
	vdrv_cc_write(d, VDRV_CC_Q_SIZE, size, 2);
	if (vdrv_cc_read(d, VDRV_CC_Q_SIZE, 2) != size)
		return false;
	vdrv_queue_layout(d, q, index, size, base);
	vdrv_cc_write(d, VDRV_CC_Q_DESC, (uint32_t)q->desc, 4);
	vdrv_cc_write(d, VDRV_CC_Q_DESC + 4, (uint32_t)(q->desc >> 32), 4);
	vdrv_cc_write(d, VDRV_CC_Q_DRIVER, (uint32_t)q->avail, 4);
	vdrv_cc_write(d, VDRV_CC_Q_DRIVER + 4, (uint32_t)(q->avail >> 32), 4);
	vdrv_cc_write(d, VDRV_CC_Q_DEVICE, (uint32_t)q->used, 4);
	vdrv_cc_write(d, VDRV_CC_Q_DEVICE + 4, (uint32_t)(q->used >> 32), 4);
	q->vector = vector;
	vdrv_cc_write(d, VDRV_CC_Q_MSIX, vector, 2);
	if (vdrv_cc_read(d, VDRV_CC_Q_MSIX, 2) != vector)
		return false;
	q->notify = d->notify + (uint64_t)vdrv_cc_read(d, VDRV_CC_Q_NOFF, 2) * d->notify_mult;
	vdrv_cc_write(d, VDRV_CC_Q_ENABLE, 1, 2);
	return vdrv_cc_read(d, VDRV_CC_Q_ENABLE, 2) == 1;
}

static inline void vdrv_put16(struct vdrv *d, uint64_t gpa, uint16_t v)
{
	memcpy(hram(d->h, gpa, 2), &v, 2);
}

static inline uint16_t vdrv_get16(struct vdrv *d, uint64_t gpa)
{
	uint16_t v;
	memcpy(&v, hram(d->h, gpa, 2), 2);
	return v;
}

static inline uint32_t vdrv_get32(struct vdrv *d, uint64_t gpa)
{
	uint32_t v;
	memcpy(&v, hram(d->h, gpa, 4), 4);
	return v;
}

/* Writes one raw descriptor (for tests that build malformed rings). */
static inline void vdrv_write_desc(struct vdrv *d, uint64_t table, unsigned i, uint64_t addr,
				   uint32_t len, uint16_t flags, uint16_t next)
{
	uint8_t *p = hram(d->h, table + 16ull * i, 16);
	memcpy(p, &addr, 8);
	memcpy(p + 8, &len, 4);
	memcpy(p + 12, &flags, 2);
	memcpy(p + 14, &next, 2);
}

/* Publishes head in the available ring (no kick). */
static inline void vdrv_publish(struct vdrv *d, struct vdrv_queue *q, uint16_t head)
{
	vdrv_put16(d, q->avail + 4 + 2ull * (q->avail_idx % q->size), head);
	q->avail_idx++;
	vdrv_put16(d, q->avail + 2, q->avail_idx);
}

/* Adds a chain of n buffers (readable ones first) and publishes it; with
 * indirect != 0 the chain goes into an indirect table at that guest
 * address. Returns the head, or -1 when the ring is full. */
static inline int vdrv_add(struct vdrv *d, struct vdrv_queue *q, const struct vdrv_buf *b,
			   unsigned n, uint64_t indirect)
{
	unsigned need = indirect ? 1 : n;
	if (!n || need > q->num_free)
		return -1;
	uint16_t head = q->free_head;
	if (indirect) {
		for (unsigned i = 0; i < n; i++)
			vdrv_write_desc(d, indirect, i, b[i].gpa, b[i].len,
					(uint16_t)((b[i].write ? VDRV_DESC_F_WRITE : 0) |
						   (i + 1 < n ? VDRV_DESC_F_NEXT : 0)),
					(uint16_t)(i + 1 < n ? i + 1 : 0));
		uint16_t next = vdrv_get16(d, q->desc + 16ull * head + 14);
		vdrv_write_desc(d, q->desc, head, indirect, (uint32_t)(16 * n),
				VDRV_DESC_F_INDIRECT, next);
		q->free_head = next;
	} else {
		uint16_t i = head;
		for (unsigned k = 0; k < n; k++) {
			uint16_t next = vdrv_get16(d, q->desc + 16ull * i + 14);
			vdrv_write_desc(d, q->desc, i, b[k].gpa, b[k].len,
					(uint16_t)((b[k].write ? VDRV_DESC_F_WRITE : 0) |
						   (k + 1 < n ? VDRV_DESC_F_NEXT : 0)),
					next);
			i = next;
		}
		q->free_head = i;
	}
	q->num_free = (uint16_t)(q->num_free - need);
	q->chain_len[head] = (uint16_t)need;
	vdrv_publish(d, q, head);
	return head;
}

static inline void vdrv_kick(struct vdrv *d, struct vdrv_queue *q)
{
	hmmio_write(d->h, q->notify, q->index, 2);
}

static inline uint16_t vdrv_used_idx(struct vdrv *d, struct vdrv_queue *q)
{
	return vdrv_get16(d, q->used + 2);
}

/* Takes one used element (and frees its descriptors). */
static inline bool vdrv_get_used(struct vdrv *d, struct vdrv_queue *q, uint16_t *head,
				 uint32_t *len)
{
	if (vdrv_used_idx(d, q) == q->last_used)
		return false;
	uint64_t e = q->used + 4 + 8ull * (q->last_used % q->size);
	uint32_t id = vdrv_get32(d, e);
	*len = vdrv_get32(d, e + 4);
	q->last_used++;
	assert_true(id < q->size);
	*head = (uint16_t)id;
	uint16_t n = q->chain_len[id], last = (uint16_t)id;
	for (uint16_t k = 1; k < n; k++)
		last = vdrv_get16(d, q->desc + 16ull * last + 14);
	uint8_t *p = hram(d->h, q->desc + 16ull * last + 14, 2);
	memcpy(p, &q->free_head, 2);
	q->free_head = (uint16_t)id;
	q->num_free = (uint16_t)(q->num_free + n);
	/* With EVENT_IDX, ask for an interrupt at the next used entry, as
	 * Linux's virtqueue_enable_cb does. */
	if (d->accepted >> VIRTIO_F_EVENT_IDX & 1)
		vdrv_put16(d, q->avail + 4 + 2ull * q->size, q->last_used);
	return true;
}

struct vdrv_wait {
	struct vdrv *d;
	struct vdrv_queue *q;
	uint16_t n;
};

static inline bool vdrv_used_reached(void *ctx)
{
	struct vdrv_wait *w = ctx;
	return (uint16_t)(vdrv_used_idx(w->d, w->q) - w->q->last_used) >= w->n;
}

/* Runs the machine's loop until at least n elements wait in the used ring
 * (or ms pass); returns whether they do. */
static inline bool vdrv_wait_used(struct vdrv *d, struct vdrv_queue *q, uint16_t n, unsigned ms)
{
	struct vdrv_wait w = {d, q, n};
	return harness_run_until(d->h, ms, vdrv_used_reached, &w);
}

/* --- the legacy interface (transitional devices) --------------------------- */

static inline uint32_t vdrv_leg_read(struct vdrv *d, unsigned off, unsigned size)
{
	uint16_t port = (uint16_t)(vdrv_bar_addr(d, 0) + off);
	return size == 1 ? hinb(d->h, port) : size == 2 ? hinw(d->h, port) : hinl(d->h, port);
}

static inline void vdrv_leg_write(struct vdrv *d, unsigned off, uint32_t v, unsigned size)
{
	uint16_t port = (uint16_t)(vdrv_bar_addr(d, 0) + off);
	if (size == 1)
		houtb(d->h, port, (uint8_t)v);
	else if (size == 2)
		houtw(d->h, port, (uint16_t)v);
	else
		houtl(d->h, port, v);
}

/* Sets up queue `index` through the legacy registers at `base` (page
 * aligned) with the device's fixed size. */
static inline bool vdrv_leg_queue_setup(struct vdrv *d, struct vdrv_queue *q, uint16_t index,
					uint64_t base)
{
	vdrv_leg_write(d, VDRV_LEG_QUEUE_SEL, index, 2);
	uint16_t size = (uint16_t)vdrv_leg_read(d, VDRV_LEG_QUEUE_SIZE, 2);
	if (!size)
		return false;
	vdrv_queue_layout(d, q, index, size, base);
	vdrv_leg_write(d, VDRV_LEG_QUEUE_PFN, (uint32_t)(base >> 12), 4);
	return vdrv_leg_read(d, VDRV_LEG_QUEUE_PFN, 4) == (uint32_t)(base >> 12);
}

static inline void vdrv_leg_kick(struct vdrv *d, struct vdrv_queue *q)
{
	vdrv_leg_write(d, VDRV_LEG_QUEUE_NOTIFY, q->index, 2);
}

#endif
