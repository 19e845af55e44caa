/* on_error=pause on IDE disks: a host file system that fills up under PIO and DMA writes (a raw
 * image on a 256 KiB tmpfs). report: the guest gets ERR with ABRT as before; pause: the drive
 * stays BSY, the hook is called once, and after room is made the retry completes the command
 * with the data in the image; SRST and a machine reset drop a held command. Skipped where tmpfs
 * cannot be mounted (not root). */
#include "devices/ide/ide.h"
#include "tests/devices/test_ide.h"

#include <errno.h>
#include <sys/mount.h>
#include <sys/stat.h>

#define DISK_SIZE (4u << 20)
#define TABLE	  0x10000u
#define BUF	  0x100000u
#define ABRT	  0x04

struct hook_calls {
	unsigned n;
	int err;
	char id[32];
	char path[128];
};

struct fx {
	struct harness *h;
	char dir[64], disk[96], filler[96];
	bool mounted;
	struct hook_calls calls;
};

static void error_hook(void *opaque, const char *id, const char *path, int err)
{
	struct hook_calls *c = opaque;
	snprintf(c->id, sizeof(c->id), "%s", id);
	snprintf(c->path, sizeof(c->path), "%s", path);
	c->err = err;
	__atomic_add_fetch(&c->n, 1, __ATOMIC_SEQ_CST);
}

static unsigned hook_count(struct fx *f)
{
	return __atomic_load_n(&f->calls.n, __ATOMIC_SEQ_CST);
}

/* A 256 KiB tmpfs holding a sparse raw image of DISK_SIZE, and the machine with it as drive 0
 * (extra: its on_error0 argument, or NULL). false: no tmpfs here. */
static bool start(struct fx *f, const char *extra)
{
	snprintf(f->dir, sizeof(f->dir), "/tmp/osio-idepause-XXXXXX");
	if (!mkdtemp(f->dir)) {
		f->dir[0] = 0;
		return false;
	}
	if (mount("tmpfs", f->dir, "tmpfs", 0, "size=256k") != 0)
		return false;
	f->mounted = true;
	snprintf(f->disk, sizeof(f->disk), "%s/disk.img", f->dir);
	snprintf(f->filler, sizeof(f->filler), "%s/filler", f->dir);
	int fd = open(f->disk, O_RDWR | O_CREAT | O_TRUNC, 0600);
	assert_true(fd >= 0);
	assert_int_equal(ftruncate(fd, DISK_SIZE), 0);
	close(fd);
	char args[256];
	snprintf(args, sizeof(args), "drive0=disk:%s%s%s", f->disk, extra ? "," : "",
		 extra ? extra : "");
	f->h = ide_machine(args);
	houtb(f->h, PRI_CTL, CTL_OBS);
	ide_set_error_hook(machine_device(&f->h->m, "ide"), error_hook, &f->calls);
	return true;
}

static int setup(void **state)
{
	*state = calloc(1, sizeof(struct fx));
	return *state ? 0 : -1;
}

static int teardown(void **state)
{
	struct fx *f = *state;
	if (f->h)
		ide_machine_free(f->h);
	if (f->dir[0]) {
		unlink(f->filler);
		unlink(f->disk);
		if (f->mounted)
			umount(f->dir);
		rmdir(f->dir);
	}
	free(f);
	return 0;
}

static void fill_fs(struct fx *f)
{
	static const uint8_t block[4096];
	int fd = open(f->filler, O_WRONLY | O_CREAT | O_TRUNC, 0600);
	assert_true(fd >= 0);
	while (write(fd, block, sizeof(block)) == (ssize_t)sizeof(block))
		;
	close(fd);
}

static void free_fs(struct fx *f)
{
	assert_int_equal(unlink(f->filler), 0);
}

static void pattern(uint8_t *p, size_t len, uint64_t off, uint8_t seed)
{
	for (size_t i = 0; i < len; i++)
		p[i] = img_byte(off + i, seed);
}

