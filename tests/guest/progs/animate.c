/* animate: a guest that redraws a whole 32-bit Bochs VBE screen (default 1024x768) as fast as
 * it can, for scripts/bench-vnc. Finds the standard VGA on PCI, sets the mode through the DISPI
 * ports, then draws frame after frame: each row one colour that changes every frame (a gradient
 * scrolling through the colours), one REP STOSD a row so the frame costs few instructions
 * (kvm_pvm's emulator still takes ~0.2 us a dword: about 6 frames/s at 1024x768). Prints "frame N"
 * every every= frames (default 30), forever, or until frames= frames; then with hold=1 it keeps the
 * last frame and halts (an idle screen), else it ends with the RESULT line. Arguments: width=
 * height= (multiples of 8, 64..2560 by 64..1600), frames= (0: forever), every=, hold=. */
#include "../lib/cmdline.h"
#include "../lib/io.h"
#include "../lib/multiboot.h"
#include "../lib/pci.h"
#include "../lib/test.h"
#include "../lib/uart.h"
#include "../lib/vbe.h"

#define DEFAULT_EVERY  30
#define DEFAULT_WIDTH  1024
#define DEFAULT_HEIGHT 768

/* n copies of v from dst on: one instruction however long the row. */
static inline void fill32(u32 dst, u32 v, u32 n)
{
	__asm__ volatile("cld; rep stosl" : "+D"(dst), "+c"(n) : "a"(v) : "memory");
}

/* Frame f: row y is (f * 0x050301 + y * 0x010101) in 24 bits, a gradient that moves down
 * and through the colours; every row changes from one frame to the next (the step
 * 0x050301 is not 0 modulo 2^24), so every pixel does. */
static void draw(u32 fb, u32 w, u32 h, u32 f)
{
	u32 c = f * 0x050301u, pitch = w * 4;

	for (u32 y = 0; y < h; y++, fb += pitch, c += 0x010101u)
		fill32(fb, c & 0xffffffu, w);
}

static u32 fb, width = DEFAULT_WIDTH, height = DEFAULT_HEIGHT, frames, every = DEFAULT_EVERY;
static u32 drawn;
static bool flip;

/* The frames: draw(), and a line every every= frames. */
static void animate(void)
{
	u32 f;

	for (f = 1; !frames || f <= frames; f++) {
		draw(fb, width, height, f);
		/* "Show it": the display start register, as a page-flipping program writes it
		 * each frame (here always the one page). */
		if (flip)
			dispi_write(DISPI_Y_OFFSET, 0);
		if (f % every == 0)
			printf("frame %u\n", f);
	}
	drawn = f - 1;
}

void test_main(void)
{
	u64 w = DEFAULT_WIDTH, h = DEFAULT_HEIGHT, n = 0, e = DEFAULT_EVERY, hold = 0, fl = 0;

	arg_u64("width", &w);
	arg_u64("height", &h);
	arg_u64("frames", &n);
	arg_u64("every", &e);
	arg_u64("hold", &hold);
	arg_u64("flip", &fl);
	flip = fl != 0;
	printf("animate: %ux%ux32, %s frames, a line every %u\n", (u32)w, (u32)h,
	       n ? "a fixed number of" : "endless", (u32)e);
	if (!check(w >= 64 && w <= 2560 && h >= 64 && h <= 1600 && w % 8 == 0 && h % 8 == 0,
		   "width and height are multiples of 8 within 64..2560 x 64..1600") ||
	    !check(e >= 1 && e <= 1000000 && n <= 0xffffffffu,
		   "every= is 1..1000000, frames= fits 32 bits"))
		return;
	width = (u32)w;
	height = (u32)h;
	frames = (u32)n;
	every = (u32)e;
	fb = vbe_find_framebuffer();
	/* Paging is off: the frame must end below 4 GiB (the VGA checks that its VRAM holds it). */
	if (!fb || !check(fb <= 0xffffffffu - width * height * 4, "the mode fits below 4 GiB") ||
	    !vbe_set_mode(width, height))
		return;
	printf("drawing\n");
	animate();
	printf("done: %u frames\n", drawn);
	if (hold) {
		printf("hold: the last frame stays on the screen, the CPU halts\n");
		console_flush();
		halt_forever();
	}
}
