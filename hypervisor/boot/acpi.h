/* ACPI tables for a directly booted kernel: RSDP, RSDT/XSDT, FADT (pointing
 * at the acpi-pm device's PM1 registers), FACS, DSDT (with \_S5 so the OS
 * can power off) and MADT (every vCPU's LAPIC, the IOAPIC, the PC's
 * interrupt overrides). */
#ifndef OSIO_ACPI_H
#define OSIO_ACPI_H

#include <stddef.h>
#include <stdint.h>

struct acpi_tables {
	uint8_t *blob;	   /* all tables, to be copied to guest address `base` */
	size_t size;
	uint64_t base;
	uint64_t rsdp;	   /* guest address of the RSDP */
};

/* Builds the tables for `cpus` vCPUs (APIC ids 0..cpus-1) to live at guest
 * address base (16-byte aligned, below 4 GiB). -errno on failure. */
int acpi_build(struct acpi_tables *t, uint64_t base, unsigned cpus);
void acpi_free(struct acpi_tables *t);

/* Sum of the bytes, for checks. */
uint8_t acpi_checksum(const void *data, size_t len);

#endif
