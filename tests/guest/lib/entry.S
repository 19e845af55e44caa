/* Multiboot v1 entry of the guest programs: the header, a flat GDT, the
 * boot stack, BSS clearing and the call to guest_start(magic, mbi). */

#include "segments.h"

#define MB_HEADER_MAGIC 0x1badb002
#define MB_HEADER_FLAGS 0x00000003 /* page-aligned modules, memory info */
#define STACK_SIZE 16384

	.section .multiboot, "a"
	.align 4
	.long MB_HEADER_MAGIC
	.long MB_HEADER_FLAGS
	.long -(MB_HEADER_MAGIC + MB_HEADER_FLAGS)

	.text
	.globl _start
_start:
	cli
	cld
	lgdt guest_gdt_desc
	ljmp $SEG_CODE, $1f
1:	movw $SEG_DATA, %cx
	movw %cx, %ds
	movw %cx, %es
	movw %cx, %fs
	movw %cx, %gs
	movw %cx, %ss
	movl $boot_stack_top, %esp
	pushl $0
	popfl
	pushl %ebx	/* mbi */
	pushl %eax	/* magic */
	movl $__bss_start, %edi
	movl $__bss_end, %ecx
	subl %edi, %ecx
	shrl $2, %ecx
	xorl %eax, %eax
	rep stosl
	call guest_start
2:	cli
	hlt
	jmp 2b

	/* Flat 4 GiB code (0x08) and data (0x10) segments; the SMP
	 * trampoline loads the same table on the application processors. */
	.section .rodata
	.align 8
	.globl guest_gdt, guest_gdt_desc
guest_gdt:
	.quad 0
	.quad 0x00cf9a000000ffff
	.quad 0x00cf92000000ffff
	.align 4
	.word 0
guest_gdt_desc:
	.word GDT_LIMIT
	.long guest_gdt

	.section .noinit, "aw", @nobits
	.align 16
boot_stack:
	.skip STACK_SIZE
boot_stack_top:

	.section .note.GNU-stack, "", @progbits
