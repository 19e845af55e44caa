/* The Settings window's hardware tree without a terminal: a commented
 * vmconfig read into the tree, edits (memory, DVD media, a new adapter, a
 * disk removed, COM ports) saved with the comments kept, IDE drives staying
 * where they were, what a running or saved VM lets change, bad values
 * refused with the vmconfig's message, and a file changed behind the
 * window's back. */
#include "console/hwtree.h"

#include "vmconfig/vmconfig.h"

#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static char root[256], store[300];

static const char *const config = "# web: a test VM\n"
				  "[vm]\n"
				  "name = web\n"
				  "memory = 1G        # enough for the web server\n"
				  "cpus = 2\n"
				  "\n"
				  "[boot]\n"
				  "order = dvd, disk  ; installer first\n"
				  "\n"
				  "# The system disk, where a PC has it.\n"
				  "[disk \"system\"]\n"
				  "file = web.vhdx\n"
				  "\n"
				  "# Scratch space, to go away.\n"
				  "[disk \"scratch\"]\n"
				  "file = scratch.img\n"
				  "\n"
				  "[disk \"data\"]\n"
				  "file = data.qcow2\n"
				  "bus = virtio\n"
				  "\n"
				  "[dvd \"installer\"]\n"
				  "file = debian.iso  # the netinst image\n"
				  "\n"
				  "[nic \"lan\"]\n"
				  "switch = default   # NAT\n"
				  "mac = 52:4f:53:00:00:01\n"
				  "\n"
				  "# The end.\n";

static int setup(void **st)
{
	char path[4096];

	(void)st;
	snprintf(root, sizeof(root), "/tmp/osio-hwtree-XXXXXX");
	assert_non_null(mkdtemp(root));
	snprintf(store, sizeof(store), "%s/store", root);
	assert_int_equal(mkdir(store, 0700), 0);
	setenv("OSIO_STORE_DIR", store, 1);
	snprintf(path, sizeof(path), "%s/vms", store);
	assert_int_equal(mkdir(path, 0700), 0);
	assert_int_equal(vmstore_path("web", NULL, path, sizeof(path)), 0);
	assert_int_equal(mkdir(path, 0700), 0);
	assert_int_equal(vmstore_vmconfig("web", path, sizeof(path)), 0);
	FILE *f = fopen(path, "w");
	assert_non_null(f);
	fputs(config, f);
	assert_int_equal(fclose(f), 0);
	return 0;
}

static int teardown(void **st)
{
	char cmd[400];

	(void)st;
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", root);
	assert_int_equal(system(cmd), 0);
	return 0;
}

static char *file_text(void)
{
	char path[4096];
	int err = 0;

	assert_int_equal(vmstore_vmconfig("web", path, sizeof(path)), 0);
	char *text = hwtree_read_file(path, &err);
	assert_non_null(text);
	return text;
}

static const struct hw_item *find(const struct hwtree *t, enum hw_kind kind, const char *name)
{
	for (unsigned i = 0; i < t->nitems; i++)
		if (t->items[i].kind == kind && (!name || strcmp(t->items[i].name, name) == 0))
			return &t->items[i];
	return NULL;
}

