/* ACPI PM1 register tests: status/enable/control bits as ACPI 6.x 4.8
 * defines them, the PM timer's rate and TMR_STS, S5, the SCI level. */
#include "devices/acpi_pm.h"
#include "hypervisor/platform.h"
#include "tests/devices/harness.h"

#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>
#include <stdlib.h>
#include <time.h>

#define STS	(PORT_ACPI_PM + ACPI_PM1_STS_OFF)
#define EN	(PORT_ACPI_PM + ACPI_PM1_EN_OFF)
#define CNT	(PORT_ACPI_PM + ACPI_PM1_CNT_OFF)
#define TMR	(PORT_ACPI_PM + ACPI_PM_TMR_OFF)
#define TMR_TOP (1u << (ACPI_PM_TMR_BITS - 1))

struct ctx {
	struct harness h;
	void *pm;
};

static int setup(void **state)
{
	struct ctx *c = calloc(1, sizeof(*c));
	assert_non_null(c);
	harness_init(&c->h, 1 << 20);
	harness_add(&c->h, "acpi-pm", "acpi-pm", NULL);
	c->pm = machine_device(&c->h.m, "acpi-pm");
	assert_non_null(c->pm);
	*state = c;
	return 0;
}

static int teardown(void **state)
{
	struct ctx *c = *state;
	harness_fini(&c->h);
	free(c);
	return 0;
}

static bool sci(struct ctx *c)
{
	return c->h.irq_level[IRQ_SCI];
}

/* PM1_STS without TMR_STS, which the running timer may set at any time. */
static uint16_t sts(struct ctx *c)
{
	return hinw(&c->h, STS) & (uint16_t)~ACPI_PM1_TMR;
}

static void test_power_on_state(void **state)
{
	struct ctx *c = *state;
	assert_int_equal(sts(c), 0);
	assert_int_equal(hinw(&c->h, EN), 0);
	assert_int_equal(hinw(&c->h, CNT), ACPI_PM1_CNT_SCI_EN);
	assert_int_equal(hinl(&c->h, TMR) >> ACPI_PM_TMR_BITS, 0);
	/* Nothing between PM1_CNT and PM_TMR. */
	assert_int_equal(hinw(&c->h, PORT_ACPI_PM + 6), 0xffff);
	assert_false(sci(c));
	assert_int_equal(c->h.requests, 0);
}

static void test_control(void **state)
{
	struct ctx *c = *state;
	/* SCI_EN reads 1 whatever is written: the platform is always in
	 * ACPI mode. */
	houtw(&c->h, CNT, 0);
	assert_int_equal(hinw(&c->h, CNT), ACPI_PM1_CNT_SCI_EN);
	assert_int_equal(hinb(&c->h, CNT) & 1, 1);
	/* BM_RLD and SLP_TYP read back; GBL_RLS and SLP_EN are write-only. */
	houtw(&c->h, CNT, ACPI_PM1_CNT_BM_RLD | ACPI_PM1_CNT_GBL_RLS);
	assert_int_equal(hinw(&c->h, CNT), ACPI_PM1_CNT_SCI_EN | ACPI_PM1_CNT_BM_RLD);
	houtw(&c->h, CNT, 5u << ACPI_PM1_CNT_SLP_TYP_SHIFT);
	assert_int_equal(hinw(&c->h, CNT), ACPI_PM1_CNT_SCI_EN | 5u << ACPI_PM1_CNT_SLP_TYP_SHIFT);
	/* Reserved bits read 0. */
	houtw(&c->h, CNT, 0xc3f8);
	assert_int_equal(hinw(&c->h, CNT), ACPI_PM1_CNT_SCI_EN);
	/* Byte access: the high byte holds SLP_TYP. */
	houtb(&c->h, CNT + 1, 3 << 2);
	assert_int_equal(hinb(&c->h, CNT + 1), 3 << 2);
	assert_int_equal(hinb(&c->h, CNT), ACPI_PM1_CNT_SCI_EN);
	assert_int_equal(c->h.requests, 0);
}

