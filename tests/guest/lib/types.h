/* Basic types of the freestanding guest test library (only gcc's own
 * freestanding headers are available: no libc). */
#ifndef GUEST_TYPES_H
#define GUEST_TYPES_H

#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

typedef uint8_t u8;
typedef uint16_t u16;
typedef uint32_t u32;
typedef uint64_t u64;
typedef int32_t s32;
typedef int64_t s64;

#define ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))
#define KiB	      1024u
#define MiB	      (1024u * 1024u)
#define GiB	      (1024ull * 1024u * 1024u)

#define noreturn	  __attribute__((noreturn))
#define printf_like(f, a) __attribute__((format(printf, f, a)))

#endif
