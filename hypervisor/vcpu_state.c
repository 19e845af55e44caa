/* One vCPU's saved state: registers, system registers, FPU/XSAVE, XCRs,
 * every MSR KVM keeps, the LAPIC, pending events, MP state and debug
 * registers, checked and loaded back in the order KVM needs. */
#include "hypervisor/vcpu_state.h"

#include "hypervisor/log.h"

#include <stdlib.h>

#define CPU_VERSION	      1
#define MSR_IA32_TSC_DEADLINE 0x6e0
#define MSRS_MAX	      1024

/* MTRRs: KVM keeps them but does not list them in KVM_GET_MSR_INDEX_LIST.
 * MTRRdefType, the fixed ranges and the 8 variable pairs KVM has. */
static const uint32_t mtrr_msrs[] = {
    0x2ff, 0x250, 0x258, 0x259, 0x268, 0x269, 0x26a, 0x26b, 0x26c, 0x26d,
    0x26e, 0x26f, 0x200, 0x201, 0x202, 0x203, 0x204, 0x205, 0x206, 0x207,
    0x208, 0x209, 0x20a, 0x20b, 0x20c, 0x20d, 0x20e, 0x20f,
};

/* An MSR as it is kept in the file: index, 4 bytes of zero, value. */
struct msr_rec {
	uint32_t index;
	uint32_t zero;
	uint64_t value;
};

struct kvm_msrs_buf {
	struct kvm_msrs hdr;
	struct kvm_msr_entry e[MSRS_MAX];
};

/* Bytes of KVM's XSAVE buffer (at least struct kvm_xsave), 0 without XSAVE. */
static size_t xsave_size(struct partition *p)
{
	int n = vm_cap(p, KVM_CAP_XSAVE2);
	if (n >= (int)sizeof(struct kvm_xsave))
		return (size_t)n;
	return vm_cap(p, KVM_CAP_XSAVE) ? sizeof(struct kvm_xsave) : 0;
}

static bool msr_allowed(struct partition *p, uint32_t index)
{
	if (kvm_host_has_msr(p->host, index))
		return true;
	for (size_t i = 0; i < sizeof(mtrr_msrs) / sizeof(mtrr_msrs[0]); i++)
		if (mtrr_msrs[i] == index)
			return true;
	return false;
}

/* --- finishing the last exit ------------------------------------------- */

/* KVM finishes an IN, a string I/O instruction or an MMIO read only when the
 * vCPU enters KVM_RUN again (api.rst, immediate_exit): until then the
 * result is in no register userspace can read. Entering once with
 * immediate_exit set finishes it without running more guest code; a string
 * instruction may exit again for its next chunk, served as the vCPU thread
 * would. */
int vcpu_finish_exit(struct vcpu *v, char *err, size_t errlen)
{
	struct kvm_run *run = v->run;
	if (run->exit_reason != KVM_EXIT_IO && run->exit_reason != KVM_EXIT_MMIO)
		return 0;
	uint8_t old = run->immediate_exit;
	run->immediate_exit = 1;
	int r = 0;
	for (unsigned n = 0;; n++) {
		if (ioctl(v->fd, KVM_RUN, 0) < 0) {
			if (errno != EINTR && errno != EAGAIN) {
				r = -errno;
				snprintf(err, errlen,
					 "vCPU %u: cannot finish its last instruction: %s",
					 v->index, strerror(errno));
			}
			break;
		}
		if (n == 65536) {
			r = -EBUSY;
			snprintf(err, errlen, "vCPU %u: its last instruction does not finish",
				 v->index);
			break;
		}
		if (run->exit_reason == KVM_EXIT_IO) {
			uint8_t *data = (uint8_t *)run + run->io.data_offset;
			unsigned size = run->io.size;
			if (size != 1 && size != 2 && size != 4)
				continue;
			for (uint32_t i = 0; i < run->io.count; i++, data += size) {
				if (run->io.direction == KVM_EXIT_IO_OUT)
					bus_write(v->p->m->pio, run->io.port, data, size);
				else
					bus_read(v->p->m->pio, run->io.port, data, size);
			}
		} else if (run->exit_reason == KVM_EXIT_MMIO) {
			unsigned len = run->mmio.len;
			if (len > sizeof(run->mmio.data))
				len = sizeof(run->mmio.data);
			for (unsigned i = 0; i < len; i++) {
				if (run->mmio.is_write)
					bus_write(v->p->m->mmio, run->mmio.phys_addr + i,
						  &run->mmio.data[i], 1);
				else
					bus_read(v->p->m->mmio, run->mmio.phys_addr + i,
						 &run->mmio.data[i], 1);
			}
		} else {
			break; /* nothing left half done */
		}
	}
	run->immediate_exit = old;
	return r;
}

