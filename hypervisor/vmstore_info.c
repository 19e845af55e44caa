/* What osio list shows of a VM (vmstore_info): its state from the store's
 * files, a dead worker's claim turned into Crashed, and a running worker's
 * state, VNC address and CPU use from its control socket. */
#include "hypervisor/vmstore.h"
#include "hypervisor/vmstore_int.h"

#include "hypervisor/ctlclient.h"
#include "hypervisor/runtime_dir.h"
#include "hypervisor/store.h"
#include "vmconfig/vmconfig.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

/* How long one VM's worker may take to answer osio list: a hung worker
 * costs the list this much (the list asks its VMs in parallel). */
#define QUERY_TIMEOUT_MS 300
/* CPU % is over the time since the previous osio list when that was at
 * least CPU_MIN_NS ago and at most CPU_MAX_NS; else over the whole run. */
#define CPU_MIN_NS     (200ull * 1000 * 1000)
#define CPU_MAX_NS     (600ull * 1000 * 1000 * 1000)
#define LOG_TAIL_LINES 5
#define LOG_LINE_MAX   200

const char *vm_state_name(enum vm_state s)
{
	static const char *const names[] = {
	    [VM_OFF] = "Off",	      [VM_STARTING] = "Starting", [VM_RUNNING] = "Running",
	    [VM_PAUSED] = "Paused",   [VM_SAVING] = "Saving",	  [VM_SAVED] = "Saved",
	    [VM_CRASHED] = "Crashed",
	};
	return (unsigned)s < sizeof(names) / sizeof(names[0]) && names[s] ? names[s] : "Unknown";
}

/* --- what osio list shows ------------------------------------------------------ */

struct claim_text {
	int pid;
	char boot[40];
	uint64_t start_ns;
};

static bool parse_claim(const char *text, struct claim_text *c)
{
	unsigned long long start;

	return sscanf(text, "%d %39s %llu", &c->pid, c->boot, &start) == 3 && c->pid > 0 &&
	       (c->start_ns = start, true);
}

static ssize_t read_small(int fd, char *buf, size_t size)
{
	ssize_t n = pread(fd, buf, size - 1, 0);

	buf[n > 0 ? n : 0] = '\0';
	return n;
}

static void remove_sockets(const char *name)
{
	char dir[PATH_BUF], path[PATH_BUF + 80];

	if (runtime_dir_path(dir, sizeof(dir)) < 0)
		return;
	snprintf(path, sizeof(path), "%s/%s.sock", dir, name);
	unlink(path);
	snprintf(path, sizeof(path), "%s/%s.serial", dir, name);
	unlink(path);
	snprintf(path, sizeof(path), "%s/%s.list", dir, name);
	unlink(path);
}

/* A .running nobody holds (fd locked by us): a worker that died during this
 * boot becomes .crashed; one from an earlier boot is just removed. */
static void clean_stale(const char *name, int fd, const char *path)
{
	char text[256], id[40], crashed[PATH_BUF], err[256];
	struct claim_text c;

	read_small(fd, text, sizeof(text));
	if (!parse_claim(text, &c))
		return; /* a claim being written, or not ours: leave it alone */
	/* The sockets first: a new worker cannot claim the VM (and make
	 * new ones) before .running is gone. */
	remove_sockets(name);
	vmstore_boot_id(id);
	if (strcmp(id, c.boot) == 0 &&
	    vmstore_path(name, ".crashed", crashed, sizeof(crashed)) == 0) {
		char out[320];
		int n = snprintf(out, sizeof(out), "%d %s %" PRIu64 " %lld\n", c.pid, c.boot,
				 c.start_ns, (long long)time(NULL));
		store_write_atomic(crashed, out, (size_t)n, 0600, true, err, sizeof(err));
	}
	store_remove(path, err, sizeof(err));
}

