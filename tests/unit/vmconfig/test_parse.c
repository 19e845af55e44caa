/* vmconfig reading: files round-trip byte for byte (examples, odd spacing,
 * CRLF, BOM, no final newline) and every error names line, column and fix. */
#include "vctest.h"

#include <dirent.h>
#include <errno.h>
#include <sys/stat.h>
#include <unistd.h>

static void round_trip(const char *path)
{
	struct vmconfig_error err;
	struct vmconfig *cfg;
	size_t len, olen;
	char *text, *out, msg[1024];

	text = vct_read_file(path, &len);
	cfg = vmconfig_load(path, &err);
	if (!cfg) {
		vmconfig_error_format(&err, msg, sizeof(msg));
		fail_msg("%s does not parse: %s", path, msg);
	}
	out = vmconfig_format(cfg, &olen);
	assert_non_null(out);
	assert_int_equal(olen, len);
	assert_memory_equal(out, text, len);
	free(out);
	free(text);
	vmconfig_free(cfg);
}

static unsigned round_trip_dir(const char *dir)
{
	struct dirent *e;
	unsigned n = 0;
	DIR *d = opendir(dir);
	char path[PATH_MAX];

	assert_non_null(d);
	while ((e = readdir(d))) {
		size_t l = strlen(e->d_name);

		if (l < 9 || strcmp(e->d_name + l - 9, ".vmconfig") != 0)
			continue;
		snprintf(path, sizeof(path), "%s/%s", dir, e->d_name);
		round_trip(path);
		n++;
	}
	closedir(d);
	return n;
}

static void test_examples_round_trip(void **state)
{
	static const char *const required[] = {"linux-direct", "multiboot-test", "serial-pty",
					       "workstation", "installer"};
	char dir[PATH_MAX], path[PATH_MAX + 64];
	struct stat st;

	vct_source_path("share/examples", dir, sizeof(dir));
	for (size_t i = 0; i < sizeof(required) / sizeof(required[0]); i++) {
		snprintf(path, sizeof(path), "%s/%s.vmconfig", dir, required[i]);
		assert_int_equal(stat(path, &st), 0);
	}
	assert_true(round_trip_dir(dir) >= 5);
}

static void test_data_round_trip(void **state)
{
	assert_true(round_trip_dir(vct_data_dir()) >= 7);
}

static struct vmconfig *load_data(const char *name)
{
	char path[PATH_MAX];
	struct vmconfig_error err;
	struct vmconfig *cfg;

	snprintf(path, sizeof(path), "%s/%s", vct_data_dir(), name);
	cfg = vmconfig_load(path, &err);
	if (!cfg)
		fail_msg("%s: %s", name, err.message);
	return cfg;
}

/* Spacing, comments and quoting do not leak into the values. */
static void test_odd_spacing_values(void **state)
{
	struct vmconfig *cfg = load_data("odd-spacing.vmconfig");

	assert_string_equal(vmconfig_get(cfg, "vm", NULL, "name"), "tight");
	assert_string_equal(vmconfig_get(cfg, "vm", NULL, "memory"), "1.5G");
	assert_string_equal(vmconfig_get(cfg, "vm", NULL, "cpus"), "4");
	assert_string_equal(vmconfig_get(cfg, "vm", NULL, "hugepages"), "True");
	assert_string_equal(vmconfig_get(cfg, "vm", NULL, "on_reboot"), "EXIT");
	assert_string_equal(vmconfig_get(cfg, "boot", NULL, "kernel"), "kernels/vm linuz");
	assert_string_equal(vmconfig_get(cfg, "boot", NULL, "append"),
			    "quote \" backslash \\ tab \t # not a comment ; nor this");
	assert_string_equal(vmconfig_get(cfg, "boot", NULL, "initrd"), "initrd.img");
	assert_string_equal(vmconfig_get(cfg, "serial", "com2", "backend"), "file");
	assert_string_equal(vmconfig_get(cfg, "serial", "com2", "path"), "C:\\logs\\com2.log");
	assert_null(vmconfig_get(cfg, "serial", "com1", "backend"));
	assert_null(vmconfig_get(cfg, "vm", NULL, "nosuchkey"));
	assert_int_equal(vmconfig_line(cfg, "vm", NULL, NULL), 6);
	assert_int_equal(vmconfig_line(cfg, "vm", NULL, "memory"), 8);
	assert_int_equal(vmconfig_line(cfg, "serial", "com2", "path"), 20);
	assert_int_equal(vmconfig_line(cfg, "disk", NULL, NULL), 0);
	assert_int_equal(vmconfig_count(cfg, "serial"), 1);
	assert_string_equal(vmconfig_section_name(cfg, "serial", 0), "com2");
	assert_null(vmconfig_section_name(cfg, "serial", 1));
	vmconfig_free(cfg);
}

