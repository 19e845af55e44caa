/* The wizards' data (console/newvm.c): each page's checks, the osio
 * arguments they build, attaching an existing disk, disk info parsing. */
#include "console/newvm.h"

#include "hypervisor/vmstore.h"
#include "vmconfig/vmconfig.h"

#include <errno.h>
#include <limits.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

static char scratch[256];

static void write_file(const char *path, const char *text)
{
	FILE *f = fopen(path, "w");
	assert_non_null(f);
	fputs(text, f);
	fclose(f);
}

static char *read_all(const char *path)
{
	FILE *f = fopen(path, "r");
	assert_non_null(f);
	char *buf = calloc(1, 65536);
	assert_non_null(buf);
	size_t n = fread(buf, 1, 65535, f);
	buf[n] = '\0';
	fclose(f);
	return buf;
}

/* A store VM with a vmconfig like osio create --disk none writes. */
static void make_vm(const char *name, const char *extra)
{
	char dir[PATH_MAX], path[PATH_MAX + 80], text[1024];

	assert_int_equal(vmstore_path(name, NULL, dir, sizeof(dir)), 0);
	char cmd[PATH_MAX + 16];
	snprintf(cmd, sizeof(cmd), "mkdir -p '%s'", dir);
	assert_int_equal(system(cmd), 0);
	snprintf(path, sizeof(path), "%s/%s.vmconfig", dir, name);
	snprintf(text, sizeof(text),
		 "# %s: a test VM. This comment stays.\n"
		 "[vm]\nname = %s\nmemory = 1G   # the RAM\ncpus = 1\n\n"
		 "[boot]\norder = disk, dvd\n\n"
		 "[dvd \"dvd\"]\ncontroller = 1\nlocation = 0\n%s",
		 name, name, extra);
	write_file(path, text);
}

static int setup(void **state)
{
	(void)state;
	snprintf(scratch, sizeof(scratch), "/tmp/osio-test-newvm-XXXXXX");
	assert_non_null(mkdtemp(scratch));
	setenv("OSIO_STORE_DIR", scratch, 1);
	return 0;
}

static int teardown(void **state)
{
	char cmd[PATH_MAX + 16];
	(void)state;
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", scratch);
	return system(cmd) == 0 ? 0 : -1;
}

static void test_defaults(void **state)
{
	struct newvm w;
	(void)state;
	newvm_init(&w);
	assert_string_equal(w.memory, "2G");
	assert_string_equal(w.disk_size, "40G");
	assert_string_equal(w.sw, "default");
	assert_int_equal(w.disk, NEWVM_DISK_NEW);
	assert_int_equal(w.install, NEWVM_INSTALL_ISO);
	assert_true(w.start);
	assert_true(w.host_cpus >= 1);
	assert_true(w.host_memory >= NEWVM_MIN_MEMORY);
	assert_int_equal(atoi(w.cpus), w.host_cpus >= 2 ? 2 : 1);
}

static void test_name(void **state)
{
	char why[512];
	(void)state;
	assert_int_equal(newvm_check_name("", why, sizeof(why)), -EINVAL);
	assert_non_null(strstr(why, "name"));
	assert_int_equal(newvm_check_name("-bad", why, sizeof(why)), -EINVAL);
	assert_int_equal(newvm_check_name("a/b", why, sizeof(why)), -EINVAL);
	assert_int_equal(newvm_check_name("web-1.test_x", why, sizeof(why)), 0);
	make_vm("taken", "");
	assert_int_equal(newvm_check_name("taken", why, sizeof(why)), -EINVAL);
	assert_non_null(strstr(why, "exists already"));
}

