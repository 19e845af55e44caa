/* The [nic] section from vmconfig to the worker's settings: names, models,
 * MACs, switches, port forward lists, TFTP, unplugged adapters, queues; the
 * errors of its keys with their lines; MACs generated into the file with its
 * comments and layout kept. */
#include "vctest.h"

#include "devices/net/net.h"

#include <errno.h>
#include <unistd.h>

static void test_nics_to_spec(void **state)
{
	struct vmconfig *cfg = vct_parse("[vm]\ncpus = 2\n"
					 "[nic \"lan\"]\nmodel = virtio\nmac = 52:4F:53:00:00:01\n"
					 "forward = tcp:127.0.0.1:2222 -> 22,udp::5555->5555 \n"
					 "tftp = boot\nbootfile = boot.ipxe\nqueues = 2\n"
					 "[nic]\nswitch = lab\nconnected = no\n",
					 "/etc/vms/ws.vmconfig");
	struct vmconfig_error err;
	struct vm_spec s;

	vm_spec_defaults(&s);
	assert_int_equal(s.nnics, 0);
	assert_int_equal(vmconfig_to_spec(cfg, &s, &err), 0);
	assert_int_equal(s.nnics, 2);
	assert_string_equal(s.nics[0].name, "lan");
	assert_int_equal(s.nics[0].model, NIC_VIRTIO);
	assert_true(s.nics[0].has_mac);
	assert_memory_equal(s.nics[0].mac, ((uint8_t[]){0x52, 0x4f, 0x53, 0, 0, 1}), 6);
	assert_string_equal(s.nics[0].switch_name, "default");
	assert_int_equal(s.nics[0].nforward, 2);
	assert_string_equal(s.nics[0].forward[0], "tcp:127.0.0.1:2222 -> 22");
	assert_string_equal(s.nics[0].forward[1], "udp::5555->5555");
	assert_string_equal(s.nics[0].tftp, "/etc/vms/boot");
	assert_string_equal(s.nics[0].bootfile, "boot.ipxe");
	assert_int_equal(s.nics[0].queues, 2);
	assert_true(s.nics[0].connected);
	assert_string_equal(s.nics[0].origin, "/etc/vms/ws.vmconfig:3");
	/* Unnamed: named by its place. */
	assert_string_equal(s.nics[1].name, "nic1");
	assert_int_equal(s.nics[1].model, NIC_E1000);
	assert_false(s.nics[1].has_mac);
	assert_string_equal(s.nics[1].switch_name, "lab");
	assert_false(s.nics[1].connected);
	assert_int_equal(s.nics[1].nforward, 0);
	assert_int_equal(s.nics[1].queues, 0);
	assert_string_equal(s.nics[1].tftp, "");
	vmconfig_free(cfg);
}

/* An unnamed adapter does not take the name of a named one. */
static void test_default_names(void **state)
{
	struct vmconfig *cfg = vct_parse("[nic]\n[nic \"nic0\"]\n[nic \"nic1\"]\n", NULL);
	struct vmconfig_error err;
	struct vm_spec s;

	vm_spec_defaults(&s);
	assert_int_equal(vmconfig_to_spec(cfg, &s, &err), 0);
	assert_int_equal(s.nnics, 3);
	assert_string_equal(s.nics[0].name, "nic2");
	assert_string_equal(s.nics[1].name, "nic0");
	assert_string_equal(s.nics[2].name, "nic1");
	assert_string_equal(s.nics[0].origin, ""); /* no file to name */
	vmconfig_free(cfg);
}

/* Boot order named or left at the default: network boot's ROM rule needs
 * to tell them apart. */
static void test_boot_order_set(void **state)
{
	struct vmconfig *cfg = vct_parse("[nic]\n", NULL);
	struct vmconfig_error err;
	struct vm_spec s;

	vm_spec_defaults(&s);
	assert_int_equal(vmconfig_to_spec(cfg, &s, &err), 0);
	assert_false(s.boot_order_set);
	vmconfig_free(cfg);
	cfg = vct_parse("[boot]\norder = network, disk\n", NULL);
	assert_int_equal(vmconfig_to_spec(cfg, &s, &err), 0);
	assert_true(s.boot_order_set);
	assert_int_equal(s.boot_order[0], BOOT_NETWORK);
	vmconfig_free(cfg);
}

