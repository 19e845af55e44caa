/* Test support for the ACPI tests: a reader of AML that lists a definition
 * block's named objects (names, devices, methods, operation regions, field
 * units) by absolute path, and a reader of resource templates. It accepts
 * at the level of scopes and devices only the declarations SeaBIOS's DSDT
 * parser also accepts. */
#ifndef OSIO_TEST_ACPI_AML_H
#define OSIO_TEST_ACPI_AML_H

#include "hypervisor/boot/acpi.h"
#include "hypervisor/bytes.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* --- the AML reader ----------------------------------------------------------- */

enum ns_kind { NS_NAME, NS_DEVICE, NS_METHOD, NS_REGION, NS_FIELD };

struct ns_obj {
	char path[128]; /* "\\_SB_.PCI0._HID": 4-character segments */
	enum ns_kind kind;
	const uint8_t *val; /* Name: the data object; Method: the body */
	size_t len;
	uint8_t flags;	 /* Method: MethodFlags; Region: the space */
	uint64_t a, b;	 /* Region: offset, length; Field unit: bit offset, width */
	char region[96]; /* Field unit: its region */
};

struct ns {
	struct ns_obj o[8192];
	unsigned n;
};

static inline uint32_t aml_pkglength(const uint8_t **pp, const uint8_t *end)
{
	const uint8_t *p = *pp;
	assert_true(p < end);
	unsigned extra = p[0] >> 6;
	uint32_t v = extra ? p[0] & 0x0f : p[0] & 0x3f;
	assert_true(p + 1 + extra <= end);
	for (unsigned i = 0; i < extra; i++)
		v |= (uint32_t)p[1 + i] << (4 + 8 * i);
	*pp = p + 1 + extra;
	return v;
}

/* A term with a PkgLength: returns its end. */
static inline const uint8_t *aml_term_end(const uint8_t **pp, const uint8_t *end)
{
	const uint8_t *start = *pp;
	uint32_t len = aml_pkglength(pp, end);
	assert_true(len <= (size_t)(end - start));
	return start + len;
}

static inline bool aml_read_int(const uint8_t **pp, const uint8_t *end, uint64_t *v)
{
	const uint8_t *p = *pp;
	unsigned size;
	if (p >= end)
		return false;
	switch (p[0]) {
	case 0x00:
	case 0x01:
		*v = p[0];
		*pp = p + 1;
		return true;
	case 0xff:
		*v = UINT64_MAX;
		*pp = p + 1;
		return true;
	case 0x0a:
		size = 1;
		break;
	case 0x0b:
		size = 2;
		break;
	case 0x0c:
		size = 4;
		break;
	case 0x0e:
		size = 8;
		break;
	default:
		return false;
	}
	assert_true(p + 1 + size <= end);
	*v = get_le(p + 1, size);
	*pp = p + 1 + size;
	return true;
}

static inline void aml_check_seg(const uint8_t *seg)
{
	for (int i = 0; i < 4; i++) {
		bool ok = (seg[i] >= 'A' && seg[i] <= 'Z') || seg[i] == '_' ||
			  (i && seg[i] >= '0' && seg[i] <= '9');
		if (!ok)
			fail_msg("bad NameSeg character 0x%02x", seg[i]);
	}
}

/* A NameString as ASL writes it: prefixes, then segments joined by '.'. */
static inline void aml_read_name(const uint8_t **pp, const uint8_t *end, char *out, size_t size)
{
	const uint8_t *p = *pp;
	size_t n = 0;
	assert_true(p < end);
	if (*p == '\\') {
		out[n++] = '\\';
		p++;
	} else {
		while (p < end && *p == '^') {
			assert_true(n + 1 < size);
			out[n++] = '^';
			p++;
		}
	}
	assert_true(p < end);
	unsigned count = 1;
	if (*p == 0x00) {
		count = 0;
		p++;
	} else if (*p == 0x2e) {
		count = 2;
		p++;
	} else if (*p == 0x2f) {
		assert_true(p + 1 < end);
		count = p[1];
		assert_true(count >= 1);
		p += 2;
	}
	for (unsigned i = 0; i < count; i++) {
		assert_true(p + 4 <= end);
		aml_check_seg(p);
		assert_true(n + 6 < size);
		if (i)
			out[n++] = '.';
		memcpy(out + n, p, 4);
		n += 4;
		p += 4;
	}
	out[n] = 0;
	*pp = p;
}

