/* The ATAPI DVD-ROM drive: signatures and IDENTIFY PACKET DEVICE, and the
 * MMC commands with their data and sense (as SeaBIOS, GRUB and Linux
 * sr/cdrom send them), PIO within the byte count limit and DMA data phases,
 * on a disc and in an empty drive. */
#include "tests/devices/test_ide_atapi.h"

/* --- identification -------------------------------------------------------- */

static void test_signature_and_identify(void **state)
{
	struct fx *f = *state;
	struct harness *h = f->h;
	houtb(h, SEC_CTL, CTL_OBS | CTL_SRST);
	houtb(h, SEC_CTL, CTL_OBS);
	wait_not_busy(h, SEC_CTL);
	for (unsigned unit = 0; unit < 2; unit++) {
		houtb(h, SEC + R_DEV, (uint8_t)(0xa0 | unit << 4));
		assert_int_equal(hinb(h, SEC + R_ERROR), 0x01);
		assert_int_equal(hinb(h, SEC + R_NSECT), 0x01);
		assert_int_equal(hinb(h, SEC + R_LBAL), 0x01);
		assert_int_equal(hinb(h, SEC + R_LBAM), 0x14);
		assert_int_equal(hinb(h, SEC + R_LBAH), 0xeb);
		assert_int_equal(hinb(h, SEC + R_STATUS), 0x00); /* packet devices: no DRDY */
	}
	/* IDENTIFY DEVICE is refused with the signature. */
	uint16_t id[256];
	houtb(h, SEC + R_LBAM, 0);
	uint8_t st = identify(h, SEC, SEC_CTL, 0, 0xec, id);
	assert_int_equal(st & (S_ERR | S_DRQ), S_ERR);
	assert_int_equal(hinb(h, SEC + R_ERROR), 0x04);
	assert_int_equal(hinb(h, SEC + R_LBAM), 0x14);
	assert_int_equal(hinb(h, SEC + R_LBAH), 0xeb);
	st = identify(h, SEC, SEC_CTL, 0, 0xa1, id);
	assert_int_equal(st & (S_ERR | S_DRQ), S_DRQ);
	assert_int_equal(id[0], 0x85c0); /* ATAPI, CD-ROM, removable, 12-byte packets */
	assert_int_equal((id[0] >> 8) & 0x1f, 5);
	assert_int_equal(id[0] & 3, 0);
	assert_true(id[49] & (1 << 8)); /* DMA */
	char model[13];
	for (int i = 0; i < 6; i++) {
		model[2 * i] = (char)(id[27 + i] >> 8);
		model[2 * i + 1] = (char)id[27 + i];
	}
	model[12] = 0;
	assert_string_equal(model, "OSIO DVD-ROM");
	uint8_t sum = 0;
	for (int i = 0; i < 256; i++)
		sum = (uint8_t)(sum + (id[i] & 0xff) + (id[i] >> 8));
	assert_int_equal(sum, 0);
	/* Device 0 saw device 1 (the empty drive). */
	assert_int_equal(id[93] & 0x0060, 0x0020);
	/* Transfer mode like a disk's. */
	ata_command(h, SEC, 0, 0xef, 0x03, 0x21, 0, false);
	assert_int_equal(wait_not_busy(h, SEC_CTL) & S_ERR, 0);
	identify(h, SEC, SEC_CTL, 0, 0xa1, id);
	assert_int_equal(id[63], 0x0207);
	/* ATA data commands are not for packet devices. */
	ata_command(h, SEC, 0, 0x20, 0, 1, 0, false);
	assert_int_equal(wait_not_busy(h, SEC_CTL) & (S_ERR | S_DRQ), S_ERR);
	assert_int_equal(hinb(h, SEC + R_ERROR), 0x04);
	ata_command(h, SEC, 0, 0xe5, 0, 0, 0, false);
	assert_int_equal(wait_not_busy(h, SEC_CTL) & S_ERR, 0);
	assert_int_equal(hinb(h, SEC + R_NSECT), 0xff);
	/* DEVICE RESET: signature again, no DRDY, no interrupt. */
	hinb(h, SEC + R_STATUS);
	unsigned before = h->irq_raised[15];
	houtb(h, SEC + R_LBAM, 0x33);
	houtb(h, SEC + R_CMD, 0x08);
	assert_int_equal(wait_not_busy(h, SEC_CTL), 0);
	assert_int_equal(hinb(h, SEC + R_LBAM), 0x14);
	assert_int_equal(h->irq_raised[15], before);
}

