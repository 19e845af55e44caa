/* smp: the application processors' start-up code. The real-mode part
 * (tramp_start..tramp_end) is copied below 1 MiB and entered by the SIPI at
 * CS = vector << 8, IP = 0; it loads the program's GDT, enters protected
 * mode and jumps to ap_entry32, which takes a slot and a stack and calls
 * ap_main(slot). */

#include "../lib/segments.h"

#define AP_STACK_SIZE 4096
#define MAX_CPUS 16

	.text
	.code16
	.globl tramp_start, tramp_end
tramp_start:
	cli
	cld
	movw %cs, %ax
	movw %ax, %ds
	lgdtl (tramp_gdtr - tramp_start)
	movl %cr0, %eax
	orl $1, %eax
	movl %eax, %cr0
	ljmpl $SEG_CODE, $ap_entry32

	.align 4
	.word 0
tramp_gdtr:
	.word GDT_LIMIT
	.long guest_gdt
tramp_end:

	.code32
ap_entry32:
	movw $SEG_DATA, %ax
	movw %ax, %ds
	movw %ax, %es
	movw %ax, %fs
	movw %ax, %gs
	movw %ax, %ss
	movl $1, %eax
	lock xaddl %eax, ap_next_slot
	cmpl $MAX_CPUS, %eax
	jae 2f
	/* The stack of slot n ends at ap_stacks + n * AP_STACK_SIZE (slot 0
	 * is the boot CPU, which has its own). */
	movl %eax, %ecx
	shll $12, %ecx
	addl $ap_stacks, %ecx
	movl %ecx, %esp
	pushl %eax
	call ap_main
2:	cli
	hlt
	jmp 2b

	.data
	.align 4
	.globl ap_next_slot
ap_next_slot:
	.long 1

	.section .noinit, "aw", @nobits
	.align 16
ap_stacks:
	.skip AP_STACK_SIZE * MAX_CPUS

	.section .note.GNU-stack, "", @progbits
