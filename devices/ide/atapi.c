/* An ATAPI DVD-ROM drive: the PACKET protocol (the 12-byte command, PIO data
 * phases within the host's byte count limit, DMA), IDENTIFY PACKET DEVICE,
 * sense data and unit attention, and the disc and tray: insert, eject,
 * media events. The MMC commands themselves are in mmc.c. */
#include "devices/ide/ide_int.h"

#include "hypervisor/bytes.h"
#include "hypervisor/log.h"

#include <errno.h>
#include <string.h>

enum {
	CMD_DEVICE_RESET = 0x08,
	CMD_PACKET = 0xa0,
	CMD_IDENTIFY_PACKET = 0xa1,
};

#define PACKET_LEN 12

bool atapi_medium(const struct ide_drive *d)
{
	return d->blk && !d->atapi.tray_open;
}

void atapi_reset(struct ide_drive *d, bool power_on)
{
	struct atapi_state *a = &d->atapi;
	a->sense_key = a->asc = a->ascq = 0;
	a->pio_left = a->sectors_left = 0;
	if (power_on) {
		a->locked = false;
		a->tray_open = false;
		a->ua = false;
	}
}

/* --- endings ----------------------------------------------------------------- */

/* The command is over: I/O and C/D set in the interrupt reason. */
static void finish(struct ide_drive *d)
{
	d->nsect[0] = (uint8_t)((d->nsect[0] & ~7u) | IR_IO | IR_COD);
	ide_raise_irq(d);
}

void atapi_ok(struct ide_drive *d)
{
	d->status = ST_DRDY | ST_DSC;
	d->error = 0;
	finish(d);
}

/* CHECK CONDITION: the sense key in the error register, the details for
 * REQUEST SENSE. */
void atapi_check(struct ide_drive *d, uint8_t key, uint8_t asc, uint8_t ascq)
{
	struct atapi_state *a = &d->atapi;
	a->sense_key = key;
	a->asc = asc;
	a->ascq = ascq;
	a->pio_left = a->sectors_left = 0;
	d->pio_done = NULL;
	d->status = ST_DRDY | ST_ERR;
	d->error = (uint8_t)(key << 4);
	finish(d);
}

/* --- data-in phases ---------------------------------------------------------- */

/* The most a PIO data block may hold: the byte count limit, even, and
 * FFFFh or 0 meaning FFFEh. */
static uint32_t byte_limit(const struct ide_drive *d)
{
	uint32_t l = d->atapi.bcl;
	if (l == 0 || l == 0xffff)
		l = 0xfffe;
	l &= ~1u;
	return l ? l : 2;
}

static void read_chunk(struct ide_drive *d);
static void pio_next(struct ide_drive *d);

static void pio_moved(struct ide_drive *d)
{
	struct atapi_state *a = &d->atapi;
	a->pio_off += a->drq_len;
	a->pio_left -= a->drq_len;
	pio_next(d);
}

/* Offers the next block of buf, reads more of the disc, or ends. */
static void pio_next(struct ide_drive *d)
{
	struct atapi_state *a = &d->atapi;
	if (!a->pio_left) {
		if (a->sectors_left)
			read_chunk(d);
		else
			atapi_ok(d);
		return;
	}
	uint32_t n = byte_limit(d);
	if (n > a->pio_left)
		n = a->pio_left;
	a->drq_len = n;
	d->nsect[0] = (uint8_t)((d->nsect[0] & ~7u) | IR_IO);
	d->lbam[0] = (uint8_t)n;
	d->lbah[0] = (uint8_t)(n >> 8);
	ide_pio_start(d, a->pio_off, n, false, pio_moved);
	ide_raise_irq(d);
}

static void dma_done(struct ide_drive *d, int status)
{
	if (status == -ENOSPC) {
		d->status = ST_DRDY | ST_DSC; /* the PRDs ended first: no completion */
		return;
	}
	if (status == -EFAULT)
		atapi_check(d, SK_ABORTED_COMMAND, 0, 0);
	else if (status < 0)
		atapi_check(d, SK_MEDIUM_ERROR, ASC_UNRECOVERED_READ, 0);
	else
		atapi_ok(d);
}

