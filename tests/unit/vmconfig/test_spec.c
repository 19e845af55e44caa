/* vmconfig to the worker's settings: defaults, values, paths relative to the
 * vmconfig's directory, serial ports, firmware and boot order, the display,
 * what is refused with its line. (IDE drives: test_drives.c.) */
#include "vctest.h"

#include <errno.h>

static struct vmconfig *load_example(const char *name, char *path, size_t size)
{
	struct vmconfig_error err;
	struct vmconfig *cfg;
	char rel[128];

	snprintf(rel, sizeof(rel), "share/examples/%s", name);
	vct_source_path(rel, path, size);
	cfg = vmconfig_load(path, &err);
	if (!cfg)
		fail_msg("%s: %s", name, err.message);
	return cfg;
}

/* The directory part of path, with its '/'. */
static void dir_of(const char *path, char *buf, size_t size)
{
	const char *slash = strrchr(path, '/');

	snprintf(buf, size, "%.*s", slash ? (int)(slash - path) + 1 : 0, path);
}

static void test_defaults(void **state)
{
	struct vm_spec s;

	memset(&s, 0x5a, sizeof(s));
	vm_spec_defaults(&s);
	assert_string_equal(s.name, "vm");
	assert_true(s.memory == 512ull << 20);
	assert_int_equal(s.cpus, 1);
	assert_false(s.hugepages);
	assert_int_equal(s.on_reboot, ON_REBOOT_RESET);
	assert_string_equal(s.kernel, "");
	assert_string_equal(s.initrd, "");
	assert_string_equal(s.append, "");
	assert_true(s.serial[0].present);
	assert_int_equal(s.serial[0].backend, SERIAL_STDIO);
	for (int i = 1; i < VM_SERIAL_PORTS; i++)
		assert_false(s.serial[i].present);
	assert_int_equal(s.firmware, FIRMWARE_AUTO);
	assert_string_equal(s.bios, "");
	assert_string_equal(s.vgabios, "");
	assert_int_equal(s.boot_order_n, 3);
	assert_int_equal(s.boot_order[0], BOOT_DVD);
	assert_int_equal(s.boot_order[1], BOOT_DISK);
	assert_int_equal(s.boot_order[2], BOOT_NETWORK);
	for (int i = 0; i < VM_IDE_DRIVES; i++) {
		assert_int_equal(s.ide[i].media, DRIVE_NONE);
		assert_string_equal(s.ide[i].path, "");
	}
	assert_int_equal(s.display, DISPLAY_VGA);

	/* An empty file changes nothing. */
	struct vm_spec t = s;
	struct vmconfig *cfg = vct_parse("# nothing\n", "x.vmconfig");
	struct vmconfig_error err;

	assert_int_equal(vmconfig_to_spec(cfg, &t, &err), 0);
	assert_memory_equal(&t, &s, sizeof(s));
	vmconfig_free(cfg);
}

static void test_linux_direct(void **state)
{
	char path[PATH_MAX], dir[PATH_MAX], want[PATH_MAX + 32];
	struct vmconfig *cfg = load_example("linux-direct.vmconfig", path, sizeof(path));
	struct vmconfig_error err;
	struct vm_spec s;

	vm_spec_defaults(&s);
	assert_int_equal(vmconfig_to_spec(cfg, &s, &err), 0);
	dir_of(path, dir, sizeof(dir));
	assert_string_equal(s.name, "debian-direct");
	assert_true(s.memory == 1ull << 30);
	assert_int_equal(s.cpus, 2);
	assert_int_equal(s.on_reboot, ON_REBOOT_EXIT);
	snprintf(want, sizeof(want), "%svmlinuz", dir);
	assert_string_equal(s.kernel, want);
	snprintf(want, sizeof(want), "%sinitrd.img", dir);
	assert_string_equal(s.initrd, want);
	assert_string_equal(s.append, "console=ttyS0 earlyprintk=serial panic=-1");
	assert_true(s.serial[0].present);
	assert_int_equal(s.serial[0].backend, SERIAL_STDIO);
	assert_false(s.serial[1].present);
	vmconfig_free(cfg);

	cfg = load_example("multiboot-test.vmconfig", path, sizeof(path));
	vm_spec_defaults(&s);
	assert_int_equal(vmconfig_to_spec(cfg, &s, &err), 0);
	assert_true(s.memory == 16ull << 20);
	snprintf(want, sizeof(want), "%sdebugexit.elf", dir);
	assert_string_equal(s.kernel, want);
	vmconfig_free(cfg);
}

