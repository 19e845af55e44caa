/* virtio-blk (VIRTIO 1.2, 5.2): a disk image from the block layer behind virtio queues; requests
 * go to block_submit with iovecs that point straight into guest RAM and complete on the pool.
 *
 * devargs ("virtio-blk"):
 *   file=PATH        the image (required)
 *   format=F         raw, vhdx, vhd, qcow2 (default: recognized by its contents)
 *   readonly=on|off  read-only disk: VIRTIO_BLK_F_RO, writes fail (default off)
 *   serial=TEXT      what VIRTIO_BLK_T_GET_ID returns, at most 20 bytes (default none: zeroes)
 *   queues=N         request queues, 1..64 (default: one per vCPU)
 *   on_error=report|pause  a host -ENOSPC/-EIO: the guest gets VIRTIO_BLK_S_IOERR (report,
 *                    the default), or the request is held, the hook of blk.h is called and the
 *                    request is retried (every second, and at once on virtio_blk_retry)
 *   slot=, legacy=, vectors=  the virtio PCI transport's (devices/virtio/virtio.h)
 */
#include "devices/virtio/blk.h"

#include "devices/block/block.h"
#include "devices/device.h"
#include "devices/virtio/virtio.h"
#include "hypervisor/bytes.h"
#include "hypervisor/evloop.h"
#include "hypervisor/log.h"
#include "hypervisor/vmstate.h"

#include <errno.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Feature bits (5.2.3). */
#define VIRTIO_BLK_F_SEG_MAX	  2
#define VIRTIO_BLK_F_RO		  5
#define VIRTIO_BLK_F_BLK_SIZE	  6
#define VIRTIO_BLK_F_FLUSH	  9
#define VIRTIO_BLK_F_TOPOLOGY	  10
#define VIRTIO_BLK_F_MQ		  12
#define VIRTIO_BLK_F_DISCARD	  13
#define VIRTIO_BLK_F_WRITE_ZEROES 14

/* Request types and status (5.2.6). */
#define VIRTIO_BLK_T_IN		  0
#define VIRTIO_BLK_T_OUT	  1
#define VIRTIO_BLK_T_FLUSH	  4
#define VIRTIO_BLK_T_GET_ID	  8
#define VIRTIO_BLK_T_DISCARD	  11
#define VIRTIO_BLK_T_WRITE_ZEROES 13
#define VIRTIO_BLK_T_BARRIER	  0x80000000u /* legacy: ignored */
#define VIRTIO_BLK_S_OK		  0
#define VIRTIO_BLK_S_IOERR	  1
#define VIRTIO_BLK_S_UNSUPP	  2
#define VIRTIO_BLK_WZ_UNMAP	  1u
#define VIRTIO_BLK_ID_BYTES	  20

#define HDR_BYTES  16 /* type, ioprio, sector */
#define DWZ_BYTES  16 /* one discard/write-zeroes segment: sector, num_sectors, flags */
#define QUEUE_SIZE 256
#define SEG_MAX	   (QUEUE_SIZE - 2)
/* Discard and write-zeroes: at most this many sectors per request (2 GiB), one segment. */
#define MAX_DWZ_SECTORS 4194303u
#define QUEUES_MAX	64
/* The most data one read or write may carry (the used ring's length is 32 bits). */
#define MAX_DATA (UINT32_MAX - 1u)
#define RETRY_NS 1000000000ull

/* struct virtio_blk_config (5.2.4), little-endian. */
#define CFG_CAPACITY	  0
#define CFG_SEG_MAX	  12
#define CFG_BLK_SIZE	  20
#define CFG_PHYS_EXP	  24
#define CFG_MIN_IO	  26
#define CFG_NUM_QUEUES	  34
#define CFG_MAX_DISCARD	  36
#define CFG_DISCARD_SEG	  40
#define CFG_DISCARD_ALIGN 44
#define CFG_MAX_WZ	  48
#define CFG_WZ_SEG	  52
#define CFG_WZ_MAY_UNMAP  56
#define CFG_BYTES	  60

struct virtio_blk;

