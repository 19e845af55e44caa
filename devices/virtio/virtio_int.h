/* Between the virtio transport's files (pci.c: the PCI function and its
 * registers; core.c: status, features, reset, interrupts; virtqueue.c: split
 * rings); not for device models, which use virtio.h. */
#ifndef OSIO_VIRTIO_INT_H
#define OSIO_VIRTIO_INT_H

#include "devices/msix.h"
#include "devices/pci.h"
#include "devices/virtio/virtio.h"

#include <pthread.h>
#include <stdatomic.h>

#define VIRTIO_NO_VECTOR 0xffff

/* Split ring layout (2.7). */
#define VIRTQ_DESC_F_NEXT	   1
#define VIRTQ_DESC_F_WRITE	   2
#define VIRTQ_DESC_F_INDIRECT	   4
#define VIRTQ_AVAIL_F_NO_INTERRUPT 1
#define VIRTQ_USED_F_NO_NOTIFY	   1

struct virtq_desc {
	uint64_t addr;
	uint32_t len;
	uint16_t flags;
	uint16_t next;
};

/* The largest indirect table and the most iovecs one chain may take. */
#define VIRTQ_INDIRECT_MAX VIRTIO_QUEUE_SIZE_MAX
#define VIRTQ_IOV_MAX	   (4 * VIRTIO_QUEUE_SIZE_MAX)

struct virtq {
	struct virtio_device *vdev;
	unsigned index;
	pthread_mutex_t lock; /* everything below */
	uint16_t max_size;
	uint16_t size;	 /* the driver's choice */
	uint16_t vector; /* MSI-X vector or VIRTIO_NO_VECTOR */
	bool enabled;
	bool broken; /* malformed ring seen: no more processing until reset */
	uint64_t desc_gpa, avail_gpa, used_gpa;
	/* Host views of the rings, checked and mapped when enabled. */
	const volatile struct virtq_desc *desc;
	volatile uint16_t *avail; /* flags, idx, ring[size], used_event */
	volatile uint8_t *used;	  /* flags, idx, ring[size] {id, len}, avail_event */
	uint16_t last_avail;	  /* next available entry to take */
	uint16_t used_idx;	  /* our copy of used->idx */
	uint16_t signalled_used;  /* used_idx at the last interrupt (EVENT_IDX) */
	bool signalled_valid;
	bool batched;	       /* virtq_push_batch added elements: virtq_flush interrupts */
	uint32_t gen;	       /* bumped by every reset: stale elements are dropped */
	unsigned popped;       /* elements out (taken, not yet given back) */
	uint16_t discarded;    /* taken and freed unused (virtq_discard): never given back */
	struct iovec *scratch; /* VIRTQ_IOV_MAX, for building a chain */
	int notify_fd;	       /* eventfd: guest kicks (ioeventfd or the handler) */
};

struct virtio_device {
	struct machine *m;
	char id[32];
	struct virtio_device_info info;
	const struct virtio_device_ops *ops;
	void *opaque;
	bool legacy;   /* transitional: legacy I/O BAR 0 */
	unsigned nvec; /* MSI-X vectors, 0 for none */
	struct pci_device pci;
	struct msix msix;

	pthread_mutex_t lock; /* registers below */
	uint8_t status;
	uint8_t config_gen;
	uint32_t dfselect, gfselect;
	uint64_t host_features;
	_Atomic uint64_t guest_features;
	bool features_set; /* set_features accepted them */
	uint16_t queue_sel;
	uint16_t config_vector;
	uint8_t config[VIRTIO_CONFIG_MAX];

	pthread_mutex_t intr_lock; /* isr and the INTx level together */
	uint8_t isr;

	struct virtq *vqs;
	atomic_bool paused;	      /* kicks are not passed to the model (virtio_pause) */
	uint64_t notify_at[PCI_BARS]; /* where ioeventfds are registered, per BAR */
	bool notify_reg[PCI_BARS];
};

/* BAR layout (as QEMU's virtio-pci lays it out). */
#define VIRTIO_BAR_LEGACY  0
#define VIRTIO_BAR_MSIX	   1
#define VIRTIO_BAR_MODERN  4
#define VIRTIO_MODERN_SIZE 0x4000
#define VIRTIO_COMMON_OFF  0x0000
#define VIRTIO_ISR_OFF	   0x1000
#define VIRTIO_DEVICE_OFF  0x2000
#define VIRTIO_NOTIFY_OFF  0x3000
#define VIRTIO_NOTIFY_MULT 4
#define VIRTIO_REGION_SIZE 0x1000
#define VIRTIO_COMMON_SIZE 0x3c /* with the 1.2 queue_notify_data/queue_reset */

/* Legacy I/O BAR registers (4.1.4.8). */
#define VIRTIO_LEG_HOST_FEATURES  0x00
#define VIRTIO_LEG_GUEST_FEATURES 0x04
#define VIRTIO_LEG_QUEUE_PFN	  0x08
#define VIRTIO_LEG_QUEUE_SIZE	  0x0c
#define VIRTIO_LEG_QUEUE_SEL	  0x0e
#define VIRTIO_LEG_QUEUE_NOTIFY	  0x10
#define VIRTIO_LEG_STATUS	  0x12
#define VIRTIO_LEG_ISR		  0x13
#define VIRTIO_LEG_CONFIG_VECTOR  0x14
#define VIRTIO_LEG_QUEUE_VECTOR	  0x16
#define VIRTIO_LEG_HEADER	  0x14 /* device config follows; 0x18 with MSI-X on */

/* core.c */
/* A status register write by the driver (either interface). */
void virtio_write_status(struct virtio_device *vdev, uint8_t val, bool modern);
/* The device back to its reset state (lock not held). */
void virtio_device_reset(struct virtio_device *vdev);
/* Interrupts: a used buffer on queue vq, or a configuration change. */
void virtio_queue_irq(struct virtq *vq);
void virtio_config_irq(struct virtio_device *vdev);
/* Reads and clears the ISR (and lowers INTx). */
uint8_t virtio_read_isr(struct virtio_device *vdev);
/* A vector number the driver wrote: itself if the table has it. */
uint16_t virtio_check_vector(struct virtio_device *vdev, uint16_t v);
/* Device config bytes for the guest: off/size checked. */
uint64_t virtio_config_guest_read(struct virtio_device *vdev, uint64_t off, unsigned size);
void virtio_config_guest_write(struct virtio_device *vdev, uint64_t off, uint64_t val,
			       unsigned size);
/* The guest kicked queue qi (a write that reached the device). */
void virtio_kick(struct virtio_device *vdev, uint64_t qi);

/* virtqueue.c */
int virtq_init(struct virtq *vq, struct virtio_device *vdev, unsigned index, uint16_t max_size);
void virtq_fini(struct virtq *vq);
/* Back to the reset state (size = max, disabled, no vector). */
void virtq_reset(struct virtq *vq);
/* Checks and maps the rings at the addresses set, and enables the queue:
 * false (queue left disabled) when they are misaligned or not in RAM. */
bool virtq_enable(struct virtq *vq);
/* The same with the indexes kept (a saved state's queue). Lock held. */
bool virtq_map_rings(struct virtq *vq);

/* state.c: the saved-state functions of virtio.h. */

#endif
