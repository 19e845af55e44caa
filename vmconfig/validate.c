/* vmconfig rules between keys: required keys, a serial backend and its path,
 * boot keys that need a kernel or firmware, MAC addresses and disk images
 * used twice, IDE positions, a VNC server without a screen. */
#include "vmconfig/internal.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

struct validate_state {
	const struct vmconfig *cfg;
	struct vmconfig_error *err;
	size_t macs[VMCONFIG_MAX_REPEAT]; /* lines of the mac keys so far */
	unsigned nmacs;
	size_t disks[VMCONFIG_MAX_REPEAT]; /* lines of the disks' file keys so far */
	unsigned ndisks;
	unsigned nvirtio; /* [disk] sections on bus = virtio so far */
	unsigned nnics;	  /* [nic] sections so far */
};

static int fail(struct validate_state *vs, size_t line, size_t at, const char *msg)
{
	const struct vc_line *l = &vs->cfg->lines[line];

	vc_error(vs->err, vs->cfg->path, (unsigned)line + 1, vc_column(l->text, at), "%s", msg);
	return -EINVAL;
}

/* The section header that owns line i. */
static size_t header_of(const struct vmconfig *cfg, size_t i)
{
	while (i > 0 && cfg->lines[i].kind != VC_SECTION)
		i--;
	return i;
}

static int check_required(struct validate_state *vs, size_t h,
			  const struct vmconfig_section_info *s, const char *label)
{
	char msg[512];

	for (unsigned i = 0; i < s->nkeys; i++) {
		const struct vmconfig_key_info *k = &s->keys[i];

		if (!k->required || vc_find_key(vs->cfg, h, k->key) >= 0)
			continue;
		snprintf(msg, sizeof(msg), "%s: %s is missing; add a line %s = ... (%s)", label,
			 k->key, k->key, k->help);
		return fail(vs, h, vs->cfg->lines[h].at, msg);
	}
	return 0;
}

static int check_serial(struct validate_state *vs, size_t h, const char *label)
{
	const struct vmconfig *cfg = vs->cfg;
	long b = vc_find_key(cfg, h, "backend"), p = vc_find_key(cfg, h, "path");
	const char *backend = b >= 0 ? cfg->lines[b].value : "stdio";
	bool socket = strcasecmp(backend, "socket") == 0, file = strcasecmp(backend, "file") == 0;
	char ex[96], msg[512];

	if ((socket || file) && p < 0) {
		const char *fix = socket ? "path = /run/NAME.sock (the socket to listen on)"
					 : "path = FILE (where the output is appended)";

		if (b >= 0) {
			snprintf(msg, sizeof(msg), "%s: backend = %s needs a path; add a line %s",
				 label, socket ? "socket" : "file", fix);
			return fail(vs, (size_t)b, cfg->lines[b].value_at, msg);
		}
		snprintf(msg, sizeof(msg), "%s: needs a path; add a line %s", label, fix);
		return fail(vs, h, cfg->lines[h].at, msg);
	}
	if (!socket && !file && p >= 0) {
		snprintf(
		    msg, sizeof(msg),
		    "%s: path is used only with backend = socket or file; remove it or set the "
		    "backend",
		    label);
		return fail(vs, (size_t)p, cfg->lines[p].at, msg);
	}
	if (socket) {
		const struct vc_line *l = &cfg->lines[p];
		size_t len = strlen(l->value);

		vc_value_excerpt(l->value, ex, sizeof(ex));
		if (l->value[0] != '/') {
			snprintf(msg, sizeof(msg),
				 "path = '%s': a socket path must be absolute; start it with '/'",
				 ex);
			return fail(vs, (size_t)p, l->value_at, msg);
		}
		if (len > VMCONFIG_SOCKET_PATH_MAX) {
			snprintf(msg, sizeof(msg),
				 "path = '%s': too long for a Unix socket (%zu bytes; at most %d)",
				 ex, len, VMCONFIG_SOCKET_PATH_MAX);
			return fail(vs, (size_t)p, l->value_at, msg);
		}
	}
	return 0;
}

