/* osio commands the console runs as children: spawned with their stdout and
 * stderr on one pipe watched on the loop, their end seen through a pidfd
 * (or the pipe closing), reaped at once so that none is left a zombie. */
#include "console/jobs.h"

#include "console/loop.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

extern char **environ;

#define ARGS_MAX       64
#define KILL_GRACE_MS  2000 /* job_kill_all: SIGTERM, then SIGKILL after this */
#define STATUS_UNKNOWN 255  /* the child could not be reaped (SIGCHLD ignored) */

struct job {
	struct job *next;
	struct loop *loop;
	pid_t pid;
	int out_fd;  /* the pipe's read end; -1 once it closed */
	int pid_fd;  /* the pidfd; -1 without pidfd_open */
	bool exited; /* reaped: status is valid */
	int status;
	job_done_fn done;
	void *opaque;
	size_t len;
	bool truncated;
	char out[JOB_OUTPUT_MAX + 1];
};

static struct job *jobs;

const char *job_osio_path(void)
{
	static char self[PATH_MAX];
	const char *env = getenv("OSIO_CONSOLE_OSIO");

	if (env && *env)
		return env;
	if (!self[0]) {
		ssize_t n = readlink("/proc/self/exe", self, sizeof(self) - 1);
		if (n > 0 && (size_t)n < sizeof(self) - 1)
			self[n] = '\0';
		else
			snprintf(self, sizeof(self), "/proc/self/exe");
	}
	return self;
}

/* The command and whatever it started in its process group. */
static void signal_job(struct job *j, int sig)
{
	if (kill(-j->pid, sig) < 0)
		kill(j->pid, sig);
}

static void unlink_job(struct job *j)
{
	for (struct job **p = &jobs; *p; p = &(*p)->next) {
		if (*p == j) {
			*p = j->next;
			return;
		}
	}
}

/* Keeps the last JOB_OUTPUT_MAX bytes of what the child wrote. */
static void keep(struct job *j, const char *data, size_t n)
{
	if (n >= JOB_OUTPUT_MAX) {
		memcpy(j->out, data + n - JOB_OUTPUT_MAX, JOB_OUTPUT_MAX);
		j->len = JOB_OUTPUT_MAX;
		j->truncated = true;
		return;
	}
	if (j->len + n > JOB_OUTPUT_MAX) {
		size_t drop = j->len + n - JOB_OUTPUT_MAX;
		memmove(j->out, j->out + drop, j->len - drop);
		j->len -= drop;
		j->truncated = true;
	}
	memcpy(j->out + j->len, data, n);
	j->len += n;
}

/* Reads what the pipe holds now. false once it is closed (or failed). */
static bool drain(struct job *j)
{
	char buf[JOB_OUTPUT_MAX];

	for (;;) {
		ssize_t n = read(j->out_fd, buf, sizeof(buf));
		if (n > 0) {
			keep(j, buf, (size_t)n);
			continue;
		}
		if (n < 0 && errno == EINTR)
			continue;
		return n < 0 && errno == EAGAIN;
	}
}

static int decode_status(int ws)
{
	if (WIFEXITED(ws))
		return WEXITSTATUS(ws);
	if (WIFSIGNALED(ws))
		return 128 + WTERMSIG(ws);
	return STATUS_UNKNOWN;
}

/* Reaps the child; blocking waits only for one known to have ended. */
static bool reap(struct job *j, bool block)
{
	int ws;
	pid_t r;

	if (j->exited)
		return true;
	do
		r = waitpid(j->pid, &ws, block ? 0 : WNOHANG);
	while (r < 0 && errno == EINTR);
	if (r == 0)
		return false;
	j->exited = true;
	j->status = r == j->pid ? decode_status(ws) : STATUS_UNKNOWN;
	return true;
}

/* The output as job_done_fn gets it: no trailing newlines, no broken UTF-8
 * sequence at the start of a truncated one. */
static const char *output_text(struct job *j)
{
	size_t start = 0;

	while (j->len && (j->out[j->len - 1] == '\n' || j->out[j->len - 1] == '\r'))
		j->len--;
	j->out[j->len] = '\0';
	if (j->truncated)
		while (start < j->len && start < 3 && ((unsigned char)j->out[start] & 0xc0) == 0x80)
			start++;
	return j->out + start;
}