struct blk_request {
	struct block_req breq;
	struct virtio_blk *blk;
	struct virtq *vq;
	struct virtq_elem *elem;
	uint8_t *status;	  /* the status byte, in guest RAM */
	uint32_t written;	  /* for the used ring, status byte included */
	struct blk_request *next; /* held (on_error=pause) */
	struct iovec iov[];
};

struct virtio_blk {
	char id[32];
	struct machine *m;
	struct virtio_device *vdev;
	struct block_dev *bd;
	bool readonly;
	bool pause_on_error;
	uint64_t sectors; /* capacity in 512-byte sectors */
	unsigned lsector; /* logical block size, bytes */
	unsigned nqueues;
	uint8_t serial[VIRTIO_BLK_ID_BYTES];

	pthread_mutex_t lock; /* held list, hook */
	/* Taken by a retry while it resubmits and by a reset while it drains, so a reset never
	 * misses requests a retry is about to submit. */
	pthread_mutex_t retry_lock;
	struct blk_request *held, **held_tail;
	struct evtimer *retry;
	virtio_blk_error_fn hook;
	void *hook_opaque;
	atomic_int last_error; /* logged once until a request succeeds again */
	atomic_bool paused;    /* held requests wait; no retry until resumed */
};

static void finish(struct blk_request *r, uint8_t status)
{
	*r->status = status;
	virtq_push(r->vq, r->elem, r->written);
	free(r);
}

static void log_failure(struct virtio_blk *b, int err, bool held)
{
	if (atomic_exchange(&b->last_error, err) == err)
		return;
	if (held)
		log_error("virtio-blk %s: %s: %s: the request waits, the VM pauses; free space on "
			  "the host (or fix the disk) and resume the VM",
			  b->id, block_path(b->bd), strerror(-err));
	else
		log_warn("virtio-blk %s: %s: %s: the guest gets an I/O error", b->id,
			 block_path(b->bd), strerror(-err));
}

static void request_done(struct block_req *breq, int status)
{
	struct blk_request *r = (struct blk_request *)breq;
	struct virtio_blk *b = r->blk;

	if (status == 0) {
		if (atomic_load_explicit(&b->last_error, memory_order_relaxed))
			atomic_store(&b->last_error, 0);
		finish(r, VIRTIO_BLK_S_OK);
		return;
	}
	if (b->pause_on_error && (status == -ENOSPC || status == -EIO)) {
		virtio_blk_error_fn hook;
		void *opaque;

		log_failure(b, status, true);
		pthread_mutex_lock(&b->lock);
		r->next = NULL;
		*b->held_tail = r;
		b->held_tail = &r->next;
		hook = b->hook;
		opaque = b->hook_opaque;
		pthread_mutex_unlock(&b->lock);
		evtimer_arm(b->retry, RETRY_NS, 0);
		if (hook)
			hook(opaque, b->id, block_path(b->bd), status);
		return;
	}
	log_failure(b, status, false);
	finish(r, VIRTIO_BLK_S_IOERR);
}

/* Empties the list of held requests and returns what it held. */
static struct blk_request *take_held(struct virtio_blk *b)
{
	struct blk_request *r;

	pthread_mutex_lock(&b->lock);
	r = b->held;
	b->held = NULL;
	b->held_tail = &b->held;
	pthread_mutex_unlock(&b->lock);
	return r;
}

static void resubmit_held(struct virtio_blk *b)
{
	struct blk_request *r;

	pthread_mutex_lock(&b->retry_lock);
	if (atomic_load(&b->paused)) {
		/* The requests wait for the resume, which retries them. */
		pthread_mutex_unlock(&b->retry_lock);
		return;
	}
	r = take_held(b);
	while (r) {
		struct blk_request *next = r->next;

		block_submit(b->bd, &r->breq);
		r = next;
	}
	pthread_mutex_unlock(&b->retry_lock);
}

static void retry_timer(void *opaque)
{
	resubmit_held(opaque);
}

void virtio_blk_retry(void *state)
{
	resubmit_held(state);
}

struct block_dev *virtio_blk_block_dev(void *state)
{
	struct virtio_blk *b = state;

	return b->bd;
}

