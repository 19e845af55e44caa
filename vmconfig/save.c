/* Writing a vmconfig back crash-safely: a temp file beside the old one,
 * flushed and renamed over it; the old file stays intact on any failure. */
#include "vmconfig/internal.h"

#include "hypervisor/fileio.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

/* Creates "DIR/.BASE.tmpXXXXXX" with mode 0666 less the umask (as a new file
 * would get); fills tmp. */
static int create_temp(const char *path, char *tmp, size_t size)
{
	const char *slash = strrchr(path, '/');
	size_t dirlen = slash ? (size_t)(slash - path) + 1 : 0;
	struct timespec ts;
	unsigned seed;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	seed = (unsigned)ts.tv_nsec ^ (unsigned)getpid() << 16;
	for (int tries = 0; tries < 100; tries++) {
		int n, fd;

		seed = seed * 1103515245u + 12345u;
		n = snprintf(tmp, size, "%.*s.%s.tmp%06x", (int)dirlen, path, path + dirlen,
			     seed & 0xffffff);
		if (n < 0 || (size_t)n >= size)
			return -ENAMETOOLONG;
		fd = open(tmp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0666);
		if (fd >= 0 || errno != EEXIST)
			return fd >= 0 ? fd : -errno;
	}
	return -EEXIST;
}

static int sync_dir(const char *path)
{
	const char *slash = strrchr(path, '/');
	char dir[PATH_MAX];
	int fd, r = 0;

	if (!slash)
		snprintf(dir, sizeof(dir), ".");
	else if (slash == path)
		snprintf(dir, sizeof(dir), "/");
	else
		snprintf(dir, sizeof(dir), "%.*s", (int)(slash - path), path);
	fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	/* Some file systems cannot flush a directory (EINVAL): nothing to do. */
	if (fsync(fd) && errno != EINVAL)
		r = -errno;
	close(fd);
	return r;
}

int vmconfig_save(const struct vmconfig *cfg, const char *path)
{
	char tmp[PATH_MAX], *target = NULL, *text = NULL;
	struct stat st, old;
	bool existed;
	size_t len;
	int fd = -1, r;

	if (!path)
		path = cfg->path;
	if (!path || !path[0])
		return -EINVAL;
	/* Through a symbolic link: replace its target, keep the link. */
	if (lstat(path, &st) == 0 && S_ISLNK(st.st_mode)) {
		target = realpath(path, NULL);
		if (!target)
			return -errno;
		path = target;
	}
	existed = stat(path, &old) == 0;
	if (existed && !S_ISREG(old.st_mode)) {
		r = -EISDIR;
		if (!S_ISDIR(old.st_mode))
			r = -EINVAL;
		goto out;
	}
	text = vmconfig_format(cfg, &len);
	if (!text) {
		r = -ENOMEM;
		goto out;
	}
	fd = create_temp(path, tmp, sizeof(tmp));
	if (fd < 0) {
		r = fd;
		goto out;
	}
	/* The new file keeps the old one's permissions and, where allowed,
	 * its owner. */
	if (existed) {
		int ignored = fchown(fd, old.st_uid, old.st_gid); /* EPERM: stays ours */

		(void)ignored;
		if (fchmod(fd, old.st_mode & 07777)) {
			r = -errno;
			goto unlink;
		}
	}
	r = file_write_all(fd, text, len);
	if (r)
		goto unlink;
	if (fsync(fd)) {
		r = -errno;
		goto unlink;
	}
	r = close(fd) ? -errno : 0;
	fd = -1;
	if (r)
		goto unlink;
	if (rename(tmp, path)) {
		r = -errno;
		goto unlink;
	}
	r = sync_dir(path);
	goto out;
unlink:
	if (fd >= 0)
		close(fd);
	fd = -1;
	unlink(tmp);
out:
	free(text);
	free(target);
	return r;
}
