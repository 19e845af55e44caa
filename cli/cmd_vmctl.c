/* osio stop|shutdown|reset|pause|resume|save|status|dvd NAME: one request
 * to a running VM's worker each, waiting for what it asked (the VM off,
 * paused, saved and gone, ...), then one line saying so. */
#include "cli/commands.h"
#include "cli/ctlclient.h"
#include "cli/vmload.h"

#include "hypervisor/ctlclient.h"
#include "hypervisor/log.h"
#include "hypervisor/vmstore.h"
#include "hypervisor/worker.h"

#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <inttypes.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

/* How long the worker may take to end after it said it would. */
#define END_WAIT_MS 30000

struct vmctl_cmd {
	const char *name;
	const char *args;
	const char *help;
	int (*fn)(struct vmctl *v, int argc, char **argv);
};

static int finish_off(struct vmctl *v, const char *done)
{
	if (vmctl_wait_state(v, "off", NULL, END_WAIT_MS) < 0 ||
	    vmctl_wait_gone(v->pid, END_WAIT_MS) < 0) {
		log_error("VM '%s': its worker did not end within %d s (pid %d)", v->name,
			  END_WAIT_MS / 1000, v->pid);
		return 1;
	}
	printf("VM '%s' %s\n", v->name, done);
	return 0;
}

static int do_stop(struct vmctl *v, int argc, char **argv)
{
	/* The worker may go before its reply does: that is what was asked. */
	int r = ctl_call(v->c, "stop", NULL, NULL, NULL, CTL_TIMEOUT_MS);
	if (r == -ECONNRESET) {
		v->closed = true;
	} else if (r < 0) {
		log_error("VM '%s': %s", v->name, ctl_error(v->c));
		return 1;
	}
	return finish_off(v, "is off");
}

/* osio shutdown's options, read before the VM is reached. */
static long shutdown_timeout = 60;
static bool shutdown_force;

static int shutdown_options(int argc, char **argv)
{
	static const struct option opts[] = {
	    {"timeout", required_argument, NULL, 't'},
	    {"force", no_argument, NULL, 'f'},
	    {0},
	};
	long timeout = 60;
	bool force = false;
	int c;
	char *end;

	optind = 2;
	opterr = 0;
	while ((c = getopt_long(argc, argv, "+t:f", opts, NULL)) != -1) {
		switch (c) {
		case 't':
			errno = 0;
			timeout = strtol(optarg, &end, 10);
			if (errno || end == optarg || *end || timeout < 1 ||
			    timeout > 7 * 24 * 3600) {
				log_error("--timeout %s: write a whole number of seconds from 1 up",
					  optarg);
				return 2;
			}
			break;
		case 'f':
			force = true;
			break;
		default:
			log_error("unknown option '%s' (see osio shutdown --help)",
				  argv[optind - 1]);
			return 2;
		}
	}
	if (optind != argc) {
		fprintf(stderr, "usage: osio shutdown NAME [--timeout S] [--force]\n");
		return 2;
	}
	shutdown_timeout = timeout;
	shutdown_force = force;
	return 0;
}

static int do_shutdown(struct vmctl *v, int argc, char **argv)
{
	long timeout = shutdown_timeout;
	bool force = shutdown_force;

	if (vmctl_call(v, "shutdown",
		       json_pack("{s:I,s:b}", "timeout", (json_int_t)timeout, "force", force), NULL,
		       CTL_TIMEOUT_MS) < 0)
		return 1;
	/* At the deadline the worker powers the VM off (force) or says that
	 * the guest did not shut down (an error event). */
	time_t start = time(NULL);
	int r = vmctl_wait_state(v, "off", "shutdown", (int)(timeout * 1000) + END_WAIT_MS);
	bool in_time = v->guest_shutdown || time(NULL) - start < timeout;
	if (r == -ECANCELED) {
		log_error("VM '%s': %s; osio stop %s powers it off", v->name, v->error, v->name);
		return 1;
	}
	if (r == -ETIMEDOUT) {
		log_error("VM '%s' did not shut down, and its worker did not say why within %d s "
			  "after the deadline",
			  v->name, END_WAIT_MS / 1000);
		return 1;
	}
	if (r < 0 || vmctl_wait_gone(v->pid, END_WAIT_MS) < 0) {
		log_error("VM '%s': its worker did not end (pid %d)", v->name, v->pid);
		return 1;
	}
	printf("VM '%s' %s\n", v->name, in_time ? "shut down" : "was powered off");
	return 0;
}

