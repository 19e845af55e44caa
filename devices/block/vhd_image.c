/* VHD image-level operations: creating fixed, dynamic and differencing
 * images, info, growing, and checking the block allocation table. */
#include "devices/block/vhd.h"

#include "hypervisor/bytes.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#define VHD_EPOCH     946684800 /* 2000-01-01 00:00:00 UTC */
#define FIXED_STEP    (256ull << 20)
#define HEADER_OFF    512u
#define LOCATORS_OFF  (HEADER_OFF + VHD_HEADER_SIZE)
#define LOCATOR_SPACE 4096u /* bytes reserved for each parent locator */

static uint64_t round512(uint64_t v)
{
	return (v + 511) & ~511ull;
}

static uint32_t vhd_time(time_t t)
{
	return t > VHD_EPOCH ? (uint32_t)(t - VHD_EPOCH) : 0;
}

/* Footer fields for a disk of `size` bytes. The geometry is the
 * specification's; where it cannot express the size exactly, it is the
 * largest one (65535/16/255), which readers that size disks by CHS (QEMU
 * for creators it does not know) take to mean "the size is current_size",
 * as qemu-img's own force_size images do. */
static void set_size(uint8_t *f, uint64_t size)
{
	uint16_t c;
	uint8_t h, spt;
	vhd_geometry(size / BLOCK_SECTOR, &c, &h, &spt);
	if ((uint64_t)c * h * spt * BLOCK_SECTOR != size) {
		c = 65535;
		h = 16;
		spt = 255;
	}
	vhd_put_be64(f + VF_CUR_SIZE, size);
	put_be16(f + VF_GEOMETRY, c);
	f[VF_GEOMETRY + 2] = h;
	f[VF_GEOMETRY + 3] = spt;
}

static int make_footer(uint8_t *f, enum vhd_type type, uint64_t size)
{
	memset(f, 0, VHD_FOOTER_SIZE);
	memcpy(f + VF_COOKIE, VHD_COOKIE, 8);
	put_be32(f + VF_FEATURES, VHD_FEATURES);
	put_be32(f + VF_VERSION, VHD_VERSION);
	vhd_put_be64(f + VF_DATA_OFFSET, type == VHD_FIXED ? VHD_NO_OFFSET : HEADER_OFF);
	put_be32(f + VF_TIMESTAMP, vhd_time(time(NULL)));
	memcpy(f + VF_CREATOR_APP, "osio", 4);
	put_be32(f + VF_CREATOR_VER, 0x00010000);
	memcpy(f + VF_CREATOR_OS, "Wi2k", 4);
	vhd_put_be64(f + VF_ORIG_SIZE, size);
	set_size(f, size);
	put_be32(f + VF_DISK_TYPE, type);
	uint8_t *id = f + VF_UNIQUE_ID;
	if (getrandom(id, 16, 0) != 16)
		return -EIO;
	id[6] = (uint8_t)((id[6] & 0x0f) | 0x40); /* a version 4 UUID */
	id[8] = (uint8_t)((id[8] & 0x3f) | 0x80);
	vhd_footer_seal(f);
	return 0;
}

/* The header of a differencing disk names its parent: its unique ID and
 * time, its file name, and locators (a relative Windows path for a relative
 * name, a file URL for an absolute one) written at LOCATORS_OFF. */
