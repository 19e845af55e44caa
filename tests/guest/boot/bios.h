/* BIOS services for the boot-media programs: bioscall() drops back to real mode for one
 * software interrupt (int 10h, 13h, 15h...) and returns to 32-bit protected mode. Buffers the
 * BIOS reads or writes must lie below 1 MiB: LOW_BUF (layout.h) is kept free for them. */
#ifndef GUEST_BOOT_BIOS_H
#define GUEST_BOOT_BIOS_H

#include "../lib/types.h"
#include "layout.h"

struct bregs {
	u32 eax, ebx, ecx, edx, esi, edi, ebp;
	u16 ds, es;
	u32 eflags;
} __attribute__((packed));

#define BREGS_CF 0x0001

/* The drive number the BIOS passed in DL (0xE0.. for an El Torito DVD, 0x80 for a disk). */
extern u8 boot_drive;

/* Runs INT vec in real mode with the registers in *r (segments included) and stores what the
 * BIOS returned in *r. Interrupts are on while the BIOS works and off again afterwards. */
void bioscall(u8 vec, struct bregs *r);

/* A real-mode segment:offset pointer for a buffer below 1 MiB. */
static inline u16 rm_seg(u32 addr)
{
	return (u16)(addr >> 4);
}

static inline u16 rm_off(u32 addr)
{
	return (u16)(addr & 0xf);
}

/* A far pointer (segment:offset, as the BIOS returns them) as a linear address. */
static inline u32 rm_linear(u32 farptr)
{
	return ((farptr >> 16) << 4) + (farptr & 0xffff);
}

/* Reads of the BIOS data area and other low memory (the compiler refuses plain dereferences of
 * addresses inside the first page). */
static inline u8 peek8(u32 addr)
{
	u8 v;

	__asm__ volatile("movb (%1), %0" : "=q"(v) : "r"(addr) : "memory");
	return v;
}

static inline u16 peek16(u32 addr)
{
	u16 v;

	__asm__ volatile("movw (%1), %0" : "=r"(v) : "r"(addr) : "memory");
	return v;
}

#define BDA_VIDEO_MODE 0x449
#define BDA_COLUMNS    0x44a
#define BDA_CURSOR0    0x450 /* page 0: column, then row */

/* Medium sector size this image was built for (stub_cd or stub_disk). */
extern const u32 boot_sector_size;

#endif
