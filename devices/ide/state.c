/* The PIIX IDE function's saved state: PCI configuration, each channel's
 * selection, device control and bus-master registers, and each drive's task
 * file, settings and the command it is in the middle of (a PIO data phase
 * with its buffer and position, DMA waiting for the bus master, a request
 * held for a retry, ATAPI sense and media). The device is paused when it is
 * saved, so no block request is in flight. */
#include "devices/ide/ide_int.h"

#include "hypervisor/vmstate.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define MEDIA_MAX      4096
#define BM_STATUS_BITS (BM_ST_ACTIVE | BM_ST_ERROR | BM_ST_INT | BM_ST_DMA_CAP)

enum held_iov { HELD_NONE, HELD_BUF, HELD_SG };

/* A held request's operation is saved as the block layer numbers it. */
_Static_assert(BLOCK_OP_READ == 0 && BLOCK_OP_WRITE == 1 && BLOCK_OP_FLUSH == 2,
	       "saved held.op values");

/* Field names: "d2.status" is drive 2's (secondary master), "ch1.select"
 * the secondary channel's. */
struct names {
	char prefix[8]; /* "d2." */
	char who[24];	/* "drive d2", for sentences */
	char buf[48];
};

static void names_init(struct names *n, const char *prefix, unsigned i, const char *who)
{
	snprintf(n->prefix, sizeof(n->prefix), "%s%u.", prefix, i);
	snprintf(n->who, sizeof(n->who), "%s %s%u", who, prefix, i);
}

static const char *fname(struct names *n, const char *field)
{
	snprintf(n->buf, sizeof(n->buf), "%s%s", n->prefix, field);
	return n->buf;
}

/* --- steps ------------------------------------------------------------------ */

static const struct ide_step *const step_tables[] = {ata_steps, atapi_steps, bmdma_steps};

static const char *pio_step_name(ide_fn fn)
{
	if (!fn)
		return "";
	for (unsigned t = 0; t < 3; t++)
		for (const struct ide_step *s = step_tables[t]; s->name; s++)
			if (s->pio == fn)
				return s->name;
	return "?";
}

static const char *io_step_name(ide_io_fn fn)
{
	if (!fn)
		return "";
	for (unsigned t = 0; t < 3; t++)
		for (const struct ide_step *s = step_tables[t]; s->name; s++)
			if (s->io == fn)
				return s->name;
	return "?";
}

/* A step of the drive's kind by name: ATA steps for disks, ATAPI steps for
 * DVD drives, the bus master's for both. */
static const struct ide_step *find_step(const struct ide_drive *d, const char *name)
{
	const struct ide_step *own = d->kind == IDE_DISK ? ata_steps : atapi_steps;
	const struct ide_step *const tables[] = {own, bmdma_steps};
	for (unsigned t = 0; t < 2; t++)
		for (const struct ide_step *s = tables[t]; s->name; s++)
			if (strcmp(s->name, name) == 0)
				return s;
	return NULL;
}

/* --- saving ------------------------------------------------------------------- */

/* The buffer matters while the drive is in the middle of a command; its
 * zeroes at the end are not saved. */
static void save_buf(const struct ide_drive *d, struct vmstate_out *out, struct names *n)
{
	uint32_t len = 0;
	if (d->pio_done || d->held || (d->dma_pending && d->dma_from_buf))
		for (len = IDE_BUF_SIZE; len && !d->buf[len - 1]; len--)
			;
	vmstate_put_bytes(out, fname(n, "buf"), d->buf, len);
}