struct bad {
	const char *text;
	unsigned line, column;
	const char *part; /* in the message */
};

static void test_errors(void **state)
{
	static const struct bad cases[] = {
	    /* Forwards: the entry at fault, and the right form. */
	    {"[nic \"lan\"]\nforward = tcp:127.0.0.1:2222 -> 22, bogus\n", 2, 37,
	     "forward = 'tcp:127.0.0.1:2222 -> 22, bogus': forward 'bogus': the protocol must be "
	     "tcp or udp; write PROTO:"},
	    {"[nic \"lan\"]\nforward = tcp:127.0.0.1:2222 -> 22,,udp::1 -> 1\n", 2, 36,
	     "an empty entry; write forwards separated by commas, e.g. tcp:127.0.0.1:2222 -> 22"},
	    {"[nic \"lan\"]\nforward = icmp:1 -> 1\n", 2, 11, "forward 'icmp:1 -> 1': "},
	    {"[nic \"lan\"]\nforward = tcp:70000 -> 22\n", 2, 11, "forward 'tcp:70000 -> 22': "},
	    {"[nic \"lan\"]\nforward =\n", 2, 10,
	     "forward has no value; write a port forward such as tcp:127.0.0.1:2222 -> 22"},
	    /* queues is virtio's. */
	    {"[nic \"lan\"]\nqueues = 2\n", 2, 1,
	     "[nic \"lan\"]: queues is used only with model = virtio; remove queues or add a "
	     "line model = virtio"},
	    {"[nic \"lan\"]\nmodel = virtio\nqueues = 17\n", 3, 10, "a number from 1 to 16"},
	    {"[nic \"lan\"]\nconnected = maybe\n", 2, 13, "connected = 'maybe'"},
	    {"[nic \"lan\"]\nmodel = rtl8139\n", 2, 9, "not one of e1000, virtio"},
	    /* Two adapters, one address (any case). */
	    {"[nic \"a\"]\nmac = 52:4f:53:00:00:0a\n[nic \"b\"]\nmac = 52:4F:53:00:00:0A\n", 4, 7,
	     "[nic \"a\"] on line 2 has it too; give each adapter its own address"},
	    {"[nic \"a-name-that-is-far-too-long-for-an-id\"]\n", 1, 1,
	     "an adapter's name has at most 31 characters"},
	    {"[nic]\n[nic \"1\"]\n[nic \"2\"]\n[nic \"3\"]\n[nic \"4\"]\n[nic \"5\"]\n[nic \"6\"]\n"
	     "[nic \"7\"]\n[nic \"8\"]\n",
	     9, 1,
	     "[nic \"8\"]: network adapter 9, but a VM has at most 8; remove a [nic] section"},
	};
	char buf[1024];

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct vmconfig_error err;
		struct vmconfig *cfg =
		    vmconfig_parse(cases[i].text, strlen(cases[i].text), "vm.vmconfig", &err);

		assert_null(cfg);
		vmconfig_error_format(&err, buf, sizeof(buf));
		if (!strstr(err.message, cases[i].part) || err.line != cases[i].line ||
		    err.column != cases[i].column)
			fail_msg("case %zu: %s (wanted line %u column %u: %s)", i, buf,
				 cases[i].line, cases[i].column, cases[i].part);
		assert_non_null(strstr(buf, "vm.vmconfig:"));
	}
}

/* Setting a forward list the way osio run --nic does; and the checker the
 * command line shares. */
