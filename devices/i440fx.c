/* i440FX PCI and memory controller (82441FX) at 00:00.0: creates PCI bus 0,
 * and implements the Programmable Attribute Map (PAM) registers that map
 * each segment of 0xC0000-0xFFFFF to the BIOS ROM, to read-only or to
 * read-write shadow RAM, so that firmware can copy itself into RAM and
 * write-protect it. SMRAM (0x72) is kept as a register: there is no SMM. */
#include "devices/i440fx.h"

#include "devices/device.h"
#include "devices/pci.h"
#include "hypervisor/log.h"
#include "hypervisor/platform.h"
#include "hypervisor/vmstate.h"

#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#define I440FX_PAM0    0x59 /* PAM0..PAM6 at 0x59-0x5f */
#define I440FX_SMRAM   0x72
#define PAM_SEGMENTS   13 /* 0xF0000 (64K), then 0xC0000-0xEFFFF in 16K pieces */
#define ISA_BIOS_SIZE  0x20000ull
#define ISA_BIOS_START (BIOS_AREA_END - ISA_BIOS_SIZE)

/* Subsystem ids of QEMU's pc machine: SeaBIOS reads fw_cfg (its
 * configuration source) only on a host bridge that carries them. */
#define QEMU_SUBVENDOR 0x1af4
#define QEMU_SUBSYSTEM 0x1100

struct segment {
	uint64_t base, size;
	int slot;	 /* guest memory slot, or -1 */
	bool write_trap; /* mmio range registered for write-only mode */
};

struct i440fx {
	struct machine *m;
	struct pci_device pci;
	pthread_mutex_t lock;
	const uint8_t *bios;
	size_t bios_size;
	struct segment seg[PAM_SEGMENTS];
};

static unsigned pam_mode(const struct i440fx *h, unsigned k)
{
	if (k == 0)
		return (h->pci.cfg[I440FX_PAM0] >> 4) & 3;
	unsigned reg = I440FX_PAM0 + 1 + (k - 1) / 2;
	return (h->pci.cfg[reg] >> ((k - 1) % 2 ? 4 : 0)) & 3;
}

static uint8_t *dram(const struct i440fx *h, const struct segment *s)
{
	if (!h->m->ram_low || h->m->ram_below_4g < s->base + s->size)
		return NULL;
	return h->m->ram_low + s->base;
}

static const uint8_t *rom(const struct i440fx *h, const struct segment *s)
{
	if (!h->bios || s->base < ISA_BIOS_START)
		return NULL;
	return h->bios + h->bios_size - ISA_BIOS_SIZE + (s->base - ISA_BIOS_START);
}

/* Write-only mode (PAM 10b): reads come from the ROM (or nothing), writes
 * land in shadow RAM. The reads are served by a read-only slot when there
 * is ROM; these callbacks see the writes (and the reads of a segment with
 * no ROM). */
static uint64_t wo_read(void *opaque, uint64_t off, unsigned size)
{
	return ~0ull;
}

static void wo_write(void *opaque, uint64_t off, uint64_t val, unsigned size)
{
	uint8_t *p = opaque;
	for (unsigned i = 0; i < size; i++)
		p[off + i] = (uint8_t)(val >> (8 * i));
}

static const struct bus_ops wo_ops = {wo_read, wo_write};

static void set_slot(struct i440fx *h, struct segment *s, const void *hva, unsigned flags)
{
	struct guest_memory *mem = &h->m->mem;
	if (!hva) {
		if (s->slot >= 0)
			guestmem_unmap(mem, s->slot);
		s->slot = -1;
	} else if (s->slot >= 0) {
		guestmem_remap(mem, s->slot, s->base, s->size, (void *)hva, flags);
	} else {
		s->slot = guestmem_map(mem, s->base, s->size, (void *)hva, flags, "pam");
		if (s->slot < 0)
			log_warn("i440fx: cannot map PAM segment 0x%llx: %s",
				 (unsigned long long)s->base, strerror(-s->slot));
	}
}

/* Makes what the guest sees at segment k match its PAM bits. */
static void apply(struct i440fx *h, unsigned k)
{
	struct segment *s = &h->seg[k];
	unsigned mode = pam_mode(h, k);
	uint8_t *ram = dram(h, s);
	const uint8_t *r = rom(h, s);
	bool re = mode & 1, we = mode & 2;
	if (re && ram)
		set_slot(h, s, ram, we ? 0 : MEM_READONLY);
	else
		set_slot(h, s, r, MEM_READONLY);
	bool trap = !re && we && ram;
	if (s->write_trap && !trap) {
		bus_unregister(h->m->mmio, s->base, ram);
		s->write_trap = false;
	} else if (trap && !s->write_trap) {
		s->write_trap =
		    bus_register(h->m->mmio, s->base, s->size, &wo_ops, ram, "pam") == 0;
	}
}

static void apply_all(struct i440fx *h)
{
	for (unsigned k = 0; k < PAM_SEGMENTS; k++)
		apply(h, k);
}

static void config_write(struct pci_device *d, unsigned off, uint32_t val, unsigned size)
{
	struct i440fx *h = d->opaque;
	if (off < I440FX_PAM0 + 7 && off + size > I440FX_PAM0) {
		pthread_mutex_lock(&h->lock);
		apply_all(h);
		pthread_mutex_unlock(&h->lock);
	}
}

static const struct pci_device_ops i440fx_pci_ops = {.config_write = config_write};

