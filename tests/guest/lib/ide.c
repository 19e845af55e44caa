/* The guest programs' IDE driver: PCI probe of the PIIX IDE function, polled ATA and ATAPI
 * commands with PIO and bus-master DMA data phases. */
#include "ide.h"
#include "io.h"
#include "timer.h"

#define PIIX_VENDOR 0x8086
#define PIIX3_IDE   0x7010

static inline void insw(u16 port, void *buf, u32 words)
{
	__asm__ volatile("rep insw" : "+D"(buf), "+c"(words) : "d"(port) : "memory");
}

static inline void outsw(u16 port, const void *buf, u32 words)
{
	__asm__ volatile("rep outsw" : "+S"(buf), "+c"(words) : "d"(port) : "memory");
}

int ide_probe(struct ide_controller *c)
{
	struct pci_addr a = {0, 1, 1};
	u32 id = pci_read32(a, PCI_VENDOR_ID), cls, bar4;

	if ((id & 0xffff) != PIIX_VENDOR || id >> 16 != PIIX3_IDE)
		return -IDE_ENODEV;
	cls = pci_read32(a, PCI_CLASS_REVISION);
	if (cls >> 16 != 0x0101)
		return -IDE_ENODEV;
	bar4 = pci_read32(a, PCI_BAR4);
	if ((bar4 & 0xfffc) == 0) {
		/* No firmware ran: give the bus master its 16 ports, as a BIOS would. */
		pci_write32(a, PCI_BAR4, IDE_BM_DEFAULT);
		bar4 = pci_read32(a, PCI_BAR4);
	}
	if (!(bar4 & 1) || (bar4 & 0xfffc) == 0)
		return -IDE_ENODEV;
	c->pci = a;
	c->progif = (u8)(cls >> 8);
	c->bmbase = (u16)(bar4 & 0xfffc);
	pci_write16(a, PCI_COMMAND,
		    pci_read16(a, PCI_COMMAND) | PCI_COMMAND_IO | PCI_COMMAND_MASTER);
	/* Compatibility mode (what SeaBIOS leaves and Linux's ata_piix uses): fixed ports. */
	c->chan[0] = (struct ide_channel){0x1f0, 0x3f6, c->bmbase, "primary"};
	c->chan[1] = (struct ide_channel){0x170, 0x376, (u16)(c->bmbase + 8), "secondary"};
	return 0;
}

/* The 400 ns a device may take to show a new status: four reads of the alternate status. */
static void delay400(const struct ide_channel *ch)
{
	for (int i = 0; i < 4; i++)
		inb(ch->ctl);
}

int ide_wait_idle(const struct ide_channel *ch, u8 *status)
{
	struct timeout t;
	u8 st;

	timeout_start(&t, IDE_TIMEOUT_MS);
	for (;;) {
		st = inb(ch->ctl);
		if (!(st & ATA_BSY)) {
			*status = st;
			return 0;
		}
		if (timeout_expired(&t)) {
			*status = st;
			return -IDE_ETIMEDOUT;
		}
	}
}

int ide_select(const struct ide_channel *ch, unsigned drive)
{
	u8 st;
	int err = ide_wait_idle(ch, &st);

	if (err)
		return err;
	outb(ch->cmd + ATA_REG_DEVICE, (u8)(0xa0 | (drive & 1) << 4));
	delay400(ch);
	return ide_wait_idle(ch, &st);
}

u16 ide_signature(const struct ide_channel *ch)
{
	return (u16)(inb(ch->cmd + ATA_REG_LBAM) | inb(ch->cmd + ATA_REG_LBAH) << 8);
}

/* The end of a command: the status register (which clears INTRQ) and the error register. */
static int finish(const struct ide_channel *ch, struct ide_result *res)
{
	res->status = inb(ch->cmd + ATA_REG_STATUS);
	res->error = (res->status & ATA_ERR) ? inb(ch->cmd + ATA_REG_ERROR) : 0;
	if (res->status & (ATA_ERR | ATA_DF))
		return -IDE_EIO;
	if (res->status & (ATA_BSY | ATA_DRQ))
		return -IDE_EPROTO;
	return 0;
}

