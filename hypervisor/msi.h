/* Message-signalled interrupts and the notification fast paths a device
 * sees: send an MSI now, an irqfd-style route (an eventfd that raises a
 * given MSI when written), and ioeventfds (a guest write to an address
 * signals an eventfd without an exit to userspace). The machine keeps the
 * routes and ioeventfds; a backend (the KVM partition, or a test's
 * recorder) mirrors them into the kernel, and is told about all of them
 * again when it attaches, since a VM's partition is recreated at reset. */
#ifndef OSIO_MSI_H
#define OSIO_MSI_H

#include "hypervisor/machine.h"

#include <stdbool.h>
#include <stdint.h>

/* An MSI as the PCI spec defines it: a dword write of data to addr (on x86
 * addr is 0xFEExxxxx, naming the local APIC(s), data the vector). */
struct msi_msg {
	uint64_t addr;
	uint32_t data;
};

#define MSI_ROUTES_MAX 1024 /* routes one machine may hold */
#define MSI_GSI_BASE   32   /* route GSIs sit above the IOAPIC's pins */

/* One registered ioeventfd: a write of `len` bytes (1, 2, 4 or 8) to addr
 * (MMIO or port I/O), optionally only with data == `data`, signals fd. */
struct ioeventfd {
	uint64_t addr;
	uint64_t data;
	unsigned len;
	bool pio;
	bool datamatch;
	int fd;
};

/* What the backend does for the machine. Each call may fail with -errno;
 * -ENOTSUP means the kernel lacks the feature and the slow path (send
 * through `send`, a guest write reaching the device's bus handler) is
 * used. Called with the machine's MSI lock held: no call back into msi_*. */
struct msi_backend_ops {
	/* Delivers one MSI now (KVM_SIGNAL_MSI). */
	int (*send)(void *opaque, struct msi_msg msg);
	/* The MSI routes changed: `gsis[i]` goes to `msgs[i]` for i < n (the
	 * backend keeps its own routes, e.g. the IOAPIC's pins, beside them). */
	int (*set_routes)(void *opaque, const unsigned *gsis, const struct msi_msg *msgs,
			  unsigned n);
	/* Binds (assign) or unbinds eventfd fd to GSI gsi (KVM_IRQFD). */
	int (*irqfd)(void *opaque, unsigned gsi, int fd, bool assign);
	/* Registers or removes an ioeventfd (KVM_IOEVENTFD). */
	int (*ioeventfd)(void *opaque, const struct ioeventfd *ev, bool assign);
};

/* Installs (or, with ops NULL, removes) the machine's backend and tells it
 * about every route and ioeventfd already registered. Returns the previous
 * backend's opaque. */
void *msi_set_backend(struct machine *m, const struct msi_backend_ops *ops, void *opaque);

/* Machine set-up (machine_init/machine_destroy call these). */
int msi_hub_init(struct machine *m);
void msi_hub_destroy(struct machine *m);

/* Sends one MSI now; any thread. -ENODEV while no backend is attached (the
 * VM is between partitions: the message is lost, as on a powered-off bus). */
int machine_msi_send(struct machine *m, struct msi_msg msg);

/* A route: an eventfd bound (when the backend can) to a GSI routed to an
 * MSI. Written, it raises the message without a trip through userspace. */
struct msi_route;

/* -ENOSPC when MSI_ROUTES_MAX routes exist, -errno from eventfd(). The
 * route starts with no message: firing it does nothing until msi_route_set. */
int msi_route_new(struct machine *m, struct msi_route **out);
/* Points the route at msg (re-routing the GSI in the kernel). */
int msi_route_set(struct msi_route *r, struct msi_msg msg);
/* Raises the route's MSI: a write to its eventfd when the kernel has it
 * bound, else machine_msi_send. Any thread. */
int msi_route_fire(struct msi_route *r);
/* The eventfd (for a device that hands it to someone else to write). */
int msi_route_fd(const struct msi_route *r);
/* Whether a write to the eventfd reaches the guest without userspace. */
bool msi_route_in_kernel(const struct msi_route *r);
void msi_route_free(struct msi_route *r);

/* Registers an ioeventfd (the fd stays the caller's): 0, -ENOMEM, or
 * -EEXIST for a duplicate. The backend takes it into the kernel when it
 * can; where it cannot (no backend yet, no KVM support) the guest's write
 * reaches the device's bus handler, which must then signal the work
 * itself, so a device handles both. It survives partition re-creation. */
int machine_ioeventfd_add(struct machine *m, const struct ioeventfd *ev);
/* Removes the registration matching ev (all fields); -ENOENT if none. */
int machine_ioeventfd_del(struct machine *m, const struct ioeventfd *ev);

#endif
