/* osio's commands as clients of a VM's worker: connect by name (a VM that
 * does not run is described from the store), one-line failures, waiting for
 * states and for the worker to be gone. */
#include "cli/ctlclient.h"

#include "hypervisor/ctlclient.h"
#include "hypervisor/log.h"
#include "hypervisor/vmstore.h"

#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

static long long now_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static void on_event(void *opaque, const char *name, json_t *data, int fd)
{
	struct vmctl *v = opaque;
	if (fd >= 0)
		close(fd);
	if (strcmp(name, "state") == 0) {
		const char *s = json_string_value(json_object_get(data, "state"));
		if (s)
			snprintf(v->state, sizeof(v->state), "%s", s);
		json_t *st = json_object_get(data, "status");
		if (s && strcmp(s, "off") == 0)
			v->off_status = json_is_integer(st) ? (int)json_integer_value(st) : 0;
	} else if (strcmp(name, "error") == 0) {
		const char *d = json_string_value(json_object_get(data, "message"));
		const char *cmd = json_string_value(json_object_get(data, "command"));
		snprintf(v->error, sizeof(v->error), "%s", d ? d : "an error (no description)");
		snprintf(v->error_command, sizeof(v->error_command), "%s", cmd ? cmd : "");
	} else if (strcmp(name, "shutdown") == 0) {
		v->guest_shutdown = true;
	}
}

/* Why the VM cannot be reached, from the store. */
static void not_running(const char *name, const char *why)
{
	struct vm_info info;
	if (vmstore_info(name, &info) < 0) {
		log_error(
		    "there is no VM called '%s' (osio list shows them; osio create makes one)",
		    name);
		return;
	}
	switch (info.state) {
	case VM_OFF:
		log_error("VM '%s' is not running (it is Off); osio start %s starts it", name,
			  name);
		break;
	case VM_SAVED:
		log_error("VM '%s' is not running (it is Saved); osio start %s resumes it", name,
			  name);
		break;
	case VM_CRASHED:
		log_error("VM '%s' is not running (its worker crashed; osio status %s shows its "
			  "log); osio start %s starts it again",
			  name, name, name);
		break;
	default:
		log_error("VM '%s' does not answer on its control socket: %s", name, why);
		break;
	}
}

int vmctl_open(const char *name, struct vmctl *v)
{
	struct ctl_handlers h = {.event = on_event, .opaque = v};
	char err[600];

	memset(v, 0, sizeof(*v));
	v->off_status = -1;
	snprintf(v->name, sizeof(v->name), "%s", name);
	if (strchr(name, '/')) {
		log_error("'%s' is not a VM name", name);
		return -EINVAL;
	}
	int r = ctl_open(name, &h, &v->c, err, sizeof(err));
	if (r == -ENOENT || r == -ECONNREFUSED || r == -ECONNRESET) {
		not_running(name, err);
		return r;
	}
	if (r < 0) {
		log_error("VM '%s': %s", name, err);
		return r;
	}
	json_t *st = NULL;
	r = ctl_call(v->c, "query-status", NULL, &st, NULL, CTL_TIMEOUT_MS);
	if (r < 0) {
		log_error("VM '%s': %s", name, ctl_error(v->c));
		vmctl_close(v);
		return r;
	}
	const char *s = json_string_value(json_object_get(st, "state"));
	snprintf(v->state, sizeof(v->state), "%s", s ? s : "");
	json_t *pid = json_object_get(st, "pid");
	v->pid = json_is_integer(pid) ? (int)json_integer_value(pid) : 0;
	json_decref(st);
	return 0;
}

void vmctl_close(struct vmctl *v)
{
	ctl_close(v->c);
	v->c = NULL;
}

int vmctl_call(struct vmctl *v, const char *cmd, json_t *args, json_t **ret, int timeout_ms)
{
	return vmctl_call_fd(v, cmd, args, -1, ret, timeout_ms);
}

int vmctl_call_fd(struct vmctl *v, const char *cmd, json_t *args, int pass_fd, json_t **ret,
		  int timeout_ms)
{
	int r = ctl_call_fd(v->c, cmd, args, pass_fd, ret, NULL, timeout_ms);
	if (r == -ECONNRESET)
		v->closed = true;
	if (r < 0)
		log_error("VM '%s': %s", v->name, ctl_error(v->c));
	return r;
}

int vmctl_wait_state(struct vmctl *v, const char *state, const char *command, int timeout_ms)
{
	long long deadline = timeout_ms < 0 ? -1 : now_ms() + timeout_ms;
	for (;;) {
		if (strcmp(v->state, state) == 0)
			return 0;
		if (command && v->error[0] && strcmp(v->error_command, command) == 0)
			return -ECANCELED;
		if (v->closed)
			return strcmp(state, "off") == 0 ? 0 : -ECONNRESET;
		int left = -1;
		if (deadline >= 0) {
			long long l = deadline - now_ms();
			if (l <= 0)
				return -ETIMEDOUT;
			left = (int)l;
		}
		int r = ctl_read(v->c, left);
		if (r == -ECONNRESET || r == -EPROTO)
			v->closed = true;
		else if (r < 0)
			return r;
	}
}

/* Whether pid is gone (or a zombie waiting for init). */
static bool gone(int pid)
{
	char path[64], buf[256];
	if (kill(pid, 0) < 0 && errno == ESRCH)
		return true;
	snprintf(path, sizeof(path), "/proc/%d/stat", pid);
	FILE *f = fopen(path, "re");
	if (!f)
		return true;
	size_t n = fread(buf, 1, sizeof(buf) - 1, f);
	fclose(f);
	buf[n] = '\0';
	const char *p = strrchr(buf, ')');
	return p && p[1] == ' ' && (p[2] == 'Z' || p[2] == 'X');
}

int vmctl_wait_gone(int pid, int timeout_ms)
{
	long long deadline = now_ms() + timeout_ms;
	if (pid <= 0)
		return 0;
	while (!gone(pid)) {
		if (now_ms() >= deadline)
			return -ETIMEDOUT;
		struct timespec ts = {.tv_nsec = 20 * 1000000};
		nanosleep(&ts, NULL);
	}
	return 0;
}