/* SeaBIOS's atapi path: nIEN, PACKET with a 2048-byte limit, the packet,
 * one alternate-status read and a BSY wait after each block. */
static void test_seabios_read(void **state)
{
	struct fx *f = *state;
	struct harness *h = f->h;
	houtb(h, SEC_CTL, CTL_OBS | CTL_NIEN);
	/* TEST UNIT READY as scsi_is_ready sends it. */
	houtb(h, SEC + R_DEV, 0xa0);
	houtb(h, SEC + R_FEAT, 0);
	houtb(h, SEC + R_NSECT, 0);
	houtb(h, SEC + R_LBAL, 0);
	houtb(h, SEC + R_LBAM, 0);
	houtb(h, SEC + R_LBAH, 0);
	houtb(h, SEC + R_CMD, 0xa0);
	assert_int_equal(wait_not_busy(h, SEC_CTL) & (S_DRQ | S_ERR), S_DRQ);
	uint8_t tur[12] = {0};
	pio_out(h, SEC, tur, 12);
	hinb(h, SEC_CTL);
	assert_int_equal(wait_not_busy(h, SEC_CTL) & (S_DRQ | S_ERR), 0);
	/* READ(10) of 3 sectors from 16 (the volume descriptors). */
	houtb(h, SEC + R_LBAM, 0x00);
	houtb(h, SEC + R_LBAH, 0x08);
	houtb(h, SEC + R_CMD, 0xa0);
	assert_int_equal(wait_not_busy(h, SEC_CTL) & (S_DRQ | S_ERR), S_DRQ);
	uint8_t cdb[12] = {0x28, 0, 0, 0, 0, 16, 0, 0, 3};
	pio_out(h, SEC, cdb, 12);
	hinb(h, SEC_CTL);
	uint8_t st = wait_not_busy(h, SEC_CTL);
	assert_int_equal(st & (S_DRQ | S_ERR), S_DRQ);
	uint8_t buf[3 * 2048];
	for (int i = 0; i < 3; i++) {
		assert_int_equal(hinb(h, SEC + R_LBAM) | hinb(h, SEC + R_LBAH) << 8, 2048);
		pio_in(h, SEC, buf + 2048 * i, 2048);
		hinb(h, SEC_CTL);
		st = wait_not_busy(h, SEC_CTL);
		if (i < 2)
			assert_int_equal(st & (S_BSY | S_DRQ | S_ERR), S_DRQ);
	}
	assert_int_equal(st & (S_BSY | S_DRQ | S_ERR), 0);
	check_pattern(buf, sizeof(buf), 16 * 2048, 0x55);
	assert_int_equal(h->irq_raised[15], 0);
}

/* --- the MMC commands ------------------------------------------------------- */

static void test_inquiry(void **state)
{
	struct fx *f = *state;
	uint8_t cdb[12] = {0x12, 0, 0, 0, 36};
	struct packet_result r = cmd(f, 0, cdb);
	expect_ok(r);
	assert_int_equal(r.bytes, 36);
	assert_int_equal(rxbuf[0], 0x05);
	assert_int_equal(rxbuf[1], 0x80);
	assert_int_equal(rxbuf[4], 31);
	assert_memory_equal(rxbuf + 8, "OSIO    ", 8);
	assert_memory_equal(rxbuf + 16, "DVD-ROM         ", 16);
	/* The allocation length cuts the reply (an odd length, too). */
	cdb[4] = 5;
	r = cmd(f, 0, cdb);
	expect_ok(r);
	assert_int_equal(r.bytes, 5); /* an odd count: the last word is padded */
	assert_int_equal(rxbuf[4], 31);
	cdb[4] = 0;
	r = cmd(f, 0, cdb);
	expect_ok(r);
	assert_int_equal(r.bytes, 0);
	/* No vital product data. */
	uint8_t evpd[12] = {0x12, 1, 0x80, 0, 36};
	check_condition(f, 0, cmd(f, 0, evpd), 5, 0x24, 0);
	/* The empty drive answers too. */
	cdb[4] = 36;
	expect_ok(cmd(f, 1, cdb));
}

