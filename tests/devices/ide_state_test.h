/* What the IDE saved-state tests share: pausing and saving the "piix-ide"
 * device of one harness machine, and loading it into a new one built with
 * the same drives (guest RAM copied over, as a saved-state file carries
 * it). */
#ifndef OSIO_TEST_IDE_STATE_H
#define OSIO_TEST_IDE_STATE_H

#include "hypervisor/vmstate.h"
#include "tests/devices/test_ide.h"

#define IDE_SECTION "ide"

struct saved {
	struct vmstate_out out;
	uint8_t *ram; /* a copy of guest RAM: low memory, then from 1 MiB */
};

#define LOW_RAM	 0xa0000u
#define HIGH_RAM 0x100000u

static inline void ram_copy(struct harness *h, uint8_t *ram, bool to_guest)
{
	uint8_t *low = hram(h, 0, LOW_RAM), *high = hram(h, HIGH_RAM, RAM_SIZE - HIGH_RAM);
	if (to_guest) {
		memcpy(low, ram, LOW_RAM);
		memcpy(high, ram + LOW_RAM, RAM_SIZE - HIGH_RAM);
	} else {
		memcpy(ram, low, LOW_RAM);
		memcpy(ram + LOW_RAM, high, RAM_SIZE - HIGH_RAM);
	}
}

static inline const struct device_model *ide_model(void)
{
	const struct device_model *dm = device_model_find("piix-ide");
	assert_non_null(dm);
	assert_int_equal(dm->state_version, 1);
	return dm;
}

/* Pauses the device (requests in flight complete), saves it and the RAM,
 * and frees the machine (its images are free to open again). */
static inline void save_and_free(struct harness *h, struct saved *s)
{
	const struct device_model *dm = ide_model();
	void *ide = machine_device(&h->m, "ide");
	dm->pause(ide, true);
	vmstate_out_init(&s->out);
	vmstate_begin(&s->out, IDE_SECTION, dm->state_version);
	dm->save(ide, &s->out);
	vmstate_end(&s->out);
	assert_int_equal(vmstate_out_error(&s->out), 0);
	s->ram = malloc(RAM_SIZE);
	assert_non_null(s->ram);
	ram_copy(h, s->ram, false);
	dm->pause(ide, false);
	ide_machine_free(h);
}

/* Loads s (RAM and the device) into h: the device's load result, its
 * sentence in err. */
static inline int load_saved(struct harness *h, struct saved *s, char *err, size_t errlen)
{
	ram_copy(h, s->ram, true);
	struct vmstate_in *in;
	char perr[256];
	assert_int_equal(vmstate_in_parse(s->out.buf, s->out.len, &in, perr, sizeof(perr)), 0);
	struct vmstate_section *sec = vmstate_section(in, IDE_SECTION);
	assert_non_null(sec);
	int r = ide_model()->load(machine_device(&h->m, "ide"), sec);
	snprintf(err, errlen, "%s", vmstate_error(in));
	vmstate_in_free(in);
	return r;
}

/* A new machine with drives `args`, loaded from s (load_saved). */
static inline struct harness *load_into(const char *args, struct saved *s, int *r, char *err,
					size_t errlen)
{
	struct harness *h = ide_machine(args);
	*r = load_saved(h, s, err, errlen);
	return h;
}

/* load_into that must succeed. */
static inline struct harness *restore(const char *args, struct saved *s)
{
	int r;
	char err[512];
	struct harness *h = load_into(args, s, &r, err, sizeof(err));
	if (r != 0)
		fail_msg("load failed: %d %s", r, err);
	return h;
}

static inline void saved_free(struct saved *s)
{
	vmstate_out_free(&s->out);
	free(s->ram);
	s->ram = NULL;
}

/* The data of a saved field and its length, for tests that damage it. */
static inline uint8_t *saved_field(struct saved *s, const char *name, uint32_t *len)
{
	size_t n = strlen(name);
	struct vmstate_out *o = &s->out;
	*len = 0;
	for (size_t i = 0; i + 2 + n + 4 <= o->len; i++) {
		uint8_t *p = o->buf + i;
		if (p[0] == (uint8_t)n && p[1] == 0 && memcmp(p + 2, name, n) == 0) {
			uint8_t *l = p + 2 + n;
			*len = (uint32_t)(l[0] | l[1] << 8 | l[2] << 16 | (uint32_t)l[3] << 24);
			return l + 4;
		}
	}
	fail_msg("no field %s", name);
	return NULL;
}

#endif
