/* The control socket's core: the listening socket, clients with their line
 * buffers and output queues (file descriptors travel with the first byte of
 * their line, both ways), request dispatch, events, and query-status. */
#include "hypervisor/control.h"

#include "hypervisor/evloop.h"
#include "hypervisor/fdqueue.h"
#include "hypervisor/log.h"
#include "hypervisor/runtime_dir.h"

#include <errno.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/time.h>
#include <sys/un.h>
#include <unistd.h>

#define LINE_MAX_BYTES 65536
/* A client that lets this much pile up unread is dropped; past the lower
 * mark its requests wait until it reads. */
#define OUT_MAX	     (8u << 20)
#define OUT_PAUSE    (256u << 10)
#define MAX_COMMANDS 32
#define MAX_SLOTS    4
#define MAX_CLEANUPS 4
/* Descriptors a client sent ahead of the requests that take them. */
#define MAX_IN_FDS 8

struct chunk {
	struct chunk *next;
	size_t len, off;
	int fd;
	char data[];
};

struct slot {
	const void *key;
	void *data;
	void (*destroy)(struct control_client *c, void *data);
};

struct control_client {
	struct control *ctl;
	struct control_client *next;
	int fd;
	char *in;
	size_t in_len;
	struct chunk *head, *tail;
	size_t out_bytes;
	uint32_t events; /* what the loop watches */
	bool dead;	 /* drop at the next reap */
	bool closing;	 /* drop once the output is out */
	struct slot slots[MAX_SLOTS];
	struct fdqueue in_fds; /* received, not yet claimed by a request */
	unsigned long long in_base; /* the stream offset of in[0] */
	int req_fd; /* the running request's ("fd": true), until taken */
};

struct command {
	const char *name;
	control_cmd_fn fn;
	void *opaque;
};

struct control {
	struct machine *m;
	char path[sizeof(((struct sockaddr_un *)0)->sun_path)];
	char name[64];
	int listen_fd;
	dev_t dev;
	ino_t ino;
	struct evloop *loop;
	pthread_t thread;
	bool running;
	struct command cmds[MAX_COMMANDS];
	unsigned ncmds;
	struct control_client *clients;
	struct {
		void (*fn)(void *);
		void *opaque;
	} cleanups[MAX_CLEANUPS];
	unsigned ncleanups;
	/* The failure the running handler described (control thread). */
	char fail_class[32], fail_desc[512];

	pthread_mutex_t lock; /* status */
	json_t *status;
};

/* --- output ------------------------------------------------------------ */

static void watch(struct control_client *c)
{
	uint32_t ev = 0;
	if (!c->closing && c->out_bytes < OUT_PAUSE)
		ev |= EPOLLIN;
	if (c->head)
		ev |= EPOLLOUT;
	if (ev != c->events && !c->dead) {
		evloop_mod_fd(c->ctl->loop, c->fd, ev);
		c->events = ev;
	}
}

static void flush(struct control_client *c)
{
	while (c->head && !c->dead) {
		struct chunk *k = c->head;
		struct iovec iov = {.iov_base = k->data + k->off, .iov_len = k->len - k->off};
		union fdqueue_cmsg u;
		struct msghdr msg = {.msg_iov = &iov, .msg_iovlen = 1};
		if (k->off == 0 && k->fd >= 0)
			fdqueue_attach(&msg, &u, k->fd);
		ssize_t n = sendmsg(c->fd, &msg, MSG_NOSIGNAL | MSG_DONTWAIT);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			if (errno != EAGAIN)
				c->dead = true;
			break;
		}
		if (k->fd >= 0) {
			close(k->fd);
			k->fd = -1;
		}
		k->off += (size_t)n;
		c->out_bytes -= (size_t)n;
		if (k->off < k->len)
			continue;
		c->head = k->next;
		if (!c->head)
			c->tail = NULL;
		free(k);
	}
	if (!c->dead && c->closing && !c->head)
		c->dead = true;
	if (!c->dead)
		watch(c);
}

/* Queues msg (released) as one line, with fd (taken over) on its first
 * byte, and writes what the socket takes. */
