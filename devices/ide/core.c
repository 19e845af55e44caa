/* The IDE task file protocol of one channel (ATA/ATAPI-6 clause 9): the
 * command and control block registers, device selection, HOB, SRST and
 * signatures, the status/interrupt protocol, PIO data phases, and block I/O
 * on behalf of a drive. */
#include "devices/ide/ide_int.h"

#include "hypervisor/bytes.h"
#include "hypervisor/log.h"

#include <errno.h>
#include <string.h>

#define CMD_DEVICE_RESET 0x08
#define CMD_EXEC_DIAG	 0x90

/* --- interrupts ------------------------------------------------------------ */

/* INTRQ follows the selected device's pending interrupt unless nIEN; the
 * bus master's interrupt bit latches each rising edge. */
void ide_update_irq(struct ide_channel *ch)
{
	const struct ide_drive *d = &ch->drive[ch->cur];
	bool level = d->kind != IDE_NONE && d->intrq && !(ch->devctl & DC_NIEN);
	if (level == ch->irq_level)
		return;
	ch->irq_level = level;
	if (level)
		ch->bm_status |= BM_ST_INT;
	irq_line_set(&ch->irq, level);
}

void ide_raise_irq(struct ide_drive *d)
{
	d->intrq = true;
	ide_update_irq(d->ch);
}

void ide_cmd_ok(struct ide_drive *d)
{
	d->status = ST_DRDY | ST_DSC;
	d->error = 0;
	ide_raise_irq(d);
}

bool ide_power_command(struct ide_drive *d, uint8_t cmd)
{
	switch (cmd) {
	case CMD_STANDBY_IMMEDIATE:
	case CMD_STANDBY_IMMEDIATE_OLD:
	case CMD_STANDBY:
	case CMD_STANDBY_OLD:
		d->standby = true;
		break;
	case CMD_IDLE_IMMEDIATE:
	case CMD_IDLE_IMMEDIATE_OLD:
	case CMD_IDLE:
	case CMD_IDLE_OLD:
		d->standby = false;
		break;
	case CMD_CHECK_POWER:
	case CMD_CHECK_POWER_OLD:
		d->nsect[0] = d->standby ? 0x00 : 0xff;
		break;
	default:
		return false;
	}
	ide_cmd_ok(d);
	return true;
}

void ide_cmd_error(struct ide_drive *d, uint8_t error)
{
	d->status = ST_DRDY | ST_ERR;
	d->error = error;
	ide_raise_irq(d);
}

/* --- identify data helpers ------------------------------------------------- */

/* ATA strings: two characters a word, the first in the high byte, padded
 * with spaces. */
void ide_put_string(uint16_t *words, const char *s, unsigned nwords)
{
	size_t len = strlen(s);
	for (unsigned i = 0; i < nwords * 2; i++) {
		uint8_t c = i < len ? (uint8_t)s[i] : ' ';
		if (i & 1)
			words[i / 2] |= c;
		else
			words[i / 2] = (uint16_t)(c << 8);
	}
}

/* Word 255: signature A5h and a checksum that makes the 512 bytes sum to
 * zero; then the words go to buf in little-endian order. */
void ide_id_finish(uint16_t *id, uint8_t *buf)
{
	id[255] = 0x00a5;
	uint8_t sum = 0;
	for (int i = 0; i < 255; i++)
		sum = (uint8_t)(sum + (id[i] & 0xff) + (id[i] >> 8));
	sum = (uint8_t)(sum + 0xa5);
	id[255] |= (uint16_t)((uint8_t)-sum << 8);
	for (int i = 0; i < 256; i++)
		put_le16(buf + 2 * i, id[i]);
}

/* --- block I/O ------------------------------------------------------------- */

/* The channel whose lock this thread holds while it submits: a completion
 * that runs inside block_submit finds the lock already taken. */
static _Thread_local struct ide_channel *submitting;

static void io_complete(struct block_req *req, int status)
{
	struct ide_drive *d = req->opaque;
	struct ide_channel *ch = d->ch;
	bool nested = submitting == ch;
	if (!nested)
		pthread_mutex_lock(&ch->lock);
	d->io_busy = false;
	if (!d->io_cancel && !ide_hold(d, status))
		d->io_done(d, status);
	d->io_cancel = false;
	pthread_cond_broadcast(&ch->io_idle);
	if (!nested)
		pthread_mutex_unlock(&ch->lock);
}

