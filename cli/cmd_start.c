/* `osio start NAME [--fresh]`: launches a store VM's worker detached from
 * the terminal (its log in the VM's folder, COM1 on a socket for osio
 * serial) and waits until the VM runs or the worker says why it could not. */
#include "cli/commands.h"
#include "cli/vmload.h"

#include "hypervisor/ctlclient.h"
#include "hypervisor/log.h"
#include "hypervisor/runtime_dir.h"
#include "hypervisor/store.h"
#include "hypervisor/vmstore.h"
#include "hypervisor/worker.h"

#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

/* worker.log is moved to worker.log.1 at a start once it is larger. */
#define LOG_ROTATE_BYTES (1u << 20)
#define READY_FD	 3

static void start_usage(FILE *f)
{
	fprintf(f, "usage: osio start NAME [--fresh]\n"
		   "\n"
		   "Starts the VM NAME of the VM store in the background: it keeps running when\n"
		   "this terminal closes. A saved VM (osio save) goes on where it was saved.\n"
		   "\n"
		   "      --fresh   discard the saved state and boot the VM afresh\n"
		   "  -h, --help    this text\n"
		   "\n"
		   "Its serial console (COM1): osio serial NAME; its screen: the VNC address\n"
		   "printed, or osio connect NAME; what its worker logged: worker.log in the\n"
		   "VM's folder. osio stop, shutdown, pause, resume, save and status NAME control\n"
		   "it.\n"
		   "\n"
		   "Exit status: 0 once the VM runs, 1 when it cannot start (one line says why),\n"
		   "2 for a usage error.\n");
}

/* The worker's half: `osio start --worker [--ready-fd N] [--restore FILE]
 * NAME` runs the VM in the foreground (what the detached process execs). */
static int run_worker(const char *name, int ready_fd, const char *restore)
{
	struct vm_spec spec;
	struct worker_options wopt = {.ready_fd = ready_fd};
	char save_path[PATH_MAX];
	bool sandbox = true;

	if (vmload_store(name, &spec, &sandbox) < 0 ||
	    vmstore_path(name, "saved.vmstate", save_path, sizeof(save_path)) < 0)
		return WORKER_EXIT_ERROR;
	wopt.store_vm = name;
	wopt.restore = restore;
	wopt.save_path = save_path;
	wopt.sandbox = sandbox;
	int status = worker_run(&spec, &wopt);
	log_info("the worker of VM '%s' ends with status %d", name, status);
	return status;
}

/* Opens worker.log for appending, moving a large one to worker.log.1 first,
 * and writes the line that starts this run's part. *start: the offset
 * after it. */
static int open_log(const char *name, bool restore, char *path, size_t size, off_t *start)
{
	char old[PATH_MAX + 8];
	struct stat st;
	int r = vmstore_path(name, "worker.log", path, size);
	if (r < 0)
		return r;
	if (stat(path, &st) == 0 && st.st_size > LOG_ROTATE_BYTES) {
		snprintf(old, sizeof(old), "%s.1", path);
		if (rename(path, old) < 0)
			log_warn("%s: cannot move it to %s: %s", path, old, strerror(errno));
	}
	int fd = open(path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC | O_NOFOLLOW,
		      store_file_mode(0600));
	if (fd < 0)
		return -errno;
	time_t now = time(NULL);
	struct tm tm;
	char when[64], line[256];
	gmtime_r(&now, &tm);
	strftime(when, sizeof(when), "%Y-%m-%d %H:%M:%S UTC", &tm);
	int n = snprintf(line, sizeof(line), "=== %s: osio start %s (pid %d)%s\n", when, name,
			 (int)getpid(), restore ? ", resuming its saved state" : "");
	if (write(fd, line, (size_t)n) != n) {
		r = errno ? -errno : -EIO;
		close(fd);
		return r;
	}
	*start = lseek(fd, 0, SEEK_END);
	return fd;
}

/* The reason a worker gave in its log since start: its first error line
 * (without the "osio: error: " prefix), else its last line. */
