/* The NAT switch tests' fixture: a port on a harness machine whose adapter
 * records frames (and answers ARP for the guest's address from receive), the
 * host-side sockets the tests talk to, and the DHCP and ARP steps. */
#ifndef OSIO_TEST_NET_NAT_H
#define OSIO_TEST_NET_NAT_H

#include "devices/net/net.h"
#include "tests/devices/harness.h"
#include "tests/devices/net_frames.h"

#include <arpa/inet.h>
#include <errno.h>
#include <poll.h>
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stddef.h>
#include <cmocka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#define GUEST_IP NF_IP(10, 0, 2, 15)
#define HOST_IP	 NF_IP(10, 0, 2, 2)
#define DNS_IP	 NF_IP(10, 0, 2, 3)
#define LOOPBACK NF_IP(127, 0, 0, 1)
#define KEPT	 1024 /* frames the recorder keeps (more: a test failure) */
#define WAIT_MS	 3000 /* for a frame that must come */
#define QUIET_MS 300  /* for one that must not */

static const uint8_t guest_mac[6] = {0x52, 0x4f, 0x53, 0x00, 0x00, 0x01};
/* libslirp answers for its addresses with 52:55 and the address. */
static const uint8_t gw_mac[6] = {0x52, 0x55, 0x0a, 0x00, 0x02, 0x02};

struct kept {
	size_t len;
	uint8_t data[NET_FRAME_MAX];
};

struct nat_test {
	struct harness h;
	struct net_port *port;
	pthread_mutex_t lock;
	struct kept *frames; /* KEPT */
	unsigned nframes;
	atomic_bool answer_arp; /* reply to ARP requests for GUEST_IP, from receive */
	atomic_bool refuse;	/* receive says -EAGAIN */
	atomic_uint refused, arp_answered;
	atomic_uint thread_failures; /* checks in receive (not the test's thread) */
	char dir[64];		     /* a TFTP folder */
};

/* The adapter: keeps every frame; answers ARP for the guest's address from
 * inside receive (net_port_send on the switch's thread). */
static inline int rec_receive(void *opaque, const struct net_hdr *hdr, const struct iovec *iov,
			      unsigned iovcnt, size_t len)
{
	struct nat_test *t = opaque;
	if (atomic_load(&t->refuse)) {
		atomic_fetch_add(&t->refused, 1);
		return -EAGAIN;
	}
	struct kept k;
	size_t off = 0;
	if (len > sizeof(k.data)) {
		atomic_fetch_add(&t->thread_failures, 1);
		return 0;
	}
	for (unsigned i = 0; i < iovcnt && off < len; i++) {
		size_t c = iov[i].iov_len < len - off ? iov[i].iov_len : len - off;
		memcpy(k.data + off, iov[i].iov_base, c);
		off += c;
	}
	k.len = off;

	struct nf_frame nf;
	if (atomic_load(&t->answer_arp) && nf_parse(k.data, k.len, &nf) == 0 &&
	    nf.type == NF_ETH_ARP && nf.arp_op == NF_ARP_REQUEST && nf.arp_tip == GUEST_IP) {
		uint8_t r[64];
		size_t n = nf_arp(r, NF_ARP_REPLY, guest_mac, GUEST_IP, nf.arp_sha, nf.arp_sip);
		struct iovec v = {r, n};
		if (net_port_send(t->port, NULL, &v, 1) != 0)
			atomic_fetch_add(&t->thread_failures, 1);
		atomic_fetch_add(&t->arp_answered, 1);
	}

	pthread_mutex_lock(&t->lock);
	if (t->nframes < KEPT)
		t->frames[t->nframes++] = k;
	else
		atomic_fetch_add(&t->thread_failures, 1);
	pthread_mutex_unlock(&t->lock);
	return 0;
}

static const struct net_adapter_ops rec_ops = {.receive = rec_receive};

/* What a frame must be; zero fields match anything. */
struct want {
	uint16_t type;
	uint16_t arp_op;
	uint8_t proto;
	uint32_t dip;
	uint16_t sport, dport;
	uint8_t tcp_flags; /* all of these set */
	bool with_data;	   /* a payload */
};

struct waiter {
	struct nat_test *t;
	const struct want *w;
	struct kept *out;
};

