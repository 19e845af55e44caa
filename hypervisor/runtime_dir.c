/* The runtime directory of osio's workers and the control socket paths in
 * it. */
#include "hypervisor/runtime_dir.h"

#include "hypervisor/log.h"
#include "hypervisor/store.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

int runtime_dir_path(char *buf, size_t size)
{
	const char *own = getenv("OSIO_RUNTIME_DIR"), *xdg = getenv("XDG_RUNTIME_DIR");
	int n;
	if (own && own[0] == '/')
		n = snprintf(buf, size, "%s", own);
	else if (store_system_mode())
		n = snprintf(buf, size, "%s", RUNTIME_SYSTEM_DIR);
	else if (xdg && xdg[0] == '/')
		n = snprintf(buf, size, "%s/osio", xdg);
	else
		n = snprintf(buf, size, "/tmp/osio-%u", (unsigned)geteuid());
	return n < 0 || (size_t)n >= size ? -ENAMETOOLONG : 0;
}

/* Root in system mode without /run/osio (systemd-tmpfiles makes it at
 * boot): made as tmpfiles.conf says, with the store's group. */
static void give_to_store_group(const char *dir)
{
	char store[4096];
	struct stat st;
	if (geteuid() != 0 || store_path(store, sizeof(store), NULL) < 0 || stat(store, &st) < 0 ||
	    st.st_gid == 0)
		return;
	if (chown(dir, 0, st.st_gid) < 0 || chmod(dir, 02770) < 0)
		log_warn("%s: cannot give it to the VM store's group: %s", dir, strerror(errno));
}

int runtime_dir_create(char *buf, size_t size)
{
	bool sys = store_system_mode();
	const char *own = getenv("OSIO_RUNTIME_DIR");
	int r = runtime_dir_path(buf, size);
	if (r < 0) {
		log_error("the runtime directory's path is too long (XDG_RUNTIME_DIR)");
		return r;
	}
	if (mkdir(buf, sys ? 0770 : 0700) < 0) {
		if (errno != EEXIST) {
			r = -errno;
			if (sys && !(own && own[0] == '/'))
				log_error(
				    "the system runtime folder %s does not exist and cannot be "
				    "made (%s): run sudo systemd-tmpfiles --create (osio's "
				    "package makes it at boot)",
				    buf, strerror(errno));
			else
				log_error("%s: cannot create the runtime directory: %s", buf,
					  strerror(errno));
			return r;
		}
	} else if (sys && !(own && own[0] == '/')) {
		give_to_store_group(buf);
	}
	struct stat st;
	if (lstat(buf, &st) < 0) {
		r = -errno;
		log_error("%s: %s", buf, strerror(errno));
		return r;
	}
	if (!S_ISDIR(st.st_mode)) {
		log_error("%s: not a directory; remove it so that osio can make its runtime "
			  "directory there",
			  buf);
		return -ENOTDIR;
	}
	if (st.st_uid == geteuid() && !(st.st_mode & 0077))
		return 0;
	/* System mode: root's (or ours), shared with the group, nobody else may
	 * write to it. */
	if (sys && (st.st_uid == 0 || st.st_uid == geteuid()) && !(st.st_mode & 002)) {
		if (st.st_uid == geteuid() || store_in_group(st.st_gid))
			return 0;
		log_error("%s: you are not in its group (gid %u), whose members manage the "
			  "system's VMs: sudo adduser $USER osio, then log in again",
			  buf, (unsigned)st.st_gid);
		return -EACCES;
	}
	/* In /tmp, anyone could have made it first. */
	log_error("%s: not a private directory of this user (it must be a directory owned "
		  "by uid %u with mode 0700%s); remove it or fix its owner and mode",
		  buf, (unsigned)geteuid(),
		  sys ? ", or in system mode root's, mode 2770, not writable by others" : "");
	return -EPERM;
}

bool runtime_dir_shared(const struct stat *st)
{
	return store_system_mode() && (st->st_mode & 070) == 070;
}

unsigned runtime_socket_mode(const char *path)
{
	char dir[4096];
	const char *slash = strrchr(path, '/');
	struct stat st;
	size_t n = slash ? (size_t)(slash - path) : 0;

	if (!store_system_mode() || !slash || n >= sizeof(dir))
		return 0600;
	memcpy(dir, path, n);
	dir[n] = 0;
	if (stat(n ? dir : "/", &st) < 0 || !runtime_dir_shared(&st))
		return 0600;
	return 0660;
}

int control_socket_path(const char *name, char *buf, size_t size)
{
	char dir[512];
	int r = runtime_dir_path(dir, sizeof(dir));
	if (r < 0)
		return r;
	int n = snprintf(buf, size, "%s/%s.sock", dir, name);
	return n < 0 || (size_t)n >= size ? -ENAMETOOLONG : 0;
}

int control_socket_resolve(const char *name_or_path, char *buf, size_t size)
{
	if (strchr(name_or_path, '/')) {
		if (strlen(name_or_path) >= size)
			return -ENAMETOOLONG;
		strcpy(buf, name_or_path);
		return 0;
	}
	return control_socket_path(name_or_path, buf, size);
}
