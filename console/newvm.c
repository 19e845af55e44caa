/* The console wizards' data without a terminal: the checks of each page of
 * the New VM and New Virtual Hard Disk wizards, the osio commands they turn
 * into, and what Edit Disk reads from `osio disk info --json`. */
#include "console/newvm.h"

#include "devices/net/switchdef.h"
#include "hypervisor/vmstore.h"
#include "vmconfig/vmconfig.h"

#include <errno.h>
#include <fcntl.h>
#include <jansson.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define MAX_DISK_SIZE (64ull << 40) /* VHDX's largest disk */

static int fail(char *why, size_t whylen, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static int fail(char *why, size_t whylen, const char *fmt, ...)
{
	va_list ap;

	if (why && whylen) {
		va_start(ap, fmt);
		vsnprintf(why, whylen, fmt, ap);
		va_end(ap);
	}
	return -EINVAL;
}

static void human_size(uint64_t bytes, char *buf, size_t size)
{
	static const char *const units[] = {"bytes", "KiB", "MiB", "GiB", "TiB"};
	unsigned u = 0;
	double v = (double)bytes;

	while (v >= 1024 && u < 4) {
		v /= 1024;
		u++;
	}
	if (u == 0)
		snprintf(buf, size, "%llu bytes", (unsigned long long)bytes);
	else if (v == (double)(uint64_t)v)
		snprintf(buf, size, "%llu %s", (unsigned long long)v, units[u]);
	else
		snprintf(buf, size, "%.1f %s", v, units[u]);
}

void newvm_init(struct newvm *w)
{
	long pages = sysconf(_SC_PHYS_PAGES), page = sysconf(_SC_PAGESIZE);
	long cpus = sysconf(_SC_NPROCESSORS_ONLN);

	memset(w, 0, sizeof(*w));
	w->host_memory = pages > 0 && page > 0 ? (uint64_t)pages * (uint64_t)page : 1ull << 30;
	w->host_cpus = cpus > 0 ? (unsigned)cpus : 1;
	snprintf(w->memory, sizeof(w->memory), "%s", NEWVM_DEFAULT_MEMORY);
	snprintf(w->cpus, sizeof(w->cpus), "%u", w->host_cpus >= 2 ? 2 : 1);
	w->nic = NEWVM_NIC_E1000;
	snprintf(w->sw, sizeof(w->sw), "default");
	w->disk = NEWVM_DISK_NEW;
	snprintf(w->disk_size, sizeof(w->disk_size), "%s", NEWVM_DEFAULT_DISK);
	w->bus = NEWVM_BUS_IDE;
	w->install = NEWVM_INSTALL_ISO;
	w->start = true;
}

int newvm_check_name(const char *name, char *why, size_t whylen)
{
	char err[256];

	if (!name[0])
		return fail(why, whylen, "Give the virtual machine a name.");
	if (vmstore_check_name(name, err, sizeof(err)) < 0)
		return fail(why, whylen, "%s", err);
	if (vmstore_exists(name))
		return fail(why, whylen, "A VM named '%s' exists already; choose another name.",
			    name);
	return 0;
}

int newvm_check_memory(const char *s, uint64_t host_memory, uint64_t *bytes, char *why,
		       size_t whylen)
{
	char err[256], a[32];
	uint64_t v;

	if (vmconfig_parse_size(s, &v, err, sizeof(err)) < 0)
		return fail(why, whylen, "Memory '%s': %s.", s, err);
	if (v < NEWVM_MIN_MEMORY)
		return fail(why, whylen, "Memory '%s' is too small: give at least 32M.", s);
	if (v > host_memory) {
		human_size(host_memory, a, sizeof(a));
		return fail(why, whylen, "Memory '%s' is more than this host has (%s); give less.",
			    s, a);
	}
	if (vmconfig_check_value("vm", "memory", s, err, sizeof(err)) < 0)
		return fail(why, whylen, "%s", err);
	if (bytes)
		*bytes = v;
	return 0;
}

int newvm_check_cpus(const char *s, unsigned host_cpus, char *why, size_t whylen)
{
	char err[256];
	uint64_t v;

	if (vmconfig_parse_uint(s, 1, host_cpus, &v, err, sizeof(err)) < 0)
		return fail(why, whylen,
			    "Processors: give a number from 1 to %u (this host's CPUs).",
			    host_cpus);
	if (vmconfig_check_value("vm", "cpus", s, err, sizeof(err)) < 0)
		return fail(why, whylen, "%s", err);
	return 0;
}

int newvm_check_disk_size(const char *s, uint64_t *bytes, char *why, size_t whylen)
{
	char err[256];
	uint64_t v;

	if (vmconfig_parse_size(s, &v, err, sizeof(err)) < 0)
		return fail(why, whylen, "Size '%s': %s.", s, err);
	if (v < (1ull << 20))
		return fail(why, whylen, "Size '%s' is too small for a disk: give at least 1M.", s);
	if (v > MAX_DISK_SIZE)
		return fail(why, whylen, "Size '%s' is larger than a disk can be (64T).", s);
	if (bytes)
		*bytes = v;
	return 0;
}

int newvm_check_disk_file(const char *path, char *why, size_t whylen)
{
	struct stat st;

	if (!path[0])
		return fail(why, whylen,
			    "Choose the virtual hard disk (Browse), or pick another option.");
	if (stat(path, &st) < 0)
		return fail(why, whylen, "%s: %s; choose an existing virtual hard disk.", path,
			    strerror(errno));
	if (!S_ISREG(st.st_mode) && !S_ISBLK(st.st_mode))
		return fail(why, whylen,
			    "%s is not a disk image file; choose a .vhdx, .vhd, "
			    ".qcow2, .img or .raw file.",
			    path);
	if (access(path, R_OK | W_OK) < 0)
		return fail(why, whylen,
			    "%s: %s; the VM writes to its disk: make the file readable and "
			    "writable for you.",
			    path, strerror(errno));
	return 0;
}

int newvm_check_iso(const char *path, char *why, size_t whylen)
{
	struct stat st;
	int fd;

	if (!path[0])
		return fail(why, whylen,
			    "Choose the image file to install from (Browse), or pick another "
			    "installation option.");
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return fail(why, whylen, "%s: %s; choose a readable ISO image.", path,
			    strerror(errno));
	if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode)) {
		close(fd);
		return fail(why, whylen, "%s is not a file; choose an ISO image (.iso).", path);
	}
	close(fd);
	return 0;
}

