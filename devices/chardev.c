/* Character backends, the shared part: the bounded output buffer and its
 * flushing, input buffering with flow control, escape keys, and the file and
 * none backends. The stdio, pty and socket backends live in chardev_*.c. */
#define CHARDEV_INTERNAL
#include "devices/chardev.h"

#include "hypervisor/input.h"
#include "hypervisor/log.h"

#include <errno.h>
#include <fcntl.h>
#include <linux/input-event-codes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#define CTRL_A 0x01

static const char *const kind_names[] = {
    [CHARDEV_NONE] = "none",	 [CHARDEV_STDIO] = "stdio", [CHARDEV_PTY] = "pty",
    [CHARDEV_SOCKET] = "socket", [CHARDEV_FILE] = "file",
};

static size_t min_size(size_t a, size_t b)
{
	return a < b ? a : b;
}

bool chardev_pollable(int fd)
{
	int ep = epoll_create1(EPOLL_CLOEXEC);
	if (ep < 0)
		return false;
	struct epoll_event ev = {.events = 0};
	bool ok = epoll_ctl(ep, EPOLL_CTL_ADD, fd, &ev) == 0;
	close(ep);
	return ok;
}

int chardev_reopen(int fd, int flags, bool *sock)
{
	struct stat st;
	*sock = false;
	if (fstat(fd, &st) < 0)
		return -errno;
	if (S_ISFIFO(st.st_mode) || S_ISCHR(st.st_mode)) {
		/* A new open file description: O_NONBLOCK on it is ours alone. */
		char p[40];
		snprintf(p, sizeof(p), "/proc/self/fd/%d", fd);
		int n = open(p, flags | O_NONBLOCK | O_NOCTTY | O_CLOEXEC);
		if (n >= 0)
			return n;
	}
	/* Regular files never block for long; sockets take MSG_DONTWAIT. */
	*sock = S_ISSOCK(st.st_mode);
	int n = fcntl(fd, F_DUPFD_CLOEXEC, 3);
	return n < 0 ? -errno : n;
}

void chardev_kick(struct chardev *c, unsigned bits)
{
	unsigned old = atomic_fetch_or(&c->kick, bits);
	if ((old & bits) == bits)
		return; /* a wake-up for these is already on its way */
	uint64_t one = 1;
	if (write(c->kick_fd, &one, sizeof(one)) < 0 && errno != EAGAIN)
		log_warn("%s: cannot wake the event loop: %s", c->port, strerror(errno));
}

/* ---- output ---- */

size_t chardev_write(struct chardev *c, const uint8_t *buf, size_t len)
{
	if (!len)
		return 0;
	pthread_mutex_lock(&c->out_lock);
	if (c->out_drop) {
		pthread_mutex_unlock(&c->out_lock);
		return len;
	}
	size_t n = min_size(len, CHARDEV_OUT_BUF - c->out_len);
	size_t tail = (c->out_head + c->out_len) % CHARDEV_OUT_BUF;
	size_t first = min_size(n, CHARDEV_OUT_BUF - tail);
	memcpy(c->out_buf + tail, buf, first);
	memcpy(c->out_buf, buf + first, n - first);
	c->out_len += n;
	if (n < len)
		c->out_full = true;
	bool kick = n && !c->out_queued;
	if (kick)
		c->out_queued = true;
	pthread_mutex_unlock(&c->out_lock);
	if (kick)
		chardev_kick(c, CHARDEV_KICK_FLUSH);
	return n;
}

void chardev_set_drop(struct chardev *c, bool drop)
{
	bool notify = false;
	pthread_mutex_lock(&c->out_lock);
	c->out_drop = drop;
	if (drop) {
		c->out_head = c->out_len = 0;
		c->out_queued = false;
		notify = c->out_full;
		c->out_full = false;
	}
	pthread_mutex_unlock(&c->out_lock);
	if (drop)
		c->out_wait = false;
	if (notify && c->fe->output_ready)
		c->fe->output_ready(c->fe_opaque);
}

