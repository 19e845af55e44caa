/* Whole-length I/O (hypervisor/fileio.h): round trips at large offsets, the
 * end of a file (-ENODATA), a write cut short by the file size limit carried
 * on to its error, vectored I/O over empty and odd-sized buffers, a pipe
 * write interrupted by signals again and again, and bad descriptors. */
#include "hypervisor/fileio.h"

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/time.h>
#include <sys/wait.h>
#include <unistd.h>

static int temp_file(void)
{
	char path[] = "/tmp/osio-fileio-XXXXXX";
	int fd = mkstemp(path);
	assert_true(fd >= 0);
	unlink(path);
	return fd;
}

static void pattern(uint8_t *buf, size_t len, unsigned seed)
{
	for (size_t i = 0; i < len; i++)
		buf[i] = (uint8_t)(i * 131 + seed + (i >> 12));
}

static void test_round_trip(void **state)
{
	const size_t len = 3u << 20;
	const uint64_t off = (5ull << 30) + 12345; /* past 4 GiB: a sparse file */
	uint8_t *out = malloc(len), *in = malloc(len);
	int fd = temp_file();

	pattern(out, len, 7);
	assert_int_equal(file_pwrite_all(fd, out, len, off), 0);
	memset(in, 0, len);
	assert_int_equal(file_pread_all(fd, in, len, off), 0);
	assert_memory_equal(in, out, len);
	/* Nothing written is nothing done. */
	assert_int_equal(file_pwrite_all(fd, out, 0, 0), 0);
	assert_int_equal(file_pread_all(fd, in, 0, 1ull << 50), 0);
	close(fd);
	free(out);
	free(in);
}

static void test_end_of_file(void **state)
{
	uint8_t out[1000], in[1500];
	int fd = temp_file();

	pattern(out, sizeof(out), 1);
	assert_int_equal(file_pwrite_all(fd, out, sizeof(out), 0), 0);
	/* Crossing the end: what is there is read, and -ENODATA says the rest
	 * is not. */
	memset(in, 0xee, sizeof(in));
	assert_int_equal(file_pread_all(fd, in, sizeof(in), 0), -ENODATA);
	assert_memory_equal(in, out, sizeof(out));
	assert_int_equal(file_pread_all(fd, in, 1, sizeof(out)), -ENODATA);
	assert_int_equal(file_pread_all(fd, in, 1, sizeof(out) - 1), 0);
	assert_int_equal(in[0], out[sizeof(out) - 1]);
	close(fd);
}

/* RLIMIT_FSIZE cuts the write short at 8 KiB (pwrite returns 8192) and
 * refuses the rest (EFBIG): the loop goes on after the short write and
 * returns that error. In a child, so that the limit stays there. */
static void test_short_write(void **state)
{
	int fd = temp_file();
	pid_t pid = fork();

	assert_true(pid >= 0);
	if (pid == 0) {
		static uint8_t out[20000], in[8192];
		struct rlimit rl = {8192, 8192};
		signal(SIGXFSZ, SIG_IGN);
		pattern(out, sizeof(out), 3);
		if (setrlimit(RLIMIT_FSIZE, &rl) < 0)
			_exit(2);
		if (file_pwrite_all(fd, out, sizeof(out), 0) != -EFBIG)
			_exit(3);
		struct stat st;
		if (fstat(fd, &st) < 0 || st.st_size != 8192)
			_exit(4);
		if (file_pread_all(fd, in, sizeof(in), 0) != 0 || memcmp(in, out, sizeof(in)))
			_exit(5);
		/* The vectored write is carried on and stopped the same way. */
		struct iovec iov[2] = {{out, 5000}, {out + 5000, 5000}};
		if (file_prw_iov_all(fd, iov, 2, 4000, true) != -EFBIG)
			_exit(6);
		_exit(0);
	}
	int status;
	assert_int_equal(waitpid(pid, &status, 0), pid);
	assert_true(WIFEXITED(status));
	assert_int_equal(WEXITSTATUS(status), 0);
	close(fd);
}

