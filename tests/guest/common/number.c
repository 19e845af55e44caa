/* Numbers and sizes of the test guests' command lines, built into both guests: "mem=128M",
 * "cpus=2", "initrd_crc=0x1234abcd". */
#include "number.h"

#include <stddef.h>

const char *parse_number(const char *s, uint64_t *v)
{
	uint64_t x = 0;
	unsigned base = 10;
	const char *start;

	if (s[0] == '0' && (s[1] == 'x' || s[1] == 'X')) {
		base = 16;
		s += 2;
	}
	start = s;
	for (;; s++) {
		unsigned d;

		if (*s >= '0' && *s <= '9')
			d = (unsigned)(*s - '0');
		else if (base == 16 && *s >= 'a' && *s <= 'f')
			d = (unsigned)(*s - 'a' + 10);
		else if (base == 16 && *s >= 'A' && *s <= 'F')
			d = (unsigned)(*s - 'A' + 10);
		else
			break;
		if (x > (UINT64_MAX - d) / base)
			return NULL; /* overflow */
		x = x * base + d;
	}
	if (s == start)
		return NULL;
	*v = x;
	return s;
}

bool parse_u64(const char *s, uint64_t *v)
{
	uint64_t x;
	const char *end = s ? parse_number(s, &x) : NULL;

	if (!end || *end != '\0')
		return false;
	*v = x;
	return true;
}

bool parse_size(const char *s, uint64_t *bytes)
{
	uint64_t x;
	const char *end = s ? parse_number(s, &x) : NULL;
	unsigned shift = 0;

	if (!end)
		return false;
	switch (*end) {
	case '\0':
		break;
	case 'k':
	case 'K':
		shift = 10;
		break;
	case 'm':
	case 'M':
		shift = 20;
		break;
	case 'g':
	case 'G':
		shift = 30;
		break;
	case 't':
	case 'T':
		shift = 40;
		break;
	default:
		return false;
	}
	if (shift && (end[1] != '\0' || x > UINT64_MAX >> shift))
		return false;
	*bytes = x << shift;
	return true;
}
