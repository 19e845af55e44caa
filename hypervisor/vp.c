/* Virtual processors: creation (CPUID, MSRs), the run loop on its own
 * thread, and exit dispatch through a table indexed by exit reason. */
#include "hypervisor/vp.h"

#include "hypervisor/cpuid.h"
#include "hypervisor/exitregs.h"
#include "hypervisor/log.h"

#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <unistd.h>

#define SIG_VCPU_KICK SIGUSR1

enum exit_action {
	EXIT_CONTINUE, /* enter the guest again */
	EXIT_PARK,     /* this vCPU cannot go on; wait to be stopped */
};

/* Clean MSR values for a processor coming out of reset. */
#define MSR_IA32_TSC 0x10
#define MSR_IA32_SYSENTER_CS 0x174
#define MSR_IA32_SYSENTER_ESP 0x175
#define MSR_IA32_SYSENTER_EIP 0x176
#define MSR_IA32_MISC_ENABLE 0x1a0
#define MSR_MTRR_DEF_TYPE 0x2ff
#define MSR_IA32_CR_PAT 0x277
#define MSR_STAR 0xc0000081
#define MSR_LSTAR 0xc0000082
#define MSR_CSTAR 0xc0000083
#define MSR_SYSCALL_MASK 0xc0000084
#define MSR_KERNEL_GS_BASE 0xc0000102

static int set_reset_msrs(struct vcpu *v)
{
	static const struct {
		uint32_t index;
		uint64_t value;
	} init[] = {
		{ MSR_IA32_SYSENTER_CS, 0 },
		{ MSR_IA32_SYSENTER_ESP, 0 },
		{ MSR_IA32_SYSENTER_EIP, 0 },
		{ MSR_STAR, 0 },
		{ MSR_LSTAR, 0 },
		{ MSR_CSTAR, 0 },
		{ MSR_SYSCALL_MASK, 0 },
		{ MSR_KERNEL_GS_BASE, 0 },
		{ MSR_IA32_TSC, 0 },
		/* Fast strings on, as firmware leaves it. */
		{ MSR_IA32_MISC_ENABLE, 1 },
		{ MSR_IA32_CR_PAT, 0x0007040600070406ull },
		/* MTRRs enabled, default type write-back, fixed ranges off: no
		 * firmware runs before a directly booted kernel to set them. */
		{ MSR_MTRR_DEF_TYPE, 0x806 },
	};
	struct {
		struct kvm_msrs hdr;
		struct kvm_msr_entry e[sizeof(init) / sizeof(init[0])];
	} msrs = { 0 };
	unsigned n = 0;
	for (size_t i = 0; i < sizeof(init) / sizeof(init[0]); i++) {
		if (!kvm_host_has_msr(v->p->host, init[i].index))
			continue;
		msrs.e[n].index = init[i].index;
		msrs.e[n].data = init[i].value;
		n++;
	}
	msrs.hdr.nmsrs = n;
	int r = ioctl(v->fd, KVM_SET_MSRS, &msrs);
	if (r < 0)
		return -errno;
	if ((unsigned)r != n)
		log_warn("vCPU %u: KVM accepted %d of %u start-up MSRs (MSR 0x%x refused)", v->index,
			 r, n, msrs.e[r].index);
	return 0;
}

int vcpu_create(struct partition *p, unsigned index, struct vcpu **out)
{
	struct vcpu *v = calloc(1, sizeof(*v));
	if (!v)
		return -ENOMEM;
	v->p = p;
	v->index = index;
	v->run = MAP_FAILED;
	int r;
	v->fd = ioctl(p->vm_fd, KVM_CREATE_VCPU, (unsigned long)cpuid_apic_id(index));
	if (v->fd < 0) {
		r = -errno;
		log_error("cannot create vCPU %u: %s", index, strerror(errno));
		goto fail;
	}
	v->run_size = (size_t)p->host->vcpu_mmap_size;
	v->run = mmap(NULL, v->run_size, PROT_READ | PROT_WRITE, MAP_SHARED, v->fd, 0);
	if (v->run == MAP_FAILED) {
		r = -errno;
		log_error("cannot map vCPU %u's run area: %s", index, strerror(errno));
		goto fail;
	}
	struct kvm_cpuid2 *cpuid = cpuid_build(p->host, index, p->cpus);
	if (!cpuid) {
		r = -ENOMEM;
		goto fail;
	}
	r = ioctl(v->fd, KVM_SET_CPUID2, cpuid) < 0 ? -errno : 0;
	free(cpuid);
	if (r < 0) {
		log_error("vCPU %u: KVM_SET_CPUID2 failed: %s", index, strerror(-r));
		goto fail;
	}
	if ((r = set_reset_msrs(v)) < 0) {
		log_error("vCPU %u: KVM_SET_MSRS failed: %s", index, strerror(-r));
		goto fail;
	}
	*out = v;
	return 0;
fail:
	vcpu_destroy(v);
	return r;
}

