/* The worker main loop: platform assembly, boot, run, reset, exit (calls on
 * the loop, pause and resume: worker_pause.c). */
#include "hypervisor/worker.h"

#include "devices/device.h"
#include "hypervisor/boot/boot.h"
#include "hypervisor/boot/firmware.h"
#include "hypervisor/boot/smbios.h"
#include "hypervisor/capture.h"
#include "hypervisor/control.h"
#include "hypervisor/control_checkpoint.h"
#include "hypervisor/control_vm.h"
#include "hypervisor/kvm.h"
#include "hypervisor/log.h"
#include "hypervisor/machine.h"
#include "hypervisor/partition.h"
#include "hypervisor/pc.h"
#include "hypervisor/platform.h"
#include "hypervisor/runtime_dir.h"
#include "hypervisor/sandbox.h"
#include "hypervisor/savevm.h"
#include "hypervisor/vmstore.h"
#include "hypervisor/vp.h"
#include "hypervisor/worker_ctl.h"
#include "hypervisor/worker_int.h"
#include "devices/vga/vga.h"
#include "vnc/vnc.h"

#include <errno.h>
#include <limits.h>
#include <pthread.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/signalfd.h>
#include <time.h>
#include <unistd.h>

/* First request wins until the worker has acted on it. */
static void on_request(void *opaque, enum machine_request req, int status)
{
	struct worker *w = opaque;
	pthread_mutex_lock(&w->lock);
	bool first = !w->pending;
	if (first) {
		atomic_store(&w->m.stopping, true);
		w->pending = true;
		w->req = req;
		w->status = status;
	}
	pthread_mutex_unlock(&w->lock);
	if (first)
		evloop_stop(w->m.loop);
}

static void on_signal(void *opaque, uint32_t events)
{
	struct worker *w = opaque;
	struct signalfd_siginfo si;
	if (read(w->sigfd, &si, sizeof(si)) != sizeof(si))
		return;
	log_info("%s: turning the VM off", strsignal((int)si.ssi_signo));
	on_request(w, MACHINE_EXIT, 128 + (int)si.ssi_signo);
}

static int block_signals(struct worker *w)
{
	sigset_t set;
	sigemptyset(&set);
	sigaddset(&set, SIGINT);
	sigaddset(&set, SIGTERM);
	sigaddset(&set, SIGHUP);
	/* Blocked before any thread exists, so every thread inherits it
	 * and only the signalfd sees these signals. */
	pthread_sigmask(SIG_BLOCK, &set, NULL);
	signal(SIGPIPE, SIG_IGN);
	w->sigfd = signalfd(-1, &set, SFD_CLOEXEC | SFD_NONBLOCK);
	if (w->sigfd < 0)
		return -errno;
	return evloop_add_fd(w->m.loop, w->sigfd, EPOLLIN, on_signal, w);
}

static void capture_now(void *opaque)
{
	struct worker *w = opaque;
	capture_screen(&w->m, w->opt->screenshot, w->opt->screen_text);
}

static void timed_out(void *opaque)
{
	struct worker *w = opaque;
	log_info("the VM ran for its --timeout: turning it off");
	on_request(w, MACHINE_EXIT, WORKER_EXIT_TIMEOUT);
}

/* --- the vCPUs --------------------------------------------------------------
 * Started and stopped by the event loop's thread only, under part_lock so
 * that worker_vcpu_time (control thread) never reads a vCPU being joined or
 * freed. */

int worker_vcpus_start(struct worker *w)
{
	pthread_mutex_lock(&w->part_lock);
	int r = partition_start(&w->part);
	pthread_mutex_unlock(&w->part_lock);
	return r;
}

void worker_vcpus_stop(struct worker *w)
{
	pthread_mutex_lock(&w->part_lock);
	partition_stop(&w->part);
	pthread_mutex_unlock(&w->part_lock);
}

/* Destroys w->part, keeping its vCPUs' CPU time. */
static void part_destroy(struct worker *w)
{
	pthread_mutex_lock(&w->part_lock);
	partition_stop(&w->part);
	for (unsigned i = 0; i < w->part.nvcpus && i < w->spec->cpus; i++)
		w->cpu_done[i] += vcpu_cpu_time(w->part.vcpus[i]);
	w->have_part = false;
	partition_destroy(&w->part);
	pthread_mutex_unlock(&w->part_lock);
}

uint64_t worker_vcpu_time(struct worker *w, unsigned cpu)
{
	if (cpu >= w->spec->cpus)
		return 0;
	pthread_mutex_lock(&w->part_lock);
	uint64_t ns = w->cpu_done[cpu];
	if (w->have_part && cpu < w->part.nvcpus)
		ns += vcpu_cpu_time(w->part.vcpus[cpu]);
	pthread_mutex_unlock(&w->part_lock);
	return ns;
}

