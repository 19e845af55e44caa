/* "Did you mean ...?": the closest known word to a misspelt key, section or
 * value, by optimal string alignment (Damerau-Levenshtein) distance. */
#include "vmconfig/internal.h"

#include <string.h>
#include <strings.h>

#define WORD_MAX 64
#define FAR	 1000u

static unsigned min3(unsigned a, unsigned b, unsigned c)
{
	unsigned m = a < b ? a : b;

	return m < c ? m : c;
}

unsigned vc_distance(const char *a, const char *b)
{
	size_t n = strlen(a), m = strlen(b);
	/* Three rows of the dynamic programming table: i-2, i-1, i. */
	unsigned rows[3][WORD_MAX + 1];

	if (n > WORD_MAX || m > WORD_MAX)
		return FAR;
	for (size_t j = 0; j <= m; j++)
		rows[0][j] = j;
	for (size_t i = 1; i <= n; i++) {
		unsigned *cur = rows[i % 3], *prev = rows[(i - 1) % 3], *prev2 = rows[(i + 1) % 3];

		cur[0] = i;
		for (size_t j = 1; j <= m; j++) {
			unsigned cost = a[i - 1] != b[j - 1];

			cur[j] = min3(prev[j] + 1, cur[j - 1] + 1, prev[j - 1] + cost);
			if (i > 1 && j > 1 && a[i - 1] == b[j - 2] && a[i - 2] == b[j - 1] &&
			    prev2[j - 2] + 1 < cur[j])
				cur[j] = prev2[j - 2] + 1;
		}
	}
	return rows[n % 3][m];
}

const char *vc_suggest(const char *word, const char *const *cands, size_t n)
{
	const char *best = NULL;
	unsigned best_d = FAR;

	/* Only the case differs: surely that one. */
	for (size_t i = 0; i < n; i++)
		if (strcasecmp(word, cands[i]) == 0 && strcmp(word, cands[i]) != 0)
			return cands[i];
	for (size_t i = 0; i < n; i++) {
		size_t longer = strlen(word) > strlen(cands[i]) ? strlen(word) : strlen(cands[i]);
		unsigned d = vc_distance(word, cands[i]);

		if (d == 0 || d > 2 || d > (longer < 6 ? 1 : longer / 3))
			continue;
		if (d < best_d) {
			best = cands[i];
			best_d = d;
		}
	}
	return best;
}
