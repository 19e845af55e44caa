/* netpriv: raw Ethernet between VMs on a private switch (ethertype 0x88B5, IEEE local
 * experimental), and ARP + ICMP echo against a host bridge (an internal switch).
 *
 * Arguments: nic=e1000|virtio (default e1000); mac=MAC (the address the adapter must have: the
 * test fixed it, so it may be printed); wait=S (default 30: how long roles a and b try);
 * - role=a: broadcasts "hello from A <mac>" once a second until B answers with a unicast, then
 *   sends B a unicast and waits for B's ack;
 * - role=b: answers A's broadcast with a unicast, acknowledges A's unicast, stays 2 s for
 *   repeats;
 * - role=c: prints "c: listening", listens for listen=S seconds (default 10) and counts the
 *   0x88B5 frames it sees (there must be none: it is on another switch);
 * - role=arp ip=A target=T [listen=S] [pings=N] (lib/net.c's stack on a /24): answers ARP for A
 *   and ICMP echo requests to A, asks T's MAC by ARP and prints it, prints "arp: waiting for
 *   pings", then answers pings for S seconds (default 10) or until N were answered, and prints
 *   how many it answered (N of them when pings= is given).
 * Output is the same under QEMU and osio: MACs are printed only where the test fixed them. */
#include "../lib/cmdline.h"
#include "../lib/format.h"
#include "../lib/io.h"
#include "../lib/net.h"
#include "../lib/nic.h"
#include "../lib/str.h"
#include "../lib/test.h"
#include "../lib/timer.h"
#include "../lib/uart.h"

#pragma weak e1000_probe
#pragma weak virtio_net_probe

#define ETHERTYPE_EXP 0x88b5
#define TEXT_MAX      64
#define LINK_WAIT_MS  5000

static const u8 broadcast[6] = {0xff, 0xff, 0xff, 0xff, 0xff, 0xff};

static struct nic nic;
static u8 rx[NIC_FRAME_MAX];
static char mac_text[18];

/* A received 0x88B5 frame: its addresses and its text (NUL-terminated, bounded). */
struct msg {
	u8 dst[6], src[6];
	char text[TEXT_MAX + 1];
};

static void fmt_mac(char *out, const u8 *mac)
{
	snprintf(out, 18, "%02x:%02x:%02x:%02x:%02x:%02x", mac[0], mac[1], mac[2], mac[3], mac[4],
		 mac[5]);
}

static bool send_text(const u8 *dst, const char *text)
{
	return net_eth_send(dst, ETHERTYPE_EXP, text, strlen(text) + 1) == 0;
}

/* The next 0x88B5 frame from another adapter, if one is waiting (other frames are dropped). */
static bool next_msg(struct msg *m)
{
	int len;

	while ((len = nic.recv(&nic, rx, sizeof(rx))) > 0) {
		if (len < NET_ETH_HLEN || net_get16(rx + 12) != ETHERTYPE_EXP)
			continue;
		/* A multicast socket hub (QEMU) hands the sender its own frames too. */
		if (!memcmp(rx + 6, nic.mac, 6))
			continue;
		memcpy(m->dst, rx, 6);
		memcpy(m->src, rx + 6, 6);
		unsigned n = (unsigned)len - NET_ETH_HLEN;

		if (n > TEXT_MAX)
			n = TEXT_MAX;
		memcpy(m->text, rx + NET_ETH_HLEN, n);
		m->text[n] = 0;
		return true;
	}
	return false;
}

static bool starts(const char *s, const char *prefix)
{
	return !strncmp(s, prefix, strlen(prefix));
}

static bool to_me(const struct msg *m)
{
	return !memcmp(m->dst, nic.mac, 6);
}

static u32 arg_seconds(const char *key, u32 def)
{
	u64 v;

	if (arg_u64(key, &v) && v >= 1 && v <= 3600)
		return (u32)v;
	return def;
}

/* A: broadcast hellos until B answers, then a unicast until B acks. */
static void role_a(void)
{
	struct timeout total, every;
	struct msg m;
	char hello[TEXT_MAX];
	u8 peer[6];
	bool answered = false, acked = false;
	u32 sent = 0;

	snprintf(hello, sizeof(hello), "hello from A %s", mac_text);
	timeout_start(&total, arg_seconds("wait", 30) * 1000);
	timeout_start(&every, 0);
	while (!answered && !timeout_expired(&total)) {
		if (timeout_expired(&every)) {
			if (!send_text(broadcast, hello))
				check(false, "a: the broadcast is sent");
			sent++;
			timeout_start(&every, 1000);
		}
		while (next_msg(&m)) {
			if (to_me(&m) && starts(m.text, "hello A from B")) {
				memcpy(peer, m.src, 6);
				printf("a: unicast answer from B: '%s'\n", m.text);
				printf("peer: a: %u broadcasts sent before the answer\n", sent);
				answered = true;
				break;
			}
		}
	}
	if (!check(answered, "a: B answered the broadcast with a unicast"))
		return;
	timeout_start(&every, 0);
	while (!acked && !timeout_expired(&total)) {
		if (timeout_expired(&every)) {
			if (!send_text(peer, "data from A"))
				check(false, "a: the unicast is sent");
			timeout_start(&every, 1000);
		}
		while (next_msg(&m)) {
			if (to_me(&m) && !memcmp(m.src, peer, 6) && starts(m.text, "ack from B")) {
				printf("a: unicast ack from B: '%s'\n", m.text);
				acked = true;
				break;
			}
		}
	}
	if (check(acked, "a: B acknowledged the unicast"))
		check(true, "a: frames crossed both ways");
}

