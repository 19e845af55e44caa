/* Test support for the ACPI tests: the walk an OS makes of the tables in guest
 * memory (RSDP -> RSDT/XSDT -> FADT -> FACS/DSDT, MADT), every checksum and
 * pointer checked, and the DSDT's named objects checked against the machine
 * described. */
#ifndef OSIO_TEST_ACPI_WALK_H
#define OSIO_TEST_ACPI_WALK_H

#include "devices/pci.h"
#include "hypervisor/boot/acpi.h"
#include "hypervisor/bytes.h"
#include "hypervisor/cpuid.h"
#include "hypervisor/platform.h"
#include "tests/unit/boot/test_acpi_aml.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* --- guest memory: a few regions the tables were placed in ----------------- */

struct gmem {
	struct {
		uint64_t addr;
		const uint8_t *p;
		size_t len;
	} r[4];
	unsigned n;
};

static inline const uint8_t *gmem_at(const struct gmem *g, uint64_t addr, size_t len)
{
	for (unsigned i = 0; i < g->n; i++) {
		uint64_t off = addr - g->r[i].addr;
		if (addr >= g->r[i].addr && off <= g->r[i].len && len <= g->r[i].len - off)
			return g->r[i].p + off;
	}
	fail_msg("0x%llx+%zu is outside the tables", (unsigned long long)addr, len);
	return NULL;
}

static inline const uint8_t *gmem_table(const struct gmem *g, uint64_t addr, const char *sig)
{
	const uint8_t *h = gmem_at(g, addr, 36);
	if (memcmp(h, sig, 4) != 0)
		fail_msg("table at 0x%llx is %.4s, not %s", (unsigned long long)addr, h, sig);
	uint32_t len = get_le32(h + 4);
	gmem_at(g, addr, len);
	assert_int_equal(acpi_checksum(h, len), 0);
	return h;
}

/* --- what the DSDT must say ------------------------------------------------------ */

/* The PCI windows the test expects (worked out by hand for each case). */
struct acpi_expect {
	uint64_t mem32_start;
	uint64_t mem64_start, mem64_end; /* end 0: no 64-bit window */
};

#define EISA_PNP0303 0x0303d041u /* EisaId as the DWordConst's value */
#define EISA_PNP0F13 0x130fd041u
#define EISA_PNP0B00 0x000bd041u
#define EISA_PNP0501 0x0105d041u
#define EISA_PNP0A03 0x030ad041u
#define EISA_PNP0C0F 0x0f0cd041u

static inline void dsdt_check_isa(const struct ns *ns, const char *isa,
				  const struct acpi_machine *m)
{
	static const struct {
		uint16_t port;
		unsigned irq;
	} com[4] = {{0x3f8, 4}, {0x2f8, 3}, {0x3e8, 4}, {0x2e8, 3}};
	char path[128];
	const uint8_t *crs;
	size_t len;
	struct res r;

	snprintf(path, sizeof(path), "%s.KBD_._HID", isa);
	assert_int_equal(ns_int(ns, path), EISA_PNP0303);
	snprintf(path, sizeof(path), "%s.KBD_._STA", isa);
	assert_int_equal(ns_int(ns, path), 0x0f);
	snprintf(path, sizeof(path), "%s.KBD_._CRS", isa);
	crs = ns_buffer(ns, path, &len);
	res_parse(crs, len, &r);
	assert_int_equal(r.n, 3);
	res_expect_io(&r, 0, 0x60, 1);
	res_expect_io(&r, 1, 0x64, 1);
	res_expect_isa_irq(&r, 2, 1);

	snprintf(path, sizeof(path), "%s.MOU_._HID", isa);
	assert_int_equal(ns_int(ns, path), EISA_PNP0F13);
	snprintf(path, sizeof(path), "%s.MOU_._CRS", isa);
	crs = ns_buffer(ns, path, &len);
	res_parse(crs, len, &r);
	assert_int_equal(r.n, 1);
	res_expect_isa_irq(&r, 0, 12);

	snprintf(path, sizeof(path), "%s.RTC_._HID", isa);
	assert_int_equal(ns_int(ns, path), EISA_PNP0B00);
	snprintf(path, sizeof(path), "%s.RTC_._CRS", isa);
	crs = ns_buffer(ns, path, &len);
	res_parse(crs, len, &r);
	assert_int_equal(r.n, 2);
	res_expect_io(&r, 0, 0x70, 2);
	res_expect_isa_irq(&r, 1, 8);

	for (unsigned i = 0; i < 4; i++) {
		snprintf(path, sizeof(path), "%s.COM%u._HID", isa, i + 1);
		assert_int_equal(ns_int(ns, path), EISA_PNP0501);
		snprintf(path, sizeof(path), "%s.COM%u._UID", isa, i + 1);
		assert_int_equal(ns_int(ns, path), i + 1);
		snprintf(path, sizeof(path), "%s.COM%u._STA", isa, i + 1);
		assert_int_equal(ns_int(ns, path), m->serial & (1u << i) ? 0x0f : 0);
		snprintf(path, sizeof(path), "%s.COM%u._CRS", isa, i + 1);
		crs = ns_buffer(ns, path, &len);
		res_parse(crs, len, &r);
		assert_int_equal(r.n, 2);
		res_expect_io(&r, 0, com[i].port, 8);
		res_expect_isa_irq(&r, 1, com[i].irq);
	}
}

