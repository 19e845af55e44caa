/* The CPUID a vCPU sees: KVM's supported set, a coherent topology for N
 * vCPUs (one package, N cores, one thread each), a hypervisor leaf naming
 * osio (with KVM's paravirtual leaves moved to 0x40000100), and features
 * masked that a KVM without hardware support cannot emulate. */
#ifndef OSIO_CPUID_H
#define OSIO_CPUID_H

#include "hypervisor/kvm.h"

/* The x2APIC/APIC id of vCPU index i (ids are 0..N-1). */
static inline unsigned cpuid_apic_id(unsigned index)
{
	return index;
}

/* Builds the CPUID table for vCPU `index` of `count`. Returns a malloc'd
 * table for KVM_SET_CPUID2, or NULL on allocation failure. */
struct kvm_cpuid2 *cpuid_build(const struct kvm_host *h, unsigned index, unsigned count);

/* Bits of the width needed to number `count` items (0 for 1). */
unsigned cpuid_order(unsigned count);

#endif
