/* PS/2 keyboard and mouse as the i8042 controller sees them: each device takes
 * the bytes the host sends and queues the bytes it sends back. No locking here:
 * the controller that owns them serialises every call. */
#ifndef OSIO_PS2_H
#define OSIO_PS2_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Room for command responses on top of the input limits below. */
#define PS2_QUEUE_SIZE 64
/* A PS/2 keyboard buffers 16 bytes; the controller's output buffer is the
 * 16th, so at most 15 wait here (Linux's i8042 probe flushes at most 16 bytes
 * before it declares the controller dead). The last free byte is kept for the
 * overrun code. */
#define PS2_KBD_INPUT_LIMIT 15
/* Movement packets waiting to be read; motion beyond is accumulated and sent
 * once the host has read these, as a mouse does while its clock is held. */
#define PS2_MOUSE_INPUT_LIMIT 12

/* Mouse buttons, in the bit positions of the first packet byte. */
#define PS2_MOUSE_LEFT	 0x01u
#define PS2_MOUSE_RIGHT	 0x02u
#define PS2_MOUSE_MIDDLE 0x04u

struct ps2_queue {
	uint8_t buf[PS2_QUEUE_SIZE];
	unsigned head, count;
};

struct ps2_kbd {
	struct ps2_queue q;
	uint8_t want_arg;  /* command whose argument byte comes next, or 0 */
	uint8_t set;	   /* scancode set sent: 1 or 2 */
	uint8_t leds;	   /* bit 0 scroll, 1 num, 2 caps lock */
	uint8_t typematic; /* rate/delay byte of 0xF3 (no auto-repeat is made here) */
	bool scanning;	   /* 0xF4/0xF5 */
	bool overrun;	   /* the overrun code ends the queue */
	uint8_t last;	   /* last byte sent, for 0xFE resend */
	uint64_t dropped;  /* key events lost to a full buffer */
};

struct ps2_mouse {
	struct ps2_queue q;
	uint8_t want_arg; /* command whose argument byte comes next, or 0 */
	uint8_t rate;	  /* samples/s */
	uint8_t resolution;
	bool scaling21, remote, reporting, wrap;
	uint8_t id;	  /* 0 standard, 3 IntelliMouse (wheel) */
	uint8_t knock[3]; /* the last three sample rates, oldest first */
	unsigned buttons;
	bool buttons_dirty; /* buttons changed since the last packet */
	bool wake;	    /* a packet is owed even without motion (ps2_mouse_wake) */
	int32_t dx, dy, dz; /* motion not reported yet; PS/2 signs (y up) */
	uint8_t last[4];    /* last packet or response, for 0xFE resend */
	unsigned last_len;
	uint64_t dropped; /* responses or motion lost to full buffers */
};

/* Next byte the device sends, or -1 if it has nothing. */
int ps2_pop(struct ps2_queue *q);
unsigned ps2_queued(const struct ps2_queue *q);

/* The i8042's scancode translation (set 2 to set 1) of one byte; the 0xF0
 * break prefix is the caller's business (it sets bit 7 of the next byte). */
uint8_t ps2_translate(uint8_t set2);

/* Power-on state: set 2, scanning, LEDs off, nothing queued. */
void ps2_kbd_reset(struct ps2_kbd *k);
/* A byte from the host (a command or a command's argument). */
void ps2_kbd_write(struct ps2_kbd *k, uint8_t v);
/* One key press or release as set-2 bytes. false if it was dropped because
 * the buffer is full (counted, and the overrun code queued once) or the
 * keyboard is not scanning. */
bool ps2_kbd_key(struct ps2_kbd *k, const uint8_t *set2, size_t n);

/* Power-on state: stream mode, reporting off, 100 samples/s, 4 counts/mm,
 * scaling 1:1, standard mouse (ID 0). */
void ps2_mouse_reset(struct ps2_mouse *m);
void ps2_mouse_write(struct ps2_mouse *m, uint8_t v);
/* Relative motion (dy > 0: towards the user, i.e. down the screen), wheel
 * detents (dz > 0: towards the user) and the PS2_MOUSE_* buttons now held. */
void ps2_mouse_move(struct ps2_mouse *m, int dx, int dy, int dz, unsigned buttons);
/* Queues movement packets for pending motion while there is room; the
 * controller calls it when it has taken bytes from the queue. */
void ps2_mouse_flush(struct ps2_mouse *m);
/* A packet with the buttons and no motion (unless motion is pending
 * anyway), so that a reporting mouse raises its interrupt: how an absolute
 * pointer on another channel (vmmouse) tells the guest's driver to look.
 * Nothing while the mouse is not reporting, as for motion. */
void ps2_mouse_wake(struct ps2_mouse *m);

/* Saved state (hypervisor/vmstate.h): fields named "kbd.*" and "mouse.*"
 * in the section the controller has open. A load checks every value as a
 * command from the host would have left it and changes nothing on error
 * (-EINVAL after vmstate_fail). */
struct vmstate_out;
struct vmstate_section;
void ps2_kbd_save(const struct ps2_kbd *k, struct vmstate_out *out);
int ps2_kbd_load(struct ps2_kbd *k, struct vmstate_section *in);
void ps2_mouse_save(const struct ps2_mouse *m, struct vmstate_out *out);
int ps2_mouse_load(struct ps2_mouse *m, struct vmstate_section *in);

#endif