static void test_serial_pty(void **state)
{
	char path[PATH_MAX], dir[PATH_MAX], want[PATH_MAX + 32];
	struct vmconfig *cfg = load_example("serial-pty.vmconfig", path, sizeof(path));
	struct vmconfig_error err;
	struct vm_spec s;

	vm_spec_defaults(&s);
	assert_int_equal(vmconfig_to_spec(cfg, &s, &err), 0);
	dir_of(path, dir, sizeof(dir));
	assert_true(s.serial[0].present);
	assert_int_equal(s.serial[0].backend, SERIAL_PTY);
	assert_true(s.serial[1].present);
	assert_int_equal(s.serial[1].backend, SERIAL_FILE);
	snprintf(want, sizeof(want), "%slogs/com2.log", dir);
	assert_string_equal(s.serial[1].path, want);
	assert_false(s.serial[2].present);
	assert_false(s.serial[3].present);
	assert_true(s.memory == 512ull << 20);
	vmconfig_free(cfg);
}

static void resolve_case(const char *cfgpath, const char *kernel, const char *want)
{
	char text[512];
	struct vmconfig_error err;
	struct vmconfig *cfg;
	struct vm_spec s;

	snprintf(text, sizeof(text), "[boot]\nkernel = \"%s\"\n", kernel);
	cfg = vct_parse(text, cfgpath);
	vm_spec_defaults(&s);
	assert_int_equal(vmconfig_to_spec(cfg, &s, &err), 0);
	assert_string_equal(s.kernel, want);
	vmconfig_free(cfg);
}

static void test_relative_paths(void **state)
{
	resolve_case("vms/dev/box.vmconfig", "vmlinuz", "vms/dev/vmlinuz");
	resolve_case("vms/dev/box.vmconfig", "../k/vmlinuz", "vms/dev/../k/vmlinuz");
	resolve_case("vms/dev/box.vmconfig", "/boot/vmlinuz", "/boot/vmlinuz");
	resolve_case("/etc/osio/box.vmconfig", "vmlinuz", "/etc/osio/vmlinuz");
	resolve_case("/box.vmconfig", "vmlinuz", "/vmlinuz");
	resolve_case("box.vmconfig", "vmlinuz", "vmlinuz");
	resolve_case(NULL, "vmlinuz", "vmlinuz");
	resolve_case("a/box.vmconfig", "with space/k", "a/with space/k");
	/* A socket path is absolute; a file path is resolved. */
	struct vmconfig *cfg = vct_parse("[serial \"com1\"]\nbackend = socket\npath = /run/a.sock\n"
					 "[serial \"com4\"]\nbackend = file\npath = out.log\n",
					 "d/x.vmconfig");
	struct vmconfig_error err;
	struct vm_spec s;

	vm_spec_defaults(&s);
	assert_int_equal(vmconfig_to_spec(cfg, &s, &err), 0);
	assert_int_equal(s.serial[0].backend, SERIAL_SOCKET);
	assert_string_equal(s.serial[0].path, "/run/a.sock");
	assert_int_equal(s.serial[3].backend, SERIAL_FILE);
	assert_string_equal(s.serial[3].path, "d/out.log");
	vmconfig_free(cfg);
}

static void test_path_too_long(void **state)
{
	char dir[300], kernel[4000], *text;
	struct vmconfig_error err;
	struct vmconfig *cfg;
	struct vm_spec s, before;
	size_t n = 4000 + 64;

	memset(dir, 'd', sizeof(dir));
	memcpy(dir + sizeof(dir) - 12, "/x.vmconfig", 12);
	memset(kernel, 'k', sizeof(kernel));
	kernel[sizeof(kernel) - 1] = '\0';
	text = malloc(n);
	assert_non_null(text);
	snprintf(text, n, "[vm]\ncpus = 3\n[boot]\nkernel = %s\n", kernel);
	/* 3999 bytes alone fit; joined to the 289-byte directory they do not. */
	cfg = vct_parse(text, dir);
	vm_spec_defaults(&s);
	before = s;
	assert_int_equal(vmconfig_to_spec(cfg, &s, &err), -EINVAL);
	assert_int_equal(err.line, 4);
	assert_int_equal(err.column, 10);
	assert_non_null(strstr(err.message, "kernel = 'kkkkkkkk"));
	assert_non_null(strstr(err.message, "...': the path is too long (4288 bytes once joined to "
					    "the vmconfig's directory; at most 4095); move the "
					    "file or use a shorter path"));
	/* spec is left alone on error, even the keys read before. */
	assert_memory_equal(&s, &before, sizeof(s));
	vmconfig_free(cfg);

	cfg = vct_parse(text, "x.vmconfig");
	assert_int_equal(vmconfig_to_spec(cfg, &s, &err), 0);
	assert_int_equal(strlen(s.kernel), 3999);
	assert_int_equal(s.cpus, 3);
	vmconfig_free(cfg);
	free(text);
}

