/* vmconfig value parsers (sizes, booleans, numbers, MAC addresses, names,
 * VNC addresses, lists), shared with the command line so both validate
 * alike. */
#include "vmconfig/internal.h"
#include "hypervisor/bytes.h"

#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

static int fail(char *why, size_t whylen, const char *text)
{
	if (why && whylen)
		snprintf(why, whylen, "%s", text);
	return -EINVAL;
}

static bool is_digit(char c)
{
	return c >= '0' && c <= '9';
}

static bool is_alnum(char c)
{
	return is_digit(c) || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
}

int vmconfig_parse_size(const char *s, uint64_t *out, char *why, size_t whylen)
{
	static const char bad[] = "not a size; write a number with a unit, e.g. 512M or 2G";
	static const char big[] = "too large to be a size";
	uint64_t whole = 0, frac = 0, scale = 1, unit, total;
	const char *p = s;
	unsigned fdigits = 0;

	if (!is_digit(*p))
		return fail(why, whylen, bad);
	for (; is_digit(*p); p++) {
		unsigned d = *p - '0';

		if (whole > (UINT64_MAX - d) / 10)
			return fail(why, whylen, big);
		whole = whole * 10 + d;
	}
	if (*p == '.') {
		p++;
		if (!is_digit(*p))
			return fail(why, whylen, bad);
		for (; is_digit(*p); p++) {
			if (++fdigits > 6)
				return fail(why, whylen,
					    "too many digits after the point; write it in a "
					    "smaller unit");
			frac = frac * 10 + (unsigned)(*p - '0');
			scale *= 10;
		}
	}
	while (*p == ' ' || *p == '\t')
		p++;
	switch (*p) {
	case 'k':
	case 'K':
		unit = 1ull << 10;
		break;
	case 'm':
	case 'M':
		unit = 1ull << 20;
		break;
	case 'g':
	case 'G':
		unit = 1ull << 30;
		break;
	case 't':
	case 'T':
		unit = 1ull << 40;
		break;
	case '\0':
		return fail(why, whylen, "no unit; write it with K, M, G or T, e.g. 512M or 2G");
	default:
		return fail(why, whylen, bad);
	}
	p++;
	if (strcasecmp(p, "") != 0 && strcasecmp(p, "b") != 0 && strcasecmp(p, "ib") != 0)
		return fail(why, whylen, bad);
	if (whole > UINT64_MAX / unit)
		return fail(why, whylen, big);
	total = whole * unit;
	/* frac < 10^6 < 2^20 and unit <= 2^40: no overflow. */
	if ((frac * unit) % scale)
		return fail(why, whylen, "not a whole number of bytes; write it in a smaller unit");
	if (total > UINT64_MAX - frac * unit / scale)
		return fail(why, whylen, big);
	*out = total + frac * unit / scale;
	return 0;
}

int vmconfig_parse_bool(const char *s, bool *out, char *why, size_t whylen)
{
	static const char *const yes[] = {"yes", "true", "on", "1"};
	static const char *const no[] = {"no", "false", "off", "0"};

	for (size_t i = 0; i < sizeof(yes) / sizeof(yes[0]); i++) {
		if (strcasecmp(s, yes[i]) == 0) {
			*out = true;
			return 0;
		}
		if (strcasecmp(s, no[i]) == 0) {
			*out = false;
			return 0;
		}
	}
	return fail(why, whylen, "not yes or no; write yes or no (also true/false, on/off, 1/0)");
}

int vmconfig_parse_uint(const char *s, uint64_t min, uint64_t max, uint64_t *out, char *why,
			size_t whylen)
{
	uint64_t v = 0;
	bool over = false;
	const char *p = s;

	if (!is_digit(*p))
		goto not_number;
	for (; is_digit(*p); p++) {
		unsigned d = *p - '0';

		if (v > (UINT64_MAX - d) / 10)
			over = true;
		else
			v = v * 10 + d;
	}
	if (*p)
		goto not_number;
	if (over || v < min || v > max) {
		if (why && whylen)
			snprintf(why, whylen, "out of range; write a number from %llu to %llu",
				 (unsigned long long)min, (unsigned long long)max);
		return -EINVAL;
	}
	*out = v;
	return 0;
not_number:
	if (why && whylen)
		snprintf(why, whylen, "not a whole number; write a number from %llu to %llu",
			 (unsigned long long)min, (unsigned long long)max);
	return -EINVAL;
}

