/* The monitor's thread: inotify on the store's vms folder, each VM's folder
 * and the runtime directory; an event connection to each running worker;
 * vmstore_info (by monitor_pool.c's helpers) for every VM something
 * happened to, and every MONITOR_PERIOD_MS query-status and stats over each
 * running worker's event connection. With no worker running it sleeps in
 * poll() for good. */
#include "console/monitor_int.h"

#include "hypervisor/ctlclient.h"
#include "hypervisor/runtime_dir.h"
#include "hypervisor/store.h"

#include <errno.h>
#include <poll.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/inotify.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#define DIR_MASK       (IN_CREATE | IN_DELETE | IN_MOVED_FROM | IN_MOVED_TO | IN_ONLYDIR)
#define VM_MASK	       (DIR_MASK | IN_CLOSE_WRITE)
#define PEEK_MAX       65536
#define GREET_MS       2000 /* a worker's greeting must come within this */
#define BACKOFF_MS     500  /* first retry of a failed event connection */
#define BACKOFF_MAX_MS 8000
#define REPEEK_MS      20

static unsigned long long now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (unsigned long long)ts.tv_sec * 1000 + (unsigned long long)ts.tv_nsec / 1000000;
}

/* --- the VMs the thread knows ---------------------------------------------- */

static struct mon_vm *find_vm(struct monitor *mon, const char *name)
{
	for (unsigned i = 0; i < mon->nvms; i++)
		if (strcmp(mon->vms[i]->name, name) == 0)
			return mon->vms[i];
	return NULL;
}

static void watch_checkpoints(struct monitor *mon, struct mon_vm *v)
{
	char path[4096];

	if (v->cp_wd >= 0 || vmstore_path(v->name, "checkpoints", path, sizeof(path)) < 0)
		return;
	v->cp_wd = inotify_add_watch(mon->inotify_fd, path, VM_MASK);
}

/* A watch on a folder that was watched under another name (a VM renamed)
 * comes back with the same descriptor: it is the new name's now. */
static void claim_wd(struct monitor *mon, struct mon_vm *owner, int wd)
{
	for (unsigned i = 0; wd >= 0 && i < mon->nvms; i++) {
		struct mon_vm *v = mon->vms[i];
		if (v == owner)
			continue;
		if (v->wd == wd)
			v->wd = -1;
		if (v->cp_wd == wd)
			v->cp_wd = -1;
	}
}

static void add_watches(struct monitor *mon, struct mon_vm *v)
{
	char path[4096];

	if (v->wd < 0 && vmstore_path(v->name, NULL, path, sizeof(path)) == 0) {
		v->wd = inotify_add_watch(mon->inotify_fd, path, VM_MASK);
		claim_wd(mon, v, v->wd);
	}
	if (v->cp_wd < 0) {
		watch_checkpoints(mon, v);
		claim_wd(mon, v, v->cp_wd);
	}
}

/* The VM called name (a folder in vms/), added when new. */
static struct mon_vm *get_vm(struct monitor *mon, const char *name)
{
	struct mon_vm *v = find_vm(mon, name);
	char err[160];

	if (v)
		return v;
	if (name[0] == '.' || vmstore_check_name(name, err, sizeof(err)) < 0)
		return NULL;
	if (mon->nvms == mon->capvms) {
		unsigned cap = mon->capvms ? mon->capvms * 2 : 32;
		struct mon_vm **a = realloc(mon->vms, cap * sizeof(*a));
		if (!a)
			return NULL;
		mon->vms = a;
		mon->capvms = cap;
	}
	if (!(v = calloc(1, sizeof(*v))))
		return NULL;
	snprintf(v->name, sizeof(v->name), "%s", name);
	v->wd = v->cp_wd = v->ctl_fd = v->conn_fd = -1;
	v->mon = mon;
	mon->vms[mon->nvms++] = v;
	add_watches(mon, v);
	return v;
}

static void disconnect(struct mon_vm *v)
{
	if (v->ctl) {
		ctl_close(v->ctl);
		v->ctl = NULL;
		v->ctl_fd = -1;
	}
	if (v->conn_fd >= 0) {
		close(v->conn_fd);
		v->conn_fd = -1;
	}
	v->repeek_at = 0;
	/* What was asked or measured over it is the old worker's. */
	v->status_id = v->stats_id = 0;
	v->no_stats = v->cpu_valid = v->status.ok = false;
	v->up_ns = v->cpu_ns = 0;
}

