/* PCI bus: configuration mechanism #1, the generic configuration header,
 * BAR and ROM decoding, capabilities and INTx. */
#include "devices/pci.h"

#include "hypervisor/bytes.h"
#include "hypervisor/log.h"
#include "hypervisor/vmstate.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

#define CONF1_ADDR_PORT 0xcf8
#define CONF1_DATA_PORT 0xcfc
#define CONF1_ENABLE	0x80000000u
#define RCR_PORT_OFFSET 1 /* 0xCF9: the PIIX reset control register */
#define RCR_SYS_RST	0x02
#define RCR_RST_CPU	0x04

struct pci_bus {
	struct machine *m;
	pthread_mutex_t lock; /* configuration space and mappings */
	struct pci_device *dev[PCI_SLOTS * PCI_FUNCS];
	uint32_t config_address;
	uint8_t rcr;
	pthread_mutex_t intx_lock;
	pci_intx_route_fn route;
	void *route_opaque;
};

/* --- configuration header helpers --------------------------------------- */

uint32_t pci_cfg_get(const struct pci_device *d, unsigned off, unsigned size)
{
	if (off >= sizeof(d->cfg) || size > sizeof(d->cfg) - off)
		return 0;
	return (uint32_t)get_le(d->cfg + off, size);
}

void pci_cfg_set(struct pci_device *d, unsigned off, uint32_t val, unsigned size)
{
	if (off >= sizeof(d->cfg) || size > sizeof(d->cfg) - off)
		return;
	put_le(d->cfg + off, val, size);
}

void pci_set_wmask(struct pci_device *d, unsigned off, unsigned len, uint8_t mask)
{
	for (unsigned i = 0; i < len && off + i < sizeof(d->wmask); i++)
		d->wmask[off + i] = mask;
}

void pci_device_init(struct pci_device *d, const char *name, uint16_t vendor, uint16_t device,
		     uint32_t class_code, uint8_t revision, uint16_t subvendor, uint16_t subsystem,
		     uint8_t int_pin)
{
	memset(d, 0, sizeof(*d));
	d->name = name;
	d->rom_slot = -1;
	for (int i = 0; i < PCI_BARS; i++)
		d->bar_slot[i] = -1;
	pci_cfg_set(d, PCI_VENDOR_ID, vendor, 2);
	pci_cfg_set(d, PCI_DEVICE_ID, device, 2);
	pci_cfg_set(d, PCI_REVISION_ID, revision, 1);
	pci_cfg_set(d, PCI_CLASS_PROG, class_code & 0xffffff, 3);
	pci_cfg_set(d, PCI_SUBSYSTEM_VENDOR_ID, subvendor, 2);
	pci_cfg_set(d, PCI_SUBSYSTEM_ID, subsystem, 2);
	pci_cfg_set(d, PCI_INTERRUPT_PIN, int_pin, 1);
	/* Writable: command (I/O, memory, master, parity, SERR, INTx
	 * disable), cache line size, latency timer, interrupt line. The
	 * status register's error bits are write-1-to-clear. */
	pci_cfg_set(d, PCI_COMMAND, 0, 2);
	d->wmask[PCI_COMMAND] = 0x47;
	d->wmask[PCI_COMMAND + 1] = 0x05;
	d->w1cmask[PCI_STATUS + 1] = 0xf9;
	d->wmask[PCI_CACHE_LINE_SIZE] = 0xff;
	d->wmask[PCI_LATENCY_TIMER] = 0xff;
	d->wmask[PCI_INTERRUPT_LINE] = 0xff;
	d->next_cap = 0x40;
}

int pci_bar_init(struct pci_device *d, int bar, const struct pci_bar_desc *desc)
{
	bool io = desc->type & PCI_BAR_IO;
	bool is64 = !io && (desc->type & PCI_BAR_MEM64);
	uint64_t size = desc->size;
	if (bar < 0 || bar >= PCI_BARS || (is64 && bar == PCI_BARS - 1))
		return -EINVAL;
	if (size == 0 || (size & (size - 1)) || size < (io ? 4u : 16u) || (io && size > 256))
		return -EINVAL;
	if (io && (desc->ram || (desc->type & ~PCI_BAR_IO)))
		return -EINVAL;
	if (desc->ram && (((uintptr_t)desc->ram % GUESTMEM_PAGE) || size < GUESTMEM_PAGE))
		return -EINVAL;
	if (!desc->ram && !desc->ops)
		return -EINVAL;
	d->bar[bar] = *desc;
	pci_cfg_set(d, PCI_BASE_ADDRESS_0 + 4 * bar, desc->type & 0xf, 4);
	if (is64)
		pci_cfg_set(d, PCI_BASE_ADDRESS_0 + 4 * (bar + 1), 0, 4);
	return 0;
}

