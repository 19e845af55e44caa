/* `osio disk`: virtual hard disks from the command line. This file
 * dispatches the subcommands and holds create, resize and check; info,
 * convert and reconnect have files of their own. */
#include "cli/commands.h"
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
#include <sys/stat.h>

static void disk_usage(FILE *f)
{
	fprintf(
	    f,
	    "usage: osio disk COMMAND [ARGS...]\n"
	    "\n"
	    "Creates, inspects, converts, grows and checks virtual hard disks: VHDX (Hyper-V's,\n"
	    "the default), VHD, qcow2 and raw images.\n"
	    "\n"
	    "commands:\n"
	    "  create FILE --size SIZE    a new image (--format, --type dynamic|fixed, --parent)\n"
	    "  info FILE [--json]         format, sizes and the parent chain of an image\n"
	    "  convert SRC DST            a copy of SRC (read through its parents) in a new image\n"
	    "  resize FILE [+]SIZE        grow an image\n"
	    "  check FILE [--repair]      check (and fix) an image's metadata\n"
	    "  reconnect CHILD PARENT     point a differencing disk at its moved parent\n"
	    "\n"
	    "Sizes are bytes or a number with K, M, G or T (powers of 1024): 512, 100M, 20G,\n"
	    "1.5T. The format of a new image is --format, else its extension says it\n"
	    "(.vhdx, .vhd, .qcow2, .img or .raw), else VHDX.\n"
	    "'osio disk COMMAND --help' tells more about each.\n");
}

/* --- create --------------------------------------------------------------- */

static void create_usage(FILE *f)
{
	fprintf(
	    f,
	    "usage: osio disk create FILE --size SIZE [OPTIONS]\n"
	    "       osio disk create FILE --parent PARENT [OPTIONS]\n"
	    "\n"
	    "Creates a new virtual hard disk. It never replaces an existing file.\n"
	    "\n"
	    "  -s, --size SIZE         the disk's size, e.g. 20G, 1.5T, 100M (with --parent:\n"
	    "                          the parent's size if not given)\n"
	    "  -f, --format FORMAT     vhdx, vhd, qcow2 or raw (default: from FILE's extension,\n"
	    "                          .vhdx .vhd .qcow2 .img .raw, else vhdx)\n"
	    "  -t, --type TYPE         dynamic (default: space is allocated as it is written)\n"
	    "                          or fixed (all space allocated now)\n"
	    "  -p, --parent PARENT     a differencing disk (VHDX) or an image with a backing\n"
	    "                          file (qcow2) on top of PARENT, which it reads what it\n"
	    "                          has not written from; a relative PARENT is relative\n"
	    "                          to FILE's folder\n"
	    "      --parent-format F   PARENT's format (default: recognized)\n"
	    "  -b, --block-size SIZE   allocation unit: VHDX/VHD block, qcow2 cluster\n"
	    "                          (default: the format's own)\n"
	    "      --sector-size N     logical sector size the guest sees: 512 (default) or\n"
	    "                          4096 (VHDX only)\n"
	    "      --progress          show progress also when stderr is not a terminal\n"
	    "  -h, --help              this text\n"
	    "\n"
	    "Examples:\n"
	    "  osio disk create disk.vhdx --size 20G\n"
	    "  osio disk create disk.qcow2 --size 1.5T\n"
	    "  osio disk create old.vhd --size 8G --type fixed\n"
	    "  osio disk create child.vhdx --parent base.vhdx\n");
}

/* Where the block layer will look for parent (relative to FILE's folder). */
static void parent_location(const char *file, const char *parent, char *out, size_t len)
{
	if (parent[0] == '/') {
		snprintf(out, len, "%s", parent);
		return;
	}
	if (!strchr(file, '/')) {
		snprintf(out, len, "%s", parent);
		return;
	}
	char copy[PATH_MAX];
	snprintf(copy, sizeof(copy), "%s", file);
	snprintf(out, len, "%s/%s", dirname(copy), parent);
}

