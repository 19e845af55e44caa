/* Image-level operations over the format drivers: creating an image (and
 * removing a half-made one), what an image says about itself, growing it,
 * and checking its metadata. */
#include "devices/block/block.h"

#include "devices/block/block_driver.h"
#include "hypervisor/store.h"

#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

/* The parent as the new image will name it, opened from the new image's
 * folder the way block_open_backing will find it. */
static int open_parent(const char *path, const struct block_create_opts *o, struct block_dev **out,
		       char *err, size_t errlen)
{
	char full[PATH_MAX];
	const char *name = o->parent;
	if (name[0] != '/' && strchr(path, '/')) {
		const char *slash = strrchr(path, '/');
		int n = snprintf(full, sizeof(full), "%.*s/%s", (int)(slash - path), path, name);
		if (n < 0 || (size_t)n >= sizeof(full)) {
			block_set_err(err, errlen, "%s: the parent's name is too long", path);
			return -ENAMETOOLONG;
		}
		name = full;
	}
	char perr[512];
	int r = block_open(name, o->parent_format, BLOCK_RDONLY, out, perr, sizeof(perr));
	if (r < 0)
		block_set_err(err, errlen, "%s: the parent: %s", path, perr);
	return r;
}

int block_create(const char *path, const char *format, const struct block_create_opts *opts,
		 char *err, size_t errlen)
{
	const struct block_driver *drv = block_driver_find(format ? format : "raw");
	if (!drv || !drv->create) {
		block_set_err(
		    err, errlen,
		    "%s: cannot create images of format '%s' (known: raw, vhdx, vhd, qcow2)", path,
		    format ? format : "raw");
		return -EINVAL;
	}
	struct block_dev *parent = NULL;
	int r;
	if (opts->parent && *opts->parent &&
	    (r = open_parent(path, opts, &parent, err, errlen)) < 0)
		return r;
	r = block_create_with(path, drv, opts, parent, err, errlen);
	block_close(parent);
	return r;
}

int block_create_with(const char *path, const struct block_driver *drv,
		      const struct block_create_opts *opts, struct block_dev *parent, char *err,
		      size_t errlen)
{
	struct block_create_opts o = *opts;
	int r;
	if (!drv->create) {
		block_set_err(err, errlen, "%s: cannot create images of format '%s'", path,
			      drv->name);
		return -EINVAL;
	}
	if (parent) {
		if (!o.size)
			o.size = block_size(parent);
		if (o.fixed) {
			block_set_err(err, errlen, "%s: a differencing image cannot be fixed-size",
				      path);
			r = -EINVAL;
			goto out;
		}
	} else {
		o.parent = NULL;
	}
	if (!o.size || o.size % BLOCK_SECTOR) {
		block_set_err(err, errlen, "%s: the size must be a nonzero multiple of %u bytes",
			      path, BLOCK_SECTOR);
		r = -EINVAL;
		goto out;
	}
	if (o.logical_sector && o.logical_sector != 512 && o.logical_sector != 4096) {
		block_set_err(err, errlen, "%s: the sector size must be 512 or 4096", path);
		r = -EINVAL;
		goto out;
	}
	int fd =
	    open(path, O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC | O_NOCTTY, store_file_mode(0644));
	if (fd < 0) {
		r = -errno;
		if (r == -EEXIST)
			block_set_err(err, errlen,
				      "%s: exists already; choose another name or delete it first",
				      path);
		else
			block_set_err(err, errlen, "%s: cannot create: %s", path, strerror(-r));
		goto out;
	}
	/* Nobody opens the image while it is being written. */
	struct flock fl = {.l_type = F_WRLCK, .l_whence = SEEK_SET};
	(void)fcntl(fd, F_OFD_SETLK, &fl);
	block_set_err(err, errlen, "%s: cannot create", path);
	r = drv->create(fd, path, &o, parent, err, errlen);
	if (r == 0 && fsync(fd) < 0) {
		r = -errno;
		block_set_err(err, errlen, "%s: cannot write: %s", path, strerror(-r));
	}
	close(fd);
	if (r < 0)
		unlink(path);
out:
	return r;
}

int block_get_info(struct block_dev *bd, struct block_info *info)
{
	memset(info, 0, sizeof(*info));
	snprintf(info->format, sizeof(info->format), "%s", bd->drv->name);
	info->virtual_size = bd->size;
	info->logical_sector = bd->logical_sector;
	info->physical_sector = bd->logical_sector;
	struct stat st;
	if (stat(bd->path, &st) == 0) {
		info->file_size = (uint64_t)st.st_size;
		info->allocated = (uint64_t)st.st_blocks * 512;
	}
	return bd->drv->info ? bd->drv->info(bd, info) : 0;
}

struct block_dev *block_backing(const struct block_dev *bd)
{
	return bd->backing;
}

unsigned block_logical_sector(const struct block_dev *bd)
{
	return bd->logical_sector;
}

int block_resize(struct block_dev *bd, uint64_t size, char *err, size_t errlen)
{
	if (bd->readonly) {
		block_set_err(err, errlen, "%s: opened read-only; cannot resize", bd->path);
		return -EROFS;
	}
	if (size % BLOCK_SECTOR) {
		block_set_err(err, errlen, "%s: the new size must be a multiple of %u bytes",
			      bd->path, BLOCK_SECTOR);
		return -EINVAL;
	}
	if (size < bd->size) {
		block_set_err(
		    err, errlen,
		    "%s: shrinking would cut off the disk's end and the data there; "
		    "shrink the partitions in the guest and convert to a smaller image instead",
		    bd->path);
		return -EINVAL;
	}
	if (size == bd->size)
		return 0;
	if (!bd->drv->resize) {
		block_set_err(err, errlen, "%s: %s images cannot be resized", bd->path,
			      bd->drv->name);
		return -EOPNOTSUPP;
	}
	block_drain(bd);
	block_set_err(err, errlen, "%s: cannot resize", bd->path);
	int r = bd->drv->resize(bd, size, err, errlen);
	if (r == 0)
		bd->size = size;
	return r;
}

void block_check_vreport(struct block_check *res, const char *fmt, va_list ap)
{
	if (!res || !res->report)
		return;
	char line[512];
	vsnprintf(line, sizeof(line), fmt, ap);
	res->report(res->opaque, line);
}

void block_check_report(struct block_check *res, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	block_check_vreport(res, fmt, ap);
	va_end(ap);
}

int block_check(struct block_dev *bd, bool repair, struct block_check *res)
{
	res->corruptions = res->leaks = res->repaired = 0;
	if (repair && bd->readonly)
		return -EROFS;
	if (!bd->drv->check)
		return 0; /* raw: no metadata */
	block_drain(bd);
	return bd->drv->check(bd, repair, res);
}