/* Whether [off, off + len) of the image reads back as zeroes. */
static bool image_zero(struct fx *f, uint64_t off, size_t len)
{
	uint8_t *buf = malloc(len);
	file_read(f->disk, buf, len, off);
	bool zero = true;
	for (size_t i = 0; i < len; i++)
		zero &= buf[i] == 0;
	free(buf);
	return zero;
}

static void check_image(struct fx *f, uint64_t off, size_t len, uint8_t seed)
{
	uint8_t *buf = malloc(len);
	file_read(f->disk, buf, len, off);
	check_pattern(buf, len, off, seed);
	free(buf);
}

/* WRITE SECTORS: the first sector's data goes out (the device then writes it). */
static void pio_write_begin(struct harness *h, uint64_t lba, uint32_t n, uint8_t seed)
{
	uint8_t sec[512];
	ata_command(h, PRI, 0, 0x30, 0, n, lba, false);
	assert_int_equal(wait_not_busy(h, PRI_CTL) & (S_DRQ | S_ERR), S_DRQ);
	pattern(sec, sizeof(sec), lba * 512, seed);
	pio_out(h, PRI, sec, sizeof(sec));
}

/* The rest of a WRITE SECTORS after sector `from`, interrupt by interrupt; the final status. */
static uint8_t pio_write_rest(struct harness *h, uint64_t lba, uint32_t from, uint32_t n,
			      uint8_t seed)
{
	uint8_t sec[512];
	for (uint32_t i = from; i < n; i++) {
		uint8_t st = wait_not_busy(h, PRI_CTL);
		if ((st & (S_DRQ | S_ERR)) != S_DRQ)
			return st;
		assert_true(h->irq_level[14]);
		hinb(h, PRI + R_STATUS);
		pattern(sec, sizeof(sec), (lba + i) * 512, seed);
		pio_out(h, PRI, sec, sizeof(sec));
	}
	wait_not_busy(h, PRI_CTL);
	assert_true(h->irq_level[14]);
	return hinb(h, PRI + R_STATUS);
}

/* WRITE DMA of n sectors from guest RAM at BUF (the pattern put there), as Linux starts it. */
static void dma_write_begin(struct harness *h, uint64_t lba, uint32_t n, uint8_t seed)
{
	prd_set(h, TABLE, 0, BUF, n * 512, true);
	pattern(hram(h, BUF, n * 512), n * 512, lba * 512, seed);
	bm_setup(h, BM_BASE, TABLE, false);
	ata_command(h, PRI, 0, 0xca, 0, n, lba, false);
	bm_start(h, BM_BASE);
}

/* Its end, on the interrupt: bus master stopped, the device status read. */
static uint8_t dma_end(struct harness *h, uint8_t *bm_status)
{
	*bm_status = wait_bm_int(h, BM_BASE);
	bm_stop(h, BM_BASE);
	uint8_t st = hinb(h, PRI + R_STATUS);
	houtb(h, BM_BASE + BMI_STATUS, BM_INT | BM_ERROR);
	return st;
}

static uint8_t alt_status(struct harness *h)
{
	return hinb(h, PRI_CTL);
}

/* report (the default): the guest sees ERR and ABRT, and the same write works with room. */
static void test_report(void **state)
{
	struct fx *f = *state;
	if (!start(f, "on_error0=report"))
		skip();
	struct harness *h = f->h;
	fill_fs(f);
	pio_write_begin(h, 100, 4, 1);
	uint8_t st = wait_not_busy(h, PRI_CTL);
	assert_int_equal(st & (S_BSY | S_DRQ | S_ERR), S_ERR);
	assert_int_equal(hinb(h, PRI + R_ERROR), ABRT);
	assert_int_equal(hinb(h, PRI + R_LBAL), 100); /* the sector that failed */
	assert_true(h->irq_level[14]);
	hinb(h, PRI + R_STATUS);

	uint8_t bst;
	dma_write_begin(h, 200, 16, 2);
	st = dma_end(h, &bst);
	assert_int_equal(bst & BM_INT, BM_INT);
	assert_int_equal(st & (S_BSY | S_DRQ | S_ERR), S_ERR);
	assert_int_equal(hinb(h, PRI + R_ERROR), ABRT);
	harness_run(h, 100);
	assert_int_equal(hook_count(f), 0);

	free_fs(f);
	pio_write_begin(h, 100, 4, 1);
	st = pio_write_rest(h, 100, 1, 4, 1);
	assert_int_equal(st & (S_BSY | S_DRQ | S_ERR), 0);
	check_image(f, 100 * 512, 4 * 512, 1);
	dma_write_begin(h, 200, 16, 2);
	st = dma_end(h, &bst);
	assert_int_equal(st & (S_BSY | S_DRQ | S_ERR), 0);
	check_image(f, 200 * 512, 16 * 512, 2);
}

