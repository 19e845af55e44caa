/* The control socket's client (hypervisor/ctlclient.c) against a fake worker on
 * the other end of a socketpair: the greeting, replies matched by id, events
 * in between, descriptors passed and claimed, errors, and a hostile worker
 * (overlong line, bad JSON, descriptors nobody claims, wrong ids). */
#include "hypervisor/ctlclient.h"
#include "tests/lib/fakeworker.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

#define GREETING "{\"osio\": {\"version\": \"0.4.0\", \"protocol\": 2, \"vm\": \"demo\"}}\n"

/* The worker's end: one line, with a descriptor when fd >= 0. */
static void srv_send_fd(int s, const char *line, int fd)
{
	assert_true(fakeworker_send(s, line, fd));
}

static void srv_send(int s, const char *line)
{
	srv_send_fd(s, line, -1);
}

/* Reads one request line the client sent (1 s at most). */
static json_t *srv_recv(int s)
{
	char line[4096];
	assert_true(fakeworker_recv_line(s, line, sizeof(line), 1000) > 0);
	json_t *j = json_loads(line, 0, NULL);
	assert_non_null(j);
	return j;
}

/* A pipe: the test keeps the read end and hands the write end over; the
 * read end sees EOF once every copy of the write end is closed. */
static void make_pipe(int p[2])
{
	assert_int_equal(pipe2(p, O_CLOEXEC), 0);
	assert_int_equal(fcntl(p[0], F_SETFL, O_NONBLOCK), 0);
}

static bool closed_everywhere(int rd)
{
	char c;
	return read(rd, &c, 1) == 0;
}

struct events {
	int n;
	char names[8][32];
	int fds[8];
	long long data_n[8];
	int replies;
	long long reply_id[8];
	char reply_cls[8][32];
};

static void on_event(void *opaque, const char *name, json_t *data, int fd)
{
	struct events *e = opaque;
	if (e->n < 8) {
		snprintf(e->names[e->n], sizeof(e->names[0]), "%s", name);
		e->fds[e->n] = fd;
		e->data_n[e->n] = json_integer_value(json_object_get(data, "n"));
		e->n++;
	} else if (fd >= 0) {
		close(fd);
	}
}

static void on_reply(void *opaque, long long id, json_t *ret, const char *cls, const char *desc)
{
	struct events *e = opaque;
	if (e->replies < 8) {
		e->reply_id[e->replies] = id;
		snprintf(e->reply_cls[e->replies], sizeof(e->reply_cls[0]), "%s", ret ? "ok" : cls);
		e->replies++;
	}
}

struct fixture {
	int srv;
	struct ctl_client *c;
	struct events ev;
	char err[600];
};

/* A client connected to a fake worker that has greeted it. */
static struct fixture *open_fixture(const char *greeting)
{
	struct fixture *f = calloc(1, sizeof(*f));
	int sv[2];
	assert_non_null(f);
	assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv), 0);
	f->srv = sv[0];
	srv_send(f->srv, greeting);
	struct ctl_handlers h = {.event = on_event, .reply = on_reply, .opaque = &f->ev};
	int r = ctl_open_fd(sv[1], "fake", &h, &f->c, f->err, sizeof(f->err));
	if (r < 0)
		f->c = NULL;
	return f;
}

static void close_fixture(struct fixture *f)
{
	ctl_close(f->c);
	for (int i = 0; i < f->ev.n; i++)
		if (f->ev.fds[i] >= 0)
			close(f->ev.fds[i]);
	close(f->srv);
	free(f);
}

static void test_greeting(void **state)
{
	struct fixture *f = open_fixture(GREETING);
	assert_non_null(f->c);
	assert_string_equal(ctl_vm_name(f->c), "demo");
	assert_int_equal(ctl_protocol(f->c), 2);
	close_fixture(f);
}

static int open_fails(const char *greeting, char *err, size_t len)
{
	int sv[2];
	assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv), 0);
	if (greeting)
		srv_send(sv[0], greeting);
	shutdown(sv[0], SHUT_WR);
	struct ctl_client *c = NULL;
	int r = ctl_open_fd(sv[1], "fake", NULL, &c, err, len);
	assert_null(c);
	close(sv[0]);
	return r;
}

