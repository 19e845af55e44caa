/* Switch configurations from an adapter's devargs, and the text forms users
 * write: switch kinds, port forwards ("tcp:127.0.0.1:2222 -> 22"), MAC
 * addresses. */
#include "devices/net/net.h"

#include <arpa/inet.h>
#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/random.h>
#include <time.h>
#include <unistd.h>

static const char *const kind_names[] = {
    [NET_SWITCH_NONE] = "none",		[NET_SWITCH_NAT] = "nat",
    [NET_SWITCH_PRIVATE] = "private",	[NET_SWITCH_INTERNAL] = "internal",
    [NET_SWITCH_EXTERNAL] = "external", [NET_SWITCH_FD] = "fd",
};

const char *net_switch_kind_name(enum net_switch_kind kind)
{
	if ((unsigned)kind < sizeof(kind_names) / sizeof(kind_names[0]))
		return kind_names[kind];
	return "?";
}

int net_switch_kind_parse(const char *text, enum net_switch_kind *out)
{
	for (unsigned i = 0; i < sizeof(kind_names) / sizeof(kind_names[0]); i++) {
		if (strcasecmp(text, kind_names[i]) == 0) {
			*out = (enum net_switch_kind)i;
			return 0;
		}
	}
	return -EINVAL;
}

void net_switch_cfg_defaults(struct net_switch_cfg *cfg, enum net_switch_kind kind,
			     const char *name)
{
	memset(cfg, 0, sizeof(*cfg));
	cfg->kind = kind;
	snprintf(cfg->name, sizeof(cfg->name), "%s", name ? name : net_switch_kind_name(kind));
	cfg->subnet.s_addr = htonl(0x0a000200); /* 10.0.2.0/24, as QEMU's user networking */
	cfg->netmask.s_addr = htonl(0xffffff00);
	cfg->fd = -1;
}

int net_subnet_parse(const char *text, struct in_addr *net, struct in_addr *mask)
{
	char addr[INET_ADDRSTRLEN];
	const char *slash = strchr(text, '/');
	if (!slash || (size_t)(slash - text) >= sizeof(addr))
		return -EINVAL;
	memcpy(addr, text, (size_t)(slash - text));
	addr[slash - text] = '\0';
	char *end;
	errno = 0;
	long len = strtol(slash + 1, &end, 10);
	if (errno || *end || end == slash + 1 || len < 8 || len > 30)
		return -EINVAL;
	if (inet_pton(AF_INET, addr, net) != 1)
		return -EINVAL;
	uint32_t m = 0xffffffffu << (32 - len);
	if (ntohl(net->s_addr) & ~m)
		return -EINVAL;
	mask->s_addr = htonl(m);
	return 0;
}

void net_subnet_format(struct in_addr net, struct in_addr mask, char *buf, size_t size)
{
	char addr[INET_ADDRSTRLEN];
	uint32_t m = ntohl(mask.s_addr);
	int len = 0;

	while (len < 32 && (m & (0x80000000u >> len)))
		len++;
	inet_ntop(AF_INET, &net, addr, sizeof(addr));
	snprintf(buf, size, "%s/%d", addr, len);
}

static int parse_port(const char *text, size_t len, uint16_t *out)
{
	unsigned long v = 0;
	if (len == 0 || len > 5)
		return -EINVAL;
	for (size_t i = 0; i < len; i++) {
		if (!isdigit((unsigned char)text[i]))
			return -EINVAL;
		v = v * 10 + (unsigned long)(text[i] - '0');
	}
	if (v == 0 || v > 65535)
		return -EINVAL;
	*out = (uint16_t)v;
	return 0;
}

/* "[ADDR:]PORT" with an empty ADDR allowed ("::5555" is not: write ":5555"). */
static int parse_endpoint(const char *text, size_t len, struct in_addr *addr, bool *has_addr,
			  uint16_t *port)
{
	const char *colon = memchr(text, ':', len);
	*has_addr = false;
	if (!colon)
		return parse_port(text, len, port);
	size_t alen = (size_t)(colon - text);
	char buf[INET_ADDRSTRLEN];
	if (alen >= sizeof(buf))
		return -EINVAL;
	*has_addr = true;
	if (alen == 0) {
		addr->s_addr = htonl(INADDR_ANY);
	} else {
		memcpy(buf, text, alen);
		buf[alen] = '\0';
		if (inet_pton(AF_INET, buf, addr) != 1)
			return -EINVAL;
	}
	return parse_port(colon + 1, len - alen - 1, port);
}

static void trim(const char **s, const char **e)
{
	while (*s < *e && isspace((unsigned char)**s))
		(*s)++;
	while (*e > *s && isspace((unsigned char)(*e)[-1]))
		(*e)--;
}