int disk_create_main(int argc, char **argv)
{
	enum { OPT_PARENT_FORMAT = 256, OPT_SECTOR_SIZE, OPT_PROGRESS };
	static const struct option opts[] = {
	    {"size", required_argument, NULL, 's'},
	    {"format", required_argument, NULL, 'f'},
	    {"type", required_argument, NULL, 't'},
	    {"parent", required_argument, NULL, 'p'},
	    {"parent-format", required_argument, NULL, OPT_PARENT_FORMAT},
	    {"block-size", required_argument, NULL, 'b'},
	    {"sector-size", required_argument, NULL, OPT_SECTOR_SIZE},
	    {"progress", no_argument, NULL, OPT_PROGRESS},
	    {"help", no_argument, NULL, 'h'},
	    {0},
	};
	const char *size_arg = NULL, *format = NULL, *type = "dynamic", *parent = NULL;
	const char *parent_format = NULL, *block_arg = NULL, *sector_arg = NULL;
	bool progress = false;
	int c;

	log_set_prog("osio disk create");
	opterr = 0;
	optind = 0;
	while ((c = getopt_long(argc, argv, ":s:f:t:p:b:h", opts, NULL)) != -1) {
		switch (c) {
		case 's':
			size_arg = optarg;
			break;
		case 'f':
			format = optarg;
			break;
		case 't':
			type = optarg;
			break;
		case 'p':
			parent = optarg;
			break;
		case OPT_PARENT_FORMAT:
			parent_format = optarg;
			break;
		case 'b':
			block_arg = optarg;
			break;
		case OPT_SECTOR_SIZE:
			sector_arg = optarg;
			break;
		case OPT_PROGRESS:
			progress = true;
			break;
		case 'h':
			create_usage(stdout);
			return 0;
		default:
			return disk_bad_option(c, argv, "create");
		}
	}
	if (argc - optind != 1) {
		create_usage(stderr);
		return 2;
	}
	const char *path = argv[optind];
	if (!path[0]) {
		log_error("the image's file name is empty");
		return 2;
	}

	struct block_create_opts o = {0};
	if (disk_resolve_format(path, &format))
		return 2;
	if (parent_format && !disk_known_format(parent_format)) {
		log_error("%s: unknown parent format '%s'; use vhdx, vhd, qcow2 or raw", parent,
			  parent_format);
		return 2;
	}
	if (disk_parse_type(type, &o))
		return 2;
	if (parent && o.fixed) {
		log_error("%s: a disk with a parent is never fixed; leave out --type fixed", path);
		return 2;
	}
	if (parent && !parent[0]) {
		log_error("--parent: the parent's file name is empty");
		return 2;
	}
	if (size_arg) {
		if (disk_parse_size(size_arg, "--size", &o.size) < 0)
			return 2;
		if (o.size == 0) {
			log_error("--size: a disk needs at least 512 bytes");
			return 2;
		}
	} else if (!parent) {
		log_error("%s: how large? Give --size, e.g. --size 20G", path);
		return 2;
	}
	if (disk_parse_block_size(block_arg, &o))
		return 2;
	if (sector_arg) {
		if (strcmp(sector_arg, "512") == 0) {
			o.logical_sector = 512;
		} else if (strcmp(sector_arg, "4096") == 0 || strcmp(sector_arg, "4K") == 0) {
			o.logical_sector = 4096;
		} else {
			log_error("--sector-size: '%s' is not 512 or 4096", sector_arg);
			return 2;
		}
		if (o.logical_sector == 4096 && strcmp(format, "vhdx") != 0) {
			log_error(
			    "%s: only VHDX disks have 4096-byte sectors; use --format vhdx or "
			    "leave out --sector-size",
			    path);
			return 2;
		}
	}

	struct stat st;
	if (lstat(path, &st) == 0) {
		log_error("%s: exists already; choose another name or delete it first", path);
		return 1;
	}
	if (parent) {
		if (strcmp(format, "raw") == 0) {
			log_error("%s: a raw image has no parent; use --format vhdx or qcow2",
				  path);
			return 2;
		}
		char where[PATH_MAX + 16];
		parent_location(path, parent, where, sizeof(where));
		if (stat(where, &st) < 0) {
			log_error("%s: parent %s: %s (a relative parent is relative to the new "
				  "image's folder)",
				  path, where, strerror(errno));
			return 1;
		}
	}
	o.parent = parent;
	o.parent_format = parent_format;

	struct disk_progress prog;
	char what[PATH_MAX + 32];
	snprintf(what, sizeof(what), "%s: allocating", path);
	disk_progress_init(&prog, what, progress);
	o.progress = disk_progress_cb;
	o.opaque = &prog;

	char err[PATH_MAX + 256] = "";
	disk_signals_catch();
	int r = block_create(path, format, &o, err, sizeof(err));
	disk_progress_end(&prog);
	disk_signals_restore();
	if (r == -EINTR && disk_interrupted()) {
		log_error("%s: interrupted; nothing was created", path);
		return DISK_EXIT_INTERRUPTED;
	}
	if (r == -EEXIST) {
		log_error("%s: exists already; choose another name or delete it first", path);
		return 1;
	}
	if (r < 0) {
		disk_log_failure(path, err, r);
		return 1;
	}
	return 0;
}