/* --- saving ------------------------------------------------------------- */

/* Every MSR KVM lists (and the MTRRs) that KVM_GET_MSRS reads on this vCPU. */
static int save_msrs(struct vcpu *v, struct vmstate_out *out, char *err, size_t errlen)
{
	struct partition *p = v->p;
	struct kvm_msrs_buf *b = calloc(1, sizeof(*b));
	struct msr_rec *rec = calloc(MSRS_MAX, sizeof(*rec));
	int r = 0;
	if (!b || !rec) {
		r = -ENOMEM;
		snprintf(err, errlen, "out of memory");
		goto out;
	}
	uint32_t want[MSRS_MAX];
	unsigned n = 0;
	for (unsigned i = 0; p->host->msrs && i < p->host->msrs->nmsrs && n < MSRS_MAX; i++)
		want[n++] = p->host->msrs->indices[i];
	for (size_t i = 0; i < sizeof(mtrr_msrs) / sizeof(mtrr_msrs[0]) && n < MSRS_MAX; i++)
		if (!kvm_host_has_msr(p->host, mtrr_msrs[i]))
			want[n++] = mtrr_msrs[i];
	/* KVM_GET_MSRS stops at the first MSR it cannot read: skip that one
	 * and go on with the rest. */
	unsigned got = 0;
	for (unsigned at = 0; at < n;) {
		b->hdr.nmsrs = n - at;
		for (unsigned i = at; i < n; i++)
			b->e[i - at] = (struct kvm_msr_entry){.index = want[i]};
		int k = ioctl(v->fd, KVM_GET_MSRS, b);
		if (k < 0) {
			r = -errno;
			snprintf(err, errlen, "cannot read vCPU %u's MSRs from KVM: %s", v->index,
				 strerror(errno));
			goto out;
		}
		for (int i = 0; i < k; i++)
			rec[got++] =
			    (struct msr_rec){.index = b->e[i].index, .value = b->e[i].data};
		if (at + (unsigned)k < n && tracing(TRACE_BOOT))
			log_trace("vCPU %u: MSR 0x%x not readable, not saved", v->index,
				  want[at + (unsigned)k]);
		at += (unsigned)k + 1;
	}
	vmstate_put_bytes(out, "msrs", rec, got * sizeof(*rec));
out:
	free(b);
	free(rec);
	return r;
}

/* The instruction-set features the guest was shown (CPUID leaf 1 ECX/EDX,
 * leaf 7 EBX/ECX/EDX), without the bits that follow CR4 at run time
 * (OSXSAVE, OSPKE). A guest that saw a feature uses it: it cannot go on
 * where the processor lacks it. false if KVM does not say. */
