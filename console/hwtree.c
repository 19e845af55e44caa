/* The Settings window's hardware tree read from a VM's vmconfig (no
 * terminal): which items there are, what they say, and the rules of what a
 * running VM lets change. Edits and saving are in hwtree_edit.c. */
#include "console/hwtree.h"

#include "hypervisor/fileio.h"
#include "hypervisor/vmspec.h"
#include "vmconfig/schema.h"
#include "vmconfig/vmconfig.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

enum hw_mode hwtree_mode(enum vm_state s)
{
	switch (s) {
	case VM_OFF:
	case VM_CRASHED:
		return HW_MODE_OFF;
	case VM_RUNNING:
	case VM_PAUSED:
		return HW_MODE_LIVE;
	default:
		return HW_MODE_LOCKED;
	}
}

bool hwtree_may_change(enum hw_mode mode, const char *section, const char *key, char *why,
		       size_t whylen)
{
	bool ok = mode == HW_MODE_OFF;

	if (mode == HW_MODE_LIVE && key) {
		if (strcmp(section, "dvd") == 0 && strcmp(key, "file") == 0)
			ok = true;
		if (strcmp(section, "nic") == 0 &&
		    (strcmp(key, "switch") == 0 || strcmp(key, "connected") == 0))
			ok = true;
	}
	if (!ok && why)
		snprintf(why, whylen, "%s", HW_LOCKED_MSG);
	return ok;
}

bool hwtree_item_editable(const struct hwtree *t, const struct hw_item *it)
{
	switch (it->kind) {
	case HW_HEADER:
	case HW_IDE:
	case HW_VIRTIO:
		return false;
	case HW_NAME:
		return false; /* the Rename action */
	case HW_ADD:
		return t->mode == HW_MODE_OFF;
	case HW_DVD:
		return hwtree_may_change(t->mode, "dvd", "file", NULL, 0);
	case HW_NIC:
		return hwtree_may_change(t->mode, "nic", "switch", NULL, 0);
	default:
		return t->mode == HW_MODE_OFF;
	}
}

bool hwtree_item_removable(const struct hwtree *t, const struct hw_item *it, char *why,
			   size_t whylen)
{
	bool kind_ok = it->kind == HW_DISK || it->kind == HW_DVD || it->kind == HW_NIC ||
		       (it->kind == HW_COM && it->exists);

	if (!kind_ok) {
		snprintf(why, whylen, "Only drives, network adapters and COM ports can be removed");
		return false;
	}
	return hwtree_may_change(t->mode, it->section, NULL, why, whylen);
}

char *hwtree_read_file(const char *path, int *err)
{
	char *text;
	size_t len;

	*err = file_read_whole(path, VMCONFIG_MAX_SIZE, &text, &len);
	return text;
}

int hwtree_open(struct hwtree *t, const char *vm, enum hw_mode mode, char *msg, size_t msglen)
{
	struct vmconfig_error err = {0};
	int r;

	memset(t, 0, sizeof(*t));
	snprintf(t->vm, sizeof(t->vm), "%s", vm);
	t->mode = mode;
	if (!vmstore_exists(vm)) {
		snprintf(msg, msglen, "VM '%s' is not in the store (osio list shows the VMs)", vm);
		return -ENOENT;
	}
	r = vmstore_vmconfig(vm, t->path, sizeof(t->path));
	if (r < 0) {
		snprintf(msg, msglen, "VM '%s': %s", vm, strerror(-r));
		return r;
	}
	t->base = hwtree_read_file(t->path, &r);
	if (!t->base) {
		snprintf(msg, msglen, "%s: %s", t->path, strerror(-r));
		return r;
	}
	t->cfg = vmconfig_parse(t->base, strlen(t->base), t->path, &err);
	if (!t->cfg) {
		vmconfig_error_format(&err, msg, msglen);
		free(t->base);
		t->base = NULL;
		return -EINVAL;
	}
	hwtree_rebuild(t);
	return 0;
}

void hwtree_close(struct hwtree *t)
{
	vmconfig_free(t->cfg);
	free(t->base);
	t->cfg = NULL;
	t->base = NULL;
}

const char *hwtree_get(const struct hwtree *t, const struct hw_item *it, const char *key)
{
	if (!it->section[0])
		return NULL;
	return vmconfig_get(t->cfg, it->section, it->name[0] ? it->name : NULL, key);
}

