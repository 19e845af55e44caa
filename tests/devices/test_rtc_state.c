/* Saved state of the CMOS RTC: the clock a guest set goes on from the saved
 * time (it kept running, as on its battery), CMOS RAM, the index and NMI
 * mask, a pending interrupt stays pending, the update and periodic
 * interrupts come again; a paused RTC raises nothing; damaged states are
 * refused. */
#include "devices/rtc.h"
#include "hypervisor/platform.h"
#include "tests/devices/chipset_state.h"

#include <errno.h>
#include <time.h>

#define REG_A 0x0a
#define REG_B 0x0b
#define REG_C 0x0c

static uint8_t rd(struct harness *h, uint8_t i)
{
	houtb(h, PORT_RTC, i);
	return hinb(h, PORT_RTC + 1);
}

static void wr(struct harness *h, uint8_t i, uint8_t v)
{
	houtb(h, PORT_RTC, i);
	houtb(h, PORT_RTC + 1, v);
}

static void build(struct harness *h)
{
	harness_init(h, 1 << 20);
	harness_add(h, "rtc", "rtc", NULL);
}

/* Seconds since midnight the (BCD, 24-hour) registers show; waits out an
 * update in progress first. */
static unsigned time_of_day(struct harness *h)
{
	while (rd(h, REG_A) & 0x80)
		;
	unsigned s = rd(h, 0), m = rd(h, 2), hr = rd(h, 4);
	return ((hr >> 4) * 10 + (hr & 15)) * 3600 + ((m >> 4) * 10 + (m & 15)) * 60 +
	       (s >> 4) * 10 + (s & 15);
}

static bool irq8(void *ctx)
{
	return ((struct harness *)ctx)->irq_level[IRQ_RTC];
}

/* Sets 2024-02-29 12:00:00 as Linux's rtc driver does (SET, write, clear
 * SET), fills some CMOS RAM, enables the update interrupt and waits for
 * it, leaving it pending; leaves NMIs masked and index 0x45 selected. */
static void drive(struct harness *h)
{
	wr(h, REG_B, 0x82);
	wr(h, 0x00, 0x00);
	wr(h, 0x02, 0x00);
	wr(h, 0x04, 0x12);
	wr(h, 0x07, 0x29);
	wr(h, 0x08, 0x02);
	wr(h, 0x09, 0x24);
	wr(h, 0x32, 0x20);
	wr(h, REG_B, 0x02 | 0x10); /* run, UIE */
	for (unsigned i = 0x40; i < 0x80; i++)
		wr(h, (uint8_t)i, (uint8_t)(i * 7));
	rd(h, REG_C);
	assert_true(harness_run_until(h, 1500, irq8, h));
	houtb(h, PORT_RTC, 0x80 | 0x45);
}

static void test_round_trip(void **state)
{
	struct harness *a = calloc(1, sizeof(*a)), *b = calloc(1, sizeof(*b));
	build(a);
	drive(a);
	struct saved s;
	state_save(a, &s);
	harness_fini(a);

	state_build_load(b, build, &s);
	/* The pending update interrupt is still there, before any access. */
	assert_true(b->irq_level[IRQ_RTC]);
	assert_true(rtc_nmi_masked(machine_device(&b->m, "rtc")));
	/* The index port still selects 0x45. */
	assert_int_equal(hinb(b, PORT_RTC + 1), (uint8_t)(0x45 * 7));
	for (unsigned i = 0x40; i < 0x80; i++)
		assert_int_equal(rd(b, (uint8_t)i), (uint8_t)(i * 7));
	/* IRQF and UF; PF too, as its flag rises without PIE; no alarm. */
	assert_int_equal(rd(b, REG_C) & 0xb0, 0x80 | 0x10);
	assert_false(b->irq_level[IRQ_RTC]);
	/* The guest's clock, not the host's: a second or two after noon on
	 * the day it was set. */
	unsigned t = time_of_day(b);
	assert_true(t >= 12 * 3600 + 1 && t <= 12 * 3600 + 3);
	assert_int_equal(rd(b, 0x07), 0x29);
	assert_int_equal(rd(b, 0x08), 0x02);
	assert_int_equal(rd(b, 0x32), 0x20);
	/* It keeps counting, and raises the next update interrupt. */
	assert_true(harness_run_until(b, 1500, irq8, b));
	assert_true(time_of_day(b) > t);
	harness_fini(b);
	state_free(&s);
	free(a);
	free(b);
}

static unsigned raised(struct harness *h)
{
	return h->irq_raised[IRQ_RTC];
}

