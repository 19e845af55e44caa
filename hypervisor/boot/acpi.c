/* ACPI table construction (ACPI 6.x layouts, little-endian). */
#include "hypervisor/boot/acpi.h"

#include "hypervisor/bytes.h"
#include "hypervisor/cpuid.h"
#include "hypervisor/platform.h"
#include "devices/acpi_pm.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#define OEM_ID	     "OSIO  "
#define OEM_TABLE_ID "OSIOVM  "
#define CREATOR_ID   "OSIO"

struct buf {
	uint8_t *p;
	size_t len, cap;
};

static int grow(struct buf *b, size_t need)
{
	if (b->len + need <= b->cap)
		return 0;
	size_t cap = b->cap ? b->cap : 4096;
	while (cap < b->len + need)
		cap *= 2;
	uint8_t *p = realloc(b->p, cap);
	if (!p)
		return -ENOMEM;
	memset(p + b->cap, 0, cap - b->cap);
	b->p = p;
	b->cap = cap;
	return 0;
}

/* Reserves `len` zeroed bytes aligned to `align`; returns their offset. */
static long reserve(struct buf *b, size_t len, size_t align)
{
	size_t off = (b->len + align - 1) & ~(align - 1);
	if (grow(b, off - b->len + len) < 0)
		return -ENOMEM;
	b->len = off + len;
	return (long)off;
}

uint8_t acpi_checksum(const void *data, size_t len)
{
	uint8_t sum = 0;
	for (size_t i = 0; i < len; i++)
		sum += ((const uint8_t *)data)[i];
	return sum;
}

/* The 36-byte header every table but RSDP/FACS starts with. */
static void header(uint8_t *t, const char *sig, uint32_t len, uint8_t rev)
{
	memcpy(t, sig, 4);
	put_le32(t + 4, len);
	t[8] = rev;
	memcpy(t + 10, OEM_ID, 6);
	memcpy(t + 16, OEM_TABLE_ID, 8);
	put_le32(t + 24, 1);
	memcpy(t + 28, CREATOR_ID, 4);
	put_le32(t + 32, 1);
}

static void finish(uint8_t *t, uint32_t len)
{
	t[9] = 0;
	t[9] = (uint8_t)(0x100 - acpi_checksum(t, len));
}

/* Generic Address Structure for a system-I/O register block. */
static void gas_io(uint8_t *p, unsigned off, uint8_t bits, uint8_t access, uint64_t addr)
{
	p[off] = 1; /* system I/O */
	p[off + 1] = bits;
	p[off + 2] = 0;
	p[off + 3] = access;
	put_le64(p + off + 4, addr);
}

/* DSDT: just the \_S5 sleep package, so the OS knows the SLP_TYP value
 * that turns the machine off. AML: NameOp "\_S5_", PackageOp with
 * PkgLength 8 (itself, NumElements, six bytes of elements) and 4 elements:
 * BytePrefix SLP_TYPa, BytePrefix SLP_TYPb, Zero, Zero. */
static long build_dsdt(struct buf *b)
{
	static const uint8_t aml[] = {
	    0x08,
	    '\\',
	    '_',
	    'S',
	    '5',
	    '_',
	    0x12,
	    0x08,
	    0x04,
	    0x0a,
	    ACPI_SLP_TYP_S5,
	    0x0a,
	    ACPI_SLP_TYP_S5,
	    0x00,
	    0x00,
	};
	uint32_t len = 36 + sizeof(aml);
	long off = reserve(b, len, 16);
	if (off < 0)
		return off;
	uint8_t *t = b->p + off;
	header(t, "DSDT", len, 2);
	memcpy(t + 36, aml, sizeof(aml));
	finish(t, len);
	return off;
}

static long build_facs(struct buf *b)
{
	long off = reserve(b, 64, 64);
	if (off < 0)
		return off;
	uint8_t *t = b->p + off;
	memcpy(t, "FACS", 4);
	put_le32(t + 4, 64);
	t[32] = 2; /* version */
	return off;
}

static long build_fadt(struct buf *b, uint64_t base, long facs, long dsdt)
{
	const uint32_t len = 276;
	long off = reserve(b, len, 16);
	if (off < 0)
		return off;
	uint8_t *t = b->p + off;
	header(t, "FACP", len, 6);
	put_le32(t + 36, (uint32_t)(base + (uint64_t)facs));
	put_le32(t + 40, (uint32_t)(base + (uint64_t)dsdt));
	t[45] = 0;	   /* preferred PM profile: unspecified */
	put_le16(t + 46, IRQ_SCI); /* SCI_INT */
	put_le32(t + 48, 0);	   /* SMI_CMD: none, the platform is always in ACPI mode */
	put_le32(t + 56, ACPI_PM_EVT);
	put_le32(t + 64, ACPI_PM_CNT);
	put_le32(t + 76, ACPI_PM_TMR);
	t[88] = 4;	  /* PM1_EVT_LEN */
	t[89] = 2;	  /* PM1_CNT_LEN */
	t[91] = 4;	  /* PM_TMR_LEN */
	put_le16(t + 96, 0x65);	  /* P_LVL2_LAT > 100: C2 not supported */
	put_le16(t + 98, 0x3e9);  /* P_LVL3_LAT > 1000: C3 not supported */
	t[108] = 0x32; /* CENTURY: CMOS index of the century byte */
	/* IAPC_BOOT_ARCH: legacy devices and an 8042; no VGA (this
	 * machine has no display yet); MSI not supported (no PCI). */
	put_le16(t + 109, (1u << 0) | (1u << 1) | (1u << 2) | (1u << 3));
	uint32_t flags = (1u << 0)    /* WBINVD */
			 | (1u << 2)  /* PROC_C1 */
			 | (1u << 5); /* SLP_BUTTON: no sleep button */
	/* No RESET_REG_SUP: reboot goes through the 8042's reset line. */
	if (ACPI_PM_TMR_32BIT)
		flags |= 1u << 8; /* TMR_VAL_EXT */
	put_le32(t + 112, flags);
	t[131] = 0; /* FADT minor version */
	put_le64(t + 132, base + (uint64_t)facs);
	put_le64(t + 140, base + (uint64_t)dsdt);
	gas_io(t, 148, 32, 2, ACPI_PM_EVT);
	gas_io(t, 172, 16, 2, ACPI_PM_CNT);
	gas_io(t, 208, 32, 3, ACPI_PM_TMR);
	memcpy(t + 268, "osio\0\0\0\0", 8); /* hypervisor vendor identity */
	finish(t, len);
	return off;
}

