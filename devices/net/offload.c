/* Software offloads: the Internet checksum, NEEDS_CSUM completion and GSO
 * segmentation (TCPv4/v6 segments, UDP fragments) of frames from a guest. */
#include "devices/net/offload.h"

#include "hypervisor/bytes.h"

#include <errno.h>
#include <stdatomic.h>
#include <string.h>
#include <sys/random.h>

#define ETH_P_IPV4    0x0800
#define ETH_P_IPV6    0x86dd
#define ETH_P_8021Q   0x8100
#define ETH_P_8021AD  0x88a8
#define VLAN_TAGS_MAX 2

#define IP_PROTO_TCP	6
#define IP_PROTO_UDP	17
#define IP6_NH_HOPOPTS	0
#define IP6_NH_ROUTING	43
#define IP6_NH_FRAGMENT 44
#define IP6_NH_DSTOPTS	60
#define IP6_EXT_MAX	8 /* extension headers walked before giving up */
#define IP4_DF		0x4000
#define IP4_MF		0x2000
#define IP4_FRAG_MASK	0x3fff /* MF and the offset: set in a fragment */
#define IP6_FRAG_HLEN	8
#define IP6_FRAG_M	1
#define TCP_FIN		0x01
#define TCP_PSH		0x08
#define TCP_CWR		0x80
#define UDP_HLEN	8
#define IP4_HLEN_MIN	20
#define IP6_HLEN	40
#define TCP_HLEN_MIN	20

/* The sum is kept as the value of big-endian 16-bit words (RFC 1071), so a
 * pseudo-header's numbers (protocol, length) are simply added and
 * net_csum_fold's result is stored with put_be16. */

static uint16_t get_be16(const uint8_t *p)
{
	return (uint16_t)(p[0] << 8 | p[1]);
}

static uint64_t add_carry(uint64_t acc, uint64_t v)
{
	acc += v;
	return acc + (acc < v);
}

static uint64_t load64(const uint8_t *p)
{
	uint64_t v;
	memcpy(&v, p, sizeof(v));
	return v;
}

uint32_t net_csum_add(uint32_t sum, const void *data, size_t len)
{
	const uint8_t *p = data;
	uint64_t acc = 0, lo = 0, hi = 0;

	/* Native-order 32-bit halves of 64-bit words added into 64-bit sums
	 * (no carries to track below 2^32 words; the compiler vectorizes it);
	 * the one's-complement sum does not care about byte order (RFC 1071
	 * 2.(B)), so it is swapped once at the end. */
	while (len >= 32) {
		size_t n = len / 32 < ((size_t)1 << 28) ? len / 32 : ((size_t)1 << 28);
		for (size_t i = 0; i < n; i++, p += 32) {
			uint64_t a = load64(p), b = load64(p + 8), c = load64(p + 16),
				 d = load64(p + 24);
			lo += (a & 0xffffffff) + (b & 0xffffffff) + (c & 0xffffffff) +
			      (d & 0xffffffff);
			hi += (a >> 32) + (b >> 32) + (c >> 32) + (d >> 32);
		}
		len -= n * 32;
		acc = add_carry(acc, lo);
		acc = add_carry(acc, hi);
		lo = hi = 0;
	}
	for (; len >= 8; p += 8, len -= 8)
		acc = add_carry(acc, load64(p));
	if (len) {
		uint8_t tail[8] = {0};
		memcpy(tail, p, len);
		acc = add_carry(acc, load64(tail));
	}
	acc = (acc & 0xffffffff) + (acc >> 32);
	acc = (acc & 0xffffffff) + (acc >> 32);
	acc = (acc & 0xffff) + (acc >> 16);
	acc = (acc & 0xffff) + (acc >> 16);
	acc = (acc & 0xffff) + (acc >> 16);
	uint16_t folded = (uint16_t)acc;
#if __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
	folded = __builtin_bswap16(folded);
#endif
	uint64_t total = (uint64_t)sum + folded;
	return (uint32_t)((total & 0xffffffff) + (total >> 32));
}

uint16_t net_csum_fold(uint32_t sum)
{
	sum = (sum & 0xffff) + (sum >> 16);
	sum = (sum & 0xffff) + (sum >> 16);
	return (uint16_t)~sum;
}

