/* The client side of a VM's control socket: line framing, the FIFO of
 * descriptors received with SCM_RIGHTS, the greeting, request ids and
 * replies matched to them, and one-shot queries. The worker is trusted no
 * more than it must be. */
#include "hypervisor/ctlclient.h"

#include "hypervisor/fdqueue.h"

#include "hypervisor/runtime_dir.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#define BUF_INITIAL    65536
#define SEND_TIMEOUT_S 5

_Static_assert(CTL_FDS_MAX == FDQUEUE_MAX, "the client's queue holds CTL_FDS_MAX");

struct ctl_client {
	int fd;
	char label[sizeof(((struct sockaddr_un *)0)->sun_path)];
	char vm[64];
	int protocol;
	bool greeted;
	struct ctl_handlers h;
	int failed; /* a protocol violation or the end: every later read says it */

	/* Receiving (one thread at a time). */
	char *buf;
	size_t len, cap;
	unsigned long long base; /* stream offset of buf[0] */
	struct fdqueue fds; /* received, not yet claimed by a message */
	long long answered; /* replies received so far */

	/* ctl_call's wait. */
	long long wait_id;
	bool got, got_error;
	json_t *got_ret;
	int got_fd;

	/* Sending (any thread). */
	pthread_mutex_t send_lock;
	atomic_llong sent;
	atomic_bool broken;

	pthread_mutex_t err_lock;
	char err[512];
	char err_class[32];
};

