/* Finding the firmware's ACPI tables and entering a sleep state (acpi.h). */
#include "acpi.h"

#include "io.h"
#include "str.h"

static u8 sum(const u8 *p, u32 len)
{
	u8 s = 0;
	for (u32 i = 0; i < len; i++)
		s = (u8)(s + p[i]);
	return s;
}

u32 acpi_rd32(const u8 *p)
{
	return (u32)p[0] | (u32)p[1] << 8 | (u32)p[2] << 16 | (u32)p[3] << 24;
}

static const u8 *scan_rsdp(uintptr_t from, uintptr_t to)
{
	for (uintptr_t a = from; a + 20 <= to; a += 16) {
		const u8 *p = (const u8 *)a;
		if (memcmp(p, "RSD PTR ", 8) == 0 && sum(p, 20) == 0)
			return p;
	}
	return NULL;
}

/* The BIOS data area's EBDA segment (read with asm: the compiler rejects a
 * dereference of an address inside the null page). */
static u16 ebda_segment(void)
{
	u16 v;
	__asm__ volatile("movw 0x40e, %0" : "=r"(v));
	return v;
}

const u8 *acpi_rsdp(void)
{
	u16 seg = ebda_segment();
	const u8 *rsdp = NULL;
	if (seg)
		rsdp = scan_rsdp((uintptr_t)seg << 4, ((uintptr_t)seg << 4) + 1024);
	if (!rsdp)
		rsdp = scan_rsdp(0xe0000, 0x100000);
	return rsdp;
}

const u8 *acpi_table(u32 addr, const char *sig)
{
	const u8 *t = (const u8 *)(uintptr_t)addr;
	if (addr == 0 || memcmp(t, sig, 4) != 0)
		return NULL;
	u32 len = acpi_rd32(t + 4);
	if (len < 36 || len > (1u << 20) || sum(t, len) != 0)
		return NULL;
	return t;
}

const u8 *acpi_find(const u8 *rsdp, const char *sig)
{
	const u8 *rsdt = acpi_table(acpi_rd32(rsdp + 16), "RSDT");
	if (!rsdt)
		return NULL;
	for (u32 off = 36; off + 4 <= acpi_rd32(rsdt + 4); off += 4) {
		const u8 *t = acpi_table(acpi_rd32(rsdt + off), sig);
		if (t)
			return t;
	}
	return NULL;
}

/* One element of a package: ZeroOp, OneOp, OnesOp or a BytePrefix/
 * WordPrefix constant; -1 for anything else. */
static int aml_integer(const u8 **pp, const u8 *end)
{
	const u8 *p = *pp;
	if (p >= end)
		return -1;
	switch (p[0]) {
	case 0x00:
		*pp = p + 1;
		return 0;
	case 0x01:
		*pp = p + 1;
		return 1;
	case 0xff:
		*pp = p + 1;
		return 0xff;
	case 0x0a:
		if (p + 2 > end)
			return -1;
		*pp = p + 2;
		return p[1];
	case 0x0b:
		if (p + 3 > end)
			return -1;
		*pp = p + 3;
		return p[1] | p[2] << 8;
	}
	return -1;
}

bool acpi_s5(const u8 *dsdt, int *a, int *b)
{
	u32 len = acpi_rd32(dsdt + 4);
	const u8 *end = dsdt + len;
	for (const u8 *p = dsdt + 36; p + 5 < end; p++) {
		if (memcmp(p, "_S5_", 4) != 0 || p[4] != 0x12)
			continue;
		if (!(p[-1] == 0x08 || (p[-1] == '\\' && p[-2] == 0x08)))
			continue;
		const u8 *q = p + 5;
		unsigned extra = q[0] >> 6; /* PkgLength: bytes that follow the lead */
		q += 1 + extra;
		q++; /* NumElements */
		*a = aml_integer(&q, end);
		*b = aml_integer(&q, end);
		return *a >= 0 && *b >= 0;
	}
	return false;
}

void acpi_enter_sleep(u32 pm1a_cnt, u32 pm1b_cnt, int typ_a, int typ_b)
{
	u16 cnt = (u16)(inw((u16)pm1a_cnt) & ~(7u << 10));
	if (pm1b_cnt)
		outw((u16)pm1b_cnt,
		     (u16)((inw((u16)pm1b_cnt) & ~(7u << 10)) | (u16)(typ_b << 10) | PM1_SLP_EN));
	outw((u16)pm1a_cnt, (u16)(cnt | (u16)(typ_a << 10) | PM1_SLP_EN));
}