static ssize_t out_write(struct chardev *c, const uint8_t *p, size_t n)
{
	if (c->out_sock)
		return send(c->out_fd, p, n, MSG_DONTWAIT | MSG_NOSIGNAL);
	return write(c->out_fd, p, n);
}

static void output_failed(struct chardev *c, int err)
{
	if (c->kind == CHARDEV_SOCKET) {
		chardev_socket_hangup(c);
		return;
	}
	log_warn("%s: writing to %s failed (%s); further output is dropped", c->port,
		 c->kind == CHARDEV_STDIO ? "stdout" : c->path, strerror(err));
	chardev_set_drop(c, true);
}

/* Loop thread: writes out what the buffer holds, until it is empty or the
 * sink would block (then EPOLLOUT brings us back). */
static void flush_output(struct chardev *c)
{
	bool notify = false;
	int err = 0;
	pthread_mutex_lock(&c->out_lock);
	while (c->out_len && !c->out_drop && c->out_fd >= 0) {
		size_t off = c->out_head;
		size_t len = min_size(c->out_len, CHARDEV_OUT_BUF - off);
		/* Only this thread consumes, so the bytes stay put unlocked. */
		pthread_mutex_unlock(&c->out_lock);
		ssize_t n = out_write(c, c->out_buf + off, len);
		int e = n < 0 ? errno : 0;
		pthread_mutex_lock(&c->out_lock);
		if (n > 0) {
			c->out_head = (off + (size_t)n) % CHARDEV_OUT_BUF;
			c->out_len -= (size_t)n;
			notify |= c->out_full;
			c->out_full = false;
			continue;
		}
		if (e == EINTR)
			continue;
		if (e == EAGAIN && c->out_poll) {
			c->out_wait = true;
			break;
		}
		err = e ? e : EIO;
		break;
	}
	if (!c->out_len || c->out_drop)
		c->out_queued = false;
	pthread_mutex_unlock(&c->out_lock);
	if (err)
		output_failed(c, err);
	if (notify && c->fe->output_ready)
		c->fe->output_ready(c->fe_opaque);
}

/* ---- input ---- */

static void push_item(struct chardev *c, uint16_t v)
{
	c->in_buf[(c->in_head + c->in_len) % c->in_cap] = v;
	c->in_len++;
}

static void input_byte(struct chardev *c, uint8_t b)
{
	if (c->esc_seen) {
		c->esc_seen = false;
		if (b == CTRL_A) {
			push_item(c, CTRL_A);
			return;
		}
		if (b == 'b') {
			push_item(c, CHARDEV_BREAK);
			return;
		}
		if (c->escape == ESCAPE_FULL) {
			switch (b) {
			case 'x':
				log_info("%s: Ctrl-A x: powering off", c->port);
				machine_request(c->m, MACHINE_POWEROFF, MACHINE_BY_HOST);
				return;
			case 'r':
				log_info("%s: Ctrl-A r: resetting", c->port);
				machine_request(c->m, MACHINE_RESET, 0);
				return;
			case 'd': {
				/* What the guest's own keyboard handler makes of it
				 * (a BIOS resets, Linux reboots or runs its handler). */
				static const unsigned cad[] = {KEY_LEFTCTRL, KEY_LEFTALT,
							       KEY_DELETE};
				log_info("%s: Ctrl-A d: Ctrl+Alt+Del on the VM's keyboard", c->port);
				input_key_combo(c->m, cad, 3);
				return;
			}
			case 'h':
			case '?':
				chardev_stdio_help();
				return;
			}
		}
		push_item(c, CTRL_A);
		push_item(c, b);
		return;
	}
	if (b == CTRL_A && c->escape != ESCAPE_OFF) {
		c->esc_seen = true;
		return;
	}
	push_item(c, b);
}

static void input_eof(struct chardev *c)
{
	if (c->kind == CHARDEV_SOCKET) {
		chardev_socket_hangup(c);
		return;
	}
	c->in_eof = true;
	if (tracing(TRACE_DEV))
		log_trace("%s: end of input", c->port);
}

