/* idedisk: an IDE hard disk from inside the VM, the IDE twin of vblk: IDENTIFY (capacity,
 * LBA48, FLUSH CACHE EXT), checksummed pattern sectors (boot/media.h, magic
 * MEDIA_MAGIC_WRITTEN: the host checks them) written with bus-master DMA (WRITE DMA EXT, up to
 * 64 KiB per command) and PIO (WRITE SECTORS EXT) over a few ranges, FLUSH CACHE EXT, then read
 * back the same two ways and verified; a sector nobody wrote must read back as zeroes.
 *
 * Arguments: drive=N (the IDE position 0-3: 0 primary master ... 3 secondary slave; default 0),
 * start=SECTOR count=SECTORS (one range; default: three ranges of 256 sectors at the start,
 * the middle and the end of the disk), pio=SECTORS (of each range, moved by PIO; default 8),
 * mode=rw (default: the disk is fresh, written and read back) | verify (only read back and
 * check what an earlier run wrote). */
#include "../boot/media.h"
#include "../lib/cmdline.h"
#include "../lib/ide.h"
#include "../lib/test.h"
#include "../lib/uart.h"

#define SECTOR	     512u
#define WORDS	     (SECTOR / 4)
#define DMA_SECTORS  128u /* 64 KiB per command */
#define MAX_RANGES   3
#define DEF_RANGE    256u
#define DEF_PIO	     8u
#define MAX_PIO	     64u
#define MAX_BAD_SHOW 4

static u8 buf[DMA_SECTORS * SECTOR] __attribute__((section(".noinit"), aligned(65536)));
static struct prd prd_table[4] __attribute__((aligned(16)));

struct range {
	u64 lba;
	u32 count;
};

static const struct ide_channel *ch;
static unsigned drive;
static u32 pio_sectors = DEF_PIO;
static u32 bad_shown;

static void fill(u64 lba, u32 n)
{
	for (u32 i = 0; i < n; i++)
		media_fill_sector((u32 *)(buf + i * SECTOR), WORDS, MEDIA_MAGIC_WRITTEN,
				  (u32)(lba + i));
}

/* Sectors of buf that do not hold their pattern, with the first few named. */
static u32 verify(u64 lba, u32 n)
{
	u32 bad = 0;

	for (u32 i = 0; i < n; i++) {
		if (media_check_sector((const u32 *)(buf + i * SECTOR), WORDS, MEDIA_MAGIC_WRITTEN,
				       (u32)(lba + i)))
			continue;
		bad++;
		if (bad_shown++ < MAX_BAD_SHOW)
			printf("bad: sector %u does not hold its pattern (word 0 0x%x, 1 %u)\n",
			       (u32)(lba + i), ((const u32 *)(buf + i * SECTOR))[0],
			       ((const u32 *)(buf + i * SECTOR))[1]);
	}
	return bad;
}

/* One transfer of n sectors at lba between buf and the disk, by DMA or PIO. */
static int transfer(u64 lba, u32 n, bool write, bool pio)
{
	struct ide_result res;
	int err;

	if (pio) {
		err =
		    ata_pio(ch, drive, write ? ATA_CMD_WRITE_SECTORS_EXT : ATA_CMD_READ_SECTORS_EXT,
			    lba, n, buf, &res);
	} else {
		u32 nprd = prd_build(prd_table, ARRAY_SIZE(prd_table), (u32)(uintptr_t)buf,
				     n * SECTOR, 65536);
		if (!nprd)
			return -IDE_EPROTO;
		err = ata_dma(ch, drive, write ? ATA_CMD_WRITE_DMA_EXT : ATA_CMD_READ_DMA_EXT, lba,
			      n, prd_table, &res);
	}
	if (err)
		printf("%s %s at sector %u (%u sectors) failed: error %d, status 0x%x, error 0x%x, "
		       "bus master 0x%x\n",
		       pio ? "PIO" : "DMA", write ? "write" : "read", (u32)lba, n, err, res.status,
		       res.error, res.bm_status);
	return err;
}

/* Walks a range: the first pio sectors by PIO, the rest by DMA in 64 KiB commands; writes the
 * pattern, or reads and counts the bad sectors into *bad. */
static int walk(const struct range *r, bool write, u32 *bad)
{
	u32 done = 0;

	while (done < r->count) {
		bool pio = done < pio_sectors;
		u32 n = r->count - done, limit = pio ? pio_sectors - done : DMA_SECTORS;
		u64 lba = r->lba + done;
		int err;

		if (n > limit)
			n = limit;
		if (write)
			fill(lba, n);
		err = transfer(lba, n, write, pio);
		if (err)
			return err;
		if (!write)
			*bad += verify(lba, n);
		done += n;
	}
	return 0;
}

