/* AML builder: each construct against the bytes ACPI 6.x chapter 20 (and
 * 6.4 for resource descriptors) gives for it, worked out by hand; the ASL
 * each stands for is in the comment above it. */
#include "hypervisor/boot/aml.h"

#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>
#include <stdlib.h>
#include <string.h>

#define BYTES(...) ((const uint8_t[]){__VA_ARGS__}), sizeof((const uint8_t[]){__VA_ARGS__})

static void expect(struct aml *a, const uint8_t *want, size_t n)
{
	assert_int_equal(aml_finish(a), 0);
	if (a->len != n || memcmp(a->data, want, n) != 0) {
		print_error("got %zu bytes:", a->len);
		for (size_t i = 0; i < a->len; i++)
			print_error(" %02x", a->data[i]);
		print_error("\nwanted %zu bytes:", n);
		for (size_t i = 0; i < n; i++)
			print_error(" %02x", want[i]);
		print_error("\n");
		fail();
	}
	aml_free(a);
	aml_init(a);
}

static void expect_error(struct aml *a, int err)
{
	assert_int_equal(aml_finish(a), err);
	aml_free(a);
	aml_init(a);
}

static void test_integers(void **state)
{
	struct aml a;
	aml_init(&a);
	aml_int(&a, 0); /* Zero */
	aml_int(&a, 1); /* One */
	aml_int(&a, 2);
	aml_int(&a, 0xff);
	expect(&a, BYTES(0x00, 0x01, 0x0a, 0x02, 0x0a, 0xff));
	aml_int(&a, 0x100);
	aml_int(&a, 0xffff);
	expect(&a, BYTES(0x0b, 0x00, 0x01, 0x0b, 0xff, 0xff));
	aml_int(&a, 0x10000);
	aml_int(&a, 0xfebfffff);
	expect(&a, BYTES(0x0c, 0x00, 0x00, 0x01, 0x00, 0x0c, 0xff, 0xff, 0xbf, 0xfe));
	aml_int(&a, 0x100000000ull);
	aml_ones(&a); /* Ones */
	expect(&a, BYTES(0x0e, 0x00, 0x00, 0x00, 0x00, 0x01, 0x00, 0x00, 0x00, 0xff));
	aml_int(&a, UINT64_MAX);
	expect(&a, BYTES(0x0e, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff));
	aml_free(&a);
}

static void test_strings_and_eisaid(void **state)
{
	struct aml a;
	aml_init(&a);
	aml_string(&a, "ACPI0007");
	aml_string(&a, "");
	expect(&a, BYTES(0x0d, 'A', 'C', 'P', 'I', '0', '0', '0', '7', 0x00, 0x0d, 0x00));
	aml_string(&a, "caf\xc3\xa9");
	expect_error(&a, -EINVAL);

	/* EisaId: 5-bit letters ('A' = 1) and hex digits, most significant
	 * byte first: "ABC1234" is 00001 00010 00011 -> 0x0443, then 12 34. */
	aml_eisaid(&a, "ABC1234");
	expect(&a, BYTES(0x0c, 0x04, 0x43, 0x12, 0x34));
	aml_eisaid(&a, "PNP0A03");
	aml_eisaid(&a, "PNP0C0F");
	expect(&a, BYTES(0x0c, 0x41, 0xd0, 0x0a, 0x03, 0x0c, 0x41, 0xd0, 0x0c, 0x0f));
	aml_eisaid(&a, "PNP0A0");
	expect_error(&a, -EINVAL);
	aml_eisaid(&a, "pnp0a03");
	expect_error(&a, -EINVAL);
	aml_eisaid(&a, "PNP0G03");
	expect_error(&a, -EINVAL);
	aml_free(&a);
}

