/* The machine a boot loader test loads into: RAM, the PC memory map and
 * ACPI tables, as boot_prepare would leave them, without reading files. */
#ifndef OSIO_TEST_BOOT_FIXTURE_H
#define OSIO_TEST_BOOT_FIXTURE_H

#include "hypervisor/boot/boot.h"
#include "hypervisor/bytes.h"
#include "hypervisor/platform.h"

struct boot_machine {
	struct machine m;
	struct boot_plan plan;
};

static inline void boot_machine_init(struct boot_machine *b, uint64_t ram, enum boot_kind kind,
				     const char *kernel_path, const char *append, unsigned cpus)
{
	assert_int_equal(machine_init(&b->m), 0);
	assert_int_equal(machine_alloc_ram(&b->m, ram, false), 0);
	b->plan.kind = kind;
	b->plan.kernel.path = kernel_path;
	b->plan.append = append;
	b->plan.cpus = cpus;
	assert_int_equal(e820_build_pc(&b->plan.e820, &b->m), 0);
	struct acpi_machine am = { .cpus = cpus, .ram_below_4g = b->m.ram_below_4g };
	assert_int_equal(acpi_build_pc(&b->plan.acpi, BIOS_AREA_START, &am), 0);
}

static inline void boot_machine_fini(struct boot_machine *b)
{
	acpi_free(&b->plan.acpi);
	machine_free_ram(&b->m);
	machine_destroy(&b->m);
}

#endif
