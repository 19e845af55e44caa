/* ACPI table construction (ACPI 6.x layouts, little-endian): the tables as one
 * relocatable set, and that set placed at a fixed guest address with its RSDP. */
#include "hypervisor/boot/acpi.h"

#include "devices/acpi_pm.h"
#include "devices/device.h"
#include "hypervisor/bytes.h"
#include "hypervisor/cpuid.h"
#include "hypervisor/platform.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define OEM_ID	     "OSIO  "
#define OEM_TABLE_ID "OSIOVM  "
#define CREATOR_ID   "OSIO"

#define HEADER_LEN 36
#define FACS_LEN   64
#define FADT_LEN   276
#define RSDP_LEN   36

/* The PIIX's reset control register (devices/pci.c): writing 0x06 (SYS_RST
 * | RST_CPU) resets the machine. */
#define PIIX_RCR_PORT  0xcf9
#define PIIX_RCR_RESET 0x06

/* FADT IAPC_BOOT_ARCH (5.2.9.3) and flags (5.2.9, table 5.10). */
#define BOOT_ARCH_LEGACY_DEVICES 0x0001
#define BOOT_ARCH_8042		 0x0002
#define BOOT_ARCH_NO_VGA	 0x0004
#define BOOT_ARCH_NO_MSI	 0x0008
#define FADT_WBINVD		 (1u << 0)
#define FADT_PROC_C1		 (1u << 2)
#define FADT_SLP_BUTTON		 (1u << 5) /* no sleep button */
#define FADT_TMR_VAL_EXT	 (1u << 8)
#define FADT_RESET_REG_SUP	 (1u << 10)

/* MADT interrupt source override flags: active high (01), level (11). */
#define MPS_INTI_HIGH_LEVEL 0x000d

uint8_t acpi_checksum(const void *data, size_t len)
{
	uint8_t sum = 0;
	for (size_t i = 0; i < len; i++)
		sum += ((const uint8_t *)data)[i];
	return sum;
}

void acpi_machine_describe(struct acpi_machine *am, struct machine *m)
{
	memset(am, 0, sizeof(*am));
	am->cpus = m->cpus;
	am->ram_below_4g = m->ram_below_4g;
	am->ram_above_4g = m->ram_above_4g;
	am->phys_bits = m->phys_bits;
	am->pci = m->pci != NULL;
	am->vga = machine_device(m, "vga") != NULL;
	for (unsigned i = 0; i < 4; i++) {
		char id[8];
		snprintf(id, sizeof(id), "com%u", i + 1);
		if (machine_device(m, id))
			am->serial |= (uint8_t)(1u << i);
	}
}

/* --- the set -------------------------------------------------------------- */

struct builder {
	struct acpi_set *s;
	size_t cap;
	int err;
};

/* Reserves `len` zeroed bytes aligned to `align`; returns their offset, or
 * -1 with the error recorded. */
static long reserve(struct builder *b, size_t len, size_t align)
{
	struct acpi_set *s = b->s;
	if (b->err)
		return -1;
	size_t off = (s->size + align - 1) & ~(align - 1);
	if (off + len > b->cap) {
		size_t cap = b->cap ? b->cap : 4096;
		while (cap < off + len)
			cap *= 2;
		uint8_t *p = realloc(s->blob, cap);
		if (!p) {
			b->err = -ENOMEM;
			return -1;
		}
		memset(p + b->cap, 0, cap - b->cap);
		s->blob = p;
		b->cap = cap;
	}
	s->size = off + len;
	return (long)off;
}

/* A table with the 36-byte header every table but RSDP and FACS starts
 * with; its checksum is left 0 and recorded for whoever places the set. */
