/* Guest physical memory: the RAM regions of a VM and the only way the rest
 * of osio turns a guest physical address into a host pointer. */
#ifndef OSIO_GUESTMEM_H
#define OSIO_GUESTMEM_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define GUESTMEM_MAX_REGIONS 16

struct mem_region {
	uint64_t gpa;
	uint64_t size;
	uint8_t *hva;
	bool readonly; /* ROM: the guest cannot write it (a KVM read-only slot) */
	const char *name;
};

struct guest_memory {
	struct mem_region regions[GUESTMEM_MAX_REGIONS];
	unsigned n;
};

/* Adds a region backed by hva (not copied, not freed). Regions may not
 * overlap: -EEXIST; too many: -ENOSPC. */
int guestmem_add(struct guest_memory *m, uint64_t gpa, uint64_t size, void *hva, bool readonly,
		 const char *name);

/* Host pointer for [gpa, gpa+len) if the whole range lies in one RAM region
 * (not ROM), else NULL. len 0 is refused. Everything that touches guest
 * memory on behalf of a guest-chosen address goes through here. */
void *gpa_to_hva(const struct guest_memory *m, uint64_t gpa, uint64_t len);
/* Same, but ROM regions are allowed (read-only use). */
const void *gpa_to_hva_ro(const struct guest_memory *m, uint64_t gpa, uint64_t len);

/* Copies that may cross from one region into an adjacent one. They fail
 * (-EFAULT) without touching anything if any byte is outside guest memory;
 * guest_read may also read ROM, guest_write only RAM. */
int guest_read(const struct guest_memory *m, uint64_t gpa, void *buf, uint64_t len);
int guest_write(const struct guest_memory *m, uint64_t gpa, const void *buf, uint64_t len);

/* Total bytes of RAM (ROM excluded). */
uint64_t guestmem_ram_size(const struct guest_memory *m);

#endif
