/* The control API's network commands (hypervisor/control_net.c) on a machine
 * without vCPUs whose adapters are a fake model on real ports: nics and its
 * counters, nic-connect / nic-disconnect moving an adapter between switches
 * (its link callback and the nic-link events), a switch that goes away, and
 * the errors of bad arguments. */
#include "devices/device.h"
#include "devices/net/net.h"
#include "devices/net/switchdef.h"
#include "hypervisor/control.h"
#include "hypervisor/evloop.h"
#include "hypervisor/machine.h"

#include <errno.h>
#include <poll.h>
#include <stdatomic.h>
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

/* ---- a fake adapter: takes every frame, records its link ---- */

struct fake_nic {
	struct net_port *port;
	atomic_uint frames;
	atomic_int link; /* -1: never told */
};

static int fake_receive(void *opaque, const struct net_hdr *hdr, const struct iovec *iov,
			unsigned iovcnt, size_t len)
{
	struct fake_nic *n = opaque;
	atomic_fetch_add(&n->frames, 1);
	return 0;
}

static void fake_link(void *opaque, bool up)
{
	struct fake_nic *n = opaque;
	atomic_store(&n->link, up);
}

static const struct net_adapter_ops fake_ops = {.receive = fake_receive, .link_changed = fake_link};

static int fake_create(struct machine *m, const char *id, const struct devargs *args, void **state)
{
	static const char *const keys[] = {NET_PORT_KEYS, NULL};
	struct fake_nic *n = calloc(1, sizeof(*n));
	int r;

	if (!n)
		return -ENOMEM;
	atomic_store(&n->link, -1);
	if ((r = devargs_check_keys(args, "test-nic", keys)) < 0 ||
	    (r = net_port_create(m, id, args, &fake_ops, n, &n->port)) < 0) {
		free(n);
		return r;
	}
	*state = n;
	return 0;
}

static void fake_destroy(void *state)
{
	struct fake_nic *n = state;
	net_port_destroy(n->port);
	free(n);
}

static const struct device_model fake_nic_model = {
    .name = "test-nic",
    .description = "an adapter for the control tests",
    .create = fake_create,
    .destroy = fake_destroy,
};
DEVICE_MODEL(fake_nic_model);

/* ---- the fixture ---- */

struct fx {
	struct machine m;
	pthread_t loop_thread;
	struct control *ctl;
	char dir[64], path[128];
	int peer, down_peer; /* the other ends of lan's and flaky's sockets */
	int c;		     /* the client */
	char buf[1 << 16];
	size_t len;
};

static void *run_loop(void *opaque)
{
	evloop_run(opaque);
	return NULL;
}

static void add_nic(struct fx *f, const char *id, const char *args)
{
	struct devargs a = {0};

	assert_int_equal(devargs_parse(&a, args), 0);
	assert_int_equal(machine_add_device(&f->m, "test-nic", id, &a), 0);
}

