/* MMC command blocks (12-byte ATAPI packets) and sense data for the DVD program: INF-8020i and
 * SCSI Multimedia Commands (MMC-3), big-endian fields. */
#ifndef GUEST_BOOT_ATAPI_H
#define GUEST_BOOT_ATAPI_H

#include "ide.h"

#define MMC_TEST_UNIT_READY 0x00
#define MMC_REQUEST_SENSE   0x03
#define MMC_INQUIRY	    0x12
#define MMC_READ_CAPACITY   0x25
#define MMC_READ_10	    0x28

struct sense {
	u8 key, asc, ascq;
};

/* A CDB with the opcode and, for READ(10), the LBA and transfer length. */
void cdb_read10(u8 cdb[12], u32 lba, u16 count);
void cdb_simple(u8 cdb[12], u8 opcode, u8 alloc);

/* REQUEST SENSE (18 bytes, fixed format) by PIO. */
int atapi_sense(const struct ide_channel *ch, unsigned drive, struct sense *s);

static inline u32 be32(const u8 *p)
{
	return (u32)p[0] << 24 | (u32)p[1] << 16 | (u32)p[2] << 8 | p[3];
}

#endif