/* Values land on top of what the spec held: absent keys leave it. */
static void test_on_top(void **state)
{
	struct vmconfig *cfg = vct_parse("[vm]\ncpus = 8\nhugepages = on\n", NULL);
	struct vmconfig_error err;
	struct vm_spec s;

	vm_spec_defaults(&s);
	s.memory = 3ull << 30;
	snprintf(s.name, sizeof(s.name), "from-cli");
	snprintf(s.kernel, sizeof(s.kernel), "/cli/kernel");
	assert_int_equal(vmconfig_to_spec(cfg, &s, &err), 0);
	assert_true(s.memory == 3ull << 30);
	assert_string_equal(s.name, "from-cli");
	assert_string_equal(s.kernel, "/cli/kernel");
	assert_int_equal(s.cpus, 8);
	assert_true(s.hugepages);
	vmconfig_free(cfg);
}

struct refusal {
	const char *text;
	unsigned line;
	const char *formatted;
};

static void test_display_vnc(void **state)
{
	struct vmconfig_error err;
	struct vm_spec s;
	struct vmconfig *cfg;

	vm_spec_defaults(&s);
	assert_int_equal(s.vnc.kind, VNC_AUTO);
	assert_string_equal(s.vnc.keymap, "en-us");

	cfg = vct_parse("[display]\nvnc = [::1]:5905\nvnc_password_file = pw\n"
			"vnc_insecure = yes\nkeymap = de\n",
			"/etc/vms/vm.vmconfig");
	vm_spec_defaults(&s);
	assert_int_equal(vmconfig_to_spec(cfg, &s, &err), 0);
	assert_int_equal(s.vnc.kind, VNC_TCP);
	assert_string_equal(s.vnc.host, "::1");
	assert_int_equal(s.vnc.port, 5905);
	assert_string_equal(s.vnc.password_file, "/etc/vms/pw");
	assert_true(s.vnc.insecure);
	assert_string_equal(s.vnc.keymap, "de");
	vmconfig_free(cfg);

	cfg = vct_parse("[display]\nvnc = /run/vm.vnc\n", "vm.vmconfig");
	vm_spec_defaults(&s);
	assert_int_equal(vmconfig_to_spec(cfg, &s, &err), 0);
	assert_int_equal(s.vnc.kind, VNC_UNIX);
	assert_string_equal(s.vnc.path, "/run/vm.vnc");
	vmconfig_free(cfg);

	/* No adapter, no VNC. */
	cfg = vct_parse("[display]\nadapter = none\n", "vm.vmconfig");
	vm_spec_defaults(&s);
	assert_int_equal(vmconfig_to_spec(cfg, &s, &err), 0);
	assert_int_equal(s.display, DISPLAY_NONE);
	assert_int_equal(s.vnc.kind, VNC_NONE);
	vmconfig_free(cfg);
}

static void test_refused_sections(void **state)
{
	static const struct refusal cases[] = {
	    {"[serial \"com2\"]\nbackend = stdio\n", 1,
	     "vm.vmconfig:1: error: [serial \"com2\"]: COM1 already uses stdio (the terminal) "
	     "by default; set backend = pty, socket, file or none on one of them"},
	    {"[serial \"com3\"]\n[serial \"com1\"]\n", 1,
	     "vm.vmconfig:1: error: [serial \"com3\"]: COM1 already uses stdio (the terminal); "
	     "set backend = pty, socket, file or none on one of them"},
	};
	struct vmconfig_error err;
	char buf[1024];

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct vmconfig *cfg = vct_parse(cases[i].text, "vm.vmconfig");
		struct vm_spec s, before;

		vm_spec_defaults(&s);
		before = s;
		assert_int_equal(vmconfig_to_spec(cfg, &s, &err), -EINVAL);
		vmconfig_error_format(&err, buf, sizeof(buf));
		if (strcmp(buf, cases[i].formatted) != 0)
			fail_msg("case %zu: %s", i, buf);
		assert_int_equal(err.line, cases[i].line);
		assert_memory_equal(&s, &before, sizeof(s));
		vmconfig_free(cfg);
	}
}