void atapi_reply(struct ide_drive *d, uint32_t len, uint32_t alloc)
{
	struct atapi_state *a = &d->atapi;
	uint32_t n = len < alloc ? len : alloc;
	if (n == 0) {
		atapi_ok(d);
		return;
	}
	if (a->dma) {
		d->status = ST_DRDY | ST_DSC | ST_DRQ;
		ide_dma_begin(d, true, n, true, 0, dma_done);
		return;
	}
	a->sectors_left = 0;
	a->pio_off = 0;
	a->pio_left = n;
	pio_next(d);
}

static void read_chunk_done(struct ide_drive *d, int status)
{
	struct atapi_state *a = &d->atapi;
	if (status < 0) {
		atapi_check(d, SK_MEDIUM_ERROR, ASC_UNRECOVERED_READ, 0);
		return;
	}
	a->lba += a->chunk_sectors;
	a->sectors_left -= a->chunk_sectors;
	a->pio_off = 0;
	a->pio_left = a->chunk_sectors * CD_SECTOR;
	pio_next(d);
}

static void read_chunk(struct ide_drive *d)
{
	struct atapi_state *a = &d->atapi;
	uint32_t max = IDE_BUF_SIZE / CD_SECTOR;
	a->chunk_sectors = a->sectors_left < max ? a->sectors_left : max;
	d->status = ST_BSY | ST_DRDY;
	d->iov.iov_base = d->buf;
	d->iov.iov_len = (size_t)a->chunk_sectors * CD_SECTOR;
	ide_submit(d, BLOCK_OP_READ, a->lba * CD_SECTOR, &d->iov, 1, read_chunk_done);
}

/* READ(10)/(12): the range is checked by the caller. */
void atapi_read(struct ide_drive *d, uint64_t lba, uint32_t count)
{
	struct atapi_state *a = &d->atapi;
	if (count == 0) {
		atapi_ok(d);
		return;
	}
	if (a->dma) {
		d->status = ST_DRDY | ST_DSC | ST_DRQ;
		ide_dma_begin(d, true, (uint64_t)count * CD_SECTOR, false, lba * CD_SECTOR,
			      dma_done);
		return;
	}
	a->lba = lba;
	a->sectors_left = count;
	a->pio_left = 0;
	read_chunk(d);
}

/* --- the packet -------------------------------------------------------------- */

static void packet_received(struct ide_drive *d)
{
	memcpy(d->atapi.cdb, d->buf, PACKET_LEN);
	d->status = ST_BSY | ST_DRDY;
	mmc_exec(d);
}

static void packet(struct ide_drive *d)
{
	struct atapi_state *a = &d->atapi;
	a->dma = d->feature[0] & 1;
	a->bcl = (uint16_t)(d->lbah[0] << 8 | d->lbam[0]);
	a->pio_left = a->sectors_left = 0;
	/* Ready for the command packet: C/D set, I/O clear; this device
	 * does not interrupt for it (IDENTIFY word 0 bits 6:5). */
	d->nsect[0] = (uint8_t)((d->nsect[0] & ~7u) | IR_COD);
	ide_pio_start(d, 0, PACKET_LEN, true, packet_received);
}

/* --- IDENTIFY PACKET DEVICE ------------------------------------------------- */

static void identify_moved(struct ide_drive *d)
{
	d->status = ST_DRDY | ST_DSC;
}

static void identify_packet(struct ide_drive *d)
{
	uint16_t id[256] = {0};
	/* Packet device, CD-ROM type, removable, DRQ within 50 us, 12-byte
	 * packets. */
	id[0] = (2 << 14) | (5 << 8) | (1 << 7) | (2 << 5);
	ide_put_string(&id[10], d->serial, 10);
	ide_put_string(&id[23], OSIO_VERSION, 4);
	ide_put_string(&id[27], d->model, 20);
	id[49] = (1 << 11) | (1 << 9) | (1 << 8); /* IORDY, LBA, DMA */
	id[50] = 0x4000;
	id[53] = 0x0006; /* words 64-70 and 88 are valid */
	ide_dma_modes(d, id);
	id[64] = 0x0003;
	id[65] = id[66] = id[67] = id[68] = 120;
	id[71] = 30; /* PACKET to bus release, SERVICE to BSY clear (ns) */
	id[72] = 30;
	id[80] = 0x007e;
	id[82] = (1 << 9) | (1 << 4) | (1 << 3); /* DEVICE RESET, PACKET, power management */
	id[83] = 0x4000;
	id[84] = 0x4000;
	id[85] = (1 << 9) | (1 << 4) | (1 << 3);
	id[87] = 0x4000;
	struct ide_drive *other = &d->ch->drive[d->unit ^ 1];
	if (d->unit == 0)
		id[93] = (uint16_t)(0x6000 | 0x000b | (other->kind != IDE_NONE ? 0x0020 : 0x0040));
	else
		id[93] = 0x6000 | 0x0b00;
	ide_id_finish(id, d->buf);
	ide_pio_start(d, 0, ATA_SECTOR, false, identify_moved);
	ide_raise_irq(d);
}

