/* The device models' saved state as a whole: which devices a VM has, and a
 * section per device (device.h's save, load and pause). */
#include "devices/device.h"

#include "hypervisor/vmstate.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>

#define DEVICES_SECTION "devices"
#define DEVICES_VERSION 1

void machine_save_devices(struct machine *m, struct vmstate_out *out)
{
	/* "devices": fields "0", "1", ... each "ID MODEL", in creation order. */
	vmstate_begin(out, DEVICES_SECTION, DEVICES_VERSION);
	unsigned i = 0;
	for (struct device *d = m->devices; d; d = d->next, i++) {
		char key[16], val[128];
		snprintf(key, sizeof(key), "%u", i);
		snprintf(val, sizeof(val), "%s %s", d->id, d->model->name);
		vmstate_put_str(out, key, val);
	}
	vmstate_put_u64(out, "count", i);
	vmstate_end(out);
	for (struct device *d = m->devices; d; d = d->next) {
		if (!d->model->save)
			continue;
		vmstate_begin(out, d->id, d->model->state_version);
		d->model->save(d->state, out);
		vmstate_end(out);
	}
}

/* The saved state's device list must be this VM's, in the same order. */
static int check_devices(struct machine *m, struct vmstate_in *in, char *err, size_t errlen)
{
	struct vmstate_section *s = vmstate_section(in, DEVICES_SECTION);
	if (!s) {
		snprintf(err, errlen, "the saved state has no device list");
		return -EINVAL;
	}
	if (vmstate_section_version(s) != DEVICES_VERSION) {
		snprintf(err, errlen, "the saved state's device list is of version %u, not %u",
			 vmstate_section_version(s), DEVICES_VERSION);
		return -EINVAL;
	}
	uint32_t count;
	if (vmstate_get_u32(s, "count", 4096, &count) < 0) {
		snprintf(err, errlen, "%s", vmstate_error(in));
		return -EINVAL;
	}
	unsigned i = 0;
	for (struct device *d = m->devices; d; d = d->next, i++) {
		char key[16], val[128], want[128];
		snprintf(key, sizeof(key), "%u", i);
		snprintf(want, sizeof(want), "%s %s", d->id, d->model->name);
		if (i >= count) {
			snprintf(err, errlen,
				 "the VM has device '%s' (%s), which it did not have when it was "
				 "saved",
				 d->id, d->model->name);
			return -EINVAL;
		}
		if (vmstate_get_str(s, key, val, sizeof(val)) < 0) {
			snprintf(err, errlen, "%s", vmstate_error(in));
			return -EINVAL;
		}
		if (strcmp(val, want) != 0) {
			snprintf(err, errlen,
				 "the VM's hardware changed since it was saved: it had '%s' where "
				 "it now has '%s'",
				 val, want);
			return -EINVAL;
		}
	}
	if (i < count) {
		char key[16], val[128] = "?";
		snprintf(key, sizeof(key), "%u", i);
		vmstate_get_str(s, key, val, sizeof(val));
		snprintf(err, errlen,
			 "the VM had device '%s' when it was saved; it no longer has it", val);
		return -EINVAL;
	}
	return 0;
}

int machine_load_devices(struct machine *m, struct vmstate_in *in, char *err, size_t errlen)
{
	int r = check_devices(m, in, err, errlen);
	if (r < 0)
		return r;
	for (struct device *d = m->devices; d; d = d->next) {
		if (!d->model->load)
			continue;
		struct vmstate_section *s = vmstate_section(in, d->id);
		if (!s) {
			snprintf(err, errlen, "the saved state has no section for device '%s' (%s)",
				 d->id, d->model->name);
			return -EINVAL;
		}
		if (vmstate_section_version(s) != d->model->state_version) {
			snprintf(
			    err, errlen,
			    "device '%s' (%s) was saved in its state version %u; this osio reads "
			    "version %u",
			    d->id, d->model->name, vmstate_section_version(s),
			    d->model->state_version);
			return -EINVAL;
		}
		r = d->model->load(d->state, s);
		if (r < 0) {
			const char *why = vmstate_error(in);
			snprintf(err, errlen, "device '%s' (%s): %s", d->id, d->model->name,
				 why[0] ? why : strerror(-r));
			return r;
		}
	}
	return 0;
}

static void pause_from(struct device *d, bool paused)
{
	if (!d)
		return;
	pause_from(d->next, paused);
	if (d->model->pause)
		d->model->pause(d->state, paused);
}

void machine_pause_devices(struct machine *m, bool paused)
{
	if (paused) {
		pause_from(m->devices, true);
		return;
	}
	for (struct device *d = m->devices; d; d = d->next)
		if (d->model->pause)
			d->model->pause(d->state, false);
}