static int parent_fields(int fd, uint8_t *h, const char *name, struct block_dev *parent,
			 const char *path, char *err, size_t errlen)
{
	const struct vhd *ps = parent->priv;
	memcpy(h + VH_PARENT_ID, ps->footer + VF_UNIQUE_ID, 16);
	struct stat st;
	if (stat(block_path(parent), &st) == 0)
		put_be32(h + VH_PARENT_TIME, vhd_time(st.st_mtime));
	const char *base = strrchr(name, '/') ? strrchr(name, '/') + 1 : name;
	if (block_utf8_to_utf16(base, h + VH_PARENT_NAME, VH_PARENT_NAME_LEN, true, false) < 0) {
		snprintf(err, errlen, "%s: the parent's file name %s is too long for a VHD", path,
			 base);
		return -EINVAL;
	}
	uint8_t data[LOCATOR_SPACE] = {0};
	char loc[PATH_MAX + 8];
	uint32_t code;
	int len;
	if (name[0] == '/') {
		code = VHD_PLAT_MACX;
		len = snprintf(loc, sizeof(loc), "file://%s", name);
		if (len < 0 || (size_t)len >= sizeof(data))
			len = -EINVAL;
		else
			memcpy(data, loc, (size_t)len);
	} else {
		code = VHD_PLAT_W2RU;
		snprintf(loc, sizeof(loc), "%s%s", strncmp(name, "../", 3) ? ".\\" : "", name);
		for (char *c = loc; *c; c++)
			if (*c == '/')
				*c = '\\';
		len = block_utf8_to_utf16(loc, data, sizeof(data), false, false);
	}
	if (len < 0) {
		snprintf(err, errlen, "%s: the parent's name %s is too long for a VHD", path, name);
		return -EINVAL;
	}
	uint8_t *l = h + VH_LOCATORS;
	put_be32(l, code);
	put_be32(l + 4, LOCATOR_SPACE); /* bytes, as Virtual PC and Hyper-V write it */
	put_be32(l + 8, (uint32_t)len);
	vhd_put_be64(l + 16, LOCATORS_OFF);
	int r = block_file_pwrite(fd, data, sizeof(data), LOCATORS_OFF);
	if (r < 0)
		snprintf(err, errlen, "%s: cannot write: %s", path, strerror(-r));
	return r;
}

/* A fixed disk's data: allocated now, with progress. */
static int allocate_fixed(int fd, const char *path, const struct block_create_opts *o, char *err,
			  size_t errlen)
{
	for (uint64_t done = 0; done < o->size;) {
		uint64_t n = o->size - done < FIXED_STEP ? o->size - done : FIXED_STEP;
		int e = posix_fallocate(fd, (off_t)done, (off_t)n);
		if (e) {
			snprintf(err, errlen, "%s: cannot allocate %llu bytes: %s", path,
				 (unsigned long long)o->size, strerror(e));
			return -e;
		}
		done += n;
		if (o->progress && o->progress(o->opaque, done, o->size))
			return -EINTR;
	}
	return 0;
}

int vhd_create(int fd, const char *path, const struct block_create_opts *o,
	       struct block_dev *parent, char *err, size_t errlen)
{
	uint64_t size = o->size;
	uint32_t bs = o->block_size ? o->block_size : VHD_DEFAULT_BLOCK;
	if (size > VHD_MAX_SIZE) {
		snprintf(err, errlen,
			 "%s: a VHD holds at most 2040 GiB; use vhdx for a larger disk", path);
		return -EFBIG;
	}
	if (bs < VHD_MIN_BLOCK || bs > VHD_MAX_BLOCK || (bs & (bs - 1))) {
		snprintf(err, errlen,
			 "%s: the VHD block size must be a power of two from 512 bytes to 256 MiB "
			 "(the default is 2 MiB)",
			 path);
		return -EINVAL;
	}
	if (parent && parent->drv != &block_vhd_driver) {
		snprintf(err, errlen,
			 "%s: the parent of a VHD differencing disk must be a VHD image (%s is %s)",
			 path, block_path(parent), block_format(parent));
		return -EINVAL;
	}
	enum vhd_type type = parent ? VHD_DIFF : o->fixed ? VHD_FIXED : VHD_DYNAMIC;
	uint8_t footer[VHD_FOOTER_SIZE];
	int r = make_footer(footer, type, size);
	if (r < 0) {
		snprintf(err, errlen, "%s: no random numbers for the disk's unique ID", path);
		return r;
	}
	if (type == VHD_FIXED) {
		r = allocate_fixed(fd, path, o, err, errlen);
		if (r < 0)
			return r;
		r = block_file_pwrite(fd, footer, VHD_FOOTER_SIZE, size);
		goto out;
	}
	uint32_t entries = (uint32_t)((size + bs - 1) / bs);
	uint64_t bat_off = type == VHD_DIFF ? LOCATORS_OFF + LOCATOR_SPACE : LOCATORS_OFF;
	uint64_t bat_len = round512(4 * (uint64_t)entries);
	uint8_t header[VHD_HEADER_SIZE] = {0};
	memcpy(header + VH_COOKIE, VHD_HDR_COOKIE, 8);
	vhd_put_be64(header + VH_DATA_OFFSET, VHD_NO_OFFSET);
	vhd_put_be64(header + VH_TABLE_OFFSET, bat_off);
	put_be32(header + VH_VERSION, VHD_VERSION);
	put_be32(header + VH_MAX_ENTRIES, entries);
	put_be32(header + VH_BLOCK_SIZE, bs);
	if (parent) {
		r = parent_fields(fd, header, o->parent, parent, path, err, errlen);
		if (r < 0)
			return r;
	}
	vhd_header_seal(header);
	uint8_t *bat = malloc(bat_len);
	if (!bat)
		return -ENOMEM;
	memset(bat, 0xff, bat_len);
	r = block_file_pwrite(fd, footer, VHD_FOOTER_SIZE, 0);
	if (r == 0)
		r = block_file_pwrite(fd, header, VHD_HEADER_SIZE, HEADER_OFF);
	if (r == 0)
		r = block_file_pwrite(fd, bat, bat_len, bat_off);
	if (r == 0)
		r = block_file_pwrite(fd, footer, VHD_FOOTER_SIZE, bat_off + bat_len);
	free(bat);
out:
	if (r < 0)
		snprintf(err, errlen, "%s: cannot write: %s", path, strerror(-r));
	return r;
}

