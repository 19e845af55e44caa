/* Where the VNC server listens: loopback with the first free port from 5900,
 * a host and port (IPv4 or IPv6, every address a name resolves to), or a
 * Unix socket; and the refusal to listen off loopback without a password. */
#include "vnc/vnc_int.h"

#include "hypervisor/log.h"
#include "hypervisor/runtime_dir.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netdb.h>
#include <netinet/in.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#define AUTO_FIRST 5900
#define AUTO_LAST  5999
#define BACKLOG	   8

static bool addr_is_loopback(const struct sockaddr *sa)
{
	if (sa->sa_family == AF_INET) {
		const struct sockaddr_in *in = (const struct sockaddr_in *)sa;
		return (ntohl(in->sin_addr.s_addr) >> 24) == 127;
	}
	if (sa->sa_family == AF_INET6) {
		const struct in6_addr *a = &((const struct sockaddr_in6 *)sa)->sin6_addr;
		if (IN6_IS_ADDR_LOOPBACK(a))
			return true;
		return IN6_IS_ADDR_V4MAPPED(a) && a->s6_addr[12] == 127;
	}
	return false;
}

/* A listening TCP socket on sa, or -errno. */
static int tcp_listen(const struct sockaddr *sa, socklen_t len)
{
	int fd = socket(sa->sa_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -errno;
	int one = 1;
	/* Only lets us reuse a port whose old connections linger in TIME_WAIT:
	 * a port another program listens on stays busy. */
	setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	if (sa->sa_family == AF_INET6)
		setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &one, sizeof(one));
	if (bind(fd, sa, len) < 0 || listen(fd, BACKLOG) < 0) {
		int e = -errno;
		close(fd);
		return e;
	}
	return fd;
}

static unsigned bound_port(int fd)
{
	struct sockaddr_storage ss;
	socklen_t len = sizeof(ss);
	if (getsockname(fd, (struct sockaddr *)&ss, &len) < 0)
		return 0;
	if (ss.ss_family == AF_INET)
		return ntohs(((struct sockaddr_in *)&ss)->sin_port);
	return ntohs(((struct sockaddr_in6 *)&ss)->sin6_port);
}

static int listen_auto(struct vnc_listen *l)
{
	struct sockaddr_in in = {.sin_family = AF_INET};
	in.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	for (unsigned port = AUTO_FIRST; port <= AUTO_LAST; port++) {
		in.sin_port = htons((uint16_t)port);
		int fd = tcp_listen((struct sockaddr *)&in, sizeof(in));
		if (fd == -EADDRINUSE)
			continue;
		if (fd < 0) {
			log_error("VNC: cannot listen on 127.0.0.1:%u: %s", port, strerror(-fd));
			return fd;
		}
		l->fds[l->n++] = fd;
		l->port = port;
		snprintf(l->address, sizeof(l->address), "127.0.0.1:%u", port);
		return 0;
	}
	log_error("VNC: every port from %d to %d on 127.0.0.1 is taken; give one with vnc = "
		  "127.0.0.1:PORT (--vnc)",
		  AUTO_FIRST, AUTO_LAST);
	return -EADDRINUSE;
}

static void format_address(struct vnc_listen *l, const struct vnc_spec *spec,
			   const struct sockaddr *first)
{
	char host[INET6_ADDRSTRLEN] = "";
	if (!spec->host[0]) {
		snprintf(l->address, sizeof(l->address), "*:%u", l->port);
		return;
	}
	if (first->sa_family == AF_INET)
		inet_ntop(AF_INET, &((const struct sockaddr_in *)first)->sin_addr, host,
			  sizeof(host));
	else
		inet_ntop(AF_INET6, &((const struct sockaddr_in6 *)first)->sin6_addr, host,
			  sizeof(host));
	snprintf(l->address, sizeof(l->address), first->sa_family == AF_INET6 ? "[%s]:%u" : "%s:%u",
		 host, l->port);
}

