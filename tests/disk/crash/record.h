/* The crash-consistency records: what the guest program crashrec writes and crashcheck verifies
 * on the host. Plain integer C for both (the guest has no libc: only stdint/stdbool). */
#ifndef OSIO_CRASH_RECORD_H
#define OSIO_CRASH_RECORD_H

#include <stdbool.h>
#include <stdint.h>

#define CRASHREC_MAGIC	 0x31525243u /* "CRR1" */
#define CRASHREC_SECTOR	 512u
#define CRASHREC_WORDS	 (CRASHREC_SECTOR / 4)
#define CRASHREC_MAX_REC 128u /* sectors per record */

/* Where the records go: record i (of group i / group) takes rec sectors at
 * start + i * stride. */
struct crashrec_layout {
	uint32_t seed;
	uint64_t start;
	uint32_t stride, rec, group;
};

static inline uint64_t crashrec_lba(const struct crashrec_layout *l, uint32_t i)
{
	return l->start + (uint64_t)i * l->stride;
}

/* A 32-bit mix (the "lowbias32" integer hash). */
static inline uint32_t crashrec_mix(uint32_t x)
{
	x ^= x >> 16;
	x *= 0x7feb352du;
	x ^= x >> 15;
	x *= 0x846ca68bu;
	x ^= x >> 16;
	return x;
}

/* A rotate-and-xor sum over n words: cheap, as the guest's instructions may be emulated one
 * by one. */
static inline uint32_t crashrec_sum(const uint32_t *w, unsigned n)
{
	uint32_t h = 0x6a09e667u;
	for (unsigned k = 0; k < n; k++)
		h = ((h << 5) | (h >> 27)) ^ w[k];
	return h;
}

/* Sector j of record i: magic, seed, i, j, its group, then words of a pattern that starts from
 * a hash of (seed, i, j), and last the checksum of everything before it. */
static inline void crashrec_fill(const struct crashrec_layout *l, uint32_t i, uint32_t j,
				 uint32_t w[CRASHREC_WORDS])
{
	w[0] = CRASHREC_MAGIC;
	w[1] = l->seed;
	w[2] = i;
	w[3] = j;
	w[4] = i / l->group;
	uint32_t x = crashrec_mix(l->seed ^ crashrec_mix(i * 0x9e3779b9u + j));
	for (unsigned k = 5; k < CRASHREC_WORDS - 1; k++) {
		w[k] = x;
		x += 0x9e3779b9u;
	}
	w[CRASHREC_WORDS - 1] = crashrec_sum(w, CRASHREC_WORDS - 1);
}

/* What is wrong with a sector that should be sector j of record i: NULL when it is intact. */
static inline const char *crashrec_check(const struct crashrec_layout *l, uint32_t i, uint32_t j,
					 const uint32_t w[CRASHREC_WORDS])
{
	uint32_t want[CRASHREC_WORDS];
	crashrec_fill(l, i, j, want);
	if (w[0] != CRASHREC_MAGIC)
		return "no record there (wrong magic)";
	if (w[1] != l->seed)
		return "a record of another run (wrong seed)";
	if (w[2] != i || w[3] != j)
		return "another record's sector (wrong index)";
	if (w[CRASHREC_WORDS - 1] != crashrec_sum(w, CRASHREC_WORDS - 1))
		return "torn or corrupted (bad checksum)";
	for (unsigned k = 0; k < CRASHREC_WORDS; k++)
		if (w[k] != want[k])
			return "wrong contents";
	return 0;
}

#endif
