/* pit: the 8254 PIT (Intel 8254 datasheet) and port 0x61: the channel 2
 * gate, mode 0 counting down with OUT2 rising at terminal count, the
 * refresh toggle, and channel 0 raising IRQ 0 at a programmed rate, counted
 * over an interval timed by the RTC (a wide tolerance: it checks that the
 * interrupts come, not their exact rate). */
#include "../lib/cmos.h"
#include "../lib/idt.h"
#include "../lib/io.h"
#include "../lib/pic.h"
#include "../lib/test.h"
#include "../lib/timer.h"
#include "../lib/uart.h"

#define TICK_HZ	     100
#define TICK_SECONDS 2

static u16 latch_ch2(void)
{
	u8 lo, hi;

	outb(PIT_CMD, 0x80); /* counter latch, channel 2 */
	lo = inb(PIT_CH2);
	hi = inb(PIT_CH2);
	return lo | (u16)hi << 8;
}

/* Waits up to 3 s (channel 2 time base) for the RTC's seconds to change. */
static bool rtc_next_second(void)
{
	u8 s = cmos_read(RTC_SECONDS);
	struct timeout t;

	timeout_start(&t, 3000);
	while (!timeout_expired(&t))
		if (cmos_read(RTC_SECONDS) != s)
			return true;
	return false;
}

static void gate(void)
{
	u8 v = inb(PORT_61) & 0x0c, g0, g1;

	outb(PORT_61, v);
	g0 = inb(PORT_61) & PORT_61_GATE2;
	outb(PORT_61, v | PORT_61_GATE2);
	g1 = inb(PORT_61) & PORT_61_GATE2;
	check(g0 == 0 && g1 == PORT_61_GATE2,
	      "port 0x61 bit 0 (channel 2 gate) reads back 0 and 1");
}

static void mode0(void)
{
	u16 c1, c2;
	bool low, rose = false, changed = false;
	u8 s;

	/* Gate high, mode 0, count 0xffff (55 ms): OUT2 goes low when the
	 * mode is written and rises when the count reaches zero. */
	outb(PORT_61, (inb(PORT_61) & 0x0c) | PORT_61_GATE2);
	outb(PIT_CMD, 0xb0); /* channel 2, lobyte/hibyte, mode 0, binary */
	outb(PIT_CH2, 0xff);
	outb(PIT_CH2, 0xff);
	low = !(inb(PORT_61) & PORT_61_OUT2);
	c1 = latch_ch2();
	for (int i = 0; i < 1000 && !changed; i++) {
		c2 = latch_ch2();
		changed = c2 < c1;
	}
	check(low, "OUT2 (port 0x61 bit 5) is low once mode 0 is programmed");
	check(changed, "the latched channel 2 count goes down");

	/* Up to two RTC seconds for a 55 ms count. */
	s = cmos_read(RTC_SECONDS);
	for (int edges = 0; edges < 3;) {
		u8 now;

		if (inb(PORT_61) & PORT_61_OUT2) {
			rose = true;
			break;
		}
		now = cmos_read(RTC_SECONDS);
		if (now != s) {
			edges++;
			s = now;
		}
	}
	check(rose, "OUT2 rises at terminal count");
	check(!rose || (inb(PORT_61) & PORT_61_OUT2), "OUT2 stays high after terminal count");
}

static void refresh(void)
{
	bool seen[2] = {false, false};

	for (u32 i = 0; i < 200000 && !(seen[0] && seen[1]); i++)
		seen[(inb(PORT_61) & PORT_61_REFRESH) ? 1 : 0] = true;
	check(seen[0] && seen[1], "port 0x61 bit 4 (refresh) toggles");
}

static void irq0(void)
{
	u32 start, n;
	bool ok;

	pit_ticks_start(TICK_HZ);
	sti();
	ok = rtc_next_second();
	start = pit_ticks;
	for (int i = 0; i < TICK_SECONDS && ok; i++)
		ok = rtc_next_second();
	n = pit_ticks - start;
	cli();
	pit_ticks_stop();
	check(ok, "the RTC seconds advanced (the interval's clock)");
	printf("peer: %u IRQ 0 in %u RTC seconds at %u Hz\n", n, TICK_SECONDS, TICK_HZ);
	check(n >= TICK_HZ * TICK_SECONDS / 10 && n <= TICK_HZ * TICK_SECONDS * 10,
	      "channel 0 raised IRQ 0 a plausible number of times (%u Hz for %u s, 10x tolerance)",
	      TICK_HZ, TICK_SECONDS);
}

void test_main(void)
{
	printf("pit: 8254 channel 2 through port 0x61, channel 0 on IRQ 0\n");
	gate();
	mode0();
	refresh();
	timer_init(); /* channel 2 back as the library's time base */
	irq0();
}