static int do_reset(struct vmctl *v, int argc, char **argv)
{
	if (vmctl_call(v, "reset", NULL, NULL, CTL_TIMEOUT_MS) < 0)
		return 1;
	printf("VM '%s' was reset\n", v->name);
	return 0;
}

static int do_pause(struct vmctl *v, int argc, char **argv)
{
	if (vmctl_call(v, "pause", NULL, NULL, CTL_TIMEOUT_MS) < 0)
		return 1;
	if (vmctl_wait_state(v, "paused", NULL, CTL_TIMEOUT_MS) < 0) {
		log_error("VM '%s' did not pause (it is %s)", v->name, v->state);
		return 1;
	}
	printf("VM '%s' is paused\n", v->name);
	return 0;
}

static int do_resume(struct vmctl *v, int argc, char **argv)
{
	if (vmctl_call(v, "resume", NULL, NULL, CTL_TIMEOUT_MS) < 0)
		return 1;
	if (vmctl_wait_state(v, "running", NULL, CTL_TIMEOUT_MS) < 0) {
		log_error("VM '%s' did not resume (it is %s)", v->name, v->state);
		return 1;
	}
	printf("VM '%s' is running\n", v->name);
	return 0;
}

static int do_save(struct vmctl *v, int argc, char **argv)
{
	char path[PATH_MAX];
	json_t *ret = NULL;
	struct stat st;

	/* Writing all of RAM may take long: no deadline for the reply. */
	if (vmctl_call(v, "save", NULL, &ret, -1) < 0)
		return 1;
	const char *file = json_string_value(json_object_get(ret, "file"));
	snprintf(path, sizeof(path), "%s", file ? file : "");
	json_decref(ret);
	if (vmctl_wait_state(v, "off", NULL, END_WAIT_MS) < 0 ||
	    vmctl_wait_gone(v->pid, END_WAIT_MS) < 0) {
		log_error("VM '%s': its worker did not end after saving (pid %d)", v->name, v->pid);
		return 1;
	}
	if (v->off_status >= 0 && v->off_status != WORKER_EXIT_SAVED) {
		log_error("VM '%s' ended with status %d instead of stopping saved", v->name,
			  v->off_status);
		return 1;
	}
	if (stat(path, &st) < 0) {
		log_error("VM '%s' stopped, but its saved state %s is not there: %s", v->name, path,
			  strerror(errno));
		return 1;
	}
	printf("VM '%s' saved (%s, %.1f MiB); osio start %s resumes it\n", v->name, path,
	       (double)st.st_blocks * 512 / (1 << 20), v->name);
	return 0;
}

static int dvd_usage(int argc, char **argv)
{
	const char *what = argc > 2 ? argv[2] : "";
	if ((strcmp(what, "insert") == 0 && argc == 4) || (strcmp(what, "eject") == 0 && argc == 3))
		return 0;
	fprintf(stderr, "usage: osio dvd NAME insert FILE | osio dvd NAME eject\n");
	return 2;
}

/* Opens the ISO image file for reading as the caller; its absolute path
 * into abs. -1 after one line saying what is wrong. */
static int open_iso(const char *file, char abs[PATH_MAX])
{
	int fd = open(file, O_RDONLY | O_CLOEXEC | O_NOCTTY);
	struct stat st = {0};
	if (fd < 0 || !realpath(file, abs)) {
		int e = errno;
		if (e == ENOENT)
			log_error("%s: no such file; give the path of an ISO image", file);
		else if (e == EACCES)
			log_error("%s: you may not read it (%s); fix its permissions or copy it "
				  "somewhere you can read",
				  file, strerror(e));
		else
			log_error("%s: %s; give the path of an ISO image", file, strerror(e));
		if (fd >= 0)
			close(fd);
		return -1;
	}
	if (fstat(fd, &st) < 0 || (!S_ISREG(st.st_mode) && !S_ISBLK(st.st_mode))) {
		log_error("%s: %s, not an ISO image; give the path of an .iso file", file,
			  S_ISDIR(st.st_mode) ? "a folder" : "a special file");
		close(fd);
		return -1;
	}
	return fd;
}

