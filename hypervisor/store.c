/* The VM store's root, its folders (private to the user, or shared by the
 * group osio in system mode), and crash-safe file writes in it. */
#include "hypervisor/store.h"

#include "hypervisor/fileio.h"

#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

bool store_system_mode(void)
{
	const char *sys = getenv("OSIO_SYSTEM"), *own = getenv("OSIO_STORE_DIR");
	if (sys && sys[0])
		return strcmp(sys, "0") != 0;
	return geteuid() == 0 && !(own && own[0]);
}

unsigned store_file_mode(unsigned mode)
{
	return store_system_mode() ? mode | ((mode & 0700) >> 3) : mode;
}

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
	} else if (store_system_mode()) {
		n = snprintf(buf, size, "%s%s%s", STORE_SYSTEM_DIR, sep, rest);
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

bool store_in_group(gid_t gid)
{
	if (geteuid() == 0 || getegid() == gid)
		return true;
	int n = getgroups(0, NULL);
	if (n <= 0)
		return false;
	gid_t *list = calloc((size_t)n, sizeof(*list));
	bool in = false;
	if (list && (n = getgroups(n, list)) > 0)
		for (int i = 0; i < n && !in; i++)
			in = list[i] == gid;
	free(list);
	return in;
}

static void group_name(gid_t gid, char *buf, size_t size)
{
	struct group gr, *res = NULL;
	char tmp[1024];
	if (getgrgid_r(gid, &gr, tmp, sizeof(tmp), &res) == 0 && res)
		snprintf(buf, size, "%s", gr.gr_name);
	else
		snprintf(buf, size, "%u", (unsigned)gid);
}

static void user_name(char *buf, size_t size)
{
	struct passwd pw, *res = NULL;
	char tmp[1024];
	if (getpwuid_r(geteuid(), &pw, tmp, sizeof(tmp), &res) == 0 && res)
		snprintf(buf, size, "%s", pw.pw_name);
	else
		snprintf(buf, size, "$USER");
}

/* Whether path is a folder the store may use: per-user, one of ours that
 * nobody else can write to; in system mode also one of the store's group
 * (*gid: the root's, set when root is true) that others cannot write to, the
 * root owned by root or us. Members of the group are trusted alike: any of
 * them (or the workers' user osio) may have made a VM's folder. */
static int check_dir(const char *path, bool root, gid_t *gid, char *err, size_t errlen)
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
	if (root)
		*gid = st.st_gid;
	bool mine = st.st_uid == geteuid() && !(st.st_mode & 022);
	if (mine || !store_system_mode())
		goto strict;
	if (st.st_mode & 002) {
		snprintf(err, errlen,
			 "%s: the system VM store's folders must not be writable by everyone (it "
			 "has mode %04o): chmod o-w %s",
			 path, (unsigned)(st.st_mode & 07777), path);
		return -EPERM;
	}
	if (root && st.st_uid != 0 && st.st_uid != geteuid()) {
		snprintf(err, errlen,
			 "%s: the system VM store must belong to root (it has uid %u): chown root "
			 "%s",
			 path, (unsigned)st.st_uid, path);
		return -EPERM;
	}
	if (root || st.st_gid == *gid || (st.st_uid == 0 && !(st.st_mode & 022)))
		return 0;
	char want[64], has[64];
	group_name(*gid, want, sizeof(want));
	group_name(st.st_gid, has, sizeof(has));
	snprintf(err, errlen,
		 "%s: a folder of the system VM store must belong to its group %s (it has group "
		 "%s): chgrp -R %s %s",
		 path, want, has, want, path);
	return -EPERM;
strict:
	if (!mine) {
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
	if (mkdir(path, store_system_mode() ? 0770 : 0700) < 0 && errno != EEXIST) {
		int r = -errno;
		snprintf(err, errlen, "%s: cannot create the folder: %s", path, strerror(errno));
		return r;
	}
	return 0;
}

/* Root in system mode without the store's folder (osio's package makes it
 * with systemd-tmpfiles): made as tmpfiles.conf says, root:osio 2770 (0700
 * without the group osio). */
static int make_system_root(const char *path, char *err, size_t errlen)
{
	struct group gr, *res = NULL;
	char tmp[1024];

	if (mkdir(path, 0700) < 0) {
		if (errno == EEXIST)
			return 0;
		int r = -errno;
		snprintf(err, errlen, "%s: cannot create the folder: %s", path, strerror(errno));
		return r;
	}
	if (getgrnam_r(STORE_SYSTEM_GROUP, &gr, tmp, sizeof(tmp), &res) != 0 || !res)
		return 0;
	if (chown(path, 0, gr.gr_gid) < 0 || chmod(path, 02770) < 0) {
		int r = -errno;
		snprintf(err, errlen, "%s: cannot give it to the group %s: %s", path,
			 STORE_SYSTEM_GROUP, strerror(errno));
		return r;
	}
	return 0;
}

int store_system_enter(char *err, size_t errlen)
{
	char path[4096], who[64], grp[64];
	struct stat st;
	const char *own = getenv("OSIO_STORE_DIR");

	if (!store_system_mode())
		return 0;
	/* What osio and its workers make there stays the group's. */
	umask(007);
	if (geteuid() == 0)
		return 0;
	int r = store_path(path, sizeof(path), NULL);
	if (r < 0) {
		snprintf(err, errlen, "%s", store_path_problem(r));
		return r;
	}
	if (stat(path, &st) < 0) {
		r = -errno;
		if (r == -ENOENT && !(own && own[0]))
			snprintf(err, errlen,
				 "the system VM store %s does not exist: install osio's package, "
				 "or run sudo systemd-tmpfiles --create",
				 path);
		else
			snprintf(err, errlen, "the system VM store %s: %s", path, strerror(errno));
		return r;
	}
	if (st.st_uid != geteuid() && !store_in_group(st.st_gid)) {
		user_name(who, sizeof(who));
		group_name(st.st_gid, grp, sizeof(grp));
		snprintf(err, errlen,
			 "you are not in the %s group, whose members manage the system's VMs (%s): "
			 "sudo adduser %s %s, then log in again",
			 grp, path, who, grp);
		return -EACCES;
	}
	return 0;
}

int store_create_dir(const char *sub, char *buf, size_t size, char *err, size_t errlen)
{
	gid_t gid = 0;
	const char *own = getenv("OSIO_STORE_DIR");
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
	if (store_system_mode() && geteuid() == 0 && !(own && own[0]))
		r = make_system_root(buf, err, errlen);
	else
		r = make_dir(buf, err, errlen);
	if (r < 0 || (r = check_dir(buf, true, &gid, err, errlen)) < 0)
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
			r = check_dir(buf, false, &gid, err, errlen);
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
	if (fchmod(fd, store_file_mode(mode) & 07777) < 0 ||
	    (r = file_write_all(fd, data, len)) < 0 || fsync(fd) < 0) {
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
