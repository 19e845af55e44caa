/* Guest physical address to host pointer translation, checked, over a set
 * of regions that may change at run time. */
#include "hypervisor/guestmem.h"

#include <errno.h>
#include <string.h>

void guestmem_init(struct guest_memory *m)
{
	memset(m, 0, sizeof(*m));
	pthread_rwlock_init(&m->lock, NULL);
}

void guestmem_destroy(struct guest_memory *m)
{
	pthread_rwlock_destroy(&m->lock);
}

static bool overlaps(const struct guest_memory *m, int except, uint64_t gpa, uint64_t size)
{
	for (unsigned i = 0; i < GUESTMEM_MAX_REGIONS; i++) {
		const struct mem_region *r = &m->regions[i];
		if ((int)i != except && r->size && gpa <= r->gpa + (r->size - 1) &&
		    r->gpa <= gpa + (size - 1))
			return true;
	}
	return false;
}

static int check(uint64_t gpa, uint64_t size, const void *hva)
{
	if (size == 0 || gpa + (size - 1) < gpa || !hva)
		return -EINVAL;
	return 0;
}

static void tell(struct guest_memory *m, unsigned slot)
{
	if (m->listener && m->listener->region_set)
		m->listener->region_set(m->listener->opaque, slot, &m->regions[slot]);
}

int guestmem_map(struct guest_memory *m, uint64_t gpa, uint64_t size, void *hva, unsigned flags,
		 const char *name)
{
	int r = check(gpa, size, hva);
	if (r < 0)
		return r;
	pthread_rwlock_wrlock(&m->lock);
	int slot = -ENOSPC;
	if (overlaps(m, -1, gpa, size)) {
		slot = -EEXIST;
	} else {
		for (unsigned i = 0; i < GUESTMEM_MAX_REGIONS; i++) {
			if (m->regions[i].size == 0) {
				m->regions[i] = (struct mem_region){ .gpa = gpa, .size = size,
								     .hva = hva, .flags = flags,
								     .name = name };
				m->n++;
				slot = (int)i;
				tell(m, i);
				break;
			}
		}
	}
	pthread_rwlock_unlock(&m->lock);
	return slot;
}

int guestmem_remap(struct guest_memory *m, int slot, uint64_t gpa, uint64_t size, void *hva,
		   unsigned flags)
{
	int r = check(gpa, size, hva);
	if (r < 0)
		return r;
	if (slot < 0 || slot >= GUESTMEM_MAX_REGIONS)
		return -ENOENT;
	pthread_rwlock_wrlock(&m->lock);
	struct mem_region *reg = &m->regions[slot];
	if (reg->size == 0) {
		r = -ENOENT;
	} else if (overlaps(m, slot, gpa, size)) {
		r = -EEXIST;
	} else if (reg->gpa != gpa || reg->size != size || reg->hva != hva || reg->flags != flags) {
		reg->gpa = gpa;
		reg->size = size;
		reg->hva = hva;
		reg->flags = flags;
		tell(m, (unsigned)slot);
	}
	pthread_rwlock_unlock(&m->lock);
	return r;
}

int guestmem_unmap(struct guest_memory *m, int slot)
{
	if (slot < 0 || slot >= GUESTMEM_MAX_REGIONS)
		return -ENOENT;
	pthread_rwlock_wrlock(&m->lock);
	int r = 0;
	if (m->regions[slot].size == 0) {
		r = -ENOENT;
	} else {
		m->regions[slot] = (struct mem_region){ 0 };
		m->n--;
		tell(m, (unsigned)slot);
	}
	pthread_rwlock_unlock(&m->lock);
	return r;
}

int guestmem_add(struct guest_memory *m, uint64_t gpa, uint64_t size, void *hva, bool readonly,
		 const char *name)
{
	int slot = guestmem_map(m, gpa, size, hva, readonly ? MEM_READONLY : 0, name);
	return slot < 0 ? slot : 0;
}

void guestmem_set_listener(struct guest_memory *m, const struct memory_listener *l)
{
	pthread_rwlock_wrlock(&m->lock);
	m->listener = l;
	for (unsigned i = 0; l && i < GUESTMEM_MAX_REGIONS; i++)
		if (m->regions[i].size)
			tell(m, i);
	pthread_rwlock_unlock(&m->lock);
}

