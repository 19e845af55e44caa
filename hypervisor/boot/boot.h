/* Booting a VM without firmware: reading the kernel and initrd once, telling
 * a Linux bzImage from a multiboot kernel, and putting kernel, tables and
 * the bootstrap processor's registers in place at every (re)start. */
#ifndef OSIO_BOOT_H
#define OSIO_BOOT_H

#include "hypervisor/boot/acpi.h"
#include "hypervisor/boot/e820.h"
#include "hypervisor/boot/smbios.h"
#include "hypervisor/machine.h"
#include "hypervisor/vmspec.h"
#include "hypervisor/vp.h"

#include <limits.h>
#include <stddef.h>
#include <stdint.h>

/* Low-memory areas the loaders use (all below the EBDA). */
#define BOOT_GDT_ADDR 0x500ull
#define BOOT_ZERO_PAGE_ADDR 0x7000ull /* Linux boot_params */
#define BOOT_PML4_ADDR 0x9000ull       /* identity map for 64-bit entry */
#define BOOT_PDPT_ADDR 0xa000ull
#define BOOT_PD_ADDR 0xb000ull	       /* 4 pages: 4 GiB in 2 MiB pages */
#define BOOT_INFO_ADDR 0x10000ull      /* multiboot info and its strings */
#define BOOT_INFO_END 0x80000ull
#define BOOT_CMDLINE_ADDR 0x20000ull   /* Linux command line */
#define BOOT_LOW_END 0x80000ull	       /* kernels may not load below this */
#define BOOT_SMBIOS_ADDR 0xf0000ull    /* entry point; tables follow (the F segment) */

#define BOOT_GDT_CODE_SEL 0x10
#define BOOT_GDT_DATA_SEL 0x18

enum boot_kind {
	BOOT_LINUX,
	BOOT_MULTIBOOT,
};

struct boot_file {
	const char *path;
	uint8_t *data;
	size_t size;
};

struct boot_plan {
	enum boot_kind kind;
	struct boot_file kernel;
	struct boot_file initrd; /* size 0: none */
	const char *append;
	unsigned cpus;
	struct e820_table e820;
	struct acpi_tables acpi;	/* from BIOS_AREA_START */
	struct smbios_tables smbios; /* from BOOT_SMBIOS_ADDR */
};

/* Reads and checks the kernel and initrd named in spec, builds the memory
 * map and ACPI tables, and fills fw_cfg's items. Every problem is one
 * logged line naming the file; returns -errno. */
int boot_prepare(struct boot_plan *b, struct machine *m, const struct vm_spec *spec);
/* Writes tables and kernel into guest RAM and sets the BSP's registers;
 * run at every start and reset. */
int boot_load(struct boot_plan *b, struct machine *m, struct vcpu *bsp);
void boot_release(struct boot_plan *b);

/* fw_cfg's etc/e820 (whole RAM ranges, as firmware expects them). */
int boot_fw_cfg_e820(struct machine *m);

struct smbios_machine;
/* What the SMBIOS tables say about this VM. */
void smbios_describe(struct smbios_machine *sm, const struct machine *m, const struct vm_spec *spec);

/* Shared by the loaders. */
void boot_flat_segments(struct kvm_sregs *s, bool long_mode);
int boot_write_gdt(struct machine *m, struct kvm_sregs *s, bool long_mode);

bool multiboot_detect(const uint8_t *img, size_t size);
int multiboot_check(const struct boot_plan *b, const struct machine *m);
int multiboot_load(const struct boot_plan *b, struct machine *m, struct boot_cpu_state *st);

bool linux_detect(const uint8_t *img, size_t size);
int linux_check(const struct boot_plan *b, const struct machine *m);
int linux_load(const struct boot_plan *b, struct machine *m, struct boot_cpu_state *st);

#endif
