/* What the IDE test programs share: a PCI machine with the PIIX3 IDE function
 * set up the way SeaBIOS leaves it, image files with known bytes, and the
 * register-level steps of the ATA, ATAPI and bus-master protocols as
 * SeaBIOS and Linux libata perform them. */
#ifndef OSIO_TEST_IDE_H
#define OSIO_TEST_IDE_H

#include "devices/pci.h"
#include "tests/devices/harness.h"

#include <fcntl.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define PRI	  0x1f0
#define PRI_CTL	  0x3f6
#define SEC	  0x170
#define SEC_CTL	  0x376
#define BM_BASE	  0xc000
#define IDE_DEVFN PCI_DEVFN(1, 1)

/* Task file offsets and bits (ATA/ATAPI-6). */
#define R_DATA	 0
#define R_ERROR	 1
#define R_FEAT	 1
#define R_NSECT	 2
#define R_LBAL	 3
#define R_LBAM	 4
#define R_LBAH	 5
#define R_DEV	 6
#define R_STATUS 7
#define R_CMD	 7
#define S_BSY	 0x80
#define S_DRDY	 0x40
#define S_DSC	 0x10
#define S_DRQ	 0x08
#define S_ERR	 0x01
#define CTL_HOB	 0x80
#define CTL_SRST 0x04
#define CTL_NIEN 0x02
#define CTL_OBS	 0x08

/* Bus master registers, relative to a channel's block. */
#define BMI_CMD	   0
#define BMI_STATUS 2
#define BMI_PRD	   4
#define BM_START   0x01
#define BM_TO_MEM  0x08
#define BM_ACTIVE  0x01
#define BM_ERROR   0x02
#define BM_INT	   0x04

#define RAM_SIZE (32u << 20)

/* The byte at offset off of a test image; seed tells images apart. */
static inline uint8_t img_byte(uint64_t off, uint8_t seed)
{
	return (uint8_t)(off * 31 + (off >> 9) * 7 + (off >> 17) + seed);
}

static inline void make_image(char *path, size_t pathlen, uint64_t size, uint8_t seed)
{
	snprintf(path, pathlen, "/tmp/osio-ide-XXXXXX");
	int fd = mkstemp(path);
	assert_true(fd >= 0);
	enum { CHUNK = 1 << 16 };
	uint8_t *buf = malloc(CHUNK);
	for (uint64_t off = 0; off < size; off += CHUNK) {
		size_t n = size - off < CHUNK ? (size_t)(size - off) : CHUNK;
		for (size_t i = 0; i < n; i++)
			buf[i] = img_byte(off + i, seed);
		assert_int_equal(pwrite(fd, buf, n, (off_t)off), (ssize_t)n);
	}
	free(buf);
	close(fd);
}

static inline void file_read(const char *path, void *buf, size_t len, uint64_t off)
{
	int fd = open(path, O_RDONLY);
	assert_true(fd >= 0);
	assert_int_equal(pread(fd, buf, len, (off_t)off), (ssize_t)len);
	close(fd);
}

/* Checks len bytes at p against the image pattern from offset off. */
static inline void check_pattern(const uint8_t *p, size_t len, uint64_t off, uint8_t seed)
{
	for (size_t i = 0; i < len; i++)
		if (p[i] != img_byte(off + i, seed))
			fail_msg("byte %zu (offset %llu): 0x%02x, expected 0x%02x", i,
				 (unsigned long long)(off + i), p[i], img_byte(off + i, seed));
}

/* --- PCI ------------------------------------------------------------------------ */

static inline uint32_t cfg_read(struct harness *h, unsigned devfn, unsigned reg, unsigned size)
{
	houtl(h, 0xcf8, 0x80000000u | devfn << 8 | (reg & 0xfc));
	if (size == 1)
		return hinb(h, (uint16_t)(0xcfc + (reg & 3)));
	if (size == 2)
		return hinw(h, (uint16_t)(0xcfc + (reg & 2)));
	return hinl(h, 0xcfc);
}

static inline void cfg_write(struct harness *h, unsigned devfn, unsigned reg, uint32_t v,
			     unsigned size)
{
	houtl(h, 0xcf8, 0x80000000u | devfn << 8 | (reg & 0xfc));
	if (size == 1)
		houtb(h, (uint16_t)(0xcfc + (reg & 3)), (uint8_t)v);
	else if (size == 2)
		houtw(h, (uint16_t)(0xcfc + (reg & 2)), (uint16_t)v);
	else
		houtl(h, 0xcfc, v);
}

/* What SeaBIOS does to the function: IDETIM decode enable on both
 * channels, BAR4 placed, I/O space and bus mastering on. */
static inline void bios_pci_setup(struct harness *h)
{
	cfg_write(h, IDE_DEVFN, 0x40, 0x8000, 2);
	cfg_write(h, IDE_DEVFN, 0x42, 0x8000, 2);
	cfg_write(h, IDE_DEVFN, PCI_BASE_ADDRESS_0 + 16, BM_BASE, 4);
	cfg_write(h, IDE_DEVFN, PCI_COMMAND, PCI_COMMAND_IO | PCI_COMMAND_MASTER, 2);
}

