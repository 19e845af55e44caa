/* The console's monitor (console/monitor*.c) against a scratch store: VMs
 * listed, added, removed, a vmconfig changed; a fake worker serving the
 * control socket (Running with its memory, the periodic refresh over the
 * event connection with CPU % from two stats samples, a worker without
 * stats, a state event, a crash); a Saved VM; hung workers that must not
 * hold up the others; no work while idle. */
#include "console/loop.h"
#include "console/model.h"
#include "console/monitor.h"
#include "hypervisor/runtime_dir.h"
#include "hypervisor/vmstore.h"

#include <errno.h>
#include <jansson.h>
#include <poll.h>
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <dirent.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>

static char root[256], store[300], run[300];

static unsigned long long now_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (unsigned long long)ts.tv_sec * 1000 + (unsigned long long)ts.tv_nsec / 1000000;
}

static void write_file(const char *path, const char *text)
{
	FILE *f = fopen(path, "w");
	assert_non_null(f);
	fputs(text, f);
	assert_int_equal(fclose(f), 0);
}

/* A VM folder with a vmconfig, put in place whole (as osio create does). */
static void make_vm(const char *name, const char *config)
{
	char tmp[4096], path[4096], cfg[4200];
	snprintf(tmp, sizeof(tmp), "%s/vms", store);
	mkdir(store, 0700);
	mkdir(tmp, 0700);
	snprintf(tmp, sizeof(tmp), "%s/vms/.%s.new-test", store, name);
	assert_int_equal(mkdir(tmp, 0700), 0);
	snprintf(cfg, sizeof(cfg), "%s/%s.vmconfig", tmp, name);
	write_file(cfg, config);
	assert_int_equal(vmstore_path(name, NULL, path, sizeof(path)), 0);
	assert_int_equal(rename(tmp, path), 0);
}

/* Rewrites a file as store_write_atomic does: a new file renamed over it. */
static void rewrite(const char *name, const char *sub, const char *text)
{
	char path[4096], tmp[4200];
	assert_int_equal(vmstore_path(name, sub, path, sizeof(path)), 0);
	snprintf(tmp, sizeof(tmp), "%s.tmp", path);
	write_file(tmp, text);
	assert_int_equal(rename(tmp, path), 0);
}

static void remove_vm(const char *name)
{
	char cmd[4200], path[4096];
	assert_int_equal(vmstore_path(name, NULL, path, sizeof(path)), 0);
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", path);
	assert_int_equal(system(cmd), 0);
}

/* --- a fake worker: greets every client, answers query-status and stats,
 * sends a state event to all when told, closes everything when told. Its
 * stats say 1 s more uptime and 250 ms more vCPU time at each call (25 %),
 * from 5 s and 4 s (80 % over the whole run). --- */

#define FAKE_CLIENTS 16

struct fake {
	char vm[65];
	int listen_fd;
	int cmd[2];
	int hang; /* 1: accepts, never greets; 2: half a greeting; 3: greets, never answers */
	pthread_mutex_t lock;
	char state[16];
	long long memory;
	char vnc[32];  /* "": null */
	bool no_stats; /* answers stats with unknown-command, as an older worker */
	int clients[FAKE_CLIENTS];
	int queries;
	int stats;    /* stats answered */
	int accepts;  /* connections accepted */
	int max_open; /* most connections open at once */
	pthread_t thread;
};

static void send_line(int fd, json_t *o)
{
	char *s = json_dumps(o, JSON_COMPACT);
	size_t len = strlen(s);
	s[len] = '\n';
	(void)!send(fd, s, len + 1, MSG_NOSIGNAL); /* a client may have gone */
	free(s);
	json_decref(o);
}

