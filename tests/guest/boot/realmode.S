/* Mode switches of the boot-media programs: the first entry into 32-bit protected mode (after
 * the stub loaded the image), and bioscall_thunk, which goes back to real mode to run one BIOS
 * interrupt with the registers in bios_regs and returns to protected mode. Everything here sits
 * below 64 KiB (section .low), so real-mode code can run it with CS = DS = 0. */
#include "layout.h"
#include "../lib/segments.h"

#define STACK_SIZE 16384

/* struct bregs (bios.h) */
#define R_EAX	 0
#define R_EBX	 4
#define R_ECX	 8
#define R_EDX	 12
#define R_ESI	 16
#define R_EDI	 20
#define R_EBP	 24
#define R_DS	 28
#define R_ES	 30
#define R_EFLAGS 32

	.code16
	.section .low, "ax"
	.globl rm_enter_protected
rm_enter_protected:
	cli
	lgdtl boot_gdt_desc
	movl %cr0, %eax
	orl $1, %eax
	movl %eax, %cr0
	ljmpl $SEG_CODE, $pm_first_entry

	.code32
pm_first_entry:
	movw $SEG_DATA, %ax
	movw %ax, %ds
	movw %ax, %es
	movw %ax, %fs
	movw %ax, %gs
	movw %ax, %ss
	movl $boot_stack_top, %esp
	pushl $0
	popfl
	movl $__bss_start, %edi
	movl $__bss_end, %ecx
	subl %edi, %ecx
	shrl $2, %ecx
	xorl %eax, %eax
	rep stosl
	call boot_start
1:	cli
	hlt
	jmp 1b

/*
 * void bioscall_thunk(void): runs "int bios_vector" in real mode with bios_regs loaded, then
 * stores the registers and flags back. Called from 32-bit C with interrupts off; the 8259s
 * keep the BIOS's vectors (0x08, 0x70), so the BIOS's own IRQ handlers run while it works.
 */
	.globl bioscall_thunk
bioscall_thunk:
	pushal
	movl %esp, saved_esp
	ljmp $SEG_CODE16, $1f

	.code16
1:	movw $SEG_DATA16, %ax
	movw %ax, %ds
	movw %ax, %es
	movw %ax, %fs
	movw %ax, %gs
	movw %ax, %ss
	movl %cr0, %eax
	andl $~1, %eax
	movl %eax, %cr0
	ljmp $0, $2f
2:	xorw %ax, %ax
	movw %ax, %ds
	movw %ax, %es
	movw %ax, %fs
	movw %ax, %gs
	movw %ax, %ss
	movw $RM_STACK_TOP, %sp
	lidtl rm_idt_desc
	/* The vector's handler from the interrupt vector table at 0. */
	movzbw bios_vector, %bx
	shlw $2, %bx
	movl (%bx), %eax
	movl %eax, bios_target
	movw bios_regs + R_ES, %ax
	movw %ax, %es
	pushw bios_regs + R_DS
	movl bios_regs + R_EAX, %eax
	movl bios_regs + R_EBX, %ebx
	movl bios_regs + R_ECX, %ecx
	movl bios_regs + R_EDX, %edx
	movl bios_regs + R_ESI, %esi
	movl bios_regs + R_EDI, %edi
	movl bios_regs + R_EBP, %ebp
	popw %ds
	/* INT n done by hand: flags (IF set: the BIOS may take IRQs) then a far call with IF
	 * clear, as the CPU enters a handler; its IRET sets IF again. */
	sti
	pushfw
	cli
	lcallw *%cs:bios_target
	cli
	pushw %ds
	pushw $0
	popw %ds
	movl %eax, bios_regs + R_EAX
	movl %ebx, bios_regs + R_EBX
	movl %ecx, bios_regs + R_ECX
	movl %edx, bios_regs + R_EDX
	movl %esi, bios_regs + R_ESI
	movl %edi, bios_regs + R_EDI
	movl %ebp, bios_regs + R_EBP
	popw bios_regs + R_DS
	movw %es, bios_regs + R_ES
	pushfl
	popl bios_regs + R_EFLAGS
	/* Back to protected mode (the GDT register survived real mode). */
	lgdtl boot_gdt_desc
	movl %cr0, %eax
	orl $1, %eax
	movl %eax, %cr0
	ljmpl $SEG_CODE, $3f

	.code32
3:	movw $SEG_DATA, %ax
	movw %ax, %ds
	movw %ax, %es
	movw %ax, %fs
	movw %ax, %gs
	movw %ax, %ss
	movl saved_esp, %esp
	call idt_load
	popal
	ret

	.section .lowdata, "aw"
	.align 8
	/* The library's flat code and data selectors (0x08, 0x10), then 16-bit ones with a 64 KiB
	 * limit for the step back to real mode. */
boot_gdt:
	.quad 0
	.quad 0x00cf9a000000ffff
	.quad 0x00cf92000000ffff
	.quad 0x00009a000000ffff
	.quad 0x000092000000ffff
boot_gdt_end:
	.align 4
	.word 0
boot_gdt_desc:
	.word boot_gdt_end - boot_gdt - 1
	.long boot_gdt
	.align 4
	.word 0
rm_idt_desc:
	.word 0x3ff
	.long 0
	.align 4
saved_esp:
	.long 0
bios_target:
	.long 0
	.globl bios_regs, bios_vector
bios_regs:
	.space 36
bios_vector:
	.byte 0

	.section .noinit, "aw", @nobits
	.align 16
boot_stack:
	.skip STACK_SIZE
boot_stack_top:

	.section .note.GNU-stack, "", @progbits