/* A sector outside every range: a fresh image reads back zeroes there. */
static bool zero_sector(u64 lba)
{
	if (transfer(lba, 1, false, false))
		return false;
	for (u32 i = 0; i < SECTOR; i++)
		if (buf[i])
			return false;
	return true;
}

static u64 identify_capacity(bool *lba48, bool *flush_ext)
{
	static u16 id[256];
	struct ide_result res;
	int err = ide_identify(ch, drive, ATA_CMD_IDENTIFY, id, &res);
	u64 lba28, cap48 = 0;

	if (!check(err == 0, "IDENTIFY DEVICE of drive %u (error %d, status 0x%x)", drive, err,
		   res.status))
		test_abort();
	lba28 = id[60] | (u32)id[61] << 16;
	*lba48 = (id[83] & (1u << 10)) != 0;
	*flush_ext = (id[83] & (1u << 13)) != 0;
	for (int i = 3; i >= 0; i--)
		cap48 = cap48 << 16 | id[100 + i];
	return *lba48 ? cap48 : lba28;
}

void test_main(void)
{
	struct ide_controller ide;
	struct range ranges[MAX_RANGES];
	unsigned nranges = 0;
	const char *mode = arg_str("mode");
	bool rw = !mode || !mode[0] || (mode[0] == 'r' && mode[1] == 'w' && !mode[2]);
	bool lba48, flush_ext;
	u64 v, start, cap, zero_at = 0;
	u32 bad = 0, total = 0;
	struct ide_result res;
	int err;

	if (mode && !rw && !(mode[0] == 'v' && mode[1] == 'e'))
		check(false, "mode=%s: not rw or verify", mode);
	if (arg_u64("drive", &v))
		drive = (unsigned)(v & 3);
	if (arg_u64("pio", &v))
		pio_sectors = v > MAX_PIO ? MAX_PIO : (u32)v;
	if (!check(ide_probe(&ide) == 0, "ide: PIIX IDE controller at 00:01.1"))
		test_abort();
	ch = &ide.chan[drive / 2];
	drive &= 1;
	cap = identify_capacity(&lba48, &flush_ext);
	printf("disk: %u sectors (%u MiB), LBA48 %s, FLUSH CACHE EXT %s\n", (u32)cap,
	       (u32)(cap >> 11), lba48 ? "yes" : "no", flush_ext ? "yes" : "no");
	if (!check(lba48 && cap >= 4 * DEF_RANGE, "the disk has LBA48 and at least %u sectors",
		   4 * DEF_RANGE))
		test_abort();
	if (arg_u64("start", &start)) {
		if (!arg_u64("count", &v) || v == 0 || start >= cap || v > cap - start)
			v = cap - start > DEF_RANGE ? DEF_RANGE : cap - start;
		ranges[nranges++] = (struct range){start, (u32)v};
		zero_at = start + v < cap ? start + v : 0;
	} else {
		/* The start, the middle (where a dynamic image allocates a block of its own)
		 * and the very end of the disk. */
		ranges[nranges++] = (struct range){0, DEF_RANGE};
		ranges[nranges++] = (struct range){(cap / 2) & ~7ull, DEF_RANGE};
		ranges[nranges++] = (struct range){cap - DEF_RANGE, DEF_RANGE};
		zero_at = DEF_RANGE + 1;
	}
	for (unsigned i = 0; i < nranges; i++) {
		printf("range: sectors %u-%u\n", (u32)ranges[i].lba,
		       (u32)(ranges[i].lba + ranges[i].count - 1));
		total += ranges[i].count;
	}
	if (rw) {
		for (unsigned i = 0; i < nranges; i++) {
			err = walk(&ranges[i], true, NULL);
			if (!check(err == 0, "write range %u (PIO then DMA)", i))
				test_finish();
		}
		printf("written: %u sectors\n", total);
		err = ata_nondata(ch, drive,
				  flush_ext ? ATA_CMD_FLUSH_CACHE_EXT : ATA_CMD_FLUSH_CACHE, &res);
		check(err == 0, "FLUSH CACHE%s (status 0x%x)", flush_ext ? " EXT" : "", res.status);
	}
	for (unsigned i = 0; i < nranges; i++) {
		err = walk(&ranges[i], false, &bad);
		if (!check(err == 0, "read range %u back (PIO then DMA)", i))
			test_finish();
	}
	check(bad == 0, "%u of %u sectors read back hold their pattern", total - bad, total);
	if (rw && zero_at)
		check(zero_sector(zero_at), "sector %u, never written, reads back as zeroes",
		      (u32)zero_at);
	/* Past the end: the device refuses with ABRT or IDNF (ATA8-ACS), nothing is moved. */
	err = ata_dma(ch, drive, ATA_CMD_READ_DMA_EXT, cap, 1, prd_table, &res);
	check(err == -IDE_EIO && (res.error & (ATA_ABRT | ATA_IDNF)),
	      "a read past the end fails with ABRT or IDNF");
}
