/* Layout of the Linux x86 boot protocol (Documentation/arch/x86/boot.rst and zero-page.rst):
 * offsets shared by the setup code, the entry code, the checks and the image builder. */
#ifndef BZ_BOOTPARAM_H
#define BZ_BOOTPARAM_H

/* Setup header offsets inside the image and inside boot_params (the same). */
#define HDR_START	       0x1f1
#define HDR_SETUP_SECTS	       0x1f1
#define HDR_ROOT_FLAGS	       0x1f2
#define HDR_SYSSIZE	       0x1f4
#define HDR_RAM_SIZE	       0x1f8
#define HDR_VID_MODE	       0x1fa
#define HDR_ROOT_DEV	       0x1fc
#define HDR_BOOT_FLAG	       0x1fe
#define HDR_JUMP	       0x200
#define HDR_MAGIC	       0x202
#define HDR_VERSION	       0x206
#define HDR_REALMODE_SWTCH     0x208
#define HDR_START_SYS_SEG      0x20c
#define HDR_KERNEL_VERSION     0x20e
#define HDR_TYPE_OF_LOADER     0x210
#define HDR_LOADFLAGS	       0x211
#define HDR_SETUP_MOVE_SIZE    0x212
#define HDR_CODE32_START       0x214
#define HDR_RAMDISK_IMAGE      0x218
#define HDR_RAMDISK_SIZE       0x21c
#define HDR_BOOTSECT_KLUDGE    0x220
#define HDR_HEAP_END_PTR       0x224
#define HDR_EXT_LOADER_VER     0x226
#define HDR_EXT_LOADER_TYPE    0x227
#define HDR_CMD_LINE_PTR       0x228
#define HDR_INITRD_ADDR_MAX    0x22c
#define HDR_KERNEL_ALIGNMENT   0x230
#define HDR_RELOCATABLE	       0x234
#define HDR_MIN_ALIGNMENT      0x235
#define HDR_XLOADFLAGS	       0x236
#define HDR_CMDLINE_SIZE       0x238
#define HDR_HW_SUBARCH	       0x23c
#define HDR_HW_SUBARCH_DATA    0x240
#define HDR_PAYLOAD_OFFSET     0x248
#define HDR_PAYLOAD_LENGTH     0x24c
#define HDR_SETUP_DATA	       0x250
#define HDR_PREF_ADDRESS       0x258
#define HDR_INIT_SIZE	       0x260
#define HDR_HANDOVER_OFFSET    0x264
#define HDR_KERNEL_INFO_OFFSET 0x268
#define HDR_END		       0x26c /* 0x202 + the jump's displacement byte at 0x201 */

#define HDR_MAGIC_VALUE 0x53726448 /* "HdrS" */
#define BOOT_FLAG_VALUE 0xaa55
#define BOOT_PROTOCOL	0x020f

#define LOADED_HIGH   0x01
#define KASLR_FLAG    0x02
#define QUIET_FLAG    0x20
#define KEEP_SEGMENTS 0x40
#define CAN_USE_HEAP  0x80

#define XLF_KERNEL_64		   0x01
#define XLF_CAN_BE_LOADED_ABOVE_4G 0x02

/* boot_params (the "zero page") outside the setup header. */
#define BP_SIZE		     0x1000
#define BP_SCREEN_INFO	     0x000
#define BP_ACPI_RSDP_ADDR    0x070
#define BP_EXT_RAMDISK_IMAGE 0x0c0
#define BP_EXT_RAMDISK_SIZE  0x0c4
#define BP_EXT_CMD_LINE_PTR  0x0c8
#define BP_ALT_MEM_K	     0x1e0
#define BP_E820_ENTRIES	     0x1e8
#define BP_SENTINEL	     0x1ef
#define BP_E820_TABLE	     0x2d0
#define E820_MAX_ENTRIES     128
#define E820_ENTRY_SIZE	     20

/* screen_info, at the start of boot_params. */
#define SI_ORIG_X	     0x00
#define SI_ORIG_Y	     0x01
#define SI_EXT_MEM_K	     0x02
#define SI_ORIG_VIDEO_PAGE   0x04
#define SI_ORIG_VIDEO_MODE   0x06
#define SI_ORIG_VIDEO_COLS   0x07
#define SI_FLAGS	     0x08
#define SI_ORIG_VIDEO_EGA_BX 0x0a
#define SI_ORIG_VIDEO_LINES  0x0e
#define SI_ORIG_VIDEO_ISVGA  0x0f
#define SI_ORIG_VIDEO_POINTS 0x10
#define SI_SIZE		     0x40
#define VIDEO_FLAGS_NOCURSOR 0x01

/* The values this image puts in its header. It is not relocatable: loaders put
 * the protected-mode part at code32_start = pref_address = 1 MiB. */
#define KERNEL_LOAD_ADDR 0x100000
#define KERNEL_ALIGNMENT 0x100000
#define KERNEL_MIN_ALIGN 20
#define INITRD_ADDR_MAX	 0x7fffffff
#define CMDLINE_SIZE	 2047
#define VID_MODE_NORMAL	 0xffff

/* Selectors a 32-bit or 64-bit entry must be given (boot.rst: __BOOT_CS, __BOOT_DS). */
#define BOOT_CS 0x10
#define BOOT_DS 0x18
/* This image's own GDT uses the same numbers, plus a 32-bit code segment. */
#define KERNEL32_CS 0x08
#define KERNEL_CS   0x10
#define KERNEL_DS   0x18

/* Fixed offsets inside the protected-mode part. */
#define PM_KERNEL_INFO 0x010 /* boot.rst "kernel_info", protocol 2.15 */
#define PM_IMAGE_INFO  0x040 /* this image's own record, filled in by mkbzimage */
#define PM_STARTUP_64  0x200 /* the 64-bit entry point */

/* struct image_info at PM_IMAGE_INFO: magic, bytes covered by the CRC (from
 * the start of the protected-mode part, with the crc field read as zero), the
 * CRC-32, the memory the part needs from its load address (init_size), and the
 * setup_sects and syssize that mkbzimage put in the header. */
#define II_MAGIC       0x00 /* 8 bytes "OSIOBZ01" */
#define II_CRC_LEN     0x08
#define II_CRC	       0x0c
#define II_MEM_SIZE    0x10
#define II_SETUP_SECTS 0x14
#define II_SYSSIZE     0x18
#define II_SIZE	       0x1c

#define SETUP_TYPE_MAX 0x80000009 /* SETUP_ENUM_MAX (SETUP_RNG_SEED) | SETUP_INDIRECT */

#define COM1		0x3f8
#define DEBUG_EXIT_PORT 0xf4

#endif