/* The absolute path of a name declared (or referred to, without search)
 * in scope: "\\X" as is, "^" goes up, else relative to the scope. */
static inline void aml_resolve(const char *scope, const char *name, char *out, size_t size)
{
	const char *from = name[0] == '\\' ? name : scope;
	size_t n = strlen(from);
	assert_true(n < size);
	memmove(out, from, n + 1);
	if (name[0] == '\\')
		return;
	while (*name == '^') {
		char *dot = strrchr(out, '.');
		if (dot)
			*dot = 0;
		else
			out[1] = 0; /* up to the root */
		name++;
	}
	if (*name) {
		n = strlen(out);
		size_t k = strlen(name);
		bool dot = out[n - 1] != '\\';
		assert_true(n + dot + k < size);
		if (dot)
			out[n++] = '.';
		memcpy(out + n, name, k + 1);
	}
}

static inline struct ns_obj *ns_add(struct ns *ns, const char *scope, const char *name,
				    enum ns_kind kind)
{
	assert_true(ns->n < sizeof(ns->o) / sizeof(ns->o[0]));
	struct ns_obj *o = &ns->o[ns->n++];
	memset(o, 0, sizeof(*o));
	aml_resolve(scope, name, o->path, sizeof(o->path));
	for (unsigned i = 0; i + 1 < ns->n; i++)
		if (strcmp(ns->o[i].path, o->path) == 0)
			fail_msg("%s declared twice", o->path);
	o->kind = kind;
	return o;
}

static inline const struct ns_obj *ns_find(const struct ns *ns, const char *path)
{
	for (unsigned i = 0; i < ns->n; i++)
		if (strcmp(ns->o[i].path, path) == 0)
			return &ns->o[i];
	return NULL;
}

static inline const struct ns_obj *ns_get(const struct ns *ns, const char *path, enum ns_kind kind)
{
	const struct ns_obj *o = ns_find(ns, path);
	if (!o)
		fail_msg("%s missing from the DSDT", path);
	if (o->kind != kind)
		fail_msg("%s is of kind %d, not %d", path, o->kind, kind);
	return o;
}

/* Skips one data object (what Name may hold, or a package element). */
static inline void aml_skip_data(const uint8_t **pp, const uint8_t *end)
{
	uint64_t v = 0;
	const uint8_t *p = *pp;
	if (aml_read_int(pp, end, &v))
		return;
	assert_true(p < end);
	switch (p[0]) {
	case 0x0d: /* String */
		p++;
		while (p < end && *p)
			p++;
		assert_true(p < end);
		*pp = p + 1;
		return;
	case 0x11: /* Buffer */
	case 0x12: /* Package */
	case 0x13: /* VarPackage */
		p++;
		*pp = aml_term_end(&p, end);
		return;
	}
	fail_msg("unexpected data object 0x%02x", p[0]);
}

static inline void aml_read_terms(struct ns *ns, const char *scope, const uint8_t *p,
				  const uint8_t *end);

static inline void aml_read_field(struct ns *ns, const char *scope, const uint8_t *p,
				  const uint8_t *end)
{
	char region[96], path[96];
	aml_read_name(&p, end, region, sizeof(region));
	/* The region is found by the search rules: scope, then upwards. */
	char at[96];
	snprintf(at, sizeof(at), "%s", scope);
	for (;;) {
		aml_resolve(at, region, path, sizeof(path));
		if (ns_find(ns, path) || strcmp(at, "\\") == 0)
			break;
		char up[96];
		aml_resolve(at, "^", up, sizeof(up));
		memcpy(at, up, sizeof(at));
	}
	ns_get(ns, path, NS_REGION);
	assert_true(p < end);
	p++; /* FieldFlags */
	uint64_t bit = 0;
	while (p < end) {
		if (*p == 0x00) {
			p++;
			bit += aml_pkglength(&p, end);
			continue;
		}
		assert_true(p + 4 <= end);
		aml_check_seg(p);
		char seg[8];
		memcpy(seg, p, 4);
		seg[4] = 0;
		p += 4;
		struct ns_obj *o = ns_add(ns, scope, seg, NS_FIELD);
		snprintf(o->region, sizeof(o->region), "%s", path);
		o->a = bit;
		o->b = aml_pkglength(&p, end);
		bit += o->b;
	}
}

