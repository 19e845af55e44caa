/* AML encoding (ACPI 6.x chapter 20 and the resource descriptors of 6.4): names, integers,
 * strings, terms with PkgLength, operators, fields and resource templates. */
#include "hypervisor/boot/aml.h"

#include "hypervisor/bytes.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#define EXT_OP_PREFIX	  0x5b
#define NAME_OP		  0x08
#define STRING_PREFIX	  0x0d
#define SCOPE_OP	  0x10
#define BUFFER_OP	  0x11
#define PACKAGE_OP	  0x12
#define VAR_PACKAGE_OP	  0x13
#define METHOD_OP	  0x14
#define ONES_OP		  0xff
#define IF_OP		  0xa0
#define ELSE_OP		  0xa1
#define WHILE_OP	  0xa2
#define OPREGION_OP	  0x80 /* after EXT_OP_PREFIX */
#define FIELD_OP	  0x81
#define DEVICE_OP	  0x82
#define LOCAL0_OP	  0x60
#define ARG0_OP		  0x68
#define ROOT_CHAR	  '\\'
#define PARENT_CHAR	  '^'
#define DUAL_NAME_PREFIX  0x2e
#define MULTI_NAME_PREFIX 0x2f
#define NULL_NAME	  0x00

/* What an open term is, which decides what may go inside and how it closes. */
enum kind {
	KIND_TERM,   /* TermList or PackageElementList */
	KIND_BUFFER, /* ByteList; BufferSize filled in at the end */
	KIND_RES,    /* resource descriptors, then an End Tag */
	KIND_FIELD,  /* FieldList */
};

/* Largest value a PkgLength of 1-4 bytes holds (6, 12, 20, 28 bits). */
static const uint32_t pkglength_max[5] = {0, 0x3f, 0xfff, 0xfffff, 0xfffffff};

static void fail(struct aml *a, int err)
{
	if (!a->err)
		a->err = err;
}

void aml_init(struct aml *a)
{
	memset(a, 0, sizeof(*a));
}

void aml_free(struct aml *a)
{
	free(a->data);
	memset(a, 0, sizeof(*a));
}

int aml_finish(struct aml *a)
{
	if (!a->err && a->depth)
		a->err = -EINVAL;
	return a->err;
}

/* n more bytes at the end, or NULL with the error recorded. */
static uint8_t *room(struct aml *a, size_t n)
{
	if (a->err)
		return NULL;
	if (a->len + n > a->cap) {
		size_t cap = a->cap ? a->cap : 256;
		while (cap < a->len + n)
			cap *= 2;
		uint8_t *p = realloc(a->data, cap);
		if (!p) {
			fail(a, -ENOMEM);
			return NULL;
		}
		a->data = p;
		a->cap = cap;
	}
	uint8_t *p = a->data + a->len;
	a->len += n;
	return p;
}

void aml_bytes(struct aml *a, const void *p, size_t n)
{
	if (a->depth && a->open[a->depth - 1].kind == KIND_FIELD)
		fail(a, -EINVAL);
	uint8_t *d = room(a, n);
	if (d && n)
		memcpy(d, p, n);
}

void aml_byte(struct aml *a, uint8_t v)
{
	aml_bytes(a, &v, 1);
}

/* Terms (data, names, operators) may stand at the top level or in a term
 * or package list, not among a Buffer's bytes, descriptors or field units. */
static bool term_allowed(struct aml *a)
{
	if (a->depth && a->open[a->depth - 1].kind != KIND_TERM) {
		fail(a, -EINVAL);
		return false;
	}
	return !a->err;
}

static void put(struct aml *a, const void *p, size_t n)
{
	uint8_t *d = room(a, n);
	if (d)
		memcpy(d, p, n);
}

static void put_int(struct aml *a, uint64_t v, unsigned size)
{
	uint8_t *d = room(a, size);
	if (d)
		put_le(d, v, size);
}

/* --- PkgLength ------------------------------------------------------------ */

