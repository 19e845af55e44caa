/* dvd: booted from the El Torito DVD, reads every sector of it three ways and checks each
 * against the pattern and digest the image builder put there (media.h): through the BIOS (int 13h
 * extensions on the boot drive), then straight through the IDE controller as an ATAPI PACKET
 * READ(10) with PIO data, and with bus-master DMA through PRD tables. Also READ CAPACITY against
 * the image size and REQUEST SENSE after bad commands. */
#include "../atapi.h"
#include "../bios.h"
#include "../biosdisk.h"
#include "../verify.h"
#include "../../lib/str.h"
#include "../../lib/test.h"
#include "../../lib/uart.h"

#define SECTOR	    CD_SECTOR
#define BIOS_CHUNK  32 /* 64 KiB per int 13h call */
#define PIO_CHUNK   16
#define DMA_CHUNK   16
#define DMA_BUF	    0x200000u
#define DVD_CHANNEL 1 /* secondary master, where the VMMs put the DVD */
#define DVD_DRIVE   0

static struct media_header hdr;
static struct prd prd_table[8] __attribute__((aligned(64)));
static u8 buf[64 * 1024] __attribute__((aligned(16)));

static u32 le32(const u8 *p)
{
	return (u32)p[0] | (u32)p[1] << 8 | (u32)p[2] << 16 | (u32)p[3] << 24;
}

static bool bios_read(u32 lba, u16 count)
{
	u16 done = 0;
	u8 st = bios_ext_read(boot_drive, lba, count, LOW_BUF, &done);

	if (st || done != count) {
		printf("FAIL: bios: int 13h AH=42h at LBA %u, %u sectors: status 0x%x, %u done\n",
		       lba, count, st, done);
		test_failures++;
		return false;
	}
	return true;
}

/* The header sector is the first of /PATTERN.BIN: found through ISO 9660 like any reader. */
static bool find_header(void)
{
	const u8 *p = (const u8 *)LOW_BUF;
	u32 root_lba, root_size, lba = 0;

	if (!bios_read(16, 1))
		return false;
	if (!check(p[0] == 1 && memcmp(p + 1, "CD001", 5) == 0,
		   "bios: LBA 16 is an ISO 9660 primary volume descriptor"))
		return false;
	printf("bios: volume space size %u sectors of %u bytes\n", le32(p + 80),
	       p[128] | p[129] << 8);
	root_lba = le32(p + 156 + 2);
	root_size = le32(p + 156 + 10);
	for (u32 off = 0; off < root_size && !lba; off += SECTOR) {
		if (!bios_read(root_lba + off / SECTOR, 1))
			return false;
		for (u32 i = 0; i + 33 < SECTOR && p[i] >= 34;) {
			u8 len = p[i], id_len = p[i + 32];
			if (i + len > SECTOR || 33u + id_len > len)
				break;
			if (id_len >= 11 && memcmp(p + i + 33, MEDIA_PATTERN_FILE, 11) == 0) {
				lba = le32(p + i + 2);
				break;
			}
			i += len;
		}
	}
	if (!check(lba != 0, "bios: /%s found in the root directory", MEDIA_PATTERN_FILE))
		return false;
	if (!bios_read(lba, 1))
		return false;
	return media_header_parse(p, SECTOR, &hdr) &&
	       check(hdr.header_lba == lba, "header names its own LBA %u", lba);
}

