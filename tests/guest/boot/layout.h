/* Memory layout and segments of the boot-media programs (El Torito images and MBR disks): one
 * flat image linked at 0x7C00, for the 16-bit stub and thunk (assembly) and the C side alike. */
#ifndef GUEST_BOOT_LAYOUT_H
#define GUEST_BOOT_LAYOUT_H

#define BOOT_ADDR    0x7c00 /* where the BIOS loads the first sector and jumps */
#define RM_STACK_TOP 0x7c00 /* real-mode stack, below the image */

/* GDT: the multiboot library's flat 32-bit selectors (../lib/segments.h) plus 16-bit ones for
 * the way back to real mode. */
#define SEG_CODE16 0x18
#define SEG_DATA16 0x20

/* Offsets of the El Torito boot information table that xorriso's -boot-info-table writes into
 * the boot image (the disk builder writes the same fields): LBA of the primary volume
 * descriptor, LBA of the boot image itself, its length in bytes, a checksum. */
#define BI_PVD	  8
#define BI_FILE	  12
#define BI_LENGTH 16
#define BI_CSUM	  20
#define BI_END	  64

/* Sector size of the boot medium, by stub: the DVD's 2048 or the disk's 512. */
#define CD_SECTOR   2048
#define DISK_SECTOR 512

/* Buffers the BIOS transfers into must be real-mode addressable: 128 KiB below the EBDA that
 * the image (with its BSS and stack) must stay under. */
#define LOW_BUF	     0x60000
#define LOW_BUF_SIZE 0x20000

#endif
