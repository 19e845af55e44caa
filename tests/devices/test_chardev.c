/* Character backend tests through a 16550A on COM1: a real client on the socket, files, and flow
 * control both ways. The stdio and pty backends are in test_chardev_stdio.c. */
#include "tests/devices/chardev_test.h"

#include <fcntl.h>
#include <pthread.h>
#include <sched.h>
#include <stdatomic.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>

/* ---- socket ---- */

static int connect_to(const char *path)
{
	struct sockaddr_un sa = {.sun_family = AF_UNIX};
	snprintf(sa.sun_path, sizeof(sa.sun_path), "%s", path);
	int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	assert_true(fd >= 0);
	assert_int_equal(connect(fd, (struct sockaddr *)&sa, sizeof(sa)), 0);
	fcntl(fd, F_SETFL, O_NONBLOCK);
	return fd;
}

/* A client counts as connected once a byte it sent reached the guest. */
static int connect_client(struct harness *h, const char *path)
{
	int fd = connect_to(path);
	host_write(fd, "!", 1);
	expect_guest_reads(h, "!");
	return fd;
}

/* Reads from fd until it has seen s; every byte before it must be fill.
 * Returns how many came before. */
static size_t read_until(struct harness *h, int fd, const char *s, char fill)
{
	size_t n = strlen(s), count = 0, matched = 0;
	unsigned spins = 0;
	while (matched < n) {
		char b;
		ssize_t r = read(fd, &b, 1);
		if (r < 0 && errno == EAGAIN) {
			assert_true(++spins < 5000);
			harness_run(h, 1);
			continue;
		}
		assert_int_equal(r, 1);
		if (b == s[matched]) {
			matched++;
			continue;
		}
		assert_int_equal(matched, 0);
		assert_int_equal(b, fill);
		count++;
	}
	return count;
}

static void test_socket(void **state)
{
	char path[128];
	struct stat st;
	sock_path(path, sizeof(path), "com1.sock");
	struct harness *h = new_port("socket", path);
	assert_string_equal(chardev_path(port_chardev(h)), path);
	assert_int_equal(lstat(path, &st), 0);
	assert_true(S_ISSOCK(st.st_mode));
	assert_int_equal(st.st_mode & 0777, 0600);

	/* No client yet: output is kept in the ring of the last 64 KiB, the
	 * transmitter never stalls while the event loop runs. */
	for (unsigned i = 0; i < 3 * CHARDEV_OUT_BUF; i++) {
		set(h, UART_THR, 'x');
		if (i % 4096 == 0)
			harness_run(h, 1);
	}
	harness_run(h, 2);
	assert_int_equal(reg(h, UART_LSR) & 0x60, 0x60);
	harness_run(h, 2);

	/* A client gets the recent output first, then what follows. */
	int c1 = connect_client(h, path);
	com_write(h, "hello\r\n", 7);
	size_t before = read_until(h, c1, "hello\r\n", 'x');
	assert_true(before >= 64 * 1024 && before <= 3 * CHARDEV_OUT_BUF);

	/* Ctrl-A Ctrl-A is a Ctrl-A, Ctrl-A b a break; others pass unchanged. */
	host_write(c1,
		   "abc\x01\x01"
		   "d\x01"
		   "bq\x01x",
		   11);
	uint8_t got[8], lsr[8];
	com_read(h, got, lsr, 8);
	assert_memory_equal(got,
			    "abc\x01"
			    "d\0q\x01",
			    8);
	for (unsigned i = 0; i < 8; i++)
		assert_int_equal(lsr[i], i == 5 ? UART_LSR_BI : 0);
	expect_guest_reads(h, "x");
	assert_int_equal(h->requests, 0);

	/* A second client takes over: the first is told and let go; the new
	 * one sees the same recent output. */
	int c2 = connect_to(path);
	size_t n = strlen("\r\nosio: another client took over this serial console\r\n");
	char notice[80];
	host_read(h, c1, notice, n);
	assert_memory_equal(notice, "\r\nosio: another client took over this serial console\r\n",
			    n);
	for (unsigned i = 0; i < 100; i++) {
		ssize_t r = read(c1, notice, sizeof(notice));
		if (r == 0)
			break;
		assert_true(r < 0 && errno == EAGAIN);
		harness_run(h, 1);
	}
	assert_int_equal(read(c1, notice, sizeof(notice)), 0);
	close(c1);
	assert_int_equal(read_until(h, c2, "hello\r\n", 'x'), 64 * 1024 - 7);
	host_write(c2, "!", 1);
	expect_guest_reads(h, "!");
	com_write(h, "still\r\n", 7);
	expect_host_reads(h, c2, "still\r\n");

	/* It leaves; output goes on into the ring without filling up. */
	close(c2);
	harness_run(h, 2);
	for (unsigned i = 0; i < 4 * CHARDEV_OUT_BUF; i++) {
		set(h, UART_THR, pattern(i));
		if (i % 4096 == 0)
			harness_run(h, 1);
	}
	harness_run(h, 2);
	assert_int_equal(reg(h, UART_LSR) & 0x60, 0x60);

	/* A new client gets the last 64 KiB of it, then what comes. */
	int c3 = connect_client(h, path);
	com_write(h, "again", 5);
	enum { HIST = 64 * 1024 };
	uint8_t *hist = malloc(HIST + 5);
	assert_non_null(hist);
	host_read(h, c3, hist, HIST + 5);
	for (size_t i = 0; i < HIST; i++)
		if (hist[i] != pattern(4 * CHARDEV_OUT_BUF - HIST + i))
			fail_msg("history byte %zu is 0x%02x", i, hist[i]);
	assert_memory_equal(hist + HIST, "again", 5);
	free(hist);
	close(c3);

	free_port(h);
	assert_int_equal(lstat(path, &st), -1); /* removed on the way out */
}

