/* osio autostart / osio autostop: what osio.service runs at the host's boot and shutdown. The
 * VMs marked autostart started in order, each after its delay; each running VM's stop_action
 * applied, all VMs at once, each by the osio command that does it (start, shutdown, save, stop). */
#include "cli/commands.h"

#include "hypervisor/kvm.h"
#include "hypervisor/log.h"
#include "hypervisor/vmstore.h"
#include "vmconfig/vmconfig.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <pthread.h>
#include <spawn.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

extern char **environ;

enum stop_action { STOP_SHUTDOWN, STOP_SAVE, STOP_OFF };

static const char *const stop_action_names[] = {"shutdown", "save", "off"};

/* One VM of the store, its autostart settings ([vm], osio-vmconfig(5)) and,
 * for autostop, what became of it. */
struct auto_vm {
	char name[65];
	enum vm_state state;
	bool autostart;
	unsigned order, delay, timeout;
	enum stop_action action;
	char problem[512]; /* its vmconfig does not load: why */
	bool failed;
	char outcome[2048];
};

/* --- settings ------------------------------------------------------------------------------- */

static unsigned get_uint(const struct vmconfig *cfg, const char *key, unsigned def, unsigned max)
{
	const char *v = vmconfig_get(cfg, "vm", NULL, key);
	uint64_t u;
	if (!v || vmconfig_parse_uint(v, 0, max, &u, NULL, 0) < 0)
		return def;
	return (unsigned)u;
}

/* The VM's settings and state: 0, or -errno with v->problem set. */
static int read_vm(const char *name, struct auto_vm *v)
{
	char path[PATH_MAX];
	struct vmconfig_error e;
	struct vm_info info;

	memset(v, 0, sizeof(*v));
	snprintf(v->name, sizeof(v->name), "%s", name);
	v->order = 0;
	v->timeout = 120;
	v->state = vmstore_info(name, &info) == 0 ? info.state : VM_OFF;
	int r = vmstore_vmconfig(name, path, sizeof(path));
	if (r < 0) {
		snprintf(v->problem, sizeof(v->problem), "its vmconfig's path: %s", strerror(-r));
		return r;
	}
	struct vmconfig *cfg = vmconfig_load(path, &e);
	if (!cfg) {
		vmconfig_error_format(&e, v->problem, sizeof(v->problem));
		return -EINVAL;
	}
	const char *s = vmconfig_get(cfg, "vm", NULL, "autostart");
	bool b = false;
	v->autostart = s && vmconfig_parse_bool(s, &b, NULL, 0) == 0 && b;
	v->order = get_uint(cfg, "autostart_order", 0, 999);
	v->delay = get_uint(cfg, "autostart_delay", 0, 3600);
	v->timeout = get_uint(cfg, "stop_timeout", 120, 3600);
	if (!v->timeout)
		v->timeout = 120;
	s = vmconfig_get(cfg, "vm", NULL, "stop_action");
	v->action = STOP_SHUTDOWN;
	for (unsigned i = 0; s && i < 3; i++)
		if (strcasecmp(s, stop_action_names[i]) == 0)
			v->action = (enum stop_action)i;
	vmconfig_free(cfg);
	return 0;
}

/* Every VM of the store into *out (sorted by name); the count, or -errno. */
static int read_store(struct auto_vm **out)
{
	char **names;
	unsigned n;
	int r = vmstore_list(&names, &n);
	if (r < 0) {
		log_error("cannot list the VM store: %s", strerror(-r));
		return r;
	}
	struct auto_vm *vms = calloc(n ? n : 1, sizeof(*vms));
	if (!vms) {
		vmstore_free_names(names);
		log_error("out of memory");
		return -ENOMEM;
	}
	for (unsigned i = 0; i < n; i++)
		read_vm(names[i], &vms[i]);
	vmstore_free_names(names);
	*out = vms;
	return (int)n;
}

/* --- running osio commands -------------------------------------------------------------------- */

