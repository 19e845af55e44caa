/* The saved-state file's layout, apart from KVM: a checked header, the
 * vmstate blob, and guest RAM's non-zero pages packed one after the other
 * with a table of where they go (zero pages take no room, and the file is
 * written in one sequential pass: no holes, so no fragmented extents that
 * make later reads and deletes slow).
 *
 *   0       header (SAVEVM_HEADER_SIZE bytes, little-endian, CRC-32 over
 *           all of it with its own CRC field as zero):
 *             0 magic "OSIOSAVE"   8 u32 format version   12 u32 header size
 *            16 u64 memory         24 u64 RAM below 4 GiB 32 u64 RAM above 4 GiB
 *            40 u32 vCPUs          44 u32 flags (0)       48 u64 saved at (s)
 *            56 VM name (64 bytes, NUL-padded)
 *           120 u64 state offset  128 u64 state length
 *           136 u64 data offset   144 u64 data length
 *           152 u64 table offset  160 u64 table length
 *           168 u32 CRC-32 of the state  172 u32 CRC-32 of the table
 *           176 u32 CRC-32 of the header
 *   4096    the vmstate blob (vmstate.h)
 *   data    from the next 4 KiB boundary: the pages of every run below
 *   table   right after the data, to the end of the file: runs of
 *           {u64 offset, u64 length} in the RAM image (RAM below 4 GiB from
 *           gpa 0, then RAM from 4 GiB), page-aligned, in order, not
 *           overlapping nor crossing from low to high RAM; their lengths
 *           add up to the data length. RAM outside every run is zero. */
#ifndef OSIO_SAVEVM_FILE_H
#define OSIO_SAVEVM_FILE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define SAVEVM_MAGIC	   "OSIOSAVE"
#define SAVEVM_FORMAT	   1
#define SAVEVM_HEADER_SIZE 4096u
#define SAVEVM_STATE_MAX   (1ull << 30) /* the vmstate blob's largest size */

struct savevm_header {
	uint64_t memory, ram_below_4g, ram_above_4g;
	unsigned cpus;
	uint64_t saved_at;
	char vm_name[64];
	uint64_t state_offset, state_len, data_offset, data_len, table_offset, table_len;
	uint32_t state_crc, table_crc;
};

/* Guest RAM in the file: low (from gpa 0) then high (from 4 GiB). */
struct savevm_ram {
	uint8_t *low;
	uint64_t low_size;
	uint8_t *high;
	uint64_t high_size;
};

/* Writes path crash-safely (temporary file in the same folder, fsync,
 * rename, fsync of the folder); on failure nothing is left and an older
 * file at path is as it was. vm_name may be NULL. -errno with err naming
 * the file and the fix. */
int savevm_file_write(const char *path, const char *vm_name, unsigned cpus, const void *state,
		      size_t state_len, const struct savevm_ram *ram, char *err, size_t errlen);

/* An open file whose header and state were read and checked. */
struct savevm_file {
	int fd;
	struct savevm_header h;
	uint8_t *state;	    /* h.state_len bytes, checksum checked */
	uint8_t *table;	    /* h.table_len bytes of RAM runs, checked */
	uint64_t allocated; /* bytes on disk */
	char path[4096];
};

/* Opens path and checks its header (and, unless header_only, reads and
 * checks the state and the RAM table). -EINVAL with one sentence naming the file for
 * anything damaged, truncated or foreign; -errno for I/O errors. */
int savevm_file_open(const char *path, struct savevm_file *f, bool header_only, char *err,
		     size_t errlen);
/* Reads the RAM image into ram (sizes must be the header's): the runs the
 * file holds; the rest of ram is made zero. */
int savevm_file_read_ram(struct savevm_file *f, const struct savevm_ram *ram, char *err,
			 size_t errlen);
void savevm_file_close(struct savevm_file *f);

#endif
