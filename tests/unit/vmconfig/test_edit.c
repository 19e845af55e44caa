/* vmconfig editing: values replaced in place (comments, indentation kept),
 * keys and sections added and removed, quoting, refusals, reading back. */
#include "vctest.h"

#include <errno.h>

/* Applies set and compares the whole text. */
static void set_and_expect(const char *before, const char *section, const char *name,
			   const char *key, const char *value, const char *after)
{
	struct vmconfig *cfg = vct_parse(before, "t.vmconfig");
	struct vmconfig_error err;
	char *out;
	int r;

	r = vmconfig_set(cfg, section, name, key, value, &err);
	if (r)
		fail_msg("set %s.%s = %s: %d %s", section, key, value, r, err.message);
	out = vmconfig_format(cfg, NULL);
	assert_string_equal(out, after);
	assert_string_equal(vmconfig_get(cfg, section, name, key), value);
	free(out);
	vmconfig_free(cfg);

	/* What was written reads back to the same value. */
	cfg = vct_parse(after, "t.vmconfig");
	assert_string_equal(vmconfig_get(cfg, section, name, key), value);
	vmconfig_free(cfg);
}

static void test_set_existing(void **state)
{
	set_and_expect("[vm]\nname = a\n\tmemory = 1G   # RAM\ncpus = 1\n", "vm", NULL, "memory",
		       "2G", "[vm]\nname = a\n\tmemory = 2G   # RAM\ncpus = 1\n");
	set_and_expect("[vm]\nmemory=1G;x\n", "vm", NULL, "memory", "1536M",
		       "[vm]\nmemory=1536M;x\n");
	set_and_expect("[vm]\r\nname = a\r\ncpus = 1 # c\r\n", "vm", NULL, "cpus", "16",
		       "[vm]\r\nname = a\r\ncpus = 16 # c\r\n");
	/* An empty value gets room on both sides. */
	set_and_expect("[boot]\nkernel = k\nappend =# c\n", "boot", NULL, "append", "quiet",
		       "[boot]\nkernel = k\nappend = quiet # c\n");
	/* A quoted value stays quoted; a bare one gets quotes only when needed. */
	set_and_expect("[boot]\nkernel = k\nappend = \"\"\n", "boot", NULL, "append", "quiet",
		       "[boot]\nkernel = k\nappend = \"quiet\"\n");
	set_and_expect("[vm]\nname = old # the name\n", "vm", "", "name", "new",
		       "[vm]\nname = new # the name\n");
}

static void test_quoting(void **state)
{
	static const struct {
		const char *value, *written;
	} cases[] = {
	    {"console=ttyS0 quiet", "\"console=ttyS0 quiet\""},
	    {"a#b", "\"a#b\""},
	    {"a;b", "\"a;b\""},
	    {"say \"hi\"", "\"say \\\"hi\\\"\""},
	    {" lead", "\" lead\""},
	    {"trail ", "\"trail \""},
	    {"tab\there", "\"tab\\there\""},
	    {"two\nlines", "\"two\\nlines\""},
	    {"back\\slash", "back\\slash"},
	    {"back\\slash and space", "\"back\\\\slash and space\""},
	    {"", "\"\""},
	    {"plain=1", "plain=1"},
	    {"caf\xc3\xa9", "caf\xc3\xa9"},
	};
	char before[] = "[boot]\nkernel = k\nappend = x # keep\n", after[256];

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		snprintf(after, sizeof(after), "[boot]\nkernel = k\nappend = %s # keep\n",
			 cases[i].written);
		set_and_expect(before, "boot", NULL, "append", cases[i].value, after);
	}
}