static void fake_answer(struct fake *f, int c)
{
	char line[4096];
	ssize_t n = recv(c, line, sizeof(line) - 1, 0);
	if (n <= 0) {
		for (int i = 0; i < FAKE_CLIENTS; i++)
			if (f->clients[i] == c)
				f->clients[i] = -1;
		close(c);
		return;
	}
	line[n] = '\0';
	for (char *p = line, *nl; (nl = strchr(p, '\n')); p = nl + 1) {
		*nl = '\0';
		json_t *req = json_loads(p, 0, NULL), *ret;
		const char *cmd = json_string_value(json_object_get(req, "execute"));
		pthread_mutex_lock(&f->lock);
		const char *kind = "return";
		if (cmd && strcmp(cmd, "query-status") == 0) {
			ret =
			    json_pack("{s:s,s:s,s:i,s:I,s:i,s:o}", "name", f->vm, "state", f->state,
				      "cpus", 2, "memory", (json_int_t)f->memory, "pid", getpid(),
				      "vnc", f->vnc[0] ? json_string(f->vnc) : json_null());
		} else if (f->no_stats) {
			kind = "error";
			ret = json_pack("{s:s,s:s}", "class", "unknown-command", "desc",
					"no such command");
		} else {
			json_int_t k = f->stats++;
			ret = json_pack("{s:I,s:I,s:[]}", "uptime-ns", 5000000000 + k * 1000000000,
					"cpu-time-ns", 4000000000 + k * 250000000, "vcpus");
		}
		f->queries++;
		pthread_mutex_unlock(&f->lock);
		send_line(c, json_pack("{s:o,s:O}", kind, ret, "id", json_object_get(req, "id")));
		json_decref(req);
	}
}

static void *fake_serve(void *opaque)
{
	struct fake *f = opaque;
	for (;;) {
		struct pollfd p[2 + FAKE_CLIENTS];
		int n = 2, open = 0;
		p[0] = (struct pollfd){.fd = f->listen_fd, .events = POLLIN};
		p[1] = (struct pollfd){.fd = f->cmd[0], .events = POLLIN};
		for (int i = 0; i < FAKE_CLIENTS; i++)
			if (f->clients[i] >= 0 && !f->hang) {
				p[n++] = (struct pollfd){.fd = f->clients[i], .events = POLLIN};
				open++;
			}
		if (poll(p, (nfds_t)n, -1) < 0)
			continue;
		if (p[1].revents) {
			char c;
			if (read(f->cmd[0], &c, 1) != 1 || c == 'q')
				break;
			json_t *data = json_pack("{s:s}", "state", f->state);
			for (int i = 0; i < FAKE_CLIENTS; i++)
				if (f->clients[i] >= 0)
					send_line(f->clients[i], json_pack("{s:s,s:O}", "event",
									   "state", "data", data));
			json_decref(data);
		}
		if (p[0].revents) {
			int c = accept(f->listen_fd, NULL, NULL);
			int slot = -1;
			for (int i = 0; i < FAKE_CLIENTS && c >= 0; i++)
				if (f->clients[i] < 0) {
					slot = i;
					break;
				}
			if (slot < 0) {
				if (c >= 0)
					close(c);
			} else {
				f->clients[slot] = c;
				pthread_mutex_lock(&f->lock);
				f->accepts++;
				pthread_mutex_unlock(&f->lock);
				if (++open > f->max_open)
					f->max_open = open;
				if (f->hang == 2)
					(void)!send(c, "{\"osio\": {\"pro", 14, MSG_NOSIGNAL);
				if (!f->hang || f->hang == 3)
					send_line(c, json_pack("{s:{s:s,s:i,s:s,s:[s,s]}}", "osio",
							       "version", "test", "protocol", 2,
							       "vm", f->vm, "commands",
							       "query-status", "stats"));
			}
		}
		for (int i = 2; i < n; i++)
			if (p[i].revents)
				fake_answer(f, p[i].fd);
	}
	for (int i = 0; i < FAKE_CLIENTS; i++)
		if (f->clients[i] >= 0)
			close(f->clients[i]);
	return NULL;
}

