/* Checkpoints (hypervisor/checkpoint.h): the tree file read back as written and every kind of
 * damage refused with one line naming the file; labels; and the operations on a VM folder with
 * a VHDX disk (whose differencing images QEMU cannot read, so the shell test cannot check
 * them): create, apply, delete with merges, the disk's content checked through the block layer
 * at every step, a running VM's delete refused when it would merge, nothing left behind; and the
 * settings each checkpoint keeps (ID.vmconfig), given back by apply but for the VM's name and
 * the keys the store keeps, with disks added since leaving the settings and their files kept;
 * a running VM's copy being the settings its worker started with (.running.vmconfig), its disks
 * named as the vmconfig names them now. */
#include "hypervisor/checkpoint.h"
#include "hypervisor/checkpoint_int.h"

#include "devices/block/block.h"

#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define MiB	  (1ull << 20)
#define DISK_SIZE (16 * MiB)

static char dir[64];
static char vmconfig[128];
static struct ckpt_vm vm;

static const char *path(const char *name)
{
	static char p[4][256];
	static unsigned next;
	char *b = p[next++ % 4];
	int n = snprintf(b, 256, "%s/%s", dir, name);
	assert_true(n > 0 && n < 256);
	return b;
}

static void write_file(const char *file, const char *text)
{
	FILE *f = fopen(file, "w");
	assert_non_null(f);
	fputs(text, f);
	fclose(f);
}

static int setup(void **state)
{
	snprintf(dir, sizeof(dir), "/tmp/osio-ckpt-XXXXXX");
	if (!mkdtemp(dir))
		return -1;
	snprintf(vmconfig, sizeof(vmconfig), "%s/t.vmconfig", dir);
	vm = (struct ckpt_vm){.name = "t", .dir = dir, .vmconfig = vmconfig};
	return 0;
}

static int teardown(void **state)
{
	char cmd[128];
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
	return system(cmd) == 0 ? 0 : -1;
}

/* --- the tree file ------------------------------------------------------------------ */

static void test_missing_is_empty(void **state)
{
	struct ckpt_tree t;
	char err[512];
	assert_int_equal(ckpt_tree_load(path("none.json"), &t, err, sizeof(err)), 0);
	assert_int_equal(t.n, 0);
	assert_string_equal(t.now, "");
	ckpt_tree_free(&t);
}

static void test_round_trip(void **state)
{
	struct ckpt_image im[2] = {{.disk = "system", .file = "t.vhdx", .owned = false},
				   {.disk = "", .file = "/abs/data.qcow2", .owned = true}};
	struct ckpt a = {
	    .id = "0000000a", .label = "first", .created = 1700000000, .nimages = 2, .images = im};
	struct ckpt b = {.id = "0000000b",
			 .parent = "0000000a",
			 .label = "säve \"2\"",
			 .created = 1700000001,
			 .has_state = true,
			 .deleted = true,
			 .nimages = 1,
			 .images = im};
	struct ckpt_tree t = {0}, u;
	char err[512];

	assert_int_equal(ckpt_tree_add(&t, &a), 0);
	assert_int_equal(ckpt_tree_add(&t, &b), 0);
	assert_int_equal(ckpt_tree_set_current(&t, &im[1], 1), 0);
	snprintf(t.now, sizeof(t.now), "0000000b");
	assert_int_equal(ckpt_tree_save(&t, path("c.json"), err, sizeof(err)), 0);
	assert_int_equal(ckpt_tree_load(path("c.json"), &u, err, sizeof(err)), 0);
	assert_int_equal(u.n, 2);
	assert_string_equal(u.now, "0000000b");
	assert_string_equal(u.c[1].label, "säve \"2\"");
	assert_string_equal(u.c[1].parent, "0000000a");
	assert_true(u.c[1].deleted && u.c[1].has_state && !u.c[0].deleted);
	assert_int_equal(u.c[0].created, 1700000000);
	assert_int_equal(u.c[0].nimages, 2);
	assert_string_equal(u.c[0].images[1].file, "/abs/data.qcow2");
	assert_true(u.c[0].images[1].owned && !u.c[0].images[0].owned);
	assert_int_equal(u.ncurrent, 1);
	assert_string_equal(u.current[0].disk, "");
	/* Lists show b's children under a (b is deleted); ids and labels find. */
	assert_ptr_equal(ckpt_tree_shown_parent(&u, "0000000b"), &u.c[0]);
	struct ckpt *c;
	assert_int_equal(ckpt_tree_find(&u, "first", &c, err, sizeof(err)), 0);
	assert_ptr_equal(c, &u.c[0]);
	assert_int_equal(ckpt_tree_find(&u, "0000000b", &c, err, sizeof(err)), -ENOENT);
	ckpt_tree_free(&t);
	ckpt_tree_free(&u);
}

