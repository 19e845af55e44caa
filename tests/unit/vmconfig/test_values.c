/* vmconfig value parsers, table-driven: the many spellings of one size or
 * boolean give the same result; bad ones give the reason and the fix. */
#include "vctest.h"
#include "vmconfig/internal.h"

#include <errno.h>

#define N(a) (sizeof(a) / sizeof((a)[0]))
#define KIB  (1ull << 10)
#define MIB  (1ull << 20)
#define GIB  (1ull << 30)
#define TIB  (1ull << 40)

static void test_size_spellings(void **state)
{
	/* Two gibibytes, every way the format allows. */
	static const char *const two_g[] = {
	    "2G",     "2g",    "2GiB",	  "2gib",   "2GIB",	"2GB",	      "2gb",	   "2 G",
	    "2\tGiB", "2048M", "2048MiB", "2048mb", "2097152K", "2097152KiB", "2097152kb", "2.0G",
	};
	static const struct {
		const char *s;
		uint64_t bytes;
	} ok[] = {
	    {"1.5G", 3 * GIB / 2},
	    {"0.5K", 512},
	    {"1.25M", 1310720},
	    {"0G", 0},
	    {"1T", TIB},
	    {"16t", 16 * TIB},
	    {"007M", 7 * MIB},
	    {"4k", 4 * KIB},
	    {"16777215T", 16777215 * TIB},
	};
	uint64_t v;
	char why[256];

	for (size_t i = 0; i < N(two_g); i++) {
		v = 0;
		if (vmconfig_parse_size(two_g[i], &v, why, sizeof(why)))
			fail_msg("'%s': %s", two_g[i], why);
		assert_int_equal(v, 2 * GIB);
	}
	for (size_t i = 0; i < N(ok); i++) {
		if (vmconfig_parse_size(ok[i].s, &v, why, sizeof(why)))
			fail_msg("'%s': %s", ok[i].s, why);
		assert_int_equal(v, ok[i].bytes);
	}
}

static void test_size_errors(void **state)
{
	static const struct {
		const char *s, *why;
	} bad[] = {
	    {"", "not a size; write a number with a unit, e.g. 512M or 2G"},
	    {"G", "not a size; write a number with a unit, e.g. 512M or 2G"},
	    {"2X", "not a size; write a number with a unit, e.g. 512M or 2G"},
	    {"-2G", "not a size; write a number with a unit, e.g. 512M or 2G"},
	    {"+2G", "not a size; write a number with a unit, e.g. 512M or 2G"},
	    {" 2G", "not a size; write a number with a unit, e.g. 512M or 2G"},
	    {"2G ", "not a size; write a number with a unit, e.g. 512M or 2G"},
	    {"2Gi", "not a size; write a number with a unit, e.g. 512M or 2G"},
	    {"2GiBs", "not a size; write a number with a unit, e.g. 512M or 2G"},
	    {"2.G", "not a size; write a number with a unit, e.g. 512M or 2G"},
	    {"2,5G", "not a size; write a number with a unit, e.g. 512M or 2G"},
	    {"0x10M", "not a size; write a number with a unit, e.g. 512M or 2G"},
	    {"2P", "not a size; write a number with a unit, e.g. 512M or 2G"},
	    {"2048", "no unit; write it with K, M, G or T, e.g. 512M or 2G"},
	    {"1.0000001G", "too many digits after the point; write it in a smaller unit"},
	    {"0.1K", "not a whole number of bytes; write it in a smaller unit"},
	    /* 2^40 / 10^6 is not whole: refused rather than rounded. */
	    {"0.000001T", "not a whole number of bytes; write it in a smaller unit"},
	    {"16777216T", "too large to be a size"},
	    {"99999999999999999999K", "too large to be a size"},
	};
	uint64_t v = 42;
	char why[256];

	for (size_t i = 0; i < N(bad); i++) {
		why[0] = '\0';
		if (vmconfig_parse_size(bad[i].s, &v, why, sizeof(why)) != -EINVAL)
			fail_msg("'%s' parsed", bad[i].s);
		if (strcmp(why, bad[i].why) != 0)
			fail_msg("'%s': got '%s'", bad[i].s, why);
		assert_int_equal(v, 42); /* untouched */
	}
	/* why may be left out. */
	assert_int_equal(vmconfig_parse_size("x", &v, NULL, 0), -EINVAL);
}

