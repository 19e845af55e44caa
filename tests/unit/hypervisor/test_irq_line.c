/* Interrupt lines: several devices on one GSI are wired-OR, and the
 * controller sees only the line's changes. */
#include "hypervisor/machine.h"

#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

struct sink {
	unsigned calls;
	bool level[MACHINE_GSIS];
};

static void sink_set(void *opaque, unsigned gsi, bool level)
{
	struct sink *s = opaque;
	s->calls++;
	s->level[gsi] = level;
}

static void test_wired_or(void **state)
{
	struct machine m;
	struct sink s = { 0 };
	assert_int_equal(machine_init(&m), 0);
	m.set_irq = sink_set;
	m.irq_opaque = &s;
	struct irq_line com1, com3, rtc;
	assert_int_equal(machine_irq_line(&m, 4, &com1), 0);
	assert_int_equal(machine_irq_line(&m, 4, &com3), 0);
	assert_int_equal(machine_irq_line(&m, 8, &rtc), 0);
	assert_int_not_equal(com1.bit, com3.bit);

	irq_line_set(&com1, true);
	assert_true(s.level[4]);
	assert_int_equal(s.calls, 1);
	irq_line_set(&com1, true); /* no change: nothing forwarded */
	irq_line_set(&com3, true);
	assert_int_equal(s.calls, 1);
	irq_line_set(&com1, false); /* COM3 still holds the line */
	assert_true(s.level[4]);
	assert_int_equal(s.calls, 1);
	irq_line_set(&com3, false);
	assert_false(s.level[4]);
	assert_int_equal(s.calls, 2);
	irq_line_set(&rtc, true);
	assert_true(s.level[8]);
	assert_false(s.level[4]);
	machine_destroy(&m);
}

static void test_limits(void **state)
{
	struct machine m;
	assert_int_equal(machine_init(&m), 0);
	struct irq_line l;
	assert_int_equal(machine_irq_line(&m, MACHINE_GSIS, &l), -EINVAL);
	for (int i = 0; i < 32; i++)
		assert_int_equal(machine_irq_line(&m, 5, &l), 0);
	assert_int_equal(machine_irq_line(&m, 5, &l), -ENOSPC);
	/* No controller attached (between resets): levels are kept. */
	irq_line_set(&l, true);
	assert_int_not_equal(m.irq_asserted[5], 0);
	/* Releasing lowers the device's side and frees its bit. */
	irq_line_release(&l);
	assert_int_equal(m.irq_asserted[5], 0);
	assert_null(l.m);
	irq_line_release(&l); /* a released line is ignored */
	assert_int_equal(machine_irq_line(&m, 5, &l), 0);
	assert_int_equal(machine_irq_line(&m, 5, &l), -ENOSPC);
	machine_destroy(&m);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_wired_or),
		cmocka_unit_test(test_limits),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