/* The named objects of a TermList, recursively; anything but declarations
 * at this level (what SeaBIOS's DSDT parser also accepts) fails. */
static inline void aml_read_terms(struct ns *ns, const char *scope, const uint8_t *p,
				  const uint8_t *end)
{
	char name[96];
	while (p < end) {
		uint8_t op = *p++;
		struct ns_obj *o;
		const uint8_t *tend;
		switch (op) {
		case 0x08: /* Name */
			aml_read_name(&p, end, name, sizeof(name));
			o = ns_add(ns, scope, name, NS_NAME);
			o->val = p;
			aml_skip_data(&p, end);
			o->len = (size_t)(p - o->val);
			break;
		case 0x10: /* Scope */
			tend = aml_term_end(&p, end);
			aml_read_name(&p, tend, name, sizeof(name));
			char inner[96];
			aml_resolve(scope, name, inner, sizeof(inner));
			aml_read_terms(ns, inner, p, tend);
			p = tend;
			break;
		case 0x14: /* Method */
			tend = aml_term_end(&p, end);
			aml_read_name(&p, tend, name, sizeof(name));
			o = ns_add(ns, scope, name, NS_METHOD);
			assert_true(p < tend);
			o->flags = *p++;
			o->val = p;
			o->len = (size_t)(tend - p);
			p = tend;
			break;
		case 0x5b:
			assert_true(p < end);
			op = *p++;
			if (op == 0x80) { /* OperationRegion */
				aml_read_name(&p, end, name, sizeof(name));
				o = ns_add(ns, scope, name, NS_REGION);
				assert_true(p < end);
				o->flags = *p++;
				assert_true(aml_read_int(&p, end, &o->a));
				assert_true(aml_read_int(&p, end, &o->b));
			} else if (op == 0x81) { /* Field */
				tend = aml_term_end(&p, end);
				aml_read_field(ns, scope, p, tend);
				p = tend;
			} else if (op == 0x82) { /* Device */
				tend = aml_term_end(&p, end);
				aml_read_name(&p, tend, name, sizeof(name));
				o = ns_add(ns, scope, name, NS_DEVICE);
				aml_read_terms(ns, o->path, p, tend);
				p = tend;
			} else {
				fail_msg("unexpected opcode 0x5b 0x%02x in %s", op, scope);
			}
			break;
		default:
			fail_msg("unexpected opcode 0x%02x in %s", op, scope);
		}
	}
	assert_true(p == end);
}

/* Name (path, integer) */
static inline uint64_t ns_int(const struct ns *ns, const char *path)
{
	const struct ns_obj *o = ns_get(ns, path, NS_NAME);
	const uint8_t *p = o->val;
	uint64_t v = 0;
	if (!aml_read_int(&p, o->val + o->len, &v))
		fail_msg("%s is not an integer", path);
	return v;
}

/* Name (path, Buffer/ResourceTemplate): its bytes. */
static inline const uint8_t *ns_buffer(const struct ns *ns, const char *path, size_t *len)
{
	const struct ns_obj *o = ns_get(ns, path, NS_NAME);
	const uint8_t *p = o->val, *end = o->val + o->len;
	if (*p++ != 0x11)
		fail_msg("%s is not a buffer", path);
	end = aml_term_end(&p, end);
	uint64_t size = 0;
	assert_true(aml_read_int(&p, end, &size));
	assert_int_equal(size, (uint64_t)(end - p));
	*len = (size_t)size;
	return p;
}

/* --- resource templates --------------------------------------------------------- */

struct res {
	unsigned n;
	struct {
		uint8_t tag; /* small: 0x04 IRQ, 0x08 IO; large: 0x80 | name */
		const uint8_t *d;
		uint16_t len; /* of the whole descriptor */
	} d[16];
};

