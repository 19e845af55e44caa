/* The MMC commands of the DVD-ROM drive (SPC-3, MMC-3..5), as SeaBIOS, GRUB
 * and Linux sr/cdrom send them: each builds its reply in the drive's buffer
 * for atapi.c to hand over. Unit attention and medium checks come first. */
#include "devices/ide/ide_int.h"

#include "hypervisor/bytes.h"

#include <string.h>

enum {
	MMC_TEST_UNIT_READY = 0x00,
	MMC_REQUEST_SENSE = 0x03,
	MMC_INQUIRY = 0x12,
	MMC_MODE_SENSE_6 = 0x1a,
	MMC_START_STOP_UNIT = 0x1b,
	MMC_PREVENT_ALLOW = 0x1e,
	MMC_READ_CAPACITY = 0x25,
	MMC_READ_10 = 0x28,
	MMC_SEEK_10 = 0x2b,
	MMC_READ_TOC = 0x43,
	MMC_GET_CONFIGURATION = 0x46,
	MMC_GET_EVENT_STATUS = 0x4a,
	MMC_READ_DISC_INFO = 0x51,
	MMC_READ_TRACK_INFO = 0x52,
	MMC_MODE_SENSE_10 = 0x5a,
	MMC_READ_12 = 0xa8,
	MMC_SET_CD_SPEED = 0xbb,
	MMC_MECHANISM_STATUS = 0xbd,
};

/* Discs up to this many sectors (80 minutes) are CDs, larger ones DVDs. */
#define CD_MAX_SECTORS	360000u
#define PROFILE_CD_ROM	0x0008
#define PROFILE_DVD_ROM 0x0010
#define LEADOUT		0xaa

/* Command properties. */
#define F_MEDIUM   0x01 /* needs a disc: NOT READY without one */
#define F_ALLOW_UA 0x02 /* runs while a unit attention is pending */

static uint16_t be16(const uint8_t *p)
{
	return (uint16_t)(p[0] << 8 | p[1]);
}

static void invalid_field(struct ide_drive *d)
{
	atapi_check(d, SK_ILLEGAL_REQUEST, ASC_INVALID_FIELD, 0);
}

static uint16_t current_profile(const struct ide_drive *d)
{
	if (!atapi_medium(d))
		return 0;
	return d->sectors > CD_MAX_SECTORS ? PROFILE_DVD_ROM : PROFILE_CD_ROM;
}

/* Minutes, seconds, frames of an LBA (150 frames of lead-in before LBA
 * 0), at most 255:59:74 for DVD-sized discs. */
static void put_msf(uint8_t *p, uint64_t lba)
{
	uint64_t f = lba + 150;
	uint64_t m = f / (75 * 60);
	if (m > 255) {
		p[0] = 255, p[1] = 59, p[2] = 74;
		return;
	}
	p[0] = (uint8_t)m;
	p[1] = (uint8_t)(f / 75 % 60);
	p[2] = (uint8_t)(f % 75);
}

/* An address in a TOC descriptor: LBA, or 0:M:S:F. */
static void put_addr(uint8_t *p, uint64_t lba, bool msf)
{
	if (msf) {
		p[0] = 0;
		put_msf(p + 1, lba);
	} else {
		put_be32(p, (uint32_t)lba);
	}
}

/* --- commands that need no disc --------------------------------------------- */

static void request_sense(struct ide_drive *d)
{
	struct atapi_state *a = &d->atapi;
	uint8_t *b = d->buf;
	memset(b, 0, 18);
	if (a->ua) {
		a->ua = false;
		a->sense_key = SK_UNIT_ATTENTION;
		a->asc = ASC_MEDIUM_CHANGED;
		a->ascq = 0;
	}
	b[0] = 0x70; /* current error, fixed format */
	b[2] = a->sense_key;
	b[7] = 10; /* additional sense length */
	b[12] = a->asc;
	b[13] = a->ascq;
	a->sense_key = a->asc = a->ascq = 0;
	atapi_reply(d, 18, a->cdb[4]);
}

