/* The control socket's lifecycle commands: power off, the ACPI power button
 * with a deadline, reset, pause and resume, save, DVD changes and stats.
 * They ask the worker through worker_ctl.h. */
#include "hypervisor/control_vm.h"

#include "devices/acpi_pm.h"
#include "devices/block/block.h"
#include "devices/device.h"
#include "devices/ide/ide.h"
#include "devices/net/net.h"
#include "hypervisor/control.h"
#include "hypervisor/evloop.h"
#include "hypervisor/log.h"
#include "hypervisor/vmspec.h"
#include "hypervisor/vmstore.h"
#include "hypervisor/worker.h"
#include "hypervisor/worker_ctl.h"

#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define SHUTDOWN_TIMEOUT_DEFAULT 60
#define SHUTDOWN_TIMEOUT_MAX	 (7 * 24 * 3600)

struct control_vm {
	struct control *ctl;
	struct worker *w;
	/* A shutdown waiting for the guest (control thread only). */
	struct evtimer *deadline;
	unsigned timeout_s;
	bool force;
};

/* --- power ---------------------------------------------------------------- */

static int stop_cmd(struct control_client *c, json_t *args, struct control_reply *reply,
		    void *opaque)
{
	struct control_vm *cv = opaque;
	log_info("powering the VM off (the control socket's \"stop\")");
	worker_request(cv->w, MACHINE_POWEROFF, MACHINE_BY_HOST);
	return 0;
}

static int reset_cmd(struct control_client *c, json_t *args, struct control_reply *reply,
		     void *opaque)
{
	struct control_vm *cv = opaque;
	log_info("resetting the VM (the control socket's \"reset\")");
	worker_request(cv->w, MACHINE_RESET, MACHINE_BY_HOST);
	return 0;
}

/* The guest had its time to act on the power button (control thread). */
static void shutdown_deadline(void *opaque)
{
	struct control_vm *cv = opaque;
	if (cv->force) {
		log_warn("the guest did not shut down within %u s: powering it off", cv->timeout_s);
		worker_request(cv->w, MACHINE_POWEROFF, MACHINE_BY_HOST);
		return;
	}
	log_warn("the guest did not shut down within %u s after the power button", cv->timeout_s);
	char desc[96];
	snprintf(desc, sizeof(desc), "the guest did not shut down within %u s", cv->timeout_s);
	control_emit(cv->ctl, "error",
		     json_pack("{s:s,s:s}", "command", "shutdown", "message", desc));
}

static int shutdown_cmd(struct control_client *c, json_t *args, struct control_reply *reply,
			void *opaque)
{
	struct control_vm *cv = opaque;
	json_t *t = json_object_get(args, "timeout");
	json_t *f = json_object_get(args, "force");
	json_int_t timeout = SHUTDOWN_TIMEOUT_DEFAULT;

	if (t && (!json_is_integer(t) || json_integer_value(t) < 1 ||
		  json_integer_value(t) > SHUTDOWN_TIMEOUT_MAX))
		return control_fail(c, CONTROL_E_INVALID,
				    "\"timeout\" must be a whole number of seconds from 1 to %d",
				    SHUTDOWN_TIMEOUT_MAX);
	if (f && !json_is_boolean(f))
		return control_fail(c, CONTROL_E_INVALID, "\"force\" must be true or false");
	if (t)
		timeout = json_integer_value(t);
	void *pm = machine_device(worker_machine(cv->w), "acpi-pm");
	if (!pm)
		return control_fail(
		    c, CONTROL_E_UNAVAILABLE,
		    "the VM has no ACPI power button; use \"stop\" to power it off");
	if (!cv->deadline)
		cv->deadline = evtimer_new(control_loop(cv->ctl), shutdown_deadline, cv);
	if (!cv->deadline)
		return control_fail(c, CONTROL_E_FAILED, "out of memory");
	cv->timeout_s = (unsigned)timeout;
	cv->force = json_is_true(f);
	log_info("pressing the VM's power button (the control socket's \"shutdown\", "
		 "%u s%s)",
		 cv->timeout_s, cv->force ? ", then power off" : "");
	acpi_pm_power_button(pm);
	/* A second shutdown starts the wait again. */
	evtimer_arm(cv->deadline, (uint64_t)timeout * 1000000000ull, 0);
	return 0;
}