static void test_bad_greetings(void **state)
{
	char err[600];
	assert_int_equal(
	    open_fails("{\"osio\": {\"protocol\": 1, \"vm\": \"x\"}}\n", err, sizeof(err)),
	    -EPROTO);
	assert_non_null(strstr(err, "older"));
	assert_int_equal(open_fails("{\"return\": {}}\n", err, sizeof(err)), -EPROTO);
	assert_non_null(strstr(err, "greeting"));
	assert_int_equal(open_fails("{\"osio\": {\"vm\": \"x\"}}\n", err, sizeof(err)), -EPROTO);
	assert_int_equal(open_fails("SSH-2.0-OpenSSH\n", err, sizeof(err)), -EPROTO);
	assert_non_null(strstr(err, "JSON"));
	assert_int_equal(open_fails(NULL, err, sizeof(err)), -ECONNRESET);
	assert_non_null(strstr(err, "closed the connection"));
	/* A newer protocol is taken: it keeps the old commands. */
	struct fixture *f =
	    open_fixture("{\"osio\": {\"protocol\": 3, \"vm\": \"a\\u0001b\", \"new\": 1}}\n");
	assert_non_null(f->c);
	assert_string_equal(ctl_vm_name(f->c), "a?b");
	close_fixture(f);
}

static void test_call_and_events(void **state)
{
	struct fixture *f = open_fixture(GREETING);
	assert_non_null(f->c);
	/* Events before and after the reply; the reply is matched by id. */
	srv_send(f->srv, "{\"event\": \"state\", \"data\": {\"n\": 1}}\n");
	srv_send(f->srv, "{\"event\": \"display-update\", \"data\": {\"n\": 2}}\n"
			 "{\"return\": {\"name\": \"demo\"}, \"id\": 1}\n"
			 "{\"event\": \"state\", \"data\": {\"n\": 3}}\n");
	json_t *ret;
	int fd;
	assert_int_equal(ctl_call(f->c, "query-status", NULL, &ret, &fd, 1000), 0);
	assert_string_equal(json_string_value(json_object_get(ret, "name")), "demo");
	assert_int_equal(fd, -1);
	json_decref(ret);
	/* The events before the reply came first; the one after it with it or later. */
	assert_true(f->ev.n >= 2);
	while (f->ev.n < 3)
		assert_int_equal(ctl_read(f->c, 1000), 1);
	assert_int_equal(f->ev.n, 3);
	assert_string_equal(f->ev.names[0], "state");
	assert_string_equal(f->ev.names[1], "display-update");
	for (int i = 0; i < 3; i++)
		assert_int_equal(f->ev.data_n[i], i + 1);

	json_t *req = srv_recv(f->srv);
	assert_string_equal(json_string_value(json_object_get(req, "execute")), "query-status");
	assert_int_equal(json_integer_value(json_object_get(req, "id")), 1);
	assert_null(json_object_get(req, "arguments"));
	json_decref(req);

	/* Ids go up; arguments travel; an error reply. */
	srv_send(f->srv, "{\"error\": {\"class\": \"invalid-argument\", \"desc\": \"unknown key "
			 "'dle'\"}, \"id\": 2}\n");
	assert_int_equal(ctl_call(f->c, "send-key", json_pack("{s:s}", "keys", "ctrl-alt-dle"),
				  NULL, NULL, 1000),
			 -EREMOTEIO);
	assert_string_equal(ctl_error(f->c), "unknown key 'dle'");
	assert_string_equal(ctl_error_class(f->c), "invalid-argument");
	req = srv_recv(f->srv);
	assert_int_equal(json_integer_value(json_object_get(req, "id")), 2);
	assert_string_equal(
	    json_string_value(json_object_get(json_object_get(req, "arguments"), "keys")),
	    "ctrl-alt-dle");
	json_decref(req);

	/* Replies to ctl_send go to the handler, in order. */
	long long id1, id2;
	assert_int_equal(
	    ctl_send(f->c, "input-key", json_pack("{s:i,s:b}", "key", 30, "down", 1), &id1), 0);
	assert_int_equal(ctl_send(f->c, "input-key", NULL, &id2), 0);
	assert_int_equal(id1, 3);
	assert_int_equal(id2, 4);
	srv_send(f->srv, "{\"return\": {}, \"id\": 3}\n{\"error\": {\"class\": \"unavailable\", "
			 "\"desc\": \"x\"}, \"id\": 4}\n");
	while (f->ev.replies < 2)
		assert_int_equal(ctl_read(f->c, 1000), 1);
	assert_int_equal(f->ev.reply_id[0], 3);
	assert_string_equal(f->ev.reply_cls[0], "ok");
	assert_int_equal(f->ev.reply_id[1], 4);
	assert_string_equal(f->ev.reply_cls[1], "unavailable");

	/* Nothing more: a timeout, then the worker goes. */
	assert_int_equal(ctl_read(f->c, 10), 0);
	assert_int_equal(ctl_call(f->c, "query-status", NULL, NULL, NULL, 50), -ETIMEDOUT);
	close_fixture(f);
}

