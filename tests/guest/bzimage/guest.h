/* The bzImage test guest's C side: boot_params as C structures, the console, the check
 * helpers and the pieces each check file provides. Freestanding; no libc: port I/O, the COM1
 * console and the string functions are the ones both test guests share (../common/). */
#ifndef BZ_GUEST_H
#define BZ_GUEST_H

#include "../common/console.h"
#include "../common/ioport.h"
#include "../common/str.h"
#include "bootparam.h"
#include "entry.h"

#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct screen_info {
	uint8_t orig_x;
	uint8_t orig_y;
	uint16_t ext_mem_k;
	uint16_t orig_video_page;
	uint8_t orig_video_mode;
	uint8_t orig_video_cols;
	uint8_t flags;
	uint8_t unused2;
	uint16_t orig_video_ega_bx;
	uint16_t unused3;
	uint8_t orig_video_lines;
	uint8_t orig_video_is_vga;
	uint16_t orig_video_points;
	uint16_t lfb_width;
	uint16_t lfb_height;
	uint16_t lfb_depth;
	uint32_t lfb_base;
	uint32_t lfb_size;
	uint16_t cl_magic;
	uint16_t cl_offset;
	uint16_t lfb_linelength;
	uint8_t colours[8];
	uint16_t vesapm_seg;
	uint16_t vesapm_off;
	uint16_t pages;
	uint16_t vesa_attributes;
	uint32_t capabilities;
	uint32_t ext_lfb_base;
	uint8_t reserved[2];
} __attribute__((packed));

struct setup_header {
	uint8_t setup_sects;
	uint16_t root_flags;
	uint32_t syssize;
	uint16_t ram_size;
	uint16_t vid_mode;
	uint16_t root_dev;
	uint16_t boot_flag;
	uint16_t jump;
	uint32_t header;
	uint16_t version;
	uint32_t realmode_swtch;
	uint16_t start_sys_seg;
	uint16_t kernel_version;
	uint8_t type_of_loader;
	uint8_t loadflags;
	uint16_t setup_move_size;
	uint32_t code32_start;
	uint32_t ramdisk_image;
	uint32_t ramdisk_size;
	uint32_t bootsect_kludge;
	uint16_t heap_end_ptr;
	uint8_t ext_loader_ver;
	uint8_t ext_loader_type;
	uint32_t cmd_line_ptr;
	uint32_t initrd_addr_max;
	uint32_t kernel_alignment;
	uint8_t relocatable_kernel;
	uint8_t min_alignment;
	uint16_t xloadflags;
	uint32_t cmdline_size;
	uint32_t hardware_subarch;
	uint64_t hardware_subarch_data;
	uint32_t payload_offset;
	uint32_t payload_length;
	uint64_t setup_data;
	uint64_t pref_address;
	uint32_t init_size;
	uint32_t handover_offset;
	uint32_t kernel_info_offset;
} __attribute__((packed));

struct e820_entry {
	uint64_t addr;
	uint64_t size;
	uint32_t type;
} __attribute__((packed));

#define E820_RAM      1
#define E820_RESERVED 2
#define E820_ACPI     3
#define E820_NVS      4
#define E820_UNUSABLE 5

struct boot_params {
	struct screen_info screen_info;
	uint8_t pad1[BP_ACPI_RSDP_ADDR - SI_SIZE];
	uint64_t acpi_rsdp_addr;
	uint8_t pad2[BP_EXT_RAMDISK_IMAGE - BP_ACPI_RSDP_ADDR - 8];
	uint32_t ext_ramdisk_image;
	uint32_t ext_ramdisk_size;
	uint32_t ext_cmd_line_ptr;
	uint8_t pad3[BP_ALT_MEM_K - BP_EXT_CMD_LINE_PTR - 4];
	uint32_t alt_mem_k;
	uint32_t scratch;
	uint8_t e820_entries;
	uint8_t eddbuf_entries;
	uint8_t edd_mbr_sig_buf_entries;
	uint8_t kbd_status;
	uint8_t secure_boot;
	uint8_t pad4[2];
	uint8_t sentinel;
	uint8_t pad5;
	struct setup_header hdr;
	uint8_t pad6[BP_E820_TABLE - HDR_END];
	struct e820_entry e820_table[E820_MAX_ENTRIES];
	uint8_t pad7[BP_SIZE - BP_E820_TABLE - E820_MAX_ENTRIES * E820_ENTRY_SIZE];
} __attribute__((packed));