static void test_bools(void **state)
{
	static const char *const yes[] = {"yes", "YES", "Yes", "true", "True", "on", "ON", "1"};
	static const char *const no[] = {"no", "NO", "false", "FALSE", "off", "Off", "0"};
	static const char *const bad[] = {"", "y", "n", "2", "yes ", "enabled", "tru"};
	bool b;
	char why[256];

	for (size_t i = 0; i < N(yes); i++) {
		b = false;
		assert_int_equal(vmconfig_parse_bool(yes[i], &b, why, sizeof(why)), 0);
		assert_true(b);
	}
	for (size_t i = 0; i < N(no); i++) {
		b = true;
		assert_int_equal(vmconfig_parse_bool(no[i], &b, why, sizeof(why)), 0);
		assert_false(b);
	}
	for (size_t i = 0; i < N(bad); i++) {
		assert_int_equal(vmconfig_parse_bool(bad[i], &b, why, sizeof(why)), -EINVAL);
		assert_string_equal(
		    why, "not yes or no; write yes or no (also true/false, on/off, 1/0)");
	}
}

static void test_uints(void **state)
{
	uint64_t v;
	char why[256];

	assert_int_equal(vmconfig_parse_uint("1", 1, 1024, &v, why, sizeof(why)), 0);
	assert_int_equal(v, 1);
	assert_int_equal(vmconfig_parse_uint("01024", 1, 1024, &v, why, sizeof(why)), 0);
	assert_int_equal(v, 1024);
	assert_int_equal(vmconfig_parse_uint("1025", 1, 1024, &v, why, sizeof(why)), -EINVAL);
	assert_string_equal(why, "out of range; write a number from 1 to 1024");
	assert_int_equal(
	    vmconfig_parse_uint("99999999999999999999999", 1, 1024, &v, why, sizeof(why)), -EINVAL);
	assert_string_equal(why, "out of range; write a number from 1 to 1024");
	assert_int_equal(
	    vmconfig_parse_uint("18446744073709551615", 0, UINT64_MAX, &v, why, sizeof(why)), 0);
	assert_true(v == UINT64_MAX);
	static const char *const bad[] = {"", "1.0", "1e3", " 1", "1 ", "+1", "-1", "0x10"};
	for (size_t i = 0; i < N(bad); i++) {
		assert_int_equal(vmconfig_parse_uint(bad[i], 1, 1024, &v, why, sizeof(why)),
				 -EINVAL);
		assert_string_equal(why, "not a whole number; write a number from 1 to 1024");
	}
}

static void test_macs(void **state)
{
	static const char *const bad[] = {
	    "",
	    "52:54:00:12:34",
	    "52:54:00:12:34:56:78",
	    "52-54-00-12-34-56",
	    "5254.0012.3456",
	    "52:54:00:12:34:5",
	    "52:54:00:12:34:5g",
	    "525400123456",
	    "52:54:00:12:34:56 ",
	    ":52:54:00:12:34:5",
	};
	uint8_t mac[6] = {0};
	char why[256];

	assert_int_equal(vmconfig_parse_mac("52:54:00:Ab:cD:ef", mac, why, sizeof(why)), 0);
	assert_memory_equal(mac, ((uint8_t[]){0x52, 0x54, 0x00, 0xab, 0xcd, 0xef}), 6);
	/* Locally administered (bit 1) is fine; multicast (bit 0) is not. */
	assert_int_equal(vmconfig_parse_mac("02:00:00:00:00:01", mac, why, sizeof(why)), 0);
	assert_int_equal(vmconfig_parse_mac("ff:ff:ff:ff:ff:ff", mac, why, sizeof(why)), -EINVAL);
	assert_string_equal(why, "a multicast MAC address (its first byte is odd); write a "
				 "unicast one like 52:54:00:12:34:56");
	assert_int_equal(vmconfig_parse_mac("33:33:00:00:00:01", mac, why, sizeof(why)), -EINVAL);
	assert_int_equal(vmconfig_parse_mac("00:00:00:00:00:00", mac, why, sizeof(why)), -EINVAL);
	for (size_t i = 0; i < N(bad); i++) {
		if (vmconfig_parse_mac(bad[i], mac, why, sizeof(why)) != -EINVAL)
			fail_msg("'%s' parsed", bad[i]);
		assert_string_equal(
		    why, "not a MAC address; write six hex pairs like 52:54:00:12:34:56");
	}
}

