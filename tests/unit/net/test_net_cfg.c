/* The text forms of network settings: port forwards, MAC addresses, switch
 * kinds (devices/net/net_cfg.c). */
#include "devices/net/net.h"

#include <arpa/inet.h>
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <string.h>

#include <cmocka.h>

static void check_fwd(const char *text, int proto, const char *host, unsigned hport,
		      const char *guest, unsigned gport, const char *back)
{
	struct net_forward f;
	char err[256], buf[96], a[INET_ADDRSTRLEN];
	assert_int_equal(net_forward_parse(text, &f, err, sizeof(err)), 0);
	assert_int_equal(f.proto, proto);
	assert_string_equal(inet_ntop(AF_INET, &f.host_addr, a, sizeof(a)), host);
	assert_int_equal(f.host_port, hport);
	assert_string_equal(inet_ntop(AF_INET, &f.guest_addr, a, sizeof(a)), guest);
	assert_int_equal(f.guest_port, gport);
	net_forward_format(&f, buf, sizeof(buf));
	assert_string_equal(buf, back);
}

static void test_forward_good(void **state)
{
	check_fwd("tcp:127.0.0.1:2222 -> 22", IPPROTO_TCP, "127.0.0.1", 2222, "0.0.0.0", 22,
		  "tcp:127.0.0.1:2222 -> 22");
	check_fwd("  udp::5555->5555 ", IPPROTO_UDP, "0.0.0.0", 5555, "0.0.0.0", 5555,
		  "udp::5555 -> 5555");
	check_fwd("tcp:8080 -> 10.0.2.20:80", IPPROTO_TCP, "127.0.0.1", 8080, "10.0.2.20", 80,
		  "tcp:127.0.0.1:8080 -> 10.0.2.20:80");
	check_fwd("TCP:65535->1", IPPROTO_TCP, "127.0.0.1", 65535, "0.0.0.0", 1,
		  "tcp:127.0.0.1:65535 -> 1");
}

static void test_forward_bad(void **state)
{
	static const char *const bad[] = {
	    "",
	    "sctp:1->2",
	    "tcp:2222",
	    "tcp:2222 -> ",
	    "tcp: -> 22",
	    "tcp:0 -> 22",
	    "tcp:65536 -> 22",
	    "tcp:1.2.3:22 -> 22",
	    "tcp:22 -> 1.2.3.4:",
	    "tcp:22x -> 22",
	    "tcp:127.0.0.1:22 -> 22 -> 23",
	};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		struct net_forward f;
		char err[256] = "";
		if (net_forward_parse(bad[i], &f, err, sizeof(err)) == 0)
			fail_msg("accepted '%s'", bad[i]);
		assert_non_null(strstr(err, "e.g. tcp:127.0.0.1:2222 -> 22"));
	}
}

static void test_mac(void **state)
{
	uint8_t mac[NET_MAC_LEN], again[NET_MAC_LEN];
	char buf[18];
	assert_int_equal(net_mac_parse("52:4F:53:0a:0B:ff", mac), 0);
	net_mac_format(mac, buf);
	assert_string_equal(buf, "52:4f:53:0a:0b:ff");
	assert_int_equal(net_mac_parse("01:00:5e:00:00:01", mac), -EINVAL); /* multicast */
	assert_int_equal(net_mac_parse("52:4f:53:0a:0b", mac), -EINVAL);
	assert_int_equal(net_mac_parse("52:4f:53:0a:0b:fff", mac), -EINVAL);
	assert_int_equal(net_mac_parse("52-4f-53-0a-0b-ff", mac), -EINVAL);
	assert_int_equal(net_mac_parse("52:4f:53: a:0b:ff", mac), -EINVAL);
	net_mac_generate(mac);
	net_mac_generate(again);
	assert_memory_equal(mac, "\x52\x4f\x53", 3);
	assert_memory_not_equal(mac, again, NET_MAC_LEN); /* 2^-24 to fail by chance */
	net_mac_format(mac, buf);
	assert_int_equal(net_mac_parse(buf, again), 0);
}

static void test_kinds(void **state)
{
	enum net_switch_kind k;
	assert_int_equal(net_switch_kind_parse("Private", &k), 0);
	assert_int_equal(k, NET_SWITCH_PRIVATE);
	assert_string_equal(net_switch_kind_name(NET_SWITCH_EXTERNAL), "external");
	assert_int_equal(net_switch_kind_parse("bridge", &k), -EINVAL);
	struct net_switch_cfg c;
	net_switch_cfg_defaults(&c, NET_SWITCH_NAT, NULL);
	assert_string_equal(c.name, "nat");
	assert_int_equal(ntohl(c.subnet.s_addr), 0x0a000200);
	assert_int_equal(ntohl(c.netmask.s_addr), 0xffffff00);
}

static void test_from_args(void **state)
{
	struct devargs da = {0};
	struct net_switch_cfg c;
	char err[256];
	assert_int_equal(devargs_parse(&da, "switch=nat,switch_name=default,subnet=192.168.76.0/"
					    "22,forward=\"tcp:2222 -> 22;udp::53->53\","
					    "tftp=/srv/tftp,bootfile=boot.ipxe,restrict=on"),
			 0);
	assert_int_equal(net_switch_cfg_from_args(&da, &c, err, sizeof(err)), 0);
	assert_int_equal(c.kind, NET_SWITCH_NAT);
	assert_string_equal(c.name, "default");
	assert_int_equal(ntohl(c.subnet.s_addr), 0xc0a84c00);
	assert_int_equal(ntohl(c.netmask.s_addr), 0xfffffc00);
	assert_int_equal(c.nfwd, 2);
	assert_int_equal(c.fwd[1].proto, IPPROTO_UDP);
	assert_string_equal(c.tftp, "/srv/tftp");
	assert_string_equal(c.bootfile, "boot.ipxe");
	assert_true(c.restricted);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_forward_good), cmocka_unit_test(test_forward_bad),
	    cmocka_unit_test(test_mac),		 cmocka_unit_test(test_kinds),
	    cmocka_unit_test(test_from_args),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