/* Reads what fits in the input buffer. False at EOF, on error, or when
 * nothing was read. One read leaves room for the item an escape byte held
 * over from the previous read may add. */
static bool read_input(struct chardev *c)
{
	size_t room = c->in_cap - c->in_len;
	if (c->in_fd < 0 || c->in_eof || room < 2)
		return false;
	uint8_t buf[1024];
	size_t want = min_size(room - 1, sizeof(buf));
	ssize_t n =
	    c->in_sock ? recv(c->in_fd, buf, want, MSG_DONTWAIT) : read(c->in_fd, buf, want);
	if (n > 0) {
		for (ssize_t i = 0; i < n; i++)
			input_byte(c, buf[i]);
		return true;
	}
	if (n < 0 && (errno == EAGAIN || errno == EINTR))
		return false;
	input_eof(c); /* 0, or EIO from a hung-up terminal, ECONNRESET, ... */
	return false;
}

/* Hands buffered input to the frontend until it is all taken or the frontend
 * is full. in_blocked is set before each offer, so that a frontend making room
 * concurrently (chardev_input_ready from a vCPU) always leads to a retry. */
static void deliver_input(struct chardev *c)
{
	while (c->in_len) {
		atomic_store(&c->in_blocked, true);
		if (c->in_buf[c->in_head] == CHARDEV_BREAK) {
			if (c->fe->receive_break && !c->fe->receive_break(c->fe_opaque))
				return;
			c->in_head = (c->in_head + 1) % c->in_cap;
			c->in_len--;
			continue;
		}
		uint8_t tmp[64];
		size_t k = 0;
		while (k < sizeof(tmp) && k < c->in_len) {
			uint16_t v = c->in_buf[(c->in_head + k) % c->in_cap];
			if (v == CHARDEV_BREAK)
				break;
			tmp[k++] = (uint8_t)v;
		}
		size_t n = c->fe->receive ? c->fe->receive(c->fe_opaque, tmp, k) : k;
		if (n > k)
			n = k;
		c->in_head = (c->in_head + n) % c->in_cap;
		c->in_len -= n;
		if (n < k)
			return;
	}
	atomic_store(&c->in_blocked, false);
}

static void service_input(struct chardev *c)
{
	for (;;) {
		deliver_input(c);
		/* Descriptors epoll cannot watch (regular files, /dev/null) are
		 * always ready: read them here while the guest takes input. */
		if (c->in_poll || !read_input(c))
			break;
	}
}

void chardev_input_ready(struct chardev *c)
{
	if (c && atomic_load_explicit(&c->in_blocked, memory_order_relaxed) &&
	    atomic_exchange(&c->in_blocked, false))
		chardev_kick(c, CHARDEV_KICK_INPUT);
}

/* ---- event loop plumbing ---- */

static void on_in_event(void *opaque, uint32_t events);
static void on_out_event(void *opaque, uint32_t events);

static void set_interest(struct chardev *c, int fd, bool *reg, uint32_t *mask, uint32_t want,
			 evloop_fd_fn fn)
{
	struct evloop *l = c->m->loop;
	if (!want) {
		if (*reg)
			evloop_del_fd(l, fd);
		*reg = false;
		return;
	}
	if (!*reg) {
		int r = evloop_add_fd(l, fd, want, fn, c);
		if (r < 0) {
			log_warn("%s: cannot watch the %s backend: %s", c->port,
				 kind_names[c->kind], strerror(-r));
			return;
		}
		*reg = true;
		*mask = want;
	} else if (*mask != want && evloop_mod_fd(l, fd, want) == 0) {
		*mask = want;
	}
}