static void fake_start(struct fake *f, const char *vm, int hang)
{
	struct sockaddr_un sa = {.sun_family = AF_UNIX};
	memset(f, 0, sizeof(*f));
	snprintf(f->vm, sizeof(f->vm), "%s", vm);
	snprintf(f->state, sizeof(f->state), "running");
	f->memory = 3ll << 30;
	f->hang = hang;
	for (int i = 0; i < FAKE_CLIENTS; i++)
		f->clients[i] = -1;
	pthread_mutex_init(&f->lock, NULL);
	assert_int_equal(pipe(f->cmd), 0);
	assert_int_equal(control_socket_path(vm, sa.sun_path, sizeof(sa.sun_path)), 0);
	f->listen_fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	assert_true(f->listen_fd >= 0);
	unlink(sa.sun_path);
	assert_int_equal(bind(f->listen_fd, (struct sockaddr *)&sa, sizeof(sa)), 0);
	assert_int_equal(listen(f->listen_fd, 8), 0);
	assert_int_equal(pthread_create(&f->thread, NULL, fake_serve, f), 0);
}

static void fake_event(struct fake *f, const char *state)
{
	pthread_mutex_lock(&f->lock);
	snprintf(f->state, sizeof(f->state), "%s", state);
	pthread_mutex_unlock(&f->lock);
	assert_int_equal(write(f->cmd[1], "e", 1), 1);
}

/* The worker dies: every connection and the socket gone at once. */
static void fake_stop(struct fake *f)
{
	assert_int_equal(write(f->cmd[1], "q", 1), 1);
	pthread_join(f->thread, NULL);
	close(f->listen_fd);
	close(f->cmd[0]);
	close(f->cmd[1]);
	pthread_mutex_destroy(&f->lock);
}

/* --- the console's side ------------------------------------------------------ */

struct con {
	struct loop *loop;
	struct monitor *mon;
	struct vm_model model;
	unsigned bits;
	int changed;
};

static void on_changed(void *opaque)
{
	struct con *c = opaque;
	c->changed++;
	c->bits |= monitor_take(c->mon, &c->model);
}

typedef bool (*pred_fn)(struct con *c, const void *arg);

/* Runs the loop until pred holds (true) or timeout_ms passes (false). No
 * single turn of the loop may block: the monitor's work is on its thread. */
static bool wait_for(struct con *c, pred_fn pred, const void *arg, int timeout_ms)
{
	unsigned long long end = now_ms() + (unsigned long long)timeout_ms;
	while (!pred(c, arg)) {
		if (now_ms() >= end)
			return false;
		unsigned long long t0 = now_ms();
		assert_true(loop_once(c->loop, 50) >= 0);
		assert_true(now_ms() - t0 < 250);
	}
	return true;
}

static bool has_rows(struct con *c, const void *arg)
{
	return c->model.n == *(const unsigned *)arg;
}

struct want {
	const char *name;
	enum vm_state state;
	unsigned long long memory; /* 0: any */
};

static bool row_is(struct con *c, const void *arg)
{
	const struct want *w = arg;
	struct vm_row *r = model_find(&c->model, w->name);
	return r && r->info.state == w->state && (!w->memory || r->info.memory == w->memory);
}

/* arg: "NAME\0STATUS" */
static bool status_is(struct con *c, const void *arg)
{
	const char *name = arg, *status = name + strlen(name) + 1;
	struct vm_row *r = model_find(&c->model, name);
	return r && strcmp(r->status, status) == 0;
}

/* The VM's config changed since the last look (clears it). */
static bool config_of(struct con *c, const void *arg)
{
	return monitor_config_changed(c->mon, arg);
}

/* The row's CPU % is 25 (the fake's stats over two samples). */
static bool cpu_quarter(struct con *c, const void *arg)
{
	struct vm_row *r = model_find(&c->model, arg);
	return r && r->info.cpu_percent > 24.99 && r->info.cpu_percent < 25.01;
}

