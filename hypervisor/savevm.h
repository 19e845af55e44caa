/* Saved-state files: everything a stopped VM needs to go on where it was:
 * its vCPUs (registers, segments, FPU/XSAVE, XCRs, MSRs, LAPIC, pending
 * events, MP state, debug registers), the in-kernel irqchip (both 8259s and
 * the IOAPIC), the PIT, the KVM clock, every device model's state
 * (machine_save_devices) and guest RAM. osio start resumes a saved VM from
 * it; checkpoints keep one per checkpoint of a running VM. The file's layout
 * is in savevm_file.h; the vCPUs' part in vcpu_state.c, the partition's in
 * partition_state.c. */
#ifndef OSIO_SAVEVM_H
#define OSIO_SAVEVM_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct partition;
struct vmstate_out;
struct vmstate_in;

/* Writes the state of a partition whose vCPUs are stopped and whose devices
 * are paused to path, crash-safely (a temporary file in the same folder,
 * fsynced, renamed over path): a failure (-ENOSPC, ...) leaves any older
 * file at path as it was and no temporary behind. -errno with err naming
 * the file and the fix. */
int savevm_write(struct partition *p, const char *path, char *err, size_t errlen);
/* The same, with the VM's name recorded in the header (savevm_info's
 * vm_name; at most 63 bytes kept); savevm_write records none. */
int savevm_write_vm(struct partition *p, const char *vm_name, const char *path, char *err,
		    size_t errlen);

/* Loads path into a partition just made by partition_create from the same
 * settings (same RAM size and layout, same vCPU count, same devices), before
 * partition_start: RAM, the devices, then the vCPUs, irqchip, PIT and clock.
 * A damaged or foreign file, or one saved with other settings, is -EINVAL
 * with one sentence in err (what differs); nothing is half-loaded into a VM
 * that then runs: the caller destroys the partition on failure. */
int savevm_read(struct partition *p, const char *path, char *err, size_t errlen);

/* What a file's header says, without loading it. */
struct savevm_info {
	uint64_t memory;    /* guest RAM bytes */
	unsigned cpus;	    /* vCPUs */
	uint64_t saved_at;  /* seconds since the epoch */
	uint64_t file_size; /* bytes on disk (allocated) */
	char vm_name[64];   /* the VM's name when it was saved */
};
int savevm_probe(const char *path, struct savevm_info *info, char *err, size_t errlen);

/* The KVM-side state alone (partition_state.c): vCPUs, irqchip, PIT and
 * clock into sections "cpu0".., "irqchip", "pit", "clock". */
void partition_save(struct partition *p, struct vmstate_out *out);
/* partition_save with its failure (a KVM ioctl that failed) as -errno and a
 * sentence in err. It first lets each vCPU finish an instruction its last
 * exit left half done (an IN, a string I/O, an MMIO read: KVM completes
 * them only on the next KVM_RUN), so call it with the vCPU threads stopped
 * and before saving the devices. */
int partition_save_state(struct partition *p, struct vmstate_out *out, char *err, size_t errlen);
int partition_load(struct partition *p, struct vmstate_in *in, char *err, size_t errlen);

#endif
