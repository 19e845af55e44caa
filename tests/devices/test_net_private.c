/* The private switch (devices/net/private.c): ports made from adapter devargs
 * exchange frames through their sockets in the runtime directory: flooding,
 * learning, switches kept apart, other processes joining, dead ones cleaned
 * up, and a full adapter that loses nothing. */
#include "devices/net/net.h"
#include "tests/devices/harness.h"

#include <dirent.h>
#include <errno.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#define MAX_FRAMES 64
#define ETHERTYPE  0x88b5 /* IEEE local experimental */

/* A test adapter: records the frames the switch delivers; room says how
 * many more it takes before answering -EAGAIN (-1: no limit). */
struct tport {
	struct net_port *p;
	uint8_t mac[NET_MAC_LEN];
	unsigned n;
	uint8_t frames[MAX_FRAMES][NET_FRAME_MAX];
	size_t len[MAX_FRAMES];
	int room;
	unsigned refused;
};

static int tport_receive(void *opaque, const struct net_hdr *hdr, const struct iovec *iov,
			 unsigned iovcnt, size_t len)
{
	struct tport *t = opaque;
	if (t->room == 0) {
		t->refused++;
		return -EAGAIN;
	}
	if (t->room > 0)
		t->room--;
	assert_true(!hdr || !hdr->gso_type);
	assert_true(len <= NET_FRAME_MAX);
	if (t->n < MAX_FRAMES) {
		size_t off = 0;
		for (unsigned i = 0; i < iovcnt; i++) {
			memcpy(t->frames[t->n] + off, iov[i].iov_base, iov[i].iov_len);
			off += iov[i].iov_len;
		}
		assert_int_equal(off, len);
		t->len[t->n] = len;
	}
	t->n++;
	return 0;
}

static const struct net_adapter_ops tport_ops = {.receive = tport_receive};

static char rundir[256];

static void tport_open(struct harness *h, struct tport *t, const char *id, unsigned macbyte,
		       const char *sw)
{
	char args[256], mac[18];
	memset(t, 0, sizeof(*t));
	t->room = -1;
	uint8_t m[NET_MAC_LEN] = {0x52, 0x4f, 0x53, 0x00, 0x00, (uint8_t)macbyte};
	memcpy(t->mac, m, sizeof(m));
	net_mac_format(m, mac);
	snprintf(args, sizeof(args), "mac=%s,switch=private,switch_name=%s", mac, sw);
	struct devargs a = {0};
	assert_int_equal(devargs_parse(&a, args), 0);
	assert_int_equal(net_port_create(&h->m, id, &a, &tport_ops, t, &t->p), 0);
	assert_true(net_port_link_up(t->p));
}

/* Sends a frame of 60 bytes: dst, src, our ethertype, seq in the payload. */
static void tport_send(struct tport *t, const uint8_t dst[NET_MAC_LEN], uint8_t seq)
{
	uint8_t f[60] = {0};
	memcpy(f, dst, NET_MAC_LEN);
	memcpy(f + 6, t->mac, NET_MAC_LEN);
	f[12] = ETHERTYPE >> 8;
	f[13] = ETHERTYPE & 0xff;
	f[14] = seq;
	/* Two pieces, as a scatter-gather ring hands them over. */
	struct iovec iov[2] = {{f, 20}, {f + 20, sizeof(f) - 20}};
	assert_int_equal(net_port_send(t->p, NULL, iov, 2), 0);
}

static const uint8_t bcast[NET_MAC_LEN] = {0xff, 0xff, 0xff, 0xff, 0xff, 0xff};

struct wait_n {
	struct tport *t;
	unsigned n;
};

static bool got_n(void *ctx)
{
	struct wait_n *w = ctx;
	return w->t->n >= w->n;
}

