/* Pieces several osio commands on store VMs share: the NAME argument,
 * setting a vmconfig key with its message, printing JSON, option errors. */
#ifndef OSIO_CLI_STORE_COMMON_H
#define OSIO_CLI_STORE_COMMON_H

#include <jansson.h>

struct vmconfig;

/* NAME names a VM of the store: 0, or exit status 1 after one message (a
 * bad name, or no such VM). */
int store_vm_arg(const char *name);

/* vmconfig_set, logging vmconfig's own message on failure: 0 or -EINVAL. */
int store_config_set(struct vmconfig *cfg, const char *section, const char *name, const char *key,
		     const char *value);

/* v (NULL: out of memory) indented on stdout; keeps v. 0, or exit status 1
 * after "out of memory". */
int store_print_json(const json_t *v);

/* getopt_long's ':' (an option without its value) or '?' for `osio CMD`:
 * logs which, with a pointer to --help, and returns exit status 2. */
int store_bad_option(int c, char **argv, const char *cmd);

#endif
