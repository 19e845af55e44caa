/* Saved-state sections and fields: the writer and the checking reader
 * (vmstate.h has the layout). */
#include "hypervisor/vmstate.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* --- writing --------------------------------------------------------------- */

void vmstate_out_init(struct vmstate_out *o)
{
	memset(o, 0, sizeof(*o));
	o->section = SIZE_MAX;
}

void vmstate_out_free(struct vmstate_out *o)
{
	free(o->buf);
	vmstate_out_init(o);
}

static bool name_ok(const char *name, size_t len)
{
	if (len == 0 || len > VMSTATE_NAME_MAX)
		return false;
	for (size_t i = 0; i < len; i++)
		if (name[i] < 0x21 || name[i] > 0x7e)
			return false;
	return true;
}

static bool reserve(struct vmstate_out *o, size_t n)
{
	if (o->err)
		return false;
	if (n > SIZE_MAX / 2 - o->len) {
		o->err = -ENOMEM;
		return false;
	}
	if (o->len + n <= o->cap)
		return true;
	size_t cap = o->cap ? o->cap : 4096;
	while (cap < o->len + n)
		cap *= 2;
	uint8_t *b = realloc(o->buf, cap);
	if (!b) {
		o->err = -ENOMEM;
		return false;
	}
	o->buf = b;
	o->cap = cap;
	return true;
}

static void put_le(uint8_t *p, uint64_t v, unsigned bytes)
{
	for (unsigned i = 0; i < bytes; i++)
		p[i] = (uint8_t)(v >> (8 * i));
}

static uint64_t get_le(const uint8_t *p, unsigned bytes)
{
	uint64_t v = 0;
	for (unsigned i = 0; i < bytes; i++)
		v |= (uint64_t)p[i] << (8 * i);
	return v;
}

void vmstate_begin(struct vmstate_out *o, const char *section, uint32_t version)
{
	vmstate_end(o);
	size_t n = strlen(section);
	if (!o->err && !name_ok(section, n))
		o->err = -EINVAL;
	if (!reserve(o, 2 + n + 8))
		return;
	o->section = o->len;
	put_le(o->buf + o->len, n, 2);
	memcpy(o->buf + o->len + 2, section, n);
	put_le(o->buf + o->len + 2 + n, version, 4);
	put_le(o->buf + o->len + 6 + n, 0, 4);
	o->len += 2 + n + 8;
}

void vmstate_end(struct vmstate_out *o)
{
	if (o->section == SIZE_MAX)
		return;
	if (!o->err) {
		size_t n = get_le(o->buf + o->section, 2);
		size_t body = o->section + 2 + n + 8;
		size_t blen = o->len - body;
		if (blen > UINT32_MAX)
			o->err = -ENOMEM;
		else
			put_le(o->buf + o->section + 6 + n, blen, 4);
	}
	o->section = SIZE_MAX;
}

void vmstate_put_bytes(struct vmstate_out *o, const char *field, const void *p, size_t len)
{
	size_t n = strlen(field);
	if (!o->err && (o->section == SIZE_MAX || !name_ok(field, n) || len > UINT32_MAX))
		o->err = -EINVAL;
	if (!reserve(o, 2 + n + 4 + len))
		return;
	uint8_t *d = o->buf + o->len;
	put_le(d, n, 2);
	memcpy(d + 2, field, n);
	put_le(d + 2 + n, len, 4);
	if (len)
		memcpy(d + 6 + n, p, len);
	o->len += 6 + n + len;
}

void vmstate_put_u64(struct vmstate_out *o, const char *field, uint64_t v)
{
	uint8_t b[8];
	put_le(b, v, 8);
	vmstate_put_bytes(o, field, b, 8);
}

void vmstate_put_str(struct vmstate_out *o, const char *field, const char *s)
{
	vmstate_put_bytes(o, field, s, strlen(s));
}

/* --- reading --------------------------------------------------------------- */

struct vmstate_field {
	char name[VMSTATE_NAME_MAX + 1];
	const uint8_t *data;
	size_t len;
};

struct vmstate_section {
	struct vmstate_in *in;
	char name[VMSTATE_NAME_MAX + 1];
	uint32_t version;
	struct vmstate_field *fields;
	unsigned nfields;
};

struct vmstate_in {
	struct vmstate_section *secs;
	unsigned nsecs;
	char err[512];
};

/* A name at buf[*at] (u16 length + bytes) into out; false if it does not
 * fit in [0, end) or is not a valid name. */
