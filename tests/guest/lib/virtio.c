/* The guest programs' virtio-pci modern driver core (VIRTIO 1.2, 4.1.4 and
 * 2.7), written after the spec's driver requirements the way Linux's
 * virtio_pci_modern drives a device. */
#include "virtio.h"
#include "io.h"

#define PCI_STATUS	  0x06
#define PCI_SUBSYSTEM_ID  0x2e
#define PCI_CAP_PTR	  0x34
#define PCI_STATUS_CAPS	  0x10
#define PCI_CAP_ID_VENDOR 0x09
#define PCI_CAP_ID_MSIX	  0x11

#define CAP_COMMON 1
#define CAP_NOTIFY 2
#define CAP_ISR	   3
#define CAP_DEVICE 4

/* Common configuration (4.1.4.3). */
#define CC_DFSELECT 0x00
#define CC_DF	    0x04
#define CC_GFSELECT 0x08
#define CC_GF	    0x0c
#define CC_MSIX	    0x10
#define CC_NUMQ	    0x12
#define CC_STATUS   0x14
#define CC_GEN	    0x15
#define CC_Q_SELECT 0x16
#define CC_Q_SIZE   0x18
#define CC_Q_MSIX   0x1a
#define CC_Q_ENABLE 0x1c
#define CC_Q_NOFF   0x1e
#define CC_Q_DESC   0x20
#define CC_Q_AVAIL  0x28
#define CC_Q_USED   0x30

#define MSIX_CTRL_ENABLE 0x8000
#define MSIX_CTRL_MASK	 0x4000

#define AVAIL_F_NO_INTERRUPT 1

/* Where BARs the firmware left unassigned go: above any RAM a test gives
 * below 4 GiB and clear of the VGA's and the chipset's windows. */
static u32 next_mem = 0xe0000000u;
static u32 next_io = 0xc000u;

static u32 align_up(u32 v, u32 a)
{
	return (v + a - 1) & ~(a - 1);
}

/* Sizes BAR i and, if it is unassigned (or above 4 GiB, out of reach with
 * paging off), gives it an address. Returns how many BAR registers it used
 * (2 for a 64-bit BAR). */
static unsigned assign_bar(struct pci_addr a, unsigned i)
{
	u8 reg = (u8)(PCI_BAR0 + 4 * i);
	u32 orig = pci_read32(a, reg);
	bool io = orig & 1, is64 = !io && (orig & 6) == 4;
	u32 hi = is64 ? pci_read32(a, reg + 4) : 0;
	pci_write32(a, reg, 0xffffffffu);
	u32 mask = pci_read32(a, reg);
	pci_write32(a, reg, orig);
	mask &= io ? ~3u : ~15u;
	if (!mask)
		return is64 ? 2 : 1;
	u32 size = ~mask + 1;
	if (io)
		size &= 0xffff;
	u32 base = orig & (io ? ~3u : ~15u);
	if (base && !hi)
		return is64 ? 2 : 1;
	if (io) {
		base = align_up(next_io, size);
		next_io = base + size;
	} else {
		base = align_up(next_mem, size);
		next_mem = base + size;
	}
	pci_write32(a, reg, base | (orig & (io ? 3u : 15u)));
	if (is64)
		pci_write32(a, reg + 4, 0);
	return is64 ? 2 : 1;
}

static uintptr_t bar_address(struct pci_addr a, u8 bar)
{
	if (bar > 5)
		return 0;
	u32 v = pci_read32(a, (u8)(PCI_BAR0 + 4 * bar));
	if (v & 1)
		return 0; /* an I/O BAR: the modern interface is MMIO here */
	return v & ~15u;
}

static bool matches(struct pci_addr a, u16 id, u16 *devid)
{
	if (pci_read16(a, PCI_VENDOR_ID) != VIRTIO_PCI_VENDOR)
		return false;
	u16 dev = pci_read16(a, PCI_DEVICE_ID);
	*devid = dev;
	if (dev == 0x1040 + id)
		return true;
	return dev >= 0x1000 && dev <= 0x103f && pci_read16(a, PCI_SUBSYSTEM_ID) == id;
}