static void test_uuid(void **state)
{
	static const char *const bad[] = {
	    "",
	    "8f2c41a06d3e4b1a9c550e8f7b2d1a64",
	    "8f2c41a0-6d3e-4b1a-9c55-0e8f7b2d1a6",
	    "8f2c41a0-6d3e-4b1a-9c55-0e8f7b2d1a645",
	    "8f2c41a0-6d3e-4b1a-9c55_0e8f7b2d1a64",
	    "8f2c41a0-6d3e-4b1a-9c55-0e8f7b2d1a6g",
	    "{8f2c41a0-6d3e-4b1a-9c55-0e8f7b2d1a64}",
	};
	uint8_t u[16] = {0};
	char why[256];
	assert_int_equal(
	    vmconfig_parse_uuid("8F2C41A0-6d3e-4b1a-9c55-0e8f7b2d1a64", u, why, sizeof(why)), 0);
	assert_memory_equal(u,
			    ((uint8_t[]){0x8f, 0x2c, 0x41, 0xa0, 0x6d, 0x3e, 0x4b, 0x1a, 0x9c, 0x55,
					 0x0e, 0x8f, 0x7b, 0x2d, 0x1a, 0x64}),
			    16);
	for (size_t i = 0; i < N(bad); i++) {
		if (vmconfig_parse_uuid(bad[i], u, why, sizeof(why)) != -EINVAL)
			fail_msg("'%s' parsed", bad[i]);
		assert_string_equal(why, "not a UUID; write 32 hex digits grouped 8-4-4-4-12, "
					 "like 8f2c41a0-6d3e-4b1a-9c55-0e8f7b2d1a64");
	}
}

static void test_names(void **state)
{
	static const char *const good[] = {"vm", "a", "Debian-12.5_test", "0day", "x-", "a..b"};
	static const char *const bad[] = {"",	 "-x",	".hidden",     "_x",
					  "a b", "a/b", "caf\xc3\xa9", "a\"b"};
	char why[256], longest[65];

	for (size_t i = 0; i < N(good); i++)
		assert_int_equal(vmconfig_check_name(good[i], why, sizeof(why)), 0);
	for (size_t i = 0; i < N(bad); i++) {
		assert_int_equal(vmconfig_check_name(bad[i], why, sizeof(why)), -EINVAL);
		assert_string_equal(why, "not a name; use 1 to 63 letters, digits, '.', '_' and "
					 "'-', starting with a letter or a digit");
	}
	memset(longest, 'n', 63);
	longest[63] = '\0';
	assert_int_equal(vmconfig_check_name(longest, why, sizeof(why)), 0);
	longest[63] = 'n';
	longest[64] = '\0';
	assert_int_equal(vmconfig_check_name(longest, why, sizeof(why)), -EINVAL);
}

