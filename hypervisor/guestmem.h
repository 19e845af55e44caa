/* Guest physical memory: the regions of a VM's address space that are
 * backed by host memory (RAM, ROM, a framebuffer, shadowed BIOS), and the
 * only way the rest of osio turns a guest physical address into a host
 * pointer. Regions can be added, moved and removed while the VM runs (a
 * PCI BAR moves, the chipset's PAM registers shadow the BIOS); a listener
 * (the KVM partition) mirrors every change into its memory slots. */
#ifndef OSIO_GUESTMEM_H
#define OSIO_GUESTMEM_H

#include <pthread.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define GUESTMEM_MAX_REGIONS 64
#define GUESTMEM_PAGE 4096ull

enum mem_flags {
	MEM_READONLY = 1u << 0,	 /* the guest cannot write it (ROM, read-only shadow) */
	MEM_DIRTY_LOG = 1u << 1, /* pages the guest writes are logged (framebuffers) */
};

struct mem_region {
	uint64_t gpa;
	uint64_t size; /* 0: the slot is free */
	uint8_t *hva;
	unsigned flags;
	const char *name;
};

/* Told about every change, with the memory's lock held for writing, in the
 * order the changes happen. r is the slot's new content (size 0: removed). */
struct memory_listener {
	void (*region_set)(void *opaque, unsigned slot, const struct mem_region *r);
	/* Pages of the slot written since the last call: bit i = page i.
	 * -ENOTSUP when the listener cannot log. */
	int (*dirty_log)(void *opaque, unsigned slot, uint64_t *bitmap);
	void *opaque;
};

struct guest_memory {
	pthread_rwlock_t lock;
	struct mem_region regions[GUESTMEM_MAX_REGIONS]; /* indexed by slot */
	unsigned n;					 /* slots in use */
	const struct memory_listener *listener;
};

/* A zeroed struct guest_memory is ready to use as well. */
void guestmem_init(struct guest_memory *m);
void guestmem_destroy(struct guest_memory *m);

/* Maps [gpa, gpa+size) to hva (not copied, not freed) in a free slot and
 * returns the slot, or -EINVAL (empty, wrapping, no hva), -EEXIST (overlaps
 * a mapped region), -ENOSPC (no free slot). */
int guestmem_map(struct guest_memory *m, uint64_t gpa, uint64_t size, void *hva, unsigned flags,
		 const char *name);
/* Changes a mapped slot's place, backing or flags in one step; on error
 * (as for guestmem_map, or -ENOENT for a free slot) it stays as it was. */
int guestmem_remap(struct guest_memory *m, int slot, uint64_t gpa, uint64_t size, void *hva,
		   unsigned flags);
int guestmem_unmap(struct guest_memory *m, int slot);

/* The old interface: guestmem_map returning 0 instead of the slot. */
int guestmem_add(struct guest_memory *m, uint64_t gpa, uint64_t size, void *hva, bool readonly,
		 const char *name);

/* Installs (or, with NULL, removes) the listener; it is told about every
 * region already mapped. */
void guestmem_set_listener(struct guest_memory *m, const struct memory_listener *l);

/* Dirty pages of a MEM_DIRTY_LOG slot since the last call; bitmap holds
 * one bit per page. -ENOTSUP without a logging listener (callers then
 * treat every page as dirty), -ENOENT for a free slot. */
int guestmem_dirty_log(struct guest_memory *m, int slot, uint64_t *bitmap);

/* Host pointer for [gpa, gpa+len) if the whole range lies in one writable
 * region, else NULL. len 0 is refused. Everything that touches guest
 * memory on behalf of a guest-chosen address goes through here. The
 * pointer stays valid while the VM exists (backing memory is not freed
 * when a region moves), but may no longer be what the guest sees at gpa. */
void *gpa_to_hva(struct guest_memory *m, uint64_t gpa, uint64_t len);
/* Same, but read-only regions are allowed (read-only use). */
const void *gpa_to_hva_ro(struct guest_memory *m, uint64_t gpa, uint64_t len);

/* Copies that may cross from one region into an adjacent one. They fail
 * (-EFAULT) without touching anything if any byte is outside guest memory;
 * guest_read may also read ROM, guest_write only writable memory. */
int guest_read(struct guest_memory *m, uint64_t gpa, void *buf, uint64_t len);
int guest_write(struct guest_memory *m, uint64_t gpa, const void *buf, uint64_t len);

/* Total bytes of writable regions. */
uint64_t guestmem_ram_size(struct guest_memory *m);

#endif