static inline void dsdt_check_pci(const struct ns *ns, const struct acpi_machine *m,
				  const struct acpi_expect *e)
{
	assert_int_equal(ns_get(ns, "\\_SB_.PCI0", NS_DEVICE)->kind, NS_DEVICE);
	assert_int_equal(ns_int(ns, "\\_SB_.PCI0._HID"), EISA_PNP0A03);
	assert_int_equal(ns_int(ns, "\\_SB_.PCI0._ADR"), 0);
	assert_int_equal(ns_int(ns, "\\_SB_.PCI0._UID"), 0);
	assert_int_equal(ns_int(ns, "\\_SB_.PCI0._BBN"), 0);

	size_t len;
	struct res r;
	const uint8_t *crs = ns_buffer(ns, "\\_SB_.PCI0._CRS", &len);
	res_parse(crs, len, &r);
	assert_int_equal(r.n, e->mem64_end ? 7 : 6);
	res_expect_window(&r, 0, 2, 0, 0xff);
	res_expect_io(&r, 1, 0xcf8, 8);
	res_expect_window(&r, 2, 1, 0, 0xcf7);
	res_expect_window(&r, 3, 1, 0xd00, 0xffff);
	res_expect_window(&r, 4, 0, 0xa0000, 0xbffff);
	res_expect_window(&r, 5, 0, e->mem32_start, 0xfebfffff);
	assert_true(e->mem32_start >= m->ram_below_4g);
	if (e->mem64_end) {
		res_expect_window(&r, 6, 0, e->mem64_start, e->mem64_end);
		assert_true(e->mem64_start >= HIGHMEM_START + m->ram_above_4g);
	}

	/* _PRT: every slot's four pins, each once, to the link the board
	 * wires it to; 00:01.3's INTA is the SCI. */
	const struct ns_obj *prt = ns_get(ns, "\\_SB_.PCI0._PRT", NS_NAME);
	const uint8_t *p = prt->val, *end = prt->val + prt->len;
	assert_int_equal(*p++, 0x12);
	end = aml_term_end(&p, end);
	assert_int_equal(*p++, PCI_SLOTS * 4);
	bool seen[PCI_SLOTS][4] = {{false}};
	for (unsigned i = 0; i < PCI_SLOTS * 4; i++) {
		assert_int_equal(*p++, 0x12);
		const uint8_t *eend = aml_term_end(&p, end);
		assert_int_equal(*p++, 4);
		uint64_t addr = 0, pin = 0, index = 0;
		char link[96];
		assert_true(aml_read_int(&p, eend, &addr));
		assert_true(aml_read_int(&p, eend, &pin));
		aml_read_name(&p, eend, link, sizeof(link));
		assert_true(aml_read_int(&p, eend, &index));
		assert_true(p == eend);
		assert_int_equal(addr & 0xffff, 0xffff);
		unsigned slot = (unsigned)(addr >> 16);
		assert_true(slot < PCI_SLOTS && pin < 4);
		assert_false(seen[slot][pin]);
		seen[slot][pin] = true;
		assert_int_equal(index, 0);
		char want[8];
		if (slot == 1 && pin == 0)
			snprintf(want, sizeof(want), "LNKS");
		else
			snprintf(want, sizeof(want), "LNK%c",
				 'A' + pci_slot_pirq(PCI_DEVFN(slot, 0), (unsigned)pin));
		assert_string_equal(link, want);
	}
	assert_true(p == end);

	/* The links, in \_SB where the _PRT's names find them. */
	static const uint32_t offered[] = {5, 10, 11}, sci[] = {9};
	uint64_t uids = 0;
	for (unsigned i = 0; i < 5; i++) {
		char dev[32], path[96];
		snprintf(dev, sizeof(dev), "\\_SB_.LNK%c", i < 4 ? 'A' + i : 'S');
		ns_get(ns, dev, NS_DEVICE);
		snprintf(path, sizeof(path), "%s._HID", dev);
		assert_int_equal(ns_int(ns, path), EISA_PNP0C0F);
		snprintf(path, sizeof(path), "%s._UID", dev);
		uint64_t uid = ns_int(ns, path);
		assert_true(uid < 64 && !(uids & (1ull << uid)));
		uids |= 1ull << uid;
		static const char *const methods[] = {"_STA", "_CRS", "_DIS"};
		for (unsigned k = 0; k < 3; k++) {
			snprintf(path, sizeof(path), "%s.%s", dev, methods[k]);
			assert_int_equal(ns_get(ns, path, NS_METHOD)->flags & 7, 0);
		}
		snprintf(path, sizeof(path), "%s._SRS", dev);
		assert_int_equal(ns_get(ns, path, NS_METHOD)->flags & 7, 1);
		snprintf(path, sizeof(path), "%s._PRS", dev);
		const uint8_t *prs = ns_buffer(ns, path, &len);
		res_parse(prs, len, &r);
		if (i < 4)
			res_expect_link_irqs(&r, offered, 3);
		else
			res_expect_link_irqs(&r, sci, 1);
	}

	/* The PIIX3's PIRQRC registers, as the links reach them. */
	const struct ns_obj *reg = ns_get(ns, "\\_SB_.PCI0.ISA_.PIRQ", NS_REGION);
	assert_int_equal(ns_int(ns, "\\_SB_.PCI0.ISA_._ADR"), 0x00010000);
	assert_int_equal(reg->flags, 2); /* PCI_Config */
	assert_int_equal(reg->a, 0x60);
	assert_int_equal(reg->b, 4);
	for (unsigned i = 0; i < 4; i++) {
		char path[128];
		snprintf(path, sizeof(path), "\\_SB_.PCI0.ISA_.PRQ%c", 'A' + i);
		const struct ns_obj *u = ns_get(ns, path, NS_FIELD);
		assert_string_equal(u->region, "\\_SB_.PCI0.ISA_.PIRQ");
		assert_int_equal(u->a, 8 * i);
		assert_int_equal(u->b, 8);
	}
}

