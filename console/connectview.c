/* Connect: which way to see a VM's screen (a window, a VNC viewer, the
 * terminal, the serial console) and the ways that run another program
 * (connectview.h); the in-terminal view is connect_term.c. */
#include "console/connectview.h"
#include "console/console.h"
#include "console/jobs.h"
#include "console/widgets.h"
#include "hypervisor/ctlclient.h"

#include <errno.h>
#include <fcntl.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#define QUERY_MS 3000

static bool env_set(const char *name)
{
	const char *v = getenv(name);
	return v && v[0];
}

/* Starts `osio connect NAME` on its own: a session of its own, no
 * terminal, not waited for (a grandchild, so that no zombie stays). */
static void connect_window(struct console *con, const char *name)
{
	const char *osio = job_osio_path();
	pid_t pid = fork();
	if (pid < 0) {
		dlg_message(con, "Connect", "Cannot start osio connect: %s", strerror(errno));
		return;
	}
	if (pid == 0) {
		if (fork() != 0)
			_exit(0);
		setsid();
		int null = open("/dev/null", O_RDWR | O_CLOEXEC);
		if (null >= 0) {
			dup2(null, STDIN_FILENO);
			dup2(null, STDOUT_FILENO);
			dup2(null, STDERR_FILENO);
		}
		execl(osio, "osio", "connect", name, (char *)NULL);
		_exit(127);
	}
	while (waitpid(pid, NULL, 0) < 0 && errno == EINTR)
		;
	con_say(con, "Opening %s's screen in a window (osio connect).", name);
}

/* The VNC address as the worker gives it, checked to be a host and port
 * and nothing a shell would act on. */
static int vnc_address(const char *name, char *out, size_t outlen, char *err, size_t errlen)
{
	json_t *ret = NULL;
	int r = ctl_query(name, "query-status", NULL, &ret, QUERY_MS, err, errlen);
	if (r < 0)
		return r;
	const char *a = json_string_value(json_object_get(ret, "vnc"));
	r = 0;
	if (!a || !a[0]) {
		snprintf(err, errlen,
			 "%s has no VNC server. Give it one in Settings > Display (vnc = "
			 "auto) and "
			 "start it again.",
			 name);
		r = -ENOENT;
	} else if (strspn(a, "0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRS"
			     "TUVWXYZ.:[]-") != strlen(a) ||
		   strlen(a) >= outlen) {
		snprintf(err, errlen, "%s gave a VNC address that is not one", name);
		r = -EPROTO;
	} else {
		snprintf(out, outlen, "%s", a);
	}
	json_decref(ret);
	return r;
}

/* The viewer command with the address for each %s, or after it. */
static int viewer_command(const char *viewer, const char *addr, char *out, size_t outlen)
{
	size_t n = 0;
	bool placed = false;
	for (const char *p = viewer; *p; p++) {
		const char *piece = NULL;
		char one[2] = {*p, '\0'};
		if (p[0] == '%' && p[1] == 's') {
			piece = addr;
			placed = true;
			p++;
		} else {
			piece = one;
		}
		size_t len = strlen(piece);
		if (n + len >= outlen)
			return -ENAMETOOLONG;
		memcpy(out + n, piece, len);
		n += len;
	}
	out[n] = '\0';
	if (!placed) {
		int r = snprintf(out + n, outlen - n, " %s", addr);
		if (r < 0 || (size_t)r >= outlen - n)
			return -ENAMETOOLONG;
	}
	return 0;
}

static void connect_viewer(struct console *con, const char *name)
{
	const char *viewer = getenv("OSIO_VNC_VIEWER");
	char addr[128], err[512], cmd[4096];
	if (!viewer || !viewer[0])
		return;
	if (vnc_address(name, addr, sizeof(addr), err, sizeof(err)) < 0) {
		dlg_message(con, "VNC viewer", "%s", err);
		return;
	}
	if (viewer_command(viewer, addr, cmd, sizeof(cmd)) < 0) {
		dlg_message(con, "VNC viewer", "OSIO_VNC_VIEWER is too long: %.60s...", viewer);
		return;
	}
	const char *argv[] = {"/bin/sh", "-c", cmd, NULL};
	int st = con_run_foreground(con, argv);
	if (st < 0)
		dlg_message(con, "VNC viewer", "Cannot run %s: %s", cmd, strerror(-st));
	else if (st == 127)
		dlg_message(con, "VNC viewer",
			    "The viewer was not found: %s\n\nSet OSIO_VNC_VIEWER to a VNC viewer "
			    "command (%%s stands for the address).",
			    cmd);
	else if (st != 0)
		dlg_message(con, "VNC viewer", "%s ended with status %d.", cmd, st);
}

void connect_serial(struct console *con, const char *name)
{
	const char *argv[] = {job_osio_path(), "serial", name, NULL};
	int st = con_run_foreground(con, argv);
	if (st < 0)
		dlg_message(con, "Serial console", "Cannot run osio serial: %s", strerror(-st));
	else if (st != 0)
		dlg_message(con, "Serial console",
			    "osio serial %s ended with status %d: is the VM running, with a serial "
			    "port (Settings > COM ports)?",
			    name, st);
	else
		con_say(con, "Back from the serial console of %s.", name);
}

enum way { WAY_TERMINAL, WAY_SERIAL, WAY_WINDOW, WAY_VIEWER };

void connect_vm(struct console *con, const char *name)
{
	if (!name || !name[0])
		return;
	static const char *const labels[] = {
	    [WAY_TERMINAL] = "Screen in this terminal",
	    [WAY_SERIAL] = "Serial console",
	    [WAY_WINDOW] = "Window (osio connect)",
	    [WAY_VIEWER] = "VNC viewer",
	};
	bool display = env_set("DISPLAY") || env_set("WAYLAND_DISPLAY");
	bool viewer = env_set("OSIO_VNC_VIEWER");
	/* The way that suits best first (Enter takes it), then the others. */
	enum way ways[4];
	unsigned n = 0;
	if (display)
		ways[n++] = WAY_WINDOW;
	else if (viewer)
		ways[n++] = WAY_VIEWER;
	ways[n++] = WAY_TERMINAL;
	ways[n++] = WAY_SERIAL;
	if (display && viewer)
		ways[n++] = WAY_VIEWER;
	const char *items[4];
	for (unsigned i = 0; i < n; i++)
		items[i] = labels[ways[i]];
	char title[96];
	snprintf(title, sizeof(title), "Connect to %s", name);
	int c = dlg_choose(con, title, "Show the VM's screen:", items, n, 0);
	if (c < 0 || (unsigned)c >= n)
		return;
	switch (ways[c]) {
	case WAY_WINDOW:
		connect_window(con, name);
		break;
	case WAY_VIEWER:
		connect_viewer(con, name);
		break;
	case WAY_TERMINAL:
		connect_terminal(con, name);
		break;
	case WAY_SERIAL:
		connect_serial(con, name);
		break;
	}
}