static void test_accepted_sections(void **state)
{
	struct vmconfig *cfg =
	    vct_parse("[display]\nvnc = none\n[serial \"com1\"]\nbackend = none\n"
		      "[serial \"com2\"]\n[disk]\nfile = d.img\nbus = IDE\n[dvd]\n",
		      NULL);
	struct vmconfig_error err;
	struct vm_spec s;

	vm_spec_defaults(&s);
	s.display = DISPLAY_NONE;
	assert_int_equal(vmconfig_to_spec(cfg, &s, &err), 0);
	assert_int_equal(s.serial[0].backend, SERIAL_NONE);
	assert_true(s.serial[1].present);
	assert_int_equal(s.serial[1].backend, SERIAL_STDIO);
	assert_int_equal(s.ide[0].media, DRIVE_DISK);
	assert_int_equal(s.ide[2].media, DRIVE_DVD);
	/* No adapter key: the display is left as it was. */
	assert_int_equal(s.display, DISPLAY_NONE);
	vmconfig_free(cfg);
}

/* The display adapter; without one, vnc defaults to none. */
static void test_display(void **state)
{
	static const struct {
		const char *text;
		enum display_adapter before, after;
	} cases[] = {
	    {"[display]\nadapter = none\n", DISPLAY_VGA, DISPLAY_NONE},
	    {"[display]\nadapter = None\nvnc = none\n", DISPLAY_VGA, DISPLAY_NONE},
	    {"[display]\nadapter = vga\nvnc = NONE\n", DISPLAY_NONE, DISPLAY_VGA},
	    {"[display]\nvnc = none\n", DISPLAY_NONE, DISPLAY_NONE},
	    {"[vm]\n", DISPLAY_NONE, DISPLAY_NONE},
	};
	struct vmconfig_error err;

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct vmconfig *cfg = vct_parse(cases[i].text, NULL);
		struct vm_spec s;

		vm_spec_defaults(&s);
		s.display = cases[i].before;
		assert_int_equal(vmconfig_to_spec(cfg, &s, &err), 0);
		assert_int_equal(s.display, cases[i].after);
		vmconfig_free(cfg);
	}
}

/* Firmware, its files (relative to the vmconfig) and the boot order. */
static void test_firmware(void **state)
{
	struct vmconfig *cfg =
	    vct_parse("[boot]\nfirmware = BIOS\nbios = fw/bios.bin\nvgabios = /opt/vga.bin\n"
		      "order = network, DVD\n",
		      "vms/a.vmconfig");
	struct vmconfig_error err;
	struct vm_spec s;

	vm_spec_defaults(&s);
	assert_int_equal(vmconfig_to_spec(cfg, &s, &err), 0);
	assert_int_equal(s.firmware, FIRMWARE_BIOS);
	assert_string_equal(s.bios, "vms/fw/bios.bin");
	assert_string_equal(s.vgabios, "/opt/vga.bin");
	assert_int_equal(s.boot_order_n, 2);
	assert_int_equal(s.boot_order[0], BOOT_NETWORK);
	assert_int_equal(s.boot_order[1], BOOT_DVD);
	vmconfig_free(cfg);

	/* A kernel: firmware none, or left to the worker (auto). */
	cfg = vct_parse("[boot]\nkernel = k\nfirmware = none\n", "vms/a.vmconfig");
	vm_spec_defaults(&s);
	assert_int_equal(vmconfig_to_spec(cfg, &s, &err), 0);
	assert_int_equal(s.firmware, FIRMWARE_NONE);
	assert_string_equal(s.kernel, "vms/k");
	assert_int_equal(s.boot_order_n, 3);
	vmconfig_free(cfg);
	cfg = vct_parse("[boot]\nkernel = k\n", NULL);
	vm_spec_defaults(&s);
	assert_int_equal(vmconfig_to_spec(cfg, &s, &err), 0);
	assert_int_equal(s.firmware, FIRMWARE_AUTO);
	vmconfig_free(cfg);

	/* One device. */
	cfg = vct_parse("[boot]\norder = disk\n", NULL);
	vm_spec_defaults(&s);
	assert_int_equal(vmconfig_to_spec(cfg, &s, &err), 0);
	assert_int_equal(s.firmware, FIRMWARE_AUTO);
	assert_int_equal(s.boot_order_n, 1);
	assert_int_equal(s.boot_order[0], BOOT_DISK);
	vmconfig_free(cfg);
}

/* A firmware path too long once joined to the directory: its line and
 * column, and spec untouched. */
