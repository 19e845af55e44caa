/* The socket character backend: a Unix stream socket for one client at a
 * time (osio serial, socat, a test); a new client takes over from the one
 * before. The guest's output goes through a pipe into a ring of its last
 * 64 KiB, from which a client is sent what it has not seen: a client that
 * attaches gets the recent screen first, and a slow one holds the guest back
 * instead of losing bytes. A stale socket left by a dead process is
 * replaced, a live one is refused. */
#define CHARDEV_INTERNAL
#include "devices/chardev.h"

#include "hypervisor/log.h"
#include "hypervisor/runtime_dir.h"

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

/* The output kept for the next client. */
#define HISTORY_BYTES (64 * 1024)

/* What a socket backend keeps beside struct chardev (loop thread, except
 * the list). Byte p of the output stream lives at ring[p % HISTORY_BYTES];
 * the ring holds [total - held, total). */
struct sock_side {
	struct chardev *c;
	struct sock_side *next;
	int pipe_r; /* the read end of c->out_fd */
	bool pipe_reg;
	uint8_t *ring;
	uint64_t total;
	size_t held;
	int out; /* the client, for output (a duplicate of c->in_fd); -1 none */
	bool out_reg;
	uint64_t sent; /* stream offset the client has been sent up to */
};

static pthread_mutex_t sides_lock = PTHREAD_MUTEX_INITIALIZER;
static struct sock_side *sides;

static struct sock_side *side_of(struct chardev *c)
{
	pthread_mutex_lock(&sides_lock);
	struct sock_side *s = sides;
	while (s && s->c != c)
		s = s->next;
	pthread_mutex_unlock(&sides_lock);
	return s;
}

static void on_pipe(void *opaque, uint32_t events);
static void on_client_out(void *opaque, uint32_t events);

/* Room for output without overwriting what the client has not been sent. */
static size_t room(const struct sock_side *s)
{
	if (s->out < 0)
		return HISTORY_BYTES;
	return HISTORY_BYTES - (size_t)(s->total - s->sent);
}

static void watch(struct sock_side *s, int fd, bool *reg, bool want, uint32_t ev, evloop_fd_fn fn)
{
	if (want == *reg)
		return;
	if (want) {
		int r = evloop_add_fd(s->c->m->loop, fd, ev, fn, s);
		if (r < 0) {
			log_warn("%s: cannot watch the socket backend: %s", s->c->port,
				 strerror(-r));
			return;
		}
	} else {
		evloop_del_fd(s->c->m->loop, fd);
	}
	*reg = want;
}

static void update(struct sock_side *s)
{
	watch(s, s->pipe_r, &s->pipe_reg, room(s) > 0, EPOLLIN, on_pipe);
	if (s->out >= 0)
		watch(s, s->out, &s->out_reg, s->sent < s->total, EPOLLOUT, on_client_out);
}

/* Sends the client what it has not seen yet, as far as its socket takes
 * it. A client that went away is dropped. */
static void flush_client(struct sock_side *s)
{
	while (s->out >= 0 && s->sent < s->total) {
		size_t off = (size_t)(s->sent % HISTORY_BYTES);
		size_t len = (size_t)(s->total - s->sent);
		if (len > HISTORY_BYTES - off)
			len = HISTORY_BYTES - off;
		ssize_t n = send(s->out, s->ring + off, len, MSG_DONTWAIT | MSG_NOSIGNAL);
		if (n > 0) {
			s->sent += (size_t)n;
			continue;
		}
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 && errno == EAGAIN)
			break;
		chardev_socket_hangup(s->c);
		return;
	}
	update(s);
}

static void on_client_out(void *opaque, uint32_t events)
{
	flush_client(opaque);
}

/* Guest output from the pipe into the ring. */
static void on_pipe(void *opaque, uint32_t events)
{
	struct sock_side *s = opaque;
	size_t want = room(s);
	size_t off = (size_t)(s->total % HISTORY_BYTES);
	if (want > HISTORY_BYTES - off)
		want = HISTORY_BYTES - off;
	if (want) {
		ssize_t n = read(s->pipe_r, s->ring + off, want);
		if (n > 0) {
			s->total += (size_t)n;
			s->held += (size_t)n;
			if (s->held > HISTORY_BYTES)
				s->held = HISTORY_BYTES;
		}
	}
	flush_client(s);
}

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
	struct sock_side *s = opaque;
	struct chardev *c = s->c;
	int fd = accept4(c->listen_fd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
	if (fd < 0) {
		if (errno != EAGAIN && errno != EINTR && errno != ECONNABORTED)
			log_warn("%s: accepting a client on %s failed: %s", c->port, c->path,
				 strerror(errno));
		return;
	}
	int out = fcntl(fd, F_DUPFD_CLOEXEC, 3);
	if (out < 0) {
		log_warn("%s: cannot take a client on %s: %s", c->port, c->path, strerror(errno));
		close(fd);
		return;
	}
	if (c->in_fd >= 0) {
		/* Like a console server: the new client takes over. */
		static const char gone[] = "\r\nosio: another client took over this serial "
					   "console\r\n";
		if (send(s->out, gone, sizeof(gone) - 1, MSG_DONTWAIT | MSG_NOSIGNAL) < 0) {
			/* it goes away either way */
		}
		chardev_socket_hangup(c);
	}
	c->in_fd = fd;
	c->in_sock = true;
	c->in_poll = true;
	c->in_eof = false;
	c->esc_seen = false;
	s->out = out;
	s->sent = s->total - s->held; /* the recent output first */
	if (tracing(TRACE_DEV))
		log_trace("%s: client connected to %s", c->port, c->path);
	chardev_update_events(c);
	flush_client(s);
}