static void test_set_new_key(void **state)
{
	set_and_expect("[vm]\nname = a\n\n[boot]\nkernel = k\n", "vm", NULL, "cpus", "4",
		       "[vm]\nname = a\ncpus = 4\n\n[boot]\nkernel = k\n");
	/* After the last key line, indented like it, before trailing comments. */
	set_and_expect("[vm]\n  name = a\n  # about cpus\n\n[boot]\n", "vm", NULL, "cpus", "4",
		       "[vm]\n  name = a\n  cpus = 4\n  # about cpus\n\n[boot]\n");
	/* A section without keys: right after its header. */
	set_and_expect("[vm]\n# nothing yet\n", "vm", NULL, "cpus", "4",
		       "[vm]\ncpus = 4\n# nothing yet\n");
	/* The last line had no line end: the new last line has none either. */
	set_and_expect("[vm]\nname = a", "vm", NULL, "cpus", "4", "[vm]\nname = a\ncpus = 4");
	set_and_expect("[vm]\r\nname = a\r\n", "vm", NULL, "cpus", "4",
		       "[vm]\r\nname = a\r\ncpus = 4\r\n");
	set_and_expect("[boot]\nkernel = k\n", "boot", NULL, "append", "a b",
		       "[boot]\nkernel = k\nappend = \"a b\"\n");
}

static void test_set_new_section(void **state)
{
	set_and_expect("[vm]\nname = a\n", "serial", "com2", "backend", "pty",
		       "[vm]\nname = a\n\n[serial \"com2\"]\nbackend = pty\n");
	set_and_expect("[vm]\nname = a\n\n", "boot", NULL, "kernel", "vmlinuz",
		       "[vm]\nname = a\n\n[boot]\nkernel = vmlinuz\n");
	set_and_expect("[vm]\nname = a", "dvd", "cd", "file", "x.iso",
		       "[vm]\nname = a\n\n[dvd \"cd\"]\nfile = x.iso");
	set_and_expect("[vm]\r\nname = a\r\n", "display", NULL, "vnc", "none",
		       "[vm]\r\nname = a\r\n\r\n[display]\r\nvnc = none\r\n");
	set_and_expect("", "vm", NULL, "name", "first", "[vm]\nname = first\n");
	set_and_expect("# only a comment\n", "vm", NULL, "name", "x",
		       "# only a comment\n\n[vm]\nname = x\n");
	/* An unnamed section of a repeated type, next to a named one. */
	set_and_expect("[disk \"a\"]\nfile = a.img\n", "disk", NULL, "file", "b.img",
		       "[disk \"a\"]\nfile = a.img\n\n[disk]\nfile = b.img\n");
}

/* A list reads well bare: no quotes for its spaces, unless it had them or
 * its ends are spaces. */
static void test_set_list(void **state)
{
	set_and_expect("[boot]\norder = dvd, disk # the DVD first\n", "boot", NULL, "order",
		       "disk, dvd, network",
		       "[boot]\norder = disk, dvd, network # the DVD first\n");
	set_and_expect("[boot]\n", "boot", NULL, "order", "disk", "[boot]\norder = disk\n");
	set_and_expect("", "boot", NULL, "order", "network,dvd", "[boot]\norder = network,dvd\n");
	set_and_expect("[boot]\norder = \"dvd\"\n", "boot", NULL, "order", "disk, dvd",
		       "[boot]\norder = \"disk, dvd\"\n");
	set_and_expect("[boot]\norder = dvd\n", "boot", NULL, "order", " disk",
		       "[boot]\norder = \" disk\"\n");
	set_and_expect("[boot]\norder = dvd\n", "boot", NULL, "order", "disk\t",
		       "[boot]\norder = \"disk\\t\"\n");
	/* Other keys with spaces still get quotes. */
	set_and_expect("[boot]\n", "boot", NULL, "bios", "my bios.bin",
		       "[boot]\nbios = \"my bios.bin\"\n");
}

/* The keys of drives and the display, as the console or the command line
 * set them. */
static void test_set_drives(void **state)
{
	/* An empty DVD drive, as --dvd '' makes it. */
	set_and_expect("[vm]\nname = a\n", "dvd", "dvd0", "file", "",
		       "[vm]\nname = a\n\n[dvd \"dvd0\"]\nfile = \"\"\n");
	set_and_expect("[dvd \"cd\"]\nfile = x.iso\n", "dvd", "cd", "controller", "1",
		       "[dvd \"cd\"]\nfile = x.iso\ncontroller = 1\n");
	set_and_expect("[disk \"a\"]\nfile = a.img\nlocation = 0 # master\n", "disk", "a",
		       "location", "1", "[disk \"a\"]\nfile = a.img\nlocation = 1 # master\n");
	set_and_expect("[display]\nvnc = none\n", "display", NULL, "adapter", "none",
		       "[display]\nvnc = none\nadapter = none\n");
}

