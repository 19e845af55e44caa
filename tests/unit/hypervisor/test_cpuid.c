/* cpuid_build on hand-made KVM_GET_SUPPORTED_CPUID tables (Intel- and
 * AMD-like): topology leaves per the Intel SDM (leaves 01H, 04H, 0BH/1FH) and
 * AMD APM (8000_0008h, 8000_001Eh), hypervisor leaves, feature masking. */
#include "hypervisor/cpuid.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define SIG_FLAG     KVM_CPUID_FLAG_SIGNIFCANT_INDEX
#define HV_BASE	     0x40000000u
#define KVM_FEATURES 0x01007afbu

/* Leaf 1 ECX / EDX and leaf 7 EBX bits (Intel SDM vol. 2A, CPUID). */
#define ECX_SSE3       (1u << 0)
#define ECX_CX16       (1u << 13)
#define ECX_SSE42      (1u << 20)
#define ECX_X2APIC     (1u << 21)
#define ECX_MOVBE      (1u << 22)
#define ECX_XSAVE      (1u << 26)
#define ECX_OSXSAVE    (1u << 27)
#define ECX_AVX	       (1u << 28)
#define ECX_HYPERVISOR (1u << 31)
#define EDX_SSE2       (1u << 26)
#define EDX_HTT	       (1u << 28)
#define EBX7_BMI1      (1u << 3)
#define EBX7_AVX2      (1u << 5)
#define EBX7_SMEP      (1u << 7)
#define EBX7_ERMS      (1u << 9)
#define EBX7_INVPCID   (1u << 10)

#define L1_ECX (ECX_SSE3 | ECX_CX16 | ECX_SSE42 | ECX_X2APIC | ECX_MOVBE | ECX_XSAVE | ECX_AVX)
#define L7_EBX (EBX7_BMI1 | EBX7_AVX2 | EBX7_SMEP | EBX7_ERMS | EBX7_INVPCID)

#define E(fn, idx, fl, a, b, c, d)                                                                 \
	{                                                                                          \
		.function = (fn), .index = (idx), .flags = (fl), .eax = (a), .ebx = (b),           \
		.ecx = (c), .edx = (d)                                                             \
	}

/* Leaf 4 EAX: type, level, self-initialising, with the host's own sharing
 * (bits 25:14) and core (31:26) counts, which osio must replace. */
#define L4(type, level) ((type) | ((level) << 5) | (1u << 8) | (1u << 14) | (7u << 26))

/* "GenuineIntel", host APIC id 7, 16 logical, CLFLUSH 8, brand 0x12. */
static const struct kvm_cpuid_entry2 intel_leaves[] = {
    E(0, 0, 0, 0x1f, 0x756e6547, 0x6c65746e, 0x49656e69),
    E(1, 0, 0, 0x000906ea, 0x07100812, L1_ECX, EDX_SSE2 | EDX_HTT | 1),
    E(4, 0, SIG_FLAG, L4(1, 1), 0x01c0003f, 0x3f, 0),
    E(4, 1, SIG_FLAG, L4(2, 1), 0x01c0003f, 0x3f, 0),
    E(4, 2, SIG_FLAG, L4(3, 2), 0x03c0003f, 0x3ff, 0),
    E(4, 3, SIG_FLAG, L4(3, 3) | (1u << 9), 0x03c0003f, 0x3fff, 6),
    E(4, 4, SIG_FLAG, 0, 0, 0, 0),
    E(7, 0, SIG_FLAG, 0, L7_EBX, 0x4, 0x10),
    E(0xb, 0, SIG_FLAG, 1, 2, 0x100, 7),
    E(0xb, 1, SIG_FLAG, 4, 16, 0x201, 7),
    E(0xd, 0, SIG_FLAG, 7, 0x340, 0x340, 0),
    E(0xd, 1, SIG_FLAG, 1, 0, 0, 0),
    E(0x1f, 0, SIG_FLAG, 1, 2, 0x100, 7),
    E(0x1f, 1, SIG_FLAG, 4, 16, 0x201, 7),
    E(HV_BASE, 0, 0, HV_BASE + 1, 0x4b4d564b, 0x564b4d56, 0x4d),
    E(HV_BASE + 1, 0, 0, KVM_FEATURES, 0, 0, 0),
    E(0x80000000, 0, 0, 0x80000008, 0, 0, 0),
    E(0x80000008, 0, 0, 0x3027, 0, 0x1234, 0),
};

