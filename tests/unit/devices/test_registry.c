/* Device registry: devargs parsing and numbers, key checking, model lookup,
 * and the instance lifecycle on a machine (add, reset, destroy order). */
#include "devices/device.h"
#include "hypervisor/machine.h"

#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* A model of this test's own that logs its lifecycle calls. */
static char events[64][40];
static unsigned n_events;

static void note(const char *what, const char *id)
{
	assert_true(n_events < 64);
	snprintf(events[n_events++], sizeof(events[0]), "%s:%s", what, id);
}

struct probe {
	struct machine *m;
	char id[32];
	uint64_t port;
	bool has_port;
};

static const struct bus_ops probe_ops = {0};

static int probe_create(struct machine *m, const char *id, const struct devargs *args, void **state)
{
	static const char *const keys[] = {"port", "fail", NULL};
	int r = devargs_check_keys(args, "registry-probe", keys);
	if (r < 0)
		return r;
	struct probe *p = calloc(1, sizeof(*p));
	if (!p)
		return -ENOMEM;
	p->m = m;
	snprintf(p->id, sizeof(p->id), "%s", id);
	p->has_port = devargs_get(args, "port") != NULL;
	if (devargs_u64(args, "port", 0, 0xffff, &p->port) < 0 ||
	    (p->has_port && (r = bus_register(m->pio, p->port, 1, &probe_ops, p, p->id)) < 0)) {
		free(p);
		return r < 0 ? r : -EINVAL;
	}
	if (devargs_get(args, "fail")) {
		/* Fails after claiming its port, and cleans up as models must. */
		if (p->has_port)
			bus_unregister(m->pio, p->port, p);
		free(p);
		note("failed", id);
		return -EIO;
	}
	note("create", id);
	*state = p;
	return 0;
}

static void probe_reset(void *state)
{
	note("reset", ((struct probe *)state)->id);
}

static void probe_destroy(void *state)
{
	struct probe *p = state;
	note("destroy", p->id);
	if (p->has_port)
		assert_int_equal(bus_unregister(p->m->pio, p->port, p), 0);
	free(p);
}

static const struct device_model probe_model = {
    .name = "registry-probe",
    .description = "lifecycle recorder for test_registry",
    .create = probe_create,
    .reset = probe_reset,
    .destroy = probe_destroy,
};
DEVICE_MODEL(probe_model);

/* No reset and no destroy: the registry must skip them. */
static int bare_state;

static int bare_create(struct machine *m, const char *id, const struct devargs *args, void **state)
{
	*state = &bare_state;
	return 0;
}

static const struct device_model bare_model = {
    .name = "registry-bare",
    .description = "model with create only",
    .create = bare_create,
};
DEVICE_MODEL(bare_model);

static void expect_events(const char *const *want, unsigned n)
{
	assert_int_equal(n_events, n);
	for (unsigned i = 0; i < n; i++)
		assert_string_equal(events[i], want[i]);
}

static unsigned count_devices(struct machine *m)
{
	unsigned n = 0;
	for (struct device *d = m->devices; d; d = d->next)
		n++;
	return n;
}

static int parse(struct devargs *a, const char *text)
{
	memset(a, 0, sizeof(*a));
	return devargs_parse(a, text);
}

