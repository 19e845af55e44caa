/* String and memory helpers of the freestanding test guests (no libc); the compiler may also
 * emit calls to memcpy/memset/memmove/memcmp itself. */
#ifndef GUEST_COMMON_STR_H
#define GUEST_COMMON_STR_H

#include <stddef.h>

void *memset(void *dst, int c, size_t n);
void *memcpy(void *dst, const void *src, size_t n);
void *memmove(void *dst, const void *src, size_t n);
int memcmp(const void *a, const void *b, size_t n);
size_t strlen(const char *s);
size_t strnlen(const char *s, size_t max);
int strcmp(const char *a, const char *b);
int strncmp(const char *a, const char *b, size_t n);
/* Copies at most size - 1 characters and always terminates (size > 0). */
void strlcpy(char *dst, const char *src, size_t size);
char toupper(char c);

#endif