static int setup(void **state)
{
	struct fx *f = calloc(1, sizeof(*f));
	struct sockaddr_un sa = {.sun_family = AF_UNIX};
	struct net_switch_cfg lab;
	char args[256], err[256], dir[96];
	int sv[2], dv[2];

	assert_non_null(f);
	snprintf(f->dir, sizeof(f->dir), "/tmp/osio-test-control-net-XXXXXX");
	assert_non_null(mkdtemp(f->dir));
	snprintf(f->path, sizeof(f->path), "%s/vm.sock", f->dir);
	snprintf(dir, sizeof(dir), "%s/store", f->dir);
	setenv("OSIO_STORE_DIR", dir, 1);
	snprintf(dir, sizeof(dir), "%s/run", f->dir);
	assert_int_equal(mkdir(dir, 0700), 0);
	setenv("OSIO_RUNTIME_DIR", dir, 1);
	net_switch_cfg_defaults(&lab, NET_SWITCH_PRIVATE, "lab");
	assert_int_equal(switchdef_save(&lab, false, err, sizeof(err)), 0);

	assert_int_equal(machine_init(&f->m), 0);
	assert_int_equal(socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sv), 0);
	assert_int_equal(socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, dv), 0);
	f->peer = sv[1];
	f->down_peer = dv[1];
	snprintf(args, sizeof(args), "mac=52:4f:53:00:00:01,switch=fd,switch_name=wire,fd=%d",
		 sv[0]);
	add_nic(f, "lan", args);
	add_nic(f, "spare", "mac=52:4f:53:00:00:02,switch=none,switch_name=lab");
	snprintf(args, sizeof(args), "mac=52:4f:53:00:00:03,switch=fd,switch_name=flaky,fd=%d",
		 dv[0]);
	add_nic(f, "flaky", args);
	assert_int_equal(pthread_create(&f->loop_thread, NULL, run_loop, f->m.loop), 0);
	assert_int_equal(control_new(&f->m, f->path, "testvm", &f->ctl), 0);
	assert_int_equal(control_run(f->ctl), 0);

	f->c = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	assert_true(f->c >= 0);
	strcpy(sa.sun_path, f->path);
	assert_int_equal(connect(f->c, (struct sockaddr *)&sa, sizeof(sa)), 0);
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fx *f = *state;

	close(f->c);
	control_free(f->ctl);
	evloop_stop(f->m.loop);
	pthread_join(f->loop_thread, NULL);
	machine_destroy_devices(&f->m);
	machine_destroy(&f->m);
	close(f->peer);
	if (f->down_peer >= 0)
		close(f->down_peer);
	char cmd[128];
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", f->dir);
	assert_int_equal(system(cmd), 0);
	free(f);
	return 0;
}

/* The next line from the worker (within 5 s), parsed. */
static json_t *next_msg(struct fx *f)
{
	for (;;) {
		char *nl = memchr(f->buf, '\n', f->len);
		if (nl) {
			json_t *j = json_loadb(f->buf, (size_t)(nl - f->buf), 0, NULL);
			size_t used = (size_t)(nl - f->buf) + 1;
			memmove(f->buf, f->buf + used, f->len - used);
			f->len -= used;
			assert_non_null(j);
			return j;
		}
		struct pollfd p = {.fd = f->c, .events = POLLIN};
		assert_int_equal(poll(&p, 1, 5000), 1);
		ssize_t n = read(f->c, f->buf + f->len, sizeof(f->buf) - f->len);
		assert_true(n > 0);
		f->len += (size_t)n;
	}
}

/* Sends a request; returns the reply (events before it are dropped unless
 * events is not NULL: they are appended there). */
static json_t *call(struct fx *f, const char *line, json_t *events)
{
	size_t n = strlen(line);

	assert_int_equal(write(f->c, line, n), (ssize_t)n);
	assert_int_equal(write(f->c, "\n", 1), 1);
	for (;;) {
		json_t *m = next_msg(f);
		if (!json_object_get(m, "event"))
			return m;
		if (events)
			json_array_append(events, m);
		json_decref(m);
	}
}

/* The nic-link event of nic with link up, within 3 s. */
static void expect_link_event(struct fx *f, json_t *events, const char *nic, bool up)
{
	for (int tries = 0; tries < 30; tries++) {
		size_t i;
		json_t *e;

		json_array_foreach(events, i, e)
		{
			json_t *d = json_object_get(e, "data");
			if (strcmp(json_string_value(json_object_get(e, "event")), "nic-link") ==
				0 &&
			    strcmp(json_string_value(json_object_get(d, "nic")), nic) == 0 &&
			    json_is_true(json_object_get(d, "link")) == up) {
				json_array_remove(events, i);
				return;
			}
		}
		usleep(100 * 1000);
		json_decref(call(f, "{\"execute\":\"query-status\"}", events));
	}
	fail_msg("no nic-link event for %s, link %d", nic, up);
}

/* nics' entry for an adapter (borrowed from list). */
static json_t *entry(json_t *reply, const char *nic)
{
	size_t i;
	json_t *n;

	json_array_foreach(json_object_get(json_object_get(reply, "return"), "nics"), i,
			   n) if (strcmp(json_string_value(json_object_get(n, "nic")), nic) ==
				  0) return n;
	fail_msg("nics has no %s", nic);
	return NULL;
}

static json_int_t stat_of(json_t *n, const char *key)
{
	return json_integer_value(json_object_get(json_object_get(n, "stats"), key));
}

