/* Memory checks: the e820 table (sane, sorted, legacy hole not RAM, usable total near mem=), where
 * kernel, boot_params, command line and initrd lie, and the initrd's size and CRC-32. */
#include "guest.h"

#define MiB		  ((uint64_t)1 << 20)
#define LEGACY_HOLE_START 0xa0000ull
#define LEGACY_HOLE_END	  0x100000ull

static const char *type_name(uint32_t type)
{
	switch (type) {
	case E820_RAM:
		return "usable";
	case E820_RESERVED:
		return "reserved";
	case E820_ACPI:
		return "ACPI data";
	case E820_NVS:
		return "ACPI NVS";
	case E820_UNUSABLE:
		return "unusable";
	default:
		return "other";
	}
}

/* True when [addr, addr + len) lies in entries of this type, adjacent entries joined. */
bool e820_covers(const struct boot_ctx *c, uint64_t addr, uint64_t len, uint32_t type)
{
	const struct boot_params *bp = c->bp;
	uint64_t end = addr + len;

	if (!c->e820_ok || end < addr)
		return false;
	while (addr < end) {
		bool found = false;

		for (unsigned i = 0; i < bp->e820_entries; i++) {
			const struct e820_entry *e = &bp->e820_table[i];

			if (e->type == type && e->addr <= addr && addr < e->addr + e->size) {
				addr = e->addr + e->size;
				found = true;
				break;
			}
		}
		if (!found)
			return false;
	}
	return true;
}

void check_e820(struct boot_ctx *c)
{
	const struct boot_params *bp = c->bp;
	unsigned n = bp->e820_entries, before = failures;
	uint64_t usable = 0, low = 0;

	if (n == 0 || n > E820_MAX_ENTRIES) {
		fail("e820: %u entries (1 to %u expected)", n, E820_MAX_ENTRIES);
		return;
	}
	for (unsigned i = 0; i < n; i++) {
		const struct e820_entry *e = &bp->e820_table[i];

		peer("e820: 0x%016lx-0x%016lx %s (%u)", e->addr, e->addr + e->size - 1,
		     type_name(e->type), e->type);
		if (e->size == 0 || e->addr + e->size < e->addr) {
			fail("e820: entry %u (0x%lx, size 0x%lx) is empty or wraps", i, e->addr,
			     e->size);
			continue;
		}
		if (e->type == 0)
			fail("e820: entry %u has type 0", i);
		if (i > 0) {
			const struct e820_entry *p = &bp->e820_table[i - 1];

			if (e->addr < p->addr)
				fail("e820: entry %u (0x%lx) is not sorted after 0x%lx", i, e->addr,
				     p->addr);
			else if (e->addr < p->addr + p->size)
				fail("e820: entry %u (0x%lx) overlaps 0x%lx-0x%lx", i, e->addr,
				     p->addr, p->addr + p->size - 1);
		}
		if (e->type != E820_RAM)
			continue;
		usable += e->size;
		if (overlaps(e->addr, e->size, LEGACY_HOLE_START,
			     LEGACY_HOLE_END - LEGACY_HOLE_START))
			fail("e820: usable RAM 0x%lx-0x%lx inside the legacy hole 0xa0000-0xfffff",
			     e->addr, e->addr + e->size - 1);
		if (e->addr < LEGACY_HOLE_START)
			low += (e->addr + e->size > LEGACY_HOLE_START ? LEGACY_HOLE_START
								      : e->addr + e->size) -
			       e->addr;
	}
	if (failures != before)
		return;
	c->e820_ok = true;
	pass("e820: entries sorted and non-overlapping; 0xa0000-0xfffff not usable");
	peer("e820: %lu KiB usable in all, %lu KiB below 640 KiB", usable >> 10, low >> 10);
	/* Linux needs conventional memory for its real-mode trampoline. */
	if (low < 64 * 1024)
		fail("e820: only %lu KiB of usable RAM below 0xa0000", low >> 10);
	if (c->have_mem) {
		if (usable <= c->mem && usable + 2 * MiB >= c->mem)
			pass("e820: usable RAM within 2 MiB below mem=%lu MiB", c->mem / MiB);
		else
			fail("e820: usable RAM (see above) is not within 2 MiB below mem=%lu MiB",
			     c->mem / MiB);
	}
}