static int pause_cmd(struct control_client *c, json_t *args, struct control_reply *reply,
		     void *opaque)
{
	struct control_vm *cv = opaque;
	int r = worker_pause(cv->w, "paused through the control socket");
	if (r == -EAGAIN)
		return control_fail(c, CONTROL_E_FAILED,
				    "the VM is not running now (starting, resetting or ending)");
	if (r < 0 && r != -EALREADY)
		return control_fail(c, CONTROL_E_FAILED, "cannot pause the VM: %s", strerror(-r));
	return 0;
}

static int resume_cmd(struct control_client *c, json_t *args, struct control_reply *reply,
		      void *opaque)
{
	struct control_vm *cv = opaque;
	int r = worker_resume(cv->w);
	if (r == -EAGAIN)
		return control_fail(c, CONTROL_E_FAILED,
				    "the VM is not running now (starting, resetting or ending)");
	if (r < 0 && r != -EALREADY)
		return control_fail(c, CONTROL_E_FAILED, "cannot resume the VM: %s", strerror(-r));
	return 0;
}

/* --- the store -------------------------------------------------------------
 */

/* STORE/vms/NAME/sub of the worker's VM; -ENOENT outside the store. */
static int store_file(struct control_vm *cv, const char *sub, char *buf, size_t size)
{
	const char *vm = worker_store_vm(cv->w);
	if (!vm)
		return -ENOENT;
	if (strchr(vm, '/')) { /* the folder itself */
		if ((size_t)snprintf(buf, size, "%s/%s", vm, sub) >= size)
			return -ENAMETOOLONG;
		return 0;
	}
	return vmstore_path(vm, sub, buf, size);
}

/* --- save ----------------------------------------------------------------- */

struct save_job {
	const char *path;
	char err[PATH_MAX + 256];
};

static int save_stopped(struct worker *w, void *opaque)
{
	struct save_job *job = opaque;
	return worker_write_state(w, job->path, job->err, sizeof(job->err));
}

static int save_cmd(struct control_client *c, json_t *args, struct control_reply *reply,
		    void *opaque)
{
	struct control_vm *cv = opaque;
	json_t *file = json_object_get(args, "file");
	char path[PATH_MAX];

	if (file && (!json_is_string(file) || json_string_value(file)[0] != '/'))
		return control_fail(c, CONTROL_E_INVALID, "\"file\" must be an absolute path");
	if (file) {
		if (strlen(json_string_value(file)) >= sizeof(path))
			return control_fail(c, CONTROL_E_INVALID, "\"file\" is too long");
		strcpy(path, json_string_value(file));
	} else if (store_file(cv, "saved.vmstate", path, sizeof(path)) < 0) {
		return control_fail(c, CONTROL_E_INVALID,
				    "this VM is not in the VM store: give \"file\", where to save "
				    "it");
	}
	bool paused = worker_paused(cv->w);
	struct save_job job = {.path = path};
	control_set_state(cv->ctl, "saving", 0);
	int r = worker_with_vm_stopped(cv->w, save_stopped, &job);
	if (r < 0) {
		/* The VM goes on as it was. */
		control_set_state(cv->ctl, paused ? "paused" : "running", 0);
		if (r == -EAGAIN && !job.err[0])
			return control_fail(c, CONTROL_E_FAILED,
					    "the VM is not running now (starting, resetting or "
					    "ending)");
		log_error("saving the VM failed: %s", job.err[0] ? job.err : strerror(-r));
		return control_fail(c, CONTROL_E_FAILED, "%s", job.err[0] ? job.err : strerror(-r));
	}
	log_info("the VM is saved in %s; it stops now", path);
	worker_request(cv->w, MACHINE_EXIT, WORKER_EXIT_SAVED);
	reply->ret = json_pack("{s:s}", "file", path);
	return 0;
}

/* --- DVD ------------------------------------------------------------------ */

