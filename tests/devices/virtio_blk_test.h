/* What the virtio-blk tests share: a virtio-blk device in the harness over a raw image, driven
 * through tests/devices/virtio_driver.h, and requests built the way Linux's virtio_blk builds
 * them. */
#ifndef OSIO_TESTS_VIRTIO_BLK_TEST_H
#define OSIO_TESTS_VIRTIO_BLK_TEST_H

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
static inline void attach(struct tdev *d, const char *args)
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
static inline void start(struct tdev *d, const char *dir, const char *args)
{
	int fd, n;

	n = snprintf(d->path, sizeof(d->path), "%s/vblk-XXXXXX", dir ? dir : "/tmp");
	assert_true(n > 0 && (size_t)n < sizeof(d->path));
	fd = mkstemp(d->path);
	assert_true(fd >= 0);
	assert_int_equal(ftruncate(fd, DISK_SIZE), 0);
	close(fd);
	attach(d, args);
}

static inline void stop(struct tdev *d)
{
	harness_fini(&d->h);
	unlink(d->path);
	live = NULL;
}

/* Removes the test's folder (unmounting it first if it is a mount). */
static inline void remove_dir(void)
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

static inline int teardown(void **state)
{
	struct tdev *d = live;

	if (d) {
		stop(d);
		free(d);
	}
	remove_dir();
	return 0;
}

static inline uint8_t status(struct tdev *d)
{
	return d->legacy ? (uint8_t)vdrv_leg_read(&d->v, VDRV_LEG_STATUS, 1) : vdrv_status(&d->v);
}

/* Linux's probe: reset, ACKNOWLEDGE | DRIVER, features (offered & want), FEATURES_OK (modern),
 * nq queues (modern: MSI-X entry i for queue i), DRIVER_OK. Returns the features offered. */
static inline uint64_t setup(struct tdev *d, uint64_t want, unsigned nq)
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

static inline uint64_t devcfg(struct tdev *d, unsigned off, unsigned size)
{
	if (size == 8)
		return hmmio_read(&d->h, d->v.devcfg + off, 4) |
		       hmmio_read(&d->h, d->v.devcfg + off + 4, 4) << 32;
	return hmmio_read(&d->h, d->v.devcfg + off, size);
}

static inline int add(struct tdev *d, unsigned qi, const struct vdrv_buf *b, unsigned n,
		      uint64_t table)
{
	int head = vdrv_add(&d->v, &d->q[qi], b, n, table);

	assert_true(head >= 0);
	return head;
}

static inline void kick(struct tdev *d, unsigned qi)
{
	if (d->legacy)
		vdrv_leg_kick(&d->v, &d->q[qi]);
	else
		vdrv_kick(&d->v, &d->q[qi]);
}

static inline uint16_t used_idx(struct tdev *d, unsigned qi)
{
	return vdrv_used_idx(&d->v, &d->q[qi]);
}

static inline bool wait_used(struct tdev *d, unsigned qi, unsigned n)
{
	return vdrv_wait_used(&d->v, &d->q[qi], (uint16_t)n, 5000);
}

static inline void take_used(struct tdev *d, unsigned qi, uint16_t *id, uint32_t *len)
{
	assert_true(vdrv_get_used(&d->v, &d->q[qi], id, len));
}

/* --- requests ------------------------------------------------------------------------------ */

static inline void put_hdr(struct tdev *d, unsigned k, uint32_t type, uint64_t sector)
{
	uint8_t *h = hram(&d->h, HDR_GPA(k), 64);

	memset(h, 0, 16);
	memcpy(h, &type, 4);
	memcpy(h + 8, &sector, 8);
	h[32] = NO_STATUS;
}

static inline uint8_t status_of(struct tdev *d, unsigned k)
{
	return *(uint8_t *)hram(&d->h, HDR_GPA(k) + 32, 1);
}

/* Makes request k available on queue qi (no kick): header, `nseg` pieces of the len bytes at
 * DATA_GPA(k) (the last takes the rest), status; direct or through TABLE_GPA(k). Returns the
 * chain's head. */
static inline int post(struct tdev *d, unsigned qi, unsigned k, uint32_t type, uint64_t sector,
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
static inline uint8_t request(struct tdev *d, unsigned qi, unsigned k, uint32_t type,
			      uint64_t sector, uint32_t len, unsigned nseg, bool indirect,
			      uint32_t *written)
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

static inline void fill(struct tdev *d, unsigned k, uint32_t len, uint32_t seed)
{
	uint8_t *p = hram(&d->h, DATA_GPA(k), len);

	for (uint32_t i = 0; i < len; i++)
		p[i] = (uint8_t)(seed * 131 + i * 7 + (i >> 9));
}

/* What the image file holds at byte off. */
static inline void file_read(struct tdev *d, void *buf, size_t len, off_t off)
{
	int fd = open(d->path, O_RDONLY);

	assert_true(fd >= 0);
	assert_int_equal(pread(fd, buf, len, off), (ssize_t)len);
	close(fd);
}

/* DISCARD / WRITE_ZEROES of nsegs segments (16 bytes each, at DATA_GPA(k)) on queue 0. */
static inline uint8_t dwz(struct tdev *d, unsigned k, uint32_t type, uint64_t sector, uint32_t num,
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

#endif
