/* From a vmconfig to the worker's settings (struct vm_spec): defaults, paths
 * resolved, IDE drives placed, virtio disks and network adapters listed. */
#include "vmconfig/internal.h"

#include <ctype.h>
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

void vm_spec_defaults(struct vm_spec *s)
{
	memset(s, 0, sizeof(*s));
	snprintf(s->name, sizeof(s->name), "vm");
	s->memory = 512ull << 20;
	s->cpus = 1;
	s->hugepages = false;
	s->on_reboot = ON_REBOOT_RESET;
	s->serial[0].present = true;
	s->serial[0].backend = SERIAL_STDIO;
	s->firmware = FIRMWARE_AUTO;
	s->boot_order[0] = BOOT_DVD;
	s->boot_order[1] = BOOT_DISK;
	s->boot_order[2] = BOOT_NETWORK;
	s->boot_order_n = 3;
	s->on_disk_error = ON_DISK_ERROR_REPORT;
	s->rng = RNG_NONE;
	s->console.present = false;
	s->display = DISPLAY_VGA;
	s->vnc.kind = VNC_AUTO;
	snprintf(s->vnc.keymap, sizeof(s->vnc.keymap), "en-us");
}

struct spec_ctx {
	const struct vmconfig *cfg;
	struct vm_spec *spec;
	struct vmconfig_error *err;
	size_t dirlen;			       /* the vmconfig path up to its last '/' (included) */
	unsigned serial_line[VM_SERIAL_PORTS]; /* header line of each [serial], 0 none */
	unsigned console_line;		       /* header line of [console], 0 none */
};

static int fail_line(struct spec_ctx *c, size_t line, unsigned column, const char *msg)
{
	vc_error(c->err, c->cfg->path, (unsigned)line + 1, column, "%s", msg);
	return -EINVAL;
}

/* A path value relative to the vmconfig's directory, into out. */
static int resolve(struct spec_ctx *c, size_t i, char *out, size_t size)
{
	const struct vc_line *l = &c->cfg->lines[i];
	size_t dirlen = l->value[0] == '/' ? 0 : c->dirlen, len = dirlen + strlen(l->value);
	char msg[512], ex[96];

	if (len >= size) {
		vc_value_excerpt(l->value, ex, sizeof(ex));
		snprintf(msg, sizeof(msg),
			 "%s = '%s': the path is too long (%zu bytes%s; at most %zu); move the "
			 "file or use a shorter path",
			 l->key, ex, len, dirlen ? " once joined to the vmconfig's directory" : "",
			 size - 1);
		return fail_line(c, i, vc_column(l->text, l->value_at), msg);
	}
	snprintf(out, size, "%.*s%s", (int)dirlen, c->cfg->path ? c->cfg->path : "", l->value);
	return 0;
}

static int fill_vm(struct spec_ctx *c, size_t h, size_t end)
{
	struct vm_spec *s = c->spec;
	uint64_t u;
	bool b;

	for (size_t i = h + 1; i < end; i++) {
		const struct vc_line *l = &c->cfg->lines[i];

		if (l->kind != VC_KEY)
			continue;
		/* Values were checked when they were read or set. */
		if (strcmp(l->key, "name") == 0) {
			snprintf(s->name, sizeof(s->name), "%s", l->value);
		} else if (strcmp(l->key, "memory") == 0) {
			if (vmconfig_parse_size(l->value, &u, NULL, 0) == 0)
				s->memory = u;
		} else if (strcmp(l->key, "cpus") == 0) {
			if (vmconfig_parse_uint(l->value, 0, UINT_MAX, &u, NULL, 0) == 0)
				s->cpus = (unsigned)u;
		} else if (strcmp(l->key, "hugepages") == 0) {
			if (vmconfig_parse_bool(l->value, &b, NULL, 0) == 0)
				s->hugepages = b;
		} else if (strcmp(l->key, "on_reboot") == 0) {
			s->on_reboot =
			    strcasecmp(l->value, "exit") == 0 ? ON_REBOOT_EXIT : ON_REBOOT_RESET;
		} else if (strcmp(l->key, "uuid") == 0) {
			if (vmconfig_parse_uuid(l->value, s->uuid, NULL, 0) == 0)
				s->has_uuid = true;
		} else if (strcmp(l->key, "on_disk_error") == 0) {
			s->on_disk_error = strcasecmp(l->value, "pause") == 0
					       ? ON_DISK_ERROR_PAUSE
					       : ON_DISK_ERROR_REPORT;
		} else if (strcmp(l->key, "rng") == 0) {
			s->rng = strcasecmp(l->value, "virtio") == 0 ? RNG_VIRTIO : RNG_NONE;
		} else if (strcmp(l->key, "worker_user") == 0) {
			snprintf(s->worker_user, sizeof(s->worker_user), "%s", l->value);
		}
	}
	return 0;
}