/* A document built from nothing, as the command line does. */
static void test_build_from_new(void **state)
{
	struct vmconfig *cfg = vmconfig_new(NULL), *back;
	struct vmconfig_error err;
	char *out;

	assert_non_null(cfg);
	assert_null(vmconfig_path(cfg));
	assert_int_equal(vmconfig_set(cfg, "vm", NULL, "memory", "2G", &err), 0);
	assert_int_equal(vmconfig_set(cfg, "vm", NULL, "cpus", "2", &err), 0);
	assert_int_equal(vmconfig_set(cfg, "boot", NULL, "kernel", "/k", &err), 0);
	assert_int_equal(vmconfig_set(cfg, "boot", NULL, "append", "console=ttyS0 quiet", &err), 0);
	assert_int_equal(vmconfig_set(cfg, "serial", "com1", "backend", "pty", &err), 0);
	assert_int_equal(vmconfig_set(cfg, "vm", NULL, "memory", "4G", &err), 0);
	out = vmconfig_format(cfg, NULL);
	assert_string_equal(out, "[vm]\nmemory = 4G\ncpus = 2\n\n[boot]\nkernel = /k\n"
				 "append = \"console=ttyS0 quiet\"\n\n[serial \"com1\"]\n"
				 "backend = pty\n");
	back = vct_parse(out, NULL);
	assert_string_equal(vmconfig_get(back, "boot", NULL, "append"), "console=ttyS0 quiet");
	assert_int_equal(vmconfig_line(back, "serial", "com1", "backend"), 10);
	vmconfig_free(back);
	free(out);
	vmconfig_free(cfg);
}

struct refusal {
	const char *section, *name, *key, *value, *message;
};

static void test_set_refused(void **state)
{
	static const struct refusal cases[] = {
	    {"vm", NULL, "memory", "2X",
	     "memory = '2X': not a size; write a number with a unit, e.g. 512M or 2G"},
	    {"vm", NULL, "memroy", "2G", "unknown key 'memroy' in [vm]; did you mean 'memory'?"},
	    {"vm", NULL, "cpus", "",
	     "cpus has no value; write a number from 1 to 1024, or "
	     "remove the line"},
	    {"vm", "x", "cpus", "1", "[vm \"x\"]: [vm] takes no name; write [vm]"},
	    {"serial", "com9", "backend", "pty",
	     "[serial \"com9\"]: serial ports are com1 to "
	     "com4"},
	    {"serial", NULL, "backend", "pty",
	     "[serial] needs a port name; write [serial "
	     "\"com1\"] (com1 to com4)"},
	    {"disk", "bad name", "file", "x",
	     "[disk \"bad name\"]: not a name; use 1 to 63 "
	     "letters, digits, '.', '_' and '-', starting "
	     "with a letter or a digit"},
	    {"disks", "a", "file", "x", "unknown section [disks]; did you mean [disk]?"},
	    {"nic", "lan", "mac", "01:02:03:04:05:06",
	     "mac = '01:02:03:04:05:06': a multicast MAC address (its first byte is odd); "
	     "write a unicast one like 52:54:00:12:34:56"},
	    {"vm", NULL, "name", "a\x01",
	     "name = 'a?': contains a control character; remove "
	     "it"},
	};
	const char *text = "[vm]\nname = a # n\n\n[serial \"com1\"]\nbackend = pty\n";
	struct vmconfig *cfg = vct_parse(text, "t.vmconfig");
	struct vmconfig_error err;
	char *out;

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		const struct refusal *c = &cases[i];

		assert_int_equal(vmconfig_set(cfg, c->section, c->name, c->key, c->value, &err),
				 -EINVAL);
		if (strcmp(err.message, c->message) != 0)
			fail_msg("case %zu: got '%s'", i, err.message);
		assert_string_equal(err.file, "t.vmconfig");
		assert_int_equal(err.line, 0);
		out = vmconfig_format(cfg, NULL);
		assert_string_equal(out, text);
		free(out);
	}
	/* err may be NULL. */
	assert_int_equal(vmconfig_set(cfg, "vm", NULL, "cpus", "0", NULL), -EINVAL);
	vmconfig_free(cfg);
}

