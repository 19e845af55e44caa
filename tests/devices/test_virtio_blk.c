/* virtio-blk driven the way Linux's virtio_blk and virtio_pci drive it: the modern and the
 * legacy interface, several queues, direct and indirect chains, every request type, a read-only
 * disk, out-of-range and malformed requests, and host errors (a full file system). */
#include "devices/block/block.h"
#include "devices/virtio/blk.h"
#include "tests/devices/virtio_driver.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <sys/mount.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <unistd.h>

#define SLOT	  3
#define DEVFN	  PCI_DEVFN(SLOT, 0)
#define DISK_SIZE (4u << 20)
#define SECTORS	  (DISK_SIZE / 512)

/* Guest-physical layout: rings, request headers (the status byte at +32), indirect tables,
 * data (or discard/write-zeroes segments). */
#define RING_GPA(q)  (0x100000u + (q)*0x4000u)
#define HDR_GPA(k)   (0x200000u + (k)*64u)
#define TABLE_GPA(k) (0x280000u + (k)*0x1000u)
#define DATA_GPA(k)  (0x400000u + (k)*0x20000u)
#define QSIZE	     256

#define F_SEG_MAX      2
#define F_RO	       5
#define F_BLK_SIZE     6
#define F_FLUSH	       9
#define F_TOPOLOGY     10
#define F_MQ	       12
#define F_DISCARD      13
#define F_WRITE_ZEROES 14

#define T_IN	       0
#define T_OUT	       1
#define T_FLUSH	       4
#define T_GET_ID       8
#define T_DISCARD      11
#define T_WRITE_ZEROES 13
#define S_OK	       0
#define S_IOERR	       1
#define S_UNSUPP       2
#define NO_STATUS      0xee /* what the test writes before the device answers */

struct tdev {
	struct harness h;
	struct vdrv v;
	struct vdrv_queue q[4];
	char path[64];
	bool legacy; /* driving the legacy I/O interface */
	unsigned nq;
};

/* What a test has running, for the teardown after a failed check: its device, and a folder
 * (a tmpfs mount) of its own. */
static struct tdev *live;
static char live_dir[64];
static bool live_mounted;

/* Creates the machine with the disk image d->path and args. */
static void attach(struct tdev *d, const char *args)
{
	char devargs[512];

	live = d;

	harness_init(&d->h, 64 << 20);
	harness_add(&d->h, "i440fx", "i440fx", NULL);
	harness_add(&d->h, "piix3", "piix3", NULL);
	snprintf(devargs, sizeof(devargs), "file=%s,slot=%d%s%s", d->path, SLOT, args ? "," : "",
		 args ? args : "");
	harness_add(&d->h, "virtio-blk", "vd0", devargs);
	vdrv_init(&d->v, &d->h, DEVFN);
}

/* The same with a new raw image of DISK_SIZE in dir (NULL: /tmp). */
static void start(struct tdev *d, const char *dir, const char *args)
{
	int fd;

	snprintf(d->path, sizeof(d->path), "%s/vblk-XXXXXX", dir ? dir : "/tmp");
	fd = mkstemp(d->path);
	assert_true(fd >= 0);
	assert_int_equal(ftruncate(fd, DISK_SIZE), 0);
	close(fd);
	attach(d, args);
}

static void stop(struct tdev *d)
{
	harness_fini(&d->h);
	unlink(d->path);
	live = NULL;
}

/* Removes the test's folder (unmounting it first if it is a mount). */
static void remove_dir(void)
{
	char filler[96];

	if (!live_dir[0])
		return;
	snprintf(filler, sizeof(filler), "%s/filler", live_dir);
	unlink(filler);
	if (live_mounted)
		assert_int_equal(umount(live_dir), 0);
	rmdir(live_dir);
	live_dir[0] = 0;
	live_mounted = false;
}

static int teardown(void **state)
{
	struct tdev *d = live;

	if (d) {
		stop(d);
		free(d);
	}
	remove_dir();
	return 0;
}

static uint8_t status(struct tdev *d)
{
	return d->legacy ? (uint8_t)vdrv_leg_read(&d->v, VDRV_LEG_STATUS, 1) : vdrv_status(&d->v);
}

/* Linux's probe: reset, ACKNOWLEDGE | DRIVER, features (offered & want), FEATURES_OK (modern),
 * nq queues (modern: MSI-X entry i for queue i), DRIVER_OK. Returns the features offered. */