uint64_t worker_uptime_ns(struct worker *w)
{
	return clock_ns() - w->start_ns;
}

const struct vm_spec *worker_spec(struct worker *w)
{
	return w->spec;
}

struct machine *worker_machine(struct worker *w)
{
	return &w->m;
}

const char *worker_store_vm(struct worker *w)
{
	return w->opt->store_vm;
}

void worker_request(struct worker *w, enum machine_request req, int status)
{
	on_request(w, req, status);
}

/* The UUID the guest sees, as text. */
static void uuid_text(const struct vm_spec *spec, char *buf, size_t size)
{
	uint8_t u[16];
	if (spec->has_uuid) {
		memcpy(u, spec->uuid, 16);
	} else {
		/* SMBIOS order: the first three fields little-endian. */
		uint8_t s[16];
		smbios_uuid_from_name(spec->name, s);
		memcpy(u, s, 16);
		u[0] = s[3], u[1] = s[2], u[2] = s[1], u[3] = s[0];
		u[4] = s[5], u[5] = s[4], u[6] = s[7], u[7] = s[6];
	}
	snprintf(buf, size, "%02x%02x%02x%02x-%02x%02x-%02x%02x-%02x%02x-%02x%02x%02x%02x%02x%02x",
		 u[0], u[1], u[2], u[3], u[4], u[5], u[6], u[7], u[8], u[9], u[10], u[11], u[12],
		 u[13], u[14], u[15]);
}

/* The control socket, for osio connect, osio send-key and scripts. A VM
 * runs on without one when it cannot be had (a live VM of the same name,
 * a runtime directory that is not ours): the console and the serial port
 * still work. */
static void control_start(struct worker *w)
{
	char dir[PATH_MAX], path[PATH_MAX], uuid[40];
	if (runtime_dir_create(dir, sizeof(dir)) < 0 ||
	    control_socket_path(w->spec->name, path, sizeof(path)) < 0 ||
	    control_new(&w->m, path, w->spec->name, &w->ctl) < 0)
		return;
	void *vga = machine_device(&w->m, "vga");
	uuid_text(w->spec, uuid, sizeof(uuid));
	control_set_status(w->ctl, "uuid", json_string(uuid));
	control_set_status(w->ctl, "cpus", json_integer(w->spec->cpus));
	control_set_status(w->ctl, "memory", json_integer((json_int_t)w->spec->memory));
	control_set_status(w->ctl, "display", json_boolean(vga != NULL));
	control_set_status(w->ctl, "vnc", json_null());
	control_input_register(w->ctl);
	control_vm_register(w->ctl, w);
	control_checkpoint_register(w->ctl, w);
	if (control_display_register(w->ctl, vga ? vga_surface(vga) : NULL) < 0 ||
	    control_run(w->ctl) < 0) {
		log_warn("%s: cannot serve the control socket", path);
		control_free(w->ctl);
		w->ctl = NULL;
		return;
	}
}

/* The VM's screen for VNC viewers. A server the vmconfig names explicitly
 * (address, socket, password) must come up or the VM does not start; the
 * default one (vnc = auto) is a convenience, and the VM runs without it when
 * it cannot be had. */
static int vnc_start(struct worker *w)
{
	const struct vnc_spec *vs = &w->spec->vnc;
	void *vga = machine_device(&w->m, "vga");
	if (vs->kind == VNC_NONE || !vga)
		return 0;
	int r = vnc_server_start(&w->m, vga_surface(vga), vs, w->spec->name, &w->vnc);
	if (r < 0) {
		if (vs->kind == VNC_AUTO && !vs->password_file[0])
			return 0;
		log_error("the VM's VNC server could not start (see above): fix [display] vnc in "
			  "the vmconfig, or set vnc = none");
		return r;
	}
	const char *addr = vnc_server_address(w->vnc);
	control_set_status(w->ctl, "vnc", json_string(addr));
	log_info("the screen: VNC at %s, or osio connect %s", addr, w->spec->name);
	return 0;
}

/* The worker gives up what it no longer needs (hypervisor/sandbox.h): for a
 * VM of the store always, for osio run when OSIO_SANDBOX=1 asks for it. */