/* The ATA commands a packet device takes. */
bool atapi_exec(struct ide_drive *d, uint8_t cmd)
{
	switch (cmd) {
	case CMD_PACKET:
		packet(d);
		return true;
	case CMD_IDENTIFY_PACKET:
		identify_packet(d);
		return true;
	case CMD_IDENTIFY:
		/* Refused, with the signature that says what we are. */
		ide_set_signature(d);
		ide_cmd_error(d, ER_ABRT);
		return true;
	case CMD_SET_FEATURES:
		if (!ide_set_features(d))
			return false;
		ide_cmd_ok(d);
		return true;
	case CMD_CHECK_POWER:
	case CMD_CHECK_POWER_OLD:
	case CMD_STANDBY_IMMEDIATE:
	case CMD_STANDBY_IMMEDIATE_OLD:
	case CMD_IDLE_IMMEDIATE:
	case CMD_IDLE_IMMEDIATE_OLD:
		return ide_power_command(d, cmd);
	case CMD_FLUSH_CACHE:
		ide_cmd_ok(d); /* nothing is ever written */
		return true;
	default:
		return false;
	}
}

/* --- the disc ---------------------------------------------------------------- */

/* A disc that changes under a command ends it: its I/O is dropped (waited
 * for), and it fails as the new state of the drive says. */
static void end_command(struct ide_drive *d, bool inserted)
{
	bool active = d->io_busy || d->pio_done || d->dma_pending || (d->status & ST_BSY);
	if (d->io_busy) {
		d->io_cancel = true;
		ide_wait_io(d);
	}
	d->dma_io = false;
	if (!active || (d->ch->devctl & DC_SRST))
		return;
	d->dma_pending = false;
	if (inserted)
		atapi_check(d, SK_UNIT_ATTENTION, ASC_MEDIUM_CHANGED, 0);
	else
		atapi_check(d, SK_NOT_READY, ASC_MEDIUM_NOT_PRESENT, 0);
}

/* Puts disc in (the caller holds the lock); *old gets the disc taken out,
 * for the caller to close after unlocking. An empty drive takes a disc
 * even when locked; a locked disc stays. */
void atapi_media_changed(struct ide_drive *d)
{
	struct atapi_state *a = &d->atapi;
	bool present = d->blk != NULL;
	end_command(d, present);
	if (present)
		a->tray_open = false;
	a->ua = true;
	a->event = present ? EV_NEW_MEDIA : EV_MEDIA_REMOVAL;
}

int atapi_insert(struct ide_drive *d, struct block_dev *disc, struct block_dev **old)
{
	struct atapi_state *a = &d->atapi;
	*old = NULL;
	if (d->blk && a->locked && !a->tray_open) {
		a->event = EV_EJECT_REQUEST;
		return -EBUSY;
	}
	end_command(d, true);
	*old = d->blk;
	d->blk = disc;
	d->sectors = block_size(disc) / CD_SECTOR;
	a->tray_open = false;
	a->ua = true;
	a->event = EV_NEW_MEDIA;
	return 0;
}

int atapi_eject(struct ide_drive *d, struct block_dev **old)
{
	struct atapi_state *a = &d->atapi;
	*old = NULL;
	if (!d->blk)
		return -ENOMEDIUM;
	if (a->locked && !a->tray_open) {
		a->event = EV_EJECT_REQUEST;
		return -EBUSY;
	}
	end_command(d, false);
	*old = d->blk;
	d->blk = NULL;
	d->sectors = 0;
	a->tray_open = false;
	a->event = EV_MEDIA_REMOVAL;
	return 0;
}

const struct ide_step atapi_steps[] = {
    {.name = "atapi.packet_received", .pio = packet_received},
    {.name = "atapi.pio_moved", .pio = pio_moved},
    {.name = "atapi.read_done", .io = read_chunk_done},
    {.name = "atapi.identify_moved", .pio = identify_moved},
    {.name = "atapi.dma_done", .io = dma_done},
    {.name = NULL},
};
