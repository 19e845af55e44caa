/* UTF-8 names to the UTF-16 that VHD and VHDX headers and parent locators
 * store (VHD's parent name is big-endian, everything else little-endian). */
#include "devices/block/block_driver.h"

#include <errno.h>

/* One code point from UTF-8 at *p (advanced past it), or -1 if not UTF-8. */
static int32_t next_code_point(const uint8_t **pp)
{
	const uint8_t *p = *pp;
	uint32_t c;
	int more;
	if (*p < 0x80) {
		c = *p;
		more = 0;
	} else if ((*p & 0xe0) == 0xc0) {
		c = *p & 0x1f;
		more = 1;
	} else if ((*p & 0xf0) == 0xe0) {
		c = *p & 0x0f;
		more = 2;
	} else if ((*p & 0xf8) == 0xf0) {
		c = *p & 0x07;
		more = 3;
	} else {
		return -1;
	}
	p++;
	for (int i = 0; i < more; i++, p++) {
		if ((*p & 0xc0) != 0x80)
			return -1;
		c = c << 6 | (*p & 0x3f);
	}
	*pp = p;
	return (int32_t)c;
}

static void put_unit(uint8_t *out, uint16_t u, bool be)
{
	out[be ? 0 : 1] = (uint8_t)(u >> 8);
	out[be ? 1 : 0] = (uint8_t)u;
}

int block_utf8_to_utf16(const char *in, uint8_t *out, size_t cap, bool be, bool backslash)
{
	const uint8_t *p = (const uint8_t *)in;
	size_t o = 0;
	while (*p) {
		int32_t c = next_code_point(&p);
		if (c < 0)
			return -EINVAL;
		if (backslash && c == '/')
			c = '\\';
		if (c >= 0x10000) {
			if (o + 4 > cap)
				return -EINVAL;
			c -= 0x10000;
			put_unit(out + o, (uint16_t)(0xd800 | c >> 10), be);
			put_unit(out + o + 2, (uint16_t)(0xdc00 | (c & 0x3ff)), be);
			o += 4;
		} else {
			if (o + 2 > cap)
				return -EINVAL;
			put_unit(out + o, (uint16_t)c, be);
			o += 2;
		}
		if (o > INT32_MAX)
			return -EINVAL;
	}
	return (int)o;
}