static void test_firmware_path_too_long(void **state)
{
	char bios[PATH_MAX], text[PATH_MAX + 64];
	struct vmconfig_error err;
	struct vmconfig *cfg;
	struct vm_spec s, before;

	memset(bios, 'b', PATH_MAX - 10);
	bios[PATH_MAX - 10] = '\0';
	snprintf(text, sizeof(text), "[boot]\norder = disk\n  vgabios = %s\n", bios);
	cfg = vct_parse(text, "some/longer/dir/x.vmconfig");
	vm_spec_defaults(&s);
	before = s;
	assert_int_equal(vmconfig_to_spec(cfg, &s, &err), -EINVAL);
	assert_int_equal(err.line, 3);
	assert_int_equal(err.column, 13);
	assert_non_null(strstr(err.message, "vgabios = 'bbbb"));
	assert_non_null(strstr(err.message, "the path is too long (4102 bytes once joined"));
	assert_memory_equal(&s, &before, sizeof(s));
	vmconfig_free(cfg);
}

static void test_workstation_example(void **state)
{
	char path[PATH_MAX];
	struct vmconfig *cfg = load_example("workstation.vmconfig", path, sizeof(path));
	struct vmconfig_error err;
	struct vm_spec s;
	int r;

	vm_spec_defaults(&s);
	r = vmconfig_to_spec(cfg, &s, &err);
	assert_int_equal(r, 0);
	assert_int_equal(s.vnc.kind, VNC_TCP);
	assert_int_equal(s.vnc.port, 5901);
	assert_int_equal(s.ide[0].media, DRIVE_DISK);
	assert_string_equal(s.ide[0].name, "system");
	assert_int_equal(s.ide[2].media, DRIVE_DVD);
	assert_string_equal(s.ide[2].name, "installer");
	assert_int_equal(s.nvirtio, 1);
	assert_string_equal(s.virtio[0].name, "data");
	assert_string_equal(s.virtio[0].path, "/srv/vm images/data.qcow2");
	assert_string_equal(s.virtio[0].format, "qcow2");
	assert_string_equal(s.virtio[0].serial, "DATA-0001");
	assert_int_equal(s.virtio[0].queues, 2);
	assert_int_equal(s.on_disk_error, ON_DISK_ERROR_PAUSE);
	assert_int_equal(s.rng, RNG_VIRTIO);
	assert_true(s.console.present);
	assert_int_equal(s.console.backend, SERIAL_PTY);
	assert_int_equal(s.firmware, FIRMWARE_BIOS);
	assert_int_equal(s.boot_order_n, 2);
	assert_int_equal(s.boot_order[0], BOOT_DISK);
	assert_int_equal(s.boot_order[1], BOOT_DVD);
	assert_int_equal(s.nnics, 2);
	assert_string_equal(s.nics[0].name, "lan");
	assert_int_equal(s.nics[0].model, NIC_VIRTIO);
	assert_true(s.nics[0].has_mac);
	assert_int_equal(s.nics[0].mac[5], 0x56);
	assert_int_equal(s.nics[0].queues, 2);
	assert_int_equal(s.nics[0].nforward, 1);
	assert_string_equal(s.nics[0].forward[0], "tcp:127.0.0.1:2222 -> 22");
	assert_true(s.nics[0].connected);
	assert_string_equal(s.nics[1].switch_name, "lab");
	assert_false(s.nics[1].connected);
	vmconfig_free(cfg);
}

static void test_installer_example(void **state)
{
	char path[PATH_MAX], dir[PATH_MAX], want[PATH_MAX + 32];
	struct vmconfig *cfg = load_example("installer.vmconfig", path, sizeof(path));
	struct vmconfig_error err;
	struct vm_spec s;

	vm_spec_defaults(&s);
	assert_int_equal(vmconfig_to_spec(cfg, &s, &err), 0);
	dir_of(path, dir, sizeof(dir));
	assert_string_equal(s.name, "installer");
	assert_true(s.memory == 2ull << 30);
	assert_int_equal(s.firmware, FIRMWARE_AUTO);
	assert_string_equal(s.kernel, "");
	assert_int_equal(s.boot_order_n, 2);
	assert_int_equal(s.boot_order[0], BOOT_DVD);
	assert_int_equal(s.boot_order[1], BOOT_DISK);
	assert_int_equal(s.ide[0].media, DRIVE_DISK);
	snprintf(want, sizeof(want), "%sinstaller-disk.img", dir);
	assert_string_equal(s.ide[0].path, want);
	assert_false(s.ide[0].readonly);
	assert_int_equal(s.ide[1].media, DRIVE_NONE);
	assert_int_equal(s.ide[2].media, DRIVE_DVD);
	snprintf(want, sizeof(want), "%sdebian-netinst.iso", dir);
	assert_string_equal(s.ide[2].path, want);
	assert_true(s.ide[2].readonly);
	assert_int_equal(s.ide[3].media, DRIVE_NONE);
	assert_int_equal(s.display, DISPLAY_VGA);
	assert_true(s.serial[0].present);
	assert_int_equal(s.serial[0].backend, SERIAL_STDIO);
	vmconfig_free(cfg);
}