static void test_memory_cpus(void **state)
{
	char why[512];
	uint64_t b = 0;
	(void)state;
	assert_int_equal(newvm_check_memory("2G", 4ull << 30, &b, why, sizeof(why)), 0);
	assert_int_equal(b, 2ull << 30);
	assert_int_equal(newvm_check_memory("512M", 4ull << 30, NULL, why, sizeof(why)), 0);
	assert_int_equal(newvm_check_memory("16M", 4ull << 30, NULL, why, sizeof(why)), -EINVAL);
	assert_non_null(strstr(why, "32M"));
	assert_int_equal(newvm_check_memory("8G", 4ull << 30, NULL, why, sizeof(why)), -EINVAL);
	assert_non_null(strstr(why, "more than this host has"));
	assert_int_equal(newvm_check_memory("2X", 4ull << 30, NULL, why, sizeof(why)), -EINVAL);
	assert_int_equal(newvm_check_memory("", 4ull << 30, NULL, why, sizeof(why)), -EINVAL);

	assert_int_equal(newvm_check_cpus("2", 4, why, sizeof(why)), 0);
	assert_int_equal(newvm_check_cpus("4", 4, why, sizeof(why)), 0);
	assert_int_equal(newvm_check_cpus("5", 4, why, sizeof(why)), -EINVAL);
	assert_non_null(strstr(why, "1 to 4"));
	assert_int_equal(newvm_check_cpus("0", 4, why, sizeof(why)), -EINVAL);
	assert_int_equal(newvm_check_cpus("two", 4, why, sizeof(why)), -EINVAL);
	assert_int_equal(newvm_check_cpus("", 4, why, sizeof(why)), -EINVAL);
}

static void test_disk_size(void **state)
{
	char why[512];
	uint64_t b;
	(void)state;
	assert_int_equal(newvm_check_disk_size("40G", &b, why, sizeof(why)), 0);
	assert_int_equal(b, 40ull << 30);
	assert_int_equal(newvm_check_disk_size("1M", NULL, why, sizeof(why)), 0);
	assert_int_equal(newvm_check_disk_size("512K", NULL, why, sizeof(why)), -EINVAL);
	assert_int_equal(newvm_check_disk_size("65T", NULL, why, sizeof(why)), -EINVAL);
	assert_int_equal(newvm_check_disk_size("forty", NULL, why, sizeof(why)), -EINVAL);
}

static void test_files(void **state)
{
	char why[1024], f[512], ro[512];
	(void)state;
	snprintf(f, sizeof(f), "%s/disk.vhdx", scratch);
	assert_int_equal(newvm_check_disk_file(f, why, sizeof(why)), -EINVAL);
	assert_non_null(strstr(why, "disk.vhdx"));
	write_file(f, "x");
	assert_int_equal(newvm_check_disk_file(f, why, sizeof(why)), 0);
	assert_int_equal(newvm_check_disk_file(scratch, why, sizeof(why)), -EINVAL);
	assert_int_equal(newvm_check_disk_file("", why, sizeof(why)), -EINVAL);
	if (geteuid() != 0) {
		snprintf(ro, sizeof(ro), "%s/ro.vhdx", scratch);
		write_file(ro, "x");
		chmod(ro, 0400);
		assert_int_equal(newvm_check_disk_file(ro, why, sizeof(why)), -EINVAL);
		assert_non_null(strstr(why, "writable"));
	}

	snprintf(f, sizeof(f), "%s/boot.iso", scratch);
	assert_int_equal(newvm_check_iso(f, why, sizeof(why)), -EINVAL);
	assert_non_null(strstr(why, "boot.iso"));
	write_file(f, "CD001");
	assert_int_equal(newvm_check_iso(f, why, sizeof(why)), 0);
	assert_int_equal(newvm_check_iso(scratch, why, sizeof(why)), -EINVAL);
	assert_non_null(strstr(why, "not a file"));
	assert_int_equal(newvm_check_iso("", why, sizeof(why)), -EINVAL);
}

