/* Pieces several osio commands on store VMs share: the NAME argument,
 * setting a vmconfig key with its message, printing JSON, option errors. */
#include "cli/store_common.h"

#include "hypervisor/log.h"
#include "hypervisor/vmstore.h"
#include "vmconfig/vmconfig.h"

#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>

int store_vm_arg(const char *name)
{
	char err[512];

	if (vmstore_check_name(name, err, sizeof(err)) < 0) {
		log_error("%s", err);
		return 1;
	}
	if (!vmstore_exists(name)) {
		log_error("there is no VM called '%s' (osio list shows them)", name);
		return 1;
	}
	return 0;
}

int store_config_set(struct vmconfig *cfg, const char *section, const char *name, const char *key,
		     const char *value)
{
	struct vmconfig_error e;
	char line[1024];

	if (vmconfig_set(cfg, section, name, key, value, &e) == 0)
		return 0;
	vmconfig_error_format(&e, line, sizeof(line));
	fprintf(stderr, "%s\n", line);
	return -EINVAL;
}

int store_print_json(const json_t *v)
{
	char *text = v ? json_dumps(v, JSON_INDENT(2) | JSON_PRESERVE_ORDER) : NULL;

	if (!text) {
		log_error("out of memory");
		return 1;
	}
	printf("%s\n", text);
	free(text);
	return 0;
}

int store_bad_option(int c, char **argv, const char *cmd)
{
	if (c == ':')
		log_error("%s needs a value (see osio %s --help)", argv[optind - 1], cmd);
	else
		log_error("unknown option '%s' (see osio %s --help)", argv[optind - 1], cmd);
	return 2;
}
