/* ACPI tables: walked the way an OS walks them (RSDP -> XSDT/RSDT -> FADT ->
 * DSDT/FACS, MADT), every checksum and pointer checked. */
#include "hypervisor/boot/acpi.h"
#include "hypervisor/platform.h"

#include <setjmp.h>
#include <stdbool.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>
#include <string.h>

#define BASE 0xe0000ull

static uint32_t rd32(const uint8_t *p)
{
	return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

static uint64_t rd64(const uint8_t *p)
{
	return rd32(p) | (uint64_t)rd32(p + 4) << 32;
}

static const uint8_t *at(const struct acpi_tables *t, uint64_t addr, size_t len)
{
	assert_true(addr >= t->base && addr + len <= t->base + t->size);
	return t->blob + (addr - t->base);
}

static const uint8_t *table(const struct acpi_tables *t, uint64_t addr, const char *sig)
{
	const uint8_t *h = at(t, addr, 36);
	assert_memory_equal(h, sig, 4);
	uint32_t len = rd32(h + 4);
	at(t, addr, len);
	assert_int_equal(acpi_checksum(h, len), 0);
	return h;
}

static void walk(unsigned cpus)
{
	struct acpi_tables t;
	assert_int_equal(acpi_build(&t, BASE, cpus), 0);
	assert_true(t.size <= BIOS_AREA_END - BIOS_AREA_START);
	/* The RSDP must be found by a scan of the BIOS area on 16-byte steps. */
	assert_int_equal(t.rsdp % 16, 0);
	const uint8_t *rsdp = at(&t, t.rsdp, 36);
	assert_memory_equal(rsdp, "RSD PTR ", 8);
	assert_int_equal(acpi_checksum(rsdp, 20), 0);
	assert_int_equal(acpi_checksum(rsdp, 36), 0);
	assert_int_equal(rsdp[15], 2);

	const uint8_t *rsdt = table(&t, rd32(rsdp + 16), "RSDT");
	const uint8_t *xsdt = table(&t, rd64(rsdp + 24), "XSDT");
	assert_int_equal(rd32(rsdt + 4), 36 + 8);
	assert_int_equal(rd32(xsdt + 4), 36 + 16);
	assert_int_equal(rd32(rsdt + 36), rd64(xsdt + 36));
	assert_int_equal(rd32(rsdt + 40), rd64(xsdt + 44));

	const uint8_t *fadt = table(&t, rd64(xsdt + 36), "FACP");
	assert_int_equal(rd32(fadt + 40), rd64(fadt + 140)); /* DSDT, 32 and 64 */
	assert_int_equal(rd32(fadt + 36), rd64(fadt + 132)); /* FACS */
	assert_int_equal(fadt[46], IRQ_SCI);
	assert_int_equal(rd32(fadt + 56), ACPI_PM_EVT);
	assert_int_equal(rd32(fadt + 64), ACPI_PM_CNT);
	assert_int_equal(rd32(fadt + 76), ACPI_PM_TMR);
	assert_int_equal(rd64(fadt + 148 + 4), ACPI_PM_EVT);
	assert_int_equal(rd64(fadt + 172 + 4), ACPI_PM_CNT);
	assert_int_equal(fadt[88], 4);
	assert_int_equal(fadt[89], 2);
	assert_int_equal(fadt[91], 4);
	assert_true(fadt[109] & 2); /* 8042 present */
	const uint8_t *facs = at(&t, rd32(fadt + 36), 64);
	assert_memory_equal(facs, "FACS", 4);
	assert_int_equal(rd32(fadt + 36) % 64, 0);

	/* \_S5_ with the sleep type the acpi-pm device powers off on. */
	const uint8_t *dsdt = table(&t, rd32(fadt + 40), "DSDT");
	uint32_t dlen = rd32(dsdt + 4);
	const uint8_t *s5 = NULL;
	for (uint32_t i = 36; i + 4 <= dlen; i++)
		if (memcmp(dsdt + i, "_S5_", 4) == 0)
			s5 = dsdt + i;
	assert_non_null(s5);
	assert_int_equal(s5[4], 0x12);	       /* PackageOp */
	assert_int_equal(s5[5], 8);	       /* PkgLength */
	assert_int_equal(s5[6], 4);	       /* elements */
	assert_int_equal(s5[7], 0x0a);	       /* BytePrefix */
	assert_int_equal(s5[8], ACPI_SLP_TYP_S5);
	assert_true(s5 + 5 + s5[5] <= dsdt + dlen);

	const uint8_t *madt = table(&t, rd64(xsdt + 44), "APIC");
	assert_int_equal(rd32(madt + 36), LAPIC_ADDR);
	uint32_t mlen = rd32(madt + 4);
	unsigned lapics = 0, ioapics = 0, overrides = 0;
	bool seen[256] = { 0 };
	for (uint32_t off = 44; off < mlen;) {
		const uint8_t *e = madt + off;
		assert_true(e[1] >= 2 && off + e[1] <= mlen);
		if (e[0] == 0) {
			assert_true(rd32(e + 4) & 1);
			assert_false(seen[e[3]]);
			seen[e[3]] = true;
			lapics++;
		} else if (e[0] == 1) {
			assert_int_equal(rd32(e + 4), IOAPIC_ADDR);
			assert_int_equal(rd32(e + 8), 0);
			ioapics++;
		} else if (e[0] == 2) {
			if (e[3] == IRQ_PIT)
				assert_int_equal(rd32(e + 4), 2);
			overrides++;
		}
		off += e[1];
	}
	assert_int_equal(lapics, cpus);
	assert_int_equal(ioapics, 1);
	assert_int_equal(overrides, 2);
	for (unsigned i = 0; i < cpus; i++)
		assert_true(seen[i]);
	acpi_free(&t);
}

static void test_one_cpu(void **state)
{
	walk(1);
}

static void test_many_cpus(void **state)
{
	walk(2);
	walk(64);
	walk(254);
}

static void test_bad_base(void **state)
{
	struct acpi_tables t;
	assert_true(acpi_build(&t, BASE + 4, 1) < 0);
	assert_true(acpi_build(&t, 1ull << 32, 1) < 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_one_cpu),
		cmocka_unit_test(test_many_cpus),
		cmocka_unit_test(test_bad_base),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
