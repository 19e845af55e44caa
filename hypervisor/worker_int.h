/* The worker's insides, shared by its files: worker.c (assembly, boot, the
 * run loop) and worker_pause.c (calls on the event loop's thread, pause,
 * resume and the VM held still). Not for anyone else: see worker_ctl.h. */
#ifndef OSIO_WORKER_INT_H
#define OSIO_WORKER_INT_H

#include "hypervisor/boot/boot.h"
#include "hypervisor/boot/firmware.h"
#include "hypervisor/kvm.h"
#include "hypervisor/machine.h"
#include "hypervisor/partition.h"
#include "hypervisor/worker.h"

#include <limits.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>

struct control;
struct evtimer;
struct vnc_server;

struct worker {
	struct machine m;
	struct kvm_host host;
	struct partition part;
	const struct vm_spec *spec;
	const struct worker_options *opt;
	bool firmware; /* booting through the BIOS */
	struct boot_plan plan;
	struct firmware fw;
	struct evtimer *timeout, *capture;
	struct control *ctl;	/* NULL when the VM runs without a control socket */
	struct vnc_server *vnc; /* NULL without a display or with vnc = none */
	pthread_mutex_t lock;
	pthread_cond_t cond;   /* loop calls done, or the worker ending (under lock) */
	bool ending;	       /* no more loop calls will run (under lock) */
	bool running;	       /* the vCPUs of w->part run (main thread only) */
	atomic_bool paused;    /* stopped by a pause, until resumed (written by the main thread) */
	bool stopped_for_call; /* inside worker_with_vm_stopped (main thread only) */
	bool restored;	       /* the saved state was loaded (main thread only) */
	/* w->part exists (guards the vCPUs for worker_vcpu_time) and the CPU
	 * time of vCPUs of earlier power-ons. */
	pthread_mutex_t part_lock;
	bool have_part;
	uint64_t *cpu_done;
	uint64_t start_ns;
	int claim_fd;
	int ready_fd;
	char pause_why[PATH_MAX + 256];
	atomic_uint boot; /* power-ons so far: a pause asked for before a reset is dropped */
	unsigned pause_boot;
	bool pending;
	enum machine_request req;
	int status;
	int sigfd;
};

/* Start and stop w->part's vCPUs (worker.c). Event loop's thread only,
 * under part_lock so that worker_vcpu_time (control thread) never reads a
 * vCPU being joined or freed. */
int worker_vcpus_start(struct worker *w);
void worker_vcpus_stop(struct worker *w);

/* Under [vm] on_disk_error = pause: the disks ask for a pause when a
 * request fails with a host error (worker_pause.c). */
void worker_hook_disk_errors(struct worker *w);

/* The worker ends: control commands waiting on the event loop give up and
 * no more loop calls are queued (worker_pause.c). */
void worker_calls_end(struct worker *w);

#endif
