/* One vCPU's part of a saved state (vcpu_state.c), and what it shares with
 * the partition's part (partition_state.c). Internal to the two. */
#ifndef OSIO_VCPU_STATE_H
#define OSIO_VCPU_STATE_H

#include "hypervisor/partition.h"
#include "hypervisor/vmstate.h"
#include "hypervisor/vp.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>

/* Section "cpuN": registers, system registers, FPU/XSAVE, XCRs, MSRs,
 * LAPIC, pending events, MP state, debug registers. -errno with a
 * sentence in err. */
int vcpu_save_state(struct vcpu *v, struct vmstate_out *out, char *err, size_t errlen);
int vcpu_load_state(struct vcpu *v, struct vmstate_in *in, char *err, size_t errlen);

/* Lets KVM finish the instruction the vCPU's last exit left half done (an
 * IN, a string I/O, an MMIO read) without running more guest code. The
 * vCPU's thread must be stopped. */
int vcpu_finish_exit(struct vcpu *v, char *err, size_t errlen);

static inline int vm_cap(struct partition *p, long cap)
{
	int r = ioctl(p->vm_fd, KVM_CHECK_EXTENSION, cap);
	return r < 0 ? 0 : r;
}

/* The section's error as the load's error. */
static inline int fail_in(struct vmstate_in *in, int r, char *err, size_t errlen)
{
	snprintf(err, errlen, "%s", vmstate_error(in)[0] ? vmstate_error(in) : strerror(-r));
	return r < 0 ? r : -EINVAL;
}

#define SAVE_IOCTL(fd, req, arg, what)                                                             \
	do {                                                                                       \
		if (ioctl(fd, req, arg) < 0) {                                                     \
			r = -errno;                                                                \
			snprintf(err, errlen, "cannot read %s from KVM: %s", what,                 \
				 strerror(errno));                                                 \
			goto out;                                                                  \
		}                                                                                  \
	} while (0)

#define LOAD_IOCTL(fd, req, arg, what)                                                             \
	do {                                                                                       \
		if (ioctl(fd, req, arg) < 0) {                                                     \
			r = -errno;                                                                \
			snprintf(err, errlen, "KVM refused the saved %s: %s", what,                \
				 strerror(errno));                                                 \
			goto out;                                                                  \
		}                                                                                  \
	} while (0)

#endif
