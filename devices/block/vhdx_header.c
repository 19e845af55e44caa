/* VHDX header structures ([MS-VHDX] v1.0 sections 2.2.1-2.2.3): CRC-32C,
 * GUIDs, the file identifier's two headers and the two region tables, each
 * read from a possibly hostile file and checked before anything trusts it. */
#include "devices/block/vhdx_int.h"
#include "hypervisor/bytes.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <unistd.h>

/* --- CRC-32C (Castagnoli, reflected 0x82f63b78) ------------------------------ */

static uint32_t crc_table[256];
static pthread_once_t crc_once = PTHREAD_ONCE_INIT;

static void crc_init(void)
{
	for (uint32_t i = 0; i < 256; i++) {
		uint32_t c = i;
		for (int k = 0; k < 8; k++)
			c = c & 1 ? (c >> 1) ^ 0x82f63b78u : c >> 1;
		crc_table[i] = c;
	}
}

uint32_t vhdx_crc32c(uint32_t crc, const void *buf, size_t len)
{
	pthread_once(&crc_once, crc_init);
	const uint8_t *p = buf;
	crc = ~crc;
	while (len--)
		crc = crc_table[(crc ^ *p++) & 0xff] ^ (crc >> 8);
	return ~crc;
}

uint32_t vhdx_crc_with_hole(const uint8_t *buf, size_t len, size_t csum_off)
{
	static const uint8_t zero[4];
	uint32_t c = vhdx_crc32c(0, buf, csum_off);
	c = vhdx_crc32c(c, zero, 4);
	return vhdx_crc32c(c, buf + csum_off + 4, len - csum_off - 4);
}

/* --- GUIDs ------------------------------------------------------------------- */

#define GUID(d1, d2, d3, a, b, c, d, e, f, g, h)                                                   \
	{                                                                                          \
		{                                                                                  \
			(d1) & 0xff, (d1) >> 8 & 0xff, (d1) >> 16 & 0xff, (d1) >> 24 & 0xff,       \
			    (d2)&0xff, (d2) >> 8 & 0xff, (d3)&0xff, (d3) >> 8 & 0xff, a, b, c, d,  \
			    e, f, g, h                                                             \
		}                                                                                  \
	}

const struct vhdx_guid vhdx_bat_guid =
    GUID(0x2dc27766u, 0xf623u, 0x4200u, 0x9d, 0x64, 0x11, 0x5e, 0x9b, 0xfd, 0x4a, 0x08);
const struct vhdx_guid vhdx_meta_guid =
    GUID(0x8b7ca206u, 0x4790u, 0x4b9au, 0xb8, 0xfe, 0x57, 0x5f, 0x05, 0x0f, 0x88, 0x6e);
const struct vhdx_guid vhdx_file_params_guid =
    GUID(0xcaa16737u, 0xfa36u, 0x4d43u, 0xb3, 0xb6, 0x33, 0xf0, 0xaa, 0x44, 0xe7, 0x6b);
const struct vhdx_guid vhdx_disk_size_guid =
    GUID(0x2fa54224u, 0xcd1bu, 0x4876u, 0xb2, 0x11, 0x5d, 0xbe, 0xd8, 0x3b, 0xf4, 0xb8);
const struct vhdx_guid vhdx_page83_guid =
    GUID(0xbeca12abu, 0xb2e6u, 0x4523u, 0x93, 0xef, 0xc3, 0x09, 0xe0, 0x00, 0xc7, 0x46);
const struct vhdx_guid vhdx_logical_guid =
    GUID(0x8141bf1du, 0xa96fu, 0x4709u, 0xba, 0x47, 0xf2, 0x33, 0xa8, 0xfa, 0xab, 0x5f);
const struct vhdx_guid vhdx_physical_guid =
    GUID(0xcda348c7u, 0x445du, 0x4471u, 0x9c, 0xc9, 0xe9, 0x88, 0x52, 0x51, 0xc5, 0x56);
const struct vhdx_guid vhdx_parent_locator_guid =
    GUID(0xa8d35f2du, 0xb30bu, 0x454du, 0xab, 0xf7, 0xd3, 0xd8, 0x48, 0x34, 0xab, 0x0c);
const struct vhdx_guid vhdx_locator_type_guid =
    GUID(0xb04aefb7u, 0xd19eu, 0x4a81u, 0xb7, 0x89, 0x25, 0xb8, 0xe9, 0x44, 0x59, 0x13);