static void save_held(const struct ide_drive *d, struct vmstate_out *out, struct names *n)
{
	vmstate_put_bool(out, fname(n, "held"), d->held);
	if (!d->held)
		return;
	enum held_iov kind = d->req.niov == 0	     ? HELD_NONE
			     : d->req.iov == &d->iov ? HELD_BUF
						     : HELD_SG;
	vmstate_put_u64(out, fname(n, "held.op"), d->req.op);
	vmstate_put_u64(out, fname(n, "held.offset"), d->req.offset);
	vmstate_put_u64(out, fname(n, "held.iov"), kind);
	vmstate_put_u64(out, fname(n, "held.len"), kind == HELD_BUF ? d->iov.iov_len : 0);
	vmstate_put_str(out, fname(n, "held.step"), io_step_name(d->io_done));
}

static void save_atapi(const struct ide_drive *d, struct vmstate_out *out, struct names *n)
{
	const struct atapi_state *a = &d->atapi;
	vmstate_put_bytes(out, fname(n, "atapi.cdb"), a->cdb, sizeof(a->cdb));
	vmstate_put_bool(out, fname(n, "atapi.dma"), a->dma);
	vmstate_put_u64(out, fname(n, "atapi.bcl"), a->bcl);
	vmstate_put_u64(out, fname(n, "atapi.sense"), a->sense_key);
	vmstate_put_u64(out, fname(n, "atapi.asc"), a->asc);
	vmstate_put_u64(out, fname(n, "atapi.ascq"), a->ascq);
	vmstate_put_bool(out, fname(n, "atapi.ua"), a->ua);
	vmstate_put_u64(out, fname(n, "atapi.event"), a->event);
	vmstate_put_bool(out, fname(n, "atapi.tray_open"), a->tray_open);
	vmstate_put_bool(out, fname(n, "atapi.locked"), a->locked);
	vmstate_put_u64(out, fname(n, "atapi.pio_off"), a->pio_off);
	vmstate_put_u64(out, fname(n, "atapi.pio_left"), a->pio_left);
	vmstate_put_u64(out, fname(n, "atapi.drq_len"), a->drq_len);
	vmstate_put_u64(out, fname(n, "atapi.lba"), a->lba);
	vmstate_put_u64(out, fname(n, "atapi.sectors_left"), a->sectors_left);
	vmstate_put_u64(out, fname(n, "atapi.chunk_sectors"), a->chunk_sectors);
	/* Which disc was in: on load, another one (or none) is a media
	 * change for the guest. */
	vmstate_put_str(out, fname(n, "media"), d->blk ? block_path(d->blk) : "");
	vmstate_put_u64(out, fname(n, "media.sectors"), d->sectors);
}