/* A file with text is refused with one line naming the file and saying what. */
static void damaged(const char *text, const char *what)
{
	struct ckpt_tree t;
	char err[1024];
	write_file(path("d.json"), text);
	assert_int_equal(ckpt_tree_load(path("d.json"), &t, err, sizeof(err)), -EINVAL);
	assert_non_null(strstr(err, path("d.json")));
	assert_non_null(strstr(err, "damaged checkpoint list"));
	if (!strstr(err, what))
		fail_msg("'%s' does not say '%s'", err, what);
	assert_null(strchr(err, '\n'));
	assert_int_equal(t.n, 0);
	assert_null(t.c);
}

#define CK(id, parent, extra)                                                                      \
	"{\"id\": \"" id "\", \"parent\": \"" parent "\", \"label\": \"L\", \"created\": 1, "      \
	"\"disks\": [{\"disk\": \"system\", \"file\": \"x.vhdx\"}]" extra "}"

static void test_damaged(void **state)
{
	damaged("", "line");
	damaged("{\"version\": 1, \"checkpoints\": [", "line 1");
	damaged("[]", "not a JSON object");
	damaged("{\"version\": 2, \"checkpoints\": []}", "\"version\" is not 1");
	damaged("{\"version\": 1}", "\"checkpoints\" is not a list");
	damaged("{\"version\": 1, \"checkpoints\": [1]}", "checkpoint 1 is not an object");
	damaged("{\"version\": 1, \"checkpoints\": [" CK("XYZ", "", "") "]}", "not 8 hex digits");
	damaged("{\"version\": 1, \"checkpoints\": [{\"id\": \"0000000a\"}]}", "\"label\"");
	damaged("{\"version\": 1, \"checkpoints\": [" CK("0000000a", "0000000b", "") "]}",
		"parent 0000000b, which is not in the list");
	damaged("{\"version\": 1, \"checkpoints\": [" CK("0000000a", "", "") ", " CK("0000000a", "",
										     "") "]}",
		"appears twice");
	damaged("{\"version\": 1, \"checkpoints\": [" CK("0000000a", "0000000b", "") ", " CK(
		    "0000000b", "0000000a", "") "]}",
		"its own ancestor");
	damaged("{\"version\": 1, \"now\": \"0000000c\", \"checkpoints\": [" CK("0000000a", "",
										"") "]}",
		"\"now\" names checkpoint 0000000c");
	damaged("{\"version\": 1, \"checkpoints\": [" CK("0000000a", "", ", \"deleted\": 3") "]}",
		"not true or false");
	damaged("{\"version\": 1, \"checkpoints\": [{\"id\": \"0000000a\", \"label\": \"L\", "
		"\"created\": -5, \"disks\": []}]}",
		"\"created\" is not a time");
	damaged("{\"version\": 1, \"checkpoints\": [{\"id\": \"0000000a\", \"label\": \"L\", "
		"\"created\": 1, \"disks\": [{\"disk\": \"a\", \"file\": \"x\\u0000y\"}]}]}",
		"is not allowed");
	damaged("{\"version\": 1, \"checkpoints\": [{\"id\": \"0000000a\", \"label\": \"L\", "
		"\"created\": 1, \"disks\": [{\"disk\": \"a\", \"file\": \"x\"}, {\"disk\": "
		"\"a\", \"file\": \"y\"}]}]}",
		"lists disk 'a' twice");
	damaged("{\"version\": 1, \"checkpoints\": [{\"id\": \"0000000a\", \"label\": \"L\", "
		"\"created\": 1, \"disks\": [{\"disk\": \"a\", \"file\": \"\"}]}]}",
		"empty file name");
	damaged("{\"version\": 1, \"checkpoints\": [], \"checkpoints\": []}", "line 1");
}