static void submit(struct ide_drive *d, enum block_op op, uint64_t offset, const struct iovec *iov,
		   unsigned niov)
{
	d->io_busy = true;
	d->io_cancel = false;
	d->req = (struct block_req){
	    .op = op, .offset = offset, .iov = iov, .niov = niov, .done = io_complete, .opaque = d};
	struct ide_channel *outer = submitting;
	submitting = d->ch;
	block_submit(d->blk, &d->req);
	submitting = outer;
}

void ide_submit(struct ide_drive *d, enum block_op op, uint64_t offset, const struct iovec *iov,
		unsigned niov, ide_io_fn done)
{
	d->io_done = done;
	d->announce = true;
	submit(d, op, offset, iov, niov);
}

/* The request as it was submitted (block_submit changes only the block
 * layer's own fields), with the same completion. */
void ide_resubmit(struct ide_drive *d)
{
	d->held = false;
	submit(d, d->req.op, d->req.offset, d->req.iov, d->req.niov);
}

/* Waits (dropping the lock meanwhile) until the drive has no request in
 * flight; the result of one that was cancelled is dropped. */
void ide_wait_io(struct ide_drive *d)
{
	while (d->io_busy)
		pthread_cond_wait(&d->ch->io_idle, &d->ch->lock);
}

/* --- resets and signatures -------------------------------------------------- */

void ide_set_signature(struct ide_drive *d)
{
	bool packet = d->kind == IDE_DVD;
	d->nsect[0] = 1;
	d->lbal[0] = 1;
	d->lbam[0] = packet ? 0x14 : 0x00;
	d->lbah[0] = packet ? 0xeb : 0x00;
	d->nsect[1] = d->lbal[1] = d->lbam[1] = d->lbah[1] = 0;
	d->feature[0] = d->feature[1] = 0;
}

/* Stops whatever the drive is doing: cancels its I/O (waiting for it) or
 * drops the request it holds for a retry, its data phase and DMA. */
static void stop_command(struct ide_drive *d)
{
	if (d->io_busy) {
		d->io_cancel = true;
		ide_wait_io(d);
	}
	d->held = false;
	d->hook_err = 0;
	d->dma_io = false;
	d->pio_done = NULL;
	d->pos = d->end = 0;
	d->dma_pending = false;
	d->intrq = false;
}

/* The state after a reset: signature, diagnostic code 01h, ready (a packet
 * device leaves DRDY clear). A power-on reset also forgets the settings. */
void ide_drive_reset(struct ide_drive *d, bool power_on)
{
	if (d->kind == IDE_NONE)
		return;
	/* Busy meanwhile: a command written while we wait is ignored. */
	d->status = ST_BSY;
	stop_command(d);
	ide_set_signature(d);
	d->error = 0x01;
	d->status = d->kind == IDE_DVD ? 0 : ST_DRDY | ST_DSC;
	if (power_on) {
		d->mult = d->kind == IDE_DISK ? ATA_MAX_MULT : 0;
		d->pio_mode = 0x0c;
		d->dma_mode = 0x22;
		d->wcache = true;
		d->standby = false;
		d->cur_heads = d->heads;
		d->cur_spt = d->spt;
	}
	if (d->kind == IDE_DVD)
		atapi_reset(d, power_on);
}

/* SRST or power on: both devices reset, device 0 is selected. */
static void reset_devices(struct ide_channel *ch, bool power_on)
{
	for (unsigned i = 0; i < 2; i++)
		ch->drive[i].status = ch->drive[i].kind != IDE_NONE ? ST_BSY : 0;
	for (unsigned i = 0; i < 2; i++)
		ide_drive_reset(&ch->drive[i], power_on);
	ch->select = 0;
	ch->cur = 0;
	ide_update_irq(ch);
}

void ide_channel_reset(struct ide_channel *ch)
{
	pthread_mutex_lock(&ch->lock);
	ch->devctl = 0;
	reset_devices(ch, true);
	bmdma_reset(ch);
	ide_update_irq(ch);
	pthread_mutex_unlock(&ch->lock);
}

/* EXECUTE DEVICE DIAGNOSTIC goes to both devices whatever DEV says; device
 * 0 reports for both and interrupts. */
static void execute_diagnostic(struct ide_channel *ch)
{
	reset_devices(ch, false);
	struct ide_drive *d0 = &ch->drive[0];
	if (d0->kind != IDE_NONE)
		ide_raise_irq(d0);
	else
		ide_raise_irq(&ch->drive[1]);
}