static void test_parse(void **state)
{
	struct devargs a;
	assert_int_equal(parse(&a, "base=0x3f8,irq=4,backend=stdio"), 0);
	assert_int_equal(a.n, 3);
	assert_string_equal(devargs_get(&a, "base"), "0x3f8");
	assert_string_equal(devargs_get(&a, "irq"), "4");
	assert_string_equal(devargs_get(&a, "backend"), "stdio");
	assert_null(devargs_get(&a, "path"));
	assert_null(devargs_get(&a, "bas"));
	assert_null(devargs_get(NULL, "base"));

	/* Quotes hold commas and '='; they are not part of the value. */
	assert_int_equal(parse(&a, "path=\"/tmp/a,b=c\",x=1"), 0);
	assert_int_equal(a.n, 2);
	assert_string_equal(devargs_get(&a, "path"), "/tmp/a,b=c");
	assert_string_equal(devargs_get(&a, "x"), "1");
	/* An unquoted value may hold '=' and a quote after its first byte. */
	assert_int_equal(parse(&a, "k=a=b\"c"), 0);
	assert_string_equal(devargs_get(&a, "k"), "a=b\"c");

	/* Empty values, quoted or not; an empty list; a trailing comma. */
	assert_int_equal(parse(&a, "a=,b=\"\",c="), 0);
	assert_int_equal(a.n, 3);
	assert_string_equal(devargs_get(&a, "a"), "");
	assert_string_equal(devargs_get(&a, "b"), "");
	assert_string_equal(devargs_get(&a, "c"), "");
	assert_int_equal(parse(&a, ""), 0);
	assert_int_equal(a.n, 0);
	assert_int_equal(parse(&a, "a=1,"), 0);
	assert_int_equal(a.n, 1);

	/* A repeated key: the later value wins (devargs_set replaces). */
	assert_int_equal(parse(&a, "a=1,a=2"), 0);
	assert_int_equal(a.n, 1);
	assert_string_equal(devargs_get(&a, "a"), "2");
}

static void test_parse_malformed(void **state)
{
	static const char *const bad[] = {
	    "a", "a,b=1", "=1", ",a=1", "a=1,,b=2", "a=1,b", "a=\"x", "a=\"x\"y", "a=\"", "a=1,=2",
	};
	struct devargs a;
	for (unsigned i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		int r = parse(&a, bad[i]);
		if (r != -EINVAL)
			fail_msg("devargs_parse(\"%s\") = %d, want -EINVAL", bad[i], r);
	}
	/* A closing quote then a trailing comma is fine. */
	assert_int_equal(parse(&a, "a=\"x\","), 0);
	assert_string_equal(devargs_get(&a, "a"), "x");
}

static void test_parse_limits(void **state)
{
	struct devargs a;
	char text[16 * 1024];
	size_t len = 0;

	/* 32 keys fit, the 33rd does not. */
	for (unsigned i = 0; i < DEVARGS_MAX; i++)
		len += (size_t)snprintf(text + len, sizeof(text) - len, "k%u=%u,", i, i);
	assert_int_equal(parse(&a, text), 0);
	assert_int_equal(a.n, DEVARGS_MAX);
	assert_string_equal(devargs_get(&a, "k31"), "31");
	snprintf(text + len, sizeof(text) - len, "k32=32");
	assert_int_equal(parse(&a, text), -E2BIG);
	/* ... but the 33rd may repeat an existing key. */
	snprintf(text + len, sizeof(text) - len, "k0=again");
	assert_int_equal(parse(&a, text), 0);
	assert_string_equal(devargs_get(&a, "k0"), "again");

	/* A key of 31 bytes fits, 32 does not. */
	char key[40];
	memset(key, 'k', 31);
	strcpy(key + 31, "=1");
	assert_int_equal(parse(&a, key), 0);
	memset(key, 'k', 32);
	strcpy(key + 32, "=1");
	assert_int_equal(parse(&a, key), -E2BIG);

	/* A value of DEVARGS_VALUE_MAX - 1 bytes (a path) fits, one more
	 * does not, quoted or not. */
	enum { VMAX = DEVARGS_VALUE_MAX - 1 };
	static char v[DEVARGS_VALUE_MAX + 16];
	strcpy(v, "v=");
	memset(v + 2, 'x', VMAX);
	v[2 + VMAX] = 0;
	assert_int_equal(parse(&a, v), 0);
	assert_int_equal(strlen(devargs_get(&a, "v")), VMAX);
	memset(v + 2, 'x', VMAX + 1);
	v[2 + VMAX + 1] = 0;
	assert_int_equal(parse(&a, v), -E2BIG);
	strcpy(v, "v=\"");
	memset(v + 3, ',', VMAX + 1);
	strcpy(v + 3 + VMAX + 1, "\"");
	assert_int_equal(parse(&a, v), -E2BIG);
	/* Escapes inside quotes, and devargs_quote producing them. */
	char q[64];
	assert_int_equal(devargs_quote(q, sizeof(q), "a\"b\\c,d"), 0);
	assert_string_equal(q, "\"a\\\"b\\\\c,d\"");
	snprintf(v, sizeof(v), "p=%s,n=1", q);
	assert_int_equal(parse(&a, v), 0);
	assert_string_equal(devargs_get(&a, "p"), "a\"b\\c,d");
	assert_int_equal(devargs_quote(q, 4, "abc"), -E2BIG);

	/* devargs_set has the same limits. */
	memset(&a, 0, sizeof(a));
	assert_int_equal(devargs_set(&a, "a", "1"), 0);
	assert_int_equal(devargs_set(&a, "a", "2"), 0);
	assert_int_equal(a.n, 1);
	assert_string_equal(devargs_get(&a, "a"), "2");
	key[32] = 0;
	assert_int_equal(devargs_set(&a, key, "1"), -E2BIG);
	memset(v, 'x', VMAX + 1);
	v[VMAX + 1] = 0;
	assert_int_equal(devargs_set(&a, "a", v), -E2BIG);
	assert_string_equal(devargs_get(&a, "a"), "2");
}

