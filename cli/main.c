/* The osio command: subcommand dispatch. */
#include "cli/commands.h"

#include "console/console.h"
#include "hypervisor/log.h"
#include "hypervisor/store.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static const struct command commands[] = {
	{ "create", "make a new VM in the store (a new disk, a DVD drive, an adapter)",
	  cmd_create },
	{ "import", "take a VM into the store from its vmconfig file", cmd_import },
	{ "export", "copy a VM (its vmconfig and disks) into a folder", cmd_export },
	{ "delete", "delete a VM from the store (asks before deleting its disks)", cmd_delete },
	{ "rename", "rename a VM of the store that is not running", cmd_rename },
	{ "list", "every VM of the store with its state, CPU, memory and uptime", cmd_list },
	{ "run", "run a VM in the foreground (serial console on this terminal)", cmd_run },
	{ "connect", "show a running VM's screen in a window, with its keyboard and mouse",
	  cmd_connect },
	{ "send-key", "press key combinations in a running VM (ctrl-alt-delete, ...)",
	  cmd_send_key },
	{ "start", "start a VM of the store in the background", cmd_start },
	{ "serial", "attach to a running VM's serial console (Ctrl-] detaches)", cmd_serial },
	{ "stop", "power a VM off at once", cmd_vmctl },
	{ "shutdown", "press a VM's power button and wait until it is off", cmd_vmctl },
	{ "reset", "reset a VM", cmd_vmctl },
	{ "pause", "pause a VM's processors", cmd_vmctl },
	{ "resume", "resume a paused VM", cmd_vmctl },
	{ "save", "save a VM's state and stop it; osio start resumes it", cmd_vmctl },
	{ "status", "show a VM's state and what it uses", cmd_vmctl },
	{ "dvd", "insert a disc into a running VM's DVD drive or eject it", cmd_vmctl },
	{ "screenshot", "write a running VM's screen into a PNG file", cmd_vmctl },
	{ "checkpoint", "create, list, apply and delete a VM's checkpoints", cmd_checkpoint },
	{ "disk", "create, inspect, convert, grow and check virtual hard disks", cmd_disk },
	{ "switch", "create, list, show and delete virtual switches", cmd_switch },
	{ "autostart", "start the VMs marked autostart, in order (osio.service at boot)",
	  cmd_autostart },
	{ "autostop", "apply each running VM's stop_action (osio.service at shutdown)",
	  cmd_autostop },
	{ "console", "the osio console, a terminal VM manager (also: osio with no arguments)",
	  console_main },
	{ "version", "print osio's version", cmd_version },
};

static void usage(FILE *f)
{
	fprintf(f, "usage: osio COMMAND [ARGS...]\n"
		   "       osio --system COMMAND [ARGS...]\n\n"
		   "  --system   the system's VMs (/var/lib/osio), for members of the group osio\n"
		   "             (also OSIO_SYSTEM=1; root uses them by default)\n\ncommands:\n");
	for (size_t i = 0; i < sizeof(commands) / sizeof(commands[0]); i++)
		fprintf(f, "  %-10s %s\n", commands[i].name, commands[i].help);
	fprintf(f, "\n'osio COMMAND --help' tells more about each.\n");
}

int cmd_version(int argc, char **argv)
{
	printf("osio %s\n", OSIO_VERSION);
	return 0;
}

int main(int argc, char **argv)
{
	char err[512];

	log_init();
	/* Global options, before the command. The environment carries system
	 * mode to the commands and workers osio runs. */
	while (argc >= 2 && strcmp(argv[1], "--system") == 0) {
		setenv("OSIO_SYSTEM", "1", 1);
		argv[1] = argv[0];
		argc--;
		argv++;
	}
	if (store_system_enter(err, sizeof(err)) < 0) {
		log_error("%s", err);
		return 1;
	}
	/* osio alone on a terminal opens the console, like Hyper-V Manager. */
	if (argc < 2 && isatty(STDIN_FILENO) && isatty(STDOUT_FILENO))
		return console_main(1, argv);
	if (argc < 2 || strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0 ||
	    strcmp(argv[1], "help") == 0) {
		usage(argc < 2 ? stderr : stdout);
		return argc < 2 ? 2 : 0;
	}
	for (size_t i = 0; i < sizeof(commands) / sizeof(commands[0]); i++)
		if (strcmp(argv[1], commands[i].name) == 0)
			return commands[i].fn(argc - 1, argv + 1);
	log_error("unknown command '%s' (see 'osio help')", argv[1]);
	return 2;
}
