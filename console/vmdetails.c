/* The details pane's data (vmdetails.h): a store VM's vmconfig read into
 * memory, processors, drives with their images' formats and sizes, network
 * adapters with their switches' types, and its checkpoint tree in display
 * order. */
#include "console/vmdetails.h"

#include "devices/block/block.h"
#include "devices/net/net.h"
#include "devices/net/switchdef.h"
#include "hypervisor/checkpoint.h"
#include "hypervisor/vmspec.h"
#include "hypervisor/vmstore.h"
#include "vmconfig/vmconfig.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

void vmd_format_size(uint64_t bytes, char *buf, size_t size)
{
	static const char *const units[] = {"bytes", "KiB", "MiB", "GiB", "TiB", "PiB", "EiB"};
	unsigned u = 0;
	double v = (double)bytes;

	while (v >= 1024 && u + 1 < sizeof(units) / sizeof(units[0])) {
		v /= 1024;
		u++;
	}
	/* One decimal, rounded; 1023.96 MiB is 1 GiB. */
	uint64_t tenths = (uint64_t)(v * 10 + 0.5);
	if (tenths >= 10240 && u + 1 < sizeof(units) / sizeof(units[0])) {
		u++;
		tenths = 10;
	}
	if (u == 0)
		snprintf(buf, size, "%llu %s", (unsigned long long)bytes,
			 bytes == 1 ? "byte" : units[0]);
	else if (tenths % 10 == 0)
		snprintf(buf, size, "%llu %s", (unsigned long long)(tenths / 10), units[u]);
	else
		snprintf(buf, size, "%llu.%llu %s", (unsigned long long)(tenths / 10),
			 (unsigned long long)(tenths % 10), units[u]);
}

void vmd_format_uptime(uint64_t ns, char *buf, size_t size)
{
	uint64_t s = ns / 1000000000ull;
	uint64_t d = s / 86400, h = s / 3600 % 24, m = s / 60 % 60;

	if (ns == 0)
		snprintf(buf, size, "%s", "");
	else if (d)
		snprintf(buf, size, "%llu d %02llu:%02llu", (unsigned long long)d,
			 (unsigned long long)h, (unsigned long long)m);
	else
		snprintf(buf, size, "%llu:%02llu:%02llu", (unsigned long long)h,
			 (unsigned long long)m, (unsigned long long)(s % 60));
}

/* --- the vmconfig ------------------------------------------------------------------ */

static void copy(char *dst, size_t size, const char *src)
{
	snprintf(dst, size, "%s", src ? src : "");
}

/* What the image file says of itself: format, virtual size, parent. */
static void probe_disk(struct vmd_disk *v, const char *format)
{
	struct block_dev *bd;
	struct stat st;

	if (stat(v->file, &st) == 0)
		v->used = (uint64_t)st.st_blocks * 512;
	if (block_open(v->file, format && format[0] ? format : NULL, BLOCK_RDONLY | BLOCK_SHARE,
		       &bd, NULL, 0) < 0)
		return;
	copy(v->format, sizeof(v->format), block_format(bd));
	v->size = block_size(bd);
	v->differencing = block_backing(bd) != NULL;
	block_close(bd);
}

static void add_disk(struct vm_details *d, const struct drive_spec *s, const char *where)
{
	struct vmd_disk *v;

	if (d->ndisks >= VMD_MAX_DISKS)
		return;
	v = &d->disks[d->ndisks++];
	copy(v->section, sizeof(v->section), s->name);
	copy(v->where, sizeof(v->where), where);
	copy(v->file, sizeof(v->file), s->path);
	v->readonly = s->readonly;
	probe_disk(v, s->format);
}

static void add_dvd(struct vm_details *d, const struct drive_spec *s, const char *where)
{
	struct vmd_dvd *v;

	if (d->ndvds >= VMD_MAX_DVDS)
		return;
	v = &d->dvds[d->ndvds++];
	copy(v->section, sizeof(v->section), s->name);
	copy(v->where, sizeof(v->where), where);
	copy(v->file, sizeof(v->file), s->path);
}

