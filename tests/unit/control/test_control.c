/* The control socket (hypervisor/control*.c) driven by a client written
 * here: greeting, replies and errors, hostile input, send-key/input-key/
 * input-pointer reaching fake devices on the input router, keys released
 * when a client goes, the shared display buffer and its update and resize
 * events, state events, the socket's mode, stale and live sockets. */
#include "devices/display.h"
#include "hypervisor/control.h"
#include "hypervisor/input.h"
#include "hypervisor/machine.h"

#include <errno.h>
#include <fcntl.h>
#include <linux/input-event-codes.h>
#include <poll.h>
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

/* ---- fake devices ---- */

#define LOG_MAX 64

static pthread_mutex_t log_lock = PTHREAD_MUTEX_INITIALIZER;

struct key_log {
	unsigned n;
	unsigned code[LOG_MAX];
	bool down[LOG_MAX];
};

static void record_key(void *opaque, unsigned keycode, bool down)
{
	struct key_log *l = opaque;
	pthread_mutex_lock(&log_lock);
	if (l->n < LOG_MAX) {
		l->code[l->n] = keycode;
		l->down[l->n] = down;
		l->n++;
	}
	pthread_mutex_unlock(&log_lock);
}

struct ptr_log {
	unsigned nabs, nrel;
	unsigned x, y, buttons;
	int dx, dz;
};

static void record_abs(void *opaque, unsigned x, unsigned y, int dz, unsigned buttons)
{
	struct ptr_log *l = opaque;
	pthread_mutex_lock(&log_lock);
	l->nabs++;
	l->x = x;
	l->y = y;
	l->dz = dz;
	l->buttons = buttons;
	pthread_mutex_unlock(&log_lock);
}

static void record_rel(void *opaque, int dx, int dy, int dz, unsigned buttons)
{
	struct ptr_log *l = opaque;
	pthread_mutex_lock(&log_lock);
	l->nrel++;
	l->dx = dx;
	l->dz = dz;
	l->buttons = buttons;
	pthread_mutex_unlock(&log_lock);
}

/* ---- the fixture: a machine without vCPUs and a control socket ---- */

struct fx {
	struct machine m;
	struct control *ctl;
	struct display_surface *s;
	char dir[64], path[128];
	struct key_log keys;
	struct ptr_log ptr;
	struct input_keyboard kbd;
	struct input_pointer abs;
};

static int setup(void **state)
{
	struct fx *f = calloc(1, sizeof(*f));
	assert_non_null(f);
	assert_int_equal(machine_init(&f->m), 0);
	snprintf(f->dir, sizeof(f->dir), "/tmp/osio-test-control-XXXXXX");
	assert_non_null(mkdtemp(f->dir));
	snprintf(f->path, sizeof(f->path), "%s/vm.sock", f->dir);
	f->kbd = (struct input_keyboard){.key = record_key, .opaque = &f->keys};
	f->abs = (struct input_pointer){.rel = record_rel, .abs = record_abs, .opaque = &f->ptr};
	assert_int_equal(input_add_keyboard(&f->m, &f->kbd), 0);
	assert_int_equal(input_add_pointer(&f->m, &f->abs), 0);
	f->s = display_new(64, 32);
	assert_non_null(f->s);
	assert_int_equal(control_new(&f->m, f->path, "testvm", &f->ctl), 0);
	control_set_status(f->ctl, "cpus", json_integer(2));
	control_input_register(f->ctl);
	assert_int_equal(control_display_register(f->ctl, f->s), 0);
	assert_int_equal(control_run(f->ctl), 0);
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fx *f = *state;
	control_free(f->ctl);
	/* The socket is gone with the server. */
	assert_int_equal(access(f->path, F_OK), -1);
	display_put(f->s);
	input_remove_pointer(&f->m, &f->abs);
	input_remove_keyboard(&f->m, &f->kbd);
	machine_destroy(&f->m);
	rmdir(f->dir);
	free(f);
	return 0;
}

/* ---- a client ---- */

struct cl {
	int fd;
	char buf[1 << 17];
	size_t len;
	int fds[8];
	unsigned nfds;
};

static struct cl *cl_connect(const char *path)
{
	struct cl *c = calloc(1, sizeof(*c));
	struct sockaddr_un sa = {.sun_family = AF_UNIX};
	strcpy(sa.sun_path, path);
	c->fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	assert_int_equal(connect(c->fd, (struct sockaddr *)&sa, sizeof(sa)), 0);
	return c;
}