static long build_madt(struct buf *b, unsigned cpus)
{
	size_t len = 44;
	for (unsigned i = 0; i < cpus; i++)
		len += cpuid_apic_id(i) < 255 ? 8 : 16;
	len += 12;     /* IOAPIC */
	len += 10 * 2; /* overrides: IRQ0 -> GSI2, SCI */
	len += 6;      /* LAPIC NMI on LINT1 */
	long off = reserve(b, len, 16);
	if (off < 0)
		return off;
	uint8_t *t = b->p + off;
	header(t, "APIC", (uint32_t)len, 5);
	put_le32(t + 36, (uint32_t)LAPIC_ADDR);
	put_le32(t + 40, 1); /* PCAT_COMPAT: dual 8259s present */
	unsigned p = 44;
	for (unsigned i = 0; i < cpus; i++) {
		unsigned id = cpuid_apic_id(i);
		if (id < 255) {
			t[p] = 0; /* processor local APIC */
			t[p + 1] = 8;
			t[p + 2] = (uint8_t)i; /* ACPI processor UID */
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
	/* Interrupt source overrides: the PIT's IRQ 0 is wired to pin 2;
	 * the SCI is level-triggered, active high. */
	t[p] = 2;
	t[p + 1] = 10;
	t[p + 2] = 0;
	t[p + 3] = IRQ_PIT;
	put_le32(t + p + 4, 2);
	put_le16(t + p + 8, 0);
	p += 10;
	t[p] = 2;
	t[p + 1] = 10;
	t[p + 2] = 0;
	t[p + 3] = IRQ_SCI;
	put_le32(t + p + 4, IRQ_SCI);
	put_le16(t + p + 8, 0x000d);
	p += 10;
	t[p] = 4; /* local APIC NMI: all processors, LINT1 */
	t[p + 1] = 6;
	t[p + 2] = 0xff;
	put_le16(t + p + 3, 0);
	t[p + 5] = 1;
	p += 6;
	finish(t, (uint32_t)len);
	return off;
}

int acpi_build(struct acpi_tables *out, uint64_t base, unsigned cpus)
{
	struct buf b = {0};
	memset(out, 0, sizeof(*out));
	if (base % 16 || base >= (1ull << 32))
		return -EINVAL;
	long rsdp = reserve(&b, 36, 16);
	long dsdt = build_dsdt(&b);
	long facs = build_facs(&b);
	long fadt = dsdt >= 0 && facs >= 0 ? build_fadt(&b, base, facs, dsdt) : -ENOMEM;
	long madt = build_madt(&b, cpus);
	long rsdt = reserve(&b, 36 + 2 * 4, 16);
	long xsdt = reserve(&b, 36 + 2 * 8, 16);
	if (rsdp < 0 || fadt < 0 || madt < 0 || rsdt < 0 || xsdt < 0) {
		free(b.p);
		return -ENOMEM;
	}
	uint8_t *t = b.p + rsdt;
	header(t, "RSDT", 36 + 8, 1);
	put_le32(t + 36, (uint32_t)(base + (uint64_t)fadt));
	put_le32(t + 40, (uint32_t)(base + (uint64_t)madt));
	finish(t, 44);
	t = b.p + xsdt;
	header(t, "XSDT", 36 + 16, 1);
	put_le64(t + 36, base + (uint64_t)fadt);
	put_le64(t + 44, base + (uint64_t)madt);
	finish(t, 52);

	t = b.p + rsdp;
	memcpy(t, "RSD PTR ", 8);
	memcpy(t + 9, OEM_ID, 6);
	t[15] = 2; /* revision: ACPI 2.0+ */
	put_le32(t + 16, (uint32_t)(base + (uint64_t)rsdt));
	put_le32(t + 20, 36);
	put_le64(t + 24, base + (uint64_t)xsdt);
	t[8] = (uint8_t)(0x100 - acpi_checksum(t, 20));
	t[32] = (uint8_t)(0x100 - acpi_checksum(t, 36));

	out->blob = b.p;
	out->size = b.len;
	out->base = base;
	out->rsdp = base + (uint64_t)rsdp;
	return 0;
}

void acpi_free(struct acpi_tables *t)
{
	free(t->blob);
	memset(t, 0, sizeof(*t));
}
