/* The VHD format (Virtual PC / older Hyper-V disks): opening fixed, dynamic
 * and differencing images with every structure checked; the driver table. */
#include "devices/block/vhd.h"

#include "hypervisor/bytes.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define BAT_CHUNK (64u << 10) /* bytes of the BAT read at a time */

/* --- shared helpers ---------------------------------------------------------- */

uint32_t vhd_checksum(const uint8_t *buf, size_t len, size_t field)
{
	uint32_t sum = 0;
	for (size_t i = 0; i < len; i++)
		if (i < field || i >= field + 4)
			sum += buf[i];
	return ~sum;
}

void vhd_footer_seal(uint8_t *footer)
{
	put_be32(footer + VF_CHECKSUM, vhd_checksum(footer, VHD_FOOTER_SIZE, VF_CHECKSUM));
}

void vhd_header_seal(uint8_t *header)
{
	put_be32(header + VH_CHECKSUM, vhd_checksum(header, VHD_HEADER_SIZE, VH_CHECKSUM));
}

void vhd_geometry(uint64_t sectors, uint16_t *cyl, uint8_t *heads, uint8_t *spt)
{
	uint64_t cth, h, s;
	if (sectors > 65535ull * 16 * 255)
		sectors = 65535ull * 16 * 255;
	if (sectors >= 65535ull * 16 * 63) {
		s = 255;
		h = 16;
		cth = sectors / s;
	} else {
		s = 17;
		cth = sectors / s;
		h = (cth + 1023) / 1024;
		if (h < 4)
			h = 4;
		if (cth >= h * 1024 || h > 16) {
			s = 31;
			h = 16;
			cth = sectors / s;
		}
		if (cth >= h * 1024) {
			s = 63;
			h = 16;
			cth = sectors / s;
		}
	}
	*cyl = (uint16_t)(cth / h);
	*heads = (uint8_t)h;
	*spt = (uint8_t)s;
}

uint32_t vhd_bitmap_bytes(uint32_t block_size)
{
	uint32_t bits = block_size / BLOCK_SECTOR;
	return ((bits + 7) / 8 + 511) & ~511u;
}

int vhd_write_footers(struct vhd *s)
{
	int r = block_file_pwrite(s->fd, s->footer, VHD_FOOTER_SIZE, s->end);
	if (r < 0 || s->type == VHD_FIXED)
		return r;
	return block_file_pwrite(s->fd, s->footer, VHD_FOOTER_SIZE, 0);
}

uint64_t vhd_block_offset(const struct vhd *s, uint32_t i)
{
	uint32_t b = atomic_load_explicit(&s->bat[i], memory_order_acquire);
	return b == VHD_BAT_FREE ? 0 : (uint64_t)b * BLOCK_SECTOR;
}

uint64_t vhd_locators_end(const struct vhd *s, uint64_t from, uint64_t *first)
{
	uint64_t end = 0;
	*first = UINT64_MAX;
	if (s->type != VHD_DIFF)
		return 0;
	for (unsigned j = 0; j < VH_NLOCATORS; j++) {
		const uint8_t *l = s->header + VH_LOCATORS + VH_LOCATOR_SIZE * j;
		uint32_t len = get_be32(l + 8);
		uint64_t off = get_be64(l + 16);
		if (!get_be32(l) || !len || off > UINT64_MAX / 2)
			continue;
		uint64_t e = off + (((uint64_t)len + 511) & ~511ull);
		if (e > end)
			end = e;
		if (off >= from && off < *first)
			*first = off;
	}
	return end;
}

/* --- probe ----------------------------------------------------------------- */

static bool footer_valid(const uint8_t *f)
{
	return memcmp(f + VF_COOKIE, VHD_COOKIE, 8) == 0 &&
	       get_be32(f + VF_CHECKSUM) == vhd_checksum(f, VHD_FOOTER_SIZE, VF_CHECKSUM);
}