static void test_tree(void **st)
{
	struct hwtree t;
	char msg[512], lines[16][256];
	const struct hw_item *it;

	(void)st;
	assert_int_equal(hwtree_open(&t, "web", HW_MODE_OFF, msg, sizeof(msg)), 0);
	it = find(&t, HW_MEMORY, NULL);
	assert_non_null(it);
	assert_string_equal(it->value, "1 GiB");
	assert_string_equal(find(&t, HW_PROCESSOR, NULL)->value, "2 virtual processors");
	assert_string_equal(find(&t, HW_FIRMWARE, NULL)->value, "dvd, disk");
	/* Two IDE disks by rule at 0:0 and 0:1, the lone DVD at 1:0, the
	 * virtio disk under Virtio Storage. */
	assert_int_equal(find(&t, HW_DISK, "system")->ide, 0);
	assert_int_equal(find(&t, HW_DISK, "scratch")->ide, 1);
	assert_int_equal(find(&t, HW_DVD, "installer")->ide, 2);
	assert_int_equal(find(&t, HW_DISK, "data")->ide, -1);
	assert_string_equal(find(&t, HW_DVD, "installer")->value, "debian.iso");
	assert_string_equal(find(&t, HW_NIC, "lan")->value, "default");
	/* The items come in tree order: the DVD under IDE Controller 1. */
	const struct hw_item *ide1 = NULL, *dvd = find(&t, HW_DVD, "installer");
	for (unsigned i = 0; i < t.nitems; i++)
		if (t.items[i].kind == HW_IDE && t.items[i].port == 1)
			ide1 = &t.items[i];
	assert_non_null(ide1);
	assert_true(dvd > ide1 && dvd->depth == 2);
	/* COM1 is there by default (stdio), COM2-4 are not. */
	it = find(&t, HW_COM, "com1");
	assert_string_equal(it->value, "stdio");
	assert_false(find(&t, HW_COM, "com2")->exists);
	assert_string_equal(find(&t, HW_COM, "com2")->value, "None");
	unsigned n = hwtree_summary(&t, find(&t, HW_DISK, "system"), lines, 16);
	assert_true(n >= 3);
	assert_string_equal(lines[1], "Image: web.vhdx");
	assert_non_null(strstr(lines[2], "IDE controller 0, location 0"));
	hwtree_close(&t);
}

static void test_edits_saved_with_comments(void **st)
{
	struct hwtree t;
	char msg[512], name[72];

	(void)st;
	assert_int_equal(hwtree_open(&t, "web", HW_MODE_OFF, msg, sizeof(msg)), 0);
	struct hw_change mem = {"memory", "2G"};
	assert_int_equal(hwtree_apply(&t, "vm", NULL, &mem, 1, msg, sizeof(msg)), 0);
	assert_string_equal(find(&t, HW_MEMORY, NULL)->value, "2 GiB");
	struct hw_change dvd = {"file", "ubuntu.iso"};
	assert_int_equal(hwtree_apply(&t, "dvd", "installer", &dvd, 1, msg, sizeof(msg)), 0);
	assert_int_equal(hwtree_add_nic(&t, "lab", "virtio", name, sizeof(name), msg, sizeof(msg)),
			 0);
	assert_string_equal(name, "net1");
	assert_non_null(find(&t, HW_NIC, "net1"));
	assert_int_equal(hwtree_remove(&t, find(&t, HW_DISK, "scratch"), msg, sizeof(msg)), 0);
	assert_null(find(&t, HW_DISK, "scratch"));
	assert_true(t.dirty);

	/* Nothing is written before Save. */
	char *text = file_text();
	assert_string_equal(text, config);
	free(text);
	assert_int_equal(hwtree_save(&t, msg, sizeof(msg)), 0);
	assert_false(t.dirty);
	hwtree_close(&t);

	text = file_text();
	assert_non_null(strstr(text, "# web: a test VM\n[vm]\n"));
	assert_non_null(strstr(text, "memory = 2G        # enough for the web server\n"));
	assert_non_null(strstr(text, "order = dvd, disk  ; installer first\n"));
	assert_non_null(strstr(text, "file = ubuntu.iso  # the netinst image\n"));
	assert_non_null(strstr(text, "[nic \"net1\"]\nswitch = lab\nmodel = virtio\n"));
	/* The removed disk's section and the comment above it are gone; the
	 * others keep theirs. */
	assert_null(strstr(text, "scratch"));
	assert_null(strstr(text, "Scratch space"));
	assert_non_null(strstr(text, "# The system disk, where a PC has it.\n[disk \"system\"]"));
	assert_non_null(strstr(text, "# The end.\n"));
	free(text);

	/* Read back, the drives are where they were. */
	assert_int_equal(hwtree_open(&t, "web", HW_MODE_OFF, msg, sizeof(msg)), 0);
	assert_int_equal(find(&t, HW_DISK, "system")->ide, 0);
	assert_int_equal(find(&t, HW_DVD, "installer")->ide, 2);
	assert_string_equal(find(&t, HW_NIC, "net1")->value, "lab");
	hwtree_close(&t);
}

