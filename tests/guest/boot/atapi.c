/* MMC command blocks and REQUEST SENSE for the DVD program. */
#include "atapi.h"
#include "../lib/str.h"

void cdb_read10(u8 cdb[12], u32 lba, u16 count)
{
	memset(cdb, 0, 12);
	cdb[0] = MMC_READ_10;
	cdb[2] = (u8)(lba >> 24);
	cdb[3] = (u8)(lba >> 16);
	cdb[4] = (u8)(lba >> 8);
	cdb[5] = (u8)lba;
	cdb[7] = (u8)(count >> 8);
	cdb[8] = (u8)count;
}

void cdb_simple(u8 cdb[12], u8 opcode, u8 alloc)
{
	memset(cdb, 0, 12);
	cdb[0] = opcode;
	cdb[4] = alloc;
}

int atapi_sense(const struct ide_channel *ch, unsigned drive, struct sense *s)
{
	u8 cdb[12], data[18] = {0};
	struct ide_result res;
	int err;

	cdb_simple(cdb, MMC_REQUEST_SENSE, sizeof(data));
	err = atapi_pio(ch, drive, cdb, data, sizeof(data), sizeof(data), &res);
	if (err)
		return err;
	if ((data[0] & 0x7f) != 0x70 && (data[0] & 0x7f) != 0x71)
		return -IDE_EPROTO;
	s->key = data[2] & 0x0f;
	s->asc = data[12];
	s->ascq = data[13];
	return 0;
}