static void save_drive(const struct ide_drive *d, struct vmstate_out *out)
{
	struct names n;
	names_init(&n, "d", d->position, "drive");
	vmstate_put_u64(out, fname(&n, "kind"), d->kind);
	if (d->kind == IDE_NONE)
		return;
	vmstate_put_bytes(out, fname(&n, "feature"), d->feature, 2);
	vmstate_put_bytes(out, fname(&n, "nsect"), d->nsect, 2);
	vmstate_put_bytes(out, fname(&n, "lbal"), d->lbal, 2);
	vmstate_put_bytes(out, fname(&n, "lbam"), d->lbam, 2);
	vmstate_put_bytes(out, fname(&n, "lbah"), d->lbah, 2);
	vmstate_put_u64(out, fname(&n, "status"), d->status);
	vmstate_put_u64(out, fname(&n, "error"), d->error);
	vmstate_put_bool(out, fname(&n, "intrq"), d->intrq);
	vmstate_put_u64(out, fname(&n, "mult"), d->mult);
	vmstate_put_u64(out, fname(&n, "pio_mode"), d->pio_mode);
	vmstate_put_u64(out, fname(&n, "dma_mode"), d->dma_mode);
	vmstate_put_bool(out, fname(&n, "wcache"), d->wcache);
	vmstate_put_bool(out, fname(&n, "standby"), d->standby);
	vmstate_put_u64(out, fname(&n, "cur_heads"), d->cur_heads);
	vmstate_put_u64(out, fname(&n, "cur_spt"), d->cur_spt);
	vmstate_put_bool(out, fname(&n, "lba48"), d->lba48);
	vmstate_put_bool(out, fname(&n, "chs"), d->chs);
	vmstate_put_u64(out, fname(&n, "lba"), d->lba);
	vmstate_put_u64(out, fname(&n, "left"), d->left);
	vmstate_put_u64(out, fname(&n, "blk_sectors"), d->blk_sectors);
	vmstate_put_u64(out, fname(&n, "drq_sectors"), d->drq_sectors);
	vmstate_put_u64(out, fname(&n, "chunk"), d->chunk);
	vmstate_put_u64(out, fname(&n, "chunk_off"), d->chunk_off);
	vmstate_put_str(out, fname(&n, "pio.step"), pio_step_name(d->pio_done));
	vmstate_put_u64(out, fname(&n, "pio.pos"), d->pos);
	vmstate_put_u64(out, fname(&n, "pio.end"), d->end);
	vmstate_put_bool(out, fname(&n, "pio.out"), d->pio_out);
	save_buf(d, out, &n);
	save_held(d, out, &n);
	vmstate_put_bool(out, fname(&n, "dma.pending"), d->dma_pending);
	vmstate_put_bool(out, fname(&n, "dma.io"), d->dma_io);
	vmstate_put_bool(out, fname(&n, "dma.to_mem"), d->dma_to_mem);
	vmstate_put_bool(out, fname(&n, "dma.from_buf"), d->dma_from_buf);
	vmstate_put_u64(out, fname(&n, "dma.bytes"), d->dma_bytes);
	vmstate_put_u64(out, fname(&n, "dma.offset"), d->dma_offset);
	vmstate_put_str(out, fname(&n, "dma.step"),
			d->dma_pending || d->dma_io ? io_step_name(d->dma_done) : "");
	if (d->kind == IDE_DVD)
		save_atapi(d, out, &n);
	else
		vmstate_put_u64(out, fname(&n, "sectors"), d->sectors);
}

void ide_save(void *state, struct vmstate_out *out)
{
	struct piix_ide *ide = state;
	pci_save(&ide->pci, out);
	for (unsigned c = 0; c < 2; c++) {
		struct ide_channel *ch = &ide->ch[c];
		struct names n;
		names_init(&n, "ch", c, "channel");
		pthread_mutex_lock(&ch->lock);
		vmstate_put_u64(out, fname(&n, "select"), ch->select);
		vmstate_put_u64(out, fname(&n, "devctl"), ch->devctl);
		vmstate_put_u64(out, fname(&n, "bm.cmd"), ch->bm_cmd);
		vmstate_put_u64(out, fname(&n, "bm.status"), ch->bm_status);
		vmstate_put_u64(out, fname(&n, "bm.prd"), ch->bm_prd);
		vmstate_put_bool(out, fname(&n, "bm.eot"), ch->bm_eot);
		for (unsigned i = 0; i < 2; i++)
			save_drive(&ch->drive[i], out);
		pthread_mutex_unlock(&ch->lock);
	}
}

/* --- loading ------------------------------------------------------------------- */

struct drive_in {
	struct ide_drive t; /* the loaded values, checked before they are used */
	const uint8_t *buf;
	size_t buf_len;
	enum held_iov held_iov;
	uint32_t held_len;
	char media[MEDIA_MAX];
	uint64_t media_sectors;
};

static int get_u8(struct vmstate_section *in, struct names *n, const char *f, uint8_t max,
		  uint8_t *out)
{
	return vmstate_get_u8(in, fname(n, f), max, out);
}

static int get_u32(struct vmstate_section *in, struct names *n, const char *f, uint32_t max,
		   uint32_t *out)
{
	return vmstate_get_u32(in, fname(n, f), max, out);
}

static int get_u64(struct vmstate_section *in, struct names *n, const char *f, uint64_t *out)
{
	return vmstate_get_u64(in, fname(n, f), UINT64_MAX, out);
}

