/* The IDE function's saved state with ATA disks: a multi-sector PIO read
 * saved in the middle of a sector (and with an interrupt pending between
 * sectors, and across the device's read-ahead chunk), a PIO write saved
 * with half a sector given, a DMA read in flight when the device is paused
 * and one waiting for the bus master; each goes on in a new machine with the
 * right data. Damaged sections are refused with a sentence. */
#include "tests/devices/ide_state_test.h"

#include <errno.h>

#define DISK_SECTORS 65536u /* 32 MiB */
#define SEED	     5
#define TABLE	     0x10000u
#define BUF	     0x100000u
#define DMA_BIG	     (16u << 20)

struct fx {
	char disk[64], other[64];
	char args[160];
};

static int setup(void **state)
{
	struct fx *f = calloc(1, sizeof(*f));
	make_image(f->disk, sizeof(f->disk), DISK_SECTORS * 512ull, SEED);
	make_image(f->other, sizeof(f->other), DISK_SECTORS * 512ull / 2, 9);
	snprintf(f->args, sizeof(f->args), "drive0=disk:%s", f->disk);
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fx *f = *state;
	unlink(f->disk);
	unlink(f->other);
	free(f);
	return 0;
}

static struct harness *machine(struct fx *f)
{
	struct harness *h = ide_machine(f->args);
	houtb(h, PRI_CTL, CTL_OBS);
	return h;
}

/* Reads `bytes` of the data phase of a PIO read, acknowledging the
 * interrupt at the start of each sector as libata's HSM does; *at counts
 * the bytes read so far (sectors from the command's first). */
static void pio_read_some(struct harness *h, uint8_t *data, size_t *at, size_t bytes)
{
	size_t end = *at + bytes;
	while (*at < end) {
		if (*at % 512 == 0) {
			uint8_t st = wait_not_busy(h, PRI_CTL);
			assert_int_equal(st & (S_DRQ | S_ERR), S_DRQ);
			assert_true(h->irq_level[14]);
			hinb(h, PRI + R_STATUS);
		}
		size_t n = 512 - *at % 512;
		if (n > end - *at)
			n = end - *at;
		pio_in(h, PRI, data + *at, n);
		*at += n;
	}
}

/* READ SECTORS of n sectors from lba, saved after `first` bytes, loaded
 * into a new machine, read to the end there. */
static void pio_read_resumes(struct fx *f, uint8_t cmd, uint64_t lba, uint32_t n, size_t first)
{
	struct harness *h = machine(f);
	size_t total = (size_t)n * 512, at = 0;
	uint8_t *data = malloc(total);
	ata_command(h, PRI, 0, cmd, 0, n, lba, cmd == 0x24);
	pio_read_some(h, data, &at, first);
	bool irq = h->irq_level[14];
	struct saved s;
	save_and_free(h, &s);
	h = restore(f->args, &s);
	/* The interrupt line is where it was: pending between sectors, not
	 * within one. */
	assert_int_equal(h->irq_level[14], irq);
	pio_read_some(h, data, &at, total - first);
	check_pattern(data, total, lba * 512, SEED);
	/* The command is over: no data, no error, and the address of the last
	 * sector in the task file. */
	uint8_t st = hinb(h, PRI_CTL);
	assert_int_equal(st & (S_BSY | S_DRQ | S_ERR), 0);
	uint64_t last = lba + n - 1;
	assert_int_equal(hinb(h, PRI + R_LBAL), (uint8_t)last);
	assert_int_equal(hinb(h, PRI + R_LBAM), (uint8_t)(last >> 8));
	free(data);
	saved_free(&s);
	ide_machine_free(h);
}

static void test_pio_read_mid_sector(void **state)
{
	pio_read_resumes(*state, 0x20, 100, 8, 512 + 300);
}

static void test_pio_read_between_sectors(void **state)
{
	/* The second sector offered, its interrupt not yet taken. */
	struct fx *f = *state;
	struct harness *h = machine(f);
	uint8_t data[1024];
	size_t at = 0;
	ata_command(h, PRI, 0, 0x20, 0, 2, 40, false);
	pio_read_some(h, data, &at, 512);
	wait_not_busy(h, PRI_CTL);
	assert_true(h->irq_level[14]);
	struct saved s;
	save_and_free(h, &s);
	h = restore(f->args, &s);
	assert_true(h->irq_level[14]);
	pio_read_some(h, data, &at, 512);
	check_pattern(data, sizeof(data), 40 * 512, SEED);
	saved_free(&s);
	ide_machine_free(h);
}

