/* CMOS RTC (MC146818A): the clock against the host's, the interrupts on IRQ 8,
 * and the CMOS bytes SeaBIOS reads, driven the way SeaBIOS and Linux do. */
#include "devices/rtc.h"
#include "hypervisor/platform.h"
#include "tests/devices/harness.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define REG_A 0x0a
#define REG_B 0x0b
#define REG_C 0x0c
#define REG_D 0x0d
#define MS    1000000ull

static struct harness h;
static void *rtc;

static int setup(void **state)
{
	harness_init(&h, 1 * MiB);
	harness_add(&h, "rtc", "rtc", NULL);
	rtc = machine_device(&h.m, "rtc");
	assert_non_null(rtc);
	return 0;
}

static int teardown(void **state)
{
	harness_fini(&h);
	return 0;
}

static uint8_t rd(uint8_t i)
{
	houtb(&h, PORT_RTC, i);
	return hinb(&h, PORT_RTC + 1);
}

static void wr(uint8_t i, uint8_t v)
{
	houtb(&h, PORT_RTC, i);
	houtb(&h, PORT_RTC + 1, v);
}

static unsigned bcd(uint8_t v)
{
	return (v >> 4) * 10 + (v & 15);
}

static uint8_t to_bcd(unsigned v)
{
	return (uint8_t)((v / 10) << 4 | v % 10);
}

static void sleep_ms(unsigned ms)
{
	struct timespec ts = {.tv_sec = ms / 1000, .tv_nsec = (long)(ms % 1000) * 1000000};
	while (nanosleep(&ts, &ts) < 0 && errno == EINTR)
		;
}

struct regs {
	uint8_t sec, min, hour, wday, mday, mon, year, century;
};

/* Like Linux's mc146818_get_time: wait out UIP, read, and read again if
 * the seconds moved meanwhile. */
static struct regs read_time(void)
{
	struct regs r;
	for (int tries = 0; tries < 100; tries++) {
		while (rd(REG_A) & 0x80)
			;
		r.sec = rd(0x00);
		r.min = rd(0x02);
		r.hour = rd(0x04);
		r.wday = rd(0x06);
		r.mday = rd(0x07);
		r.mon = rd(0x08);
		r.year = rd(0x09);
		r.century = rd(0x32);
		if (rd(0x00) == r.sec)
			return r;
	}
	fail_msg("the seconds never held still");
	return r;
}

/* The time the registers show, in seconds since 1970 (as timegm sees it). */
static time_t regs_epoch(const struct regs *r, bool binary, bool h24)
{
	struct tm tm = {0};
	if (binary) {
		tm.tm_sec = r->sec;
		tm.tm_min = r->min;
		tm.tm_mday = r->mday;
		tm.tm_mon = r->mon - 1;
		tm.tm_year = r->century * 100 + r->year - 1900;
	} else {
		tm.tm_sec = (int)bcd(r->sec);
		tm.tm_min = (int)bcd(r->min);
		tm.tm_mday = (int)bcd(r->mday);
		tm.tm_mon = (int)bcd(r->mon) - 1;
		tm.tm_year = (int)(bcd(r->century) * 100 + bcd(r->year)) - 1900;
	}
	unsigned hour = binary ? (unsigned)(r->hour & 0x7f) : bcd(r->hour & 0x7f);
	if (!h24) {
		assert_in_range(hour, 1, 12);
		hour = hour % 12 + (r->hour & 0x80 ? 12 : 0);
	}
	tm.tm_hour = (int)hour;
	return timegm(&tm);
}

static void check_host_time(bool binary, bool h24)
{
	struct regs r = read_time();
	time_t now = time(NULL);
	time_t t = regs_epoch(&r, binary, h24);
	if (llabs((long long)(t - now)) > 2)
		fail_msg("RTC says %lld, host %lld", (long long)t, (long long)now);
	struct tm g;
	gmtime_r(&t, &g);
	unsigned wday = binary ? r.wday : bcd(r.wday);
	assert_int_equal(wday, g.tm_wday + 1); /* Sunday is 1 */
	unsigned cent = (unsigned)(g.tm_year + 1900) / 100;
	assert_int_equal(r.century, binary ? cent : to_bcd(cent));
}