static int confine(struct worker *w)
{
	const char *env = getenv("OSIO_SANDBOX");
	if (!w->opt->sandbox && !(env && strcmp(env, "1") == 0))
		return 0;
	char dir[PATH_MAX], err[512];
	struct sandbox_options so = {.seccomp = SANDBOX_SECCOMP_KILL};
	/* [vm] worker_user: a user, or root to stay root; absent: osio. */
	if (strcmp(w->spec->worker_user, "root") == 0)
		so.user = "";
	else if (w->spec->worker_user[0])
		so.user = w->spec->worker_user;
	if (w->opt->store_vm && vmstore_path(w->opt->store_vm, NULL, dir, sizeof(dir)) == 0)
		so.vm_dir = dir;
	if (sandbox_enter(&so, err, sizeof(err)) < 0) {
		log_error("cannot confine the worker: %s", err);
		return -EPERM;
	}
	return 0;
}

/* The VM runs: osio start may stop waiting. */
static void signal_ready(struct worker *w)
{
	if (w->ready_fd <= 0)
		return;
	if (write(w->ready_fd, "r", 1) != 1)
		log_warn("cannot tell osio start that the VM runs: %s", strerror(errno));
	close(w->ready_fd);
	w->ready_fd = -1;
}

/* Loads the saved state into the partition just made (first power-on). */
static int restore_state(struct worker *w)
{
	char err[1024];
	int r = savevm_read(&w->part, w->opt->restore, err, sizeof(err));
	if (r < 0) {
		log_error("cannot resume from %s: %s", w->opt->restore, err);
		if (w->opt->store_vm)
			log_error(
			    "to discard the saved state and boot the VM afresh: osio start %s "
			    "--fresh",
			    w->opt->store_vm);
		return r;
	}
	w->restored = true;
	return 0;
}

/* One power-on of the VM: a fresh partition, vCPUs at the reset vector (the
 * BIOS), with the kernel loaded, or where the saved state left them; run
 * until a request arrives. */
static int run_once(struct worker *w, enum machine_request *req, int *status)
{
	atomic_store(&w->m.stopping, false);
	pthread_mutex_lock(&w->part_lock);
	int r = partition_create(&w->part, &w->host, &w->m, w->spec->cpus);
	w->have_part = r == 0;
	pthread_mutex_unlock(&w->part_lock);
	if (r < 0)
		return r;
	bool restore = w->opt->restore && !w->restored;
	if (restore) {
		r = restore_state(w);
	} else if (!w->firmware) {
		pc_firmware_handover(&w->m);
		r = boot_load(&w->plan, &w->m, w->part.vcpus[0]);
	}
	if (r < 0 || (r = worker_vcpus_start(w)) < 0) {
		part_destroy(w);
		return r;
	}
	w->running = true;
	atomic_store(&w->paused, false);
	control_set_state(w->ctl, "running", 0);
	if (restore) {
		log_info("the VM goes on from its saved state (%s)", w->opt->restore);
		if (unlink(w->opt->restore) < 0)
			log_warn("%s: cannot remove the saved state the VM resumed from: %s",
				 w->opt->restore, strerror(errno));
	}
	signal_ready(w);
	r = evloop_run(w->m.loop);
	w->running = false;
	atomic_fetch_add(&w->boot, 1);
	if (atomic_load(&w->paused))
		control_set_status(w->ctl, "paused-reason", NULL);
	atomic_store(&w->paused, false);
	part_destroy(w);
	if (r < 0) {
		log_error("event loop failed: %s", strerror(-r));
		return r;
	}
	pthread_mutex_lock(&w->lock);
	*req = w->req;
	*status = w->status;
	w->pending = false;
	pthread_mutex_unlock(&w->lock);
	return 0;
}