/* Runs this osio again with args (its stdin /dev/null); with out, its stdout and stderr are
 * caught and their last line goes to out, else they are ours. The exit status, or -1 when it
 * could not run (out says why). */
static int run_osio(const char *const *args, char *out, size_t outlen)
{
	const char *argv[8] = {"osio"};
	unsigned n = 1;
	for (; args[n - 1] && n < 7; n++)
		argv[n] = args[n - 1];
	argv[n] = NULL;

	posix_spawn_file_actions_t fa;
	int pipefd[2] = {-1, -1}, r;
	pid_t pid;
	if (out) {
		out[0] = 0;
		if (pipe2(pipefd, O_CLOEXEC) < 0) {
			snprintf(out, outlen, "pipe: %s", strerror(errno));
			return -1;
		}
	}
	posix_spawn_file_actions_init(&fa);
	posix_spawn_file_actions_addopen(&fa, 0, "/dev/null", O_RDONLY, 0);
	if (out) {
		posix_spawn_file_actions_adddup2(&fa, pipefd[1], 1);
		posix_spawn_file_actions_adddup2(&fa, pipefd[1], 2);
	}
	r = posix_spawn(&pid, "/proc/self/exe", &fa, NULL, (char *const *)argv, environ);
	posix_spawn_file_actions_destroy(&fa);
	if (out)
		close(pipefd[1]);
	if (r != 0) {
		if (out) {
			snprintf(out, outlen, "cannot run osio %s: %s", args[0], strerror(r));
			close(pipefd[0]);
		} else {
			log_error("cannot run osio %s: %s", args[0], strerror(r));
		}
		return -1;
	}
	if (out) {
		/* The last line that is not empty. */
		char buf[1024], line[1024] = "";
		size_t len = 0;
		ssize_t got;
		while ((got = read(pipefd[0], buf, sizeof(buf))) != 0) {
			if (got < 0) {
				if (errno == EINTR)
					continue;
				break;
			}
			for (ssize_t i = 0; i < got; i++) {
				if (buf[i] == '\n') {
					if (len) {
						line[len] = 0;
						snprintf(out, outlen, "%s", line);
					}
					len = 0;
				} else if (len + 1 < sizeof(line)) {
					line[len++] = buf[i];
				}
			}
		}
		if (len) {
			line[len] = 0;
			snprintf(out, outlen, "%s", line);
		}
		close(pipefd[0]);
	}
	int status;
	while (waitpid(pid, &status, 0) < 0)
		if (errno != EINTR)
			return -1;
	return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
}

/* --- osio autostart ------------------------------------------------------------------------- */

static int by_order(const void *a, const void *b)
{
	const struct auto_vm *x = a, *y = b;
	if (x->order != y->order)
		return x->order < y->order ? -1 : 1;
	return strcmp(x->name, y->name);
}

static void autostart_usage(FILE *f)
{
	fprintf(f, "usage: osio autostart [--dry-run]\n"
		   "\n"
		   "Starts every VM of the store whose vmconfig says autostart = yes and that is\n"
		   "Off or Saved (a saved VM resumes), one after the other by autostart_order\n"
		   "(lower first, then by name), waiting each VM's autostart_delay seconds before\n"
		   "starting it. One line for each VM. osio.service runs it at boot (with\n"
		   "osio --system: the system's VMs); a user can run it on the own store.\n"
		   "\n"
		   "      --dry-run   print what it would do, start nothing\n"
		   "  -h, --help      this text\n"
		   "\n"
		   "Exit status: 0 when every VM marked autostart runs, 1 when one could not be\n"
		   "started (the others still are), 2 for a usage error.\n");
}

static bool startable(enum vm_state s)
{
	return s == VM_OFF || s == VM_SAVED;
}

/* --dry-run (-n) and --help, the only options of both commands: -1 to go on, else the exit
 * status (0 after --help, 2 for anything else). */