/* "AuthenticAMD": no leaf 4 or 0x1F, extended topology leaves. */
static const struct kvm_cpuid_entry2 amd_leaves[] = {
    E(0, 0, 0, 0x10, 0x68747541, 0x444d4163, 0x69746e65),
    E(1, 0, 0, 0x00a20f10, 0x05100800, L1_ECX, EDX_SSE2 | EDX_HTT),
    E(7, 0, SIG_FLAG, 0, L7_EBX, 0, 0),
    E(0xd, 0, SIG_FLAG, 7, 0x340, 0x340, 0),
    E(HV_BASE, 0, 0, HV_BASE + 1, 0x4b4d564b, 0x564b4d56, 0x4d),
    E(HV_BASE + 1, 0, 0, KVM_FEATURES, 0, 0, 0),
    E(0x80000000, 0, 0, 0x8000001f, 0x68747541, 0x444d4163, 0x69746e65),
    /* ECX: PerfTscSize 3, ApicIdSize 7, reserved 0xa, NC 15. */
    E(0x80000008, 0, 0, 0x3030, 0, 0x37a0f, 0),
    /* EBX: reserved 0xabcd, 2 threads per CU, CU 3; ECX: 2 nodes. */
    E(0x8000001e, 0, 0, 5, 0xabcd0103, 0x101, 0),
};

static struct kvm_host host_with(const struct kvm_cpuid_entry2 *leaves, unsigned n, bool hw)
{
	struct kvm_cpuid2 *c = calloc(1, sizeof(*c) + n * sizeof(c->entries[0]));
	assert_non_null(c);
	c->nent = n;
	memcpy(c->entries, leaves, n * sizeof(c->entries[0]));
	return (struct kvm_host){.fd = -1, .hardware = hw, .cpuid = c};
}

#define HOST(leaves, hw) host_with(leaves, sizeof(leaves) / sizeof(leaves[0]), hw)

static const struct kvm_cpuid_entry2 *get(const struct kvm_cpuid2 *c, unsigned fn, unsigned idx)
{
	const struct kvm_cpuid_entry2 *found = NULL;
	for (unsigned i = 0; i < c->nent; i++) {
		if (c->entries[i].function == fn && c->entries[i].index == idx) {
			assert_null(found); /* KVM_SET_CPUID2 wants each leaf once */
			found = &c->entries[i];
		}
	}
	return found;
}

static unsigned count_leaf(const struct kvm_cpuid2 *c, unsigned fn)
{
	unsigned n = 0;
	for (unsigned i = 0; i < c->nent; i++)
		n += c->entries[i].function == fn;
	return n;
}

static struct kvm_cpuid2 *build(const struct kvm_host *h, unsigned index, unsigned count)
{
	struct kvm_cpuid2 *src = h->cpuid;
	size_t size = sizeof(*src) + src->nent * sizeof(src->entries[0]);
	struct kvm_cpuid2 *copy = malloc(size);
	assert_non_null(copy);
	memcpy(copy, src, size);
	struct kvm_cpuid2 *c = cpuid_build(h, index, count);
	assert_non_null(c);
	assert_memory_equal(copy, src, size); /* the host's table is left alone */
	free(copy);
	return c;
}

static unsigned pow2_ceil(unsigned v)
{
	unsigned p = 1;
	while (p < v)
		p <<= 1;
	return p;
}

static void test_order(void **state)
{
	static const unsigned want[][2] = {{1, 0},  {2, 1},   {3, 2},	{4, 2},
					   {5, 3},  {8, 3},   {9, 4},	{64, 6},
					   {65, 7}, {255, 8}, {256, 8}, {1024, 10}};
	for (unsigned i = 0; i < sizeof(want) / sizeof(want[0]); i++)
		assert_int_equal(cpuid_order(want[i][0]), want[i][1]);
	for (unsigned i = 0; i < 300; i++)
		assert_int_equal(cpuid_apic_id(i), i);
}