static int check_boot(struct validate_state *vs, size_t h)
{
	static const char *const needs_kernel[] = {"initrd", "append"};
	static const char *const needs_firmware[] = {"order", "bios", "vgabios"};
	const struct vmconfig *cfg = vs->cfg;
	long kernel = vc_find_key(cfg, h, "kernel"), fw = vc_find_key(cfg, h, "firmware");
	char msg[512];

	for (unsigned i = 0; kernel < 0 && i < 2; i++) {
		long k = vc_find_key(cfg, h, needs_kernel[i]);

		if (k < 0)
			continue;
		snprintf(msg, sizeof(msg),
			 "%s is used only with a kernel; add kernel = FILE to [boot] or remove %s",
			 needs_kernel[i], needs_kernel[i]);
		return fail(vs, (size_t)k, cfg->lines[k].at, msg);
	}
	if (fw >= 0) {
		const struct vc_line *l = &cfg->lines[fw];
		bool bios = strcasecmp(l->value, "bios") == 0;

		if (bios && kernel >= 0) {
			snprintf(msg, sizeof(msg),
				 "firmware = bios, but the kernel on line %ld is booted without "
				 "firmware; remove kernel to start from the BIOS, or remove "
				 "firmware",
				 kernel + 1);
			return fail(vs, (size_t)fw, l->value_at, msg);
		}
		if (!bios && kernel < 0) {
			snprintf(msg, sizeof(msg),
				 "firmware = none needs a kernel to boot; add kernel = FILE to "
				 "[boot] or set firmware = bios");
			return fail(vs, (size_t)fw, l->value_at, msg);
		}
	}
	/* From here, a kernel means no firmware. */
	for (unsigned i = 0; kernel >= 0 && i < 3; i++) {
		long k = vc_find_key(cfg, h, needs_firmware[i]);

		if (k < 0)
			continue;
		snprintf(msg, sizeof(msg),
			 "%s is used only when the VM starts from firmware, and the kernel on "
			 "line %ld is booted without it; remove %s, or remove kernel to start "
			 "from the BIOS",
			 needs_firmware[i], kernel + 1, needs_firmware[i]);
		return fail(vs, (size_t)k, cfg->lines[k].at, msg);
	}
	return 0;
}

/* controller and location place a disk on IDE only, queues are virtio's;
 * a serial number is printable ASCII. */
static int check_disk(struct validate_state *vs, size_t h, const char *label)
{
	static const char *const ide_keys[] = {"controller", "location"};
	const struct vmconfig *cfg = vs->cfg;
	long bus = vc_find_key(cfg, h, "bus"), serial = vc_find_key(cfg, h, "serial");
	long queues = vc_find_key(cfg, h, "queues");
	bool virtio = bus >= 0 && strcasecmp(cfg->lines[bus].value, "virtio") == 0;
	char msg[512], ex[96];

	if (serial >= 0) {
		const struct vc_line *l = &cfg->lines[serial];

		for (size_t i = 0; l->value[i]; i++) {
			unsigned char c = (unsigned char)l->value[i];

			if (c > 0x20 && c < 0x7f)
				continue;
			vc_value_excerpt(l->value, ex, sizeof(ex));
			snprintf(msg, sizeof(msg),
				 "%s: serial = '%s': a serial number is letters, digits and "
				 "punctuation (ASCII, no spaces); change it",
				 label, ex);
			return fail(vs, (size_t)serial, vc_value_offset(l, i), msg);
		}
	}
	if (!virtio) {
		if (queues < 0)
			return 0;
		snprintf(msg, sizeof(msg),
			 "%s: queues is used only with bus = virtio; remove queues or add a line "
			 "bus = virtio",
			 label);
		return fail(vs, (size_t)queues, cfg->lines[queues].at, msg);
	}
	if (++vs->nvirtio > VM_VIRTIO_DISKS) {
		snprintf(msg, sizeof(msg),
			 "%s: disk %u on bus = virtio, but a VM has at most %u; remove a virtio "
			 "disk or put this one on bus = ide",
			 label, vs->nvirtio, VM_VIRTIO_DISKS);
		return fail(vs, (size_t)bus, cfg->lines[bus].value_at, msg);
	}
	for (unsigned i = 0; i < 2; i++) {
		long k = vc_find_key(cfg, h, ide_keys[i]);

		if (k < 0)
			continue;
		snprintf(msg, sizeof(msg),
			 "%s: %s is used only with bus = ide, and line %ld sets bus = %s; remove "
			 "%s or set bus = ide",
			 label, ide_keys[i], bus + 1, cfg->lines[bus].value, ide_keys[i]);
		return fail(vs, (size_t)k, cfg->lines[k].at, msg);
	}
	return 0;
}

