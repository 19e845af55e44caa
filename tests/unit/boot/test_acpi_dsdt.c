/* The DSDT's methods run: a small AML interpreter (the operators the PCI
 * link methods use) evaluates LNKA-LNKD and LNKS against a model of the
 * PIIX3's PIRQRC registers, the way an OS selects, reads and disables a
 * link; and the definition block checked for what SeaBIOS's own DSDT
 * parser needs to find the keyboard. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include "tests/unit/boot/test_acpi_walk.h"

#include <errno.h>

#define PIRQRC_BASE 0x60

struct val {
	bool is_buf;
	uint64_t i;
	uint8_t b[64];
	size_t len;
};

struct interp {
	const struct ns *ns;
	uint8_t pirq[4]; /* the PIIX3's PIRQRC[A-D] */
	unsigned depth;
};

struct frame {
	struct interp *in;
	const char *scope; /* the method: where its names are looked up from */
	struct val args[7];
	struct val locals[8];
	struct {
		char name[5];
		struct val v;
	} names[4]; /* Name () inside the method */
	unsigned nnames;
	struct {
		char name[5];
		struct val *buf;
		size_t off, size;
	} fields[4]; /* Create*Field inside the method */
	unsigned nfields;
	bool returned;
	struct val ret;
};

static void exec(struct frame *f, const uint8_t *p, const uint8_t *end);
static void eval(struct frame *f, const uint8_t **pp, const uint8_t *end, struct val *out);
static void call(struct interp *in, const char *path, const struct val *args, unsigned n,
		 struct val *ret);

static uint64_t as_int(const struct val *v)
{
	assert_false(v->is_buf);
	return v->i;
}

static void int_val(struct val *v, uint64_t i)
{
	memset(v, 0, sizeof(*v));
	v->i = i;
}

static bool is_name_start(uint8_t c)
{
	return (c >= 'A' && c <= 'Z') || c == '_' || c == '\\' || c == '^' || c == 0x2e ||
	       c == 0x2f;
}

/* A data object written in the table: an integer or a buffer. */
static void data_val(const uint8_t **pp, const uint8_t *end, struct val *v)
{
	memset(v, 0, sizeof(*v));
	if (aml_read_int(pp, end, &v->i))
		return;
	const uint8_t *p = *pp;
	assert_int_equal(*p++, 0x11);
	const uint8_t *bend = aml_term_end(&p, end);
	uint64_t size = 0;
	assert_true(aml_read_int(&p, bend, &size));
	assert_int_equal(size, (uint64_t)(bend - p));
	assert_true(size <= sizeof(v->b));
	v->is_buf = true;
	v->len = (size_t)size;
	memcpy(v->b, p, v->len);
	*pp = bend;
}

/* The namespace object a name used in scope refers to: a path with more
 * than one segment or a prefix as it stands, a single segment by the
 * search rules (the scope, then each parent up to the root). */
static const struct ns_obj *lookup(const struct ns *ns, const char *scope, const char *name)
{
	char at[128], path[128];
	snprintf(at, sizeof(at), "%s", scope);
	bool single = !strchr(name, '.') && name[0] != '\\' && name[0] != '^';
	for (;;) {
		aml_resolve(at, name, path, sizeof(path));
		const struct ns_obj *o = ns_find(ns, path);
		if (o || !single || strcmp(at, "\\") == 0)
			return o;
		char up[128];
		aml_resolve(at, "^", up, sizeof(up));
		memcpy(at, up, sizeof(at));
	}
}

/* The PIRQRC register a field unit of the PIIX3's PCI_Config region is. */
static uint8_t *pirq_reg(struct interp *in, const struct ns_obj *unit)
{
	const struct ns_obj *region = ns_get(in->ns, unit->region, NS_REGION);
	assert_int_equal(region->flags, 2); /* PCI_Config */
	assert_int_equal(unit->b, 8);
	assert_int_equal(unit->a % 8, 0);
	uint64_t reg = region->a + unit->a / 8;
	assert_true(reg >= PIRQRC_BASE && reg < PIRQRC_BASE + 4);
	return &in->pirq[reg - PIRQRC_BASE];
}

static struct val *method_name(struct frame *f, const char *name)
{
	for (unsigned i = 0; i < f->nnames; i++)
		if (strcmp(f->names[i].name, name) == 0)
			return &f->names[i].v;
	return NULL;
}

static int buffer_field(struct frame *f, const char *name)
{
	for (unsigned i = 0; i < f->nfields; i++)
		if (strcmp(f->fields[i].name, name) == 0)
			return (int)i;
	return -1;
}

