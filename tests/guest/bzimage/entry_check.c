/* Checks on the CPU state at entry (boot.rst, 32-bit and 64-bit boot protocol): selectors, GDT
 * descriptors, flags, control and zeroed registers, and the 64-bit entry's 1:1 mappings. */
#include "entry.h"
#include "guest.h"

#define PTE_P	 0x1ull
#define PTE_W	 0x2ull
#define PTE_PS	 0x80ull
#define PTE_ADDR 0x000ffffffffff000ull

static int walk(uint64_t cr3, int levels, uint64_t va, uint64_t *pa, bool *writable);

/* One descriptor of the loader's GDT; bits is 32 or 64 for a code segment, 0 for data. */
static void check_desc(const struct entry_state *s, uint16_t sel, int bits)
{
	const char *what = bits ? "__BOOT_CS" : "__BOOT_DS";
	uint64_t at = s->gdt_base + sel;

	if ((uint32_t)sel + 8 > (uint32_t)s->gdt_limit + 1u) {
		fail("entry: GDT limit 0x%x does not reach %s (0x%x)", s->gdt_limit, what, sel);
		return;
	}
	if (s->entry == 64) {
		/* The GDT base is a linear address under the loader's paging. */
		bool w;

		if (walk(s->cr3, (s->cr4 & CR4_LA57) ? 5 : 4, at, &at, &w) < 0) {
			fail("entry: the loader's GDT at 0x%lx is not mapped", s->gdt_base);
			return;
		}
	}
	if (!mapped(at, 8)) {
		fail("entry: GDT at 0x%lx is outside the first 4 GiB", s->gdt_base);
		return;
	}
	uint64_t d = *(const volatile uint64_t *)(uintptr_t)at;
	uint32_t base = (uint32_t)(((d >> 16) & 0xffffff) | ((d >> 56) & 0xff) << 24);
	uint32_t limit = (uint32_t)((d & 0xffff) | ((d >> 48) & 0xf) << 16);
	unsigned access = (d >> 40) & 0xff, type = access & 0xf;
	bool g = (d >> 55) & 1, db = (d >> 54) & 1, l = (d >> 53) & 1;

	if (g)
		limit = limit << 12 | 0xfff;
	peer("entry: gdt[0x%x] = 0x%016lx", sel, d);
	if (!(access & 0x80) || !(access & 0x10))
		fail("entry: %s descriptor 0x%016lx is not a present code/data segment", what, d);
	else if (bits && (type & 0xa) != 0xa)
		fail("entry: %s descriptor 0x%016lx is not execute/read code", what, d);
	else if (!bits && (type & 0xa) != 0x2)
		fail("entry: %s descriptor 0x%016lx is not read/write data", what, d);
	if (base != 0 || limit != 0xffffffff)
		fail("entry: %s is not a 4G flat segment (base 0x%x, limit 0x%x)", what, base,
		     limit);
	if (bits == 64 && (!l || db))
		fail("entry: %s is not a 64-bit code segment (L=%d D=%d)", what, l, db);
	if (bits == 32 && (l || !db))
		fail("entry: %s is not a 32-bit code segment (L=%d D=%d)", what, l, db);
	if (!bits && s->entry == 32 && !db)
		fail("entry: %s is a 16-bit data segment (B=0)", what);
}

/* Walks the loader's page tables: 0 and the physical address, or -1 (unmapped). */
static int walk(uint64_t cr3, int levels, uint64_t va, uint64_t *pa, bool *writable)
{
	uint64_t table = cr3 & PTE_ADDR;

	*writable = true;
	for (int lvl = levels; lvl >= 1; lvl--) {
		unsigned shift = 12 + 9 * (lvl - 1);
		uint64_t slot = table + ((va >> shift) & 511) * 8;

		if (!mapped(slot, 8))
			return -1;
		uint64_t e = *(const volatile uint64_t *)(uintptr_t)slot;

		if (!(e & PTE_P))
			return -1;
		*writable = *writable && (e & PTE_W);
		if (lvl == 1 || ((lvl == 2 || lvl == 3) && (e & PTE_PS))) {
			uint64_t mask = (1ull << shift) - 1;

			*pa = (e & PTE_ADDR & ~mask) | (va & mask);
			return 0;
		}
		table = e & PTE_ADDR;
	}
	return -1;
}