static void test_enable_bits(void **state)
{
	struct ctx *c = *state;
	houtw(&c->h, EN, 0xffff);
	assert_int_equal(hinw(&c->h, EN), ACPI_PM1_TMR | ACPI_PM1_GBL | ACPI_PM1_PWRBTN |
					      ACPI_PM1_SLPBTN | ACPI_PM1_RTC);
	houtb(&c->h, EN + 1, 0); /* clears PWRBTN_EN, SLPBTN_EN, RTC_EN only */
	assert_int_equal(hinw(&c->h, EN), ACPI_PM1_TMR | ACPI_PM1_GBL);
	/* A 32-bit write at the event block sets status (W1C) and enable. */
	houtl(&c->h, STS, (uint32_t)ACPI_PM1_PWRBTN << 16);
	assert_int_equal(hinw(&c->h, EN), ACPI_PM1_PWRBTN);
	assert_int_equal(hinl(&c->h, STS) >> 16, ACPI_PM1_PWRBTN);
}

static void test_status_write_one_to_clear(void **state)
{
	struct ctx *c = *state;
	acpi_pm_power_button(c->pm);
	assert_int_equal(sts(c), ACPI_PM1_PWRBTN);
	houtw(&c->h, STS, 0); /* writing 0 changes nothing */
	assert_int_equal(sts(c), ACPI_PM1_PWRBTN);
	houtw(&c->h, STS, ACPI_PM1_SLPBTN | ACPI_PM1_RTC); /* other bits: nothing */
	assert_int_equal(sts(c), ACPI_PM1_PWRBTN);
	houtb(&c->h, STS + 1, 1); /* bit 8 through the high byte */
	assert_int_equal(sts(c), 0);

	/* An unsupported sleep request leaves WAK_STS set, cleared by 1. */
	houtw(&c->h, CNT, 1u << ACPI_PM1_CNT_SLP_TYP_SHIFT | ACPI_PM1_CNT_SLP_EN);
	assert_int_equal(sts(c), ACPI_PM1_WAK);
	acpi_pm_power_button(c->pm);
	houtw(&c->h, STS, ACPI_PM1_WAK);
	assert_int_equal(sts(c), ACPI_PM1_PWRBTN);
	houtw(&c->h, STS, 0xffff);
	assert_int_equal(sts(c), 0);
}

static void test_s5(void **state)
{
	struct ctx *c = *state;
	/* Linux's acpi_hw_legacy_sleep: SLP_TYP first, then SLP_TYP|SLP_EN. */
	uint16_t typ = (uint16_t)(ACPI_SLP_TYP_S5 << ACPI_PM1_CNT_SLP_TYP_SHIFT);
	houtw(&c->h, CNT, typ);
	assert_int_equal(c->h.requests, 0);
	houtw(&c->h, CNT, typ | ACPI_PM1_CNT_SLP_EN);
	assert_int_equal(c->h.requests, 1);
	assert_int_equal(c->h.last_request, MACHINE_POWEROFF);
	/* SLP_EN reads 0. */
	assert_int_equal(hinw(&c->h, CNT) & ACPI_PM1_CNT_SLP_EN, 0);
	/* A byte write to the high half does it as well. */
	houtb(&c->h, CNT + 1, (uint8_t)((typ | ACPI_PM1_CNT_SLP_EN) >> 8));
	assert_int_equal(c->h.requests, 2);
	assert_int_equal(c->h.last_request, MACHINE_POWEROFF);
	assert_int_equal(sts(c) & ACPI_PM1_WAK, 0);
}

static void test_other_sleep_types_ignored(void **state)
{
	struct ctx *c = *state;
	for (unsigned typ = 0; typ < 8; typ++) {
		if (typ == ACPI_SLP_TYP_S5)
			continue;
		houtw(&c->h, CNT,
		      (uint16_t)(typ << ACPI_PM1_CNT_SLP_TYP_SHIFT | ACPI_PM1_CNT_SLP_EN));
		assert_int_equal(c->h.requests, 0);
		assert_int_equal(hinw(&c->h, CNT),
				 ACPI_PM1_CNT_SCI_EN | typ << ACPI_PM1_CNT_SLP_TYP_SHIFT);
		/* As if it woke at once, so an OS waiting for WAK_STS goes on. */
		assert_int_equal(sts(c), ACPI_PM1_WAK);
		houtw(&c->h, STS, ACPI_PM1_WAK);
	}
	assert_false(sci(c));
}

