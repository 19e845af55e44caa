/* Boot sector, setup header and 16-bit setup code, entered by BIOS loaders at setup segment +
 * 0x20:0: builds boot_params as Linux's arch/x86/boot does, then jumps to code32_start. */
#include "bootparam.h"

#define SETUP_SIG 0x5a5aaa55

	.code16
	.section .text, "ax"
	.globl _start
_start:
	/* Booted as a disk by mistake: say so through the BIOS and stop. */
	ljmpw	$0x07c0, $bs_start
bs_start:
	movw	%cs, %ax
	movw	%ax, %ds
	movw	$bs_msg, %si
1:	lodsb
	testb	%al, %al
	jz	2f
	movb	$0x0e, %ah
	movw	$0x0007, %bx
	int	$0x10
	jmp	1b
2:	cli
	hlt
	jmp	2b
bs_msg:
	.asciz	"osio bzImage test guest: load it with a Linux boot loader.\r\n"

	/* A loader that copies the whole sector instead of the setup header into boot_params
	 * leaves this non-zero in boot_params.sentinel. */
	.org	BP_SENTINEL
	.byte	0xff

	.org	HDR_START
hdr:
	.byte	0			/* setup_sects: mkbzimage */
	.word	0			/* root_flags */
	.long	0			/* syssize: mkbzimage */
	.word	0			/* ram_size (obsolete) */
	.word	VID_MODE_NORMAL		/* vid_mode */
	.word	0			/* root_dev */
	.word	BOOT_FLAG_VALUE		/* boot_flag */

	.org	HDR_JUMP
	.byte	0xeb			/* jmp short start_of_setup; its byte sizes the header */
	.byte	start_of_setup - 1f
1:	.ascii	"HdrS"
	.word	BOOT_PROTOCOL
	.long	0			/* realmode_swtch */
	.word	0x1000			/* start_sys_seg (obsolete) */
	.word	kernel_version - 0x200	/* kernel_version */
	.byte	0			/* type_of_loader */
	.byte	LOADED_HIGH		/* loadflags */
	.word	0x8000			/* setup_move_size */
	.long	KERNEL_LOAD_ADDR	/* code32_start */
	.long	0			/* ramdisk_image */
	.long	0			/* ramdisk_size */
	.long	0			/* bootsect_kludge */
	.word	0			/* heap_end_ptr */
	.byte	0			/* ext_loader_ver */
	.byte	0			/* ext_loader_type */

	.org	HDR_CMD_LINE_PTR
	.long	0			/* cmd_line_ptr */
	.long	INITRD_ADDR_MAX		/* initrd_addr_max */
	.long	KERNEL_ALIGNMENT	/* kernel_alignment */
	.byte	0			/* relocatable_kernel */
	.byte	KERNEL_MIN_ALIGN	/* min_alignment */
	.word	XLF_KERNEL_64		/* xloadflags */
	.long	CMDLINE_SIZE		/* cmdline_size */
	.long	0			/* hardware_subarch: PC */
	.quad	0			/* hardware_subarch_data */
	.long	0			/* payload_offset: nothing compressed */
	.long	0			/* payload_length */
	.quad	0			/* setup_data */

	.org	HDR_PREF_ADDRESS
	.quad	KERNEL_LOAD_ADDR	/* pref_address */
	.long	0			/* init_size: mkbzimage */
	.long	0			/* handover_offset: no EFI stub */
	.long	PM_KERNEL_INFO		/* kernel_info_offset */

	.org	HDR_END
start_of_setup:
	cli
	cld
	/* DS is the setup segment (the loader's part of the protocol); make ES, SS and CS the
	 * same, with our own stack inside the 32 KiB real-mode area. */
	movw	%ds, %ax
	movw	%ax, %es
	movw	%ax, %ss
	movl	$setup_stack_top, %esp
	pushw	%ds
	pushw	$1f
	lretw
1:
	/* The loader must have read every setup sector: the signature ends them. Until that is
	 * known only the first two sectors are safe, so the code and message for a failure
	 * sit here (setup.ld checks that they end before 0x400). */
	call	serial_init16
	cmpl	$SETUP_SIG, setup_sig
	je	setup_main
	movw	$msg_sig, %si
	jmp	die

/* Fatal setup error: the message at DS:SI on COM1, then the debug-exit port with status 1. */
die:
	lodsb
	testb	%al, %al
	jz	1f
	call	putc16
	jmp	die
1:	movb	$1, %al
	outb	%al, $DEBUG_EXIT_PORT
2:	cli
	hlt
	jmp	2b

serial_init16:
	movw	$COM1 + 1, %dx		/* IER: no interrupts */
	xorb	%al, %al
	outb	%al, %dx
	movw	$COM1 + 3, %dx		/* LCR: DLAB */
	movb	$0x80, %al
	outb	%al, %dx
	movw	$COM1, %dx		/* divisor 1: 115200 baud */
	movb	$1, %al
	outb	%al, %dx
	movw	$COM1 + 1, %dx
	xorb	%al, %al
	outb	%al, %dx
	movw	$COM1 + 3, %dx		/* 8N1 */
	movb	$0x03, %al
	outb	%al, %dx
	ret

