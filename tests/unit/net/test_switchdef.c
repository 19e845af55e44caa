/* Switch definitions in the VM store: names, save/load of every type, the
 * built-in "default", foreach order, damaged files, deletion, and the
 * store's folder and atomic writes underneath. */
#include "devices/net/switchdef.h"
#include "hypervisor/store.h"

#include <arpa/inet.h>
#include <dirent.h>
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

static char dir[64];
static char err[1024];

static int setup(void **state)
{
	(void)state;
	snprintf(dir, sizeof(dir), "/tmp/osio-switchdef-XXXXXX");
	assert_non_null(mkdtemp(dir));
	setenv("OSIO_STORE_DIR", dir, 1);
	return 0;
}

static int teardown(void **state)
{
	(void)state;
	char cmd[128];
	snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
	assert_int_equal(system(cmd), 0);
	return 0;
}

static void write_file(const char *name, const char *text)
{
	char path[256];
	snprintf(path, sizeof(path), "%s/switches", dir);
	mkdir(path, 0700);
	snprintf(path, sizeof(path), "%s/switches/%s", dir, name);
	FILE *f = fopen(path, "w");
	assert_non_null(f);
	fputs(text, f);
	fclose(f);
}

static struct net_switch_cfg make(enum net_switch_kind kind, const char *name)
{
	struct net_switch_cfg cfg;
	net_switch_cfg_defaults(&cfg, kind, name);
	return cfg;
}

static void test_names(void **state)
{
	(void)state;
	char long_ok[64], too_long[65];
	memset(long_ok, 'a', 63);
	long_ok[63] = '\0';
	memset(too_long, 'a', 64);
	too_long[64] = '\0';
	assert_true(switchdef_name_ok("lab"));
	assert_true(switchdef_name_ok("Lab_2.test-x"));
	assert_true(switchdef_name_ok(long_ok));
	assert_false(switchdef_name_ok(too_long));
	assert_false(switchdef_name_ok(""));
	assert_false(switchdef_name_ok(NULL));
	assert_false(switchdef_name_ok(".hidden"));
	assert_false(switchdef_name_ok("-opt"));
	assert_false(switchdef_name_ok("a/b"));
	assert_false(switchdef_name_ok("a b"));
	assert_false(switchdef_name_ok("ä"));
}

static void test_builtin_default(void **state)
{
	(void)state;
	struct net_switch_cfg cfg;
	assert_int_equal(switchdef_load("default", &cfg, err, sizeof(err)), 0);
	assert_int_equal(cfg.kind, NET_SWITCH_NAT);
	assert_string_equal(cfg.name, "default");
	assert_int_equal(ntohl(cfg.subnet.s_addr), 0x0a000200);
	assert_int_equal(ntohl(cfg.netmask.s_addr), 0xffffff00);
	assert_false(cfg.restricted);
	/* Not in the store: cannot be deleted. */
	assert_int_equal(switchdef_delete("default", err, sizeof(err)), -EPERM);
	assert_non_null(strstr(err, "built in"));
	/* Unknown switches say how to make them. */
	assert_int_equal(switchdef_load("lab", &cfg, err, sizeof(err)), -ENOENT);
	assert_non_null(strstr(err, "osio switch create lab --type private"));
	assert_int_equal(switchdef_load("../x", &cfg, err, sizeof(err)), -EINVAL);
}

