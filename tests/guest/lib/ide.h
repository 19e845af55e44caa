/* A small polled driver for the PIIX IDE controller (PCI 00:01.1) for the guest programs and the
 * boot-media programs: legacy channels, ATA commands with PIO data phases or bus-master DMA (PRD
 * tables), and ATAPI PACKET commands with PIO or DMA data phases (ATA/ATAPI-6; Intel PIIX3
 * datasheet, bus master IDE registers). Every wait has a time limit; errors come back as
 * negative numbers. */
#ifndef GUEST_LIB_IDE_H
#define GUEST_LIB_IDE_H

#include "pci.h"
#include "types.h"

/* Task file, relative to the channel's command block. */
#define ATA_REG_DATA	0
#define ATA_REG_ERROR	1
#define ATA_REG_FEATURE 1
#define ATA_REG_NSECT	2 /* ATAPI: interrupt reason */
#define ATA_REG_LBAL	3
#define ATA_REG_LBAM	4 /* ATAPI: byte count low */
#define ATA_REG_LBAH	5 /* ATAPI: byte count high */
#define ATA_REG_DEVICE	6
#define ATA_REG_STATUS	7
#define ATA_REG_COMMAND 7

#define ATA_BSY	 0x80
#define ATA_DRDY 0x40
#define ATA_DF	 0x20
#define ATA_DRQ	 0x08
#define ATA_ERR	 0x01

#define ATA_ABRT 0x04 /* error register */
#define ATA_IDNF 0x10

#define ATA_CMD_READ_SECTORS	  0x20
#define ATA_CMD_READ_SECTORS_EXT  0x24
#define ATA_CMD_WRITE_SECTORS	  0x30
#define ATA_CMD_WRITE_SECTORS_EXT 0x34
#define ATA_CMD_FLUSH_CACHE_EXT	  0xea
#define ATA_CMD_READ_DMA	  0xc8
#define ATA_CMD_READ_DMA_EXT	  0x25
#define ATA_CMD_WRITE_DMA	  0xca
#define ATA_CMD_WRITE_DMA_EXT	  0x35
#define ATA_CMD_FLUSH_CACHE	  0xe7
#define ATA_CMD_IDENTIFY	  0xec
#define ATA_CMD_PACKET		  0xa0
#define ATA_CMD_ID_PACKET	  0xa1

/* Bus-master registers, relative to the channel's 8 bytes of BAR4. */
#define BM_COMMAND 0
#define BM_STATUS  2
#define BM_PRD	   4

#define BM_CMD_START  0x01
#define BM_CMD_TO_MEM 0x08 /* the device writes memory (a read command) */
#define BM_ST_ACTIVE  0x01
#define BM_ST_ERROR   0x02
#define BM_ST_INTR    0x04

/* One physical region descriptor: 4-byte-aligned table, entries must not cross 64 KiB. */
struct prd {
	u32 addr;
	u16 count; /* bytes, 0 = 64 KiB */
	u16 flags;
} __attribute__((packed));

#define PRD_EOT 0x8000

struct ide_channel {
	u16 cmd, ctl, bm;
	const char *name;
};

struct ide_controller {
	struct pci_addr pci;
	u16 bmbase;
	u8 progif;
	struct ide_channel chan[2];
};

/* How the last command ended (for the programs' reports). */
struct ide_result {
	u8 status, error;
	u8 bm_status;		 /* DMA only: after the transfer, before it is cleared */
	u32 bytes;		 /* data bytes moved (PIO) */
	u32 drq_blocks, max_drq; /* PIO: DRQ blocks and the largest one, in bytes */
};

#define IDE_TIMEOUT_MS 10000

/* Errors (returned negated), named after the errno values they stand for. */
#define IDE_EIO	      5	  /* the device or the bus master reported an error */
#define IDE_ENODEV    19  /* no controller / no device */
#define IDE_EPROTO    71  /* the device broke the protocol (unexpected phase) */
#define IDE_ETIMEDOUT 110 /* it stayed busy */

/* The bus-master registers' I/O address when no firmware has given BAR4 one (a kernel booted
 * directly): above the range SeaBIOS hands out from 0xc000. */
#define IDE_BM_DEFAULT 0xd000

/* Finds the controller at 00:01.1 (8086:7010, class 0101), gives BAR4 an address if it has
 * none, turns on I/O decoding and bus mastering, and fills in the channels. -IDE_ENODEV when
 * it is not there. */
int ide_probe(struct ide_controller *c);

/* Selects drive 0/1 on the channel; -IDE_ETIMEDOUT if it stays busy. */
int ide_select(const struct ide_channel *ch, unsigned drive);
/* Waits until BSY clears; the status is stored in *status. */
int ide_wait_idle(const struct ide_channel *ch, u8 *status);
/* The signature left in LBA mid/high after a reset or a failed IDENTIFY: 0xEB14 = ATAPI. */
u16 ide_signature(const struct ide_channel *ch);

/* IDENTIFY DEVICE (ATA) or IDENTIFY PACKET DEVICE (ATAPI): 256 words by PIO. */
int ide_identify(const struct ide_channel *ch, unsigned drive, u8 cmd, u16 id[256],
		 struct ide_result *res);
/* An ATA DMA command (LBA28 or LBA48 by the opcode) through the PRD table. */
int ata_dma(const struct ide_channel *ch, unsigned drive, u8 cmd, u64 lba, u32 count,
	    const struct prd *table, struct ide_result *res);
/* An ATA PIO command, one sector (512 bytes) per DRQ block: READ SECTORS (EXT) into buf or
 * WRITE SECTORS (EXT) from buf, count sectors from lba. */
int ata_pio(const struct ide_channel *ch, unsigned drive, u8 cmd, u64 lba, u32 count, void *buf,
	    struct ide_result *res);
/* A non-data ATA command (e.g. FLUSH CACHE). */
int ata_nondata(const struct ide_channel *ch, unsigned drive, u8 cmd, struct ide_result *res);

/* ATAPI PACKET with a PIO data-in phase: at most len bytes are stored into buf, DRQ blocks are
 * asked for with byte count limit bcl. -IDE_EIO when the device reports an error (CHECK
 * CONDITION: res->error >> 4 is the sense key). */
int atapi_pio(const struct ide_channel *ch, unsigned drive, const u8 cdb[12], void *buf, u32 len,
	      u16 bcl, struct ide_result *res);
/* ATAPI PACKET with a DMA data-in phase through the PRD table. */
int atapi_dma(const struct ide_channel *ch, unsigned drive, const u8 cdb[12],
	      const struct prd *table, struct ide_result *res);

/* Builds a PRD table for len bytes at addr (split at 64 KiB boundaries and at most chunk bytes
 * per entry, chunk a multiple of 2 up to 65536); returns the number of entries, 0 if max
 * entries do not suffice. */
u32 prd_build(struct prd *table, u32 max, u32 addr, u32 len, u32 chunk);

/* An IDENTIFY string (words first..first+n-1, byte-swapped) into buf, trailing spaces cut. */
void ide_id_string(const u16 *id, unsigned first, unsigned n, char *buf);

#endif