static int fill_boot(struct spec_ctx *c, size_t h, size_t end)
{
	struct vm_spec *s = c->spec;
	int r = 0;

	for (size_t i = h + 1; i < end && !r; i++) {
		const struct vc_line *l = &c->cfg->lines[i];

		if (l->kind != VC_KEY)
			continue;
		if (strcmp(l->key, "kernel") == 0)
			r = resolve(c, i, s->kernel, sizeof(s->kernel));
		else if (strcmp(l->key, "initrd") == 0)
			r = resolve(c, i, s->initrd, sizeof(s->initrd));
		else if (strcmp(l->key, "append") == 0)
			snprintf(s->append, sizeof(s->append), "%s", l->value);
		else if (strcmp(l->key, "firmware") == 0)
			s->firmware =
			    strcasecmp(l->value, "none") == 0 ? FIRMWARE_NONE : FIRMWARE_BIOS;
		else if (strcmp(l->key, "bios") == 0)
			r = resolve(c, i, s->bios, sizeof(s->bios));
		else if (strcmp(l->key, "vgabios") == 0)
			r = resolve(c, i, s->vgabios, sizeof(s->vgabios));
		else if (strcmp(l->key, "order") == 0)
			/* Checked when it was read or set. */
			s->boot_order_set =
			    vmconfig_parse_boot_order(l->value, s->boot_order, &s->boot_order_n,
						      NULL, 0) == 0;
	}
	return r;
}

/* The keys every disk has, IDE or virtio (the section at h). */
static int fill_disk(struct spec_ctx *c, size_t h, struct drive_spec *d)
{
	const struct vmconfig *cfg = c->cfg;
	const struct vc_line *l = &cfg->lines[h];
	long file, ro, fmt, serial, queues;
	uint64_t u;
	bool b;

	memset(d, 0, sizeof(*d));
	d->media = strcmp(l->type, "dvd") == 0 ? DRIVE_DVD : DRIVE_DISK;
	snprintf(d->name, sizeof(d->name), "%s", l->name ? l->name : "");
	if (cfg->path)
		snprintf(d->origin, sizeof(d->origin), "%s:%zu", cfg->path, h + 1);
	d->readonly = d->media == DRIVE_DVD;
	ro = vc_find_key(cfg, h, "readonly");
	if (ro >= 0 && vmconfig_parse_bool(cfg->lines[ro].value, &b, NULL, 0) == 0)
		d->readonly = b;
	/* Checked when they were read or set. */
	fmt = vc_find_key(cfg, h, "format");
	if (fmt >= 0 && strcasecmp(cfg->lines[fmt].value, "auto") != 0)
		for (size_t i = 0; i < sizeof(d->format) - 1 && cfg->lines[fmt].value[i]; i++)
			d->format[i] = (char)tolower((unsigned char)cfg->lines[fmt].value[i]);
	serial = vc_find_key(cfg, h, "serial");
	if (serial >= 0)
		snprintf(d->serial, sizeof(d->serial), "%s", cfg->lines[serial].value);
	queues = vc_find_key(cfg, h, "queues");
	if (queues >= 0 &&
	    vmconfig_parse_uint(cfg->lines[queues].value, 1, VM_DISK_QUEUES_MAX, &u, NULL, 0) == 0)
		d->queues = (unsigned)u;
	/* A DVD drive's file = "": an empty drive, like no file. */
	file = vc_find_key(cfg, h, "file");
	if (file >= 0 && cfg->lines[file].value[0])
		return resolve(c, (size_t)file, d->path, sizeof(d->path));
	return 0;
}

/* The IDE drives: all four positions when the file has any drive. */
static int fill_drives(struct spec_ctx *c)
{
	const struct vmconfig *cfg = c->cfg;
	long pos[VM_IDE_DRIVES];
	bool any = false;
	int r;

	r = vc_place_drives(cfg, pos, c->err);
	if (r)
		return r; /* cannot happen: validated */
	for (unsigned i = 0; i < VM_IDE_DRIVES; i++)
		any |= pos[i] >= 0;
	for (unsigned i = 0; any && i < VM_IDE_DRIVES; i++) {
		struct drive_spec *d = &c->spec->ide[i];

		memset(d, 0, sizeof(*d));
		if (pos[i] >= 0 && (r = fill_disk(c, (size_t)pos[i], d)))
			return r;
	}
	return 0;
}

/* The disks on bus = virtio, in file order: all of them when the file has
 * any. */
