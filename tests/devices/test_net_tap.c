/* The internal and external switches (devices/net/tap.c): in a network
 * namespace of its own, a port's TAP device on the bridge, frames both ways
 * (the kernel answers ARP for the bridge's address), offload work passed to
 * the kernel, a TAP device deleted from outside, and the message without
 * CAP_NET_ADMIN. Needs root; each test says SKIP otherwise. */
#include "devices/net/bridge.h"
#include "devices/net/net.h"
#include "tests/devices/harness.h"

#include <arpa/inet.h>
#include <errno.h>
#include <linux/capability.h>
#include <linux/if_packet.h>
#include <net/ethernet.h>
#include <net/if.h>
#include <poll.h>
#include <sched.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#define MAX_FRAMES 32
#define ETHERTYPE  0x88b5
#define BRIDGE	   "osbr0"

static const char *skip_reason;

struct tport {
	struct net_port *p;
	uint8_t mac[NET_MAC_LEN];
	unsigned n;
	uint8_t frames[MAX_FRAMES][NET_FRAME_MAX];
	size_t len[MAX_FRAMES];
	unsigned link_downs;
	bool full; /* no receive buffers: -EAGAIN */
	unsigned refused;
};

static int tport_receive(void *opaque, const struct net_hdr *hdr, const struct iovec *iov,
			 unsigned iovcnt, size_t len)
{
	struct tport *t = opaque;
	if (t->full) {
		t->refused++;
		return -EAGAIN;
	}
	assert_true(!hdr || (!hdr->gso_type && !(hdr->flags & NET_HDR_F_NEEDS_CSUM)));
	if (t->n < MAX_FRAMES) {
		size_t off = 0;
		for (unsigned i = 0; i < iovcnt; i++) {
			memcpy(t->frames[t->n] + off, iov[i].iov_base, iov[i].iov_len);
			off += iov[i].iov_len;
		}
		t->len[t->n] = len;
		t->n++;
	}
	return 0;
}

static void tport_link(void *opaque, bool up)
{
	struct tport *t = opaque;
	if (!up)
		t->link_downs++;
}

static const struct net_adapter_ops tport_ops = {.receive = tport_receive,
						 .link_changed = tport_link};

static int tport_try(struct harness *h, struct tport *t, const char *args)
{
	char full[256], mac[18];
	memset(t, 0, sizeof(*t));
	uint8_t m[NET_MAC_LEN] = {0x52, 0x4f, 0x53, 0x00, 0x00, 0x01};
	memcpy(t->mac, m, sizeof(m));
	net_mac_format(m, mac);
	snprintf(full, sizeof(full), "mac=%s,%s", mac, args);
	struct devargs a = {0};
	assert_int_equal(devargs_parse(&a, full), 0);
	return net_port_create(&h->m, "nic0", &a, &tport_ops, t, &t->p);
}

static struct harness *new_machine(void)
{
	struct harness *h = calloc(1, sizeof(*h));
	assert_non_null(h);
	harness_init(h, 1 << 20);
	return h;
}

static void free_machine(struct harness *h)
{
	harness_fini(h);
	free(h);
}

