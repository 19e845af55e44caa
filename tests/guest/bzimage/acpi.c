/* ACPI check: the RSDP (acpi_rsdp_addr, else Linux's EBDA/BIOS-area search), the RSDT or XSDT
 * and every table in it, the FADT's DSDT and FACS, and the MADT's processors against cpus=. */
#include "guest.h"

#define SDT_HEADER 36
#define TABLE_MAX  (1u << 20)

static uint8_t sum(const uint8_t *p, uint32_t len)
{
	uint8_t s = 0;

	while (len--)
		s += *p++;
	return s;
}

static uint32_t rd32(const uint8_t *p)
{
	return p[0] | p[1] << 8 | p[2] << 16 | (uint32_t)p[3] << 24;
}

static uint64_t rd64(const uint8_t *p)
{
	return rd32(p) | (uint64_t)rd32(p + 4) << 32;
}

/* A system description table at addr: reachable, sane length, checksum 0, and the signature
 * when one is asked for. NULL (and a failure reported) otherwise. */
static const uint8_t *table(uint64_t addr, const char *sig)
{
	const uint8_t *t = (const uint8_t *)(uintptr_t)addr;
	uint32_t len;

	if (!addr || !mapped(addr, SDT_HEADER)) {
		fail("acpi: table %s at 0x%lx is outside the first 4 GiB", sig ? sig : "", addr);
		return NULL;
	}
	len = rd32(t + 4);
	if (sig && memcmp(t, sig, 4) != 0) {
		fail("acpi: 0x%lx holds \"%c%c%c%c\", not %s", addr, t[0], t[1], t[2], t[3], sig);
		return NULL;
	}
	if (len < SDT_HEADER || len > TABLE_MAX || !mapped(addr, len)) {
		fail("acpi: %c%c%c%c at 0x%lx has length %u", t[0], t[1], t[2], t[3], addr, len);
		return NULL;
	}
	if (sum(t, len) != 0) {
		fail("acpi: %c%c%c%c at 0x%lx has a bad checksum", t[0], t[1], t[2], t[3], addr);
		return NULL;
	}
	return t;
}

static bool rsdp_valid(const uint8_t *p)
{
	if (memcmp(p, "RSD PTR ", 8) != 0 || sum(p, 20) != 0)
		return false;
	return p[15] < 2 || (rd32(p + 20) >= 36 && rd32(p + 20) <= 4096 && sum(p, 36) == 0);
}

/* Linux's acpi_find_root_pointer(): the first KiB of the EBDA, then the BIOS area, on 16-byte
 * boundaries. */
static uint64_t rsdp_scan(void)
{
	const volatile uint16_t *bda_ebda = phys(0x40e); /* BIOS data area: EBDA segment */
	uint64_t ebda = (uint64_t)bda_ebda[0] << 4;

	if (ebda >= 0x400 && ebda + 1024 <= 0xa0000)
		for (uint64_t a = ebda; a < ebda + 1024; a += 16)
			if (rsdp_valid((const uint8_t *)(uintptr_t)a))
				return a;
	for (uint64_t a = 0xe0000; a < 0x100000; a += 16)
		if (rsdp_valid((const uint8_t *)(uintptr_t)a))
			return a;
	return 0;
}

static unsigned madt_cpus(const uint8_t *m)
{
	uint32_t len = rd32(m + 4), off = 44;
	unsigned n = 0;

	while (off + 2 <= len) {
		const uint8_t *e = m + off;

		if (e[1] < 2 || off + e[1] > len) {
			fail("acpi: MADT entry at offset %u has length %u", off, e[1]);
			break;
		}
		if (e[0] == 0 && e[1] >= 8 && (rd32(e + 4) & 1))
			n++; /* processor local APIC, enabled */
		else if (e[0] == 9 && e[1] >= 16 && (rd32(e + 8) & 1))
			n++; /* processor local x2APIC, enabled */
		off += e[1];
	}
	return n;
}

static void check_fadt(const uint8_t *f)
{
	uint32_t len = rd32(f + 4);
	uint64_t dsdt = rd32(f + 40), facs = rd32(f + 36);

	/* ACPI 2.0+: X_FIRMWARE_CTRL at 132, X_DSDT at 140 win when present. */
	if (len >= 148 && rd64(f + 140))
		dsdt = rd64(f + 140);
	if (len >= 140 && rd64(f + 132))
		facs = rd64(f + 132);
	table(dsdt, "DSDT");
	if (facs) {
		const uint8_t *p = (const uint8_t *)(uintptr_t)facs;

		if (!mapped(facs, 64) || memcmp(p, "FACS", 4) != 0 || rd32(p + 4) < 64)
			fail("acpi: FACS at 0x%lx is not a FACS", facs);
	}
}

void check_acpi(const struct boot_ctx *c)
{
	uint64_t rsdp = c->bp->acpi_rsdp_addr;
	const uint8_t *p, *root, *fadt = NULL, *madt = NULL;
	unsigned before = failures, width, n;
	char names[5 * 32 + 1];
	size_t nl = 0;

	if (rsdp) {
		if (!mapped(rsdp, 36) || !rsdp_valid((const uint8_t *)(uintptr_t)rsdp)) {
			fail("acpi: acpi_rsdp_addr 0x%lx does not point to a valid RSDP", rsdp);
			return;
		}
	} else if (!(rsdp = rsdp_scan())) {
		fail("acpi: no RSDP in the EBDA or 0xe0000-0xfffff, and acpi_rsdp_addr is 0");
		return;
	}
	p = (const uint8_t *)(uintptr_t)rsdp;
	peer("acpi: RSDP at 0x%lx (%s), revision %u, OEM \"%c%c%c%c%c%c\"", rsdp,
	     c->bp->acpi_rsdp_addr ? "boot_params" : "BIOS area", p[15], p[9], p[10], p[11], p[12],
	     p[13], p[14]);
	if (p[15] >= 2 && rd64(p + 24)) {
		root = table(rd64(p + 24), "XSDT");
		width = 8;
	} else {
		root = table(rd32(p + 16), "RSDT");
		width = 4;
	}
	if (!root)
		return;
	n = (rd32(root + 4) - SDT_HEADER) / width;
	for (unsigned i = 0; i < n; i++) {
		const uint8_t *e = root + SDT_HEADER + i * width;
		const uint8_t *t = table(width == 8 ? rd64(e) : rd32(e), NULL);

		if (!t)
			continue;
		if (nl + 5 < sizeof(names)) {
			memcpy(names + nl, t, 4);
			names[nl + 4] = ' ';
			nl += 5;
		}
		if (memcmp(t, "FACP", 4) == 0)
			fadt = t;
		else if (memcmp(t, "APIC", 4) == 0)
			madt = t;
	}
	names[nl ? nl - 1 : 0] = '\0';
	peer("acpi: %c%c%c%c lists %s", root[0], root[1], root[2], root[3], names);
	if (!fadt)
		fail("acpi: no FADT (FACP) in the root table");
	else
		check_fadt(fadt);
	if (!madt) {
		fail("acpi: no MADT (APIC) in the root table");
	} else {
		unsigned cpus = madt_cpus(madt);

		pass("acpi: MADT lists %u enabled processors", cpus);
		if (c->have_cpus && cpus != c->cpus)
			fail("acpi: MADT lists %u processors, the command line says cpus=%u", cpus,
			     c->cpus);
	}
	if (failures == before)
		pass("acpi: RSDP, root table and every table it lists have valid checksums; "
		     "FADT, DSDT and MADT present");
}
