/* The virtio device-facing API (VIRTIO 1.2): a device model (blk, rng,
 * console) describes itself and gets a PCI function with the modern and the
 * legacy (transitional) interface, feature negotiation, status, MSI-X or INTx,
 * and split virtqueues whose descriptor chains arrive as checked host iovecs. */
#ifndef OSIO_VIRTIO_H
#define OSIO_VIRTIO_H

#include "devices/device.h"
#include "hypervisor/machine.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/uio.h>

/* Device status bits (2.1). */
#define VIRTIO_STATUS_ACKNOWLEDGE	 0x01
#define VIRTIO_STATUS_DRIVER		 0x02
#define VIRTIO_STATUS_DRIVER_OK		 0x04
#define VIRTIO_STATUS_FEATURES_OK	 0x08
#define VIRTIO_STATUS_DEVICE_NEEDS_RESET 0x40
#define VIRTIO_STATUS_FAILED		 0x80

/* Transport feature bits (6). The transport always offers INDIRECT_DESC,
 * EVENT_IDX and VERSION_1; a device model adds its own bits (0-23). */
#define VIRTIO_F_NOTIFY_ON_EMPTY 24
#define VIRTIO_F_ANY_LAYOUT	 27
#define VIRTIO_F_INDIRECT_DESC	 28
#define VIRTIO_F_EVENT_IDX	 29
#define VIRTIO_F_VERSION_1	 32
#define VIRTIO_F_ACCESS_PLATFORM 33

/* Device ids (5). The PCI device id is 0x1040 + id (modern) or, for a
 * transitional device, the legacy id (blk 0x1001, console 0x1003, rng
 * 0x1005) with the virtio id as the subsystem id. */
#define VIRTIO_ID_NET	  1
#define VIRTIO_ID_BLOCK	  2
#define VIRTIO_ID_CONSOLE 3
#define VIRTIO_ID_RNG	  4

#define VIRTIO_QUEUES_MAX     64   /* queues one device may have */
#define VIRTIO_QUEUE_SIZE_MAX 1024 /* largest split ring the transport accepts */
#define VIRTIO_CONFIG_MAX     256  /* bytes of device-specific configuration */

/* devargs keys the transport understands; a model puts them in the list it
 * gives devargs_check_keys, e.g. { "drive", VIRTIO_PCI_KEYS, NULL }.
 *   slot=N       PCI slot (default: the first free one)
 *   legacy=on|off transitional device with the legacy I/O BAR (default on,
 *                like QEMU's pc machine), or modern only
 *   vectors=N    MSI-X vectors (default queues + 1; 0: no MSI-X, INTx only) */
#define VIRTIO_PCI_KEYS "slot", "legacy", "vectors"

struct virtio_device;
struct virtq;

/* One descriptor chain taken from the available ring. The iovecs are host
 * pointers into guest RAM, already checked (every byte is guest RAM;
 * device-readable buffers first, then device-writable ones, as the spec
 * requires). A buffer that crosses from one RAM region into another takes
 * more than one iovec. The element belongs to the device model until it
 * gives it back with virtq_push or virtq_discard, from any thread. */
struct virtq_elem {
	uint16_t head;	   /* index of the chain's first descriptor */
	unsigned out_num;  /* device-readable iovecs: iov[0 .. out_num) */
	unsigned in_num;   /* device-writable: iov[out_num .. out_num + in_num) */
	uint64_t out_len;  /* bytes in the readable part */
	uint64_t in_len;   /* bytes in the writable part */
	struct iovec *out; /* == iov */
	struct iovec *in;  /* == iov + out_num */
	uint32_t gen;	   /* the transport's: reset generation */
	struct iovec iov[];
};

/* What a device model provides. All callbacks run on the machine's event
 * loop thread unless said otherwise, with no transport lock held. */