/* Hyper-V's Automatic Start and Stop Actions: the [vm] keys osio autostart
 * and autostop read, shown in the tree and written back; a bad order is
 * refused with the vmconfig's message. */
static void test_automatic_actions(void **st)
{
	struct hwtree t;
	char msg[512];

	(void)st;
	assert_int_equal(hwtree_open(&t, "web", HW_MODE_OFF, msg, sizeof(msg)), 0);
	assert_string_equal(find(&t, HW_AUTOSTART, NULL)->value, "nothing");
	assert_string_equal(find(&t, HW_AUTOSTOP, NULL)->value, "shutdown");
	struct hw_change start[] = {
	    {"autostart", "yes"}, {"autostart_order", "5"}, {"autostart_delay", "30"}};
	assert_int_equal(hwtree_apply(&t, "vm", NULL, start, 3, msg, sizeof(msg)), 0);
	assert_string_equal(find(&t, HW_AUTOSTART, NULL)->value, "start (order 5, delay 30 s)");
	struct hw_change stop = {"stop_action", "save"};
	assert_int_equal(hwtree_apply(&t, "vm", NULL, &stop, 1, msg, sizeof(msg)), 0);
	assert_string_equal(find(&t, HW_AUTOSTOP, NULL)->value, "save");
	struct hw_change bad = {"autostart_order", "1000"};
	assert_int_not_equal(hwtree_apply(&t, "vm", NULL, &bad, 1, msg, sizeof(msg)), 0);
	assert_non_null(strstr(msg, "autostart_order"));
	assert_int_equal(hwtree_save(&t, msg, sizeof(msg)), 0);
	hwtree_close(&t);

	char *text = file_text();
	assert_non_null(strstr(text, "autostart = yes\n"));
	assert_non_null(strstr(text, "autostart_order = 5\n"));
	assert_non_null(strstr(text, "stop_action = save\n"));
	assert_non_null(strstr(text, "memory = 1G        # enough for the web server\n"));
	free(text);
}

static void test_ide_positions_kept(void **st)
{
	struct hwtree t;
	char msg[512], name[72];

	(void)st;
	assert_int_equal(hwtree_open(&t, "web", HW_MODE_OFF, msg, sizeof(msg)), 0);
	/* A second DVD drive takes the free 1:1; the first stays at 1:0 even
	 * though it is no longer the lone DVD drive the rule puts there. */
	assert_int_equal(hwtree_free_ide(&t), 3);
	assert_int_equal(hwtree_add_dvd(&t, "", name, sizeof(name), msg, sizeof(msg)), 0);
	assert_string_equal(name, "dvd1");
	assert_int_equal(find(&t, HW_DVD, "dvd1")->ide, 3);
	assert_int_equal(find(&t, HW_DVD, "installer")->ide, 2);
	assert_string_equal(find(&t, HW_DVD, "dvd1")->value, "None");
	/* A drive moved on purpose goes where it was told; onto a taken
	 * place it is refused with the vmconfig's message. */
	struct hw_change mv[] = {{"controller", "0"}, {"location", "1"}};
	assert_int_equal(hwtree_apply(&t, "dvd", "dvd1", mv, 2, msg, sizeof(msg)), -EINVAL);
	assert_non_null(strstr(msg, "IDE controller 0, location 1 is taken by"));
	struct hw_change swap[] = {{"controller", "1"}, {"location", "1"}};
	assert_int_equal(hwtree_remove(&t, find(&t, HW_DVD, "dvd1"), msg, sizeof(msg)), 0);
	assert_int_equal(hwtree_apply(&t, "dvd", "installer", swap, 2, msg, sizeof(msg)), 0);
	assert_int_equal(find(&t, HW_DVD, "installer")->ide, 3);
	assert_int_equal(find(&t, HW_DISK, "system")->ide, 0);
	assert_int_equal(find(&t, HW_DISK, "scratch")->ide, 1);
	/* Removing the first disk leaves the second at 0:1. */
	assert_int_equal(hwtree_remove(&t, find(&t, HW_DISK, "system"), msg, sizeof(msg)), 0);
	assert_int_equal(find(&t, HW_DISK, "scratch")->ide, 1);
	assert_int_equal(hwtree_free_ide(&t), 0);
	assert_int_equal(hwtree_add_dvd(&t, "", NULL, 0, msg, sizeof(msg)), 0);
	assert_int_equal(hwtree_free_ide(&t), 2);
	/* IDE full: a fifth drive is refused with the vmconfig's message and
	 * the document is as it was. */
	assert_int_equal(hwtree_add_disk(&t, "ide", "new.vhdx", NULL, 0, msg, sizeof(msg)), 0);
	assert_int_equal(hwtree_free_ide(&t), -1);
	char *before = vmconfig_format(t.cfg, NULL);
	assert_int_equal(hwtree_add_disk(&t, "ide", "more.vhdx", NULL, 0, msg, sizeof(msg)),
			 -EINVAL);
	assert_non_null(strstr(msg, "a fifth IDE drive"));
	char *after = vmconfig_format(t.cfg, NULL);
	assert_string_equal(before, after);
	free(before);
	free(after);
	/* On virtio there is room. */
	assert_int_equal(
	    hwtree_add_disk(&t, "virtio", "more.vhdx", name, sizeof(name), msg, sizeof(msg)), 0);
	assert_int_equal(find(&t, HW_DISK, name)->ide, -1);
	hwtree_close(&t);
}