static void cl_close(struct cl *c)
{
	for (unsigned i = 0; i < c->nfds; i++)
		close(c->fds[i]);
	close(c->fd);
	free(c);
}

/* The next line as JSON, or NULL on timeout (ms) or end of stream. */
static json_t *cl_read(struct cl *c, int timeout_ms)
{
	for (;;) {
		char *nl = memchr(c->buf, '\n', c->len);
		if (nl) {
			json_t *j = json_loadb(c->buf, (size_t)(nl - c->buf), 0, NULL);
			c->len -= (size_t)(nl + 1 - c->buf);
			memmove(c->buf, nl + 1, c->len);
			assert_non_null(j);
			return j;
		}
		struct pollfd p = {.fd = c->fd, .events = POLLIN};
		if (poll(&p, 1, timeout_ms) != 1)
			return NULL;
		union {
			char b[CMSG_SPACE(4 * sizeof(int))];
			struct cmsghdr align;
		} u;
		struct iovec iov = {.iov_base = c->buf + c->len,
				    .iov_len = sizeof(c->buf) - c->len};
		struct msghdr msg = {.msg_iov = &iov,
				     .msg_iovlen = 1,
				     .msg_control = u.b,
				     .msg_controllen = sizeof(u.b)};
		ssize_t n = recvmsg(c->fd, &msg, MSG_CMSG_CLOEXEC);
		if (n <= 0)
			return NULL;
		for (struct cmsghdr *cm = CMSG_FIRSTHDR(&msg); cm; cm = CMSG_NXTHDR(&msg, cm)) {
			if (cm->cmsg_type != SCM_RIGHTS)
				continue;
			unsigned k = (unsigned)((cm->cmsg_len - CMSG_LEN(0)) / sizeof(int));
			for (unsigned i = 0; i < k && c->nfds < 8; i++)
				memcpy(&c->fds[c->nfds++], CMSG_DATA(cm) + i * sizeof(int),
				       sizeof(int));
		}
		c->len += (size_t)n;
	}
}

static int cl_take_fd(struct cl *c)
{
	assert_true(c->nfds > 0);
	int fd = c->fds[0];
	memmove(c->fds, c->fds + 1, --c->nfds * sizeof(int));
	return fd;
}

static void cl_send(struct cl *c, const char *text)
{
	size_t len = strlen(text);
	assert_int_equal(write(c->fd, text, len), (ssize_t)len);
}

/* Sends text with n descriptors as SCM_RIGHTS on its bytes. */
static void cl_send_fds(struct cl *c, const char *text, const int *fds, unsigned n)
{
	union {
		char b[CMSG_SPACE(16 * sizeof(int))];
		struct cmsghdr align;
	} u;
	memset(&u, 0, sizeof(u));
	struct iovec iov = {.iov_base = (void *)text, .iov_len = strlen(text)};
	struct msghdr msg = {.msg_iov = &iov,
			     .msg_iovlen = 1,
			     .msg_control = u.b,
			     .msg_controllen = CMSG_SPACE(n * sizeof(int))};
	struct cmsghdr *cm = CMSG_FIRSTHDR(&msg);
	cm->cmsg_level = SOL_SOCKET;
	cm->cmsg_type = SCM_RIGHTS;
	cm->cmsg_len = CMSG_LEN(n * sizeof(int));
	memcpy(CMSG_DATA(cm), fds, n * sizeof(int));
	assert_int_equal(sendmsg(c->fd, &msg, 0), (ssize_t)strlen(text));
}

/* Sends a request line and returns the reply (events before it skipped). */
static json_t *cl_call(struct cl *c, const char *line)
{
	cl_send(c, line);
	cl_send(c, "\n");
	for (;;) {
		json_t *j = cl_read(c, 5000);
		assert_non_null(j);
		if (!json_object_get(j, "event"))
			return j;
		json_decref(j);
	}
}

static const char *error_class(json_t *reply)
{
	return json_string_value(json_object_get(json_object_get(reply, "error"), "class"));
}

static struct cl *cl_greeted(struct fx *f)
{
	struct cl *c = cl_connect(f->path);
	json_t *g = cl_read(c, 5000);
	assert_non_null(g);
	json_decref(g);
	return c;
}

/* ---- tests ---- */

