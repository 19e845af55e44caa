/* crashcheck: the host side of the crash-consistency test. Opens an image the way a VM does
 * (read-write: a VHDX log is replayed, a dirty qcow2 repaired), checks its metadata with the
 * driver's check, and verifies that every record of the acknowledged groups (record.h) is intact.
 */
#include "devices/block/block.h"
#include "tests/disk/crash/record.h"

#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static void usage(FILE *f)
{
	fprintf(f, "usage: crashcheck [--format F] [--readonly] [--check] --seed N [--start LBA]\n"
		   "                  [--stride S] [--rec R] [--group N] --groups G IMAGE\n"
		   "Verifies records 0 .. G*N-1 as tests/guest/progs/crashrec wrote them.\n"
		   "Exit status: 0 all intact (and the check clean), 1 a record lost or damaged,\n"
		   "2 the metadata check found corruption, 3 the image does not open, 4 usage.\n");
}

static void report_line(void *opaque, const char *line)
{
	(void)opaque;
	printf("crashcheck: check: %s\n", line);
}

static int parse_u64(const char *s, uint64_t *v)
{
	char *end;
	errno = 0;
	unsigned long long x = strtoull(s, &end, 0);
	if (errno || end == s || *end || *s == '-')
		return -EINVAL;
	*v = x;
	return 0;
}

int main(int argc, char **argv)
{
	static const struct option opts[] = {
	    {"format", required_argument, NULL, 'f'},
	    {"readonly", no_argument, NULL, 'r'},
	    {"check", no_argument, NULL, 'c'},
	    {"seed", required_argument, NULL, 's'},
	    {"start", required_argument, NULL, 'l'},
	    {"stride", required_argument, NULL, 'k'},
	    {"rec", required_argument, NULL, 'n'},
	    {"group", required_argument, NULL, 'g'},
	    {"groups", required_argument, NULL, 'G'},
	    {"help", no_argument, NULL, 'h'},
	    {NULL, 0, NULL, 0},
	};
	struct crashrec_layout lay = {.start = 2048, .stride = 136, .rec = 1, .group = 4};
	const char *format = NULL;
	bool readonly = false, do_check = false, seed_set = false, groups_set = false;
	uint64_t groups = 0, v = 0;
	int c;
	while ((c = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
		int r = 0;
		if (c != 'f' && c != 'r' && c != 'c' && c != 'h' && optarg)
			r = parse_u64(optarg, &v);
		if (r < 0) {
			fprintf(stderr, "crashcheck: '%s' is not a number\n", optarg);
			return 4;
		}
		switch (c) {
		case 'f':
			format = optarg;
			break;
		case 'r':
			readonly = true;
			break;
		case 'c':
			do_check = true;
			break;
		case 's':
			lay.seed = (uint32_t)v;
			seed_set = true;
			break;
		case 'l':
			lay.start = v;
			break;
		case 'k':
			lay.stride = (uint32_t)v;
			break;
		case 'n':
			lay.rec = (uint32_t)v;
			break;
		case 'g':
			lay.group = (uint32_t)v;
			break;
		case 'G':
			groups = v;
			groups_set = true;
			break;
		case 'h':
			usage(stdout);
			return 0;
		default:
			usage(stderr);
			return 4;
		}
	}
	if (optind + 1 != argc || !seed_set || !groups_set || !lay.rec ||
	    lay.rec > CRASHREC_MAX_REC || lay.stride < lay.rec || !lay.group ||
	    groups > UINT32_MAX / lay.group) {
		usage(stderr);
		return 4;
	}
	const char *path = argv[optind];
	char err[512];
	struct block_dev *bd;
	int r = block_open(path, format, readonly ? BLOCK_RDONLY : 0, &bd, err, sizeof(err));
	if (r < 0) {
		printf("crashcheck: the image does not open: %s\n", err);
		return 3;
	}
	int status = 0;
	if (do_check) {
		struct block_check res = {.report = report_line};
		r = block_check(bd, false, &res);
		if (r < 0) {
			printf("crashcheck: %s: the check could not run: %s\n", path, strerror(-r));
			status = 2;
		} else {
			printf("crashcheck: check: %" PRIu64 " corruptions, %" PRIu64 " leaks\n",
			       res.corruptions, res.leaks);
			if (res.corruptions)
				status = 2;
		}
	}

	uint32_t records = (uint32_t)groups * lay.group, bad = 0;
	size_t bytes = (size_t)lay.rec * CRASHREC_SECTOR;
	uint32_t *buf = malloc(bytes);
	if (!buf) {
		block_close(bd);
		return 3;
	}
	for (uint32_t i = 0; i < records; i++) {
		uint64_t off = crashrec_lba(&lay, i) * CRASHREC_SECTOR;
		if (off + bytes > block_size(bd)) {
			printf("crashcheck: record %u lies past the end of the disk\n", i);
			bad++;
			break;
		}
		r = block_pread(bd, buf, bytes, off);
		if (r < 0) {
			printf("crashcheck: record %u (group %u) at LBA %" PRIu64
			       ": read error %s\n",
			       i, i / lay.group, crashrec_lba(&lay, i), strerror(-r));
			bad++;
			continue;
		}
		for (uint32_t j = 0; j < lay.rec; j++) {
			const char *why = crashrec_check(&lay, i, j, buf + j * CRASHREC_WORDS);
			if (!why)
				continue;
			if (bad < 10)
				printf("crashcheck: record %u (group %u) sector %u at LBA %" PRIu64
				       ": %s\n",
				       i, i / lay.group, j, crashrec_lba(&lay, i) + j, why);
			bad++;
		}
	}
	free(buf);
	block_close(bd);
	printf("crashcheck: %s: %u records of %" PRIu64 " acknowledged groups: %s\n", path, records,
	       groups, bad ? "DAMAGED" : "all intact");
	if (bad)
		printf("crashcheck: %u bad sectors\n", bad);
	return bad ? 1 : status;
}