static void test_roundtrip_every_type(void **state)
{
	(void)state;
	struct net_switch_cfg cfg = make(NET_SWITCH_NAT, "isolated"), got;
	inet_pton(AF_INET, "192.168.100.0", &cfg.subnet);
	inet_pton(AF_INET, "255.255.252.0", &cfg.netmask);
	cfg.restricted = true;
	assert_int_equal(switchdef_save(&cfg, false, err, sizeof(err)), 0);
	assert_int_equal(switchdef_load("isolated", &got, err, sizeof(err)), 0);
	assert_int_equal(got.kind, NET_SWITCH_NAT);
	assert_int_equal(ntohl(got.subnet.s_addr), 0xc0a86400);
	assert_int_equal(ntohl(got.netmask.s_addr), 0xfffffc00);
	assert_true(got.restricted);

	cfg = make(NET_SWITCH_PRIVATE, "lab");
	assert_int_equal(switchdef_save(&cfg, false, err, sizeof(err)), 0);
	assert_int_equal(switchdef_load("lab", &got, err, sizeof(err)), 0);
	assert_int_equal(got.kind, NET_SWITCH_PRIVATE);
	assert_string_equal(got.name, "lab");
	assert_string_equal(got.bridge, "");

	/* Internal: the bridge named after the switch when not given. */
	cfg = make(NET_SWITCH_INTERNAL, "hostnet");
	assert_int_equal(switchdef_save(&cfg, false, err, sizeof(err)), 0);
	assert_int_equal(switchdef_load("hostnet", &got, err, sizeof(err)), 0);
	assert_int_equal(got.kind, NET_SWITCH_INTERNAL);
	assert_string_equal(got.bridge, "osbr-hostnet");

	cfg = make(NET_SWITCH_INTERNAL, "mybr");
	strcpy(cfg.bridge, "br-lab0");
	assert_int_equal(switchdef_save(&cfg, false, err, sizeof(err)), 0);
	assert_int_equal(switchdef_load("mybr", &got, err, sizeof(err)), 0);
	assert_string_equal(got.bridge, "br-lab0");

	cfg = make(NET_SWITCH_EXTERNAL, "lan");
	strcpy(cfg.uplink, "eth0");
	assert_int_equal(switchdef_save(&cfg, false, err, sizeof(err)), 0);
	assert_int_equal(switchdef_load("lan", &got, err, sizeof(err)), 0);
	assert_int_equal(got.kind, NET_SWITCH_EXTERNAL);
	assert_string_equal(got.uplink, "eth0");
	assert_string_equal(got.bridge, "osbr-lan");

	/* External without an uplink is refused; so are other kinds. */
	cfg = make(NET_SWITCH_EXTERNAL, "nolink");
	assert_int_equal(switchdef_save(&cfg, false, err, sizeof(err)), -EINVAL);
	assert_non_null(strstr(err, "uplink"));
	cfg = make(NET_SWITCH_FD, "sock");
	assert_int_equal(switchdef_save(&cfg, false, err, sizeof(err)), -EINVAL);
	cfg = make(NET_SWITCH_PRIVATE, "bad name");
	assert_int_equal(switchdef_save(&cfg, false, err, sizeof(err)), -EINVAL);
}

static void test_long_names_get_distinct_bridges(void **state)
{
	(void)state;
	const char *names[] = {"engineering-lab-1", "engineering-lab-2", "abcdefghi", "abcdefghij"};
	char bridges[4][NET_IFNAME_MAX];
	for (int i = 0; i < 4; i++) {
		struct net_switch_cfg cfg = make(NET_SWITCH_INTERNAL, names[i]), got;
		assert_int_equal(switchdef_save(&cfg, false, err, sizeof(err)), 0);
		assert_int_equal(switchdef_load(names[i], &got, err, sizeof(err)), 0);
		assert_true(strlen(got.bridge) > 5 && strlen(got.bridge) < NET_IFNAME_MAX);
		assert_memory_equal(got.bridge, "osbr-", 5);
		strcpy(bridges[i], got.bridge);
		for (int j = 0; j < i; j++)
			assert_string_not_equal(bridges[i], bridges[j]);
	}
	assert_string_equal(bridges[2], "osbr-abcdefghi");
	assert_int_equal(strlen(bridges[3]), 15);
}

