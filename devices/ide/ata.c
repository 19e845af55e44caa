/* An ATA hard disk (ATA/ATAPI-6): IDENTIFY DEVICE, PIO reads and writes
 * (single sectors and MULTIPLE blocks), DMA, FLUSH CACHE, SET FEATURES, the
 * power commands, CHS/LBA28/LBA48 addressing; and SET FEATURES, which DVD
 * drives share. */
#include "devices/ide/ide_int.h"

#include "hypervisor/log.h"

#include <errno.h>
#include <string.h>

enum {
	CMD_READ_SECTORS = 0x20,
	CMD_READ_SECTORS_NR = 0x21,
	CMD_READ_SECTORS_EXT = 0x24,
	CMD_READ_DMA_EXT = 0x25,
	CMD_READ_MULTIPLE_EXT = 0x29,
	CMD_WRITE_SECTORS = 0x30,
	CMD_WRITE_SECTORS_NR = 0x31,
	CMD_WRITE_SECTORS_EXT = 0x34,
	CMD_WRITE_DMA_EXT = 0x35,
	CMD_WRITE_MULTIPLE_EXT = 0x39,
	CMD_READ_VERIFY = 0x40,
	CMD_READ_VERIFY_NR = 0x41,
	CMD_READ_VERIFY_EXT = 0x42,
	CMD_INIT_DEV_PARAMS = 0x91,
	CMD_READ_MULTIPLE = 0xc4,
	CMD_WRITE_MULTIPLE = 0xc5,
	CMD_SET_MULTIPLE = 0xc6,
	CMD_READ_DMA = 0xc8,
	CMD_READ_DMA_NR = 0xc9,
	CMD_WRITE_DMA = 0xca,
	CMD_WRITE_DMA_NR = 0xcb,
	CMD_FLUSH_CACHE_EXT = 0xea,
};

#define LBA28_MAX (1ull << 28)

/* --- geometry and IDENTIFY -------------------------------------------------- */

/* The default translation: 16 heads, 63 sectors per track, at most 16383
 * cylinders; smaller for images under 504 KiB. */
void ata_init_geometry(struct ide_drive *d)
{
	uint64_t n = d->sectors;
	d->spt = n >= 63 ? 63 : (unsigned)n;
	d->heads = n / d->spt >= 16 ? 16 : (unsigned)(n / d->spt);
	uint64_t c = n / ((uint64_t)d->heads * d->spt);
	d->cyls = c > 16383 ? 16383 : (unsigned)c;
}

static unsigned cur_cyls(const struct ide_drive *d)
{
	uint64_t c = d->sectors / ((uint64_t)d->cur_heads * d->cur_spt);
	return c > 65535 ? 65535 : (unsigned)c;
}

/* Words 63 and 88: the DMA modes offered, and the one SET FEATURES chose. */
void ide_dma_modes(const struct ide_drive *d, uint16_t *id)
{
	id[63] = 0x0007;
	id[88] = 0x003f;
	if (d->dma_mode >= 0x20 && d->dma_mode <= 0x22)
		id[63] |= (uint16_t)(0x100 << (d->dma_mode & 7));
	else if (d->dma_mode >= 0x40 && d->dma_mode <= 0x45)
		id[88] |= (uint16_t)(0x100 << (d->dma_mode & 7));
}