static int vhd_probe(const uint8_t *head, size_t headlen, const uint8_t *tail, size_t taillen)
{
	if (taillen >= VHD_FOOTER_SIZE && footer_valid(tail + taillen - VHD_FOOTER_SIZE))
		return 100;
	/* A dynamic disk whose end was lost: the copy at offset 0, followed by
	 * the dynamic header. */
	if (headlen >= VHD_FOOTER_SIZE + 8 && footer_valid(head) &&
	    memcmp(head + VHD_FOOTER_SIZE, VHD_HDR_COOKIE, 8) == 0)
		return 100;
	return 0;
}

/* --- open ------------------------------------------------------------------ */

/* Both ranges [a, a + alen) and [b, b + blen) overlap. */
static bool overlaps(uint64_t a, uint64_t alen, uint64_t b, uint64_t blen)
{
	return a < b + blen && b < a + alen;
}

/* Picks the footer: the one at the end, or for a dynamic disk whose end is
 * missing (a crash while the file grew), the copy at offset 0. */
static int read_footer(struct vhd *s, char *err, size_t errlen)
{
	uint8_t tail[VHD_FOOTER_SIZE], head[VHD_FOOTER_SIZE];
	if (s->file_size < VHD_FOOTER_SIZE) {
		snprintf(err, errlen, "%s: %llu bytes, too small to be a VHD image", s->path,
			 (unsigned long long)s->file_size);
		return -EINVAL;
	}
	int r = block_file_pread(s->fd, tail, sizeof(tail), s->file_size - VHD_FOOTER_SIZE);
	if (r == 0)
		r = block_file_pread(s->fd, head, sizeof(head), 0);
	if (r < 0) {
		snprintf(err, errlen, "%s: cannot read the VHD footer: %s", s->path, strerror(-r));
		return r;
	}
	if (footer_valid(tail)) {
		memcpy(s->footer, tail, VHD_FOOTER_SIZE);
		s->end = s->file_size - VHD_FOOTER_SIZE;
		return 0;
	}
	uint32_t type = get_be32(head + VF_DISK_TYPE);
	if (footer_valid(head) && (type == VHD_DYNAMIC || type == VHD_DIFF)) {
		memcpy(s->footer, head, VHD_FOOTER_SIZE);
		s->tail_missing = true;
		s->end = 0; /* found from the tables */
		return 0;
	}
	if (memcmp(tail + VF_COOKIE, VHD_COOKIE, 8) == 0 ||
	    memcmp(head + VF_COOKIE, VHD_COOKIE, 8) == 0)
		snprintf(err, errlen, "%s: the VHD footer's checksum is wrong (a corrupted image)",
			 s->path);
	else
		snprintf(err, errlen, "%s: not a VHD image (no \"conectix\" footer at its end)",
			 s->path);
	return -EINVAL;
}

static int check_footer(struct vhd *s, char *err, size_t errlen)
{
	const uint8_t *f = s->footer;
	uint32_t version = get_be32(f + VF_VERSION);
	if (version >> 16 != 1) {
		snprintf(err, errlen, "%s: VHD version %u.%u is not supported (only 1.x)", s->path,
			 version >> 16, version & 0xffff);
		return -ENOTSUP;
	}
	uint32_t type = get_be32(f + VF_DISK_TYPE);
	if (type != VHD_FIXED && type != VHD_DYNAMIC && type != VHD_DIFF) {
		snprintf(err, errlen,
			 "%s: VHD disk type %u is not supported (fixed, dynamic or differencing)",
			 s->path, type);
		return -ENOTSUP;
	}
	s->type = (enum vhd_type)type;
	uint64_t size = get_be64(f + VF_CUR_SIZE);
	if (size > VHD_MAX_SIZE) {
		snprintf(err, errlen,
			 "%s: the disk size in the footer (%llu bytes) is larger than the 2040 GiB "
			 "VHD allows (a corrupted image?)",
			 s->path, (unsigned long long)size);
		return -EINVAL;
	}
	if (type == VHD_FIXED && size > s->end) {
		snprintf(err, errlen,
			 "%s: the fixed disk holds %llu bytes of its %llu (truncated image?)",
			 s->path, (unsigned long long)s->end, (unsigned long long)size);
		return -EINVAL;
	}
	return 0;
}