static bool read_caps(struct virtio_dev *d)
{
	struct pci_addr a = d->pci;
	if (!(pci_read16(a, PCI_STATUS) & PCI_STATUS_CAPS))
		return false;
	u8 pos = pci_read8(a, PCI_CAP_PTR) & 0xfc;
	for (unsigned guard = 0; pos && guard < 48; guard++) {
		u8 id = pci_read8(a, pos);
		if (id == PCI_CAP_ID_VENDOR) {
			u8 type = pci_read8(a, pos + 3);
			uintptr_t base = bar_address(a, pci_read8(a, pos + 4));
			u32 off = pci_read32(a, pos + 8);
			if (base) {
				if (type == CAP_COMMON && !d->common)
					d->common = (volatile u8 *)(base + off);
				else if (type == CAP_ISR && !d->isr)
					d->isr = (volatile u8 *)(base + off);
				else if (type == CAP_DEVICE && !d->device)
					d->device = (volatile u8 *)(base + off);
				else if (type == CAP_NOTIFY && !d->notify_base) {
					d->notify_base = base + off;
					d->notify_mult = pci_read32(a, pos + 16);
				}
			}
		} else if (id == PCI_CAP_ID_MSIX) {
			u16 ctrl = pci_read16(a, pos + 2);
			u32 table = pci_read32(a, pos + 4);
			uintptr_t base = bar_address(a, table & 7);
			d->msix_size = (ctrl & 0x7ff) + 1;
			d->msix_table = base ? (volatile u32 *)(base + (table & ~7u)) : 0;
			d->msix_cap = pos;
		}
		pos = pci_read8(a, pos + 1) & 0xfc;
	}
	return d->common && d->isr && d->notify_base;
}

bool virtio_find(u16 id, unsigned nth, struct virtio_dev *d)
{
	for (u8 dev = 0; dev < 32; dev++) {
		for (u8 fn = 0; fn < 8; fn++) {
			struct pci_addr a = {0, dev, fn};
			u16 devid;
			if (pci_read16(a, PCI_VENDOR_ID) == 0xffff) {
				if (fn == 0)
					break;
				continue;
			}
			if (!matches(a, id, &devid) || nth-- > 0)
				continue;
			*d = (struct virtio_dev){.pci = a, .pci_device = devid};
			u16 cmd = pci_read16(a, PCI_COMMAND);
			pci_write16(a, PCI_COMMAND, cmd & ~(PCI_COMMAND_IO | PCI_COMMAND_MEMORY));
			for (unsigned i = 0; i < 6;)
				i += assign_bar(a, i);
			pci_write16(a, PCI_COMMAND,
				    cmd | PCI_COMMAND_IO | PCI_COMMAND_MEMORY | PCI_COMMAND_MASTER);
			return read_caps(d);
		}
	}
	return false;
}

static void cc_write8(struct virtio_dev *d, u32 off, u8 v)
{
	*(volatile u8 *)(d->common + off) = v;
}

static void cc_write16(struct virtio_dev *d, u32 off, u16 v)
{
	*(volatile u16 *)(d->common + off) = v;
}

static void cc_write32(struct virtio_dev *d, u32 off, u32 v)
{
	*(volatile u32 *)(d->common + off) = v;
}

static void cc_write64(struct virtio_dev *d, u32 off, u64 v)
{
	cc_write32(d, off, (u32)v);
	cc_write32(d, off + 4, (u32)(v >> 32));
}

static u8 cc_read8(struct virtio_dev *d, u32 off)
{
	return *(volatile u8 *)(d->common + off);
}

static u16 cc_read16(struct virtio_dev *d, u32 off)
{
	return *(volatile u16 *)(d->common + off);
}

static u32 cc_read32(struct virtio_dev *d, u32 off)
{
	return *(volatile u32 *)(d->common + off);
}

u8 virtio_get_status(struct virtio_dev *d)
{
	return cc_read8(d, CC_STATUS);
}

void virtio_reset(struct virtio_dev *d)
{
	cc_write8(d, CC_STATUS, 0);
	for (unsigned i = 0; i < 1000000 && cc_read8(d, CC_STATUS); i++)
		pause();
}

u16 virtio_num_queues(struct virtio_dev *d)
{
	return cc_read16(d, CC_NUMQ);
}