/* "ide1:0" into position 2; or, without drive, the first DVD drive. */
static int dvd_position(struct control_client *c, struct control_vm *cv, json_t *args,
			unsigned *pos)
{
	const struct vm_spec *spec = worker_spec(cv->w);
	json_t *d = json_object_get(args, "drive");
	if (!d) {
		for (unsigned i = 0; i < VM_IDE_DRIVES; i++) {
			if (spec->ide[i].media == DRIVE_DVD) {
				*pos = i;
				return 0;
			}
		}
		return control_fail(c, CONTROL_E_UNAVAILABLE, "the VM has no DVD drive");
	}
	const char *s = json_string_value(d);
	if (!s || strlen(s) != 6 || strncmp(s, "ide", 3) != 0 || (s[3] != '0' && s[3] != '1') ||
	    s[4] != ':' || (s[5] != '0' && s[5] != '1'))
		return control_fail(c, CONTROL_E_INVALID,
				    "\"drive\" must be an IDE position: ide0:0, ide0:1, ide1:0 or "
				    "ide1:1");
	*pos = (unsigned)(s[3] - '0') * 2 + (unsigned)(s[5] - '0');
	if (spec->ide[*pos].media != DRIVE_DVD)
		return control_fail(c, CONTROL_E_INVALID, "the VM has no DVD drive at %s", s);
	return 0;
}

static const char *position_name(unsigned pos, char buf[8])
{
	static const char *const names[VM_IDE_DRIVES] = {"ide0:0", "ide0:1", "ide1:0", "ide1:1"};
	snprintf(buf, 8, "%s", names[pos % VM_IDE_DRIVES]);
	return buf;
}

/* Puts path into (path NULL: ejects the disc of) the drive args name,
 * through fd when it is not -1 (taken over); name: its position. 0, or -1
 * with the error sent. */
static int dvd_change(struct control_client *c, struct control_vm *cv, json_t *args,
		      const char *path, int fd, char name[8])
{
	unsigned pos = 0;

	if (dvd_position(c, cv, args, &pos) < 0) {
		if (fd >= 0)
			close(fd);
		return -1;
	}
	void *ide = machine_device(worker_machine(cv->w), "ide");
	int r;
	if (!ide) {
		r = -ENODEV;
		if (fd >= 0)
			close(fd);
	} else if (path) {
		r = ide_dvd_insert_fd(ide, pos, path, fd);
	} else {
		r = ide_dvd_eject(ide, pos);
	}
	position_name(pos, name);
	if (r == -ENODEV)
		return control_fail(c, CONTROL_E_INVALID, "the VM has no DVD drive at %s", name);
	if (r == -ENOMEDIUM && !path)
		return control_fail(c, CONTROL_E_FAILED, "the DVD drive %s is empty", name);
	if (r == -EBUSY)
		return control_fail(
		    c, CONTROL_E_FAILED,
		    "the guest has locked the tray of %s; it was asked to eject the "
		    "disc: try again once it has",
		    name);
	if ((r == -EACCES || r == -EPERM) && path && fd < 0 && geteuid() != 0)
		return control_fail(c, CONTROL_E_FAILED,
				    "%s: %s (the VM's worker runs as uid %u; send the file open "
				    "with \"fd\": true, as osio dvd does)",
				    path, strerror(-r), (unsigned)geteuid());
	if (r == -EINVAL && path)
		return control_fail(c, CONTROL_E_FAILED,
				    "%s: not a usable disc image (empty, smaller than one 2048-byte "
				    "sector, or not a file; the VM's log says which); give an ISO "
				    "image",
				    path);
	if (r < 0)
		return control_fail(c, CONTROL_E_FAILED, "%s: %s", path ? path : name,
				    strerror(-r));
	return 0;
}

static int dvd_insert_cmd(struct control_client *c, json_t *args, struct control_reply *reply,
			  void *opaque)
{
	const char *path = json_string_value(json_object_get(args, "path"));
	char name[8];

	if (!path || path[0] != '/')
		return control_fail(c, CONTROL_E_INVALID,
				    "\"path\" must be the ISO image's absolute path");
	int fd = control_take_fd(c);
	if (dvd_change(c, opaque, args, path, fd, name) < 0)
		return -1;
	log_info("%s: the DVD drive has %s now%s", name, path,
		 fd >= 0 ? " (opened by the client)" : "");
	reply->ret = json_pack("{s:s,s:s}", "drive", name, "path", path);
	return 0;
}

static int dvd_eject_cmd(struct control_client *c, json_t *args, struct control_reply *reply,
			 void *opaque)
{
	char name[8];

	if (dvd_change(c, opaque, args, NULL, -1, name) < 0)
		return -1;
	log_info("%s: the DVD drive is empty now", name);
	reply->ret = json_pack("{s:s}", "drive", name);
	return 0;
}

/* --- stats ---------------------------------------------------------------- */