static uint64_t setup(struct tdev *d, uint64_t want, unsigned nq)
{
	d->nq = nq;
	if (d->legacy) {
		vdrv_leg_write(&d->v, VDRV_LEG_STATUS, 0, 1);
		assert_int_equal(status(d), 0);
		vdrv_leg_write(&d->v, VDRV_LEG_STATUS, 3, 1);
		d->v.features = vdrv_leg_read(&d->v, VDRV_LEG_HOST_FEATURES, 4);
		d->v.accepted = d->v.features & want;
		vdrv_leg_write(&d->v, VDRV_LEG_GUEST_FEATURES, (uint32_t)d->v.accepted, 4);
		for (unsigned i = 0; i < nq; i++) {
			assert_true(
			    vdrv_leg_queue_setup(&d->v, &d->q[i], (uint16_t)i, RING_GPA(i)));
			assert_int_equal(d->q[i].size, QSIZE);
		}
		vdrv_leg_write(&d->v, VDRV_LEG_STATUS, 7, 1);
		return d->v.features;
	}
	assert_true(vdrv_negotiate(&d->v, want));
	vdrv_msix_enable(&d->v, nq);
	for (unsigned i = 0; i < nq; i++)
		assert_true(
		    vdrv_queue_setup(&d->v, &d->q[i], (uint16_t)i, 0, RING_GPA(i), (uint16_t)i));
	assert_int_equal(d->q[0].size, QSIZE);
	vdrv_driver_ok(&d->v);
	return d->v.features;
}

static uint64_t devcfg(struct tdev *d, unsigned off, unsigned size)
{
	if (size == 8)
		return hmmio_read(&d->h, d->v.devcfg + off, 4) |
		       hmmio_read(&d->h, d->v.devcfg + off + 4, 4) << 32;
	return hmmio_read(&d->h, d->v.devcfg + off, size);
}

static int add(struct tdev *d, unsigned qi, const struct vdrv_buf *b, unsigned n, uint64_t table)
{
	int head = vdrv_add(&d->v, &d->q[qi], b, n, table);

	assert_true(head >= 0);
	return head;
}

static void kick(struct tdev *d, unsigned qi)
{
	if (d->legacy)
		vdrv_leg_kick(&d->v, &d->q[qi]);
	else
		vdrv_kick(&d->v, &d->q[qi]);
}

static uint16_t used_idx(struct tdev *d, unsigned qi)
{
	return vdrv_used_idx(&d->v, &d->q[qi]);
}

static bool wait_used(struct tdev *d, unsigned qi, unsigned n)
{
	return vdrv_wait_used(&d->v, &d->q[qi], (uint16_t)n, 5000);
}

static void take_used(struct tdev *d, unsigned qi, uint16_t *id, uint32_t *len)
{
	assert_true(vdrv_get_used(&d->v, &d->q[qi], id, len));
}

/* --- requests ------------------------------------------------------------------------------ */

static void put_hdr(struct tdev *d, unsigned k, uint32_t type, uint64_t sector)
{
	uint8_t *h = hram(&d->h, HDR_GPA(k), 64);

	memset(h, 0, 16);
	memcpy(h, &type, 4);
	memcpy(h + 8, &sector, 8);
	h[32] = NO_STATUS;
}

static uint8_t status_of(struct tdev *d, unsigned k)
{
	return *(uint8_t *)hram(&d->h, HDR_GPA(k) + 32, 1);
}

/* Makes request k available on queue qi (no kick): header, `nseg` pieces of the len bytes at
 * DATA_GPA(k) (the last takes the rest), status; direct or through TABLE_GPA(k). Returns the
 * chain's head. */
static int post(struct tdev *d, unsigned qi, unsigned k, uint32_t type, uint64_t sector,
		uint32_t len, unsigned nseg, bool indirect)
{
	struct vdrv_buf s[18];
	bool in = type == T_IN || type == T_GET_ID;
	unsigned n = 0;

	put_hdr(d, k, type, sector);
	s[n++] = (struct vdrv_buf){HDR_GPA(k), 16, false};
	for (unsigned i = 0; len && i < nseg; i++)
		s[n++] = (struct vdrv_buf){DATA_GPA(k) + i * (len / nseg),
					   i + 1 < nseg ? len / nseg : len - i * (len / nseg), in};
	s[n++] = (struct vdrv_buf){HDR_GPA(k) + 32, 1, true};
	return add(d, qi, s, n, indirect ? TABLE_GPA(k) : 0);
}

/* The same, kicked and waited for; returns its status and (written) the used length. */
static uint8_t request(struct tdev *d, unsigned qi, unsigned k, uint32_t type, uint64_t sector,
		       uint32_t len, unsigned nseg, bool indirect, uint32_t *written)
{
	int head = post(d, qi, k, type, sector, len, nseg, indirect);
	uint16_t id;
	uint32_t wlen;

	kick(d, qi);
	assert_true(wait_used(d, qi, 1));
	take_used(d, qi, &id, &wlen);
	assert_int_equal(id, head);
	if (written)
		*written = wlen;
	return status_of(d, k);
}

static void fill(struct tdev *d, unsigned k, uint32_t len, uint32_t seed)
{
	uint8_t *p = hram(&d->h, DATA_GPA(k), len);

	for (uint32_t i = 0; i < len; i++)
		p[i] = (uint8_t)(seed * 131 + i * 7 + (i >> 9));
}

/* What the image file holds at byte off. */
static void file_read(struct tdev *d, void *buf, size_t len, off_t off)
{
	int fd = open(d->path, O_RDONLY);

	assert_true(fd >= 0);
	assert_int_equal(pread(fd, buf, len, off), (ssize_t)len);
	close(fd);
}