static void clear_result(struct ide_result *res)
{
	*res = (struct ide_result){0};
}

/* An ATA command's start: res cleared, the drive selected. */
static int begin(const struct ide_channel *ch, unsigned drive, struct ide_result *res)
{
	clear_result(res);
	return ide_select(ch, drive);
}

/* A command's end: the device idle again, its status and error into res. */
static int complete(const struct ide_channel *ch, struct ide_result *res)
{
	u8 st;
	int err;

	delay400(ch);
	err = ide_wait_idle(ch, &st);
	return err ? err : finish(ch, res);
}

int ide_identify(const struct ide_channel *ch, unsigned drive, u8 cmd, u16 id[256],
		 struct ide_result *res)
{
	u8 st;
	int err;

	err = begin(ch, drive, res);
	if (err)
		return err;
	outb(ch->cmd + ATA_REG_FEATURE, 0);
	outb(ch->cmd + ATA_REG_COMMAND, cmd);
	delay400(ch);
	err = ide_wait_idle(ch, &st);
	if (err)
		return err;
	if (st == 0 || st == 0xff)
		return -IDE_ENODEV;
	if (!(st & ATA_DRQ))
		return finish(ch, res) ? -IDE_EIO : -IDE_EPROTO;
	insw(ch->cmd + ATA_REG_DATA, id, 256);
	res->bytes = 512;
	return complete(ch, res);
}

/* Waits out the busy time before a PIO data block: 0 when DRQ says a block is ready, 1 when
 * the command ended instead, or a negative error. */
static int wait_block(const struct ide_channel *ch)
{
	u8 st;
	int err;

	delay400(ch);
	err = ide_wait_idle(ch, &st);
	if (err)
		return err;
	return (st & ATA_DRQ) ? 0 : 1;
}

/* Bus master: stopped, error and interrupt cleared, the table loaded, the direction set. */
static void bm_setup(const struct ide_channel *ch, const struct prd *table, bool to_mem)
{
	outb(ch->bm + BM_COMMAND, 0);
	outb(ch->bm + BM_STATUS, inb(ch->bm + BM_STATUS) | BM_ST_ERROR | BM_ST_INTR);
	outl(ch->bm + BM_PRD, (u32)(uintptr_t)table);
	outb(ch->bm + BM_COMMAND, to_mem ? BM_CMD_TO_MEM : 0);
}

/* Starts the bus master, waits for the interrupt bit (the device raised INTRQ: done or failed)
 * and stops it again; the status before the stop goes into res. */
static int bm_run(const struct ide_channel *ch, bool to_mem, struct ide_result *res)
{
	u8 dir = to_mem ? BM_CMD_TO_MEM : 0, bst, st;
	struct timeout t;
	int err = 0;

	outb(ch->bm + BM_COMMAND, dir | BM_CMD_START);
	timeout_start(&t, IDE_TIMEOUT_MS);
	for (;;) {
		bst = inb(ch->bm + BM_STATUS);
		if (bst & (BM_ST_INTR | BM_ST_ERROR))
			break;
		if (timeout_expired(&t)) {
			err = -IDE_ETIMEDOUT;
			break;
		}
	}
	outb(ch->bm + BM_COMMAND, dir);
	res->bm_status = bst;
	if (!err)
		err = ide_wait_idle(ch, &st);
	outb(ch->bm + BM_STATUS, inb(ch->bm + BM_STATUS) | BM_ST_ERROR | BM_ST_INTR);
	if (err)
		return err;
	err = finish(ch, res);
	if (!err && (bst & BM_ST_ERROR))
		err = -IDE_EIO;
	return err;
}