static inline bool matches(const struct want *w, const uint8_t *f, size_t len)
{
	struct nf_frame nf;
	if (nf_parse(f, len, &nf) < 0)
		return false;
	if ((w->type && nf.type != w->type) || (w->arp_op && nf.arp_op != w->arp_op))
		return false;
	if (w->proto && (!nf.l4 || nf.proto != w->proto))
		return false;
	if ((w->dip && nf.dip != w->dip) || (w->sport && nf.sport != w->sport) ||
	    (w->dport && nf.dport != w->dport))
		return false;
	if ((nf.tcp_flags & w->tcp_flags) != w->tcp_flags || (w->with_data && !nf.data_len))
		return false;
	return true;
}

/* Takes the first kept frame that matches. */
static inline bool take(void *ctx)
{
	struct waiter *wt = ctx;
	struct nat_test *t = wt->t;
	bool found = false;
	pthread_mutex_lock(&t->lock);
	for (unsigned i = 0; i < t->nframes; i++) {
		if (!matches(wt->w, t->frames[i].data, t->frames[i].len))
			continue;
		*wt->out = t->frames[i];
		memmove(&t->frames[i], &t->frames[i + 1],
			(t->nframes - i - 1) * sizeof(*t->frames));
		t->nframes--;
		found = true;
		break;
	}
	pthread_mutex_unlock(&t->lock);
	return found;
}

/* Waits for a frame like w; parses it into nf (whose data points into out). */
static inline bool wait_frame(struct nat_test *t, const struct want *w, unsigned ms,
			      struct kept *out, struct nf_frame *nf)
{
	struct waiter wt = {t, w, out};
	if (!harness_run_until(&t->h, ms, take, &wt))
		return false;
	assert_int_equal(nf_parse(out->data, out->len, nf), 0);
	if (nf->ip) {
		assert_true(nf->ip_csum_ok);
		if (nf->l4)
			assert_true(nf->l4_csum_ok);
	}
	return true;
}

static inline void send_frame(struct nat_test *t, const uint8_t *f, size_t len)
{
	struct iovec v = {(void *)f, len};
	assert_int_equal(net_port_send(t->port, NULL, &v, 1), 0);
}

static inline int make_port(struct nat_test *t, const char *extra)
{
	char text[1024];
	struct devargs args = {0};
	snprintf(text, sizeof(text), "mac=52:4f:53:00:00:01,switch=nat%s%s", extra ? "," : "",
		 extra ? extra : "");
	assert_int_equal(devargs_parse(&args, text), 0);
	return net_port_create(&t->h.m, "nic0", &args, &rec_ops, t, &t->port);
}

static inline int setup(void **state)
{
	struct nat_test *t = calloc(1, sizeof(*t));
	assert_non_null(t);
	t->frames = calloc(KEPT, sizeof(*t->frames));
	assert_non_null(t->frames);
	pthread_mutex_init(&t->lock, NULL);
	assert_int_equal(harness_init(&t->h, 1 << 20), 0);
	atomic_store(&t->answer_arp, true);
	*state = t;
	return 0;
}

static inline int teardown(void **state)
{
	struct nat_test *t = *state;
	/* The adapter sends nothing once destroy begins. */
	atomic_store(&t->answer_arp, false);
	net_port_destroy(t->port);
	assert_int_equal(atomic_load(&t->thread_failures), 0);
	harness_fini(&t->h);
	if (t->dir[0]) {
		char cmd[128];
		snprintf(cmd, sizeof(cmd), "rm -rf '%s'", t->dir);
		assert_int_equal(system(cmd), 0);
	}
	pthread_mutex_destroy(&t->lock);
	free(t->frames);
	free(t);
	return 0;
}

/* --- host-side sockets --- */

static inline int host_socket(int type, uint16_t *port)
{
	int fd = socket(AF_INET, type | SOCK_CLOEXEC, 0);
	assert_true(fd >= 0);
	struct sockaddr_in a = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(LOOPBACK)};
	assert_int_equal(bind(fd, (struct sockaddr *)&a, sizeof(a)), 0);
	if (type == SOCK_STREAM)
		assert_int_equal(listen(fd, 4), 0);
	socklen_t l = sizeof(a);
	assert_int_equal(getsockname(fd, (struct sockaddr *)&a, &l), 0);
	*port = ntohs(a.sin_port);
	return fd;
}

/* A port nothing listens on now (bound and released). */
static inline uint16_t free_port(int type)
{
	uint16_t port;
	close(host_socket(type, &port));
	return port;
}

static inline bool readable(int fd, unsigned ms)
{
	struct pollfd p = {.fd = fd, .events = POLLIN};
	return poll(&p, 1, (int)ms) == 1;
}