static void inquiry(struct ide_drive *d)
{
	const uint8_t *c = d->atapi.cdb;
	if ((c[1] & 1) || c[2]) {
		invalid_field(d); /* no vital product data pages */
		return;
	}
	uint8_t *b = d->buf;
	memset(b, 0, 36);
	b[0] = 0x05; /* CD/DVD device */
	b[1] = 0x80; /* removable */
	b[2] = 0x05; /* SPC-3 */
	b[3] = 0x32; /* ATAPI, response data format 2 */
	b[4] = 36 - 5;
	memcpy(b + 8, "OSIO    ", 8);
	memcpy(b + 16, "DVD-ROM         ", 16);
	memset(b + 32, ' ', 4);
	memcpy(b + 32, OSIO_VERSION, strlen(OSIO_VERSION) < 4 ? strlen(OSIO_VERSION) : 4);
	atapi_reply(d, 36, be16(c + 3));
}

/* Mode pages: read error recovery, CD device parameters, capabilities. */
static uint32_t mode_page(const struct ide_drive *d, uint8_t page, bool changeable, uint8_t *p)
{
	switch (page) {
	case 0x01:
		memset(p, 0, 12);
		p[0] = 0x01;
		p[1] = 10;
		if (!changeable)
			p[3] = 5; /* read retry count */
		return 12;
	case 0x0d:
		memset(p, 0, 8);
		p[0] = 0x0d;
		p[1] = 6;
		if (!changeable) {
			p[5] = 60; /* S units per M */
			p[7] = 75; /* F units per S */
		}
		return 8;
	case 0x2a:
		memset(p, 0, 20);
		p[0] = 0x2a;
		p[1] = 18;
		if (changeable)
			return 20;
		p[2] = 0x3f; /* reads CD-R, CD-RW, method 2, DVD-ROM, -R, -RAM */
		p[4] = 0x70; /* mode 2 form 1 and 2, multisession */
		/* Tray, eject, lock, and whether it is locked now. */
		p[6] = (uint8_t)(0x20 | 0x08 | 0x01 | (d->atapi.locked ? 0x02 : 0));
		put_be16(p + 8, 32 * 176);  /* maximum speed, kB/s */
		put_be16(p + 12, 512);	    /* buffer, KiB */
		put_be16(p + 14, 32 * 176); /* current speed */
		return 20;
	default:
		return 0;
	}
}

static void mode_sense(struct ide_drive *d, bool ten)
{
	const uint8_t *c = d->atapi.cdb;
	uint8_t pc = c[2] >> 6, page = c[2] & 0x3f;
	uint32_t alloc = ten ? be16(c + 7) : c[4];
	if (pc == 3) {
		atapi_check(d, SK_ILLEGAL_REQUEST, ASC_SAVING_UNSUPPORTED, 0);
		return;
	}
	if (ten && c[3]) {
		invalid_field(d); /* no subpages */
		return;
	}
	uint8_t *b = d->buf;
	uint32_t hdr = ten ? 8 : 4, len = hdr;
	memset(b, 0, hdr);
	static const uint8_t pages[] = {0x01, 0x0d, 0x2a};
	for (size_t i = 0; i < sizeof(pages); i++)
		if (page == 0x3f || page == pages[i])
			len += mode_page(d, pages[i], pc == 1, b + len);
	if (len == hdr) {
		invalid_field(d);
		return;
	}
	/* Medium type: a data disc, or door closed (open) and no disc. */
	uint8_t type = atapi_medium(d) ? 0x01 : d->atapi.tray_open ? 0x71 : 0x70;
	if (ten) {
		put_be16(b, (uint16_t)(len - 2));
		b[2] = type;
	} else {
		b[0] = (uint8_t)(len - 1);
		b[1] = type;
	}
	atapi_reply(d, len, alloc);
}

static void start_stop(struct ide_drive *d)
{
	struct atapi_state *a = &d->atapi;
	uint8_t f = a->cdb[4];
	if ((f >> 4) || !(f & 0x02)) {
		atapi_ok(d); /* power conditions, spinning up or down */
		return;
	}
	if (!(f & 0x01)) { /* eject */
		if (a->locked) {
			atapi_check(d, SK_ILLEGAL_REQUEST, ASC_REMOVAL_PREVENTED, 0x02);
			return;
		}
		if (!a->tray_open && d->blk)
			a->event = EV_MEDIA_REMOVAL;
		a->tray_open = true;
	} else if (a->tray_open) { /* load */
		a->tray_open = false;
		if (d->blk) {
			a->ua = true;
			a->event = EV_NEW_MEDIA;
		}
	}
	atapi_ok(d);
}