static void identify(struct ide_drive *d)
{
	uint16_t id[256] = {0};
	uint64_t lba28 = d->sectors < LBA28_MAX ? d->sectors : LBA28_MAX - 1;
	unsigned cc = cur_cyls(d);
	uint32_t cur_cap = cc * d->cur_heads * d->cur_spt;
	struct ide_drive *other = &d->ch->drive[d->unit ^ 1];

	id[0] = 0x0040; /* fixed device */
	id[1] = (uint16_t)d->cyls;
	id[3] = (uint16_t)d->heads;
	id[6] = (uint16_t)d->spt;
	ide_put_string(&id[10], d->serial, 10);
	ide_put_string(&id[23], OSIO_VERSION, 4);
	ide_put_string(&id[27], d->model, 20);
	id[47] = 0x8000 | ATA_MAX_MULT;
	id[49] = (1 << 11) | (1 << 9) | (1 << 8); /* IORDY, LBA, DMA */
	id[50] = 0x4000;
	id[51] = 0x0200; /* PIO timing mode 2 (obsolete word) */
	id[53] = 0x0007; /* words 54-58, 64-70 and 88 are valid */
	id[54] = (uint16_t)cc;
	id[55] = (uint16_t)d->cur_heads;
	id[56] = (uint16_t)d->cur_spt;
	id[57] = (uint16_t)cur_cap;
	id[58] = (uint16_t)(cur_cap >> 16);
	if (d->mult)
		id[59] = (uint16_t)(0x100 | d->mult);
	id[60] = (uint16_t)lba28;
	id[61] = (uint16_t)(lba28 >> 16);
	ide_dma_modes(d, id);
	id[64] = 0x0003; /* PIO modes 3 and 4 */
	id[65] = id[66] = id[67] = id[68] = 120;
	id[80] = 0x007e; /* ATA-1 to ATA/ATAPI-6 */
	/* Supported and enabled: write cache (bit 5), power management
	 * (bit 3); FLUSH CACHE EXT (13), FLUSH CACHE (12), 48-bit (10). */
	id[82] = (1 << 5) | (1 << 3);
	id[83] = 0x4000 | (1 << 13) | (1 << 12) | (1 << 10);
	id[84] = 0x4000;
	id[85] = (uint16_t)((d->wcache ? 1 << 5 : 0) | (1 << 3));
	id[86] = (1 << 13) | (1 << 12) | (1 << 10);
	id[87] = 0x4000;
	/* Hardware reset result: device 0 answers for an absent device 1
	 * (bit 6) or saw it assert DASP- (bit 5); jumper addressing, passed
	 * diagnostics; 80-conductor cable. */
	if (d->unit == 0)
		id[93] = (uint16_t)(0x6000 | 0x000b | (other->kind != IDE_NONE ? 0x0020 : 0x0040));
	else
		id[93] = 0x6000 | 0x0b00;
	id[100] = (uint16_t)d->sectors;
	id[101] = (uint16_t)(d->sectors >> 16);
	id[102] = (uint16_t)(d->sectors >> 32);
	id[103] = (uint16_t)(d->sectors >> 48);
	ide_id_finish(id, d->buf);
}

/* --- addressing ------------------------------------------------------------- */

/* The command's first sector and count from the task file; false if a CHS
 * address does not exist in the current geometry. */
static bool decode_address(struct ide_drive *d, bool ext, uint64_t *lba, uint32_t *count)
{
	uint8_t sel = d->ch->select;
	d->lba48 = ext;
	d->chs = false;
	if (ext) {
		uint32_t n = (uint32_t)d->nsect[1] << 8 | d->nsect[0];
		*count = n ? n : 65536;
		*lba = (uint64_t)d->lbah[1] << 40 | (uint64_t)d->lbam[1] << 32 |
		       (uint64_t)d->lbal[1] << 24 | (uint64_t)d->lbah[0] << 16 |
		       (uint64_t)d->lbam[0] << 8 | d->lbal[0];
		return true;
	}
	*count = d->nsect[0] ? d->nsect[0] : 256;
	if (sel & DEV_LBA) {
		*lba = (uint64_t)(sel & 0xf) << 24 | (uint64_t)d->lbah[0] << 16 |
		       (uint64_t)d->lbam[0] << 8 | d->lbal[0];
		return true;
	}
	d->chs = true;
	unsigned cyl = (unsigned)d->lbah[0] << 8 | d->lbam[0];
	unsigned head = sel & 0xf, sector = d->lbal[0];
	if (sector == 0 || sector > d->cur_spt || head >= d->cur_heads)
		return false;
	*lba = ((uint64_t)cyl * d->cur_heads + head) * d->cur_spt + sector - 1;
	return true;
}

/* Whether [lba, lba + count) is there for the command: 28-bit commands
 * reach the sectors IDENTIFY words 60-61 count. */
static bool in_range(const struct ide_drive *d, bool ext, uint64_t lba, uint32_t count)
{
	uint64_t limit = d->sectors;
	if (!ext && limit > LBA28_MAX - 1)
		limit = LBA28_MAX - 1;
	return lba <= limit && count <= limit - lba;
}

