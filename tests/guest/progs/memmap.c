/* memmap: the multiboot memory map (Multiboot Specification 3.3) against
 * mem=: mem_lower/mem_upper, order, usable totals below and above 4 GiB, and
 * a pattern written and read back at the start, middle and end of every
 * usable region. RAM above 4 GiB is reached through 4-level paging with
 * 2 MiB pages in IA-32e compatibility mode (the 32-bit code keeps running):
 * kvm_pvm refuses to turn on legacy PAE paging (#GP on CR0.PG), 4-level
 * paging works on it and everywhere else. */
#include "../lib/cmdline.h"
#include "../lib/io.h"
#include "../lib/memsize.h"
#include "../lib/multiboot.h"
#include "../lib/test.h"
#include "../lib/uart.h"

#define CR0_PG	    0x80000000u
#define CR4_PAE	    0x00000020u
#define PDE_PRESENT 0x001ull
#define PDE_RW	    0x002ull
#define PDE_LARGE   0x080ull
#define LARGE_PAGE  (2u * MiB)
#define MSR_EFER    0xc0000080
#define EFER_LME    0x100
/* The virtual 2 MiB window through which RAM above 4 GiB is reached: the
 * first slot of the 4th GiB, never RAM (low RAM ends at 3.5 GiB at most). */
#define WINDOW 0xc0000000u

static u64 pml4[512] __attribute__((aligned(4096)));
static u64 pdpt[512] __attribute__((aligned(4096)));
static u64 pd[4][512] __attribute__((aligned(4096)));
static bool paging;

static u64 rdmsr(u32 msr)
{
	u32 lo, hi;

	__asm__ volatile("rdmsr" : "=a"(lo), "=d"(hi) : "c"(msr));
	return lo | (u64)hi << 32;
}

static void wrmsr(u32 msr, u64 v)
{
	__asm__ volatile("wrmsr" : : "c"(msr), "a"((u32)v), "d"((u32)(v >> 32)));
}

static bool long_mode(void)
{
	return cpuid(0x80000000, 0).eax >= 0x80000001 && (cpuid(0x80000001, 0).edx & (1u << 29));
}

/* Identity-maps the 4 GiB with 2 MiB pages and turns on 4-level paging:
 * CR4.PAE, EFER.LME, then CR0.PG, which enters IA-32e mode; the code
 * segment is still 32-bit (L = 0), so this is compatibility mode. */
static void paging_on(void)
{
	for (u32 i = 0; i < 4; i++) {
		pdpt[i] = (uintptr_t)pd[i] | PDE_PRESENT | PDE_RW;
		for (u32 j = 0; j < 512; j++)
			pd[i][j] = ((u64)(i * 512 + j) << 21) | PDE_PRESENT | PDE_RW | PDE_LARGE;
	}
	pml4[0] = (uintptr_t)pdpt | PDE_PRESENT | PDE_RW;
	write_cr4(read_cr4() | CR4_PAE);
	write_cr3((uintptr_t)pml4);
	wrmsr(MSR_EFER, rdmsr(MSR_EFER) | EFER_LME);
	write_cr0(read_cr0() | CR0_PG);
	paging = true;
}

static void paging_off(void)
{
	write_cr0(read_cr0() & ~CR0_PG);
	wrmsr(MSR_EFER, rdmsr(MSR_EFER) & ~EFER_LME);
	write_cr4(read_cr4() & ~CR4_PAE);
	paging = false;
}

/* A pointer to physical address phys (4-byte aligned); above 4 GiB it
 * maps the window over it. */
static volatile u32 *phys_ptr(u64 phys)
{
	if (phys < HIGHMEM_START)
		return (volatile u32 *)(uintptr_t)phys;
	if (!paging)
		paging_on();
	pd[3][0] = (phys & ~(u64)(LARGE_PAGE - 1)) | PDE_PRESENT | PDE_RW | PDE_LARGE;
	invlpg(WINDOW);
	return (volatile u32 *)(uintptr_t)(WINDOW + (u32)(phys & (LARGE_PAGE - 1)));
}

/* Writes two patterns at phys, reads each back, restores the old value.
 * Above 4 GiB it also checks that the word 4 GiB lower (below ram_low, so
 * RAM too) did not change: high RAM must not alias low RAM. */