static void test_labels(void **state)
{
	char err[256], long_label[CKPT_LABEL_MAX + 2];
	assert_int_equal(ckpt_check_label("Before the upgrade", err, sizeof(err)), 0);
	assert_int_equal(ckpt_check_label("t - 2026-11-26 03:00:00", err, sizeof(err)), 0);
	assert_int_equal(ckpt_check_label("", err, sizeof(err)), -EINVAL);
	assert_int_equal(ckpt_check_label("  ", err, sizeof(err)), -EINVAL);
	assert_int_equal(ckpt_check_label("a\tb", err, sizeof(err)), -EINVAL);
	assert_int_equal(ckpt_check_label("deadbeef", err, sizeof(err)), -EINVAL);
	memset(long_label, 'x', CKPT_LABEL_MAX + 1);
	long_label[CKPT_LABEL_MAX + 1] = 0;
	assert_int_equal(ckpt_check_label(long_label, err, sizeof(err)), -EINVAL);
	long_label[CKPT_LABEL_MAX] = 0;
	assert_int_equal(ckpt_check_label(long_label, err, sizeof(err)), 0);
}

/* --- operations on a VM with a VHDX disk ------------------------------------------ */

static char current[640];

/* The file disk 'system' uses now, from the vmconfig. */
static const char *current_disk(void)
{
	FILE *f = fopen(vmconfig, "r");
	char line[512];
	bool in = false;
	assert_non_null(f);
	current[0] = 0;
	while (fgets(line, sizeof(line), f)) {
		if (line[0] == '[')
			in = strncmp(line, "[disk \"system\"]", 15) == 0;
		if (in && strncmp(line, "file = ", 7) == 0) {
			line[strcspn(line, "\n")] = 0;
			snprintf(current, sizeof(current), "%s/%s", dir, line + 7);
		}
	}
	fclose(f);
	assert_true(current[0]);
	return current;
}

static void disk_write(uint64_t off, size_t len, uint8_t v)
{
	struct block_dev *bd;
	char err[512];
	if (block_open(current_disk(), NULL, 0, &bd, err, sizeof(err)) < 0)
		fail_msg("%s", err);
	uint8_t *buf = malloc(len);
	memset(buf, v, len);
	assert_int_equal(block_pwrite(bd, buf, len, off), 0);
	free(buf);
	block_close(bd);
}

static uint8_t *disk_read(void)
{
	struct block_dev *bd;
	char err[512];
	if (block_open(current_disk(), NULL, BLOCK_RDONLY, &bd, err, sizeof(err)) < 0)
		fail_msg("%s", err);
	uint8_t *buf = malloc(DISK_SIZE);
	assert_int_equal(block_pread(bd, buf, DISK_SIZE, 0), 0);
	struct block_check res = {0};
	assert_int_equal(block_check(bd, false, &res), 0);
	assert_int_equal(res.corruptions + res.leaks, 0);
	block_close(bd);
	return buf;
}

static void disk_is(const uint8_t *want)
{
	uint8_t *now = disk_read();
	assert_memory_equal(now, want, DISK_SIZE);
	free(now);
}

static unsigned images_in_dir(void)
{
	DIR *d = opendir(dir);
	struct dirent *e;
	unsigned n = 0;
	while ((e = readdir(d)))
		n += strstr(e->d_name, "vhdx") != NULL;
	closedir(d);
	return n;
}

static void make_vm(void)
{
	char err[512];
	struct block_create_opts o = {.size = DISK_SIZE};
	if (block_create(path("t.vhdx"), "vhdx", &o, err, sizeof(err)) < 0)
		fail_msg("%s", err);
	write_file(vmconfig, "# a test VM\n[vm]\nname = t\nmemory = 64M\n\n"
			     "# its disk\n[disk \"system\"]\nfile = t.vhdx\nformat = vhdx\n");
}

