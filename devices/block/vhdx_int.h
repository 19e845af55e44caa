/* The VHDX driver's internals ([MS-VHDX] v1.0): on-disk layout constants,
 * the opened image's state, and what its files (vhdx.c, vhdx_header.c,
 * vhdx_meta.c, vhdx_log.c, vhdx_create.c, vhdx_check.c) offer each other. */
#ifndef OSIO_VHDX_INT_H
#define OSIO_VHDX_INT_H

#include "devices/block/block_driver.h"

#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define VHDX_KiB 1024u
#define VHDX_MiB (1024u * 1024u)

/* The header section: file identifier, two headers, two region tables. */
#define VHDX_FILE_ID_OFF   0u
#define VHDX_HEADER1_OFF   (64u * VHDX_KiB)
#define VHDX_HEADER2_OFF   (128u * VHDX_KiB)
#define VHDX_REGION1_OFF   (192u * VHDX_KiB)
#define VHDX_REGION2_OFF   (256u * VHDX_KiB)
#define VHDX_HEADER_SIZE   (4u * VHDX_KiB) /* what the header's CRC covers */
#define VHDX_REGION_SIZE   (64u * VHDX_KiB)
#define VHDX_SECTION_END   VHDX_MiB /* the header section */
#define VHDX_REGION_MAX	   2047u
#define VHDX_META_MAX	   2047u
#define VHDX_META_ITEM_MIN (64u * VHDX_KiB) /* items start past the table */
#define VHDX_META_ITEM_MAX VHDX_MiB

#define VHDX_BLOCK_MIN	    VHDX_MiB
#define VHDX_BLOCK_MAX	    (256u * VHDX_MiB)
#define VHDX_BLOCK_DEFAULT  (32u * VHDX_MiB)
#define VHDX_BLOCK_DIFF	    (2u * VHDX_MiB) /* Hyper-V's for differencing disks */
#define VHDX_MAX_SIZE	    (64ull << 40)   /* 64 TiB */
#define VHDX_LOG_DEFAULT    VHDX_MiB
#define VHDX_LOG_SECTOR	    4096u
#define VHDX_SECTORS_PER_SB (1u << 23) /* sectors one sector bitmap block covers */
#define VHDX_SB_SIZE	    VHDX_MiB
/* No file offset in an image is larger (64 TiB of data plus its tables). */
#define VHDX_OFFSET_MAX (1ull << 48)

/* BAT entry: state in bits 0-2, FileOffsetMB in bits 20-63. */
#define VHDX_BAT_STATE(e)  ((unsigned)((e)&7u))
#define VHDX_BAT_OFFSET(e) ((e) & ~(uint64_t)(VHDX_MiB - 1))
#define VHDX_BAT_RESERVED  0xffff8ull /* bits 3-19 */
enum {
	VHDX_PAYLOAD_NOT_PRESENT = 0,
	VHDX_PAYLOAD_UNDEFINED = 1,
	VHDX_PAYLOAD_ZERO = 2,
	VHDX_PAYLOAD_UNMAPPED = 3,
	VHDX_PAYLOAD_UNMAPPED_QEMU = 5, /* QEMU's value for UNMAPPED; read as such */
	VHDX_PAYLOAD_FULLY_PRESENT = 6,
	VHDX_PAYLOAD_PARTIALLY_PRESENT = 7,
	VHDX_SB_NOT_PRESENT = 0,
	VHDX_SB_PRESENT = 6,
};

/* A GUID as stored: Data1-3 little-endian, Data4 bytes in order. */
struct vhdx_guid {
	uint8_t b[16];
};

/* The fields of a header that osio reads or changes (the rest is zero). */
struct vhdx_header {
	uint64_t seq;
	struct vhdx_guid file_write, data_write, log;
	uint16_t log_version, version;
	uint32_t log_length;
	uint64_t log_offset;
};

struct vhdx {
	int fd;
	const char *path; /* bd->path */
	struct block_dev *bd;

	/* Headers: the current one and its slot (0 or 1). */
	struct vhdx_header hdr;
	unsigned cur;
	atomic_bool touched; /* the write GUIDs are new for this open */

