/* The DSDT's definition block: the PCI root bridge with its windows and
 * interrupt routing, the PIIX3's PCI interrupt links, the ISA devices, one
 * processor device per vCPU and the \_S5 sleep state. */
#include "hypervisor/boot/acpi.h"

#include "devices/pci.h"
#include "hypervisor/platform.h"

#include <errno.h>
#include <stdio.h>

/* The PIIX3 ISA bridge at 00:01.0 and its PIRQ route control registers
 * (82371SB datasheet: PIRQRC[A:D] at 0x60-0x63; bit 7 disables the route,
 * bits 3:0 name the ISA IRQ). */
#define PIIX3_ADR      0x00010000u
#define PIIX3_PIRQRC   0x60
#define PIRQRC_DISABLE 0x80
#define PIIX4_PM_SLOT  1	 /* 00:01.3: its INTA is the SCI, wired to IRQ 9 */
#define LINK_IRQS      5, 10, 11 /* what the links offer, as on QEMU's pc */
#define PCI_LINKS      4

/* Where SeaBIOS puts 32-bit BARs (src/fw/pciinit.c, i440fx_mem_addr_setup):
 * above RAM, at 2 GiB, 3 GiB or 3.5 GiB, up to the IOAPIC. */
#define PCI_MEM32_END (IOAPIC_ADDR - 1)

/* _STA values (6.3.7): present, enabled, shown in the UI, functioning. */
#define STA_PRESENT   0x01
#define STA_ENABLED   0x02
#define STA_SHOWN     0x04
#define STA_FUNCTIONS 0x08
#define STA_ALL	      (STA_PRESENT | STA_ENABLED | STA_SHOWN | STA_FUNCTIONS)

static const struct {
	uint16_t port;
	uint8_t irq;
} com_ports[] = {{0x3f8, IRQ_COM1}, {0x2f8, IRQ_COM2}, {0x3e8, IRQ_COM1}, {0x2e8, IRQ_COM2}};

uint64_t acpi_pci_mem32_start(uint64_t ram_below_4g)
{
	if (ram_below_4g <= 0x80000000ull)
		return 0x80000000ull;
	if (ram_below_4g <= 0xc0000000ull)
		return 0xc0000000ull;
	return 0xe0000000ull;
}

static void name_int(struct aml *a, const char *name, uint64_t v)
{
	aml_name_def(a, name);
	aml_int(a, v);
}

static void name_eisaid(struct aml *a, const char *name, const char *id)
{
	aml_name_def(a, name);
	aml_eisaid(a, id);
}

/* Name (\_S5, Package () { SLP_TYPa, SLP_TYPb, 0, 0 }): written with
 * BytePrefix constants, which every parser of \_S5 reads. */
static void sleep_states(struct aml *a)
{
	aml_name_def(a, "\\_S5");
	aml_package(a, 4);
	aml_byte(a, 0x0a);
	aml_byte(a, ACPI_SLP_TYP_S5);
	aml_byte(a, 0x0a);
	aml_byte(a, ACPI_SLP_TYP_S5);
	aml_int(a, 0);
	aml_int(a, 0);
	aml_end(a);
}

/* The 64-bit window: from the first GiB boundary above RAM to the top of
 * the guest's physical address space, where SeaBIOS puts 64-bit BARs (it
 * caps that top at 2^44 for guests with less than 1 TiB above 4 GiB). */
static bool mem64_window(const struct acpi_machine *m, uint64_t *start, uint64_t *end)
{
	if (!m->phys_bits || m->phys_bits > 52)
		return false;
	unsigned bits = m->phys_bits;
	if (bits > 44 && m->ram_above_4g < (1ull << 40))
		bits = 44;
	uint64_t top = 1ull << bits;
	*start = (HIGHMEM_START + m->ram_above_4g + GiB - 1) & ~(GiB - 1);
	if (*start >= top)
		return false;
	*end = top - 1;
	return true;
}