/* A PCI machine with 32 MiB of RAM and the IDE function (args: its drives). */
static inline struct harness *ide_machine(const char *args)
{
	struct harness *h = calloc(1, sizeof(*h));
	harness_init(h, RAM_SIZE);
	harness_add(h, "i440fx", "i440fx", NULL);
	harness_add(h, "piix3", "piix3", NULL);
	harness_add(h, "piix-ide", "ide", args);
	bios_pci_setup(h);
	return h;
}

static inline void ide_machine_free(struct harness *h)
{
	harness_fini(h);
	free(h);
}

/* --- waiting ------------------------------------------------------------------ */

struct wait_ctx {
	struct harness *h;
	uint16_t port;
	uint8_t mask, want;
};

static inline bool reg_matches(void *opaque)
{
	struct wait_ctx *w = opaque;
	return (hinb(w->h, w->port) & w->mask) == w->want;
}

/* Polls the alternate status (which leaves the interrupt alone) until BSY
 * clears; fails the test after 5 s. Returns the status. */
static inline uint8_t wait_not_busy(struct harness *h, uint16_t ctl)
{
	struct wait_ctx w = {h, ctl, S_BSY, 0};
	if (!reg_matches(&w))
		assert_true(harness_run_until(h, 5000, reg_matches, &w));
	return hinb(h, ctl);
}

/* Until the bus master's interrupt bit is set. */
static inline uint8_t wait_bm_int(struct harness *h, uint16_t bm)
{
	struct wait_ctx w = {h, (uint16_t)(bm + BMI_STATUS), BM_INT, BM_INT};
	if (!reg_matches(&w))
		assert_true(harness_run_until(h, 5000, reg_matches, &w));
	return hinb(h, (uint16_t)(bm + BMI_STATUS));
}

/* --- ATA ------------------------------------------------------------------------ */

/* Writes the task file for a command and the command itself, as SeaBIOS's
 * send_cmd does: for 48-bit commands the high bytes first. */
static inline void ata_command(struct harness *h, uint16_t base, unsigned unit, uint8_t cmd,
			       uint8_t feature, uint32_t count, uint64_t lba, bool ext)
{
	houtb(h, (uint16_t)(base + R_DEV),
	      (uint8_t)(0xe0 | unit << 4 | (ext ? 0 : (lba >> 24) & 0xf)));
	if (ext) {
		houtb(h, (uint16_t)(base + R_FEAT), 0);
		houtb(h, (uint16_t)(base + R_NSECT), (uint8_t)(count >> 8));
		houtb(h, (uint16_t)(base + R_LBAL), (uint8_t)(lba >> 24));
		houtb(h, (uint16_t)(base + R_LBAM), (uint8_t)(lba >> 32));
		houtb(h, (uint16_t)(base + R_LBAH), (uint8_t)(lba >> 40));
	}
	houtb(h, (uint16_t)(base + R_FEAT), feature);
	houtb(h, (uint16_t)(base + R_NSECT), (uint8_t)count);
	houtb(h, (uint16_t)(base + R_LBAL), (uint8_t)lba);
	houtb(h, (uint16_t)(base + R_LBAM), (uint8_t)(lba >> 8));
	houtb(h, (uint16_t)(base + R_LBAH), (uint8_t)(lba >> 16));
	houtb(h, (uint16_t)(base + R_CMD), cmd);
}

static inline void pio_in(struct harness *h, uint16_t base, void *buf, size_t bytes)
{
	uint8_t *p = buf;
	for (size_t i = 0; i < bytes; i += 2) {
		uint16_t w = hinw(h, base);
		p[i] = (uint8_t)w;
		if (i + 1 < bytes)
			p[i + 1] = (uint8_t)(w >> 8);
	}
}

static inline void pio_out(struct harness *h, uint16_t base, const void *buf, size_t bytes)
{
	const uint8_t *p = buf;
	for (size_t i = 0; i < bytes; i += 2)
		houtw(h, base, (uint16_t)(p[i] | (i + 1 < bytes ? p[i + 1] << 8 : 0)));
}

/* IDENTIFY (DEVICE or PACKET DEVICE) by PIO; returns the status after the
 * command, and the 256 words in id when it succeeded. */
static inline uint8_t identify(struct harness *h, uint16_t base, uint16_t ctl, unsigned unit,
			       uint8_t cmd, uint16_t *id)
{
	houtb(h, (uint16_t)(base + R_DEV), (uint8_t)(0xa0 | unit << 4));
	houtb(h, (uint16_t)(base + R_CMD), cmd);
	uint8_t st = wait_not_busy(h, ctl);
	if ((st & (S_DRQ | S_ERR)) != S_DRQ)
		return st;
	uint8_t raw[512];
	pio_in(h, base, raw, sizeof(raw));
	for (int i = 0; i < 256; i++)
		id[i] = (uint16_t)(raw[2 * i] | raw[2 * i + 1] << 8);
	return st;
}

