/* The device model interface. A model is a table (name, create, reset,
 * destroy) that registers itself with DEVICE_MODEL(); the worker and the
 * device test harness create instances by name with string arguments
 * ("base=0x3f8,irq=4,backend=stdio"). Nothing else reaches into a model's
 * state except through the functions its own header exports. */
#ifndef OSIO_DEVICE_H
#define OSIO_DEVICE_H

#include "hypervisor/machine.h"

#include <stdint.h>

struct vmstate_out;
struct vmstate_in;
struct vmstate_section;

#define DEVARGS_MAX 32
#define DEVARGS_VALUE_MAX 4096 /* bytes of one value, with its NUL (a path) */
#define DEVARGS_TEXT 8192      /* bytes of all values together */

struct devargs {
	unsigned n;
	unsigned used; /* bytes of text[] taken */
	struct {
		char key[32];
		uint16_t value; /* offset into text[] */
	} a[DEVARGS_MAX];
	char text[DEVARGS_TEXT];
};

/* Parses "key=value,key=value". A value may be quoted with "..." to hold
 * commas; inside quotes \" and \\ stand for " and \. -EINVAL on
 * malformed input, -E2BIG on too many or too long. */
int devargs_parse(struct devargs *args, const char *text);
int devargs_set(struct devargs *args, const char *key, const char *value);
/* Writes value quoted and escaped for devargs_parse ("a\"b" for a"b);
 * -E2BIG when out is too small. */
int devargs_quote(char *out, size_t size, const char *value);
const char *devargs_get(const struct devargs *args, const char *key);
/* Numbers in C syntax (0x.., decimal). -EINVAL if present but not a number
 * or above max; *out = def when absent. */
int devargs_u64(const struct devargs *args, const char *key, uint64_t def, uint64_t max,
		uint64_t *out);

struct device_model {
	const char *name;
	const char *description;
	/* Creates the instance, registers its ranges on m's buses, and returns
	 * its state. Logs one line naming the model and the problem on error
	 * and returns -errno. Unknown argument keys are an error. */
	int (*create)(struct machine *m, const char *id, const struct devargs *args, void **state);
	/* The device's power-on state (a platform reset). Battery-backed state
	 * (CMOS NVRAM, the clock) is kept, as on real hardware. */
	void (*reset)(void *state);
	/* Unregisters and frees everything. */
	void (*destroy)(void *state);

	/* Saved state (hypervisor/vmstate.h), for save/restore and checkpoints.
	 * save writes the device's fields into the section the caller opened
	 * (named by the instance id, with state_version as its version); it
	 * runs on the event loop's thread with the vCPUs stopped and every
	 * device paused (below). load takes them back into an instance just
	 * created from the same settings that has not run yet: it checks every
	 * value as it would a guest's (a saved-state file is user input), then
	 * redoes what follows from the state (BAR mappings, interrupt line
	 * levels, MSI routes, timers). It returns -EINVAL after vmstate_fail
	 * for a bad value. A model without save has no state beyond its
	 * settings. */
	uint32_t state_version;
	void (*save)(void *state, struct vmstate_out *out);
	int (*load)(void *state, struct vmstate_section *in);
	/* Stops (paused) or lets go on (!paused) whatever the device does
	 * outside vCPU exits: its threads, backends and timers must neither
	 * touch guest RAM nor raise interrupts while it is paused; requests in
	 * flight finish first. NULL when the device does nothing on its own. */
	void (*pause)(void *state, bool paused);
};

struct device {
	const struct device_model *model;
	void *state;
	char id[32];
	struct device *next;
};

#define DEVICE_MODEL(var)                                                              \
	static const struct device_model *const osio_devmodel_##var                    \
		__attribute__((used, section("osio_devmodels"), aligned(sizeof(void *)))) = &var

const struct device_model *device_model_find(const char *name);
/* Calls fn for every registered model (for `osio devices` and the harness). */
void device_model_foreach(void (*fn)(const struct device_model *dm, void *ctx), void *ctx);

/* Creates an instance and appends it to m->devices. id must be unique. */
int machine_add_device(struct machine *m, const char *model, const char *id,
		       const struct devargs *args);
/* Its state, or NULL if no such id. */
void *machine_device(struct machine *m, const char *id);
void machine_reset_devices(struct machine *m);
/* Saved state of every device: a "devices" section listing them (id and
 * model, so that a restore into different hardware is refused) and one
 * section per device that has state. The caller has stopped the vCPUs and
 * paused the devices. */
void machine_save_devices(struct machine *m, struct vmstate_out *out);
/* Loads what machine_save_devices wrote into m's devices (same settings,
 * not run yet). -EINVAL with one sentence in err (which device, what). */
int machine_load_devices(struct machine *m, struct vmstate_in *in, char *err, size_t errlen);
/* Pauses every device (in reverse creation order) or lets them go on (in
 * creation order). */
void machine_pause_devices(struct machine *m, bool paused);
/* In reverse creation order. */
void machine_destroy_devices(struct machine *m);

/* Helper for create(): refuses keys not in the NULL-terminated list, naming
 * the model and the key. */
int devargs_check_keys(const struct devargs *args, const char *model, const char *const *known);

#endif
