/* The stdio character backend: osio's own terminal (raw mode while the VM
 * runs, put back on every exit path) or whatever pipes or files stdin and
 * stdout are. */
#define CHARDEV_INTERNAL
#include "devices/chardev.h"

#include "hypervisor/log.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <termios.h>
#include <unistd.h>

/* One terminal per process, so one port at a time may own it. */
static struct chardev *stdio_owner;
static struct termios saved_termios;
static volatile sig_atomic_t terminal_raw;
static bool atexit_registered;

void chardev_restore_terminal(void)
{
	if (!terminal_raw)
		return;
	terminal_raw = 0;
	tcsetattr(STDIN_FILENO, TCSANOW, &saved_termios);
	log_raw_terminal = false;
}

static int make_raw(void)
{
	struct termios t;
	if (tcgetattr(STDIN_FILENO, &saved_termios) < 0)
		return -errno;
	t = saved_termios;
	cfmakeraw(&t);
	t.c_cc[VMIN] = 1;
	t.c_cc[VTIME] = 0;
	if (!atexit_registered && atexit(chardev_restore_terminal) == 0)
		atexit_registered = true;
	terminal_raw = 1; /* before the change: a signal in between restores */
	if (tcsetattr(STDIN_FILENO, TCSANOW, &t) < 0) {
		int e = errno;
		terminal_raw = 0;
		return -e;
	}
	log_raw_terminal = true;
	return 0;
}

void chardev_stdio_help(void)
{
	static const char help[] = "\r\nosio: keys after Ctrl-A:\r\n"
				   "  x       power off the VM (quit)\r\n"
				   "  r       reset the VM\r\n"
				   "  d       press Ctrl+Alt+Del on the VM's keyboard\r\n"
				   "  b       send a break to the serial port\r\n"
				   "  h       this help\r\n"
				   "  Ctrl-A  send Ctrl-A itself\r\n";
	if (write(STDERR_FILENO, help, sizeof(help) - 1) < 0) {
		/* nowhere to say it */
	}
}

static void open_input(struct chardev *c)
{
	bool sock;
	int fd = chardev_reopen(STDIN_FILENO, O_RDONLY, &sock);
	if (fd < 0)
		return; /* stdin is closed: no input */
	if (isatty(STDIN_FILENO)) {
		pid_t fg = tcgetpgrp(STDIN_FILENO);
		if (fg >= 0 && fg != getpgrp()) {
			/* Reading or setting modes from the background stops
			 * the process (SIGTTIN/SIGTTOU). */
			log_info(
			    "%s: osio runs in the background of its terminal; no keyboard input",
			    c->port);
			close(fd);
			return;
		}
		int r = make_raw();
		if (r < 0)
			log_warn("%s: cannot put the terminal in raw mode: %s", c->port,
				 strerror(-r));
		else
			c->escape = ESCAPE_FULL;
	}
	c->in_fd = fd;
	c->in_sock = sock;
	c->in_poll = chardev_pollable(fd);
}

int chardev_stdio_open(struct chardev *c)
{
	if (stdio_owner) {
		log_error("%s: stdio is already the backend of %s; only one port can use it",
			  c->port, stdio_owner->port);
		return -EBUSY;
	}
	open_input(c);

	bool sock;
	int fd = chardev_reopen(STDOUT_FILENO, O_WRONLY, &sock);
	if (fd >= 0) {
		c->out_fd = fd;
		c->out_sock = sock;
		c->out_poll = chardev_pollable(fd);
		/* A closed pipe must fail the write, not kill the VM. */
		struct sigaction sa;
		if (sigaction(SIGPIPE, NULL, &sa) == 0 && sa.sa_handler == SIG_DFL)
			signal(SIGPIPE, SIG_IGN);
	}
	stdio_owner = c;
	if (c->escape == ESCAPE_FULL)
		log_info("%s is this terminal: Ctrl-A x quits, Ctrl-A h shows the keys", c->port);
	return 0;
}

void chardev_stdio_close(struct chardev *c)
{
	if (stdio_owner != c)
		return;
	chardev_restore_terminal();
	stdio_owner = NULL;
}
