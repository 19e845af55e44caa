/* From a vmconfig to a vm_spec for osio run and osio start: load, MACs,
 * validate, convert, and a detached store VM's console sockets. */
#include "cli/vmload.h"

#include "hypervisor/checkpoint.h"
#include "hypervisor/log.h"
#include "hypervisor/runtime_dir.h"
#include "hypervisor/store.h"
#include "hypervisor/vmstore.h"
#include "vmconfig/vmconfig.h"

#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static void print_error(const struct vmconfig_error *err)
{
	char buf[PATH_MAX + 600];
	vmconfig_error_format(err, buf, sizeof(buf));
	fprintf(stderr, "%s\n", buf);
}

struct vmconfig *vmload_file(const char *path)
{
	struct vmconfig_error err = {0};
	struct vmconfig *cfg = vmconfig_load(path, &err);
	if (!cfg)
		print_error(&err);
	return cfg;
}

int vmload_assign_macs(struct vmconfig *cfg, bool persist)
{
	char list[VM_NICS_MAX * 160];
	struct vmconfig_error err;
	unsigned added;
	int r = vmconfig_add_macs(cfg, &added, list, sizeof(list), &err);

	if (r < 0) {
		log_error("cannot give the network adapters MAC addresses: %s", err.message);
		return r;
	}
	if (!added || !persist)
		return 0;
	r = vmconfig_save(cfg, NULL);
	if (r < 0)
		log_warn("%s: cannot keep the new MAC address%s in the file (%s): %s for this run "
			 "only; write mac = ... into the section%s to keep %s",
			 vmconfig_path(cfg), added > 1 ? "es" : "", strerror(-r), list,
			 added > 1 ? "s" : "", added > 1 ? "them" : "it");
	else
		log_info("%s: new MAC address%s written into the file: %s", vmconfig_path(cfg),
			 added > 1 ? "es" : "", list);
	return 0;
}

int vmload_spec(const struct vmconfig *cfg, struct vm_spec *spec, bool file_lines)
{
	struct vmconfig_error err = {0};
	vm_spec_defaults(spec);
	if (vmconfig_validate(cfg, &err) < 0 || vmconfig_to_spec(cfg, spec, &err) < 0) {
		if (file_lines)
			print_error(&err);
		else
			log_error("%s", err.message);
		return -EINVAL;
	}
	if (spec->firmware == FIRMWARE_NONE && !spec->kernel[0]) {
		log_error(
		    "nothing to boot: firmware none needs --kernel FILE (a Linux bzImage or a "
		    "multiboot kernel) or kernel in the vmconfig's [boot] section");
		return -EINVAL;
	}
	return 0;
}

int vmload_serial_path(const char *name, char *buf, size_t size)
{
	char dir[PATH_MAX];
	int r = runtime_dir_path(dir, sizeof(dir));
	if (r < 0)
		return r;
	if ((size_t)snprintf(buf, size, "%s/%s.serial", dir, name) >= size)
		return -ENAMETOOLONG;
	return 0;
}

/* A console on stdio becomes a socket RUNTIME/NAME<suffix>. */
static int detach_console(struct serial_spec *s, const char *name, const char *suffix)
{
	char dir[PATH_MAX];
	if (!s->present || s->backend != SERIAL_STDIO)
		return 0;
	int r = runtime_dir_path(dir, sizeof(dir));
	if (r < 0)
		return r;
	if ((size_t)snprintf(s->path, sizeof(s->path), "%s/%s%s", dir, name, suffix) >=
	    sizeof(s->path))
		return -ENAMETOOLONG;
	s->backend = SERIAL_SOCKET;
	return 0;
}

/* The settings a store VM starts with, kept as STORE/vms/NAME/.running.vmconfig: a running VM's
 * checkpoint keeps them (its state fits them, not later edits of the vmconfig). Written by osio
 * start and again by its worker, whose load is the one it runs; before the worker's sandbox. A
 * failure costs only that: a warning. */
static void keep_running(const char *name, const struct vmconfig *cfg)
{
	char dir[PATH_MAX], path[PATH_MAX], err[PATH_MAX + 200];
	struct ckpt_vm vm = {.name = name, .dir = dir};
	size_t len;
	char *text;

	if (vmstore_path(name, NULL, dir, sizeof(dir)) < 0 ||
	    ckpt_running_path(&vm, path, sizeof(path)) < 0)
		return;
	if (!(text = vmconfig_format(cfg, &len))) {
		log_warn("VM '%s': out of memory keeping the settings it starts with", name);
		return;
	}
	if (store_write_atomic(path, text, len, 0600, true, err, sizeof(err)) < 0)
		log_warn("%s; a checkpoint of the running VM keeps the vmconfig as it is then",
			 err);
	free(text);
}