/* DISCARD / WRITE_ZEROES of nsegs segments (16 bytes each, at DATA_GPA(k)) on queue 0. */
static uint8_t dwz(struct tdev *d, unsigned k, uint32_t type, uint64_t sector, uint32_t num,
		   uint32_t flags, unsigned nsegs)
{
	uint8_t *p = hram(&d->h, DATA_GPA(k), 16u * nsegs);

	for (unsigned i = 0; i < nsegs; i++) {
		uint64_t sec = sector + (uint64_t)i * num;

		memcpy(p + 16 * i, &sec, 8);
		memcpy(p + 16 * i + 8, &num, 4);
		memcpy(p + 16 * i + 12, &flags, 4);
	}
	return request(d, 0, k, type, 0, 16u * nsegs, 1, false, NULL);
}

static const uint64_t ALL = 1ull << F_SEG_MAX | 1ull << F_RO | 1ull << F_BLK_SIZE |
			    1ull << F_FLUSH | 1ull << F_TOPOLOGY | 1ull << F_MQ |
			    1ull << F_DISCARD | 1ull << F_WRITE_ZEROES |
			    1ull << VIRTIO_F_INDIRECT_DESC | 1ull << VIRTIO_F_VERSION_1;

/* --- tests ----------------------------------------------------------------------------------- */

static void test_identity(void **state)
{
	struct tdev *d = calloc(1, sizeof(*d));

	start(d, NULL, "queues=2");
	assert_int_equal(d->v.device, 0x1001); /* transitional virtio-blk */
	assert_int_equal(d->v.subsys, 2);
	assert_true(d->v.has_io);
	assert_int_equal(vdrv_cfg_read(&d->v, PCI_CLASS_DEVICE, 2), 0x0100);
	uint64_t f = setup(d, ALL, 2);
	assert_int_equal(f & ALL, ALL & ~(1ull << F_RO));
	assert_int_equal(devcfg(d, 0, 8), SECTORS);
	assert_int_equal(devcfg(d, 12, 4), QSIZE - 2); /* seg_max */
	assert_int_equal(devcfg(d, 20, 4), 512);       /* blk_size */
	assert_int_equal(devcfg(d, 24, 1), 0);	       /* physical_block_exp */
	assert_int_equal(devcfg(d, 34, 2), 2);	       /* num_queues */
	assert_true(devcfg(d, 36, 4) >= 65536);	       /* max_discard_sectors */
	assert_int_equal(devcfg(d, 40, 4), 1);	       /* max_discard_seg */
	assert_int_equal(devcfg(d, 44, 4), 1);	       /* discard_sector_alignment */
	assert_true(devcfg(d, 48, 4) >= 65536);	       /* max_write_zeroes_sectors */
	assert_int_equal(devcfg(d, 52, 4), 1);	       /* max_write_zeroes_seg */
	stop(d);
	/* Modern only; one queue: no MQ. */
	memset(d, 0, sizeof(*d));
	start(d, NULL, "legacy=off,queues=1");
	assert_int_equal(d->v.device, 0x1042);
	assert_false(d->v.has_io);
	f = setup(d, ALL, 1);
	assert_false(f & 1ull << F_MQ);
	assert_int_equal(devcfg(d, 34, 2), 1);
	stop(d);
	free(d);
}

static void test_read_write(void **state)
{
	struct tdev *d = calloc(1, sizeof(*d));
	uint8_t *buf = malloc(65536);
	uint32_t w;

	start(d, NULL, NULL);
	setup(d, ALL, 1);
	/* A write in one piece, then the file holds it. */
	fill(d, 0, 65536, 1);
	assert_int_equal(request(d, 0, 0, T_OUT, 8, 65536, 1, false, &w), S_OK);
	assert_int_equal(w, 1);
	file_read(d, buf, 65536, 8 * 512);
	assert_memory_equal(buf, hram(&d->h, DATA_GPA(0), 65536), 65536);
	/* Read back through an indirect table of 16 pieces and through 4 direct ones. */
	memset(hram(&d->h, DATA_GPA(1), 65536), 0, 65536);
	assert_int_equal(request(d, 0, 1, T_IN, 8, 65536, 16, true, &w), S_OK);
	assert_int_equal(w, 65536 + 1);
	assert_memory_equal(buf, hram(&d->h, DATA_GPA(1), 65536), 65536);
	memset(hram(&d->h, DATA_GPA(2), 65536), 0, 65536);
	assert_int_equal(request(d, 0, 2, T_IN, 8, 65536, 4, false, NULL), S_OK);
	assert_memory_equal(buf, hram(&d->h, DATA_GPA(2), 65536), 65536);
	/* An indirect write of 8 pieces lands in order. */
	fill(d, 3, 32768, 9);
	assert_int_equal(request(d, 0, 3, T_OUT, 1000, 32768, 8, true, NULL), S_OK);
	file_read(d, buf, 32768, 1000 * 512);
	assert_memory_equal(buf, hram(&d->h, DATA_GPA(3), 32768), 32768);
	/* The last sector is in range; a zero-length read is fine. */
	assert_int_equal(request(d, 0, 4, T_IN, SECTORS - 1, 512, 1, false, NULL), S_OK);
	assert_int_equal(request(d, 0, 4, T_IN, 0, 0, 0, false, NULL), S_OK);
	assert_int_equal(status(d) & 0x40, 0);
	stop(d);
	free(buf);
	free(d);
}