/* --- info ------------------------------------------------------------------ */

int vhd_info(struct block_dev *bd, struct block_info *info)
{
	struct vhd *s = bd->priv;
	static const char *const names[] = {
	    [VHD_FIXED] = "fixed", [VHD_DYNAMIC] = "dynamic", [VHD_DIFF] = "differencing"};
	snprintf(info->subformat, sizeof(info->subformat), "%s", names[s->type]);
	info->block_size = s->type == VHD_FIXED ? 0 : s->block_size;
	snprintf(info->parent, sizeof(info->parent), "%s", s->parent);
	info->dirty = s->tail_missing;
	return 0;
}

/* --- resize ---------------------------------------------------------------- */

static int resize_fixed(struct vhd *s, uint64_t size)
{
	uint64_t old = s->end;
	uint8_t f[VHD_FOOTER_SIZE];
	memcpy(f, s->footer, sizeof(f));
	set_size(f, size);
	vhd_footer_seal(f);
	/* The new footer first: the file ends in a valid one at every moment. */
	int r = block_file_pwrite(s->fd, f, sizeof(f), size);
	if (r == 0 && size > old + VHD_FOOTER_SIZE) {
		int e = posix_fallocate(s->fd, (off_t)(old + VHD_FOOTER_SIZE),
					(off_t)(size - old - VHD_FOOTER_SIZE));
		r = e ? -e : 0;
	}
	if (r == 0) {
		static const uint8_t zero[VHD_FOOTER_SIZE];
		uint64_t n = size - old < VHD_FOOTER_SIZE ? size - old : VHD_FOOTER_SIZE;
		r = block_file_pwrite(s->fd, zero, n, old); /* the old footer is data now */
	}
	if (r == 0 && fdatasync(s->fd) < 0)
		r = -errno;
	if (r < 0)
		return r;
	memcpy(s->footer, f, sizeof(f));
	s->end = size;
	return 0;
}

/* Moves the BAT (grown to `entries`) to the end of the file, or grows it
 * in place where the first block leaves room. */