static void test_bad_values(void **st)
{
	struct hwtree t;
	char msg[512];

	(void)st;
	assert_int_equal(hwtree_open(&t, "web", HW_MODE_OFF, msg, sizeof(msg)), 0);
	char *before = vmconfig_format(t.cfg, NULL);
	struct hw_change mem = {"memory", "2X"};
	assert_int_equal(hwtree_apply(&t, "vm", NULL, &mem, 1, msg, sizeof(msg)), -EINVAL);
	assert_non_null(strstr(msg, "memory = '2X': not a size"));
	struct hw_change cpus = {"cpus", "0"};
	assert_int_equal(hwtree_apply(&t, "vm", NULL, &cpus, 1, msg, sizeof(msg)), -EINVAL);
	assert_non_null(strstr(msg, "cpus = '0'"));
	struct hw_change mac = {"mac", "01:00:00:00:00:01"};
	assert_int_equal(hwtree_apply(&t, "nic", "lan", &mac, 1, msg, sizeof(msg)), -EINVAL);
	assert_non_null(strstr(msg, "mac = '01:00:00:00:00:01'"));
	/* A rule between keys: a socket backend needs a path (vmconfig_validate);
	 * with one it is fine. */
	struct hw_change sock[] = {{"backend", "socket"}, {"path", NULL}};
	assert_int_equal(hwtree_apply(&t, "serial", "com2", sock, 2, msg, sizeof(msg)), -EINVAL);
	assert_non_null(strstr(msg, "needs a path"));
	char *after = vmconfig_format(t.cfg, NULL);
	assert_string_equal(before, after);
	free(after);
	assert_false(t.dirty);
	struct hw_change sock2[] = {{"backend", "socket"}, {"path", "/run/web-com2.sock"}};
	assert_int_equal(hwtree_apply(&t, "serial", "com2", sock2, 2, msg, sizeof(msg)), 0);
	assert_true(find(&t, HW_COM, "com2")->exists);
	assert_string_equal(find(&t, HW_COM, "com2")->value, "socket");
	assert_int_equal(hwtree_remove(&t, find(&t, HW_COM, "com2"), msg, sizeof(msg)), 0);
	assert_false(find(&t, HW_COM, "com2")->exists);
	/* Two adapters with one MAC. */
	char name[72];
	assert_int_equal(
	    hwtree_add_nic(&t, "default", "e1000", name, sizeof(name), msg, sizeof(msg)), 0);
	struct hw_change dup = {"mac", "52:4f:53:00:00:01"};
	assert_int_equal(hwtree_apply(&t, "nic", name, &dup, 1, msg, sizeof(msg)), -EINVAL);
	assert_non_null(strstr(msg, "52:4f:53:00:00:01"));
	free(before);
	hwtree_close(&t);
}

