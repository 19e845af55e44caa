/* disk: booted from the MBR of an ATA disk, reads the whole disk through the BIOS (int 13h
 * AH=42h and CHS AH=02h) and through the IDE controller with bus-master DMA (READ DMA and READ
 * DMA EXT with scattered PRD tables), checking the builder's pattern and digest (media.h); then
 * writes the header's write range with WRITE DMA (EXT), flushes the cache and reads it back.
 * The host test then finds that pattern in the image file and every other sector untouched. */
#include "../bios.h"
#include "../biosdisk.h"
#include "../ide.h"
#include "../verify.h"
#include "../../lib/str.h"
#include "../../lib/test.h"
#include "../../lib/uart.h"

#define SECTOR	     DISK_SECTOR
#define BIOS_CHUNK   64	 /* sectors per AH=42h call: 32 KiB */
#define DMA_CHUNK    128 /* sectors per READ DMA: 64 KiB */
#define DMA_BUF	     0x200000u
#define DISK_CHANNEL 0 /* primary master */
#define DISK_DRIVE   0

extern const char __image_sectors_512[]; /* boot.ld: the header follows the image */

static struct media_header hdr;
static struct prd prd_table[8] __attribute__((aligned(64)));
static u8 buf[64 * 1024] __attribute__((aligned(16)));

static bool read_header(void)
{
	u32 lba = (u32)(uintptr_t)__image_sectors_512;
	u16 done = 0;
	u8 st = bios_ext_read(boot_drive, lba, 1, LOW_BUF, &done);

	if (!check(st == 0 && done == 1, "bios: AH=42h reads the header at LBA %u (status 0x%x)",
		   lba, st))
		return false;
	return media_header_parse((const void *)LOW_BUF, SECTOR, &hdr) &&
	       check(hdr.header_lba == lba, "header names its own LBA %u", lba);
}

static void bios_lba_pass(void)
{
	struct verify v;
	u16 done;
	u8 st;

	verify_start(&v, &hdr, "bios lba");
	for (u32 lba = 0; lba < hdr.total_sectors;) {
		u16 n = hdr.total_sectors - lba < BIOS_CHUNK ? (u16)(hdr.total_sectors - lba)
							     : BIOS_CHUNK;
		st = bios_ext_read(boot_drive, lba, n, LOW_BUF, &done);
		if (st || done != n) {
			check(false, "bios lba: AH=42h LBA %u, %u sectors: status 0x%x, %u done",
			      lba, n, st, done);
			break;
		}
		verify_sectors(&v, lba, (const void *)LOW_BUF, n);
		lba += n;
	}
	verify_finish(&v);
	st = bios_ext_read(boot_drive, hdr.total_sectors, 1, LOW_BUF, &done);
	check(st != 0, "bios lba: AH=42h past the end (LBA %u) fails: status 0x%x",
	      hdr.total_sectors, st);
}

/* CHS reads reach the first cylinders * heads * sectors sectors: every pattern sector there
 * must come back at its LBA. */
static void bios_chs_pass(void)
{
	u32 cyls = 0, heads = 0, spt = 0, reach, lba = 0, ok = 0, bad = 0, want = 0;
	u8 st = bios_geometry(boot_drive, &cyls, &heads, &spt), done;

	if (!check(st == 0 && heads && spt, "bios chs: AH=08h: status 0x%x", st))
		return;
	printf("bios chs: geometry %u cylinders, %u heads, %u sectors per track\n", cyls, heads,
	       spt);
	reach = cyls * heads * spt;
	if (reach > hdr.total_sectors)
		reach = hdr.total_sectors;
	for (u32 c = 0; c < cyls && lba < reach; c++) {
		for (u32 hd = 0; hd < heads && lba < reach; hd++) {
			u32 n = reach - lba < spt ? reach - lba : spt;
			st = bios_chs_read(boot_drive, c, hd, 1, (u8)n, LOW_BUF, &done);
			if (st || done != n) {
				check(false,
				      "bios chs: AH=02h C/H/S %u/%u/1, %u sectors: status 0x%x, "
				      "%u done",
				      c, hd, n, st, done);
				return;
			}
			for (u32 i = 0; i < n; i++, lba++) {
				const u32 *w = (const u32 *)(LOW_BUF + i * SECTOR);
				if (lba - hdr.pattern_lba >= hdr.pattern_count)
					continue;
				want++;
				if (media_check_sector(w, SECTOR / 4, MEDIA_MAGIC_PATTERN, lba))
					ok++;
				else if (bad++ < 4)
					printf("bios chs: bad pattern sector at LBA %u\n", lba);
			}
		}
	}
	check(lba == reach && bad == 0 && ok == want,
	      "bios chs: %u sectors by CHS, %u of %u pattern sectors right", lba, ok, want);
}

