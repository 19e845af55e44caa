/* The IDE function's saved state with a DVD drive and with on_error=pause:
 * an ATAPI PIO read goes on after a load; another disc (or none) in the
 * drive when the state is loaded is a media change the guest sees (a unit
 * attention, and the command under way ends); a write held for a full host
 * file system is retried after the load, PIO and DMA alike, and a paused
 * device retries nothing. */
#include "devices/ide/ide.h"
#include "tests/devices/ide_state_test.h"

#include <errno.h>
#include <sys/mount.h>

#define ISO_SECTORS 256u
#define TABLE	    0x10000u
#define BUF	    0x100000u
#define DVD_IRQ	    15

struct fx {
	char iso[64], iso2[64];
};

static int setup(void **state)
{
	struct fx *f = calloc(1, sizeof(*f));
	make_image(f->iso, sizeof(f->iso), ISO_SECTORS * 2048ull, 11);
	make_image(f->iso2, sizeof(f->iso2), ISO_SECTORS * 2048ull, 12);
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fx *f = *state;
	unlink(f->iso);
	unlink(f->iso2);
	free(f);
	return 0;
}

static struct harness *dvd_machine(const char *iso, char *args, size_t len)
{
	snprintf(args, len, "drive2=dvd:%s", iso ? iso : "");
	struct harness *h = ide_machine(args);
	houtb(h, SEC_CTL, CTL_OBS);
	return h;
}

/* A packet command with no data: the status and error at its end. */
static uint8_t no_data(struct harness *h, uint8_t op, uint8_t *error)
{
	uint8_t cdb[12] = {op};
	struct packet_result r = atapi_pio(h, SEC, SEC_CTL, DVD_IRQ, 0, cdb, 0, NULL, 0);
	*error = r.error;
	return r.status;
}

static void request_sense(struct harness *h, uint8_t *key, uint8_t *asc)
{
	uint8_t cdb[12] = {0x03, 0, 0, 0, 18}, sense[18];
	struct packet_result r =
	    atapi_pio(h, SEC, SEC_CTL, DVD_IRQ, 0, cdb, 0xfffe, sense, sizeof(sense));
	assert_int_equal(r.status & S_ERR, 0);
	*key = sense[2] & 0x0f;
	*asc = sense[12];
}

/* Saved with f->iso in the drive, loaded with `now` (NULL: empty):
 * TEST UNIT READY then tells whether the guest sees a change. */
static void media_case(struct fx *f, const char *now, bool changed)
{
	char args[128];
	struct harness *h = dvd_machine(f->iso, args, sizeof(args));
	uint8_t err;
	assert_int_equal(no_data(h, 0x00, &err) & S_ERR, 0);
	struct saved s;
	save_and_free(h, &s);
	snprintf(args, sizeof(args), "drive2=dvd:%s", now ? now : "");
	h = restore(args, &s);
	houtb(h, SEC_CTL, CTL_OBS);
	uint8_t st = no_data(h, 0x00, &err);
	if (!changed) {
		assert_int_equal(st & S_ERR, 0);
	} else {
		assert_int_equal(st & S_ERR, S_ERR);
		assert_int_equal(err >> 4, 0x6); /* UNIT ATTENTION */
		uint8_t key, asc;
		request_sense(h, &key, &asc);
		assert_int_equal(key, 0x6);
		assert_int_equal(asc, 0x28); /* not ready to ready: medium may have changed */
		st = no_data(h, 0x00, &err);
		if (now) {
			assert_int_equal(st & S_ERR, 0);
		} else {
			assert_int_equal(st & S_ERR, S_ERR);
			assert_int_equal(err >> 4, 0x2); /* NOT READY: no medium */
		}
	}
	saved_free(&s);
	ide_machine_free(h);
}

static void test_media_compared(void **state)
{
	struct fx *f = *state;
	media_case(f, f->iso, false);
	media_case(f, f->iso2, true);
	media_case(f, NULL, true);
}

/* READ(10) of 4 sectors in 2048-byte DRQ blocks, saved within the second
 * block; loaded with `now` in the drive. */
static struct harness *read_saved_mid_block(struct fx *f, const char *now, uint8_t *data,
					    struct saved *s)
{
	char args[128];
	struct harness *h = dvd_machine(f->iso, args, sizeof(args));
	houtb(h, SEC + R_DEV, 0xa0);
	houtb(h, SEC + R_FEAT, 0);
	houtb(h, SEC + R_LBAM, 0x00);
	houtb(h, SEC + R_LBAH, 0x08); /* byte count limit 2048 */
	houtb(h, SEC + R_CMD, 0xa0);
	assert_int_equal(wait_not_busy(h, SEC_CTL) & (S_DRQ | S_ERR), S_DRQ);
	uint8_t cdb[12] = {0x28, 0, 0, 0, 0, 3, 0, 0, 4};
	pio_out(h, SEC, cdb, sizeof(cdb));
	assert_int_equal(wait_not_busy(h, SEC_CTL) & (S_DRQ | S_ERR), S_DRQ);
	hinb(h, SEC + R_STATUS);
	pio_in(h, SEC, data, 2048);
	assert_int_equal(wait_not_busy(h, SEC_CTL) & (S_DRQ | S_ERR), S_DRQ);
	hinb(h, SEC + R_STATUS);
	pio_in(h, SEC, data + 2048, 1000);
	save_and_free(h, s);
	snprintf(args, sizeof(args), "drive2=dvd:%s", now);
	h = restore(args, s);
	houtb(h, SEC_CTL, CTL_OBS);
	return h;
}