static void test_running_rules(void **st)
{
	struct hwtree t;
	char msg[512], why[128];

	(void)st;
	assert_int_equal(hwtree_mode(VM_RUNNING), HW_MODE_LIVE);
	assert_int_equal(hwtree_mode(VM_PAUSED), HW_MODE_LIVE);
	assert_int_equal(hwtree_mode(VM_SAVED), HW_MODE_LOCKED);
	assert_int_equal(hwtree_mode(VM_OFF), HW_MODE_OFF);
	assert_int_equal(hwtree_mode(VM_CRASHED), HW_MODE_OFF);
	assert_true(hwtree_may_change(HW_MODE_LIVE, "dvd", "file", why, sizeof(why)));
	assert_true(hwtree_may_change(HW_MODE_LIVE, "nic", "switch", why, sizeof(why)));
	assert_false(hwtree_may_change(HW_MODE_LIVE, "nic", "mac", why, sizeof(why)));
	assert_string_equal(why, HW_LOCKED_MSG);
	assert_false(hwtree_may_change(HW_MODE_LOCKED, "dvd", "file", why, sizeof(why)));

	assert_int_equal(hwtree_open(&t, "web", HW_MODE_LIVE, msg, sizeof(msg)), 0);
	struct hw_change mem = {"memory", "4G"};
	assert_int_equal(hwtree_apply(&t, "vm", NULL, &mem, 1, msg, sizeof(msg)), -EPERM);
	assert_string_equal(msg, HW_LOCKED_MSG);
	assert_int_equal(hwtree_add_nic(&t, "default", "e1000", NULL, 0, msg, sizeof(msg)), -EPERM);
	assert_int_equal(hwtree_remove(&t, find(&t, HW_DISK, "system"), msg, sizeof(msg)), -EPERM);
	assert_false(hwtree_item_editable(&t, find(&t, HW_MEMORY, NULL)));
	assert_true(hwtree_item_editable(&t, find(&t, HW_DVD, "installer")));
	assert_true(hwtree_item_editable(&t, find(&t, HW_NIC, "lan")));
	/* What does change live is applied to the document. */
	struct hw_change sw = {"switch", "lab"};
	assert_int_equal(hwtree_apply(&t, "nic", "lan", &sw, 1, msg, sizeof(msg)), 0);
	assert_int_equal(hwtree_save(&t, msg, sizeof(msg)), 0);
	hwtree_close(&t);
	char *text = file_text();
	assert_non_null(strstr(text, "switch = lab"));
	assert_non_null(strstr(text, "# NAT\n"));
	free(text);

	assert_int_equal(hwtree_open(&t, "web", HW_MODE_LOCKED, msg, sizeof(msg)), 0);
	struct hw_change dvd = {"file", ""};
	assert_int_equal(hwtree_apply(&t, "dvd", "installer", &dvd, 1, msg, sizeof(msg)), -EPERM);
	assert_false(hwtree_item_editable(&t, find(&t, HW_DVD, "installer")));
	char lines[16][256];
	unsigned n = hwtree_summary(&t, find(&t, HW_MEMORY, NULL), lines, 16);
	assert_string_equal(lines[n - 1], HW_LOCKED_MSG ".");
	hwtree_close(&t);
}

