/* The details pane's data without a terminal: a VM store made by the test
 * (vmconfigs written directly, real disk images, a switch, a checkpoint
 * tree written with ckpt_tree_save), read back by vmdetails_load; a broken
 * vmconfig and a damaged tree give an error; the size and uptime formats. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "console/vmdetails.h"
#include "devices/block/block.h"
#include "devices/net/switchdef.h"
#include "hypervisor/checkpoint.h"

#include <errno.h>
#include <ftw.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define MiB (1024ull * 1024)
#define GiB (1024 * MiB)

static char store[PATH_MAX];

static void path_of(char *buf, size_t size, const char *vm, const char *file)
{
	int n = snprintf(buf, size, "%s/vms/%s%s%s", store, vm, file ? "/" : "", file ? file : "");

	assert_true(n > 0 && (size_t)n < size);
}

static void write_file(const char *path, const char *text)
{
	FILE *f = fopen(path, "w");

	assert_non_null(f);
	fputs(text, f);
	assert_int_equal(fclose(f), 0);
}

/* STORE/vms/NAME/NAME.vmconfig holding text. */
static void make_vm(const char *name, const char *text)
{
	char path[PATH_MAX + 64], file[128];

	path_of(path, sizeof(path), name, NULL);
	assert_int_equal(mkdir(path, 0700), 0);
	snprintf(file, sizeof(file), "%s.vmconfig", name);
	path_of(path, sizeof(path), name, file);
	write_file(path, text);
}

static void make_image(const char *path, const char *format, uint64_t size, const char *parent)
{
	struct block_create_opts o = {.size = size, .parent = parent};
	char err[512];

	if (block_create(path, format, &o, err, sizeof(err)) < 0)
		fail_msg("%s", err);
}

static int rm_one(const char *p, const struct stat *st, int flag, struct FTW *ftw)
{
	return remove(p);
}

static int setup(void **state)
{
	char path[PATH_MAX + 64], err[512];

	snprintf(store, sizeof(store), "%s/osio-vmdetails-XXXXXX",
		 getenv("TMPDIR") ? getenv("TMPDIR") : "/tmp");
	if (!mkdtemp(store))
		return -1;
	setenv("OSIO_STORE_DIR", store, 1);
	snprintf(path, sizeof(path), "%s/vms", store);
	mkdir(path, 0700);
	snprintf(path, sizeof(path), "%s/switches", store);
	mkdir(path, 0700);

	struct net_switch_cfg sw;
	net_switch_cfg_defaults(&sw, NET_SWITCH_PRIVATE, "lab");
	if (switchdef_save(&sw, false, err, sizeof(err)) < 0) {
		fprintf(stderr, "switchdef_save: %s\n", err);
		return -1;
	}
	return 0;
}

static int teardown(void **state)
{
	nftw(store, rm_one, 16, FTW_DEPTH | FTW_PHYS);
	return 0;
}