void vhdx_guid_random(struct vhdx_guid *g)
{
	size_t got = 0;
	while (got < sizeof(g->b)) {
		ssize_t n = getrandom(g->b + got, sizeof(g->b) - got, 0);
		if (n <= 0) {
			/* No entropy source: time and address bits still differ. */
			uint64_t x = (uint64_t)(uintptr_t)g ^ (uint64_t)getpid() << 32;
			for (size_t i = got; i < sizeof(g->b);
			     i++, x = x * 6364136223846793005ull + 1)
				g->b[i] = (uint8_t)(x >> 56);
			break;
		}
		got += (size_t)n;
	}
	g->b[7] = (uint8_t)((g->b[7] & 0x0f) | 0x40); /* version 4 (Data3's high nibble) */
	g->b[8] = (uint8_t)((g->b[8] & 0x3f) | 0x80); /* the RFC 4122 variant */
}

bool vhdx_guid_is_zero(const struct vhdx_guid *g)
{
	for (size_t i = 0; i < sizeof(g->b); i++)
		if (g->b[i])
			return false;
	return true;
}

bool vhdx_guid_eq(const struct vhdx_guid *a, const struct vhdx_guid *b)
{
	return memcmp(a->b, b->b, sizeof(a->b)) == 0;
}

void vhdx_guid_format(const struct vhdx_guid *g, char out[39])
{
	const uint8_t *b = g->b;
	snprintf(out, 39, "{%08X-%04X-%04X-%02X%02X-%02X%02X%02X%02X%02X%02X}", vhdx_le32(b),
		 vhdx_le16(b + 4), vhdx_le16(b + 6), b[8], b[9], b[10], b[11], b[12], b[13], b[14],
		 b[15]);
}

bool vhdx_guid_parse(const char *s, struct vhdx_guid *g)
{
	/* Hex digits in text order, braces optional. */
	uint8_t t[16];
	unsigned n = 0;
	size_t len = strlen(s);
	if (len == 38 && s[0] == '{' && s[37] == '}') {
		s++;
		len -= 2;
	}
	if (len != 36)
		return false;
	for (size_t i = 0; i < 36; i++) {
		if (i == 8 || i == 13 || i == 18 || i == 23) {
			if (s[i] != '-')
				return false;
			continue;
		}
		int hi = hex_digit_value(s[i]), lo = hex_digit_value(s[i + 1]);
		if (hi < 0 || lo < 0)
			return false;
		t[n++] = (uint8_t)(hi << 4 | lo);
		i++;
	}
	/* Data1-3 are stored little-endian. */
	static const uint8_t order[16] = {3, 2, 1, 0, 5, 4, 7, 6, 8, 9, 10, 11, 12, 13, 14, 15};
	for (unsigned i = 0; i < 16; i++)
		g->b[i] = t[order[i]];
	return true;
}

/* --- headers ----------------------------------------------------------------- */

void vhdx_header_encode(const struct vhdx_header *h, uint8_t out[VHDX_HEADER_SIZE])
{
	memset(out, 0, VHDX_HEADER_SIZE);
	memcpy(out, "head", 4);
	vhdx_put64(out + 8, h->seq);
	memcpy(out + 16, h->file_write.b, 16);
	memcpy(out + 32, h->data_write.b, 16);
	memcpy(out + 48, h->log.b, 16);
	vhdx_put16(out + 64, h->log_version);
	vhdx_put16(out + 66, h->version);
	vhdx_put32(out + 68, h->log_length);
	vhdx_put64(out + 72, h->log_offset);
	vhdx_put32(out + 4, vhdx_crc_with_hole(out, VHDX_HEADER_SIZE, 4));
}

int vhdx_header_decode(const uint8_t buf[VHDX_HEADER_SIZE], struct vhdx_header *h)
{
	if (memcmp(buf, "head", 4) != 0)
		return -EINVAL;
	if (vhdx_le32(buf + 4) != vhdx_crc_with_hole(buf, VHDX_HEADER_SIZE, 4))
		return -EINVAL;
	h->seq = vhdx_le64(buf + 8);
	memcpy(h->file_write.b, buf + 16, 16);
	memcpy(h->data_write.b, buf + 32, 16);
	memcpy(h->log.b, buf + 48, 16);
	h->log_version = vhdx_le16(buf + 64);
	h->version = vhdx_le16(buf + 66);
	h->log_length = vhdx_le32(buf + 68);
	h->log_offset = vhdx_le64(buf + 72);
	return 0;
}

/* Whether [a, a + alen) and [b, b + blen) overlap. */
static bool overlaps(uint64_t a, uint64_t alen, uint64_t b, uint64_t blen)
{
	return a < b + blen && b < a + alen;
}