#define BP_OFF(f) __builtin_offsetof(struct boot_params, f)
_Static_assert(sizeof(struct screen_info) == SI_SIZE, "screen_info size");
_Static_assert(sizeof(struct boot_params) == BP_SIZE, "boot_params size");
_Static_assert(BP_OFF(acpi_rsdp_addr) == BP_ACPI_RSDP_ADDR, "acpi_rsdp_addr");
_Static_assert(BP_OFF(ext_cmd_line_ptr) == BP_EXT_CMD_LINE_PTR, "ext_cmd_line_ptr");
_Static_assert(BP_OFF(e820_entries) == BP_E820_ENTRIES, "e820_entries");
_Static_assert(BP_OFF(sentinel) == BP_SENTINEL, "sentinel");
_Static_assert(BP_OFF(hdr) == HDR_START, "hdr");
_Static_assert(BP_OFF(hdr.type_of_loader) == HDR_TYPE_OF_LOADER, "type_of_loader");
_Static_assert(BP_OFF(hdr.cmd_line_ptr) == HDR_CMD_LINE_PTR, "cmd_line_ptr");
_Static_assert(BP_OFF(hdr.pref_address) == HDR_PREF_ADDRESS, "pref_address");
_Static_assert(BP_OFF(hdr.kernel_info_offset) == HDR_KERNEL_INFO_OFFSET, "kernel_info_offset");
_Static_assert(sizeof(struct setup_header) == HDR_END - HDR_START, "setup_header size");
_Static_assert(BP_OFF(e820_table) == BP_E820_TABLE, "e820_table");

struct setup_data {
	uint64_t next;
	uint32_t type;
	uint32_t len;
} __attribute__((packed));

/* console.c: printf on the console (../common/console.h). */
void kprintf(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void kvprintf(const char *fmt, va_list ap);

/* crc32.c: CRC-32 (ISO-HDLC, as zlib and gzip); crc32_update(0, ...) starts a new one. */
void crc32_init(void);
uint32_t crc32_update(uint32_t crc, const void *buf, size_t len);

/* main.c: check bookkeeping. Lines starting "peer:" may differ between loaders; every other
 * line must be the same under osio and under QEMU. */
extern unsigned failures;
void pass(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void fail(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void peer(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* A guest-physical range the entry code's 1:1 map reaches (no wrap, below 4 GiB). */
static inline bool mapped(uint64_t addr, uint64_t len)
{
	return addr < MAPPED_LIMIT && len <= MAPPED_LIMIT - addr;
}

/* A pointer to a fixed physical address that the compiler does not reason about (it would
 * take one in the first page for a null-pointer bug). */
static inline const volatile void *phys(uint64_t addr)
{
	const volatile void *p = (const volatile void *)(uintptr_t)addr;

	__asm__("" : "+r"(p));
	return p;
}

static inline bool overlaps(uint64_t a, uint64_t alen, uint64_t b, uint64_t blen)
{
	return alen && blen && a < b + blen && b < a + alen;
}

/* What the checks share: where things are, and what the command line asked for. */
struct boot_ctx {
	struct boot_params *bp;
	uint64_t bp_addr;
	uint64_t kernel_start, kernel_size; /* [load address, + init_size) */
	uint64_t cmdline_addr;
	const char *cmdline; /* NULL when cmd_line_ptr is unusable */
	size_t cmdline_len;
	uint64_t initrd_addr, initrd_size;
	bool e820_ok;
	/* Parsed from the command line. */
	bool have_mem, have_initrd_size, have_initrd_crc, have_cpus;
	uint64_t mem, want_initrd_size;
	uint32_t want_initrd_crc;
	unsigned cpus;
};

/* image_info filled in by mkbzimage (see bootparam.h). */
extern const uint8_t image_info[];
extern const uint8_t _start[];

void check_entry(const struct boot_ctx *c);
void check_image(const struct boot_ctx *c);
void check_header(const struct boot_ctx *c);
void check_cmdline(struct boot_ctx *c);
void check_e820(struct boot_ctx *c);
void check_placement(struct boot_ctx *c);
void check_initrd(const struct boot_ctx *c);
void check_setup_data(const struct boot_ctx *c);
void check_video(const struct boot_ctx *c);
void check_acpi(const struct boot_ctx *c);

/* params_check.c helpers other checks use. */
bool e820_covers(const struct boot_ctx *c, uint64_t addr, uint64_t len, uint32_t type);

#endif
