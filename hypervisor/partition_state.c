/* The KVM side of a saved state: each vCPU ("cpuN", vcpu_state.c) and the
 * partition's PIC/IOAPIC ("irqchip"), PIT ("pit") and clock ("clock"). */
#include "hypervisor/savevm.h"

#include "hypervisor/log.h"
#include "hypervisor/platform.h"
#include "hypervisor/vcpu_state.h"

#include <time.h>

#define IRQCHIP_VERSION 1
#define PIT_VERSION	1
#define CLOCK_VERSION	1

static int64_t now_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

static int save_vm(struct partition *p, struct vmstate_out *out, char *err, size_t errlen)
{
	int r = 0;
	struct kvm_irqchip chip[3];
	for (unsigned i = 0; i < 3; i++) {
		chip[i] = (struct kvm_irqchip){.chip_id = i};
		SAVE_IOCTL(p->vm_fd, KVM_GET_IRQCHIP, &chip[i], "the interrupt controllers");
	}
	vmstate_begin(out, "irqchip", IRQCHIP_VERSION);
	vmstate_put_bytes(out, "pic-master", &chip[0].chip.pic, sizeof(chip[0].chip.pic));
	vmstate_put_bytes(out, "pic-slave", &chip[1].chip.pic, sizeof(chip[1].chip.pic));
	vmstate_put_bytes(out, "ioapic", &chip[2].chip.ioapic, sizeof(chip[2].chip.ioapic));
	vmstate_end(out);

	/* count_load_time is the host's CLOCK_MONOTONIC: kept as the time
	 * since the count was loaded. */
	struct kvm_pit_state2 pit;
	SAVE_IOCTL(p->vm_fd, KVM_GET_PIT2, &pit, "the PIT");
	int64_t now = now_ns();
	for (unsigned i = 0; i < 3; i++) {
		int64_t age = now - pit.channels[i].count_load_time;
		pit.channels[i].count_load_time = age > 0 ? age : 0;
	}
	vmstate_begin(out, "pit", PIT_VERSION);
	vmstate_put_bytes(out, "state", &pit, sizeof(pit));
	vmstate_end(out);

	struct kvm_clock_data clock = {0};
	SAVE_IOCTL(p->vm_fd, KVM_GET_CLOCK, &clock, "the KVM clock");
	vmstate_begin(out, "clock", CLOCK_VERSION);
	vmstate_put_u64(out, "ns", clock.clock);
	vmstate_end(out);
out:
	return r;
}

int partition_save_state(struct partition *p, struct vmstate_out *out, char *err, size_t errlen)
{
	int r;
	for (unsigned i = 0; i < p->nvcpus; i++)
		if ((r = vcpu_finish_exit(p->vcpus[i], err, errlen)) < 0)
			return r;
	for (unsigned i = 0; i < p->nvcpus; i++)
		if ((r = vcpu_save_state(p->vcpus[i], out, err, errlen)) < 0)
			return r;
	if ((r = save_vm(p, out, err, errlen)) < 0)
		return r;
	if ((r = vmstate_out_error(out)) < 0) {
		snprintf(err, errlen, "cannot put the vCPUs' state together: %s", strerror(-r));
		return r;
	}
	return 0;
}

void partition_save(struct partition *p, struct vmstate_out *out)
{
	char err[256];
	int r = partition_save_state(p, out, err, sizeof(err));
	if (r < 0) {
		log_error("%s", err);
		if (!out->err)
			out->err = r;
	}
}

/* --- loading ------------------------------------------------------------ */

static int check_pic(struct vmstate_section *s, const char *field, const struct kvm_pic_state *pic)
{
	if (pic->init_state > 3 || pic->priority_add > 7 || pic->read_reg_select > 1 ||
	    pic->poll > 1 || pic->special_mask > 1 || pic->auto_eoi > 1 ||
	    pic->rotate_on_auto_eoi > 1 || pic->special_fully_nested_mode > 1 || pic->init4 > 1)
		return vmstate_fail(s, "field '%s' holds an impossible 8259 state", field);
	return 0;
}