/* Puts a sector address back into the task file the way the command gave
 * it (the last sector moved, or the one that failed). */
static void set_address(struct ide_drive *d, uint64_t lba)
{
	struct ide_channel *ch = d->ch;
	if (d->lba48) {
		d->lbal[0] = (uint8_t)lba;
		d->lbam[0] = (uint8_t)(lba >> 8);
		d->lbah[0] = (uint8_t)(lba >> 16);
		d->lbal[1] = (uint8_t)(lba >> 24);
		d->lbam[1] = (uint8_t)(lba >> 32);
		d->lbah[1] = (uint8_t)(lba >> 40);
	} else if (!d->chs) {
		d->lbal[0] = (uint8_t)lba;
		d->lbam[0] = (uint8_t)(lba >> 8);
		d->lbah[0] = (uint8_t)(lba >> 16);
		ch->select = (uint8_t)((ch->select & 0xf0) | ((lba >> 24) & 0xf));
	} else {
		unsigned track = (unsigned)(lba / d->cur_spt);
		unsigned cyl = track / d->cur_heads;
		d->lbal[0] = (uint8_t)(lba % d->cur_spt + 1);
		d->lbam[0] = (uint8_t)cyl;
		d->lbah[0] = (uint8_t)(cyl >> 8);
		ch->select = (uint8_t)((ch->select & 0xf0) | (track % d->cur_heads));
	}
}

/* A failed transfer: the task file names the first sector not moved. */
static void io_error(struct ide_drive *d, bool write, int status)
{
	if (tracing(TRACE_DEV))
		log_trace("ide %u: %s at sector %llu failed: %s", d->position,
			  write ? "write" : "read", (unsigned long long)d->lba, strerror(-status));
	set_address(d, d->lba);
	d->pio_done = NULL;
	ide_cmd_error(d, write ? ER_ABRT : ER_UNC);
}

/* --- PIO reads --------------------------------------------------------------- */

static void pio_read_chunk(struct ide_drive *d);

static void pio_read_moved(struct ide_drive *d)
{
	unsigned k = d->drq_sectors;
	d->lba += k;
	d->left -= k;
	d->chunk_off += k * ATA_SECTOR;
	set_address(d, d->lba - 1);
	if (!d->left) {
		d->status = ST_DRDY | ST_DSC; /* no interrupt after the last block */
		return;
	}
	if (d->chunk_off < d->chunk * ATA_SECTOR) {
		unsigned have = d->chunk - d->chunk_off / ATA_SECTOR;
		d->drq_sectors = have < d->blk_sectors ? have : d->blk_sectors;
		ide_pio_start(d, d->chunk_off, d->drq_sectors * ATA_SECTOR, false, pio_read_moved);
		ide_raise_irq(d);
	} else {
		pio_read_chunk(d);
	}
}

static void pio_read_done(struct ide_drive *d, int status)
{
	if (status < 0) {
		io_error(d, false, status);
		return;
	}
	d->chunk_off = 0;
	d->drq_sectors = d->chunk < d->blk_sectors ? d->chunk : d->blk_sectors;
	ide_pio_start(d, 0, d->drq_sectors * ATA_SECTOR, false, pio_read_moved);
	ide_raise_irq(d);
}

/* Reads ahead as much of the command as buf holds. */
static void pio_read_chunk(struct ide_drive *d)
{
	uint32_t max = IDE_BUF_SIZE / ATA_SECTOR;
	d->chunk = d->left < max ? d->left : max;
	d->status = ST_BSY | ST_DRDY | ST_DSC;
	d->iov.iov_base = d->buf;
	d->iov.iov_len = (size_t)d->chunk * ATA_SECTOR;
	ide_submit(d, BLOCK_OP_READ, d->lba * ATA_SECTOR, &d->iov, 1, pio_read_done);
}

/* --- PIO writes -------------------------------------------------------------- */

static void pio_write_moved(struct ide_drive *d);

static void pio_write_block(struct ide_drive *d)
{
	d->drq_sectors = d->left < d->blk_sectors ? d->left : d->blk_sectors;
	ide_pio_start(d, 0, d->drq_sectors * ATA_SECTOR, true, pio_write_moved);
}

