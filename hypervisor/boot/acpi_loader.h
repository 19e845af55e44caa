/* The ACPI tables as QEMU hands them to SeaBIOS: fw_cfg files "etc/acpi/tables"
 * and "etc/acpi/rsdp" (pointers stored as offsets into their file) and
 * "etc/table-loader", the commands that place, link and checksum them. */
#ifndef OSIO_ACPI_LOADER_H
#define OSIO_ACPI_LOADER_H

#include "hypervisor/boot/acpi.h"

#include <stddef.h>
#include <stdint.h>

#define ACPI_LOADER_FILE "etc/table-loader"
#define ACPI_TABLES_FILE "etc/acpi/tables"
#define ACPI_RSDP_FILE	 "etc/acpi/rsdp"

/* One command is 128 bytes, little-endian (QEMU hw/acpi/bios-linker-loader.c,
 * SeaBIOS src/fw/romfile_loader.h): a u32 command, then
 *   ALLOCATE:     file[56], u32 align, u8 zone
 *   ADD_POINTER:  dest_file[56], src_file[56], u32 offset, u8 size
 *   ADD_CHECKSUM: file[56], u32 offset, u32 start, u32 length
 * File names are NUL-terminated within their 56 bytes. */
#define ACPI_LOADER_ENTRY_SIZE 128
#define ACPI_LOADER_FILESZ     56
enum acpi_loader_command {
	ACPI_LOADER_ALLOCATE = 1,     /* copy the file into guest RAM */
	ACPI_LOADER_ADD_POINTER = 2,  /* add src's address to a pointer in dest */
	ACPI_LOADER_ADD_CHECKSUM = 3, /* make a byte range sum to zero */
};
enum acpi_loader_zone {
	ACPI_LOADER_ZONE_HIGH = 1, /* anywhere in RAM below 4 GiB */
	ACPI_LOADER_ZONE_FSEG = 2, /* the F segment, where an OS looks for the RSDP */
};

struct acpi_loader_blobs {
	uint8_t *tables; /* ACPI_TABLES_FILE */
	size_t tables_size;
	uint8_t *rsdp; /* ACPI_RSDP_FILE */
	size_t rsdp_size;
	uint8_t *loader; /* ACPI_LOADER_FILE */
	size_t loader_size;
};

/* Builds the three files for machine m. -errno on failure (out is then
 * empty). The caller adds them to fw_cfg (fw_cfg_add_file copies). */
int acpi_build_loader(const struct acpi_machine *m, struct acpi_loader_blobs *out);
void acpi_loader_free(struct acpi_loader_blobs *b);

#endif