const char *hwtree_value(const struct hwtree *t, const char *section, const char *name,
			 const char *key)
{
	const char *v = vmconfig_get(t->cfg, section, name && name[0] ? name : NULL, key);
	const struct vmconfig_section_info *s;
	const struct vmconfig_key_info *k;

	if (v)
		return v;
	s = vmconfig_schema_section(section);
	k = s ? vmconfig_schema_key(s, key) : NULL;
	return k && k->def ? k->def : "";
}

/* "2 GiB", "512 MiB", "1.5 GiB". */
static void format_bytes(uint64_t b, char *buf, size_t size)
{
	static const char *const units[] = {"bytes", "KiB", "MiB", "GiB", "TiB"};
	unsigned u = 0;
	double v = (double)b;

	while (v >= 1024 && u < 4) {
		v /= 1024;
		u++;
	}
	if (v == (double)(uint64_t)v)
		snprintf(buf, size, "%llu %s", (unsigned long long)v, units[u]);
	else
		snprintf(buf, size, "%.1f %s", v, units[u]);
}

static const char *base_name(const char *path)
{
	const char *s = strrchr(path, '/');
	return s && s[1] ? s + 1 : path;
}

static struct hw_item *add(struct hwtree *t, enum hw_kind kind, unsigned depth, const char *label)
{
	struct hw_item *it;

	if (t->nitems == HW_MAX_ITEMS)
		return NULL;
	it = &t->items[t->nitems++];
	memset(it, 0, sizeof(*it));
	it->kind = kind;
	it->depth = depth;
	it->ide = -1;
	snprintf(it->label, sizeof(it->label), "%.39s", label);
	return it;
}

static void set_section(struct hw_item *it, const char *section, const char *name, bool exists)
{
	snprintf(it->section, sizeof(it->section), "%s", section);
	snprintf(it->name, sizeof(it->name), "%s", name ? name : "");
	it->exists = exists;
}

static void drive_item(struct hwtree *t, const char *type, const char *name, int ide,
		       unsigned depth)
{
	bool dvd = strcmp(type, "dvd") == 0;
	struct hw_item *it =
	    add(t, dvd ? HW_DVD : HW_DISK, depth, dvd ? "DVD Drive" : "Hard Drive");
	const char *file;

	if (!it)
		return;
	set_section(it, type, name, true);
	it->ide = ide;
	file = hwtree_get(t, it, "file");
	snprintf(it->value, sizeof(it->value), "%s",
		 file && file[0] ? base_name(file)
		 : dvd		 ? "None"
				 : "(no file)");
}

int hwtree_ide_positions(const struct hwtree *t, char names[4][72], const char *types[4])
{
	struct vmconfig_error err;
	struct vm_spec *spec = malloc(sizeof(*spec));

	for (unsigned i = 0; i < VM_IDE_DRIVES; i++) {
		names[i][0] = '\0';
		types[i] = NULL;
	}
	if (!spec)
		return -ENOMEM;
	vm_spec_defaults(spec);
	if (vmconfig_to_spec(t->cfg, spec, &err) < 0) {
		free(spec);
		return -EINVAL;
	}
	for (unsigned i = 0; i < VM_IDE_DRIVES; i++) {
		if (spec->ide[i].media == DRIVE_NONE)
			continue;
		types[i] = spec->ide[i].media == DRIVE_DVD ? "dvd" : "disk";
		snprintf(names[i], 72, "%s", spec->ide[i].name);
	}
	free(spec);
	return 0;
}

int hwtree_free_ide(const struct hwtree *t)
{
	char names[4][72];
	const char *types[4];

	if (hwtree_ide_positions(t, names, types) < 0)
		return -1;
	for (int i = 0; i < VM_IDE_DRIVES; i++)
		if (!types[i])
			return i;
	return -1;
}

