/* The C entry of the guest programs: console, IDT, multiboot information,
 * arguments, PIC and time base, then the program's test_main(). */
#include "cmdline.h"
#include "idt.h"
#include "multiboot.h"
#include "pic.h"
#include "test.h"
#include "timer.h"
#include "uart.h"

noreturn void guest_start(u32 magic, const struct mb_info *mbi);

noreturn void guest_start(u32 magic, const struct mb_info *mbi)
{
	console_init();
	idt_init();
	if (magic != MB_BOOTLOADER_MAGIC) {
		printf("FAIL: entered with eax = 0x%x, not the multiboot magic 0x%x\n", magic,
		       MB_BOOTLOADER_MAGIC);
		test_abort();
	}
	mb_save(mbi);
	cmdline_init(mb.cmdline);
	pic_init();
	timer_init();
	printf("peer: boot loader: %s\n", mb.loader[0] ? mb.loader : "(no name)");
	printf("peer: command line: %s\n", mb.cmdline);
	test_main();
	test_finish();
}
