/* The 16-bit first sector of the boot-media programs: entered at 0x7C00 by the BIOS (El Torito
 * no-emulation boot from a DVD, or an MBR from a disk), it says so on COM1, loads the rest of
 * the image with int 13h AH=42h from the boot drive, and jumps into realmode.S's switch to
 * 32-bit protected mode. Assembled once per medium: BOOT_SECTOR_SIZE is 2048 or 512. */
#include "layout.h"

#define CHUNK 16 /* sectors per int 13h call: 32 KiB (DVD) or 8 KiB (disk) */
#if BOOT_SECTOR_SIZE == 2048
#define IMAGE_SECTORS	     __image_sectors_2048
#define SECTOR_TO_PARAGRAPHS 7
#elif BOOT_SECTOR_SIZE == 512
#define IMAGE_SECTORS	     __image_sectors_512
#define SECTOR_TO_PARAGRAPHS 5
#else
#error "BOOT_SECTOR_SIZE must be 2048 (DVD) or 512 (disk)"
#endif
#define COM1 0x3f8

	.code16
	.section .boot, "ax"
	.globl _start
_start:
	jmp 1f
	/* The boot information table (xorriso -boot-info-table fills it on the DVD; on the disk it
	 * stays zero: the image starts at LBA 0). */
	.org BI_END
1:	cli
	/* SeaBIOS enters a DVD image at 07C0:0000 and a disk one at 0000:7C00. */
	ljmp $0, $2f
2:	xorw %ax, %ax
	movw %ax, %ds
	movw %ax, %es
	movw %ax, %ss
	movw $RM_STACK_TOP, %sp
	sti
	cld
	movb %dl, boot_drive
	/* The benchmark's marker: the first thing the image does. */
	movw $msg_entry, %si
	call puts

	/* Sector 0 (one medium sector: the DVD's load size is 4 x 512) is here; load the rest. */
	movl (BOOT_ADDR + BI_FILE), %eax
	incl %eax
	movl %eax, dap_lba
	movw $((BOOT_ADDR + BOOT_SECTOR_SIZE) >> 4), dap_seg
	movw $IMAGE_SECTORS, %cx
	decw %cx
3:	jcxz 5f
	movw %cx, %bx
	cmpw $CHUNK, %bx
	jbe 4f
	movw $CHUNK, %bx
4:	movw %bx, dap_count
	pushw %cx
	pushw %bx
	movb $0x42, %ah
	movb boot_drive, %dl
	movw $dap, %si
	int $0x13
	popw %bx
	popw %cx
	jc fail
	subw %bx, %cx
	movzwl %bx, %eax
	addl %eax, dap_lba
	shlw $SECTOR_TO_PARAGRAPHS, %bx
	addw %bx, dap_seg
	jmp 3b

5:	jmp rm_enter_protected

fail:
	movw $msg_fail, %si
	call puts
	movb $1, %al
	outb %al, $0xf4
6:	cli
	hlt
	jmp 6b

/* Prints the NUL-terminated string at DS:SI on COM1 (polled; the UART may be unprogrammed,
 * which a VMM does not mind). */
puts:
	lodsb
	testb %al, %al
	jz 8f
	movb %al, %ah
	movw $(COM1 + 5), %dx
7:	inb %dx, %al
	testb $0x20, %al
	jz 7b
	movw $COM1, %dx
	movb %ah, %al
	outb %al, %dx
	jmp puts
8:	ret

	.globl boot_drive
boot_drive:
	.byte 0
	.align 4
dap:
	.byte 16, 0
dap_count:
	.word 0
dap_off:
	.word 0
dap_seg:
	.word 0
dap_lba:
	.long 0, 0
msg_entry:
	.asciz "boot: image entered\r\n"
msg_fail:
	.asciz "FAIL: boot stub: int 13h AH=42h could not load the image\r\nRESULT: FAIL 1\r\n"

	/* For the C side: what this image's medium sectors are. */
	.section .lowdata, "aw"
	.align 4
	.globl boot_sector_size
boot_sector_size:
	.long BOOT_SECTOR_SIZE

	.section .note.GNU-stack, "", @progbits
