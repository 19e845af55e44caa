/* AML (ACPI Machine Language) builder: the byte encodings of ACPI 6.x chapter 20
 * and the resource descriptors of section 6.4, written in order into a buffer. */
#ifndef OSIO_AML_H
#define OSIO_AML_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* AML is prefix code: an operator's opcode comes first, then its operands in
 * the order the grammar lists them. Terms with a PkgLength (Scope, Device,
 * Method, If, Else, While, Package, Buffer, Field, ResourceTemplate) are
 * opened by a call and closed by aml_end(), which computes their length (1-4
 * bytes, ACPI 6.x 20.2.4). Every call after an error does nothing; the first
 * error is kept and returned by aml_finish(). Example, for
 *	Method (_STA, 0, NotSerialized) { Return (IQST (PRQA)) }
 *	aml_method(a, "_STA", 0, false);
 *	aml_op(a, AML_RETURN); aml_name(a, "IQST"); aml_name(a, "PRQA");
 *	aml_end(a);
 */

#define AML_MAX_DEPTH 32

/* Operators that take plain operands (TermArgs, SuperNames, Targets). */
enum aml_op {
	AML_STORE = 0x70,	/* Operand, SuperName */
	AML_ADD = 0x72,		/* Operand, Operand, Target */
	AML_CONCAT = 0x73,	/* Data, Data, Target */
	AML_SUBTRACT = 0x74,	/* Operand, Operand, Target */
	AML_INCREMENT = 0x75,	/* SuperName */
	AML_DECREMENT = 0x76,	/* SuperName */
	AML_MULTIPLY = 0x77,	/* Operand, Operand, Target */
	AML_SHIFT_LEFT = 0x79,	/* Operand, ShiftCount, Target */
	AML_SHIFT_RIGHT = 0x7a, /* Operand, ShiftCount, Target */
	AML_AND = 0x7b,		/* Operand, Operand, Target */
	AML_NAND = 0x7c,
	AML_OR = 0x7d,
	AML_NOR = 0x7e,
	AML_XOR = 0x7f,
	AML_NOT = 0x80,		       /* Operand, Target */
	AML_DEREF_OF = 0x83,	       /* ObjReference */
	AML_NOTIFY = 0x86,	       /* NotifyObject, NotifyValue */
	AML_SIZE_OF = 0x87,	       /* SuperName */
	AML_INDEX = 0x88,	       /* BuffPkgStrObj, IndexValue, Target */
	AML_CREATE_DWORD_FIELD = 0x8a, /* SourceBuff, ByteIndex, NameString */
	AML_CREATE_WORD_FIELD = 0x8b,
	AML_CREATE_BYTE_FIELD = 0x8c,
	AML_CREATE_QWORD_FIELD = 0x8f,
	AML_LAND = 0x90, /* Operand, Operand */
	AML_LOR = 0x91,
	AML_LNOT = 0x92, /* Operand */
	AML_LEQUAL = 0x93,
	AML_LGREATER = 0x94,
	AML_LLESS = 0x95,
	AML_NOOP = 0xa3,
	AML_RETURN = 0xa4, /* ArgObject */
	AML_BREAK = 0xa5,
};

/* OperationRegion spaces (ACPI 6.x 19.6.100). */
enum aml_region_space {
	AML_SYSTEM_MEMORY = 0x00,
	AML_SYSTEM_IO = 0x01,
	AML_PCI_CONFIG = 0x02,
};

/* FieldFlags: AccessType | LockRule | UpdateRule (20.2.5.2). */
enum aml_field_flags {
	AML_ANY_ACC = 0x00,
	AML_BYTE_ACC = 0x01,
	AML_WORD_ACC = 0x02,
	AML_DWORD_ACC = 0x03,
	AML_QWORD_ACC = 0x04,
	AML_LOCK = 0x10,
	AML_WRITE_AS_ONES = 0x20,
	AML_WRITE_AS_ZEROS = 0x40,
};

/* Interrupt and IRQ descriptor flags, as the Extended Interrupt descriptor
 * has them (6.4.3.6); the builder moves them where the IRQ descriptor keeps
 * them (6.4.2.1). */
enum aml_irq_flags {
	AML_IRQ_CONSUMER = 0x01, /* Interrupt () only */
	AML_IRQ_EDGE = 0x02,	 /* else level-triggered */
	AML_IRQ_LOW = 0x04,	 /* else active-high */
	AML_IRQ_SHARED = 0x08,
};

struct aml_open {
	size_t start; /* where the PkgLength goes */
	uint8_t kind;
	uint32_t bits; /* Field: bit offset of the next unit */
	size_t first;  /* Buffer/ResourceTemplate: where the bytes start */
};

struct aml {
	uint8_t *data;
	size_t len, cap;
	int err; /* the first error, -errno */
	unsigned depth;
	struct aml_open open[AML_MAX_DEPTH];
};