static void test_names(void **state)
{
	struct aml a;
	aml_init(&a);
	aml_name(&a, "_SB");
	aml_name(&a, "\\_SB");
	expect(&a, BYTES('_', 'S', 'B', '_', '\\', '_', 'S', 'B', '_'));
	aml_name(&a, "\\"); /* the root: RootChar NullName */
	aml_name(&a, "^LNKA");
	aml_name(&a, "^^X");
	expect(&a, BYTES('\\', 0x00, '^', 'L', 'N', 'K', 'A', '^', '^', 'X', '_', '_', '_'));
	aml_name(&a, "PCI0.ISA"); /* DualNamePath */
	expect(&a, BYTES(0x2e, 'P', 'C', 'I', '0', 'I', 'S', 'A', '_'));
	aml_name(&a, "\\_SB.PCI0.ISA"); /* MultiNamePath */
	expect(&a,
	       BYTES('\\', 0x2f, 3, '_', 'S', 'B', '_', 'P', 'C', 'I', '0', 'I', 'S', 'A', '_'));
	static const char *const bad[] = {"",	"pci0", "ABCDE", "A..B", "A.",
					  ".A", "0ABC", "\\^A",	 "^\\A", "A-B"};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		aml_name(&a, bad[i]);
		expect_error(&a, -EINVAL);
	}
	aml_free(&a);
}

/* Scope (\) { n bytes }: PkgLength = its own bytes + 2 (the name) + n. */
static void scope_of(struct aml *a, size_t n)
{
	uint8_t *body = calloc(1, n);
	assert_non_null(body);
	aml_scope(a, "\\");
	aml_bytes(a, body, n);
	aml_end(a);
	free(body);
	assert_int_equal(aml_finish(a), 0);
}

static void test_pkglength(void **state)
{
	struct aml a;
	aml_init(&a);
	/* 1 byte holds up to 63. */
	scope_of(&a, 60);
	assert_int_equal(a.len, 1 + 1 + 2 + 60);
	assert_int_equal(a.data[0], 0x10);
	assert_int_equal(a.data[1], 63);
	assert_int_equal(a.data[2], '\\');
	aml_free(&a);
	/* 64 and more: two bytes, the low nibble in the first. 61 bytes
	 * make 2 + 61 + 2 = 65 = 0x041. */
	scope_of(&a, 61);
	assert_int_equal(a.len, 1 + 2 + 2 + 61);
	assert_int_equal(a.data[1], 0x41);
	assert_int_equal(a.data[2], 0x04);
	assert_int_equal(a.data[3], '\\');
	aml_free(&a);
	/* 2 bytes hold up to 0xfff: 2 + 4091 + 2. */
	scope_of(&a, 4091);
	assert_int_equal(a.data[1], 0x4f);
	assert_int_equal(a.data[2], 0xff);
	aml_free(&a);
	/* Then 3 bytes: 2 + 4092 + 3 = 0x1001. */
	scope_of(&a, 4092);
	assert_int_equal(a.len, 1 + 3 + 2 + 4092);
	assert_int_equal(a.data[1], 0x81);
	assert_int_equal(a.data[2], 0x00);
	assert_int_equal(a.data[3], 0x01);
	assert_int_equal(a.data[4], '\\');
	aml_free(&a);
	/* 3 bytes hold up to 0xfffff; then 4: 2 + 1048571 + 4 = 0x100001. */
	scope_of(&a, 1048570);
	assert_int_equal(a.data[0 + 1], 0x8f);
	assert_int_equal(a.data[2], 0xff);
	assert_int_equal(a.data[3], 0xff);
	aml_free(&a);
	scope_of(&a, 1048571);
	assert_int_equal(a.len, 1 + 4 + 2 + 1048571);
	assert_int_equal(a.data[1], 0xc1);
	assert_int_equal(a.data[2], 0x00);
	assert_int_equal(a.data[3], 0x00);
	assert_int_equal(a.data[4], 0x01);
	assert_int_equal(a.data[5], '\\');
	aml_free(&a);

	/* An inner term's length is inside the outer one's: Scope (\_SB)
	 * { Device (DEV) { 70 bytes } }. Device: 2 + 4 + 70 = 76 = 0x04c,
	 * so 0x4c 0x04; Scope: 2 + 4 + (2 + 2 + 4 + 70) = 84 = 0x054. */
	uint8_t body[70] = {0};
	aml_scope(&a, "_SB");
	aml_device(&a, "DEV");
	aml_bytes(&a, body, sizeof(body));
	aml_end(&a);
	aml_end(&a);
	assert_int_equal(aml_finish(&a), 0);
	assert_int_equal(a.len, 1 + 2 + 4 + 2 + 2 + 4 + 70);
	static const uint8_t head[] = {0x10, 0x44, 0x05, '_', 'S', 'B', '_', 0x5b,
				       0x82, 0x4c, 0x04, 'D', 'E', 'V', '_'};
	assert_memory_equal(a.data, head, sizeof(head));
	aml_free(&a);
}

