/* Standard VGA with the Bochs VBE extensions (device model "vga", PCI
 * 1234:1111, QEMU's -vga std): what the rest of osio may ask of it. */
#ifndef OSIO_VGA_H
#define OSIO_VGA_H

#include "devices/display.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* The default VGA BIOS for the ROM BAR (devargs rom=PATH, or rom=none). */
#define VGA_DEFAULT_BIOS "/usr/share/seabios/vgabios-stdvga.bin"

/* The surface the adapter draws into (owned by the device; take a reference
 * with display_get to keep it past the device). */
struct display_surface *vga_surface(void *vga);

/* The characters of the text mode screen, one line per row (each ending in
 * '\n'), trailing spaces trimmed, code page 437 box drawing shown as + - |
 * and blocks as #. *cols and *rows get the text geometry. -EINVAL when the
 * adapter is not in a text mode, -ENOSPC when buf is too small (it then
 * holds the rows that fit). */
int vga_text_snapshot(void *vga, char *buf, size_t size, unsigned *cols, unsigned *rows);

/* The text mode screen's cells as the CRTC scans them from the start
 * address (rows of cols cells; at most VGA_TEXT_MAX_ROWS rows, the first of
 * a taller mode), the cursor, and the 16 colours that attribute values 0-15
 * give through the attribute controller and the DAC as the adapter renders
 * them. *out is malloc'd (free it). -EINVAL when the adapter is not in a
 * text mode, -ENOMEM. */
#define VGA_TEXT_MAX_ROWS 256
struct vga_text {
	unsigned cols, rows;
	unsigned cursor_x, cursor_y;
	bool cursor_visible;  /* enabled, its scan lines in the cell, on the screen */
	bool blink;	      /* attribute bit 7 blinks instead of a bright background */
	uint32_t palette[16]; /* 0xRRGGBB */
	uint8_t cells[];      /* rows * cols pairs: character, attribute */
};
int vga_text_cells(void *vga, struct vga_text **out);

#endif
