/* Split virtqueues (VIRTIO 1.2, 2.7): descriptor chains (direct and
 * indirect) turned into checked host iovecs, the used ring with the
 * ordering the spec asks for, and interrupt suppression (NO_INTERRUPT,
 * EVENT_IDX). A malformed ring marks the device DEVICE_NEEDS_RESET. */
#include "devices/virtio/virtio_int.h"

#include "hypervisor/log.h"
#include "hypervisor/vmstate.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

int virtq_init(struct virtq *vq, struct virtio_device *vdev, unsigned index, uint16_t max_size)
{
	memset(vq, 0, sizeof(*vq));
	vq->vdev = vdev;
	vq->index = index;
	vq->max_size = max_size;
	vq->notify_fd = -1;
	vq->scratch = calloc(VIRTQ_IOV_MAX, sizeof(*vq->scratch));
	if (!vq->scratch)
		return -ENOMEM;
	pthread_mutex_init(&vq->lock, NULL);
	virtq_reset(vq);
	return 0;
}

void virtq_fini(struct virtq *vq)
{
	if (!vq->scratch)
		return;
	pthread_mutex_destroy(&vq->lock);
	free(vq->scratch);
	vq->scratch = NULL;
}

void virtq_reset(struct virtq *vq)
{
	pthread_mutex_lock(&vq->lock);
	vq->size = vq->max_size;
	vq->vector = VIRTIO_NO_VECTOR;
	vq->enabled = vq->broken = false;
	vq->desc_gpa = vq->avail_gpa = vq->used_gpa = 0;
	vq->desc = NULL;
	vq->avail = NULL;
	vq->used = NULL;
	vq->last_avail = vq->used_idx = 0;
	vq->signalled_used = 0;
	vq->signalled_valid = false;
	vq->popped = 0;
	vq->discarded = 0;
	vq->batched = false;
	vq->gen++;
	pthread_mutex_unlock(&vq->lock);
}

bool virtq_map_rings(struct virtq *vq)
{
	struct guest_memory *mem = &vq->vdev->m->mem;
	uint64_t n = vq->size;
	bool ok = n && !(n & (n - 1)) && !(vq->desc_gpa & 15) && !(vq->avail_gpa & 1) &&
		  !(vq->used_gpa & 3);
	const void *desc = ok ? gpa_to_hva_ro(mem, vq->desc_gpa, 16 * n) : NULL;
	const void *avail = desc ? gpa_to_hva_ro(mem, vq->avail_gpa, 6 + 2 * n) : NULL;
	void *used = avail ? gpa_to_hva(mem, vq->used_gpa, 6 + 8 * n) : NULL;
	if (!used)
		return false;
	vq->desc = desc;
	vq->avail = (volatile uint16_t *)avail;
	vq->used = used;
	vq->enabled = true;
	return true;
}

bool virtq_enable(struct virtq *vq)
{
	pthread_mutex_lock(&vq->lock);
	bool ok = virtq_map_rings(vq);
	if (ok)
		vq->last_avail = vq->used_idx = 0;
	pthread_mutex_unlock(&vq->lock);
	return ok;
}

struct virtio_device *virtq_device(const struct virtq *vq)
{
	return vq->vdev;
}

unsigned virtq_index(const struct virtq *vq)
{
	return vq->index;
}

bool virtq_ready(const struct virtq *vq)
{
	struct virtq *q = (struct virtq *)vq;
	pthread_mutex_lock(&q->lock);
	bool r = q->enabled && !q->broken;
	pthread_mutex_unlock(&q->lock);
	return r && virtio_running(vq->vdev);
}

unsigned virtq_size(const struct virtq *vq)
{
	return vq->size;
}

static bool has_feature(const struct virtq *vq, unsigned bit)
{
	return (atomic_load_explicit(&vq->vdev->guest_features, memory_order_relaxed) >> bit) & 1;
}

static void *map(struct guest_memory *mem, uint64_t gpa, uint64_t len, bool write)
{
	return write ? gpa_to_hva(mem, gpa, len) : (void *)gpa_to_hva_ro(mem, gpa, len);
}

/* Appends host iovecs for [gpa, gpa+len) to vq->scratch at *n: one when the
 * range lies in one region, else one per region it crosses (each found by
 * a binary search over pages, so a huge buffer costs a few dozen look-ups,
 * not one per page). false if any byte is not RAM or there is no room. */