static bool read_name(const uint8_t *buf, size_t end, size_t *at, char *out)
{
	if (end - *at < 2)
		return false;
	size_t n = get_le(buf + *at, 2);
	if (end - *at - 2 < n || !name_ok((const char *)buf + *at + 2, n))
		return false;
	memcpy(out, buf + *at + 2, n);
	out[n] = 0;
	*at += 2 + n;
	return true;
}

static int parse_body(struct vmstate_section *s, const uint8_t *buf, size_t at, size_t end,
		      char *err, size_t errlen)
{
	unsigned cap = 0;
	while (at < end) {
		struct vmstate_field f;
		if (!read_name(buf, end, &at, f.name) || end - at < 4) {
			snprintf(err, errlen, "section '%s' is damaged at byte %zu", s->name, at);
			return -EINVAL;
		}
		f.len = get_le(buf + at, 4);
		at += 4;
		if (end - at < f.len) {
			snprintf(err, errlen,
				 "section '%s': field '%s' runs past the section's end", s->name,
				 f.name);
			return -EINVAL;
		}
		f.data = buf + at;
		at += f.len;
		for (unsigned i = 0; i < s->nfields; i++)
			if (strcmp(s->fields[i].name, f.name) == 0) {
				snprintf(err, errlen, "section '%s' has field '%s' twice", s->name,
					 f.name);
				return -EINVAL;
			}
		if (s->nfields == cap) {
			cap = cap ? cap * 2 : 16;
			struct vmstate_field *nf = realloc(s->fields, cap * sizeof(*nf));
			if (!nf)
				return -ENOMEM;
			s->fields = nf;
		}
		s->fields[s->nfields++] = f;
	}
	return 0;
}

int vmstate_in_parse(const void *data, size_t len, struct vmstate_in **out, char *err,
		     size_t errlen)
{
	const uint8_t *buf = data;
	struct vmstate_in *in = calloc(1, sizeof(*in));
	if (!in)
		return -ENOMEM;
	unsigned cap = 0;
	size_t at = 0;
	int r = 0;
	while (at < len) {
		struct vmstate_section s = {.in = in};
		if (!read_name(buf, len, &at, s.name) || len - at < 8) {
			snprintf(err, errlen, "the saved state is damaged at byte %zu", at);
			r = -EINVAL;
			break;
		}
		s.version = (uint32_t)get_le(buf + at, 4);
		size_t blen = get_le(buf + at + 4, 4);
		at += 8;
		if (len - at < blen) {
			snprintf(err, errlen, "section '%s' runs past the saved state's end",
				 s.name);
			r = -EINVAL;
			break;
		}
		if (vmstate_section(in, s.name)) {
			snprintf(err, errlen, "the saved state has section '%s' twice", s.name);
			r = -EINVAL;
			break;
		}
		if (in->nsecs == cap) {
			cap = cap ? cap * 2 : 16;
			struct vmstate_section *ns = realloc(in->secs, cap * sizeof(*ns));
			if (!ns) {
				r = -ENOMEM;
				break;
			}
			in->secs = ns;
		}
		/* Counted before its body is read, so that a failure frees it. */
		in->secs[in->nsecs++] = s;
		r = parse_body(&in->secs[in->nsecs - 1], buf, at, at + blen, err, errlen);
		if (r < 0)
			break;
		at += blen;
	}
	if (r < 0) {
		if (r == -ENOMEM)
			snprintf(err, errlen, "out of memory reading the saved state");
		vmstate_in_free(in);
		return r;
	}
	/* Sections point back at the reader for errors. */
	for (unsigned i = 0; i < in->nsecs; i++)
		in->secs[i].in = in;
	*out = in;
	return 0;
}

void vmstate_in_free(struct vmstate_in *in)
{
	if (!in)
		return;
	for (unsigned i = 0; i < in->nsecs; i++)
		free(in->secs[i].fields);
	free(in->secs);
	free(in);
}

struct vmstate_section *vmstate_section(struct vmstate_in *in, const char *name)
{
	for (unsigned i = 0; i < in->nsecs; i++)
		if (strcmp(in->secs[i].name, name) == 0)
			return &in->secs[i];
	return NULL;
}

unsigned vmstate_sections(const struct vmstate_in *in)
{
	return in->nsecs;
}

struct vmstate_section *vmstate_section_at(struct vmstate_in *in, unsigned i)
{
	return i < in->nsecs ? &in->secs[i] : NULL;
}

