/* Multiboot v1 boot information (the Multiboot Specification 0.6.96, 3.3)
 * and a bounded copy of it that the programs read after low memory has been
 * reused. */
#ifndef GUEST_MULTIBOOT_H
#define GUEST_MULTIBOOT_H

#include "types.h"

#define MB_BOOTLOADER_MAGIC 0x2badb002

#define MBI_FLAG_MEM	     (1u << 0)
#define MBI_FLAG_CMDLINE     (1u << 2)
#define MBI_FLAG_MODS	     (1u << 3)
#define MBI_FLAG_MMAP	     (1u << 6)
#define MBI_FLAG_LOADER_NAME (1u << 9)

#define MB_MEMORY_AVAILABLE 1

struct mb_info {
	u32 flags;
	u32 mem_lower, mem_upper;
	u32 boot_device;
	u32 cmdline;
	u32 mods_count, mods_addr;
	u32 syms[4];
	u32 mmap_length, mmap_addr;
	u32 drives_length, drives_addr;
	u32 config_table;
	u32 boot_loader_name;
} __attribute__((packed));

struct mb_region {
	u64 base, len;
	u32 type;
};

#define MB_MAX_REGIONS 32
#define MB_CMDLINE_MAX 512

/* What the programs use, copied out of the loader's structures. */
struct mb_saved {
	u32 flags;
	u32 mem_lower, mem_upper;
	char cmdline[MB_CMDLINE_MAX];
	char loader[64];
	u32 nr_regions;
	bool mmap_truncated; /* more entries than MB_MAX_REGIONS, or malformed */
	struct mb_region regions[MB_MAX_REGIONS];
};

extern struct mb_saved mb;

/* Copies what mbi points at into mb (bounded). */
void mb_save(const struct mb_info *mbi);

#endif