static void test_line_ends_and_bom(void **state)
{
	struct vmconfig *cfg = load_data("crlf.vmconfig");

	/* No '\r' left in values. */
	assert_string_equal(vmconfig_get(cfg, "vm", NULL, "name"), "crlf");
	assert_string_equal(vmconfig_get(cfg, "vm", NULL, "memory"), "256M");
	assert_string_equal(vmconfig_get(cfg, "serial", "com1", "backend"), "pty");
	vmconfig_free(cfg);

	cfg = load_data("bom-utf8.vmconfig");
	assert_string_equal(vmconfig_get(cfg, "vm", NULL, "name"), "bom");
	assert_string_equal(vmconfig_get(cfg, "boot", NULL, "kernel"), "noyau-\xc3\xa9.bin");
	assert_int_equal(vmconfig_line(cfg, "vm", NULL, NULL), 2);
	vmconfig_free(cfg);

	cfg = load_data("no-final-newline.vmconfig");
	assert_string_equal(vmconfig_get(cfg, "vm", NULL, "cpus"), "2");
	vmconfig_free(cfg);

	cfg = load_data("empty.vmconfig");
	assert_int_equal(vmconfig_count(cfg, "vm"), 0);
	vmconfig_free(cfg);
}

/* The repeated sections of the workstation example, in file order. */
static void test_repeated_sections(void **state)
{
	char path[PATH_MAX];
	struct vmconfig_error err;
	struct vmconfig *cfg;

	vct_source_path("share/examples/workstation.vmconfig", path, sizeof(path));
	cfg = vmconfig_load(path, &err);
	assert_non_null(cfg);
	assert_int_equal(vmconfig_count(cfg, "disk"), 2);
	assert_string_equal(vmconfig_section_name(cfg, "disk", 0), "system");
	assert_string_equal(vmconfig_section_name(cfg, "disk", 1), "data");
	assert_string_equal(vmconfig_get(cfg, "disk", "data", "file"), "/srv/vm images/data.qcow2");
	assert_string_equal(vmconfig_get(cfg, "dvd", "installer", "file"),
			    "debian-12-amd64-netinst.iso");
	assert_string_equal(vmconfig_get(cfg, "nic", "lan", "mac"), "52:4f:53:12:34:56");
	vmconfig_free(cfg);

	/* One unnamed section per repeated type, next to named ones. */
	cfg = vct_parse("[dvd]\n[dvd \"b\"]\nfile = b.iso\n", NULL);
	assert_int_equal(vmconfig_count(cfg, "dvd"), 2);
	assert_string_equal(vmconfig_section_name(cfg, "dvd", 0), "");
	assert_null(vmconfig_get(cfg, "dvd", NULL, "file"));
	assert_string_equal(vmconfig_get(cfg, "dvd", "b", "file"), "b.iso");
	assert_int_equal(vmconfig_line(cfg, "dvd", "", NULL), 1);
	vmconfig_free(cfg);
}

struct bad {
	const char *text;
	size_t len; /* 0: strlen(text) */
	unsigned line, column;
	const char *message;
};