static void hardware(struct hwtree *t)
{
	char names[4][72], buf[64];
	const char *types[4];
	const char *kernel = vmconfig_get(t->cfg, "boot", NULL, "kernel");
	struct hw_item *it;
	uint64_t mem = 0;

	add(t, HW_HEADER, 0, "Hardware");
	add(t, HW_ADD, 1, "Add Hardware");
	if ((it = add(t, HW_FIRMWARE, 1, "Firmware"))) {
		set_section(it, "boot", NULL, vmconfig_count(t->cfg, "boot") > 0);
		if (kernel)
			snprintf(it->value, sizeof(it->value), "kernel %s", base_name(kernel));
		else
			snprintf(it->value, sizeof(it->value), "%s",
				 hwtree_value(t, "boot", NULL, "order"));
	}
	if ((it = add(t, HW_MEMORY, 1, "Memory"))) {
		set_section(it, "vm", NULL, true);
		vmconfig_parse_size(hwtree_value(t, "vm", NULL, "memory"), &mem, NULL, 0);
		format_bytes(mem, it->value, sizeof(it->value));
	}
	if ((it = add(t, HW_PROCESSOR, 1, "Processor"))) {
		const char *cpus = hwtree_value(t, "vm", NULL, "cpus");

		set_section(it, "vm", NULL, true);
		snprintf(it->value, sizeof(it->value), "%s virtual processor%s", cpus,
			 strcmp(cpus, "1") ? "s" : "");
	}
	hwtree_ide_positions(t, names, types);
	for (unsigned c = 0; c < 2; c++) {
		snprintf(buf, sizeof(buf), "IDE Controller %u", c);
		if ((it = add(t, HW_IDE, 1, buf)))
			it->port = c;
		for (unsigned l = 0; l < 2; l++)
			if (types[c * 2 + l])
				drive_item(t, types[c * 2 + l], names[c * 2 + l], (int)(c * 2 + l),
					   2);
	}
	add(t, HW_VIRTIO, 1, "Virtio Storage");
	for (unsigned i = 0; i < vmconfig_count(t->cfg, "disk"); i++) {
		const char *name = vmconfig_section_name(t->cfg, "disk", i);
		const char *bus = vmconfig_get(t->cfg, "disk", name[0] ? name : NULL, "bus");

		if (bus && strcasecmp(bus, "virtio") == 0)
			drive_item(t, "disk", name, -1, 2);
	}
	for (unsigned i = 0; i < vmconfig_count(t->cfg, "nic"); i++) {
		const char *name = vmconfig_section_name(t->cfg, "nic", i);
		const char *conn;
		bool b = true;

		if (!(it = add(t, HW_NIC, 1, "Network Adapter")))
			break;
		set_section(it, "nic", name, true);
		conn = hwtree_get(t, it, "connected");
		if (conn)
			vmconfig_parse_bool(conn, &b, NULL, 0);
		snprintf(it->value, sizeof(it->value), "%s",
			 b ? hwtree_value(t, "nic", name, "switch") : "Not connected");
	}
	for (unsigned p = 0; p < 4; p++) {
		char port[8];

		snprintf(buf, sizeof(buf), "COM %u", p + 1);
		snprintf(port, sizeof(port), "com%u", p + 1);
		if (!(it = add(t, HW_COM, 1, buf)))
			break;
		set_section(it, "serial", port,
			    vmconfig_get(t->cfg, "serial", port, "backend") ||
				vmconfig_line(t->cfg, "serial", port, NULL));
		it->port = p;
		if (it->exists || p == 0)
			snprintf(it->value, sizeof(it->value), "%s",
				 hwtree_value(t, "serial", port, "backend"));
		else
			snprintf(it->value, sizeof(it->value), "None");
	}
	if ((it = add(t, HW_DISPLAY, 1, "Display"))) {
		set_section(it, "display", NULL, vmconfig_count(t->cfg, "display") > 0);
		snprintf(it->value, sizeof(it->value), "%s, VNC %s",
			 hwtree_value(t, "display", NULL, "adapter"),
			 hwtree_value(t, "display", NULL, "vnc"));
	}
}