static void test_vnc(void **state)
{
	struct vmconfig_vnc v;
	char why[256], path[200];

	assert_int_equal(vmconfig_parse_vnc("auto", &v, why, sizeof(why)), 0);
	assert_int_equal(v.kind, VMCONFIG_VNC_AUTO);
	assert_int_equal(vmconfig_parse_vnc("None", &v, why, sizeof(why)), 0);
	assert_int_equal(v.kind, VMCONFIG_VNC_NONE);
	assert_int_equal(vmconfig_parse_vnc("127.0.0.1:5901", &v, why, sizeof(why)), 0);
	assert_int_equal(v.kind, VMCONFIG_VNC_TCP);
	assert_string_equal(v.host, "127.0.0.1");
	assert_int_equal(v.port, 5901);
	assert_int_equal(vmconfig_parse_vnc("my-host.lan:1", &v, why, sizeof(why)), 0);
	assert_string_equal(v.host, "my-host.lan");
	assert_int_equal(v.port, 1);
	assert_int_equal(vmconfig_parse_vnc("[::1]:5900", &v, why, sizeof(why)), 0);
	assert_string_equal(v.host, "::1");
	assert_int_equal(v.port, 5900);
	assert_int_equal(vmconfig_parse_vnc("/run/osio/vm.vnc", &v, why, sizeof(why)), 0);
	assert_int_equal(v.kind, VMCONFIG_VNC_UNIX);
	assert_string_equal(v.path, "/run/osio/vm.vnc");

	static const struct {
		const char *s, *why;
	} bad[] = {
	    {"", "not auto, none, HOST:PORT or an absolute socket path; write e.g. "
		 "127.0.0.1:5900"},
	    {"5900", "not auto, none, HOST:PORT or an absolute socket path; write e.g. "
		     "127.0.0.1:5900"},
	    {"run/vnc.sock", "a Unix socket path must be absolute; start it with '/'"},
	    {":5900", "no host before the port; write e.g. 127.0.0.1:5900"},
	    {"::1:5900", "an IPv6 address goes in brackets: [::1]:5900"},
	    {"host:0", "not a TCP port; write HOST:PORT with a port from 1 to 65535"},
	    {"host:65536", "not a TCP port; write HOST:PORT with a port from 1 to 65535"},
	    {"host:", "not a TCP port; write HOST:PORT with a port from 1 to 65535"},
	    {"ho st:1", "not a host name or address; write e.g. 127.0.0.1:5900 or "
			"localhost:5900"},
	    {"[::1]5900", "not an address; write an IPv6 address and port as [::1]:5900"},
	    {"[]:5900", "not an address; write an IPv6 address and port as [::1]:5900"},
	    {"[::g]:5900", "not an IPv6 address; write it as [::1]:5900"},
	    {"[::1]:x", "not a TCP port; write HOST:PORT with a port from 1 to 65535"},
	};
	for (size_t i = 0; i < N(bad); i++) {
		why[0] = '\0';
		if (vmconfig_parse_vnc(bad[i].s, &v, why, sizeof(why)) != -EINVAL)
			fail_msg("'%s' parsed", bad[i].s);
		if (strcmp(why, bad[i].why) != 0)
			fail_msg("'%s': got '%s'", bad[i].s, why);
	}
	/* sun_path holds 107 bytes and a NUL. */
	memset(path, 'a', sizeof(path));
	path[0] = '/';
	path[VMCONFIG_SOCKET_PATH_MAX] = '\0';
	assert_int_equal(vmconfig_parse_vnc(path, &v, why, sizeof(why)), 0);
	path[VMCONFIG_SOCKET_PATH_MAX] = 'a';
	path[VMCONFIG_SOCKET_PATH_MAX + 1] = '\0';
	assert_int_equal(vmconfig_parse_vnc(path, &v, why, sizeof(why)), -EINVAL);
	assert_string_equal(why, "the socket path is too long (108 bytes; at most 107)");
}

/* Boot orders, table-driven: spellings of one order give the same devices;
 * bad ones say which entry is wrong (its offset) and the fix. */