static void pci0_crs(struct aml *a, const struct acpi_machine *m)
{
	aml_name_def(a, "_CRS");
	aml_res_begin(a);
	aml_res_word_bus(a, 0x00, 0xff);
	aml_res_io(a, 0xcf8, 0xcf8, 1, 8); /* the configuration ports, its own */
	aml_res_word_io(a, 0x0000, 0x0cf7);
	aml_res_word_io(a, 0x0d00, 0xffff);
	aml_res_dword_memory(a, true, (uint32_t)VGA_START, (uint32_t)(VGA_END - 1));
	aml_res_dword_memory(a, false, (uint32_t)acpi_pci_mem32_start(m->ram_below_4g),
			     (uint32_t)PCI_MEM32_END);
	uint64_t start, end;
	if (mem64_window(m, &start, &end))
		aml_res_qword_memory(a, false, start, end);
	aml_res_end(a, true);
}

/* _PRT: Package { Package { 0xSSSSFFFF, pin, link, 0 }, ... } for every
 * slot and INTA-INTD, routed as the board routes them (pci_slot_pirq). */
static void pci0_prt(struct aml *a)
{
	static const char *const links[PCI_LINKS] = {"LNKA", "LNKB", "LNKC", "LNKD"};
	aml_name_def(a, "_PRT");
	aml_package(a, PCI_SLOTS * 4);
	for (unsigned slot = 0; slot < PCI_SLOTS; slot++) {
		for (unsigned pin = 0; pin < 4; pin++) {
			aml_package(a, 4);
			aml_int(a, (uint64_t)slot << 16 | 0xffff);
			aml_int(a, pin);
			if (slot == PIIX4_PM_SLOT && pin == 0)
				aml_name(a, "LNKS");
			else
				aml_name(a, links[pci_slot_pirq(PCI_DEVFN(slot, 0), pin)]);
			aml_int(a, 0);
			aml_end(a);
		}
	}
	aml_end(a);
}

static void isa_device(struct aml *a, const char *name, const char *hid, int uid)
{
	aml_device(a, name);
	name_eisaid(a, "_HID", hid);
	if (uid >= 0)
		name_int(a, "_UID", (uint64_t)uid);
}

/* The devices behind the ISA bridge (or straight under \_SB without PCI). */
static void isa_devices(struct aml *a, const struct acpi_machine *m)
{
	isa_device(a, "KBD", "PNP0303", -1);
	name_int(a, "_STA", STA_ALL);
	aml_name_def(a, "_CRS");
	aml_res_begin(a);
	aml_res_io(a, PORT_I8042_DATA, PORT_I8042_DATA, 1, 1);
	aml_res_io(a, PORT_I8042_CMD, PORT_I8042_CMD, 1, 1);
	aml_res_irq_noflags(a, 1u << IRQ_KBD);
	aml_res_end(a, true);
	aml_end(a);

	isa_device(a, "MOU", "PNP0F13", -1);
	name_int(a, "_STA", STA_ALL);
	aml_name_def(a, "_CRS");
	aml_res_begin(a);
	aml_res_irq_noflags(a, 1u << IRQ_MOUSE);
	aml_res_end(a, true);
	aml_end(a);

	isa_device(a, "RTC", "PNP0B00", -1);
	aml_name_def(a, "_CRS");
	aml_res_begin(a);
	aml_res_io(a, PORT_RTC, PORT_RTC, 1, 2);
	aml_res_irq_noflags(a, 1u << IRQ_RTC);
	aml_res_end(a, true);
	aml_end(a);

	for (unsigned i = 0; i < sizeof(com_ports) / sizeof(com_ports[0]); i++) {
		char name[5];
		snprintf(name, sizeof(name), "COM%u", i + 1);
		isa_device(a, name, "PNP0501", (int)i + 1);
		name_int(a, "_STA", m->serial & (1u << i) ? STA_ALL : 0);
		aml_name_def(a, "_CRS");
		aml_res_begin(a);
		aml_res_io(a, com_ports[i].port, com_ports[i].port, 1, 8);
		aml_res_irq_noflags(a, (uint16_t)(1u << com_ports[i].irq));
		aml_res_end(a, true);
		aml_end(a);
	}
}

