/* vblk: a virtio-blk disk from inside the VM (virtio 1.2, 5.2): features, capacity, serial
 * (T_GET_ID), then checksummed pattern sectors (boot/media.h, magic MEDIA_MAGIC_WRITTEN: the host
 * can check them) written over the disk or a range with many requests in flight on every queue,
 * direct and indirect chains of several segments, a FLUSH, and a read back that verifies them.
 *
 * Arguments: mode=rw (default) | ro (the disk is read-only: RO offered, reads work, a write ends
 * with VIRTIO_BLK_S_IOERR) | zero (also WRITE_ZEROES with and without UNMAP and DISCARD over
 * parts of the range: zeroed sectors read back as zeroes, the rest keeps its pattern) | read
 * (reads the range passes=N times, timed, no writes: a benchmark) | verify (reads the range and
 * checks that it holds the pattern an earlier run wrote);
 * start=SECTOR count=SECTORS (default: the whole disk), depth=N requests in flight (default 32),
 * reqsize=BYTES per request (default 64K), irq=msix (default) | poll, queues=N and serial=TEXT
 * (what the device must report), disk=N (the N-th virtio-blk function, default 0). */
#include "../boot/media.h"
#include "../lib/cmdline.h"
#include "../lib/idt.h"
#include "../lib/io.h"
#include "../lib/lapic.h"
#include "../lib/str.h"
#include "../lib/test.h"
#include "../lib/timer.h"
#include "../lib/uart.h"
#include "../lib/virtio.h"

/* virtio-blk feature bits (5.2.3), request types and status (5.2.6). */
#define VBLK_F_SEG_MAX	    2
#define VBLK_F_RO	    5
#define VBLK_F_BLK_SIZE	    6
#define VBLK_F_FLUSH	    9
#define VBLK_F_TOPOLOGY	    10
#define VBLK_F_MQ	    12
#define VBLK_F_DISCARD	    13
#define VBLK_F_WRITE_ZEROES 14
#define VBLK_T_IN	    0
#define VBLK_T_OUT	    1
#define VBLK_T_FLUSH	    4
#define VBLK_T_GET_ID	    8
#define VBLK_T_DISCARD	    11
#define VBLK_T_WRITE_ZEROES 13
#define VBLK_S_OK	    0
#define VBLK_S_IOERR	    1
#define VBLK_ID_BYTES	    20

#define MAX_QUEUES    8
#define QUEUE_SIZE    256
#define RING_BYTES    VIRTQ_MEM_SIZE(QUEUE_SIZE)
#define MAX_DEPTH     32
#define MAX_REQ	      (64 * KiB)
#define MAX_SEGS      16 /* data segments of one request */
#define SECTOR	      512u
#define VECTOR_BASE   0x40
#define WAIT_MS	      30000 /* without any completion: the device is stuck */
#define ANY_STATUS    0xff
#define PATTERN_MAGIC MEDIA_MAGIC_WRITTEN /* boot/media.h: "OSRW" */

enum mode { MODE_RW, MODE_RO, MODE_ZERO, MODE_READ, MODE_VERIFY };

/* The device configuration (5.2.4) this program uses. */
struct vblk_config {
	u64 capacity; /* 512-byte sectors */
	u32 seg_max, blk_size;
	u8 physical_block_exp;
	u16 num_queues;
	u32 max_discard_sectors, discard_sector_alignment, max_write_zeroes_sectors;
};

/* One request slot: the chain (header, data pieces, status), whether it goes through its
 * indirect table. */
struct slot {
	struct virtq_buf bufs[MAX_SEGS + 2];
	unsigned nbufs;
	bool indirect;
	bool busy;
	unsigned q;
	int head;
	u32 lba, sectors;
	u8 expect; /* status */
	bool verify;
};

static u8 rings[MAX_QUEUES][RING_BYTES] __attribute__((section(".noinit"), aligned(4096)));
static u8 data[MAX_DEPTH][MAX_REQ] __attribute__((section(".noinit"), aligned(4096)));
static struct virtq_desc tables[MAX_DEPTH][MAX_SEGS + 2]
    __attribute__((section(".noinit"), aligned(16)));
static u8 hdrs[MAX_DEPTH][16] __attribute__((aligned(16)));
static volatile u8 statuses[MAX_DEPTH];
static struct slot slots[MAX_DEPTH];