static void pio_write_done(struct ide_drive *d, int status)
{
	if (status < 0) {
		io_error(d, true, status);
		return;
	}
	d->lba += d->drq_sectors;
	d->left -= d->drq_sectors;
	set_address(d, d->lba - 1);
	if (d->left) {
		pio_write_block(d);
		ide_raise_irq(d);
	} else {
		ide_cmd_ok(d);
	}
}

static void pio_write_moved(struct ide_drive *d)
{
	d->status = ST_BSY | ST_DRDY | ST_DSC;
	d->iov.iov_base = d->buf;
	d->iov.iov_len = (size_t)d->drq_sectors * ATA_SECTOR;
	ide_submit(d, BLOCK_OP_WRITE, d->lba * ATA_SECTOR, &d->iov, 1, pio_write_done);
}

/* --- DMA --------------------------------------------------------------------- */

static void dma_done(struct ide_drive *d, int status)
{
	if (status == -ENOSPC) {
		/* The PRDs ended first: the device never finishes (no
		 * interrupt); the host times out and resets. */
		d->status = ST_DRDY | ST_DSC;
		return;
	}
	if (status == -EFAULT) {
		set_address(d, d->lba);
		ide_cmd_error(d, ER_ABRT);
		return;
	}
	bool write = !d->dma_to_mem;
	if (status < 0) {
		io_error(d, write, status);
		return;
	}
	d->lba += d->left;
	d->left = 0;
	set_address(d, d->lba - 1);
	ide_cmd_ok(d);
}

/* --- reads and writes -------------------------------------------------------- */

enum rw_kind { RW_PIO, RW_MULTIPLE, RW_DMA };

static void read_write(struct ide_drive *d, bool write, bool ext, enum rw_kind kind)
{
	uint64_t lba;
	uint32_t count;
	if (kind == RW_MULTIPLE && !d->mult) {
		ide_cmd_error(d, ER_ABRT);
		return;
	}
	if (!decode_address(d, ext, &lba, &count) || !in_range(d, ext, lba, count)) {
		ide_cmd_error(d, ER_IDNF);
		return;
	}
	if (write && d->readonly) {
		ide_cmd_error(d, ER_WP);
		return;
	}
	d->standby = false;
	d->lba = lba;
	d->left = count;
	d->blk_sectors = kind == RW_MULTIPLE ? d->mult : 1;
	if (kind == RW_DMA) {
		d->status = ST_DRDY | ST_DSC | ST_DRQ;
		ide_dma_begin(d, !write, (uint64_t)count * ATA_SECTOR, false, lba * ATA_SECTOR,
			      dma_done);
	} else if (write) {
		pio_write_block(d); /* the first block needs no interrupt */
	} else {
		pio_read_chunk(d);
	}
}

static void verify(struct ide_drive *d, bool ext)
{
	uint64_t lba;
	uint32_t count;
	if (!decode_address(d, ext, &lba, &count) || !in_range(d, ext, lba, count)) {
		ide_cmd_error(d, ER_IDNF);
		return;
	}
	set_address(d, lba + count - 1);
	ide_cmd_ok(d);
}

/* --- the other commands ----------------------------------------------------- */

static void flush_done(struct ide_drive *d, int status)
{
	if (status < 0)
		ide_cmd_error(d, ER_ABRT);
	else
		ide_cmd_ok(d);
}

static void flush(struct ide_drive *d)
{
	if (d->readonly) {
		ide_cmd_ok(d); /* nothing was written */
		return;
	}
	d->status = ST_BSY | ST_DRDY;
	ide_submit(d, BLOCK_OP_FLUSH, 0, NULL, 0, flush_done);
}

/* SET FEATURES: the transfer mode (both kinds of device) and, for disks,
 * the write cache. false: not a feature this device has. */
bool ide_set_features(struct ide_drive *d)
{
	uint8_t n = d->nsect[0];
	switch (d->feature[0]) {
	case 0x03: /* set transfer mode */
		if (n <= 0x01 || (n >= 0x08 && n <= 0x0c))
			d->pio_mode = n;
		else if ((n >= 0x20 && n <= 0x22) || (n >= 0x40 && n <= 0x45))
			d->dma_mode = n;
		else
			return false;
		return true;
	case 0x02: /* enable write cache */
	case 0x82: /* disable write cache */
		if (d->kind != IDE_DISK)
			return false;
		d->wcache = d->feature[0] == 0x02;
		return true;
	default:
		return false;
	}
}