int guestmem_dirty_log(struct guest_memory *m, int slot, uint64_t *bitmap)
{
	if (slot < 0 || slot >= GUESTMEM_MAX_REGIONS)
		return -ENOENT;
	pthread_rwlock_rdlock(&m->lock);
	int r;
	if (m->regions[slot].size == 0)
		r = -ENOENT;
	else if (!m->listener || !m->listener->dirty_log ||
		 !(m->regions[slot].flags & MEM_DIRTY_LOG))
		r = -ENOTSUP;
	else
		r = m->listener->dirty_log(m->listener->opaque, (unsigned)slot, bitmap);
	pthread_rwlock_unlock(&m->lock);
	return r;
}

/* Caller holds the lock. */
static const struct mem_region *lookup(const struct guest_memory *m, uint64_t gpa)
{
	for (unsigned i = 0; i < GUESTMEM_MAX_REGIONS; i++) {
		const struct mem_region *r = &m->regions[i];
		if (r->size && gpa >= r->gpa && gpa - r->gpa < r->size)
			return r;
	}
	return NULL;
}

static void *translate(struct guest_memory *m, uint64_t gpa, uint64_t len, bool allow_ro)
{
	if (len == 0)
		return NULL;
	void *p = NULL;
	pthread_rwlock_rdlock(&m->lock);
	const struct mem_region *r = lookup(m, gpa);
	if (r && (allow_ro || !(r->flags & MEM_READONLY))) {
		uint64_t off = gpa - r->gpa;
		if (len <= r->size - off)
			p = r->hva + off;
	}
	pthread_rwlock_unlock(&m->lock);
	return p;
}

void *gpa_to_hva(struct guest_memory *m, uint64_t gpa, uint64_t len)
{
	return translate(m, gpa, len, false);
}

const void *gpa_to_hva_ro(struct guest_memory *m, uint64_t gpa, uint64_t len)
{
	return translate(m, gpa, len, true);
}

/* Walks [gpa, gpa+len) region by region; calls fn on each piece only after
 * checking that every piece is mapped (and writable unless allow_ro). */
static int walk(struct guest_memory *m, uint64_t gpa, uint64_t len, bool allow_ro,
		void (*fn)(uint8_t *hva, uint64_t off, uint64_t n, void *ctx), void *ctx)
{
	if (len && gpa + (len - 1) < gpa)
		return -EFAULT;
	int r = 0;
	pthread_rwlock_rdlock(&m->lock);
	for (int pass = 0; pass < 2 && r == 0; pass++) {
		uint64_t done = 0;
		while (done < len) {
			const struct mem_region *reg = lookup(m, gpa + done);
			if (!reg || (!allow_ro && (reg->flags & MEM_READONLY))) {
				r = -EFAULT;
				break;
			}
			uint64_t off = gpa + done - reg->gpa;
			uint64_t n = reg->size - off;
			if (n > len - done)
				n = len - done;
			if (pass == 1)
				fn(reg->hva + off, done, n, ctx);
			done += n;
		}
	}
	pthread_rwlock_unlock(&m->lock);
	return r;
}

static void copy_out(uint8_t *hva, uint64_t off, uint64_t n, void *ctx)
{
	memcpy((uint8_t *)ctx + off, hva, n);
}

static void copy_in(uint8_t *hva, uint64_t off, uint64_t n, void *ctx)
{
	memcpy(hva, (const uint8_t *)ctx + off, n);
}

int guest_read(struct guest_memory *m, uint64_t gpa, void *buf, uint64_t len)
{
	return walk(m, gpa, len, true, copy_out, buf);
}

int guest_write(struct guest_memory *m, uint64_t gpa, const void *buf, uint64_t len)
{
	return walk(m, gpa, len, false, copy_in, (void *)buf);
}

uint64_t guestmem_ram_size(struct guest_memory *m)
{
	uint64_t total = 0;
	pthread_rwlock_rdlock(&m->lock);
	for (unsigned i = 0; i < GUESTMEM_MAX_REGIONS; i++)
		if (m->regions[i].size && !(m->regions[i].flags & MEM_READONLY))
			total += m->regions[i].size;
	pthread_rwlock_unlock(&m->lock);
	return total;
}
