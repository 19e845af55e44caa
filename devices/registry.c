/* Device model lookup (the linker section DEVICE_MODEL fills), instance
 * lifecycle on a machine, and the "key=value" argument lists models take. */
#include "devices/device.h"

#include "hypervisor/log.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

extern const struct device_model *const __start_osio_devmodels[] __attribute__((weak));
extern const struct device_model *const __stop_osio_devmodels[] __attribute__((weak));

const struct device_model *device_model_find(const char *name)
{
	for (const struct device_model *const *p = __start_osio_devmodels;
	     p < __stop_osio_devmodels; p++)
		if (strcmp((*p)->name, name) == 0)
			return *p;
	return NULL;
}

void device_model_foreach(void (*fn)(const struct device_model *dm, void *ctx), void *ctx)
{
	for (const struct device_model *const *p = __start_osio_devmodels;
	     p < __stop_osio_devmodels; p++)
		fn(*p, ctx);
}

int devargs_set(struct devargs *args, const char *key, const char *value)
{
	size_t vlen = strlen(value);
	if (strlen(key) >= sizeof(args->a[0].key) || vlen >= DEVARGS_VALUE_MAX ||
	    vlen + 1 > DEVARGS_TEXT - args->used)
		return -E2BIG;
	unsigned i;
	for (i = 0; i < args->n; i++)
		if (strcmp(args->a[i].key, key) == 0)
			break;
	if (i == args->n) {
		if (args->n == DEVARGS_MAX)
			return -E2BIG;
		strcpy(args->a[i].key, key);
		args->n++;
	}
	/* A replaced value's old bytes stay unused: lists are small. */
	memcpy(args->text + args->used, value, vlen + 1);
	args->a[i].value = (uint16_t)args->used;
	args->used += (unsigned)vlen + 1;
	return 0;
}

int devargs_quote(char *out, size_t size, const char *value)
{
	size_t n = 0;
	if (size < 3)
		return -E2BIG;
	out[n++] = '"';
	for (const char *p = value; *p; p++) {
		if (n + 3 >= size)
			return -E2BIG;
		if (*p == '"' || *p == '\\')
			out[n++] = '\\';
		out[n++] = *p;
	}
	out[n++] = '"';
	out[n] = 0;
	return 0;
}

int devargs_parse(struct devargs *args, const char *text)
{
	char value[DEVARGS_VALUE_MAX];
	const char *p = text;
	int r = 0;
	while (*p && r == 0) {
		char key[32];
		size_t k = 0, v = 0;
		while (*p && *p != '=' && *p != ',') {
			if (k + 1 >= sizeof(key)) {
				r = -E2BIG;
				goto out;
			}
			key[k++] = *p++;
		}
		key[k] = 0;
		if (k == 0 || *p != '=') {
			r = -EINVAL;
			goto out;
		}
		p++;
		bool quoted = *p == '"';
		if (quoted)
			p++;
		while (*p && (quoted ? *p != '"' : *p != ',')) {
			if (quoted && *p == '\\' && (p[1] == '"' || p[1] == '\\'))
				p++;
			if (v + 1 >= sizeof(value)) {
				r = -E2BIG;
				goto out;
			}
			value[v++] = *p++;
		}
		value[v] = 0;
		if (quoted) {
			if (*p != '"') {
				r = -EINVAL;
				goto out;
			}
			p++;
		}
		if ((r = devargs_set(args, key, value)) < 0)
			goto out;
		if (*p == ',')
			p++;
		else if (*p)
			r = -EINVAL;
	}
out:
	return r;
}

const char *devargs_get(const struct devargs *args, const char *key)
{
	if (!args)
		return NULL;
	for (unsigned i = 0; i < args->n; i++)
		if (strcmp(args->a[i].key, key) == 0)
			return args->text + args->a[i].value;
	return NULL;
}

int devargs_u64(const struct devargs *args, const char *key, uint64_t def, uint64_t max,
		uint64_t *out)
{
	const char *s = devargs_get(args, key);
	if (!s) {
		*out = def;
		return 0;
	}
	if (*s < '0' || *s > '9') /* no sign, no leading space */
		return -EINVAL;
	char *end;
	errno = 0;
	unsigned long long v = strtoull(s, &end, 0);
	if (errno || end == s || *end || v > max)
		return -EINVAL;
	*out = v;
	return 0;
}

int devargs_check_keys(const struct devargs *args, const char *model, const char *const *known)
{
	if (!args)
		return 0;
	for (unsigned i = 0; i < args->n; i++) {
		bool ok = false;
		for (const char *const *k = known; *k && !ok; k++)
			ok = strcmp(*k, args->a[i].key) == 0;
		if (!ok) {
			log_error("%s: unknown setting '%s'", model, args->a[i].key);
			return -EINVAL;
		}
	}
	return 0;
}

int machine_add_device(struct machine *m, const char *model, const char *id,
		       const struct devargs *args)
{
	const struct device_model *dm = device_model_find(model);
	if (!dm) {
		log_error("no device model named '%s'", model);
		return -ENOENT;
	}
	bool taken = false;
	for (struct device *d = m->devices; d && !taken; d = d->next)
		taken = strcmp(d->id, id) == 0;
	if (strlen(id) >= sizeof(((struct device *)0)->id) || taken) {
		log_error("device id '%s' is too long or already used", id);
		return -EEXIST;
	}
	struct device *d = calloc(1, sizeof(*d));
	if (!d)
		return -ENOMEM;
	d->model = dm;
	strcpy(d->id, id);
	static const struct devargs none;
	int r = dm->create(m, d->id, args ? args : &none, &d->state);
	if (r < 0) {
		free(d);
		return r;
	}
	struct device **tail = &m->devices;
	while (*tail)
		tail = &(*tail)->next;
	*tail = d;
	return 0;
}

void *machine_device(struct machine *m, const char *id)
{
	for (struct device *d = m->devices; d; d = d->next)
		if (strcmp(d->id, id) == 0)
			return d->state;
	return NULL;
}

void machine_reset_devices(struct machine *m)
{
	for (struct device *d = m->devices; d; d = d->next)
		if (d->model->reset)
			d->model->reset(d->state);
}

static void destroy_from(struct device *d)
{
	if (!d)
		return;
	destroy_from(d->next);
	if (d->model->destroy)
		d->model->destroy(d->state);
	free(d);
}

void machine_destroy_devices(struct machine *m)
{
	destroy_from(m->devices);
	m->devices = NULL;
}