/* arg: "NAME\0VNC" */
static bool vnc_is(struct con *c, const void *arg)
{
	const char *name = arg, *vnc = name + strlen(name) + 1;
	struct vm_row *r = model_find(&c->model, name);
	return r && strcmp(r->info.vnc, vnc) == 0;
}

static int fake_count(struct fake *f, const int *field)
{
	pthread_mutex_lock(&f->lock);
	int n = *field;
	pthread_mutex_unlock(&f->lock);
	return n;
}

static bool row_gone(struct con *c, const void *arg)
{
	return model_find(&c->model, arg) == NULL;
}

static bool never(struct con *c, const void *arg)
{
	(void)c;
	(void)arg;
	return false;
}

/* Context switches of every thread but this one (the monitor's). */
static long other_threads_wakes(void)
{
	char path[300], line[256];
	long total = 0;
	pid_t self = (pid_t)syscall(SYS_gettid);
	DIR *d = opendir("/proc/self/task");
	struct dirent *e;
	assert_non_null(d);
	while ((e = readdir(d))) {
		if (e->d_name[0] == '.' || atoi(e->d_name) == self)
			continue;
		snprintf(path, sizeof(path), "/proc/self/task/%s/status", e->d_name);
		FILE *f = fopen(path, "r");
		while (f && fgets(line, sizeof(line), f)) {
			long v;
			if (sscanf(line, "voluntary_ctxt_switches: %ld", &v) == 1 ||
			    sscanf(line, "nonvoluntary_ctxt_switches: %ld", &v) == 1)
				total += v;
		}
		if (f)
			fclose(f);
	}
	closedir(d);
	return total;
}

static void con_start(struct con *c)
{
	char err[256] = "";
	memset(c, 0, sizeof(*c));
	c->loop = loop_new();
	assert_non_null(c->loop);
	model_init(&c->model);
	int r = monitor_start(c->loop, on_changed, c, &c->mon, err, sizeof(err));
	if (r < 0)
		fail_msg("monitor_start: %s", err);
}

static void con_stop(struct con *c)
{
	monitor_stop(c->mon);
	model_free(&c->model);
	loop_free(c->loop);
}

static int setup(void **st)
{
	(void)st;
	snprintf(root, sizeof(root), "/tmp/osio-monitor-XXXXXX");
	if (!mkdtemp(root))
		return -1;
	snprintf(store, sizeof(store), "%s/store", root);
	snprintf(run, sizeof(run), "%s/run", root);
	if (mkdir(run, 0700) < 0)
		return -1;
	setenv("OSIO_STORE_DIR", store, 1);
	setenv("OSIO_RUNTIME_DIR", run, 1);
	return 0;
}

static int teardown(void **st)
{
	char cmd[400];
	(void)st;
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", root);
	return system(cmd) == 0 ? 0 : -1;
}

