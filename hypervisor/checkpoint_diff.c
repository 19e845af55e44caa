/* What differs between a checkpoint's copy of the VM's settings and the settings now, in short
 * phrases for osio checkpoint list ("memory 2G, now 4G", "nic 'lan' added since"). */
#include "hypervisor/checkpoint_int.h"

#include "vmconfig/schema.h"
#include "vmconfig/vmconfig.h"

#include <errno.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

struct diff {
	char (*list)[CKPT_DIFF_LEN];
	unsigned max, n;
};

static void add(struct diff *d, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void add(struct diff *d, const char *fmt, ...)
{
	va_list ap;

	if (d->n >= d->max)
		return;
	va_start(ap, fmt);
	vsnprintf(d->list[d->n++], CKPT_DIFF_LEN, fmt, ap);
	va_end(ap);
}

static bool kept(const char *type, const char *key)
{
	if (strcmp(type, "vm") != 0)
		return false;
	for (unsigned i = 0; ckpt_kept_keys[i]; i++)
		if (strcmp(ckpt_kept_keys[i], key) == 0)
			return true;
	return false;
}

/* "memory", "disk 'data' bus", "display vnc": how a key is named in a phrase. */
static void key_name(const struct vmconfig_section_info *s, const char *name, const char *key,
		     char *buf, size_t size)
{
	if (strcmp(s->type, "vm") == 0)
		snprintf(buf, size, "%s", key);
	else if (s->naming == VMCONFIG_SINGLE)
		snprintf(buf, size, "%s %s", s->type, key);
	else
		snprintf(buf, size, "%s '%s' %s", s->type, name, key);
}

static void section_name(const struct vmconfig_section_info *s, const char *name, char *buf,
			 size_t size)
{
	if (s->naming == VMCONFIG_SINGLE)
		snprintf(buf, size, "[%s]", s->type);
	else
		snprintf(buf, size, "%s '%s'", s->type, name);
}

/* One section present in both: its keys, a value absent read as its default. */
static void diff_keys(struct diff *d, const struct vmconfig *then, const struct vmconfig *now,
		      const struct vmconfig_section_info *s, const char *name, bool frozen)
{
	char label[128];

	for (unsigned k = 0; k < s->nkeys; k++) {
		const struct vmconfig_key_info *ki = &s->keys[k];
		const char *a = vmconfig_get(then, s->type, name, ki->key);
		const char *b = vmconfig_get(now, s->type, name, ki->key);

		if (kept(s->type, ki->key))
			continue;
		/* A frozen disk's image is a new one since: not a setting that changed. */
		if (frozen && (strcmp(ki->key, "file") == 0 || strcmp(ki->key, "format") == 0))
			continue;
		a = a ? a : ki->def;
		b = b ? b : ki->def;
		if ((!a && !b) || (a && b && strcmp(a, b) == 0))
			continue;
		key_name(s, name, ki->key, label, sizeof(label));
		add(d, "%s %.48s, now %.48s", label, a ? (a[0] ? a : "\"\"") : "(none)",
		    b ? (b[0] ? b : "\"\"") : "(none)");
	}
}

static void diff_sections(struct diff *d, const struct ckpt *c, const struct vmconfig *then,
			  const struct vmconfig *now, const struct vmconfig_section_info *s)
{
	char label[128];

	for (unsigned i = 0; i < vmconfig_count(then, s->type); i++) {
		const char *name = vmconfig_section_name(then, s->type, i);
		section_name(s, name, label, sizeof(label));
		if (!vmconfig_line(now, s->type, name, NULL)) {
			add(d, "%s removed since", label);
			continue;
		}
		bool frozen = strcmp(s->type, "disk") == 0 &&
			      ckpt_image_of(c->images, c->nimages, name) != NULL;
		diff_keys(d, then, now, s, name, frozen);
	}
	for (unsigned i = 0; i < vmconfig_count(now, s->type); i++) {
		const char *name = vmconfig_section_name(now, s->type, i);
		section_name(s, name, label, sizeof(label));
		if (!vmconfig_line(then, s->type, name, NULL))
			add(d, "%s added since", label);
	}
}

int ckpt_config_diff(const struct ckpt_vm *vm, const struct ckpt *c, char (*list)[CKPT_DIFF_LEN],
		     unsigned max, unsigned *n, char *err, size_t errlen)
{
	struct diff d = {.list = list, .max = max};
	struct vmconfig *then = NULL, *now = NULL;
	struct vmconfig_error ve;
	char path[PATH_MAX];
	int r;

	*n = 0;
	if (ckpt_config_path(vm, c->id, path, sizeof(path)) < 0) {
		snprintf(err, errlen, "%s: the VM's folder path is too long", vm->dir);
		return -ENAMETOOLONG;
	}
	if (access(path, F_OK) < 0)
		return -ENOENT;
	then = vmconfig_load(path, &ve);
	if (!then) {
		vmconfig_error_format(&ve, err, errlen);
		return -EINVAL;
	}
	if ((r = ckpt_load_config(vm, &now, err, errlen)) < 0)
		goto out;
	for (unsigned i = 0; i < vmconfig_nsections; i++) {
		const struct vmconfig_section_info *s = &vmconfig_sections[i];
		if (s->naming == VMCONFIG_SINGLE) {
			/* An absent single section reads as its defaults. */
			if (vmconfig_line(then, s->type, NULL, NULL) ||
			    vmconfig_line(now, s->type, NULL, NULL))
				diff_keys(&d, then, now, s, NULL, false);
		} else {
			diff_sections(&d, c, then, now, s);
		}
	}
	*n = d.n;
out:
	vmconfig_free(then);
	vmconfig_free(now);
	return r;
}