static void add_nic(struct vm_details *d, const struct nic_spec *n)
{
	struct vmd_nic *v;
	struct net_switch_cfg sw;
	char err[512];

	if (d->nnics >= VMD_MAX_NICS)
		return;
	v = &d->nics[d->nnics++];
	copy(v->name, sizeof(v->name), n->name);
	copy(v->model, sizeof(v->model), n->model == NIC_VIRTIO ? "virtio" : "e1000");
	if (n->has_mac)
		snprintf(v->mac, sizeof(v->mac), "%02x:%02x:%02x:%02x:%02x:%02x", n->mac[0],
			 n->mac[1], n->mac[2], n->mac[3], n->mac[4], n->mac[5]);
	if (!n->connected)
		return; /* unplugged: no switch */
	copy(v->sw, sizeof(v->sw), n->switch_name);
	if (switchdef_load(n->switch_name, &sw, err, sizeof(err)) < 0)
		return;
	if (sw.kind != NET_SWITCH_NONE && sw.kind != NET_SWITCH_FD)
		copy(v->sw_type, sizeof(v->sw_type), net_switch_kind_name(sw.kind));
}

static void fill_boot(struct vm_details *d, const struct vmconfig *cfg, const struct vm_spec *s)
{
	static const char *const dev[] = {
	    [BOOT_DVD] = "dvd", [BOOT_DISK] = "disk", [BOOT_NETWORK] = "network"};
	const char *kernel = vmconfig_get(cfg, "boot", NULL, "kernel");
	size_t used = 0;

	if (kernel && kernel[0]) {
		const char *base = strrchr(kernel, '/');
		copy(d->firmware, sizeof(d->firmware), "kernel");
		snprintf(d->boot, sizeof(d->boot), "kernel %s", base ? base + 1 : kernel);
		return;
	}
	copy(d->firmware, sizeof(d->firmware), "SeaBIOS (BIOS)");
	for (unsigned i = 0; i < s->boot_order_n && i < VM_BOOT_DEVICES; i++) {
		unsigned b = s->boot_order[i];
		int n = snprintf(d->boot + used, sizeof(d->boot) - used, "%s%s", i ? ", " : "",
				 b < sizeof(dev) / sizeof(dev[0]) && dev[b] ? dev[b] : "?");
		if (n < 0 || (size_t)n >= sizeof(d->boot) - used)
			break;
		used += (size_t)n;
	}
}

/* d from the parsed vmconfig (validated: to_spec cannot fail on rules). */
static int fill_from_config(struct vm_details *d, const struct vmconfig *cfg)
{
	struct vmconfig_error e;
	struct vm_spec *s = malloc(sizeof(*s));
	char where[32];
	const char *vnc;

	if (!s)
		return -ENOMEM;
	vm_spec_defaults(s);
	if (vmconfig_to_spec(cfg, s, &e) < 0) {
		vmconfig_error_format(&e, d->error, sizeof(d->error));
		free(s);
		return 0;
	}
	d->memory = s->memory;
	d->cpus = s->cpus;
	fill_boot(d, cfg, s);
	vnc = vmconfig_get(cfg, "display", NULL, "vnc");
	if (!vnc || !vnc[0]) {
		const char *adapter = vmconfig_get(cfg, "display", NULL, "adapter");
		vnc = adapter && strcmp(adapter, "none") == 0 ? "none" : "auto";
	}
	copy(d->vnc, sizeof(d->vnc), vnc);
	/* Hard disks first (IDE by position, then virtio), then DVD drives. */
	for (unsigned i = 0; i < VM_IDE_DRIVES; i++) {
		snprintf(where, sizeof(where), "IDE %u:%u", i / 2, i % 2);
		if (s->ide[i].media == DRIVE_DISK)
			add_disk(d, &s->ide[i], where);
	}
	for (unsigned i = 0; i < s->nvirtio && i < VM_VIRTIO_DISKS; i++) {
		snprintf(where, sizeof(where), "virtio %u", i);
		add_disk(d, &s->virtio[i], where);
	}
	for (unsigned i = 0; i < VM_IDE_DRIVES; i++) {
		snprintf(where, sizeof(where), "IDE %u:%u", i / 2, i % 2);
		if (s->ide[i].media == DRIVE_DVD)
			add_dvd(d, &s->ide[i], where);
	}
	for (unsigned i = 0; i < s->nnics && i < VM_NICS_MAX; i++)
		add_nic(d, &s->nics[i]);
	for (unsigned i = 0; i < VM_SERIAL_PORTS; i++)
		d->nserial += s->serial[i].present;
	free(s);
	return 0;
}

