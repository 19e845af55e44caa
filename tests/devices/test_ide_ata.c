/* PIIX3 IDE with ATA disks, driven the way SeaBIOS (src/hw/ata.c) and Linux
 * libata (ata_sff softreset, classify, IDENTIFY, SET FEATURES) do:
 * signatures and device selection, PIO reads and writes checked against the
 * image files, LBA28/LBA48/CHS addressing and their limits, READ/WRITE
 * MULTIPLE, the error protocol and interrupts. */
#include "tests/devices/test_ide.h"

#include <errno.h>
#include <sys/stat.h>

#define DISK_SECTORS 2048u /* 1 MiB */

struct fx {
	struct harness *h;
	char disk[64], disk2[64];
};

static int setup(void **state)
{
	struct fx *f = calloc(1, sizeof(*f));
	make_image(f->disk, sizeof(f->disk), DISK_SECTORS * 512ull, 0);
	make_image(f->disk2, sizeof(f->disk2), 512 * 1024, 0x40);
	char args[256];
	snprintf(args, sizeof(args), "drive0=disk:%s,drive2=disk:%s", f->disk, f->disk2);
	f->h = ide_machine(args);
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fx *f = *state;
	if (f->h)
		ide_machine_free(f->h);
	unlink(f->disk);
	unlink(f->disk2);
	free(f);
	return 0;
}

/* --- SeaBIOS --------------------------------------------------------------------- */

static void check_identify_device(const uint16_t *id, uint64_t sectors, bool slave_present)
{
	char model[41];
	for (int i = 0; i < 20; i++) {
		model[2 * i] = (char)(id[27 + i] >> 8);
		model[2 * i + 1] = (char)id[27 + i];
	}
	model[40] = 0;
	assert_memory_equal(model, "OSIO HARDDISK ", 14);
	assert_int_equal(id[0] & 0x8000, 0); /* ATA */
	assert_true(id[10] != 0x2020);	     /* a serial number */
	assert_int_equal(id[47], 0x8010);
	assert_int_equal(id[49] & 0x0300, 0x0300); /* LBA, DMA */
	assert_int_equal(id[53] & 7, 7);
	assert_int_equal(id[60] | (uint32_t)id[61] << 16,
			 sectors < 0x0fffffff ? sectors : 0x0fffffff);
	assert_int_equal((id[83] & 0xc000), 0x4000);
	assert_true(id[83] & (1 << 10));
	assert_true(id[86] & (1 << 10));
	assert_true(id[83] & (1 << 12) && id[86] & (1 << 12)); /* FLUSH CACHE */
	assert_true(id[83] & (1 << 13) && id[86] & (1 << 13)); /* FLUSH CACHE EXT */
	uint64_t lba48 =
	    id[100] | (uint64_t)id[101] << 16 | (uint64_t)id[102] << 32 | (uint64_t)id[103] << 48;
	assert_int_equal(lba48, sectors);
	assert_int_equal(id[63] & 7, 7);
	assert_int_equal(id[88] & 0x3f, 0x3f);
	/* SeaBIOS reads word 93 to learn whether device 1 exists. */
	assert_int_equal((id[93] & 0xdf61) == 0x4041, !slave_present);
	/* The integrity word: A5h and a checksum over all 512 bytes. */
	assert_int_equal(id[255] & 0xff, 0xa5);
	uint8_t sum = 0;
	for (int i = 0; i < 256; i++)
		sum = (uint8_t)(sum + (id[i] & 0xff) + (id[i] >> 8));
	assert_int_equal(sum, 0);
	/* Default geometry: 16 heads, 63 sectors, at most 16383 cylinders;
	 * fewer heads for tiny disks. */
	if (sectors >= 16 * 63) {
		assert_int_equal(id[3], 16);
		assert_int_equal(id[6], 63);
		assert_int_equal(id[1], sectors / (16 * 63) > 16383 ? 16383 : sectors / (16 * 63));
	} else {
		assert_true(id[1] * id[3] * id[6] <= sectors);
		assert_true(id[1] >= 1 && id[3] >= 1 && id[6] >= 1);
	}
}

/* src/hw/ata.c ata_detect and init_drive_*: register check, reset, IDENTIFY
 * PACKET DEVICE first (refused by a disk), then IDENTIFY DEVICE. */
