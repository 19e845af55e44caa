/* CPUID for a vCPU: topology leaves, the osio hypervisor leaf, feature
 * masking for software-only KVMs. */
#include "hypervisor/cpuid.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define OSIO_CPUID_BASE 0x40000000u
#define KVM_CPUID_RELOCATED 0x40000100u

/* Leaf 1 ECX / leaf 7 EBX bits of instructions that kvm_pvm's emulator
 * cannot run (see shared/TESTING.md): a guest told they exist would stop
 * with an emulation failure, so they are hidden where KVM is not
 * hardware-backed. */
#define L1_ECX_CX16 (1u << 13)
#define L1_ECX_MOVBE (1u << 22)
#define L1_ECX_XSAVE (1u << 26)
#define L1_ECX_OSXSAVE (1u << 27)
#define L1_ECX_AVX (1u << 28)
#define L1_ECX_HYPERVISOR (1u << 31)
#define L1_EDX_HTT (1u << 28)
#define L7_EBX_INVPCID (1u << 10)
#define L7_EBX_AVX2 (1u << 5)

unsigned cpuid_order(unsigned count)
{
	unsigned bits = 0;
	while ((1u << bits) < count)
		bits++;
	return bits;
}

static struct kvm_cpuid_entry2 *find(struct kvm_cpuid2 *c, unsigned fn, unsigned idx)
{
	for (unsigned i = 0; i < c->nent; i++)
		if (c->entries[i].function == fn && c->entries[i].index == idx)
			return &c->entries[i];
	return NULL;
}

static void remove_leaf(struct kvm_cpuid2 *c, unsigned fn)
{
	unsigned j = 0;
	for (unsigned i = 0; i < c->nent; i++)
		if (c->entries[i].function != fn)
			c->entries[j++] = c->entries[i];
	c->nent = j;
}

static void add(struct kvm_cpuid2 *c, struct kvm_cpuid_entry2 e)
{
	c->entries[c->nent++] = e;
}

static bool is_amd(const struct kvm_cpuid2 *c)
{
	for (unsigned i = 0; i < c->nent; i++) {
		const struct kvm_cpuid_entry2 *e = &c->entries[i];
		if (e->function == 0 && e->index == 0)
			return e->ebx == 0x68747541 || e->ebx == 0x6f677948; /* Auth.., Hygo.. */
	}
	return false;
}

/* Extended topology (leaf 0xB, and 0x1F when the host has it): level 0 is
 * the thread (1 per core), level 1 the core (count per package). */
static void topology_leaf(struct kvm_cpuid2 *c, unsigned fn, unsigned apic, unsigned count)
{
	remove_leaf(c, fn);
	unsigned shift = cpuid_order(count);
	const unsigned f = KVM_CPUID_FLAG_SIGNIFCANT_INDEX;
	add(c, (struct kvm_cpuid_entry2){ .function = fn, .index = 0, .flags = f, .eax = 0,
					   .ebx = 1, .ecx = (1u << 8) | 0, .edx = apic });
	add(c, (struct kvm_cpuid_entry2){ .function = fn, .index = 1, .flags = f, .eax = shift,
					   .ebx = count, .ecx = (2u << 8) | 1, .edx = apic });
	add(c, (struct kvm_cpuid_entry2){ .function = fn, .index = 2, .flags = f, .eax = 0,
					   .ebx = 0, .ecx = 2, .edx = apic });
}

struct kvm_cpuid2 *cpuid_build(const struct kvm_host *h, unsigned index, unsigned count)
{
	const struct kvm_cpuid2 *src = h->cpuid;
	unsigned cap = src->nent + 16;
	struct kvm_cpuid2 *c = calloc(1, sizeof(*c) + cap * sizeof(c->entries[0]));
	if (!c)
		return NULL;
	memcpy(c->entries, src->entries, src->nent * sizeof(c->entries[0]));
	c->nent = src->nent;
	unsigned apic = cpuid_apic_id(index);
	unsigned order = cpuid_order(count);
	struct kvm_cpuid_entry2 *e;

	if ((e = find(c, 1, 0))) {
		/* EBX[31:24] holds the low 8 bits of the APIC id (the full id is
		 * in leaf 0xB); EBX[23:16] the addressable ids, at most 255. */
		unsigned ids = order >= 8 ? 255 : 1u << order;
		e->ebx = (e->ebx & 0x0000ffffu) | ((apic & 0xff) << 24) | (ids << 16);
		if (count > 1)
			e->edx |= L1_EDX_HTT;
		else
			e->edx &= ~L1_EDX_HTT;
		e->ecx |= L1_ECX_HYPERVISOR;
		if (!h->hardware)
			e->ecx &= ~(L1_ECX_CX16 | L1_ECX_MOVBE | L1_ECX_XSAVE | L1_ECX_OSXSAVE |
				    L1_ECX_AVX);
	}
	if (!h->hardware && (e = find(c, 7, 0)))
		e->ebx &= ~(L7_EBX_INVPCID | L7_EBX_AVX2);
	if (!h->hardware && find(c, 1, 0) && !(find(c, 1, 0)->ecx & L1_ECX_XSAVE))
		remove_leaf(c, 0xd);

	/* Deterministic cache parameters: L1/L2 per core, L3 shared. */
	for (unsigned i = 0; i < c->nent; i++) {
		e = &c->entries[i];
		if (e->function != 4 || (e->eax & 0x1f) == 0)
			continue;
		unsigned level = (e->eax >> 5) & 7;
		unsigned sharing = level >= 3 ? (1u << order) - 1 : 0;
		unsigned cores = (1u << order) - 1;
		if (cores > 63)
			cores = 63;
		e->eax = (e->eax & 0x3fffu) | (sharing << 14) | (cores << 26);
	}

	topology_leaf(c, 0xb, apic, count);
	if (find(c, 0x1f, 0))
		topology_leaf(c, 0x1f, apic, count);

	if (is_amd(c)) {
		if ((e = find(c, 0x80000008, 0)))
			e->ecx = (e->ecx & ~0xf0ffu) | (order << 12) | ((count - 1) & 0xff);
		if ((e = find(c, 0x8000001e, 0))) {
			e->eax = apic;
			e->ebx = (e->ebx & ~0xffffu) | (index & 0xff); /* compute unit id */
			e->ecx = 0;
		}
	}

	/* Hypervisor leaves: osio at 0x40000000; KVM's own (paravirtual
	 * clock, EOI, ...) at 0x40000100, where Linux's scan for "KVMKVMKVM"
	 * still finds them. */
	for (unsigned i = 0; i < c->nent; i++) {
		e = &c->entries[i];
		if (e->function == 0x40000000) {
			e->function = KVM_CPUID_RELOCATED;
			e->eax = KVM_CPUID_RELOCATED + 1;
		} else if (e->function == 0x40000001) {
			e->function = KVM_CPUID_RELOCATED + 1;
		}
	}
	static const char sig[12] = "osio";
	uint32_t w[3];
	memcpy(w, sig, sizeof(w));
	add(c, (struct kvm_cpuid_entry2){ .function = OSIO_CPUID_BASE,
					   .eax = OSIO_CPUID_BASE + 1,
					   .ebx = w[0], .ecx = w[1], .edx = w[2] });
	unsigned maj = 0, min = 0, pat = 0;
	sscanf(OSIO_VERSION, "%u.%u.%u", &maj, &min, &pat);
	add(c, (struct kvm_cpuid_entry2){ .function = OSIO_CPUID_BASE + 1,
					   .eax = (maj << 16) | (min << 8) | pat });
	return c;
}
