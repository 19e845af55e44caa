/* PCI: configuration mechanism #1 (ports 0xCF8/0xCFC), devices with a
 * 256-byte configuration space, BARs that put a device's registers (or its
 * RAM, such as a framebuffer) wherever the firmware or OS programs them, an
 * expansion ROM BAR, capability lists, and INTx pins routed by the ISA
 * bridge's PIRQ registers. Every later PCI device model uses this. */
#ifndef OSIO_PCI_H
#define OSIO_PCI_H

#include "hypervisor/bus.h"
#include "hypervisor/machine.h"

#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>

/* Configuration header registers. */
#define PCI_VENDOR_ID		0x00
#define PCI_DEVICE_ID		0x02
#define PCI_COMMAND		0x04
#define PCI_STATUS		0x06
#define PCI_REVISION_ID		0x08
#define PCI_CLASS_PROG		0x09
#define PCI_CLASS_DEVICE	0x0a
#define PCI_CACHE_LINE_SIZE	0x0c
#define PCI_LATENCY_TIMER	0x0d
#define PCI_HEADER_TYPE		0x0e
#define PCI_BASE_ADDRESS_0	0x10
#define PCI_SUBSYSTEM_VENDOR_ID 0x2c
#define PCI_SUBSYSTEM_ID	0x2e
#define PCI_ROM_ADDRESS		0x30
#define PCI_CAPABILITY_LIST	0x34
#define PCI_INTERRUPT_LINE	0x3c
#define PCI_INTERRUPT_PIN	0x3d

#define PCI_COMMAND_IO		       0x0001
#define PCI_COMMAND_MEMORY	       0x0002
#define PCI_COMMAND_MASTER	       0x0004
#define PCI_COMMAND_INTX_DISABLE       0x0400
#define PCI_STATUS_INTERRUPT	       0x0008
#define PCI_STATUS_CAP_LIST	       0x0010
#define PCI_HEADER_TYPE_MULTI_FUNCTION 0x80
#define PCI_ROM_ADDRESS_ENABLE	       0x01

#define PCI_SLOTS	    32
#define PCI_FUNCS	    8
#define PCI_BARS	    6
#define PCI_DEVFN(slot, fn) ((uint8_t)(((slot) << 3) | (fn)))

/* BAR kinds (the low bits of the register, as the spec defines them). */
enum pci_bar_type {
	PCI_BAR_MEM32 = 0x0,
	PCI_BAR_IO = 0x1,
	PCI_BAR_MEM64 = 0x4,
	PCI_BAR_PREFETCH = 0x8, /* with MEM32 or MEM64 */
};

/* What a BAR decodes to: register callbacks (offsets relative to the BAR)
 * or, for memory BARs, host memory mapped into the guest (a framebuffer;
 * `ram` must be page-aligned and `size` at least a page). */
struct pci_bar_desc {
	uint64_t size; /* a power of two: >= 4 for I/O, >= 16 for memory */
	unsigned type;
	const struct bus_ops *ops;
	void *opaque;
	void *ram;
	unsigned ram_flags; /* MEM_DIRTY_LOG, MEM_READONLY */
};

struct pci_device;

struct pci_device_ops {
	/* Device-specific registers: called after the generic handling of a
	 * configuration write (header, BARs, ROM, command have been applied).
	 * off/size are the guest's access; cfg already holds the new bytes. */
	void (*config_write)(struct pci_device *d, unsigned off, uint32_t val, unsigned size);
	/* May replace the value of a configuration read (e.g. a register
	 * whose value is live); returns the value to give the guest. */
	uint32_t (*config_read)(struct pci_device *d, unsigned off, unsigned size, uint32_t val);
	/* A BAR (0-5) or the ROM (-1) was mapped at addr, or unmapped. */
	void (*bar_mapped)(struct pci_device *d, int bar, uint64_t addr, bool mapped);
};

struct pci_bus;

struct pci_device {
	struct pci_bus *bus;
	uint8_t devfn;
	const char *name;
	const struct pci_device_ops *ops;
	void *opaque; /* the device model's state */

	uint8_t cfg[256];
	uint8_t wmask[256];   /* bits the guest may write */
	uint8_t w1cmask[256]; /* bits the guest clears by writing 1 */

	struct pci_bar_desc bar[PCI_BARS];
	uint64_t bar_mapped_at[PCI_BARS];
	bool bar_is_mapped[PCI_BARS];
	int bar_slot[PCI_BARS]; /* guest memory slot of a RAM BAR */

	void *rom; /* page-aligned copy, rom_size bytes (a power of two) */
	uint64_t rom_size;
	uint64_t rom_mapped_at;
	bool rom_is_mapped;
	int rom_slot;

	bool intx_level;
	uint8_t next_cap; /* where the next capability goes */
};