static void listing(void **st)
{
	struct con c;
	unsigned two = 2, three = 3;
	char path[4096];
	(void)st;

	/* The monitor makes the store's vms folder when there is none. */
	con_start(&c);
	assert_int_equal(vmstore_path("alpha", NULL, path, sizeof(path)), 0);
	make_vm("alpha", "[vm]\nmemory = 1G\n");
	make_vm("beta", "[vm]\nmemory = 256M\ncpus = 2\n");
	assert_true(wait_for(&c, has_rows, &two, 5000));
	assert_true(c.changed > 0);
	assert_true(c.bits & MONITOR_LIST);
	struct vm_row *r = model_find(&c.model, "alpha");
	assert_non_null(r);
	assert_int_equal(r->info.state, VM_OFF);
	assert_int_equal(r->info.memory, 1ull << 30);
	assert_string_equal(r->status, "");

	/* One added the way a user might: a folder, then its vmconfig. */
	assert_int_equal(vmstore_path("gamma", NULL, path, sizeof(path)), 0);
	assert_int_equal(mkdir(path, 0700), 0);
	rewrite("gamma", "gamma.vmconfig", "[vm]\nmemory = 128M\n");
	assert_true(wait_for(&c, has_rows, &three, 5000));
	assert_non_null(model_find(&c.model, "gamma"));

	/* One removed. */
	c.bits = 0;
	remove_vm("beta");
	assert_true(wait_for(&c, row_gone, "beta", 5000));
	assert_int_equal(c.model.n, 2);
	assert_true(c.bits & MONITOR_LIST);

	/* A vmconfig rewritten (atomically): its details reload. */
	c.bits = 0;
	monitor_config_changed(c.mon, "alpha");
	monitor_config_changed(c.mon, "gamma"); /* its vmconfig came after its folder */
	rewrite("alpha", "alpha.vmconfig", "[vm]\nmemory = 2G\n");
	struct want w = {"alpha", VM_OFF, 2ull << 30};
	assert_true(wait_for(&c, row_is, &w, 5000));
	assert_true(c.bits & MONITOR_CONFIG);
	assert_true(monitor_config_changed(c.mon, "alpha"));
	assert_false(monitor_config_changed(c.mon, "alpha"));
	assert_false(monitor_config_changed(c.mon, "gamma"));

	/* Saved. */
	rewrite("gamma", "saved.vmstate", "x");
	w = (struct want){"gamma", VM_SAVED, 0};
	assert_true(wait_for(&c, row_is, &w, 5000));
	assert_string_equal(model_find(&c.model, "gamma")->status, "Saved");

	/* A command the console runs owns the Status while it runs... */
	model_set_busy(&c.model, "gamma", true);
	model_set_status(&c.model, "gamma", "Deleting the saved state...");
	char saved[4096];
	assert_int_equal(vmstore_path("gamma", "saved.vmstate", saved, sizeof(saved)), 0);
	assert_int_equal(unlink(saved), 0);
	w = (struct want){"gamma", VM_OFF, 0};
	assert_true(wait_for(&c, row_is, &w, 5000));
	assert_string_equal(model_find(&c.model, "gamma")->status, "Deleting the saved state...");
	/* ...and once it has ended, a refresh puts the state's there. */
	model_set_busy(&c.model, "gamma", false);
	monitor_refresh(c.mon, "gamma");
	assert_true(wait_for(&c, status_is, "gamma\0", 5000));
	rewrite("gamma", "saved.vmstate", "x");
	assert_true(wait_for(&c, status_is, "gamma\0Saved", 5000));
	/* Cleared by the console when its command ended: the state's again. */
	model_set_status(&c.model, "gamma", "");
	monitor_refresh(c.mon, "gamma");
	assert_true(wait_for(&c, status_is, "gamma\0Saved", 5000));
	/* A failure the console reported stays until the state changes. */
	model_set_status(&c.model, "gamma", "Start failed: no room");
	monitor_refresh(c.mon, "gamma");
	assert_false(wait_for(&c, never, NULL, 300));
	assert_string_equal(model_find(&c.model, "gamma")->status, "Start failed: no room");
	assert_int_equal(unlink(saved), 0);
	assert_true(wait_for(&c, status_is, "gamma\0", 5000));

	/* Its checkpoint tree changed (checkpoints/ made, its file
	 * rewritten): its details reload. */
	char cp[4096];
	assert_int_equal(vmstore_path("gamma", "checkpoints", cp, sizeof(cp)), 0);
	assert_int_equal(mkdir(cp, 0700), 0);
	assert_true(wait_for(&c, config_of, "gamma", 5000));
	rewrite("gamma", "checkpoints/checkpoints.json", "{}");
	assert_true(wait_for(&c, config_of, "gamma", 5000));
	assert_false(monitor_config_changed(c.mon, "alpha"));

	/* Renamed (osio rename: the folder, then its vmconfig). */
	char from[4096], to[4096];
	assert_int_equal(vmstore_path("alpha", NULL, from, sizeof(from)), 0);
	assert_int_equal(vmstore_path("delta", NULL, to, sizeof(to)), 0);
	assert_int_equal(rename(from, to), 0);
	assert_int_equal(vmstore_path("delta", "alpha.vmconfig", from, sizeof(from)), 0);
	assert_int_equal(vmstore_path("delta", "delta.vmconfig", to, sizeof(to)), 0);
	assert_int_equal(rename(from, to), 0);
	w = (struct want){"delta", VM_OFF, 2ull << 30};
	assert_true(wait_for(&c, row_is, &w, 5000));
	assert_true(wait_for(&c, row_gone, "alpha", 5000));
	/* The renamed folder is watched under its new name. */
	c.bits = 0;
	rewrite("delta", "delta.vmconfig", "[vm]\nmemory = 3G\n");
	w = (struct want){"delta", VM_OFF, 3ull << 30};
	assert_true(wait_for(&c, row_is, &w, 5000));
	assert_true(c.bits & MONITOR_CONFIG);

	/* A fresh listing on request keeps what is there. */
	monitor_refresh(c.mon, NULL);
	monitor_refresh(c.mon, "delta");
	assert_false(wait_for(&c, has_rows, &three, 300));
	assert_int_equal(c.model.n, 2);
	con_stop(&c);
}

