/* The VM store's root, its private folders, and crash-safe file writes in
 * it. */
#include "hypervisor/store.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

int store_path(char *buf, size_t size, const char *sub)
{
	const char *own = getenv("OSIO_STORE_DIR"), *xdg = getenv("XDG_DATA_HOME");
	const char *home = getenv("HOME");
	const char *sep = sub && sub[0] ? "/" : "", *rest = sub ? sub : "";
	int n;

	if (own && own[0]) {
		if (own[0] != '/')
			return -EINVAL;
		n = snprintf(buf, size, "%s%s%s", own, sep, rest);
	} else if (geteuid() == 0) {
		n = snprintf(buf, size, "/var/lib/osio%s%s", sep, rest);
	} else if (xdg && xdg[0]) {
		if (xdg[0] != '/')
			return -EINVAL;
		n = snprintf(buf, size, "%s/osio%s%s", xdg, sep, rest);
	} else if (home && home[0] == '/') {
		n = snprintf(buf, size, "%s/.local/share/osio%s%s", home, sep, rest);
	} else {
		return -ENOENT;
	}
	return n < 0 || (size_t)n >= size ? -ENAMETOOLONG : 0;
}

const char *store_path_problem(int err)
{
	switch (err) {
	case -EINVAL:
		return "the VM store's folder must be an absolute path: fix OSIO_STORE_DIR or "
		       "XDG_DATA_HOME";
	case -ENOENT:
		return "no folder for the VM store: set HOME, XDG_DATA_HOME or OSIO_STORE_DIR";
	case -ENAMETOOLONG:
		return "the VM store's path is too long: set OSIO_STORE_DIR to a shorter path";
	default:
		return strerror(-err);
	}
}

/* Whether path is a directory of ours that nobody else can write to. */
static int check_private(const char *path, char *err, size_t errlen)
{
	struct stat st;

	if (stat(path, &st) < 0) {
		int r = -errno;
		snprintf(err, errlen, "%s: %s", path, strerror(errno));
		return r;
	}
	if (!S_ISDIR(st.st_mode)) {
		snprintf(err, errlen,
			 "%s: not a folder; move it away so that the VM store can use "
			 "this name",
			 path);
		return -ENOTDIR;
	}
	if (st.st_uid != geteuid() || (st.st_mode & 022)) {
		snprintf(
		    err, errlen,
		    "%s: the VM store's folder must belong to uid %u and be writable only by it "
		    "(it has uid %u, mode %03o): fix its owner and mode",
		    path, (unsigned)geteuid(), (unsigned)st.st_uid, (unsigned)(st.st_mode & 07777));
		return -EPERM;
	}
	return 0;
}

static int make_dir(const char *path, char *err, size_t errlen)
{
	if (mkdir(path, 0700) < 0 && errno != EEXIST) {
		int r = -errno;
		snprintf(err, errlen, "%s: cannot create the folder: %s", path, strerror(errno));
		return r;
	}
	return 0;
}

int store_create_dir(const char *sub, char *buf, size_t size, char *err, size_t errlen)
{
	int r = store_path(buf, size, NULL);
	if (r < 0) {
		snprintf(err, errlen, "%s", store_path_problem(r));
		return r;
	}
	size_t root_len = strlen(buf);
	/* The folders above the root (~/.local/share may not exist yet). */
	for (char *p = strchr(buf + 1, '/'); p; p = strchr(p + 1, '/')) {
		*p = '\0';
		r = make_dir(buf, err, errlen);
		*p = '/';
		if (r < 0)
			return r;
	}
	if ((r = make_dir(buf, err, errlen)) < 0 || (r = check_private(buf, err, errlen)) < 0)
		return r;
	if (!sub || !sub[0])
		return 0;
	if (root_len + 1 + strlen(sub) >= size) {
		snprintf(err, errlen, "%s", store_path_problem(-ENAMETOOLONG));
		return -ENAMETOOLONG;
	}
	buf[root_len] = '/';
	strcpy(buf + root_len + 1, sub);
	/* Each folder of sub in turn. */
	for (char *p = strchr(buf + root_len + 1, '/');; p = strchr(p + 1, '/')) {
		if (p)
			*p = '\0';
		r = make_dir(buf, err, errlen);
		if (r == 0)
			r = check_private(buf, err, errlen);
		if (p)
			*p = '/';
		if (r < 0 || !p)
			return r;
	}
}