static void test_socket_stale_live_and_bad(void **state)
{
	char path[100];
	struct sockaddr_un sa = {.sun_family = AF_UNIX};
	sock_path(path, sizeof(path), "stale.sock");
	snprintf(sa.sun_path, sizeof(sa.sun_path), "%s", path);

	/* A socket file whose process is gone is replaced. */
	int fd = socket(AF_UNIX, SOCK_STREAM, 0);
	assert_int_equal(bind(fd, (struct sockaddr *)&sa, sizeof(sa)), 0);
	close(fd);
	struct harness *h = new_port("socket", path);
	int c = connect_client(h, path);
	close(c);
	free_port(h);

	/* A live one is refused, and left alone. */
	fd = socket(AF_UNIX, SOCK_STREAM, 0);
	assert_int_equal(bind(fd, (struct sockaddr *)&sa, sizeof(sa)), 0);
	assert_int_equal(listen(fd, 1), 0);
	struct harness h2;
	struct devargs a = {0};
	char args[256];
	harness_init(&h2, 1 << 20);
	snprintf(args, sizeof(args), "base=0x3f8,irq=4,backend=socket,path=%s", path);
	assert_int_equal(devargs_parse(&a, args), 0);
	assert_int_equal(machine_add_device(&h2.m, "uart16550", "com1", &a), -EADDRINUSE);
	close(fd);
	struct stat st;
	assert_int_equal(lstat(path, &st), 0);
	unlink(path);

	/* Something that is not a socket is never removed. */
	FILE *f = fopen(path, "w");
	assert_non_null(f);
	fclose(f);
	assert_int_equal(machine_add_device(&h2.m, "uart16550", "com1", &a), -EEXIST);
	assert_int_equal(lstat(path, &st), 0);
	assert_true(S_ISREG(st.st_mode));
	unlink(path);

	/* Too long for sun_path. */
	char longpath[200];
	memset(longpath, 'a', sizeof(longpath) - 1);
	longpath[0] = '/';
	longpath[sizeof(longpath) - 1] = 0;
	memset(&a, 0, sizeof(a));
	snprintf(args, sizeof(args), "base=0x3f8,irq=4,backend=socket,path=%s", longpath);
	assert_int_equal(devargs_parse(&a, args), 0);
	assert_int_equal(machine_add_device(&h2.m, "uart16550", "com1", &a), -ENAMETOOLONG);
	harness_fini(&h2);
}

/* ---- flow control ---- */

/* Fills the guest's FIFO 16 bytes per THRE, the way Linux's driver does,
 * until the backend stays full. Returns how many bytes the guest wrote. */