static void test_atapi_pio_read_resumes(void **state)
{
	struct fx *f = *state;
	uint8_t data[4 * 2048];
	struct saved s;
	struct harness *h = read_saved_mid_block(f, f->iso, data, &s);
	assert_false(h->irq_level[DVD_IRQ]);
	assert_int_equal(hinb(h, SEC_CTL) & (S_BSY | S_DRQ), S_DRQ);
	assert_int_equal(hinb(h, SEC + R_LBAM) | hinb(h, SEC + R_LBAH) << 8, 2048);
	pio_in(h, SEC, data + 3048, 2048 - 1000);
	for (unsigned i = 2; i < 4; i++) {
		assert_int_equal(wait_not_busy(h, SEC_CTL) & (S_DRQ | S_ERR), S_DRQ);
		assert_true(h->irq_level[DVD_IRQ]);
		hinb(h, SEC + R_STATUS);
		pio_in(h, SEC, data + i * 2048, 2048);
	}
	assert_int_equal(wait_not_busy(h, SEC_CTL) & (S_DRQ | S_ERR), 0);
	assert_true(h->irq_level[DVD_IRQ]);
	assert_int_equal(hinb(h, SEC + R_NSECT) & 3, 3); /* I/O and C/D: the end */
	check_pattern(data, sizeof(data), 3 * 2048, 11);
	saved_free(&s);
	ide_machine_free(h);
}

/* The disc changed under the read: the command ends with CHECK CONDITION
 * and an interrupt, the sense says UNIT ATTENTION. */
static void test_atapi_read_ends_on_change(void **state)
{
	struct fx *f = *state;
	uint8_t data[4 * 2048];
	struct saved s;
	struct harness *h = read_saved_mid_block(f, f->iso2, data, &s);
	assert_true(h->irq_level[DVD_IRQ]);
	uint8_t st = hinb(h, SEC + R_STATUS);
	assert_int_equal(st & (S_BSY | S_DRQ | S_ERR), S_ERR);
	assert_int_equal(hinb(h, SEC + R_ERROR) >> 4, 0x6);
	uint8_t key, asc;
	request_sense(h, &key, &asc);
	assert_int_equal(key, 0x6);
	assert_int_equal(asc, 0x28);
	saved_free(&s);
	ide_machine_free(h);
}

/* --- on_error=pause ----------------------------------------------------------------- */

struct tmpfs {
	char dir[64], disk[96], filler[96];
	bool mounted;
};

/* A 256 KiB tmpfs with a sparse 4 MiB raw image; false where none can be
 * mounted (not root). */
static bool tmpfs_up(struct tmpfs *t)
{
	snprintf(t->dir, sizeof(t->dir), "/tmp/osio-idestate-XXXXXX");
	if (!mkdtemp(t->dir))
		return false;
	if (mount("tmpfs", t->dir, "tmpfs", 0, "size=256k") != 0) {
		rmdir(t->dir);
		return false;
	}
	t->mounted = true;
	snprintf(t->disk, sizeof(t->disk), "%s/disk.img", t->dir);
	snprintf(t->filler, sizeof(t->filler), "%s/filler", t->dir);
	int fd = open(t->disk, O_RDWR | O_CREAT | O_TRUNC, 0600);
	assert_true(fd >= 0);
	assert_int_equal(ftruncate(fd, 4 << 20), 0);
	close(fd);
	/* Fill it up. */
	static const uint8_t block[4096];
	fd = open(t->filler, O_WRONLY | O_CREAT | O_TRUNC, 0600);
	assert_true(fd >= 0);
	while (write(fd, block, sizeof(block)) == (ssize_t)sizeof(block))
		;
	close(fd);
	return true;
}

static void tmpfs_down(struct tmpfs *t)
{
	unlink(t->filler);
	unlink(t->disk);
	umount(t->dir);
	rmdir(t->dir);
}

static void pattern(uint8_t *p, size_t len, uint64_t off, uint8_t seed)
{
	for (size_t i = 0; i < len; i++)
		p[i] = img_byte(off + i, seed);
}

static bool busy_cleared(void *opaque)
{
	return !(hinb(opaque, PRI_CTL) & S_BSY);
}