static void test_seabios_detect(void **state)
{
	struct fx *f = *state;
	struct harness *h = f->h;
	assert_false(hinb(h, PRI + R_STATUS) & S_BSY);
	houtb(h, PRI + R_DEV, 0xa0);
	assert_int_equal(hinb(h, PRI + R_DEV), 0xa0);
	houtb(h, PRI + R_NSECT, 0x55);
	houtb(h, PRI + R_LBAL, 0xaa);
	assert_int_equal(hinb(h, PRI + R_NSECT), 0x55);
	assert_int_equal(hinb(h, PRI + R_LBAL), 0xaa);
	/* ata_reset: SRST pulse with nIEN. */
	houtb(h, PRI_CTL, 0x08 | CTL_NIEN | CTL_SRST);
	assert_int_equal(hinb(h, PRI_CTL) & S_BSY, S_BSY);
	houtb(h, PRI_CTL, 0x08 | CTL_NIEN);
	assert_int_equal(wait_not_busy(h, PRI_CTL) & (S_BSY | S_DRDY), S_DRDY);
	houtb(h, PRI + R_DEV, 0xa0);
	uint16_t id[256];
	uint8_t st = identify(h, PRI, PRI_CTL, 0, 0xa1, id);
	assert_int_equal(st & (S_ERR | S_DRQ), S_ERR);
	assert_int_equal(hinb(h, PRI + R_ERROR), 0x04);
	assert_int_not_equal(hinb(h, PRI + R_STATUS), 0);
	st = identify(h, PRI, PRI_CTL, 0, 0xec, id);
	assert_int_equal(st & (S_ERR | S_DRQ | S_BSY), S_DRQ);
	/* After the data: ready, no DRQ. */
	assert_int_equal(hinb(h, PRI_CTL) & (S_BSY | S_DRQ | S_DRDY), S_DRDY);
	check_identify_device(id, DISK_SECTORS, false);
	/* No interrupt while nIEN was set. */
	assert_int_equal(h->irq_raised[14], 0);
	/* The absent slave: the register check fails. */
	houtb(h, PRI + R_DEV, 0xb0);
	assert_int_equal(hinb(h, PRI + R_DEV), 0xb0);
	houtb(h, PRI + R_NSECT, 0x55);
	houtb(h, PRI + R_LBAL, 0xaa);
	assert_int_not_equal(hinb(h, PRI + R_NSECT), 0x55);
	assert_int_equal(hinb(h, PRI + R_STATUS), 0);
	/* Commands to it go nowhere. */
	houtb(h, PRI + R_CMD, 0xec);
	assert_int_equal(hinb(h, PRI_CTL), 0);
	houtb(h, PRI + R_DEV, 0xa0);
	assert_int_equal(hinb(h, PRI + R_STATUS) & (S_BSY | S_DRQ | S_DRDY), S_DRDY);
}

/* ata_readwrite / ata_pio_transfer: nIEN, command, then per sector: DRQ,
 * 256 words, one alternate-status read and a wait for BSY to clear. */
static uint8_t seabios_pio(struct harness *h, unsigned unit, bool write, uint64_t lba,
			   unsigned count, uint8_t *buf)
{
	houtb(h, PRI_CTL, 0x08 | CTL_NIEN);
	bool ext = count >= 256 || lba + count >= (1u << 28);
	uint8_t cmd = write ? (ext ? 0x34 : 0x30) : (ext ? 0x24 : 0x20);
	ata_command(h, PRI, unit, cmd, 0, count, lba, ext);
	uint8_t st = wait_not_busy(h, PRI_CTL);
	if ((st & (S_ERR | S_DRQ)) != S_DRQ)
		goto out;
	for (unsigned i = 0; i < count; i++) {
		if (write)
			pio_out(h, PRI, buf + 512 * i, 512);
		else
			pio_in(h, PRI, buf + 512 * i, 512);
		hinb(h, PRI_CTL);
		st = wait_not_busy(h, PRI_CTL);
		if (i + 1 < count && (st & (S_BSY | S_DRQ | S_ERR)) != S_DRQ)
			goto out;
	}
	st = hinb(h, PRI + R_STATUS);
out:
	houtb(h, PRI_CTL, 0x08);
	return st;
}

static void test_seabios_pio(void **state)
{
	struct fx *f = *state;
	struct harness *h = f->h;
	uint8_t buf[8 * 512];
	uint8_t st = seabios_pio(h, 0, false, 100, 3, buf);
	assert_int_equal(st & (S_BSY | S_DRQ | S_ERR | S_DRDY), S_DRDY);
	check_pattern(buf, 3 * 512, 100 * 512, 0);
	/* A write, then the file holds it. */
	for (int i = 0; i < 1024; i++)
		buf[i] = (uint8_t)(i ^ 0x5a);
	st = seabios_pio(h, 0, true, 200, 2, buf);
	assert_int_equal(st & (S_BSY | S_DRQ | S_ERR | S_DRDY), S_DRDY);
	uint8_t back[1024 + 2];
	file_read(f->disk, back, sizeof(back), 200 * 512 - 1);
	assert_int_equal(back[0], img_byte(200 * 512 - 1, 0));
	assert_memory_equal(back + 1, buf, 1024);
	assert_int_equal(back[1025], img_byte(202 * 512, 0));
	/* And it reads back through the device. */
	uint8_t again[1024];
	seabios_pio(h, 0, false, 200, 2, again);
	assert_memory_equal(again, buf, 1024);
	/* 300 sectors (more than one read-ahead buffer) take LBA48. */
	uint8_t *big = malloc(300 * 512);
	st = seabios_pio(h, 0, false, 1000, 300, big);
	assert_int_equal(st & (S_BSY | S_DRQ | S_ERR), 0);
	check_pattern(big, 300 * 512, 1000 * 512, 0);
	free(big);
	assert_int_equal(h->irq_raised[14], 0);
}

/* --- Linux libata ---------------------------------------------------------------- */

/* ata_devchk: do the registers of device `unit` hold what is written? */
static bool devchk(struct harness *h, uint16_t base, unsigned unit)
{
	houtb(h, base + R_DEV, (uint8_t)(0xa0 | unit << 4));
	houtb(h, base + R_NSECT, 0x55);
	houtb(h, base + R_LBAL, 0xaa);
	houtb(h, base + R_NSECT, 0xaa);
	houtb(h, base + R_LBAL, 0x55);
	houtb(h, base + R_NSECT, 0x55);
	houtb(h, base + R_LBAL, 0xaa);
	return hinb(h, base + R_NSECT) == 0x55 && hinb(h, base + R_LBAL) == 0xaa;
}