static void test_time_bcd(void **state)
{
	assert_int_equal(rd(REG_A), 0x26); /* PC default: 32.768 kHz, 1024 Hz */
	assert_int_equal(rd(REG_B), 0x02); /* 24-hour, BCD */
	assert_int_equal(rd(REG_D), 0x80); /* valid RAM and time */
	check_host_time(false, true);
	assert_int_equal(rd(0x32), 0x20); /* the century byte, BCD */
}

static void test_time_binary(void **state)
{
	wr(REG_B, 0x06);
	check_host_time(true, true);
	assert_int_equal(rd(0x32), 20);
}

static void test_time_12h(void **state)
{
	wr(REG_B, 0x00);
	check_host_time(false, false);
	wr(REG_B, 0x04);
	check_host_time(true, false);

	/* 11 PM, 12 AM and 12 PM in 12-hour BCD read back in 24-hour form. */
	static const uint8_t h12[] = {0x91, 0x12, 0x92, 0x01};
	static const uint8_t h24[] = {0x23, 0x00, 0x12, 0x01};
	for (size_t i = 0; i < sizeof(h12); i++) {
		wr(REG_B, 0x80); /* SET, 12-hour, BCD */
		wr(0x04, h12[i]);
		wr(0x02, 0x10);
		wr(0x00, 0x00);
		wr(REG_B, 0x00);
		assert_int_equal(rd(0x04), h12[i]);
		wr(REG_B, 0x02);
		assert_int_equal(rd(0x04), h24[i]);
	}
}

static void check_memory(uint64_t below, uint64_t above, unsigned cpus, const uint8_t *want)
{
	struct harness m;
	harness_init(&m, 1 * MiB);
	m.m.ram_below_4g = below;
	m.m.ram_above_4g = above;
	m.m.cpus = cpus;
	harness_add(&m, "rtc", "rtc", NULL);
	void *r = machine_device(&m.m, "rtc");
	/* want: 0x15-0x18, 0x30, 0x31, 0x34, 0x35, 0x5b-0x5d, 0x5f */
	static const uint8_t idx[] = {0x15, 0x16, 0x17, 0x18, 0x30, 0x31,
				      0x34, 0x35, 0x5b, 0x5c, 0x5d, 0x5f};
	for (size_t i = 0; i < sizeof(idx); i++) {
		houtb(&m, PORT_RTC, idx[i]);
		uint8_t got = hinb(&m, PORT_RTC + 1);
		if (got != want[i])
			fail_msg("CMOS 0x%02x: 0x%02x, expected 0x%02x", idx[i], got, want[i]);
		assert_int_equal(rtc_get_cmos(r, idx[i]), want[i]);
	}
	houtb(&m, PORT_RTC, 0x10);
	assert_int_equal(hinb(&m, PORT_RTC + 1), 0x00); /* no floppy drives */
	houtb(&m, PORT_RTC, 0x14);
	assert_int_equal(hinb(&m, PORT_RTC + 1), 0x06); /* FPU, PS/2 mouse, VGA */
	unsigned sum = 0;
	for (uint8_t i = 0x10; i <= 0x2d; i++) {
		houtb(&m, PORT_RTC, i);
		sum += hinb(&m, PORT_RTC + 1);
	}
	houtb(&m, PORT_RTC, 0x2e);
	unsigned hi = hinb(&m, PORT_RTC + 1);
	houtb(&m, PORT_RTC, 0x2f);
	unsigned lo = hinb(&m, PORT_RTC + 1);
	assert_int_equal(hi << 8 | lo, sum);
	m.m.ram_below_4g = m.m.ram_above_4g = 0;
	harness_fini(&m);
}