int net_forward_parse(const char *text, struct net_forward *out, char *err, size_t errlen)
{
	static const char form[] = "write PROTO:[HOSTADDR:]HOSTPORT -> [GUESTADDR:]GUESTPORT, "
				   "e.g. tcp:127.0.0.1:2222 -> 22 or udp::5555 -> 5555";
	const char *s = text, *e = text + strlen(text);
	memset(out, 0, sizeof(*out));
	trim(&s, &e);
	if ((size_t)(e - s) > 4 && strncasecmp(s, "tcp:", 4) == 0) {
		out->proto = IPPROTO_TCP;
	} else if ((size_t)(e - s) > 4 && strncasecmp(s, "udp:", 4) == 0) {
		out->proto = IPPROTO_UDP;
	} else {
		snprintf(err, errlen, "forward '%s': the protocol must be tcp or udp; %s", text,
			 form);
		return -EINVAL;
	}
	s += 4;
	const char *arrow = strstr(s, "->");
	if (!arrow) {
		snprintf(err, errlen, "forward '%s': no '->' between host and guest; %s", text,
			 form);
		return -EINVAL;
	}
	const char *hs = s, *he = arrow, *gs = arrow + 2, *ge = e;
	trim(&hs, &he);
	trim(&gs, &ge);
	bool has;
	if (parse_endpoint(hs, (size_t)(he - hs), &out->host_addr, &has, &out->host_port) < 0) {
		snprintf(err, errlen,
			 "forward '%s': the host side must be [ADDRESS:]PORT with an IPv4 address "
			 "and a port 1-65535; %s",
			 text, form);
		return -EINVAL;
	}
	if (!has)
		out->host_addr.s_addr = htonl(INADDR_LOOPBACK);
	if (parse_endpoint(gs, (size_t)(ge - gs), &out->guest_addr, &has, &out->guest_port) < 0) {
		snprintf(err, errlen,
			 "forward '%s': the guest side must be [ADDRESS:]PORT with an IPv4 address "
			 "and a port 1-65535; %s",
			 text, form);
		return -EINVAL;
	}
	if (!has)
		out->guest_addr.s_addr = 0;
	return 0;
}

void net_forward_format(const struct net_forward *f, char *buf, size_t size)
{
	char host[INET_ADDRSTRLEN] = "", guest[INET_ADDRSTRLEN + 1] = "";
	if (f->host_addr.s_addr != htonl(INADDR_ANY))
		inet_ntop(AF_INET, &f->host_addr, host, sizeof(host));
	if (f->guest_addr.s_addr) {
		inet_ntop(AF_INET, &f->guest_addr, guest, sizeof(guest) - 1);
		strcat(guest, ":");
	}
	snprintf(buf, size, "%s:%s:%u -> %s%u", f->proto == IPPROTO_UDP ? "udp" : "tcp", host,
		 f->host_port, guest, f->guest_port);
}

int net_mac_parse(const char *text, uint8_t mac[NET_MAC_LEN])
{
	unsigned v[NET_MAC_LEN];
	char tail;
	if (strlen(text) != 17 || sscanf(text, "%2x:%2x:%2x:%2x:%2x:%2x%c", &v[0], &v[1], &v[2],
					 &v[3], &v[4], &v[5], &tail) != 6)
		return -EINVAL;
	for (int i = 0; i < NET_MAC_LEN; i++) {
		if (!isxdigit((unsigned char)text[i * 3]) ||
		    !isxdigit((unsigned char)text[i * 3 + 1]))
			return -EINVAL;
		mac[i] = (uint8_t)v[i];
	}
	if (mac[0] & 1)
		return -EINVAL; /* multicast */
	return 0;
}

void net_mac_format(const uint8_t mac[NET_MAC_LEN], char buf[18])
{
	snprintf(buf, 18, "%02x:%02x:%02x:%02x:%02x:%02x", mac[0], mac[1], mac[2], mac[3], mac[4],
		 mac[5]);
}

void net_mac_generate(uint8_t mac[NET_MAC_LEN])
{
	uint8_t r[3] = {0};
	if (getrandom(r, sizeof(r), 0) != (ssize_t)sizeof(r)) {
		/* No entropy yet (early boot): the clock and pid still differ per adapter. */
		struct timespec ts;
		clock_gettime(CLOCK_REALTIME, &ts);
		uint32_t x = (uint32_t)ts.tv_nsec ^ ((uint32_t)getpid() << 12) ^ (uint32_t)random();
		memcpy(r, &x, sizeof(r));
	}
	mac[0] = NET_MAC_PREFIX0;
	mac[1] = NET_MAC_PREFIX1;
	mac[2] = NET_MAC_PREFIX2;
	memcpy(mac + 3, r, sizeof(r));
}

