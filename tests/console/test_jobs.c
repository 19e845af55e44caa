/* The console's jobs (console/jobs.c): a shell script stands in for osio
 * ($OSIO_CONSOLE_OSIO); exit status, output, truncation, timeouts, signals,
 * many jobs at once, and that no child is left behind. */
#include "console/jobs.h"
#include "console/loop.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>

static char dir[64];
static char script[128];

static const char script_text[] =
    "#!/bin/sh\n"
    "case \"$1\" in\n"
    "echo) shift; echo \"$@\" ;;\n"
    "err) echo to-stdout; echo to-stderr >&2; exit 3 ;;\n"
    "big) i=0; while [ $i -lt 3000 ]; do echo \"line $i of the output\"; i=$((i+1)); done;"
    " printf 'THE END\\n\\n\\n' ;;\n"
    "sleep) sleep \"$2\"; echo slept ;;\n"
    "kill) kill -9 $$ ;;\n"
    "stdin) cat; echo \"cat=$?\" ;;\n"
    "fd) if [ -e /proc/$$/fd/$2 ]; then echo leaked; else echo clean; fi ;;\n"
    "bg) sleep 2 & echo started ;;\n"
    "nl) printf 'x\\n\\r\\n' ;;\n"
    "close) echo bye; exec >&- 2>&-; sleep 0.3; exit 5 ;;\n"
    "*) echo \"unknown $1\"; exit 2 ;;\n"
    "esac\n";

static unsigned long long now_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (unsigned long long)ts.tv_sec * 1000 + (unsigned long long)ts.tv_nsec / 1000000;
}

static void no_children(void)
{
	/* Every child reaped: none left, not even a zombie. */
	errno = 0;
	assert_int_equal(waitpid(-1, NULL, WNOHANG), -1);
	assert_int_equal(errno, ECHILD);
	assert_int_equal(job_count(), 0);
}

static int setup(void **state)
{
	(void)state;
	snprintf(dir, sizeof(dir), "/tmp/osio-jobs-XXXXXX");
	if (!mkdtemp(dir))
		return -1;
	snprintf(script, sizeof(script), "%s/osio", dir);
	FILE *f = fopen(script, "w");
	if (!f)
		return -1;
	fputs(script_text, f);
	fclose(f);
	chmod(script, 0755);
	setenv("OSIO_CONSOLE_OSIO", script, 1);
	return 0;
}

static int teardown(void **state)
{
	(void)state;
	unlink(script);
	rmdir(dir);
	return 0;
}

static int run(const char *a0, const char *a1, const char *a2, char *out, size_t outlen,
	       int timeout_ms)
{
	struct loop *l = loop_new();
	const char *args[] = {a0, a1, a2, NULL};
	assert_non_null(l);
	int r = job_run_wait(l, args, out, outlen, timeout_ms);
	loop_free(l);
	return r;
}

static void test_path(void **state)
{
	char self[PATH_MAX];
	(void)state;
	assert_string_equal(job_osio_path(), script);
	unsetenv("OSIO_CONSOLE_OSIO");
	ssize_t n = readlink("/proc/self/exe", self, sizeof(self) - 1);
	assert_true(n > 0);
	self[n] = '\0';
	assert_string_equal(job_osio_path(), self);
	setenv("OSIO_CONSOLE_OSIO", script, 1);
}

static void test_status_output(void **state)
{
	char out[256];
	(void)state;
	assert_int_equal(run("echo", "hello", "world", out, sizeof(out), -1), 0);
	assert_string_equal(out, "hello world");
	/* stdout and stderr both, in order; the exit status. */
	assert_int_equal(run("err", NULL, NULL, out, sizeof(out), 5000), 3);
	assert_string_equal(out, "to-stdout\nto-stderr");
	assert_int_equal(run("nope", NULL, NULL, out, sizeof(out), 5000), 2);
	assert_string_equal(out, "unknown nope");
	/* Trailing newlines trimmed; a small buffer gets what fits. */
	assert_int_equal(run("nl", NULL, NULL, out, sizeof(out), 5000), 0);
	assert_string_equal(out, "x");
	assert_int_equal(run("echo", "abcdefgh", NULL, out, 4, 5000), 0);
	assert_string_equal(out, "abc");
	assert_int_equal(run("echo", "x", NULL, NULL, 0, 5000), 0);
	/* Its output closed before it ends: the job waits for its end. */
	assert_int_equal(run("close", NULL, NULL, out, sizeof(out), 5000), 5);
	assert_string_equal(out, "bye");
	no_children();
}

static void test_stdin_and_fds(void **state)
{
	char out[256], num[16];
	(void)state;
	/* stdin is /dev/null: cat ends at once. */
	assert_int_equal(run("stdin", NULL, NULL, out, sizeof(out), 5000), 0);
	assert_string_equal(out, "cat=0");
	/* A descriptor of the console without CLOEXEC stays with it. */
	int fd = open("/dev/null", O_RDONLY);
	assert_true(fd >= 0);
	assert_int_equal(dup2(fd, 57), 57);
	snprintf(num, sizeof(num), "%d", 57);
	assert_int_equal(run("fd", num, NULL, out, sizeof(out), 5000), 0);
	assert_string_equal(out, "clean");
	close(57);
	close(fd);
	no_children();
}

struct done {
	int calls;
	int status;
	char out[JOB_OUTPUT_MAX + 1];
	size_t len;
};