static void test_named_objects(void **state)
{
	struct aml a;
	aml_init(&a);
	/* Name (_S5, Package (0x04) { Zero, Zero, Zero, Zero }) */
	aml_name_def(&a, "_S5");
	aml_package(&a, 4);
	for (int i = 0; i < 4; i++)
		aml_int(&a, 0);
	aml_end(&a);
	expect(&a, BYTES(0x08, '_', 'S', '5', '_', 0x12, 0x06, 0x04, 0x00, 0x00, 0x00, 0x00));

	/* Device (PCI0) { Name (_HID, EisaId ("PNP0A03")) } */
	aml_device(&a, "PCI0");
	aml_name_def(&a, "_HID");
	aml_eisaid(&a, "PNP0A03");
	aml_end(&a);
	expect(&a, BYTES(0x5b, 0x82, 0x0f, 'P', 'C', 'I', '0', 0x08, '_', 'H', 'I', 'D', 0x0c, 0x41,
			 0xd0, 0x0a, 0x03));

	/* Method (_STA, 0, NotSerialized) { Return (0x0F) } */
	aml_method(&a, "_STA", 0, false);
	aml_op(&a, AML_RETURN);
	aml_int(&a, 0x0f);
	aml_end(&a);
	expect(&a, BYTES(0x14, 0x09, '_', 'S', 'T', 'A', 0x00, 0xa4, 0x0a, 0x0f));

	/* Method (_SRS, 1, Serialized) { } */
	aml_method(&a, "_SRS", 1, true);
	aml_end(&a);
	expect(&a, BYTES(0x14, 0x06, '_', 'S', 'R', 'S', 0x09));

	/* OperationRegion (PIRQ, PCI_Config, 0x60, 0x04) and
	 * OperationRegion (DBG, SystemIO, 0x0402, One) */
	aml_opregion(&a, "PIRQ", AML_PCI_CONFIG, 0x60, 4);
	aml_opregion(&a, "DBG", AML_SYSTEM_IO, 0x402, 1);
	expect(&a, BYTES(0x5b, 0x80, 'P', 'I', 'R', 'Q', 0x02, 0x0a, 0x60, 0x0a, 0x04, 0x5b, 0x80,
			 'D', 'B', 'G', '_', 0x01, 0x0b, 0x02, 0x04, 0x01));

	/* Field (PIRQ, ByteAcc, NoLock, Preserve) { PRQA, 8, Offset (3), PRQD, 8 } */
	aml_field(&a, "PIRQ", AML_BYTE_ACC);
	aml_field_unit(&a, "PRQA", 8);
	aml_field_offset(&a, 3);
	aml_field_unit(&a, "PRQD", 8);
	aml_end(&a);
	expect(&a, BYTES(0x5b, 0x81, 0x12, 'P', 'I', 'R', 'Q', 0x01, 'P', 'R', 'Q', 'A', 0x08, 0x00,
			 0x10, 'P', 'R', 'Q', 'D', 0x08));

	/* Field (REG, DWordAcc, Lock, WriteAsZeros) { BIG, 256, Offset (32) }:
	 * a 256-bit unit's length takes two bytes; Offset (32) is where it
	 * ends already. */
	aml_field(&a, "REG", AML_DWORD_ACC | AML_LOCK | AML_WRITE_AS_ZEROS);
	aml_field_unit(&a, "BIG", 256);
	aml_field_offset(&a, 32);
	aml_end(&a);
	expect(&a,
	       BYTES(0x5b, 0x81, 0x0c, 'R', 'E', 'G', '_', 0x53, 'B', 'I', 'G', '_', 0x40, 0x10));

	/* Notify (PCI0, One) */
	aml_op(&a, AML_NOTIFY);
	aml_name(&a, "PCI0");
	aml_int(&a, 1);
	expect(&a, BYTES(0x86, 'P', 'C', 'I', '0', 0x01));
	aml_free(&a);
}