static void log_reason(const char *path, off_t start, char *out, size_t size)
{
	char line[1024], last[1024] = "";
	FILE *f = fopen(path, "re");
	snprintf(out, size, "its worker ended without saying why");
	if (!f)
		return;
	if (fseeko(f, start, SEEK_SET) < 0) {
		fclose(f);
		return;
	}
	while (fgets(line, sizeof(line), f)) {
		line[strcspn(line, "\r\n")] = '\0';
		const char *e = strstr(line, "error: ");
		if (e) {
			snprintf(out, size, "%s", e + strlen("error: "));
			fclose(f);
			return;
		}
		if (line[0])
			snprintf(last, sizeof(last), "%s", line);
	}
	fclose(f);
	if (last[0])
		snprintf(out, size, "%s", last);
}

/* The detached worker: a grandchild in a session of its own, stdin from
 * /dev/null, stdout and stderr into the log, the ready pipe on READY_FD. It
 * execs this osio again (a fresh process: no state of this command, no
 * descriptor but those three and the pipe), so ps shows what it is. */
static pid_t launch(const char *name, int log_fd, int ready_w, const char *restore)
{
	pid_t child = fork();
	if (child != 0)
		return child;
	if (setsid() < 0 || fork() != 0)
		_exit(0);
	int null = open("/dev/null", O_RDONLY | O_CLOEXEC);
	if (null < 0 || dup2(null, 0) < 0 || dup2(log_fd, 1) < 0 || dup2(log_fd, 2) < 0 ||
	    dup2(ready_w, READY_FD) < 0)
		_exit(127);
	close_range(READY_FD + 1, ~0u, 0);
	char fdtext[16];
	snprintf(fdtext, sizeof(fdtext), "%d", READY_FD);
	const char *argv[10] = {"osio", "start", "--worker", "--ready-fd", fdtext};
	unsigned n = 5;
	if (restore) {
		argv[n++] = "--restore";
		argv[n++] = restore;
	}
	argv[n++] = "--";
	argv[n++] = name;
	argv[n] = NULL;
	execv("/proc/self/exe", (char *const *)argv);
	fprintf(stderr, "osio: error: cannot run /proc/self/exe for the worker: %s\n",
		strerror(errno));
	_exit(127);
}

/* What the started VM offers, for the line osio start prints. */
static void describe(const char *name, const struct vm_spec *spec, char *out, size_t size)
{
	char vnc[160] = "none", serial[PATH_MAX + 32], path[PATH_MAX];
	json_t *st = NULL;
	char err[256];
	if (ctl_query(name, "query-status", NULL, &st, 3000, err, sizeof(err)) == 0 &&
	    json_is_string(json_object_get(st, "vnc")))
		snprintf(vnc, sizeof(vnc), "%s", json_string_value(json_object_get(st, "vnc")));
	json_decref(st);
	const struct serial_spec *com1 = &spec->serial[0];
	if (!com1->present || com1->backend == SERIAL_NONE)
		snprintf(serial, sizeof(serial), "serial: none");
	else if (com1->backend == SERIAL_SOCKET &&
		 vmload_serial_path(name, path, sizeof(path)) == 0 && strcmp(path, com1->path) == 0)
		snprintf(serial, sizeof(serial), "serial: osio serial %s", name);
	else if (com1->backend == SERIAL_PTY)
		snprintf(serial, sizeof(serial), "serial: a pty, named in its worker.log");
	else
		snprintf(serial, sizeof(serial), "serial: %s", com1->path);
	snprintf(out, size, "VNC %s; %s", vnc, serial);
}