static long table(struct builder *b, const char *sig, size_t len, uint8_t rev)
{
	struct acpi_set *s = b->s;
	if (len > UINT32_MAX || s->ntable == ACPI_SET_TABLES) {
		b->err = b->err ? b->err : -E2BIG;
		return -1;
	}
	long off = reserve(b, len, 16);
	if (off < 0)
		return -1;
	uint8_t *t = s->blob + off;
	memcpy(t, sig, 4);
	put_le32(t + 4, (uint32_t)len);
	t[8] = rev;
	memcpy(t + 10, OEM_ID, 6);
	memcpy(t + 16, OEM_TABLE_ID, 8);
	put_le32(t + 24, 1);
	memcpy(t + 28, CREATOR_ID, 4);
	put_le32(t + 32, 1);
	s->table[s->ntable].off = (uint32_t)off;
	s->table[s->ntable].len = (uint32_t)len;
	s->ntable++;
	return off;
}

/* A pointer at `at` (size 4 or 8) to the table at offset `target`. */
static void pointer(struct builder *b, long at, unsigned size, long target)
{
	struct acpi_set *s = b->s;
	if (b->err)
		return;
	if (s->nptr == ACPI_SET_POINTERS) {
		b->err = -E2BIG;
		return;
	}
	put_le(s->blob + at, (uint64_t)target, size);
	s->ptr[s->nptr].off = (uint32_t)at;
	s->ptr[s->nptr].size = (uint8_t)size;
	s->nptr++;
}

static long build_facs(struct builder *b)
{
	long off = reserve(b, FACS_LEN, 64);
	if (off < 0)
		return -1;
	uint8_t *t = b->s->blob + off;
	memcpy(t, "FACS", 4);
	put_le32(t + 4, FACS_LEN);
	t[32] = 2; /* version */
	return off;
}

static long build_dsdt(struct builder *b, const struct acpi_machine *m)
{
	struct aml a;
	int r = acpi_build_dsdt(m, &a);
	if (r < 0) {
		b->err = b->err ? b->err : r;
		return -1;
	}
	long off = table(b, "DSDT", HEADER_LEN + a.len, 2);
	if (off >= 0)
		memcpy(b->s->blob + off + HEADER_LEN, a.data, a.len);
	aml_free(&a);
	return off;
}

/* Generic Address Structure for a system-I/O register block. */
static void gas_io(uint8_t *p, uint8_t bits, uint8_t access, uint64_t addr)
{
	p[0] = 1; /* system I/O */
	p[1] = bits;
	p[2] = 0;
	p[3] = access;
	put_le64(p + 4, addr);
}

static long build_fadt(struct builder *b, const struct acpi_machine *m, long facs, long dsdt)
{
	long off = table(b, "FACP", FADT_LEN, 6);
	if (off < 0)
		return -1;
	/* The FACS below 4 GiB: FIRMWARE_CTRL, and X_FIRMWARE_CTRL must then
	 * be 0 (ACPI 6.x table 5.9). The DSDT in both fields. */
	pointer(b, off + 36, 4, facs);	/* FIRMWARE_CTRL */
	pointer(b, off + 40, 4, dsdt);	/* DSDT */
	pointer(b, off + 140, 8, dsdt); /* X_DSDT */
	uint8_t *t = b->s->blob + off;
	t[45] = 0;		   /* preferred PM profile: unspecified */
	put_le16(t + 46, IRQ_SCI); /* SCI_INT */
	put_le32(t + 48, 0);	   /* SMI_CMD: none, the platform is always in ACPI mode */
	put_le32(t + 56, ACPI_PM_EVT);
	put_le32(t + 64, ACPI_PM_CNT);
	put_le32(t + 76, ACPI_PM_TMR);
	t[88] = 4;		 /* PM1_EVT_LEN */
	t[89] = 2;		 /* PM1_CNT_LEN */
	t[91] = 4;		 /* PM_TMR_LEN */
	put_le16(t + 96, 0x65);	 /* P_LVL2_LAT > 100: C2 not supported */
	put_le16(t + 98, 0x3e9); /* P_LVL3_LAT > 1000: C3 not supported */
	t[108] = 0x32;		 /* CENTURY: CMOS index of the century byte */
	/* No device has MSI yet, so none is promised. */
	uint16_t arch = BOOT_ARCH_LEGACY_DEVICES | BOOT_ARCH_8042 | BOOT_ARCH_NO_MSI;
	if (!m->vga)
		arch |= BOOT_ARCH_NO_VGA;
	put_le16(t + 109, arch);
	uint32_t flags = FADT_WBINVD | FADT_PROC_C1 | FADT_SLP_BUTTON;
	if (ACPI_PM_TMR_32BIT)
		flags |= FADT_TMR_VAL_EXT;
	if (m->pci) {
		/* RESET_REG: the PIIX's reset control register. */
		flags |= FADT_RESET_REG_SUP;
		gas_io(t + 116, 8, 1, PIIX_RCR_PORT);
		t[128] = PIIX_RCR_RESET;
	}
	put_le32(t + 112, flags);
	t[131] = 0; /* FADT minor version */
	gas_io(t + 148, 32, 2, ACPI_PM_EVT);
	gas_io(t + 172, 16, 2, ACPI_PM_CNT);
	gas_io(t + 208, 32, 3, ACPI_PM_TMR);
	memcpy(t + 268, "osio\0\0\0\0", 8); /* hypervisor vendor identity */
	return off;
}

