/* Saved-state sections: what is written reads back; every truncation and
 * every damaged length of a real buffer is refused with a sentence; getters
 * refuse wrong sizes, missing fields and numbers above their maximum. */
#include "hypervisor/vmstate.h"

#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>
#include <stdlib.h>
#include <string.h>

static void sample(struct vmstate_out *o)
{
	vmstate_out_init(o);
	vmstate_begin(o, "uart0", 3);
	vmstate_put_u64(o, "ier", 0x0f);
	vmstate_put_bool(o, "thr_empty", true);
	vmstate_put_bytes(o, "fifo", "abcdef", 6);
	vmstate_put_str(o, "label", "COM1");
	vmstate_put_bytes(o, "empty", NULL, 0);
	vmstate_begin(o, "cpu0", 1); /* closes uart0 */
	vmstate_put_u64(o, "rip", 0xfffffff0ull);
	vmstate_end(o);
}

static void roundtrip(void **st)
{
	struct vmstate_out o;
	sample(&o);
	assert_int_equal(vmstate_out_error(&o), 0);
	struct vmstate_in *in;
	char err[256];
	assert_int_equal(vmstate_in_parse(o.buf, o.len, &in, err, sizeof(err)), 0);
	assert_int_equal(vmstate_sections(in), 2);
	struct vmstate_section *s = vmstate_section(in, "uart0");
	assert_non_null(s);
	assert_int_equal(vmstate_section_version(s), 3);
	uint8_t ier;
	bool b;
	assert_int_equal(vmstate_get_u8(s, "ier", 0xff, &ier), 0);
	assert_int_equal(ier, 0x0f);
	assert_int_equal(vmstate_get_bool(s, "thr_empty", &b), 0);
	assert_true(b);
	char fifo[6], label[8];
	assert_int_equal(vmstate_get_bytes(s, "fifo", fifo, 6), 0);
	assert_memory_equal(fifo, "abcdef", 6);
	assert_int_equal(vmstate_get_str(s, "label", label, sizeof(label)), 0);
	assert_string_equal(label, "COM1");
	size_t len = 99;
	assert_non_null(vmstate_get_blob(s, "empty", 10, &len));
	assert_int_equal(len, 0);
	assert_string_equal(vmstate_error(in), "");

	struct vmstate_section *c = vmstate_section(in, "cpu0");
	uint64_t rip;
	assert_int_equal(vmstate_get_u64(c, "rip", UINT64_MAX, &rip), 0);
	assert_int_equal(rip, 0xfffffff0ull);
	assert_null(vmstate_section(in, "cpu1"));
	vmstate_in_free(in);
	vmstate_out_free(&o);
}

static void getters_check(void **st)
{
	struct vmstate_out o;
	sample(&o);
	struct vmstate_in *in;
	char err[256];
	assert_int_equal(vmstate_in_parse(o.buf, o.len, &in, err, sizeof(err)), 0);
	struct vmstate_section *s = vmstate_section(in, "uart0");
	uint8_t v8;
	assert_int_equal(vmstate_get_u8(s, "ier", 7, &v8), -EINVAL);
	assert_non_null(strstr(vmstate_error(in), "section 'uart0': field 'ier' is 15"));
	char four[4];
	assert_int_equal(vmstate_get_bytes(s, "fifo", four, 4), -EINVAL);
	assert_int_equal(vmstate_get_u8(s, "fifo", 0xff, &v8), -EINVAL);
	assert_int_equal(vmstate_get_u8(s, "nope", 0xff, &v8), -EINVAL);
	char small[4];
	assert_int_equal(vmstate_get_str(s, "label", small, sizeof(small)), -EINVAL);
	size_t len;
	assert_null(vmstate_get_blob(s, "fifo", 5, &len));
	/* The first problem is the one kept. */
	assert_non_null(strstr(vmstate_error(in), "'ier'"));
	vmstate_in_free(in);

	assert_int_equal(vmstate_in_parse(o.buf, o.len, &in, err, sizeof(err)), 0);
	s = vmstate_section(in, "uart0");
	assert_int_equal(vmstate_fail(s, "divisor %u out of range", 0u), -EINVAL);
	assert_string_equal(vmstate_error(in), "section 'uart0': divisor 0 out of range");
	vmstate_in_free(in);
	vmstate_out_free(&o);
}

/* Every prefix of a valid buffer that cuts a section is refused, and so is
 * every single-byte change to a length field that makes it overrun. None
 * may read outside the buffer (ASan watches). */
static void damaged(void **st)
{
	struct vmstate_out o;
	sample(&o);
	char err[256];
	struct vmstate_in *in;
	for (size_t n = 1; n < o.len; n++) {
		uint8_t *copy = malloc(n);
		memcpy(copy, o.buf, n);
		int r = vmstate_in_parse(copy, n, &in, err, sizeof(err));
		if (r == 0) {
			/* Only a cut exactly between sections parses. */
			assert_true(vmstate_sections(in) == 1);
			vmstate_in_free(in);
		} else {
			assert_int_equal(r, -EINVAL);
			assert_true(err[0] != 0);
		}
		free(copy);
	}
	for (size_t i = 0; i < o.len; i++) {
		uint8_t *copy = malloc(o.len);
		memcpy(copy, o.buf, o.len);
		copy[i] ^= 0xff;
		if (vmstate_in_parse(copy, o.len, &in, err, sizeof(err)) == 0)
			vmstate_in_free(in);
		free(copy);
	}
	vmstate_out_free(&o);
}

static void duplicates_and_names(void **st)
{
	struct vmstate_out o;
	vmstate_out_init(&o);
	vmstate_begin(&o, "a", 0);
	vmstate_put_u64(&o, "x", 1);
	vmstate_put_u64(&o, "x", 2);
	vmstate_end(&o);
	char err[256];
	struct vmstate_in *in;
	assert_int_equal(vmstate_in_parse(o.buf, o.len, &in, err, sizeof(err)), -EINVAL);
	assert_non_null(strstr(err, "field 'x' twice"));
	vmstate_out_free(&o);

	vmstate_out_init(&o);
	vmstate_begin(&o, "a", 0);
	vmstate_begin(&o, "a", 0);
	vmstate_end(&o);
	assert_int_equal(vmstate_in_parse(o.buf, o.len, &in, err, sizeof(err)), -EINVAL);
	assert_non_null(strstr(err, "section 'a' twice"));
	vmstate_out_free(&o);

	vmstate_out_init(&o);
	vmstate_begin(&o, "bad name", 0);
	assert_int_equal(vmstate_out_error(&o), -EINVAL);
	vmstate_out_free(&o);
	vmstate_out_init(&o);
	vmstate_put_u64(&o, "outside", 1);
	assert_int_equal(vmstate_out_error(&o), -EINVAL);
	vmstate_out_free(&o);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(roundtrip),
	    cmocka_unit_test(getters_check),
	    cmocka_unit_test(damaged),
	    cmocka_unit_test(duplicates_and_names),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