static size_t fill_until_stuck(struct harness *h)
{
	size_t sent = 0;
	unsigned stuck = 0;
	while (stuck < 3) {
		if (reg(h, UART_LSR) & UART_LSR_THRE) {
			for (unsigned k = 0; k < UART_FIFO_SIZE; k++, sent++)
				set(h, UART_THR, pattern(sent));
			if (sent % 4096 == 0)
				harness_run(h, 1);
			stuck = 0;
		} else {
			harness_run(h, 2);
			stuck++;
		}
		assert_true(sent < 64 * 1024 * 1024);
	}
	return sent;
}

static void test_output_flow_control(void **state)
{
	char path[128];
	sock_path(path, sizeof(path), "flow.sock");
	struct harness *h = new_port("socket", path);
	int c = connect_client(h, path);

	set(h, UART_IER, UART_IER_THRI);
	(void)reg(h, UART_IIR);
	size_t sent = fill_until_stuck(h);
	/* The backend's buffer and the socket's are full; nothing was lost:
	 * the transmitter is simply busy, as with hardware flow control. */
	assert_true(sent > CHARDEV_OUT_BUF);
	assert_int_equal(reg(h, UART_LSR) & 0x60, 0);
	assert_int_equal(reg(h, UART_IIR), 0xc1);
	assert_false(h->irq_level[IRQ]);
	harness_run(h, 20);
	assert_int_equal(reg(h, UART_LSR) & 0x60, 0);
	unsigned raised = h->irq_raised[IRQ];

	/* The client reads: everything arrives in order, then the THRE
	 * interrupt tells the guest it may go on. */
	uint8_t *buf = malloc(sent);
	assert_non_null(buf);
	host_read(h, c, buf, sent);
	for (size_t i = 0; i < sent; i++)
		if (buf[i] != pattern(i))
			fail_msg("byte %zu is 0x%02x, not 0x%02x", i, buf[i], pattern(i));
	free(buf);
	assert_int_equal(reg(h, UART_LSR) & 0x60, 0x60);
	assert_int_equal(h->irq_raised[IRQ], raised + 1);
	assert_int_equal(reg(h, UART_IIR), 0xc2);

	/* Fill again, then reset the transmitter FIFO: THRE at once. */
	set(h, UART_IER, 0);
	size_t sent2 = fill_until_stuck(h);
	set(h, UART_FCR, UART_FCR_ENABLE | UART_FCR_CLEAR_XMIT | UART_FCR_TRIGGER_8);
	assert_int_equal(reg(h, UART_LSR) & 0x60, 0x60);
	buf = malloc(sent2);
	assert_non_null(buf);
	size_t got = 0;
	for (unsigned idle = 0; idle < 20;) {
		ssize_t r = read(c, buf + got, sent2 - got);
		if (r > 0) {
			got += (size_t)r;
			idle = 0;
		} else {
			harness_run(h, 1);
			idle++;
		}
	}
	/* At most the FIFO's 16 characters are gone, from the end. */
	assert_true(got <= sent2 && sent2 - got <= UART_FIFO_SIZE);
	for (size_t i = 0; i < got; i++)
		assert_int_equal(buf[i], pattern(i));
	free(buf);
	close(c);
	free_port(h);
}

static void test_input_flow_control(void **state)
{
	char path[128];
	sock_path(path, sizeof(path), "paste.sock");
	struct harness *h = new_port("socket", path);
	int c = connect_client(h, path);

	/* A paste far larger than the FIFO: the backend only hands over what
	 * the FIFO can take, so the guest never sees an overrun. */
	enum { N = 6000 };
	uint8_t out[N], in[N];
	for (size_t i = 0; i < N; i++) {
		out[i] = pattern(i);
		if (out[i] == 0x01)
			out[i] = 0x02; /* no escape sequences in this test */
	}
	host_write(c, out, N);
	com_read(h, in, NULL, N);
	assert_memory_equal(in, out, N);
	assert_int_equal(reg(h, UART_LSR) & UART_LSR_DR, 0);
	close(c);
	free_port(h);
}

/* ---- threads ---- */

