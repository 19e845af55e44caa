/* Entry points of the protected-mode part at 1 MiB: 32-bit (offset 0) and 64-bit (0x200). Both
 * record the loader's CPU state, clear the bss, load our GDT, map 4 GiB 1:1, call kmain(). */
#include "bootparam.h"
#include "entry.h"

	.section .head.text, "ax"
	.code32
	.globl	startup_32
startup_32:
	cli
	jmp	startup_32_body

	/* boot.rst "kernel_info" (protocol 2.15): header, size, size_total, setup_type_max. */
	.org	PM_KERNEL_INFO
kernel_info:
	.ascii	"LToP"
	.long	kernel_info_end - kernel_info
	.long	kernel_info_end - kernel_info
	.long	SETUP_TYPE_MAX
kernel_info_end:

	/* Our own record: mkbzimage fills in the CRC; the rest comes from the linker. */
	.org	PM_IMAGE_INFO
	.globl	image_info
image_info:
	.ascii	"OSIOBZ01"
	.long	_crc_len
	.long	0			/* crc */
	.long	_mem_size
	.long	0			/* setup_sects */
	.long	0			/* syssize */

	.org	PM_STARTUP_64
	.code64
	.globl	startup_64
startup_64:
	cli
	movq	%rsi, entry_state + ES_RSI(%rip)
	movq	%rbx, entry_state + ES_RBX(%rip)
	movq	%rbp, entry_state + ES_RBP(%rip)
	movq	%rdi, entry_state + ES_RDI(%rip)
	movw	%cs, entry_state + ES_CS(%rip)
	movw	%ds, entry_state + ES_DS(%rip)
	movw	%es, entry_state + ES_ES(%rip)
	movw	%ss, entry_state + ES_SS(%rip)
	movw	%fs, entry_state + ES_FS(%rip)
	movw	%gs, entry_state + ES_GS(%rip)
	sgdt	entry_state + ES_GDTR(%rip)
	movq	%cr0, %rax
	movq	%rax, entry_state + ES_CR0(%rip)
	movq	%cr3, %rax
	movq	%rax, entry_state + ES_CR3(%rip)
	movq	%cr4, %rax
	movq	%rax, entry_state + ES_CR4(%rip)
	movl	$MSR_EFER, %ecx
	rdmsr
	movl	%eax, entry_state + ES_EFER(%rip)
	movl	%edx, entry_state + ES_EFER + 4(%rip)
	/* The protocol gives no stack: a small one in .data, outside the bss. */
	leaq	entry_stack_top(%rip), %rsp
	pushfq
	popq	%rax
	movq	%rax, entry_state + ES_RFLAGS(%rip)
	movq	$64, entry_state + ES_ENTRY(%rip)
	cld

	leaq	__bss_start(%rip), %rdi
	leaq	__bss_end(%rip), %rcx
	subq	%rdi, %rcx
	shrq	$3, %rcx
	xorl	%eax, %eax
	rep stosq

	lgdt	gdt_desc(%rip)
	leaq	1f(%rip), %rax
	pushq	$KERNEL_CS
	pushq	%rax
	lretq
1:	movl	$KERNEL_DS, %eax
	movl	%eax, %ds
	movl	%eax, %es
	movl	%eax, %ss
	movl	%eax, %fs
	movl	%eax, %gs

	/* Page tables as in startup_32, with 64-bit stores. */
	leaq	pdpt(%rip), %rax
	orq	$3, %rax
	movq	%rax, pml4(%rip)
	leaq	pd(%rip), %rdi
	leaq	pdpt(%rip), %rsi
	movl	$4, %ecx
2:	leaq	3(%rdi), %rax
	movq	%rax, (%rsi)
	addq	$4096, %rdi
	addq	$8, %rsi
	decl	%ecx
	jnz	2b
	leaq	pd(%rip), %rdi
	movl	$0x83, %eax		/* present, writable, 2 MiB page */
	movl	$2048, %ecx
3:	movq	%rax, (%rdi)
	addq	$0x200000, %rax
	addq	$8, %rdi
	decl	%ecx
	jnz	3b
	/* A loader may enter with 5-level paging on; it cannot be turned off in long mode. */
	leaq	pml4(%rip), %rax
	movq	%cr4, %rdx
	testl	$CR4_LA57, %edx
	jz	4f
	orq	$3, %rax
	movq	%rax, pml5(%rip)
	leaq	pml5(%rip), %rax
4:	movq	%rax, %cr3
	jmp	long_mode_common

	.text
	.code32
