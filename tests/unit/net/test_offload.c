/* Software offloads: the checksum against a plain reference, NEEDS_CSUM,
 * TCPv4/v6 segmentation, UDP fragmentation, VLAN tags and malformed frames. */
#include "devices/net/offload.h"

#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>
#include <stdlib.h>
#include <string.h>

#define FRAME_BUF (NET_GSO_MAX + 64)

/* ---- An independent reference: byte by byte, as RFC 1071 says. ---- */

static uint16_t rd16(const uint8_t *p)
{
	return (uint16_t)(p[0] << 8 | p[1]);
}

static uint32_t rd32(const uint8_t *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

static void wr16(uint8_t *p, uint16_t v)
{
	p[0] = (uint8_t)(v >> 8);
	p[1] = (uint8_t)v;
}

static void wr32(uint8_t *p, uint32_t v)
{
	wr16(p, (uint16_t)(v >> 16));
	wr16(p + 2, (uint16_t)v);
}

/* The one's-complement sum of big-endian words, odd byte padded with 0. */
static uint64_t ref_sum(uint64_t sum, const uint8_t *p, size_t len)
{
	for (size_t i = 0; i < len; i += 2)
		sum += (uint64_t)p[i] << 8 | (i + 1 < len ? p[i + 1] : 0);
	return sum;
}

static uint16_t ref_fold(uint64_t sum)
{
	while (sum >> 16)
		sum = (sum & 0xffff) + (sum >> 16);
	return (uint16_t)sum;
}

/* Whether a transport checksum verifies: the folded sum over the
 * pseudo-header and segment is 0xffff. */
static bool ref_l4_ok(const uint8_t *ip, bool v6, uint8_t proto, const uint8_t *l4, size_t l4len)
{
	uint64_t sum = v6 ? ref_sum(0, ip + 8, 32) : ref_sum(0, ip + 12, 8);
	sum += proto + (l4len & 0xffff) + (l4len >> 16);
	sum = ref_sum(sum, l4, l4len);
	return ref_fold(sum) == 0xffff;
}

static bool ref_ip4_ok(const uint8_t *ip)
{
	return ref_fold(ref_sum(0, ip, (size_t)(ip[0] & 0xf) * 4)) == 0xffff;
}

static uint64_t rng_state = 0x9e3779b97f4a7c15ull;

static uint32_t rnd(void)
{
	rng_state ^= rng_state << 13;
	rng_state ^= rng_state >> 7;
	rng_state ^= rng_state << 17;
	return (uint32_t)(rng_state >> 16);
}

static void fill_random(uint8_t *p, size_t len)
{
	for (size_t i = 0; i < len; i++)
		p[i] = (uint8_t)rnd();
}

/* ---- Checksums ---- */

static void test_csum_matches_reference(void **state)
{
	(void)state;
	static uint8_t buf[4096 + 16];
	fill_random(buf, sizeof(buf));
	for (int iter = 0; iter < 4000; iter++) {
		size_t align = rnd() % 16;
		size_t len = iter < 200 ? (size_t)iter : rnd() % 4096;
		uint32_t start = iter % 3 == 0 ? 0 : rnd() & 0xfffff;
		uint16_t want = (uint16_t)~ref_fold(ref_sum(start, buf + align, len));
		uint32_t sum = net_csum_add(start, buf + align, len);
		assert_int_equal(net_csum_fold(sum), want);
	}
	/* All-ones data: the sum's end-around carries. */
	memset(buf, 0xff, sizeof(buf));
	for (size_t len = 0; len < 70; len++)
		assert_int_equal(net_csum_fold(net_csum_add(0xffffffff, buf + 1, len)),
				 (uint16_t)~ref_fold(ref_sum(0xffffffff, buf + 1, len)));
}

static void test_csum_chained_even_pieces(void **state)
{
	(void)state;
	uint8_t buf[1000];
	fill_random(buf, sizeof(buf));
	uint32_t sum = 0;
	for (size_t at = 0; at < sizeof(buf); at += 100)
		sum = net_csum_add(sum, buf + at, 100);
	assert_int_equal(net_csum_fold(sum), (uint16_t)~ref_fold(ref_sum(0, buf, sizeof(buf))));
}

static void test_csum_known_value(void **state)
{
	(void)state;
	/* RFC 1071's example: 00 01 f2 03 f4 f5 f6 f7 sums to ddf2. */
	const uint8_t data[] = {0x00, 0x01, 0xf2, 0x03, 0xf4, 0xf5, 0xf6, 0xf7};
	assert_int_equal(net_csum_fold(net_csum_add(0, data, sizeof(data))), (uint16_t)~0xddf2);
}

/* ---- Frame builders ---- */

struct frame {
	uint8_t b[FRAME_BUF];
	size_t len, l3, l4, hlen;
};

static size_t put_eth(uint8_t *b, bool vlan, uint16_t type)
{
	const uint8_t dst[6] = {0x52, 0x4f, 0x53, 0, 0, 1}, src[6] = {0x52, 0x4f, 0x53, 0, 0, 2};
	memcpy(b, dst, 6);
	memcpy(b + 6, src, 6);
	size_t at = 12;
	if (vlan) {
		wr16(b + at, 0x8100);
		wr16(b + at + 2, 42);
		at += 4;
	}
	wr16(b + at, type);
	return at + 2;
}

static void put_ip4(uint8_t *ip, uint8_t proto, size_t ihl)
{
	memset(ip, 0, ihl);
	ip[0] = (uint8_t)(0x40 | ihl / 4);
	wr16(ip + 2, 0xdead); /* the driver's value: must be replaced */
	wr16(ip + 4, 0xfffe); /* the id wraps during segmentation */
	wr16(ip + 6, 0x4000); /* DF */
	ip[8] = 64;
	ip[9] = proto;
	wr32(ip + 12, 0x0a00020f);
	wr32(ip + 16, 0xc0a80101);
	if (ihl > 20) {
		/* Options: a non-copied timestamp-ish option, then a copied one. */
		ip[20] = 0x44;
		ip[21] = 4;
		ip[22] = 5;
		ip[23] = 0;
		if (ihl >= 28) {
			ip[24] = 0x94; /* router alert: copy flag set */
			ip[25] = 4;
		}
	}
}

static void put_ip6(uint8_t *ip, uint8_t nh)
{
	memset(ip, 0, 40);
	ip[0] = 0x60;
	ip[6] = nh;
	ip[7] = 64;
	for (int i = 0; i < 16; i++) {
		ip[8 + i] = (uint8_t)(0xfd + i);
		ip[24 + i] = (uint8_t)(0x20 + i);
	}
}

/* Eth [+VLAN] + IPv4/v6 + TCP (with topt bytes of options) + payload. */
static void build_tcp(struct frame *fr, bool v6, bool vlan, size_t topt, size_t payload,
		      uint8_t flags)
{
	memset(fr, 0, sizeof(*fr));
	fr->l3 = put_eth(fr->b, vlan, v6 ? 0x86dd : 0x0800);
	if (v6) {
		put_ip6(fr->b + fr->l3, 6);
		fr->l4 = fr->l3 + 40;
	} else {
		put_ip4(fr->b + fr->l3, 6, 20);
		fr->l4 = fr->l3 + 20;
	}
	uint8_t *th = fr->b + fr->l4;
	wr16(th, 40000);
	wr16(th + 2, 80);
	wr32(th + 4, 0xfffff000); /* the sequence number wraps too */
	wr32(th + 8, 0x12345678);
	th[12] = (uint8_t)((20 + topt) / 4 << 4);
	th[13] = flags;
	wr16(th + 14, 29200);
	wr16(th + 16, 0x1234); /* a pseudo-header sum: must be replaced */
	for (size_t i = 0; i < topt; i++)
		th[20 + i] = 1; /* NOP options */
	fr->hlen = fr->l4 + 20 + topt;
	fill_random(fr->b + fr->hlen, payload);
	fr->len = fr->hlen + payload;
}

struct capture {
	uint8_t *data; /* the segments back to back */
	size_t used, cap;
	size_t n, lens[2048];
	int fail_at; /* emit returns -EIO on this call (-1: never) */
};

static int capture_emit(void *ctx, const uint8_t *seg, size_t len)
{
	struct capture *c = ctx;
	if ((int)c->n == c->fail_at)
		return -EIO;
	assert_true(len <= NET_FRAME_MAX);
	assert_true(c->n < 2048 && c->used + len <= c->cap);
	memcpy(c->data + c->used, seg, len);
	c->used += len;
	c->lens[c->n++] = len;
	return 0;
}

static struct capture *capture_new(void)
{
	struct capture *c = calloc(1, sizeof(*c));
	assert_non_null(c);
	c->cap = 4 * FRAME_BUF;
	c->data = malloc(c->cap);
	assert_non_null(c->data);
	c->fail_at = -1;
	return c;
}

static void capture_free(struct capture *c)
{
	free(c->data);
	free(c);
}

static struct frame *frame_new(void)
{
	struct frame *fr = malloc(sizeof(*fr));
	assert_non_null(fr);
	return fr;
}

/* Checks every segment of a TCP GSO frame on its own and that the
 * payload reassembles to the original. */
static void check_tcp_segments(const struct frame *orig, const struct capture *c, size_t mss,
			       bool v6)
{
	size_t payload = orig->len - orig->hlen;
	size_t nseg = payload ? (payload + mss - 1) / mss : 1;
	const uint8_t *oth = orig->b + orig->l4;
	assert_int_equal(c->n, nseg);
	const uint8_t *seg = c->data;
	for (size_t i = 0; i < nseg; i++) {
		size_t n = i + 1 < nseg ? mss : payload - i * mss;
		assert_int_equal(c->lens[i], orig->hlen + n);
		const uint8_t *ip = seg + orig->l3, *th = seg + orig->l4;
		/* The Ethernet header (and a VLAN tag) is copied as is. */
		assert_memory_equal(seg, orig->b, orig->l3);
		if (v6) {
			assert_int_equal(rd16(ip + 4), orig->hlen + n - orig->l3 - 40);
			assert_memory_equal(ip + 8, orig->b + orig->l3 + 8, 32);
		} else {
			assert_int_equal(rd16(ip + 2), orig->hlen + n - orig->l3);
			assert_int_equal(rd16(ip + 4), (uint16_t)(0xfffe + i));
			assert_int_equal(rd16(ip + 6), 0x4000);
			assert_true(ref_ip4_ok(ip));
		}
		assert_int_equal(rd32(th + 4), (uint32_t)(0xfffff000u + i * mss));
		assert_int_equal(rd32(th + 8), rd32(oth + 8));
		uint8_t want = oth[13];
		if (i)
			want &= (uint8_t)~0x80;
		if (i + 1 < nseg)
			want &= (uint8_t)~0x09;
		assert_int_equal(th[13], want);
		assert_memory_equal(th + 20, oth + 20, orig->hlen - orig->l4 - 20);
		assert_true(ref_l4_ok(ip, v6, 6, th, orig->hlen + n - orig->l4));
		assert_memory_equal(seg + orig->hlen, orig->b + orig->hlen + i * mss, n);
		seg += c->lens[i];
	}
	assert_int_equal(seg - c->data, c->used);
}

static void run_tcp(bool v6, bool vlan, size_t topt, size_t payload, size_t mss, uint8_t flags,
		    uint8_t gso_extra)
{
	struct frame *fr = frame_new();
	struct capture *c = capture_new();
	build_tcp(fr, v6, vlan, topt, payload, flags);
	struct net_hdr h = {
	    .flags = NET_HDR_F_NEEDS_CSUM,
	    .gso_type = (uint8_t)((v6 ? NET_HDR_GSO_TCPV6 : NET_HDR_GSO_TCPV4) | gso_extra),
	    .hdr_len = (uint16_t)fr->hlen,
	    .gso_size = (uint16_t)mss,
	    .csum_start = (uint16_t)fr->l4,
	    .csum_offset = 16,
	};
	struct frame *copy = frame_new();
	memcpy(copy, fr, sizeof(*fr));
	assert_int_equal(net_offload_frame(fr->b, fr->len, &h, capture_emit, c), 0);
	check_tcp_segments(copy, c, mss, v6);
	free(copy);
	free(fr);
	capture_free(c);
}

static void test_tso4_64k(void **state)
{
	(void)state;
	/* 12 bytes of TCP options; the largest frame GSO allows. */
	size_t payload = NET_GSO_MAX - 14 - 20 - 32;
	run_tcp(false, false, 12, payload, 1448, 0x80 | 0x10 | 0x08 | 0x01, NET_HDR_GSO_ECN);
	run_tcp(false, false, 0, 65536 - 54, 1460, 0x18, 0);
}

static void test_tso4_small_and_exact(void **state)
{
	(void)state;
	run_tcp(false, false, 0, 100, 1460, 0x19, 0);	   /* one segment */
	run_tcp(false, false, 0, 1460 * 3, 1460, 0x19, 0); /* exact multiple */
	run_tcp(false, false, 0, 0, 1460, 0x11, 0);	   /* no payload: one segment */
	run_tcp(false, false, 0, 3000, 3, 0x18, 0);	   /* tiny segments */
}

static void test_tso6(void **state)
{
	(void)state;
	run_tcp(true, false, 12, 60000, 1428, 0x80 | 0x18, 0);
	run_tcp(true, true, 0, 9000, 1440, 0x11, 0);
}

static void test_tso_vlan(void **state)
{
	(void)state;
	run_tcp(false, true, 12, 30000, 1444, 0x18, 0);
}

static void test_tso6_extension_header(void **state)
{
	(void)state;
	/* IPv6 with a hop-by-hop header (8 bytes) before TCP. */
	struct frame *fr = frame_new();
	struct capture *c = capture_new();
	memset(fr, 0, sizeof(*fr));
	fr->l3 = put_eth(fr->b, false, 0x86dd);
	put_ip6(fr->b + fr->l3, 0);
	uint8_t *ext = fr->b + fr->l3 + 40;
	ext[0] = 6;
	ext[1] = 0;
	ext[2] = 1; /* PadN */
	ext[3] = 4;
	fr->l4 = fr->l3 + 48;
	uint8_t *th = fr->b + fr->l4;
	wr32(th + 4, 1000);
	th[12] = 5 << 4;
	th[13] = 0x18;
	fr->hlen = fr->l4 + 20;
	fill_random(fr->b + fr->hlen, 4000);
	fr->len = fr->hlen + 4000;
	struct net_hdr h = {
	    .gso_type = NET_HDR_GSO_TCPV6, .hdr_len = (uint16_t)fr->hlen, .gso_size = 1400};
	assert_int_equal(net_offload_frame(fr->b, fr->len, &h, capture_emit, c), 0);
	assert_int_equal(c->n, 3);
	const uint8_t *seg = c->data;
	for (size_t i = 0; i < 3; i++) {
		size_t n = i < 2 ? 1400 : 1200;
		assert_int_equal(rd16(seg + fr->l3 + 4), 8 + 20 + n);
		assert_int_equal(rd32(seg + fr->l4 + 4), 1000 + i * 1400);
		assert_true(ref_l4_ok(seg + fr->l3, true, 6, seg + fr->l4, 20 + n));
		seg += c->lens[i];
	}
	free(fr);
	capture_free(c);
}

/* ---- UDP fragmentation ---- */

static void build_udp(struct frame *fr, bool v6, bool vlan, size_t ihl, size_t payload)
{
	memset(fr, 0, sizeof(*fr));
	fr->l3 = put_eth(fr->b, vlan, v6 ? 0x86dd : 0x0800);
	if (v6) {
		put_ip6(fr->b + fr->l3, 17);
		fr->l4 = fr->l3 + 40;
	} else {
		put_ip4(fr->b + fr->l3, 17, ihl);
		fr->l4 = fr->l3 + ihl;
	}
	uint8_t *uh = fr->b + fr->l4;
	wr16(uh, 5353);
	wr16(uh + 2, 9999);
	wr16(uh + 4, 0); /* the driver's length: replaced */
	wr16(uh + 6, 0x7777);
	fr->hlen = fr->l4 + 8;
	fill_random(fr->b + fr->hlen, payload);
	fr->len = fr->hlen + payload;
}

static void test_ufo4_reassembles(void **state)
{
	(void)state;
	struct frame *fr = frame_new();
	struct capture *c = capture_new();
	static uint8_t dgram[70000];
	build_udp(fr, false, true, 28, 20000);
	struct net_hdr h = {.gso_type = NET_HDR_GSO_UDP,
			    .hdr_len = (uint16_t)fr->hlen,
			    .gso_size = 1477 /* rounded down to 1472 */};
	assert_int_equal(net_offload_frame(fr->b, fr->len, &h, capture_emit, c), 0);
	size_t ulen = 20008, nfrag = (ulen + 1471) / 1472;
	assert_int_equal(c->n, nfrag);
	const uint8_t *seg = c->data;
	size_t got = 0;
	for (size_t i = 0; i < nfrag; i++) {
		const uint8_t *ip = seg + fr->l3;
		size_t ihl = (size_t)(ip[0] & 0xf) * 4;
		assert_int_equal(ihl, 28);
		assert_true(ref_ip4_ok(ip));
		assert_int_equal(rd16(ip + 4), 0xfffe); /* one id for all */
		uint16_t fo = rd16(ip + 6);
		assert_int_equal((size_t)(fo & 0x1fff) * 8, got);
		assert_int_equal(!!(fo & 0x2000), i + 1 < nfrag);
		size_t n = rd16(ip + 2) - ihl;
		assert_int_equal(c->lens[i], fr->l3 + ihl + n);
		if (i + 1 < nfrag)
			assert_int_equal(n, 1472);
		/* Options: the copied option stays, the other is NOPs after the first. */
		assert_int_equal(ip[24], 0x94);
		assert_int_equal(ip[20], i ? 1 : 0x44);
		assert_memory_equal(seg, fr->b, fr->l3);
		memcpy(dgram + got, ip + ihl, n);
		got += n;
		seg += c->lens[i];
	}
	assert_int_equal(got, ulen);
	assert_int_equal(rd16(dgram + 4), ulen);
	assert_true(ref_l4_ok(fr->b + fr->l3, false, 17, dgram, ulen));
	assert_memory_equal(dgram + 8, fr->b + fr->hlen, ulen - 8);
	assert_memory_equal(dgram, fr->b + fr->l4, 4); /* ports */
	free(fr);
	capture_free(c);
}

static void test_ufo4_fits_one_frame(void **state)
{
	(void)state;
	struct frame *fr = frame_new();
	struct capture *c = capture_new();
	build_udp(fr, false, false, 20, 1000);
	struct net_hdr h = {
	    .gso_type = NET_HDR_GSO_UDP, .hdr_len = (uint16_t)fr->hlen, .gso_size = 1472};
	assert_int_equal(net_offload_frame(fr->b, fr->len, &h, capture_emit, c), 0);
	assert_int_equal(c->n, 1);
	const uint8_t *ip = c->data + fr->l3;
	assert_int_equal(rd16(ip + 6), 0x4000); /* not fragmented: DF kept */
	assert_int_equal(rd16(ip + 2), 20 + 1008);
	assert_true(ref_ip4_ok(ip));
	assert_true(ref_l4_ok(ip, false, 17, ip + 20, 1008));
	free(fr);
	capture_free(c);
}

static void test_ufo6_reassembles(void **state)
{
	(void)state;
	struct frame *fr = frame_new();
	struct capture *c = capture_new();
	static uint8_t dgram[70000];
	build_udp(fr, true, false, 0, 5000);
	struct net_hdr h = {
	    .gso_type = NET_HDR_GSO_UDP, .hdr_len = (uint16_t)fr->hlen, .gso_size = 1448};
	assert_int_equal(net_offload_frame(fr->b, fr->len, &h, capture_emit, c), 0);
	size_t ulen = 5008, nfrag = (ulen + 1447) / 1448;
	assert_int_equal(c->n, nfrag);
	const uint8_t *seg = c->data;
	size_t got = 0;
	uint32_t id = 0;
	for (size_t i = 0; i < nfrag; i++) {
		const uint8_t *ip = seg + fr->l3, *fh = ip + 40;
		assert_int_equal(ip[6], 44);
		assert_int_equal(fh[0], 17);
		if (!i)
			id = rd32(fh + 4);
		assert_int_equal(rd32(fh + 4), id);
		uint16_t fo = rd16(fh + 2);
		assert_int_equal((size_t)(fo & ~7u), got);
		assert_int_equal(fo & 1, i + 1 < nfrag);
		size_t n = rd16(ip + 4) - 8;
		assert_int_equal(c->lens[i], fr->l3 + 48 + n);
		memcpy(dgram + got, fh + 8, n);
		got += n;
		seg += c->lens[i];
	}
	assert_int_equal(got, ulen);
	assert_true(ref_l4_ok(fr->b + fr->l3, true, 17, dgram, ulen));
	assert_memory_equal(dgram + 8, fr->b + fr->hlen, ulen - 8);
	free(fr);
	capture_free(c);
}

/* ---- NEEDS_CSUM without GSO ---- */

static void test_needs_csum(void **state)
{
	(void)state;
	struct frame *fr = frame_new();
	struct capture *c = capture_new();
	build_udp(fr, false, false, 20, 333);
	uint8_t *ip = fr->b + fr->l3, *uh = fr->b + fr->l4;
	wr16(ip + 2, 20 + 341);
	wr16(uh + 4, 341);
	/* The driver's pseudo-header sum, not complemented, in the field. */
	uint64_t ps = ref_sum(0, ip + 12, 8) + 17 + 341;
	wr16(uh + 6, ref_fold(ps));
	struct net_hdr h = {
	    .flags = NET_HDR_F_NEEDS_CSUM, .csum_start = (uint16_t)fr->l4, .csum_offset = 6};
	assert_int_equal(net_offload_frame(fr->b, fr->len, &h, capture_emit, c), 0);
	assert_int_equal(c->n, 1);
	assert_int_equal(c->lens[0], fr->len);
	assert_true(ref_l4_ok(c->data + fr->l3, false, 17, c->data + fr->l4, 341));
	/* A complete frame passes untouched. */
	c->n = c->used = 0;
	assert_int_equal(net_offload_frame(fr->b, fr->len, NULL, capture_emit, c), 0);
	assert_memory_equal(c->data, fr->b, fr->len);
	free(fr);
	capture_free(c);
}

static void test_csum_finish_bounds(void **state)
{
	(void)state;
	uint8_t f[64] = {0};
	struct net_hdr h = {.flags = NET_HDR_F_NEEDS_CSUM, .csum_start = 34, .csum_offset = 29};
	assert_int_equal(net_csum_finish(f, 64, &h), -EINVAL); /* the field at 63..65 */
	h.csum_offset = 28;
	assert_int_equal(net_csum_finish(f, 64, &h), 0); /* the last two bytes */
	h.csum_start = 65;
	h.csum_offset = 0;
	assert_int_equal(net_csum_finish(f, 64, &h), -EINVAL);
	h.csum_start = 0xffff;
	h.csum_offset = 0xffff;
	assert_int_equal(net_csum_finish(f, 64, &h), -EINVAL);
	/* The stored value makes the region verify. */
	uint8_t g[101];
	fill_random(g, sizeof(g));
	struct net_hdr h2 = {.flags = NET_HDR_F_NEEDS_CSUM, .csum_start = 10, .csum_offset = 6};
	uint16_t pseudo = rd16(g + 16); /* what the driver left in the field */
	assert_int_equal(net_csum_finish(g, sizeof(g), &h2), 0);
	assert_int_equal(ref_fold(ref_sum(pseudo, g + 10, sizeof(g) - 10)), 0xffff);
}

/* ---- Emit errors and malformed frames ---- */

static void test_emit_error_stops(void **state)
{
	(void)state;
	struct frame *fr = frame_new();
	struct capture *c = capture_new();
	build_tcp(fr, false, false, 0, 10000, 0x18);
	c->fail_at = 2;
	struct net_hdr h = {
	    .gso_type = NET_HDR_GSO_TCPV4, .hdr_len = (uint16_t)fr->hlen, .gso_size = 1000};
	assert_int_equal(net_offload_frame(fr->b, fr->len, &h, capture_emit, c), -EIO);
	assert_int_equal(c->n, 2);
	free(fr);
	capture_free(c);
}

/* The result of offloading; nothing may have been emitted on failure. */
static int expect_inval(struct frame *fr, const struct net_hdr *h)
{
	struct capture *c = capture_new();
	int rc = net_offload_frame(fr->b, fr->len, h, capture_emit, c);
	size_t n = c->n;
	capture_free(c);
	if (rc)
		assert_int_equal(n, 0);
	else
		assert_true(n > 0);
	return rc;
}

static void test_malformed(void **state)
{
	(void)state;
	struct frame *fr = frame_new();
	struct net_hdr h;
#define TCP4_HDR ((struct net_hdr){.gso_type = NET_HDR_GSO_TCPV4, .hdr_len = 54, .gso_size = 1460})

	build_tcp(fr, false, false, 0, 3000, 0x18);
	h = TCP4_HDR;
	assert_int_equal(expect_inval(fr, &h), 0); /* the good frame */

	h.gso_size = 0; /* gso_size 0 */
	assert_int_equal(expect_inval(fr, &h), -EINVAL);
	h = TCP4_HDR;
	h.hdr_len = (uint16_t)(fr->len + 1); /* hdr_len beyond the frame */
	assert_int_equal(expect_inval(fr, &h), -EINVAL);
	h = TCP4_HDR;
	h.hdr_len = 30; /* short of the headers: only a hint, they are parsed */
	assert_int_equal(expect_inval(fr, &h), 0);
	h.hdr_len = 0; /* as Linux tun accepts */
	assert_int_equal(expect_inval(fr, &h), 0);
	h = TCP4_HDR;
	h.gso_type = 5; /* unknown type */
	assert_int_equal(expect_inval(fr, &h), -EINVAL);
	h.gso_type = NET_HDR_GSO_TCPV6; /* IPv4 frame, IPv6 type */
	assert_int_equal(expect_inval(fr, &h), -EINVAL);
	h = TCP4_HDR;
	h.gso_type = NET_HDR_GSO_UDP; /* TCP frame, UDP type */
	assert_int_equal(expect_inval(fr, &h), -EINVAL);
	h = TCP4_HDR;
	h.gso_size = 1500; /* segments over NET_FRAME_MAX */
	assert_int_equal(expect_inval(fr, &h), -EINVAL);
	h = TCP4_HDR;
	h.flags = NET_HDR_F_NEEDS_CSUM; /* csum fields outside the frame */
	h.csum_start = (uint16_t)(fr->len - 1);
	h.csum_offset = 0;
	assert_int_equal(expect_inval(fr, &h), -EINVAL);

	h = TCP4_HDR;
	fr->b[14] = 0x44; /* IP header length 16 */
	assert_int_equal(expect_inval(fr, &h), -EINVAL);
	fr->b[14] = 0x4f; /* 60 bytes: beyond hdr_len */
	assert_int_equal(expect_inval(fr, &h), -EINVAL);
	fr->b[14] = 0x55; /* version 5 */
	assert_int_equal(expect_inval(fr, &h), -EINVAL);
	fr->b[14] = 0x45;
	fr->b[34 + 12] = 0x40; /* TCP header length 16 */
	assert_int_equal(expect_inval(fr, &h), -EINVAL);
	fr->b[34 + 12] = 0x50;
	wr16(fr->b + 20, 0x2000); /* already a fragment */
	assert_int_equal(expect_inval(fr, &h), -EINVAL);
	wr16(fr->b + 20, 0);
	wr16(fr->b + 12, 0x0806); /* not IP (ARP) */
	assert_int_equal(expect_inval(fr, &h), -EINVAL);
	wr16(fr->b + 12, 0x0800);
	fr->b[23] = 17; /* UDP in the IP header, TCPV4 type */
	assert_int_equal(expect_inval(fr, &h), -EINVAL);
	fr->b[23] = 6;

	/* Truncated frames: headers cut short. */
	size_t full = fr->len;
	for (size_t cut = 0; cut < 54; cut++) {
		fr->len = cut;
		h.hdr_len = (uint16_t)cut;
		assert_int_equal(expect_inval(fr, &h), -EINVAL);
	}
	fr->len = full;

	/* The TCP header's options run past the frame. */
	build_tcp(fr, false, false, 40, 0, 0x18);
	h = TCP4_HDR;
	fr->len = 14 + 20 + 30;
	assert_int_equal(expect_inval(fr, &h), -EINVAL);

	/* A frame over NET_GSO_MAX. */
	build_tcp(fr, false, false, 0, NET_GSO_MAX - 54 + 1, 0x18);
	h = TCP4_HDR;
	assert_int_equal(expect_inval(fr, &h), -EINVAL);

	/* A non-GSO frame over NET_FRAME_MAX, and one shorter than Ethernet. */
	build_tcp(fr, false, false, 0, NET_FRAME_MAX, 0x18);
	h = (struct net_hdr){0};
	assert_int_equal(expect_inval(fr, &h), -EINVAL);
	fr->len = 13;
	assert_int_equal(expect_inval(fr, &h), -EINVAL);
	/* The ECN bit without a GSO type. */
	build_tcp(fr, false, false, 0, 100, 0x18);
	h = (struct net_hdr){.gso_type = NET_HDR_GSO_ECN};
	assert_int_equal(expect_inval(fr, &h), -EINVAL);

	/* VLAN: three tags, and a tag cut short. */
	build_tcp(fr, false, true, 0, 3000, 0x18);
	h = TCP4_HDR;
	h.hdr_len = 58;
	assert_int_equal(expect_inval(fr, &h), 0);
	wr16(fr->b + 16, 0x8100);
	wr16(fr->b + 20, 0x8100);
	assert_int_equal(expect_inval(fr, &h), -EINVAL);
	fr->len = 17;
	h.hdr_len = 0;
	assert_int_equal(expect_inval(fr, &h), -EINVAL);

	/* IPv6: an extension header running past hdr_len, a fragment header. */
	build_tcp(fr, true, false, 0, 3000, 0x18);
	h = (struct net_hdr){.gso_type = NET_HDR_GSO_TCPV6, .hdr_len = 74, .gso_size = 1440};
	assert_int_equal(expect_inval(fr, &h), 0);
	fr->b[20] = 0; /* hop-by-hop: its 8+ bytes overlap TCP, length 255 */
	fr->b[54 + 1] = 255;
	assert_int_equal(expect_inval(fr, &h), -EINVAL);
	fr->b[20] = 44;
	assert_int_equal(expect_inval(fr, &h), -EINVAL);
	h.hdr_len = 50; /* short of the IPv6 header: a hint only */
	fr->b[20] = 6;
	assert_int_equal(expect_inval(fr, &h), 0);

	/* UFO: gso_size under 8, a datagram over 64 KiB. */
	build_udp(fr, false, false, 20, 3000);
	h = (struct net_hdr){.gso_type = NET_HDR_GSO_UDP, .hdr_len = 42, .gso_size = 7};
	assert_int_equal(expect_inval(fr, &h), -EINVAL);
	build_udp(fr, false, false, 20, 65508); /* IP length 65536 */
	h.gso_size = 1472;
	assert_int_equal(expect_inval(fr, &h), -EINVAL);
	build_udp(fr, false, false, 20, 3000);
	h.gso_size = 1496; /* fragments over NET_FRAME_MAX */
	assert_int_equal(expect_inval(fr, &h), -EINVAL);
	free(fr);
#undef TCP4_HDR
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_csum_matches_reference),
	    cmocka_unit_test(test_csum_chained_even_pieces),
	    cmocka_unit_test(test_csum_known_value),
	    cmocka_unit_test(test_csum_finish_bounds),
	    cmocka_unit_test(test_needs_csum),
	    cmocka_unit_test(test_tso4_64k),
	    cmocka_unit_test(test_tso4_small_and_exact),
	    cmocka_unit_test(test_tso6),
	    cmocka_unit_test(test_tso_vlan),
	    cmocka_unit_test(test_tso6_extension_header),
	    cmocka_unit_test(test_ufo4_reassembles),
	    cmocka_unit_test(test_ufo4_fits_one_frame),
	    cmocka_unit_test(test_ufo6_reassembles),
	    cmocka_unit_test(test_emit_error_stops),
	    cmocka_unit_test(test_malformed),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
