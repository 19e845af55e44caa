/* The content of the test media, shared by the host builder (tools/mkmedia.c) and the guest
 * programs that read it back: pattern sectors that name their own LBA and carry a checksum, and
 * a header sector with the medium's size, layout and a digest of every other sector. */
#ifndef GUEST_BOOT_MEDIA_H
#define GUEST_BOOT_MEDIA_H

#include <stdbool.h>
#include <stdint.h>

/* Word 0 of a pattern sector: the builder's pattern, or the one a program wrote. */
#define MEDIA_MAGIC_PATTERN 0x4f49534fu /* "OSIO" */
#define MEDIA_MAGIC_WRITTEN 0x5752534fu /* "OSRW" */

#define MEDIA_HEADER_MAGIC "OSIOMEDIA-HDR-1"
#define MEDIA_PATTERN_FILE "PATTERN.BIN" /* the DVD's file of pattern sectors, header first */
#define MEDIA_MAX_SECTOR   2048
#define MEDIA_MAX_WORDS	   (MEDIA_MAX_SECTOR / 4)

/* The header sector (little-endian; the rest of the sector is zero). */
struct media_header {
	char magic[16];
	uint32_t sector_size;	/* 2048 (DVD) or 512 (disk) */
	uint32_t total_sectors; /* the whole medium */
	uint32_t header_lba;
	uint32_t pattern_lba; /* pattern sectors: [pattern_lba, pattern_lba + pattern_count) */
	uint32_t pattern_count;
	uint32_t write_lba; /* the range a program may overwrite (disk only, else 0/0) */
	uint32_t write_count;
	uint32_t digest; /* media_fold() over every sector but this one, in LBA order */
};

/* Word i of pattern sector lba (words 0-2 and the last two are fixed, see below). */
static inline uint32_t media_fill_word(uint32_t magic, uint32_t lba, uint32_t i)
{
	uint32_t x = lba * 0x9e3779b1u ^ i * 0x85ebca77u ^ magic;

	return x ^ x >> 15;
}

/* Fletcher-style sums of n words: s1 = sum, s2 = sum of the running s1 (order-sensitive). */
static inline void media_sums(const uint32_t *w, uint32_t n, uint32_t *s1, uint32_t *s2)
{
	uint32_t a = 0, b = 0;

	for (uint32_t i = 0; i < n; i++) {
		a += w[i];
		b += a;
	}
	*s1 = a;
	*s2 = b;
}

/* A pattern sector: magic, lba, ~lba, filler, then the sums of the words before them. */
static inline void media_fill_sector(uint32_t *w, uint32_t nwords, uint32_t magic, uint32_t lba)
{
	w[0] = magic;
	w[1] = lba;
	w[2] = ~lba;
	for (uint32_t i = 3; i < nwords - 2; i++)
		w[i] = media_fill_word(magic, lba, i);
	media_sums(w, nwords - 2, &w[nwords - 2], &w[nwords - 1]);
}

/* Whether w holds pattern sector lba with that magic (cheap: the header words and the sums;
 * the sums catch any changed, dropped or moved word with high probability). */
static inline bool media_check_sector(const uint32_t *w, uint32_t nwords, uint32_t magic,
				      uint32_t lba)
{
	uint32_t s1, s2;

	if (w[0] != magic || w[1] != lba || w[2] != ~lba)
		return false;
	media_sums(w, nwords - 2, &s1, &s2);
	return s1 == w[nwords - 2] && s2 == w[nwords - 1];
}

/* The medium digest: start from MEDIA_DIGEST_INIT and fold in the sums (media_sums) of every
 * sector's words, in LBA order, skipping the header sector. */
#define MEDIA_DIGEST_INIT 0x811c9dc5u

static inline uint32_t media_fold(uint32_t digest, uint32_t s1, uint32_t s2)
{
	digest = (digest ^ s1) * 0x01000193u;
	return (digest ^ s2) * 0x01000193u;
}

/* Extends sums over words [0, k) by the words [k, n) (one pass for check and digest). */
static inline void media_sums_extend(const uint32_t *w, uint32_t k, uint32_t n, uint32_t *s1,
				     uint32_t *s2)
{
	for (uint32_t i = k; i < n; i++) {
		*s1 += w[i];
		*s2 += *s1;
	}
}

#endif