static void bios_pass(void)
{
	struct bios_drive_params dp;
	struct verify v;
	u16 subsets = 0, done;
	u8 version = 0, st;

	bool ext = bios_ext_present(boot_drive, &subsets, &version);

	check(ext && (subsets & 1),
	      "bios: int 13h extensions on drive 0x%x (version 0x%x, subsets 0x%x)", boot_drive,
	      version, subsets);
	st = bios_drive_params(boot_drive, &dp);
	check(st == 0 && dp.sector_size == SECTOR, "bios: AH=48h: status 0x%x, %u-byte sectors", st,
	      dp.sector_size);
	if (!find_header())
		return;
	verify_start(&v, &hdr, "bios");
	for (u32 lba = 0; lba < hdr.total_sectors;) {
		u16 n = hdr.total_sectors - lba < BIOS_CHUNK ? (u16)(hdr.total_sectors - lba)
							     : BIOS_CHUNK;
		if (!bios_read(lba, n))
			break;
		verify_sectors(&v, lba, (const void *)LOW_BUF, n);
		lba += n;
	}
	verify_finish(&v);
	st = bios_ext_read(boot_drive, hdr.total_sectors, 1, LOW_BUF, &done);
	check(st != 0, "bios: AH=42h past the end (LBA %u) fails: status 0x%x", hdr.total_sectors,
	      st);
}

static const char *chan_pos(unsigned chan, unsigned drive)
{
	static const char *const names[] = {"primary master", "primary slave", "secondary master",
					    "secondary slave"};
	return names[(chan & 1) * 2 + (drive & 1)];
}

static bool identify_dvd(const struct ide_channel *ch)
{
	u16 id[256];
	char model[41];
	struct ide_result res;
	int err = ide_identify(ch, DVD_DRIVE, ATA_CMD_ID_PACKET, id, &res);

	if (!check(err == 0, "ide: IDENTIFY PACKET DEVICE on the %s (err %d, status 0x%x)",
		   chan_pos(DVD_CHANNEL, DVD_DRIVE), err, res.status))
		return false;
	ide_id_string(id, 27, 20, model);
	printf("peer: ide: %s: model \"%s\"\n", chan_pos(DVD_CHANNEL, DVD_DRIVE), model);
	/* Only the bits checked are compared; the words themselves may differ (IORDY...). */
	printf("peer: ide: IDENTIFY PACKET DEVICE words 0 = 0x%04x, 49 = 0x%04x\n", id[0], id[49]);
	check((id[0] >> 14) == 2 && ((id[0] >> 8) & 0x1f) == 5 && (id[0] & 0x80),
	      "ide: ATAPI, CD/DVD device type 5, removable (word 0)");
	check(id[49] & (1 << 8), "ide: DMA supported (word 49 bit 8)");
	/* An absent slave next to the DVD: IDENTIFY must not find a device. */
	err = ide_identify(ch, 1, ATA_CMD_ID_PACKET, id, &res);
	check(err != 0, "ide: %s answers no IDENTIFY PACKET DEVICE", chan_pos(DVD_CHANNEL, 1));
	return true;
}

static bool unit_ready(const struct ide_channel *ch)
{
	u8 cdb[12], inq[36];
	struct ide_result res;
	struct sense s;
	int err;

	cdb_simple(cdb, MMC_TEST_UNIT_READY, 0);
	err = atapi_pio(ch, DVD_DRIVE, cdb, NULL, 0, 0, &res);
	if (err && atapi_sense(ch, DVD_DRIVE, &s) == 0)
		printf("atapi: TEST UNIT READY: sense %02x/%02x/%02x\n", s.key, s.asc, s.ascq);
	check(err == 0, "atapi: TEST UNIT READY: ready (status 0x%x)", res.status);

	cdb_simple(cdb, MMC_INQUIRY, sizeof(inq));
	err = atapi_pio(ch, DVD_DRIVE, cdb, inq, sizeof(inq), sizeof(inq), &res);
	check(err == 0 && res.bytes >= 36 && (inq[0] & 0x1f) == 5 && (inq[1] & 0x80),
	      "atapi: INQUIRY: peripheral type %u, removable %u (%u bytes)", inq[0] & 0x1f,
	      inq[1] >> 7, res.bytes);
	char vendor[9], product[17];
	memcpy(vendor, inq + 8, 8);
	vendor[8] = 0;
	memcpy(product, inq + 16, 16);
	product[16] = 0;
	printf("peer: atapi: INQUIRY vendor \"%s\" product \"%s\"\n", vendor, product);

	cdb_simple(cdb, MMC_READ_CAPACITY, 0);
	memset(buf, 0, 8);
	err = atapi_pio(ch, DVD_DRIVE, cdb, buf, 8, 8, &res);
	return check(err == 0 && be32(buf) + 1 == hdr.total_sectors && be32(buf + 4) == SECTOR,
		     "atapi: READ CAPACITY: last LBA %u, %u-byte blocks (the image: %u sectors)",
		     be32(buf), be32(buf + 4), hdr.total_sectors);
}