/* ata_sff_softreset + ata_sff_dev_classify + ata_dev_read_id +
 * ata_dev_set_xfermode, with interrupts on. */
static void test_libata_probe(void **state)
{
	struct fx *f = *state;
	struct harness *h = f->h;
	houtb(h, PRI_CTL, CTL_OBS);
	assert_true(devchk(h, PRI, 0));
	assert_false(devchk(h, PRI, 1));
	houtb(h, PRI + R_DEV, 0xa0);
	houtb(h, PRI_CTL, CTL_OBS);
	houtb(h, PRI_CTL, CTL_OBS | CTL_SRST);
	houtb(h, PRI_CTL, CTL_OBS);
	wait_not_busy(h, PRI_CTL);
	/* Signatures: device 0 ATA, passed diagnostics; device 1 absent. */
	houtb(h, PRI + R_DEV, 0xa0);
	assert_int_equal(hinb(h, PRI + R_ERROR), 0x01);
	assert_int_equal(hinb(h, PRI + R_NSECT), 1);
	assert_int_equal(hinb(h, PRI + R_LBAL), 1);
	assert_int_equal(hinb(h, PRI + R_LBAM), 0);
	assert_int_equal(hinb(h, PRI + R_LBAH), 0);
	assert_int_equal(hinb(h, PRI + R_STATUS) & (S_DRDY | S_BSY), S_DRDY);
	houtb(h, PRI + R_DEV, 0xb0);
	assert_int_equal(hinb(h, PRI + R_ERROR), 0);
	assert_int_equal(hinb(h, PRI + R_STATUS), 0);
	houtb(h, PRI + R_DEV, 0xa0);
	assert_int_equal(h->irq_raised[14], 0); /* a reset does not interrupt */

	/* IDENTIFY with interrupts: one at DRQ, lowered by the status read. */
	houtb(h, PRI + R_CMD, 0xec);
	wait_not_busy(h, PRI_CTL);
	assert_true(h->irq_level[14]);
	assert_int_equal(h->irq_raised[14], 1);
	assert_int_equal(hinb(h, PRI_CTL) & S_DRQ, S_DRQ);
	assert_true(h->irq_level[14]); /* the alternate status leaves it */
	assert_int_equal(hinb(h, PRI + R_STATUS) & S_DRQ, S_DRQ);
	assert_false(h->irq_level[14]);
	uint8_t raw[512];
	pio_in(h, PRI, raw, 512);
	assert_int_equal(h->irq_raised[14], 1); /* no interrupt after PIO-in data */
	uint16_t id[256];
	for (int i = 0; i < 256; i++)
		id[i] = (uint16_t)(raw[2 * i] | raw[2 * i + 1] << 8);
	check_identify_device(id, DISK_SECTORS, false);
	/* libata's multi_count: word 47 max, word 59 current and valid. */
	assert_int_equal(id[59], 0x0110);

	/* SET FEATURES - XFER MODE: MWDMA2, then UDMA5; the identify data
	 * shows the selection. */
	ata_command(h, PRI, 0, 0xef, 0x03, 0x22, 0, false);
	assert_int_equal(wait_not_busy(h, PRI_CTL) & (S_ERR | S_DRQ), 0);
	assert_int_equal(h->irq_raised[14], 2);
	hinb(h, PRI + R_STATUS);
	identify(h, PRI, PRI_CTL, 0, 0xec, id);
	assert_int_equal(id[63], 0x0407);
	assert_int_equal(id[88], 0x003f);
	ata_command(h, PRI, 0, 0xef, 0x03, 0x45, 0, false);
	wait_not_busy(h, PRI_CTL);
	identify(h, PRI, PRI_CTL, 0, 0xec, id);
	assert_int_equal(id[63], 0x0007);
	assert_int_equal(id[88], 0x203f);
	/* PIO flow control mode 4 leaves the DMA selection. */
	ata_command(h, PRI, 0, 0xef, 0x03, 0x0c, 0, false);
	assert_int_equal(wait_not_busy(h, PRI_CTL) & S_ERR, 0);
	/* Modes that do not exist are refused. */
	ata_command(h, PRI, 0, 0xef, 0x03, 0x46, 0, false);
	assert_int_equal(wait_not_busy(h, PRI_CTL) & S_ERR, S_ERR);
	assert_int_equal(hinb(h, PRI + R_ERROR), 0x04);
	ata_command(h, PRI, 0, 0xef, 0x03, 0x23, 0, false);
	assert_int_equal(wait_not_busy(h, PRI_CTL) & S_ERR, S_ERR);
	/* An unknown feature too. */
	ata_command(h, PRI, 0, 0xef, 0x44, 0, 0, false);
	assert_int_equal(wait_not_busy(h, PRI_CTL) & S_ERR, S_ERR);
	hinb(h, PRI + R_STATUS);
}

