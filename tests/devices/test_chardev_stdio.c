/* Character backend tests through a 16550A on COM1, the terminal side: the pty's slave side and
 * osio's own stdio (a pty as stdin, pipes, files): raw mode, escape keys, terminal restore. */
#include "tests/devices/chardev_test.h"
#include "hypervisor/log.h"

#include <fcntl.h>
#include <termios.h>

/* ---- pty ---- */

static void test_pty(void **state)
{
	struct harness *h = new_port("pty", NULL);
	const char *path = chardev_path(port_chardev(h));
	assert_string_equal(chardev_backend(port_chardev(h)), "pty");
	assert_int_equal(strncmp(path, "/dev/pts/", 9), 0);

	/* Output while nobody is attached is kept, not lost. */
	com_write(h, "early ", 6);
	harness_run(h, 2);

	int fd = open(path, O_RDWR | O_NOCTTY | O_NONBLOCK | O_CLOEXEC);
	assert_true(fd >= 0);
	struct termios t;
	assert_int_equal(tcgetattr(fd, &t), 0);
	assert_int_equal(t.c_lflag & (ICANON | ECHO | ISIG), 0);
	assert_int_equal(t.c_oflag & OPOST, 0);

	com_write(h, "pty out\r\n", 9);
	expect_host_reads(h, fd, "early pty out\r\n");
	host_write(fd, "typed\r", 6);
	expect_guest_reads(h, "typed\r");
	/* No escape processing on a pty: Ctrl-A reaches the guest. */
	host_write(fd, "\x01x", 2);
	expect_guest_reads(h, "\x01x");
	assert_int_equal(h->requests, 0);
	close(fd);

	/* Detached again: still no failure. */
	com_write(h, "bye", 3);
	harness_run(h, 2);
	assert_int_equal(reg(h, UART_LSR) & 0x60, 0x60);
	free_port(h);
}

/* ---- stdio ---- */

struct saved_fds {
	int fd[3];
};

static int save_fds(void **state)
{
	struct saved_fds *s = calloc(1, sizeof(*s));
	assert_non_null(s);
	fflush(stdout);
	fflush(stderr);
	for (int i = 0; i < 3; i++)
		s->fd[i] = dup(i);
	*state = s;
	return 0;
}

static int restore_fds(void **state)
{
	struct saved_fds *s = *state;
	chardev_restore_terminal();
	for (int i = 0; i < 3; i++) {
		dup2(s->fd[i], i);
		close(s->fd[i]);
	}
	free(s);
	return 0;
}