static int copy_str(char *dst, size_t size, const char *src, const char *key, char *err,
		    size_t errlen)
{
	if (strlen(src) >= size) {
		snprintf(err, errlen, "%s: longer than %zu bytes", key, size - 1);
		return -EINVAL;
	}
	memcpy(dst, src, strlen(src) + 1);
	return 0;
}

static int forwards_from_text(const char *text, struct net_switch_cfg *cfg, char *err,
			      size_t errlen)
{
	const char *s = text;
	while (*s) {
		const char *semi = strchr(s, ';');
		size_t len = semi ? (size_t)(semi - s) : strlen(s);
		char one[128];
		if (len >= sizeof(one)) {
			snprintf(err, errlen, "forward: '%.*s...' is too long", 40, s);
			return -EINVAL;
		}
		memcpy(one, s, len);
		one[len] = '\0';
		if (cfg->nfwd == NET_FORWARDS_MAX) {
			snprintf(err, errlen, "forward: at most %d forwards per adapter",
				 NET_FORWARDS_MAX);
			return -EINVAL;
		}
		int r = net_forward_parse(one, &cfg->fwd[cfg->nfwd], err, errlen);
		if (r < 0)
			return r;
		cfg->nfwd++;
		s += len + (semi ? 1 : 0);
	}
	return 0;
}

int net_switch_cfg_from_args(const struct devargs *args, struct net_switch_cfg *cfg, char *err,
			     size_t errlen)
{
	const char *v;
	enum net_switch_kind kind = NET_SWITCH_NONE;
	int r;

	if ((v = devargs_get(args, "switch")) && net_switch_kind_parse(v, &kind) < 0) {
		snprintf(
		    err, errlen,
		    "switch=%s: not a kind of switch (none, nat, private, internal, external, fd)",
		    v);
		return -EINVAL;
	}
	net_switch_cfg_defaults(cfg, kind, devargs_get(args, "switch_name"));
	if ((v = devargs_get(args, "switch_name")) &&
	    (r = copy_str(cfg->name, sizeof(cfg->name), v, "switch_name", err, errlen)) < 0)
		return r;
	if ((v = devargs_get(args, "subnet")) &&
	    net_subnet_parse(v, &cfg->subnet, &cfg->netmask) < 0) {
		snprintf(err, errlen,
			 "subnet=%s: write an IPv4 network with its prefix length (8-30), e.g. "
			 "10.0.2.0/24",
			 v);
		return -EINVAL;
	}
	if ((v = devargs_get(args, "forward")) && (r = forwards_from_text(v, cfg, err, errlen)) < 0)
		return r;
	if ((v = devargs_get(args, "tftp")) &&
	    (r = copy_str(cfg->tftp, sizeof(cfg->tftp), v, "tftp", err, errlen)) < 0)
		return r;
	if ((v = devargs_get(args, "bootfile")) &&
	    (r = copy_str(cfg->bootfile, sizeof(cfg->bootfile), v, "bootfile", err, errlen)) < 0)
		return r;
	if ((v = devargs_get(args, "restrict"))) {
		if (strcmp(v, "on") == 0) {
			cfg->restricted = true;
		} else if (strcmp(v, "off") != 0) {
			snprintf(err, errlen, "restrict=%s: write on or off", v);
			return -EINVAL;
		}
	}
	if ((v = devargs_get(args, "bridge")) &&
	    (r = copy_str(cfg->bridge, sizeof(cfg->bridge), v, "bridge", err, errlen)) < 0)
		return r;
	if ((v = devargs_get(args, "uplink")) &&
	    (r = copy_str(cfg->uplink, sizeof(cfg->uplink), v, "uplink", err, errlen)) < 0)
		return r;
	if (kind == NET_SWITCH_FD) {
		uint64_t fd;
		if (devargs_u64(args, "fd", UINT64_MAX, INT32_MAX, &fd) < 0 || fd == UINT64_MAX) {
			snprintf(err, errlen, "switch=fd needs fd=N, an open socket");
			return -EINVAL;
		}
		cfg->fd = (int)fd;
	}
	if ((kind == NET_SWITCH_INTERNAL || kind == NET_SWITCH_EXTERNAL) && !cfg->bridge[0]) {
		snprintf(err, errlen, "switch=%s needs bridge=IFNAME", net_switch_kind_name(kind));
		return -EINVAL;
	}
	if (kind == NET_SWITCH_EXTERNAL && !cfg->uplink[0]) {
		snprintf(err, errlen,
			 "switch=external needs uplink=IFNAME, the host's network adapter");
		return -EINVAL;
	}
	return 0;
}