/* The ISA IRQs whose MADT override makes them level-triggered, active high:
 * the SCI, and with PCI the IRQs the PCI links offer. */
static const uint8_t level_irqs_pci[] = {5, IRQ_SCI, 10, 11};
static const uint8_t level_irqs_isa[] = {IRQ_SCI};

static long build_madt(struct builder *b, const struct acpi_machine *m)
{
	const uint8_t *level = m->pci ? level_irqs_pci : level_irqs_isa;
	size_t nlevel = m->pci ? sizeof(level_irqs_pci) : sizeof(level_irqs_isa);
	size_t len = 44;
	for (unsigned i = 0; i < m->cpus; i++)
		len += cpuid_apic_id(i) < 255 ? 8 : 16;
	len += 12;		  /* IOAPIC */
	len += 10 * (1 + nlevel); /* overrides: IRQ0 -> GSI 2, the level IRQs */
	len += 6;		  /* LAPIC NMI on LINT1 */
	long off = table(b, "APIC", len, 5);
	if (off < 0)
		return -1;
	uint8_t *t = b->s->blob + off;
	put_le32(t + 36, (uint32_t)LAPIC_ADDR);
	put_le32(t + 40, 1); /* PCAT_COMPAT: dual 8259s present */
	size_t p = 44;
	for (unsigned i = 0; i < m->cpus; i++) {
		unsigned id = cpuid_apic_id(i);
		if (id < 255) {
			t[p] = 0; /* processor local APIC */
			t[p + 1] = 8;
			t[p + 2] = (uint8_t)i; /* ACPI processor UID (id < 255 implies i < 255) */
			t[p + 3] = (uint8_t)id;
			put_le32(t + p + 4, 1); /* enabled */
			p += 8;
		} else {
			t[p] = 9; /* processor local x2APIC */
			t[p + 1] = 16;
			put_le32(t + p + 4, id);
			put_le32(t + p + 8, 1);
			put_le32(t + p + 12, i);
			p += 16;
		}
	}
	t[p] = 1; /* I/O APIC */
	t[p + 1] = 12;
	t[p + 2] = 0; /* IOAPIC id */
	put_le32(t + p + 4, (uint32_t)IOAPIC_ADDR);
	put_le32(t + p + 8, 0); /* GSI base */
	p += 12;
	/* Interrupt source overrides: the PIT's IRQ 0 is wired to pin 2
	 * (flags 0: as the bus says, edge and high for ISA). */
	t[p] = 2;
	t[p + 1] = 10;
	t[p + 2] = 0;
	t[p + 3] = IRQ_PIT;
	put_le32(t + p + 4, 2);
	put_le16(t + p + 8, 0);
	p += 10;
	for (size_t i = 0; i < nlevel; i++) {
		t[p] = 2;
		t[p + 1] = 10;
		t[p + 2] = 0;
		t[p + 3] = level[i];
		put_le32(t + p + 4, level[i]);
		put_le16(t + p + 8, MPS_INTI_HIGH_LEVEL);
		p += 10;
	}
	t[p] = 4; /* local APIC NMI: all processors, LINT1 */
	t[p + 1] = 6;
	t[p + 2] = 0xff;
	put_le16(t + p + 3, 0);
	t[p + 5] = 1;
	return off;
}