static int u64(const char *text, uint64_t def, uint64_t max, uint64_t *out)
{
	struct devargs a;
	assert_int_equal(parse(&a, text), 0);
	return devargs_u64(&a, "n", def, max, out);
}

static void test_u64(void **state)
{
	uint64_t v = 0;
	assert_int_equal(u64("other=5", 77, 100, &v), 0);
	assert_int_equal(v, 77);
	assert_int_equal(devargs_u64(NULL, "n", 9, 10, &v), 0);
	assert_int_equal(v, 9);
	assert_int_equal(u64("n=0x3f8", 0, 0xffff, &v), 0);
	assert_int_equal(v, 0x3f8);
	assert_int_equal(u64("n=0X3F8", 0, 0xffff, &v), 0);
	assert_int_equal(v, 0x3f8);
	assert_int_equal(u64("n=1016", 0, 0xffff, &v), 0);
	assert_int_equal(v, 1016);
	assert_int_equal(u64("n=0", 5, 0xffff, &v), 0);
	assert_int_equal(v, 0);
	assert_int_equal(u64("n=010", 0, 0xffff, &v), 0); /* C syntax: octal */
	assert_int_equal(v, 8);
	/* max itself is allowed, one above is not. */
	assert_int_equal(u64("n=255", 0, 255, &v), 0);
	assert_int_equal(v, 255);
	assert_int_equal(u64("n=0xffffffffffffffff", 0, UINT64_MAX, &v), 0);
	assert_int_equal(v, UINT64_MAX);

	static const char *const bad[] = {
	    "n=256",   "n=0x100",
	    "n=-1",    "n=-0",
	    "n=",      "n=abc",
	    "n=12abc", "n=0x",
	    "n=08",    "n=1.5",
	    "n=0x1g",  "n=1 ",
	    "n=\"\"",  "n=18446744073709551616", /* 2^64: out of range */
	};
	for (unsigned i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		uint64_t max = strcmp(bad[i], "n=18446744073709551616") ? 255 : UINT64_MAX;
		int r = u64(bad[i], 0, max, &v);
		if (r != -EINVAL)
			fail_msg("devargs_u64(\"%s\") = %d, want -EINVAL", bad[i], r);
	}
	assert_int_equal(u64("n=-1", 0, UINT64_MAX, &v), -EINVAL);
}

static void test_check_keys(void **state)
{
	static const char *const known[] = {"base", "irq", NULL};
	static const char *const none[] = {NULL};
	struct devargs a;
	assert_int_equal(devargs_check_keys(NULL, "m", known), 0);
	assert_int_equal(parse(&a, ""), 0);
	assert_int_equal(devargs_check_keys(&a, "m", none), 0);
	assert_int_equal(parse(&a, "irq=4,base=1"), 0);
	assert_int_equal(devargs_check_keys(&a, "m", known), 0);
	assert_int_equal(devargs_check_keys(&a, "m", none), -EINVAL);
	assert_int_equal(parse(&a, "base=1,irqs=4"), 0);
	assert_int_equal(devargs_check_keys(&a, "m", known), -EINVAL);
	assert_int_equal(parse(&a, "Base=1"), 0); /* keys are case-sensitive */
	assert_int_equal(devargs_check_keys(&a, "m", known), -EINVAL);
}