static bool map_range(struct virtq *vq, uint64_t gpa, uint32_t len, bool write, unsigned *n)
{
	struct guest_memory *mem = &vq->vdev->m->mem;
	if (len == 0)
		return true;
	if (gpa + len < gpa)
		return false;
	uint64_t end = gpa + len;
	while (gpa < end) {
		uint64_t left = end - gpa;
		uint64_t good = left;
		void *p = map(mem, gpa, left, write);
		if (!p) {
			/* The largest prefix in one region: at least up to
			 * the next page boundary, less than `left`. */
			uint64_t bad = left;
			good = ((gpa | (GUESTMEM_PAGE - 1)) + 1) - gpa;
			if (good >= left || !(p = map(mem, gpa, good, write)))
				return false;
			while (bad - good > GUESTMEM_PAGE) {
				uint64_t mid =
				    good + (bad - good) / 2 / GUESTMEM_PAGE * GUESTMEM_PAGE;
				if (map(mem, gpa, mid, write))
					good = mid;
				else
					bad = mid;
			}
		}
		if (*n >= VIRTQ_IOV_MAX)
			return false;
		vq->scratch[(*n)++] = (struct iovec){p, good};
		gpa += good;
	}
	return true;
}

struct chain {
	unsigned n;    /* iovecs so far */
	unsigned nout; /* of which device-readable */
	uint64_t out_len, in_len;
	bool seen_write;
};

/* One descriptor's buffer. */
static const char *add_desc(struct virtq *vq, struct chain *c, uint64_t addr, uint32_t len,
			    uint16_t flags)
{
	bool write = flags & VIRTQ_DESC_F_WRITE;
	if (!write && c->seen_write)
		return "a readable buffer after a writable one";
	if (!map_range(vq, addr, len, write, &c->n))
		return "a buffer outside guest RAM";
	if (write) {
		c->seen_write = true;
		c->in_len += len;
	} else {
		c->nout = c->n;
		c->out_len += len;
	}
	return NULL;
}

/* Walks an indirect table (2.7.5.3). */
static const char *walk_indirect(struct virtq *vq, struct chain *c, const struct virtq_desc *d)
{
	struct guest_memory *mem = &vq->vdev->m->mem;
	if (!has_feature(vq, VIRTIO_F_INDIRECT_DESC))
		return "an indirect descriptor without VIRTIO_F_INDIRECT_DESC";
	if (d->flags & VIRTQ_DESC_F_NEXT)
		return "an indirect descriptor with NEXT set";
	if (d->len == 0 || d->len % sizeof(struct virtq_desc) ||
	    d->len / sizeof(struct virtq_desc) > VIRTQ_INDIRECT_MAX)
		return "a bad indirect table length";
	unsigned tn = d->len / sizeof(struct virtq_desc);
	const struct virtq_desc *table = gpa_to_hva_ro(mem, d->addr, d->len);
	if (!table || (d->addr & 15))
		return "an indirect table outside guest RAM or misaligned";
	unsigned i = 0;
	for (unsigned count = 0;; count++) {
		if (count >= tn)
			return "a loop in an indirect table";
		struct virtq_desc e;
		memcpy(&e, (const void *)&table[i], sizeof(e));
		if (e.flags & VIRTQ_DESC_F_INDIRECT)
			return "an indirect descriptor inside an indirect table";
		const char *err = add_desc(vq, c, e.addr, e.len, e.flags);
		if (err)
			return err;
		if (!(e.flags & VIRTQ_DESC_F_NEXT))
			return NULL;
		if (e.next >= tn)
			return "a next index outside the indirect table";
		i = e.next;
	}
}

static const char *walk_chain(struct virtq *vq, struct chain *c, uint16_t head)
{
	uint16_t i = head;
	for (unsigned count = 0;; count++) {
		if (count >= vq->size)
			return "a descriptor chain longer than the queue (a loop)";
		struct virtq_desc d;
		memcpy(&d, (const void *)&vq->desc[i], sizeof(d));
		if (d.flags & VIRTQ_DESC_F_INDIRECT) {
			if (count != 0)
				return "an indirect descriptor that is not the chain's head";
			return walk_indirect(vq, c, &d);
		}
		const char *err = add_desc(vq, c, d.addr, d.len, d.flags);
		if (err)
			return err;
		if (!(d.flags & VIRTQ_DESC_F_NEXT))
			return NULL;
		if (d.next >= vq->size)
			return "a next index outside the descriptor table";
		i = d.next;
	}
}

/* The ring is malformed: stop it and tell the driver (lock not held). */
static void broken(struct virtq *vq, const char *why)
{
	char msg[160];
	snprintf(msg, sizeof(msg), "queue %u: %s", vq->index, why);
	virtio_set_needs_reset(vq->vdev, msg);
}

/* avail_event: kick us when the driver's index passes this one. Lock held. */
static void set_avail_event(struct virtq *vq)
{
	volatile uint16_t *avail_event = (volatile uint16_t *)(vq->used + 4 + 8 * vq->size);
	__atomic_store_n(avail_event, vq->last_avail, __ATOMIC_RELEASE);
}

