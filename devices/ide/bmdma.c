/* Bus-master IDE (PIIX3 datasheet, SFF-8038i): the command, status and PRD
 * table registers of each channel, and the transfers they run. A PRD table
 * is walked in guest memory through guest_read; every region it names is
 * turned into a host pointer through gpa_to_hva before any byte moves, so a
 * bad table gets the error status and touches nothing. */
#include "devices/ide/ide_int.h"

#include "hypervisor/bytes.h"
#include "hypervisor/log.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#define PRD_EOT	      0x80000000u
#define PRD_TABLE_MAX 0x10000u /* a table may not cross a 64 KiB boundary */

/* --- mapping the PRD table -------------------------------------------------- */

static int sg_push(struct ide_channel *ch, void *p, uint64_t n)
{
	if (ch->sg_n) {
		struct iovec *last = &ch->sg[ch->sg_n - 1];
		if ((uint8_t *)last->iov_base + last->iov_len == p) {
			last->iov_len += n;
			return 0;
		}
	}
	if (ch->sg_n == ch->sg_cap) {
		if (ch->sg_cap >= IDE_SG_MAX)
			return -EFAULT;
		unsigned cap = ch->sg_cap ? ch->sg_cap * 2 : 64;
		struct iovec *sg = realloc(ch->sg, cap * sizeof(*sg));
		if (!sg)
			return -EFAULT;
		ch->sg = sg;
		ch->sg_cap = cap;
	}
	ch->sg[ch->sg_n++] = (struct iovec){.iov_base = p, .iov_len = n};
	return 0;
}

/* Host memory for [gpa, gpa + len): RAM (writable RAM when the device
 * writes memory), split where regions meet. */
static int map_region(struct ide_channel *ch, uint64_t gpa, uint64_t len, bool to_mem)
{
	struct guest_memory *mem = &ch->ide->m->mem;
	while (len) {
		uint64_t n = len;
		void *p = to_mem ? gpa_to_hva(mem, gpa, n) : (void *)gpa_to_hva_ro(mem, gpa, n);
		if (!p) {
			n = GUESTMEM_PAGE - (gpa & (GUESTMEM_PAGE - 1));
			if (n > len)
				n = len;
			p = to_mem ? gpa_to_hva(mem, gpa, n) : (void *)gpa_to_hva_ro(mem, gpa, n);
			if (!p)
				return -EFAULT;
		}
		if (sg_push(ch, p, n) < 0)
			return -EFAULT;
		gpa += n;
		len -= n;
	}
	return 0;
}

/* Maps `bytes` of the PRD table into ch->sg. 0, or -EFAULT (the bus master
 * may not master the bus, or a descriptor or region is not RAM), -E2BIG
 * (the table runs past its 64 KiB without EOT), -ENOSPC (EOT comes before
 * `bytes`). ch->bm_eot says whether the transfer used up the table. */
static int map_prd(struct ide_channel *ch, uint64_t bytes, bool to_mem)
{
	struct piix_ide *ide = ch->ide;
	ch->sg_n = 0;
	ch->bm_eot = false;
	if (!pci_bus_master(&ide->pci))
		return -EFAULT;
	uint32_t table = ch->bm_prd & ~3u;
	uint64_t need = bytes;
	for (uint32_t off = 0; off < PRD_TABLE_MAX; off += 8) {
		uint32_t at = table + off;
		if ((at & ~(PRD_TABLE_MAX - 1)) != (table & ~(PRD_TABLE_MAX - 1)))
			break;
		uint8_t prd[8];
		if (guest_read(&ide->m->mem, at, prd, sizeof(prd)) < 0)
			return -EFAULT;
		uint32_t addr = get_le32(prd) & ~1u;
		uint32_t count = get_le16(prd + 4) & 0xfffeu;
		bool eot = get_le32(prd + 4) & PRD_EOT;
		if (count == 0)
			count = 0x10000;
		uint64_t take = need < count ? need : count;
		int r = map_region(ch, addr, take, to_mem);
		if (r < 0)
			return r;
		need -= take;
		if (need == 0) {
			ch->bm_eot = eot && take == count;
			return 0;
		}
		if (eot)
			return -ENOSPC;
	}
	return -E2BIG;
}