static int get_bool(struct vmstate_section *in, struct names *n, const char *f, bool *out)
{
	return vmstate_get_bool(in, fname(n, f), out);
}

static int get_bytes(struct vmstate_section *in, struct names *n, const char *f, uint8_t *out)
{
	return vmstate_get_bytes(in, fname(n, f), out, 2);
}

/* A step field: "" for none, else a step of the drive's kind and of the
 * right sort (a PIO step or an I/O completion). */
static int get_step(struct vmstate_section *in, struct names *n, const struct ide_drive *d,
		    const char *f, bool pio, const struct ide_step **out)
{
	char name[48];
	if (vmstate_get_str(in, fname(n, f), name, sizeof(name)))
		return -EINVAL;
	*out = NULL;
	if (!name[0])
		return 0;
	const struct ide_step *s = find_step(d, name);
	if (!s || (pio ? !s->pio : !s->io))
		return vmstate_fail(in, "%s%s is '%s', not a step a %s drive waits in", n->prefix,
				    f, name, d->kind == IDE_DISK ? "disk" : "DVD");
	*out = s;
	return 0;
}

static bool valid_pio_mode(uint8_t m)
{
	return m <= 0x01 || (m >= 0x08 && m <= 0x0c);
}

static bool valid_dma_mode(uint8_t m)
{
	return (m >= 0x20 && m <= 0x22) || (m >= 0x40 && m <= 0x45);
}

/* Whether a PIO step or a completion is the step of that name. */
static const struct ide_step *step_named(const char *name)
{
	for (unsigned t = 0; t < 3; t++)
		for (const struct ide_step *s = step_tables[t]; s->name; s++)
			if (strcmp(s->name, name) == 0)
				return s;
	return NULL;
}

static bool is_pio_step(ide_fn fn, const char *name)
{
	const struct ide_step *s = step_named(name);
	return fn && s && s->pio == fn;
}

static bool is_io_step(ide_io_fn fn, const char *name)
{
	const struct ide_step *s = step_named(name);
	return fn && s && s->io == fn;
}

/* The values a read or write step goes on from: buf and its offsets must
 * stay inside the buffer whatever the file says. */
static int check_ata_steps(struct vmstate_section *in, struct names *n, const struct ide_drive *t)
{
	const uint32_t max = IDE_BUF_SIZE / ATA_SECTOR;
	ide_io_fn io = t->held ? t->io_done : NULL;
	bool read_moved = is_pio_step(t->pio_done, "ata.read_moved");
	bool write_moved = is_pio_step(t->pio_done, "ata.write_moved");
	bool read_done = is_io_step(io, "ata.read_done");
	bool write_done = is_io_step(io, "ata.write_done");
	if (t->chunk > max || t->drq_sectors > max || t->chunk_off > IDE_BUF_SIZE)
		return vmstate_fail(in,
				    "%s: chunk %u, block %u and offset %u do not fit the buffer",
				    n->who, t->chunk, t->drq_sectors, t->chunk_off);
	if ((read_moved || write_moved || read_done || write_done) &&
	    (t->blk_sectors == 0 || t->drq_sectors > t->left))
		return vmstate_fail(in, "%s: a transfer of %u sectors left in blocks of %u, %u now",
				    n->who, t->left, t->blk_sectors, t->drq_sectors);
	if ((read_moved || write_moved) && !t->drq_sectors)
		return vmstate_fail(in, "%s: a data block of no sectors", n->who);
	if (read_moved && t->chunk_off + t->drq_sectors * ATA_SECTOR > t->chunk * ATA_SECTOR)
		return vmstate_fail(in, "%s: the data block at %u runs past the %u sectors read",
				    n->who, t->chunk_off, t->chunk);
	if (read_done && (!t->chunk || t->chunk > t->left))
		return vmstate_fail(in, "%s: a read of %u sectors with %u left", n->who, t->chunk,
				    t->left);
	return 0;
}