/* The folder of path into dir ("." when it has none). */
static int dir_of(const char *path, char *dir, size_t size)
{
	const char *slash = strrchr(path, '/');
	size_t n = slash ? (size_t)(slash - path) : 1;

	if (n >= size)
		return -ENAMETOOLONG;
	if (!slash)
		memcpy(dir, ".", 1);
	else if (n == 0)
		memcpy(dir, "/", ++n);
	else
		memcpy(dir, path, n);
	dir[n] = '\0';
	return 0;
}

int store_sync_dir(const char *dir)
{
	int fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	int r = fsync(fd) < 0 ? -errno : 0;
	close(fd);
	return r;
}

static int write_all(int fd, const void *data, size_t len)
{
	const char *p = data;
	while (len) {
		ssize_t n = write(fd, p, len);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			return -errno;
		}
		p += n;
		len -= (size_t)n;
	}
	return 0;
}

/* Moves tmp to path; without replace only if path does not exist. */
static int move_into_place(const char *tmp, const char *path, bool replace)
{
	if (replace)
		return rename(tmp, path) < 0 ? -errno : 0;
	if (renameat2(AT_FDCWD, tmp, AT_FDCWD, path, RENAME_NOREPLACE) == 0)
		return 0;
	if (errno != EINVAL && errno != ENOSYS)
		return -errno;
	/* A file system without RENAME_NOREPLACE: link fails if path exists. */
	if (link(tmp, path) < 0)
		return -errno;
	unlink(tmp);
	return 0;
}

int store_write_atomic(const char *path, const void *data, size_t len, unsigned mode, bool replace,
		       char *err, size_t errlen)
{
	char dir[4096], tmp[4096 + 32];
	const char *base = strrchr(path, '/');
	int fd, r;

	base = base ? base + 1 : path;
	if (dir_of(path, dir, sizeof(dir)) < 0 ||
	    (size_t)snprintf(tmp, sizeof(tmp), "%s/.%s.tmp-XXXXXX", dir, base) >= sizeof(tmp)) {
		snprintf(err, errlen, "%s: the path is too long", path);
		return -ENAMETOOLONG;
	}
	fd = mkostemp(tmp, O_CLOEXEC);
	if (fd < 0) {
		r = -errno;
		snprintf(err, errlen, "%s: cannot create a file in %s: %s", path, dir,
			 strerror(errno));
		return r;
	}
	if (fchmod(fd, mode & 07777) < 0 || (r = write_all(fd, data, len)) < 0 || fsync(fd) < 0) {
		r = -errno;
		snprintf(err, errlen, "%s: cannot write it: %s", path, strerror(errno));
		close(fd);
		goto out_unlink;
	}
	if (close(fd) < 0) {
		r = -errno;
		snprintf(err, errlen, "%s: cannot write it: %s", path, strerror(errno));
		goto out_unlink;
	}
	r = move_into_place(tmp, path, replace);
	if (r < 0) {
		if (r == -EEXIST)
			snprintf(err, errlen, "%s: already exists", path);
		else
			snprintf(err, errlen, "%s: cannot put it in place: %s", path, strerror(-r));
		goto out_unlink;
	}
	r = store_sync_dir(dir);
	if (r < 0)
		snprintf(err, errlen, "%s: cannot sync its folder: %s", path, strerror(-r));
	return r;

out_unlink:
	unlink(tmp);
	return r;
}

int store_remove(const char *path, char *err, size_t errlen)
{
	char dir[4096];
	int r;

	if (unlink(path) < 0) {
		r = -errno;
		if (r != -ENOENT)
			snprintf(err, errlen, "%s: cannot remove it: %s", path, strerror(errno));
		return r;
	}
	if (dir_of(path, dir, sizeof(dir)) == 0 && (r = store_sync_dir(dir)) < 0) {
		snprintf(err, errlen, "%s: cannot sync its folder: %s", path, strerror(-r));
		return r;
	}
	return 0;
}
