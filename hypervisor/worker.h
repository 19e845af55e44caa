/* The worker: one running VM. Builds the machine from a vm_spec (RAM, the PC
 * platform's devices, the KVM partition), boots it, serves its event loop,
 * and turns the guest's reset, power-off and debug-exit into restarts and
 * an exit status. */
#ifndef OSIO_WORKER_H
#define OSIO_WORKER_H

#include "hypervisor/vmspec.h"

#include <stdint.h>

/* Exit statuses besides 0 (the guest powered off) and the debug-exit port's
 * value. */
#define WORKER_EXIT_ERROR 1 /* osio could not start or run the VM */
#define WORKER_EXIT_CRASH 3 /* the guest crashed (KVM could not run it) */
#define WORKER_EXIT_TIMEOUT 124 /* --timeout ran out (as timeout(1) says it) */

/* How this run is watched, besides the VM's own settings. */
struct worker_options {
	const char *firmware_log; /* the BIOS's debug console into this file */
	uint64_t timeout_ns;	  /* turn the VM off after this long; 0: never */
	const char *screenshot;	  /* the screen as PNG into this file */
	const char *screen_text;  /* the text screen into this file */
	uint64_t capture_after_ns; /* when to take them; 0: when the VM ends */

	/* A VM of the store (osio start): its name, so that the worker claims
	 * it (vmstore_worker_claim: one worker per VM) and reports into its
	 * folder. NULL for osio run without the store. */
	const char *store_vm;
	/* Resume from this saved-state file (savevm.h) instead of booting; the
	 * file is removed once the VM runs from it. NULL: boot. */
	const char *restore;
	/* Where the control command "save" without a "file" argument writes
	 * (the store VM's saved.vmstate); NULL: "file" is required. */
	const char *save_path;
	/* Confine the worker after start-up (hypervisor/sandbox.h). */
	bool sandbox;
	/* Written with one byte ('r') once the VM runs (or with nothing when it
	 * could not start) and closed: osio start waits on it. 0 or -1: none
	 * (a detached worker's stdin is /dev/null, never this pipe). */
	int ready_fd;
};

/* Runs the VM in the foreground until it ends; returns the exit status.
 * opt may be NULL. */
int worker_run(const struct vm_spec *spec, const struct worker_options *opt);

/* Exit status of a worker whose VM was saved (the control command "save"):
 * the VM stopped and osio start resumes it. */
#define WORKER_EXIT_SAVED 4

#endif
