/* Saved-state files for a whole VM: the KVM side (partition_state.c), the
 * device models (device_state.c) and guest RAM, written and read through
 * savevm_file.c's checked layout. */
#include "hypervisor/savevm.h"

#include "devices/device.h"
#include "hypervisor/partition.h"
#include "hypervisor/savevm_file.h"
#include "hypervisor/vmstate.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>

static struct savevm_ram machine_ram(struct machine *m)
{
	return (struct savevm_ram){.low = m->ram_low,
				   .low_size = m->ram_low ? m->ram_below_4g : 0,
				   .high = m->ram_high,
				   .high_size = m->ram_high ? m->ram_above_4g : 0};
}

int savevm_write_vm(struct partition *p, const char *vm_name, const char *path, char *err,
		    size_t errlen)
{
	struct vmstate_out out;
	vmstate_out_init(&out);
	char why[512] = "";
	int r = partition_save_state(p, &out, why, sizeof(why));
	if (r < 0) {
		snprintf(err, errlen, "%s: cannot save the VM: %s", path, why);
		goto out;
	}
	/* Writes KVM queued for coalesced zones reach the devices first. */
	partition_flush_coalesced(p);
	machine_save_devices(p->m, &out);
	if ((r = vmstate_out_error(&out)) < 0) {
		snprintf(err, errlen, "%s: cannot save the VM's devices: %s", path, strerror(-r));
		goto out;
	}
	struct savevm_ram ram = machine_ram(p->m);
	r = savevm_file_write(path, vm_name, p->nvcpus, out.buf, out.len, &ram, err, errlen);
out:
	vmstate_out_free(&out);
	return r;
}

int savevm_write(struct partition *p, const char *path, char *err, size_t errlen)
{
	return savevm_write_vm(p, NULL, path, err, errlen);
}

int savevm_read(struct partition *p, const char *path, char *err, size_t errlen)
{
	struct savevm_file f;
	int r = savevm_file_open(path, &f, false, err, errlen);
	if (r < 0)
		return r;
	struct vmstate_in *in = NULL;
	char why[512] = "";
	struct savevm_ram ram = machine_ram(p->m);
	if (f.h.cpus != p->nvcpus) {
		snprintf(err, errlen,
			 "%s was saved with %u vCPUs; the VM now has %u: set its processor count "
			 "back to %u",
			 path, f.h.cpus, p->nvcpus, f.h.cpus);
		r = -EINVAL;
		goto out;
	}
	if (f.h.ram_below_4g != ram.low_size || f.h.ram_above_4g != ram.high_size) {
		snprintf(err, errlen,
			 "%s was saved with %llu MiB of memory; the VM now has %llu MiB: set its "
			 "memory back to %llu MiB",
			 path, (unsigned long long)(f.h.memory >> 20),
			 (unsigned long long)((ram.low_size + ram.high_size) >> 20),
			 (unsigned long long)(f.h.memory >> 20));
		r = -EINVAL;
		goto out;
	}
	if ((r = vmstate_in_parse(f.state, f.h.state_len, &in, why, sizeof(why))) < 0) {
		snprintf(err, errlen, "%s is damaged: %s", path, why);
		goto out;
	}
	if ((r = savevm_file_read_ram(&f, &ram, err, errlen)) < 0)
		goto out;
	if ((r = machine_load_devices(p->m, in, why, sizeof(why))) < 0 ||
	    (r = partition_load(p, in, why, sizeof(why))) < 0) {
		snprintf(err, errlen, "%s cannot be resumed: %s", path, why);
		goto out;
	}
out:
	vmstate_in_free(in);
	savevm_file_close(&f);
	return r;
}

int savevm_probe(const char *path, struct savevm_info *info, char *err, size_t errlen)
{
	struct savevm_file f;
	int r = savevm_file_open(path, &f, true, err, errlen);
	if (r < 0)
		return r;
	memset(info, 0, sizeof(*info));
	info->memory = f.h.memory;
	info->cpus = f.h.cpus;
	info->saved_at = f.h.saved_at;
	info->file_size = f.allocated;
	snprintf(info->vm_name, sizeof(info->vm_name), "%s", f.h.vm_name);
	savevm_file_close(&f);
	return 0;
}
