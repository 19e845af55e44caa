/* PCI MSI-X (PCI Local Bus 3.0, 6.8.2): the capability, the vector table
 * and pending-bit array in a memory BAR, per-vector and function masks, and
 * delivery through the machine's MSI routes (hypervisor/msi.h), one route
 * (irqfd) per vector, kept in step with the table. */
#ifndef OSIO_MSIX_H
#define OSIO_MSIX_H

#include "devices/pci.h"
#include "hypervisor/msi.h"

#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>

#define PCI_CAP_ID_MSIX	     0x11
#define MSIX_CAP_LEN	     12
#define MSIX_CTRL_ENABLE     0x8000
#define MSIX_CTRL_MASKALL    0x4000
#define MSIX_ENTRY_SIZE	     16
#define MSIX_VECTORS_MAX     2048
#define MSIX_ENTRY_CTRL_MASK 0x1

/* Layout of the BAR msix_bar_init makes: the table at 0, the PBA after it
 * at a 2 KiB boundary (as QEMU lays it out), the BAR 4 KiB or more. */
struct msix_vector;

struct msix {
	struct pci_device *pci;
	struct machine *m;
	unsigned nvec;
	unsigned cap; /* capability offset in configuration space */
	uint64_t table_off, pba_off, bar_size;
	pthread_mutex_t lock;
	uint8_t *table;		 /* nvec entries */
	uint64_t *pending;	 /* nvec bits */
	struct msix_vector *vec; /* per vector: its route and the message routed */
	bool enabled, maskall;	 /* the capability's control bits */
};

/* Adds the capability for `nvec` vectors (1 .. MSIX_VECTORS_MAX) with the
 * table and PBA in memory BAR `bar` (a 32-bit BAR of msix->bar_size bytes,
 * registered here with msix's own callbacks). -errno on failure. */
int msix_init(struct msix *x, struct pci_device *d, struct machine *m, unsigned nvec, int bar);
void msix_destroy(struct msix *x);
/* Power-on state: disabled, every vector masked, nothing pending. */
void msix_reset(struct msix *x);

/* The device's pci_device_ops.config_write calls this with every write
 * (it looks at the ones that touch the capability's control word). */
void msix_config_write(struct msix *x, unsigned off, unsigned size);

/* Whether the driver enabled MSI-X (then INTx is not used). */
bool msix_enabled(struct msix *x);
/* Signals vector v: delivered now, or marked pending while it (or the
 * function) is masked; a pending vector is delivered when unmasked. Any
 * thread. -EINVAL for a vector outside the table, -ENOTSUP while MSI-X is
 * disabled. */
int msix_notify(struct msix *x, unsigned v);
/* Whether vector v is pending (for tests and the PBA). */
bool msix_pending(struct msix *x, unsigned v);

/* Table and PBA accesses (offsets within the BAR); used by the BAR's
 * callbacks and by the virtio PCI configuration-access capability. */
uint64_t msix_bar_read(struct msix *x, uint64_t off, unsigned size);
void msix_bar_write(struct msix *x, uint64_t off, uint64_t val, unsigned size);

/* Saved state: msix_save writes fields named "msix.*" (the table, the
 * pending bits, enable and function mask) into the open section; msix_load
 * reads them into an msix made by msix_init with the same vector count,
 * after pci_load, and re-creates the MSI routes of the unmasked vectors.
 * Pending vectors stay pending until unmasked, as before the save. */
struct vmstate_out;
struct vmstate_section;
void msix_save(struct msix *x, struct vmstate_out *out);
int msix_load(struct msix *x, struct vmstate_section *in);

#endif