static const struct bad bad_files[] = {
    /* The examples of the task, word for word. */
    {"[vm]\nname = a\nmemroy = 2G\n", 0, 3, 1,
     "unknown key 'memroy' in [vm]; did you mean 'memory'?"},
    {"[vm]\nname = a\ncpus = 1\nmemory = 2X\n", 0, 4, 10,
     "memory = '2X': not a size; write a number with a unit, e.g. 512M or 2G"},
    {"[vm]\nname = a\n\n\ncpus = 1\n\n\n\ncpus = 2\n", 0, 9, 1,
     "key 'cpus' is already set on line 5; remove one of them"},
    {"[vm]\n\n\n\n\n\n\n\n\n\n\n[serial \"com7\"]\n", 0, 12, 1,
     "[serial \"com7\"]: serial ports are com1 to com4"},
    /* Syntax. */
    {"[boot]\nappend = \"console=ttyS0\n", 0, 2, 10, "unterminated quote; end the value with '\"'"},
    {"[disk \"sys\n", 0, 1, 7, "unterminated quote; end the section name with '\"'"},
    {"[vm]\nmemory 2G\n", 0, 2, 8, "missing '=' after 'memory'; write memory = VALUE"},
    {"[vm]\n  cpus\n", 0, 2, 7, "missing '=' after 'cpus'; write cpus = VALUE"},
    {"= x\n", 0, 1, 1, "'=' without a key before it; write KEY = VALUE"},
    {"[vm\n", 0, 1, 4, "missing ']' at the end of the section header; write [vm]"},
    {"[disk \"a\" # c\n", 0, 1, 11,
     "missing ']' at the end of the section header; write [disk \"a\"]"},
    {"[vm] x\n", 0, 1, 6, "text after the section header; start a comment with '#'"},
    {"[disk \"a\" \"b\"]\n", 0, 1, 11, "unexpected text in the section header; write [disk \"a\"]"},
    {"[disk system]\n", 0, 1, 7, "a section name goes in quotes; write [disk \"system\"]"},
    {"[]\n", 0, 1, 2, "section header without a type; write one such as [vm] or [disk \"NAME\"]"},
    {"name = x\n[vm]\n", 0, 1, 1, "key 'name' is outside any section; put a [vm] header above it"},
    {"# c\n  foo = x\n", 0, 2, 3,
     "key 'foo' is outside any section; put a section header such as [vm] above it"},
    {"[boot]\nkernel = k\nappend = \"a\\qb\"\n", 0, 3, 12,
     "unknown escape '\\q' in quotes; write \\\" \\\\ \\t or \\n (\\\\ for a backslash)"},
    {"[boot]\nkernel = \"a\" b\n", 0, 2, 14,
     "text after the closing quote; put it inside the quotes or after '#'"},
    {"[boot]\nkernel = a\"b\n", 0, 2, 11,
     "a quote inside an unquoted value; put the whole value in quotes and write \\\" for the "
     "quote"},
    /* Text. */
    {"[vm]\nname = a\0b\n", 16, 2, 9, "NUL byte; a vmconfig is plain UTF-8 text"},
    {"[vm]\n# caf\xc3\n", 0, 2, 6, "invalid UTF-8; save the file as UTF-8 text"},
    {"[vm]\n# \xc0\x80 overlong\n", 0, 2, 3, "invalid UTF-8; save the file as UTF-8 text"},
    {"[vm]\n# \xed\xa0\x80 surrogate\n", 0, 2, 3, "invalid UTF-8; save the file as UTF-8 text"},
    {"[vm]\n# \xf4\x90\x80\x80 too high\n", 0, 2, 3, "invalid UTF-8; save the file as UTF-8 text"},
    {"[vm]\n# caf\xc3\xa9 \xff\n", 0, 2, 8, "invalid UTF-8; save the file as UTF-8 text"},
    {"[vm]\nname = a\x1b\n", 0, 2, 9,
     "control character 0x1b; a vmconfig is plain text (write \\t or \\n inside quotes)"},
    {"[vm]\rname = x\n", 0, 1, 5, "carriage return inside a line; end lines with LF or CR LF"},
    /* Sections. */
    {"[dsk]\n", 0, 1, 1, "unknown section [dsk]; did you mean [disk]?"},
    {"  [VM]\n", 0, 1, 3, "unknown section [VM]; did you mean [vm]?"},
    {"[network]\n", 0, 1, 1,
     "unknown section [network]; sections are [vm], [boot], [disk], [dvd], [nic], [serial], "
     "[console] and [display]"},
    {"[vm \"x\"]\n", 0, 1, 1, "[vm \"x\"]: [vm] takes no name; write [vm]"},
    {"[vm]\n[boot]\n[vm]\n", 0, 3, 1, "[vm] already appears on line 1; merge the two sections"},
    {"[disk \"a\"]\nfile = a\n[disk \"a\"]\nfile = b\n", 0, 3, 1,
     "[disk \"a\"] already appears on line 1; give each [disk] its own name"},
    {"[dvd]\n[dvd]\n", 0, 2, 1,
     "[dvd] without a name already appears on line 1; name them: [dvd \"NAME\"]"},
    {"[disk \"\"]\n", 0, 1, 1,
     "[disk \"\"]: empty section name; leave it out ([disk]) or write one"},
    {"[serial]\n", 0, 1, 1, "[serial] needs a port name; write [serial \"com1\"] (com1 to com4)"},
    {"[serial \"COM1\"]\n", 0, 1, 1, "[serial \"COM1\"]: serial ports are com1 to com4"},
    {"[disk \"a b\"]\nfile = x\n", 0, 1, 1,
     "[disk \"a b\"]: not a name; use 1 to 63 letters, digits, '.', '_' and '-', starting "
     "with a letter or a digit"},
    /* Keys. */
    {"[vm]\nMemory = 1G\n", 0, 2, 1, "unknown key 'Memory' in [vm]; did you mean 'memory'?"},
    {"[vm]\ncpu = 1\n", 0, 2, 1, "unknown key 'cpu' in [vm]; did you mean 'cpus'?"},
    {"[vm]\nkernel = x\n", 0, 2, 1, "unknown key 'kernel' in [vm]; it belongs in [boot]"},
    {"[display]\nfoo = 1\n", 0, 2, 1,
     "unknown key 'foo' in [display]; the keys of [display] are adapter, vnc, "
     "vnc_password_file, vnc_insecure and keymap"},
    {"[disk]\nsize = 1\n", 0, 2, 1,
     "unknown key 'size' in [disk]; the keys of [disk] are file, bus, readonly, format, serial, "
     "queues, controller and location"},
    {"[boot]\nboot = dvd\n", 0, 2, 1,
     "unknown key 'boot' in [boot]; the keys of [boot] are firmware, order, bios, vgabios, "
     "kernel, initrd and append"},
    {"[boot]\nodrer = dvd\n", 0, 2, 1, "unknown key 'odrer' in [boot]; did you mean 'order'?"},
    {"[dvd]\ncontroler = 1\n", 0, 2, 1,
     "unknown key 'controler' in [dvd]; did you mean 'controller'?"},
    {"[disk \"a\"]\nfile = a\nlocaton = 1\n", 0, 3, 1,
     "unknown key 'locaton' in [disk]; did you mean 'location'?"},
    {"[vm]\nadapter = vga\n", 0, 2, 1, "unknown key 'adapter' in [vm]; it belongs in [display]"},
    {"[vm]\norder = dvd\n", 0, 2, 1, "unknown key 'order' in [vm]; it belongs in [boot]"},
    /* Values. */
    {"[vm]\nmemory =\n", 0, 2, 9,
     "memory has no value; write a size such as 512M or 2G, or remove the line"},
    {"[disk]\nfile = # none\n", 0, 2, 8, "file has no value; write a file path"},
    {"[vm]\nmemory = 2048\n", 0, 2, 10,
     "memory = '2048': no unit; write it with K, M, G or T, e.g. 512M or 2G"},
    {"[vm]\nmemory = 512K\n", 0, 2, 10, "memory = '512K': too small; write at least 1M"},
    {"[vm]\nmemory = 17T\n", 0, 2, 10, "memory = '17T': too large; write at most 16T"},
    {"[vm]\nmemory = 1025K\n", 0, 2, 10,
     "memory = '1025K': not a multiple of 4K; round it to whole 4K pages"},
    {"[vm]\ncpus = 2000\n", 0, 2, 8, "cpus = '2000': out of range; write a number from 1 to 1024"},
    {"[vm]\ncpus = 0\n", 0, 2, 8, "cpus = '0': out of range; write a number from 1 to 1024"},
    {"[vm]\ncpus = two\n", 0, 2, 8,
     "cpus = 'two': not a whole number; write a number from 1 to 1024"},
    {"[vm]\ncpus = -1\n", 0, 2, 8,
     "cpus = '-1': not a whole number; write a number from 1 to 1024"},
    {"[vm]\nhugepages = maybe\n", 0, 2, 13,
     "hugepages = 'maybe': not yes or no; write yes or no (also true/false, on/off, 1/0)"},
    {"[vm]\non_reboot = rest\n", 0, 2, 13,
     "on_reboot = 'rest': not one of reset, exit; did you mean 'reset'?"},
    {"[vm]\non_reboot = poweroff\n", 0, 2, 13,
     "on_reboot = 'poweroff': not one of reset, exit; write one of them"},
    {"[vm]\nname = \"my vm\"\n", 0, 2, 8,
     "name = 'my vm': not a name; use 1 to 63 letters, digits, '.', '_' and '-', starting "
     "with a letter or a digit"},
    {"[vm]\nname = \"a\\nb\"\n", 0, 2, 8,
     "name = 'a\\nb': contains a control character; remove it"},
    {"[nic \"lan\"]\nmac = 01:00:5e:00:00:01\n", 0, 2, 7,
     "mac = '01:00:5e:00:00:01': a multicast MAC address (its first byte is odd); write a "
     "unicast one like 52:54:00:12:34:56"},
    {"[nic \"lan\"]\nmac = 00:00:00:00:00:00\n", 0, 2, 7,
     "mac = '00:00:00:00:00:00': the all-zero MAC address is not usable; write one like "
     "52:54:00:12:34:56"},
    {"[nic \"lan\"]\nmac = 52:54:00:12:34\n", 0, 2, 7,
     "mac = '52:54:00:12:34': not a MAC address; write six hex pairs like 52:54:00:12:34:56"},
    {"[nic \"lan\"]\nswitch = \"\"\n", 0, 2, 10,
     "switch has no value; write a name of letters, digits, '.', '_' and '-', or remove the "
     "line"},
    {"[disk \"a\"]\nfile = a\nbus = scsi\n", 0, 3, 7,
     "bus = 'scsi': not one of ide, virtio; write one of them"},
    {"[display]\nvnc = run/vnc.sock\n", 0, 2, 7,
     "vnc = 'run/vnc.sock': a Unix socket path must be absolute; start it with '/'"},
    {"[display]\nvnc = 5901\n", 0, 2, 7,
     "vnc = '5901': not auto, none, HOST:PORT or an absolute socket path; write e.g. "
     "127.0.0.1:5900"},
    {"[display]\nvnc = localhost:99999\n", 0, 2, 7,
     "vnc = 'localhost:99999': not a TCP port; write HOST:PORT with a port from 1 to 65535"},
    /* Rules between keys and sections. */
    {"[disk \"system\"]\nbus = ide\n", 0, 1, 1,
     "[disk \"system\"]: file is missing; add a line file = ... (the disk image: VHDX, VHD, "
     "qcow2 or raw)"},
    {"[serial \"com1\"]\nbackend = socket\n", 0, 2, 11,
     "[serial \"com1\"]: backend = socket needs a path; add a line path = /run/NAME.sock (the "
     "socket to listen on)"},
    {"[serial \"com1\"]\npath = /x\n", 0, 2, 1,
     "[serial \"com1\"]: path is used only with backend = socket or file; remove it or set "
     "the backend"},
    {"[serial \"com1\"]\nbackend = socket\npath = vm.sock\n", 0, 3, 8,
     "path = 'vm.sock': a socket path must be absolute; start it with '/'"},
    {"[boot]\ninitrd = i\n", 0, 2, 1,
     "initrd is used only with a kernel; add kernel = FILE to [boot] or remove initrd"},
    {"[nic \"a\"]\nmac = 52:54:00:00:00:01\n[nic \"b\"]\nmac = 52:54:00:00:00:01\n", 0, 4, 7,
     "mac = '52:54:00:00:00:01': [nic \"a\"] on line 2 has it too; give each adapter its own "
     "address"},
    {"[disk \"a\"]\nfile = x.img\n[disk \"b\"]\n  file = x.img\n", 0, 4, 10,
     "file = 'x.img': [disk \"a\"] on line 2 has it too; a disk image can be attached once"},
    /* Firmware and boot order. The column of a list points at the entry. */
    {"[boot]\norder = dvd, dsk\n", 0, 2, 14,
     "order = 'dvd, dsk': 'dsk' is not one of dvd, disk, network; did you mean 'disk'?"},
    {"[boot]\norder = dvd, floppy # no\n", 0, 2, 14,
     "order = 'dvd, floppy': 'floppy' is not one of dvd, disk, network; list only those"},
    {"[boot]\norder = Dsik\n", 0, 2, 9,
     "order = 'Dsik': 'Dsik' is not one of dvd, disk, network; did you mean 'disk'?"},
    {"[boot]\norder = disk, dvd, DISK\n", 0, 2, 20,
     "order = 'disk, dvd, DISK': 'DISK' is listed twice; list each one once"},
    {"[boot]\norder = dvd,, disk\n", 0, 2, 13,
     "order = 'dvd,, disk': an empty entry; write the entries separated by commas, e.g. dvd, "
     "disk"},
    {"[boot]\norder = dvd,\n", 0, 2, 13,
     "order = 'dvd,': an empty entry; write the entries separated by commas, e.g. dvd, disk"},
    {"[boot]\norder = , dvd\n", 0, 2, 9,
     "order = ', dvd': an empty entry; write the entries separated by commas, e.g. dvd, disk"},
    {"[boot]\norder = dvd disk\n", 0, 2, 9,
     "order = 'dvd disk': 'dvd disk' is not one entry; separate the entries with commas, e.g. "
     "dvd, disk"},
    /* In quotes, escapes before the entry are counted as written. */
    {"[boot]\norder = \"dvd,\\tdsk\"\n", 0, 2, 16,
     "order = 'dvd,\\tdsk': 'dsk' is not one of dvd, disk, network; did you mean 'disk'?"},
    {"[boot]\norder = \"\"\n", 0, 2, 9,
     "order has no value; write a list such as dvd, disk, network, or remove the line"},
    {"[boot]\nfirmware = bois\n", 0, 2, 12,
     "firmware = 'bois': not one of bios, none; did you mean 'bios'?"},
    {"[boot]\nfirmware = uefi\n", 0, 2, 12,
     "firmware = 'uefi': not one of bios, none; write one of them"},
    {"[boot]\nkernel = k\nfirmware = bios\n", 0, 3, 12,
     "firmware = bios, but the kernel on line 2 is booted without firmware; remove kernel to "
     "start from the BIOS, or remove firmware"},
    {"[boot]\nfirmware = BIOS\n\nkernel = k\n", 0, 2, 12,
     "firmware = bios, but the kernel on line 4 is booted without firmware; remove kernel to "
     "start from the BIOS, or remove firmware"},
    {"[boot]\nfirmware = none\n", 0, 2, 12,
     "firmware = none needs a kernel to boot; add kernel = FILE to [boot] or set firmware = "
     "bios"},
    {"[boot]\nkernel = k\norder = disk\n", 0, 3, 1,
     "order is used only when the VM starts from firmware, and the kernel on line 2 is booted "
     "without it; remove order, or remove kernel to start from the BIOS"},
    {"[boot]\nbios = b.bin\nkernel = k\n", 0, 2, 1,
     "bios is used only when the VM starts from firmware, and the kernel on line 3 is booted "
     "without it; remove bios, or remove kernel to start from the BIOS"},
    {"[boot]\nkernel = k\nfirmware = none\n  vgabios = v.bin\n", 0, 4, 3,
     "vgabios is used only when the VM starts from firmware, and the kernel on line 2 is "
     "booted without it; remove vgabios, or remove kernel to start from the BIOS"},
    /* IDE positions. */
    {"[disk \"a\"]\nfile = a\ncontroller = 2\n", 0, 3, 14,
     "controller = '2': out of range; write a number from 0 to 1"},
    {"[dvd]\nlocation = master\n", 0, 2, 12,
     "location = 'master': not a whole number; write a number from 0 to 1"},
    {"[dvd]\nlocation =\n", 0, 2, 11,
     "location has no value; write a number from 0 to 1, or remove the line"},
    {"[disk \"a\"]\nfile = a\nbus = virtio\ncontroller = 0\n", 0, 4, 1,
     "[disk \"a\"]: controller is used only with bus = ide, and line 3 sets bus = virtio; "
     "remove controller or set bus = ide"},
    {"[disk]\n location = 1\nbus = VIRTIO\nfile = a\n", 0, 2, 2,
     "[disk]: location is used only with bus = ide, and line 3 sets bus = VIRTIO; remove "
     "location or set bus = ide"},
    {"[disk \"a\"]\nfile = a\ncontroller = 1\nlocation = 0\n[dvd \"b\"]\ncontroller = 1\n"
     "location = 0\n",
     0, 5, 1,
     "[dvd \"b\"]: IDE controller 1, location 0 is taken by [disk \"a\"] on line 1; give one of "
     "them another controller or location"},
    {"[disk \"a\"]\nfile = a\n[disk \"b\"]\nfile = b\n[disk \"c\"]\nfile = c\n[dvd \"d\"]\n"
     "  [dvd \"e\"]\n",
     0, 8, 3,
     "[dvd \"e\"]: a fifth IDE drive, but IDE holds four (locations 0 and 1 on controllers 0 "
     "and 1); remove a [disk] or [dvd] section"},
    {"[dvd]\n[dvd \"b\"]\n[disk \"v\"]\nfile = v\nbus = virtio\n[dvd \"c\"]\n[dvd \"d\"]\n"
     "[disk \"e\"]\nfile = e\n",
     0, 8, 1,
     "[disk \"e\"]: a fifth IDE drive, but IDE holds four (locations 0 and 1 on controllers 0 "
     "and 1); remove a [disk] or [dvd] section"},
    {"[disk \"a\"]\nfile = a\ncontroller = 0\n[disk \"b\"]\nfile = b\nlocation = 1\n"
     "controller = 0\n[dvd \"c\"]\n controller = 0\n",
     0, 9, 2,
     "[dvd \"c\"]: controller 0 has no free location ([disk \"a\"] on line 1 and [disk \"b\"] "
     "on line 4 take them); set controller = 1, or remove controller to let osio place the "
     "drive"},
    {"[dvd \"x\"]\nlocation = 1\ncontroller = 0\n[dvd \"y\"]\nlocation = 1\ncontroller = 1\n"
     "[disk \"z\"]\nfile = z\nlocation = 1\n",
     0, 9, 1,
     "[disk \"z\"]: location 1 is taken on both controllers (by [dvd \"x\"] on line 1 and "
     "[dvd \"y\"] on line 4); set location = 0, or remove location to let osio place the "
     "drive"},
    /* The display. */
    {"[display]\nadapter = vag\n", 0, 2, 11,
     "adapter = 'vag': not one of vga, none; did you mean 'vga'?"},
    {"[display]\nadapter = cirrus\n", 0, 2, 11,
     "adapter = 'cirrus': not one of vga, none; write one of them"},
    {"[display]\nadapter = none\nvnc = auto\n", 0, 3, 7,
     "vnc = 'auto': adapter = none on line 2 leaves no screen to serve; set vnc = none or "
     "adapter = vga"},
};

