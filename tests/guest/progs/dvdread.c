/* dvdread: the DVD drive as a guest sees it while its disc is changed from outside. It finds the
 * first ATAPI device on the legacy IDE channels (the 0xEB14 signature after a soft reset, then
 * IDENTIFY PACKET DEVICE) and polls it every period: TEST UNIT READY; on CHECK CONDITION
 * REQUEST SENSE (06/28 = the medium changed, 02/3A = no medium); when ready READ CAPACITY(10)
 * and READ(10) of LBA 16, the ISO 9660 primary volume descriptor. A line is printed only when
 * what it sees changes:
 *
 *   dvd: ATAPI drive at secondary master           (once; the model on a peer: line)
 *   dvd: medium changed                            (a UNIT ATTENTION, each time)
 *   dvd: empty
 *   dvd: "VOLID" 2048-byte blocks N               (the volume identifier, spaces trimmed)
 *   dvd: no ISO 9660 volume, 2048-byte blocks N
 *   dvd: error WHAT                                (the drive broke the protocol: a failure)
 *
 * All but the first two are states; after a medium change the state is printed again even when
 * it is the same. Every byte count and length the drive gives is checked.
 *
 * Arguments: period=MS (default 200), stop=N (finish after the N-th state line; default 0:
 * never), time=S (finish after S seconds; with stop= it is a failure to get there first;
 * default 0: never), bcl=BYTES (the PACKET byte count limit, even, 2-65534; default 2048),
 * label=VOLID (the first state must be a disc with this volume identifier) or empty=1 (the first
 * state must be an empty drive). */
#include "../lib/cmdline.h"
#include "../lib/format.h"
#include "../lib/ide.h"
#include "../lib/io.h"
#include "../lib/str.h"
#include "../lib/test.h"
#include "../lib/timer.h"
#include "../lib/uart.h"

#define MMC_TEST_UNIT_READY 0x00
#define MMC_REQUEST_SENSE   0x03
#define MMC_READ_CAPACITY   0x25
#define MMC_READ_10	    0x28

#define SK_NOT_READY	   0x2
#define SK_UNIT_ATTENTION  0x6
#define ASC_MEDIUM_CHANGED 0x28
#define ASC_NO_MEDIUM	   0x3a

#define CD_BLOCK    2048u
#define PVD_LBA	    16u
#define SENSE_LEN   18u
#define LABEL_LEN   32u
#define ERR_LEN	    96u
#define MAX_RETRIES 4 /* unit attentions in a row within one look */

#define DC_NIEN 0x02 /* device control: no interrupts */
#define DC_SRST 0x04 /* device control: soft reset of both drives */

enum state_kind { ST_NONE, ST_EMPTY, ST_DISC, ST_NOT_ISO, ST_ERROR };

struct state {
	enum state_kind kind;
	u32 blocks;
	char label[LABEL_LEN + 1];
	char err[ERR_LEN];
};

/* How a command ended. */
enum outcome { CMD_OK, CMD_CHECK, CMD_BROKEN };

static struct ide_controller ide;
static const struct ide_channel *ch;
static unsigned drive;
static u16 bcl = CD_BLOCK;
static u8 sector[CD_BLOCK] __attribute__((aligned(16)));
static char why[ERR_LEN];
static u8 check_key; /* the sense key of the last CHECK CONDITION's error register */

static const char *const chan_names[2] = {"primary", "secondary"};
static const char *const drive_names[2] = {"master", "slave"};

static u32 be32(const u8 *p)
{
	return (u32)p[0] << 24 | (u32)p[1] << 16 | (u32)p[2] << 8 | p[3];
}

static u32 le32(const u8 *p)
{
	return (u32)p[3] << 24 | (u32)p[2] << 16 | (u32)p[1] << 8 | p[0];
}

/* One PACKET command with a PIO data-in phase of exactly want bytes (0: none): CMD_CHECK for a
 * CHECK CONDITION, CMD_BROKEN (with why filled in) when the drive broke the protocol or moved a
 * byte count it should not have. */