static void test_full_vm(void **state)
{
	char path[PATH_MAX + 64], base[PATH_MAX + 64], iso[PATH_MAX + 64], text[8192];
	struct vm_details *d = calloc(1, sizeof(*d));

	assert_non_null(d);
	snprintf(iso, sizeof(iso), "%s/installer.iso", store);
	write_file(iso, "not really an ISO");
	snprintf(base, sizeof(base), "%s/base.vhdx", store);
	snprintf(
	    text, sizeof(text),
	    "# devbox: made by the test\n"
	    "[vm]\nname = devbox\nmemory = 1536M   # a comment\ncpus = 4\n\n"
	    "[boot]\norder = dvd, disk\n\n"
	    "[disk \"system\"]\nfile = devbox.vhdx\nbus = ide\ncontroller = 0\nlocation = 0\n\n"
	    "[disk \"data\"]\nfile = data.qcow2\nbus = virtio\nreadonly = yes\n\n"
	    "[disk \"scratch\"]\nfile = scratch.vhdx\nbus = virtio\n\n"
	    "[dvd \"dvd\"]\nfile = %s\ncontroller = 1\nlocation = 0\n\n"
	    "[dvd \"spare\"]\n\n"
	    "[nic \"lan\"]\nmodel = e1000\nswitch = default\nmac = 52:4f:53:00:00:01\n\n"
	    "[nic \"lab\"]\nmodel = virtio\nswitch = lab\n\n"
	    "[display]\nvnc = 127.0.0.1:5901\n\n"
	    "[serial \"com2\"]\nbackend = none\n",
	    iso);
	make_vm("devbox", text);
	path_of(path, sizeof(path), "devbox", "devbox.vhdx");
	make_image(path, "vhdx", 1 * GiB, NULL);
	path_of(path, sizeof(path), "devbox", "data.qcow2");
	make_image(path, "qcow2", 512 * MiB, NULL);
	make_image(base, "vhdx", 256 * MiB, NULL);
	path_of(path, sizeof(path), "devbox", "scratch.vhdx");
	make_image(path, "vhdx", 0, base);

	assert_int_equal(vmdetails_load("devbox", d), 0);
	assert_string_equal(d->error, "");
	assert_string_equal(d->name, "devbox");
	path_of(path, sizeof(path), "devbox", "devbox.vmconfig");
	assert_string_equal(d->vmconfig, path);
	assert_int_equal(d->memory, 1536 * MiB);
	assert_int_equal(d->cpus, 4);
	assert_string_equal(d->firmware, "SeaBIOS (BIOS)");
	assert_string_equal(d->boot, "dvd, disk");
	assert_string_equal(d->vnc, "127.0.0.1:5901");

	assert_int_equal(d->ndisks, 3);
	assert_string_equal(d->disks[0].section, "system");
	assert_string_equal(d->disks[0].where, "IDE 0:0");
	path_of(path, sizeof(path), "devbox", "devbox.vhdx");
	assert_string_equal(d->disks[0].file, path);
	assert_string_equal(d->disks[0].format, "vhdx");
	assert_int_equal(d->disks[0].size, 1 * GiB);
	assert_true(d->disks[0].used > 0 && d->disks[0].used < 64 * MiB);
	assert_false(d->disks[0].readonly);
	assert_false(d->disks[0].differencing);
	assert_string_equal(d->disks[1].section, "data");
	assert_string_equal(d->disks[1].where, "virtio 0");
	assert_string_equal(d->disks[1].format, "qcow2");
	assert_int_equal(d->disks[1].size, 512 * MiB);
	assert_true(d->disks[1].readonly);
	assert_string_equal(d->disks[2].section, "scratch");
	assert_string_equal(d->disks[2].where, "virtio 1");
	assert_string_equal(d->disks[2].format, "vhdx");
	assert_int_equal(d->disks[2].size, 256 * MiB);
	assert_true(d->disks[2].differencing);

	assert_int_equal(d->ndvds, 2);
	assert_string_equal(d->dvds[0].section, "spare");
	assert_string_equal(d->dvds[0].where, "IDE 0:1");
	assert_string_equal(d->dvds[0].file, "");
	assert_string_equal(d->dvds[1].section, "dvd");
	assert_string_equal(d->dvds[1].where, "IDE 1:0");
	assert_string_equal(d->dvds[1].file, iso);

	assert_int_equal(d->nnics, 2);
	assert_string_equal(d->nics[0].name, "lan");
	assert_string_equal(d->nics[0].model, "e1000");
	assert_string_equal(d->nics[0].mac, "52:4f:53:00:00:01");
	assert_string_equal(d->nics[0].sw, "default");
	assert_string_equal(d->nics[0].sw_type, "nat");
	assert_string_equal(d->nics[1].name, "lab");
	assert_string_equal(d->nics[1].model, "virtio");
	assert_string_equal(d->nics[1].mac, "");
	assert_string_equal(d->nics[1].sw, "lab");
	assert_string_equal(d->nics[1].sw_type, "private");
	/* COM1 always, COM2 from its section. */
	assert_int_equal(d->nserial, 2);
	/* No checkpoints: no tree, no Now. */
	assert_int_equal(d->nckpts, 0);
	assert_string_equal(d->now_parent, "");
	free(d);
}

static void add_ckpt(struct ckpt_tree *t, const char *id, const char *parent, const char *label,
		     int64_t created, bool deleted, bool has_state)
{
	struct ckpt c = {.created = created, .deleted = deleted, .has_state = has_state};
	char lbl[128];

	snprintf(c.id, sizeof(c.id), "%s", id);
	snprintf(c.parent, sizeof(c.parent), "%s", parent);
	snprintf(lbl, sizeof(lbl), "%s", label);
	c.label = lbl;
	assert_int_equal(ckpt_tree_add(t, &c), 0);
}