struct vcpu_job {
	struct harness *h;
	size_t out, in; /* bytes to send, bytes to receive */
	uint8_t *got;
	bool overrun;
	atomic_bool done;
};

/* A vCPU thread: polls LSR and moves bytes both ways, never waiting on
 * anything but the UART, while the event loop runs in the test's thread. */
static void *vcpu_thread(void *opaque)
{
	struct vcpu_job *j = opaque;
	size_t sent = 0, recvd = 0;
	while (sent < j->out || recvd < j->in) {
		uint8_t lsr = reg(j->h, UART_LSR);
		if (lsr & UART_LSR_OE)
			j->overrun = true;
		if ((lsr & UART_LSR_DR) && recvd < j->in)
			j->got[recvd++] = reg(j->h, UART_RBR);
		if ((lsr & UART_LSR_THRE) && sent < j->out)
			for (unsigned k = 0; k < UART_FIFO_SIZE && sent < j->out; k++, sent++)
				set(j->h, UART_THR, pattern(sent));
		if (!(lsr & (UART_LSR_DR | UART_LSR_THRE)))
			sched_yield();
	}
	atomic_store(&j->done, true);
	return NULL;
}

static void test_vcpu_thread(void **state)
{
	char path[128];
	sock_path(path, sizeof(path), "thread.sock");
	struct harness *h = new_port("socket", path);
	int c = connect_client(h, path);

	enum { OUT = 300000, IN = 20000 };
	uint8_t *rx = malloc(OUT), *tx = malloc(IN), *got = malloc(IN);
	assert_true(rx && tx && got);
	for (size_t i = 0; i < IN; i++)
		tx[i] = (uint8_t)(pattern(i * 3) | 0x80); /* never Ctrl-A */
	struct vcpu_job j = {.h = h, .out = OUT, .in = IN, .got = got};
	pthread_t t;
	assert_int_equal(pthread_create(&t, NULL, vcpu_thread, &j), 0);

	size_t rn = 0, tn = 0;
	for (unsigned spins = 0; rn < OUT || !atomic_load(&j.done); spins++) {
		assert_true(spins < 100000);
		ssize_t r = read(c, rx + rn, OUT - rn);
		if (r > 0)
			rn += (size_t)r;
		if (tn < IN) {
			r = write(c, tx + tn, IN - tn);
			if (r > 0)
				tn += (size_t)r;
		}
		harness_run(h, 1);
	}
	assert_int_equal(pthread_join(t, NULL), 0);
	assert_false(j.overrun);
	for (size_t i = 0; i < OUT; i++)
		if (rx[i] != pattern(i))
			fail_msg("output byte %zu is 0x%02x, not 0x%02x", i, rx[i], pattern(i));
	assert_memory_equal(got, tx, IN);
	free(rx);
	free(tx);
	free(got);
	close(c);
	free_port(h);
}

/* ---- file ---- */

static void test_file(void **state)
{
	char path[128];
	sock_path(path, sizeof(path), "serial.log");
	FILE *f = fopen(path, "w");
	assert_non_null(f);
	fputs("old\n", f);
	fclose(f);

	struct harness *h = new_port("file", path);
	com_write(h, "new line\r\n", 10);
	harness_run(h, 2);
	char got[64] = {0};
	f = fopen(path, "r");
	assert_non_null(f);
	assert_int_equal(fread(got, 1, sizeof(got) - 1, f), 14);
	fclose(f);
	assert_string_equal(got, "old\nnew line\r\n");
	/* No input: the receiver stays empty. */
	harness_run(h, 5);
	assert_int_equal(reg(h, UART_LSR) & UART_LSR_DR, 0);
	free_port(h);
	unlink(path);
}

int main(void)
{
	snprintf(tmpdir, sizeof(tmpdir), "/tmp/osio-chardev-XXXXXX");
	if (!mkdtemp(tmpdir))
		return 1;
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_socket),
	    cmocka_unit_test(test_socket_stale_live_and_bad),
	    cmocka_unit_test(test_output_flow_control),
	    cmocka_unit_test(test_input_flow_control),
	    cmocka_unit_test(test_vcpu_thread),
	    cmocka_unit_test(test_file),
	};
	int r = cmocka_run_group_tests(tests, NULL, NULL);
	rmdir(tmpdir);
	return r;
}