static int load_atapi(struct vmstate_section *in, struct names *n, struct drive_in *di)
{
	struct atapi_state *a = &di->t.atapi;
	if (vmstate_get_bytes(in, fname(n, "atapi.cdb"), a->cdb, sizeof(a->cdb)) ||
	    get_bool(in, n, "atapi.dma", &a->dma) ||
	    vmstate_get_u16(in, fname(n, "atapi.bcl"), UINT16_MAX, &a->bcl) ||
	    get_u8(in, n, "atapi.sense", 0x0f, &a->sense_key) ||
	    get_u8(in, n, "atapi.asc", 0xff, &a->asc) ||
	    get_u8(in, n, "atapi.ascq", 0xff, &a->ascq) || get_bool(in, n, "atapi.ua", &a->ua) ||
	    get_u8(in, n, "atapi.event", EV_MEDIA_REMOVAL, &a->event) ||
	    get_bool(in, n, "atapi.tray_open", &a->tray_open) ||
	    get_bool(in, n, "atapi.locked", &a->locked) ||
	    get_u32(in, n, "atapi.pio_off", IDE_BUF_SIZE, &a->pio_off) ||
	    get_u32(in, n, "atapi.pio_left", IDE_BUF_SIZE, &a->pio_left) ||
	    get_u32(in, n, "atapi.drq_len", IDE_BUF_SIZE, &a->drq_len) ||
	    get_u64(in, n, "atapi.lba", &a->lba) ||
	    get_u32(in, n, "atapi.sectors_left", UINT32_MAX, &a->sectors_left) ||
	    get_u32(in, n, "atapi.chunk_sectors", IDE_BUF_SIZE / CD_SECTOR, &a->chunk_sectors) ||
	    vmstate_get_str(in, fname(n, "media"), di->media, sizeof(di->media)) ||
	    get_u64(in, n, "media.sectors", &di->media_sectors))
		return -EINVAL;
	if (a->pio_off + a->pio_left > IDE_BUF_SIZE)
		return vmstate_fail(in, "%s: %u bytes at %u run past the buffer", n->who,
				    a->pio_left, a->pio_off);
	if (a->drq_len > a->pio_left && is_pio_step(di->t.pio_done, "atapi.pio_moved"))
		return vmstate_fail(in, "%s: a data block of %u bytes with %u left", n->who,
				    a->drq_len, a->pio_left);
	if (di->t.held)
		return vmstate_fail(in, "%s: a DVD drive holds no request", n->who);
	return 0;
}

static int load_held(struct vmstate_section *in, struct names *n, struct drive_in *di)
{
	struct ide_drive *t = &di->t;
	uint8_t op, iov;
	const struct ide_step *step;
	if (get_bool(in, n, "held", &t->held))
		return -EINVAL;
	if (!t->held)
		return 0;
	if (get_u8(in, n, "held.op", BLOCK_OP_FLUSH, &op) ||
	    get_u64(in, n, "held.offset", &t->req.offset) ||
	    get_u8(in, n, "held.iov", HELD_SG, &iov) ||
	    get_u32(in, n, "held.len", IDE_BUF_SIZE, &di->held_len) ||
	    get_step(in, n, t, "held.step", false, &step))
		return -EINVAL;
	di->held_iov = iov;
	t->req.op = op;
	bool rw = op == BLOCK_OP_READ || op == BLOCK_OP_WRITE;
	if (!step || (op == BLOCK_OP_FLUSH) != (iov == HELD_NONE) || (rw && iov == HELD_NONE) ||
	    (iov == HELD_BUF && (!di->held_len || di->held_len % ATA_SECTOR)))
		return vmstate_fail(in,
				    "%s: the held request (operation %u, buffer kind %u of %u "
				    "bytes) is not one a drive makes",
				    n->who, op, iov, di->held_len);
	static const char *const want[] = {"ata.flush_done", NULL, "bmdma.done"};
	bool ok = iov == HELD_BUF ? !strcmp(step->name, op == BLOCK_OP_READ ? "ata.read_done"
									    : "ata.write_done")
				  : !strcmp(step->name, want[iov]);
	if (!ok)
		return vmstate_fail(in, "%sheld.step is '%s', not what that request completes with",
				    n->prefix, step->name);
	t->io_done = step->io;
	return 0;
}

