/* The raw format's image-level operations: creating a sparse file or one
 * with all its space allocated (with progress), info, and growing. */
#include "devices/block/raw_ops.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define ALLOC_STEP (256ull << 20) /* bytes allocated between progress reports */

int raw_create(int fd, const char *path, const struct block_create_opts *o,
	       struct block_dev *parent, char *err, size_t errlen)
{
	if (parent || (o->parent && *o->parent)) {
		snprintf(
		    err, errlen,
		    "%s: raw images have no parent; use qcow2, vhdx or vhd for a differencing disk",
		    path);
		return -EINVAL;
	}
	if (o->size > (uint64_t)INT64_MAX) {
		snprintf(err, errlen, "%s: %llu bytes is too large", path,
			 (unsigned long long)o->size);
		return -EFBIG;
	}
	if (!o->fixed) {
		if (ftruncate(fd, (off_t)o->size) < 0) {
			int e = errno;
			snprintf(err, errlen, "%s: cannot set the size to %llu bytes: %s", path,
				 (unsigned long long)o->size, strerror(e));
			return -e;
		}
		return 0;
	}
	for (uint64_t done = 0; done < o->size;) {
		uint64_t n = o->size - done < ALLOC_STEP ? o->size - done : ALLOC_STEP;
		/* posix_fallocate writes zeroes where the file system cannot. */
		int e = posix_fallocate(fd, (off_t)done, (off_t)n);
		if (e) {
			snprintf(err, errlen, "%s: cannot allocate %llu bytes: %s%s", path,
				 (unsigned long long)o->size, strerror(e),
				 e == ENOSPC ? " (choose a sparse image or free some space)" : "");
			return -e;
		}
		done += n;
		if (o->progress && o->progress(o->opaque, done, o->size))
			return -EINTR;
	}
	return 0;
}

int raw_info(struct block_dev *bd, struct block_info *info)
{
	struct stat st;
	if (stat(block_path(bd), &st) < 0)
		return -errno;
	if (S_ISBLK(st.st_mode))
		snprintf(info->subformat, sizeof(info->subformat), "block device");
	else if (info->allocated >= info->file_size)
		snprintf(info->subformat, sizeof(info->subformat), "fully allocated");
	else
		snprintf(info->subformat, sizeof(info->subformat), "sparse");
	return 0;
}

int raw_resize(struct block_dev *bd, uint64_t size, char *err, size_t errlen)
{
	const char *path = block_path(bd);
	struct stat st;
	if (stat(path, &st) < 0) {
		int e = errno;
		snprintf(err, errlen, "%s: cannot resize: %s", path, strerror(e));
		return -e;
	}
	if (S_ISBLK(st.st_mode)) {
		snprintf(err, errlen,
			 "%s: a block device's size is the device's; grow the device (e.g. "
			 "lvextend) instead",
			 path);
		return -EOPNOTSUPP;
	}
	if (size > (uint64_t)INT64_MAX || size < (uint64_t)st.st_size) {
		snprintf(err, errlen, "%s: cannot resize to %llu bytes (only growing is allowed)",
			 path, (unsigned long long)size);
		return -EINVAL;
	}
	/* A second open file description: the image's lock stays with the
	 * driver's own. The new space is a hole, reading as zeroes. */
	int fd = open(path, O_WRONLY | O_CLOEXEC | O_NOCTTY);
	if (fd < 0 || ftruncate(fd, (off_t)size) < 0 || fsync(fd) < 0) {
		int e = errno;
		if (fd >= 0)
			close(fd);
		snprintf(err, errlen, "%s: cannot grow the file: %s", path, strerror(e));
		return -e;
	}
	close(fd);
	return 0;
}