/* --- bus master --------------------------------------------------------------- */

static inline void prd_set(struct harness *h, uint32_t table, unsigned i, uint32_t addr,
			   uint32_t count, bool eot)
{
	uint8_t *p = hram(h, table + 8 * i, 8);
	uint32_t c = (count & 0xffff) | (eot ? 0x80000000u : 0);
	for (int b = 0; b < 4; b++) {
		p[b] = (uint8_t)(addr >> (8 * b));
		p[4 + b] = (uint8_t)(c >> (8 * b));
	}
}

/* Linux's ata_bmdma_setup: table address, direction, start bit clear. */
static inline void bm_setup(struct harness *h, uint16_t bm, uint32_t table, bool to_mem)
{
	houtl(h, (uint16_t)(bm + BMI_PRD), table);
	uint8_t cmd = hinb(h, (uint16_t)(bm + BMI_CMD)) & (uint8_t) ~(BM_TO_MEM | BM_START);
	houtb(h, (uint16_t)(bm + BMI_CMD), (uint8_t)(cmd | (to_mem ? BM_TO_MEM : 0)));
	houtb(h, (uint16_t)(bm + BMI_STATUS), BM_ERROR | BM_INT); /* clear them */
}

static inline void bm_start(struct harness *h, uint16_t bm)
{
	houtb(h, (uint16_t)(bm + BMI_CMD), (uint8_t)(hinb(h, (uint16_t)(bm + BMI_CMD)) | BM_START));
}

static inline void bm_stop(struct harness *h, uint16_t bm)
{
	houtb(h, (uint16_t)(bm + BMI_CMD),
	      (uint8_t)(hinb(h, (uint16_t)(bm + BMI_CMD)) & ~BM_START));
}

/* --- ATAPI ------------------------------------------------------------------------ */

struct packet_result {
	uint8_t status; /* at the end */
	uint8_t error;
	uint8_t ireason;
	size_t bytes;	 /* data received */
	unsigned blocks; /* DRQ data blocks */
	unsigned irqs;	 /* interrupts seen on the channel's line */
	size_t max_block;
};

/* One packet command in PIO, driven by interrupts as libata's HSM does:
 * PACKET with the byte count limit, the 12 bytes, then each DRQ block of
 * the size the device puts in LBA mid/high, until the ending interrupt. */
static inline struct packet_result atapi_pio(struct harness *h, uint16_t base, uint16_t ctl,
					     unsigned irq, unsigned unit, const uint8_t cdb[12],
					     uint16_t bcl, void *buf, size_t bufsize)
{
	struct packet_result r = {0};
	unsigned raised = h->irq_raised[irq];
	houtb(h, ctl, CTL_OBS);
	houtb(h, (uint16_t)(base + R_DEV), (uint8_t)(0xa0 | unit << 4));
	houtb(h, (uint16_t)(base + R_FEAT), 0);
	houtb(h, (uint16_t)(base + R_LBAM), (uint8_t)bcl);
	houtb(h, (uint16_t)(base + R_LBAH), (uint8_t)(bcl >> 8));
	houtb(h, (uint16_t)(base + R_CMD), 0xa0);
	uint8_t st = wait_not_busy(h, ctl);
	assert_int_equal(st & (S_DRQ | S_ERR), S_DRQ);
	assert_int_equal(hinb(h, (uint16_t)(base + R_NSECT)) & 3, 1); /* C/D, to the device */
	pio_out(h, base, cdb, 12);
	uint8_t *out = buf;
	for (;;) {
		wait_not_busy(h, ctl);
		assert_true(h->irq_level[irq]);
		st = hinb(h, (uint16_t)(base + R_STATUS)); /* acknowledges */
		assert_false(h->irq_level[irq]);
		if (!(st & S_DRQ))
			break;
		uint8_t ir = hinb(h, (uint16_t)(base + R_NSECT)) & 3;
		assert_int_equal(ir, 2); /* data, to the host */
		size_t n = hinb(h, (uint16_t)(base + R_LBAM)) | hinb(h, (uint16_t)(base + R_LBAH))
								    << 8;
		assert_true(n > 0);
		assert_true(n <= (bcl ? bcl : 0xfffe));
		uint8_t tmp[0x10000];
		pio_in(h, base, tmp, n);
		size_t keep = r.bytes + n <= bufsize ? n : bufsize - r.bytes;
		memcpy(out + r.bytes, tmp, keep);
		r.bytes += n;
		r.blocks++;
		if (n > r.max_block)
			r.max_block = n;
	}
	r.status = st;
	r.error = hinb(h, (uint16_t)(base + R_ERROR));
	r.ireason = hinb(h, (uint16_t)(base + R_NSECT)) & 3;
	r.irqs = h->irq_raised[irq] - raised;
	return r;
}

#endif