static void test_pio_read_across_chunk(void **state)
{
	/* 300 sectors: the device reads 256 ahead, then the rest after the
	 * load. */
	pio_read_resumes(*state, 0x24, 1000, 300, 255 * 512 + 100);
}

static void test_pio_write_mid_sector(void **state)
{
	struct fx *f = *state;
	struct harness *h = machine(f);
	uint8_t data[4 * 512];
	for (size_t i = 0; i < sizeof(data); i++)
		data[i] = img_byte(2000 * 512 + i, 0x42);
	ata_command(h, PRI, 0, 0x30, 0, 4, 2000, false);
	assert_int_equal(wait_not_busy(h, PRI_CTL) & (S_DRQ | S_ERR), S_DRQ);
	pio_out(h, PRI, data, 512);
	assert_int_equal(wait_not_busy(h, PRI_CTL) & (S_DRQ | S_ERR), S_DRQ);
	hinb(h, PRI + R_STATUS);
	pio_out(h, PRI, data + 512, 200); /* the second sector half given */
	struct saved s;
	save_and_free(h, &s);
	h = restore(f->args, &s);
	pio_out(h, PRI, data + 712, 312);
	for (unsigned i = 2; i < 4; i++) {
		assert_int_equal(wait_not_busy(h, PRI_CTL) & (S_DRQ | S_ERR), S_DRQ);
		assert_true(h->irq_level[14]);
		hinb(h, PRI + R_STATUS);
		pio_out(h, PRI, data + i * 512, 512);
	}
	assert_int_equal(wait_not_busy(h, PRI_CTL) & (S_DRQ | S_ERR), 0);
	assert_true(h->irq_level[14]);
	ide_machine_free(h);
	uint8_t back[sizeof(data)];
	file_read(f->disk, back, sizeof(back), 2000 * 512);
	check_pattern(back, sizeof(back), 2000 * 512, 0x42);
	saved_free(&s);
}

/* READ DMA EXT of 16 MiB into BUF, the bus master started: the request is
 * in flight (for milliseconds) when the device is paused; pause waits for
 * it, so the saved state has the command done and its interrupt pending. */
static void test_dma_read_in_flight(void **state)
{
	struct fx *f = *state;
	struct harness *h = machine(f);
	const uint32_t n = DMA_BIG / 512;
	for (unsigned i = 0; i < DMA_BIG / 0x10000; i++)
		prd_set(h, TABLE, i, BUF + i * 0x10000, 0, i == DMA_BIG / 0x10000 - 1);
	memset(hram(h, BUF, DMA_BIG), 0xee, DMA_BIG);
	bm_setup(h, BM_BASE, TABLE, true);
	ata_command(h, PRI, 0, 0x25, 0, n, 3000, true);
	bm_start(h, BM_BASE);
	struct saved s;
	save_and_free(h, &s);
	h = restore(f->args, &s);
	assert_true(h->irq_level[14]);
	uint8_t bst = hinb(h, BM_BASE + BMI_STATUS);
	assert_int_equal(bst & (BM_INT | BM_ERROR | BM_ACTIVE), BM_INT);
	bm_stop(h, BM_BASE);
	assert_int_equal(hinb(h, PRI + R_STATUS) & (S_BSY | S_DRQ | S_ERR), 0);
	assert_false(h->irq_level[14]);
	check_pattern(hram(h, BUF, DMA_BIG), DMA_BIG, 3000 * 512ull, SEED);
	saved_free(&s);
	ide_machine_free(h);
}

/* READ DMA issued, the bus master not started yet when saved: the new
 * machine's bus master runs it. */
