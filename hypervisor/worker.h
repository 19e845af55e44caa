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
};

/* Runs the VM in the foreground until it ends; returns the exit status.
 * opt may be NULL. */
int worker_run(const struct vm_spec *spec, const struct worker_options *opt);

#endif