static void management(struct hwtree *t)
{
	struct hw_item *it;
	const char *user;

	add(t, HW_HEADER, 0, "Management");
	if ((it = add(t, HW_NAME, 1, "Name"))) {
		set_section(it, "vm", NULL, true);
		memcpy(it->value, t->vm, sizeof(t->vm)); /* both end in a NUL */
	}
	if ((it = add(t, HW_WORKER_USER, 1, "Worker User"))) {
		set_section(it, "vm", NULL, true);
		user = vmconfig_get(t->cfg, "vm", NULL, "worker_user");
		snprintf(it->value, sizeof(it->value), "%s", user ? user : "default");
	}
	if ((it = add(t, HW_ACTIONS, 1, "Automatic Actions"))) {
		set_section(it, "vm", NULL, true);
		snprintf(it->value, sizeof(it->value), "reboot: %s",
			 hwtree_value(t, "vm", NULL, "on_reboot"));
	}
	/* Hyper-V's Automatic Start and Stop Actions: what osio.service
	 * (osio autostart / autostop) does with the VM at boot and shutdown. */
	if ((it = add(t, HW_AUTOSTART, 1, "Automatic Start Action"))) {
		bool on = false;
		set_section(it, "vm", NULL, true);
		vmconfig_parse_bool(hwtree_value(t, "vm", NULL, "autostart"), &on, NULL, 0);
		if (on)
			snprintf(it->value, sizeof(it->value), "start (order %s, delay %s s)",
				 hwtree_value(t, "vm", NULL, "autostart_order"),
				 hwtree_value(t, "vm", NULL, "autostart_delay"));
		else
			snprintf(it->value, sizeof(it->value), "nothing");
	}
	if ((it = add(t, HW_AUTOSTOP, 1, "Automatic Stop Action"))) {
		set_section(it, "vm", NULL, true);
		snprintf(it->value, sizeof(it->value), "%s",
			 hwtree_value(t, "vm", NULL, "stop_action"));
	}
	if ((it = add(t, HW_SERVICES, 1, "Integration Services"))) {
		set_section(it, "vm", NULL, true);
		snprintf(it->value, sizeof(it->value), "rng: %s",
			 hwtree_value(t, "vm", NULL, "rng"));
	}
}

void hwtree_rebuild(struct hwtree *t)
{
	t->nitems = 0;
	hardware(t);
	management(t);
}

void hwtree_nic_id(const struct hwtree *t, const struct hw_item *it, char *out, size_t outlen)
{
	unsigned index = 0, n = vmconfig_count(t->cfg, "nic");

	if (it->name[0]) {
		snprintf(out, outlen, "%s", it->name);
		return;
	}
	/* An unnamed [nic] goes by "nicI", I its place among the adapters,
	 * or the next free "nicK" (vmconfig's rule). */
	while (index < n && vmconfig_section_name(t->cfg, "nic", index)[0])
		index++;
	for (unsigned k = index;; k++) {
		snprintf(out, outlen, "nic%u", k);
		if (!vmconfig_line(t->cfg, "nic", out, NULL))
			return;
	}
}

#define LINE(...)                                                                                  \
	do {                                                                                       \
		if (n < max)                                                                       \
			snprintf(lines[n++], 256, __VA_ARGS__);                                    \
	} while (0)

static const char *ide_where(int ide, char *buf, size_t size)
{
	snprintf(buf, size, "IDE controller %d, location %d (%s)", ide / 2, ide % 2,
		 ide % 2 ? "slave" : "master");
	return buf;
}

