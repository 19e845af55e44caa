/* The private switch's folder, RUNTIME/switches/NAME/, and the ports'
 * sockets in it: private to the worker's user, or in system mode (a runtime
 * folder of the group, as /run/osio) the group's, shared by the VMs of its
 * members and by workers that dropped to another user of it. What a member
 * could put there (a symlink, a FIFO, a socket of someone outside the
 * group) is refused with one line in the VM's log. */
#include "devices/net/private_int.h"

#include "hypervisor/log.h"
#include "hypervisor/runtime_dir.h"

#include <errno.h>
#include <fcntl.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static const char *file_kind(mode_t mode)
{
	switch (mode & S_IFMT) {
	case S_IFLNK:
		return "a symbolic link";
	case S_IFIFO:
		return "a FIFO";
	case S_IFREG:
		return "a regular file";
	case S_IFDIR:
		return "a folder";
	case S_IFCHR:
	case S_IFBLK:
		return "a device node";
	case S_IFSOCK:
		return "a socket";
	}
	return "of an unknown kind";
}

/* Logs that the entry name of the folder is refused, once per name (up to
 * PRIV_ODD_MAX names a port). Lock held for writing (or in open). */
static void priv_refuse(struct priv *st, const char *name, const char *why)
{
	for (unsigned i = 0; i < st->nrefused; i++)
		if (!strcmp(st->refused[i].name, name))
			return;
	if (st->nrefused == PRIV_ODD_MAX)
		return;
	snprintf(st->refused[st->nrefused++].name, PRIV_NAME_MAX, "%s", name);
	log_warn("%s: private switch '%s': %s/%s is %s, not a port of a VM %s; ignored "
		 "(remove it: only osio's workers put sockets there)",
		 net_port_id(st->port), st->name, st->dir, name, why,
		 st->shared ? "of the group's members" : "of this user");
}

/* sun_path of the port called name; the address length. */
static socklen_t priv_addr(const struct priv *st, const char *name, struct sockaddr_un *sa)
{
	size_t n = strlen(name);
	memset(sa, 0, sizeof(*sa));
	sa->sun_family = AF_UNIX;
	memcpy(sa->sun_path, st->prefix, st->prefix_len);
	memcpy(sa->sun_path + st->prefix_len, name, n + 1);
	return (socklen_t)(offsetof(struct sockaddr_un, sun_path) + st->prefix_len + n + 1);
}

/* Why a port's socket is not one (NULL: it is): a socket of this user, or
 * shared, of the group and closed to others. */
static const char *priv_sock_problem(const struct priv *st, const struct stat *sb, char *buf,
				     size_t size)
{
	if (!S_ISSOCK(sb->st_mode))
		return file_kind(sb->st_mode);
	if (!st->shared) {
		if (sb->st_uid == geteuid())
			return NULL;
		snprintf(buf, size, "a socket of uid %u", (unsigned)sb->st_uid);
		return buf;
	}
	if (sb->st_gid == st->gid && !(sb->st_mode & 0007))
		return NULL;
	snprintf(buf, size, "a socket of uid %u, group %u, mode %04o (a port's is group %u, 0660)",
		 (unsigned)sb->st_uid, (unsigned)sb->st_gid, (unsigned)(sb->st_mode & 07777),
		 (unsigned)st->gid);
	return buf;
}

bool priv_entry_ok(struct priv *st, const struct dirent *d)
{
	switch (d->d_type) {
	case DT_SOCK:
	case DT_UNKNOWN: /* checked when we connect */
		return true;
	case DT_LNK:
		priv_refuse(st, d->d_name, "a symbolic link");
		return false;
	case DT_FIFO:
		priv_refuse(st, d->d_name, "a FIFO");
		return false;
	default:
		priv_refuse(st, d->d_name, "not a socket");
		return false;
	}
}

