/* pattern_check: the host's side of the guest disk tests. Reads a raw disk image (the guest's
 * disk converted with qemu-img convert -O raw) and sorts its 512-byte sectors into those that
 * hold the pattern a guest program wrote (boot/media.h, MEDIA_MAGIC_WRITTEN, naming their own
 * LBA), zero sectors, and anything else; with --expect N exactly N pattern sectors and nothing
 * else must be there. */
#include "../boot/media.h"

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define SECTOR 512u
#define WORDS  (SECTOR / 4)
#define SHOW   5

static void usage(FILE *f)
{
	fprintf(f,
		"usage: pattern_check RAW_IMAGE [--expect SECTORS]\n"
		"\n"
		"Counts the sectors of RAW_IMAGE that hold the guest programs' written pattern,\n"
		"the zero sectors and the others. Exit status 0 when no sector is 'other' (and\n"
		"with --expect, exactly SECTORS hold the pattern), 1 otherwise, 2 on bad usage or\n"
		"an unreadable file.\n");
}

static bool all_zero(const uint8_t *p, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (p[i])
			return false;
	return true;
}

int main(int argc, char **argv)
{
	uint64_t expect = 0, lba = 0, written = 0, zero = 0, other = 0;
	bool have_expect = false;
	uint8_t sector[SECTOR];
	uint32_t words[WORDS];
	unsigned shown = 0;
	size_t got;
	FILE *f;

	if (argc == 4 && strcmp(argv[2], "--expect") == 0) {
		char *end;

		errno = 0;
		expect = strtoull(argv[3], &end, 10);
		if (errno || !*argv[3] || *end) {
			fprintf(stderr, "pattern_check: --expect '%s' is not a number\n", argv[3]);
			return 2;
		}
		have_expect = true;
	} else if (argc != 2 || argv[1][0] == '-') {
		usage(argc == 2 && strcmp(argv[1], "--help") == 0 ? stdout : stderr);
		return argc == 2 && strcmp(argv[1], "--help") == 0 ? 0 : 2;
	}
	f = fopen(argv[1], "rb");
	if (!f) {
		fprintf(stderr, "pattern_check: cannot open %s: %s\n", argv[1], strerror(errno));
		return 2;
	}
	while ((got = fread(sector, 1, SECTOR, f)) > 0) {
		if (got < SECTOR) {
			/* A partial last sector is no part of the disk, but must be empty. */
			if (!all_zero(sector, got)) {
				fprintf(stderr,
					"pattern_check: %s: %zu stray bytes after sector %" PRIu64
					"\n",
					argv[1], got, lba);
				other++;
			}
			break;
		}
		memcpy(words, sector, SECTOR);
		if (all_zero(sector, SECTOR)) {
			zero++;
		} else if (lba <= UINT32_MAX &&
			   media_check_sector(words, WORDS, MEDIA_MAGIC_WRITTEN, (uint32_t)lba)) {
			written++;
		} else {
			if (shown++ < SHOW)
				printf("%s: sector %" PRIu64
				       ": neither zero nor its pattern (word 0 0x%08x, "
				       "word 1 %u)\n",
				       argv[1], lba, words[0], words[1]);
			other++;
		}
		lba++;
	}
	if (ferror(f)) {
		fprintf(stderr, "pattern_check: %s: read error: %s\n", argv[1], strerror(errno));
		fclose(f);
		return 2;
	}
	fclose(f);
	printf("%s: %" PRIu64 " sectors: %" PRIu64 " with the pattern, %" PRIu64 " zero, %" PRIu64
	       " other\n",
	       argv[1], lba, written, zero, other);
	if (other)
		return 1;
	if (have_expect && written != expect) {
		printf("%s: expected %" PRIu64 " sectors with the pattern\n", argv[1], expect);
		return 1;
	}
	return 0;
}
