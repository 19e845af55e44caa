/* The VHDX driver against damaged and hostile images: log replay (its own
 * entries and QEMU's), every check in open refused with a message naming the
 * file, and the second header and region table taking over for the first. */
#include "vhdx_fixture.h"

/* --- the log -------------------------------------------------------------- */

/* Writes a one-entry log into p that sets BAT entry 0 to a block at
 * data_off and zeroes 4 KiB at zero_off; bad_crc damages it. */
static void write_log(const char *p, uint64_t data_off, uint64_t zero_off, bool bad_crc)
{
	struct vhdx_header h;
	read_header(p, &h);
	vhdx_guid_random(&h.log);
	uint8_t bat[4096];
	peek(p, 3 * MiB, bat, sizeof(bat));
	vhdx_put64(bat, data_off | VHDX_PAYLOAD_FULLY_PRESENT);
	/* Header + 2 descriptors in sector 0, one data sector. */
	uint8_t *ent = calloc(1, 8192);
	uint64_t seq = 5;
	memcpy(ent, "loge", 4);
	vhdx_put32(ent + 8, 8192);
	vhdx_put32(ent + 12, 0); /* tail: this entry */
	vhdx_put64(ent + 16, seq);
	vhdx_put32(ent + 24, 2);
	memcpy(ent + 32, h.log.b, 16);
	struct stat st;
	assert_int_equal(stat(p, &st), 0);
	vhdx_put64(ent + 48, (uint64_t)st.st_size);
	vhdx_put64(ent + 56, data_off + MiB);
	uint8_t *d = ent + 64;
	memcpy(d, "desc", 4);
	memcpy(d + 4, bat + 4092, 4);
	memcpy(d + 8, bat, 8);
	vhdx_put64(d + 16, 3 * MiB);
	vhdx_put64(d + 24, seq);
	d += 32;
	memcpy(d, "zero", 4);
	vhdx_put64(d + 8, 4096);
	vhdx_put64(d + 16, zero_off);
	vhdx_put64(d + 24, seq);
	uint8_t *s = ent + 4096;
	memcpy(s, "data", 4);
	vhdx_put32(s + 4, (uint32_t)(seq >> 32));
	memcpy(s + 8, bat + 8, 4084);
	vhdx_put32(s + 4092, (uint32_t)seq);
	vhdx_put32(ent + 4, vhdx_crc_with_hole(ent, 8192, 4) ^ (bad_crc ? 1 : 0));
	patch(p, MiB, ent, 8192);
	write_headers(p, h);
	free(ent);
}

static void test_log_replay(void **state)
{
	(void)state;
	const char *p = tmp("log.vhdx");
	create(p, 8 * MiB, (struct copts){.block = 1 * MiB});
	/* The block the log will point at: data already written past the end,
	 * as a writer does before logging the BAT change. */
	struct stat st;
	assert_int_equal(stat(p, &st), 0);
	uint64_t data_off = (uint64_t)st.st_size;
	uint8_t *blk = malloc(MiB);
	fill(blk, MiB, 0, 77);
	patch(p, data_off, blk, MiB);
	write_log(p, data_off, data_off + 8192, false);
	struct vhdx_header h;
	read_header(p, &h);
	assert_false(vhdx_guid_is_zero(&h.log));
	open_fails(p, BLOCK_RDONLY, "log to replay");
	struct block_dev *bd = open_img(p, 0);
	memset(blk + 8192, 0, 4096); /* the zero descriptor */
	check_read(bd, blk, 0, MiB);
	block_close(bd);
	read_header(p, &h);
	assert_true(vhdx_guid_is_zero(&h.log));
	bd = open_img(p, BLOCK_RDONLY);
	check_read(bd, blk, 0, MiB);
	block_close(bd);
	if (have_qemu_img())
		assert_int_equal(sh("qemu-img check -q -f vhdx %s", p), 0);

	/* A damaged entry is never replayed; with no valid sequence in a log
	 * the header names, the image is corrupt ([MS-VHDX] 2.3.3). */
	const char *q = tmp("log2.vhdx");
	create(q, 8 * MiB, (struct copts){.block = 1 * MiB});
	assert_int_equal(stat(q, &st), 0);
	patch(q, (uint64_t)st.st_size, blk, MiB);
	write_log(q, (uint64_t)st.st_size, (uint64_t)st.st_size, true);
	open_fails(q, 0, "no valid sequence");
	uint8_t bat0[8];
	peek(q, 3 * MiB, bat0, 8);
	assert_int_equal(vhdx_le64(bat0), 0); /* nothing was written */

	/* A log writing into the headers is refused. */
	const char *r = tmp("log3.vhdx");
	create(r, 8 * MiB, (struct copts){.block = 1 * MiB});
	assert_int_equal(stat(r, &st), 0);
	write_log(r, (uint64_t)st.st_size, VHDX_HEADER1_OFF, false);
	open_fails(r, 0, "outside where");

	/* A log from a file longer than this one: the file lost its end. */
	const char *t = tmp("log4.vhdx");
	create(t, 8 * MiB, (struct copts){.block = 1 * MiB});
	assert_int_equal(stat(t, &st), 0);
	patch(t, (uint64_t)st.st_size, blk, MiB);
	write_log(t, (uint64_t)st.st_size, (uint64_t)st.st_size, false);
	assert_int_equal(truncate(t, st.st_size - (off_t)MiB), 0);
	open_fails(t, 0, "truncated");
	free(blk);
}