/* Reads the DSDT's definition block into ns and checks it against m. */
static inline void dsdt_check(struct ns *ns, const uint8_t *aml, size_t len,
			      const struct acpi_machine *m, const struct acpi_expect *e)
{
	ns->n = 0;
	aml_read_terms(ns, "\\", aml, aml + len);

	/* \_S5: SLP_TYPa and SLP_TYPb for the PIIX4's soft-off. */
	const struct ns_obj *s5 = ns_get(ns, "\\_S5_", NS_NAME);
	const uint8_t *p = s5->val, *end = s5->val + s5->len;
	assert_int_equal(*p++, 0x12);
	end = aml_term_end(&p, end);
	assert_true(*p++ >= 2);
	uint64_t a = 0, b = 0;
	assert_true(aml_read_int(&p, end, &a));
	assert_true(aml_read_int(&p, end, &b));
	assert_int_equal(a, ACPI_SLP_TYP_S5);
	assert_int_equal(b, ACPI_SLP_TYP_S5);

	if (m->pci) {
		dsdt_check_pci(ns, m, e);
		dsdt_check_isa(ns, "\\_SB_.PCI0.ISA_", m);
	} else {
		assert_null(ns_find(ns, "\\_SB_.PCI0"));
		dsdt_check_isa(ns, "\\_SB_", m);
	}

	/* One processor device per vCPU (_HID "ACPI0007"), named after its
	 * _UID i. */
	unsigned cpus = 0;
	for (unsigned i = 0; i < ns->n; i++) {
		const struct ns_obj *o = &ns->o[i];
		char path[sizeof(o->path) + 8];
		snprintf(path, sizeof(path), "%s._HID", o->path);
		const struct ns_obj *hid = ns_find(ns, path);
		if (o->kind != NS_DEVICE || !hid || hid->val[0] != 0x0d)
			continue;
		assert_int_equal(hid->len, 10);
		assert_memory_equal(hid->val,
				    "\x0d"
				    "ACPI0007",
				    10);
		snprintf(path, sizeof(path), "%s._UID", o->path);
		uint64_t uid = ns_int(ns, path);
		char want[16];
		snprintf(want, sizeof(want), "\\_SB_.C%03X", (unsigned)uid);
		assert_string_equal(o->path, want);
		assert_true(uid < m->cpus);
		cpus++;
	}
	assert_int_equal(cpus, m->cpus);
}