int vhdx_read_headers(struct vhdx *v, uint64_t file_size, char *err, size_t errlen)
{
	if (file_size < VHDX_SECTION_END) {
		snprintf(err, errlen,
			 "%s: %llu bytes is too short for a VHDX image (the header section alone "
			 "is 1 MiB; truncated image?)",
			 v->path, (unsigned long long)file_size);
		return -EINVAL;
	}
	uint8_t *buf = malloc(VHDX_HEADER_SIZE);
	if (!buf)
		return -ENOMEM;
	struct vhdx_header h[2];
	bool ok[2];
	int r = 0;
	for (unsigned i = 0; i < 2; i++) {
		r = block_file_pread(v->fd, buf, VHDX_HEADER_SIZE,
				     i ? VHDX_HEADER2_OFF : VHDX_HEADER1_OFF);
		if (r < 0) {
			snprintf(err, errlen, "%s: cannot read the VHDX headers: %s", v->path,
				 strerror(-r));
			goto out;
		}
		ok[i] = vhdx_header_decode(buf, &h[i]) == 0;
	}
	if (!ok[0] && !ok[1]) {
		snprintf(err, errlen,
			 "%s: both VHDX headers are damaged (bad signature or checksum); the "
			 "image cannot be opened",
			 v->path);
		r = -EINVAL;
		goto out;
	}
	v->cur = ok[0] && ok[1] ? (h[1].seq > h[0].seq ? 1 : 0) : ok[1] ? 1 : 0;
	v->hdr = h[v->cur];
	const struct vhdx_header *c = &v->hdr;
	r = -EINVAL;
	if (c->version != 1) {
		snprintf(err, errlen, "%s: VHDX version %u is not supported (only version 1 is)",
			 v->path, c->version);
		goto out;
	}
	if (c->log_version != 0) {
		snprintf(err, errlen, "%s: VHDX log version %u is not supported (only 0 is)",
			 v->path, c->log_version);
		goto out;
	}
	if (c->log_length % VHDX_MiB || c->log_offset % VHDX_MiB ||
	    (c->log_length && c->log_offset < VHDX_SECTION_END)) {
		snprintf(err, errlen,
			 "%s: the VHDX log (offset 0x%llx, length 0x%x) is not aligned to 1 MiB "
			 "or lies in the header section",
			 v->path, (unsigned long long)c->log_offset, c->log_length);
		goto out;
	}
	if (c->log_length &&
	    (c->log_offset > file_size || c->log_length > file_size - c->log_offset)) {
		snprintf(err, errlen,
			 "%s: the VHDX log (offset 0x%llx) lies past the end of the file "
			 "(truncated image?)",
			 v->path, (unsigned long long)c->log_offset);
		goto out;
	}
	r = 0;
out:
	free(buf);
	return r;
}

int vhdx_write_header(struct vhdx *v, const struct vhdx_header *h)
{
	uint8_t *buf = malloc(VHDX_HEADER_SIZE);
	if (!buf)
		return -ENOMEM;
	struct vhdx_header n = *h;
	int r = 0;
	/* The other slot first: until it is on disk, the current one stands. */
	for (unsigned k = 0; k < 2; k++) {
		unsigned slot = k == 0 ? 1 - v->cur : v->cur;
		n.seq = v->hdr.seq + 1 + k;
		vhdx_header_encode(&n, buf);
		r = block_file_pwrite(v->fd, buf, VHDX_HEADER_SIZE,
				      slot ? VHDX_HEADER2_OFF : VHDX_HEADER1_OFF);
		if (r == 0 && fdatasync(v->fd) < 0)
			r = -errno;
		if (r < 0)
			break;
		v->hdr = n;
		v->cur = slot;
	}
	free(buf);
	return r;
}

/* --- region tables ----------------------------------------------------------- */

void vhdx_region_encode(uint8_t out[VHDX_REGION_SIZE], uint64_t bat_off, uint32_t bat_len,
			uint64_t meta_off, uint32_t meta_len)
{
	memset(out, 0, VHDX_REGION_SIZE);
	memcpy(out, "regi", 4);
	vhdx_put32(out + 8, 2);
	uint8_t *e = out + 16;
	memcpy(e, vhdx_bat_guid.b, 16);
	vhdx_put64(e + 16, bat_off);
	vhdx_put32(e + 24, bat_len);
	vhdx_put32(e + 28, 1); /* required */
	e += 32;
	memcpy(e, vhdx_meta_guid.b, 16);
	vhdx_put64(e + 16, meta_off);
	vhdx_put32(e + 24, meta_len);
	vhdx_put32(e + 28, 1);
	vhdx_put32(out + 4, vhdx_crc_with_hole(out, VHDX_REGION_SIZE, 4));
}