/* --- commands ---------------------------------------------------------------- */

static void write_command(struct ide_channel *ch, uint8_t cmd)
{
	if (ch->devctl & DC_SRST)
		return;
	if (cmd == CMD_EXEC_DIAG) {
		if (ch->drive[0].kind != IDE_NONE || ch->drive[1].kind != IDE_NONE)
			execute_diagnostic(ch);
		return;
	}
	struct ide_drive *d = &ch->drive[ch->cur];
	if (d->kind == IDE_NONE)
		return; /* nobody is there to take it */
	if (cmd == CMD_DEVICE_RESET && d->kind == IDE_DVD) {
		/* Taken even while busy; no interrupt follows. */
		ide_drive_reset(d, false);
		ide_update_irq(ch);
		return;
	}
	/* A device busy or in a data phase ignores new commands. */
	if (d->status & (ST_BSY | ST_DRQ))
		return;
	d->intrq = false;
	ide_update_irq(ch);
	d->error = 0;
	d->status = ST_BSY | ST_DRDY;
	bool known = d->kind == IDE_DISK ? ata_exec(d, cmd) : atapi_exec(d, cmd);
	if (!known)
		ide_cmd_error(d, ER_ABRT);
}

/* --- PIO data phases ------------------------------------------------------- */

void ide_pio_start(struct ide_drive *d, uint32_t off, uint32_t len, bool out, ide_fn done)
{
	d->pos = off;
	d->end = off + len;
	d->pio_out = out;
	d->pio_done = done;
	d->status = ST_DRDY | ST_DSC | ST_DRQ;
}

/* The host has moved the whole block: on to the next step. */
static void pio_finish(struct ide_drive *d)
{
	ide_fn fn = d->pio_done;
	d->pio_done = NULL;
	d->status &= (uint8_t)~ST_DRQ;
	fn(d);
}

static uint32_t data_read(struct ide_channel *ch, unsigned size)
{
	struct ide_drive *d = &ch->drive[ch->cur];
	if (!d->pio_done || d->pio_out)
		return 0;
	uint32_t v = 0;
	uint32_t n = d->end - d->pos;
	if (n > size)
		n = size;
	for (uint32_t i = 0; i < n; i++)
		v |= (uint32_t)d->buf[d->pos + i] << (8 * i);
	d->pos += n;
	if (d->pos >= d->end)
		pio_finish(d);
	return v;
}

static void data_write(struct ide_channel *ch, uint32_t v, unsigned size)
{
	struct ide_drive *d = &ch->drive[ch->cur];
	if (!d->pio_done || !d->pio_out)
		return;
	uint32_t n = d->end - d->pos;
	if (n > size)
		n = size;
	for (uint32_t i = 0; i < n; i++)
		d->buf[d->pos + i] = (uint8_t)(v >> (8 * i));
	d->pos += n;
	if (d->pos >= d->end)
		pio_finish(d);
}

/* --- the command block registers ------------------------------------------- */

enum { REG_DATA, REG_ERROR, REG_NSECT, REG_LBAL, REG_LBAM, REG_LBAH, REG_DEVICE, REG_STATUS };

static uint8_t reg_read(struct ide_channel *ch, unsigned reg)
{
	struct ide_drive *d = &ch->drive[ch->cur];
	unsigned h = (ch->devctl & DC_HOB) ? 1 : 0;
	if (reg == REG_DEVICE)
		return ch->select;
	/* An absent device: device 0 answers for it with zeroes (a status
	 * of 00h says nobody is there), as the ATA standard asks. */
	if (d->kind == IDE_NONE)
		return 0;
	switch (reg) {
	case REG_ERROR:
		return h ? d->feature[1] : d->error;
	case REG_NSECT:
		return d->nsect[h];
	case REG_LBAL:
		return d->lbal[h];
	case REG_LBAM:
		return d->lbam[h];
	case REG_LBAH:
		return d->lbah[h];
	default: /* REG_STATUS */
		d->intrq = false;
		ide_update_irq(ch);
		return d->status;
	}
}

