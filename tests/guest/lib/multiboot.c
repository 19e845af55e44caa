/* Copies the multiboot information the loader left in low memory into the
 * program's own data, with every length bounded. */
#include "multiboot.h"
#include "str.h"

struct mb_saved mb;

static void copy_string(char *dst, size_t size, u32 addr)
{
	const char *src = (const char *)(uintptr_t)addr;

	dst[0] = '\0';
	if (addr)
		strlcpy(dst, src, size);
}

static void save_mmap(u32 addr, u32 length)
{
	u32 off = 0;

	/* Each entry: u32 size (not counting itself), u64 base, u64 length,
	 * u32 type; the next entry starts size + 4 bytes further. */
	while (off + 24 <= length) {
		const u8 *e = (const u8 *)(uintptr_t)(addr + off);
		u32 size;
		struct mb_region *r;

		memcpy(&size, e, 4);
		if (size < 20 || size > 4096) {
			mb.mmap_truncated = true;
			return;
		}
		if (mb.nr_regions == MB_MAX_REGIONS) {
			mb.mmap_truncated = true;
			return;
		}
		r = &mb.regions[mb.nr_regions++];
		memcpy(&r->base, e + 4, 8);
		memcpy(&r->len, e + 12, 8);
		memcpy(&r->type, e + 20, 4);
		off += size + 4;
	}
}

void mb_save(const struct mb_info *mbi)
{
	mb.flags = mbi->flags;
	if (mbi->flags & MBI_FLAG_MEM) {
		mb.mem_lower = mbi->mem_lower;
		mb.mem_upper = mbi->mem_upper;
	}
	if (mbi->flags & MBI_FLAG_CMDLINE)
		copy_string(mb.cmdline, sizeof(mb.cmdline), mbi->cmdline);
	if (mbi->flags & MBI_FLAG_LOADER_NAME)
		copy_string(mb.loader, sizeof(mb.loader), mbi->boot_loader_name);
	if (mbi->flags & MBI_FLAG_MMAP)
		save_mmap(mbi->mmap_addr, mbi->mmap_length);
}
