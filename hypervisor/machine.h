/* What a device model sees of its VM: guest memory, the two buses, the
 * event loop, interrupt lines, and a way to ask for reset, power-off or exit.
 * The KVM partition fills in the interrupt and request hooks for a running
 * VM; the device test harness fills them in with recorders. */
#ifndef OSIO_MACHINE_H
#define OSIO_MACHINE_H

#include "hypervisor/bus.h"
#include "hypervisor/evloop.h"
#include "hypervisor/guestmem.h"

#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>

enum machine_request {
	MACHINE_RESET,	  /* reset line, triple fault, reboot */
	MACHINE_POWEROFF, /* ACPI S5, guest poweroff */
	MACHINE_EXIT,	  /* debug-exit port: end with the given status */
	MACHINE_CRASH,	  /* the guest cannot continue (emulation failure, ...) */
};

/* The status of a MACHINE_RESET or MACHINE_POWEROFF that the host asked for
 * (a reset button, pulling the plug) rather than the guest: such a reset
 * restarts the VM even under on_reboot = exit (which is about the guest's
 * reboots), and such a power-off is not the guest shutting down. */
#define MACHINE_BY_HOST 1

struct device;
struct machine;
struct pci_bus;
struct input_router;
struct msi_hub;

#define MACHINE_GSIS 24 /* the IOAPIC's pins; ISA IRQs are GSIs 0-15 */
#define MACHINE_COALESCED_ZONES 8

/* A range whose guest writes may be queued instead of exiting one by one
 * (KVM's coalesced MMIO/PIO): for write-mostly windows such as the VGA
 * memory window or a debug port. Queued writes reach the device in order
 * at the next exit of any vCPU, or when someone calls
 * machine_flush_coalesced; a device whose state others read (a renderer)
 * flushes first. Reads of the range always exit, after a flush. */
struct coalesced_zone {
	uint64_t addr, size;
	bool pio;
};

/* One device's connection to an interrupt line. Several devices may drive
 * one GSI (COM1 and COM3 share IRQ 4, PCI INTx pins share PIRQs): the line's
 * level is the OR of its sources, as with a wired-OR line. */
struct irq_line {
	struct machine *m;
	unsigned gsi;
	uint32_t bit;
};

struct machine {
	struct guest_memory mem;
	struct bus *pio;
	struct bus *mmio;
	struct evloop *loop;

	/* The interrupt controller's input: the level of a GSI, the OR of
	 * its sources (see irq_line_set). Edge-triggered inputs see the 0->1
	 * transition. Called with irq_lock held. */
	void (*set_irq)(void *irq_opaque, unsigned gsi, bool level);
	void *irq_opaque;
	pthread_mutex_t irq_lock;
	uint32_t irq_sources[MACHINE_GSIS];  /* bits handed out */
	uint32_t irq_asserted[MACHINE_GSIS]; /* bits driving the line high */

	/* Asks the worker to reset, power off or exit; safe from any thread,
	 * returns at once. status is used with MACHINE_EXIT. */
	void (*request)(void *req_opaque, enum machine_request req, int status);
	void *req_opaque;

	/* Platform facts that devices report to the guest. */
	uint64_t ram_below_4g; /* bytes of RAM from 0 */
	uint64_t ram_above_4g; /* bytes of RAM from 4 GiB */
	/* The host memory behind them. The first MiB's top (0xA0000-0xFFFFF:
	 * the VGA window, option ROMs, the BIOS) is not mapped as RAM except
	 * for the shadow RAM at 0xC0000-0xFFFFF in `legacy_slot`, which the
	 * chipset model takes over to shadow the firmware. */
	uint8_t *ram_low, *ram_high;
	int legacy_slot; /* -1 when the machine has less than 1 MiB */
	unsigned cpus;
	unsigned phys_bits; /* guest physical address width (CPUID 0x80000008), 0 unknown */

	struct device *devices; /* in creation order */
	struct pci_bus *pci;	/* made by the host bridge model ("i440fx"), or NULL */
	struct input_router *input; /* keys and pointer from the front ends */

	/* MSIs, irqfd routes and ioeventfds (hypervisor/msi.h). */
	struct msi_hub *msi;

	struct coalesced_zone coalesced[MACHINE_COALESCED_ZONES];
	unsigned ncoalesced;
	/* Set by the partition: delivers queued writes. */
	void (*flush_coalesced)(void *opaque);
	void *flush_opaque;

	/* Set when a reset, power-off or exit has been requested: a vCPU
	 * that sees it after an exit does not enter the guest again, so a
	 * guest's last act (the debug-exit write, the reset pulse) is its
	 * last instruction. Cleared by the worker when the VM starts again. */
	atomic_bool stopping;
};

/* Asks for writes to [addr, addr+size) to be queued (see struct
 * coalesced_zone); -ENOSPC when the table is full. Only takes effect for
 * partitions created afterwards: call it at device creation. */
int machine_coalesce(struct machine *m, uint64_t addr, uint64_t size, bool pio);
static inline void machine_flush_coalesced(struct machine *m)
{
	if (m->flush_coalesced)
		m->flush_coalesced(m->flush_opaque);
}

/* Connects a device to GSI gsi. -EINVAL for a bad GSI, -ENOSPC when 32
 * devices already share it. */
int machine_irq_line(struct machine *m, unsigned gsi, struct irq_line *line);
/* Drives the device's side of the line; safe from any thread, and cheap
 * when the level does not change. */
void irq_line_set(const struct irq_line *line, bool level);
/* Disconnects (lowering the device's side first); for destroy and error
 * paths. A zeroed line is ignored. */
void irq_line_release(struct irq_line *line);

static inline void machine_request(struct machine *m, enum machine_request req, int status)
{
	if (m->request)
		m->request(m->req_opaque, req, status);
}

/* Lays out `ram` bytes of guest RAM the way a PC does (below the PCI hole,
 * the rest above 4 GiB; nothing at 0xA0000-0xBFFFF, the VGA window),
 * allocates it (MAP_NORESERVE; huge pages if asked) and records it in m->mem
 * and ram_below/above_4g. -errno on failure, with the reason logged. */
int machine_alloc_ram(struct machine *m, uint64_t ram, bool hugepages);
void machine_free_ram(struct machine *m);

/* Buses and event loop; RAM is separate. */
int machine_init(struct machine *m);
void machine_destroy(struct machine *m);

#endif