static void pio_pass(const struct ide_channel *ch)
{
	struct ide_result res;
	struct verify v;
	u8 cdb[12];
	int err;

	verify_start(&v, &hdr, "atapi pio");
	for (u32 lba = 0; lba < hdr.total_sectors;) {
		u16 n = hdr.total_sectors - lba < PIO_CHUNK ? (u16)(hdr.total_sectors - lba)
							    : PIO_CHUNK;
		cdb_read10(cdb, lba, n);
		err = atapi_pio(ch, DVD_DRIVE, cdb, buf, n * SECTOR, 0x8000, &res);
		if (err || res.bytes != n * SECTOR) {
			check(false,
			      "atapi pio: READ(10) LBA %u, %u sectors: err %d, status 0x%x, "
			      "%u bytes",
			      lba, n, err, res.status, res.bytes);
			break;
		}
		verify_sectors(&v, lba, buf, n);
		lba += n;
	}
	verify_finish(&v);

	/* A byte count limit below the sector size: the device must split the data into DRQ blocks
	 * no larger than the limit (where it splits is its choice). */
	u32 lba = hdr.pattern_lba;
	cdb_read10(cdb, lba, 2);
	memset(buf, 0, 2 * SECTOR);
	err = atapi_pio(ch, DVD_DRIVE, cdb, buf, 2 * SECTOR, 1000, &res);
	check(
	    err == 0 && res.bytes == 2 * SECTOR && res.max_drq <= 1000 &&
		media_check_sector((const u32 *)buf, SECTOR / 4, MEDIA_MAGIC_PATTERN, lba) &&
		media_check_sector((const u32 *)(buf + SECTOR), SECTOR / 4, MEDIA_MAGIC_PATTERN,
				   lba + 1),
	    "atapi pio: byte count limit 1000: 2 sectors right, DRQ blocks of at most 1000 bytes");
	printf("peer: atapi pio: byte count limit 1000: %u DRQ blocks, largest %u bytes\n",
	       res.drq_blocks, res.max_drq);
}

static void dma_pass(const struct ide_channel *ch)
{
	struct ide_result res;
	struct verify v;
	u8 cdb[12];
	int err;

	verify_start(&v, &hdr, "atapi dma");
	for (u32 lba = 0; lba < hdr.total_sectors;) {
		u16 n = hdr.total_sectors - lba < DMA_CHUNK ? (u16)(hdr.total_sectors - lba)
							    : DMA_CHUNK;
		/* Scattered: 6 KiB, then 2 KiB, then the rest, in separate places. */
		u32 bytes = n * SECTOR, first = bytes < 6144 ? bytes : 6144, nprd = 1;
		prd_table[0] = (struct prd){DMA_BUF + 0x10000, (u16)first, 0};
		if (bytes > first) {
			u32 second = bytes - first < 2048 ? bytes - first : 2048;
			prd_table[nprd++] = (struct prd){DMA_BUF + 0x30000, (u16)second, 0};
			if (bytes > first + second)
				prd_table[nprd++] = (struct prd){DMA_BUF + 0x50000,
								 (u16)(bytes - first - second), 0};
		}
		prd_table[nprd - 1].flags = PRD_EOT;
		cdb_read10(cdb, lba, n);
		err = atapi_dma(ch, DVD_DRIVE, cdb, prd_table, &res);
		if (err || !(res.bm_status & BM_ST_INTR)) {
			check(false,
			      "atapi dma: READ(10) LBA %u, %u sectors: err %d, status 0x%x, "
			      "bus master 0x%x",
			      lba, n, err, res.status, res.bm_status);
			break;
		}
		/* Gather the pieces into one buffer for the check. */
		u32 at = 0;
		for (u32 i = 0; i < nprd; i++) {
			u32 len = prd_table[i].count ? prd_table[i].count : 65536;
			memcpy(buf + at, (const void *)prd_table[i].addr, len);
			at += len;
		}
		verify_sectors(&v, lba, buf, n);
		lba += n;
	}
	verify_finish(&v);

	/* One 64 KiB region (count 0 in the PRD). */
	u32 lba = hdr.pattern_lba, bad = 0;
	memset((void *)DMA_BUF, 0, 65536);
	prd_table[0] = (struct prd){DMA_BUF, 0, PRD_EOT};
	cdb_read10(cdb, lba, 32);
	err = atapi_dma(ch, DVD_DRIVE, cdb, prd_table, &res);
	for (u32 i = 0; i < 32; i++)
		if (!media_check_sector((const u32 *)(DMA_BUF + i * SECTOR), SECTOR / 4,
					MEDIA_MAGIC_PATTERN, lba + i))
			bad++;
	check(err == 0 && bad == 0, "atapi dma: one 64 KiB PRD entry (count 0): 32 sectors, %u bad",
	      bad);
}

