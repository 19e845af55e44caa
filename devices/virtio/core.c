/* The virtio device core behind both PCI interfaces: device status and
 * feature negotiation (2.1, 2.2, 3.1), reset, DEVICE_NEEDS_RESET, the
 * device configuration space and its generation, and interrupts (MSI-X
 * vectors, or the ISR with INTx). */
#include "devices/virtio/virtio_int.h"

#include "hypervisor/bytes.h"
#include "hypervisor/log.h"

#include <errno.h>
#include <string.h>
#include <unistd.h>

void *virtio_opaque(const struct virtio_device *vdev)
{
	return vdev->opaque;
}

struct machine *virtio_machine(const struct virtio_device *vdev)
{
	return vdev->m;
}

uint64_t virtio_features(const struct virtio_device *vdev)
{
	return atomic_load(&((struct virtio_device *)vdev)->guest_features);
}

uint8_t virtio_status(const struct virtio_device *vdev)
{
	struct virtio_device *v = (struct virtio_device *)vdev;
	pthread_mutex_lock(&v->lock);
	uint8_t s = v->status;
	pthread_mutex_unlock(&v->lock);
	return s;
}

bool virtio_running(const struct virtio_device *vdev)
{
	uint8_t s = virtio_status(vdev);
	return (s & VIRTIO_STATUS_DRIVER_OK) &&
	       !(s & (VIRTIO_STATUS_DEVICE_NEEDS_RESET | VIRTIO_STATUS_FAILED));
}

struct virtq *virtio_queue(struct virtio_device *vdev, unsigned qi)
{
	return qi < vdev->info.num_queues ? &vdev->vqs[qi] : NULL;
}

uint16_t virtio_check_vector(struct virtio_device *vdev, uint16_t v)
{
	return v < vdev->nvec ? v : VIRTIO_NO_VECTOR;
}

/* Raises `bits` in the ISR and, without MSI-X, the INTx line. */
static void raise_intx(struct virtio_device *vdev, uint8_t bits)
{
	pthread_mutex_lock(&vdev->intr_lock);
	vdev->isr |= bits;
	pci_set_irq(&vdev->pci, true);
	pthread_mutex_unlock(&vdev->intr_lock);
}

uint8_t virtio_read_isr(struct virtio_device *vdev)
{
	pthread_mutex_lock(&vdev->intr_lock);
	uint8_t v = vdev->isr;
	vdev->isr = 0;
	pci_set_irq(&vdev->pci, false);
	pthread_mutex_unlock(&vdev->intr_lock);
	return v;
}

void virtio_queue_irq(struct virtq *vq)
{
	struct virtio_device *vdev = vq->vdev;
	if (vdev->nvec && msix_enabled(&vdev->msix)) {
		pthread_mutex_lock(&vq->lock);
		uint16_t v = vq->vector;
		pthread_mutex_unlock(&vq->lock);
		if (v != VIRTIO_NO_VECTOR)
			msix_notify(&vdev->msix, v);
		return;
	}
	raise_intx(vdev, 1);
}

void virtio_config_irq(struct virtio_device *vdev)
{
	if (vdev->nvec && msix_enabled(&vdev->msix)) {
		pthread_mutex_lock(&vdev->lock);
		uint16_t v = vdev->config_vector;
		pthread_mutex_unlock(&vdev->lock);
		/* The ISR's config bit is set with MSI-X too (4.1.4.5). */
		pthread_mutex_lock(&vdev->intr_lock);
		vdev->isr |= 2;
		pthread_mutex_unlock(&vdev->intr_lock);
		if (v != VIRTIO_NO_VECTOR)
			msix_notify(&vdev->msix, v);
		return;
	}
	raise_intx(vdev, 2);
}

void virtio_set_needs_reset(struct virtio_device *vdev, const char *why)
{
	pthread_mutex_lock(&vdev->lock);
	bool was = vdev->status & VIRTIO_STATUS_DEVICE_NEEDS_RESET;
	bool modern = virtio_features(vdev) >> VIRTIO_F_VERSION_1 & 1;
	/* A legacy driver has no such bit: the device just stops. */
	if (modern)
		vdev->status |= VIRTIO_STATUS_DEVICE_NEEDS_RESET;
	bool ok = vdev->status & VIRTIO_STATUS_DRIVER_OK;
	pthread_mutex_unlock(&vdev->lock);
	if (!was)
		log_warn("%s (%s): the driver broke the device (%s); it needs a reset", vdev->id,
			 vdev->info.name, why);
	if (!was && modern && ok)
		virtio_config_irq(vdev);
}

void virtio_device_reset(struct virtio_device *vdev)
{
	pthread_mutex_lock(&vdev->lock);
	vdev->status = 0;
	vdev->dfselect = vdev->gfselect = 0;
	atomic_store(&vdev->guest_features, 0);
	vdev->features_set = false;
	vdev->queue_sel = 0;
	vdev->config_vector = VIRTIO_NO_VECTOR;
	pthread_mutex_unlock(&vdev->lock);
	for (unsigned i = 0; i < vdev->info.num_queues; i++)
		virtq_reset(&vdev->vqs[i]);
	if (vdev->ops->reset)
		vdev->ops->reset(vdev);
	pthread_mutex_lock(&vdev->intr_lock);
	vdev->isr = 0;
	pci_set_irq(&vdev->pci, false);
	pthread_mutex_unlock(&vdev->intr_lock);
}

