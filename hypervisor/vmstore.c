/* The VMs in the store: names and paths, listing, new VMs put in place
 * whole, the command lock and the worker's claim (flock). What osio list
 * shows of a VM is vmstore_info.c's. */
#include "hypervisor/vmstore.h"
#include "hypervisor/vmstore_int.h"

#include "hypervisor/store.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

int vmstore_check_name(const char *name, char *err, size_t errlen)
{
	size_t n = strlen(name);
	const char *why = NULL;

	if (n == 0)
		why = "it is empty";
	else if (n > 63)
		why = "it is longer than 63 characters";
	else if (name[0] == '.' || name[0] == '-' || name[0] == '_')
		why = "it starts with '.', '_' or '-'";
	for (size_t i = 0; !why && i < n; i++) {
		unsigned char c = (unsigned char)name[i];
		if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
		      c == '-' || c == '_' || c == '.'))
			why = "it has a character other than letters, digits, '-', '_' and '.'";
	}
	if (!why)
		return 0;
	snprintf(err, errlen,
		 "'%.80s' is not a valid VM name (%s): use 1-63 letters, digits, '-', '_' or '.', "
		 "starting with a letter or a digit",
		 name, why);
	return -EINVAL;
}

int vmstore_path(const char *name, const char *sub, char *buf, size_t size)
{
	char err[256], rel[PATH_BUF];
	int n;

	if (vmstore_check_name(name, err, sizeof(err)) < 0)
		return -EINVAL;
	if (sub && sub[0])
		n = snprintf(rel, sizeof(rel), "vms/%s/%s", name, sub);
	else
		n = snprintf(rel, sizeof(rel), "vms/%s", name);
	if (n < 0 || (size_t)n >= sizeof(rel))
		return -ENAMETOOLONG;
	return store_path(buf, size, rel);
}

int vmstore_vmconfig(const char *name, char *buf, size_t size)
{
	char sub[96];

	snprintf(sub, sizeof(sub), "%.64s.vmconfig", name);
	return vmstore_path(name, sub, buf, size);
}

bool vmstore_exists(const char *name)
{
	char path[PATH_BUF];
	struct stat st;

	return vmstore_vmconfig(name, path, sizeof(path)) == 0 && stat(path, &st) == 0 &&
	       S_ISREG(st.st_mode);
}

