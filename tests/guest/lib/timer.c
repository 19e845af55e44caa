/* Delays and timeouts from the 8254 PIT's channel 2 (a 100 Hz square wave
 * polled through port 0x61), and IRQ 0 ticks from channel 0. */
#include "timer.h"
#include "idt.h"
#include "io.h"
#include "pic.h"

volatile u32 pit_ticks;

void timer_init(void)
{
	u16 count = PIT_HZ / (1000 / TIMER_PERIOD_MS);
	u8 v = inb(PORT_61) & 0x0f;

	/* Gate on, speaker data off. */
	outb(PORT_61, (v & ~PORT_61_SPEAKER) | PORT_61_GATE2);
	outb(PIT_CMD, 0xb6); /* channel 2, lobyte/hibyte, mode 3, binary */
	outb(PIT_CH2, count & 0xff);
	outb(PIT_CH2, count >> 8);
}

static bool out2(void)
{
	return inb(PORT_61) & PORT_61_OUT2;
}

void timeout_start(struct timeout *t, u32 ms)
{
	/* One more period than asked: the first edge may come at once. */
	t->left = (ms + TIMER_PERIOD_MS - 1) / TIMER_PERIOD_MS + 1;
	t->last_out = out2();
}

bool timeout_expired(struct timeout *t)
{
	bool out;

	if (t->left == 0)
		return true;
	out = out2();
	if (out && !t->last_out)
		t->left--;
	t->last_out = out;
	return t->left == 0;
}

void delay_ms(u32 ms)
{
	struct timeout t;

	timeout_start(&t, ms);
	while (!timeout_expired(&t))
		pause();
}

static void tick(unsigned irq)
{
	(void)irq;
	pit_ticks++;
}

void pit_ticks_start(u32 hz)
{
	u32 count = hz ? PIT_HZ / hz : 0;

	if (count == 0 || count > 0xffff)
		count = 0xffff;
	pit_ticks = 0;
	irq_set_handler(0, tick);
	outb(PIT_CMD, 0x34); /* channel 0, lobyte/hibyte, mode 2, binary */
	outb(PIT_CH0, count & 0xff);
	outb(PIT_CH0, count >> 8);
	pic_unmask(0);
}

void pit_ticks_stop(void)
{
	pic_mask(0);
	irq_set_handler(0, NULL);
}

void pit_sleep_until(u32 tick)
{
	/* The check and the HLT with interrupts off in between, so that a
	 * tick cannot land between them and leave the CPU asleep. */
	cli();
	while ((s32)(pit_ticks - tick) < 0) {
		sti_hlt();
		cli();
	}
	sti();
}