/* FEATURES_OK (3.1.1): the driver's features must be a subset of the
 * offer, and the modern interface needs VERSION_1. Lock not held (the
 * model's callback runs). */
static bool accept_features(struct virtio_device *vdev, bool modern)
{
	uint64_t f = atomic_load(&vdev->guest_features);
	if (f & ~vdev->host_features)
		return false;
	if (modern && !(f >> VIRTIO_F_VERSION_1 & 1))
		return false;
	if (vdev->ops->set_features && vdev->ops->set_features(vdev, f) < 0)
		return false;
	return true;
}

void virtio_write_status(struct virtio_device *vdev, uint8_t val, bool modern)
{
	if (val == 0) {
		virtio_device_reset(vdev);
		return;
	}
	pthread_mutex_lock(&vdev->lock);
	uint8_t old = vdev->status;
	bool features_set = vdev->features_set;
	pthread_mutex_unlock(&vdev->lock);
	uint8_t s = (uint8_t)(val & ~VIRTIO_STATUS_DEVICE_NEEDS_RESET);
	s |= old & VIRTIO_STATUS_DEVICE_NEEDS_RESET;
	bool accept = false;
	if (modern && (s & VIRTIO_STATUS_FEATURES_OK) && !(old & VIRTIO_STATUS_FEATURES_OK)) {
		accept = accept_features(vdev, true);
		if (!accept)
			s &= (uint8_t)~VIRTIO_STATUS_FEATURES_OK;
	}
	/* A legacy driver has no FEATURES_OK: the features it wrote count
	 * from DRIVER_OK (QEMU does the same). */
	if (!modern && (s & VIRTIO_STATUS_DRIVER_OK) && !features_set) {
		accept = accept_features(vdev, false);
		if (!accept)
			s |= VIRTIO_STATUS_FAILED;
	}
	pthread_mutex_lock(&vdev->lock);
	if (accept)
		vdev->features_set = true;
	/* DRIVER_OK without FEATURES_OK on the modern interface is a driver
	 * bug; the device then refuses to run. */
	if (modern && (s & VIRTIO_STATUS_DRIVER_OK) && !(s & VIRTIO_STATUS_FEATURES_OK))
		s &= (uint8_t)~VIRTIO_STATUS_DRIVER_OK;
	vdev->status = s;
	bool now_ok = (s & VIRTIO_STATUS_DRIVER_OK) && !(old & VIRTIO_STATUS_DRIVER_OK);
	pthread_mutex_unlock(&vdev->lock);
	if (now_ok) {
		if (vdev->ops->driver_ok)
			vdev->ops->driver_ok(vdev);
		/* Buffers queued before DRIVER_OK are served now. */
		for (unsigned i = 0; i < vdev->info.num_queues; i++)
			if (virtq_has_avail(&vdev->vqs[i]))
				virtio_kick(vdev, i);
	}
}

void virtio_kick(struct virtio_device *vdev, uint64_t qi)
{
	if (qi >= vdev->info.num_queues)
		return;
	uint64_t one = 1;
	/* Served on the event loop, as a kick through the ioeventfd is. */
	if (write(vdev->vqs[qi].notify_fd, &one, sizeof(one)) < 0 && tracing(TRACE_DEV))
		log_trace("%s: queue %u kick lost", vdev->id, (unsigned)qi);
}

void virtio_config_read(struct virtio_device *vdev, unsigned off, void *buf, unsigned len)
{
	if (off > vdev->info.config_size || len > vdev->info.config_size - off)
		return;
	pthread_mutex_lock(&vdev->lock);
	memcpy(buf, vdev->config + off, len);
	pthread_mutex_unlock(&vdev->lock);
}

void virtio_config_update(struct virtio_device *vdev, unsigned off, const void *buf, unsigned len,
			  bool notify)
{
	if (off > vdev->info.config_size || len > vdev->info.config_size - off)
		return;
	pthread_mutex_lock(&vdev->lock);
	memcpy(vdev->config + off, buf, len);
	vdev->config_gen++;
	bool ok = vdev->status & VIRTIO_STATUS_DRIVER_OK;
	pthread_mutex_unlock(&vdev->lock);
	if (notify && ok)
		virtio_config_irq(vdev);
}

uint64_t virtio_config_guest_read(struct virtio_device *vdev, uint64_t off, unsigned size)
{
	uint8_t buf[8] = {0};
	if (size > 8 || off >= vdev->info.config_size || size > vdev->info.config_size - off)
		return 0;
	pthread_mutex_lock(&vdev->lock);
	memcpy(buf, vdev->config + off, size);
	pthread_mutex_unlock(&vdev->lock);
	return get_le64(buf);
}

void virtio_config_guest_write(struct virtio_device *vdev, uint64_t off, uint64_t val,
			       unsigned size)
{
	if (!vdev->ops->config_write || size > 4 || off >= vdev->info.config_size ||
	    size > vdev->info.config_size - off)
		return;
	uint8_t buf[8];
	put_le(buf, val, 8);
	pthread_mutex_lock(&vdev->lock);
	memcpy(vdev->config + off, buf, size);
	pthread_mutex_unlock(&vdev->lock);
	vdev->ops->config_write(vdev, (unsigned)off, size);
}
