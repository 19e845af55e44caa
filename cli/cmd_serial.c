/* `osio serial NAME`: this terminal on a running VM's serial console (COM1's
 * socket in the runtime directory), in raw mode until Ctrl-] detaches. The
 * worker sends the recent output first, so the screen shows where the guest
 * is; a second attach takes the console over from the first. */
#include "cli/commands.h"
#include "cli/ctlclient.h"
#include "cli/vmload.h"

#include "hypervisor/fileio.h"
#include "hypervisor/log.h"
#include "hypervisor/vmstore.h"

#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <termios.h>
#include <unistd.h>

#define DETACH_KEY 0x1d /* Ctrl-] */

static struct termios saved_tio;
static bool raw_on;

static void restore_terminal(void)
{
	if (raw_on) {
		tcsetattr(STDIN_FILENO, TCSAFLUSH, &saved_tio);
		raw_on = false;
	}
}

static void on_signal(int sig)
{
	restore_terminal();
	signal(sig, SIG_DFL);
	raise(sig);
}

static int raw_terminal(void)
{
	struct termios tio;
	if (!isatty(STDIN_FILENO) || tcgetattr(STDIN_FILENO, &saved_tio) < 0)
		return 0;
	tio = saved_tio;
	cfmakeraw(&tio);
	if (tcsetattr(STDIN_FILENO, TCSAFLUSH, &tio) < 0)
		return -errno;
	raw_on = true;
	atexit(restore_terminal);
	signal(SIGTERM, on_signal);
	signal(SIGHUP, on_signal);
	signal(SIGINT, on_signal);
	return 0;
}

static int connect_serial(const char *name)
{
	struct sockaddr_un sa = {.sun_family = AF_UNIX};
	char path[sizeof(sa.sun_path) + 64];
	if (vmload_serial_path(name, path, sizeof(path)) < 0 ||
	    strlen(path) >= sizeof(sa.sun_path)) {
		log_error("VM '%s': the runtime directory's path is too long for a socket", name);
		return -ENAMETOOLONG;
	}
	strcpy(sa.sun_path, path);
	int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0) {
		log_error("socket: %s", strerror(errno));
		return -errno;
	}
	if (connect(fd, (struct sockaddr *)&sa, sizeof(sa)) == 0)
		return fd;
	int e = errno;
	close(fd);
	struct vm_info info;
	if (vmstore_info(name, &info) < 0)
		log_error("there is no VM called '%s' (osio list shows them)", name);
	else if (info.state != VM_RUNNING && info.state != VM_PAUSED && info.state != VM_STARTING)
		log_error("VM '%s' is not running (it is %s); osio start %s starts it", name,
			  vm_state_name(info.state), name);
	else if (e == ENOENT || e == ECONNREFUSED)
		log_error("VM '%s' has no serial console socket at %s: its vmconfig sends COM1 "
			  "elsewhere ([serial \"com1\"] backend)",
			  name, path);
	else
		log_error("VM '%s': cannot connect to %s: %s", name, path, strerror(e));
	return -e;
}

/* Copies between the terminal and the socket until Ctrl-] or the end. */
static int pump(int sock, bool tty)
{
	bool in_open = true;
	char buf[4096];
	for (;;) {
		struct pollfd p[2] = {{.fd = sock, .events = POLLIN},
				      {.fd = in_open ? STDIN_FILENO : -1, .events = POLLIN}};
		if (poll(p, 2, -1) < 0) {
			if (errno == EINTR)
				continue;
			return -errno;
		}
		if (p[0].revents) {
			ssize_t n = read(sock, buf, sizeof(buf));
			if (n < 0 && errno == EINTR)
				continue;
			if (n <= 0)
				return 1; /* the worker closed it: the VM ended or another took over
					   */
			if (file_write_all(STDOUT_FILENO, buf, (size_t)n) < 0)
				return 0;
		}
		if (p[1].revents) {
			ssize_t n = read(STDIN_FILENO, buf, sizeof(buf));
			if (n < 0 && errno == EINTR)
				continue;
			if (n <= 0) {
				/* Input ended (a script): keep showing the output. */
				in_open = false;
				continue;
			}
			char *key = tty ? memchr(buf, DETACH_KEY, (size_t)n) : NULL;
			size_t len = key ? (size_t)(key - buf) : (size_t)n;
			if (len && file_write_all(sock, buf, len) < 0)
				return 1;
			if (key)
				return 0;
		}
	}
}

int cmd_serial(int argc, char **argv)
{
	char err[300];
	log_set_prog("osio serial");
	if (argc == 2 && (strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0)) {
		printf("usage: osio serial NAME\n\n"
		       "Attaches this terminal to the serial console (COM1) of the running VM\n"
		       "NAME; Ctrl-] detaches and leaves the VM running. The recent output comes\n"
		       "first. One terminal at a time: a second attach takes the console over.\n");
		return 0;
	}
	if (argc != 2 || argv[1][0] == '-') {
		fprintf(stderr, "usage: osio serial NAME\n");
		return 2;
	}
	const char *name = argv[1];
	if (vmstore_check_name(name, err, sizeof(err)) < 0) {
		log_error("%s", err);
		return 1;
	}
	int sock = connect_serial(name);
	if (sock < 0)
		return 1;
	bool tty = isatty(STDIN_FILENO);
	if (tty)
		fprintf(stderr, "osio: the serial console of VM '%s'; Ctrl-] detaches\r\n", name);
	if (raw_terminal() < 0) {
		log_error("cannot put the terminal into raw mode: %s", strerror(errno));
		close(sock);
		return 1;
	}
	signal(SIGPIPE, SIG_IGN);
	int r = pump(sock, tty);
	close(sock);
	restore_terminal();
	if (tty)
		fprintf(stderr, "\nosio: %s\n",
			r == 0
			    ? "detached; the VM runs on"
			    : "the serial console closed (the VM stopped, or another osio serial "
			      "took it over)");
	return r < 0 ? 1 : 0;
}