static void test_nics_and_counters(void **state)
{
	struct fx *f = *state;
	struct fake_nic *lan = machine_device(&f->m, "lan");
	uint8_t frame[60] = {0x52, 0x4f, 0x53, 0, 0, 1, 0x52, 0x54, 0, 0, 0, 9, 0x08, 0x00};
	json_t *g = next_msg(f), *r, *n;
	char buf[128];
	const char *cmds;

	cmds = json_dumps(json_object_get(json_object_get(g, "osio"), "commands"), 0);
	assert_non_null(strstr(cmds, "\"nics\""));
	assert_non_null(strstr(cmds, "\"nic-connect\""));
	assert_non_null(strstr(cmds, "\"nic-disconnect\""));
	free((void *)cmds);
	json_decref(g);

	r = call(f, "{\"execute\":\"nics\"}", NULL);
	assert_int_equal(json_array_size(json_object_get(json_object_get(r, "return"), "nics")), 3);
	n = entry(r, "lan");
	assert_string_equal(json_string_value(json_object_get(n, "model")), "test-nic");
	assert_string_equal(json_string_value(json_object_get(n, "mac")), "52:4f:53:00:00:01");
	assert_string_equal(json_string_value(json_object_get(n, "switch")), "wire");
	assert_string_equal(json_string_value(json_object_get(n, "switch-type")), "fd");
	assert_true(json_is_true(json_object_get(n, "link")));
	assert_int_equal(stat_of(n, "rx-frames"), 0);
	n = entry(r, "spare");
	assert_true(json_is_null(json_object_get(n, "switch")));
	assert_true(json_is_false(json_object_get(n, "link")));
	json_decref(r);

	/* A frame from the wire, one from the guest. */
	assert_int_equal(send(f->peer, frame, sizeof(frame), 0), (ssize_t)sizeof(frame));
	for (int i = 0; i < 50 && atomic_load(&lan->frames) == 0; i++)
		usleep(20 * 1000);
	assert_int_equal(atomic_load(&lan->frames), 1);
	struct iovec v = {frame, 42};
	assert_int_equal(net_port_send(lan->port, NULL, &v, 1), 0);
	assert_int_equal(recv(f->peer, buf, sizeof(buf), 0), 42);
	r = call(f, "{\"execute\":\"nics\"}", NULL);
	n = entry(r, "lan");
	assert_int_equal(stat_of(n, "rx-frames"), 1);
	assert_int_equal(stat_of(n, "rx-bytes"), 60);
	assert_int_equal(stat_of(n, "tx-frames"), 1);
	assert_int_equal(stat_of(n, "tx-bytes"), 42);
	assert_int_equal(stat_of(n, "tx-dropped"), 0);
	json_decref(r);
}

static void test_connect_and_move(void **state)
{
	struct fx *f = *state;
	struct fake_nic *lan = machine_device(&f->m, "lan"),
			*spare = machine_device(&f->m, "spare");
	json_t *events = json_array(), *r, *ret;
	uint8_t frame[60] = {0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x52, 0x4f, 0x53, 0, 0, 1, 8, 6};
	struct iovec v = {frame, sizeof(frame)};

	json_decref(next_msg(f)); /* the greeting */
	/* Plug the spare into the private switch. */
	r = call(
	    f, "{\"execute\":\"nic-connect\",\"arguments\":{\"nic\":\"spare\",\"switch\":\"lab\"}}",
	    events);
	ret = json_object_get(r, "return");
	assert_non_null(ret);
	assert_string_equal(json_string_value(json_object_get(ret, "switch")), "lab");
	assert_string_equal(json_string_value(json_object_get(ret, "switch-type")), "private");
	assert_true(json_is_true(json_object_get(ret, "link")));
	assert_int_equal(atomic_load(&spare->link), 1);
	json_decref(r);
	expect_link_event(f, events, "spare", true);

	/* Unplug lan: link down, frames from the guest dropped and counted. */
	r = call(f, "{\"execute\":\"nic-disconnect\",\"arguments\":{\"nic\":\"lan\"}}", events);
	ret = json_object_get(r, "return");
	assert_true(json_is_null(json_object_get(ret, "switch")));
	assert_true(json_is_false(json_object_get(ret, "link")));
	assert_int_equal(atomic_load(&lan->link), 0);
	json_decref(r);
	expect_link_event(f, events, "lan", false);
	assert_int_equal(net_port_send(lan->port, NULL, &v, 1), 0);
	r = call(f, "{\"execute\":\"nics\"}", events);
	assert_int_equal(stat_of(entry(r, "lan"), "tx-dropped"), 1);
	json_decref(r);

	/* Move lan to lab too, then to the NAT switch. */
	r = call(f,
		 "{\"execute\":\"nic-connect\",\"arguments\":{\"nic\":\"lan\",\"switch\":\"lab\"}}",
		 events);
	assert_true(json_is_true(json_object_get(json_object_get(r, "return"), "link")));
	json_decref(r);
	expect_link_event(f, events, "lan", true);
	r = call(
	    f,
	    "{\"execute\":\"nic-connect\",\"arguments\":{\"nic\":\"lan\",\"switch\":\"default\"}}",
	    events);
	ret = json_object_get(r, "return");
	assert_string_equal(json_string_value(json_object_get(ret, "switch-type")), "nat");
	assert_true(json_is_true(json_object_get(ret, "link")));
	assert_int_equal(atomic_load(&lan->link), 1);
	json_decref(r);
	json_decref(events);
}