static unsigned encode_pkglength(uint8_t out[4], uint32_t v, unsigned n)
{
	if (n == 1) {
		out[0] = (uint8_t)v;
		return 1;
	}
	out[0] = (uint8_t)((n - 1) << 6 | (v & 0x0f));
	for (unsigned i = 1; i < n; i++)
		out[i] = (uint8_t)(v >> (4 + 8 * (i - 1)));
	return n;
}

/* A term's PkgLength counts its own bytes; returns 0 when too long. */
static unsigned term_pkglength(uint8_t out[4], size_t body)
{
	for (unsigned n = 1; n <= 4; n++)
		if (body + n <= pkglength_max[n])
			return encode_pkglength(out, (uint32_t)(body + n), n);
	return 0;
}

/* A field unit's PkgLength is its width in bits alone. */
static unsigned bits_pkglength(uint8_t out[4], uint32_t bits)
{
	for (unsigned n = 1; n <= 4; n++)
		if (bits <= pkglength_max[n])
			return encode_pkglength(out, bits, n);
	return 0;
}

/* Inserts n bytes at offset pos, moving what follows. */
static void insert(struct aml *a, size_t pos, const uint8_t *p, size_t n)
{
	if (!room(a, n))
		return;
	memmove(a->data + pos + n, a->data + pos, a->len - n - pos);
	memcpy(a->data + pos, p, n);
}

/* --- names ------------------------------------------------------------------ */

static bool lead_char(char c)
{
	return (c >= 'A' && c <= 'Z') || c == '_';
}

static bool name_char(char c)
{
	return lead_char(c) || (c >= '0' && c <= '9');
}

/* One NameSeg of 1-4 characters from s (up to '.' or the end), padded with
 * '_'; returns the characters used, 0 if not a NameSeg. */
static size_t nameseg(const char *s, uint8_t seg[4])
{
	size_t n = 0;
	while (s[n] && s[n] != '.') {
		if (n == 4 || !(n ? name_char(s[n]) : lead_char(s[n])))
			return 0;
		seg[n] = (uint8_t)s[n];
		n++;
	}
	for (size_t i = n; i < 4; i++)
		seg[i] = '_';
	return n;
}

void aml_name(struct aml *a, const char *path)
{
	if (!term_allowed(a))
		return;
	uint8_t segs[255][4];
	unsigned count = 0;
	const char *s = path;
	if (*s == ROOT_CHAR) {
		put(a, s++, 1);
	} else {
		while (*s == PARENT_CHAR)
			put(a, s++, 1);
	}
	if (!*s) {
		/* "\" or "^": the prefix and NullName. A bare "" is no name. */
		if (s == path)
			fail(a, -EINVAL);
		aml_byte(a, NULL_NAME);
		return;
	}
	for (;;) {
		size_t n = count < 255 ? nameseg(s, segs[count]) : 0;
		if (!n) {
			fail(a, -EINVAL);
			return;
		}
		count++;
		s += n;
		if (!*s)
			break;
		s++; /* '.', which must be followed by a segment */
	}
	if (count == 2) {
		aml_byte(a, DUAL_NAME_PREFIX);
	} else if (count > 2) {
		aml_byte(a, MULTI_NAME_PREFIX);
		aml_byte(a, (uint8_t)count);
	}
	put(a, segs, 4 * count);
}

/* --- data ------------------------------------------------------------------- */

void aml_int(struct aml *a, uint64_t v)
{
	if (!term_allowed(a))
		return;
	static const struct {
		uint64_t max;
		uint8_t prefix;
		uint8_t size;
	} forms[] = {
	    {0xff, 0x0a, 1},
	    {0xffff, 0x0b, 2},
	    {0xffffffff, 0x0c, 4},
	    {UINT64_MAX, 0x0e, 8},
	};
	if (v <= 1) { /* ZeroOp, OneOp */
		aml_byte(a, (uint8_t)v);
		return;
	}
	for (size_t i = 0; i < sizeof(forms) / sizeof(forms[0]); i++) {
		if (v <= forms[i].max) {
			aml_byte(a, forms[i].prefix);
			put_int(a, v, forms[i].size);
			return;
		}
	}
}