#define FEATURE_WORDS 5
static bool cpu_features(struct vcpu *v, uint32_t f[FEATURE_WORDS])
{
	enum { MAX = 256 };
	struct kvm_cpuid2 *c = calloc(1, sizeof(*c) + MAX * sizeof(c->entries[0]));
	if (!c)
		return false;
	c->nent = MAX;
	bool ok = ioctl(v->fd, KVM_GET_CPUID2, c) == 0;
	memset(f, 0, FEATURE_WORDS * sizeof(f[0]));
	for (unsigned i = 0; ok && i < c->nent && i < MAX; i++) {
		const struct kvm_cpuid_entry2 *e = &c->entries[i];
		if (e->function == 1) {
			f[0] = e->ecx & ~(1u << 27);
			f[1] = e->edx;
		} else if (e->function == 7 && e->index == 0) {
			f[2] = e->ebx;
			f[3] = e->ecx & ~(1u << 4);
			f[4] = e->edx;
		}
	}
	free(c);
	return ok;
}

int vcpu_save_state(struct vcpu *v, struct vmstate_out *out, char *err, size_t errlen)
{
	struct partition *p = v->p;
	char name[16];
	snprintf(name, sizeof(name), "cpu%u", v->index);
	vmstate_begin(out, name, CPU_VERSION);
	int r = 0;
	void *xs = NULL;

	struct kvm_regs regs;
	SAVE_IOCTL(v->fd, KVM_GET_REGS, &regs, "the registers");
	vmstate_put_bytes(out, "regs", &regs, sizeof(regs));
	if (vm_cap(p, KVM_CAP_SREGS2)) {
		struct kvm_sregs2 s2;
		SAVE_IOCTL(v->fd, KVM_GET_SREGS2, &s2, "the system registers");
		vmstate_put_bytes(out, "sregs2", &s2, sizeof(s2));
	} else {
		struct kvm_sregs s;
		SAVE_IOCTL(v->fd, KVM_GET_SREGS, &s, "the system registers");
		vmstate_put_bytes(out, "sregs", &s, sizeof(s));
	}
	size_t xsize = xsave_size(p);
	if (xsize) {
		xs = calloc(1, xsize);
		if (!xs) {
			r = -ENOMEM;
			snprintf(err, errlen, "out of memory");
			goto out;
		}
		if (xsize > sizeof(struct kvm_xsave))
			SAVE_IOCTL(v->fd, KVM_GET_XSAVE2, xs, "the XSAVE state");
		else
			SAVE_IOCTL(v->fd, KVM_GET_XSAVE, xs, "the XSAVE state");
		vmstate_put_bytes(out, "xsave", xs, xsize);
	} else {
		struct kvm_fpu fpu;
		SAVE_IOCTL(v->fd, KVM_GET_FPU, &fpu, "the FPU state");
		vmstate_put_bytes(out, "fpu", &fpu, sizeof(fpu));
	}
	if (vm_cap(p, KVM_CAP_XCRS)) {
		struct kvm_xcrs xcrs;
		SAVE_IOCTL(v->fd, KVM_GET_XCRS, &xcrs, "the XCRs");
		vmstate_put_bytes(out, "xcrs", &xcrs, sizeof(xcrs));
	}
	if ((r = save_msrs(v, out, err, errlen)) < 0)
		goto out;
	struct kvm_lapic_state lapic;
	SAVE_IOCTL(v->fd, KVM_GET_LAPIC, &lapic, "the local APIC");
	vmstate_put_bytes(out, "lapic", &lapic, sizeof(lapic));
	struct kvm_vcpu_events ev;
	SAVE_IOCTL(v->fd, KVM_GET_VCPU_EVENTS, &ev, "the pending events");
	vmstate_put_bytes(out, "events", &ev, sizeof(ev));
	struct kvm_mp_state mp;
	SAVE_IOCTL(v->fd, KVM_GET_MP_STATE, &mp, "the MP state");
	vmstate_put_u64(out, "mp-state", mp.mp_state);
	if (vm_cap(p, KVM_CAP_DEBUGREGS)) {
		struct kvm_debugregs dr;
		SAVE_IOCTL(v->fd, KVM_GET_DEBUGREGS, &dr, "the debug registers");
		vmstate_put_bytes(out, "debugregs", &dr, sizeof(dr));
	}
	int khz = ioctl(v->fd, KVM_GET_TSC_KHZ, 0);
	if (khz > 0)
		vmstate_put_u64(out, "tsc-khz", (uint64_t)khz);
	uint32_t feat[FEATURE_WORDS];
	if (cpu_features(v, feat))
		vmstate_put_bytes(out, "cpuid-features", feat, sizeof(feat));
out:
	free(xs);
	vmstate_end(out);
	if (r < 0 && strncmp(err, "vCPU", 4) != 0) {
		char why[192];
		snprintf(why, sizeof(why), "%s", err);
		snprintf(err, errlen, "vCPU %u: %s", v->index, why);
	}
	return r;
}