static void test_errors(void **state)
{
	for (size_t i = 0; i < sizeof(bad_files) / sizeof(bad_files[0]); i++) {
		const struct bad *b = &bad_files[i];
		size_t len = b->len ? b->len : strlen(b->text);
		struct vmconfig_error err;
		struct vmconfig *cfg;

		memset(&err, 0x55, sizeof(err));
		cfg = vmconfig_parse(b->text, len, "vm.vmconfig", &err);
		if (cfg)
			fail_msg("case %zu parsed: %s", i, b->text);
		if (err.line != b->line || err.column != b->column ||
		    strcmp(err.message, b->message) != 0)
			fail_msg("case %zu: got %u:%u: %s\nwanted %u:%u: %s", i, err.line,
				 err.column, err.message, b->line, b->column, b->message);
		assert_string_equal(err.file, "vm.vmconfig");
	}
}

static void test_error_format(void **state)
{
	struct vmconfig_error err;
	char buf[1024];
	const char *text = "[vm]\nname = a\ncpus = 1\nmemory = 2X\n";

	assert_null(vmconfig_parse(text, strlen(text), "vm.vmconfig", &err));
	vmconfig_error_format(&err, buf, sizeof(buf));
	assert_string_equal(buf, "vm.vmconfig:4:10: error: memory = '2X': not a size; write a "
				 "number with a unit, e.g. 512M or 2G");

	/* Refusals name the line only; file errors no line; text no file. */
	snprintf(err.file, sizeof(err.file), "a.vmconfig");
	err.line = 7;
	err.column = 0;
	snprintf(err.message, sizeof(err.message), "m");
	vmconfig_error_format(&err, buf, sizeof(buf));
	assert_string_equal(buf, "a.vmconfig:7: error: m");
	err.line = 0;
	vmconfig_error_format(&err, buf, sizeof(buf));
	assert_string_equal(buf, "a.vmconfig: error: m");
	err.file[0] = '\0';
	vmconfig_error_format(&err, buf, sizeof(buf));
	assert_string_equal(buf, "error: m");
	vmconfig_error_format(&err, buf, 4);
	assert_string_equal(buf, "err");

	/* Parsed without a path: no file part. */
	assert_null(vmconfig_parse("[vx]\n", 5, NULL, &err));
	vmconfig_error_format(&err, buf, sizeof(buf));
	assert_string_equal(buf, "1:1: error: unknown section [vx]; did you mean [vm]?");
}

