/* tablet: the vmmouse absolute pointer from inside a VM. Sets a width= x height= (default
 * 640x480) 32-bit mode through the Bochs VBE (dispi) registers so a VNC viewer's framebuffer
 * has that size, turns the PS/2 mouse on (IRQ 12) and enables vmmouse in absolute mode the
 * way Linux's psmouse vmmouse driver does, prints "ready", then on each IRQ 12 drains the
 * PS/2 packets and reads the vmmouse queue, printing each change of position (raw 0..0xffff
 * and in pixels) or buttons. Ends when the right button is released (or after timeout=
 * seconds, default 300, as a failure). Driven by the real-client tests in tests/vnc/. */
#include "../lib/cmdline.h"
#include "../lib/idt.h"
#include "../lib/io.h"
#include "../lib/pic.h"
#include "../lib/test.h"
#include "../lib/timer.h"
#include "../lib/uart.h"
#include "../lib/vbe.h"
#include "kbc.h"

#define MOUSE_IRQ	12
#define RING_SIZE	256
#define DEFAULT_TIMEOUT 300

/* The VMware backdoor and vmmouse (Linux drivers/input/mouse/vmmouse.c). */
#define VMPORT_MAGIC	 0x564d5868u
#define VMPORT_PORT	 0x5658
#define CMD_GETVERSION	 10
#define CMD_ABS_DATA	 39
#define CMD_ABS_STATUS	 40
#define CMD_ABS_COMMAND	 41
#define CMD_ABS_RESTRICT 86
#define VMMOUSE_ENABLE	 0x45414552u
#define VMMOUSE_ABSOLUTE 0x53424152u
#define VMMOUSE_VERSION	 0x3442554au
#define VMMOUSE_ERROR	 0xffff0000u
#define VMMOUSE_RELATIVE 0x00010000u
#define VMMOUSE_LEFT	 0x20u
#define VMMOUSE_RIGHT	 0x10u
#define VMMOUSE_MIDDLE	 0x08u
#define RESTRICT_CPL0	 0x01

struct vmcall {
	u32 eax, ebx, ecx, edx, esi, edi;
};

/* VMMOUSE_CMD(): one 32-bit IN from the backdoor with the command in ECX. */
static struct vmcall vmport(u32 cmd, u32 in1)
{
	struct vmcall r;

	__asm__ volatile("inl %%dx, %%eax"
			 : "=a"(r.eax), "=b"(r.ebx), "=c"(r.ecx), "=d"(r.edx), "=S"(r.esi),
			   "=D"(r.edi)
			 : "a"(VMPORT_MAGIC), "b"(in1), "c"(cmd), "d"(VMPORT_PORT)
			 : "memory");
	return r;
}

/* ---- the PS/2 side ---- */

static volatile u8 ring[RING_SIZE];
static volatile u32 ring_head, ring_tail, ring_lost;

static void mouse_irq(unsigned irq)
{
	(void)irq;
	if ((inb(KBC_STATUS) & (KBC_STS_OBF | KBC_STS_AUX)) != (KBC_STS_OBF | KBC_STS_AUX))
		return;
	u8 b = inb(KBC_DATA);
	if (ring_head - ring_tail < RING_SIZE)
		ring[ring_head++ % RING_SIZE] = b;
	else
		ring_lost++;
}

static int aux_command(u8 v)
{
	return kbc_aux(v) ? kbc_read() : -1;
}

static bool mouse_setup(void)
{
	int ctr, a, b, c;

	check(kbc_command(0xad) && kbc_command(0xa7), "i8042 accepts commands (0xad, 0xa7)");
	kbc_flush();
	ctr = kbc_read_ctr();
	if (!check(ctr >= 0, "command byte read"))
		return false;
	/* The keyboard stays off; the mouse interface on with IRQ 12. */
	ctr = (ctr & ~(KBC_CTR_AUXDIS | KBC_CTR_KBDINT)) | KBC_CTR_KBDDIS | KBC_CTR_AUXINT |
	      KBC_CTR_SYS;
	check(kbc_write_ctr((u8)ctr) && kbc_command(0xa8), "mouse interface on, IRQ 12 on");
	/* psmouse_reset(): 0xff gives ACK, self-test passed, ID 0. */
	a = aux_command(0xff);
	b = kbc_read();
	c = kbc_read();
	if (!check(a == 0xfa && b == 0xaa && c == 0x00,
		   "mouse reset: ACK, self test passed, ID 0 (0x%02x 0x%02x 0x%02x)", a & 0xff,
		   b & 0xff, c & 0xff))
		return false;
	return check(aux_command(0xf4) == 0xfa, "mouse reporting on") && kbc_flush() == 0;
}

/* ---- vmmouse ---- */