/* pause, PIO: BSY held (a new command is ignored), the hook once even though the timer retries
 * meanwhile, again when an explicit retry fails; with room, ide_retry goes on with the command. */
static void test_pause_pio(void **state)
{
	struct fx *f = *state;
	if (!start(f, "on_error0=pause"))
		skip();
	struct harness *h = f->h;
	fill_fs(f);
	pio_write_begin(h, 100, 4, 3);
	harness_run(h, 300);
	assert_int_equal(hook_count(f), 1);
	assert_int_equal(f->calls.err, -ENOSPC);
	assert_string_equal(f->calls.id, "ide0:0");
	assert_string_equal(f->calls.path, f->disk);
	assert_true(alt_status(h) & S_BSY);
	assert_false(h->irq_level[14]);
	houtb(h, PRI + R_CMD, 0xec); /* IDENTIFY: ignored while busy */
	/* The timer's retries fail quietly. */
	harness_run(h, 1300);
	assert_int_equal(hook_count(f), 1);
	assert_true(alt_status(h) & S_BSY);
	/* A retry asked for (the VM resumed) that fails again tells the hook again. */
	ide_retry(machine_device(&h->m, "ide"));
	harness_run(h, 300);
	assert_int_equal(hook_count(f), 2);
	assert_true(alt_status(h) & S_BSY);

	free_fs(f);
	ide_retry(machine_device(&h->m, "ide"));
	uint8_t st = pio_write_rest(h, 100, 1, 4, 3);
	assert_int_equal(st & (S_BSY | S_DRQ | S_ERR), 0);
	assert_int_equal(hinb(h, PRI + R_LBAL), 103);
	check_image(f, 100 * 512, 4 * 512, 3);
	assert_int_equal(hook_count(f), 2);
}

/* pause, DMA: the bus master stays active without an interrupt; the retry every second
 * finishes the command by itself once there is room. */
static void test_pause_dma(void **state)
{
	struct fx *f = *state;
	if (!start(f, "on_error0=pause"))
		skip();
	struct harness *h = f->h;
	fill_fs(f);
	dma_write_begin(h, 300, 64, 4);
	harness_run(h, 300);
	assert_int_equal(hook_count(f), 1);
	assert_int_equal(f->calls.err, -ENOSPC);
	assert_true(alt_status(h) & S_BSY);
	assert_int_equal(hinb(h, BM_BASE + BMI_STATUS) & (BM_INT | BM_ACTIVE | BM_ERROR),
			 BM_ACTIVE);
	assert_false(h->irq_level[14]);

	free_fs(f);
	uint8_t bst;
	uint8_t st = dma_end(h, &bst);
	assert_int_equal(bst & (BM_INT | BM_ACTIVE | BM_ERROR), BM_INT);
	assert_int_equal(st & (S_BSY | S_DRQ | S_ERR), 0);
	check_image(f, 300 * 512, 64 * 512, 4);
	assert_int_equal(hook_count(f), 1);
}

/* SRST while a PIO write is held: the drive resets as usual, the held sector is never written
 * (not on a retry either), and the drive takes new commands. */