int pci_rom_init(struct pci_device *d, const void *data, size_t size)
{
	if (size == 0 || size > (16u << 20))
		return -EINVAL;
	uint64_t rsize = GUESTMEM_PAGE;
	while (rsize < size)
		rsize <<= 1;
	void *p = mmap(NULL, rsize, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (p == MAP_FAILED)
		return -errno;
	memcpy(p, data, size);
	memset((uint8_t *)p + size, 0xff, rsize - size); /* unprogrammed ROM */
	d->rom = p;
	d->rom_size = rsize;
	pci_cfg_set(d, PCI_ROM_ADDRESS, 0, 4);
	return 0;
}

int pci_add_capability(struct pci_device *d, uint8_t id, unsigned len)
{
	unsigned off = (d->next_cap + 3u) & ~3u;
	if (len < 2 || off + len > sizeof(d->cfg))
		return -ENOSPC;
	d->cfg[off] = id;
	d->cfg[off + 1] = 0;
	/* Append to the list. */
	if (!(d->cfg[PCI_STATUS] & PCI_STATUS_CAP_LIST)) {
		d->cfg[PCI_CAPABILITY_LIST] = (uint8_t)off;
		d->cfg[PCI_STATUS] |= PCI_STATUS_CAP_LIST;
	} else {
		unsigned p = d->cfg[PCI_CAPABILITY_LIST];
		while (d->cfg[p + 1])
			p = d->cfg[p + 1];
		d->cfg[p + 1] = (uint8_t)off;
	}
	d->next_cap = (uint8_t)(off + len < 256 ? off + len : 255);
	return (int)off;
}

/* --- decoding -------------------------------------------------------------- */

static uint64_t bar_address(const struct pci_device *d, int i)
{
	uint32_t lo = (uint32_t)pci_cfg_get(d, PCI_BASE_ADDRESS_0 + 4 * i, 4);
	if (d->bar[i].type & PCI_BAR_IO)
		return lo & ~3u;
	uint64_t addr = lo & ~0xfu;
	if (d->bar[i].type & PCI_BAR_MEM64)
		addr |= (uint64_t)pci_cfg_get(d, PCI_BASE_ADDRESS_0 + 4 * (i + 1), 4) << 32;
	return addr;
}

static void unmap_bar(struct pci_device *d, int i)
{
	struct machine *m = d->bus->m;
	if (!d->bar_is_mapped[i])
		return;
	const struct pci_bar_desc *b = &d->bar[i];
	if (b->ram) {
		guestmem_unmap(&m->mem, d->bar_slot[i]);
		d->bar_slot[i] = -1;
	} else {
		bus_unregister(b->type & PCI_BAR_IO ? m->pio : m->mmio, d->bar_mapped_at[i],
			       b->opaque);
	}
	d->bar_is_mapped[i] = false;
	if (d->ops && d->ops->bar_mapped)
		d->ops->bar_mapped(d, i, d->bar_mapped_at[i], false);
}

/* Maps or unmaps BAR i to match the command register and its address. */
static void update_bar(struct pci_device *d, int i)
{
	const struct pci_bar_desc *b = &d->bar[i];
	if (!b->size)
		return;
	struct machine *m = d->bus->m;
	uint16_t cmd = (uint16_t)pci_cfg_get(d, PCI_COMMAND, 2);
	bool io = b->type & PCI_BAR_IO;
	bool on = cmd & (io ? PCI_COMMAND_IO : PCI_COMMAND_MEMORY);
	uint64_t addr = bar_address(d, i);
	uint64_t limit = io ? 0x10000 : (b->type & PCI_BAR_MEM64) ? 0 : 1ull << 32;
	/* Address 0 is "not assigned"; a BAR must lie wholly in its space
	 * (the all-ones pattern of BAR sizing lands at the very top). */
	bool valid =
	    on && addr != 0 && addr + b->size > addr && (!limit || addr + b->size <= limit);
	if (d->bar_is_mapped[i] && (!valid || addr != d->bar_mapped_at[i]))
		unmap_bar(d, i);
	if (!valid || d->bar_is_mapped[i])
		return;
	int r;
	if (b->ram) {
		r = guestmem_map(&m->mem, addr, b->size, b->ram, b->ram_flags, d->name);
		if (r >= 0)
			d->bar_slot[i] = r;
	} else {
		r = bus_register(io ? m->pio : m->mmio, addr, b->size, b->ops, b->opaque, d->name);
	}
	if (r < 0) {
		if (tracing(TRACE_DEV))
			log_trace(
			    "pci %02x.%u %s: BAR %d at 0x%llx overlaps something; not decoded",
			    d->devfn >> 3, d->devfn & 7, d->name, i, (unsigned long long)addr);
		return;
	}
	d->bar_is_mapped[i] = true;
	d->bar_mapped_at[i] = addr;
	if (d->ops && d->ops->bar_mapped)
		d->ops->bar_mapped(d, i, addr, true);
}

static void update_rom(struct pci_device *d)
{
	if (!d->rom)
		return;
	struct machine *m = d->bus->m;
	uint32_t reg = (uint32_t)pci_cfg_get(d, PCI_ROM_ADDRESS, 4);
	uint64_t addr = reg & ~0x7ffu;
	bool valid = (reg & PCI_ROM_ADDRESS_ENABLE) &&
		     (pci_cfg_get(d, PCI_COMMAND, 2) & PCI_COMMAND_MEMORY) && addr != 0 &&
		     addr + d->rom_size <= 1ull << 32;
	if (d->rom_is_mapped && (!valid || addr != d->rom_mapped_at)) {
		guestmem_unmap(&m->mem, d->rom_slot);
		d->rom_slot = -1;
		d->rom_is_mapped = false;
		if (d->ops && d->ops->bar_mapped)
			d->ops->bar_mapped(d, -1, d->rom_mapped_at, false);
	}
	if (!valid || d->rom_is_mapped)
		return;
	int slot = guestmem_map(&m->mem, addr, d->rom_size, d->rom, MEM_READONLY, d->name);
	if (slot < 0)
		return;
	d->rom_slot = slot;
	d->rom_is_mapped = true;
	d->rom_mapped_at = addr;
	if (d->ops && d->ops->bar_mapped)
		d->ops->bar_mapped(d, -1, addr, true);
}

static void update_all(struct pci_device *d)
{
	for (int i = 0; i < PCI_BARS; i++)
		update_bar(d, i);
	update_rom(d);
}

/* --- INTx ------------------------------------------------------------------ */

unsigned pci_slot_pirq(uint8_t devfn, unsigned pin)
{
	return ((devfn >> 3) - 1 + pin) & 3;
}

static void intx_update(struct pci_device *d, bool level)
{
	struct pci_bus *b = d->bus;
	pthread_mutex_lock(&b->intx_lock);
	if (level)
		d->cfg[PCI_STATUS] |= PCI_STATUS_INTERRUPT;
	else
		d->cfg[PCI_STATUS] &= (uint8_t)~PCI_STATUS_INTERRUPT;
	bool disabled = d->cfg[PCI_COMMAND + 1] & (PCI_COMMAND_INTX_DISABLE >> 8);
	bool effective = level && !disabled;
	unsigned pin = d->cfg[PCI_INTERRUPT_PIN];
	if (effective != d->intx_level && pin >= 1 && pin <= 4) {
		d->intx_level = effective;
		if (b->route)
			b->route(b->route_opaque, d->devfn, pin - 1, effective);
	}
	pthread_mutex_unlock(&b->intx_lock);
}

void pci_set_irq(struct pci_device *d, bool level)
{
	if (d->bus)
		intx_update(d, level);
}

bool pci_bus_master(const struct pci_device *d)
{
	return pci_cfg_get(d, PCI_COMMAND, 2) & PCI_COMMAND_MASTER;
}

/* --- configuration access ------------------------------------------------ */

struct pci_device *pci_find(struct pci_bus *b, uint8_t devfn)
{
	return b->dev[devfn];
}

static bool multifunction(struct pci_bus *b, uint8_t devfn)
{
	for (unsigned fn = 1; fn < PCI_FUNCS; fn++)
		if (b->dev[(devfn & ~7u) | fn])
			return true;
	return false;
}

uint32_t pci_config_read(struct pci_bus *b, uint8_t devfn, unsigned off, unsigned size)
{
	if (off >= 256 || size > 256 - off || (size != 1 && size != 2 && size != 4))
		return 0xffffffffu;
	pthread_mutex_lock(&b->lock);
	struct pci_device *d = b->dev[devfn];
	uint32_t v = 0xffffffffu >> (32 - 8 * size);
	if (d) {
		v = pci_cfg_get(d, off, size);
		/* Function 0 says whether the slot has more functions. */
		if ((devfn & 7) == 0 && off <= PCI_HEADER_TYPE && off + size > PCI_HEADER_TYPE &&
		    multifunction(b, devfn))
			v |= (uint32_t)PCI_HEADER_TYPE_MULTI_FUNCTION
			     << (8 * (PCI_HEADER_TYPE - off));
		if (d->ops && d->ops->config_read)
			v = d->ops->config_read(d, off, size, v);
	}
	pthread_mutex_unlock(&b->lock);
	return v;
}

static bool touches(unsigned off, unsigned size, unsigned reg, unsigned reg_len)
{
	return off < reg + reg_len && reg < off + size;
}

/* BAR registers: the address bits above the size are writable. The bits of
 * BAR byte o a guest can change (0 for an unimplemented BAR, which reads 0). */
static uint8_t bar_writable_bits(const struct pci_device *d, unsigned o)
{
	int i = (int)(o - PCI_BASE_ADDRESS_0) / 4;
	unsigned byte = (o - PCI_BASE_ADDRESS_0) % 4;
	/* The upper half of a 64-bit BAR belongs to the BAR below it. */
	bool upper = i > 0 && d->bar[i - 1].size && (d->bar[i - 1].type & PCI_BAR_MEM64) &&
		     !(d->bar[i - 1].type & PCI_BAR_IO);
	const struct pci_bar_desc *b = upper ? &d->bar[i - 1] : &d->bar[i];
	if (!b->size)
		return 0;
	uint64_t mask = ~(b->size - 1) & ~(uint64_t)((b->type & PCI_BAR_IO) ? 3 : 0xf);
	return (uint8_t)(mask >> (8 * (byte + (upper ? 4 : 0))));
}

static void write_bar_byte(struct pci_device *d, unsigned o, uint8_t v)
{
	uint8_t m = bar_writable_bits(d, o);
	d->cfg[o] = (uint8_t)((d->cfg[o] & ~m) | (v & m));
}

void pci_config_write(struct pci_bus *b, uint8_t devfn, unsigned off, uint32_t val, unsigned size)
{
	if (off >= 256 || size > 256 - off || (size != 1 && size != 2 && size != 4))
		return;
	pthread_mutex_lock(&b->lock);
	struct pci_device *d = b->dev[devfn];
	if (!d) {
		pthread_mutex_unlock(&b->lock);
		return;
	}
	uint16_t old_cmd = (uint16_t)pci_cfg_get(d, PCI_COMMAND, 2);
	for (unsigned i = 0; i < size; i++) {
		unsigned o = off + i;
		uint8_t v = (uint8_t)(val >> (8 * i));
		if (o >= PCI_BASE_ADDRESS_0 && o < PCI_BASE_ADDRESS_0 + 4 * PCI_BARS) {
			write_bar_byte(d, o, v);
		} else if (o >= PCI_ROM_ADDRESS && o < PCI_ROM_ADDRESS + 4) {
			if (d->rom) {
				uint32_t mask =
				    ~(uint32_t)(d->rom_size - 1) | PCI_ROM_ADDRESS_ENABLE;
				uint8_t m = (uint8_t)(mask >> (8 * (o - PCI_ROM_ADDRESS)));
				d->cfg[o] = (uint8_t)((d->cfg[o] & ~m) | (v & m));
			}
		} else {
			d->cfg[o] = (uint8_t)((d->cfg[o] & ~d->wmask[o]) | (v & d->wmask[o]));
			d->cfg[o] &= (uint8_t) ~(v & d->w1cmask[o]);
		}
	}
	uint16_t cmd = (uint16_t)pci_cfg_get(d, PCI_COMMAND, 2);
	if (touches(off, size, PCI_COMMAND, 2) && cmd != old_cmd) {
		update_all(d);
		if ((cmd ^ old_cmd) & PCI_COMMAND_INTX_DISABLE)
			intx_update(d, d->cfg[PCI_STATUS] & PCI_STATUS_INTERRUPT);
	} else if (touches(off, size, PCI_BASE_ADDRESS_0, 4 * PCI_BARS)) {
		for (int i = 0; i < PCI_BARS; i++)
			if (touches(off, size, PCI_BASE_ADDRESS_0 + 4 * (unsigned)i, 4)) {
				int bar = i;
				if (i > 0 && d->bar[i - 1].size &&
				    (d->bar[i - 1].type & PCI_BAR_MEM64) &&
				    !(d->bar[i - 1].type & PCI_BAR_IO))
					bar = i - 1;
				update_bar(d, bar);
			}
	} else if (touches(off, size, PCI_ROM_ADDRESS, 4)) {
		update_rom(d);
	}
	if (d->ops && d->ops->config_write)
		d->ops->config_write(d, off, val, size);
	pthread_mutex_unlock(&b->lock);
}

void pci_device_reset(struct pci_device *d)
{
	struct pci_bus *b = d->bus;
	if (b)
		pthread_mutex_lock(&b->lock);
	pci_cfg_set(d, PCI_COMMAND, 0, 2);
	d->cfg[PCI_STATUS + 1] = 0;
	for (int i = 0; i < PCI_BARS; i++)
		if (d->bar[i].size) {
			pci_cfg_set(d, PCI_BASE_ADDRESS_0 + 4 * i, d->bar[i].type & 0xf, 4);
			if ((d->bar[i].type & PCI_BAR_MEM64) && !(d->bar[i].type & PCI_BAR_IO))
				pci_cfg_set(d, PCI_BASE_ADDRESS_0 + 4 * (i + 1), 0, 4);
		}
	if (d->rom)
		pci_cfg_set(d, PCI_ROM_ADDRESS, 0, 4);
	d->cfg[PCI_INTERRUPT_LINE] = 0;
	d->cfg[PCI_CACHE_LINE_SIZE] = 0;
	d->cfg[PCI_LATENCY_TIMER] = 0;
	if (b)
		update_all(d);
	if (b)
		pthread_mutex_unlock(&b->lock);
}

int pci_register(struct pci_bus *b, struct pci_device *d, int slot, int fn)
{
	if (fn < 0 || fn >= PCI_FUNCS || slot >= PCI_SLOTS)
		return -EINVAL;
	pthread_mutex_lock(&b->lock);
	int r = 0;
	if (slot < 0) {
		r = -ENOSPC;
		for (int s = 0; s < PCI_SLOTS; s++)
			if (!b->dev[PCI_DEVFN(s, fn)] && (fn == 0 || b->dev[PCI_DEVFN(s, 0)])) {
				slot = s;
				r = 0;
				break;
			}
	} else if (b->dev[PCI_DEVFN(slot, fn)]) {
		r = -EEXIST;
	}
	if (r == 0) {
		d->bus = b;
		d->devfn = PCI_DEVFN(slot, fn);
		b->dev[d->devfn] = d;
	}
	pthread_mutex_unlock(&b->lock);
	if (r < 0)
		log_error("pci: %s: slot %d.%d is %s", d->name, slot, fn,
			  r == -EEXIST ? "taken" : "not available");
	return r;
}

void pci_unregister(struct pci_device *d)
{
	struct pci_bus *b = d->bus;
	if (!b)
		return;
	pci_set_irq(d, false);
	pthread_mutex_lock(&b->lock);
	for (int i = 0; i < PCI_BARS; i++)
		unmap_bar(d, i);
	if (d->rom_is_mapped) {
		guestmem_unmap(&b->m->mem, d->rom_slot);
		d->rom_is_mapped = false;
	}
	b->dev[d->devfn] = NULL;
	pthread_mutex_unlock(&b->lock);
	if (d->rom)
		munmap(d->rom, d->rom_size);
	d->rom = NULL;
	d->bus = NULL;
}

/* --- saved state ---------------------------------------------------------- */

/* No lock: the vCPUs are stopped and the devices paused (device.h), and a
 * model may call this with its own lock held, which config writes take
 * after the bus's. */
void pci_save(struct pci_device *d, struct vmstate_out *out)
{
	vmstate_put_bytes(out, "pci.config", d->cfg, sizeof(d->cfg));
}

/* Bits of configuration byte o that the guest (or the device's own state)
 * may have changed; the rest are the device's make and must be as built. */
static uint8_t loadable_bits(const struct pci_device *d, unsigned o)
{
	if (o >= PCI_BASE_ADDRESS_0 && o < PCI_BASE_ADDRESS_0 + 4 * PCI_BARS)
		return bar_writable_bits(d, o);
	if (o >= PCI_ROM_ADDRESS && o < PCI_ROM_ADDRESS + 4) {
		if (!d->rom)
			return 0;
		uint32_t mask = ~(uint32_t)(d->rom_size - 1) | PCI_ROM_ADDRESS_ENABLE;
		return (uint8_t)(mask >> (8 * (o - PCI_ROM_ADDRESS)));
	}
	uint8_t bits = d->wmask[o] | d->w1cmask[o];
	if (o == PCI_STATUS)
		bits |= PCI_STATUS_INTERRUPT; /* the device's INTx level */
	return bits;
}

int pci_load(struct pci_device *d, struct vmstate_section *in)
{
	uint8_t cfg[sizeof(d->cfg)];
	struct pci_bus *b = d->bus;
	if (!b)
		return vmstate_fail(in, "pci.config: the device is not on a bus");
	int r = vmstate_get_bytes(in, "pci.config", cfg, sizeof(cfg));
	if (r < 0)
		return r;
	pthread_mutex_lock(&b->lock);
	for (unsigned o = 0; o < sizeof(cfg); o++) {
		uint8_t keep = (uint8_t)~loadable_bits(d, o);
		if ((cfg[o] & keep) != (d->cfg[o] & keep)) {
			uint8_t have = d->cfg[o];
			pthread_mutex_unlock(&b->lock);
			return vmstate_fail(in,
					    "pci.config: byte 0x%02x is 0x%02x where the device "
					    "(%s) has read-only bits 0x%02x of 0x%02x",
					    o, cfg[o], d->name, have & keep, keep);
		}
	}
	memcpy(d->cfg, cfg, sizeof(cfg));
	/* What the configuration implies: decoding of BARs and the ROM (a
	 * fresh device decodes nothing, so this maps what was mapped). */
	update_all(d);
	pthread_mutex_unlock(&b->lock);
	/* The INTx line to the level the device held (intx_level starts
	 * false, so an asserted pin is raised again through the router). */
	intx_update(d, cfg[PCI_STATUS] & PCI_STATUS_INTERRUPT);
	return 0;
}

void pci_bus_save(struct pci_bus *b, struct vmstate_out *out)
{
	pthread_mutex_lock(&b->lock);
	vmstate_put_u64(out, "pcibus.config_address", b->config_address);
	vmstate_put_u64(out, "pcibus.rcr", b->rcr);
	pthread_mutex_unlock(&b->lock);
}

int pci_bus_load(struct pci_bus *b, struct vmstate_section *in)
{
	uint32_t addr;
	uint8_t rcr;
	int r = vmstate_get_u32(in, "pcibus.config_address", UINT32_MAX, &addr);
	if (r == 0)
		r = vmstate_get_u8(in, "pcibus.rcr", RCR_SYS_RST, &rcr);
	if (r < 0)
		return r;
	if (addr & ~0x80fffffcu)
		return vmstate_fail(in, "pcibus.config_address: 0x%08x has reserved bits set",
				    addr);
	if (rcr & ~RCR_SYS_RST)
		return vmstate_fail(in, "pcibus.rcr: 0x%02x has bits other than SYS_RST", rcr);
	pthread_mutex_lock(&b->lock);
	b->config_address = addr;
	b->rcr = rcr;
	pthread_mutex_unlock(&b->lock);
	return 0;
}

void pci_bus_set_intx_router(struct pci_bus *b, pci_intx_route_fn fn, void *opaque)
{
	pthread_mutex_lock(&b->intx_lock);
	b->route = fn;
	b->route_opaque = opaque;
	pthread_mutex_unlock(&b->intx_lock);
}

/* --- the host bridge's ports ---------------------------------------------- */

static uint64_t conf1_addr_read(void *opaque, uint64_t off, unsigned size)
{
	struct pci_bus *b = opaque;
	if (off == 0 && size == 4)
		return b->config_address;
	if (off == RCR_PORT_OFFSET && size == 1)
		return b->rcr;
	return ~0ull; /* byte/word accesses elsewhere reach nothing */
}

static void conf1_addr_write(void *opaque, uint64_t off, uint64_t val, unsigned size)
{
	struct pci_bus *b = opaque;
	if (off == 0 && size == 4) {
		b->config_address = (uint32_t)val & 0x80fffffcu;
	} else if (off == RCR_PORT_OFFSET && size == 1) {
		/* PIIX reset control: RST_CPU going 0 -> 1 resets the
		 * machine (SYS_RST picks hard or soft; both reset a VM). */
		uint8_t old = b->rcr;
		b->rcr = (uint8_t)(val & RCR_SYS_RST);
		if ((val & RCR_RST_CPU) && !(old & RCR_RST_CPU))
			machine_request(b->m, MACHINE_RESET, 0);
	}
}

/* The device, function and register a data-port access goes to, or false
 * when CONFIG_ADDRESS is disabled or names another bus. */
static bool decode(struct pci_bus *b, uint64_t off, uint8_t *devfn, unsigned *reg)
{
	uint32_t a = b->config_address;
	if (!(a & CONF1_ENABLE) || ((a >> 16) & 0xff) != 0)
		return false;
	*devfn = (uint8_t)(a >> 8);
	*reg = (a & 0xfc) + (unsigned)off;
	return true;
}

static uint64_t conf1_data_read(void *opaque, uint64_t off, unsigned size)
{
	struct pci_bus *b = opaque;
	uint8_t devfn;
	unsigned reg;
	if (!decode(b, off, &devfn, &reg) || off + size > 4)
		return ~0ull;
	return pci_config_read(b, devfn, reg, size);
}

static void conf1_data_write(void *opaque, uint64_t off, uint64_t val, unsigned size)
{
	struct pci_bus *b = opaque;
	uint8_t devfn;
	unsigned reg;
	if (decode(b, off, &devfn, &reg) && off + size <= 4)
		pci_config_write(b, devfn, reg, (uint32_t)val, size);
}

static const struct bus_ops conf1_addr_ops = {conf1_addr_read, conf1_addr_write};
static const struct bus_ops conf1_data_ops = {conf1_data_read, conf1_data_write};

struct pci_bus *pci_bus_new(struct machine *m)
{
	struct pci_bus *b = calloc(1, sizeof(*b));
	if (!b)
		return NULL;
	b->m = m;
	pthread_mutex_init(&b->lock, NULL);
	pthread_mutex_init(&b->intx_lock, NULL);
	if (bus_register(m->pio, CONF1_ADDR_PORT, 4, &conf1_addr_ops, b, "pci-conf1") < 0 ||
	    bus_register(m->pio, CONF1_DATA_PORT, 4, &conf1_data_ops, b, "pci-conf1") < 0) {
		bus_unregister(m->pio, CONF1_ADDR_PORT, b);
		pthread_mutex_destroy(&b->lock);
		pthread_mutex_destroy(&b->intx_lock);
		free(b);
		return NULL;
	}
	return b;
}

void pci_bus_free(struct pci_bus *b)
{
	if (!b)
		return;
	bus_unregister(b->m->pio, CONF1_ADDR_PORT, b);
	bus_unregister(b->m->pio, CONF1_DATA_PORT, b);
	pthread_mutex_destroy(&b->lock);
	pthread_mutex_destroy(&b->intx_lock);
	free(b);
}