static void test_greeting_and_status(void **state)
{
	struct fx *f = *state;
	struct stat st;
	assert_int_equal(stat(f->path, &st), 0);
	assert_true(S_ISSOCK(st.st_mode));
	assert_int_equal(st.st_mode & 0777, 0600);

	struct cl *c = cl_connect(f->path);
	json_t *g = cl_read(c, 5000);
	json_t *o = json_object_get(g, "osio");
	assert_int_equal(json_integer_value(json_object_get(o, "protocol")), CONTROL_PROTOCOL);
	assert_string_equal(json_string_value(json_object_get(o, "vm")), "testvm");
	json_t *cmds = json_object_get(o, "commands");
	bool have_send_key = false;
	size_t i;
	json_t *v;
	json_array_foreach(cmds, i, v) have_send_key |=
	    strcmp(json_string_value(v), "send-key") == 0;
	assert_true(have_send_key);
	json_decref(g);

	json_t *r = cl_call(c, "{\"execute\":\"query-status\",\"id\":[1,\"x\"]}");
	json_t *ret = json_object_get(r, "return");
	assert_string_equal(json_string_value(json_object_get(ret, "name")), "testvm");
	assert_string_equal(json_string_value(json_object_get(ret, "state")), "starting");
	assert_int_equal(json_integer_value(json_object_get(ret, "cpus")), 2);
	assert_int_equal(json_integer_value(json_object_get(ret, "pid")), getpid());
	/* The id comes back as sent. */
	json_t *id = json_pack("[i,s]", 1, "x");
	assert_true(json_equal(json_object_get(r, "id"), id));
	json_decref(id);
	json_decref(r);

	/* A state change is an event and shows in the status. */
	control_set_state(f->ctl, "resetting", 0);
	json_t *e = cl_read(c, 5000);
	assert_string_equal(json_string_value(json_object_get(e, "event")), "state");
	assert_string_equal(json_string_value(json_object_get(json_object_get(e, "data"), "state")),
			    "resetting");
	assert_non_null(json_object_get(json_object_get(e, "timestamp"), "seconds"));
	json_decref(e);
	r = cl_call(c, "{\"execute\":\"query-status\"}");
	assert_string_equal(
	    json_string_value(json_object_get(json_object_get(r, "return"), "state")), "resetting");
	assert_null(json_object_get(r, "id"));
	json_decref(r);
	cl_close(c);
}

static void test_bad_requests(void **state)
{
	struct fx *f = *state;
	struct cl *c = cl_greeted(f);
	static const struct {
		const char *line, *cls;
	} cases[] = {
	    {"{nonsense", "bad-request"},
	    {"[1,2,3]", "bad-request"},
	    {"\"execute\"", "bad-request"},
	    {"{\"id\":3}", "bad-request"},
	    {"{\"execute\":42}", "bad-request"},
	    {"{\"execute\":\"query-status\",\"arguments\":[]}", "invalid-argument"},
	    {"{\"execute\":\"no-such-thing\"}", "unknown-command"},
	    {"{\"execute\":\"send-key\"}", "invalid-argument"},
	    {"{\"execute\":\"send-key\",\"arguments\":{\"keys\":\"ctrl-alt-dle\"}}",
	     "invalid-argument"},
	    {"{\"execute\":\"send-key\",\"arguments\":{\"keys\":\"a-b-c-d-e-f-g-h-i\"}}",
	     "invalid-argument"},
	    {"{\"execute\":\"send-key\",\"arguments\":{\"keys\":[]}}", "invalid-argument"},
	    {"{\"execute\":\"send-key\",\"arguments\":{\"keys\":[99999]}}", "invalid-argument"},
	    {"{\"execute\":\"input-key\",\"arguments\":{\"key\":\"a\"}}", "invalid-argument"},
	    {"{\"execute\":\"input-pointer\",\"arguments\":{\"x\":5,\"y\":5}}", "invalid-argument"},
	    {"{\"execute\":\"input-pointer\",\"arguments\":{\"x\":640,\"y\":5,\"width\":640,"
	     "\"height\":480}}",
	     "invalid-argument"},
	    {"{\"execute\":\"input-pointer\",\"arguments\":{\"x\":1,\"y\":1,\"dx\":1,\"width\":9,"
	     "\"height\":9}}",
	     "invalid-argument"},
	    {"{\"execute\":\"input-pointer\",\"arguments\":{\"dx\":1,\"buttons\":8}}",
	     "invalid-argument"},
	    {"{\"execute\":\"screenshot\",\"arguments\":{\"file\":\"relative.png\"}}",
	     "invalid-argument"},
	    {"{\"execute\":\"screenshot\",\"arguments\":{\"file\":\"/nonexistent/dir/x.png\"}}",
	     "failed"},
	};
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		json_t *r = cl_call(c, cases[i].line);
		const char *cls = error_class(r);
		if (!cls || strcmp(cls, cases[i].cls) != 0)
			fail_msg("%s: got %s, expected %s", cases[i].line, cls ? cls : "success",
				 cases[i].cls);
		json_decref(r);
	}
	/* Blank lines are nothing; the connection still works. */
	cl_send(c, "\n\n");
	json_t *r = cl_call(c, "{\"execute\":\"query-status\"}");
	assert_non_null(json_object_get(r, "return"));
	json_decref(r);
	pthread_mutex_lock(&log_lock);
	assert_int_equal(f->keys.n, 0);
	assert_int_equal(f->ptr.nabs + f->ptr.nrel, 0);
	pthread_mutex_unlock(&log_lock);
	cl_close(c);
}