/* Interrupt (ResourceConsumer, Level, ActiveHigh, Shared) { irqs } */
static void link_irqs(struct aml *a, const uint32_t *irqs, unsigned n, bool checksum)
{
	aml_res_begin(a);
	aml_res_interrupt(a, AML_IRQ_CONSUMER | AML_IRQ_SHARED, irqs, n);
	aml_res_end(a, checksum);
}

/* Helpers the links share, in \_SB:
 *   Method (IQST, 1) { If (And (Arg0, 0x80)) { Return (0x09) } Return (0x0B) }
 *   Method (IQCR, 1, Serialized) {
 *     Name (PRR0, ResourceTemplate () { Interrupt (...) { 0 } })
 *     CreateDWordField (PRR0, 5, PRRI)
 *     If (LLess (Arg0, 0x80)) { Store (And (Arg0, 0x0F), PRRI) }
 *     Return (PRR0)
 *   } */
static void link_helpers(struct aml *a)
{
	aml_method(a, "IQST", 1, false);
	aml_if(a);
	aml_op(a, AML_AND);
	aml_arg(a, 0);
	aml_int(a, PIRQRC_DISABLE);
	aml_no_target(a);
	aml_op(a, AML_RETURN);
	aml_int(a, STA_PRESENT | STA_FUNCTIONS);
	aml_end(a);
	aml_op(a, AML_RETURN);
	aml_int(a, STA_PRESENT | STA_ENABLED | STA_FUNCTIONS);
	aml_end(a);

	static const uint32_t none[] = {0};
	aml_method(a, "IQCR", 1, true);
	aml_name_def(a, "PRR0");
	link_irqs(a, none, 1, false);
	aml_op(a, AML_CREATE_DWORD_FIELD);
	aml_name(a, "PRR0");
	aml_int(a, 5);
	aml_name(a, "PRRI");
	aml_if(a);
	aml_op(a, AML_LLESS);
	aml_arg(a, 0);
	aml_int(a, PIRQRC_DISABLE);
	aml_op(a, AML_STORE);
	aml_op(a, AML_AND);
	aml_arg(a, 0);
	aml_int(a, 0x0f);
	aml_no_target(a);
	aml_name(a, "PRRI");
	aml_end(a);
	aml_op(a, AML_RETURN);
	aml_name(a, "PRR0");
	aml_end(a);
}

/* Device (LNKx): a PIRQ route of the PIIX3, set through its register. */
static void link_device(struct aml *a, unsigned i)
{
	static const uint32_t irqs[] = {LINK_IRQS};
	char name[5], reg[32];
	snprintf(name, sizeof(name), "LNK%c", 'A' + i);
	snprintf(reg, sizeof(reg), "\\_SB.PCI0.ISA.PRQ%c", 'A' + i);
	aml_device(a, name);
	name_eisaid(a, "_HID", "PNP0C0F");
	name_int(a, "_UID", i);
	aml_name_def(a, "_PRS");
	link_irqs(a, irqs, sizeof(irqs) / sizeof(irqs[0]), true);

	aml_method(a, "_STA", 0, false); /* Return (IQST (PRQx)) */
	aml_op(a, AML_RETURN);
	aml_name(a, "IQST");
	aml_name(a, reg);
	aml_end(a);

	aml_method(a, "_DIS", 0, false); /* Or (PRQx, 0x80, PRQx) */
	aml_op(a, AML_OR);
	aml_name(a, reg);
	aml_int(a, PIRQRC_DISABLE);
	aml_name(a, reg);
	aml_end(a);

	aml_method(a, "_CRS", 0, false); /* Return (IQCR (PRQx)) */
	aml_op(a, AML_RETURN);
	aml_name(a, "IQCR");
	aml_name(a, reg);
	aml_end(a);

	/* CreateDWordField (Arg0, 5, PRRI) Store (PRRI, PRQx); serialized,
	 * as a method that creates a named object should be. */
	aml_method(a, "_SRS", 1, true);
	aml_op(a, AML_CREATE_DWORD_FIELD);
	aml_arg(a, 0);
	aml_int(a, 5);
	aml_name(a, "PRRI");
	aml_op(a, AML_STORE);
	aml_name(a, "PRRI");
	aml_name(a, reg);
	aml_end(a);
	aml_end(a);
}

