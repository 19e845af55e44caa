/* What the worker's control commands ask of the running VM (worker.c
 * implements it). Lifecycle commands (control_vm.c) and checkpoints
 * (control_checkpoint.c) go through these calls instead of reaching into
 * the worker; all of them are safe from the control thread. */
#ifndef OSIO_WORKER_CTL_H
#define OSIO_WORKER_CTL_H

#include "hypervisor/machine.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct worker;
struct control;
struct partition;
struct vm_spec;

/* The VM's settings and its machine (devices by id: machine_device). */
const struct vm_spec *worker_spec(struct worker *w);
struct machine *worker_machine(struct worker *w);
/* The VM's folder in the store, or NULL for a VM run outside the store. */
const char *worker_store_vm(struct worker *w);

/* Asks for a reset, power-off or exit (first request wins; returns at
 * once). The control API's reset and power-off pass MACHINE_BY_HOST. */
void worker_request(struct worker *w, enum machine_request req, int status);

/* Pauses the vCPUs (why is shown in query-status) or resumes them. Return
 * once the event loop has done it: 0, -EALREADY (already so), -EAGAIN (the
 * VM is not running: starting, resetting or ending). */
int worker_pause(struct worker *w, const char *why);
int worker_resume(struct worker *w);
bool worker_paused(struct worker *w);

/* Runs fn on the event loop's thread with the vCPUs stopped and every device
 * paused (machine_pause_devices), then lets them go on unless the VM was
 * paused before. Returns fn's value; -EAGAIN when the VM is not running.
 * This is how saving and checkpoints see a still VM. fn may call
 * worker_write_state. */
int worker_with_vm_stopped(struct worker *w, int (*fn)(struct worker *w, void *opaque),
			   void *opaque);

/* Writes the VM's saved state (savevm.h) to path; only inside
 * worker_with_vm_stopped. -errno with err set. */
int worker_write_state(struct worker *w, const char *path, char *err, size_t errlen);

/* CPU time each vCPU thread has used so far, in ns (cpu < spec's cpus); 0
 * for one not running. */
uint64_t worker_vcpu_time(struct worker *w, unsigned cpu);
/* Nanoseconds since the VM started (CLOCK_MONOTONIC). */
uint64_t worker_uptime_ns(struct worker *w);

#endif
