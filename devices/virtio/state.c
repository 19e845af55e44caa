/* The virtio transport's saved state (virtio.h): the PCI function, device
 * status, features and configuration, each queue's registers and ring
 * indexes; loading checks them as the driver's writes are checked, and
 * pausing holds back the driver's kicks. */
#include "devices/virtio/virtio_int.h"

#include "hypervisor/vmstate.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define STATUS_BITS                                                                                \
	(VIRTIO_STATUS_ACKNOWLEDGE | VIRTIO_STATUS_DRIVER | VIRTIO_STATUS_DRIVER_OK |              \
	 VIRTIO_STATUS_FEATURES_OK | VIRTIO_STATUS_DEVICE_NEEDS_RESET | VIRTIO_STATUS_FAILED)

/* "vq.N.field" */
static const char *qfield(char *buf, size_t size, unsigned qi, const char *field)
{
	snprintf(buf, size, "vq.%u.%s", qi, field);
	return buf;
}

static void save_queue(struct virtq *vq, struct vmstate_out *out)
{
	char f[32];
	unsigned i = vq->index;

	pthread_mutex_lock(&vq->lock);
	vmstate_put_u64(out, qfield(f, sizeof(f), i, "size"), vq->size);
	vmstate_put_u64(out, qfield(f, sizeof(f), i, "vector"), vq->vector);
	vmstate_put_bool(out, qfield(f, sizeof(f), i, "enabled"), vq->enabled);
	vmstate_put_bool(out, qfield(f, sizeof(f), i, "broken"), vq->broken);
	vmstate_put_u64(out, qfield(f, sizeof(f), i, "desc"), vq->desc_gpa);
	vmstate_put_u64(out, qfield(f, sizeof(f), i, "avail"), vq->avail_gpa);
	vmstate_put_u64(out, qfield(f, sizeof(f), i, "used"), vq->used_gpa);
	vmstate_put_u64(out, qfield(f, sizeof(f), i, "last_avail"), vq->last_avail);
	vmstate_put_u64(out, qfield(f, sizeof(f), i, "used_idx"), vq->used_idx);
	vmstate_put_u64(out, qfield(f, sizeof(f), i, "discarded"), vq->discarded);
	vmstate_put_u64(out, qfield(f, sizeof(f), i, "signalled_used"), vq->signalled_used);
	vmstate_put_bool(out, qfield(f, sizeof(f), i, "signalled_valid"), vq->signalled_valid);
	pthread_mutex_unlock(&vq->lock);
}

void virtio_save(struct virtio_device *vdev, struct vmstate_out *out)
{
	pci_save(&vdev->pci, out);
	if (vdev->nvec)
		msix_save(&vdev->msix, out);
	pthread_mutex_lock(&vdev->lock);
	vmstate_put_u64(out, "virtio.queues", vdev->info.num_queues);
	vmstate_put_u64(out, "virtio.status", vdev->status);
	vmstate_put_u64(out, "virtio.config_gen", vdev->config_gen);
	vmstate_put_u64(out, "virtio.dfselect", vdev->dfselect);
	vmstate_put_u64(out, "virtio.gfselect", vdev->gfselect);
	vmstate_put_u64(out, "virtio.guest_features", atomic_load(&vdev->guest_features));
	vmstate_put_bool(out, "virtio.features_set", vdev->features_set);
	vmstate_put_u64(out, "virtio.queue_sel", vdev->queue_sel);
	vmstate_put_u64(out, "virtio.config_vector", vdev->config_vector);
	vmstate_put_bytes(out, "virtio.config", vdev->config, vdev->info.config_size);
	pthread_mutex_unlock(&vdev->lock);
	pthread_mutex_lock(&vdev->intr_lock);
	vmstate_put_u64(out, "virtio.isr", vdev->isr);
	pthread_mutex_unlock(&vdev->intr_lock);
	for (unsigned i = 0; i < vdev->info.num_queues; i++)
		save_queue(&vdev->vqs[i], out);
}

/* A vector register's value: one the table has, or none. */
static int get_vector(struct virtio_device *vdev, struct vmstate_section *in, const char *field,
		      uint16_t *out)
{
	int r = vmstate_get_u16(in, field, 0xffff, out);
	if (r < 0)
		return r;
	if (*out != VIRTIO_NO_VECTOR && *out >= vdev->nvec)
		return vmstate_fail(in, "%s is %u, the device has %u MSI-X vectors", field, *out,
				    vdev->nvec);
	return 0;
}

struct saved_queue {
	uint16_t size, vector, last_avail, used_idx, discarded, signalled_used;
	bool enabled, broken, signalled_valid;
	uint64_t desc, avail, used;
};

static int read_queue(struct virtio_device *vdev, struct virtq *vq, struct vmstate_section *in,
		      struct saved_queue *q)
{
	char f[32];
	unsigned i = vq->index;