/* Device (LNKS): the SCI, fixed at IRQ 9 (level, active high, as the MADT
 * says); it cannot be moved or turned off. */
static void link_sci(struct aml *a)
{
	static const uint32_t sci[] = {IRQ_SCI};
	aml_device(a, "LNKS");
	name_eisaid(a, "_HID", "PNP0C0F");
	name_int(a, "_UID", PCI_LINKS);
	aml_name_def(a, "_PRS");
	link_irqs(a, sci, 1, true);
	aml_method(a, "_STA", 0, false);
	aml_op(a, AML_RETURN);
	aml_int(a, STA_PRESENT | STA_ENABLED | STA_FUNCTIONS);
	aml_end(a);
	aml_method(a, "_DIS", 0, false);
	aml_end(a);
	aml_method(a, "_CRS", 0, false);
	aml_op(a, AML_RETURN);
	aml_name(a, "_PRS");
	aml_end(a);
	aml_method(a, "_SRS", 1, false);
	aml_end(a);
	aml_end(a);
}

static void pci0(struct aml *a, const struct acpi_machine *m)
{
	aml_device(a, "PCI0");
	name_eisaid(a, "_HID", "PNP0A03");
	name_int(a, "_ADR", 0);
	name_int(a, "_UID", 0);
	name_int(a, "_BBN", 0);
	pci0_crs(a, m);
	pci0_prt(a);

	aml_device(a, "ISA");
	name_int(a, "_ADR", PIIX3_ADR);
	aml_opregion(a, "PIRQ", AML_PCI_CONFIG, PIIX3_PIRQRC, PCI_LINKS);
	aml_field(a, "PIRQ", AML_BYTE_ACC);
	for (unsigned i = 0; i < PCI_LINKS; i++) {
		char unit[5];
		snprintf(unit, sizeof(unit), "PRQ%c", 'A' + i);
		aml_field_unit(a, unit, 8);
	}
	aml_end(a);
	isa_devices(a, m);
	aml_end(a); /* ISA */
	aml_end(a); /* PCI0 */

	link_helpers(a);
	for (unsigned i = 0; i < PCI_LINKS; i++)
		link_device(a, i);
	link_sci(a);
}

/* Device (Cnnn) { Name (_HID, "ACPI0007") Name (_UID, n) }: n matches the
 * MADT's ACPI processor UID of vCPU n. */
static void processors(struct aml *a, const struct acpi_machine *m)
{
	for (unsigned i = 0; i < m->cpus; i++) {
		char name[5];
		snprintf(name, sizeof(name), "C%03X", i & 0xfff); /* i < ACPI_MAX_CPUS */
		aml_device(a, name);
		aml_name_def(a, "_HID");
		aml_string(a, "ACPI0007");
		name_int(a, "_UID", i);
		aml_end(a);
	}
}

int acpi_build_dsdt(const struct acpi_machine *m, struct aml *a)
{
	aml_init(a);
	if (m->cpus == 0 || m->cpus > ACPI_MAX_CPUS)
		return -EINVAL;
	sleep_states(a);
	aml_scope(a, "\\_SB");
	if (m->pci)
		pci0(a, m);
	else
		isa_devices(a, m);
	processors(a, m);
	aml_end(a);
	int r = aml_finish(a);
	if (r < 0)
		aml_free(a);
	return r;
}
