/* lifecycle: the guest of the VM lifecycle tests (osio start, pause, save,
 * checkpoints, shutdown). It says "lifecycle: boot" once per boot with what
 * its disk held, then counts on COM1 ("count N", every period ms, from the
 * disk's count + 1), writing each count to the first sector of the IDE
 * primary master and flushing it, and when the ACPI power button is pressed
 * it writes its last count and turns the VM off (S5) as an OS would. So a
 * resumed VM goes on counting with no new boot line, a paused one stops
 * counting, and the disk shows what a checkpoint gave back.
 *
 * Arguments: period=MS (default 500), stop=N (power off by itself after
 * count N: the run under QEMU TCG ends the same way), disk=0 (ignore the
 * disk: counts start at 1). */
#include "../lib/acpi.h"
#include "../lib/cmdline.h"
#include "../lib/ide.h"
#include "../lib/io.h"
#include "../lib/str.h"
#include "../lib/test.h"
#include "../lib/timer.h"
#include "../lib/uart.h"

#define MAGIC "OSIO-LIFECYCLE count="

static u8 sector[512] __attribute__((aligned(16)));
static struct ide_controller ctl;
static bool have_disk;

/* The count a sector holds, or 0 for a blank or foreign one. */
static u32 parse_count(const u8 *s)
{
	u32 n = sizeof(MAGIC) - 1, v = 0;
	if (memcmp(s, MAGIC, n) != 0)
		return 0;
	for (; n < 32 && s[n] >= '0' && s[n] <= '9'; n++)
		v = v * 10 + (u32)(s[n] - '0');
	return v;
}

static bool disk_open(void)
{
	u16 id[256];
	struct ide_result res;
	if (ide_probe(&ctl) < 0)
		return false;
	if (ide_identify(&ctl.chan[0], 0, 0xec, id, &res) < 0)
		return false;
	return true;
}

static u32 disk_read(void)
{
	struct ide_result res;
	if (ata_pio(&ctl.chan[0], 0, ATA_CMD_READ_SECTORS, 0, 1, sector, &res) < 0) {
		check(false, "lifecycle: reading sector 0 (status 0x%x error 0x%x)", res.status,
		      res.error);
		return 0;
	}
	return parse_count(sector);
}

static void disk_write(u32 count)
{
	struct ide_result res;
	memset(sector, 0, sizeof(sector));
	memcpy(sector, MAGIC, sizeof(MAGIC) - 1);
	char num[12];
	int n = 0;
	u32 v = count;
	do {
		num[n++] = (char)('0' + v % 10);
		v /= 10;
	} while (v);
	for (int i = 0; i < n; i++)
		sector[sizeof(MAGIC) - 1 + i] = (u8)num[n - 1 - i];
	if (ata_pio(&ctl.chan[0], 0, ATA_CMD_WRITE_SECTORS, 0, 1, sector, &res) < 0 ||
	    ata_nondata(&ctl.chan[0], 0, 0xe7 /* FLUSH CACHE */, &res) < 0)
		check(false, "lifecycle: writing count %u (status 0x%x error 0x%x)", count,
		      res.status, res.error);
}

void test_main(void)
{
	u64 period = 500, stop = 0, use_disk = 1;
	arg_u64("period", &period);
	arg_u64("stop", &stop);
	arg_u64("disk", &use_disk);
	if (period < 10)
		period = 10;

	const u8 *rsdp = acpi_rsdp();
	const u8 *fadt = rsdp ? acpi_find(rsdp, "FACP") : NULL;
	const u8 *dsdt = fadt ? acpi_table(acpi_rd32(fadt + FADT_DSDT), "DSDT") : NULL;
	int typ_a = -1, typ_b = -1;
	if (!check(dsdt && acpi_s5(dsdt, &typ_a, &typ_b), "ACPI tables with \\_S5 found"))
		test_finish();
	u32 evt = acpi_rd32(fadt + FADT_PM1A_EVT_BLK);
	u32 cnt_a = acpi_rd32(fadt + FADT_PM1A_CNT_BLK),
	    cnt_b = acpi_rd32(fadt + FADT_PM1B_CNT_BLK);
	if (!check(evt && evt < 0x10000 && cnt_a && cnt_a < 0x10000,
		   "PM1a event and control blocks in I/O space"))
		test_finish();
	/* In ACPI mode, as an OS runs (the firmware may have left it off). */
	u32 smi_cmd = acpi_rd32(fadt + FADT_SMI_CMD);
	timer_init();
	if (!(inw((u16)cnt_a) & PM1_SCI_EN) && smi_cmd) {
		outb((u16)smi_cmd, fadt[FADT_ACPI_ENABLE]);
		struct timeout e;
		timeout_start(&e, 3000);
		while (!(inw((u16)cnt_a) & PM1_SCI_EN) && !timeout_expired(&e))
			;
	}
	/* The power button's status only latches while it is enabled (PIIX4,
	 * QEMU); an old press is cleared (write 1 to clear). */
	outw((u16)evt, PM1_PWRBTN);
	outw((u16)(evt + 2), (u16)(inw((u16)(evt + 2)) | PM1_PWRBTN));

	u32 count = 0;
	have_disk = use_disk && disk_open();
	if (have_disk) {
		count = disk_read();
		if (count)
			printf("lifecycle: boot (the disk holds count %u)\n", count);
		else
			printf("lifecycle: boot (the disk holds no count)\n");
	} else {
		printf("lifecycle: boot (no disk)\n");
	}

	/* The CPU sleeps between PIT ticks (100 Hz), so that ten of these VMs
	 * leave the host idle; the power button is looked at every tick. */
	u32 per = (u32)((period + 9) / 10), next;
	pit_ticks_start(100);
	sti();
	next = pit_ticks + per;
	for (;;) {
		pit_sleep_until(pit_ticks + 1);
		if (inw((u16)evt) & PM1_PWRBTN) {
			outw((u16)evt, PM1_PWRBTN);
			printf("lifecycle: power button at count %u: turning off\n", count);
			break;
		}
		if ((s32)(pit_ticks - next) < 0)
			continue;
		next += per;
		count++;
		if (have_disk)
			disk_write(count);
		printf("count %u\n", count);
		if (stop && count >= stop) {
			printf("lifecycle: count %u reached: turning off\n", count);
			break;
		}
	}
	cli();
	pit_ticks_stop();
	if (have_disk)
		disk_write(count);
	if (test_failures)
		printf("RESULT: FAIL %u\n", test_failures);
	else
		printf("RESULT: PASS\n");
	console_flush();
	acpi_enter_sleep(cnt_a, cnt_b, typ_a, typ_b);
	delay_ms(2000);
	printf("FAIL: still running 2 s after entering S5\n");
	guest_exit(1);
}