/* Where a SuperName that holds a buffer is stored (Arg, Local, a name of
 * the method), for Create*Field. */
static struct val *storage(struct frame *f, const uint8_t **pp, const uint8_t *end)
{
	const uint8_t *p = *pp;
	if (*p >= 0x68 && *p <= 0x6e) {
		*pp = p + 1;
		return &f->args[*p - 0x68];
	}
	if (*p >= 0x60 && *p <= 0x67) {
		*pp = p + 1;
		return &f->locals[*p - 0x60];
	}
	char name[128];
	aml_read_name(pp, end, name, sizeof(name));
	struct val *v = method_name(f, name);
	if (!v)
		fail_msg("%s: no buffer named %s", f->scope, name);
	return v;
}

/* Target := SuperName | NullName: stores v there. */
static void store(struct frame *f, const uint8_t **pp, const uint8_t *end, const struct val *v)
{
	const uint8_t *p = *pp;
	assert_true(p < end);
	if (*p == 0x00) {
		*pp = p + 1;
		return;
	}
	if ((*p >= 0x60 && *p <= 0x67) || (*p >= 0x68 && *p <= 0x6e)) {
		*storage(f, pp, end) = *v;
		return;
	}
	char name[128];
	aml_read_name(pp, end, name, sizeof(name));
	int k = buffer_field(f, name);
	if (k >= 0) {
		put_le(f->fields[k].buf->b + f->fields[k].off, as_int(v),
		       (unsigned)f->fields[k].size);
		return;
	}
	const struct ns_obj *o = lookup(f->in->ns, f->scope, name);
	if (!o || o->kind != NS_FIELD)
		fail_msg("%s: cannot store to %s", f->scope, name);
	*pirq_reg(f->in, o) = (uint8_t)as_int(v);
}

static void eval_name(struct frame *f, const uint8_t **pp, const uint8_t *end, struct val *out)
{
	char name[128];
	aml_read_name(pp, end, name, sizeof(name));
	struct val *v = method_name(f, name);
	if (v) {
		*out = *v;
		return;
	}
	int k = buffer_field(f, name);
	if (k >= 0) {
		int_val(out, get_le(f->fields[k].buf->b + f->fields[k].off,
				    (unsigned)f->fields[k].size));
		return;
	}
	const struct ns_obj *o = lookup(f->in->ns, f->scope, name);
	if (!o)
		fail_msg("%s: %s not found", f->scope, name);
	if (o->kind == NS_FIELD) {
		int_val(out, *pirq_reg(f->in, o));
	} else if (o->kind == NS_NAME) {
		const uint8_t *p = o->val;
		data_val(&p, o->val + o->len, out);
	} else if (o->kind == NS_METHOD) {
		struct val args[7];
		unsigned n = o->flags & 7;
		for (unsigned i = 0; i < n; i++)
			eval(f, pp, end, &args[i]);
		call(f->in, o->path, args, n, out);
	} else {
		fail_msg("%s: cannot evaluate %s", f->scope, o->path);
	}
}

static void eval(struct frame *f, const uint8_t **pp, const uint8_t *end, struct val *out)
{
	const uint8_t *p = *pp;
	struct val a, b;
	assert_true(p < end);
	if (aml_read_int(pp, end, &out->i)) {
		out->is_buf = false;
		return;
	}
	uint8_t op = *p;
	if ((op >= 0x60 && op <= 0x67) || (op >= 0x68 && op <= 0x6e)) {
		*out = *storage(f, pp, end);
		return;
	}
	if (op == 0x11) {
		data_val(pp, end, out);
		return;
	}
	if (is_name_start(op)) {
		eval_name(f, pp, end, out);
		return;
	}
	*pp = p + 1;
	switch (op) {
	case 0x7b: /* And */
	case 0x7d: /* Or */
		eval(f, pp, end, &a);
		eval(f, pp, end, &b);
		int_val(out, op == 0x7b ? as_int(&a) & as_int(&b) : as_int(&a) | as_int(&b));
		store(f, pp, end, out);
		return;
	case 0x93: /* LEqual */
	case 0x95: /* LLess */
		eval(f, pp, end, &a);
		eval(f, pp, end, &b);
		int_val(out, (op == 0x93 ? as_int(&a) == as_int(&b) : as_int(&a) < as_int(&b))
				 ? UINT64_MAX
				 : 0);
		return;
	}
	fail_msg("%s: operator 0x%02x is not interpreted", f->scope, op);
}