/* Leaf 1 EBX: [31:24] initial APIC id, [23:16] maximum addressable logical
 * ids in the package (valid with EDX.HTT), [15:0] kept from the host. */
static void check_leaf1(const struct kvm_cpuid2 *c, unsigned i, unsigned n)
{
	const struct kvm_cpuid_entry2 *e = get(c, 1, 0);
	assert_non_null(e);
	assert_int_equal(e->ebx >> 24, i & 0xff);
	assert_int_equal(e->ebx & 0xffff, 0x0812);
	assert_true(e->ecx & ECX_HYPERVISOR);
	assert_true(e->edx & EDX_SSE2);
	if (n == 1) {
		assert_false(e->edx & EDX_HTT);
	} else {
		assert_true(e->edx & EDX_HTT);
		/* At least n (as much as 8 bits hold), and its power-of-two
		 * ceiling is the id space that leaf 0BH's shift gives. */
		unsigned ids = (e->ebx >> 16) & 0xff;
		assert_true(ids >= (n > 255 ? 255 : n));
		if (n <= 256)
			assert_int_equal(pow2_ceil(ids), 1u << cpuid_order(n));
	}
}

/* Leaf 0BH (and 1FH): sub-leaf 0 is the SMT level (1 thread per core),
 * 1 the core level (n per package), 2 the terminating invalid level. */
static void check_topology(const struct kvm_cpuid2 *c, unsigned fn, unsigned i, unsigned n)
{
	assert_int_equal(count_leaf(c, fn), 3);
	const struct kvm_cpuid_entry2 *smt = get(c, fn, 0), *core = get(c, fn, 1),
				      *end = get(c, fn, 2);
	assert_non_null(smt);
	assert_non_null(core);
	assert_non_null(end);
	unsigned shift = 0;
	while ((1u << shift) < n)
		shift++;
	assert_int_equal(smt->eax & 0x1f, 0);
	assert_int_equal(smt->ebx & 0xffff, 1);
	assert_int_equal(smt->ecx & 0xff, 0);
	assert_int_equal((smt->ecx >> 8) & 0xff, 1);
	assert_int_equal(smt->edx, i);
	assert_int_equal(core->eax & 0x1f, shift);
	assert_int_equal(core->ebx & 0xffff, n);
	assert_int_equal(core->ecx & 0xff, 1);
	assert_int_equal((core->ecx >> 8) & 0xff, 2);
	assert_int_equal(core->edx, i);
	/* All vCPUs share package id 0: x2APIC id >> shift. */
	assert_int_equal(core->edx >> (core->eax & 0x1f), 0);
	assert_int_equal(end->eax, 0);
	assert_int_equal(end->ebx, 0);
	assert_int_equal(end->ecx & 0xff, 2);
	assert_int_equal((end->ecx >> 8) & 0xff, 0);
	assert_int_equal(end->edx, i);
	assert_true(smt->flags & SIG_FLAG);
	assert_true(core->flags & SIG_FLAG);
	assert_true(end->flags & SIG_FLAG);
}

/* Leaf 4 EAX: [25:14] logical ids sharing the cache - 1, [31:26] core ids
 * in the package - 1; the other registers and the null sub-leaf kept. */
static void check_leaf4(const struct kvm_cpuid2 *c, unsigned n)
{
	unsigned ids = 1u << cpuid_order(n);
	for (unsigned s = 0; s < 5; s++) {
		const struct kvm_cpuid_entry2 *e = get(c, 4, s);
		const struct kvm_cpuid_entry2 *h = &intel_leaves[2 + s];
		assert_non_null(e);
		assert_int_equal(e->ebx, h->ebx);
		assert_int_equal(e->ecx, h->ecx);
		assert_int_equal(e->edx, h->edx);
		if (s == 4) {
			assert_int_equal(e->eax, 0);
			continue;
		}
		assert_int_equal(e->eax & 0x3fff, h->eax & 0x3fff);
		unsigned level = (e->eax >> 5) & 7;
		unsigned sharing = (e->eax >> 14) & 0xfff, cores = e->eax >> 26;
		assert_int_equal(sharing, level == 3 ? ids - 1 : 0);
		assert_int_equal(cores, ids > 64 ? 63 : ids - 1);
	}
}

