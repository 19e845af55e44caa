/* Screen helpers for the VGA boot programs: BIOS video calls (int 10h, VBE 2.0), the DAC, the
 * Bochs dispi registers, and holding a finished picture until the runner took its screenshot. */
#ifndef GUEST_BOOT_SCREEN_H
#define GUEST_BOOT_SCREEN_H

#include "../lib/types.h"

#define VGA_TEXT_BUF 0xb8000u
#define VGA_GFX_BUF  0xa0000u

/* int 10h AH=00h: sets a standard mode (3 = 80x25 text, 0x13 = 320x200x256). */
void bios_set_mode(u8 mode);
/* int 10h AH=02h: the cursor of page 0. */
void bios_set_cursor(u8 row, u8 col);

/* The DAC (ports 0x3C8/0x3C9): 6-bit components. */
void dac_set(u8 index, u8 r, u8 g, u8 b);

/* VBE 2.0 mode information (the fields used here). */
struct vbe_mode {
	u16 number;
	u16 attributes;
	u16 pitch;
	u16 width, height;
	u8 bpp, memory_model;
	u32 lfb;
};

/* Finds a mode with this geometry and a linear frame buffer in the controller's mode list
 * (AX=4F00h, 4F01h); false if there is none. */
bool vbe_find_mode(u16 width, u16 height, u8 bpp, struct vbe_mode *m);
/* AX=4F02h with the linear frame buffer; the VBE status (0x004f = success). */
u16 vbe_set_mode(u16 number);

/* Bochs VBE "dispi" registers through ports 0x1CE (index) and 0x1CF (data). */
u16 dispi_read(u16 index);

/* Mask rectangle for the runner: pixels that may legitimately differ between VMMs. */
void screen_mask(u32 x, u32 y, u32 w, u32 h, const char *why);
/* Probe pixel for the runner: this pixel must have this colour (0xRRGGBB) in the screenshot. */
void screen_probe(u32 x, u32 y, u32 rgb, const char *what);
/* Prints "screen: ready" and waits for a byte on COM1 (the runner sends it after taking the
 * screenshot). */
void screen_hold(void);

#endif