static void exec(struct frame *f, const uint8_t *p, const uint8_t *end)
{
	while (p < end && !f->returned) {
		uint8_t op = *p;
		struct val v, cond;
		const uint8_t *tend;
		char name[128];
		switch (op) {
		case 0x08: /* Name */
			p++;
			aml_read_name(&p, end, name, sizeof(name));
			assert_true(f->nnames < 4 && strlen(name) == 4);
			memcpy(f->names[f->nnames].name, name, 5);
			data_val(&p, end, &f->names[f->nnames].v);
			f->nnames++;
			break;
		case 0x70: /* Store */
			p++;
			eval(f, &p, end, &v);
			store(f, &p, end, &v);
			break;
		case 0x8a: { /* CreateDWordField */
			p++;
			struct val *buf = storage(f, &p, end);
			eval(f, &p, end, &v);
			aml_read_name(&p, end, name, sizeof(name));
			assert_true(buf->is_buf && as_int(&v) + 4 <= buf->len);
			assert_true(f->nfields < 4 && strlen(name) == 4);
			memcpy(f->fields[f->nfields].name, name, 5);
			f->fields[f->nfields].buf = buf;
			f->fields[f->nfields].off = (size_t)v.i;
			f->fields[f->nfields].size = 4;
			f->nfields++;
			break;
		}
		case 0xa4: /* Return */
			p++;
			eval(f, &p, end, &f->ret);
			f->returned = true;
			break;
		case 0xa0: /* If, and an Else after it */
			p++;
			tend = aml_term_end(&p, end);
			eval(f, &p, tend, &cond);
			if (as_int(&cond))
				exec(f, p, tend);
			p = tend;
			if (p < end && *p == 0xa1) {
				p++;
				tend = aml_term_end(&p, end);
				if (!as_int(&cond))
					exec(f, p, tend);
				p = tend;
			}
			break;
		default:
			eval(f, &p, end, &v); /* an operator run for its target */
		}
	}
}

static void call(struct interp *in, const char *path, const struct val *args, unsigned n,
		 struct val *ret)
{
	const struct ns_obj *m = ns_get(in->ns, path, NS_METHOD);
	assert_int_equal(m->flags & 7, n);
	assert_true(++in->depth < 8);
	struct frame *f = calloc(1, sizeof(*f));
	assert_non_null(f);
	f->in = in;
	f->scope = m->path;
	for (unsigned i = 0; i < n; i++)
		f->args[i] = args[i];
	exec(f, m->val, m->val + m->len);
	if (f->returned)
		*ret = f->ret;
	else
		int_val(ret, 0);
	free(f);
	in->depth--;
}

static uint64_t call_int(struct interp *in, const char *path)
{
	struct val r;
	call(in, path, NULL, 0, &r);
	return as_int(&r);
}

/* The one interrupt of an Extended Interrupt descriptor a _CRS returns. */
static uint32_t crs_irq(struct interp *in, const char *link)
{
	char path[64];
	struct val r;
	struct res res;
	snprintf(path, sizeof(path), "%s._CRS", link);
	call(in, path, NULL, 0, &r);
	assert_true(r.is_buf);
	res_parse(r.b, r.len, &res);
	assert_int_equal(res.n, 1);
	assert_int_equal(res.d[0].tag, 0x89);
	assert_int_equal(res.d[0].d[3], 0x09); /* consumer, level, high, shared */
	assert_int_equal(res.d[0].d[4], 1);
	return get_le32(res.d[0].d + 5);
}

/* _SRS with what an OS builds from a _PRS choice: one interrupt. */
static void set_irq(struct interp *in, const char *link, uint32_t irq)
{
	char path[64];
	struct val arg = {.is_buf = true, .len = 11};
	static const uint8_t tmpl[11] = {0x89, 0x06, 0x00, 0x09, 0x01, 0, 0, 0, 0, 0x79, 0x00};
	memcpy(arg.b, tmpl, sizeof(tmpl));
	put_le32(arg.b + 5, irq);
	snprintf(path, sizeof(path), "%s._SRS", link);
	struct val r;
	call(in, path, &arg, 1, &r);
}

struct dsdt {
	struct aml aml; /* the namespace points into it */
	struct ns ns;
};

static struct dsdt *read_dsdt(const struct acpi_machine *m)
{
	struct dsdt *d = malloc(sizeof(*d));
	assert_non_null(d);
	assert_int_equal(acpi_build_dsdt(m, &d->aml), 0);
	d->ns.n = 0;
	aml_read_terms(&d->ns, "\\", d->aml.data, d->aml.data + d->aml.len);
	return d;
}

static void free_dsdt(struct dsdt *d)
{
	aml_free(&d->aml);
	free(d);
}