/* --- transfers --------------------------------------------------------------- */

static void io_done(struct ide_drive *d, int status)
{
	struct ide_channel *ch = d->ch;
	/* The block layer's -ENOSPC (host file system full) or -EFAULT is an
	 * error of the medium: to dma_done those codes are the bus master's. */
	if (status == -ENOSPC || status == -EFAULT)
		status = -EIO;
	d->dma_io = false;
	if (ch->bm_eot)
		ch->bm_status &= (uint8_t)~BM_ST_ACTIVE;
	d->dma_done(d, status);
}

/* Copies buf to the mapped regions (a reply of a packet command). */
static void copy_from_buf(struct ide_channel *ch, const uint8_t *buf, uint64_t bytes)
{
	for (unsigned i = 0; i < ch->sg_n && bytes; i++) {
		size_t n = ch->sg[i].iov_len < bytes ? ch->sg[i].iov_len : (size_t)bytes;
		memcpy(ch->sg[i].iov_base, buf, n);
		buf += n;
		bytes -= n;
	}
}

/* Starts the transfer a drive waits for, when the bus master runs: one at
 * a time per channel, and not again after the table has been used up until
 * the guest restarts the engine. */
static void kick(struct ide_channel *ch)
{
	if (!(ch->bm_cmd & BM_CMD_START) || !(ch->bm_status & BM_ST_ACTIVE))
		return;
	if (ch->drive[0].dma_io || ch->drive[1].dma_io)
		return;
	struct ide_drive *d = &ch->drive[ch->cur];
	if (!d->dma_pending)
		d = &ch->drive[ch->cur ^ 1];
	if (!d->dma_pending || d->io_busy)
		return;
	d->dma_pending = false;
	int r = (!d->dma_from_buf && !d->blk) ? -EFAULT : map_prd(ch, d->dma_bytes, d->dma_to_mem);
	if (r == -ENOSPC) {
		/* SFF-8038i: active and interrupt both clear, no error: the
		 * regions were smaller than the transfer. */
		if (tracing(TRACE_DEV))
			log_trace("ide %u: PRD table shorter than the transfer", d->position);
		ch->bm_status &= (uint8_t)~BM_ST_ACTIVE;
		d->dma_done(d, -ENOSPC);
		return;
	}
	if (r < 0) {
		if (tracing(TRACE_DEV))
			log_trace("ide %u: DMA error: PRD table at 0x%x not usable", d->position,
				  ch->bm_prd);
		ch->bm_status = (uint8_t)((ch->bm_status | BM_ST_ERROR) & ~BM_ST_ACTIVE);
		d->dma_done(d, -EFAULT);
		return;
	}
	d->standby = false;
	if (d->dma_from_buf) {
		copy_from_buf(ch, d->buf, d->dma_bytes);
		io_done(d, 0);
		return;
	}
	d->dma_io = true;
	ide_submit(d, d->dma_to_mem ? BLOCK_OP_READ : BLOCK_OP_WRITE, d->dma_offset, ch->sg,
		   ch->sg_n, io_done);
}

void ide_dma_begin(struct ide_drive *d, bool to_mem, uint64_t bytes, bool from_buf, uint64_t offset,
		   ide_io_fn done)
{
	d->dma_pending = true;
	d->dma_to_mem = to_mem;
	d->dma_bytes = bytes;
	d->dma_from_buf = from_buf;
	d->dma_offset = offset;
	d->dma_done = done;
	kick(d->ch);
}

