/* The VHD driver's own declarations (Microsoft "Virtual Hard Disk Image
 * Format Specification" 1.0): on-disk layouts, the open image's state. */
#ifndef OSIO_BLOCK_VHD_H
#define OSIO_BLOCK_VHD_H

#include "devices/block/block_driver.h"

#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>

/* --- on-disk layout (all integers big-endian) ------------------------------ */

#define VHD_FOOTER_SIZE 512u
#define VHD_COOKIE	"conectix"
#define VHD_FEATURES	0x00000002u /* the reserved bit, always set */
#define VHD_VERSION	0x00010000u
#define VHD_NO_OFFSET	UINT64_MAX /* "data offset" of a fixed disk */

/* Footer fields (byte offsets). */
#define VF_COOKIE      0
#define VF_FEATURES    8
#define VF_VERSION     12
#define VF_DATA_OFFSET 16
#define VF_TIMESTAMP   24
#define VF_CREATOR_APP 28
#define VF_CREATOR_VER 32
#define VF_CREATOR_OS  36
#define VF_ORIG_SIZE   40
#define VF_CUR_SIZE    48
#define VF_GEOMETRY    56 /* cylinders (2), heads (1), sectors per track (1) */
#define VF_DISK_TYPE   60
#define VF_CHECKSUM    64
#define VF_UNIQUE_ID   68 /* 16 bytes */
#define VF_SAVED_STATE 84

enum vhd_type {
	VHD_FIXED = 2,
	VHD_DYNAMIC = 3,
	VHD_DIFF = 4,
};

#define VHD_HEADER_SIZE 1024u
#define VHD_HDR_COOKIE	"cxsparse"

/* Dynamic disk header fields. */
#define VH_COOKIE	   0
#define VH_DATA_OFFSET	   8
#define VH_TABLE_OFFSET	   16
#define VH_VERSION	   24
#define VH_MAX_ENTRIES	   28
#define VH_BLOCK_SIZE	   32
#define VH_CHECKSUM	   36
#define VH_PARENT_ID	   40 /* 16 bytes */
#define VH_PARENT_TIME	   56
#define VH_PARENT_NAME	   64 /* 512 bytes of UTF-16BE */
#define VH_PARENT_NAME_LEN 512u
#define VH_LOCATORS	   576 /* 8 entries of 24 bytes */
#define VH_LOCATOR_SIZE	   24u
#define VH_NLOCATORS	   8u
#define VHD_DEFAULT_BLOCK  (2u << 20)
#define VHD_MIN_BLOCK	   512u
#define VHD_MAX_BLOCK	   (256u << 20)
#define VHD_BAT_FREE	   0xffffffffu
/* The largest disk the format describes: 2040 GiB (the BAT's 32-bit sector
 * numbers reach 2 TiB of file). */
#define VHD_MAX_SIZE (2040ull << 30)

/* Parent locator platform codes. */
#define VHD_PLAT_W2RU 0x57327275u /* "W2ru": relative path, UTF-16LE */
#define VHD_PLAT_W2KU 0x57326b75u /* "W2ku": absolute path, UTF-16LE */
#define VHD_PLAT_MACX 0x4d616358u /* "MacX": file URL, UTF-8 */

/* --- the open image -------------------------------------------------------- */

/* What an allocated block's sector bitmap is known to be. */
enum vhd_bitmap_state {
	VHD_BM_UNKNOWN = 0, /* read it from the file when it matters */
	VHD_BM_FULL = 1,    /* every sector present */
};

struct vhd {
	int fd;
	const char *path; /* bd->path */
	enum vhd_type type;
	bool readonly;
	uint8_t footer[VHD_FOOTER_SIZE]; /* as on disk, checksum valid */
	uint64_t file_size;		 /* at open */
	bool tail_missing;		 /* the footer at the end was not valid */

	/* Dynamic and differencing disks. */
	uint8_t header[VHD_HEADER_SIZE];
	uint64_t header_off;
	uint64_t bat_off;
	uint32_t max_entries;
	uint32_t block_size;
	uint32_t bitmap_size;  /* bytes, a multiple of 512 */
	_Atomic uint32_t *bat; /* sector numbers, host order */
	_Atomic uint8_t *bmstate;
	uint64_t end;	       /* where the footer at the end of the file is */
	uint64_t limit;	       /* data of blocks ending past this was missing at open */
	uint64_t first_new;    /* blocks allocated since open start here or later */
	char parent[PATH_MAX]; /* differencing: the name the parent was found by */

	pthread_mutex_t lock; /* allocation, bitmap updates, end */
};

/* --- helpers shared by the driver's files ---------------------------------- */

static inline uint16_t vhd_be16(const uint8_t *p)
{
	return (uint16_t)(p[0] << 8 | p[1]);
}

static inline void vhd_put_be64(uint8_t *p, uint64_t v)
{
	for (int i = 0; i < 8; i++)
		p[i] = (uint8_t)(v >> (56 - 8 * i));
}

/* One's complement of the byte sum, the checksum field counted as zero. */
uint32_t vhd_checksum(const uint8_t *buf, size_t len, size_t field);
/* Sets the footer's checksum field. */
void vhd_footer_seal(uint8_t *footer);
void vhd_header_seal(uint8_t *header);
/* CHS as the specification computes it for a disk of `sectors`. */
void vhd_geometry(uint64_t sectors, uint16_t *cyl, uint8_t *heads, uint8_t *spt);
/* The size of the sector bitmap in front of each block, padded to 512. */
uint32_t vhd_bitmap_bytes(uint32_t block_size);
/* Writes the in-memory footer at the end (s->end) and, for dynamic disks,
 * its copy at offset 0. */
int vhd_write_footers(struct vhd *s);
/* Runs a request (vhd_io.c). */
int vhd_io(struct block_dev *bd, struct block_req *req);
/* Whether a block at `off` lies inside what the file held at open. */
static inline bool vhd_block_present(const struct vhd *s, uint64_t off)
{
	return off >= s->first_new || off + s->bitmap_size + s->block_size <= s->limit;
}
/* The image-level operations (vhd_image.c). */
int vhd_create(int fd, const char *path, const struct block_create_opts *opts,
	       struct block_dev *parent, char *err, size_t errlen);
int vhd_info(struct block_dev *bd, struct block_info *info);
int vhd_resize(struct block_dev *bd, uint64_t size, char *err, size_t errlen);
int vhd_check(struct block_dev *bd, bool repair, struct block_check *res);
/* Where the parent locators' data ends (0 for none), and in *first the
 * offset of the first of them at or after `from` (UINT64_MAX for none). */
uint64_t vhd_locators_end(const struct vhd *s, uint64_t from, uint64_t *first);
/* Where block i's bitmap starts in the file, 0 if it is unallocated. */
uint64_t vhd_block_offset(const struct vhd *s, uint32_t i);

/* block_set_parent for VHD (vhd_reparent.c). */
int vhd_set_parent(const char *path, const char *name, struct block_dev *parent, bool force,
		   char *err, size_t errlen);

#endif