static int grow_bat(struct vhd *s, uint32_t entries)
{
	uint64_t len = round512(4 * (uint64_t)entries);
	uint64_t first = s->end;
	for (uint32_t i = 0; i < s->max_entries; i++) {
		uint64_t off = vhd_block_offset(s, i);
		if (off && off < first)
			first = off;
	}
	uint64_t loc;
	vhd_locators_end(s, s->bat_off, &loc);
	if (loc < first)
		first = loc;
	_Atomic uint32_t *bat = realloc(s->bat, entries * sizeof(*bat));
	if (bat)
		s->bat = bat;
	_Atomic uint8_t *bm = realloc(s->bmstate, entries);
	if (bm)
		s->bmstate = bm;
	if (!bat || !bm)
		return -ENOMEM;
	uint8_t *raw = malloc(len);
	if (!raw)
		return -ENOMEM;
	memset(raw, 0xff, len);
	for (uint32_t i = 0; i < s->max_entries; i++)
		put_be32(raw + 4 * (uint64_t)i, atomic_load(&s->bat[i]));
	uint64_t at = s->bat_off, end = s->end;
	bool in_place = s->bat_off + len <= first;
	int r = 0;
	if (!in_place) {
		/* The footer after the new table first, then the table. */
		at = s->end;
		end = at + len;
		r = block_file_pwrite(s->fd, s->footer, VHD_FOOTER_SIZE, end);
	}
	if (r == 0)
		r = block_file_pwrite(s->fd, raw, len, at);
	free(raw);
	if (r == 0 && fdatasync(s->fd) < 0)
		r = -errno;
	if (r < 0)
		return r;
	/* Then the header that points at it. */
	uint8_t h[VHD_HEADER_SIZE];
	memcpy(h, s->header, sizeof(h));
	vhd_put_be64(h + VH_TABLE_OFFSET, at);
	put_be32(h + VH_MAX_ENTRIES, entries);
	vhd_header_seal(h);
	r = block_file_pwrite(s->fd, h, sizeof(h), s->header_off);
	if (r < 0)
		return r;
	memcpy(s->header, h, sizeof(h));
	for (uint32_t i = s->max_entries; i < entries; i++) {
		atomic_init(&s->bat[i], VHD_BAT_FREE);
		atomic_init(&s->bmstate[i], VHD_BM_UNKNOWN);
	}
	s->bat_off = at;
	s->max_entries = entries;
	s->end = end;
	return 0;
}

int vhd_resize(struct block_dev *bd, uint64_t size, char *err, size_t errlen)
{
	struct vhd *s = bd->priv;
	if (size > VHD_MAX_SIZE) {
		snprintf(err, errlen,
			 "%s: a VHD holds at most 2040 GiB; convert it to vhdx to grow it further",
			 s->path);
		return -EFBIG;
	}
	int r;
	if (s->type == VHD_FIXED) {
		r = resize_fixed(s, size);
		goto out;
	}
	uint64_t entries = (size + s->block_size - 1) / s->block_size;
	if (entries > s->max_entries) {
		r = grow_bat(s, (uint32_t)entries);
		if (r < 0)
			goto out;
	}
	uint8_t f[VHD_FOOTER_SIZE];
	memcpy(f, s->footer, sizeof(f));
	set_size(s->footer, size);
	vhd_footer_seal(s->footer);
	r = block_file_pwrite(s->fd, s->footer, VHD_FOOTER_SIZE, s->end);
	if (r == 0)
		r = block_file_pwrite(s->fd, s->footer, VHD_FOOTER_SIZE, 0);
	if (r == 0 && fdatasync(s->fd) < 0)
		r = -errno;
	if (r < 0)
		memcpy(s->footer, f, sizeof(f));
out:
	if (r < 0)
		snprintf(err, errlen, "%s: cannot grow the image: %s", s->path, strerror(-r));
	return r;
}

/* --- check ----------------------------------------------------------------- */

struct extent {
	uint64_t off;
	uint32_t index;
};

static int by_offset(const void *a, const void *b)
{
	const struct extent *x = a, *y = b;
	return x->off < y->off ? -1 : x->off > y->off;
}

static int free_entry(struct vhd *s, uint32_t i)
{
	uint8_t e[4];
	put_be32(e, VHD_BAT_FREE);
	int r = block_file_pwrite(s->fd, e, 4, s->bat_off + 4 * (uint64_t)i);
	if (r == 0)
		atomic_store(&s->bat[i], VHD_BAT_FREE);
	return r;
}