static bool identify_disk(const struct ide_channel *ch)
{
	u16 id[256];
	char model[41];
	struct ide_result res;
	int err = ide_identify(ch, DISK_DRIVE, ATA_CMD_IDENTIFY, id, &res);
	u32 lba28;
	u64 lba48;

	if (!check(err == 0, "ide: IDENTIFY DEVICE on the primary master (err %d, status 0x%x)",
		   err, res.status))
		return false;
	ide_id_string(id, 27, 20, model);
	printf("peer: ide: primary master: model \"%s\"\n", model);
	lba28 = id[60] | (u32)id[61] << 16;
	lba48 = id[100] | (u64)id[101] << 16 | (u64)id[102] << 32 | (u64)id[103] << 48;
	/* Only the bits checked are compared; the words themselves may differ. */
	printf("peer: ide: IDENTIFY DEVICE words 0 = 0x%04x, 49 = 0x%04x, 83 = 0x%04x\n", id[0],
	       id[49], id[83]);
	check(!(id[0] & 0x8000), "ide: an ATA device (word 0 bit 15 clear)");
	check((id[49] & 0x300) == 0x300, "ide: LBA and DMA supported (word 49 bits 8, 9)");
	check(lba28 == hdr.total_sectors, "ide: LBA28 capacity %u sectors (the image: %u)", lba28,
	      hdr.total_sectors);
	check((id[83] & (1 << 10)) && lba48 == hdr.total_sectors,
	      "ide: LBA48 supported (word 83 bit 10), capacity %llu sectors", lba48);
	err = ide_identify(ch, 1, ATA_CMD_IDENTIFY, id, &res);
	check(err != 0, "ide: no device answers as primary slave");
	return true;
}

/* A scattered PRD table for n sectors: 24 KiB, 8 KiB, then the rest, apart in memory. */
static u32 scatter(u32 n)
{
	u32 bytes = n * SECTOR, at = 0, nprd = 0;
	static const u32 piece[] = {24 * 1024, 8 * 1024, 32 * 1024};

	for (u32 i = 0; i < ARRAY_SIZE(piece) && at < bytes; i++) {
		u32 len = bytes - at < piece[i] ? bytes - at : piece[i];
		prd_table[nprd++] = (struct prd){DMA_BUF + i * 0x20000, (u16)len, 0};
		at += len;
	}
	prd_table[nprd - 1].flags = PRD_EOT;
	return nprd;
}

static void gather(u32 nprd)
{
	u32 at = 0;

	for (u32 i = 0; i < nprd; i++) {
		u32 len = prd_table[i].count ? prd_table[i].count : 65536;
		memcpy(buf + at, (const void *)prd_table[i].addr, len);
		at += len;
	}
}

static void dma_pass(const struct ide_channel *ch)
{
	struct ide_result res;
	struct verify v;
	u32 bad = 0;
	int err;

	verify_start(&v, &hdr, "ata dma");
	for (u32 lba = 0; lba < hdr.total_sectors;) {
		u32 n = hdr.total_sectors - lba < DMA_CHUNK ? hdr.total_sectors - lba : DMA_CHUNK;
		u32 nprd = scatter(n);
		err = ata_dma(ch, DISK_DRIVE, ATA_CMD_READ_DMA, lba, n, prd_table, &res);
		if (err || !(res.bm_status & BM_ST_INTR)) {
			check(false,
			      "ata dma: READ DMA LBA %u, %u sectors: err %d, status 0x%x, "
			      "bus master 0x%x",
			      lba, n, err, res.status, res.bm_status);
			break;
		}
		gather(nprd);
		verify_sectors(&v, lba, buf, n);
		lba += n;
	}
	verify_finish(&v);

	/* READ DMA EXT (48-bit) of the last 256 sectors into two 64 KiB regions (count 0). */
	u32 lba = hdr.total_sectors - 256;
	memset((void *)DMA_BUF, 0, 0x20000);
	prd_table[0] = (struct prd){DMA_BUF, 0, 0};
	prd_table[1] = (struct prd){DMA_BUF + 0x10000, 0, PRD_EOT};
	err = ata_dma(ch, DISK_DRIVE, ATA_CMD_READ_DMA_EXT, lba, 256, prd_table, &res);
	for (u32 i = 0; i < 256; i++)
		if (lba + i - hdr.pattern_lba < hdr.pattern_count &&
		    !media_check_sector((const u32 *)(DMA_BUF + i * SECTOR), SECTOR / 4,
					MEDIA_MAGIC_PATTERN, lba + i))
			bad++;
	check(err == 0 && bad == 0,
	      "ata dma: READ DMA EXT of the last 256 sectors into 2 x 64 KiB: err %d, %u bad", err,
	      bad);

	/* Past the end: the command fails (QEMU: ABRT; the ATA spec: IDNF), nothing hangs. */
	prd_table[0] = (struct prd){DMA_BUF, 2 * SECTOR, PRD_EOT};
	err = ata_dma(ch, DISK_DRIVE, ATA_CMD_READ_DMA, hdr.total_sectors - 1, 2, prd_table, &res);
	check(err == -IDE_EIO && (res.status & ATA_ERR) && (res.error & (ATA_ABRT | ATA_IDNF)),
	      "ata dma: READ DMA over the end fails with ERR (status 0x%x)", res.status);
	printf("peer: ata dma: error register 0x%02x\n", res.error);
}