static void test_connection_closes(void **state)
{
	struct fixture *f = open_fixture(GREETING);
	assert_non_null(f->c);
	srv_send(f->srv, "{\"event\": \"state\", \"data\": {\"state\": \"off\"}}\n");
	shutdown(f->srv, SHUT_WR);
	assert_int_equal(ctl_call(f->c, "query-status", NULL, NULL, NULL, 1000), -ECONNRESET);
	assert_int_equal(f->ev.n, 1);
	assert_non_null(strstr(ctl_error(f->c), "closed the connection"));
	assert_int_equal(ctl_read(f->c, 0), -ECONNRESET);
	close_fixture(f);
}

static void test_fds(void **state)
{
	struct fixture *f = open_fixture(GREETING);
	assert_non_null(f->c);
	int a[2], b[2], u[2];
	make_pipe(a);
	make_pipe(b);
	make_pipe(u);
	/* A descriptor with an event, one nobody claims, one with the reply. */
	srv_send_fd(f->srv, "{\"event\": \"display-resize\", \"data\": {\"fd\": true}}\n", a[1]);
	srv_send_fd(f->srv, "{\"event\": \"state\", \"data\": {}}\n", u[1]);
	srv_send_fd(f->srv, "{\"return\": {\"width\": 4, \"fd\": true}, \"id\": 1}\n", b[1]);
	close(a[1]);
	close(b[1]);
	close(u[1]);
	json_t *ret;
	int fd = -1;
	assert_int_equal(ctl_call(f->c, "display-attach", NULL, &ret, &fd, 1000), 0);
	json_decref(ret);
	/* Each descriptor went where its message said. */
	assert_int_equal(f->ev.n, 2);
	assert_true(f->ev.fds[0] >= 0);
	assert_int_equal(f->ev.fds[1], -1);
	assert_true(fd >= 0);
	assert_int_equal(write(f->ev.fds[0], "a", 1), 1);
	assert_int_equal(write(fd, "b", 1), 1);
	char c = 0;
	assert_int_equal(read(a[0], &c, 1), 1);
	assert_int_equal(c, 'a');
	assert_int_equal(read(b[0], &c, 1), 1);
	assert_int_equal(c, 'b');
	/* The unclaimed one is closed already. */
	assert_true(closed_everywhere(u[0]));
	close(fd);
	/* The reply's descriptor is the caller's: once it is closed and its
	 * number taken by something else, closing the client leaves that be. */
	int other = open("/dev/null", O_RDONLY | O_CLOEXEC);
	assert_true(other >= 0);
	if (other != fd) {
		assert_int_equal(dup2(other, fd), fd);
		close(other);
	}
	close_fixture(f);
	assert_true(fcntl(fd, F_GETFD) >= 0);
	close(fd);
	assert_true(closed_everywhere(a[0]));
	assert_true(closed_everywhere(b[0]));
	close(a[0]);
	close(b[0]);
	close(u[0]);
}