static void test_unit_ready_and_sense(void **state)
{
	struct fx *f = *state;
	tur_ok(f, 0);
	struct sense s = request_sense(f, 0);
	assert_int_equal(s.key, 0);
	uint8_t tur[12] = {0};
	check_condition(f, 1, cmd(f, 1, tur), 2, 0x3a, 0);
	/* An unknown command, and WRITE(10) on a DVD-ROM drive. */
	uint8_t bad[12] = {0xff};
	check_condition(f, 0, cmd(f, 0, bad), 5, 0x20, 0);
	uint8_t wr[12] = {0x2a, 0, 0, 0, 0, 1, 0, 0, 1};
	check_condition(f, 0, cmd(f, 0, wr), 5, 0x20, 0);
	/* A good command after an error leaves no sense behind. */
	assert_int_equal(cmd(f, 0, bad).status & S_ERR, S_ERR);
	tur_ok(f, 0);
	s = request_sense(f, 0);
	assert_int_equal(s.key, 0);
}

static void test_read_capacity(void **state)
{
	struct fx *f = *state;
	uint8_t cdb[12] = {0x25};
	struct packet_result r = cmd(f, 0, cdb);
	expect_ok(r);
	assert_int_equal(r.bytes, 8);
	assert_int_equal(get_be32_(rxbuf), ISO_SECTORS - 1);
	assert_int_equal(get_be32_(rxbuf + 4), 2048);
	check_condition(f, 1, cmd(f, 1, cdb), 2, 0x3a, 0);
}

/* READ(10)/(12) in PIO: blocks no larger than the byte count limit, data
 * from the image, ranges checked. */
static void test_read_pio(void **state)
{
	struct fx *f = *state;
	struct harness *h = f->h;
	uint8_t cdb[12] = {0x28};
	/* 100 sectors: more than one read-ahead, in blocks of at most the
	 * limit. */
	put_be32_(cdb + 2, 150);
	cdb[7] = 0;
	cdb[8] = 100;
	struct packet_result r = cmd(f, 0, cdb);
	expect_ok(r);
	assert_int_equal(r.bytes, 100 * 2048);
	assert_true(r.max_block <= 0xfffe);
	check_pattern(rxbuf, 100 * 2048, 150 * 2048, 0x55);
	/* A limit of 1000 bytes; an odd limit counts one less. */
	cdb[8] = 2;
	r = atapi_pio(h, SEC, SEC_CTL, 15, 0, cdb, 1000, rxbuf, sizeof(rxbuf));
	expect_ok(r);
	assert_int_equal(r.bytes, 4096);
	assert_int_equal(r.max_block, 1000);
	assert_int_equal(r.blocks, 5);
	assert_int_equal(r.irqs, 6); /* one per block, one at the end */
	check_pattern(rxbuf, 4096, 150 * 2048, 0x55);
	r = atapi_pio(h, SEC, SEC_CTL, 15, 0, cdb, 0x801, rxbuf, sizeof(rxbuf));
	assert_int_equal(r.max_block, 0x800);
	/* Limit 0 means the most there is. */
	cdb[8] = 40;
	r = atapi_pio(h, SEC, SEC_CTL, 15, 0, cdb, 0, rxbuf, sizeof(rxbuf));
	expect_ok(r);
	assert_int_equal(r.bytes, 40 * 2048);
	/* READ(12) of the last sector; one past it is out of range. */
	uint8_t c12[12] = {0xa8};
	put_be32_(c12 + 2, ISO_SECTORS - 1);
	put_be32_(c12 + 6, 1);
	r = cmd(f, 0, c12);
	expect_ok(r);
	check_pattern(rxbuf, 2048, (ISO_SECTORS - 1) * 2048ull, 0x55);
	put_be32_(c12 + 6, 2);
	check_condition(f, 0, cmd(f, 0, c12), 5, 0x21, 0);
	put_be32_(c12 + 2, 0xffffffff);
	put_be32_(c12 + 6, 1);
	check_condition(f, 0, cmd(f, 0, c12), 5, 0x21, 0);
	/* Zero sectors: nothing, no error. */
	put_be32_(c12 + 2, 0);
	put_be32_(c12 + 6, 0);
	r = cmd(f, 0, c12);
	expect_ok(r);
	assert_int_equal(r.bytes, 0);
	/* SEEK(10) checks the address. */
	uint8_t sk[12] = {0x2b};
	put_be32_(sk + 2, 10);
	expect_ok(cmd(f, 0, sk));
	put_be32_(sk + 2, ISO_SECTORS);
	check_condition(f, 0, cmd(f, 0, sk), 5, 0x21, 0);
}