static int set_bad(enum newvm_field *bad, enum newvm_field f, int r)
{
	if (bad)
		*bad = r ? f : NEWVM_F_NONE;
	return r;
}

int newvm_check_page(const struct newvm *w, enum newvm_page page, char *why, size_t whylen,
		     enum newvm_field *bad)
{
	char err[512];
	struct net_switch_cfg *sw;
	int r;

	set_bad(bad, NEWVM_F_NONE, 0);
	switch (page) {
	case NEWVM_PAGE_NAME:
		return set_bad(bad, NEWVM_F_NAME, newvm_check_name(w->name, why, whylen));
	case NEWVM_PAGE_MEMORY:
		return set_bad(bad, NEWVM_F_MEMORY,
			       newvm_check_memory(w->memory, w->host_memory, NULL, why, whylen));
	case NEWVM_PAGE_CPUS:
		return set_bad(bad, NEWVM_F_CPUS,
			       newvm_check_cpus(w->cpus, w->host_cpus, why, whylen));
	case NEWVM_PAGE_NETWORK:
		if (w->nic != NEWVM_NIC_E1000 && w->nic != NEWVM_NIC_VIRTIO)
			return set_bad(bad, NEWVM_F_SWITCH,
				       fail(why, whylen, "Choose the adapter: e1000 or virtio."));
		if (!w->sw[0])
			return 0;
		sw = malloc(sizeof(*sw));
		if (!sw)
			return set_bad(bad, NEWVM_F_SWITCH, fail(why, whylen, "Out of memory."));
		r = switchdef_load(w->sw, sw, err, sizeof(err));
		free(sw);
		if (r < 0)
			return set_bad(bad, NEWVM_F_SWITCH, fail(why, whylen, "%s", err));
		return 0;
	case NEWVM_PAGE_DISK:
		if (w->disk == NEWVM_DISK_NEW)
			return set_bad(bad, NEWVM_F_DISK_SIZE,
				       newvm_check_disk_size(w->disk_size, NULL, why, whylen));
		if (w->disk == NEWVM_DISK_EXISTING)
			return set_bad(bad, NEWVM_F_DISK_FILE,
				       newvm_check_disk_file(w->disk_file, why, whylen));
		if (w->disk != NEWVM_DISK_LATER)
			return fail(why, whylen, "Choose one of the hard disk options.");
		return 0;
	case NEWVM_PAGE_INSTALL:
		if (w->install == NEWVM_INSTALL_ISO)
			return set_bad(bad, NEWVM_F_ISO, newvm_check_iso(w->iso, why, whylen));
		if (w->install == NEWVM_INSTALL_NETWORK && !w->sw[0])
			return set_bad(bad, NEWVM_F_NONE,
				       fail(why, whylen,
					    "A network installation needs the adapter on a switch: "
					    "go back to Networking and choose one."));
		if (w->install != NEWVM_INSTALL_LATER && w->install != NEWVM_INSTALL_NETWORK)
			return fail(why, whylen, "Choose one of the installation options.");
		return 0;
	case NEWVM_PAGE_BEGIN:
	case NEWVM_PAGE_GENERATION:
	case NEWVM_PAGE_SUMMARY:
		return 0;
	case NEWVM_PAGE_COUNT:
		break;
	}
	return fail(why, whylen, "No such page.");
}

