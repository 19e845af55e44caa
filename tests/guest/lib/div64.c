/* 64-bit division by shift and subtract (the guest programs link no
 * libgcc), plus the helpers gcc emits calls to for 64-bit '/' and '%'. */
#include "div64.h"

u64 udivmod64(u64 n, u64 d, u64 *rem)
{
	u64 q = 0, r = 0;

	if (d == 0) {
		if (rem)
			*rem = 0;
		return 0;
	}
	if ((d >> 32) == 0 && (n >> 32) == 0) {
		/* The common case: plain 32-bit division. */
		u32 n32 = (u32)n, d32 = (u32)d;

		if (rem)
			*rem = n32 % d32;
		return n32 / d32;
	}
	for (int bit = 63; bit >= 0; bit--) {
		bool carry = (r >> 63) != 0;

		r = (r << 1) | ((n >> bit) & 1);
		if (carry || r >= d) {
			r -= d;
			q |= 1ull << bit;
		}
	}
	if (rem)
		*rem = r;
	return q;
}

u64 __udivdi3(u64 n, u64 d)
{
	return udivmod64(n, d, NULL);
}

u64 __umoddi3(u64 n, u64 d)
{
	u64 r;

	udivmod64(n, d, &r);
	return r;
}

s64 __divdi3(s64 n, s64 d)
{
	u64 un = n < 0 ? -(u64)n : (u64)n;
	u64 ud = d < 0 ? -(u64)d : (u64)d;
	u64 q = udivmod64(un, ud, NULL);

	return (n < 0) != (d < 0) ? -(s64)q : (s64)q;
}

s64 __moddi3(s64 n, s64 d)
{
	u64 un = n < 0 ? -(u64)n : (u64)n;
	u64 ud = d < 0 ? -(u64)d : (u64)d;
	u64 r;

	udivmod64(un, ud, &r);
	return n < 0 ? -(s64)r : (s64)r;
}