/* A packet with the DMA bit: Linux starts the bus master after the packet. */
static struct packet_result atapi_dma(struct fx *f, const uint8_t *cdb, uint8_t *bst)
{
	struct harness *h = f->h;
	uint16_t bm = BM_BASE + 8;
	bm_setup(h, bm, TABLE, true);
	houtb(h, SEC + R_DEV, 0xa0);
	houtb(h, SEC + R_FEAT, 0x01);
	houtb(h, SEC + R_LBAM, 0);
	houtb(h, SEC + R_LBAH, 0);
	houtb(h, SEC + R_CMD, 0xa0);
	assert_int_equal(wait_not_busy(h, SEC_CTL) & (S_DRQ | S_ERR), S_DRQ);
	pio_out(h, SEC, cdb, 12);
	bm_start(h, bm);
	*bst = wait_bm_int(h, bm);
	bm_stop(h, bm);
	struct packet_result r = {0};
	r.status = hinb(h, SEC + R_STATUS);
	r.error = hinb(h, SEC + R_ERROR);
	r.ireason = hinb(h, SEC + R_NSECT) & 3;
	houtb(h, bm + BMI_STATUS, BM_INT | BM_ERROR);
	return r;
}

static void test_read_dma(void **state)
{
	struct fx *f = *state;
	struct harness *h = f->h;
	prd_set(h, TABLE, 0, BUF + 0x10000, 0x1800, false);
	prd_set(h, TABLE, 1, BUF, 0x2800, true);
	uint8_t cdb[12] = {0x28};
	put_be32_(cdb + 2, 7);
	cdb[8] = 8;
	uint8_t bst;
	struct packet_result r = atapi_dma(f, cdb, &bst);
	expect_ok(r);
	assert_int_equal(bst & (BM_INT | BM_ACTIVE | BM_ERROR), BM_INT);
	check_pattern(hram(h, BUF + 0x10000, 0x1800), 0x1800, 7 * 2048, 0x55);
	check_pattern(hram(h, BUF, 0x2800), 0x2800, 7 * 2048 + 0x1800, 0x55);
	/* A reply through DMA with a larger table (Linux's MODE SENSE of
	 * 128 bytes): interrupt, active still set. */
	prd_set(h, TABLE, 0, BUF, 128, true);
	memset(hram(h, BUF, 128), 0xee, 128);
	uint8_t ms[12] = {0x5a, 0, 0x2a, 0, 0, 0, 0, 0, 128};
	r = atapi_dma(f, ms, &bst);
	expect_ok(r);
	assert_int_equal(bst & (BM_INT | BM_ACTIVE | BM_ERROR), BM_INT | BM_ACTIVE);
	uint8_t *p = hram(h, BUF, 128);
	assert_int_equal(p[8], 0x2a);
	assert_int_equal(p[28], 0xee);
	/* DMA into nowhere: the bus master's error, the command aborted. */
	prd_set(h, TABLE, 0, 0xf0000000u, 0x4000, true);
	cdb[8] = 2;
	r = atapi_dma(f, cdb, &bst);
	assert_int_equal(bst & (BM_INT | BM_ERROR | BM_ACTIVE), BM_INT | BM_ERROR);
	assert_int_equal(r.status & S_ERR, S_ERR);
	assert_int_equal(r.error >> 4, 0xb);
	/* An error before any data (no disc) needs no bus master. */
	uint8_t tur[12] = {0};
	houtb(h, SEC + R_DEV, 0xb0);
	houtb(h, SEC + R_FEAT, 0x01);
	houtb(h, SEC + R_CMD, 0xa0);
	wait_not_busy(h, SEC_CTL);
	pio_out(h, SEC, tur, 12);
	assert_int_equal(wait_not_busy(h, SEC_CTL) & S_ERR, S_ERR);
	assert_int_equal(hinb(h, SEC + R_ERROR), 0x20);
	hinb(h, SEC + R_STATUS);
}

