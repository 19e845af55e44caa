/* QEMU's table loader for SeaBIOS: the three fw_cfg files run through a
 * loader that reads the 128-byte commands at the offsets SeaBIOS's
 * romfile_loader.h gives them and acts as SeaBIOS does (allocate in the
 * high zone or the F segment, add allocated addresses to pointers, fix
 * checksums), then the RSDP is found the way SeaBIOS finds it and the
 * tables are walked as an OS walks them. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include "tests/unit/boot/test_acpi_walk.h"
#include "hypervisor/boot/acpi_loader.h"

#include <errno.h>

#define HIGH_SIZE (1024 * 1024)
#define FSEG_BASE 0xf0000ull
#define FSEG_SIZE 0x10000

struct loaded {
	uint8_t *high; /* the high zone: [high_base, +HIGH_SIZE) */
	uint64_t high_base;
	size_t high_used;
	uint8_t *fseg; /* [FSEG_BASE, +FSEG_SIZE) */
	size_t fseg_used;
	struct {
		const char *name;
		const uint8_t *data;
		size_t size;
		uint8_t *mem; /* where it was allocated, NULL before */
		uint64_t addr;
	} f[2];
	/* Which bytes of the tables file the loader changed. */
	bool patched[HIGH_SIZE];
};

/* A file name field: NUL-terminated within its 56 bytes. */
static const char *name_at(const uint8_t *e, unsigned off)
{
	const char *s = (const char *)e + off;
	assert_non_null(memchr(s, 0, ACPI_LOADER_FILESZ));
	return s;
}

static int file_of(struct loaded *l, const char *name)
{
	for (int i = 0; i < 2; i++)
		if (strcmp(l->f[i].name, name) == 0)
			return i;
	fail_msg("the loader names an unknown file '%s'", name);
	return -1;
}

static void run_loader(const struct acpi_loader_blobs *b, struct loaded *l)
{
	assert_int_equal(b->loader_size % 128, 0);
	assert_true(b->loader_size > 0);
	l->f[0].name = "etc/acpi/tables";
	l->f[0].data = b->tables;
	l->f[0].size = b->tables_size;
	l->f[1].name = "etc/acpi/rsdp";
	l->f[1].data = b->rsdp;
	l->f[1].size = b->rsdp_size;
	for (size_t off = 0; off < b->loader_size; off += 128) {
		const uint8_t *e = b->loader + off;
		uint32_t cmd = get_le32(e);
		int i, j;
		if (cmd == 1) { /* ALLOCATE: file[56] @4, align @60, zone @64 */
			i = file_of(l, name_at(e, 4));
			assert_null(l->f[i].mem); /* once per file */
			uint32_t align = get_le32(e + 60);
			assert_true(align && !(align & (align - 1)));
			uint8_t zone = e[64];
			uint8_t *base;
			uint64_t addr;
			size_t *used, cap;
			if (zone == 1) {
				base = l->high;
				addr = l->high_base;
				used = &l->high_used;
				cap = HIGH_SIZE;
			} else {
				assert_int_equal(zone, 2);
				base = l->fseg;
				addr = FSEG_BASE;
				used = &l->fseg_used;
				cap = FSEG_SIZE;
			}
			size_t at =
			    (size_t)(((addr + *used + align - 1) & ~(uint64_t)(align - 1)) - addr);
			assert_true(at + l->f[i].size <= cap);
			memcpy(base + at, l->f[i].data, l->f[i].size);
			l->f[i].mem = base + at;
			l->f[i].addr = addr + at;
			*used = at + l->f[i].size;
		} else if (cmd == 2) { /* ADD_POINTER: dest @4, src @60, offset @116, size @120 */
			i = file_of(l, name_at(e, 4));
			j = file_of(l, name_at(e, 60));
			assert_non_null(l->f[i].mem);
			assert_non_null(l->f[j].mem);
			uint32_t at = get_le32(e + 116);
			uint8_t size = e[120];
			assert_true(size == 1 || size == 2 || size == 4 || size == 8);
			assert_true((uint64_t)at + size <= l->f[i].size);
			uint64_t v = get_le(l->f[i].mem + at, size);
			/* It points into the source file before the move. */
			assert_true(v < l->f[j].size);
			v += l->f[j].addr;
			assert_true(size == 8 || v >> (8 * size) == 0);
			put_le(l->f[i].mem + at, v, size);
			if (i == 0)
				for (unsigned k = 0; k < size; k++)
					l->patched[at + k] = true;
		} else if (cmd == 3) { /* ADD_CHECKSUM: file @4, offset @60, start @64, len @68 */
			i = file_of(l, name_at(e, 4));
			assert_non_null(l->f[i].mem);
			uint32_t at = get_le32(e + 60), start = get_le32(e + 64),
				 len = get_le32(e + 68);
			assert_true(at < l->f[i].size);
			assert_true((uint64_t)start + len <= l->f[i].size);
			l->f[i].mem[at] -= acpi_checksum(l->f[i].mem + start, len);
			if (i == 0)
				l->patched[at] = true;
		} else {
			fail_msg("unexpected loader command %u", cmd);
		}
		/* The rest of the command is zero. */
		unsigned used = cmd == 1 ? 65 : cmd == 2 ? 121 : 72;
		for (unsigned k = used; k < 128; k++)
			assert_int_equal(e[k], 0);
	}
	assert_non_null(l->f[0].mem);
	assert_non_null(l->f[1].mem);
}