void aml_init(struct aml *a);
void aml_free(struct aml *a);
/* 0 when everything was encoded and every term closed; else -ENOMEM, -EINVAL
 * (a bad name, a call where the grammar does not allow it, a term left
 * open) or -E2BIG (a term longer than a PkgLength can say). */
int aml_finish(struct aml *a);

/* Raw bytes (a DefinitionBlock's body, a Buffer's contents). */
void aml_bytes(struct aml *a, const void *p, size_t n);
void aml_byte(struct aml *a, uint8_t v);

/* --- data -------------------------------------------------------------- */
/* The shortest encoding: Zero, One, BytePrefix, WordPrefix, DWordPrefix or
 * QWordPrefix constant. */
void aml_int(struct aml *a, uint64_t v);
void aml_ones(struct aml *a); /* OnesOp: all bits set, 64 of them in a revision 2 table */
void aml_string(struct aml *a, const char *s); /* ASCII 0x01-0x7f */
/* EisaId ("PNP0A03"): three capitals and four hex digits, as a DWordConst. */
void aml_eisaid(struct aml *a, const char *id);
/* A NameString from its ASL spelling: "\\_SB.PCI0", "^LNKA", "_S5", "PCI0.ISA"
 * (segments of 1-4 characters, padded with '_'). As a TermArg it is a
 * reference or a method call (the arguments follow). */
void aml_name(struct aml *a, const char *path);
void aml_local(struct aml *a, unsigned n); /* Local0-Local7 */
void aml_arg(struct aml *a, unsigned n);   /* Arg0-Arg6 */
void aml_no_target(struct aml *a);	   /* NullName: an operator's result is not stored */
void aml_op(struct aml *a, enum aml_op op);

/* --- named objects ------------------------------------------------------- */
void aml_name_def(struct aml *a, const char *name); /* Name (name, <the value follows>) */
void aml_opregion(struct aml *a, const char *name, enum aml_region_space space, uint64_t offset,
		  uint64_t len);

/* --- terms with a PkgLength, closed by aml_end ---------------------------- */
void aml_scope(struct aml *a, const char *name);
void aml_device(struct aml *a, const char *name);
/* Method (name, args, Serialized/NotSerialized); sync level 0. */
void aml_method(struct aml *a, const char *name, unsigned args, bool serialized);
void aml_if(struct aml *a); /* the predicate, then the body */
void aml_else(struct aml *a);
void aml_while(struct aml *a);
/* Package (n) {...}; more than 255 elements make a VarPackage. */
void aml_package(struct aml *a, unsigned elements);
void aml_buffer(struct aml *a); /* Buffer () {bytes}: the size is filled in */
/* Field (region, flags) { units }. */
void aml_field(struct aml *a, const char *region, unsigned flags);
void aml_field_unit(struct aml *a, const char *name, unsigned bits);
void aml_field_offset(struct aml *a, unsigned byte_offset); /* Offset (n): skips forward */
void aml_end(struct aml *a);

/* --- ResourceTemplate () { descriptors }: a Buffer ------------------------ */
void aml_res_begin(struct aml *a);
/* Adds the End Tag and closes the template. With `checksum`, the tag's
 * checksum makes the template's bytes sum to zero; without, it is 0 ("treat
 * as valid", what iasl writes), for templates a method rewrites at run time. */
void aml_res_end(struct aml *a, bool checksum);
/* IO (Decode16, min, max, align, len) */
void aml_res_io(struct aml *a, uint16_t min, uint16_t max, uint8_t align, uint8_t len);
/* IRQNoFlags () {irqs in mask}: edge-triggered, active-high, exclusive. */
void aml_res_irq_noflags(struct aml *a, uint16_t mask);
/* IRQ (flags) {irqs in mask}, with AML_IRQ_EDGE/LOW/SHARED. */
void aml_res_irq(struct aml *a, uint16_t mask, unsigned flags);
/* Interrupt (flags) {irqs}: the extended descriptor, 1-255 interrupts. */
void aml_res_interrupt(struct aml *a, unsigned flags, const uint32_t *irqs, unsigned n);
/* Address space descriptors as a PCI host bridge produces them: MinFixed,
 * MaxFixed, PosDecode, granularity 0, no translation, len = max - min + 1. */
void aml_res_word_bus(struct aml *a, uint16_t min, uint16_t max); /* WordBusNumber */
void aml_res_word_io(struct aml *a, uint16_t min, uint16_t max);  /* WordIO, EntireRange */
/* DWordMemory / QWordMemory, ReadWrite, Cacheable or NonCacheable. */
void aml_res_dword_memory(struct aml *a, bool cacheable, uint32_t min, uint32_t max);
void aml_res_qword_memory(struct aml *a, bool cacheable, uint64_t min, uint64_t max);

#endif