static int fill_virtio_disks(struct spec_ctx *c)
{
	const struct vmconfig *cfg = c->cfg;
	unsigned n = 0;
	int r;

	for (size_t h = 0; h < cfg->nlines; h++) {
		const struct vc_line *l = &cfg->lines[h];
		long bus;

		if (l->kind != VC_SECTION || strcmp(l->type, "disk") != 0)
			continue;
		bus = vc_find_key(cfg, h, "bus");
		if (bus < 0 || strcasecmp(cfg->lines[bus].value, "virtio") != 0)
			continue;
		if (n == VM_VIRTIO_DISKS)
			return fail_line(c, h, 0, "too many virtio disks"); /* validated */
		r = fill_disk(c, h, &c->spec->virtio[n]);
		if (r)
			return r;
		n++;
	}
	if (n)
		c->spec->nvirtio = n;
	return 0;
}

/* FNV-1a, for serial numbers that must be short. */
static uint32_t fnv1a(const char *s)
{
	uint32_t h = 2166136261u;

	while (*s)
		h = (h ^ (unsigned char)*s++) * 16777619u;
	return h;
}

void vm_disk_serial(const char *vm, const char *disk, char out[VM_DISK_SERIAL_MAX + 1])
{
	char full[2 * VM_NAME_MAX + 2];
	size_t n;

	snprintf(full, sizeof(full), "%s-%s", vm, disk);
	n = strlen(full);
	if (n <= VM_DISK_SERIAL_MAX) {
		memcpy(out, full, n + 1);
		return;
	}
	/* The start of the names, and a hash of all of them to keep it unique. */
	snprintf(out, VM_DISK_SERIAL_MAX + 1, "%.11s-%08x", full, fnv1a(full));
}

/* virtio disks without a serial number get one from the VM's name and
 * theirs (or their place: vd0, vd1, ...). */
static void default_serials(struct vm_spec *s)
{
	char place[16];

	for (unsigned i = 0; i < s->nvirtio; i++) {
		struct drive_spec *d = &s->virtio[i];

		if (d->serial[0])
			continue;
		snprintf(place, sizeof(place), "vd%u", i);
		vm_disk_serial(s->name, d->name[0] ? d->name : place, d->serial);
	}
}

/* A serial port's or the console's backend and path (section at h). */
static int fill_backend(struct spec_ctx *c, size_t h, struct serial_spec *sp, const char *def)
{
	static const struct {
		const char *word;
		enum serial_backend backend;
	} backends[] = {
	    {"stdio", SERIAL_STDIO}, {"pty", SERIAL_PTY},   {"socket", SERIAL_SOCKET},
	    {"file", SERIAL_FILE},   {"none", SERIAL_NONE},
	};
	long b = vc_find_key(c->cfg, h, "backend"), p = vc_find_key(c->cfg, h, "path");
	const char *word = b >= 0 ? c->cfg->lines[b].value : def;

	sp->present = true;
	sp->backend = SERIAL_STDIO;
	for (size_t i = 0; i < sizeof(backends) / sizeof(backends[0]); i++)
		if (strcasecmp(word, backends[i].word) == 0)
			sp->backend = backends[i].backend;
	sp->path[0] = '\0';
	if (p >= 0 && (sp->backend == SERIAL_SOCKET || sp->backend == SERIAL_FILE))
		return resolve(c, (size_t)p, sp->path, sizeof(sp->path));
	return 0;
}

static int fill_serial(struct spec_ctx *c, size_t h)
{
	unsigned port = (unsigned)(c->cfg->lines[h].name[3] - '1'); /* com1..com4, checked */

	c->serial_line[port] = (unsigned)h + 1;
	return fill_backend(c, h, &c->spec->serial[port], "stdio");
}

static int fill_console(struct spec_ctx *c, size_t h)
{
	c->console_line = (unsigned)h + 1;
	return fill_backend(c, h, &c->spec->console, "pty");
}