/* SeaBIOS's find_acpi_rsdp: 16-byte steps through the F segment. */
static uint64_t find_rsdp(const struct loaded *l)
{
	for (size_t off = 0; off + 20 <= FSEG_SIZE; off += 16)
		if (memcmp(l->fseg + off, "RSD PTR ", 8) == 0 &&
		    acpi_checksum(l->fseg + off, 20) == 0)
			return FSEG_BASE + off;
	fail_msg("no RSDP in the F segment");
	return 0;
}

/* Loads with the zones' first bytes already taken, as SeaBIOS's are. */
static struct loaded *load(const struct acpi_loader_blobs *b, uint64_t high_base, size_t high_used,
			   size_t fseg_used)
{
	struct loaded *l = calloc(1, sizeof(*l));
	assert_non_null(l);
	l->high = calloc(1, HIGH_SIZE);
	l->fseg = calloc(1, FSEG_SIZE);
	assert_non_null(l->high);
	assert_non_null(l->fseg);
	l->high_base = high_base;
	l->high_used = high_used;
	l->fseg_used = fseg_used;
	run_loader(b, l);
	return l;
}

static void unload(struct loaded *l)
{
	free(l->high);
	free(l->fseg);
	free(l);
}

static void load_and_walk(const struct acpi_machine *m, const struct acpi_expect *e,
			  uint64_t high_base, size_t high_used, size_t fseg_used)
{
	struct acpi_loader_blobs b;
	assert_int_equal(acpi_build_loader(m, &b), 0);
	struct loaded *l = load(&b, high_base, high_used, fseg_used);
	struct gmem g = {.n = 2};
	g.r[0].addr = l->high_base;
	g.r[0].p = l->high;
	g.r[0].len = HIGH_SIZE;
	g.r[1].addr = FSEG_BASE;
	g.r[1].p = l->fseg;
	g.r[1].len = FSEG_SIZE;
	uint64_t rsdp = find_rsdp(l);
	assert_int_equal(rsdp, l->f[1].addr);
	acpi_walk(&g, rsdp, m, e);
	unload(l);
	acpi_loader_free(&b);
}

static void test_file_names(void **state)
{
	/* The names QEMU gives them and SeaBIOS looks for. */
	assert_string_equal(ACPI_LOADER_FILE, "etc/table-loader");
	assert_string_equal(ACPI_TABLES_FILE, "etc/acpi/tables");
	assert_string_equal(ACPI_RSDP_FILE, "etc/acpi/rsdp");
}

static void test_pc(void **state)
{
	const struct acpi_machine m = {
	    .cpus = 2,
	    .ram_below_4g = 512 * MiB,
	    .pci = true,
	    .vga = true,
	    .serial = 0x1,
	};
	const struct acpi_expect e = {.mem32_start = 0x80000000};
	load_and_walk(&m, &e, 512 * MiB - HIGH_SIZE, 0, 0);
	/* Wherever SeaBIOS puts them, with the zones partly used. */
	load_and_walk(&m, &e, 0x200000, 0x30, 0x1234);
	load_and_walk(&m, &e, 0xbfe00000, 0x1010, 0xffcc);
}

static void test_big_machine(void **state)
{
	const struct acpi_machine m = {
	    .cpus = 300,
	    .ram_below_4g = 3 * GiB,
	    .ram_above_4g = 13 * GiB,
	    .phys_bits = 46,
	    .pci = true,
	    .serial = 0xf,
	};
	const struct acpi_expect e = {
	    .mem32_start = 0xc0000000,
	    .mem64_start = 17 * GiB,
	    .mem64_end = (1ull << 44) - 1,
	};
	load_and_walk(&m, &e, 0xbff00000, 0, 0);
}

/* The loader only adds addresses and fixes checksums: two loads at other
 * addresses differ in nothing else, and the tables file is the same table
 * set acpi_build_pc places (apart from those bytes). */
static void test_only_pointers_move(void **state)
{
	const struct acpi_machine m = {
	    .cpus = 4,
	    .ram_below_4g = 1 * GiB,
	    .pci = true,
	    .vga = true,
	    .serial = 0x3,
	};
	struct acpi_loader_blobs b;
	assert_int_equal(acpi_build_loader(&m, &b), 0);
	struct loaded *l1 = load(&b, 0x100000, 0, 0);
	struct loaded *l2 = load(&b, 0x3ff00000, 0, 0x40);
	assert_int_equal(l1->f[0].mem - l1->high, 0);
	assert_int_equal(l2->f[0].mem - l2->high, 0);
	unsigned moved = 0;
	for (size_t i = 0; i < b.tables_size; i++) {
		if (l1->f[0].mem[i] != l2->f[0].mem[i]) {
			assert_true(l1->patched[i]);
			moved++;
		}
		if (!l1->patched[i])
			assert_int_equal(l1->f[0].mem[i], b.tables[i]);
	}
	assert_true(moved > 0);

	struct acpi_tables t;
	assert_int_equal(acpi_build_pc(&t, BIOS_AREA_START, &m), 0);
	assert_int_equal(t.size - 64, b.tables_size);
	for (size_t i = 0; i < b.tables_size; i++)
		if (!l1->patched[i])
			assert_int_equal(t.blob[64 + i], b.tables[i]);
	acpi_free(&t);
	unload(l1);
	unload(l2);
	acpi_loader_free(&b);
}

static void test_refusal(void **state)
{
	const struct acpi_machine m = {.cpus = 0};
	struct acpi_loader_blobs b;
	assert_int_equal(acpi_build_loader(&m, &b), -EINVAL);
	assert_null(b.tables);
	assert_null(b.rsdp);
	assert_null(b.loader);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_file_names),	cmocka_unit_test(test_pc),
	    cmocka_unit_test(test_big_machine), cmocka_unit_test(test_only_pointers_move),
	    cmocka_unit_test(test_refusal),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