static int do_dvd(struct vmctl *v, int argc, char **argv)
{
	char abs[PATH_MAX];
	json_t *ret = NULL;
	bool insert = strcmp(argv[2], "insert") == 0;

	int fd = -1;
	if (insert && (fd = open_iso(argv[3], abs)) < 0)
		return 1;
	/* The file goes to the worker open: it may run as another user (osio,
	 * for a VM root started) or be confined, and reads what we can. */
	int r = vmctl_call_fd(v, insert ? "dvd-insert" : "dvd-eject",
			      insert ? json_pack("{s:s}", "path", abs) : NULL, fd, &ret,
			      CTL_TIMEOUT_MS);
	if (fd >= 0)
		close(fd);
	if (r < 0)
		return 1;
	const char *drive = json_string_value(json_object_get(ret, "drive"));
	if (!drive || strlen(drive) != 6 || strncmp(drive, "ide", 3) != 0 || drive[4] != ':' ||
	    (drive[3] != '0' && drive[3] != '1') || (drive[5] != '0' && drive[5] != '1')) {
		log_error("VM '%s': its answer names no drive", v->name);
		json_decref(ret);
		return 1;
	}
	if (insert)
		printf("VM '%s': %s has %s now\n", v->name, drive, abs);
	else
		printf("VM '%s': %s is empty now\n", v->name, drive);
	/* The worker may not write files (its sandbox): the vmconfig is ours to
	 * change. "ide1:0" is position 2. */
	if (vmstore_exists(v->name))
		vmload_set_dvd(v->name, (unsigned)(drive[3] - '0') * 2 + (unsigned)(drive[5] - '0'),
			       insert ? abs : "");
	json_decref(ret);
	return 0;
}

/* --- screenshot ------------------------------------------------------------- */

/* The worker writes the PNG into a file this command made beside FILE (as
 * the caller, whoever the worker runs as), which then replaces FILE; "-" is
 * standard output. */
static int do_screenshot(struct vmctl *v, int argc, char **argv)
{
	(void)argc;
	const char *file = argv[2];
	bool to_stdout = strcmp(file, "-") == 0;
	char tmp[PATH_MAX];
	int fd = 1;
	if (!to_stdout) {
		const char *slash = strrchr(file, '/');
		int dirlen = slash ? (int)(slash - file) + 1 : 0;
		if (snprintf(tmp, sizeof(tmp), "%.*s.%s.XXXXXX", dirlen, file,
			     slash ? slash + 1 : file) >= (int)sizeof(tmp)) {
			log_error("%s: the name is too long", file);
			return 1;
		}
		fd = mkostemp(tmp, O_CLOEXEC);
		if (fd < 0) {
			log_error("%s: cannot write there: %s; give a file in a folder you may "
				  "write to",
				  file, strerror(errno));
			return 1;
		}
		mode_t mask = umask(0);
		umask(mask);
		if (fchmod(fd, 0666 & ~mask) < 0)
			log_warn("%s: cannot set its mode: %s", tmp, strerror(errno));
	}
	json_t *ret = NULL;
	int r = vmctl_call_fd(v, "screenshot", json_pack("{s:s}", "file", to_stdout ? "-" : file),
			      fd, &ret, CTL_TIMEOUT_MS);
	if (!to_stdout) {
		if (r == 0 && fsync(fd) < 0) {
			log_error("%s: %s", file, strerror(errno));
			r = -errno;
		}
		close(fd);
		if (r == 0 && rename(tmp, file) < 0) {
			log_error("%s: %s", file, strerror(errno));
			r = -1;
		}
		if (r < 0)
			unlink(tmp);
	}
	if (r == 0 && !to_stdout)
		printf("VM '%s': its screen (%lldx%lld) is in %s\n", v->name,
		       (long long)json_integer_value(json_object_get(ret, "width")),
		       (long long)json_integer_value(json_object_get(ret, "height")), file);
	json_decref(ret);
	return r < 0 ? 1 : 0;
}

/* --- status ---------------------------------------------------------------- */

static void human_time(uint64_t ns, char *buf, size_t size)
{
	uint64_t s = ns / 1000000000ull;
	if (s >= 86400)
		snprintf(buf, size, "%" PRIu64 "d %02" PRIu64 ":%02" PRIu64 ":%02" PRIu64,
			 s / 86400, s / 3600 % 24, s / 60 % 60, s % 60);
	else
		snprintf(buf, size, "%02" PRIu64 ":%02" PRIu64 ":%02" PRIu64, s / 3600, s / 60 % 60,
			 s % 60);
}