static void test_dma_read_waiting(void **state)
{
	struct fx *f = *state;
	struct harness *h = machine(f);
	prd_set(h, TABLE, 0, BUF, 16 * 512, true);
	bm_setup(h, BM_BASE, TABLE, true);
	ata_command(h, PRI, 0, 0xc8, 0, 16, 77, false);
	assert_int_equal(hinb(h, PRI_CTL) & (S_BSY | S_DRQ), S_DRQ);
	struct saved s;
	save_and_free(h, &s);
	h = restore(f->args, &s);
	assert_false(h->irq_level[14]);
	assert_int_equal(hinb(h, PRI_CTL) & (S_BSY | S_DRQ), S_DRQ);
	bm_start(h, BM_BASE);
	uint8_t bst = wait_bm_int(h, BM_BASE);
	assert_int_equal(bst & (BM_ERROR | BM_ACTIVE), 0);
	bm_stop(h, BM_BASE);
	assert_int_equal(hinb(h, PRI + R_STATUS) & (S_BSY | S_DRQ | S_ERR), 0);
	check_pattern(hram(h, BUF, 16 * 512), 16 * 512, 77 * 512ull, SEED);
	saved_free(&s);
	ide_machine_free(h);
}

/* Settings a guest made survive: SET MULTIPLE, the CHS translation of
 * INITIALIZE DEVICE PARAMETERS, the write cache, nIEN. */
static void test_settings(void **state)
{
	struct fx *f = *state;
	struct harness *h = machine(f);
	ata_command(h, PRI, 0, 0xc6, 0, 4, 0, false); /* SET MULTIPLE 4 */
	assert_int_equal(wait_not_busy(h, PRI_CTL) & S_ERR, 0);
	houtb(h, PRI + R_DEV, 0xa0 | 7); /* 8 heads */
	houtb(h, PRI + R_NSECT, 32);
	houtb(h, PRI + R_CMD, 0x91);
	assert_int_equal(wait_not_busy(h, PRI_CTL) & S_ERR, 0);
	ata_command(h, PRI, 0, 0xef, 0x82, 0, 0, false); /* write cache off */
	assert_int_equal(wait_not_busy(h, PRI_CTL) & S_ERR, 0);
	hinb(h, PRI + R_STATUS);
	houtb(h, PRI_CTL, CTL_OBS | CTL_NIEN);
	struct saved s;
	save_and_free(h, &s);
	h = restore(f->args, &s);
	uint16_t id[256];
	/* nIEN is still set: IDENTIFY raises no interrupt. */
	assert_int_equal(identify(h, PRI, PRI_CTL, 0, 0xec, id) & S_ERR, 0);
	assert_false(h->irq_level[14]);
	assert_int_equal(id[59], 0x100 | 4);
	assert_int_equal(id[55], 8);
	assert_int_equal(id[56], 32);
	assert_int_equal(id[85] & (1 << 5), 0);
	saved_free(&s);
	ide_machine_free(h);
}

/* The PCI configuration comes back with what follows from it: a machine
 * whose firmware never set the function up decodes the legacy ports and
 * the bus master's BAR after the load as the saved one did. */
static void test_decoding_restored(void **state)
{
	struct fx *f = *state;
	struct harness *h = machine(f);
	ata_command(h, PRI, 0, 0x20, 0, 2, 7, false);
	assert_int_equal(wait_not_busy(h, PRI_CTL) & (S_DRQ | S_ERR), S_DRQ);
	houtl(h, BM_BASE + BMI_PRD, 0x12340);
	struct saved s;
	save_and_free(h, &s);
	h = calloc(1, sizeof(*h));
	harness_init(h, RAM_SIZE);
	harness_add(h, "i440fx", "i440fx", NULL);
	harness_add(h, "piix3", "piix3", NULL);
	harness_add(h, "piix-ide", "ide", f->args);
	assert_int_equal(hinb(h, PRI_CTL), 0xff); /* nothing decodes these yet */
	char err[256];
	assert_int_equal(load_saved(h, &s, err, sizeof(err)), 0);
	assert_int_equal(hinb(h, PRI_CTL) & (S_BSY | S_DRQ), S_DRQ);
	assert_int_equal(hinl(h, BM_BASE + BMI_PRD), 0x12340);
	uint8_t data[1024];
	pio_in(h, PRI, data, 512);
	assert_int_equal(wait_not_busy(h, PRI_CTL) & (S_DRQ | S_ERR), S_DRQ);
	pio_in(h, PRI, data + 512, 512);
	check_pattern(data, sizeof(data), 7 * 512, SEED);
	saved_free(&s);
	ide_machine_free(h);
}

/* --- damaged sections ------------------------------------------------------------ */

/* A machine in the middle of a PIO read, saved; damage() spoils it; the
 * load into a machine with drives `args` (NULL: the same) must fail with a
 * sentence holding want. */