static void write_taskfile(const struct ide_channel *ch, unsigned drive, u64 lba, u32 count,
			   bool ext)
{
	if (ext) {
		outb(ch->cmd + ATA_REG_NSECT, (u8)(count >> 8));
		outb(ch->cmd + ATA_REG_LBAL, (u8)(lba >> 24));
		outb(ch->cmd + ATA_REG_LBAM, (u8)(lba >> 32));
		outb(ch->cmd + ATA_REG_LBAH, (u8)(lba >> 40));
		outb(ch->cmd + ATA_REG_NSECT, (u8)count);
		outb(ch->cmd + ATA_REG_LBAL, (u8)lba);
		outb(ch->cmd + ATA_REG_LBAM, (u8)(lba >> 8));
		outb(ch->cmd + ATA_REG_LBAH, (u8)(lba >> 16));
		outb(ch->cmd + ATA_REG_DEVICE, (u8)(0x40 | (drive & 1) << 4));
		return;
	}
	outb(ch->cmd + ATA_REG_NSECT, (u8)count);
	outb(ch->cmd + ATA_REG_LBAL, (u8)lba);
	outb(ch->cmd + ATA_REG_LBAM, (u8)(lba >> 8));
	outb(ch->cmd + ATA_REG_LBAH, (u8)(lba >> 16));
	outb(ch->cmd + ATA_REG_DEVICE, (u8)(0xe0 | (drive & 1) << 4 | ((lba >> 24) & 0x0f)));
}

int ata_dma(const struct ide_channel *ch, unsigned drive, u8 cmd, u64 lba, u32 count,
	    const struct prd *table, struct ide_result *res)
{
	bool ext = cmd == ATA_CMD_READ_DMA_EXT || cmd == ATA_CMD_WRITE_DMA_EXT;
	bool to_mem = cmd == ATA_CMD_READ_DMA || cmd == ATA_CMD_READ_DMA_EXT;
	int err;

	bm_setup(ch, table, to_mem);
	err = begin(ch, drive, res);
	if (err)
		return err;
	write_taskfile(ch, drive, lba, count, ext);
	outb(ch->cmd + ATA_REG_COMMAND, cmd);
	return bm_run(ch, to_mem, res);
}

int ata_pio(const struct ide_channel *ch, unsigned drive, u8 cmd, u64 lba, u32 count, void *buf,
	    struct ide_result *res)
{
	bool ext = cmd == ATA_CMD_READ_SECTORS_EXT || cmd == ATA_CMD_WRITE_SECTORS_EXT;
	bool out = cmd == ATA_CMD_WRITE_SECTORS || cmd == ATA_CMD_WRITE_SECTORS_EXT;
	u8 *p = buf;
	int err;

	err = begin(ch, drive, res);
	if (err)
		return err;
	write_taskfile(ch, drive, lba, count, ext);
	outb(ch->cmd + ATA_REG_COMMAND, cmd);
	for (u32 i = 0; i < count; i++) {
		err = wait_block(ch);
		if (err < 0)
			return err;
		if (err)
			return finish(ch, res) ? -IDE_EIO : -IDE_EPROTO;
		if (out)
			outsw(ch->cmd + ATA_REG_DATA, p + i * 512, 256);
		else
			insw(ch->cmd + ATA_REG_DATA, p + i * 512, 256);
		res->bytes += 512;
		res->drq_blocks++;
		res->max_drq = 512;
	}
	return complete(ch, res);
}

int ata_nondata(const struct ide_channel *ch, unsigned drive, u8 cmd, struct ide_result *res)
{
	int err;

	err = begin(ch, drive, res);
	if (err)
		return err;
	outb(ch->cmd + ATA_REG_DEVICE, (u8)(0xa0 | (drive & 1) << 4));
	outb(ch->cmd + ATA_REG_COMMAND, cmd);
	return complete(ch, res);
}