static void close_fds(struct job *j)
{
	if (j->out_fd >= 0) {
		loop_unwatch(j->loop, j->out_fd);
		close(j->out_fd);
		j->out_fd = -1;
	}
	if (j->pid_fd >= 0) {
		loop_unwatch(j->loop, j->pid_fd);
		close(j->pid_fd);
		j->pid_fd = -1;
	}
}

static void finish(struct job *j)
{
	if (j->out_fd >= 0)
		drain(j);
	close_fds(j);
	unlink_job(j);
	if (j->done)
		j->done(j->opaque, j->status, output_text(j));
	free(j);
}

static void on_pipe(void *opaque, int fd, short revents)
{
	struct job *j = opaque;

	(void)fd;
	(void)revents;
	if (drain(j))
		return;
	/* The pipe closed: the child ended, or closed its output and goes on
	 * (then its pidfd says when it ends). */
	loop_unwatch(j->loop, j->out_fd);
	close(j->out_fd);
	j->out_fd = -1;
	if (j->pid_fd >= 0 && !reap(j, false))
		return;
	reap(j, true);
	finish(j);
}

static void on_pidfd(void *opaque, int fd, short revents)
{
	struct job *j = opaque;

	(void)fd;
	(void)revents;
	if (!reap(j, false))
		return;
	/* What it wrote is in the pipe now; a descendant that kept the pipe
	 * open does not keep the job running. */
	finish(j);
}

static int open_pidfd(pid_t pid)
{
#ifdef SYS_pidfd_open
	int fd = (int)syscall(SYS_pidfd_open, pid, 0);
	if (fd >= 0)
		fcntl(fd, F_SETFD, FD_CLOEXEC);
	return fd;
#else
	(void)pid;
	return -1;
#endif
}

static int spawn(const char *const *args, int out_w, pid_t *pid)
{
	const char *argv[ARGS_MAX + 2];
	posix_spawn_file_actions_t fa;
	posix_spawnattr_t attr;
	sigset_t none, dflt;
	unsigned n = 0;
	int r;

	argv[n++] = "osio";
	for (; args[n - 1]; n++) {
		if (n > ARGS_MAX)
			return -E2BIG;
		argv[n] = args[n - 1];
	}
	argv[n] = NULL;

	if ((r = posix_spawn_file_actions_init(&fa)) != 0)
		return -r;
	if ((r = posix_spawnattr_init(&attr)) != 0) {
		posix_spawn_file_actions_destroy(&fa);
		return -r;
	}
	sigemptyset(&none);
	sigemptyset(&dflt);
	sigaddset(&dflt, SIGPIPE);
	sigaddset(&dflt, SIGINT);
	sigaddset(&dflt, SIGTERM);
	sigaddset(&dflt, SIGCHLD);
	sigaddset(&dflt, SIGWINCH);
	sigaddset(&dflt, SIGTSTP);
	r = posix_spawn_file_actions_addopen(&fa, 0, "/dev/null", O_RDONLY, 0);
	if (!r)
		r = posix_spawn_file_actions_adddup2(&fa, out_w, 1);
	if (!r)
		r = posix_spawn_file_actions_adddup2(&fa, out_w, 2);
	/* Whatever else the console has open (the terminal, sockets) stays
	 * with the console. */
	if (!r)
		r = posix_spawn_file_actions_addclosefrom_np(&fa, 3);
	if (!r)
		r = posix_spawnattr_setsigmask(&attr, &none);
	if (!r)
		r = posix_spawnattr_setsigdefault(&attr, &dflt);
	/* A process group of its own: keys typed at the console never signal
	 * it. */
	if (!r)
		r = posix_spawnattr_setpgroup(&attr, 0);
	if (!r)
		r = posix_spawnattr_setflags(&attr, POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF |
							POSIX_SPAWN_SETPGROUP);
	if (!r)
		r = posix_spawn(pid, job_osio_path(), &fa, &attr, (char *const *)argv, environ);
	posix_spawnattr_destroy(&attr);
	posix_spawn_file_actions_destroy(&fa);
	return -r;
}

