/* Time for the guest programs from the 8254 PIT, never from instruction
 * counts (those differ 100x between QEMU TCG and an emulating KVM):
 * channel 2 runs free as a 100 Hz square wave whose rising edges, seen on
 * port 0x61 bit 5, count 10 ms periods for delays and timeouts; channel 0
 * can tick IRQ 0 for programs that wait with HLT. */
#ifndef GUEST_TIMER_H
#define GUEST_TIMER_H

#include "types.h"

#define PIT_HZ		1193182u
#define PIT_CH0		0x40
#define PIT_CH2		0x42
#define PIT_CMD		0x43
#define PORT_61		0x61
#define PORT_61_GATE2	0x01
#define PORT_61_SPEAKER 0x02
#define PORT_61_REFRESH 0x10
#define PORT_61_OUT2	0x20

#define TIMER_PERIOD_MS 10

/* Starts channel 2 as the time base (mode 3, 100 Hz, speaker off). */
void timer_init(void);

/* A deadline counted in channel 2 periods; any number may run at once. It
 * only advances while polled (at least every 5 ms to be exact): a program
 * that polls less often waits longer, never shorter. */
struct timeout {
	u32 left;
	bool last_out;
};

void timeout_start(struct timeout *t, u32 ms);
bool timeout_expired(struct timeout *t);
/* Waits at least ms milliseconds (10 ms resolution, polling). */
void delay_ms(u32 ms);

/* IRQ 0 ticks: channel 0 in mode 2 at hz, counted in pit_ticks (the PIC
 * must be initialized; interrupts are left as they are). */
extern volatile u32 pit_ticks;
void pit_ticks_start(u32 hz);
void pit_ticks_stop(void);
/* Sleeps with HLT until pit_ticks reaches tick (a wrapping comparison);
 * interrupts are enabled on return. */
void pit_sleep_until(u32 tick);

#endif
