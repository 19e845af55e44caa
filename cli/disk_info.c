/* `osio disk info FILE [--json]`: what an image says about itself (format,
 * sizes, sectors, dirty flag) and the same for every parent in its chain. */
#include "cli/disk_common.h"

#include "devices/block/block.h"
#include "hypervisor/log.h"

#include <errno.h>
#include <getopt.h>
#include <jansson.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static void info_usage(FILE *f)
{
	fprintf(f,
		"usage: osio disk info FILE [--json]\n"
		"\n"
		"Shows the image's format and kind, the size the guest sees, the file's size\n"
		"and the space it occupies, the allocation unit, sector sizes, whether it was\n"
		"closed cleanly, and its parents (differencing disks, backing files) one by one.\n"
		"\n"
		"  -j, --json   one JSON object instead: filename, format, subformat,\n"
		"               virtual-size, file-size, actual-size, block-size,\n"
		"               logical-sector-size, physical-sector-size, dirty, parent (as\n"
		"               recorded in the image), and parents: the chain, nearest\n"
		"               first, each with the same fields\n"
		"  -h, --help   this text\n");
}

static void print_size(const char *label, uint64_t bytes)
{
	char buf[32];
	printf("  %-18s %s", label, disk_format_size(bytes, buf, sizeof(buf)));
	if (bytes >= 1024)
		printf(" (%llu bytes)", (unsigned long long)bytes);
	printf("\n");
}

static void print_text(const char *title, const char *path, const struct block_info *in)
{
	printf("%s%s\n", title, path);
	printf("  %-18s %s%s%s\n", "format:", in->format, in->subformat[0] ? ", " : "",
	       in->subformat);
	print_size("virtual size:", in->virtual_size);
	print_size("file size:", in->file_size);
	print_size("allocated:", in->allocated);
	if (in->block_size)
		print_size("block size:", in->block_size);
	printf("  %-18s %u logical, %u physical\n", "sector size:", in->logical_sector,
	       in->physical_sector);
	printf("  %-18s %s\n", "dirty:", in->dirty ? "yes (not closed cleanly)" : "no");
	if (in->parent[0])
		printf("  %-18s %s\n", "parent:", in->parent);
}

static json_t *info_json(const char *path, const struct block_info *in)
{
	json_t *o = json_object();
	if (!o)
		return NULL;
	json_object_set_new(o, "filename", json_string(path));
	json_object_set_new(o, "format", json_string(in->format));
	json_object_set_new(o, "subformat", json_string(in->subformat));
	json_object_set_new(o, "virtual-size", json_integer((json_int_t)in->virtual_size));
	json_object_set_new(o, "file-size", json_integer((json_int_t)in->file_size));
	json_object_set_new(o, "actual-size", json_integer((json_int_t)in->allocated));
	json_object_set_new(o, "block-size", json_integer((json_int_t)in->block_size));
	json_object_set_new(o, "logical-sector-size", json_integer(in->logical_sector));
	json_object_set_new(o, "physical-sector-size", json_integer(in->physical_sector));
	json_object_set_new(o, "dirty", json_boolean(in->dirty));
	if (in->parent[0])
		json_object_set_new(o, "parent", json_string(in->parent));
	return o;
}

int disk_info_main(int argc, char **argv)
{
	static const struct option opts[] = {
	    {"json", no_argument, NULL, 'j'},
	    {"help", no_argument, NULL, 'h'},
	    {0},
	};
	bool as_json = false;
	int c;
	log_set_prog("osio disk info");
	opterr = 0;
	optind = 0;
	while ((c = getopt_long(argc, argv, "jh", opts, NULL)) != -1) {
		switch (c) {
		case 'j':
			as_json = true;
			break;
		case 'h':
			info_usage(stdout);
			return 0;
		default:
			return disk_bad_option(c, argv, "info");
		}
	}
	if (argc - optind != 1) {
		info_usage(stderr);
		return 2;
	}
	const char *path = argv[optind];
	char err[PATH_MAX + 256] = "";
	struct block_dev *bd;
	int r = block_open(path, NULL, BLOCK_RDONLY, &bd, err, sizeof(err));
	if (r == -EBUSY) {
		/* A running VM writes it: look without the lock, as qemu-img info -U. */
		r = block_open(path, NULL, BLOCK_RDONLY | BLOCK_SHARE, &bd, err, sizeof(err));
		if (r == 0)
			log_warn("%s: in use by a running VM: the figures may be changing", path);
	}
	if (r < 0) {
		disk_log_failure(path, err, r);
		return 1;
	}

	/* struct block_info holds a PATH_MAX name: one on the heap at a time. */
	struct block_info *in = malloc(sizeof(*in));
	json_t *root = NULL, *chain = NULL;
	int status = 1;
	if (!in)
		goto out;
	if (as_json) {
		chain = json_array();
		if (!chain)
			goto out;
	}
	unsigned depth = 0;
	for (struct block_dev *d = bd; d; d = block_backing(d), depth++) {
		memset(in, 0, sizeof(*in));
		r = block_get_info(d, in);
		if (r < 0) {
			log_error("%s: cannot read what the image says about itself: %s",
				  block_path(d), strerror(-r));
			goto out;
		}
		if (as_json) {
			json_t *o = info_json(depth ? block_path(d) : path, in);
			if (!o)
				goto out;
			if (!root)
				root = o;
			else
				json_array_append_new(chain, o);
		} else {
			char title[32] = "";
			if (depth)
				snprintf(title, sizeof(title), "parent %u: ", depth);
			if (depth)
				printf("\n");
			print_text(title, depth ? block_path(d) : path, in);
		}
	}
	if (as_json) {
		json_object_set_new(root, "parents", chain);
		chain = NULL;
		char *text = json_dumps(root, JSON_INDENT(2) | JSON_PRESERVE_ORDER);
		if (!text)
			goto out;
		printf("%s\n", text);
		free(text);
	}
	status = 0;
out:
	if (status && !in)
		log_error("%s: out of memory", path);
	json_decref(chain);
	json_decref(root);
	free(in);
	block_close(bd);
	return status;
}