bool bmdma_remap(struct ide_drive *d)
{
	struct ide_channel *ch = d->ch;
	d->dma_remap = false;
	int r = map_prd(ch, d->dma_bytes, d->dma_to_mem);
	if (r == 0) {
		d->req.iov = ch->sg;
		d->req.niov = ch->sg_n;
		return true;
	}
	/* The table (or the memory it names) changed under the held
	 * command: it ends as it would have on the first try. */
	d->held = false;
	d->dma_io = false;
	if (r == -ENOSPC) {
		ch->bm_status &= (uint8_t)~BM_ST_ACTIVE;
	} else {
		ch->bm_status = (uint8_t)((ch->bm_status | BM_ST_ERROR) & ~BM_ST_ACTIVE);
		r = -EFAULT;
	}
	d->dma_done(d, r);
	return false;
}

void bmdma_reset(struct ide_channel *ch)
{
	ch->bm_cmd = 0;
	ch->bm_status = 0;
	ch->bm_prd = 0;
}

/* --- registers ----------------------------------------------------------------- */

static uint8_t reg_read(struct ide_channel *ch, unsigned reg)
{
	switch (reg) {
	case BM_CMD:
		return ch->bm_cmd;
	case BM_STATUS:
		return ch->bm_status;
	case BM_PRD:
	case BM_PRD + 1:
	case BM_PRD + 2:
	case BM_PRD + 3:
		return (uint8_t)(ch->bm_prd >> (8 * (reg - BM_PRD)));
	default:
		return 0;
	}
}

static void reg_write(struct ide_channel *ch, unsigned reg, uint8_t v)
{
	switch (reg) {
	case BM_CMD: {
		uint8_t old = ch->bm_cmd;
		ch->bm_cmd = v & (BM_CMD_START | BM_CMD_TO_MEM);
		if ((v & BM_CMD_START) && !(old & BM_CMD_START)) {
			ch->bm_status |= BM_ST_ACTIVE;
			kick(ch);
		} else if (!(v & BM_CMD_START) && (old & BM_CMD_START)) {
			/* Stopped: a transfer already handed to the block
			 * layer still completes. */
			ch->bm_status &= (uint8_t)~BM_ST_ACTIVE;
		}
		break;
	}
	case BM_STATUS:
		ch->bm_status &= (uint8_t) ~(v & (BM_ST_ERROR | BM_ST_INT));
		ch->bm_status = (uint8_t)((ch->bm_status & ~BM_ST_DMA_CAP) | (v & BM_ST_DMA_CAP));
		break;
	case BM_PRD:
	case BM_PRD + 1:
	case BM_PRD + 2:
	case BM_PRD + 3: {
		unsigned shift = 8 * (reg - BM_PRD);
		uint32_t p = (ch->bm_prd & ~(0xffu << shift)) | (uint32_t)v << shift;
		ch->bm_prd = p & ~3u;
		break;
	}
	default:
		break;
	}
}

/* BAR4: 16 bytes, the primary channel's registers then the secondary's;
 * wider accesses reach each byte in turn. */
static uint64_t bm_read(void *opaque, uint64_t off, unsigned size)
{
	struct piix_ide *ide = opaque;
	uint64_t v = 0;
	for (unsigned i = 0; i < size && off + i < 16; i++) {
		struct ide_channel *ch = &ide->ch[(off + i) >> 3];
		pthread_mutex_lock(&ch->lock);
		v |= (uint64_t)reg_read(ch, (unsigned)(off + i) & 7) << (8 * i);
		pthread_mutex_unlock(&ch->lock);
	}
	return v;
}

static void bm_write(void *opaque, uint64_t off, uint64_t v, unsigned size)
{
	struct piix_ide *ide = opaque;
	for (unsigned i = 0; i < size && off + i < 16; i++) {
		struct ide_channel *ch = &ide->ch[(off + i) >> 3];
		pthread_mutex_lock(&ch->lock);
		reg_write(ch, (unsigned)(off + i) & 7, (uint8_t)(v >> (8 * i)));
		pthread_mutex_unlock(&ch->lock);
	}
}

const struct bus_ops ide_bm_ops = {bm_read, bm_write};

const struct ide_step bmdma_steps[] = {
    {.name = "bmdma.done", .io = io_done},
    {.name = NULL},
};