static int load_irqchip(struct partition *p, struct vmstate_in *in, char *err, size_t errlen)
{
	struct vmstate_section *s = vmstate_section(in, "irqchip");
	if (!s || vmstate_section_version(s) != IRQCHIP_VERSION) {
		snprintf(err, errlen, "the saved state has no interrupt controllers of version %u",
			 IRQCHIP_VERSION);
		return -EINVAL;
	}
	struct kvm_irqchip chip[3] = {{.chip_id = 0}, {.chip_id = 1}, {.chip_id = 2}};
	if (vmstate_get_bytes(s, "pic-master", &chip[0].chip.pic, sizeof(chip[0].chip.pic)) < 0 ||
	    vmstate_get_bytes(s, "pic-slave", &chip[1].chip.pic, sizeof(chip[1].chip.pic)) < 0 ||
	    vmstate_get_bytes(s, "ioapic", &chip[2].chip.ioapic, sizeof(chip[2].chip.ioapic)) < 0 ||
	    check_pic(s, "pic-master", &chip[0].chip.pic) < 0 ||
	    check_pic(s, "pic-slave", &chip[1].chip.pic) < 0)
		return fail_in(in, -EINVAL, err, errlen);
	/* KVM takes the IOAPIC's address from the state: it stays where the
	 * platform has it. */
	const struct kvm_ioapic_state *io = &chip[2].chip.ioapic;
	if (io->base_address != IOAPIC_ADDR || io->id > 0xff || io->ioregsel > 0xff) {
		vmstate_fail(s, "the IOAPIC's state is damaged (address 0x%llx, id %u)",
			     (unsigned long long)io->base_address, io->id);
		return fail_in(in, -EINVAL, err, errlen);
	}
	int r = 0;
	for (unsigned i = 0; i < 3; i++)
		LOAD_IOCTL(p->vm_fd, KVM_SET_IRQCHIP, &chip[i], "interrupt controller state");
out:
	return r;
}

static int load_pit(struct partition *p, struct vmstate_in *in, char *err, size_t errlen)
{
	struct vmstate_section *s = vmstate_section(in, "pit");
	if (!s || vmstate_section_version(s) != PIT_VERSION) {
		snprintf(err, errlen, "the saved state has no PIT of version %u", PIT_VERSION);
		return -EINVAL;
	}
	struct kvm_pit_state2 pit;
	if (vmstate_get_bytes(s, "state", &pit, sizeof(pit)) < 0)
		return fail_in(in, -EINVAL, err, errlen);
	bool ok =
	    !(pit.flags & ~(uint32_t)(KVM_PIT_FLAGS_HPET_LEGACY | KVM_PIT_FLAGS_SPEAKER_DATA_ON));
	int64_t now = now_ns();
	for (unsigned i = 0; i < 3; i++) {
		struct kvm_pit_channel_state *c = &pit.channels[i];
		/* Mode 0xff: a channel never programmed (KVM's reset value). */
		ok = ok && c->count <= 0x10000 && c->count_latched <= 3 && c->status_latched <= 1 &&
		     c->read_state <= 4 && c->write_state <= 4 && c->rw_mode <= 3 &&
		     (c->mode <= 5 || c->mode == 0xff) && c->bcd <= 1 && c->gate <= 1 &&
		     c->count_load_time >= 0;
		/* An age older than this host's uptime (saved before a
		 * reboot): the count was loaded at boot as far as KVM is
		 * concerned. */
		if (ok)
			c->count_load_time =
			    c->count_load_time < now ? now - c->count_load_time : 0;
	}
	if (!ok) {
		vmstate_fail(s, "the PIT's state is damaged");
		return fail_in(in, -EINVAL, err, errlen);
	}
	int r = 0;
	LOAD_IOCTL(p->vm_fd, KVM_SET_PIT2, &pit, "PIT state");
out:
	return r;
}

/* The guest's clock goes on from the value it had when saved (as QEMU's
 * kvmclock does): the time the VM spent saved does not exist for it. */
static int load_clock(struct partition *p, struct vmstate_in *in, char *err, size_t errlen)
{
	struct vmstate_section *s = vmstate_section(in, "clock");
	if (!s || vmstate_section_version(s) != CLOCK_VERSION) {
		snprintf(err, errlen, "the saved state has no KVM clock of version %u",
			 CLOCK_VERSION);
		return -EINVAL;
	}
	struct kvm_clock_data clock = {0};
	uint64_t ns;
	if (vmstate_get_u64(s, "ns", INT64_MAX, &ns) < 0)
		return fail_in(in, -EINVAL, err, errlen);
	clock.clock = ns;
	int r = 0;
	LOAD_IOCTL(p->vm_fd, KVM_SET_CLOCK, &clock, "KVM clock");
out:
	return r;
}

int partition_load(struct partition *p, struct vmstate_in *in, char *err, size_t errlen)
{
	char name[16];
	snprintf(name, sizeof(name), "cpu%u", p->nvcpus);
	if (vmstate_section(in, name)) {
		unsigned n = p->nvcpus;
		while (n < 4096 &&
		       (snprintf(name, sizeof(name), "cpu%u", n + 1), vmstate_section(in, name)))
			n++;
		snprintf(err, errlen, "the VM was saved with %u vCPUs; it now has %u", n + 1,
			 p->nvcpus);
		return -EINVAL;
	}
	int r;
	/* The vCPUs before the IOAPIC and PICs: interrupts those hand on
	 * when loaded reach local APICs that are already as they were. */
	for (unsigned i = 0; i < p->nvcpus; i++)
		if ((r = vcpu_load_state(p->vcpus[i], in, err, errlen)) < 0)
			return r;
	if ((r = load_irqchip(p, in, err, errlen)) < 0 || (r = load_pit(p, in, err, errlen)) < 0 ||
	    (r = load_clock(p, in, err, errlen)) < 0)
		return r;
	return 0;
}