/* B: answer A's broadcasts, acknowledge A's unicasts, stay a little for repeats. */
static void role_b(void)
{
	struct timeout total, linger;
	struct msg m;
	char answer[TEXT_MAX];
	u8 peer[6];
	bool heard = false, got_data = false;

	snprintf(answer, sizeof(answer), "hello A from B %s", mac_text);
	timeout_start(&total, arg_seconds("wait", 30) * 1000);
	while (!timeout_expired(&total)) {
		if (got_data && timeout_expired(&linger))
			break;
		if (!next_msg(&m))
			continue;
		if (!memcmp(m.dst, broadcast, 6) && starts(m.text, "hello from A")) {
			if (!heard)
				printf("b: broadcast from A: '%s'\n", m.text);
			heard = true;
			memcpy(peer, m.src, 6);
			if (!send_text(peer, answer))
				check(false, "b: the answer is sent");
		} else if (heard && to_me(&m) && !memcmp(m.src, peer, 6) &&
			   starts(m.text, "data from A")) {
			if (!got_data)
				printf("b: unicast from A: '%s'\n", m.text);
			if (!send_text(peer, "ack from B"))
				check(false, "b: the ack is sent");
			if (!got_data)
				timeout_start(&linger, 2000);
			got_data = true;
		}
	}
	check(heard, "b: A's broadcast arrived");
	if (check(got_data, "b: A's unicast arrived after B's answer"))
		check(true, "b: frames crossed both ways");
}

/* C: on another switch, it must see nothing of A and B. The count goes on a peer: line: a hub
 * (QEMU) floods unicasts that a learning switch (osio) does not. */
static void role_c(void)
{
	u32 secs = arg_seconds("listen", 10), seen = 0;
	bool hello = false;
	struct timeout t;
	struct msg m;

	printf("c: listening for %u s\n", secs);
	timeout_start(&t, secs * 1000);
	while (!timeout_expired(&t)) {
		while (next_msg(&m)) {
			seen++;
			hello |= starts(m.text, "hello from A");
		}
	}
	printf("peer: c: saw %u frames with ethertype 0x88b5\n", seen);
	printf("c: %s\n", !seen	  ? "saw no frame with ethertype 0x88b5"
			  : hello ? "saw A's broadcast"
				  : "saw frames with ethertype 0x88b5");
	check(seen == 0, "c: no frame of the other switch reached it");
}

/* role=arp: the stack of lib/net.c (ARP with replies for our address, ICMP echo replies). */
static void role_arp(void)
{
	struct timeout total;
	u32 ip, target;
	u8 target_mac[6];
	char text[18];
	u32 secs = arg_seconds("listen", 10);
	u64 want = 0;
	bool have_want = arg_u64("pings", &want);

	if (!check(net_parse_ip(arg_str("ip"), &ip) && net_parse_ip(arg_str("target"), &target),
		   "arp: ip=A.B.C.D and target=A.B.C.D are given"))
		return;
	net_cfg.ip = ip;
	net_cfg.netmask = NET_IP(255, 255, 255, 0);
	if (!check(net_arp_resolve(target, target_mac, 10000),
		   "arp: %s answered the ARP request", arg_str("target")))
		return;
	fmt_mac(text, target_mac);
	printf("arp: %s is at %s\n", arg_str("target"), text);
	printf("arp: waiting for pings (%u s)\n", secs);
	timeout_start(&total, secs * 1000);
	while (!timeout_expired(&total) && (!have_want || net_counters.icmp_echo_replies < want))
		net_poll();
	printf("arp: answered %u echo requests\n", net_counters.icmp_echo_replies);
	if (have_want)
		check(net_counters.icmp_echo_replies == want, "arp: %u echo requests were answered",
		      (u32)want);
}

static bool probe(void)
{
	const char *which = arg_str("nic");
	int (*fn)(struct nic *) = e1000_probe;
	const char *name = "e1000";

	if (which && !strcmp(which, "virtio")) {
		fn = virtio_net_probe;
		name = "virtio-net";
	} else if (which && strcmp(which, "e1000")) {
		return check(false, "nic=%s is e1000 or virtio", which);
	}
	if (!fn)
		return check(false, "the %s driver is built into this program", name);
	if (!check(fn(&nic) == 0, "the %s adapter is set up", name))
		return false;
	fmt_mac(mac_text, nic.mac);
	return true;
}

void test_main(void)
{
	const char *role = arg_str("role"), *want_mac = arg_str("mac");
	struct timeout t;
	u8 mac[6];

	if (!probe())
		return;
	net_init(&nic);
	if (want_mac) {
		if (!check(net_parse_mac(want_mac, mac), "mac=%s is a MAC address", want_mac))
			return;
		check(!memcmp(mac, nic.mac, 6), "the adapter's MAC is %s", mac_text);
	} else {
		printf("peer: the adapter's MAC is %s\n", mac_text);
	}
	timeout_start(&t, LINK_WAIT_MS);
	while (!nic.link_up(&nic) && !timeout_expired(&t))
		pause();
	if (!check(nic.link_up(&nic), "the link is up"))
		return;
	if (role && !strcmp(role, "a"))
		role_a();
	else if (role && !strcmp(role, "b"))
		role_b();
	else if (role && !strcmp(role, "c"))
		role_c();
	else if (role && !strcmp(role, "arp"))
		role_arp();
	else
		check(false, "role=%s is a, b, c or arp", role ? role : "(none)");
}
