/* The worker: one running VM. Builds the machine from a vm_spec (RAM, the PC
 * platform's devices, the KVM partition), boots it, serves its event loop,
 * and turns the guest's reset, power-off and debug-exit into restarts and
 * an exit status. */
#ifndef OSIO_WORKER_H
#define OSIO_WORKER_H

#include "hypervisor/vmspec.h"

/* Exit statuses besides 0 (the guest powered off) and the debug-exit port's
 * value. */
#define WORKER_EXIT_ERROR 1 /* osio could not start or run the VM */
#define WORKER_EXIT_CRASH 3 /* the guest crashed (KVM could not run it) */

/* Runs the VM in the foreground until it ends; returns the exit status. */
int worker_run(const struct vm_spec *spec);

#endif