static void check_identity(const struct entry_state *s, const char *what, uint64_t start,
			   uint64_t len, bool need_write)
{
	int levels = (s->cr4 & CR4_LA57) ? 5 : 4;

	for (uint64_t va = start & ~0xfffull; va < start + len; va += 0x1000) {
		uint64_t pa;
		bool w;

		if (walk(s->cr3, levels, va, &pa, &w) < 0) {
			fail("entry: %s page 0x%lx is not mapped by the loader's page tables", what,
			     va);
			return;
		}
		if (pa != va) {
			fail("entry: %s page 0x%lx maps to 0x%lx, not 1:1", what, va, pa);
			return;
		}
		if (need_write && !w) {
			fail("entry: %s page 0x%lx is mapped read-only", what, va);
			return;
		}
	}
}

static void check_regs(const struct entry_state *s)
{
	if (s->cs != BOOT_CS)
		fail("entry: CS is 0x%x, not __BOOT_CS 0x%x", s->cs, BOOT_CS);
	if (s->ds != BOOT_DS || s->es != BOOT_DS || s->ss != BOOT_DS)
		fail("entry: DS/ES/SS are 0x%x/0x%x/0x%x, not __BOOT_DS 0x%x", s->ds, s->es, s->ss,
		     BOOT_DS);
	if (s->rflags & RFLAGS_IF)
		fail("entry: interrupts are enabled (rflags 0x%lx)", s->rflags);
	if (!(s->cr0 & CR0_PE))
		fail("entry: protected mode is off (cr0 0x%lx)", s->cr0);
	if (s->entry == 64) {
		if (!(s->cr0 & CR0_PG) || !(s->cr4 & CR4_PAE) || !(s->efer & EFER_LMA))
			fail("entry: not in 64-bit mode with paging (cr0 0x%lx cr4 0x%lx efer "
			     "0x%lx)",
			     s->cr0, s->cr4, s->efer);
	} else {
		if (s->cr0 & CR0_PG)
			fail("entry: paging is on at the 32-bit entry (cr0 0x%lx)", s->cr0);
		if (s->rbx || s->rbp || s->rdi)
			fail("entry: EBX/EBP/EDI are 0x%lx/0x%lx/0x%lx, not zero", s->rbx, s->rbp,
			     s->rdi);
	}
}

void check_entry(const struct boot_ctx *c)
{
	const struct entry_state *s = &entry_state;
	const struct setup_header *h = &c->bp->hdr;
	unsigned before = failures;

	peer("entry: %lu-bit entry, boot_params at 0x%lx", s->entry, s->rsi);
	peer("entry: cs 0x%x ds 0x%x es 0x%x ss 0x%x rflags 0x%lx", s->cs, s->ds, s->es, s->ss,
	     s->rflags);
	peer("entry: cr0 0x%lx cr3 0x%lx cr4 0x%lx efer 0x%lx gdt 0x%lx/0x%x", s->cr0, s->cr3,
	     s->cr4, s->efer, s->gdt_base, s->gdt_limit);
	check_regs(s);
	check_desc(s, BOOT_CS, (int)s->entry);
	check_desc(s, BOOT_DS, 0);
	if (overlaps(s->gdt_base, (uint64_t)s->gdt_limit + 1, c->kernel_start, c->kernel_size))
		fail("entry: the loader's GDT at 0x%lx lies inside the kernel's init_size",
		     s->gdt_base);

	if (s->entry == 64) {
		/* boot.rst: "The range with setup_header.init_size from start address of loaded
		 * kernel and zero page and command line buffer get ident mapping". */
		uint64_t cmd = h->cmd_line_ptr | (uint64_t)c->bp->ext_cmd_line_ptr << 32;
		uint64_t len = 0;

		check_identity(s, "kernel", c->kernel_start, c->kernel_size, true);
		check_identity(s, "boot_params", c->bp_addr, BP_SIZE, false);
		while (cmd && mapped(cmd, len + 1) && len <= CMDLINE_SIZE &&
		       *(const volatile char *)(uintptr_t)(cmd + len))
			len++;
		if (cmd)
			check_identity(s, "command line", cmd, len + 1, false);
		if (overlaps(s->cr3 & PTE_ADDR, 0x1000, c->kernel_start, c->kernel_size))
			fail("entry: the loader's page tables (cr3 0x%lx) lie inside the kernel",
			     s->cr3);
	}
	if (failures == before)
		pass("entry: CPU state, GDT and mappings as the boot protocol requires");
}
