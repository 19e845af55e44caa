/* crashrec: the guest side of the crash-consistency test (tests/disk/crash/): numbered records
 * (tests/disk/crash/record.h) written group by group, each group followed by a FLUSH, and
 * "acked G" on COM1 once group G's flush has completed: from then on its records must survive a
 * crash of the VMM. The host kills the VMM at random moments and checks the image.
 *
 * Arguments: seed=N (required), bus=ide (default: PIIX IDE primary master, bus-master DMA and
 * FLUSH CACHE) | virtio (the first virtio-blk function, polled, T_OUT and T_FLUSH), start=LBA
 * (default 2048), stride=SECTORS between records (default 136), rec=SECTORS per record (default
 * 1), group=N records per flush (default 4), groups=N (default: as many as the disk holds).
 * After the last group the program reads every record back and checks it, so a run that is not
 * killed ends with RESULT: PASS in osio and in QEMU alike. */
#include "../../disk/crash/record.h"
#include "../lib/cmdline.h"
#include "../lib/ide.h"
#include "../lib/io.h"
#include "../lib/str.h"
#include "../lib/test.h"
#include "../lib/timer.h"
#include "../lib/uart.h"
#include "../lib/virtio.h"

#define SECTOR	  512u
#define MAX_GROUP 32u
#define WAIT_MS	  30000
#define QSIZE	  64u

/* virtio-blk (VIRTIO 1.2, 5.2): feature bits, request types, status. */
#define VBLK_ID		2
#define VBLK_F_BLK_SIZE 6
#define VBLK_F_FLUSH	9
#define VBLK_T_IN	0
#define VBLK_T_OUT	1
#define VBLK_T_FLUSH	4
#define VBLK_S_OK	0

enum bus { BUS_IDE, BUS_VIRTIO };

static enum bus bus = BUS_IDE;
static struct crashrec_layout lay = {.start = 2048, .stride = 136, .rec = 1, .group = 4};
static u64 capacity; /* sectors */

/* Record buffers of one group, and one PRD table / request slot per record. */
static u8 data[MAX_GROUP][CRASHREC_MAX_REC * SECTOR]
    __attribute__((section(".noinit"), aligned(4096)));
static u8 ring[VIRTQ_MEM_SIZE(QSIZE)] __attribute__((section(".noinit"), aligned(VIRTQ_ALIGN)));
static struct prd prds[MAX_GROUP][CRASHREC_MAX_REC * SECTOR / 4096 + 2]
    __attribute__((aligned(64)));
static struct vblk_hdr {
	u32 type, reserved;
	u64 sector;
} hdrs[MAX_GROUP] __attribute__((aligned(16)));
static volatile u8 statuses[MAX_GROUP];
static int heads[MAX_GROUP];

static struct ide_controller ide;
static const struct ide_channel *chan;
static struct virtio_dev vdev;
static struct virtq vq;

/* --- the two buses ----------------------------------------------------------------------- */

static bool ide_setup(void)
{
	u16 id[256];
	struct ide_result res;
	int err = ide_probe(&ide);

	if (!check(err == 0, "the PIIX IDE controller is there (%d)", err))
		return false;
	chan = &ide.chan[0];
	err = ide_identify(chan, 0, ATA_CMD_IDENTIFY, id, &res);
	if (!check(err == 0, "IDENTIFY DEVICE on the primary master (%d)", err))
		return false;
	if (!check(id[83] & (1u << 10), "the disk has 48-bit LBA"))
		return false;
	capacity = (u64)id[100] | (u64)id[101] << 16 | (u64)id[102] << 32 | (u64)id[103] << 48;
	return true;
}

static bool virtio_setup(void)
{
	if (!check(virtio_find(VBLK_ID, 0, &vdev), "a virtio-blk device") ||
	    !check(virtio_negotiate(&vdev, 1ull << VBLK_F_FLUSH | 1ull << VBLK_F_BLK_SIZE),
		   "virtio-blk accepts VERSION_1 and FEATURES_OK") ||
	    !check(virtio_accepted(&vdev, VBLK_F_FLUSH), "virtio-blk offers VIRTIO_BLK_F_FLUSH") ||
	    !check(virtio_queue_setup(&vdev, &vq, 0, QSIZE, ring, VIRTIO_NO_VECTOR),
		   "request queue 0 is set up"))
		return false;
	virtq_no_interrupt(&vq, true);
	virtio_driver_ok(&vdev);
	capacity = virtio_cfg64(&vdev, 0);
	return check(!(virtio_get_status(&vdev) & VIRTIO_STATUS_DEVICE_NEEDS_RESET),
		     "virtio-blk is running");
}

/* Waits for the n requests in reqs[] to come back; false on a bad status or a timeout. */
static bool virtio_wait(unsigned n)
{
	struct timeout t;
	unsigned left = n;

	timeout_start(&t, WAIT_MS);
	while (left) {
		u16 idx;
		u32 len;

		if (!virtq_get_used(&vq, &idx, &len)) {
			if (timeout_expired(&t))
				return check(false, "virtio-blk requests complete");
			pause();
			continue;
		}
		unsigned k;

		for (k = 0; k < n && heads[k] != idx; k++)
			;
		if (k == n)
			return check(false, "used id %u is one of ours", idx);
		heads[k] = -1;
		left--;
		if (statuses[k] != VBLK_S_OK)
			return check(false, "request %u ended with status %u", k, statuses[k]);
	}
	return true;
}

