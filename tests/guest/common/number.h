/* Numbers and sizes the way the test guests' command lines write them: decimal or 0x hex, a size
 * with an optional K/M/G/T suffix (powers of 1024, as Linux's memparse). */
#ifndef GUEST_COMMON_NUMBER_H
#define GUEST_COMMON_NUMBER_H

#include <stdbool.h>
#include <stdint.h>

/* The number at the start of s; returns the first character after it, or NULL (and leaves *v
 * alone) when s has no digits there or the number does not fit 64 bits. */
const char *parse_number(const char *s, uint64_t *v);
/* The whole of s is a number; false, with *v left alone, if s is NULL or malformed. */
bool parse_u64(const char *s, uint64_t *v);
/* The whole of s is a size; false, with *bytes left alone, if s is NULL, malformed or the size
 * does not fit 64 bits. */
bool parse_size(const char *s, uint64_t *bytes);

#endif