static void test_memory_bytes(void **state)
{
	/* 16 MiB: 15360 KiB above 1 MiB, nothing above 16 MiB */
	check_memory(16 * MiB, 0, 1,
		     (const uint8_t[]){0x80, 0x02, 0x00, 0x3c, 0x00, 0x3c, 0, 0, 0, 0, 0, 0});
	/* 128 MiB: extended memory capped at 0xffff KiB; 112 MiB / 64 KiB = 0x700 */
	check_memory(128 * MiB, 0, 2,
		     (const uint8_t[]){0x80, 0x02, 0xff, 0xff, 0xff, 0xff, 0x00, 0x07, 0, 0, 0, 1});
	/* 3 GiB, all below 4 GiB: (3G - 16M) / 64K = 0xbf00 */
	check_memory(3 * GiB, 0, 4,
		     (const uint8_t[]){0x80, 0x02, 0xff, 0xff, 0xff, 0xff, 0x00, 0xbf, 0, 0, 0, 3});
	/* 5 GiB: 3 GiB below the PCI hole, 2 GiB above 4 GiB = 0x8000 units */
	check_memory(
	    LOWMEM_SPLIT, 5 * GiB - LOWMEM_SPLIT, 8,
	    (const uint8_t[]){0x80, 0x02, 0xff, 0xff, 0xff, 0xff, 0x00, 0xbf, 0x00, 0x80, 0x00, 7});
}

static unsigned checksum(void)
{
	return (unsigned)rd(0x2e) << 8 | rd(0x2f);
}

static void test_set_cmos_and_checksum(void **state)
{
	unsigned before = checksum();
	rtc_set_cmos(rtc, CMOS_DISK, 0xf0);
	assert_int_equal(rd(CMOS_DISK), 0xf0);
	assert_int_equal(checksum(), before + 0xf0);
	/* Boot order bytes are outside the checksum. */
	rtc_set_cmos(rtc, CMOS_BOOT_ORDER, 0x21);
	assert_int_equal(rd(CMOS_BOOT_ORDER), 0x21);
	assert_int_equal(rtc_get_cmos(rtc, CMOS_BOOT_ORDER), 0x21);
	assert_int_equal(checksum(), before + 0xf0);
	/* A guest write does not fix the checksum, as on real hardware. */
	wr(0x11, 0x01);
	assert_int_equal(checksum(), before + 0xf0);
	/* Nothing from 128 up. */
	rtc_set_cmos(rtc, 200, 1);
	assert_int_equal(rtc_get_cmos(rtc, 200), 0xff);
	/* Reading C through the API leaves it alone. */
	wr(REG_A, 0x20);
	wr(REG_B, 0x02);
	rd(REG_C);
	sleep_ms(1100);
	/* UF (AF too if this runs at midnight: the alarm reads 00:00:00) */
	assert_int_equal(rtc_get_cmos(rtc, REG_C) & 0xd0, 0x10);
	assert_int_equal(rd(REG_C) & 0xd0, 0x10);
	assert_int_equal(rd(REG_C) & 0xd0, 0x00);
}

static void test_uip_edge(void **state)
{
	/* Poll UIP like a guest waiting for an update. A busy machine may
	 * hide some 244 us windows from the poller, so this takes the first
	 * two edges seen in up to 10 s and checks that they fall a whole
	 * number of seconds apart. */
	uint64_t end = clock_ns() + 10000 * MS, rise[2] = {0}, rise_at = 0, high_max = 0;
	unsigned n = 0;
	bool was = false;
	uint8_t sec_low = rd(0x00), sec_before = 0;
	while (clock_ns() < end && (n < 2 || was)) {
		bool uip = rd(REG_A) & 0x80;
		uint64_t t = clock_ns();
		if (uip && !was) {
			if (n < 2)
				rise[n] = t;
			n++;
			rise_at = t;
			sec_before = sec_low;
		}
		if (!uip && was) {
			if (t - rise_at > high_max)
				high_max = t - rise_at;
			/* the update is done: the seconds moved on */
			assert_int_not_equal(rd(0x00), sec_before);
		}
		if (!uip)
			sec_low = rd(0x00);
		was = uip;
	}
	assert_true(n >= 2);
	uint64_t delta = rise[1] - rise[0];
	uint64_t k = (delta + 500 * MS) / (1000 * MS);
	assert_true(k >= 1);
	assert_true(delta > k * 1000 * MS - 100 * MS && delta < k * 1000 * MS + 100 * MS);
	assert_true(high_max < 200 * MS); /* 244 us, plus whatever polling adds */
}