void virtio_blk_set_error_hook(void *state, virtio_blk_error_fn fn, void *opaque)
{
	struct virtio_blk *b = state;

	pthread_mutex_lock(&b->lock);
	b->hook = fn;
	b->hook_opaque = opaque;
	pthread_mutex_unlock(&b->lock);
}

/* The part [off, off + len) of an iovec array as a new array in dst (at most n entries); returns
 * how many. */
static unsigned iov_slice(const struct iovec *src, unsigned n, size_t off, size_t len,
			  struct iovec *dst)
{
	unsigned k = 0;

	for (unsigned i = 0; i < n && len; i++) {
		size_t l = src[i].iov_len;

		if (off >= l) {
			off -= l;
			continue;
		}
		l -= off;
		if (l > len)
			l = len;
		dst[k].iov_base = (uint8_t *)src[i].iov_base + off;
		dst[k++].iov_len = l;
		len -= l;
		off = 0;
	}
	return k;
}

/* The byte at off of the iovecs (off < their total length). */
static uint8_t *iov_byte(const struct iovec *iov, unsigned n, size_t off)
{
	for (unsigned i = 0; i < n; i++) {
		if (off < iov[i].iov_len)
			return (uint8_t *)iov[i].iov_base + off;
		off -= iov[i].iov_len;
	}
	return NULL;
}

/* Whether [sector, sector + bytes / 512) is inside the disk and aligned to its blocks. */
static bool range_ok(const struct virtio_blk *b, uint64_t sector, uint64_t bytes)
{
	uint64_t per = b->lsector / BLOCK_SECTOR;

	if (bytes % b->lsector || sector % per)
		return false;
	return sector <= b->sectors && bytes / BLOCK_SECTOR <= b->sectors - sector;
}

/* DISCARD and WRITE_ZEROES: one segment after the header. Returns a status, or -1 with the block
 * request set up. */
static int prepare_dwz(struct virtio_blk *b, struct blk_request *r, uint32_t type)
{
	struct virtq_elem *e = r->elem;
	bool wz = type == VIRTIO_BLK_T_WRITE_ZEROES;
	uint64_t payload = e->out_len - HDR_BYTES, sector;
	uint32_t num, flags;
	uint8_t seg[DWZ_BYTES];

	if (!virtio_has_feature(b->vdev, wz ? VIRTIO_BLK_F_WRITE_ZEROES : VIRTIO_BLK_F_DISCARD))
		return VIRTIO_BLK_S_UNSUPP;
	if (payload < DWZ_BYTES || payload % DWZ_BYTES)
		return VIRTIO_BLK_S_IOERR;
	if (payload > DWZ_BYTES) /* max_discard_seg and max_write_zeroes_seg are 1 */
		return VIRTIO_BLK_S_UNSUPP;
	iov_to_buf(e->out, e->out_num, HDR_BYTES, seg, DWZ_BYTES);
	sector = get_le64(seg);
	num = get_le32(seg + 8);
	flags = get_le32(seg + 12);
	if (flags & ~(wz ? VIRTIO_BLK_WZ_UNMAP : 0))
		return VIRTIO_BLK_S_UNSUPP;
	if (b->readonly || num > MAX_DWZ_SECTORS ||
	    !range_ok(b, sector, (uint64_t)num * BLOCK_SECTOR))
		return VIRTIO_BLK_S_IOERR;
	if (!num)
		return VIRTIO_BLK_S_OK;
	r->breq.op = wz ? BLOCK_OP_WRITE_ZEROES : BLOCK_OP_DISCARD;
	r->breq.offset = sector * BLOCK_SECTOR;
	r->breq.len = (uint64_t)num * BLOCK_SECTOR;
	return -1;
}

/* Reads the request in r->elem: a status to finish it with at once, or -1 with the block
 * request set up. */