static void test_boot_order(void **state)
{
	static const struct {
		const char *s;
		unsigned n;
		enum boot_device order[VM_BOOT_DEVICES];
	} ok[] = {
	    {"dvd, disk, network", 3, {BOOT_DVD, BOOT_DISK, BOOT_NETWORK}},
	    {"dvd,disk,network", 3, {BOOT_DVD, BOOT_DISK, BOOT_NETWORK}},
	    {" DVD ,\tDisk,NETWORK ", 3, {BOOT_DVD, BOOT_DISK, BOOT_NETWORK}},
	    {"disk", 1, {BOOT_DISK}},
	    {"network, disk", 2, {BOOT_NETWORK, BOOT_DISK}},
	    {"disk,dvd", 2, {BOOT_DISK, BOOT_DVD}},
	};
	static const struct {
		const char *s;
		size_t at;
		const char *why;
	} bad[] = {
	    {"", 0, "an empty list; write the devices to boot from, e.g. dvd, disk"},
	    {"cd", 0, "'cd' is not one of dvd, disk, network; list only those"},
	    {"dvd, dsk", 5, "'dsk' is not one of dvd, disk, network; did you mean 'disk'?"},
	    {"dvd,netwrok", 4,
	     "'netwrok' is not one of dvd, disk, network; did you mean 'network'?"},
	    {"disk, disk", 6, "'disk' is listed twice; list each one once"},
	    {"dvd, disk, network, dvd", 20, "'dvd' is listed twice; list each one once"},
	    {"dvd;disk", 0, "'dvd;disk' is not one of dvd, disk, network; list only those"},
	    {"dvd disk", 0,
	     "'dvd disk' is not one entry; separate the entries with commas, e.g. dvd, disk"},
	    {"dvd, ,disk", 5,
	     "an empty entry; write the entries separated by commas, e.g. dvd, disk"},
	    {" ,", 1, "an empty entry; write the entries separated by commas, e.g. dvd, disk"},
	};
	enum boot_device order[VM_BOOT_DEVICES];
	int idx[VC_LIST_MAX];
	unsigned n;
	size_t at;
	char why[256];

	for (size_t i = 0; i < N(ok); i++) {
		memset(order, 0x5a, sizeof(order));
		if (vmconfig_parse_boot_order(ok[i].s, order, &n, why, sizeof(why)))
			fail_msg("'%s': %s", ok[i].s, why);
		assert_int_equal(n, ok[i].n);
		assert_memory_equal(order, ok[i].order, n * sizeof(order[0]));
	}
	for (size_t i = 0; i < N(bad); i++) {
		n = 42;
		if (vmconfig_parse_boot_order(bad[i].s, order, &n, why, sizeof(why)) != -EINVAL)
			fail_msg("'%s' parsed", bad[i].s);
		assert_int_equal(n, 42);
		if (strcmp(why, bad[i].why) != 0)
			fail_msg("'%s': %s", bad[i].s, why);
		/* The generic list parser says where. */
		if (bad[i].s[0]) {
			assert_int_equal(vc_parse_list(bad[i].s, vc_boot_devices, idx, &n, &at, why,
						       sizeof(why)),
					 -EINVAL);
			assert_int_equal(at, bad[i].at);
		}
	}
	/* why may be NULL. */
	assert_int_equal(vmconfig_parse_boot_order("x", order, &n, NULL, 0), -EINVAL);
	/* The enum and the words agree. */
	assert_string_equal(vc_boot_devices[BOOT_DVD], "dvd");
	assert_string_equal(vc_boot_devices[BOOT_DISK], "disk");
	assert_string_equal(vc_boot_devices[BOOT_NETWORK], "network");
	assert_null(vc_boot_devices[VM_BOOT_DEVICES]);
}

/* The command line validates through the schema like the file. */
static void test_check_value(void **state)
{
	char msg[512];

	assert_int_equal(vmconfig_check_value("vm", "memory", "2G", msg, sizeof(msg)), 0);
	assert_int_equal(vmconfig_check_value("vm", "memory", "2X", msg, sizeof(msg)), -EINVAL);
	assert_string_equal(
	    msg, "memory = '2X': not a size; write a number with a unit, e.g. 512M or 2G");
	assert_int_equal(vmconfig_check_value("vm", "cpus", "0", msg, sizeof(msg)), -EINVAL);
	assert_string_equal(msg, "cpus = '0': out of range; write a number from 1 to 1024");
	assert_int_equal(vmconfig_check_value("vm", "on_reboot", "Exit", msg, sizeof(msg)), 0);
	assert_int_equal(vmconfig_check_value("boot", "append", "", msg, sizeof(msg)), 0);
	assert_int_equal(vmconfig_check_value("boot", "append", "a\nb\tc", msg, sizeof(msg)), 0);
	assert_int_equal(vmconfig_check_value("boot", "append", "a\x01", msg, sizeof(msg)),
			 -EINVAL);
	assert_string_equal(msg, "append = 'a?': contains a control character; remove it");
	assert_int_equal(vmconfig_check_value("boot", "kernel", "\xff", msg, sizeof(msg)), -EINVAL);
	assert_string_equal(msg, "kernel = '?': not valid UTF-8 text");
	assert_int_equal(vmconfig_check_value("boot", "kernel", "\xc3\xa9\xc3(", msg, sizeof(msg)),
			 -EINVAL);
	assert_string_equal(msg, "kernel = '\xc3\xa9?(': not valid UTF-8 text");
	assert_int_equal(vmconfig_check_value("vm", "memroy", "1G", msg, sizeof(msg)), -ENOENT);
	assert_string_equal(msg, "unknown key 'memroy' in [vm]; did you mean 'memory'?");
	assert_int_equal(vmconfig_check_value("vn", "memory", "1G", msg, sizeof(msg)), -ENOENT);
	assert_string_equal(msg, "unknown section [vn]; did you mean [vm]?");
	/* The keys of firmware boot, drives and the display. */
	assert_int_equal(vmconfig_check_value("boot", "order", "Disk,dvd", msg, sizeof(msg)), 0);
	assert_int_equal(vmconfig_check_value("boot", "order", "dvd,dvd", msg, sizeof(msg)),
			 -EINVAL);
	assert_string_equal(msg, "order = 'dvd,dvd': 'dvd' is listed twice; list each one once");
	assert_int_equal(vmconfig_check_value("boot", "firmware", "None", msg, sizeof(msg)), 0);
	assert_int_equal(vmconfig_check_value("boot", "firmware", "efi", msg, sizeof(msg)),
			 -EINVAL);
	assert_string_equal(msg, "firmware = 'efi': not one of bios, none; write one of them");
	assert_int_equal(vmconfig_check_value("boot", "bios", "my bios.bin", msg, sizeof(msg)), 0);
	assert_int_equal(vmconfig_check_value("dvd", "file", "", msg, sizeof(msg)), 0);
	assert_int_equal(vmconfig_check_value("disk", "file", "", msg, sizeof(msg)), -EINVAL);
	assert_int_equal(vmconfig_check_value("disk", "controller", "1", msg, sizeof(msg)), 0);
	assert_int_equal(vmconfig_check_value("dvd", "location", "01", msg, sizeof(msg)), 0);
	assert_int_equal(vmconfig_check_value("dvd", "location", "2", msg, sizeof(msg)), -EINVAL);
	assert_string_equal(msg, "location = '2': out of range; write a number from 0 to 1");
	assert_int_equal(vmconfig_check_value("display", "adapter", "VGA", msg, sizeof(msg)), 0);
	assert_int_equal(vmconfig_check_value("display", "adapter", "std", msg, sizeof(msg)),
			 -EINVAL);
	assert_string_equal(msg, "adapter = 'std': not one of vga, none; write one of them");
}