/* --- the tables ------------------------------------------------------------------ */

/* Walks the tables from the RSDP at rsdp_addr the way an OS does. */
static inline void acpi_walk(const struct gmem *g, uint64_t rsdp_addr, const struct acpi_machine *m,
			     const struct acpi_expect *e)
{
	assert_int_equal(rsdp_addr % 16, 0);
	const uint8_t *rsdp = gmem_at(g, rsdp_addr, 36);
	assert_memory_equal(rsdp, "RSD PTR ", 8);
	assert_int_equal(acpi_checksum(rsdp, 20), 0);
	assert_int_equal(acpi_checksum(rsdp, 36), 0);
	assert_int_equal(rsdp[15], 2);
	assert_int_equal(get_le32(rsdp + 20), 36);

	const uint8_t *rsdt = gmem_table(g, get_le32(rsdp + 16), "RSDT");
	const uint8_t *xsdt = gmem_table(g, get_le64(rsdp + 24), "XSDT");
	assert_int_equal(get_le32(rsdt + 4), 36 + 8);
	assert_int_equal(get_le32(xsdt + 4), 36 + 16);
	assert_int_equal(get_le32(rsdt + 36), get_le64(xsdt + 36));
	assert_int_equal(get_le32(rsdt + 40), get_le64(xsdt + 44));

	const uint8_t *fadt = gmem_table(g, get_le64(xsdt + 36), "FACP");
	assert_int_equal(get_le32(fadt + 4), 276);
	assert_int_equal(get_le32(fadt + 40), get_le64(fadt + 140)); /* DSDT, 32 and 64 */
	assert_int_equal(get_le64(fadt + 132), 0); /* X_FIRMWARE_CTRL: FACS below 4 GiB */
	assert_int_equal(get_le16(fadt + 46), IRQ_SCI);
	assert_int_equal(get_le32(fadt + 56), ACPI_PM_EVT);
	assert_int_equal(get_le32(fadt + 64), ACPI_PM_CNT);
	assert_int_equal(get_le32(fadt + 76), ACPI_PM_TMR);
	assert_int_equal(get_le64(fadt + 148 + 4), ACPI_PM_EVT);
	assert_int_equal(get_le64(fadt + 172 + 4), ACPI_PM_CNT);
	assert_int_equal(get_le64(fadt + 208 + 4), ACPI_PM_TMR);
	assert_int_equal(fadt[88], 4);
	assert_int_equal(fadt[89], 2);
	assert_int_equal(fadt[91], 4);
	uint16_t arch = get_le16(fadt + 109);
	assert_true(arch & 1);			 /* legacy devices */
	assert_true(arch & 2);			 /* 8042 */
	assert_int_equal(!!(arch & 4), !m->vga); /* VGA not present */
	uint32_t flags = get_le32(fadt + 112);
	assert_int_equal(flags & (1u << 8), 0); /* 24-bit PM timer */
	if (m->pci) {
		assert_true(flags & (1u << 10)); /* RESET_REG_SUP */
		assert_int_equal(fadt[116], 1);	 /* system I/O */
		assert_int_equal(fadt[117], 8);
		assert_int_equal(get_le64(fadt + 120), 0xcf9);
		assert_int_equal(fadt[128], 0x06);
	} else {
		assert_int_equal(flags & (1u << 10), 0);
	}

	const uint8_t *facs = gmem_at(g, get_le32(fadt + 36), 64);
	assert_memory_equal(facs, "FACS", 4);
	assert_int_equal(get_le32(facs + 4), 64);
	assert_int_equal(get_le32(fadt + 36) % 64, 0);

	const uint8_t *dsdt = gmem_table(g, get_le32(fadt + 40), "DSDT");
	assert_int_equal(dsdt[8], 2); /* 64-bit integers */
	struct ns *ns = malloc(sizeof(*ns));
	assert_non_null(ns);
	dsdt_check(ns, dsdt + 36, get_le32(dsdt + 4) - 36, m, e);
	free(ns);

	const uint8_t *madt = gmem_table(g, get_le64(xsdt + 44), "APIC");
	assert_int_equal(get_le32(madt + 36), LAPIC_ADDR);
	uint32_t mlen = get_le32(madt + 4);
	unsigned cpus = 0, ioapics = 0, overrides = 0;
	uint32_t level = 0;
	for (uint32_t off = 44; off < mlen;) {
		const uint8_t *x = madt + off;
		assert_true(off + 2 <= mlen && x[1] >= 2 && off + x[1] <= mlen);
		if (x[0] == 0 || x[0] == 9) {
			/* Processor UIDs count up in vCPU order, matching the
			 * processor devices' _UIDs. */
			uint32_t uid = x[0] == 0 ? x[2] : get_le32(x + 12);
			uint32_t apic = x[0] == 0 ? x[3] : get_le32(x + 4);
			assert_true(get_le32(x + (x[0] == 0 ? 4 : 8)) & 1);
			assert_int_equal(uid, cpus);
			assert_int_equal(apic, cpuid_apic_id(cpus));
			cpus++;
		} else if (x[0] == 1) {
			assert_int_equal(get_le32(x + 4), IOAPIC_ADDR);
			assert_int_equal(get_le32(x + 8), 0);
			ioapics++;
		} else if (x[0] == 2) {
			assert_int_equal(x[2], 0); /* ISA */
			if (x[3] == IRQ_PIT) {
				assert_int_equal(get_le32(x + 4), 2);
				assert_int_equal(get_le16(x + 8), 0);
			} else {
				assert_int_equal(get_le32(x + 4), x[3]);
				assert_int_equal(get_le16(x + 8), 0x000d); /* level, high */
				level |= 1u << x[3];
			}
			overrides++;
		}
		off += x[1];
	}
	assert_int_equal(cpus, m->cpus);
	assert_int_equal(ioapics, 1);
	if (m->pci) {
		assert_int_equal(level, 1u << 5 | 1u << 9 | 1u << 10 | 1u << 11);
		assert_int_equal(overrides, 5);
	} else {
		assert_int_equal(level, 1u << 9);
		assert_int_equal(overrides, 2);
	}
}

#endif