static void test_create_apply_delete(void **state)
{
	char err[1024], a[CKPT_ID_LEN + 1], b[CKPT_ID_LEN + 1];

	make_vm();
	disk_write(0, MiB, 0x11);
	uint8_t *at_a = disk_read();
	if (ckpt_create(&vm, "A", a, err, sizeof(err)) < 0)
		fail_msg("%s", err);
	assert_string_not_equal(current_disk(), path("t.vhdx"));
	assert_non_null(strstr(current_disk(), ".avhdx"));
	disk_write(512 * 1024, MiB, 0x22);
	disk_write(9 * MiB, 4096, 0x23);
	uint8_t *at_b = disk_read();
	if (ckpt_create(&vm, "B", b, err, sizeof(err)) < 0)
		fail_msg("%s", err);
	disk_write(3 * MiB, MiB, 0x33);
	uint8_t *after_b = disk_read();

	if (ckpt_apply(&vm, "A", err, sizeof(err)) < 0)
		fail_msg("%s", err);
	disk_is(at_a);
	assert_int_equal(images_in_dir(), 3); /* t.vhdx, A's child (B froze it), the new one */
	disk_write(0, 4096, 0x44);
	if (ckpt_apply(&vm, b, err, sizeof(err)) < 0)
		fail_msg("%s", err);
	disk_is(at_b);
	assert_int_equal(images_in_dir(), 3);

	/* A running VM: deleting B merges into the running disk: refused, nothing changed. */
	assert_int_equal(ckpt_delete(&vm, "B", true, err, sizeof(err)), -EBUSY);
	assert_non_null(strstr(err, "turn it off first"));
	disk_is(at_b);
	/* Deleting A while it runs merges nothing (B stands on A's image): allowed. */
	if (ckpt_delete(&vm, "A", true, err, sizeof(err)) < 0)
		fail_msg("%s", err);
	disk_is(at_b);
	assert_int_equal(images_in_dir(), 3);
	if (ckpt_delete(&vm, "B", false, err, sizeof(err)) < 0)
		fail_msg("%s", err);
	assert_string_equal(current_disk(), path("t.vhdx"));
	assert_int_equal(images_in_dir(), 1);
	disk_is(at_b);

	struct ckpt_tree t;
	assert_int_equal(ckpt_load_tree(&vm, &t, err, sizeof(err)), 0);
	assert_int_equal(t.n, 0);
	ckpt_tree_free(&t);
	/* The user's comments survived every switch. */
	FILE *f = fopen(vmconfig, "r");
	char text[512] = {0};
	assert_true(fread(text, 1, sizeof(text) - 1, f) > 0);
	fclose(f);
	assert_non_null(strstr(text, "# its disk"));
	assert_non_null(strstr(text, "format = vhdx"));
	free(at_a);
	free(at_b);
	free(after_b);
}

static void test_branches(void **state)
{
	char err[1024], a[CKPT_ID_LEN + 1], b[CKPT_ID_LEN + 1], c[CKPT_ID_LEN + 1];

	/* A with two children B and C (made after applying A); deleting A keeps its image
	 * (two users); deleting B removes B's images; then A's image has one user, Now, and
	 * merges when C goes. */
	make_vm();
	disk_write(0, MiB, 1);
	assert_int_equal(ckpt_create(&vm, "A", a, err, sizeof(err)), 0);
	disk_write(MiB, MiB, 2);
	assert_int_equal(ckpt_create(&vm, "B", b, err, sizeof(err)), 0);
	assert_int_equal(ckpt_apply(&vm, "A", err, sizeof(err)), 0);
	disk_write(2 * MiB, MiB, 3);
	uint8_t *at_c = disk_read();
	assert_int_equal(ckpt_create(&vm, "C", c, err, sizeof(err)), 0);
	assert_int_equal(ckpt_delete(&vm, "A", false, err, sizeof(err)), 0);
	struct ckpt_tree t;
	assert_int_equal(ckpt_load_tree(&vm, &t, err, sizeof(err)), 0);
	assert_int_equal(t.n, 3); /* A kept, deleted */
	assert_true(ckpt_tree_get(&t, a)->deleted);
	assert_null(ckpt_tree_shown_parent(&t, ckpt_tree_get(&t, b)->parent));
	ckpt_tree_free(&t);
	assert_int_equal(ckpt_delete(&vm, "B", false, err, sizeof(err)), 0);
	disk_is(at_c);
	assert_int_equal(ckpt_delete(&vm, "C", false, err, sizeof(err)), 0);
	disk_is(at_c);
	assert_int_equal(images_in_dir(), 1);
	assert_string_equal(current_disk(), path("t.vhdx"));
	free(at_c);
}

