/* Address-range dispatch for port I/O and MMIO.
 *
 * Ranges sit in an array sorted by base and are found by binary search under
 * a mutex that is held only for the search. Each range is reference-counted,
 * so a range can be unregistered (a BAR moved, a device unplugged) while
 * another vCPU is still inside one of its callbacks: the entry is freed by
 * whoever drops the last reference. */
#include "hypervisor/bus.h"

#include "hypervisor/bytes.h"
#include "hypervisor/log.h"

#include <errno.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>

struct bus_range {
	uint64_t base, len;
	const struct bus_ops *ops;
	void *opaque;
	const char *owner;
	atomic_uint refs;
};

struct bus {
	const char *name;
	uint64_t limit;
	pthread_mutex_t lock;
	struct bus_range **ranges;
	unsigned n, cap;
};

struct bus *bus_new(const char *name, uint64_t limit)
{
	struct bus *b = calloc(1, sizeof(*b));
	if (!b)
		return NULL;
	b->name = name;
	b->limit = limit;
	pthread_mutex_init(&b->lock, NULL);
	return b;
}

static void range_unref(struct bus_range *r)
{
	if (atomic_fetch_sub(&r->refs, 1) == 1)
		free(r);
}

void bus_free(struct bus *b)
{
	if (!b)
		return;
	for (unsigned i = 0; i < b->n; i++)
		range_unref(b->ranges[i]);
	free(b->ranges);
	pthread_mutex_destroy(&b->lock);
	free(b);
}