void aml_ones(struct aml *a)
{
	if (term_allowed(a))
		aml_byte(a, ONES_OP);
}

void aml_string(struct aml *a, const char *s)
{
	if (!term_allowed(a))
		return;
	for (const char *c = s; *c; c++) {
		if ((unsigned char)*c > 0x7f) {
			fail(a, -EINVAL);
			return;
		}
	}
	aml_byte(a, STRING_PREFIX);
	put(a, s, strlen(s) + 1);
}

static int hex_digit(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

void aml_eisaid(struct aml *a, const char *id)
{
	if (!term_allowed(a))
		return;
	/* Three letters of 5 bits ('A' = 1) and four hex digits, stored
	 * most significant byte first. */
	uint32_t v = 0;
	if (strlen(id) != 7) {
		fail(a, -EINVAL);
		return;
	}
	for (int i = 0; i < 3; i++) {
		if (id[i] < 'A' || id[i] > 'Z') {
			fail(a, -EINVAL);
			return;
		}
		v = v << 5 | (uint32_t)(id[i] - 'A' + 1);
	}
	for (int i = 3; i < 7; i++) {
		int d = hex_digit(id[i]);
		if (d < 0) {
			fail(a, -EINVAL);
			return;
		}
		v = v << 4 | (uint32_t)d;
	}
	uint8_t out[5] = {0x0c, (uint8_t)(v >> 24), (uint8_t)(v >> 16), (uint8_t)(v >> 8),
			  (uint8_t)v};
	put(a, out, sizeof(out));
}

void aml_local(struct aml *a, unsigned n)
{
	if (n > 7)
		fail(a, -EINVAL);
	else if (term_allowed(a))
		aml_byte(a, (uint8_t)(LOCAL0_OP + n));
}

void aml_arg(struct aml *a, unsigned n)
{
	if (n > 6)
		fail(a, -EINVAL);
	else if (term_allowed(a))
		aml_byte(a, (uint8_t)(ARG0_OP + n));
}

void aml_no_target(struct aml *a)
{
	if (term_allowed(a))
		aml_byte(a, NULL_NAME);
}

void aml_op(struct aml *a, enum aml_op op)
{
	/* clang-format off */
	static const uint8_t known[] = {
		AML_STORE, AML_ADD, AML_CONCAT, AML_SUBTRACT, AML_INCREMENT, AML_DECREMENT,
		AML_MULTIPLY, AML_SHIFT_LEFT, AML_SHIFT_RIGHT, AML_AND, AML_NAND, AML_OR,
		AML_NOR, AML_XOR, AML_NOT, AML_DEREF_OF, AML_NOTIFY, AML_SIZE_OF, AML_INDEX,
		AML_CREATE_DWORD_FIELD, AML_CREATE_WORD_FIELD, AML_CREATE_BYTE_FIELD,
		AML_CREATE_QWORD_FIELD, AML_LAND, AML_LOR, AML_LNOT, AML_LEQUAL, AML_LGREATER,
		AML_LLESS, AML_NOOP, AML_RETURN, AML_BREAK
	};
	/* clang-format on */
	bool ok = false;
	for (size_t i = 0; i < sizeof(known); i++)
		ok |= (unsigned)op == known[i];
	if (!ok) {
		fail(a, -EINVAL);
		return;
	}
	if (term_allowed(a))
		aml_byte(a, (uint8_t)op);
}

/* --- named objects ------------------------------------------------------------ */

void aml_name_def(struct aml *a, const char *name)
{
	if (!term_allowed(a))
		return;
	aml_byte(a, NAME_OP);
	aml_name(a, name);
}

void aml_opregion(struct aml *a, const char *name, enum aml_region_space space, uint64_t offset,
		  uint64_t len)
{
	if (!term_allowed(a))
		return;
	if ((unsigned)space > 0xff) {
		fail(a, -EINVAL);
		return;
	}
	uint8_t op[2] = {EXT_OP_PREFIX, OPREGION_OP};
	put(a, op, 2);
	aml_name(a, name);
	aml_byte(a, (uint8_t)space);
	aml_int(a, offset);
	aml_int(a, len);
}

/* --- terms with a PkgLength --------------------------------------------------- */

/* Writes the opcode (1 or 2 bytes) and opens the term: its PkgLength will
 * go where the next byte goes. */
static bool open_term(struct aml *a, const uint8_t *op, size_t oplen, enum kind kind)
{
	if (!term_allowed(a))
		return false;
	if (a->depth == AML_MAX_DEPTH) {
		fail(a, -EINVAL);
		return false;
	}
	put(a, op, oplen);
	if (a->err)
		return false;
	struct aml_open *o = &a->open[a->depth++];
	memset(o, 0, sizeof(*o));
	o->start = a->len;
	o->first = a->len;
	o->kind = (uint8_t)kind;
	return true;
}

static void open_named(struct aml *a, const uint8_t *op, size_t oplen, const char *name)
{
	if (open_term(a, op, oplen, KIND_TERM)) {
		/* The name belongs to the term, so it is written as if the
		 * term's list were not open yet. */
		aml_name(a, name);
	}
}

void aml_scope(struct aml *a, const char *name)
{
	static const uint8_t op[] = {SCOPE_OP};
	open_named(a, op, sizeof(op), name);
}

void aml_device(struct aml *a, const char *name)
{
	static const uint8_t op[] = {EXT_OP_PREFIX, DEVICE_OP};
	open_named(a, op, sizeof(op), name);
}

void aml_method(struct aml *a, const char *name, unsigned args, bool serialized)
{
	static const uint8_t op[] = {METHOD_OP};
	if (args > 7) {
		fail(a, -EINVAL);
		return;
	}
	open_named(a, op, sizeof(op), name);
	aml_byte(a, (uint8_t)(args | (serialized ? 0x08 : 0)));
}

void aml_if(struct aml *a)
{
	static const uint8_t op[] = {IF_OP};
	open_term(a, op, sizeof(op), KIND_TERM);
}

void aml_else(struct aml *a)
{
	static const uint8_t op[] = {ELSE_OP};
	open_term(a, op, sizeof(op), KIND_TERM);
}

void aml_while(struct aml *a)
{
	static const uint8_t op[] = {WHILE_OP};
	open_term(a, op, sizeof(op), KIND_TERM);
}

void aml_package(struct aml *a, unsigned elements)
{
	static const uint8_t op[] = {PACKAGE_OP};
	static const uint8_t var_op[] = {VAR_PACKAGE_OP};
	if (elements <= 0xff) {
		if (open_term(a, op, sizeof(op), KIND_TERM))
			aml_byte(a, (uint8_t)elements);
	} else if (open_term(a, var_op, sizeof(var_op), KIND_TERM)) {
		aml_int(a, elements); /* VarNumElements is a TermArg */
	}
}

void aml_buffer(struct aml *a)
{
	static const uint8_t op[] = {BUFFER_OP};
	open_term(a, op, sizeof(op), KIND_BUFFER);
}

void aml_field(struct aml *a, const char *region, unsigned flags)
{
	static const uint8_t op[] = {EXT_OP_PREFIX, FIELD_OP};
	if (flags > 0x7f) {
		fail(a, -EINVAL);
		return;
	}
	if (!open_term(a, op, sizeof(op), KIND_TERM))
		return;
	aml_name(a, region);
	aml_byte(a, (uint8_t)flags);
	a->open[a->depth - 1].kind = KIND_FIELD;
}

static struct aml_open *innermost(struct aml *a, enum kind kind)
{
	if (a->err)
		return NULL;
	if (!a->depth || a->open[a->depth - 1].kind != kind) {
		fail(a, -EINVAL);
		return NULL;
	}
	return &a->open[a->depth - 1];
}

static void field_bits(struct aml *a, struct aml_open *o, uint32_t bits)
{
	uint8_t len[4];
	unsigned n = bits_pkglength(len, bits);
	if (!n || o->bits + (uint64_t)bits > UINT32_MAX) {
		fail(a, -E2BIG);
		return;
	}
	put(a, len, n);
	o->bits += bits;
}

void aml_field_unit(struct aml *a, const char *name, unsigned bits)
{
	struct aml_open *o = innermost(a, KIND_FIELD);
	uint8_t seg[4];
	if (!o)
		return;
	if (!bits || nameseg(name, seg) != strlen(name)) {
		fail(a, -EINVAL);
		return;
	}
	put(a, seg, 4);
	field_bits(a, o, bits);
}

void aml_field_offset(struct aml *a, unsigned byte_offset)
{
	struct aml_open *o = innermost(a, KIND_FIELD);
	if (!o)
		return;
	uint64_t to = (uint64_t)byte_offset * 8;
	if (to < o->bits || to > UINT32_MAX) {
		fail(a, -EINVAL);
		return;
	}
	if (to == o->bits)
		return;
	static const uint8_t reserved = NULL_NAME; /* ReservedField */
	put(a, &reserved, 1);
	field_bits(a, o, (uint32_t)(to - o->bits));
}

void aml_end(struct aml *a)
{
	if (a->err)
		return;
	if (!a->depth || a->open[a->depth - 1].kind == KIND_RES) {
		fail(a, -EINVAL); /* nothing open, or a template without its End Tag */
		return;
	}
	struct aml_open *o = &a->open[--a->depth];
	uint8_t head[4 + 9];
	size_t n = 0;
	if (o->kind == KIND_BUFFER) {
		/* PkgLength, BufferSize (an integer TermArg), bytes. */
		uint8_t size[9];
		size_t sn = 0;
		uint64_t v = a->len - o->first;
		if (v <= 1) {
			size[sn++] = (uint8_t)v;
		} else {
			unsigned w = v <= 0xff ? 1 : v <= 0xffff ? 2 : 4;
			size[sn++] = w == 1 ? 0x0a : w == 2 ? 0x0b : 0x0c;
			put_le(size + sn, v, w);
			sn += w;
		}
		n = term_pkglength(head, a->len - o->start + sn);
		memcpy(head + n, size, sn);
		if (n)
			n += sn;
	} else {
		n = term_pkglength(head, a->len - o->start);
	}
	if (!n) {
		fail(a, -E2BIG);
		return;
	}
	insert(a, o->start, head, n);
}

/* --- resource templates ------------------------------------------------------- */

#define END_TAG 0x79

void aml_res_begin(struct aml *a)
{
	static const uint8_t op[] = {BUFFER_OP};
	open_term(a, op, sizeof(op), KIND_RES);
}

void aml_res_end(struct aml *a, bool checksum)
{
	struct aml_open *o = innermost(a, KIND_RES);
	if (!o)
		return;
	aml_byte(a, END_TAG);
	uint8_t sum = 0;
	for (size_t i = o->first; i < a->len; i++)
		sum = (uint8_t)(sum + a->data[i]);
	aml_byte(a, checksum ? (uint8_t)-sum : 0);
	o->kind = KIND_BUFFER;
	aml_end(a);
}

/* Descriptor bytes, inside a template only. */
static void descriptor(struct aml *a, const uint8_t *d, size_t n)
{
	if (innermost(a, KIND_RES))
		put(a, d, n);
}

void aml_res_io(struct aml *a, uint16_t min, uint16_t max, uint8_t align, uint8_t len)
{
	/* Small item 0x08, 7 bytes; information bit 0: 16-bit decode. */
	uint8_t d[8] = {0x47, 0x01};
	put_le16(d + 2, min);
	put_le16(d + 4, max);
	d[6] = align;
	d[7] = len;
	descriptor(a, d, sizeof(d));
}

void aml_res_irq_noflags(struct aml *a, uint16_t mask)
{
	uint8_t d[3] = {0x22}; /* small item 0x04, 2 bytes */
	put_le16(d + 1, mask);
	descriptor(a, d, sizeof(d));
}

void aml_res_irq(struct aml *a, uint16_t mask, unsigned flags)
{
	if (flags & ~(unsigned)(AML_IRQ_EDGE | AML_IRQ_LOW | AML_IRQ_SHARED)) {
		fail(a, -EINVAL);
		return;
	}
	/* Small item 0x04, 3 bytes: _HE bit 0, _LL bit 3, _SHR bit 4. */
	uint8_t d[4] = {0x23};
	put_le16(d + 1, mask);
	d[3] = (uint8_t)((flags & AML_IRQ_EDGE ? 0x01 : 0) | (flags & AML_IRQ_LOW ? 0x08 : 0) |
			 (flags & AML_IRQ_SHARED ? 0x10 : 0));
	descriptor(a, d, sizeof(d));
}

void aml_res_interrupt(struct aml *a, unsigned flags, const uint32_t *irqs, unsigned n)
{
	if (flags > 0x0f || n == 0 || n > 255) {
		fail(a, -EINVAL);
		return;
	}
	uint8_t d[5 + 4 * 255];
	d[0] = 0x89; /* large item 0x09 */
	put_le16(d + 1, (uint16_t)(2 + 4 * n));
	d[3] = (uint8_t)flags;
	d[4] = (uint8_t)n;
	for (unsigned i = 0; i < n; i++)
		put_le32(d + 5 + 4 * i, irqs[i]);
	descriptor(a, d, 5 + 4 * n);
}

/* The three sizes of address space descriptor (6.4.3.5.1-3). */
enum as_size { AS_WORD, AS_DWORD, AS_QWORD };
static const struct {
	uint8_t tag;
	uint8_t width;
} as_forms[] = {
    [AS_WORD] = {0x88, 2},
    [AS_DWORD] = {0x87, 4},
    [AS_QWORD] = {0x8a, 8},
};

#define AS_MEMORY	 0
#define AS_IO		 1
#define AS_BUS		 2
#define AS_MIN_FIXED	 0x04
#define AS_MAX_FIXED	 0x08
#define AS_MEM_RW	 0x01
#define AS_MEM_CACHEABLE 0x02 /* _MEM = 1 */
#define AS_IO_ENTIRE	 0x03 /* _RNG: ISA and non-ISA ranges */

static void address_space(struct aml *a, enum as_size size, uint8_t type, uint8_t type_flags,
			  uint64_t min, uint64_t max)
{
	unsigned w = as_forms[size].width;
	if (min > max) {
		fail(a, -EINVAL);
		return;
	}
	/* Tag, length, resource type, general flags (producer, positive
	 * decode, fixed bounds), type flags, then granularity, minimum,
	 * maximum, translation offset and length, each w bytes. */
	uint8_t d[6 + 5 * 8] = {as_forms[size].tag};
	put_le16(d + 1, (uint16_t)(3 + 5 * w));
	d[3] = type;
	d[4] = AS_MIN_FIXED | AS_MAX_FIXED;
	d[5] = type_flags;
	put_le(d + 6 + w, min, w);
	put_le(d + 6 + 2 * w, max, w);
	put_le(d + 6 + 4 * w, max - min + 1, w);
	descriptor(a, d, 6 + 5 * w);
}

void aml_res_word_bus(struct aml *a, uint16_t min, uint16_t max)
{
	address_space(a, AS_WORD, AS_BUS, 0, min, max);
}

void aml_res_word_io(struct aml *a, uint16_t min, uint16_t max)
{
	address_space(a, AS_WORD, AS_IO, AS_IO_ENTIRE, min, max);
}

void aml_res_dword_memory(struct aml *a, bool cacheable, uint32_t min, uint32_t max)
{
	address_space(a, AS_DWORD, AS_MEMORY, AS_MEM_RW | (cacheable ? AS_MEM_CACHEABLE : 0), min,
		      max);
}

void aml_res_qword_memory(struct aml *a, bool cacheable, uint64_t min, uint64_t max)
{
	address_space(a, AS_QWORD, AS_MEMORY, AS_MEM_RW | (cacheable ? AS_MEM_CACHEABLE : 0), min,
		      max);
}