static int listen_tcp(const struct vnc_spec *spec, bool have_password, struct vnc_listen *l)
{
	struct addrinfo hints = {.ai_socktype = SOCK_STREAM,
				 .ai_flags = AI_PASSIVE | AI_NUMERICSERV};
	struct addrinfo *res = NULL;
	char port[16];
	const char *shown = spec->host[0] ? spec->host : "*";

	if (spec->port > 65535) {
		log_error("VNC: port %u is not a TCP port (1 to 65535)", spec->port);
		return -EINVAL;
	}
	snprintf(port, sizeof(port), "%u", spec->port);
	int g = getaddrinfo(spec->host[0] ? spec->host : NULL, port, &hints, &res);
	if (g != 0) {
		log_error("VNC: cannot resolve '%s': %s", shown, gai_strerror(g));
		return -EADDRNOTAVAIL;
	}
	bool loopback = true;
	for (struct addrinfo *a = res; a; a = a->ai_next)
		if (!addr_is_loopback(a->ai_addr))
			loopback = false;
	if (!loopback && !have_password && !spec->insecure) {
		log_error("VNC: %s:%u is reachable from other machines, and without a password "
			  "anyone there could use this VM's screen and keyboard; give a password "
			  "file (vnc_password_file, --vnc-password-file) or allow it with "
			  "vnc_insecure = yes (--vnc-insecure)",
			  shown, spec->port);
		freeaddrinfo(res);
		return -EACCES;
	}
	int r = 0;
	const struct sockaddr *first = NULL;
	for (struct addrinfo *a = res; a && l->n < VNC_MAX_LISTEN; a = a->ai_next) {
		if (a->ai_family != AF_INET && a->ai_family != AF_INET6)
			continue;
		/* getaddrinfo may list one address several times. */
		bool dup = false;
		for (struct addrinfo *b = res; b != a; b = b->ai_next)
			if (b->ai_addrlen == a->ai_addrlen &&
			    memcmp(b->ai_addr, a->ai_addr, a->ai_addrlen) == 0)
				dup = true;
		if (dup)
			continue;
		struct sockaddr_storage ss;
		memcpy(&ss, a->ai_addr, a->ai_addrlen);
		/* Port 0 (the kernel chooses): every address gets the first one's. */
		if (l->n > 0 && spec->port == 0) {
			if (ss.ss_family == AF_INET)
				((struct sockaddr_in *)&ss)->sin_port = htons((uint16_t)l->port);
			else
				((struct sockaddr_in6 *)&ss)->sin6_port = htons((uint16_t)l->port);
		}
		int fd = tcp_listen((struct sockaddr *)&ss, a->ai_addrlen);
		if (fd == -EAFNOSUPPORT || fd == -EADDRNOTAVAIL) {
			/* No IPv6 on this host: the IPv4 address still serves. */
			if (!r)
				r = fd;
			continue;
		}
		if (fd < 0) {
			r = fd;
			break;
		}
		if (l->n == 0) {
			l->port = bound_port(fd);
			first = a->ai_addr;
		}
		l->fds[l->n++] = fd;
	}
	if (l->n > 0 && (r == 0 || r == -EAFNOSUPPORT || r == -EADDRNOTAVAIL)) {
		format_address(l, spec, first);
		freeaddrinfo(res);
		return 0;
	}
	if (r == -EADDRINUSE)
		log_error("VNC: port %u on %s is taken by another program; choose another port or "
			  "vnc = auto",
			  spec->port, shown);
	else
		log_error("VNC: cannot listen on %s:%u: %s", shown, spec->port,
			  strerror(r ? -r : EADDRNOTAVAIL));
	freeaddrinfo(res);
	for (unsigned i = 0; i < l->n; i++)
		close(l->fds[i]);
	l->n = 0;
	return r ? r : -EADDRNOTAVAIL;
}

/* A socket file left behind by a worker that died: nobody answers on it. */
static bool stale_socket(const char *path)
{
	struct stat st;
	if (lstat(path, &st) < 0 || !S_ISSOCK(st.st_mode))
		return false;
	int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return false;
	struct sockaddr_un un = {.sun_family = AF_UNIX};
	snprintf(un.sun_path, sizeof(un.sun_path), "%s", path);
	bool stale = connect(fd, (struct sockaddr *)&un, sizeof(un)) < 0 && errno == ECONNREFUSED;
	close(fd);
	return stale;
}

static int listen_unix(const struct vnc_spec *spec, struct vnc_listen *l)
{
	struct sockaddr_un un = {.sun_family = AF_UNIX};
	const char *path = spec->path;
	struct stat st;

	if (!path[0] || strlen(path) >= sizeof(un.sun_path)) {
		log_error("VNC: socket path '%s' is %s; Unix socket paths have at most %zu bytes",
			  path, path[0] ? "too long" : "empty", sizeof(un.sun_path) - 1);
		return -ENAMETOOLONG;
	}
	memcpy(un.sun_path, path, strlen(path) + 1);
	if (lstat(path, &st) == 0) {
		if (!S_ISSOCK(st.st_mode)) {
			log_error("VNC: %s exists and is not a socket; remove it or choose another "
				  "path",
				  path);
			return -EEXIST;
		}
		if (!stale_socket(path)) {
			log_error("VNC: %s is in use by another program (a running VM?); choose "
				  "another path",
				  path);
			return -EADDRINUSE;
		}
		unlink(path);
	}
	int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0) {
		int e = -errno;
		log_error("VNC: socket: %s", strerror(errno));
		return e;
	}
	/* Linux gives the socket file the socket's mode: owner only (in system
	 * mode with a folder of the group, such as /run/osio: the group's too,
	 * whose members manage the VM), from the start (no window where others
	 * could connect). A setgid folder gives the socket its group. */
	unsigned mode = runtime_socket_mode(path);
	fchmod(fd, mode);
	if (bind(fd, (struct sockaddr *)&un, sizeof(un)) < 0 || listen(fd, BACKLOG) < 0) {
		int e = -errno;
		log_error("VNC: cannot listen on %s: %s", path, strerror(errno));
		close(fd);
		return e;
	}
	chmod(path, mode);
	if (stat(path, &st) == 0) {
		l->unix_dev = st.st_dev;
		l->unix_ino = st.st_ino;
	}
	snprintf(l->unix_path, sizeof(l->unix_path), "%s", path);
	snprintf(l->address, sizeof(l->address), "unix:%s", path);
	l->fds[l->n++] = fd;
	return 0;
}

int vnc_listen_open(const struct vnc_spec *spec, bool have_password, struct vnc_listen *l)
{
	memset(l, 0, sizeof(*l));
	switch (spec->kind) {
	case VNC_AUTO:
		return listen_auto(l);
	case VNC_TCP:
		return listen_tcp(spec, have_password, l);
	case VNC_UNIX:
		return listen_unix(spec, l);
	case VNC_NONE:
		break;
	}
	log_error("VNC: no address to listen on (vnc = none)");
	return -EINVAL;
}

void vnc_listen_close(struct vnc_listen *l)
{
	for (unsigned i = 0; i < l->n; i++)
		close(l->fds[i]);
	l->n = 0;
	struct stat st;
	if (l->unix_path[0] && stat(l->unix_path, &st) == 0 && st.st_dev == l->unix_dev &&
	    st.st_ino == l->unix_ino)
		unlink(l->unix_path);
	l->unix_path[0] = '\0';
}
