/* How a PC machine with mem bytes of RAM lays it out (QEMU's pc machine and
 * osio alike): all below 4 GiB up to 3.5 GiB of RAM, else 3 GiB below and
 * the rest from 4 GiB. */
#ifndef GUEST_MEMSIZE_H
#define GUEST_MEMSIZE_H

#include "types.h"

#define LOWMEM_SPLIT	   0xc0000000ull
#define PCI_HOLE_THRESHOLD 0xe0000000ull
#define HIGHMEM_START	   0x100000000ull

static inline u64 ram_below_4g(u64 mem)
{
	return mem >= PCI_HOLE_THRESHOLD ? LOWMEM_SPLIT : mem;
}

static inline u64 ram_above_4g(u64 mem)
{
	return mem - ram_below_4g(mem);
}

#endif