static void test_exists_and_replace(void **state)
{
	(void)state;
	struct net_switch_cfg cfg = make(NET_SWITCH_PRIVATE, "lab"), got;
	assert_int_equal(switchdef_save(&cfg, false, err, sizeof(err)), 0);
	cfg = make(NET_SWITCH_NAT, "lab");
	assert_int_equal(switchdef_save(&cfg, false, err, sizeof(err)), -EEXIST);
	assert_non_null(strstr(err, "exists"));
	assert_int_equal(switchdef_load("lab", &got, err, sizeof(err)), 0);
	assert_int_equal(got.kind, NET_SWITCH_PRIVATE); /* untouched */
	assert_int_equal(switchdef_save(&cfg, true, err, sizeof(err)), 0);
	assert_int_equal(switchdef_load("lab", &got, err, sizeof(err)), 0);
	assert_int_equal(got.kind, NET_SWITCH_NAT);
	/* No temporary files stay behind; the folder is private. */
	char path[256];
	snprintf(path, sizeof(path), "%s/switches", dir);
	DIR *d = opendir(path);
	assert_non_null(d);
	struct dirent *e;
	int files = 0;
	while ((e = readdir(d)))
		if (e->d_name[0] != '.' || strstr(e->d_name, "tmp"))
			files++;
	closedir(d);
	assert_int_equal(files, 1);
	struct stat st;
	assert_int_equal(stat(path, &st), 0);
	assert_int_equal(st.st_mode & 0777, 0700);
	snprintf(path, sizeof(path), "%s/switches/lab.json", dir);
	assert_int_equal(stat(path, &st), 0);
	assert_int_equal(st.st_mode & 0777, 0600);
}

struct seen {
	char names[16][NET_NAME_MAX];
	int n;
};

static int collect(const struct net_switch_cfg *cfg, void *ctx)
{
	struct seen *s = ctx;
	assert_true(s->n < 16);
	strcpy(s->names[s->n++], cfg->name);
	return 0;
}

static int stop_at_two(const struct net_switch_cfg *cfg, void *ctx)
{
	return ++*(int *)ctx == 2 ? 42 : 0;
}

static void test_foreach_order_and_damage(void **state)
{
	(void)state;
	const char *names[] = {"zeta", "alpha", "Mid", "beta"};
	for (int i = 0; i < 4; i++) {
		struct net_switch_cfg cfg = make(NET_SWITCH_PRIVATE, names[i]);
		assert_int_equal(switchdef_save(&cfg, false, err, sizeof(err)), 0);
	}
	write_file("notes.txt", "not a switch");
	write_file(".hidden.json", "{}");
	struct seen s = {0};
	assert_int_equal(switchdef_foreach(collect, &s, err, sizeof(err)), 0);
	assert_int_equal(s.n, 5);
	assert_string_equal(s.names[0], "default");
	assert_string_equal(s.names[1], "Mid");
	assert_string_equal(s.names[2], "alpha");
	assert_string_equal(s.names[3], "beta");
	assert_string_equal(s.names[4], "zeta");

	/* A damaged file: the others are still seen, the error names it. */
	write_file("broken.json", "{\"name\": \"broken\", \"type\": ");
	memset(&s, 0, sizeof(s));
	assert_int_equal(switchdef_foreach(collect, &s, err, sizeof(err)), -EINVAL);
	assert_int_equal(s.n, 5);
	assert_non_null(strstr(err, "broken.json"));

	/* fn's own result stops the walk. */
	int calls = 0;
	assert_int_equal(switchdef_foreach(stop_at_two, &calls, err, sizeof(err)), 42);
	assert_int_equal(calls, 2);
}

static void expect_damaged(const char *text, const char *words)
{
	struct net_switch_cfg cfg;
	write_file("lab.json", text);
	assert_int_equal(switchdef_load("lab", &cfg, err, sizeof(err)), -EINVAL);
	assert_non_null(strstr(err, "switches/lab.json"));
	if (!strstr(err, words))
		fail_msg("'%s': the message '%s' does not say '%s'", text, err, words);
}