int net_csum_finish(uint8_t *frame, size_t len, const struct net_hdr *hdr)
{
	size_t start = hdr->csum_start, at = (size_t)hdr->csum_start + hdr->csum_offset;

	if (start > len || at + 2 > len)
		return -EINVAL;
	/* The field holds the driver's pseudo-header sum: it is summed too. */
	uint16_t csum = net_csum_fold(net_csum_add(0, frame + start, len - start));
	/* As Linux does: a computed 0 goes out as 0xffff (UDP's "no checksum"
	 * is 0; for TCP both mean the same). */
	put_be16(frame + at, csum ? csum : 0xffff);
	return 0;
}

/* Where the headers of a GSO frame lie. */
struct frame_layout {
	size_t l3;    /* the IP header */
	size_t l4;    /* the TCP or UDP header (after IPv6 extension headers) */
	size_t hlen;  /* every header: l4 + the TCP/UDP header's length */
	size_t nh_at; /* IPv6: the byte that names the transport protocol */
	bool v6;
};

/* Finds and checks the Ethernet (with up to two VLAN tags), IP and
 * transport headers; the IP headers must lie within hdr_len. */
static int parse_headers(const uint8_t *f, size_t len, size_t hdr_len, uint8_t want_proto,
			 struct frame_layout *lay)
{
	size_t at = 12;
	uint16_t type;
	uint8_t proto;

	if (hdr_len > len || len < NET_ETH_HLEN)
		return -EINVAL;
	type = get_be16(f + at);
	for (int tags = 0; type == ETH_P_8021Q || type == ETH_P_8021AD; tags++) {
		if (tags == VLAN_TAGS_MAX || at + 6 + 2 > len)
			return -EINVAL;
		at += 4;
		type = get_be16(f + at);
	}
	lay->l3 = at + 2;

	if (type == ETH_P_IPV4) {
		if (lay->l3 + IP4_HLEN_MIN > hdr_len)
			return -EINVAL;
		const uint8_t *ip = f + lay->l3;
		size_t ihl = (size_t)(ip[0] & 0xf) * 4;
		if (ip[0] >> 4 != 4 || ihl < IP4_HLEN_MIN || lay->l3 + ihl > hdr_len)
			return -EINVAL;
		/* A fragment cannot be segmented again. */
		if (get_be16(ip + 6) & IP4_FRAG_MASK)
			return -EINVAL;
		proto = ip[9];
		lay->l4 = lay->l3 + ihl;
		lay->v6 = false;
	} else if (type == ETH_P_IPV6) {
		if (lay->l3 + IP6_HLEN > hdr_len || f[lay->l3] >> 4 != 6)
			return -EINVAL;
		lay->nh_at = lay->l3 + 6;
		proto = f[lay->nh_at];
		at = lay->l3 + IP6_HLEN;
		for (int n = 0;
		     proto == IP6_NH_HOPOPTS || proto == IP6_NH_ROUTING || proto == IP6_NH_DSTOPTS;
		     n++) {
			if (n == IP6_EXT_MAX || at + 8 > hdr_len)
				return -EINVAL;
			lay->nh_at = at;
			proto = f[at];
			at += ((size_t)f[at + 1] + 1) * 8;
			if (at > hdr_len)
				return -EINVAL;
		}
		lay->l4 = at;
		lay->v6 = true;
	} else {
		return -EINVAL;
	}

	if (proto != want_proto)
		return -EINVAL;
	if (proto == IP_PROTO_TCP) {
		if (lay->l4 + TCP_HLEN_MIN > len)
			return -EINVAL;
		size_t thl = (size_t)(f[lay->l4 + 12] >> 4) * 4;
		if (thl < TCP_HLEN_MIN || lay->l4 + thl > len)
			return -EINVAL;
		lay->hlen = lay->l4 + thl;
	} else {
		if (lay->l4 + UDP_HLEN > len)
			return -EINVAL;
		lay->hlen = lay->l4 + UDP_HLEN;
	}
	return 0;
}

/* The pseudo-header's sum for a transport segment of l4len bytes. */
static uint32_t pseudo_sum(const uint8_t *f, const struct frame_layout *lay, uint8_t proto,
			   size_t l4len)
{
	if (lay->v6)
		return net_csum_add(0, f + lay->l3 + 8, 32) + (uint32_t)(l4len >> 16) +
		       (uint32_t)(l4len & 0xffff) + proto;
	return net_csum_add(0, f + lay->l3 + 12, 8) + (uint32_t)l4len + proto;
}