putc16:
	pushw	%dx
	pushw	%ax
	movw	$COM1 + 5, %dx
1:	inb	%dx, %al
	testb	$0x20, %al
	jz	1b
	popw	%ax
	movw	$COM1, %dx
	outb	%al, %dx
	popw	%dx
	ret

msg_sig:
	.asciz	"setup: FAIL: the loader did not load every setup sector\r\nRESULT: FAIL 1\r\n"
	.globl	setup_early_end
setup_early_end:

setup_main:
	/* Zero our bss (boot_params, stack) before anything uses it. */
	movw	$__bss_start, %di
	movw	$__bss_end, %cx
	subw	%di, %cx
	xorl	%eax, %eax
	rep stosb
	sti

	call	copy_header
	call	detect_e820
	call	store_video
	call	enable_a20
	jnc	1f
	movw	$msg_a20, %si
	jmp	die
1:
	jmp	go_to_protected_mode

/* boot_params.hdr = our header as the loader left it; the old 0xa33f command line protocol is
 * turned into cmd_line_ptr as Linux's copy_boot_params does. */
copy_header:
	movw	$hdr, %si
	movw	$boot_params + HDR_START, %di
	movzbw	HDR_JUMP + 1, %cx
	addw	$HDR_MAGIC - HDR_START, %cx
	rep movsb
	cmpl	$0, boot_params + HDR_CMD_LINE_PTR
	jne	1f
	cmpw	$0xa33f, 0x20
	jne	1f
	movzwl	0x22, %eax
	xorl	%edx, %edx
	movw	%ds, %dx
	shll	$4, %edx
	addl	%edx, %eax
	movl	%eax, boot_params + HDR_CMD_LINE_PTR
1:	ret

/* INT 15h AX=E820 into boot_params.e820_table, as arch/x86/boot/memory.c: stop on CF or
 * EBX = 0; a reply without the SMAP signature discards the whole map. */
detect_e820:
	xorl	%ebx, %ebx
	xorw	%bp, %bp
	movw	$boot_params + BP_E820_TABLE, %di
1:	pushw	%ds
	popw	%es
	movl	$0xe820, %eax
	movl	$E820_ENTRY_SIZE, %ecx
	movl	$0x534d4150, %edx
	pushw	%bp
	pushw	%di
	int	$0x15
	popw	%di
	popw	%bp
	jc	3f
	cmpl	$0x534d4150, %eax
	jne	2f
	incw	%bp
	addw	$E820_ENTRY_SIZE, %di
	testl	%ebx, %ebx
	jz	3f
	cmpw	$E820_MAX_ENTRIES, %bp
	jb	1b
	jmp	3f
2:	xorw	%bp, %bp
3:	pushw	%ds
	popw	%es
	movw	%bp, %ax
	movb	%al, boot_params + BP_E820_ENTRIES
	ret

/* screen_info as arch/x86/boot/video.c and video-vga.c fill it for the current text mode:
 * mode and page (AH=0Fh), cursor (AH=03h), EGA/VGA probe (AH=12h BL=10h, AX=1A00h), and
 * columns, rows and font height from the BIOS data area. A BIOS without video services (no
 * VGA ROM) returns AH=0Fh unchanged: screen_info then stays all zero, "no display". */
#define SI(f) (boot_params + BP_SCREEN_INFO + SI_##f)
store_video:
	movw	$0x0f00, %ax
	xorw	%bx, %bx
	int	$0x10
	cmpb	$0x0f, %ah
	jne	1f
	ret
1:	movzbw	%bh, %dx
	movw	%dx, SI(ORIG_VIDEO_PAGE)
	andb	$0x7f, %al
	movb	%al, SI(ORIG_VIDEO_MODE)

	movw	$0x0300, %ax
	xorw	%bx, %bx
	xorw	%cx, %cx
	xorw	%dx, %dx
	int	$0x10
	movb	%dl, SI(ORIG_X)
	movb	%dh, SI(ORIG_Y)
	testb	$0x20, %ch
	jnz	1f
	movb	%ch, %al
	andb	$0x1f, %al
	movb	%cl, %ah
	andb	$0x1f, %ah
	cmpb	%ah, %al
	jbe	2f
1:	orb	$VIDEO_FLAGS_NOCURSOR, SI(FLAGS)
2:
	movw	$0x1200, %ax
	movw	$0x0010, %bx
	xorw	%cx, %cx
	xorw	%dx, %dx
	int	$0x10
	movw	%bx, SI(ORIG_VIDEO_EGA_BX)
	movb	$25, %dl		/* CGA/MDA: 25 rows */
	cmpb	$0x10, %bl
	je	4f
	movw	$0x1a00, %ax		/* EGA or VGA */
	int	$0x10
	cmpb	$0x1a, %al
	jne	3f
	movb	$1, SI(ORIG_VIDEO_ISVGA)
