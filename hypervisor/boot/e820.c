/* E820 map construction: range assignment with splitting and merging. */
#include "hypervisor/boot/e820.h"

#include "hypervisor/platform.h"

#include <errno.h>
#include <string.h>

static int push(struct e820_table *t, uint64_t first, uint64_t last, uint32_t type)
{
	if (t->n == E820_MAX_ENTRIES)
		return -ENOSPC;
	t->e[t->n++] = (struct e820_entry){ .addr = first, .size = last - first + 1, .type = type };
	return 0;
}

/* Rebuilds t so that [addr, addr+size) has `type`. Works on a scratch copy
 * so that a full table leaves t as it was. Ranges are handled as inclusive
 * [first, last] so a range may end at the top of the address space. */
int e820_set(struct e820_table *t, uint64_t addr, uint64_t size, uint32_t type)
{
	if (size == 0 || addr + (size - 1) < addr)
		return -EINVAL;
	uint64_t last = addr + (size - 1);
	struct e820_table out = { 0 };
	int r = push(&out, addr, last, type);
	for (unsigned i = 0; i < t->n && r == 0; i++) {
		uint64_t es = t->e[i].addr, el = t->e[i].addr + (t->e[i].size - 1);
		if (es < addr)
			r = push(&out, es, el < addr ? el : addr - 1, t->e[i].type);
		if (r == 0 && el > last)
			r = push(&out, es > last ? es : last + 1, el, t->e[i].type);
	}
	if (r < 0)
		return r;
	for (unsigned i = 1; i < out.n; i++) {
		struct e820_entry x = out.e[i];
		unsigned j = i;
		while (j > 0 && out.e[j - 1].addr > x.addr) {
			out.e[j] = out.e[j - 1];
			j--;
		}
		out.e[j] = x;
	}
	unsigned k = 0;
	for (unsigned i = 0; i < out.n; i++) {
		if (k > 0 && out.e[k - 1].type == out.e[i].type &&
		    out.e[k - 1].addr + out.e[k - 1].size == out.e[i].addr)
			out.e[k - 1].size += out.e[i].size;
		else
			out.e[k++] = out.e[i];
	}
	out.n = k;
	*t = out;
	return 0;
}

int e820_build_pc(struct e820_table *t, const struct machine *m)
{
	memset(t, 0, sizeof(*t));
	uint64_t low = m->ram_below_4g;
	int r = 0;
	if (low < BIOS_AREA_END)
		return -EINVAL; /* the layout needs at least 1 MiB */
	r |= e820_set(t, 0, EBDA_START, E820_RAM);
	r |= e820_set(t, EBDA_START, VGA_START - EBDA_START, E820_RESERVED);
	r |= e820_set(t, BIOS_AREA_START, BIOS_AREA_END - BIOS_AREA_START, E820_RESERVED);
	if (low > BIOS_AREA_END)
		r |= e820_set(t, BIOS_AREA_END, low - BIOS_AREA_END, E820_RAM);
	if (m->ram_above_4g)
		r |= e820_set(t, HIGHMEM_START, m->ram_above_4g, E820_RAM);
	r |= e820_set(t, KVM_IDENTITY_MAP_ADDR, KVM_PRIVATE_SIZE, E820_RESERVED);
	return r ? -ENOSPC : 0;
}

int e820_build_firmware(struct e820_table *t, const struct machine *m)
{
	memset(t, 0, sizeof(*t));
	int r = e820_set(t, 0, m->ram_below_4g, E820_RAM);
	if (r == 0 && m->ram_above_4g)
		r = e820_set(t, HIGHMEM_START, m->ram_above_4g, E820_RAM);
	if (r == 0)
		r = e820_set(t, KVM_IDENTITY_MAP_ADDR, KVM_PRIVATE_SIZE, E820_RESERVED);
	return r;
}

uint64_t e820_total(const struct e820_table *t, uint32_t type)
{
	uint64_t sum = 0;
	for (unsigned i = 0; i < t->n; i++)
		if (t->e[i].type == type)
			sum += t->e[i].size;
	return sum;
}