static void test_pages(void **state)
{
	struct newvm w;
	char why[1024];
	enum newvm_field bad;
	enum newvm_page page;
	(void)state;

	newvm_init(&w);
	w.host_memory = 8ull << 30;
	w.host_cpus = 4;
	/* No name, no ISO yet. */
	assert_int_equal(newvm_check_all(&w, &page, why, sizeof(why), &bad), -EINVAL);
	assert_int_equal(page, NEWVM_PAGE_NAME);
	assert_int_equal(bad, NEWVM_F_NAME);
	snprintf(w.name, sizeof(w.name), "fresh");
	assert_int_equal(newvm_check_all(&w, &page, why, sizeof(why), &bad), -EINVAL);
	assert_int_equal(page, NEWVM_PAGE_INSTALL);
	assert_int_equal(bad, NEWVM_F_ISO);
	snprintf(w.iso, sizeof(w.iso), "%s/boot.iso", scratch);
	write_file(w.iso, "CD001");
	assert_int_equal(newvm_check_all(&w, &page, why, sizeof(why), &bad), 0);

	snprintf(w.memory, sizeof(w.memory), "9G");
	assert_int_equal(newvm_check_page(&w, NEWVM_PAGE_MEMORY, why, sizeof(why), &bad), -EINVAL);
	assert_int_equal(bad, NEWVM_F_MEMORY);
	snprintf(w.memory, sizeof(w.memory), "1G");
	snprintf(w.cpus, sizeof(w.cpus), "8");
	assert_int_equal(newvm_check_page(&w, NEWVM_PAGE_CPUS, why, sizeof(why), &bad), -EINVAL);
	assert_int_equal(bad, NEWVM_F_CPUS);
	snprintf(w.cpus, sizeof(w.cpus), "1");

	/* The built-in NAT switch exists; another must be defined. */
	assert_int_equal(newvm_check_page(&w, NEWVM_PAGE_NETWORK, why, sizeof(why), &bad), 0);
	snprintf(w.sw, sizeof(w.sw), "nosuch");
	assert_int_equal(newvm_check_page(&w, NEWVM_PAGE_NETWORK, why, sizeof(why), &bad), -EINVAL);
	assert_int_equal(bad, NEWVM_F_SWITCH);
	assert_non_null(strstr(why, "nosuch"));
	w.sw[0] = '\0';
	assert_int_equal(newvm_check_page(&w, NEWVM_PAGE_NETWORK, why, sizeof(why), &bad), 0);
	w.install = NEWVM_INSTALL_NETWORK;
	assert_int_equal(newvm_check_page(&w, NEWVM_PAGE_INSTALL, why, sizeof(why), &bad), -EINVAL);
	assert_non_null(strstr(why, "switch"));
	w.install = NEWVM_INSTALL_LATER;
	assert_int_equal(newvm_check_page(&w, NEWVM_PAGE_INSTALL, why, sizeof(why), &bad), 0);

	w.disk = NEWVM_DISK_EXISTING;
	assert_int_equal(newvm_check_page(&w, NEWVM_PAGE_DISK, why, sizeof(why), &bad), -EINVAL);
	assert_int_equal(bad, NEWVM_F_DISK_FILE);
	w.disk = NEWVM_DISK_NEW;
	snprintf(w.disk_size, sizeof(w.disk_size), "0");
	assert_int_equal(newvm_check_page(&w, NEWVM_PAGE_DISK, why, sizeof(why), &bad), -EINVAL);
	assert_int_equal(bad, NEWVM_F_DISK_SIZE);
	w.disk = NEWVM_DISK_LATER;
	assert_int_equal(newvm_check_page(&w, NEWVM_PAGE_DISK, why, sizeof(why), &bad), 0);
}

static void expect_args(const char **got, unsigned n, const char *const *want)
{
	unsigned i;
	for (i = 0; want[i]; i++) {
		assert_true(i < n);
		assert_string_equal(got[i], want[i]);
	}
	assert_int_equal(i, n);
	assert_null(got[n]);
}