struct virtio_device_ops {
	/* The driver notified queue `qi` (or a notification is owed after
	 * DRIVER_OK). The model pops chains with virtq_pop until it returns 0
	 * or it has no room for more. */
	void (*queue_notify)(struct virtio_device *vdev, unsigned qi);
	/* The driver set FEATURES_OK with `features` (already a subset of the
	 * offer and with VERSION_1 for the modern interface). Return 0 to
	 * accept, or -EINVAL to refuse (FEATURES_OK then reads back clear). May
	 * be NULL. Called on the vCPU thread that wrote the status. */
	int (*set_features)(struct virtio_device *vdev, uint64_t features);
	/* DRIVER_OK was set: queues are live. May be NULL. vCPU thread. */
	void (*driver_ok)(struct virtio_device *vdev);
	/* The device is being reset (the driver wrote status 0, or a platform
	 * reset). The model must drop its request state and not use elements
	 * it still holds: virtq_push/virtq_discard of an element popped before
	 * the reset is accepted and ignored, so a completion arriving later
	 * from another thread is harmless; but a request still in flight may
	 * still write guest RAM, so a model with such requests waits for them
	 * here (block_drain). The status reads 0 only after this returns.
	 * May be NULL. Called on the thread that wrote the status (a vCPU
	 * thread; through the PCI configuration window with the PCI bus lock
	 * held, so no pci_* calls from it) or the platform reset path. */
	void (*reset)(struct virtio_device *vdev);
	/* The driver wrote `size` bytes (1, 2 or 4) of device configuration
	 * at `off` (< config_size; the bytes are already in the config
	 * buffer). May be NULL (configuration is read-only). vCPU thread. */
	void (*config_write)(struct virtio_device *vdev, unsigned off, unsigned size);
};

struct virtio_device_info {
	const char *name;     /* "virtio-rng": for messages and the PCI device's name */
	uint16_t device_id;   /* VIRTIO_ID_* */
	uint32_t class_code;  /* PCI class (e.g. 0x00ff00 for rng, 0x010000 for blk) */
	uint64_t features;    /* the device's own feature bits (transport bits are added) */
	unsigned num_queues;  /* 1 .. VIRTIO_QUEUES_MAX */
	uint16_t queue_size;  /* largest queue, a power of two <= VIRTIO_QUEUE_SIZE_MAX */
	unsigned config_size; /* bytes of device configuration, <= VIRTIO_CONFIG_MAX */
	const void *config;   /* its initial content (config_size bytes), or NULL for zeroes */
};

/* Creates the PCI function on m->pci (the machine must have a PCI bus),
 * reading the transport's devargs (VIRTIO_PCI_KEYS) from args; the model
 * checks the keys itself with devargs_check_keys. opaque is the model's,
 * returned by virtio_opaque. Logs one line naming `id` and returns -errno
 * on failure. */
int virtio_pci_create(struct machine *m, const char *id, const struct devargs *args,
		      const struct virtio_device_info *info, const struct virtio_device_ops *ops,
		      void *opaque, struct virtio_device **out);
/* Platform reset: the device and its PCI function back to power-on state
 * (calls ops->reset). For the model's device_model.reset. */
void virtio_pci_reset(struct virtio_device *vdev);
/* Unregisters and frees (after the model has stopped producing
 * completions). NULL is ignored. From the event loop's thread or while the
 * loop is not running. */
void virtio_pci_destroy(struct virtio_device *vdev);

void *virtio_opaque(const struct virtio_device *vdev);
struct machine *virtio_machine(const struct virtio_device *vdev);
/* The features the driver accepted (valid once FEATURES_OK is set). */
uint64_t virtio_features(const struct virtio_device *vdev);
static inline bool virtio_has_feature(const struct virtio_device *vdev, unsigned bit)
{
	return (virtio_features(vdev) >> bit) & 1;
}
/* Current status register; whether DRIVER_OK is set and the device is not
 * marked DEVICE_NEEDS_RESET. */
uint8_t virtio_status(const struct virtio_device *vdev);
bool virtio_running(const struct virtio_device *vdev);

/* Device configuration: reads `len` bytes at `off` from the config buffer,
 * or replaces them and bumps config_generation. With `notify`, a
 * configuration-change interrupt follows (e.g. a disk was resized, the
 * console size changed). Any thread. Out-of-range calls are ignored. */
void virtio_config_read(struct virtio_device *vdev, unsigned off, void *buf, unsigned len);
void virtio_config_update(struct virtio_device *vdev, unsigned off, const void *buf, unsigned len,
			  bool notify);

/* The device hit an error it cannot recover from without a reset (a
 * malformed ring): sets DEVICE_NEEDS_RESET and sends a configuration
 * interrupt (2.1.1). `why` is traced. Any thread. */
void virtio_set_needs_reset(struct virtio_device *vdev, const char *why);

/* Queue `qi` (NULL if qi >= num_queues). */
struct virtq *virtio_queue(struct virtio_device *vdev, unsigned qi);
unsigned virtq_index(const struct virtq *vq);
struct virtio_device *virtq_device(const struct virtq *vq);
/* Whether the driver enabled the queue (and the device is running). */
bool virtq_ready(const struct virtq *vq);
/* The size the driver chose. */
unsigned virtq_size(const struct virtq *vq);