static void get_event_status(struct ide_drive *d)
{
	struct atapi_state *a = &d->atapi;
	const uint8_t *c = a->cdb;
	if (!(c[1] & 1)) {
		invalid_field(d); /* only polled operation */
		return;
	}
	uint8_t *b = d->buf;
	memset(b, 0, 8);
	b[3] = 0x10; /* supported classes: media */
	uint32_t len = 4;
	if (c[4] & 0x10) {
		b[2] = 0x04; /* media class */
		b[4] = a->event;
		b[5] = (uint8_t)((atapi_medium(d) ? 0x02 : 0) | (a->tray_open ? 0x01 : 0));
		a->event = EV_NONE;
		len = 8;
	} else {
		b[2] = 0x80; /* no event available for the classes asked */
	}
	put_be16(b, (uint16_t)(len - 2));
	atapi_reply(d, len, be16(c + 7));
}

/* One feature descriptor; returns its length. */
static uint32_t feature(const struct ide_drive *d, uint16_t code, uint8_t *p, bool *current)
{
	bool medium = atapi_medium(d);
	uint16_t profile = current_profile(d);
	memset(p, 0, 12);
	put_be16(p, code);
	switch (code) {
	case 0x0000: /* profile list */
		*current = true;
		p[2] = 0x03; /* persistent, current */
		p[3] = 8;
		put_be16(p + 4, PROFILE_DVD_ROM);
		p[6] = profile == PROFILE_DVD_ROM;
		put_be16(p + 8, PROFILE_CD_ROM);
		p[10] = profile == PROFILE_CD_ROM;
		return 12;
	case 0x0001: /* core: ATAPI */
		*current = true;
		p[2] = 0x03;
		p[3] = 4;
		put_be32(p + 4, 2);
		return 8;
	case 0x0002: /* morphing */
	case 0x0003: /* removable medium: tray, eject, lock */
		*current = true;
		p[2] = 0x03;
		p[3] = 4;
		if (code == 0x0003)
			p[4] = 0x20 | 0x08 | 0x01;
		return 8;
	case 0x0010: /* random readable */
		*current = medium;
		p[2] = medium ? 0x01 : 0;
		p[3] = 8;
		put_be32(p + 4, CD_SECTOR);
		put_be16(p + 8, profile == PROFILE_DVD_ROM ? 16 : 1);
		p[10] = 0x01; /* error recovery page present */
		return 12;
	case 0x001e: /* CD read */
		*current = profile == PROFILE_CD_ROM;
		p[2] = *current ? 0x01 : 0;
		p[3] = 4;
		return 8;
	case 0x001f: /* DVD read */
		*current = profile == PROFILE_DVD_ROM;
		p[2] = *current ? 0x01 : 0;
		return 4;
	default:
		return 0;
	}
}

static void get_configuration(struct ide_drive *d)
{
	const uint8_t *c = d->atapi.cdb;
	uint8_t rt = c[1] & 3;
	uint16_t start = be16(c + 2);
	if (rt == 3) {
		invalid_field(d);
		return;
	}
	static const uint16_t codes[] = {0x0000, 0x0001, 0x0002, 0x0003, 0x0010, 0x001e, 0x001f};
	uint8_t *b = d->buf;
	memset(b, 0, 8);
	uint32_t len = 8;
	for (size_t i = 0; i < sizeof(codes) / sizeof(codes[0]); i++) {
		if (codes[i] < start || (rt == 2 && codes[i] != start))
			continue;
		bool current = false;
		uint32_t n = feature(d, codes[i], b + len, &current);
		if (rt == 1 && !current)
			continue;
		len += n;
	}
	put_be32(b, len - 4);
	put_be16(b + 6, current_profile(d));
	atapi_reply(d, len, be16(c + 7));
}

static void mechanism_status(struct ide_drive *d)
{
	uint8_t *b = d->buf;
	memset(b, 0, 8);
	if (d->atapi.tray_open)
		b[1] = 0x10; /* door open */
	atapi_reply(d, 8, be16(d->atapi.cdb + 8));
}