void chardev_socket_hangup(struct chardev *c)
{
	struct sock_side *s = side_of(c);
	if (c->in_fd < 0)
		return;
	if (c->in_reg)
		evloop_del_fd(c->m->loop, c->in_fd);
	c->in_reg = false;
	close(c->in_fd);
	c->in_fd = -1;
	c->in_sock = false;
	c->esc_seen = false;
	/* Input already read stays queued for the guest; output goes on into
	 * the ring for the next client. */
	if (s && s->out >= 0) {
		watch(s, s->out, &s->out_reg, false, 0, NULL);
		close(s->out);
		s->out = -1;
		update(s);
	}
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

	struct sock_side *side = calloc(1, sizeof(*side));
	int pipefd[2] = {-1, -1};
	r = -ENOMEM;
	if (!side || !(side->ring = malloc(HISTORY_BYTES)))
		goto err_side;
	if (pipe2(pipefd, O_NONBLOCK | O_CLOEXEC) < 0) {
		r = -errno;
		goto err_side;
	}
	side->c = c;
	side->pipe_r = pipefd[0];
	side->out = -1;

	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0) {
		r = -errno;
		goto err_side;
	}
	if (bind(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0) {
		r = -errno;
		goto err_close;
	}
	/* Before listen(): nobody can connect while the mode is still wider. */
	if (chmod(c->path, runtime_socket_mode(c->path)) < 0 || stat(c->path, &st) < 0 ||
	    listen(fd, 4) < 0) {
		r = -errno;
		goto err_unlink;
	}
	c->sock_dev = st.st_dev;
	c->sock_ino = st.st_ino;
	r = evloop_add_fd(c->m->loop, fd, EPOLLIN, on_accept, side);
	if (r < 0)
		goto err_unlink;
	r = evloop_add_fd(c->m->loop, side->pipe_r, EPOLLIN, on_pipe, side);
	if (r < 0) {
		evloop_del_fd(c->m->loop, fd);
		goto err_unlink;
	}
	side->pipe_reg = true;
	c->listen_fd = fd;
	c->listen_reg = true;
	/* The guest's output goes into the pipe whether or not a client is
	 * there: it is never dropped, only held in the ring. */
	c->out_fd = pipefd[1];
	c->out_sock = false;
	c->out_poll = true;
	pthread_mutex_lock(&sides_lock);
	side->next = sides;
	sides = side;
	pthread_mutex_unlock(&sides_lock);
	return 0;

err_unlink:
	unlink(c->path);
err_close:
	close(fd);
err_side:
	if (pipefd[0] >= 0) {
		close(pipefd[0]);
		close(pipefd[1]);
	}
	if (side)
		free(side->ring);
	free(side);
	log_error("%s: cannot create socket %s: %s", c->port, c->path, strerror(-r));
	return r;
}

void chardev_socket_close(struct chardev *c)
{
	struct stat st;
	struct sock_side *s = NULL;
	pthread_mutex_lock(&sides_lock);
	for (struct sock_side **p = &sides; *p; p = &(*p)->next) {
		if ((*p)->c == c) {
			s = *p;
			*p = s->next;
			break;
		}
	}
	pthread_mutex_unlock(&sides_lock);
	if (s) {
		watch(s, s->pipe_r, &s->pipe_reg, false, 0, NULL);
		close(s->pipe_r);
		if (s->out >= 0) {
			watch(s, s->out, &s->out_reg, false, 0, NULL);
			close(s->out);
		}
		free(s->ring);
		free(s);
	}
	if (c->listen_fd < 0)
		return;
	/* Remove the socket file only if it is still ours. */
	if (stat(c->path, &st) == 0 && st.st_dev == c->sock_dev && st.st_ino == c->sock_ino)
		unlink(c->path);
}