/* --- resize --------------------------------------------------------------- */

static void resize_usage(FILE *f)
{
	fprintf(f,
		"usage: osio disk resize FILE [+]SIZE\n"
		"\n"
		"Grows the disk in FILE to SIZE, or by SIZE with a leading '+' (e.g. 40G or\n"
		"+10G). Disks do not shrink. The guest sees the new space after it looks at the\n"
		"disk again (a reboot); its partitions and file systems are not grown.\n"
		"\n"
		"  -h, --help   this text\n");
}

int disk_resize_main(int argc, char **argv)
{
	static const struct option opts[] = {
	    {"help", no_argument, NULL, 'h'},
	    {0},
	};
	int c;
	log_set_prog("osio disk resize");
	opterr = 0;
	optind = 0;
	while ((c = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
		switch (c) {
		case 'h':
			resize_usage(stdout);
			return 0;
		default:
			return disk_bad_option(c, argv, "resize");
		}
	}
	if (argc - optind != 2) {
		resize_usage(stderr);
		return 2;
	}
	const char *path = argv[optind], *size_arg = argv[optind + 1];
	bool relative = size_arg[0] == '+';
	uint64_t size;
	if (disk_parse_size(size_arg + relative, "SIZE", &size) < 0)
		return 2;

	char err[PATH_MAX + 256] = "";
	struct block_dev *bd;
	int r = block_open(path, NULL, 0, &bd, err, sizeof(err));
	if (r < 0) {
		disk_log_failure(path, err, r);
		return 1;
	}
	uint64_t old = block_size(bd);
	if (relative) {
		if (size > UINT64_MAX - old) {
			log_error("%s: +%s makes the disk too large", path, size_arg + 1);
			block_close(bd);
			return 2;
		}
		size += old;
	}
	char a[32], b[32];
	disk_format_size(old, a, sizeof(a));
	disk_format_size(size, b, sizeof(b));
	if (size < old) {
		log_error("%s: disks do not shrink (it has %s, asked for %s); give a size of at "
			  "least %s",
			  path, a, b, a);
		block_close(bd);
		return 1;
	}
	if (size > old) {
		r = block_resize(bd, size, err, sizeof(err));
		if (r < 0) {
			disk_log_failure(path, err, r);
			block_close(bd);
			return 1;
		}
	}
	block_close(bd);
	printf("%s: %s -> %s\n", path, a, b);
	return 0;
}

/* --- check ---------------------------------------------------------------- */

static void check_usage(FILE *f)
{
	fprintf(f,
		"usage: osio disk check FILE [--repair]\n"
		"\n"
		"Checks the image's metadata (tables, reference counts, the log) and lists each\n"
		"problem found. With --repair, fixes what can be fixed (the image is opened\n"
		"for writing: no VM may be using it) and checks again.\n"
		"\n"
		"  -r, --repair  fix the problems found\n"
		"  -h, --help    this text\n"
		"\n"
		"Exit status (as qemu-img check's): 0 no problems, 2 corruptions (data may be\n"
		"lost), 3 only leaks (space allocated that nothing uses), 1 the check could not\n"
		"run.\n");
}

/* At most this many problems are listed; the rest are counted. */
#define CHECK_LINES 50

static void check_line(void *opaque, const char *line)
{
	unsigned *lines = opaque;
	if (++*lines <= CHECK_LINES)
		printf("  %s\n", line);
}

static int run_check(struct block_dev *bd, bool repair, struct block_check *res, unsigned *lines)
{
	memset(res, 0, sizeof(*res));
	*lines = 0;
	res->report = check_line;
	res->opaque = lines;
	int r = block_check(bd, repair, res);
	if (*lines > CHECK_LINES)
		printf("  (%u more problems not listed)\n", *lines - CHECK_LINES);
	return r;
}

int disk_check_main(int argc, char **argv)
{
	static const struct option opts[] = {
	    {"repair", no_argument, NULL, 'r'},
	    {"help", no_argument, NULL, 'h'},
	    {0},
	};
	bool repair = false;
	int c;
	log_set_prog("osio disk check");
	opterr = 0;
	optind = 0;
	while ((c = getopt_long(argc, argv, "rh", opts, NULL)) != -1) {
		switch (c) {
		case 'r':
			repair = true;
			break;
		case 'h':
			check_usage(stdout);
			return 0;
		default:
			return disk_bad_option(c, argv, "check");
		}
	}
	if (argc - optind != 1) {
		check_usage(stderr);
		return 2;
	}
	const char *path = argv[optind];
	char err[PATH_MAX + 256] = "";
	struct block_dev *bd;
	int r = block_open(path, NULL, repair ? 0 : BLOCK_RDONLY, &bd, err, sizeof(err));
	if (r < 0) {
		disk_log_failure(path, err, r);
		return 1;
	}

	struct block_check res;
	unsigned lines;
	r = run_check(bd, repair, &res, &lines);
	if (r == -ENOTSUP || r == -EOPNOTSUPP) {
		printf("%s: %s images have no metadata to check\n", path, block_format(bd));
		block_close(bd);
		return 0;
	}
	if (r < 0) {
		log_error("%s: the check could not run: %s", path, strerror(-r));
		block_close(bd);
		return 1;
	}
	if (repair && (res.corruptions || res.leaks)) {
		printf("%s: %llu corruptions and %llu leaks found, %llu repaired; checking "
		       "again\n",
		       path, (unsigned long long)res.corruptions, (unsigned long long)res.leaks,
		       (unsigned long long)res.repaired);
		r = run_check(bd, false, &res, &lines);
		if (r < 0) {
			log_error("%s: the check after repair could not run: %s", path,
				  strerror(-r));
			block_close(bd);
			return 1;
		}
	}
	block_close(bd);

	if (!res.corruptions && !res.leaks) {
		printf("%s: no errors found\n", path);
		return 0;
	}
	printf("%s: %llu corruptions, %llu leaked clusters or blocks\n", path,
	       (unsigned long long)res.corruptions, (unsigned long long)res.leaks);
	if (res.corruptions) {
		if (!repair)
			printf("%s: 'osio disk check --repair %s' may fix them; copy the image "
			       "first\n",
			       path, path);
		return 2;
	}
	if (!repair)
		printf("%s: the leaks waste space only; 'osio disk check --repair %s' frees it\n",
		       path, path);
	return 3;
}

/* --- dispatch -------------------------------------------------------------- */

int cmd_disk(int argc, char **argv)
{
	static const struct {
		const char *name;
		int (*fn)(int argc, char **argv);
	} subs[] = {
	    {"create", disk_create_main},   {"info", disk_info_main},
	    {"convert", disk_convert_main}, {"resize", disk_resize_main},
	    {"check", disk_check_main},	    {"reconnect", disk_reconnect_main},
	};
	log_set_prog("osio disk");
	if (argc < 2) {
		disk_usage(stderr);
		return 2;
	}
	if (strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0 ||
	    strcmp(argv[1], "help") == 0) {
		disk_usage(stdout);
		return 0;
	}
	for (size_t i = 0; i < sizeof(subs) / sizeof(subs[0]); i++)
		if (strcmp(argv[1], subs[i].name) == 0)
			return subs[i].fn(argc - 1, argv + 1);
	log_error("unknown command '%s' (see 'osio disk --help')", argv[1]);
	return 2;
}
