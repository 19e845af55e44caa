/* Subcommands of the osio command. Each returns the process exit status:
 * 0 success, 1 failure (one line on stderr says why), 2 usage error. */
#ifndef OSIO_CLI_COMMANDS_H
#define OSIO_CLI_COMMANDS_H

struct command {
	const char *name;
	const char *help;
	int (*fn)(int argc, char **argv);
};

int cmd_connect(int argc, char **argv);
int cmd_disk(int argc, char **argv);
int cmd_run(int argc, char **argv);
int cmd_send_key(int argc, char **argv);
int cmd_switch(int argc, char **argv);
int cmd_version(int argc, char **argv);

#endif