int vmconfig_parse_mac(const char *s, uint8_t mac[6], char *why, size_t whylen)
{
	const char *p = s;
	uint8_t m[6];

	for (unsigned i = 0; i < 6; i++, p += 3) {
		/* p[1] and p[2] are read only when the bytes before them are not
		 * the NUL: never past the string. */
		int hi = p[0] ? hex_digit_value(p[0]) : -1;
		int lo = hi >= 0 ? hex_digit_value(p[1]) : -1;

		if (lo < 0 || p[2] != (i == 5 ? '\0' : ':'))
			return fail(
			    why, whylen,
			    "not a MAC address; write six hex pairs like 52:54:00:12:34:56");
		m[i] = (uint8_t)(hi << 4 | lo);
	}
	if (m[0] & 1)
		return fail(why, whylen,
			    "a multicast MAC address (its first byte is odd); write a unicast "
			    "one like 52:54:00:12:34:56");
	if (!(m[0] | m[1] | m[2] | m[3] | m[4] | m[5]))
		return fail(why, whylen,
			    "the all-zero MAC address is not usable; write one like "
			    "52:54:00:12:34:56");
	memcpy(mac, m, 6);
	return 0;
}

int vmconfig_parse_uuid(const char *s, uint8_t uuid[16], char *why, size_t whylen)
{
	static const char bad[] = "not a UUID; write 32 hex digits grouped 8-4-4-4-12, like "
				  "8f2c41a0-6d3e-4b1a-9c55-0e8f7b2d1a64";
	uint8_t u[16];
	const char *p = s;
	for (unsigned i = 0; i < 16; i++) {
		if (i == 4 || i == 6 || i == 8 || i == 10) {
			if (*p != '-')
				return fail(why, whylen, bad);
			p++;
		}
		int hi = p[0] ? hex_digit_value(p[0]) : -1;
		int lo = hi >= 0 ? hex_digit_value(p[1]) : -1;
		if (lo < 0)
			return fail(why, whylen, bad);
		u[i] = (uint8_t)(hi << 4 | lo);
		p += 2;
	}
	if (*p)
		return fail(why, whylen, bad);
	memcpy(uuid, u, 16);
	return 0;
}

int vmconfig_check_name(const char *s, char *why, size_t whylen)
{
	static const char bad[] = "not a name; use 1 to 63 letters, digits, '.', '_' and '-', "
				  "starting with a letter or a digit";
	size_t len = strlen(s);

	if (len == 0 || len > 63 || !is_alnum(s[0]))
		return fail(why, whylen, bad);
	for (const char *p = s; *p; p++)
		if (!is_alnum(*p) && *p != '.' && *p != '_' && *p != '-')
			return fail(why, whylen, bad);
	return 0;
}

static int parse_port(const char *p, unsigned *port, char *why, size_t whylen)
{
	uint64_t v;

	if (vmconfig_parse_uint(p, 1, 65535, &v, NULL, 0))
		return fail(why, whylen,
			    "not a TCP port; write HOST:PORT with a port from 1 to 65535");
	*port = (unsigned)v;
	return 0;
}

int vmconfig_parse_vnc(const char *s, struct vmconfig_vnc *out, char *why, size_t whylen)
{
	struct vmconfig_vnc v = {0};
	const char *colon, *host = s, *host_end;
	size_t len = strlen(s);

	if (strcasecmp(s, "none") == 0) {
		v.kind = VMCONFIG_VNC_NONE;
	} else if (strcasecmp(s, "auto") == 0) {
		v.kind = VMCONFIG_VNC_AUTO;
	} else if (s[0] == '/') {
		if (len > VMCONFIG_SOCKET_PATH_MAX) {
			if (why && whylen)
				snprintf(why, whylen,
					 "the socket path is too long (%zu bytes; at most %d)", len,
					 VMCONFIG_SOCKET_PATH_MAX);
			return -EINVAL;
		}
		v.kind = VMCONFIG_VNC_UNIX;
		memcpy(v.path, s, len + 1);
	} else if (s[0] == '[') {
		host = s + 1;
		host_end = strchr(host, ']');
		if (!host_end || host_end == host || host_end[1] != ':' ||
		    (size_t)(host_end - host) >= sizeof(v.host))
			return fail(why, whylen,
				    "not an address; write an IPv6 address and port as [::1]:5900");
		for (const char *p = host; p < host_end; p++)
			if (hex_digit_value(*p) < 0 && *p != ':' && *p != '.')
				return fail(why, whylen,
					    "not an IPv6 address; write it as [::1]:5900");
		if (parse_port(host_end + 2, &v.port, why, whylen))
			return -EINVAL;
		v.kind = VMCONFIG_VNC_TCP;
		memcpy(v.host, host, (size_t)(host_end - host));
	} else {
		colon = strrchr(s, ':');
		if (!colon) {
			if (strchr(s, '/'))
				return fail(
				    why, whylen,
				    "a Unix socket path must be absolute; start it with '/'");
			return fail(
			    why, whylen,
			    "not auto, none, HOST:PORT or an absolute socket path; write e.g. "
			    "127.0.0.1:5900");
		}
		if (colon == s)
			return fail(why, whylen,
				    "no host before the port; write e.g. 127.0.0.1:5900");
		if (memchr(s, ':', (size_t)(colon - s)))
			return fail(why, whylen, "an IPv6 address goes in brackets: [::1]:5900");
		if ((size_t)(colon - s) >= sizeof(v.host))
			return fail(why, whylen, "the host name is too long");
		for (const char *p = s; p < colon; p++)
			if (!is_alnum(*p) && *p != '.' && *p != '-')
				return fail(why, whylen,
					    "not a host name or address; write e.g. "
					    "127.0.0.1:5900 or localhost:5900");
		if (parse_port(colon + 1, &v.port, why, whylen))
			return -EINVAL;
		v.kind = VMCONFIG_VNC_TCP;
		memcpy(v.host, s, (size_t)(colon - s));
	}
	if (out)
		*out = v;
	return 0;
}