/* A line past 64 KiB: an error, then the server hangs up; others go on. */
static void test_overlong_line(void **state)
{
	struct fx *f = *state;
	struct cl *c = cl_greeted(f), *other = cl_greeted(f);
	char *big = malloc(70000);
	memset(big, 'x', 69999);
	big[69999] = 0;
	cl_send(c, big);
	free(big);
	json_t *r = cl_read(c, 5000);
	assert_non_null(r);
	assert_string_equal(error_class(r), "bad-request");
	json_decref(r);
	assert_null(cl_read(c, 5000)); /* closed */
	r = cl_call(other, "{\"execute\":\"query-status\"}");
	assert_non_null(json_object_get(r, "return"));
	json_decref(r);
	cl_close(c);
	cl_close(other);
}

/* Garbage bytes, a flood of requests nobody reads the answers to: the
 * flooder is dropped or stalled, never the server. */
static void test_flood(void **state)
{
	struct fx *f = *state;
	struct cl *c = cl_greeted(f), *other = cl_greeted(f);
	char junk[4096];
	for (size_t i = 0; i < sizeof(junk); i++)
		junk[i] = (char)(i * 37 + 11);
	junk[sizeof(junk) - 1] = '\n';
	/* Nonblocking sends: the server may stop reading us. */
	for (int i = 0; i < 2000; i++) {
		if (send(c->fd, junk, sizeof(junk), MSG_DONTWAIT | MSG_NOSIGNAL) < 0)
			break;
		if (send(c->fd, "{\"execute\":\"query-status\"}\n", 27,
			 MSG_DONTWAIT | MSG_NOSIGNAL) < 0)
			break;
	}
	json_t *r = cl_call(other, "{\"execute\":\"query-status\"}");
	assert_non_null(json_object_get(r, "return"));
	json_decref(r);
	cl_close(c);
	cl_close(other);
}

static void test_send_key(void **state)
{
	struct fx *f = *state;
	struct cl *c = cl_greeted(f);
	json_t *r = cl_call(
	    c, "{\"execute\":\"send-key\",\"arguments\":{\"keys\":\"ctrl-alt-delete\"},\"id\":1}");
	assert_non_null(json_object_get(r, "return"));
	json_decref(r);
	r = cl_call(c, "{\"execute\":\"send-key\",\"arguments\":{\"keys\":[\"shift\",30]}}");
	assert_non_null(json_object_get(r, "return"));
	json_decref(r);
	static const unsigned want[] = {KEY_LEFTCTRL, KEY_LEFTALT,  KEY_DELETE,	   KEY_DELETE,
					KEY_LEFTALT,  KEY_LEFTCTRL, KEY_LEFTSHIFT, KEY_A,
					KEY_A,	      KEY_LEFTSHIFT};
	static const bool down[] = {1, 1, 1, 0, 0, 0, 1, 1, 0, 0};
	pthread_mutex_lock(&log_lock);
	assert_int_equal(f->keys.n, 10);
	for (unsigned i = 0; i < 10; i++) {
		assert_int_equal(f->keys.code[i], want[i]);
		assert_int_equal(f->keys.down[i], down[i]);
	}
	pthread_mutex_unlock(&log_lock);
	cl_close(c);
}

