/* The VNC password file: the full-access password on line 1 and an optional
 * view-only password on line 2, in a file only its owner may read. */
#include "vnc/vnc_int.h"

#include "hypervisor/log.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define PASSWORD_FILE_MAX 4096

/* Copies line n (0-based) of text into out (at most VNC_PASSWORD_LEN
 * characters); its full length in *len, -1 if there is no such line. */
static void get_line(const char *text, unsigned n, char *out, long *len)
{
	const char *p = text;
	for (unsigned i = 0; i < n; i++) {
		p = strchr(p, '\n');
		if (!p) {
			*len = -1;
			out[0] = '\0';
			return;
		}
		p++;
	}
	size_t l = strcspn(p, "\n");
	if (l > 0 && p[l - 1] == '\r')
		l--;
	if (!*p && n > 0) {
		*len = -1;
		out[0] = '\0';
		return;
	}
	*len = (long)l;
	size_t c = l < VNC_PASSWORD_LEN ? l : VNC_PASSWORD_LEN;
	memcpy(out, p, c);
	out[c] = '\0';
}

int vnc_passwords_load(const char *path, struct vnc_passwords *pw)
{
	char text[PASSWORD_FILE_MAX + 1];
	struct stat st;
	int r = 0;

	memset(pw, 0, sizeof(*pw));
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0) {
		r = -errno;
		log_error("VNC password file %s: %s", path, strerror(errno));
		return r;
	}
	if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode)) {
		log_error("VNC password file %s: not a regular file", path);
		r = -EINVAL;
		goto out;
	}
	if (st.st_mode & (S_IRWXG | S_IRWXO)) {
		log_error("VNC password file %s: other users may read or change it (mode %03o); "
			  "make it private with: chmod 600 %s",
			  path, (unsigned)(st.st_mode & 0777), path);
		r = -EPERM;
		goto out;
	}
	if (st.st_size > PASSWORD_FILE_MAX) {
		log_error("VNC password file %s: larger than %d bytes; it holds a password on line "
			  "1 and an optional view-only password on line 2",
			  path, PASSWORD_FILE_MAX);
		r = -EINVAL;
		goto out;
	}
	ssize_t n = read(fd, text, PASSWORD_FILE_MAX);
	if (n < 0) {
		r = -errno;
		log_error("VNC password file %s: %s", path, strerror(errno));
		goto out;
	}
	text[n] = '\0';
	if (memchr(text, '\0', (size_t)n)) {
		log_error("VNC password file %s: has a NUL byte; it holds a password on line 1 and "
			  "an optional view-only password on line 2",
			  path);
		r = -EINVAL;
		goto out;
	}
	long full_len, view_len;
	get_line(text, 0, pw->full, &full_len);
	get_line(text, 1, pw->view, &view_len);
	if (full_len <= 0) {
		log_error("VNC password file %s: the password on line 1 is empty", path);
		r = -EINVAL;
		goto out;
	}
	if (view_len > 0 && strcmp(pw->full, pw->view) == 0) {
		log_error(
		    "VNC password file %s: the view-only password (line 2) is the same as the "
		    "full-access one in the %d characters VNC uses; choose another",
		    path, VNC_PASSWORD_LEN);
		r = -EINVAL;
		goto out;
	}
	if (full_len > VNC_PASSWORD_LEN || view_len > VNC_PASSWORD_LEN)
		log_warn("VNC password file %s: VNC authentication uses only the first %d "
			 "characters of a password",
			 path, VNC_PASSWORD_LEN);
	pw->list[0] = pw->full;
	pw->list[1] = view_len > 0 ? pw->view : NULL;
	pw->list[2] = NULL;
out:
	explicit_bzero(text, sizeof(text));
	close(fd);
	if (r < 0)
		vnc_passwords_clear(pw);
	return r;
}

void vnc_passwords_clear(struct vnc_passwords *pw)
{
	explicit_bzero(pw, sizeof(*pw));
}