static void test_too_many_sections(void **state)
{
	struct vmconfig *cfg = vmconfig_new("t.vmconfig");
	struct vmconfig_error err;
	char name[16], file[32];

	for (unsigned i = 0; i < VMCONFIG_MAX_REPEAT; i++) {
		snprintf(name, sizeof(name), "d%u", i);
		snprintf(file, sizeof(file), "d%u.img", i);
		assert_int_equal(vmconfig_set(cfg, "disk", name, "file", file, &err), 0);
	}
	assert_int_equal(vmconfig_count(cfg, "disk"), VMCONFIG_MAX_REPEAT);
	assert_int_equal(vmconfig_set(cfg, "disk", "one-more", "file", "x", &err), -EINVAL);
	assert_string_equal(err.message, "too many [disk] sections (at most 64)");
	/* 64 disks on IDE, which has room for four: the fifth is named. */
	assert_int_equal(vmconfig_validate(cfg, &err), -EINVAL);
	assert_int_equal(err.line, vmconfig_line(cfg, "disk", "d4", NULL));
	assert_int_equal(err.line, 13);
	assert_non_null(strstr(err.message, "[disk \"d4\"]: a fifth IDE drive"));
	/* Existing ones still change: all but four move to virtio, which
	 * holds 16; the 17th is named. */
	for (unsigned i = 4; i < VMCONFIG_MAX_REPEAT; i++) {
		snprintf(name, sizeof(name), "d%u", i);
		assert_int_equal(vmconfig_set(cfg, "disk", name, "bus", "virtio", &err), 0);
	}
	assert_int_equal(vmconfig_validate(cfg, &err), -EINVAL);
	assert_int_equal(err.line, vmconfig_line(cfg, "disk", "d20", "bus"));
	assert_non_null(strstr(err.message, "[disk \"d20\"]: disk 17 on bus = virtio"));
	for (unsigned i = 20; i < VMCONFIG_MAX_REPEAT; i++) {
		snprintf(name, sizeof(name), "d%u", i);
		assert_int_equal(vmconfig_remove_section(cfg, "disk", name), 0);
	}
	assert_int_equal(vmconfig_validate(cfg, &err), 0);
	vmconfig_free(cfg);
}

static void unset_and_expect(const char *before, const char *section, const char *name,
			     const char *key, int result, const char *after)
{
	struct vmconfig *cfg = vct_parse(before, NULL);
	char *out;

	assert_int_equal(vmconfig_unset(cfg, section, name, key), result);
	out = vmconfig_format(cfg, NULL);
	assert_string_equal(out, after);
	assert_null(vmconfig_get(cfg, section, name, key));
	free(out);
	vmconfig_free(cfg);
}

static void test_unset(void **state)
{
	unset_and_expect("[vm]\nname = a # n\ncpus = 2\n", "vm", NULL, "name", 0,
			 "[vm]\ncpus = 2\n");
	unset_and_expect("[vm]\nname = a\ncpus = 2", "vm", NULL, "cpus", 0, "[vm]\nname = a");
	unset_and_expect("[vm]\nname = a\n", "vm", NULL, "cpus", -ENOENT, "[vm]\nname = a\n");
	unset_and_expect("[vm]\nname = a\n", "boot", NULL, "kernel", -ENOENT, "[vm]\nname = a\n");
	unset_and_expect("[vm]\n[disk \"a\"]\nfile = a\nreadonly = yes\n", "disk", "a", "readonly",
			 0, "[vm]\n[disk \"a\"]\nfile = a\n");
}