static struct virtio_dev dev;
static struct virtq vqs[MAX_QUEUES];
static struct vblk_config cfg;
static unsigned nqueues;
static enum mode mode = MODE_RW;
static bool use_msix = true;
static unsigned depth = MAX_DEPTH;
static u32 reqsize = MAX_REQ;
static volatile u32 irqs[MAX_QUEUES];

/* Per-phase counts. */
struct phase {
	const char *name;
	u32 requests, sectors, bad_status, bad_data;
	u32 first_bad_lba;
	u32 ticks;
};

static void msix_handler(struct isr_frame *f)
{
	unsigned q = f->vector - VECTOR_BASE;

	if (q < MAX_QUEUES)
		irqs[q]++;
	lapic_write(LAPIC_EOI, 0);
}

static void fill(u8 *buf, u32 lba, u32 sectors)
{
	for (u32 i = 0; i < sectors; i++)
		media_fill_sector((u32 *)(buf + i * SECTOR), SECTOR / 4, PATTERN_MAGIC, lba + i);
}

static bool all_zero(const u8 *buf, u32 len)
{
	const u32 *w = (const u32 *)buf;

	for (u32 i = 0; i < len / 4; i++)
		if (w[i])
			return false;
	return true;
}

/* The header of slot s for type at sector, and the chain: header, the data pieces (device-
 * writable for T_IN and T_GET_ID), the status byte. */
static void chain(unsigned s, u32 type, u64 sector, bool in)
{
	struct slot *sl = &slots[s];
	u8 *h = hdrs[s];

	for (unsigned i = 0; i < 4; i++)
		h[i] = (u8)(type >> (8 * i));
	memset(h + 4, 0, 4);
	for (unsigned i = 0; i < 8; i++)
		h[8 + i] = (u8)(sector >> (8 * i));
	statuses[s] = 0xff;
	sl->bufs[0] = (struct virtq_buf){h, 16, false};
	for (unsigned i = 1; i + 1 < sl->nbufs; i++)
		sl->bufs[i].write = in;
	sl->bufs[sl->nbufs - 1] = (struct virtq_buf){(void *)&statuses[s], 1, true};
}

/* Lays out slot s's data pieces: one whole buffer, or pieces (4 direct, 2 splitting a sector,
 * or 16 through an indirect table) within the device's seg_max. */
static void layout(unsigned s, u32 bytes)
{
	struct slot *sl = &slots[s];
	unsigned want = 1, n = 1;
	bool indirect = false;

	switch (s % 4) {
	case 1:
		want = 4;
		break;
	case 2:
		want = MAX_SEGS;
		indirect = virtio_accepted(&dev, VIRTIO_F_INDIRECT_DESC);
		if (!indirect)
			want = 4;
		break;
	case 3:
		want = 2;
		break;
	}
	if (virtio_accepted(&dev, VBLK_F_SEG_MAX) && cfg.seg_max && want > cfg.seg_max)
		want = cfg.seg_max;
	if (s % 4 == 3 && want == 2 && bytes >= 2 * SECTOR) {
		sl->bufs[n++] = (struct virtq_buf){data[s], 100, false};
		sl->bufs[n++] = (struct virtq_buf){data[s] + 100, bytes - 100, false};
	} else {
		u32 sectors = bytes / SECTOR, per = (sectors + want - 1) / want, off = 0;

		while (off < bytes) {
			u32 len = per * SECTOR;

			if (len > bytes - off)
				len = bytes - off;
			sl->bufs[n++] = (struct virtq_buf){data[s] + off, len, false};
			off += len;
		}
	}
	sl->nbufs = n + 1;
	sl->indirect = indirect && n > 2;
}

/* Queues slot s's chain on its queue and notifies the device; -1 when the ring is full. */
static int submit(unsigned s)
{
	struct slot *sl = &slots[s];
	int head = virtq_add(&vqs[sl->q], sl->bufs, sl->nbufs, sl->indirect ? tables[s] : NULL);

	if (head >= 0)
		virtq_kick(&dev, &vqs[sl->q]);
	return head;
}