/* Parses one region table copy: 0, or -EINVAL with why in err. */
static int parse_regions(struct vhdx *v, const uint8_t *t, uint64_t file_size, char *err,
			 size_t errlen)
{
	if (memcmp(t, "regi", 4) != 0 ||
	    vhdx_le32(t + 4) != vhdx_crc_with_hole(t, VHDX_REGION_SIZE, 4)) {
		snprintf(err, errlen, "bad signature or checksum");
		return -EINVAL;
	}
	uint32_t n = vhdx_le32(t + 8);
	if (n > VHDX_REGION_MAX) {
		snprintf(err, errlen, "%u entries (at most %u allowed)", n, VHDX_REGION_MAX);
		return -EINVAL;
	}
	bool bat = false, meta = false;
	for (uint32_t i = 0; i < n; i++) {
		const uint8_t *e = t + 16 + 32 * i;
		struct vhdx_guid g;
		memcpy(g.b, e, 16);
		uint64_t off = vhdx_le64(e + 16);
		uint32_t len = vhdx_le32(e + 24);
		bool required = vhdx_le32(e + 28) & 1;
		bool is_bat = vhdx_guid_eq(&g, &vhdx_bat_guid);
		bool is_meta = vhdx_guid_eq(&g, &vhdx_meta_guid);
		const char *what = is_bat ? "BAT" : is_meta ? "metadata" : "unknown";
		if (!is_bat && !is_meta) {
			if (required) {
				char s[39];
				vhdx_guid_format(&g, s);
				snprintf(err, errlen,
					 "a required region %s that osio does not know (made by a "
					 "newer Hyper-V?)",
					 s);
				return -ENOTSUP;
			}
			continue;
		}
		if ((is_bat && bat) || (is_meta && meta)) {
			snprintf(err, errlen, "two %s regions", what);
			return -EINVAL;
		}
		if (off % VHDX_MiB || len % VHDX_MiB || !len || off < VHDX_SECTION_END) {
			snprintf(err, errlen,
				 "the %s region (offset 0x%llx, length 0x%x) is not 1 MiB aligned "
				 "or lies in the header section",
				 what, (unsigned long long)off, len);
			return -EINVAL;
		}
		if (off > file_size || len > file_size - off) {
			snprintf(err, errlen,
				 "the %s region (offset 0x%llx) lies past the end of the file "
				 "(truncated image?)",
				 what, (unsigned long long)off);
			return -EINVAL;
		}
		if (v->hdr.log_length && overlaps(off, len, v->hdr.log_offset, v->hdr.log_length)) {
			snprintf(err, errlen, "the %s region (offset 0x%llx) overlaps the log",
				 what, (unsigned long long)off);
			return -EINVAL;
		}
		if (is_bat) {
			bat = true;
			v->bat_off = off;
			v->bat_len = len;
		} else {
			meta = true;
			v->meta_off = off;
			v->meta_len = len;
		}
	}
	if (!bat || !meta) {
		snprintf(err, errlen, "no %s region", bat ? "metadata" : "BAT");
		return -EINVAL;
	}
	if (overlaps(v->bat_off, v->bat_len, v->meta_off, v->meta_len)) {
		snprintf(err, errlen, "the BAT and metadata regions overlap");
		return -EINVAL;
	}
	return 0;
}

int vhdx_read_regions(struct vhdx *v, uint64_t file_size, char *err, size_t errlen)
{
	uint8_t *t = malloc(VHDX_REGION_SIZE);
	if (!t)
		return -ENOMEM;
	char why[2][200];
	int r = -EINVAL;
	for (unsigned i = 0; i < 2; i++) {
		int rr = block_file_pread(v->fd, t, VHDX_REGION_SIZE,
					  i ? VHDX_REGION2_OFF : VHDX_REGION1_OFF);
		if (rr < 0) {
			snprintf(why[i], sizeof(why[i]), "cannot read it: %s", strerror(-rr));
			continue;
		}
		rr = parse_regions(v, t, file_size, why[i], sizeof(why[i]));
		if (rr == 0 && i == 1 && !v->bd->readonly) {
			/* The first copy is damaged: the second makes it whole again
			 * (readers such as QEMU look at the first only). */
			rr = block_file_pwrite(v->fd, t, VHDX_REGION_SIZE, VHDX_REGION1_OFF);
			if (rr == 0 && fdatasync(v->fd) < 0)
				rr = -errno;
			if (rr < 0) {
				snprintf(err, errlen, "%s: cannot repair the VHDX region table: %s",
					 v->path, strerror(-rr));
				r = rr;
				goto out;
			}
		}
		if (rr == 0) {
			r = 0;
			break;
		}
		if (rr == -ENOTSUP) {
			snprintf(err, errlen, "%s: the VHDX region table lists %s", v->path,
				 why[i]);
			r = rr;
			goto out;
		}
	}
	if (r < 0)
		snprintf(err, errlen, "%s: both VHDX region tables are unusable: %s", v->path,
			 why[0]);
out:
	free(t);
	return r;
}