static void test_read_toc(void **state)
{
	struct fx *f = *state;
	/* Format 0, LBA: track 1 and the lead-out. */
	uint8_t cdb[12] = {0x43, 0, 0, 0, 0, 0, 0, 0x03, 0x24};
	struct packet_result r = cmd(f, 0, cdb);
	expect_ok(r);
	assert_int_equal(r.bytes, 20);
	static const uint8_t toc[20] = {0, 18, 1, 1,	0,    0x14, 1, 0, 0,	0,
					0, 0,  0, 0x14, 0xaa, 0,    0, 0, 0x01, 0x2c};
	assert_memory_equal(rxbuf, toc, 20);
	/* MSF: 00:02:00 and 300 + 150 frames = 00:06:00. */
	cdb[1] = 0x02;
	r = cmd(f, 0, cdb);
	expect_ok(r);
	assert_memory_equal(rxbuf + 8, ((uint8_t[]){0, 0, 2, 0}), 4);
	assert_memory_equal(rxbuf + 16, ((uint8_t[]){0, 0, 6, 0}), 4);
	/* Starting at the lead-out, as Linux reads CDROM_LEADOUT. */
	cdb[1] = 0;
	cdb[6] = 0xaa;
	r = cmd(f, 0, cdb);
	expect_ok(r);
	assert_int_equal(r.bytes, 12);
	assert_int_equal(rxbuf[6], 0xaa);
	cdb[6] = 2;
	check_condition(f, 0, cmd(f, 0, cdb), 5, 0x24, 0);
	/* The allocation length (Linux reads the 4-byte header first). */
	cdb[6] = 0;
	cdb[7] = 0;
	cdb[8] = 4;
	r = cmd(f, 0, cdb);
	assert_int_equal(r.bytes, 4);
	assert_int_equal(rxbuf[1], 18);
	/* Format 1: sessions. */
	uint8_t s[12] = {0x43, 0, 1, 0, 0, 0, 0, 0, 12};
	r = cmd(f, 0, s);
	expect_ok(r);
	assert_int_equal(r.bytes, 12);
	assert_memory_equal(rxbuf, ((uint8_t[]){0, 10, 1, 1, 0, 0x14, 1, 0, 0, 0, 0, 0}), 12);
	/* The same through SFF-8020's format bits in the control byte
	 * (Linux sr's multisession query). */
	uint8_t old[12] = {0x43, 0, 0, 0, 0, 0, 0, 0, 12, 0x40};
	r = cmd(f, 0, old);
	expect_ok(r);
	assert_int_equal(rxbuf[1], 10);
	/* Format 2: the full TOC, A0/A1/A2 and track 1. */
	uint8_t full[12] = {0x43, 0x02, 2, 0, 0, 0, 1, 0x01, 0};
	r = cmd(f, 0, full);
	expect_ok(r);
	assert_int_equal(r.bytes, 4 + 4 * 11);
	assert_int_equal(rxbuf[1], 46);
	assert_int_equal(rxbuf[4 + 3], 0xa0);
	assert_int_equal(rxbuf[4 + 8], 1);
	assert_int_equal(rxbuf[15 + 3], 0xa1);
	assert_int_equal(rxbuf[26 + 3], 0xa2);
	assert_memory_equal(rxbuf + 26 + 8, ((uint8_t[]){0, 6, 0}), 3);
	assert_int_equal(rxbuf[37 + 3], 1);
	assert_memory_equal(rxbuf + 37 + 8, ((uint8_t[]){0, 2, 0}), 3);
	/* No PMA/ATIP/CD-TEXT. */
	full[2] = 4;
	check_condition(f, 0, cmd(f, 0, full), 5, 0x24, 0);
	check_condition(f, 1, cmd(f, 1, s), 2, 0x3a, 0);
}