/* --- the checkpoint tree ---------------------------------------------------------- */

/* The checkpoint c's parent as lists show it ("" at the root). */
static const char *shown_parent_id(const struct ckpt_tree *t, const struct ckpt *c)
{
	const struct ckpt *p = c->parent[0] ? ckpt_tree_shown_parent(t, c->parent) : NULL;

	return p ? p->id : "";
}

static void add_now(struct vm_details *d, unsigned depth)
{
	struct vmd_ckpt *v = &d->ckpts[d->nckpts++];

	memset(v, 0, sizeof(*v));
	copy(v->label, sizeof(v->label), "Now");
	v->depth = depth;
	v->now = true;
}

/* The children of parent (oldest first), each followed by its subtree;
 * Now last among its checkpoint's children. */
static void emit(struct vm_details *d, const struct ckpt_tree *t, const char *parent,
		 unsigned depth, bool *placed)
{
	bool *done = calloc(t->n ? t->n : 1, sizeof(*done));

	if (!done)
		return;
	for (;;) {
		const struct ckpt *next = NULL;
		unsigned at = 0;

		for (unsigned i = 0; i < t->n; i++) {
			const struct ckpt *c = &t->c[i];
			if (done[i] || c->deleted || strcmp(shown_parent_id(t, c), parent) != 0)
				continue;
			if (!next || c->created < next->created) {
				next = c;
				at = i;
			}
		}
		if (!next || d->nckpts >= VMD_MAX_CKPTS)
			break;
		done[at] = true;
		struct vmd_ckpt *v = &d->ckpts[d->nckpts++];
		memset(v, 0, sizeof(*v));
		copy(v->id, sizeof(v->id), next->id);
		copy(v->label, sizeof(v->label), next->label);
		v->created = next->created;
		v->has_state = next->has_state;
		v->depth = depth;
		emit(d, t, next->id, depth + 1, placed);
	}
	free(done);
	if (!*placed && strcmp(parent, d->now_parent) == 0) {
		add_now(d, depth);
		*placed = true;
	}
}

static void fill_checkpoints(struct vm_details *d, const char *name)
{
	char dir[PATH_MAX], err[512];
	struct ckpt_vm vm = {.name = name, .dir = dir, .vmconfig = d->vmconfig};
	struct ckpt_tree t = {0};
	bool any = false, placed = false;

	if (vmstore_path(name, NULL, dir, sizeof(dir)) < 0)
		return;
	if (ckpt_load_tree(&vm, &t, err, sizeof(err)) < 0) {
		if (!d->error[0])
			copy(d->error, sizeof(d->error), err);
		return;
	}
	for (unsigned i = 0; i < t.n; i++)
		any |= !t.c[i].deleted;
	if (any) {
		const struct ckpt *now = t.now[0] ? ckpt_tree_shown_parent(&t, t.now) : NULL;
		copy(d->now_parent, sizeof(d->now_parent), now ? now->id : "");
		emit(d, &t, "", 0, &placed);
		if (!placed)
			add_now(d, 0);
	}
	ckpt_tree_free(&t);
}

int vmdetails_load(const char *name, struct vm_details *d)
{
	struct vmconfig_error e;
	struct vmconfig *cfg;
	int r;

	memset(d, 0, sizeof(*d));
	if (vmstore_check_name(name, NULL, 0) < 0 || !vmstore_exists(name))
		return -ENOENT;
	copy(d->name, sizeof(d->name), name);
	if ((r = vmstore_vmconfig(name, d->vmconfig, sizeof(d->vmconfig))) < 0)
		return r;
	cfg = vmconfig_load(d->vmconfig, &e);
	if (!cfg) {
		vmconfig_error_format(&e, d->error, sizeof(d->error));
	} else {
		r = fill_from_config(d, cfg);
		vmconfig_free(cfg);
		if (r < 0)
			return r;
	}
	fill_checkpoints(d, name);
	return 0;
}