static int read_header(struct vhd *s, uint64_t limit, char *err, size_t errlen)
{
	uint64_t off = get_be64(s->footer + VF_DATA_OFFSET);
	if (off < VHD_FOOTER_SIZE || off % BLOCK_SECTOR || off > limit ||
	    limit - off < VHD_HEADER_SIZE) {
		snprintf(err, errlen,
			 "%s: the dynamic disk header's offset 0x%llx lies outside the file "
			 "(truncated or corrupted image)",
			 s->path, (unsigned long long)off);
		return -EINVAL;
	}
	s->header_off = off;
	int r = block_file_pread(s->fd, s->header, VHD_HEADER_SIZE, off);
	if (r < 0) {
		snprintf(err, errlen, "%s: cannot read the dynamic disk header: %s", s->path,
			 strerror(-r));
		return r;
	}
	const uint8_t *h = s->header;
	if (memcmp(h + VH_COOKIE, VHD_HDR_COOKIE, 8) != 0) {
		snprintf(err, errlen,
			 "%s: no dynamic disk header (\"cxsparse\") at 0x%llx (a corrupted image)",
			 s->path, (unsigned long long)off);
		return -EINVAL;
	}
	if (get_be32(h + VH_CHECKSUM) != vhd_checksum(h, VHD_HEADER_SIZE, VH_CHECKSUM)) {
		snprintf(err, errlen,
			 "%s: the dynamic disk header's checksum is wrong (a corrupted image)",
			 s->path);
		return -EINVAL;
	}
	if (get_be32(h + VH_VERSION) >> 16 != 1) {
		snprintf(err, errlen, "%s: dynamic disk header version 0x%08x is not supported",
			 s->path, get_be32(h + VH_VERSION));
		return -ENOTSUP;
	}
	uint32_t bs = get_be32(h + VH_BLOCK_SIZE);
	if (bs < VHD_MIN_BLOCK || bs > VHD_MAX_BLOCK || (bs & (bs - 1))) {
		snprintf(err, errlen,
			 "%s: block size %u is not a power of two from 512 bytes to 256 MiB (a "
			 "corrupted image)",
			 s->path, bs);
		return -EINVAL;
	}
	s->block_size = bs;
	s->bitmap_size = vhd_bitmap_bytes(bs);
	uint64_t size = get_be64(s->footer + VF_CUR_SIZE);
	uint64_t need = (size + bs - 1) / bs;
	s->max_entries = get_be32(h + VH_MAX_ENTRIES);
	if (s->max_entries < need) {
		snprintf(err, errlen,
			 "%s: the BAT has %u entries, too few for the disk's %llu bytes (a "
			 "corrupted image)",
			 s->path, s->max_entries, (unsigned long long)size);
		return -EINVAL;
	}
	s->bat_off = get_be64(h + VH_TABLE_OFFSET);
	uint64_t bat_len = (uint64_t)s->max_entries * 4;
	if (s->bat_off % BLOCK_SECTOR || s->bat_off < VHD_FOOTER_SIZE || s->bat_off > limit ||
	    limit - s->bat_off < bat_len) {
		snprintf(err, errlen,
			 "%s: the BAT (offset 0x%llx, %u entries) lies outside the file (truncated "
			 "image?)",
			 s->path, (unsigned long long)s->bat_off, s->max_entries);
		return -EINVAL;
	}
	if (overlaps(s->bat_off, bat_len, off, VHD_HEADER_SIZE)) {
		snprintf(err, errlen,
			 "%s: the BAT (offset 0x%llx) overlaps the dynamic disk header (a "
			 "corrupted image)",
			 s->path, (unsigned long long)s->bat_off);
		return -EINVAL;
	}
	return 0;
}

/* Whether [off, off + len) overlaps a parent locator's data. */
static bool on_locator(const struct vhd *s, uint64_t off, uint64_t len)
{
	if (s->type != VHD_DIFF)
		return false;
	for (unsigned j = 0; j < VH_NLOCATORS; j++) {
		const uint8_t *l = s->header + VH_LOCATORS + VH_LOCATOR_SIZE * j;
		uint32_t n = get_be32(l + 8);
		uint64_t at = get_be64(l + 16);
		if (get_be32(l) && n && at < UINT64_MAX / 2 && overlaps(off, len, at, n))
			return true;
	}
	return false;
}