static void test_create_args(void **state)
{
	struct newvm w;
	const char *args[32];
	unsigned n;
	(void)state;

	newvm_init(&w);
	snprintf(w.name, sizeof(w.name), "web");
	snprintf(w.cpus, sizeof(w.cpus), "2");
	snprintf(w.iso, sizeof(w.iso), "/isos/debian.iso");
	n = newvm_create_args(&w, args, 32);
	expect_args(args, n,
		    (const char *const[]){"create", "web", "--memory", "2G", "--cpus", "2",
					  "--disk", "40G", "--disk-bus", "ide", "--dvd",
					  "/isos/debian.iso", "--switch", "default", "--nic-model",
					  "e1000", "--boot", "dvd, disk", NULL});

	w.disk = NEWVM_DISK_EXISTING;
	w.bus = NEWVM_BUS_VIRTIO;
	w.nic = NEWVM_NIC_VIRTIO;
	w.install = NEWVM_INSTALL_NETWORK;
	snprintf(w.memory, sizeof(w.memory), "512M");
	n = newvm_create_args(&w, args, 32);
	expect_args(args, n,
		    (const char *const[]){"create", "web", "--memory", "512M", "--cpus", "2",
					  "--disk", "none", "--disk-bus", "virtio", "--switch",
					  "default", "--nic-model", "virtio", "--boot",
					  "network, disk", NULL});

	w.install = NEWVM_INSTALL_LATER;
	w.sw[0] = '\0';
	n = newvm_create_args(&w, args, 32);
	assert_string_equal(args[n - 1], "disk, dvd");
	assert_string_equal(args[11], "none");
	assert_int_equal(newvm_create_args(&w, args, 5), 0);
}

static void test_summary(void **state)
{
	struct newvm w;
	char buf[2048];
	(void)state;
	newvm_init(&w);
	snprintf(w.name, sizeof(w.name), "web");
	snprintf(w.iso, sizeof(w.iso), "/isos/debian.iso");
	newvm_summary(&w, buf, sizeof(buf));
	assert_non_null(strstr(buf, "Name: web\n"));
	assert_non_null(strstr(buf, "Memory: 2G\n"));
	assert_non_null(strstr(buf, "new web.vhdx, 40G"));
	assert_non_null(strstr(buf, "Install from: /isos/debian.iso"));
	assert_non_null(strstr(buf, "switch 'default'"));
	w.sw[0] = '\0';
	w.disk = NEWVM_DISK_LATER;
	newvm_summary(&w, buf, sizeof(buf));
	assert_non_null(strstr(buf, "Not connected"));
	assert_non_null(strstr(buf, "attach one later"));
	newvm_summary(&w, buf, 8); /* truncated, terminated */
	assert_int_equal(strlen(buf), 7);
}

static void test_attach_disk(void **state)
{
	struct newvm w;
	char err[1024], disk[640], cfgpath[PATH_MAX];
	(void)state;

	make_vm("withdisk", "");
	newvm_init(&w);
	snprintf(w.name, sizeof(w.name), "withdisk");
	w.disk = NEWVM_DISK_EXISTING;
	snprintf(disk, sizeof(disk), "%s/../%s/old.vhdx", scratch, strrchr(scratch, '/') + 1);
	write_file(disk, "image");
	snprintf(w.disk_file, sizeof(w.disk_file), "%s", disk);
	assert_int_equal(newvm_attach_disk(&w, err, sizeof(err)), 0);

	assert_int_equal(vmstore_vmconfig("withdisk", cfgpath, sizeof(cfgpath)), 0);
	char *text = read_all(cfgpath);
	assert_non_null(strstr(text, "# withdisk: a test VM. This comment stays.\n"));
	assert_non_null(strstr(text, "memory = 1G   # the RAM\n"));
	char want[PATH_MAX + 64];
	snprintf(want, sizeof(want), "file = %s/old.vhdx", scratch);
	assert_non_null(strstr(text, want));
	free(text);

	struct vmconfig_error e;
	struct vmconfig *cfg = vmconfig_load(cfgpath, &e);
	assert_non_null(cfg);
	assert_string_equal(vmconfig_get(cfg, "disk", "system", "bus"), "ide");
	assert_string_equal(vmconfig_get(cfg, "disk", "system", "controller"), "0");
	assert_string_equal(vmconfig_get(cfg, "disk", "system", "location"), "0");
	vmconfig_free(cfg);

	/* virtio: no IDE position. */
	make_vm("virtiodisk", "");
	snprintf(w.name, sizeof(w.name), "virtiodisk");
	w.bus = NEWVM_BUS_VIRTIO;
	assert_int_equal(newvm_attach_disk(&w, err, sizeof(err)), 0);
	assert_int_equal(vmstore_vmconfig("virtiodisk", cfgpath, sizeof(cfgpath)), 0);
	cfg = vmconfig_load(cfgpath, &e);
	assert_non_null(cfg);
	assert_string_equal(vmconfig_get(cfg, "disk", "system", "bus"), "virtio");
	assert_null(vmconfig_get(cfg, "disk", "system", "controller"));
	vmconfig_free(cfg);

	/* A disk that vanished, a VM that is not there. */
	snprintf(w.disk_file, sizeof(w.disk_file), "%s/gone.vhdx", scratch);
	assert_true(newvm_attach_disk(&w, err, sizeof(err)) < 0);
	assert_non_null(strstr(err, "gone.vhdx"));
	snprintf(w.disk_file, sizeof(w.disk_file), "%s", disk);
	snprintf(w.name, sizeof(w.name), "absent");
	assert_true(newvm_attach_disk(&w, err, sizeof(err)) < 0);
}