/* The last lines of the VM's worker.log into out. */
static void log_tail(const char *name, char *out, size_t size)
{
	char path[PATH_BUF], buf[8192];
	int fd;

	out[0] = '\0';
	if (vmstore_path(name, "worker.log", path, sizeof(path)) < 0 ||
	    (fd = open(path, O_RDONLY | O_CLOEXEC)) < 0)
		return;
	off_t end = lseek(fd, 0, SEEK_END);
	off_t from = end > (off_t)sizeof(buf) - 1 ? end - (off_t)sizeof(buf) + 1 : 0;
	ssize_t n = pread(fd, buf, sizeof(buf) - 1, from);
	close(fd);
	if (n <= 0)
		return;
	while (n > 0 && (buf[n - 1] == '\n' || buf[n - 1] == '\r'))
		n--;
	buf[n] = '\0';
	/* Back LOG_TAIL_LINES line ends from the end. */
	char *start = buf;
	int lines = 0;
	for (char *p = buf + n; p > buf; p--) {
		if (p[-1] == '\n' && ++lines == LOG_TAIL_LINES) {
			start = p;
			break;
		}
	}
	if (from > 0 && start == buf) {
		char *nl = strchr(buf, '\n'); /* a partial first line */
		start = nl ? nl + 1 : buf;
	}
	size_t used = 0;
	for (char *line = start; line && *line && used + 1 < size;) {
		char *nl = strchr(line, '\n');
		size_t len = nl ? (size_t)(nl - line) : strlen(line);
		if (len && line[len - 1] == '\r')
			len--;
		int w = snprintf(out + used, size - used, "%s%.*s", used ? "\n" : "",
				 (int)(len > LOG_LINE_MAX ? LOG_LINE_MAX : len), line);
		if (w < 0 || (size_t)w >= size - used)
			break;
		/* No terminal escapes from the log onto the user's screen. */
		for (char *p = out + used + (used ? 1 : 0); p < out + used + w; p++)
			if ((unsigned char)*p < 0x20 && *p != '\t')
				*p = '?';
		used += (size_t)w;
		line = nl ? nl + 1 : NULL;
	}
}

/* Memory and vCPUs from the vmconfig (its defaults for what it leaves out). */
static void config_info(const char *name, struct vm_info *info)
{
	char path[PATH_BUF];
	struct vmconfig_error verr;
	struct vm_spec *spec = malloc(sizeof(*spec));
	struct vmconfig *cfg = NULL;

	if (!spec || vmstore_vmconfig(name, path, sizeof(path)) < 0 ||
	    !(cfg = vmconfig_load(path, &verr)))
		goto out;
	vm_spec_defaults(spec);
	if (vmconfig_to_spec(cfg, spec, &verr) == 0) {
		info->memory = spec->memory;
		info->cpus = spec->cpus;
	}
out:
	vmconfig_free(cfg);
	free(spec);
}

/* What the previous osio list saw of a running worker: RUNTIME/NAME.list,
 * "PID START_NS SAMPLE_NS CPU_NS STATE MEMORY CPUS VNC". */
struct sample {
	int pid;
	uint64_t start_ns, at_ns, cpu_ns, memory;
	unsigned cpus;
	int state;
	char vnc[128];
};

static int sample_path(const char *name, char *buf, size_t size)
{
	char dir[PATH_BUF];
	int r = runtime_dir_path(dir, sizeof(dir));
	if (r < 0)
		return r;
	int n = snprintf(buf, size, "%s/%s.list", dir, name);
	return n < 0 || (size_t)n >= size ? -ENAMETOOLONG : 0;
}

static bool sample_read(const char *name, struct sample *s)
{
	char path[PATH_BUF], text[512];
	unsigned long long start, at, cpu, mem;
	int fd;

	if (sample_path(name, path, sizeof(path)) < 0 ||
	    (fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW)) < 0)
		return false;
	read_small(fd, text, sizeof(text));
	close(fd);
	if (sscanf(text, "%d %llu %llu %llu %d %llu %u %127s", &s->pid, &start, &at, &cpu,
		   &s->state, &mem, &s->cpus, s->vnc) != 8 ||
	    s->state < VM_OFF || s->state > VM_CRASHED)
		return false;
	s->start_ns = start;
	s->at_ns = at;
	s->cpu_ns = cpu;
	s->memory = mem;
	if (strcmp(s->vnc, "-") == 0)
		s->vnc[0] = '\0';
	return true;
}

/* A cache: written to a temporary name and renamed, never synced. */
static void sample_write(const char *name, const struct sample *s)
{
	char path[PATH_BUF], tmp[PATH_BUF + 32], text[512];
	int n, fd;

	if (sample_path(name, path, sizeof(path)) < 0)
		return;
	snprintf(tmp, sizeof(tmp), "%s.%d", path, (int)getpid());
	n = snprintf(text, sizeof(text),
		     "%d %" PRIu64 " %" PRIu64 " %" PRIu64 " %d %" PRIu64 " %u %s\n", s->pid,
		     s->start_ns, s->at_ns, s->cpu_ns, s->state, s->memory, s->cpus,
		     s->vnc[0] ? s->vnc : "-");
	fd =
	    open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC | O_NOFOLLOW, store_file_mode(0600));
	if (fd < 0)
		return;
	bool ok = write(fd, text, (size_t)n) == n;
	close(fd);
	if (!ok || rename(tmp, path) < 0)
		unlink(tmp);
}