void chardev_update_events(struct chardev *c)
{
	bool shared = c->in_fd >= 0 && c->in_fd == c->out_fd;
	uint32_t in = 0, out = c->out_wait ? EPOLLOUT : 0;
	if (c->in_fd >= 0 && c->in_poll && !c->in_eof && c->in_cap - c->in_len >= 2)
		in = EPOLLIN;
	if (shared) {
		set_interest(c, c->in_fd, &c->in_reg, &c->in_mask, in | out, on_in_event);
		return;
	}
	if (c->in_fd >= 0 && c->in_poll)
		set_interest(c, c->in_fd, &c->in_reg, &c->in_mask, in, on_in_event);
	if (c->out_fd >= 0 && c->out_poll)
		set_interest(c, c->out_fd, &c->out_reg, &c->out_mask, out, on_out_event);
}

static void on_in_event(void *opaque, uint32_t events)
{
	struct chardev *c = opaque;
	if (c->out_wait && c->out_fd == c->in_fd && (events & (EPOLLOUT | EPOLLERR | EPOLLHUP))) {
		c->out_wait = false;
		flush_output(c);
	}
	if (events & (EPOLLIN | EPOLLERR | EPOLLHUP))
		read_input(c);
	service_input(c);
	chardev_update_events(c);
}

static void on_out_event(void *opaque, uint32_t events)
{
	struct chardev *c = opaque;
	c->out_wait = false;
	flush_output(c);
	chardev_update_events(c);
}

static void on_kick(void *opaque, uint32_t events)
{
	struct chardev *c = opaque;
	uint64_t v;
	if (read(c->kick_fd, &v, sizeof(v)) < 0 && errno != EAGAIN)
		log_warn("%s: wake-up read failed: %s", c->port, strerror(errno));
	unsigned bits = atomic_exchange(&c->kick, 0);
	if ((bits & CHARDEV_KICK_FLUSH) && !c->out_wait)
		flush_output(c);
	if (bits & CHARDEV_KICK_INPUT)
		service_input(c);
	chardev_update_events(c);
}

/* ---- file and none ---- */

static int file_open(struct chardev *c)
{
	/* O_NONBLOCK: a FIFO without a reader fails at once instead of
	 * hanging; it does nothing to regular files. */
	int fd =
	    open(c->path, O_WRONLY | O_CREAT | O_APPEND | O_NONBLOCK | O_NOCTTY | O_CLOEXEC, 0644);
	if (fd < 0) {
		int e = errno;
		log_error("%s: cannot open %s for the serial output: %s", c->port, c->path,
			  strerror(e));
		return -e;
	}
	c->out_fd = fd;
	c->out_poll = chardev_pollable(fd);
	return 0;
}

/* ---- life cycle ---- */

static int parse_kind(const char *s, enum chardev_kind *kind)
{
	for (size_t i = 0; i < sizeof(kind_names) / sizeof(kind_names[0]); i++) {
		if (strcmp(s, kind_names[i]) == 0) {
			*kind = (enum chardev_kind)i;
			return 0;
		}
	}
	return -EINVAL;
}