int acpi_set_build(struct acpi_set *s, const struct acpi_machine *m)
{
	memset(s, 0, sizeof(*s));
	if (m->cpus == 0 || m->cpus > ACPI_MAX_CPUS)
		return -EINVAL;
	struct builder b = {.s = s};
	/* FACS first: the set is placed 64-byte aligned, as the FACS must be. */
	long facs = build_facs(&b);
	long dsdt = build_dsdt(&b, m);
	long fadt = build_fadt(&b, m, facs, dsdt);
	long madt = build_madt(&b, m);
	long rsdt = table(&b, "RSDT", HEADER_LEN + 2 * 4, 1);
	long xsdt = table(&b, "XSDT", HEADER_LEN + 2 * 8, 1);
	pointer(&b, rsdt + HEADER_LEN, 4, fadt);
	pointer(&b, rsdt + HEADER_LEN + 4, 4, madt);
	pointer(&b, xsdt + HEADER_LEN, 8, fadt);
	pointer(&b, xsdt + HEADER_LEN + 8, 8, madt);
	if (!b.err && s->size > UINT32_MAX)
		b.err = -E2BIG;
	if (b.err) {
		acpi_set_free(s);
		return b.err;
	}
	s->rsdt = (uint32_t)rsdt;
	s->xsdt = (uint32_t)xsdt;
	return 0;
}

void acpi_set_free(struct acpi_set *s)
{
	free(s->blob);
	memset(s, 0, sizeof(*s));
}

void acpi_rsdp_fill(uint8_t t[RSDP_LEN], uint32_t rsdt, uint64_t xsdt)
{
	memset(t, 0, RSDP_LEN);
	memcpy(t, "RSD PTR ", 8);
	memcpy(t + 9, OEM_ID, 6);
	t[15] = 2; /* revision: ACPI 2.0+ */
	put_le32(t + 16, rsdt);
	put_le32(t + 20, RSDP_LEN);
	put_le64(t + 24, xsdt);
	t[8] = (uint8_t)(0x100 - acpi_checksum(t, 20));
	t[32] = (uint8_t)(0x100 - acpi_checksum(t, RSDP_LEN));
}

/* --- at a fixed address ----------------------------------------------------- */

#define SET_AT 64 /* the set's offset in the blob, after the RSDP */

int acpi_build_pc(struct acpi_tables *out, uint64_t base, const struct acpi_machine *m)
{
	memset(out, 0, sizeof(*out));
	if (base % 64 || base >= (1ull << 32))
		return -EINVAL;
	struct acpi_set s;
	int r = acpi_set_build(&s, m);
	if (r < 0)
		return r;
	size_t size = SET_AT + s.size;
	uint64_t at = base + SET_AT;
	if (base + size > (1ull << 32)) { /* RSDT entries and FIRMWARE_CTRL are 32-bit */
		acpi_set_free(&s);
		return -E2BIG;
	}
	uint8_t *blob = calloc(1, size);
	if (!blob) {
		acpi_set_free(&s);
		return -ENOMEM;
	}
	uint8_t *set = blob + SET_AT;
	memcpy(set, s.blob, s.size);
	for (unsigned i = 0; i < s.nptr; i++) {
		uint8_t *p = set + s.ptr[i].off;
		put_le(p, get_le(p, s.ptr[i].size) + at, s.ptr[i].size);
	}
	for (unsigned i = 0; i < s.ntable; i++) {
		uint8_t *t = set + s.table[i].off;
		t[9] = (uint8_t)(0x100 - acpi_checksum(t, s.table[i].len));
	}
	acpi_rsdp_fill(blob, (uint32_t)(at + s.rsdt), at + s.xsdt);
	acpi_set_free(&s);

	out->blob = blob;
	out->size = size;
	out->base = base;
	out->rsdp = base;
	return 0;
}

void acpi_free(struct acpi_tables *t)
{
	free(t->blob);
	memset(t, 0, sizeof(*t));
}