static const char *const real_models[] = {
    "uart16550", "i8042", "rtc", "fw_cfg", "debug-exit", "acpi-pm", "port80",
};
#define N_REAL (sizeof(real_models) / sizeof(real_models[0]))

struct seen {
	unsigned hits[N_REAL];
	unsigned total, probes;
};

static void count_model(const struct device_model *dm, void *ctx)
{
	struct seen *s = ctx;
	s->total++;
	assert_non_null(dm->name);
	assert_non_null(dm->description);
	assert_non_null(dm->create);
	assert_ptr_equal(device_model_find(dm->name), dm);
	for (unsigned i = 0; i < N_REAL; i++)
		s->hits[i] += strcmp(dm->name, real_models[i]) == 0;
	s->probes += dm == &probe_model || dm == &bare_model;
}

static void test_models(void **state)
{
	for (unsigned i = 0; i < N_REAL; i++) {
		const struct device_model *dm = device_model_find(real_models[i]);
		assert_non_null(dm);
		assert_string_equal(dm->name, real_models[i]);
	}
	assert_ptr_equal(device_model_find("registry-probe"), &probe_model);
	assert_null(device_model_find("uart"));
	assert_null(device_model_find("UART16550"));
	assert_null(device_model_find(""));
	assert_null(device_model_find("uart16550 "));

	struct seen s = {0};
	device_model_foreach(count_model, &s);
	for (unsigned i = 0; i < N_REAL; i++)
		assert_int_equal(s.hits[i], 1);
	assert_int_equal(s.probes, 2);
	assert_true(s.total >= N_REAL + 2);
}

static void machine_up(struct machine *m)
{
	assert_int_equal(machine_init(m), 0);
	assert_int_equal(machine_alloc_ram(m, 16 << 20, false), 0);
	m->cpus = 1;
	n_events = 0;
}

static void machine_down(struct machine *m)
{
	machine_destroy_devices(m);
	machine_free_ram(m);
	machine_destroy(m);
}

static int add(struct machine *m, const char *model, const char *id, const char *args)
{
	struct devargs a;
	assert_int_equal(parse(&a, args), 0);
	return machine_add_device(m, model, id, &a);
}

static void test_add_real_models(void **state)
{
	struct machine m;
	machine_up(&m);
	assert_int_equal(add(&m, "uart16550", "com1", "base=0x3f8,irq=4,backend=none"), 0);
	assert_int_equal(machine_add_device(&m, "i8042", "kbd", NULL), 0);
	assert_int_equal(add(&m, "rtc", "rtc", ""), 0);
	assert_int_equal(add(&m, "fw_cfg", "fw", ""), 0);
	assert_int_equal(add(&m, "debug-exit", "exit", "base=0x501,size=1"), 0);
	assert_int_equal(add(&m, "acpi-pm", "pm", ""), 0);
	assert_int_equal(add(&m, "port80", "post", ""), 0);
	assert_int_equal(count_devices(&m), 7);
	static const char *const ids[] = {"com1", "kbd", "rtc", "fw", "exit", "pm", "post"};
	unsigned k = 0;
	for (struct device *d = m.devices; d; d = d->next, k++) {
		assert_string_equal(d->id, ids[k]);
		assert_ptr_equal(machine_device(&m, ids[k]), d->state);
		assert_non_null(d->state);
	}
	assert_null(machine_device(&m, "com2"));
	assert_non_null(bus_owner(m.pio, 0x3f8));
	assert_non_null(bus_owner(m.pio, 0x501));
	assert_non_null(bus_owner(m.pio, 0x80));

	/* Reset reaches the devices: port 80 forgets its last POST code. */
	bus_write_val(m.pio, 0x80, 0x5a, 1);
	assert_int_equal(bus_read_val(m.pio, 0x80, 1), 0x5a);
	machine_reset_devices(&m);
	assert_int_equal(bus_read_val(m.pio, 0x80, 1), 0);
	assert_int_equal(count_devices(&m), 7);

	/* Destroy unregisters everything, and may be repeated. */
	machine_destroy_devices(&m);
	assert_null(m.devices);
	assert_null(bus_owner(m.pio, 0x3f8));
	assert_null(bus_owner(m.pio, 0x60));
	assert_null(bus_owner(m.pio, 0x70));
	assert_null(bus_owner(m.pio, 0x501));
	assert_null(bus_owner(m.pio, 0x80));
	machine_destroy_devices(&m);
	/* ... and the ports can be claimed again. */
	assert_int_equal(add(&m, "port80", "post", ""), 0);
	machine_down(&m);
}