void vcpu_destroy(struct vcpu *v)
{
	if (!v)
		return;
	if (v->run != MAP_FAILED && v->run)
		munmap(v->run, v->run_size);
	if (v->fd >= 0)
		close(v->fd);
	free(v);
}

int vcpu_get_sregs(struct vcpu *v, struct kvm_sregs *s)
{
	return ioctl(v->fd, KVM_GET_SREGS, s) < 0 ? -errno : 0;
}

int vcpu_set_boot_state(struct vcpu *v, const struct boot_cpu_state *s)
{
	if (ioctl(v->fd, KVM_SET_SREGS, &s->sregs) < 0) {
		log_error("vCPU %u: KVM_SET_SREGS failed: %s", v->index, strerror(errno));
		return -errno;
	}
	if (ioctl(v->fd, KVM_SET_REGS, &s->regs) < 0) {
		log_error("vCPU %u: KVM_SET_REGS failed: %s", v->index, strerror(errno));
		return -errno;
	}
	return 0;
}

/* --- exits ------------------------------------------------------------ */

static bool regs_get(void *opaque, struct exit_regs *r)
{
	struct vcpu *v = opaque;
	struct kvm_regs k;
	if (ioctl(v->fd, KVM_GET_REGS, &k) < 0)
		return false;
	*r = (struct exit_regs){ k.rax, k.rbx, k.rcx, k.rdx, k.rsi, k.rdi, k.rbp };
	return true;
}

static bool regs_set(void *opaque, const struct exit_regs *r)
{
	struct vcpu *v = opaque;
	struct kvm_regs k;
	if (ioctl(v->fd, KVM_GET_REGS, &k) < 0)
		return false;
	k.rax = r->rax;
	k.rbx = r->rbx;
	k.rcx = r->rcx;
	k.rdx = r->rdx;
	k.rsi = r->rsi;
	k.rdi = r->rdi;
	k.rbp = r->rbp;
	return ioctl(v->fd, KVM_SET_REGS, &k) == 0;
}

static enum exit_action exit_io(struct vcpu *v)
{
	struct kvm_run *run = v->run;
	uint8_t *data = (uint8_t *)run + run->io.data_offset;
	unsigned size = run->io.size;
	if (size != 1 && size != 2 && size != 4)
		return EXIT_CONTINUE;
	for (uint32_t i = 0; i < run->io.count; i++, data += size) {
		if (run->io.direction == KVM_EXIT_IO_OUT)
			bus_write(v->p->m->pio, run->io.port, data, size);
		else
			bus_read(v->p->m->pio, run->io.port, data, size);
	}
	return EXIT_CONTINUE;
}

static enum exit_action exit_mmio(struct vcpu *v)
{
	struct kvm_run *run = v->run;
	unsigned len = run->mmio.len;
	if (len != 1 && len != 2 && len != 4 && len != 8) {
		/* Odd sizes (3, 5..7 bytes) only come from unusual
		 * instructions; split them into bytes. */
		for (unsigned i = 0; i < len && i < sizeof(run->mmio.data); i++) {
			if (run->mmio.is_write)
				bus_write(v->p->m->mmio, run->mmio.phys_addr + i, &run->mmio.data[i], 1);
			else
				bus_read(v->p->m->mmio, run->mmio.phys_addr + i, &run->mmio.data[i], 1);
		}
		return EXIT_CONTINUE;
	}
	if (run->mmio.is_write)
		bus_write(v->p->m->mmio, run->mmio.phys_addr, run->mmio.data, len);
	else
		bus_read(v->p->m->mmio, run->mmio.phys_addr, run->mmio.data, len);
	return EXIT_CONTINUE;
}

static enum exit_action exit_shutdown(struct vcpu *v)
{
	/* A triple fault: a PC resets. */
	log_info("vCPU %u: triple fault, resetting the VM", v->index);
	machine_request(v->p->m, MACHINE_RESET, 0);
	return EXIT_PARK;
}

