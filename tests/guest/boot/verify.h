/* Checking a test medium read back in LBA order (media.h): every pattern sector must carry its
 * own LBA and sums, and the digest of all sectors but the header must match the header's. One
 * pass per way of reading (BIOS, ATAPI PIO, DMA...). */
#ifndef GUEST_BOOT_VERIFY_H
#define GUEST_BOOT_VERIFY_H

#include "../lib/types.h"
#include "media.h"

/* Reads the header out of a sector; false (with a FAIL line) if it is not one. */
bool media_header_parse(const void *sector, u32 sector_size, struct media_header *h);

struct verify {
	const struct media_header *h;
	const char *how;
	u32 next_lba;
	u32 digest;
	u32 pattern_ok, pattern_bad, written_ok;
	u32 out_of_order;
	u32 bad_lba[4];	     /* the first few bad sectors, for the report */
	bool accept_written; /* sectors in the write range may carry MEDIA_MAGIC_WRITTEN */
};

void verify_start(struct verify *v, const struct media_header *h, const char *how);
/* Feeds count sectors starting at lba (must continue where the last call ended). */
void verify_sectors(struct verify *v, u32 lba, const void *buf, u32 count);
/* Prints the verdict lines; true when every sector was seen and right. */
bool verify_finish(struct verify *v);

#endif