/* The connection failed or ended: look again, try later. */
static void retry_later(struct mon_vm *v)
{
	disconnect(v);
	v->dirty = true;
	v->backoff_ms = v->backoff_ms ? v->backoff_ms * 2 : BACKOFF_MS;
	if (v->backoff_ms > BACKOFF_MAX_MS)
		v->backoff_ms = BACKOFF_MAX_MS;
	v->retry_at = now_ms() + v->backoff_ms;
}

static void drop_vm(struct monitor *mon, struct mon_vm *v)
{
	disconnect(v);
	if (v->wd >= 0)
		inotify_rm_watch(mon->inotify_fd, v->wd);
	if (v->cp_wd >= 0)
		inotify_rm_watch(mon->inotify_fd, v->cp_wd);
	for (unsigned i = 0; i < mon->nvms; i++) {
		if (mon->vms[i] == v) {
			mon->vms[i] = mon->vms[--mon->nvms];
			break;
		}
	}
	free(v);
}

/* --- the event connection to a worker ---------------------------------------- */

static void on_event(void *opaque, const char *name, json_t *data, int fd)
{
	struct mon_vm *v = opaque;

	(void)data;
	if (fd >= 0)
		close(fd);
	if (strcmp(name, "state") == 0 || strcmp(name, "shutdown") == 0 ||
	    strcmp(name, "error") == 0)
		v->dirty = true;
}

static void on_reply(void *opaque, long long id, json_t *ret, const char *cls, const char *desc);