static void test_damaged_definitions(void **state)
{
	(void)state;
	expect_damaged("{\"name\": \"lab\", \"type\": \"private\", \"colour\": \"red\"}",
		       "unknown key \"colour\"");
	expect_damaged("{\"name\": \"lab\", \"type\": \"private\"", "damaged");
	expect_damaged("", "damaged");
	expect_damaged("[1, 2]", "JSON object");
	expect_damaged("{\"type\": \"private\", \"type\": \"nat\"}", "damaged");
	expect_damaged("{\"name\": \"other\", \"type\": \"private\"}", "\"other\"");
	expect_damaged("{\"name\": \"lab\"}", "\"type\"");
	expect_damaged("{\"type\": \"switchy\"}", "\"type\"");
	expect_damaged("{\"type\": \"fd\"}", "\"type\"");
	expect_damaged("{\"type\": 3}", "\"type\" must be a string");
	expect_damaged("{\"type\": \"nat\", \"subnet\": \"10.0.2.1/24\"}", "\"subnet\"");
	expect_damaged("{\"type\": \"nat\", \"subnet\": \"10.0.0.0/4\"}", "\"subnet\"");
	expect_damaged("{\"type\": \"private\", \"subnet\": \"10.0.2.0/24\"}", "\"subnet\"");
	expect_damaged("{\"type\": \"nat\", \"restrict\": \"yes\"}", "\"restrict\"");
	expect_damaged("{\"type\": \"internal\", \"bridge\": \"a-very-long-bridge\"}",
		       "\"bridge\"");
	expect_damaged("{\"type\": \"internal\", \"bridge\": \"a/b\"}", "\"bridge\"");
	expect_damaged("{\"type\": \"private\", \"bridge\": \"br0\"}", "\"bridge\"");
	expect_damaged("{\"type\": \"external\", \"bridge\": \"br0\"}", "\"uplink\"");
	expect_damaged("{\"type\": \"internal\", \"uplink\": \"eth0\"}", "\"uplink\"");
	expect_damaged("{\"type\": \"private\", \"notes\": 5}", "\"notes\"");

	/* A hand-written minimal file is fine: the defaults fill in. */
	struct net_switch_cfg cfg;
	write_file("lab.json", "{\"type\": \"nat\", \"notes\": \"x\"}");
	assert_int_equal(switchdef_load("lab", &cfg, err, sizeof(err)), 0);
	assert_int_equal(ntohl(cfg.subnet.s_addr), 0x0a000200);
	/* A damaged "default" is reported, not replaced by the built-in. */
	write_file("default.json", "{");
	assert_int_equal(switchdef_load("default", &cfg, err, sizeof(err)), -EINVAL);
}

static void test_stored_default_and_delete(void **state)
{
	(void)state;
	struct net_switch_cfg cfg = make(NET_SWITCH_PRIVATE, "default"), got;
	assert_int_equal(switchdef_save(&cfg, false, err, sizeof(err)), 0);
	assert_int_equal(switchdef_load("default", &got, err, sizeof(err)), 0);
	assert_int_equal(got.kind, NET_SWITCH_PRIVATE);
	struct seen s = {0};
	assert_int_equal(switchdef_foreach(collect, &s, err, sizeof(err)), 0);
	assert_int_equal(s.n, 1);
	/* Deleting the stored one brings back the built-in. */
	assert_int_equal(switchdef_delete("default", err, sizeof(err)), 0);
	assert_int_equal(switchdef_load("default", &got, err, sizeof(err)), 0);
	assert_int_equal(got.kind, NET_SWITCH_NAT);

	cfg = make(NET_SWITCH_PRIVATE, "lab");
	assert_int_equal(switchdef_save(&cfg, false, err, sizeof(err)), 0);
	assert_int_equal(switchdef_delete("lab", err, sizeof(err)), 0);
	assert_int_equal(switchdef_load("lab", &got, err, sizeof(err)), -ENOENT);
	assert_int_equal(switchdef_delete("lab", err, sizeof(err)), -ENOENT);
	assert_non_null(strstr(err, "no switch called 'lab'"));
	assert_int_equal(switchdef_delete("a/b", err, sizeof(err)), -EINVAL);
}

static void test_notes_survive_replace(void **state)
{
	(void)state;
	write_file("lab.json", "{\"name\": \"lab\", \"type\": \"private\", \"notes\": \"QA lab\"}");
	struct net_switch_cfg cfg = make(NET_SWITCH_NAT, "lab");
	assert_int_equal(switchdef_save(&cfg, true, err, sizeof(err)), 0);
	char path[256], text[512] = "";
	snprintf(path, sizeof(path), "%s/switches/lab.json", dir);
	FILE *f = fopen(path, "r");
	assert_non_null(f);
	size_t n = fread(text, 1, sizeof(text) - 1, f);
	fclose(f);
	text[n] = '\0';
	assert_non_null(strstr(text, "\"notes\": \"QA lab\""));
	assert_non_null(strstr(text, "\"type\": \"nat\""));
}