/* The worker's resident memory in bytes, 0 if unknown. */
static uint64_t rss_bytes(void)
{
	FILE *f = fopen("/proc/self/statm", "re");
	unsigned long long size, resident;
	int n = f ? fscanf(f, "%llu %llu", &size, &resident) : 0;
	if (f)
		fclose(f);
	long page = sysconf(_SC_PAGESIZE);
	return n == 2 && page > 0 ? resident * (uint64_t)page : 0;
}

static json_t *nics_stats(struct machine *m)
{
	json_t *nics = json_array();
	for (struct device *d = m->devices; d && nics; d = d->next) {
		struct net_port *p = net_port_find(m, d->id);
		struct net_port_stats st;
		if (!p)
			continue;
		net_port_stats(p, &st);
		json_array_append_new(
		    nics, json_pack("{s:s,s:I,s:I,s:I,s:I,s:I,s:I,s:I}", "nic", d->id, "rx-frames",
				    (json_int_t)st.rx_frames, "rx-bytes", (json_int_t)st.rx_bytes,
				    "rx-dropped", (json_int_t)st.rx_dropped, "tx-frames",
				    (json_int_t)st.tx_frames, "tx-bytes", (json_int_t)st.tx_bytes,
				    "tx-dropped", (json_int_t)st.tx_dropped, "guest-errors",
				    (json_int_t)st.guest_errors));
	}
	return nics;
}

static void disk_stats(struct block_dev *bd, void *opaque)
{
	json_t *disks = opaque;
	struct block_stats st;
	block_get_stats(bd, &st);
	json_array_append_new(disks,
			      json_pack("{s:s,s:I,s:I,s:I,s:I,s:I,s:I}", "path", block_path(bd),
					"read-ops", (json_int_t)st.rd_ops, "read-bytes",
					(json_int_t)st.rd_bytes, "write-ops", (json_int_t)st.wr_ops,
					"write-bytes", (json_int_t)st.wr_bytes, "flush-ops",
					(json_int_t)st.flush_ops, "errors", (json_int_t)st.errors));
}

static int stats_cmd(struct control_client *c, json_t *args, struct control_reply *reply,
		     void *opaque)
{
	struct control_vm *cv = opaque;
	const struct vm_spec *spec = worker_spec(cv->w);
	json_t *vcpus = json_array();
	uint64_t total = 0;

	for (unsigned i = 0; i < spec->cpus && vcpus; i++) {
		uint64_t t = worker_vcpu_time(cv->w, i);
		total += t;
		json_array_append_new(
		    vcpus, json_pack("{s:i,s:I}", "cpu", (int)i, "time-ns", (json_int_t)t));
	}
	/* The worker's images are its VM's disks (and DVDs). */
	json_t *disks = json_array();
	if (disks)
		block_for_each_open(disk_stats, disks);
	reply->ret = json_pack(
	    "{s:I,s:o,s:I,s:I,s:I,s:o,s:o}", "uptime-ns", (json_int_t)worker_uptime_ns(cv->w),
	    "vcpus", vcpus ? vcpus : json_array(), "cpu-time-ns", (json_int_t)total, "memory",
	    (json_int_t)spec->memory, "rss", (json_int_t)rss_bytes(), "disks",
	    disks ? disks : json_array(), "nics", nics_stats(worker_machine(cv->w)));
	return reply->ret ? 0 : control_fail(c, CONTROL_E_FAILED, "out of memory");
}

/* --- registration ----------------------------------------------------------
 */

static void control_vm_free(void *opaque)
{
	struct control_vm *cv = opaque;
	evtimer_free(cv->deadline);
	free(cv);
}

void control_vm_register(struct control *ctl, struct worker *w)
{
	struct control_vm *cv = calloc(1, sizeof(*cv));
	if (!cv) {
		log_warn("control: out of memory: no lifecycle commands");
		return;
	}
	cv->ctl = ctl;
	cv->w = w;
	control_on_free(ctl, control_vm_free, cv);
	control_register(ctl, "stop", stop_cmd, cv);
	control_register(ctl, "shutdown", shutdown_cmd, cv);
	control_register(ctl, "reset", reset_cmd, cv);
	control_register(ctl, "pause", pause_cmd, cv);
	control_register(ctl, "resume", resume_cmd, cv);
	control_register(ctl, "save", save_cmd, cv);
	control_register(ctl, "dvd-insert", dvd_insert_cmd, cv);
	control_register(ctl, "dvd-eject", dvd_eject_cmd, cv);
	control_register(ctl, "stats", stats_cmd, cv);
}