static void on_done(void *opaque, int status, const char *output)
{
	struct done *d = opaque;
	d->calls++;
	d->status = status;
	d->len = strlen(output);
	snprintf(d->out, sizeof(d->out), "%s", output);
}

static void test_truncation(void **state)
{
	struct loop *l = loop_new();
	const char *args[] = {"big", NULL};
	static struct done d;
	pid_t pid = 0;
	(void)state;
	memset(&d, 0, sizeof(d));
	assert_int_equal(job_start(l, args, on_done, &d, &pid), 0);
	assert_true(pid > 0);
	assert_int_equal(job_count(), 1);
	unsigned long long end = now_ms() + 20000;
	while (!d.calls && now_ms() < end)
		loop_once(l, 1000);
	assert_int_equal(d.calls, 1);
	assert_int_equal(d.status, 0);
	/* About 70 KB written: the last JOB_OUTPUT_MAX bytes are kept, less
	 * the newlines at the end. */
	assert_int_equal(d.len, JOB_OUTPUT_MAX - 3);
	assert_true(strstr(d.out, "line 2999 of the output\nTHE END") != NULL);
	assert_int_equal(strcmp(d.out + d.len - 7, "THE END"), 0);
	assert_null(strstr(d.out, "line 1 of"));
	loop_free(l);
	no_children();
}

static void test_timeout_and_signal(void **state)
{
	char out[256];
	(void)state;
	unsigned long long t0 = now_ms();
	assert_int_equal(run("sleep", "20", NULL, out, sizeof(out), 300), 124);
	assert_true(now_ms() - t0 < 3000);
	assert_string_equal(out, "");
	no_children();
	/* Killed by a signal: 128 + its number. */
	assert_int_equal(run("kill", NULL, NULL, out, sizeof(out), 5000), 128 + SIGKILL);
	no_children();
}

static void test_descendant_keeps_pipe(void **state)
{
	char out[256];
	(void)state;
	/* The command ends; a process it left behind still holds the pipe:
	 * the job ends with the command (its pidfd), not with the pipe. */
	unsigned long long t0 = now_ms();
	assert_int_equal(run("bg", NULL, NULL, out, sizeof(out), 10000), 0);
	assert_true(now_ms() - t0 < 1500);
	assert_string_equal(out, "started");
	assert_int_equal(job_count(), 0);
}

#define MANY 24

static void test_many(void **state)
{
	struct loop *l = loop_new();
	static struct done d[MANY];
	char word[MANY][16];
	(void)state;
	memset(d, 0, sizeof(d));
	for (int i = 0; i < MANY; i++) {
		snprintf(word[i], sizeof(word[i]), "job%d", i);
		const char *args[] = {i % 3 == 2 ? "err" : "echo", word[i], NULL};
		assert_int_equal(job_start(l, args, on_done, &d[i], NULL), 0);
	}
	assert_int_equal(job_count(), MANY);
	unsigned long long end = now_ms() + 20000;
	for (;;) {
		int left = 0;
		for (int i = 0; i < MANY; i++)
			left += !d[i].calls;
		if (!left || now_ms() > end)
			break;
		loop_once(l, 1000);
	}
	for (int i = 0; i < MANY; i++) {
		assert_int_equal(d[i].calls, 1);
		if (i % 3 == 2) {
			assert_int_equal(d[i].status, 3);
			assert_string_equal(d[i].out, "to-stdout\nto-stderr");
		} else {
			assert_int_equal(d[i].status, 0);
			assert_string_equal(d[i].out, word[i]);
		}
	}
	loop_free(l);
	no_children();
}

static void test_kill_all(void **state)
{
	struct loop *l = loop_new();
	static struct done d[3];
	const char *args[] = {"sleep", "30", NULL};
	(void)state;
	memset(d, 0, sizeof(d));
	for (int i = 0; i < 3; i++)
		assert_int_equal(job_start(l, args, on_done, &d[i], NULL), 0);
	assert_int_equal(job_count(), 3);
	unsigned long long t0 = now_ms();
	job_kill_all();
	assert_true(now_ms() - t0 < 3000);
	for (int i = 0; i < 3; i++)
		assert_int_equal(d[i].calls, 0);
	loop_free(l);
	no_children();
}

static void test_cannot_start(void **state)
{
	struct loop *l = loop_new();
	static struct done d;
	const char *args[] = {"echo", NULL};
	const char *none[] = {NULL};
	char path[160];
	(void)state;
	snprintf(path, sizeof(path), "%s/missing", dir);
	setenv("OSIO_CONSOLE_OSIO", path, 1);
	assert_int_equal(job_start(l, args, on_done, &d, NULL), -ENOENT);
	assert_int_equal(job_run_wait(l, args, NULL, 0, 1000), -ENOENT);
	setenv("OSIO_CONSOLE_OSIO", script, 1);
	assert_int_equal(job_start(l, none, on_done, &d, NULL), -EINVAL);
	assert_int_equal(d.calls, 0);
	loop_free(l);
	no_children();
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_path),
	    cmocka_unit_test(test_status_output),
	    cmocka_unit_test(test_stdin_and_fds),
	    cmocka_unit_test(test_truncation),
	    cmocka_unit_test(test_timeout_and_signal),
	    cmocka_unit_test(test_descendant_keeps_pipe),
	    cmocka_unit_test(test_many),
	    cmocka_unit_test(test_kill_all),
	    cmocka_unit_test(test_cannot_start),
	};
	return cmocka_run_group_tests(tests, setup, teardown);
}