static bool wait_frames(struct harness *h, struct tport *t, unsigned n)
{
	struct wait_n w = {t, n};
	return harness_run_until(h, 2000, got_n, &w);
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

static unsigned count_sockets(const char *sw)
{
	char path[512];
	snprintf(path, sizeof(path), "%s/switches/%s", rundir, sw);
	DIR *d = opendir(path);
	if (!d)
		return 0;
	unsigned n = 0;
	struct dirent *e;
	while ((e = readdir(d)))
		if (e->d_name[0] != '.')
			n++;
	closedir(d);
	return n;
}

static void test_broadcast_reaches_all(void **state)
{
	(void)state;
	struct harness *h = new_machine();
	static struct tport a, b, c;
	tport_open(h, &a, "a", 1, "lab");
	tport_open(h, &b, "b", 2, "lab");
	tport_open(h, &c, "c", 3, "lab");
	assert_int_equal(count_sockets("lab"), 3);
	tport_send(&a, bcast, 7);
	assert_true(wait_frames(h, &b, 1));
	assert_true(wait_frames(h, &c, 1));
	harness_run(h, 20);
	assert_int_equal(a.n, 0);
	assert_int_equal(b.n, 1);
	assert_int_equal(c.n, 1);
	assert_int_equal(b.len[0], 60);
	assert_memory_equal(b.frames[0], bcast, 6);
	assert_memory_equal(b.frames[0] + 6, a.mac, 6);
	assert_int_equal(b.frames[0][14], 7);
	struct net_port_stats s;
	net_port_stats(a.p, &s);
	assert_int_equal(s.tx_frames, 1);
	net_port_stats(b.p, &s);
	assert_int_equal(s.rx_frames, 1);
	net_port_destroy(a.p);
	net_port_destroy(b.p);
	net_port_destroy(c.p);
	/* The last port takes the switch's directory with it. */
	assert_int_equal(count_sockets("lab"), 0);
	free_machine(h);
}

static void test_unicast_learning(void **state)
{
	(void)state;
	struct harness *h = new_machine();
	static struct tport a, b, c;
	tport_open(h, &a, "a", 1, "learn");
	tport_open(h, &b, "b", 2, "learn");
	tport_open(h, &c, "c", 3, "learn");
	/* Before a knows where b is, a frame for b goes everywhere. */
	tport_send(&a, b.mac, 1);
	assert_true(wait_frames(h, &b, 1));
	assert_true(wait_frames(h, &c, 1));
	/* b speaks (a broadcast, as an ARP request): a learns b's socket. */
	tport_send(&b, bcast, 2);
	assert_true(wait_frames(h, &a, 1));
	assert_true(wait_frames(h, &c, 2));
	for (uint8_t i = 0; i < 5; i++)
		tport_send(&a, b.mac, (uint8_t)(10 + i));
	assert_true(wait_frames(h, &b, 6));
	harness_run(h, 50);
	assert_int_equal(c.n, 2); /* none of the unicast frames */
	assert_int_equal(b.n, 6);
	for (unsigned i = 0; i < 5; i++)
		assert_int_equal(b.frames[1 + i][14], 10 + i);
	/* An address nobody claimed is still flooded. */
	uint8_t other[NET_MAC_LEN] = {0x52, 0x4f, 0x53, 0, 0, 0x99};
	tport_send(&a, other, 20);
	assert_true(wait_frames(h, &c, 3));
	assert_true(wait_frames(h, &b, 7));
	/* b leaves: a's frame for it is flooded again and nothing breaks. */
	net_port_destroy(b.p);
	tport_send(&a, b.mac, 21);
	assert_true(wait_frames(h, &c, 4));
	assert_int_equal(c.frames[3][14], 21);
	net_port_destroy(a.p);
	net_port_destroy(c.p);
	free_machine(h);
}

static void test_switches_apart(void **state)
{
	(void)state;
	struct harness *h = new_machine();
	static struct tport a, b, x;
	tport_open(h, &a, "a", 1, "red");
	tport_open(h, &b, "b", 2, "red");
	tport_open(h, &x, "x", 3, "blue");
	tport_send(&a, bcast, 1);
	tport_send(&a, x.mac, 2);
	tport_send(&b, bcast, 3);
	assert_true(wait_frames(h, &b, 2));
	assert_true(wait_frames(h, &a, 1));
	harness_run(h, 50);
	assert_int_equal(x.n, 0);
	/* x's own broadcasts stay on blue: nobody is there. */
	tport_send(&x, bcast, 4);
	harness_run(h, 50);
	assert_int_equal(a.n, 1);
	assert_int_equal(b.n, 2);
	net_port_destroy(a.p);
	net_port_destroy(b.p);
	net_port_destroy(x.p);
	free_machine(h);
}

/* The child's side of a port in another process: joins sw, says so on
 * ready, then answers each frame it gets with a unicast to its sender
 * (echo = 1) until it has answered n, or sleeps (echo = 0). */
static void child_port(const char *sw, int ready, bool echo, unsigned n)
{
	struct harness *h = new_machine();
	static struct tport c;
	tport_open(h, &c, "child", 0x42, sw);
	if (write(ready, "r", 1) != 1)
		_exit(2);
	if (!echo)
		for (;;)
			pause();
	for (unsigned i = 0; i < n; i++) {
		if (!wait_frames(h, &c, i + 1))
			_exit(3);
		tport_send(&c, c.frames[i] + 6, (uint8_t)(c.frames[i][14] + 100));
	}
	harness_run(h, 20);
	net_port_destroy(c.p);
	free_machine(h);
	_exit(0);
}

static pid_t fork_port(const char *sw, bool echo, unsigned n)
{
	int fds[2];
	char c;
	assert_int_equal(pipe(fds), 0);
	pid_t pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		close(fds[0]);
		child_port(sw, fds[1], echo, n);
	}
	close(fds[1]);
	assert_int_equal(read(fds[0], &c, 1), 1);
	close(fds[0]);
	return pid;
}

