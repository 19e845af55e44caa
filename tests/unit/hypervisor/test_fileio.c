/* Whole-length I/O (hypervisor/fileio.h): round trips at large offsets, the
 * end of a file (-ENODATA), a write cut short by the file size limit carried
 * on to its error, vectored I/O over empty and odd-sized buffers (the bytes
 * done, more buffers than IOV_MAX), a pipe write interrupted by signals again
 * and again, bad descriptors, zero-filling, and reading small files whole. */
#include "hypervisor/fileio.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
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
		/* Cut inside the first buffer: 4192 bytes done, iov as it was. */
		uint64_t done = 0;
		if (file_prw_iov(fd, iov, 2, 4000, true, &done) != -EFBIG || done != 4192 ||
		    iov[0].iov_base != out || iov[0].iov_len != 5000)
			_exit(7);
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

/* The bytes done, at and across the end of the file: the read stops inside
 * a buffer, and every entry of iov is as it was. */
static void test_vectored_done(void **state)
{
	uint8_t out[5000], in[6000];
	uint64_t done = 1;
	int fd = temp_file();

	pattern(out, sizeof(out), 11);
	assert_int_equal(file_pwrite_all(fd, out, sizeof(out), 0), 0);
	memset(in, 0xee, sizeof(in));
	struct iovec r[] = {{in, 1000}, {in + 1000, 0}, {in + 1000, 3000}, {in + 4000, 2000}};
	struct iovec was[4];
	memcpy(was, r, sizeof(r));
	assert_int_equal(file_prw_iov(fd, r, 4, 500, false, &done), -ENODATA);
	assert_int_equal(done, sizeof(out) - 500);
	assert_memory_equal(r, was, sizeof(r));
	assert_memory_equal(in, out + 500, sizeof(out) - 500);
	assert_int_equal(in[sizeof(out) - 500], 0xee);
	/* At the end: nothing done. */
	done = 1;
	assert_int_equal(file_prw_iov(fd, r, 4, sizeof(out), false, &done), -ENODATA);
	assert_int_equal(done, 0);
	/* All there: all done. */
	assert_int_equal(file_prw_iov(fd, r, 3, 1000, false, &done), 0);
	assert_int_equal(done, 4000);
	assert_memory_equal(in, out + 1000, 4000);
	assert_memory_equal(r, was, sizeof(r));
	/* Empty buffers only: nothing to do is no end of file. */
	struct iovec none[] = {{in, 0}, {in + 1, 0}};
	assert_int_equal(file_prw_iov(fd, none, 2, 1ull << 40, false, &done), 0);
	assert_int_equal(done, 0);
	assert_int_equal(file_prw_iov(fd, none, 0, 0, true, &done), 0);
	close(fd);
}

/* More buffers than one preadv/pwritev takes. */
static void test_vectored_many(void **state)
{
	const int n = IOV_MAX * 2 + 7;
	struct iovec *w = calloc((size_t)n, sizeof(*w)), *r = calloc((size_t)n, sizeof(*r));
	uint8_t *out = malloc((size_t)n * 3), *in = calloc(1, (size_t)n * 3);
	uint64_t done = 0;
	int fd = temp_file();

	pattern(out, (size_t)n * 3, 13);
	for (int i = 0; i < n; i++) {
		w[i] = (struct iovec){out + i * 3, 3};
		r[i] = (struct iovec){in + i * 3, 3};
	}
	assert_int_equal(file_prw_iov(fd, w, n, 7, true, &done), 0);
	assert_int_equal(done, (uint64_t)n * 3);
	assert_int_equal(file_prw_iov_all(fd, r, n, 7, false), 0);
	assert_memory_equal(in, out, (size_t)n * 3);
	close(fd);
	free(w);
	free(r);
	free(out);
	free(in);
}