static const char *human_bytes(uint64_t b, char *buf, size_t size)
{
	static const char *const units[] = {"B", "KiB", "MiB", "GiB", "TiB"};
	unsigned u = 0;
	double v = (double)b;
	while (v >= 1024 && u < 4) {
		v /= 1024;
		u++;
	}
	snprintf(buf, size, u ? "%.1f %s" : "%.0f %s", v, units[u]);
	return buf;
}

static uint64_t jint(json_t *o, const char *key)
{
	json_t *v = json_object_get(o, key);
	return json_is_integer(v) && json_integer_value(v) > 0 ? (uint64_t)json_integer_value(v)
							       : 0;
}

static int status_offline(const char *name, bool as_json)
{
	struct vm_info info;
	if (vmstore_info(name, &info) < 0) {
		log_error(
		    "there is no VM called '%s' (osio list shows them; osio create makes one)",
		    name);
		return 1;
	}
	if (as_json) {
		json_t *o =
		    json_pack("{s:s,s:s,s:I,s:i}", "name", name, "state", vm_state_name(info.state),
			      "memory", (json_int_t)info.memory, "cpus", (int)info.cpus);
		if (o && info.state == VM_CRASHED)
			json_object_set_new(o, "log", json_string(info.log_tail));
		char *text = o ? json_dumps(o, JSON_INDENT(2)) : NULL;
		json_decref(o);
		if (!text)
			return 1;
		printf("%s\n", text);
		free(text);
		return 0;
	}
	printf("Name:     %s\nState:    %s\nMemory:   %" PRIu64 " MiB\nCPUs:     %u\n", name,
	       vm_state_name(info.state), info.memory >> 20, info.cpus);
	if (info.state == VM_CRASHED && info.log_tail[0])
		printf("Log:\n%s%s", info.log_tail,
		       info.log_tail[strlen(info.log_tail) - 1] == '\n' ? "" : "\n");
	return 0;
}

static int status_running(struct vmctl *v, bool as_json)
{
	json_t *st = NULL, *stats = NULL;
	if (vmctl_call(v, "query-status", NULL, &st, CTL_TIMEOUT_MS) < 0)
		return 1;
	if (vmctl_call(v, "stats", NULL, &stats, CTL_TIMEOUT_MS) < 0) {
		json_decref(st);
		return 1;
	}
	if (as_json) {
		json_object_set(st, "stats", stats);
		char *text = json_dumps(st, JSON_INDENT(2));
		json_decref(st);
		json_decref(stats);
		if (!text)
			return 1;
		printf("%s\n", text);
		free(text);
		return 0;
	}
	char up[48], cpu[48];
	const char *state = json_string_value(json_object_get(st, "state"));
	const char *vnc = json_string_value(json_object_get(st, "vnc"));
	const char *why = json_string_value(json_object_get(st, "paused-reason"));
	human_time(jint(stats, "uptime-ns"), up, sizeof(up));
	uint64_t cpu_ns = jint(stats, "cpu-time-ns");
	snprintf(cpu, sizeof(cpu), "%.2f s", (double)cpu_ns / 1e9);
	char mem[32], rss[32];
	printf("Name:     %s\nState:    %s%s%s%s\nPID:      %" PRIu64 "\nUptime:   %s\n"
	       "CPUs:     %" PRIu64 " (CPU time %s)\nMemory:   %s assigned, worker RSS %s\n"
	       "VNC:      %s\n",
	       v->name, state ? state : "?", why ? " (" : "", why ? why : "", why ? ")" : "",
	       jint(st, "pid"), up, jint(st, "cpus"), cpu,
	       human_bytes(jint(stats, "memory"), mem, sizeof(mem)),
	       human_bytes(jint(stats, "rss"), rss, sizeof(rss)), vnc ? vnc : "none");
	size_t i;
	json_t *n;
	json_array_foreach(json_object_get(stats, "disks"), i, n)
	{
		char rd[32], wr[32];
		printf("Disk:     %s: read %s (%" PRIu64 " requests), written %s (%" PRIu64
		       " requests), %" PRIu64 " errors\n",
		       json_string_value(json_object_get(n, "path")),
		       human_bytes(jint(n, "read-bytes"), rd, sizeof(rd)), jint(n, "read-ops"),
		       human_bytes(jint(n, "write-bytes"), wr, sizeof(wr)), jint(n, "write-ops"),
		       jint(n, "errors"));
	}
	json_array_foreach(json_object_get(stats, "nics"), i, n)
	{
		char rx[32], tx[32];
		printf("NIC:      %s: received %" PRIu64 " frames (%s), sent %" PRIu64
		       " frames (%s)\n",
		       json_string_value(json_object_get(n, "nic")), jint(n, "rx-frames"),
		       human_bytes(jint(n, "rx-bytes"), rx, sizeof(rx)), jint(n, "tx-frames"),
		       human_bytes(jint(n, "tx-bytes"), tx, sizeof(tx)));
	}
	json_decref(st);
	json_decref(stats);
	return 0;
}

