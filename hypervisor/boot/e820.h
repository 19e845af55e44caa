/* The BIOS E820 memory map: built once from the machine's RAM layout and
 * handed to the guest through boot_params, the multiboot memory map and
 * fw_cfg's etc/e820. */
#ifndef OSIO_E820_H
#define OSIO_E820_H

#include "hypervisor/machine.h"

#include <stdint.h>

enum e820_type {
	E820_RAM = 1,
	E820_RESERVED = 2,
	E820_ACPI = 3,
	E820_NVS = 4,
	E820_UNUSABLE = 5,
};

/* The wire format shared by boot_params, fw_cfg and the BIOS call. */
struct e820_entry {
	uint64_t addr;
	uint64_t size;
	uint32_t type;
} __attribute__((packed));

#define E820_MAX_ENTRIES 128 /* what boot_params holds */

struct e820_table {
	unsigned n;
	struct e820_entry e[E820_MAX_ENTRIES];
};

/* Marks [addr, addr+size) as `type`, replacing whatever the range held
 * before (entries are split as needed), then keeps the table sorted with
 * adjacent entries of one type merged. -EINVAL for an empty or wrapping
 * range, -ENOSPC when the table is full (it is then unchanged). */
int e820_set(struct e820_table *t, uint64_t addr, uint64_t size, uint32_t type);

/* The PC map for m's RAM: usable low memory up to the EBDA, the EBDA and
 * the BIOS area (where the ACPI tables live) reserved, RAM from 1 MiB to
 * the PCI hole, RAM above 4 GiB. */
int e820_build_pc(struct e820_table *t, const struct machine *m);

/* The map firmware starts from (fw_cfg's etc/e820, as QEMU gives it): whole
 * RAM ranges and KVM's private pages; the firmware cuts its own holes. */
int e820_build_firmware(struct e820_table *t, const struct machine *m);

/* Bytes of the given type. */
uint64_t e820_total(const struct e820_table *t, uint32_t type);

#endif