/* CPU time the worker process has used (all its threads), from /proc: for
 * workers without the stats command. */
static bool proc_cpu_ns(int pid, uint64_t *out)
{
	char path[64], text[1024];
	unsigned long long utime, stime;
	int fd;

	snprintf(path, sizeof(path), "/proc/%d/stat", pid);
	if ((fd = open(path, O_RDONLY | O_CLOEXEC)) < 0)
		return false;
	read_small(fd, text, sizeof(text));
	close(fd);
	/* Fields 14 and 15 after the command, which is in parentheses. */
	char *p = strrchr(text, ')');
	if (!p || sscanf(p + 1, " %*c %*d %*d %*d %*d %*d %*u %*u %*u %*u %*u %llu %llu", &utime,
			 &stime) != 2)
		return false;
	long hz = sysconf(_SC_CLK_TCK);
	*out = (utime + stime) * (1000000000ull / (uint64_t)(hz > 0 ? hz : 100));
	return true;
}

static uint64_t json_u64(json_t *o, const char *key)
{
	json_t *v = json_object_get(o, key);
	if (json_is_integer(v) && json_integer_value(v) > 0)
		return (uint64_t)json_integer_value(v);
	if (json_is_real(v) && json_real_value(v) > 0)
		return (uint64_t)json_real_value(v);
	return 0;
}

enum vm_state vmstore_worker_state(const char *s)
{
	if (!s || strcmp(s, "starting") == 0)
		return VM_STARTING;
	if (strcmp(s, "paused") == 0)
		return VM_PAUSED;
	if (strcmp(s, "saving") == 0)
		return VM_SAVING;
	/* running, resetting (a reboot), off (ending): the worker is up. */
	return VM_RUNNING;
}

bool vmstore_stats_cpu(json_t *ret, uint64_t *cpu_ns, uint64_t *uptime_ns)
{
	json_t *vcpus = json_object_get(ret, "vcpus"), *v;
	size_t i;

	*uptime_ns = json_u64(ret, "uptime-ns");
	if (json_is_integer(json_object_get(ret, "cpu-time-ns"))) {
		*cpu_ns = json_u64(ret, "cpu-time-ns");
		return true;
	}
	if (!json_is_array(vcpus))
		return false;
	*cpu_ns = 0;
	json_array_foreach(vcpus, i, v) *cpu_ns += json_u64(v, "time-ns");
	return true;
}

/* Connects to the worker's control socket, waiting at most until deadline
 * (ms of CLOCK_MONOTONIC) for the connection and the whole greeting: a
 * worker that sends half of it and stops is not waited for longer. */
static int query_open(const char *name, struct ctl_client **c, long long deadline)
{
	char err[512];
	long long left = deadline - (long long)(vmstore_now_ns(CLOCK_MONOTONIC) / 1000000);
	if (left <= 0)
		return -ETIMEDOUT;
	return ctl_open_timeout(name, NULL, c, err, sizeof(err), (int)left);
}

/* Asks a running worker; false when it did not answer in time. */
static bool query_worker(const char *name, struct vm_info *info, uint64_t *cpu_ns,
			 uint64_t *uptime_ns, bool *have_cpu)
{
	long long deadline =
	    (long long)(vmstore_now_ns(CLOCK_MONOTONIC) / 1000000) + QUERY_TIMEOUT_MS;
	struct ctl_client *c = NULL;
	json_t *ret = NULL;
	bool ok = false;

	if (query_open(name, &c, deadline) < 0)
		return false;
	int left = (int)(deadline - (long long)(vmstore_now_ns(CLOCK_MONOTONIC) / 1000000));
	if (left <= 0 || ctl_call(c, "query-status", NULL, &ret, NULL, left) < 0)
		goto out;
	info->state = vmstore_worker_state(json_string_value(json_object_get(ret, "state")));
	if (json_u64(ret, "memory"))
		info->memory = json_u64(ret, "memory");
	if (json_u64(ret, "cpus"))
		info->cpus = (unsigned)json_u64(ret, "cpus");
	const char *vnc = json_string_value(json_object_get(ret, "vnc"));
	snprintf(info->vnc, sizeof(info->vnc), "%s", vnc ? vnc : "");
	json_decref(ret);
	ret = NULL;
	ok = true;
	/* stats (protocol 2): older workers answer unknown-command. */
	left = (int)(deadline - (long long)(vmstore_now_ns(CLOCK_MONOTONIC) / 1000000));
	if (left > 0 && ctl_call(c, "stats", NULL, &ret, NULL, left) == 0)
		*have_cpu = vmstore_stats_cpu(ret, cpu_ns, uptime_ns);
out:
	json_decref(ret);
	ctl_close(c);
	return ok;
}

