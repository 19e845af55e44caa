/* The C entry of the boot-media programs (realmode.S calls boot_start() in 32-bit protected
 * mode): console, IDT for exceptions, PIT time base, then the program's test_main(). The 8259s
 * keep the BIOS's set-up so that BIOS calls still work; programs run with interrupts off. */
#include "bios.h"
#include "../lib/idt.h"
#include "../lib/test.h"
#include "../lib/timer.h"
#include "../lib/uart.h"

noreturn void boot_start(void);

noreturn void boot_start(void)
{
	console_init();
	idt_init();
	timer_init();
	printf("boot: protected mode, boot drive 0x%x, %u-byte sectors\n", boot_drive,
	       boot_sector_size);
	test_main();
	test_finish();
}
