/* ctlcall: one request on a VM's control socket, through osio connect's
 * client, for the tests' scripts (a screenshot at a chosen moment, the
 * VM's status). Prints the reply's "return" value as one JSON line. */
#include "hypervisor/ctlclient.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

int main(int argc, char **argv)
{
	if (argc < 3 || argc > 4 || !strcmp(argv[1], "--help")) {
		fprintf(argc < 3 ? stderr : stdout,
			"usage: ctlcall NAME|SOCKET COMMAND [ARGUMENTS-JSON]\n"
			"Exit status: 0 answered, 1 an error (one line says it), 2 usage.\n");
		return argc < 3 ? 2 : 0;
	}
	json_t *args = NULL;
	if (argc == 4) {
		json_error_t e;
		args = json_loads(argv[3], 0, &e);
		if (!json_is_object(args)) {
			fprintf(stderr, "ctlcall: the arguments are not a JSON object: %s\n",
				e.text);
			json_decref(args);
			return 2;
		}
	}
	char err[600];
	struct ctl_client *c;
	if (ctl_open(argv[1], NULL, &c, err, sizeof(err)) < 0) {
		fprintf(stderr, "ctlcall: %s\n", err);
		json_decref(args);
		return 1;
	}
	json_t *ret;
	int fd, rc = 0;
	if (ctl_call(c, argv[2], args, &ret, &fd, CTL_TIMEOUT_MS) < 0) {
		fprintf(stderr, "ctlcall: %s: %s\n", argv[2], ctl_error(c));
		rc = 1;
	} else {
		char *text = json_dumps(ret, JSON_COMPACT | JSON_ENCODE_ANY);
		printf("%s\n", text ? text : "null");
		free(text);
		json_decref(ret);
		if (fd >= 0)
			close(fd);
	}
	ctl_close(c);
	return rc;
}