/* A hostile worker: each of these ends the connection with a message, and
 * closes every descriptor it sent. */
static void expect_violation(const char *line, int fd, const char *what)
{
	struct fixture *f = open_fixture(GREETING);
	assert_non_null(f->c);
	srv_send_fd(f->srv, line, fd);
	int r;
	do
		r = ctl_read(f->c, 1000);
	while (r == 1);
	assert_int_equal(r, -EPROTO);
	assert_non_null(strstr(ctl_error(f->c), what));
	assert_non_null(strstr(ctl_error(f->c), "disconnecting"));
	/* Later sends and reads fail at once. */
	assert_true(ctl_send(f->c, "query-status", NULL, NULL) < 0);
	assert_int_equal(ctl_read(f->c, 0), -EPROTO);
	close_fixture(f);
}

static void test_hostile(void **state)
{
	int p[2];
	expect_violation("{\"event\": \"state\", \"data\": {\"state\": \n", -1, "JSON");
	expect_violation("[1, 2]\n", -1, "JSON object");
	expect_violation("{\"return\": {}, \"id\": 1}\n", -1, "no request");
	expect_violation("{\"event\": 7}\n", -1, "event without a name");
	expect_violation("{\"event\": \"display-resize\", \"data\": {\"fd\": true}}\n", -1,
			 "descriptor");
	expect_violation("{\"a\": 1, \"a\": 2}\n", -1, "JSON");
	make_pipe(p);
	expect_violation("not json\n", p[1], "JSON");
	close(p[1]);
	assert_true(closed_everywhere(p[0]));
	close(p[0]);

	/* A reply with another id than the request's. */
	struct fixture *f = open_fixture(GREETING);
	srv_send(f->srv, "{\"return\": {}, \"id\": 5}\n");
	assert_int_equal(ctl_call(f->c, "query-status", NULL, NULL, NULL, 1000), -EPROTO);
	assert_non_null(strstr(ctl_error(f->c), "another id"));
	close_fixture(f);
}

/* A line that never ends: the client gives up at CTL_LINE_MAX bytes. */
static void *flood(void *opaque)
{
	int s = *(int *)opaque;
	static char chunk[65536];
	memset(chunk, 'x', sizeof(chunk));
	chunk[0] = '"';
	for (size_t sent = 0; sent < 2 * (size_t)CTL_LINE_MAX;) {
		ssize_t n = send(s, chunk, sizeof(chunk), MSG_NOSIGNAL);
		if (n <= 0)
			break;
		sent += (size_t)n;
	}
	return NULL;
}

static void test_overlong_line(void **state)
{
	struct fixture *f = open_fixture(GREETING);
	assert_non_null(f->c);
	pthread_t t;
	assert_int_equal(pthread_create(&t, NULL, flood, &f->srv), 0);
	int r;
	do
		r = ctl_read(f->c, 2000);
	while (r == 1);
	assert_int_equal(r, -EPROTO);
	assert_non_null(strstr(ctl_error(f->c), "longer than"));
	/* The flood stops when the client's end goes. */
	ctl_close(f->c);
	f->c = NULL;
	pthread_join(t, NULL);
	close_fixture(f);
}

static void test_too_many_fds(void **state)
{
	struct fixture *f = open_fixture(GREETING);
	assert_non_null(f->c);
	int p[2];
	make_pipe(p);
	/* Descriptors on bytes of a line that has not ended yet pile up. */
	for (int i = 0; i <= CTL_FDS_MAX; i++)
		srv_send_fd(f->srv, " ", p[1]);
	close(p[1]);
	int r;
	do
		r = ctl_read(f->c, 1000);
	while (r == 1);
	assert_int_equal(r, -EPROTO);
	assert_non_null(strstr(ctl_error(f->c), "descriptors"));
	close_fixture(f);
	assert_true(closed_everywhere(p[0]));
	close(p[0]);
}

/* ctl_send from one thread while another waits in ctl_read; ctl_shutdown
 * wakes it. */