static int load_dma(struct vmstate_section *in, struct names *n, struct drive_in *di)
{
	struct ide_drive *t = &di->t;
	const struct ide_step *step;
	if (get_bool(in, n, "dma.pending", &t->dma_pending) ||
	    get_bool(in, n, "dma.io", &t->dma_io) ||
	    get_bool(in, n, "dma.to_mem", &t->dma_to_mem) ||
	    get_bool(in, n, "dma.from_buf", &t->dma_from_buf) ||
	    get_u64(in, n, "dma.bytes", &t->dma_bytes) ||
	    get_u64(in, n, "dma.offset", &t->dma_offset) ||
	    get_step(in, n, t, "dma.step", false, &step))
		return -EINVAL;
	t->dma_done = step ? step->io : NULL;
	if (step && strcmp(step->name, t->kind == IDE_DISK ? "ata.dma_done" : "atapi.dma_done"))
		return vmstate_fail(in, "%sdma.step is '%s', not the end of a DMA command",
				    n->prefix, step->name);
	if ((t->dma_pending || t->dma_io) && !step)
		return vmstate_fail(in, "%sdma.step is empty with a transfer under way", n->prefix);
	/* Saved paused: a transfer handed to the block layer has completed,
	 * unless it failed and is held. */
	if (t->dma_io != (t->held && di->held_iov == HELD_SG))
		return vmstate_fail(in, "%sdma.io is %s with %s held DMA request", n->prefix,
				    t->dma_io ? "set" : "clear", t->dma_io ? "no" : "a");
	if (t->dma_from_buf && t->dma_bytes > IDE_BUF_SIZE)
		return vmstate_fail(in, "%sdma.bytes is %llu, more than the buffer", n->prefix,
				    (unsigned long long)t->dma_bytes);
	return 0;
}

