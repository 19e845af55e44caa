/* The console's side of the monitor (monitor.h): starting and stopping its
 * thread, the queue of what the thread learnt, and applying that to the
 * VM list model. The thread's own work is monitor_thread.c's. */
#include "console/monitor_int.h"

#include "console/loop.h"
#include "console/model.h"

#include <errno.h>
#include <poll.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <unistd.h>

static void kick(int fd)
{
	uint64_t one = 1;

	while (write(fd, &one, sizeof(one)) < 0 && errno == EINTR)
		;
}

void mon_post(struct monitor *mon, struct mon_update *u)
{
	pthread_mutex_lock(&mon->lock);
	bool was_empty = mon->head == NULL;
	u->next = NULL;
	*mon->tail = u;
	mon->tail = &u->next;
	pthread_mutex_unlock(&mon->lock);
	if (was_empty)
		kick(mon->notify_fd);
}

bool mon_requests(struct monitor *mon, bool *all, char (**names)[65], unsigned *n)
{
	pthread_mutex_lock(&mon->lock);
	bool stop = mon->stop;
	*all = mon->refresh_all;
	*names = mon->refresh;
	*n = mon->nrefresh;
	mon->refresh_all = false;
	mon->refresh = NULL;
	mon->nrefresh = mon->caprefresh = 0;
	pthread_mutex_unlock(&mon->lock);
	return stop;
}

static void on_notify(void *opaque, int fd, short revents)
{
	struct monitor *mon = opaque;
	uint64_t v;

	(void)revents;
	while (read(fd, &v, sizeof(v)) < 0 && errno == EINTR)
		;
	if (mon->changed)
		mon->changed(mon->opaque);
}

static void free_update(struct mon_update *u)
{
	if (u->names)
		vmstore_free_names(u->names);
	free(u);
}

static void free_queue(struct mon_update *u)
{
	while (u) {
		struct mon_update *next = u->next;
		free_update(u);
		u = next;
	}
}

void monitor_stop(struct monitor *mon)
{
	if (!mon)
		return;
	if (mon->started) {
		pthread_mutex_lock(&mon->lock);
		mon->stop = true;
		pthread_mutex_unlock(&mon->lock);
		kick(mon->wake_fd);
		pthread_join(mon->thread, NULL);
	}
	mon_thread_free(mon);
	if (mon->notify_fd >= 0) {
		if (mon->loop)
			loop_unwatch(mon->loop, mon->notify_fd);
		close(mon->notify_fd);
	}
	if (mon->wake_fd >= 0)
		close(mon->wake_fd);
	free_queue(mon->head);
	free(mon->refresh);
	free(mon->cfg);
	pthread_mutex_destroy(&mon->lock);
	free(mon);
}

int monitor_start(struct loop *l, void (*changed)(void *opaque), void *opaque, struct monitor **out,
		  char *err, size_t errlen)
{
	struct monitor *mon = calloc(1, sizeof(*mon));
	int r;

	*out = NULL;
	if (!mon) {
		snprintf(err, errlen, "out of memory");
		return -ENOMEM;
	}
	mon->changed = changed;
	mon->opaque = opaque;
	mon->tail = &mon->head;
	mon->inotify_fd = mon->notify_fd = mon->wake_fd = -1;
	mon->vms_wd = mon->run_wd = -1;
	pthread_mutex_init(&mon->lock, NULL);
	mon->notify_fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	mon->wake_fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	if (mon->notify_fd < 0 || mon->wake_fd < 0) {
		r = -errno;
		snprintf(err, errlen, "eventfd: %s", strerror(errno));
		goto fail;
	}
	if ((r = mon_watch_init(mon, err, errlen)) < 0)
		goto fail;
	if ((r = loop_watch(l, mon->notify_fd, POLLIN, on_notify, mon)) < 0) {
		snprintf(err, errlen, "out of memory");
		goto fail;
	}
	mon->loop = l;
	if ((r = pthread_create(&mon->thread, NULL, mon_thread_main, mon)) != 0) {
		snprintf(err, errlen, "cannot start the monitor's thread: %s", strerror(r));
		r = -r;
		goto fail;
	}
	mon->started = true;
	*out = mon;
	return 0;
fail:
	monitor_stop(mon);
	return r;
}

static void remember_config(struct monitor *mon, const char *name)
{
	for (unsigned i = 0; i < mon->ncfg; i++)
		if (strcmp(mon->cfg[i], name) == 0)
			return;
	if (mon->ncfg == mon->capcfg) {
		unsigned cap = mon->capcfg ? mon->capcfg * 2 : 8;
		char(*c)[65] = realloc(mon->cfg, cap * sizeof(*c));
		if (!c)
			return;
		mon->cfg = c;
		mon->capcfg = cap;
	}
	snprintf(mon->cfg[mon->ncfg++], 65, "%s", name);
}

