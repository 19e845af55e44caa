/* `osio rename OLD NEW`: gives a VM that is off another name (its folder,
 * vmconfig and the disks named after it follow; vmstore_rename). */
#include "cli/commands.h"

#include "hypervisor/log.h"
#include "hypervisor/vmstore.h"

#include <getopt.h>
#include <limits.h>
#include <stdio.h>

static void rename_usage(FILE *f)
{
	fprintf(f, "usage: osio rename OLD NEW\n"
		   "\n"
		   "Gives a VM that is off (or saved, or crashed) another name. Its folder in the\n"
		   "store, its vmconfig and its disks named after it (OLD.vhdx, OLD-2.vhdx) take\n"
		   "the new name; checkpoints and a saved state stay with it.\n"
		   "\n"
		   "  -h, --help   this text\n");
}

int cmd_rename(int argc, char **argv)
{
	static const struct option opts[] = {
	    {"help", no_argument, NULL, 'h'},
	    {0},
	};
	char err[PATH_MAX + 512], dir[PATH_MAX];
	int c;

	log_set_prog("osio rename");
	opterr = 0;
	optind = 0;
	while ((c = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
		switch (c) {
		case 'h':
			rename_usage(stdout);
			return 0;
		default:
			log_error("unknown option '%s' (see osio rename --help)", argv[optind - 1]);
			return 2;
		}
	}
	if (argc - optind != 2) {
		log_error("%s; usage: osio rename OLD NEW",
			  argc - optind < 2 ? "which VM, and its new name?" : "too many names");
		return 2;
	}
	const char *old = argv[optind], *new_name = argv[optind + 1];
	if (vmstore_rename(old, new_name, err, sizeof(err)) < 0) {
		log_error("%s", err);
		return 1;
	}
	if (vmstore_path(new_name, NULL, dir, sizeof(dir)) < 0)
		dir[0] = '\0';
	printf("VM '%s' is now called '%s'%s%s%s.\n", old, new_name, dir[0] ? " (" : "", dir,
	       dir[0] ? ")" : "");
	return 0;
}