/* Connects without waiting; the greeting is waited for in poll(). */
static void connect_worker(struct mon_vm *v)
{
	struct sockaddr_un sa = {.sun_family = AF_UNIX};
	int fd;

	if (v->ctl || v->conn_fd >= 0 || now_ms() < v->retry_at ||
	    control_socket_path(v->name, sa.sun_path, sizeof(sa.sun_path)) < 0)
		return;
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
	if (fd < 0)
		return;
	if (connect(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0 && errno != EINPROGRESS) {
		close(fd);
		/* No socket yet (the worker is starting): the runtime
		 * directory's watch or the next tick brings us back. */
		v->retry_at = now_ms() + BACKOFF_MS;
		return;
	}
	v->conn_fd = fd;
	v->conn_deadline = now_ms() + GREET_MS;
}

/* The connection has data: once a whole greeting line is there, hand it
 * to the control client (which then reads it without waiting). */
static void greeted(struct monitor *mon, struct mon_vm *v)
{
	static const struct ctl_handlers handlers_tmpl = {.event = on_event, .reply = on_reply};
	struct ctl_handlers h = handlers_tmpl;
	char err[512];
	ssize_t n;

	do
		n = recv(v->conn_fd, mon->peek, PEEK_MAX, MSG_PEEK | MSG_DONTWAIT);
	while (n < 0 && errno == EINTR);
	if (n < 0 && errno == EAGAIN)
		return;
	if (n <= 0) {
		retry_later(v);
		return;
	}
	if (n < PEEK_MAX && !memchr(mon->peek, '\n', (size_t)n)) {
		/* Part of it: the rest is looked for a little later (poll
		 * would say "readable" at once again). */
		v->repeek_at = now_ms() + REPEEK_MS;
		return;
	}
	/* The socket stays non-blocking: the thread only reads what is
	 * there, and a send to a worker that stopped reading fails at once
	 * (never happens: one query pair at a time is a few dozen bytes). */
	int fd = v->conn_fd;
	v->conn_fd = -1;
	h.opaque = v;
	if (ctl_open_fd(fd, v->name, &h, &v->ctl, err, sizeof(err)) < 0) {
		v->ctl = NULL;
		retry_later(v);
		return;
	}
	v->ctl_fd = fd;
	v->backoff_ms = 0;
	v->dirty = true; /* the state it had before we listened */
}

static void read_events(struct mon_vm *v)
{
	int r = ctl_read(v->ctl, 0);

	/* The worker ended or died (vmstore_info says which), or broke the
	 * protocol (not asked again at once). */
	if (r < 0)
		retry_later(v);
}

/* --- what vmstore_info says ----------------------------------------------------- */

static bool has_worker(const struct vm_info *info)
{
	return info->pid > 0 && (info->state == VM_STARTING || info->state == VM_RUNNING ||
				 info->state == VM_PAUSED || info->state == VM_SAVING);
}

static bool folder_exists(const char *name)
{
	char path[4096];
	struct stat st;

	return vmstore_path(name, NULL, path, sizeof(path)) == 0 && stat(path, &st) == 0 &&
	       S_ISDIR(st.st_mode);
}

/* Posts info unless it is what was posted last (and no flag says post). */
static void post_info(struct monitor *mon, struct mon_vm *v, const struct vm_info *info,
		      bool config, bool force)
{
	struct mon_update *u;

	if (v->has_info && !config && !force && memcmp(&v->last, info, sizeof(*info)) == 0)
		return;
	memcpy(&v->last, info, sizeof(*info)); /* padding too: memcmp compares it */
	v->has_info = true;
	if ((u = calloc(1, sizeof(*u)))) {
		u->kind = MON_INFO;
		u->config = config;
		u->info = *info;
		mon_post(mon, u);
	}
}

static void post_one(struct monitor *mon, struct mon_vm *v, struct vm_info *info, int rc)
{
	struct mon_update *u;
	bool config = v->config, force = v->force;

	v->config = v->force = false;
	if (rc == -ENOENT) {
		bool had = v->has_info;
		v->has_info = false;
		v->worker = false;
		disconnect(v);
		if (had && (u = calloc(1, sizeof(*u)))) {
			u->kind = MON_REMOVE;
			snprintf(u->info.name, sizeof(u->info.name), "%s", v->name);
			mon_post(mon, u);
		}
		/* A folder still being filled keeps its watch: its vmconfig
		 * appearing makes it a VM. */
		if (!folder_exists(v->name))
			drop_vm(mon, v);
		return;
	}
	if (rc < 0)
		return;
	v->worker = has_worker(info);
	if (!v->worker)
		disconnect(v);
	else
		connect_worker(v);
	/* Its CPU % against the sample file, perhaps minutes old, gives way
	 * to the connection's over the last period. */
	if (v->worker && v->ctl && v->cpu_valid && v->has_info && v->last.pid == info->pid)
		info->cpu_percent = v->last.cpu_percent;
	post_info(mon, v, info, config, force);
}

/* Hands every VM marked dirty to the helpers (one not already with
 * them: a VM whose worker hangs holds one helper, once). */
static void update_dirty(struct monitor *mon)
{
	for (unsigned i = 0; i < mon->nvms; i++) {
		struct mon_vm *v = mon->vms[i];
		if (v->dirty && !v->inflight && mon_pool_submit(mon->pool, v->name)) {
			v->dirty = false;
			v->inflight = true;
		}
	}
}

static void take_results(struct monitor *mon)
{
	struct mon_result *list = mon_pool_take(mon->pool);

	for (struct mon_result *r = list; r; r = r->next) {
		struct mon_vm *v = find_vm(mon, r->name);
		if (!v)
			continue; /* dropped meanwhile */
		v->inflight = false;
		post_one(mon, v, &r->info, r->rc);
	}
	mon_pool_free_results(list);
}

/* --- the periodic refresh over the event connection ---------------------------- */

/* Both replies came: the row from the last one, with what they say. */
static void refreshed(struct monitor *mon, struct mon_vm *v, uint64_t cpu_ns, uint64_t up_ns)
{
	struct vm_info info;

	memcpy(&info, &v->last, sizeof(info)); /* padding too: post_info compares it */
	mon_apply_sample(v, &info, cpu_ns, up_ns);
	post_info(mon, v, &info, false, false);
}

/* A reply on the event connection (in ctl_read: the client must not be
 * closed here). What cannot be used has vmstore_info look instead. */
static void on_reply(void *opaque, long long id, json_t *ret, const char *cls, const char *desc)
{
	struct mon_vm *v = opaque;
	uint64_t cpu_ns, up_ns;

	(void)cls;
	(void)desc;
	if (id == v->status_id) {
		v->status_id = 0;
		v->status.ok = false;
		if (ret)
			mon_read_status(v, ret);
	} else if (id == v->stats_id) {
		v->stats_id = 0;
		if (!ret || !vmstore_stats_cpu(ret, &cpu_ns, &up_ns))
			v->no_stats = true; /* an older worker: unknown-command */
		else if (v->status.ok && v->has_info)
			refreshed(v->mon, v, cpu_ns, up_ns);
		if (v->no_stats || !v->status.ok || !v->has_info)
			v->dirty = true;
	}
}

/* The period's look at a running VM: query-status and stats over its event
 * connection, or vmstore_info where there is none (or it is of no use). A
 * worker still owing the last period's replies gets vmstore_info (which
 * gives up on it soon, on a helper) and is not asked again meanwhile. */
static void ask_worker(struct mon_vm *v)
{
	if (!v->ctl || v->no_stats || !v->has_info || v->status_id || v->stats_id) {
		v->dirty = true;
		return;
	}
	if (ctl_send(v->ctl, "query-status", NULL, &v->status_id) < 0 ||
	    ctl_send(v->ctl, "stats", NULL, &v->stats_id) < 0)
		retry_later(v); /* closed: vmstore_info says how it ended */
}

/* --- watching the store ------------------------------------------------------- */

static void watch_dirs(struct monitor *mon)
{
	char err[512];

	if (mon->vms_wd < 0 &&
	    store_create_dir("vms", mon->vms_dir, sizeof(mon->vms_dir), err, sizeof(err)) == 0)
		mon->vms_wd = inotify_add_watch(mon->inotify_fd, mon->vms_dir, DIR_MASK);
	if (mon->run_wd < 0 && mon->run_dir[0]) {
		mkdir(mon->run_dir, 0700);
		mon->run_wd = inotify_add_watch(mon->inotify_fd, mon->run_dir, DIR_MASK);
	}
}

/* A full listing: every VM looked at, those gone dropped. */
static void rescan(struct monitor *mon)
{
	char **names;
	unsigned n;
	struct mon_update *u;

	mon->rescan = false;
	watch_dirs(mon);
	if (vmstore_list(&names, &n) < 0)
		return;
	for (unsigned i = 0; i < mon->nvms; i++)
		mon->vms[i]->seen = false;
	for (unsigned i = 0; i < n; i++) {
		struct mon_vm *v = get_vm(mon, names[i]);
		if (v) {
			v->seen = true;
			v->dirty = v->force = true;
			add_watches(mon, v);
		}
	}
	for (unsigned i = 0; i < mon->nvms;) {
		struct mon_vm *v = mon->vms[i];
		if (v->seen) {
			i++;
		} else if (!folder_exists(v->name)) {
			drop_vm(mon, v); /* moves the last one here */
		} else {
			/* Not a VM now (no vmconfig): the listing drops its
			 * row, so when it is one again it is posted anew. */
			v->has_info = false;
			v->dirty = true;
			i++;
		}
	}
	if (!(u = calloc(1, sizeof(*u)))) {
		vmstore_free_names(names);
		return;
	}
	u->kind = MON_RETAIN;
	u->names = names;
	u->n = n;
	mon_post(mon, u);
}

static bool ends_with(const char *s, const char *tail, size_t *stem)
{
	size_t ls = strlen(s), lt = strlen(tail);

	*stem = ls - lt;
	return ls > lt && strcmp(s + ls - lt, tail) == 0;
}

static void vm_folder_event(struct monitor *mon, struct mon_vm *v, const struct inotify_event *ev)
{
	size_t stem;

	if (!ev->len)
		return;
	if (strcmp(ev->name, "checkpoints") == 0) {
		if (ev->mask & (IN_CREATE | IN_MOVED_TO)) {
			watch_checkpoints(mon, v);
			claim_wd(mon, v, v->cp_wd);
		}
		v->dirty = v->config = true;
	} else if (ends_with(ev->name, ".vmconfig", &stem) && stem == strlen(v->name) &&
		   strncmp(ev->name, v->name, stem) == 0) {
		if (!(ev->mask & IN_CREATE)) /* created empty; written next */
			v->dirty = v->config = true;
	} else if (!(ev->mask & IN_CLOSE_WRITE) &&
		   (strcmp(ev->name, ".running") == 0 || strcmp(ev->name, ".crashed") == 0 ||
		    strcmp(ev->name, "saved.vmstate") == 0)) {
		/* Appearing or going; not closed after writing (vmstore_info
		 * itself opens .running for writing to test its lock). */
		v->dirty = true;
	}
}

static void handle_event(struct monitor *mon, const struct inotify_event *ev)
{
	size_t stem;

	if (ev->mask & IN_Q_OVERFLOW) {
		mon->rescan = true;
		return;
	}
	if (ev->wd == mon->vms_wd) {
		if (ev->mask & (IN_IGNORED | IN_DELETE_SELF | IN_MOVE_SELF)) {
			if (ev->mask & IN_IGNORED)
				mon->vms_wd = -1;
			mon->rescan = true;
		} else if (ev->len) {
			struct mon_vm *v = ev->mask & (IN_CREATE | IN_MOVED_TO)
					       ? get_vm(mon, ev->name)
					       : find_vm(mon, ev->name);
			if (v) {
				v->dirty = true;
				if (ev->mask & (IN_CREATE | IN_MOVED_TO))
					add_watches(mon, v);
			}
		}
		return;
	}
	if (ev->wd == mon->run_wd) {
		if (ev->mask & IN_IGNORED) {
			mon->run_wd = -1;
		} else if (ev->len && ends_with(ev->name, ".sock", &stem) && stem < 65) {
			char name[65];
			memcpy(name, ev->name, stem);
			name[stem] = '\0';
			struct mon_vm *v = find_vm(mon, name);
			if (v) {
				v->dirty = true;
				v->retry_at = 0; /* a new socket: connect at once */
				v->backoff_ms = 0;
			}
		}
		return;
	}
	for (unsigned i = 0; i < mon->nvms; i++) {
		struct mon_vm *v = mon->vms[i];
		if (ev->wd == v->wd) {
			if (ev->mask & IN_IGNORED)
				v->wd = -1;
			else
				vm_folder_event(mon, v, ev);
			return;
		}
		if (ev->wd == v->cp_wd) {
			if (ev->mask & IN_IGNORED)
				v->cp_wd = -1;
			else if (ev->mask &
				 (IN_MOVED_TO | IN_DELETE | IN_CLOSE_WRITE | IN_MOVED_FROM))
				v->dirty = v->config = true;
			return;
		}
	}
}

static void read_inotify(struct monitor *mon)
{
	char buf[16384] __attribute__((aligned(__alignof__(struct inotify_event))));

	for (;;) {
		ssize_t n = read(mon->inotify_fd, buf, sizeof(buf));
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return;
		for (char *p = buf; p < buf + n;) {
			const struct inotify_event *ev = (const struct inotify_event *)p;
			handle_event(mon, ev);
			p += sizeof(*ev) + ev->len;
		}
	}
}

/* --- the thread ------------------------------------------------------------ */

static void take_requests(struct monitor *mon, bool *stop)
{
	char(*names)[65];
	unsigned n;
	bool all;
	uint64_t v;

	while (read(mon->wake_fd, &v, sizeof(v)) < 0 && errno == EINTR)
		;
	*stop = mon_requests(mon, &all, &names, &n);
	if (all)
		mon->rescan = true;
	for (unsigned i = 0; i < n; i++) {
		struct mon_vm *vm = get_vm(mon, names[i]);
		if (vm)
			vm->dirty = vm->force = true;
	}
	free(names);
}

/* The next time the thread must wake without an event: the periodic
 * refresh while a worker runs, a greeting's deadline, a retry. */
static int next_timeout(struct monitor *mon, unsigned long long now)
{
	unsigned long long due = 0;
	bool any = false;

	for (unsigned i = 0; i < mon->nvms; i++) {
		struct mon_vm *v = mon->vms[i];
		if (v->worker)
			any = true;
		if (v->conn_fd >= 0 && (!due || v->conn_deadline < due))
			due = v->conn_deadline;
		if (v->repeek_at && (!due || v->repeek_at < due))
			due = v->repeek_at;
		if (v->worker && !v->ctl && v->conn_fd < 0 && v->retry_at > now &&
		    (!due || v->retry_at < due))
			due = v->retry_at;
	}
	if (!any)
		mon->next_tick = 0;
	else if (!mon->next_tick)
		mon->next_tick = now + MONITOR_PERIOD_MS;
	if (mon->next_tick && (!due || mon->next_tick < due))
		due = mon->next_tick;
	if (!due)
		return -1;
	return due <= now ? 0 : (int)(due - now);
}

static void timed_work(struct monitor *mon)
{
	unsigned long long now = now_ms();
	bool tick = mon->next_tick && now >= mon->next_tick;

	if (tick)
		mon->next_tick = now + MONITOR_PERIOD_MS;
	for (unsigned i = 0; i < mon->nvms; i++) {
		struct mon_vm *v = mon->vms[i];
		if (v->conn_fd >= 0 && now >= v->conn_deadline)
			retry_later(v); /* no greeting: a hung worker */
		if (v->repeek_at && now >= v->repeek_at)
			v->repeek_at = 0; /* polled again */
		if (tick && v->worker)
			ask_worker(v);
		if (v->worker && !v->ctl && v->conn_fd < 0 && now >= v->retry_at)
			connect_worker(v);
	}
}

void *mon_thread_main(void *arg)
{
	struct monitor *mon = arg;
	struct pollfd *p = NULL;
	struct mon_vm **pv = NULL;
	unsigned cap = 0;
	bool stop = false;

	mon->rescan = true;
	while (!stop) {
		if (mon->rescan)
			rescan(mon);
		update_dirty(mon);

		unsigned need = 3 + mon->nvms, n = 3;
		if (need > cap) {
			struct pollfd *np = realloc(p, need * sizeof(*np));
			struct mon_vm **npv = np ? realloc(pv, need * sizeof(*npv)) : NULL;
			if (np)
				p = np;
			if (npv)
				pv = npv;
			if (!np || !npv) {
				nanosleep(&(struct timespec){.tv_nsec = 100 * 1000 * 1000}, NULL);
				continue;
			}
			cap = need;
		}
		p[0] = (struct pollfd){.fd = mon->wake_fd, .events = POLLIN};
		p[1] = (struct pollfd){.fd = mon->inotify_fd, .events = POLLIN};
		p[2] = (struct pollfd){.fd = mon_pool_fd(mon->pool), .events = POLLIN};
		for (unsigned i = 0; i < mon->nvms; i++) {
			struct mon_vm *v = mon->vms[i];
			int fd = v->ctl ? v->ctl_fd : v->conn_fd;
			if (fd < 0 || (!v->ctl && v->repeek_at))
				continue;
			pv[n] = v;
			p[n++] = (struct pollfd){.fd = fd, .events = POLLIN};
		}
		int r = poll(p, n, next_timeout(mon, now_ms()));
		if (r < 0 && errno != EINTR)
			break;
		if (r > 0) {
			if (p[0].revents)
				take_requests(mon, &stop);
			if (p[1].revents)
				read_inotify(mon);
			if (p[2].revents)
				take_results(mon);
			for (unsigned i = 3; i < n; i++) {
				if (!p[i].revents)
					continue;
				if (pv[i]->ctl && p[i].fd == pv[i]->ctl_fd)
					read_events(pv[i]);
				else if (p[i].fd == pv[i]->conn_fd)
					greeted(mon, pv[i]);
			}
		}
		timed_work(mon);
	}
	free(p);
	free(pv);
	return NULL;
}

/* --- set-up and tear-down (the caller's thread) ------------------------------ */

int mon_watch_init(struct monitor *mon, char *err, size_t errlen)
{
	int r;

	if ((r = store_create_dir("vms", mon->vms_dir, sizeof(mon->vms_dir), err, errlen)) < 0)
		return r;
	if (runtime_dir_path(mon->run_dir, sizeof(mon->run_dir)) < 0)
		mon->run_dir[0] = '\0';
	if ((r = mon_pool_start(&mon->pool, err, errlen)) < 0)
		return r;
	if (!(mon->peek = malloc(PEEK_MAX))) {
		snprintf(err, errlen, "out of memory");
		return -ENOMEM;
	}
	mon->inotify_fd = inotify_init1(IN_CLOEXEC | IN_NONBLOCK);
	if (mon->inotify_fd < 0) {
		r = -errno;
		snprintf(err, errlen,
			 "inotify: %s (too many watches? see fs.inotify.max_user_"
			 "instances)",
			 strerror(errno));
		return r;
	}
	mon->vms_wd = inotify_add_watch(mon->inotify_fd, mon->vms_dir, DIR_MASK);
	if (mon->vms_wd < 0) {
		r = -errno;
		snprintf(err, errlen, "%s: cannot watch it: %s", mon->vms_dir, strerror(errno));
		return r;
	}
	/* Without the runtime directory's watch, sockets are still noticed
	 * through each VM's .running. */
	if (mon->run_dir[0]) {
		mkdir(mon->run_dir, 0700);
		mon->run_wd = inotify_add_watch(mon->inotify_fd, mon->run_dir, DIR_MASK);
	}
	return 0;
}

void mon_thread_free(struct monitor *mon)
{
	while (mon->nvms)
		drop_vm(mon, mon->vms[0]);
	free(mon->vms);
	mon->vms = NULL;
	if (mon->inotify_fd >= 0)
		close(mon->inotify_fd);
	mon->inotify_fd = -1;
	free(mon->peek);
	mon->peek = NULL;
	mon_pool_stop(mon->pool);
	mon->pool = NULL;
}