static void test_stdio_terminal(void **state)
{
	int master = posix_openpt(O_RDWR | O_NOCTTY | O_CLOEXEC);
	assert_true(master >= 0);
	assert_int_equal(grantpt(master), 0);
	assert_int_equal(unlockpt(master), 0);
	int slave = open(ptsname(master), O_RDWR | O_NOCTTY | O_CLOEXEC);
	assert_true(slave >= 0);
	struct termios cooked;
	assert_int_equal(tcgetattr(slave, &cooked), 0);
	assert_true(cooked.c_lflag & ICANON);
	fcntl(master, F_SETFL, O_NONBLOCK);

	int out[2], err[2];
	assert_int_equal(pipe2(out, O_CLOEXEC), 0);
	assert_int_equal(pipe2(err, O_CLOEXEC), 0);
	fcntl(out[0], F_SETFL, O_NONBLOCK);
	fcntl(err[0], F_SETFL, O_NONBLOCK);
	dup2(slave, 0);
	dup2(out[1], 1);

	struct harness *h = new_port("stdio", NULL);
	assert_true(log_raw_terminal);
	struct termios raw;
	assert_int_equal(tcgetattr(slave, &raw), 0);
	assert_int_equal(raw.c_lflag & (ICANON | ECHO | ISIG), 0);
	assert_int_equal(raw.c_iflag & (ICRNL | IXON), 0);

	com_write(h, "login: ", 7);
	expect_host_reads(h, out[0], "login: ");
	/* Typed keys reach the guest unchanged, Ctrl-C included. */
	host_write(master, "root\r\x03", 6);
	expect_guest_reads(h, "root\r\x03");
	host_write(master, "\x01\x01z", 3);
	expect_guest_reads(h, "\x01z");
	/* Ctrl-A b: a break. */
	host_write(master,
		   "\x01"
		   "b",
		   2);
	uint8_t c, lsr;
	com_read(h, &c, &lsr, 1);
	assert_int_equal(c, 0);
	assert_int_equal(lsr, UART_LSR_BI);
	/* Ctrl-A r and x: reset and power off. */
	host_write(master, "\x01r", 2);
	for (unsigned i = 0; i < 2000 && h->requests < 1; i++)
		harness_run(h, 1);
	assert_int_equal(h->requests, 1);
	assert_int_equal(h->last_request, MACHINE_RESET);
	host_write(master, "\x01x", 2);
	for (unsigned i = 0; i < 2000 && h->requests < 2; i++)
		harness_run(h, 1);
	assert_int_equal(h->requests, 2);
	assert_int_equal(h->last_request, MACHINE_POWEROFF);
	/* Ctrl-A h: the keys, on stderr. */
	fflush(stderr);
	dup2(err[1], 2);
	host_write(master, "\x01h", 2);
	char help[512] = {0};
	ssize_t n = 0;
	for (unsigned i = 0; i < 2000 && n <= 0; i++) {
		harness_run(h, 1);
		n = read(err[0], help, sizeof(help) - 1);
	}
	assert_true(n > 0);
	assert_non_null(strstr(help, "power off"));
	assert_non_null(strstr(help, "\r\n"));
	/* Nothing of it went to the guest. */
	harness_run(h, 5);
	assert_int_equal(reg(h, UART_LSR) & UART_LSR_DR, 0);

	/* The worker's signal path puts the terminal back. */
	chardev_restore_terminal();
	chardev_restore_terminal();
	assert_false(log_raw_terminal);
	struct termios now;
	assert_int_equal(tcgetattr(slave, &now), 0);
	assert_int_equal(now.c_lflag, cooked.c_lflag);
	assert_int_equal(now.c_iflag, cooked.c_iflag);
	assert_int_equal(now.c_oflag, cooked.c_oflag);
	free_port(h);

	/* Creating and destroying the port restores it too. */
	h = new_port("stdio", NULL);
	assert_true(log_raw_terminal);
	free_port(h);
	assert_false(log_raw_terminal);
	assert_int_equal(tcgetattr(slave, &now), 0);
	assert_int_equal(now.c_lflag, cooked.c_lflag);

	close(master);
	close(slave);
	close(out[0]);
	close(out[1]);
	close(err[0]);
	close(err[1]);
}

/* A paste the guest does not read yet stays queued; Ctrl-A x typed after
 * it still works, and the guest gets every byte later. */
static void test_stdio_paste_then_quit(void **state)
{
	int master = posix_openpt(O_RDWR | O_NOCTTY | O_CLOEXEC);
	assert_true(master >= 0);
	assert_int_equal(grantpt(master), 0);
	assert_int_equal(unlockpt(master), 0);
	int slave = open(ptsname(master), O_RDWR | O_NOCTTY | O_CLOEXEC);
	assert_true(slave >= 0);
	fcntl(master, F_SETFL, O_NONBLOCK);
	dup2(slave, 0);
	struct harness *h = new_port("stdio", NULL);

	enum { N = 20000 };
	static uint8_t paste[N + 2], got[N];
	for (size_t i = 0; i < N; i++)
		paste[i] = (uint8_t)(pattern(i) | 0x80);
	paste[N] = 0x01;
	paste[N + 1] = 'x';
	size_t put = 0;
	for (unsigned spins = 0; put < sizeof(paste) || h->requests == 0; spins++) {
		assert_true(spins < 5000);
		ssize_t r = write(master, paste + put, sizeof(paste) - put);
		if (r > 0)
			put += (size_t)r;
		harness_run(h, 1);
	}
	assert_int_equal(h->last_request, MACHINE_POWEROFF);
	com_read(h, got, NULL, N);
	assert_memory_equal(got, paste, N);
	harness_run(h, 5);
	assert_int_equal(reg(h, UART_LSR) & UART_LSR_DR, 0);
	free_port(h);
	close(master);
	close(slave);
}