static int parse_args(int argc, char **argv, const char *cmd, void (*usage)(FILE *), bool *dry)
{
	for (int i = 1; i < argc; i++) {
		if (!strcmp(argv[i], "--dry-run") || !strcmp(argv[i], "-n")) {
			*dry = true;
		} else if (!strcmp(argv[i], "--help") || !strcmp(argv[i], "-h")) {
			usage(stdout);
			return 0;
		} else {
			log_error("unknown argument '%s' (see osio %s --help)", argv[i], cmd);
			return 2;
		}
	}
	return -1;
}

int cmd_autostart(int argc, char **argv)
{
	bool dry = false;
	struct auto_vm *vms;
	char why[512];

	log_set_prog("osio autostart");
	int st = parse_args(argc, argv, "autostart", autostart_usage, &dry);
	if (st >= 0)
		return st;
	int n = read_store(&vms);
	if (n < 0)
		return 1;
	qsort(vms, (size_t)n, sizeof(*vms), by_order);

	int failed = 0, todo = 0;
	for (int i = 0; i < n; i++) {
		if (vms[i].problem[0]) {
			log_error("VM '%s' is left alone: its vmconfig does not load: %s",
				  vms[i].name, vms[i].problem);
			failed++;
		} else if (vms[i].autostart && startable(vms[i].state)) {
			todo++;
		}
	}
	bool kvm_ok = kvm_check_access(why, sizeof(why)) == 0;
	if (todo && !kvm_ok && !dry) {
		log_error("%s; no VM started", why);
		free(vms);
		return 1;
	}
	for (int i = 0; i < n; i++) {
		struct auto_vm *v = &vms[i];
		if (v->problem[0] || !v->autostart)
			continue;
		if (!startable(v->state)) {
			if (v->state == VM_CRASHED)
				printf(
				    "VM '%s' is Crashed: not started (osio start %s starts it)\n",
				    v->name, v->name);
			else
				printf("VM '%s' is %s already\n", v->name, vm_state_name(v->state));
			continue;
		}
		if (dry) {
			printf("would %s VM '%s' (autostart_order %u) after waiting %u s\n",
			       v->state == VM_SAVED ? "resume" : "start", v->name, v->order,
			       v->delay);
			continue;
		}
		if (v->delay) {
			struct timespec ts = {.tv_sec = v->delay};
			fflush(stdout);
			while (nanosleep(&ts, &ts) < 0 && errno == EINTR)
				;
		}
		fflush(stdout);
		fflush(stderr);
		const char *args[] = {"start", "--", v->name, NULL};
		if (run_osio(args, NULL, 0) != 0)
			failed++;
	}
	if (dry && todo && !kvm_ok)
		printf("(%s)\n", why);
	if (!todo && !dry)
		printf("no VM to start: none is marked autostart = yes and Off or Saved\n");
	free(vms);
	return failed ? 1 : 0;
}

/* --- osio autostop -------------------------------------------------------------------------- */

static pthread_mutex_t print_lock = PTHREAD_MUTEX_INITIALIZER;

static bool stoppable(enum vm_state s)
{
	return s == VM_RUNNING || s == VM_PAUSED || s == VM_STARTING;
}