static inline ssize_t recv_wait(int fd, void *buf, size_t len, unsigned ms,
				struct sockaddr_in *from)
{
	if (!readable(fd, ms))
		return -ETIMEDOUT;
	socklen_t l = sizeof(*from);
	return recvfrom(fd, buf, len, 0, (struct sockaddr *)from, from ? &l : NULL);
}

static inline void sendto_loopback(int fd, uint16_t port, const char *text)
{
	struct sockaddr_in a = {
	    .sin_family = AF_INET, .sin_port = htons(port), .sin_addr.s_addr = htonl(LOOPBACK)};
	assert_int_equal(sendto(fd, text, strlen(text), 0, (struct sockaddr *)&a, sizeof(a)),
			 (ssize_t)strlen(text));
}

/* --- what most tests do first --- */

static inline void dhcp_exchange(struct nat_test *t, struct nf_dhcp_msg *ack)
{
	uint8_t f[NF_FRAME_MAX];
	struct kept k;
	struct nf_frame nf;
	struct nf_dhcp_msg m;
	const struct want w = {.proto = NF_PROTO_UDP, .sport = 67, .dport = 68};

	send_frame(t, f, nf_dhcp(f, guest_mac, 0x1234abcd, NF_DHCP_DISCOVER, 0, 0));
	assert_true(wait_frame(t, &w, WAIT_MS, &k, &nf));
	assert_int_equal(nf.sip, HOST_IP);
	assert_int_equal(nf_dhcp_parse(nf.data, nf.data_len, &m), 0);
	assert_int_equal(m.op, 2);
	assert_int_equal(m.xid, 0x1234abcd);
	assert_int_equal(m.type, NF_DHCP_OFFER);
	assert_memory_equal(m.chaddr, guest_mac, 6);
	assert_int_equal(m.yiaddr, GUEST_IP);
	assert_int_equal(m.server, HOST_IP);
	assert_int_equal(m.mask, NF_IP(255, 255, 255, 0));
	assert_int_equal(m.router, HOST_IP);
	assert_int_equal(m.dns, DNS_IP);
	assert_true(m.lease > 0);

	send_frame(t, f, nf_dhcp(f, guest_mac, 0x1234abce, NF_DHCP_REQUEST, m.yiaddr, m.server));
	assert_true(wait_frame(t, &w, WAIT_MS, &k, &nf));
	assert_int_equal(nf_dhcp_parse(nf.data, nf.data_len, ack), 0);
	assert_int_equal(ack->xid, 0x1234abce);
	assert_int_equal(ack->type, NF_DHCP_ACK);
	assert_int_equal(ack->yiaddr, GUEST_IP);
	assert_int_equal(ack->router, HOST_IP);
	assert_int_equal(ack->dns, DNS_IP);
}

static inline void arp_gateway(struct nat_test *t)
{
	uint8_t f[64];
	struct kept k;
	struct nf_frame nf;
	const struct want w = {.type = NF_ETH_ARP, .arp_op = NF_ARP_REPLY};
	send_frame(t, f, nf_arp(f, NF_ARP_REQUEST, guest_mac, GUEST_IP, NULL, HOST_IP));
	assert_true(wait_frame(t, &w, WAIT_MS, &k, &nf));
	assert_memory_equal(nf.dst, guest_mac, 6);
	assert_memory_equal(nf.arp_tha, guest_mac, 6);
	assert_int_equal(nf.arp_sip, HOST_IP);
	assert_int_equal(nf.arp_tip, GUEST_IP);
	assert_memory_equal(nf.arp_sha, gw_mac, 6);
	assert_memory_equal(nf.src, gw_mac, 6);
}

/* Runs make_port with stderr captured into msg. */
static inline int make_port_capture(struct nat_test *t, const char *extra, char *msg, size_t size)
{
	char path[] = "/tmp/osio-nat-log-XXXXXX";
	int fd = mkstemp(path);
	assert_true(fd >= 0);
	unlink(path);
	fflush(stderr);
	int saved = dup(2);
	assert_true(saved >= 0);
	dup2(fd, 2);
	int r = make_port(t, extra);
	fflush(stderr);
	dup2(saved, 2);
	close(saved);
	ssize_t n = pread(fd, msg, size - 1, 0);
	msg[n > 0 ? n : 0] = '\0';
	close(fd);
	fprintf(stderr, "(captured) %s", msg);
	return r;
}

#endif
