/* What the ATAPI test programs share: a machine with a DVD drive holding a
 * CD-sized image (secondary master) and an empty one (secondary slave), a
 * DVD-sized image to swap in, and packet commands with their sense data. */
#ifndef OSIO_TEST_IDE_ATAPI_H
#define OSIO_TEST_IDE_ATAPI_H

#include "devices/ide/ide.h"
#include "tests/devices/test_ide.h"

#include <errno.h>

#define ISO_SECTORS  300u
#define ISO2_SECTORS 400000u /* a DVD-sized disc (sparse) */
#define TABLE	     0x10000u
#define BUF	     0x100000u

struct fx {
	struct harness *h;
	void *ide;
	char iso[64], iso2[64];
};

static inline int setup(void **state)
{
	struct fx *f = calloc(1, sizeof(*f));
	make_image(f->iso, sizeof(f->iso), ISO_SECTORS * 2048ull, 0x55);
	snprintf(f->iso2, sizeof(f->iso2), "/tmp/osio-ide-XXXXXX");
	int fd = mkstemp(f->iso2);
	assert_true(fd >= 0);
	assert_int_equal(ftruncate(fd, (off_t)ISO2_SECTORS * 2048), 0);
	uint8_t mark[2048];
	for (int i = 0; i < 2048; i++)
		mark[i] = img_byte((uint64_t)(ISO2_SECTORS - 1) * 2048 + i, 0x99);
	assert_int_equal(pwrite(fd, mark, 2048, (off_t)(ISO2_SECTORS - 1) * 2048), 2048);
	close(fd);
	char args[256];
	snprintf(args, sizeof(args), "drive2=dvd:%s,drive3=dvd:", f->iso);
	f->h = ide_machine(args);
	f->ide = machine_device(&f->h->m, "ide");
	houtb(f->h, SEC_CTL, CTL_OBS);
	*state = f;
	return 0;
}

static inline int teardown(void **state)
{
	struct fx *f = *state;
	ide_machine_free(f->h);
	unlink(f->iso);
	unlink(f->iso2);
	free(f);
	return 0;
}

static uint8_t rxbuf[1 << 20];

static inline uint32_t get_be32_(const uint8_t *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

static inline void put_be32_(uint8_t *p, uint32_t v)
{
	p[0] = (uint8_t)(v >> 24);
	p[1] = (uint8_t)(v >> 16);
	p[2] = (uint8_t)(v >> 8);
	p[3] = (uint8_t)v;
}

/* One packet to the secondary channel's device `unit`, PIO, bcl 0xfffe. */
static inline struct packet_result cmd(struct fx *f, unsigned unit, const uint8_t *cdb)
{
	memset(rxbuf, 0xee, 4096);
	return atapi_pio(f->h, SEC, SEC_CTL, 15, unit, cdb, 0xfffe, rxbuf, sizeof(rxbuf));
}

static inline void expect_ok(struct packet_result r)
{
	assert_int_equal(r.status & (S_BSY | S_DRQ | S_ERR | S_DRDY), S_DRDY);
	assert_int_equal(r.ireason, 3); /* I/O and C/D: the command is over */
}

struct sense {
	uint8_t key, asc, ascq;
};

static inline struct sense request_sense(struct fx *f, unsigned unit)
{
	uint8_t cdb[12] = {0x03, 0, 0, 0, 18};
	struct packet_result r = cmd(f, unit, cdb);
	expect_ok(r);
	assert_int_equal(r.bytes, 18);
	assert_int_equal(rxbuf[0], 0x70);
	assert_int_equal(rxbuf[7], 10);
	return (struct sense){rxbuf[2] & 0xf, rxbuf[12], rxbuf[13]};
}

/* A CHECK CONDITION with this sense: the key in the error register, and
 * REQUEST SENSE gives the rest (once). */
static inline void check_condition(struct fx *f, unsigned unit, struct packet_result r, uint8_t key,
				   uint8_t asc, uint8_t ascq)
{
	assert_int_equal(r.status & (S_BSY | S_DRQ | S_ERR | S_DRDY), S_DRDY | S_ERR);
	assert_int_equal(r.error, key << 4);
	assert_int_equal(r.ireason, 3);
	struct sense s = request_sense(f, unit);
	assert_int_equal(s.key, key);
	assert_int_equal(s.asc, asc);
	assert_int_equal(s.ascq, ascq);
	s = request_sense(f, unit);
	assert_int_equal(s.key, 0);
	assert_int_equal(s.asc, 0);
}

static inline void tur_ok(struct fx *f, unsigned unit)
{
	uint8_t tur[12] = {0};
	expect_ok(cmd(f, unit, tur));
}

/* GET EVENT STATUS NOTIFICATION, polled, media class. */
static inline uint8_t media_event(struct fx *f, unsigned unit, uint8_t *media_status)
{
	uint8_t cdb[12] = {0x4a, 1, 0, 0, 0x10, 0, 0, 0, 8};
	struct packet_result r = cmd(f, unit, cdb);
	expect_ok(r);
	assert_int_equal(r.bytes, 8);
	assert_int_equal(rxbuf[0] << 8 | rxbuf[1], 6);
	assert_int_equal(rxbuf[2], 0x04); /* media class, event available */
	assert_int_equal(rxbuf[3], 0x10);
	*media_status = rxbuf[5];
	return rxbuf[4] & 0xf;
}

#endif