/* Takes every completion there is; returns how many. */
static unsigned reap(struct phase *ph)
{
	unsigned done = 0;

	for (unsigned q = 0; q < nqueues; q++) {
		u16 id;
		u32 len;

		while (virtq_get_used(&vqs[q], &id, &len)) {
			unsigned s;

			for (s = 0; s < depth; s++)
				if (slots[s].busy && slots[s].q == q && slots[s].head == id)
					break;
			if (s == depth) {
				check(false, "used id %u on queue %u belongs to a request", id, q);
				test_abort();
			}
			struct slot *sl = &slots[s];
			u8 st = statuses[s];

			sl->busy = false;
			done++;
			ph->requests++;
			ph->sectors += sl->sectors;
			if (sl->expect != ANY_STATUS && st != sl->expect) {
				if (!ph->bad_status)
					printf("%s: LBA %u+%u: status %u, expected %u\n", ph->name,
					       sl->lba, sl->sectors, st, sl->expect);
				ph->bad_status++;
				continue;
			}
			if (!sl->verify)
				continue;
			for (u32 i = 0; i < sl->sectors; i++) {
				const u32 *w = (const u32 *)(data[s] + i * SECTOR);

				if (media_check_sector(w, SECTOR / 4, PATTERN_MAGIC, sl->lba + i))
					continue;
				if (!ph->bad_data++ || sl->lba + i < ph->first_bad_lba)
					ph->first_bad_lba = sl->lba + i;
			}
		}
	}
	return done;
}

/* Waits for at least one completion (false after WAIT_MS without any). */
static bool wait_some(struct phase *ph)
{
	struct timeout t;

	timeout_start(&t, WAIT_MS);
	for (;;) {
		cli();
		if (reap(ph)) {
			sti();
			return true;
		}
		if (use_msix) {
			sti_hlt();
		} else {
			sti();
			pause();
		}
		if (timeout_expired(&t))
			return false;
	}
}

static bool busy_slots(void)
{
	for (unsigned s = 0; s < depth; s++)
		if (slots[s].busy)
			return true;
	return false;
}

static bool drain(struct phase *ph)
{
	while (busy_slots())
		if (!wait_some(ph))
			return check(false, "%s: every request completes", ph->name);
	return true;
}

/* Starts a request in slot s: type with data over [lba, lba + sectors). */
static bool start(struct phase *ph, unsigned s, u32 type, u32 lba, u32 sectors, u8 expect,
		  bool verify)
{
	struct slot *sl = &slots[s];

	layout(s, sectors * SECTOR);
	chain(s, type, lba, type == VBLK_T_IN);
	sl->lba = lba;
	sl->sectors = sectors;
	sl->expect = expect;
	sl->verify = verify;
	sl->q = s % nqueues;
	if (type == VBLK_T_OUT)
		fill(data[s], lba, sectors);
	for (;;) {
		sl->head = submit(s);
		if (sl->head >= 0)
			break;
		if (!wait_some(ph))
			return check(false, "%s: descriptors come back", ph->name);
	}
	sl->busy = true;
	return true;
}

/* Runs type over [lba, lba + count) in reqsize pieces, depth at a time. */
static bool run(struct phase *ph, u32 type, u32 lba, u32 count, u8 expect, bool verify)
{
	u32 per = reqsize / SECTOR, t0 = pit_ticks;

	for (u32 off = 0; off < count;) {
		unsigned s;

		for (s = 0; s < depth && slots[s].busy; s++)
			;
		if (s == depth) {
			if (!wait_some(ph))
				return check(false, "%s: requests complete", ph->name);
			continue;
		}
		u32 n = count - off < per ? count - off : per;

		if (!start(ph, s, type, lba + off, n, expect, verify))
			return false;
		off += n;
	}
	if (!drain(ph))
		return false;
	ph->ticks += pit_ticks - t0;
	return true;
}

static void report(const struct phase *ph)
{
	u32 ms = ph->ticks * 10;

	check(!ph->bad_status, "%s: %u requests, %u sectors, all with the expected status",
	      ph->name, ph->requests, ph->sectors);
	if (ph->bad_data)
		check(false, "%s: %u sectors hold the wrong data, the first at LBA %u", ph->name,
		      ph->bad_data, ph->first_bad_lba);
	printf("peer: %s took %u ms (%u KiB/s)\n", ph->name, ms,
	       ms ? (u32)((u64)ph->sectors * SECTOR / KiB * 1000 / ms) : 0);
}