/* Twelve requests on four queues in flight at once, some indirect. */
static void test_queues_in_flight(void **state)
{
	struct tdev *d = calloc(1, sizeof(*d));
	uint8_t *buf = malloc(32768);
	int heads[12];

	start(d, NULL, "queues=4");
	setup(d, ALL, 4);
	for (unsigned k = 0; k < 12; k++) {
		fill(d, k, 32768, k + 100);
		heads[k] = post(d, k % 4, k, T_OUT, k * 64, 32768, k % 3 + 1, k % 4 == 3);
	}
	for (unsigned q = 0; q < 4; q++)
		kick(d, q);
	for (unsigned q = 0; q < 4; q++) {
		assert_true(wait_used(d, q, 3));
		for (unsigned i = 0; i < 3; i++) {
			uint16_t id;
			uint32_t len;

			take_used(d, q, &id, &len);
			/* One of this queue's requests: k = q, q + 4, q + 8. */
			assert_true(id == heads[q] || id == heads[q + 4] || id == heads[q + 8]);
			assert_int_equal(len, 1);
		}
		/* Each queue interrupts through its own MSI-X vector. */
		assert_true(vdrv_msi_count(&d->v, q) >= 1);
	}
	for (unsigned k = 0; k < 12; k++) {
		assert_int_equal(status_of(d, k), S_OK);
		file_read(d, buf, 32768, k * 64 * 512);
		assert_memory_equal(buf, hram(&d->h, DATA_GPA(k), 32768), 32768);
	}
	stop(d);
	free(buf);
	free(d);
}

static void test_flush_get_id(void **state)
{
	struct tdev *d = calloc(1, sizeof(*d));
	uint8_t *id;
	uint32_t w;

	start(d, NULL, "serial=ABCDEFGHIJKLMNOPQRST");
	setup(d, ALL, 1);
	assert_int_equal(request(d, 0, 0, T_FLUSH, 0, 0, 0, false, &w), S_OK);
	assert_int_equal(w, 1);
	/* 20 bytes, no terminating NUL (5.2.6). */
	id = hram(&d->h, DATA_GPA(1), 32);
	memset(id, 0xaa, 32);
	assert_int_equal(request(d, 0, 1, T_GET_ID, 0, 20, 1, false, &w), S_OK);
	assert_memory_equal(id, "ABCDEFGHIJKLMNOPQRST", 20);
	assert_int_equal(id[20], 0xaa);
	assert_int_equal(w, 21);
	/* A shorter buffer gets what fits. */
	memset(id, 0xaa, 32);
	assert_int_equal(request(d, 0, 1, T_GET_ID, 0, 8, 1, false, &w), S_OK);
	assert_memory_equal(id, "ABCDEFGH", 8);
	assert_int_equal(id[8], 0xaa);
	assert_int_equal(w, 9);
	stop(d);
	/* No serial: zeroes. */
	memset(d, 0, sizeof(*d));
	start(d, NULL, NULL);
	setup(d, ALL, 1);
	id = hram(&d->h, DATA_GPA(1), 32);
	memset(id, 0xaa, 32);
	assert_int_equal(request(d, 0, 1, T_GET_ID, 0, 20, 1, false, NULL), S_OK);
	for (unsigned i = 0; i < 20; i++)
		assert_int_equal(id[i], 0);
	stop(d);
	free(d);
}

