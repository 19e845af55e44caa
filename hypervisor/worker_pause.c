/* The worker's calls on its event loop's thread from the control thread,
 * pause and resume, and the VM held still for a save or a checkpoint. */
#include "devices/device.h"
#include "hypervisor/control.h"
#include "hypervisor/log.h"
#include "hypervisor/savevm.h"
#include "hypervisor/worker_ctl.h"
#include "hypervisor/worker_int.h"
#include "devices/ide/ide.h"
#include "devices/virtio/blk.h"

#include <errno.h>
#include <limits.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* --- calls on the event loop's thread ------------------------------------------
 * The control thread asks the loop's thread (which owns w->part) to act and
 * waits for the answer. A call still queued when the worker ends is answered
 * -EAGAIN: its waiter leaves, and the call, run at the end by
 * evloop_run_calls, finds its waiter gone and does nothing. */

struct loop_call {
	struct worker *w;
	int (*fn)(struct worker *w, void *opaque);
	void *opaque;
	int result;
	bool done;
	unsigned refs; /* the waiter's and the queued call's */
};

static void loop_call_put(struct worker *w, struct loop_call *c)
{
	/* Under w->lock. */
	if (--c->refs == 0)
		free(c);
}

static void loop_call_run(void *opaque)
{
	struct loop_call *c = opaque;
	struct worker *w = c->w;
	pthread_mutex_lock(&w->lock);
	bool waiter = c->refs == 2;
	pthread_mutex_unlock(&w->lock);
	/* The waiter only leaves when w->ending is set, which this thread
	 * does: while fn runs it stays, and so does what opaque points to. */
	int r = waiter ? c->fn(w, c->opaque) : -EAGAIN;
	pthread_mutex_lock(&w->lock);
	c->result = r;
	c->done = true;
	pthread_cond_broadcast(&w->cond);
	loop_call_put(w, c);
	pthread_mutex_unlock(&w->lock);
}

static int call_on_loop(struct worker *w, int (*fn)(struct worker *w, void *opaque), void *opaque)
{
	struct loop_call *c = calloc(1, sizeof(*c));
	if (!c)
		return -ENOMEM;
	*c = (struct loop_call){.w = w, .fn = fn, .opaque = opaque, .refs = 2};
	pthread_mutex_lock(&w->lock);
	bool ending = w->ending;
	pthread_mutex_unlock(&w->lock);
	if (ending || evloop_call(w->m.loop, loop_call_run, c) < 0) {
		free(c);
		return -EAGAIN;
	}
	pthread_mutex_lock(&w->lock);
	while (!c->done && !w->ending)
		pthread_cond_wait(&w->cond, &w->lock);
	int r = c->done ? c->result : -EAGAIN;
	loop_call_put(w, c);
	pthread_mutex_unlock(&w->lock);
	return r;
}

/* --- pause and resume --------------------------------------------------------
 * A device that cannot go on (a host disk full under on_disk_error = pause)
 * or the control socket's "pause" pauses the VM: its vCPUs stop as they do
 * for a reset (partition_stop), the devices and the event loop go on.
 * "resume" starts the vCPUs again and lets the devices retry what failed.
 * Both run on the event loop's thread, which owns w->part. */

static int pause_now(struct worker *w, const char *why)
{
	if (!w->running || atomic_load(&w->m.stopping))
		return -EAGAIN;
	if (atomic_load(&w->paused))
		return -EALREADY;
	worker_vcpus_stop(w);
	atomic_store(&w->paused, true);
	control_set_status(w->ctl, "paused-reason", json_string(why));
	control_set_state(w->ctl, "paused", 0);
	return 0;
}

/* A pause the VM asked for itself (a disk error), from any thread. */
static void do_pause(void *opaque)
{
	struct worker *w = opaque;
	char why[sizeof(w->pause_why)];
	pthread_mutex_lock(&w->lock);
	snprintf(why, sizeof(why), "%s", w->pause_why);
	unsigned boot = w->pause_boot;
	pthread_mutex_unlock(&w->lock);
	if (boot != atomic_load(&w->boot) || pause_now(w, why) < 0)
		return;
	log_warn("the VM is paused: %s", why);
	log_warn("resume it (osio resume, or the control socket's \"resume\") once that is solved "
		 "(share/doc/control-api.md)");
	control_emit(w->ctl, "error", json_pack("{s:s}", "message", why));
}

static void request_pause(void *opaque, const char *why)
{
	struct worker *w = opaque;
	pthread_mutex_lock(&w->lock);
	snprintf(w->pause_why, sizeof(w->pause_why), "%s", why);
	w->pause_boot = atomic_load(&w->boot);
	pthread_mutex_unlock(&w->lock);
	evloop_call(w->m.loop, do_pause, w);
}

