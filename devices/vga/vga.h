/* Standard VGA with the Bochs VBE extensions (device model "vga", PCI
 * 1234:1111, QEMU's -vga std): what the rest of osio may ask of it. */
#ifndef OSIO_VGA_H
#define OSIO_VGA_H

#include "devices/display.h"

#include <stddef.h>

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

#endif