static int load_drive(struct vmstate_section *in, const struct ide_drive *d, struct drive_in *di)
{
	static const char *const kinds[] = {"no drive", "a disk", "a DVD drive"};
	struct ide_drive *t = &di->t;
	struct names n;
	names_init(&n, "d", d->position, "drive");
	*t = *d;
	uint8_t kind;
	if (get_u8(in, &n, "kind", IDE_DVD, &kind))
		return -EINVAL;
	if (kind != d->kind)
		return vmstate_fail(in, "IDE %u:%u had %s when it was saved; it has %s now",
				    d->position / 2, d->position % 2, kinds[kind], kinds[d->kind]);
	if (kind == IDE_NONE)
		return 0;
	const struct ide_step *pio;
	uint32_t mult, heads, spt;
	if (get_bytes(in, &n, "feature", t->feature) || get_bytes(in, &n, "nsect", t->nsect) ||
	    get_bytes(in, &n, "lbal", t->lbal) || get_bytes(in, &n, "lbam", t->lbam) ||
	    get_bytes(in, &n, "lbah", t->lbah) || get_u8(in, &n, "status", 0xff, &t->status) ||
	    get_u8(in, &n, "error", 0xff, &t->error) || get_bool(in, &n, "intrq", &t->intrq) ||
	    get_u32(in, &n, "mult", ATA_MAX_MULT, &mult) ||
	    get_u8(in, &n, "pio_mode", 0xff, &t->pio_mode) ||
	    get_u8(in, &n, "dma_mode", 0xff, &t->dma_mode) ||
	    get_bool(in, &n, "wcache", &t->wcache) || get_bool(in, &n, "standby", &t->standby) ||
	    get_u32(in, &n, "cur_heads", 16, &heads) || get_u32(in, &n, "cur_spt", 255, &spt) ||
	    get_bool(in, &n, "lba48", &t->lba48) || get_bool(in, &n, "chs", &t->chs) ||
	    get_u64(in, &n, "lba", &t->lba) || get_u32(in, &n, "left", 65536, &t->left) ||
	    get_u32(in, &n, "blk_sectors", ATA_MAX_MULT, &t->blk_sectors) ||
	    get_u32(in, &n, "drq_sectors", UINT32_MAX, &t->drq_sectors) ||
	    get_u32(in, &n, "chunk", UINT32_MAX, &t->chunk) ||
	    get_u32(in, &n, "chunk_off", UINT32_MAX, &t->chunk_off) ||
	    get_step(in, &n, t, "pio.step", true, &pio) ||
	    get_u32(in, &n, "pio.pos", IDE_BUF_SIZE, &t->pos) ||
	    get_u32(in, &n, "pio.end", IDE_BUF_SIZE, &t->end) ||
	    get_bool(in, &n, "pio.out", &t->pio_out))
		return -EINVAL;
	t->mult = mult;
	t->cur_heads = heads;
	t->cur_spt = spt;
	t->pio_done = pio ? pio->pio : NULL;
	di->buf = vmstate_get_blob(in, fname(&n, "buf"), IDE_BUF_SIZE, &di->buf_len);
	if (!di->buf || load_held(in, &n, di) || load_dma(in, &n, di))
		return -EINVAL;
	if ((mult & (mult - 1)) || (kind == IDE_DVD && mult))
		return vmstate_fail(in, "%smult is %u", n.prefix, mult);
	if (!valid_pio_mode(t->pio_mode) || !valid_dma_mode(t->dma_mode))
		return vmstate_fail(in,
				    "%s: transfer modes 0x%02x and 0x%02x are not ones SET "
				    "FEATURES takes",
				    n.who, t->pio_mode, t->dma_mode);
	if (t->pos > t->end)
		return vmstate_fail(in, "%spio.pos %u is past pio.end %u", n.prefix, t->pos,
				    t->end);
	if (kind == IDE_DVD) {
		if (heads != d->heads || spt != d->spt)
			return vmstate_fail(in, "%s: a DVD drive has no geometry", n.who);
		return load_atapi(in, &n, di);
	}
	uint64_t sectors;
	if (get_u64(in, &n, "sectors", &sectors))
		return -EINVAL;
	if (sectors != d->sectors)
		return vmstate_fail(in,
				    "the disk at IDE %u:%u (%s) has %llu sectors; it had %llu "
				    "when the VM was saved",
				    d->position / 2, d->position % 2, block_path(d->blk),
				    (unsigned long long)d->sectors, (unsigned long long)sectors);
	if (!heads || !spt)
		return vmstate_fail(in, "%s: the geometry has %u heads of %u sectors", n.who, heads,
				    spt);
	return check_ata_steps(in, &n, t);
}

/* Puts the checked values into the drive (channel lock held). */
static void commit_drive(struct ide_drive *d, const struct drive_in *di)
{
	if (d->kind == IDE_NONE)
		return;
	*d = di->t;
	memcpy(d->buf, di->buf, di->buf_len);
	memset(d->buf + di->buf_len, 0, IDE_BUF_SIZE - di->buf_len);
	d->io_busy = d->io_cancel = false;
	d->hook_err = 0;
	d->dma_remap = false;
	if (d->held) {
		d->req.iov = NULL;
		d->req.niov = 0;
		if (di->held_iov == HELD_BUF) {
			d->iov.iov_base = d->buf;
			d->iov.iov_len = di->held_len;
			d->req.iov = &d->iov;
			d->req.niov = 1;
		} else if (di->held_iov == HELD_SG) {
			d->dma_remap = true; /* at the retry: guest RAM is loaded by then */
		}
	}
}

