/* vmconfig against damaged input (fixed seed, under ASan): mutated files
 * round-trip or fail with a placed message; random edits read back the same. */
#include "vctest.h"

#include <errno.h>

static uint64_t rng = 0x9e3779b97f4a7c15ull;

static uint64_t next(void)
{
	rng ^= rng << 13;
	rng ^= rng >> 7;
	rng ^= rng << 17;
	return rng;
}

static size_t count_lines(const char *s, size_t len)
{
	size_t n = 1;

	for (size_t i = 0; i < len; i++)
		n += s[i] == '\n';
	return n;
}

static void check_one(const char *text, size_t len)
{
	struct vmconfig_error err;
	struct vmconfig *cfg;
	size_t olen;
	char *out;

	memset(&err, 0, sizeof(err));
	cfg = vmconfig_parse(text, len, "f.vmconfig", &err);
	if (!cfg) {
		assert_true(err.message[0] != '\0');
		assert_true(err.line <= count_lines(text, len));
		assert_true(err.line == 0 || err.column >= 1);
		assert_true(strchr(err.message, '\n') == NULL);
		return;
	}
	out = vmconfig_format(cfg, &olen);
	assert_non_null(out);
	assert_int_equal(olen, len);
	assert_memory_equal(out, text, len);
	free(out);
	vmconfig_free(cfg);
}

static void test_mutations(void **state)
{
	static const char *const names[] = {"linux-direct", "multiboot-test", "serial-pty",
					    "workstation", "installer"};
	static const char alphabet[] = "[]\"\\=#; \t\n\r\0abcxyzMG0129:/.-\xc3\xa9\xff";
	char path[PATH_MAX], rel[64];
	unsigned parsed = 0, refused = 0;

	for (size_t f = 0; f < sizeof(names) / sizeof(names[0]); f++) {
		size_t len;
		char *orig, *buf;

		snprintf(rel, sizeof(rel), "share/examples/%s.vmconfig", names[f]);
		vct_source_path(rel, path, sizeof(path));
		orig = vct_read_file(path, &len);
		buf = malloc(len + 64);
		assert_non_null(buf);
		for (unsigned iter = 0; iter < 3000; iter++) {
			size_t n = len, edits = 1 + next() % 4;

			memcpy(buf, orig, len);
			for (size_t e = 0; e < edits && n > 0; e++) {
				size_t at = next() % n;
				char c = alphabet[next() % (sizeof(alphabet) - 1)];

				switch (next() % 3) {
				case 0: /* replace */
					buf[at] = c;
					break;
				case 1: /* insert */
					if (n < len + 63) {
						memmove(buf + at + 1, buf + at, n - at);
						buf[at] = c;
						n++;
					}
					break;
				default: /* delete */
					memmove(buf + at, buf + at + 1, n - at - 1);
					n--;
				}
			}
			/* Also every cut of the text. */
			check_one(buf, n);
			check_one(buf, next() % (n + 1));
			{
				struct vmconfig_error err;
				struct vmconfig *cfg = vmconfig_parse(buf, n, NULL, &err);

				if (cfg)
					parsed++;
				else
					refused++;
				vmconfig_free(cfg);
			}
		}
		free(buf);
		free(orig);
	}
	/* The mutations reach both sides. */
	assert_true(parsed > 100);
	assert_true(refused > 100);
}

/* Random values through set: accepted ones read back the same once written
 * and parsed again, unless a rule between keys is broken, which validate
 * reports just as the parser does. */
static void test_random_edits(void **state)
{
	static const struct {
		const char *section, *name, *key;
	} keys[] = {
	    {"vm", NULL, "name"},	  {"vm", NULL, "memory"},    {"vm", NULL, "cpus"},
	    {"boot", NULL, "append"},	  {"boot", NULL, "kernel"},  {"serial", "com2", "backend"},
	    {"serial", "com2", "path"},	  {"nic", "lan", "mac"},     {"disk", "d", "file"},
	    {"display", NULL, "vnc"},	  {"boot", NULL, "order"},   {"boot", NULL, "firmware"},
	    {"boot", NULL, "bios"},	  {"disk", "d", "bus"},	     {"disk", "d", "controller"},
	    {"dvd", "cd", "file"},	  {"dvd", "cd", "location"}, {"dvd", NULL, "controller"},
	    {"display", NULL, "adapter"},
	};
	static const char *const values[] = {
	    "",
	    "x",
	    "2G",
	    "a b",
	    "a#b",
	    "a;b",
	    "q\"q",
	    "\\",
	    "1",
	    "yes",
	    "socket",
	    "/s",
	    "52:54:00:00:00:01",
	    "\t",
	    "a\nb",
	    " lead",
	    "trail ",
	    "file",
	    "none",
	    "127.0.0.1:5900",
	    "caf\xc3\xa9",
	    "0",
	    "bios",
	    "vga",
	    "virtio",
	    "dvd, disk",
	    "disk,dvd,network",
	    " disk",
	    "dvd ,\tnetwork ",
	    "disk, disk",
	};
	char path[PATH_MAX];
	struct vmconfig_error err;
	struct vmconfig *cfg;

	vct_source_path("share/examples/serial-pty.vmconfig", path, sizeof(path));
	cfg = vmconfig_load(path, &err);
	assert_non_null(cfg);
	for (unsigned i = 0; i < 3000; i++) {
		size_t k = next() % (sizeof(keys) / sizeof(keys[0]));
		const char *v = values[next() % (sizeof(values) / sizeof(values[0]))];
		struct vmconfig *back;
		size_t len;
		char *out;
		int valid;

		switch (next() % 8) {
		case 0:
			vmconfig_unset(cfg, keys[k].section, keys[k].name, keys[k].key);
			break;
		case 1:
			vmconfig_remove_section(cfg, keys[k].section, keys[k].name);
			break;
		default:
			if (vmconfig_set(cfg, keys[k].section, keys[k].name, keys[k].key, v,
					 &err) == 0)
				assert_string_equal(
				    vmconfig_get(cfg, keys[k].section, keys[k].name, keys[k].key),
				    v);
			else
				assert_true(err.message[0] != '\0');
		}
		valid = vmconfig_validate(cfg, &err) == 0;
		out = vmconfig_format(cfg, &len);
		back = vmconfig_parse(out, len, path, &err);
		assert_int_equal(back != NULL, valid);
		for (size_t j = 0; back && j < sizeof(keys) / sizeof(keys[0]); j++) {
			const char *a =
			    vmconfig_get(cfg, keys[j].section, keys[j].name, keys[j].key);
			const char *b =
			    vmconfig_get(back, keys[j].section, keys[j].name, keys[j].key);

			assert_true((a == NULL) == (b == NULL));
			if (a)
				assert_string_equal(a, b);
		}
		vmconfig_free(back);
		free(out);
	}
	vmconfig_free(cfg);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_mutations),
	    cmocka_unit_test(test_random_edits),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