static void test_saved_vm(void **state)
{
	char err[1024], a[CKPT_ID_LEN + 1], saved[256], st[256];

	/* A saved VM's checkpoint keeps its state; apply brings it back as saved.vmstate,
	 * and an apply of a checkpoint without one removes the VM's. */
	make_vm();
	assert_int_equal(ckpt_saved_path(&vm, saved, sizeof(saved)), 0);
	write_file(saved, "state at A");
	assert_int_equal(ckpt_create(&vm, "A", a, err, sizeof(err)), 0);
	assert_int_equal(ckpt_state_path(&vm, a, st, sizeof(st)), 0);
	assert_int_equal(access(st, F_OK), 0);
	unlink(saved);
	assert_int_equal(ckpt_apply(&vm, a, err, sizeof(err)), 0);
	FILE *f = fopen(saved, "r");
	char text[32] = {0};
	assert_non_null(f);
	assert_true(fread(text, 1, sizeof(text) - 1, f) > 0);
	fclose(f);
	assert_string_equal(text, "state at A");
	unlink(saved);
	char b[CKPT_ID_LEN + 1];
	assert_int_equal(ckpt_create(&vm, "B", b, err, sizeof(err)), 0);
	write_file(saved, "later");
	assert_int_equal(ckpt_apply(&vm, "B", err, sizeof(err)), 0);
	assert_int_equal(access(saved, F_OK), -1);
	assert_int_equal(ckpt_delete(&vm, a, false, err, sizeof(err)), 0);
	assert_int_equal(access(st, F_OK), -1);
}

static void test_create_fails_cleanly(void **state)
{
	char err[1024], a[CKPT_ID_LEN + 1];

	/* The second disk's image is missing: nothing is made, the vmconfig is unchanged. */
	make_vm();
	write_file(vmconfig, "[vm]\nname = t\nmemory = 64M\n[disk \"system\"]\nfile = t.vhdx\n"
			     "[disk \"data\"]\nfile = gone.vhdx\n");
	assert_true(ckpt_create(&vm, NULL, a, err, sizeof(err)) < 0);
	assert_non_null(strstr(err, "gone.vhdx"));
	assert_int_equal(images_in_dir(), 1);
	assert_string_equal(current_disk(), path("t.vhdx"));
	struct ckpt_tree t;
	assert_int_equal(ckpt_load_tree(&vm, &t, err, sizeof(err)), 0);
	assert_int_equal(t.n, 0);
	ckpt_tree_free(&t);
	/* An unknown checkpoint changes nothing either. */
	assert_int_equal(ckpt_apply(&vm, "nothing", err, sizeof(err)), -ENOENT);
	assert_non_null(strstr(err, "no checkpoint 'nothing'"));
}

static void test_removes_only_its_own(void **state)
{
	char err[1024], text[1024], victim[256];

	/* A tree file that calls a file outside the VM's folder its own: deleting the
	 * checkpoint forgets it but never removes that file. */
	make_vm();
	snprintf(victim, sizeof(victim), "%s/sub/victim.vhdx", dir);
	assert_int_equal(mkdir(path("sub"), 0700), 0);
	assert_int_equal(mkdir(path("checkpoints"), 0700), 0);
	write_file(victim, "precious");
	snprintf(text, sizeof(text),
		 "{\"version\": 1, \"now\": \"\", \"checkpoints\": [{\"id\": \"0000000a\", "
		 "\"label\": \"X\", \"created\": 1, \"disks\": [{\"disk\": \"system\", "
		 "\"file\": \"%s\", \"owned\": true}]}]}",
		 victim);
	write_file(path("checkpoints/checkpoints.json"), text);
	if (ckpt_delete(&vm, "X", false, err, sizeof(err)) < 0)
		fail_msg("%s", err);
	assert_int_equal(access(victim, F_OK), 0);
	struct ckpt_tree t;
	assert_int_equal(ckpt_load_tree(&vm, &t, err, sizeof(err)), 0);
	assert_int_equal(t.n, 0);
	ckpt_tree_free(&t);
}

