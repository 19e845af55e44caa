/* 64-bit division for the 32-bit guest programs, which link no libgcc:
 * udivmod64() and the helpers gcc calls for the '/' and '%' operators. */
#ifndef GUEST_DIV64_H
#define GUEST_DIV64_H

#include "types.h"

/* n / d, the remainder in *rem if rem is not NULL; d == 0 gives 0. */
u64 udivmod64(u64 n, u64 d, u64 *rem);

u64 __udivdi3(u64 n, u64 d);
u64 __umoddi3(u64 n, u64 d);
s64 __divdi3(s64 n, s64 d);
s64 __moddi3(s64 n, s64 d);

#endif