static int pause_on_loop(struct worker *w, void *opaque)
{
	int r = pause_now(w, opaque);
	if (r == 0)
		log_info("the VM is paused: %s", (const char *)opaque);
	return r;
}

int worker_pause(struct worker *w, const char *why)
{
	return call_on_loop(w, pause_on_loop, (void *)why);
}

bool worker_paused(struct worker *w)
{
	return atomic_load(&w->paused);
}

/* A disk (virtio, or IDE from the event loop) under on_disk_error = pause
 * holds a request that failed with a host error (pool thread). */
static void disk_error(void *opaque, const char *id, const char *path, int err)
{
	char why[PATH_MAX + 128];
	snprintf(why, sizeof(why), "disk %s (%s): %s%s", id, path, strerror(-err),
		 err == -ENOSPC ? " (free space on the host's file system)" : "");
	request_pause(opaque, why);
}

/* The virtio disks' hooks, and their retries when the VM resumes. */
static void for_each_virtio_disk(struct worker *w, void (*fn)(struct worker *w, void *disk))
{
	for (unsigned i = 0; i < w->spec->nvirtio; i++) {
		char id[16];
		snprintf(id, sizeof(id), "vd%u", i);
		void *disk = machine_device(&w->m, id);
		if (disk)
			fn(w, disk);
	}
}

static void hook_disk(struct worker *w, void *disk)
{
	virtio_blk_set_error_hook(disk, disk_error, w);
}

static void retry_disk(struct worker *w, void *disk)
{
	virtio_blk_retry(disk);
}

static int resume_on_loop(struct worker *w, void *opaque)
{
	if (!w->running || atomic_load(&w->m.stopping))
		return -EAGAIN;
	if (!atomic_load(&w->paused))
		return -EALREADY;
	if (worker_vcpus_start(w) < 0) {
		log_error("cannot resume the VM: its vCPUs do not start");
		worker_request(w, MACHINE_CRASH, 0);
		return -EIO;
	}
	atomic_store(&w->paused, false);
	log_info("the VM runs again");
	control_set_status(w->ctl, "paused-reason", NULL);
	control_set_state(w->ctl, "running", 0);
	/* The disks retry what made them ask for the pause. */
	for_each_virtio_disk(w, retry_disk);
	void *ide = machine_device(&w->m, "ide");
	if (ide)
		ide_retry(ide);
	return 0;
}

int worker_resume(struct worker *w)
{
	return call_on_loop(w, resume_on_loop, NULL);
}

/* --- the VM held still -------------------------------------------------------- */

struct stopped_call {
	int (*fn)(struct worker *w, void *opaque);
	void *opaque;
};

static int stopped_on_loop(struct worker *w, void *opaque)
{
	struct stopped_call *sc = opaque;
	if (!w->running || atomic_load(&w->m.stopping))
		return -EAGAIN;
	bool was_paused = atomic_load(&w->paused);
	if (!was_paused)
		worker_vcpus_stop(w);
	machine_pause_devices(&w->m, true);
	w->stopped_for_call = true;
	int r = sc->fn(w, sc->opaque);
	w->stopped_for_call = false;
	/* A VM that fn ended (a save) must not run a single instruction more:
	 * its disks would move past the saved state. */
	if (atomic_load(&w->m.stopping))
		return r;
	machine_pause_devices(&w->m, false);
	if (!was_paused && worker_vcpus_start(w) < 0) {
		log_error("cannot start the VM's vCPUs again");
		worker_request(w, MACHINE_CRASH, 0);
	}
	return r;
}

int worker_with_vm_stopped(struct worker *w, int (*fn)(struct worker *w, void *opaque),
			   void *opaque)
{
	struct stopped_call sc = {fn, opaque};
	return call_on_loop(w, stopped_on_loop, &sc);
}

int worker_write_state(struct worker *w, const char *path, char *err, size_t errlen)
{
	if (!w->stopped_for_call) {
		snprintf(err, errlen, "the VM must be held still to save its state");
		return -EINVAL;
	}
	return savevm_write_vm(&w->part, w->spec->name, path, err, errlen);
}

void worker_hook_disk_errors(struct worker *w)
{
	for_each_virtio_disk(w, hook_disk);
	/* The IDE disks: one hook for the whole IDE function. */
	void *ide = machine_device(&w->m, "ide");
	if (ide)
		ide_set_error_hook(ide, disk_error, w);
}

void worker_calls_end(struct worker *w)
{
	pthread_mutex_lock(&w->lock);
	w->ending = true;
	pthread_cond_broadcast(&w->cond);
	pthread_mutex_unlock(&w->lock);
}