static void worker(void **st)
{
	struct con c;
	struct fake f;
	char err[256], path[4096];
	int claim;
	(void)st;

	make_vm("web", "[vm]\nmemory = 1G\n");
	con_start(&c);
	struct want w = {"web", VM_OFF, 1ull << 30};
	assert_true(wait_for(&c, row_is, &w, 5000));

	/* Idle (no worker): nothing comes, and the monitor's thread sleeps
	 * without a timeout: it does not wake once. */
	struct rusage ru0, ru1;
	assert_false(wait_for(&c, never, NULL, 200)); /* (the first listing done) */
	int before = c.changed;
	long wakes0 = other_threads_wakes();
	getrusage(RUSAGE_SELF, &ru0);
	assert_false(wait_for(&c, never, NULL, 1500));
	getrusage(RUSAGE_SELF, &ru1);
	assert_int_equal(other_threads_wakes(), wakes0);
	long used_us = (ru1.ru_utime.tv_sec - ru0.ru_utime.tv_sec) * 1000000L +
		       (ru1.ru_utime.tv_usec - ru0.ru_utime.tv_usec) +
		       (ru1.ru_stime.tv_sec - ru0.ru_stime.tv_sec) * 1000000L +
		       (ru1.ru_stime.tv_usec - ru0.ru_stime.tv_usec);
	assert_int_equal(c.changed, before);
	assert_true(used_us < 150000);

	/* A worker claims it and serves its control socket: Running, with
	 * the memory the worker reports. */
	assert_int_equal(vmstore_worker_claim("web", &claim, err, sizeof(err)), 0);
	fake_start(&f, "web", 0);
	w = (struct want){"web", VM_RUNNING, 3ull << 30};
	assert_true(wait_for(&c, row_is, &w, 5000));
	struct vm_row *r = model_find(&c.model, "web");
	assert_int_equal(r->info.pid, getpid());
	assert_int_equal(r->info.cpus, 2);
	assert_true(r->info.uptime_ns >= 5000000000ull);
	/* The first look (vmstore_info) has the CPU % of the whole run. */
	assert_true(r->info.cpu_percent > 50);
	assert_string_equal(r->info.vnc, "");

	/* While it runs, its figures are refreshed every MONITOR_PERIOD_MS
	 * over the event connection: CPU % from two stats samples (the
	 * vCPU time over the uptime between them), the uptime stats says. */
	assert_true(wait_for(&c, cpu_quarter, "web", 4 * MONITOR_PERIOD_MS));
	r = model_find(&c.model, "web");
	assert_int_equal(r->info.uptime_ns % 1000000000, 0);
	assert_true(r->info.uptime_ns >= 7000000000ull);
	assert_int_equal(r->info.state, VM_RUNNING);
	assert_int_equal(r->info.pid, getpid());
	int q0 = fake_count(&f, &f.queries), a0 = fake_count(&f, &f.accepts);
	int s0 = fake_count(&f, &f.stats);
	wait_for(&c, never, NULL, 2 * MONITOR_PERIOD_MS + 300);
	int q1 = fake_count(&f, &f.queries), a1 = fake_count(&f, &f.accepts);
	/* query-status and stats, about twice; not in a busy loop; and no
	 * new connection for them. */
	assert_true(q1 - q0 >= 2 * 2);
	assert_true(q1 - q0 <= 3 * 2);
	assert_int_equal(a1, a0);
	r = model_find(&c.model, "web");
	assert_true(r->info.uptime_ns >= 5000000000ull + (unsigned long long)s0 * 1000000000);
	assert_true(cpu_quarter(&c, "web"));

	/* What query-status says shows without an event: memory, VNC. */
	pthread_mutex_lock(&f.lock);
	f.memory = 5ll << 30;
	snprintf(f.vnc, sizeof(f.vnc), "127.0.0.1:5901");
	pthread_mutex_unlock(&f.lock);
	w = (struct want){"web", VM_RUNNING, 5ull << 30};
	assert_true(wait_for(&c, row_is, &w, 2 * MONITOR_PERIOD_MS + 300));
	assert_true(wait_for(&c, vnc_is,
			     "web\0"
			     "127.0.0.1:5901",
			     300));
	assert_int_equal(fake_count(&f, &f.accepts), a0);

	/* A state event: the row follows at once, not at the next period. */
	c.bits = 0;
	unsigned long long t0 = now_ms();
	fake_event(&f, "paused");
	w = (struct want){"web", VM_PAUSED, 0};
	assert_true(wait_for(&c, row_is, &w, 5000));
	assert_true(now_ms() - t0 < MONITOR_PERIOD_MS / 2 + 200);
	assert_true(c.bits & MONITOR_STATE);
	assert_string_equal(model_find(&c.model, "web")->status, "");

	/* The worker dies holding its claim: Crashed, with its last words. */
	rewrite("web", "worker.log", "osio: starting\nosio: error: the vCPU fell over\n");
	c.bits = 0;
	t0 = now_ms();
	fake_stop(&f);
	close(claim);
	w = (struct want){"web", VM_CRASHED, 0};
	assert_true(wait_for(&c, row_is, &w, 5000));
	assert_true(now_ms() - t0 < MONITOR_PERIOD_MS + 500);
	assert_true(c.bits & MONITOR_STATE);
	assert_string_equal(model_find(&c.model, "web")->status,
			    "Crashed: osio: error: the vCPU fell over");
	assert_int_equal(vmstore_path("web", ".crashed", path, sizeof(path)), 0);
	assert_int_equal(access(path, F_OK), 0);

	/* Started again by a worker without stats (an older one): the
	 * period's look is vmstore_info's, a connection of its own each. */
	unlink(path);
	assert_int_equal(vmstore_worker_claim("web", &claim, err, sizeof(err)), 0);
	fake_start(&f, "web", 0);
	pthread_mutex_lock(&f.lock);
	f.no_stats = true;
	pthread_mutex_unlock(&f.lock);
	w = (struct want){"web", VM_RUNNING, 3ull << 30};
	assert_true(wait_for(&c, row_is, &w, 5000));
	wait_for(&c, never, NULL, MONITOR_PERIOD_MS + 300);
	a0 = fake_count(&f, &f.accepts);
	pthread_mutex_lock(&f.lock);
	f.memory = 6ll << 30;
	pthread_mutex_unlock(&f.lock);
	w = (struct want){"web", VM_RUNNING, 6ull << 30};
	assert_true(wait_for(&c, row_is, &w, 2 * MONITOR_PERIOD_MS + 300));
	wait_for(&c, never, NULL, MONITOR_PERIOD_MS);
	a1 = fake_count(&f, &f.accepts);
	assert_true(a1 - a0 >= 1);
	assert_true(a1 - a0 <= 5);

	/* Ended cleanly: Off. */
	fake_event(&f, "off");
	fake_stop(&f);
	vmstore_worker_release("web", claim);
	w = (struct want){"web", VM_OFF, 0};
	assert_true(wait_for(&c, row_is, &w, 5000));
	assert_string_equal(model_find(&c.model, "web")->status, "");
	con_stop(&c);
}