bool virtio_negotiate(struct virtio_dev *d, u64 wanted)
{
	virtio_reset(d);
	cc_write8(d, CC_STATUS, VIRTIO_STATUS_ACKNOWLEDGE);
	cc_write8(d, CC_STATUS, VIRTIO_STATUS_ACKNOWLEDGE | VIRTIO_STATUS_DRIVER);
	cc_write32(d, CC_DFSELECT, 0);
	u64 f = cc_read32(d, CC_DF);
	cc_write32(d, CC_DFSELECT, 1);
	f |= (u64)cc_read32(d, CC_DF) << 32;
	d->features = f;
	d->accepted = f & (wanted | 1ull << VIRTIO_F_VERSION_1);
	if (!(d->accepted >> VIRTIO_F_VERSION_1 & 1))
		goto failed;
	cc_write32(d, CC_GFSELECT, 0);
	cc_write32(d, CC_GF, (u32)d->accepted);
	cc_write32(d, CC_GFSELECT, 1);
	cc_write32(d, CC_GF, (u32)(d->accepted >> 32));
	cc_write8(d, CC_STATUS,
		  VIRTIO_STATUS_ACKNOWLEDGE | VIRTIO_STATUS_DRIVER | VIRTIO_STATUS_FEATURES_OK);
	if (cc_read8(d, CC_STATUS) & VIRTIO_STATUS_FEATURES_OK)
		return true;
failed:
	cc_write8(d, CC_STATUS, cc_read8(d, CC_STATUS) | VIRTIO_STATUS_FAILED);
	return false;
}

bool virtio_msix_enable(struct virtio_dev *d, const u8 *vectors, unsigned n, u32 apic_id)
{
	if (!d->msix_table || n > d->msix_size)
		return false;
	for (unsigned i = 0; i < d->msix_size; i++) {
		volatile u32 *e = d->msix_table + 4 * i;
		if (i < n) {
			e[0] = 0xfee00000u | (apic_id & 0xff) << 12;
			e[1] = 0;
			e[2] = vectors[i];
			e[3] = 0; /* unmasked */
		} else {
			e[3] = 1;
		}
	}
	u16 ctrl = pci_read16(d->pci, d->msix_cap + 2);
	pci_write16(d->pci, d->msix_cap + 2, (ctrl | MSIX_CTRL_ENABLE) & ~MSIX_CTRL_MASK);
	return true;
}

u16 virtio_config_vector(struct virtio_dev *d, u16 vector)
{
	cc_write16(d, CC_MSIX, vector);
	return cc_read16(d, CC_MSIX);
}

bool virtio_queue_setup(struct virtio_dev *d, struct virtq *q, u16 index, u16 max_size, void *mem,
			u16 vector)
{
	cc_write16(d, CC_Q_SELECT, index);
	u16 size = cc_read16(d, CC_Q_SIZE);
	if (!size || cc_read16(d, CC_Q_ENABLE))
		return false;
	if (size > max_size)
		size = max_size;
	if (size > VIRTQ_MAX)
		size = VIRTQ_MAX;
	/* Split rings are a power of two (2.7). */
	while (size & (size - 1))
		size &= (u16)(size - 1);
	u8 *m = mem;
	for (u32 i = 0; i < VIRTQ_MEM_SIZE(size); i++)
		m[i] = 0;
	q->index = index;
	q->size = size;
	q->desc = (volatile struct virtq_desc *)m;
	q->avail = (volatile u16 *)(m + 16u * size);
	q->used = m + align_up(16u * size + 6u + 2u * size, VIRTQ_ALIGN);
	for (u16 i = 0; i < size; i++)
		q->desc[i].next = (u16)(i + 1);
	q->free_head = 0;
	q->num_free = size;
	q->avail_idx = q->last_used = 0;
	cc_write16(d, CC_Q_SIZE, size);
	cc_write64(d, CC_Q_DESC, (uintptr_t)q->desc);
	cc_write64(d, CC_Q_AVAIL, (uintptr_t)q->avail);
	cc_write64(d, CC_Q_USED, (uintptr_t)q->used);
	q->vector = vector;
	cc_write16(d, CC_Q_MSIX, vector);
	if (cc_read16(d, CC_Q_MSIX) != vector)
		return false;
	q->notify =
	    (volatile u16 *)(d->notify_base + (uintptr_t)cc_read16(d, CC_Q_NOFF) * d->notify_mult);
	cc_write16(d, CC_Q_ENABLE, 1);
	return true;
}

void virtio_driver_ok(struct virtio_dev *d)
{
	cc_write8(d, CC_STATUS, cc_read8(d, CC_STATUS) | VIRTIO_STATUS_DRIVER_OK);
}

