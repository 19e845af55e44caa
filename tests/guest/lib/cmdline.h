/* The program's arguments: "key=value" words of the multiboot command line
 * (whose first word is the kernel's path, as GRUB and QEMU pass it). */
#ifndef GUEST_CMDLINE_H
#define GUEST_CMDLINE_H

#include "../common/number.h"
#include "types.h"

void cmdline_init(const char *cmdline);
/* The value of key=, or NULL when the word is absent. */
const char *arg_str(const char *key);
/* Decimal or 0x-hex number; false if absent or malformed. */
bool arg_u64(const char *key, u64 *v);
/* A size with an optional K/M/G/T suffix (powers of 1024). parse_u64() and
 * parse_size() (../common/number.h) read the same syntax out of a string. */
bool arg_size(const char *key, u64 *bytes);

#endif