/* Another disc than the saved one (or none): the guest is told. */
static void check_media(struct ide_drive *d, const struct drive_in *di)
{
	if (d->kind != IDE_DVD)
		return;
	const char *now = d->blk ? block_path(d->blk) : "";
	if (strcmp(now, di->media) != 0 || d->sectors != di->media_sectors)
		atapi_media_changed(d);
}

int ide_load(void *state, struct vmstate_section *in)
{
	struct piix_ide *ide = state;
	struct {
		uint8_t select, devctl, bm_cmd, bm_status;
		uint32_t bm_prd;
		bool bm_eot;
		struct drive_in d[2];
	} *ld = calloc(2, sizeof(*ld));
	if (!ld)
		return -ENOMEM;
	int r = 0;
	for (unsigned c = 0; c < 2 && !r; c++) {
		struct ide_channel *ch = &ide->ch[c];
		struct names n;
		names_init(&n, "ch", c, "channel");
		if (get_u8(in, &n, "select", 0xff, &ld[c].select) ||
		    get_u8(in, &n, "devctl", 0xff, &ld[c].devctl) ||
		    get_u8(in, &n, "bm.cmd", BM_CMD_START | BM_CMD_TO_MEM, &ld[c].bm_cmd) ||
		    get_u8(in, &n, "bm.status", 0xff, &ld[c].bm_status) ||
		    get_u32(in, &n, "bm.prd", UINT32_MAX, &ld[c].bm_prd) ||
		    get_bool(in, &n, "bm.eot", &ld[c].bm_eot)) {
			r = -EINVAL;
			break;
		}
		if ((ld[c].bm_cmd & ~(BM_CMD_START | BM_CMD_TO_MEM)) ||
		    (ld[c].bm_status & ~BM_STATUS_BITS) || (ld[c].bm_prd & 3)) {
			r = vmstate_fail(in,
					 "%s: bus master command 0x%02x, status 0x%02x, table "
					 "0x%08x have bits the registers do not",
					 n.who, ld[c].bm_cmd, ld[c].bm_status, ld[c].bm_prd);
			break;
		}
		for (unsigned i = 0; i < 2 && !r; i++)
			r = load_drive(in, &ch->drive[i], &ld[c].d[i]);
		if (!r && ld[c].d[0].t.dma_io && ld[c].d[1].t.dma_io)
			r = vmstate_fail(in, "%s: both drives hold a DMA transfer", n.who);
	}
	/* The function's configuration: BAR4 and the legacy ports' decoding. */
	if (!r)
		r = pci_load(&ide->pci, in);
	if (r < 0)
		goto out;
	ide_update_decode(ide);
	for (unsigned c = 0; c < 2; c++) {
		struct ide_channel *ch = &ide->ch[c];
		pthread_mutex_lock(&ch->lock);
		ch->select = ld[c].select;
		ch->cur = (ld[c].select & DEV_DEV) ? 1 : 0;
		ch->devctl = ld[c].devctl;
		ch->bm_cmd = ld[c].bm_cmd;
		ch->bm_prd = ld[c].bm_prd;
		ch->bm_eot = ld[c].bm_eot;
		for (unsigned i = 0; i < 2; i++)
			commit_drive(&ch->drive[i], &ld[c].d[i]);
		/* The line as the drives' state has it; the bus master's
		 * interrupt bit as the guest left it. */
		const struct ide_drive *d = &ch->drive[ch->cur];
		ch->irq_level = d->kind != IDE_NONE && d->intrq && !(ch->devctl & DC_NIEN);
		irq_line_set(&ch->irq, ch->irq_level);
		ch->bm_status = ld[c].bm_status;
		for (unsigned i = 0; i < 2; i++)
			check_media(&ch->drive[i], &ld[c].d[i]);
		pthread_mutex_unlock(&ch->lock);
	}
	ide_retry_loaded(ide);
out:
	free(ld);
	return r;
}