int worker_run(const struct vm_spec *spec, const struct worker_options *opt)
{
	static const struct worker_options none;
	struct worker w = {.spec = spec, .opt = opt ? opt : &none, .sigfd = -1, .claim_fd = -1};
	pthread_mutex_init(&w.lock, NULL);
	pthread_cond_init(&w.cond, NULL);
	pthread_mutex_init(&w.part_lock, NULL);
	w.ready_fd = w.opt->ready_fd;
	w.start_ns = clock_ns();
	w.firmware = pc_boots_firmware(spec);
	w.fw.slot = -1;
	bool have_plan = false, have_fw = false;
	int status = WORKER_EXIT_ERROR;

	w.cpu_done = calloc(spec->cpus ? spec->cpus : 1, sizeof(*w.cpu_done));
	if (!w.cpu_done) {
		log_error("out of memory");
		goto out_early;
	}
	if (w.opt->store_vm) {
		char err[512];
		if (vmstore_worker_claim(w.opt->store_vm, &w.claim_fd, err, sizeof(err)) < 0) {
			log_error("%s", err);
			goto out_early;
		}
	}
	if (kvm_host_open(&w.host) < 0)
		goto out_early;
	if (spec->cpus > w.host.max_vcpus) {
		log_error("%u vCPUs asked for; this KVM allows at most %u", spec->cpus,
			  w.host.max_vcpus);
		goto out_host;
	}
	if (machine_init(&w.m) < 0) {
		log_error("out of memory");
		goto out_host;
	}
	w.m.request = on_request;
	w.m.req_opaque = &w;
	w.m.cpus = spec->cpus;
	for (unsigned i = 0; i < w.host.cpuid->nent; i++)
		if (w.host.cpuid->entries[i].function == 0x80000008)
			w.m.phys_bits = w.host.cpuid->entries[i].eax & 0xff;
	if (block_signals(&w) < 0) {
		log_error("cannot set up signal handling: %s", strerror(errno));
		goto out_machine;
	}
	if (machine_alloc_ram(&w.m, spec->memory, spec->hugepages) < 0)
		goto out_machine;
	struct pc_options pcopt = {.firmware_log = w.opt->firmware_log, .firmware = w.firmware};
	if (pc_create(&w.m, spec, &pcopt) < 0)
		goto out_devices;
	if (spec->on_disk_error == ON_DISK_ERROR_PAUSE)
		worker_hook_disk_errors(&w);
	if (w.firmware) {
		if (firmware_prepare(&w.fw, &w.m, spec) < 0)
			goto out_devices;
		have_fw = true;
	} else {
		if (boot_prepare(&w.plan, &w.m, spec) < 0)
			goto out_devices;
		have_plan = true;
	}
	if (w.opt->timeout_ns) {
		w.timeout = evtimer_new(w.m.loop, timed_out, &w);
		if (w.timeout)
			evtimer_arm(w.timeout, w.opt->timeout_ns, 0);
	}
	control_start(&w);
	if (vnc_start(&w) < 0)
		goto out_devices;
	if (confine(&w) < 0)
		goto out_devices;
	bool capture = w.opt->screenshot || w.opt->screen_text;
	if (capture && w.opt->capture_after_ns) {
		w.capture = evtimer_new(w.m.loop, capture_now, &w);
		if (w.capture)
			evtimer_arm(w.capture, w.opt->capture_after_ns, 0);
	}

	for (;;) {
		enum machine_request req;
		int st;
		if (run_once(&w, &req, &st) < 0)
			break;
		if (req == MACHINE_RESET &&
		    (spec->on_reboot == ON_REBOOT_RESET || st == MACHINE_BY_HOST)) {
			control_set_state(w.ctl, "resetting", 0);
			machine_reset_devices(&w.m);
			continue;
		}
		switch (req) {
		case MACHINE_RESET: /* on_reboot = exit */
			status = 0;
			break;
		case MACHINE_POWEROFF:
			status = 0;
			/* The guest turned itself off (ACPI S5, its own power-off). */
			if (st != MACHINE_BY_HOST)
				control_emit(w.ctl, "shutdown", json_object());
			break;
		case MACHINE_EXIT:
			status = st;
			break;
		case MACHINE_CRASH:
			status = WORKER_EXIT_CRASH;
			break;
		}
		/* The screen as the VM left it. */
		if (capture && !w.opt->capture_after_ns &&
		    capture_screen(&w.m, w.opt->screenshot, w.opt->screen_text) < 0 && status == 0)
			status = WORKER_EXIT_ERROR;
		break;
	}

out_devices:
	/* Viewers go before the devices that feed them. */
	vnc_server_stop(w.vnc);
	control_set_state(w.ctl, "off", status);
	/* Control commands waiting on the loop give up, then the control
	 * thread ends, then what they left queued is let go. */
	worker_calls_end(&w);
	control_free(w.ctl);
	evloop_run_calls(w.m.loop);
	evtimer_free(w.timeout);
	evtimer_free(w.capture);
	/* Devices before the firmware image: the chipset maps it. */
	machine_destroy_devices(&w.m);
	if (have_plan)
		boot_release(&w.plan);
	if (have_fw)
		firmware_release(&w.fw, &w.m);
	machine_free_ram(&w.m);
out_machine:
	if (w.sigfd >= 0) {
		evloop_del_fd(w.m.loop, w.sigfd);
		close(w.sigfd);
	}
	machine_destroy(&w.m);
out_host:
	kvm_host_close(&w.host);
out_early:
	if (w.claim_fd >= 0)
		vmstore_worker_release(w.opt->store_vm, w.claim_fd);
	/* Still open: the VM never ran (osio start reads EOF). */
	if (w.ready_fd > 0)
		close(w.ready_fd);
	free(w.cpu_done);
	pthread_mutex_destroy(&w.part_lock);
	pthread_cond_destroy(&w.cond);
	pthread_mutex_destroy(&w.lock);
	return status;
}