const char *vmstate_section_name(const struct vmstate_section *s)
{
	return s->name;
}

uint32_t vmstate_section_version(const struct vmstate_section *s)
{
	return s->version;
}

static const struct vmstate_field *find(const struct vmstate_section *s, const char *field)
{
	for (unsigned i = 0; i < s->nfields; i++)
		if (strcmp(s->fields[i].name, field) == 0)
			return &s->fields[i];
	return NULL;
}

bool vmstate_has(const struct vmstate_section *s, const char *field)
{
	return find(s, field) != NULL;
}

int vmstate_fail(struct vmstate_section *s, const char *fmt, ...)
{
	struct vmstate_in *in = s->in;
	if (!in->err[0]) {
		int n = snprintf(in->err, sizeof(in->err), "section '%s': ", s->name);
		va_list ap;
		va_start(ap, fmt);
		if (n > 0 && (size_t)n < sizeof(in->err))
			vsnprintf(in->err + n, sizeof(in->err) - (size_t)n, fmt, ap);
		va_end(ap);
	}
	return -EINVAL;
}

const char *vmstate_error(const struct vmstate_in *in)
{
	return in->err;
}

static const struct vmstate_field *need(struct vmstate_section *s, const char *field)
{
	const struct vmstate_field *f = find(s, field);
	if (!f)
		vmstate_fail(s, "field '%s' is missing", field);
	return f;
}

int vmstate_get_u64(struct vmstate_section *s, const char *field, uint64_t max, uint64_t *out)
{
	const struct vmstate_field *f = need(s, field);
	if (!f)
		return -EINVAL;
	if (f->len != 8)
		return vmstate_fail(s, "field '%s' has %zu bytes, not a number's 8", field, f->len);
	uint64_t v = get_le(f->data, 8);
	if (v > max)
		return vmstate_fail(s, "field '%s' is %llu, above its largest value %llu", field,
				    (unsigned long long)v, (unsigned long long)max);
	*out = v;
	return 0;
}

int vmstate_get_u32(struct vmstate_section *s, const char *field, uint32_t max, uint32_t *out)
{
	uint64_t v;
	int r = vmstate_get_u64(s, field, max, &v);
	if (r == 0)
		*out = (uint32_t)v;
	return r;
}

int vmstate_get_u16(struct vmstate_section *s, const char *field, uint16_t max, uint16_t *out)
{
	uint64_t v;
	int r = vmstate_get_u64(s, field, max, &v);
	if (r == 0)
		*out = (uint16_t)v;
	return r;
}

int vmstate_get_u8(struct vmstate_section *s, const char *field, uint8_t max, uint8_t *out)
{
	uint64_t v;
	int r = vmstate_get_u64(s, field, max, &v);
	if (r == 0)
		*out = (uint8_t)v;
	return r;
}

int vmstate_get_bool(struct vmstate_section *s, const char *field, bool *out)
{
	uint64_t v;
	int r = vmstate_get_u64(s, field, 1, &v);
	if (r == 0)
		*out = v != 0;
	return r;
}

int vmstate_get_bytes(struct vmstate_section *s, const char *field, void *out, size_t len)
{
	const struct vmstate_field *f = need(s, field);
	if (!f)
		return -EINVAL;
	if (f->len != len)
		return vmstate_fail(s, "field '%s' has %zu bytes, expected %zu", field, f->len,
				    len);
	if (len)
		memcpy(out, f->data, len);
	return 0;
}

const void *vmstate_get_blob(struct vmstate_section *s, const char *field, size_t max, size_t *len)
{
	const struct vmstate_field *f = need(s, field);
	if (!f)
		return NULL;
	if (f->len > max) {
		vmstate_fail(s, "field '%s' has %zu bytes, more than its largest %zu", field,
			     f->len, max);
		return NULL;
	}
	*len = f->len;
	/* A zero-length field is present: hand out a valid pointer. */
	return f->len ? (const void *)f->data : (const void *)"";
}

int vmstate_get_str(struct vmstate_section *s, const char *field, char *out, size_t size)
{
	size_t len;
	const char *p = vmstate_get_blob(s, field, size - 1, &len);
	if (!p)
		return -EINVAL;
	if (memchr(p, 0, len))
		return vmstate_fail(s, "field '%s' holds a NUL byte", field);
	memcpy(out, p, len);
	out[len] = 0;
	return 0;
}