static void place(const struct boot_ctx *c, const char *what, uint64_t addr, uint64_t len)
{
	if (!e820_covers(c, addr, len, E820_RAM))
		fail("placement: %s 0x%lx-0x%lx is not in usable RAM", what, addr, addr + len - 1);
}

static void clear_of(const char *what, uint64_t addr, uint64_t len, const char *other,
		     uint64_t oaddr, uint64_t olen)
{
	if (overlaps(addr, len, oaddr, olen))
		fail("placement: %s 0x%lx-0x%lx overlaps the %s 0x%lx-0x%lx", what, addr,
		     addr + len - 1, other, oaddr, oaddr + olen - 1);
}

void check_placement(struct boot_ctx *c)
{
	const struct boot_params *bp = c->bp;
	unsigned before = failures;

	if (!c->e820_ok) {
		fail("placement: not checked, the e820 table is unusable");
		return;
	}
	place(c, "kernel (init_size)", c->kernel_start, c->kernel_size);
	place(c, "boot_params", c->bp_addr, BP_SIZE);
	clear_of("boot_params", c->bp_addr, BP_SIZE, "kernel", c->kernel_start, c->kernel_size);
	if (c->cmdline) {
		uint64_t len = c->cmdline_len + 1;

		place(c, "command line", c->cmdline_addr, len);
		clear_of("command line", c->cmdline_addr, len, "kernel", c->kernel_start,
			 c->kernel_size);
		clear_of("command line", c->cmdline_addr, len, "boot_params", c->bp_addr, BP_SIZE);
	}

	c->initrd_addr = bp->hdr.ramdisk_image | (uint64_t)bp->ext_ramdisk_image << 32;
	c->initrd_size = bp->hdr.ramdisk_size | (uint64_t)bp->ext_ramdisk_size << 32;
	peer("initrd: at 0x%lx, %lu bytes", c->initrd_addr, c->initrd_size);
	if (!c->initrd_size) {
		fail("initrd: none was loaded (ramdisk_size 0), but the runner passes one");
	} else {
		uint64_t a = c->initrd_addr, n = c->initrd_size;

		if (a & 0xfff)
			fail("initrd: 0x%lx is not page-aligned", a);
		if (a + n < a || a + n - 1 > bp->hdr.initrd_addr_max)
			fail("initrd: 0x%lx-0x%lx ends above initrd_addr_max 0x%x", a, a + n - 1,
			     bp->hdr.initrd_addr_max);
		place(c, "initrd", a, n);
		clear_of("initrd", a, n, "kernel", c->kernel_start, c->kernel_size);
		clear_of("initrd", a, n, "boot_params", c->bp_addr, BP_SIZE);
		if (c->cmdline)
			clear_of("initrd", a, n, "command line", c->cmdline_addr,
				 c->cmdline_len + 1);
	}
	if (failures == before)
		pass(
		    "placement: kernel, boot_params, command line and initrd in usable RAM, apart; "
		    "initrd page-aligned below initrd_addr_max");
}

void check_initrd(const struct boot_ctx *c)
{
	if (!c->initrd_size || !c->have_initrd_size || !c->have_initrd_crc)
		return;
	if (c->initrd_size != c->want_initrd_size) {
		fail("initrd: %lu bytes, the command line says %lu", c->initrd_size,
		     c->want_initrd_size);
		return;
	}
	if (!mapped(c->initrd_addr, c->initrd_size)) {
		fail("initrd: 0x%lx-0x%lx is outside the first 4 GiB", c->initrd_addr,
		     c->initrd_addr + c->initrd_size - 1);
		return;
	}
	uint32_t crc = crc32_update(0, (const void *)(uintptr_t)c->initrd_addr, c->initrd_size);

	if (crc == c->want_initrd_crc)
		pass("initrd: %lu bytes, crc32 0x%08x as the command line says", c->initrd_size,
		     crc);
	else
		fail("initrd: crc32 0x%08x, the command line says 0x%08x", crc, c->want_initrd_crc);
}