/* One VM's stop_action, told on one line. */
static void *stop_one(void *arg)
{
	struct auto_vm *v = arg;
	char out[600], timeout[16];

	if (v->action == STOP_OFF) {
		const char *args[] = {"stop", v->name, NULL};
		v->failed = run_osio(args, out, sizeof(out)) != 0;
		snprintf(v->outcome, sizeof(v->outcome), "%s", out);
		goto tell;
	}
	if (v->action == STOP_SHUTDOWN) {
		/* The power button does nothing to stopped processors. */
		if (v->state == VM_PAUSED) {
			const char *args[] = {"resume", v->name, NULL};
			run_osio(args, out, sizeof(out));
		}
		snprintf(timeout, sizeof(timeout), "%u", v->timeout);
		const char *args[] = {"shutdown", v->name, "--timeout", timeout, NULL};
		if (run_osio(args, out, sizeof(out)) == 0 || !vmstore_worker_alive(v->name, NULL)) {
			snprintf(v->outcome, sizeof(v->outcome), "VM '%s' shut down", v->name);
			goto tell;
		}
	}
	char save_out[600];
	const char *args[] = {"save", v->name, NULL};
	v->failed = run_osio(args, save_out, sizeof(save_out)) != 0;
	if (v->action == STOP_SHUTDOWN)
		snprintf(v->outcome, sizeof(v->outcome),
			 "VM '%s' did not shut down within %u s: %s", v->name, v->timeout,
			 save_out);
	else
		snprintf(v->outcome, sizeof(v->outcome), "%s", save_out);
	if (v->failed && vmstore_worker_alive(v->name, NULL)) {
		/* Not saved: off rather than killed when the host goes down. */
		const char *off[] = {"stop", v->name, NULL};
		size_t l = strlen(v->outcome);
		bool off_ok = run_osio(off, out, sizeof(out)) == 0;
		snprintf(v->outcome + l, sizeof(v->outcome) - l, "; %s",
			 off_ok ? "powered off instead" : out);
	}
tell:
	pthread_mutex_lock(&print_lock);
	if (v->failed) {
		log_error("%s", v->outcome);
	} else {
		printf("%s\n", v->outcome);
		fflush(stdout);
	}
	pthread_mutex_unlock(&print_lock);
	return NULL;
}

static void autostop_usage(FILE *f)
{
	fprintf(f, "usage: osio autostop [--dry-run]\n"
		   "\n"
		   "Applies each running or paused VM's stop_action, all VMs at once:\n"
		   "  shutdown  the ACPI power button, and the VM saved if the guest is not off\n"
		   "            after stop_timeout seconds (a paused VM is resumed first)\n"
		   "  save      the VM's state saved (osio start or osio autostart resumes it)\n"
		   "  off       powered off at once\n"
		   "One line for each VM. osio.service runs it when the host shuts down.\n"
		   "\n"
		   "      --dry-run   print what it would do, stop nothing\n"
		   "  -h, --help      this text\n"
		   "\n"
		   "Exit status: 0 when no VM runs any more, 1 when one could not be stopped as\n"
		   "its stop_action says, 2 for a usage error.\n");
}

int cmd_autostop(int argc, char **argv)
{
	bool dry = false;
	struct auto_vm *vms;

	log_set_prog("osio autostop");
	int st = parse_args(argc, argv, "autostop", autostop_usage, &dry);
	if (st >= 0)
		return st;
	int n = read_store(&vms);
	if (n < 0)
		return 1;
	pthread_t *threads = calloc((size_t)n + 1, sizeof(*threads));
	bool *started = calloc((size_t)n + 1, sizeof(*started));
	if (!threads || !started) {
		log_error("out of memory");
		free(threads);
		free(started);
		free(vms);
		return 1;
	}
	int failed = 0, running = 0;
	for (int i = 0; i < n; i++) {
		struct auto_vm *v = &vms[i];
		if (!stoppable(v->state))
			continue;
		running++;
		/* A vmconfig that does not load: the default, shutdown. */
		if (v->problem[0])
			log_warn("VM '%s': its vmconfig does not load (%s): stop_action shutdown",
				 v->name, v->problem);
		if (dry) {
			static const char *const verbs[] = {"shut down", "save", "power off"};
			printf("would %s VM '%s' (%s)%s\n", verbs[v->action], v->name,
			       vm_state_name(v->state),
			       v->action == STOP_SHUTDOWN ? ", saving it if not off in time" : "");
			continue;
		}
		int r = pthread_create(&threads[i], NULL, stop_one, v);
		if (r) {
			/* Not in parallel, then. */
			stop_one(v);
			continue;
		}
		started[i] = true;
	}
	for (int i = 0; i < n; i++)
		if (started[i])
			pthread_join(threads[i], NULL);
	for (int i = 0; i < n; i++)
		if (stoppable(vms[i].state) && vms[i].failed)
			failed++;
	if (!running)
		printf("no VM is running\n");
	free(threads);
	free(started);
	free(vms);
	return failed ? 1 : 0;
}