/* Columns count characters, not bytes, and long values are cut. */
static void test_error_column_and_excerpt(void **state)
{
	struct vmconfig_error err;
	char text[400];
	const char *t2 = "[boot]\nkernel = k # \xc3\xa9\xc3\xa9\nappend = \"\xc3\xa9\\x\"\n";

	assert_null(vmconfig_parse(t2, strlen(t2), "v", &err));
	assert_int_equal(err.line, 3);
	assert_int_equal(err.column, 12); /* é is one column */

	snprintf(text, sizeof(text), "[vm]\nname = %0100d\n", 7);
	assert_null(vmconfig_parse(text, strlen(text), "v", &err));
	assert_non_null(strstr(err.message, "name = '000000000000000000000000000000000000000000000"
					    "000000000000000...': not a name"));
}

static void test_size_cap(void **state)
{
	size_t len = VMCONFIG_MAX_SIZE + 1;
	char *text = malloc(len);
	struct vmconfig_error err;
	struct vmconfig *cfg;
	char path[] = "/tmp/vmconfig-big-XXXXXX";
	int fd;

	assert_non_null(text);
	memset(text, '#', len);
	for (size_t i = 79; i < len; i += 80)
		text[i] = '\n';
	assert_null(vmconfig_parse(text, len, "big.vmconfig", &err));
	assert_int_equal(err.line, 0);
	assert_string_equal(err.message,
			    "the file is larger than 1 MiB; a vmconfig holds settings only");
	/* Exactly at the cap: fine. */
	cfg = vmconfig_parse(text, len - 1, "big.vmconfig", &err);
	assert_non_null(cfg);
	vmconfig_free(cfg);

	/* And from a file, whatever its size. */
	fd = mkstemp(path);
	assert_true(fd >= 0);
	assert_int_equal(write(fd, text, len), (ssize_t)len);
	close(fd);
	assert_null(vmconfig_load(path, &err));
	assert_string_equal(err.file, path);
	assert_string_equal(err.message,
			    "the file is larger than 1 MiB; a vmconfig holds settings only");
	unlink(path);
	free(text);
}

static void test_load_errors(void **state)
{
	struct vmconfig_error err;
	char buf[PATH_MAX + 600];

	assert_null(vmconfig_load("/nonexistent/vm.vmconfig", &err));
	assert_int_equal(errno, ENOENT);
	vmconfig_error_format(&err, buf, sizeof(buf));
	assert_string_equal(
	    buf, "/nonexistent/vm.vmconfig: error: cannot open: No such file or directory");

	assert_null(vmconfig_load(vct_data_dir(), &err));
	assert_int_equal(errno, EISDIR);
	assert_string_equal(err.message, "cannot read: Is a directory; name a .vmconfig file");
	assert_int_equal(err.line, 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_examples_round_trip),
	    cmocka_unit_test(test_data_round_trip),
	    cmocka_unit_test(test_odd_spacing_values),
	    cmocka_unit_test(test_line_ends_and_bom),
	    cmocka_unit_test(test_repeated_sections),
	    cmocka_unit_test(test_errors),
	    cmocka_unit_test(test_error_format),
	    cmocka_unit_test(test_error_column_and_excerpt),
	    cmocka_unit_test(test_size_cap),
	    cmocka_unit_test(test_load_errors),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