/* One request without data pieces of our own: FLUSH, GET_ID, DISCARD, WRITE_ZEROES. */
static u8 simple(u32 type, u8 *buf, u32 len, bool in, struct phase *ph)
{
	struct slot *sl = &slots[0];

	sl->nbufs = 1;
	if (len)
		sl->bufs[sl->nbufs++] = (struct virtq_buf){buf, len, in};
	sl->nbufs++;
	sl->indirect = false;
	chain(0, type, 0, in);
	sl->q = 0;
	sl->lba = sl->sectors = 0;
	sl->expect = ANY_STATUS; /* the caller looks at it */
	sl->verify = false;
	sl->head = submit(0);
	if (sl->head < 0)
		return 0xfe;
	sl->busy = true;
	ph->bad_status = 0;
	if (!drain(ph))
		return 0xfd;
	return statuses[0];
}

static void get_id(void)
{
	struct phase ph = {.name = "get-id"};
	char id[VBLK_ID_BYTES + 1];
	const char *want = arg_str("serial");
	u8 st;

	memset(data[0], 0xaa, VBLK_ID_BYTES);
	st = simple(VBLK_T_GET_ID, data[0], VBLK_ID_BYTES, true, &ph);
	if (!check(st == VBLK_S_OK, "T_GET_ID completes with VIRTIO_BLK_S_OK (status %u)", st))
		return;
	memcpy(id, data[0], VBLK_ID_BYTES);
	id[VBLK_ID_BYTES] = 0;
	printf("peer: serial '%s'\n", id);
	if (want)
		check(strcmp(id, want) == 0, "the serial is '%s'", want);
}

static void flush(void)
{
	struct phase ph = {.name = "flush"};
	u8 st;

	if (!virtio_accepted(&dev, VBLK_F_FLUSH)) {
		check(false, "virtio-blk offers VIRTIO_BLK_F_FLUSH");
		return;
	}
	st = simple(VBLK_T_FLUSH, NULL, 0, false, &ph);
	check(st == VBLK_S_OK, "T_FLUSH completes with VIRTIO_BLK_S_OK (status %u)", st);
}

/* DISCARD or WRITE_ZEROES of [lba, lba + n) with flags; returns the status. */
static u8 zero_range(u32 type, u32 lba, u32 n, u32 flags)
{
	struct phase ph = {.name = "zero"};
	u8 *seg = data[1];

	memset(seg, 0, 16);
	for (unsigned i = 0; i < 4; i++) {
		seg[i] = (u8)(lba >> (8 * i));
		seg[8 + i] = (u8)(n >> (8 * i));
		seg[12 + i] = (u8)(flags >> (8 * i));
	}
	return simple(type, seg, 16, false, &ph);
}

static void zero_tests(u32 lba, u32 count)
{
	u32 part = count / 4, wz = lba + part, wzu = lba + 2 * part, disc = lba + 3 * part;
	struct phase ph = {.name = "read-zeroed"};
	u8 st;

	if (!check(part >= 1, "the range has at least 4 sectors for the zeroing tests"))
		return;
	if (virtio_accepted(&dev, VBLK_F_DISCARD)) {
		u32 align = cfg.discard_sector_alignment ? cfg.discard_sector_alignment : 1;
		u32 a = (disc + align - 1) / align * align, n = part;

		if (n > cfg.max_discard_sectors)
			n = cfg.max_discard_sectors;
		if (a < disc + part)
			n = n < disc + part - a ? n : disc + part - a;
		st = zero_range(VBLK_T_DISCARD, a, n, 0);
		check(st == VBLK_S_OK, "T_DISCARD completes with VIRTIO_BLK_S_OK (status %u)", st);
	} else {
		check(false, "virtio-blk offers VIRTIO_BLK_F_DISCARD");
	}
	if (!check(virtio_accepted(&dev, VBLK_F_WRITE_ZEROES), "virtio-blk offers WRITE_ZEROES"))
		return;
	if (!check(cfg.max_write_zeroes_sectors >= part,
		   "max_write_zeroes_sectors covers %u sectors", part))
		return;
	st = zero_range(VBLK_T_WRITE_ZEROES, wz, part, 0);
	check(st == VBLK_S_OK, "T_WRITE_ZEROES completes with VIRTIO_BLK_S_OK (status %u)", st);
	st = zero_range(VBLK_T_WRITE_ZEROES, wzu, part, 1);
	check(st == VBLK_S_OK, "T_WRITE_ZEROES with UNMAP completes with VIRTIO_BLK_S_OK (%u)", st);
	/* The pattern outside, zeroes inside. */
	run(&ph, VBLK_T_IN, lba, part, VBLK_S_OK, true);
	run(&ph, VBLK_T_IN, disc + part, count - 4 * part, VBLK_S_OK, true);
	report(&ph);
	for (u32 off = 0; off < 2 * part;) {
		u32 n = 2 * part - off < reqsize / SECTOR ? 2 * part - off : reqsize / SECTOR;
		struct phase z = {.name = "read-zeroes"};

		if (!start(&z, 0, VBLK_T_IN, wz + off, n, VBLK_S_OK, false) || !drain(&z))
			return;
		if (statuses[0] != VBLK_S_OK || !all_zero(data[0], n * SECTOR)) {
			check(false, "LBA %u+%u reads back as zeroes (status %u)", wz + off, n,
			      statuses[0]);
			return;
		}
		off += n;
	}
	check(true, "the %u written-zeroes sectors read back as zeroes", 2 * part);
}

