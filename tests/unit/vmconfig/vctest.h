/* Helpers shared by the vmconfig tests: where the test data and examples
 * are, reading a file whole, parsing text that must (not) parse. */
#ifndef OSIO_TEST_VCTEST_H
#define OSIO_TEST_VCTEST_H

#include "vmconfig/vmconfig.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* tests/unit/vmconfig/data, from ctest's environment (or the source tree
 * when run by hand from the build directory's parent). */
static inline const char *vct_data_dir(void)
{
	const char *d = getenv("OSIO_TEST_DATA");

	return d ? d : "tests/unit/vmconfig/data";
}

/* DIR/../../../../NAME: a folder of the source tree, e.g. "share/examples". */
static inline void vct_source_path(const char *name, char *buf, size_t size)
{
	snprintf(buf, size, "%s/../../../../%s", vct_data_dir(), name);
}

static inline char *vct_read_file(const char *path, size_t *len)
{
	FILE *f = fopen(path, "rb");
	char *buf = NULL;
	size_t cap = 0, n = 0, got;

	if (!f)
		fail_msg("cannot open %s", path);
	do {
		if (n == cap) {
			cap = cap ? 2 * cap : 4096;
			buf = realloc(buf, cap + 1);
			assert_non_null(buf);
		}
		got = fread(buf + n, 1, cap - n, f);
		n += got;
	} while (got);
	fclose(f);
	buf[n] = '\0';
	*len = n;
	return buf;
}

/* Parses text that must parse; fails the test with the message otherwise. */
static inline struct vmconfig *vct_parse(const char *text, const char *path)
{
	struct vmconfig_error err;
	struct vmconfig *cfg = vmconfig_parse(text, strlen(text), path, &err);
	char msg[1024];

	if (!cfg) {
		vmconfig_error_format(&err, msg, sizeof(msg));
		fail_msg("unexpected: %s", msg);
	}
	return cfg;
}

static inline void vct_write_file(const char *path, const char *text)
{
	FILE *f = fopen(path, "wb");

	assert_non_null(f);
	assert_int_equal(fwrite(text, 1, strlen(text), f), strlen(text));
	assert_int_equal(fclose(f), 0);
}

#endif
