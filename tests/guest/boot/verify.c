/* Read-back checks of the test media: pattern sectors and the medium digest (media.h). */
#include "verify.h"
#include "../lib/str.h"
#include "../lib/test.h"
#include "../lib/uart.h"

bool media_header_parse(const void *sector, u32 sector_size, struct media_header *h)
{
	memcpy(h, sector, sizeof(*h));
	if (!check(memcmp(h->magic, MEDIA_HEADER_MAGIC, sizeof(h->magic)) == 0,
		   "medium header found (magic \"%s\")", MEDIA_HEADER_MAGIC))
		return false;
	return check(
	    h->sector_size == sector_size && h->total_sectors > h->header_lba &&
		h->pattern_lba + h->pattern_count <= h->total_sectors &&
		h->write_lba + h->write_count <= h->total_sectors,
	    "medium header consistent: %u sectors of %u bytes, header at %u, pattern %u+%u, "
	    "write range %u+%u",
	    h->total_sectors, h->sector_size, h->header_lba, h->pattern_lba, h->pattern_count,
	    h->write_lba, h->write_count);
}

void verify_start(struct verify *v, const struct media_header *h, const char *how)
{
	*v = (struct verify){.h = h, .how = how, .digest = MEDIA_DIGEST_INIT};
}

static void note_bad(struct verify *v, u32 lba)
{
	if (v->pattern_bad < ARRAY_SIZE(v->bad_lba))
		v->bad_lba[v->pattern_bad] = lba;
	v->pattern_bad++;
}

void verify_sectors(struct verify *v, u32 lba, const void *buf, u32 count)
{
	const struct media_header *h = v->h;
	u32 nwords = h->sector_size / 4;

	if (lba != v->next_lba) {
		v->out_of_order++;
		return;
	}
	for (u32 i = 0; i < count; i++, lba++) {
		const u32 *w = (const u32 *)((const u8 *)buf + i * h->sector_size);
		bool in_pattern = lba - h->pattern_lba < h->pattern_count;
		bool in_write = lba - h->write_lba < h->write_count;
		u32 s1, s2;

		media_sums(w, nwords - 2, &s1, &s2);
		if (in_pattern) {
			u32 magic = w[0];
			bool magic_ok =
			    magic == MEDIA_MAGIC_PATTERN ||
			    (v->accept_written && in_write && magic == MEDIA_MAGIC_WRITTEN);
			if (magic_ok && w[1] == lba && w[2] == ~lba && s1 == w[nwords - 2] &&
			    s2 == w[nwords - 1]) {
				if (magic == MEDIA_MAGIC_WRITTEN)
					v->written_ok++;
				else
					v->pattern_ok++;
			} else {
				note_bad(v, lba);
			}
		}
		if (lba != h->header_lba) {
			media_sums_extend(w, nwords - 2, nwords, &s1, &s2);
			v->digest = media_fold(v->digest, s1, s2);
		}
	}
	v->next_lba = lba;
}

bool verify_finish(struct verify *v)
{
	const struct media_header *h = v->h;
	bool ok = true;

	ok &= check(v->out_of_order == 0 && v->next_lba == h->total_sectors,
		    "%s: read all %u sectors in order (got to %u)", v->how, h->total_sectors,
		    v->next_lba);
	ok &= check(v->pattern_bad == 0 && v->pattern_ok + v->written_ok == h->pattern_count,
		    "%s: %u of %u pattern sectors right (%u bad)", v->how,
		    v->pattern_ok + v->written_ok, h->pattern_count, v->pattern_bad);
	for (u32 i = 0; i < v->pattern_bad && i < ARRAY_SIZE(v->bad_lba); i++)
		printf("%s: bad pattern sector at LBA %u\n", v->how, v->bad_lba[i]);
	if (v->written_ok)
		printf("%s: %u of them hold the written pattern\n", v->how, v->written_ok);
	if (!v->accept_written || v->written_ok == 0)
		ok &= check(v->digest == h->digest,
			    "%s: digest of every sector 0x%08x (the image's: 0x%08x)", v->how,
			    v->digest, h->digest);
	return ok;
}