int newvm_check_all(const struct newvm *w, enum newvm_page *page, char *why, size_t whylen,
		    enum newvm_field *bad)
{
	for (int p = 0; p < NEWVM_PAGE_COUNT; p++) {
		int r = newvm_check_page(w, p, why, whylen, bad);
		if (r) {
			if (page)
				*page = p;
			return r;
		}
	}
	return 0;
}

const char *newvm_boot_order(const struct newvm *w)
{
	if (w->install == NEWVM_INSTALL_ISO)
		return "dvd, disk";
	if (w->install == NEWVM_INSTALL_NETWORK)
		return "network, disk";
	return "disk, dvd";
}

unsigned newvm_create_args(const struct newvm *w, const char **args, unsigned max)
{
	const char *a[24];
	unsigned n = 0;

	a[n++] = "create";
	a[n++] = w->name;
	a[n++] = "--memory";
	a[n++] = w->memory;
	a[n++] = "--cpus";
	a[n++] = w->cpus;
	a[n++] = "--disk";
	a[n++] = w->disk == NEWVM_DISK_NEW ? w->disk_size : "none";
	a[n++] = "--disk-bus";
	a[n++] = w->bus == NEWVM_BUS_VIRTIO ? "virtio" : "ide";
	if (w->install == NEWVM_INSTALL_ISO) {
		a[n++] = "--dvd";
		a[n++] = w->iso;
	}
	a[n++] = "--switch";
	a[n++] = w->sw[0] ? w->sw : "none";
	a[n++] = "--nic-model";
	a[n++] = w->nic == NEWVM_NIC_VIRTIO ? "virtio" : "e1000";
	a[n++] = "--boot";
	a[n++] = newvm_boot_order(w);
	if (n + 1 > max)
		return 0;
	memcpy(args, a, n * sizeof(*a));
	args[n] = NULL;
	return n;
}

