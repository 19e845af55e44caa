/* The program's arguments: "key=value" words of the multiboot command line
 * (whose first word is the kernel's path, as GRUB and QEMU pass it). */
#ifndef GUEST_CMDLINE_H
#define GUEST_CMDLINE_H

#include "types.h"

void cmdline_init(const char *cmdline);
/* The value of key=, or NULL when the word is absent. */
const char *arg_str(const char *key);
/* Decimal or 0x-hex number; false if absent or malformed. */
bool arg_u64(const char *key, u64 *v);
/* A size with an optional K/M/G/T suffix (powers of 1024). */
bool arg_size(const char *key, u64 *bytes);
/* Parses the same syntax out of a string; false if malformed. */
bool parse_size(const char *s, u64 *bytes);
bool parse_u64(const char *s, u64 *v);

#endif