/* Takes the next available chain: 1 with *out set (free it with virtq_push
 * or virtq_discard), 0 if the ring is empty or the queue not ready, or
 * -EIO when the ring is malformed (the device is then marked
 * DEVICE_NEEDS_RESET and stops processing the queue). Checks every index,
 * address and length; a chain longer than the queue size, a loop, an
 * indirect table without INDIRECT_DESC or nested, a write-only buffer
 * before a read-only one, or a buffer outside RAM is malformed. Any thread
 * (serialized per queue). */
int virtq_pop(struct virtq *vq, struct virtq_elem **out);
/* Returns a chain to the driver with `written` bytes written into its
 * writable part, frees the element and, unless the driver suppressed it
 * (NO_INTERRUPT, or EVENT_IDX's used_event), sends the queue's interrupt.
 * Any thread (a block pool thread). An element popped before a reset is
 * freed without touching the ring. */
void virtq_push(struct virtq *vq, struct virtq_elem *elem, uint32_t written);
/* Several completions, one interrupt: virtq_push_batch(..., false) for
 * each, then virtq_flush. */
void virtq_push_batch(struct virtq *vq, struct virtq_elem *elem, uint32_t written);
void virtq_flush(struct virtq *vq);
/* Puts a popped chain back unused (it is offered again by the next pop),
 * e.g. when the backend has no room now. Only the most recently popped
 * elements can go back, in reverse order of popping. */
void virtq_unpop(struct virtq *vq, struct virtq_elem *elem);
/* Frees an element without returning it (the device is being reset). */
void virtq_discard(struct virtq *vq, struct virtq_elem *elem);
/* Whether chains are waiting (any thread). */
bool virtq_has_avail(struct virtq *vq);

/* --- saved state (hypervisor/vmstate.h; devices/device.h's hooks) ----------
 * A model's save writes virtio_save's fields, then its own; its load calls
 * virtio_load first, takes back the chains it held at the save with
 * virtq_restore, reads its own fields, and ends with virtio_load_done. */

struct vmstate_out;
struct vmstate_section;

/* The transport's fields: "pci.*" and "msix.*" (the PCI function), then
 * "virtio.*" (status, features, selectors, configuration and its
 * generation, ISR) and "vq.N.*" per queue (size, vector, enable, ring
 * addresses, the available and used indexes, the EVENT_IDX shadow). The
 * device is paused. */
void virtio_save(struct virtio_device *vdev, struct vmstate_out *out);
/* Reads them into a device just created from the same settings, checking
 * each value as the driver's register write would be checked (queue sizes,
 * vectors, feature bits within the offer and accepted by the model's
 * set_features, ring addresses in RAM for an enabled queue, indexes that
 * agree with the used ring in RAM, which is loaded before the devices);
 * the PCI function's BARs, ioeventfds and MSI routes are set up again and
 * the rings of enabled queues mapped. -EINVAL after vmstate_fail. */
int virtio_load(struct virtio_device *vdev, struct vmstate_section *in);
/* The chain at `head`, which the device had taken from queue vq (and not
 * given back) when the state was saved, as an element again: checked as
 * virtq_pop checks a chain, nothing in the rings changes. 0, or -EINVAL
 * after vmstate_fail(in, ...) for a head or chain that is not valid. */
int virtq_restore(struct virtq *vq, uint16_t head, struct vmstate_section *in,
		  struct virtq_elem **out);
/* The end of a model's load: every chain in flight on every queue (taken
 * and not given back at the save) must have been restored, or the driver
 * would wait for it forever (-EINVAL after vmstate_fail); then each queue
 * is kicked, so that buffers the driver published before the save are
 * served once the machine runs. */
int virtio_load_done(struct virtio_device *vdev, struct vmstate_section *in);
/* Chains taken from the queue and not given back. */
unsigned virtq_inflight(struct virtq *vq);

/* Paused: the driver's kicks are not passed to the model (queue_notify);
 * the model stops its own work. Going on kicks every queue, so that a
 * notification that arrived meanwhile is served. Event loop thread. */
void virtio_pause(struct virtio_device *vdev, bool paused);
bool virtio_paused(const struct virtio_device *vdev);

/* Copies between an iovec array and a flat buffer, starting `off` bytes
 * into the iovecs; return the bytes copied (short at the iovecs' end). */
size_t iov_to_buf(const struct iovec *iov, unsigned n, size_t off, void *buf, size_t len);
size_t iov_from_buf(const struct iovec *iov, unsigned n, size_t off, const void *buf, size_t len);

#endif