/* The bus and its host bridge's configuration ports. m->pci points at it. */
struct pci_bus *pci_bus_new(struct machine *m);
void pci_bus_free(struct pci_bus *b);

/* Who turns a device's INTx pin (0 = INTA .. 3 = INTD) into an interrupt:
 * the ISA bridge's PIRQ routing. Without one, INTx goes nowhere. */
typedef void (*pci_intx_route_fn)(void *opaque, uint8_t devfn, unsigned pin, bool level);
void pci_bus_set_intx_router(struct pci_bus *b, pci_intx_route_fn fn, void *opaque);
/* PIRQ link (0 = A .. 3 = D) a pin of a slot is wired to on the PC board:
 * (slot - 1 + pin) % 4, as QEMU's pc wires it and SeaBIOS
 * (piix_pci_slot_get_irq) assumes. */
unsigned pci_slot_pirq(uint8_t devfn, unsigned pin);

/* Fills the header: ids, class (base class, subclass, prog-if in
 * class_code's three bytes), revision, subsystem, and the interrupt pin
 * (0 = none, 1 = INTA ...). Writable-bit masks are set for the standard
 * header; a model makes its own registers writable with pci_set_wmask. */
void pci_device_init(struct pci_device *d, const char *name, uint16_t vendor, uint16_t device,
		     uint32_t class_code, uint8_t revision, uint16_t subvendor, uint16_t subsystem,
		     uint8_t int_pin);
/* A BAR; a 64-bit BAR takes the next register too. -EINVAL for a bad
 * size, kind or index. */
int pci_bar_init(struct pci_device *d, int bar, const struct pci_bar_desc *desc);
/* An expansion ROM (copied). */
int pci_rom_init(struct pci_device *d, const void *data, size_t size);
/* Adds a capability of `len` bytes (id at offset 0, next pointer at 1)
 * and returns its offset in configuration space, or -ENOSPC. */
int pci_add_capability(struct pci_device *d, uint8_t id, unsigned len);
void pci_set_wmask(struct pci_device *d, unsigned off, unsigned len, uint8_t mask);

/* Puts the device on the bus at slot/fn (slot -1: the first free slot).
 * -EEXIST if taken, -ENOSPC if the bus is full. */
int pci_register(struct pci_bus *b, struct pci_device *d, int slot, int fn);
/* Takes it off the bus, unmapping its BARs; frees the ROM copy. */
void pci_unregister(struct pci_device *d);

/* Power-on state: command 0 (no decoding), BARs and ROM address 0,
 * interrupt line 0; device-specific registers are the model's business. */
void pci_device_reset(struct pci_device *d);

/* Drives the INTx pin (level-triggered; held while the device wants
 * service). Honours the command register's interrupt-disable bit. */
void pci_set_irq(struct pci_device *d, bool level);

/* Whether the device may master the bus (DMA): the command register. */
bool pci_bus_master(const struct pci_device *d);

/* Little-endian access to configuration bytes, for device models. */
uint32_t pci_cfg_get(const struct pci_device *d, unsigned off, unsigned size);
void pci_cfg_set(struct pci_device *d, unsigned off, uint32_t val, unsigned size);

/* Configuration access as the host bridge performs it (for tests and for
 * firmware emulation): bus 0 only; absent devices read all-ones. */
uint32_t pci_config_read(struct pci_bus *b, uint8_t devfn, unsigned off, unsigned size);
void pci_config_write(struct pci_bus *b, uint8_t devfn, unsigned off, uint32_t val, unsigned size);
struct pci_device *pci_find(struct pci_bus *b, uint8_t devfn);

/* Saved state (hypervisor/vmstate.h): pci_save writes fields named "pci.*"
 * (configuration space, the INTx level) into the section the caller has
 * open; pci_load reads them back into a device built from the same settings
 * and registered, checks them (every read-only bit must be as the device
 * has it: ids, class, BAR kinds and sizes, reserved bits; -EINVAL after
 * vmstate_fail naming the byte), and redoes what follows: BAR and ROM
 * mappings (bar_mapped is called as for a config write), the INTx line
 * through the PIRQ router. The model's config_write is not called: the
 * model redoes the effects of its own registers after pci_load. Call
 * pci_load without the model's lock held (bar_mapped may take it). */
struct vmstate_out;
struct vmstate_section;
void pci_save(struct pci_device *d, struct vmstate_out *out);
int pci_load(struct pci_device *d, struct vmstate_section *in);
/* The host bridge's own registers (CONFIG_ADDRESS, the reset control
 * register): fields "pcibus.*", saved by the host bridge's model. */
void pci_bus_save(struct pci_bus *b, struct vmstate_out *out);
int pci_bus_load(struct pci_bus *b, struct vmstate_section *in);

#endif
