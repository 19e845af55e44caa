/* E820 construction: range assignment, splitting, merging, the PC map for
 * small, PCI-hole-sized and above-4-GiB machines. */
#include "hypervisor/boot/e820.h"
#include "hypervisor/platform.h"

#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>
#include <string.h>

static void expect(const struct e820_table *t, unsigned i, uint64_t addr, uint64_t size,
		   uint32_t type)
{
	assert_true(i < t->n);
	assert_int_equal(t->e[i].addr, addr);
	assert_int_equal(t->e[i].size, size);
	assert_int_equal(t->e[i].type, type);
}

static void test_set_split_merge(void **state)
{
	struct e820_table t = { 0 };
	assert_int_equal(e820_set(&t, 0, 0x100000, E820_RAM), 0);
	assert_int_equal(t.n, 1);
	/* A hole in the middle splits the entry in three. */
	assert_int_equal(e820_set(&t, 0x9fc00, 0x400, E820_RESERVED), 0);
	assert_int_equal(t.n, 3);
	expect(&t, 0, 0, 0x9fc00, E820_RAM);
	expect(&t, 1, 0x9fc00, 0x400, E820_RESERVED);
	expect(&t, 2, 0xa0000, 0x60000, E820_RAM);
	/* Turning it back merges the three. */
	assert_int_equal(e820_set(&t, 0x9fc00, 0x400, E820_RAM), 0);
	assert_int_equal(t.n, 1);
	expect(&t, 0, 0, 0x100000, E820_RAM);
	/* Overlapping two entries at once, and extending past the end. */
	assert_int_equal(e820_set(&t, 0x200000, 0x100000, E820_RAM), 0);
	assert_int_equal(e820_set(&t, 0x80000, 0x200000, E820_ACPI), 0);
	assert_int_equal(t.n, 3);
	expect(&t, 0, 0, 0x80000, E820_RAM);
	expect(&t, 1, 0x80000, 0x200000, E820_ACPI);
	expect(&t, 2, 0x280000, 0x80000, E820_RAM);
	/* Out of order insertion stays sorted. */
	assert_int_equal(e820_set(&t, 0x100000000ull, 0x1000, E820_RAM), 0);
	assert_int_equal(e820_set(&t, 0xfec00000ull, 0x1000, E820_RESERVED), 0);
	assert_true(t.e[3].addr == 0xfec00000ull && t.e[4].addr == 0x100000000ull);
}

static void test_bad_ranges(void **state)
{
	struct e820_table t = { 0 };
	assert_int_equal(e820_set(&t, 0, 0, E820_RAM), -EINVAL);
	assert_int_equal(e820_set(&t, ~0ull, 2, E820_RAM), -EINVAL);
	/* Up to the very top is fine. */
	assert_int_equal(e820_set(&t, ~0ull - 0xfff, 0x1000, E820_RESERVED), 0);
	expect(&t, 0, ~0ull - 0xfff, 0x1000, E820_RESERVED);
}

static void test_full_table_unchanged(void **state)
{
	struct e820_table t = { 0 };
	for (unsigned i = 0; i < E820_MAX_ENTRIES; i++)
		assert_int_equal(e820_set(&t, i * 0x2000ull, 0x1000, i % 2 ? E820_RAM : E820_NVS),
				 0);
	assert_int_equal(t.n, E820_MAX_ENTRIES);
	struct e820_table copy = t;
	assert_int_equal(e820_set(&t, 0x1000, 0x10, E820_ACPI), -ENOSPC);
	assert_memory_equal(&t, &copy, sizeof(t));
}

static void pc_map(uint64_t low, uint64_t high, struct e820_table *t)
{
	struct machine m = { .ram_below_4g = low, .ram_above_4g = high };
	assert_int_equal(e820_build_pc(t, &m), 0);
}

