/* The i8042 keyboard controller's state shared by its register model (i8042.c) and its saved
 * state (i8042_state.c); nothing outside the two includes it. */
#ifndef OSIO_I8042_INT_H
#define OSIO_I8042_INT_H

#include "devices/i8042.h"

#include "devices/device.h"
#include "devices/ps2.h"
#include "devices/ps2_keys.h"
#include "hypervisor/input.h"
#include "hypervisor/machine.h"
#include "hypervisor/vmstate.h"

#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>

/* Status register (read at 0x64). */
#define STS_OBF	     0x01 /* output buffer full */
#define STS_IBF	     0x02 /* input buffer full: never, writes are handled at once */
#define STS_SYS	     0x04 /* system flag: command byte bit 2 */
#define STS_CMD	     0x08 /* A2: the last write went to 0x64 */
#define STS_UNLOCKED 0x10 /* the keylock does not inhibit the keyboard */
#define STS_AUXOBF   0x20 /* the output buffer holds mouse data */
#define STS_TIMEOUT  0x40 /* never: both devices are always there */
#define STS_PARITY   0x80

/* Command byte (controller RAM byte 0). */
#define CTR_KBDINT  0x01
#define CTR_AUXINT  0x02
#define CTR_SYS	    0x04
#define CTR_IGNLOCK 0x08
#define CTR_KBDDIS  0x10 /* keyboard clock held low: its data waits */
#define CTR_AUXDIS  0x20 /* mouse clock held low: its data waits */
#define CTR_XLATE   0x40

/* Output port (0xD0/0xD1). Bits 4 and 5 are the IRQ1/IRQ12 (output buffer
 * full) lines and are read from the current state; bits 2, 3, 6 and 7 idle
 * high. */
#define OUT_RESET   0x01 /* system reset line, active low */
#define OUT_A20	    0x02
#define OUT_IRQ1    0x10
#define OUT_IRQ12   0x20
#define OUT_POWERON 0xcf

/* Input port (0xC0): keyboard not inhibited (7), colour display (6 clear),
 * no manufacturing jumper (5), and idle data lines. */
#define INPUT_PORT 0xbf

#define REPLY_MAX 4

#define TYPEAHEAD_MAX 256 /* key sequences, about 100 keys pressed and released */

struct i8042 {
	struct machine *m;
	struct irq_line kbd_irq, mouse_irq;
	pthread_mutex_t lock;
	struct ps2_kbd kbd;
	struct ps2_mouse mouse;
	uint8_t ram[32];   /* ram[0] is the command byte */
	uint8_t status;	   /* STS_OBF, STS_AUXOBF, STS_CMD */
	uint8_t obuf;	   /* what port 0x60 reads */
	uint8_t outport;   /* as last written; see OUT_* */
	uint8_t want_data; /* controller command waiting for its data byte */
	bool xlat_break;   /* translation swallowed 0xF0: the next byte gets bit 7 */
	bool reset_req;	   /* reset line pulled: ask once the lock is dropped */
	struct {
		uint8_t v;
		bool aux;
	} reply[REPLY_MAX]; /* controller-made bytes waiting for the buffer */
	unsigned nreply;
	bool irq1, irq12;
	struct ps2_keys keys; /* modifiers held, for Print Screen and Pause */
	/* Keys from viewers waiting for room in the keyboard's own 15-byte
	 * buffer: a viewer or a paste types faster than a guest that has
	 * interrupts off for a while (firmware printing under emulation) reads,
	 * and a real keyboard would lose those keys. */
	struct {
		uint8_t seq[PS2_KEYS_SEQ_MAX];
		uint8_t n;
	} ahead[TYPEAHEAD_MAX];
	unsigned ahead_head, ahead_count;
	uint64_t ahead_dropped;
	/* Typematic: the last key pressed, repeated while it is held. */
	struct evtimer *rep_timer;
	unsigned rep_key; /* 0: nothing repeats */
	uint8_t rep_seq[PS2_KEYS_SEQ_MAX];
	uint8_t rep_n;
	struct input_keyboard kbd_input;
	struct input_pointer mouse_input;
	bool paused; /* IRQ 1 and 12 held as they are, no typematic repeat */
};

#define CTR(c) ((c)->ram[0])

/* Fills the output buffer from what waits and sets IRQ 1 and 12; caller holds the lock. */
void i8042_refresh(struct i8042 *c);
/* The repeat period the typematic byte t asks for. */
uint64_t i8042_typematic_period_ns(uint8_t t);

/* The device model's saved state (i8042_state.c). */
void i8042_save(void *state, struct vmstate_out *out);
int i8042_load(void *state, struct vmstate_section *in);
void i8042_pause(void *state, bool paused);

#endif