/* Adds request k: type over [lba, lba + sectors) with data[k] (no kick). */
static bool virtio_start(unsigned k, u32 type, u64 lba, u32 sectors, bool in)
{
	struct virtq_buf bufs[3];
	unsigned n = 0;

	hdrs[k] = (struct vblk_hdr){.type = type, .sector = lba};
	statuses[k] = 0xff;
	bufs[n++] = (struct virtq_buf){&hdrs[k], sizeof(hdrs[k]), false};
	if (sectors)
		bufs[n++] = (struct virtq_buf){data[k], sectors * SECTOR, in};
	bufs[n++] = (struct virtq_buf){(void *)&statuses[k], 1, true};
	heads[k] = virtq_add(&vq, bufs, n, NULL);
	return heads[k] >= 0 || check(false, "room in the queue for request %u", k);
}

/* Reads or writes n records, first..first+n-1, between data[0..n-1] and the disk. */
static bool records_io(u32 first, unsigned n, bool write)
{
	u32 bytes = lay.rec * SECTOR;

	if (bus == BUS_VIRTIO) {
		for (unsigned k = 0; k < n; k++)
			if (!virtio_start(k, write ? VBLK_T_OUT : VBLK_T_IN,
					  crashrec_lba(&lay, first + k), lay.rec, !write))
				return false;
		virtq_kick(&vdev, &vq);
		return virtio_wait(n);
	}
	for (unsigned k = 0; k < n; k++) {
		struct ide_result res;
		u32 np =
		    prd_build(prds[k], ARRAY_SIZE(prds[k]), (u32)(uintptr_t)data[k], bytes, 65536);
		int err;

		if (!np)
			return check(false, "a PRD table for %u bytes", bytes);
		err = ata_dma(chan, 0, write ? ATA_CMD_WRITE_DMA_EXT : ATA_CMD_READ_DMA_EXT,
			      crashrec_lba(&lay, first + k), lay.rec, prds[k], &res);
		if (err)
			return check(
			    false, "%s DMA of record %u: error %d (status 0x%x error 0x%x)",
			    write ? "WRITE" : "READ", first + k, err, res.status, res.error);
	}
	return true;
}

static bool flush(void)
{
	if (bus == BUS_VIRTIO) {
		if (!virtio_start(0, VBLK_T_FLUSH, 0, 0, false))
			return false;
		virtq_kick(&vdev, &vq);
		return virtio_wait(1);
	}
	struct ide_result res;
	int err = ata_nondata(chan, 0, ATA_CMD_FLUSH_CACHE, &res);

	return err == 0 || check(false, "FLUSH CACHE: error %d (status 0x%x error 0x%x)", err,
				 res.status, res.error);
}

/* --- the program ------------------------------------------------------------------------- */

static bool parse_args(u32 *groups)
{
	const char *b = arg_str("bus");
	u64 v;

	if (b && !strcmp(b, "virtio"))
		bus = BUS_VIRTIO;
	else if (b && strcmp(b, "ide"))
		return check(false, "bus=%s is ide or virtio", b);
	if (!check(arg_u64("seed", &v), "a seed=N argument"))
		return false;
	lay.seed = (u32)v;
	if (arg_u64("start", &v))
		lay.start = v;
	if (arg_u64("stride", &v))
		lay.stride = (u32)v;
	if (arg_u64("rec", &v))
		lay.rec = (u32)v;
	if (arg_u64("group", &v))
		lay.group = (u32)v;
	if (!check(lay.rec >= 1 && lay.rec <= CRASHREC_MAX_REC && lay.stride >= lay.rec &&
		       lay.group >= 1 && lay.group <= MAX_GROUP,
		   "rec=1..%u, stride>=rec, group=1..%u", CRASHREC_MAX_REC, MAX_GROUP))
		return false;
	*groups = 0;
	if (arg_u64("groups", &v))
		*groups = (u32)v;
	return true;
}

void test_main(void)
{
	u32 groups = 0, fit;

	if (!parse_args(&groups))
		return;
	if (!(bus == BUS_IDE ? ide_setup() : virtio_setup()))
		return;
	if (!check(capacity > lay.start + lay.rec, "the disk (%u sectors) reaches LBA %u",
		   (u32)capacity, (u32)lay.start + lay.rec))
		return;
	fit = (u32)((capacity - lay.start - lay.rec) / lay.stride + 1) / lay.group;
	if (!groups || groups > fit)
		groups = fit;
	printf("crashrec: seed %u, %s, %u groups of %u records of %u sectors at LBA %u + i * %u\n",
	       lay.seed, bus == BUS_IDE ? "ide" : "virtio", groups, lay.group, lay.rec,
	       (u32)lay.start, lay.stride);
	for (u32 g = 0; g < groups; g++) {
		u32 first = g * lay.group;

		for (u32 k = 0; k < lay.group; k++)
			for (u32 j = 0; j < lay.rec; j++)
				crashrec_fill(&lay, first + k, j, (u32 *)(data[k] + j * SECTOR));
		if (!records_io(first, lay.group, true) || !flush())
			return;
		printf("acked %u\n", g);
	}
	/* Not killed: every record must read back. */
	u32 bad = 0;

	for (u32 g = 0; g < groups; g++) {
		u32 first = g * lay.group;

		if (!records_io(first, lay.group, false))
			return;
		for (u32 k = 0; k < lay.group; k++)
			for (u32 j = 0; j < lay.rec; j++) {
				const char *why = crashrec_check(&lay, first + k, j,
								 (u32 *)(data[k] + j * SECTOR));

				if (why && !bad++)
					printf("record %u sector %u: %s\n", first + k, j, why);
			}
	}
	check(!bad, "the %u records of %u groups read back intact (%u bad sectors)",
	      groups * lay.group, groups, bad);
}