static enum outcome packet(const char *name, const u8 cdb[12], void *buf, u32 want, u32 min)
{
	struct ide_result res;
	int err = atapi_pio(ch, drive, cdb, buf, want, bcl, &res);

	if (err == -IDE_EIO && (res.status & ATA_ERR) && !(res.status & ATA_DF)) {
		check_key = res.error >> 4;
		return CMD_CHECK;
	}
	if (err) {
		snprintf(why, sizeof(why), "%s: IDE error %d, status 0x%x, error 0x%x", name, err,
			 res.status, res.error);
		return CMD_BROKEN;
	}
	if (res.bytes < min || res.bytes > want) {
		snprintf(why, sizeof(why), "%s: %u bytes moved, expected %u", name, res.bytes,
			 want);
		return CMD_BROKEN;
	}
	if (res.max_drq > bcl) {
		snprintf(why, sizeof(why), "%s: a %u-byte DRQ block over the byte count limit %u",
			 name, res.max_drq, bcl);
		return CMD_BROKEN;
	}
	return CMD_OK;
}

static void cdb_clear(u8 cdb[12], u8 opcode)
{
	memset(cdb, 0, 12);
	cdb[0] = opcode;
}

/* REQUEST SENSE after a CHECK CONDITION: the key (matching the error register's), ASC and
 * ASCQ. */
static enum outcome request_sense(u8 *key, u8 *asc, u8 *ascq)
{
	u8 cdb[12], data[SENSE_LEN];
	u8 reg_key = check_key;
	enum outcome o;

	memset(data, 0, sizeof(data));
	cdb_clear(cdb, MMC_REQUEST_SENSE);
	cdb[4] = SENSE_LEN;
	/* Fixed format: the ASC and ASCQ are bytes 12 and 13. */
	o = packet("REQUEST SENSE", cdb, data, SENSE_LEN, 14);
	if (o == CMD_CHECK) {
		snprintf(why, sizeof(why), "REQUEST SENSE: CHECK CONDITION (key %x)", check_key);
		return CMD_BROKEN;
	}
	if (o != CMD_OK)
		return o;
	if ((data[0] & 0x7f) != 0x70 && (data[0] & 0x7f) != 0x71) {
		snprintf(why, sizeof(why), "REQUEST SENSE: response code 0x%x, not fixed format",
			 data[0]);
		return CMD_BROKEN;
	}
	if (8u + data[7] < 14) {
		snprintf(why, sizeof(why), "REQUEST SENSE: additional length %u leaves out the ASC",
			 data[7]);
		return CMD_BROKEN;
	}
	*key = data[2] & 0x0f;
	*asc = data[12];
	*ascq = data[13];
	if (*key != reg_key) {
		snprintf(why, sizeof(why),
			 "sense key %x in the error register, %x in the sense data", reg_key, *key);
		return CMD_BROKEN;
	}
	return CMD_OK;
}

/* The volume identifier of a primary volume descriptor (a-characters, space padded) into
 * label; false when the sector is no ISO 9660 primary volume descriptor. */
static bool pvd_label(const u8 *pvd, char *label)
{
	u32 len = LABEL_LEN;

	if (pvd[0] != 1 || memcmp(pvd + 1, "CD001", 5) != 0 || pvd[6] != 1)
		return false;
	/* The volume space size is recorded both ways round (ECMA-119 7.3.3). */
	if (le32(pvd + 80) != be32(pvd + 84))
		return false;
	while (len && (pvd[40 + len - 1] == ' ' || pvd[40 + len - 1] == 0))
		len--;
	for (u32 i = 0; i < len; i++) {
		u8 c = pvd[40 + i];
		label[i] = c >= 0x20 && c < 0x7f && c != '"' ? (char)c : '?';
	}
	label[len] = 0;
	return true;
}

/* Handles a CHECK CONDITION: 1 when a unit attention says to look again (after printing the
 * medium change), 0 when *s now says what the drive reported. */
