/* Guest physical address to host pointer translation, checked. */
#include "hypervisor/guestmem.h"

#include <errno.h>
#include <string.h>

int guestmem_add(struct guest_memory *m, uint64_t gpa, uint64_t size, void *hva, bool readonly,
		 const char *name)
{
	if (size == 0 || gpa + (size - 1) < gpa || !hva)
		return -EINVAL;
	if (m->n == GUESTMEM_MAX_REGIONS)
		return -ENOSPC;
	for (unsigned i = 0; i < m->n; i++) {
		const struct mem_region *r = &m->regions[i];
		if (gpa <= r->gpa + (r->size - 1) && r->gpa <= gpa + (size - 1))
			return -EEXIST;
	}
	m->regions[m->n++] = (struct mem_region){
		.gpa = gpa, .size = size, .hva = hva, .readonly = readonly, .name = name
	};
	return 0;
}

static const struct mem_region *lookup(const struct guest_memory *m, uint64_t gpa)
{
	for (unsigned i = 0; i < m->n; i++) {
		const struct mem_region *r = &m->regions[i];
		if (gpa >= r->gpa && gpa - r->gpa < r->size)
			return r;
	}
	return NULL;
}

static void *translate(const struct guest_memory *m, uint64_t gpa, uint64_t len, bool allow_rom)
{
	if (len == 0)
		return NULL;
	const struct mem_region *r = lookup(m, gpa);
	if (!r || (r->readonly && !allow_rom))
		return NULL;
	uint64_t off = gpa - r->gpa;
	if (len > r->size - off)
		return NULL;
	return r->hva + off;
}

void *gpa_to_hva(const struct guest_memory *m, uint64_t gpa, uint64_t len)
{
	return translate(m, gpa, len, false);
}

const void *gpa_to_hva_ro(const struct guest_memory *m, uint64_t gpa, uint64_t len)
{
	return translate(m, gpa, len, true);
}

/* Walks [gpa, gpa+len) region by region; calls fn on each piece only after
 * checking that every piece is RAM. */
static int walk(const struct guest_memory *m, uint64_t gpa, uint64_t len, bool allow_rom,
		void (*fn)(uint8_t *hva, uint64_t off, uint64_t n, void *ctx), void *ctx)
{
	if (len && gpa + (len - 1) < gpa)
		return -EFAULT;
	for (int pass = 0; pass < 2; pass++) {
		uint64_t done = 0;
		while (done < len) {
			const struct mem_region *r = lookup(m, gpa + done);
			if (!r || (r->readonly && !allow_rom))
				return -EFAULT;
			uint64_t off = gpa + done - r->gpa;
			uint64_t n = r->size - off;
			if (n > len - done)
				n = len - done;
			if (pass == 1)
				fn(r->hva + off, done, n, ctx);
			done += n;
		}
	}
	return 0;
}

static void copy_out(uint8_t *hva, uint64_t off, uint64_t n, void *ctx)
{
	memcpy((uint8_t *)ctx + off, hva, n);
}

static void copy_in(uint8_t *hva, uint64_t off, uint64_t n, void *ctx)
{
	memcpy(hva, (const uint8_t *)ctx + off, n);
}

int guest_read(const struct guest_memory *m, uint64_t gpa, void *buf, uint64_t len)
{
	return walk(m, gpa, len, true, copy_out, buf);
}

int guest_write(const struct guest_memory *m, uint64_t gpa, const void *buf, uint64_t len)
{
	return walk(m, gpa, len, false, copy_in, (void *)buf);
}

uint64_t guestmem_ram_size(const struct guest_memory *m)
{
	uint64_t total = 0;
	for (unsigned i = 0; i < m->n; i++)
		if (!m->regions[i].readonly)
			total += m->regions[i].size;
	return total;
}