static char text_buf[4096];

/* The whole of a (small) file, "" when there is none. */
static const char *file_text(const char *file)
{
	FILE *f = fopen(file, "r");
	size_t n = 0;

	if (f) {
		n = fread(text_buf, 1, sizeof(text_buf) - 1, f);
		fclose(f);
	}
	text_buf[n] = 0;
	return text_buf;
}

static void make_data_disk(const char *name)
{
	char err[512];
	struct block_create_opts o = {.size = DISK_SIZE};
	if (block_create(path(name), "vhdx", &o, err, sizeof(err)) < 0)
		fail_msg("%s", err);
}

static unsigned lines_said;
static char said[4096];

static void say(void *opaque, const char *line)
{
	size_t len = strlen(said);
	snprintf(said + len, sizeof(said) - len, "%s\n", line);
	lines_said++;
}

static void test_settings(void **state)
{
	char err[1024], a[CKPT_ID_LEN + 1], b[CKPT_ID_LEN + 1], d[CKPT_ID_LEN + 1], cp[256];
	struct ckpt_tree t;

	make_vm();
	vm.say = say;
	write_file(vmconfig, "# a test VM\n[vm]\nname = t\nmemory = 64M\ncpus = 1\n\n"
			     "# its disk\n[disk \"system\"]\nfile = t.vhdx\nformat = vhdx\n");
	assert_int_equal(ckpt_create(&vm, "A", a, err, sizeof(err)), 0);
	/* A's copy: the settings as they were, the disk naming the image A froze. */
	assert_int_equal(ckpt_config_path(&vm, a, cp, sizeof(cp)), 0);
	assert_non_null(strstr(file_text(cp), "memory = 64M\ncpus = 1\n"));
	assert_non_null(strstr(file_text(cp), "file = t.vhdx\n"));
	assert_null(strstr(file_text(cp), "avhdx"));

	/* Afterwards: more memory and vCPUs, a NIC, a disk, another name and a UUID. */
	make_data_disk("data.vhdx");
	write_file(vmconfig, "# a test VM, renamed\n[vm]\nname = u\nmemory = 128M\ncpus = 2\n"
			     "uuid = 12345678-1234-1234-1234-123456789abc\nautostart = yes\n\n"
			     "# its disk\n[disk \"system\"]\nfile = t.vhdx\nformat = vhdx\n\n"
			     "[nic \"lan\"]\nswitch = default\n\n"
			     "[disk \"data\"]\nfile = data.vhdx\nbus = virtio\n");
	said[0] = 0;
	if (ckpt_apply(&vm, "A", err, sizeof(err)) < 0)
		fail_msg("%s", err);
	const char *now = file_text(vmconfig);
	assert_non_null(strstr(now, "memory = 64M\ncpus = 1\n"));
	assert_null(strstr(now, "[nic"));
	assert_null(strstr(now, "data.vhdx"));
	assert_non_null(strstr(now, "name = u\n"));
	assert_non_null(strstr(now, "uuid = 12345678-1234-1234-1234-123456789abc\n"));
	assert_non_null(strstr(now, "autostart = yes\n"));
	assert_non_null(strstr(now, "# its disk\n"));
	assert_non_null(strstr(now, ".avhdx\n"));
	assert_int_equal(access(path("data.vhdx"), F_OK), 0);
	assert_non_null(strstr(said, "the VM's settings are the checkpoint's again"));
	assert_non_null(strstr(said, "disk 'data' was added after the checkpoint"));
	/* Nothing differs from A now; with more memory, that does. */
	char diff[8][CKPT_DIFF_LEN];
	unsigned nd = 9;
	assert_int_equal(ckpt_load_tree(&vm, &t, err, sizeof(err)), 0);
	assert_int_equal(
	    ckpt_config_diff(&vm, ckpt_tree_get(&t, a), diff, 8, &nd, err, sizeof(err)), 0);
	assert_int_equal(nd, 0);
	char *mem = strstr(file_text(vmconfig), "memory = 64M");
	assert_non_null(mem);
	char edited[4096];
	snprintf(edited, sizeof(edited), "%.*smemory = 96M%s", (int)(mem - text_buf), text_buf,
		 mem + strlen("memory = 64M"));
	write_file(vmconfig, edited);
	assert_int_equal(
	    ckpt_config_diff(&vm, ckpt_tree_get(&t, a), diff, 8, &nd, err, sizeof(err)), 0);
	assert_int_equal(nd, 1);
	assert_string_equal(diff[0], "memory 64M, now 96M");
	ckpt_tree_free(&t);

	/* A disk added later and frozen by B: applying A takes it out of the settings, its
	 * image made for B stays listed as Now's (and its file stays). */
	write_file(vmconfig, "[vm]\nname = t\nmemory = 64M\ncpus = 1\n"
			     "[disk \"system\"]\nfile = t.vhdx\nformat = vhdx\n"
			     "[disk \"data\"]\nfile = data.vhdx\nbus = virtio\n");
	assert_int_equal(ckpt_create(&vm, "B", b, err, sizeof(err)), 0);
	char data_b[64];
	snprintf(data_b, sizeof(data_b), "data-%s.avhdx", b);
	assert_int_equal(access(path(data_b), F_OK), 0);
	assert_int_equal(ckpt_apply(&vm, "A", err, sizeof(err)), 0);
	assert_null(strstr(file_text(vmconfig), "data"));
	assert_int_equal(access(path(data_b), F_OK), 0);
	assert_int_equal(ckpt_load_tree(&vm, &t, err, sizeof(err)), 0);
	bool listed = false;
	for (unsigned i = 0; i < t.ncurrent; i++)
		listed = listed || strcmp(t.current[i].file, data_b) == 0;
	assert_true(listed);
	ckpt_tree_free(&t);
	/* ... and still after the next checkpoint. */
	assert_int_equal(ckpt_create(&vm, "D", d, err, sizeof(err)), 0);
	assert_int_equal(ckpt_load_tree(&vm, &t, err, sizeof(err)), 0);
	listed = false;
	for (unsigned i = 0; i < t.ncurrent; i++)
		listed = listed || strcmp(t.current[i].file, data_b) == 0;
	assert_true(listed);
	ckpt_tree_free(&t);
	/* B brings the disk back. */
	said[0] = 0;
	assert_int_equal(ckpt_apply(&vm, "B", err, sizeof(err)), 0);
	assert_non_null(strstr(file_text(vmconfig), "[disk \"data\"]"));
	assert_non_null(strstr(said, "disk 'data' is back in the VM's settings"));

	/* A checkpoint without a copy (made before osio kept them): disks only. */
	assert_int_equal(ckpt_config_path(&vm, d, cp, sizeof(cp)), 0);
	assert_int_equal(unlink(cp), 0);
	write_file(vmconfig, "[vm]\nname = t\nmemory = 256M\ncpus = 1\n"
			     "[disk \"system\"]\nfile = t.vhdx\nformat = vhdx\n");
	said[0] = 0;
	assert_int_equal(ckpt_apply(&vm, d, err, sizeof(err)), 0);
	assert_non_null(strstr(file_text(vmconfig), "memory = 256M\n"));
	assert_non_null(strstr(file_text(vmconfig), ".avhdx\n"));
	assert_non_null(strstr(said, "no copy of the VM's settings"));
	assert_int_equal(ckpt_load_tree(&vm, &t, err, sizeof(err)), 0);
	assert_int_equal(
	    ckpt_config_diff(&vm, ckpt_tree_get(&t, d), diff, 8, &nd, err, sizeof(err)), -ENOENT);
	ckpt_tree_free(&t);

	/* A damaged copy is refused, naming it, and nothing changes. */
	assert_int_equal(ckpt_config_path(&vm, a, cp, sizeof(cp)), 0);
	write_file(cp, "[vm]\nmemory = lots\n");
	char before[4096];
	snprintf(before, sizeof(before), "%s", file_text(vmconfig));
	assert_int_equal(ckpt_apply(&vm, "A", err, sizeof(err)), -EINVAL);
	assert_non_null(strstr(err, cp));
	assert_non_null(strstr(err, "remove it"));
	assert_string_equal(file_text(vmconfig), before);

	/* Deleting a checkpoint removes its copy at once. */
	assert_int_equal(ckpt_config_path(&vm, b, cp, sizeof(cp)), 0);
	assert_int_equal(access(cp, F_OK), 0);
	assert_int_equal(ckpt_delete(&vm, b, false, err, sizeof(err)), 0);
	assert_int_equal(access(cp, F_OK), -1);
	vm.say = NULL;
}