static void test_set_freezes(void **state)
{
	wr(REG_B, 0x82); /* SET */
	assert_false(rd(REG_A) & 0x80);
	wr(0x00, 0x06);
	wr(0x02, 0x05);
	wr(0x04, 0x04);
	wr(0x07, 0x03);
	wr(0x08, 0x02);
	wr(0x09, 0x01);
	wr(0x32, 0x20);
	sleep_ms(1300);
	assert_int_equal(rd(0x00), 0x06); /* frozen */
	assert_false(rd(REG_A) & 0x80);
	wr(REG_B, 0x02);
	sleep_ms(1300);
	struct regs r = read_time();
	assert_in_range(r.sec, 0x07, 0x09);
	assert_int_equal(r.min, 0x05);
	assert_int_equal(r.hour, 0x04);
	assert_int_equal(r.mday, 0x03);
	assert_int_equal(r.mon, 0x02);
	assert_int_equal(r.year, 0x01);
	assert_int_equal(r.century, 0x20);
	assert_int_equal(r.wday, 7); /* 2001-02-03 was a Saturday */

	/* A write while running: the clock counts on from it. */
	wr(0x02, 0x30);
	assert_int_equal(rd(0x02), 0x30);
	assert_in_range(rd(0x00), 0x07, 0x09);
	/* The guest's day of week is its own counter from then on. */
	wr(0x06, 0x02);
	assert_int_equal(rd(0x06), 0x02);
	wr(REG_B, 0x82);
	wr(0x07, 0x04); /* the next day */
	wr(REG_B, 0x02);
	assert_int_equal(rd(0x06), 0x03);
	assert_int_equal(rd(0x07), 0x04);

	/* Year 2099 rolls over into the next century. */
	wr(REG_B, 0x82);
	wr(0x00, 0x59);
	wr(0x02, 0x59);
	wr(0x04, 0x23);
	wr(0x07, 0x31);
	wr(0x08, 0x12);
	wr(0x09, 0x99);
	wr(0x32, 0x20);
	wr(REG_B, 0x02);
	sleep_ms(1200);
	r = read_time();
	assert_int_equal(r.year, 0x00);
	assert_int_equal(r.century, 0x21);
	assert_int_equal(r.mon, 0x01);
	assert_int_equal(r.mday, 0x01);
}

static void test_divider_halt(void **state)
{
	wr(REG_A, 0x76); /* divider in reset */
	uint8_t s = rd(0x00), m = rd(0x02);
	sleep_ms(1200);
	assert_int_equal(rd(0x00), s);
	assert_int_equal(rd(0x02), m);
	assert_false(rd(REG_A) & 0x80);
	assert_int_equal(rd(REG_A), 0x76);
	/* Out of reset, the first update comes half a second later. */
	wr(REG_A, 0x26);
	uint64_t t0 = clock_ns();
	while (rd(0x00) == s && clock_ns() - t0 < 2000 * MS)
		;
	uint64_t dt = clock_ns() - t0;
	assert_in_range(dt, 480 * MS, 1200 * MS);
}

static bool irq8(void *ctx)
{
	return h.irq_level[IRQ_RTC];
}

/* Services n periodic interrupts as a guest's handler would and returns
 * the time from the first to the last. Each one needs a new tick after the
 * previous read of C, so n - 1 intervals take more than n - 2 periods
 * however late the handler runs. */