/* READ/WRITE MULTIPLE: one DRQ block (and interrupt) per `mult` sectors. */
static void test_multiple(void **state)
{
	struct fx *f = *state;
	struct harness *h = f->h;
	houtb(h, PRI_CTL, CTL_OBS);
	ata_command(h, PRI, 0, 0xc6, 0, 3, 0, false); /* not a power of two */
	assert_int_equal(wait_not_busy(h, PRI_CTL) & S_ERR, S_ERR);
	ata_command(h, PRI, 0, 0xc6, 0, 32, 0, false); /* above the maximum */
	assert_int_equal(wait_not_busy(h, PRI_CTL) & S_ERR, S_ERR);
	ata_command(h, PRI, 0, 0xc6, 0, 8, 0, false);
	assert_int_equal(wait_not_busy(h, PRI_CTL) & S_ERR, 0);
	uint16_t id[256];
	identify(h, PRI, PRI_CTL, 0, 0xec, id);
	assert_int_equal(id[59], 0x0108);

	unsigned before = h->irq_raised[14];
	hinb(h, PRI + R_STATUS);
	ata_command(h, PRI, 0, 0xc4, 0, 20, 64, false);
	uint8_t buf[20 * 512];
	static const unsigned blocks[] = {8, 8, 4};
	size_t got = 0;
	for (int b = 0; b < 3; b++) {
		uint8_t st = wait_not_busy(h, PRI_CTL);
		assert_int_equal(st & (S_DRQ | S_ERR), S_DRQ);
		assert_true(h->irq_level[14]);
		hinb(h, PRI + R_STATUS);
		pio_in(h, PRI, buf + got, blocks[b] * 512);
		got += blocks[b] * 512;
	}
	assert_int_equal(h->irq_raised[14] - before, 3);
	assert_int_equal(hinb(h, PRI_CTL) & (S_DRQ | S_BSY), 0);
	check_pattern(buf, sizeof(buf), 64 * 512, 0);

	/* WRITE MULTIPLE EXT: the first block without an interrupt, then one
	 * after each block. */
	for (size_t i = 0; i < sizeof(buf); i++)
		buf[i] = (uint8_t)(i * 3);
	before = h->irq_raised[14];
	ata_command(h, PRI, 0, 0x39, 0, 10, 300, true);
	got = 0;
	for (int b = 0; b < 2; b++) {
		assert_int_equal(wait_not_busy(h, PRI_CTL) & (S_DRQ | S_ERR), S_DRQ);
		unsigned n = b == 0 ? 8 : 2;
		pio_out(h, PRI, buf + got, n * 512);
		got += n * 512;
		wait_not_busy(h, PRI_CTL);
		assert_true(h->irq_level[14]);
		hinb(h, PRI + R_STATUS);
	}
	assert_int_equal(h->irq_raised[14] - before, 2);
	uint8_t back[10 * 512];
	file_read(f->disk, back, sizeof(back), 300 * 512);
	assert_memory_equal(back, buf, sizeof(back));

	/* Multiple mode off: READ MULTIPLE is refused. */
	ata_command(h, PRI, 0, 0xc6, 0, 0, 0, false);
	assert_int_equal(wait_not_busy(h, PRI_CTL) & S_ERR, 0);
	identify(h, PRI, PRI_CTL, 0, 0xec, id);
	assert_int_equal(id[59], 0);
	ata_command(h, PRI, 0, 0xc4, 0, 1, 0, false);
	assert_int_equal(wait_not_busy(h, PRI_CTL) & (S_ERR | S_DRQ), S_ERR);
	assert_int_equal(hinb(h, PRI + R_ERROR), 0x04);
	/* A power-on reset brings the default back. */
	machine_reset_devices(&h->m);
	bios_pci_setup(h);
	identify(h, PRI, PRI_CTL, 0, 0xec, id);
	assert_int_equal(id[59], 0x0110);
}

/* --- addressing -------------------------------------------------------------------- */

static uint8_t read_one(struct harness *h, uint16_t base, uint16_t ctl, uint64_t lba, bool ext,
			uint8_t *buf)
{
	ata_command(h, base, 0, ext ? 0x24 : 0x20, 0, 1, lba, ext);
	uint8_t st = wait_not_busy(h, ctl);
	if ((st & (S_DRQ | S_ERR)) == S_DRQ)
		pio_in(h, base, buf, 512);
	hinb(h, (uint16_t)(base + R_STATUS));
	return st;
}

/* A sparse disk of 2^28 + 64 sectors: the last LBA28 address and the first
 * sectors only LBA48 reaches. */