static void *read_all(void *opaque)
{
	struct fixture *f = opaque;
	int r;
	while ((r = ctl_read(f->c, -1)) >= 0)
		;
	return (void *)(intptr_t)r;
}

static void test_threads(void **state)
{
	struct fixture *f = open_fixture(GREETING);
	assert_non_null(f->c);
	pthread_t t;
	assert_int_equal(pthread_create(&t, NULL, read_all, f), 0);
	for (int i = 0; i < 3; i++)
		assert_int_equal(ctl_send(f->c, "input-key", NULL, NULL), 0);
	for (int i = 1; i <= 3; i++) {
		json_t *req = srv_recv(f->srv);
		assert_int_equal(json_integer_value(json_object_get(req, "id")), i);
		json_decref(req);
		char line[64];
		snprintf(line, sizeof(line), "{\"return\": {}, \"id\": %d}\n", i);
		srv_send(f->srv, line);
	}
	for (int n = 0; n < 200 && __atomic_load_n(&f->ev.replies, __ATOMIC_SEQ_CST) < 3; n++)
		usleep(5000);
	ctl_shutdown(f->c);
	void *r;
	pthread_join(t, &r);
	assert_int_equal((int)(intptr_t)r, -ECONNRESET);
	assert_int_equal(f->ev.replies, 3);
	assert_true(ctl_send(f->c, "input-key", NULL, NULL) < 0);
	close_fixture(f);
}

/* ctl_open by name: the messages for no VM and for a stale socket. */
static void test_open_by_name(void **state)
{
	char dir[] = "/tmp/osio-connect-test.XXXXXX";
	assert_non_null(mkdtemp(dir));
	setenv("OSIO_RUNTIME_DIR", dir, 1);
	char err[600];
	struct ctl_client *c = NULL;
	assert_int_equal(ctl_open("nosuchvm", NULL, &c, err, sizeof(err)), -ENOENT);
	assert_non_null(strstr(err, "no running VM named 'nosuchvm'"));
	assert_non_null(strstr(err, "osio run --name nosuchvm"));

	/* A socket nobody listens on any more. */
	struct sockaddr_un sa = {.sun_family = AF_UNIX};
	snprintf(sa.sun_path, sizeof(sa.sun_path), "%s/stale.sock", dir);
	int s = socket(AF_UNIX, SOCK_STREAM, 0);
	assert_int_equal(bind(s, (struct sockaddr *)&sa, sizeof(sa)), 0);
	close(s);
	assert_int_equal(ctl_open("stale", NULL, &c, err, sizeof(err)), -ECONNREFUSED);
	assert_non_null(strstr(err, "not running"));
	/* By path, and a live one. */
	s = socket(AF_UNIX, SOCK_STREAM, 0);
	unlink(sa.sun_path);
	assert_int_equal(bind(s, (struct sockaddr *)&sa, sizeof(sa)), 0);
	assert_int_equal(listen(s, 1), 0);
	pid_t pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		int a = accept(s, NULL, NULL);
		if (a >= 0 && write(a, GREETING, strlen(GREETING)) > 0)
			usleep(200000);
		_exit(0);
	}
	assert_int_equal(ctl_open(sa.sun_path, NULL, &c, err, sizeof(err)), 0);
	assert_string_equal(ctl_vm_name(c), "demo");
	ctl_close(c);
	close(s);
	int status;
	waitpid(pid, &status, 0);
	unlink(sa.sun_path);
	rmdir(dir);
	unsetenv("OSIO_RUNTIME_DIR");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_greeting),
	    cmocka_unit_test(test_bad_greetings),
	    cmocka_unit_test(test_call_and_events),
	    cmocka_unit_test(test_connection_closes),
	    cmocka_unit_test(test_fds),
	    cmocka_unit_test(test_hostile),
	    cmocka_unit_test(test_overlong_line),
	    cmocka_unit_test(test_too_many_fds),
	    cmocka_unit_test(test_threads),
	    cmocka_unit_test(test_open_by_name),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