int i440fx_set_bios(void *state, const void *bios, size_t size)
{
	struct i440fx *h = state;
	if (size < ISA_BIOS_SIZE || ((uintptr_t)bios % GUESTMEM_PAGE))
		return -EINVAL;
	pthread_mutex_lock(&h->lock);
	h->bios = bios;
	h->bios_size = size;
	apply_all(h);
	pthread_mutex_unlock(&h->lock);
	return 0;
}

void i440fx_shadow_ram(void *state)
{
	struct i440fx *h = state;
	/* Through configuration space, so the guest reads what it sees. */
	pci_config_write(h->m->pci, h->pci.devfn, I440FX_PAM0, 0x30, 1);
	for (unsigned r = 1; r < 7; r++)
		pci_config_write(h->m->pci, h->pci.devfn, I440FX_PAM0 + r, 0x33, 1);
}

static void reset_registers(struct i440fx *h)
{
	for (unsigned r = 0; r < 7; r++)
		h->pci.cfg[I440FX_PAM0 + r] = 0;
	h->pci.cfg[I440FX_SMRAM] = 0x02;
}

static int i440fx_create(struct machine *m, const char *id, const struct devargs *args,
			 void **state)
{
	static const char *const keys[] = {NULL};
	if (devargs_check_keys(args, "i440fx", keys) < 0)
		return -EINVAL;
	if (m->pci) {
		log_error("i440fx: the machine already has a PCI host bridge");
		return -EEXIST;
	}
	struct i440fx *h = calloc(1, sizeof(*h));
	if (!h)
		return -ENOMEM;
	h->m = m;
	pthread_mutex_init(&h->lock, NULL);
	for (unsigned k = 0; k < PAM_SEGMENTS; k++) {
		h->seg[k].slot = -1;
		h->seg[k].base = k == 0 ? 0xf0000 : SHADOW_START + (k - 1) * 0x4000ull;
		h->seg[k].size = k == 0 ? 0x10000 : 0x4000;
	}
	m->pci = pci_bus_new(m);
	if (!m->pci) {
		log_error("i440fx: cannot claim the PCI configuration ports 0xcf8-0xcff");
		pthread_mutex_destroy(&h->lock);
		free(h);
		return -EEXIST;
	}
	pci_device_init(&h->pci, "i440fx", 0x8086, 0x1237, 0x060000, 0x02, QEMU_SUBVENDOR,
			QEMU_SUBSYSTEM, 0);
	h->pci.ops = &i440fx_pci_ops;
	h->pci.opaque = h;
	pci_set_wmask(&h->pci, I440FX_PAM0, 1, 0x30);
	pci_set_wmask(&h->pci, I440FX_PAM0 + 1, 6, 0x33);
	pci_set_wmask(&h->pci, I440FX_SMRAM, 1, 0x78);
	reset_registers(h);
	int r = pci_register(m->pci, &h->pci, 0, 0);
	if (r < 0) {
		pci_bus_free(m->pci);
		m->pci = NULL;
		pthread_mutex_destroy(&h->lock);
		free(h);
		return r;
	}
	/* The PAM segments replace the plain shadow RAM of the machine. */
	if (m->legacy_slot >= 0) {
		guestmem_unmap(&m->mem, m->legacy_slot);
		m->legacy_slot = -1;
	}
	apply_all(h);
	*state = h;
	return 0;
}

static void i440fx_reset(void *state)
{
	struct i440fx *h = state;
	pci_device_reset(&h->pci);
	pthread_mutex_lock(&h->lock);
	reset_registers(h);
	apply_all(h);
	pthread_mutex_unlock(&h->lock);
}

static void i440fx_destroy(void *state)
{
	struct i440fx *h = state;
	for (unsigned k = 0; k < PAM_SEGMENTS; k++) {
		struct segment *s = &h->seg[k];
		if (s->slot >= 0)
			guestmem_unmap(&h->m->mem, s->slot);
		if (s->write_trap)
			bus_unregister(h->m->mmio, s->base, dram(h, s));
	}
	pci_unregister(&h->pci);
	pci_bus_free(h->m->pci);
	h->m->pci = NULL;
	pthread_mutex_destroy(&h->lock);
	free(h);
}

/* Saved state: the bus's CONFIG_ADDRESS latch and this function's
 * configuration space (PAM and SMRAM included); pci_load has checked the
 * reserved bits of every register. */
static void i440fx_save(void *state, struct vmstate_out *out)
{
	struct i440fx *h = state;
	pci_bus_save(h->m->pci, out);
	pci_save(&h->pci, out);
}

static int i440fx_load(void *state, struct vmstate_section *in)
{
	struct i440fx *h = state;
	int r = pci_bus_load(h->m->pci, in);
	if (r == 0)
		r = pci_load(&h->pci, in);
	if (r < 0)
		return r;
	/* The shadow segments as the PAM registers now say. */
	pthread_mutex_lock(&h->lock);
	apply_all(h);
	pthread_mutex_unlock(&h->lock);
	return 0;
}

static const struct device_model i440fx_model = {
    .name = "i440fx",
    .description = "i440FX host bridge: PCI bus 0, PAM shadow-RAM control",
    .create = i440fx_create,
    .reset = i440fx_reset,
    .destroy = i440fx_destroy,
    .state_version = 1,
    .save = i440fx_save,
    .load = i440fx_load,
};
DEVICE_MODEL(i440fx_model);