const char *const vc_boot_devices[] = {
    [BOOT_DVD] = "dvd",
    [BOOT_DISK] = "disk",
    [BOOT_NETWORK] = "network",
    NULL,
};

static bool is_space(char c)
{
	return c == ' ' || c == '\t';
}

/* why = "'ENTRY' REST", the entry shortened for a message. */
static int fail_entry(char *why, size_t whylen, const char *entry, size_t len, const char *rest)
{
	char word[128], ex[96];

	if (!why || !whylen)
		return -EINVAL;
	snprintf(word, sizeof(word), "%.*s", (int)(len < 100 ? len : 100), entry);
	vc_value_excerpt(word, ex, sizeof(ex));
	snprintf(why, whylen, "'%s' %s", ex, rest);
	return -EINVAL;
}

/* Index of the choice that entry (len bytes) names, any case, or -1. */
static int find_choice(const char *const *choices, size_t nch, const char *entry, size_t len)
{
	for (size_t i = 0; i < nch; i++)
		if (strlen(choices[i]) == len && strncasecmp(choices[i], entry, len) == 0)
			return (int)i;
	return -1;
}

int vc_parse_list(const char *s, const char *const *choices, int *idx, unsigned *n, size_t *at,
		  char *why, size_t whylen)
{
	char list[128] = "", example[64], lower[65], rest[256];
	size_t nch = 0, o = 0;
	unsigned count = 0;
	const char *p = s;

	while (choices[nch] && nch < VC_LIST_MAX)
		nch++;
	for (size_t i = 0; i < nch && o < sizeof(list); i++)
		o += snprintf(list + o, sizeof(list) - o, "%s%s", i ? ", " : "", choices[i]);
	snprintf(example, sizeof(example), "%s%s%s", choices[0], nch > 1 ? ", " : "",
		 nch > 1 ? choices[1] : "");
	for (;;) {
		const char *w, *end, *hint = NULL;
		size_t len;
		int found;

		while (is_space(*p))
			p++;
		w = p;
		while (*p && *p != ',')
			p++;
		end = p;
		while (end > w && is_space(end[-1]))
			end--;
		len = (size_t)(end - w);
		if (at)
			*at = (size_t)(w - s);
		if (len == 0) {
			snprintf(rest, sizeof(rest),
				 "an empty entry; write the entries separated by commas, e.g. %s",
				 example);
			return fail(why, whylen, rest);
		}
		for (const char *q = w; q < end; q++) {
			if (is_space(*q)) {
				snprintf(rest, sizeof(rest),
					 "is not one entry; separate the entries with commas, "
					 "e.g. %s",
					 example);
				return fail_entry(why, whylen, w, len, rest);
			}
		}
		found = find_choice(choices, nch, w, len);
		if (found < 0) {
			if (len < sizeof(lower)) {
				for (size_t i = 0; i < len; i++)
					lower[i] = (char)tolower((unsigned char)w[i]);
				lower[len] = '\0';
				hint = vc_suggest(lower, choices, nch);
			}
			if (hint)
				snprintf(rest, sizeof(rest), "is not one of %s; did you mean '%s'?",
					 list, hint);
			else
				snprintf(rest, sizeof(rest), "is not one of %s; list only those",
					 list);
			return fail_entry(why, whylen, w, len, rest);
		}
		for (unsigned i = 0; i < count; i++)
			if (idx[i] == found)
				return fail_entry(why, whylen, w, len,
						  "is listed twice; list each one once");
		idx[count++] = found;
		if (*p != ',')
			break;
		p++;
	}
	*n = count;
	return 0;
}

int vmconfig_parse_boot_order(const char *s, enum boot_device order[VM_BOOT_DEVICES], unsigned *n,
			      char *why, size_t whylen)
{
	int idx[VC_LIST_MAX];
	unsigned count;
	size_t at;

	if (!s[0])
		return fail(why, whylen,
			    "an empty list; write the devices to boot from, e.g. dvd, disk");
	if (vc_parse_list(s, vc_boot_devices, idx, &count, &at, why, whylen))
		return -EINVAL;
	/* Distinct choices: count is at most VM_BOOT_DEVICES. */
	for (unsigned i = 0; i < count; i++)
		order[i] = (enum boot_device)idx[i];
	*n = count;
	return 0;
}