static void test_lba28_lba48_limits(void **state)
{
	(void)state;
	char path[64];
	snprintf(path, sizeof(path), "/tmp/osio-ide-XXXXXX");
	int fd = mkstemp(path);
	assert_true(fd >= 0);
	const uint64_t sectors = (1ull << 28) + 64;
	assert_int_equal(ftruncate(fd, (off_t)(sectors * 512)), 0);
	/* Marks: the sector number in the first 8 bytes. */
	static const uint64_t marks[] = {0x0ffffffe, 0x0fffffff, 0x10000000, (1ull << 28) + 63};
	for (size_t i = 0; i < 4; i++) {
		uint8_t s[8];
		for (int b = 0; b < 8; b++)
			s[b] = (uint8_t)(marks[i] >> (8 * b));
		assert_int_equal(pwrite(fd, s, 8, (off_t)(marks[i] * 512)), 8);
	}
	close(fd);
	char args[128];
	snprintf(args, sizeof(args), "drive0=disk:%s", path);
	struct harness *h = ide_machine(args);
	houtb(h, PRI_CTL, CTL_OBS | CTL_NIEN);
	uint16_t id[256];
	identify(h, PRI, PRI_CTL, 0, 0xec, id);
	check_identify_device(id, sectors, false);
	assert_int_equal(id[1], 16383);

	uint8_t buf[512];
	/* LBA28 reaches words 60-61's sectors: up to 0x0ffffffe. */
	assert_int_equal(read_one(h, PRI, PRI_CTL, 0x0ffffffe, false, buf) & S_ERR, 0);
	assert_int_equal(buf[0] | buf[1] << 8 | buf[2] << 16 | buf[3] << 24, 0x0ffffffe);
	assert_int_equal(read_one(h, PRI, PRI_CTL, 0x0fffffff, false, buf) & S_ERR, S_ERR);
	assert_int_equal(hinb(h, PRI + R_ERROR), 0x10);
	/* LBA48 goes on to the end. */
	for (size_t i = 1; i < 4; i++) {
		assert_int_equal(read_one(h, PRI, PRI_CTL, marks[i], true, buf) & S_ERR, 0);
		uint64_t got = 0;
		for (int b = 0; b < 8; b++)
			got |= (uint64_t)buf[b] << (8 * b);
		assert_int_equal(got, marks[i]);
	}
	assert_int_equal(read_one(h, PRI, PRI_CTL, sectors, true, buf) & S_ERR, S_ERR);
	assert_int_equal(hinb(h, PRI + R_ERROR), 0x10);
	/* A count running over the end. */
	ata_command(h, PRI, 0, 0x24, 0, 2, sectors - 1, true);
	assert_int_equal(wait_not_busy(h, PRI_CTL) & (S_ERR | S_DRQ), S_ERR);
	assert_int_equal(hinb(h, PRI + R_ERROR), 0x10);
	/* HOB: the high bytes of the last successful LBA48 address. */
	read_one(h, PRI, PRI_CTL, 0x123456789aull, true, buf); /* IDNF: past the end */
	read_one(h, PRI, PRI_CTL, (1ull << 28) + 5, true, buf);
	assert_int_equal(hinb(h, PRI + R_LBAL), 0x05);
	houtb(h, PRI_CTL, CTL_OBS | CTL_NIEN | CTL_HOB);
	assert_int_equal(hinb(h, PRI + R_LBAL), 0x10);
	assert_int_equal(hinb(h, PRI + R_LBAM), 0x00);
	/* Writing a register clears HOB. */
	houtb(h, PRI + R_FEAT, 0);
	assert_int_equal(hinb(h, PRI + R_LBAL), 0x05);
	ide_machine_free(h);
	unlink(path);
}

/* HOB reads give the value written before the last one. */
static void test_hob(void **state)
{
	struct fx *f = *state;
	struct harness *h = f->h;
	houtb(h, PRI + R_NSECT, 0x12);
	houtb(h, PRI + R_NSECT, 0x34);
	houtb(h, PRI + R_LBAH, 0xab);
	houtb(h, PRI + R_LBAH, 0xcd);
	assert_int_equal(hinb(h, PRI + R_NSECT), 0x34);
	houtb(h, PRI_CTL, CTL_OBS | CTL_HOB);
	assert_int_equal(hinb(h, PRI + R_NSECT), 0x12);
	assert_int_equal(hinb(h, PRI + R_LBAH), 0xab);
	houtb(h, PRI_CTL, CTL_OBS);
	assert_int_equal(hinb(h, PRI + R_LBAH), 0xcd);
}

/* INITIALIZE DEVICE PARAMETERS and CHS addresses. */
static void test_chs(void **state)
{
	struct fx *f = *state;
	struct harness *h = f->h;
	houtb(h, PRI_CTL, CTL_OBS | CTL_NIEN);
	/* 4 heads of 17 sectors: device register holds heads - 1. */
	houtb(h, PRI + R_DEV, 0xa0 | 3);
	houtb(h, PRI + R_NSECT, 17);
	houtb(h, PRI + R_CMD, 0x91);
	assert_int_equal(wait_not_busy(h, PRI_CTL) & S_ERR, 0);
	uint16_t id[256];
	identify(h, PRI, PRI_CTL, 0, 0xec, id);
	assert_int_equal(id[55], 4);
	assert_int_equal(id[56], 17);
	assert_int_equal(id[54], DISK_SECTORS / (4 * 17));
	assert_int_equal(id[57] | id[58] << 16, (DISK_SECTORS / 68) * 68);
	/* Cylinder 2, head 3, sector 5 = LBA (2 * 4 + 3) * 17 + 4 = 191. */
	houtb(h, PRI + R_DEV, 0xa0 | 3);
	houtb(h, PRI + R_NSECT, 1);
	houtb(h, PRI + R_LBAL, 5);
	houtb(h, PRI + R_LBAM, 2);
	houtb(h, PRI + R_LBAH, 0);
	houtb(h, PRI + R_CMD, 0x20);
	assert_int_equal(wait_not_busy(h, PRI_CTL) & (S_DRQ | S_ERR), S_DRQ);
	uint8_t buf[512];
	pio_in(h, PRI, buf, 512);
	check_pattern(buf, 512, 191 * 512, 0);
	/* Sector 0 and head 4 do not exist. */
	houtb(h, PRI + R_DEV, 0xa0 | 3);
	houtb(h, PRI + R_LBAL, 0);
	houtb(h, PRI + R_CMD, 0x20);
	assert_int_equal(wait_not_busy(h, PRI_CTL) & S_ERR, S_ERR);
	assert_int_equal(hinb(h, PRI + R_ERROR), 0x10);
	houtb(h, PRI + R_DEV, 0xa0 | 4);
	houtb(h, PRI + R_LBAL, 1);
	houtb(h, PRI + R_CMD, 0x20);
	assert_int_equal(wait_not_busy(h, PRI_CTL) & S_ERR, S_ERR);
	/* Zero sectors per track is refused. */
	houtb(h, PRI + R_NSECT, 0);
	houtb(h, PRI + R_CMD, 0x91);
	assert_int_equal(wait_not_busy(h, PRI_CTL) & S_ERR, S_ERR);
	assert_int_equal(hinb(h, PRI + R_ERROR), 0x04);
}