static void refused(struct fx *f, void (*damage)(struct saved *s), const char *args,
		    const char *want)
{
	struct harness *h = machine(f);
	uint8_t data[600];
	size_t at = 0;
	ata_command(h, PRI, 0, 0x20, 0, 4, 10, false);
	pio_read_some(h, data, &at, sizeof(data));
	struct saved s;
	save_and_free(h, &s);
	if (damage)
		damage(&s);
	int r;
	char err[512];
	h = load_into(args ? args : f->args, &s, &r, err, sizeof(err));
	if (r != -EINVAL)
		fail_msg("loaded (%d) where it should fail saying \"%s\"", r, want);
	if (!strstr(err, want))
		fail_msg("the error is \"%s\"; it should say \"%s\"", err, want);
	assert_non_null(strstr(err, "section 'ide'"));
	saved_free(&s);
	ide_machine_free(h);
}

static void unknown_step(struct saved *s)
{
	uint32_t len;
	uint8_t *p = saved_field(s, "d0.pio.step", &len);
	p[len - 1] = 'X';
}

static void completion_as_pio_step(struct saved *s)
{
	uint32_t len;
	uint8_t *p = saved_field(s, "d0.pio.step", &len);
	assert_int_equal(len, strlen("ata.read_moved"));
	memcpy(p, "ata.write_done", len); /* an I/O completion, not a data phase's step */
}

static void pio_end_past_buffer(struct saved *s)
{
	uint32_t len;
	saved_field(s, "d0.pio.end", &len)[2] = 0x10; /* 1 MiB */
}

static void pio_pos_past_end(struct saved *s)
{
	uint32_t len;
	uint8_t *p = saved_field(s, "d0.pio.pos", &len);
	p[0] = 0x02;
	p[1] = 0x08; /* 2050, past the second sector's end at 1024 */
}

static void chunk_too_big(struct saved *s)
{
	uint32_t len;
	saved_field(s, "d0.chunk", &len)[1] = 0x02; /* 512 sectors: more than the buffer */
}

static void no_status(struct saved *s)
{
	uint32_t len;
	saved_field(s, "d0.status", &len)[-5] = 'X';
}

static void geometry_zero(struct saved *s)
{
	uint32_t len;
	saved_field(s, "d0.cur_spt", &len)[0] = 0;
}

static void bm_prd_low_bits(struct saved *s)
{
	uint32_t len;
	saved_field(s, "ch0.bm.prd", &len)[0] |= 1;
}

static void mult_not_power(struct saved *s)
{
	uint32_t len;
	saved_field(s, "d0.mult", &len)[0] = 3;
}

static void test_damaged(void **state)
{
	struct fx *f = *state;
	refused(f, unknown_step, NULL, "d0.pio.step");
	refused(f, completion_as_pio_step, NULL, "'ata.write_done', not a step");
	refused(f, pio_end_past_buffer, NULL, "'d0.pio.end'");
	refused(f, pio_pos_past_end, NULL, "d0.pio.pos");
	refused(f, chunk_too_big, NULL, "buffer");
	refused(f, no_status, NULL, "'d0.status' is missing");
	refused(f, geometry_zero, NULL, "geometry");
	refused(f, bm_prd_low_bits, NULL, "ch0");
	refused(f, mult_not_power, NULL, "d0.mult");
}

/* Other hardware than was saved: another disk size, a DVD drive where the
 * disk was, a disk more. */
static void test_other_drives(void **state)
{
	struct fx *f = *state;
	char args[256];
	snprintf(args, sizeof(args), "drive0=disk:%s", f->other);
	refused(f, NULL, args, "32768 sectors; it had 65536");
	snprintf(args, sizeof(args), "drive0=dvd:");
	refused(f, NULL, args, "had a disk when it was saved; it has a DVD drive now");
	snprintf(args, sizeof(args), "drive0=disk:%s,drive1=disk:%s", f->disk, f->other);
	refused(f, NULL, args, "had no drive when it was saved; it has a disk now");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test_setup_teardown(test_pio_read_mid_sector, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_pio_read_between_sectors, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_pio_read_across_chunk, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_pio_write_mid_sector, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_dma_read_in_flight, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_dma_read_waiting, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_settings, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_decoding_restored, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_damaged, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_other_drives, setup, teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
