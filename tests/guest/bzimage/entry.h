/* What the entry code records about the CPU state the loader handed over (head.S writes it,
 * entry_check.c judges it), and the memory the entry code sets up. */
#ifndef BZ_ENTRY_H
#define BZ_ENTRY_H

#define ES_ENTRY  0x00 /* 32 or 64: which entry point ran */
#define ES_RSI	  0x08
#define ES_RBX	  0x10
#define ES_RBP	  0x18
#define ES_RDI	  0x20
#define ES_RFLAGS 0x28
#define ES_CR0	  0x30
#define ES_CR3	  0x38
#define ES_CR4	  0x40
#define ES_EFER	  0x48
#define ES_CS	  0x50
#define ES_DS	  0x52
#define ES_ES	  0x54
#define ES_SS	  0x56
#define ES_FS	  0x58
#define ES_GS	  0x5a
#define ES_GDTR	  0x5c /* limit (2) then base (4 or 8) */
#define ES_SIZE	  0x68

#define MSR_EFER  0xc0000080
#define EFER_LME  (1u << 8)
#define EFER_LMA  (1u << 10)
#define CR0_PE	  (1u << 0)
#define CR0_PG	  (1u << 31)
#define CR4_PAE	  (1u << 5)
#define CR4_LA57  (1u << 12)
#define RFLAGS_IF (1u << 9)

/* The entry code maps the first 4 GiB 1:1 with 2 MiB pages; nothing above is reachable. */
#define MAPPED_LIMIT 0x100000000ull

#ifndef __ASSEMBLER__
#include <stdint.h>

struct entry_state {
	uint64_t entry;
	uint64_t rsi, rbx, rbp, rdi, rflags;
	uint64_t cr0, cr3, cr4, efer;
	uint16_t cs, ds, es, ss, fs, gs;
	uint16_t gdt_limit;
	uint64_t gdt_base;
} __attribute__((packed));

_Static_assert(__builtin_offsetof(struct entry_state, cs) == ES_CS, "entry_state layout");
_Static_assert(__builtin_offsetof(struct entry_state, gdt_limit) == ES_GDTR, "entry_state layout");
_Static_assert(sizeof(struct entry_state) <= ES_SIZE, "entry_state layout");

extern struct entry_state entry_state;
#endif

#endif