#define STUCK 3

static void hung_worker(void **st)
{
	struct con c;
	static struct fake f[STUCK];
	char err[256], name[STUCK][16];
	int claim[STUCK];
	static const int hang[STUCK] = {2, 1, 3};
	unsigned n = STUCK + 1;
	(void)st;

	con_start(&c);
	make_vm("other", "[vm]\nmemory = 1G\n");
	for (int i = 0; i < STUCK; i++) {
		snprintf(name[i], sizeof(name[i]), "stuck%d", i);
		make_vm(name[i], "[vm]\nmemory = 1G\n");
	}
	assert_true(wait_for(&c, has_rows, &n, 5000));
	/* Workers that accept connections and never answer: half a greeting,
	 * none, or a greeting and then nothing (the monitor's event
	 * connection is up, its queries over it never answered). */
	for (int i = 0; i < STUCK; i++) {
		assert_int_equal(vmstore_worker_claim(name[i], &claim[i], err, sizeof(err)), 0);
		fake_start(&f[i], name[i], hang[i]);
		struct want w = {name[i], VM_STARTING, 0};
		assert_true(wait_for(&c, row_is, &w, 5000));
	}
	/* Another VM's change still shows within about one query timeout
	 * (300 ms), however many workers hang (they are asked at once, not
	 * one after the other), and the console's loop never waits on them
	 * (wait_for checks each turn). */
	struct rusage ru0, ru1;
	unsigned long long start = now_ms();
	getrusage(RUSAGE_SELF, &ru0);
	for (int i = 0; i < 5; i++) {
		char cfg[64];
		snprintf(cfg, sizeof(cfg), "[vm]\nmemory = %dM\n", 100 + i);
		assert_false(wait_for(&c, never, NULL, 130 + 170 * i)); /* another phase */
		unsigned long long t0 = now_ms();
		rewrite("other", "other.vmconfig", cfg);
		struct want w = {"other", VM_OFF, (100ull + (unsigned)i) << 20};
		assert_true(wait_for(&c, row_is, &w, 5000));
		assert_true(now_ms() - t0 < 750);
	}
	/* Nor do they make it spin (half a greeting waits quietly). */
	getrusage(RUSAGE_SELF, &ru1);
	long used_ms = (ru1.ru_utime.tv_sec - ru0.ru_utime.tv_sec) * 1000L +
		       (ru1.ru_utime.tv_usec - ru0.ru_utime.tv_usec) / 1000 +
		       (ru1.ru_stime.tv_sec - ru0.ru_stime.tv_sec) * 1000L +
		       (ru1.ru_stime.tv_usec - ru0.ru_stime.tv_usec) / 1000;
	assert_true(used_ms < (long)(now_ms() - start) / 4);
	for (int i = 0; i < STUCK; i++) {
		fake_stop(&f[i]);
		vmstore_worker_release(name[i], claim[i]);
		struct want w = {name[i], VM_OFF, 0};
		assert_true(wait_for(&c, row_is, &w, 5000));
	}
	con_stop(&c);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test_setup_teardown(listing, setup, teardown),
	    cmocka_unit_test_setup_teardown(worker, setup, teardown),
	    cmocka_unit_test_setup_teardown(hung_worker, setup, teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