/* --- loading ------------------------------------------------------------ */

/* The saved MSRs (those but the TSC deadline, or only it). One that KVM
 * refuses (a value this host's processor cannot hold, from a file saved
 * elsewhere) is skipped with a warning: the guest goes on with KVM's value
 * for it, as it would on a processor without the feature. */
static int set_msrs(struct vcpu *v, const struct msr_rec *rec, size_t n, bool deadline, char *err,
		    size_t errlen)
{
	struct kvm_msrs_buf *b = calloc(1, sizeof(*b));
	if (!b) {
		snprintf(err, errlen, "out of memory");
		return -ENOMEM;
	}
	unsigned k = 0;
	for (size_t i = 0; i < n; i++)
		if ((rec[i].index == MSR_IA32_TSC_DEADLINE) == deadline)
			b->e[k++] =
			    (struct kvm_msr_entry){.index = rec[i].index, .data = rec[i].value};
	int r = 0;
	while (k) {
		b->hdr.nmsrs = k;
		int done = ioctl(v->fd, KVM_SET_MSRS, b);
		if (done < 0) {
			r = -errno;
			snprintf(err, errlen, "KVM refused the saved MSRs: %s", strerror(errno));
			break;
		}
		if ((unsigned)done >= k)
			break;
		log_warn("vCPU %u: KVM refused the saved value 0x%llx of MSR 0x%x; the guest "
			 "goes on with this host's",
			 v->index, (unsigned long long)b->e[done].data, b->e[done].index);
		k -= (unsigned)done + 1;
		memmove(b->e, b->e + done + 1, k * sizeof(b->e[0]));
	}
	free(b);
	return r;
}

/* The saved MSRs, checked: at most MSRS_MAX, each one KVM knows, none
 * twice. An aligned copy to free, or NULL with the reader's error set. */
static struct msr_rec *get_msrs(struct vcpu *v, struct vmstate_section *s, size_t *n)
{
	size_t len;
	const void *blob = vmstate_get_blob(s, "msrs", MSRS_MAX * sizeof(struct msr_rec), &len);
	if (!blob)
		return NULL;
	if (len % sizeof(struct msr_rec)) {
		vmstate_fail(s, "field 'msrs' is %zu bytes, not a whole number of MSRs", len);
		return NULL;
	}
	*n = len / sizeof(struct msr_rec);
	struct msr_rec *rec = malloc(len ? len : 1);
	if (!rec) {
		vmstate_fail(s, "no memory for %zu MSRs", *n);
		return NULL;
	}
	memcpy(rec, blob, len); /* the blob may be unaligned */
	for (size_t i = 0; i < *n; i++) {
		if (rec[i].zero || !msr_allowed(v->p, rec[i].index)) {
			vmstate_fail(s, "MSR 0x%x is not one this KVM keeps", rec[i].index);
			goto fail;
		}
		for (size_t j = 0; j < i; j++)
			if (rec[j].index == rec[i].index) {
				vmstate_fail(s, "MSR 0x%x is there twice", rec[i].index);
				goto fail;
			}
	}
	return rec;
fail:
	free(rec);
	return NULL;
}