static uint64_t service_periodic(unsigned n)
{
	uint64_t first = 0;
	for (unsigned i = 0; i < n; i++) {
		assert_true(harness_run_until(&h, 2000, irq8, NULL));
		if (i == 0)
			first = clock_ns();
		uint8_t c = rd(REG_C);
		assert_int_equal(c & 0xc0, 0xc0); /* IRQF, PF */
		assert_false(h.irq_level[IRQ_RTC]);
	}
	return clock_ns() - first;
}

static void test_periodic_rate(void **state)
{
	wr(REG_A, 0x2b); /* rate 11: 32 Hz, 31.25 ms */
	rd(REG_C);
	wr(REG_B, 0x42); /* PIE */
	uint64_t t = service_periodic(17);
	assert_in_range(t, 15 * 31250000ull, 1500 * MS);

	/* PF is set without PIE too, but the line stays low. */
	wr(REG_B, 0x02);
	rd(REG_C);
	assert_false(h.irq_level[IRQ_RTC]);
	unsigned raised = h.irq_raised[IRQ_RTC];
	harness_run(&h, 100);
	assert_int_equal(rd(REG_C) & 0xc0, 0x40);
	assert_int_equal(h.irq_raised[IRQ_RTC], raised);

	/* The PC default, 1024 Hz (976.5625 us). */
	wr(REG_A, 0x26);
	wr(REG_B, 0x42);
	t = service_periodic(101);
	assert_in_range(t, 99 * 976562ull, 2000 * MS);
	/* Rate 0 stops it. */
	wr(REG_A, 0x20);
	rd(REG_C);
	harness_run(&h, 50);
	assert_false(h.irq_level[IRQ_RTC]);
	assert_int_equal(rd(REG_C) & 0x40, 0x00);
}

static void test_update_interrupt(void **state)
{
	wr(REG_A, 0x20); /* no periodic ticks */
	rd(REG_C);
	wr(REG_B, 0x12); /* UIE */
	assert_true(harness_run_until(&h, 2000, irq8, NULL));
	assert_int_equal(rd(REG_C) & 0xd0, 0x90); /* IRQF | UF */
	assert_false(h.irq_level[IRQ_RTC]);
	assert_int_equal(rd(REG_C) & 0xd0, 0x00); /* reading C cleared it */
	assert_true(harness_run_until(&h, 2000, irq8, NULL));
	assert_int_equal(rd(REG_C) & 0xd0, 0x90);

	/* SET going high clears UIE. */
	wr(REG_B, 0x92);
	assert_int_equal(rd(REG_B), 0x82);
	wr(REG_B, 0x02);

	/* UF without UIE: set, no interrupt. */
	rd(REG_C);
	unsigned raised = h.irq_raised[IRQ_RTC];
	harness_run(&h, 1100);
	assert_int_equal(rd(REG_C) & 0xd0, 0x10);
	assert_int_equal(h.irq_raised[IRQ_RTC], raised);
	/* Enabling UIE with UF pending raises the line at once. */
	harness_run(&h, 1100);
	wr(REG_B, 0x12);
	assert_true(h.irq_level[IRQ_RTC]);
	assert_int_equal(rd(REG_C) & 0xd0, 0x90);
}