static void test_discard_write_zeroes(void **state)
{
	struct tdev *d = calloc(1, sizeof(*d));
	uint8_t *buf = malloc(65536), zero[512] = {0};

	start(d, NULL, NULL);
	setup(d, ALL, 1);
	fill(d, 0, 65536, 3);
	assert_int_equal(request(d, 0, 0, T_OUT, 0, 65536, 1, false, NULL), S_OK);
	/* Sectors 16..31 and 64..79 (UNMAP) read back as zeroes; the rest keeps its data. */
	assert_int_equal(dwz(d, 1, T_WRITE_ZEROES, 16, 16, 0, 1), S_OK);
	assert_int_equal(dwz(d, 1, T_WRITE_ZEROES, 64, 16, 1, 1), S_OK);
	file_read(d, buf, 65536, 0);
	for (unsigned s = 0; s < 128; s++) {
		bool z = (s >= 16 && s < 32) || (s >= 64 && s < 80);

		assert_memory_equal(buf + s * 512,
				    z ? zero : (uint8_t *)hram(&d->h, DATA_GPA(0) + s * 512, 512),
				    512);
	}
	assert_int_equal(dwz(d, 1, T_DISCARD, 96, 8, 0, 1), S_OK);
	/* Flags discard has none of, unknown write-zeroes flags, several segments: unsupported. */
	assert_int_equal(dwz(d, 1, T_DISCARD, 96, 8, 1, 1), S_UNSUPP);
	assert_int_equal(dwz(d, 1, T_WRITE_ZEROES, 96, 8, 2, 1), S_UNSUPP);
	assert_int_equal(dwz(d, 1, T_WRITE_ZEROES, 96, 8, 0, 2), S_UNSUPP);
	/* Past the end, or more than the maximum: an I/O error; nothing changed. */
	assert_int_equal(dwz(d, 1, T_WRITE_ZEROES, SECTORS - 4, 8, 0, 1), S_IOERR);
	assert_int_equal(dwz(d, 1, T_DISCARD, 0, 0xffffffffu, 0, 1), S_IOERR);
	assert_int_equal(dwz(d, 1, T_WRITE_ZEROES, UINT64_MAX - 2, 8, 0, 1), S_IOERR);
	file_read(d, buf, 512, 0);
	assert_memory_equal(buf, hram(&d->h, DATA_GPA(0), 512), 512);
	stop(d);
	/* Not negotiated: unsupported. */
	memset(d, 0, sizeof(*d));
	start(d, NULL, NULL);
	setup(d, ALL & ~(1ull << F_DISCARD | 1ull << F_WRITE_ZEROES), 1);
	assert_int_equal(dwz(d, 1, T_WRITE_ZEROES, 0, 8, 0, 1), S_UNSUPP);
	assert_int_equal(dwz(d, 1, T_DISCARD, 0, 8, 0, 1), S_UNSUPP);
	stop(d);
	free(buf);
	free(d);
}

static void test_readonly(void **state)
{
	struct tdev *d = calloc(1, sizeof(*d));
	uint8_t buf[4096], zero[4096] = {0};

	start(d, NULL, "readonly=on");
	uint64_t f = setup(d, ALL, 1);
	assert_true(f & 1ull << F_RO);
	assert_false(f & (1ull << F_DISCARD | 1ull << F_WRITE_ZEROES));
	fill(d, 0, 4096, 5);
	assert_int_equal(request(d, 0, 0, T_OUT, 0, 4096, 1, false, NULL), S_IOERR);
	file_read(d, buf, 4096, 0);
	assert_memory_equal(buf, zero, 4096);
	assert_int_equal(request(d, 0, 1, T_IN, 0, 4096, 2, true, NULL), S_OK);
	assert_int_equal(request(d, 0, 1, T_FLUSH, 0, 0, 0, false, NULL), S_OK);
	assert_int_equal(dwz(d, 1, T_WRITE_ZEROES, 0, 8, 0, 1), S_UNSUPP);
	stop(d);
	free(d);
}

static void test_out_of_range(void **state)
{
	struct tdev *d = calloc(1, sizeof(*d));
	struct stat st;

	start(d, NULL, NULL);
	setup(d, ALL, 1);
	assert_int_equal(request(d, 0, 0, T_IN, SECTORS, 512, 1, false, NULL), S_IOERR);
	assert_int_equal(request(d, 0, 0, T_IN, SECTORS - 1, 1024, 1, false, NULL), S_IOERR);
	assert_int_equal(request(d, 0, 0, T_IN, UINT64_MAX - 1, 1024, 1, false, NULL), S_IOERR);
	assert_int_equal(request(d, 0, 0, T_OUT, SECTORS - 1, 1024, 2, false, NULL), S_IOERR);
	/* Not whole sectors. */
	assert_int_equal(request(d, 0, 0, T_IN, 0, 1000, 1, false, NULL), S_IOERR);
	assert_int_equal(request(d, 0, 0, T_OUT, 0, 600, 1, false, NULL), S_IOERR);
	assert_int_equal(stat(d->path, &st), 0);
	assert_int_equal(st.st_size, DISK_SIZE);
	assert_int_equal(status(d) & 0x40, 0);
	stop(d);
	free(d);
}

/* A chain the type cannot be read from or the status not written to breaks the device (it needs a
 * reset); an unknown type is only unsupported. */