static void test_newdisk(void **state)
{
	struct newdisk d;
	char why[1024], f[512];
	const char *args[20];
	unsigned n;
	(void)state;

	newdisk_init(&d, scratch);
	assert_string_equal(d.dir, scratch);
	assert_int_equal(newdisk_check_page(&d, 0, why, sizeof(why)), 0);
	assert_int_equal(newdisk_check_page(&d, 1, why, sizeof(why)), 0);
	assert_int_equal(newdisk_check_page(&d, 2, why, sizeof(why)), 0);
	assert_int_equal(newdisk_check_page(&d, 3, why, sizeof(why)), 0);

	snprintf(d.name, sizeof(d.name), "data.qcow2");
	d.format = NEWDISK_QCOW2;
	d.type = NEWDISK_FIXED;
	snprintf(d.size, sizeof(d.size), "1G");
	n = newdisk_create_args(&d, args, 20);
	snprintf(f, sizeof(f), "%s/data.qcow2", scratch);
	expect_args(args, n,
		    (const char *const[]){"disk", "create", f, "--format", "qcow2", "--type",
					  "fixed", "--size", "1G", NULL});

	write_file(f, "x");
	assert_int_equal(newdisk_check_page(&d, 2, why, sizeof(why)), -EINVAL);
	assert_non_null(strstr(why, "exists already"));
	snprintf(d.name, sizeof(d.name), "sub/x.vhdx");
	assert_int_equal(newdisk_check_page(&d, 2, why, sizeof(why)), -EINVAL);
	snprintf(d.name, sizeof(d.name), "x.vhdx");
	snprintf(d.dir, sizeof(d.dir), "%s/nosuchdir", scratch);
	assert_int_equal(newdisk_check_page(&d, 2, why, sizeof(why)), -EINVAL);
	assert_non_null(strstr(why, "does not exist"));
	snprintf(d.dir, sizeof(d.dir), "%s/", scratch);

	d.type = NEWDISK_DIFFERENCING;
	assert_int_equal(newdisk_check_page(&d, 1, why, sizeof(why)), -EINVAL);
	snprintf(d.parent, sizeof(d.parent), "%s/nosuch.vhdx", scratch);
	assert_int_equal(newdisk_check_page(&d, 1, why, sizeof(why)), -EINVAL);
	snprintf(d.parent, sizeof(d.parent), "%s", f);
	assert_int_equal(newdisk_check_page(&d, 1, why, sizeof(why)), 0);
	d.format = NEWDISK_RAW;
	assert_int_equal(newdisk_check_page(&d, 1, why, sizeof(why)), -EINVAL);
	assert_non_null(strstr(why, "raw"));
	d.format = NEWDISK_VHDX;
	d.size[0] = '\0';
	assert_int_equal(newdisk_check_page(&d, 3, why, sizeof(why)), 0);
	n = newdisk_create_args(&d, args, 20);
	char child[512];
	snprintf(child, sizeof(child), "%s/x.vhdx", scratch);
	expect_args(args, n,
		    (const char *const[]){"disk", "create", child, "--format", "vhdx", "--parent",
					  f, NULL});
	d.type = NEWDISK_DYNAMIC;
	assert_int_equal(newdisk_check_page(&d, 3, why, sizeof(why)), -EINVAL);
	assert_string_equal(newdisk_format_ext(NEWDISK_RAW), "img");
	assert_string_equal(newdisk_format_name(NEWDISK_VHD), "vhd");
}