static void test_checkpoint_tree(void **state)
{
	char path[PATH_MAX + 64], err[512];
	struct vm_details *d = calloc(1, sizeof(*d));
	struct ckpt_tree t = {0};

	assert_non_null(d);
	make_vm("ck", "[vm]\nname = ck\n");
	path_of(path, sizeof(path), "ck", "checkpoints");
	assert_int_equal(mkdir(path, 0700), 0);
	/* A (root) has children B (newer) and C (older); D under B is deleted,
	 * so its child E shows under B; Now hangs under D, shown under B. In
	 * file order the newer comes first: display order is by age. */
	add_ckpt(&t, "0000000a", "", "A: fresh install", 100, false, false);
	add_ckpt(&t, "0000000b", "0000000a", "B", 200, false, true);
	add_ckpt(&t, "0000000c", "0000000a", "C", 150, false, false);
	add_ckpt(&t, "0000000d", "0000000b", "D", 250, true, false);
	add_ckpt(&t, "0000000e", "0000000d", "E", 300, false, false);
	snprintf(t.now, sizeof(t.now), "0000000d");
	path_of(path, sizeof(path), "ck", "checkpoints/checkpoints.json");
	if (ckpt_tree_save(&t, path, err, sizeof(err)) < 0)
		fail_msg("%s", err);
	ckpt_tree_free(&t);

	assert_int_equal(vmdetails_load("ck", d), 0);
	assert_string_equal(d->error, "");
	assert_int_equal(d->memory, 512 * MiB); /* the defaults */
	assert_int_equal(d->cpus, 1);
	assert_string_equal(d->vnc, "auto");
	assert_string_equal(d->boot, "dvd, disk, network");
	assert_int_equal(d->ndisks + d->ndvds + d->nnics, 0);
	assert_string_equal(d->now_parent, "0000000b");
	static const struct {
		const char *id, *label;
		unsigned depth;
		bool now, state;
	} want[] = {
	    {"0000000a", "A: fresh install", 0, false, false},
	    {"0000000c", "C", 1, false, false},
	    {"0000000b", "B", 1, false, true},
	    {"0000000e", "E", 2, false, false},
	    {"", "Now", 2, true, false},
	};
	assert_int_equal(d->nckpts, 5);
	for (unsigned i = 0; i < 5; i++) {
		assert_string_equal(d->ckpts[i].id, want[i].id);
		assert_string_equal(d->ckpts[i].label, want[i].label);
		assert_int_equal(d->ckpts[i].depth, want[i].depth);
		assert_int_equal(d->ckpts[i].now, want[i].now);
		assert_int_equal(d->ckpts[i].has_state, want[i].state);
	}
	assert_int_equal(d->ckpts[0].created, 100);

	/* Now at the root's level when it hangs under nothing. */
	t = (struct ckpt_tree){0};
	add_ckpt(&t, "0000000a", "", "A", 100, false, false);
	if (ckpt_tree_save(&t, path, err, sizeof(err)) < 0)
		fail_msg("%s", err);
	ckpt_tree_free(&t);
	assert_int_equal(vmdetails_load("ck", d), 0);
	assert_int_equal(d->nckpts, 2);
	assert_true(d->ckpts[1].now);
	assert_int_equal(d->ckpts[1].depth, 0);
	assert_string_equal(d->now_parent, "");

	/* A damaged tree: the pane says what is wrong with it. */
	write_file(path, "{ not json");
	assert_int_equal(vmdetails_load("ck", d), 0);
	assert_non_null(strstr(d->error, "checkpoints.json"));
	assert_int_equal(d->nckpts, 0);
	assert_int_equal(d->memory, 512 * MiB);
	free(d);
}

