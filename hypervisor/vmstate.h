/* A VM's saved state in memory: named sections (one per device, one for the
 * vCPUs, ...), each a list of named fields holding a number or bytes. The
 * writer appends; the reader checks the whole layout once, then hands out
 * fields by name, each checked against the size or the largest value its
 * caller allows. A saved-state file is user input that may be damaged or
 * made by hand: a reader never trusts a length, and the first problem found
 * is kept as one sentence naming the section and the field.
 *
 * Layout (little-endian), repeated to the end of the buffer:
 *   section: u16 name length, name, u32 version, u32 body length, body
 *   body:    fields, each u16 name length, name, u32 data length, data
 * A number is a field of 8 bytes. Names are 1-63 bytes of printable ASCII,
 * unique within their section (section names unique in the buffer). */
#ifndef OSIO_VMSTATE_H
#define OSIO_VMSTATE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define VMSTATE_NAME_MAX 63

/* --- writing --------------------------------------------------------------- */

struct vmstate_out {
	uint8_t *buf;
	size_t len, cap;
	size_t section; /* offset of the open section's header; SIZE_MAX none */
	int err;	/* first error: -ENOMEM, -EINVAL (a bad name, no open section) */
};

void vmstate_out_init(struct vmstate_out *o);
void vmstate_out_free(struct vmstate_out *o);
/* Opens a section (closing any open one). */
void vmstate_begin(struct vmstate_out *o, const char *section, uint32_t version);
void vmstate_end(struct vmstate_out *o);
void vmstate_put_u64(struct vmstate_out *o, const char *field, uint64_t v);
void vmstate_put_bytes(struct vmstate_out *o, const char *field, const void *p, size_t len);
/* A string without its NUL. */
void vmstate_put_str(struct vmstate_out *o, const char *field, const char *s);
static inline void vmstate_put_bool(struct vmstate_out *o, const char *field, bool v)
{
	vmstate_put_u64(o, field, v);
}
/* 0 when everything written so far fits, else the first error. */
static inline int vmstate_out_error(const struct vmstate_out *o)
{
	return o->err;
}

/* --- reading --------------------------------------------------------------- */

struct vmstate_in;
struct vmstate_section;

/* Checks the layout of buf (borrowed: it must outlive the reader). -EINVAL
 * with a sentence in err for a damaged buffer, -ENOMEM. */
int vmstate_in_parse(const void *buf, size_t len, struct vmstate_in **out, char *err,
		     size_t errlen);
void vmstate_in_free(struct vmstate_in *in);
/* The section of that name, or NULL. */
struct vmstate_section *vmstate_section(struct vmstate_in *in, const char *name);
unsigned vmstate_sections(const struct vmstate_in *in);
struct vmstate_section *vmstate_section_at(struct vmstate_in *in, unsigned i);
const char *vmstate_section_name(const struct vmstate_section *s);
uint32_t vmstate_section_version(const struct vmstate_section *s);
bool vmstate_has(const struct vmstate_section *s, const char *field);

/* Getters return 0, or -EINVAL with the reader's error set when the field is
 * missing, has the wrong size, or holds a number above max. */
int vmstate_get_u64(struct vmstate_section *s, const char *field, uint64_t max, uint64_t *out);
int vmstate_get_u32(struct vmstate_section *s, const char *field, uint32_t max, uint32_t *out);
int vmstate_get_u16(struct vmstate_section *s, const char *field, uint16_t max, uint16_t *out);
int vmstate_get_u8(struct vmstate_section *s, const char *field, uint8_t max, uint8_t *out);
int vmstate_get_bool(struct vmstate_section *s, const char *field, bool *out);
/* Exactly len bytes. */
int vmstate_get_bytes(struct vmstate_section *s, const char *field, void *out, size_t len);
/* Any length up to max (its length in *len); the bytes stay in the buffer. */
const void *vmstate_get_blob(struct vmstate_section *s, const char *field, size_t max, size_t *len);
/* A string of at most size-1 bytes with no NUL inside, NUL-terminated. */
int vmstate_get_str(struct vmstate_section *s, const char *field, char *out, size_t size);

/* Records a problem a caller found in a value it read (a register index out
 * of range, ...): -EINVAL, and the reader's error says "section S: ..." if
 * none was recorded before. */
int vmstate_fail(struct vmstate_section *s, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
/* The first problem found, "" if none. */
const char *vmstate_error(const struct vmstate_in *in);

#endif