static void test_intel_topology(void **state)
{
	struct kvm_host h = HOST(intel_leaves, true);
	static const unsigned counts[] = {1, 2, 3, 4, 5, 64, 100};
	for (unsigned k = 0; k < sizeof(counts) / sizeof(counts[0]); k++) {
		unsigned n = counts[k];
		for (unsigned i = 0; i < n; i++) {
			struct kvm_cpuid2 *c = build(&h, i, n);
			check_leaf1(c, i, n);
			check_topology(c, 0xb, i, n);
			check_topology(c, 0x1f, i, n);
			check_leaf4(c, n);
			/* Not AMD: the extended leaf is the host's. */
			assert_int_equal(get(c, 0x80000008, 0)->ecx, 0x1234);
			free(c);
		}
	}
	free(h.cpuid);
}

static void test_topology_leaf_added(void **state)
{
	/* A host table without 0BH still gets it; 1FH only where it was. */
	static const struct kvm_cpuid_entry2 bare[] = {
	    E(0, 0, 0, 0xd, 0x756e6547, 0x6c65746e, 0x49656e69),
	    E(1, 0, 0, 0x000906ea, 0x0812, L1_ECX, EDX_SSE2),
	};
	struct kvm_host h = HOST(bare, false);
	struct kvm_cpuid2 *c = build(&h, 2, 3);
	check_leaf1(c, 2, 3);
	check_topology(c, 0xb, 2, 3);
	assert_int_equal(count_leaf(c, 0x1f), 0);
	assert_int_equal(count_leaf(c, 4), 0);
	free(c);
	free(h.cpuid);
}

static void check_sig(const struct kvm_cpuid_entry2 *e, const char *want)
{
	char sig[13] = {0};
	memcpy(sig, &e->ebx, 4);
	memcpy(sig + 4, &e->ecx, 4);
	memcpy(sig + 8, &e->edx, 4);
	assert_memory_equal(sig, want, 12);
}

/* Linux's hypervisor_cpuid_base(): the first base, in 0x100 steps, whose
 * signature matches and whose EAX reaches base + leaves. */
static unsigned scan(const struct kvm_cpuid2 *c, const char *sig, unsigned leaves)
{
	for (unsigned base = HV_BASE; base < 0x40010000u; base += 0x100) {
		const struct kvm_cpuid_entry2 *e = get(c, base, 0);
		if (!e)
			continue;
		char s[12];
		memcpy(s, &e->ebx, 4);
		memcpy(s + 4, &e->ecx, 4);
		memcpy(s + 8, &e->edx, 4);
		if (memcmp(s, sig, 12) == 0 && e->eax - base >= leaves)
			return base;
	}
	return 0;
}

