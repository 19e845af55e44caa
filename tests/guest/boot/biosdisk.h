/* int 13h disk services for the boot-media programs (Phoenix/IBM "BIOS Enhanced Disk Drive
 * Services" for AH=41h/42h/48h, the IBM PC BIOS for AH=02h/08h), on the bounce buffer below
 * 1 MiB. */
#ifndef GUEST_BOOT_BIOSDISK_H
#define GUEST_BOOT_BIOSDISK_H

#include "../lib/types.h"

/* AH=41h: extensions present; the API subset bits (CX) and version (AH) come back. */
bool bios_ext_present(u8 drive, u16 *subsets, u8 *version);

/* AH=48h result (the fields every version has). */
struct bios_drive_params {
	u16 size;
	u16 flags;
	u32 cylinders, heads, spt;
	u64 sectors;
	u16 sector_size;
} __attribute__((packed));

/* AH=48h: returns the BIOS status (AH, 0 = success). */
u8 bios_drive_params(u8 drive, struct bios_drive_params *p);
/* AH=42h: count sectors at lba into the linear address buf (below 1 MiB); the BIOS status is
 * returned, the sectors it says it transferred in *done. */
u8 bios_ext_read(u8 drive, u64 lba, u16 count, u32 buf, u16 *done);
/* AH=08h: the CHS geometry (cylinders, heads, sectors per track); the BIOS status. */
u8 bios_geometry(u8 drive, u32 *cyls, u32 *heads, u32 *spt);
/* AH=02h: count sectors from C/H/S into buf; the BIOS status, sectors done in *done. */
u8 bios_chs_read(u8 drive, u32 cyl, u32 head, u32 sector, u8 count, u32 buf, u8 *done);

#endif