static void test_bad_chains(void **state)
{
	struct tdev *d = calloc(1, sizeof(*d));
	struct vdrv_buf s[3];

	start(d, NULL, NULL);
	setup(d, ALL, 1);
	assert_int_equal(request(d, 0, 0, 2, 0, 512, 1, false, NULL), S_UNSUPP);  /* SCSI */
	assert_int_equal(request(d, 0, 0, 14, 0, 512, 1, false, NULL), S_UNSUPP); /* secure erase */
	assert_int_equal(request(d, 0, 0, 0x12345678, 0, 0, 0, false, NULL), S_UNSUPP);
	/* A header of 8 bytes. */
	put_hdr(d, 1, T_IN, 0);
	s[0] = (struct vdrv_buf){HDR_GPA(1), 8, false};
	s[1] = (struct vdrv_buf){HDR_GPA(1) + 32, 1, true};
	add(d, 0, s, 2, 0);
	kick(d, 0);
	harness_run(&d->h, 50);
	assert_true(status(d) & 0x40);
	assert_int_equal(used_idx(d, 0), d->q[0].last_used);
	/* After a reset it works again. */
	setup(d, ALL, 1);
	assert_false(status(d) & 0x40);
	assert_int_equal(request(d, 0, 0, T_IN, 0, 512, 1, false, NULL), S_OK);
	/* No writable byte for the status. */
	put_hdr(d, 1, T_IN, 0);
	s[0] = (struct vdrv_buf){HDR_GPA(1), 16, false};
	s[1] = (struct vdrv_buf){DATA_GPA(1), 512, false};
	add(d, 0, s, 2, 0);
	kick(d, 0);
	harness_run(&d->h, 50);
	assert_true(status(d) & 0x40);
	setup(d, ALL, 1);
	/* A writable buffer before a readable one is malformed too. */
	s[0] = (struct vdrv_buf){HDR_GPA(1) + 32, 1, true};
	s[1] = (struct vdrv_buf){HDR_GPA(1), 16, false};
	add(d, 0, s, 2, 0);
	kick(d, 0);
	harness_run(&d->h, 50);
	assert_true(status(d) & 0x40);
	/* Data outside guest RAM: broken as well, nothing written. */
	setup(d, ALL, 1);
	put_hdr(d, 1, T_IN, 0);
	s[0] = (struct vdrv_buf){HDR_GPA(1), 16, false};
	s[1] = (struct vdrv_buf){0xfffff000u, 512, true};
	s[2] = (struct vdrv_buf){HDR_GPA(1) + 32, 1, true};
	add(d, 0, s, 3, 0);
	kick(d, 0);
	harness_run(&d->h, 50);
	assert_true(status(d) & 0x40);
	assert_int_equal(status_of(d, 1), NO_STATUS);
	stop(d);
	free(d);
}

/* The legacy interface as a pre-1.0 driver uses it: I/O BAR 0, 32 feature bits, queue PFNs,
 * INTx with the ISR. */
static void test_legacy(void **state)
{
	struct tdev *d = calloc(1, sizeof(*d));
	uint8_t *buf = malloc(8192);

	start(d, NULL, "vectors=0,serial=LEGACY");
	d->legacy = true;
	uint64_t f = setup(d, ALL, 1);
	assert_int_equal(f >> 32, 0);
	assert_true(f & 1ull << F_FLUSH);
	/* Without MSI-X the configuration follows the 20-byte header. */
	assert_int_equal(vdrv_leg_read(&d->v, 0x14, 4), SECTORS);
	(void)vdrv_leg_read(&d->v, VDRV_LEG_ISR, 1); /* cleared */
	fill(d, 0, 8192, 11);
	assert_int_equal(request(d, 0, 0, T_OUT, 40, 8192, 2, true, NULL), S_OK);
	/* A used buffer: ISR bit 0, cleared by the read. */
	assert_int_equal(vdrv_leg_read(&d->v, VDRV_LEG_ISR, 1) & 1, 1);
	assert_int_equal(vdrv_leg_read(&d->v, VDRV_LEG_ISR, 1), 0);
	file_read(d, buf, 8192, 40 * 512);
	assert_memory_equal(buf, hram(&d->h, DATA_GPA(0), 8192), 8192);
	assert_int_equal(request(d, 0, 1, T_IN, 40, 8192, 1, false, NULL), S_OK);
	assert_memory_equal(buf, hram(&d->h, DATA_GPA(1), 8192), 8192);
	assert_int_equal(request(d, 0, 2, T_GET_ID, 0, 20, 1, false, NULL), S_OK);
	assert_memory_equal(hram(&d->h, DATA_GPA(2), 7), "LEGACY", 7);
	stop(d);
	free(buf);
	free(d);
}

/* A VHDX with 4 KiB logical sectors: blk_size 4096, and requests that are not whole, aligned
 * 4 KiB blocks fail. */
