/* The keys of issue 5 from vmconfig to the worker's settings: disks on
 * virtio in file order, image formats, serial numbers and queues, what a
 * host disk error does, virtio-rng and the virtio console; and what is
 * refused, with its line. */
#include "vctest.h"

#include "hypervisor/boot/firmware.h"

#include <errno.h>

static void test_virtio_disks(void **state)
{
	struct vmconfig *cfg =
	    vct_parse("[vm]\nname = ws\ncpus = 2\n"
		      "[disk \"sys\"]\nfile = sys.vhdx\nformat = VHDX\n"
		      "[disk \"data\"]\nfile = /d/data.qcow2\nbus = virtio\nformat = qcow2\n"
		      "queues = 3\nreadonly = yes\n"
		      "[disk]\nfile = scratch.img\nbus = Virtio\nserial = S-1.2_x\n"
		      "[dvd]\n",
		      "/etc/vms/ws.vmconfig");
	struct vmconfig_error err;
	struct vm_spec s;

	vm_spec_defaults(&s);
	assert_int_equal(vmconfig_to_spec(cfg, &s, &err), 0);
	/* IDE: the first disk and the DVD drive. */
	assert_int_equal(s.ide[0].media, DRIVE_DISK);
	assert_string_equal(s.ide[0].path, "/etc/vms/sys.vhdx");
	assert_string_equal(s.ide[0].format, "vhdx");
	assert_string_equal(s.ide[0].serial, ""); /* IDE keeps the controller's default */
	assert_string_equal(s.ide[0].origin, "/etc/vms/ws.vmconfig:4");
	assert_int_equal(s.ide[2].media, DRIVE_DVD);
	/* virtio: in file order. */
	assert_int_equal(s.nvirtio, 2);
	assert_int_equal(s.virtio[0].media, DRIVE_DISK);
	assert_string_equal(s.virtio[0].name, "data");
	assert_string_equal(s.virtio[0].path, "/d/data.qcow2");
	assert_string_equal(s.virtio[0].format, "qcow2");
	assert_int_equal(s.virtio[0].queues, 3);
	assert_true(s.virtio[0].readonly);
	assert_string_equal(s.virtio[0].serial, "ws-data");
	assert_string_equal(s.virtio[0].origin, "/etc/vms/ws.vmconfig:7");
	assert_string_equal(s.virtio[1].name, "");
	assert_string_equal(s.virtio[1].path, "/etc/vms/scratch.img");
	assert_string_equal(s.virtio[1].format, ""); /* recognized by its contents */
	assert_int_equal(s.virtio[1].queues, 0);     /* one per vCPU */
	assert_false(s.virtio[1].readonly);
	assert_string_equal(s.virtio[1].serial, "S-1.2_x");
	/* Nothing else changes. */
	assert_int_equal(s.on_disk_error, ON_DISK_ERROR_REPORT);
	assert_int_equal(s.rng, RNG_NONE);
	assert_false(s.console.present);
	vmconfig_free(cfg);
}

/* format = auto is no format; a file without virtio disks leaves the list
 * alone, one with them replaces it. */
static void test_on_top(void **state)
{
	struct vmconfig *a = vct_parse("[disk]\nfile = a.img\nformat = auto\n", NULL);
	struct vmconfig *b = vct_parse("[disk]\nfile = b.img\nbus = virtio\n", NULL);
	struct vmconfig_error err;
	struct vm_spec s;

	vm_spec_defaults(&s);
	s.nvirtio = 1;
	snprintf(s.virtio[0].path, sizeof(s.virtio[0].path), "old.img");
	assert_int_equal(vmconfig_to_spec(a, &s, &err), 0);
	assert_string_equal(s.ide[0].format, "");
	assert_string_equal(s.ide[0].origin, ""); /* no file to name */
	assert_int_equal(s.nvirtio, 1);
	assert_string_equal(s.virtio[0].path, "old.img");
	assert_int_equal(vmconfig_to_spec(b, &s, &err), 0);
	assert_int_equal(s.nvirtio, 1);
	assert_string_equal(s.virtio[0].path, "b.img");
	assert_string_equal(s.virtio[0].serial, "vm-vd0");
	vmconfig_free(a);
	vmconfig_free(b);
}