static void parse_args(u32 *lba, u32 *count)
{
	const char *m = arg_str("mode"), *irq = arg_str("irq");
	u64 v;

	if (m && !strcmp(m, "ro"))
		mode = MODE_RO;
	else if (m && !strcmp(m, "zero"))
		mode = MODE_ZERO;
	else if (m && !strcmp(m, "read"))
		mode = MODE_READ;
	else if (m && !strcmp(m, "verify"))
		mode = MODE_VERIFY;
	else if (m && strcmp(m, "rw"))
		check(false, "mode=%s is rw, ro, zero or read", m);
	if (irq && !strcmp(irq, "poll"))
		use_msix = false;
	if (arg_u64("depth", &v) && v >= 1 && v <= MAX_DEPTH)
		depth = v;
	if (arg_size("reqsize", &v) && v >= SECTOR && v <= MAX_REQ && !(v % SECTOR))
		reqsize = v;
	if (arg_u64("start", &v) && v < cfg.capacity)
		*lba = v;
	*count = cfg.capacity - *lba > 0xffffffffu ? 0xffffffffu : cfg.capacity - *lba;
	if (arg_u64("count", &v) && v <= *count)
		*count = v;
}

static void read_config(void)
{
	cfg.capacity = virtio_cfg64(&dev, 0);
	cfg.seg_max = virtio_cfg32(&dev, 12);
	cfg.blk_size = virtio_cfg32(&dev, 20);
	cfg.physical_block_exp = virtio_cfg8(&dev, 24);
	cfg.num_queues = virtio_cfg16(&dev, 34);
	cfg.max_discard_sectors = virtio_cfg32(&dev, 36);
	cfg.discard_sector_alignment = virtio_cfg32(&dev, 44);
	cfg.max_write_zeroes_sectors = virtio_cfg32(&dev, 48);
}