/* A running VM's checkpoint: what osio checkpoint does around the worker's checkpoint-create
 * (its images made here, as an off VM's are; its state is not read). */
static void record_running(char id[CKPT_ID_LEN + 1], const char *running)
{
	struct ckpt_plan plan;
	char err[1024];

	if (ckpt_plan_create(&vm, NULL, &plan, err, sizeof(err)) < 0)
		fail_msg("%s", err);
	for (unsigned i = 0; i < plan.n; i++) {
		char fmt[16];
		if (ckpt_image_format(plan.d[i].cur, fmt, err, sizeof(err)) < 0 ||
		    ckpt_make_child(plan.d[i].next, plan.d[i].format, plan.d[i].cur, fmt, err,
				    sizeof(err)) < 0)
			fail_msg("%s", err);
	}
	snprintf(plan.running, sizeof(plan.running), "%s", running);
	plan.with_state = true;
	if (ckpt_plan_record(&vm, &plan, err, sizeof(err)) < 0)
		fail_msg("%s", err);
	snprintf(id, CKPT_ID_LEN + 1, "%s", plan.id);
	ckpt_plan_free(&plan);
}

static void test_running_settings(void **state)
{
	char a[CKPT_ID_LEN + 1], b[CKPT_ID_LEN + 1], c[CKPT_ID_LEN + 1], cp[256], rp[256];
	char cur[64];

	make_vm();
	vm.say = say;
	assert_int_equal(ckpt_running_path(&vm, rp, sizeof(rp)), 0);
	assert_string_equal(rp, path(".running.vmconfig"));
	/* Started with 64M; the vmconfig edited since (for the next start). */
	write_file(rp, "[vm]\nname = t\nmemory = 64M\n\n[disk \"system\"]\nfile = t.vhdx\n");
	write_file(vmconfig, "[vm]\nname = t\nmemory = 128M\n\n[disk \"system\"]\nfile = t.vhdx\n");
	record_running(a, rp);
	assert_int_equal(ckpt_config_path(&vm, a, cp, sizeof(cp)), 0);
	assert_non_null(strstr(file_text(cp), "memory = 64M\n"));
	assert_non_null(strstr(file_text(cp), "file = t.vhdx\n"));
	assert_non_null(strstr(file_text(vmconfig), "memory = 128M\n"));
	/* The worker runs on A's new image now, which only the vmconfig names. */
	const char *f = strstr(file_text(vmconfig), "file = ");
	assert_non_null(f);
	snprintf(cur, sizeof(cur), "%.*s", (int)strcspn(f, "\n"), f);
	assert_non_null(strstr(cur, ".avhdx"));
	record_running(b, rp);
	assert_int_equal(ckpt_config_path(&vm, b, cp, sizeof(cp)), 0);
	assert_non_null(strstr(file_text(cp), "memory = 64M\n"));
	assert_non_null(strstr(file_text(cp), cur));
	assert_null(strstr(file_text(cp), "file = t.vhdx\n"));
	/* A copy that cannot be read: the vmconfig as it is, said so. */
	write_file(rp, "[vm]\nmemory = lots\n");
	said[0] = 0;
	record_running(c, rp);
	assert_int_equal(ckpt_config_path(&vm, c, cp, sizeof(cp)), 0);
	assert_non_null(strstr(file_text(cp), "memory = 128M\n"));
	assert_non_null(strstr(said, "cannot be read"));
	vm.say = NULL;
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test_setup_teardown(test_missing_is_empty, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_round_trip, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_damaged, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_labels, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_create_apply_delete, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_branches, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_saved_vm, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_create_fails_cleanly, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_removes_only_its_own, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_settings, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_running_settings, setup, teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
