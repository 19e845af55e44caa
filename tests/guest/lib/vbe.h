/* The standard VGA's Bochs VBE modes from a guest program: the DISPI registers, a
 * 32-bit mode with video on, and the linear framebuffer found (and placed) on PCI. */
#ifndef GUEST_VBE_H
#define GUEST_VBE_H

#include "types.h"

/* Bochs VBE extensions of the standard VGA (QEMU's hw/display/vga.c, Bochs' vbe.h). */
#define DISPI_INDEX    0x1ce
#define DISPI_DATA     0x1cf
#define DISPI_ID       0
#define DISPI_XRES     1
#define DISPI_YRES     2
#define DISPI_BPP      3
#define DISPI_ENABLE   4
#define DISPI_Y_OFFSET 9
#define DISPI_ENABLED  0x01
#define DISPI_LFB      0x40
#define DISPI_ID0      0xb0c0

u16 dispi_read(u16 index);
void dispi_write(u16 index, u16 v);

/* Sets w x h x 32 with the linear framebuffer and turns video on; prints the check. */
bool vbe_set_mode(u32 w, u32 h);

/* The standard VGA's linear framebuffer: its BAR0 (a 32-bit memory BAR), placed where
 * SeaBIOS would if no firmware did, with memory decoding on. 0 (after a FAIL line) if
 * there is none. */
u32 vbe_find_framebuffer(void);

#endif