static enum exit_action exit_system_event(struct vcpu *v)
{
	switch (v->run->system_event.type) {
	case KVM_SYSTEM_EVENT_SHUTDOWN:
		machine_request(v->p->m, MACHINE_POWEROFF, 0);
		break;
	case KVM_SYSTEM_EVENT_RESET:
		machine_request(v->p->m, MACHINE_RESET, 0);
		break;
	default:
		log_error("vCPU %u: the guest crashed (system event %u)", v->index,
			  v->run->system_event.type);
		machine_request(v->p->m, MACHINE_CRASH, 0);
	}
	return EXIT_PARK;
}

/* Best effort: the bytes at the guest's instruction pointer, for the
 * message about an instruction KVM could not emulate. */
static void describe_insn(struct vcpu *v, char *buf, size_t size)
{
	struct kvm_regs regs;
	struct kvm_sregs sregs;
	buf[0] = 0;
	if (ioctl(v->fd, KVM_GET_REGS, &regs) < 0 || ioctl(v->fd, KVM_GET_SREGS, &sregs) < 0)
		return;
	uint64_t linear = sregs.cs.base + regs.rip;
	struct kvm_translation t = { .linear_address = linear };
	int n = snprintf(buf, size, "at rip 0x%llx (cs base 0x%llx, cr0 0x%llx)",
			 (unsigned long long)regs.rip, (unsigned long long)sregs.cs.base,
			 (unsigned long long)sregs.cr0);
	if (ioctl(v->fd, KVM_TRANSLATE, &t) < 0 || !t.valid)
		return;
	uint8_t bytes[15];
	if (guest_read(&v->p->m->mem, t.physical_address, bytes, sizeof(bytes)) < 0)
		return;
	n += snprintf(buf + n, size - (size_t)n, ", bytes");
	for (unsigned i = 0; i < sizeof(bytes) && (size_t)n < size; i++)
		n += snprintf(buf + n, size - (size_t)n, " %02x", bytes[i]);
}

static enum exit_action exit_internal_error(struct vcpu *v)
{
	char where[160];
	describe_insn(v, where, sizeof(where));
	if (v->run->internal.suberror == KVM_INTERNAL_ERROR_EMULATION) {
		log_error("vCPU %u: KVM could not emulate the guest's instruction %s%s", v->index,
			  where,
			  v->p->host->hardware ? ""
					       : "; this KVM has no hardware virtualization and "
						 "cannot emulate e.g. XSAVE, CMPXCHG16B, MOVBE, or "
						 "INT3/INT n outside real mode");
	} else {
		log_error("vCPU %u: KVM internal error %u %s", v->index, v->run->internal.suberror,
			  where);
	}
	machine_request(v->p->m, MACHINE_CRASH, 0);
	return EXIT_PARK;
}

static enum exit_action exit_fail_entry(struct vcpu *v)
{
	log_error("vCPU %u: KVM could not enter the guest (hardware reason 0x%llx)", v->index,
		  (unsigned long long)v->run->fail_entry.hardware_entry_failure_reason);
	machine_request(v->p->m, MACHINE_CRASH, 0);
	return EXIT_PARK;
}

static enum exit_action exit_continue(struct vcpu *v)
{
	return EXIT_CONTINUE;
}

static enum exit_action exit_hlt(struct vcpu *v)
{
	/* With the in-kernel LAPIC, HLT stays in the kernel; a halt that
	 * reaches us means the vCPU can never run again. */
	log_info("vCPU %u halted for good", v->index);
	return EXIT_PARK;
}

static enum exit_action (*const exit_handlers[])(struct vcpu *) = {
	[KVM_EXIT_IO] = exit_io,
	[KVM_EXIT_MMIO] = exit_mmio,
	[KVM_EXIT_HLT] = exit_hlt,
	[KVM_EXIT_SHUTDOWN] = exit_shutdown,
	[KVM_EXIT_SYSTEM_EVENT] = exit_system_event,
	[KVM_EXIT_INTERNAL_ERROR] = exit_internal_error,
	[KVM_EXIT_FAIL_ENTRY] = exit_fail_entry,
	[KVM_EXIT_INTR] = exit_continue,
	[KVM_EXIT_IRQ_WINDOW_OPEN] = exit_continue,
	[KVM_EXIT_DEBUG] = exit_continue,
};

static void kick_handler(int sig)
{
	(void)sig;
}