static int sensed(struct state *s, bool *changed)
{
	u8 key, asc, ascq;

	if (request_sense(&key, &asc, &ascq) != CMD_OK) {
		s->kind = ST_ERROR;
		return 0;
	}
	if (key == SK_UNIT_ATTENTION) {
		if (asc == ASC_MEDIUM_CHANGED)
			*changed = true;
		return 1;
	}
	if (key == SK_NOT_READY && asc == ASC_NO_MEDIUM) {
		s->kind = ST_EMPTY;
		return 0;
	}
	s->kind = ST_ERROR;
	snprintf(why, sizeof(why), "sense %02x/%02x/%02x", key, asc, ascq);
	return 0;
}

/* One look at the drive: what it holds now into *s; *changed when it reported a new medium. */
static void look(struct state *s, bool *changed)
{
	u8 cdb[12], cap[8];
	enum outcome o;

	*s = (struct state){.kind = ST_NONE};
	why[0] = 0;
	for (int tries = 0; tries < MAX_RETRIES; tries++) {
		cdb_clear(cdb, MMC_TEST_UNIT_READY);
		o = packet("TEST UNIT READY", cdb, NULL, 0, 0);
		if (o == CMD_OK) {
			cdb_clear(cdb, MMC_READ_CAPACITY);
			o = packet("READ CAPACITY", cdb, cap, sizeof(cap), sizeof(cap));
		}
		if (o == CMD_OK) {
			u32 last = be32(cap), len = be32(cap + 4);
			if (len != CD_BLOCK || last == 0xffffffffu) {
				snprintf(why, sizeof(why),
					 "READ CAPACITY: last block %u, block length %u", last,
					 len);
				s->kind = ST_ERROR;
				goto out;
			}
			s->blocks = last + 1;
			if (s->blocks <= PVD_LBA) {
				s->kind = ST_NOT_ISO;
				goto out;
			}
			cdb_clear(cdb, MMC_READ_10);
			cdb[2] = (u8)(PVD_LBA >> 24);
			cdb[3] = (u8)(PVD_LBA >> 16);
			cdb[4] = (u8)(PVD_LBA >> 8);
			cdb[5] = (u8)PVD_LBA;
			cdb[8] = 1; /* one block */
			memset(sector, 0, sizeof(sector));
			o = packet("READ(10) of LBA 16", cdb, sector, CD_BLOCK, CD_BLOCK);
		}
		if (o == CMD_OK) {
			s->kind = pvd_label(sector, s->label) ? ST_DISC : ST_NOT_ISO;
			goto out;
		}
		if (o == CMD_BROKEN) {
			s->kind = ST_ERROR;
			goto out;
		}
		if (!sensed(s, changed))
			goto out;
		/* A unit attention: the drive may be ready now. */
		*s = (struct state){.kind = ST_NONE};
	}
	s->kind = ST_ERROR;
	snprintf(why, sizeof(why), "%u unit attentions in a row", MAX_RETRIES);
out:
	if (s->kind == ST_ERROR)
		strlcpy(s->err, why, sizeof(s->err));
}

static bool same(const struct state *a, const struct state *b)
{
	if (a->kind != b->kind)
		return false;
	switch (a->kind) {
	case ST_DISC:
		return a->blocks == b->blocks && strcmp(a->label, b->label) == 0;
	case ST_NOT_ISO:
		return a->blocks == b->blocks;
	case ST_ERROR:
		return strcmp(a->err, b->err) == 0;
	default:
		return true;
	}
}

static void print_state(const struct state *s)
{
	switch (s->kind) {
	case ST_EMPTY:
		printf("dvd: empty\n");
		break;
	case ST_DISC:
		printf("dvd: \"%s\" 2048-byte blocks %u\n", s->label, s->blocks);
		break;
	case ST_NOT_ISO:
		printf("dvd: no ISO 9660 volume, 2048-byte blocks %u\n", s->blocks);
		break;
	case ST_ERROR:
		check(false, "dvd: error %s", s->err);
		break;
	case ST_NONE:
		break;
	}
}