static void test_control_and_operators(void **state)
{
	struct aml a;
	aml_init(&a);
	/* If (LEqual (Arg0, One)) { Return (One) } Else { Return (Zero) } */
	aml_if(&a);
	aml_op(&a, AML_LEQUAL);
	aml_arg(&a, 0);
	aml_int(&a, 1);
	aml_op(&a, AML_RETURN);
	aml_int(&a, 1);
	aml_end(&a);
	aml_else(&a);
	aml_op(&a, AML_RETURN);
	aml_int(&a, 0);
	aml_end(&a);
	expect(&a, BYTES(0xa0, 0x06, 0x93, 0x68, 0x01, 0xa4, 0x01, 0xa1, 0x03, 0xa4, 0x00));

	/* While (LLess (Local0, 0x04)) { Increment (Local0) } Break */
	aml_while(&a);
	aml_op(&a, AML_LLESS);
	aml_local(&a, 0);
	aml_int(&a, 4);
	aml_op(&a, AML_INCREMENT);
	aml_local(&a, 0);
	aml_end(&a);
	aml_op(&a, AML_BREAK);
	expect(&a, BYTES(0xa2, 0x07, 0x95, 0x60, 0x0a, 0x04, 0x75, 0x60, 0xa5));

	/* Store (ShiftLeft (One, Arg1), Local0)
	 * And (Local0, 0x0F, Local1)
	 * Or (Arg0, 0x80, Arg0)
	 * ShiftRight (Local7, 0x02, ) -- no target: NullName */
	aml_op(&a, AML_STORE);
	aml_op(&a, AML_SHIFT_LEFT);
	aml_int(&a, 1);
	aml_arg(&a, 1);
	aml_no_target(&a);
	aml_local(&a, 0);
	aml_op(&a, AML_AND);
	aml_local(&a, 0);
	aml_int(&a, 0x0f);
	aml_local(&a, 1);
	aml_op(&a, AML_OR);
	aml_arg(&a, 0);
	aml_int(&a, 0x80);
	aml_arg(&a, 0);
	aml_op(&a, AML_SHIFT_RIGHT);
	aml_local(&a, 7);
	aml_int(&a, 2);
	aml_no_target(&a);
	expect(&a, BYTES(0x70, 0x79, 0x01, 0x69, 0x00, 0x60, 0x7b, 0x60, 0x0a, 0x0f, 0x61, 0x7d,
			 0x68, 0x0a, 0x80, 0x68, 0x7a, 0x67, 0x0a, 0x02, 0x00));

	/* CreateDWordField (Arg0, 0x05, PRRI)  CreateWordField (Local0, 0x02, WRD0) */
	aml_op(&a, AML_CREATE_DWORD_FIELD);
	aml_arg(&a, 0);
	aml_int(&a, 5);
	aml_name(&a, "PRRI");
	aml_op(&a, AML_CREATE_WORD_FIELD);
	aml_local(&a, 0);
	aml_int(&a, 2);
	aml_name(&a, "WRD0");
	expect(&a, BYTES(0x8a, 0x68, 0x0a, 0x05, 'P', 'R', 'R', 'I', 0x8b, 0x60, 0x0a, 0x02, 'W',
			 'R', 'D', '0'));

	/* Package with 256 elements: a VarPackage, the count a WordConst. */
	aml_package(&a, 256);
	for (int i = 0; i < 256; i++)
		aml_int(&a, 0);
	aml_end(&a);
	assert_int_equal(aml_finish(&a), 0);
	assert_int_equal(a.len, 1 + 2 + 3 + 256);
	static const uint8_t var[] = {0x13, 0x45, 0x10, 0x0b, 0x00, 0x01, 0x00};
	assert_memory_equal(a.data, var, sizeof(var));
	aml_free(&a);
}