static void *vcpu_thread(void *arg)
{
	struct vcpu *v = arg;
	sigset_t set;
	sigemptyset(&set);
	sigaddset(&set, SIG_VCPU_KICK);
	pthread_sigmask(SIG_UNBLOCK, &set, NULL);

	char name[16];
	snprintf(name, sizeof(name), "vcpu %u", v->index);
	pthread_setname_np(pthread_self(), name);
	if (pthread_getcpuclockid(pthread_self(), &v->clock) == 0)
		atomic_store(&v->clock_valid, true);

	/* Devices reach this vCPU's registers during its exits. */
	const struct exit_regs_provider regs = { regs_get, regs_set, v };
	exit_regs_provide(&regs);

	bool parked = false;
	while (!atomic_load(&v->stop)) {
		if (parked) {
			/* Wait for the kick without missing one that lands
			 * between the check and the wait. */
			sigset_t orig;
			pthread_sigmask(SIG_BLOCK, &set, &orig);
			while (!atomic_load(&v->stop))
				sigsuspend(&orig);
			pthread_sigmask(SIG_SETMASK, &orig, NULL);
			break;
		}
		if (ioctl(v->fd, KVM_RUN, 0) < 0) {
			if (errno == EINTR || errno == EAGAIN) {
				if (!atomic_load(&v->stop))
					v->run->immediate_exit = 0;
				continue;
			}
			log_error("vCPU %u: KVM_RUN failed: %s", v->index, strerror(errno));
			machine_request(v->p->m, MACHINE_CRASH, 0);
			parked = true;
			continue;
		}
		atomic_fetch_add_explicit(&v->exits, 1, memory_order_relaxed);
		/* Writes KVM queued come before whatever made this exit. */
		partition_flush_coalesced(v->p);
		uint32_t reason = v->run->exit_reason;
		if (tracing(TRACE_EXIT))
			log_trace("vCPU %u: exit %u", v->index, reason);
		if (reason < sizeof(exit_handlers) / sizeof(exit_handlers[0]) &&
		    exit_handlers[reason]) {
			if (exit_handlers[reason](v) == EXIT_PARK)
				parked = true;
			else if (atomic_load(&v->p->m->stopping))
				parked = true; /* the VM is being stopped or reset */
		} else {
			log_error("vCPU %u: unexpected KVM exit reason %u", v->index, reason);
			machine_request(v->p->m, MACHINE_CRASH, 0);
			parked = true;
		}
	}
	exit_regs_provide(NULL);
	atomic_store(&v->clock_valid, false);
	struct timespec ts;
	if (clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts) == 0)
		atomic_fetch_add(&v->cpu_ns_done,
				 (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec);
	return NULL;
}

uint64_t vcpu_cpu_time(struct vcpu *v)
{
	uint64_t ns = atomic_load(&v->cpu_ns_done);
	struct timespec ts;
	/* A thread that is ending drops its clock before it adds its time
	 * to cpu_ns_done: read in between, its time is missing for that
	 * instant, never counted twice. */
	if (v->started && atomic_load(&v->clock_valid) && clock_gettime(v->clock, &ts) == 0)
		ns += (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
	return ns;
}

static void install_kick_handler(void)
{
	struct sigaction sa = { .sa_handler = kick_handler };
	sigemptyset(&sa.sa_mask);
	sigaction(SIG_VCPU_KICK, &sa, NULL);
}

int vcpu_start(struct vcpu *v)
{
	static pthread_once_t once = PTHREAD_ONCE_INIT;
	pthread_once(&once, install_kick_handler);

	atomic_store(&v->stop, false);
	v->run->immediate_exit = 0;
	/* The thread starts with the kick signal blocked and unblocks it
	 * itself, so a kick can never hit a thread that has no handler. */
	sigset_t set, old;
	sigemptyset(&set);
	sigaddset(&set, SIG_VCPU_KICK);
	pthread_sigmask(SIG_BLOCK, &set, &old);
	int r = pthread_create(&v->thread, NULL, vcpu_thread, v);
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	if (r) {
		log_error("cannot start a thread for vCPU %u: %s", v->index, strerror(r));
		return -r;
	}
	v->started = true;
	return 0;
}

void vcpu_kick(struct vcpu *v)
{
	if (!v->started)
		return;
	atomic_store(&v->stop, true);
	v->run->immediate_exit = 1;
	pthread_kill(v->thread, SIG_VCPU_KICK);
}

void vcpu_join(struct vcpu *v)
{
	if (!v->started)
		return;
	pthread_join(v->thread, NULL);
	v->started = false;
}
