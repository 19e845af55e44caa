/* dmabench: bus-master DMA read throughput of the boot disk (scripts/bench-firmware): reads the
 * whole disk with READ DMA EXT, 4 MiB per command through 64 KiB PRD entries, timed with the
 * ACPI PM timer (3.579545 MHz, PIIX4 PM function 00:01.3), and checks the first and last
 * sector of every command against the builder's pattern. */
#include "../bios.h"
#include "../ide.h"
#include "../media.h"
#include "../../lib/div64.h"
#include "../../lib/io.h"
#include "../../lib/test.h"
#include "../../lib/uart.h"

#define SECTOR	    DISK_SECTOR
#define CMD_SECTORS 8192 /* 4 MiB */
#define DMA_BUF	    0x1000000u
#define PM_TIMER_HZ 3579545u
#define PIIX4_PM_FN ((struct pci_addr){0, 1, 3})
#define PIIX4_PMBA  0x40

static struct prd prd_table[CMD_SECTORS * SECTOR / 65536] __attribute__((aligned(4096)));

/* The PM timer's port from the PIIX4's PMBA; 0 if the function is not there. */
static u16 pm_timer_port(void)
{
	struct pci_addr pm = PIIX4_PM_FN;
	u32 id = pci_read32(pm, PCI_VENDOR_ID), base;

	if (id != (0x7113u << 16 | 0x8086u))
		return 0;
	base = pci_read32(pm, PIIX4_PMBA) & 0xffc0;
	return base ? (u16)(base + 8) : 0;
}

/* Ticks elapsed since *last (24-bit counter), updating *last. */
static u32 pm_ticks(u16 port, u32 *last)
{
	u32 now = inl(port) & 0xffffff, d = (now - *last) & 0xffffff;

	*last = now;
	return d;
}

void test_main(void)
{
	struct ide_controller ide;
	struct ide_result res;
	u16 id[256], port = pm_timer_port();
	u64 ticks = 0, total;
	u32 bad = 0, last, nprd;
	int err;

	if (!check(port != 0, "acpi: PM timer found through the PIIX4 PMBA"))
		return;
	if (!check(ide_probe(&ide) == 0, "ide: PIIX IDE controller at 00:01.1"))
		return;
	const struct ide_channel *ch = &ide.chan[0];
	err = ide_identify(ch, 0, ATA_CMD_IDENTIFY, id, &res);
	if (!check(err == 0 && (id[83] & (1 << 10)), "ide: primary master, LBA48 (err %d)", err))
		return;
	total = id[100] | (u64)id[101] << 16 | (u64)id[102] << 32;
	printf("dmabench: %llu sectors (%llu MiB)\n", total, total / 2048);
	nprd = prd_build(prd_table, ARRAY_SIZE(prd_table), DMA_BUF, CMD_SECTORS * SECTOR, 65536);
	if (!check(nprd == ARRAY_SIZE(prd_table), "dmabench: %u PRD entries of 64 KiB", nprd))
		return;

	for (u64 lba = 0; lba < total;) {
		u32 n = total - lba < CMD_SECTORS ? (u32)(total - lba) : CMD_SECTORS;
		if (n != CMD_SECTORS)
			nprd =
			    prd_build(prd_table, ARRAY_SIZE(prd_table), DMA_BUF, n * SECTOR, 65536);
		pm_ticks(port, &last);
		err = ata_dma(ch, 0, ATA_CMD_READ_DMA_EXT, lba, n, prd_table, &res);
		ticks += pm_ticks(port, &last);
		if (err) {
			check(false,
			      "dmabench: READ DMA EXT at LBA %llu, %u sectors: err %d, status "
			      "0x%x",
			      lba, n, err, res.status);
			return;
		}
		/* The disk's pattern sectors start after the boot image and the header. */
		const u32 *first = (const u32 *)DMA_BUF;
		const u32 *end = (const u32 *)(DMA_BUF + (n - 1) * SECTOR);
		if (first[0] == MEDIA_MAGIC_PATTERN &&
		    !media_check_sector(first, SECTOR / 4, MEDIA_MAGIC_PATTERN, (u32)lba))
			bad++;
		if (!media_check_sector(end, SECTOR / 4, MEDIA_MAGIC_PATTERN, (u32)(lba + n - 1)))
			bad++;
		lba += n;
	}
	check(bad == 0, "dmabench: sampled sectors right (%u bad)", bad);
	u64 us = udivmod64(ticks * 1000000, PM_TIMER_HZ, NULL);
	u64 kib_s = us ? udivmod64(total / 2 * 1000000, us, NULL) : 0;
	printf("peer: dmabench: %llu MiB in %llu ms of DMA commands: %llu.%03llu MiB/s\n",
	       total / 2048, us / 1000, kib_s / 1024, (kib_s % 1024) * 1000 / 1024);
}