static void test_zeroes(void **state)
{
	const size_t len = 300000;
	uint8_t *out = malloc(len), *in = malloc(len);
	int fd = temp_file();

	pattern(out, len, 17);
	assert_int_equal(file_pwrite_all(fd, out, len, 0), 0);
	/* Several buffers of zeroes and a part of one, at an odd offset. */
	assert_int_equal(file_pwrite_zeroes(fd, 1001, 200003), 0);
	assert_int_equal(file_pread_all(fd, in, len, 0), 0);
	memset(out + 1001, 0, 200003);
	assert_memory_equal(in, out, len);
	/* Past the end, the file grows. */
	assert_int_equal(file_pwrite_zeroes(fd, len + 10, 5), 0);
	struct stat st;
	assert_int_equal(fstat(fd, &st), 0);
	assert_int_equal(st.st_size, len + 15);
	assert_int_equal(file_pwrite_zeroes(fd, 0, 0), 0);
	assert_int_equal(file_pwrite_zeroes(-1, 0, 1), -EBADF);
	close(fd);
	free(out);
	free(in);
}

/* A file of len pattern bytes; its path in path. */
static void small_file(char *path, size_t len)
{
	uint8_t *buf = malloc(len + 1);
	int fd;

	strcpy(path, "/tmp/osio-fileio-XXXXXX");
	fd = mkstemp(path);
	assert_true(fd >= 0);
	pattern(buf, len, 19);
	assert_int_equal(file_pwrite_all(fd, buf, len, 0), 0);
	close(fd);
	free(buf);
}

static void test_read_whole(void **state)
{
	char path[32], *text = (char *)1;
	size_t len = 1;
	uint8_t want[10000];

	pattern(want, sizeof(want), 19);
	/* Exactly max, one past max, empty. */
	small_file(path, sizeof(want));
	assert_int_equal(file_read_whole(path, sizeof(want), &text, &len), 0);
	assert_int_equal(len, sizeof(want));
	assert_memory_equal(text, want, sizeof(want));
	assert_int_equal(text[len], '\0');
	free(text);
	assert_int_equal(file_read_whole(path, sizeof(want) - 1, &text, &len), -EFBIG);
	assert_null(text);
	assert_int_equal(len, 0);
	assert_int_equal(truncate(path, 0), 0);
	assert_int_equal(file_read_whole(path, 0, &text, &len), 0);
	assert_int_equal(len, 0);
	assert_string_equal(text, "");
	free(text);
	unlink(path);
	/* A size of 0 that is not its size (/proc). */
	assert_int_equal(file_read_whole("/proc/self/status", 1 << 20, &text, &len), 0);
	assert_true(len > 0 && strlen(text) == len);
	assert_non_null(strstr(text, "Pid:"));
	free(text);
	/* Missing, a folder. */
	assert_int_equal(file_read_whole("/nonexistent/osio", 100, &text, &len), -ENOENT);
	assert_null(text);
	assert_int_equal(file_read_whole("/tmp", 100, &text, &len), -EISDIR);
	assert_null(text);
}

/* A pipe has no size: it is read to its end, the buffer growing, and one
 * byte more than max is too many. */
static void test_read_whole_pipe(void **state)
{
	static uint8_t out[100000];
	char *text;
	size_t len;

	pattern(out, sizeof(out), 23);
	for (int over = 0; over < 2; over++) {
		int p[2];
		assert_int_equal(pipe(p), 0);
		pid_t pid = fork();
		assert_true(pid >= 0);
		if (pid == 0) {
			close(p[0]);
			_exit(file_write_all(p[1], out, sizeof(out)) == 0 ? 0 : 1);
		}
		close(p[1]);
		int r = file_read_whole_fd(p[0], sizeof(out) - (size_t)over, &text, &len);
		close(p[0]);
		int status;
		assert_int_equal(waitpid(pid, &status, 0), pid);
		if (over) {
			assert_int_equal(r, -EFBIG);
			assert_null(text);
			continue;
		}
		assert_true(WIFEXITED(status) && WEXITSTATUS(status) == 0);
		assert_int_equal(r, 0);
		assert_int_equal(len, sizeof(out));
		assert_memory_equal(text, out, sizeof(out));
		assert_int_equal(text[len], '\0');
		free(text);
	}
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
	    cmocka_unit_test(test_round_trip),
	    cmocka_unit_test(test_end_of_file),
	    cmocka_unit_test(test_short_write),
	    cmocka_unit_test(test_vectored),
	    cmocka_unit_test(test_write_interrupted),
	    cmocka_unit_test(test_errors),
	    cmocka_unit_test(test_vectored_done),
	    cmocka_unit_test(test_vectored_many),
	    cmocka_unit_test(test_zeroes),
	    cmocka_unit_test(test_read_whole),
	    cmocka_unit_test(test_read_whole_pipe),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
