/* SMBIOS tables for a VM (DMTF DSP0134, version 2.8 with the 32-bit entry
 * point): what dmidecode and the guest's "system information" show. */
#ifndef OSIO_SMBIOS_H
#define OSIO_SMBIOS_H

#include <stddef.h>
#include <stdint.h>

#define SMBIOS_ANCHOR_SIZE 31
#define SMBIOS_ANCHOR_FILE "etc/smbios/smbios-anchor"
#define SMBIOS_TABLES_FILE "etc/smbios/smbios-tables"

struct smbios_machine {
	const char *name; /* the VM's name: the system serial number */
	uint8_t uuid[16]; /* in SMBIOS byte order */
	unsigned cpus;
	const char *cpu_vendor;	       /* "GenuineIntel", ... */
	uint32_t cpuid_eax, cpuid_edx; /* CPUID leaf 1: the processor id */
	uint64_t ram_below_4g, ram_above_4g;
};

struct smbios_tables {
	uint8_t anchor[SMBIOS_ANCHOR_SIZE]; /* the "_SM_" entry point */
	uint8_t *tables;
	size_t tables_size;
};

/* Builds the structures and the entry point (pointing at table_addr; 0 when
 * the firmware places the tables and patches it). */
int smbios_build(const struct smbios_machine *m, uint64_t table_addr, struct smbios_tables *out);
void smbios_free(struct smbios_tables *t);
/* Recomputes the entry point's two checksums. */
void smbios_checksum(uint8_t *anchor);
/* A UUID that stays the same for a VM name (until the VM store gives each
 * VM its own). */
void smbios_uuid_from_name(const char *name, uint8_t uuid[16]);

#endif