static void test_power_button_sci(void **state)
{
	struct ctx *c = *state;
	acpi_pm_power_button(c->pm);
	assert_int_equal(sts(c), ACPI_PM1_PWRBTN);
	assert_false(sci(c)); /* PWRBTN_EN clear */
	houtw(&c->h, EN, ACPI_PM1_PWRBTN);
	assert_true(sci(c)); /* pending status, now enabled */
	assert_int_equal(c->h.irq_raised[IRQ_SCI], 1);
	houtw(&c->h, STS, ACPI_PM1_PWRBTN);
	assert_false(sci(c));
	acpi_pm_power_button(c->pm);
	assert_true(sci(c));
	assert_int_equal(c->h.irq_raised[IRQ_SCI], 2);
	houtw(&c->h, EN, 0);
	assert_false(sci(c)); /* status stays, the line follows the enable */
	assert_int_equal(sts(c), ACPI_PM1_PWRBTN);
	houtw(&c->h, EN, ACPI_PM1_SLPBTN);
	assert_false(sci(c));
	houtw(&c->h, EN, ACPI_PM1_PWRBTN);
	assert_true(sci(c));
	/* No other line moved. */
	for (unsigned i = 0; i < HARNESS_IRQS; i++)
		if (i != IRQ_SCI)
			assert_int_equal(c->h.irq_raised[i], 0);
}

static void test_reset(void **state)
{
	struct ctx *c = *state;
	houtw(&c->h, EN, ACPI_PM1_PWRBTN | ACPI_PM1_TMR);
	houtw(&c->h, CNT, ACPI_PM1_CNT_BM_RLD | 6u << ACPI_PM1_CNT_SLP_TYP_SHIFT);
	acpi_pm_power_button(c->pm);
	assert_true(sci(c));
	machine_reset_devices(&c->h.m);
	assert_false(sci(c));
	assert_int_equal(hinw(&c->h, STS), 0);
	assert_int_equal(hinw(&c->h, EN), 0);
	assert_int_equal(hinw(&c->h, CNT), ACPI_PM1_CNT_SCI_EN);
	acpi_pm_power_button(c->pm);
	assert_false(sci(c));
}

static void sleep_ms(unsigned ms)
{
	struct timespec ts = {.tv_sec = ms / 1000, .tv_nsec = (long)(ms % 1000) * 1000000};
	while (nanosleep(&ts, &ts) != 0)
		;
}

static uint64_t ticks_in(uint64_t ns)
{
	return ns * ACPI_PM_TMR_FREQ / 1000000000ull;
}

static void test_timer_rate(void **state)
{
	struct ctx *c = *state;
	/* Bracket each read by the host clock: the tick count over ~50 ms
	 * must fall between what the inner and outer intervals allow. */
	uint64_t a0 = clock_ns();
	uint32_t v0 = hinl(&c->h, TMR);
	uint64_t a1 = clock_ns();
	sleep_ms(50);
	uint64_t b0 = clock_ns();
	uint32_t v1 = hinl(&c->h, TMR);
	uint64_t b1 = clock_ns();
	assert_int_equal(v0 >> ACPI_PM_TMR_BITS, 0);
	assert_int_equal(v1 >> ACPI_PM_TMR_BITS, 0);
	uint64_t ticks = (v1 - v0) & ((1u << ACPI_PM_TMR_BITS) - 1);
	assert_true(b0 - a1 >= 50000000ull);
	assert_true(ticks + 1 >= ticks_in(b0 - a1));
	assert_true(ticks <= ticks_in(b1 - a0) + 1);
	/* About 179,000 ticks in 50 ms (3.579545 MHz). */
	assert_true(ticks >= 178000);

	/* It never runs backwards between close reads; byte reads work. */
	uint32_t last = hinl(&c->h, TMR);
	for (int i = 0; i < 1000; i++) {
		uint32_t v = hinl(&c->h, TMR);
		assert_true(((v - last) & ((1u << ACPI_PM_TMR_BITS) - 1)) < (1u << 20));
		last = v;
	}
	assert_int_equal(hinb(&c->h, TMR + 3), 0);
	uint16_t lo = hinw(&c->h, TMR);
	assert_true((uint16_t)(hinw(&c->h, TMR) - lo) < 0x8000);
	/* Writes do nothing. */
	uint32_t before = hinl(&c->h, TMR);
	houtl(&c->h, TMR, 0);
	assert_true(((hinl(&c->h, TMR) - before) & ((1u << ACPI_PM_TMR_BITS) - 1)) < (1u << 20));
}

