/* Host files of disk images, for every format driver: opening with the
 * image lock (and a message naming whoever holds it) and zeroing a range
 * (whole-length reads and writes: block_driver.h over hypervisor/fileio.h). */
#include "devices/block/block_driver.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <linux/fs.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <unistd.h>

/* --- who holds the lock ---------------------------------------------------- */

/* The number a /proc entry is named after, or -1. */
static long entry_number(const char *s)
{
	if (!*s || strlen(s) > 9)
		return -1;
	for (const char *p = s; *p; p++)
		if (*p < '0' || *p > '9')
			return -1;
	return atol(s);
}

/* Whether /proc/<pid>/fdinfo/<fd> lists a lock (kernels since 4.x do). */
static bool fd_has_lock(long pid, long fd)
{
	char path[64], line[256];
	snprintf(path, sizeof(path), "/proc/%ld/fdinfo/%ld", pid, fd);
	FILE *f = fopen(path, "re");
	if (!f)
		return false;
	bool found = false;
	while (fgets(line, sizeof(line), f))
		if (strncmp(line, "lock:", 5) == 0)
			found = true;
	fclose(f);
	return found;
}

/* Whether process pid has the file open other than through our own `ourfd`;
 * *locked says whether that open file holds a lock. */
static bool process_has_open(long pid, const struct stat *st, int ourfd, bool *locked)
{
	char fddir[32];
	snprintf(fddir, sizeof(fddir), "/proc/%ld/fd", pid);
	DIR *fds = opendir(fddir);
	if (!fds)
		return false; /* another user's process, or gone */
	bool found = false;
	*locked = false;
	struct dirent *fe;
	while ((fe = readdir(fds))) {
		long fd = entry_number(fe->d_name);
		if (fd < 0 || (pid == (long)getpid() && fd == ourfd))
			continue;
		char link[64];
		struct stat fst;
		snprintf(link, sizeof(link), "%s/%ld", fddir, fd);
		if (stat(link, &fst) < 0 || fst.st_dev != st->st_dev || fst.st_ino != st->st_ino)
			continue;
		found = true;
		if (fd_has_lock(pid, fd)) {
			*locked = true;
			break;
		}
	}
	closedir(fds);
	return found;
}

/* "process 1234 (osio)" for a process that has the file open, preferring one
 * that holds a lock on it; "" if none can be seen. *self: it is this one. */
static void find_holder(const struct stat *st, int ourfd, char *out, size_t outlen, bool *self)
{
	long best = -1;
	bool best_locked = false;
	out[0] = 0;
	*self = false;
	DIR *proc = opendir("/proc");
	if (!proc)
		return;
	struct dirent *pe;
	while (!best_locked && (pe = readdir(proc))) {
		long pid = entry_number(pe->d_name);
		bool locked;
		if (pid <= 0 || !process_has_open(pid, st, ourfd, &locked))
			continue;
		if (best < 0 || locked) {
			best = pid;
			best_locked = locked;
		}
	}
	closedir(proc);
	if (best < 0)
		return;
	*self = best == (long)getpid();
	char comm_path[32], comm[32] = "?";
	snprintf(comm_path, sizeof(comm_path), "/proc/%ld/comm", best);
	FILE *f = fopen(comm_path, "re");
	if (f) {
		if (fgets(comm, sizeof(comm), f))
			comm[strcspn(comm, "\n")] = 0;
		fclose(f);
	}
	snprintf(out, outlen, "process %ld (%s)", best, comm);
}

/* An open file description lock over the whole file: exclusive for writers,
 * shared for readers. Filesystems without locks are used unlocked. */
static int take_lock(int fd, const char *path, const struct stat *st, bool readonly, char *err,
		     size_t errlen)
{
	struct flock fl = {
	    .l_type = readonly ? F_RDLCK : F_WRLCK, .l_whence = SEEK_SET, .l_start = 0, .l_len = 0};
	if (fcntl(fd, F_OFD_SETLK, &fl) == 0)
		return 0;
	int e = errno;
	if (e == EINVAL || e == ENOLCK || e == EOPNOTSUPP)
		return 0;
	if (e != EAGAIN && e != EACCES) {
		snprintf(err, errlen, "%s: cannot lock the image: %s", path, strerror(e));
		return -e;
	}
	char holder[96];
	bool self;
	find_holder(st, fd, holder, sizeof(holder), &self);
	if (self)
		snprintf(err, errlen,
			 "%s: the image is already open%s in this VM; give each drive its own "
			 "image, or attach it read-only everywhere",
			 path, readonly ? " read-write" : "");
	else if (readonly)
		snprintf(err, errlen,
			 "%s: the image is open read-write by %s; stop that VM before "
			 "using the image elsewhere",
			 path, holder[0] ? holder : "another process");
	else
		snprintf(err, errlen,
			 "%s: the image is in use by %s; an image can be open read-write in one "
			 "VM at a time: stop that VM, or attach the image read-only",
			 path, holder[0] ? holder : "another process");
	return -EBUSY;
}

