/* memfill: the guest of scripts/bench-lifecycle. It fills fill=SIZE bytes of RAM from at=SIZE
 * (default 16 MiB, above its own image) with a non-zero pattern that differs per 4 KiB page (so
 * neither zero-page detection nor equal MiBs shorten a saved state), says "memfill: filled N MiB",
 * then idles with HLT and counts on COM1 every period ms (IRQ 0 of the PIT wakes it), checking on
 * every count that samples of the pattern are still there. A saved and resumed VM goes on counting
 * with the pattern intact and no new boot line.
 *
 * Arguments: fill=SIZE (default 8M), at=SIZE (default 16M, a multiple of 1 MiB), period=MS
 * (default 1000), stop=N (after count N, finish with the RESULT line; 0: count forever). */
#include "../lib/cmdline.h"
#include "../lib/idt.h"
#include "../lib/io.h"
#include "../lib/multiboot.h"
#include "../lib/test.h"
#include "../lib/timer.h"
#include "../lib/uart.h"

#define TICK_HZ	  100
#define PAGE	  4096u
#define PAGE_DW	  (PAGE / 4)
#define PAGES_MIB (MiB / PAGE)

extern char __image_end[];

/* The dword that fills page number pfn: the golden-ratio constant is odd, so the product is
 * never 0 for pfn below 2^32, and the xor keeps neighbouring pages apart in every byte. */
static u32 pattern(u32 pfn)
{
	u32 v = (pfn + 1) * 0x9e3779b9u;

	return v ^ (v >> 15) ^ 0x5a000000u;
}

static void fill_page(u32 pfn)
{
	void *d = (void *)(uintptr_t)(pfn * PAGE);
	u32 n = PAGE_DW;

	__asm__ volatile("rep stosl" : "+D"(d), "+c"(n) : "a"(pattern(pfn)) : "memory");
}

/* Whether [start, end) lies in one available region of the loader's memory map. */
static bool ram_covers(u64 start, u64 end)
{
	for (u32 i = 0; i < mb.nr_regions; i++) {
		const struct mb_region *r = &mb.regions[i];

		if (r->type == MB_MEMORY_AVAILABLE && r->base <= start && end <= r->base + r->len)
			return true;
	}
	return false;
}

/* Samples the pattern: the first and last dword of every page of one MiB in turn (all of them
 * over the counts) and the first dword of every MiB; the first MiB that differs, or ~0u. */
static u32 verify(u32 first_mib, u32 mibs, u32 turn)
{
	u32 m = first_mib + turn % mibs;

	for (u32 p = 0; p < PAGES_MIB; p++) {
		u32 pfn = m * PAGES_MIB + p;
		const volatile u32 *w = (const volatile u32 *)(uintptr_t)(pfn * PAGE);

		if (w[0] != pattern(pfn) || w[PAGE_DW - 1] != pattern(pfn))
			return m;
	}
	for (m = first_mib; m < first_mib + mibs; m++) {
		u32 pfn = m * PAGES_MIB;

		if (*(const volatile u32 *)(uintptr_t)(pfn * PAGE) != pattern(pfn))
			return m;
	}
	return ~0u;
}

void test_main(void)
{
	u64 fill = 8 * MiB, at = 16 * MiB, period = 1000, stop = 0;
	u32 image_end = ((u32)(uintptr_t)__image_end + MiB - 1) & ~(MiB - 1);

	arg_size("fill", &fill);
	arg_size("at", &at);
	arg_u64("period", &period);
	arg_u64("stop", &stop);
	if (period < 10)
		period = 10;
	if (!check(fill >= MiB && fill % MiB == 0 && at % MiB == 0 && at >= image_end &&
		       fill <= 4 * GiB && at <= 4 * GiB - fill,
		   "fill=%u MiB at=%u MiB: whole MiBs above the program's image, below 4 GiB",
		   (u32)(fill >> 20), (u32)(at >> 20)))
		test_finish();
	if (!check(ram_covers(at, at + fill), "the memory map has RAM for all of it"))
		test_finish();

	u32 first = (u32)(at >> 20), mibs = (u32)(fill >> 20);

	pit_ticks_start(TICK_HZ);
	sti();
	printf("memfill: filling %u MiB from %u MiB\n", mibs, first);
	u32 t0 = pit_ticks;

	for (u32 pfn = first * PAGES_MIB; pfn < (first + mibs) * PAGES_MIB; pfn++)
		fill_page(pfn);
	printf("peer: the fill took %u ms\n", (pit_ticks - t0) * (1000 / TICK_HZ));
	u32 bad = verify(first, mibs, 0);

	if (bad != ~0u) {
		check(false, "the pattern reads back: MiB %u differs", bad);
		test_finish();
	}
	printf("memfill: filled %u MiB\n", mibs);

	u32 per = (u32)(period / (1000 / TICK_HZ)), next = pit_ticks + per;

	for (u32 count = 1;; count++) {
		pit_sleep_until(next);
		next += per;
		bad = verify(first, mibs, count);
		if (bad != ~0u) {
			check(false, "count %u: the pattern of MiB %u changed", count, bad);
			break;
		}
		printf("count %u\n", count);
		if (stop && count >= stop) {
			printf("memfill: count %u reached\n", count);
			break;
		}
	}
	cli();
	pit_ticks_stop();
}
