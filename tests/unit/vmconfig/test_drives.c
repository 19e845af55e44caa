/* IDE drives from a vmconfig: where each [disk] and [dvd] lands (explicit
 * positions, partial ones, the rule for the rest) and the spec's drive fields. */
#include "vctest.h"
#include "vmconfig/internal.h"

#include <errno.h>

#define N(a) (sizeof(a) / sizeof((a)[0]))

/* The section names at positions 0:0, 0:1, 1:0, 1:1 as "a b - cd" ("-"
 * for none, "(dvd)" for an unnamed DVD drive), through vmconfig_to_spec. */
static void placed(const char *text, char *buf, size_t size)
{
	struct vmconfig *cfg = vct_parse(text, "p.vmconfig");
	struct vmconfig_error err;
	struct vm_spec s;
	size_t o = 0;

	vm_spec_defaults(&s);
	if (vmconfig_to_spec(cfg, &s, &err))
		fail_msg("%s: %s", text, err.message);
	for (unsigned i = 0; i < VM_IDE_DRIVES; i++) {
		const struct drive_spec *d = &s.ide[i];
		const char *name = d->media == DRIVE_NONE  ? "-"
				   : d->name[0]		   ? d->name
				   : d->media == DRIVE_DVD ? "(dvd)"
							   : "(disk)";

		o += snprintf(buf + o, size - o, "%s%s", i ? " " : "", name);
	}
	vmconfig_free(cfg);
}

static void test_positions(void **state)
{
	static const struct {
		const char *text, *want;
	} cases[] = {
	    /* Disks first, each at the first free position. */
	    {"[disk \"a\"]\nfile = a\n", "a - - -"},
	    {"[disk \"a\"]\nfile = a\n[disk \"b\"]\nfile = b\n", "a b - -"},
	    /* A lone DVD drive: 1:0 (secondary master), as in Hyper-V. */
	    {"[dvd \"cd\"]\n", "- - cd -"},
	    {"[dvd]\nfile = x.iso\n", "- - (dvd) -"},
	    {"[disk \"a\"]\nfile = a\n[dvd \"cd\"]\n", "a - cd -"},
	    {"[dvd \"cd\"]\n[disk \"a\"]\nfile = a\n", "a - cd -"},
	    {"[disk \"a\"]\nfile = a\n[disk \"b\"]\nfile = b\n[dvd \"cd\"]\n", "a b cd -"},
	    /* ... unless the disks took it. */
	    {"[disk \"a\"]\nfile = a\n[disk \"b\"]\nfile = b\n[disk \"c\"]\nfile = c\n"
	     "[dvd \"cd\"]\n",
	     "a b c cd"},
	    /* Several DVD drives: after the disks, in file order. */
	    {"[dvd \"x\"]\n[dvd \"y\"]\n", "x y - -"},
	    {"[dvd \"x\"]\n[disk \"a\"]\nfile = a\n[dvd \"y\"]\n", "a x y -"},
	    {"[dvd \"x\"]\n[dvd \"y\"]\n[dvd]\n[dvd \"z\"]\n", "x y (dvd) z"},
	    /* Explicit positions first; the rest around them. */
	    {"[disk \"a\"]\nfile = a\ncontroller = 1\nlocation = 1\n", "- - - a"},
	    {"[disk \"a\"]\nfile = a\ncontroller = 1\nlocation = 1\n[dvd \"cd\"]\n", "- - cd a"},
	    {"[disk \"a\"]\nfile = a\n[dvd \"cd\"]\ncontroller = 0\nlocation = 0\n", "cd a - -"},
	    {"[disk \"a\"]\nfile = a\ncontroller = 1\nlocation = 0\n[dvd \"cd\"]\n", "cd - a -"},
	    {"[disk \"a\"]\nfile = a\n[disk \"b\"]\nfile = b\ncontroller = 0\nlocation = 0\n",
	     "b a - -"},
	    {"[dvd \"x\"]\ncontroller = 1\nlocation = 0\n[dvd \"y\"]\n", "y - x -"},
	    /* One of the two keys: the first free position that matches. */
	    {"[disk \"a\"]\nfile = a\ncontroller = 1\n", "- - a -"},
	    {"[disk \"a\"]\nfile = a\nlocation = 1\n", "- a - -"},
	    {"[disk \"a\"]\nfile = a\ncontroller = 1\n[dvd \"cd\"]\n", "cd - a -"},
	    {"[disk \"a\"]\nfile = a\n[disk \"b\"]\nfile = b\ncontroller = 0\n", "b a - -"},
	    {"[dvd \"x\"]\nlocation = 1\n[dvd \"y\"]\nlocation = 1\n", "- x - y"},
	    {"[disk \"a\"]\nfile = a\ncontroller = 0\nlocation = 1\n[dvd \"x\"]\nlocation = 1\n",
	     "- a - x"},
	    /* bus = ide written out, in any case, is the default. */
	    {"[dvd \"cd\"]\n[disk \"v\"]\nfile = v\nbus = IDE\n", "v - cd -"},
	    /* The example of osio-vmconfig(5). */
	    {"[disk \"system\"]\nfile = s\ncontroller = 0\nlocation = 0\n[disk \"scratch\"]\n"
	     "file = t\ncontroller = 1\nlocation = 1\n[dvd \"tools\"]\ncontroller = 0\n",
	     "system tools - scratch"},
	    /* All four. */
	    {"[dvd \"w\"]\ncontroller = 1\nlocation = 1\n[disk \"x\"]\nfile = x\nlocation = 0\n"
	     "[dvd \"y\"]\n[disk \"z\"]\nfile = z\n",
	     "x z y w"},
	};
	char buf[256];

	for (size_t i = 0; i < N(cases); i++) {
		placed(cases[i].text, buf, sizeof(buf));
		if (strcmp(buf, cases[i].want) != 0)
			fail_msg("case %zu: got '%s', wanted '%s'", i, buf, cases[i].want);
	}
}

