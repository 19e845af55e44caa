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

bool arg_u64(const char *key, u64 *v)
{
	return parse_u64(arg_str(key), v);
}

bool arg_size(const char *key, u64 *bytes)
{
	return parse_size(arg_str(key), bytes);
}