static void test_serial_default(void **state)
{
	char out[VM_DISK_SERIAL_MAX + 1], again[VM_DISK_SERIAL_MAX + 1];

	vm_disk_serial("vm", "data", out);
	assert_string_equal(out, "vm-data");
	vm_disk_serial("workstation", "12345678", out); /* 20 bytes exactly */
	assert_string_equal(out, "workstation-12345678");
	vm_disk_serial("workstation", "123456789", out);
	assert_int_equal(strlen(out), VM_DISK_SERIAL_MAX);
	assert_memory_equal(out, "workstation-", 12);
	vm_disk_serial("workstation", "123456789", again);
	assert_string_equal(out, again); /* stable */
	vm_disk_serial("workstation", "123456780", again);
	assert_string_not_equal(out, again); /* and told apart */
}

static void test_vm_keys(void **state)
{
	struct vmconfig *cfg = vct_parse("[vm]\non_disk_error = Pause\nrng = virtio\n[console]\n"
					 "[serial \"com2\"]\nbackend = pty\n",
					 NULL);
	struct vmconfig *file = vct_parse("[console]\nbackend = file\npath = con.log\n", "/x/v");
	struct vmconfig *stdio =
	    vct_parse("[serial \"com1\"]\nbackend = none\n[console]\nbackend = stdio\n", NULL);
	struct vmconfig_error err;
	struct vm_spec s;

	vm_spec_defaults(&s);
	assert_int_equal(vmconfig_to_spec(cfg, &s, &err), 0);
	assert_int_equal(s.on_disk_error, ON_DISK_ERROR_PAUSE);
	assert_int_equal(s.rng, RNG_VIRTIO);
	assert_true(s.console.present);
	assert_int_equal(s.console.backend, SERIAL_PTY); /* the default */
	assert_int_equal(vmconfig_to_spec(file, &s, &err), 0);
	assert_int_equal(s.console.backend, SERIAL_FILE);
	assert_string_equal(s.console.path, "/x/con.log");
	vm_spec_defaults(&s);
	assert_int_equal(vmconfig_to_spec(stdio, &s, &err), 0);
	assert_int_equal(s.console.backend, SERIAL_STDIO);
	vmconfig_free(cfg);
	vmconfig_free(file);
	vmconfig_free(stdio);
}

struct bad {
	const char *text;
	unsigned line;
	const char *message;
};

static void expect_refused(const struct bad *cases, size_t n, bool at_spec)
{
	struct vmconfig_error err;
	char buf[1024];

	for (size_t i = 0; i < n; i++) {
		struct vmconfig *cfg;

		memset(&err, 0, sizeof(err));
		if (at_spec) {
			struct vm_spec s;

			cfg = vct_parse(cases[i].text, "vm.vmconfig");
			vm_spec_defaults(&s);
			assert_int_equal(vmconfig_to_spec(cfg, &s, &err), -EINVAL);
			vmconfig_free(cfg);
		} else {
			cfg = vmconfig_parse(cases[i].text, strlen(cases[i].text), "vm.vmconfig",
					     &err);
			if (cfg)
				fail_msg("case %zu parsed", i);
		}
		vmconfig_error_format(&err, buf, sizeof(buf));
		if (!strstr(buf, cases[i].message))
			fail_msg("case %zu: %s\nwanted: %s", i, buf, cases[i].message);
		if (err.line != cases[i].line)
			fail_msg("case %zu: line %u, wanted %u", i, err.line, cases[i].line);
	}
}