static void test_4k_sectors(void **state)
{
	struct block_create_opts opts = {.size = DISK_SIZE, .logical_sector = 4096};
	struct tdev *d = calloc(1, sizeof(*d));
	char dir[] = "/tmp/vblk-4k-XXXXXX", err[256];

	assert_non_null(mkdtemp(dir));
	snprintf(live_dir, sizeof(live_dir), "%s", dir);
	snprintf(d->path, sizeof(d->path), "%s/disk.vhdx", dir);
	assert_int_equal(block_create(d->path, "vhdx", &opts, err, sizeof(err)), 0);
	attach(d, NULL);
	setup(d, ALL, 1);
	assert_int_equal(devcfg(d, 0, 8), SECTORS); /* still 512-byte sectors */
	assert_int_equal(devcfg(d, 20, 4), 4096);
	assert_int_equal(devcfg(d, 24, 1), 0); /* physical = logical */
	assert_int_equal(devcfg(d, 44, 4), 8); /* discard alignment, sectors */
	fill(d, 0, 8192, 21);
	assert_int_equal(request(d, 0, 0, T_OUT, 16, 8192, 2, true, NULL), S_OK);
	memset(hram(&d->h, DATA_GPA(1), 8192), 0, 8192);
	assert_int_equal(request(d, 0, 1, T_IN, 16, 8192, 1, false, NULL), S_OK);
	assert_memory_equal(hram(&d->h, DATA_GPA(1), 8192), hram(&d->h, DATA_GPA(0), 8192), 8192);
	assert_int_equal(request(d, 0, 1, T_IN, 0, 512, 1, false, NULL), S_IOERR);
	assert_int_equal(request(d, 0, 1, T_IN, 1, 4096, 1, false, NULL), S_IOERR);
	assert_int_equal(request(d, 0, 1, T_OUT, 12, 4096, 1, false, NULL), S_IOERR);
	assert_int_equal(dwz(d, 1, T_WRITE_ZEROES, 3, 8, 0, 1), S_IOERR);
	assert_int_equal(dwz(d, 1, T_WRITE_ZEROES, 16, 8, 0, 1), S_OK);
	assert_int_equal(request(d, 0, 1, T_IN, 16, 4096, 1, false, NULL), S_OK);
	for (unsigned i = 0; i < 4096; i++)
		assert_int_equal(((uint8_t *)hram(&d->h, DATA_GPA(1), 4096))[i], 0);
	stop(d);
	remove_dir();
	free(d);
}

/* A host error (writing past the process's file size limit: EFBIG) is an I/O error for the
 * guest; the device goes on working. */
static void test_host_error_report(void **state)
{
	struct tdev *d = calloc(1, sizeof(*d));
	struct rlimit old, lim;

	start(d, NULL, NULL);
	setup(d, ALL, 1);
	signal(SIGXFSZ, SIG_IGN);
	assert_int_equal(getrlimit(RLIMIT_FSIZE, &old), 0);
	lim = old;
	lim.rlim_cur = 1u << 20;
	assert_int_equal(setrlimit(RLIMIT_FSIZE, &lim), 0);
	fill(d, 0, 4096, 7);
	uint8_t st = request(d, 0, 0, T_OUT, 4096, 4096, 1, false, NULL);
	assert_int_equal(setrlimit(RLIMIT_FSIZE, &old), 0);
	assert_int_equal(st, S_IOERR);
	assert_int_equal(request(d, 0, 0, T_OUT, 4096, 4096, 1, false, NULL), S_OK);
	assert_false(status(d) & 0x40);
	stop(d);
	free(d);
}

struct hook_calls {
	unsigned n;
	int err;
};

static void error_hook(void *opaque, const char *id, const char *path, int err)
{
	struct hook_calls *c = opaque;

	__atomic_add_fetch(&c->n, 1, __ATOMIC_SEQ_CST);
	c->err = err;
}

/* A full file system: tmpfs of 256 KiB holding a sparse 4 MiB image and a filler. Skipped where
 * tmpfs cannot be mounted (not root). */
static bool mount_small_tmpfs(char *dir, size_t len)
{
	snprintf(dir, len, "/tmp/vblk-fs-XXXXXX");
	if (!mkdtemp(dir))
		return false;
	if (mount("tmpfs", dir, "tmpfs", 0, "size=256k") == 0) {
		snprintf(live_dir, sizeof(live_dir), "%s", dir);
		live_mounted = true;
		return true;
	}
	rmdir(dir);
	return false;
}

static void fill_fs(const char *dir, char *filler, size_t len)
{
	static const uint8_t block[4096];
	int fd;

	snprintf(filler, len, "%s/filler", dir);
	fd = open(filler, O_WRONLY | O_CREAT | O_TRUNC, 0600);
	assert_true(fd >= 0);
	while (write(fd, block, sizeof(block)) == (ssize_t)sizeof(block))
		;
	close(fd);
}

static void unmount_tmpfs(struct tdev *d)
{
	stop(d);
	remove_dir();
}

static void test_disk_full_report(void **state)
{
	struct tdev *d = calloc(1, sizeof(*d));
	char dir[64], filler[96];

	if (!mount_small_tmpfs(dir, sizeof(dir))) {
		free(d);
		skip();
	}
	start(d, dir, "on_error=report");
	setup(d, ALL, 1);
	fill_fs(dir, filler, sizeof(filler));
	fill(d, 0, 65536, 2);
	assert_int_equal(request(d, 0, 0, T_OUT, 0, 65536, 1, false, NULL), S_IOERR);
	unlink(filler);
	assert_int_equal(request(d, 0, 0, T_OUT, 0, 65536, 1, false, NULL), S_OK);
	unmount_tmpfs(d);
	free(d);
}