static void test_buffers_and_resources(void **state)
{
	struct aml a;
	aml_init(&a);
	/* Buffer () { 1, 2, 3 } and Buffer () { } */
	aml_buffer(&a);
	aml_bytes(&a, BYTES(1, 2, 3));
	aml_end(&a);
	aml_buffer(&a);
	aml_end(&a);
	expect(&a, BYTES(0x11, 0x06, 0x0a, 0x03, 0x01, 0x02, 0x03, 0x11, 0x02, 0x00));

	/* ResourceTemplate () { IO (Decode16, 0x60, 0x60, 0x01, 0x01)
	 *   IO (Decode16, 0x64, 0x64, 0x01, 0x01) IRQNoFlags () {1} }:
	 * what iasl writes for a PC's keyboard (End Tag checksum 0). */
	aml_res_begin(&a);
	aml_res_io(&a, 0x60, 0x60, 1, 1);
	aml_res_io(&a, 0x64, 0x64, 1, 1);
	aml_res_irq_noflags(&a, 1u << 1);
	aml_res_end(&a, false);
	expect(&a,
	       BYTES(0x11, 0x18, 0x0a, 0x15, 0x47, 0x01, 0x60, 0x00, 0x60, 0x00, 0x01, 0x01, 0x47,
		     0x01, 0x64, 0x00, 0x64, 0x00, 0x01, 0x01, 0x22, 0x02, 0x00, 0x79, 0x00));

	/* With the checksum, the template's bytes sum to zero. */
	aml_res_begin(&a);
	aml_res_io(&a, 0x3f8, 0x3f8, 1, 8);
	aml_res_irq_noflags(&a, 1u << 4);
	aml_res_end(&a, true);
	assert_int_equal(aml_finish(&a), 0);
	assert_int_equal(a.len, 4 + 8 + 3 + 2);
	uint8_t sum = 0;
	for (size_t i = 4; i < a.len; i++)
		sum = (uint8_t)(sum + a.data[i]);
	assert_int_equal(sum, 0);
	assert_int_equal(a.data[a.len - 2], 0x79);
	assert_int_not_equal(a.data[a.len - 1], 0);
	aml_free(&a);

	/* IRQ (Level, ActiveLow, Shared) {10}; IRQ (Edge, ActiveHigh,
	 * Exclusive) {3, 4} */
	aml_res_begin(&a);
	aml_res_irq(&a, 1u << 10, AML_IRQ_LOW | AML_IRQ_SHARED);
	aml_res_irq(&a, 1u << 3 | 1u << 4, AML_IRQ_EDGE);
	aml_res_end(&a, false);
	expect(&a, BYTES(0x11, 0x0d, 0x0a, 0x0a, 0x23, 0x00, 0x04, 0x18, 0x23, 0x18, 0x00, 0x01,
			 0x79, 0x00));

	/* Interrupt (ResourceConsumer, Level, ActiveHigh, Shared) {5, 10, 11} */
	static const uint32_t irqs[] = {5, 10, 11};
	aml_res_begin(&a);
	aml_res_interrupt(&a, AML_IRQ_CONSUMER | AML_IRQ_SHARED, irqs, 3);
	aml_res_end(&a, false);
	expect(&a, BYTES(0x11, 0x16, 0x0a, 0x13, 0x89, 0x0e, 0x00, 0x09, 0x03, 0x05, 0x00, 0x00,
			 0x00, 0x0a, 0x00, 0x00, 0x00, 0x0b, 0x00, 0x00, 0x00, 0x79, 0x00));

	/* WordBusNumber (ResourceProducer, MinFixed, MaxFixed, PosDecode,
	 *   0, 0, 0xFF, 0, 0x100)
	 * WordIO (ResourceProducer, MinFixed, MaxFixed, PosDecode,
	 *   EntireRange, 0, 0, 0x0CF7, 0, 0x0CF8) */
	aml_res_begin(&a);
	aml_res_word_bus(&a, 0, 0xff);
	aml_res_word_io(&a, 0, 0xcf7);
	aml_res_end(&a, false);
	expect(&a,
	       BYTES(0x11, 0x25, 0x0a, 0x22, 0x88, 0x0d, 0x00, 0x02, 0x0c, 0x00, 0x00, 0x00, 0x00,
		     0x00, 0xff, 0x00, 0x00, 0x00, 0x00, 0x01, 0x88, 0x0d, 0x00, 0x01, 0x0c, 0x03,
		     0x00, 0x00, 0x00, 0x00, 0xf7, 0x0c, 0x00, 0x00, 0xf8, 0x0c, 0x79, 0x00));

	/* DWordMemory (ResourceProducer, PosDecode, MinFixed, MaxFixed,
	 *   Cacheable, ReadWrite, 0, 0xA0000, 0xBFFFF, 0, 0x20000) */
	aml_res_begin(&a);
	aml_res_dword_memory(&a, true, 0xa0000, 0xbffff);
	aml_res_end(&a, false);
	expect(&a, BYTES(0x11, 0x1f, 0x0a, 0x1c, 0x87, 0x17, 0x00, 0x00, 0x0c, 0x03, 0x00, 0x00,
			 0x00, 0x00, 0x00, 0x00, 0x0a, 0x00, 0xff, 0xff, 0x0b, 0x00, 0x00, 0x00,
			 0x00, 0x00, 0x00, 0x00, 0x02, 0x00, 0x79, 0x00));

	/* QWordMemory (ResourceProducer, PosDecode, MinFixed, MaxFixed,
	 *   NonCacheable, ReadWrite, 0, 0x8000000000, 0xFFFFFFFFFF, 0,
	 *   0x8000000000) */
	aml_res_begin(&a);
	aml_res_qword_memory(&a, false, 0x8000000000ull, 0xffffffffffull);
	aml_res_end(&a, false);
	expect(&a, BYTES(0x11, 0x33, 0x0a, 0x30, 0x8a, 0x2b, 0x00, 0x00, 0x0c, 0x01, 0, 0, 0, 0, 0,
			 0, 0, 0, 0x00, 0x00, 0x00, 0x00, 0x80, 0x00, 0x00, 0x00, 0xff, 0xff, 0xff,
			 0xff, 0xff, 0x00, 0x00, 0x00, 0, 0, 0, 0, 0, 0, 0, 0, 0x00, 0x00, 0x00,
			 0x00, 0x80, 0x00, 0x00, 0x00, 0x79, 0x00));
	aml_free(&a);
}