static bool vmmouse_setup(void)
{
	struct vmcall r = vmport(CMD_GETVERSION, ~VMPORT_MAGIC);

	if (!check(r.ebx == VMPORT_MAGIC && r.eax != 0xffffffffu,
		   "backdoor GETVERSION answers the magic in EBX"))
		return false;
	printf("peer: backdoor version %u, type %u\n", r.eax, r.ecx);
	vmport(CMD_ABS_COMMAND, VMMOUSE_ENABLE);
	r = vmport(CMD_ABS_STATUS, 0);
	if (!check((r.eax & 0xffff) != 0 && (r.eax & VMMOUSE_ERROR) != VMMOUSE_ERROR,
		   "vmmouse enabled: its queue holds the version (status 0x%08x)", r.eax))
		return false;
	r = vmport(CMD_ABS_DATA, 1);
	if (!check(r.eax == VMMOUSE_VERSION, "vmmouse version 0x%08x (\"JUB4\")", r.eax))
		return false;
	vmport(CMD_ABS_RESTRICT, RESTRICT_CPL0);
	vmport(CMD_ABS_COMMAND, VMMOUSE_ABSOLUTE);
	r = vmport(CMD_ABS_STATUS, 0);
	return check(r.eax == 0, "absolute mode requested, queue empty (status 0x%08x)", r.eax);
}

static u32 width = 640, height = 480;
static u32 last_x = ~0u, last_y = ~0u, last_buttons = ~0u;
static bool right_seen, released, stop;
static u32 bad_packets, events;

/* Pixel nearest to a 0..0xffff coordinate on a screen of n pixels. */
static u32 pixel(u32 v, u32 n)
{
	return (v * (n - 1) + 0x7fff) / 0xffff;
}

static void report(u32 status, u32 x, u32 y, u32 z)
{
	u32 buttons = status & (VMMOUSE_LEFT | VMMOUSE_RIGHT | VMMOUSE_MIDDLE);

	events++;
	if (status & VMMOUSE_RELATIVE) {
		printf("FAIL: a relative packet in absolute mode (0x%08x %d %d)\n", status, (s32)x,
		       (s32)y);
		test_failures++;
		return;
	}
	if (z)
		printf("wheel: %d\n", -(int)(s32)(int8_t)(u8)z);
	if (x == last_x && y == last_y && buttons == last_buttons)
		return;
	printf("pointer: %u,%u buttons %s%s%s%s\n", pixel(x, width), pixel(y, height),
	       buttons & VMMOUSE_LEFT ? "L" : "", buttons & VMMOUSE_MIDDLE ? "M" : "",
	       buttons & VMMOUSE_RIGHT ? "R" : "", buttons ? "" : "-");
	printf("peer: raw 0x%04x,0x%04x status 0x%08x\n", x, y, status);
	last_x = x;
	last_y = y;
	last_buttons = buttons;
	if (buttons & VMMOUSE_RIGHT)
		right_seen = true;
	else if (right_seen)
		released = true;
}

/* vmmouse_report_events(): read while the queue has events. */
static void read_queue(void)
{
	for (unsigned count = 0; count < 255; count++) {
		struct vmcall r = vmport(CMD_ABS_STATUS, 0);
		u32 queued = r.eax & 0xffff;

		if ((r.eax & VMMOUSE_ERROR) == VMMOUSE_ERROR) {
			printf("FAIL: vmmouse status is the error 0x%08x\n", r.eax);
			test_failures++;
			stop = true;
			return;
		}
		if (queued == 0)
			return;
		if (queued % 4) {
			printf("FAIL: vmmouse queue length %u is not whole events\n", queued);
			test_failures++;
			stop = true;
			return;
		}
		r = vmport(CMD_ABS_DATA, 4);
		report(r.eax, r.ebx, r.ecx, r.edx);
	}
}

void test_main(void)
{
	u64 v, timeout_s = DEFAULT_TIMEOUT;
	u8 pkt[3];
	unsigned n = 0;
	u32 packets = 0;

	if (arg_u64("width", &v))
		width = (u32)v;
	if (arg_u64("height", &v))
		height = (u32)v;
	arg_u64("timeout", &timeout_s);
	printf("tablet: vmmouse absolute pointer on a %ux%u screen, PS/2 mouse on IRQ %u\n", width,
	       height, MOUSE_IRQ);
	if (width < 2 || height < 2 || width > 4096 || height > 4096) {
		check(false, "width and height between 2 and 4096");
		return;
	}
	if (!vbe_set_mode(width, height) || !mouse_setup() || !vmmouse_setup())
		return;

	irq_set_handler(MOUSE_IRQ, mouse_irq);
	pic_unmask(MOUSE_IRQ);
	pit_ticks_start(100);
	printf("ready: move and click; a right click ends\n");
	sti();
	while (!released && !stop) {
		cli();
		while (ring_tail == ring_head && pit_ticks < timeout_s * 100) {
			sti_hlt();
			cli();
		}
		sti();
		if (ring_tail == ring_head)
			break;
		/* The PS/2 packets only say "look": drain them, then read the queue. */
		while (ring_tail != ring_head) {
			pkt[n++] = ring[ring_tail % RING_SIZE];
			ring_tail++;
			if (n == 1 && !(pkt[0] & 0x08)) {
				bad_packets++; /* out of step: resynchronise */
				n = 0;
			}
			if (n == 3) {
				packets++;
				n = 0;
			}
		}
		read_queue();
	}
	cli();
	pic_mask(MOUSE_IRQ);
	pit_ticks_stop();
	sti();
	printf("peer: %u PS/2 packets drained for %u vmmouse events\n", packets, events);
	check(released, "right button pressed and released within %u s", (unsigned)timeout_s);
	check(bad_packets == 0, "every PS/2 packet had its sync bit (%u did not)", bad_packets);
	check(packets > 0, "the PS/2 mouse raised IRQ 12 for the events");
	check(ring_lost == 0, "no PS/2 bytes lost (%u)", ring_lost);
}