/* Index of the first range whose end is above addr (caller holds lock). */
static unsigned lower_bound(const struct bus *b, uint64_t addr)
{
	unsigned lo = 0, hi = b->n;
	while (lo < hi) {
		unsigned mid = lo + (hi - lo) / 2;
		const struct bus_range *r = b->ranges[mid];
		if (r->base + (r->len - 1) < addr)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo;
}

int bus_register(struct bus *b, uint64_t base, uint64_t len, const struct bus_ops *ops,
		 void *opaque, const char *owner)
{
	if (len == 0 || base + (len - 1) < base)
		return -EINVAL;
	if (b->limit && (base >= b->limit || len > b->limit - base))
		return -EINVAL;
	struct bus_range *r = calloc(1, sizeof(*r));
	if (!r)
		return -ENOMEM;
	*r = (struct bus_range){
	    .base = base, .len = len, .ops = ops, .opaque = opaque, .owner = owner ? owner : "?"};
	atomic_init(&r->refs, 1);

	pthread_mutex_lock(&b->lock);
	unsigned i = lower_bound(b, base);
	if (i < b->n && b->ranges[i]->base <= base + (len - 1)) {
		log_error("%s bus: %s wants 0x%llx-0x%llx, which overlaps %s at 0x%llx-0x%llx",
			  b->name, r->owner, (unsigned long long)base,
			  (unsigned long long)(base + len - 1), b->ranges[i]->owner,
			  (unsigned long long)b->ranges[i]->base,
			  (unsigned long long)(b->ranges[i]->base + b->ranges[i]->len - 1));
		pthread_mutex_unlock(&b->lock);
		free(r);
		return -EEXIST;
	}
	if (b->n == b->cap) {
		unsigned cap = b->cap ? b->cap * 2 : 16;
		struct bus_range **nr = realloc(b->ranges, cap * sizeof(*nr));
		if (!nr) {
			pthread_mutex_unlock(&b->lock);
			free(r);
			return -ENOMEM;
		}
		b->ranges = nr;
		b->cap = cap;
	}
	memmove(&b->ranges[i + 1], &b->ranges[i], (b->n - i) * sizeof(*b->ranges));
	b->ranges[i] = r;
	b->n++;
	pthread_mutex_unlock(&b->lock);
	return 0;
}

int bus_unregister(struct bus *b, uint64_t base, void *opaque)
{
	pthread_mutex_lock(&b->lock);
	unsigned i = lower_bound(b, base);
	if (i >= b->n || b->ranges[i]->base != base || b->ranges[i]->opaque != opaque) {
		pthread_mutex_unlock(&b->lock);
		return -ENOENT;
	}
	struct bus_range *r = b->ranges[i];
	memmove(&b->ranges[i], &b->ranges[i + 1], (b->n - i - 1) * sizeof(*b->ranges));
	b->n--;
	pthread_mutex_unlock(&b->lock);
	range_unref(r);
	return 0;
}

/* The range that holds addr, with a reference taken, or NULL. */
static struct bus_range *find(struct bus *b, uint64_t addr)
{
	struct bus_range *r = NULL;
	pthread_mutex_lock(&b->lock);
	unsigned i = lower_bound(b, addr);
	if (i < b->n && b->ranges[i]->base <= addr) {
		r = b->ranges[i];
		atomic_fetch_add(&r->refs, 1);
	}
	pthread_mutex_unlock(&b->lock);
	return r;
}

const char *bus_owner(struct bus *b, uint64_t addr)
{
	struct bus_range *r = find(b, addr);
	if (!r)
		return NULL;
	const char *o = r->owner; /* owners are static strings */
	range_unref(r);
	return o;
}

static bool dispatch(struct bus *b, uint64_t addr, void *data, unsigned size, bool is_write)
{
	struct bus_range *r = find(b, addr);
	if (r && addr + size - 1 <= r->base + (r->len - 1) && addr + size - 1 >= addr) {
		uint64_t off = addr - r->base;
		if (is_write) {
			uint64_t v = get_le(data, size);
			if (tracing(TRACE_IO_ALL))
				log_trace("%s write %s+0x%llx <- 0x%llx (%u)", b->name, r->owner,
					  (unsigned long long)off, (unsigned long long)v, size);
			if (r->ops->write)
				r->ops->write(r->opaque, off, v, size);
		} else {
			uint64_t v = r->ops->read ? r->ops->read(r->opaque, off, size) : ~0ull;
			if (tracing(TRACE_IO_ALL))
				log_trace("%s read %s+0x%llx -> 0x%llx (%u)", b->name, r->owner,
					  (unsigned long long)off, (unsigned long long)v, size);
			put_le(data, v, size);
		}
		range_unref(r);
		return true;
	}
	if (r) {
		/* Straddles the end of a range: one byte at a time, as a bus
		 * would split the cycle. */
		range_unref(r);
		bool all = true;
		for (unsigned i = 0; i < size; i++)
			all &= dispatch(b, addr + i, (uint8_t *)data + i, 1, is_write);
		return all;
	}
	if (size > 1) {
		/* The start is unclaimed, but a later byte may belong to a range. */
		bool any = false;
		for (unsigned i = 1; i < size && !any; i++) {
			struct bus_range *n = find(b, addr + i);
			if (n) {
				any = true;
				range_unref(n);
			}
		}
		if (any) {
			bool all = true;
			for (unsigned i = 0; i < size; i++)
				all &= dispatch(b, addr + i, (uint8_t *)data + i, 1, is_write);
			return all;
		}
	}
	if (tracing(TRACE_IO)) {
		if (is_write)
			log_trace("%s write to unclaimed 0x%llx <- 0x%llx (%u), ignored", b->name,
				  (unsigned long long)addr, (unsigned long long)get_le(data, size),
				  size);
		else
			log_trace("%s read from unclaimed 0x%llx (%u), all-ones", b->name,
				  (unsigned long long)addr, size);
	}
	if (!is_write)
		memset(data, 0xff, size);
	return false;
}

bool bus_read(struct bus *b, uint64_t addr, void *data, unsigned size)
{
	return dispatch(b, addr, data, size, false);
}

bool bus_write(struct bus *b, uint64_t addr, const void *data, unsigned size)
{
	return dispatch(b, addr, (void *)data, size, true);
}

uint64_t bus_read_val(struct bus *b, uint64_t addr, unsigned size)
{
	uint8_t buf[8];
	bus_read(b, addr, buf, size);
	return get_le(buf, size);
}

void bus_write_val(struct bus *b, uint64_t addr, uint64_t value, unsigned size)
{
	uint8_t buf[8];
	put_le(buf, value, size);
	bus_write(b, addr, buf, size);
}
