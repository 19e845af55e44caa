/* `osio send-key NAME|SOCKET KEYS...`: key combinations typed into a running
 * VM through its control socket (Ctrl+Alt+Del, console switches, text). */
#include "cli/commands.h"

#include "hypervisor/ctlclient.h"
#include "hypervisor/log.h"

#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <string.h>

static void send_key_usage(FILE *f)
{
	fprintf(f,
		"usage: osio send-key NAME|SOCKET KEYS...\n"
		"\n"
		"Presses each combination KEYS in a running VM, one after the other: the keys of\n"
		"a combination are pressed in order and released in reverse order. NAME is the\n"
		"VM's name (osio run --name); a path with a '/' is a control socket.\n"
		"\n"
		"Keys are joined with '-' or '+' and named as in Linux's input-event-codes.h,\n"
		"in lower case without KEY_: a..z, 0..9, f1..f24, enter, esc, tab, space,\n"
		"backspace, delete, insert, home, end, pageup, pagedown, up, down, left, right,\n"
		"leftctrl, rightalt, leftshift, leftmeta, sysrq, kp0..kp9, minus, ...; with the\n"
		"aliases ctrl, alt, shift, meta/win/super (the left ones), altgr, del,\n"
		"ret/return, escape, pgup, pgdn, ins, prtsc/print, bksp, spc; or a key code.\n"
		"At most 8 keys in a combination.\n"
		"\n"
		"  -h, --help   this text\n"
		"\n"
		"Examples:\n"
		"  osio send-key demo ctrl-alt-delete\n"
		"  osio send-key demo ctrl-alt-f2\n"
		"  osio send-key demo h i enter\n"
		"\n"
		"Exit status: 0 when the VM took every combination, 1 when it cannot be\n"
		"reached or refuses one (the combinations before it were sent), 2 for a\n"
		"usage error.\n");
}

int cmd_send_key(int argc, char **argv)
{
	static const struct option opts[] = {
	    {"help", no_argument, NULL, 'h'},
	    {0},
	};
	int c;
	log_set_prog("osio send-key");
	opterr = 0;
	while ((c = getopt_long(argc, argv, "+h", opts, NULL)) != -1) {
		switch (c) {
		case 'h':
			send_key_usage(stdout);
			return 0;
		default:
			log_error("unknown option '%s' (see osio send-key --help)",
				  argv[optind - 1]);
			return 2;
		}
	}
	if (argc - optind < 2) {
		send_key_usage(stderr);
		return 2;
	}
	const char *target = argv[optind];
	if (!target[0]) {
		log_error("the VM's name is empty (see osio send-key --help)");
		return 2;
	}
	for (int i = optind + 1; i < argc; i++) {
		if (!argv[i][0]) {
			log_error("an empty key combination (see osio send-key --help)");
			return 2;
		}
	}

	char err[600];
	struct ctl_client *cl;
	if (ctl_open(target, NULL, &cl, err, sizeof(err)) < 0) {
		log_error("%s", err);
		return 1;
	}
	int rc = 0;
	for (int i = optind + 1; i < argc && rc == 0; i++) {
		int r = ctl_call(cl, "send-key", json_pack("{s:s}", "keys", argv[i]), NULL, NULL,
				 CTL_TIMEOUT_MS);
		if (r == -EREMOTEIO) {
			log_error("%s", ctl_error(cl));
			rc = 1;
		} else if (r < 0) {
			log_error("%s", ctl_error(cl));
			rc = 1;
		}
	}
	ctl_close(cl);
	return rc;
}