static void sh(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static void sh(const char *fmt, ...)
{
	char cmd[512];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(cmd, sizeof(cmd), fmt, ap);
	va_end(ap);
	int r = system(cmd);
	if (r != 0)
		fail_msg("'%s' failed (%d)", cmd, r);
}

/* The ports `ip` lists on bridge br: the first one's name. */
static bool tap_on_bridge(const char *br, char name[IFNAMSIZ])
{
	char cmd[128], line[512];
	snprintf(cmd, sizeof(cmd), "ip -o link show master %s", br);
	FILE *f = popen(cmd, "r");
	assert_non_null(f);
	bool found = false;
	while (fgets(line, sizeof(line), f)) {
		char *s = strchr(line, ' '), *e;
		if (!s || !(e = strpbrk(s + 1, ":@")))
			continue;
		*e = 0;
		if (!strncmp(s + 1, "osio-", 5) && !found) {
			snprintf(name, IFNAMSIZ, "%s", s + 1);
			found = true;
		}
	}
	pclose(f);
	return found;
}

#define NEED_ROOT()                                                                                \
	do {                                                                                       \
		if (skip_reason) {                                                                 \
			print_message("SKIP: %s\n", skip_reason);                                  \
			skip();                                                                    \
		}                                                                                  \
	} while (0)

static void test_internal_tap_on_bridge(void **state)
{
	(void)state;
	NEED_ROOT();
	struct harness *h = new_machine();
	static struct tport t;
	assert_int_equal(tport_try(h, &t, "switch=internal,switch_name=lab,bridge=" BRIDGE), 0);
	assert_true(net_port_link_up(t.p));
	assert_true(net_port_offloads(t.p));
	struct bridge_link br, tap;
	assert_int_equal(bridge_link_get(BRIDGE, &br), 0);
	assert_true(br.is_bridge);
	assert_true(br.up);
	char name[IFNAMSIZ];
	assert_true(tap_on_bridge(BRIDGE, name));
	assert_int_equal(bridge_link_get(name, &tap), 0);
	assert_int_equal(tap.master, br.ifindex);
	assert_true(tap.up);
	assert_false(tap.is_bridge);
	/* Closing the port removes its TAP device; the bridge stays. */
	net_port_destroy(t.p);
	assert_int_equal(bridge_link_get(name, &tap), -ENODEV);
	assert_int_equal(bridge_link_get(BRIDGE, &br), 0);
	free_machine(h);
}

static int packet_socket(const char *ifname)
{
	int fd = socket(AF_PACKET, SOCK_RAW | SOCK_CLOEXEC, htons(ETH_P_ALL));
	assert_true(fd >= 0);
	struct sockaddr_ll sll = {.sll_family = AF_PACKET,
				  .sll_protocol = htons(ETH_P_ALL),
				  .sll_ifindex = (int)if_nametoindex(ifname)};
	assert_true(sll.sll_ifindex > 0);
	assert_int_equal(bind(fd, (struct sockaddr *)&sll, sizeof(sll)), 0);
	return fd;
}

/* Waits for a frame of ours with payload byte seq on the packet socket. */
static bool packet_wait(int fd, uint8_t seq, size_t *len)
{
	uint8_t buf[2048];
	for (int tries = 0; tries < 100; tries++) {
		struct pollfd pfd = {.fd = fd, .events = POLLIN};
		if (poll(&pfd, 1, 2000) <= 0)
			return false;
		ssize_t n = recv(fd, buf, sizeof(buf), 0);
		if (n >= 15 && buf[12] == (ETHERTYPE >> 8) && buf[13] == (ETHERTYPE & 0xff) &&
		    buf[14] == seq) {
			*len = (size_t)n;
			return true;
		}
	}
	return false;
}

static void test_frame_reaches_bridge(void **state)
{
	(void)state;
	NEED_ROOT();
	struct harness *h = new_machine();
	static struct tport t;
	assert_int_equal(tport_try(h, &t, "switch=internal,switch_name=lab,bridge=" BRIDGE), 0);
	int fd = packet_socket(BRIDGE);
	uint8_t f[100] = {0xff, 0xff, 0xff, 0xff, 0xff, 0xff};
	memcpy(f + 6, t.mac, 6);
	f[12] = ETHERTYPE >> 8;
	f[13] = ETHERTYPE & 0xff;
	f[14] = 0x5a;
	for (unsigned i = 15; i < sizeof(f); i++)
		f[i] = (uint8_t)i;
	struct iovec iov[3] = {{f, 10}, {f + 10, 40}, {f + 50, 50}};
	assert_int_equal(net_port_send(t.p, NULL, iov, 3), 0);
	size_t len;
	assert_true(packet_wait(fd, 0x5a, &len));
	assert_int_equal(len, sizeof(f));
	struct net_port_stats s;
	net_port_stats(t.p, &s);
	assert_int_equal(s.tx_frames, 1);
	assert_int_equal(s.tx_dropped, 0);
	close(fd);
	net_port_destroy(t.p);
	free_machine(h);
}

static bool got_frame(void *ctx)
{
	return ((struct tport *)ctx)->n > 0;
}

static void bridge_mac(uint8_t mac[6])
{
	int s = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	struct ifreq ifr = {0};
	snprintf(ifr.ifr_name, sizeof(ifr.ifr_name), BRIDGE);
	assert_int_equal(ioctl(s, SIOCGIFHWADDR, &ifr), 0);
	memcpy(mac, ifr.ifr_hwaddr.sa_data, 6);
	close(s);
}

/* who-has 10.99.0.1 tell 10.99.0.2 */
static void arp_request(const struct tport *t, uint8_t f[42])
{
	static const uint8_t arp[] = {0x08, 0x06, 0, 1, 0x08, 0, 6, 4, 0, 1};
	memset(f, 0xff, 6);
	memcpy(f + 6, t->mac, 6);
	memcpy(f + 12, arp, sizeof(arp));
	memcpy(f + 22, t->mac, 6);
	memcpy(f + 28, (uint8_t[]){10, 99, 0, 2}, 4);
	memset(f + 32, 0, 6);
	memcpy(f + 38, (uint8_t[]){10, 99, 0, 1}, 4);
}

static void test_arp_reply_from_host(void **state)
{
	(void)state;
	NEED_ROOT();
	struct harness *h = new_machine();
	static struct tport t;
	assert_int_equal(tport_try(h, &t, "switch=internal,switch_name=lab,bridge=" BRIDGE), 0);
	sh("ip addr replace 10.99.0.1/24 dev " BRIDGE);
	uint8_t f[42];
	arp_request(&t, f);
	struct iovec iov = {f, sizeof(f)};
	bool answered = false;
	for (int i = 0; i < 20 && !answered; i++) {
		assert_int_equal(net_port_send(t.p, NULL, &iov, 1), 0);
		for (int w = 0; w < 10 && !answered; w++) {
			harness_run_until(h, 100, got_frame, &t);
			for (unsigned k = 0; k < t.n && !answered; k++)
				answered = t.len[k] >= 42 && t.frames[k][12] == 0x08 &&
					   t.frames[k][13] == 0x06 && t.frames[k][21] == 2;
		}
	}
	assert_true(answered);
	uint8_t *r = NULL;
	for (unsigned k = 0; k < t.n; k++)
		if (t.frames[k][12] == 0x08 && t.frames[k][13] == 0x06 && t.frames[k][21] == 2)
			r = t.frames[k];
	uint8_t brmac[6];
	bridge_mac(brmac);
	assert_memory_equal(r, t.mac, 6);      /* to us */
	assert_memory_equal(r + 22, brmac, 6); /* the bridge's address is at ... */
	assert_memory_equal(r + 28, ((uint8_t[]){10, 99, 0, 1}), 4);
	assert_memory_equal(r + 32, t.mac, 6);
	sh("ip addr flush dev " BRIDGE);
	net_port_destroy(t.p);
	free_machine(h);
}

static uint16_t csum16(uint32_t sum, const uint8_t *p, size_t n)
{
	for (size_t i = 0; i + 1 < n; i += 2)
		sum += (uint32_t)(p[i] << 8 | p[i + 1]);
	if (n & 1)
		sum += (uint32_t)p[n - 1] << 8;
	while (sum >> 16)
		sum = (sum & 0xffff) + (sum >> 16);
	return (uint16_t)sum;
}

/* A UDP datagram to the bridge's address with its checksum left to the
 * device (NEEDS_CSUM, as virtio-net drivers send): the host's socket gets
 * it only if the offload metadata reached the kernel. */
static void test_checksum_offload_to_host(void **state)
{
	(void)state;
	NEED_ROOT();
	struct harness *h = new_machine();
	static struct tport t;
	assert_int_equal(tport_try(h, &t, "switch=internal,switch_name=lab,bridge=" BRIDGE), 0);
	sh("ip addr replace 10.99.0.1/24 dev " BRIDGE);
	int us = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	struct sockaddr_in sin = {.sin_family = AF_INET, .sin_port = htons(5555)};
	inet_pton(AF_INET, "10.99.0.1", &sin.sin_addr);
	assert_int_equal(bind(us, (struct sockaddr *)&sin, sizeof(sin)), 0);

	uint8_t f[14 + 20 + 8 + 16] = {0};
	bridge_mac(f);
	memcpy(f + 6, t.mac, 6);
	f[12] = 0x08;
	uint8_t *ip = f + 14, *udp = ip + 20;
	ip[0] = 0x45;
	ip[2] = 0;
	ip[3] = 20 + 8 + 16;
	ip[8] = 64;
	ip[9] = IPPROTO_UDP;
	memcpy(ip + 12, (uint8_t[]){10, 99, 0, 2}, 4);
	memcpy(ip + 16, (uint8_t[]){10, 99, 0, 1}, 4);
	uint16_t ipsum = (uint16_t)~csum16(0, ip, 20);
	ip[10] = (uint8_t)(ipsum >> 8);
	ip[11] = (uint8_t)ipsum;
	udp[0] = 0x30, udp[1] = 0x39; /* 12345 */
	udp[2] = 5555 >> 8, udp[3] = 5555 & 0xff;
	udp[5] = 8 + 16;
	memcpy(udp + 8, "offload-checksum", 16);
	/* The pseudo-header's sum, not complemented, where the checksum goes. */
	uint8_t pseudo[12];
	memcpy(pseudo, ip + 12, 8);
	pseudo[8] = 0;
	pseudo[9] = IPPROTO_UDP;
	pseudo[10] = 0;
	pseudo[11] = 8 + 16;
	uint16_t ps = csum16(0, pseudo, sizeof(pseudo));
	udp[6] = (uint8_t)(ps >> 8);
	udp[7] = (uint8_t)ps;
	struct net_hdr hdr = {.flags = NET_HDR_F_NEEDS_CSUM, .csum_start = 34, .csum_offset = 6};
	struct iovec iov = {f, sizeof(f)};
	/* Without offloads the kernel would see a wrong checksum and drop it. */
	char buf[64];
	ssize_t n = -1;
	for (int i = 0; i < 20 && n < 0; i++) {
		assert_int_equal(net_port_send(t.p, &hdr, &iov, 1), 0);
		struct pollfd pfd = {.fd = us, .events = POLLIN};
		if (poll(&pfd, 1, 100) > 0)
			n = recv(us, buf, sizeof(buf), 0);
	}
	assert_int_equal(n, 16);
	assert_memory_equal(buf, "offload-checksum", 16);
	close(us);
	sh("ip addr flush dev " BRIDGE);
	net_port_destroy(t.p);
	free_machine(h);
}

static bool link_went_down(void *ctx)
{
	return ((struct tport *)ctx)->link_downs > 0;
}

static void test_tap_deleted_outside(void **state)
{
	(void)state;
	NEED_ROOT();
	struct harness *h = new_machine();
	static struct tport t;
	assert_int_equal(tport_try(h, &t, "switch=internal,switch_name=lab,bridge=" BRIDGE), 0);
	char name[IFNAMSIZ];
	assert_true(tap_on_bridge(BRIDGE, name));
	sh("ip link del %s", name);
	assert_true(harness_run_until(h, 2000, link_went_down, &t));
	assert_false(net_port_link_up(t.p));
	/* The guest keeps sending: dropped and counted. */
	uint8_t f[60] = {0xff, 0xff, 0xff, 0xff, 0xff, 0xff};
	struct iovec iov = {f, sizeof(f)};
	assert_int_equal(net_port_send(t.p, NULL, &iov, 1), 0);
	struct net_port_stats s;
	net_port_stats(t.p, &s);
	assert_int_equal(s.tx_dropped, 1);
	harness_run(h, 20);
	assert_int_equal(t.link_downs, 1);
	net_port_destroy(t.p);
	free_machine(h);
}

static bool refused(void *ctx)
{
	return ((struct tport *)ctx)->refused > 0;
}

/* An internal switch whose adapter is full: ARP requests to the bridge
 * (10.99.0.1) until the kernel's reply is refused once. */
static void fill_until_refused(struct harness *h, struct tport *t)
{
	assert_int_equal(tport_try(h, t, "switch=internal,switch_name=lab,bridge=" BRIDGE), 0);
	sh("ip addr replace 10.99.0.1/24 dev " BRIDGE);
	t->full = true;
	uint8_t f[42];
	arp_request(t, f);
	struct iovec iov = {f, sizeof(f)};
	for (int i = 0; i < 20 && !t->refused; i++) {
		assert_int_equal(net_port_send(t->p, NULL, &iov, 1), 0);
		harness_run_until(h, 100, refused, t);
	}
	assert_int_equal(t->refused, 1);
}

/* The adapter is full (the switch stopped reading) when the device goes:
 * the link still goes down. */
static void test_tap_deleted_while_full(void **state)
{
	(void)state;
	NEED_ROOT();
	struct harness *h = new_machine();
	static struct tport t;
	fill_until_refused(h, &t);
	char name[IFNAMSIZ];
	assert_true(tap_on_bridge(BRIDGE, name));
	sh("ip link del %s", name);
	assert_true(harness_run_until(h, 2000, link_went_down, &t));
	assert_int_equal(t.refused, 1);
	sh("ip addr flush dev " BRIDGE);
	net_port_destroy(t.p);
	free_machine(h);
}

static unsigned arp_replies(const struct tport *t)
{
	unsigned n = 0;
	for (unsigned k = 0; k < t->n && k < MAX_FRAMES; k++)
		n += t->len[k] >= 42 && t->frames[k][12] == 0x08 && t->frames[k][13] == 0x06 &&
		     t->frames[k][21] == 2;
	return n;
}

static bool got_two(void *ctx)
{
	return arp_replies(ctx) >= 2;
}

/* A full adapter stops the reading; its wake-up starts it again. */
static void test_full_then_resume(void **state)
{
	(void)state;
	NEED_ROOT();
	struct harness *h = new_machine();
	static struct tport t;
	fill_until_refused(h, &t);
	/* More for us while paused: not offered. */
	uint8_t f[42];
	arp_request(&t, f);
	struct iovec iov = {f, sizeof(f)};
	assert_int_equal(net_port_send(t.p, NULL, &iov, 1), 0);
	harness_run(h, 100);
	assert_int_equal(t.refused, 1);
	assert_int_equal(t.n, 0);
	t.full = false;
	net_port_wake(t.p);
	assert_true(harness_run_until(h, 2000, got_two, &t));
	assert_true(net_port_link_up(t.p));
	sh("ip addr flush dev " BRIDGE);
	net_port_destroy(t.p);
	free_machine(h);
}

static void test_external_and_errors(void **state)
{
	(void)state;
	NEED_ROOT();
	struct harness *h = new_machine();
	static struct tport t, u;
	if (system("ip link add up0 type veth peer name up0p") != 0) {
		free_machine(h);
		print_message("SKIP: no veth links here to play the host's network adapter\n");
		skip();
	}
	assert_int_equal(
	    tport_try(h, &t, "switch=external,switch_name=ext,bridge=extbr,uplink=up0"), 0);
	struct bridge_link br, up;
	assert_int_equal(bridge_link_get("extbr", &br), 0);
	assert_int_equal(bridge_link_get("up0", &up), 0);
	assert_int_equal(up.master, br.ifindex);
	assert_true(up.up);
	/* A second port: the uplink is on the bridge already. */
	assert_int_equal(
	    tport_try(h, &u, "switch=external,switch_name=ext,bridge=extbr,uplink=up0"), 0);
	net_port_destroy(u.p);
	net_port_destroy(t.p);
	/* Errors: no such host NIC; a "bridge" that is not one. */
	assert_int_equal(
	    tport_try(h, &t, "switch=external,switch_name=ext,bridge=extbr,uplink=nosuch0"),
	    -ENODEV);
	assert_int_equal(tport_try(h, &t, "switch=internal,switch_name=lab,bridge=up0"), -ENOTTY);
	sh("ip link del up0");
	sh("ip link del extbr");
	free_machine(h);
}

static int drop_net_admin(void)
{
	struct __user_cap_header_struct hdr = {.version = _LINUX_CAPABILITY_VERSION_3};
	struct __user_cap_data_struct data[2];
	if (syscall(SYS_capget, &hdr, data) < 0)
		return -1;
	unsigned bit = CAP_NET_ADMIN;
	data[bit / 32].effective &= ~(1u << (bit % 32));
	data[bit / 32].permitted &= ~(1u << (bit % 32));
	data[bit / 32].inheritable &= ~(1u << (bit % 32));
	return (int)syscall(SYS_capset, &hdr, data);
}

static void test_no_cap_net_admin(void **state)
{
	(void)state;
	NEED_ROOT();
	int fds[2];
	assert_int_equal(pipe(fds), 0);
	fflush(stderr);
	pid_t pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		dup2(fds[1], 2);
		close(fds[0]);
		close(fds[1]);
		if (drop_net_admin() < 0)
			_exit(2);
		struct harness *hc = new_machine();
		static struct tport c;
		int r = tport_try(hc, &c, "switch=internal,switch_name=lab,bridge=" BRIDGE);
		free_machine(hc);
		_exit(r == -EPERM ? 0 : 3);
	}
	close(fds[1]);
	char out[1024] = {0};
	size_t got = 0;
	ssize_t n;
	while (got < sizeof(out) - 1 && (n = read(fds[0], out + got, sizeof(out) - 1 - got)) > 0)
		got += (size_t)n;
	close(fds[0]);
	int status;
	assert_int_equal(waitpid(pid, &status, 0), pid);
	print_message("child said: %s", out);
	assert_true(WIFEXITED(status));
	assert_int_equal(WEXITSTATUS(status), 0);
	assert_non_null(strstr(out, "nic0: the internal switch 'lab' needs CAP_NET_ADMIN to create "
				    "its TAP device: run osio as root, or give it the capability: "
				    "sudo setcap cap_net_admin+ep $(which osio)"));
	/* One line. */
	unsigned lines = 0;
	for (size_t i = 0; i < got; i++)
		lines += out[i] == '\n';
	assert_int_equal(lines, 1);
}