unsigned hwtree_summary(const struct hwtree *t, const struct hw_item *it, char lines[][256],
			unsigned max)
{
	const char *nm = it->name[0] ? it->name : NULL, *v;
	char buf[128];
	unsigned n = 0;
	uint64_t mem = 0;

	switch (it->kind) {
	case HW_HEADER:
		LINE("%s of VM '%s'.", it->label, t->vm);
		LINE("Select an item, then press Enter to change it.");
		break;
	case HW_ADD:
		LINE("Add a hard drive, a DVD drive or a network adapter.");
		LINE("Press Enter to choose which.");
		break;
	case HW_FIRMWARE:
		if ((v = vmconfig_get(t->cfg, "boot", NULL, "kernel"))) {
			LINE("Boots the kernel %s directly.", v);
			if ((v = vmconfig_get(t->cfg, "boot", NULL, "initrd")))
				LINE("Initrd: %s", v);
			LINE("Command line: %s", hwtree_value(t, "boot", NULL, "append"));
		} else {
			LINE("Firmware: SeaBIOS (BIOS)");
			LINE("Boot order: %s", hwtree_value(t, "boot", NULL, "order"));
			LINE("The BIOS tries these devices from first to last.");
		}
		break;
	case HW_MEMORY:
		v = hwtree_value(t, "vm", NULL, "memory");
		vmconfig_parse_size(v, &mem, NULL, 0);
		format_bytes(mem, buf, sizeof(buf));
		LINE("Startup RAM: %s (%s)", buf, v);
		LINE("Huge pages: %s", hwtree_value(t, "vm", NULL, "hugepages"));
		break;
	case HW_PROCESSOR:
		LINE("Virtual processors: %s", hwtree_value(t, "vm", NULL, "cpus"));
		break;
	case HW_IDE:
		LINE("IDE controller %u: location 0 (master) and 1 (slave).", it->port);
		for (unsigned i = 0; i < t->nitems; i++) {
			const struct hw_item *d = &t->items[i];
			if (d->ide >= 0 && (unsigned)d->ide / 2 == it->port)
				LINE("Location %d: %s, %s", d->ide % 2, d->label, d->value);
		}
		break;
	case HW_VIRTIO:
		LINE("Hard disks on virtio-blk: faster than IDE; the guest needs virtio drivers.");
		break;
	case HW_DISK:
		LINE("Hard drive%s%s", nm ? " " : "", nm ? nm : "");
		LINE("Image: %s", hwtree_value(t, "disk", nm, "file"));
		if (it->ide >= 0)
			LINE("Attached to: %s", ide_where(it->ide, buf, sizeof(buf)));
		else
			LINE("Attached to: virtio");
		LINE("Format: %s", hwtree_value(t, "disk", nm, "format"));
		LINE("Read-only: %s", hwtree_value(t, "disk", nm, "readonly"));
		break;
	case HW_DVD:
		v = hwtree_value(t, "dvd", nm, "file");
		LINE("DVD drive%s%s", nm ? " " : "", nm ? nm : "");
		LINE("Disc: %s", v[0] ? v : "none (the drive is empty)");
		if (it->ide >= 0)
			LINE("Attached to: %s", ide_where(it->ide, buf, sizeof(buf)));
		break;
	case HW_NIC:
		hwtree_nic_id(t, it, buf, sizeof(buf));
		LINE("Network adapter %s", buf);
		LINE("Model: %s", hwtree_value(t, "nic", nm, "model"));
		LINE("Virtual switch: %s", hwtree_value(t, "nic", nm, "switch"));
		LINE("Connected at start: %s", hwtree_value(t, "nic", nm, "connected"));
		v = hwtree_value(t, "nic", nm, "mac");
		LINE("MAC address: %s", v[0] ? v : "given at the first start");
		if ((v = vmconfig_get(t->cfg, "nic", nm, "forward")))
			LINE("Port forwards: %s", v);
		break;
	case HW_COM:
		if (!it->exists && it->port > 0) {
			LINE("COM %u is not present.", it->port + 1);
			break;
		}
		v = hwtree_value(t, "serial", it->name, "backend");
		LINE("COM %u: %s", it->port + 1,
		     strcmp(v, "stdio") == 0 ? "stdio (osio serial connects to it)" : v);
		if ((v = vmconfig_get(t->cfg, "serial", it->name, "path")))
			LINE("Path: %s", v);
		break;
	case HW_DISPLAY:
		LINE("Adapter: %s", hwtree_value(t, "display", NULL, "adapter"));
		LINE("VNC: %s", hwtree_value(t, "display", NULL, "vnc"));
		LINE("Keyboard layout: %s", hwtree_value(t, "display", NULL, "keymap"));
		break;
	case HW_NAME:
		LINE("Name: %s", t->vm);
		break;
	case HW_WORKER_USER:
		v = vmconfig_get(t->cfg, "vm", NULL, "worker_user");
		LINE("Worker user: %s", v ? v : "default (osio when it exists)");
		LINE("Started as root, the worker becomes this user.");
		break;
	case HW_ACTIONS:
		LINE("When the guest reboots: %s", hwtree_value(t, "vm", NULL, "on_reboot"));
		LINE("On a host disk error: %s", hwtree_value(t, "vm", NULL, "on_disk_error"));
		break;
	case HW_SERVICES:
		LINE("Entropy source (rng): %s", hwtree_value(t, "vm", NULL, "rng"));
		break;
	case HW_AUTOSTART:
		LINE("Start when the host starts: %s", hwtree_value(t, "vm", NULL, "autostart"));
		LINE("Order: %s (lower first)", hwtree_value(t, "vm", NULL, "autostart_order"));
		LINE("Delay: %s s", hwtree_value(t, "vm", NULL, "autostart_delay"));
		LINE("osio.service runs osio autostart at boot.");
		break;
	case HW_AUTOSTOP:
		LINE("When the host shuts down: %s", hwtree_value(t, "vm", NULL, "stop_action"));
		LINE("Shut down waits %s s, then saves.",
		     hwtree_value(t, "vm", NULL, "stop_timeout"));
		break;
	}
	if (it->kind != HW_HEADER && it->kind != HW_IDE && it->kind != HW_VIRTIO &&
	    !hwtree_item_editable(t, it))
		LINE("%s.",
		     it->kind == HW_NAME ? "Use the Rename action to change it" : HW_LOCKED_MSG);
	return n;
}