static int load_sregs(struct vcpu *v, struct vmstate_in *in, struct vmstate_section *s, char *err,
		      size_t errlen)
{
	struct partition *p = v->p;
	int r = 0;
	if (vmstate_has(s, "sregs2")) {
		struct kvm_sregs2 s2;
		if (vmstate_get_bytes(s, "sregs2", &s2, sizeof(s2)) < 0)
			return fail_in(in, -EINVAL, err, errlen);
		if (s2.flags & ~(uint64_t)KVM_SREGS2_FLAGS_PDPTRS_VALID) {
			vmstate_fail(s, "unknown sregs2 flags 0x%llx",
				     (unsigned long long)s2.flags);
			return fail_in(in, -EINVAL, err, errlen);
		}
		if (vm_cap(p, KVM_CAP_SREGS2)) {
			LOAD_IOCTL(v->fd, KVM_SET_SREGS2, &s2, "system registers");
			return 0;
		}
		/* The same registers without the PDPTRs (KVM reloads them
		 * from CR3 in PAE mode). */
		struct kvm_sregs sr = {.cs = s2.cs,
				       .ds = s2.ds,
				       .es = s2.es,
				       .fs = s2.fs,
				       .gs = s2.gs,
				       .ss = s2.ss,
				       .tr = s2.tr,
				       .ldt = s2.ldt,
				       .gdt = s2.gdt,
				       .idt = s2.idt,
				       .cr0 = s2.cr0,
				       .cr2 = s2.cr2,
				       .cr3 = s2.cr3,
				       .cr4 = s2.cr4,
				       .cr8 = s2.cr8,
				       .efer = s2.efer,
				       .apic_base = s2.apic_base};
		LOAD_IOCTL(v->fd, KVM_SET_SREGS, &sr, "system registers");
		return 0;
	}
	struct kvm_sregs sr;
	if (vmstate_get_bytes(s, "sregs", &sr, sizeof(sr)) < 0)
		return fail_in(in, -EINVAL, err, errlen);
	LOAD_IOCTL(v->fd, KVM_SET_SREGS, &sr, "system registers");
out:
	return r;
}

static int load_fpu(struct vcpu *v, struct vmstate_in *in, struct vmstate_section *s, char *err,
		    size_t errlen)
{
	int r = 0;
	void *buf = NULL;
	if (vmstate_has(s, "xsave")) {
		size_t host = xsave_size(v->p), len;
		const void *xs = vmstate_get_blob(s, "xsave", 1u << 20, &len);
		if (!xs)
			return fail_in(in, -EINVAL, err, errlen);
		if (len < sizeof(struct kvm_xsave)) {
			vmstate_fail(s, "field 'xsave' is %zu bytes, less than an XSAVE area", len);
			return fail_in(in, -EINVAL, err, errlen);
		}
		if (!host) {
			snprintf(err, errlen,
				 "the VM was saved with XSAVE state, which this KVM cannot load");
			return -EINVAL;
		}
		if (len > host) {
			snprintf(err, errlen,
				 "the VM was saved with %zu bytes of XSAVE state; this host's "
				 "processor has %zu",
				 len, host);
			return -EINVAL;
		}
		buf = calloc(1, host);
		if (!buf) {
			snprintf(err, errlen, "out of memory");
			return -ENOMEM;
		}
		memcpy(buf, xs, len);
		LOAD_IOCTL(v->fd, KVM_SET_XSAVE, buf, "XSAVE state");
	} else {
		struct kvm_fpu fpu;
		if (vmstate_get_bytes(s, "fpu", &fpu, sizeof(fpu)) < 0)
			return fail_in(in, -EINVAL, err, errlen);
		LOAD_IOCTL(v->fd, KVM_SET_FPU, &fpu, "FPU state");
	}
	if (vmstate_has(s, "xcrs")) {
		struct kvm_xcrs xcrs;
		if (vmstate_get_bytes(s, "xcrs", &xcrs, sizeof(xcrs)) < 0) {
			r = fail_in(in, -EINVAL, err, errlen);
			goto out;
		}
		if (xcrs.nr_xcrs > KVM_MAX_XCRS || xcrs.flags) {
			vmstate_fail(s, "field 'xcrs' holds %u XCRs (flags 0x%x)", xcrs.nr_xcrs,
				     xcrs.flags);
			r = fail_in(in, -EINVAL, err, errlen);
			goto out;
		}
		if (!vm_cap(v->p, KVM_CAP_XCRS)) {
			snprintf(err, errlen,
				 "the VM was saved with extended control registers, which this KVM "
				 "cannot load");
			r = -EINVAL;
			goto out;
		}
		LOAD_IOCTL(v->fd, KVM_SET_XCRS, &xcrs, "extended control registers");
	}
out:
	free(buf);
	return r;
}