static size_t append(char *buf, size_t size, size_t at, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

static size_t append(char *buf, size_t size, size_t at, const char *fmt, ...)
{
	va_list ap;
	int n;

	if (at >= size)
		return at;
	va_start(ap, fmt);
	n = vsnprintf(buf + at, size - at, fmt, ap);
	va_end(ap);
	return n < 0 ? at : at + (size_t)n;
}

void newvm_summary(const struct newvm *w, char *buf, size_t size)
{
	static const char *const bus[] = {"IDE", "virtio"};
	size_t at = 0;

	if (!size)
		return;
	buf[0] = '\0';
	at = append(buf, size, at, "Name: %s\n", w->name);
	at = append(buf, size, at, "Generation: Generation 1 (BIOS, SeaBIOS)\n");
	at = append(buf, size, at, "Memory: %s\n", w->memory);
	at = append(buf, size, at, "Processors: %s\n", w->cpus);
	if (w->sw[0])
		at = append(buf, size, at, "Network: %s adapter on switch '%s'\n",
			    w->nic == NEWVM_NIC_VIRTIO ? "virtio" : "e1000", w->sw);
	else
		at = append(buf, size, at, "Network: Not connected (no adapter)\n");
	if (w->disk == NEWVM_DISK_NEW)
		at = append(buf, size, at, "Hard disk: new %s.vhdx, %s, dynamic, on %s\n", w->name,
			    w->disk_size, bus[w->bus == NEWVM_BUS_VIRTIO]);
	else if (w->disk == NEWVM_DISK_EXISTING)
		at = append(buf, size, at, "Hard disk: %s, on %s\n", w->disk_file,
			    bus[w->bus == NEWVM_BUS_VIRTIO]);
	else
		at = append(buf, size, at, "Hard disk: none (attach one later)\n");
	if (w->install == NEWVM_INSTALL_ISO)
		at = append(buf, size, at, "Install from: %s\n", w->iso);
	else if (w->install == NEWVM_INSTALL_NETWORK)
		at = append(buf, size, at, "Install from: the network (boot from the adapter)\n");
	else
		at = append(buf, size, at, "Install from: later (empty DVD drive)\n");
	at = append(buf, size, at, "Boot order: %s", newvm_boot_order(w));
}

int newvm_attach_disk(const struct newvm *w, char *err, size_t errlen)
{
	char path[PATH_MAX], file[PATH_MAX], msg[1024];
	struct vmconfig_error e;
	struct vmconfig *cfg;
	int fd, r;

	if (!realpath(w->disk_file, file)) {
		r = -errno;
		snprintf(err, errlen, "%s: %s", w->disk_file, strerror(errno));
		return r;
	}
	if ((r = vmstore_vmconfig(w->name, path, sizeof(path))) < 0) {
		snprintf(err, errlen, "VM '%s': %s", w->name, strerror(-r));
		return r;
	}
	if ((r = vmstore_lock(w->name, &fd, err, errlen)) < 0)
		return r;
	cfg = vmconfig_load(path, &e);
	if (!cfg) {
		vmconfig_error_format(&e, err, errlen);
		r = -EINVAL;
		goto out_unlock;
	}
	const char *bus = w->bus == NEWVM_BUS_VIRTIO ? "virtio" : "ide";
	if (vmconfig_set(cfg, "disk", "system", "file", file, &e) < 0 ||
	    vmconfig_set(cfg, "disk", "system", "bus", bus, &e) < 0 ||
	    (w->bus != NEWVM_BUS_VIRTIO &&
	     (vmconfig_set(cfg, "disk", "system", "controller", "0", &e) < 0 ||
	      vmconfig_set(cfg, "disk", "system", "location", "0", &e) < 0)) ||
	    vmconfig_validate(cfg, &e) < 0) {
		vmconfig_error_format(&e, msg, sizeof(msg));
		snprintf(err, errlen, "%s", msg);
		r = -EINVAL;
		goto out_free;
	}
	if ((r = vmconfig_save(cfg, NULL)) < 0)
		snprintf(err, errlen, "%s: cannot write it: %s", path, strerror(-r));
out_free:
	vmconfig_free(cfg);
out_unlock:
	vmstore_unlock(fd);
	return r;
}

/* --- New Virtual Hard Disk ---------------------------------------------------- */

static const char *const format_names[NEWDISK_FORMATS] = {"vhdx", "vhd", "qcow2", "raw"};
static const char *const format_exts[NEWDISK_FORMATS] = {"vhdx", "vhd", "qcow2", "img"};

const char *newdisk_format_name(int format)
{
	return format >= 0 && format < NEWDISK_FORMATS ? format_names[format] : "vhdx";
}

const char *newdisk_format_ext(int format)
{
	return format >= 0 && format < NEWDISK_FORMATS ? format_exts[format] : "vhdx";
}

void newdisk_init(struct newdisk *d, const char *dir)
{
	memset(d, 0, sizeof(*d));
	d->format = NEWDISK_VHDX;
	d->type = NEWDISK_DYNAMIC;
	if (dir && dir[0])
		snprintf(d->dir, sizeof(d->dir), "%s", dir);
	else if (!getcwd(d->dir, sizeof(d->dir)))
		snprintf(d->dir, sizeof(d->dir), "/");
	snprintf(d->name, sizeof(d->name), "New Virtual Hard Disk.vhdx");
	snprintf(d->size, sizeof(d->size), "%s", NEWVM_DEFAULT_DISK);
}

static void join_path(struct newdisk *d)
{
	size_t l = strlen(d->dir);

	snprintf(d->path, sizeof(d->path), "%s%s%s", d->dir, l && d->dir[l - 1] == '/' ? "" : "/",
		 d->name);
}

int newdisk_check_page(struct newdisk *d, int page, char *why, size_t whylen)
{
	struct stat st;

	switch (page) {
	case 0:
		if (d->format < 0 || d->format >= NEWDISK_FORMATS)
			return fail(why, whylen, "Choose a format.");
		return 0;
	case 1:
		if (d->type < NEWDISK_DYNAMIC || d->type > NEWDISK_DIFFERENCING)
			return fail(why, whylen, "Choose a disk type.");
		if (d->type != NEWDISK_DIFFERENCING)
			return 0;
		if (d->format == NEWDISK_RAW)
			return fail(why, whylen,
				    "A raw image has no parent: go back and choose VHDX, VHD or "
				    "qcow2 for a differencing disk.");
		if (!d->parent[0])
			return fail(why, whylen, "Choose the parent disk (Browse).");
		if (stat(d->parent, &st) < 0)
			return fail(why, whylen, "Parent %s: %s; choose an existing disk.",
				    d->parent, strerror(errno));
		if (!S_ISREG(st.st_mode))
			return fail(why, whylen, "Parent %s is not a disk image file.", d->parent);
		return 0;
	case 2:
		if (!d->name[0])
			return fail(why, whylen, "Give the new disk's file a name.");
		if (strchr(d->name, '/'))
			return fail(why, whylen,
				    "The name '%s' has a '/': choose the folder under Location and "
				    "give only the file's name.",
				    d->name);
		if (!d->dir[0] || stat(d->dir, &st) < 0 || !S_ISDIR(st.st_mode))
			return fail(why, whylen, "Folder '%s' does not exist; choose a folder.",
				    d->dir);
		if (access(d->dir, W_OK) < 0)
			return fail(why, whylen, "Folder %s: %s; choose a folder you can write to.",
				    d->dir, strerror(errno));
		join_path(d);
		if (lstat(d->path, &st) == 0)
			return fail(why, whylen,
				    "%s exists already; choose another name (a new disk never "
				    "replaces a file).",
				    d->path);
		return 0;
	case 3:
		if (d->type == NEWDISK_DIFFERENCING && !d->size[0])
			return 0;
		return newvm_check_disk_size(d->size, NULL, why, whylen);
	}
	return 0;
}

unsigned newdisk_create_args(struct newdisk *d, const char **args, unsigned max)
{
	const char *a[16];
	unsigned n = 0;

	join_path(d);
	a[n++] = "disk";
	a[n++] = "create";
	a[n++] = d->path;
	a[n++] = "--format";
	a[n++] = newdisk_format_name(d->format);
	if (d->type == NEWDISK_DIFFERENCING) {
		a[n++] = "--parent";
		a[n++] = d->parent;
	} else {
		a[n++] = "--type";
		a[n++] = d->type == NEWDISK_FIXED ? "fixed" : "dynamic";
	}
	if (d->size[0]) {
		a[n++] = "--size";
		a[n++] = d->size;
	}
	if (n + 1 > max)
		return 0;
	memcpy(args, a, n * sizeof(*a));
	args[n] = NULL;
	return n;
}

/* --- Edit Disk ----------------------------------------------------------------- */

static uint64_t json_u64(json_t *o, const char *key)
{
	json_t *v = json_object_get(o, key);
	return json_is_integer(v) && json_integer_value(v) > 0 ? (uint64_t)json_integer_value(v)
							       : 0;
}

static void json_str(json_t *o, const char *key, char *buf, size_t size)
{
	json_t *v = json_object_get(o, key);
	snprintf(buf, size, "%s", json_is_string(v) ? json_string_value(v) : "");
}

int diskinfo_parse(const char *json, struct diskinfo *out, char *why, size_t whylen)
{
	json_error_t je;
	const char *start = json;

	/* Warnings (a disk in use) come first on the same output. */
	while (*start && *start != '{') {
		const char *nl = strchr(start, '\n');
		if (!nl)
			break;
		start = nl + 1;
	}
	json_t *o = json_loads(start, JSON_DISABLE_EOF_CHECK, &je);

	memset(out, 0, sizeof(*out));
	if (!json_is_object(o)) {
		json_decref(o);
		return fail(why, whylen, "osio disk info gave no disk description: %s", je.text);
	}
	json_str(o, "format", out->format, sizeof(out->format));
	if (!out->format[0]) {
		json_decref(o);
		return fail(why, whylen, "osio disk info gave no format.");
	}
	json_str(o, "subformat", out->subformat, sizeof(out->subformat));
	json_str(o, "parent", out->parent, sizeof(out->parent));
	out->virtual_size = json_u64(o, "virtual-size");
	out->file_size = json_u64(o, "file-size");
	out->actual_size = json_u64(o, "actual-size");
	out->block_size = json_u64(o, "block-size");
	out->logical_sector = (unsigned)json_u64(o, "logical-sector-size");
	out->physical_sector = (unsigned)json_u64(o, "physical-sector-size");
	out->dirty = json_is_true(json_object_get(o, "dirty"));
	json_t *p = json_object_get(o, "parents");
	out->nparents = json_is_array(p) ? (unsigned)json_array_size(p) : 0;
	json_decref(o);
	return 0;
}

void diskinfo_format(const struct diskinfo *in, const char *path, char *buf, size_t size)
{
	char v[32], f[32], a[32];
	size_t at = 0;

	if (!size)
		return;
	buf[0] = '\0';
	human_size(in->virtual_size, v, sizeof(v));
	human_size(in->file_size, f, sizeof(f));
	human_size(in->actual_size, a, sizeof(a));
	at = append(buf, size, at, "File: %s\n", path);
	at = append(buf, size, at, "Format: %s%s%s\n", in->format, in->subformat[0] ? ", " : "",
		    in->subformat);
	at = append(buf, size, at, "Size (what the guest sees): %s\n", v);
	at = append(buf, size, at, "File size: %s, on disk: %s\n", f, a);
	at = append(buf, size, at, "Sectors: %u logical, %u physical\n", in->logical_sector,
		    in->physical_sector);
	if (in->parent[0])
		at = append(buf, size, at, "Parent: %s (%u in the chain)\n", in->parent,
			    in->nparents);
	at = append(buf, size, at, "Closed cleanly: %s", in->dirty ? "no (dirty)" : "yes");
}

int diskinfo_check_resize(const struct diskinfo *in, const char *s, char *why, size_t whylen)
{
	bool rel = s[0] == '+';
	uint64_t v, total;
	char cur[32], err[256];

	if (vmconfig_parse_size(s + rel, &v, err, sizeof(err)) < 0)
		return fail(why, whylen, "Size '%s': %s.", s, err);
	human_size(in->virtual_size, cur, sizeof(cur));
	if (rel && v > MAX_DISK_SIZE)
		return fail(why, whylen, "That makes the disk larger than a disk can be (64T).");
	total = rel ? in->virtual_size + v : v;
	if (total <= in->virtual_size)
		return fail(why, whylen,
			    "Disks only grow: give a size larger than %s now (or +SIZE to add).",
			    cur);
	if (total > MAX_DISK_SIZE)
		return fail(why, whylen, "That makes the disk larger than a disk can be (64T).");
	return 0;
}