/* The running VM's copy follows a DVD change too (when it has one). */
static void running_dvd(const char *name, const char *section, const char *path)
{
	char dir[PATH_MAX], file[PATH_MAX];
	struct ckpt_vm vm = {.name = name, .dir = dir};
	struct vmconfig_error err = {0};
	struct vmconfig *cfg;

	if (vmstore_path(name, NULL, dir, sizeof(dir)) < 0 ||
	    ckpt_running_path(&vm, file, sizeof(file)) < 0 || access(file, F_OK) < 0)
		return;
	cfg = vmconfig_load(file, &err);
	for (unsigned i = 0; cfg && i < vmconfig_count(cfg, "dvd"); i++)
		if (strcmp(vmconfig_section_name(cfg, "dvd", i), section) == 0) {
			if (vmconfig_set(cfg, "dvd", section, "file", path, &err) == 0)
				keep_running(name, cfg);
			break;
		}
	vmconfig_free(cfg);
}

int vmload_store(const char *name, struct vm_spec *spec, bool *sandbox)
{
	char path[PATH_MAX];
	int r = vmstore_vmconfig(name, path, sizeof(path));
	if (r < 0) {
		log_error("VM '%s': cannot find its vmconfig in the store: %s", name, strerror(-r));
		return r;
	}
	if (!vmstore_exists(name)) {
		log_error("no VM named '%s' (%s does not exist); osio list shows the VMs, osio "
			  "create %s makes one",
			  name, path, name);
		return -ENOENT;
	}
	struct vmconfig *cfg = vmload_file(path);
	if (!cfg)
		return -EINVAL;
	r = vmload_assign_macs(cfg, true);
	if (r == 0)
		r = vmload_spec(cfg, spec, true);
	if (r == 0)
		keep_running(name, cfg);
	const char *sb = vmconfig_get(cfg, "vm", NULL, "sandbox");
	const char *env = getenv("OSIO_SANDBOX");
	bool on = true;
	char why[160];
	if (r == 0 && sb && vmconfig_parse_bool(sb, &on, why, sizeof(why)) < 0)
		on = true;
	if (env && (strcmp(env, "0") == 0 || strcmp(env, "no") == 0))
		on = false;
	vmconfig_free(cfg);
	if (r < 0)
		return r;
	*sandbox = on;
	/* The store's name is the VM's name: its sockets, its messages. */
	snprintf(spec->name, sizeof(spec->name), "%s", name);
	r = detach_console(&spec->serial[0], name, ".serial");
	for (unsigned i = 1; i < VM_SERIAL_PORTS && r == 0; i++) {
		char suffix[16];
		snprintf(suffix, sizeof(suffix), ".com%u", i + 1);
		r = detach_console(&spec->serial[i], name, suffix);
	}
	if (r == 0)
		r = detach_console(&spec->console, name, ".console");
	if (r < 0)
		log_error("VM '%s': the runtime directory's path is too long for its console "
			  "sockets",
			  name);
	return r;
}

int vmload_set_dvd(const char *name, unsigned pos, const char *path)
{
	char file[PATH_MAX], msg[PATH_MAX + 600] = "";
	struct vmconfig_error err = {0};
	struct vm_spec spec;
	int r = vmstore_vmconfig(name, file, sizeof(file));
	if (r < 0 || pos >= VM_IDE_DRIVES)
		return r < 0 ? r : -EINVAL;
	struct vmconfig *cfg = vmconfig_load(file, &err);
	vm_spec_defaults(&spec);
	if (!cfg || vmconfig_to_spec(cfg, &spec, &err) < 0) {
		r = -EINVAL;
	} else if (spec.ide[pos].media != DRIVE_DVD || !spec.ide[pos].name[0]) {
		snprintf(msg, sizeof(msg), "%s has no [dvd] section at that IDE position", file);
		r = -ENOENT;
	} else if ((r = vmconfig_set(cfg, "dvd", spec.ide[pos].name, "file", path, &err)) == 0) {
		r = vmconfig_save(cfg, NULL);
		if (r < 0)
			snprintf(msg, sizeof(msg), "%s: %s", file, strerror(-r));
		else
			running_dvd(name, spec.ide[pos].name, path);
	}
	vmconfig_free(cfg);
	if (r < 0) {
		if (!msg[0])
			vmconfig_error_format(&err, msg, sizeof(msg));
		log_warn("VM '%s': the DVD change lasts until the VM stops: %s", name, msg);
	}
	return r;
}