static int start(struct loop *l, const char *const *args, job_done_fn done, void *opaque,
		 struct job **out)
{
	struct job *j;
	int p[2], r;

	if (!args || !args[0])
		return -EINVAL;
	if (!(j = calloc(1, sizeof(*j))))
		return -ENOMEM;
	if (pipe2(p, O_CLOEXEC) < 0) {
		r = -errno;
		free(j);
		return r;
	}
	j->loop = l;
	j->done = done;
	j->opaque = opaque;
	j->out_fd = p[0];
	j->pid_fd = -1;
	r = spawn(args, p[1], &j->pid);
	close(p[1]);
	if (r < 0)
		goto fail;
	fcntl(j->out_fd, F_SETFL, fcntl(j->out_fd, F_GETFL) | O_NONBLOCK);
	j->pid_fd = open_pidfd(j->pid);
	if ((r = loop_watch(l, j->out_fd, POLLIN, on_pipe, j)) < 0 ||
	    (j->pid_fd >= 0 && (r = loop_watch(l, j->pid_fd, POLLIN, on_pidfd, j)) < 0)) {
		kill(j->pid, SIGKILL);
		reap(j, true);
		goto fail;
	}
	j->next = jobs;
	jobs = j;
	*out = j;
	return 0;
fail:
	close_fds(j);
	free(j);
	return r;
}

int job_start(struct loop *l, const char *const *args, job_done_fn done, void *opaque, pid_t *pid)
{
	struct job *j;
	int r = start(l, args, done, opaque, &j);

	if (r == 0 && pid)
		*pid = j->pid;
	return r;
}

unsigned job_count(void)
{
	unsigned n = 0;

	for (struct job *j = jobs; j; j = j->next)
		n++;
	return n;
}

static uint64_t now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

void job_kill_all(void)
{
	uint64_t deadline = now_ms() + KILL_GRACE_MS;

	for (struct job *j = jobs; j; j = j->next)
		if (!j->exited)
			signal_job(j, SIGTERM);
	for (;;) {
		bool left = false;
		for (struct job *j = jobs; j; j = j->next)
			left |= !reap(j, false);
		if (!left || now_ms() >= deadline)
			break;
		nanosleep(&(struct timespec){.tv_nsec = 10 * 1000 * 1000}, NULL);
	}
	while (jobs) {
		struct job *j = jobs;
		if (!j->exited) {
			signal_job(j, SIGKILL);
			reap(j, true);
		}
		jobs = j->next;
		close_fds(j);
		free(j);
	}
}

struct wait_state {
	bool done;
	int status;
	char *out;
	size_t outlen;
};

static void copy_out(struct wait_state *w, const char *text)
{
	if (w->out && w->outlen)
		snprintf(w->out, w->outlen, "%s", text);
}

static void wait_done(void *opaque, int status, const char *output)
{
	struct wait_state *w = opaque;

	w->done = true;
	w->status = status;
	copy_out(w, output);
}

int job_run_wait(struct loop *l, const char *const *args, char *out, size_t outlen, int timeout_ms)
{
	struct wait_state w = {.out = out, .outlen = outlen};
	uint64_t deadline = timeout_ms < 0 ? 0 : now_ms() + (uint64_t)timeout_ms;
	struct job *j;
	int r;

	if (out && outlen)
		out[0] = '\0';
	if ((r = start(l, args, wait_done, &w, &j)) < 0)
		return r;
	while (!w.done) {
		int left = -1;
		if (timeout_ms >= 0) {
			uint64_t now = now_ms();
			if (now >= deadline)
				break;
			left = (int)(deadline - now);
		}
		if (loop_once(l, left) < 0) /* poll failing: do not spin */
			nanosleep(&(struct timespec){.tv_nsec = 10 * 1000 * 1000}, NULL);
	}
	if (w.done)
		return w.status;
	/* Past its time: killed, reaped, and forgotten (done is not called). */
	signal_job(j, SIGKILL);
	reap(j, true);
	if (j->out_fd >= 0)
		drain(j);
	close_fds(j);
	unlink_job(j);
	copy_out(&w, output_text(j));
	free(j);
	return 124;
}