/* QEMU's own log entries: QEMU writes each BAT change through the log and
 * then only clears the header's LogGuid, so naming the last entry's GUID
 * again gives an image with a log to replay, written by the peer. */
static void test_qemu_log(void **state)
{
	(void)state;
	if (!have_qemu_img() || system("qemu-io --version >/dev/null 2>&1") != 0)
		skip();
	const char *p = tmp("qlog.vhdx");
	unlink(p);
	assert_int_equal(sh("qemu-img create -q -f vhdx -o block_size=1048576 %s 16M", p), 0);
	assert_int_equal(sh("qemu-io -f vhdx -c 'write -P 0x5a 3M 8k' %s >/dev/null", p), 0);
	struct vhdx_header h;
	read_header(p, &h);
	assert_true(vhdx_guid_is_zero(&h.log));
	uint8_t ent[64];
	peek(p, h.log_offset, ent, sizeof(ent));
	assert_memory_equal(ent, "loge", 4);
	memcpy(h.log.b, ent + 32, 16);
	write_headers(p, h);
	open_fails(p, BLOCK_RDONLY, "log to replay");
	uint8_t *want = calloc(1, 16 * MiB);
	memset(want + 3 * MiB, 0x5a, 8192);
	struct block_dev *bd = open_img(p, 0);
	check_read(bd, want, 0, 16 * MiB);
	block_close(bd);
	read_header(p, &h);
	assert_true(vhdx_guid_is_zero(&h.log));
	assert_int_equal(sh("qemu-img check -q -f vhdx %s", p), 0);
	free(want);
}

/* A parent in another folder is recorded Windows-style (relative_path
 * with backslashes, as Hyper-V writes it) and found again. */
/* --- hostile images ------------------------------------------------------- */

typedef void (*corrupt_fn)(const char *path);