/* The display adapter and its VNC server. */
static int fill_display(struct spec_ctx *c, size_t h)
{
	const struct vmconfig *cfg = c->cfg;
	struct vm_spec *s = c->spec;
	long a = vc_find_key(cfg, h, "adapter"), v = vc_find_key(cfg, h, "vnc");
	long pw = vc_find_key(cfg, h, "vnc_password_file");
	long ins = vc_find_key(cfg, h, "vnc_insecure"), km = vc_find_key(cfg, h, "keymap");
	bool none = a >= 0 && strcasecmp(cfg->lines[a].value, "none") == 0;
	/* vnc defaults to auto with an adapter, to none without one. */
	const char *vnc = v >= 0 ? cfg->lines[v].value : none ? "none" : "auto";
	struct vmconfig_vnc parsed;

	if (a >= 0)
		s->display = none ? DISPLAY_NONE : DISPLAY_VGA;
	if (vmconfig_parse_vnc(vnc, &parsed, NULL, 0) < 0)
		return 0; /* validation has named the line */
	s->vnc.kind = parsed.kind == VMCONFIG_VNC_NONE	 ? VNC_NONE
		      : parsed.kind == VMCONFIG_VNC_AUTO ? VNC_AUTO
		      : parsed.kind == VMCONFIG_VNC_TCP	 ? VNC_TCP
							 : VNC_UNIX;
	snprintf(s->vnc.host, sizeof(s->vnc.host), "%s", parsed.host);
	s->vnc.port = parsed.port;
	snprintf(s->vnc.path, sizeof(s->vnc.path), "%s", parsed.path);
	bool b;
	if (ins >= 0 && vmconfig_parse_bool(cfg->lines[ins].value, &b, NULL, 0) == 0)
		s->vnc.insecure = b;
	if (km >= 0)
		snprintf(s->vnc.keymap, sizeof(s->vnc.keymap), "%s", cfg->lines[km].value);
	if (pw >= 0)
		return resolve(c, (size_t)pw, s->vnc.password_file, sizeof(s->vnc.password_file));
	return 0;
}

/* Only one serial port, or the console, can have the terminal. */
static int check_stdio(struct spec_ctx *c)
{
	int first = -1;
	char msg[512];

	for (int i = 0; i < VM_SERIAL_PORTS; i++) {
		if (!c->spec->serial[i].present || c->spec->serial[i].backend != SERIAL_STDIO)
			continue;
		if (first < 0) {
			first = i;
			continue;
		}
		snprintf(msg, sizeof(msg),
			 "[serial \"com%d\"]: COM%d already uses stdio (the terminal)%s; set "
			 "backend = pty, socket, file or none on one of them",
			 i + 1, first + 1, c->serial_line[first] ? "" : " by default");
		if (c->serial_line[i])
			return fail_line(c, c->serial_line[i] - 1, 0, msg);
		vc_error(c->err, c->cfg->path, 0, 0, "%s", msg);
		return -EINVAL;
	}
	if (first < 0 || !c->spec->console.present || c->spec->console.backend != SERIAL_STDIO)
		return 0;
	snprintf(msg, sizeof(msg),
		 "[console]: COM%d already uses stdio (the terminal)%s; set backend = pty, "
		 "socket, file or none here, or another backend for COM%d",
		 first + 1, c->serial_line[first] ? "" : " by default", first + 1);
	if (c->console_line)
		return fail_line(c, c->console_line - 1, 0, msg);
	vc_error(c->err, c->cfg->path, 0, 0, "%s", msg);
	return -EINVAL;
}

int vmconfig_to_spec(const struct vmconfig *cfg, struct vm_spec *spec, struct vmconfig_error *err)
{
	struct spec_ctx c = {.cfg = cfg, .err = err};
	const char *slash = cfg->path ? strrchr(cfg->path, '/') : NULL;
	int r;

	r = vmconfig_validate(cfg, err);
	if (r)
		return r;
	c.dirlen = slash ? (size_t)(slash - cfg->path) + 1 : 0;
	/* Work on a copy: spec stays as it was on error. */
	c.spec = malloc(sizeof(*c.spec));
	if (!c.spec) {
		vc_error(err, cfg->path, 0, 0, "out of memory");
		return -ENOMEM;
	}
	*c.spec = *spec;
	for (size_t h = 0; h < cfg->nlines && !r; h++) {
		const struct vc_line *l = &cfg->lines[h];
		size_t end;

		if (l->kind != VC_SECTION)
			continue;
		end = vc_section_end(cfg, h);
		if (strcmp(l->type, "vm") == 0)
			r = fill_vm(&c, h, end);
		else if (strcmp(l->type, "boot") == 0)
			r = fill_boot(&c, h, end);
		else if (strcmp(l->type, "serial") == 0)
			r = fill_serial(&c, h);
		else if (strcmp(l->type, "console") == 0)
			r = fill_console(&c, h);
		else if (strcmp(l->type, "display") == 0)
			r = fill_display(&c, h);
	}
	if (!r)
		r = fill_drives(&c);
	if (!r)
		r = fill_virtio_disks(&c);
	if (!r)
		r = vc_fill_nics(cfg, c.spec, c.dirlen, err);
	if (!r) {
		default_serials(c.spec);
		r = check_stdio(&c);
	}
	if (!r)
		*spec = *c.spec;
	free(c.spec);
	return r;
}