/* Splits a template into its descriptors; checks the End Tag and its
 * checksum (0, or the template's bytes summing to zero). */
static inline void res_parse(const uint8_t *p, size_t len, struct res *r)
{
	r->n = 0;
	size_t off = 0;
	for (;;) {
		assert_true(off < len);
		uint8_t b = p[off];
		uint8_t tag;
		size_t dl;
		if (b & 0x80) {
			assert_true(off + 3 <= len);
			tag = b;
			dl = 3 + get_le16(p + off + 1);
		} else {
			tag = (b >> 3) & 0x0f;
			dl = 1 + (b & 7);
		}
		assert_true(off + dl <= len);
		if (tag == 0x0f) { /* End Tag */
			assert_int_equal(dl, 2);
			assert_int_equal(off + 2, len);
			assert_true(p[off + 1] == 0 || acpi_checksum(p, len) == 0);
			return;
		}
		assert_true(r->n < sizeof(r->d) / sizeof(r->d[0]));
		r->d[r->n].tag = tag;
		r->d[r->n].d = p + off;
		r->d[r->n].len = (uint16_t)dl;
		r->n++;
		off += dl;
	}
}

static inline void res_expect_io(const struct res *r, unsigned i, uint16_t base, uint8_t len)
{
	assert_true(i < r->n);
	assert_int_equal(r->d[i].tag, 0x08);
	assert_int_equal(r->d[i].len, 8);
	const uint8_t *d = r->d[i].d;
	assert_int_equal(d[1] & 1, 1); /* 16-bit decode */
	assert_int_equal(get_le16(d + 2), base);
	assert_int_equal(get_le16(d + 4), base);
	assert_int_equal(d[7], len);
}

/* IRQNoFlags: edge, active high, exclusive. */
static inline void res_expect_isa_irq(const struct res *r, unsigned i, unsigned irq)
{
	assert_true(i < r->n);
	assert_int_equal(r->d[i].tag, 0x04);
	const uint8_t *d = r->d[i].d;
	assert_int_equal(get_le16(d + 1), 1u << irq);
	if (r->d[i].len == 4)
		assert_int_equal(d[3], 0x01);
}

/* Interrupt (ResourceConsumer, Level, ActiveHigh, Shared) { irqs } */
static inline void res_expect_link_irqs(const struct res *r, const uint32_t *irqs, unsigned n)
{
	assert_int_equal(r->n, 1);
	assert_int_equal(r->d[0].tag, 0x89);
	const uint8_t *d = r->d[0].d;
	assert_int_equal(d[3], 0x09);
	assert_int_equal(d[4], n);
	assert_int_equal(r->d[0].len, 5 + 4 * n);
	for (unsigned i = 0; i < n; i++)
		assert_int_equal(get_le32(d + 5 + 4 * i), irqs[i]);
}

/* An address space descriptor producing [min, max]: type 0 memory,
 * 1 I/O, 2 bus numbers. */
static inline void res_expect_window(const struct res *r, unsigned i, uint8_t type, uint64_t min,
				     uint64_t max)
{
	assert_true(i < r->n);
	unsigned w = r->d[i].tag == 0x88   ? 2
		     : r->d[i].tag == 0x87 ? 4
		     : r->d[i].tag == 0x8a ? 8
					   : 0;
	assert_int_not_equal(w, 0);
	assert_int_equal(r->d[i].len, 6 + 5 * w);
	const uint8_t *d = r->d[i].d;
	assert_int_equal(d[3], type);
	assert_int_equal(d[4] & 0x01, 0);    /* producer */
	assert_int_equal(d[4] & 0x0c, 0x0c); /* fixed bounds */
	assert_int_equal(get_le(d + 6 + w, w), min);
	assert_int_equal(get_le(d + 6 + 2 * w, w), max);
	assert_int_equal(get_le(d + 6 + 3 * w, w), 0);
	assert_int_equal(get_le(d + 6 + 4 * w, w), max - min + 1);
	if (type == 0)
		assert_int_equal(d[5] & 1, 1); /* read-write */
}

#endif