/* Keys a client pressed and did not release come up when it goes. */
static void test_keys_released_on_disconnect(void **state)
{
	struct fx *f = *state;
	struct cl *c = cl_greeted(f);
	json_t *r = cl_call(c, "{\"execute\":\"input-key\",\"arguments\":{\"key\":\"f\","
			       "\"down\":true}}");
	json_decref(r);
	r = cl_call(c, "{\"execute\":\"input-key\",\"arguments\":{\"key\":\"leftshift\","
		       "\"down\":true}}");
	json_decref(r);
	r = cl_call(c, "{\"execute\":\"input-key\",\"arguments\":{\"key\":\"f\","
		       "\"down\":false}}");
	json_decref(r);
	cl_close(c);
	/* The server notices the hang-up on its own thread. */
	for (int i = 0; i < 500; i++) {
		pthread_mutex_lock(&log_lock);
		unsigned n = f->keys.n;
		pthread_mutex_unlock(&log_lock);
		if (n == 4)
			break;
		usleep(10000);
	}
	pthread_mutex_lock(&log_lock);
	assert_int_equal(f->keys.n, 4);
	assert_int_equal(f->keys.code[3], KEY_LEFTSHIFT);
	assert_false(f->keys.down[3]);
	pthread_mutex_unlock(&log_lock);
}

static void test_pointer(void **state)
{
	struct fx *f = *state;
	struct cl *c = cl_greeted(f);
	json_t *r = cl_call(c, "{\"execute\":\"input-pointer\",\"arguments\":{\"x\":639,\"y\":0,"
			       "\"width\":640,\"height\":480,\"buttons\":5,\"dz\":-1}}");
	assert_non_null(json_object_get(r, "return"));
	json_decref(r);
	pthread_mutex_lock(&log_lock);
	assert_int_equal(f->ptr.nabs, 1);
	assert_int_equal(f->ptr.x, 0xffff);
	assert_int_equal(f->ptr.y, 0);
	assert_int_equal(f->ptr.buttons, 5);
	assert_int_equal(f->ptr.dz, -1);
	pthread_mutex_unlock(&log_lock);
	r = cl_call(c, "{\"execute\":\"input-pointer\",\"arguments\":{\"dx\":-7,\"dy\":3}}");
	json_decref(r);
	pthread_mutex_lock(&log_lock);
	assert_int_equal(f->ptr.nrel, 1);
	assert_int_equal(f->ptr.dx, -7);
	pthread_mutex_unlock(&log_lock);
	cl_close(c);
}

static void draw(struct display_surface *s, unsigned x, unsigned y, uint32_t color)
{
	struct display_view v;
	display_lock(s, &v);
	v.pixels[y * v.width + x] = color;
	display_damage_locked(s, x, y, 1, 1);
	display_unlock(s);
}

static json_t *next_event(struct cl *c, const char *name)
{
	for (int i = 0; i < 100; i++) {
		json_t *e = cl_read(c, 5000);
		assert_non_null(e);
		const char *n = json_string_value(json_object_get(e, "event"));
		if (n && strcmp(n, name) == 0)
			return e;
		json_decref(e);
	}
	fail_msg("no %s event", name);
	return NULL;
}

