/* check()/RESULT reporting and the debug-exit port for the guest programs. */
#include "test.h"
#include "io.h"
#include "timer.h"
#include "uart.h"

u32 test_failures;

bool check(bool cond, const char *fmt, ...)
{
	va_list ap;

	console_puts(cond ? "ok: " : "FAIL: ");
	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	console_putc('\n');
	if (!cond)
		test_failures++;
	return cond;
}

noreturn void halt_forever(void)
{
	for (;;)
		__asm__ volatile("cli; hlt");
}

noreturn void guest_exit(u8 status)
{
	console_flush();
	outb(PORT_DEBUG_EXIT, status);
	/* A VMM may take a moment to act on the write: say nothing until
	 * the VM has had 2 s to end. */
	delay_ms(2000);
	printf("FAIL: still running after writing %u to the debug-exit port 0x%x\n", status,
	       PORT_DEBUG_EXIT);
	halt_forever();
}

noreturn void test_finish(void)
{
	if (test_failures == 0) {
		printf("RESULT: PASS\n");
		guest_exit(0);
	}
	printf("RESULT: FAIL %u\n", test_failures);
	guest_exit(1);
}

noreturn void test_abort(void)
{
	test_failures++;
	test_finish();
}