/* The element for a chain walked into vq->scratch. Lock held. */
static struct virtq_elem *make_elem(struct virtq *vq, const struct chain *c, uint16_t head)
{
	struct virtq_elem *e = malloc(sizeof(*e) + c->n * sizeof(struct iovec));
	if (!e)
		return NULL;
	memcpy(e->iov, vq->scratch, c->n * sizeof(struct iovec));
	e->head = head;
	e->out_num = c->nout;
	e->in_num = c->n - c->nout;
	e->out_len = c->out_len;
	e->in_len = c->in_len;
	e->out = e->iov;
	e->in = e->iov + c->nout;
	e->gen = vq->gen;
	return e;
}

int virtq_pop(struct virtq *vq, struct virtq_elem **out)
{
	*out = NULL;
	pthread_mutex_lock(&vq->lock);
	if (!vq->enabled || vq->broken) {
		pthread_mutex_unlock(&vq->lock);
		return 0;
	}
	uint16_t avail_idx = __atomic_load_n(&vq->avail[1], __ATOMIC_ACQUIRE);
	uint16_t pending = (uint16_t)(avail_idx - vq->last_avail);
	const char *err = NULL;
	if (pending == 0 && has_feature(vq, VIRTIO_F_EVENT_IDX)) {
		/* Empty: ask for a kick at the next entry, then look again, so
		 * that an entry the driver added before it could see our
		 * avail_event is not left without a kick (2.7.10). */
		set_avail_event(vq);
		__atomic_thread_fence(__ATOMIC_SEQ_CST);
		avail_idx = __atomic_load_n(&vq->avail[1], __ATOMIC_ACQUIRE);
		pending = (uint16_t)(avail_idx - vq->last_avail);
	}
	if (pending == 0) {
		pthread_mutex_unlock(&vq->lock);
		return 0;
	}
	if (pending > vq->size) {
		err = "the available index moved by more than the queue size";
		goto bad;
	}
	uint16_t head = vq->avail[2 + vq->last_avail % vq->size];
	if (head >= vq->size) {
		err = "an available head outside the descriptor table";
		goto bad;
	}
	struct chain c = {0};
	if ((err = walk_chain(vq, &c, head)) != NULL)
		goto bad;
	struct virtq_elem *e = make_elem(vq, &c, head);
	if (!e) {
		pthread_mutex_unlock(&vq->lock);
		return -ENOMEM;
	}
	vq->last_avail++;
	vq->popped++;
	if (has_feature(vq, VIRTIO_F_EVENT_IDX))
		set_avail_event(vq);
	pthread_mutex_unlock(&vq->lock);
	*out = e;
	return 1;
bad:
	vq->broken = true;
	pthread_mutex_unlock(&vq->lock);
	broken(vq, err);
	return -EIO;
}

unsigned virtq_inflight(struct virtq *vq)
{
	pthread_mutex_lock(&vq->lock);
	unsigned n = (uint16_t)(vq->last_avail - vq->used_idx);
	pthread_mutex_unlock(&vq->lock);
	return n;
}

int virtq_restore(struct virtq *vq, uint16_t head, struct vmstate_section *in,
		  struct virtq_elem **out)
{
	const char *err = NULL;
	struct chain c = {0};

	*out = NULL;
	pthread_mutex_lock(&vq->lock);
	if (!vq->enabled)
		err = "a buffer in flight on a queue that is not enabled";
	else if (head >= vq->size)
		err = "a buffer in flight with a head outside the descriptor table";
	else if (vq->popped + vq->discarded >= (uint16_t)(vq->last_avail - vq->used_idx))
		err = "more buffers in flight than its indexes say";
	else
		err = walk_chain(vq, &c, head);
	if (err) {
		pthread_mutex_unlock(&vq->lock);
		return vmstate_fail(in, "queue %u: %s", vq->index, err);
	}
	struct virtq_elem *e = make_elem(vq, &c, head);
	if (e)
		vq->popped++;
	pthread_mutex_unlock(&vq->lock);
	if (!e)
		return -ENOMEM;
	*out = e;
	return 0;
}

bool virtq_has_avail(struct virtq *vq)
{
	pthread_mutex_lock(&vq->lock);
	bool r = vq->enabled && !vq->broken &&
		 __atomic_load_n(&vq->avail[1], __ATOMIC_ACQUIRE) != vq->last_avail;
	pthread_mutex_unlock(&vq->lock);
	return r;
}

/* vring_need_event (2.7.10): whether used index `new` passed the driver's
 * used_event since `old`. */
static bool need_event(uint16_t event, uint16_t new_idx, uint16_t old)
{
	return (uint16_t)(new_idx - event - 1) < (uint16_t)(new_idx - old);
}

