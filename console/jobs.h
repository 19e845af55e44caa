/* osio commands the console runs for the user (osio start, save, shutdown,
 * checkpoint, disk create, ...): the same program (/proc/self/exe) as a
 * child process, its stdout and stderr gathered, its end reported on the
 * loop. So an action that takes time never freezes the screen, and what
 * the command says on failure is the message the user reads. */
#ifndef OSIO_CONSOLE_JOBS_H
#define OSIO_CONSOLE_JOBS_H

#include <stddef.h>
#include <sys/types.h>

struct loop;
struct job;

#define JOB_OUTPUT_MAX 16384 /* bytes of output kept (the last ones) */

/* status: the exit status (0 success), or 128 + signal; output: what the
 * command wrote (stdout and stderr interleaved, trailing newline trimmed;
 * never NULL). Called on the loop; the job is freed after it returns. */
typedef void (*job_done_fn)(void *opaque, int status, const char *output);

/* The osio program to run: /proc/self/exe resolved at the first call, or
 * $OSIO_CONSOLE_OSIO when set (tests). */
const char *job_osio_path(void);

/* Runs osio with args (args[0] is the subcommand, NULL-terminated), stdin
 * from /dev/null, in the background. done is called once it ends. *pid
 * (may be NULL) is its pid. 0, or -errno (nothing started, done never
 * called). */
int job_start(struct loop *l, const char *const *args, job_done_fn done, void *opaque,
	      pid_t *pid);
/* How many jobs are running. */
unsigned job_count(void);
/* Sends SIGTERM to every job still running and waits for them (at exit). */
void job_kill_all(void);

/* Runs osio with args and waits for it while the loop keeps running (the
 * screen stays live), at most timeout_ms (-1 forever; past it the command
 * is killed and 124 returned). Its output into out (may be NULL). Returns
 * the exit status as job_done_fn gets it, or -errno when it could not
 * start. */
int job_run_wait(struct loop *l, const char *const *args, char *out, size_t outlen,
		 int timeout_ms);

#endif
