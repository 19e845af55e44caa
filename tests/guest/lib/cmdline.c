/* Command-line arguments of the guest programs: "mem=128M cpus=2 now=..." */
#include "cmdline.h"
#include "multiboot.h"
#include "str.h"

#define MAX_WORDS 32

static char words_buf[MB_CMDLINE_MAX];
static const char *words[MAX_WORDS];
static unsigned nr_words;

void cmdline_init(const char *cmdline)
{
	char *p = words_buf;
	bool first = true;

	strlcpy(words_buf, cmdline, sizeof(words_buf));
	nr_words = 0;
	while (*p) {
		char *start;

		while (*p == ' ' || *p == '\t')
			p++;
		if (!*p)
			break;
		start = p;
		while (*p && *p != ' ' && *p != '\t')
			p++;
		if (*p)
			*p++ = '\0';
		/* The first word is the kernel's path, not an argument. */
		if (first) {
			first = false;
			continue;
		}
		if (nr_words < MAX_WORDS)
			words[nr_words++] = start;
	}
}

const char *arg_str(const char *key)
{
	size_t n = strlen(key);

	for (unsigned i = 0; i < nr_words; i++)
		if (strncmp(words[i], key, n) == 0 && words[i][n] == '=')
			return words[i] + n + 1;
	return NULL;
}

static const char *parse_number(const char *s, u64 *v)
{
	u64 x = 0;
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
			d = *s - '0';
		else if (base == 16 && *s >= 'a' && *s <= 'f')
			d = *s - 'a' + 10;
		else if (base == 16 && *s >= 'A' && *s <= 'F')
			d = *s - 'A' + 10;
		else
			break;
		if (x > (~0ull - d) / base)
			return NULL; /* overflow */
		x = x * base + d;
	}
	if (s == start)
		return NULL;
	*v = x;
	return s;
}

bool parse_u64(const char *s, u64 *v)
{
	const char *end = s ? parse_number(s, v) : NULL;

	return end && *end == '\0';
}

bool parse_size(const char *s, u64 *bytes)
{
	const char *end = s ? parse_number(s, bytes) : NULL;
	unsigned shift = 0;

	if (!end)
		return false;
	switch (*end) {
	case '\0':
		return true;
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
	if (end[1] != '\0' || *bytes > (~0ull >> shift))
		return false;
	*bytes <<= shift;
	return true;
}

bool arg_u64(const char *key, u64 *v)
{
	return parse_u64(arg_str(key), v);
}

bool arg_size(const char *key, u64 *bytes)
{
	return parse_size(arg_str(key), bytes);
}