/* The command line's way: options into a new document, then the spec. */
static void test_from_options(void **state)
{
	struct vmconfig *cfg = vmconfig_new(NULL);
	struct vmconfig_error err;
	struct vm_spec s;

	assert_int_equal(vmconfig_set(cfg, "vm", NULL, "memory", "1.5G", &err), 0);
	assert_int_equal(vmconfig_set(cfg, "vm", NULL, "cpus", "4", &err), 0);
	assert_int_equal(vmconfig_set(cfg, "boot", NULL, "kernel", "bzImage", &err), 0);
	assert_int_equal(vmconfig_set(cfg, "serial", "com1", "backend", "socket", &err), 0);
	vm_spec_defaults(&s);
	/* The rules between keys hold here too. */
	assert_int_equal(vmconfig_to_spec(cfg, &s, &err), -EINVAL);
	assert_non_null(strstr(err.message, "backend = socket needs a path"));
	assert_int_equal(vmconfig_set(cfg, "serial", "com1", "path", "/tmp/s", &err), 0);
	assert_int_equal(vmconfig_to_spec(cfg, &s, &err), 0);
	assert_true(s.memory == 3ull << 29);
	assert_int_equal(s.cpus, 4);
	assert_string_equal(s.kernel, "bzImage");
	assert_int_equal(s.serial[0].backend, SERIAL_SOCKET);
	assert_string_equal(s.serial[0].path, "/tmp/s");
	vmconfig_free(cfg);

	/* Firmware boot from drives, as --disk, --dvd '', --boot and
	 * --firmware write them. */
	cfg = vmconfig_new(NULL);
	assert_int_equal(vmconfig_set(cfg, "disk", "disk0", "file", "/abs/a.img", &err), 0);
	assert_int_equal(vmconfig_set(cfg, "dvd", "dvd0", "file", "", &err), 0);
	assert_int_equal(vmconfig_set(cfg, "boot", NULL, "order", "disk,dvd", &err), 0);
	assert_int_equal(vmconfig_set(cfg, "boot", NULL, "firmware", "bios", &err), 0);
	vm_spec_defaults(&s);
	assert_int_equal(vmconfig_to_spec(cfg, &s, &err), 0);
	assert_int_equal(s.firmware, FIRMWARE_BIOS);
	assert_int_equal(s.ide[0].media, DRIVE_DISK);
	assert_string_equal(s.ide[0].path, "/abs/a.img");
	assert_string_equal(s.ide[0].name, "disk0");
	assert_int_equal(s.ide[2].media, DRIVE_DVD);
	assert_string_equal(s.ide[2].path, ""); /* an empty drive */
	assert_int_equal(s.boot_order_n, 2);
	/* --kernel on top of firmware = bios: the rule holds. */
	assert_int_equal(vmconfig_set(cfg, "boot", NULL, "kernel", "/k", &err), 0);
	assert_int_equal(vmconfig_to_spec(cfg, &s, &err), -EINVAL);
	assert_non_null(strstr(err.message, "firmware = bios, but the kernel"));
	vmconfig_free(cfg);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_defaults),
	    cmocka_unit_test(test_linux_direct),
	    cmocka_unit_test(test_serial_pty),
	    cmocka_unit_test(test_relative_paths),
	    cmocka_unit_test(test_path_too_long),
	    cmocka_unit_test(test_on_top),
	    cmocka_unit_test(test_display_vnc),
	    cmocka_unit_test(test_refused_sections),
	    cmocka_unit_test(test_accepted_sections),
	    cmocka_unit_test(test_display),
	    cmocka_unit_test(test_firmware),
	    cmocka_unit_test(test_firmware_path_too_long),
	    cmocka_unit_test(test_workstation_example),
	    cmocka_unit_test(test_installer_example),
	    cmocka_unit_test(test_from_options),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