	if (vmstate_get_u16(in, qfield(f, sizeof(f), i, "size"), vq->max_size, &q->size) < 0 ||
	    get_vector(vdev, in, qfield(f, sizeof(f), i, "vector"), &q->vector) < 0 ||
	    vmstate_get_bool(in, qfield(f, sizeof(f), i, "enabled"), &q->enabled) < 0 ||
	    vmstate_get_bool(in, qfield(f, sizeof(f), i, "broken"), &q->broken) < 0 ||
	    vmstate_get_u64(in, qfield(f, sizeof(f), i, "desc"), UINT64_MAX, &q->desc) < 0 ||
	    vmstate_get_u64(in, qfield(f, sizeof(f), i, "avail"), UINT64_MAX, &q->avail) < 0 ||
	    vmstate_get_u64(in, qfield(f, sizeof(f), i, "used"), UINT64_MAX, &q->used) < 0 ||
	    vmstate_get_u16(in, qfield(f, sizeof(f), i, "last_avail"), 0xffff, &q->last_avail) <
		0 ||
	    vmstate_get_u16(in, qfield(f, sizeof(f), i, "used_idx"), 0xffff, &q->used_idx) < 0 ||
	    vmstate_get_u16(in, qfield(f, sizeof(f), i, "discarded"), 0xffff, &q->discarded) < 0 ||
	    vmstate_get_u16(in, qfield(f, sizeof(f), i, "signalled_used"), 0xffff,
			    &q->signalled_used) < 0 ||
	    vmstate_get_bool(in, qfield(f, sizeof(f), i, "signalled_valid"), &q->signalled_valid) <
		0)
		return -EINVAL;
	/* A split ring's size is a power of two up to the maximum (the
	 * register refuses anything else). */
	if (!q->size || (q->size & (q->size - 1)))
		return vmstate_fail(in, "queue %u: size %u is not a power of two", i, q->size);
	uint16_t inflight = (uint16_t)(q->last_avail - q->used_idx);
	if (inflight > q->size || q->discarded > inflight)
		return vmstate_fail(in,
				    "queue %u: %u buffers in flight (available index %u, used %u, "
				    "%u dropped) in a ring of %u",
				    i, inflight, q->last_avail, q->used_idx, q->discarded, q->size);
	/* Only enabling a queue moves its indexes, only a reset disables it. */
	if (!q->enabled && (q->last_avail || q->used_idx || q->discarded || q->broken))
		return vmstate_fail(in, "queue %u: indexes moved on a queue that is not enabled",
				    i);
	return 0;
}

/* Puts a checked queue in place and maps its rings. */
static int load_queue(struct virtq *vq, const struct saved_queue *q, struct vmstate_section *in)
{
	pthread_mutex_lock(&vq->lock);
	vq->size = q->size;
	vq->vector = q->vector;
	vq->desc_gpa = q->desc;
	vq->avail_gpa = q->avail;
	vq->used_gpa = q->used;
	vq->broken = q->broken;
	vq->last_avail = q->last_avail;
	vq->used_idx = q->used_idx;
	vq->discarded = q->discarded;
	vq->signalled_used = q->signalled_used;
	vq->signalled_valid = q->signalled_valid;
	vq->popped = 0;
	vq->batched = false;
	vq->enabled = false;
	bool mapped = !q->enabled || virtq_map_rings(vq);
	/* Guest RAM is loaded before the devices: the used ring's index there
	 * is the one the device last wrote. */
	uint16_t in_ram =
	    q->enabled && mapped
		? __atomic_load_n((volatile uint16_t *)(vq->used + 2), __ATOMIC_ACQUIRE)
		: q->used_idx;
	pthread_mutex_unlock(&vq->lock);
	if (!mapped) {
		virtq_reset(vq);
		return vmstate_fail(in, "queue %u: rings misaligned or outside guest RAM",
				    vq->index);
	}
	if (in_ram != q->used_idx)
		return vmstate_fail(in,
				    "queue %u: the used ring in guest RAM is at %u, the device at "
				    "%u (the RAM and the device state were not saved together)",
				    vq->index, in_ram, q->used_idx);
	return 0;
}

struct saved_device {
	uint8_t status, config_gen, isr;
	uint32_t dfselect, gfselect;
	uint64_t features;
	bool features_set;
	uint16_t queue_sel, config_vector;
	uint8_t config[VIRTIO_CONFIG_MAX];
};

static int read_device(struct virtio_device *vdev, struct vmstate_section *in,
		       struct saved_device *d)
{
	uint64_t nq;