static int prepare(struct virtio_blk *b, struct blk_request *r)
{
	struct virtq_elem *e = r->elem;
	uint8_t hdr[HDR_BYTES];
	uint32_t type;
	uint64_t sector, len;
	int st = -1;

	iov_to_buf(e->out, e->out_num, 0, hdr, HDR_BYTES);
	type = get_le32(hdr) & ~VIRTIO_BLK_T_BARRIER;
	sector = get_le64(hdr + 8);
	r->written = 1;
	r->breq.done = request_done;
	r->breq.opaque = r;
	switch (type) {
	case VIRTIO_BLK_T_IN:
		len = e->in_len - 1;
		r->written = (uint32_t)e->in_len;
		r->breq.op = BLOCK_OP_READ;
		r->breq.niov = iov_slice(e->in, e->in_num, 0, len, r->iov);
		if (len > MAX_DATA || !range_ok(b, sector, len))
			st = VIRTIO_BLK_S_IOERR;
		else if (!len)
			st = VIRTIO_BLK_S_OK;
		break;
	case VIRTIO_BLK_T_OUT:
		len = e->out_len - HDR_BYTES;
		r->breq.op = BLOCK_OP_WRITE;
		r->breq.niov = iov_slice(e->out, e->out_num, HDR_BYTES, len, r->iov);
		if (b->readonly || len > MAX_DATA || !range_ok(b, sector, len))
			st = VIRTIO_BLK_S_IOERR;
		else if (!len)
			st = VIRTIO_BLK_S_OK;
		break;
	case VIRTIO_BLK_T_FLUSH:
		r->breq.op = BLOCK_OP_FLUSH;
		if (b->readonly) /* nothing was written */
			st = VIRTIO_BLK_S_OK;
		break;
	case VIRTIO_BLK_T_GET_ID:
		len = e->in_len - 1 < VIRTIO_BLK_ID_BYTES ? e->in_len - 1 : VIRTIO_BLK_ID_BYTES;
		r->written = (uint32_t)iov_from_buf(e->in, e->in_num, 0, b->serial, len) + 1;
		st = VIRTIO_BLK_S_OK;
		break;
	case VIRTIO_BLK_T_DISCARD:
	case VIRTIO_BLK_T_WRITE_ZEROES:
		st = prepare_dwz(b, r, type);
		break;
	default:
		st = VIRTIO_BLK_S_UNSUPP;
		break;
	}
	if (st >= 0)
		return st;
	r->breq.iov = r->iov;
	r->breq.offset = r->breq.op == BLOCK_OP_READ || r->breq.op == BLOCK_OP_WRITE
			     ? sector * BLOCK_SECTOR
			     : r->breq.offset;
	return -1;
}

/* A request for the chain e taken from vq (NULL when out of memory). */
static struct blk_request *new_request(struct virtio_blk *b, struct virtq *vq, struct virtq_elem *e)
{
	struct blk_request *r =
	    calloc(1, sizeof(*r) + (e->out_num + e->in_num) * sizeof(struct iovec));

	if (!r)
		return NULL;
	r->blk = b;
	r->vq = vq;
	r->elem = e;
	r->status = iov_byte(e->in, e->in_num, e->in_len - 1);
	return r;
}

/* Finishes the request in r->elem at once or submits it. */
static void handle(struct virtio_blk *b, struct blk_request *r)
{
	int st = prepare(b, r);

	if (st >= 0) {
		finish(r, (uint8_t)st);
		return;
	}
	block_submit(b->bd, &r->breq);
}

static void queue_notify(struct virtio_device *vdev, unsigned qi)
{
	struct virtio_blk *b = virtio_opaque(vdev);
	struct virtq *vq = virtio_queue(vdev, qi);
	struct virtq_elem *e;

	if (!vq)
		return;
	while (virtq_pop(vq, &e) == 1) {
		struct blk_request *r;

		/* The header first and a status byte last are the request's frame (5.2.6):
		 * without them there is nowhere to report an error. */
		if (e->out_len < HDR_BYTES || e->in_len < 1) {
			virtq_discard(vq, e);
			virtio_set_needs_reset(vdev, "virtio-blk: a request without its header or "
						     "status byte");
			return;
		}
		r = new_request(b, vq, e);
		if (!r) {
			virtq_unpop(vq, e);
			return;
		}
		handle(b, r);
	}
}