/* WRITE SECTORS of 4: the first sector held for the full file system;
 * saved; room made; loaded: the retry writes it, the rest follows. */
static void test_held_pio_write(void **state)
{
	struct tmpfs t;
	if (!tmpfs_up(&t))
		skip();
	char args[160];
	snprintf(args, sizeof(args), "drive0=disk:%s,on_error0=pause", t.disk);
	struct harness *h = ide_machine(args);
	houtb(h, PRI_CTL, CTL_OBS);
	uint8_t sec[512];
	ata_command(h, PRI, 0, 0x30, 0, 4, 100, false);
	assert_int_equal(wait_not_busy(h, PRI_CTL) & (S_DRQ | S_ERR), S_DRQ);
	pattern(sec, sizeof(sec), 100 * 512, 6);
	pio_out(h, PRI, sec, sizeof(sec));
	harness_run(h, 200);
	assert_true(hinb(h, PRI_CTL) & S_BSY);
	struct saved s;
	save_and_free(h, &s);
	assert_int_equal(unlink(t.filler), 0);
	h = restore(args, &s);
	assert_true(hinb(h, PRI_CTL) & S_BSY);
	assert_true(harness_run_until(h, 3000, busy_cleared, h));
	for (unsigned i = 1; i < 4; i++) {
		assert_int_equal(wait_not_busy(h, PRI_CTL) & (S_DRQ | S_ERR), S_DRQ);
		assert_true(h->irq_level[14]);
		hinb(h, PRI + R_STATUS);
		pattern(sec, sizeof(sec), (100 + i) * 512, 6);
		pio_out(h, PRI, sec, sizeof(sec));
	}
	assert_int_equal(wait_not_busy(h, PRI_CTL) & (S_DRQ | S_ERR), 0);
	ide_machine_free(h);
	uint8_t back[4 * 512];
	file_read(t.disk, back, sizeof(back), 100 * 512);
	check_pattern(back, sizeof(back), 100 * 512, 6);
	saved_free(&s);
	tmpfs_down(&t);
}

/* WRITE DMA of 64 sectors held; a paused device does not retry it even
 * with room; saved and loaded, the retry maps the PRD table again and the
 * command completes with the bus master's interrupt. */
static void test_held_dma_write(void **state)
{
	struct tmpfs t;
	if (!tmpfs_up(&t))
		skip();
	char args[160];
	snprintf(args, sizeof(args), "drive0=disk:%s,on_error0=pause", t.disk);
	struct harness *h = ide_machine(args);
	houtb(h, PRI_CTL, CTL_OBS);
	prd_set(h, TABLE, 0, BUF, 32 * 512, false);
	prd_set(h, TABLE, 1, BUF + 0x20000, 32 * 512, true);
	pattern(hram(h, BUF, 32 * 512), 32 * 512, 300 * 512, 7);
	pattern(hram(h, BUF + 0x20000, 32 * 512), 32 * 512, 332 * 512, 7);
	bm_setup(h, BM_BASE, TABLE, false);
	ata_command(h, PRI, 0, 0xca, 0, 64, 300, false);
	bm_start(h, BM_BASE);
	harness_run(h, 200);
	assert_true(hinb(h, PRI_CTL) & S_BSY);

	void *ide = machine_device(&h->m, "ide");
	const struct device_model *dm = ide_model();
	dm->pause(ide, true);
	assert_int_equal(unlink(t.filler), 0);
	ide_retry(ide);
	harness_run(h, 1500);
	assert_true(hinb(h, PRI_CTL) & S_BSY);
	assert_int_equal(hinb(h, BM_BASE + BMI_STATUS) & (BM_INT | BM_ACTIVE), BM_ACTIVE);
	dm->pause(ide, false);

	struct saved s;
	save_and_free(h, &s);
	h = restore(args, &s);
	assert_true(hinb(h, PRI_CTL) & S_BSY);
	uint8_t bst = wait_bm_int(h, BM_BASE);
	assert_int_equal(bst & (BM_INT | BM_ACTIVE | BM_ERROR), BM_INT);
	assert_true(h->irq_level[14]);
	bm_stop(h, BM_BASE);
	assert_int_equal(hinb(h, PRI + R_STATUS) & (S_BSY | S_DRQ | S_ERR), 0);
	ide_machine_free(h);
	uint8_t *back = malloc(64 * 512);
	file_read(t.disk, back, 64 * 512, 300 * 512);
	check_pattern(back, 64 * 512, 300 * 512, 7);
	free(back);
	saved_free(&s);
	tmpfs_down(&t);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test_setup_teardown(test_media_compared, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_atapi_pio_read_resumes, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_atapi_read_ends_on_change, setup, teardown),
	    cmocka_unit_test(test_held_pio_write),
	    cmocka_unit_test(test_held_dma_write),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