static void send_msg(struct control_client *c, json_t *msg, int fd)
{
	char *text = json_dumps(msg, JSON_COMPACT | JSON_ENSURE_ASCII);
	json_decref(msg);
	size_t len = text ? strlen(text) : 0;
	struct chunk *k = text ? malloc(sizeof(*k) + len + 1) : NULL;
	if (!k || c->dead || c->out_bytes + len + 1 > OUT_MAX) {
		if (k && !c->dead)
			log_warn("control: a client of %s does not read its socket: dropping it",
				 c->ctl->path);
		free(k);
		free(text);
		if (fd >= 0)
			close(fd);
		c->dead = true;
		return;
	}
	memcpy(k->data, text, len);
	k->data[len] = '\n';
	free(text);
	k->len = len + 1;
	k->off = 0;
	k->fd = fd;
	k->next = NULL;
	if (c->tail)
		c->tail->next = k;
	else
		c->head = k;
	c->tail = k;
	c->out_bytes += k->len;
	flush(c);
}

static json_t *timestamp(void)
{
	struct timeval tv;
	gettimeofday(&tv, NULL);
	return json_pack("{s:I,s:I}", "seconds", (json_int_t)tv.tv_sec, "microseconds",
			 (json_int_t)tv.tv_usec);
}

static json_t *event_msg(const char *event, json_t *data)
{
	return json_pack("{s:s,s:o,s:o}", "event", event, "data", data ? data : json_object(),
			 "timestamp", timestamp());
}

/* --- clients ----------------------------------------------------------- */

static void client_free(struct control_client *c)
{
	for (unsigned i = 0; i < MAX_SLOTS; i++)
		if (c->slots[i].key && c->slots[i].destroy)
			c->slots[i].destroy(c, c->slots[i].data);
	evloop_del_fd(c->ctl->loop, c->fd);
	close(c->fd);
	while (c->head) {
		struct chunk *k = c->head;
		c->head = k->next;
		if (k->fd >= 0)
			close(k->fd);
		free(k);
	}
	fdqueue_clear(&c->in_fds);
	if (c->req_fd >= 0)
		close(c->req_fd);
	free(c->in);
	free(c);
}

/* Drops the clients marked dead. Called at the end of every entry point
 * from the loop, never inside an iteration over clients. */
static void reap(struct control *ctl)
{
	for (struct control_client **p = &ctl->clients; *p;) {
		struct control_client *c = *p;
		if (!c->dead) {
			p = &c->next;
			continue;
		}
		*p = c->next;
		client_free(c);
	}
}

static void reply_error(struct control_client *c, json_t *id, const char *cls, const char *desc)
{
	json_t *msg = json_pack("{s:{s:s,s:s}}", "error", "class", cls, "desc", desc);
	if (msg && id)
		json_object_set(msg, "id", id);
	if (msg)
		send_msg(c, msg, -1);
}

int control_take_fd(struct control_client *c)
{
	int fd = c->req_fd;
	c->req_fd = -1;
	return fd;
}

int control_fail(struct control_client *c, const char *cls, const char *fmt, ...)
{
	struct control *ctl = c->ctl;
	va_list ap;
	snprintf(ctl->fail_class, sizeof(ctl->fail_class), "%s", cls);
	va_start(ap, fmt);
	vsnprintf(ctl->fail_desc, sizeof(ctl->fail_desc), fmt, ap);
	va_end(ap);
	return -1;
}

static int query_status(struct control_client *c, json_t *args, struct control_reply *reply,
			void *opaque)
{
	(void)args;
	(void)opaque;
	struct control *ctl = c->ctl;
	pthread_mutex_lock(&ctl->lock);
	reply->ret = json_deep_copy(ctl->status);
	pthread_mutex_unlock(&ctl->lock);
	return reply->ret ? 0 : control_fail(c, CONTROL_E_FAILED, "out of memory");
}