	uint64_t bat_off, meta_off;
	uint32_t bat_len, meta_len;
	uint64_t size_item_off; /* file offset of the virtual disk size value */

	uint32_t block_size;
	uint32_t logical_sector, physical_sector;
	uint64_t chunk_ratio; /* payload blocks per sector bitmap block */
	uint64_t blocks;      /* payload blocks covering the virtual size */
	uint64_t size;
	bool has_parent, leave_allocated;
	struct vhdx_guid page83;
	/* The parent locator (differencing disks), converted to '/' paths. */
	char *parent_rel, *parent_abs, *parent_vol;
	struct vhdx_guid parent_linkage, parent_linkage2;
	bool has_linkage, has_linkage2;

	/* The BAT (host order), every entry the region holds; read without
	 * the lock with atomic loads, changed under it. */
	uint64_t *bat;
	uint64_t bat_entries;
	pthread_mutex_t lock; /* allocation and metadata writes */
	uint64_t file_end;    /* where the next block goes (1 MiB aligned) */
};

/* --- vhdx_header.c, vhdx_meta.c: checksums, GUIDs, structures ---------- */

uint32_t vhdx_crc32c(uint32_t crc, const void *buf, size_t len);
/* CRC-32C of a structure of len bytes whose 4-byte checksum field is at
 * csum_off, as if that field were zero. */
uint32_t vhdx_crc_with_hole(const uint8_t *buf, size_t len, size_t csum_off);
void vhdx_guid_random(struct vhdx_guid *g);
bool vhdx_guid_is_zero(const struct vhdx_guid *g);
bool vhdx_guid_eq(const struct vhdx_guid *a, const struct vhdx_guid *b);
/* "{XXXXXXXX-XXXX-...}" (39 bytes with NUL) and back. */
void vhdx_guid_format(const struct vhdx_guid *g, char out[39]);
bool vhdx_guid_parse(const char *s, struct vhdx_guid *g);

extern const struct vhdx_guid vhdx_bat_guid, vhdx_meta_guid;
extern const struct vhdx_guid vhdx_file_params_guid, vhdx_disk_size_guid, vhdx_page83_guid,
    vhdx_logical_guid, vhdx_physical_guid, vhdx_parent_locator_guid, vhdx_locator_type_guid;

/* Header <-> 4 KiB block (encode fills the checksum). */
void vhdx_header_encode(const struct vhdx_header *h, uint8_t out[VHDX_HEADER_SIZE]);
/* 0 if buf holds a valid header (signature, checksum, versions). */
int vhdx_header_decode(const uint8_t buf[VHDX_HEADER_SIZE], struct vhdx_header *h);
/* Reads both headers and picks the current one: 0 or -errno with err. */
int vhdx_read_headers(struct vhdx *v, uint64_t file_size, char *err, size_t errlen);
/* Writes h (with a new sequence number) into both header slots, one after
 * the other with an fdatasync after each: a crash leaves one valid. */
int vhdx_write_header(struct vhdx *v, const struct vhdx_header *h);
/* Region tables, metadata and BAT: fills v, 0 or -errno with err. */
int vhdx_read_regions(struct vhdx *v, uint64_t file_size, char *err, size_t errlen);
int vhdx_read_metadata(struct vhdx *v, char *err, size_t errlen);
int vhdx_read_bat(struct vhdx *v, uint64_t file_size, char *err, size_t errlen);
/* Payload blocks, and BAT entries a disk of size bytes needs. */
uint64_t vhdx_blocks_for(uint64_t size, uint32_t block_size);
uint64_t vhdx_bat_entries_for(uint64_t size, uint32_t block_size, uint32_t logical,
			      bool has_parent);
/* Encodes a region table with a BAT and a metadata region (64 KiB). */
void vhdx_region_encode(uint8_t out[VHDX_REGION_SIZE], uint64_t bat_off, uint32_t bat_len,
			uint64_t meta_off, uint32_t meta_len);