static bool setup(void)
{
	u64 want = 1ull << VIRTIO_F_VERSION_1 | 1u << VBLK_F_SEG_MAX | 1u << VBLK_F_BLK_SIZE |
		   1u << VBLK_F_FLUSH | 1u << VBLK_F_DISCARD | 1u << VBLK_F_WRITE_ZEROES |
		   1u << VBLK_F_MQ | 1u << VBLK_F_RO | 1u << VIRTIO_F_INDIRECT_DESC |
		   1u << VBLK_F_TOPOLOGY;
	u8 vectors[MAX_QUEUES];
	u64 v;

	if (!check(virtio_find(2, arg_u64("disk", &v) ? (unsigned)v : 0, &dev),
		   "a virtio-blk PCI function with the modern interface is on bus 0"))
		return false;
	printf("peer: virtio-blk at 00:%02x.%u, device id 0x%04x\n", dev.pci.dev, dev.pci.fn,
	       dev.pci_device);
	if (!check(virtio_negotiate(&dev, want), "virtio-blk accepts VERSION_1 and FEATURES_OK"))
		return false;
	read_config();
	nqueues = virtio_accepted(&dev, VBLK_F_MQ) ? cfg.num_queues : 1;
	printf("peer: features offered 0x%08x%08x, accepted 0x%08x%08x\n",
	       (u32)(dev.features >> 32), (u32)dev.features, (u32)(dev.accepted >> 32),
	       (u32)dev.accepted);
	printf("peer: seg_max %u, blk_size %u, physical block exponent %u\n", cfg.seg_max,
	       cfg.blk_size, cfg.physical_block_exp);
	printf("capacity: %u sectors (%u KiB)\n", (u32)cfg.capacity, (u32)(cfg.capacity / 2));
	printf("queues: %u\n", nqueues);
	if (arg_u64("queues", &v))
		check(nqueues == v, "the device has %u queues", (u32)v);
	if (!check(nqueues >= 1 && nqueues <= MAX_QUEUES, "1 to %u queues", MAX_QUEUES))
		return false;
	if (virtio_accepted(&dev, VBLK_F_BLK_SIZE))
		check(cfg.blk_size == SECTOR, "the logical block size is 512 bytes");
	for (unsigned q = 0; q < nqueues; q++)
		vectors[q] = VECTOR_BASE + q;
	if (use_msix) {
		lapic_enable();
		for (unsigned q = 0; q < nqueues; q++)
			idt_set_handler(VECTOR_BASE + q, msix_handler);
		if (!check(virtio_msix_enable(&dev, vectors, nqueues, lapic_id()),
			   "virtio-blk has an MSI-X table for its queues"))
			return false;
	}
	for (unsigned q = 0; q < nqueues; q++)
		if (!check(virtio_queue_setup(&dev, &vqs[q], q, QUEUE_SIZE, rings[q],
					      use_msix ? q : VIRTIO_NO_VECTOR),
			   "queue %u is set up", q))
			return false;
	virtio_driver_ok(&dev);
	return check(!(virtio_get_status(&dev) & VIRTIO_STATUS_DEVICE_NEEDS_RESET),
		     "virtio-blk is running (no DEVICE_NEEDS_RESET)");
}

void test_main(void)
{
	struct phase wr = {.name = "write"}, rd = {.name = "read"};
	u32 lba = 0, count = 0;
	u64 passes = 1;

	pit_ticks_start(100);
	sti();
	if (!setup())
		return;
	parse_args(&lba, &count);
	printf("range: LBA %u+%u, %u requests of up to %u KiB in flight\n", lba, count, depth,
	       reqsize / KiB);
	get_id();
	switch (mode) {
	case MODE_RW:
	case MODE_ZERO:
		check(!virtio_accepted(&dev, VBLK_F_RO),
		      "the disk is writable (no VIRTIO_BLK_F_RO)");
		run(&wr, VBLK_T_OUT, lba, count, VBLK_S_OK, false);
		report(&wr);
		flush();
		run(&rd, VBLK_T_IN, lba, count, VBLK_S_OK, true);
		report(&rd);
		if (mode == MODE_ZERO)
			zero_tests(lba, count);
		break;
	case MODE_RO:
		check(virtio_accepted(&dev, VBLK_F_RO), "the disk is read-only (VIRTIO_BLK_F_RO)");
		run(&rd, VBLK_T_IN, lba, count, VBLK_S_OK, false);
		report(&rd);
		wr.name = "write-ro";
		run(&wr, VBLK_T_OUT, lba, count < 8 ? count : 8, VBLK_S_IOERR, false);
		check(!wr.bad_status, "a write to the read-only disk ends with VIRTIO_BLK_S_IOERR");
		break;
	case MODE_VERIFY:
		run(&rd, VBLK_T_IN, lba, count, VBLK_S_OK, true);
		report(&rd);
		break;
	case MODE_READ:
		arg_u64("passes", &passes);
		for (u64 i = 0; i < passes; i++)
			run(&rd, VBLK_T_IN, lba, count, VBLK_S_OK, false);
		report(&rd);
		break;
	}
	if (use_msix) {
		u32 total = 0;

		for (unsigned q = 0; q < nqueues; q++)
			total += irqs[q];
		check(total > 0, "MSI-X interrupts arrived");
	}
	check(!(virtio_get_status(&dev) & VIRTIO_STATUS_DEVICE_NEEDS_RESET),
	      "no DEVICE_NEEDS_RESET at the end");
}