static void test_alarm(void **state)
{
	wr(REG_A, 0x20);
	wr(REG_B, 0x82);
	wr(0x04, 0x10); /* 10:59:58 */
	wr(0x02, 0x59);
	wr(0x00, 0x58);
	wr(0x05, 0x11); /* alarm 11:00:00 */
	wr(0x03, 0x00);
	wr(0x01, 0x00);
	wr(REG_B, 0x22); /* AIE, running */
	rd(REG_C);
	uint64_t t0 = clock_ns();
	assert_true(harness_run_until(&h, 4000, irq8, NULL));
	uint64_t dt = clock_ns() - t0;
	assert_in_range(dt, 900 * MS, 4000 * MS);
	uint8_t c = rd(REG_C);
	assert_int_equal(c & 0xa0, 0xa0); /* IRQF | AF */
	assert_int_equal(rd(0x04), 0x11);
	assert_int_equal(rd(0x02), 0x00);
	/* An hour away: nothing in the next second or two. */
	assert_false(harness_run_until(&h, 1500, irq8, NULL));

	/* Don't-care values (0xc0-0xff): every second. */
	wr(0x05, 0xc0);
	wr(0x03, 0xff);
	wr(0x01, 0xc3);
	rd(REG_C);
	assert_true(harness_run_until(&h, 2000, irq8, NULL));
	assert_int_equal(rd(REG_C) & 0xa0, 0xa0);
	assert_true(harness_run_until(&h, 2000, irq8, NULL));
	assert_int_equal(rd(REG_C) & 0xa0, 0xa0);

	/* 12-hour alarm with the PM bit. */
	wr(REG_B, 0xa0); /* SET, AIE, 12-hour BCD */
	wr(0x04, 0x91);	 /* 11:59:59 PM */
	wr(0x02, 0x59);
	wr(0x00, 0x59);
	wr(0x05, 0x12); /* 12 AM */
	wr(0x03, 0x00);
	wr(0x01, 0x00);
	wr(REG_B, 0x20);
	rd(REG_C);
	assert_true(harness_run_until(&h, 3000, irq8, NULL));
	assert_int_equal(rd(REG_C) & 0xa0, 0xa0);
	assert_int_equal(rd(0x04), 0x12);
}

static void test_nmi_mask(void **state)
{
	assert_false(rtc_nmi_masked(rtc));
	houtb(&h, PORT_RTC, 0x8d);
	assert_true(rtc_nmi_masked(rtc));
	assert_int_equal(hinb(&h, PORT_RTC + 1), 0x80); /* register D: bit 7 is not index */
	assert_int_equal(hinb(&h, PORT_RTC), 0xff);	/* the index port is write-only */
	houtb(&h, PORT_RTC, 0x0d);
	assert_false(rtc_nmi_masked(rtc));
	houtb(&h, PORT_RTC, 0xc0); /* index 0x40 with NMIs masked */
	houtb(&h, PORT_RTC + 1, 0x77);
	assert_true(rtc_nmi_masked(rtc));
	assert_int_equal(rd(0x40), 0x77);
}

static void test_reset_keeps_nvram(void **state)
{
	wr(0x40, 0x5a);
	wr(CMOS_SHUTDOWN, 0x0a);
	wr(REG_A, 0x20);
	wr(REG_B, 0x86); /* SET, binary */
	/* The whole date, in binary: the host's BCD month (0x11 in November)
	 * read as binary is month 17, which the update cycle carries into the
	 * year. */
	wr(0x09, 10);
	wr(0x08, 6);
	wr(0x07, 15);
	wr(0x04, 12);
	wr(0x32, 20);
	wr(REG_B, 0x7e); /* PIE AIE UIE SQWE DM 24H; running */
	wr(0x05, 0xc0);
	wr(0x03, 0xc0);
	wr(0x01, 0xc0);
	assert_true(harness_run_until(&h, 2000, irq8, NULL));
	machine_reset_devices(&h.m);
	assert_false(h.irq_level[IRQ_RTC]);
	assert_int_equal(rd(REG_B), 0x06); /* the enables and SQWE are gone */
	assert_int_equal(rd(REG_C), 0x00);
	assert_int_equal(rd(REG_A), 0x20);
	assert_int_equal(rd(0x40), 0x5a);
	assert_int_equal(rd(CMOS_SHUTDOWN), 0x0a);
	assert_int_equal(rd(0x15), 0x80);
	assert_int_equal(rd(0x09), 10); /* the clock kept the year (binary now) */
	assert_false(harness_run_until(&h, 1200, irq8, NULL));
}

static uint32_t rng = 0x9e3779b9;
static uint32_t next_rand(void)
{
	rng ^= rng << 13;
	rng ^= rng >> 17;
	rng ^= rng << 5;
	return rng;
}