u8 virtio_isr(struct virtio_dev *d)
{
	return *d->isr;
}

/* Device configuration: the generation counter guards multi-byte fields
 * against a change in the middle (4.1.4.3.1 / 2.5.1). */
u8 virtio_cfg8(struct virtio_dev *d, u32 off)
{
	return *(volatile u8 *)(d->device + off);
}

u16 virtio_cfg16(struct virtio_dev *d, u32 off)
{
	return *(volatile u16 *)(d->device + off);
}

u32 virtio_cfg32(struct virtio_dev *d, u32 off)
{
	return *(volatile u32 *)(d->device + off);
}

u64 virtio_cfg64(struct virtio_dev *d, u32 off)
{
	u8 gen;
	u64 v;
	do {
		gen = cc_read8(d, CC_GEN);
		v = virtio_cfg32(d, off) | (u64)virtio_cfg32(d, off + 4) << 32;
	} while (gen != cc_read8(d, CC_GEN));
	return v;
}

int virtq_add(struct virtq *q, const struct virtq_buf *bufs, unsigned n,
	      struct virtq_desc *indirect)
{
	unsigned need = indirect ? 1 : n;
	if (!n || need > q->num_free)
		return -1;
	u16 head = q->free_head;
	if (indirect) {
		for (unsigned i = 0; i < n; i++) {
			indirect[i].addr = (uintptr_t)bufs[i].addr;
			indirect[i].len = bufs[i].len;
			indirect[i].flags = (u16)((bufs[i].write ? VIRTQ_DESC_F_WRITE : 0) |
						  (i + 1 < n ? VIRTQ_DESC_F_NEXT : 0));
			indirect[i].next = (u16)(i + 1 < n ? i + 1 : 0);
		}
		volatile struct virtq_desc *dd = &q->desc[head];
		q->free_head = dd->next;
		dd->addr = (uintptr_t)indirect;
		dd->len = (u32)(n * sizeof(struct virtq_desc));
		dd->flags = VIRTQ_DESC_F_INDIRECT;
	} else {
		u16 i = head, last = head;
		for (unsigned k = 0; k < n; k++) {
			volatile struct virtq_desc *dd = &q->desc[i];
			dd->addr = (uintptr_t)bufs[k].addr;
			dd->len = bufs[k].len;
			dd->flags = (u16)((bufs[k].write ? VIRTQ_DESC_F_WRITE : 0) |
					  (k + 1 < n ? VIRTQ_DESC_F_NEXT : 0));
			last = i;
			i = dd->next;
		}
		(void)last;
		q->free_head = i;
	}
	q->num_free = (u16)(q->num_free - need);
	q->chain_len[head] = (u16)need;
	/* Publish: the ring slot, then (after a barrier) the index (2.7.13). */
	q->avail[2 + (q->avail_idx % q->size)] = head;
	__asm__ volatile("" ::: "memory"); /* x86 keeps stores in order */
	q->avail_idx++;
	q->avail[1] = q->avail_idx;
	return head;
}

void virtq_kick(struct virtio_dev *d, struct virtq *q)
{
	(void)d;
	__asm__ volatile("lock; addl $0, (%%esp)" ::: "memory"); /* stores before the kick */
	*q->notify = q->index;
}

bool virtq_get_used(struct virtq *q, u16 *head, u32 *len)
{
	volatile u16 *used_idx = (volatile u16 *)(q->used + 2);
	if (*used_idx == q->last_used)
		return false;
	__asm__ volatile("" ::: "memory"); /* the element after the index (loads keep order) */
	volatile u32 *elem = (volatile u32 *)(q->used + 4 + 8u * (q->last_used % q->size));
	u32 id = elem[0];
	*len = elem[1];
	q->last_used++;
	if (id >= q->size)
		return false; /* a broken device: leave the descriptors lost */
	*head = (u16)id;
	/* Free the chain: walk `chain_len` links from the head. */
	u16 n = q->chain_len[id], last = (u16)id;
	for (u16 k = 1; k < n; k++)
		last = q->desc[last].next;
	q->desc[last].next = q->free_head;
	q->free_head = (u16)id;
	q->num_free = (u16)(q->num_free + n);
	return true;
}

void virtq_no_interrupt(struct virtq *q, bool off)
{
	q->avail[0] = off ? AVAIL_F_NO_INTERRUPT : 0;
}
