/* The socket character backend: a Unix stream socket that one client at a
 * time connects to (socat, nc -U, a test); a stale socket left by a dead
 * process is replaced, a live one is refused. */
#define CHARDEV_INTERNAL
#include "devices/chardev.h"

#include "hypervisor/log.h"

#include <errno.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

/* 0 if something listens at the address, -ECONNREFUSED if the socket file
 * is stale, another -errno if the check itself failed. */
static int probe_listener(const struct sockaddr_un *sa)
{
	int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -errno;
	int r = connect(fd, (const struct sockaddr *)sa, sizeof(*sa)) == 0 ? 0 : -errno;
	close(fd);
	if (r == -EAGAIN || r == -EINPROGRESS)
		r = 0; /* alive, its backlog is just full */
	return r;
}

static void on_accept(void *opaque, uint32_t events)
{
	struct chardev *c = opaque;
	int fd = accept4(c->listen_fd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
	if (fd < 0) {
		if (errno != EAGAIN && errno != EINTR && errno != ECONNABORTED)
			log_warn("%s: accepting a client on %s failed: %s", c->port, c->path,
				 strerror(errno));
		return;
	}
	if (c->in_fd >= 0) {
		static const char busy[] = "osio: this serial port already has a client\r\n";
		if (send(fd, busy, sizeof(busy) - 1, MSG_DONTWAIT | MSG_NOSIGNAL) < 0) {
			/* it goes away either way */
		}
		close(fd);
		return;
	}
	c->in_fd = c->out_fd = fd;
	c->in_sock = c->out_sock = true;
	c->in_poll = c->out_poll = true;
	c->in_eof = false;
	c->esc_seen = false;
	chardev_set_drop(c, false);
	if (tracing(TRACE_DEV))
		log_trace("%s: client connected to %s", c->port, c->path);
	chardev_update_events(c);
}

void chardev_socket_hangup(struct chardev *c)
{
	if (c->in_fd < 0)
		return;
	if (c->in_reg)
		evloop_del_fd(c->m->loop, c->in_fd);
	c->in_reg = false;
	close(c->in_fd);
	c->in_fd = c->out_fd = -1;
	c->in_sock = c->out_sock = false;
	c->out_wait = false;
	c->esc_seen = false;
	/* Input already read stays queued for the guest; output is dropped
	 * until the next client. */
	chardev_set_drop(c, true);
	if (tracing(TRACE_DEV))
		log_trace("%s: client of %s went away", c->port, c->path);
}

int chardev_socket_open(struct chardev *c)
{
	struct sockaddr_un sa = {.sun_family = AF_UNIX};
	struct stat st;
	int fd, r;

	if (strlen(c->path) >= sizeof(sa.sun_path)) {
		log_error("%s: socket path %s is too long (at most %zu bytes)", c->port, c->path,
			  sizeof(sa.sun_path) - 1);
		return -ENAMETOOLONG;
	}
	strcpy(sa.sun_path, c->path);

	if (lstat(c->path, &st) == 0) {
		if (!S_ISSOCK(st.st_mode)) {
			log_error(
			    "%s: %s exists and is not a socket; remove it or choose another path",
			    c->port, c->path);
			return -EEXIST;
		}
		r = probe_listener(&sa);
		if (r == 0) {
			log_error("%s: socket %s is in use by another process", c->port, c->path);
			return -EADDRINUSE;
		}
		if (r != -ECONNREFUSED) {
			log_error("%s: cannot check the existing socket %s: %s", c->port, c->path,
				  strerror(-r));
			return r;
		}
		if (unlink(c->path) < 0 && errno != ENOENT) {
			r = -errno;
			log_error("%s: cannot remove the stale socket %s: %s", c->port, c->path,
				  strerror(-r));
			return r;
		}
	}

	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0) {
		r = -errno;
		goto err;
	}
	if (bind(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0) {
		r = -errno;
		goto err_close;
	}
	/* Before listen(): nobody can connect while the mode is still wider. */
	if (chmod(c->path, 0600) < 0 || stat(c->path, &st) < 0 || listen(fd, 1) < 0) {
		r = -errno;
		goto err_unlink;
	}
	c->sock_dev = st.st_dev;
	c->sock_ino = st.st_ino;
	r = evloop_add_fd(c->m->loop, fd, EPOLLIN, on_accept, c);
	if (r < 0)
		goto err_unlink;
	c->listen_fd = fd;
	c->listen_reg = true;
	c->out_drop = true; /* until a client connects */
	return 0;

err_unlink:
	unlink(c->path);
err_close:
	close(fd);
err:
	log_error("%s: cannot create socket %s: %s", c->port, c->path, strerror(-r));
	return r;
}

void chardev_socket_close(struct chardev *c)
{
	struct stat st;
	if (c->listen_fd < 0)
		return;
	/* Remove the socket file only if it is still ours. */
	if (stat(c->path, &st) == 0 && st.st_dev == c->sock_dev && st.st_ino == c->sock_ino)
		unlink(c->path);
}