static void test_pc_small(void **state)
{
	struct e820_table t;
	pc_map(128 * MiB, 0, &t);
	assert_int_equal(t.n, 5);
	expect(&t, 0, 0, 0x9fc00, E820_RAM);
	expect(&t, 1, 0x9fc00, 0x400, E820_RESERVED);
	expect(&t, 2, 0xe0000, 0x20000, E820_RESERVED);
	expect(&t, 3, 0x100000, 127 * MiB, E820_RAM);
	/* KVM's identity map and TSS pages are kept out of the OS's way. */
	expect(&t, 4, KVM_IDENTITY_MAP_ADDR, KVM_PRIVATE_SIZE, E820_RESERVED);
	assert_int_equal(e820_total(&t, E820_RAM), 128 * MiB - 0x400 - 0x60000);
}

static void test_pc_above_4g(void **state)
{
	struct e820_table t;
	pc_map(3 * GiB, 2 * GiB, &t);
	assert_int_equal(t.n, 6);
	expect(&t, 3, 0x100000, 3 * GiB - MiB, E820_RAM);
	expect(&t, 4, KVM_IDENTITY_MAP_ADDR, KVM_PRIVATE_SIZE, E820_RESERVED);
	expect(&t, 5, 4 * GiB, 2 * GiB, E820_RAM);
	/* The firmware and device window below 4 GiB is not RAM. */
	for (unsigned i = 0; i < t.n; i++)
		assert_false(t.e[i].type == E820_RAM && t.e[i].addr < 4 * GiB &&
			     t.e[i].addr + t.e[i].size > 3 * GiB);
}

/* What firmware gets: whole RAM ranges; it cuts its own holes. */
static void test_firmware_map(void **state)
{
	struct machine m = { .ram_below_4g = 3 * GiB, .ram_above_4g = 2 * GiB };
	struct e820_table t;
	assert_int_equal(e820_build_firmware(&t, &m), 0);
	assert_int_equal(t.n, 3);
	expect(&t, 0, 0, 3 * GiB, E820_RAM);
	expect(&t, 1, KVM_IDENTITY_MAP_ADDR, KVM_PRIVATE_SIZE, E820_RESERVED);
	expect(&t, 2, 4 * GiB, 2 * GiB, E820_RAM);
	assert_int_equal(e820_total(&t, E820_RAM), 5 * GiB);
}

/* machine_alloc_ram's split and e820_build_pc agree for every size. */
static void test_layout_matches_allocation(void **state)
{
	const uint64_t sizes[] = { 2 * MiB, 128 * MiB, 3 * GiB, 0xe0000000ull - 4096,
				   0xe0000000ull, 5 * GiB };
	for (size_t i = 0; i < sizeof(sizes) / sizeof(sizes[0]); i++) {
		struct machine m;
		assert_int_equal(machine_init(&m), 0);
		assert_int_equal(machine_alloc_ram(&m, sizes[i], false), 0);
		struct e820_table t;
		assert_int_equal(e820_build_pc(&t, &m), 0);
		assert_int_equal(m.ram_below_4g + m.ram_above_4g, sizes[i]);
		assert_true(m.ram_below_4g <= LOWMEM_SPLIT || m.ram_above_4g == 0);
		/* Every usable byte is backed by RAM. */
		for (unsigned j = 0; j < t.n; j++)
			if (t.e[j].type == E820_RAM)
				assert_non_null(gpa_to_hva(&m.mem, t.e[j].addr, t.e[j].size));
		assert_int_equal(e820_total(&t, E820_RAM), sizes[i] - 0x400 - 0x60000);
		machine_free_ram(&m);
		machine_destroy(&m);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_set_split_merge),	  cmocka_unit_test(test_bad_ranges),
		cmocka_unit_test(test_full_table_unchanged), cmocka_unit_test(test_pc_small),
		cmocka_unit_test(test_pc_above_4g),	  cmocka_unit_test(test_layout_matches_allocation),
		cmocka_unit_test(test_firmware_map),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