/* Without an adapter there is no screen to serve. */
static int check_display(struct validate_state *vs, size_t h)
{
	const struct vmconfig *cfg = vs->cfg;
	long adapter = vc_find_key(cfg, h, "adapter"), vnc = vc_find_key(cfg, h, "vnc");
	char ex[96], msg[512];

	if (adapter < 0 || vnc < 0 || strcasecmp(cfg->lines[adapter].value, "none") != 0 ||
	    strcasecmp(cfg->lines[vnc].value, "none") == 0)
		return 0;
	vc_value_excerpt(cfg->lines[vnc].value, ex, sizeof(ex));
	snprintf(msg, sizeof(msg),
		 "vnc = '%s': adapter = none on line %ld leaves no screen to serve; set vnc = "
		 "none or adapter = vga",
		 ex, adapter + 1);
	return fail(vs, (size_t)vnc, cfg->lines[vnc].value_at, msg);
}

/* A key whose value must differ between the sections of one type; lines
 * holds the lines of the same key seen so far in earlier sections. */
static int check_unique(struct validate_state *vs, size_t h, const char *key, size_t *lines,
			unsigned *n, bool fold_case, const char *what)
{
	const struct vmconfig *cfg = vs->cfg;
	long k = vc_find_key(cfg, h, key);
	const struct vc_line *l;
	char label[160], ex[96], msg[512];

	if (k < 0)
		return 0;
	l = &cfg->lines[k];
	for (unsigned i = 0; i < *n; i++) {
		const struct vc_line *o = &cfg->lines[lines[i]];
		const struct vc_line *oh = &cfg->lines[header_of(cfg, lines[i])];

		if (fold_case ? strcasecmp(o->value, l->value) : strcmp(o->value, l->value))
			continue;
		vc_section_label(oh->type, oh->name, label, sizeof(label));
		vc_value_excerpt(l->value, ex, sizeof(ex));
		snprintf(msg, sizeof(msg), "%s = '%s': %s on line %zu has it too; %s", key, ex,
			 label, lines[i] + 1, what);
		return fail(vs, (size_t)k, l->value_at, msg);
	}
	if (*n < VMCONFIG_MAX_REPEAT)
		lines[(*n)++] = (size_t)k;
	return 0;
}

int vmconfig_validate(const struct vmconfig *cfg, struct vmconfig_error *err)
{
	struct validate_state vs = {.cfg = cfg, .err = err};
	char label[160];
	int r = 0;

	for (size_t h = 0; h < cfg->nlines && !r; h++) {
		const struct vc_line *l = &cfg->lines[h];
		const struct vmconfig_section_info *s;

		if (l->kind != VC_SECTION)
			continue;
		s = vmconfig_schema_section(l->type);
		if (!s)
			continue; /* refused when it was read or set */
		vc_section_label(l->type, l->name, label, sizeof(label));
		r = check_required(&vs, h, s, label);
		if (r)
			break;
		if (strcmp(l->type, "serial") == 0 || strcmp(l->type, "console") == 0)
			r = check_serial(&vs, h, label);
		else if (strcmp(l->type, "boot") == 0)
			r = check_boot(&vs, h);
		else if (strcmp(l->type, "nic") == 0 &&
			 !(r = vc_check_nic(cfg, h, vs.nnics++, label, err)))
			r = check_unique(&vs, h, "mac", vs.macs, &vs.nmacs, true,
					 "give each adapter its own address");
		else if (strcmp(l->type, "disk") == 0)
			r = check_disk(&vs, h, label);
		else if (strcmp(l->type, "display") == 0)
			r = check_display(&vs, h);
		if (!r && strcmp(l->type, "disk") == 0)
			r = check_unique(&vs, h, "file", vs.disks, &vs.ndisks, false,
					 "a disk image can be attached once");
	}
	if (!r) {
		long pos[VM_IDE_DRIVES];

		r = vc_place_drives(cfg, pos, err);
	}
	return r;
}
