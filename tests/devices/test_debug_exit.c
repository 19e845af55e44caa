/* debug-exit port tests: writes of each size end osio with value & 0xff,
 * reads find nothing. */
#include "hypervisor/platform.h"
#include "tests/devices/harness.h"

#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>
#include <stdlib.h>

static int setup(void **state)
{
	struct harness *h = calloc(1, sizeof(*h));
	assert_non_null(h);
	harness_init(h, 1 << 20);
	harness_add(h, "debug-exit", "debug-exit", NULL);
	*state = h;
	return 0;
}

static int teardown(void **state)
{
	harness_fini(*state);
	free(*state);
	return 0;
}

static void expect_exit(struct harness *h, unsigned before, int status)
{
	assert_int_equal(h->requests, before + 1);
	assert_int_equal(h->last_request, MACHINE_EXIT);
	assert_int_equal(h->last_status, status);
}

static void test_writes(void **state)
{
	struct harness *h = *state;
	houtb(h, PORT_DEBUG_EXIT, 42);
	expect_exit(h, 0, 42);
	houtw(h, PORT_DEBUG_EXIT, 0x1234);
	expect_exit(h, 1, 0x34);
	houtl(h, PORT_DEBUG_EXIT, 0xdeadbe01);
	expect_exit(h, 2, 0x01);
	houtb(h, PORT_DEBUG_EXIT, 0);
	expect_exit(h, 3, 0); /* osio uses the value itself, not (v << 1) | 1 */
	houtb(h, PORT_DEBUG_EXIT, 0xff);
	expect_exit(h, 4, 0xff);
	/* Any port of the 4-byte range. */
	houtb(h, PORT_DEBUG_EXIT + 3, 7);
	expect_exit(h, 5, 7);
	/* Not the port after it. */
	houtb(h, PORT_DEBUG_EXIT + 4, 9);
	assert_int_equal(h->requests, 6);
}

static void test_reads(void **state)
{
	struct harness *h = *state;
	assert_int_equal(hinb(h, PORT_DEBUG_EXIT), 0xff);
	assert_int_equal(hinw(h, PORT_DEBUG_EXIT), 0xffff);
	assert_int_equal(hinl(h, PORT_DEBUG_EXIT), 0xffffffffu);
	assert_int_equal(h->requests, 0);
}

static void test_size_and_base(void **state)
{
	struct harness h;
	harness_init(&h, 1 << 20);
	harness_add(&h, "debug-exit", "dbg", "base=0x501,size=1");
	houtb(&h, 0x502, 5);
	assert_int_equal(h.requests, 0);
	/* A word write at 0x501 reaches it as its low byte. */
	houtw(&h, 0x501, 0x0203);
	expect_exit(&h, 0, 3);
	assert_int_equal(hinb(&h, 0x501), 0xff);
	harness_fini(&h);

	harness_init(&h, 1 << 20);
	harness_add(&h, "debug-exit", "dbg", "size=2");
	houtb(&h, PORT_DEBUG_EXIT + 1, 0x11);
	expect_exit(&h, 0, 0x11);
	houtb(&h, PORT_DEBUG_EXIT + 2, 0x22);
	assert_int_equal(h.requests, 1);
	harness_fini(&h);
}

static void test_bad_args(void **state)
{
	struct harness h;
	harness_init(&h, 1 << 20);
	static const char *const bad[] = {"size=3",	  "size=8",	 "size=0",
					  "base=0x10000", "base=0xfffe", "iobase=0xf4"};
	for (unsigned i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		struct devargs a = {0};
		assert_int_equal(devargs_parse(&a, bad[i]), 0);
		assert_int_equal(machine_add_device(&h.m, "debug-exit", "dbg", &a), -EINVAL);
	}
	struct devargs a = {0};
	assert_int_equal(devargs_parse(&a, "base=0xfffe,size=2"), 0);
	assert_int_equal(machine_add_device(&h.m, "debug-exit", "dbg", &a), 0);
	houtb(&h, 0xffff, 1);
	expect_exit(&h, 0, 1);
	harness_fini(&h);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test_setup_teardown(test_writes, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_reads, setup, teardown),
	    cmocka_unit_test(test_size_and_base),
	    cmocka_unit_test(test_bad_args),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