/* One vCPU's saved values that are checked before KVM sees any of them. */
struct cpu_image {
	struct vmstate_section *s;
	struct kvm_regs regs;
	struct kvm_lapic_state lapic;
	struct kvm_vcpu_events ev;
	struct kvm_debugregs dr;
	bool has_dr;
	uint64_t mp;
	struct msr_rec *msrs;
	size_t nmsrs;
};

static int check_cpu(struct vcpu *v, struct vmstate_in *in, struct cpu_image *c, char *err,
		     size_t errlen)
{
	char name[16];
	snprintf(name, sizeof(name), "cpu%u", v->index);
	struct vmstate_section *s = c->s = vmstate_section(in, name);
	if (!s) {
		snprintf(err, errlen, "the saved state has no section for vCPU %u", v->index);
		return -EINVAL;
	}
	if (vmstate_section_version(s) != CPU_VERSION) {
		snprintf(err, errlen, "vCPU %u was saved in state version %u; this osio reads %u",
			 v->index, vmstate_section_version(s), CPU_VERSION);
		return -EINVAL;
	}
	if (vmstate_get_bytes(s, "regs", &c->regs, sizeof(c->regs)) < 0 ||
	    vmstate_get_bytes(s, "lapic", &c->lapic, sizeof(c->lapic)) < 0 ||
	    vmstate_get_bytes(s, "events", &c->ev, sizeof(c->ev)) < 0 ||
	    vmstate_get_u64(s, "mp-state", KVM_MP_STATE_SIPI_RECEIVED, &c->mp) < 0)
		return fail_in(in, -EINVAL, err, errlen);
	const uint32_t ev_known = KVM_VCPUEVENT_VALID_NMI_PENDING |
				  KVM_VCPUEVENT_VALID_SIPI_VECTOR | KVM_VCPUEVENT_VALID_SHADOW |
				  KVM_VCPUEVENT_VALID_SMM;
	if ((c->ev.flags & ~ev_known) || c->ev.exception.nr >= 32) {
		vmstate_fail(s, "the pending events are damaged (flags 0x%x, exception %u)",
			     c->ev.flags, c->ev.exception.nr);
		return fail_in(in, -EINVAL, err, errlen);
	}
	c->has_dr = vmstate_has(s, "debugregs");
	if (c->has_dr && vmstate_get_bytes(s, "debugregs", &c->dr, sizeof(c->dr)) < 0)
		return fail_in(in, -EINVAL, err, errlen);
	/* Without the ioctl (KVMs before 2.6.35) the guest keeps clear debug
	 * registers: breakpoints it set are lost, nothing else. */
	if (c->has_dr && !vm_cap(v->p, KVM_CAP_DEBUGREGS)) {
		if (v->index == 0)
			log_info("this KVM cannot load debug registers; the guest's are cleared");
		c->has_dr = false;
	}
	uint64_t khz;
	if (vmstate_has(s, "tsc-khz")) {
		if (vmstate_get_u64(s, "tsc-khz", UINT32_MAX, &khz) < 0)
			return fail_in(in, -EINVAL, err, errlen);
		int here = ioctl(v->fd, KVM_GET_TSC_KHZ, 0);
		if (here > 0 && v->index == 0 &&
		    (khz > (uint64_t)here + (uint64_t)here / 1000 ||
		     khz + (uint64_t)here / 1000 < (uint64_t)here))
			log_warn("the VM was saved on a host whose TSC runs at %llu kHz; here it "
				 "runs at %d kHz: the guest's clock may drift until it "
				 "recalibrates",
				 (unsigned long long)khz, here);
	}
	uint32_t saved[FEATURE_WORDS], here[FEATURE_WORDS];
	if (vmstate_has(s, "cpuid-features")) {
		if (vmstate_get_bytes(s, "cpuid-features", saved, sizeof(saved)) < 0)
			return fail_in(in, -EINVAL, err, errlen);
		static const char *const word[FEATURE_WORDS] = {
		    "CPUID.1:ECX", "CPUID.1:EDX", "CPUID.7:EBX", "CPUID.7:ECX", "CPUID.7:EDX"};
		bool known = cpu_features(v, here);
		for (unsigned i = 0; known && i < FEATURE_WORDS; i++)
			if (saved[i] & ~here[i]) {
				snprintf(err, errlen,
					 "the VM was saved on a processor with features this one "
					 "lacks (%s bits 0x%x): the guest would fail where it uses "
					 "them",
					 word[i], saved[i] & ~here[i]);
				return -EINVAL;
			}
	}
	if (!(c->msrs = get_msrs(v, s, &c->nmsrs)))
		return fail_in(in, -EINVAL, err, errlen);
	return 0;
}