/* Drops held requests (their elements were popped before a reset, or the device goes away). */
static void drop_held(struct virtio_blk *b)
{
	struct blk_request *r = take_held(b);

	while (r) {
		struct blk_request *next = r->next;

		virtq_discard(r->vq, r->elem);
		free(r);
		r = next;
	}
}

static void blk_reset(struct virtio_device *vdev)
{
	struct virtio_blk *b = virtio_opaque(vdev);

	/* Nothing of the old requests may touch guest RAM after the reset. */
	pthread_mutex_lock(&b->retry_lock);
	evtimer_cancel(b->retry);
	block_drain(b->bd);
	drop_held(b);
	pthread_mutex_unlock(&b->retry_lock);
}

static const struct virtio_device_ops blk_ops = {
    .queue_notify = queue_notify,
    .reset = blk_reset,
};

static void build_config(struct virtio_blk *b, uint8_t *cfg, uint64_t *features)
{
	unsigned exp = 0, phys = b->lsector;
	struct block_info info;

	if (block_get_info(b->bd, &info) == 0 && info.physical_sector > b->lsector)
		phys = info.physical_sector;
	while ((b->lsector << exp) < phys && exp < 16)
		exp++;
	memset(cfg, 0, CFG_BYTES);
	put_le64(cfg + CFG_CAPACITY, b->sectors);
	put_le32(cfg + CFG_SEG_MAX, SEG_MAX);
	put_le32(cfg + CFG_BLK_SIZE, b->lsector);
	cfg[CFG_PHYS_EXP] = (uint8_t)exp;
	put_le16(cfg + CFG_MIN_IO, (uint16_t)(1u << exp));
	put_le16(cfg + CFG_NUM_QUEUES, (uint16_t)b->nqueues);
	*features = 1ull << VIRTIO_BLK_F_SEG_MAX | 1ull << VIRTIO_BLK_F_BLK_SIZE |
		    1ull << VIRTIO_BLK_F_FLUSH | 1ull << VIRTIO_BLK_F_TOPOLOGY;
	if (b->nqueues > 1)
		*features |= 1ull << VIRTIO_BLK_F_MQ;
	if (b->readonly) {
		*features |= 1ull << VIRTIO_BLK_F_RO;
		return;
	}
	*features |= 1ull << VIRTIO_BLK_F_DISCARD | 1ull << VIRTIO_BLK_F_WRITE_ZEROES;
	put_le32(cfg + CFG_MAX_DISCARD, MAX_DWZ_SECTORS);
	put_le32(cfg + CFG_DISCARD_SEG, 1);
	put_le32(cfg + CFG_DISCARD_ALIGN, b->lsector / BLOCK_SECTOR);
	put_le32(cfg + CFG_MAX_WZ, MAX_DWZ_SECTORS);
	put_le32(cfg + CFG_WZ_SEG, 1);
	cfg[CFG_WZ_MAY_UNMAP] = 1;
}

static void blk_free(struct virtio_blk *b)
{
	if (b->retry)
		evtimer_free(b->retry);
	block_close(b->bd);
	pthread_mutex_destroy(&b->retry_lock);
	pthread_mutex_destroy(&b->lock);
	free(b);
}

static int parse_args(struct virtio_blk *b, const struct devargs *args, const char **file)
{
	const char *ro = devargs_get(args, "readonly"), *serial = devargs_get(args, "serial");
	const char *onerr = devargs_get(args, "on_error");
	uint64_t q;

	*file = devargs_get(args, "file");
	if (!*file || !**file) {
		log_error("virtio-blk %s: no image: give file=PATH", b->id);
		return -EINVAL;
	}
	if (ro && strcmp(ro, "on") && strcmp(ro, "off")) {
		log_error("virtio-blk %s: readonly='%s' is not on or off", b->id, ro);
		return -EINVAL;
	}
	b->readonly = ro && !strcmp(ro, "on");
	if (serial && strlen(serial) > VIRTIO_BLK_ID_BYTES) {
		log_error("virtio-blk %s: serial '%s' is longer than %u bytes", b->id, serial,
			  VIRTIO_BLK_ID_BYTES);
		return -EINVAL;
	}
	if (serial)
		memcpy(b->serial, serial, strlen(serial));
	if (onerr && strcmp(onerr, "report") && strcmp(onerr, "pause")) {
		log_error("virtio-blk %s: on_error='%s' is not report or pause", b->id, onerr);
		return -EINVAL;
	}
	b->pause_on_error = onerr && !strcmp(onerr, "pause");
	if (devargs_u64(args, "queues", b->m->cpus ? b->m->cpus : 1, QUEUES_MAX, &q) < 0 || !q) {
		log_error("virtio-blk %s: queues='%s' is not a number from 1 to %u", b->id,
			  devargs_get(args, "queues"), QUEUES_MAX);
		return -EINVAL;
	}
	b->nqueues = q > QUEUES_MAX ? QUEUES_MAX : (unsigned)q;
	return 0;
}