static void test_other_process(void **state)
{
	(void)state;
	pid_t pid = fork_port("procs", true, 2);
	struct harness *h = new_machine();
	static struct tport a;
	tport_open(h, &a, "a", 1, "procs");
	tport_send(&a, bcast, 1);
	assert_true(wait_frames(h, &a, 1));
	assert_memory_equal(a.frames[0], a.mac, 6);
	assert_int_equal(a.frames[0][6 + 5], 0x42);
	assert_int_equal(a.frames[0][14], 101);
	/* The child learned us, we learned the child: unicast both ways. */
	uint8_t child[NET_MAC_LEN];
	memcpy(child, a.frames[0] + 6, 6);
	tport_send(&a, child, 2);
	assert_true(wait_frames(h, &a, 2));
	assert_int_equal(a.frames[1][14], 102);
	int status;
	assert_int_equal(waitpid(pid, &status, 0), pid);
	assert_true(WIFEXITED(status));
	assert_int_equal(WEXITSTATUS(status), 0);
	assert_int_equal(count_sockets("procs"), 1);
	net_port_destroy(a.p);
	free_machine(h);
}

static void test_killed_port_cleaned(void **state)
{
	(void)state;
	pid_t pid = fork_port("dead", false, 0);
	struct harness *h = new_machine();
	static struct tport a, b;
	tport_open(h, &a, "a", 1, "dead");
	tport_open(h, &b, "b", 2, "dead");
	assert_int_equal(count_sockets("dead"), 3);
	/* a connects to every port, the child too. */
	tport_send(&a, bcast, 0);
	assert_true(wait_frames(h, &b, 1));
	assert_int_equal(kill(pid, SIGKILL), 0);
	assert_int_equal(waitpid(pid, NULL, 0), pid);
	/* Its socket is left behind, unanswered: the first flood removes it. */
	assert_int_equal(count_sockets("dead"), 3);
	tport_send(&a, bcast, 1);
	assert_int_equal(count_sockets("dead"), 2);
	assert_true(wait_frames(h, &b, 2));
	tport_send(&a, bcast, 2);
	assert_true(wait_frames(h, &b, 3));
	struct net_port_stats s;
	net_port_stats(a.p, &s);
	assert_int_equal(s.tx_dropped, 0);
	net_port_destroy(a.p);
	net_port_destroy(b.p);
	free_machine(h);
}

static void test_full_adapter_loses_nothing(void **state)
{
	(void)state;
	struct harness *h = new_machine();
	static struct tport a, b;
	tport_open(h, &a, "a", 1, "full");
	tport_open(h, &b, "b", 2, "full");
	b.room = 0; /* no receive buffers */
	unsigned sent = 0;
	for (; sent < 8; sent++)
		tport_send(&a, b.mac, (uint8_t)sent);
	harness_run(h, 50);
	assert_int_equal(b.n, 0);
	assert_int_equal(b.refused, 1); /* offered once, then the switch waits */
	for (; sent < 16; sent++)
		tport_send(&a, b.mac, (uint8_t)sent);
	harness_run(h, 50);
	assert_int_equal(b.refused, 1);
	/* Buffers come back a few at a time, as a driver refills its ring. */
	for (unsigned round = 0; round < 40 && b.n < sent; round++) {
		b.room = 3;
		net_port_wake(b.p);
		harness_run(h, 5);
	}
	assert_int_equal(b.n, sent);
	for (unsigned i = 0; i < sent; i++)
		assert_int_equal(b.frames[i][14], i);
	/* And the port takes frames as usual again. */
	b.room = -1;
	net_port_wake(b.p);
	tport_send(&a, b.mac, 99);
	assert_true(wait_frames(h, &b, sent + 1));
	assert_int_equal(b.frames[sent][14], 99);
	struct net_port_stats s;
	net_port_stats(b.p, &s);
	assert_int_equal(s.rx_dropped, 0);
	assert_int_equal(s.rx_frames, sent + 1);
	net_port_destroy(a.p);
	net_port_destroy(b.p);
	free_machine(h);
}