/* Every key of the schema: its default passes its own check. */
static void test_schema_defaults(void **state)
{
	char msg[512];

	for (unsigned i = 0; i < vmconfig_nsections; i++) {
		const struct vmconfig_section_info *s = &vmconfig_sections[i];

		assert_ptr_equal(vmconfig_schema_section(s->type), s);
		for (unsigned j = 0; j < s->nkeys; j++) {
			const struct vmconfig_key_info *k = &s->keys[j];

			assert_ptr_equal(vmconfig_schema_key(s, k->key), k);
			assert_non_null(k->help);
			if (k->def &&
			    vmconfig_check_value(s->type, k->key, k->def, msg, sizeof(msg)))
				fail_msg("default of %s.%s: %s", s->type, k->key, msg);
		}
	}
	assert_null(vmconfig_schema_section("VM"));
}

static void test_suggest(void **state)
{
	static const char *const keys[] = {"name", "memory", "cpus", "hugepages", "on_reboot"};

	assert_int_equal(vc_distance("memroy", "memory"), 1); /* a transposition */
	assert_int_equal(vc_distance("kitten", "sitting"), 3);
	assert_int_equal(vc_distance("", "abc"), 3);
	assert_int_equal(vc_distance("ca", "abc"), 3); /* OSA, not unrestricted */
	assert_string_equal(vc_suggest("memroy", keys, N(keys)), "memory");
	assert_string_equal(vc_suggest("hugepage", keys, N(keys)), "hugepages");
	assert_string_equal(vc_suggest("onreboot", keys, N(keys)), "on_reboot");
	assert_string_equal(vc_suggest("NAME", keys, N(keys)), "name");
	assert_string_equal(vc_suggest("cpu", keys, N(keys)), "cpus");
	assert_null(vc_suggest("mem", keys, N(keys)));
	assert_null(vc_suggest("size", keys, N(keys)));
	assert_null(vc_suggest("name", keys, N(keys))); /* exact: nothing to suggest */
	assert_null(vc_suggest("x", keys, N(keys)));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_size_spellings),
	    cmocka_unit_test(test_size_errors),
	    cmocka_unit_test(test_bools),
	    cmocka_unit_test(test_uints),
	    cmocka_unit_test(test_macs),
	    cmocka_unit_test(test_uuid),
	    cmocka_unit_test(test_names),
	    cmocka_unit_test(test_vnc),
	    cmocka_unit_test(test_boot_order),
	    cmocka_unit_test(test_check_value),
	    cmocka_unit_test(test_schema_defaults),
	    cmocka_unit_test(test_suggest),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