static void test_links(void **state)
{
	const struct acpi_machine m = {.cpus = 1, .ram_below_4g = 512 * MiB, .pci = true};
	struct dsdt *d = read_dsdt(&m);
	struct interp in = {.ns = &d->ns};
	for (unsigned i = 0; i < 4; i++)
		in.pirq[i] = 0x80; /* the PIIX3's reset value: routing off */

	for (unsigned i = 0; i < 4; i++) {
		char link[32];
		snprintf(link, sizeof(link), "\\_SB_.LNK%c._STA", 'A' + i);
		assert_int_equal(call_int(&in, link), 0x09); /* present, disabled */
		snprintf(link, sizeof(link), "\\_SB_.LNK%c", 'A' + i);
		assert_int_equal(crs_irq(&in, link), 0);

		/* The OS picks IRQ 10: the register names it, routing on. */
		set_irq(&in, link, 10);
		assert_int_equal(in.pirq[i], 10);
		for (unsigned k = 0; k < 4; k++)
			if (k != i)
				assert_int_equal(in.pirq[k], k < i ? 0x8b : 0x80);
		char sta[40];
		snprintf(sta, sizeof(sta), "%s._STA", link);
		assert_int_equal(call_int(&in, sta), 0x0b);
		assert_int_equal(crs_irq(&in, link), 10);

		/* Firmware's choice, read back. */
		in.pirq[i] = 11;
		assert_int_equal(crs_irq(&in, link), 11);

		/* _DIS sets the disable bit and keeps the rest. */
		char dis[40];
		snprintf(dis, sizeof(dis), "%s._DIS", link);
		call_int(&in, dis);
		assert_int_equal(in.pirq[i], 0x8b);
		assert_int_equal(call_int(&in, sta), 0x09);
		assert_int_equal(crs_irq(&in, link), 0);
	}

	/* LNKS: always IRQ 9, enabled, untouched by _SRS and _DIS. */
	uint8_t before[4];
	memcpy(before, in.pirq, 4);
	assert_int_equal(call_int(&in, "\\_SB_.LNKS._STA"), 0x0b);
	assert_int_equal(crs_irq(&in, "\\_SB_.LNKS"), 9);
	set_irq(&in, "\\_SB_.LNKS", 9);
	call_int(&in, "\\_SB_.LNKS._DIS");
	assert_int_equal(crs_irq(&in, "\\_SB_.LNKS"), 9);
	assert_memory_equal(in.pirq, before, 4);
	free_dsdt(d);
}

/* SeaBIOS's DSDT parser (src/fw/dsdt_parser.c) finds the keyboard by the
 * bytes after "NameOp _HID" and reads a Name'd _STA as an integer of at
 * most 4 bytes; PS/2 is skipped when it finds _STA 0. And it can read no
 * OnesOp or QWordConst in a Name. */
static void test_seabios_view(void **state)
{
	const struct acpi_machine m = {
	    .cpus = 2,
	    .ram_below_4g = 1 * GiB,
	    .ram_above_4g = 1 * GiB,
	    .phys_bits = 40,
	    .pci = true,
	    .vga = true,
	    .serial = 1,
	};
	struct dsdt *d = read_dsdt(&m);
	const struct aml *a = &d->aml;
	static const uint8_t kbd[] = {0x08, '_', 'H', 'I', 'D', 0x0c, 0x41, 0xd0, 0x03, 0x03};
	bool found = false;
	for (size_t i = 0; i + sizeof(kbd) <= a->len; i++)
		if (memcmp(a->data + i, kbd, sizeof(kbd)) == 0)
			found = true;
	assert_true(found);
	for (unsigned i = 0; i < d->ns.n; i++)
		if (d->ns.o[i].kind == NS_NAME)
			assert_true(d->ns.o[i].val[0] != 0xff && d->ns.o[i].val[0] != 0x0e);
	free_dsdt(d);
}

static void test_refusals(void **state)
{
	struct aml a;
	const struct acpi_machine none = {.cpus = 0};
	assert_int_equal(acpi_build_dsdt(&none, &a), -EINVAL);
	const struct acpi_machine huge = {.cpus = ACPI_MAX_CPUS + 1, .pci = true};
	assert_int_equal(acpi_build_dsdt(&huge, &a), -EINVAL);
	/* The most vCPUs there are names for. */
	const struct acpi_machine most = {.cpus = ACPI_MAX_CPUS, .pci = true};
	assert_int_equal(acpi_build_dsdt(&most, &a), 0);
	aml_free(&a);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_links),
	    cmocka_unit_test(test_seabios_view),
	    cmocka_unit_test(test_refusals),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