startup_32_body:
	movl	%esi, entry_state + ES_RSI
	movl	%ebx, entry_state + ES_RBX
	movl	%ebp, entry_state + ES_RBP
	movl	%edi, entry_state + ES_RDI
	movw	%cs, entry_state + ES_CS
	movw	%ds, entry_state + ES_DS
	movw	%es, entry_state + ES_ES
	movw	%ss, entry_state + ES_SS
	movw	%fs, entry_state + ES_FS
	movw	%gs, entry_state + ES_GS
	sgdtl	entry_state + ES_GDTR
	movl	%cr0, %eax
	movl	%eax, entry_state + ES_CR0
	movl	%cr3, %eax
	movl	%eax, entry_state + ES_CR3
	movl	%cr4, %eax
	movl	%eax, entry_state + ES_CR4
	movl	$MSR_EFER, %ecx
	rdmsr
	movl	%eax, entry_state + ES_EFER
	movl	%edx, entry_state + ES_EFER + 4
	movl	$entry_stack_top, %esp
	pushfl
	popl	%eax
	movl	%eax, entry_state + ES_RFLAGS
	movl	$32, entry_state + ES_ENTRY
	cld

	movl	$__bss_start, %edi
	movl	$__bss_end, %ecx
	subl	%edi, %ecx
	shrl	$2, %ecx
	xorl	%eax, %eax
	rep stosl

	lgdtl	gdt_desc
	ljmpl	$KERNEL32_CS, $1f
1:	movl	$KERNEL_DS, %eax
	movl	%eax, %ds
	movl	%eax, %es
	movl	%eax, %ss
	movl	%eax, %fs
	movl	%eax, %gs

	/* PML4[0] -> PDPT; PDPT[0..3] -> four page directories of 512 x 2 MiB: 4 GiB 1:1. */
	movl	$pdpt + 3, pml4
	movl	$pd, %edi
	movl	$pdpt, %esi
	movl	$4, %ecx
2:	leal	3(%edi), %eax
	movl	%eax, (%esi)
	addl	$4096, %edi
	addl	$8, %esi
	decl	%ecx
	jnz	2b
	movl	$pd, %edi
	movl	$0x83, %eax
	xorl	%edx, %edx
	movl	$2048, %ecx
3:	movl	%eax, (%edi)
	movl	%edx, 4(%edi)
	addl	$0x200000, %eax
	adcl	$0, %edx
	addl	$8, %edi
	decl	%ecx
	jnz	3b

	movl	%cr4, %eax
	orl	$CR4_PAE, %eax
	movl	%eax, %cr4
	movl	$pml4, %eax
	movl	%eax, %cr3
	movl	$MSR_EFER, %ecx
	rdmsr
	orl	$EFER_LME, %eax
	wrmsr
	movl	%cr0, %eax
	orl	$CR0_PG | CR0_PE, %eax
	movl	%eax, %cr0
	ljmpl	$KERNEL_CS, $long_mode_common

	.code64
long_mode_common:
	movl	$KERNEL_DS, %eax
	movl	%eax, %ds
	movl	%eax, %es
	movl	%eax, %ss
	leaq	stack_top(%rip), %rsp
	xorl	%ebp, %ebp
	call	kmain
5:	cli
	hlt
	jmp	5b

/* Exceptions: every vector pushes an error code (a zero where the CPU gives none) and its
 * number, and exception_handler() reports it and ends the run. Stubs are 16 bytes apart. */
	/* #DF, #TS, #NP, #SS, #GP, #PF, #AC, #CP, #VC, #SX push an error code themselves. */
	EXC_WITH_ERROR = (1 << 8) | (0x1f << 10) | (1 << 17) | (1 << 21) | (3 << 29)
	.macro	EXC vec
	.balign	16
	.if	((EXC_WITH_ERROR >> \vec) & 1) == 0
	pushq	$0
	.endif
	pushq	$\vec
	jmp	exc_common
	.endm

	.balign	16
	.globl	exc_stubs
exc_stubs:
	.irp	v, 0,1,2,3,4,5,6,7,8,9,10,11,12,13,14,15
	EXC	\v
	.endr
	.irp	v, 16,17,18,19,20,21,22,23,24,25,26,27,28,29,30,31
	EXC	\v
	.endr

exc_common:
	movq	%rsp, %rdi
	andq	$-16, %rsp
	call	exception_handler
6:	cli
	hlt
	jmp	6b

	.section .data, "aw"
	.balign	8
	/* Descriptors with the accessed bit set: the CPU never writes here. */
gdt:
	.quad	0
	.quad	0x00cf9b000000ffff	/* KERNEL32_CS: 32-bit code, base 0, 4 GiB */
	.quad	0x00af9b000000ffff	/* KERNEL_CS: 64-bit code */
	.quad	0x00cf93000000ffff	/* KERNEL_DS: data, base 0, 4 GiB */
gdt_end:
	.balign	8
	.word	0
gdt_desc:
	.word	gdt_end - gdt - 1
	.quad	gdt

	.balign	16
	.globl	entry_state
entry_state:
	.space	ES_SIZE
	.balign	16
	.space	64
entry_stack_top:

	.section .bss, "aw", @nobits
	.balign	4096
pml5:	.space	4096
pml4:	.space	4096
pdpt:	.space	4096
pd:	.space	4 * 4096
	.balign	16
	.space	16384
stack_top:

	.section .note.GNU-stack, "", @progbits