static void test_vectored(void **state)
{
	uint8_t out[10000], in[10000];
	int fd = temp_file();

	pattern(out, sizeof(out), 9);
	/* Empty buffers among odd sizes. */
	struct iovec w[] = {{out, 0},	     {out, 1},		 {out + 1, 4095},
			    {out + 4096, 0}, {out + 4096, 5903}, {out + 9999, 1}};
	assert_int_equal(file_prw_iov_all(fd, w, 6, 100, true), 0);
	struct stat st;
	assert_int_equal(fstat(fd, &st), 0);
	assert_int_equal(st.st_size, 100 + sizeof(out));
	memset(in, 0, sizeof(in));
	struct iovec r[] = {{in, 3333}, {in + 3333, 3333}, {in + 6666, 3334}};
	assert_int_equal(file_prw_iov_all(fd, r, 3, 100, false), 0);
	assert_memory_equal(in, out, sizeof(out));
	/* Past the end of the file. */
	struct iovec past[] = {{in, 50}, {in + 50, 100}};
	assert_int_equal(file_prw_iov_all(fd, past, 2, 100 + sizeof(out) - 60, false), -ENODATA);
	assert_memory_equal(in, out + sizeof(out) - 60, 60);
	close(fd);
}

/* The pipe's reader: slow, so that the writer blocks and the timer's
 * signals land in its write() (partial counts and EINTR). */
struct reader {
	int fd;
	uint8_t *buf;
	size_t len, got;
};

static void *read_slowly(void *opaque)
{
	struct reader *r = opaque;
	while (r->got < r->len) {
		size_t want = r->len - r->got < 3000 ? r->len - r->got : 3000;
		ssize_t n = read(r->fd, r->buf + r->got, want);
		if (n <= 0)
			break;
		r->got += (size_t)n;
		if ((r->got / 3000) % 16 == 0)
			usleep(200);
	}
	return NULL;
}

static volatile sig_atomic_t alarms;

static void on_alarm(int sig)
{
	alarms++;
}

static void test_write_interrupted(void **state)
{
	const size_t len = 4u << 20;
	uint8_t *out = malloc(len);
	struct reader rd = {.buf = calloc(1, len), .len = len};
	int p[2];
	sigset_t block, old;
	pthread_t t;

	pattern(out, len, 5);
	assert_int_equal(pipe(p), 0);
	rd.fd = p[0];
	/* The reader never takes the signal: only the writer's write() does. */
	sigemptyset(&block);
	sigaddset(&block, SIGALRM);
	pthread_sigmask(SIG_BLOCK, &block, &old);
	assert_int_equal(pthread_create(&t, NULL, read_slowly, &rd), 0);
	pthread_sigmask(SIG_SETMASK, &old, NULL);

	struct sigaction sa = {.sa_handler = on_alarm}; /* no SA_RESTART */
	struct sigaction prev;
	sigaction(SIGALRM, &sa, &prev);
	struct itimerval every = {{0, 500}, {0, 500}}, off = {0};
	alarms = 0;
	setitimer(ITIMER_REAL, &every, NULL);
	int r = file_write_all(p[1], out, len);
	setitimer(ITIMER_REAL, &off, NULL);
	sigaction(SIGALRM, &prev, NULL);
	close(p[1]);
	pthread_join(t, NULL);

	assert_int_equal(r, 0);
	assert_true(alarms > 0);
	assert_int_equal(rd.got, len);
	assert_memory_equal(rd.buf, out, len);
	close(p[0]);
	free(out);
	free(rd.buf);
}

static void test_errors(void **state)
{
	uint8_t buf[16] = {0};
	struct iovec iov = {buf, sizeof(buf)};
	int p[2];

	assert_int_equal(file_pread_all(-1, buf, sizeof(buf), 0), -EBADF);
	assert_int_equal(file_pwrite_all(-1, buf, sizeof(buf), 0), -EBADF);
	assert_int_equal(file_write_all(-1, buf, sizeof(buf)), -EBADF);
	assert_int_equal(file_prw_iov_all(-1, &iov, 1, 0, false), -EBADF);
	/* A pipe has no offsets; its closed reader is EPIPE. */
	assert_int_equal(pipe(p), 0);
	assert_int_equal(file_pwrite_all(p[1], buf, sizeof(buf), 0), -ESPIPE);
	close(p[0]);
	signal(SIGPIPE, SIG_IGN);
	assert_int_equal(file_write_all(p[1], buf, sizeof(buf)), -EPIPE);
	close(p[1]);
	/* Read-only: writing is EBADF. */
	int fd = open("/dev/null", O_RDONLY | O_CLOEXEC);
	assert_true(fd >= 0);
	assert_int_equal(file_pwrite_all(fd, buf, sizeof(buf), 0), -EBADF);
	close(fd);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_round_trip),	      cmocka_unit_test(test_end_of_file),
	    cmocka_unit_test(test_short_write),	      cmocka_unit_test(test_vectored),
	    cmocka_unit_test(test_write_interrupted), cmocka_unit_test(test_errors),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
