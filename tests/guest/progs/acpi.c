/* acpi: turns the VM off the way an OS does, from the firmware's tables
 * alone: find the RSDP (EBDA, then 0xE0000-0xFFFFF), the FADT through the
 * RSDT/XSDT, the PM1a/PM1b control blocks, and the S5 sleep type in the
 * DSDT's \_S5 package; enter ACPI mode through SMI_CMD if the firmware left
 * it off; then write SLP_TYP | SLP_EN. The VMM must end with a plain power
 * off (status 0, no debug-exit write); if the VM is still running 2 s
 * later, that is a FAIL (status 1). */
#include "../lib/acpi.h"
#include "../lib/cmdline.h"
#include "../lib/io.h"
#include "../lib/str.h"
#include "../lib/test.h"
#include "../lib/timer.h"
#include "../lib/uart.h"

void test_main(void)
{
	const u8 *rsdp = acpi_rsdp();
	if (!check(rsdp != NULL, "RSDP found with a valid checksum"))
		test_finish();
	printf("peer: acpi: RSDP at 0x%x, revision %u\n", (u32)(uintptr_t)rsdp, rsdp[15]);

	/* The FADT through the RSDT (32-bit pointers: paging is off). */
	const u8 *rsdt = acpi_table(acpi_rd32(rsdp + 16), "RSDT");
	if (!check(rsdt != NULL, "RSDT valid"))
		test_finish();
	const u8 *fadt = NULL, *madt = NULL;
	for (u32 off = 36; off + 4 <= acpi_rd32(rsdt + 4); off += 4) {
		if (!fadt)
			fadt = acpi_table(acpi_rd32(rsdt + off), "FACP");
		if (!madt)
			madt = acpi_table(acpi_rd32(rsdt + off), "APIC");
	}
	/* Every vCPU must be in the MADT, whoever built it (osio or the
	 * firmware): enabled processor local APIC / x2APIC entries. */
	if (check(madt != NULL, "MADT listed and valid")) {
		u32 len = acpi_rd32(madt + 4), cpus = 0;
		for (u32 off = 44; off + 2 <= len && madt[off + 1] >= 2; off += madt[off + 1]) {
			const u8 *e = madt + off;
			if ((e[0] == 0 && e[1] >= 8 && (acpi_rd32(e + 4) & 1)) ||
			    (e[0] == 9 && e[1] >= 16 && (acpi_rd32(e + 8) & 1)))
				cpus++;
		}
		printf("acpi: the MADT lists %u enabled processors\n", cpus);
		u64 want;
		if (arg_u64("cpus", &want))
			check(cpus == want, "the MADT lists every vCPU (cpus=%u)", (u32)want);
	}
	if (!check(fadt != NULL, "FADT listed and valid"))
		test_finish();
	u32 smi_cmd = acpi_rd32(fadt + 48), pm1a = acpi_rd32(fadt + 64),
	    pm1b = acpi_rd32(fadt + 68);
	u8 acpi_enable = fadt[52];
	check(pm1a != 0 && pm1a < 0x10000, "FADT has a PM1a control block in I/O space");
	printf("peer: acpi: PM1a_CNT 0x%x, PM1b_CNT 0x%x, SMI_CMD 0x%x\n", pm1a, pm1b, smi_cmd);

	const u8 *dsdt = acpi_table(acpi_rd32(fadt + 40), "DSDT");
	if (!check(dsdt != NULL, "DSDT valid"))
		test_finish();
	int typ_a = -1, typ_b = -1;
	if (!check(acpi_s5(dsdt, &typ_a, &typ_b), "DSDT defines \\_S5 with two sleep types"))
		test_finish();
	check(typ_a < 8 && typ_b < 8, "S5 sleep types fit SLP_TYP");
	printf("peer: acpi: S5 SLP_TYPa %d, SLP_TYPb %d\n", typ_a, typ_b);

	if (!(inw((u16)pm1a) & PM1_SCI_EN) && smi_cmd) {
		outb((u16)smi_cmd, acpi_enable);
		struct timeout t;
		timeout_start(&t, 3000);
		while (!(inw((u16)pm1a) & PM1_SCI_EN) && !timeout_expired(&t))
			;
	}
	check(inw((u16)pm1a) & PM1_SCI_EN, "in ACPI mode (PM1_SCI_EN set)");
	if (test_failures)
		test_finish();

	printf("acpi: entering S5\n");
	printf("RESULT: PASS\n");
	console_flush();
	acpi_enter_sleep(pm1a, pm1b, typ_a, typ_b);
	delay_ms(2000);
	printf("FAIL: still running 2 s after entering S5\n");
	guest_exit(1);
}
