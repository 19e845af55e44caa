/* Bus dispatch: registration rules, routing by address, splitting of
 * straddling accesses, unclaimed space, unregistering from a callback. */
#include "hypervisor/bus.h"

#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>
#include <string.h>

struct recorder {
	uint64_t last_off, last_val;
	unsigned last_size, reads, writes;
	uint8_t regs[16];
	struct bus *bus;
	uint64_t base;
	bool unregister_in_write;
};

static uint64_t rec_read(void *opaque, uint64_t off, unsigned size)
{
	struct recorder *r = opaque;
	r->reads++;
	r->last_off = off;
	r->last_size = size;
	uint64_t v = 0;
	for (unsigned i = 0; i < size && off + i < sizeof(r->regs); i++)
		v |= (uint64_t)r->regs[off + i] << (8 * i);
	return v;
}

static void rec_write(void *opaque, uint64_t off, uint64_t val, unsigned size)
{
	struct recorder *r = opaque;
	r->writes++;
	r->last_off = off;
	r->last_val = val;
	r->last_size = size;
	for (unsigned i = 0; i < size && off + i < sizeof(r->regs); i++)
		r->regs[off + i] = (uint8_t)(val >> (8 * i));
	if (r->unregister_in_write)
		assert_int_equal(bus_unregister(r->bus, r->base, r), 0);
}

static const struct bus_ops rec_ops = { rec_read, rec_write };

static void test_register_rules(void **state)
{
	struct bus *b = bus_new("io", 0x10000);
	struct recorder a = { 0 }, c = { 0 };
	assert_int_equal(bus_register(b, 0x3f8, 8, &rec_ops, &a, "a"), 0);
	assert_int_equal(bus_register(b, 0x3f8, 1, &rec_ops, &c, "c"), -EEXIST);
	assert_int_equal(bus_register(b, 0x3f0, 9, &rec_ops, &c, "c"), -EEXIST);
	assert_int_equal(bus_register(b, 0x3ff, 1, &rec_ops, &c, "c"), -EEXIST);
	assert_int_equal(bus_register(b, 0x3f0, 8, &rec_ops, &c, "c"), 0);
	assert_int_equal(bus_register(b, 0x400, 0, &rec_ops, &c, "c"), -EINVAL);
	assert_int_equal(bus_register(b, 0xffff, 2, &rec_ops, &c, "c"), -EINVAL);
	assert_int_equal(bus_register(b, 0x10000, 1, &rec_ops, &c, "c"), -EINVAL);
	assert_int_equal(bus_unregister(b, 0x3f9, &a), -ENOENT);
	assert_int_equal(bus_unregister(b, 0x3f8, &c), -ENOENT);
	assert_string_equal(bus_owner(b, 0x3f9), "a");
	assert_string_equal(bus_owner(b, 0x3f0), "c");
	assert_null(bus_owner(b, 0x400));
	assert_int_equal(bus_unregister(b, 0x3f8, &a), 0);
	assert_null(bus_owner(b, 0x3f9));
	bus_free(b);
}

static void test_dispatch(void **state)
{
	struct bus *b = bus_new("mmio", 0);
	struct recorder a = { 0 };
	assert_int_equal(bus_register(b, 0xfee00000, 16, &rec_ops, &a, "a"), 0);
	bus_write_val(b, 0xfee00004, 0x11223344, 4);
	assert_int_equal(a.writes, 1);
	assert_int_equal(a.last_off, 4);
	assert_int_equal(a.last_size, 4);
	assert_int_equal(a.last_val, 0x11223344);
	assert_int_equal(bus_read_val(b, 0xfee00004, 2), 0x3344);
	assert_int_equal(a.last_size, 2);
	uint8_t buf[8];
	assert_true(bus_read(b, 0xfee00000, buf, 8));
	assert_int_equal(a.last_size, 8);
	bus_free(b);
}

static void test_unclaimed(void **state)
{
	struct bus *b = bus_new("io", 0x10000);
	uint8_t buf[4] = { 1, 2, 3, 4 };
	assert_false(bus_read(b, 0x80, buf, 4));
	assert_memory_equal(buf, "\xff\xff\xff\xff", 4);
	assert_false(bus_write(b, 0x80, buf, 4));
	assert_int_equal(bus_read_val(b, 0x1234, 2), 0xffff);
	bus_free(b);
}

/* A 4-byte access that starts in one range and ends outside it (or in
 * another range) is split into bytes: each byte goes where it belongs. */
static void test_straddle(void **state)
{
	struct bus *b = bus_new("io", 0x10000);
	struct recorder a = { 0 }, c = { 0 };
	assert_int_equal(bus_register(b, 0x100, 2, &rec_ops, &a, "a"), 0);
	assert_int_equal(bus_register(b, 0x103, 1, &rec_ops, &c, "c"), 0);
	bus_write_val(b, 0x100, 0xddccbbaa, 4);
	assert_int_equal(a.regs[0], 0xaa);
	assert_int_equal(a.regs[1], 0xbb);
	assert_int_equal(c.regs[0], 0xdd);
	assert_int_equal(a.writes, 2);
	assert_int_equal(c.writes, 1);
	/* Starts unclaimed, ends in a range. */
	c.regs[0] = 0x5a;
	assert_int_equal(bus_read_val(b, 0x102, 2), 0x5aff);
	assert_false(bus_read(b, 0x102, (uint8_t[2]){ 0 }, 2));
	bus_free(b);
}

/* A device may remove its own range while inside its callback (a BAR
 * moving): the range stays valid until the callback returns. */
static void test_unregister_in_callback(void **state)
{
	struct bus *b = bus_new("io", 0x10000);
	struct recorder a = { .bus = b, .base = 0x200, .unregister_in_write = true };
	assert_int_equal(bus_register(b, 0x200, 4, &rec_ops, &a, "a"), 0);
	bus_write_val(b, 0x200, 1, 1);
	assert_int_equal(a.writes, 1);
	assert_null(bus_owner(b, 0x200));
	bus_write_val(b, 0x200, 1, 1);
	assert_int_equal(a.writes, 1);
	bus_free(b);
}

static void test_many_ranges(void **state)
{
	struct bus *b = bus_new("io", 0x10000);
	static struct recorder r[200];
	/* Registered out of order; lookups must find each. */
	for (int i = 199; i >= 0; i--)
		assert_int_equal(bus_register(b, (uint64_t)i * 8, 4, &rec_ops, &r[i], "r"), 0);
	for (int i = 0; i < 200; i++) {
		bus_write_val(b, (uint64_t)i * 8 + 1, (uint64_t)i, 1);
		assert_int_equal(r[i].regs[1], (uint8_t)i);
		assert_int_equal(bus_read_val(b, (uint64_t)i * 8 + 4, 1), 0xff);
	}
	bus_free(b);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_register_rules), cmocka_unit_test(test_dispatch),
		cmocka_unit_test(test_unclaimed),      cmocka_unit_test(test_straddle),
		cmocka_unit_test(test_unregister_in_callback), cmocka_unit_test(test_many_ranges),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