static void test_display(void **state)
{
	struct fx *f = *state;
	draw(f->s, 3, 4, 0x00ff8800);
	struct cl *c = cl_greeted(f);
	json_t *r = cl_call(c, "{\"execute\":\"display-attach\",\"id\":9}");
	json_t *ret = json_object_get(r, "return");
	assert_non_null(ret);
	assert_int_equal(json_integer_value(json_object_get(ret, "width")), 64);
	assert_int_equal(json_integer_value(json_object_get(ret, "height")), 32);
	assert_int_equal(json_integer_value(json_object_get(ret, "stride")), 256);
	assert_string_equal(json_string_value(json_object_get(ret, "format")), "xrgb8888");
	assert_true(json_is_true(json_object_get(ret, "fd")));
	size_t size = (size_t)json_integer_value(json_object_get(ret, "size"));
	assert_int_equal(size, 64 * 32 * 4);
	json_decref(r);
	int fd = cl_take_fd(c);
	/* Read-only for the client. */
	assert_true(mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0) == MAP_FAILED);
	uint32_t *px = mmap(NULL, size, PROT_READ, MAP_SHARED, fd, 0);
	assert_true(px != MAP_FAILED);
	close(fd);
	assert_int_equal(px[4 * 64 + 3], 0x00ff8800);

	/* A change: an update naming it, with the pixel in the buffer. */
	draw(f->s, 40, 20, 0x00123456);
	json_t *e = next_event(c, "display-update");
	json_t *rects = json_object_get(json_object_get(e, "data"), "rects");
	assert_true(json_array_size(rects) >= 1);
	bool covered = false;
	size_t i;
	json_t *rc;
	json_array_foreach(rects, i, rc)
	{
		json_int_t x = json_integer_value(json_array_get(rc, 0));
		json_int_t y = json_integer_value(json_array_get(rc, 1));
		json_int_t w = json_integer_value(json_array_get(rc, 2));
		json_int_t h = json_integer_value(json_array_get(rc, 3));
		covered |= x <= 40 && 40 < x + w && y <= 20 && 20 < y + h;
		/* Only the changed tile, not the whole picture. */
		assert_true(w * h < 64 * 32);
	}
	assert_true(covered);
	assert_int_equal(px[20 * 64 + 40], 0x00123456);
	json_decref(e);
	/* Nothing changes: nothing is sent. */
	assert_null(cl_read(c, 200));

	/* A mode change: a new buffer. */
	struct display_view v;
	display_lock(f->s, &v);
	assert_int_equal(display_resize_locked(f->s, 100, 50, &v), 0);
	v.pixels[99] = 0x00abcdef;
	display_unlock(f->s);
	e = next_event(c, "display-resize");
	json_t *d = json_object_get(e, "data");
	assert_int_equal(json_integer_value(json_object_get(d, "width")), 100);
	assert_int_equal(json_integer_value(json_object_get(d, "height")), 50);
	assert_true(json_is_true(json_object_get(d, "fd")));
	size_t size2 = (size_t)json_integer_value(json_object_get(d, "size"));
	assert_int_equal(size2, 100 * 50 * 4);
	json_decref(e);
	fd = cl_take_fd(c);
	uint32_t *px2 = mmap(NULL, size2, PROT_READ, MAP_SHARED, fd, 0);
	assert_true(px2 != MAP_FAILED);
	close(fd);
	assert_int_equal(px2[99], 0x00abcdef);

	/* Detached: no more events. */
	r = cl_call(c, "{\"execute\":\"display-detach\"}");
	json_decref(r);
	draw(f->s, 1, 1, 0x00ffffff);
	assert_null(cl_read(c, 200));
	munmap(px, size);
	munmap(px2, size2);

	/* A screenshot of the same picture. */
	char png[128];
	snprintf(png, sizeof(png), "%s/shot.png", f->dir);
	char line[300];
	snprintf(line, sizeof(line), "{\"execute\":\"screenshot\",\"arguments\":{\"file\":\"%s\"}}",
		 png);
	r = cl_call(c, line);
	assert_int_equal(json_integer_value(json_object_get(json_object_get(r, "return"), "width")),
			 100);
	json_decref(r);
	struct stat st;
	assert_int_equal(stat(png, &st), 0);
	assert_true(st.st_size > 50);
	unlink(png);
	cl_close(c);
}

/* A second server on the same path finds the live one; after the first one
 * is gone (its socket left behind, as by a crash), the path is taken over. */
/* Whether the other end of pipe p[0] is closed everywhere: no writer. */
static bool writers_gone(int rfd)
{
	struct pollfd p = {.fd = rfd, .events = POLLIN};
	for (int i = 0; i < 100; i++) {
		if (poll(&p, 1, 50) == 1 && (p.revents & POLLHUP))
			return true;
	}
	return false;
}

/* Descriptors from the client: taken by the request that says "fd": true,
 * in order; one no request claims is closed, not handed to a later one. */
