/* Virtual processors: one KVM vCPU and one thread each, and the dispatch of
 * their exits to the buses. */
#ifndef OSIO_VP_H
#define OSIO_VP_H

#include "hypervisor/partition.h"

#include <linux/kvm.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>
#include <time.h>

/* Register state a boot loader hands to the bootstrap processor. */
struct boot_cpu_state {
	struct kvm_regs regs;
	struct kvm_sregs sregs;
};

struct vcpu {
	struct partition *p;
	unsigned index;
	int fd;
	struct kvm_run *run;
	size_t run_size;
	pthread_t thread;
	bool started;
	atomic_bool stop;
	atomic_uint_fast64_t exits;
	/* CPU time of this vCPU's threads that have ended, and the clock of
	 * the one running (vcpu_cpu_time). */
	atomic_uint_fast64_t cpu_ns_done;
	clockid_t clock;
	atomic_bool clock_valid;
};

int vcpu_create(struct partition *p, unsigned index, struct vcpu **out);
void vcpu_destroy(struct vcpu *v);

/* Loads the boot loader's state into the vCPU (before it runs). sregs
 * fields the loader leaves zero keep KVM's reset values where that matters
 * (APIC base, ...): the loader passes a full state from vcpu_get_sregs. */
int vcpu_get_sregs(struct vcpu *v, struct kvm_sregs *s);
int vcpu_set_boot_state(struct vcpu *v, const struct boot_cpu_state *s);

int vcpu_start(struct vcpu *v);
/* Asks the thread to leave KVM_RUN and end; returns at once. */
void vcpu_kick(struct vcpu *v);
void vcpu_join(struct vcpu *v);
/* CPU time (ns) the vCPU's threads have used: those that ended and the one
 * running. Not concurrently with vcpu_join (the caller serialises). */
uint64_t vcpu_cpu_time(struct vcpu *v);

#endif