static void test_diskinfo(void **state)
{
	struct diskinfo in;
	char why[512], buf[2048];
	(void)state;

	assert_int_equal(
	    diskinfo_parse("{\"filename\": \"a.vhdx\", \"format\": \"vhdx\", \"subformat\": "
			   "\"dynamic\", \"virtual-size\": 42949672960, \"file-size\": 4194304, "
			   "\"actual-size\": 4194304, \"block-size\": 33554432, "
			   "\"logical-sector-size\": 512, \"physical-sector-size\": 4096, "
			   "\"dirty\": false, \"parent\": \"base.vhdx\", \"parents\": [{}]}",
			   &in, why, sizeof(why)),
	    0);
	assert_string_equal(in.format, "vhdx");
	assert_string_equal(in.subformat, "dynamic");
	assert_int_equal(in.virtual_size, 40ull << 30);
	assert_int_equal(in.physical_sector, 4096);
	assert_string_equal(in.parent, "base.vhdx");
	assert_int_equal(in.nparents, 1);
	assert_false(in.dirty);
	diskinfo_format(&in, "/d/a.vhdx", buf, sizeof(buf));
	assert_non_null(strstr(buf, "File: /d/a.vhdx\n"));
	assert_non_null(strstr(buf, "Format: vhdx, dynamic\n"));
	assert_non_null(strstr(buf, "40 GiB"));
	assert_non_null(strstr(buf, "Parent: base.vhdx"));

	assert_int_equal(diskinfo_check_resize(&in, "50G", why, sizeof(why)), 0);
	assert_int_equal(diskinfo_check_resize(&in, "+1G", why, sizeof(why)), 0);
	assert_int_equal(diskinfo_check_resize(&in, "40G", why, sizeof(why)), -EINVAL);
	assert_non_null(strstr(why, "only grow"));
	assert_int_equal(diskinfo_check_resize(&in, "20G", why, sizeof(why)), -EINVAL);
	assert_int_equal(diskinfo_check_resize(&in, "+0", why, sizeof(why)), -EINVAL);
	assert_int_equal(diskinfo_check_resize(&in, "big", why, sizeof(why)), -EINVAL);
	assert_int_equal(diskinfo_check_resize(&in, "100T", why, sizeof(why)), -EINVAL);

	/* A warning line before the object (a disk a VM is using). */
	assert_int_equal(diskinfo_parse("osio disk info: warning: a.vhdx: in use\n{\"format\": "
					"\"qcow2\", \"virtual-size\": 1048576}\n",
					&in, why, sizeof(why)),
			 0);
	assert_string_equal(in.format, "qcow2");
	assert_int_equal(in.virtual_size, 1048576);
	assert_string_equal(in.parent, "");
	assert_int_equal(in.nparents, 0);
	assert_int_equal(diskinfo_parse("not json", &in, why, sizeof(why)), -EINVAL);
	assert_int_equal(diskinfo_parse("{\"size\": 1}", &in, why, sizeof(why)), -EINVAL);
	assert_int_equal(diskinfo_parse("[1]", &in, why, sizeof(why)), -EINVAL);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_defaults),	cmocka_unit_test(test_name),
	    cmocka_unit_test(test_memory_cpus), cmocka_unit_test(test_disk_size),
	    cmocka_unit_test(test_files),	cmocka_unit_test(test_pages),
	    cmocka_unit_test(test_create_args), cmocka_unit_test(test_summary),
	    cmocka_unit_test(test_attach_disk), cmocka_unit_test(test_newdisk),
	    cmocka_unit_test(test_diskinfo),
	};
	return cmocka_run_group_tests(tests, setup, teardown);
}