static int blk_create(struct machine *m, const char *id, const struct devargs *args, void **state)
{
	static const char *const keys[] = {"file",   "format",	 "readonly",	  "serial",
					   "queues", "on_error", VIRTIO_PCI_KEYS, NULL};
	struct virtio_device_info info = {
	    .name = "virtio-blk",
	    .device_id = VIRTIO_ID_BLOCK,
	    .class_code = 0x010000,
	    .queue_size = QUEUE_SIZE,
	    .config_size = CFG_BYTES,
	};
	uint8_t cfg[CFG_BYTES];
	const char *file, *format;
	struct virtio_blk *b;
	char err[512];
	int r;

	if (devargs_check_keys(args, "virtio-blk", keys) < 0)
		return -EINVAL;
	b = calloc(1, sizeof(*b));
	if (!b)
		return -ENOMEM;
	snprintf(b->id, sizeof(b->id), "%s", id);
	b->m = m;
	b->held_tail = &b->held;
	pthread_mutex_init(&b->lock, NULL);
	pthread_mutex_init(&b->retry_lock, NULL);
	r = parse_args(b, args, &file);
	if (r < 0)
		goto fail;
	format = devargs_get(args, "format");
	r = block_open(file, format && *format ? format : NULL, b->readonly ? BLOCK_RDONLY : 0,
		       &b->bd, err, sizeof(err));
	if (r < 0) {
		log_error("virtio-blk %s: %s", id, err);
		goto fail;
	}
	b->lsector = block_logical_sector(b->bd);
	b->sectors = block_size(b->bd) / BLOCK_SECTOR;
	if (block_size(b->bd) < b->lsector) {
		log_error("virtio-blk %s: %s: the image is smaller than one %u-byte sector; give a "
			  "disk image of some size",
			  id, file, b->lsector);
		r = -EINVAL;
		goto fail;
	}
	b->retry = evtimer_new(m->loop, retry_timer, b);
	if (!b->retry) {
		r = -ENOMEM;
		goto fail;
	}
	build_config(b, cfg, &info.features);
	info.num_queues = b->nqueues;
	info.config = cfg;
	r = virtio_pci_create(m, id, args, &info, &blk_ops, b, &b->vdev);
	if (r < 0)
		goto fail;
	*state = b;
	return 0;
fail:
	blk_free(b);
	return r;
}

static void blk_device_reset(void *state)
{
	struct virtio_blk *b = state;

	virtio_pci_reset(b->vdev);
}

static void blk_destroy(void *state)
{
	struct virtio_blk *b = state;

	blk_reset(b->vdev);
	virtio_pci_destroy(b->vdev);
	blk_free(b);
}

/* --- saved state ------------------------------------------------------------------------ */

/* The transport's fields, then "blk.held": the requests held for a retry (on_error=pause), each
 * its queue and head as two little-endian u16. Requests in flight completed when the device
 * paused. */