static void test_get_configuration(void **state)
{
	struct fx *f = *state;
	uint8_t cdb[12] = {0x46, 0, 0, 0, 0, 0, 0, 0x01, 0x00};
	struct packet_result r = cmd(f, 0, cdb);
	expect_ok(r);
	uint32_t len = get_be32_(rxbuf) + 4;
	assert_int_equal(r.bytes, len);
	assert_int_equal(rxbuf[6] << 8 | rxbuf[7], 0x0008); /* a CD-sized disc */
	/* Profile list: DVD-ROM, then CD-ROM (current). */
	const uint8_t *p = rxbuf + 8;
	assert_int_equal(p[0] << 8 | p[1], 0x0000);
	assert_int_equal(p[2], 0x03);
	assert_int_equal(p[3], 8);
	assert_int_equal(p[4] << 8 | p[5], 0x0010);
	assert_int_equal(p[6] & 1, 0);
	assert_int_equal(p[8] << 8 | p[9], 0x0008);
	assert_int_equal(p[10] & 1, 1);
	/* Every feature in order; core says ATAPI; removable medium a
	 * lockable, ejectable tray. */
	uint16_t codes[16];
	unsigned n = 0;
	for (uint32_t off = 8; off < len; off += 4 + rxbuf[off + 3]) {
		codes[n] = (uint16_t)(rxbuf[off] << 8 | rxbuf[off + 1]);
		if (codes[n] == 0x0001)
			assert_int_equal(get_be32_(rxbuf + off + 4), 2);
		if (codes[n] == 0x0003)
			assert_int_equal(rxbuf[off + 4], 0x29);
		if (codes[n] == 0x0010)
			assert_int_equal(get_be32_(rxbuf + off + 4), 2048);
		n++;
	}
	static const uint16_t all[] = {0x0000, 0x0001, 0x0002, 0x0003, 0x0010, 0x001e, 0x001f};
	assert_int_equal(n, 7);
	assert_memory_equal(codes, all, sizeof(all));
	/* RT 1: current only (no DVD Read on a CD); RT 2: the one asked. */
	cdb[1] = 1;
	r = cmd(f, 0, cdb);
	n = 0;
	len = get_be32_(rxbuf) + 4;
	for (uint32_t off = 8; off < len; off += 4 + rxbuf[off + 3])
		codes[n++] = (uint16_t)(rxbuf[off] << 8 | rxbuf[off + 1]);
	assert_int_equal(n, 6);
	assert_int_equal(codes[5], 0x001e);
	cdb[1] = 2;
	cdb[3] = 0x03;
	r = cmd(f, 0, cdb);
	assert_int_equal(r.bytes, 16);
	assert_int_equal(rxbuf[9], 0x03);
	/* Linux's cdrom_mmc3_profile: just the header. */
	cdb[1] = 0;
	cdb[3] = 0;
	cdb[7] = 0;
	cdb[8] = 8;
	r = cmd(f, 0, cdb);
	assert_int_equal(r.bytes, 8);
	cdb[1] = 3;
	check_condition(f, 0, cmd(f, 0, cdb), 5, 0x24, 0);
	/* The empty drive: no current profile, no random readable. */
	cdb[1] = 1;
	cdb[7] = 1;
	r = cmd(f, 1, cdb);
	expect_ok(r);
	assert_int_equal(rxbuf[6] << 8 | rxbuf[7], 0);
	len = get_be32_(rxbuf) + 4;
	for (uint32_t off = 8; off < len; off += 4 + rxbuf[off + 3])
		assert_true((rxbuf[off] << 8 | rxbuf[off + 1]) < 0x0010);
}

