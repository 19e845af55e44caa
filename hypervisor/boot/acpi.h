/* ACPI tables of the Generation 1 machine (FADT, FACS, DSDT, MADT, RSDT/XSDT, RSDP), at a
 * fixed guest address for directly booted kernels or as a set for the table loader. */
#ifndef OSIO_ACPI_H
#define OSIO_ACPI_H

#include "hypervisor/boot/aml.h"
#include "hypervisor/machine.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* What the tables describe. */
struct acpi_machine {
	unsigned cpus;	       /* vCPUs; vCPU i has APIC id cpuid_apic_id(i), ACPI UID i */
	uint64_t ram_below_4g; /* bytes of RAM from 0 */
	uint64_t ram_above_4g; /* bytes of RAM from 4 GiB */
	/* The guest's physical address width (CPUID 0x80000008 EAX[7:0]),
	 * which bounds the 64-bit PCI window; 0 if unknown: no such window. */
	unsigned phys_bits;
	bool pci;	/* i440FX + PIIX3 (+ PIIX4 PM at 00:01.3): PCI0, links, reset */
	bool vga;	/* a VGA adapter (IAPC_BOOT_ARCH) */
	uint8_t serial; /* bit i: COM(i+1) present */
};

#define ACPI_MAX_CPUS 4096 /* processor objects are named C000-CFFF */

/* Fills `am` from the machine's devices (PCI bus, "vga", "com1".."com4"),
 * RAM, vCPU count and physical address width. */
void acpi_machine_describe(struct acpi_machine *am, struct machine *m);

/* Where SeaBIOS starts the 32-bit PCI window for this much RAM below 4 GiB
 * (src/fw/pciinit.c, i440fx_mem_addr_setup): 2 GiB, 3 GiB or 3.5 GiB. */
uint64_t acpi_pci_mem32_start(uint64_t ram_below_4g);

/* The definition block of the DSDT (without the 36-byte header): \_S5, the
 * PCI root bridge and its interrupt links, the ISA devices, the processors.
 * out is initialised here; on failure it holds nothing. */
int acpi_build_dsdt(const struct acpi_machine *m, struct aml *out);

/* The tables as one blob in which every pointer to a table holds that
 * table's offset in the blob and every checksum is 0; what acpi_build_pc
 * relocates to a guest address and what the table loader hands SeaBIOS. */
#define ACPI_SET_POINTERS 16
#define ACPI_SET_TABLES	  16
struct acpi_set {
	uint8_t *blob;
	size_t size;
	struct {
		uint32_t off; /* where the pointer is */
		uint8_t size; /* 4 or 8 bytes */
	} ptr[ACPI_SET_POINTERS];
	unsigned nptr;
	struct {
		uint32_t off, len; /* a table with a header (checksum at off + 9) */
	} table[ACPI_SET_TABLES];
	unsigned ntable;
	uint32_t rsdt, xsdt; /* offsets, for the RSDP */
};
int acpi_set_build(struct acpi_set *s, const struct acpi_machine *m);
void acpi_set_free(struct acpi_set *s);
/* The 36-byte RSDP (revision 2) pointing at rsdt and xsdt, with both
 * checksums computed. */
void acpi_rsdp_fill(uint8_t rsdp[36], uint32_t rsdt, uint64_t xsdt);

struct acpi_tables {
	uint8_t *blob; /* all tables, to be copied to guest address `base` */
	size_t size;
	uint64_t base;
	uint64_t rsdp; /* guest address of the RSDP */
};

/* Builds the tables to live at guest address base (64-byte aligned for the
 * FACS, below 4 GiB), the RSDP first. -errno on failure. */
int acpi_build_pc(struct acpi_tables *t, uint64_t base, const struct acpi_machine *m);
void acpi_free(struct acpi_tables *t);

/* Sum of the bytes, for checks. */
uint8_t acpi_checksum(const void *data, size_t len);

#endif