/* Loaded in the order KVM needs (Documentation/virt/kvm/api.rst, and what
 * QEMU's kvm_arch_put_registers does): the system registers first (EFER,
 * CR0/CR4 and the APIC base decide what the rest may hold), then registers,
 * FPU, XCRs, MSRs (the TSC among them), the LAPIC (after its base MSR), the
 * TSC deadline (meaningful only once the LAPIC timer is in deadline mode),
 * pending events, the MP state, the debug registers. */
int vcpu_load_state(struct vcpu *v, struct vmstate_in *in, char *err, size_t errlen)
{
	struct cpu_image *c = calloc(1, sizeof(*c));
	if (!c) {
		snprintf(err, errlen, "out of memory");
		return -ENOMEM;
	}
	int r = check_cpu(v, in, c, err, errlen);
	if (r < 0)
		goto out;
	if ((r = load_sregs(v, in, c->s, err, errlen)) < 0)
		goto out;
	LOAD_IOCTL(v->fd, KVM_SET_REGS, &c->regs, "registers");
	if ((r = load_fpu(v, in, c->s, err, errlen)) < 0)
		goto out;
	if ((r = set_msrs(v, c->msrs, c->nmsrs, false, err, errlen)) < 0)
		goto out;
	LOAD_IOCTL(v->fd, KVM_SET_LAPIC, &c->lapic, "local APIC");
	if ((r = set_msrs(v, c->msrs, c->nmsrs, true, err, errlen)) < 0)
		goto out;
	LOAD_IOCTL(v->fd, KVM_SET_VCPU_EVENTS, &c->ev, "pending events");
	struct kvm_mp_state mps = {.mp_state = (uint32_t)c->mp};
	LOAD_IOCTL(v->fd, KVM_SET_MP_STATE, &mps, "MP state");
	if (c->has_dr)
		LOAD_IOCTL(v->fd, KVM_SET_DEBUGREGS, &c->dr, "debug registers");
out:
	if (r < 0 && strncmp(err, "section", 7) != 0 && strncmp(err, "vCPU", 4) != 0) {
		char why[224];
		snprintf(why, sizeof(why), "%s", err);
		snprintf(err, errlen, "vCPU %u: %s", v->index, why);
	}
	free(c->msrs);
	free(c);
	return r;
}