/* Loads the BAT, refusing blocks inside the metadata; finds the end. */
static int read_bat(struct vhd *s, uint64_t limit, char *err, size_t errlen)
{
	uint64_t bat_len = (uint64_t)s->max_entries * 4;
	uint8_t *raw = malloc(BAT_CHUNK);
	s->bat = calloc(s->max_entries ? s->max_entries : 1, sizeof(*s->bat));
	s->bmstate = calloc(s->max_entries ? s->max_entries : 1, 1);
	if (!raw || !s->bat || !s->bmstate) {
		free(raw);
		snprintf(err, errlen, "%s: out of memory for the BAT", s->path);
		return -ENOMEM;
	}
	uint64_t meta_end = s->bat_off + ((bat_len + 511) & ~511ull);
	if (s->header_off + VHD_HEADER_SIZE > meta_end)
		meta_end = s->header_off + VHD_HEADER_SIZE;
	uint64_t first_loc, loc_end = vhd_locators_end(s, 0, &first_loc);
	if (loc_end > meta_end && loc_end <= limit)
		meta_end = loc_end;
	uint64_t end = meta_end;
	uint64_t span = (uint64_t)s->bitmap_size + s->block_size;
	int r = 0;
	for (uint32_t i = 0; i < s->max_entries && r == 0; i++) {
		uint32_t k = i % (BAT_CHUNK / 4);
		if (k == 0) {
			uint64_t n =
			    bat_len - 4ull * i < BAT_CHUNK ? bat_len - 4ull * i : BAT_CHUNK;
			r = block_file_pread(s->fd, raw, n, s->bat_off + 4ull * i);
			if (r < 0) {
				snprintf(err, errlen, "%s: cannot read the BAT: %s", s->path,
					 strerror(-r));
				break;
			}
		}
		uint32_t b = get_be32(raw + 4 * k);
		atomic_init(&s->bat[i], b);
		if (b == VHD_BAT_FREE)
			continue;
		uint64_t off = (uint64_t)b * BLOCK_SECTOR;
		if (off < VHD_FOOTER_SIZE || overlaps(off, span, s->header_off, VHD_HEADER_SIZE) ||
		    overlaps(off, span, s->bat_off, bat_len) || on_locator(s, off, span)) {
			snprintf(err, errlen,
				 "%s: BAT entry %u points at 0x%llx, inside the image's headers, "
				 "BAT or parent locators (a corrupted image)",
				 s->path, i, (unsigned long long)off);
			r = -EINVAL;
		}
		if (off + span > end)
			end = off + span;
	}
	free(raw);
	if (r < 0)
		return r;
	/* Blocks past `limit` are missing from the file: their requests fail
	 * with -EIO; new blocks go after everything. */
	if (s->end < end)
		s->end = end;
	if (!s->tail_missing && s->end < limit)
		s->end = limit;
	s->limit = limit;
	s->first_new = s->end;
	return 0;
}

/* Converts a parent locator or name to a path: UTF-16 (le or be) or UTF-8,
 * Windows separators turned into '/', a "file://" prefix and a ".\"
 * dropped. Non-ASCII UTF-16 is written as UTF-8. 0 or -EINVAL. */