static void test_periodic_and_pause(void **state)
{
	struct harness *h = calloc(1, sizeof(*h));
	build(h);
	wr(h, REG_A, 0x2f);	   /* 2 Hz periodic */
	wr(h, REG_B, 0x02 | 0x40); /* PIE */
	rd(h, REG_C);
	assert_true(harness_run_until(h, 1000, irq8, h));
	rd(h, REG_C);
	/* Paused: no timer raises IRQ 8, however long it waits. */
	machine_pause_devices(&h->m, true);
	unsigned n = raised(h);
	harness_run(h, 700);
	/* Firmware set-up reading CMOS meanwhile catches the flags up, and
	 * still raises nothing. */
	rtc_get_cmos(machine_device(&h->m, "rtc"), 0x00);
	assert_int_equal(raised(h), n);
	assert_false(h->irq_level[IRQ_RTC]);
	struct saved s;
	state_save(h, &s);
	/* On resume the tick that came meanwhile is there. */
	machine_pause_devices(&h->m, false);
	assert_true(h->irq_level[IRQ_RTC]);
	harness_fini(h);

	/* Loaded: the periodic interrupt comes again, at its rate. */
	state_build_load(h, build, &s);
	assert_int_equal(rd(h, REG_A) & 0x7f, 0x2f);
	rd(h, REG_C);
	assert_false(h->irq_level[IRQ_RTC]);
	assert_true(harness_run_until(h, 1000, irq8, h));
	assert_int_equal(rd(h, REG_C) & 0x40, 0x40);
	harness_fini(h);
	state_free(&s);
	free(h);
}

static void test_stopped_clock(void **state)
{
	struct harness *h = calloc(1, sizeof(*h));
	build(h);
	/* Saved while the guest holds SET: the registers are the time. */
	wr(h, REG_B, 0x82);
	wr(h, 0x00, 0x30);
	wr(h, 0x02, 0x15);
	wr(h, 0x04, 0x08);
	struct saved s;
	state_save(h, &s);
	harness_fini(h);
	state_build_load(h, build, &s);
	harness_run(h, 1100);
	assert_int_equal(rd(h, 0x00), 0x30);
	assert_int_equal(rd(h, 0x04), 0x08);
	wr(h, REG_B, 0x02);
	unsigned t = time_of_day(h);
	assert_true(t >= 8 * 3600 + 15 * 60 + 30 && t <= 8 * 3600 + 15 * 60 + 31);
	harness_fini(h);
	state_free(&s);
	free(h);
}

static void test_refused(void **state)
{
	struct harness *h = calloc(1, sizeof(*h));
	build(h);
	drive(h);
	struct saved s, bad;
	state_save(h, &s);
	harness_fini(h);
	static const struct state_refusal cases[] = {
	    {"rtc", "index", 0x80, "above its largest value"},
	    {"rtc", "offset_frac", 1000000000, "above its largest value"},
	    {"rtc", "offset_s", 1ull << 50, "out of range"},
	    {"rtc", "synced_s", (uint64_t) - (1ll << 45), "out of range"},
	    {"rtc", "wday_adjust", 7, "above its largest value"},
	    {"rtc", "stopped", 1, "registers A and B say running"},
	};
	state_expect_refusals(h, build, &s, cases, sizeof(cases) / sizeof(cases[0]));
	/* Register C with bits that are never stored; A with UIP. */
	struct vmstate_in *in;
	char err[256];
	uint8_t cmos[128];
	assert_int_equal(vmstate_in_parse(s.buf, s.len, &in, err, sizeof(err)), 0);
	assert_int_equal(vmstate_get_bytes(vmstate_section(in, "rtc"), "cmos", cmos, 128), 0);
	vmstate_in_free(in);
	cmos[REG_C] = 0x81;
	state_edit(&s, "rtc", "cmos", cmos, sizeof(cmos), &bad);
	build(h);
	state_load_fails(h, &bad, "register C");
	harness_fini(h);
	state_free(&bad);
	cmos[REG_C] = 0;
	cmos[REG_A] |= 0x80;
	state_edit(&s, "rtc", "cmos", cmos, sizeof(cmos), &bad);
	build(h);
	state_load_fails(h, &bad, "UIP");
	harness_fini(h);
	state_free(&bad);
	state_edit(&s, "rtc", "cmos", cmos, 64, &bad);
	build(h);
	state_load_fails(h, &bad, "cmos");
	harness_fini(h);
	state_free(&bad);
	state_free(&s);
	free(h);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_round_trip),
	    cmocka_unit_test(test_periodic_and_pause),
	    cmocka_unit_test(test_stopped_clock),
	    cmocka_unit_test(test_refused),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
