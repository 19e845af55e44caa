/* Port-I/O and MMIO buses: a device registers an address range with
 * read/write callbacks; a vCPU's exit (or the device test harness) dispatches
 * an access to whichever range holds it. */
#ifndef OSIO_BUS_H
#define OSIO_BUS_H

#include <stdbool.h>
#include <stdint.h>

struct bus_ops {
	/* offset is relative to the range's base; size is 1, 2, 4 or 8. A read
	 * returns the value in the low `size` bytes. NULL read: all-ones;
	 * NULL write: ignored. */
	uint64_t (*read)(void *opaque, uint64_t offset, unsigned size);
	void (*write)(void *opaque, uint64_t offset, uint64_t value, unsigned size);
};

struct bus;

/* name is "io" or "mmio" (used in traces); limit is one past the highest
 * address (0x10000 for port I/O, 0 for the whole 64-bit space). */
struct bus *bus_new(const char *name, uint64_t limit);
void bus_free(struct bus *b);

/* Ranges may not overlap: -EEXIST. Bad length or past the limit: -EINVAL.
 * The range keeps a reference to ops and opaque until unregistered and no
 * access is inside its callbacks any more. */
int bus_register(struct bus *b, uint64_t base, uint64_t len, const struct bus_ops *ops,
		 void *opaque, const char *owner);
/* Removes the range starting at base registered with opaque: -ENOENT if none.
 * Safe to call from inside any callback, including the range's own. */
int bus_unregister(struct bus *b, uint64_t base, void *opaque);

/* One access of size 1, 2, 4 or 8 bytes, data in guest (little-endian)
 * byte order. Unclaimed bytes read as 0xff and writes to them are dropped;
 * the return value says whether every byte was claimed. An access that
 * straddles a range's end is split into single bytes. */
bool bus_read(struct bus *b, uint64_t addr, void *data, unsigned size);
bool bus_write(struct bus *b, uint64_t addr, const void *data, unsigned size);

/* Convenience for tests and devices that forward accesses. */
uint64_t bus_read_val(struct bus *b, uint64_t addr, unsigned size);
void bus_write_val(struct bus *b, uint64_t addr, uint64_t value, unsigned size);

/* Owner of the range holding addr, or NULL (for traces and `info` output). */
const char *bus_owner(struct bus *b, uint64_t addr);

#endif