static void set_multiple(struct ide_drive *d)
{
	unsigned n = d->nsect[0];
	if (n > ATA_MAX_MULT || (n & (n - 1))) {
		ide_cmd_error(d, ER_ABRT);
		return;
	}
	d->mult = n;
	ide_cmd_ok(d);
}

static void init_params(struct ide_drive *d)
{
	unsigned spt = d->nsect[0], heads = (d->ch->select & 0xf) + 1u;
	if (spt == 0) {
		ide_cmd_error(d, ER_ABRT);
		return;
	}
	d->cur_spt = spt;
	d->cur_heads = heads;
	ide_cmd_ok(d);
}

static void identify_moved(struct ide_drive *d)
{
	d->status = ST_DRDY | ST_DSC;
}

bool ata_exec(struct ide_drive *d, uint8_t cmd)
{
	switch (cmd) {
	case CMD_IDENTIFY:
		identify(d);
		ide_pio_start(d, 0, ATA_SECTOR, false, identify_moved);
		ide_raise_irq(d);
		return true;
	case CMD_READ_SECTORS:
	case CMD_READ_SECTORS_NR:
		read_write(d, false, false, RW_PIO);
		return true;
	case CMD_READ_SECTORS_EXT:
		read_write(d, false, true, RW_PIO);
		return true;
	case CMD_READ_MULTIPLE:
		read_write(d, false, false, RW_MULTIPLE);
		return true;
	case CMD_READ_MULTIPLE_EXT:
		read_write(d, false, true, RW_MULTIPLE);
		return true;
	case CMD_READ_DMA:
	case CMD_READ_DMA_NR:
		read_write(d, false, false, RW_DMA);
		return true;
	case CMD_READ_DMA_EXT:
		read_write(d, false, true, RW_DMA);
		return true;
	case CMD_WRITE_SECTORS:
	case CMD_WRITE_SECTORS_NR:
		read_write(d, true, false, RW_PIO);
		return true;
	case CMD_WRITE_SECTORS_EXT:
		read_write(d, true, true, RW_PIO);
		return true;
	case CMD_WRITE_MULTIPLE:
		read_write(d, true, false, RW_MULTIPLE);
		return true;
	case CMD_WRITE_MULTIPLE_EXT:
		read_write(d, true, true, RW_MULTIPLE);
		return true;
	case CMD_WRITE_DMA:
	case CMD_WRITE_DMA_NR:
		read_write(d, true, false, RW_DMA);
		return true;
	case CMD_WRITE_DMA_EXT:
		read_write(d, true, true, RW_DMA);
		return true;
	case CMD_READ_VERIFY:
	case CMD_READ_VERIFY_NR:
		verify(d, false);
		return true;
	case CMD_READ_VERIFY_EXT:
		verify(d, true);
		return true;
	case CMD_FLUSH_CACHE:
	case CMD_FLUSH_CACHE_EXT:
		flush(d);
		return true;
	case CMD_SET_FEATURES:
		if (!ide_set_features(d))
			return false;
		ide_cmd_ok(d);
		return true;
	case CMD_SET_MULTIPLE:
		set_multiple(d);
		return true;
	case CMD_INIT_DEV_PARAMS:
		init_params(d);
		return true;
	case CMD_STANDBY:
	case CMD_STANDBY_OLD:
	case CMD_IDLE:
	case CMD_IDLE_OLD:
		/* The timer forms: disks only. */
		return ide_power_command(d, cmd);
	default:
		return ide_power_command(d, cmd);
	}
}

const struct ide_step ata_steps[] = {
    {.name = "ata.read_moved", .pio = pio_read_moved},
    {.name = "ata.read_done", .io = pio_read_done},
    {.name = "ata.write_moved", .pio = pio_write_moved},
    {.name = "ata.write_done", .io = pio_write_done},
    {.name = "ata.identify_moved", .pio = identify_moved},
    {.name = "ata.flush_done", .io = flush_done},
    {.name = "ata.dma_done", .io = dma_done},
    {.name = NULL},
};
