/* /dev/kvm: opening it with clear errors, the capabilities osio needs, and
 * what kind of KVM this is (hardware-backed or a software layer such as
 * kvm_pvm). */
#ifndef OSIO_KVM_H
#define OSIO_KVM_H

#include <linux/kvm.h>
#include <stdbool.h>
#include <stddef.h>

struct kvm_host {
	int fd;
	int vcpu_mmap_size;
	unsigned max_vcpus;	 /* KVM_CAP_MAX_VCPUS */
	unsigned recommended_vcpus; /* KVM_CAP_NR_VCPUS */
	bool hardware;		 /* kvm_intel or kvm_amd */
	const char *flavour;	 /* "kvm_intel", "kvm_amd", "kvm_pvm", "unknown" */
	struct kvm_cpuid2 *cpuid; /* KVM_GET_SUPPORTED_CPUID */
	struct kvm_msr_list *msrs; /* KVM_GET_MSR_INDEX_LIST */
};

/* Opens /dev/kvm (or $OSIO_KVM_DEVICE), checks the API version and every
 * capability osio relies on, reads the supported CPUID and MSR list, and
 * says once per process, on one line, when KVM has no hardware support.
 * On failure logs one line with the cause and the fix and returns -errno. */
int kvm_host_open(struct kvm_host *h);
void kvm_host_close(struct kvm_host *h);

/* How every line saying that VMs cannot run starts (the console and image
 * tests look for it). */
#define KVM_UNAVAILABLE "KVM is unavailable: "

/* Whether VMs can run here: 0 when /dev/kvm (or $OSIO_KVM_DEVICE) opens
 * read-write and speaks KVM API version 12; else -errno (-EPROTO for another
 * API version) and, in why, one line starting with KVM_UNAVAILABLE that
 * gives the reason and the fix, the same line kvm_host_open logs. */
int kvm_check_access(char *why, size_t len);

/* "kvm_intel" etc. from /sys/module, without opening the device. */
const char *kvm_flavour(bool *hardware);

bool kvm_host_has_msr(const struct kvm_host *h, unsigned index);

#endif