/* Whether the driver wants an interrupt for what was just added. Lock held. */
static bool should_interrupt(struct virtq *vq)
{
	/* The used index must be visible before we read the driver's
	 * suppression fields (the driver does the mirror image). */
	__atomic_thread_fence(__ATOMIC_SEQ_CST);
	if (has_feature(vq, VIRTIO_F_EVENT_IDX)) {
		uint16_t used_event = __atomic_load_n(&vq->avail[2 + vq->size], __ATOMIC_ACQUIRE);
		uint16_t old = vq->signalled_used;
		bool valid = vq->signalled_valid;
		vq->signalled_used = vq->used_idx;
		vq->signalled_valid = true;
		return !valid || need_event(used_event, vq->used_idx, old);
	}
	return !(__atomic_load_n(&vq->avail[0], __ATOMIC_ACQUIRE) & VIRTQ_AVAIL_F_NO_INTERRUPT);
}

/* Adds the used element; false if the element is stale. Lock held. */
static bool add_used(struct virtq *vq, struct virtq_elem *elem, uint32_t written)
{
	if (elem->gen != vq->gen || !vq->enabled)
		return false;
	if (written > elem->in_len)
		written = (uint32_t)elem->in_len;
	volatile uint8_t *slot = vq->used + 4 + 8 * (vq->used_idx % vq->size);
	__atomic_store_n((volatile uint32_t *)slot, (uint32_t)elem->head, __ATOMIC_RELAXED);
	__atomic_store_n((volatile uint32_t *)(slot + 4), written, __ATOMIC_RELAXED);
	vq->used_idx++;
	/* The element before the index (2.7.8). */
	__atomic_store_n((volatile uint16_t *)(vq->used + 2), vq->used_idx, __ATOMIC_RELEASE);
	vq->popped--;
	return true;
}

void virtq_push(struct virtq *vq, struct virtq_elem *elem, uint32_t written)
{
	pthread_mutex_lock(&vq->lock);
	bool irq = add_used(vq, elem, written) && should_interrupt(vq);
	pthread_mutex_unlock(&vq->lock);
	free(elem);
	if (irq)
		virtio_queue_irq(vq);
}

void virtq_push_batch(struct virtq *vq, struct virtq_elem *elem, uint32_t written)
{
	pthread_mutex_lock(&vq->lock);
	if (add_used(vq, elem, written))
		vq->batched = true;
	pthread_mutex_unlock(&vq->lock);
	free(elem);
}

void virtq_flush(struct virtq *vq)
{
	pthread_mutex_lock(&vq->lock);
	bool irq = vq->batched && vq->enabled && should_interrupt(vq);
	vq->batched = false;
	pthread_mutex_unlock(&vq->lock);
	if (irq)
		virtio_queue_irq(vq);
}

void virtq_unpop(struct virtq *vq, struct virtq_elem *elem)
{
	pthread_mutex_lock(&vq->lock);
	if (elem->gen == vq->gen && vq->enabled) {
		vq->last_avail--;
		vq->popped--;
	}
	pthread_mutex_unlock(&vq->lock);
	free(elem);
}

void virtq_discard(struct virtq *vq, struct virtq_elem *elem)
{
	pthread_mutex_lock(&vq->lock);
	if (elem->gen == vq->gen && vq->popped) {
		vq->popped--;
		vq->discarded++;
	}
	pthread_mutex_unlock(&vq->lock);
	free(elem);
}

/* Copies up to len bytes between the iovec, from byte off on, and a buffer: out
 * of `from` into the iovec when from is set, else out of the iovec into `into`.
 * Returns how many bytes were copied. */
static size_t iov_copy(const struct iovec *iov, unsigned n, size_t off, uint8_t *into,
		       const uint8_t *from, size_t len)
{
	size_t done = 0;
	for (unsigned i = 0; i < n && done < len; i++) {
		if (off >= iov[i].iov_len) {
			off -= iov[i].iov_len;
			continue;
		}
		size_t k = iov[i].iov_len - off;
		if (k > len - done)
			k = len - done;
		uint8_t *at = (uint8_t *)iov[i].iov_base + off;
		if (from)
			memcpy(at, from + done, k);
		else
			memcpy(into + done, at, k);
		done += k;
		off = 0;
	}
	return done;
}

size_t iov_to_buf(const struct iovec *iov, unsigned n, size_t off, void *buf, size_t len)
{
	return iov_copy(iov, n, off, buf, NULL, len);
}

size_t iov_from_buf(const struct iovec *iov, unsigned n, size_t off, const void *buf, size_t len)
{
	return iov_copy(iov, n, off, NULL, buf, len);
}