/* Both devices latch what is written (each keeps its own copy). */
static void reg_write(struct ide_channel *ch, unsigned reg, uint8_t v)
{
	ch->devctl &= (uint8_t)~DC_HOB;
	if (reg == REG_STATUS) {
		write_command(ch, v);
		return;
	}
	if (reg == REG_DEVICE) {
		ch->select = v;
		ch->cur = (v & DEV_DEV) ? 1 : 0;
		ide_update_irq(ch);
		return;
	}
	for (unsigned i = 0; i < 2; i++) {
		struct ide_drive *d = &ch->drive[i];
		uint8_t *r = reg == REG_ERROR	? d->feature
			     : reg == REG_NSECT ? d->nsect
			     : reg == REG_LBAL	? d->lbal
			     : reg == REG_LBAM	? d->lbam
						: d->lbah;
		r[1] = r[0];
		r[0] = v;
	}
}

static uint64_t cmd_read(void *opaque, uint64_t off, unsigned size)
{
	struct ide_channel *ch = opaque;
	uint64_t v = 0;
	pthread_mutex_lock(&ch->lock);
	if (off == REG_DATA && size >= 2) {
		v = data_read(ch, size > 4 ? 4 : size);
	} else {
		/* The other registers are 8 bits wide: a wider access reads
		 * each in turn. */
		for (unsigned i = 0; i < size && off + i < 8; i++)
			v |= (uint64_t)(off + i == REG_DATA ? data_read(ch, 1)
							    : reg_read(ch, (unsigned)off + i))
			     << (8 * i);
	}
	pthread_mutex_unlock(&ch->lock);
	return v;
}

static void cmd_write(void *opaque, uint64_t off, uint64_t v, unsigned size)
{
	struct ide_channel *ch = opaque;
	pthread_mutex_lock(&ch->lock);
	if (off == REG_DATA && size >= 2) {
		data_write(ch, (uint32_t)v, size > 4 ? 4 : size);
	} else {
		for (unsigned i = 0; i < size && off + i < 8; i++) {
			uint8_t b = (uint8_t)(v >> (8 * i));
			if (off + i == REG_DATA)
				data_write(ch, b, 1);
			else
				reg_write(ch, (unsigned)off + i, b);
		}
	}
	pthread_mutex_unlock(&ch->lock);
}

const struct bus_ops ide_cmd_ops = {cmd_read, cmd_write};

/* --- the control block: alternate status and device control --------------- */

static uint64_t ctl_read(void *opaque, uint64_t off, unsigned size)
{
	struct ide_channel *ch = opaque;
	pthread_mutex_lock(&ch->lock);
	const struct ide_drive *d = &ch->drive[ch->cur];
	uint8_t v = d->kind == IDE_NONE ? 0 : d->status;
	pthread_mutex_unlock(&ch->lock);
	return v;
}

static void ctl_write(void *opaque, uint64_t off, uint64_t val, unsigned size)
{
	struct ide_channel *ch = opaque;
	uint8_t v = (uint8_t)val;
	pthread_mutex_lock(&ch->lock);
	bool was = ch->devctl & DC_SRST;
	ch->devctl = v;
	if (!was && (v & DC_SRST)) {
		/* Reset begins: both devices busy until SRST is released. */
		for (unsigned i = 0; i < 2; i++) {
			struct ide_drive *d = &ch->drive[i];
			if (d->kind == IDE_NONE)
				continue;
			d->status = ST_BSY;
			stop_command(d);
			if (ch->devctl & DC_SRST) /* still held after the wait */
				d->status = ST_BSY;
		}
	} else if (was && !(v & DC_SRST)) {
		reset_devices(ch, false);
	}
	ide_update_irq(ch);
	pthread_mutex_unlock(&ch->lock);
}

const struct bus_ops ide_ctl_ops = {ctl_read, ctl_write};

/* --- set-up ------------------------------------------------------------------ */

void ide_channel_init(struct ide_channel *ch, struct piix_ide *ide, unsigned index)
{
	ch->ide = ide;
	ch->index = index;
	pthread_mutex_init(&ch->lock, NULL);
	pthread_cond_init(&ch->io_idle, NULL);
	for (unsigned i = 0; i < 2; i++) {
		ch->drive[i].ch = ch;
		ch->drive[i].unit = i;
		ch->drive[i].position = index * 2 + i;
	}
}

void ide_channel_stop(struct ide_channel *ch)
{
	pthread_mutex_lock(&ch->lock);
	for (unsigned i = 0; i < 2; i++)
		stop_command(&ch->drive[i]);
	pthread_mutex_unlock(&ch->lock);
}

void ide_channel_destroy(struct ide_channel *ch)
{
	pthread_cond_destroy(&ch->io_idle);
	pthread_mutex_destroy(&ch->lock);
}