static void remove_and_expect(const char *before, const char *section, const char *name, int result,
			      const char *after)
{
	struct vmconfig *cfg = vct_parse(before, NULL);
	char *out;

	assert_int_equal(vmconfig_remove_section(cfg, section, name), result);
	out = vmconfig_format(cfg, NULL);
	assert_string_equal(out, after);
	if (!result)
		assert_int_equal(vmconfig_line(cfg, section, name, NULL), 0);
	free(out);
	vmconfig_free(cfg);
}

static void test_remove_section(void **state)
{
	/* In the middle: its comment goes, the next section's comment stays. */
	remove_and_expect("[vm]\nname = x\n\n# the disk\n[disk \"a\"]\nfile = a\n\n# the nic\n"
			  "[nic \"n\"]\nswitch = default\n",
			  "disk", "a", 0,
			  "[vm]\nname = x\n\n# the nic\n[nic \"n\"]\nswitch = default\n");
	/* A comment glued to the key above is the previous section's. */
	remove_and_expect("[vm]\nname = x\n# memory = 1G\n[dvd]\n[boot]\nkernel = k\n", "dvd", NULL,
			  0, "[vm]\nname = x\n# memory = 1G\n[boot]\nkernel = k\n");
	/* The last one: the blank lines before it go too. */
	remove_and_expect("[vm]\nname = x\n\n\n[dvd \"cd\"]\nfile = a.iso\n", "dvd", "cd", 0,
			  "[vm]\nname = x\n");
	remove_and_expect("[vm]\nname = x\n\n[dvd \"cd\"]\nfile = a.iso", "dvd", "cd", 0,
			  "[vm]\nname = x");
	/* The first one, under the file's own comment. */
	remove_and_expect("# my VM\n\n[vm]\nname = x\n\n[boot]\nkernel = k\n", "vm", NULL, 0,
			  "# my VM\n\n[boot]\nkernel = k\n");
	remove_and_expect("[vm]\nname = x\n", "vm", NULL, 0, "");
	remove_and_expect("[vm]\nname = x\n", "boot", NULL, -ENOENT, "[vm]\nname = x\n");
	/* Named and unnamed sections of one type are told apart. */
	remove_and_expect("[dvd]\n[dvd \"b\"]\n", "dvd", "b", 0, "[dvd]\n");
	remove_and_expect("[dvd]\n[dvd \"b\"]\n", "dvd", NULL, 0, "[dvd \"b\"]\n");
}