static void ip4_set_csum(uint8_t *ip, size_t ihl)
{
	ip[10] = ip[11] = 0;
	put_be16(ip + 10, net_csum_fold(net_csum_add(0, ip, ihl)));
}

static int segment_tcp(const uint8_t *f, size_t len, const struct frame_layout *lay, size_t mss,
		       int (*emit)(void *, const uint8_t *, size_t), void *ctx)
{
	uint8_t seg[NET_FRAME_MAX];
	size_t h = lay->hlen, payload = len - h;
	size_t first = payload < mss ? payload : mss;
	uint32_t seq = get_be32(f + lay->l4 + 4);
	uint16_t id = get_be16(f + lay->l3 + 4);
	uint8_t flags = f[lay->l4 + 13];

	if (h + first > NET_FRAME_MAX)
		return -EINVAL;
	for (size_t off = 0;; off += mss) {
		size_t n = payload - off < mss ? payload - off : mss;
		bool last = off + n == payload;
		size_t seglen = h + n;
		uint8_t *ip = seg + lay->l3, *th = seg + lay->l4;

		memcpy(seg, f, h);
		memcpy(seg + h, f + h + off, n);
		if (lay->v6) {
			put_be16(ip + 4, (uint16_t)(seglen - lay->l3 - IP6_HLEN));
		} else {
			put_be16(ip + 2, (uint16_t)(seglen - lay->l3));
			put_be16(ip + 4, (uint16_t)(id + off / mss));
			ip4_set_csum(ip, lay->l4 - lay->l3);
		}
		put_be32(th + 4, seq + (uint32_t)off);
		uint8_t fl = flags;
		if (off)
			fl &= (uint8_t)~TCP_CWR;
		if (!last)
			fl &= (uint8_t) ~(TCP_FIN | TCP_PSH);
		th[13] = fl;
		th[16] = th[17] = 0;
		uint32_t sum = pseudo_sum(seg, lay, IP_PROTO_TCP, seglen - lay->l4);
		put_be16(th + 16, net_csum_fold(net_csum_add(sum, th, seglen - lay->l4)));
		int rc = emit(ctx, seg, seglen);
		if (rc)
			return rc;
		if (last)
			return 0;
	}
}

/* IPv4 options without the copy flag appear in the first fragment only
 * (RFC 791): later fragments get NOPs in their place. */
static void ip4_options_fragment(uint8_t *ip, size_t ihl)
{
	for (size_t i = IP4_HLEN_MIN; i < ihl;) {
		uint8_t type = ip[i];
		if (type == 0)
			break;
		if (type == 1) {
			i++;
			continue;
		}
		if (i + 1 >= ihl || ip[i + 1] < 2 || i + ip[i + 1] > ihl)
			break;
		size_t olen = ip[i + 1];
		if (!(type & 0x80))
			memset(ip + i, 1, olen);
		i += olen;
	}
}

static uint32_t ip6_frag_id(void)
{
	static _Atomic uint32_t next;
	uint32_t id = atomic_fetch_add(&next, 1);

	if (id == 0) {
		uint32_t seed = 0;
		if (getrandom(&seed, sizeof(seed), GRND_NONBLOCK) != sizeof(seed))
			seed = 0x4f53494f;
		atomic_fetch_add(&next, seed | 1);
		id = seed | 1;
	}
	return id;
}

/* UFO: the UDP checksum over the whole datagram, then IP fragments of
 * (gso_size & ~7) payload bytes each (IPv6: with a fragment header). */
