/* ACPI tables at a fixed guest address, for directly booted kernels: walked
 * the way an OS walks them (RSDP -> XSDT/RSDT -> FADT -> DSDT/FACS, MADT),
 * every checksum and pointer checked and the DSDT read back, for machines
 * with and without PCI, VGA, serial ports and RAM above 4 GiB. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include "tests/unit/boot/test_acpi_walk.h"
#include "devices/device.h"

#include <errno.h>

#define BASE BIOS_AREA_START

static void build_and_walk(const struct acpi_machine *m, const struct acpi_expect *e)
{
	struct acpi_tables t;
	assert_int_equal(acpi_build_pc(&t, BASE, m), 0);
	assert_int_equal(t.base, BASE);
	assert_true(t.size <= BIOS_AREA_END - BIOS_AREA_START);
	/* The RSDP must be found by a scan of the BIOS area on 16-byte steps. */
	assert_true(t.rsdp >= BIOS_AREA_START && t.rsdp < BIOS_AREA_END);
	struct gmem g = {.n = 1};
	g.r[0].addr = t.base;
	g.r[0].p = t.blob;
	g.r[0].len = t.size;
	acpi_walk(&g, t.rsdp, m, e);
	acpi_free(&t);
}

/* The Generation 1 machine with 512 MiB, as osio builds it by default. */
static void test_pc_small(void **state)
{
	const struct acpi_machine m = {
	    .cpus = 1,
	    .ram_below_4g = 512 * MiB,
	    .pci = true,
	    .vga = true,
	    .serial = 0x1,
	};
	const struct acpi_expect e = {.mem32_start = 0x80000000};
	build_and_walk(&m, &e);
}

/* SeaBIOS's three starts of the 32-bit window: up to 2 GiB of RAM, up to 3,
 * more (at most 3.5 GiB below 4 GiB). */
static void test_pci_window_follows_ram(void **state)
{
	struct acpi_machine m = {.cpus = 2, .pci = true, .serial = 0x3};
	struct acpi_expect e = {0};
	m.ram_below_4g = 2 * GiB;
	e.mem32_start = 0x80000000;
	build_and_walk(&m, &e);
	m.ram_below_4g = 2 * GiB + 4096;
	e.mem32_start = 0xc0000000;
	build_and_walk(&m, &e);
	m.ram_below_4g = 3 * GiB;
	build_and_walk(&m, &e);
	m.ram_below_4g = 3 * GiB + 512 * MiB;
	e.mem32_start = 0xe0000000;
	build_and_walk(&m, &e);
}

/* With the guest's address width known, a 64-bit window from the GiB
 * boundary above RAM to the top SeaBIOS uses. */
static void test_pci_window_64(void **state)
{
	struct acpi_machine m = {
	    .cpus = 4,
	    .ram_below_4g = 3 * GiB,
	    .ram_above_4g = 2 * GiB + 1,
	    .pci = true,
	    .vga = true,
	    .phys_bits = 40,
	};
	struct acpi_expect e = {
	    .mem32_start = 0xc0000000,
	    .mem64_start = 7 * GiB,
	    .mem64_end = (1ull << 40) - 1,
	};
	build_and_walk(&m, &e);
	/* Wider than 44 bits: SeaBIOS keeps below 2^44. */
	m.phys_bits = 48;
	m.ram_above_4g = 0;
	e.mem64_start = 4 * GiB;
	e.mem64_end = (1ull << 44) - 1;
	build_and_walk(&m, &e);
	/* Unknown width: no 64-bit window. */
	m.phys_bits = 0;
	e.mem64_start = e.mem64_end = 0;
	build_and_walk(&m, &e);
}

/* The machine a kernel was booted on before the PCI bus existed: ISA
 * devices straight under \_SB, no reset register, only the SCI level. */
static void test_without_pci(void **state)
{
	const struct acpi_machine m = {.cpus = 2, .ram_below_4g = 128 * MiB, .serial = 0xf};
	const struct acpi_expect e = {0};
	build_and_walk(&m, &e);
}

static void test_many_cpus(void **state)
{
	struct acpi_machine m = {.ram_below_4g = 1 * GiB, .pci = true, .serial = 0x1};
	const struct acpi_expect e = {.mem32_start = 0x80000000};
	static const unsigned counts[] = {2, 16, 64, 254, 255, 256, 1024};
	for (size_t i = 0; i < sizeof(counts) / sizeof(counts[0]); i++) {
		m.cpus = counts[i];
		build_and_walk(&m, &e);
	}
}

static void test_refusals(void **state)
{
	const struct acpi_machine m = {.cpus = 1, .ram_below_4g = 512 * MiB, .pci = true};
	struct acpi_tables t;
	assert_int_equal(acpi_build_pc(&t, BASE + 16, &m), -EINVAL); /* FACS unaligned */
	assert_null(t.blob);
	assert_int_equal(acpi_build_pc(&t, 1ull << 32, &m), -EINVAL);
	assert_int_equal(acpi_build_pc(&t, (1ull << 32) - 4096, &m), -E2BIG);
	const struct acpi_machine none = {.cpus = 0};
	assert_int_equal(acpi_build_pc(&t, BASE, &none), -EINVAL);
	const struct acpi_machine huge = {.cpus = ACPI_MAX_CPUS + 1};
	assert_int_equal(acpi_build_pc(&t, BASE, &huge), -EINVAL);
}

/* What acpi_machine_describe reads off a machine: its RAM and vCPUs, the
 * PCI bus the host bridge made, the serial ports by id. */
static void test_describe(void **state)
{
	struct machine mc;
	struct devargs args = {0};
	assert_int_equal(machine_init(&mc), 0);
	assert_int_equal(machine_alloc_ram(&mc, 4 * GiB, false), 0);
	mc.cpus = 3;
	struct acpi_machine am;
	acpi_machine_describe(&am, &mc);
	assert_int_equal(am.cpus, 3);
	assert_int_equal(am.ram_below_4g, mc.ram_below_4g);
	assert_int_equal(am.ram_above_4g, mc.ram_above_4g);
	assert_true(am.ram_above_4g > 0);
	assert_false(am.pci);
	assert_false(am.vga);
	assert_int_equal(am.serial, 0);
	assert_int_equal(am.phys_bits, 0);

	assert_int_equal(machine_add_device(&mc, "i440fx", "i440fx", &args), 0);
	assert_int_equal(devargs_parse(&args, "base=0x2f8,irq=3,backend=none"), 0);
	assert_int_equal(machine_add_device(&mc, "uart16550", "com2", &args), 0);
	acpi_machine_describe(&am, &mc);
	assert_true(am.pci);
	assert_int_equal(am.serial, 0x2);
	machine_destroy_devices(&mc);
	machine_free_ram(&mc);
	machine_destroy(&mc);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_pc_small),	  cmocka_unit_test(test_pci_window_follows_ram),
	    cmocka_unit_test(test_pci_window_64), cmocka_unit_test(test_without_pci),
	    cmocka_unit_test(test_many_cpus),	  cmocka_unit_test(test_refusals),
	    cmocka_unit_test(test_describe),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
