/* netbench: the guest side of scripts/bench-net (a benchmark, not a test): sends or receives a
 * stream of Ethernet frames of one size and times it with the PIT.
 *
 * Arguments: nic=e1000|virtio (default virtio); size=N, the frame length without FCS (60-1514,
 * default 1514); count=N frames (default 20000); secs=S, the longest a sender sends (default 10);
 * role=send dst=MAC: raw frames (ethertype 0x88B5) to that adapter (another VM);
 * role=send dst=A.B.C.D port=P ip=A.B.C.D: UDP datagrams (frames of `size` bytes, no UDP
 *   checksum) from ip to dst:P, dst's MAC found by ARP on ip's /24 (the NAT switch's 10.0.2.2,
 *   a host bridge);
 * role=recv: prints "netbench: ready", then counts the 0x88B5 frames sent to its MAC until count
 *   arrived or none came for idle=S seconds (default 2) after the first (or wait=S, default 60,
 *   without any).
 * Prints "result: frames=N bytes=B ms=T" (for a sender: what it handed to the adapter). */
#include "../lib/cmdline.h"
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
#define FRAME_MIN     60
#define UDP_HLEN      8
#define TICK_HZ	      100
#define SRC_PORT      40000

static struct nic nic;
static u8 frame[NIC_FRAME_MAX] __attribute__((aligned(4)));

static u32 arg_or(const char *key, u32 def, u32 min, u32 max)
{
	u64 v;

	if (!arg_u64(key, &v))
		return def;
	if (v < min || v > max) {
		check(false, "%s=%llu is between %u and %u", key, (unsigned long long)v, min, max);
		test_abort();
	}
	return (u32)v;
}

static u32 ms_since(u32 t0)
{
	return (pit_ticks - t0) * (1000 / TICK_HZ);
}

static void result(u32 frames, u64 bytes, u32 ms)
{
	printf("result: frames=%u bytes=%llu ms=%u\n", frames, (unsigned long long)bytes, ms);
	if (ms)
		printf("peer: %u frames/s, %u KiB/s\n", (u32)((u64)frames * 1000 / ms),
		       (u32)(bytes * 1000 / 1024 / ms));
}

/* The frame every send repeats: only the sequence number in the payload changes. */
static bool build(u32 size)
{
	const char *dst = arg_str("dst");
	u8 mac[6];
	u32 to, from;

	memset(frame, 0, sizeof(frame));
	if (dst && net_parse_mac(dst, mac)) {
		memcpy(frame, mac, 6);
		memcpy(frame + 6, nic.mac, 6);
		net_put16(frame + 12, ETHERTYPE_EXP);
		return true;
	}
	if (!check(dst && net_parse_ip(dst, &to), "dst=%s is a MAC or an IPv4 address", dst ? dst : ""))
		return false;
	if (!check(net_parse_ip(arg_str("ip"), &from), "ip=A.B.C.D (this VM's address) is given"))
		return false;
	u32 port = arg_or("port", 0, 1, 65535);

	if (!check(port, "port=P (the receiver's UDP port) is given"))
		return false;
	if (!check(size >= NET_ETH_HLEN + NET_IP_HLEN + UDP_HLEN + 4,
		   "size=%u holds a sequence number", size))
		return false;
	net_cfg.ip = from;
	net_cfg.netmask = NET_IP(255, 255, 255, 0);
	if (!check(net_arp_resolve(to, mac, 10000), "%s answered ARP", dst))
		return false;
	memcpy(frame, mac, 6);
	memcpy(frame + 6, nic.mac, 6);
	net_put16(frame + 12, ETHERTYPE_IPV4);
	u8 *ip = frame + NET_ETH_HLEN, *udp = ip + NET_IP_HLEN;
	u32 ip_len = size - NET_ETH_HLEN;

	ip[0] = 0x45;
	net_put16(ip + 2, (u16)ip_len);
	net_put16(ip + 6, 0x4000); /* don't fragment: the identification may stay 0 */
	ip[8] = 64;
	ip[9] = IPPROTO_UDP;
	net_put32(ip + 12, from);
	net_put32(ip + 16, to);
	net_put16(ip + 10, net_csum_fold(net_csum_add(0, ip, NET_IP_HLEN)));
	net_put16(udp, SRC_PORT);
	net_put16(udp + 2, (u16)port);
	net_put16(udp + 4, (u16)(ip_len - NET_IP_HLEN));
	/* Checksum 0: none (RFC 768), so the payload may change without recomputing it. */
	return true;
}

static void do_send(u32 size, u32 count)
{
	u32 secs = arg_or("secs", 10, 1, 600), sent = 0, t0, seq_off;

	if (!build(size))
		return;
	seq_off = net_get16(frame + 12) == ETHERTYPE_EXP ? NET_ETH_HLEN
							 : NET_ETH_HLEN + NET_IP_HLEN + UDP_HLEN;
	t0 = pit_ticks;
	while (sent < count && ms_since(t0) < secs * 1000) {
		net_put32(frame + seq_off, sent);
		if (nic.send(&nic, frame, size) < 0) {
			check(false, "frame %u is sent", sent);
			break;
		}
		sent++;
	}
	result(sent, (u64)sent * size, ms_since(t0));
}

static void do_recv(u32 count)
{
	u32 idle = arg_or("idle", 2, 1, 60), wait = arg_or("wait", 60, 1, 3600);
	u32 got = 0, t0 = pit_ticks, first = 0, last = 0;
	u64 bytes = 0;
	int len;

	printf("netbench: ready\n");
	while (got < count) {
		len = nic.recv(&nic, frame, sizeof(frame));
		if (len <= 0) {
			if (got ? ms_since(last) >= idle * 1000 : ms_since(t0) >= wait * 1000)
				break;
			continue;
		}
		if (len < NET_ETH_HLEN || net_get16(frame + 12) != ETHERTYPE_EXP ||
		    memcmp(frame, nic.mac, 6))
			continue;
		if (!got)
			first = pit_ticks;
		last = pit_ticks;
		got++;
		bytes += (u32)len;
	}
	result(got, bytes, got ? (last - first) * (1000 / TICK_HZ) : 0);
	check(got > 0, "frames arrived");
}

void test_main(void)
{
	const char *which = arg_str("nic"), *role = arg_str("role");
	int (*probe)(struct nic *) = virtio_net_probe;
	u32 size = arg_or("size", NIC_FRAME_MAX, FRAME_MIN, NIC_FRAME_MAX);
	u32 count = arg_or("count", 20000, 1, 100000000);
	struct timeout t;

	if (which && !strcmp(which, "e1000"))
		probe = e1000_probe;
	else if (which && strcmp(which, "virtio"))
		check(false, "nic=%s is e1000 or virtio", which);
	if (!check(probe && probe(&nic) == 0, "the adapter is set up"))
		return;
	net_init(&nic);
	timeout_start(&t, 5000);
	while (!nic.link_up(&nic) && !timeout_expired(&t))
		pause();
	if (!check(nic.link_up(&nic), "the link is up"))
		return;
	pit_ticks_start(TICK_HZ);
	sti();
	if (role && !strcmp(role, "send"))
		do_send(size, count);
	else if (role && !strcmp(role, "recv"))
		do_recv(count);
	else
		check(false, "role=%s is send or recv", role ? role : "(none)");
	cli();
	pit_ticks_stop();
}