static void test_garbage(void **state)
{
	for (int i = 0; i < 200000; i++) {
		uint32_t r = next_rand();
		uint8_t v = (uint8_t)(r >> 8), w = (uint8_t)(r >> 16);
		switch (r % 6) {
		case 0:
			houtb(&h, PORT_RTC, v);
			break;
		case 1:
			houtb(&h, PORT_RTC + 1, v);
			break;
		case 2:
			hinb(&h, PORT_RTC + 1);
			break;
		case 3:
			wr(v & 0x0f, w); /* the clock registers */
			break;
		case 4:
			rtc_set_cmos(rtc, v, w);
			rtc_get_cmos(rtc, w);
			break;
		default:
			houtl(&h, PORT_RTC - 2, r);
			hinl(&h, PORT_RTC);
			break;
		}
		if (i % 20000 == 0)
			harness_run(&h, 2);
	}
	harness_run(&h, 20);
	/* Still a working clock. */
	wr(REG_A, 0x26);
	wr(REG_B, 0x82);
	wr(0x00, 0x00);
	wr(0x02, 0x00);
	wr(0x04, 0x12);
	wr(0x06, 0x01);
	wr(0x07, 0x01);
	wr(0x08, 0x01);
	wr(0x09, 0x24);
	wr(0x32, 0x20);
	wr(REG_B, 0x02);
	sleep_ms(1100);
	struct regs r = read_time();
	assert_in_range(r.sec, 0x01, 0x02);
	assert_int_equal(r.hour, 0x12);
	assert_int_equal(r.year, 0x24);
}

static int add(const char *model, const char *id, const char *args)
{
	struct devargs a = {0};
	assert_int_equal(devargs_parse(&a, args), 0);
	return machine_add_device(&h.m, model, id, &a);
}

static void test_arguments(void **state)
{
	assert_int_equal(add("rtc", "r1", "clock=gmt"), -EINVAL);
	assert_int_equal(add("rtc", "r2", "base=0x10000"), -EINVAL);
	assert_int_equal(add("rtc", "r3", "irq=24"), -EINVAL);
	assert_int_equal(add("rtc", "r4", "speed=2"), -EINVAL);
	assert_true(add("rtc", "r5", "base=0x71") < 0); /* overlaps the first */

	/* Another base and IRQ. */
	assert_int_equal(add("rtc", "r6", "base=0x170,irq=9"), 0);
	houtb(&h, 0x170, REG_A);
	houtb(&h, 0x171, 0x20);
	houtb(&h, 0x170, REG_B);
	houtb(&h, 0x171, 0x12);
	houtb(&h, 0x170, REG_C);
	hinb(&h, 0x171);
	uint64_t t0 = clock_ns();
	while (!h.irq_level[9] && clock_ns() - t0 < 2000 * MS)
		harness_run(&h, 1);
	assert_true(h.irq_level[9]);
	assert_false(h.irq_level[IRQ_RTC]);

	/* Local time. */
	assert_int_equal(add("rtc", "r7", "base=0x270,clock=localtime"), 0);
	houtb(&h, 0x270, 0x00);
	uint8_t sec = hinb(&h, 0x271);
	houtb(&h, 0x270, 0x02);
	uint8_t min = hinb(&h, 0x271);
	houtb(&h, 0x270, 0x04);
	uint8_t hour = hinb(&h, 0x271);
	time_t now = time(NULL);
	struct tm lt;
	localtime_r(&now, &lt);
	long rtc_sod = (long)bcd(hour) * 3600 + bcd(min) * 60 + bcd(sec);
	long host_sod = (long)lt.tm_hour * 3600 + lt.tm_min * 60 + lt.tm_sec;
	long diff = labs(rtc_sod - host_sod);
	assert_true(diff <= 2 || diff >= 86400 - 2);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test_setup_teardown(test_time_bcd, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_time_binary, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_time_12h, setup, teardown),
	    cmocka_unit_test(test_memory_bytes),
	    cmocka_unit_test_setup_teardown(test_set_cmos_and_checksum, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_uip_edge, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_set_freezes, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_divider_halt, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_periodic_rate, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_update_interrupt, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_alarm, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_nmi_mask, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_reset_keeps_nvram, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_garbage, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_arguments, setup, teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
