/* debugexit: the debug-exit port 0xf4 ends the VM with the status written
 * (osio: the value itself; QEMU's isa-debug-exit: (value << 1) | 1, which
 * the runner maps back). The runner expects status 42. */
#include "../lib/test.h"
#include "../lib/uart.h"

void test_main(void)
{
	printf("debugexit: writing 42 to port 0x%x\n", PORT_DEBUG_EXIT);
	/* Prints a FAIL line and halts if the VM does not end. */
	guest_exit(42);
}