static void dispatch(struct control_client *c, const char *line, size_t len,
		     unsigned long long line_end)
{
	struct control *ctl = c->ctl;
	json_error_t err;
	json_t *req = json_loadb(line, len, JSON_REJECT_DUPLICATES, &err);
	if (!req || !json_is_object(req)) {
		char desc[300];
		snprintf(desc, sizeof(desc), "not a JSON object: %s",
			 req ? "another value" : err.text);
		reply_error(c, NULL, "bad-request", desc);
		json_decref(req);
		return;
	}
	json_t *id = json_object_get(req, "id");
	json_t *exe = json_object_get(req, "execute");
	json_t *args = json_object_get(req, "arguments");
	if (!json_is_string(exe)) {
		reply_error(c, id, "bad-request",
			    "a request needs \"execute\": the command's name");
		goto out;
	}
	if (args && !json_is_object(args)) {
		reply_error(c, id, CONTROL_E_INVALID, "\"arguments\" must be an object");
		goto out;
	}
	const char *name = json_string_value(exe);
	const struct command *cmd = NULL;
	for (unsigned i = 0; i < ctl->ncmds && !cmd; i++)
		if (strcmp(ctl->cmds[i].name, name) == 0)
			cmd = &ctl->cmds[i];
	if (!cmd) {
		char desc[160];
		snprintf(desc, sizeof(desc), "no command '%.64s' (the greeting lists them)", name);
		reply_error(c, id, "unknown-command", desc);
		goto out;
	}
	if (args && json_is_true(json_object_get(args, "fd"))) {
		c->req_fd = fdqueue_claim(&c->in_fds, line_end);
		if (c->req_fd < 0) {
			reply_error(c, id, "bad-request",
				    "the request says \"fd\": true, but no descriptor came with it "
				    "(send it as SCM_RIGHTS with the line's bytes)");
			goto out;
		}
	}
	json_t *empty = args ? NULL : json_object();
	struct control_reply r = {.ret = NULL, .fd = -1};
	ctl->fail_class[0] = 0;
	int rc = cmd->fn(c, args ? args : empty, &r, cmd->opaque);
	json_decref(empty);
	if (c->req_fd >= 0) { /* not the command's to take */
		close(c->req_fd);
		c->req_fd = -1;
	}
	if (rc < 0) {
		if (r.fd >= 0)
			close(r.fd);
		json_decref(r.ret);
		reply_error(c, id, ctl->fail_class[0] ? ctl->fail_class : CONTROL_E_FAILED,
			    ctl->fail_class[0] ? ctl->fail_desc : "the command failed");
		goto out;
	}
	if (!r.ret)
		r.ret = json_object();
	if (r.fd >= 0 && json_is_object(r.ret))
		json_object_set_new(r.ret, "fd", json_true());
	json_t *msg = json_pack("{s:o}", "return", r.ret);
	if (msg && id)
		json_object_set(msg, "id", id);
	if (msg)
		send_msg(c, msg, r.fd);
	else if (r.fd >= 0)
		close(r.fd);
out:
	json_decref(req);
}

/* Reads what the client sent into its line buffer and the descriptors
 * that came with it into its queue. A client that sends more descriptors
 * than its requests take is told so and dropped. */
static ssize_t receive(struct control_client *c)
{
	struct iovec iov = {.iov_base = c->in + c->in_len,
			    .iov_len = LINE_MAX_BYTES + 1 - c->in_len};
	union fdqueue_rx_cmsg u;
	struct msghdr msg = {
	    .msg_iov = &iov, .msg_iovlen = 1, .msg_control = u.buf, .msg_controllen = sizeof(u.buf)};
	ssize_t n = recvmsg(c->fd, &msg, MSG_CMSG_CLOEXEC | MSG_DONTWAIT);
	if (n < 0)
		return n;
	if (!fdqueue_take(&c->in_fds, &msg, c->in_base + c->in_len + (size_t)n)) {
		reply_error(c, NULL, "bad-request",
			    "more descriptors than requests that take them: closing the "
			    "connection");
		c->closing = true;
		flush(c);
		errno = EAGAIN; /* not dead yet: the error goes out first */
		return -1;
	}
	return n;
}