static void test_mode_sense(void **state)
{
	struct fx *f = *state;
	uint8_t cdb[12] = {0x5a, 0, 0x2a, 0, 0, 0, 0, 0, 128};
	struct packet_result r = cmd(f, 0, cdb);
	expect_ok(r);
	assert_int_equal(r.bytes, 28);
	assert_int_equal(rxbuf[0] << 8 | rxbuf[1], 26);
	assert_int_equal(rxbuf[6] << 8 | rxbuf[7], 0); /* no block descriptors */
	const uint8_t *pg = rxbuf + 8;
	assert_int_equal(pg[0], 0x2a);
	assert_int_equal(pg[1], 18);
	assert_true(pg[2] & 0x08);		  /* reads DVD-ROM */
	assert_int_equal(pg[6], 0x29);		  /* tray, eject, lock, unlocked */
	assert_true((pg[8] << 8 | pg[9]) >= 176); /* a speed */
	/* Locked, the page says so. */
	uint8_t prevent[12] = {0x1e, 0, 0, 0, 1};
	expect_ok(cmd(f, 0, prevent));
	r = cmd(f, 0, cdb);
	assert_int_equal(rxbuf[8 + 6], 0x2b);
	prevent[4] = 0;
	expect_ok(cmd(f, 0, prevent));
	/* All pages, in order; changeable values are zero. */
	cdb[2] = 0x3f;
	r = cmd(f, 0, cdb);
	expect_ok(r);
	assert_int_equal(r.bytes, 8 + 12 + 8 + 20);
	assert_int_equal(rxbuf[8], 0x01);
	assert_int_equal(rxbuf[20], 0x0d);
	assert_int_equal(rxbuf[20 + 7], 75);
	assert_int_equal(rxbuf[28], 0x2a);
	cdb[2] = 0x40 | 0x2a;
	r = cmd(f, 0, cdb);
	assert_int_equal(rxbuf[8], 0x2a);
	assert_int_equal(rxbuf[8 + 6], 0);
	/* Saved values, unknown pages and subpages are refused. */
	cdb[2] = 0xc0 | 0x2a;
	check_condition(f, 0, cmd(f, 0, cdb), 5, 0x39, 0);
	cdb[2] = 0x05;
	check_condition(f, 0, cmd(f, 0, cdb), 5, 0x24, 0);
	cdb[2] = 0x2a;
	cdb[3] = 1;
	check_condition(f, 0, cmd(f, 0, cdb), 5, 0x24, 0);
	/* MODE SENSE(6) of page 1, with its 4-byte header. */
	uint8_t six[12] = {0x1a, 0, 0x01, 0, 255};
	r = cmd(f, 0, six);
	expect_ok(r);
	assert_int_equal(r.bytes, 16);
	assert_int_equal(rxbuf[0], 15);
	assert_int_equal(rxbuf[4], 0x01);
	assert_int_equal(rxbuf[5], 10);
	/* No disc: the medium type says so. */
	cdb[3] = 0;
	r = cmd(f, 1, cdb);
	expect_ok(r);
	assert_int_equal(rxbuf[2], 0x70);
}

static void test_disc_and_track_info(void **state)
{
	struct fx *f = *state;
	uint8_t di[12] = {0x51, 0, 0, 0, 0, 0, 0, 0, 34};
	struct packet_result r = cmd(f, 0, di);
	expect_ok(r);
	assert_int_equal(r.bytes, 34);
	assert_int_equal(rxbuf[1], 32);
	assert_int_equal(rxbuf[2] & 3, 2); /* complete disc */
	assert_int_equal(rxbuf[3], 1);
	assert_int_equal(rxbuf[4], 1);
	di[1] = 1;
	check_condition(f, 0, cmd(f, 0, di), 5, 0x24, 0);
	uint8_t ti[12] = {0x52, 1, 0, 0, 0, 1, 0, 0, 36};
	r = cmd(f, 0, ti);
	expect_ok(r);
	assert_int_equal(r.bytes, 36);
	assert_int_equal(rxbuf[2], 1);
	assert_int_equal(rxbuf[6] & 0xf, 1);
	assert_int_equal(get_be32_(rxbuf + 24), ISO_SECTORS);
	ti[5] = 2;
	check_condition(f, 0, cmd(f, 0, ti), 5, 0x24, 0);
	ti[1] = 0; /* by LBA */
	ti[5] = 200;
	expect_ok(cmd(f, 0, ti));
	check_condition(f, 1, cmd(f, 1, ti), 2, 0x3a, 0);
	/* MECHANISM STATUS and SET CD SPEED. */
	uint8_t mech[12] = {0xbd, 0, 0, 0, 0, 0, 0, 0, 0, 8};
	r = cmd(f, 0, mech);
	expect_ok(r);
	assert_int_equal(r.bytes, 8);
	assert_int_equal(rxbuf[1] & 0x10, 0);
	uint8_t speed[12] = {0xbb, 0, 0xff, 0xff};
	expect_ok(cmd(f, 0, speed));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test_setup_teardown(test_signature_and_identify, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_seabios_read, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_inquiry, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_unit_ready_and_sense, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_read_capacity, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_read_pio, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_read_dma, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_read_toc, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_get_configuration, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_mode_sense, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_disc_and_track_info, setup, teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