int priv_peer_addr(struct priv *st, const char *name, struct sockaddr_un *sa, socklen_t *salen,
		   int *pathfd)
{
	/* What the name is now, without following it (O_PATH opens a FIFO
	 * or a socket without touching it), and then that very file. */
	*pathfd = -1;
	int fd = openat(st->dirfd, name, O_PATH | O_NOFOLLOW | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	struct stat sb;
	char buf[128];
	const char *why;
	if (fstat(fd, &sb) < 0) {
		int r = -errno;
		close(fd);
		return r;
	}
	why = priv_sock_problem(st, &sb, buf, sizeof(buf));
	if (why) {
		priv_refuse(st, name, why);
		close(fd);
		return -EPERM;
	}
	if (!st->shared) {
		/* A private folder: nobody else can change its names. */
		close(fd);
		*salen = priv_addr(st, name, sa);
		return 0;
	}
	memset(sa, 0, sizeof(*sa));
	sa->sun_family = AF_UNIX;
	int n = snprintf(sa->sun_path, sizeof(sa->sun_path), "/proc/self/fd/%d", fd);
	*salen = (socklen_t)(offsetof(struct sockaddr_un, sun_path) + (size_t)n + 1);
	*pathfd = fd;
	return 0;
}

/* Opens (made if needed) the folder name in parent: this user's and
 * private, or shared: the group's (2770: its entries get the group). */
static int priv_open_dir(struct priv *st, int parent, const char *name)
{
	const char *id = net_port_id(st->port);
	bool made = mkdirat(parent, name, st->shared ? 0770 : 0700) == 0;
	if (!made && errno != EEXIST)
		return -errno;
	int fd = openat(parent, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	if (fd < 0) {
		int r = -errno;
		if (r == -ENOTDIR || r == -ELOOP) {
			log_error("%s: cannot join the private switch '%s': %s is not a folder (a "
				  "symbolic link or a file); remove it",
				  id, st->name, st->dir);
			return -ENOTDIR;
		}
		return r;
	}
	struct stat sb;
	if (made && st->shared)
		fchmod(fd, 02770); /* the umask may have taken bits; setgid */
	if (fstat(fd, &sb) < 0) {
		int r = -errno;
		close(fd);
		return r;
	}
	if (!st->shared) {
		if (sb.st_uid == geteuid() && !(sb.st_mode & 0077))
			return fd;
		log_error(
		    "%s: cannot join the private switch '%s': %s is not a private folder of "
		    "this user (uid %u, mode %04o: it must be uid %u's, mode 0700); remove it",
		    id, st->name, st->dir, (unsigned)sb.st_uid, (unsigned)(sb.st_mode & 07777),
		    (unsigned)geteuid());
	} else {
		if (sb.st_gid == st->gid && (sb.st_mode & 02070) == 02070 && !(sb.st_mode & 0007))
			return fd;
		log_error("%s: cannot join the private switch '%s': %s is not a folder of the "
			  "group %u (uid %u, group %u, mode %04o: it must be of group %u, mode "
			  "2770); remove it",
			  id, st->name, st->dir, (unsigned)st->gid, (unsigned)sb.st_uid,
			  (unsigned)sb.st_gid, (unsigned)(sb.st_mode & 07777), (unsigned)st->gid);
	}
	close(fd);
	return -EPERM;
}

/* Opens RUNTIME/switches and RUNTIME/switches/NAME (swfd, dirfd). */
static int priv_open_dirs(struct priv *st, const char *base)
{
	int basefd = open(base, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (basefd < 0)
		return -errno;
	struct stat sb;
	if (fstat(basefd, &sb) < 0) {
		int r = -errno;
		close(basefd);
		return r;
	}
	st->shared = runtime_dir_shared(&sb);
	st->gid = sb.st_gid;
	if (st->shared && !(sb.st_mode & S_ISGID) && getegid() != sb.st_gid) {
		log_error("%s: cannot join the private switch '%s': the runtime folder %s is not "
			  "setgid, so what this user makes there would not be its group's: sudo "
			  "chmod g+s %s (its mode is 2770)",
			  net_port_id(st->port), st->name, base, base);
		close(basefd);
		return -EPERM;
	}
	if (st->swfd >= 0)
		close(st->swfd);
	if (st->dirfd >= 0)
		close(st->dirfd);
	st->dirfd = -1;
	snprintf(st->dir, sizeof(st->dir), "%s/switches", base);
	st->swfd = priv_open_dir(st, basefd, "switches");
	close(basefd);
	if (st->swfd < 0)
		return st->swfd;
	snprintf(st->dir, sizeof(st->dir), "%s/switches/%s", base, st->name);
	st->dirfd = priv_open_dir(st, st->swfd, st->name);
	return st->dirfd < 0 ? st->dirfd : 0;
}

/* Our socket, just bound: the group's (0660) when shared, else ours only. */
static int priv_sock_mode(struct priv *st)
{
	if (!st->shared)
		return fchmodat(st->dirfd, st->self, 0600, 0) < 0 ? -errno : 0;
	int fd = openat(st->dirfd, st->self, O_PATH | O_NOFOLLOW | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	struct stat sb;
	char path[32];
	int r = 0;
	if (fstat(fd, &sb) < 0)
		r = -errno;
	else if (!S_ISSOCK(sb.st_mode) || sb.st_uid != geteuid())
		r = -EEXIST; /* replaced by someone else meanwhile */
	else if (sb.st_gid != st->gid)
		r = -EPERM;
	if (r == 0) {
		snprintf(path, sizeof(path), "/proc/self/fd/%d", fd);
		if (fchmodat(AT_FDCWD, path, 0660, 0) < 0)
			r = -errno;
	}
	close(fd);
	return r;
}

int priv_dir_join(struct priv *st, const char *base)
{
	const char *id = net_port_id(st->port);
	int r;
	for (int attempt = 0;; attempt++) {
		r = priv_open_dirs(st, base);
		if (r == -EPERM || r == -ENOTDIR)
			return r; /* said */
		if (r < 0)
			goto fail;
		/* Too long for a socket address, or shared (a member may swap
		 * the names above it): through the directory's fd. */
		size_t dlen = strlen(st->dir);
		if (!st->shared && dlen + 1 + PRIV_NAME_MAX < sizeof(st->prefix)) {
			memcpy(st->prefix, st->dir, dlen);
			st->prefix[dlen] = '/';
			st->prefix_len = dlen + 1;
		} else {
			snprintf(st->prefix, sizeof(st->prefix), "/proc/self/fd/%d/", st->dirfd);
			st->prefix_len = strlen(st->prefix);
		}
		/* Linux gives the socket file the socket's mode: the group's
		 * from the start when shared. */
		if (st->shared)
			fchmod(st->lfd, 0660);
		struct sockaddr_un sa;
		socklen_t salen = priv_addr(st, st->self, &sa);
		if (bind(st->lfd, (struct sockaddr *)&sa, salen) == 0)
			break;
		r = -errno;
		if (r == -EADDRINUSE && attempt < 3) {
			/* Left by a process of our pid that died: ours now. */
			unlinkat(st->dirfd, st->self, 0);
			continue;
		}
		/* The last port of the switch removed the folder meanwhile. */
		if (r == -ENOENT && attempt < 3)
			continue;
		goto fail;
	}
	r = priv_sock_mode(st);
	if (r == -EPERM) {
		log_error("%s: cannot join the private switch '%s': %s/%s did not get the group "
			  "%u of its folder; make the folder setgid (chmod g+s %s)",
			  id, st->name, st->dir, st->self, (unsigned)st->gid, st->dir);
		unlinkat(st->dirfd, st->self, 0);
		return r;
	}
	if (r < 0 || listen(st->lfd, PRIV_BACKLOG) < 0) {
		r = r < 0 ? r : -errno;
		unlinkat(st->dirfd, st->self, 0);
		goto fail;
	}
	return 0;
fail:
	log_error("%s: cannot join the private switch '%s': %s: %s", id, st->name, st->dir,
		  strerror(-r));
	return r;
}