static void test_add_errors(void **state)
{
	struct machine m;
	machine_up(&m);
	assert_int_equal(add(&m, "port80", "post", ""), 0);
	void *post = machine_device(&m, "post");

	assert_int_equal(add(&m, "no-such-model", "x", ""), -ENOENT);
	/* The same id, for another model or the same one. */
	assert_int_equal(add(&m, "debug-exit", "post", ""), -EEXIST);
	assert_null(bus_owner(m.pio, 0xf4));
	assert_int_equal(add(&m, "port80", "post", "base=0x81"), -EEXIST);
	assert_null(bus_owner(m.pio, 0x81));
	/* An id of 31 bytes fits, 32 does not. */
	char id[40];
	memset(id, 'i', 32);
	id[32] = 0;
	assert_true(add(&m, "debug-exit", id, "") < 0);
	assert_null(bus_owner(m.pio, 0xf4));
	id[31] = 0;
	assert_int_equal(add(&m, "debug-exit", id, ""), 0);
	assert_non_null(machine_device(&m, id));
	assert_int_equal(count_devices(&m), 2);

	/* A model that refuses its arguments or its port leaves nothing. */
	assert_int_equal(add(&m, "port80", "p2", "bogus=1"), -EINVAL);
	assert_int_equal(add(&m, "port80", "p2", "base=0x10000"), -EINVAL);
	assert_int_equal(add(&m, "port80", "p2", "base=0x80"), -EEXIST);
	assert_null(machine_device(&m, "p2"));
	assert_ptr_equal(machine_device(&m, "post"), post);
	assert_int_equal(count_devices(&m), 2);
	assert_int_equal(add(&m, "registry-probe", "probe", "port=0x300,fail=1"), -EIO);
	assert_null(machine_device(&m, "probe"));
	assert_null(bus_owner(m.pio, 0x300));
	assert_int_equal(count_devices(&m), 2);
	/* The failed ids are free for a later device. */
	assert_int_equal(add(&m, "registry-probe", "probe", "port=0x300"), 0);
	assert_int_equal(add(&m, "port80", "p2", "base=0x81"), 0);
	assert_int_equal(count_devices(&m), 4);
	assert_string_equal(bus_owner(m.pio, 0x300), "probe");
	machine_down(&m);
}

static void test_lifecycle_order(void **state)
{
	struct machine m;
	machine_up(&m);
	assert_int_equal(add(&m, "registry-probe", "a", "port=0x300"), 0);
	assert_int_equal(add(&m, "registry-bare", "bare", ""), 0);
	assert_int_equal(add(&m, "registry-probe", "b", ""), 0);
	assert_int_equal(add(&m, "registry-probe", "c", "fail=1"), -EIO);
	assert_int_equal(machine_add_device(&m, "registry-probe", "d", NULL), 0);
	assert_ptr_equal(machine_device(&m, "bare"), &bare_state);

	machine_reset_devices(&m);
	machine_reset_devices(&m);
	machine_destroy_devices(&m);
	assert_null(m.devices);
	assert_null(bus_owner(m.pio, 0x300));
	static const char *const want[] = {
	    "create:a", "create:b", "failed:c", "create:d",  "reset:a",	  "reset:b",   "reset:d",
	    "reset:a",	"reset:b",  "reset:d",	"destroy:d", "destroy:b", "destroy:a",
	};
	expect_events(want, sizeof(want) / sizeof(want[0]));
	machine_down(&m);
	assert_int_equal(n_events, sizeof(want) / sizeof(want[0]));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_parse),	    cmocka_unit_test(test_parse_malformed),
	    cmocka_unit_test(test_parse_limits),    cmocka_unit_test(test_u64),
	    cmocka_unit_test(test_check_keys),	    cmocka_unit_test(test_models),
	    cmocka_unit_test(test_add_real_models), cmocka_unit_test(test_add_errors),
	    cmocka_unit_test(test_lifecycle_order),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