static void expect_sense(const struct ide_channel *ch, const char *what, int err,
			 const struct ide_result *res, u8 key, u8 asc)
{
	struct sense s = {0xff, 0xff, 0xff};
	int serr;

	check(err == -IDE_EIO && (res->status & ATA_ERR) && res->error >> 4 == key,
	      "atapi: %s: CHECK CONDITION, sense key %u in the error register", what,
	      res->error >> 4);
	serr = atapi_sense(ch, DVD_DRIVE, &s);
	check(serr == 0 && s.key == key && s.asc == asc && s.ascq == 0,
	      "atapi: %s: REQUEST SENSE %02x/%02x/%02x (want %02x/%02x/00)", what, s.key, s.asc,
	      s.ascq, key, asc);
}

static void error_checks(const struct ide_channel *ch)
{
	struct ide_result res;
	u8 cdb[12];
	int err;

	/* (Whether sense data survives the next good command differs between devices, and QEMU
	 * keeps it: not checked.) */
	cdb_simple(cdb, 0xff, 0);
	err = atapi_pio(ch, DVD_DRIVE, cdb, buf, SECTOR, SECTOR, &res);
	expect_sense(ch, "unknown opcode 0xff", err, &res, 0x5, 0x20);

	cdb_read10(cdb, hdr.total_sectors, 1);
	err = atapi_pio(ch, DVD_DRIVE, cdb, buf, SECTOR, 0x8000, &res);
	expect_sense(ch, "READ(10) past the end (PIO)", err, &res, 0x5, 0x21);

	prd_table[0] = (struct prd){DMA_BUF, SECTOR, PRD_EOT};
	cdb_read10(cdb, hdr.total_sectors - 1, 2);
	err = atapi_dma(ch, DVD_DRIVE, cdb, prd_table, &res);
	expect_sense(ch, "READ(10) over the end (DMA)", err, &res, 0x5, 0x21);
}

void test_main(void)
{
	struct ide_controller ide;
	int err;

	check(boot_drive >= 0xe0, "booted from the DVD (drive 0x%x)", boot_drive);
	bios_pass();
	if (hdr.total_sectors == 0)
		return;

	err = ide_probe(&ide);
	if (!check(err == 0, "ide: PIIX IDE controller at 00:01.1 (err %d)", err))
		return;
	check(ide.progif == 0x80, "ide: compatibility mode with bus mastering (prog-if 0x%02x)",
	      ide.progif);
	printf("peer: ide: bus master registers at I/O 0x%x\n", ide.bmbase);
	const struct ide_channel *ch = &ide.chan[DVD_CHANNEL];
	if (!identify_dvd(ch) || !unit_ready(ch))
		return;
	pio_pass(ch);
	dma_pass(ch);
	error_checks(ch);
}