/* Waits out a soft reset of the channel; false when it stays busy or no drive answers. */
static bool channel_reset(const struct ide_channel *c)
{
	u8 st;

	if (inb(c->ctl) == 0xff)
		return false; /* a floating bus: no drives */
	outb(c->ctl, DC_SRST | DC_NIEN);
	delay_ms(10);
	outb(c->ctl, DC_NIEN);
	delay_ms(10);
	return ide_wait_idle(c, &st) == 0 && st != 0xff;
}

/* The first drive with the ATAPI signature that takes IDENTIFY PACKET DEVICE as a CD/DVD
 * device (general configuration: ATAPI, device type 5). */
static bool find_drive(char *model)
{
	static u16 id[256];

	for (unsigned c = 0; c < 2; c++) {
		if (!channel_reset(&ide.chan[c]))
			continue;
		for (unsigned d = 0; d < 2; d++) {
			struct ide_result res;
			if (ide_select(&ide.chan[c], d) < 0 ||
			    ide_signature(&ide.chan[c]) != 0xeb14)
				continue;
			if (ide_identify(&ide.chan[c], d, ATA_CMD_ID_PACKET, id, &res) < 0)
				continue;
			if ((id[0] & 0xc000) != 0x8000 || ((id[0] >> 8) & 0x1f) != 5)
				continue;
			ch = &ide.chan[c];
			drive = d;
			ide_id_string(id, 27, 20, model);
			printf("dvd: ATAPI drive at %s %s\n", chan_names[c], drive_names[d]);
			return true;
		}
	}
	return false;
}

/* The first state against label= or empty=1. */
static void check_first(const struct state *s)
{
	const char *label = arg_str("label");
	u64 empty = 0;

	if (label)
		check(s->kind == ST_DISC && strcmp(s->label, label) == 0,
		      "the first state is the disc \"%s\"", label);
	if (arg_u64("empty", &empty) && empty)
		check(s->kind == ST_EMPTY, "the first state is an empty drive");
}

void test_main(void)
{
	u64 period = 200, stop = 0, seconds = 0, v;
	struct state seen = {.kind = ST_NONE}, now;
	char model[41];
	u32 states = 0;

	arg_u64("period", &period);
	arg_u64("stop", &stop);
	arg_u64("time", &seconds);
	if (arg_u64("bcl", &v)) {
		if (!check(v >= 2 && v <= 0xfffe && !(v & 1), "bcl=%u is even, 2-65534", (u32)v))
			test_finish();
		bcl = (u16)v;
	}
	if (period < 10)
		period = 10;
	if (!check(ide_probe(&ide) == 0, "ide: PIIX IDE controller at 00:01.1"))
		test_abort();
	if (!check(find_drive(model), "an ATAPI CD/DVD drive on the legacy IDE channels"))
		test_finish();
	printf("peer: dvd model \"%s\"\n", model);

	/* Between looks the CPU sleeps until the PIT's next 100 Hz tick. */
	u32 per = (u32)((period + 9) / 10), end = (u32)(seconds * 100);
	pit_ticks_start(100);
	sti();
	for (;;) {
		bool changed = false;
		look(&now, &changed);
		if (changed) {
			printf("dvd: medium changed\n");
			seen.kind = ST_NONE;
		}
		if (now.kind != ST_NONE && !same(&now, &seen)) {
			print_state(&now);
			seen = now;
			if (states++ == 0)
				check_first(&now);
			if (stop && states >= stop)
				break;
		}
		if (end && (s32)(pit_ticks - end) >= 0) {
			if (stop)
				check(false, "only %u of the %u states came in %u s", states,
				      (u32)stop, (u32)seconds);
			break;
		}
		pit_sleep_until(pit_ticks + per);
	}
	cli();
	pit_ticks_stop();
}