static void test_stdio_pipes(void **state)
{
	int in[2], out[2];
	assert_int_equal(pipe2(in, O_CLOEXEC), 0);
	assert_int_equal(pipe2(out, O_CLOEXEC), 0);
	fcntl(out[0], F_SETFL, O_NONBLOCK);
	dup2(in[0], 0);
	dup2(out[1], 1);
	close(in[0]);
	close(out[1]);

	struct harness *h = new_port("stdio", NULL);
	assert_false(log_raw_terminal);
	/* Not a terminal: no escape key, bytes pass unchanged. */
	host_write(in[1], "a\x01xb\x01\x01", 6);
	expect_guest_reads(h, "a\x01xb\x01\x01");
	assert_int_equal(h->requests, 0);
	com_write(h, "piped", 5);
	expect_host_reads(h, out[0], "piped");

	/* Only one port can have stdio. */
	struct devargs a = {0};
	assert_int_equal(devargs_parse(&a, "base=0x2f8,irq=3,backend=stdio,name=COM2"), 0);
	assert_int_equal(machine_add_device(&h->m, "uart16550", "com2", &a), -EBUSY);

	/* EOF ends input; the VM runs on and output still works. */
	close(in[1]);
	harness_run(h, 10);
	assert_int_equal(h->requests, 0);
	assert_int_equal(reg(h, UART_LSR) & UART_LSR_DR, 0);
	com_write(h, "more", 4);
	expect_host_reads(h, out[0], "more");
	free_port(h);
	close(out[0]);
}

static void test_stdio_file_and_broken_pipe(void **state)
{
	/* stdin a regular file (epoll cannot watch it), longer than the
	 * FIFO; stdout a pipe nobody reads any more. */
	char path[128];
	sock_path(path, sizeof(path), "stdin.txt");
	char text[200];
	for (size_t i = 0; i < sizeof(text); i++)
		text[i] = (char)('a' + i % 26);
	FILE *f = fopen(path, "w");
	assert_non_null(f);
	assert_int_equal(fwrite(text, 1, sizeof(text), f), sizeof(text));
	fclose(f);
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	assert_true(fd >= 0);
	int out[2];
	assert_int_equal(pipe2(out, O_CLOEXEC), 0);
	dup2(fd, 0);
	dup2(out[1], 1);
	close(fd);
	close(out[0]);
	close(out[1]);

	struct harness *h = new_port("stdio", NULL);
	uint8_t got[sizeof(text)];
	com_read(h, got, NULL, sizeof(got));
	assert_memory_equal(got, text, sizeof(text));
	/* Output fails (EPIPE) and is dropped; the guest never stalls. */
	for (unsigned i = 0; i < 3 * CHARDEV_OUT_BUF; i++) {
		set(h, UART_THR, 'o');
		if (i % 4096 == 0)
			harness_run(h, 1);
	}
	harness_run(h, 2);
	assert_int_equal(reg(h, UART_LSR) & 0x60, 0x60);
	free_port(h);
	unlink(path);

	/* /dev/null in, /dev/full out (every write fails): still a working
	 * port. */
	fd = open("/dev/null", O_RDONLY | O_CLOEXEC);
	assert_true(fd >= 0);
	dup2(fd, 0);
	close(fd);
	fd = open("/dev/full", O_WRONLY | O_CLOEXEC);
	assert_true(fd >= 0);
	dup2(fd, 1);
	close(fd);
	h = new_port("stdio", NULL);
	com_write(h, "nowhere", 7);
	harness_run(h, 5);
	assert_int_equal(reg(h, UART_LSR), 0x60);
	free_port(h);
}

int main(void)
{
	snprintf(tmpdir, sizeof(tmpdir), "/tmp/osio-chardev-XXXXXX");
	if (!mkdtemp(tmpdir))
		return 1;
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_pty),
	    cmocka_unit_test_setup_teardown(test_stdio_terminal, save_fds, restore_fds),
	    cmocka_unit_test_setup_teardown(test_stdio_paste_then_quit, save_fds, restore_fds),
	    cmocka_unit_test_setup_teardown(test_stdio_pipes, save_fds, restore_fds),
	    cmocka_unit_test_setup_teardown(test_stdio_file_and_broken_pipe, save_fds, restore_fds),
	};
	int r = cmocka_run_group_tests(tests, NULL, NULL);
	rmdir(tmpdir);
	return r;
}