static void on_client(void *opaque, uint32_t events)
{
	struct control_client *c = opaque;
	struct control *ctl = c->ctl;
	if (events & EPOLLOUT)
		flush(c);
	if ((events & (EPOLLIN | EPOLLHUP | EPOLLERR)) && !c->dead && !c->closing) {
		ssize_t n = receive(c);
		if (n <= 0) {
			if (n == 0 || (errno != EAGAIN && errno != EINTR))
				c->dead = true;
		} else {
			c->in_len += (size_t)n;
			size_t start = 0;
			for (size_t i = c->in_len - (size_t)n; i < c->in_len && !c->dead; i++) {
				if (c->in[i] != '\n')
					continue;
				if (i > start)
					dispatch(c, c->in + start, i - start, c->in_base + i + 1);
				fdqueue_drop(&c->in_fds, c->in_base + i + 1);
				start = i + 1;
			}
			memmove(c->in, c->in + start, c->in_len - start);
			c->in_len -= start;
			c->in_base += start;
			if (c->in_len > LINE_MAX_BYTES) {
				reply_error(
				    c, NULL, "bad-request",
				    "a line longer than 65536 bytes: closing the connection");
				c->closing = true;
				flush(c);
			}
		}
	}
	if (!c->dead)
		watch(c);
	reap(ctl);
}

static void on_accept(void *opaque, uint32_t events)
{
	(void)events;
	struct control *ctl = opaque;
	int fd = accept4(ctl->listen_fd, NULL, NULL, SOCK_CLOEXEC | SOCK_NONBLOCK);
	if (fd < 0)
		return;
	struct control_client *c = calloc(1, sizeof(*c));
	char *in = malloc(LINE_MAX_BYTES + 1);
	if (!c || !in || evloop_add_fd(ctl->loop, fd, EPOLLIN, on_client, c) < 0) {
		free(c);
		free(in);
		close(fd);
		return;
	}
	c->ctl = ctl;
	c->fd = fd;
	c->req_fd = -1;
	c->in_fds.max = MAX_IN_FDS;
	c->in = in;
	c->events = EPOLLIN;
	c->next = ctl->clients;
	ctl->clients = c;

	json_t *cmds = json_array();
	for (unsigned i = 0; i < ctl->ncmds; i++)
		json_array_append_new(cmds, json_string(ctl->cmds[i].name));
	send_msg(c,
		 json_pack("{s:{s:s,s:i,s:s,s:o}}", "osio", "version", OSIO_VERSION, "protocol",
			   CONTROL_PROTOCOL, "vm", ctl->name, "commands", cmds),
		 -1);
	reap(ctl);
}

/* --- the socket -------------------------------------------------------- */

/* Binds path, replacing a dead worker's socket; -EADDRINUSE when a live
 * one answers there. */
static int listen_at(struct control *ctl)
{
	struct sockaddr_un sa = {.sun_family = AF_UNIX};
	if (strlen(ctl->path) >= sizeof(sa.sun_path))
		return -ENAMETOOLONG;
	strcpy(sa.sun_path, ctl->path);
	struct stat st;
	if (lstat(ctl->path, &st) == 0) {
		if (!S_ISSOCK(st.st_mode)) {
			log_error("%s exists and is not a socket: remove it", ctl->path);
			return -EEXIST;
		}
		int probe = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
		if (probe < 0)
			return -errno;
		int r = connect(probe, (struct sockaddr *)&sa, sizeof(sa));
		int e = errno;
		close(probe);
		if (r == 0)
			return -EADDRINUSE;
		if (e != ECONNREFUSED && e != ENOENT) {
			log_error("%s: %s", ctl->path, strerror(e));
			return -e;
		}
		/* Nobody listens: a worker died without cleaning up. */
		unlink(ctl->path);
	}
	ctl->listen_fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
	if (ctl->listen_fd < 0)
		return -errno;
	if (bind(ctl->listen_fd, (struct sockaddr *)&sa, sizeof(sa)) < 0) {
		int e = errno;
		if (e != EADDRINUSE)
			log_error("%s: cannot create the control socket: %s", ctl->path,
				  strerror(e));
		return -e;
	}
	/* The directory is private already; the socket is too (in system mode
	 * the group's: its members manage the VM, issue 9). */
	if (chmod(ctl->path, runtime_socket_mode(ctl->path)) < 0 || lstat(ctl->path, &st) < 0 ||
	    listen(ctl->listen_fd, 16) < 0) {
		int e = errno;
		log_error("%s: %s", ctl->path, strerror(e));
		unlink(ctl->path);
		return -e;
	}
	ctl->dev = st.st_dev;
	ctl->ino = st.st_ino;
	return 0;
}

