/* Where the IDE drives sit: each [disk] on bus = ide and each [dvd] gets an
 * IDE position (controller 0 or 1, location 0 or 1) from its keys or by rule. */
#include "vmconfig/internal.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

struct drive {
	size_t header;
	bool dvd;
	int controller, location; /* -1: not set */
	long controller_key, location_key;
};

struct placement {
	const struct vmconfig *cfg;
	struct vmconfig_error *err;
	struct drive drives[VM_IDE_DRIVES];
	unsigned n, dvds;
	long *pos;
};

static int fail(struct placement *p, size_t line, size_t at, const char *msg)
{
	const struct vc_line *l = &p->cfg->lines[line];

	vc_error(p->err, p->cfg->path, (unsigned)line + 1, vc_column(l->text, at), "%s", msg);
	return -EINVAL;
}

static void label_of(struct placement *p, size_t h, char *buf, size_t size)
{
	const struct vc_line *l = &p->cfg->lines[h];

	vc_section_label(l->type, l->name, buf, size);
}

/* "[disk \"a\"] on line 4": the section at IDE position i. */
static void holder(struct placement *p, unsigned i, char *buf, size_t size)
{
	char label[160];

	label_of(p, (size_t)p->pos[i], label, sizeof(label));
	snprintf(buf, size, "%s on line %ld", label, p->pos[i] + 1);
}

/* controller or location: 0 or 1, or -1 when not set. */
static int position_key(const struct vmconfig *cfg, size_t h, const char *key, long *line)
{
	long k = vc_find_key(cfg, h, key);
	uint64_t v;

	*line = k;
	/* Values were checked when they were read or set. */
	if (k < 0 || vmconfig_parse_uint(cfg->lines[k].value, 0, 1, &v, NULL, 0))
		return -1;
	return (int)v;
}

static int collect(struct placement *p)
{
	const struct vmconfig *cfg = p->cfg;
	char label[160], msg[512];

	for (size_t h = 0; h < cfg->nlines; h++) {
		const struct vc_line *l = &cfg->lines[h];
		struct drive *d;
		long bus;

		if (l->kind != VC_SECTION)
			continue;
		if (strcmp(l->type, "disk") == 0) {
			bus = vc_find_key(cfg, h, "bus");
			if (bus >= 0 && strcasecmp(cfg->lines[bus].value, "ide") != 0)
				continue;
		} else if (strcmp(l->type, "dvd") != 0) {
			continue;
		}
		if (p->n == VM_IDE_DRIVES) {
			label_of(p, h, label, sizeof(label));
			snprintf(msg, sizeof(msg),
				 "%s: a fifth IDE drive, but IDE holds four (locations 0 and 1 on "
				 "controllers 0 and 1); remove a [disk] or [dvd] section",
				 label);
			return fail(p, h, l->at, msg);
		}
		d = &p->drives[p->n++];
		d->header = h;
		d->dvd = l->type[1] == 'v';
		d->controller = position_key(cfg, h, "controller", &d->controller_key);
		d->location = position_key(cfg, h, "location", &d->location_key);
		p->dvds += d->dvd;
	}
	return 0;
}

/* Drives with both keys: where they say, once each. */
static int place_fixed(struct placement *p)
{
	char label[160], other[200], msg[512];

	for (unsigned j = 0; j < p->n; j++) {
		struct drive *d = &p->drives[j];
		unsigned i = (unsigned)(d->controller * 2 + d->location);

		if (d->controller < 0 || d->location < 0)
			continue;
		if (p->pos[i] < 0) {
			p->pos[i] = (long)d->header;
			continue;
		}
		label_of(p, d->header, label, sizeof(label));
		holder(p, i, other, sizeof(other));
		snprintf(msg, sizeof(msg),
			 "%s: IDE controller %d, location %d is taken by %s; give one of them "
			 "another controller or location",
			 label, d->controller, d->location, other);
		return fail(p, d->header, p->cfg->lines[d->header].at, msg);
	}
	return 0;
}

/* Drives with one of the keys: the first free position that matches. */
static int place_partial(struct placement *p)
{
	char label[160], a[200], b[200], msg[700];

	for (unsigned j = 0; j < p->n; j++) {
		struct drive *d = &p->drives[j];
		bool by_controller = d->controller >= 0;
		int want = by_controller ? d->controller : d->location;
		long key = by_controller ? d->controller_key : d->location_key;
		unsigned i;

		if ((d->controller < 0) == (d->location < 0))
			continue;
		for (i = 0; i < VM_IDE_DRIVES; i++)
			if (p->pos[i] < 0 && (int)(by_controller ? i / 2 : i % 2) == want)
				break;
		if (i < VM_IDE_DRIVES) {
			p->pos[i] = (long)d->header;
			continue;
		}
		label_of(p, d->header, label, sizeof(label));
		holder(p, by_controller ? (unsigned)want * 2 : (unsigned)want, a, sizeof(a));
		holder(p, by_controller ? (unsigned)want * 2 + 1 : (unsigned)want + 2, b,
		       sizeof(b));
		if (by_controller)
			snprintf(msg, sizeof(msg),
				 "%s: controller %d has no free location (%s and %s take them); "
				 "set controller = %d, or remove controller to let osio place the "
				 "drive",
				 label, want, a, b, !want);
		else
			snprintf(msg, sizeof(msg),
				 "%s: location %d is taken on both controllers (by %s and %s); set "
				 "location = %d, or remove location to let osio place the drive",
				 label, want, a, b, !want);
		return fail(p, (size_t)key, p->cfg->lines[key].at, msg);
	}
	return 0;
}

/* The others: disks, then DVD drives, each at the first free position,
 * but a lone DVD drive at 1:0 (secondary master) when that is free. */
static void place_rest(struct placement *p)
{
	for (int dvd = 0; dvd <= 1; dvd++) {
		for (unsigned j = 0; j < p->n; j++) {
			struct drive *d = &p->drives[j];
			unsigned i = 0;

			if (d->dvd != dvd || d->controller >= 0 || d->location >= 0)
				continue;
			if (dvd && p->dvds == 1 && p->pos[2] < 0)
				i = 2;
			while (p->pos[i] >= 0)
				i++; /* at most four drives: one is free */
			p->pos[i] = (long)d->header;
		}
	}
}

int vc_place_drives(const struct vmconfig *cfg, long pos[VM_IDE_DRIVES], struct vmconfig_error *err)
{
	struct placement p = {.cfg = cfg, .err = err, .pos = pos};
	int r;

	for (unsigned i = 0; i < VM_IDE_DRIVES; i++)
		pos[i] = -1;
	r = collect(&p);
	if (!r)
		r = place_fixed(&p);
	if (!r)
		r = place_partial(&p);
	if (!r)
		place_rest(&p);
	return r;
}