/* Many edits, then the text reads back to every edited value. */
static void test_edits_read_back(void **state)
{
	char path[PATH_MAX];
	struct vmconfig_error err;
	struct vmconfig *cfg, *back;
	char *out;

	vct_source_path("share/examples/workstation.vmconfig", path, sizeof(path));
	cfg = vmconfig_load(path, &err);
	assert_non_null(cfg);
	assert_int_equal(vmconfig_set(cfg, "vm", NULL, "memory", "8G", &err), 0);
	assert_int_equal(vmconfig_set(cfg, "disk", "system", "readonly", "yes", &err), 0);
	assert_int_equal(vmconfig_set(cfg, "disk", "data", "file", "/srv/a \"b\"#c.img", &err), 0);
	assert_int_equal(vmconfig_set(cfg, "nic", "lan", "mac", "52:54:00:aa:bb:cc", &err), 0);
	assert_int_equal(vmconfig_set(cfg, "nic", "wan", "switch", "external0", &err), 0);
	assert_int_equal(vmconfig_unset(cfg, "dvd", "installer", "file"), 0);
	assert_int_equal(vmconfig_remove_section(cfg, "display", NULL), 0);
	assert_int_equal(vmconfig_set(cfg, "serial", "com1", "path", "/tmp/c1.sock", &err), 0);
	assert_int_equal(vmconfig_set(cfg, "boot", NULL, "order", "dvd, disk", &err), 0);
	assert_int_equal(vmconfig_set(cfg, "dvd", "installer", "controller", "0", &err), 0);
	assert_int_equal(vmconfig_set(cfg, "dvd", "installer", "location", "1", &err), 0);
	assert_int_equal(vmconfig_set(cfg, "display", NULL, "adapter", "none", &err), 0);
	out = vmconfig_format(cfg, NULL);
	back = vct_parse(out, path);
	assert_string_equal(vmconfig_get(back, "vm", NULL, "memory"), "8G");
	assert_string_equal(vmconfig_get(back, "vm", NULL, "name"), "workstation");
	assert_string_equal(vmconfig_get(back, "disk", "system", "readonly"), "yes");
	assert_string_equal(vmconfig_get(back, "disk", "system", "bus"), "ide");
	assert_string_equal(vmconfig_get(back, "disk", "data", "bus"), "virtio");
	assert_string_equal(vmconfig_get(back, "boot", NULL, "order"), "dvd, disk");
	assert_string_equal(vmconfig_get(back, "dvd", "installer", "controller"), "0");
	assert_string_equal(vmconfig_get(back, "dvd", "installer", "location"), "1");
	assert_string_equal(vmconfig_get(back, "display", NULL, "adapter"), "none");
	assert_string_equal(vmconfig_get(back, "disk", "data", "file"), "/srv/a \"b\"#c.img");
	assert_string_equal(vmconfig_get(back, "nic", "lan", "mac"), "52:54:00:aa:bb:cc");
	assert_string_equal(vmconfig_get(back, "nic", "wan", "switch"), "external0");
	assert_int_equal(vmconfig_count(back, "nic"), 3); /* lan, lab, wan */
	assert_int_equal(vmconfig_count(back, "dvd"), 1);
	assert_null(vmconfig_get(back, "dvd", "installer", "file"));
	/* Removed, then made again by a set. */
	assert_int_equal(vmconfig_count(back, "display"), 1);
	assert_null(vmconfig_get(back, "display", NULL, "vnc"));
	assert_string_equal(vmconfig_get(back, "serial", "com1", "path"), "/tmp/c1.sock");
	/* The comments on edited lines are still there. */
	assert_non_null(strstr(out, "memory = 8G\n"));
	assert_non_null(strstr(out, "readonly = yes\n"));
	assert_non_null(strstr(out, "mac = 52:54:00:aa:bb:cc         # left out, osio run"));
	assert_non_null(strstr(out, "bus = virtio                    # faster than ide"));
	assert_non_null(
	    strstr(out, "order = dvd, disk               # the installed system first"));
	assert_non_null(strstr(out, "path = /tmp/c1.sock   # a socket path must be absolute"));
	vmconfig_free(back);
	free(out);
	vmconfig_free(cfg);
}

/* Rules between keys are not set's business: a document goes through
 * states that break them while it is edited, and validate tells. */
static void test_validate_after_edits(void **state)
{
	struct vmconfig *cfg = vmconfig_new("v.vmconfig");
	struct vmconfig_error err;

	assert_int_equal(vmconfig_set(cfg, "serial", "com2", "backend", "socket", &err), 0);
	assert_int_equal(vmconfig_validate(cfg, &err), -EINVAL);
	assert_int_equal(err.line, 2);
	assert_int_equal(err.column, 11);
	assert_int_equal(vmconfig_set(cfg, "serial", "com2", "path", "/run/x.sock", &err), 0);
	assert_int_equal(vmconfig_validate(cfg, &err), 0);
	assert_int_equal(vmconfig_set(cfg, "serial", "com2", "backend", "pty", &err), 0);
	assert_int_equal(vmconfig_validate(cfg, &err), -EINVAL);
	assert_string_equal(err.message, "[serial \"com2\"]: path is used only with backend = "
					 "socket or file; remove it or set the backend");
	assert_int_equal(err.line, 3);
	vmconfig_free(cfg);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_set_existing),
	    cmocka_unit_test(test_quoting),
	    cmocka_unit_test(test_set_new_key),
	    cmocka_unit_test(test_set_new_section),
	    cmocka_unit_test(test_set_list),
	    cmocka_unit_test(test_set_drives),
	    cmocka_unit_test(test_build_from_new),
	    cmocka_unit_test(test_set_refused),
	    cmocka_unit_test(test_too_many_sections),
	    cmocka_unit_test(test_unset),
	    cmocka_unit_test(test_remove_section),
	    cmocka_unit_test(test_edits_read_back),
	    cmocka_unit_test(test_validate_after_edits),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
