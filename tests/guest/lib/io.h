/* Port I/O (../common/ioport.h), MMIO, CPUID, control registers and
 * interrupt-flag helpers for the guest test programs (32-bit protected mode,
 * paging off unless a program turns it on). */
#ifndef GUEST_IO_H
#define GUEST_IO_H

#include "../common/ioport.h"
#include "types.h"

static inline u32 mmio_read32(uintptr_t addr)
{
	return *(volatile u32 *)addr;
}

static inline void mmio_write32(uintptr_t addr, u32 v)
{
	*(volatile u32 *)addr = v;
}

struct cpuid_regs {
	u32 eax, ebx, ecx, edx;
};

static inline struct cpuid_regs cpuid(u32 leaf, u32 subleaf)
{
	struct cpuid_regs r;

	__asm__ volatile("cpuid"
			 : "=a"(r.eax), "=b"(r.ebx), "=c"(r.ecx), "=d"(r.edx)
			 : "a"(leaf), "c"(subleaf));
	return r;
}

static inline void cli(void)
{
	__asm__ volatile("cli" ::: "memory");
}

static inline void sti(void)
{
	__asm__ volatile("sti" ::: "memory");
}

/* Enables interrupts and halts in one go: the STI shadow makes sure an
 * interrupt that is already pending wakes the HLT instead of being taken
 * just before it. Returns with interrupts enabled. */
static inline void sti_hlt(void)
{
	__asm__ volatile("sti; hlt" ::: "memory");
}

static inline void pause(void)
{
	__asm__ volatile("pause" ::: "memory");
}

static inline u32 read_cr0(void)
{
	u32 v;

	__asm__ volatile("mov %%cr0, %0" : "=r"(v));
	return v;
}

static inline void write_cr0(u32 v)
{
	__asm__ volatile("mov %0, %%cr0" : : "r"(v) : "memory");
}

static inline void write_cr3(u32 v)
{
	__asm__ volatile("mov %0, %%cr3" : : "r"(v) : "memory");
}

static inline u32 read_cr4(void)
{
	u32 v;

	__asm__ volatile("mov %%cr4, %0" : "=r"(v));
	return v;
}

static inline void write_cr4(u32 v)
{
	__asm__ volatile("mov %0, %%cr4" : : "r"(v) : "memory");
}

static inline void invlpg(uintptr_t addr)
{
	__asm__ volatile("invlpg (%0)" : : "r"(addr) : "memory");
}

static inline u32 bswap32(u32 v)
{
	return __builtin_bswap32(v);
}

static inline u16 bswap16(u16 v)
{
	return __builtin_bswap16(v);
}

static inline u64 bswap64(u64 v)
{
	return __builtin_bswap64(v);
}

#endif