static void test_refused(void **state)
{
	static const struct bad cases[] = {
	    {"[disk]\nfile = a\nqueues = 2\n", 3,
	     "[disk]: queues is used only with bus = virtio; remove queues or add a line bus = "
	     "virtio"},
	    {"[disk]\nfile = a\nbus = virtio\nqueues = 0\n", 4,
	     "queues = '0': out of range; write a number from 1 to 64"},
	    {"[disk]\nfile = a\nbus = virtio\nqueues = 65\n", 4, "queues = '65'"},
	    {"[disk]\nfile = a\nformat = vmdk\n", 3,
	     "format = 'vmdk': not one of auto, raw, vhdx, vhd, qcow2"},
	    {"[disk]\nfile = a\nformat = qcow\n", 3, "did you mean 'qcow2'?"},
	    {"[disk]\nfile = a\nbus = virtio\nserial = \"my disk\"\n", 4,
	     "[disk]: serial = 'my disk': a serial number is letters, digits and punctuation"},
	    {"[disk]\nfile = a\nbus = virtio\nserial = 123456789012345678901\n", 4,
	     "serial = '123456789012345678901': too long (21 bytes; at most 20)"},
	    {"[vm]\non_disk_error = stop\n", 2, "on_disk_error = 'stop': not one of report, pause"},
	    {"[vm]\nrng = yes\n", 2, "rng = 'yes': not one of none, virtio"},
	    {"[console \"c\"]\n", 1, "[console \"c\"]: [console] takes no name"},
	    {"[console]\nbackend = socket\n", 2,
	     "[console]: backend = socket needs a path; add a line path = /run/NAME.sock"},
	    {"[console]\npath = /x\n", 2,
	     "[console]: path is used only with backend = socket or file"},
	};

	expect_refused(cases, sizeof(cases) / sizeof(cases[0]), false);
}

static void test_too_many_virtio(void **state)
{
	char text[4096];
	size_t n = 0;
	struct bad c = {text, 0,
			"[disk \"v16\"]: disk 17 on bus = virtio, but a VM has at most 16"};

	for (unsigned i = 0; i <= VM_VIRTIO_DISKS; i++)
		n += (size_t)snprintf(text + n, sizeof(text) - n,
				      "[disk \"v%u\"]\nfile = v%u.img\nbus = virtio\n", i, i);
	c.line = 3 * VM_VIRTIO_DISKS + 3;
	expect_refused(&c, 1, false);
	/* Sixteen are fine. */
	text[n - strlen("[disk \"v16\"]\nfile = v16.img\nbus = virtio\n")] = '\0';
	struct vmconfig *cfg = vct_parse(text, NULL);
	struct vmconfig_error err;
	struct vm_spec s;

	vm_spec_defaults(&s);
	assert_int_equal(vmconfig_to_spec(cfg, &s, &err), 0);
	assert_int_equal(s.nvirtio, VM_VIRTIO_DISKS);
	assert_string_equal(s.virtio[15].path, "v15.img");
	vmconfig_free(cfg);
}

/* The terminal goes to one of COM1-4 and the console. */
static void test_console_stdio(void **state)
{
	static const struct bad cases[] = {
	    {"[vm]\n[console]\nbackend = stdio\n", 2,
	     "[console]: COM1 already uses stdio (the terminal) by default; set backend = pty, "
	     "socket, file or none here, or another backend for COM1"},
	    {"[console]\nbackend = stdio\n[serial \"com2\"]\nbackend = stdio\n"
	     "[serial \"com1\"]\nbackend = none\n",
	     1, "COM2 already uses stdio (the terminal);"},
	};

	expect_refused(cases, sizeof(cases) / sizeof(cases[0]), true);
}

/* SeaBIOS boots the disks IDE first, then virtio by PCI slot (3, 4, ...),
 * named as QEMU names them. */
static void test_bootorder(void **state)
{
	struct vmconfig *cfg =
	    vct_parse("[boot]\norder = disk, dvd\n[disk \"v0\"]\nfile = a\nbus = virtio\n"
		      "[disk \"v1\"]\nfile = b\nbus = virtio\n[disk]\nfile = c\n[dvd]\n",
		      NULL);
	struct vmconfig_error err;
	struct vm_spec s;
	char out[1024];

	vm_spec_defaults(&s);
	assert_int_equal(vmconfig_to_spec(cfg, &s, &err), 0);
	assert_int_equal(firmware_bootorder(&s, out, sizeof(out)), 0);
	assert_string_equal(out, "/pci@i0cf8/ide@1,1/drive@0/disk@0\n"
				 "/pci@i0cf8/scsi@3/disk@0,0\n"
				 "/pci@i0cf8/scsi@4/disk@0,0\n"
				 "/pci@i0cf8/ide@1,1/drive@1/disk@0\n"
				 "HALT\n");
	vmconfig_free(cfg);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_virtio_disks),   cmocka_unit_test(test_on_top),
	    cmocka_unit_test(test_serial_default), cmocka_unit_test(test_vm_keys),
	    cmocka_unit_test(test_refused),	   cmocka_unit_test(test_too_many_virtio),
	    cmocka_unit_test(test_console_stdio),  cmocka_unit_test(test_bootorder),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