/* --- errors, power, flush ------------------------------------------------------ */

static void test_errors(void **state)
{
	struct fx *f = *state;
	struct harness *h = f->h;
	houtb(h, PRI_CTL, CTL_OBS);
	/* Unknown, optional and NOP commands: ABRT, with an interrupt. */
	static const uint8_t refused[] = {0x00, 0x50, 0xf8, 0xb0, 0x2f, 0xa0, 0xa1, 0x08};
	for (size_t i = 0; i < sizeof(refused); i++) {
		unsigned before = h->irq_raised[14];
		ata_command(h, PRI, 0, refused[i], 0, 1, 0, false);
		uint8_t st = wait_not_busy(h, PRI_CTL);
		assert_int_equal(st & (S_ERR | S_DRQ | S_DRDY), S_ERR | S_DRDY);
		assert_int_equal(hinb(h, PRI + R_ERROR), 0x04);
		assert_int_equal(h->irq_raised[14] - before, 1);
		hinb(h, PRI + R_STATUS);
	}
	/* The next good command clears the error. */
	ata_command(h, PRI, 0, 0xe5, 0, 0, 0, false);
	assert_int_equal(wait_not_busy(h, PRI_CTL) & S_ERR, 0);
	assert_int_equal(hinb(h, PRI + R_ERROR), 0);
	/* Out of range: IDNF, and the task file names the sector. */
	ata_command(h, PRI, 0, 0x20, 0, 1, DISK_SECTORS, false);
	assert_int_equal(wait_not_busy(h, PRI_CTL) & S_ERR, S_ERR);
	assert_int_equal(hinb(h, PRI + R_ERROR), 0x10);
	ata_command(h, PRI, 0, 0x30, 0, 4, DISK_SECTORS - 2, false);
	assert_int_equal(wait_not_busy(h, PRI_CTL) & (S_ERR | S_DRQ), S_ERR);
	ata_command(h, PRI, 0, 0xc8, 0, 1, DISK_SECTORS + 5, false);
	assert_int_equal(wait_not_busy(h, PRI_CTL) & (S_ERR | S_DRQ), S_ERR);
	assert_int_equal(hinb(h, PRI + R_ERROR), 0x10);
	/* READ VERIFY checks the range. */
	ata_command(h, PRI, 0, 0x40, 0, 8, DISK_SECTORS - 8, false);
	assert_int_equal(wait_not_busy(h, PRI_CTL) & (S_ERR | S_DRQ), 0);
	ata_command(h, PRI, 0, 0x42, 0, 9, DISK_SECTORS - 8, true);
	assert_int_equal(wait_not_busy(h, PRI_CTL) & S_ERR, S_ERR);
	/* A command while the device waits for data is ignored. */
	ata_command(h, PRI, 0, 0x30, 0, 1, 5, false);
	assert_int_equal(wait_not_busy(h, PRI_CTL) & S_DRQ, S_DRQ);
	houtb(h, PRI + R_CMD, 0xec);
	assert_int_equal(hinb(h, PRI_CTL) & (S_DRQ | S_ERR), S_DRQ);
	uint8_t zero[512] = {0};
	pio_out(h, PRI, zero, 512);
	assert_int_equal(wait_not_busy(h, PRI_CTL) & (S_DRQ | S_ERR), 0);
	/* Extra data port traffic without DRQ goes nowhere. */
	houtw(h, PRI, 0x1234);
	assert_int_equal(hinw(h, PRI), 0);
	hinb(h, PRI + R_STATUS);
}

static void test_readonly(void **state)
{
	(void)state;
	char path[64];
	make_image(path, sizeof(path), 64 * 512, 9);
	char args[128];
	snprintf(args, sizeof(args), "drive0=disk-ro:%s", path);
	struct harness *h = ide_machine(args);
	houtb(h, PRI_CTL, CTL_OBS | CTL_NIEN);
	ata_command(h, PRI, 0, 0x30, 0, 1, 3, false);
	uint8_t st = wait_not_busy(h, PRI_CTL);
	assert_int_equal(st & (S_ERR | S_DRQ), S_ERR);
	assert_int_equal(hinb(h, PRI + R_ERROR), 0x40); /* write protected */
	ata_command(h, PRI, 0, 0x35, 0, 1, 3, true);
	assert_int_equal(wait_not_busy(h, PRI_CTL) & (S_ERR | S_DRQ), S_ERR);
	assert_int_equal(hinb(h, PRI + R_ERROR), 0x40);
	/* Reads and FLUSH work. */
	uint8_t buf[512];
	assert_int_equal(read_one(h, PRI, PRI_CTL, 3, false, buf) & S_ERR, 0);
	check_pattern(buf, 512, 3 * 512, 9);
	ata_command(h, PRI, 0, 0xe7, 0, 0, 0, false);
	assert_int_equal(wait_not_busy(h, PRI_CTL) & S_ERR, 0);
	ide_machine_free(h);
	uint8_t back[512];
	file_read(path, back, 512, 3 * 512);
	check_pattern(back, 512, 3 * 512, 9);
	unlink(path);
}