static void test_misuse(void **state)
{
	struct aml a;
	aml_init(&a);
	aml_res_io(&a, 0x60, 0x60, 1, 1); /* a descriptor outside a template */
	expect_error(&a, -EINVAL);
	aml_end(&a); /* nothing open */
	expect_error(&a, -EINVAL);
	aml_scope(&a, "_SB"); /* left open */
	expect_error(&a, -EINVAL);
	aml_res_begin(&a); /* closed without its End Tag */
	aml_end(&a);
	expect_error(&a, -EINVAL);
	aml_res_begin(&a); /* a term among descriptors */
	aml_int(&a, 1);
	expect_error(&a, -EINVAL);
	aml_field(&a, "REG", AML_BYTE_ACC); /* a term among field units */
	aml_int(&a, 1);
	expect_error(&a, -EINVAL);
	aml_field_unit(&a, "ABCD", 8); /* a unit outside a field */
	expect_error(&a, -EINVAL);
	aml_field(&a, "REG", AML_BYTE_ACC); /* a unit name that is a path */
	aml_field_unit(&a, "\\ABC", 8);
	expect_error(&a, -EINVAL);
	aml_field(&a, "REG", AML_BYTE_ACC); /* an offset going backwards */
	aml_field_unit(&a, "ABCD", 16);
	aml_field_offset(&a, 1);
	expect_error(&a, -EINVAL);
	aml_local(&a, 8);
	expect_error(&a, -EINVAL);
	aml_arg(&a, 7);
	expect_error(&a, -EINVAL);
	aml_method(&a, "_XYZ", 8, false);
	expect_error(&a, -EINVAL);
	aml_op(&a, (enum aml_op)0x42);
	expect_error(&a, -EINVAL);
	aml_res_begin(&a); /* max below min */
	aml_res_word_io(&a, 0x100, 0xff);
	expect_error(&a, -EINVAL);
	aml_res_begin(&a);
	aml_res_interrupt(&a, AML_IRQ_SHARED, NULL, 0);
	expect_error(&a, -EINVAL);
	for (int i = 0; i <= AML_MAX_DEPTH; i++)
		aml_scope(&a, "DEEP");
	expect_error(&a, -EINVAL);
	/* After an error nothing more is written. */
	aml_name(&a, "a");
	size_t len = a.len;
	aml_int(&a, 5);
	aml_scope(&a, "_SB");
	assert_int_equal(a.len, len);
	expect_error(&a, -EINVAL);
	aml_free(&a);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_integers),
	    cmocka_unit_test(test_strings_and_eisaid),
	    cmocka_unit_test(test_names),
	    cmocka_unit_test(test_pkglength),
	    cmocka_unit_test(test_named_objects),
	    cmocka_unit_test(test_control_and_operators),
	    cmocka_unit_test(test_buffers_and_resources),
	    cmocka_unit_test(test_misuse),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