static const struct vmctl_cmd cmds[] = {
    {"stop", "NAME", "Powers the VM off at once, as pulling the plug would.", do_stop},
    {"shutdown", "NAME [--timeout S] [--force]",
     "Presses the VM's ACPI power button and waits (60 s or --timeout S) until the\n"
     "guest has shut down; then, with --force, powers it off.",
     do_shutdown},
    {"reset", "NAME", "Resets the VM, as its reset button would.", do_reset},
    {"pause", "NAME", "Stops the VM's processors where they are; its devices and screen stay.",
     do_pause},
    {"resume", "NAME", "Lets a paused VM's processors go on.", do_resume},
    {"save", "NAME",
     "Saves the VM's state into its folder (saved.vmstate) and stops it; osio start\n"
     "resumes it where it was.",
     do_save},
    {"dvd", "NAME insert FILE | eject",
     "Puts the ISO image FILE into the VM's (first) DVD drive, or takes the disc out;\n"
     "the change is kept in its vmconfig.",
     do_dvd},
    {"screenshot", "NAME FILE.png",
     "Writes the VM's screen into FILE.png (- for standard output) as a PNG image.",
     do_screenshot},
    {"status", "NAME [--json]", "Shows the VM's state and what it uses.", NULL},
};

int cmd_vmctl(int argc, char **argv)
{
	const struct vmctl_cmd *cmd = NULL;
	static char prog[32];
	for (size_t i = 0; i < sizeof(cmds) / sizeof(cmds[0]); i++)
		if (strcmp(argv[0], cmds[i].name) == 0)
			cmd = &cmds[i];
	if (!cmd)
		return 2;
	snprintf(prog, sizeof(prog), "osio %s", cmd->name);
	log_set_prog(prog);
	if (argc >= 2 && (strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0)) {
		printf("usage: osio %s %s\n\n%s\n", cmd->name, cmd->args, cmd->help);
		return 0;
	}
	if (argc < 2 || argv[1][0] == '-') {
		fprintf(stderr, "usage: osio %s %s\n", cmd->name, cmd->args);
		return 2;
	}
	const char *name = argv[1];
	char err[300];
	if (vmstore_check_name(name, err, sizeof(err)) < 0) {
		log_error("%s", err);
		return 1;
	}
	if (!cmd->fn) { /* status */
		bool as_json = argc == 3 && strcmp(argv[2], "--json") == 0;
		if (argc > 3 || (argc == 3 && !as_json)) {
			fprintf(stderr, "usage: osio status NAME [--json]\n");
			return 2;
		}
		/* Not running: what the store knows, quietly. */
		struct vm_info info;
		if (vmstore_info(name, &info) == 0 && info.state != VM_RUNNING &&
		    info.state != VM_PAUSED && info.state != VM_STARTING && info.state != VM_SAVING)
			return status_offline(name, as_json);
		struct vmctl v;
		if (vmctl_open(name, &v) < 0)
			return 1;
		int rc = status_running(&v, as_json);
		vmctl_close(&v);
		return rc;
	}
	int r = 0;
	if (strcmp(cmd->name, "shutdown") == 0)
		r = shutdown_options(argc, argv);
	else if (strcmp(cmd->name, "dvd") == 0)
		r = dvd_usage(argc, argv);
	else if (argc != (strcmp(cmd->name, "screenshot") == 0 ? 3 : 2)) {
		fprintf(stderr, "usage: osio %s %s\n", cmd->name, cmd->args);
		r = 2;
	}
	if (r)
		return r;
	struct vmctl v;
	if (vmctl_open(name, &v) < 0)
		return 1;
	int rc = cmd->fn(&v, argc, argv);
	vmctl_close(&v);
	return rc;
}
