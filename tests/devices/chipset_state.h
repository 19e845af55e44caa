/* Saved-state tests of the chipset and legacy device models: save a harness
 * machine's devices as the worker does, load them into a second machine
 * built the same way, and make damaged copies of a saved state (a field
 * dropped or changed). */
#ifndef OSIO_TEST_CHIPSET_STATE_H
#define OSIO_TEST_CHIPSET_STATE_H

#include "hypervisor/vmstate.h"
#include "tests/devices/harness.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct saved {
	uint8_t *buf;
	size_t len;
};

/* Every device of h (machine_save_devices), as the saved-state file has it. */
static inline void state_save(struct harness *h, struct saved *s)
{
	struct vmstate_out o;
	vmstate_out_init(&o);
	machine_save_devices(&h->m, &o);
	vmstate_end(&o);
	assert_int_equal(vmstate_out_error(&o), 0);
	s->buf = o.buf;
	s->len = o.len;
}

static inline void state_free(struct saved *s)
{
	free(s->buf);
	s->buf = NULL;
	s->len = 0;
}

/* Loads s into h's devices; the error sentence goes to err. */
static inline int state_load(struct harness *h, const struct saved *s, char *err, size_t errlen)
{
	struct vmstate_in *in;
	err[0] = 0;
	int r = vmstate_in_parse(s->buf, s->len, &in, err, errlen);
	if (r < 0)
		return r;
	r = machine_load_devices(&h->m, in, err, errlen);
	vmstate_in_free(in);
	return r;
}

/* Loads s and expects it to be refused with a sentence containing `want`. */
static inline void state_load_fails(struct harness *h, const struct saved *s, const char *want)
{
	char err[512];
	int r = state_load(h, s, err, sizeof(err));
	if (r == 0 || !strstr(err, want))
		fail_msg("load gave %d, \"%s\"; expected a refusal saying \"%s\"", r, err, want);
}

static inline uint64_t state_le(const uint8_t *p, unsigned n)
{
	uint64_t v = 0;
	for (unsigned i = 0; i < n; i++)
		v |= (uint64_t)p[i] << (8 * i);
	return v;
}

/* A copy of s with field `field` of section `section` replaced by data
 * (len bytes), or dropped when data is NULL. Fails the test if the field
 * is not there. Walks the layout vmstate.h documents. */
static inline void state_edit(const struct saved *s, const char *section, const char *field,
			      const void *data, size_t len, struct saved *out)
{
	struct vmstate_out o;
	bool found = false;
	vmstate_out_init(&o);
	for (size_t off = 0; off < s->len;) {
		size_t nlen = state_le(s->buf + off, 2);
		char name[VMSTATE_NAME_MAX + 1] = {0};
		memcpy(name, s->buf + off + 2, nlen);
		uint32_t version = (uint32_t)state_le(s->buf + off + 2 + nlen, 4);
		size_t blen = state_le(s->buf + off + 6 + nlen, 4);
		size_t body = off + 10 + nlen;
		vmstate_begin(&o, name, version);
		for (size_t f = body; f < body + blen;) {
			size_t fnl = state_le(s->buf + f, 2);
			char fname[VMSTATE_NAME_MAX + 1] = {0};
			memcpy(fname, s->buf + f + 2, fnl);
			size_t dlen = state_le(s->buf + f + 2 + fnl, 4);
			const uint8_t *d = s->buf + f + 6 + fnl;
			if (strcmp(name, section) == 0 && strcmp(fname, field) == 0) {
				found = true;
				if (data)
					vmstate_put_bytes(&o, fname, data, len);
			} else {
				vmstate_put_bytes(&o, fname, d, dlen);
			}
			f += 6 + fnl + dlen;
		}
		vmstate_end(&o);
		off = body + blen;
	}
	if (!found)
		fail_msg("no field %s in section %s", field, section);
	assert_int_equal(vmstate_out_error(&o), 0);
	out->buf = o.buf;
	out->len = o.len;
}

static inline void state_edit_u64(const struct saved *s, const char *section, const char *field,
				  uint64_t v, struct saved *out)
{
	uint8_t b[8];
	for (int i = 0; i < 8; i++)
		b[i] = (uint8_t)(v >> (8 * i));
	state_edit(s, section, field, b, 8, out);
}

/* A field's bytes as saved (len bytes at most), for a test to damage. */
static inline size_t state_field(const struct saved *s, const char *section, const char *field,
				 uint8_t *out, size_t len)
{
	struct vmstate_in *in;
	char err[256];
	size_t n;
	assert_int_equal(vmstate_in_parse(s->buf, s->len, &in, err, sizeof(err)), 0);
	struct vmstate_section *sec = vmstate_section(in, section);
	assert_non_null(sec);
	const void *p = vmstate_get_blob(sec, field, len, &n);
	assert_non_null(p);
	memcpy(out, p, n);
	vmstate_in_free(in);
	return n;
}

/* Loads a copy of s with the field dropped and one with it set to v (a
 * value out of range) into h (a fresh machine): both are refused, the
 * second with a sentence containing `why`. */
static inline void state_expect_refused(struct harness *h, const struct saved *s,
					const char *section, const char *field, uint64_t v,
					const char *why)
{
	struct saved bad;
	char missing[128];
	snprintf(missing, sizeof(missing), "field '%s' is missing", field);
	state_edit(s, section, field, NULL, 0, &bad);
	state_load_fails(h, &bad, missing);
	state_free(&bad);
	state_edit_u64(s, section, field, v, &bad);
	state_load_fails(h, &bad, why);
	state_free(&bad);
}

/* A value a device model refuses in a saved state: field of section set to value is refused
 * with a sentence containing why (why NULL: only dropping the field is tried). */
struct state_refusal {
	const char *section, *field;
	uint64_t value;
	const char *why;
};

/* Each of the n cases on a fresh machine (build makes it, harness_fini ends it): the field
 * dropped and set to its value are both refused (state_expect_refused). */
static inline void state_expect_refusals(struct harness *h, void (*build)(struct harness *),
					 const struct saved *s, const struct state_refusal *cases,
					 size_t n)
{
	for (size_t i = 0; i < n; i++) {
		const struct state_refusal *c = &cases[i];
		struct saved bad;

		build(h);
		if (c->why) {
			state_expect_refused(h, s, c->section, c->field, c->value, c->why);
		} else {
			state_edit(s, c->section, c->field, NULL, 0, &bad);
			state_load_fails(h, &bad, "is missing");
			state_free(&bad);
		}
		harness_fini(h);
	}
}

/* build(h), then loads s into it; a refusal fails the test with its sentence. */
static inline void state_build_load(struct harness *h, void (*build)(struct harness *),
				    const struct saved *s)
{
	char err[512];

	build(h);
	int r = state_load(h, s, err, sizeof(err));
	if (r != 0)
		fail_msg("load gave %d, \"%s\"", r, err);
}

#endif