static void test_fd_passing(void **state)
{
	struct fx *f = *state;
	draw(f->s, 1, 1, 0x00ffffff);
	struct cl *c = cl_greeted(f);
	char path[160];
	snprintf(path, sizeof(path), "%s/shot.png", f->dir);

	/* A screenshot into a file the client opened. */
	int fd = open(path, O_RDWR | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	assert_true(fd >= 0);
	cl_send_fds(c, "{\"execute\":\"screenshot\",\"arguments\":{\"fd\":true},\"id\":1}\n",
		    &fd, 1);
	json_t *r = cl_read(c, 5000);
	json_t *ret = json_object_get(r, "return");
	assert_non_null(ret);
	assert_int_equal(json_integer_value(json_object_get(ret, "width")), 64);
	json_decref(r);
	unsigned char sig[8];
	assert_int_equal(pread(fd, sig, 8, 0), 8);
	assert_memory_equal(sig, "\x89PNG\r\n\x1a\n", 8);
	close(fd);
	unlink(path);

	/* "fd": true with none: refused. */
	r = cl_call(c, "{\"execute\":\"screenshot\",\"arguments\":{\"fd\":true},\"id\":2}");
	assert_string_equal(error_class(r), "bad-request");
	assert_non_null(strstr(json_string_value(json_object_get(json_object_get(r, "error"),
								 "desc")),
			       "no descriptor"));
	json_decref(r);

	/* One sent with a request that does not take it is closed, and the
	 * next request that says "fd": true without one does not get it. */
	int p[2];
	assert_int_equal(pipe2(p, O_CLOEXEC), 0);
	cl_send_fds(c, "{\"execute\":\"query-status\",\"id\":3}\n", &p[1], 1);
	close(p[1]);
	r = cl_read(c, 5000);
	assert_non_null(json_object_get(r, "return"));
	json_decref(r);
	assert_true(writers_gone(p[0]));
	close(p[0]);
	r = cl_call(c, "{\"execute\":\"screenshot\",\"arguments\":{\"fd\":true},\"id\":4}");
	assert_string_equal(error_class(r), "bad-request");
	json_decref(r);

	/* A descriptor the command cannot use: its error. */
	fd = open("/dev/null", O_RDONLY | O_CLOEXEC);
	cl_send_fds(c, "{\"execute\":\"screenshot\",\"arguments\":{\"fd\":true},\"id\":5}\n",
		    &fd, 1);
	close(fd);
	r = cl_read(c, 5000);
	assert_string_equal(error_class(r), "failed");
	json_decref(r);

	/* Still usable; then a flood of descriptors ends the connection. */
	r = cl_call(c, "{\"execute\":\"query-status\",\"id\":6}");
	assert_non_null(json_object_get(r, "return"));
	json_decref(r);
	int many[12];
	for (int i = 0; i < 12; i++)
		many[i] = open("/dev/null", O_RDONLY | O_CLOEXEC);
	cl_send_fds(c, "{\"execute\":\"query-status\",\"id\":7}\n", many, 12);
	for (int i = 0; i < 12; i++)
		close(many[i]);
	bool told = false;
	while ((r = cl_read(c, 5000))) {
		const char *d = json_string_value(
		    json_object_get(json_object_get(r, "error"), "desc"));
		told |= d && strstr(d, "more descriptors");
		json_decref(r);
	}
	assert_true(told);
	cl_close(c);
}

static void test_live_and_stale_sockets(void **state)
{
	struct fx *f = *state;
	struct control *second;
	assert_int_equal(control_new(&f->m, f->path, "testvm", &second), -EADDRINUSE);

	char stale[160];
	snprintf(stale, sizeof(stale), "%s/stale.sock", f->dir);
	int s = socket(AF_UNIX, SOCK_STREAM, 0);
	struct sockaddr_un sa = {.sun_family = AF_UNIX};
	strcpy(sa.sun_path, stale);
	assert_int_equal(bind(s, (struct sockaddr *)&sa, sizeof(sa)), 0);
	close(s); /* bound, never listening: what a dead worker leaves */
	assert_int_equal(control_new(&f->m, stale, "other", &second), 0);
	assert_int_equal(control_run(second), 0);
	struct cl *c = cl_connect(stale);
	json_t *g = cl_read(c, 5000);
	assert_string_equal(json_string_value(json_object_get(json_object_get(g, "osio"), "vm")),
			    "other");
	json_decref(g);
	cl_close(c);
	control_free(second);
	assert_int_equal(access(stale, F_OK), -1);

	/* Not a socket: refused, and left alone. */
	int fd = open(stale, O_CREAT | O_WRONLY, 0600);
	close(fd);
	assert_int_equal(control_new(&f->m, stale, "other", &second), -EEXIST);
	assert_int_equal(access(stale, F_OK), 0);
	unlink(stale);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test_setup_teardown(test_greeting_and_status, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_bad_requests, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_overlong_line, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_flood, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_send_key, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_keys_released_on_disconnect, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_pointer, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_display, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_fd_passing, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_live_and_stale_sockets, setup, teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