/* --- commands on the disc ---------------------------------------------------- */

static void read_capacity(struct ide_drive *d)
{
	uint8_t *b = d->buf;
	put_be32(b, (uint32_t)(d->sectors - 1));
	put_be32(b + 4, CD_SECTOR);
	atapi_reply(d, 8, 8);
}

static void read_cmd(struct ide_drive *d, bool twelve)
{
	const uint8_t *c = d->atapi.cdb;
	uint64_t lba = get_be32(c + 2);
	uint32_t count = twelve ? get_be32(c + 6) : be16(c + 7);
	if (lba > d->sectors || count > d->sectors - lba) {
		atapi_check(d, SK_ILLEGAL_REQUEST, ASC_LBA_OUT_OF_RANGE, 0);
		return;
	}
	atapi_read(d, lba, count);
}

static void seek(struct ide_drive *d)
{
	if (get_be32(d->atapi.cdb + 2) >= d->sectors)
		atapi_check(d, SK_ILLEGAL_REQUEST, ASC_LBA_OUT_OF_RANGE, 0);
	else
		atapi_ok(d);
}

/* One track of data, in one session. */
static void read_toc(struct ide_drive *d)
{
	const uint8_t *c = d->atapi.cdb;
	bool msf = c[1] & 0x02;
	uint8_t format = c[2] & 0x0f;
	uint8_t track = c[6];
	if (!format)
		format = c[9] >> 6; /* where SFF-8020 drives took it from */
	uint8_t *b = d->buf;
	uint32_t len = 4;
	memset(b, 0, 4 + 4 * 11);
	b[2] = 1;
	b[3] = 1;
	switch (format) {
	case 0: /* TOC: track descriptors from `track` on, then the lead-out */
		if (track > 1 && track != LEADOUT) {
			invalid_field(d);
			return;
		}
		if (track <= 1) {
			b[len + 1] = 0x14; /* ADR 1, data track */
			b[len + 2] = 1;
			put_addr(b + len + 4, 0, msf);
			len += 8;
		}
		b[len + 1] = 0x14;
		b[len + 2] = LEADOUT;
		put_addr(b + len + 4, d->sectors, msf);
		len += 8;
		break;
	case 1: /* session information: the first track of the last session */
		b[len + 1] = 0x14;
		b[len + 2] = 1;
		put_addr(b + len + 4, 0, msf);
		len += 8;
		break;
	case 2: { /* full TOC: points A0, A1, A2 and track 1, addresses in MSF */
		static const uint8_t points[] = {0xa0, 0xa1, 0xa2, 1};
		for (int i = 0; i < 4; i++) {
			uint8_t *p = b + len;
			p[0] = 1; /* session */
			p[1] = 0x14;
			p[3] = points[i];
			if (points[i] == 0xa0 || points[i] == 0xa1)
				p[8] = 1; /* first, last track; disc type 00h */
			else if (points[i] == 0xa2)
				put_msf(p + 8, d->sectors);
			else
				put_msf(p + 8, 0);
			len += 11;
		}
		break;
	}
	default:
		invalid_field(d);
		return;
	}
	put_be16(b, (uint16_t)(len - 2));
	atapi_reply(d, len, be16(c + 7));
}

static void read_disc_info(struct ide_drive *d)
{
	const uint8_t *c = d->atapi.cdb;
	if (c[1] & 7) {
		invalid_field(d); /* only standard disc information */
		return;
	}
	uint8_t *b = d->buf;
	memset(b, 0, 34);
	put_be16(b, 32);
	b[2] = 0x0e;		       /* last session complete, disc complete */
	b[3] = 1;		       /* first track */
	b[4] = 1;		       /* sessions */
	b[5] = 1;		       /* first track of the last session */
	b[6] = 1;		       /* last track of the last session */
	b[7] = 0x20;		       /* unrestricted use */
	put_be32(b + 16, 0xffffffffu); /* no next session */
	put_be32(b + 20, 0xffffffffu);
	atapi_reply(d, 34, be16(c + 7));
}