	if (vmstate_get_u64(in, "virtio.queues", UINT64_MAX, &nq) < 0)
		return -EINVAL;
	if (nq != vdev->info.num_queues)
		return vmstate_fail(in, "it was saved with %llu queues, it has %u now",
				    (unsigned long long)nq, vdev->info.num_queues);
	if (vmstate_get_u8(in, "virtio.status", 0xff, &d->status) < 0 ||
	    vmstate_get_u8(in, "virtio.config_gen", 0xff, &d->config_gen) < 0 ||
	    vmstate_get_u32(in, "virtio.dfselect", UINT32_MAX, &d->dfselect) < 0 ||
	    vmstate_get_u32(in, "virtio.gfselect", UINT32_MAX, &d->gfselect) < 0 ||
	    vmstate_get_u64(in, "virtio.guest_features", UINT64_MAX, &d->features) < 0 ||
	    vmstate_get_bool(in, "virtio.features_set", &d->features_set) < 0 ||
	    vmstate_get_u16(in, "virtio.queue_sel", 0xffff, &d->queue_sel) < 0 ||
	    get_vector(vdev, in, "virtio.config_vector", &d->config_vector) < 0 ||
	    vmstate_get_bytes(in, "virtio.config", d->config, vdev->info.config_size) < 0 ||
	    vmstate_get_u8(in, "virtio.isr", 3, &d->isr) < 0)
		return -EINVAL;
	if (d->status & ~STATUS_BITS)
		return vmstate_fail(in, "status %#x has bits no device status has", d->status);
	if (d->features & ~vdev->host_features)
		return vmstate_fail(in, "the driver's features %#llx are not all offered (%#llx)",
				    (unsigned long long)d->features,
				    (unsigned long long)vdev->host_features);
	bool modern = d->features >> VIRTIO_F_VERSION_1 & 1;
	/* DRIVER_OK follows accepted features (FEATURES_OK, or a legacy
	 * driver's DRIVER_OK), unless the device failed them. */
	if (((d->status & VIRTIO_STATUS_DRIVER_OK) && !(d->status & VIRTIO_STATUS_FAILED) &&
	     !d->features_set) ||
	    (modern && (d->status & VIRTIO_STATUS_FEATURES_OK) && !d->features_set))
		return vmstate_fail(in, "status %#x without accepted features", d->status);
	/* The model checks the features as it did when the driver set them. */
	if (d->features_set && vdev->ops->set_features &&
	    vdev->ops->set_features(vdev, d->features) < 0)
		return vmstate_fail(in, "%s refuses the driver's features %#llx", vdev->info.name,
				    (unsigned long long)d->features);
	return 0;
}

int virtio_load(struct virtio_device *vdev, struct vmstate_section *in)
{
	struct saved_device d;
	int r;

	if ((r = pci_load(&vdev->pci, in)) < 0)
		return r;
	if (vdev->nvec && (r = msix_load(&vdev->msix, in)) < 0)
		return r;
	if ((r = read_device(vdev, in, &d)) < 0)
		return r;
	struct saved_queue *q = calloc(vdev->info.num_queues, sizeof(*q));
	if (!q)
		return -ENOMEM;
	for (unsigned i = 0; i < vdev->info.num_queues; i++)
		if ((r = read_queue(vdev, &vdev->vqs[i], in, &q[i])) < 0)
			goto out;
	pthread_mutex_lock(&vdev->lock);
	vdev->status = d.status;
	vdev->config_gen = d.config_gen;
	vdev->dfselect = d.dfselect;
	vdev->gfselect = d.gfselect;
	atomic_store(&vdev->guest_features, d.features);
	vdev->features_set = d.features_set;
	vdev->queue_sel = d.queue_sel;
	vdev->config_vector = d.config_vector;
	memcpy(vdev->config, d.config, vdev->info.config_size);
	pthread_mutex_unlock(&vdev->lock);
	pthread_mutex_lock(&vdev->intr_lock);
	vdev->isr = d.isr;
	pthread_mutex_unlock(&vdev->intr_lock);
	for (unsigned i = 0; i < vdev->info.num_queues; i++)
		if ((r = load_queue(&vdev->vqs[i], &q[i], in)) < 0)
			goto out;
out:
	free(q);
	return r;
}

int virtio_load_done(struct virtio_device *vdev, struct vmstate_section *in)
{
	for (unsigned i = 0; i < vdev->info.num_queues; i++) {
		struct virtq *vq = &vdev->vqs[i];
		pthread_mutex_lock(&vq->lock);
		unsigned inflight = (uint16_t)(vq->last_avail - vq->used_idx);
		unsigned held = vq->popped + vq->discarded;
		pthread_mutex_unlock(&vq->lock);
		if (held != inflight)
			return vmstate_fail(
			    in,
			    "queue %u: %u buffers were in flight, the device's state "
			    "holds %u",
			    i, inflight, held);
	}
	/* Buffers the driver published (and perhaps kicked) before the save
	 * are served once the machine runs. */
	for (unsigned i = 0; i < vdev->info.num_queues; i++)
		virtio_kick(vdev, i);
	return 0;
}

void virtio_pause(struct virtio_device *vdev, bool paused)
{
	atomic_store(&vdev->paused, paused);
	if (paused)
		return;
	for (unsigned i = 0; i < vdev->info.num_queues; i++)
		virtio_kick(vdev, i);
}

bool virtio_paused(const struct virtio_device *vdev)
{
	return atomic_load(&((struct virtio_device *)vdev)->paused);
}