static int start(const char *name, bool fresh)
{
	char err[600], saved[PATH_MAX], log_path[PATH_MAX], dir[PATH_MAX];
	int lock_fd, claim_fd, rc = 1;
	struct vm_spec spec;
	bool sandbox;

	if (vmstore_lock(name, &lock_fd, err, sizeof(err)) < 0) {
		log_error("%s", err);
		return 1;
	}
	/* A running VM is refused with the claim's own sentence. */
	if (vmstore_worker_claim(name, &claim_fd, err, sizeof(err)) < 0) {
		log_error("%s", err);
		goto out_unlock;
	}
	vmstore_worker_release(name, claim_fd);
	if (vmload_store(name, &spec, &sandbox) < 0 || runtime_dir_create(dir, sizeof(dir)) < 0 ||
	    vmstore_path(name, "saved.vmstate", saved, sizeof(saved)) < 0)
		goto out_unlock;
	bool restore = !fresh && access(saved, F_OK) == 0;
	off_t log_start = 0;
	int log_fd = open_log(name, restore, log_path, sizeof(log_path), &log_start);
	if (log_fd < 0) {
		log_error("VM '%s': cannot write its log %s: %s", name, log_path,
			  strerror(-log_fd));
		goto out_unlock;
	}
	int pipefd[2];
	if (pipe2(pipefd, O_CLOEXEC) < 0) {
		log_error("pipe: %s", strerror(errno));
		close(log_fd);
		goto out_unlock;
	}
	pid_t child = launch(name, log_fd, pipefd[1], restore ? saved : NULL);
	close(pipefd[1]);
	close(log_fd);
	if (child < 0) {
		log_error("cannot start a process for VM '%s': %s", name, strerror(errno));
		close(pipefd[0]);
		goto out_unlock;
	}
	waitpid(child, NULL, 0);
	char byte = 0;
	ssize_t n;
	do
		n = read(pipefd[0], &byte, 1);
	while (n < 0 && errno == EINTR);
	close(pipefd[0]);
	if (n != 1 || byte != 'r') {
		char why[1024];
		log_reason(log_path, log_start, why, sizeof(why));
		log_error("VM '%s' did not start: %s (its log: %s)", name, why, log_path);
		goto out_unlock;
	}
	if (fresh && access(saved, F_OK) == 0 && unlink(saved) < 0)
		log_warn("%s: cannot remove the saved state: %s", saved, strerror(errno));
	char what[PATH_MAX + 256];
	describe(name, &spec, what, sizeof(what));
	printf("VM '%s' started (%s)\n", name, what);
	rc = 0;
out_unlock:
	vmstore_unlock(lock_fd);
	return rc;
}

int cmd_start(int argc, char **argv)
{
	enum { OPT_FRESH = 256, OPT_WORKER, OPT_READY_FD, OPT_RESTORE };
	static const struct option opts[] = {
	    {"fresh", no_argument, NULL, OPT_FRESH},
	    {"worker", no_argument, NULL, OPT_WORKER},
	    {"ready-fd", required_argument, NULL, OPT_READY_FD},
	    {"restore", required_argument, NULL, OPT_RESTORE},
	    {"help", no_argument, NULL, 'h'},
	    {0},
	};
	bool fresh = false, worker = false;
	int ready_fd = -1, c;
	const char *restore = NULL;
	char err[300];

	log_set_prog("osio start");
	optind = 1;
	opterr = 0;
	while ((c = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
		switch (c) {
		case OPT_FRESH:
			fresh = true;
			break;
		case OPT_WORKER:
			worker = true;
			break;
		case OPT_READY_FD:
			ready_fd = atoi(optarg);
			break;
		case OPT_RESTORE:
			restore = optarg;
			break;
		case 'h':
			start_usage(stdout);
			return 0;
		default:
			log_error("unknown option '%s' (see osio start --help)", argv[optind - 1]);
			return 2;
		}
	}
	if (argc - optind != 1) {
		fprintf(stderr, "usage: osio start NAME [--fresh] (see osio start --help)\n");
		return 2;
	}
	const char *name = argv[optind];
	if (vmstore_check_name(name, err, sizeof(err)) < 0) {
		log_error("%s", err);
		return 1;
	}
	if (worker) {
		log_set_prog("osio");
		return run_worker(name, ready_fd, restore);
	}
	return start(name, fresh);
}
