/* acpi: turns the VM off the way an OS does, from the firmware's tables
 * alone: find the RSDP (EBDA, then 0xE0000-0xFFFFF), the FADT through the
 * RSDT/XSDT, the PM1a/PM1b control blocks, and the S5 sleep type in the
 * DSDT's \_S5 package; enter ACPI mode through SMI_CMD if the firmware left
 * it off; then write SLP_TYP | SLP_EN. The VMM must end with a plain power
 * off (status 0, no debug-exit write); if the VM is still running 2 s
 * later, that is a FAIL (status 1). */
#include "../lib/cmdline.h"
#include "../lib/io.h"
#include "../lib/str.h"
#include "../lib/test.h"
#include "../lib/timer.h"
#include "../lib/uart.h"

#define SLP_EN (1u << 13)
#define SCI_EN 1u

static u8 sum(const u8 *p, u32 len)
{
	u8 s = 0;
	for (u32 i = 0; i < len; i++)
		s = (u8)(s + p[i]);
	return s;
}

static u32 rd32(const u8 *p)
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

/* A table at a 32-bit address with the right signature and checksum. */
static const u8 *table(u32 addr, const char *sig)
{
	const u8 *t = (const u8 *)(uintptr_t)addr;
	if (addr == 0 || memcmp(t, sig, 4) != 0)
		return NULL;
	u32 len = rd32(t + 4);
	if (len < 36 || len > (1u << 20) || sum(t, len) != 0)
		return NULL;
	return t;
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

/* SLP_TYPa and SLP_TYPb from \_S5 = Package () { a, b, ... }. */
static bool find_s5(const u8 *dsdt, int *a, int *b)
{
	u32 len = rd32(dsdt + 4);
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

/* The BIOS data area's EBDA segment (read with asm: the compiler rejects a
 * dereference of an address inside the null page). */
static u16 ebda_segment(void)
{
	u16 v;
	__asm__ volatile("movw 0x40e, %0" : "=r"(v));
	return v;
}

void test_main(void)
{
	u16 ebda_seg = ebda_segment();
	const u8 *rsdp = NULL;
	if (ebda_seg)
		rsdp = scan_rsdp((uintptr_t)ebda_seg << 4, ((uintptr_t)ebda_seg << 4) + 1024);
	if (!rsdp)
		rsdp = scan_rsdp(0xe0000, 0x100000);
	if (!check(rsdp != NULL, "RSDP found with a valid checksum"))
		test_finish();
	printf("peer: acpi: RSDP at 0x%x, revision %u\n", (u32)(uintptr_t)rsdp, rsdp[15]);

	/* The FADT through the RSDT (32-bit pointers: paging is off). */
	const u8 *rsdt = table(rd32(rsdp + 16), "RSDT");
	if (!check(rsdt != NULL, "RSDT valid"))
		test_finish();
	const u8 *fadt = NULL, *madt = NULL;
	for (u32 off = 36; off + 4 <= rd32(rsdt + 4); off += 4) {
		if (!fadt)
			fadt = table(rd32(rsdt + off), "FACP");
		if (!madt)
			madt = table(rd32(rsdt + off), "APIC");
	}
	/* Every vCPU must be in the MADT, whoever built it (osio or the
	 * firmware): enabled processor local APIC / x2APIC entries. */
	if (check(madt != NULL, "MADT listed and valid")) {
		u32 len = rd32(madt + 4), cpus = 0;
		for (u32 off = 44; off + 2 <= len && madt[off + 1] >= 2; off += madt[off + 1]) {
			const u8 *e = madt + off;
			if ((e[0] == 0 && e[1] >= 8 && (rd32(e + 4) & 1)) ||
			    (e[0] == 9 && e[1] >= 16 && (rd32(e + 8) & 1)))
				cpus++;
		}
		printf("acpi: the MADT lists %u enabled processors\n", cpus);
		u64 want;
		if (arg_u64("cpus", &want))
			check(cpus == want, "the MADT lists every vCPU (cpus=%u)", (u32)want);
	}
	if (!check(fadt != NULL, "FADT listed and valid"))
		test_finish();
	u32 smi_cmd = rd32(fadt + 48), pm1a = rd32(fadt + 64), pm1b = rd32(fadt + 68);
	u8 acpi_enable = fadt[52];
	check(pm1a != 0 && pm1a < 0x10000, "FADT has a PM1a control block in I/O space");
	printf("peer: acpi: PM1a_CNT 0x%x, PM1b_CNT 0x%x, SMI_CMD 0x%x\n", pm1a, pm1b, smi_cmd);

	const u8 *dsdt = table(rd32(fadt + 40), "DSDT");
	if (!check(dsdt != NULL, "DSDT valid"))
		test_finish();
	int typ_a = -1, typ_b = -1;
	if (!check(find_s5(dsdt, &typ_a, &typ_b), "DSDT defines \\_S5 with two sleep types"))
		test_finish();
	check(typ_a < 8 && typ_b < 8, "S5 sleep types fit SLP_TYP");
	printf("peer: acpi: S5 SLP_TYPa %d, SLP_TYPb %d\n", typ_a, typ_b);

	if (!(inw((u16)pm1a) & SCI_EN) && smi_cmd) {
		outb((u16)smi_cmd, acpi_enable);
		struct timeout t;
		timeout_start(&t, 3000);
		while (!(inw((u16)pm1a) & SCI_EN) && !timeout_expired(&t))
			;
	}
	check(inw((u16)pm1a) & SCI_EN, "in ACPI mode (SCI_EN set)");
	if (test_failures)
		test_finish();

	printf("acpi: entering S5\n");
	printf("RESULT: PASS\n");
	console_flush();
	u16 cnt = (u16)(inw((u16)pm1a) & ~(7u << 10));
	if (pm1b)
		outw((u16)pm1b,
		     (u16)((inw((u16)pm1b) & ~(7u << 10)) | (u16)(typ_b << 10) | SLP_EN));
	outw((u16)pm1a, (u16)(cnt | (u16)(typ_a << 10) | SLP_EN));
	delay_ms(2000);
	printf("FAIL: still running 2 s after entering S5\n");
	guest_exit(1);
}