static void test_srst_drops(void **state)
{
	struct fx *f = *state;
	if (!start(f, "on_error0=pause"))
		skip();
	struct harness *h = f->h;
	fill_fs(f);
	pio_write_begin(h, 100, 4, 5);
	harness_run(h, 300);
	assert_int_equal(hook_count(f), 1);
	assert_true(alt_status(h) & S_BSY);

	houtb(h, PRI_CTL, CTL_SRST | CTL_OBS);
	houtb(h, PRI_CTL, CTL_OBS);
	uint8_t st = wait_not_busy(h, PRI_CTL);
	assert_int_equal(st & (S_DRDY | S_DRQ | S_ERR), S_DRDY);
	assert_int_equal(hinb(h, PRI + R_ERROR), 0x01); /* diagnostic code */
	assert_int_equal(hinb(h, PRI + R_NSECT), 1);	/* signature */

	free_fs(f);
	ide_retry(machine_device(&h->m, "ide"));
	harness_run(h, 1300);
	assert_true(image_zero(f, 100 * 512, 4 * 512));
	assert_int_equal(hook_count(f), 1);
	pio_write_begin(h, 110, 2, 6);
	st = pio_write_rest(h, 110, 1, 2, 6);
	assert_int_equal(st & (S_BSY | S_DRQ | S_ERR), 0);
	check_image(f, 110 * 512, 2 * 512, 6);
}

/* A machine reset (PCI reset) while a DMA write is held: dropped, nothing written later, and
 * the reset function works again once set up. */
static void test_reset_drops(void **state)
{
	struct fx *f = *state;
	if (!start(f, "on_error0=pause"))
		skip();
	struct harness *h = f->h;
	fill_fs(f);
	dma_write_begin(h, 300, 32, 7);
	harness_run(h, 300);
	assert_int_equal(hook_count(f), 1);
	assert_true(alt_status(h) & S_BSY);

	machine_reset_devices(&h->m);
	bios_pci_setup(h);
	houtb(h, PRI_CTL, CTL_OBS);
	assert_int_equal(wait_not_busy(h, PRI_CTL) & (S_DRDY | S_ERR), S_DRDY);
	assert_int_equal(hinb(h, BM_BASE + BMI_STATUS) & (BM_INT | BM_ACTIVE), 0);

	free_fs(f);
	ide_retry(machine_device(&h->m, "ide"));
	harness_run(h, 1300);
	assert_true(image_zero(f, 300 * 512, 32 * 512));
	uint8_t bst;
	dma_write_begin(h, 400, 8, 8);
	uint8_t st = dma_end(h, &bst);
	assert_int_equal(st & (S_BSY | S_DRQ | S_ERR), 0);
	check_image(f, 400 * 512, 8 * 512, 8);
	assert_int_equal(hook_count(f), 1);
}

/* on_errorN takes report or pause only; a DVD drive takes it and goes on reporting. */
static void test_bad_value(void **state)
{
	char disk[64];
	make_image(disk, sizeof(disk), 64 * 512, 0);
	struct harness *h = calloc(1, sizeof(*h));
	harness_init(h, RAM_SIZE);
	harness_add(h, "i440fx", "i440fx", NULL);
	harness_add(h, "piix3", "piix3", NULL);
	char args[160];
	snprintf(args, sizeof(args), "drive0=disk:%s,on_error0=stop", disk);
	struct devargs a = {0};
	assert_int_equal(devargs_parse(&a, args), 0);
	assert_int_equal(machine_add_device(&h->m, "piix-ide", "ide", &a), -EINVAL);
	snprintf(args, sizeof(args), "drive0=disk:%s,on_error0=pause,drive2=dvd:,on_error2=pause",
		 disk);
	harness_add(h, "piix-ide", "ide", args);
	ide_machine_free(h);
	unlink(disk);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test_setup_teardown(test_report, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_pause_pio, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_pause_dma, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_srst_drops, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_reset_drops, setup, teardown),
	    cmocka_unit_test(test_bad_value),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