static int fail(struct ctl_client *c, int r, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static int fail(struct ctl_client *c, int r, const char *fmt, ...)
{
	va_list ap;
	pthread_mutex_lock(&c->err_lock);
	va_start(ap, fmt);
	vsnprintf(c->err, sizeof(c->err), fmt, ap);
	va_end(ap);
	pthread_mutex_unlock(&c->err_lock);
	return r;
}

/* A protocol violation: the connection is not used any further. */
static int violation(struct ctl_client *c, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

static int violation(struct ctl_client *c, const char *fmt, ...)
{
	char what[400];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(what, sizeof(what), fmt, ap);
	va_end(ap);
	c->failed = -EPROTO;
	atomic_store(&c->broken, true);
	return fail(c, -EPROTO, "%s: the VM broke the control protocol: %s; disconnecting",
		    c->label, what);
}

static void close_fd(int fd)
{
	if (fd >= 0)
		close(fd);
}

static long long now_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static int remaining_ms(long long deadline)
{
	if (deadline < 0)
		return -1;
	long long left = deadline - now_ms();
	return left < 0 ? 0 : (int)left;
}

/* --- receiving ------------------------------------------------------------ */

/* Keeps the descriptors of one recvmsg in the queue; closes what does not fit. */
static int take_fds(struct ctl_client *c, struct msghdr *msg, unsigned long long pos)
{
	if (!fdqueue_take(&c->fds, msg, pos))
		return violation(c, "more than %d descriptors without messages to claim them",
				 CTL_FDS_MAX);
	return 0;
}

/* One recvmsg: 1 when bytes came, 0 when none were there. */
static int fill(struct ctl_client *c)
{
	if (c->len == c->cap) {
		size_t cap = c->cap * 2;
		if (cap > CTL_LINE_MAX + 1)
			cap = CTL_LINE_MAX + 1;
		char *b = realloc(c->buf, cap);
		if (!b)
			return fail(c, -ENOMEM, "out of memory reading the control socket");
		c->buf = b;
		c->cap = cap;
	}
	struct iovec iov = {.iov_base = c->buf + c->len, .iov_len = c->cap - c->len};
	union fdqueue_rx_cmsg u;
	struct msghdr msg = {.msg_iov = &iov,
			     .msg_iovlen = 1,
			     .msg_control = u.buf,
			     .msg_controllen = sizeof(u.buf)};
	ssize_t n;
	do
		n = recvmsg(c->fd, &msg, MSG_CMSG_CLOEXEC | MSG_DONTWAIT);
	while (n < 0 && errno == EINTR);
	if (n < 0) {
		if (errno == EAGAIN)
			return 0;
		c->failed = -ECONNRESET;
		return fail(c, -ECONNRESET, "%s: reading the control socket: %s", c->label,
			    strerror(errno));
	}
	int r = take_fds(c, &msg, c->base + c->len + (size_t)n);
	if (n == 0) {
		c->failed = -ECONNRESET;
		return fail(c, -ECONNRESET, "%s: the VM closed the connection", c->label);
	}
	c->len += (size_t)n;
	return r < 0 ? r : 1;
}

/* Whether a message says a descriptor comes with it: "fd": true in the
 * message, in a reply's "return" or in an event's "data". */
static bool wants_fd(json_t *msg)
{
	if (json_is_true(json_object_get(msg, "fd")))
		return true;
	json_t *ret = json_object_get(msg, "return");
	if (json_is_object(ret) && json_is_true(json_object_get(ret, "fd")))
		return true;
	json_t *data = json_object_get(msg, "data");
	return json_is_object(data) && json_is_true(json_object_get(data, "fd"));
}

/* Keeps a name from the worker printable: it goes into titles and messages. */
static void copy_printable(char *dst, size_t size, const char *src)
{
	size_t i;
	for (i = 0; src && src[i] && i + 1 < size; i++)
		dst[i] = (unsigned char)src[i] < 0x20 || src[i] == 0x7f ? '?' : src[i];
	dst[i] = '\0';
}

static int greeting(struct ctl_client *c, json_t *msg)
{
	json_t *g = json_object_get(msg, "osio");
	if (!json_is_object(g))
		return violation(c,
				 "its first line is not a greeting ({\"osio\": ...}): is %s an "
				 "osio control socket?",
				 c->label);
	json_t *p = json_object_get(g, "protocol");
	if (!json_is_integer(p))
		return violation(c, "the greeting has no protocol version");
	if (json_integer_value(p) < CTL_PROTOCOL) {
		c->failed = -EPROTO;
		return fail(c, -EPROTO,
			    "%s: the VM speaks control protocol %lld, older than this osio's %d: "
			    "use the osio that started the VM",
			    c->label, (long long)json_integer_value(p), CTL_PROTOCOL);
	}
	c->protocol = json_integer_value(p) > 1000 ? 1000 : (int)json_integer_value(p);
	copy_printable(c->vm, sizeof(c->vm), json_string_value(json_object_get(g, "vm")));
	c->greeted = true;
	return 0;
}

static int reply(struct ctl_client *c, json_t *msg, json_t *ret, json_t *error, int fd)
{
	json_t *idv = json_object_get(msg, "id");
	long long sent = atomic_load(&c->sent);
	if (!json_is_integer(idv) || json_integer_value(idv) != c->answered + 1 ||
	    c->answered + 1 > sent) {
		close_fd(fd);
		if (c->answered >= sent)
			return violation(c, "a reply came with no request waiting for it");
		return violation(c, "the reply to request %lld has another id", c->answered + 1);
	}
	long long id = ++c->answered;
	const char *cls = NULL, *desc = NULL;
	if (error) {
		cls = json_string_value(json_object_get(error, "class"));
		desc = json_string_value(json_object_get(error, "desc"));
		if (!cls)
			cls = "failed";
		if (!desc)
			desc = "(the VM gave no reason)";
	}
	if (id == c->wait_id) {
		c->got = true;
		c->got_error = error != NULL;
		if (error) {
			char safe[400];
			copy_printable(safe, sizeof(safe), desc);
			pthread_mutex_lock(&c->err_lock);
			copy_printable(c->err_class, sizeof(c->err_class), cls);
			pthread_mutex_unlock(&c->err_lock);
			fail(c, 0, "%s", safe);
			close_fd(fd);
		} else {
			c->got_ret = json_incref(ret);
			c->got_fd = fd;
		}
		return 0;
	}
	close_fd(fd);
	if (c->h.reply)
		c->h.reply(c->h.opaque, id, error ? NULL : ret, cls, desc);
	return 0;
}

static int dispatch(struct ctl_client *c, json_t *msg, int fd)
{
	if (!c->greeted) {
		close_fd(fd);
		return greeting(c, msg);
	}
	json_t *ev = json_object_get(msg, "event");
	if (ev) {
		if (!json_is_string(ev)) {
			close_fd(fd);
			return violation(c, "an event without a name");
		}
		json_t *data = json_object_get(msg, "data");
		json_t *empty = NULL;
		if (!json_is_object(data))
			data = empty = json_object();
		if (c->h.event && data)
			c->h.event(c->h.opaque, json_string_value(ev), data, fd);
		else
			close_fd(fd);
		json_decref(empty);
		return 0;
	}
	json_t *ret = json_object_get(msg, "return"), *error = json_object_get(msg, "error");
	if (error && !json_is_object(error))
		error = json_object(); /* still an error; reply() gives it a class */
	else
		error = json_incref(error);
	int r = 0;
	if (ret || error)
		r = reply(c, msg, ret, error, fd);
	else
		close_fd(fd); /* a kind of message a newer worker sends */
	json_decref(error);
	return r;
}

static int handle_line(struct ctl_client *c, const char *text, size_t len,
		       unsigned long long line_end)
{
	if (len && text[len - 1] == '\r')
		len--;
	if (len == 0) {
		fdqueue_drop(&c->fds, line_end);
		return 0;
	}
	json_error_t jerr;
	json_t *msg = json_loadb(text, len, JSON_REJECT_DUPLICATES, &jerr);
	if (!json_is_object(msg)) {
		json_decref(msg);
		return violation(c, "a line that is not a JSON object (%s)",
				 msg ? "another JSON value" : jerr.text);
	}
	int fd = -1;
	if (wants_fd(msg) && (fd = fdqueue_claim(&c->fds, line_end)) < 0) {
		json_decref(msg);
		return violation(c, "a message says a descriptor comes with it, but none came");
	}
	fdqueue_drop(&c->fds, line_end);
	int r = dispatch(c, msg, fd);
	json_decref(msg);
	return r;
}

/* Handles every complete line in the buffer. */
static int process(struct ctl_client *c)
{
	size_t start = 0;
	int r = 0;
	while (r == 0) {
		char *nl = memchr(c->buf + start, '\n', c->len - start);
		if (!nl)
			break;
		size_t end = (size_t)(nl - c->buf) + 1;
		r = handle_line(c, c->buf + start, end - 1 - start, c->base + end);
		start = end;
	}
	memmove(c->buf, c->buf + start, c->len - start);
	c->len -= start;
	c->base += start;
	if (r == 0 && c->len > CTL_LINE_MAX)
		r = violation(c, "a line longer than %d bytes", CTL_LINE_MAX);
	return r;
}

int ctl_read(struct ctl_client *c, int timeout_ms)
{
	if (c->failed)
		return c->failed;
	struct pollfd p = {.fd = c->fd, .events = POLLIN};
	int r;
	do
		r = poll(&p, 1, timeout_ms);
	while (r < 0 && errno == EINTR);
	if (r < 0)
		return fail(c, -errno, "%s: poll: %s", c->label, strerror(errno));
	if (r == 0)
		return 0;
	r = fill(c);
	if (r <= 0)
		return r;
	r = process(c);
	return r < 0 ? r : 1;
}

/* --- sending -------------------------------------------------------------- */

/* Writes n bytes, with pass_fd (when not -1) as SCM_RIGHTS on the first. */
static int write_all(struct ctl_client *c, const char *p, size_t n, int pass_fd)
{
	while (n) {
		union fdqueue_cmsg u;
		struct iovec iov = {.iov_base = (void *)p, .iov_len = n};
		struct msghdr msg = {.msg_iov = &iov, .msg_iovlen = 1};
		if (pass_fd >= 0)
			fdqueue_attach(&msg, &u, pass_fd);
		ssize_t w = sendmsg(c->fd, &msg, MSG_NOSIGNAL);
		if (w < 0 && errno == EINTR)
			continue;
		if (w < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
			return fail(c, -ETIMEDOUT,
				    "%s: the VM has not read its control socket for %d s", c->label,
				    SEND_TIMEOUT_S);
		if (w < 0)
			return fail(c, -errno, "%s: writing to the control socket: %s", c->label,
				    errno == EPIPE ? "the VM closed the connection"
						   : strerror(errno));
		p += w;
		n -= (size_t)w;
		pass_fd = -1; /* it went with these bytes */
	}
	return 0;
}

int ctl_send_fd(struct ctl_client *c, const char *command, json_t *args, int pass_fd,
		long long *id)
{
	json_t *req = json_object();
	if (pass_fd >= 0 && !args)
		args = json_object();
	if (!req || json_object_set_new(req, "execute", json_string(command)) < 0 ||
	    (pass_fd >= 0 && (!args || json_object_set_new(args, "fd", json_true()) < 0)) ||
	    (args && json_object_set_new(req, "arguments", args) < 0)) {
		json_decref(req);
		return fail(c, -ENOMEM, "out of memory");
	}
	pthread_mutex_lock(&c->send_lock);
	int r = -EPIPE;
	char *text = NULL;
	if (atomic_load(&c->broken)) {
		fail(c, r, "%s: the connection to the VM is closed", c->label);
		goto out;
	}
	long long n = atomic_load(&c->sent) + 1;
	r = -ENOMEM;
	if (json_object_set_new(req, "id", json_integer(n)) < 0 ||
	    !(text = json_dumps(req, JSON_COMPACT | JSON_ENSURE_ASCII))) {
		fail(c, r, "out of memory");
		goto out;
	}
	size_t len = strlen(text);
	text[len] = '\n'; /* over the terminator: the length is kept */
	/* Counted before it goes: the reply may come back at once. */
	atomic_store(&c->sent, n);
	r = write_all(c, text, len + 1, pass_fd);
	if (r < 0)
		atomic_store(&c->broken, true);
	else if (id)
		*id = n;
out:
	pthread_mutex_unlock(&c->send_lock);
	free(text);
	json_decref(req);
	return r;
}

int ctl_send(struct ctl_client *c, const char *command, json_t *args, long long *id)
{
	return ctl_send_fd(c, command, args, -1, id);
}

int ctl_call(struct ctl_client *c, const char *command, json_t *args, json_t **ret, int *fd,
	     int timeout_ms)
{
	return ctl_call_fd(c, command, args, -1, ret, fd, timeout_ms);
}

int ctl_call_fd(struct ctl_client *c, const char *command, json_t *args, int pass_fd,
		json_t **ret, int *fd, int timeout_ms)
{
	if (ret)
		*ret = NULL;
	if (fd)
		*fd = -1;
	long long id;
	int r = ctl_send_fd(c, command, args, pass_fd, &id);
	if (r < 0)
		return r;
	long long deadline = timeout_ms < 0 ? -1 : now_ms() + timeout_ms;
	c->wait_id = id;
	c->got = false;
	c->got_ret = NULL;
	c->got_fd = -1;
	while (!c->got) {
		r = ctl_read(c, remaining_ms(deadline));
		if (r == 0)
			r = fail(c, -ETIMEDOUT, "%s: the VM did not answer '%s' within %d s",
				 c->label, command, timeout_ms / 1000);
		if (r < 0)
			break;
	}
	c->wait_id = 0;
	if (!c->got)
		return r;
	if (c->got_error)
		return -EREMOTEIO;
	if (ret)
		*ret = c->got_ret;
	else
		json_decref(c->got_ret);
	if (fd)
		*fd = c->got_fd; /* the caller's now */
	else
		close_fd(c->got_fd);
	c->got_fd = -1;
	c->got_ret = NULL;
	return 0;
}

/* --- connecting ----------------------------------------------------------- */

static void copy_err(char *err, size_t errlen, const char *msg)
{
	if (errlen)
		snprintf(err, errlen, "%s", msg);
}

static int open_fd(int fd, const char *label, const struct ctl_handlers *handlers,
		   struct ctl_client **out, char *err, size_t errlen, int timeout_ms)
{
	struct ctl_client *c = calloc(1, sizeof(*c));
	char *buf = malloc(BUF_INITIAL);
	if (!c || !buf) {
		free(c);
		free(buf);
		close(fd);
		copy_err(err, errlen, "out of memory");
		return -ENOMEM;
	}
	c->fd = fd;
	c->buf = buf;
	c->cap = BUF_INITIAL;
	c->got_fd = -1;
	copy_printable(c->label, sizeof(c->label), label);
	if (handlers)
		c->h = *handlers;
	pthread_mutex_init(&c->send_lock, NULL);
	pthread_mutex_init(&c->err_lock, NULL);
	atomic_init(&c->sent, 0);
	atomic_init(&c->broken, false);
	/* A worker that stops reading must not hang the client for good. */
	struct timeval tv = {.tv_sec = SEND_TIMEOUT_S};
	setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));

	long long deadline = now_ms() + timeout_ms;
	int r = 0;
	while (!c->greeted) {
		r = ctl_read(c, remaining_ms(deadline));
		if (r == 0)
			r = fail(c, -ETIMEDOUT,
				 "%s: no greeting within %d ms: is it an osio control socket, is "
				 "its VM hung?",
				 c->label, timeout_ms);
		else if (r == -ECONNRESET && !c->greeted)
			fail(c, r,
			     "%s: the VM closed the connection before greeting (is it ending?)",
			     c->label);
		if (r < 0)
			break;
	}
	if (!c->greeted) {
		copy_err(err, errlen, c->err);
		ctl_close(c);
		return r < 0 ? r : -EPROTO;
	}
	*out = c;
	return 0;
}

int ctl_open_fd(int fd, const char *label, const struct ctl_handlers *handlers,
		struct ctl_client **out, char *err, size_t errlen)
{
	return open_fd(fd, label, handlers, out, err, errlen, CTL_TIMEOUT_MS);
}

int ctl_open_timeout(const char *name_or_path, const struct ctl_handlers *handlers,
		     struct ctl_client **out, char *err, size_t errlen, int timeout_ms)
{
	struct sockaddr_un sa = {.sun_family = AF_UNIX};
	char path[512];
	bool is_name = !strchr(name_or_path, '/');
	int r = control_socket_resolve(name_or_path, path, sizeof(path));
	if (r < 0 || strlen(path) >= sizeof(sa.sun_path)) {
		snprintf(err, errlen,
			 "the control socket path of '%s' is too long (at most %zu bytes)",
			 name_or_path, sizeof(sa.sun_path) - 1);
		return -ENAMETOOLONG;
	}
	strcpy(sa.sun_path, path);
	/* Non-blocking: a worker too busy to accept (its backlog full) must
	 * not hold the client past its timeout. */
	int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
	if (fd < 0) {
		r = -errno;
		snprintf(err, errlen, "socket: %s", strerror(errno));
		return r;
	}
	if (connect(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0) {
		r = -errno;
		if (r == -EAGAIN) {
			snprintf(err, errlen,
				 "%s: the VM does not accept connections (is it hung?)", path);
			close(fd);
			return -ETIMEDOUT;
		}
		if (r == -ENOENT && is_name)
			snprintf(
			    err, errlen,
			    "no running VM named '%s' (no control socket at %s); start it with "
			    "osio run --name %s",
			    name_or_path, path, name_or_path);
		else if (r == -ENOENT)
			snprintf(err, errlen, "no control socket at %s: is the VM running?", path);
		else if (r == -ECONNREFUSED)
			snprintf(err, errlen,
				 "%s: nobody answers there: the VM is not running (a stale socket "
				 "left by a worker that died; the next 'osio run' of that name "
				 "replaces it)",
				 path);
		else if (r == -EACCES || r == -EPERM)
			snprintf(err, errlen,
				 "%s: permission denied: the VM belongs to another user", path);
		else
			snprintf(err, errlen, "%s: %s", path, strerror(-r));
		close(fd);
		return r;
	}
	int fl = fcntl(fd, F_GETFL);
	if (fl >= 0)
		fcntl(fd, F_SETFL, fl & ~O_NONBLOCK);
	return open_fd(fd, path, handlers, out, err, errlen, timeout_ms);
}

int ctl_open(const char *name_or_path, const struct ctl_handlers *handlers, struct ctl_client **out,
	     char *err, size_t errlen)
{
	return ctl_open_timeout(name_or_path, handlers, out, err, errlen, CTL_TIMEOUT_MS);
}

int ctl_query(const char *name, const char *cmd, json_t *args, json_t **ret, int timeout_ms,
	      char *err, size_t errlen)
{
	return ctl_query_fd(name, cmd, args, -1, ret, timeout_ms, err, errlen);
}

int ctl_query_fd(const char *name, const char *cmd, json_t *args, int pass_fd, json_t **ret,
		 int timeout_ms, char *err, size_t errlen)
{
	struct ctl_client *c;
	long long deadline = now_ms() + timeout_ms;
	if (ret)
		*ret = NULL;
	int r = ctl_open_timeout(name, NULL, &c, err, errlen, timeout_ms);
	if (r < 0) {
		json_decref(args);
		return r;
	}
	int left = remaining_ms(deadline);
	r = ctl_call_fd(c, cmd, args, pass_fd, ret, NULL, left > 0 ? left : 1);
	if (r < 0 && errlen)
		snprintf(err, errlen, "%s", c->err);
	ctl_close(c);
	return r;
}

void ctl_close(struct ctl_client *c)
{
	if (!c)
		return;
	close_fd(c->fd);
	fdqueue_clear(&c->fds);
	close_fd(c->got_fd);
	json_decref(c->got_ret);
	pthread_mutex_destroy(&c->send_lock);
	pthread_mutex_destroy(&c->err_lock);
	free(c->buf);
	free(c);
}

void ctl_shutdown(struct ctl_client *c)
{
	atomic_store(&c->broken, true);
	shutdown(c->fd, SHUT_RDWR);
}

const char *ctl_vm_name(const struct ctl_client *c)
{
	return c->vm;
}

int ctl_protocol(const struct ctl_client *c)
{
	return c->protocol;
}

const char *ctl_error(const struct ctl_client *c)
{
	return c->err;
}

const char *ctl_error_class(const struct ctl_client *c)
{
	return c->err_class;
}

int ctl_fd(const struct ctl_client *c)
{
	return c->fd;
}