static void test_changed_behind(void **st)
{
	struct hwtree t;
	char msg[512], path[4096];

	(void)st;
	assert_int_equal(hwtree_open(&t, "web", HW_MODE_LIVE, msg, sizeof(msg)), 0);
	/* osio dvd writes the file itself: syncing takes it as the base. */
	assert_int_equal(vmstore_vmconfig("web", path, sizeof(path)), 0);
	struct vmconfig_error err;
	struct vmconfig *cfg = vmconfig_load(path, &err);
	assert_non_null(cfg);
	assert_int_equal(vmconfig_set(cfg, "dvd", "installer", "file", "/isos/x.iso", &err), 0);
	assert_int_equal(vmconfig_save(cfg, NULL), 0);
	vmconfig_free(cfg);
	struct hw_change sw = {"switch", "lab"};
	assert_int_equal(hwtree_apply(&t, "nic", "lan", &sw, 1, msg, sizeof(msg)), 0);
	assert_int_equal(hwtree_save(&t, msg, sizeof(msg)), -ESTALE);
	assert_non_null(strstr(msg, "changed by someone else"));
	assert_int_equal(
	    hwtree_sync_key(&t, "dvd", "installer", "file", "/isos/x.iso", msg, sizeof(msg)), 0);
	assert_string_equal(find(&t, HW_DVD, "installer")->value, "x.iso");
	assert_int_equal(hwtree_save(&t, msg, sizeof(msg)), 0);
	hwtree_close(&t);
	char *text = file_text();
	assert_non_null(strstr(text, "file = /isos/x.iso  # the netinst image\n"));
	assert_non_null(strstr(text, "switch = lab"));
	free(text);

	/* Saving waits for no one: a held command lock is refused at once. */
	int fd;
	assert_int_equal(hwtree_open(&t, "web", HW_MODE_OFF, msg, sizeof(msg)), 0);
	assert_int_equal(vmstore_lock("web", &fd, msg, sizeof(msg)), 0);
	assert_int_equal(hwtree_save(&t, msg, sizeof(msg)), -EBUSY);
	assert_non_null(strstr(msg, "busy"));
	vmstore_unlock(fd);
	hwtree_close(&t);

	/* Paths inside the VM's folder are written relative to it. */
	assert_int_equal(hwtree_open(&t, "web", HW_MODE_OFF, msg, sizeof(msg)), 0);
	char in[4200], out[4200];
	assert_int_equal(vmstore_path("web", "web-2.vhdx", in, sizeof(in)), 0);
	hwtree_config_path(&t, in, out, sizeof(out));
	assert_string_equal(out, "web-2.vhdx");
	hwtree_config_path(&t, "/srv/a.iso", out, sizeof(out));
	assert_string_equal(out, "/srv/a.iso");
	hwtree_close(&t);

	assert_int_equal(hwtree_open(&t, "nosuch", HW_MODE_OFF, msg, sizeof(msg)), -ENOENT);
}

/* Unnamed sections: edited as they are, and an unnamed adapter goes by the
 * name the control API gives it. */
static void test_unnamed(void **st)
{
	char path[4096], msg[512];
	struct hwtree t;

	(void)st;
	assert_int_equal(vmstore_path("plain", NULL, path, sizeof(path)), 0);
	assert_int_equal(mkdir(path, 0700), 0);
	assert_int_equal(vmstore_vmconfig("plain", path, sizeof(path)), 0);
	FILE *f = fopen(path, "w");
	assert_non_null(f);
	fputs("[vm]\nname = plain\n\n[nic \"a\"]\n\n[nic]\nswitch = lab\n\n[disk]\nfile = d.img\n",
	      f);
	assert_int_equal(fclose(f), 0);
	assert_int_equal(hwtree_open(&t, "plain", HW_MODE_OFF, msg, sizeof(msg)), 0);
	const struct hw_item *nic = NULL;
	for (unsigned i = 0; i < t.nitems; i++)
		if (t.items[i].kind == HW_NIC && !t.items[i].name[0])
			nic = &t.items[i];
	assert_non_null(nic);
	char id[72];
	hwtree_nic_id(&t, nic, id, sizeof(id));
	assert_string_equal(id, "nic1");
	hwtree_nic_id(&t, find(&t, HW_NIC, "a"), id, sizeof(id));
	assert_string_equal(id, "a");
	struct hw_change ro = {"readonly", "yes"};
	assert_int_equal(hwtree_apply(&t, "disk", "", &ro, 1, msg, sizeof(msg)), 0);
	assert_string_equal(hwtree_value(&t, "disk", NULL, "readonly"), "yes");
	assert_int_equal(find(&t, HW_DISK, "")->ide, 0);
	hwtree_close(&t);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test_setup_teardown(test_tree, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_edits_saved_with_comments, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_ide_positions_kept, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_automatic_actions, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_bad_values, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_running_rules, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_changed_behind, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_unnamed, setup, teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