int control_new(struct machine *m, const char *path, const char *vm_name, struct control **out)
{
	struct control *ctl = calloc(1, sizeof(*ctl));
	if (!ctl)
		return -ENOMEM;
	ctl->m = m;
	ctl->listen_fd = -1;
	snprintf(ctl->name, sizeof(ctl->name), "%s", vm_name);
	pthread_mutex_init(&ctl->lock, NULL);
	int r = -ENAMETOOLONG;
	if (strlen(path) >= sizeof(ctl->path)) {
		log_error("%s: too long for a socket path (at most %zu bytes)", path,
			  sizeof(ctl->path) - 1);
		goto fail;
	}
	strcpy(ctl->path, path);
	ctl->status = json_pack("{s:s,s:s,s:I}", "name", vm_name, "state", "starting", "pid",
				(json_int_t)getpid());
	ctl->loop = evloop_new();
	r = -ENOMEM;
	if (!ctl->status || !ctl->loop)
		goto fail;
	r = listen_at(ctl);
	if (r == -EADDRINUSE) {
		log_warn("another VM named '%s' is running (its control socket is %s): this one "
			 "runs without a control socket; give it another --name",
			 vm_name, path);
		goto fail;
	}
	if (r < 0 || (r = evloop_add_fd(ctl->loop, ctl->listen_fd, EPOLLIN, on_accept, ctl)) < 0)
		goto fail;
	control_register(ctl, "query-status", query_status, NULL);
	/* The network adapters the machine has by now (control_net.c). */
	control_net_register(ctl, m);
	*out = ctl;
	return 0;
fail:
	if (ctl->listen_fd >= 0) {
		close(ctl->listen_fd);
		if (ctl->ino)
			unlink(ctl->path);
	}
	evloop_free(ctl->loop);
	json_decref(ctl->status);
	pthread_mutex_destroy(&ctl->lock);
	free(ctl);
	return r;
}

void control_register(struct control *ctl, const char *name, control_cmd_fn fn, void *opaque)
{
	if (ctl->ncmds == MAX_COMMANDS) {
		log_error("control: too many commands (%s)", name);
		return;
	}
	ctl->cmds[ctl->ncmds++] = (struct command){name, fn, opaque};
}

static void *serve(void *opaque)
{
	struct control *ctl = opaque;
	int r = evloop_run(ctl->loop);
	if (r < 0)
		log_error("control: event loop failed: %s", strerror(-r));
	return NULL;
}

int control_run(struct control *ctl)
{
	/* The worker has blocked its signals; this thread inherits that. */
	int r = pthread_create(&ctl->thread, NULL, serve, ctl);
	if (r)
		return -r;
	ctl->running = true;
	return 0;
}

struct posted_event {
	struct control *ctl;
	char name[32];
	json_t *data;
};

static void broadcast(void *opaque)
{
	struct posted_event *e = opaque;
	struct control *ctl = e->ctl;
	for (struct control_client *c = ctl->clients; c; c = c->next)
		if (!c->closing)
			send_msg(c, event_msg(e->name, json_incref(e->data)), -1);
	json_decref(e->data);
	free(e);
	reap(ctl);
}

void control_emit(struct control *ctl, const char *event, json_t *data)
{
	struct posted_event *e = calloc(1, sizeof(*e));
	if (!e) {
		json_decref(data);
		return;
	}
	e->ctl = ctl;
	snprintf(e->name, sizeof(e->name), "%s", event);
	e->data = data ? data : json_object();
	if (evloop_call(ctl->loop, broadcast, e) < 0) {
		json_decref(e->data);
		free(e);
	}
}

void control_set_state(struct control *ctl, const char *state, int status)
{
	if (!ctl)
		return;
	pthread_mutex_lock(&ctl->lock);
	json_object_set_new(ctl->status, "state", json_string(state));
	pthread_mutex_unlock(&ctl->lock);
	json_t *data = json_pack("{s:s}", "state", state);
	if (data && strcmp(state, "off") == 0)
		json_object_set_new(data, "status", json_integer(status));
	control_emit(ctl, "state", data);
}