static int fragment_udp(const uint8_t *f, size_t len, const struct frame_layout *lay, size_t mss,
			int (*emit)(void *, const uint8_t *, size_t), void *ctx)
{
	uint8_t seg[NET_FRAME_MAX];
	size_t l3 = lay->l3, l4 = lay->l4, ulen = len - l4;
	size_t chunk = mss & ~(size_t)7;
	size_t fraghdr = lay->v6 ? IP6_FRAG_HLEN : 0;
	uint8_t uh[UDP_HLEN];

	if (!chunk || ulen > 0xffff || (!lay->v6 && l4 - l3 + ulen > 0xffff))
		return -EINVAL;
	memcpy(uh, f + l4, UDP_HLEN);
	put_be16(uh + 4, (uint16_t)ulen);
	uh[6] = uh[7] = 0;
	uint32_t sum = pseudo_sum(f, lay, IP_PROTO_UDP, ulen);
	sum = net_csum_add(sum, uh, UDP_HLEN);
	sum = net_csum_add(sum, f + l4 + UDP_HLEN, ulen - UDP_HLEN);
	uint16_t csum = net_csum_fold(sum);
	put_be16(uh + 6, csum ? csum : 0xffff);

	bool whole = ulen <= chunk;
	if (whole)
		fraghdr = 0;
	size_t first = whole ? ulen : chunk;
	if (l4 + fraghdr + first > NET_FRAME_MAX)
		return -EINVAL;
	uint32_t id6 = lay->v6 && !whole ? ip6_frag_id() : 0;
	uint16_t frag0 = get_be16(f + l3 + 6);

	for (size_t off = 0; off < ulen; off += chunk) {
		size_t n = ulen - off < chunk ? ulen - off : chunk;
		bool last = off + n == ulen;
		uint8_t *ip = seg + l3, *data = seg + l4 + fraghdr;

		memcpy(seg, f, l4);
		memcpy(data, f + l4 + off, n);
		if (!off)
			memcpy(data, uh, UDP_HLEN);
		if (lay->v6) {
			put_be16(ip + 4, (uint16_t)(l4 - l3 - IP6_HLEN + fraghdr + n));
			if (fraghdr) {
				uint8_t *fh = seg + l4;
				seg[lay->nh_at] = IP6_NH_FRAGMENT;
				fh[0] = IP_PROTO_UDP;
				fh[1] = 0;
				put_be16(fh + 2, (uint16_t)(off | (last ? 0 : IP6_FRAG_M)));
				put_be32(fh + 4, id6);
			}
		} else {
			put_be16(ip + 2, (uint16_t)(l4 - l3 + n));
			if (!whole) {
				put_be16(ip + 6, (uint16_t)(off / 8 | (last ? 0 : IP4_MF)));
				if (off)
					ip4_options_fragment(ip, l4 - l3);
			} else {
				put_be16(ip + 6, frag0);
			}
			ip4_set_csum(ip, l4 - l3);
		}
		int rc = emit(ctx, seg, l4 + fraghdr + n);
		if (rc)
			return rc;
	}
	return 0;
}

int net_offload_frame(uint8_t *frame, size_t len, const struct net_hdr *hdr,
		      int (*emit)(void *ctx, const uint8_t *seg, size_t seglen), void *ctx)
{
	struct frame_layout lay;
	uint8_t type;
	int rc;

	if (len < NET_ETH_MIN)
		return -EINVAL;
	if (hdr && (hdr->flags & NET_HDR_F_NEEDS_CSUM) &&
	    (size_t)hdr->csum_start + hdr->csum_offset + 2 > len)
		return -EINVAL;
	type = hdr ? hdr->gso_type & (uint8_t)~NET_HDR_GSO_ECN : NET_HDR_GSO_NONE;
	if (type == NET_HDR_GSO_NONE) {
		/* ECN means nothing without segmentation (Linux refuses it too). */
		if (len > NET_FRAME_MAX || (hdr && hdr->gso_type))
			return -EINVAL;
		if (hdr && (hdr->flags & NET_HDR_F_NEEDS_CSUM)) {
			rc = net_csum_finish(frame, len, hdr);
			if (rc)
				return rc;
		}
		return emit(ctx, frame, len);
	}

	if (len > NET_GSO_MAX || !hdr->gso_size || hdr->hdr_len > len)
		return -EINVAL;
	switch (type) {
	case NET_HDR_GSO_TCPV4:
	case NET_HDR_GSO_TCPV6:
		/* hdr_len is a hint (Linux sends its linear length, tun accepts 0):
		 * the headers are found by parsing them. */
		rc = parse_headers(frame, len, len, IP_PROTO_TCP, &lay);
		if (rc)
			return rc;
		if (lay.v6 != (type == NET_HDR_GSO_TCPV6))
			return -EINVAL;
		return segment_tcp(frame, len, &lay, hdr->gso_size, emit, ctx);
	case NET_HDR_GSO_UDP:
		rc = parse_headers(frame, len, len, IP_PROTO_UDP, &lay);
		if (rc)
			return rc;
		return fragment_udp(frame, len, &lay, hdr->gso_size, emit, ctx);
	default:
		return -EINVAL;
	}
}