/* A worker holds .running: ask it (or show what the last list saw). */
static void running_info(const char *name, const struct claim_text *claim, struct vm_info *info)
{
	struct sample prev, cur = {0};
	uint64_t now = vmstore_now_ns(CLOCK_BOOTTIME), cpu_ns = 0, uptime_ns = 0;
	bool have_prev =
	    sample_read(name, &prev) && prev.pid == claim->pid && prev.start_ns == claim->start_ns;
	bool have_cpu = false;

	info->pid = claim->pid;
	info->state = VM_STARTING;
	if (!query_worker(name, info, &cpu_ns, &uptime_ns, &have_cpu)) {
		/* Hung or not serving yet: as it last was. */
		if (have_prev) {
			info->state = (enum vm_state)prev.state;
			info->memory = prev.memory;
			info->cpus = prev.cpus;
			snprintf(info->vnc, sizeof(info->vnc), "%s", prev.vnc);
		}
		have_cpu = false;
	} else if (!have_cpu) {
		have_cpu = proc_cpu_ns(claim->pid, &cpu_ns);
	}
	if (!uptime_ns && now > claim->start_ns)
		uptime_ns = now - claim->start_ns;
	info->uptime_ns = uptime_ns;
	if (!have_cpu)
		return;
	if (have_prev && now - prev.at_ns >= CPU_MIN_NS && now - prev.at_ns <= CPU_MAX_NS &&
	    cpu_ns >= prev.cpu_ns)
		info->cpu_percent =
		    100.0 * (double)(cpu_ns - prev.cpu_ns) / (double)(now - prev.at_ns);
	else if (uptime_ns)
		info->cpu_percent = 100.0 * (double)cpu_ns / (double)uptime_ns;
	/* Keep the older sample while it is too recent to measure against. */
	if (have_prev && now - prev.at_ns < CPU_MIN_NS)
		return;
	cur.pid = claim->pid;
	cur.start_ns = claim->start_ns;
	cur.at_ns = now;
	cur.cpu_ns = cpu_ns;
	cur.state = (int)info->state;
	cur.memory = info->memory;
	cur.cpus = info->cpus;
	snprintf(cur.vnc, sizeof(cur.vnc), "%s", info->vnc);
	sample_write(name, &cur);
}

int vmstore_info(const char *name, struct vm_info *info)
{
	char path[PATH_BUF], text[256];
	struct claim_text claim;
	struct stat st;

	memset(info, 0, sizeof(*info));
	if (!vmstore_exists(name))
		return -ENOENT;
	snprintf(info->name, sizeof(info->name), "%s", name);
	config_info(name, info);

	if (vmstore_path(name, ".running", path, sizeof(path)) < 0)
		return -EINVAL;
	int fd = open(path, O_RDWR | O_CLOEXEC | O_NOFOLLOW);
	if (fd >= 0) {
		if (flock(fd, LOCK_EX | LOCK_NB) < 0) {
			if (errno == EWOULDBLOCK) {
				read_small(fd, text, sizeof(text));
				close(fd);
				if (!parse_claim(text, &claim))
					memset(&claim, 0, sizeof(claim));
				running_info(name, &claim, info);
				return 0;
			}
		} else if (vmstore_same_file(fd, path) == 1) {
			clean_stale(name, fd, path);
		}
		close(fd);
	}
	if (vmstore_path(name, ".crashed", path, sizeof(path)) == 0 && stat(path, &st) == 0) {
		info->state = VM_CRASHED;
		log_tail(name, info->log_tail, sizeof(info->log_tail));
	} else if (vmstore_path(name, "saved.vmstate", path, sizeof(path)) == 0 &&
		   stat(path, &st) == 0) {
		info->state = VM_SAVED;
	} else {
		info->state = VM_OFF;
	}
	return 0;
}
