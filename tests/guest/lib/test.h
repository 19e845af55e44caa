/* Verdicts of the guest programs: check() prints "ok: ..." or "FAIL: ..."
 * and counts failures; the program ends with "RESULT: PASS" (exit status
 * 0) or "RESULT: FAIL n" (status 1) through the debug-exit port 0xf4. */
#ifndef GUEST_TEST_H
#define GUEST_TEST_H

#include "types.h"

#define PORT_DEBUG_EXIT 0xf4

extern u32 test_failures;

/* Returns cond, so a program can skip what depends on a failed check. */
bool check(bool cond, const char *fmt, ...) printf_like(2, 3);
/* Prints the RESULT line and exits with 0 or 1. */
noreturn void test_finish(void);
/* Counts one more failure and finishes (for fatal errors). */
noreturn void test_abort(void);
/* Flushes the console and writes status to the debug-exit port. If the
 * VM is still running after that, prints a FAIL line and halts. */
noreturn void guest_exit(u8 status);
/* Stops this CPU for good (interrupts off). */
noreturn void halt_forever(void);

/* The program: called with the multiboot information already saved (mb)
 * and the command line parsed; test_finish() follows its return. */
void test_main(void);

#endif