static void test_store_root_and_folder_checks(void **state)
{
	(void)state;
	char buf[256];
	assert_int_equal(store_path(buf, sizeof(buf), "switches"), 0);
	assert_true(strncmp(buf, dir, strlen(dir)) == 0);
	assert_string_equal(buf + strlen(dir), "/switches");
	assert_int_equal(store_path(buf, sizeof(buf), NULL), 0);
	assert_string_equal(buf, dir);
	assert_int_equal(store_path(buf, 8, "switches"), -ENAMETOOLONG);

	/* A relative OSIO_STORE_DIR is refused, not used. */
	setenv("OSIO_STORE_DIR", "relative/store", 1);
	assert_int_equal(store_path(buf, sizeof(buf), NULL), -EINVAL);
	struct net_switch_cfg cfg = make(NET_SWITCH_PRIVATE, "lab");
	assert_int_equal(switchdef_save(&cfg, false, err, sizeof(err)), -EINVAL);
	assert_non_null(strstr(err, "OSIO_STORE_DIR"));

	/* A store that does not exist yet is made, with its parents. */
	snprintf(buf, sizeof(buf), "%s/a/b/store", dir);
	setenv("OSIO_STORE_DIR", buf, 1);
	assert_int_equal(switchdef_save(&cfg, false, err, sizeof(err)), 0);
	struct stat st;
	assert_int_equal(stat(buf, &st), 0);
	assert_int_equal(st.st_mode & 0777, 0700);

	/* A folder others can write to is refused. */
	chmod(buf, 0777);
	cfg = make(NET_SWITCH_PRIVATE, "lab2");
	assert_int_equal(switchdef_save(&cfg, false, err, sizeof(err)), -EPERM);
	assert_non_null(strstr(err, "mode"));
	chmod(buf, 0700);
	/* A file where the switches folder belongs. */
	char sw[300];
	snprintf(sw, sizeof(sw), "%s/switches", buf);
	char cmd[700];
	snprintf(cmd, sizeof(cmd), "rm -rf %s && touch %s", sw, sw);
	assert_int_equal(system(cmd), 0);
	assert_int_equal(switchdef_save(&cfg, false, err, sizeof(err)), -ENOTDIR);
	setenv("OSIO_STORE_DIR", dir, 1);
}

static void test_atomic_write(void **state)
{
	(void)state;
	char path[256], text[64] = "";
	snprintf(path, sizeof(path), "%s/file", dir);
	assert_int_equal(store_write_atomic(path, "one", 3, 0600, false, err, sizeof(err)), 0);
	assert_int_equal(store_write_atomic(path, "two", 3, 0600, false, err, sizeof(err)),
			 -EEXIST);
	FILE *f = fopen(path, "r");
	assert_non_null(f);
	assert_int_equal(fread(text, 1, sizeof(text), f), 3);
	fclose(f);
	assert_string_equal(text, "one");
	assert_int_equal(store_write_atomic(path, "three", 5, 0640, true, err, sizeof(err)), 0);
	struct stat st;
	assert_int_equal(stat(path, &st), 0);
	assert_int_equal(st.st_size, 5);
	assert_int_equal(st.st_mode & 0777, 0640);
	snprintf(path, sizeof(path), "%s/missing/file", dir);
	assert_true(store_write_atomic(path, "x", 1, 0600, true, err, sizeof(err)) < 0);
	assert_non_null(strstr(err, "missing/file"));
	assert_int_equal(store_remove(path, err, sizeof(err)), -ENOENT);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_names),
	    cmocka_unit_test_setup_teardown(test_builtin_default, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_roundtrip_every_type, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_long_names_get_distinct_bridges, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_exists_and_replace, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_foreach_order_and_damage, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_damaged_definitions, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_stored_default_and_delete, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_notes_survive_replace, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_store_root_and_folder_checks, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_atomic_write, setup, teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
