/* Interrupt entry stubs of the guest programs: one per vector, each pushes
 * a dummy error code where the CPU pushes none, then the vector number, and
 * joins the common path that saves the registers and calls isr_dispatch(). */

	.altmacro

	.macro STUB n
	.align 16
isr_stub_\n:
	.if (\n == 8) || ((\n >= 10) && (\n <= 14)) || (\n == 17) || (\n == 21) || (\n == 29) || (\n == 30)
	.else
	pushl $0
	.endif
	pushl $\n
	jmp isr_common
	.endm

	.macro ENTRY n
	.long isr_stub_\n
	.endm

	.text
	.set i, 0
	.rept 256
	STUB %i
	.set i, i + 1
	.endr

isr_common:
	pushal
	cld
	movl %esp, %eax
	pushl %eax
	call isr_dispatch
	addl $4, %esp
	popal
	addl $8, %esp	/* vector and error code */
	/*
	 * Return without IRET, which an emulating KVM (kvm_pvm) cannot do in
	 * protected mode: the frame is EIP, CS (always SEG_CODE here, same
	 * privilege, no stack switch) and EFLAGS. Restore EFLAGS with IF
	 * clear, then set IF (if it was set) with STI, whose one-instruction
	 * shadow covers the RET that drops the frame.
	 */
	testl $0x200, 8(%esp)
	jz 1f
	pushl 8(%esp)
	andl $~0x200, (%esp)
	popfl
	sti
	ret $8
1:	pushl 8(%esp)
	popfl
	ret $8

	.section .rodata
	.globl isr_stub_table
	.align 4
isr_stub_table:
	.set i, 0
	.rept 256
	ENTRY %i
	.set i, i + 1
	.endr

	.section .note.GNU-stack, "", @progbits