static int run_all(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_internal_tap_on_bridge),
	    cmocka_unit_test(test_frame_reaches_bridge),
	    cmocka_unit_test(test_arp_reply_from_host),
	    cmocka_unit_test(test_checksum_offload_to_host),
	    cmocka_unit_test(test_tap_deleted_outside),
	    cmocka_unit_test(test_tap_deleted_while_full),
	    cmocka_unit_test(test_full_then_resume),
	    cmocka_unit_test(test_external_and_errors),
	    cmocka_unit_test(test_no_cap_net_admin),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}

int main(void)
{
	if (geteuid() != 0) {
		skip_reason = "not root: TAP devices and bridges need CAP_NET_ADMIN in a network "
			      "namespace of the test's own";
		return run_all();
	}
	if (access("/dev/net/tun", R_OK | W_OK) != 0) {
		skip_reason = "/dev/net/tun is missing";
		return run_all();
	}
	if (system("ip -V >/dev/null 2>&1") != 0) {
		skip_reason = "the ip command (iproute2) is missing";
		return run_all();
	}
	fflush(stdout);
	fflush(stderr);
	pid_t pid = fork();
	if (pid < 0)
		return 1;
	if (pid == 0) {
		if (unshare(CLONE_NEWNET) < 0) {
			skip_reason = "cannot make a network namespace (unshare CLONE_NEWNET)";
			_exit(run_all());
		}
		if (system("ip link set lo up") != 0)
			_exit(1);
		_exit(run_all());
	}
	int status;
	if (waitpid(pid, &status, 0) != pid || !WIFEXITED(status))
		return 1;
	return WEXITSTATUS(status);
}