/* Blocks missing from the file or overlapping another block. */
static int check_blocks(struct vhd *s, bool repair, struct block_check *res, uint64_t *used)
{
	uint64_t span = (uint64_t)s->bitmap_size + s->block_size;
	struct extent *x = malloc((s->max_entries ? s->max_entries : 1) * sizeof(*x));
	if (!x)
		return -ENOMEM;
	uint32_t n = 0;
	for (uint32_t i = 0; i < s->max_entries; i++) {
		uint64_t off = vhd_block_offset(s, i);
		if (!off)
			continue;
		if (!vhd_block_present(s, off)) {
			res->corruptions++;
			block_check_report(res,
					   "block %u (at 0x%llx) lies past the end of the file", i,
					   (unsigned long long)off);
			if (repair && free_entry(s, i) == 0) {
				res->repaired++;
				block_check_report(res, "block %u: unallocated (its data was lost)",
						   i);
			}
			continue;
		}
		x[n].off = off;
		x[n].index = i;
		n++;
	}
	qsort(x, n, sizeof(*x), by_offset);
	uint64_t last_end = 0;
	for (uint32_t k = 0; k < n; k++) {
		if (k && x[k].off < last_end) {
			res->corruptions++;
			block_check_report(res, "block %u (at 0x%llx) overlaps another block",
					   x[k].index, (unsigned long long)x[k].off);
			if (repair && free_entry(s, x[k].index) == 0) {
				res->repaired++;
				block_check_report(res, "block %u: unallocated", x[k].index);
			}
			continue;
		}
		last_end = x[k].off + span;
		if (last_end > *used)
			*used = last_end;
	}
	free(x);
	return 0;
}

int vhd_check(struct block_dev *bd, bool repair, struct block_check *res)
{
	struct vhd *s = bd->priv;
	if (s->type == VHD_FIXED)
		return 0; /* nothing but the footer, checked by open */
	int r = 0;
	if (s->tail_missing) {
		res->corruptions++;
		block_check_report(res, "the footer at the end of the file is missing (the image "
					"grew when its VM stopped)");
	}
	uint8_t head[VHD_FOOTER_SIZE];
	r = block_file_pread(s->fd, head, sizeof(head), 0);
	if (r < 0)
		return r;
	if (memcmp(head, s->footer, sizeof(head)) != 0) {
		res->corruptions++;
		block_check_report(res,
				   "the copy of the footer at offset 0 differs from the footer");
		if (repair && block_file_pwrite(s->fd, s->footer, VHD_FOOTER_SIZE, 0) == 0) {
			res->repaired++;
			block_check_report(res, "the copy of the footer was rewritten");
		}
	}
	uint64_t used = s->bat_off + round512(4 * (uint64_t)s->max_entries);
	if (s->header_off + VHD_HEADER_SIZE > used)
		used = s->header_off + VHD_HEADER_SIZE;
	uint64_t first_loc, loc_end = vhd_locators_end(s, 0, &first_loc);
	if (loc_end > used)
		used = loc_end;
	r = check_blocks(s, repair, res, &used);
	if (r < 0)
		return r;
	if (!s->tail_missing && used < s->end) {
		res->leaks++;
		block_check_report(res, "%llu bytes before the footer are not used by any block",
				   (unsigned long long)(s->end - used));
		if (repair) {
			r = block_file_pwrite(s->fd, s->footer, VHD_FOOTER_SIZE, used);
			if (r == 0 && ftruncate(s->fd, (off_t)(used + VHD_FOOTER_SIZE)) < 0)
				r = -errno;
			if (r < 0)
				return r;
			s->end = used;
			s->limit = used;
			s->first_new = used;
			res->repaired++;
			block_check_report(res, "the file was cut after the last block");
		}
	}
	if (repair && res->repaired && fdatasync(s->fd) < 0)
		return -errno;
	return 0;
}