/* --- open ------------------------------------------------------------------ */

/* Takes over bd's descriptor from block_open_fd: -errno when it is not open
 * for what the image needs. */
static int take_given(struct block_dev *bd, const char *path, bool ro, char *err, size_t errlen)
{
	int fd = bd->src_fd;
	bd->src_given = false;
	bd->src_fd = -1;
	int fl = fcntl(fd, F_GETFL);
	int mode = fl < 0 ? -1 : fl & O_ACCMODE;
	if (mode == O_RDWR || (ro && mode == O_RDONLY))
		return fd;
	if (fl < 0)
		snprintf(err, errlen, "%s: the descriptor given for it is not usable: %s", path,
			 strerror(errno));
	else
		snprintf(err, errlen, "%s: the descriptor given for it is open %s; it must be open "
			 "for %s",
			 path, mode == O_WRONLY ? "for writing only" : "for reading only",
			 ro ? "reading" : "reading and writing");
	close(fd);
	return fl < 0 ? -EBADF : -EACCES;
}

int block_file_open(struct block_dev *bd, const char *path, unsigned flags, int *fdp,
		    struct stat *st, char *err, size_t errlen)
{
	bool ro = flags & BLOCK_RDONLY;
	*fdp = -1;
	int fd;
	if (bd && bd->src_given) {
		fd = take_given(bd, path, ro, err, errlen);
		if (fd < 0)
			return fd;
	} else {
		fd = open(path, (ro ? O_RDONLY : O_RDWR) | O_CLOEXEC | O_NOCTTY);
	}
	if (fd < 0) {
		int e = errno;
		if (e == ENOENT)
			snprintf(err, errlen, "%s: no such file; check the path", path);
		else if ((e == EACCES || e == EROFS || e == EPERM) && !ro)
			snprintf(err, errlen,
				 "%s: cannot open for writing (%s); fix its permissions or "
				 "attach it read-only",
				 path, strerror(e));
		else if (e == EISDIR)
			snprintf(err, errlen, "%s: is a directory, not a disk image", path);
		else
			snprintf(err, errlen, "%s: cannot open: %s", path, strerror(e));
		return -e;
	}
	int r;
	if (fstat(fd, st) < 0) {
		r = -errno;
		snprintf(err, errlen, "%s: cannot stat: %s", path, strerror(-r));
		goto fail;
	}
	if (!S_ISREG(st->st_mode) && !S_ISBLK(st->st_mode)) {
		r = -EINVAL;
		snprintf(err, errlen, "%s: %s, not a disk image (a regular file or block device)",
			 path, S_ISDIR(st->st_mode) ? "is a directory" : "is a special file");
		goto fail;
	}
	if (S_ISBLK(st->st_mode)) {
		uint64_t size;
		if (ioctl(fd, BLKGETSIZE64, &size) < 0) {
			r = -errno;
			snprintf(err, errlen, "%s: cannot read the block device's size: %s", path,
				 strerror(-r));
			goto fail;
		}
		st->st_size = (off_t)size;
	}
	r = ro && (flags & BLOCK_SHARE) ? 0 : take_lock(fd, path, st, ro, err, errlen);
	if (r < 0)
		goto fail;
	*fdp = fd;
	return 0;
fail:
	close(fd);
	return r;
}

/* --- zeroing a range ------------------------------------------------------ */

int block_file_zero(int fd, uint64_t off, uint64_t len)
{
	if (!len)
		return 0;
	if (fallocate(fd, FALLOC_FL_ZERO_RANGE, (off_t)off, (off_t)len) == 0)
		return 0;
	if (errno != EOPNOTSUPP && errno != ENOSYS && errno != EINVAL)
		return -errno;
	return file_pwrite_zeroes(fd, off, len);
}