static void test_hypervisor_leaves(void **state)
{
	struct kvm_host h = HOST(intel_leaves, true);
	struct kvm_cpuid2 *c = build(&h, 0, 2);
	const struct kvm_cpuid_entry2 *osio = get(c, HV_BASE, 0);
	assert_non_null(osio);
	assert_int_equal(count_leaf(c, HV_BASE), 1);
	assert_int_equal(osio->eax, HV_BASE + 1);
	check_sig(osio, "osio\0\0\0\0\0\0\0\0");
	unsigned maj = 0, min = 0, pat = 0;
	assert_int_equal(sscanf(OSIO_VERSION, "%u.%u.%u", &maj, &min, &pat), 3);
	assert_non_null(get(c, HV_BASE + 1, 0));
	assert_int_equal(get(c, HV_BASE + 1, 0)->eax, (maj << 16) | (min << 8) | pat);

	const struct kvm_cpuid_entry2 *kvm = get(c, 0x40000100, 0);
	assert_non_null(kvm);
	assert_int_equal(kvm->eax, 0x40000101);
	check_sig(kvm, "KVMKVMKVM\0\0\0");
	assert_non_null(get(c, 0x40000101, 0));
	assert_int_equal(get(c, 0x40000101, 0)->eax, KVM_FEATURES);
	assert_int_equal(scan(c, "KVMKVMKVM\0\0\0", 1), 0x40000100);
	assert_int_equal(scan(c, "osio\0\0\0\0\0\0\0\0", 1), HV_BASE);
	free(c);
	free(h.cpuid);

	/* No KVM leaves on the host: osio's alone, nothing at 0x40000100. */
	struct kvm_host amd = host_with(amd_leaves, 4, true);
	c = build(&amd, 0, 1);
	assert_non_null(get(c, HV_BASE, 0));
	assert_null(get(c, 0x40000100, 0));
	assert_null(get(c, 0x40000101, 0));
	assert_int_equal(scan(c, "KVMKVMKVM\0\0\0", 1), 0);
	free(c);
	free(amd.cpuid);
}

static void test_software_kvm_masks(void **state)
{
	struct kvm_host sw = HOST(intel_leaves, false);
	struct kvm_cpuid2 *c = build(&sw, 0, 1);
	const struct kvm_cpuid_entry2 *l1 = get(c, 1, 0), *l7 = get(c, 7, 0);
	assert_int_equal(l1->ecx & (ECX_CX16 | ECX_MOVBE | ECX_XSAVE | ECX_OSXSAVE | ECX_AVX), 0);
	assert_int_equal(l1->ecx, ECX_SSE3 | ECX_SSE42 | ECX_X2APIC | ECX_HYPERVISOR);
	assert_int_equal(l7->ebx, EBX7_BMI1 | EBX7_SMEP | EBX7_ERMS);
	assert_int_equal(l7->ecx, 0x4);
	assert_int_equal(count_leaf(c, 0xd), 0);
	assert_int_equal(c->nent, sw.cpuid->nent - 2 /* 0xd */ + 1 /* 0xb */ + 1 /* 0x1f */ + 2);
	free(c);

	struct kvm_host hw = HOST(intel_leaves, true);
	c = build(&hw, 0, 1);
	l1 = get(c, 1, 0);
	l7 = get(c, 7, 0);
	assert_int_equal(l1->ecx, L1_ECX | ECX_HYPERVISOR);
	assert_int_equal(l7->ebx, L7_EBX);
	assert_int_equal(count_leaf(c, 0xd), 2);
	assert_memory_equal(get(c, 0xd, 0), &intel_leaves[10], sizeof(intel_leaves[10]));
	assert_memory_equal(get(c, 0xd, 1), &intel_leaves[11], sizeof(intel_leaves[11]));
	free(c);
	free(sw.cpuid);
	free(hw.cpuid);
}

/* AMD APM: 8000_0008h ECX [7:0] NC (threads - 1), [15:12] ApicIdSize;
 * 8000_001Eh EAX extended APIC id, EBX [7:0] core id, [15:8] threads per
 * core - 1, ECX [7:0] node id, [10:8] nodes per processor - 1. */
