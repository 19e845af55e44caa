/* Benchmark guest: a multiboot kernel that writes to the POST port 0x80
 * n times (n= on its command line, decimal) and then writes 0 to the
 * debug-exit port 0xf4. Each write is one VM exit to a no-op device, so the
 * run time grows by the cost of an exit per write. */
	.section .multiboot, "a"
	.align 4
	.long 0x1badb002
	.long 0x00000003
	.long -(0x1badb002 + 0x00000003)

	.text
	.code32
	.globl _start
_start:
	xorl %ecx, %ecx			/* n = 0 unless the command line says */
	cmpl $0x2badb002, %eax
	jne done
	testl $4, (%ebx)		/* MBI_CMDLINE */
	jz loop_start
	movl 16(%ebx), %esi
find:					/* look for "n=" at a word start */
	movb (%esi), %al
	testb %al, %al
	jz loop_start
	cmpb $'n', %al
	jne next
	cmpb $'=', 1(%esi)
	jne next
	cmpl 16(%ebx), %esi
	je parse
	cmpb $' ', -1(%esi)
	jne next
parse:
	addl $2, %esi
digits:
	movzbl (%esi), %eax
	subl $'0', %eax
	cmpl $9, %eax
	ja loop_start
	imull $10, %ecx, %ecx
	addl %eax, %ecx
	incl %esi
	jmp digits
next:
	incl %esi
	jmp find
loop_start:
	testl %ecx, %ecx
	jz done
	movb $0x55, %al
1:	outb %al, $0x80
	decl %ecx
	jnz 1b
done:
	xorl %eax, %eax
	outb %al, $0xf4
2:	hlt
	jmp 2b