static void blk_save(void *state, struct vmstate_out *out)
{
	struct virtio_blk *b = state;
	struct blk_request *r;
	size_t n = 0, i = 0;
	uint8_t *list;

	virtio_save(b->vdev, out);
	pthread_mutex_lock(&b->lock);
	for (r = b->held; r; r = r->next)
		n++;
	list = malloc(4 * n + 1);
	for (r = b->held; r && list; r = r->next, i += 4) {
		put_le16(list + i, (uint16_t)virtq_index(r->vq));
		put_le16(list + i + 2, r->elem->head);
	}
	pthread_mutex_unlock(&b->lock);
	if (!list) {
		if (!out->err)
			out->err = -ENOMEM;
		return;
	}
	vmstate_put_bytes(out, "blk.held", list, 4 * n);
	free(list);
}

/* The held request at queue qi, head: taken back from the ring and read again. */
static int restore_held(struct virtio_blk *b, unsigned qi, uint16_t head,
			struct vmstate_section *in)
{
	struct virtq *vq = virtio_queue(b->vdev, qi);
	struct blk_request *r;
	struct virtq_elem *e;
	int err;

	if (!vq)
		return vmstate_fail(in, "blk.held: a request on queue %u of %u", qi, b->nqueues);
	if ((err = virtq_restore(vq, head, in, &e)) < 0)
		return err;
	if (e->out_len < HDR_BYTES || e->in_len < 1) {
		virtq_discard(vq, e);
		return vmstate_fail(in, "blk.held: queue %u head %u is not a request", qi, head);
	}
	r = new_request(b, vq, e);
	if (!r) {
		virtq_discard(vq, e);
		return -ENOMEM;
	}
	if (prepare(b, r) >= 0) {
		/* Only requests that reached the disk are held. */
		virtq_discard(vq, e);
		free(r);
		return vmstate_fail(in, "blk.held: queue %u head %u is not a request for the disk",
				    qi, head);
	}
	pthread_mutex_lock(&b->lock);
	r->next = NULL;
	*b->held_tail = r;
	b->held_tail = &r->next;
	pthread_mutex_unlock(&b->lock);
	return 0;
}

static int blk_load(void *state, struct vmstate_section *in)
{
	struct virtio_blk *b = state;
	const uint8_t *list;
	size_t len;
	int r;

	if ((r = virtio_load(b->vdev, in)) < 0)
		return r;
	list = vmstate_get_blob(in, "blk.held", 4 * (size_t)QUEUES_MAX * QUEUE_SIZE, &len);
	if (!list)
		return -EINVAL;
	if (len % 4)
		return vmstate_fail(
		    in, "blk.held: %zu bytes are not a list of queue and head pairs", len);
	for (size_t i = 0; i < len; i += 4)
		if ((r = restore_held(b, get_le16(list + i), get_le16(list + i + 2), in)) < 0)
			return r;
	if ((r = virtio_load_done(b->vdev, in)) < 0)
		return r;
	if (len)
		evtimer_arm(b->retry, RETRY_NS, 0);
	return 0;
}

/* Paused: kicks wait, requests in flight complete first (into the used ring, or held), and
 * held requests are not retried. Going on retries them after the usual delay (the worker calls
 * virtio_blk_retry when it resumes a VM that stopped on a disk error). */
static void blk_pause(void *state, bool paused)
{
	struct virtio_blk *b = state;

	if (!paused) {
		atomic_store(&b->paused, false);
		virtio_pause(b->vdev, false);
		pthread_mutex_lock(&b->lock);
		bool held = b->held != NULL;
		pthread_mutex_unlock(&b->lock);
		if (held)
			evtimer_arm(b->retry, RETRY_NS, 0);
		return;
	}
	virtio_pause(b->vdev, true);
	pthread_mutex_lock(&b->retry_lock);
	atomic_store(&b->paused, true); /* a retry running now has submitted its requests */
	pthread_mutex_unlock(&b->retry_lock);
	block_drain(b->bd);
	evtimer_cancel(b->retry);
}

static const struct device_model virtio_blk_model = {
    .name = "virtio-blk",
    .description = "virtio block device (PCI): a disk image with several queues, discard and "
		   "write-zeroes",
    .create = blk_create,
    .reset = blk_device_reset,
    .destroy = blk_destroy,
    .state_version = 1,
    .save = blk_save,
    .load = blk_load,
    .pause = blk_pause,
};
DEVICE_MODEL(virtio_blk_model);
