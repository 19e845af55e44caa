/* Subcommands of the osio command. Each returns the process exit status:
 * 0 success, 1 failure (one line on stderr says why), 2 usage error. */
#ifndef OSIO_CLI_COMMANDS_H
#define OSIO_CLI_COMMANDS_H

struct command {
	const char *name;
	const char *help;
	int (*fn)(int argc, char **argv);
};

/* osio autostart / autostop (cmd_autostart.c): the VMs marked autostart at
 * the host's boot, each running VM's stop_action at its shutdown. */
int cmd_autostart(int argc, char **argv);
int cmd_autostop(int argc, char **argv);
int cmd_checkpoint(int argc, char **argv);
int cmd_connect(int argc, char **argv);
int cmd_create(int argc, char **argv);
int cmd_delete(int argc, char **argv);
int cmd_export(int argc, char **argv);
int cmd_import(int argc, char **argv);
int cmd_list(int argc, char **argv);
int cmd_disk(int argc, char **argv);
int cmd_rename(int argc, char **argv);
int cmd_run(int argc, char **argv);
int cmd_send_key(int argc, char **argv);
int cmd_serial(int argc, char **argv);
int cmd_start(int argc, char **argv);
/* stop, shutdown, reset, pause, resume, save, status and dvd (by argv[0]). */
int cmd_vmctl(int argc, char **argv);
int cmd_switch(int argc, char **argv);
int cmd_version(int argc, char **argv);

#endif