static void c_signature(const char *p)
{
	patch(p, 0, "vhdxfilf", 8);
}
static void c_headers(const char *p)
{
	uint8_t x = 0x55;
	patch(p, VHDX_HEADER1_OFF + 100, &x, 1);
	patch(p, VHDX_HEADER2_OFF + 100, &x, 1);
}
static void c_version(const char *p)
{
	struct vhdx_header h;
	read_header(p, &h);
	h.version = 2;
	write_headers(p, h);
}
static void c_log_unaligned(const char *p)
{
	struct vhdx_header h;
	read_header(p, &h);
	h.log_offset = MiB + 4096;
	write_headers(p, h);
}
static void c_log_past_eof(const char *p)
{
	struct vhdx_header h;
	read_header(p, &h);
	h.log_offset = 1ull << 40;
	write_headers(p, h);
}
/* Rewrites both region tables with the given BAT and metadata places. */
static void regions(const char *p, uint64_t bo, uint32_t bl, uint64_t mo, uint32_t ml)
{
	uint8_t *t = malloc(VHDX_REGION_SIZE);
	vhdx_region_encode(t, bo, bl, mo, ml);
	patch(p, VHDX_REGION1_OFF, t, VHDX_REGION_SIZE);
	patch(p, VHDX_REGION2_OFF, t, VHDX_REGION_SIZE);
	free(t);
}
static void c_region_sig(const char *p)
{
	patch(p, VHDX_REGION1_OFF, "xxxx", 4);
	patch(p, VHDX_REGION2_OFF, "xxxx", 4);
}
static void c_bat_past_eof(const char *p)
{
	regions(p, 1ull << 40, MiB, 2 * MiB, MiB);
}
static void c_bat_overlaps_meta(const char *p)
{
	regions(p, 2 * MiB, MiB, 2 * MiB, MiB);
}
static void c_bat_in_log(const char *p)
{
	regions(p, MiB, MiB, 2 * MiB, MiB);
}
static void c_unknown_region(const char *p)
{
	uint8_t *t = malloc(VHDX_REGION_SIZE);
	peek(p, VHDX_REGION1_OFF, t, VHDX_REGION_SIZE);
	vhdx_put32(t + 8, 3);
	uint8_t *e = t + 16 + 64;
	memset(e, 0x42, 16);
	vhdx_put64(e + 16, 3 * MiB);
	vhdx_put32(e + 24, MiB);
	vhdx_put32(e + 28, 1);
	vhdx_put32(t + 4, vhdx_crc_with_hole(t, VHDX_REGION_SIZE, 4));
	patch(p, VHDX_REGION1_OFF, t, VHDX_REGION_SIZE);
	patch(p, VHDX_REGION2_OFF, t, VHDX_REGION_SIZE);
	free(t);
}
static void c_meta_sig(const char *p)
{
	patch(p, 2 * MiB, "metadatx", 8);
}
static void c_meta_item_outside(const char *p)
{
	uint8_t b[4];
	vhdx_put32(b, 0xfff000); /* offset of item 0 */
	patch(p, 2 * MiB + 32 + 16, b, 4);
}
static void c_block_size(const char *p)
{
	uint8_t b[4];
	vhdx_put32(b, 3 * MiB);
	patch(p, 2 * MiB + 64 * 1024, b, 4);
}
static void c_logical(const char *p)
{
	uint8_t b[4];
	vhdx_put32(b, 1024);
	patch(p, 2 * MiB + 64 * 1024 + 32, b, 4);
}
static void c_size_zero(const char *p)
{
	uint8_t b[8] = {0};
	patch(p, 2 * MiB + 64 * 1024 + 8, b, 8);
}
static void c_size_huge(const char *p)
{
	uint8_t b[8];
	vhdx_put64(b, (64ull << 40) + 512);
	patch(p, 2 * MiB + 64 * 1024 + 8, b, 8);
}
static void c_bat_too_small(const char *p)
{
	uint8_t b[8];
	vhdx_put64(b, 1ull << 40); /* 1 TiB of 1 MiB blocks: 8 MiB of BAT */
	patch(p, 2 * MiB + 64 * 1024 + 8, b, 8);
}
static void c_bat_entry_header(const char *p)
{
	uint8_t b[8];
	vhdx_put64(b, 0 | VHDX_PAYLOAD_FULLY_PRESENT);
	patch(p, 3 * MiB, b, 8);
}
static void c_bat_entry_state(const char *p)
{
	uint8_t b[8];
	vhdx_put64(b, 4);
	patch(p, 3 * MiB + 8, b, 8);
}
static void c_bat_entry_far(const char *p)
{
	uint8_t b[8];
	vhdx_put64(b, 0xfffffffffff00000ull | VHDX_PAYLOAD_FULLY_PRESENT);
	patch(p, 3 * MiB, b, 8);
}
static void c_truncated(const char *p)
{
	assert_int_equal(truncate(p, 3 * MiB + 4096), 0);
}
static void c_parent_flag(const char *p)
{
	uint8_t b[4];
	vhdx_put32(b, 2); /* HasParent, but no locator */
	patch(p, 2 * MiB + 64 * 1024 + 4, b, 4);
}