static int cmp_names(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

int vmstore_list(char ***names, unsigned *n)
{
	char dir[PATH_BUF], err[256];
	unsigned count = 0, cap = 16;
	char **v = calloc(cap + 1, sizeof(*v));
	int r = store_path(dir, sizeof(dir), "vms");

	if (!v)
		return -ENOMEM;
	if (r < 0)
		goto fail;
	DIR *d = opendir(dir);
	if (!d) {
		r = errno == ENOENT ? 0 : -errno;
		if (r < 0)
			goto fail;
		goto done;
	}
	for (struct dirent *e; (e = readdir(d));) {
		if (vmstore_check_name(e->d_name, err, sizeof(err)) < 0 ||
		    !vmstore_exists(e->d_name))
			continue;
		if (count == cap) {
			char **nv = realloc(v, (cap * 2 + 1) * sizeof(*v));
			if (!nv) {
				closedir(d);
				r = -ENOMEM;
				goto fail;
			}
			v = nv;
			cap *= 2;
		}
		if (!(v[count] = strdup(e->d_name))) {
			closedir(d);
			r = -ENOMEM;
			goto fail;
		}
		v[++count] = NULL;
	}
	closedir(d);
	qsort(v, count, sizeof(*v), cmp_names);
done:
	v[count] = NULL;
	*names = v;
	*n = count;
	return 0;
fail:
	v[count] = NULL;
	vmstore_free_names(v);
	return r;
}

void vmstore_free_names(char **names)
{
	if (!names)
		return;
	for (char **p = names; *p; p++)
		free(*p);
	free(names);
}

int vmstore_new_dir(const char *name, char *buf, size_t size, char *err, size_t errlen)
{
	char vms[PATH_BUF];
	int r;

	if ((r = vmstore_check_name(name, err, errlen)) < 0)
		return r;
	if ((r = store_create_dir("vms", vms, sizeof(vms), err, errlen)) < 0)
		return r;
	int n = snprintf(buf, size, "%s/.%s.new-XXXXXX", vms, name);
	if (n < 0 || (size_t)n >= size) {
		snprintf(err, errlen, "%s", store_path_problem(-ENAMETOOLONG));
		return -ENAMETOOLONG;
	}
	if (!mkdtemp(buf)) {
		r = -errno;
		snprintf(err, errlen, "%s: cannot create a folder there: %s", vms, strerror(errno));
		return r;
	}
	/* mkdtemp makes it 0700: the group's too in system mode, and what is
	 * made in it stays the group's (setgid, as the store's folders). */
	if (store_system_mode() && chmod(buf, store_file_mode(0700) | S_ISGID) < 0) {
		r = -errno;
		snprintf(err, errlen, "%s: %s", buf, strerror(errno));
		rmdir(buf);
		return r;
	}
	return 0;
}

static void exists_message(const char *name, const char *dir, char *err, size_t errlen)
{
	if (vmstore_exists(name))
		snprintf(err, errlen, "VM '%s' exists already; choose another name", name);
	else
		snprintf(err, errlen,
			 "%s exists but holds no VM (disks kept by osio delete --keep-disks?); "
			 "move its files away and remove it, or choose another name",
			 dir);
}

int vmstore_publish(const char *name, const char *tmpdir, char *err, size_t errlen)
{
	char dir[PATH_BUF], vms[PATH_BUF];
	int r = vmstore_path(name, NULL, dir, sizeof(dir));

	if (r < 0) {
		snprintf(err, errlen, "%s", store_path_problem(r));
		return r;
	}
	if (renameat2(AT_FDCWD, tmpdir, AT_FDCWD, dir, RENAME_NOREPLACE) < 0) {
		r = -errno;
		if (r == -EINVAL || r == -ENOSYS) {
			/* No RENAME_NOREPLACE here: rename replaces only an empty
			 * folder, so a lost race may take an empty one's place. */
			r = access(dir, F_OK) == 0 ? -EEXIST : rename(tmpdir, dir) < 0 ? -errno : 0;
		}
		if (r == -EEXIST || r == -ENOTEMPTY) {
			r = vmstore_exists(name) ? -EEXIST : -ENOTEMPTY;
			exists_message(name, dir, err, errlen);
			return r;
		}
		if (r < 0) {
			snprintf(err, errlen, "%s: cannot put the new VM there: %s", dir,
				 strerror(-r));
			return r;
		}
	}
	if (store_path(vms, sizeof(vms), "vms") == 0) {
		int fd = open(vms, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
		if (fd >= 0) {
			fsync(fd);
			close(fd);
		}
	}
	return 0;
}

/* --- locks ------------------------------------------------------------------ */

/* The first number in an open lock file ("PID ..."), 0 if none (yet): the
 * holder writes it just after taking the lock, so wait for it a little. */
static int holder_pid(int fd)
{
	for (int tries = 0; tries < 20; tries++) {
		char buf[128];
		ssize_t n = pread(fd, buf, sizeof(buf) - 1, 0);
		int pid;

		if (n > 0) {
			buf[n] = '\0';
			if (sscanf(buf, "%d", &pid) == 1 && pid > 0)
				return pid;
		}
		struct timespec ts = {0, 5 * 1000 * 1000};
		nanosleep(&ts, NULL);
	}
	return 0;
}

/* Whether fd is still the file at path (not removed or replaced since it
 * was opened). */
int vmstore_same_file(int fd, const char *path)
{
	struct stat a, b;

	if (fstat(fd, &a) < 0)
		return -errno;
	if (stat(path, &b) < 0)
		return errno == ENOENT ? 0 : -errno;
	return a.st_dev == b.st_dev && a.st_ino == b.st_ino;
}

static int write_lock_file(int fd, const char *text)
{
	size_t len = strlen(text);

	if (ftruncate(fd, 0) < 0 || pwrite(fd, text, len, 0) != (ssize_t)len)
		return -errno;
	return 0;
}

/* Opens and flocks the VM's file sub (never waiting). 0 with *fd, -EBUSY
 * with *holder (0 when not known), -ENOENT when the VM's folder is
 * missing, other -errno. */
static int lock_file(const char *name, const char *sub, int *fd, int *holder)
{
	char path[PATH_BUF];
	int r = vmstore_path(name, sub, path, sizeof(path));

	*holder = 0;
	if (r < 0)
		return r;
	for (int tries = 0; tries < 10; tries++) {
		int f =
		    open(path, O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW, store_file_mode(0600));
		if (f < 0)
			return -errno;
		/* osio list and vmstore_worker_alive hold it for a moment:
		 * only a holder that stays is one. */
		r = 0;
		for (int wait = 0; flock(f, LOCK_EX | LOCK_NB) < 0; wait++) {
			struct timespec ts = {0, 5 * 1000 * 1000};
			r = -errno;
			if (r != -EWOULDBLOCK || wait == 10)
				break;
			nanosleep(&ts, NULL);
			r = 0;
		}
		if (r < 0) {
			if (r == -EWOULDBLOCK) {
				*holder = holder_pid(f);
				r = -EBUSY;
			}
			close(f);
			return r;
		}
		/* Removed by whoever held it before us (osio delete, a dead
		 * worker's .running cleaned up): take the new one. */
		r = vmstore_same_file(f, path);
		if (r == 1) {
			*fd = f;
			return 0;
		}
		close(f);
		if (r < 0)
			return r;
		/* (A VM deleted meanwhile: the next open fails with -ENOENT.) */
	}
	return -EAGAIN;
}

static void no_such_vm(const char *name, char *err, size_t errlen)
{
	snprintf(err, errlen,
		 "there is no VM called '%s' (osio list shows them; osio create makes one)", name);
}

int vmstore_lock(const char *name, int *fd, char *err, size_t errlen)
{
	int holder, r;

	if ((r = vmstore_check_name(name, err, errlen)) < 0)
		return r;
	r = lock_file(name, ".lock", fd, &holder);
	if (r == -EBUSY) {
		if (holder)
			snprintf(
			    err, errlen,
			    "VM '%s' is busy: another osio command (pid %d) is working on it; try "
			    "again when it is done",
			    name, holder);
		else
			snprintf(
			    err, errlen,
			    "VM '%s' is busy: another osio command is working on it; try again "
			    "when it is done",
			    name);
		return r;
	}
	if (r == -ENOENT) {
		no_such_vm(name, err, errlen);
		return r;
	}
	if (r < 0) {
		snprintf(err, errlen, "VM '%s': cannot take its lock: %s", name, strerror(-r));
		return r;
	}
	char text[32];
	snprintf(text, sizeof(text), "%d\n", (int)getpid());
	write_lock_file(*fd, text);
	return 0;
}

void vmstore_unlock(int fd)
{
	if (fd < 0)
		return;
	/* The next holder writes its own pid; a loser meanwhile reads none. */
	if (ftruncate(fd, 0) < 0) {
		/* Nothing to do: the pid is only a hint. */
	}
	close(fd);
}

/* This boot of the host: /proc/sys/kernel/random/boot_id. */
void vmstore_boot_id(char out[40])
{
	FILE *f = fopen("/proc/sys/kernel/random/boot_id", "re");

	out[0] = '\0';
	if (f) {
		if (fgets(out, 40, f))
			out[strcspn(out, "\n")] = '\0';
		fclose(f);
	}
	if (!out[0])
		snprintf(out, 40, "unknown");
}

uint64_t vmstore_now_ns(clockid_t clk)
{
	struct timespec ts;

	clock_gettime(clk, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

int vmstore_worker_claim(const char *name, int *fd, char *err, size_t errlen)
{
	char id[40], text[128], path[PATH_BUF], msg[256];
	int holder, r;

	if ((r = vmstore_check_name(name, err, errlen)) < 0)
		return r;
	r = lock_file(name, ".running", fd, &holder);
	if (r == -EBUSY) {
		if (holder)
			snprintf(err, errlen, "VM '%s' is already running (pid %d)", name, holder);
		else
			snprintf(err, errlen, "VM '%s' is already running", name);
		return r;
	}
	if (r == -ENOENT) {
		no_such_vm(name, err, errlen);
		return r;
	}
	if (r < 0) {
		snprintf(err, errlen, "VM '%s': cannot claim it: %s", name, strerror(-r));
		return r;
	}
	/* Starting again ends Crashed. */
	if (vmstore_path(name, ".crashed", path, sizeof(path)) == 0)
		store_remove(path, msg, sizeof(msg));
	/* PID BOOT_ID START_TIME: START_TIME is CLOCK_BOOTTIME in ns, which
	 * means something only during the boot BOOT_ID names. */
	vmstore_boot_id(id);
	snprintf(text, sizeof(text), "%d %s %" PRIu64 "\n", (int)getpid(), id,
		 vmstore_now_ns(CLOCK_BOOTTIME));
	if ((r = write_lock_file(*fd, text)) < 0 || fsync(*fd) < 0) {
		r = r < 0 ? r : -errno;
		snprintf(err, errlen, "VM '%s': cannot write its .running file: %s", name,
			 strerror(-r));
		close(*fd);
		*fd = -1;
		return r;
	}
	return 0;
}

void vmstore_worker_release(const char *name, int fd)
{
	char path[PATH_BUF], err[256];

	if (fd < 0)
		return;
	if (vmstore_path(name, ".running", path, sizeof(path)) == 0 &&
	    vmstore_same_file(fd, path) == 1)
		store_remove(path, err, sizeof(err));
	close(fd);
}

bool vmstore_worker_alive(const char *name, int *pid)
{
	char path[PATH_BUF];
	bool held = false;
	int fd;

	if (pid)
		*pid = 0;
	if (vmstore_path(name, ".running", path, sizeof(path)) < 0 ||
	    (fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW)) < 0)
		return false;
	if (flock(fd, LOCK_SH | LOCK_NB) < 0) {
		held = errno == EWOULDBLOCK;
		if (held && pid)
			*pid = holder_pid(fd);
	}
	close(fd);
	return held;
}