static void test_set_forward(void **state)
{
	struct vmconfig *cfg = vct_parse("[nic \"lan\"]\nswitch = default # NAT\n", NULL);
	struct vmconfig_error err;
	char msg[512], *text;
	unsigned n;

	assert_int_equal(vmconfig_set(cfg, "nic", "lan", "forward",
				      "udp:127.0.0.1:5555->5555, tcp:127.0.0.1:8080->80", &err),
			 0);
	text = vmconfig_format(cfg, NULL);
	assert_string_equal(text, "[nic \"lan\"]\nswitch = default # NAT\n"
				  "forward = udp:127.0.0.1:5555->5555, tcp:127.0.0.1:8080->80\n");
	free(text);
	assert_int_equal(vmconfig_set(cfg, "nic", "lan", "forward", "tcp:1->2,", &err), -EINVAL);
	assert_int_equal(vmconfig_check_value("nic", "forward", "tcp:2222 -> 22", msg, sizeof(msg)),
			 0);
	assert_int_equal(vmconfig_parse_forwards(" tcp:2222 -> 22 ", NULL, &n, NULL, NULL, 0), 0);
	assert_int_equal(n, 1);
	vmconfig_free(cfg);
}

/* osio run's MACs: one per adapter without one, osio's prefix, distinct,
 * written after the section's last key; comments and layout kept. */
static void test_add_macs(void **state)
{
	static const char *const text = "# my VM\n"
					"[vm]\nname = x   # the name\n\n"
					"# the LAN\n"
					"[nic \"lan\"]\n  switch = default   # NAT\n"
					"  model = e1000\n\n"
					"# unplugged\n"
					"[nic]\nconnected = no\n"
					"[nic \"set\"]\nmac = 52:4f:53:00:00:01\n";
	char dir[] = "/tmp/osio-test-nics-XXXXXX", path[64], list[512], want[1024];
	struct vmconfig_error err;
	struct vmconfig *cfg, *back;
	const char *m1, *m2;
	unsigned added;
	uint8_t a[6], b[6];
	size_t len;
	char *got;

	assert_non_null(mkdtemp(dir));
	snprintf(path, sizeof(path), "%s/vm.vmconfig", dir);
	vct_write_file(path, text);
	cfg = vmconfig_load(path, &err);
	assert_non_null(cfg);
	assert_int_equal(vmconfig_add_macs(cfg, &added, list, sizeof(list), &err), 0);
	assert_int_equal(added, 2);
	m1 = vmconfig_get(cfg, "nic", "lan", "mac");
	m2 = vmconfig_get(cfg, "nic", NULL, "mac");
	assert_non_null(m1);
	assert_non_null(m2);
	assert_int_equal(vmconfig_parse_mac(m1, a, NULL, 0), 0);
	assert_int_equal(vmconfig_parse_mac(m2, b, NULL, 0), 0);
	assert_memory_equal(a, ((uint8_t[]){NET_MAC_PREFIX0, NET_MAC_PREFIX1, NET_MAC_PREFIX2}), 3);
	assert_memory_equal(b, ((uint8_t[]){NET_MAC_PREFIX0, NET_MAC_PREFIX1, NET_MAC_PREFIX2}), 3);
	assert_memory_not_equal(a, b, 6);
	assert_string_equal(vmconfig_get(cfg, "nic", "set", "mac"), "52:4f:53:00:00:01");
	snprintf(want, sizeof(want), "[nic \"lan\"] %s, [nic] %s", m1, m2);
	assert_string_equal(list, want);
	assert_int_equal(vmconfig_save(cfg, NULL), 0);
	snprintf(want, sizeof(want),
		 "# my VM\n[vm]\nname = x   # the name\n\n# the LAN\n"
		 "[nic \"lan\"]\n  switch = default   # NAT\n  model = e1000\n  mac = %s\n\n"
		 "# unplugged\n[nic]\nconnected = no\nmac = %s\n"
		 "[nic \"set\"]\nmac = 52:4f:53:00:00:01\n",
		 m1, m2);
	got = vct_read_file(path, &len);
	assert_string_equal(got, want);
	free(got);
	/* Nothing more to add the next time. */
	back = vmconfig_load(path, &err);
	assert_non_null(back);
	assert_int_equal(vmconfig_add_macs(back, &added, NULL, 0, &err), 0);
	assert_int_equal(added, 0);
	vmconfig_free(back);
	vmconfig_free(cfg);
	unlink(path);
	rmdir(dir);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_nics_to_spec),   cmocka_unit_test(test_default_names),
	    cmocka_unit_test(test_boot_order_set), cmocka_unit_test(test_errors),
	    cmocka_unit_test(test_set_forward),	   cmocka_unit_test(test_add_macs),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