/* Little-endian helpers. */
static inline uint16_t vhdx_le16(const uint8_t *p)
{
	return (uint16_t)(p[0] | p[1] << 8);
}
static inline uint32_t vhdx_le32(const uint8_t *p)
{
	return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}
static inline uint64_t vhdx_le64(const uint8_t *p)
{
	return (uint64_t)vhdx_le32(p) | (uint64_t)vhdx_le32(p + 4) << 32;
}
static inline void vhdx_put16(uint8_t *p, uint16_t v)
{
	p[0] = (uint8_t)v;
	p[1] = (uint8_t)(v >> 8);
}
static inline void vhdx_put32(uint8_t *p, uint32_t v)
{
	for (int i = 0; i < 4; i++)
		p[i] = (uint8_t)(v >> (8 * i));
}
static inline void vhdx_put64(uint8_t *p, uint64_t v)
{
	for (int i = 0; i < 8; i++)
		p[i] = (uint8_t)(v >> (8 * i));
}

/* --- vhdx_log.c -------------------------------------------------------------- */

/* Finds the active log sequence (if the header names a log). *pending says
 * whether there is one; with replay set it is written into the file, the
 * file synced and the headers' LogGuid cleared. 0 or -errno with err. */
int vhdx_log_replay(struct vhdx *v, uint64_t file_size, bool replay, bool *pending, char *err,
		    size_t errlen);

/* --- vhdx.c ----------------------------------------------------------------- */

/* BAT index of payload block b, and of the sector bitmap of its chunk. */
static inline uint64_t vhdx_payload_index(const struct vhdx *v, uint64_t b)
{
	return b + b / v->chunk_ratio;
}
static inline uint64_t vhdx_sb_index(const struct vhdx *v, uint64_t b)
{
	return (b / v->chunk_ratio) * (v->chunk_ratio + 1) + v->chunk_ratio;
}
static inline uint64_t vhdx_bat_get(const struct vhdx *v, uint64_t i)
{
	return __atomic_load_n(&v->bat[i], __ATOMIC_ACQUIRE);
}
/* Sets BAT entry i in memory and in the file (under v->lock). */
int vhdx_bat_set(struct vhdx *v, uint64_t i, uint64_t e);
/* Gives the image new write GUIDs before its first change in this open. */
int vhdx_touch(struct vhdx *v);
/* The same with the DataWriteGuid kept when new_data_write is false: for a parent about to
 * take in blocks its child already covers (block_commit), which the child still links to. */
int vhdx_touch_guids(struct vhdx *v, bool new_data_write);

/* --- vhdx_create.c / vhdx_check.c ------------------------------------------ */

int vhdx_create(int fd, const char *path, const struct block_create_opts *opts,
		struct block_dev *parent, char *err, size_t errlen);
int vhdx_resize(struct block_dev *bd, uint64_t size, char *err, size_t errlen);
int vhdx_check(struct block_dev *bd, bool repair, struct block_check *res);

/* --- vhdx_create.c, vhdx_log.c, vhdx_reparent.c: changing a parent's name ---- */

/* A parent locator at loc (cap bytes): parent_linkage (and link2 as
 * parent_linkage2 if not NULL), relative_path name unless it is absolute,
 * absolute_win32_path abs. Its length, or 0 if it does not fit. */
size_t vhdx_locator_build(uint8_t *loc, size_t cap, const char *name, const char *abs,
			  const struct vhdx_guid *link, const struct vhdx_guid *link2);
/* Writes n 4 KiB sectors (data, n * 4 KiB) at file offsets offs (multiples
 * of 4 KiB past the headers) through the log ([MS-VHDX] 2.3): one log
 * entry, the headers naming it, the sectors in place, the headers cleared.
 * A crash at any point leaves the old sectors or, after the open's replay,
 * the new ones. The file must have no pending log. 0 or -errno. */
int vhdx_log_write(struct vhdx *v, const uint64_t *offs, const uint8_t *data, unsigned n);
int vhdx_set_parent(const char *path, const char *name, struct block_dev *parent, bool force,
		    char *err, size_t errlen);

#endif