/* The other end of flaky's socket goes: its link goes down, an event says so. */
static void test_switch_goes_away(void **state)
{
	struct fx *f = *state;
	struct fake_nic *flaky = machine_device(&f->m, "flaky");
	json_t *events = json_array(), *r;

	json_decref(next_msg(f));
	close(f->down_peer);
	f->down_peer = -1;
	expect_link_event(f, events, "flaky", false);
	assert_int_equal(atomic_load(&flaky->link), 0);
	r = call(f, "{\"execute\":\"nics\"}", events);
	assert_true(json_is_false(json_object_get(entry(r, "flaky"), "link")));
	json_decref(r);
	json_decref(events);
}

static void test_errors(void **state)
{
	static const struct {
		const char *req, *cls, *desc;
	} cases[] = {
	    {"{\"execute\":\"nic-connect\",\"arguments\":{\"nic\":\"wan\",\"switch\":\"lab\"}}",
	     "invalid-argument", "nic: the VM has no adapter 'wan' (the nics command lists them)"},
	    {"{\"execute\":\"nic-connect\",\"arguments\":{\"nic\":\"lan\",\"switch\":\"nope\"}}",
	     "invalid-argument",
	     "switch: no switch 'nope'; create it with: osio switch create nope --type private"},
	    {"{\"execute\":\"nic-connect\",\"arguments\":{\"nic\":\"lan\"}}", "invalid-argument",
	     "switch: the name of a switch is needed (osio switch list)"},
	    {"{\"execute\":\"nic-connect\",\"arguments\":{\"nic\":\"lan\",\"switch\":7}}",
	     "invalid-argument", "switch: the name of a switch is needed (osio switch list)"},
	    {"{\"execute\":\"nic-disconnect\"}", "invalid-argument",
	     "nic: the adapter's name is needed (the nics command lists them)"},
	    {"{\"execute\":\"nic-disconnect\",\"arguments\":{\"nic\":[1]}}", "invalid-argument",
	     "nic: the adapter's name is needed (the nics command lists them)"},
	};
	struct fx *f = *state;
	json_t *r;

	json_decref(next_msg(f));
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		json_t *e;

		r = call(f, cases[i].req, NULL);
		e = json_object_get(r, "error");
		if (!e || strcmp(json_string_value(json_object_get(e, "class")), cases[i].cls) ||
		    strcmp(json_string_value(json_object_get(e, "desc")), cases[i].desc))
			fail_msg("case %zu: %s", i, json_dumps(r, 0));
		json_decref(r);
	}
	/* Nothing moved. */
	r = call(f, "{\"execute\":\"nics\"}", NULL);
	assert_true(json_is_true(json_object_get(entry(r, "lan"), "link")));
	json_decref(r);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test_setup_teardown(test_nics_and_counters, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_connect_and_move, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_switch_goes_away, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_errors, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
