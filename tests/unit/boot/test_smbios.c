/* SMBIOS tables: walked the way dmidecode walks them (entry point, then
 * structures with their string sets), for small and large machines. */
#include "hypervisor/boot/smbios.h"
#include "hypervisor/bytes.h"
#include "hypervisor/platform.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <cmocka.h>
#include <string.h>

static uint8_t sum(const uint8_t *p, size_t n)
{
	uint8_t s = 0;
	for (size_t i = 0; i < n; i++)
		s = (uint8_t)(s + p[i]);
	return s;
}

/* String n of the structure at p (1-based), or NULL. */
static const char *string(const uint8_t *p, unsigned n)
{
	const char *s = (const char *)p + p[1];
	for (unsigned i = 1; i < n && *s; i++)
		s += strlen(s) + 1;
	return n && *s ? s : NULL;
}

struct found {
	const uint8_t *t[128];
	unsigned count;
};

static void walk(const struct smbios_tables *st, struct found *f)
{
	memset(f, 0, sizeof(*f));
	const uint8_t *ep = st->anchor;
	assert_memory_equal(ep, "_SM_", 4);
	assert_int_equal(ep[5], SMBIOS_ANCHOR_SIZE);
	assert_int_equal(sum(ep, SMBIOS_ANCHOR_SIZE), 0);
	assert_memory_equal(ep + 16, "_DMI_", 5);
	assert_int_equal(sum(ep + 16, 15), 0);
	assert_int_equal(get_le16(ep + 22), st->tables_size);
	unsigned max = get_le16(ep + 8), n = get_le16(ep + 28), seen = 0;
	const uint8_t *p = st->tables, *end = st->tables + st->tables_size;
	while (p < end) {
		assert_true(p + 4 <= end && p[1] >= 4 && p + p[1] <= end);
		/* The string set ends at a double NUL. */
		const uint8_t *q = p + p[1];
		while (q + 1 < end && (q[0] || q[1]))
			q++;
		assert_true(q + 1 < end);
		unsigned size = (unsigned)(q + 2 - p);
		assert_true(size <= max);
		if (p[0] < 128)
			f->t[p[0]] = p;
		f->count++;
		seen++;
		if (p[0] == 127) {
			assert_ptr_equal(q + 2, end);
			break;
		}
		p = q + 2;
	}
	assert_int_equal(seen, n);
}

static void test_small(void **state)
{
	struct smbios_machine m = {.name = "devbox",
				   .cpus = 2,
				   .cpu_vendor = "GenuineIntel",
				   .cpuid_eax = 0xa0671,
				   .cpuid_edx = 0x0f8bfbff,
				   .ram_below_4g = 512 * MiB};
	smbios_uuid_from_name("devbox", m.uuid);
	struct smbios_tables st;
	assert_int_equal(smbios_build(&m, 0xf1000, &st), 0);
	assert_int_equal(get_le32(st.anchor + 24), 0xf1000);
	struct found f;
	walk(&st, &f);
	const uint8_t *sys = f.t[1];
	assert_non_null(sys);
	assert_string_equal(string(sys, sys[4]), "osio");
	assert_string_equal(string(sys, sys[7]), "devbox");
	assert_memory_equal(sys + 8, m.uuid, 16);
	const uint8_t *cpu = f.t[4];
	assert_non_null(cpu);
	assert_int_equal(cpu[35], 2);
	assert_int_equal(get_le32(cpu + 8), 0xa0671);
	assert_string_equal(string(cpu, cpu[7]), "GenuineIntel");
	assert_int_equal(get_le32(f.t[16] + 7), 512 * 1024);
	assert_int_equal(get_le16(f.t[17] + 12), 512);
	assert_int_equal(get_le32(f.t[19] + 8), 512 * 1024 - 1);
	assert_non_null(f.t[3]);
	assert_non_null(f.t[32]);
	assert_null(f.t[0]); /* the firmware adds its own BIOS information */
	smbios_free(&st);
}

static void test_large(void **state)
{
	/* 5 TiB: sizes past the 16-bit/32-bit fields use the extended ones. */
	struct smbios_machine m = {.name = "big",
				   .cpus = 300,
				   .cpu_vendor = "AuthenticAMD",
				   .ram_below_4g = 3 * GiB,
				   .ram_above_4g = 5 * 1024 * GiB};
	struct smbios_tables st;
	assert_int_equal(smbios_build(&m, 0, &st), 0);
	struct found f;
	walk(&st, &f);
	uint64_t ram = m.ram_below_4g + m.ram_above_4g;
	assert_int_equal(get_le32(f.t[16] + 7), 0x80000000u);
	assert_int_equal(get_le64(f.t[16] + 15), ram);
	assert_int_equal(get_le16(f.t[17] + 12), 0x7fff);
	assert_int_equal(get_le32(f.t[17] + 28), ram >> 20);
	assert_int_equal(f.t[4][35], 255); /* the byte holds at most 255 cores */
	smbios_free(&st);
}

static void test_uuid(void **state)
{
	uint8_t a[16], b[16], c[16];
	smbios_uuid_from_name("one", a);
	smbios_uuid_from_name("one", b);
	smbios_uuid_from_name("two", c);
	assert_memory_equal(a, b, 16);
	assert_memory_not_equal(a, c, 16);
	assert_int_equal(a[7] >> 4, 5);	     /* version, in SMBIOS byte order */
	assert_int_equal(a[8] & 0xc0, 0x80); /* RFC 4122 variant */
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_small),
	    cmocka_unit_test(test_large),
	    cmocka_unit_test(test_uuid),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
