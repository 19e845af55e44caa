/* A child partition: the KVM VM (memory slots, in-kernel PIC/IOAPIC/LAPIC
 * and PIT, GSI routing) and its virtual processors, bound to a machine. */
#ifndef OSIO_PARTITION_H
#define OSIO_PARTITION_H

#include "hypervisor/kvm.h"
#include "hypervisor/machine.h"

#include <pthread.h>

struct vcpu;

struct partition {
	struct kvm_host *host;
	struct machine *m;
	int vm_fd;
	unsigned cpus;	  /* configured */
	unsigned nvcpus; /* created so far */
	struct vcpu **vcpus;
	pthread_mutex_t irq_lock; /* vm_fd use from device threads */
	struct memory_listener listener;
	struct kvm_coalesced_mmio_ring *ring; /* queued writes, or NULL */
	uint32_t ring_max;
	pthread_mutex_t ring_lock;
	bool slot_mapped[GUESTMEM_MAX_REGIONS];
	unsigned map_errors;
};

/* Creates the VM with the machine's RAM mapped and `cpus` vCPUs (not yet
 * running: vCPU 0 is the bootstrap processor, the others wait for
 * INIT/SIPI). Installs itself as m's interrupt sink. Logs and returns
 * -errno on failure. */
int partition_create(struct partition *p, struct kvm_host *host, struct machine *m, unsigned cpus);
void partition_destroy(struct partition *p);

/* Starts one thread per vCPU. */
int partition_start(struct partition *p);
/* Stops every vCPU thread and waits for them. */
void partition_stop(struct partition *p);

/* Delivers the writes KVM queued for coalesced zones, in order. Any
 * thread; cheap when nothing is queued. */
void partition_flush_coalesced(struct partition *p);

#endif