static void test_kernel_and_unplugged(void **state)
{
	struct vm_details *d = calloc(1, sizeof(*d));

	assert_non_null(d);
	make_vm("kern", "[vm]\nname = kern\nmemory = 64M\n[boot]\nkernel = /boot/vmlinuz-test\n"
			"[display]\nadapter = none\n"
			"[nic]\nswitch = gone\nconnected = no\n[nic \"b\"]\nswitch = gone\n");
	assert_int_equal(vmdetails_load("kern", d), 0);
	assert_string_equal(d->error, "");
	assert_string_equal(d->firmware, "kernel");
	assert_string_equal(d->boot, "kernel vmlinuz-test");
	assert_string_equal(d->vnc, "none");
	assert_int_equal(d->nnics, 2);
	assert_string_equal(d->nics[0].name, "nic0");
	assert_string_equal(d->nics[0].sw, ""); /* unplugged */
	/* A switch that does not exist: named, of no known type. */
	assert_string_equal(d->nics[1].sw, "gone");
	assert_string_equal(d->nics[1].sw_type, "");
	free(d);
}

static void test_broken_and_missing(void **state)
{
	struct vm_details *d = calloc(1, sizeof(*d));

	assert_non_null(d);
	make_vm("broken", "[vm]\nname = broken\nmemory = lots\n");
	assert_int_equal(vmdetails_load("broken", d), 0);
	assert_string_equal(d->name, "broken");
	assert_non_null(strstr(d->error, "broken.vmconfig:3"));
	assert_non_null(strstr(d->error, "memory"));
	assert_int_equal(d->memory, 0);
	assert_int_equal(d->ndisks, 0);

	/* A disk whose image is missing is still listed, without format. */
	make_vm("nodisk", "[vm]\nname = nodisk\n[disk]\nfile = missing.vhdx\n");
	assert_int_equal(vmdetails_load("nodisk", d), 0);
	assert_string_equal(d->error, "");
	assert_int_equal(d->ndisks, 1);
	assert_string_equal(d->disks[0].format, "");
	assert_int_equal(d->disks[0].size, 0);
	assert_non_null(strstr(d->disks[0].file, "/vms/nodisk/missing.vhdx"));

	assert_int_equal(vmdetails_load("nosuch", d), -ENOENT);
	assert_int_equal(vmdetails_load("../etc", d), -ENOENT);
	assert_int_equal(vmdetails_load("", d), -ENOENT);
	free(d);
}

static void test_formats(void **state)
{
	static const struct {
		uint64_t v;
		const char *s;
	} sizes[] = {
	    {0, "0 bytes"},	      {1, "1 byte"},	      {1023, "1023 bytes"},
	    {1024, "1 KiB"},	      {512 * MiB, "512 MiB"}, {2 * GiB, "2 GiB"},
	    {3 * GiB / 2, "1.5 GiB"}, {GiB - 1, "1 GiB"},     {40 * GiB + 300 * MiB, "40.3 GiB"},
	    {1024 * GiB, "1 TiB"},
	};
	static const struct {
		uint64_t ns;
		const char *s;
	} up[] = {
	    {0, ""},
	    {999999999ull, "0:00:00"},
	    {245ull * 1000000000, "0:04:05"},
	    {(3 * 3600 + 4 * 60 + 5) * 1000000000ull, "3:04:05"},
	    {(2 * 86400 + 3 * 3600 + 4 * 60 + 5) * 1000000000ull, "2 d 03:04"},
	};
	char buf[32];

	for (size_t i = 0; i < sizeof(sizes) / sizeof(sizes[0]); i++) {
		vmd_format_size(sizes[i].v, buf, sizeof(buf));
		assert_string_equal(buf, sizes[i].s);
	}
	for (size_t i = 0; i < sizeof(up) / sizeof(up[0]); i++) {
		vmd_format_uptime(up[i].ns, buf, sizeof(buf));
		assert_string_equal(buf, up[i].s);
	}
	vmd_format_size(UINT64_MAX, buf, sizeof(buf));
	assert_string_equal(buf, "16 EiB");
	vmd_format_size(2 * GiB, buf, 4); /* cut, not overrun */
	assert_string_equal(buf, "2 G");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_full_vm),
	    cmocka_unit_test(test_checkpoint_tree),
	    cmocka_unit_test(test_kernel_and_unplugged),
	    cmocka_unit_test(test_broken_and_missing),
	    cmocka_unit_test(test_formats),
	};
	return cmocka_run_group_tests(tests, setup, teardown);
}
