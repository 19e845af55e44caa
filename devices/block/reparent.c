/* Reconnecting a differencing image to its moved parent (block_set_parent):
 * the format-independent part (finding the child's driver, opening and
 * vetting the new parent) in front of each driver's set_parent. */
#include "devices/block/block_driver.h"

#include <errno.h>
#include <libgen.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* name resolved against the folder of the image at child, into out. */
static int parent_path(const char *child, const char *name, char *out, size_t outlen)
{
	int n;
	if (name[0] == '/') {
		n = snprintf(out, outlen, "%s", name);
	} else {
		char *dup = strdup(child);
		if (!dup)
			return -ENOMEM;
		n = snprintf(out, outlen, "%s/%s", dirname(dup), name);
		free(dup);
	}
	return n < 0 || (size_t)n >= outlen ? -ENAMETOOLONG : 0;
}

/* Whether the image at path (dev/ino) is p or one of p's parents. */
static bool in_chain(const struct block_dev *p, dev_t dev, ino_t ino)
{
	for (; p; p = block_backing(p))
		if (p->dev == dev && p->ino == ino)
			return true;
	return false;
}

int block_set_parent(const char *path, const char *parent, bool force, char *err, size_t errlen)
{
	if (!parent || !*parent) {
		block_set_err(err, errlen, "%s: the new parent's file name is empty", path);
		return -EINVAL;
	}
	const struct block_driver *drv;
	int r = block_probe(path, &drv, err, errlen);
	if (r < 0)
		return r;
	if (!drv->set_parent) {
		block_set_err(err, errlen,
			      "%s: a %s image has no parent to reconnect (only VHDX, VHD and qcow2 "
			      "differencing images have one)",
			      path, drv->name);
		return -EINVAL;
	}
	char full[PATH_MAX];
	r = parent_path(path, parent, full, sizeof(full));
	if (r < 0) {
		block_set_err(err, errlen, "%s: the parent's name %s is too long", path, parent);
		return r;
	}
	struct stat st;
	if (stat(path, &st) < 0) {
		r = -errno;
		block_set_err(err, errlen, "%s: %s", path, strerror(errno));
		return r;
	}
	struct stat pst;
	if (stat(full, &pst) == 0 && pst.st_dev == st.st_dev && pst.st_ino == st.st_ino) {
		block_set_err(err, errlen, "%s: %s is this image; a disk cannot be its own parent",
			      path, full);
		return -ELOOP;
	}
	struct block_dev *p;
	char perr[512];
	r = block_open(full, NULL, BLOCK_RDONLY, &p, perr, sizeof(perr));
	if (r < 0) {
		block_set_err(err, errlen, "%s: cannot open the new parent: %s", path, perr);
		return r;
	}
	if (in_chain(p, st.st_dev, st.st_ino)) {
		block_set_err(
		    err, errlen,
		    "%s: %s is this image or one of its own parents; a disk cannot be its "
		    "own parent",
		    path, full);
		r = -ELOOP;
		goto out;
	}
	r = drv->set_parent(path, parent, p, force, err, errlen);
out:
	block_close(p);
	return r;
}