static void test_flush_and_power(void **state)
{
	struct fx *f = *state;
	struct harness *h = f->h;
	houtb(h, PRI_CTL, CTL_OBS);
	unsigned before = h->irq_raised[14];
	ata_command(h, PRI, 0, 0xe7, 0, 0, 0, false);
	assert_int_equal(wait_not_busy(h, PRI_CTL) & (S_ERR | S_DRQ | S_DRDY), S_DRDY);
	assert_int_equal(h->irq_raised[14] - before, 1);
	hinb(h, PRI + R_STATUS);
	ata_command(h, PRI, 0, 0xea, 0, 0, 0, true);
	assert_int_equal(wait_not_busy(h, PRI_CTL) & S_ERR, 0);
	assert_int_equal(h->irq_raised[14] - before, 2);
	hinb(h, PRI + R_STATUS);
	/* STANDBY IMMEDIATE, CHECK POWER MODE says standby; IDLE wakes it,
	 * and so does a read. */
	ata_command(h, PRI, 0, 0xe0, 0, 0, 0, false);
	assert_int_equal(wait_not_busy(h, PRI_CTL) & S_ERR, 0);
	ata_command(h, PRI, 0, 0xe5, 0, 0x55, 0, false);
	wait_not_busy(h, PRI_CTL);
	assert_int_equal(hinb(h, PRI + R_NSECT), 0x00);
	ata_command(h, PRI, 0, 0xe3, 0, 0, 0, false);
	assert_int_equal(wait_not_busy(h, PRI_CTL) & S_ERR, 0);
	ata_command(h, PRI, 0, 0xe5, 0, 0, 0, false);
	wait_not_busy(h, PRI_CTL);
	assert_int_equal(hinb(h, PRI + R_NSECT), 0xff);
	ata_command(h, PRI, 0, 0xe2, 0, 0, 0, false);
	wait_not_busy(h, PRI_CTL);
	uint8_t buf[512];
	read_one(h, PRI, PRI_CTL, 0, false, buf);
	ata_command(h, PRI, 0, 0x98, 0, 0, 0, false);
	wait_not_busy(h, PRI_CTL);
	assert_int_equal(hinb(h, PRI + R_NSECT), 0xff);
	ata_command(h, PRI, 0, 0xe1, 0, 0, 0, false);
	assert_int_equal(wait_not_busy(h, PRI_CTL) & S_ERR, 0);
	/* The write cache can be turned off and on; IDENTIFY shows it. */
	uint16_t id[256];
	ata_command(h, PRI, 0, 0xef, 0x82, 0, 0, false);
	assert_int_equal(wait_not_busy(h, PRI_CTL) & S_ERR, 0);
	identify(h, PRI, PRI_CTL, 0, 0xec, id);
	assert_true(id[82] & (1 << 5));
	assert_false(id[85] & (1 << 5));
	ata_command(h, PRI, 0, 0xef, 0x02, 0, 0, false);
	wait_not_busy(h, PRI_CTL);
	identify(h, PRI, PRI_CTL, 0, 0xec, id);
	assert_true(id[85] & (1 << 5));
	hinb(h, PRI + R_STATUS);
}

/* EXECUTE DEVICE DIAGNOSTIC: signature, code 01h, an interrupt from
 * device 0, even when device 1 was selected. */
static void test_execute_diagnostic(void **state)
{
	struct fx *f = *state;
	struct harness *h = f->h;
	houtb(h, PRI_CTL, CTL_OBS);
	houtb(h, PRI + R_LBAM, 0x77);
	houtb(h, PRI + R_DEV, 0xb0);
	houtb(h, PRI + R_CMD, 0x90);
	wait_not_busy(h, PRI_CTL);
	assert_true(h->irq_level[14]);
	assert_int_equal(hinb(h, PRI + R_DEV) & 0x10, 0);
	assert_int_equal(hinb(h, PRI + R_ERROR), 0x01);
	assert_int_equal(hinb(h, PRI + R_LBAM), 0);
	assert_int_equal(hinb(h, PRI + R_NSECT), 1);
	assert_int_equal(hinb(h, PRI + R_STATUS) & (S_DRDY | S_ERR), S_DRDY);
	assert_false(h->irq_level[14]);
}

/* --- interrupts -------------------------------------------------------------- */

static void test_interrupts(void **state)
{
	struct fx *f = *state;
	struct harness *h = f->h;
	houtb(h, PRI_CTL, CTL_OBS);
	houtb(h, SEC_CTL, CTL_OBS);
	/* The secondary channel's disk interrupts on IRQ 15. */
	ata_command(h, SEC, 0, 0xe7, 0, 0, 0, false);
	wait_not_busy(h, SEC_CTL);
	assert_true(h->irq_level[15]);
	assert_false(h->irq_level[14]);
	/* The bus master's interrupt bit latched it. */
	assert_int_equal(hinb(h, BM_BASE + 8 + BMI_STATUS) & BM_INT, BM_INT);
	assert_int_equal(hinb(h, BM_BASE + BMI_STATUS) & BM_INT, 0);
	hinb(h, SEC + R_STATUS);
	assert_false(h->irq_level[15]);
	houtb(h, BM_BASE + 8 + BMI_STATUS, BM_INT);
	assert_int_equal(hinb(h, BM_BASE + 8 + BMI_STATUS) & BM_INT, 0);

	/* nIEN holds the line low; the pending interrupt shows when it is
	 * cleared, until the status is read. */
	houtb(h, PRI_CTL, CTL_OBS | CTL_NIEN);
	ata_command(h, PRI, 0, 0xe7, 0, 0, 0, false);
	wait_not_busy(h, PRI_CTL);
	assert_false(h->irq_level[14]);
	houtb(h, PRI_CTL, CTL_OBS);
	assert_true(h->irq_level[14]);
	/* Selecting the absent device 1 releases the line; device 0's
	 * interrupt is still pending when it is selected again. */
	houtb(h, PRI + R_DEV, 0xb0);
	assert_false(h->irq_level[14]);
	houtb(h, PRI + R_DEV, 0xa0);
	assert_true(h->irq_level[14]);
	/* A new command clears a pending interrupt too. */
	ata_command(h, PRI, 0, 0xe5, 0, 0, 0, false);
	wait_not_busy(h, PRI_CTL);
	assert_true(h->irq_level[14]);
	hinb(h, PRI + R_STATUS);
	assert_false(h->irq_level[14]);
	/* SRST drops a pending interrupt. */
	ata_command(h, PRI, 0, 0xe5, 0, 0, 0, false);
	wait_not_busy(h, PRI_CTL);
	assert_true(h->irq_level[14]);
	houtb(h, PRI_CTL, CTL_OBS | CTL_SRST);
	assert_false(h->irq_level[14]);
	houtb(h, PRI_CTL, CTL_OBS);
	assert_false(h->irq_level[14]);
}