static int locator_path(const uint8_t *d, size_t len, int enc, char *out, size_t outlen)
{
	size_t o = 0;
	if (enc == 0) {
		if (len >= outlen)
			return -EINVAL;
		memcpy(out, d, len);
		o = len;
	} else {
		for (size_t i = 0; i + 1 < len; i += 2) {
			unsigned c = enc == 1 ? (unsigned)(d[i] | d[i + 1] << 8)
					      : (unsigned)(d[i] << 8 | d[i + 1]);
			if (!c)
				break;
			if (c >= 0xd800 && c < 0xe000)
				return -EINVAL; /* surrogates: no such names here */
			uint8_t u[3];
			size_t n = 0;
			if (c < 0x80) {
				u[n++] = (uint8_t)c;
			} else if (c < 0x800) {
				u[n++] = (uint8_t)(0xc0 | c >> 6);
				u[n++] = (uint8_t)(0x80 | (c & 0x3f));
			} else {
				u[n++] = (uint8_t)(0xe0 | c >> 12);
				u[n++] = (uint8_t)(0x80 | ((c >> 6) & 0x3f));
				u[n++] = (uint8_t)(0x80 | (c & 0x3f));
			}
			if (o + n >= outlen)
				return -EINVAL;
			memcpy(out + o, u, n);
			o += n;
		}
	}
	out[o] = 0;
	o = strnlen(out, o);
	out[o] = 0;
	for (size_t i = 0; i < o; i++)
		if (out[i] == '\\')
			out[i] = '/';
	const char *p = out;
	if (strncmp(p, "file://", 7) == 0)
		p += 7;
	if (strncmp(p, "./", 2) == 0)
		p += 2;
	memmove(out, p, strlen(p) + 1);
	return out[0] ? 0 : -EINVAL;
}

/* Whether name (relative to the image's folder) names an existing file. */
static bool parent_exists(const struct vhd *s, const char *name)
{
	char full[PATH_MAX];
	if (name[0] == '/') {
		snprintf(full, sizeof(full), "%s", name);
	} else {
		const char *slash = strrchr(s->path, '/');
		int dirlen = slash ? (int)(slash - s->path + 1) : 0;
		if (snprintf(full, sizeof(full), "%.*s%s", dirlen, s->path, name) >=
		    (int)sizeof(full))
			return false;
	}
	struct stat st;
	return stat(full, &st) == 0;
}

/* Finds the parent of a differencing disk by its locators (relative path
 * first), then by the name in the header, and opens it. */
static int open_parent(struct block_dev *bd, struct vhd *s, uint64_t limit, char *err,
		       size_t errlen)
{
	static const uint32_t order[] = {VHD_PLAT_W2RU, VHD_PLAT_W2KU, VHD_PLAT_MACX};
	char name[PATH_MAX], first[PATH_MAX] = "";
	bool found = false;
	for (unsigned k = 0; k < 3 && !found; k++) {
		for (unsigned j = 0; j < VH_NLOCATORS && !found; j++) {
			const uint8_t *l = s->header + VH_LOCATORS + VH_LOCATOR_SIZE * j;
			if (get_be32(l) != order[k])
				continue;
			uint32_t len = get_be32(l + 8);
			uint64_t off = get_be64(l + 16);
			if (len == 0 || len > 2 * PATH_MAX || off > limit || limit - off < len) {
				snprintf(err, errlen,
					 "%s: parent locator %u (offset 0x%llx, %u bytes) lies "
					 "outside the file (a corrupted image)",
					 s->path, j, (unsigned long long)off, len);
				return -EINVAL;
			}
			uint8_t *d = malloc(len);
			if (!d)
				return -ENOMEM;
			int r = block_file_pread(s->fd, d, len, off);
			if (r == 0)
				r = locator_path(d, len, order[k] == VHD_PLAT_MACX ? 0 : 1, name,
						 sizeof(name));
			free(d);
			if (r < 0)
				continue;
			if (!first[0])
				snprintf(first, sizeof(first), "%s", name);
			found = parent_exists(s, name);
		}
	}
	if (!found && locator_path(s->header + VH_PARENT_NAME, VH_PARENT_NAME_LEN, 2, name,
				   sizeof(name)) == 0) {
		if (!first[0])
			snprintf(first, sizeof(first), "%s", name);
		found = parent_exists(s, name);
	}
	if (!found && first[0]) {
		/* A chain moved from elsewhere: the parent next to the image. */
		const char *base = strrchr(first, '/') ? strrchr(first, '/') + 1 : first;
		snprintf(name, sizeof(name), "%s", base);
		found = name[0] && parent_exists(s, name);
	}
	if (!found) {
		if (first[0])
			snprintf(
			    err, errlen,
			    "%s: the parent disk %s of this differencing disk is missing; put "
			    "it back next to the image, or if it moved: osio disk reconnect %s "
			    "NEW-PARENT",
			    s->path, first, s->path);
		else
			snprintf(err, errlen,
				 "%s: a differencing disk that names no parent (a corrupted image)",
				 s->path);
		return -ENOENT;
	}
	snprintf(s->parent, sizeof(s->parent), "%s", name);
	int r = block_open_backing(bd, name, NULL, err, errlen);
	if (r < 0)
		return r;
	const struct block_dev *p = bd->backing;
	if (p->drv == &block_vhd_driver) {
		const struct vhd *ps = p->priv;
		if (memcmp(ps->footer + VF_UNIQUE_ID, s->header + VH_PARENT_ID, 16) != 0) {
			snprintf(err, errlen,
				 "%s: the parent %s is not the disk this differencing disk was "
				 "made from (its unique ID differs)",
				 s->path, name);
			return -EINVAL;
		}
	}
	return 0;
}