static bool probe(u64 phys, u64 ram_low)
{
	volatile u32 *p = phys_ptr(phys);
	volatile u32 *alias = NULL;
	u32 old = *p, pattern = 0x5aa5c33cu ^ (u32)phys ^ (u32)(phys >> 32), alias_old = 0;
	bool ok;

	if (phys >= HIGHMEM_START && phys - HIGHMEM_START < ram_low) {
		alias = (volatile u32 *)(uintptr_t)(phys - HIGHMEM_START);
		alias_old = *alias;
	}
	*p = pattern;
	ok = *p == pattern;
	*p = ~pattern;
	ok = ok && *p == ~pattern;
	if (alias && *alias != alias_old)
		ok = false;
	*p = old;
	return ok;
}

static bool probe_region(const struct mb_region *r, u64 ram_low)
{
	u64 start = (r->base + 3) & ~3ull, end = (r->base + r->len) & ~3ull;
	u64 mid = (start + (end - start) / 2) & ~3ull;

	if (end < start + 4)
		return true;
	return probe(start, ram_low) && probe(mid, ram_low) && probe(end - 4, ram_low);
}

void test_main(void)
{
	u64 mem, usable = 0, high = 0, low, upper = 0;
	bool sorted = true, legacy_free = true, probes = true;
	u32 nr_usable = 0;

	printf("memmap: the multiboot memory map\n");
	if (!check(arg_size("mem", &mem), "mem= was given"))
		return;
	low = ram_below_4g(mem);
	check(mb.flags & MBI_FLAG_MEM, "the loader set mem_lower/mem_upper (flags bit 0)");
	if (!check(mb.flags & MBI_FLAG_MMAP, "the loader passed a memory map (flags bit 6)"))
		return;
	check(!mb.mmap_truncated, "the map has well-formed entries (at most %u)", MB_MAX_REGIONS);
	check(mb.mem_lower == 639, "mem_lower is 639 KiB (%u)", mb.mem_lower);
	printf("peer: mem_upper %u KiB\n", mb.mem_upper);

	for (u32 i = 0; i < mb.nr_regions; i++) {
		const struct mb_region *r = &mb.regions[i];

		printf("peer: map %llx-%llx type %u\n", r->base, r->base + r->len - 1, r->type);
		if (i > 0 && mb.regions[i - 1].base + mb.regions[i - 1].len > r->base)
			sorted = false;
		if (r->type != MB_MEMORY_AVAILABLE)
			continue;
		nr_usable++;
		usable += r->len;
		if (r->base >= HIGHMEM_START)
			high += r->len;
		if (r->base < 0x100000 && r->base + r->len > 0xa0000)
			legacy_free = false;
		if (r->base == MiB)
			upper = r->len;
	}
	/* mem_upper: the RAM from 1 MiB up to the first hole. */
	check((u64)mb.mem_upper * KiB == upper && upper <= low - MiB &&
		  upper + 2 * MiB >= low - MiB,
	      "mem_upper is the usable region at 1 MiB, within 2 MiB below %llu KiB",
	      (low - MiB) / KiB);
	check(sorted, "the entries are sorted by address and do not overlap");
	check(legacy_free, "no usable RAM in 0xa0000-0xfffff (VGA and BIOS area)");
	printf("usable regions: %u\n", nr_usable);
	check(usable <= mem && usable + 2 * MiB >= mem,
	      "usable RAM is within 2 MiB below mem= (%llu MiB)", mem >> 20);
	check(high == ram_above_4g(mem), "usable RAM above 4 GiB is %llu MiB (mem= implies %llu)",
	      high >> 20, ram_above_4g(mem) >> 20);

	if (high &&
	    !check(long_mode(), "the CPU has long mode (4-level paging, for RAM above 4 GiB)"))
		return;
	for (u32 i = 0; i < mb.nr_regions; i++) {
		const struct mb_region *r = &mb.regions[i];
		bool ok;

		if (r->type != MB_MEMORY_AVAILABLE)
			continue;
		ok = probe_region(r, low);
		printf("peer: region %llx-%llx: pattern %s\n", r->base, r->base + r->len - 1,
		       ok ? "ok" : "FAILED");
		probes = probes && ok;
	}
	if (paging)
		paging_off();
	check(probes, "a pattern reads back at the start, middle and end of every usable region");
}
