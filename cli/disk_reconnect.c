/* `osio disk reconnect CHILD PARENT`: points a differencing disk at its
 * parent again after the parent moved (Hyper-V's Edit Disk "Reconnect",
 * qemu-img rebase -u), through block_set_parent. */
#include "cli/disk_common.h"

#include "devices/block/block.h"
#include "hypervisor/log.h"

#include <errno.h>
#include <getopt.h>
#include <libgen.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static void reconnect_usage(FILE *f)
{
	fprintf(f,
		"usage: osio disk reconnect CHILD PARENT [--force]\n"
		"\n"
		"Points the differencing disk CHILD (VHDX, VHD, or a qcow2 image with a backing\n"
		"file) at PARENT, the disk it was made on, after that moved: only the parent's\n"
		"name recorded in CHILD changes. A relative PARENT is recorded relative to\n"
		"CHILD's folder, so the two can move together; an absolute one as it is.\n"
		"PARENT must be the disk CHILD was made on where the format records that (VHDX:\n"
		"its DataWriteGuid, VHD: its unique ID) and must not be larger than CHILD.\n"
		"No VM may be using CHILD.\n"
		"\n"
		"  -f, --force  reconnect even if PARENT does not look like CHILD's parent (CHILD\n"
		"               then reads PARENT's data as its own: only if they hold the same)\n"
		"  -h, --help   this text\n"
		"\n"
		"example:\n"
		"  osio disk reconnect vm/disk.avhdx ../base/disk.vhdx\n");
}

/* The path of `to` (an existing file) as seen from the folder of `from`. */
static int relative_name(const char *from, const char *to, char *out, size_t len)
{
	char dir[PATH_MAX], target[PATH_MAX];
	char *dup = strdup(from);
	if (!dup)
		return -ENOMEM;
	char *d = realpath(dirname(dup), dir);
	free(dup);
	if (!d || !realpath(to, target))
		return -errno;
	/* The common leading folders. */
	size_t common = 0;
	for (size_t i = 0; dir[i] && dir[i] == target[i]; i++)
		if (dir[i + 1] == 0 ? target[i + 1] == '/'
				    : dir[i + 1] == '/' && target[i + 1] == '/')
			common = i + 1;
	if (strcmp(dir, "/") == 0)
		common = 0;
	size_t o = 0;
	out[0] = 0;
	for (const char *p = dir + common; *p; p++) {
		if (*p != '/')
			continue;
		if (o + 3 >= len)
			return -ENAMETOOLONG;
		memcpy(out + o, "../", 4);
		o += 3;
	}
	int n = snprintf(out + o, len - o, "%s", target + common + 1);
	return n < 0 || (size_t)n >= len - o ? -ENAMETOOLONG : 0;
}

int disk_reconnect_main(int argc, char **argv)
{
	static const struct option opts[] = {
	    {"force", no_argument, NULL, 'f'},
	    {"help", no_argument, NULL, 'h'},
	    {0},
	};
	bool force = false;
	int c;
	log_set_prog("osio disk reconnect");
	opterr = 0;
	optind = 0;
	while ((c = getopt_long(argc, argv, "fh", opts, NULL)) != -1) {
		switch (c) {
		case 'f':
			force = true;
			break;
		case 'h':
			reconnect_usage(stdout);
			return 0;
		default:
			return disk_bad_option(c, argv, "reconnect");
		}
	}
	if (argc - optind != 2) {
		reconnect_usage(stderr);
		return 2;
	}
	const char *child = argv[optind], *parent = argv[optind + 1];
	if (!parent[0]) {
		log_error("the parent's file name is empty");
		return 2;
	}
	char name[PATH_MAX];
	if (parent[0] == '/') {
		snprintf(name, sizeof(name), "%s", parent);
	} else {
		int r = relative_name(child, parent, name, sizeof(name));
		if (r == -ENOENT) {
			log_error("%s: no such file; give the parent's path as seen from here",
				  parent);
			return 1;
		}
		if (r < 0) {
			log_error("%s or %s: %s", child, parent, strerror(-r));
			return 1;
		}
	}
	char err[2 * PATH_MAX + 256] = "";
	int r = block_set_parent(child, name, force, err, sizeof(err));
	if (r < 0) {
		disk_log_failure(child, err, r);
		return 1;
	}
	printf("%s: its parent is now %s\n", child, name);
	return 0;
}
