/* `osio connect NAME|SOCKET`: the VM's screen in a window on this desktop,
 * with its keyboard and mouse (Virtual Machine Connection). */
#include "cli/commands.h"

#include "connect/connect.h"
#include "hypervisor/log.h"

#include <getopt.h>
#include <stdio.h>

static void connect_usage(FILE *f)
{
	fprintf(f, "usage: osio connect [OPTIONS] NAME|SOCKET\n"
		   "\n"
		   "Shows a running VM's screen in a window, through the VM's control socket\n"
		   "(shared memory: no network hop). NAME is the VM's name (osio run --name); a\n"
		   "path with a '/' is a control socket.\n"
		   "\n"
		   "The window scales the picture to its size, keeping the aspect ratio. While\n"
		   "the window has the focus, keys go to the VM. Click in the window, or press\n"
		   "Ctrl+Alt+G, to give it the mouse and keyboard (the grab: shortcuts of your\n"
		   "desktop go to the VM too); Ctrl+Alt+G gives them back. The title shows the\n"
		   "VM's name and state, and how to release a grab.\n"
		   "\n"
		   "  -h, --help   this text\n"
		   "\n"
		   "Without a graphical desktop (no DISPLAY or WAYLAND_DISPLAY) osio connect\n"
		   "says so and names the VM's VNC address instead.\n"
		   "\n"
		   "Exit status: 0 when the window is closed or the VM turns off, 1 when the\n"
		   "VM cannot be reached or the connection breaks, 2 for a usage error.\n");
}

int cmd_connect(int argc, char **argv)
{
	static const struct option opts[] = {
	    {"help", no_argument, NULL, 'h'},
	    {0},
	};
	int c;
	log_set_prog("osio connect");
	opterr = 0;
	while ((c = getopt_long(argc, argv, "+h", opts, NULL)) != -1) {
		switch (c) {
		case 'h':
			connect_usage(stdout);
			return 0;
		default:
			log_error("unknown option '%s' (see osio connect --help)",
				  argv[optind - 1]);
			return 2;
		}
	}
	if (argc - optind != 1) {
		connect_usage(stderr);
		return 2;
	}
	if (!argv[optind][0]) {
		log_error("the VM's name is empty (see osio connect --help)");
		return 2;
	}
	return connect_run(argv[optind]);
}