/* Disks on virtio take no IDE position (to_spec refuses them for now). */
static void test_virtio_not_placed(void **state)
{
	struct vmconfig *cfg =
	    vct_parse("[disk \"v\"]\nfile = v\nbus = virtio\n[disk \"a\"]\nfile = "
		      "a\n[dvd]\n[disk \"w\"]\nfile = w\nbus = virtio\n",
		      NULL);
	struct vmconfig_error err;
	long pos[VM_IDE_DRIVES];

	assert_int_equal(vc_place_drives(cfg, pos, &err), 0);
	assert_int_equal(pos[0], vmconfig_line(cfg, "disk", "a", NULL) - 1);
	assert_int_equal(pos[1], -1);
	assert_int_equal(pos[2], vmconfig_line(cfg, "dvd", NULL, NULL) - 1);
	assert_int_equal(pos[3], -1);
	vmconfig_free(cfg);
}

/* What each position holds: media, resolved path, read-only, name. */
static void test_drive_fields(void **state)
{
	struct vmconfig *cfg =
	    vct_parse("[disk \"sys\"]\nfile = images/sys.img\n\n[disk \"ro\"]\nfile = /srv/ro.img\n"
		      "readonly = yes\n\n[dvd]\n\n[dvd \"cd2\"]\nfile = \"\"\ncontroller = 1\n",
		      "vms/x.vmconfig");
	struct vmconfig_error err;
	struct vm_spec s;

	vm_spec_defaults(&s);
	assert_int_equal(vmconfig_to_spec(cfg, &s, &err), 0);
	assert_int_equal(s.ide[0].media, DRIVE_DISK);
	assert_string_equal(s.ide[0].path, "vms/images/sys.img");
	assert_false(s.ide[0].readonly);
	assert_string_equal(s.ide[0].name, "sys");
	assert_int_equal(s.ide[1].media, DRIVE_DISK);
	assert_string_equal(s.ide[1].path, "/srv/ro.img");
	assert_true(s.ide[1].readonly);
	assert_string_equal(s.ide[1].name, "ro");
	/* cd2 asked for controller 1 and got 1:0; the unnamed one the rest. */
	assert_int_equal(s.ide[2].media, DRIVE_DVD);
	assert_string_equal(s.ide[2].name, "cd2");
	assert_string_equal(s.ide[2].path, ""); /* file = "": empty */
	assert_true(s.ide[2].readonly);
	assert_int_equal(s.ide[3].media, DRIVE_DVD);
	assert_string_equal(s.ide[3].name, "");
	assert_string_equal(s.ide[3].path, ""); /* no file: empty */
	assert_true(s.ide[3].readonly);
	vmconfig_free(cfg);
}

/* A file with drives sets all four positions; one without leaves them. */
static void test_drives_on_top(void **state)
{
	struct vmconfig *cfg = vct_parse("[dvd \"cd\"]\nfile = a.iso\n", NULL);
	struct vmconfig_error err;
	struct vm_spec s;

	vm_spec_defaults(&s);
	s.ide[3].media = DRIVE_DISK;
	snprintf(s.ide[3].path, sizeof(s.ide[3].path), "old.img");
	s.ide[2].readonly = false;
	assert_int_equal(vmconfig_to_spec(cfg, &s, &err), 0);
	assert_int_equal(s.ide[3].media, DRIVE_NONE);
	assert_string_equal(s.ide[3].path, "");
	assert_int_equal(s.ide[2].media, DRIVE_DVD);
	assert_string_equal(s.ide[2].path, "a.iso");
	vmconfig_free(cfg);

	cfg = vct_parse("[vm]\ncpus = 2\n", NULL);
	vm_spec_defaults(&s);
	s.ide[1].media = DRIVE_DVD;
	assert_int_equal(vmconfig_to_spec(cfg, &s, &err), 0);
	assert_int_equal(s.ide[1].media, DRIVE_DVD);
	vmconfig_free(cfg);
}

/* A drive's path too long once joined to the directory: its line, and
 * spec untouched. */
static void test_drive_path_too_long(void **state)
{
	char file[PATH_MAX], text[PATH_MAX + 64];
	struct vmconfig_error err;
	struct vmconfig *cfg;
	struct vm_spec s, before;

	memset(file, 'f', PATH_MAX - 4);
	file[PATH_MAX - 4] = '\0';
	snprintf(text, sizeof(text), "[vm]\ncpus = 2\n[dvd \"cd\"]\nfile = %s\n", file);
	cfg = vct_parse(text, "dir/x.vmconfig");
	vm_spec_defaults(&s);
	before = s;
	assert_int_equal(vmconfig_to_spec(cfg, &s, &err), -EINVAL);
	assert_int_equal(err.line, 4);
	assert_int_equal(err.column, 8);
	assert_non_null(strstr(err.message, "file = 'ffff"));
	assert_non_null(strstr(err.message, "the path is too long (4096 bytes once joined"));
	assert_memory_equal(&s, &before, sizeof(s));
	vmconfig_free(cfg);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_positions),		cmocka_unit_test(test_virtio_not_placed),
	    cmocka_unit_test(test_drive_fields),	cmocka_unit_test(test_drives_on_top),
	    cmocka_unit_test(test_drive_path_too_long),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
