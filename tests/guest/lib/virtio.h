/* A small virtio-pci driver core for the guest programs (VIRTIO 1.2, 4.1:
 * the modern interface through the vendor capabilities; split virtqueues,
 * 2.7): find a device, negotiate features, set up queues and MSI-X, add
 * buffers (direct or through an indirect table), kick, collect used ones.
 * Paging is off: guest physical addresses are pointers. */
#ifndef GUEST_VIRTIO_H
#define GUEST_VIRTIO_H

#include "pci.h"
#include "types.h"

#define VIRTIO_PCI_VENDOR 0x1af4

#define VIRTIO_STATUS_ACKNOWLEDGE	 0x01
#define VIRTIO_STATUS_DRIVER		 0x02
#define VIRTIO_STATUS_DRIVER_OK		 0x04
#define VIRTIO_STATUS_FEATURES_OK	 0x08
#define VIRTIO_STATUS_DEVICE_NEEDS_RESET 0x40
#define VIRTIO_STATUS_FAILED		 0x80

#define VIRTIO_F_INDIRECT_DESC 28
#define VIRTIO_F_EVENT_IDX     29
#define VIRTIO_F_VERSION_1     32

#define VIRTIO_NO_VECTOR 0xffff

#define VIRTQ_DESC_F_NEXT     1
#define VIRTQ_DESC_F_WRITE    2
#define VIRTQ_DESC_F_INDIRECT 4

struct virtq_desc {
	u64 addr;
	u32 len;
	u16 flags;
	u16 next;
};

/* The memory one queue of `size` entries needs (desc table, avail ring,
 * used ring at a 4 KiB boundary), and the alignment it must have. */
#define VIRTQ_ALIGN 4096u
#define VIRTQ_MEM_SIZE(size)                                                                       \
	((((size)*16u + 6u + 2u * (size)) + VIRTQ_ALIGN - 1) / VIRTQ_ALIGN * VIRTQ_ALIGN +         \
	 (6u + 8u * (size) + VIRTQ_ALIGN - 1) / VIRTQ_ALIGN * VIRTQ_ALIGN)

#define VIRTQ_MAX 1024 /* largest queue this driver sets up */

struct virtq {
	u16 index; /* queue number */
	u16 size;
	u16 vector; /* MSI-X vector or VIRTIO_NO_VECTOR */
	volatile struct virtq_desc *desc;
	volatile u16 *avail; /* flags, idx, ring[size], used_event */
	volatile u8 *used;   /* flags, idx, ring[size] of {id, len}, avail_event */
	volatile u16 *notify;
	u16 free_head, num_free;
	u16 avail_idx, last_used;
	u16 chain_len[VIRTQ_MAX]; /* descriptors a head's chain took */
};

struct virtio_dev {
	struct pci_addr pci;
	u16 pci_device;	     /* 0x1040 + id (modern) or 0x1000-0x103f (transitional) */
	volatile u8 *common; /* common configuration (4.1.4.3) */
	volatile u8 *isr;
	volatile u8 *device; /* device-specific configuration */
	uintptr_t notify_base;
	u32 notify_mult;
	u64 features;		  /* offered by the device */
	u64 accepted;		  /* negotiated */
	u16 msix_size;		  /* table entries, 0 without MSI-X */
	u8 msix_cap;		  /* its capability's offset */
	volatile u32 *msix_table; /* mapped table, or NULL */
};

/* Scans bus 0 for the nth (from 0) virtio device with virtio id `id`
 * (1 net, 2 blk, 3 console, 4 rng), modern or transitional. Assigns BARs
 * the firmware left unassigned (a program booted without firmware), turns
 * on memory decoding and bus mastering, and finds the modern capabilities.
 * false if there is none or it has no modern interface. */
bool virtio_find(u16 id, unsigned nth, struct virtio_dev *d);
/* Reset, ACKNOWLEDGE, DRIVER, features (offer & wanted, plus VERSION_1),
 * FEATURES_OK and its re-read (4.1 / 3.1.1). false (with the status set to
 * FAILED) when the device refuses. */
bool virtio_negotiate(struct virtio_dev *d, u64 wanted);
static inline bool virtio_accepted(const struct virtio_dev *d, unsigned bit)
{
	return (d->accepted >> bit) & 1;
}
/* Enables MSI-X (function unmasked) after programming entry i of the table
 * with vector vectors[i] aimed at the local APIC with id apic_id; n <= the
 * table size. false without MSI-X. */
bool virtio_msix_enable(struct virtio_dev *d, const u8 *vectors, unsigned n, u32 apic_id);
/* The config-change MSI-X vector index (VIRTIO_NO_VECTOR: none); returns
 * what the device read back. */
u16 virtio_config_vector(struct virtio_dev *d, u16 vector);
/* Sets up queue `index` with at most max_size entries in `mem`
 * (VIRTQ_ALIGN-aligned, VIRTQ_MEM_SIZE(size) bytes, zeroed here) using
 * MSI-X table entry `vector` (VIRTIO_NO_VECTOR: none), and enables it.
 * false if the queue does not exist or the device refused the vector. */
bool virtio_queue_setup(struct virtio_dev *d, struct virtq *q, u16 index, u16 max_size, void *mem,
			u16 vector);
/* The number of queues the device has. */
u16 virtio_num_queues(struct virtio_dev *d);
void virtio_driver_ok(struct virtio_dev *d);
u8 virtio_get_status(struct virtio_dev *d);
/* Writes status 0 and waits for it to read back 0. */
void virtio_reset(struct virtio_dev *d);
/* Reads the ISR status (clears it and the INTx level). */
u8 virtio_isr(struct virtio_dev *d);
/* Device configuration bytes. */
u8 virtio_cfg8(struct virtio_dev *d, u32 off);
u16 virtio_cfg16(struct virtio_dev *d, u32 off);
u32 virtio_cfg32(struct virtio_dev *d, u32 off);
u64 virtio_cfg64(struct virtio_dev *d, u32 off);

/* One buffer of a request. */
struct virtq_buf {
	void *addr;
	u32 len;
	bool write; /* device-writable */
};

/* Adds a chain of n buffers (device-readable ones first) and publishes it
 * in the available ring (no kick). With `indirect` (n entries of
 * struct virtq_desc, 16-byte aligned), the chain goes into that table and
 * takes one ring descriptor. Returns the head, or -1 when the ring has no
 * room. */
int virtq_add(struct virtq *q, const struct virtq_buf *bufs, unsigned n,
	      struct virtq_desc *indirect);
/* Notifies the device of new buffers. */
void virtq_kick(struct virtio_dev *d, struct virtq *q);
/* Takes one used element: true with its head and written length, and its
 * descriptors freed. */
bool virtq_get_used(struct virtq *q, u16 *head, u32 *len);
/* Suppresses (true) or allows used-buffer interrupts (VIRTQ_AVAIL_F_NO_INTERRUPT). */
void virtq_no_interrupt(struct virtq *q, bool off);

#endif