/* A burst far longer than an unconnected datagram socket queues
 * (net.unix.max_dgram_qlen, 10 by default) arrives whole and in order. */
static void test_burst_arrives(void **state)
{
	(void)state;
	struct harness *h = new_machine();
	static struct tport a, b;
	tport_open(h, &a, "a", 1, "burst");
	tport_open(h, &b, "b", 2, "burst");
	tport_send(&b, bcast, 0);
	assert_true(wait_frames(h, &a, 1));
	for (unsigned i = 0; i < 200; i++)
		tport_send(&a, b.mac, (uint8_t)i);
	assert_true(wait_frames(h, &b, 200));
	for (unsigned i = 0; i < MAX_FRAMES; i++)
		assert_int_equal(b.frames[i][14], i);
	struct net_port_stats s;
	net_port_stats(a.p, &s);
	assert_int_equal(s.tx_dropped, 0);
	net_port_destroy(a.p);
	net_port_destroy(b.p);
	free_machine(h);
}

/* A runtime directory too long for a socket address: ports are addressed
 * through /proc/self/fd. */
static void test_long_runtime_dir(void **state)
{
	(void)state;
	char longdir[512];
	snprintf(longdir, sizeof(longdir), "%s/%0120d", rundir, 0);
	assert_int_equal(mkdir(longdir, 0700), 0);
	assert_int_equal(setenv("OSIO_RUNTIME_DIR", longdir, 1), 0);
	struct harness *h = new_machine();
	static struct tport a, b, c;
	tport_open(h, &a, "a", 1, "long-switch-name");
	tport_open(h, &b, "b", 2, "long-switch-name");
	tport_open(h, &c, "c", 3, "long-switch-name");
	tport_send(&b, bcast, 1);
	assert_true(wait_frames(h, &a, 1));
	tport_send(&a, b.mac, 2);
	assert_true(wait_frames(h, &b, 1));
	harness_run(h, 20);
	assert_int_equal(c.n, 1);
	net_port_destroy(a.p);
	net_port_destroy(b.p);
	net_port_destroy(c.p);
	free_machine(h);
	assert_int_equal(setenv("OSIO_RUNTIME_DIR", rundir, 1), 0);
	char sw[600];
	snprintf(sw, sizeof(sw), "%s/switches", longdir);
	rmdir(sw);
	assert_int_equal(rmdir(longdir), 0);
}

static void test_bad_name(void **state)
{
	(void)state;
	struct harness *h = new_machine();
	struct devargs a = {0};
	struct net_port *p = NULL;
	assert_int_equal(devargs_parse(&a, "mac=52:4f:53:00:00:01,switch=private,switch_name=.."),
			 0);
	assert_int_equal(net_port_create(&h->m, "a", &a, &tport_ops, NULL, &p), -EINVAL);
	free_machine(h);
}

int main(void)
{
	snprintf(rundir, sizeof(rundir), "/tmp/osio-test-private-XXXXXX");
	if (!mkdtemp(rundir))
		return 1;
	setenv("OSIO_RUNTIME_DIR", rundir, 1);
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_broadcast_reaches_all),
	    cmocka_unit_test(test_unicast_learning),
	    cmocka_unit_test(test_switches_apart),
	    cmocka_unit_test(test_other_process),
	    cmocka_unit_test(test_killed_port_cleaned),
	    cmocka_unit_test(test_full_adapter_loses_nothing),
	    cmocka_unit_test(test_burst_arrives),
	    cmocka_unit_test(test_long_runtime_dir),
	    cmocka_unit_test(test_bad_name),
	};
	int r = cmocka_run_group_tests(tests, NULL, NULL);
	char sw[300];
	snprintf(sw, sizeof(sw), "%s/switches", rundir);
	rmdir(sw);
	rmdir(rundir);
	return r;
}