static void read_track_info(struct ide_drive *d)
{
	const uint8_t *c = d->atapi.cdb;
	uint32_t addr = get_be32(c + 2);
	bool ok;
	switch (c[1] & 3) {
	case 0: /* the track holding an LBA */
		ok = addr < d->sectors;
		break;
	case 1: /* a track number */
	case 2: /* the first track of a session */
		ok = addr == 1;
		break;
	default:
		ok = false;
	}
	if (!ok) {
		invalid_field(d);
		return;
	}
	uint8_t *b = d->buf;
	memset(b, 0, 36);
	put_be16(b, 34);
	b[2] = 1;				/* track */
	b[3] = 1;				/* session */
	b[5] = 0x04;				/* data track, recorded uninterrupted */
	b[6] = 0x01;				/* data mode 1 */
	put_be32(b + 24, (uint32_t)d->sectors); /* track size */
	atapi_reply(d, 36, be16(c + 7));
}

/* --- dispatch ---------------------------------------------------------------- */

struct mmc_cmd {
	void (*fn)(struct ide_drive *d);
	uint8_t flags;
};

static void cmd_ok(struct ide_drive *d)
{
	atapi_ok(d);
}

static void cmd_prevent(struct ide_drive *d)
{
	d->atapi.locked = d->atapi.cdb[4] & 1;
	atapi_ok(d);
}

static void cmd_mode_sense_6(struct ide_drive *d)
{
	mode_sense(d, false);
}

static void cmd_mode_sense_10(struct ide_drive *d)
{
	mode_sense(d, true);
}

static void cmd_read_10(struct ide_drive *d)
{
	read_cmd(d, false);
}

static void cmd_read_12(struct ide_drive *d)
{
	read_cmd(d, true);
}

static const struct mmc_cmd commands[256] = {
    [MMC_TEST_UNIT_READY] = {cmd_ok, F_MEDIUM},
    [MMC_REQUEST_SENSE] = {request_sense, F_ALLOW_UA},
    [MMC_INQUIRY] = {inquiry, F_ALLOW_UA},
    [MMC_MODE_SENSE_6] = {cmd_mode_sense_6, 0},
    [MMC_START_STOP_UNIT] = {start_stop, 0},
    [MMC_PREVENT_ALLOW] = {cmd_prevent, 0},
    [MMC_READ_CAPACITY] = {read_capacity, F_MEDIUM},
    [MMC_READ_10] = {cmd_read_10, F_MEDIUM},
    [MMC_SEEK_10] = {seek, F_MEDIUM},
    [MMC_READ_TOC] = {read_toc, F_MEDIUM},
    [MMC_GET_CONFIGURATION] = {get_configuration, F_ALLOW_UA},
    [MMC_GET_EVENT_STATUS] = {get_event_status, F_ALLOW_UA},
    [MMC_READ_DISC_INFO] = {read_disc_info, F_MEDIUM},
    [MMC_READ_TRACK_INFO] = {read_track_info, F_MEDIUM},
    [MMC_MODE_SENSE_10] = {cmd_mode_sense_10, 0},
    [MMC_READ_12] = {cmd_read_12, F_MEDIUM},
    [MMC_SET_CD_SPEED] = {cmd_ok, 0},
    [MMC_MECHANISM_STATUS] = {mechanism_status, 0},
};

void mmc_exec(struct ide_drive *d)
{
	struct atapi_state *a = &d->atapi;
	const struct mmc_cmd *c = &commands[a->cdb[0]];
	if (a->cdb[0] != MMC_REQUEST_SENSE)
		a->sense_key = a->asc = a->ascq = 0;
	d->standby = false;
	if (!c->fn) {
		atapi_check(d, SK_ILLEGAL_REQUEST, ASC_INVALID_COMMAND, 0);
		return;
	}
	/* A changed disc is reported once, by the first command that may
	 * report it. */
	if (a->ua && !(c->flags & F_ALLOW_UA)) {
		a->ua = false;
		atapi_check(d, SK_UNIT_ATTENTION, ASC_MEDIUM_CHANGED, 0);
		return;
	}
	if ((c->flags & F_MEDIUM) && !atapi_medium(d)) {
		atapi_check(d, SK_NOT_READY, ASC_MEDIUM_NOT_PRESENT, 0);
		return;
	}
	c->fn(d);
}
