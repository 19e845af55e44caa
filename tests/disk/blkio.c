/* blkio: writes and verifies reproducible byte patterns in a disk image
 * through osio's block layer, for the interoperability tests; `blkio
 * pattern` prints the same bytes so a script can build a raw reference file
 * without osio.
 *
 *   blkio pattern OFFSET LEN SEED          the pattern's bytes on stdout
 *   blkio [-f FORMAT] [-r] FILE OP...      OP: w:OFFSET:LEN:SEED (write),
 *                                          r:OFFSET:LEN:SEED (read and compare;
 *                                          seed 0 is zeroes), flush, size
 * Offsets and lengths: bytes or with K/M/G (binary). Exit 0, or 1 with one
 * line saying what differs or failed. */
#include "devices/block/block.h"

#include <errno.h>
#include <inttypes.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define PIECE (1024u * 1024)

static uint64_t mix(uint64_t x)
{
	x += 0x9e3779b97f4a7c15ull;
	x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ull;
	x = (x ^ (x >> 27)) * 0x94d049bb133111ebull;
	return x ^ (x >> 31);
}

/* The pattern's bytes at [off, off + len): a function of the absolute
 * offset, so any piece of it can be made alone. Seed 0 is zeroes. */
static void pattern(uint8_t *buf, uint64_t off, size_t len, uint64_t seed)
{
	for (size_t i = 0; i < len; i++) {
		uint64_t o = off + i;
		buf[i] = seed ? (uint8_t)(mix((o >> 3) ^ (seed << 40)) >> (8 * (o & 7))) : 0;
	}
}

static int parse_num(const char *s, uint64_t *out)
{
	char *end;
	errno = 0;
	unsigned long long v = strtoull(s, &end, 0);
	if (errno || end == s)
		return -1;
	unsigned shift = 0;
	switch (*end) {
	case 'K':
	case 'k':
		shift = 10;
		break;
	case 'M':
	case 'm':
		shift = 20;
		break;
	case 'G':
	case 'g':
		shift = 30;
		break;
	case '\0':
		break;
	default:
		return -1;
	}
	if (shift && end[1])
		return -1;
	*out = (uint64_t)v << shift;
	return 0;
}

static int do_pattern(int argc, char **argv)
{
	uint64_t off, len, seed;
	if (argc != 5 || parse_num(argv[2], &off) || parse_num(argv[3], &len) ||
	    parse_num(argv[4], &seed)) {
		fprintf(stderr, "usage: blkio pattern OFFSET LEN SEED\n");
		return 2;
	}
	uint8_t *buf = malloc(PIECE);
	if (!buf)
		return 1;
	while (len) {
		size_t n = len < PIECE ? (size_t)len : PIECE;
		pattern(buf, off, n, seed);
		if (fwrite(buf, 1, n, stdout) != n) {
			free(buf);
			return 1;
		}
		off += n;
		len -= n;
	}
	free(buf);
	return 0;
}

static int run_op(struct block_dev *bd, const char *op, uint8_t *buf, uint8_t *want)
{
	if (strcmp(op, "flush") == 0) {
		int r = block_flush(bd);
		if (r < 0)
			fprintf(stderr, "blkio: %s: flush: %s\n", block_path(bd), strerror(-r));
		return r < 0;
	}
	if (strcmp(op, "size") == 0) {
		printf("%" PRIu64 "\n", block_size(bd));
		return 0;
	}
	char kind;
	char a[32], b[32], c[32];
	uint64_t off, len, seed;
	if (sscanf(op, "%c:%31[^:]:%31[^:]:%31s", &kind, a, b, c) != 4 ||
	    (kind != 'w' && kind != 'r') || parse_num(a, &off) || parse_num(b, &len) ||
	    parse_num(c, &seed)) {
		fprintf(stderr,
			"blkio: '%s': not w:OFFSET:LEN:SEED, r:OFFSET:LEN:SEED, flush or size\n",
			op);
		return 2;
	}
	while (len) {
		size_t n = len < PIECE ? (size_t)len : PIECE;
		pattern(want, off, n, seed);
		int r;
		if (kind == 'w') {
			r = block_pwrite(bd, want, n, off);
		} else {
			r = block_pread(bd, buf, n, off);
			if (r == 0 && memcmp(buf, want, n) != 0) {
				size_t i = 0;
				while (buf[i] == want[i])
					i++;
				fprintf(stderr,
					"blkio: %s: byte %" PRIu64 " is 0x%02x, expected 0x%02x "
					"(seed %" PRIu64 ")\n",
					block_path(bd), off + i, buf[i], want[i], seed);
				return 1;
			}
		}
		if (r < 0) {
			fprintf(stderr, "blkio: %s: %s %zu bytes at %" PRIu64 ": %s\n",
				block_path(bd), kind == 'w' ? "writing" : "reading", n, off,
				strerror(-r));
			return 1;
		}
		off += n;
		len -= n;
	}
	return 0;
}

int main(int argc, char **argv)
{
	if (argc >= 2 && strcmp(argv[1], "pattern") == 0)
		return do_pattern(argc, argv);
	const char *format = NULL;
	unsigned flags = 0;
	int opt;
	while ((opt = getopt(argc, argv, "+f:r")) != -1) {
		switch (opt) {
		case 'f':
			format = optarg;
			break;
		case 'r':
			flags |= BLOCK_RDONLY;
			break;
		default:
			return 2;
		}
	}
	if (argc - optind < 2) {
		fprintf(stderr, "usage: blkio [-f FORMAT] [-r] FILE OP...\n");
		return 2;
	}
	char err[PATH_MAX + 256] = "";
	struct block_dev *bd;
	int r = block_open(argv[optind], format, flags, &bd, err, sizeof(err));
	if (r < 0) {
		fprintf(stderr, "blkio: %s\n", err[0] ? err : strerror(-r));
		return 1;
	}
	uint8_t *buf = malloc(PIECE), *want = malloc(PIECE);
	int status = buf && want ? 0 : 1;
	for (int i = optind + 1; i < argc && !status; i++)
		status = run_op(bd, argv[i], buf, want);
	free(buf);
	free(want);
	block_close(bd);
	return status;
}
