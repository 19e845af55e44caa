/* Saved-state helpers for the device tests: pause and save a harness machine, carry its RAM
 * into a new one, load, and damage one field of a saved buffer (the layout is
 * hypervisor/vmstate.h's). */
#ifndef OSIO_TESTS_STATE_MOVE_H
#define OSIO_TESTS_STATE_MOVE_H

#include "hypervisor/vmstate.h"
#include "tests/devices/harness.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>
#include <stdlib.h>
#include <string.h>

#define ST_PAGE 4096u

/* Pauses every device of h (requests in flight finish) and saves them into out (initialized
 * here; the caller frees it). */
static inline void st_save(struct harness *h, struct vmstate_out *out)
{
	machine_pause_devices(&h->m, true);
	vmstate_out_init(out);
	machine_save_devices(&h->m, out);
	assert_int_equal(vmstate_out_error(out), 0);
}

/* A copy of h's RAM below `ram` (what a saved-state file carries besides the devices); pages
 * that are not RAM (the legacy VGA hole) stay zero. */
static inline uint8_t *st_ram(struct harness *h, uint64_t ram)
{
	uint8_t *copy = calloc(1, ram);

	assert_non_null(copy);
	for (uint64_t a = 0; a < ram; a += ST_PAGE) {
		const void *p = gpa_to_hva(&h->m.mem, a, ST_PAGE);
		if (p)
			memcpy(copy + a, p, ST_PAGE);
	}
	return copy;
}

static inline void st_put_ram(struct harness *h, const uint8_t *copy, uint64_t ram)
{
	for (uint64_t a = 0; a < ram; a += ST_PAGE) {
		void *p = gpa_to_hva(&h->m.mem, a, ST_PAGE);
		if (p)
			memcpy(p, copy + a, ST_PAGE);
	}
}

/* Loads buf into h's devices (created, not run): machine_load_devices' result, with its
 * sentence in err. */
static inline int st_load(struct harness *h, const void *buf, size_t len, char *err, size_t errlen)
{
	struct vmstate_in *in;
	int r = vmstate_in_parse(buf, len, &in, err, errlen);

	if (r < 0)
		return r;
	r = machine_load_devices(&h->m, in, err, errlen);
	vmstate_in_free(in);
	return r;
}

static inline uint32_t st_le(const uint8_t *p, unsigned n)
{
	uint32_t v = 0;

	for (unsigned i = 0; i < n; i++)
		v |= (uint32_t)p[i] << (8 * i);
	return v;
}

/* Where field's data lies in section's body of buf (and its length), or NULL. */
static inline uint8_t *st_field(uint8_t *buf, size_t len, const char *section, const char *field,
				size_t *dlen)
{
	size_t at = 0;

	while (at + 2 <= len) {
		size_t nl = st_le(buf + at, 2);
		const char *name = (const char *)buf + at + 2;
		size_t body = at + 2 + nl + 8;
		size_t blen = st_le(buf + at + 2 + nl + 4, 4);
		bool match = nl == strlen(section) && !memcmp(name, section, nl);

		for (size_t f = body; match && f + 2 <= body + blen;) {
			size_t fl = st_le(buf + f, 2);
			size_t d = st_le(buf + f + 2 + fl, 4);

			if (fl == strlen(field) && !memcmp(buf + f + 2, field, fl)) {
				*dlen = d;
				return buf + f + 2 + fl + 4;
			}
			f += 2 + fl + 4 + d;
		}
		at = body + blen;
	}
	return NULL;
}

/* Replaces a number field's value. */
static inline void st_set(uint8_t *buf, size_t len, const char *section, const char *field,
			  uint64_t v)
{
	size_t dlen;
	uint8_t *p = st_field(buf, len, section, field, &dlen);

	assert_non_null(p);
	assert_int_equal(dlen, 8);
	for (unsigned i = 0; i < 8; i++)
		p[i] = (uint8_t)(v >> (8 * i));
}

static inline uint64_t st_get(uint8_t *buf, size_t len, const char *section, const char *field)
{
	size_t dlen;
	uint8_t *p = st_field(buf, len, section, field, &dlen);
	uint64_t v = 0;

	assert_non_null(p);
	assert_int_equal(dlen, 8);
	for (unsigned i = 0; i < 8; i++)
		v |= (uint64_t)p[i] << (8 * i);
	return v;
}

/* Renames a field (same length): as if it were missing. */
static inline void st_rename(uint8_t *buf, size_t len, const char *section, const char *field,
			     const char *to)
{
	size_t dlen, fl = strlen(field);
	uint8_t *p = st_field(buf, len, section, field, &dlen);

	assert_non_null(p);
	assert_int_equal(strlen(to), fl);
	memcpy(p - 4 - fl, to, fl);
}

#endif