/* on_error=pause: the request waits (the hook pauses the VM) and succeeds once there is room. */
static void test_disk_full_pause(void **state)
{
	struct tdev *d = calloc(1, sizeof(*d));
	struct hook_calls calls = {0};
	char dir[64], filler[96];
	uint8_t *buf = malloc(65536);
	uint16_t id;
	uint32_t len;

	if (!mount_small_tmpfs(dir, sizeof(dir))) {
		free(buf);
		free(d);
		skip();
	}
	start(d, dir, "on_error=pause");
	virtio_blk_set_error_hook(machine_device(&d->h.m, "vd0"), error_hook, &calls);
	setup(d, ALL, 1);
	fill_fs(dir, filler, sizeof(filler));
	fill(d, 0, 65536, 4);
	post(d, 0, 0, T_OUT, 0, 65536, 1, false);
	kick(d, 0);
	harness_run(&d->h, 300);
	assert_int_equal(used_idx(d, 0), 0);
	assert_int_equal(status_of(d, 0), NO_STATUS);
	assert_true(__atomic_load_n(&calls.n, __ATOMIC_SEQ_CST) >= 1);
	assert_int_equal(calls.err, -ENOSPC);
	/* Room again: the retry (at once here; every second by itself) completes it. */
	unlink(filler);
	virtio_blk_retry(machine_device(&d->h.m, "vd0"));
	assert_true(wait_used(d, 0, 1));
	take_used(d, 0, &id, &len);
	assert_int_equal(status_of(d, 0), S_OK);
	file_read(d, buf, 65536, 0);
	assert_memory_equal(buf, hram(&d->h, DATA_GPA(0), 65536), 65536);
	/* And by itself, with the timer. */
	fill_fs(dir, filler, sizeof(filler));
	fill(d, 1, 65536, 5);
	post(d, 0, 1, T_OUT, 1024, 65536, 1, false);
	kick(d, 0);
	harness_run(&d->h, 200);
	assert_int_equal(status_of(d, 1), NO_STATUS);
	unlink(filler);
	assert_true(wait_used(d, 0, 1));
	assert_int_equal(status_of(d, 1), S_OK);
	unmount_tmpfs(d);
	free(buf);
	free(d);
}

/* A reset with requests in flight: they finish before the reset returns and never show up in
 * the new rings. */
static void test_reset_in_flight(void **state)
{
	struct tdev *d = calloc(1, sizeof(*d));

	start(d, NULL, "queues=2");
	setup(d, ALL, 2);
	for (unsigned k = 0; k < 10; k++) {
		fill(d, k, 65536, k);
		post(d, k % 2, k, T_OUT, k * 128, 65536, 1, false);
	}
	kick(d, 0);
	kick(d, 1);
	vdrv_set_status(&d->v, 0);
	assert_int_equal(status(d), 0);
	setup(d, ALL, 2);
	harness_run(&d->h, 50);
	assert_int_equal(used_idx(d, 0), 0);
	assert_int_equal(used_idx(d, 1), 0);
	assert_int_equal(request(d, 1, 0, T_IN, 0, 4096, 1, false, NULL), S_OK);
	stop(d);
	free(d);
}

/* Bad devargs are refused with a message, and a missing image too. */
static void test_bad_args(void **state)
{
	static const char *const bad[] = {
	    "file=/nonexistent/osio-vblk.img",
	    "readonly=maybe",
	    "serial=123456789012345678901",
	    "queues=0",
	    "queues=65",
	    "on_error=stop",
	    "colour=blue",
	};
	struct harness *h = calloc(1, sizeof(*h));
	char path[] = "/tmp/vblk-args-XXXXXX", args[256];
	int fd = mkstemp(path);

	assert_true(fd >= 0);
	assert_int_equal(ftruncate(fd, 1 << 20), 0);
	close(fd);
	harness_init(h, 16 << 20);
	harness_add(h, "i440fx", "i440fx", NULL);
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		struct devargs a = {0};

		if (strncmp(bad[i], "file=", 5) == 0)
			snprintf(args, sizeof(args), "%s", bad[i]);
		else
			snprintf(args, sizeof(args), "file=%s,%s", path, bad[i]);
		assert_int_equal(devargs_parse(&a, args), 0);
		assert_true(machine_add_device(&h->m, "virtio-blk", "bad", &a) < 0);
	}
	harness_fini(h);
	unlink(path);
	free(h);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test_teardown(test_identity, teardown),
	    cmocka_unit_test_teardown(test_read_write, teardown),
	    cmocka_unit_test_teardown(test_queues_in_flight, teardown),
	    cmocka_unit_test_teardown(test_flush_get_id, teardown),
	    cmocka_unit_test_teardown(test_discard_write_zeroes, teardown),
	    cmocka_unit_test_teardown(test_readonly, teardown),
	    cmocka_unit_test_teardown(test_out_of_range, teardown),
	    cmocka_unit_test_teardown(test_bad_chains, teardown),
	    cmocka_unit_test_teardown(test_legacy, teardown),
	    cmocka_unit_test_teardown(test_4k_sectors, teardown),
	    cmocka_unit_test_teardown(test_host_error_report, teardown),
	    cmocka_unit_test_teardown(test_disk_full_report, teardown),
	    cmocka_unit_test_teardown(test_disk_full_pause, teardown),
	    cmocka_unit_test_teardown(test_reset_in_flight, teardown),
	    cmocka_unit_test_teardown(test_bad_args, teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