void control_set_status(struct control *ctl, const char *key, json_t *value)
{
	if (!ctl) {
		json_decref(value);
		return;
	}
	pthread_mutex_lock(&ctl->lock);
	if (value)
		json_object_set_new(ctl->status, key, value);
	else
		json_object_del(ctl->status, key);
	pthread_mutex_unlock(&ctl->lock);
}

static void stop_loop(void *opaque)
{
	struct control *ctl = opaque;
	/* Whatever the sockets take now; the rest is lost with the worker. */
	for (struct control_client *c = ctl->clients; c; c = c->next)
		flush(c);
	evloop_stop(ctl->loop);
}

void control_free(struct control *ctl)
{
	if (!ctl)
		return;
	if (ctl->running) {
		if (evloop_call(ctl->loop, stop_loop, ctl) < 0)
			evloop_stop(ctl->loop);
		pthread_join(ctl->thread, NULL);
	}
	while (ctl->clients) {
		struct control_client *c = ctl->clients;
		ctl->clients = c->next;
		client_free(c);
	}
	for (unsigned i = 0; i < ctl->ncleanups; i++)
		ctl->cleanups[i].fn(ctl->cleanups[i].opaque);
	evloop_del_fd(ctl->loop, ctl->listen_fd);
	close(ctl->listen_fd);
	/* Only if the path is still our socket. */
	struct stat st;
	if (lstat(ctl->path, &st) == 0 && st.st_dev == ctl->dev && st.st_ino == ctl->ino)
		unlink(ctl->path);
	evloop_free(ctl->loop);
	json_decref(ctl->status);
	pthread_mutex_destroy(&ctl->lock);
	free(ctl);
}

/* --- handler helpers --------------------------------------------------- */

struct machine *control_machine(struct control_client *c)
{
	return c->ctl->m;
}

struct control *control_of(struct control_client *c)
{
	return c->ctl;
}

struct evloop *control_loop(struct control *ctl)
{
	return ctl->loop;
}

void control_on_free(struct control *ctl, void (*fn)(void *), void *opaque)
{
	if (ctl->ncleanups < MAX_CLEANUPS) {
		ctl->cleanups[ctl->ncleanups].fn = fn;
		ctl->cleanups[ctl->ncleanups++].opaque = opaque;
	}
}

bool control_client_idle(const struct control_client *c)
{
	return !c->head && !c->dead && !c->closing;
}

int control_send_event(struct control_client *c, const char *event, json_t *data, int fd)
{
	if (!control_client_idle(c)) {
		json_decref(data);
		if (fd >= 0)
			close(fd);
		return -EAGAIN;
	}
	json_t *msg = event_msg(event, data);
	if (msg && fd >= 0)
		json_object_set_new(json_object_get(msg, "data"), "fd", json_true());
	send_msg(c, msg, fd);
	return 0;
}

void *control_client_get(struct control_client *c, const void *key)
{
	for (unsigned i = 0; i < MAX_SLOTS; i++)
		if (c->slots[i].key == key)
			return c->slots[i].data;
	return NULL;
}

void control_client_set(struct control_client *c, const void *key, void *data,
			void (*destroy)(struct control_client *c, void *data))
{
	struct slot *free_slot = NULL;
	for (unsigned i = 0; i < MAX_SLOTS; i++) {
		if (c->slots[i].key == key) {
			free_slot = &c->slots[i];
			break;
		}
		if (!c->slots[i].key && !free_slot)
			free_slot = &c->slots[i];
	}
	if (!free_slot) {
		if (destroy)
			destroy(c, data);
		return;
	}
	*free_slot = (struct slot){data ? key : NULL, data, destroy};
}

void control_for_each_client(struct control *ctl,
			     void (*fn)(struct control_client *c, void *opaque), void *opaque)
{
	for (struct control_client *c = ctl->clients; c; c = c->next)
		if (!c->dead)
			fn(c, opaque);
	reap(ctl);
}
