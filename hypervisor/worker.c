/* The worker main loop: platform assembly, boot, run, reset, exit. */
#include "hypervisor/worker.h"

#include "devices/device.h"
#include "hypervisor/boot/boot.h"
#include "hypervisor/kvm.h"
#include "hypervisor/log.h"
#include "hypervisor/machine.h"
#include "hypervisor/partition.h"
#include "hypervisor/platform.h"

#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <sys/signalfd.h>
#include <unistd.h>

struct worker {
	struct machine m;
	struct kvm_host host;
	struct partition part;
	const struct vm_spec *spec;
	pthread_mutex_t lock;
	bool pending;
	enum machine_request req;
	int status;
	int sigfd;
};

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

static const struct {
	uint16_t base;
	uint8_t irq;
} com_ports[VM_SERIAL_PORTS] = {
	{ 0x3f8, IRQ_COM1 }, { 0x2f8, IRQ_COM2 }, { 0x3e8, IRQ_COM1 }, { 0x2e8, IRQ_COM2 },
};

static const char *const backend_names[] = {
	[SERIAL_NONE] = "none", [SERIAL_STDIO] = "stdio", [SERIAL_PTY] = "pty",
	[SERIAL_SOCKET] = "socket", [SERIAL_FILE] = "file",
};

static int add(struct machine *m, const char *model, const char *id, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));

static int add(struct machine *m, const char *model, const char *id, const char *fmt, ...)
{
	struct devargs args = { 0 };
	if (fmt) {
		char text[1024];
		va_list ap;
		va_start(ap, fmt);
		vsnprintf(text, sizeof(text), fmt, ap);
		va_end(ap);
		if (devargs_parse(&args, text) < 0) {
			log_error("%s: bad device arguments '%s'", id, text);
			return -EINVAL;
		}
	}
	return machine_add_device(m, model, id, &args);
}

/* The PC platform's fixed devices, then the configured serial ports. */
static int create_platform(struct machine *m, const struct vm_spec *spec)
{
	int r;
	if ((r = add(m, "i8042", "i8042", NULL)) < 0 || (r = add(m, "rtc", "rtc", NULL)) < 0 ||
	    (r = add(m, "acpi-pm", "acpi-pm", NULL)) < 0 ||
	    (r = add(m, "fw_cfg", "fw_cfg", NULL)) < 0 ||
	    (r = add(m, "debug-exit", "debug-exit", NULL)) < 0 ||
	    (r = add(m, "port80", "port80", NULL)) < 0)
		return r;
	for (unsigned i = 0; i < VM_SERIAL_PORTS; i++) {
		const struct serial_spec *s = &spec->serial[i];
		if (!s->present)
			continue;
		char id[8];
		snprintf(id, sizeof(id), "com%u", i + 1);
		r = add(m, "uart16550", id, "base=0x%x,irq=%u,name=COM%u,backend=%s%s%s%s",
			com_ports[i].base, com_ports[i].irq, i + 1, backend_names[s->backend],
			s->path[0] ? ",path=\"" : "", s->path, s->path[0] ? "\"" : "");
		if (r < 0)
			return r;
	}
	return 0;
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

/* One power-on of the VM: a fresh partition, the kernel loaded, vCPUs run
 * until a request arrives. Returns the request. */
static int run_once(struct worker *w, struct boot_plan *plan, enum machine_request *req,
		    int *status)
{
	atomic_store(&w->m.stopping, false);
	int r = partition_create(&w->part, &w->host, &w->m, w->spec->cpus);
	if (r < 0)
		return r;
	if ((r = boot_load(plan, &w->m, w->part.vcpus[0])) < 0 ||
	    (r = partition_start(&w->part)) < 0) {
		partition_destroy(&w->part);
		return r;
	}
	r = evloop_run(w->m.loop);
	partition_stop(&w->part);
	partition_destroy(&w->part);
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

int worker_run(const struct vm_spec *spec)
{
	struct worker w = { .spec = spec, .sigfd = -1 };
	pthread_mutex_init(&w.lock, NULL);
	struct boot_plan plan;
	bool have_plan = false;
	int status = WORKER_EXIT_ERROR;

	if (kvm_host_open(&w.host) < 0)
		return WORKER_EXIT_ERROR;
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
	if (block_signals(&w) < 0) {
		log_error("cannot set up signal handling: %s", strerror(errno));
		goto out_machine;
	}
	if (machine_alloc_ram(&w.m, spec->memory, spec->hugepages) < 0)
		goto out_machine;
	if (create_platform(&w.m, spec) < 0)
		goto out_devices;
	if (boot_prepare(&plan, &w.m, spec) < 0)
		goto out_devices;
	have_plan = true;

	for (;;) {
		enum machine_request req;
		int st;
		if (run_once(&w, &plan, &req, &st) < 0)
			break;
		if (req == MACHINE_RESET && spec->on_reboot == ON_REBOOT_RESET) {
			machine_reset_devices(&w.m);
			continue;
		}
		switch (req) {
		case MACHINE_RESET: /* on_reboot = exit */
		case MACHINE_POWEROFF:
			status = 0;
			break;
		case MACHINE_EXIT:
			status = st;
			break;
		case MACHINE_CRASH:
			status = WORKER_EXIT_CRASH;
			break;
		}
		break;
	}

out_devices:
	machine_destroy_devices(&w.m);
	if (have_plan)
		boot_release(&plan);
	machine_free_ram(&w.m);
out_machine:
	if (w.sigfd >= 0) {
		evloop_del_fd(w.m.loop, w.sigfd);
		close(w.sigfd);
	}
	machine_destroy(&w.m);
out_host:
	kvm_host_close(&w.host);
	pthread_mutex_destroy(&w.lock);
	return status;
}