bool monitor_config_changed(struct monitor *mon, const char *name)
{
	if (!mon || !name)
		return false;
	for (unsigned i = 0; i < mon->ncfg; i++) {
		if (strcmp(mon->cfg[i], name) == 0) {
			memmove(mon->cfg[i], mon->cfg[i + 1],
				(mon->ncfg - i - 1) * sizeof(*mon->cfg));
			mon->ncfg--;
			return true;
		}
	}
	return false;
}

/* The Status column a state gives: the last line of a crashed worker's
 * log, "Saved", or nothing. */
static void state_status(const struct vm_info *info, char *buf, size_t size)
{
	buf[0] = '\0';
	if (info->state == VM_SAVED) {
		snprintf(buf, size, "Saved");
	} else if (info->state == VM_CRASHED) {
		const char *last = strrchr(info->log_tail, '\n');
		last = last ? last + 1 : info->log_tail;
		if (*last)
			snprintf(buf, size, "Crashed: %.*s", (int)(size > 10 ? size - 10 : 0),
				 last);
		else
			snprintf(buf, size, "Crashed");
	}
}

/* A Status of something under way: "Starting...". */
static bool progress(const char *status)
{
	size_t n = strlen(status);
	return n >= 3 && strcmp(status + n - 3, "...") == 0;
}

static bool same_info(const struct vm_info *a, const struct vm_info *b)
{
	return a->state == b->state && a->pid == b->pid &&
	       a->uptime_ns / 1000000000 == b->uptime_ns / 1000000000 &&
	       (int)(a->cpu_percent * 10) == (int)(b->cpu_percent * 10) && a->memory == b->memory &&
	       a->cpus == b->cpus && strcmp(a->vnc, b->vnc) == 0 &&
	       strcmp(a->log_tail, b->log_tail) == 0;
}

static unsigned apply_info(struct monitor *mon, struct vm_model *model, const struct mon_update *u)
{
	struct vm_row *row = model_find(model, u->info.name);
	unsigned bits = u->config ? MONITOR_CONFIG : 0;
	bool fresh = row == NULL;
	bool state_changed = !fresh && row->info.state != u->info.state;
	char status[MODEL_STATUS_MAX];

	if (u->config)
		remember_config(mon, u->info.name);
	state_status(&u->info, status, sizeof(status));
	/* A command the console runs on the VM owns its Status ("Saving...")
	 * while it runs. After it, what it left (its progress, or nothing)
	 * gives way to the state's ("Saved") at the next update, which the
	 * console asks for then; a failure it reported stays until the state
	 * changes. */
	bool set = fresh || (!row->busy && strcmp(row->status, status) != 0 &&
			     (state_changed || !row->status[0] || progress(row->status)));
	if (!fresh && !state_changed && !set && same_info(&row->info, &u->info))
		return bits;
	if (model_update(model, &u->info) < 0)
		return bits;
	bits |= MONITOR_LIST | (state_changed ? MONITOR_STATE : 0);
	if (set)
		model_set_status(model, u->info.name, status);
	return bits;
}

unsigned monitor_take(struct monitor *mon, struct vm_model *model)
{
	struct mon_update *list;
	unsigned bits = 0;

	if (!mon)
		return 0;
	pthread_mutex_lock(&mon->lock);
	list = mon->head;
	mon->head = NULL;
	mon->tail = &mon->head;
	pthread_mutex_unlock(&mon->lock);

	for (struct mon_update *u = list; u; u = u->next) {
		switch (u->kind) {
		case MON_INFO:
			bits |= apply_info(mon, model, u);
			break;
		case MON_REMOVE:
			if (model_find(model, u->info.name)) {
				model_remove(model, u->info.name);
				bits |= MONITOR_LIST;
			}
			monitor_config_changed(mon, u->info.name);
			break;
		case MON_RETAIN: {
			unsigned before = model->n;
			model_retain(model, u->names, u->n);
			if (model->n != before)
				bits |= MONITOR_LIST;
			break;
		}
		}
	}
	free_queue(list);
	return bits;
}

/* Adds name to the VMs the thread is to look at; called locked. false
 * when it cannot (then everything is looked at). */
static bool add_refresh(struct monitor *mon, const char *name)
{
	for (unsigned i = 0; i < mon->nrefresh; i++)
		if (strcmp(mon->refresh[i], name) == 0)
			return true;
	if (mon->nrefresh == mon->caprefresh) {
		unsigned cap = mon->caprefresh ? mon->caprefresh * 2 : 8;
		char(*c)[65] = cap <= 1024 ? realloc(mon->refresh, cap * sizeof(*c)) : NULL;
		if (!c)
			return false;
		mon->refresh = c;
		mon->caprefresh = cap;
	}
	snprintf(mon->refresh[mon->nrefresh++], 65, "%s", name);
	return true;
}

void monitor_refresh(struct monitor *mon, const char *name)
{
	if (!mon)
		return;
	pthread_mutex_lock(&mon->lock);
	if (!name || !add_refresh(mon, name))
		mon->refresh_all = true;
	pthread_mutex_unlock(&mon->lock);
	kick(mon->wake_fd);
}