int chardev_open(struct machine *m, const char *port, const char *backend, const char *path,
		 const struct chardev_frontend *fe, void *opaque, struct chardev **out)
{
	enum chardev_kind kind;
	bool wants_path;
	int r;

	if (!backend || parse_kind(backend, &kind) < 0) {
		log_error("%s: unknown serial backend '%s' (use stdio, pty, socket, file or none)",
			  port, backend ? backend : "");
		return -EINVAL;
	}
	wants_path = kind == CHARDEV_SOCKET || kind == CHARDEV_FILE;
	if (!path)
		path = "";
	if (wants_path && !*path) {
		log_error("%s: the %s backend needs a path (path=...)", port, backend);
		return -EINVAL;
	}
	if (!wants_path && *path) {
		log_error("%s: path=%s is only for the socket and file backends, not %s", port,
			  path, backend);
		return -EINVAL;
	}

	struct chardev *c = calloc(1, sizeof(*c));
	if (!c)
		return -ENOMEM;
	c->in_cap = kind == CHARDEV_STDIO ? CHARDEV_IN_BUF_STDIO : CHARDEV_IN_BUF;
	c->out_buf = malloc(CHARDEV_OUT_BUF);
	c->in_buf = malloc(c->in_cap * sizeof(*c->in_buf));
	if (!c->out_buf || !c->in_buf) {
		r = -ENOMEM;
		goto err_buf;
	}
	c->m = m;
	c->kind = kind;
	snprintf(c->port, sizeof(c->port), "%s", port);
	if (strlen(path) >= sizeof(c->path)) {
		log_error("%s: path %s is too long", port, path);
		r = -ENAMETOOLONG;
		goto err_buf;
	}
	strcpy(c->path, path);
	c->fe = fe;
	c->fe_opaque = opaque;
	c->in_fd = c->out_fd = c->listen_fd = c->pty_slave = -1;
	atomic_init(&c->kick, 0);
	atomic_init(&c->in_blocked, false);
	pthread_mutex_init(&c->out_lock, NULL);

	c->kick_fd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
	if (c->kick_fd < 0) {
		r = -errno;
		goto err_lock;
	}
	r = evloop_add_fd(m->loop, c->kick_fd, EPOLLIN, on_kick, c);
	if (r < 0)
		goto err_kick;

	switch (kind) {
	case CHARDEV_NONE:
		c->out_drop = true;
		r = 0;
		break;
	case CHARDEV_FILE:
		r = file_open(c);
		break;
	case CHARDEV_STDIO:
		r = chardev_stdio_open(c);
		break;
	case CHARDEV_PTY:
		r = chardev_pty_open(c);
		break;
	case CHARDEV_SOCKET:
		c->escape = ESCAPE_LINE;
		r = chardev_socket_open(c);
		break;
	}
	if (r < 0)
		goto err_loop;
	if (c->out_fd < 0)
		c->out_drop = true;
	chardev_update_events(c);
	if (c->in_fd >= 0 && !c->in_poll)
		chardev_kick(c, CHARDEV_KICK_INPUT); /* start reading at once */
	*out = c;
	return 0;

err_loop:
	evloop_del_fd(m->loop, c->kick_fd);
err_kick:
	close(c->kick_fd);
err_lock:
	pthread_mutex_destroy(&c->out_lock);
err_buf:
	free(c->in_buf);
	free(c->out_buf);
	free(c);
	return r;
}

/* Writes what can go out without blocking, for the last words of a guest
 * that is being shut down. */
static void final_flush(struct chardev *c)
{
	pthread_mutex_lock(&c->out_lock);
	while (c->out_len && !c->out_drop && c->out_fd >= 0) {
		size_t len = min_size(c->out_len, CHARDEV_OUT_BUF - c->out_head);
		ssize_t n = out_write(c, c->out_buf + c->out_head, len);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			break;
		c->out_head = (c->out_head + (size_t)n) % CHARDEV_OUT_BUF;
		c->out_len -= (size_t)n;
	}
	pthread_mutex_unlock(&c->out_lock);
}

void chardev_close(struct chardev *c)
{
	if (!c)
		return;
	struct evloop *l = c->m->loop;
	final_flush(c);
	if (c->kind == CHARDEV_STDIO)
		chardev_stdio_close(c);
	else if (c->kind == CHARDEV_SOCKET)
		chardev_socket_close(c);
	if (c->in_reg)
		evloop_del_fd(l, c->in_fd);
	if (c->out_reg)
		evloop_del_fd(l, c->out_fd);
	if (c->listen_reg)
		evloop_del_fd(l, c->listen_fd);
	if (c->in_fd >= 0)
		close(c->in_fd);
	if (c->out_fd >= 0 && c->out_fd != c->in_fd)
		close(c->out_fd);
	if (c->listen_fd >= 0)
		close(c->listen_fd);
	if (c->pty_slave >= 0)
		close(c->pty_slave);
	evloop_del_fd(l, c->kick_fd);
	close(c->kick_fd);
	pthread_mutex_destroy(&c->out_lock);
	free(c->in_buf);
	free(c->out_buf);
	free(c);
}

const char *chardev_path(const struct chardev *c)
{
	return c->path;
}

const char *chardev_backend(const struct chardev *c)
{
	return kind_names[c->kind];
}