static bool tmr_bit_changed(void *opaque)
{
	void **p = opaque;
	struct ctx *c = p[0];
	uint32_t start = *(uint32_t *)p[1];
	return ((hinl(&c->h, TMR) ^ start) & TMR_TOP) != 0;
}

static bool sci_high(void *opaque)
{
	return sci(opaque);
}

static void test_timer_status_and_sci(void **state)
{
	struct ctx *c = *state;
	uint64_t period_ms = (uint64_t)TMR_TOP * 1000 / ACPI_PM_TMR_FREQ; /* 2343 */

	/* TMR_EN clear: the top bit's toggle sets TMR_STS, no SCI. */
	houtw(&c->h, STS, ACPI_PM1_TMR);
	uint32_t start = hinl(&c->h, TMR);
	void *args[2] = {c, &start};
	assert_true(harness_run_until(&c->h, (unsigned)period_ms + 1000, tmr_bit_changed, args));
	assert_int_equal(hinw(&c->h, STS), ACPI_PM1_TMR);
	assert_false(sci(c));
	/* Enabling it with the status pending raises the SCI at once. */
	houtw(&c->h, EN, ACPI_PM1_TMR);
	assert_true(sci(c));
	houtw(&c->h, STS, ACPI_PM1_TMR);
	assert_false(sci(c));
	assert_int_equal(hinw(&c->h, STS), 0);

	/* TMR_EN set: the event loop's timer raises the SCI at the next
	 * toggle, without the guest reading anything. */
	uint32_t v = hinl(&c->h, TMR);
	uint64_t t0 = clock_ns();
	uint64_t due_ms = ((uint64_t)TMR_TOP - (v & (TMR_TOP - 1))) * 1000 / ACPI_PM_TMR_FREQ;
	unsigned raised = c->h.irq_raised[IRQ_SCI];
	assert_true(harness_run_until(&c->h, (unsigned)period_ms + 1000, sci_high, c));
	uint64_t took_ms = (clock_ns() - t0) / 1000000;
	assert_true(took_ms + 5 >= due_ms);
	assert_true(took_ms <= due_ms + 500);
	assert_int_equal(c->h.irq_raised[IRQ_SCI], raised + 1);
	uint32_t after = hinl(&c->h, TMR);
	assert_true(((after ^ v) & TMR_TOP) != 0);
	assert_int_equal(hinw(&c->h, STS), ACPI_PM1_TMR);
	houtw(&c->h, STS, ACPI_PM1_TMR);
	assert_false(sci(c));
	houtw(&c->h, EN, 0);
}

static void test_bad_args(void **state)
{
	struct harness h;
	harness_init(&h, 1 << 20);
	static const char *const bad[] = {"irq=24", "irq=-1", "base=0xfff8", "base=0x10000",
					  "sci=9"};
	for (unsigned i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		struct devargs a = {0};
		assert_int_equal(devargs_parse(&a, bad[i]), 0);
		assert_int_equal(machine_add_device(&h.m, "acpi-pm", "pm", &a), -EINVAL);
	}
	/* Elsewhere, on another line. */
	struct devargs a = {0};
	assert_int_equal(devargs_parse(&a, "base=0xb000,irq=11"), 0);
	assert_int_equal(machine_add_device(&h.m, "acpi-pm", "pm", &a), 0);
	houtw(&h, 0xb002, ACPI_PM1_PWRBTN);
	acpi_pm_power_button(machine_device(&h.m, "pm"));
	assert_true(h.irq_level[11]);
	assert_false(h.irq_level[IRQ_SCI]);
	assert_int_equal(hinw(&h, 0xb004), ACPI_PM1_CNT_SCI_EN);
	harness_fini(&h);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test_setup_teardown(test_power_on_state, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_control, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_enable_bits, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_status_write_one_to_clear, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_s5, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_other_sleep_types_ignored, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_power_button_sci, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_reset, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_timer_rate, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_timer_status_and_sci, setup, teardown),
	    cmocka_unit_test(test_bad_args),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