/* Two disks on one channel: each answers for itself. */
static void test_master_and_slave(void **state)
{
	(void)state;
	char a[64], b[64];
	make_image(a, sizeof(a), 128 * 512, 1);
	make_image(b, sizeof(b), 256 * 512, 2);
	char args[160];
	snprintf(args, sizeof(args), "drive0=disk:%s,drive1=disk:%s", a, b);
	struct harness *h = ide_machine(args);
	houtb(h, PRI_CTL, CTL_OBS | CTL_NIEN);
	assert_true(devchk(h, PRI, 0));
	assert_true(devchk(h, PRI, 1));
	houtb(h, PRI_CTL, CTL_OBS | CTL_NIEN | CTL_SRST);
	houtb(h, PRI_CTL, CTL_OBS | CTL_NIEN);
	wait_not_busy(h, PRI_CTL);
	houtb(h, PRI + R_DEV, 0xb0);
	assert_int_equal(hinb(h, PRI + R_NSECT), 1);
	assert_int_equal(hinb(h, PRI + R_ERROR), 1);
	assert_int_equal(hinb(h, PRI + R_STATUS) & S_DRDY, S_DRDY);
	uint16_t id[256];
	identify(h, PRI, PRI_CTL, 0, 0xec, id);
	check_identify_device(id, 128, true);
	identify(h, PRI, PRI_CTL, 1, 0xec, id);
	assert_int_equal(id[60], 256);
	assert_int_equal(id[93] & 0x1f00, 0x0b00); /* device 1's half */
	uint8_t buf[512];
	ata_command(h, PRI, 1, 0x20, 0, 1, 7, false);
	wait_not_busy(h, PRI_CTL);
	pio_in(h, PRI, buf, 512);
	check_pattern(buf, 512, 7 * 512, 2);
	ata_command(h, PRI, 0, 0x20, 0, 1, 7, false);
	wait_not_busy(h, PRI_CTL);
	pio_in(h, PRI, buf, 512);
	check_pattern(buf, 512, 7 * 512, 1);
	ide_machine_free(h);
	unlink(a);
	unlink(b);
}

/* A reset in the middle of a transfer: the device comes back ready and
 * the next command works. */
static void test_srst_mid_transfer(void **state)
{
	struct fx *f = *state;
	struct harness *h = f->h;
	houtb(h, PRI_CTL, CTL_OBS | CTL_NIEN);
	ata_command(h, PRI, 0, 0x20, 0, 0, 0, false); /* 256 sectors */
	houtb(h, PRI_CTL, CTL_OBS | CTL_NIEN | CTL_SRST);
	assert_int_equal(hinb(h, PRI_CTL), S_BSY);
	houtb(h, PRI + R_CMD, 0xec); /* ignored during reset */
	houtb(h, PRI_CTL, CTL_OBS | CTL_NIEN);
	assert_int_equal(wait_not_busy(h, PRI_CTL) & (S_DRQ | S_DRDY), S_DRDY);
	ata_command(h, PRI, 0, 0x30, 0, 2, 10, false);
	wait_not_busy(h, PRI_CTL);
	uint8_t buf[512];
	pio_in(h, PRI, buf, 16); /* a write phase: reads give nothing */
	houtb(h, PRI_CTL, CTL_OBS | CTL_NIEN | CTL_SRST);
	houtb(h, PRI_CTL, CTL_OBS | CTL_NIEN);
	assert_int_equal(wait_not_busy(h, PRI_CTL) & (S_DRQ | S_DRDY), S_DRDY);
	assert_int_equal(read_one(h, PRI, PRI_CTL, 10, false, buf) & S_ERR, 0);
	check_pattern(buf, 512, 10 * 512, 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test_setup_teardown(test_seabios_detect, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_seabios_pio, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_libata_probe, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_multiple, setup, teardown),
	    cmocka_unit_test(test_lba28_lba48_limits),
	    cmocka_unit_test_setup_teardown(test_hob, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_chs, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_errors, setup, teardown),
	    cmocka_unit_test(test_readonly),
	    cmocka_unit_test_setup_teardown(test_flush_and_power, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_execute_diagnostic, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_interrupts, setup, teardown),
	    cmocka_unit_test(test_master_and_slave),
	    cmocka_unit_test_setup_teardown(test_srst_mid_transfer, setup, teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
