/* The runtime directory of osio's workers and the control socket paths in
 * it. */
#include "hypervisor/runtime_dir.h"

#include "hypervisor/log.h"

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
	else if (geteuid() == 0)
		n = snprintf(buf, size, "/run/osio");
	else if (xdg && xdg[0] == '/')
		n = snprintf(buf, size, "%s/osio", xdg);
	else
		n = snprintf(buf, size, "/tmp/osio-%u", (unsigned)geteuid());
	return n < 0 || (size_t)n >= size ? -ENAMETOOLONG : 0;
}

int runtime_dir_create(char *buf, size_t size)
{
	int r = runtime_dir_path(buf, size);
	if (r < 0) {
		log_error("the runtime directory's path is too long (XDG_RUNTIME_DIR)");
		return r;
	}
	if (mkdir(buf, 0700) < 0 && errno != EEXIST) {
		r = -errno;
		log_error("%s: cannot create the runtime directory: %s", buf, strerror(errno));
		return r;
	}
	struct stat st;
	if (lstat(buf, &st) < 0) {
		r = -errno;
		log_error("%s: %s", buf, strerror(errno));
		return r;
	}
	/* In /tmp, anyone could have made it first. */
	if (!S_ISDIR(st.st_mode) || st.st_uid != geteuid() || (st.st_mode & 0077)) {
		log_error("%s: not a private directory of this user (it must be a directory owned "
			  "by uid %u with mode 0700); remove it or fix its owner and mode",
			  buf, (unsigned)geteuid());
		return -EPERM;
	}
	return 0;
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