static void c_log_version(const char *p)
{
	struct vhdx_header h;
	read_header(p, &h);
	h.log_version = 1;
	write_headers(p, h);
}
static void c_meta_unknown_required(const char *p)
{
	uint8_t e[32] = {0};
	memset(e, 0x77, 16);
	vhdx_put32(e + 24, 4); /* IsRequired */
	uint8_t n[2];
	peek(p, 2 * MiB + 10, n, 2);
	patch(p, 2 * MiB + 32 + 32 * vhdx_le16(n), e, 32);
	vhdx_put16(n, (uint16_t)(vhdx_le16(n) + 1));
	patch(p, 2 * MiB + 10, n, 2);
}
static void c_meta_twice(const char *p)
{
	uint8_t e[32];
	uint8_t n[2];
	peek(p, 2 * MiB + 32, e, 32);
	peek(p, 2 * MiB + 10, n, 2);
	patch(p, 2 * MiB + 32 + 32 * vhdx_le16(n), e, 32);
	vhdx_put16(n, (uint16_t)(vhdx_le16(n) + 1));
	patch(p, 2 * MiB + 10, n, 2);
}

/* One damaged header or region table: the other copy serves. */
static void test_second_copies(void **state)
{
	(void)state;
	const char *p = tmp("copies.vhdx");
	create(p, 8 * MiB, (struct copts){.block = 1 * MiB});
	struct block_dev *bd = open_img(p, 0);
	uint8_t b[4096];
	fill(b, sizeof(b), 0, 8);
	assert_int_equal(block_pwrite(bd, b, sizeof(b), 4096), 0);
	block_close(bd);
	struct vhdx_header h;
	unsigned cur = read_header(p, &h);
	patch(p, cur ? VHDX_HEADER2_OFF : VHDX_HEADER1_OFF, "xxxx", 4);
	patch(p, VHDX_REGION1_OFF + 100, "xxxx", 4);
	bd = open_img(p, 0);
	check_read(bd, b, 4096, sizeof(b));
	/* A write rewrites both headers: both are sound again. */
	assert_int_equal(block_pwrite(bd, b, sizeof(b), 8192), 0);
	block_close(bd);
	uint8_t raw[VHDX_HEADER_SIZE];
	struct vhdx_header x;
	peek(p, VHDX_HEADER1_OFF, raw, sizeof(raw));
	assert_int_equal(vhdx_header_decode(raw, &x), 0);
	peek(p, VHDX_HEADER2_OFF, raw, sizeof(raw));
	assert_int_equal(vhdx_header_decode(raw, &x), 0);
	if (have_qemu_img())
		assert_int_equal(sh("qemu-img check -q -f vhdx %s", p), 0);
}

static void test_hostile(void **state)
{
	(void)state;
	static const struct {
		corrupt_fn fn;
		const char *want;
	} cases[] = {
	    {c_signature, "not a VHDX image"},
	    {c_headers, "both VHDX headers are damaged"},
	    {c_version, "version 2"},
	    {c_log_unaligned, "not aligned"},
	    {c_log_past_eof, "past the end"},
	    {c_region_sig, "bad signature or checksum"},
	    {c_bat_past_eof, "past the end of the file"},
	    {c_bat_overlaps_meta, "overlap"},
	    {c_bat_in_log, "overlaps the log"},
	    {c_unknown_region, "does not know"},
	    {c_meta_sig, "metadata table has a bad signature"},
	    {c_meta_item_outside, "outside the metadata region"},
	    {c_block_size, "block size"},
	    {c_logical, "logical sector size"},
	    {c_size_zero, "virtual disk size"},
	    {c_size_huge, "virtual disk size"},
	    {c_bat_too_small, "too small"},
	    {c_bat_entry_header, "points into the header section"},
	    {c_bat_entry_state, "invalid state"},
	    {c_bat_entry_far, "far past the end"},
	    {c_truncated, "truncated"},
	    {c_parent_flag, "without a parent locator"},
	    {c_log_version, "log version 1"},
	    {c_meta_unknown_required, "does not know"},
	    {c_meta_twice, "twice"},
	};
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		const char *p = tmp("bad.vhdx");
		create(p, 8 * MiB, (struct copts){.block = 1 * MiB});
		/* Sound before the damage. */
		struct block_dev *bd = open_img(p, BLOCK_RDONLY);
		block_close(bd);
		cases[i].fn(p);
		open_fails(p, 0, cases[i].want);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_log_replay),
	    cmocka_unit_test(test_qemu_log),
	    cmocka_unit_test(test_hostile),
	    cmocka_unit_test(test_second_copies),
	};
	return cmocka_run_group_tests(tests, setup_dir, teardown_dir);
}
