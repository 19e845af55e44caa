/* on_error=pause for IDE disks: a command whose block request failed with a
 * host error (-ENOSPC, -EIO) is held with the drive busy, the error hook of
 * ide.h is told (it pauses the VM), and the request is retried every second
 * and on ide_retry; a reset drops it (core.c's stop_command). And the
 * device's pause: no retries, and no request left in flight. */
#include "devices/ide/ide_int.h"

#include "hypervisor/evloop.h"
#include "hypervisor/log.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>

#define RETRY_NS 1000000000ull

static void drive_name(const struct ide_drive *d, char *buf, size_t len)
{
	snprintf(buf, len, "%s%u:%u", d->ch->ide->id, d->position / 2, d->position % 2);
}

/* Once per error until a request succeeds again. */
static void log_failure(struct ide_drive *d, int err, bool held)
{
	char name[48];
	if (d->last_error == err)
		return;
	d->last_error = err;
	drive_name(d, name, sizeof(name));
	if (held)
		log_error(
		    "piix-ide %s: %s: %s: the command waits, the VM pauses; free space on the "
		    "host (or fix the disk) and resume the VM",
		    name, block_path(d->blk), strerror(-err));
	else
		log_warn("piix-ide %s: %s: %s: the guest gets an error status", name,
			 block_path(d->blk), strerror(-err));
}

bool ide_hold(struct ide_drive *d, int status)
{
	if (status == 0) {
		d->last_error = 0;
		return false;
	}
	if ((status != -ENOSPC && status != -EIO) || d->kind != IDE_DISK)
		return false;
	if (!d->pause_on_error) {
		log_failure(d, status, false);
		return false;
	}
	struct piix_ide *ide = d->ch->ide;
	d->held = true;
	/* Busy as a drive still at work: new commands are ignored and the
	 * host's driver waits (DRQ means nothing while BSY is set). */
	d->status = (uint8_t)((d->status & ~ST_DRQ) | ST_BSY);
	if (d->announce) {
		log_failure(d, status, true);
		d->hook_err = status;
		evtimer_arm(ide->notify, 1, 0);
	}
	evtimer_arm(ide->retry, RETRY_NS, 0);
	return true;
}

/* The event loop calls the hook for the drives that have it due; no
 * channel lock is held meanwhile, so the hook may call ide_retry. */
static void notify_timer(void *opaque)
{
	struct piix_ide *ide = opaque;
	pthread_mutex_lock(&ide->hook_lock);
	ide_error_fn fn = ide->hook;
	void *fn_opaque = ide->hook_opaque;
	pthread_mutex_unlock(&ide->hook_lock);
	for (unsigned c = 0; c < 2; c++) {
		struct ide_channel *ch = &ide->ch[c];
		for (unsigned i = 0; i < 2; i++) {
			struct ide_drive *d = &ch->drive[i];
			char name[48];
			pthread_mutex_lock(&ch->lock);
			int err = d->hook_err;
			d->hook_err = 0;
			pthread_mutex_unlock(&ch->lock);
			if (!err || !fn)
				continue;
			drive_name(d, name, sizeof(name));
			fn(fn_opaque, name, block_path(d->blk), err);
		}
	}
}

/* Submits every held request again; `announce`: a new failure calls the
 * hook (an explicit retry), or stays quiet (the timer's). While the
 * device is paused nothing is submitted: an announced retry waits for the
 * resume. */
static void retry_held(struct piix_ide *ide, bool announce)
{
	pthread_mutex_lock(&ide->hook_lock);
	bool paused = ide->paused;
	if (paused)
		ide->announce_next |= announce;
	else
		announce |= ide->announce_next;
	if (!paused)
		ide->announce_next = false;
	pthread_mutex_unlock(&ide->hook_lock);
	if (paused)
		return;
	for (unsigned c = 0; c < 2; c++) {
		struct ide_channel *ch = &ide->ch[c];
		pthread_mutex_lock(&ch->lock);
		for (unsigned i = 0; i < 2; i++) {
			struct ide_drive *d = &ch->drive[i];
			if (d->io_busy) {
				/* A retry of the timer's on its way: its failure
				 * counts as this retry's. */
				d->announce |= announce;
				continue;
			}
			if (!d->held)
				continue;
			if (d->dma_remap && !bmdma_remap(d))
				continue; /* the command ended with an error */
			d->announce = announce;
			ide_resubmit(d);
		}
		pthread_mutex_unlock(&ch->lock);
	}
}

static void retry_timer(void *opaque)
{
	retry_held(opaque, false);
}

void ide_retry(void *state)
{
	retry_held(state, true);
}

static bool any_held(struct piix_ide *ide)
{
	bool held = false;
	for (unsigned c = 0; c < 2; c++) {
		struct ide_channel *ch = &ide->ch[c];
		pthread_mutex_lock(&ch->lock);
		held |= ch->drive[0].held || ch->drive[1].held;
		pthread_mutex_unlock(&ch->lock);
	}
	return held;
}

void ide_pause(void *state, bool paused)
{
	struct piix_ide *ide = state;
	pthread_mutex_lock(&ide->hook_lock);
	ide->paused = paused;
	bool announce = ide->announce_next;
	pthread_mutex_unlock(&ide->hook_lock);
	if (!paused) {
		/* Held commands go on being retried; at once if a retry was
		 * asked for meanwhile. */
		if (any_held(ide))
			evtimer_arm(ide->retry, announce ? 1 : RETRY_NS, 0);
		return;
	}
	evtimer_cancel(ide->retry);
	/* Requests in flight finish (a failure is held, not retried). */
	for (unsigned c = 0; c < 2; c++) {
		struct ide_channel *ch = &ide->ch[c];
		pthread_mutex_lock(&ch->lock);
		for (unsigned i = 0; i < 2; i++)
			ide_wait_io(&ch->drive[i]);
		pthread_mutex_unlock(&ch->lock);
	}
}

void ide_retry_loaded(struct piix_ide *ide)
{
	if (!any_held(ide))
		return;
	pthread_mutex_lock(&ide->hook_lock);
	ide->announce_next = true;
	pthread_mutex_unlock(&ide->hook_lock);
	evtimer_arm(ide->retry, RETRY_NS, 0);
}

void ide_set_error_hook(void *state, ide_error_fn fn, void *opaque)
{
	struct piix_ide *ide = state;
	pthread_mutex_lock(&ide->hook_lock);
	ide->hook = fn;
	ide->hook_opaque = opaque;
	pthread_mutex_unlock(&ide->hook_lock);
}

/* ide_pause_fini undoes it, also when it failed. */
int ide_pause_init(struct piix_ide *ide)
{
	pthread_mutex_init(&ide->hook_lock, NULL);
	ide->retry = evtimer_new(ide->m->loop, retry_timer, ide);
	ide->notify = evtimer_new(ide->m->loop, notify_timer, ide);
	return ide->retry && ide->notify ? 0 : -ENOMEM;
}

/* After the channels have stopped (nothing held, no I/O in flight) and
 * with the event loop not running. */
void ide_pause_fini(struct piix_ide *ide)
{
	evtimer_free(ide->retry);
	evtimer_free(ide->notify);
	ide->retry = ide->notify = NULL;
	pthread_mutex_destroy(&ide->hook_lock);
}