/* PACKET command up to the point where the device takes the CDB. */
static int send_packet(const struct ide_channel *ch, unsigned drive, const u8 cdb[12], bool dma,
		       u16 bcl, struct ide_result *res)
{
	u8 st;
	int err = ide_select(ch, drive);

	if (err)
		return err;
	outb(ch->cmd + ATA_REG_FEATURE, dma ? 1 : 0);
	outb(ch->cmd + ATA_REG_LBAM, (u8)bcl);
	outb(ch->cmd + ATA_REG_LBAH, (u8)(bcl >> 8));
	outb(ch->cmd + ATA_REG_COMMAND, ATA_CMD_PACKET);
	delay400(ch);
	err = ide_wait_idle(ch, &st);
	if (err)
		return err;
	if (!(st & ATA_DRQ))
		return finish(ch, res) ? -IDE_EIO : -IDE_EPROTO;
	/* Interrupt reason: command (CoD = 1), to the device (IO = 0). */
	if ((inb(ch->cmd + ATA_REG_NSECT) & 3) != 1)
		return -IDE_EPROTO;
	outsw(ch->cmd + ATA_REG_DATA, cdb, 6);
	return 0;
}

int atapi_pio(const struct ide_channel *ch, unsigned drive, const u8 cdb[12], void *buf, u32 len,
	      u16 bcl, struct ide_result *res)
{
	u8 *p = buf;
	int err;

	clear_result(res);
	err = send_packet(ch, drive, cdb, false, bcl, res);
	if (err)
		return err;
	for (;;) {
		err = wait_block(ch);
		if (err < 0)
			return err;
		if (err)
			return finish(ch, res);
		(void)inb(ch->cmd + ATA_REG_STATUS);
		/* Data to the host: IO = 1, CoD = 0. */
		if ((inb(ch->cmd + ATA_REG_NSECT) & 3) != 2)
			return -IDE_EPROTO;
		u32 n = ide_signature(ch), words = (n + 1) / 2;
		if (n == 0)
			return -IDE_EPROTO;
		res->drq_blocks++;
		if (n > res->max_drq)
			res->max_drq = n;
		if (res->bytes + words * 2 <= len) {
			insw(ch->cmd + ATA_REG_DATA, p + res->bytes, words);
		} else {
			/* More than asked for: keep what fits, drain the rest. */
			for (u32 i = 0; i < words; i++) {
				u16 w = inw(ch->cmd + ATA_REG_DATA);
				u32 at = res->bytes + i * 2;
				if (at < len)
					p[at] = (u8)w;
				if (at + 1 < len)
					p[at + 1] = (u8)(w >> 8);
			}
		}
		res->bytes += n;
	}
}

int atapi_dma(const struct ide_channel *ch, unsigned drive, const u8 cdb[12],
	      const struct prd *table, struct ide_result *res)
{
	int err;

	clear_result(res);
	bm_setup(ch, table, true);
	err = send_packet(ch, drive, cdb, true, 0, res);
	if (err)
		return err;
	return bm_run(ch, true, res);
}

u32 prd_build(struct prd *table, u32 max, u32 addr, u32 len, u32 chunk)
{
	u32 n = 0;

	if (chunk == 0 || chunk > 65536 || (chunk & 1))
		return 0;
	while (len) {
		u32 room = 65536 - (addr & 0xffff), take = len;
		if (take > chunk)
			take = chunk;
		if (take > room)
			take = room;
		if (n == max)
			return 0;
		table[n].addr = addr;
		table[n].count = (u16)(take & 0xffff); /* 65536 is written as 0 */
		table[n].flags = 0;
		addr += take;
		len -= take;
		n++;
	}
	if (n)
		table[n - 1].flags = PRD_EOT;
	return n;
}

void ide_id_string(const u16 *id, unsigned first, unsigned n, char *buf)
{
	unsigned len = 0;

	for (unsigned i = 0; i < n; i++) {
		buf[len++] = (char)(id[first + i] >> 8);
		buf[len++] = (char)id[first + i];
	}
	while (len && (buf[len - 1] == ' ' || buf[len - 1] == 0))
		len--;
	buf[len] = 0;
}