3:	pushw	%ds
	xorw	%ax, %ax
	movw	%ax, %ds
	movb	0x484, %dl		/* rows - 1 */
	popw	%ds
	incb	%dl
4:	movb	%dl, SI(ORIG_VIDEO_LINES)
	pushw	%ds
	xorw	%ax, %ax
	movw	%ax, %ds
	movw	0x44a, %cx		/* columns */
	movw	0x485, %dx		/* character height */
	popw	%ds
	movb	%cl, SI(ORIG_VIDEO_COLS)
	movw	%dx, SI(ORIG_VIDEO_POINTS)
	ret
#undef SI

/* A20: already on, else INT 15h AX=2401h, else the fast gate at port 0x92. CF set on failure. */
enable_a20:
	call	a20_test
	jnz	1f
	movw	$0x2401, %ax
	int	$0x15
	call	a20_test
	jnz	1f
	inb	$0x92, %al
	orb	$0x02, %al
	andb	$0xfe, %al
	outb	%al, $0x92
	call	a20_test
	jnz	1f
	stc
	ret
1:	clc
	ret

/* ZF clear when A20 is on: a write to 0000:0200 must not show at FFFF:0210 (1 MiB higher). */
a20_test:
	pushw	%ds
	pushw	%es
	pushw	%cx
	xorw	%ax, %ax
	movw	%ax, %ds
	decw	%ax
	movw	%ax, %es
	movw	0x200, %ax
	pushw	%ax
	movw	$32, %cx
1:	incw	%ax
	movw	%ax, 0x200
	outb	%al, $0x80
	cmpw	%es:0x210, %ax
	loopz	1b
	popw	%ax
	movw	%ax, 0x200		/* mov and pop leave ZF alone */
	popw	%cx
	popw	%es
	popw	%ds
	ret

go_to_protected_mode:
	/* The loader's hook, else interrupts and NMI off (arch/x86/boot/pm.c). */
	cmpl	$0, boot_params + HDR_REALMODE_SWTCH
	je	1f
	lcallw	*boot_params + HDR_REALMODE_SWTCH
	jmp	2f
1:	cli
	movb	$0x80, %al
	outb	%al, $0x70
	outb	%al, $0x80
2:	movb	$0xff, %al		/* mask every PIC line but the cascade */
	outb	%al, $0xa1
	movb	$0xfb, %al
	outb	%al, $0x21

	xorl	%ebx, %ebx		/* EBX = linear base of the setup segment */
	movw	%ds, %bx
	shll	$4, %ebx
	leal	setup_gdt(%ebx), %eax
	movl	%eax, setup_gdt_ptr + 2
	lgdtl	setup_gdt_ptr
	lidtl	null_idt_ptr

	leal	boot_params(%ebx), %esi
	movl	boot_params + HDR_CODE32_START, %eax
	leal	in_pm32(%ebx), %ecx
	pushl	$BOOT_CS
	pushl	%ecx
	movl	%cr0, %edx
	orb	$1, %dl
	movl	%edx, %cr0
	lretl

	.code32
in_pm32:
	movl	$BOOT_DS, %ecx
	movl	%ecx, %ds
	movl	%ecx, %es
	movl	%ecx, %fs
	movl	%ecx, %gs
	movl	%ecx, %ss
	addl	%ebx, %esp
	xorl	%ebx, %ebx		/* boot.rst: EBP, EDI and EBX zero, ESI = boot_params */
	xorl	%ebp, %ebp
	xorl	%edi, %edi
	xorl	%ecx, %ecx
	xorl	%edx, %edx
	jmpl	*%eax
	.code16

kernel_version:
	.asciz	"osio-bzimage-test 1.0 (Linux boot protocol 2.15 test guest)"
msg_a20:
	.asciz	"setup: FAIL: cannot enable the A20 gate\r\nRESULT: FAIL 1\r\n"

	.section .data, "aw"
	.balign	8
setup_gdt:
	.quad	0
	.quad	0
	.quad	0x00cf9b000000ffff	/* BOOT_CS: 32-bit code, base 0, 4 GiB */
	.quad	0x00cf93000000ffff	/* BOOT_DS: data, base 0, 4 GiB */
setup_gdt_end:
setup_gdt_ptr:
	.word	setup_gdt_end - setup_gdt - 1
	.long	0			/* linear address, set at run time */
null_idt_ptr:
	.word	0
	.long	0

	/* Last bytes of the setup sectors; checked to see that the loader read them all. */
	.section .setup_sig, "a"
setup_sig:
	.long	SETUP_SIG

	.section .bss, "aw", @nobits
	.balign	16
	.globl	boot_params
boot_params:
	.space	BP_SIZE
	.balign	16
	.space	2048
setup_stack_top:

	.section .note.GNU-stack, "", @progbits