static void write_pass(const struct ide_channel *ch)
{
	struct ide_result res;
	u32 lba = hdr.write_lba, left = hdr.write_count, bad = 0;
	int err = 0;

	if (!check(hdr.write_count > 0, "the disk has a write range (%u+%u)", hdr.write_lba,
		   hdr.write_count))
		return;
	/* WRITE DMA (28-bit) for the first chunk, WRITE DMA EXT (48-bit) for the rest. */
	for (bool ext = false; left && !err; ext = true) {
		u32 n = left < DMA_CHUNK ? left : DMA_CHUNK;
		u32 nprd = scatter(n), at = 0;
		for (u32 i = 0; i < nprd; i++) {
			u32 len = prd_table[i].count ? prd_table[i].count : 65536;
			for (u32 s = 0; s < len / SECTOR; s++)
				media_fill_sector((u32 *)(prd_table[i].addr + s * SECTOR),
						  SECTOR / 4, MEDIA_MAGIC_WRITTEN,
						  lba + at / SECTOR + s);
			at += len;
		}
		err = ata_dma(ch, DISK_DRIVE, ext ? ATA_CMD_WRITE_DMA_EXT : ATA_CMD_WRITE_DMA, lba,
			      n, prd_table, &res);
		check(err == 0, "ata dma: %s LBA %u, %u sectors: err %d, status 0x%x",
		      ext ? "WRITE DMA EXT" : "WRITE DMA", lba, n, err, res.status);
		lba += n;
		left -= n;
	}
	err = ata_nondata(ch, DISK_DRIVE, ATA_CMD_FLUSH_CACHE, &res);
	check(err == 0, "ata: FLUSH CACHE: err %d, status 0x%x", err, res.status);

	/* Read the range back. */
	lba = hdr.write_lba;
	left = hdr.write_count;
	while (left) {
		u32 n = left < DMA_CHUNK ? left : DMA_CHUNK;
		u32 nprd = scatter(n);
		memset((void *)DMA_BUF, 0, 0x60000);
		err = ata_dma(ch, DISK_DRIVE, ATA_CMD_READ_DMA, lba, n, prd_table, &res);
		if (err)
			break;
		gather(nprd);
		for (u32 i = 0; i < n; i++)
			if (!media_check_sector((const u32 *)(buf + i * SECTOR), SECTOR / 4,
						MEDIA_MAGIC_WRITTEN, lba + i))
				bad++;
		lba += n;
		left -= n;
	}
	check(err == 0 && bad == 0, "ata dma: the written range reads back: err %d, %u bad", err,
	      bad);
	printf("disk: wrote LBA %u-%u\n", hdr.write_lba, hdr.write_lba + hdr.write_count - 1);
}

void test_main(void)
{
	struct ide_controller ide;
	struct bios_drive_params dp;
	u16 subsets = 0;
	u8 version = 0, st;
	int err;

	check(boot_drive == 0x80, "booted from the first hard disk (drive 0x%x)", boot_drive);
	bool ext = bios_ext_present(boot_drive, &subsets, &version);
	check(ext && (subsets & 1), "bios: int 13h extensions (version 0x%x, subsets 0x%x)",
	      version, subsets);
	if (!read_header())
		return;
	st = bios_drive_params(boot_drive, &dp);
	check(st == 0 && dp.sector_size == SECTOR && dp.sectors == hdr.total_sectors,
	      "bios: AH=48h: status 0x%x, %llu sectors of %u bytes", st, dp.sectors,
	      dp.sector_size);
	bios_lba_pass();
	bios_chs_pass();

	err = ide_probe(&ide);
	if (!check(err == 0, "ide: PIIX IDE controller at 00:01.1 (err %d)", err))
		return;
	printf("peer: ide: bus master registers at I/O 0x%x\n", ide.bmbase);
	const struct ide_channel *ch = &ide.chan[DISK_CHANNEL];
	if (!identify_disk(ch))
		return;
	dma_pass(ch);
	write_pass(ch);
}