static void test_amd(void **state)
{
	struct kvm_host h = HOST(amd_leaves, false);
	static const unsigned counts[] = {1, 2, 3, 4, 64};
	for (unsigned k = 0; k < sizeof(counts) / sizeof(counts[0]); k++) {
		unsigned n = counts[k];
		for (unsigned i = 0; i < n; i++) {
			struct kvm_cpuid2 *c = build(&h, i, n);
			const struct kvm_cpuid_entry2 *e = get(c, 0x80000008, 0);
			assert_int_equal(e->ecx & 0xff, n - 1);
			assert_int_equal((e->ecx >> 12) & 0xf, cpuid_order(n));
			assert_int_equal(e->ecx & ~0xf0ffu, 0x37a0f & ~0xf0ffu);
			assert_int_equal(e->eax, 0x3030);
			e = get(c, 0x8000001e, 0);
			assert_int_equal(e->eax, i);
			assert_int_equal(e->ebx & 0xff, i);
			assert_int_equal((e->ebx >> 8) & 0xff, 0);
			assert_int_equal(e->ebx >> 16, 0xabcd);
			assert_int_equal(e->ecx, 0);
			e = get(c, 1, 0);
			assert_int_equal(e->ebx >> 24, i);
			assert_int_equal(e->ebx & 0xffff, 0x0800);
			check_topology(c, 0xb, i, n);
			assert_int_equal(count_leaf(c, 0x1f), 0);
			free(c);
		}
	}
	free(h.cpuid);

	/* Hygon is AMD's design too. */
	struct kvm_cpuid_entry2 hygon[sizeof(amd_leaves) / sizeof(amd_leaves[0])];
	memcpy(hygon, amd_leaves, sizeof(hygon));
	hygon[0].ebx = 0x6f677948; /* "HygonGenuine" */
	hygon[0].edx = 0x6e65476e;
	hygon[0].ecx = 0x656e6975;
	h = HOST(hygon, false);
	struct kvm_cpuid2 *c = build(&h, 5, 8);
	assert_int_equal(get(c, 0x80000008, 0)->ecx & 0xf0ff, (3u << 12) | 7);
	assert_int_equal(get(c, 0x8000001e, 0)->eax, 5);
	free(c);
	free(h.cpuid);

	/* The same leaves under an Intel vendor string are left alone. */
	hygon[0] = intel_leaves[0];
	h = HOST(hygon, false);
	c = build(&h, 5, 8);
	assert_int_equal(get(c, 0x80000008, 0)->ecx, 0x37a0f);
	assert_memory_equal(get(c, 0x8000001e, 0), &amd_leaves[8], sizeof(amd_leaves[8]));
	free(c);
	free(h.cpuid);
}

/* Known bug (see the report): with more than 128 vCPUs, leaf 1 EBX gets
 * (1 << order) << 16 = 0x100 << 16, which spills into the APIC id byte
 * [31:24] and leaves [23:16] 0. vmconfig allows cpus up to 1024. */
static void test_leaf1_many_cpus(void **state)
{
	struct kvm_host h = HOST(intel_leaves, true);
	static const unsigned counts[] = {128, 129, 200, 255, 256, 300};
	for (unsigned k = 0; k < sizeof(counts) / sizeof(counts[0]); k++) {
		unsigned n = counts[k];
		static const unsigned idx[] = {0, 1, 127, 128, 254, 255, 256, 299};
		for (unsigned j = 0; j < sizeof(idx) / sizeof(idx[0]) && idx[j] < n; j++) {
			struct kvm_cpuid2 *c = build(&h, idx[j], n);
			check_leaf1(c, idx[j], n);
			check_topology(c, 0xb, idx[j], n);
			free(c);
		}
	}
	free(h.cpuid);
}

/* Known bug (see the report): with more than 256 vCPUs, 8000_001Eh EBX gets
 * the whole index in [15:0], so vCPU 256 reports 2 threads per core. */
static void test_amd_many_cpus(void **state)
{
	struct kvm_host h = HOST(amd_leaves, true);
	for (unsigned i = 250; i < 300; i++) {
		struct kvm_cpuid2 *c = build(&h, i, 300);
		const struct kvm_cpuid_entry2 *e = get(c, 0x8000001e, 0);
		assert_int_equal(e->eax, i);
		assert_int_equal(e->ebx & 0xff, i & 0xff);
		assert_int_equal((e->ebx >> 8) & 0xff, 0);
		assert_int_equal((get(c, 0x80000008, 0)->ecx >> 12) & 0xf, 9);
		free(c);
	}
	free(h.cpuid);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_order),
	    cmocka_unit_test(test_intel_topology),
	    cmocka_unit_test(test_topology_leaf_added),
	    cmocka_unit_test(test_hypervisor_leaves),
	    cmocka_unit_test(test_software_kvm_masks),
	    cmocka_unit_test(test_amd),
	    cmocka_unit_test(test_leaf1_many_cpus),
	    cmocka_unit_test(test_amd_many_cpus),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