static void free_state(struct vhd *s)
{
	free(s->bat);
	free(s->bmstate);
	pthread_mutex_destroy(&s->lock);
	free(s);
}

/* A read-write open of an image whose footer at the end was lost puts it
 * back and drops what lies after the last block. */
static int restore_tail(struct vhd *s, char *err, size_t errlen)
{
	int r = block_file_pwrite(s->fd, s->footer, VHD_FOOTER_SIZE, s->end);
	if (r == 0 && ftruncate(s->fd, (off_t)(s->end + VHD_FOOTER_SIZE)) < 0)
		r = -errno;
	if (r == 0 && fdatasync(s->fd) < 0)
		r = -errno;
	if (r < 0) {
		snprintf(err, errlen, "%s: cannot restore the footer at the end: %s", s->path,
			 strerror(-r));
		return r;
	}
	s->file_size = s->end + VHD_FOOTER_SIZE;
	s->tail_missing = false;
	return 0;
}

static int vhd_open(struct block_dev *bd, const char *path, unsigned flags, char *err,
		    size_t errlen)
{
	struct stat st;
	int fd;
	bool ro = flags & BLOCK_RDONLY;
	int r = block_file_open(bd, path, flags, &fd, &st, err, errlen);
	if (r < 0)
		return r;
	struct vhd *s = calloc(1, sizeof(*s));
	if (!s) {
		close(fd);
		return -ENOMEM;
	}
	pthread_mutex_init(&s->lock, NULL);
	s->fd = fd;
	s->path = bd->path;
	s->readonly = ro;
	s->file_size = (uint64_t)st.st_size;
	bd->priv = s;
	r = read_footer(s, err, errlen);
	if (r == 0)
		r = check_footer(s, err, errlen);
	if (r < 0)
		goto fail;
	if (s->type != VHD_FIXED) {
		uint64_t limit = s->tail_missing ? s->file_size : s->end;
		r = read_header(s, limit, err, errlen);
		if (r == 0)
			r = read_bat(s, limit, err, errlen);
		if (r == 0 && s->type == VHD_DIFF)
			r = open_parent(bd, s, limit, err, errlen);
		if (r == 0 && s->tail_missing && !ro)
			r = restore_tail(s, err, errlen);
		if (r < 0)
			goto fail;
	}
	bd->size = get_be64(s->footer + VF_CUR_SIZE);
	return 0;
fail:
	/* The block layer closes bd->backing if it was opened. */
	close(fd);
	free_state(s);
	bd->priv = NULL;
	return r;
}

static void vhd_close(struct block_dev *bd)
{
	struct vhd *s = bd->priv;
	if (!s->readonly)
		fdatasync(s->fd);
	close(s->fd);
	free_state(s);
}

const struct block_driver block_vhd_driver = {
    .name = "vhd",
    .probe = vhd_probe,
    .open = vhd_open,
    .close = vhd_close,
    .io = vhd_io,
    .create = vhd_create,
    .info = vhd_info,
    .resize = vhd_resize,
    .check = vhd_check,
    .set_parent = vhd_set_parent,
};
